"""Custom activations in the toolkit's grammar pw(...).

`derive` takes any piecewise polynomial, e.g. the clipped identity pw(t<-1: -1; t<1: t; else: 1); the
conjecture layer needs a positively homogeneous one (sigma(c t) = c^n sigma(t)), e.g. an asymmetric
absolute value pw(t<0: -t/2; else: t), for which it checks the ETF conjecture at M = 3, d = 2."""
from conjecture import check
from theory import derive

clipped = derive(activation="pw(t<-1: -1; t<1: t; else: 1)", d=2, M=3, dps=20)
print("clipped identity: kappa(1) = E sigma^2 =", clipped.entry("kappa(1) = E sigma^2").value)
cell = check(M=3, d=2, activation="pw(t<0: -t/2; else: t)", starts=16)
print("asymmetric abs, M = 3, d = 2:", cell.verdict_nonneg, cell.verdict_signed, "-", cell.certificate)

"""A certified bound on the error of the compiled kernel's arccos and J_n (numerics/compiled/_jkernel.c).

Shares no code with the producer of the polynomial (numerics.compiled.asin_fit): it reads the coefficients
p_0..p_K that the library holds and proves, in arb, how far P lies from

    R(z) = (asin(sqrt z)/sqrt z - 1)/z = sum_k a_(k+1) z^k,   a_j = C(2j, j) / (4^j (2j + 1))   (all a_j > 0),

on [0, 1/4]:  delta = sup |R - P|.  R is its Taylor polynomial of degree TAYLOR_DEGREE plus a tail below
a_(T+2) 4^-(T+1) / (1 - 1/4) (the a_j decrease); the polynomial R_T - P is bounded on each of SUBINTERVALS
pieces [c - r, c + r] by |e_0| + sum_j |e_j| r^j, e_j its Taylor coefficients at c (computed in arb).

Rounding, standard model (u = 2^-53, every operation rounds once, |fl(a op b) - a op b| <= u |a op b|; the
C file turns FMA contraction off), gamma_k = k u / (1 - k u), Pbar = sum |p_k| 4^-k, K = deg P = 12:
  Estrin's scheme, as written in the C file: the computed value is sum_k p_k z^k (1 + theta_k) with
  |theta_k| <= gamma_m(k), m(k) the roundings on the path of term k (z^2, z^4 and z^8 bring 1, 3 and 7 of
  them; each product and each sum one), at most ESTRIN_ROUNDINGS = 15 (for p_11).  So
  |fl(P(z)) - P(z)| <= gamma_15 Pbar (Horner would give gamma_24 Pbar).
  |x| <= 1/2:  z = fl(x^2) = x^2 (1 + e),  r = fl(x + fl(fl(x z) P^)),  t = fl(fl(HI - r) + LO), HI + LO = pi/2.
     The correction x z P^ differs from x^3 R(x^2) by <= |x|^3 A_s,
     A_s = (R(1/4) + delta + gamma_15 Pbar) gamma_3 + delta + R'(1/4) u / 4 + gamma_15 Pbar;
     |r - asin x| <= A_s / 8 + u (pi/6 + A_s / 8) =: e_r;  E_small = e_r + 2 u (2 pi / 3 + e_r) + |HI + LO - pi/2|.
  |x| > 1/2:  z = (1 - |x|)/2 exactly (Sterbenz, and the halving of a multiple of 2^-53 is exact),
     s = fl(sqrt z), r = fl(s + fl(fl(s z) P^)) encloses q = asin(sqrt z) within sqrt(z) B <= B / 2,
     A_l = (R(1/4) + delta + gamma_15 Pbar) gamma_3 + delta + gamma_15 Pbar,  B = u + A_l / 4 + u pi / 3
     (q <= (pi/3) sqrt z);  x > 1/2: t = 2 r exactly, E = B;  x < -1/2: t = fl(fl(PI_HI - 2 r) + PI_LO),
     E = B + 2 u (pi + B) + |PI_HI + PI_LO - pi|.
  E_t = the largest of the three.  J_n from t (sin = sqrt((1 - c)(1 + c)), relative error <= gamma_3 / 2 + u
  before the outer operations; |J_n| <= J_n(1) = pi (1, 1, 3, 15)[n]), each term bounded crudely:
     J_0 = t:                                   E_t
     J_1 = sin - t c:                           E_t + (gamma_3/2 + u) + 2 pi u
     J_2 = t (1 + 2 c^2) - 3 sin c:             3 E_t + (11 pi + 6.75) u
     J_3 = sin (15 - 11 v) - t c (15 - 6 v):    15 E_t + 376 u
All of these are first order in u (the u^2 terms are far below the last digit quoted) and are compared with
the per-element allowance 16 u J_n(1) that the a-priori bound of numerics.population_loss grants the kernel
formula (16 u (|p| + |q|)^2 k_n(1), in units of kappa / plus = J_n).

    python -m numerics.compiled.asin_bound       # prints the certified bound (about 0.3 s)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flint import arb, arb_poly, ctx

from numerics.kappa import K_N_AT_ONE
from numerics.population_loss import FORMULA_ULPS

UNIT = 2.0**-53
ESTRIN_DEGREE = 12      # the C file's Estrin scheme is written out for this degree
ESTRIN_ROUNDINGS = 15   # the most roundings on the path of one term p_k z^k in that scheme
TAYLOR_DEGREE = 120
SUBINTERVALS = 64
PRECISION_BITS = 256
PIO2_HI, PIO2_LO = float.fromhex("0x1.921fb54442d18p0"), float.fromhex("0x1.1a62633145c07p-54")
PI_HI, PI_LO = float.fromhex("0x1.921fb54442d18p1"), float.fromhex("0x1.1a62633145c07p-53")
J_AT_ONE = tuple(2 * math.pi * k for k in K_N_AT_ONE)  # J_n(1) = 2 pi k_n(1) = pi (1, 1, 3, 15)


@dataclass(frozen=True)
class KernelErrorBound:
    """Certified bounds, all in units of u = 2^-53 except ``delta`` (absolute)."""

    degree: int                   # K, the degree of P
    delta: float                  # sup_[0, 1/4] |R - P|, certified upper bound
    abs_sum: float                # Pbar = sum |p_k| 4^-k
    arccos_branches: tuple[float, float, float]  # E for |x| <= 1/2, x > 1/2, x < -1/2
    j_n: tuple[float, float, float, float]       # bound on |fl(J_n) - J_n(c)| for n = 0..3
    allowance: tuple[float, float, float, float]  # FORMULA_ULPS J_n(1): what numerics.population_loss grants

    @property
    def arccos(self) -> float:
        return max(self.arccos_branches)

    @property
    def within_allowance(self) -> bool:
        return all(j <= a for j, a in zip(self.j_n, self.allowance))


def _taylor_coefficients(count: int) -> list[arb]:
    """a_1, a_2, ..., a_count of asin y = sum a_j y^(2j+1) (a_0 = 1), as exact-rational balls."""
    out, central = [], arb(1)  # central = C(2j, j) / 4^j
    for j in range(1, count + 1):
        central = central * (2 * j - 1) / (2 * j)
        out.append(central / (2 * j + 1))
    return out


def _upper(x: arb) -> float:
    """A float >= every point of the ball."""
    v = float(x.upper())
    return math.nextafter(v, math.inf)


def approximation_error(coeffs: tuple[float, ...]) -> float:
    """Certified upper bound on sup_{z in [0, 1/4]} |R(z) - P(z)|."""
    with ctx.workprec(PRECISION_BITS):
        a = _taylor_coefficients(TAYLOR_DEGREE + 2)  # a[k] = a_(k+1)
        diff = [a[k] - (arb(coeffs[k]) if k < len(coeffs) else 0) for k in range(TAYLOR_DEGREE + 1)]
        poly = arb_poly(diff)
        quarter = arb(1) / 4
        tail = a[TAYLOR_DEGREE + 1] * quarter ** (TAYLOR_DEGREE + 1) / (1 - quarter)
        radius = quarter / (2 * SUBINTERVALS)
        worst = arb(0)
        for i in range(SUBINTERVALS):
            centre = radius * (2 * i + 1)
            shifted = poly(arb_poly([centre, 1])).coeffs()
            bound = abs(shifted[0]) + sum(abs(e) * radius**j for j, e in enumerate(shifted) if j >= 1)
            worst = max(worst, bound + tail, key=lambda b: b.upper())
        return _upper(worst)


def _series_bounds() -> tuple[float, float]:
    """Upper bounds on R(1/4) and R'(1/4) (positive coefficients: both are the maxima on [0, 1/4])."""
    with ctx.workprec(PRECISION_BITS):
        a = _taylor_coefficients(TAYLOR_DEGREE + 2)
        q = arb(1) / 4
        value = sum(a[k] * q**k for k in range(TAYLOR_DEGREE + 1))
        slope = sum(k * a[k] * q ** (k - 1) for k in range(1, TAYLOR_DEGREE + 1))
        tail = a[TAYLOR_DEGREE + 1] * q ** (TAYLOR_DEGREE + 1) / (1 - q) * 4 * (TAYLOR_DEGREE + 2)
        return _upper(value + tail), _upper(slope + tail)


def _constant_errors() -> tuple[float, float]:
    """|HI + LO - pi/2| and |PI_HI + PI_LO - pi|, certified."""
    with ctx.workprec(PRECISION_BITS):
        pi = arb.pi()
        return _upper(abs(arb(PIO2_HI) + arb(PIO2_LO) - pi / 2)), _upper(abs(arb(PI_HI) + arb(PI_LO) - pi))


def certify(coeffs: tuple[float, ...]) -> KernelErrorBound:
    """The bound of the module docstring for the polynomial ``coeffs`` (p_0..p_K)."""
    u = UNIT
    K = len(coeffs) - 1
    if K != ESTRIN_DEGREE:
        raise ValueError(f"the rounding count holds for degree {ESTRIN_DEGREE} only, got degree {K}")

    def gamma(k: int) -> float:
        return k * u / (1 - k * u)

    delta = approximation_error(coeffs)
    pbar = math.fsum(abs(c) * 0.25**k for k, c in enumerate(coeffs)) * (1 + 4 * u)
    r_max, r_slope = _series_bounds()
    pio2_err, pi_err = _constant_errors()
    estrin = gamma(ESTRIN_ROUNDINGS) * pbar
    a_small = (r_max + delta + estrin) * gamma(3) + delta + r_slope * u / 4 + estrin
    e_r = a_small / 8 + u * (math.pi / 6 + a_small / 8)
    e_small = e_r + 2 * u * (2 * math.pi / 3 + e_r) + pio2_err
    a_large = (r_max + delta + estrin) * gamma(3) + delta + estrin
    b = u + a_large / 4 + u * math.pi / 3
    e_pos = b
    e_neg = b + 2 * u * (math.pi + b) + pi_err
    e_t = max(e_small, e_pos, e_neg)
    sine = gamma(3) / 2 + u
    j_n = (e_t, e_t + sine + 2 * math.pi * u, 3 * e_t + (11 * math.pi + 6.75) * u, 15 * e_t + 376 * u)
    slack = 1 + 1e-6  # the dropped u^2 terms, generously
    return KernelErrorBound(degree=K, delta=delta, abs_sum=pbar,
                            arccos_branches=tuple(e * slack / u for e in (e_small, e_pos, e_neg)),
                            j_n=tuple(e * slack / u for e in j_n), allowance=tuple(FORMULA_ULPS * j for j in J_AT_ONE))


if __name__ == "__main__":  # pragma: no cover - a development tool
    from numerics.compiled.kernel import compiled_kernel

    kernel = compiled_kernel()
    if kernel is None:
        raise SystemExit("the compiled kernel is not built (no C compiler at install time?)")
    print(certify(kernel.asin_coefficients()))

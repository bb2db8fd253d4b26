"""Certified linear algebra in ball arithmetic (python-flint ``arb_mat``) for the evidence path.

Every routine returns balls: the exact result of the exact inputs lies inside. A certified solve of an M x M
system costs milliseconds at 200 bits where mpmath's LU takes 30-100 times longer, and its radius says how
many digits are right (``certified_digits``), so nothing has to be guessed from guard digits.

    simplex_etf_arb(M, d)   the Helmert-basis simplex ETF rows, entries sqrt(rational) as balls
    kernel_matrix_arb(...)  K_jl = kappa(<v_j, v_l>) from a ball Gram matrix (hand-written J_n, numerics.kappa)
    solve(K, B)             K X = B, certified (raises SingularError when K is not proven invertible)
    to_mpf / from_mpf       exact conversions between arb midpoints and mpmath numbers

flint lacks a certified symmetric eigendecomposition with eigenvectors when eigenvalues cluster
(acb_mat.eig gives vectors only for isolated ones): callers that need K^+ for a singular K say so and use mpmath.

References: Johansson, "Arb: efficient arbitrary-precision midpoint-radius interval arithmetic",
IEEE Trans. Comput. 66 (2017); docs/numerics.md.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import mpmath
from flint import arb, arb_mat, ctx, fmpz

from numerics.interval_loss import kappa_ball, lipschitz_arb
from numerics.kappa import FastKappa
from theory.activations import Activation

LOG2_10 = math.log2(10)


class SingularError(ArithmeticError):
    """arb could not prove the matrix invertible at this precision (it may be singular)."""


def bits_for(dps: int) -> int:
    """Working precision in bits for ``dps`` decimal digits, plus 32 guard bits."""
    return int(math.ceil(dps * LOG2_10)) + 32


@contextmanager
def precision(dps: int):
    """flint's working precision set for ``dps`` digits inside the block (restored after)."""
    old = ctx.prec
    ctx.prec = bits_for(dps)
    try:
        yield
    finally:
        ctx.prec = old


def simplex_etf_arb(M: int, d: int) -> arb_mat:
    """M x d simplex ETF (the rows of theory.etf.simplex_etf_exact) as balls at the current precision.

    Row j has coordinate k - 1 (k = 1..M-1) equal to sqrt(M / ((M-1) k (k+1))) for j < k,
    -sqrt(M k / ((M-1)(k+1))) for j = k and 0 for j > k; columns M-1..d-1 are zero. Built from the
    exact rationals, so the Gram matrix is a ball matrix containing the exact one (1 and -1/(M-1)).
    """
    V = arb_mat(M, d)
    if M == 1:
        V[0, 0] = arb(1)
        return V
    for k in range(1, M):
        below = (arb(M) / ((M - 1) * k * (k + 1))).sqrt()
        V[k, k - 1] = -(arb(M * k) / ((M - 1) * (k + 1))).sqrt()
        for j in range(k):
            V[j, k - 1] = below
    return V


def kernel_matrix_arb(act: Activation, G: arb_mat) -> arb_mat:
    """K_jl = kappa(G_jl) for a symmetric ball Gram matrix of unit rows (entries whose true value is in [-1, 1]).

    kappa is numerics.kappa's hand-written Cho-Saul form in arb (independent of theory.kernels' sympy
    derivation); balls touching +-1 (the diagonal) are handled by numerics.interval_loss.kappa_ball.
    """
    kap = FastKappa.from_activation(act)
    lip = lipschitz_arb(kap)
    M = G.nrows()
    K = arb_mat(M, M)
    for j in range(M):
        for l in range(j, M):
            v = kappa_ball(kap, G[j, l], lip)
            K[j, l] = v
            K[l, j] = v
    return K


def solve(K: arb_mat, B: arb_mat) -> arb_mat:
    """Certified solution X of K X = B (balls); SingularError when arb cannot prove K invertible."""
    try:
        return K.solve(B)
    except ZeroDivisionError as err:
        raise SingularError(str(err)) from None


def column(values) -> arb_mat:
    """An n x 1 arb matrix from arb values."""
    values = list(values)
    return arb_mat([[v] for v in values])


def total(values) -> arb:
    out = arb(0)
    for v in values:
        out += v
    return out


def from_mpf(x, rel_radius=None) -> arb:
    """The mpmath number x as an exact ball (binary mpf -> arb is exact), widened by rel_radius |x| if given."""
    if isinstance(x, mpmath.mpf):  # binary mantissa and exponent: exact (never re-rounded to mpmath's dps)
        if not mpmath.isfinite(x):
            return arb("nan")
        sign, man, exp, _ = x._mpf_
        out = arb(fmpz(int(man))) * arb(2) ** int(exp) if man else arb(0)
        out = -out if sign else out
    elif isinstance(x, (int, float)):
        out = arb(x)  # exact
    else:
        raise TypeError(f"from_mpf expects an mpf, int or float, got {type(x).__name__}")
    if rel_radius is not None:
        out = out + arb(0, abs(out).upper() * rel_radius)
    return out


def to_mpf(x: arb, dps: int):
    """The midpoint of a ball as an mpmath number, rounded once to ``dps`` digits (nan for a non-finite ball)."""
    if not x.is_finite():
        return mpmath.mpf("nan")
    man, exp = x.mid().man_exp()
    with mpmath.workdps(dps):
        return mpmath.ldexp(mpmath.mpf(int(man)), int(exp))


def certified_digits(x: arb) -> float:
    """Correct significant digits the ball guarantees: -log10(rad / |mid|) (inf for an exact ball, 0 if it holds 0)."""
    rad = float(x.rad())
    if rad == 0:
        return float("inf")
    if x.contains(0):
        return 0.0
    mid = abs(x.mid())
    # compare in arb: |mid| can be far outside float range relative to rad
    return round(float(((mid / x.rad()).log()) / arb(10).log()), 2)


def radius_str(x: arb) -> str:
    """The ball's radius as a short decimal string (upper bound)."""
    return arb(x.rad()).str(3, radius=False)

"""Funk-Hecke eigenvalues of the dual kernel on S^{d-1}: kappa(<u, v>) = sum_k Lambda_k N(d, k) P_k(<u, v>).

P_k = P_k^{(d)} is the Legendre (Gegenbauer) polynomial of S^{d-1} normalised by P_k(1) = 1, N(d, k) the dimension
of the degree-k spherical harmonics, and Lambda_k = E[kappa(t) P_k(t)], t = <w^, e_1>, w^ uniform on S^{d-1}.
For sigma(t) = p relu(t)^n + q relu(-t)^n the eigenvalue has a closed form:

    Lambda_k = lambda_k(sigma)^2 E||x||^{2n},   lambda_k(sigma) = E[sigma(t) P_k(t)] = (p + (-1)^k q)/2 E[|t|^n P_k(|t|)],

because kappa(<u, v>) = E_x sigma(<u, x>) sigma(<v, x>), x ~ N(0, I_d), and Funk-Hecke applied to the direction
x^ (||x|| and x^ are independent, sigma(<w, x>) = ||x||^n sigma(<w, x^>)). So every Lambda_k >= 0 (Schoenberg).

The degree-1 and degree-2 parts of kappa(<w^, v^>), as functions of w^, are

    a_1 <w^, v^>,  a_1 = d Lambda_1;        a_2 (<w^, v^>^2 - 1/d),  a_2 = d (d + 2) Lambda_2 / 2,

(from P_1(t) = t, P_2(t) = (d t^2 - 1)/(d - 1), N(d, 1) = d, N(d, 2) = (d + 2)(d - 1)/2); a_2 -> mu_2^2 as d -> oo.
The variance of the degree-k part of kappa(<w^, v^>) is Lambda_k^2 N(d, k); they add up to Var kappa(t).

References: Funk-Hecke formula (e.g. Atkinson & Han, "Spherical Harmonics and Approximations on the Unit Sphere",
2012, Thm. 2.22); derived here for the dual kernel (docs/finite_n_gain.md, step 2).

Examples
--------
>>> from theory.activations import get_activation
>>> relu = get_activation("relu")
>>> funk_hecke_eigenvalue(relu, 0, 3), funk_hecke_eigenvalue(relu, 2, 3)   # Lambda_0 = c_3 = 3/16
(3/16, 3/256)
>>> degree_two_coefficient(relu, 3)
45/512
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy as sp

from theory.activations import Activation
from theory.errors import InputError
from theory.kernels import dual_kernel
from theory.sphere import check_dim, sphere_abs_moment

T = sp.Symbol("t", real=True)


def _check_degree(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise InputError("k", "harmonic degree must be an integer >= 0", got=k)
    return k


def _check_sphere_dim(d: object) -> int:
    d = check_dim(d, "d")
    if d < 2:
        raise InputError("d", "Gegenbauer expansions need d >= 2 (S^0 has only degrees 0 and 1)", got=d)
    return d


@lru_cache(maxsize=None)
def legendre_sphere(k: int, d: int) -> sp.Poly:
    """P_k^{(d)}(t) with P_k(1) = 1, exact: P_0 = 1, P_1 = t, (k + d - 3) P_k = (2k + d - 4) t P_{k-1} - (k - 1) P_{k-2}.

    (d = 2: Chebyshev T_k; d = 3: Legendre.)

    Examples
    --------
    >>> legendre_sphere(2, 3).as_expr()
    3*t**2/2 - 1/2
    >>> legendre_sphere(3, 2).as_expr()
    4*t**3 - 3*t
    """
    _check_degree(k)
    _check_sphere_dim(d)
    prev, cur = sp.Poly(1, T, domain="QQ"), sp.Poly(T, T, domain="QQ")
    if k == 0:
        return prev
    for j in range(2, k + 1):
        prev, cur = cur, (sp.Poly(T, T) * cur * sp.Rational(2 * j + d - 4, j + d - 3)
                          - prev * sp.Rational(j - 1, j + d - 3))
    return cur


def harmonic_dimension(k: int, d: int) -> int:
    """N(d, k) = C(d+k-1, k) - C(d+k-3, k-2), the dimension of the degree-k harmonics on S^{d-1}.

    Examples
    --------
    >>> [harmonic_dimension(k, 3) for k in range(4)], harmonic_dimension(2, 16)
    ([1, 3, 5, 7], 135)
    """
    _check_degree(k)
    _check_sphere_dim(d)
    low = int(sp.binomial(d + k - 3, k - 2)) if k >= 2 else 0
    return int(sp.binomial(d + k - 1, k)) - low


@lru_cache(maxsize=None)
def activation_eigenvalue(act: Activation, k: int, d: int) -> sp.Expr:
    """lambda_k(sigma) = E[sigma(t) P_k(t)] exactly: (p + (-1)^k q)/2 sum_m c_m E|t|^(n+m), P_k = sum_m c_m t^m."""
    sign = (act.p + (-1) ** k * act.q) / 2
    if sign == 0:
        return sp.Integer(0)
    coeffs = legendre_sphere(k, d).all_coeffs()[::-1]
    total = sum(c * sphere_abs_moment(act.degree + m, sp.Integer(d)) for m, c in enumerate(coeffs) if c != 0)
    return sp.simplify(sign * total)


@lru_cache(maxsize=None)
def funk_hecke_eigenvalue(act: Activation, k: int, d: int) -> sp.Expr:
    """Lambda_k = E[kappa(t) P_k(t)] = lambda_k(sigma)^2 E||x||^{2n}, E||x||^{2n} = 2^n Gamma(d/2 + n)/Gamma(d/2); exact.

    References: derived here (module docstring; docs/finite_n_gain.md, step 2).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> funk_hecke_eigenvalue(get_activation("step"), 1, 3)   # kappa = (pi - arccos rho)/(2 pi)
    1/16
    """
    k = _check_degree(k)
    d = _check_sphere_dim(d)
    if not isinstance(act, Activation):
        raise InputError("activation", "the closed form needs a positively homogeneous activation", got=act)
    norm_moment = sp.Integer(2) ** act.degree * sp.rf(sp.Rational(d, 2), act.degree)
    return sp.simplify(sp.expand(activation_eigenvalue(act, k, d) ** 2 * norm_moment))


def funk_hecke_eigenvalue_quad(act: Activation, k: int, d: int, dps: int = 30):
    """Lambda_k by mpmath quadrature of kappa(cos th) P_k(cos th) sin(th)^(d-2) (independent of the closed form).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> mpmath.nstr(funk_hecke_eigenvalue_quad(get_activation("relu"), 2, 3, dps=20), 15)
    '0.01171875'
    """
    k = _check_degree(k)
    d = _check_sphere_dim(d)
    kern = dual_kernel(act)
    coeffs = [sp.Rational(c) for c in legendre_sphere(k, d).all_coeffs()[::-1]]
    work = dps + 10
    with mpmath.workdps(work):
        cs = [mpmath.mpf(c.p) / c.q for c in coeffs]
        poly = lambda x: mpmath.fsum(c * x**m for m, c in enumerate(cs))  # noqa: E731
        if d == 2:
            norm = 1 / mpmath.pi
            integrand = lambda th: kern.mp(mpmath.cos(th), work) * poly(mpmath.cos(th))  # noqa: E731
        else:
            norm = mpmath.gamma(mpmath.mpf(d) / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(mpmath.mpf(d - 1) / 2))
            integrand = lambda th: (kern.mp(mpmath.cos(th), work) * poly(mpmath.cos(th))  # noqa: E731
                                    * mpmath.sin(th) ** (d - 2))
        value = norm * mpmath.quad(integrand, mpmath.linspace(0, mpmath.pi, 5))
    with mpmath.workdps(dps):
        return +value


def funk_hecke_eigenvalue_mp(act: Activation, k: int, d: int, dps: int = 30):
    """Lambda_k from the same closed form evaluated in mpmath (log-gamma moments), for any d: sympy's exact
    simplification of Gamma(d/2) ratios slows down badly for large d (minutes at d = 10^6).

    E|t|^m = exp(lgamma(d/2) + lgamma((m+1)/2) - lgamma((d+m)/2)) / sqrt(pi); the sum over the monomials of P_k
    cancels about k log10(d) digits, which the guard digits cover.

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> relu = get_activation("relu")
    >>> mpmath.nstr(funk_hecke_eigenvalue_mp(relu, 2, 3), 15), float(funk_hecke_eigenvalue(relu, 2, 3))
    ('0.01171875', 0.01171875)
    """
    k = _check_degree(k)
    d = _check_sphere_dim(d)
    sign = (act.p + (-1) ** k * act.q) / 2
    n = act.degree
    coeffs = [sp.Rational(c) for c in legendre_sphere(k, d).all_coeffs()[::-1]]
    work = dps + 10 + int(k * mpmath.log10(d) + 1)
    with mpmath.workdps(work):
        half = mpmath.mpf(d) / 2
        base = mpmath.loggamma(half) - mpmath.log(mpmath.pi) / 2
        moment = lambda m: mpmath.exp(base + mpmath.loggamma(mpmath.mpf(m + 1) / 2)  # noqa: E731
                                      - mpmath.loggamma(half + mpmath.mpf(m) / 2))
        lam = mpmath.mpf(sign.p) / sign.q * mpmath.fsum(mpmath.mpf(c.p) / c.q * moment(n + m)
                                                        for m, c in enumerate(coeffs) if c != 0)
        value = lam**2 * 2**n * mpmath.rf(half, n)
    with mpmath.workdps(dps):
        return +value


def degree_one_coefficient(act: Activation, d: int) -> sp.Expr:
    """a_1 = d Lambda_1: the degree-1 part of kappa(<w^, v^>) is a_1 <w^, v^> (exact; see the _mp variant for large d)."""
    return sp.simplify(d * funk_hecke_eigenvalue(act, 1, d))


def degree_two_coefficient(act: Activation, d: int) -> sp.Expr:
    """a_2 = d (d + 2) Lambda_2 / 2: the degree-2 part of kappa(<w^, v^>) is a_2 (<w^, v^>^2 - 1/d) (exact).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> degree_two_coefficient(get_activation("relu"), 5)
    175/2048
    """
    return sp.simplify(sp.Integer(d) * (d + 2) * funk_hecke_eigenvalue(act, 2, d) / 2)


def degree_two_coefficient_mp(act: Activation, d: int, dps: int = 30):
    """a_2 in mpmath, for any d (``funk_hecke_eigenvalue_mp``).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> a2 = degree_two_coefficient_mp(get_activation("relu"), 10**6)
    >>> abs(float(a2) - 1 / (4 * mpmath.pi)) < 1e-6     # -> mu_2^2 = 1/(4 pi)
    True
    """
    lam2 = funk_hecke_eigenvalue_mp(act, 2, d, dps + 5)
    with mpmath.workdps(dps):
        return +(mpmath.mpf(d) * (d + 2) * lam2 / 2)


@dataclass(frozen=True)
class HarmonicEnergy:
    """Lambda_k and the variance share Lambda_k^2 N(d, k) of each harmonic degree k = 1..kmax of kappa(<w^, v^>).

    ``variance`` is the exact Var kappa(t) = sum over all k >= 1 (from the series when kmax is large enough, here
    from the pair average Phi_d(1) - c_d^2 of theory.pair_average, about 1e-12 relative); ``shares[k-1]`` the
    fraction of it in degree k.
    """

    activation: str
    d: int
    eigenvalues: tuple[float, ...]
    shares: tuple[float, ...]
    variance: float
    source: str = "Funk-Hecke closed form (theory.gegenbauer_kernel); Var kappa(t) from theory.pair_average"


def harmonic_energy(act: Activation, d: int, kmax: int = 8) -> HarmonicEnergy:
    """How the variance of kappa(<w^, v^>) over w^ splits among harmonic degrees 1..kmax (the rest is the tail).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> e = harmonic_energy(get_activation("relu"), 16, kmax=6)
    >>> round(sum(e.shares), 5), round(e.shares[1], 4), e.shares[2]   # degree 1 dominates; 3 vanishes for ReLU
    (1.0, 0.011, 0.0)
    """
    from theory.pair_average import pair_average
    from theory.regimes import sphere_average_value

    d = _check_sphere_dim(d)
    lams = tuple(float(funk_hecke_eigenvalue(act, k, d)) for k in range(1, kmax + 1))
    c = float(sphere_average_value(act, d, 30))
    var = pair_average(act, d, 1.0) - c * c
    shares = tuple(lam * lam * harmonic_dimension(k, d) / var for k, lam in enumerate(lams, start=1))
    return HarmonicEnergy(act.name, d, lams, shares, var)

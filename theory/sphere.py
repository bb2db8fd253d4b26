"""Averages over the unit sphere S^{d-1}: c_d(sigma) = E kappa(<w^, v>), w^ uniform.

The density of t = <w^, e_1> is Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)) (1 - t^2)^((d-3)/2)
for d >= 2; for d = 1, t = +-1 with probability 1/2 each.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from theory.activations import Activation, get_activation
from theory.closed_form import tidy_number
from theory.errors import InputError
from theory.kernels import dual_kernel

D = sp.Symbol("d", positive=True, integer=True)


def check_dim(d: object, argument: str = "dim") -> int:
    """Validate an ambient dimension d >= 1."""
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise InputError(argument, "dimension must be an integer >= 1", got=d)
    return d


def relu_sphere_average_expr(d: sp.Expr = D) -> sp.Expr:
    """c_d = d Gamma(d/2)^2 / (4 pi Gamma((d+1)/2)^2) for ReLU (docs/model.md §3).

    Examples
    --------
    >>> [relu_sphere_average_expr(k) for k in (1, 3, 5)]
    [1/4, 3/16, 45/256]
    """
    return sp.gammasimp(d * sp.gamma(d / sp.Integer(2)) ** 2 / (4 * sp.pi * sp.gamma((d + 1) / sp.Integer(2)) ** 2))


def sphere_average_mp(act: Activation, d: int, dps: int = 30):
    """c_d(sigma) by mpmath quadrature in the polar angle, to about ``dps`` digits.

    c_d = Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)) * int_0^pi kappa(cos th) sin(th)^(d-2) dth.

    Examples
    --------
    >>> relu = get_activation("relu")
    >>> mpmath.nstr(sphere_average_mp(relu, 3, dps=30), 20)
    '0.1875'
    """
    check_dim(d)
    kern = dual_kernel(act)
    with mpmath.workdps(dps + 10):
        if d == 1:
            return +((kern.mp(1, dps + 10) + kern.mp(-1, dps + 10)) / 2)
        norm = mpmath.gamma(mpmath.mpf(d) / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(mpmath.mpf(d - 1) / 2))
        integrand = lambda th: kern.mp(mpmath.cos(th), dps + 10) * mpmath.sin(th) ** (d - 2)
        value = norm * mpmath.quad(integrand, [0, mpmath.pi / 2, mpmath.pi])
    with mpmath.workdps(dps):
        return +value


def sphere_average(act: Activation, d: int) -> float:
    """c_d(sigma) in float64 (closed form ``sphere_average_expr`` for homogeneous activations, quadrature otherwise)."""
    check_dim(d)
    if isinstance(act, Activation):
        return float(sphere_average_expr(act, sp.Integer(d)).evalf(20))
    return float(sphere_average_mp(act, d, dps=20))


def sphere_moment(k: int, d: sp.Expr = D) -> sp.Expr:
    """E <w^, e_1>^k for w^ uniform on S^{d-1}: 0 for odd k, (k-1)!! / (d (d+2) ... (d+k-2)) for even k.

    References: derived here from E g^k = E||g||^k E<w^, e_1>^k for g ~ N(0, I_d) (norm and direction
    of a standard Gaussian are independent).

    Examples
    --------
    >>> sphere_moment(4)
    3/(d*(d + 2))
    >>> sphere_moment(2, sp.Integer(5))
    1/5
    """
    if k < 0:
        raise InputError("k", "moment order must be >= 0", got=k)
    if k % 2:
        return sp.Integer(0)
    out = sp.factorial2(k - 1) if k else sp.Integer(1)
    for i in range(k // 2):
        out = out / (d + 2 * i)
    return out


def sphere_abs_moment(a: sp.Expr, d: sp.Expr = D) -> sp.Expr:
    """E |<w^, e_1>|^a = Gamma(d/2) Gamma((a+1)/2) / (sqrt(pi) Gamma((d+a)/2)).

    References: derived here (same Gaussian factorisation as ``sphere_moment``).

    Examples
    --------
    >>> sphere_abs_moment(1, sp.Integer(3))
    1/2
    """
    a = sp.sympify(a)
    return sp.gammasimp(sp.gamma(d / 2) * sp.gamma((a + 1) / 2) / (sp.sqrt(sp.pi) * sp.gamma((d + a) / 2)))


def sphere_average_expr(act: Activation, d: sp.Expr = D) -> sp.Expr:
    """c_d(sigma) = ((p+q)/2)^2 (E|t|^n)^2 2^n Gamma(d/2+n)/Gamma(d/2), t = <w^, e_1>, exact.

    For sigma(t) = p relu(t)^n + q relu(-t)^n: c_d = E_x[sigma(<v,x>) E_w^ sigma(<w^,x>)] and
    E_w^ sigma(<w^, x>) = ||x||^n E_t sigma(t) = ||x||^n (p+q)/2 E|t|^n; then E_x[sigma(<v,x>) ||x||^n]
    = E||x||^(2n) E_t sigma(t) because ||x|| and x/||x|| are independent.

    References: derived here (docs/derivations.md, "sphere average"); for ReLU it is docs/model.md §3.

    Examples
    --------
    >>> relu = get_activation("relu")
    >>> [sphere_average_expr(relu, sp.Integer(k)) for k in (1, 3, 5, 11)]
    [1/4, 3/16, 45/256, 43659/262144]
    >>> sp.simplify(sphere_average_expr(relu) - relu_sphere_average_expr())
    0
    """
    n = act.degree
    mean_t = (act.p + act.q) / 2 * sphere_abs_moment(n, d)
    norm_moment = sp.Integer(2) ** n * sp.rf(d / sp.Integer(2), n)
    expr = sp.gammasimp(mean_t**2 * sp.expand_func(norm_moment))
    if d.is_number:
        return tidy_number(expr)
    return expr if expr.has(sp.gamma) else sp.cancel(expr)  # simplify's form, at a fraction of its cost


def _gamma_ratio_series(a: sp.Expr, b: sp.Expr, order: int, inv: sp.Symbol) -> sp.Expr:
    """log(Gamma(z+a)/Gamma(z+b)) - (a-b) log z as a series in inv = 1/z up to inv^order (exact)."""
    x = sp.Symbol("x")
    total = sp.Integer(0)
    for k in range(1, order + 1):
        coef = (sp.bernoulli(k + 1, x).subs(x, a) - sp.bernoulli(k + 1, x).subs(x, b)) * (-1) ** (k + 1)
        total += sp.nsimplify(coef) / (k * (k + 1)) * inv**k
    return total


def sphere_average_series(act: Activation, order: int = 3) -> sp.Expr:
    """c_d(sigma) as a series in 1/d: mu_0^2 (1 + a_1/d + ... + a_order/d^order) + O(d^-(order+1)).

    Uses log Gamma(z+a) - log Gamma(z+b) = (a-b) log z + sum_k (-1)^(k+1) (B_{k+1}(a) - B_{k+1}(b)) / (k(k+1) z^k)
    with z = d/2 (Bernoulli polynomials B_k). Returned in the symbol ``ID`` (= 1/d).

    References: derived here; leading terms agree with docs/model.md §3 (1/(2 pi) + 1/(4 pi d)).

    Examples
    --------
    >>> s = sphere_average_series(get_activation("relu"), 2)
    >>> [s.coeff(ID, k) for k in range(3)]
    [1/(2*pi), 1/(4*pi), 1/(16*pi)]
    """
    n = act.degree
    if order < 0:
        raise InputError("order", "series order must be >= 0", got=order)
    inv_z = 2 * ID  # 1/z with z = d/2
    # c_d = const * [Gamma(z)/Gamma(z+n/2)]^2 * Gamma(z+n)/Gamma(z) * z^(... ) ; the powers of z cancel:
    # (z^{-n/2})^2 * z^n = 1, so c_d -> const as d -> infinity.
    log_ratio = 2 * _gamma_ratio_series(0, sp.Rational(n, 2), order, inv_z) + _gamma_ratio_series(n, 0, order, inv_z)
    const = ((act.p + act.q) / 2) ** 2 * sp.gamma(sp.Rational(n + 1, 2)) ** 2 / sp.pi * 2**n
    return sp.expand(tidy_number(const) * _exp_series(sp.Poly(log_ratio, ID).all_coeffs()[::-1], order))


def _exp_series(log_coeffs: list, order: int) -> sp.Expr:
    """exp(sum_k l_k ID^k) to ID^order, l_0 = 0, by e_0 = 1, e_n = (1/n) sum_{k=1..n} k l_k e_(n-k) (exact)."""
    lk = [sp.Integer(0)] * (order + 1)
    for k, c in enumerate(log_coeffs[: order + 1]):
        lk[k] = c
    e = [sp.Integer(1)]
    for n in range(1, order + 1):
        e.append(sp.Rational(1, n) * sum(k * lk[k] * e[n - k] for k in range(1, n + 1)))
    return sum(c * ID**n for n, c in enumerate(e))


ID = sp.Symbol("ID", positive=True)

"""Averages over the unit sphere S^{d-1}: c_d(sigma) = E kappa(<w^, v>), w^ uniform.

The density of t = <w^, e_1> is Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)) (1 - t^2)^((d-3)/2)
for d >= 2; for d = 1, t = +-1 with probability 1/2 each.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from theory.activations import Activation, get_activation
from theory.errors import InputError
from theory.kernels import dual_kernel

D = sp.Symbol("d", positive=True, integer=True)


def check_dim(d: object, argument: str = "dim") -> int:
    """Validate an ambient dimension d >= 1."""
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise InputError(argument, "dimension must be an integer >= 1", got=d)
    return d


def relu_sphere_average_expr(d: sp.Expr = D) -> sp.Expr:
    """c_d = d Gamma(d/2)^2 / (4 pi Gamma((d+1)/2)^2) for ReLU (MODEL.md section 2).

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
    """c_d(sigma) in float64 (closed form for ReLU, quadrature otherwise)."""
    check_dim(d)
    if act.name == "relu":
        return float(relu_sphere_average_expr(sp.Integer(d)).evalf(20))
    return float(sphere_average_mp(act, d, dps=20))

"""Everything the theory layer derives for one (activation, law, d, M), as ordered named entries.

Each entry carries an exact sympy form when there is one, its value at the requested precision, and where it
comes from; ``theory.cli`` renders the list as text, JSON or LaTeX.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from theory.activations import Activation, get_activation
from theory.errors import InputError
from theory.etf import check_neurons_dim, simplex_etf
from theory.etf_values import best_tilt, etf_values
from theory.finite_n import finite_n_constants
from theory.kernels import dual_kernel, kernel_series
from theory.sphere import check_dim, sphere_average_expr, sphere_average_series, sphere_moment
from theory.target_laws import get_law


@dataclass(frozen=True)
class Entry:
    """One derived object: ``exact`` (sympy or None), ``value`` (mpmath number, float or None), ``source``."""

    section: str
    name: str
    exact: sp.Expr | None
    value: object
    source: str
    note: str = ""


@dataclass(frozen=True)
class Derivation:
    activation: str
    law: str
    dim: int
    neurons: int
    dps: int
    entries: tuple[Entry, ...]


def _check_dps(dps) -> int:
    if isinstance(dps, bool) or not isinstance(dps, int) or not 10 <= dps <= 500:
        raise InputError("dps", "precision must be an integer in 10..500", got=dps)
    return dps


def _ev(expr, dps):
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(expr, dps + 10))


def derive(activation: str = "relu", law: str = "gaussian", dim: int = 3, neurons: int = 3, dps: int = 30,
           *, order: int = 6, tilt: float = 0.5) -> Derivation:
    """Hermite coefficients, kernel, sphere averages, law moments, ETF values, regime II/III and finite-N constants.

    Examples
    --------
    >>> out = derive("relu", "gaussian", 3, 3, 20)
    >>> [e.exact for e in out.entries if e.name == "c_d at d"]
    [3/16]
    """
    dps = _check_dps(dps)
    d = check_dim(dim)
    if isinstance(neurons, bool) or not isinstance(neurons, int) or neurons < 1:
        raise InputError("neurons", "M must be an integer >= 1", got=neurons)
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 40:
        raise InputError("order", "Hermite order must be an integer in 0..40", got=order)
    act = get_activation(activation, allow_general=True)
    target_law = get_law(law)
    homogeneous = isinstance(act, Activation)
    if homogeneous:
        check_neurons_dim(neurons, d)
    E: list[Entry] = []
    add = lambda *a, **k: E.append(Entry(*a, **k))  # noqa: E731
    sec = "activation"
    add(sec, "sigma(t)", act.expression(), None, "definition")
    for k in range(order + 1):
        mu = act.hermite_coefficient(k)
        add(sec, f"mu_{k}", mu, _ev(mu, dps), "exact Gaussian integral (MODEL.md section 2 normalisation)")
    kern = dual_kernel(act)
    add(sec, "kappa(1) = E sigma^2", act.second_moment(), _ev(act.second_moment(), dps), "exact")
    if homogeneous:
        add(sec, "kappa(rho)", kern.expr, None, "arc-cosine kernel (Cho & Saul 2009), theory.kernels")
        add(sec, f"kappa series to rho^{order}", kernel_series(act, order), None, "sum_k mu_k^2 rho^k")
    else:
        add(sec, "kappa(rho)", None, None, kern.method)
        add(sec, "kernel tail bound", kern.tail_bound, _ev(kern.tail_bound, dps), "E sigma^2 - sum_{k<=K} mu_k^2")
        add(sec, "note", None, None, "not positively homogeneous: no scaling-factor reduction; "
            "sphere, ETF and finite-N sections need a homogeneous activation")
        return Derivation(act.name, target_law.name, d, neurons, dps, tuple(E))

    sec = "sphere"
    add(sec, "E<w^,e1>^2", sphere_moment(2), None, "derived here (Gaussian factorisation)")
    add(sec, "E<w^,e1>^4", sphere_moment(4), None, "derived here")
    add(sec, "c_d", sphere_average_expr(act), None, "derived here (docs/derivations.md, 'sphere average')")
    c_exact = sphere_average_expr(act, sp.Integer(d))
    add(sec, "c_d at d", c_exact, _ev(c_exact, dps), "closed form")
    add(sec, "c_d 1/d expansion (ID = 1/d)", sphere_average_series(act, 3), None, "Bernoulli-polynomial asymptotics of Gamma ratios")

    sec = "law"
    sm = target_law.scaling_moments(d, act.degree, dps=dps)
    add(sec, "kappa_4 of entries", target_law.kappa4, _ev(target_law.kappa4, dps), "m4/m2^2 - 3")
    add(sec, "abar = E[a||w||^n]", sm.exact[0], sm.abar, sm.method[0])
    add(sec, "E[alpha^2]", sm.exact[1], sm.alpha_sq, sm.method[1])

    sec = "etf"
    ev = etf_values(act, neurons, d, dps=dps, law=target_law)
    add(sec, "rho0 = -1/(M-1)", ev.rho0, None, "simplex ETF")
    add(sec, "1^T K^-1 1", ev.ones_Kinv_ones_exact, ev.ones_Kinv_ones, "M / (kappa(1) + (M-1) kappa(rho0)), MODEL.md section 5")
    add(sec, "beta*_j", ev.beta_star_exact, ev.beta_star[0], "abar c_d / (kappa(1) + (M-1) kappa(rho0))")
    add(sec, "C_target", None if ev.beta_star_exact is None else sp.simplify(sm.exact[0] ** 2 * c_exact), ev.c_target, "abar^2 c_d")
    add(sec, "Ltilde*", ev.ltilde_star_exact, ev.ltilde_star, "C_target - b^T K^-1 b")
    add(sec, "Ltilde*/C_target", ev.relative_loss_exact, ev.relative_loss, "1 - c_d 1^T K^-1 1")

    sec = "regime II"
    if neurons <= d and neurons >= 2:
        tv = best_tilt(act, neurons, ev.abar, tilt, dps=min(dps, 30))
        add(sec, "||m||", None, tv.tilt_norm, "option --tilt")
        add(sec, "best tilt angle t", None, tv.angle, "equal tilt family, golden section")
        add(sec, "Ltilde*(t)", None, tv.value, tv.source)
        add(sec, "Ltilde*(t)/C", None, tv.value / tv.constant, "relative")
    else:
        add(sec, "note", None, None, "tilted family needs 2 <= M <= d")

    sec = "regime III"
    mu4 = act.hermite_coefficient(4) ** 2
    coef = sp.simplify(mu4 * target_law.kappa4 / sp.Integer(d) ** 2)
    add(sec, "anisotropy coefficient mu_4^2 kappa_4 / d^2", coef, _ev(coef, dps),
        "b(v^) = abar c_d + coef (sum v_i^4 - 3/(d+2)) + O(d^-3), theory.anisotropic")

    sec = "finite N (at the ETF, beta*)"
    fc = finite_n_constants(np.array([float(x) for x in ev.beta_star]), simplex_etf(neurons, d), act, d, target_law)
    if not fc.law_rotation_invariant:
        add(sec, "note", None, None, "entry law is not rotation invariant: these are the regime-I model values "
            "(w^ taken uniform and independent of alpha), accurate up to the O(d^-2) anisotropy of regime III")
    for name, value, note in [
        ("bias coefficient", fc.bias_coefficient, "E L_N - Ltilde = coef / N (exact)"),
        ("variance 1/N coefficient", fc.variance_first, "4 Var[alpha (g - abar c_d)]"),
        ("variance 1/N^2 coefficient", fc.variance_second, "2 Var h2 - 4 Cov(D, E)"),
        ("variance 1/N^3 coefficient", fc.variance_third, "Var E - 2 Var h2"),
    ]:
        add(sec, name, None, value, note + "; float64 (pair average by quadrature)")
    return Derivation(act.name, target_law.name, d, neurons, dps, tuple(E))

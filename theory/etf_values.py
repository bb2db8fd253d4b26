"""Closed forms at the simplex ETF (regime I) and along the tilted ETF family (regime II).

At the simplex ETF (<v^_j, v^_l> = rho0 = -1/(M-1)) K = (kappa(1) - kappa(rho0)) I + kappa(rho0) 1 1^T, whose
eigenvalue on 1 is lambda = kappa(1) + (M-1) kappa(rho0). In regime I b = abar c_d 1, so

  1^T K^-1 1 = M / lambda,   beta*_j = abar c_d / lambda,   Ltilde* = abar^2 c_d (1 - c_d M / lambda),
  relative loss Ltilde* / C_target = 1 - c_d M / lambda   (independent of abar).

References: docs/model.md §5 'The ETF question'; the formulas are derived in docs/derivations.md §7
'ETF values'.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from theory.closed_form import tidy_number
from theory.errors import InputError
from theory.etf import check_neurons_dim, simplex_etf
from theory.kernels import RHO, dual_kernel
from theory.regimes import as_activation
from theory.sphere import sphere_average_expr
from theory.target_laws import get_law


@dataclass(frozen=True)
class ETFValues:
    """Regime-I values at the simplex ETF with the optimal beta; mpmath numbers at ``dps`` plus exact sympy forms.

    ``*_exact`` fields are exact sympy expressions (None where abar is not known exactly for the law).

    Examples
    --------
    >>> v = etf_values("relu", 3, 3, dps=25)
    >>> mpmath.nstr(v.ones_Kinv_ones, 19)
    '4.926126323245372539'
    >>> v.c_d_exact, v.rho0
    (3/16, -1/2)
    """

    activation: str
    M: int
    d: int
    dps: int
    law: str
    rho0: sp.Rational
    abar: mpmath.mpf
    abar_method: str
    c_d: mpmath.mpf
    kappa_one: mpmath.mpf
    kappa_rho0: mpmath.mpf
    ones_Kinv_ones: mpmath.mpf
    beta_star: tuple
    c_target: mpmath.mpf
    ltilde_star: mpmath.mpf
    relative_loss: mpmath.mpf
    c_d_exact: sp.Expr
    kappa_rho0_exact: sp.Expr
    ones_Kinv_ones_exact: sp.Expr
    relative_loss_exact: sp.Expr
    beta_star_exact: sp.Expr | None
    ltilde_star_exact: sp.Expr | None
    source: str = "docs/model.md §5 'The ETF question'; derived in docs/derivations.md §7 'ETF values'"


def _mp(expr: sp.Expr, dps: int):
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(expr, dps + 15))


def etf_values(activation, M: int, d: int, dps: int = 30, law=None, *, scaling=None) -> ETFValues:
    """1^T K^-1 1, beta*, Ltilde*, C_target and Ltilde*/C_target at the simplex ETF (regime I), exact and at dps.

    The abar-dependent values (beta*, C_target, Ltilde*) are at the law's own abar; ``scaling`` may pass the
    law's ``scaling_moments(d, degree)`` already computed (then its precision bounds theirs).

    References: docs/model.md §5 'The ETF question'; derived in docs/derivations.md §7 'ETF values'.
    """
    act = as_activation(activation)
    check_neurons_dim(M, d)
    if isinstance(dps, bool) or not isinstance(dps, int) or not 5 <= dps <= 1000:
        raise InputError("dps", "precision must be an integer in 5..1000", got=dps)
    target_law = get_law(law)
    kern = dual_kernel(act)
    k1 = sp.nsimplify(kern.at_one)
    rho0 = sp.Rational(-1, M - 1) if M > 1 else sp.Integer(1)
    k_rho0 = tidy_number(kern.expr.subs(RHO, rho0)) if M > 1 else k1
    lam = tidy_number(k1 + (M - 1) * k_rho0) if M > 1 else k1
    if lam == 0:
        raise InputError("activation", "kappa(1) + (M-1) kappa(-1/(M-1)) = 0: K is singular at the ETF", got=act.name)
    ones = tidy_number(M / lam)
    c_d = sphere_average_expr(act, sp.Integer(d))
    rel = tidy_number(1 - c_d * ones)
    sm = target_law.scaling_moments(d, act.degree, dps=dps + 10) if scaling is None else scaling
    if (sm.dim, sm.degree, sm.law) != (d, act.degree, target_law.name):
        raise InputError("scaling", "scaling moments of another law, d or degree", got=(sm.law, sm.dim, sm.degree))
    abar_exact = sm.exact[0]
    with mpmath.workdps(dps + 10):
        abar = sm.abar
        c_mp, lam_mp = _mp(c_d, dps + 10), _mp(lam, dps + 10)
        beta = abar * c_mp / lam_mp
        c_target = abar**2 * c_mp
        rel_mp = _mp(rel, dps + 10)
        values = dict(
            abar=abar, c_d=c_mp, kappa_one=_mp(k1, dps + 10), kappa_rho0=_mp(k_rho0, dps + 10),
            ones_Kinv_ones=_mp(ones, dps + 10), c_target=c_target, ltilde_star=c_target * rel_mp, relative_loss=rel_mp,
        )
    with mpmath.workdps(dps):
        values = {k: +v for k, v in values.items()}
        beta_t = tuple(+beta for _ in range(M))
    return ETFValues(
        activation=act.name, M=M, d=d, dps=dps, law=target_law.name, rho0=rho0, abar_method=sm.abar_method,
        beta_star=beta_t, c_d_exact=c_d, kappa_rho0_exact=k_rho0, ones_Kinv_ones_exact=ones, relative_loss_exact=rel,
        beta_star_exact=None if abar_exact is None else tidy_number(abar_exact * c_d / lam),
        ltilde_star_exact=None if abar_exact is None else tidy_number(abar_exact**2 * c_d * rel),
        **values,
    )


@dataclass(frozen=True)
class ETFClosedForm:
    """Regime-I closed forms at the simplex ETF as mpmath numbers at ``dps`` digits (no sympy on the way):
    c_d, kappa(1), kappa(rho0), lambda = kappa(1) + (M-1) kappa(rho0), 1^T K^-1 1 = M / lambda and the relative
    loss 1 - c_d M / lambda. ``relative_loss_exact_zero`` is True when that loss is exactly 0 (decided by sympy
    only when the number is too small to tell, e.g. M = 2, d = 1 for ReLU)."""

    M: int
    d: int
    dps: int
    c_d: mpmath.mpf
    kappa_one: mpmath.mpf
    kappa_rho0: mpmath.mpf
    lam: mpmath.mpf
    ones_Kinv_ones: mpmath.mpf
    relative_loss: mpmath.mpf
    relative_loss_exact_zero: bool


def etf_closed_form_mp(activation, M: int, d: int, dps: int = 30) -> ETFClosedForm:
    """The numbers of ``etf_values`` without its exact sympy forms: kappa by theory.kernels' lambdified closed
    form (guarded), c_d by theory.regimes' lambdified Gamma ratio, in mpmath with the guard digits that the
    cancellation in 1 - c_d M / lambda needs (measured, then recomputed with that many extra digits).

    Examples
    --------
    >>> v = etf_closed_form_mp("relu", 3, 3, dps=25)
    >>> mpmath.nstr(v.ones_Kinv_ones, 19)
    '4.926126323245372539'
    >>> etf_closed_form_mp("relu", 2, 1).relative_loss_exact_zero   # c_1 = 1/4, lambda = 1/2
    True
    """
    from theory.regimes import sphere_average_value

    act = as_activation(activation)
    check_neurons_dim(M, d)
    kern = dual_kernel(act)
    extra = 10
    while True:
        work = dps + extra
        with mpmath.workdps(work):
            k1 = kern.mp(1, work)
            kr = kern.mp(mpmath.mpf(-1) / (M - 1), work) if M > 1 else k1
            lam = k1 + (M - 1) * kr if M > 1 else k1
            if lam == 0:
                raise InputError("activation", "kappa(1) + (M-1) kappa(-1/(M-1)) = 0: K is singular at the ETF",
                                 got=act.name)
            c_d = sphere_average_value(act, d, work)
            ones = M / lam
            rel = 1 - c_d * ones
        lost = 0 if rel == 0 else max(0, int(-mpmath.log10(abs(rel))) + 1)
        if lost + 10 <= extra or extra > dps + 10:
            break
        extra = lost + 10
    exact_zero = False
    if rel == 0 or lost > dps:  # numerically zero: decide exactly (rare, cheap for these small cases)
        rel_exact = tidy_number(1 - sphere_average_expr(act, sp.Integer(d)) * M / _lambda_exact(act, M))
        exact_zero = rel_exact == 0
        if exact_zero:
            rel = mpmath.mpf(0)
    with mpmath.workdps(dps):
        return ETFClosedForm(M, d, dps, +c_d, +k1, +kr, +lam, +ones, +rel, exact_zero)


def _lambda_exact(act, M: int) -> sp.Expr:
    kern = dual_kernel(act)
    k1 = sp.nsimplify(kern.at_one)
    if M == 1:
        return k1
    return k1 + (M - 1) * kern.expr.subs(RHO, sp.Rational(-1, M - 1))


@dataclass(frozen=True)
class TiltedValue:
    """Regime II along the equal-tilt family: every v^_j = cos(t) m^ + sin(t) s_j, s_j a simplex ETF in m^perp.

    Ltilde*(t) = C - b(t)^2 M / (kappa(1) + (M-1) kappa(rho(t))), b(t) = abar mu_0^2 + mu_1^2 ||m|| cos t,
    rho(t) = cos^2 t - sin^2 t / (M-1), C = abar^2 mu_0^2 + mu_1^2 ||m||^2. ``angle`` = t (t = pi/2: no tilt).
    """

    activation: str
    M: int
    abar: mpmath.mpf
    tilt_norm: mpmath.mpf
    angle: mpmath.mpf
    value: mpmath.mpf
    constant: mpmath.mpf
    dps: int
    source: str = ("derived in docs/derivations.md §7 'ETF values' (tilted family); "
                   "docs/model.md §4 'The mean-field objective' (II)")


def tilted_frame(M: int, d: int, angle: float) -> np.ndarray:
    """Unit rows cos(t) e_1 + sin(t) s_j, s_j the simplex ETF of M vectors in span(e_2, ..., e_d) (needs M <= d)."""
    check_neurons_dim(M, d - 1 if d > 1 else 1)
    if d < 2:
        raise InputError("dim", "the tilted family needs d >= 2", got=d)
    s = simplex_etf(M, d - 1)
    return np.hstack([np.full((M, 1), np.cos(angle)), np.sin(angle) * s])


def tilted_value(activation, M: int, abar, tilt_norm, angle, dps: int = 30) -> TiltedValue:
    """Ltilde* along the equal-tilt family (regime II), exact formula evaluated at ``dps`` digits.

    Examples
    --------
    >>> v = tilted_value("relu", 3, 1, 0, mpmath.pi / 2, dps=20)   # no tilt, m = 0: d -> infinity ETF value
    >>> mpmath.nstr(v.value * 2 * mpmath.pi, 11)   # relative loss 1 - 4.9261263.../(2 pi)
    '0.21598264536'
    """
    act = as_activation(activation)
    if isinstance(M, bool) or not isinstance(M, int) or M < 1:
        raise InputError("neurons", "M must be an integer >= 1", got=M)
    kern = dual_kernel(act)
    with mpmath.workdps(dps + 10):
        mu0 = _mp(act.hermite_coefficient(0) ** 2, dps + 10)
        mu1 = _mp(act.hermite_coefficient(1) ** 2, dps + 10)
        a, m, t = mpmath.mpf(abar), mpmath.mpf(tilt_norm), mpmath.mpf(angle)
        rho = mpmath.cos(t) ** 2 - (mpmath.sin(t) ** 2 / (M - 1) if M > 1 else 0)
        lam = kern.mp(1, dps + 10) + (M - 1) * kern.mp(rho, dps + 10)
        b = a * mu0 + mu1 * m * mpmath.cos(t)
        const = a * a * mu0 + mu1 * m * m
        value = const - b * b * M / lam
    with mpmath.workdps(dps):
        return TiltedValue(act.name, M, +a, +m, +t, +value, +const, dps)


def best_tilt(activation, M: int, abar, tilt_norm, dps: int = 30, grid: int = 400) -> TiltedValue:
    """The tilt angle t in [0, pi/2] minimising Ltilde* along the family (grid, then golden section at dps)."""
    ts = np.linspace(0.0, np.pi / 2, grid + 1)
    vals = [float(tilted_value(activation, M, abar, tilt_norm, t, dps=15).value) for t in ts]
    i = int(np.argmin(vals))
    lo, hi = ts[max(i - 1, 0)], ts[min(i + 1, grid)]
    with mpmath.workdps(dps + 10):
        lo, hi = mpmath.mpf(lo), mpmath.mpf(hi)
        g = (mpmath.sqrt(5) - 1) / 2
        f = lambda t: tilted_value(activation, M, abar, tilt_norm, t, dps + 10).value
        while hi - lo > mpmath.mpf(10) ** (-(dps // 2 + 2)):
            x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
            if f(x1) < f(x2):
                hi = x2
            else:
                lo = x1
        t = (lo + hi) / 2
    return tilted_value(activation, M, abar, tilt_norm, t, dps)

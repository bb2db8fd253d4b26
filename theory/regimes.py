"""One entry point for the three target regimes of the mean-field objective (docs/model.md §4).

* 'I'   isotropic: b(v^) = abar c_d, C = abar^2 c_d (exact at finite d for rotation-invariant laws);
* 'II'  isotropic plus a linear tilt m (d -> infinity): b(v^) = abar mu_0^2 + mu_1^2 <m, v^>;
* 'III' i.i.d. non-Gaussian entries: orientation dependence through sum_i v_i^4 at order 1/d^2.
"""

from __future__ import annotations

from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from theory.activations import Activation, get_activation
from theory.anisotropic import AnisotropicSummary
from theory.errors import InputError
from theory.sphere import check_dim, sphere_average_expr
from theory.summaries import IsotropicSummary, LinearTiltSummary, TargetSummary
from theory.target_laws import TargetLaw, get_law

REGIMES = ("I", "II", "III")


def as_activation(activation) -> Activation:
    """Accept an Activation or its spelling; only positively homogeneous ones have scaling factors."""
    act = get_activation(activation) if isinstance(activation, str) else activation
    if not isinstance(act, Activation):
        raise InputError("activation", "the target regimes need a positively homogeneous activation "
                         "(relu, leaky_relu(s), abs, step, relu^k); a general piecewise polynomial has no scaling factor",
                         got=getattr(act, "name", act))
    return act


# Digits of c_d a summary holds; its constant_mp / b_mp recompute c_d when asked for more.
SUMMARY_DPS = 40


@lru_cache(maxsize=None)
def sphere_average_value(act: Activation, d: int, dps: int = 40):
    """c_d(sigma) from the exact closed form of theory.sphere.sphere_average_expr, evaluated in mpmath (no sympy
    per call) with 10 guard digits, as an mpmath number at ``dps`` digits:

        c_d = ((p + q)/2)^2 (E|t|^n)^2 2^n (d/2)_n,   E|t|^n = Gamma(d/2) Gamma((n+1)/2) / (sqrt(pi) Gamma((d+n)/2)).
    """
    check_dim(d)
    n = act.degree
    with mpmath.workdps(dps + 10):
        p, q = (mpmath.mpf(int(sp.Rational(v).p)) / int(sp.Rational(v).q) for v in (act.p, act.q))
        half = mpmath.mpf(d) / 2
        abs_moment = mpmath.gamma(half) * mpmath.gamma(mpmath.mpf(n + 1) / 2) / (
            mpmath.sqrt(mpmath.pi) * mpmath.gamma(half + mpmath.mpf(n) / 2))
        value = ((p + q) / 2) ** 2 * abs_moment**2 * 2**n * mpmath.rf(half, n)
    with mpmath.workdps(dps):
        return +value


def regime_summary(regime: str, activation, dim: int, *, law=None, abar=None, tilt=None) -> TargetSummary:
    """The TargetSummary of a regime: what Ltilde needs (b(v^), C_target) from the target.

    abar defaults to E[||w||^n] under ``law`` (default 'gaussian'). ``tilt`` (regime II) is the vector m.

    References: docs/model.md §4; regime III derived here (theory.anisotropic).

    Examples
    --------
    >>> s = regime_summary("I", "relu", 3)
    >>> round(s.constant() / float(s.abar) ** 2, 15)   # c_3 = 3/16
    0.1875
    >>> b = regime_summary("II", "relu", 2, abar=1.0, tilt=(0.5, 0.0)).b(np.array([[1.0, 0.0]]))[0]
    >>> bool(abs(b - (1 / (2 * np.pi) + 0.5 / 4)) < 1e-15)    # abar mu_0^2 + mu_1^2 <m, v^>
    True
    >>> regime_summary("IV", "relu", 3)
    Traceback (most recent call last):
    ...
    theory.errors.InputError: argument regime: expected one of I, II, III (got 'IV')
    """
    key = str(regime).strip().upper()
    if key not in REGIMES:
        raise InputError("regime", "expected one of I, II, III", got=regime)
    act = as_activation(activation)
    d = check_dim(dim)
    target_law: TargetLaw = get_law(law)
    if abar is None:
        abar_value = float(target_law.norm_moment(d, act.degree, dps=20))
    else:
        abar_value = float(abar)
        if not np.isfinite(abar_value):
            raise InputError("abar", "expected a finite real number", got=abar)
    if key == "I":
        return IsotropicSummary(act, d, abar_value, sphere_average_value(act, d, SUMMARY_DPS), SUMMARY_DPS)
    if key == "II":
        if tilt is None:
            raise InputError("tilt", "regime II needs the tilt vector m (d numbers)")
        m = tuple(float(x) for x in np.ravel(np.asarray(tilt, dtype=float)))
        return LinearTiltSummary(act, d, abar_value, m)
    mu4_sq = float(act.hermite_coefficient(4) ** 2)
    return AnisotropicSummary(act, d, abar_value, sphere_average_value(act, d, SUMMARY_DPS), float(target_law.kappa4),
                              mu4_sq, sphere_avg_digits=SUMMARY_DPS)


def rademacher_b_exact(activation, unit: np.ndarray) -> float:
    """b(v^) = 2^-d sum_{s in {+-1}^d} kappa(<s, v^>/sqrt d) for Rademacher entries (||w|| = 1), by enumeration.

    An independent check of regime III (feasible for d <= 20).

    Examples
    --------
    >>> rademacher_b_exact("relu", np.array([1.0]))   # (kappa(1) + kappa(-1)) / 2 = c_1
    0.25
    """
    from theory.kernels import dual_kernel

    act = as_activation(activation)
    v = np.asarray(unit, dtype=float)
    d = v.size
    if d > 20:
        raise InputError("unit", "enumeration of 2^d sign vectors needs d <= 20", got=d)
    signs = 1 - 2 * ((np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1)
    rho = signs @ (v / np.linalg.norm(v)) / np.sqrt(d)
    return float(np.mean(dual_kernel(act).numpy(rho)))

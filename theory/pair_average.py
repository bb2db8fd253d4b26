"""Pair averages on the sphere: Phi_d(rho) = E_w^[kappa(<w^, u>) kappa(<w^, v>)], <u, v> = rho, w^ uniform on S^{d-1}.

Two quadratures in different coordinates (they share no nodes, so agreement checks both):

* angles: w^ = cos(th) u + sin(th) omega, omega uniform on the sphere of u^perp and cos(ph) = <omega, v_perp>:
  Phi = Z_d Z_{d-1} int_0^pi int_0^pi kappa(cos th) kappa(rho cos th + sqrt(1-rho^2) sin th cos ph)
        sin(th)^(d-2) sin(ph)^(d-3) dph dth,  Z_k = Gamma(k/2) / (sqrt(pi) Gamma((k-1)/2));
* disc: the projection (x, y) of w^ onto span(u, v) has density Gamma(d/2) / (pi Gamma(d/2-1)) (1-r^2)^(d/2-2) on
  the unit disc; with r = sin(psi) the weight becomes sin(psi) cos(psi)^(d-3) dpsi dph.

The integrands are smooth except at w^ = +-v (a cone point), so both use composite Gauss-Legendre panels graded
geometrically towards those points. d = 1, 2 are handled exactly (two atoms; the circle).

References: derived here (docs/derivations.md, "pair average"); needed by theory.finite_n.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from theory.activations import Activation
from theory.errors import InputError
from theory.kernels import dual_kernel
from theory.sphere import check_dim

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(20)


def _graded_panels(a: float, b: float, towards: str, levels: int = 14, ratio: float = 0.2) -> list[tuple[float, float]]:
    """Panels of [a, b] shrinking geometrically towards the end ``towards`` ('a', 'b', 'both' or 'none')."""
    if b - a <= 0:
        return []
    if towards == "none":
        return [(a, b)]
    if towards == "both":
        mid = (a + b) / 2
        return _graded_panels(a, mid, "a", levels, ratio) + _graded_panels(mid, b, "b", levels, ratio)
    cuts = [ratio**k for k in range(levels)] + [0.0]
    if towards == "a":
        pts = [a + (b - a) * c for c in reversed(cuts)]
    else:
        pts = [b - (b - a) * c for c in cuts]
    return list(zip(pts[:-1], pts[1:]))


def _rule(panels: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([(lo + hi) / 2 + (hi - lo) / 2 * _GL_NODES for lo, hi in panels])
    w = np.concatenate([(hi - lo) / 2 * _GL_WEIGHTS for lo, hi in panels])
    return x, w


def _log_z(k: int) -> float:
    """log of Gamma(k/2) / (sqrt(pi) Gamma((k-1)/2)), the density constant of <w^, e_1> on S^{k-1}."""
    return math.lgamma(k / 2) - 0.5 * math.log(math.pi) - math.lgamma((k - 1) / 2)


def _check_rho(rho: float) -> float:
    r = float(rho)
    if not np.isfinite(r) or abs(r) > 1 + 1e-12:
        raise InputError("rho", "expected a correlation in [-1, 1]", got=rho)
    return min(max(r, -1.0), 1.0)


def _low_dim(kern, d: int, r: float) -> float:
    if d == 1:
        # w^ = +-e_1; unit vectors of R^1 have rho = +-1.
        return float((kern.numpy(1.0) * kern.numpy(r) + kern.numpy(-1.0) * kern.numpy(-r)) / 2)
    th_v = float(np.arccos(r))
    panels = []
    for lo, hi in [(0.0, th_v), (th_v, np.pi), (np.pi, np.pi + th_v), (np.pi + th_v, 2 * np.pi)]:
        panels += _graded_panels(lo, hi, "both")
    x, w = _rule(panels)
    return float(np.sum(w * kern.numpy(np.cos(x)) * kern.numpy(np.cos(x - th_v))) / (2 * np.pi))


@lru_cache(maxsize=4096)
def _pair_angles(act: Activation, d: int, r: float) -> float:
    kern = dual_kernel(act)
    if d <= 2:
        return _low_dim(kern, d, r)
    th_v = float(np.arccos(r))
    panels = []
    for lo, hi in [(0.0, th_v), (th_v, np.pi - th_v), (np.pi - th_v, np.pi)] if th_v <= np.pi / 2 else \
            [(0.0, np.pi - th_v), (np.pi - th_v, th_v), (th_v, np.pi)]:
        if hi - lo > 1e-15:
            panels += _graded_panels(lo, hi, "both")
    th, wth = _rule(panels)
    ph, wph = _rule(_graded_panels(0.0, np.pi, "both"))
    s = np.sqrt(max(0.0, 1 - r * r))
    arg = r * np.cos(th)[:, None] + s * np.sin(th)[:, None] * np.cos(ph)[None, :]
    inner = kern.numpy(arg) @ (wph * np.sin(ph) ** (d - 3))
    outer = np.sum(wth * kern.numpy(np.cos(th)) * np.sin(th) ** (d - 2) * inner)
    return float(np.exp(_log_z(d) + _log_z(d - 1)) * outer)


def pair_average(act: Activation, d: int, rho: float) -> float:
    """Phi_d(rho) = E_w^[kappa(<w^,u>) kappa(<w^,v>)] in float64 (angle coordinates, graded Gauss-Legendre).

    Phi_d(1) = E kappa(t)^2 and Phi is symmetric under the swap of u and v. About 1e-12 relative accuracy.

    References: derived here (docs/derivations.md, "pair average").

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> step = get_activation("step")   # kappa(cos ph) = (pi - |ph|) / (2 pi); on S^1, E kappa^2 = 1/12
    >>> round(pair_average(step, 2, 1.0), 13)
    0.0833333333333
    """
    check_dim(d)
    return _pair_angles(act, d, _check_rho(rho))


def pair_average_disc(act: Activation, d: int, rho: float) -> float:
    """Phi_d(rho) by the disc parametrisation (second, independent quadrature); d >= 3.

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> relu = get_activation("relu")
    >>> abs(pair_average_disc(relu, 5, 0.3) - pair_average(relu, 5, 0.3)) < 1e-11
    True
    """
    d = check_dim(d)
    if d < 3:
        raise InputError("dim", "the disc parametrisation needs d >= 3", got=d)
    r = _check_rho(rho)
    kern = dual_kernel(act)
    th_v = float(np.arccos(r))
    psi, wpsi = _rule(_graded_panels(0.0, np.pi / 2, "b"))
    cuts = sorted({0.0, th_v, np.pi, np.pi + th_v, 2 * np.pi})
    panels = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        if hi - lo > 1e-15:
            panels += _graded_panels(lo, hi, "both")
    ph, wph = _rule(panels)
    rad = np.sin(psi)[:, None]
    f = kern.numpy(rad * np.cos(ph)[None, :]) * kern.numpy(rad * np.cos(ph - th_v)[None, :])
    weight = wpsi * np.sin(psi) * np.cos(psi) ** (d - 3)
    total = float(weight @ (f @ wph))
    log_c = math.lgamma(d / 2) - math.log(math.pi) - math.lgamma(d / 2 - 1)
    return float(np.exp(log_c) * total)


def pair_average_mc(act: Activation, d: int, rho: float, n: int, rng: np.random.Generator) -> tuple[float, float]:
    """Monte Carlo estimate of Phi_d(rho) and its standard error from n uniform points on S^{d-1}."""
    d = check_dim(d)
    r = _check_rho(rho)
    kern = dual_kernel(act)
    g = rng.standard_normal((n, d))
    w = g / np.linalg.norm(g, axis=1, keepdims=True)
    u = np.zeros(d)
    u[0] = 1.0
    v = np.zeros(d)
    v[0] = r
    if d > 1:
        v[1] = np.sqrt(max(0.0, 1 - r * r))
    vals = kern.numpy(w @ u) * kern.numpy(w @ v)
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(n))


def pair_average_matrix(act: Activation, d: int, units: np.ndarray) -> np.ndarray:
    """P_jl = Phi_d(<v^_j, v^_l>) for the rows of ``units`` (M, d); equal correlations share one quadrature."""
    gram = np.clip(np.asarray(units, dtype=float) @ np.asarray(units, dtype=float).T, -1.0, 1.0)
    m = gram.shape[0]
    out = np.empty_like(gram)
    for j in range(m):
        for l in range(j, m):
            rho = 1.0 if j == l else round(float(gram[j, l]), 14)
            out[j, l] = out[l, j] = pair_average(act, d, rho)
    return out

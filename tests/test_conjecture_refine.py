"""Batched Riemannian L-BFGS and the mpmath polish, against known optima (closed forms)."""

import mpmath
import numpy as np
import pytest

from conjecture.cost import ReducedCost
from conjecture.frames import random_frames
from conjecture.manifold import SphereProduct
from conjecture.polish import polish
from conjecture.refine import refine
from theory.etf_values import best_tilt, etf_values
from theory.regimes import regime_summary


def test_manifold_retraction_and_transport():
    rng = np.random.default_rng(0)
    man = SphereProduct(4, 3)
    x = man.random(rng, 5)
    v = man.project(x, rng.standard_normal(x.shape))
    y = man.retract(x, v)
    assert np.allclose(np.linalg.norm(y, axis=-1), 1.0, atol=1e-15)
    w = man.transport(y, v)
    assert np.max(np.abs(np.sum(w * y, axis=-1))) < 1e-14


@pytest.mark.parametrize("M,d", [(3, 2), (4, 3), (5, 6)])
def test_refine_finds_etf_value(M, d):
    s = regime_summary("I", "relu", d, abar=1.0)
    res = refine(ReducedCost(s), random_frames(np.random.default_rng(M), 16, M, d))
    ev = etf_values("relu", M, d, dps=20)
    etf = float(ev.ltilde_star / ev.abar**2)  # theory's value is for the law's abar; F scales as abar^2
    # float64 F has ~1e-16 C rounding; the L-BFGS stops at ||grad|| ~1e-10, i.e. |F - F*| ~ 1e-20: 1e-13 C is safe
    assert abs(res.values.min() - etf) < 1e-13 * s.constant()
    G = res.points[res.best] @ res.points[res.best].T
    assert np.allclose(G[~np.eye(M, dtype=bool)], -1 / (M - 1), atol=1e-6)


def test_refine_regime2_tilted_optimum():
    # known optimum at small ||m||: the equal-tilt ETF (theory.etf_values.best_tilt, golden section in mpmath)
    M, d, r = 3, 4, 0.3
    m = np.zeros(d)
    m[0] = r
    s = regime_summary("II", "relu", d, abar=1.0, tilt=m)
    res = refine(ReducedCost(s), random_frames(np.random.default_rng(0), 32, M, d))
    known = float(best_tilt("relu", M, 1.0, r, dps=20).value)
    assert abs(res.values.min() - known) < 1e-12


def test_polish_reproduces_closed_form_to_30_digits():
    M, d = 3, 2
    s = regime_summary("I", "relu", d, abar=1.0)
    x = random_frames(np.random.default_rng(5), 4, M, d)
    res = refine(ReducedCost(s), x)
    pol = polish(res.points[res.best], s, dps=35)
    ev = etf_values("relu", M, d, dps=45)
    with mpmath.workdps(45):
        ref = ev.ltilde_star / ev.abar**2  # F scales as abar^2; here abar = 1
        diff = abs(mpmath.mpf(pol.value) - ref) / ref
        ones = (s.constant_mp(45) - mpmath.mpf(pol.value)) / s.b_mp([1.0, 0.0], 45) ** 2
    # 35 digits requested; c_d is carried to 40 digits: 1e-30 relative leaves 5 digits of margin
    assert diff < mpmath.mpf(10) ** -30
    assert mpmath.nstr(ones, 19) == "4.926126323245372539"  # MODEL.md section 5
    assert pol.hessian.zero == 1 and pol.hessian.negative == 0  # one rotation, everything else curved upwards


def test_hessian_zero_count_is_orbit_dimension():
    # the ETF orbit under O(d) has dimension d(d-1)/2 - (d-M+1)(d-M)/2
    M, d = 4, 4
    s = regime_summary("I", "relu", d, abar=1.0)
    res = refine(ReducedCost(s), random_frames(np.random.default_rng(1), 4, M, d))
    pol = polish(res.points[res.best], s, dps=30)
    assert pol.converged
    assert pol.hessian.zero == d * (d - 1) // 2 - (d - M + 1) * (d - M) // 2
    assert pol.hessian.negative == 0

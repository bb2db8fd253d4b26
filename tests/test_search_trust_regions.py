"""The trust-region phase of the frame search and its rotation-free Hessian, against known optima."""

import numpy as np
import pytest

from conjecture.cost import ReducedCost
from conjecture.frames import random_frames
from conjecture.manifold import SphereProduct
from conjecture.refine import refine
from theory.etf_values import etf_values
from theory.regimes import regime_summary


def test_horizontal_projection_removes_rotations_only():
    rng = np.random.default_rng(0)
    man = SphereProduct(6, 4)
    x = man.random(rng, 3)
    proj = man.horizontal(x)
    a = rng.standard_normal((3, 4, 4))
    rot = x @ np.swapaxes(a - np.swapaxes(a, -1, -2), -1, -2)  # x A^T, A skew: tangent to the orbit
    v = man.project(x, rng.standard_normal(x.shape))
    h = proj(v)
    assert man.norm(proj(rot)).max() < 1e-13 * man.norm(rot).min()
    assert np.abs(proj(h) - h).max() < 1e-13  # a projection
    assert np.abs(man.inner(h, rot)).max() < 1e-13  # orthogonal to the orbit
    assert np.abs(np.sum(h * x, axis=-1)).max() < 1e-14  # still tangent to the spheres
    assert np.allclose(proj(v[1:], np.array([1, 2])), h[1:], atol=1e-15)  # the row-subset form agrees


@pytest.mark.parametrize("M,d", [(8, 7), (6, 6)])
def test_search_converges_fully_to_etf(M, d):
    # M <= d + 1: the simplex ETF value is the known optimum (theory.etf_values); every start must reach
    # ||grad|| <= gtol (the trust-region phase converges quadratically), the best one the ETF value
    s = regime_summary("I", "relu", d, abar=1.0)
    res = refine(ReducedCost(s), random_frames(np.random.default_rng(M + d), 8, M, d), gtol=1e-10, max_iter=300)
    ev = etf_values("relu", M, d, dps=20)
    etf = float(ev.ltilde_star / ev.abar**2)
    assert np.all(res.converged) and np.all(res.grad_norms <= 1e-10)
    # float64 F carries ~1e-16 C rounding; at ||grad|| <= 1e-10 the value error is ~1e-20: 1e-13 C is safe
    assert abs(res.values.min() - etf) < 1e-13 * s.constant()


def test_nonneg_search_reaches_etf_value():
    # beta >= 0 has no Hessian here (L-BFGS only); the ETF's optimal beta is positive, so F_+ = F at the ETF
    M, d = 4, 3
    s = regime_summary("I", "relu", d, abar=1.0)
    res = refine(ReducedCost(s, "nonneg"), random_frames(np.random.default_rng(2), 16, M, d))
    ev = etf_values("relu", M, d, dps=20)
    assert abs(res.values.min() - float(ev.ltilde_star / ev.abar**2)) < 1e-12 * s.constant()


def test_hessian_data_rows():
    # gathered rows and overwritten rows reproduce the full batch's Hessian-vector products
    s = regime_summary("I", "relu", 5, abar=1.0)
    cost = ReducedCost(s)
    rng = np.random.default_rng(2)
    man = SphereProduct(6, 5)
    x = man.random(rng, 4)
    xi = man.project(x, rng.standard_normal(x.shape))
    ev, data = cost.evaluate_with_hessian(x.copy())
    full = data.apply(xi)
    _, hess = cost.hessian_operator(x)
    assert np.allclose(hess(xi[[1, 3]], np.array([1, 3])), full[[1, 3]], atol=1e-15)
    sub = data.take(np.array([2]))
    assert np.allclose(sub.apply(xi[[2]]), full[[2]], atol=1e-15)
    data.put(np.array([0]), sub)  # start 0 now holds start 2's data
    assert np.allclose(data.apply(xi[[2, 1, 2, 3]])[0], full[2], atol=1e-15)


def test_dpotri_inverse_matches_linalg_inv():
    from conjecture.cost import _POTRI_MIN, _cholesky_inverse
    rng = np.random.default_rng(3)
    for m in (_POTRI_MIN - 1, _POTRI_MIN, 40):
        a = rng.standard_normal((3, m, m))
        K = a @ np.swapaxes(a, -1, -2) + m * np.eye(m)
        assert np.allclose(_cholesky_inverse(np.linalg.cholesky(K)), np.linalg.inv(K), rtol=0, atol=1e-13)


def test_orbit_stiffener_is_zero_on_horizontal_and_positive_on_orbit():
    from conjecture.refine import _Model
    s = regime_summary("I", "relu", 5, abar=1.0)
    rng = np.random.default_rng(5)
    man = SphereProduct(7, 5)
    x = man.random(rng, 2)
    _, data = ReducedCost(s).evaluate_with_hessian(x.copy())
    plain, stiff = _Model(data, x, None), _Model(data, x, np.array([0.3, 2.0]))
    h = man.horizontal(x)(man.project(x, rng.standard_normal(x.shape)))
    assert np.allclose(stiff(h), plain(h), atol=1e-13)  # the model is unchanged off the orbit
    a = rng.standard_normal((2, 5, 5))
    rot = x @ np.swapaxes(a - np.swapaxes(a, -1, -2), -1, -2)
    extra = man.inner(rot, stiff(rot) - plain(rot))
    assert np.all(extra > 0.1 * np.array([0.3, 2.0]) * man.inner(rot, rot))  # curvature ~ mu (l_a + l_b) added
    u, w = (man.project(x, rng.standard_normal(x.shape)) for _ in range(2))
    d_uw = man.inner(u, stiff(w) - plain(w))
    assert np.allclose(d_uw, man.inner(w, stiff(u) - plain(u)), atol=1e-13)  # symmetric


def test_single_precision_model_agrees():
    # the float32 model (used for large frames) reproduces the float64 Hessian products to single-precision accuracy
    from conjecture.refine import _Model
    s = regime_summary("I", "relu", 15, abar=1.0)
    rng = np.random.default_rng(6)
    man = SphereProduct(16, 15)
    x = man.random(rng, 3)
    _, data = ReducedCost(s).evaluate_with_hessian(x.copy())
    model = _Model(data, x, np.full(3, 0.5))
    v = man.project(x, rng.standard_normal(x.shape))
    h64, h32 = model(v), model.single()(v)
    assert h32.dtype == np.float64
    assert np.all(man.norm(h32 - h64) <= 1e-5 * man.norm(h64))


def test_stiffened_search_reaches_etf_at_d24():
    # the stiffened trust regions with the float32 model (M d = 600) reach the ETF value at M = d + 1 = 25 from
    # Haar starts, every start to gtol = 1e-10
    M, d = 25, 24
    s = regime_summary("I", "relu", d, abar=1.0)
    res = refine(ReducedCost(s), random_frames(np.random.default_rng(4), 4, M, d), gtol=1e-10, max_iter=300)
    ev = etf_values("relu", M, d, dps=20)
    assert np.all(res.converged)
    assert abs(res.values.min() - float(ev.ltilde_star / ev.abar**2)) < 1e-13 * s.constant()
    G = res.points[res.best] @ res.points[res.best].T
    assert np.allclose(G[~np.eye(M, dtype=bool)], -1 / (M - 1), atol=1e-6)

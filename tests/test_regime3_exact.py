"""Regime III exactly (theory.exact_anisotropic, theory.point_laws): the exact objective against its closed forms,
the O(d^-2) expansion, Monte Carlo and mpmath; exact gradients by Taylor slopes; the ball enclosures."""

from __future__ import annotations

from math import comb

import mpmath
import numpy as np
import pytest
from flint import arb

from conjecture.ball_jets import Pair
from conjecture.ball_objective import ball_objective
from conjecture.b_maximum import chart_b
from conjecture.cost import ReducedCost
from conjecture.etf_rotation_search import value_and_lie_gradient, _kinv
from theory.activations import get_activation
from theory.errors import InputError
from theory.etf import simplex_etf
from theory.exact_anisotropic import exact_summary
from theory.kernels import dual_kernel
from theory.point_laws import point_count, point_law
from theory.regimes import rademacher_b_exact, regime_summary
from theory.target_laws import get_law

RELU = get_activation("relu")


def _unit(rng, n, d):
    v = rng.standard_normal((n, d))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("d", [2, 3, 7])
def test_rademacher_closed_forms(d, rng):
    """b = 2^-d sum_s kappa(<s, v>/sqrt d) (independent enumeration) and C = sum_k C(d,k) kappa(1 - 2k/d) / 2^d."""
    s = exact_summary("relu", d, "rademacher")
    V = _unit(rng, 3, d)
    assert np.allclose(s.b(V), [rademacher_b_exact("relu", v) for v in V], atol=1e-15, rtol=0)
    k = dual_kernel(RELU).numpy
    C = sum(comb(d, j) * float(k(np.array(1 - 2 * j / d))) for j in range(d + 1)) / 2**d
    assert abs(s.constant() - C) < 1e-15
    assert s.objective == "exact" and s.error_estimate is None


def test_difference_to_the_expansion_scales_like_d_cubed():
    """exact - O(d^-2) expansion: least-squares slope of log|diff| on log d for d = 6..12 near -3 (C and the
    anisotropy b(e1) - b(diag)); at large d, from the closed forms b(e1) = kappa_e(1/sqrt d), the local slope -> -3."""
    ds = list(range(6, 13))
    dC, dA = [], []
    for d in ds:
        e, t = exact_summary("relu", d, "rademacher"), regime_summary("III", "relu", d, abar=1.0, law="rademacher")
        e1, dg = np.eye(d)[:1], np.full((1, d), d ** -0.5)
        dC.append(abs(e.constant() - t.constant()))
        dA.append(abs((e.b(e1) - e.b(dg) - t.b(e1) + t.b(dg))[0]))
    for diffs in (dC, dA):
        slope = np.polyfit(np.log(ds), np.log(diffs), 1)[0]
        assert -3.5 < slope < -2.9, slope
    kern = dual_kernel(RELU)

    def gap_e1(d):  # kappa_e(1/sqrt d) - [c_d + mu_4^2 kappa_4 (1 - 3/(d+2)) / d^2], at 40 digits
        t = regime_summary("III", "relu", d, abar=1.0, law="rademacher")
        with mpmath.workdps(40):
            r = 1 / mpmath.sqrt(d)
            exact = (kern.mp(r, 40) + kern.mp(-r, 40)) / 2
            return exact - t.sphere_avg_mp(40) - (-2) / (48 * mpmath.pi * d**2) * (1 - mpmath.mpf(3) / (d + 2))

    local = float(mpmath.log(gap_e1(200) / gap_e1(400)) / mpmath.log(2))
    assert 2.97 < local < 3.01, local


@pytest.mark.parametrize("law,se_factor", [("sparse_rademacher(1/4)", 4), ("uniform", 4), ("moments(m4=2, m6=5)", 4)])
def test_exact_b_against_monte_carlo(law, se_factor, rng):
    """E||w|| b(v) against the sample mean of ||w|| kappa(<w^, v>) over 200000 neurons: within 4 standard errors
    (the uniform cubature's own error, ~1e-9 at d = 4, is far below the Monte Carlo error)."""
    d = 4
    s = exact_summary("relu", d, law)
    v = np.array([0.3, -0.5, 0.7, 0.1])
    v /= np.linalg.norm(v)
    _, W = get_law(law).sample(200_000, d, rng)
    nw = np.linalg.norm(W, axis=1)
    ok = nw > 0
    vals = np.zeros(len(W))
    vals[ok] = nw[ok] * dual_kernel(RELU).numpy(W[ok] @ v / nw[ok])
    se = np.std(vals) / np.sqrt(len(W))
    assert abs(s.b(v[None])[0] * s.law_abar - np.mean(vals)) < se_factor * se  # b is normalised by E||w||
    if get_law(law).kind != "moments":  # E||w|| from the points equals the law's exact (or quadrature) value
        assert abs(s.law_abar - float(get_law(law).norm_moment(d, 1))) < 1e-8


def test_sphere_average_of_b_is_abar_c_d(rng):
    """The isotropic part is exact: the mean of b over Haar-random directions is abar c_d (= 1 at abar = 1)."""
    d = 5
    s, t = exact_summary("relu", d, "sparse_rademacher(1/2)"), regime_summary("III", "relu", d, abar=1.0)
    b = s.b(_unit(rng, 40_000, d))
    assert abs(b.mean() - float(t.sphere_avg)) < 4 * b.std() / np.sqrt(len(b))


def test_gradients_by_taylor_slopes(rng):
    """b_grad of the exact summary, the reduced cost's Riemannian gradient with it, and the SO(d) Lie gradient of
    the ETF orientation search: the first-order Taylor remainder falls like t^2 (slope > 1.8)."""
    d, M = 4, 4
    s = exact_summary("relu", d, "rademacher")
    ts = np.array([1e-2, 5e-3, 2.5e-3, 1.25e-3])

    def slope(f, df_dir):
        rem = [abs(f(t) - f(0) - t * df_dir) for t in ts]
        return np.polyfit(np.log(ts), np.log(rem), 1)[0]

    u, xi = _unit(rng, 1, d)[0], rng.standard_normal(d)
    assert slope(lambda t: s.b((u + t * xi)[None])[0], s.b_grad(u[None])[0] @ xi) > 1.8
    cost = ReducedCost(s)
    x0 = _unit(rng, M, d)
    ev = cost.evaluate(x0[None])
    eta = rng.standard_normal((M, d))
    eta -= np.sum(eta * x0, axis=1, keepdims=True) * x0

    def F(t):
        x = x0 + t * eta
        return cost.evaluate((x / np.linalg.norm(x, axis=1, keepdims=True))[None]).value[0]

    assert slope(F, np.sum(ev.gradient[0] * eta)) > 1.8
    U, Kinv = simplex_etf(M, d), _kinv(s, M)
    R0 = np.linalg.qr(rng.standard_normal((d, d)))[0]
    _, G = value_and_lie_gradient(s, U, R0[None], Kinv)
    A = rng.standard_normal((d, d))
    S = A - A.T
    from scipy.linalg import expm

    assert slope(lambda t: value_and_lie_gradient(s, U, (R0 @ expm(t * S))[None], Kinv)[0][0],
                 np.sum(G[0] * S)) > 1.8


def test_mpmath_and_ball_enclosures_agree(rng):
    """b_mp, b_grad_mp (30 digits) and the arb ball of conjecture.ball_objective contain / match the float64 b."""
    d = 3
    s = exact_summary("relu", d, "sparse_rademacher(1/2)")
    v = _unit(rng, 1, d)[0]
    assert abs(float(s.b_mp(v, 30)) - s.b(v[None])[0]) < 1e-15
    assert np.allclose([float(x) for x in s.b_grad_mp(v, 30)], s.b_grad(v[None])[0], atol=1e-14, rtol=0)
    assert abs(float(s.constant_mp(30)) - s.constant()) < 1e-15
    obj = ball_objective(s, d)
    assert obj.b([arb(float(x)) for x in v]).overlaps(arb(float(s.b(v[None])[0]), 1e-15))
    assert obj.constant().overlaps(arb(s.constant(), 1e-15))
    with pytest.raises(InputError, match="cubature"):
        ball_objective("relu", 3, "uniform")


def test_box_jets_enclose_value_gradient_and_hessian(rng):
    """On a small box of the chart v = (1, x)/||(1, x)||, the Pair's enclosures contain b, its gradient and its
    Hessian at random points of the box (float64 values with finite differences, generous tolerances)."""
    d = 3
    s = exact_summary("relu", d, "rademacher")
    obj = ball_objective(s, d)
    c, h = np.array([0.6, 0.3]), 0.01
    pair = chart_b(obj, Pair.variables([arb(x) for x in c], [arb(0, h)] * 2))

    def f(x):
        u = np.array([1.0, *x])
        return s.b((u / np.linalg.norm(u))[None])[0]

    e = 1e-4
    for x in c + h * (2 * rng.random((3, 2)) - 1):
        assert pair.box.v.overlaps(arb(f(x), 1e-14))
        g = [(f(x + e * np.eye(2)[i]) - f(x - e * np.eye(2)[i])) / (2 * e) for i in range(2)]
        assert all(pair.box.g[i].overlaps(arb(g[i], 1e-8)) for i in range(2))
        H00 = (f(x + e * np.eye(2)[0]) - 2 * f(x) + f(x - e * np.eye(2)[0])) / e**2
        assert pair.box.hess(0, 0).overlaps(arb(H00, 1e-5))


def test_point_laws_use_the_symmetry():
    """One point per +- pair (2^(d-1) for Rademacher, (3^d - 1)/2 sparse); C from one point per B_d orbit; the
    enumeration refuses sizes beyond MAX_POINTS with one line naming the dimension."""
    assert point_law("rademacher", 6).points.shape == (32, 6) == (point_count("rademacher", 6), 6)
    sp = point_law("sparse_rademacher(1/2)", 4)
    assert len(sp.points) == point_count("sparse_rademacher(1/2)", 4) == 40
    assert len(sp.orbit_types()[0]) == 4  # 1, 2, 3 or 4 nonzero entries
    assert abs(sp.weights.sum() + sp.zero_weight - 1) < 1e-15
    with pytest.raises(InputError, match="argument dim"):
        point_law("sparse_rademacher(1/2)", 14)
    with pytest.raises(InputError, match="Gaussian law is regime I"):
        point_law("gaussian", 3)


def test_sparse_rademacher_law():
    """sparse_rademacher(p): unit variance, kappa_4 = 1/p - 3, exact E||w||; bad p refused with one line."""
    law = get_law("sparse_rademacher(1/4)")
    assert law.moment(2) == 1 and law.kappa4 == 1 and law.moment(0) == 1
    k = [comb(3, j) * 0.25**j * 0.75 ** (3 - j) * np.sqrt(j / (0.25 * 3)) for j in range(4)]
    assert abs(float(law.norm_moment(3, 1)) - sum(k)) < 1e-14
    for bad in ("sparse_rademacher(0)", "sparse_rademacher(3/2)", "sparse_rademacher(p)", "sparse_rademacher(1e-9)"):
        with pytest.raises(InputError) as err:
            get_law(bad)
        assert "\n" not in str(err.value) and "argument law" in str(err.value)

"""The reduced objective F(V): gradient by Taylor-remainder slope, value against theory's independent
implementation, the beta >= 0 variant against the cvxpy QP, and a singular K."""

import numpy as np
import pytest

from conjecture.cost import ReducedCost
from conjecture.manifold import SphereProduct
from conjecture.relax_qp import solve_beta_qp
from theory.errors import InputError
from theory.objective import reduced_objective
from theory.regimes import regime_summary


def _summaries():
    m = np.array([0.4, -0.2, 0.1, 0.0])
    return [regime_summary("I", "relu", 4, abar=1.0), regime_summary("II", "relu", 4, abar=1.0, tilt=m),
            regime_summary("I", "abs", 4, abar=1.0), regime_summary("III", "relu", 4, abar=1.0, law="rademacher")]


@pytest.mark.parametrize("summary", _summaries(), ids=["I-relu", "II-relu", "I-abs", "III-relu"])
def test_gradient_taylor_slope(summary):
    # f(R(x + t xi)) - f(x) - t <g, xi> = O(t^2): the log-log slope of the remainder must be ~2 (1 if g were wrong)
    rng = np.random.default_rng(3)
    man = SphereProduct(4, 4)
    x = man.random(rng, 1)
    xi = man.project(x, rng.standard_normal(x.shape))
    cost = ReducedCost(summary)
    ev = cost.evaluate(x)
    ts = np.logspace(-2, -4, 5)
    rem = [abs(cost.evaluate(man.retract(x, t * xi)).value[0] - ev.value[0] - t * man.inner(ev.gradient, xi)[0]) for t in ts]
    slope = np.polyfit(np.log(ts), np.log(rem), 1)[0]
    assert 1.8 < slope < 2.2, slope


def test_value_matches_theory_reduced_objective():
    rng = np.random.default_rng(0)
    for s in _summaries()[:2]:
        x = SphereProduct(5, 4).random(rng, 6)
        mine = ReducedCost(s).evaluate(x)
        ref = reduced_objective(x, s)
        # both are float64 evaluations of C - b^T K^-1 b with cond(K) < 1e4: agreement to 1e-12 relative to C
        assert np.allclose(mine.value, ref.value, rtol=0, atol=1e-12 * s.constant())
        assert np.allclose(mine.gradient, ref.gradient, atol=1e-10)


def test_nonneg_value_matches_cvxpy_qp():
    rng = np.random.default_rng(1)
    s = _summaries()[1]  # regime II: b varies with v, so some beta_j hit the constraint
    cost = ReducedCost(s, "nonneg")
    x = SphereProduct(4, 4).random(rng, 5)
    ev = cost.evaluate(x)
    for i in range(5):
        qp = solve_beta_qp(cost.kernel(x[i:i + 1])[0], s.b(x[i:i + 1])[0], s.constant(), nonneg=True)
        assert qp.verified
        # interior-point accuracy ~1e-8 relative; NNLS is exact up to rounding
        assert abs(qp.value - ev.value[i]) <= 1e-7 * s.constant()
        assert np.all(ev.beta[i] >= 0)


def test_repeated_neuron_singular_kernel():
    s = _summaries()[0]
    base = SphereProduct(3, 4).random(np.random.default_rng(2), 1)[0]
    doubled = np.vstack([base, base[:1]])[None]
    v3 = ReducedCost(s).evaluate(base[None]).value[0]
    v4 = ReducedCost(s).evaluate(doubled)
    # a repeated neuron adds nothing: the pseudo-inverse solution reproduces the 3-neuron value
    assert np.isfinite(v4.value[0]) and abs(v4.value[0] - v3) < 1e-12 * s.constant()


def test_bad_beta_mode():
    with pytest.raises(InputError, match="beta_mode"):
        ReducedCost(_summaries()[0], "positive")


@pytest.mark.parametrize("summary", _summaries(), ids=["I-relu", "II-relu", "I-abs", "III-relu"])
def test_hessian_taylor_slope(summary):
    # P_x grad(R(x + t xi)) - grad(x) - t Hess[xi] = O(t^2): slope ~2 (1 if the Hessian were wrong)
    rng = np.random.default_rng(4)
    man = SphereProduct(4, 4)
    x = man.random(rng, 1)
    xi = man.project(x, rng.standard_normal(x.shape))
    cost = ReducedCost(summary)
    ev, hess = cost.hessian_operator(x)
    hx = hess(xi)
    assert np.max(np.abs(np.sum(hx * x, axis=-1))) < 1e-14  # tangent
    ts = np.logspace(-2, -4, 5)
    rem = [man.norm(man.project(x, cost.evaluate(man.retract(x, t * xi)).gradient) - ev.gradient - t * hx)[0] for t in ts]
    slope = np.polyfit(np.log(ts), np.log(rem), 1)[0]
    assert 1.8 < slope < 2.2, slope


def test_hessian_symmetric_and_zero_on_rotations():
    # at the simplex ETF (a critical point) Hess is symmetric and annihilates the rotation orbit x -> x A (A = -A^T)
    from theory.etf import simplex_etf
    s = _summaries()[0]
    x = simplex_etf(4, 4)[None]
    rng = np.random.default_rng(5)
    man = SphereProduct(4, 4)
    ev, hess = ReducedCost(s).hessian_operator(x)
    u, v = (man.project(x, rng.standard_normal(x.shape)) for _ in range(2))
    assert abs(man.inner(u, hess(v))[0] - man.inner(v, hess(u))[0]) < 1e-12 * man.norm(u)[0] * man.norm(v)[0]
    a = rng.standard_normal((4, 4))
    rot = x @ (a - a.T)
    assert man.norm(hess(rot))[0] < 1e-12 * man.norm(rot)[0]


def test_cholesky_and_eigh_fallback_agree():
    # a batch mixing well-conditioned frames and a repeated neuron (singular K): the Cholesky rows and the eigh
    # pseudo-inverse row each reproduce theory's pinv-based reduced objective
    s = _summaries()[0]
    rng = np.random.default_rng(6)
    x = SphereProduct(4, 4).random(rng, 3)
    x[1, 3] = x[1, 0]
    cost = ReducedCost(s)
    ev = cost.evaluate(x)
    ref = reduced_objective(x, s)
    assert np.allclose(ev.value, ref.value, rtol=0, atol=1e-12 * s.constant())
    assert np.isinf(ev.condition[1]) or ev.condition[1] > 1e12  # the fallback reports the singular K
    K = cost.kernel(x[[0, 2]])
    assert np.allclose(ev.condition[[0, 2]], np.linalg.cond(K, 1), rtol=1e-8)

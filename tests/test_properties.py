"""Property tests (Hypothesis) of the symmetries of the losses.

* permutation of neurons (student, and target for L_N);
* a common rotation of all weights (and of the tilt m in regime II);
* positive rescaling for a degree-n homogeneous sigma: v_j -> c v_j, b_j -> b_j / c^n (same for (a_i, w_i));
* sign symmetry v_j -> -v_j when sigma is even (|t|), and a check that it is *not* a symmetry for ReLU.

Tolerances.  For L_N (numerics.population_loss) each evaluation carries an a-priori rounding bound
``error_bound``; two evaluations of mathematically equal quantities differ by at most the sum of their
bounds, plus, where the inputs are rounded (rotation, rescaling by a non-power of 2), the effect of
perturbing every weight by a few ulps, which the same bound already dominates (it allows (2d + 8) u
per cosine, the input rounding moves a cosine by at most 2(d + 2) u); hence ``2 (e1 + e2)`` there.
For Ltilde (theory.objective, float64, degree-1 activations with |p|, |q| <= 1, so Lip(kappa) <= 2):
each of the (M + 1)^2 terms is off by at most 2 (2d + 8) u times its size (cosine error times Lip),
so |Delta| <= 4 (M + 1)^2 (2d + 8) u * S with S = C + 2 sum|beta_j b_j| + (sum|beta_j|)^2 kappa(1).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theory.activations import get_activation
from theory.objective import ltilde
from theory.sphere import sphere_average_mp
from theory.summaries import IsotropicSummary, LinearTiltSummary

U = 2.0**-53
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEGREE_ONE = ("relu", "abs", "leaky_relu(1/10)")
HOMOGENEOUS = ("relu", "abs", "leaky_relu(1/10)", "relu^2", "step")


@st.composite
def network(draw, max_neurons: int = 5, max_dim: int = 5):
    """(seed, M, d, N): sizes and a seed; arrays are drawn from numpy with that seed (rows bounded away from 0)."""
    d = draw(st.integers(2, max_dim))
    M = draw(st.integers(1, max_neurons))
    N = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    return seed, M, d, N


def _arrays(seed: int, M: int, d: int, N: int):
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((M, d))
    W = rng.standard_normal((N, d)) / np.sqrt(d)
    b = rng.uniform(-1.0, 1.0, M)
    a = rng.uniform(-1.0, 2.0, N)
    return rng, a, W, b, V


def _rotation(rng, d: int) -> np.ndarray:
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return Q * np.sign(np.diag(R))


def _summary(act_name: str, d: int, tilt=None):
    act = get_activation(act_name)
    if tilt is None:
        return IsotropicSummary(act, d, 1.0, sphere_average_mp(act, d, dps=20))
    return LinearTiltSummary(act, d, 1.0, tuple(float(x) for x in tilt))


def _ltilde_tol(beta, V, summary) -> float:
    from theory.objective import unit_rows

    units, _ = unit_rows(V)
    k1 = float(summary.activation.second_moment())
    scale = abs(summary.constant()) + 2 * np.sum(np.abs(beta * summary.b(units))) + np.sum(np.abs(beta)) ** 2 * k1
    M, d = V.shape
    return 4 * (M + 1) ** 2 * (2 * d + 8) * U * scale


# -- Ltilde (theory.objective) ------------------------------------------------------------------------------
@SETTINGS
@given(network(), st.sampled_from(DEGREE_ONE), st.booleans())
def test_ltilde_permutation_and_rotation(net, act_name, tilted):
    seed, M, d, _ = net
    rng, _, _, beta, V = _arrays(seed, M, d, 1)
    tilt = rng.standard_normal(d) * 0.5 if tilted else None
    s = _summary(act_name, d, tilt)
    base = float(ltilde(beta, V, s))
    tol = _ltilde_tol(beta, V, s)
    perm = rng.permutation(M)
    assert abs(float(ltilde(beta[perm], V[perm], s)) - base) <= tol
    Q = _rotation(rng, d)
    s_rot = s if tilt is None else _summary(act_name, d, Q @ tilt)
    assert abs(float(ltilde(beta, V @ Q.T, s_rot)) - base) <= tol


@SETTINGS
@given(network(), st.sampled_from(DEGREE_ONE), st.floats(0.125, 8.0))
def test_ltilde_depends_on_directions_only(net, act_name, c):
    """Ltilde is written in scaling factors beta_j = b_j ||v_j||^n and unit directions: v_j -> c v_j is free."""
    seed, M, d, _ = net
    _, _, _, beta, V = _arrays(seed, M, d, 1)
    s = _summary(act_name, d)
    scales = np.full(M, c)
    assert abs(float(ltilde(beta, V * scales[:, None], s)) - float(ltilde(beta, V, s))) <= _ltilde_tol(beta, V, s)


@SETTINGS
@given(network(), st.booleans())
def test_ltilde_sign_flip_for_even_activation(net, tilted):
    seed, M, d, _ = net
    rng, _, _, beta, V = _arrays(seed, M, d, 1)
    tilt = rng.standard_normal(d) if tilted else None  # |t| has mu_1 = 0, so the tilt does not enter b(v)
    s = _summary("abs", d, tilt)
    flip = np.where(rng.random(M) < 0.5, -1.0, 1.0)
    assert abs(float(ltilde(beta, V * flip[:, None], s)) - float(ltilde(beta, V, s))) <= _ltilde_tol(beta, V, s)


# -- exact finite-N population loss (numerics.population_loss) ---------------------------------------------
def _loss():
    mod = pytest.importorskip("numerics.population_loss")
    return mod.exact_population_loss


@SETTINGS
@given(network(), st.sampled_from(HOMOGENEOUS))
def test_population_loss_permutations_and_rotation(net, act_name):
    loss = _loss()
    seed, M, d, N = net
    rng, a, W, b, V = _arrays(seed, M, d, N)
    r0 = loss(a, W, b, V, act_name)
    ps, pt = rng.permutation(M), rng.permutation(N)
    r1 = loss(a[pt], W[pt], b[ps], V[ps], act_name)
    assert abs(r1.value - r0.value) <= r0.error_bound + r1.error_bound
    Q = _rotation(rng, d)
    r2 = loss(a, W @ Q.T, b, V @ Q.T, act_name)
    assert abs(r2.value - r0.value) <= 2 * (r0.error_bound + r2.error_bound)


@SETTINGS
@given(network(), st.sampled_from(HOMOGENEOUS), st.floats(0.25, 4.0), st.integers(-3, 3))
def test_population_loss_positive_rescaling(net, act_name, c, k):
    """b_j sigma(<v_j, x>) is unchanged by v_j -> c v_j, b_j -> b_j / c^n (and likewise a_i, w_i)."""
    loss = _loss()
    seed, M, d, N = net
    _, a, W, b, V = _arrays(seed, M, d, N)
    n = get_activation(act_name).degree
    r0 = loss(a, W, b, V, act_name)
    exact = 2.0**k  # a power of two rescales without rounding
    r1 = loss(a / exact**n, W * exact, b / exact**n, V * exact, act_name)
    assert abs(r1.value - r0.value) <= r0.error_bound + r1.error_bound
    r2 = loss(a, W, b / c**n, V * c, act_name)
    assert abs(r2.value - r0.value) <= 2 * (r0.error_bound + r2.error_bound)


@SETTINGS
@given(network())
def test_population_loss_sign_flip_for_even_activation(net):
    loss = _loss()
    seed, M, d, N = net
    rng, a, W, b, V = _arrays(seed, M, d, N)
    flip_v = np.where(rng.random(M) < 0.5, -1.0, 1.0)
    flip_w = np.where(rng.random(N) < 0.5, -1.0, 1.0)
    r0 = loss(a, W, b, V, "abs")
    r1 = loss(a, W * flip_w[:, None], b, V * flip_v[:, None], "abs")
    assert abs(r1.value - r0.value) <= r0.error_bound + r1.error_bound


def test_sign_flip_is_not_a_symmetry_for_relu():
    """Control: the tests above can fail; for ReLU flipping one neuron changes L_N by far more than the bound."""
    loss = _loss()
    _, a, W, b, V = _arrays(7, 3, 4, 5)
    r0 = loss(a, W, b, V, "relu")
    flip = np.array([-1.0, 1.0, 1.0])
    r1 = loss(a, W, b, V * flip[:, None], "relu")
    assert abs(r1.value - r0.value) > 1e6 * (r0.error_bound + r1.error_bound)
    s = _summary("relu", 4)
    assert abs(float(ltilde(b, V * flip[:, None], s)) - float(ltilde(b, V, s))) > 1e6 * _ltilde_tol(b, V, s)

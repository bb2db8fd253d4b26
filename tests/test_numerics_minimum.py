"""min over theta of L_N: gradient (Taylor-remainder slope), agreement with theory, a known optimum."""

from __future__ import annotations

import numpy as np

from numerics.empirical_summary import EmpiricalSummary
from numerics.finite_minimum import gram_distance_to_etf, haar_rotation, minimise_finite_loss, reduced_finite_loss
from numerics.population_loss import exact_population_loss, prepare_target
from theory.etf import simplex_etf
from theory.objective import reduced_objective


def _target(rng, N=80, d=5):
    return prepare_target(np.ones(N), rng.standard_normal((N, d)) / np.sqrt(d), "relu")


def test_reduced_loss_matches_theory_reduced_objective(rng):
    target = _target(rng)
    V = rng.standard_normal((3, 5))
    value, beta, grad = reduced_finite_loss(V, target)
    ref = reduced_objective(V, EmpiricalSummary(target))
    # both are float64 evaluations of the same formula with different summation orders: 1e-12 relative
    assert abs(value - float(ref.value)) <= 1e-12 * abs(value)
    assert np.allclose(grad, ref.gradient, rtol=1e-9, atol=1e-13)
    # and the value is L_N at (beta*, V), computed independently by the exact loss
    direct = exact_population_loss(target.alpha, target.units, beta / np.linalg.norm(V, axis=1), V, "relu")
    assert abs(direct.value - value) <= direct.error_bound + 1e-13


def test_gradient_taylor_remainder_slope(rng):
    """|F(V + tH) - F(V) - t <grad, H>| = O(t^2): fitted slope 2 (first-order remainder would give 1)."""
    target = _target(rng)
    V = rng.standard_normal((3, 5))
    H = rng.standard_normal((3, 5))
    f0, _, g = reduced_finite_loss(V, target)
    ts = np.logspace(-1.5, -4, 6)
    rem = [abs(reduced_finite_loss(V + t * H, target)[0] - f0 - t * float(np.sum(g * H))) for t in ts]
    slope = np.polyfit(np.log(ts), np.log(rem), 1)[0]
    assert 1.8 < slope < 2.2


def test_known_optimum_target_is_an_etf_network(rng):
    """A target made of M neurons on a rotated ETF is representable exactly: min L_N = 0, reached at that ETF."""
    d, M = 4, 3
    W = simplex_etf(M, d) @ haar_rotation(d, rng).T
    target = prepare_target(np.full(M, 0.75 * M), W, "relu")  # f_N = sum_j 0.75 relu(<w_j, x>)
    best = minimise_finite_loss(target, M, rng, starts=4)
    # residual: the optimiser's gradient tolerance 1e-9 leaves a loss error ~ gtol^2 / curvature << 1e-12
    assert best.value < 1e-12
    assert gram_distance_to_etf(best.frame) < 1e-5
    assert np.allclose(np.sort(best.beta), 0.75, atol=1e-5)


def test_minimum_improves_on_every_start(rng):
    target = _target(rng, N=150, d=6)
    best = minimise_finite_loss(target, 3, rng, starts=2)
    assert best.value <= min(best.start_values) + 1e-15
    assert best.value == min(best.final_values)

"""The exact finite-N loss: float64 blocked path vs brute force, vs arb enclosure, vs Monte Carlo.

Tolerances:
* float64 vs arb: |float - arb| <= float rounding bound + arb radius (the statement under test).
* exact vs Monte Carlo: |MC - exact| < 4 standard errors (two-sided false-alarm rate 6e-5 per instance).
* kappa (hand-written J_n) vs theory's sympy-derived kernel: 64 u * (|p| + |q|)^2 k_n(1), a few ulps of
  the arccos/sqrt formula times the kernel's scale.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import mpmath
from flint import arb, ctx

from numerics.interval_loss import certified_population_loss
from numerics.kappa import K_N_AT_ONE, FastKappa
from numerics.monte_carlo import monte_carlo_population_loss
from numerics.population_loss import (COL_TILE, FORMULA_ULPS, ROW_TILE, LossStatus, exact_population_loss,
                                      prepare_target, target_self_term)
from theory.activations import get_activation
from theory.errors import InputError
from theory.kernels import dual_kernel

ACTIVATIONS = ["relu", "abs", "step", "relu^2", "relu^3", "leaky_relu(0.1)"]
U = 2.0**-53


def _instance(rng, N, d, M, scale=1.0):
    a = rng.standard_normal(N)
    W = rng.standard_normal((N, d)) / math.sqrt(d)
    b = rng.standard_normal(M) * scale / M
    V = rng.standard_normal((M, d)) / math.sqrt(d)
    return a, W, b, V


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_fast_kappa_matches_theory_kernel(name):
    act = get_activation(name)
    kap = FastKappa.from_activation(act)
    rho = np.linspace(-1.0, 1.0, 2001)
    ref = dual_kernel(act).numpy(rho)
    scale = (abs(kap.p) + abs(kap.q)) ** 2 * (0.5, 0.5, 1.5, 7.5)[act.degree]
    assert np.max(np.abs(kap.evaluate(rho.copy()) - ref)) <= 64 * U * scale
    assert kap.at_one == pytest.approx(float(dual_kernel(act).at_one), abs=4 * U * scale)
    # the 200-bit ball lies within its radius + 1e-38 of theory's 40-digit mpmath value (independent formulas)
    with ctx.workprec(200):
        for r in (-0.9, -0.3, 0.0, 0.4, 0.99):
            ball = kap.evaluate_arb(arb(r))
            ref_mp = arb(mpmath.nstr(dual_kernel(act).mp(r, dps=45), 42))
            assert abs(ball - ref_mp).upper() <= arb(10) ** -38 + ball.rad()


@pytest.mark.parametrize("name", ["relu", "step", "relu^2", "relu^3"])
def test_negated_fast_path_matches_theory_kernel(name):
    """plus * J_n(rho) from x = -rho (the tiled path's in-place kernel) against the sympy-derived kernel,
    with the same few-ulp tolerance as ``evaluate``; cosines just outside [-1, 1] (rounding) are clipped."""
    act = get_activation(name)
    kap = FastKappa.from_activation(act)
    assert kap.has_fast_path
    rho = np.concatenate([np.linspace(-1.0, 1.0, 2001).reshape(3, 667), [[1 + 4 * U, -1 - 4 * U] * 333 + [0.5]]])
    x = -rho
    got = kap.plus * kap.evaluate_negated(x, np.empty_like(x), np.empty_like(x))
    ref = dual_kernel(act).numpy(np.clip(rho, -1.0, 1.0))
    scale = (abs(kap.p) + abs(kap.q)) ** 2 * (0.5, 0.5, 1.5, 7.5)[act.degree]
    assert np.max(np.abs(got - ref)) <= 64 * U * scale
    assert kap.plus * kap.j_at_one == pytest.approx(kap.at_one, rel=4 * U)
    assert not FastKappa.from_activation(get_activation("abs")).has_fast_path  # p q != 0: the general path


def _cosines_near_plus_minus_one() -> np.ndarray:
    """Cosines 1 - k u and -1 + k u around k = 2^26, where c*c rounds by u/2 relative to 1 - c^2 ~ 2^-26."""
    k = np.concatenate([[1, 2, 3], np.arange(2**26 - 40, 2**26 + 40), [3 * 2**25, 2**27, 2**30]]).astype(float)
    return np.concatenate([1 - k * U, -1 + k * U, np.linspace(-1, 1, 101)])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_kernel_formula_error_within_the_allowance_next_to_plus_minus_one(name):
    """The formula part of e_kappa in numerics.population_loss, 16 u (|p| + |q|)^2 k_n(1) per element, holds
    for both float paths against arb at the same float cosine.  (1 - c^2 as 1 - c*c broke it by 300x.)"""
    kap = FastKappa.from_activation(get_activation(name))
    allowance = FORMULA_ULPS * U * (abs(kap.p) + abs(kap.q)) ** 2 * K_N_AT_ONE[kap.degree]
    c = _cosines_near_plus_minus_one()
    paths = [kap.evaluate(c.copy())]
    if kap.has_fast_path:
        x = -c
        paths.append(kap.plus * kap.evaluate_negated(x, np.empty_like(x), np.empty_like(x)))
    with ctx.workprec(200):
        exact = [kap.evaluate_arb(arb(float(v))) for v in c]
        for got in paths:
            worst = max(abs(arb(float(g)) - e).upper() for g, e in zip(got, exact))
            assert worst <= allowance, (name, float(worst.mid()) / U)


def test_bound_holds_for_two_nearly_parallel_neurons():
    """d = 2, an angle of 1.2e-4 (cosine 1 - 2^26 u): the float64 loss lies within its a-priori bound of
    the arb enclosure (it missed it by 1.5x when 1 - rho^2 was formed as 1 - rho*rho)."""
    phi = 1.2207e-4
    W = np.array([[1.0, 0.0], [math.cos(phi), math.sin(phi)]])
    for b in (0.9, 1.0):
        fl = exact_population_loss([1.0, 1.0], W, [b], [[1.0, 0.0]], "relu")
        ball = certified_population_loss([1.0, 1.0], W, [b], [[1.0, 0.0]], "relu")
        assert abs(fl.value - ball.value) <= fl.error_bound - ball.error_bound


def test_lipschitz_constant_bounds_the_derivative():
    for name in ("relu", "abs", "relu^2", "relu^3", "leaky_relu(0.1)"):
        act = get_activation(name)
        prime = dual_kernel(act).numpy_prime(np.linspace(-0.999999, 0.999999, 5001))
        assert np.max(np.abs(prime)) <= FastKappa.from_activation(act).lipschitz


@pytest.mark.parametrize("name", ["relu", "relu^3", "abs"])  # the negated fast path (p q = 0) and the general one
def test_blocked_equals_brute_force_across_tiles(rng, name, monkeypatch):
    """N > ROW_TILE so that off-diagonal tiles, ragged edges and the symmetric weighting are all exercised."""
    N, d = ROW_TILE * 2 + 37, 5
    a, W, _, _ = _instance(rng, N, d, 1)
    act = get_activation(name)
    kap = FastKappa.from_activation(act)
    norms = np.linalg.norm(W, axis=1)
    units, alpha = W / norms[:, None], a * norms
    K = kap.evaluate(units @ units.T)
    np.fill_diagonal(K, kap.at_one)
    brute = float(alpha @ K @ alpha) / N**2
    tiled = target_self_term(alpha, units, kap)
    threaded = target_self_term(alpha, units, kap, workers=2)  # row blocks in threads if threadpoolctl is there
    import numerics.population_loss as pl

    monkeypatch.setattr(pl, "_blas_single_thread", lambda: None)  # the route without threadpoolctl
    kernel_threaded = target_self_term(alpha, units, kap, workers=2)
    bound = prepare_target(a, W, act).loss([0.0], np.ones((1, d))).error_bound
    assert abs(tiled - brute) <= bound
    assert abs(threaded - tiled) <= bound
    assert abs(kernel_threaded - tiled) <= bound
    assert COL_TILE >= ROW_TILE


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_float64_within_its_bound_of_the_arb_enclosure(rng, name):
    a, W, b, V = _instance(rng, 120, 7, 4)
    fl = exact_population_loss(a, W, b, V, name)
    ball = certified_population_loss(a, W, b, V, name)
    assert fl.status is LossStatus.ROUNDING_BOUND and ball.status is LossStatus.CERTIFIED
    assert abs(fl.value - ball.value) <= fl.error_bound + ball.error_bound
    assert ball.error_bound < 1e-15 * max(1.0, abs(ball.value))  # 128-bit ball: radius far below float64 ulp


def test_arb_precision_is_consistent_across_bit_lengths(rng):
    a, W, b, V = _instance(rng, 40, 6, 3)
    lo = certified_population_loss(a, W, b, V, "relu", prec_bits=64)
    hi = certified_population_loss(a, W, b, V, "relu", prec_bits=256)
    assert abs(lo.value - hi.value) <= lo.error_bound + hi.error_bound
    assert hi.error_bound <= lo.error_bound


@pytest.mark.parametrize("name", ["relu", "abs", "step", "relu^2", "leaky_relu(0.1)"])
def test_exact_loss_agrees_with_monte_carlo(rng, name):
    a, W, b, V = _instance(rng, 60, 6, 3, scale=2.0)
    exact = exact_population_loss(a, W, b, V, name)
    mc = monte_carlo_population_loss(a, W, b, V, name, n_samples=60000, seed=int(rng.integers(2**31)))
    assert mc.status is LossStatus.STATISTICAL
    assert abs(mc.value - exact.value) < 4 * mc.error_bound


def test_closed_form_small_cases():
    # one target neuron equal to the student neuron: L = (a ||w|| - b ||v||)^2 kappa(1)
    r = exact_population_loss([2.0], [[3.0, 4.0]], [1.0], [[0.6, 0.8]], "relu")
    assert r.value == pytest.approx((2 * 5 - 1) ** 2 * 0.5, abs=r.error_bound)
    # orthogonal neurons: E relu(x1) relu(x2) = 1/(2 pi)
    r = exact_population_loss([1.0], [[1.0, 0.0]], [-1.0], [[0.0, 1.0]], "relu")
    assert r.value == pytest.approx(0.5 + 0.5 + 2 / (2 * math.pi), abs=r.error_bound)  # b = -1: cross term +


def test_prepared_target_caches_the_self_term(rng):
    a, W, b, V = _instance(rng, 300, 8, 3)
    prepared = prepare_target(a, W, "relu")
    for _ in range(3):
        b2 = rng.standard_normal(3)
        direct = exact_population_loss(a, W, b2, V, "relu")
        cached = prepared.loss(b2, V)
        assert abs(direct.value - cached.value) <= direct.error_bound
        assert cached.terms[0] == prepared.self_term


def test_zero_rows_contribute_nothing_for_positive_degree(rng):
    a, W, b, V = _instance(rng, 20, 4, 2)
    W0 = np.vstack([W, np.zeros((1, 4))])
    r0 = exact_population_loss(a, W, b, V, "relu")
    # adding a zero neuron with weight a changes only the 1/N normalisation: scale a by (N+1)/N to compensate
    r1 = exact_population_loss(np.append(a, 5.0) * 21 / 20, W0, b, V, "relu")
    assert abs(r0.value - r1.value) <= 2 * (r0.error_bound + r1.error_bound)
    with pytest.raises(InputError, match="degree-0"):
        exact_population_loss(np.append(a, 1.0), W0, b, V, "step")


@pytest.mark.parametrize("bad, match", [
    (dict(a=[1.0, np.nan]), "NaN or inf"),
    (dict(W=[[np.inf, 0.0], [0.0, 1.0]]), "NaN or inf"),
    (dict(V=[[1.0, 0.0, 0.0]]), "dimension mismatch"),
    (dict(a=[], W=np.zeros((0, 2))), "at least one neuron"),
    (dict(b=[1.0, 2.0]), "expected 2 rows"),
])
def test_bad_inputs_raise_input_error(bad, match):
    args = dict(a=[1.0, 1.0], W=[[1.0, 0.0], [0.0, 1.0]], b=[0.5], V=[[1.0, 0.0]])
    args.update(bad)
    for fn in (exact_population_loss, certified_population_loss):
        with pytest.raises(InputError, match=match):
            fn(args["a"], args["W"], args["b"], args["V"], "relu")


def test_monte_carlo_terms_estimate_the_closed_form_terms(rng):
    """The three Monte Carlo terms (means of f^2, -2 f g, g^2) each within 4 of their standard errors of the
    closed form's terms, and all finite (no NaN placeholders)."""
    a, W, b, V = _instance(rng, 50, 5, 3, scale=2.0)
    exact = exact_population_loss(a, W, b, V, "relu")
    mc = monte_carlo_population_loss(a, W, b, V, "relu", n_samples=60000, seed=int(rng.integers(2**31)))
    assert all(math.isfinite(t) for t in mc.terms + mc.term_errors)
    for t_exact, t_mc, se in zip(exact.terms, mc.terms, mc.term_errors):
        assert abs(t_mc - t_exact) < 4 * se
    assert abs(math.fsum(mc.terms) - mc.value) <= 8 * 60000 * U * sum(abs(t) for t in mc.terms)


def test_monte_carlo_draws_do_not_depend_on_the_batch_size(rng):
    a, W, b, V = _instance(rng, 30, 4, 2)
    big = monte_carlo_population_loss(a, W, b, V, "relu", n_samples=5000, seed=7)
    small = monte_carlo_population_loss(a, W, b, V, "relu", n_samples=5000, seed=7, batch=97)
    assert abs(big.value - small.value) <= 64 * U * big.value  # the same draws; only the summation order differs
    assert abs(big.error_bound - small.error_bound) <= 1e-9 * big.error_bound


def test_monte_carlo_batches_shrink_for_wide_networks():
    from numerics.monte_carlo import MC_MAX_ELEMENTS, batch_rows

    assert batch_rows(50, 3) == 4096
    assert batch_rows(10**6, 5) * (10**6 + 5) <= MC_MAX_ELEMENTS and batch_rows(10**9, 1) == 1


def test_monte_carlo_rejects_a_negative_seed():
    with pytest.raises(InputError, match="seed"):
        monte_carlo_population_loss([1.0], [[1.0, 0.0]], [0.0], [[0.0, 1.0]], "relu", n_samples=10, seed=-1)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_arb_encloses_parallel_neurons(rng, name):
    """Cosines of exactly +-1 up to rounding (repeated and negated rows, a student equal to part of the target):
    arb's arccos is undefined on a ball reaching past 1; the enclosure must stay finite, tight and correct."""
    a, W, _, _ = _instance(rng, 12, 3, 1)
    W = np.vstack([W, W[:4], -3.0 * W[4:8]])
    a = np.concatenate([a, rng.standard_normal(8)])
    V = np.vstack([W[:2], -W[5:6] * 0.7])
    b = rng.standard_normal(3)
    fl = exact_population_loss(a, W, b, V, name)
    ball = certified_population_loss(a, W, b, V, name)
    assert math.isfinite(ball.value) and math.isfinite(ball.error_bound)
    assert abs(fl.value - ball.value) <= fl.error_bound + ball.error_bound
    tight = 1e-15 if get_activation(name).degree >= 1 else 1e-12  # degree 0: kappa is only 1/2-Hoelder at +-1
    assert ball.error_bound < tight * max(1.0, abs(ball.value))


def test_arb_student_equal_to_target_is_clamped_at_zero(rng):
    b, W = rng.standard_normal(16), rng.standard_normal((16, 4))
    r = certified_population_loss(16 * b, W, b, W, "relu")  # a = N b exactly: the loss is exactly 0
    lower, upper = r.enclosure
    assert lower == "0" and 0 < float(upper) < 1e-30 and "clamped at 0" in r.note


def test_decimal_enclosure_rounds_outwards():
    from fractions import Fraction

    from numerics.interval_loss import decimal_enclosure

    with ctx.workprec(128):
        for ball in (arb(1) / 3, -arb(2).sqrt() / 7 + arb("0 +/- 1e-30"), arb("1e-40 +/- 3e-41"), arb(0.125),
                     arb("0 +/- 1e-39"), arb(10) ** 20 / 7):
            lo, hi = decimal_enclosure(ball)
            mid, rad = (Fraction(int(m)) * Fraction(2) ** int(e) for m, e in (ball.mid().man_exp(), ball.rad().man_exp()))
            assert Fraction(lo) <= mid - rad and mid + rad <= Fraction(hi)
            if rad > 0:
                assert Fraction(lo) < Fraction(hi)
                assert Fraction(hi) - Fraction(lo) <= 3 * (2 * rad)  # each end moves by at most a tenth of the width
        assert decimal_enclosure(arb(0.125)) == ("0.125", "0.125")


def test_float_simplex_etf_matches_the_exact_frame():
    from theory.etf import simplex_etf, simplex_etf_exact

    for M, d in [(1, 1), (1, 4), (2, 1), (3, 2), (4, 7), (9, 8), (13, 20)]:
        V = simplex_etf(M, d)
        ref = np.array(simplex_etf_exact(M, d).evalf(30).tolist(), dtype=float)  # exact sympy rows, rounded once
        assert V.shape == ref.shape == (M, d)
        assert np.max(np.abs(V - ref)) <= 4 * U
    V = simplex_etf(200, 250)
    G = V @ V.T
    assert np.max(np.abs(G - (200 * np.eye(200) - 1) / 199)) <= 1e-13
    with pytest.raises(InputError, match="M <= d"):
        simplex_etf(5, 3)

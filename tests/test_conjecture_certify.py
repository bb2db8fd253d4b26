"""Interval enclosures, the Delsarte-Yudin certificates (tangent line, LP) and fault injection."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb

from conjecture.certify import certify_lower, ltilde_arb, rational
from conjecture.frames import random_frames
from conjecture.interval import ball, interval_kernel
from conjecture.relax_lp import gegenbauer_monomials, lp_bound, tangent_bound
from theory.activations import get_activation
from theory.kernels import dual_kernel
from theory.objective import ltilde
from theory.regimes import regime_summary

ACTS = ["relu", "abs", "step", "relu^2", "leaky_relu(0.1)"]


@pytest.mark.parametrize("name", ACTS)
def test_interval_kernel_encloses_mpmath(name):
    act = get_activation(name)
    ik, kern = interval_kernel(act), dual_kernel(act)
    rng = np.random.default_rng(0)
    for a in np.sort(rng.uniform(-1, 1, (6, 2)), axis=1):
        lo, hi = Fraction(float(a[0])), Fraction(float(a[1]))
        enc = ik.value(ball(lo, hi))
        for t in np.linspace(a[0], a[1], 5):  # independent evaluation: mpmath closed form at 30 digits
            assert enc.contains(arb(mpmath.nstr(kern.mp(float(t), 30), 25), 1e-24))
    for end in (-1, 1):  # the endpoints, where arb's own acos is undefined on balls
        assert ik.value(arb(end)).overlaps(arb(mpmath.nstr(kern.mp(end, 30), 25), 1e-24))


def test_certify_lower_detects_violation_and_tangency():
    sq = (lambda t: t * t, lambda t: 2 * t, lambda t: arb(2))
    assert certify_lower(*sq, delta=Fraction(1, 10**40)).holds  # double zero at 0
    shifted = (lambda t: t * t - arb(1) / 10**6, lambda t: 2 * t, lambda t: arb(2))
    assert not certify_lower(*shifted, delta=Fraction(1, 10**9)).holds  # min -1e-6 < -1e-9


@pytest.mark.parametrize("d", [2, 3, 5])
def test_gegenbauer_positive_definite(d):
    # Schoenberg: G_k(<x_i, x_j>) is PSD for points on S^{d-1}; an independent check of the coefficients
    X = random_frames(np.random.default_rng(d), 1, 40, d)[0]
    G = np.clip(X @ X.T, -1, 1)
    for k in range(6):
        c = [float(x) for x in gegenbauer_monomials(k, d)]
        P = np.polynomial.polynomial.polyval(G, c)
        assert abs(np.polynomial.polynomial.polyval(1.0, c) - 1) < 1e-12
        assert np.linalg.eigvalsh(P)[0] > -1e-9


@pytest.mark.parametrize("M", [2, 3, 5, 8])
def test_tangent_bound_relu_meets_etf(M):
    b = tangent_bound(get_activation("relu"), M, max(M - 1, 1))
    assert b.valid
    assert b.gap_upper < 1e-50  # delta = 1e-60 by construction; the tangent line is exactly tight


def test_delsarte_bound_holds_on_random_frames():
    # the certified inequality beta^T K beta >= A (sum beta)^2 for beta >= 0, checked by sampling
    act = get_activation("relu")
    A = tangent_bound(act, 4, 3).a_certified
    rng = np.random.default_rng(1)
    X = random_frames(rng, 200, 4, 3)
    kern = dual_kernel(act)
    K = kern.numpy(X @ np.swapaxes(X, 1, 2))
    beta = rng.exponential(size=(200, 4))
    q = np.einsum("bi,bij,bj->b", beta, K, beta) / beta.sum(1) ** 2
    assert np.all(q >= A * (1 - 1e-12))


def test_lp_bound_certified_and_injected_inaccuracy_caught():
    act = get_activation("abs")
    good = lp_bound(act, 3, 2)
    assert good.valid and good.gap_upper < 1e-6
    bad = lp_bound(act, 3, 2, override=lambda h: (h[0] + Fraction(1, 1000),) + tuple(h[1:]))
    # an h 1e-3 above the LP optimum violates h <= kappa; the interval check must say so however delta is doubled
    assert not bad.certificate.holds or bad.gap_upper > 1e-6
    failed = lp_bound(act, 3, 2, override=lambda h: (_ for _ in ()).throw(RuntimeError("boom")))
    assert not failed.valid and "solver error" in failed.lp_status


def test_ltilde_arb_encloses_float_value():
    s = regime_summary("I", "relu", 3, abar=1.0)
    X = random_frames(np.random.default_rng(2), 1, 3, 3)[0]
    beta = np.array([0.3, -0.1, 0.25])
    val = ltilde_arb([rational(b) for b in beta], [[rational(v) for v in r] for r in X], interval_kernel(s.activation).value,
                     lambda row: arb(mpmath.nstr(s.b_mp([1, 0, 0], 40), 35), 1e-30), arb(mpmath.nstr(s.constant_mp(40), 35), 1e-30))
    f = float(ltilde(beta, X, s))
    assert abs(float(val.mid()) - f) < 1e-14 and float(val.rad()) < 1e-20


def test_quadratic_certificate_abs_d_equals_m_minus_1():
    # |t| has an even kappa (kappa'(rho0) < 0): the tangent line is not admissible, the tangent parabola in G_2 is,
    # because the simplex ETF in R^{M-1} is a 2-design. Independent check: the bound on sampled frames and beta >= 0.
    from conjecture.relax_lp import tangent_quadratic_bound

    act = get_activation("abs")
    assert not tangent_bound(act, 4, 3).valid
    b = tangent_quadratic_bound(act, 4, 3)
    assert b.valid and b.gap_upper < 1e-50
    rng = np.random.default_rng(4)
    X = random_frames(rng, 300, 4, 3)
    K = dual_kernel(act).numpy(X @ np.swapaxes(X, 1, 2))
    beta = rng.exponential(size=(300, 4))
    q = np.einsum("bi,bij,bj->b", beta, K, beta) / beta.sum(1) ** 2
    assert np.all(q >= b.a_certified * (1 - 1e-12))
    assert not tangent_quadratic_bound(act, 4, 5).valid  # needs d = M - 1

"""Certified linear algebra (numerics.arb_linalg) and the sympy-free hot paths: every ball contains the value
computed independently (sympy's exact closed forms, mpmath), and the DPP re-solves agree with fresh solves."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from flint import arb, fmpq

from conjecture.cells import CellParams, make_summary
from conjecture.etf_reference import etf_reference, exact_etf_rows
from conjecture.hessian import solve_psd_mp, symmetric_eigenvalue_balls, symmetric_eigenvalues
from conjecture.relax_sdp import _compute, _problem, sdp_bound
from numerics.arb_linalg import from_mpf, precision, simplex_etf_arb, to_mpf
from numerics.etf_cell import _solve_at_etf, etf_cell
from theory.activations import get_activation
from theory.etf import simplex_etf_exact
from theory.etf_values import etf_closed_form_mp, etf_values
from theory.regimes import sphere_average_value
from theory.sphere import sphere_average_expr


def _exact_ball(expr, digits: int = 90) -> arb:
    """sympy's value of an exact expression to ``digits`` digits, as a ball of radius 10^-(digits-5) |value|."""
    v = sp.N(expr, digits)
    with precision(digits):
        mid = arb(str(v))
        return mid + arb(0, (abs(mid) * arb(10) ** (-(digits - 5))).upper())


@pytest.mark.parametrize("M", [2, 3, 7, 16])
def test_arb_etf_gram_contains_the_exact_gram(M):
    with precision(60):
        V = simplex_etf_arb(M, M + 1)
        G = V * V.transpose()
        for j in range(M):
            for l in range(M):
                exact = fmpq(1) if j == l else fmpq(-1, M - 1)
                assert G[j, l].contains(exact), (j, l)
                assert G[j, l].rad() < arb(10) ** -55
        # the same rows as theory.etf.simplex_etf_exact (sympy), to 50 digits
        ref = simplex_etf_exact(M, M + 1)
        for j in range(M):
            for k in range(M + 1):
                assert V[j, k].overlaps(_exact_ball(ref[j, k], 60) if ref[j, k] != 0 else arb(0)), (j, k)


@pytest.mark.parametrize("act,M,d", [("relu", 3, 2), ("relu", 64, 63), ("step", 2, 3), ("relu^2", 6, 5),
                                     ("leaky_relu(1/10)", 5, 4)])
def test_certified_etf_solve_contains_sympy_exact_value(act, M, d):
    """1^T K^{-1} 1 by the arb solve at dps 50 contains M / lambda from sympy's exact form (etf_values)."""
    a = get_activation(act)
    solved = _solve_at_etf(a, M, 60)
    exact = etf_values(a, M, d, dps=20).ones_Kinv_ones_exact
    assert solved.rank == M and solved.ball is not None
    assert solved.ball.rad() < arb(10) ** -50 * abs(solved.ball.mid())  # 50 certified digits at least
    with precision(90):
        assert solved.ball.overlaps(_exact_ball(exact))


def test_etf_cell_reports_its_ball_and_keeps_its_keys():
    r = etf_cell({"activation": "relu", "M": 64, "d": 63, "dps": 50}, seed=0)
    assert r["verdict"] == "agree" and r["kernel_rank"] == 64
    assert r["certified"]["contains_closed_form"] is True
    assert r["certified"]["certified_digits"] >= 50
    assert set(r["values"]) == {"one_K_inv_one", "one_K_inv_one_eig", "c_d", "ltilde_star", "beta_star",
                                "ltilde_star_float64_rotated"}
    # 1^T K^-1 1 = 128 pi / (acos(-1/63) + 8 sqrt(62)) (docs/derivations.md §7 at M = 64)
    exact = 128 * sp.pi / (sp.acos(sp.Rational(-1, 63)) + 8 * sp.sqrt(62))
    with mpmath.workdps(70):
        assert r["values"]["one_K_inv_one"] == mpmath.nstr(mpmath.mpf(str(sp.N(exact, 70))), 50, strip_zeros=False)


def test_singular_kernel_falls_back_to_the_pseudo_inverse():
    """abs at M = 2: antipodal neurons give K = kappa(1) 1 1^T (singular); 1^T K^+ 1 = 2 / (2 kappa(1)) = 1."""
    solved = _solve_at_etf(get_activation("abs"), 2, 40)
    assert solved.ball is None and solved.rank == 1
    assert abs(solved.value - 1) < mpmath.mpf(10) ** -35


@pytest.mark.parametrize("act,regime,M,d", [("relu", "I", 3, 2), ("relu", "I", 2, 1), ("relu^2", "I", 4, 3),
                                            ("relu", "II", 3, 3), ("abs", "II", 3, 4)])
def test_etf_reference_ball_contains_the_exact_value(act, regime, M, d):
    s = make_summary(CellParams.from_dict({"M": M, "d": d, "regime": regime, "activation": act}))
    ref = etf_reference(s, regime, M, d, dps=40)
    ball = arb(ref.direct_ball)
    a = get_activation(act)
    if regime == "I":  # F_ETF = c_d (1 - c_d M / lambda) at abar = 1, exact (sympy)
        ev = etf_values(a, M, d, dps=20)
        exact = ev.c_d_exact * ev.relative_loss_exact
    else:  # C - a0^2 M / lambda - mu1^2 ||m||^2 M / ((M-1)(kappa(1) - kappa(rho0))), exact (sympy)
        from theory.kernels import RHO, dual_kernel

        kern = dual_kernel(a)
        k1, kr = kern.at_one, kern.expr.subs(RHO, sp.Rational(-1, M - 1))
        mu0, mu1 = a.hermite_coefficient(0) ** 2, a.hermite_coefficient(1) ** 2
        m2 = sp.Rational(1, 4)  # tilt_norm 0.5
        exact = mu0 + mu1 * m2 - mu0**2 * M / (k1 + (M - 1) * kr) - mu1**2 * m2 * M / ((M - 1) * (k1 - kr))
    with precision(90):
        assert ball.overlaps(_exact_ball(exact)), (ref.direct_ball, sp.N(exact, 50))
    assert ref.digits_agree >= 40


def test_exact_rows_match_sympy():
    rows = exact_etf_rows(5, 6, 40)
    ref = simplex_etf_exact(5, 6)
    with mpmath.workdps(40):
        for j in range(5):
            for k in range(6):
                assert abs(rows[j][k] - mpmath.mpf(str(sp.N(ref[j, k], 60)))) < mpmath.mpf(10) ** -38


def test_arb_solve_agrees_with_mpmath_lu():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 6))
    with mpmath.workdps(50):
        K = mpmath.matrix((A @ A.T + 6 * np.eye(6)).tolist())
        b = mpmath.matrix(rng.standard_normal(6).tolist())
        lu = mpmath.lu_solve(K, b)
        x = solve_psd_mp(K, b, 50)
        assert max(abs(x[i] - lu[i]) for i in range(6)) < mpmath.mpf(10) ** -45


def test_flint_eigenvalues_match_mpmath_eigsy_with_repeated_eigenvalues():
    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(rng.standard_normal((7, 7)))
    w = np.array([0.0, 0.0, 0.0, 1.5, 1.5, 2.0, 3.0])
    with mpmath.workdps(40):
        A = (Q * w) @ Q.T
        H = mpmath.matrix(((A + A.T) / 2).tolist())  # exactly symmetric (eigsy reads one triangle only)
        balls = symmetric_eigenvalue_balls(H, 40)
        ref = sorted(mpmath.eigsy(H, eigvals_only=True))
    assert balls is not None and len(balls) == 7
    with precision(60):
        for ball, value in zip(balls, ref):  # each eigsy value (absolute error ~1e-40 ||H||) lies in its ball
            assert ball.overlaps(from_mpf(value) + arb(0, 1e-35)), (ball, value)
            assert ball.rad() < arb(10) ** -14
    with mpmath.workdps(40):
        assert max(abs(a - b) for a, b in zip(symmetric_eigenvalues(H, 40), ref)) < mpmath.mpf(10) ** -14


@pytest.mark.parametrize("act", ["relu", "leaky_relu(1/10)", "abs", "step", "relu^2"])
def test_closed_form_mp_matches_sympy_exact_values(act):
    for M, d in [(2, 1), (3, 2), (5, 7), (16, 15)]:
        cf = etf_closed_form_mp(act, M, d, dps=40)
        ev = etf_values(act, M, d, dps=40)
        with mpmath.workdps(40):
            assert abs(cf.ones_Kinv_ones - ev.ones_Kinv_ones) <= mpmath.mpf(10) ** -38 * abs(ev.ones_Kinv_ones)
            assert abs(cf.relative_loss - ev.relative_loss) <= mpmath.mpf(10) ** -38 * max(abs(ev.relative_loss),
                                                                                            mpmath.mpf(10) ** -30)
        assert cf.relative_loss_exact_zero == (ev.relative_loss_exact == 0)
        if cf.relative_loss_exact_zero:
            assert cf.relative_loss == 0


@pytest.mark.parametrize("act", ["relu", "abs", "step", "relu^3", "leaky_relu(-3/2)"])
def test_sphere_average_value_matches_sympy(act):
    a = get_activation(act)
    for d in (1, 2, 3, 10, 63):
        v = sphere_average_value(a, d, 50)
        with mpmath.workdps(70):
            e = mpmath.mpf(str(sp.N(sphere_average_expr(a, sp.Integer(d)), 70)))
            assert abs(v - e) <= mpmath.mpf(10) ** -49 * abs(e)


@pytest.mark.parametrize("act", ["relu", "relu^2", "leaky_relu(1/10)"])
def test_dpp_resolves_agree_with_fresh_solves(act):
    """The cached DPP problem, re-solved after another activation's parameters, matches a fresh build."""
    a, other = get_activation(act), get_activation("relu^3")
    for M in (3, 4):
        for k in range(M):
            assert _problem(M, k, 10, "CLARABEL").problem.is_dpp()
            fresh = sdp_bound(a, M, k, reuse=False)
            _compute(other, M, k, "CLARABEL", reuse=True)  # leave other parameter values in the cached problem
            again = _compute(a, M, k, "CLARABEL", reuse=True)
            assert again.kkt.ok == fresh.kkt.ok and again.note == fresh.note
            # interior-point accuracy (~1e-8): both are KKT-checked solutions of the same problem
            assert abs(again.value - fresh.value) <= 1e-7 * max(1.0, abs(fresh.value)), (M, k)
            assert sdp_bound(a, M, k) == sdp_bound(a, M, k)  # memoised: the same object's value


@pytest.mark.parametrize("M", [4, 5])
def test_mirrored_sign_patterns_solve_the_same_sdp(M):
    """k and M - k negatives: fresh, independent solves agree, and the memo serves one for the other."""
    relu = get_activation("relu")
    for k in range(1, M):
        a, b = sdp_bound(relu, M, k, reuse=False), sdp_bound(relu, M, M - k, reuse=False)
        assert a.kkt.ok and b.kkt.ok
        assert abs(a.value - b.value) <= 1e-7 * max(1.0, abs(a.value)), (M, k)
        served = sdp_bound(relu, M, M - k)
        assert served.negatives == M - k and abs(served.value - b.value) <= 1e-7 * max(1.0, abs(b.value))


def test_from_mpf_is_exact_and_to_mpf_rounds_once():
    with mpmath.workdps(60):
        x = mpmath.mpf(1) / 3
    with precision(80):
        ball = from_mpf(x)
        assert ball.rad() == 0
        assert to_mpf(ball, 60) == x

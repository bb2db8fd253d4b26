"""The finite-N gain (issue 12): Gegenbauer coefficients three ways, the GOE expectation against an independent
cubature, the exact decomposition L_N = Ltilde_N + Z_N, the second-order model against exact evaluations, the
search's Hessian and Newton polish, the CLI, and the prediction against measured gains at a small size."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from scipy import integrate

from tests.cli_checks import run_twolayer
from conjecture.relax_lp import gegenbauer_monomials
from numerics.finite_hessian import reduced_finite_hessian
from numerics.finite_minimum import minimise_finite_loss, reduced_finite_loss
from numerics.minimiser_motion import minimiser_motion
from numerics.population_loss import exact_population_loss, prepare_target
from numerics.rigid_etf import best_rigid_etf, rigid_value_and_gradient
from theory.activations import get_activation
from theory.etf import simplex_etf
from theory.etf_hessian import etf_hessian
from theory.finite_n_gain import (finite_n_gain, haar_orientations, leading_constant, per_draw_gain,
                                  spectral_matrix)
from theory.gegenbauer_kernel import (degree_two_coefficient, degree_two_coefficient_mp, funk_hecke_eigenvalue,
                                      funk_hecke_eigenvalue_mp, funk_hecke_eigenvalue_quad, harmonic_dimension,
                                      harmonic_energy, legendre_sphere)
from theory.goe_top_sum import traceless_goe_top_sum
from theory.kernels import dual_kernel
from theory.objective import ltilde, reduced_objective
from theory.regimes import sphere_average_value
from theory.second_order_gain import data_fields, second_order_model
from theory.summaries import IsotropicSummary

ACTS = ["relu", "abs", "relu^2", "leaky_relu(0.1)", "step"]
RELU = get_activation("relu")


def _sphere(n: int, d: int, rng) -> np.ndarray:
    g = rng.standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def _target(rng, N: int, d: int, act: str = "relu"):
    return prepare_target(np.ones(N), rng.standard_normal((N, d)) / math.sqrt(d), act)


# ---- Gegenbauer coefficients of kappa ---------------------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 3, 5, 16])
def test_legendre_polynomials_match_the_conjecture_layers_independent_construction(d):
    # conjecture.relax_lp builds them from sympy's gegenbauer/chebyshevt, not from the three-term recurrence
    for k in range(7):
        ours = [Fraction(int(c.p), int(c.q)) for c in legendre_sphere(k, d).all_coeffs()[::-1]]
        assert ours == list(gegenbauer_monomials(k, d))


def test_harmonic_dimensions():
    assert [harmonic_dimension(k, 3) for k in range(6)] == [2 * k + 1 for k in range(6)]
    assert [harmonic_dimension(k, 2) for k in range(1, 6)] == [2] * 5
    assert harmonic_dimension(2, 16) == (16 + 2) * (16 - 1) // 2


@pytest.mark.parametrize("name", ACTS)
@pytest.mark.parametrize("d", [3, 16])
def test_funk_hecke_closed_form_against_quadrature(name, d):
    """Closed form (moments of |t|) against mpmath quadrature of kappa(t) P_k(t): 25 digits, tolerance 10^-20
    (quadrature of the closed-form kernel loses at most a few digits at the kernel's t = +-1 kinks)."""
    act = get_activation(name)
    for k in range(5):
        quad = funk_hecke_eigenvalue_quad(act, k, d, dps=25)
        fast = funk_hecke_eigenvalue_mp(act, k, d, dps=30)
        with mpmath.workdps(40):
            exact = _mp(funk_hecke_eigenvalue(act, k, d))
            scale = mpmath.mpf(sphere_average_value(act, d, 40))  # Lambda_0 = c_d bounds every |Lambda_k|
            assert abs(exact - quad) <= mpmath.mpf(10) ** -20 * scale
            assert abs(fast - exact) <= mpmath.mpf(10) ** -25 * scale


def _mp(expr):
    """An exact sympy number as an mpmath number at the working precision (call inside workdps)."""
    import sympy as sp

    return mpmath.mpf(str(sp.N(expr, mpmath.mp.dps + 5)))


@pytest.mark.parametrize("name", ["relu", "relu^2"])
def test_funk_hecke_against_monte_carlo(name, rng):
    """Third way: E[kappa(<w^, v>) P_k(<w^, v>)] over 4e5 uniform directions, |z| < 4."""
    act = get_activation(name)
    d = 6
    t = _sphere(400_000, d, rng)[:, 0]
    kap = dual_kernel(act).numpy(t)
    for k in (1, 2, 4):
        coeffs = [float(c) for c in legendre_sphere(k, d).all_coeffs()[::-1]]
        vals = kap * np.polynomial.polynomial.polyval(t, coeffs)
        se = vals.std(ddof=1) / math.sqrt(t.size)
        assert abs(vals.mean() - float(funk_hecke_eigenvalue(act, k, d))) < 4 * se


def test_degree_two_coefficient_is_the_projection_and_tends_to_mu2():
    """a_2 = E[kappa(t)(t^2 - 1/d)] / E[(t^2 - 1/d)^2] (the definition, by quadrature), and a_2 -> mu_2^2 = 1/(4 pi)."""
    kern = dual_kernel(RELU)
    for d in (3, 8, 20):
        with mpmath.workdps(30):
            norm = mpmath.gamma(mpmath.mpf(d) / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(mpmath.mpf(d - 1) / 2))
            dens = lambda x: norm * (1 - x * x) ** (mpmath.mpf(d - 3) / 2)  # noqa: E731
            num = mpmath.quad(lambda x: kern.mp(x, 30) * (x * x - mpmath.mpf(1) / d) * dens(x), [-1, 0, 1])
            den = mpmath.quad(lambda x: (x * x - mpmath.mpf(1) / d) ** 2 * dens(x), [-1, 0, 1])
            assert abs(num / den - _mp(degree_two_coefficient(RELU, d))) < mpmath.mpf(10) ** -20
    assert abs(float(degree_two_coefficient_mp(RELU, 10**8)) - 1 / (4 * math.pi)) < 1e-8


def test_harmonic_energies_add_up_to_the_variance_of_kappa():
    """sum_k Lambda_k^2 N(d, k) = Var kappa(t) = Phi_d(1) - c_d^2 (theory.pair_average, an independent quadrature);
    at d = 16 the degrees above 8 hold less than 1e-9 of it (the shares fall by ~100 per even degree)."""
    e = harmonic_energy(RELU, 16, kmax=8)
    assert abs(sum(e.shares) - 1) < 1e-9
    assert e.shares[2] == 0 and e.shares[4] == 0          # kappa - rho/4 is even for ReLU: no degree 3, 5


# ---- the random-matrix expectation ------------------------------------------------------------------------------


def _goe3_top_means() -> tuple[float, float]:
    """E[lambda_1] and E[lambda_1 + lambda_2] of the 3 x 3 GOE (density ~ |Delta| exp(-sum l^2/4)) by cubature over
    the ordered eigenvalues l3 = x, l2 = x + a, l1 = x + a + b (a, b >= 0)."""
    def weight(b, a, x):
        l1, l2, l3 = x + a + b, x + a, x
        return a * b * (a + b) * math.exp(-(l1 * l1 + l2 * l2 + l3 * l3) / 4)

    opts = dict(epsabs=1e-10, epsrel=1e-8)   # far below the Monte Carlo errors (~1e-3) it is compared with
    z = integrate.tplquad(weight, -12, 12, 0, 14, 0, 14, **opts)[0]
    m1 = integrate.tplquad(lambda b, a, x: (x + a + b) * weight(b, a, x), -12, 12, 0, 14, 0, 14, **opts)[0]
    m2 = integrate.tplquad(lambda b, a, x: (2 * x + 2 * a + b) * weight(b, a, x), -12, 12, 0, 14, 0, 14, **opts)[0]
    return m1 / z, m2 / z


def test_goe_top_sums_against_exact_values():
    top1, top2 = _goe3_top_means()
    assert abs(top1 - top2) < 1e-6   # E[l1 + l2] = -E[l3] = E[l1] by symmetry: a check of the cubature itself
    for k, exact in ((1, top1), (2, top2)):
        mc = traceless_goe_top_sum(3, k, samples=200_000, seed=k)
        assert abs(mc.mean - exact) < 4 * mc.mean_se
    two = traceless_goe_top_sum(2, 1)
    assert two.mean == math.sqrt(math.pi / 2) and two.sum_squared == 2.0 and two.method == "exact (Rayleigh)"


def test_goe_d2_closed_form_against_monte_carlo(rng):
    from theory.goe_top_sum import traceless_goe_eigenvalues

    lam = traceless_goe_eigenvalues(2, 200_000, rng)[:, 0]
    assert abs(lam.mean() - math.sqrt(math.pi / 2)) < 4 * lam.std(ddof=1) / math.sqrt(lam.size)
    assert abs((lam**2).mean() - 2.0) < 4 * (lam**2).std(ddof=1) / math.sqrt(lam.size)


def test_sqrt_n_s_n_has_the_traceless_goe_covariance(rng):
    """Cov of X = alpha (w^ w^T - I/d): off-diagonal E alpha^2/(d(d+2)), diagonal 2 E alpha^2 (d-1)/(d^2 (d+2)),
    diagonal pairs -2 E alpha^2/(d^2 (d+2)) (= s^2 times the traceless GOE's), by Monte Carlo over 4e5 neurons."""
    d, n = 5, 400_000
    W = rng.standard_normal((n, d)) / math.sqrt(d)
    r = np.linalg.norm(W, axis=1)
    X01 = W[:, 0] * W[:, 1] / r
    X00 = W[:, 0] ** 2 / r - r / d
    X11 = W[:, 1] ** 2 / r - r / d
    m2 = 1.0  # E||w||^2
    for vals, pred in ((X01 * X01, m2 / (d * (d + 2))), (X00 * X00, 2 * m2 * (d - 1) / (d * d * (d + 2))),
                       (X00 * X11, -2 * m2 / (d * d * (d + 2)))):
        assert abs(vals.mean() - pred) < 4 * vals.std(ddof=1) / math.sqrt(n)


# ---- the exact decomposition ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "relu^2", "leaky_relu(0.1)"])
def test_loss_splits_exactly_into_ltilde_n_and_z_n(name, rng):
    """L_N(theta) = Ltilde_N(theta) + Z_N(theta) to 1e-12 on a random target and random (b, V)."""
    act = get_activation(name)
    N, d, M = 300, 7, 4
    a = rng.standard_normal(N)
    W = rng.standard_normal((N, d)) / math.sqrt(d)
    b, V = rng.standard_normal(M), rng.standard_normal((M, d))
    L = exact_population_loss(a, W, b, V, act)
    target = prepare_target(a, W, act)
    alpha, units = target.alpha, target.units
    beta = b * np.linalg.norm(V, axis=1) ** act.degree
    c = float(sphere_average_value(act, d, 30))
    abar_n = float(alpha.mean())
    lt = float(ltilde(beta, V, IsotropicSummary(act, d, abar_n, c))) - abar_n**2 * c + target.self_term
    vhat = V / np.linalg.norm(V, axis=1, keepdims=True)
    z = alpha @ (dual_kernel(act).numpy(units @ vhat.T) - c) / N
    assert abs(L.value - (lt - 2 * float(beta @ z))) < 1e-12


# ---- the Hessian at the ETF and the second-order model ----------------------------------------------------------


@pytest.mark.parametrize("M", [3, 5])
def test_etf_hessian_blocks_against_a_full_finite_difference_hessian(M, rng):
    """The block form (in-span pseudo-inverse, exact out-of-span eigenvalue) against the full Hessian in d = M + 2,
    by central differences of theory.objective's gradient (accuracy ~1e-9; tolerance 1e-6 relative)."""
    d = M + 2
    h = etf_hessian(RELU, M)
    assert abs(h.h_out_fd / h.h_out - 1) < 1e-8
    summary = IsotropicSummary(RELU, d, 1.0, 1.0)
    base = simplex_etf(M, d)
    n, step = M * d, 1e-5
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = step
        gp = reduced_objective((base.ravel() + e).reshape(M, d), summary).gradient.ravel()
        gm = reduced_objective((base.ravel() - e).reshape(M, d), summary).gradient.ravel()
        H[:, i] = (gp - gm) / (2 * step)
    H = (H + H.T) / 2
    w, Q = np.linalg.eigh(H)
    keep = np.abs(w) > 1e-6 * np.abs(w).max()
    # stiff: the in-span Gram coordinates (M(M-1)/2 - 1) and one common tilt per out-of-span coordinate (d - M + 1)
    assert keep.sum() == M * (M - 1) // 2 - 1 + d - M + 1 and h.complement_dimension == M * (M - 1) // 2 - 1
    g = Q[:, keep] @ rng.standard_normal(keep.sum())                # a gradient with no flat component
    brute = float(g @ (Q[:, keep] / w[keep]) @ Q[:, keep].T @ g)
    assert abs(h.quadratic(g.reshape(M, d)) / brute - 1) < 1e-6


def test_second_order_model_reproduces_the_exact_beta_reoptimisation(rng):
    """At a rigid ETF, Ltilde_N* - min_beta L_N = 2 beta0 sum z + z^T K^-1 z exactly (K at the ETF); 1e-13."""
    d, N, M = 8, 500, 4
    target = _target(rng, N, d)
    abar_n = float(target.alpha.mean())
    model = second_order_model(RELU, M, d, abar=abar_n)
    q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    z, gz = data_fields(target.alpha, target.units @ q, model)
    value = reduced_finite_loss(model.frame @ q.T, target)[0]
    lt_star = target.self_term - abar_n**2 * model.c_d**2 * M / model.lam
    yb, _ = model.gains(z, gz)
    assert abs((lt_star - value) - (2 * model.beta0 * z.sum() + yb)) < 1e-13


def test_second_order_gain_matches_the_exact_minimum_on_a_draw(rng):
    """X + Y_beta + Y_def at the rigid optimum's orientation against the exact G_N: the neglected terms are
    O(N^-3/2) against O(N^-1/2) (0.1-0.2% measured at N = 1000, d = 16); tolerance 1% at N = 2000, d = 8, M = 3."""
    d, N, M = 8, 2000, 3
    target = _target(rng, N, d)
    abar_n = float(target.alpha.mean())
    model = second_order_model(RELU, M, d, abar=abar_n)
    lt_star = target.self_term - abar_n**2 * model.c_d**2 * M / model.lam
    p = per_draw_gain(target.alpha, target.units, M)
    rigid = best_rigid_etf(target, M, rng, starts=3, initial_basis=p.eigenvectors)
    q = np.linalg.svd(rigid.frame.T @ model.frame)
    O = q[0] @ q[2]                                                  # the rigid frame is model.frame @ O.T
    z, gz = data_fields(target.alpha, target.units @ O, model)
    yb, yd = model.gains(z, gz)
    full = minimise_finite_loss(target, M, rng, starts=3)
    assert abs((lt_star - rigid.value) - (2 * model.beta0 * z.sum() + yb)) < 1e-12
    gain = lt_star - full.value
    assert abs(gain - (lt_star - rigid.value + yd)) < 0.01 * gain


def test_haar_average_of_the_degree_two_gain(rng):
    """Isotropic-tensor average against Monte Carlo over orientations (M = 5), and orientation-free at M = 3."""
    m5 = second_order_model(RELU, 5, 9, abar=1.0)
    top = np.array([0.03, 0.02, 0.012, 0.004])
    Qs = haar_orientations(4, 20_000, rng)
    parts = m5.degree_two_parts(np.einsum("nba,b,nbc->nac", Qs, top, Qs))
    exact = m5.haar_average(top)
    for p in range(4):
        assert abs(parts[p].mean() - exact[p]) < 4 * parts[p].std(ddof=1) / math.sqrt(Qs.shape[0])
    m3 = second_order_model(RELU, 3, 9, abar=1.0)
    q = haar_orientations(2, 5, rng)
    vals = m3.degree_two_parts(np.einsum("nba,b,nbc->nac", q, top[:2], q))
    assert np.allclose(vals, m3.haar_average(top[:2])[:, None], rtol=1e-10, atol=0)


def test_refused_where_the_expansion_does_not_apply():
    from theory.errors import InputError

    with pytest.raises(InputError, match="M >= 3"):
        second_order_model(RELU, 2, 4, abar=1.0)
    with pytest.raises(InputError, match="not a strict local minimum"):
        second_order_model(get_activation("abs"), 3, 4, abar=1.0)
    with pytest.raises(InputError, match="rotation-invariant"):
        finite_n_gain("relu", 8, 3, 100, law="rademacher")
    with pytest.raises(InputError, match="degree-2 term vanishes"):
        finite_n_gain("relu", 4, 5, 100)


# ---- the search: Hessian, Newton polish, rigid ETF, motion ------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "relu^2"])
def test_analytic_hessian_of_the_finite_loss_against_finite_differences(name, rng):
    target = _target(rng, 200, 5, name)
    V = rng.standard_normal((3, 5))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    n, step = 15, 1e-5
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = step
        H[:, i] = (reduced_finite_loss(V + e.reshape(3, 5), target)[2].ravel()
                   - reduced_finite_loss(V - e.reshape(3, 5), target)[2].ravel()) / (2 * step)
    proj = np.zeros((n, n))
    for j in range(3):
        proj[j * 5:(j + 1) * 5, j * 5:(j + 1) * 5] = np.eye(5) - np.outer(V[j], V[j])
    fd = proj @ ((H + H.T) / 2) @ proj
    exact = reduced_finite_hessian(V, target)
    # central differences with h = 1e-5: truncation ~ h^2 |F'''| and rounding ~ 1e-16 / h, both below 1e-9
    assert np.max(np.abs(exact - fd)) < 1e-8 * np.max(np.abs(exact))


def test_newton_polish_converges_where_bfgs_stalls(rng):
    """At d = 16 BFGS's line search stops near 1e-8 (the issue's unconverged searches); the polish reaches 1e-10."""
    target = _target(rng, 600, 16)
    best = minimise_finite_loss(target, 3, rng, starts=2)
    assert max(best.gradient_norms) < 1e-10 and best.converged
    assert len(best.bfgs_gradient_norms) == 2
    assert best.value <= min(best.start_values)


def test_rigid_gradient_taylor_remainder(rng):
    target = _target(rng, 150, 6)
    E = simplex_etf(4, 3)
    y = rng.standard_normal(18)
    h = rng.standard_normal(18)
    f0, g = rigid_value_and_gradient(y, E, target)
    ts = np.logspace(-2, -4.5, 6)
    rem = [abs(rigid_value_and_gradient(y + t * h, E, target)[0] - f0 - t * float(g @ h)) for t in ts]
    assert 1.8 < np.polyfit(np.log(ts), np.log(rem), 1)[0] < 2.2


def test_minimiser_motion_separates_rotation_and_deformation(rng):
    d, M = 6, 4
    q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    etf = simplex_etf(M, d) @ q.T
    m = minimiser_motion(etf, q[:, :M - 1])
    assert m.deformation < 1e-12 and m.gram_distance < 1e-12 and m.span_alignment < 1e-12
    bump = 1e-4 * rng.standard_normal((M, d))
    moved = minimiser_motion(etf + bump, q[:, :M - 1])
    assert 0 < moved.deformation < np.linalg.norm(bump) * 2 and moved.gram_distance < 4 * np.linalg.norm(bump)


# ---- prediction against measurement ----------------------------------------------------------------------------


def test_leading_constant_formula():
    lead = leading_constant("relu", 8, 3, samples=20_000, seed=4)
    s = lead.setup
    assert math.isclose(lead.A, s.degree_two_factor * s.beta0 * s.s * lead.goe.mean, rel_tol=1e-14)
    assert math.isclose(s.s, math.sqrt(s.alpha_sq / (8 * 10)), rel_tol=1e-14)
    assert lead.A < lead.A_edge                                  # finite d: the top eigenvalues sit below the edge


def test_predicted_mean_gain_against_measured_small_case(rng):
    """d = 8, M = 3, N = 400, 14 draws: |mean G_N - predicted| < 4 standard errors (measurement + prediction)."""
    d, M, N = 8, 3, 400
    pred = finite_n_gain("relu", d, M, N, seed=5, target_samples=400, sphere_samples=50_000, goe_samples=5000)
    gains, per_draw = [], []
    for _ in range(14):
        target = _target(rng, N, d)
        abar_n = float(target.alpha.mean())
        lt = target.self_term - abar_n**2 * pred.setup.c_d**2 * pred.setup.q
        gains.append(lt - minimise_finite_loss(target, M, rng, starts=2).value)
        per_draw.append(per_draw_gain(target.alpha, target.units, M).degree_two)
    g = np.array(gains)
    se = math.hypot(g.std(ddof=1) / math.sqrt(g.size), pred.total_se)
    assert abs(g.mean() - pred.total) < 4 * se
    assert np.all(g > 0)
    assert np.corrcoef(per_draw, g)[0, 1] > 0.5      # measured 0.84 at d = 16, N = 1000, M = 5 (benchmark)


def test_spectral_matrix_is_traceless(rng):
    units = _sphere(100, 5, rng)
    assert abs(np.trace(spectral_matrix(rng.random(100), units))) < 1e-14


# ---- the command line ------------------------------------------------------------------------------------------


def _run(argv, capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``twolayer derive ARGV``."""
    return run_twolayer(["derive", *argv], capsys)


def test_cli_json_is_strict_and_complete(capsys):
    code, out, err = _run(["--finite-n-gain", "--M", "3", "--N", "300", "--d", "6", "--json"], capsys)
    assert code == 0, err

    def refuse(token):
        raise ValueError(token)

    doc = json.loads(out, parse_constant=refuse)
    assert (doc["d"], doc["M"], doc["N"], doc["seed"]) == (6, 3, 300, 0)
    names = [t["name"] for t in doc["terms"]]
    assert names[0] == "leading, degree 2, GOE limit" and len(names) == 7
    total = doc["terms"][1]["value"] + doc["terms"][0]["value"] + sum(t["value"] for t in doc["terms"][2:])
    assert math.isclose(doc["predicted_mean_gain"], total, rel_tol=1e-12)
    assert doc["predicted_mean_gain_se"] > 0 and doc["leading_constant_A_se"] > 0


def test_cli_text(capsys):
    code, out, _ = _run(["--finite-n-gain", "--M", "3", "--N", "300", "--d", "6"], capsys)
    assert code == 0 and "predicted E[G_N]" in out and "not included" in out


@pytest.mark.parametrize("argv,argument", [
    (["--finite-n-gain", "--M", "3", "--d", "6"], "N"),
    (["--finite-n-gain", "--M", "3", "--d", "6", "--N", "5"], "N"),
    (["--finite-n-gain", "--M", "3", "--d", "6", "--N", "1e3"], "N"),
    (["--finite-n-gain", "--M", "3", "--d", "6", "--N", "100,200"], "N"),
    (["--finite-n-gain", "--M", "2", "--d", "6", "--N", "100"], "M"),
    (["--finite-n-gain", "--M", "9", "--d", "6", "--N", "100"], "M"),
    (["--finite-n-gain", "--M", "3", "--d", "500", "--N", "100"], "d"),
    (["--finite-n-gain", "--M", "3", "--d", "6", "--N", "100", "--seed", "-1"], "seed"),
    (["--finite-n-gain", "--M", "3", "--d", "6", "--N", "100", "--latex"], "latex"),
    (["--N", "100"], "N"),
])
def test_cli_bad_input_exits_2_with_one_line(argv, argument, capsys):
    code, out, err = _run(argv, capsys)
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and f"argument {argument}" in lines[0]

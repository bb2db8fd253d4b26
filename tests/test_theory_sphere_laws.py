"""Sphere averages (closed form, 1/d series, quadrature, Monte Carlo) and target-law scaling moments."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from theory.activations import get_activation
from theory.errors import InputError
from theory.sphere import ID, D, sphere_average_expr, sphere_average_mp, sphere_average_series, sphere_moment
from theory.target_laws import _laplace_norm_power, gaussian_e, get_law

ACTS = ["relu", "leaky_relu(1/10)", "abs", "step", "relu^2", "relu^3"]


def _mp(expr, dps):
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(expr, dps + 5))


@pytest.mark.parametrize("dps", [30, 50])
def test_sphere_average_closed_form_vs_quadrature(dps):
    tol = mpmath.mpf(10) ** -(dps - 5)  # quadrature to ~dps digits, 5 guard digits
    cases = [("relu", 11), ("abs", 4), ("relu^3", 7)] if dps == 50 else [(a, d) for a in ACTS for d in (2, 5)]
    for name, d in cases:
        act = get_activation(name)
        exact = sphere_average_expr(act, sp.Integer(d))
        assert abs(_mp(exact, dps) - sphere_average_mp(act, d, dps)) < tol


def test_relu_sphere_average_model_values():
    relu = get_activation("relu")
    assert [sphere_average_expr(relu, sp.Integer(d)) for d in (1, 3, 5, 11)] == [
        sp.Rational(1, 4), sp.Rational(3, 16), sp.Rational(45, 256), sp.Rational(43659, 262144)]
    assert sphere_average_series(relu, 0) == 1 / (2 * sp.pi)  # d -> infinity limit


@pytest.mark.parametrize("name", ACTS)
def test_sphere_series_error_is_next_order(name):
    """c_d - series_3(1/d) = O(d^-4): the scaled error d^4 (c_d - series) settles to a constant."""
    act = get_activation(name)
    series = sphere_average_series(act, 3)
    exact = sphere_average_expr(act)
    scaled = [float(((exact - series.subs(ID, 1 / D)) * D**4).subs(D, d).evalf(30)) for d in (400, 800, 1600)]
    if max(abs(x) for x in scaled) < 1e-20:
        return  # step: c_d is constant, series exact
    assert abs(scaled[2] - scaled[1]) < 0.75 * abs(scaled[1] - scaled[0]) + 1e-9 * abs(scaled[2])  # O(1/d) settling: ratio -> 1/2
    assert abs(scaled[2]) < 10 * abs(scaled[0]) + 1e-12


def test_sphere_moments_and_monte_carlo(rng):
    n = 200_000
    g = rng.standard_normal((n, 6))
    t = g[:, 0] / np.linalg.norm(g, axis=1)
    for k in (2, 4, 6):
        vals = t**k
        se = vals.std(ddof=1) / np.sqrt(n)
        assert abs(vals.mean() - float(sphere_moment(k, sp.Integer(6)))) < 4 * se  # 4 standard errors
    relu = get_activation("relu")
    from theory.kernels import dual_kernel

    kv = dual_kernel(relu).numpy(t)
    se = kv.std(ddof=1) / np.sqrt(n)
    assert abs(kv.mean() - float(sphere_average_expr(relu, sp.Integer(6)))) < 4 * se


# --- target laws ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dps", [30, 50])
def test_gaussian_norm_moments_two_routes(dps):
    """Exact chi moments vs the Laplace-transform quadrature used for non-Gaussian laws."""
    law = get_law("gaussian(3/2)")
    tol = mpmath.mpf(10) ** -(dps - 5)
    for d, p in [(3, 1), (8, 3)]:
        exact, method, _ = law._norm_power(d, p, dps)
        with mpmath.workdps(dps):
            quad = _laplace_norm_power(lambda j, s: gaussian_e(j, s, mpmath.mpf(9) / 4), d, p, dps)
            assert method == "exact" and abs(exact - quad) < tol * exact


def test_uniform_and_moment_laws_against_monte_carlo(rng):
    n = 200_000
    for spec, d in [("uniform", 3), ("moments(m4=2,m6=5)", 4), ("rademacher", 5), ("gaussian(2)", 3)]:
        law = get_law(spec)
        _, W = law.sample(n, d, rng)
        norms = np.linalg.norm(W, axis=1)
        sm = law.scaling_moments(d, 1, dps=20)
        for k in (1, 2, 3):
            vals = norms**k
            se = vals.std(ddof=1) / np.sqrt(n)
            if sm.method[k - 1].startswith("expansion"):
                continue  # an expansion is not the law's exact value; checked separately below
            assert abs(vals.mean() - float(sm.alpha_moments[k - 1])) < 4 * se + 1e-15, (spec, k)  # 4 SE
        z = W.ravel() * np.sqrt(d)
        for j, m in enumerate([law.moment(2), law.moment(4)], start=1):
            vals = z ** (2 * j)
            assert abs(vals.mean() - float(m)) < 4 * vals.std(ddof=1) / np.sqrt(z.size) + 1e-12


def test_moment_expansion_matches_uniform_to_next_order():
    """The moments-law 1/d expansion with uniform moments differs from the exact uniform value by O(d^-3)."""
    exact_law, moment_law = get_law("uniform"), get_law("moments(m4=9/5,m6=27/7)")
    errs = []
    for d in (10, 20, 40):
        a = exact_law.scaling_moments(d, 1, dps=15).abar
        b = moment_law.scaling_moments(d, 1, dps=15).abar
        errs.append(float(abs(a - b)) * d**3)
    assert errs[2] < 1.5 * errs[0] and errs[2] > 0.5 * errs[0]  # d^3 * error roughly constant


def test_moment_law_atoms_match_moments():
    nodes, weights = get_law("moments(m4=3,m6=15)").atoms()
    for j, m in enumerate([1, 1, 3, 15]):
        assert abs(np.sum(weights * nodes ** (2 * j)) - m) < 1e-9  # float64 eigen-solution of a 4x4 Jacobi matrix


@pytest.mark.parametrize("spec", ["t(3)", "gaussian(-1)", "moments(m4=0.5)", "moments(m6=15)", "moments(m4=3,m8=1)",
                                  "moments(x=1)", "gaussian(__import__('os'))", 3])
def test_bad_laws(spec):
    with pytest.raises(InputError) as err:
        get_law(spec)
    assert err.value.argument == "law"

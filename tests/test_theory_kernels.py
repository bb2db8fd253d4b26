"""Activations, Hermite coefficients and dual kernels: closed forms against independent quadrature and series."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from test_theory_reference import hermite_by_quadrature, kernel_by_quadrature, relu_mu_sq_model
from theory.activations import get_activation
from theory.custom_activation import PiecewiseActivation, parse_activation
from theory.errors import InputError
from theory.kernels import RHO, dual_kernel, kernel_series

BUILTINS = ["relu", "leaky_relu(1/10)", "abs", "step", "relu^2", "relu^3"]
# (activation, dps) pairs in the default run: every activation at dps 30, three at dps 50 (each costs seconds).
DEFAULT_CASES = [("relu", 30), ("relu", 50), ("step", 50), ("abs", 30), ("relu^2", 30)]
SLOW_CASES = [("leaky_relu(1/10)", 30), ("relu^3", 30)] + [(n, 50) for n in ("leaky_relu(1/10)", "abs", "relu^2", "relu^3")]


def _mp(expr, dps):
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(expr, dps + 5))


@pytest.mark.parametrize("name,dps", DEFAULT_CASES + [pytest.param(*c, marks=pytest.mark.slow) for c in SLOW_CASES])
def test_kernel_closed_form_matches_quadrature(name, dps):
    act = get_activation(name)
    kern = dual_kernel(act)
    tol = mpmath.mpf(10) ** -(dps - 5)  # quadrature reference good to ~dps digits; 5 guard digits
    for text in ["-0.7"]:
        with mpmath.workdps(dps):
            rho = mpmath.mpf(text)
            ref = kernel_by_quadrature(act.p, act.q, act.degree, rho, dps)
            assert abs(kern.mp(rho, dps) - ref) < tol * max(1, abs(ref))


@pytest.mark.parametrize("name", ["relu", "step", "relu^3"] + [pytest.param(n, marks=pytest.mark.slow)
                                                                for n in ("leaky_relu(1/10)", "abs", "relu^2")])
def test_hermite_coefficients_exact_vs_quadrature(name):
    act = get_activation(name)
    dps = 30
    for k in range(5):
        mu = act.hermite_coefficient(k)
        ref = hermite_by_quadrature(act.p, act.q, act.degree, k, dps)
        assert abs(_mp(mu, dps + 5) - ref) < mpmath.mpf(10) ** -(dps - 5)  # quadrature to ~dps digits


def test_relu_hermite_matches_model_formula_exactly():
    relu = get_activation("relu")
    assert relu.hermite_coefficient(0) == 1 / sp.sqrt(2 * sp.pi)
    for k in range(1, 14):
        exact = relu.hermite_coefficient(k) ** 2
        model = sp.Rational(1, 4) if k == 1 else (0 if k % 2 else sp.factorial2(k - 3) ** 2 / (2 * sp.pi * sp.factorial(k)))
        assert sp.simplify(exact - model) == 0


@pytest.mark.parametrize("name", BUILTINS)
def test_power_series_is_taylor_series_of_closed_form(name):
    act = get_activation(name)
    series = kernel_series(act, 6)
    taylor = sp.series(dual_kernel(act).expr, RHO, 0, 7).removeO()
    assert sp.simplify(sp.expand(series - taylor)) == 0
    assert sp.simplify(sum(series.coeff(RHO, k) for k in range(7)) - act.second_moment()) <= 0  # partial sums below E sigma^2


def test_relu_kernel_values_from_model():
    kern = dual_kernel(get_activation("relu"))
    assert sp.simplify(kern.expr.subs(RHO, 1)) == sp.Rational(1, 2)
    assert sp.simplify(kern.expr.subs(RHO, 0)) == 1 / (2 * sp.pi)
    assert sp.simplify(kern.expr.subs(RHO, -1)) == 0


def test_series_sum_route_for_relu_kernel():
    """A second route: the MODEL.md Hermite series summed to 1e-40 at rho = 1/2 equals the closed form."""
    kern = dual_kernel(get_activation("relu"))
    with mpmath.workdps(50):
        series = mpmath.fsum(relu_mu_sq_model(k) * mpmath.mpf(0.5) ** k for k in range(160))
        assert abs(series - kern.mp(0.5, 50)) < mpmath.mpf(10) ** -40  # tail < 2^-160; 10 guard digits


# --- custom piecewise polynomial activations ------------------------------------------------------------------


def test_custom_homogeneous_maps_to_closed_form():
    act = parse_activation("pw(t<0: t/10; else: t)")
    assert (act.degree, act.p, act.q) == (1, 1, sp.Rational(-1, 10))
    assert dual_kernel(act).expr == dual_kernel(get_activation("leaky_relu(1/10)")).expr
    assert parse_activation("pw(t<0: 0; else: t^2)").degree == 2
    assert parse_activation("pw(t<0: 3*t; else: 3*t)").q == -3


def test_custom_hard_tanh_series_kernel_within_tail_bound():
    with pytest.raises(InputError):  # callers that need a homogeneity degree never receive it
        get_activation("pw(t<-1: -1; t<1: t; else: 1)")
    act = get_activation("pw(t<-1: -1; t<1: t; else: 1)", allow_general=True)
    assert isinstance(act, PiecewiseActivation) and act.degree is None
    kern = dual_kernel(act, 20)  # order 20 keeps the test fast; the default order is 40
    bound = float(kern.tail_bound)
    assert 0 < bound < 1e-3
    f = lambda x: max(-1, min(1, x))  # noqa: E731

    def inner(a, s):  # E clip(a + s z, -1, 1) in closed form
        lo, hi = (-1 - a) / s, (1 - a) / s
        return (mpmath.ncdf(-hi) - mpmath.ncdf(lo) + a * (mpmath.ncdf(hi) - mpmath.ncdf(lo))
                + s * (mpmath.npdf(lo) - mpmath.npdf(hi)))

    for rho in (-0.6, 0.3, 0.95):
        with mpmath.workdps(20):
            s = mpmath.sqrt(1 - mpmath.mpf(rho) ** 2)
            ref = mpmath.quad(lambda u: mpmath.npdf(u) * f(u) * inner(rho * u, s), [-mpmath.inf, -1, 1, mpmath.inf])
        assert abs(float(kern.numpy(np.array(rho))) - float(ref)) <= bound + 1e-12  # rigorous tail bound + quadrature
    # E sigma^2 by quadrature equals the exact second moment
    with mpmath.workdps(30):
        ref2 = mpmath.quad(lambda u: mpmath.npdf(u) * f(u) ** 2, [-mpmath.inf, -1, 1, mpmath.inf])
    assert abs(_mp(act.second_moment(), 35) - ref2) < mpmath.mpf(10) ** -25  # quadrature at 30 digits


def test_custom_hermite_coefficients_vs_quadrature():
    act = get_activation("pw(t<-0.5: 0; t<2: t^2 - t; else: 2)", allow_general=True)
    sig = lambda u: 0 if u < -0.5 else (u * u - u if u < 2 else 2)  # noqa: E731
    for k in range(4):
        with mpmath.workdps(30):
            ref = mpmath.quad(lambda u: sig(u) * mpmath.hermite(k, u / mpmath.sqrt(2)) * mpmath.mpf(2) ** (-k / 2)
                              * mpmath.npdf(u), [-mpmath.inf, -0.5, 2, mpmath.inf]) / mpmath.sqrt(mpmath.factorial(k))
        assert abs(_mp(act.hermite_coefficient(k), 35) - ref) < mpmath.mpf(10) ** -25  # quadrature at 30 digits


@pytest.mark.parametrize("spec", [
    "__import__('os')", "pw(else: __import__('os'))", "pw(else: t.__class__)", "pw(t<0: t; else: exp(t))",
    "pw(t<1: t; t<0: 1; else: 2)", "pw(t<0: t)", "pw(else: t^99)", "pw(else: t/t)", "pw(else: (t+1)", "sigmoid",
])
def test_bad_activation_strings_are_rejected(spec):
    with pytest.raises(InputError) as err:
        get_activation(spec)
    assert err.value.argument == "activation"


@pytest.mark.parametrize("name", BUILTINS)
def test_kernel_derivative_taylor(name):
    """kappa' from derivative_expr passes a Taylor-remainder slope test (numpy) and matches mpmath."""
    kern = dual_kernel(get_activation(name))
    hs = np.array([1e-2, 5e-3, 2.5e-3])
    for rho in (-0.4, 0.35):
        f0, g = float(kern.numpy(rho)), float(kern.numpy_prime(rho))
        errs = np.array([abs(float(kern.numpy(rho + h)) - f0 - h * g) for h in hs])
        slopes = np.diff(np.log(errs)) / np.diff(np.log(hs))
        assert np.all(slopes > 1.8)  # second-order remainder
        assert abs(float(kern.mp_prime(rho, 30)) - g) < 1e-13


def test_stored_arccos_kernels_equal_the_derivation():
    """theory.kernels stores k_0..k_3 (parsing is fast); the J_n recursion re-derives each to the same expression."""
    from theory.kernels import arccos_kernel, derive_arccos_kernel

    for n in range(4):
        assert arccos_kernel(n) == derive_arccos_kernel(n), n


def test_combine_shortcut_returns_simplify_fixed_point():
    """_combine skips simplify for p = +-1, q = 0 (relu^n): the stored kernels are simplify's fixed points."""
    from theory.kernels import arccos_kernel, arccos_kernel_derivative

    for n in range(4):
        for e in (arccos_kernel(n), arccos_kernel_derivative(n)):
            assert sp.simplify(e) == e, n


def _half_line_moment(m: int):
    """E[max(g, 0)^m] for g ~ N(0, 1) by the recursion m_k = (k - 1) m_{k-2}, m_0 = 1/2, m_1 = 1/sqrt(2 pi)."""
    if m == 0:
        return sp.Rational(1, 2)
    if m == 1:
        return 1 / sp.sqrt(2 * sp.pi)
    return (m - 1) * _half_line_moment(m - 2)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_relu_power_hermite_coefficients_equal_the_half_line_moment_sums(n):
    from theory.activations import T, _relu_power_gaussian_hermite

    for k in range(13):
        coeffs = sp.Poly(sp.hermite_prob(k, T), T).all_coeffs()[::-1]
        reference = sum(c * _half_line_moment(n + i) for i, c in enumerate(coeffs) if c != 0)
        assert sp.simplify(_relu_power_gaussian_hermite(n, k) - reference) == 0, (n, k)


@pytest.mark.parametrize("name", ["relu", "leaky_relu(0.1)", "abs", "step", "relu^2", "relu^3", "leaky_relu(-0.5)"])
def test_hermite_coefficients_are_in_simplified_form(name):
    act = get_activation(name)
    for k in range(13):
        value = act.hermite_coefficient(k)
        assert str(sp.simplify(value)) == str(value), (name, k)

"""theory.closed_form.tidy_number against sympy's simplify (same value, comparable length), and the exp-series recurrence against sympy's series."""

import pytest
import sympy as sp

from theory.activations import get_activation
from theory.closed_form import tidy_number
from theory.kernels import RHO, dual_kernel
from theory.sphere import ID, _exp_series, sphere_average_expr


@pytest.mark.parametrize("name", ["relu", "abs", "step", "relu^2"])
@pytest.mark.parametrize("M", [3, 5, 64])
def test_etf_forms_match_simplify(name, M):
    act = get_activation(name)
    kern = dual_kernel(act)
    k1 = sp.nsimplify(kern.at_one)
    k_rho0 = kern.expr.subs(RHO, sp.Rational(-1, M - 1))
    lam = k1 + (M - 1) * tidy_number(k_rho0)
    c_d = sphere_average_expr(act, sp.Integer(M - 1))
    for expr in (k_rho0, lam, M / lam, 1 - c_d * M / lam):
        fast, slow = tidy_number(expr), sp.simplify(expr)
        assert len(str(fast)) <= 1.5 * len(str(slow))
        assert abs(sp.N(fast - expr, 60)) < 1e-55


def test_outside_the_class_falls_back_to_simplify():
    d = sp.Symbol("d", positive=True)
    expr = sp.gamma(d + 1) / sp.gamma(d)
    assert tidy_number(expr) == sp.simplify(expr) == d
    assert tidy_number(sp.sin(sp.pi / 7) ** 2 + sp.cos(sp.pi / 7) ** 2) == 1


def test_value_is_never_changed():
    x = sp.Rational(3, 7)
    expr = (sp.sqrt(1 - x**2) + (sp.pi - sp.acos(x)) * x) / (2 * sp.pi) + sp.sqrt(sp.Rational(8, 3)) / (sp.pi + 1)
    assert abs(sp.N(tidy_number(expr) - expr, 80)) < 1e-75


def test_exp_series_matches_sympy_series():
    logs = [sp.Integer(0), sp.Rational(1, 3), sp.Rational(-2, 5), sp.Rational(7, 11), sp.Rational(1, 13)]
    ours = _exp_series(logs, 4)
    theirs = sp.series(sp.exp(sum(c * ID**k for k, c in enumerate(logs))), ID, 0, 5).removeO()
    assert sp.expand(ours - theirs) == 0

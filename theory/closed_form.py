"""A cheap canonical form for the exact numbers the ETF formulas produce, in place of sympy's ``simplify``.

The regime-I ETF values of a positively homogeneous activation are rational functions of pi, square roots of
rationals and acos of rationals (kappa at rho0 = -1/(M-1), c_d at an integer d). For that class,
the shorter of ``factor_terms(together(expand(e)))`` (one fraction with integer coefficients, common factors
pulled out) and ``factor_terms(e)`` costs 5-10 ms against simplify's 100-350 ms (and simplify's first call imports
sympy.physics.units, 0.36 s). Its form is often simplify's, string for string, and otherwise of comparable
length (for the built-in activations at M = 3, 5, 64: at most 1.5 times as long (9 characters more on the shortest), and often shorter;
tests/test_theory_closed_form.py). Every step is an identity, so the value never changes; an expression with
any other function or a free symbol in it goes to ``simplify`` as before.
"""

from __future__ import annotations

import sympy as sp



def _in_class(expr: sp.Expr) -> bool:
    """True when expr's only functions are acos of numbers (powers and pi are always fine)."""
    for f in expr.atoms(sp.Function):
        if not (isinstance(f, sp.acos) and f.args[0].is_Rational):
            return False
    return not expr.free_symbols


def tidy_number(expr) -> sp.Expr:
    """expr in one fraction with common factors out (exactly equal to expr); ``simplify`` outside the class.

    Examples
    --------
    >>> tidy_number(sp.Rational(1, 2) + (sp.sqrt(3) / 2 - sp.pi / 3) / sp.pi)
    (pi + 3*sqrt(3))/(6*pi)
    """
    expr = sp.sympify(expr)
    if not _in_class(expr):
        return sp.simplify(expr)
    one_fraction = sp.factor_terms(sp.together(sp.expand(expr)))
    as_given = sp.factor_terms(expr)
    return as_given if _printed_size(as_given) < _printed_size(one_fraction) else one_fraction


def _printed_size(expr: sp.Expr) -> float:
    """About len(str(expr)) without printing it (str() refuses integers of more than 4300 digits)."""
    digits = sum(0.30103 * (abs(r.p).bit_length() + (abs(r.q).bit_length() if r.q != 1 else 0))
                 for r in expr.atoms(sp.Rational))
    return digits + 4 * sp.count_ops(expr)

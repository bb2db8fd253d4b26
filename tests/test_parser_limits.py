"""Limits of the --activation and --law parsers: every bad spelling is one line on stderr with exit status 2.

Regression cases: deep parentheses and long sign runs (RecursionError), 5000-digit and 1e999999 numbers (Python's
4300-digit int limit), leaky_relu(1/0) ('cannot create mpf from zoo'), gaussian(1e308) (OverflowError) and a repeated
moment key (silently accepted). Then legitimate spellings still work, and random text over the grammar's alphabet
either parses or raises InputError, nothing else.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conjecture.command_line import main
from theory import custom_activation, target_laws
from theory.activations import (MAX_EXPONENT, MAX_MAGNITUDE, MAX_NUMBER_DIGITS, MAX_SPEC_CHARS, get_activation,
                                parse_number)
from theory.errors import InputError
from theory.target_laws import get_law

# Fast derive settings: the parser is what is under test, not the closed forms.
FAST = ["--dps", "10", "--order", "2", "--d", "2", "--M", "2"]


def _derive(capsys, flag: str, value: str) -> tuple[int, str, str]:
    code = main(["derive", flag, value, *FAST])
    out, err = capsys.readouterr()
    return code, out, err


def _refused(capsys, flag: str, value: str, *needles: str) -> str:
    """derive exits 2 with exactly one line on stderr that names the argument and contains ``needles``."""
    code, out, err = _derive(capsys, flag, value)
    argument = flag.lstrip("-")
    assert code == 2, (code, err[-500:])
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert f"argument {argument}:" in err, err
    for needle in needles:
        assert needle in err, err
    assert len(err) < 400  # a huge input is not echoed back in full
    return err


# ---- regressions -------------------------------------------------------------------------------------------

def test_deeply_nested_parentheses_is_refused_not_recursion_error(capsys):
    spec = "pw(else: " + "(" * 250 + "t" + ")" * 250 + ")"
    _refused(capsys, "--activation", spec, f"nested more than {custom_activation.MAX_NESTING} deep")


def test_nesting_at_the_limit_still_parses():
    depth = custom_activation.MAX_NESTING
    act = get_activation("pw(else: " + "(" * depth + "t" + ")" * depth + ")")
    assert act.degree == 1 and act.p == 1 and act.q == -1


def test_long_run_of_signs_is_refused_not_recursion_error(capsys):
    # each unary sign counts as a nesting level (the run itself is read in a loop, not by recursion)
    for count in (1500, 400, custom_activation.MAX_NESTING + 1):
        _refused(capsys, "--activation", "pw(else: " + "-" * count + "t)", f"nested more than {custom_activation.MAX_NESTING} deep")
    assert (get_activation("pw(else: " + "-" * custom_activation.MAX_NESTING + "t)").p,
            get_activation("pw(else: " + "-" * (custom_activation.MAX_NESTING - 1) + "t)").p) == (1, -1)
    # parentheses and signs together
    half = custom_activation.MAX_NESTING // 2
    assert get_activation("pw(else: " + "-(" * half + "t" + ")" * half + ")").p == 1
    _refused(capsys, "--activation", "pw(else: " + "-(" * (half + 1) + "t" + ")" * (half + 1) + ")", "nested more than")


def test_leaky_relu_huge_exponent(capsys):
    _refused(capsys, "--activation", "leaky_relu(1e999999)", f"at most {MAX_EXPONENT}")


def test_leaky_relu_out_of_range(capsys):
    _refused(capsys, "--activation", "leaky_relu(2e6)", "absolute value <= 1e+06")


def test_pw_5000_digit_coefficient(capsys):
    # caught by the length limit first
    _refused(capsys, "--activation", "pw(t<0: " + "9" * 5000 + "*t; else: t)", f"the limit is {MAX_SPEC_CHARS}")


def test_pw_coefficient_with_too_many_digits(capsys):
    _refused(capsys, "--activation", "pw(t<0: " + "9" * (MAX_NUMBER_DIGITS + 10) + "*t; else: t)",
             f"more than {MAX_NUMBER_DIGITS} digits")


def test_pw_coefficient_too_large(capsys):
    _refused(capsys, "--activation", "pw(t<0: 2000000*t; else: t)", "absolute value <= 1e+06")


def test_pw_computed_coefficient_too_large(capsys):
    _refused(capsys, "--activation", "pw(else: (1000000*1000000*1000000)*t)", "intermediate")


def test_pw_nested_constant_powers_are_bounded(capsys):
    _refused(capsys, "--activation", "pw(else: ((((0.5^10)^10)^10)^10)*t)", f"{custom_activation.MAX_RATIONAL_DIGITS} digits")


def test_pw_breakpoint_too_far_out(capsys):
    _refused(capsys, "--activation", "pw(t<1000000: t; else: 1)", f"<= {custom_activation.MAX_BREAKPOINT}")


def test_pw_division_by_zero(capsys):
    _refused(capsys, "--activation", "pw(else: t/(t-t))", "division by zero")
    _refused(capsys, "--activation", "pw(else: t/0)", "division by zero")


def test_gaussian_5000_digit_scale(capsys):
    _refused(capsys, "--law", "gaussian(" + "9" * 5000 + ")", f"the limit is {MAX_SPEC_CHARS}")
    _refused(capsys, "--law", "gaussian(" + "9" * 1900 + ")", f"more than {MAX_NUMBER_DIGITS} digits")


def test_moments_5000_digit_value(capsys):
    _refused(capsys, "--law", "moments(m4=" + "9" * 5000 + ")", f"the limit is {MAX_SPEC_CHARS}")
    _refused(capsys, "--law", "moments(m4=" + "9" * 60 + ")", f"more than {MAX_NUMBER_DIGITS} digits")
    _refused(capsys, "--law", "moments(m4=1e13)", "moment m4 must have absolute value <= 1e+12")


def test_moments_5000_digit_key(capsys):
    _refused(capsys, "--law", "moments(m" + "4" * 1900 + "=3)", "moment names are m2, m4, ..., m16")


def test_relu_power_5000_digits(capsys):
    _refused(capsys, "--activation", "relu^" + "4" * 1900, "relu^k needs k in 0..3")


def test_leaky_relu_division_by_zero(capsys):
    _refused(capsys, "--activation", "leaky_relu(1/0)", "divides by zero")


def test_gaussian_1e308(capsys):
    _refused(capsys, "--law", "gaussian(1e308)", f"at most {MAX_EXPONENT}")
    _refused(capsys, "--law", "gaussian(1e7)", "absolute value <= 1e+06")
    _refused(capsys, "--law", "gaussian(1e-7)", "s >= 1e-06")
    _refused(capsys, "--law", "gaussian(1/0)", "divides by zero")


def test_repeated_moment_key(capsys):
    _refused(capsys, "--law", "moments(m4=3,m4=5)", "m4 is given twice")
    _refused(capsys, "--law", "moments(m4=3, m6=15, m6=15)", "m6 is given twice")


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "1e", "", ".", "1_0", "0x10", "1/-0", "infinity"])
def test_non_finite_or_malformed_numbers(capsys, value):
    _refused(capsys, "--activation", f"leaky_relu({value})")
    _refused(capsys, "--law", f"gaussian({value})")
    _refused(capsys, "--law", f"moments(m4={value})")


def test_overlong_spec(capsys):
    _refused(capsys, "--activation", "relu" + " " * MAX_SPEC_CHARS, f"the limit is {MAX_SPEC_CHARS}")
    _refused(capsys, "--law", "gaussian" + " " * MAX_SPEC_CHARS, f"the limit is {MAX_SPEC_CHARS}")


def test_limits_are_consistent():
    assert MAX_MAGNITUDE <= custom_activation.MAX_COEFFICIENT
    assert target_laws.MIN_SCALE > 0 and target_laws.MAX_SCALE >= 1
    assert parse_number("1e6", "law") == MAX_MAGNITUDE
    assert parse_number("-" + "1" * MAX_NUMBER_DIGITS + "e-" + str(MAX_EXPONENT), "law") < 0


# ---- legitimate inputs ---------------------------------------------------------------------------------------

ACTIVATIONS = ["relu", "leaky_relu(0.2)", "leaky_relu(1/10)", "pw(t<-1: -1; t<1: t; else: 1)"]
LAWS = ["gaussian(2)", "moments(m4=3,m6=15)", "rademacher", "uniform"]


@pytest.mark.parametrize("spec", ACTIVATIONS)
def test_legitimate_activations_derive(capsys, spec):
    code, out, err = _derive(capsys, "--activation", spec)
    assert code == 0 and err == "" and "activation=" in out


@pytest.mark.parametrize("spec", LAWS[:3])  # uniform's derive takes ~10 s (quadrature); its parse is checked below
def test_legitimate_laws_derive(capsys, spec):
    code, out, err = _derive(capsys, "--law", spec)
    assert code == 0 and err == "" and "law=" in out


def test_legitimate_values():
    assert get_activation("leaky_relu(0.2)").q == get_activation("leaky_relu(1/5)").q == get_activation("leaky_relu(2e-1)").q
    assert get_activation("leaky_relu(1/10)").name == "leaky_relu(1/10)"
    assert get_activation("relu^2").degree == 2 and get_activation("relu3").degree == 3
    hard_tanh = get_activation("pw(t<-1: -1; t<1: t; else: 1)", allow_general=True)
    assert hard_tanh.breakpoints == (-1, 1)
    assert get_law("gaussian(2)").moment(4) == 48
    assert get_law("moments(m4=3,m6=15)").kappa4 == 0
    assert get_law("rademacher").moment(8) == 1
    assert get_law("uniform").moment(2) == 1
    # the largest admitted values still parse, and the Gaussian moments up to m16 are admitted
    assert get_law("gaussian(1e6)").scale == 10**6 and get_law("gaussian(1e-6)").scale * 10**6 == 1
    assert get_law("moments(m4=3,m6=15,m8=105,m10=945,m12=10395,m14=135135,m16=2027025)").kappa4 == 0
    assert get_activation("pw(t<0: (10*t)^10; else: 1000000*t^10)", allow_general=True).pieces[0][10] == 10**10


# ---- property: the parsers raise InputError or succeed, nothing else -----------------------------------------

ALPHABET = "abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "0123456789" + "()^;:<>=.,+-*/ "
PREFIXES = ["", "pw(", "pw(else: ", "pw(t<", "leaky_relu(", "relu^", "gaussian(", "moments(m4=", "moments("]
TOKENS = ["t", "+", "-", "*", "/", "^", "**", "(", ")", "0", "1", "2", "10", "2.5", ".5", "999999", " ", "; t<1: ",
          "; else: ", ": "]


def _parse_both(text: str) -> None:
    for parse in (lambda s: get_activation(s, allow_general=True), get_law):
        try:
            parse(text)
        except InputError as err:
            assert "\n" not in str(err)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PREFIXES), st.text(alphabet=ALPHABET, max_size=300), st.sampled_from(["", ")"]))
def test_random_text_parses_or_raises_input_error(prefix, body, suffix):
    _parse_both(prefix + body + suffix)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=60), st.sampled_from(["pw(else: ", "pw(t<0: ", "pw(t<-1: "]))
def test_random_polynomials_parse_or_raise_input_error(tokens, prefix):
    body = "".join(tokens)
    _parse_both(prefix + body + ("; else: t)" if "else" not in prefix else ")"))

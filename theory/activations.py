"""Positively homogeneous activations and their exact Hermite coefficients.

Every positively homogeneous activation of degree n is determined by its values
at +1 and -1:  sigma(t) = p * relu(t)^n + q * relu(-t)^n.  That covers ReLU
(p, q) = (1, 0), leaky ReLU (1, -s), |t| (1, 1) and ReLU^k (1, 0) with n = k, and
it is the family for which the scaling-factor reduction of docs/model.md §1 holds:
sigma(<w, x>) = ||w||^n sigma(<w^, x>).
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from theory.closed_form import tidy_number
from theory.errors import InputError

T = sp.Symbol("t", real=True)
MAX_DEGREE = 3

# ---- limits on user text (--activation here and in theory.custom_activation, --law in theory.target_laws) ----
# Longest activation or law text: every legitimate spelling is far shorter, and it bounds the parsers' work.
MAX_SPEC_CHARS = 2000
# Most digits in one written number (mantissa, or numerator and denominator each): keeps exact rationals small
# and far from Python's 4300-digit int/str conversion limit.
MAX_NUMBER_DIGITS = 50
# Largest |exponent| in 1.5e-3 notation: with MAX_NUMBER_DIGITS the exact rational is built cheaply before its
# magnitude is checked (1e999999 would be a million-digit integer).
MAX_EXPONENT = 100
# Largest |number| in an activation (leaky_relu slope, pw coefficient or breakpoint): kernel values, slopes and
# second moments c^2 (2n-1)!! stay many orders of magnitude below the float64 overflow at 1.8e308.
MAX_MAGNITUDE = 10**6

_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?)([0-9]+))?")
_FRACTION = re.compile(r"([+-]?)([0-9]+)/([+-]?)([0-9]+)")


@lru_cache(maxsize=None)
def _relu_power_gaussian_hermite(n: int, k: int) -> sp.Expr:
    """E[relu(g)^n He_k(g)] for g ~ N(0, 1), exact (He_k expanded, half-line Gaussian moments)."""
    # E[relu(g)^m] = (m-1)!! / 2 (m even) or (m-1)!! / sqrt(2 pi) (m odd): the sum is A/2 + B/sqrt(2 pi) with
    # integers A, B, built directly (the same expressions, string for string, as simplify + nsimplify gave for
    # n <= 3, k <= 40, 19x faster; tests/test_theory_kernels.py checks it against the half-line moments).
    coeffs = sp.Poly(sp.hermite_prob(k, T), T).all_coeffs()[::-1]
    even = odd = sp.Integer(0)
    for i, c in enumerate(coeffs):
        if c != 0:
            m = n + i
            if m % 2 == 0:
                even += c * sp.factorial2(m - 1)
            else:
                odd += c * sp.factorial2(m - 1)
    return even / 2 + odd / sp.sqrt(2 * sp.pi)


@lru_cache(maxsize=None)
def _hermite_cached(act, k: int) -> sp.Expr:
    base = _relu_power_gaussian_hermite(act.degree, k)
    sign = sp.Integer(-1) ** k
    # Already in simplify's form (p, q rational; base = A/2 + B/sqrt(2 pi)): string for string the same as
    # sp.simplify of it for the built-in activations and k <= 40 (tests/test_theory_kernels.py checks k <= 12).
    return (act.p + sign * act.q) * base / sp.sqrt(sp.factorial(k))


@dataclass(frozen=True)
class Activation:
    """sigma(t) = p * max(t, 0)^degree + q * max(-t, 0)^degree.

    Parameters
    ----------
    name : canonical spelling, e.g. ``"relu"``, ``"leaky_relu(1/10)"``.
    degree : homogeneity degree n in {0, 1, 2, 3}; the scaling factor of a neuron
        (a, w) is a * ||w||^n.
    p, q : exact sympy numbers, sigma(1) and sigma(-1).

    Examples
    --------
    >>> relu = get_activation("relu")
    >>> relu.hermite_coefficient(0)
    sqrt(2)/(2*sqrt(pi))
    >>> relu.hermite_coefficient(2) ** 2
    1/(4*pi)
    """

    name: str
    degree: int
    p: sp.Expr
    q: sp.Expr

    @property
    def is_even(self) -> bool:
        """True when sigma(-t) = sigma(t) (then every odd Hermite coefficient vanishes)."""
        return sp.simplify(self.p - self.q) == 0

    def expression(self) -> sp.Expr:
        """sigma(t) as a sympy Piecewise in the symbol ``theory.activations.T``."""
        n = self.degree
        return sp.Piecewise((self.p * T**n, T > 0), (self.q * (-T) ** n, T < 0), (0 if n > 0 else (self.p + self.q) / 2, True))

    def hermite_coefficient(self, k: int) -> sp.Expr:
        """mu_k = E[sigma(g) He_k(g)] / sqrt(k!), exact.

        References: docs/model.md §3 (normalised probabilists' Hermite expansion).
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
            raise InputError("k", "Hermite order must be an integer >= 0", got=k)
        return _hermite_cached(self, int(k))

    def second_moment(self) -> sp.Expr:
        """E[sigma(g)^2] = kappa(1) = sum_k mu_k^2 (exact)."""
        n = self.degree
        half = sp.factorial2(2 * n - 1) / 2 if n > 0 else sp.Rational(1, 2)
        return tidy_number((self.p**2 + self.q**2) * half)


def check_spec_length(spec: str, argument: str) -> None:
    """InputError when ``spec`` is longer than MAX_SPEC_CHARS (checked before any parsing)."""
    if len(spec) > MAX_SPEC_CHARS:
        raise InputError(argument, f"the text is {len(spec)} characters long; the limit is {MAX_SPEC_CHARS}",
                         got=spec)


def parse_number(text: str, argument: str, *, what: str = "a number", bound=MAX_MAGNITUDE) -> sp.Rational:
    """A finite decimal (``0.1``, ``.5``, ``2e-3``) or fraction (``1/10``) as an exact rational, by hand (no eval,
    no sympify), within the limits above: at most MAX_NUMBER_DIGITS digits, |exponent| <= MAX_EXPONENT, no division
    by zero, and |value| <= ``bound``. Every refusal is an InputError naming ``argument``, ``what`` and the limit.

    Examples
    --------
    >>> parse_number("1/10", "activation"), parse_number("-2.5e-1", "activation")
    (1/10, -1/4)
    >>> parse_number("1/0", "activation")
    Traceback (most recent call last):
    ...
    theory.errors.InputError: argument activation: a number divides by zero (got '1/0')
    >>> parse_number("2e6", "activation", what="the slope")
    Traceback (most recent call last):
    ...
    theory.errors.InputError: argument activation: the slope must have absolute value <= 1e+06 (got '2e6')
    """
    body = text.strip() if isinstance(text, str) else ""
    if len(body) > 4 * MAX_NUMBER_DIGITS:
        raise InputError(argument, f"{what} is written with more than {MAX_NUMBER_DIGITS} digits", got=text)
    frac = _FRACTION.fullmatch(body)
    dec = None if frac else _DECIMAL.fullmatch(body)
    if frac:
        num, den = frac.group(2), frac.group(4)
        if max(len(num), len(den)) > MAX_NUMBER_DIGITS:
            raise InputError(argument, f"{what} has more than {MAX_NUMBER_DIGITS} digits in its numerator or "
                             "denominator", got=text)
        if int(den) == 0:
            raise InputError(argument, "a number divides by zero", got=text)
        sign = -1 if (frac.group(1) == "-") != (frac.group(3) == "-") else 1
        value = Fraction(sign * int(num), int(den))
    elif dec and (dec.group(2) or dec.group(3)):
        whole, part = dec.group(2), dec.group(3) or ""
        if len(whole) + len(part) > MAX_NUMBER_DIGITS:
            raise InputError(argument, f"{what} has more than {MAX_NUMBER_DIGITS} digits", got=text)
        exp = 0
        if dec.group(5) is not None:
            if len(dec.group(5)) > len(str(MAX_EXPONENT)) or int(dec.group(5)) > MAX_EXPONENT:
                raise InputError(argument, f"the exponent of {what} must be at most {MAX_EXPONENT} in absolute "
                                 "value", got=text)
            exp = -int(dec.group(5)) if dec.group(4) == "-" else int(dec.group(5))
        value = Fraction(int(whole + part), 10 ** len(part)) * Fraction(10) ** exp
        if dec.group(1) == "-":
            value = -value
    else:
        raise InputError(argument, f"{what} must be a finite number such as 0.1, 1/10 or 1e-2", got=text)
    if abs(value) > bound:
        raise InputError(argument, f"{what} must have absolute value <= {float(bound):g}", got=text)
    return sp.Rational(value.numerator, value.denominator)


def _rational(text: str, argument: str) -> sp.Rational:
    """Parse a decimal or a fraction a/b into an exact rational (see ``parse_number`` for the limits)."""
    return parse_number(text, argument, what="the slope")


BUILTIN_NAMES = ("relu", "leaky_relu(s)", "abs", "step", "relu^k (k = 0..3)", "pw(t<b: P; ...; else: P)")


def get_activation(spec: str, *, allow_general: bool = False) -> Activation:
    """Look up a built-in activation by its spelling (whitelist, no eval).

    Accepted: ``relu``, ``abs``, ``step``, ``relu^k`` / ``relu2`` style for k = 0..3,
    ``leaky_relu`` (slope 1/100) and ``leaky_relu(s)`` with s a decimal or fraction, and a piecewise
    polynomial ``pw(t<b1: P1; ...; else: Pn)`` (see theory.custom_activation). A piecewise polynomial that is
    not positively homogeneous is returned (as a PiecewiseActivation, degree None) only with
    ``allow_general=True``; otherwise it is an InputError, so every caller can rely on .degree, .p, .q.

    Examples
    --------
    >>> get_activation("leaky_relu(0.1)").q
    -1/10
    >>> get_activation("relu^2").degree
    2
    """
    if not isinstance(spec, str):
        raise InputError("activation", f"expected a name, one of {', '.join(BUILTIN_NAMES)}", got=spec)
    check_spec_length(spec, "activation")
    if spec.strip().startswith("pw("):
        from theory.custom_activation import parse_activation  # piecewise polynomial, whitelist parser

        act = parse_activation(spec)
        if not isinstance(act, Activation) and not allow_general:
            raise InputError("activation", "this piecewise polynomial is not positively homogeneous (sigma(c t) = "
                             "c^n sigma(t)); only 'twolayer derive' accepts it", got=spec)
        return act
    key = spec.strip().lower().replace(" ", "")
    one, zero = sp.Integer(1), sp.Integer(0)
    if key == "relu":
        return Activation("relu", 1, one, zero)
    if key == "abs":
        return Activation("abs", 1, one, one)
    if key == "step":
        return Activation("step", 0, one, zero)
    for prefix in ("relu^", "relu**", "relu"):
        rest = key[len(prefix):]
        if key.startswith(prefix) and re.fullmatch(r"[0-9]+", rest):
            k = int(rest) if len(rest) <= 3 else MAX_DEGREE + 1
            if not 0 <= k <= MAX_DEGREE:
                raise InputError("activation", f"relu^k needs k in 0..{MAX_DEGREE}", got=spec)
            return Activation("relu" if k == 1 else ("step" if k == 0 else f"relu^{k}"), k, one, zero)
    if key == "leaky_relu":
        key = "leaky_relu(1/100)"
    if key.startswith("leaky_relu(") and key.endswith(")"):
        slope = _rational(key[len("leaky_relu("):-1], "activation")
        return Activation(f"leaky_relu({slope})", 1, one, -slope)
    raise InputError("activation", f"unknown activation; valid: {', '.join(BUILTIN_NAMES)}", got=spec)

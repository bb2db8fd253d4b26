"""User-defined piecewise-polynomial activations, parsed with a whitelist (no eval, no sympify).

Syntax (pieces in increasing order of their right breakpoint, the last one is ``else``)::

    pw(t<-1: -1; t<1: t; else: 1)          hard tanh
    pw(t<0: t/10; else: t)                 leaky ReLU with slope 1/10 (mapped to the closed form)
    pw(else: t^3 - 3*t)                     a polynomial

Piece i holds on [b_{i-1}, b_i) with b_0 = -inf; a condition is ``t<NUMBER`` (decimal or integer); a polynomial
uses numbers, ``t``, ``+ - * /`` (division by a constant only), ``^`` or ``**`` with an integer exponent <= 10,
and parentheses. Positively homogeneous inputs (one breakpoint at 0, monomials c t^n of the same degree n <= 3 on
both sides) become a closed-form ``Activation``; anything else is a ``PiecewiseActivation`` whose dual kernel is
the truncated Hermite series with the exact tail bound E sigma^2 - sum_{k<=K} mu_k^2 (rigorous on [-1, 1]).
For such activations the scaling-factor reduction sigma(<w,x>) = ||w||^n sigma(<w^,x>) does NOT hold: the
kernel describes unit-norm neurons only, and the target regimes refuse them.

The text is bounded (the limits below and those of ``theory.activations``: length, digits, magnitude, nesting),
and every refusal is a one-line InputError naming the argument ``activation`` and the limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from theory.activations import MAX_MAGNITUDE, MAX_NUMBER_DIGITS, Activation, T, check_spec_length, parse_number
from theory.errors import InputError

_ALLOWED = re.compile(r"^[0-9t+\-*/^().\s:;<]*$", re.ASCII)
_TOKEN = re.compile(r"\s*([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+|\*\*|[t+\-*/^()])", re.ASCII)
# Highest degree of a piece: E sigma^2 and mu_k are exact sums of Gaussian moments up to degree 20 and 10 + k.
MAX_POWER = 10
# Deepest nesting of parentheses (and of unary signs, as in --t) in a polynomial: real activations need a few
# levels; the parser recurses once per parenthesis, so this keeps it far from Python's recursion limit (~1000).
MAX_NESTING = 32
# Largest |coefficient| of a piece, also of every intermediate result (e.g. (10 t)^10 = 1e10 t^10): E sigma^2 and
# the kernel stay below about (11e12)^2 19!! ~ 1e35, far from the float64 overflow at 1.8e308.
MAX_COEFFICIENT = 10**12
# Largest |breakpoint|: the Gaussian mass beyond |t| = 40 is below 1e-348, so a breakpoint further out changes no
# digit, while its exact integrals exp(-b^2/2) need ~b^2 bits to evaluate (b = 1e6 runs out of memory).
MAX_BREAKPOINT = 40
# Most digits in the numerator or denominator of an exact coefficient during parsing: nested powers of constants
# such as ((0.5^10)^10)^10 would otherwise grow without bound.
MAX_RATIONAL_DIGITS = 200


def _fail(message: str, spec: str):
    raise InputError("activation", message, got=spec)


class _PolyParser:
    """Recursive descent over a token list; polynomials are tuples of exact rational coefficients (low first)."""

    def __init__(self, text: str, spec: str):
        self.spec = spec
        self.tokens: list[str] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                _fail(f"cannot read the polynomial near {text[pos:pos + 8]!r}", spec)
            self.tokens.append(m.group(1))
            pos = m.end()
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self):
        tok = self.peek()
        if tok is None:
            _fail("polynomial ends too early", self.spec)
        self.i += 1
        return tok

    def parse(self):
        if not self.tokens:
            _fail("empty polynomial", self.spec)
        self.depth = 0
        out = self.expr()
        if self.peek() is not None:
            _fail(f"unexpected {self.peek()!r} in polynomial", self.spec)
        if len(out) - 1 > MAX_POWER:
            _fail(f"polynomial degree must be <= {MAX_POWER}", self.spec)
        return out

    def expr(self):
        out = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            rhs = self.term()
            out = self.bounded(_add(out, rhs if op == "+" else _scale(rhs, -1)))
        return out

    def bounded(self, poly):
        """``poly`` unchanged, or an InputError when a coefficient leaves the limits MAX_COEFFICIENT and
        MAX_RATIONAL_DIGITS (checked after every operation, so exact arithmetic stays cheap)."""
        cap = 10**MAX_RATIONAL_DIGITS
        for c in poly:
            if abs(c) > MAX_COEFFICIENT:
                _fail(f"a coefficient (also an intermediate one) must have absolute value <= {float(MAX_COEFFICIENT):g}",
                      self.spec)
            if abs(int(c.p)) >= cap or int(c.q) >= cap:
                _fail(f"a coefficient needs more than {MAX_RATIONAL_DIGITS} digits as an exact fraction", self.spec)
        return poly

    def term(self):
        out = self.factor()
        while self.peek() in ("*", "/"):
            op = self.take()
            rhs = self.factor()
            if op == "*":
                if len(out) + len(rhs) - 2 > MAX_POWER:
                    _fail(f"polynomial degree must be <= {MAX_POWER}", self.spec)
                out = self.bounded(_mul(out, rhs))
            else:
                if len(rhs) != 1 or rhs[0] == 0:
                    _fail("division only by a nonzero constant (division by zero)", self.spec)
                out = self.bounded(_scale(out, 1 / rhs[0]))
        return out

    def factor(self):
        sign, run = 1, 0
        while self.peek() in ("+", "-"):  # a run of signs, read in a loop; each sign counts as a nesting level
            run += 1
            if self.depth + run > MAX_NESTING:
                _fail(f"parentheses and signs are nested more than {MAX_NESTING} deep", self.spec)
            if self.take() == "-":
                sign = -sign
        self.depth += run
        out = self.power()
        self.depth -= run
        return out if sign == 1 else _scale(out, -1)

    def power(self):
        base = self.atom()
        if self.peek() in ("^", "**"):
            self.take()
            exp = self.take()
            if not exp.isdigit() or int(exp) > MAX_POWER:
                _fail(f"exponents must be integers 0..{MAX_POWER}", self.spec)
            if (len(base) - 1) * int(exp) > MAX_POWER:
                _fail(f"polynomial degree must be <= {MAX_POWER}", self.spec)
            out = (sp.Integer(1),)
            for _ in range(int(exp)):
                out = self.bounded(_mul(out, base))
            return out
        return base

    def atom(self):
        tok = self.take()
        if tok == "t":
            return (sp.Integer(0), sp.Integer(1))
        if tok == "(":
            self.depth += 1
            if self.depth > MAX_NESTING:
                _fail(f"parentheses and signs are nested more than {MAX_NESTING} deep", self.spec)
            out = self.expr()
            if self.take() != ")":
                _fail("missing ')'", self.spec)
            self.depth -= 1
            return out
        if tok[0].isdigit() or tok[0] == ".":
            if sum(ch.isdigit() for ch in tok) > MAX_NUMBER_DIGITS:
                _fail(f"a number has more than {MAX_NUMBER_DIGITS} digits", self.spec)
            value = sp.Rational(Fraction(tok))
            if abs(value) > MAX_MAGNITUDE:
                _fail(f"a number must have absolute value <= {float(MAX_MAGNITUDE):g}", self.spec)
            return (value,)
        _fail(f"unexpected {tok!r} in polynomial", self.spec)


def _trim(p):
    p = list(p)
    while len(p) > 1 and p[-1] == 0:
        p.pop()
    return tuple(p)


def _add(a, b):
    n = max(len(a), len(b))
    return _trim(tuple((a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(n)))


def _scale(a, c):
    return _trim(tuple(sp.Rational(c) * x for x in a))


def _mul(a, b):
    out = [sp.Integer(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return _trim(tuple(out))


def _phi(x):
    return sp.Integer(0) if x in (sp.oo, -sp.oo) else sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


def _cdf(x):
    if x == sp.oo:
        return sp.Integer(1)
    if x == -sp.oo:
        return sp.Integer(0)
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


@lru_cache(maxsize=None)
def gaussian_power_integral(m: int, a, b) -> sp.Expr:
    """int_a^b t^m phi(t) dt exactly: I_m = [-t^(m-1) phi(t)]_a^b + (m-1) I_{m-2}, I_0 = Phi(b) - Phi(a).

    Examples
    --------
    >>> gaussian_power_integral(2, 0, sp.oo)
    1/2
    >>> gaussian_power_integral(1, 0, sp.oo)
    sqrt(2)/(2*sqrt(pi))
    """
    if m == 0:
        return _cdf(b) - _cdf(a)

    def edge(x):
        return sp.Integer(0) if x in (sp.oo, -sp.oo) else x ** (m - 1) * _phi(x)

    if m == 1:
        return _phi(a) - _phi(b)
    return sp.expand(edge(a) - edge(b) + (m - 1) * gaussian_power_integral(m - 2, a, b))


@dataclass(frozen=True)
class PiecewiseActivation:
    """sigma(t) = P_i(t) on [b_{i-1}, b_i), exact rational coefficients; kernel by truncated Hermite series.

    ``degree``, ``p`` and ``q`` are None: there is no homogeneity degree and no scaling factor.

    Examples
    --------
    >>> hard_tanh = parse_activation("pw(t<-1: -1; t<1: t; else: 1)")   # or get_activation(..., allow_general=True)
    >>> hard_tanh.hermite_coefficient(0), hard_tanh.hermite_coefficient(2)
    (0, 0)
    >>> float(hard_tanh.hermite_coefficient(1)) > 0.68
    True
    """

    name: str
    breakpoints: tuple
    pieces: tuple
    degree: None = None
    p: None = None
    q: None = None

    def intervals(self):
        edges = (-sp.oo,) + tuple(self.breakpoints) + (sp.oo,)
        return list(zip(edges[:-1], edges[1:], self.pieces))

    def expression(self) -> sp.Expr:
        args = [(sum(c * T**i for i, c in enumerate(poly)), T < hi) for lo, hi, poly in self.intervals()[:-1]]
        last = self.pieces[-1]
        return sp.Piecewise(*args, (sum(c * T**i for i, c in enumerate(last)), True))

    def _gauss_expect(self, poly_fn) -> sp.Expr:
        total = sp.Integer(0)
        for lo, hi, poly in self.intervals():
            prod = poly_fn(poly)
            for m, c in enumerate(prod):
                if c != 0:
                    total += c * gaussian_power_integral(m, lo, hi)
        return sp.expand(total)

    @lru_cache(maxsize=None)
    def hermite_coefficient(self, k: int) -> sp.Expr:
        """mu_k = E[sigma(g) He_k(g)] / sqrt(k!), exact (closed-form Gaussian integrals of polynomials)."""
        if k < 0:
            raise InputError("k", "Hermite order must be >= 0", got=k)
        he = sp.Poly(sp.hermite_prob(k, T), T).all_coeffs()[::-1]
        he = tuple(sp.Integer(x) for x in he)
        return sp.radsimp(sp.expand(self._gauss_expect(lambda poly: _mul(poly, he)) / sp.sqrt(sp.factorial(k))))

    def second_moment(self) -> sp.Expr:
        """E sigma(g)^2 = kappa(1) = sum_k mu_k^2, exact."""
        return sp.simplify(self._gauss_expect(lambda poly: _mul(poly, poly)))


def _number(text: str, spec: str) -> sp.Rational:
    body = text.strip()
    if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", body):
        _fail(f"a breakpoint must be a number, not {body[:20]!r}", spec)
    try:
        return parse_number(body, "activation", what="a breakpoint", bound=MAX_BREAKPOINT)
    except InputError as err:
        _fail(err.message, spec)


def parse_activation(spec: str):
    """Parse ``pw(...)``; return a closed-form Activation when positively homogeneous, else a PiecewiseActivation.

    Examples
    --------
    >>> parse_activation("pw(t<0: t/10; else: t)")
    Activation(name='pw(t<0: t/10; else: t)', degree=1, p=1, q=-1/10)
    >>> parse_activation("pw(else: __import__('os'))")
    Traceback (most recent call last):
    ...
    theory.errors.InputError: argument activation: only digits, t, + - * / ^ ( ) . : ; < and the words pw, else are allowed (got "pw(else: __import__('os'))")
    """
    if not isinstance(spec, str):
        _fail("expected a string", spec)
    check_spec_length(spec, "activation")
    text = spec.strip()
    if not (text.startswith("pw(") and text.endswith(")")):
        _fail("a custom activation is written pw(t<b1: P1; ...; else: Pn)", spec)
    body = text[3:-1]
    if not _ALLOWED.match(body.replace("else", "")):
        _fail("only digits, t, + - * / ^ ( ) . : ; < and the words pw, else are allowed", spec)
    breakpoints, pieces = [], []
    items = [s.strip() for s in body.split(";")]
    for idx, item in enumerate(items):
        if ":" not in item:
            _fail("each piece is 'CONDITION: POLYNOMIAL'", spec)
        cond, poly_text = (s.strip() for s in item.split(":", 1))
        last = idx == len(items) - 1
        if last:
            if cond != "else":
                _fail("the last piece must be 'else: POLYNOMIAL'", spec)
        else:
            if not cond.startswith("t<"):
                _fail("conditions are 't<NUMBER' (increasing), the last one 'else'", spec)
            b = _number(cond[2:], spec)
            if breakpoints and b <= breakpoints[-1]:
                _fail("breakpoints must increase", spec)
            breakpoints.append(b)
        pieces.append(_PolyParser(poly_text, spec).parse())
    return _homogeneous(spec.strip(), breakpoints, pieces) or PiecewiseActivation(spec.strip(), tuple(breakpoints), tuple(pieces))


def _homogeneous(name, breakpoints, pieces):
    """Activation(p, q, n) when sigma = p relu(t)^n + q relu(-t)^n (n <= 3), else None."""

    def monomial(poly):
        nz = [i for i, c in enumerate(poly) if c != 0]
        if not nz:
            return None, sp.Integer(0)
        return (nz[0], poly[nz[0]]) if len(nz) == 1 else (-1, None)

    if len(pieces) == 1:
        left = right = pieces[0]
    elif len(pieces) == 2 and breakpoints == [0]:
        left, right = pieces
    else:
        return None
    nl, cl = monomial(left)
    nr, cr = monomial(right)
    if nl == -1 or nr == -1:
        return None
    n = nl if nl is not None else nr
    if n is None:
        return None  # identically zero
    if (nl is not None and nl != n) or (nr is not None and nr != n) or n > 3:
        return None
    if n == 0 and len(pieces) == 1:
        return None  # a constant is not an activation of interest; keep it general
    return Activation(name, n, sp.Rational(cr), sp.Rational(cl) * (-1) ** n)

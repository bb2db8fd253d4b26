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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from theory.activations import Activation, T
from theory.errors import InputError

_ALLOWED = re.compile(r"^[0-9t+\-*/^().\s:;<]*$")
_TOKEN = re.compile(r"\s*(\d+\.\d*|\.\d+|\d+|\*\*|[t+\-*/^()])")
MAX_POWER = 10


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
            out = _add(out, rhs if op == "+" else _scale(rhs, -1))
        return out

    def term(self):
        out = self.factor()
        while self.peek() in ("*", "/"):
            op = self.take()
            rhs = self.factor()
            if op == "*":
                if len(out) + len(rhs) - 2 > MAX_POWER:
                    _fail(f"polynomial degree must be <= {MAX_POWER}", self.spec)
                out = _mul(out, rhs)
            else:
                if len(rhs) != 1 or rhs[0] == 0:
                    _fail("division only by a nonzero constant", self.spec)
                out = _scale(out, 1 / rhs[0])
        return out

    def factor(self):
        if self.peek() in ("+", "-"):
            sign = -1 if self.take() == "-" else 1
            return _scale(self.factor(), sign)
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
                out = _mul(out, base)
            return out
        return base

    def atom(self):
        tok = self.take()
        if tok == "t":
            return (sp.Integer(0), sp.Integer(1))
        if tok == "(":
            out = self.expr()
            if self.take() != ")":
                _fail("missing ')'", self.spec)
            return out
        if tok[0].isdigit() or tok[0] == ".":
            return (sp.Rational(Fraction(tok)),)
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
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", body):
        _fail(f"a breakpoint must be a number, not {body!r}", spec)
    return sp.Rational(Fraction(body))


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

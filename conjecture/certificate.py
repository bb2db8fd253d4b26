"""Independent re-verification of the PROVEN and REFUTED claims of a ``twolayer conjecture`` report.

``check(path)`` reads ``report.json`` (or a run folder ``OUT/<run-id>/`` holding one) and re-verifies, cell by
cell and column by column (``beta>=0`` and ``signed``), every claim the report states as PROVEN or REFUTED. It
shares no code with the producer: nothing of ``conjecture.certify``, ``conjecture.interval``, ``conjecture.relax_*``,
``conjecture.cells``, ``conjecture.cost``, ``theory.kernels``, ``theory.etf_values`` (or of any other module that
computes kernels, ETF values or certificates) is imported. The arithmetic is different too: the producer uses
python-flint ``arb`` balls in the variable t = rho; this module uses exact ``fractions.Fraction`` for everything
rational and ``mpmath.iv`` (outward-rounded intervals, 300 bits) for the transcendental parts, and it works in the
angle theta = arccos t, where every dual kernel is analytic up to the end points.

Notation (docs/model.md): sigma(t) = p max(t,0)^n + q max(-t,0)^n (relu, abs, step, leaky_relu(s), relu^2, relu^3);
K_jl = kappa(<v_j, v_l>) for unit directions; Ltilde(beta, V) = C - 2 sum_j beta_j b(v_j) + beta^T K beta.

Closed forms used here (derived for this module, not taken from theory)
-----------------------------------------------------------------------
* kappa(cos th) = [(p^2 + q^2) J_n(th) + 2 p q J_n(pi - th)] / (2 pi), with the Cho-Saul arc-cosine functions
  J_0 = pi - th, J_1 = sin th + (pi - th) cos th, J_2 = 3 sin th cos th + (pi - th)(1 + 2 cos^2 th),
  J_3 = 4 sin^3 th + 15 sin th cos^2 th + (pi - th)(9 sin^2 th cos th + 15 cos^3 th), normalised so that
  k_n(1) = E relu(g)^(2n) (k_1(1) = 1/2). Their theta-derivatives follow from Price's theorem k_n' = n^2 k_(n-1):
  J_n' = -n^2 sin th J_(n-1),  J_n'' = -n^2 (cos th J_(n-1) + sin th J_(n-1)'),  J_0' = -1.
  kappa(1) = (p^2 + q^2)(2n-1)!!/2 and kappa(-1) = p q (2n-1)!! are exact rationals.
* c_d = E kappa(<w, e_1>), w uniform on S^(d-1): exchanging the expectations and using homogeneity,
  c_d = E_x sigma(x_1) E_w sigma(<w, x>) = s^2 E||x||^(2n),  s = (p + q) E relu(w_1)^n
      = (p + q) Gamma(d/2) Gamma((n+1)/2) / (2 sqrt(pi) Gamma((d+n)/2)),  E||x||^(2n) = 2^n Gamma(d/2+n)/Gamma(d/2):
  an exact rational times a power of pi (c_3 = 3/16 for ReLU).
* Hermite data for regime II: mu_0^2 = (p+q)^2 H_n^2, mu_1^2 = (p-q)^2 H_(n+1)^2, H_m = E relu(g)^m
  (H_0 = 1/2, H_1 = 1/sqrt(2 pi), H_m = (m-1) H_(m-2)).
* The simplex ETF (rho0 = -1/(M-1), lambda = kappa(1) + (M-1) kappa(rho0), Q = lambda/M): with equal beta,
  beta^T K beta = Q (sum beta)^2, so min_beta Ltilde = C - b^2/Q = abar^2 c_d (1 - c_d/Q) in regime I; in regime II
  (b_j = abar mu_0^2 + mu_1^2 <m, v_j>, C = abar^2 mu_0^2 + mu_1^2 ||m||^2, sum_j v_j = 0, sum_j v_j v_j^T =
  M/(M-1) P) the best orientation gives C - (abar mu_0^2)^2 M/lambda - mu_1^4 ||m||^2 M/((M-1)(kappa(1)-kappa(rho0))).

The statements re-verified
--------------------------
PROVEN, beta >= 0, from a Delsarte-Yudin certificate (an entry of ``bounds_nonneg``: Gegenbauer coefficients
h_0..h_K as exact rationals and a tolerance delta). Let G_k be the Gegenbauer polynomials of S^(d-1) with
G_k(1) = 1 (computed here by their three-term recurrence in exact rationals: Chebyshev for d = 2, degrees <= 1 for
d = 1), h = sum_k h_k G_k. Verified: (a) h_k >= 0 for k >= 1 (exactly), so every [G_k(<v_j, v_l>)] is PSD
(Schoenberg); (b) kappa(t) - h(t) >= -delta for every t in [-1, 1], by adaptive bisection of theta in [0, pi]
with four interval enclosures per piece (direct; mean value from either end; second order about the midpoint,
minimising the quadratic minorant exactly when kappa'' - h'' > 0); (c) A = h_0 - delta + (kappa(1) - h(1) + delta)/M
> 0, computed exactly. Then for every frame and every beta >= 0, with s = sum beta (h - delta <= kappa,
beta_j beta_l >= 0, sum beta_j^2 >= s^2/M):
    beta^T K beta >= (kappa(1) - h(1) + delta) sum beta_j^2 + sum_(j,l) beta_j beta_l (h(rho_jl) - delta) >= A s^2,
so Ltilde >= C - 2 b s + A s^2 >= C - b^2/A (regime I, b = abar c_d), while the ETF attains C - b^2/Q. Hence
    min_(beta >= 0, V) Ltilde >= F_ETF - gap C,   gap = c_d (Q - A)/(A Q),
and the claim is confirmed when the interval upper end of gap is <= PROOF_RTOL = 1e-30 (the project's definition
of PROVEN, docs/conjecture.md) and the stated F_ETF agrees with the value re-computed here.
PROVEN from ``zero_loss_certificate`` (either column, regime I): Ltilde = E_x (f_inf(x) - g(x))^2 >= 0 for every
(beta, V) (docs/model.md §4, the premise taken from the model) and F_ETF = 0 exactly; the zero is decided in exact
arithmetic (M = 2: lambda and c_d are a rational and a rational times a power of pi); for M >= 3 the checker can
only refute it (interval excluding 0) and otherwise answers 'not checkable'.
REFUTED (from ``refutation_signed`` / ``refutation_nonneg``: rational frame rows and rational beta): the exact
Gram data <v_j, v_l>, ||v_j||^2 give cos and sin of each angle from exact rationals, the angle itself is enclosed
by a candidate verified with interval cos/sin, and Ltilde(beta, V/||V||) is enclosed in intervals; confirmed when
its upper end is below the lower end of the re-computed F_ETF (and, for beta >= 0, every beta_j >= 0). Comparing
with the unconstrained ETF value is conservative for beta >= 0 (the constrained ETF value can only be larger).
For every claim the stated F_ETF (``etf.closed_form``, ``values.etf``) and C_target are also compared with the
re-computed values; a disagreement fails the claim.

Not checkable here (answered as such, never pretended): piecewise-polynomial activations ``pw(...)`` and any
other activation outside the list above, regime III, a PROVEN signed-beta claim without a zero-loss certificate
(none is ever made: the SDP bounds are not certificates), and Gegenbauer degree > 1 for d = 1.

Examples
--------
A hand-written report with three cells: ReLU (M, d) = (2, 1) (F_ETF = 0), ReLU (2, 2) with the certificate h = 0
(kappa >= 0) and the step activation with (3, 2) refuted by an antipodal pair (step(t) + step(-t) = 1):

>>> import json, tempfile, pathlib
>>> cells = [
...     {"result": {"params": {"M": 2, "d": 1, "activation": "relu", "regime": "I", "abar": 1.0},
...                 "verdict_nonneg": "PROVEN", "verdict_signed": "PROVEN", "zero_loss_certificate": "F_ETF = 0"}},
...     {"result": {"params": {"M": 2, "d": 2, "activation": "relu", "regime": "I", "abar": 1.0},
...                 "verdict_nonneg": "PROVEN", "verdict_signed": "SUPPORTED",
...                 "bounds_nonneg": {"tangent": {"h": ["0", "0"], "delta": f"1/{10**60}", "valid": True}}}},
...     {"result": {"params": {"M": 3, "d": 2, "activation": "step", "regime": "I", "abar": 1.0},
...                 "verdict_nonneg": "REFUTED", "verdict_signed": "REFUTED", "values": {"etf": 0.025},
...                 "refutation_signed": {"frame_rational": [["1", "0"], ["-1", "0"], ["0", "1"]],
...                                       "beta_rational": ["1/2", "1/2", "0"]}}}]
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "report.json").write_text(json.dumps(
...     {"format": "twolayer-report/2", "kind": "conjecture-cell", "report_id": "rep-example", "cells": cells}))
>>> result = check(folder)
>>> result.counts
{'confirmed': 5, 'failed': 0, 'not checkable': 0}
>>> result.all_confirmed, [e.status for e in result.entries if e.stated == "REFUTED"]
(True, ['confirmed', 'confirmed'])

References: Cho & Saul, "Kernel methods for deep learning", NIPS 2009 (arc-cosine kernels); Delsarte, Goethals,
Seidel, Geom. Dedicata 6 (1977); Schoenberg, Duke Math. J. 9 (1942); Moore, Kearfott, Cloud, "Introduction to
Interval Analysis", SIAM 2009 (mean-value and Taylor forms); docs/model.md, docs/conjecture.md.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import mpmath
from mpmath import iv

from theory.errors import InputError
from theory.limits import read_bounded_json

__all__ = ["CertificateCheck", "ClaimCheck", "check", "PROOF_RTOL"]

# The project's PROVEN tolerance (docs/conjecture.md: a certified bound within 1e-30 C_target of F_ETF); a copy,
# so that this module depends on no producer module.
PROOF_RTOL = Fraction(1, 10**30)
# Working precision of the interval arithmetic (about 90 digits: deltas down to 1e-60 with a wide margin).
BITS = 300
# Limits on the report's content (the producer's own ranges, with room).
MAX_CELLS = 10_000
MAX_M, MAX_D = 64, 64
MAX_RATIONAL_DIGITS = 400
MAX_H_TERMS = 17
MAX_DECIMAL_CHARS = 200
# Effort limits of the bisection proof (one certificate).
MAX_INTERVALS = 20_000
MAX_DEPTH = 260
# Stated values must agree with the re-computed ones: the 40-digit strings to this relative tolerance (of C),
# the float64 fields to 1e-12.
STRING_RTOL = Fraction(1, 10**25)
FLOAT_RTOL = 1e-12

COLUMNS = ("beta>=0", "signed")
STATUSES = ("confirmed", "failed", "not checkable")
_RATIONAL = re.compile(r"-?[0-9]{1,%d}(?:/[0-9]{1,%d})?" % (MAX_RATIONAL_DIGITS, MAX_RATIONAL_DIGITS))
_DECIMAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
_LEAKY = re.compile(r"leaky_relu\((-?[0-9]{1,50}(?:/[0-9]{1,50})?)\)")


class _Unsupported(Exception):
    """The claim is outside what this checker can verify (answered 'not checkable')."""


class _Bad(Exception):
    """The report's evidence for the claim is missing, malformed or false (answered 'failed')."""


# ----------------------------------------------------------------------------------------------------------
# result types


@dataclass(frozen=True)
class ClaimCheck:
    """One re-verified claim: cell (M, d), column ('beta>=0' or 'signed'), the stated verdict ('PROVEN' or
    'REFUTED'), the outcome ('confirmed', 'failed' or 'not checkable'), what was checked, and the time it took."""

    M: int
    d: int
    column: str
    stated: str
    status: str
    detail: str
    seconds: float
    activation: str = ""
    regime: str = ""
    cell_id: str = ""

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"


@dataclass(frozen=True)
class CertificateCheck:
    """The outcome of ``check``: the file read, the report's id and one ``ClaimCheck`` per PROVEN/REFUTED claim."""

    path: str
    report_id: str | None
    entries: tuple[ClaimCheck, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many claims were confirmed, failed and not checkable."""
        return {s: sum(e.status == s for e in self.entries) for s in STATUSES}

    @property
    def confirmed(self) -> int:
        return self.counts["confirmed"]

    @property
    def failed(self) -> int:
        return self.counts["failed"]

    @property
    def not_checkable(self) -> int:
        return self.counts["not checkable"]

    @property
    def all_confirmed(self) -> bool:
        """True when every claim was re-verified (vacuously true for a report that claims nothing)."""
        return all(e.status == "confirmed" for e in self.entries)

    @property
    def seconds(self) -> float:
        return sum(e.seconds for e in self.entries)

    def __repr__(self) -> str:
        c = self.counts
        head = (f"CertificateCheck(report {self.report_id or '?'}: {len(self.entries)} claim{'' if len(self.entries) == 1 else 's'}, {c['confirmed']} "
                f"confirmed, {c['failed']} failed, {c['not checkable']} not checkable; {self.seconds:.2f} s; "
                f"{self.path})")
        rows = [f"  {'M':>3} {'d':>3}  {'claim':8} {'stated':8} {'re-verified':14} {'s':>6}  detail"]
        for e in self.entries:
            rows.append(f"  {e.M:>3} {e.d:>3}  {e.column:8} {e.stated:8} {e.status:14} {e.seconds:6.2f}  {e.detail}")
        return "\n".join([head, *rows]) if self.entries else head

    def _repr_html_(self) -> str:
        word = {"confirmed": "yes", "failed": "no", "not checkable": "not checkable"}
        c = self.counts
        cap = (f"report {html.escape(str(self.report_id or '?'))}: {c['confirmed']} confirmed, {c['failed']} failed, "
               f"{c['not checkable']} not checkable")
        rows = "".join(
            f"<tr><td>{e.M}</td><td>{e.d}</td><td>{html.escape(e.column)}</td><td>{html.escape(e.stated)}</td>"
            f"<td>{word.get(e.status, html.escape(e.status))}</td><td>{html.escape(e.detail)}</td></tr>"
            for e in self.entries)
        return (f"<table><caption>{cap}</caption><thead><tr><th>M</th><th>d</th><th>claim</th><th>verdict stated</th>"
                f"<th>re-verified</th><th>detail</th></tr></thead><tbody>{rows}</tbody></table>")

    def to_json(self) -> str:
        """Strict JSON (no NaN or Infinity): path, report_id, all_confirmed, counts and the entries."""
        doc = {"path": self.path, "report_id": self.report_id, "all_confirmed": self.all_confirmed,
               "counts": self.counts, "seconds": round(self.seconds, 4),
               "entries": [{**asdict(e), "seconds": round(e.seconds, 4) if math.isfinite(e.seconds) else None}
                           for e in self.entries]}
        return json.dumps(doc, allow_nan=False, ensure_ascii=False)


# ----------------------------------------------------------------------------------------------------------
# bounded parsing of the report's strings and numbers


def _rational(text: Any, what: str) -> Fraction:
    """An exact rational from 'a' or 'a/b' (strict regex, at most MAX_RATIONAL_DIGITS digits each)."""
    if not isinstance(text, str) or len(text) > 2 * MAX_RATIONAL_DIGITS + 2 or not _RATIONAL.fullmatch(text):
        raise _Bad(f"{what} is not a rational 'a/b' of at most {MAX_RATIONAL_DIGITS} digits")
    num, _, den = text.partition("/")
    if den and int(den) == 0:
        raise _Bad(f"{what} divides by zero")
    return Fraction(int(num), int(den) if den else 1)


def _decimal(text: Any, what: str) -> Fraction:
    if not isinstance(text, str) or len(text) > MAX_DECIMAL_CHARS or not _DECIMAL.fullmatch(text.strip()):
        raise _Bad(f"{what} is not a decimal number")
    return Fraction(text.strip())


def _float(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise _Bad(f"{what} is not a finite number")
    return float(x)


def _int(x: Any, what: str, lo: int, hi: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi:
        raise InputError("path", f"not a conjecture report: {what} must be an integer in {lo}..{hi}", got=x)
    return x


# ----------------------------------------------------------------------------------------------------------
# interval helpers (mpmath.iv at BITS bits; the caller holds _Precision)


class _Precision:
    """Set mpmath's iv and mp precision to ``bits`` for the duration (restored on exit)."""

    def __init__(self, bits: int) -> None:
        self.bits = bits

    def __enter__(self):
        self.old = (iv.prec, mpmath.mp.prec)
        iv.prec = self.bits
        mpmath.mp.prec = self.bits

    def __exit__(self, *exc):
        iv.prec, mpmath.mp.prec = self.old


def _q(x: Fraction):
    """An interval enclosing the rational x (outward rounding of numerator, denominator and quotient)."""
    return iv.mpf(x.numerator) / iv.mpf(x.denominator)


def _lo(x) -> mpmath.mpf:
    return mpmath.mpf(x.a)


def _hi(x) -> mpmath.mpf:
    return mpmath.mpf(x.b)


def _positive(x) -> bool:
    """True when the interval lies in (0, inf)."""
    return bool(_lo(x) > 0)


def _str(x, digits: int = 25) -> str:
    return mpmath.nstr(mpmath.mpf(x.mid), digits)


@dataclass(frozen=True)
class _PiQ:
    """The exact number r * pi^e."""

    r: Fraction
    e: int

    def to_iv(self):
        out = _q(self.r)
        if self.e:
            p = iv.pi ** abs(self.e)
            out = out * p if self.e > 0 else out / p
        return out


def _gamma_half(k2: int) -> tuple[Fraction, int]:
    """Gamma(k2/2) for k2 >= 1 as (r, e): r * sqrt(pi)^e, exactly."""
    if k2 % 2 == 0:
        return Fraction(math.factorial(k2 // 2 - 1)), 0
    m = (k2 - 1) // 2  # Gamma(m + 1/2) = (2m)! / (4^m m!) sqrt(pi)
    return Fraction(math.factorial(2 * m), 4**m * math.factorial(m)), 1


def _double_factorial_odd(n: int) -> int:
    """(2n - 1)!! (1 for n = 0)."""
    out = 1
    for k in range(1, 2 * n, 2):
        out *= k
    return out


# ----------------------------------------------------------------------------------------------------------
# the activations and their kernels


@dataclass(frozen=True)
class _Act:
    """sigma(t) = p max(t,0)^n + q max(-t,0)^n."""

    name: str
    n: int
    p: Fraction
    q: Fraction

    @property
    def A(self) -> Fraction:
        return self.p**2 + self.q**2

    @property
    def B(self) -> Fraction:
        return 2 * self.p * self.q

    @property
    def kappa_one(self) -> Fraction:
        return self.A * _double_factorial_odd(self.n) / 2

    @property
    def kappa_minus_one(self) -> Fraction:
        return self.B * _double_factorial_odd(self.n) / 2

    def c_d(self, d: int) -> _PiQ:
        """c_d = s^2 E||x||^(2n) (module docstring), exactly."""
        g_d, e_d = _gamma_half(d)
        g_n, e_n = _gamma_half(self.n + 1)
        g_dn, e_dn = _gamma_half(d + self.n)
        s_r = (self.p + self.q) * g_d * g_n / (2 * g_dn)
        s_e = e_d + e_n - 1 - e_dn  # powers of sqrt(pi)
        g_m, e_m = _gamma_half(d + 2 * self.n)
        mom_r = Fraction(2**self.n) * g_m / g_d
        mom_e = e_m - e_d
        total_e = 2 * s_e + mom_e
        if total_e % 2:
            raise AssertionError("c_d: odd power of sqrt(pi)")  # impossible: Gamma ratios pair up
        return _PiQ(s_r * s_r * mom_r, total_e // 2)

    def mu_sq(self, k: int) -> _PiQ:
        """mu_k^2 for k = 0, 1: (p + (-1)^k q)^2 H_(n+k)^2, H_m = E relu(g)^m."""
        m = self.n + k
        h2, e = (Fraction(1, 4), 0) if m % 2 == 0 else (Fraction(1, 2), -1)  # H_0^2 = 1/4, H_1^2 = 1/(2 pi)
        for j in range(m, 1, -2):
            h2 *= (j - 1) ** 2
        c = self.p + (self.q if k % 2 == 0 else -self.q)
        return _PiQ(c * c * h2, e)


def _activation(name: Any) -> _Act:
    if not isinstance(name, str):
        raise _Bad("the cell's activation is not a name")
    key = name.strip().lower().replace(" ", "")
    one, zero = Fraction(1), Fraction(0)
    table = {"relu": (1, one, zero), "abs": (1, one, one), "step": (0, one, zero), "relu^0": (0, one, zero),
             "relu^1": (1, one, zero), "relu^2": (2, one, zero), "relu^3": (3, one, zero)}
    if key in table:
        n, p, q = table[key]
        return _Act(key, n, p, q)
    m = _LEAKY.fullmatch(key)
    if m:
        return _Act(key, 1, one, -_rational(m.group(1), "the leaky_relu slope"))
    raise _Unsupported(f"activation {name[:60]!r} not checkable here (this checker knows relu, abs, step, "
                       "leaky_relu(s), relu^2, relu^3)")


def _j_jets(n: int, S, C, P, order: int):
    """J_n and (order >= 1) its theta-derivatives at (sin, cos, pi - theta) = (S, C, P), as intervals."""
    J = [P]
    if n >= 1:
        J.append(S + P * C)
    if n >= 2:
        J.append(3 * S * C + P * (1 + 2 * C * C))
    if n >= 3:
        S2, C2 = S * S, C * C
        J.append(4 * S2 * S + 15 * S * C2 + P * (9 * S2 * C + 15 * C2 * C))
    if order == 0:
        return (J[n],)
    D1 = [iv.mpf(-1)]
    for k in range(1, n + 1):
        D1.append(-(k * k) * S * J[k - 1])
    D2 = iv.mpf(0) if n == 0 else -(n * n) * (C * J[n - 1] + S * D1[n - 1])
    return J[n], D1[n], D2


class _Kernel:
    """kappa(cos theta) and its theta-derivatives for one activation, on intervals (precision fixed by caller)."""

    def __init__(self, act: _Act) -> None:
        self.act = act
        self.n = act.n
        self.A = _q(act.A)
        self.B = _q(act.B)
        self.has_B = act.B != 0
        self.inv2pi = 1 / (2 * iv.pi)

    def jets(self, theta, S, C, order: int = 2):
        """(kappa, d/dtheta kappa, d^2/dtheta^2 kappa) at theta (only kappa for order 0)."""
        P = iv.pi - theta
        main = _j_jets(self.n, S, C, P, order)
        if self.has_B:
            mirror = _j_jets(self.n, S, -C, theta, order)  # J_n(pi - theta): sin same, cos flips, pi - (pi - theta)
            signs = (1, -1, 1)
            out = [(self.A * a + signs[i] * self.B * b) * self.inv2pi for i, (a, b) in enumerate(zip(main, mirror))]
        else:
            out = [self.A * a * self.inv2pi for a in main]
        return out

    def at_angle(self, theta, S, C):
        return self.jets(theta, S, C, order=0)[0]


def _angle(c2: Fraction, negative: bool):
    """An interval enclosing theta in [0, pi] with cos theta = +-sqrt(c2) (sign by ``negative``), 0 <= c2 <= 1.

    A candidate from mpmath's atan2 is widened by eps and verified with interval cos (decreasing on [0, pi]) or
    interval sin (increasing on [0, pi/2]), whichever is well conditioned there; eps grows until it verifies."""
    if not 0 <= c2 <= 1:
        raise _Bad("an inner product of unit vectors is outside [-1, 1]")
    if negative:
        return iv.pi - _angle(c2, False)
    if c2 == 1:
        return iv.mpf(0)
    cos_v, sin_v = iv.sqrt(_q(c2)), iv.sqrt(_q(1 - c2))
    with mpmath.workprec(iv.prec + 40):
        x = mpmath.mpf(c2.numerator) / c2.denominator
        guess = mpmath.atan2(mpmath.sqrt(1 - x), mpmath.sqrt(x))
    eps = mpmath.ldexp(mpmath.mpf(1), -(iv.prec - 24)) * max(guess, mpmath.ldexp(mpmath.mpf(1), -iv.prec))
    use_cos = c2 <= Fraction(1, 2)  # theta >= pi/4: cos has slope <= -sin(pi/4)
    for _ in range(40):
        lo, hi = max(guess - eps, mpmath.mpf(0)), guess + eps
        if hi > (3 if use_cos else 1.5):  # leave the range where cos (sin) is monotone: give up
            break
        if use_cos:
            ok = _lo(iv.cos(iv.mpf(lo))) >= _hi(cos_v) and _hi(iv.cos(iv.mpf(hi))) <= _lo(cos_v)
        else:  # theta < pi/4 + tiny: sin increasing on [0, pi/2]
            ok = (lo == 0 or _hi(iv.sin(iv.mpf(lo))) <= _lo(sin_v)) and _lo(iv.sin(iv.mpf(hi))) >= _hi(sin_v)
        if ok:
            return iv.mpf([lo, hi])
        eps *= 256
    raise _Unsupported("could not enclose an angle (precision exhausted)")


# ----------------------------------------------------------------------------------------------------------
# the ETF value and the refutation value


def _etf_values(act: _Act, kern: _Kernel, M: int, d: int, regime: str, abar: Fraction, tilt: Fraction):
    """(F_ETF, C_target, Q, c_d) as intervals (c_d None in regime II)."""
    k1 = _q(act.kappa_one)
    if M == 2:
        kr = _q(act.kappa_minus_one)
    else:
        c2 = Fraction(1, (M - 1) ** 2)
        th = _angle(c2, True)
        kr = kern.at_angle(th, iv.sqrt(_q(1 - c2)), -iv.sqrt(_q(c2)))
    lam = k1 + (M - 1) * kr
    if not _positive(lam):
        raise _Unsupported("kappa(1) + (M-1) kappa(rho0) is not provably positive (K singular at the ETF)")
    Q = lam / M
    a = _q(abar)
    if regime == "I":
        c = act.c_d(d).to_iv()
        C = a * a * c
        return C - (a * c) ** 2 / Q, C, Q, c
    mu0, mu1 = act.mu_sq(0).to_iv(), act.mu_sq(1).to_iv()
    m2 = _q(tilt * tilt)
    C = a * a * mu0 + mu1 * m2
    gap = k1 - kr
    if not _positive(gap):
        raise _Unsupported("kappa(1) - kappa(rho0) is not provably positive")
    a0 = a * mu0
    return C - a0 * a0 * M / lam - mu1 * mu1 * m2 * M / ((M - 1) * gap), C, Q, None


def _ltilde(act: _Act, kern: _Kernel, frame: list[list[Fraction]], beta: list[Fraction], regime: str,
            abar: Fraction, tilt: Fraction, C, c_d):
    """Ltilde(beta, V / ||V||) as an interval from exact Gram data."""
    M = len(frame)
    norms = [sum(x * x for x in row) for row in frame]
    if any(n == 0 for n in norms):
        raise _Bad("the refutation frame has a zero row")
    bq = [_q(b) for b in beta]
    a = _q(abar)
    if regime == "I":
        bvals = [a * c_d] * M
    else:
        mu0, mu1 = act.mu_sq(0).to_iv(), act.mu_sq(1).to_iv()
        t = _q(tilt)
        # <m, v_j/||v_j||> with m = tilt e_1: tilt v_j1 / sqrt(||v_j||^2)
        bvals = [a * mu0 + mu1 * t * _q(frame[j][0]) / iv.sqrt(_q(norms[j])) for j in range(M)]
    total = C
    k1 = _q(act.kappa_one)
    for j in range(M):
        total = total - 2 * bq[j] * bvals[j] + bq[j] * bq[j] * k1
        for l in range(j + 1, M):
            if beta[j] == 0 or beta[l] == 0:
                continue
            dot = sum(x * y for x, y in zip(frame[j], frame[l]))
            c2 = dot * dot / (norms[j] * norms[l])
            if c2 > 1:
                raise _Bad("Cauchy-Schwarz violated")  # impossible for exact rationals
            th = _angle(c2, dot < 0)
            cos_v = iv.sqrt(_q(c2))
            kap = kern.at_angle(th, iv.sqrt(_q(1 - c2)), -cos_v if dot < 0 else cos_v)
            total = total + 2 * bq[j] * bq[l] * kap
    return total


# ----------------------------------------------------------------------------------------------------------
# the Delsarte-Yudin certificate


def _gegenbauer(k: int, d: int) -> list[Fraction]:
    """Monomial coefficients of the Gegenbauer polynomial of S^(d-1) of degree k, normalised to 1 at t = 1."""
    if d == 1:
        if k > 1:
            raise _Unsupported("d = 1: only Gegenbauer degrees 0 and 1 exist on S^0")
        return [Fraction(1)] if k == 0 else [Fraction(0), Fraction(1)]
    lam = Fraction(d - 2, 2)
    prev, cur = [Fraction(1)], ([Fraction(0), Fraction(1)] if d == 2 else [Fraction(0), 2 * lam])
    if k == 0:
        return prev
    for j in range(1, k):
        shifted = [Fraction(0)] + cur
        if d == 2:  # T_(j+1) = 2 t T_j - T_(j-1)
            nxt = [2 * c for c in shifted]
            for i, c in enumerate(prev):
                nxt[i] -= c
        else:  # (j+1) C_(j+1) = 2 (j + lam) t C_j - (j + 2 lam - 1) C_(j-1)
            nxt = [2 * (j + lam) * c / (j + 1) for c in shifted]
            for i, c in enumerate(prev):
                nxt[i] -= (j + 2 * lam - 1) * c / (j + 1)
        prev, cur = cur, nxt
    at_one = sum(cur)
    return [c / at_one for c in cur]


def _prove_kernel_above(kern: _Kernel, mono: list[Fraction], delta: Fraction) -> tuple[bool, int, int, str]:
    """Prove kappa(t) - h(t) > -delta on [-1, 1] (h = sum mono[i] t^i) by bisection of theta in [0, pi].

    Returns (holds, intervals, deepest level, note)."""
    c0 = [_q(c) for c in mono]
    c1 = [i * c0[i] for i in range(1, len(c0))]
    c2 = [i * c1[i] for i in range(1, len(c1))]

    def horner(cs, x):
        out = iv.mpf(0)
        for c in reversed(cs):
            out = out * x + c
        return out

    def f_jets(theta):
        S, C = iv.sin(theta), iv.cos(theta)
        k0, k1, k2 = kern.jets(theta, S, C, 2)
        h0, h1, h2 = horner(c0, C), horner(c1, C), horner(c2, C)
        return k0 - h0, k1 + S * h1, k2 - S * S * h2 + C * h1

    dl = _q(delta)
    cache: dict = {}

    def f_at(x):
        if x not in cache:
            cache[x] = f_jets(iv.mpf(x))
        return cache[x]

    def clears(bound) -> bool:
        return _positive(bound + dl)

    top = mpmath.mpf(_hi(iv.pi))  # [0, top] contains [0, pi]
    stack = [(mpmath.mpf(0), top, 0)]
    count = deepest = 0
    while stack:
        a, b, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        T = iv.mpf([a, b])
        F0, F1, F2 = f_jets(T)
        if clears(F0):
            continue
        c = (a + b) / 2
        G0, G1, _ = f_at(c)
        R = max(_hi(iv.mpf(b) - iv.mpf(c)), _hi(iv.mpf(c) - iv.mpf(a)))
        Ri = iv.mpf(R)
        l2 = _lo(F2)
        if l2 > 0:  # f(c + s) >= G0 + G1 s + l2 s^2 / 2 >= G0 - G1^2 / (2 l2), and >= G0 - |G1| R
            ok = clears(G0 - G1 * G1 / (2 * iv.mpf(l2))) or clears(G0 - abs(G1) * Ri)
        else:
            ok = clears(G0 - abs(G1) * Ri + iv.mpf(l2) * Ri * Ri / 2)
        if not ok:
            W = iv.mpf([0, _hi(iv.mpf(b) - iv.mpf(a))])
            ok = clears(f_at(a)[0] + F1 * W) or clears(f_at(b)[0] - F1 * W)
        if ok:
            continue
        if depth >= MAX_DEPTH or count >= MAX_INTERVALS:
            t_lo, t_hi = float(mpmath.cos(b)), float(mpmath.cos(a))
            return False, count, deepest, (f"not proved near t in [{t_lo:.6g}, {t_hi:.6g}] "
                                           f"(lower end {float(_lo(F0)):.3g})")
        stack.append((c, b, depth + 1))
        stack.append((a, c, depth + 1))
    return True, count, deepest, ""


def _check_bound(act: _Act, kern: _Kernel, name: str, bound: Any, M: int, d: int, Q, c_d) -> tuple[bool, str]:
    """Re-verify one bounds_nonneg entry; (proves PROVEN?, detail)."""
    if not isinstance(bound, dict):
        raise _Bad(f"bound {name!r} is not an object")
    hs = bound.get("h")
    if not isinstance(hs, list) or not 1 <= len(hs) <= MAX_H_TERMS:
        raise _Bad(f"bound {name!r}: h must be a list of 1..{MAX_H_TERMS} rationals")
    h = [_rational(x, f"bound {name!r} h[{i}]") for i, x in enumerate(hs)]
    delta = _rational(bound.get("delta"), f"bound {name!r} delta")
    if not 0 < delta < 1:
        return False, f"{name}: delta = {float(delta):.3g} is not in (0, 1)"
    if any(x < 0 for x in h[1:]):
        return False, f"{name}: a Gegenbauer coefficient h_k (k >= 1) is negative: no Schoenberg bound"
    mono = [Fraction(0)] * len(h)
    for k, hk in enumerate(h):
        for i, c in enumerate(_gegenbauer(k, d)):
            mono[i] += hk * c
    A = h[0] - delta + (act.kappa_one - sum(h) + delta) / M  # h(1) = sum h_k since G_k(1) = 1
    if A <= 0:
        return False, f"{name}: A = {float(A):.3g} <= 0 gives no bound"
    Ai = _q(A)
    gap = c_d * (Q - Ai) / (Ai * Q)  # (F_ETF - bound) / C_target
    if not _hi(gap) <= mpmath.mpf(PROOF_RTOL.numerator) / PROOF_RTOL.denominator:
        return False, f"{name}: certified relative gap {float(_hi(gap)):.3g} > {float(PROOF_RTOL):g}"
    holds, count, depth, note = _prove_kernel_above(kern, mono, delta)
    if not holds:
        return False, f"{name}: kappa - h >= -delta {note} after {count} intervals"
    g = max(float(_hi(gap)), 0.0)
    return True, (f"{name}: h (degree {len(h) - 1}) <= kappa + {float(delta):.1e} on [-1, 1] proved on {count} theta-"
                  f"intervals (depth {depth}); A = {float(A):.12g}, relative gap <= {g:.2e} <= {float(PROOF_RTOL):g}")


# ----------------------------------------------------------------------------------------------------------
# one cell


def _stated_values_agree(res: dict, F, C) -> str:
    """'' or why the stated F_ETF / C_target disagree with the re-computed enclosures."""
    Cmid = float(C.mid)
    etf = res.get("etf")
    if isinstance(etf, dict) and "closed_form" in etf:
        stated = _decimal(etf["closed_form"], "etf.closed_form")
        tol = _q(STRING_RTOL) * C
        diff = _q(stated) - F
        if _hi(abs(diff)) > _lo(tol):
            return f"stated F_ETF {etf['closed_form'][:24]} disagrees with the re-computed {_str(F)}"
    values = res.get("values")
    if isinstance(values, dict) and values.get("etf") is not None:
        v = _float(values["etf"], "values.etf")
        if abs(v - float(F.mid)) > FLOAT_RTOL * max(Cmid, abs(v)) + 1e-300:
            return f"stated F_ETF {v!r} disagrees with the re-computed {_str(F, 17)}"
    if res.get("C_target") is not None:
        v = _float(res["C_target"], "C_target")
        if abs(v - Cmid) > FLOAT_RTOL * max(Cmid, abs(v)):
            return f"stated C_target {v!r} disagrees with the re-computed {_str(C, 17)}"
    return ""


def _zero_loss(act: _Act, M: int, d: int, regime: str, abar: Fraction, F) -> str:
    """'' when F_ETF = 0 exactly (regime I), else raise."""
    if regime != "I":
        raise _Bad("the zero-loss certificate holds in regime I only")
    if abar == 0:
        return "abar = 0: F_ETF = 0 and Ltilde >= 0"
    c = act.c_d(d)
    if M == 2:
        lam = act.kappa_one + act.kappa_minus_one
        if c.e == 0 and c.r * M == lam:
            return (f"F_ETF = c_d (1 - c_d M/lambda) = 0 exactly (c_d = {c.r}, lambda = {lam}) and "
                    "Ltilde = E (f - g)^2 >= 0")
        raise _Bad("F_ETF is not 0: c_d M != lambda exactly")
    if _positive(F) or _positive(-F):
        raise _Bad(f"F_ETF = {_str(F, 15)} is not 0")
    raise _Unsupported("F_ETF = 0 for M >= 3 cannot be decided exactly here")


def _frame(ref: dict, M: int, d: int) -> tuple[list[list[Fraction]], list[Fraction]]:
    rows, beta = ref.get("frame_rational"), ref.get("beta_rational")
    if not isinstance(rows, list) or len(rows) != M or not all(isinstance(r, list) and len(r) == d for r in rows):
        raise _Bad(f"the refutation frame is not {M} rows of {d} rationals")
    if not isinstance(beta, list) or len(beta) != M:
        raise _Bad(f"the refutation beta is not {M} rationals")
    frame = [[_rational(x, "a frame entry") for x in r] for r in rows]
    return frame, [_rational(x, "a beta entry") for x in beta]


def _check_claim(res: dict, column: str, stated: str, act: _Act, M: int, d: int, regime: str, abar: Fraction,
                 tilt: Fraction) -> tuple[str, str]:
    if regime not in ("I", "II"):
        raise _Unsupported(f"regime {regime}: no closed-form ETF value to compare with")
    if M > d + 1:
        raise _Bad("M > d + 1: there is no simplex ETF to prove or refute")
    kern = _Kernel(act)
    F, C, Q, c_d = _etf_values(act, kern, M, d, regime, abar, tilt)
    why = _stated_values_agree(res, F, C)
    if why:
        return "failed", why
    if stated == "REFUTED":
        keys = ("refutation_nonneg", "refutation_signed")
        if column == "signed":
            keys = keys[::-1]
        tried = []
        for key in keys:
            ref = res.get(key)
            if not isinstance(ref, dict):
                continue
            frame, beta = _frame(ref, M, d)
            if column == "beta>=0" and any(b < 0 for b in beta):
                tried.append(f"{key}: a beta_j < 0 (not a beta >= 0 counterexample)")
                continue
            val = _ltilde(act, kern, frame, beta, regime, abar, tilt, C, c_d)
            if _hi(val) < _lo(F):
                return "confirmed", (f"{key}: Ltilde at the rational frame in [{_str(val, 12)} +- "
                                     f"{float(val.delta) / 2:.1e}] < F_ETF = {_str(F, 20)} (margin "
                                     f"{float(_lo(F) - _hi(val)) / float(C.mid):.2e} C_target)")
            tried.append(f"{key}: Ltilde in [{_str(val, 12)}] is not below F_ETF = {_str(F, 15)}")
        return "failed", "; ".join(tried) or "no refutation frame in the report"
    # PROVEN
    notes = []
    if "zero_loss_certificate" in res:
        try:
            return "confirmed", _zero_loss(act, M, d, regime, abar, F)
        except _Bad as err:
            notes.append(f"zero loss: {err}")
    if column == "signed":
        if "elliptope_certificate" in res:
            return _elliptope(res["elliptope_certificate"], act, M, d, regime)
        if notes:
            return "failed", "; ".join(notes)
        raise _Bad("no certificate for signed beta in the report (the SDP bounds are not certificates)")
    if regime != "I":
        return "failed", "; ".join(notes + ["a Delsarte-Yudin certificate needs regime I"])
    bounds = res.get("bounds_nonneg")
    if not isinstance(bounds, dict) or not bounds:
        return "failed", "; ".join(notes + ["no bounds_nonneg certificate in the report"])
    if len(bounds) > 8:
        raise _Bad("more than 8 bounds_nonneg entries")
    # try the bounds the report calls valid first (the others are re-checked too, they cost nothing when the gap is big)
    order = sorted(bounds.items(), key=lambda kv: not (isinstance(kv[1], dict) and kv[1].get("valid")))
    for name, bound in order:
        try:
            ok, detail = _check_bound(act, kern, str(name)[:40], bound, M, d, Q, c_d)
        except _Bad as err:
            ok, detail = False, str(err)
        if ok:
            return "confirmed", detail
        notes.append(detail)
    return "failed", "; ".join(notes)


def _elliptope(ref: Any, act, M: int, d: int, regime: str) -> tuple[str, str]:
    """PROVEN (signed) from an elliptope certificate: the cited file, its sha256 and its independent check."""
    from conjecture.elliptope.checker import check_file

    if not isinstance(ref, dict) or not isinstance(ref.get("file"), str) or not isinstance(ref.get("sha256"), str):
        raise _Bad("elliptope_certificate: expected the file and sha256 of the certificate")
    if regime != "I" or d < M - 1:
        return "failed", "an elliptope certificate proves regime I cells with d >= M - 1 only"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.normpath(os.path.join(root, ref["file"][:200]))
    if not path.startswith(os.path.join(root, "conjecture", "elliptope", "data") + os.sep) or not os.path.isfile(path):
        return "failed", f"elliptope certificate {ref['file'][:80]!r} is not a file shipped in conjecture/elliptope/data"
    result = check_file(path)
    if result.sha256 != ref["sha256"]:
        return "failed", f"{ref['file']}: sha256 {result.sha256[:16]}... differs from the cited {ref['sha256'][:16]}..."
    with open(path, encoding="utf-8") as fh:
        head = json.load(fh)
    if head.get("M") != M or head.get("activation") != act.name:
        return "failed", f"{ref['file']} is for M = {head.get('M')}, {head.get('activation')}, not M = {M}, {act.name}"
    if not result.ok:
        return "failed", f"{ref['file']}: {result.failure}"
    return "confirmed", (f"{ref['file']} (sha256 {result.sha256[:16]}...): {result.boxes} boxes re-verified in "
                         f"{result.wall_s:.2f} s; q(G) <= q_ETF on E_{M}, so min over (beta, V) of Ltilde = F_ETF")


def _cell_claims(cell: Any, index: int) -> list[ClaimCheck]:
    if not isinstance(cell, dict) or not isinstance(cell.get("result"), dict):
        raise InputError("path", f"not a conjecture report: cell {index} has no result object")
    res = cell["result"]
    params = res.get("params") if isinstance(res.get("params"), dict) else cell.get("params")
    if not isinstance(params, dict):
        raise InputError("path", f"not a conjecture report: cell {index} has no params")
    M = _int(params.get("M"), f"cell {index} M", 2, MAX_M)
    d = _int(params.get("d"), f"cell {index} d", 1, MAX_D)
    cell_id = str(cell.get("cell_id", ""))[:64]
    out = []
    for column, key in zip(COLUMNS, ("verdict_nonneg", "verdict_signed")):
        stated = res.get(key)
        if stated not in ("PROVEN", "REFUTED"):
            continue
        t0 = time.perf_counter()
        act_name = str(params.get("activation", "relu"))[:80]
        regime = str(params.get("regime", "I")).strip().upper()[:8]
        try:
            act = _activation(params.get("activation", "relu"))
            abar = Fraction(_float(params.get("abar", 1.0), "abar"))
            tilt = Fraction(_float(params.get("tilt_norm", 0.0), "tilt_norm")) if regime == "II" else Fraction(0)
            with _Precision(BITS):
                status, detail = _check_claim(res, column, stated, act, M, d, regime, abar, tilt)
        except _Unsupported as err:
            status, detail = "not checkable", str(err)
        except _Bad as err:
            status, detail = "failed", str(err)
        out.append(ClaimCheck(M, d, column, stated, status, detail, time.perf_counter() - t0, act_name, regime,
                              cell_id))
    return out


def _report_file(path: Any) -> str:
    if isinstance(path, (str, os.PathLike)):
        p = os.fspath(path)
        if isinstance(p, str) and len(p) <= 4096 and os.path.isdir(p):
            return os.path.join(p, "report.json")
        return p
    raise InputError("path", "expected the path of a report.json or of a run folder", got=type(path).__name__)


def check(path) -> CertificateCheck:
    """Re-verify every PROVEN and REFUTED claim of a conjecture report (``report.json`` or its run folder).

    Raises InputError('path', ...) for a file that cannot be read within the limits or is not a conjecture
    report; a claim whose evidence is missing or wrong is an entry with status 'failed', never an exception.
    See the module docstring for the statements checked and an example.
    """
    file = _report_file(path)
    doc = read_bounded_json(file, "path")
    is_report = (isinstance(doc, dict) and isinstance(doc.get("format"), str)
                 and doc["format"].startswith("twolayer-report/") and doc.get("kind") == "conjecture-cell"
                 and isinstance(doc.get("cells"), list))
    if not is_report:
        raise InputError("path", "not a conjecture report (expected a twolayer-report of kind 'conjecture-cell' "
                                 "with a list of cells, as written by 'twolayer conjecture')")
    cells = doc["cells"]
    if len(cells) > MAX_CELLS:
        raise InputError("path", f"the report has {len(cells)} cells; the limit is {MAX_CELLS}")
    entries: list[ClaimCheck] = []
    for i, cell in enumerate(cells):
        entries.extend(_cell_claims(cell, i))
    rid = doc.get("report_id")
    return CertificateCheck(file, rid[:100] if isinstance(rid, str) else None, tuple(entries))

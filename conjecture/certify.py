"""Rigorous checks with interval arithmetic: f >= -delta on [-1, 1] by adaptive subdivision, and
certified values of Ltilde at rational frames.

On each sub-interval J = [c - r, c + r] three enclosures of f(J) are tried, the best lower end kept:
    direct          f(J)
    mean value      f(c) + f'(J) [-r, r]
    second order    f(c) + f'(c) [-r, r] + f''(J) [0, r^2] / 2
and J is bisected while none of them proves f(J) > -delta. A tangency (double zero of f) needs intervals
of width about sqrt(delta / f''), i.e. about log2(1/sqrt(delta)) bisection levels there.

References: Moore, Kearfott, Cloud, "Introduction to Interval Analysis", SIAM 2009, ch. 6 (mean value and
Taylor forms).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

from flint import arb, fmpq

from conjecture.interval import ball, point, working_bits

ArbFn = Callable[[arb], arb]


@dataclass(frozen=True)
class NonnegativityCertificate:
    """Outcome of ``certify_lower``: whether f >= -delta was proved on [lo, hi], with the effort spent."""

    holds: bool
    delta: Fraction
    intervals: int
    max_depth: int
    bits: int
    worst_lower: float
    failed_at: tuple[float, float] | None


def _lower(x: arb) -> arb | None:
    return x.lower() if x.is_finite() else None


def certify_lower(f: ArbFn, f1: ArbFn, f2: ArbFn, *, delta: Fraction, lo: Fraction = Fraction(-1), hi: Fraction = Fraction(1),
                  bits: int = 320, max_intervals: int = 20_000, max_depth: int = 400) -> NonnegativityCertificate:
    """Prove f(t) > -delta for every t in [lo, hi] (f, f', f'' given as arb enclosure functions).

    Examples
    --------
    >>> sq = lambda t: t * t
    >>> cert = certify_lower(sq, lambda t: 2 * t, lambda t: arb(2), delta=Fraction(1, 10**30))
    >>> cert.holds, cert.intervals < 1000
    (True, True)
    >>> certify_lower(lambda t: t, lambda t: arb(1), lambda t: arb(0), delta=Fraction(1, 10)).holds
    False
    """
    with working_bits(bits):
        dl = arb(fmpq(delta.numerator, delta.denominator))
        stack = [(lo, hi, 0)]
        count, deepest, worst = 0, 0, float("inf")
        while stack:
            a, b, depth = stack.pop()
            count += 1
            deepest = max(deepest, depth)
            c, r = (a + b) / 2, (b - a) / 2
            J, C, R = ball(a, b), point(c), ball(-r, r)
            candidates = []
            for make in (lambda: f(J), lambda: f(C) + f1(J) * R, lambda: f(C) + f1(C) * R + f2(J) * ball(Fraction(0), r * r) / 2):
                try:
                    low = _lower(make())
                except (ZeroDivisionError, ValueError):
                    low = None
                if low is not None:
                    candidates.append(low)
            best = max(candidates, key=lambda x: float(x.mid())) if candidates else None
            if best is not None and (best + dl) > 0:
                worst = min(worst, float(best.mid()))
                continue
            if depth >= max_depth or count >= max_intervals:
                return NonnegativityCertificate(False, delta, count, deepest, bits, worst, (float(a), float(b)))
            stack.append((c, b, depth + 1))
            stack.append((a, c, depth + 1))
    return NonnegativityCertificate(True, delta, count, deepest, bits, worst, None)


def poly_arb(coeffs: Sequence[Fraction]) -> tuple[ArbFn, ArbFn, ArbFn]:
    """p, p', p'' for p(t) = sum_k coeffs[k] t^k with exact rational coefficients (Horner on balls)."""
    c0 = [fmpq(c.numerator, c.denominator) for c in coeffs]
    c1 = [k * c0[k] for k in range(1, len(c0))]
    c2 = [k * c1[k] for k in range(1, len(c1))]

    def horner(cs):
        def ev(t):
            out = arb(0)
            for c in reversed(cs):
                out = out * t + arb(c)
            return out

        return ev

    return horner(c0), horner(c1), horner(c2)


def rational(x: float) -> Fraction:
    """The exact rational value of a float64 (every finite float is a dyadic rational)."""
    return Fraction(float(x))


def ltilde_arb(beta: Sequence[Fraction], frame: Sequence[Sequence[Fraction]], kappa: ArbFn, b_fn: Callable[[list[arb]], arb],
               constant: arb, *, bits: int = 256) -> arb:
    """Enclosure of Ltilde(beta, V) = C - 2 sum beta_j b(v_j) + sum beta_j beta_l kappa(<v_j, v_l>) for exact rational
    beta and rows (rows are normalised in ball arithmetic; the diagonal uses kappa(1)).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> from conjecture.interval import interval_kernel
    >>> k = interval_kernel(get_activation("relu")).value
    >>> v = ltilde_arb([Fraction(1)], [[Fraction(1), Fraction(0)]], k, lambda u: arb(0), arb(0))
    >>> v.overlaps(arb(1) / 2)
    True
    """
    with working_bits(bits):
        rows = []
        for row in frame:
            xs = [arb(fmpq(x.numerator, x.denominator)) for x in row]
            nrm = sum((x * x for x in xs), arb(0)).sqrt()
            rows.append([x / nrm for x in xs])
        bs = [arb(fmpq(x.numerator, x.denominator)) for x in beta]
        total = constant
        M = len(rows)
        k1 = kappa(arb(1))
        for j in range(M):
            total -= 2 * bs[j] * b_fn(rows[j])
            total += bs[j] * bs[j] * k1
            for l in range(j + 1, M):
                rho = sum((x * y for x, y in zip(rows[j], rows[l])), arb(0))
                # clip the enclosure to [-1, 1]: the true inner product of unit vectors lies there
                rho = rho.intersection(arb(0).union(arb(1)).union(arb(-1)))
                total += 2 * bs[j] * bs[l] * kappa(rho)
        return total

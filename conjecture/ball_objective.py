"""The exact regime III objective in ball arithmetic: b, C_target and Ltilde as arb enclosures, and b as a jet.

For a product law (``theory.point_laws``: Rademacher, sparse Rademacher, moment atoms) every point is rebuilt
exactly from its rational squared entries, w_i = +-sqrt(r_k / d), so

    b(v^) = s sum_pairs weight ||w||^n kappa_e(<w^, v^>),   kappa_e(t) = (kappa(t) + kappa(-t)) / 2,
    C = s^2 sum_orbits (orbit weight) ||w||^n b(w^) / s,       s = abar / E||w||^n

are enclosed by arb balls for any ball v^ (the true inner products are clipped to [-1, 1]). kappa_e and its
derivatives are compiled from theory's sympy closed forms (``conjecture.interval.compile_arb``).

As a jet (``conjecture.ball_jets``) of a unit vector v^(x): kappa_e(rho)'' = kappa_e''(rho) rho' rho'^T +
kappa_e'(rho) rho''. kappa_e'' is infinite at rho = +-1 (kappa has a |theta|^3 term there), but the product is not:
with rho = <w^, v^(x)> and v^ a unit vector, d rho / d x_i = <d v^/d x_i, w^ - rho v^>, so
|d rho / d x_i| <= |d v^/d x_i| sqrt(1 - rho^2) and

    kappa_e''(rho) d_i rho d_k rho  in  (1 - rho^2) kappa_e''(rho) |d_i v^| |d_k v^| [-1, 1]   ([0, 1] for i = k),

with (1 - rho^2) kappa_e'' finite (ReLU: sqrt(1 - rho^2) / (2 pi)). Both enclosures are valid; their intersection
is used. The uniform law's cubature rule is an estimate, not the law: it has no ball objective.

References: derived here (docs/regime3.md, "certificates"); Johansson, IEEE Trans. Comput. 66 (2017) (arb).

Examples
--------
>>> from flint import arb
>>> obj = ball_objective("relu", 3, "rademacher")
>>> from theory.exact_anisotropic import exact_summary
>>> import numpy as np
>>> s = exact_summary("relu", 3, "rademacher")
>>> obj.b([arb(1), arb(0), arb(0)]).overlaps(arb(float(s.b(np.eye(3)[:1])[0]), 1e-15))
True
>>> obj.constant().overlaps(arb(s.constant(), 1e-15))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import sympy as sp
from flint import arb, fmpq

from conjecture.ball_jets import Jet, Pair, dot, norm_bound
from conjecture.interval import compile_arb
from theory.activations import Activation
from theory.errors import InputError
from theory.exact_anisotropic import ExactAnisotropicSummary, exact_summary
from theory.kernels import RHO, dual_kernel

_UNIT = arb(0, 1)                            # [-1, 1] (midpoint 0, radius 1: exact)
_HALF_UNIT = arb(0.5, 0.5)                   # [0, 1]
# |t| above which kappa_e is evaluated in mean-value form about t = +-1 (EvenKernelArb.value).
NEAR_ONE = arb(1) - arb(2) ** -8


@dataclass(frozen=True)
class EvenKernelArb:
    """kappa_e, kappa_e', kappa_e'' and (1 - t^2) kappa_e'' as arb enclosure functions (sympy -> arb)."""

    value_fn: object
    first: object
    second: object
    damped_second: object
    convex: bool

    def value(self, r: arb) -> arb:
        """kappa_e on a ball inside [-1, 1]. Near +-1 the closed form adds non-Lipschitz terms (sqrt(1 - t^2), acos)
        whose sum is smooth: there the mean-value form kappa_e(e) + kappa_e'(r) (r - e), e = +-1, is used (it keeps
        a thin ball thin instead of widening it to the square root of its radius)."""
        if abs(r).upper() > NEAR_ONE:
            end = arb(1) if r.mid() > 0 else arb(-1)
            slope = self.first(r.union(end))  # the mean value lies between t and the end point
            if slope.is_finite():
                direct = self.value_fn(r)
                mean = self.value_fn(end) + slope * (r - end)
                return mean.intersection(direct) if direct.is_finite() else mean
        return self.value_fn(r)


@lru_cache(maxsize=None)
def even_kernel_arb(act: Activation) -> EvenKernelArb:
    """Compile kappa_e = (kappa(t) + kappa(-t)) / 2 and its derivatives for ``act`` (cached)."""
    k = dual_kernel(act).expr
    e = sp.simplify((k + k.subs(RHO, -RHO)) / 2)
    d1 = sp.simplify(sp.diff(e, RHO))
    d2 = sp.diff(d1, RHO)
    damped = sp.simplify((1 - RHO**2) * d2)
    convex = act.degree >= 1  # kappa_e has nonnegative Taylor coefficients (the even part of kappa's)
    return EvenKernelArb(compile_arb(e), compile_arb(d1), compile_arb(d2), compile_arb(damped), convex)


def _q(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


@dataclass(frozen=True)
class BallObjective:
    """Ball enclosures of the exact b, C_target and Ltilde of one (activation, d, law); see the module docstring.

    ``units`` are the law's points w^ as lists of arb balls, ``weights`` the arb weights s weight ||w||^n.
    """

    summary: ExactAnisotropicSummary
    units: tuple
    weights: tuple
    scale: arb
    kernel: EvenKernelArb
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def activation(self) -> Activation:
        return self.summary.activation

    @property
    def dim(self) -> int:
        return self.summary.dim

    def b(self, row) -> arb:
        """b at a unit row given as arb balls (or at the normalised direction of any nonzero row)."""
        nrm = sum((x * x for x in row), arb(0)).sqrt()
        row = [x / nrm for x in row]
        total = arb(0)
        for u, w in zip(self.units, self.weights):
            rho = sum((a * b for a, b in zip(u, row)), arb(0)).intersection(_UNIT)
            total += w * self.kernel.value(rho)
        return total

    def constant(self) -> arb:
        """C_target = E ||w||^n b(w^), by orbits of the points (b is invariant under signed permutations)."""
        if "C" not in self._cache:
            pts = self.summary.points
            _, totals, index = pts.orbit_types()
            acc = arb(0)
            for i, t in zip(index, totals):
                size = int(round(t / pts.weights[i]))
                acc += size * self.weights[i] * self.b(list(self.units[i]))
            self._cache["C"] = acc
        return self._cache["C"]

    def b_jet(self, vector: list[Jet], *, numerator: list[Jet] | None = None, factor: Jet | None = None) -> Jet:
        """b(v^(x)) as a jet, for a unit vector v^(x) given as d jets (see the module docstring for kappa_e'').

        With ``numerator`` and ``factor`` (v^ = factor * numerator, e.g. a polynomial vector over its norm) the inner
        products are formed as <w^, numerator> * factor: fewer dependent operations, tighter box enclosures."""
        order = vector[0].order
        p = len(vector[0].g)
        bounds = [norm_bound(vector, i) for i in range(p)] if order == 2 else None
        total = None
        for u, w in zip(self.units, self.weights):
            rho = dot(vector, u) if numerator is None else dot(numerator, u) * factor
            term = self._kernel_jet(rho, bounds).scale(w)
            total = term if total is None else total + term
        return total

    def b_pair(self, vector: list[Pair], *, numerator: list[Pair] | None = None, factor: Pair | None = None) -> Pair:
        """b(v^(x)) on a box as a ``Pair`` (box jet narrowed by centred forms, and the centre jet); arguments as
        ``b_jet``."""
        p = len(vector[0].deltas)
        bounds = [norm_bound(vector, i) for i in range(p)]
        total = None
        for u, w in zip(self.units, self.weights):
            rho = (dot(vector, u) if numerator is None else dot(numerator, u) * factor).tight()
            term = Pair(self._kernel_jet(rho.box, bounds), self._kernel_jet(rho.centre, None), rho.deltas)
            term = rho._make(term.box, term.centre).scale(w)
            total = term if total is None else total + term
        return rho._make(total.box, total.centre)

    def _kernel_jet(self, rho: Jet, bounds) -> Jet:
        r = rho.v.intersection(_UNIT)
        f0, f1 = self.kernel.value(r), self.kernel.first(r)
        if rho.h is None:
            return rho.apply(f0, f1, None)
        f2 = self.kernel.second(r)
        direct = f2.is_finite()
        near = (abs(r).upper() > arb("0.9"))
        damped = self.kernel.damped_second(r) if near or not direct else None
        p = len(rho.g)
        from conjecture.ball_jets import pairs

        h = []
        for (i, k), hh in zip(pairs(p), rho.h):
            t = None
            if direct:
                t = f2 * rho.g[i] * rho.g[k]
            if damped is not None and damped.is_finite():
                box = _HALF_UNIT if i == k else _UNIT
                alt = damped * bounds[i] * bounds[k] * box
                t = alt if t is None else t.intersection(alt)
            if t is None:
                t = arb("nan")
            h.append(t + f1 * hh)
        return Jet(f0, [f1 * a for a in rho.g], h)

    def ltilde(self, beta, frame) -> arb:
        """Ltilde(beta, V) for exact rational beta and rows (normalised in ball arithmetic)."""
        from conjecture.certify import ltilde_arb
        from conjecture.interval import interval_kernel, working_bits
        import flint

        with working_bits(flint.ctx.prec):
            return ltilde_arb(beta, frame, interval_kernel(self.activation).value, self.b, self.constant(),
                              bits=flint.ctx.prec)


def ball_objective(activation, dim: int, law="rademacher", *, abar: float = 1.0) -> BallObjective:
    """The BallObjective of an exact (product) law at the current flint precision (balls are built once).

    Raises InputError for the uniform law (its cubature rule is an estimate, not the law)."""
    summary = activation if isinstance(activation, ExactAnisotropicSummary) else exact_summary(activation, dim, law,
                                                                                               abar=abar)
    pts = summary.points
    if not pts.exact or pts.levels is None:
        raise InputError("law", "certificates need an exact discrete law; the uniform law's cubature rule is an "
                                "estimate", got=summary.law)
    d = summary.dim
    n = summary.activation.degree
    roots = [(_q(s) / d).sqrt() for s in pts.squares]
    probs = [_q(p) for p in pts.probabilities]  # P_1..P_K, then P_0
    units, weights = [], []
    for code in pts.levels.tolist():
        z = [(roots[abs(c) - 1] if c > 0 else -roots[abs(c) - 1]) if c else arb(0) for c in code]
        nrm = sum((x * x for x in z), arb(0)).sqrt()
        w = arb(2)
        for c in code:
            w *= probs[abs(c) - 1] / 2 if c else probs[-1]
        units.append(tuple(x / nrm for x in z))
        weights.append(w * nrm**n)
    law_abar = sum(weights, arb(0))
    scale = _q(Fraction(summary.abar)) / law_abar
    return BallObjective(summary, tuple(units), tuple(w * scale for w in weights), scale,
                         even_kernel_arb(summary.activation))

"""Regime (III) exactly: b(v^) and C_target of a target with i.i.d. non-Gaussian entries, at finite d, no truncation.

For a degree-n activation and w = z / sqrt(d) with i.i.d. symmetric entries (alpha = ||w||^n, a_i = 1):

    b(v^) = E[||w||^n kappa(<w^, v^>)] = E[||w||^n kappa_e(<w^, v^>)],   kappa_e(t) = (kappa(t) + kappa(-t)) / 2,
    C_target = E[||w||^n ||w'||^n kappa(<w^, w'^>)] = E[||w||^n b(w^)]          (w, w' independent),

kappa_e because the law of w is symmetric. Expectations are sums over the weighted pairs of ``theory.point_laws``
(exact for Rademacher, sparse Rademacher and moment-specified atoms; a cube-surface cubature rule for the uniform
law). b is invariant under signed permutations of coordinates (the law is), so C needs b at one point per orbit.
Rademacher: ||w|| = 1, b(v^) = 2^-d sum_s kappa(<s, v^>/sqrt d) and C = sum_k C(d, k) kappa(1 - 2k/d) / 2^d.

Values are normalised to ``abar``: b is multiplied by abar / E||w||^n and C by its square (``twolayer conjecture``
uses abar = 1, so every F is Ltilde / abar^2). The gradient is that of the extension
b(u) = E[||w||^n kappa_e(<w^, u>)] to all u (the objective projects it onto the sphere).

``objective`` says which b a result used: 'exact' here, 'cubature' for the uniform law (with ``error_estimate``,
the largest change of b and C between K and K + 1 nodes), against 'truncated O(d^-2)' for
``theory.anisotropic.AnisotropicSummary``.

References: derived here (docs/regime3.md, "the exact objective"); docs/model.md §4 (III); MODEL.md §3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import mpmath
import numpy as np
import sympy as sp

from theory.activations import Activation
from theory.errors import InputError
from theory.kernels import dual_kernel
from theory.point_laws import PointLaw, point_law, uniform_surface_law
from theory.summaries import finite_number
from theory.target_laws import get_law

# Kernel evaluations per block of the float64 b (directions x points): keeps the temporaries near 32 MB.
BLOCK = 4_000_000


@lru_cache(maxsize=None)
def even_kernel(act: Activation):
    """(kappa_e, kappa_e') as numpy functions, kappa_e(t) = (kappa(t) + kappa(-t)) / 2.

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> ke, _ = even_kernel(get_activation("relu"))
    >>> bool(abs(ke(np.array([1.0]))[0] - 0.25) < 1e-15)   # (kappa(1) + kappa(-1)) / 2 = 1/4
    True
    """
    kern = dual_kernel(act)

    def value(r):
        return 0.5 * (kern.numpy(r) + kern.numpy(-r))

    def first(r):
        return 0.5 * (kern.numpy_prime(r) - kern.numpy_prime(-r))

    return value, first


@dataclass(frozen=True)
class ExactAnisotropicSummary:
    """b(v^) = E[||w||^n kappa_e(<w^, v^>)] and C = E[||w||^n b(w^)] over ``points`` (see the module docstring).

    Examples
    --------
    >>> s = exact_summary("relu", 2, "rademacher")
    >>> from theory.kernels import dual_kernel
    >>> k = dual_kernel(s.activation).numpy
    >>> e1 = np.array([[1.0, 0.0]])
    >>> r = 2 ** -0.5                                                 # b(e1) = 2^-2 sum_s kappa(<s, e1>/sqrt 2)
    >>> bool(abs(s.b(e1)[0] - float(k(np.array(r)) + k(np.array(-r))) / 2) < 1e-15)
    True
    >>> C = (float(k(np.array(1.0))) + 2 * float(k(np.array(0.0))) + float(k(np.array(-1.0)))) / 4
    >>> bool(abs(s.constant() - C) < 1e-15)                         # sum_k C(2, k) kappa(1 - k) / 4
    True
    >>> s.objective
    'exact'
    """

    activation: Activation
    dim: int
    abar: float
    points: PointLaw
    kappa4: float
    law: str = ""
    source: str = "derived here: docs/regime3.md, 'the exact objective' (no truncation)"
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        finite_number(self.abar, "abar")
        if self.points.dim != self.dim:
            raise InputError("dim", f"the point law is in d = {self.points.dim}", got=self.dim)
        if self.activation.degree == 0 and self.points.zero_weight > 0:
            raise InputError("law", "a degree-0 activation needs a law without the atom 0 (w = 0 has no direction)",
                             got=self.law)

    @property
    def objective(self) -> str:
        return "exact" if self.points.exact else "cubature"

    @cached_property
    def _norm_weights(self) -> np.ndarray:
        """weight_i ||p_i||^n times the homogeneity factor (so b = sum_i (these) kappa_e(<p_i^, v>))."""
        n = self.activation.degree
        nrm = np.linalg.norm(self.points.points, axis=1)
        return self.points.weights * nrm**n * self.points.homogeneity_factor(n)

    @cached_property
    def _units(self) -> np.ndarray:
        p = self.points.points
        return p / np.linalg.norm(p, axis=1, keepdims=True)

    @cached_property
    def law_abar(self) -> float:
        """E ||w||^n under the law (the rule's own value for the uniform law)."""
        return float(np.sum(self._norm_weights))

    @property
    def scale(self) -> float:
        return float(self.abar) / self.law_abar

    def _sum(self, units: np.ndarray, grad: bool) -> np.ndarray:
        u = np.asarray(units, dtype=float)
        shape = u.shape
        flat = u.reshape(-1, shape[-1])
        value, first = even_kernel(self.activation)
        P, w = self._units, self._norm_weights
        out = np.zeros((flat.shape[0], shape[-1]) if grad else flat.shape[0])
        step = max(1, BLOCK // max(1, flat.shape[0]))
        for s in range(0, len(P), step):
            rho = np.clip(flat @ P[s:s + step].T, -1.0, 1.0)
            if grad:
                out += (first(rho) * w[s:s + step]) @ P[s:s + step]
            else:
                out += value(rho) @ w[s:s + step]
        out *= self.scale
        return out.reshape(shape if grad else shape[:-1])

    def b(self, units: np.ndarray) -> np.ndarray:
        """b at unit rows, shape (..., d) -> (...)."""
        return self._sum(units, grad=False)

    def b_grad(self, units: np.ndarray) -> np.ndarray:
        """Euclidean gradient E[||w||^n kappa_e'(<w^, u>) w^] (times the normalisation), shape (..., d)."""
        return self._sum(units, grad=True)

    def constant(self) -> float:
        """C_target = E ||w||^n b(w^), b at one representative per B_d orbit of the points."""
        if "C" not in self._cache:
            reps, totals, _ = self.points.orbit_types()
            n = self.activation.degree
            nrm = np.linalg.norm(reps, axis=1)
            vals = self.b(reps / nrm[:, None])
            self._cache["C"] = float(self.scale * np.sum(totals * nrm**n * vals) * self.points.homogeneity_factor(n))
        return self._cache["C"]

    # ---- mpmath (the polish); product laws rebuild their points exactly from the rational squares ----
    def _points_mp(self, dps: int):
        key = ("points", dps)
        if key not in self._cache:
            with mpmath.workdps(dps + 10):
                if self.points.levels is not None:
                    root = [mpmath.sqrt(mpmath.mpf(s.numerator) / s.denominator / self.dim) for s in self.points.squares]
                    pts = [[(1 if c > 0 else -1) * root[abs(c) - 1] if c else mpmath.mpf(0) for c in row]
                           for row in self.points.levels.tolist()]
                    n = self.activation.degree
                    wts = []
                    for row, c in zip(pts, self.points.levels.tolist()):
                        w = mpmath.mpf(2)
                        for ci in c:
                            prob = self.points.probabilities[abs(ci) - 1] / 2 if ci else self.points.probabilities[-1]
                            w *= mpmath.mpf(prob.numerator) / prob.denominator
                        wts.append(w * mpmath.sqrt(mpmath.fsum(x * x for x in row)) ** n)
                else:  # cubature rule: its float64 points and weights (exact binary numbers)
                    pts = [[mpmath.mpf(float(x)) for x in row] for row in self.points.points]
                    wts = [mpmath.mpf(float(x)) for x in self._norm_weights]
                units = []
                for row in pts:
                    nrm = mpmath.sqrt(mpmath.fsum(x * x for x in row))
                    units.append([x / nrm for x in row])
                total = mpmath.fsum(wts)
                self._cache[key] = (units, wts, mpmath.mpf(self.abar) / total)
        return self._cache[key]

    def b_mp(self, unit_row, dps: int):
        """b at one unit row in mpmath at ``dps`` digits."""
        kern = dual_kernel(self.activation)
        units, wts, scale = self._points_mp(dps)
        with mpmath.workdps(dps + 10):
            row = [mpmath.mpf(x) for x in unit_row]
            acc = []
            for u, w in zip(units, wts):
                rho = mpmath.fsum(a * b for a, b in zip(u, row))
                acc.append(w * (kern.mp(rho, dps + 5) + kern.mp(-rho, dps + 5)) / 2)
            value = scale * mpmath.fsum(acc)
        with mpmath.workdps(dps):
            return +value

    def b_grad_mp(self, unit_row, dps: int):
        """The Euclidean gradient of b at one row in mpmath (analytic, as ``b_grad``)."""
        kern = dual_kernel(self.activation)
        units, wts, scale = self._points_mp(dps)
        d = self.dim
        with mpmath.workdps(dps + 10):
            row = [mpmath.mpf(x) for x in unit_row]
            out = [mpmath.mpf(0)] * d
            for u, w in zip(units, wts):
                rho = mpmath.fsum(a * b for a, b in zip(u, row))
                g = w * (kern.mp_prime(rho, dps + 5) - kern.mp_prime(-rho, dps + 5)) / 2
                out = [o + g * ui for o, ui in zip(out, u)]
            out = [scale * o for o in out]
        with mpmath.workdps(dps):
            return [+o for o in out]

    def constant_mp(self, dps: int):
        reps, totals, index = self.points.orbit_types()
        units, wts, scale = self._points_mp(dps)
        with mpmath.workdps(dps + 10):
            acc = []
            for i, t in zip(index, totals):
                # the orbit's total weight: the point's own (exact) weight times the orbit size
                size = mpmath.mpf(int(round(t / self.points.weights[i])))
                acc.append(size * wts[i] * self.b_mp(units[i], dps + 5))
            value = scale * mpmath.fsum(acc)
        with mpmath.workdps(dps):
            return +value

    # ---- the cubature's error estimate (uniform law) ----
    @cached_property
    def error_estimate(self) -> float | None:
        """max |change| of b (at e_1, the diagonal and two fixed directions) and of C when the uniform rule goes
        from K to K + 1 nodes; None for exact laws. An estimate, not a bound."""
        if self.points.exact:
            return None
        other = ExactAnisotropicSummary(self.activation, self.dim, self.abar,
                                        uniform_surface_law(self.dim, self.points.nodes + 1), self.kappa4, self.law)
        rng = np.random.default_rng(12345)
        dirs = np.concatenate([np.eye(self.dim)[:1], np.full((1, self.dim), self.dim ** -0.5),
                               rng.standard_normal((2, self.dim))])
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        return float(max(np.max(np.abs(self.b(dirs) - other.b(dirs))), abs(self.constant() - other.constant())))


def exact_summary(activation, dim: int, law="rademacher", *, abar: float = 1.0,
                  nodes: int | None = None) -> ExactAnisotropicSummary:
    """The exact regime III summary of ``law`` in dimension ``dim`` (uniform: the surface rule with ``nodes``).

    Examples
    --------
    >>> s = exact_summary("relu", 3, "sparse_rademacher(1/4)")
    >>> s.kappa4, s.points.points.shape
    (1.0, (13, 3))
    """
    from theory.regimes import as_activation
    from theory.sphere import check_dim

    act = as_activation(activation)
    d = check_dim(dim)
    target = get_law(law)
    pts = point_law(target, d, nodes=nodes)
    return ExactAnisotropicSummary(act, d, float(abar), pts, float(sp.Float(target.kappa4)), target.name)

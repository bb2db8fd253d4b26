"""The law of one target neuron's inner weight w in R^d as a finite weighted point set, one point per pair +-w.

E[F(w)] = sum_i weight_i (F(p_i) + F(-p_i)) / 2 for every F the laws below are asked about. Two kinds:

* **product laws** (exact): w = z / sqrt(d) with i.i.d. entries z of a finite symmetric law, z = +-sqrt(r_k) with
  probability P_k / 2 each, or 0 with probability P_0. Every signed pattern of entry levels is a point; a pattern
  and its negative are one pair (the first nonzero entry is kept positive), so 2^(d-1) points for Rademacher and
  (3^d - 1)/2 for sparse Rademacher. The r_k and P_k are exact rationals (``squares``, ``probabilities``), so the
  conjecture layer can rebuild every point in ball arithmetic.
* **the uniform law** (a cubature rule, not exact): z uniform on the cube [-sqrt 3, sqrt 3]^d. For F homogeneous of
  degree n in w (here F(w) = ||w||^n kappa(<w^, v^>)), polar coordinates about the cube's centre give
      E_cube F = d / (n + d) E_{dC} F,
  E_{dC} the uniform law on the cube's surface (derived here: w = t u, u on a face at distance a from the centre,
  dw = a t^(d-1) dt dS(u), and int_0^1 t^(n+d-1) dt = 1/(n+d)). Each face is a (d-1)-cube, integrated with the
  K-point Gauss-Legendre product rule: d K^(d-1) points (faces +e_i; their antipodes are the faces -e_i). The
  homogeneity factor d/(n+d) is ``homogeneity_factor(n)``. The integrand is smooth on the faces except where
  w^ = +-v^ (kappa(cos theta) has a |theta|^3 term there), so the rule converges algebraically; the error is
  estimated by comparing K and K + 1 nodes (``theory.exact_anisotropic``), not bounded.

Sign and permutation symmetry: both point sets are invariant under the hyperoctahedral group B_d (signed
permutations of coordinates), so a B_d-invariant function (b itself, hence C = E ||w||^n b(w^)) needs one point per
orbit: ``orbit_types`` groups the points by their sorted absolute coordinates.

References: derived here (docs/regime3.md, "the exact objective"); Golub & Welsch, Math. Comp. 23 (1969)
(Gauss-Legendre nodes); the entry laws of ``theory.target_laws``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from theory.errors import InputError
from theory.target_laws import TargetLaw, get_law

# Most points (pairs) a law may have: the float64 b of a batch of M directions costs M x points kernel
# evaluations, ~10 ms per direction at 2^20 points; beyond that the enumeration is not the tool.
MAX_POINTS = 2**20
# Default point budget of the uniform law's surface rule (d K^(d-1) points): K nodes per face direction with
# d K^(d-1) <= UNIFORM_POINT_BUDGET, at most UNIFORM_MAX_NODES. Measured change of b and C from K to the
# largest K tried (ReLU): d = 3, K = 24: < 3e-8; d = 4, K = 11: ~5e-9; d = 5, K = 6: ~1e-7; d = 6, K = 4: ~1e-6;
# beyond d = 6 the rule is coarse (its ``error_estimate`` says how coarse).
UNIFORM_POINT_BUDGET = 6_000
UNIFORM_MAX_NODES = 24


@dataclass(frozen=True)
class PointLaw:
    """Weighted points p_i (one per pair +-p_i) with E F(w) = sum_i weight_i (F(p_i) + F(-p_i)) / 2.

    ``exact``: the points are the law itself (product laws) rather than a cubature rule (uniform).
    ``levels`` (product laws): signed entry levels, w_ij = sign(levels_ij) sqrt(squares[|levels_ij| - 1] / d);
    ``squares`` and ``probabilities`` (P_1..P_K of the nonzero levels, then P_0 of z = 0) are exact Fractions.
    ``zero_weight`` is P(w = 0) (such a neuron has alpha = ||w||^n = 0 for n >= 1 and is not a point).

    Examples
    --------
    >>> law = point_law("rademacher", 3)
    >>> law.points.shape, float(law.weights.sum())
    ((4, 3), 1.0)
    >>> law.points[0] * np.sqrt(3)
    array([1., 1., 1.])
    >>> point_law("sparse_rademacher(1/2)", 2).points.shape   # (3^2 - 1) / 2 pairs
    (4, 2)
    """

    law: str
    dim: int
    points: np.ndarray
    weights: np.ndarray
    exact: bool
    method: str
    levels: np.ndarray | None = None
    squares: tuple = ()
    probabilities: tuple = ()
    zero_weight: float = 0.0
    nodes: int | None = None  # Gauss-Legendre nodes per face direction (uniform)
    source: str = "derived here: docs/regime3.md, 'the exact objective'"

    def homogeneity_factor(self, degree: int) -> float:
        """d/(n+d) for the uniform surface rule (E_cube F = d/(n+d) E_surface F, F of degree n); 1 otherwise."""
        if self.exact:
            return 1.0
        return self.dim / (degree + self.dim)

    def orbit_types(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(representatives, total weights, index of each representative in ``points``): one point per B_d orbit
        (points with the same sorted absolute coordinates), for B_d-invariant functions such as b.

        Examples
        --------
        >>> reps, w, _ = point_law("sparse_rademacher(1/2)", 2).orbit_types()
        >>> reps.shape[0], round(float(w.sum()), 12)     # one nonzero entry, or two; P(w = 0) = 1/4 is not a point
        (2, 0.75)
        """
        key = np.round(np.sort(np.abs(self.points), axis=1), 12)
        _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        totals = np.zeros(len(first))
        np.add.at(totals, inverse.ravel(), self.weights)
        return self.points[first], totals, first


def _check_dim(d) -> int:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise InputError("dim", "dimension must be an integer >= 1", got=d)
    return int(d)


def product_point_law(squares, probabilities, zero_probability, d: int, *, name: str) -> PointLaw:
    """The product law of i.i.d. entries z = +-sqrt(squares[k]) (probability probabilities[k] / 2 each) or 0
    (probability zero_probability), w = z / sqrt(d), as weighted pairs (exact rationals in, float64 points out).

    Examples
    --------
    >>> law = product_point_law([Fraction(1)], [Fraction(1)], Fraction(0), 2, name="rademacher")
    >>> (law.points * np.sqrt(2)).tolist(), law.weights.tolist()
    ([[1.0, 1.0], [1.0, -1.0]], [0.5, 0.5])
    """
    d = _check_dim(d)
    sq = tuple(Fraction(s) for s in squares)
    pr = tuple(Fraction(p) for p in probabilities)
    p0 = Fraction(zero_probability)
    if len(sq) != len(pr) or not sq or any(s <= 0 for s in sq) or any(p < 0 for p in pr) or p0 < 0:
        raise InputError("law", "atoms need positive squares and nonnegative probabilities", got=(sq, pr, p0))
    if sum(pr) + p0 != 1:
        total = sum(pr) + p0
        pr, p0 = tuple(p / total for p in pr), p0 / total
    K = len(sq)
    values = [v for v in range(K, -K - 1, -1) if v or p0 > 0]  # K, ..., 1, (0,) -1, ..., -K
    count = (len(values) ** d - (1 if p0 > 0 else 0)) // 2
    if count > MAX_POINTS:
        raise InputError("dim", f"the law {name} has {count} point pairs in d = {d}; at most {MAX_POINTS} are "
                                "enumerated (use a smaller d)", got=d)
    codes = np.array(np.meshgrid(*([values] * d), indexing="ij"), dtype=np.int8).reshape(d, -1).T
    nonzero = codes != 0
    has = nonzero.any(axis=1)
    first = np.argmax(nonzero, axis=1)
    keep = has & (codes[np.arange(len(codes)), first] > 0)
    codes = codes[keep]
    level_prob = np.array([float(p0)] + [float(p) / 2 for p in pr])
    root = np.array([0.0] + [float(sp.sqrt(sp.Rational(s.numerator, s.denominator))) for s in sq])
    mags = np.abs(codes)
    weights = 2 * np.prod(level_prob[mags], axis=1)
    points = np.sign(codes) * root[mags] / np.sqrt(d)
    return PointLaw(name, d, points, weights, True, f"exact enumeration of {len(points)} +- pairs (product law)",
                    levels=codes, squares=sq, probabilities=pr + (p0,), zero_weight=float(p0) ** d)


def uniform_nodes(d: int) -> int:
    """The default nodes per face direction of the uniform surface rule in dimension d (see UNIFORM_POINT_BUDGET)."""
    if d == 1:
        return UNIFORM_MAX_NODES
    return max(2, min(UNIFORM_MAX_NODES, int((UNIFORM_POINT_BUDGET / d) ** (1 / (d - 1)) + 1e-9)))


def point_count(law, d: int, nodes: int | None = None) -> int:
    """How many points ``point_law(law, d)`` has, without building them (for cost estimates).

    Examples
    --------
    >>> point_count("rademacher", 8), point_count("sparse_rademacher(1/2)", 3), point_count("uniform", 3)
    (128, 13, 1728)
    """
    target = get_law(law)
    if target.kind == "uniform":
        k = nodes or uniform_nodes(d)
        return d * k ** (d - 1)
    if target.kind == "rademacher":
        return 2 ** (d - 1)
    if target.kind == "sparse_rademacher":
        return (3**d - 1) // 2 if target.sparsity != 1 else 2 ** (d - 1)
    nodes_, _ = target.atoms() if target.kind == "moments" else (np.zeros(2), None)
    values = len(nodes_)
    return (values**d - (1 if values % 2 else 0)) // 2


def uniform_surface_law(d: int, nodes: int | None = None) -> PointLaw:
    """The uniform law on [-sqrt 3, sqrt 3]^d / sqrt d as the Gauss-Legendre product rule on the faces +e_i of the
    cube (see the module docstring; weights sum to 1 before ``homogeneity_factor``).

    Examples
    --------
    >>> law = uniform_surface_law(2, 4)
    >>> law.points.shape, round(float(law.weights.sum()), 12), law.exact
    ((8, 2), 1.0, False)
    """
    d = _check_dim(d)
    if nodes is None:
        nodes = uniform_nodes(d)
    if isinstance(nodes, bool) or not isinstance(nodes, (int, np.integer)) or not 1 <= nodes <= 64:
        raise InputError("nodes", "expected an integer in 1..64", got=nodes)
    count = d * nodes ** (d - 1)
    if count > MAX_POINTS:
        raise InputError("dim", f"the uniform surface rule has {count} points in d = {d} with {nodes} nodes; at most "
                                f"{MAX_POINTS}", got=d)
    t, w = np.polynomial.legendre.leggauss(int(nodes))
    a = np.sqrt(3.0 / d)
    if d == 1:
        return PointLaw("uniform", 1, np.array([[a]]), np.array([1.0]), False, "surface rule (d = 1: the endpoints)",
                        nodes=int(nodes))
    grid = np.array(np.meshgrid(*([t] * (d - 1)), indexing="ij")).reshape(d - 1, -1).T
    gw = np.prod(np.array(np.meshgrid(*([w / 2] * (d - 1)), indexing="ij")).reshape(d - 1, -1).T, axis=1)
    blocks, weights = [], []
    for i in range(d):
        pts = np.insert(grid * a, i, a, axis=1)
        blocks.append(pts)
        weights.append(gw / d)
    return PointLaw("uniform", d, np.concatenate(blocks), np.concatenate(weights), False,
                    f"cube-surface Gauss-Legendre product rule, {nodes} nodes per direction, {count} points "
                    "(E_cube F = d/(n+d) E_surface F)", nodes=int(nodes))


def point_law(law, d: int, *, nodes: int | None = None) -> PointLaw:
    """The PointLaw of a target law (``theory.target_laws``) in dimension d: exact for Rademacher, sparse
    Rademacher and moment-specified laws (their discrete atoms), the surface rule for the uniform law.

    Examples
    --------
    >>> point_law("gaussian", 3)
    Traceback (most recent call last):
    ...
    theory.errors.InputError: argument law: the exact regime III objective needs a discrete law (rademacher, sparse_rademacher(p), moments(...)) or uniform; the Gaussian law is regime I (got 'gaussian')
    """
    target: TargetLaw = get_law(law)
    d = _check_dim(d)
    if target.kind == "gaussian":
        raise InputError("law", "the exact regime III objective needs a discrete law (rademacher, sparse_rademacher(p), "
                                "moments(...)) or uniform; the Gaussian law is regime I", got=target.name)
    if target.kind == "uniform":
        return uniform_surface_law(d, nodes)
    if target.kind == "rademacher":
        return product_point_law([Fraction(1)], [Fraction(1)], Fraction(0), d, name=target.name)
    if target.kind == "sparse_rademacher":
        p = Fraction(int(target.sparsity.p), int(target.sparsity.q))
        return product_point_law([1 / p], [p], 1 - p, d, name=target.name)
    nodes_, weights_ = target.atoms()  # moments(...): Golub-Welsch atoms (float64, taken as the law's exact atoms)
    positive = nodes_ > 0
    squares = [Fraction(float(x)) ** 2 for x in nodes_[positive]]
    probs = [2 * Fraction(float(w)) for w in weights_[positive]]
    zero = sum((Fraction(float(w)) for x, w in zip(nodes_, weights_) if x == 0), Fraction(0))
    return product_point_law(squares, probs, zero, d, name=target.name)

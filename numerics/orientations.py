"""Counting condensed orientations without a tuned threshold.

The input weights theta_j = (w_j, b_j) are normalised to unit vectors.  Lines: average-linkage clustering
with the distance 1 - |cos(theta_i, theta_j)| (a direction and its opposite are one line); orientations:
the same with 1 - cos.  The number of clusters k(tau) at cut height tau is read on a log grid of TAUS
from 1e-4 to 0.25 (cos >= 0.75, about 41 degrees); the count reported is the value of k taken on most of
the grid, and its stability the fraction of the grid where k equals it.  No single tau is chosen.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0); u = rng.standard_normal(4)
>>> V = np.outer(np.sign(rng.standard_normal(30)), u) + 1e-4 * rng.standard_normal((30, 4))
>>> c = count_orientations(V); c.lines, c.orientations, c.line_stability
(1, 2, 1.0)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

TAUS = tuple(float(t) for t in np.geomspace(1e-4, 0.25, 25))


@dataclass(frozen=True)
class OrientationCount:
    """Lines and orientations (modal cluster counts over TAUS), their stabilities, the counts at each tau,
    and the unit direction of each line (the leading eigenvector of its members' second-moment matrix)."""

    lines: int
    orientations: int
    line_stability: float
    orientation_stability: float
    line_counts: tuple[int, ...]
    line_directions: tuple[tuple[float, ...], ...]


def _counts(U: np.ndarray, signed: bool) -> tuple[list[int], list[np.ndarray]]:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    C = np.clip(U @ U.T, -1.0, 1.0)
    D = 1.0 - (C if signed else np.abs(C))
    np.fill_diagonal(D, 0.0)
    Z = linkage(squareform(np.maximum(D, 0.0), checks=False), method="average")
    labels = [fcluster(Z, t, criterion="distance") for t in TAUS]
    return [int(lab.max()) for lab in labels], labels


def _mode(counts: list[int]) -> tuple[int, float]:
    k, n = sorted(Counter(counts).items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return k, n / len(counts)


def count_orientations(V: np.ndarray) -> OrientationCount:
    """Count lines and orientations of the rows of V (see the module docstring)."""
    U = V / np.linalg.norm(V, axis=1, keepdims=True)
    if len(U) == 1:  # one neuron: one line, one orientation (nothing to cluster)
        v = U[0] * np.sign(U[0][np.argmax(np.abs(U[0]))])
        return OrientationCount(1, 1, 1.0, 1.0, (1,) * len(TAUS), (tuple(float(x) for x in v),))
    lc, llab = _counts(U, signed=False)
    oc, _ = _counts(U, signed=True)
    lines, ls = _mode(lc)
    orient, os_ = _mode(oc)
    lab = llab[lc.index(lines)]
    dirs = []
    for c in sorted(set(lab), key=lambda c: -int(np.sum(lab == c))):
        M = U[lab == c]
        w, vecs = np.linalg.eigh(M.T @ M)
        v = vecs[:, -1]
        dirs.append(tuple(float(x) for x in v * np.sign(v[np.argmax(np.abs(v))])))
    return OrientationCount(lines, orient, ls, os_, tuple(lc), tuple(dirs))


def line_angle_degrees(u, v) -> float:
    """Angle between the lines spanned by u and v, in degrees (0..90)."""
    u, v = np.asarray(u, float), np.asarray(v, float)
    c = abs(float(u @ v)) / (np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.degrees(np.arccos(min(1.0, c))))

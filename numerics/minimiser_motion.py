"""How the minimiser of L_N sits relative to the ETF: a rotation (flat, O(1)) times a small deformation.

For a unit frame V* (M x d), the nearest rigid ETF is V_ETF O^T with O the orthogonal Procrustes solution
(O = A B^T for V*^T V_ETF = A Sigma B^T); then

* deformation = ||V* - V_ETF O^T||_F, the distance left after the rotation is removed (predicted root mean square:
  theory.finite_n_gain, E||delta||^2 with delta = -H^+ g, of order N^-1/2),
* gram_distance = ||V* V*^T - G_ETF||_F (rotation invariant; predicted ||dG|| = ||delta_j . v_l + v_j . delta_l||),
* span_alignment = ||P_V - P_top||_F / sqrt(2), the sine distance between the top (M-1)-dimensional eigenspace of the
  frame operator V*^T V* and that of S_N (predicted: small, the first-order optimum puts the span on the top
  eigenspace; what is left comes from the degree >= 4 harmonics and from O(N^-1/2) terms), and
* start_alignment, the same distance to the span of the starting ETF (an independent Haar rotation): O(1), since the
  orientation is flat for Ltilde and the target chooses it.

References: docs/finite_n_gain.md, step 7 (the minimiser's motion).

Examples
--------
>>> import numpy as np
>>> from theory.etf import simplex_etf
>>> q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((5, 5)))
>>> m = minimiser_motion(simplex_etf(3, 5) @ q.T, np.eye(5)[:, :2])
>>> m.deformation < 1e-12, m.gram_distance < 1e-12, 0.0 <= m.span_alignment <= 1.0
(True, True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theory.etf import simplex_etf
from theory.objective import unit_rows


@dataclass(frozen=True)
class MinimiserMotion:
    """Rotation-free deformation, Gram distance and subspace distances of one minimiser (module docstring)."""

    deformation: float
    gram_distance: float
    span_alignment: float
    start_alignment: float | None
    rotation: np.ndarray


def span_distance(A: np.ndarray, B: np.ndarray) -> float:
    """||P_A - P_B||_F / sqrt(2) for orthonormal bases A, B (d x k): the root sum of squared sines of the angles."""
    PA, PB = A @ A.T, B @ B.T
    return float(np.linalg.norm(PA - PB) / math.sqrt(2))


def frame_span(frame: np.ndarray, k: int) -> np.ndarray:
    """Orthonormal basis of the top-k eigenspace of the frame operator V^T V."""
    w, Q = np.linalg.eigh(frame.T @ frame)
    return Q[:, ::-1][:, :k]


def minimiser_motion(frame: np.ndarray, top_basis: np.ndarray, start_basis: np.ndarray | None = None) -> MinimiserMotion:
    """Split ``frame`` (any row norms) into a rotation of the ETF and a deformation; compare its span with
    ``top_basis`` (d x (M-1), the top eigenvectors of S_N) and ``start_basis`` (the start's span)."""
    units, _ = unit_rows(frame)
    m, d = units.shape
    etf = simplex_etf(m, d)
    a, _, bt = np.linalg.svd(units.T @ etf)
    rot = a @ bt
    deform = float(np.linalg.norm(units - etf @ rot.T))
    gram = float(np.linalg.norm(units @ units.T - etf @ etf.T))
    span = frame_span(units, m - 1)
    start = None if start_basis is None else span_distance(span, np.asarray(start_basis)[:, : m - 1])
    return MinimiserMotion(deform, gram, span_distance(span, np.asarray(top_basis)[:, : m - 1]), start, rot)

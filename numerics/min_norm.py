"""The minimum path-norm ReLU interpolant over a fixed dictionary of neurons: a linear program in cvxpy.

    minimise  sum_k |a_k|   subject to   sum_k a_k relu(u_k . x_i + c_k) = y_i  (i = 1..n),
    dictionary: unit vectors (u_k, c_k) in R^(d+1) (||(u_k, c_k)|| = 1), so sum_k |a_k| is the path norm
    sum_k |a_k| ||(u_k, c_k)|| of the network.

The dictionary is stated by the caller: here the construction's own neurons, normalised, plus K random
unit (u, c) drawn from the cell's seed; the construction is a feasible point, so the optimum is at most
its path norm.  Solved with CLARABEL (interior point); the value is claimed to MIN_NORM_DIGITS digits.

Examples
--------
>>> import numpy as np
>>> X = np.array([[0.5], [-0.5]]); D = np.array([[1.0, 0.0], [-1.0, 0.0]]) / 1.0
>>> r = min_norm_interpolant(X, np.array([0.5, 0.5]), D)
>>> round(r.path_norm, 6), r.status
(2.0, 'optimal')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_NORM_DIGITS = 5


@dataclass(frozen=True)
class MinNormResult:
    """The LP optimum (path norm with bias), the same network's path norm without the bias, the largest
    |residual| of the interpolation constraints, the solver status and the dictionary size."""

    path_norm: float
    path_norm_no_bias: float
    max_residual: float
    status: str
    dictionary_size: int


def random_unit_neurons(rng: np.random.Generator, k: int, d: int) -> np.ndarray:
    """k rows (u, c) uniform on the unit sphere of R^(d+1)."""
    G = rng.standard_normal((k, d + 1))
    return G / np.linalg.norm(G, axis=1, keepdims=True)


def min_norm_interpolant(X: np.ndarray, y: np.ndarray, dictionary: np.ndarray) -> MinNormResult:
    """Solve the LP above for points X (n x d), labels y and unit neurons ``dictionary`` (K x (d+1))."""
    import cvxpy as cp

    Phi = np.maximum(X @ dictionary[:, :-1].T + dictionary[:, -1], 0.0)
    a = cp.Variable(dictionary.shape[0])
    prob = cp.Problem(cp.Minimize(cp.norm1(a)), [Phi @ a == y])
    prob.solve(solver="CLARABEL")
    if a.value is None:
        return MinNormResult(float("nan"), float("nan"), float("nan"), str(prob.status), dictionary.shape[0])
    av = np.asarray(a.value)
    return MinNormResult(float(np.sum(np.abs(av))), float(np.sum(np.abs(av) * np.linalg.norm(dictionary[:, :-1], axis=1))),
                         float(np.max(np.abs(Phi @ av - y))), str(prob.status), dictionary.shape[0])

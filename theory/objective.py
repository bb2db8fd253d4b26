"""The simplified (mean-field) objective and its gradients, vectorised over stacks of frames.

    Ltilde(beta, V) = C_target - 2 sum_j beta_j b(v^_j) + beta^T K(V) beta,  K_jl = kappa(<v^_j, v^_l>),

with v^_j = v_j / ||v_j|| (the objective is scale invariant in each v_j; docs/model.md §4).
Shapes: V is (..., M, d), beta is (..., M); leading axes are a batch of frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from theory.errors import InputError
from theory.kernels import dual_kernel
from theory.summaries import TargetSummary


def unit_rows(frame: np.ndarray, argument: str = "frame") -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``frame`` normalised, and their norms; rejects NaN, inf and zero rows."""
    arr = np.asarray(frame, dtype=float)
    if arr.ndim < 2:
        raise InputError(argument, "expected an array of shape (..., M, d)", got=arr.shape)
    if not np.all(np.isfinite(arr)):
        raise InputError(argument, "contains NaN or inf")
    norms = np.linalg.norm(arr, axis=-1)
    if np.any(norms == 0):
        raise InputError(argument, "contains a zero vector; every neuron needs a direction")
    return arr / norms[..., None], norms


def _check_beta(beta: np.ndarray, frame_shape: tuple[int, ...]) -> np.ndarray:
    b = np.asarray(beta, dtype=float)
    if b.shape[-1:] != frame_shape[-2:-1]:
        raise InputError("beta", f"expected last axis of length M = {frame_shape[-2]}", got=b.shape)
    if not np.all(np.isfinite(b)):
        raise InputError("beta", "contains NaN or inf")
    return b


def kernel_matrix(summary: TargetSummary, units: np.ndarray) -> np.ndarray:
    """K(V)_jl = kappa(<v^_j, v^_l>), with the diagonal set to kappa(1) exactly."""
    kern = dual_kernel(summary.activation)
    gram = units @ np.swapaxes(units, -1, -2)
    K = kern.numpy(gram)
    m = units.shape[-2]
    K[..., np.arange(m), np.arange(m)] = float(kern.at_one)
    return K


def ltilde(beta: np.ndarray, frame: np.ndarray, summary: TargetSummary) -> np.ndarray:
    """Ltilde(beta, V) for a stack of frames; returns shape (...).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> from theory.summaries import IsotropicSummary
    >>> from theory.sphere import sphere_average_mp
    >>> relu = get_activation("relu")
    >>> s = IsotropicSummary(relu, 3, 1.0, sphere_average_mp(relu, 3))
    >>> V = np.array([[1.0, 0, 0], [-1.0, 0, 0]])
    >>> float(ltilde(np.zeros(2), V, s))  # beta = 0 leaves C_target = c_3 = 3/16
    0.1875
    """
    units, _ = unit_rows(frame)
    b = _check_beta(beta, units.shape)
    K = kernel_matrix(summary, units)
    quad = np.einsum("...j,...jl,...l->...", b, K, b)
    return summary.constant() - 2 * np.sum(b * summary.b(units), axis=-1) + quad


def ltilde_gradients(beta: np.ndarray, frame: np.ndarray, summary: TargetSummary) -> tuple[np.ndarray, np.ndarray]:
    """(dLtilde/dbeta, dLtilde/dV) for a stack of frames; dV is tangent to each sphere (scaled by 1/||v_j||)."""
    units, norms = unit_rows(frame)
    b = _check_beta(beta, units.shape)
    kern = dual_kernel(summary.activation)
    K = kernel_matrix(summary, units)
    grad_beta = 2 * (K @ b[..., None])[..., 0] - 2 * summary.b(units)
    gram = units @ np.swapaxes(units, -1, -2)
    Kp = kern.numpy_prime(gram)
    m = units.shape[-2]
    Kp[..., np.arange(m), np.arange(m)] = 0.0
    grad_units = 2 * b[..., None] * ((Kp * b[..., None, :]) @ units) - 2 * b[..., None] * summary.b_grad(units)
    radial = np.sum(grad_units * units, axis=-1, keepdims=True)
    grad_frame = (grad_units - radial * units) / norms[..., None]
    return grad_beta, grad_frame


@dataclass(frozen=True)
class ReducedValue:
    """F(V) = min_beta Ltilde = C - b^T K^+ b, the minimising beta, and dF/dV (tangent)."""

    value: np.ndarray
    beta: np.ndarray
    gradient: np.ndarray
    kernel_condition: np.ndarray


def optimal_beta(frame: np.ndarray, summary: TargetSummary, *, rcond: float = 1e-12) -> np.ndarray:
    """beta* = K^+ b (the pseudo-inverse handles a singular K, e.g. repeated neurons)."""
    units, _ = unit_rows(frame)
    K = kernel_matrix(summary, units)
    return (np.linalg.pinv(K, rcond=rcond, hermitian=True) @ summary.b(units)[..., None])[..., 0]


def reduced_objective(frame: np.ndarray, summary: TargetSummary) -> ReducedValue:
    """F(V) and its gradient by the envelope theorem: dF/dV = dLtilde/dV at beta*."""
    units, _ = unit_rows(frame)
    K = kernel_matrix(summary, units)
    beta = optimal_beta(frame, summary)
    value = summary.constant() - np.sum(beta * summary.b(units), axis=-1)
    _, grad = ltilde_gradients(beta, frame, summary)
    return ReducedValue(value=value, beta=beta, gradient=grad, kernel_condition=np.linalg.cond(K))


def ltilde_mp(beta, frame, summary: TargetSummary, dps: int = 30):
    """Ltilde(beta, V) for one frame in mpmath at ``dps`` digits (inputs taken as exact binary floats)."""
    units, _ = unit_rows(np.asarray(frame, dtype=float))
    b = _check_beta(beta, units.shape)
    kern = dual_kernel(summary.activation)
    with mpmath.workdps(dps + 10):
        rows = [[mpmath.mpf(x) for x in row] for row in np.asarray(frame, dtype=float)]
        rows = [[x / mpmath.sqrt(mpmath.fsum(y * y for y in row)) for x in row] for row in rows]
        bet = [mpmath.mpf(x) for x in b]
        total = summary.constant_mp(dps + 10)
        for j, uj in enumerate(rows):
            total -= 2 * bet[j] * summary.b_mp(uj, dps + 10)
            for l, ul in enumerate(rows):
                rho = mpmath.mpf(1) if j == l else mpmath.fsum(x * y for x, y in zip(uj, ul))
                total += bet[j] * bet[l] * kern.mp(rho, dps + 10)
    with mpmath.workdps(dps):
        return +total

"""The reduced frame objective F(V) = min_beta Ltilde(beta, V), batched, with its Riemannian gradient.

    F(V) = C - b(V)^T K(V)^{-1} b(V)          (beta in R^M, beta* = K^{-1} b)
    F_+(V) = min_{beta >= 0} Ltilde(beta, V)  (non-negative least squares)

grad F = P_V [ 2 beta_j sum_{l != j} beta_l kappa'(<v_j, v_l>) v_l - 2 beta_j grad b(v_j) ]  (envelope theorem).

A singular or ill-conditioned K (repeated or, for even activations, antipodal neurons) is handled by a
symmetric eigendecomposition with eigenvalues below ``rcond * lambda_max`` dropped (pseudo-inverse): the
minimum over beta is still attained when b lies in the range of K, which holds for repeated neurons.

References: docs/model.md §4; Amani et al., ITW 2022 (arXiv:2205.08199), the simplified objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from theory.errors import InputError
from theory.kernels import dual_kernel
from theory.summaries import TargetSummary

BETA_MODES = ("signed", "nonneg")
# Off-diagonal Gram entries are kept this far inside [-1, 1] when kappa' is evaluated: kappa' of the step
# activation is infinite at +-1, and a finite large slope is what the line search should see there.
_EDGE = 1e-12


@dataclass(frozen=True)
class CostValue:
    """F at a batch of frames: value (B,), beta* (B, M), Riemannian gradient (B, M, d), cond(K) (B,)."""

    value: np.ndarray
    beta: np.ndarray
    gradient: np.ndarray
    condition: np.ndarray


@dataclass(frozen=True)
class ReducedCost:
    """F or F_+ for one target summary; call ``evaluate`` on unit-row frames of shape (B, M, d).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> from theory.summaries import IsotropicSummary
    >>> from theory.sphere import sphere_average_mp
    >>> from theory.etf import simplex_etf
    >>> relu = get_activation("relu")
    >>> cost = ReducedCost(IsotropicSummary(relu, 2, 1.0, sphere_average_mp(relu, 2)))
    >>> out = cost.evaluate(simplex_etf(3, 2)[None])
    >>> bool(np.max(np.abs(out.gradient)) < 1e-14)  # the ETF is a critical point
    True
    """

    summary: TargetSummary
    beta_mode: str = "signed"
    rcond: float = 1e-12

    def __post_init__(self) -> None:
        if self.beta_mode not in BETA_MODES:
            raise InputError("beta_mode", f"expected one of {', '.join(BETA_MODES)}", got=self.beta_mode)

    def kernel(self, units: np.ndarray) -> np.ndarray:
        """K_jl = kappa(<v_j, v_l>) with diagonal kappa(1)."""
        kern = dual_kernel(self.summary.activation)
        gram = units @ np.swapaxes(units, -1, -2)
        K = kern.numpy(gram)
        m = units.shape[-2]
        K[..., np.arange(m), np.arange(m)] = float(kern.at_one)
        return K

    def _beta_signed(self, K: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w, Q = np.linalg.eigh(K)
        top = np.max(np.abs(w), axis=-1, keepdims=True)
        keep = w > self.rcond * top
        inv = np.where(keep, 1.0 / np.where(keep, w, 1.0), 0.0)
        beta = (Q @ (inv * (np.swapaxes(Q, -1, -2) @ b[..., None])[..., 0])[..., None])[..., 0]
        with np.errstate(over="ignore", divide="ignore"):  # cond = inf for an exactly singular K is the right answer
            cond = top[..., 0] / np.maximum(np.min(w, axis=-1), np.finfo(float).tiny)
        return beta, cond

    def _beta_nonneg(self, K: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        beta = np.zeros_like(b)
        cond = np.empty(b.shape[:-1])
        flatK, flatb, flatbeta, flatc = K.reshape(-1, *K.shape[-2:]), b.reshape(-1, b.shape[-1]), beta.reshape(-1, b.shape[-1]), cond.reshape(-1)
        for i in range(flatK.shape[0]):
            w, Q = np.linalg.eigh(flatK[i])
            w = np.maximum(w, self.rcond * max(w[-1], 0.0))
            root = (Q * np.sqrt(w)) @ Q.T  # K^{1/2}; NNLS on ||K^{1/2} beta - K^{-1/2} b||^2
            rhs = Q @ ((Q.T @ flatb[i]) / np.sqrt(w))
            flatbeta[i], _ = nnls(root, rhs, maxiter=50 * len(w))
            flatc[i] = w[-1] / w[0]
        return beta, cond

    def rounding_bound(self, units: np.ndarray, beta: np.ndarray) -> float:
        """Forward-error bound of the float64 value Ltilde(beta, V) = C - 2 beta.b + beta^T K beta at one
        frame (M, d): gamma_n (C + 2 sum |beta_j b_j| + |beta|^T |K| |beta|) with n = M^2 + M + 2 roundings,
        times 4 for the few-ulp errors of the kernel and b evaluations (Higham, Accuracy and Stability, 3.1)."""
        K = self.kernel(units[None])[0]
        b = self.summary.b(units[None])[0]
        a = np.abs(beta)
        scale = abs(float(self.summary.constant())) + 2 * float(np.sum(a * np.abs(b))) + float(a @ np.abs(K) @ a)
        n = units.shape[0] ** 2 + units.shape[0] + 2
        return float(4 * n * np.finfo(float).eps * scale)

    def evaluate(self, units: np.ndarray) -> CostValue:
        """F (or F_+), beta*, the Riemannian gradient and cond(K) at unit-row frames (B, M, d)."""
        kern = dual_kernel(self.summary.activation)
        K = self.kernel(units)
        b = self.summary.b(units)
        if self.beta_mode == "signed":
            beta, cond = self._beta_signed(K, b)
        else:
            beta, cond = self._beta_nonneg(K, b)
        quad = np.sum(beta * (K @ beta[..., None])[..., 0], axis=-1)
        value = self.summary.constant() - 2 * np.sum(beta * b, axis=-1) + quad
        gram = np.clip(units @ np.swapaxes(units, -1, -2), -1 + _EDGE, 1 - _EDGE)
        Kp = kern.numpy_prime(gram)
        m = units.shape[-2]
        Kp[..., np.arange(m), np.arange(m)] = 0.0
        egrad = 2 * beta[..., None] * ((Kp * beta[..., None, :]) @ units) - 2 * beta[..., None] * self.summary.b_grad(units)
        grad = egrad - np.sum(egrad * units, axis=-1, keepdims=True) * units
        return CostValue(value=value, beta=beta, gradient=grad, condition=cond)

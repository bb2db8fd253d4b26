"""The minimum of the exact finite-N loss over the compressed network, by multi-start L-BFGS on frames.

    min_theta L_N = min_V F_N(V),  F_N(V) = T_N - b_N(V)^T K(V)^+ b_N(V)   (beta eliminated in closed form),

with the gradient of F_N from the envelope theorem (``reduced_finite_loss``; checked against
theory.objective.reduced_objective on an EmpiricalSummary in the tests).
Starts: the simplex ETF under independent Haar-random rotations (the orientation
of the ETF is a flat direction of Ltilde, so the finite target picks one), drawn from an explicit Generator.
This is a local search: the reported minimum is an upper bound on min_theta L_N, the best of ``starts``.

References: docs/model.md §4-4.

Examples
--------
>>> import numpy as np
>>> from numerics.population_loss import prepare_target
>>> rng = np.random.default_rng(0)
>>> W = rng.standard_normal((200, 4)) / 2
>>> res = minimise_finite_loss(prepare_target(np.ones(200), W, "relu"), 3, rng, starts=2)
>>> bool(res.value <= res.start_values[0] + 1e-15) and res.converged
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from numerics.population_loss import PreparedTarget
from theory.etf import simplex_etf
from theory.kernels import dual_kernel
from theory.objective import unit_rows


@dataclass(frozen=True)
class FiniteMinimum:
    """Best local minimum of L_N found: value, beta, unit frame, gradient norm and every start's value."""

    value: float
    beta: np.ndarray
    frame: np.ndarray
    gradient_norm: float
    start_values: tuple[float, ...]
    final_values: tuple[float, ...]
    converged: bool  # every start ended with gradient norm < 10 gtol
    seed_note: str = "starts are Haar-random rotations of the simplex ETF drawn from the caller's Generator"


def haar_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed orthogonal d x d matrix (QR of a Gaussian matrix with sign correction)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def gram_distance_to_etf(frame: np.ndarray) -> float:
    """|| V^ V^T - G_ETF ||_F, G_ETF = (M I - 1 1^T) / (M - 1): rotation-invariant distance to the ETF shape."""
    units, _ = unit_rows(frame)
    m = units.shape[0]
    target = (m * np.eye(m) - np.ones((m, m))) / (m - 1) if m > 1 else np.ones((1, 1))
    return float(np.linalg.norm(units @ units.T - target))


def reduced_finite_loss(frame: np.ndarray, target: PreparedTarget) -> tuple[float, np.ndarray, np.ndarray]:
    """(F_N(V), beta*(V), dF_N/dV): F_N = T_N - b_N^T K^+ b_N, gradient by the envelope theorem.

    dF/dv^_j = -2 beta_j grad b_N(v^_j) + 2 beta_j sum_{l != j} beta_l kappa'(rho_jl) v^_l, projected on the
    tangent space of the sphere and divided by ||v_j||.  (A lean float64 twin of
    theory.objective.reduced_objective on an EmpiricalSummary; the tests check that they agree.)
    """
    units, norms = unit_rows(frame)
    kap = target.kappa
    prime = dual_kernel(target.activation).numpy_prime
    gram = units @ units.T
    K = kap.evaluate(gram)
    np.fill_diagonal(K, kap.at_one)
    cross = target.units @ units.T  # (N, M)
    b_n = target.alpha @ kap.evaluate(cross) / target.n
    beta = np.linalg.pinv(K, rcond=1e-12, hermitian=True) @ b_n
    value = target.self_term - float(beta @ b_n)
    kp_cross = prime(cross)
    grad_b = (kp_cross * target.alpha[:, None]).T @ target.units / target.n  # (M, d)
    kp = prime(gram)
    np.fill_diagonal(kp, 0.0)
    grad_units = 2 * beta[:, None] * ((kp * beta[None, :]) @ units) - 2 * beta[:, None] * grad_b
    radial = np.sum(grad_units * units, axis=1, keepdims=True)
    return value, beta, (grad_units - radial * units) / norms[:, None]


def minimise_finite_loss(target: PreparedTarget, M: int, rng: np.random.Generator, *, starts: int = 4,
                         gtol: float = 1e-9, max_iter: int = 3000) -> FiniteMinimum:
    """min over (beta, V) of L_N by BFGS on V (beta = K^+ b_N), from ``starts`` rotated ETFs."""
    d = target.dim
    base = simplex_etf(M, d)
    shape = base.shape

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, _, grad = reduced_finite_loss(x.reshape(shape), target)
        return value, grad.ravel()

    best = None
    start_values, final_values = [], []
    all_converged = True
    for _ in range(starts):
        x0 = (base @ haar_rotation(d, rng).T).ravel()
        start_values.append(fun(x0)[0])
        res = minimize(fun, x0, jac=True, method="BFGS", options={"gtol": gtol, "maxiter": max_iter})
        units, _ = unit_rows(res.x.reshape(shape))
        value, beta, grad = reduced_finite_loss(units, target)
        final_values.append(value)
        gnorm = float(np.linalg.norm(grad))
        all_converged &= gnorm < 10 * gtol
        if best is None or value < best[0]:
            best = (value, beta, units, gnorm)
    return FiniteMinimum(value=best[0], beta=best[1], frame=best[2], gradient_norm=best[3],
                         start_values=tuple(start_values), final_values=tuple(final_values), converged=all_converged)

"""The finite target as a TargetSummary: L_N(beta, V) has exactly the form of Ltilde with empirical b and C.

    L_N(beta, V) = T_N - 2 sum_j beta_j b_N(v^_j) + beta^T K(V) beta,
    b_N(v^) = (1/N) sum_i alpha_i kappa(<w^_i, v^>),   T_N = (1/N^2) sum_{i,k} alpha_i alpha_k kappa(rho_ik),

so ``theory.objective`` (ltilde, reduced_objective, optimal_beta) evaluates and optimises the exact
finite-N loss when handed an ``EmpiricalSummary``.  grad_v b_N(v^) = (1/N) sum_i alpha_i kappa'(<w^_i, v^>) w^_i.

References: docs/model.md §1-3.

Examples
--------
>>> import numpy as np
>>> from numerics.population_loss import prepare_target, exact_population_loss
>>> from theory.objective import ltilde
>>> rng = np.random.default_rng(0)
>>> W = rng.standard_normal((50, 4)) / 2
>>> s = EmpiricalSummary(prepare_target(np.ones(50), W, "relu"))
>>> V = rng.standard_normal((3, 4)); beta = np.array([0.2, -0.1, 0.3])
>>> direct = exact_population_loss(np.ones(50), W, beta / np.linalg.norm(V, axis=1), V, "relu").value
>>> bool(abs(float(ltilde(beta, V, s)) - direct) < 1e-12)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from numerics.population_loss import PreparedTarget
from theory.activations import Activation
from theory.kernels import dual_kernel


@dataclass(frozen=True)
class EmpiricalSummary:
    """TargetSummary (theory.summaries protocol) of one finite target network."""

    target: PreparedTarget

    @property
    def activation(self) -> Activation:
        return self.target.activation

    @property
    def dim(self) -> int:
        return self.target.dim

    def constant(self) -> float:
        return self.target.self_term

    def b(self, units: np.ndarray) -> np.ndarray:
        u = np.asarray(units, dtype=float)
        flat = u.reshape(-1, u.shape[-1])
        return self.target.empirical_b(flat).reshape(u.shape[:-1])

    def b_grad(self, units: np.ndarray) -> np.ndarray:
        u = np.asarray(units, dtype=float)
        flat = u.reshape(-1, u.shape[-1])
        kp = dual_kernel(self.activation).numpy_prime(self.target.units @ flat.T)  # (N, K)
        grad = (kp * self.target.alpha[:, None]).T @ self.target.units / self.target.n
        return grad.reshape(u.shape)

    def constant_mp(self, dps: int):
        with mpmath.workdps(dps):
            return mpmath.mpf(self.target.self_term)

    def b_mp(self, unit_row, dps: int):
        with mpmath.workdps(dps):
            return mpmath.mpf(float(self.b(np.asarray(unit_row, dtype=float)[None, :])[0]))

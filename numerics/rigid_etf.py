"""The best rigid ETF for a finite target: max over rotations R of Ltilde_N* - F_N(R V_ETF), beta eliminated exactly.

    rigid gain = Ltilde_N* - min_{U in St(d, M-1)} F_N(E U^T),   F_N(V) = T_N - b_N(V)^T K(V)^{-1} b_N(V),

E = simplex_etf(M, M-1) (the ETF in its own span) and U an orthonormal d x (M-1) basis of the span: the frame
E U^T ranges over every rotated ETF. This is the first-order problem of docs/finite_n_gain.md evaluated exactly on
the draw (every harmonic degree, beta re-optimised), without deformations of the frame. U is the polar factor
U = Y (Y^T Y)^{-1/2} of an unconstrained d x (M-1) matrix Y, minimised by BFGS with the chain rule through the polar
map (dU = (I - U U^T) dY P^-1 + U Omega, Omega P + P Omega = U^T dY - dY^T U, P = (Y^T Y)^{1/2}).

Examples
--------
>>> import numpy as np
>>> from numerics.population_loss import prepare_target
>>> rng = np.random.default_rng(0)
>>> W = rng.standard_normal((400, 6)) / np.sqrt(6)
>>> t = prepare_target(np.ones(400), W, "relu")
>>> r = best_rigid_etf(t, 3, rng, starts=2)
>>> r.value <= min(r.start_values) + 1e-15, r.gradient_norm < 1e-7
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from numerics.finite_minimum import reduced_finite_loss
from numerics.population_loss import PreparedTarget
from theory.etf import simplex_etf


@dataclass(frozen=True)
class RigidETF:
    """Best rigid ETF found: F_N value, span basis U (d, M-1), frame E U^T, gradient norm (in Y), every start's value."""

    value: float
    basis: np.ndarray
    frame: np.ndarray
    gradient_norm: float
    start_values: tuple[float, ...]
    final_values: tuple[float, ...]


def _polar(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, Q = np.linalg.eigh(Y.T @ Y)
    return Y @ ((Q / np.sqrt(s)) @ Q.T), np.sqrt(s), Q


def rigid_value_and_gradient(y: np.ndarray, E: np.ndarray, target: PreparedTarget) -> tuple[float, np.ndarray]:
    """F_N(E U^T) with U = polar(Y), and its gradient in Y (flattened)."""
    k = E.shape[1]
    Y = y.reshape(target.dim, k)
    U, p, Q = _polar(Y)
    value, _, grad_v = reduced_finite_loss(E @ U.T, target)
    G = grad_v.T @ E                                   # dF/dU
    C = U.T @ G
    C = (C - C.T) / 2
    D = Q @ ((Q.T @ C @ Q) / (p[:, None] + p[None, :])) @ Q.T
    grad_y = (G - U @ (U.T @ G)) @ ((Q / p) @ Q.T) + 2 * U @ D
    return value, grad_y.ravel()


def best_rigid_etf(target: PreparedTarget, M: int, rng: np.random.Generator, *, starts: int = 3,
                   initial_basis: np.ndarray | None = None, gtol: float = 1e-11) -> RigidETF:
    """min over rotated ETFs of F_N from ``starts`` starts: the given span basis (e.g. the top eigenvectors of S_N)
    under random orientations inside it (Haar on O(M-1)), or random spans if none is given."""
    d, k = target.dim, M - 1
    E = simplex_etf(M, k)
    best = None
    start_values, final_values = [], []
    for _ in range(starts):
        q, r = np.linalg.qr(rng.standard_normal((k, k)))
        q = q * np.sign(np.diag(r))
        if initial_basis is not None:
            U0 = np.asarray(initial_basis, dtype=float)[:, :k] @ q
        else:
            U0 = np.linalg.qr(rng.standard_normal((d, k)))[0]
        start_values.append(reduced_finite_loss(E @ U0.T, target)[0])
        res = minimize(rigid_value_and_gradient, U0.ravel(), args=(E, target), jac=True, method="BFGS",
                       options={"gtol": gtol, "maxiter": 5000})
        U = _polar(res.x.reshape(d, k))[0]
        value, grad = rigid_value_and_gradient(U.ravel(), E, target)
        final_values.append(value)
        if best is None or value < best[0]:
            best = (value, U, float(np.linalg.norm(grad)))
    return RigidETF(best[0], best[1], E @ best[1].T, best[2], tuple(start_values), tuple(final_values))

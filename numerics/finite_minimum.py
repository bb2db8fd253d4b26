"""The minimum of the exact finite-N loss over the compressed network, by multi-start L-BFGS on frames.

    min_theta L_N = min_V F_N(V),  F_N(V) = T_N - b_N(V)^T K(V)^+ b_N(V)   (beta eliminated in closed form),

with the gradient of F_N from the envelope theorem (``reduced_finite_loss``; checked against
theory.objective.reduced_objective on an EmpiricalSummary in the tests).
Starts: the simplex ETF under independent Haar-random rotations (the orientation
of the ETF is a flat direction of Ltilde, so the finite target picks one), drawn from an explicit Generator.
Each start runs BFGS, then a Newton polish: BFGS stops at gradient norms ~1e-8 because its line search runs
out of float64 resolution in the value (F ~ 1e-2, steps change it by ~g^2/curvature ~ 1e-16), while Newton
steps need only gradients and the analytic Hessian (numerics.finite_hessian); the nearly flat orientation of the
ETF inside its span is line-searched instead (``newton_polish``). The final gradient norm of every start is
reported, and where BFGS had stopped.
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
from threadpoolctl import threadpool_limits

from numerics.finite_hessian import reduced_finite_hessian

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
    gradient_norms: tuple[float, ...] = ()        # every start's final gradient norm (after the Newton polish)
    bfgs_gradient_norms: tuple[float, ...] = ()   # ... and where BFGS stopped, before it
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


NEWTON_NULL = 1e-12     # curvature below this x the largest: flat (the radial directions), left alone
NEWTON_MAX_STEPS = 40
NEWTON_RADIUS = 0.1     # initial trust radius (Frobenius norm of the step on the unit frame)


def _trust_step(w: np.ndarray, gq: np.ndarray, radius: float) -> np.ndarray:
    """Coefficients of the step -(H + mu I)^-1 g in H's eigenbasis, with mu >= max(0, -min w) chosen so that
    |step| <= radius (mu = 0 if the Newton step is inside)."""
    lo = max(0.0, -float(np.min(w))) * (1 + 1e-12) + 1e-300
    if float(np.min(w)) > 0:
        full = -gq / w
        if np.linalg.norm(full) <= radius:
            return full
        lo = 0.0
    hi = lo + float(np.linalg.norm(gq)) / radius + 1.0
    for _ in range(200):
        mu = (lo + hi) / 2
        if np.linalg.norm(gq / (w + mu)) > radius:
            lo = mu
        else:
            hi = mu
    return -gq / (w + hi)


def newton_polish(units: np.ndarray, target: PreparedTarget, *, gtol: float = 1e-12,
                  max_steps: int = NEWTON_MAX_STEPS) -> tuple[np.ndarray, int]:
    """Trust-region Newton steps on the unit frame from a BFGS end point: (polished unit frame, steps taken).

    The model is F_N + g.x + x^T H x / 2 with the analytic Riemannian Hessian (numerics.finite_hessian) on the
    non-flat eigen-directions; the step solves (H + mu I) x = -g inside the trust radius. A step is kept when the
    value falls by at least a tenth of the model's prediction, or, when the predicted change is below the value's
    rounding (1e-15 relative), when the gradient norm falls. The trust radius matters for the ETF's orientation
    inside its span, nearly flat at large d (curvature ~1e-7 of the largest), whose minimum may lie ~1 rad away.
    Where the Hessian is not finite (a target direction equal to a student direction, kappa''(1) = inf for ReLU)
    the BFGS point is kept.
    """
    value, _, grad = reduced_finite_loss(units, target)
    gnorm = float(np.linalg.norm(grad))
    radius = NEWTON_RADIUS
    steps = 0
    for _ in range(max_steps):
        if gnorm < gtol:
            break
        hess = reduced_finite_hessian(units, target)
        if not np.all(np.isfinite(hess)):  # a target neuron on a student neuron: kappa''(1) is infinite (ReLU)
            break
        w, Q = np.linalg.eigh(hess)
        keep = np.abs(w) > NEWTON_NULL * np.max(np.abs(w))
        w, Q = w[keep], Q[:, keep]
        gq = Q.T @ grad.ravel()
        coef = _trust_step(w, gq, radius)
        predicted = float(gq @ coef + 0.5 * np.sum(w * coef * coef))
        trial, _ = unit_rows(units + (Q @ coef).reshape(units.shape))
        t_value, _, t_grad = reduced_finite_loss(trial, target)
        t_norm = float(np.linalg.norm(t_grad))
        actual = t_value - value
        resolution = 1e-15 * max(1.0, abs(value))
        if abs(predicted) < resolution:
            accept = t_norm < gnorm and actual <= resolution
        else:
            ratio = actual / predicted
            accept = ratio > 0.1
            if ratio > 0.75 and np.linalg.norm(coef) > 0.99 * radius:
                radius *= 2
            elif ratio < 0.25:
                radius /= 4
        if accept:
            units, value, grad, gnorm = trial, t_value, t_grad, t_norm
            steps += 1
        elif abs(predicted) < resolution or radius < 1e-12:
            break
    return units, steps


def minimise_finite_loss(target: PreparedTarget, M: int, rng: np.random.Generator, *, starts: int = 4,
                         gtol: float = 1e-9, max_iter: int = 3000, polish: bool = True) -> FiniteMinimum:
    """min over (beta, V) of L_N by BFGS on V (beta = K^+ b_N), from ``starts`` rotated ETFs, then Newton steps.

    BLAS runs on one thread meanwhile (threadpoolctl): the products are N x d by d x M, too small to gain from
    threads, and on a loaded machine multi-threaded BLAS made each Hessian ~100x slower (0.46 s against 3.6 ms
    measured at N = 1000, d = 32, M = 5, load average 6 on 2 cores).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _minimise(target, M, rng, starts=starts, gtol=gtol, max_iter=max_iter, polish=polish)


def _minimise(target: PreparedTarget, M: int, rng: np.random.Generator, *, starts: int, gtol: float, max_iter: int,
              polish: bool) -> FiniteMinimum:
    d = target.dim
    base = simplex_etf(M, d)
    shape = base.shape

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, _, grad = reduced_finite_loss(x.reshape(shape), target)
        return value, grad.ravel()

    best = None
    start_values, final_values, norms, bfgs_norms = [], [], [], []
    all_converged = True
    for _ in range(starts):
        x0 = (base @ haar_rotation(d, rng).T).ravel()
        start_values.append(fun(x0)[0])
        res = minimize(fun, x0, jac=True, method="BFGS", options={"gtol": gtol, "maxiter": max_iter})
        units, _ = unit_rows(res.x.reshape(shape))
        bfgs_norms.append(float(np.linalg.norm(reduced_finite_loss(units, target)[2])))
        if polish:
            units, _ = newton_polish(units, target)
        value, beta, grad = reduced_finite_loss(units, target)
        final_values.append(value)
        gnorm = float(np.linalg.norm(grad))
        norms.append(gnorm)
        all_converged &= gnorm < 10 * gtol
        if best is None or value < best[0]:
            best = (value, beta, units, gnorm)
    return FiniteMinimum(value=best[0], beta=best[1], frame=best[2], gradient_norm=best[3],
                         start_values=tuple(start_values), final_values=tuple(final_values), converged=all_converged,
                         gradient_norms=tuple(norms), bfgs_gradient_norms=tuple(bfgs_norms))

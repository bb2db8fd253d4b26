"""The Hessian of the reduced finite-N loss F_N(V) = T_N - b_N(V)^T K(V)^{-1} b_N(V) on the product of spheres.

Tangent coordinates x_j (orthogonal to the unit row v_j), retraction v_j(x) = (v_j + x_j)/||v_j + x_j|| =
v_j + x_j - |x_j|^2 v_j / 2 + O(x^3).  With beta = K^{-1} b, g_j = grad b_N(v_j) = (1/N) sum_i alpha_i kappa'(t_ij) w^_i,
B_j = (1/N) sum_i alpha_i kappa''(t_ij) w^_i w^_i^T (t_ij = <w^_i, v_j>), and kappa', kappa'' at rho_jl = <v_j, v_l>:

    F_N(V(x)) = F_N(V) + F1(x) + F2(x) + O(x^3),
    F1 = -2 beta^T b1 + beta^T K1 beta,
    2 F2 = x^T H x,   H = H_b + H_K - 2 A^T K^{-1} A,
    H_b:  block (j, j)  -2 beta_j (B_j - (g_j . v_j) I),
    H_K:  block (j, j)  sum_{l != j} 2 beta_j beta_l (kappa''_jl v_l v_l^T - kappa'_jl rho_jl I),
          block (j, l)  2 beta_j beta_l (kappa'_jl I + kappa''_jl v_l v_j^T)            (j != l),
    A (M x M d): row j has g_j - sum_{l != j} kappa'_jl beta_l v_l in block j and -kappa'_jl beta_l v_j in block l,

from expanding b^T (K + K1 + K2)^{-1} b to second order (b1 = g_j . x_j, b2 = (x_j^T B_j x_j - |x_j|^2 g_j . v_j)/2,
rho_jl(x) = rho_jl + x_j . v_l + v_j . x_l + x_j . x_l - (|x_j|^2 + |x_l|^2) rho_jl / 2).  The returned matrix is
P H P (P the tangent projector): the Riemannian Hessian.  It costs N M d^2 flops, where a finite difference of the
gradient costs 2 M d gradients (N M d each).

References: derived here (docs/finite_n_gain.md, "the search"); tests/test_finite_n_gain.py checks it against central
differences of numerics.finite_minimum.reduced_finite_loss.

Examples
--------
>>> import numpy as np
>>> from numerics.population_loss import prepare_target
>>> rng = np.random.default_rng(0)
>>> W = rng.standard_normal((300, 4)) / 2
>>> t = prepare_target(np.ones(300), W, "relu")
>>> V = rng.standard_normal((3, 4)); V /= np.linalg.norm(V, axis=1, keepdims=True)
>>> H = reduced_finite_hessian(V, t)
>>> H.shape, bool(np.allclose(H, H.T))
((12, 12), True)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from numerics.population_loss import PreparedTarget
from theory.activations import Activation
from theory.kernels import RHO, dual_kernel


@lru_cache(maxsize=None)
def kappa_second(act: Activation):
    """kappa''(rho) as a numpy function (sympy derivative of the closed form's kappa')."""
    kern = dual_kernel(act)
    fn = sp.lambdify(RHO, sp.simplify(sp.diff(kern.derivative_expr, RHO)), "numpy")

    def evaluate(rho):
        r = np.clip(np.asarray(rho, dtype=float), -1.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.broadcast_to(fn(r), r.shape).astype(float)   # inf at rho = +-1 for ReLU (kappa' has a kink)

    return evaluate


def reduced_finite_hessian(units: np.ndarray, target: PreparedTarget) -> np.ndarray:
    """P H P at unit rows ``units`` (M, d), flattened as x[j, c] (module docstring)."""
    V = np.asarray(units, dtype=float)
    m, d = V.shape
    act = target.activation
    kern = dual_kernel(act)
    second = kappa_second(act)
    gram = V @ V.T
    K = target.kappa.evaluate(gram)
    np.fill_diagonal(K, target.kappa.at_one)
    t = target.units @ V.T                                              # (N, M)
    b = target.alpha @ target.kappa.evaluate(t) / target.n
    beta = np.linalg.solve(K, b)
    kp_t, kpp_t = kern.numpy_prime(t), second(t)
    g = (kp_t * target.alpha[:, None]).T @ target.units / target.n     # (M, d)
    kp, kpp = kern.numpy_prime(gram), second(gram)
    np.fill_diagonal(kp, 0.0)
    np.fill_diagonal(kpp, 0.0)
    H = np.zeros((m, d, m, d))
    eye = np.eye(d)
    for j in range(m):
        B = (target.units.T * (target.alpha * kpp_t[:, j])) @ target.units / target.n
        H[j, :, j, :] += -2 * beta[j] * (B - float(g[j] @ V[j]) * eye)
        for l in range(m):
            if l == j:
                continue
            c = 2 * beta[j] * beta[l]
            H[j, :, j, :] += c * (kpp[j, l] * np.outer(V[l], V[l]) - kp[j, l] * gram[j, l] * eye)
            H[j, :, l, :] += c * (kp[j, l] * eye + kpp[j, l] * np.outer(V[l], V[j]))
    A = np.zeros((m, m, d))
    for j in range(m):
        A[j, j] = g[j] - (kp[j] * beta) @ V
        for l in range(m):
            if l != j:
                A[j, l] = -kp[j, l] * beta[l] * V[j]
    A = A.reshape(m, m * d)
    H = H.reshape(m * d, m * d) - 2 * A.T @ np.linalg.solve(K, A)
    P = np.zeros((m * d, m * d))
    for j in range(m):
        block = slice(j * d, (j + 1) * d)
        P[block, block] = eye - np.outer(V[j], V[j])
    with np.errstate(invalid="ignore"):   # non-finite entries (see kappa_second) propagate; the caller checks
        H = P @ H @ P
    return (H + H.T) / 2

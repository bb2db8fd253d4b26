"""The reduced frame objective F(V) = min_beta Ltilde(beta, V), batched, with its Riemannian gradient.

    F(V) = C - b(V)^T K(V)^{-1} b(V)          (beta in R^M, beta* = K^{-1} b)
    F_+(V) = min_{beta >= 0} Ltilde(beta, V)  (non-negative least squares)

grad F = P_V [ 2 beta_j sum_{l != j} beta_l kappa'(<v_j, v_l>) v_l - 2 beta_j grad b(v_j) ]  (envelope theorem).

Signed beta: batched Cholesky K = L L^T (all frames of the batch in one LAPACK call), K^{-1} = L^{-T} L^{-1}.
A K that Cholesky rejects, or whose pivots L_jj^2 spread by more than 1 / CHOL_MIN_PIVOT (repeated or, for even
activations, antipodal neurons), falls back to a symmetric eigendecomposition with eigenvalues below
``rcond * lambda_max`` dropped (pseudo-inverse): the minimum over beta is still attained when b lies in the range
of K, which holds for repeated neurons.

The Riemannian Hessian (``hessian_operator``) differentiates the envelope gradient with beta' = K^{-1}(b' - K' beta):
Hess[xi]_j = P_j(D egrad[xi]_j) - <egrad_j, v_j> xi_j (Absil, Mahony, Trumpler 2013, the sphere's Weingarten term).

References: docs/model.md §4; Amani et al., ITW 2022 (arXiv:2205.08199), the simplified objective.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Callable

import numpy as np
import sympy as sp
from scipy.optimize import nnls

from theory.errors import InputError
from theory.kernels import RHO, dual_kernel
from theory.summaries import TargetSummary

BETA_MODES = ("signed", "nonneg")
# Off-diagonal Gram entries are kept this far inside [-1, 1] when kappa' is evaluated: kappa' of the step
# activation is infinite at +-1, and a finite large slope is what the line search should see there.
_EDGE = 1e-12
# Cholesky is trusted when its smallest pivot L_jj^2 is at least this fraction of the largest: the pivots lie in
# [lambda_min, lambda_max], so a wider spread means cond(K) >= 1e10 and the eigh pseudo-inverse takes over.
CHOL_MIN_PIVOT = 1e-10
# Step of the central difference of b_grad along a retraction curve (the b part of the Hessian; b'' = 0 in
# regimes I and II, where it is exact): error O(h^2) + O(eps / h) ~ 1e-11 relative.
_B_STEP = 1e-5


@lru_cache(maxsize=None)
def _kernel_second(act) -> Callable:
    """kappa''(rho) as a numpy function (sympy derivative of the closed form's kappa')."""
    return sp.lambdify(RHO, sp.diff(dual_kernel(act).derivative_expr, RHO), "numpy")


# From this size on, K^{-1} comes from LAPACK dpotri one frame at a time (M^3/3 flops from the Cholesky factor;
# 2.5x faster than inverting L at M = 64); below it the per-call overhead favours numpy's batched inv(L).
_POTRI_MIN = 24


def _cholesky_inverse(L: np.ndarray) -> np.ndarray:
    """(L L^T)^{-1} for a batch of lower Cholesky factors (n, m, m)."""
    m = L.shape[-1]
    if m < _POTRI_MIN:
        Li = np.linalg.inv(L)
        return np.swapaxes(Li, -1, -2) @ Li
    from scipy.linalg.lapack import dpotri
    out = np.empty_like(L)
    for i in range(L.shape[0]):
        c, info = dpotri(L[i], lower=1)
        if info != 0:  # a zero pivot cannot pass the pivot test; keep the general route just in case
            Li = np.linalg.inv(L[i])
            c = Li.T @ Li
        out[i] = c
    upper = np.triu(np.ones((m, m), dtype=bool), 1)  # dpotri fills the lower triangle only
    out[:, upper] = np.swapaxes(out, -1, -2)[:, upper]
    return out


@dataclass(frozen=True)
class CostValue:
    """F at a batch of frames: value (B,), beta* (B, M), Riemannian gradient (B, M, d), cond(K) (B,).

    cond(K) is the 1-norm condition ||K||_1 ||K^{-1}||_1 where Cholesky is used, lambda_max / lambda_min (inf when
    singular) on the eigendecomposition fallback; the two differ by at most a factor M.
    """

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

    @cached_property
    def _kern(self):
        return dual_kernel(self.summary.activation)

    @cached_property
    def _at_one(self) -> float:
        return float(self._kern.at_one)  # a sympy simplify: computed once per cost

    def _kernel_of_gram(self, gram: np.ndarray) -> np.ndarray:
        K = self._kern.numpy(gram)
        m = gram.shape[-1]
        K[..., np.arange(m), np.arange(m)] = self._at_one
        return K

    def kernel(self, units: np.ndarray) -> np.ndarray:
        """K_jl = kappa(<v_j, v_l>) with diagonal kappa(1)."""
        return self._kernel_of_gram(units @ np.swapaxes(units, -1, -2))

    def _inverse(self, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """K^{-1} (pseudo-inverse on the fallback) and cond(K), batched over the leading axes."""
        m = K.shape[-1]
        flat = K.reshape(-1, m, m)
        ok = np.ones(flat.shape[0], dtype=bool)
        L = np.zeros_like(flat)
        try:
            L[:] = np.linalg.cholesky(flat)
        except np.linalg.LinAlgError:  # some K not positive definite: factor one by one to find which
            for i in range(flat.shape[0]):
                try:
                    L[i] = np.linalg.cholesky(flat[i])
                except np.linalg.LinAlgError:
                    ok[i] = False
        piv = np.diagonal(L, axis1=-2, axis2=-1) ** 2
        ok &= np.min(piv, axis=-1) >= CHOL_MIN_PIVOT * np.max(piv, axis=-1)
        inv = np.empty_like(flat)
        cond = np.empty(flat.shape[0])
        if np.any(ok):
            inv[ok] = _cholesky_inverse(L[ok])
            norm1 = lambda A: np.max(np.sum(np.abs(A), axis=-2), axis=-1)  # noqa: E731
            cond[ok] = norm1(flat[ok]) * norm1(inv[ok])
        if not np.all(ok):  # fallback: eigh pseudo-inverse for the singular or ill-conditioned K
            bad = ~ok
            w, Q = np.linalg.eigh(flat[bad])
            top = np.max(np.abs(w), axis=-1, keepdims=True)
            keep = w > self.rcond * top
            winv = np.where(keep, 1.0 / np.where(keep, w, 1.0), 0.0)
            inv[bad] = (Q * winv[..., None, :]) @ np.swapaxes(Q, -1, -2)
            with np.errstate(over="ignore", divide="ignore"):  # cond = inf for an exactly singular K is the right answer
                cond[bad] = top[..., 0] / np.maximum(np.min(w, axis=-1), np.finfo(float).tiny)
        return inv.reshape(K.shape), cond.reshape(K.shape[:-2])

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

    def evaluate_parts(self, units: np.ndarray):
        """``evaluate`` and its intermediates (gram, K^-1, kappa', A, A v - grad b, grad b, radial), which
        ``hessian_data`` turns into the Hessian at the same frames without a second evaluation."""
        gram = units @ np.swapaxes(units, -1, -2)
        K = self._kernel_of_gram(gram)
        b = self.summary.b(units)
        if self.beta_mode == "signed":
            inv, cond = self._inverse(K)
            beta = (inv @ b[..., None])[..., 0]
        else:
            inv = None
            beta, cond = self._beta_nonneg(K, b)
        quad = np.sum(beta * (K @ beta[..., None])[..., 0], axis=-1)
        value = self.summary.constant() - 2 * np.sum(beta * b, axis=-1) + quad
        gram = np.clip(gram, -1 + _EDGE, 1 - _EDGE)
        Kp = self._kern.numpy_prime(gram)
        m = units.shape[-2]
        Kp[..., np.arange(m), np.arange(m)] = 0.0
        bgrad = self.summary.b_grad(units)
        A = Kp * beta[..., None, :]
        avb = A @ units - bgrad
        egrad = 2 * beta[..., None] * avb
        radial = np.sum(egrad * units, axis=-1, keepdims=True)
        grad = egrad - radial * units
        return CostValue(value=value, beta=beta, gradient=grad, condition=cond), (gram, inv, Kp, A, avb, bgrad, radial)

    def evaluate(self, units: np.ndarray) -> CostValue:
        """F (or F_+), beta*, the Riemannian gradient and cond(K) at unit-row frames (B, M, d)."""
        return self.evaluate_parts(units)[0]

    def hessian_data(self, units: np.ndarray, beta: np.ndarray, parts: tuple) -> "HessianData":
        """What Hess F[xi] needs at ``units``, from an evaluation's beta* and intermediates (``evaluate_parts``)."""
        gram, inv, Kp, A, avb, bgrad, radial = parts
        m = units.shape[-2]
        with np.errstate(divide="ignore", invalid="ignore"):
            Kpp = np.asarray(_kernel_second(self.summary.activation)(gram), dtype=float) * np.ones_like(gram)
        Kpp[..., np.arange(m), np.arange(m)] = 0.0
        curved = bool(np.any(bgrad))
        return HessianData((units, inv, Kp, Kpp * beta[..., None, :], A, avb, bgrad, radial, beta),
                           self.summary if curved else None)

    def evaluate_with_hessian(self, units: np.ndarray) -> tuple[CostValue, "HessianData"]:
        """F at unit-row frames (B, M, d) and the data of its Riemannian Hessian there (signed beta only)."""
        if self.beta_mode != "signed":
            raise InputError("beta_mode", "the Hessian is implemented for signed beta", got=self.beta_mode)
        ev, parts = self.evaluate_parts(units)
        return ev, self.hessian_data(units, ev.beta, parts)

    def hessian_operator(self, units: np.ndarray) -> tuple[CostValue, Callable[..., np.ndarray]]:
        """F at unit-row frames (B, M, d) and hess(xi, rows=None) -> Hess F[xi] for tangent xi (B, M, d), or for
        xi of shape (len(rows), M, d) at the frames ``units[rows]``; signed beta only.

        beta' = K^{-1} (b' - K' beta) with K'_jl = kappa'(rho_jl) rho'_jl, rho'_jl = <xi_j, v_l> + <v_j, xi_l>;
        b' and the derivative of grad b come from b_grad (its Hessian by a central difference along the
        retraction, zero in regimes I and II).
        """
        ev, data = self.evaluate_with_hessian(units)
        cache: dict = {}

        def hess(xi: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
            if rows is None:
                return data.apply(xi)
            key = np.asarray(rows).tobytes()
            if key not in cache:  # the row subset is gathered once (truncated CG calls with the same rows)
                cache.clear()
                cache[key] = data.take(rows)
            return cache[key].apply(xi)

        return ev, hess

    def hessian_vector(self, units: np.ndarray, xi: np.ndarray) -> np.ndarray:
        """Hess F[xi] at unit-row frames (B, M, d) for tangent xi (B, M, d); see ``hessian_operator``."""
        return self.hessian_operator(units)[1](xi)


class HessianData:
    """The Riemannian Hessian of F at a batch of frames (B, M, d) as data: ``apply(xi)`` is Hess F[xi]; ``take``
    gathers rows, ``put`` overwrites rows (a search keeps one per start and refreshes it at accepted points).

    Hess[xi]_j = P_j(D egrad[xi]_j) - <egrad_j, v_j> xi_j with egrad_j = 2 beta_j (sum_l kappa'_jl beta_l v_l
    - grad b_j) and beta' = K^{-1}(b' - K' beta).
    """

    __slots__ = ("arrays", "summary")

    def __init__(self, arrays: tuple, summary: TargetSummary | None):
        self.arrays = arrays  # v, K^-1, kappa', kappa'' beta_l, kappa' beta_l, A v - grad b, grad b, radial, beta
        self.summary = summary  # set when grad b varies (regime II and beyond): its derivative is differenced

    @property
    def units(self) -> np.ndarray:
        return self.arrays[0]

    def orbit_operand(self, mu: np.ndarray) -> np.ndarray:
        """A2 = 2 beta_j a_jl + mu (v v^T)_jl, the left factor of xi in ``apply(xi, orbit=(mu, A2))``."""
        v, a, bet = self.arrays[0], self.arrays[4], self.arrays[8]
        a2 = v @ np.swapaxes(v, -1, -2)
        a2 *= mu[:, None, None]
        a2 += 2 * bet[..., None] * a
        return a2

    def take(self, rows) -> "HessianData":
        return HessianData(tuple(a[rows] for a in self.arrays), self.summary)

    def put(self, rows, other: "HessianData") -> None:
        for a, b in zip(self.arrays, other.arrays):
            a[rows] = b

    def apply(self, xi: np.ndarray, orbit: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Hess F[xi]; with ``orbit = (mu, A2)``, A2 = 2 beta_j a_jl + mu (v v^T)_jl (``orbit_operand``), the result
        has mu v (v^T xi - xi^T v) added (a tangent vector) at no extra matrix product: it is folded into the two
        products that Hess F needs anyway."""
        v, inv, kp, kb, a, avb, bg, rad, bet = self.arrays
        xv = xi @ np.swapaxes(v, -1, -2)
        gdot = xv + np.swapaxes(xv, -1, -2)
        rhs = -np.einsum("...jl,...jl->...j", a, gdot)  # -(K' beta)_j = -sum_l kappa'_jl rho'_jl beta_l
        if self.summary is not None:
            rhs += np.sum(bg * xi, axis=-1)  # b'
        bet_dot = (inv @ rhs[..., None])[..., 0]
        w = kp * bet_dot[..., None, :]
        w += gdot * kb
        if orbit is None:
            de = w @ v
            de += a @ xi
            de *= 2 * bet[..., None]
        else:  # 2 beta (w v + a xi) + mu (v v^T xi - v xi^T v), and v xi^T = xv^T
            mu, a2 = orbit
            w *= 2 * bet[..., None]
            w -= mu[:, None, None] * np.swapaxes(xv, -1, -2)
            de = w @ v
            de += a2 @ xi
        de += 2 * bet_dot[..., None] * avb
        if self.summary is not None:
            h = _B_STEP
            plus, minus = v + h * xi, v - h * xi
            dbg = (self.summary.b_grad(plus / np.linalg.norm(plus, axis=-1, keepdims=True))
                   - self.summary.b_grad(minus / np.linalg.norm(minus, axis=-1, keepdims=True))) / (2 * h)
            de -= 2 * bet[..., None] * dbg
        de -= np.einsum("...jk,...jk->...j", de, v)[..., None] * v
        de -= rad * xi
        return de

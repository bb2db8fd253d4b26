"""The best orientation of the simplex ETF in regime III: min over R in SO(d) of F(U R^T), batched descent on SO(d).

At the ETF K is fixed, so F(R) = C - b_R^T K_ETF^{-1} b_R with rows v_j = R u_j. With beta = K_ETF^{-1} b_R and
G_j = dF/dv_j = -2 beta_j grad b(v_j), the derivative along R expm(S) (S skew) is tr(S W), W = sum_j u_j G_j^T R,
so the Lie-algebra gradient is Gamma = (W^T - W) / 2 and the step R <- R cay(-t Gamma), with the Cayley retraction
cay(S) = (I - S/2)^{-1} (I + S/2) (orthogonal for skew S, equal to expm(S) to first order). Step sizes: Barzilai-Borwein
(|dS|^2 / <dS, dGamma>, clipped) with Armijo backtracking per start; all starts (Haar-random rotations and the
identity) advance together. A numerical minimum (an upper estimate of the family's minimum); the certified lower
bound is ``conjecture.etf_family_bound``.

References: Absil, Mahony, Sepulchre, "Optimization Algorithms on Matrix Manifolds" (2008), sec. 4.6 (descent on
matrix Lie groups); Barzilai & Borwein, IMA J. Numer. Anal. 8 (1988).

Examples
--------
>>> from theory.exact_anisotropic import exact_summary
>>> s = exact_summary("relu", 3, "rademacher")
>>> res = etf_orientation_search(s, 4, 3, np.random.default_rng(0), starts=8)
>>> bool(abs(res.value) < 1e-12), [round(x, 6) for x in res.row_fourth_moments]   # cube diagonals: F = 0
(True, [0.333333, 0.333333, 0.333333, 0.333333])
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from conjecture.frames import random_rotation
from theory.etf import simplex_etf
from theory.kernels import dual_kernel

ARMIJO = 1e-4
MAX_STEP = 2.0
# A start whose F has changed by less than STALL_RTOL C over STALL_ITERS iterations is at float64 resolution
# (kappa has a |theta|^3 term at rho = +-1, so minima with a row on a point of the law converge only linearly).
STALL_RTOL = 1e-15
STALL_ITERS = 5


@dataclass(frozen=True)
class RotationSearchResult:
    """Best ETF orientation found: F, its rows, sum_i v_i^4 per row, the Lie gradient norm, the effort."""

    value: float
    rows: np.ndarray
    rotation: np.ndarray
    row_fourth_moments: tuple
    gradient_norm: float
    starts: int
    iterations: int
    hits: int
    seconds: float

    def as_dict(self) -> dict:
        return {"value": self.value, "rows": np.round(self.rows, 12).tolist(),
                "row_fourth_moments": list(self.row_fourth_moments), "gradient_norm": self.gradient_norm,
                "starts": self.starts, "iterations": self.iterations, "starts_at_best": self.hits,
                "seconds": round(self.seconds, 3),
                "method": "Barzilai-Borwein descent on SO(d) with the Lie gradient (numerical: an upper estimate)"}


def _kinv(summary, M: int) -> np.ndarray:
    kern = dual_kernel(summary.activation)
    k1 = float(kern.numpy(np.array(1.0)))
    k0 = float(kern.numpy(np.array(-1.0 / (M - 1))))
    K = (k1 - k0) * np.eye(M) + k0
    return np.linalg.inv(K)


def cayley(S: np.ndarray) -> np.ndarray:
    """(I - S/2)^{-1} (I + S/2) for a batch of skew matrices (B, d, d): a rotation."""
    eye = np.eye(S.shape[-1])
    return np.linalg.solve(eye - S / 2, eye + S / 2)


def value_and_lie_gradient(summary, U: np.ndarray, R: np.ndarray, Kinv: np.ndarray):
    """F(U R^T) and the skew Lie gradient Gamma for rotations R of shape (B, d, d)."""
    V = U @ np.swapaxes(R, -1, -2)
    b = summary.b(V)
    beta = b @ Kinv
    F = summary.constant() - np.sum(b * beta, axis=-1)
    G = -2 * beta[..., None] * summary.b_grad(V)
    W = np.einsum("jm,bjn,bnk->bmk", U, G, R)
    return F, (np.swapaxes(W, -1, -2) - W) / 2


def etf_orientation_search(summary, M: int, d: int, rng: np.random.Generator, *, starts: int = 32,
                           iters: int = 400, gtol: float = 1e-11, initial=None) -> RotationSearchResult:
    """Minimise F over ETF orientations from ``starts`` Haar-random rotations plus the identity (and ``initial``,
    rotations to start from)."""
    t0 = time.perf_counter()
    U = simplex_etf(M, d)
    Kinv = _kinv(summary, M)
    Rs = [np.eye(d)] + [random_rotation(rng, d) for _ in range(starts)]
    if initial is not None:
        Rs += [np.asarray(r, dtype=float) for r in initial]
    R = np.array(Rs)
    B = len(R)
    F, Gam = value_and_lie_gradient(summary, U, R, Kinv)
    t = np.full(B, 0.5)
    prev_S = prev_G = None
    it = 0
    C = summary.constant()
    stall = np.zeros(B, dtype=int)
    for it in range(1, iters + 1):
        gn = np.sqrt(np.sum(Gam**2, axis=(1, 2)))
        active = (gn > gtol) & (stall < STALL_ITERS)
        if not np.any(active):
            break
        if prev_S is not None:
            dG = Gam - prev_G
            num = np.sum(prev_S**2, axis=(1, 2))
            den = np.sum(prev_S * dG, axis=(1, 2))
            bb = np.where(den > 0, num / np.where(den > 0, den, 1.0), 2 * t)
            t = np.clip(bb, 1e-6, MAX_STEP / np.maximum(gn, 1e-300))
        step = np.where(active, t, 0.0)
        for _ in range(30):
            S = -step[:, None, None] * Gam
            Rn = R @ cayley(S)
            Fn, Gn = value_and_lie_gradient(summary, U, Rn, Kinv)
            ok = (Fn <= F - ARMIJO * step * gn**2) | ~active
            if np.all(ok):
                break
            step = np.where(ok, step, step / 2)
        prev_S, prev_G = -step[:, None, None] * Gam, Gam
        stall = np.where(np.abs(F - Fn) <= STALL_RTOL * C, stall + 1, 0)
        R, F, Gam = Rn, Fn, Gn
        t = np.maximum(step, 1e-6)
    i = int(np.argmin(F))
    hits = int(np.sum(F <= F[i] + 1e-9 * C))
    rows = U @ R[i].T
    return RotationSearchResult(float(F[i]), rows, R[i], tuple(float(x) for x in np.sum(rows**4, axis=1)),
                                float(np.sqrt(np.sum(Gam[i] ** 2))), B, it, hits, time.perf_counter() - t0)

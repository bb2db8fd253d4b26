"""The Hessian of the reduced regime-I objective at the simplex ETF, modulo its flat directions.

    F(V) = C - a^2 1^T K(V)^{-1} 1,   a = abar c_d,   K(V)_jl = kappa(<v^_j, v^_l>)   (beta eliminated: beta* = a K^{-1} 1).

F depends on V only through the Gram matrix of the unit rows, so at the ETF its Hessian (in tangent coordinates,
v_j -> (v_j + x_j)/||v_j + x_j||, x_j orthogonal to v_j) vanishes on the radial directions (M) and on the rotations.
With the ETF spanning the first k = M - 1 coordinates, the reflections x_c -> -x_c (c >= k) fix the ETF, so in-span
and out-of-span perturbations decouple, and O(d - k) acting on the out-of-span coordinates makes each of them carry
the same M x M block H_out. In it the rotations mixing e_c with the span (x_j = <y, v_j>, y in the span, i.e.
sum_j x_j = 0) are flat, and the one remaining direction, x = 1 (every neuron tilted the same way), has

    H_out = h_out 1 1^T / M,   h_out = 2 a^2 M kappa'(rho0) / lambda^2,   lambda = kappa(1) + (M - 1) kappa(rho0),

from G_jl = (rho0 + e^2)/(1 + e^2) along x = e 1 (derived here; the finite-difference block is checked against it).
The in-span block (M k x M k) is computed by central differences of the analytic gradient of
theory.objective.reduced_objective, Richardson-extrapolated (error estimate stored), and inverted on the
complement of the radial and rotation directions (dimension M (M - 1)/2 - 1, the in-span Gram coordinates).

References: derived here (docs/finite_n_gain.md, step 5).

Examples
--------
>>> from theory.activations import get_activation
>>> h = etf_hessian(get_activation("relu"), 3)
>>> h.complement_dimension, h.min_eigenvalue > 0, bool(abs(h.h_out_fd / h.h_out - 1) < 1e-8)
(2, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from theory.activations import Activation
from theory.errors import InputError
from theory.etf import simplex_etf
from theory.kernels import dual_kernel
from theory.objective import reduced_objective
from theory.summaries import IsotropicSummary

FD_STEP = 1e-4   # Richardson from h and h/2: truncation O(h^4) ~ 1e-16, rounding ~ 1e-16 / h ~ 1e-12 relative


@dataclass(frozen=True)
class ETFHessian:
    """H for a = 1 (scale by a^2): in-span pseudo-inverse, out-of-span eigenvalue, and the accuracy of both.

    ``pinv_in`` is (M k) x (M k) over the flattened in-span tangent coordinates x[j, c], c < k; ``h_out`` the exact
    out-of-span eigenvalue and ``h_out_fd`` its finite-difference value; ``fd_error`` the largest change of the
    in-span block between the Richardson value and the plain central difference at h/2 (an error estimate);
    ``min_eigenvalue`` the smallest eigenvalue on the complement of the flat directions (> 0: a strict local minimum
    of the Gram-matrix problem).
    """

    activation: str
    M: int
    pinv_in: np.ndarray
    h_out: float
    h_out_fd: float
    min_eigenvalue: float
    complement_dimension: int
    fd_error: float
    step: float = FD_STEP
    scale_note: str = "for a = abar c_d = 1; the Hessian scales as a^2 and its pseudo-inverse as a^-2"

    def _split(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = np.asarray(g, dtype=float)
        if g.ndim < 2 or g.shape[-2] != self.M or g.shape[-1] < self.M - 1:
            raise InputError("g", f"expected shape (..., M = {self.M}, d >= {self.M - 1})", got=g.shape)
        k = self.M - 1
        return g[..., :k].reshape(g.shape[:-2] + (self.M * k,)), g[..., k:]

    def quadratic(self, g: np.ndarray) -> np.ndarray:
        """g^T H^+ g (a = 1) for tangent vectors g of shape (..., M, d) at the reference ETF (simplex_etf(M, d))."""
        gin, gout = self._split(g)
        inner = np.einsum("...i,ij,...j->...", gin, self.pinv_in, gin)
        outer = np.sum(np.sum(gout, axis=-2) ** 2, axis=-1) / (self.M * self.h_out) if gout.shape[-1] else 0.0
        return inner + outer

    def step_from(self, g: np.ndarray) -> np.ndarray:
        """The Newton displacement -H^+ g (a = 1), same shape as g."""
        g = np.asarray(g, dtype=float)
        gin, gout = self._split(g)
        k = self.M - 1
        out = np.empty_like(g)
        out[..., :k] = -(gin @ self.pinv_in).reshape(g.shape[:-1] + (k,))
        if gout.shape[-1]:
            out[..., k:] = -np.broadcast_to(np.sum(gout, axis=-2, keepdims=True), gout.shape) / (self.M * self.h_out)
        return out


def _gradient(units_flat: np.ndarray, summary: IsotropicSummary, M: int) -> np.ndarray:
    return reduced_objective(units_flat.reshape(M, M), summary).gradient.ravel()


def _fd_hessian(base: np.ndarray, summary: IsotropicSummary, h: float) -> np.ndarray:
    M = base.shape[0]
    n = M * M
    x0 = base.ravel()
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        H[:, i] = (_gradient(x0 + e, summary, M) - _gradient(x0 - e, summary, M)) / (2 * h)
    return (H + H.T) / 2


def _flat_directions(base: np.ndarray) -> np.ndarray:
    """Orthonormal basis (columns) of the radial and rotation directions at the ETF in R^M (flattened x[j, c])."""
    M = base.shape[0]
    vecs = []
    for j in range(M):
        x = np.zeros((M, M))
        x[j] = base[j]
        vecs.append(x.ravel())
    for a in range(M):
        for b in range(a + 1, M):
            A = np.zeros((M, M))
            A[a, b], A[b, a] = 1.0, -1.0
            vecs.append((base @ A.T).ravel())
    u, s, _ = np.linalg.svd(np.array(vecs).T, full_matrices=False)
    return u[:, s > 1e-10 * s[0]]


@lru_cache(maxsize=64)
def etf_hessian(act: Activation, M: int) -> ETFHessian:
    """The Hessian of F(V) = -1^T K(V)^{-1} 1 at the simplex ETF of M >= 2 neurons (module docstring)."""
    if isinstance(M, bool) or not isinstance(M, int) or M < 2:
        raise InputError("M", "the balanced ETF needs M >= 2 neurons", got=M)
    kern = dual_kernel(act)
    rho0 = -1.0 / (M - 1)
    k1, krho, kp = float(kern.at_one), float(kern.numpy(rho0)), float(kern.numpy_prime(rho0))
    lam = k1 + (M - 1) * krho
    if not np.isfinite(kp) or lam <= 0:
        raise InputError("activation", f"kappa'(rho0) must be finite and kappa(1) + (M-1) kappa(rho0) > 0 at M = {M}",
                         got=act.name)
    summary = IsotropicSummary(act, M, 1.0, 1.0)   # b = abar c = 1, so F = C - 1^T K^-1 1
    base = simplex_etf(M, M)
    h_half = _fd_hessian(base, summary, FD_STEP / 2)
    H = (4 * h_half - _fd_hessian(base, summary, FD_STEP)) / 3
    flat = _flat_directions(base)
    proj = np.eye(M * M) - flat @ flat.T
    evals, evecs = np.linalg.eigh(proj @ H @ proj)
    keep = np.abs(evals) > 1e-8 * np.max(np.abs(evals))
    comp = evecs[:, keep]
    k = M - 1
    idx = np.arange(M * M).reshape(M, M)
    inn, out = idx[:, :k].ravel(), idx[:, k]
    Hc = comp.T @ H @ comp
    pinv = comp @ np.linalg.inv(Hc) @ comp.T
    ones = np.ones(M) / np.sqrt(M)
    return ETFHessian(
        activation=act.name, M=M, pinv_in=pinv[np.ix_(inn, inn)], h_out=2 * M * kp / lam**2,
        h_out_fd=float(ones @ H[np.ix_(out, out)] @ ones), min_eigenvalue=float(np.min(np.linalg.eigvalsh(Hc))),
        complement_dimension=int(comp.shape[1]) - 1, fd_error=float(np.max(np.abs(H - h_half))))

"""The reduced objective F(V) = C - b^T K^{-1} b in mpmath, its gradient in retraction coordinates, and the
Riemannian Hessian (beta optimised) by central differences of that analytic gradient.

Coordinates: at a point V, each row has an orthonormal basis E_j of v_j^perp; z in R^{M (d-1)} maps to
R(z)_j = (v_j + E_j z_j) / ||v_j + E_j z_j||. The normalisation retraction is second order, so the Hessian of
phi(z) = F(R(z)) at z = 0 equals the Riemannian Hessian of F at V (Absil et al. 2008, Prop. 5.5.6).
Central differences with step h at working precision w digits have error O(h^2) + O(10^-w / h); with
h = 10^-(w/3) both terms are about 10^-(2w/3).

References: Absil, Mahony, Sepulchre, "Optimization Algorithms on Matrix Manifolds" (2008), sec. 5.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from theory.kernels import dual_kernel
from theory.summaries import IsotropicSummary, LinearTiltSummary, TargetSummary


def _b_grad_mp(summary: TargetSummary, row, dps: int):
    """Euclidean gradient of b at a unit row, in mpmath (exact for regimes I and II, finite differences otherwise)."""
    d = len(row)
    if isinstance(summary, IsotropicSummary):
        return [mpmath.mpf(0)] * d
    if isinstance(summary, LinearTiltSummary):
        mu1 = mpmath.mpf(summary.activation.hermite_coefficient(1).evalf(dps + 5) ** 2)
        return [mu1 * mpmath.mpf(m) for m in summary.tilt]
    h = mpmath.mpf(10) ** (-(dps // 3))
    out = []
    for i in range(d):
        up = list(row)
        dn = list(row)
        up[i] += h
        dn[i] -= h
        out.append((summary.b_mp(up, dps) - summary.b_mp(dn, dps)) / (2 * h))
    return out


def solve_psd_mp(K, b, dps: int):
    """K^+ b for a symmetric PSD mpmath matrix: LU when K is well conditioned, otherwise the eigen-decomposition with
    eigenvalues below 10^-(dps/2) max|lambda| dropped (repeated or, for even activations, antipodal neurons make K
    exactly singular; b then lies in range(K) and the pseudo-inverse gives the minimiser of Ltilde over beta)."""
    with mpmath.workdps(dps):
        try:
            return mpmath.lu_solve(K, b)
        except ZeroDivisionError:
            pass
        ev, Q = mpmath.eigsy(K)
        n = K.rows
        top = max(abs(ev[i]) for i in range(n))
        out = mpmath.matrix(n, 1)
        for i in range(n):
            if abs(ev[i]) > mpmath.mpf(10) ** (-(dps // 2)) * top:
                c = mpmath.fsum(Q[r, i] * b[r] for r in range(n)) / ev[i]
                for r in range(n):
                    out[r] += c * Q[r, i]
        return out


def value_and_gradient_mp(units, summary: TargetSummary, dps: int):
    """(F, beta*, Riemannian gradient rows) at unit rows given as lists of mpf, at ``dps`` digits."""
    kern = dual_kernel(summary.activation)
    with mpmath.workdps(dps):
        M = len(units)
        K = mpmath.matrix(M, M)
        Kp = [[mpmath.mpf(0)] * M for _ in range(M)]
        for j in range(M):
            K[j, j] = kern.mp(1, dps)
            for l in range(j + 1, M):
                rho = mpmath.fsum(x * y for x, y in zip(units[j], units[l]))
                rho = min(max(rho, mpmath.mpf(-1)), mpmath.mpf(1))
                K[j, l] = K[l, j] = kern.mp(rho, dps)
                # kappa' of the step activation is infinite at +-1: evaluate it just inside, as the float cost does
                edge = mpmath.mpf(10) ** (-dps)
                Kp[j][l] = Kp[l][j] = kern.mp_prime(min(max(rho, -1 + edge), 1 - edge), dps)
        b = mpmath.matrix([summary.b_mp(u, dps) for u in units])
        beta = solve_psd_mp(K, b, dps)
        value = summary.constant_mp(dps) - mpmath.fsum(beta[j] * b[j] for j in range(M))
        grads = []
        for j in range(M):
            bg = _b_grad_mp(summary, units[j], dps)
            e = [2 * beta[j] * mpmath.fsum(beta[l] * Kp[j][l] * units[l][i] for l in range(M) if l != j) - 2 * beta[j] * bg[i]
                 for i in range(len(units[j]))]
            radial = mpmath.fsum(x * y for x, y in zip(e, units[j]))
            grads.append([x - radial * y for x, y in zip(e, units[j])])
        return value, [beta[j] for j in range(M)], grads


def tangent_basis(row, dps: int):
    """An orthonormal basis (d - 1 rows) of row^perp, by Gram-Schmidt against the standard basis in mpmath."""
    with mpmath.workdps(dps):
        d = len(row)
        basis = [list(row)]
        order = np.argsort(np.abs([float(x) for x in row]))  # least aligned axes first: best conditioned
        for i in order:
            v = [mpmath.mpf(1) if k == i else mpmath.mpf(0) for k in range(d)]
            for q in basis:
                c = mpmath.fsum(x * y for x, y in zip(v, q))
                v = [x - c * y for x, y in zip(v, q)]
            n = mpmath.sqrt(mpmath.fsum(x * x for x in v))
            if n > mpmath.mpf("0.1"):
                basis.append([x / n for x in v])
            if len(basis) == d:
                break
        return basis[1:]


def pullback_gradient_mp(units, bases, z, summary: TargetSummary, dps: int):
    """grad_z F(R(z)) (a flat list of M (d-1) mpf) and F(R(z))."""
    with mpmath.workdps(dps):
        moved, norms = [], []
        k = 0
        for u, E in zip(units, bases):
            y = list(u)
            for e in E:
                y = [a + z[k] * b for a, b in zip(y, e)]
                k += 1
            n = mpmath.sqrt(mpmath.fsum(a * a for a in y))
            moved.append([a / n for a in y])
            norms.append(n)
        value, _, grads = value_and_gradient_mp(moved, summary, dps)
        out = []
        for g, E, n in zip(grads, bases, norms):
            for e in E:
                out.append(mpmath.fsum(a * b for a, b in zip(g, e)) / n)
        return out, value, moved


@dataclass(frozen=True)
class HessianSpectrum:
    """Eigenvalues of the Riemannian Hessian of F (beta optimised) at a point, ascending, as floats,
    with the counts of eigenvalues below -tol, within +-tol, above tol (tol = ``zero_tol`` * max |lambda|)."""

    eigenvalues: tuple[float, ...]
    negative: int
    zero: int
    positive: int
    zero_tol: float
    dps: int


def hessian_mp(units, summary: TargetSummary, dps: int):
    """The Riemannian Hessian in retraction coordinates (mpmath matrix), its bases and the gradient at z = 0."""
    with mpmath.workdps(dps):
        bases = [tangent_basis(u, dps) for u in units]
        n = sum(len(E) for E in bases)
        zero = [mpmath.mpf(0)] * n
        g0, _, _ = pullback_gradient_mp(units, bases, zero, summary, dps)
        h = mpmath.mpf(10) ** (-(dps // 3))
        H = mpmath.matrix(n, n)
        for i in range(n):
            zp, zm = list(zero), list(zero)
            zp[i], zm[i] = h, -h
            gp, _, _ = pullback_gradient_mp(units, bases, zp, summary, dps)
            gm, _, _ = pullback_gradient_mp(units, bases, zm, summary, dps)
            for r in range(n):
                H[r, i] = (gp[r] - gm[r]) / (2 * h)
        H = (H + H.T) / 2
        return H, bases, g0


def spectrum(H, dps: int, zero_tol: float = 1e-12) -> HessianSpectrum:
    """Eigenvalues of a symmetric mpmath matrix, classified with tolerance zero_tol * max |lambda|
    (zero_tol = 1e-12: far above the 10^-(2 dps/3) finite-difference error, far below curvature scales)."""
    with mpmath.workdps(dps):
        ev = mpmath.eigsy(H, eigvals_only=True)
        vals = sorted(float(x) for x in ev)
    scale = max(abs(v) for v in vals) if vals else 1.0
    tol = zero_tol * scale
    return HessianSpectrum(tuple(vals), sum(v < -tol for v in vals), sum(abs(v) <= tol for v in vals), sum(v > tol for v in vals), zero_tol, dps)

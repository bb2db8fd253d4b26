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

import flint
import mpmath
import numpy as np
from flint import acb_mat, arb, arb_mat

from conjecture.interval import interval_kernel, working_bits
from numerics.arb_linalg import SingularError, bits_for, column, from_mpf, precision, solve, to_mpf
from theory.summaries import IsotropicSummary, LinearTiltSummary, TargetSummary, mu_sq_mp


def _b_grad_mp(summary: TargetSummary, row, dps: int):
    """Euclidean gradient of b at a unit row, in mpmath (exact for regimes I and II, finite differences otherwise)."""
    d = len(row)
    if isinstance(summary, IsotropicSummary):
        return [mpmath.mpf(0)] * d
    if isinstance(summary, LinearTiltSummary):
        mu1 = mu_sq_mp(summary.activation, 1, dps)
        return [mu1 * mpmath.mpf(m) for m in summary.tilt]
    if hasattr(summary, "b_grad_mp"):  # an analytic gradient (theory.exact_anisotropic)
        return summary.b_grad_mp(row, dps)
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
    """K^+ b for a symmetric PSD mpmath matrix: a certified arb solve when arb proves K invertible (returned as
    mpmath midpoints), otherwise the eigen-decomposition with eigenvalues below 10^-(dps/2) max|lambda| dropped
    (repeated or, for even activations, antipodal neurons make K exactly singular; b then lies in range(K) and
    the pseudo-inverse gives the minimiser of Ltilde over beta). mpmath there: flint has no pseudo-inverse and
    no certified symmetric eigenvectors for clustered eigenvalues."""
    n = K.rows
    with precision(dps):
        Ka = arb_mat([[from_mpf(K[j, l]) for l in range(n)] for j in range(n)])
        try:
            x = solve(Ka, column(from_mpf(b[j]) for j in range(n)))
            return mpmath.matrix([to_mpf(x[j, 0], dps) for j in range(n)])
        except SingularError:
            pass
    return _pseudo_solve_mp(K, b, dps)


def _pseudo_solve_mp(K, b, dps: int):
    with mpmath.workdps(dps):
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


# ---- the same objective in arb balls: python-flint's C arithmetic used as fast multiprecision (30-100x mpmath);
# the polish is not a certificate, so midpoints are what is returned, but every operation carries its error ball.

def _kappa_arb(fn, rho: arb, dps: int) -> arb:
    """kappa or kappa' (compiled arb enclosure) at the point rho, re-evaluated at higher precision while the
    ball is wider than 10^-dps relative (the closed form cancels near rho = -1, as theory.kernels.guard_digits
    explains; arb measures the loss instead of estimating it)."""
    v = fn(rho)
    want = bits_for(dps) - 32
    extra = 64
    while v.is_finite() and v.rel_accuracy_bits() < want and not v.is_zero() and extra <= 4096:
        with working_bits(flint.ctx.prec + extra):
            v = fn(rho)
        extra *= 2
    return v


def _b_arb(summary: TargetSummary, U: arb_mat, dps: int) -> list:
    M, d = U.nrows(), U.ncols()
    if isinstance(summary, IsotropicSummary):
        return [from_mpf(summary.b_mp(None, dps))] * M
    if isinstance(summary, LinearTiltSummary):
        a0 = from_mpf(mpmath.mpf(summary.abar)) * from_mpf(mu_sq_mp(summary.activation, 0, dps))
        mu1 = from_mpf(mu_sq_mp(summary.activation, 1, dps))
        m = [from_mpf(mpmath.mpf(x)) for x in summary.tilt]
        return [a0 + mu1 * sum((m[i] * U[j, i] for i in range(d)), arb(0)) for j in range(M)]
    return [from_mpf(summary.b_mp([to_mpf(U[j, i], dps) for i in range(d)], dps)) for j in range(M)]


def _b_grad_arb(summary: TargetSummary, U: arb_mat, j: int, dps: int):
    """Euclidean gradient of b at row j (None when b is constant): exact for regime II, else _b_grad_mp."""
    if isinstance(summary, IsotropicSummary):
        return None
    if isinstance(summary, LinearTiltSummary):
        mu1 = from_mpf(mu_sq_mp(summary.activation, 1, dps))
        return [mu1 * from_mpf(mpmath.mpf(m)) for m in summary.tilt]
    row = [to_mpf(U[j, i], dps) for i in range(U.ncols())]
    return [from_mpf(v) for v in _b_grad_mp(summary, row, dps)]


def _value_grad_arb(U: arb_mat, summary: TargetSummary, dps: int):
    """(F, beta (list), Riemannian gradient (M x d arb_mat)) at unit rows U, in arb at the current precision."""
    kern = interval_kernel(summary.activation)
    M, d = U.nrows(), U.ncols()
    G = U * U.transpose()
    K = arb_mat(M, M)
    W = arb_mat(M, M)  # kappa'(rho_jl) off the diagonal
    k1 = _kappa_arb(kern.value, arb(1), dps)
    with mpmath.workdps(dps):
        lo, hi, edge = mpmath.mpf(-1), mpmath.mpf(1), mpmath.mpf(10) ** (-dps)
        for j in range(M):
            K[j, j] = k1
            for l in range(j + 1, M):
                rho = min(max(to_mpf(G[j, l], dps), lo), hi)
                K[j, l] = K[l, j] = _kappa_arb(kern.value, from_mpf(rho), dps)
                # kappa' of the step activation is infinite at +-1: evaluate it just inside, as the float cost does
                W[j, l] = W[l, j] = _kappa_arb(kern.first, from_mpf(min(max(rho, lo + edge), hi - edge)), dps)
    b = _b_arb(summary, U, dps)
    try:
        x = solve(K, column(b))
        beta = [x[j, 0] for j in range(M)]
    except SingularError:  # K singular: mpmath pseudo-inverse (see solve_psd_mp)
        Kmp = mpmath.matrix([[to_mpf(K[j, l], dps) for l in range(M)] for j in range(M)])
        sol = _pseudo_solve_mp(Kmp, mpmath.matrix([to_mpf(v, dps) for v in b]), dps)
        beta = [from_mpf(sol[j]) for j in range(M)]
    value = from_mpf(summary.constant_mp(dps)) - sum((beta[j] * b[j] for j in range(M)), arb(0))
    for j in range(M):
        for l in range(M):
            W[j, l] = 2 * beta[j] * beta[l] * W[j, l] if l != j else arb(0)
    E = W * U
    for j in range(M):
        bg = _b_grad_arb(summary, U, j, dps)
        for i in range(d):
            if bg is not None:
                E[j, i] -= 2 * beta[j] * bg[i]
        radial = sum((E[j, i] * U[j, i] for i in range(d)), arb(0))
        for i in range(d):
            E[j, i] -= radial * U[j, i]
    return value, beta, E


def _to_arb_rows(rows) -> arb_mat:
    return arb_mat([[from_mpf(x) for x in row] for row in rows])


def value_and_gradient_mp(units, summary: TargetSummary, dps: int):
    """(F, beta*, Riemannian gradient rows) at unit rows given as lists of mpf, at ``dps`` digits (computed in
    arb balls, returned as mpmath midpoints)."""
    with precision(dps):
        value, beta, E = _value_grad_arb(_to_arb_rows(units), summary, dps)
        M, d = E.nrows(), E.ncols()
        return (to_mpf(value, dps), [to_mpf(v, dps) for v in beta],
                [[to_mpf(E[j, i], dps) for i in range(d)] for j in range(M)])


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


def _pullback_arb(U: arb_mat, B: list, z: list, summary: TargetSummary, dps: int):
    """grad_z F(R(z)) (list of arb), F(R(z)) and the moved rows (arb_mat), all in arb; B[j] is (d-1) x d."""
    M, d = U.nrows(), U.ncols()
    moved = arb_mat(M, d)
    norms = []
    k = 0
    for j in range(M):
        Bj = B[j]
        m = Bj.nrows()
        y = [U[j, i] for i in range(d)]
        for r in range(m):
            zr = z[k + r]
            if not zr.is_zero():
                y = [y[i] + zr * Bj[r, i] for i in range(d)]
        k += m
        n = sum((v * v for v in y), arb(0)).sqrt()
        norms.append(n)
        for i in range(d):
            moved[j, i] = y[i] / n
    value, _, E = _value_grad_arb(moved, summary, dps)
    out = []
    for j in range(M):
        g = B[j] * arb_mat([[E[j, i]] for i in range(d)])
        out.extend(g[r, 0] / norms[j] for r in range(g.nrows()))
    return out, value, moved


def pullback_gradient_mp(units, bases, z, summary: TargetSummary, dps: int):
    """grad_z F(R(z)) (a flat list of M (d-1) mpf) and F(R(z))."""
    with precision(dps):
        U = _to_arb_rows(units)
        B = [_to_arb_rows(E) for E in bases]
        out, value, moved = _pullback_arb(U, B, [from_mpf(x) for x in z], summary, dps)
        M, d = moved.nrows(), moved.ncols()
        return ([to_mpf(v, dps) for v in out], to_mpf(value, dps),
                [[to_mpf(moved[j, i], dps) for i in range(d)] for j in range(M)])


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
    """The Riemannian Hessian in retraction coordinates (mpmath matrix), its bases and the gradient at z = 0.

    The 2 n pulled-back gradients of the central differences run in arb (python-flint) at ``dps`` digits."""
    bases = [tangent_basis(u, dps) for u in units]
    with precision(dps):
        U = _to_arb_rows(units)
        B = [_to_arb_rows(E) for E in bases]
        n = sum(len(E) for E in bases)
        zero = [arb(0)] * n
        g0, _, _ = _pullback_arb(U, B, zero, summary, dps)
        h = arb(10) ** (-(dps // 3))
        H = arb_mat(n, n)
        for i in range(n):
            zp, zm = list(zero), list(zero)
            zp[i], zm[i] = h, -h
            gp, _, _ = _pullback_arb(U, B, zp, summary, dps)
            gm, _, _ = _pullback_arb(U, B, zm, summary, dps)
            for r in range(n):
                H[r, i] = (gp[r] - gm[r]) / (2 * h)
        with mpmath.workdps(dps):
            Hm = mpmath.matrix([[to_mpf(H[r, c], dps) for c in range(n)] for r in range(n)])
            Hm = (Hm + Hm.T) / 2
        return Hm, bases, [to_mpf(v, dps) for v in g0]


def symmetric_eigenvalue_balls(H, dps: int):
    """Certified eigenvalue enclosures (arb, ascending by midpoint) of a symmetric mpmath matrix, or None.

    flint's acb_mat.eig with multiple=True (Rump's method) also encloses clusters of repeated eigenvalues, as the
    rotation orbit makes here: each eigenvalue of a cluster gets the cluster's ball. None when flint cannot
    isolate the clusters at this precision."""
    n = H.rows
    with precision(dps):
        A = acb_mat(arb_mat([[from_mpf(H[r, c]) for c in range(n)] for r in range(n)]))
        try:
            ev = A.eig(multiple=True)
        except ValueError:
            return None
        balls = [e.real for e in ev]
        if not all(b.is_finite() for b in balls):
            return None
        return sorted(balls, key=lambda b: b.mid())


def symmetric_eigenvalues(H, dps: int) -> list:
    """Eigenvalues of a symmetric mpmath matrix as mpf midpoints of flint's certified balls, ascending (a
    cluster's members share its midpoint); mpmath.eigsy only when flint cannot isolate the clusters."""
    balls = symmetric_eigenvalue_balls(H, dps)
    if balls is not None:
        return [to_mpf(b, dps) for b in balls]
    with mpmath.workdps(dps):
        return sorted(mpmath.eigsy(H, eigvals_only=True))


def spectrum(H, dps: int, zero_tol: float = 1e-12) -> HessianSpectrum:
    """Eigenvalues of a symmetric mpmath matrix, classified with tolerance zero_tol * max |lambda|
    (zero_tol = 1e-12: far above the 10^-(2 dps/3) finite-difference error, far below curvature scales)."""
    vals = sorted(float(x) for x in symmetric_eigenvalues(H, dps))
    scale = max(abs(v) for v in vals) if vals else 1.0
    tol = zero_tol * scale
    return HessianSpectrum(tuple(vals), sum(v < -tol for v in vals), sum(abs(v) <= tol for v in vals), sum(v > tol for v in vals), zero_tol, dps)

"""High-precision polishing: Newton's method on the Riemannian gradient of F(V) = C - b^T K^{-1} b in mpmath.

Each step builds the Hessian in retraction coordinates (``hessian.hessian_mp``), solves H s = -g on the
eigenvectors with |lambda| > zero_tol * max |lambda| (the flat directions are the rotations of the frame,
along which F is constant), and retracts. Started within the quadratic basin from a float64 optimum
(||grad|| ~ 1e-10) it needs two or three steps to reach ||grad|| < 10^-(dps+5).

References: Absil, Mahony, Sepulchre (2008), Alg. 5 (Riemannian Newton); docs/model.md §4.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from conjecture.hessian import HessianSpectrum, hessian_mp, pullback_gradient_mp, spectrum, tangent_basis, value_and_gradient_mp
from theory.summaries import TargetSummary

# Guard digits: the Hessian by central differences is accurate to about 2/3 of the working digits, so the
# working precision is dps + GUARD to keep 10^-(dps+5) gradients and dps correct digits of F.
GUARD = 30


@dataclass(frozen=True)
class PolishResult:
    """The polished point (float64 copy), F as a decimal string with ``dps`` digits, the final gradient norm,
    the optimal beta (strings), the Newton steps taken, and the Hessian spectrum at the final point."""

    point: np.ndarray
    value: str
    grad_norm: float
    beta: tuple[str, ...]
    steps: int
    converged: bool
    dps: int
    hessian: HessianSpectrum


def polish(point: np.ndarray, summary: TargetSummary, *, dps: int = 30, max_steps: int = 12, zero_tol: float = 1e-12) -> PolishResult:
    """Newton-polish one frame (M, d) to ``dps`` digits and return the Hessian spectrum there.

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> from theory.sphere import sphere_average_mp
    >>> from theory.etf import simplex_etf
    >>> relu = get_activation("relu")
    >>> from theory.summaries import IsotropicSummary
    >>> s = IsotropicSummary(relu, 2, 1.0, sphere_average_mp(relu, 2, 50))
    >>> x = simplex_etf(3, 2) + 1e-6 * np.random.default_rng(0).standard_normal((3, 2))
    >>> res = polish(x / np.linalg.norm(x, axis=1, keepdims=True), s, dps=30)
    >>> res.converged, res.hessian.zero, res.hessian.positive   # one rotation direction, two curved ones
    (True, 1, 2)
    """
    work = dps + GUARD
    with mpmath.workdps(work):
        units = [[mpmath.mpf(float(x)) for x in row] for row in np.asarray(point, dtype=float)]
        units = [[x / mpmath.sqrt(mpmath.fsum(y * y for y in row)) for x in row] for row in units]
        target = mpmath.mpf(10) ** (-(dps + 5))
        # Chord Newton: the Hessian from the start point is reused (it is within ~||x0 - x*|| of the Hessian at
        # the optimum, so every step multiplies the gradient by about that factor); a fresh Hessian is built
        # when a step fails to reduce the gradient by 10x, and always at the end for the spectrum.
        H, bases, g = hessian_mp(units, summary, work)
        solve = _pseudo_solver(H, zero_tol)
        gnorm = mpmath.sqrt(mpmath.fsum(x * x for x in g))
        steps, converged = 0, bool(gnorm < target)
        while not converged and steps < max_steps:
            s = solve(g)
            _, _, units = pullback_gradient_mp(units, bases, s, summary, work)
            steps += 1
            bases = [tangent_basis(u, work) for u in units]
            g, _, _ = pullback_gradient_mp(units, bases, [mpmath.mpf(0)] * len(s), summary, work)
            new_norm = mpmath.sqrt(mpmath.fsum(x * x for x in g))
            if new_norm > gnorm / 10:
                H, bases, g = hessian_mp(units, summary, work)
                solve = _pseudo_solver(H, zero_tol)
            gnorm = new_norm
            converged = bool(gnorm < target)
        H, _, _ = hessian_mp(units, summary, work)
        value, beta, _ = value_and_gradient_mp(units, summary, work)
        spec = spectrum(H, work, zero_tol)
        return PolishResult(
            point=np.array([[float(x) for x in row] for row in units]),
            value=mpmath.nstr(value, dps, strip_zeros=False),
            grad_norm=float(gnorm),
            beta=tuple(mpmath.nstr(x, dps) for x in beta),
            steps=steps,
            converged=converged,
            dps=dps,
            hessian=spec,
        )


def _pseudo_solver(H, zero_tol: float):
    """s = -H^+ g on the eigenvectors of H with |lambda| > zero_tol * max |lambda|, H^+ from float64 ``eigh``.

    A chord-Newton preconditioner, not a certificate: each step contracts the gradient by about
    max(1e-16 cond(H), ||x - x*||), and convergence is judged by the gradient at full precision. (flint has no
    orthonormal eigenvectors for the clustered rotation eigenvalues of H, and mpmath's eigsy costs more than
    the whole polish.) The product with g runs at full precision."""
    n = H.rows
    A = np.array([[float(H[r, c]) for c in range(n)] for r in range(n)])
    ev, Q = np.linalg.eigh((A + A.T) / 2)
    scale = float(np.max(np.abs(ev))) if n else 1.0
    keep = np.abs(ev) > zero_tol * scale
    P = (Q[:, keep] / ev[keep]) @ Q[:, keep].T
    rows = [[mpmath.mpf(float(x)) for x in row] for row in P]

    def solve(g):
        return [-mpmath.fsum(a * b for a, b in zip(row, g)) for row in rows]

    return solve

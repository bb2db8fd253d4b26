"""Batched Riemannian L-BFGS on (S^{d-1})^M: many starts advance together along a batch axis.

Each start keeps its own memory of the last ``memory`` pairs (s_k, y_k), transported by projection;
the two-loop recursion, the Armijo backtracking line search and the stopping test act per start.

References: Huang, Gallivan, Absil, "A Broyden class of quasi-Newton methods for Riemannian optimization",
SIAM J. Optim. 25 (2015) (Riemannian L-BFGS); Nocedal & Wright, "Numerical Optimization", Alg. 7.4.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from conjecture.cost import ReducedCost
from conjecture.manifold import SphereProduct
from theory.errors import InputError

# Armijo sufficient-decrease constant and backtracking factor (Nocedal & Wright, sec. 3.1 defaults).
ARMIJO_C1 = 1e-4
BACKTRACK = 0.5
MAX_BACKTRACKS = 40
# Largest step any single neuron may take, in radians-ish units of the tangent vector (keeps starts local).
MAX_ROW_STEP = 0.5
# A start whose value has decreased by less than STALL_RTOL |F| for STALL_ITERS consecutive iterations has
# reached the float64 floor of F (about 1e-16 |F|): further iterations cannot be distinguished from noise.
STALL_RTOL = 1e-14
STALL_ITERS = 5


@dataclass(frozen=True)
class RefineResult:
    """Outcome of a batched run: final points (B, M, d), values, beta*, gradient norms, iterations, reasons."""

    points: np.ndarray
    values: np.ndarray
    betas: np.ndarray
    grad_norms: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    evaluations: int
    seconds: float

    @property
    def best(self) -> int:
        """Index of the start with the lowest value."""
        return int(np.argmin(self.values))


def refine(cost: ReducedCost, starts: np.ndarray, *, gtol: float = 1e-10, max_iter: int = 500, memory: int = 8) -> RefineResult:
    """Minimise F over (S^{d-1})^M from every start in ``starts`` (B, M, d) at once.

    Stops a start when its Riemannian gradient norm is below ``gtol`` or after ``max_iter`` iterations.

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> from theory.summaries import IsotropicSummary
    >>> from theory.sphere import sphere_average_mp
    >>> relu = get_activation("relu")
    >>> cost = ReducedCost(IsotropicSummary(relu, 2, 1.0, sphere_average_mp(relu, 2)))
    >>> x0 = SphereProduct(3, 2).random(np.random.default_rng(1), 8)
    >>> res = refine(cost, x0)
    >>> g = res.points[res.best] @ res.points[res.best].T   # ETF Gram: off-diagonal -1/2
    >>> bool(np.allclose(g[~np.eye(3, dtype=bool)], -0.5, atol=1e-6))
    True
    """
    x = np.array(starts, dtype=float)
    if x.ndim != 3 or not np.all(np.isfinite(x)):
        raise InputError("starts", "expected a finite array of shape (B, M, d)", got=np.shape(starts))
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    B, M, d = x.shape
    man = SphereProduct(M, d)
    t0 = time.perf_counter()
    ev = cost.evaluate(x)
    evaluations = B
    f, g, beta = ev.value.copy(), ev.gradient.copy(), ev.beta.copy()
    S = np.zeros((memory, B, M, d))
    Y = np.zeros((memory, B, M, d))
    R = np.zeros((memory, B))  # 1 / <s, y>; 0 marks an empty slot
    count = np.zeros(B, dtype=int)
    iters = np.zeros(B, dtype=int)
    gn = man.norm(g)
    active = gn > gtol
    stalled = np.zeros(B, dtype=int)
    for _ in range(max_iter):
        if not np.any(active):
            break
        idx = np.flatnonzero(active)
        # two-loop recursion on the active starts
        q = g[idx].copy()
        alpha = np.zeros((memory, idx.size))
        order = [(count[idx] - 1 - k) % memory for k in range(memory)]
        for k in range(memory):
            slot = order[k]
            s_k, y_k, r_k = S[slot, idx], Y[slot, idx], R[slot, idx]
            a = r_k * man.inner(s_k, q)
            alpha[k] = a
            q -= a[:, None, None] * y_k
        last = (count[idx] - 1) % memory
        s_l, y_l, r_l = S[last, idx], Y[last, idx], R[last, idx]
        yy = man.inner(y_l, y_l)
        gamma = np.where((r_l > 0) & (yy > 0), 1.0 / np.maximum(r_l * yy, 1e-300), 1.0)
        p = gamma[:, None, None] * q
        for k in reversed(range(memory)):
            slot = order[k]
            s_k, y_k, r_k = S[slot, idx], Y[slot, idx], R[slot, idx]
            bcoef = r_k * man.inner(y_k, p)
            p += (alpha[k] - bcoef)[:, None, None] * s_k
        p = -man.project(x[idx], p)
        slope = man.inner(g[idx], p)
        bad = ~(slope < 0) | ~np.all(np.isfinite(p), axis=(1, 2))
        if np.any(bad):  # not a descent direction: restart memory with steepest descent
            p[bad] = -g[idx][bad]
            slope[bad] = -man.inner(g[idx][bad], g[idx][bad])
            R[:, idx[bad]] = 0.0
        rowmax = np.max(np.linalg.norm(p, axis=-1), axis=-1)
        step = np.minimum(1.0, MAX_ROW_STEP / np.maximum(rowmax, 1e-300))
        # Armijo backtracking, vectorised over the starts still searching
        x_new = np.empty_like(x[idx])
        f_new = np.full(idx.size, np.inf)
        g_new = np.empty_like(g[idx])
        b_new = np.empty_like(beta[idx])
        todo = np.arange(idx.size)
        for _ in range(MAX_BACKTRACKS):
            trial = man.retract(x[idx[todo]], step[todo, None, None] * p[todo])
            evt = cost.evaluate(trial)
            evaluations += todo.size
            ok = evt.value <= f[idx[todo]] + ARMIJO_C1 * step[todo] * slope[todo]
            ok &= np.isfinite(evt.value)
            acc = todo[ok]
            x_new[acc], f_new[acc], g_new[acc], b_new[acc] = trial[ok], evt.value[ok], evt.gradient[ok], evt.beta[ok]
            todo = todo[~ok]
            if todo.size == 0:
                break
            step[todo] *= BACKTRACK
        failed = np.zeros(idx.size, dtype=bool)
        failed[todo] = True
        moved = idx[~failed]
        sel = ~failed
        s_new = man.transport(x_new[sel], step[sel, None, None] * p[sel])
        y_new = g_new[sel] - man.transport(x_new[sel], g[moved])
        sy = man.inner(s_new, y_new)
        slot = count[moved] % memory
        # transport the stored pairs of the moved starts to their new tangent spaces
        for k in range(memory):
            S[k, moved] = man.transport(x_new[sel], S[k, moved])
            Y[k, moved] = man.transport(x_new[sel], Y[k, moved])
        S[slot, moved] = s_new
        Y[slot, moved] = y_new
        R[slot, moved] = np.where(sy > 1e-300, 1.0 / np.where(sy > 1e-300, sy, 1.0), 0.0)
        count[moved] += 1
        gain = f[moved] - f_new[sel]
        stalled[moved] = np.where(gain <= STALL_RTOL * np.abs(f_new[sel]) + 1e-300, stalled[moved] + 1, 0)
        x[moved], f[moved], g[moved], beta[moved] = x_new[sel], f_new[sel], g_new[sel], b_new[sel]
        iters[idx] += 1
        gn[moved] = man.norm(g[moved])
        active[idx[failed]] = False  # the line search cannot decrease F further at float64 precision
        active[moved] = (gn[moved] > gtol) & (stalled[moved] < STALL_ITERS)
    return RefineResult(points=x, values=f, betas=beta, grad_norms=gn, iterations=iters, converged=gn <= gtol,
                        evaluations=evaluations, seconds=time.perf_counter() - t0)

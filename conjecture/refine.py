"""Batched Riemannian optimisation on (S^{d-1})^M: many starts advance together along a batch axis.

Phase 1, L-BFGS: each start keeps its own memory of the last ``memory`` pairs (s_k, y_k), transported by
projection; the two-loop recursion, the Armijo backtracking line search and the stopping test act per start.
Phase 2, trust regions (signed beta, where the cost has an analytic Hessian): a start whose gradient has fallen
below SWITCH_RTOL times its initial norm (SWITCH_RTOL = 1: every start, at once) continues with the Riemannian
trust-region method, truncated CG (Steihaug-Toint) on the exact Hessian (in regime I, where F(x Q) = F(x), made
positive along the rotation orbit by a term that vanishes on the orbit's orthogonal complement), batched over the
starts still in CG. Each start keeps the Hessian data of the evaluation that accepted its point (one cost
evaluation per iteration); for large frames the model's Hessian products run in float32. It follows negative
curvature out of the saddle regions where L-BFGS crawls (M > d + 1) and converges quadratically to
||grad|| <= gtol where L-BFGS is linear. Measured (benchmarks/bench_search.py, 16 starts): trust regions from the start beat L-BFGS first and
trust regions after ||grad|| <= 1e-1 or 1e-2 ||grad_0|| in time and in the fraction reaching the best F at
(16, 8), (32, 31) and (64, 63); the beta >= 0 cost (no Hessian) uses L-BFGS only.
At M = d + 1 the landscape is easy for L-BFGS (scipy needs ~60 evaluations per start at (64, 63), 40 at (32, 31)),
while trust regions spend ~19 iterations (one evaluation each) and ~80 Hessian products per start at (64, 63), most
of them following negative curvature with a radius the model allows to grow no further than ~1.5. With the orbit
stiffener folded into the Hessian products and float32 products for large frames the search is 3.2x faster than
scipy per start there (0.0254 vs 0.0804 s/start, all 16 starts at the best F against 15 for scipy; 4.1x at
(32, 31), 7.6x at (16, 8); quiet machine, 2026-12-01). L-BFGS first, backtracking along rejected steps, other
radius rules and steeper forcing terms were measured and gained nothing there or lost starts elsewhere.

BLAS runs on one thread inside ``refine`` (threadpoolctl): the matrices are small (M <= 64), so threads cost
more than they save; parallelism belongs to the batch axis and to the cells.

References: Huang, Gallivan, Absil, "A Broyden class of quasi-Newton methods for Riemannian optimization",
SIAM J. Optim. 25 (2015) (Riemannian L-BFGS); Nocedal & Wright, "Numerical Optimization", Alg. 7.4 and 7.2
(Steihaug CG); Absil, Baker, Gallivan, "Trust-region methods on Riemannian manifolds", FoCM 7 (2007).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from conjecture.cost import HessianData, ReducedCost
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
# L-BFGS hands a start to the trust-region phase once ||grad|| <= SWITCH_RTOL ||grad_0|| (1: immediately).
SWITCH_RTOL = 1.0
# Trust-region constants (Absil, Baker, Gallivan 2007; pymanopt's defaults): accept when rho > TR_ACCEPT, radius
# /4 when rho < 1/4, x2 (capped) when rho > 3/4 on the boundary. tCG stops at ||r|| <= ||g|| min(||g|| / ||g_0||,
# 0.1) with g_0 the gradient where the phase began: superlinear like pymanopt's min(||g||, 0.1), but independent of
# the scale of F (F ~ 1e-4 here made pymanopt's rule demand 1e-4 relative residuals far from the optimum; measured:
# 16% fewer Hessian products at (32, 31), 12% at (64, 63), 25% at (8, 7), the same trust-region iterations).
TR_ACCEPT = 0.1
TR_KAPPA = 0.1
# rho's numerator and denominator get RHO_REG eps max(1, |F|) added: at the float64 floor of F both are noise.
RHO_REG = 1e3
# Regime I: the model's Hessian gets mu T T^* added along the rotation orbit (``_Model``), mu = ORBIT_STIFFNESS
# mean_j |<egrad_j, v_j>|. Without it CG wanders into the orbit's O(||grad||) curvature (Hessian products per start,
# 16 Haar starts: (32, 31) 657, (64, 63) 1650); with it, (32, 31) 58, (64, 63) 80, as few as with the exact
# projection onto the orbit's complement, which costs a d x d eigendecomposition per iteration and more products
# per CG step (about 30% more CPU time at (64, 63)); stiffness 0.15 and 1.5 need the same products as 0.5.
ORBIT_STIFFNESS = 0.5
# From M d = SINGLE_MODEL_MIN on, the model's Hessian products and the truncated-CG recurrences run in float32
# (F, the gradient, rho and the accepted points stay float64; the CG vectors in float32 too since this session:
# (64, 63) 2.8x -> 3.05-3.5x scipy's time per start, same iterations, final gradients and best F): a mixed-precision inexact Newton model, with relative error ~1e-7 where tCG asks for at
# most ||r|| <= 0.1 ||g|| early and gtol / ||g_0|| ~ 1e-6 at the end. Measured (16 Haar starts, gtol 1e-8): the
# same trust-region iterations, Hessian products and final values at (16, 15), (32, 31), (64, 63); CPU time -25%
# at (64, 63), -6% at (32, 31), none at (16, 15) (products are not the cost there); at (16, 8) (ill-conditioned
# Hessians) 15% more products.
SINGLE_MODEL_MIN = 500
# A start stops when its radius falls below TR_MIN_RADIUS (the step no longer changes the point in float64).
TR_MIN_RADIUS = 1e-13

_CONTROLLER = None


def _single_thread_blas():
    """A context with BLAS on one thread (the threadpoolctl controller is built once: 0.02 ms per use, not 0.4)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


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

    Stops a start when its Riemannian gradient norm is below ``gtol``, after ``max_iter`` iterations (L-BFGS and
    trust-region together), or when F stalls at float64 resolution. ``evaluations`` counts cost evaluations per
    start (Hessian-vector products, which reuse an evaluation's factorisation, are not counted).

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
    second = cost.beta_mode == "signed"
    with _single_thread_blas():
        ev, data = cost.evaluate_with_hessian(x.copy()) if second else (cost.evaluate(x), None)
        st = _State(x, ev.value.copy(), ev.gradient.copy(), ev.beta.copy(), man.norm(ev.gradient), np.zeros(B, dtype=int), B)
        switch = np.maximum(gtol, SWITCH_RTOL * st.gn) if second else np.full(B, gtol)
        _lbfgs(cost, man, st, switch, max_iter, memory)
        if second:
            moved = np.any(st.iters > 0)  # L-BFGS moved some start: the Hessian data is re-evaluated
            _trust_regions(cost, man, st, (st.gn > gtol) & (st.iters < max_iter), gtol, max_iter, None if moved else data)
    return RefineResult(points=st.x, values=st.f, betas=st.beta, grad_norms=st.gn, iterations=st.iters,
                        converged=st.gn <= gtol, evaluations=st.evaluations, seconds=time.perf_counter() - t0)


@dataclass
class _State:
    """The batch being optimised (updated in place by both phases)."""

    x: np.ndarray
    f: np.ndarray
    g: np.ndarray
    beta: np.ndarray
    gn: np.ndarray
    iters: np.ndarray
    evaluations: int

    def accept(self, rows: np.ndarray, x: np.ndarray, ev, gn: np.ndarray) -> None:
        self.x[rows], self.f[rows], self.g[rows], self.beta[rows], self.gn[rows] = x, ev.value, ev.gradient, ev.beta, gn


def _lbfgs(cost: ReducedCost, man: SphereProduct, st: _State, tol: np.ndarray, max_iter: int, memory: int) -> None:
    """L-BFGS until ||grad|| <= tol (per start), a stall, a failed line search or max_iter."""
    B, M, d = st.x.shape
    S = np.zeros((B, memory, M, d))
    Y = np.zeros((B, memory, M, d))
    R = np.zeros((B, memory))  # 1 / <s, y>; 0 marks an empty slot
    count = np.zeros(B, dtype=int)
    stalled = np.zeros(B, dtype=int)
    active = (st.gn > tol) & (st.iters < max_iter)
    inner = man.inner
    while np.any(active):
        idx = np.flatnonzero(active)
        n = idx.size
        x, g, f = st.x[idx], st.g[idx], st.f[idx]
        # two-loop recursion on the active starts, memory gathered newest first
        order = (count[idx, None] - 1 - np.arange(memory)) % memory
        Sk, Yk, Rk = S[idx[:, None], order], Y[idx[:, None], order], R[idx[:, None], order]
        q = g.copy()
        alpha = np.zeros((n, memory))
        for k in range(memory):
            alpha[:, k] = Rk[:, k] * inner(Sk[:, k], q)
            q -= alpha[:, k, None, None] * Yk[:, k]
        yy = inner(Yk[:, 0], Yk[:, 0])
        gamma = np.where((Rk[:, 0] > 0) & (yy > 0), 1.0 / np.maximum(Rk[:, 0] * yy, 1e-300), 1.0)
        p = gamma[:, None, None] * q
        for k in reversed(range(memory)):
            p += (alpha[:, k] - Rk[:, k] * inner(Yk[:, k], p))[:, None, None] * Sk[:, k]
        p = -man.project(x, p)
        slope = inner(g, p)
        bad = ~(slope < 0) | ~np.all(np.isfinite(p), axis=(1, 2))
        if np.any(bad):  # not a descent direction: restart memory with steepest descent
            p[bad] = -g[bad]
            slope[bad] = -inner(g[bad], g[bad])
            R[idx[bad]] = 0.0
        rowmax = np.max(np.linalg.norm(p, axis=-1), axis=-1)
        step = np.minimum(1.0, MAX_ROW_STEP / np.maximum(rowmax, 1e-300))
        # Armijo backtracking, vectorised over the starts still searching
        x_new = np.empty_like(x)
        f_new = np.full(n, np.inf)
        g_new = np.empty_like(g)
        b_new = np.empty((n, M))
        todo = np.arange(n)
        for _ in range(MAX_BACKTRACKS):
            trial = man.retract(x[todo], step[todo, None, None] * p[todo])
            evt = cost.evaluate(trial)
            st.evaluations += todo.size
            ok = (evt.value <= f[todo] + ARMIJO_C1 * step[todo] * slope[todo]) & np.isfinite(evt.value)
            acc = todo[ok]
            x_new[acc], f_new[acc], g_new[acc], b_new[acc] = trial[ok], evt.value[ok], evt.gradient[ok], evt.beta[ok]
            todo = todo[~ok]
            if todo.size == 0:
                break
            step[todo] *= BACKTRACK
        sel = np.ones(n, dtype=bool)
        sel[todo] = False
        moved = idx[sel]
        xm = x_new[sel]
        s_new = man.transport(xm, step[sel, None, None] * p[sel])
        y_new = g_new[sel] - man.transport(xm, g[sel])
        sy = inner(s_new, y_new)
        slot = count[moved] % memory
        # transport the stored pairs of the moved starts to their new tangent spaces
        S[moved] = man.project(xm[:, None], S[moved])
        Y[moved] = man.project(xm[:, None], Y[moved])
        S[moved, slot], Y[moved, slot] = s_new, y_new
        R[moved, slot] = np.where(sy > 1e-300, 1.0 / np.where(sy > 1e-300, sy, 1.0), 0.0)
        count[moved] += 1
        gain = f[sel] - f_new[sel]
        stalled[moved] = np.where(gain <= STALL_RTOL * np.abs(f_new[sel]) + 1e-300, stalled[moved] + 1, 0)
        st.x[moved], st.f[moved], st.g[moved], st.beta[moved] = xm, f_new[sel], g_new[sel], b_new[sel]
        st.gn[moved] = man.norm(g_new[sel])
        st.iters[idx] += 1
        active[idx[~sel]] = False  # the line search cannot decrease F further at float64 precision
        active[moved] = (st.gn[moved] > tol[moved]) & (stalled[moved] < STALL_ITERS) & (st.iters[moved] < max_iter)


class _Model:
    """The quadratic model's Hessian at the starts of one trust-region iteration: Hess F, plus (where F(x Q) = F(x))
    the orbit stiffener mu T T^* with T A = x A^T (A skew) and T^* v = skew(v^T x), i.e.
    v -> mu x (x^T v - v^T x) added. T^* vanishes on horizontal vectors (x^T v symmetric), so the model is unchanged
    there; along the orbit, where Hess F has only O(||grad||) curvature of either sign, it adds about
    mu (lambda_a + lambda_b), lambda = eig(x^T x)."""

    def __init__(self, data: HessianData, x: np.ndarray, mu: np.ndarray | None, a2: np.ndarray | None = None):
        self.data, self.x, self.mu = data, x, mu  # x: the frames, equal to data.units
        self.a2 = None if mu is None else (data.orbit_operand(mu) if a2 is None else a2)

    def take(self, rows: np.ndarray) -> "_Model":
        if self.mu is None:
            return _Model(self.data.take(rows), self.x[rows], None)
        return _Model(self.data.take(rows), self.x[rows], self.mu[rows], self.a2[rows])

    def __call__(self, v: np.ndarray) -> np.ndarray:
        dtype = v.dtype
        v = v.astype(self.x.dtype, copy=False)
        h = self.data.apply(v, None if self.mu is None else (self.mu, self.a2))  # the stiffener folded in
        return h.astype(dtype, copy=False)

    def single(self) -> "_Model":
        """The same model with its data in float32 (products in single precision, the CG vectors stay float64)."""
        f = lambda a: a.astype(np.float32)  # noqa: E731
        return _Model(HessianData(tuple(f(a) for a in self.data.arrays), self.data.summary), f(self.x),
                      None if self.mu is None else f(self.mu), None if self.mu is None else f(self.a2))


def _tcg(model: _Model, man: SphereProduct, g: np.ndarray, gn: np.ndarray, radius: np.ndarray, forcing: np.ndarray):
    """Truncated CG (Steihaug-Toint) on the model <g, eta> + <eta, H eta>/2, ||eta|| <= radius, batched; a start
    stops at ||r|| <= forcing ||g||, on negative curvature or on the boundary.

    The work arrays hold only the starts still iterating (compacted when one stops), so every update is a
    whole-array operation; H eta = r - g needs no update of its own. Returns eta, H eta and whether eta lies on
    the boundary."""
    n = g.shape[0]
    ETA, HETA, EDGE = np.zeros_like(g), np.zeros_like(g), np.zeros(n, dtype=bool)
    rr = man.inner(g, g)
    k = np.flatnonzero(rr > 0)
    op = model if k.size == n else model.take(k)
    g0 = g[k]
    r = g0.copy()
    eta, delta = np.zeros_like(r), -r  # H eta = r - g along the CG path
    rr, rad2, stop = rr[k], radius[k] ** 2, (gn * forcing)[k]
    e_e, e_d, d_d = np.zeros(k.size), np.zeros(k.size), rr.copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(man.dim):
            if k.size == 0:
                break
            hd = op(delta)
            kap = man.inner(delta, hd)
            alpha = rr / kap
            een = e_e + 2 * alpha * e_d + alpha**2 * d_d
            out = ~(kap > 0) | ~(een < rad2)
            if np.any(out):  # follow delta to the boundary: tau >= 0 with ||eta + tau delta|| = radius
                ed, dd = e_d[out], d_d[out]
                tau = ((-ed + np.sqrt(ed**2 + dd * (rad2[out] - e_e[out]))) / dd)[:, None, None]
                o = k[out]
                ETA[o], HETA[o], EDGE[o] = eta[out] + tau * delta[out], r[out] - g0[out] + tau * hd[out], True
                alpha = np.where(out, 0.0, alpha)
            a3 = alpha[:, None, None]
            eta += a3 * delta
            r += a3 * hd
            rr_new = man.inner(r, r)
            e_e = een
            conv = ~out & (np.sqrt(rr_new) <= stop)
            if np.any(conv):
                ETA[k[conv]], HETA[k[conv]] = eta[conv], r[conv] - g0[conv]
            beta = rr_new / rr
            delta *= beta[:, None, None]
            delta -= r
            e_d = beta * (e_d + alpha * d_d)
            d_d = rr_new + beta**2 * d_d
            rr = rr_new
            done = out | conv
            if np.any(done):
                keep = ~done
                k, op = k[keep], op.take(keep)
                eta, r, delta, g0 = eta[keep], r[keep], delta[keep], g0[keep]
                rr, rad2, stop, e_e, e_d, d_d = rr[keep], rad2[keep], stop[keep], e_e[keep], e_d[keep], d_d[keep]
    if k.size:  # the dimension of the space reached
        ETA[k], HETA[k] = eta, r - g0
    return ETA, HETA, EDGE


def _trust_regions(cost: ReducedCost, man: SphereProduct, st: _State, todo: np.ndarray, gtol: float, max_iter: int,
                   data: HessianData | None = None) -> None:
    """Riemannian trust regions with the exact Hessian until ||grad|| <= gtol, a stall, a collapsed radius or max_iter.

    The Hessian data of every start is kept from the evaluation that accepted its point (``data``: at st.x, or
    None to evaluate it here). Where F(x Q) = F(x) (regime I), the model carries the orbit stiffener (``_Model``)
    with mu = ORBIT_STIFFNESS mean_j |<egrad_j, v_j>| (the Weingarten scale of the Hessian, no extra work)."""
    B = st.x.shape[0]
    if not np.any(todo):
        return
    if data is None:
        ev, data = cost.evaluate_with_hessian(st.x.copy())
        st.evaluations += B
    radius_max = np.pi * np.sqrt(man.M)  # pymanopt's typical distance of the oblique manifold
    radius = np.full(B, radius_max / 8)
    gn0 = np.maximum(st.gn, np.finfo(float).tiny)  # the forcing term is relative to the phase's first gradient
    stalled = np.zeros(B, dtype=int)
    active = todo.copy()
    eps = np.finfo(float).eps
    # F(x Q) = F(x) for every orthogonal Q when b is constant (regime I); otherwise only a subgroup fixes F
    stiffen = not np.any(data.arrays[6])
    single = man.M * man.d >= SINGLE_MODEL_MIN and data.summary is None  # grad b differenced: stay float64
    while np.any(active):
        idx = np.flatnonzero(active)
        x, g, gn, f = st.x[idx], st.g[idx], st.gn[idx], st.f[idx]
        mu = ORBIT_STIFFNESS * np.mean(np.abs(data.arrays[7][idx]), axis=(1, 2)) if stiffen else None
        model = _Model(data if idx.size == B else data.take(idx), x, mu)
        if single:
            model = model.single()
        if single:  # CG vectors in float32 too, like the model's products: half the memory traffic
            eta, heta, edge = _tcg(model, man, g.astype(np.float32), gn.astype(np.float32),
                                   radius[idx].astype(np.float32), np.minimum(gn / gn0[idx], TR_KAPPA).astype(np.float32))
            eta, heta = eta.astype(float), heta.astype(float)
        else:
            eta, heta, edge = _tcg(model, man, g, gn, radius[idx], np.minimum(gn / gn0[idx], TR_KAPPA))
        mval = man.inner(g, eta) + 0.5 * man.inner(eta, heta)
        poor = ~(mval < 0)
        if np.any(poor):  # rounding spoilt the CG model: take the Cauchy step instead
            p = np.flatnonzero(poor)
            hg = model.take(p)(g[p])
            ghg = man.inner(g[p], hg)
            tau = np.where(ghg > 0, np.minimum(1.0, gn[p] ** 3 / np.maximum(radius[idx[p]] * ghg, 1e-300)), 1.0)
            c = (tau * radius[idx[p]] / np.maximum(gn[p], 1e-300))[:, None, None]
            eta[p], heta[p], edge[p] = -c * g[p], -c * hg, tau >= 1.0
            mval[p] = man.inner(g[p], eta[p]) + 0.5 * man.inner(eta[p], heta[p])
        x_new = man.retract(x, eta)
        ev, parts = cost.evaluate_parts(x_new)
        st.evaluations += idx.size
        reg = RHO_REG * eps * np.maximum(1.0, np.abs(f))
        rho = (f - ev.value + reg) / (-mval + reg)
        good = np.isfinite(ev.value) & np.isfinite(rho)
        rho = np.where(good, rho, -np.inf)
        rad = radius[idx]
        rad = np.where(rho < 0.25, rad / 4, np.where((rho > 0.75) & edge, np.minimum(2 * rad, radius_max), rad))
        radius[idx] = rad
        acc = rho > TR_ACCEPT
        rows = idx[acc]
        if rows.size:
            gain = f[acc] - ev.value[acc]
            stalled[rows] = np.where(gain <= STALL_RTOL * np.abs(ev.value[acc]) + 1e-300, stalled[rows] + 1, 0)
            st.accept(rows, x_new[acc], _take(ev, acc), man.norm(ev.gradient[acc]))
            data.put(rows, cost.hessian_data(x_new[acc], ev.beta[acc], tuple(q[acc] for q in parts)))
        st.iters[idx] += 1
        active[idx] = ((st.gn[idx] > gtol) & (st.iters[idx] < max_iter) & (radius[idx] > TR_MIN_RADIUS)
                       & (stalled[idx] < STALL_ITERS))


@dataclass(frozen=True)
class _Rows:
    value: np.ndarray
    gradient: np.ndarray
    beta: np.ndarray


def _take(ev, mask: np.ndarray) -> _Rows:
    return _Rows(ev.value[mask], ev.gradient[mask], ev.beta[mask])

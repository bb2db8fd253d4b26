"""The exact finite-N population loss in float64, blocked and vectorised, with an a-priori rounding bound.

    L_N(theta) = E_x (f_N(x) - g(x))^2
               = (1/N^2) sum_{i,k} alpha_i alpha_k kappa(rho_ik) - (2/N) sum_{i,j} alpha_i beta_j kappa(rho_ij)
                 + sum_{j,l} beta_j beta_l kappa(rho_jl),
    alpha_i = a_i ||w_i||^n, beta_j = b_j ||v_j||^n, rho = <u^, v^>,

from E sigma(<u,x>) sigma(<v,x>) = ||u||^n ||v||^n kappa(<u^, v^>) for a degree-n homogeneous sigma and
x ~ N(0, I_d).  No sampling.  The target-target term costs N^2 d: it is computed once, in symmetric tiles
(no N x N array is ever formed), and cached in a ``PreparedTarget``; each further theta costs N M d.

Rounding bound (standard model, u = 2^-53, every |kappa(rho)| <= kappa(1) by Cauchy-Schwarz):
    |fl(L_N) - L_N| <= E_abs * ( kappa(1) * (gamma_S + (n (d + 4) + 7) u) + e_kappa ),
    E_abs = ((1/N) sum |alpha_i| + sum |beta_j|)^2,  gamma_S = S u / (1 - S u), S = 2 N + M + 2,
    e_kappa = Lip(kappa) (2 d + 8) u + 16 u (|p| + |q|)^2 k_n(1)          (n >= 1),
    e_kappa = (|p| + |q|)^2 / 2 * sqrt((2 d + 8) u) + 16 u (|p| + |q|)^2 / 2   (n = 0, kappa is 1/2-Hoelder).
Here (2 d + 8) u bounds the error of a computed cosine rho, gamma_S the summation error of a tiled
dot product, n (d + 4) u the error of the scaling factors, and e_kappa the propagated cosine error
plus the few ulps of the arccos/sqrt formula.  The tiled fast path (p q = 0: relu, relu^n, step)
evaluates J_n(rho) = kappa(rho) / plus from x = fl(-rho) = -fl(rho) (negation is exact and BLAS rounds
symmetrically), with pi - arccos(rho) = arccos(x) in one call (one ulp-level error instead of an arccos
and a subtraction) and no per-element factor plus; plus multiplies the summed tiles once: one more
relative rounding of the self term (|self term| <= E_abs kappa(1)), counted by the 7th u of the relative
term.  Every element carries no more roundings than in ``FastKappa.evaluate``, so the bound holds for
both paths.  sin(theta) is sqrt((1 - rho)(1 + rho)) on every path: the textbook 1 - rho*rho loses up to
2^-28 relative next to |rho| = 1 (3.6e-14 in kappa at rho = 1 - 2^26 u), which broke the allowance and,
for two nearly parallel neurons, the bound itself (tests/test_numerics_loss.py).  When the optional C
extension is built (numerics.compiled), the fast path's J_n and the weighted row sums of each tile are one
fused loop whose arccos is a polynomial; numerics.compiled.asin_bound certifies its J_n error at 9.3, 18.1,
69 and 515 u for n = 0..3, inside the allowance 16 u J_n(1) = 50, 50, 151 and 754 u, so the same bound
holds.  It is a worst-case bound; observed errors against the arb enclosure (numerics.interval_loss)
are typically 10^3-10^5 times smaller.

References: MODEL.md sections 1-2; Cho & Saul (2009) for kappa; Higham, "Accuracy and Stability of
Numerical Algorithms" (2002), section 3.1 for gamma_n.

Examples
--------
>>> import numpy as np
>>> W = np.array([[1.0, 0.0], [0.0, 1.0]])
>>> res = exact_population_loss([1.0, 1.0], W, [0.5], [[1.0, 0.0]], "relu")
>>> round(res.value, 12)   # (1/4)(1/2 + 1/2 + 2/(2 pi)) - (1/2)(1/2 + 1/(2 pi)) + 1/8
0.125
>>> res.error_bound < 1e-14
True
"""

from __future__ import annotations

import enum
import math
import os
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from numerics.compiled.kernel import CompiledKernel, compiled_kernel
from numerics.kappa import K_N_AT_ONE, FastKappa
from numerics.networks import NetworkPair, row_norms, validate_student, validate_target
from theory.activations import Activation, get_activation

UNIT_ROUNDOFF = 2.0**-53
FORMULA_ULPS = 16  # the kernel formula's allowance per element: FORMULA_ULPS u (|p| + |q|)^2 k_n(1)
ROW_TILE = 256
COL_TILE = 2048
CHUNK = 16384  # elements per elementwise pass: 3 live float64 arrays = 384 KiB, inside a 2 MiB L2
LOSS_FORMULA = "L_N = (1/N^2) a'K_TT a - (2/N) a'K_TS b + b'K_SS b, K = |u|^n |v|^n kappa(<u^,v^>) (MODEL.md s.1-2)"


class LossStatus(enum.Enum):
    """How a LossResult's error_bound is to be read."""

    ROUNDING_BOUND = "a-priori float64 rounding bound"
    CERTIFIED = "certified enclosure (ball arithmetic)"
    STATISTICAL = "Monte Carlo standard error (not a bound)"


@dataclass(frozen=True)
class LossResult:
    """L_N(theta) with its error bound, the three terms, and how it was computed.

    ``terms`` = (target-target, -2 x cross, student-student); ``value`` = their sum (for Monte Carlo:
    the sample means of f^2, -2 f g and g^2, whose sum is ``value`` up to rounding, with their standard
    errors in ``term_errors``).  A certified result also has ``enclosure`` = (lower, upper) as decimal
    strings rounded outwards (the lower end clamped at 0 when the ball reaches below it, said in
    ``note``) and ``ball``, arb's own ``[mid +/- rad]`` with the digits the radius leaves.
    """

    value: float
    error_bound: float
    terms: tuple[float, float, float]
    method: str
    precision: str
    status: LossStatus
    n_target: int
    n_student: int
    dim: int
    activation: str
    seed: int | None = None
    source: str = LOSS_FORMULA
    enclosure: tuple[str, str] | None = field(default=None)
    ball: str | None = None
    note: str | None = None
    term_errors: tuple[float, float, float] | None = None

    def as_dict(self) -> dict:
        """JSON-ready view (every number finite; the optional fields only where they are set)."""
        out = {"value": self.value, "error_bound": self.error_bound, "terms": list(self.terms),
               "method": self.method, "precision": self.precision, "status": self.status.name,
               "n_target": self.n_target, "n_student": self.n_student, "dim": self.dim,
               "activation": self.activation, "seed": self.seed, "source": self.source,
               "enclosure": list(self.enclosure) if self.enclosure else None}
        if self.ball is not None:
            out["ball"] = self.ball
        if self.note is not None:
            out["note"] = self.note
        if self.term_errors is not None:
            out["term_errors"] = list(self.term_errors)
        return out


def scaled_units(weights: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows / ||row||, ||row||^degree); a zero row gets a zero unit vector (its neuron is sigma(0) = 0)."""
    norms = row_norms(weights)
    safe = np.where(norms > 0, norms, 1.0)
    return weights / safe[:, None], norms**degree


def _gamma(k: int) -> float:
    return k * UNIT_ROUNDOFF / (1 - k * UNIT_ROUNDOFF)


def _buffers(rows: int, cols: int) -> tuple[np.ndarray, ...]:
    """Five flat scratch arrays of one tile (Gram, kappa and three work arrays), reused across tiles.

    Flat so that every (h, w) tile view is C-contiguous: numpy's matmul and matrix-vector products
    take a slow non-BLAS path when ``out`` or an operand is a strided view.
    """
    return tuple(np.empty(rows * cols) for _ in range(5))


def default_kappa_threads() -> int:
    """Threads for the self term (row blocks, or the elementwise kernel without threadpoolctl):
    $OMP_NUM_THREADS if set (Dask workers set it to 1), else the number of cores, capped at 4."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) >= 1:
        return min(4, int(env))
    return min(4, os.cpu_count() or 1)


def _fast_rows(kap: FastKappa, x: np.ndarray, scratch: tuple[np.ndarray, np.ndarray]) -> None:
    """J_n in place on the rows of x = -rho, CHUNK elements at a time so that the 3 live arrays stay in L2."""
    h, w = x.shape
    step = max(1, CHUNK // w)
    s_flat, t_flat = scratch
    for a in range(0, h, step):
        b = min(a + step, h)
        m = (b - a) * w
        kap.evaluate_negated(x[a:b], s_flat[:m].reshape(b - a, w), t_flat[:m].reshape(b - a, w))


def _row_slices(pool, rows: int) -> list[tuple[int, int]]:
    """The row ranges of one tile that run concurrently: one per pool thread (all rows without a pool)."""
    k = pool._max_workers if pool is not None and rows >= 2 else 1  # noqa: SLF001 - our pool
    edges = np.linspace(0, rows, k + 1).astype(int)
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _run_all(jobs: list, pool) -> list:
    """The jobs' results in order: in the pool (ufuncs and the compiled kernel release the GIL) or here."""
    if pool is None or len(jobs) == 1:
        return [job() for job in jobs]
    return [fut.result() for fut in [pool.submit(job) for job in jobs]]


def _kappa_tile(kap: FastKappa, g: np.ndarray, out: np.ndarray, work, pool, scratch) -> np.ndarray:
    """Fast path (``kap.has_fast_path``): g holds -rho, J_n(rho) replaces it in place (kappa = plus J_n).
    Otherwise g holds rho and kappa(g) goes into ``out``.  With a pool, row slices run concurrently;
    ``scratch`` holds one pair of chunk buffers per slice."""
    slices = _row_slices(pool, g.shape[0])
    if kap.has_fast_path:
        _run_all([partial(_fast_rows, kap, g[a:b], scratch[i]) for i, (a, b) in enumerate(slices)], pool)
        return g
    _run_all([partial(kap.evaluate, g[a:b], out=out[a:b], work=tuple(x[a:b] for x in work)) for a, b in slices],
             pool)
    return out


def _tile_parts(row_sums, alpha: np.ndarray, r0: int, r1: int, c0: int, c1: int) -> list[float]:
    """The contributions of tile [r0, r1) x [c0, c1), given ``row_sums(lo, hi, weights)`` = the kernel rows
    over the tile's columns [lo, hi) times ``weights``.  Off the diagonal a tile counts twice (i < k and k < i);
    on the diagonal tile the square block counts once and the rest twice."""
    h, a_rows = r1 - r0, alpha[r0:r1]
    if c0 != r0:
        return [2.0 * float(a_rows @ row_sums(0, c1 - c0, alpha[c0:c1]))]
    parts = [float(a_rows @ row_sums(0, h, alpha[r0:r1]))]
    if c1 - c0 > h:
        parts.append(2.0 * float(a_rows @ row_sums(h, c1 - c0, alpha[r1:c1])))
    return parts


def _self_rows(r0: int, r1: int, alpha: np.ndarray, units: np.ndarray, lhs: np.ndarray, kap: FastKappa, bufs,
               pool, scratch, compiled: CompiledKernel | None) -> list[float]:
    """Contributions of row block [r0, r1) against columns >= r0 (symmetric tiling), in units of ``plus``
    on the fast path (``lhs`` = -units there, else units).  With ``compiled``, J_n and the weighted row sums
    are one pass of the C kernel over each tile (read once, never written back); on the diagonal tile
    x_ii = -1 exactly, so J_n(1) comes out as ``FastKappa.j_at_one``, bit for bit."""
    n = alpha.size
    parts: list[float] = []
    rows = lhs[r0:r1]
    h = r1 - r0
    idx = np.arange(h)
    for c0 in range(r0, n, COL_TILE):
        c1 = min(c0 + COL_TILE, n)
        w = c1 - c0
        g, out, *work = (b[: h * w].reshape(h, w) for b in bufs)
        np.matmul(rows, units[c0:c1].T, out=g)
        if compiled is not None:
            if c0 == r0:
                g[idx, idx] = -1.0
            slices = _row_slices(pool, h)

            def row_sums(lo, hi, weights, g=g, slices=slices):
                jobs = [partial(compiled.j_weighted_rows, g[a:b, lo:hi], weights, kap.degree) for a, b in slices]
                return np.concatenate(_run_all(jobs, pool))
        else:
            k = _kappa_tile(kap, g, out, work, pool, scratch)
            if c0 == r0:  # diagonal tile: rho_ii = 1 exactly
                k[idx, idx] = kap.j_at_one if kap.has_fast_path else kap.at_one

            def row_sums(lo, hi, weights, k=k):
                return k[:, lo:hi] @ weights
        parts.extend(_tile_parts(row_sums, alpha, r0, r1, c0, c1))
    return parts


def _blas_single_thread():
    """A context in which BLAS runs on one thread (threadpoolctl), or None when threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it the kernel alone is split over threads
        return None
    return threadpool_limits(limits=1, user_api="blas")


def _row_blocks_parallel(alpha, units, lhs, kap, rows, cols, workers, blas_limit, compiled) -> list[float]:
    """Whole row blocks (Gram tile, kernel, matrix-vector products) on ``workers`` threads, BLAS on one
    thread each; every thread takes a private buffer set from a queue.  Parts keep row-block order."""
    n = alpha.size
    free: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(workers):
        free.put((_buffers(rows, cols), [(np.empty(max(CHUNK, cols)), np.empty(max(CHUNK, cols)))]))

    def block(r0: int) -> list[float]:
        bufs, scratch = free.get()
        try:
            return _self_rows(r0, min(r0 + ROW_TILE, n), alpha, units, lhs, kap, bufs, None, scratch, compiled)
        finally:
            free.put((bufs, scratch))

    with blas_limit, ThreadPoolExecutor(max_workers=workers) as pool:
        return [p for parts in pool.map(block, range(0, n, ROW_TILE)) for p in parts]


def target_self_term(alpha: np.ndarray, units: np.ndarray, kap: FastKappa, *, workers: int | None = None,
                     compiled: CompiledKernel | None = None) -> float:
    """(1/N^2) sum_{i,k} alpha_i alpha_k kappa(<w^_i, w^_k>), tiled over the upper triangle.

    Tiles are ROW_TILE x COL_TILE with scratch buffers allocated once.  With ``workers`` > 1 (default
    ``default_kappa_threads()``) and N >= 2 ROW_TILE, whole row blocks run on ``workers`` threads with
    BLAS limited to one thread each (threadpoolctl; 15-25% faster on 2 cores than multi-threaded BLAS
    plus a threaded kernel, whose spinning BLAS threads compete with it); without threadpoolctl, the
    Gram tile uses BLAS's own threads and only the elementwise kappa is split over ``workers`` threads.
    The kernel is evaluated CHUNK elements at a time (cache-resident).  When kappa = plus J_n (p q = 0:
    relu, relu^n, step) the Gram tile is formed from the negated units, so -rho arrives ready for
    arccos(-rho) = pi - arccos(rho), J_n is evaluated in place in the Gram buffer, and ``plus``
    multiplies the final sum once (``FastKappa.evaluate_negated``).  Every route uses the same tiles and
    the same summation order (parts in row-block order, then ``math.fsum``).  With ``compiled``
    (numerics.compiled.kernel, fast path only) J_n is one fused C loop per row slice instead of the ufuncs.
    """
    n = alpha.size
    rows, cols = min(ROW_TILE, n), min(COL_TILE, n)
    workers = workers if workers is not None else default_kappa_threads()
    fast = kap.has_fast_path
    lhs = np.negative(units) if fast else units
    threaded = workers > 1 and n >= 2 * ROW_TILE
    blas_limit = _blas_single_thread() if threaded else None
    if blas_limit is not None:
        parts = _row_blocks_parallel(alpha, units, lhs, kap, rows, cols, workers, blas_limit, compiled)
    else:
        bufs = _buffers(rows, cols)
        scratch = [(np.empty(max(CHUNK, cols)), np.empty(max(CHUNK, cols))) for _ in range(workers if threaded else 1)]
        if threaded:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                parts = [p for r0 in range(0, n, ROW_TILE)
                         for p in _self_rows(r0, min(r0 + ROW_TILE, n), alpha, units, lhs, kap, bufs, pool, scratch,
                                             compiled)]
        else:
            parts = [p for r0 in range(0, n, ROW_TILE)
                     for p in _self_rows(r0, min(r0 + ROW_TILE, n), alpha, units, lhs, kap, bufs, None, scratch,
                                         compiled)]
    total = math.fsum(parts)
    if fast:
        total *= kap.plus
    return total / (n * n)


@dataclass(frozen=True)
class PreparedTarget:
    """A target network with its N^2 self term cached: each student costs N M d afterwards."""

    alpha: np.ndarray
    units: np.ndarray
    kappa: FastKappa
    activation: Activation
    self_term: float
    dim: int
    self_term_kernel: str = "numpy"  # how J_n of the self term was evaluated: "compiled" (C) or "numpy"

    @property
    def n(self) -> int:
        return int(self.alpha.size)

    def cross_kernel(self, student_units: np.ndarray) -> np.ndarray:
        """kappa(<w^_i, v^_j>), shape (N, M)."""
        return self.kappa.evaluate(self.units @ student_units.T)

    def empirical_b(self, student_units: np.ndarray) -> np.ndarray:
        """b_N(v^_j) = (1/N) sum_i alpha_i kappa(<w^_i, v^_j>), the finite-N analogue of b(v^)."""
        return self.alpha @ self.cross_kernel(student_units) / self.n

    def loss(self, b, V, *, seed: int | None = None) -> LossResult:
        """L_N(b, V) with the rounding bound of the module docstring."""
        b_, V_ = validate_student(b, V, self.dim, self.activation)
        s_units, beta = scaled_units(V_, self.activation.degree)
        beta = beta * b_
        cross = float(self.empirical_b(s_units) @ beta)
        gram = s_units @ s_units.T
        k_ss = self.kappa.evaluate(gram)
        np.fill_diagonal(k_ss, self.kappa.at_one)
        student = float(beta @ k_ss @ beta)
        terms = (self.self_term, -2.0 * cross, student)
        value = math.fsum(terms)
        bound = rounding_bound(self.alpha, beta, self.dim, self.kappa)
        method = "float64-blocked" if self.self_term_kernel == "numpy" else "float64-blocked, compiled J_n"
        return LossResult(value=value, error_bound=bound, terms=terms, method=method,
                          precision="float64", status=LossStatus.ROUNDING_BOUND, n_target=self.n,
                          n_student=int(beta.size), dim=self.dim, activation=self.activation.name, seed=seed)


def rounding_bound(alpha: np.ndarray, beta: np.ndarray, dim: int, kap: FastKappa) -> float:
    """The a-priori float64 bound of the module docstring."""
    u = UNIT_ROUNDOFF
    n_t, n_s = alpha.size, beta.size
    e_abs = (float(np.sum(np.abs(alpha))) / n_t + float(np.sum(np.abs(beta)))) ** 2
    pq2 = (abs(kap.p) + abs(kap.q)) ** 2
    k_one = K_N_AT_ONE[kap.degree]
    rho_err = (2 * dim + 8) * u
    if kap.degree == 0:
        e_kappa = pq2 / 2.0 * math.sqrt(rho_err) + FORMULA_ULPS * u * pq2 / 2.0
    else:
        e_kappa = kap.lipschitz * rho_err + FORMULA_ULPS * u * pq2 * k_one
    rel = _gamma(2 * n_t + n_s + 2) + (kap.degree * (dim + 4) + 7) * u  # +1: plus times the tiled sum
    return e_abs * (kap.at_one * rel + e_kappa)


def prepare_target(target_a, target_W, activation: str | Activation = "relu", *,
                   workers: int | None = None, use_compiled: bool = True) -> PreparedTarget:
    """Validate (a, W), compute scaling factors, unit directions and the cached self term.

    The self term uses the compiled J_n kernel (numerics.compiled) when it was built, the activation has
    the fast path and ``use_compiled`` is true; its certified error lies inside the same per-element
    allowance as numpy's, so the rounding bound is the same either way.
    """
    act = get_activation(activation) if isinstance(activation, str) else activation
    a_, W_ = validate_target(target_a, target_W, act)
    return _prepare_validated(a_, W_, act, workers, use_compiled)


def _prepare_validated(a_: np.ndarray, W_: np.ndarray, act: Activation, workers: int | None,
                       use_compiled: bool) -> PreparedTarget:
    units, scale = scaled_units(W_, act.degree)
    alpha = a_ * scale
    kap = FastKappa.from_activation(act)
    compiled = compiled_kernel() if use_compiled and kap.has_fast_path else None
    self_term = target_self_term(alpha, units, kap, workers=workers, compiled=compiled)
    return PreparedTarget(alpha=alpha, units=units, kappa=kap, activation=act, self_term=self_term,
                          dim=int(W_.shape[1]), self_term_kernel="numpy" if compiled is None else "compiled")


def exact_population_loss(target_a, target_W, student_b, student_V, activation: str | Activation = "relu",
                          *, seed: int | None = None) -> LossResult:
    """L_N(theta) = E_x (f_N(x) - g(x))^2 in closed form (float64, blocked), with its rounding bound.

    Parameters
    ----------
    target_a, target_W : (N,), (N, d) target weights; f_N = (1/N) sum_i a_i sigma(<w_i, x>).
    student_b, student_V : (M,), (M, d) compressed network; g = sum_j b_j sigma(<v_j, x>).
    activation : a name accepted by ``theory.activations.get_activation`` or an Activation.

    Returns
    -------
    LossResult with ``value`` and ``error_bound`` (a-priori rounding bound, status ROUNDING_BOUND).

    References: MODEL.md sections 1-2.
    """
    act = get_activation(activation) if isinstance(activation, str) else activation
    pair = NetworkPair.from_arrays(target_a, target_W, student_b, student_V, act)
    prepared = _prepare_validated(pair.a, pair.W, act, None, True)
    return prepared.loss(pair.b, pair.V, seed=seed)

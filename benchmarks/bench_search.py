"""Frame search against its peers on the same cost and the same starts (not part of the test suite).

Run:  python benchmarks/bench_search.py             # (M, d) = (5,4) (8,7) (16,15) (16,8) (32,31) (64,63)
      python benchmarks/bench_search.py --quick     # (5,4) (8,7) (16,8) only
      python benchmarks/bench_search.py --json      # the same figures as JSON
      python benchmarks/bench_search.py --shape 64,63 --pymanopt-reps 1   # pymanopt in the first round only
      pip install -e '.[bench]'                     # pymanopt (optional; its rows are skipped without it)

Cost: F(V) = C - b^T K^-1 b, regime I, ReLU (``conjecture.cost.ReducedCost``), minimised over (S^{d-1})^M from
``--starts`` Haar-random frames (seed ``--seed``); every method gets the same starts, gtol and iteration cap.

Methods:
- project: ``conjecture.refine.refine``, all starts in one batch (time per start = batch wall time / starts);
- scipy: L-BFGS-B one start at a time on unnormalised rows, f(Y) = F(Y / ||Y||) with the chain-rule gradient
  (rows of the Riemannian gradient divided by ||y_j||); default memory (maxcor 10), ftol 0 (no stop on a small
  relative decrease: it must reach gtol or fail its line search). L-BFGS-B tests the max-norm of the gradient;
  it gets gtol / sqrt(M d), which guarantees the 2-norm test ||grad|| <= gtol of the others (``--scipy-gtol
  max`` passes gtol itself: a weaker test, in scipy's favour on time, against it on the success fraction);
- pymanopt-cg / pymanopt-tr: ConjugateGradient and TrustRegions on Oblique(d, M) with the project's gradient;
  TrustRegions gets the project's analytic Riemannian Hessian-vector product (``ReducedCost.hessian_vector``).

BLAS runs on one thread for every method (threadpoolctl; ``--blas-threads N`` changes that for all of them).
Repetitions are interleaved (rep 1: every method, rep 2: every method, ...) and the median time is reported, so
contention from other processes falls on all methods alike; ``--pymanopt-reps`` lets the (slow) pymanopt methods
take part in the first rounds only (column reps).

Columns: s/start, success = fraction of starts whose final F is within 1e-10 relative of the best F over all
methods and starts, ETTB = s/start / success (expected time to the best value), final Riemannian gradient norms
(median and max over starts), best F.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from conjecture.cost import ReducedCost
from conjecture.frames import random_frames
from conjecture.refine import refine
from theory.regimes import regime_summary

SHAPES = ((5, 4), (8, 7), (16, 15), (16, 8), (32, 31), (64, 63))
QUICK = ((5, 4), (8, 7), (16, 8))
SUCCESS_RTOL = 1e-10


@dataclass(frozen=True)
class Run:
    """One method on all starts: final values and Riemannian gradient norms (per start), wall seconds."""

    values: np.ndarray
    grad_norms: np.ndarray
    seconds: float


def _final(cost: ReducedCost, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = points / np.linalg.norm(points, axis=-1, keepdims=True)
    ev = cost.evaluate(u)
    return ev.value, np.sqrt(np.sum(ev.gradient**2, axis=(1, 2)))


def run_project(cost: ReducedCost, x0: np.ndarray, gtol: float, max_iter: int) -> Run:
    t0 = time.perf_counter()
    res = refine(cost, x0, gtol=gtol, max_iter=max_iter)
    sec = time.perf_counter() - t0
    return Run(*_final(cost, res.points), sec)


SCIPY_GTOL = {"2norm": True}


def run_scipy(cost: ReducedCost, x0: np.ndarray, gtol: float, max_iter: int) -> Run:
    from scipy.optimize import minimize

    B, M, d = x0.shape
    pgtol = gtol / np.sqrt(M * d) if SCIPY_GTOL["2norm"] else gtol

    def fun(y):
        Y = y.reshape(1, M, d)
        n = np.linalg.norm(Y, axis=-1, keepdims=True)
        ev = cost.evaluate(Y / n)
        return float(ev.value[0]), (ev.gradient / n).ravel()

    pts = np.empty_like(x0)
    t0 = time.perf_counter()
    for i in range(B):
        r = minimize(fun, x0[i].ravel(), jac=True, method="L-BFGS-B",
                     options={"gtol": pgtol, "ftol": 0.0, "maxiter": max_iter, "maxfun": 20 * max_iter})
        pts[i] = r.x.reshape(M, d)
    sec = time.perf_counter() - t0
    return Run(*_final(cost, pts), sec)


def _pymanopt(kind: str):
    def run(cost: ReducedCost, x0: np.ndarray, gtol: float, max_iter: int) -> Run:
        import pymanopt
        from pymanopt.manifolds import Oblique
        from pymanopt.optimizers import ConjugateGradient, TrustRegions

        B, M, d = x0.shape
        manifold = Oblique(d, M)  # d x M, unit columns

        @pymanopt.function.numpy(manifold)
        def f(X):
            return float(cost.evaluate(X.T[None]).value[0])

        @pymanopt.function.numpy(manifold)
        def grad(X):
            return cost.evaluate(X.T[None]).gradient[0].T  # already tangent: the projection leaves it

        if kind == "tr":
            @pymanopt.function.numpy(manifold)
            def hess(X, U):
                return cost.hessian_vector(X.T[None], U.T[None])[0].T

            problem = pymanopt.Problem(manifold, f, euclidean_gradient=grad, riemannian_hessian=hess)
            opt = TrustRegions(min_gradient_norm=gtol, max_iterations=max_iter, verbosity=0, log_verbosity=0)
        else:
            problem = pymanopt.Problem(manifold, f, euclidean_gradient=grad)
            opt = ConjugateGradient(min_gradient_norm=gtol, max_iterations=max_iter, verbosity=0, log_verbosity=0)
        pts = np.empty_like(x0)
        t0 = time.perf_counter()
        for i in range(B):
            pts[i] = opt.run(problem, initial_point=x0[i].T.copy()).point.T
        sec = time.perf_counter() - t0
        return Run(*_final(cost, pts), sec)

    return run


def methods() -> dict:
    out = {"project": run_project, "scipy": run_scipy}
    try:
        import pymanopt  # noqa: F401
    except ImportError:
        return out
    out["pymanopt-cg"] = _pymanopt("cg")
    out["pymanopt-tr"] = _pymanopt("tr")
    return out


def bench_shape(M: int, d: int, *, starts: int, seed: int, gtol: float, max_iter: int, reps: int,
                only: tuple[str, ...] | None = None, pymanopt_reps: int | None = None) -> list[dict]:
    cost = ReducedCost(regime_summary("I", "relu", d, abar=1.0))
    x0 = random_frames(np.random.default_rng(seed), starts, M, d)
    cost.evaluate(x0[:1])  # builds the kernel's lambdified closed form (cached) outside the timings
    cost.hessian_vector(x0[:1], np.zeros_like(x0[:1]))  # and kappa'' (a sympy derivative, 0.1 s once)
    meth = {k: v for k, v in methods().items() if only is None or k in only}
    runs: dict[str, list[Run]] = {k: [] for k in meth}
    slow = reps if pymanopt_reps is None else max(1, min(reps, pymanopt_reps))
    for rep in range(reps):
        for name, fn in meth.items():
            if rep < slow or not name.startswith("pymanopt"):  # pymanopt joins the first ``slow`` rounds only
                runs[name].append(fn(cost, x0, gtol, max_iter))
    best = min(float(np.min(r[-1].values)) for r in runs.values())
    rows = []
    for name, rs in runs.items():
        per = float(np.median([r.seconds for r in rs])) / starts
        last = rs[-1]
        succ = float(np.mean(last.values <= best + SUCCESS_RTOL * abs(best)))
        rows.append({"M": M, "d": d, "method": name, "reps": len(rs), "s_per_start": per, "success": succ,
                     "ettb_s": per / succ if succ > 0 else float("inf"), "grad_median": float(np.median(last.grad_norms)),
                     "grad_max": float(np.max(last.grad_norms)), "best_F": float(np.min(last.values)),
                     "median_F": float(np.median(last.values))})
    ref = next((r for r in rows if r["method"] == "scipy"), None)
    for r in rows:
        r["speedup_vs_scipy"] = ref["s_per_start"] / r["s_per_start"] if ref else None
    return rows


def _table(rows: list[dict]) -> str:
    head = f"{'(M,d)':>8} {'method':>12} {'reps':>4} {'s/start':>10} {'x scipy':>8} {'success':>8} {'ETTB s':>10} " \
           f"{'|g| med':>9} {'|g| max':>9} {'best F':>20} {'median F':>12}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{'(%d,%d)' % (r['M'], r['d']):>8} {r['method']:>12} {r['reps']:4d} {r['s_per_start']:10.4g} "
                     f"{r['speedup_vs_scipy'] or 0:8.2f} {r['success']:8.3f} {r['ettb_s']:10.4g} {r['grad_median']:9.2e} "
                     f"{r['grad_max']:9.2e} {r['best_F']:20.13e} {r['median_F']:12.5e}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small shapes only: " + " ".join(map(str, QUICK)))
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--starts", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gtol", type=float, default=1e-8)
    ap.add_argument("--max-iter", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--pymanopt-reps", type=int, default=None,
                    help="repetitions for the pymanopt methods (default: --reps; 1 keeps (32,31) and (64,63) short)")
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS threads for every method (default 1)")
    ap.add_argument("--scipy-gtol", default="2norm", choices=["2norm", "max"],
                    help="L-BFGS-B's max-norm gtol: gtol / sqrt(M d) (default; implies ||grad||_2 <= gtol) or gtol")
    ap.add_argument("--shape", action="append", default=None, help="M,d (repeatable) instead of the default list")
    ap.add_argument("--methods", default=None, help="comma-separated subset of: " + ",".join(methods()))
    args = ap.parse_args(argv)
    shapes = [tuple(int(v) for v in s.split(",")) for s in args.shape] if args.shape else (QUICK if args.quick else SHAPES)
    only = tuple(args.methods.split(",")) if args.methods else None
    SCIPY_GTOL["2norm"] = args.scipy_gtol == "2norm"
    rows = []
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        for M, d in shapes:
            rows += bench_shape(M, d, starts=args.starts, seed=args.seed, gtol=args.gtol, max_iter=args.max_iter,
                                reps=args.reps, only=only, pymanopt_reps=args.pymanopt_reps)
            if not args.json:
                print(_table([r for r in rows if (r["M"], r["d"]) == (M, d)]), flush=True)
    if args.json:
        print(json.dumps({"settings": vars(args), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()

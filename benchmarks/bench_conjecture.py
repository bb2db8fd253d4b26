"""Benchmarks of the conjecture layer (not part of the test suite; run: python benchmarks/bench_conjecture.py).

1. sweep: every cell M = 2..16, d = 1..16 (regime I, ReLU, 64 starts per cell: structured + perturbed ETFs +
   Haar-random) through numerics.evidence.sweep.run_sweep on 2 worker processes, the mpmath polish switched off
   (it is timed separately: it is the per-cell cost that grows like (M (d-1))^2). Target: <= 300 s.
2. time per start against pymanopt (if importable) on the same cost F(V) and gradient, same manifold
   (pymanopt's Oblique manifold = product of spheres), same start points, stopping at ||grad|| <= 1e-8;
   pymanopt's closest optimizer to L-BFGS is ConjugateGradient. Target: >= 5x faster per start.
3. polish: mpmath Newton to 30 digits at the ETF for a few (M, d).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np

from conjecture.cells import KIND, evaluate_cell
from conjecture.cost import ReducedCost
from conjecture.frames import random_frames
from conjecture.polish import polish
from conjecture.refine import refine
from theory.regimes import regime_summary


def bench_sweep(max_m: int = 16, max_d: int = 16, starts: int = 64, workers: int = 2) -> dict:
    from numerics.evidence.sweep import run_sweep

    cells = [{"M": M, "d": d, "regime": "I", "activation": "relu", "starts": starts, "polish_dps": 0}
             for M in range(2, max_m + 1) for d in range(1, max_d + 1)]
    t0 = time.perf_counter()
    out = run_sweep(evaluate_cell, cells, kind=KIND, store=tempfile.mkdtemp(), seed=0, n_workers=workers, quiet=True)
    wall = time.perf_counter() - t0
    res = [r.result for r in out.records]
    counts: dict[str, int] = {}
    for r in res:
        key = f"{r['verdict_nonneg']}/{r['verdict_signed']}"
        counts[key] = counts.get(key, 0) + 1
    slowest = sorted(res, key=lambda r: -r["seconds"])[:3]
    return {"cells": len(cells), "starts_per_cell": starts, "workers": workers, "wall_s": round(wall, 1),
            "cell_seconds_sum": round(sum(r["seconds"] for r in res), 1), "verdicts (nonneg/signed)": counts,
            "slowest": [(r["params"]["M"], r["params"]["d"], r["seconds"]) for r in slowest], "target_s": 300}


def bench_pymanopt(M: int, d: int, starts: int = 64, gtol: float = 1e-8) -> dict:
    s = regime_summary("I", "relu", d, abar=1.0)
    cost = ReducedCost(s)
    x0 = random_frames(np.random.default_rng(0), starts, M, d)
    cost.evaluate(x0[:1])  # warm-up: the kernel's lambdified closed form is built on first use (cached)
    t0 = time.perf_counter()
    ours = refine(cost, x0, gtol=gtol, max_iter=2000)
    t_ours = (time.perf_counter() - t0) / starts
    out = {"M": M, "d": d, "starts": starts, "ours_s_per_start": t_ours, "ours_best": float(ours.values.min()),
           "ours_converged": int(ours.converged.sum())}
    try:
        import pymanopt
        from pymanopt.manifolds import Oblique
        from pymanopt.optimizers import ConjugateGradient
    except ImportError:
        out["pymanopt"] = "not installed"
        return out
    manifold = Oblique(d, M)  # d x M matrices with unit columns

    @pymanopt.function.numpy(manifold)
    def f(X):
        return float(cost.evaluate(X.T[None]).value[0])

    @pymanopt.function.numpy(manifold)
    def grad(X):
        return cost.evaluate(X.T[None]).gradient[0].T  # tangent already: its projection is itself

    problem = pymanopt.Problem(manifold, f, euclidean_gradient=grad)
    opt = ConjugateGradient(min_gradient_norm=gtol, max_iterations=2000, verbosity=0, log_verbosity=0)
    n = min(starts, 16)
    vals = []
    t0 = time.perf_counter()
    for i in range(n):
        r = opt.run(problem, initial_point=x0[i].T.copy())
        vals.append(r.cost)
    t_pm = (time.perf_counter() - t0) / n
    out.update(pymanopt_version=pymanopt.__version__, pymanopt_optimizer="ConjugateGradient", pymanopt_starts=n,
               pymanopt_s_per_start=t_pm, pymanopt_best=float(min(vals)), speedup=t_pm / t_ours)
    return out


def bench_polish(cases=((3, 2), (5, 4), (8, 7))) -> list[dict]:
    out = []
    for M, d in cases:
        s = regime_summary("I", "relu", d, abar=1.0)
        r = refine(ReducedCost(s), random_frames(np.random.default_rng(0), 8, M, d))
        t0 = time.perf_counter()
        p = polish(r.points[r.best], s, dps=30)
        out.append({"M": M, "d": d, "dims": M * (d - 1), "seconds": round(time.perf_counter() - t0, 2), "steps": p.steps,
                    "grad_norm": p.grad_norm})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--part", default="all", choices=["all", "sweep", "pymanopt", "polish"])
    ap.add_argument("--max-m", type=int, default=16)
    ap.add_argument("--max-d", type=int, default=16)
    args = ap.parse_args()
    results = {}
    if args.part in ("all", "pymanopt"):
        results["pymanopt"] = [bench_pymanopt(M, d) for M, d in ((4, 3), (8, 7), (12, 12), (16, 16))]
    if args.part in ("all", "polish"):
        results["polish"] = bench_polish()
    if args.part in ("all", "sweep"):
        results["sweep"] = bench_sweep(args.max_m, args.max_d)
    print(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()

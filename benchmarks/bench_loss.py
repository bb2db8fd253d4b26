"""Exact finite-N loss vs Monte Carlo of the same accuracy; effective GFLOP/s vs numpy matmul.

    python benchmarks/bench_loss.py [--N 10000] [--d 256] [--M 16] [--target-se 1e-4] [--repeats 3] [--json out.json]

1. Exact: ``exact_population_loss`` (float64, tiled N^2 d target term + N M d cross term; the compiled J_n
   kernel when it is built, numpy's with ``TWOLAYER_NUMPY_KERNEL=1``), median of
   ``repeats`` runs, with its a-priori rounding bound; and "warm": a new student against a target whose
   N^2 term is cached (``prepare_target``), which is how the minimum over theta uses it.
2. Monte Carlo to standard error ``target_se`` (absolute): a pilot of ``pilot`` samples gives the
   per-sample variance s^2 and the time per sample; the samples needed are s^2 / target_se^2.  The
   estimate is then run in full when that takes at most ``--mc-budget`` seconds, otherwise its time is
   extrapolated from the pilot (reported as such).
3. Effective GFLOP/s of the exact path = (N^2 d + 2 N M d) / time (the flops of the half Gram matrix it
   needs; the N^2 / 2 kernel evaluations are extra work, not counted), against numpy's matmul on a
   (4096 x d) @ (d x 4096) product (best of 3) measured just before each exact run; the rate ratio is
   taken per pair and reported as median and range.

The network: target a_i = 1, w_i ~ N(0, I/d) (MODEL.md default); student ``etf`` (default: simplex ETF with
the Ltilde-optimal beta, the hardest case for Monte Carlo's competitor because L_N and its per-sample
variance are small) or ``random`` (b_j ~ N(0, 1/M), v_j ~ N(0, I/d)).
Not part of the test suite (``-m benchmark`` runs ``test_bench_loss_small``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time

import numpy as np
import pytest

from numerics.monte_carlo import monte_carlo_population_loss
from numerics.population_loss import exact_population_loss, prepare_target


def matmul_gflops(d: int, size: int = 4096, repeats: int = 3) -> float:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((size, d))
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        A @ A.T
        best = min(best, time.perf_counter() - t)
    return 2.0 * size * size * d / best / 1e9


def kernel_ns_per_pair(repeats: int = 5) -> dict:
    """ns per element of the ReLU kernel on one 256 x 2048 tile of cosines ~ N(0, 1/256), one thread, median
    of ``repeats``: numpy's ufunc chain (J_1 in place, then the matrix-vector product) and the compiled
    fused J_1 + weighted row sums (None when the extension is not built)."""
    from numerics.compiled.kernel import compiled_kernel
    from numerics.kappa import FastKappa
    from theory.activations import get_activation

    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1 / 16, (256, 2048))
    w = rng.standard_normal(2048)
    kap = FastKappa.from_activation(get_activation("relu"))
    s, t = np.empty(16384), np.empty(16384)

    def numpy_chain():
        y = x.copy()
        for a in range(0, 256, 8):
            kap.evaluate_negated(y[a:a + 8], s.reshape(8, 2048), t.reshape(8, 2048))
        return y @ w

    compiled = compiled_kernel()
    out = {}
    for name, fn in (("numpy", numpy_chain), ("compiled", compiled and (lambda: compiled.j_weighted_rows(x, w, 1)))):
        if fn is None:
            out[name] = None
            continue
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - t0) / x.size * 1e9)
        out[name] = statistics.median(runs)
    return out


def _student(kind: str, M: int, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if kind == "etf":  # the Ltilde-optimal compressed network: small loss, small per-sample variance
        from theory.etf import simplex_etf
        from theory.objective import optimal_beta
        from theory.regimes import regime_summary

        V = simplex_etf(M, d)
        return np.asarray(optimal_beta(V, regime_summary("I", "relu", d))), V
    return rng.standard_normal(M) / math.sqrt(M), rng.standard_normal((M, d)) / math.sqrt(d)


def bench(N: int = 10_000, d: int = 256, M: int = 16, target_se: float = 1e-4, repeats: int = 3, pilot: int = 4000,
          mc_budget: float = 120.0, seed: int = 1, student: str = "etf") -> dict:
    rng = np.random.default_rng(seed)
    a = np.ones(N)
    W = rng.standard_normal((N, d)) / math.sqrt(d)
    b, V = _student(student, M, d, rng)
    exact_population_loss(a, W, b, V, "relu")  # warm-up: thread pool, library load, first-touch pages
    flops = N * N * d + 2.0 * N * M * d
    times, refs = [], []
    for _ in range(repeats):  # interleaved with the matmul reference, so that both see the same machine state
        refs.append(matmul_gflops(d))
        t = time.perf_counter()
        exact = exact_population_loss(a, W, b, V, "relu")
        times.append(time.perf_counter() - t)
    t_exact = statistics.median(times)
    ratios = [flops / t / 1e9 / r for t, r in zip(times, refs)]
    # warm: the target's N^2 term cached (numerics.population_loss.PreparedTarget), a new student each time
    prepared = prepare_target(a, W, "relu")
    warm = []
    for _ in range(max(repeats, 5)):
        b2 = b * (1.0 + 0.01 * rng.standard_normal(M))
        t = time.perf_counter()
        prepared.loss(b2, V)
        warm.append(time.perf_counter() - t)
    t_warm = statistics.median(warm)
    t = time.perf_counter()
    pilot_res = monte_carlo_population_loss(a, W, b, V, "relu", n_samples=pilot, seed=seed + 1)
    t_pilot = time.perf_counter() - t
    per_sample = t_pilot / pilot
    sample_var = pilot_res.error_bound**2 * pilot
    needed = int(math.ceil(sample_var / target_se**2))
    t_mc_predicted = needed * per_sample
    mc_run = None
    if t_mc_predicted <= mc_budget:
        t = time.perf_counter()
        mc = monte_carlo_population_loss(a, W, b, V, "relu", n_samples=needed, seed=seed + 2)
        mc_run = {"samples": needed, "seconds": time.perf_counter() - t, "value": mc.value, "se": mc.error_bound,
                  "z_vs_exact": (mc.value - exact.value) / mc.error_bound}
    t_mc = mc_run["seconds"] if mc_run else t_mc_predicted
    eff = flops / t_exact / 1e9
    ref = statistics.median(refs)
    return {"N": N, "d": d, "M": M, "student": student, "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
            "exact": {"value": exact.value, "rounding_bound": exact.error_bound, "method": exact.method,
                      "seconds_median": t_exact,
                      "seconds_all": times},
            "monte_carlo": {"target_se": target_se, "per_sample_variance": sample_var, "samples_needed": needed,
                            "seconds_per_sample": per_sample, "seconds": t_mc,
                            "measured" if mc_run else "extrapolated_from_pilot": mc_run or pilot},
            "exact_warm_seconds_median": t_warm, "speedup_exact_over_mc": t_mc / t_exact,
            "speedup_warm_exact_over_mc": t_mc / t_warm,
            "effective_gflops_exact": eff, "numpy_matmul_gflops": ref, "matmul_over_exact": ref / eff,
            "rate_ratio_median": statistics.median(ratios), "rate_ratio_range": [min(ratios), max(ratios)],
            "kernel_ns_per_pair": kernel_ns_per_pair()}


@pytest.mark.benchmark
def test_bench_loss_small():
    out = bench(N=2000, d=64, M=8, repeats=1, pilot=1000, mc_budget=20.0)
    assert out["exact"]["seconds_median"] > 0 and out["speedup_exact_over_mc"] > 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--M", type=int, default=16)
    ap.add_argument("--target-se", type=float, default=1e-4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pilot", type=int, default=4000)
    ap.add_argument("--mc-budget", type=float, default=120.0)
    ap.add_argument("--student", choices=("etf", "random"), default="etf")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    out = bench(args.N, args.d, args.M, args.target_se, args.repeats, args.pilot, args.mc_budget, student=args.student)
    print(json.dumps(out, indent=1))
    print(f"exact [{out['exact']['method']}] {out['exact']['seconds_median']:.3f} s "
          f"(bound {out['exact']['rounding_bound']:.2g}); "
          f"MC to se {args.target_se:g}: {out['monte_carlo']['samples_needed']} samples, "
          f"{out['monte_carlo']['seconds']:.2f} s -> exact is {out['speedup_exact_over_mc']:.1f}x faster "
          f"(warm, target cached: {out['exact_warm_seconds_median'] * 1e3:.1f} ms, "
          f"{out['speedup_warm_exact_over_mc']:.0f}x); "
          f"effective {out['effective_gflops_exact']:.1f} GFLOP/s vs matmul {out['numpy_matmul_gflops']:.1f} "
          f"(exact / matmul rate, paired per repeat: median {out['rate_ratio_median']:.2f}, "
          f"range {out['rate_ratio_range'][0]:.2f}-{out['rate_ratio_range'][1]:.2f}); "
          f"ReLU kernel per pair, one thread: {out['kernel_ns_per_pair']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()

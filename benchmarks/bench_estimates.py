"""The job estimates (theory.job_budget) against measured wall time (not part of the test suite).

    python benchmarks/bench_estimates.py [--json]

Runs a few jobs of each command in this process, serially (one worker: the estimate for one worker),
and prints estimated and measured seconds and their ratio. The estimates are order-of-magnitude fits:
a ratio between 1/3 and 10 is what they promise; the interpreter's start-up (~3 s) is not part of a job.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def loss_rows() -> list[dict]:
    from numerics.interval_loss import certified_population_loss
    from numerics.loss_job import job_estimate
    from numerics.monte_carlo import monte_carlo_population_loss
    from numerics.population_loss import exact_population_loss
    from theory.activations import get_activation

    rng = np.random.default_rng(0)
    act = get_activation("relu")
    rows = []
    for N, d, method, samples in ((3000, 256, "float64", 0), (20000, 64, "float64", 0), (1000, 16, "arb", 0),
                                  (1000, 16, "mc", 1_000_000)):
        a, W = np.ones(N), rng.standard_normal((N, d)) / np.sqrt(d)
        b, V = np.full(3, 0.3), rng.standard_normal((3, d))
        V /= np.linalg.norm(V, axis=1, keepdims=True)
        if method == "float64":
            job = lambda: exact_population_loss(a, W, b, V, act)
        elif method == "arb":
            job = lambda: certified_population_loss(a, W, b, V, act)
        else:
            job = lambda: monte_carlo_population_loss(a, W, b, V, act, n_samples=samples, seed=0)
        est = job_estimate(N, 3, d, (method,), drawn=False, samples=max(samples, 2)).seconds
        rows.append({"job": f"loss --N {N} --d {d} --method {method}", "estimate_s": est, "measured_s": _time(job)})
    return rows


def conjecture_rows() -> list[dict]:
    from conjecture.cells import evaluate_cell
    from conjecture.job_cost import sweep_estimate

    rows = []
    for cell in ({"M": 3, "d": 2, "starts": 32, "polish_dps": 30}, {"M": 5, "d": 4, "starts": 32, "polish_dps": 30},
                 {"M": 8, "d": 7, "starts": 32, "polish_dps": 30}, {"M": 12, "d": 11, "starts": 128, "polish_dps": 30},
                 {"M": 16, "d": 8, "starts": 32, "polish_dps": 0}):
        est = sweep_estimate([cell], workers=1).seconds
        rows.append({"job": "conjecture cell " + " ".join(f"{k}={v}" for k, v in cell.items()), "estimate_s": est,
                     "measured_s": _time(lambda: evaluate_cell(cell, 0))})
    return rows


def etf_rows() -> list[dict]:
    from numerics.etf_cell import etf_cell
    from numerics.etf_sweep_api import sweep_estimate

    rows = []
    for M, dps in ((8, 30), (32, 30), (64, 50)):
        cell = {"activation": "relu", "M": M, "d": M, "dps": dps}
        rows.append({"job": f"etf-sweep cell M={M} dps={dps}", "estimate_s": sweep_estimate([cell], 1).seconds,
                     "measured_s": _time(lambda: etf_cell(cell, 0))})
    return rows


def derive_rows() -> list[dict]:
    from theory.api import derive_estimate
    from theory.derivation import derive

    rows = []
    for M, d, dps in ((3, 3, 30), (64, 63, 50), (64, 10_000, 500)):
        rows.append({"job": f"derive --M {M} --d {d} --dps {dps}", "estimate_s": derive_estimate(dps).seconds,
                     "measured_s": _time(lambda: derive("relu", "gaussian", d, M, dps))})
    return rows


def claims_rows() -> list[dict]:
    from numerics.claims_cost import cell_seconds
    from numerics.condensation_check import DEFAULT_LR, condensation_cell
    from numerics.memorization_check import memorization_cell
    from numerics.ntk_scaling import ntk_cell

    cases = [("memorization", memorization_cell, {"construction": c, "n": n, "d": d})
             for c in ("threshold", "relu") for n, d in ((1000, 2), (5000, 10), (200, 5))]
    cases += [("ntk-memorization", ntk_cell, {"features": f, "n": n, "d": 16, "eps": [0.3, 0.1, 0.03, 0.01]})
              for f in ("ntk", "rf") for n in (200, 400, 800)]
    cases += [("condensation", condensation_cell, {"activation": "tanh", "d": 5, "init_scale": 0.5, "optimizer": o,
                                                   "steps": s, "lr": DEFAULT_LR[o]})
              for o in ("adam", "gd") for s in (1000, 4000)]
    return [{"job": f"claims {claim} " + " ".join(f"{k}={v}" for k, v in cell.items() if k not in ("eps", "lr")),
             "estimate_s": cell_seconds(claim, cell), "measured_s": _time(lambda: fn(cell, 0))}
            for claim, fn, cell in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = loss_rows() + conjecture_rows() + etf_rows() + derive_rows() + claims_rows()
    for r in rows:
        r["ratio"] = r["estimate_s"] / r["measured_s"]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'job':<62} {'estimate s':>11} {'measured s':>11} {'ratio':>7}")
    for r in rows:
        print(f"{r['job']:<62} {r['estimate_s']:>11.3g} {r['measured_s']:>11.3g} {r['ratio']:>7.2f}")


if __name__ == "__main__":
    main()

"""Certified ETF value at M = 64, dps 50: arb ball-arithmetic solve vs the mpmath routes it replaced.

    python benchmarks/bench_certified.py [--M 64 --dps 50 --repeat 5]

Prints medians of ``repeat`` runs: the arb solve (K from exact arb ETF rows, arb_mat.solve) with its certified
digits, the whole etf-value cell, and mpmath's LU of the same K (hessian's former route) for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import time

import mpmath

from numerics.arb_linalg import certified_digits, precision, to_mpf
from numerics.etf_cell import _solve_at_etf, etf_cell
from theory.activations import get_activation


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--M", type=int, default=64)
    ap.add_argument("--dps", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    act = get_activation("relu")
    work = a.dps + 10
    solved = _solve_at_etf(act, a.M, work)  # warm the kernel caches
    print(f"arb solve, M = {a.M}, {work} digits: median {_median(lambda: _solve_at_etf(act, a.M, work), a.repeat):.4f} s, "
          f"certified digits {certified_digits(solved.ball):.1f}")
    params = {"activation": "relu", "M": a.M, "d": a.M - 1, "dps": a.dps}
    print(f"etf-value cell: median {_median(lambda: etf_cell(params, 0), a.repeat):.4f} s")
    from flint import arb_mat  # noqa: F401  (K rebuilt once, then solved by mpmath's LU)
    from numerics.arb_linalg import kernel_matrix_arb, simplex_etf_arb
    with precision(work):
        V = simplex_etf_arb(a.M, a.M - 1)
        K = kernel_matrix_arb(act, V * V.transpose())
        Km = mpmath.matrix([[to_mpf(K[j, l], work) for l in range(a.M)] for j in range(a.M)])
    with mpmath.workdps(work):
        ones = mpmath.matrix([1] * a.M)
        print(f"mpmath lu_solve of the same K: median {_median(lambda: mpmath.lu_solve(Km, ones), max(1, a.repeat // 2)):.4f} s")


if __name__ == "__main__":
    main()

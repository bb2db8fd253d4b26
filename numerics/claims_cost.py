"""What a ``twolayer claims run`` job will cost: seconds and peak bytes per cell, from the cell's parameters.

Order-of-magnitude models fitted on a 2-core machine (``benchmarks/bench_estimates.py`` prints estimate
against measured time; tracemalloc peaks for the memory):

* memorization: the exact checks of n points against ~n/d hyperplanes cost ~n^2 operations, and the
  forward pass holds n x (n/d) matrices: measured (threshold) 9.3 s and 454 MiB at (n, d) = (20000, 10),
  23 s and 1.0 GiB at (20000, 2), 112 s and 306 MiB at (20000, 50); ReLU costs about 5x threshold (31 s at
  (5000, 50)), plus the minimum-norm LP for n <= 200.
* ntk-memorization: least-squares solves on an n x ~1.25 n feature matrix, O(n^3) time and ~62 n^2 bytes:
  measured 62 MiB at n = 1000 for both feature kinds; 3.2-13 s (ntk) at n = 400, 51-111 s at n = 1000,
  ~4-50 s (rf) at n = 1000.
* condensation: an 80-point, 50-neuron network; a fixed ~3-5 s (checkpoints, counts) plus ~1 ms per step.
"""

from __future__ import annotations

from theory.job_budget import JobEstimate, Part

# memorization: seconds = MEM_FIXED_S + MEM_PAIR_S n^2 (1 + d / MEM_D_SCALE) (threshold; ReLU x MEM_RELU_FACTOR);
# bytes = MEM_BYTES_PER_ENTRY n ceil(n/d) (the n x (n/d) forward-pass matrices) + MEM_BYTES_PER_PAIR n^2 + 1 MiB
# (tracemalloc peaks: 1.06 GiB at (n, d) = (20000, 2), 454 MiB at (20000, 10), 306 MiB at (20000, 50)).
MEM_FIXED_S = 1.0
MEM_PAIR_S = 6e-8
MEM_D_SCALE = 15.0
MEM_RELU_FACTOR = 5.0
MEM_BYTES_PER_ENTRY = 12.0
MEM_BYTES_PER_PAIR = 1.0
MIN_NORM_S = 5.0  # the minimum-norm LP of a ReLU cell with n <= MIN_NORM_MAX_N (4.6 s measured at n = 200)
# ntk-memorization: seconds = NTK_FIXED_S + NTK_CUBE_S[features] (n / 1000)^3; bytes = NTK_BYTES_PER_N2 n^2.
NTK_FIXED_S = 1.0
NTK_CUBE_S = {"ntk": 110.0, "rf": 50.0}
NTK_BYTES_PER_N2 = 64.0
# condensation: seconds = COND_FIXED_S + COND_STEP_S[optimizer] steps; a few MiB.
COND_FIXED_S = 5.0
COND_STEP_S = {"adam": 1e-3, "gd": 5e-4}
COND_BYTES = 32 * 2**20
# Starting the cluster and importing (the sweep's own overhead).
STARTUP_S = 3.0
_MIB = 2**20


def cell_seconds(claim: str, cell: dict) -> float:
    """Estimated seconds of one cell of ``claim``."""
    if claim == "memorization":
        from numerics.memorization_check import MIN_NORM_MAX_N

        n, d = int(cell["n"]), int(cell["d"])
        s = MEM_PAIR_S * n * n * (1 + d / MEM_D_SCALE)
        if cell["construction"] == "relu":
            s *= MEM_RELU_FACTOR
            s += MIN_NORM_S if n <= MIN_NORM_MAX_N else 0.0
        return MEM_FIXED_S + s
    if claim == "ntk-memorization":
        return NTK_FIXED_S + NTK_CUBE_S[cell["features"]] * (int(cell["n"]) / 1000) ** 3
    if claim == "condensation":
        return COND_FIXED_S + COND_STEP_S[cell["optimizer"]] * int(cell["steps"])
    raise ValueError(f"no cost model for the claim {claim!r}")


def cell_bytes(claim: str, cell: dict) -> float:
    """Estimated peak bytes of one cell of ``claim``."""
    if claim == "memorization":
        n, d = int(cell["n"]), int(cell["d"])
        return MEM_BYTES_PER_ENTRY * n * -(-n // d) + MEM_BYTES_PER_PAIR * n * n + _MIB
    if claim == "ntk-memorization":
        return NTK_BYTES_PER_N2 * int(cell["n"]) ** 2
    return float(COND_BYTES)


# The argument that drives each claim's cost (named by a refusal): the size of one cell.
DRIVING_ARGUMENT = {"memorization": "n", "ntk-memorization": "n", "condensation": "steps"}


def claims_estimator(claim: str):
    """``estimate(cells, workers) -> JobEstimate`` for ``claim`` (the form ``plan_sweep`` takes)."""

    def estimate(cells: list[dict], workers: int) -> JobEstimate:
        workers = max(1, min(int(workers), len(cells)))
        times = [cell_seconds(claim, c) for c in cells]
        peak = max(cell_bytes(claim, c) for c in cells) * workers
        size = DRIVING_ARGUMENT[claim]
        # many cells: fewer repetitions is the first thing to reduce; one slow cell: its size
        many = "seeds" if 1 + max(int(c.get("replicate", 0)) for c in cells) > 1 else size
        return JobEstimate("claims", (
            Part(peak, 0.0, size, f"the largest cell's arrays ({_at_a_time(workers)})"),
            Part(0.0, max(times), size, "the slowest cell"),
            Part(0.0, (sum(times) - max(times)) / workers, many,
                 f"the other {len(cells) - 1} cells of {claim} ({_at_a_time(workers)})"),
            Part(0.0, STARTUP_S, size, "start-up: imports and the sweep"),
        ))

    return estimate


def _at_a_time(workers: int) -> str:
    return "1 cell at a time" if workers == 1 else f"{workers} cells at a time"

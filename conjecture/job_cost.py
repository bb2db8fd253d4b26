"""The estimated wall time and memory of a ``twolayer conjecture`` sweep, from its cells' parameters alone.

A cell's time is its search (each start runs up to ``max_iter`` L-BFGS iterations; starts at M <= d + 1
usually converge within ~40 cost evaluations, the others often run to ``max_iter``), its mpmath polish and
Hessian (about (M (d - 1))^2 entries, only when M (d - 1) <= conjecture.cells.POLISH_MAX_DIM), and a fixed
part for the QPs, the LP certificate and the SDP bounds.  The constants were fitted on a 2-core machine
(benchmarks/bench_estimates.py prints estimate against measurement); they err on the slow side.

Examples
--------
>>> est = sweep_estimate([{"M": 3, "d": 2, "starts": 32, "polish_dps": 30, "max_iter": 300}], workers=1)
>>> est.seconds < 10, est.memory_bytes < 2**30
(True, True)
>>> big = [{"M": 64, "d": d, "starts": 4096, "max_iter": 300} for d in range(1, 65)]
>>> sweep_estimate(big, workers=2).seconds > 86400
True
"""

from __future__ import annotations

from theory.job_budget import JobEstimate, Part

# Search: seconds per start and cost evaluation, SEARCH_EVAL_S + SEARCH_FLOP_S (M^2 d + M^3).
SEARCH_EVAL_S = 3e-5
SEARCH_FLOP_S = 3e-8
# Evaluations a start at M <= d + 1 typically needs (trust regions: ~10-20); other starts may use max_iter.
ETF_CELL_EVALUATIONS = 20
# Structured frames added to --starts in every cell (orthonormal, simplex, polygon families...).
STRUCTURED_STARTS = 16
# Polish and Hessian in mpmath: POLISH_ENTRY_S seconds per Hessian entry at 30 digits, growing like dps^1.5.
POLISH_ENTRY_S = 1.5e-3
# QPs, LP certificate, SDP bounds (one per k < M): CELL_FIXED_S + CELL_PER_M_S M.
CELL_FIXED_S = 0.2
CELL_PER_M_S = 0.02
# Once per sweep and worker: imports (cvxpy, flint) and the first compiles of kernels and SDP shapes.
STARTUP_S = 1.5
# Memory of a batched search: ~40 arrays of (starts, M, d) floats (L-BFGS history of 8 pairs, iterates,
# gradients) and ~4 of (starts, M, M) (kernels and their factors).
SEARCH_ARRAYS_MD = 40
SEARCH_ARRAYS_MM = 4
_F64 = 8


def cell_seconds(cell: dict) -> float:
    """Estimated seconds of one conjecture cell."""
    M, d = int(cell["M"]), int(cell["d"])
    starts = int(cell.get("starts", 32)) + STRUCTURED_STARTS
    max_iter = int(cell.get("max_iter", 300))
    evaluations = min(max_iter, ETF_CELL_EVALUATIONS) if M <= d + 1 else max_iter
    seconds = starts * evaluations * (SEARCH_EVAL_S + SEARCH_FLOP_S * (M * M * d + M ** 3))
    from conjecture.cells import POLISH_MAX_DIM

    dps = int(cell.get("polish_dps", 30))
    n = M * (d - 1)
    if dps and M <= d + 1 and d > 1 and n <= POLISH_MAX_DIM:
        seconds += POLISH_ENTRY_S * n * n * (dps / 30) ** 1.5
    return seconds + CELL_FIXED_S + CELL_PER_M_S * M + regime3_seconds(cell)


# Regime III (exact objective): each cost evaluation also sums the kernel over the law's points, about
# REGIME3_POINT_S seconds per point, row and evaluation; the orientation search and the certificate of max b add
# REGIME3_FIXED_S. The SO(d) branch-and-bound runs only when the search beats the best ETF orientation; measured
# (2 shared cores, Rademacher): (3, 2) < 1 s, (3, 3) 100-180 s, (4, 4) exhausts its budget (bnb_seconds); other
# (M, d) have no chart. Estimated at the measured time, capped by the cell's bnb_seconds.
REGIME3_POINT_S = 2e-7
REGIME3_FIXED_S = 3.0
REGIME3_BNB_S = {(3, 2): 2.0, (3, 3): 180.0, (4, 3): 0.0}


def regime3_seconds(cell: dict) -> float:
    """The extra seconds of a regime III cell with the exact objective (0 for other cells)."""
    if cell.get("regime") != "III" or cell.get("objective", "exact") != "exact":
        return 0.0
    from theory.point_laws import point_count

    M, d = int(cell["M"]), int(cell["d"])
    try:
        points = point_count(cell.get("law") or "rademacher", d)
    except Exception:  # an invalid law is refused by CellParams before any estimate is shown
        return 0.0
    starts = int(cell.get("starts", 32)) + STRUCTURED_STARTS
    max_iter = int(cell.get("max_iter", 300))
    evaluations = min(max_iter, 4 * ETF_CELL_EVALUATIONS) if M <= d + 1 else max_iter
    seconds = REGIME3_FIXED_S + REGIME3_POINT_S * points * M * starts * evaluations
    if M <= d + 1:
        cap = float(cell.get("bnb_seconds", 600.0))
        seconds += min(cap, REGIME3_BNB_S.get((M, d), cap if (M, d) == (4, 4) else 0.0))
    return seconds


# The orientation study (conjecture.orientation_map): per (law, M, d), ORIENTATION_ROW_S plus ORIENTATION_POINT_S
# seconds per point, row and unit of d/5 (fitted on 2 shared cores: Rademacher (6, 8) 5.2 s, sparse Rademacher
# (6, 7) 12.6 s, uniform (3, 4) at 55296 points 528 s; the estimate errs on the slow side).
ORIENTATION_ROW_S = 0.5
ORIENTATION_POINT_S = 4e-3


def orientation_study_part(dims: dict, *, act: str = "relu", laws=None) -> Part:
    """The orientation study's Part of a conjecture job (``dims`` = {M: [d, ...]})."""
    from conjecture.orientation_map import ORIENTATION_LAWS
    from theory.point_laws import point_count

    seconds = 0.0
    count = 0
    for law in laws or ORIENTATION_LAWS:
        for M, ds in dims.items():
            for d in ds:
                seconds += ORIENTATION_ROW_S + ORIENTATION_POINT_S * point_count(law, d) * M * d / 5
                count += 1
    return Part(0.0, seconds, "M", f"the orientation study ({count} law x (M, d) entries)")


def cell_bytes(cell: dict) -> float:
    """Estimated peak bytes of one conjecture cell's batched search."""
    M, d = int(cell["M"]), int(cell["d"])
    starts = int(cell.get("starts", 32)) + STRUCTURED_STARTS
    return float(starts * (SEARCH_ARRAYS_MD * M * d + SEARCH_ARRAYS_MM * M * M) * _F64)


def sweep_estimate(cells: list[dict], workers: int) -> JobEstimate:
    """Wall time of the cells spread over ``workers`` processes (at least 1), and the memory of ``workers``
    cells at once; the parts name --starts (the search), --polish-dps (the polish) and --M/--d (the grid)."""
    workers = max(1, min(int(workers), len(cells)))
    search = polish = fixed = 0.0
    for c in cells:
        total = cell_seconds(c)
        no_polish = cell_seconds({**c, "polish_dps": 0})
        base = CELL_FIXED_S + CELL_PER_M_S * int(c["M"])
        polish += total - no_polish
        search += no_polish - base
        fixed += base
    peak = max(cell_bytes(c) for c in cells) * workers
    n = len(cells)
    return JobEstimate("conjecture", (
        Part(peak, search / workers, "starts", f"the searches of {n} cells ({workers} at a time)"),
        Part(0.0, polish / workers, "polish-dps", "the high-precision polish and Hessians"),
        Part(0.0, fixed / workers, "M", "the QPs, LP certificates and SDP bounds"),
        Part(0.0, STARTUP_S, "M", "start-up: imports and first compiles"),
    ))

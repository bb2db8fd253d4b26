"""What a ``loss`` job costs: the memory of its largest arrays and its time, from N, M, d and the methods,
before anything is allocated (theory.job_budget checks them against the budget)."""

from __future__ import annotations

from theory.job_budget import DEFAULT_MAX_BYTES, JobEstimate, Part

MAX_JOB_BYTES = DEFAULT_MAX_BYTES  # without --allow-large (theory.job_budget)
_F64 = 8


def job_memory(N: int, M: int, d: int, methods: tuple[str, ...], *, drawn: bool) -> list[tuple[int, str, str]]:
    """Bytes of the largest arrays the job allocates, as (bytes, argument to reduce, what) triples.

    Weights: W and its unit rows (and the drawn sample), V likewise; float64: the N x M cross-kernel
    block and the M x M student block with the kernel's work arrays (8 each), and the self term's tiles
    (5 buffers of 256 x 2048 per thread, 4 threads); arb: the N x N and N x M Gram matrices of 48-byte
    balls and the weights as Python balls; Monte Carlo: 4 batch arrays of MC_MAX_ELEMENTS floats.
    """
    from numerics.monte_carlo import MC_MAX_ELEMENTS
    from numerics.population_loss import COL_TILE, ROW_TILE

    def larger(x: str, y: str) -> str:
        return x if {"N": N, "M": M, "d": d}[x] >= {"N": N, "M": M, "d": d}[y] else y

    copies = 3 if drawn else 2
    parts = [(copies * N * d * _F64, larger("N", "d"), f"the N x d target weights (N = {N}, d = {d})"),
             (copies * M * d * _F64, larger("M", "d"), f"the M x d compressed weights (M = {M}, d = {d})")]
    if "float64" in methods:
        parts += [(8 * N * M * _F64, larger("N", "M"), f"the N x M cross-kernel block (N = {N}, M = {M})"),
                  (8 * M * M * _F64, "M", f"the M x M student kernel block (M = {M})"),
                  (4 * 5 * min(ROW_TILE, N) * min(COL_TILE, N) * _F64, "N", "the self term's kernel tiles")]
    if "arb" in methods:
        parts += [(48 * (2 * N * N + 2 * N * M + M * M) + 100 * (N + M) * d, "N",
                   f"the arb Gram matrices (N = {N}, M = {M})")]
    if "mc" in methods:
        parts += [(4 * MC_MAX_ELEMENTS * _F64 + (N + M) * d * _F64, "N", "the Monte Carlo batches")]
    return parts


# Time model (order-of-magnitude upper estimates on 2 cores; benchmarks/bench_estimates.py): the float64
# closed form runs at >= 1e10 flop/s on its N^2 d Gram products plus ~10 ns per kernel entry; the arb enclosure
# spends ~4 us per target pair plus ~30 ns per pair and coordinate; Monte Carlo ~4e9 flop/s on its samples.
F64_FLOPS = 1e10
KERNEL_ENTRY_S = 1e-8
ARB_PAIR_S = 4e-6
ARB_PAIR_COORD_S = 3e-8
MC_FLOPS = 4e9


def job_seconds(N: int, M: int, d: int, methods: tuple[str, ...], samples: int) -> list[tuple[float, str]]:
    """Estimated seconds of each method of the job, as (seconds, what) pairs."""
    pairs = N * N + N * M + M * M
    out = []
    if "float64" in methods:
        out.append((2 * pairs * d / F64_FLOPS + pairs * KERNEL_ENTRY_S, f"the float64 closed form (N = {N}, d = {d})"))
    if "arb" in methods:
        out.append((pairs * (ARB_PAIR_S + d * ARB_PAIR_COORD_S), f"the arb enclosure (N = {N}, d = {d})"))
    if "mc" in methods:
        out.append((samples * (N + M) * (2 * d + 20) / MC_FLOPS, f"Monte Carlo ({samples} samples, N = {N}, d = {d})"))
    return out


def job_estimate(N: int, M: int, d: int, methods: tuple[str, ...], *, drawn: bool, samples: int) -> JobEstimate:
    """Memory (``job_memory``) and time (``job_seconds``) of one loss job; parts name the argument to reduce
    (``weights`` for a weights file)."""
    parts = [Part(b, 0.0, argument if drawn else "weights", what)
             for b, argument, what in job_memory(N, M, d, methods, drawn=drawn)]
    time_argument = "N" if drawn else "weights"
    for seconds, what in job_seconds(N, M, d, methods, samples):
        parts.append(Part(0.0, seconds, "mc-samples" if what.startswith("Monte") else time_argument, what))
    return JobEstimate("loss", tuple(parts))

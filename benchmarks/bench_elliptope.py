"""The signed-beta elliptope proof for M = 3: prover and checker speed, and where the time goes.

    python benchmarks/bench_elliptope.py [--repeats 3] [--out /tmp/elliptope]

Prints (and writes as strict JSON under --out): the prover's wall time (median of --repeats), boxes per second,
leaves by claim and by depth, the checker's wall time on the shipped certificate, and the top functions of a
cProfile of one prover run (cumulative time). One core; about 15 s in all.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    from conjecture.elliptope.checker import check_file
    from conjecture.elliptope.prover import prove_m3
    from conjecture.elliptope.stored import DATA_DIR

    walls, run = [], None
    for _ in range(args.repeats):
        t = time.perf_counter()
        run = prove_m3()
        walls.append(time.perf_counter() - t)
    checks = []
    for _ in range(args.repeats):
        result = check_file(f"{DATA_DIR}/relu_M3.json")
        checks.append(result.wall_s)
    profiler = cProfile.Profile()
    profiler.enable()
    prove_m3()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(14)
    prover_s = statistics.median(walls)
    out = {"prover_s_median": round(prover_s, 3), "prover_s_all": [round(w, 3) for w in walls],
           "leaves": len(run.boxes), "leaves_per_second": round(len(run.boxes) / prover_s, 1),
           "leaves_by_claim": run.counts, "leaves_by_depth": {str(k): v for k, v in sorted(run.depth_counts.items())},
           "unresolved": run.unresolved, "checker_s_median": statistics.median(checks),
           "checker_boxes_per_second": round(result.boxes / statistics.median(checks), 1), "checker_ok": result.ok}
    print(json.dumps(out, indent=1))
    print("\nprover profile (cumulative):")
    print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:4000])
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        Path(args.out, "elliptope.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()

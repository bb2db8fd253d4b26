"""(4, 4) regime III: the vectorised float64 branch-and-bound (conjecture.orientation_bnb_float), end to end.

    python benchmarks/bench_orientation_float.py --out DIR [--estimate-only] [--seconds 3600] [--threshold FRACTION]

1. T from ``bench_regime3.threshold_44`` (as ``bnb44_part`` uses it): V = the cell's best frame (evaluate_cell, 32 starts, seed 0),
   F_ETF,num = family_minimum (rng 0), T = V + (F_ETF,num - V)/2 (a Fraction); or --threshold.
2. A Knuth estimate of the search (300 sampled boxes per depth) and its projected time.
3. Unless --estimate-only: the search, with stats.json and tree.npz (the certificate data) under --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_regime3 import threshold_44  # noqa: E402 - after the path


def main() -> None:
    from conjecture.orientation_bnb_float import HI0, LO0, estimate_search, keep_44, threshold_float, write_tree
    from conjecture.orientation_objective_float import objective_jets, secant_lower

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--threshold", default=None)
    ap.add_argument("--estimate-only", action="store_true")
    ap.add_argument("--estimate-sample", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=3600.0)
    ap.add_argument("--lean", choices=("yes", "no", "auto"), default="auto")
    ap.add_argument("--deadline-epoch", type=float, default=None, help="stop the search by this time (time.time())")
    ap.add_argument("--resume", default=None, help="a budget-stopped tree.npz: search its open boxes (part 2)")
    ap.add_argument("--part", default="tree2")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info: dict = {}
    if args.threshold:
        T = Fraction(args.threshold)
    else:
        t0 = time.perf_counter()
        T, V, fe = threshold_44()
        info.update(counterexample=V, family_numeric_min=fe, threshold_seconds=time.perf_counter() - t0)
        shipped = Fraction(json.loads((Path(__file__).resolve().parents[1] / "conjecture" / "data" / "orientation_44"
                                       / "certificate.json").read_text(encoding="utf-8"))["threshold"])
        if T != shipped:  # the derivation rests on float searches: their last bits move with the kernels' rounding
            print(f"note: this T differs from the shipped certificate's {shipped} by {float(T - shipped):.2g}; "
                  f"--threshold {shipped} reruns the shipped one", flush=True)
    info["threshold"] = str(T)
    info["threshold_float"] = threshold_float(T)
    print("T =", T, "=", float(T), flush=True)
    (out / "threshold.json").write_text(json.dumps(info, indent=1))
    lean = args.lean == "yes"
    if args.estimate_sample > 0:
        best = None
        for mode in ((False, True) if args.lean == "auto" else (lean,)):
            est = estimate_search(objective_jets, LO0, HI0, threshold_float(T), keep=keep_44,
                                  sample=args.estimate_sample, secant=secant_lower, progress=True, lean=mode)
            info[f"estimate_lean_{mode}"] = est.as_dict()
            print(f"estimate (lean={mode}): {est.estimated_total:.3g} boxes, {est.rate:.0f} boxes/s, "
                  f"projected {est.projected_seconds:.0f} s", flush=True)
            (out / "estimate.json").write_text(json.dumps(info, indent=1))
            if best is None or est.projected_seconds < best[0]:
                best = (est.projected_seconds, mode)
        lean = best[1]
    info["lean"] = lean
    if args.estimate_only:
        return
    roots = None
    lo_start, hi_start = LO0, HI0
    if args.resume:
        from conjecture.orientation_bnb_float import load_tree, open_set
        t_prev, meta_prev, r_lo, r_hi = load_tree(args.resume)
        lo_start, hi_start = open_set(t_prev, r_lo, r_hi, keep_44)
        roots = (lo_start, hi_start)
        info["resumed_from"] = args.resume
        info["open_boxes_resumed"] = int(len(lo_start))
        print(f"resuming {len(lo_start)} open boxes", flush=True)
    tree: list = []
    log = open(out / "progress.log", "a")

    def say(msg):
        print(msg, flush=True)
        log.write(msg + "\n")
        log.flush()
    seconds = args.seconds
    if args.deadline_epoch is not None:
        seconds = min(seconds, args.deadline_epoch - time.time())
    info["search_budget_seconds"] = seconds
    from conjecture.orientation_bnb_float import branch_and_bound
    from conjecture.orientation_objective_float import objective_jets as oj
    st = branch_and_bound(oj, lo_start, hi_start, threshold_float(T), keep=keep_44, max_seconds=seconds,
                          tree=tree, progress=True, log=say, lean=lean, secant=secant_lower)
    info["search"] = st.as_dict()
    name = args.part if args.resume else "tree"
    (out / ("stats.json" if not args.resume else f"stats_{name}.json")).write_text(json.dumps(info, indent=1,
                                                                                           default=str))
    n = write_tree(str(out / f"{name}.npz"), tree, {"threshold": str(T), "certified": st.certified,
                                                   "reason": st.reason, "lean": lean}, roots=roots)
    print(json.dumps(st.as_dict(), default=str), flush=True)
    print(f"{n} leaves written", flush=True)


if __name__ == "__main__":
    main()

"""Regime III exactly: the measurements behind docs/regime3.md (run once; minutes to an hour on 2 shared cores).

    python benchmarks/bench_regime3.py --parts slope,verdicts,bnb44,map --out /tmp/regime3 [--bnb-seconds 240]

* slope:    exact b and C against the O(d^-2) expansion (theory.anisotropic), Rademacher d = 2..12 (sparse
            Rademacher p = 1/2 to 12, uniform to 8): the differences and the least-squares slope of log|diff|
            against log d (the expansion's remainder is O(d^-3));
* verdicts: conjecture cells (3, 2), (3, 3), (4, 3), (4, 4), Rademacher, exact objective: verdicts, certified gaps,
            branch-and-bound boxes and seconds;
* bnb44:    the (4, 4) SO(4) branch-and-bound breadth-first for --bnb-seconds: boxes per depth, the fraction of
            the chart covered and the projected time;
* map:      the orientation map, M = 3..6, d = M - 1..8, the laws of conjecture.orientation_map (JSON, table, PNG).

Everything is printed and written as JSON (strict: no NaN) under --out.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from fractions import Fraction
from pathlib import Path

import numpy as np


def slope_part() -> dict:
    from theory.exact_anisotropic import exact_summary
    from theory.regimes import regime_summary

    out = {}
    for law, dmax in (("rademacher", 12), ("sparse_rademacher(1/2)", 12), ("uniform", 8)):
        rows = []
        for d in range(2, dmax + 1):
            e = exact_summary("relu", d, law)
            t = regime_summary("III", "relu", d, abar=1.0, law=law)
            e1, dg = np.eye(d)[:1], np.full((1, d), d ** -0.5)
            rows.append({"d": d, "b_e1": float(e.b(e1)[0] - t.b(e1)[0]), "b_diag": float(e.b(dg)[0] - t.b(dg)[0]),
                         "C": e.constant() - t.constant(),
                         "anisotropy": float((e.b(e1)[0] - e.b(dg)[0]) - (t.b(e1)[0] - t.b(dg)[0])),
                         "cubature_error": e.error_estimate})
        fits = {}
        for key in ("b_e1", "b_diag", "C", "anisotropy"):
            for lo in (2, 6):
                pts = [(math.log(r["d"]), math.log(abs(r[key]))) for r in rows if r["d"] >= lo and r[key] != 0]
                x, y = np.array(pts).T
                fits[f"{key} (d >= {lo})"] = float(np.polyfit(x, y, 1)[0])
        out[law] = {"rows": rows, "slopes": fits}
        print(f"\n{law}: exact - truncated")
        print("  d   b(e1)        b(diag)      C            [b(e1)-b(diag)]")
        for r in rows:
            print(f"  {r['d']:>2}  {r['b_e1']:+.3e}  {r['b_diag']:+.3e}  {r['C']:+.3e}  {r['anisotropy']:+.3e}")
        print("  slopes of log|diff| vs log d:", {k: round(v, 2) for k, v in fits.items()})
    return out


def verdict_part(bnb_seconds: float) -> dict:
    from conjecture.cells import evaluate_cell

    out = {}
    for M, d in ((3, 2), (3, 3), (4, 3), (4, 4)):
        t0 = time.perf_counter()
        c = evaluate_cell({"M": M, "d": d, "regime": "III", "starts": 32, "polish_dps": 0, "sdp": False,
                           "bnb_seconds": bnb_seconds}, 0)
        r3 = c.get("regime3", {})
        ref = r3.get("refutation") or {}
        fb = ref.get("family_lower_bound") or {}
        row = {"M": M, "d": d, "verdict_nonneg": c["verdict_nonneg"], "verdict_signed": c["verdict_signed"],
               "reason_nonneg": c["reason_nonneg"], "reason_signed": c["reason_signed"],
               "F_etf": c["etf"]["orientation_min"], "best_found": c["search_signed"]["best_value"],
               "gap_found_rel": c["search_signed"]["gap_rel"], "C_target": c["C_target"],
               "certified_gap_rel": {k: v.get("gap_rel_certified") for k, v in ref.get("candidates", {}).items()},
               "bnb": fb.get("search"), "proven": r3.get("proven"), "seconds": time.perf_counter() - t0}
        out[f"{M},{d}"] = row
        print(f"\n(M, d) = ({M}, {d}): beta >= 0 {row['verdict_nonneg']}, signed {row['verdict_signed']}, "
              f"{row['seconds']:.1f} s")
        print("  signed:", row["reason_signed"])
        print("  beta>=0:", row["reason_nonneg"])
    return out


def threshold_44() -> tuple[Fraction, float, float]:
    """(T, V, F_ETF,num) at (4, 4): V the seed-0 cell's best frame, F_ETF,num the best ETF orientation found,
    T = V + (F_ETF,num - V)/2 (the cells' rule, docs/regime3.md §3.3)."""
    from conjecture.cells import evaluate_cell
    from conjecture.etf_family_bound import family_minimum
    from theory.exact_anisotropic import exact_summary

    c = evaluate_cell({"M": 4, "d": 4, "regime": "III", "starts": 32, "polish_dps": 0, "sdp": False,
                       "bnb_seconds": 1.0}, 0)
    V = c["search_signed"]["best_value"]
    fm = family_minimum(exact_summary("relu", 4, "rademacher"), 4, 4, np.random.default_rng(0))
    return Fraction(V) + (Fraction(fm.value) - Fraction(V)) / 2, V, fm.value


def bnb44_part(seconds: float, samples: int = 150) -> dict:
    """(4, 4): the cells' depth-first search for ``seconds`` (boxes per depth, covered fraction), then a projection
    from random boxes of a uniform grid: at level k every chart interval is cut into 2^k pieces; the fraction c_k of
    grid boxes (inside the domain) that the bounds close gives N = sum_k n_k (1 - c_{k-1}) boxes to visit, n_k the
    grid boxes of level k in the domain (domain volume / box volume)."""
    import flint
    from flint import arb, fmpq

    from conjecture.ball_jets import Pair
    from conjecture.ball_objective import ball_objective
    from conjecture.box_search import box_search, lower_bounds
    from conjecture.etf_family_bound import SEARCH_BITS, family_pair
    from conjecture.etf_orientations import orientation_family
    from theory.exact_anisotropic import exact_summary

    s = exact_summary("relu", 4, "rademacher")
    T, V, numeric_min = threshold_44()
    fam = orientation_family(4, 4)
    flint.ctx.prec = SEARCH_BITS
    obj = ball_objective(s, 4)
    fn = family_pair(obj, fam)
    res = box_search(fn, list(fam.boxes), T, keep=fam.keep, max_boxes=10**7, max_seconds=seconds,
                     domain_volume=fam.domain_volume)
    ms = 1000 * res.seconds / max(res.boxes, 1)
    print(f"\n(4, 4) SO(4) branch-and-bound, depth-first, {seconds:.0f} s: {res.boxes} boxes ({ms:.1f} ms each), "
          f"per depth {list(res.per_depth)}, covered {100 * res.covered_fraction:.3g}% of the chart")
    rng = np.random.default_rng(1)
    lo = [float(x) for x in fam.boxes[0][0]]
    hi = [float(x) for x in fam.boxes[0][1]]
    Tq = arb(fmpq(T.numerator, T.denominator))
    levels = []
    for k in range(0, 7):
        n = 2**k
        closed = tried = 0
        t0 = time.perf_counter()
        while tried < (1 if k == 0 else samples):
            idx = rng.integers(0, n, size=6)
            blo = tuple(Fraction(lo[i]) + Fraction(int(idx[i])) * (Fraction(hi[i]) - Fraction(lo[i])) / n for i in range(6))
            bhi = tuple(Fraction(lo[i]) + Fraction(int(idx[i]) + 1) * (Fraction(hi[i]) - Fraction(lo[i])) / n
                        for i in range(6))
            if not fam.keep((blo, bhi)):
                continue
            tried += 1
            cen = [(a + b) / 2 for a, b in zip(blo, bhi)]
            half = [arb(fmpq(((b - a) / 2).numerator, ((b - a) / 2).denominator)) for a, b in zip(blo, bhi)]
            pair = fn(Pair.variables([arb(fmpq(x.numerator, x.denominator)) for x in cen],
                                     [arb(0).union(h).union(-h) for h in half]))
            best = max((v for v in lower_bounds(pair, half).values() if v.is_finite()),
                       key=lambda v: float(v.mid()), default=None)
            closed += int(best is not None and best > Tq)
        box_volume = np.prod([(b - a) / n for a, b in zip(lo, hi)])
        levels.append({"level": k, "closed_fraction": closed / tried, "samples": tried,
                       "grid_boxes_in_domain": fam.domain_volume / box_volume,
                       "ms_per_box": 1000 * (time.perf_counter() - t0) / tried})
        print(f"  level {k} (side / {n}): {closed}/{tried} random grid boxes closed, "
              f"{levels[-1]['grid_boxes_in_domain']:.3g} grid boxes in the domain")
    total, prev_open = 0.0, 1.0
    for lv in levels:
        total += lv["grid_boxes_in_domain"] * prev_open
        prev_open = 1 - lv["closed_fraction"]
    tail = prev_open  # open after the last level: at least this fraction needs finer boxes (not counted)
    projected = total * ms / 1000
    print(f"  projected: >= {total:.3g} boxes, >= {projected:.3g} s at {ms:.1f} ms per box "
          f"({100 * tail:.3g}% of the finest boxes still open)")
    flint.ctx.prec = 53
    return {"threshold": str(T), "numeric_min": numeric_min, "counterexample": V, "depth_first": res.as_dict(),
            "levels": levels, "projected_boxes_at_least": total, "projected_seconds_at_least": projected,
            "open_after_last_level": tail}


def map_part(out_dir: Path) -> dict:
    from conjecture.orientation_map import orientation_study
    from conjecture.orientation_plot import orientation_png
    from conjecture.report import orientation_section

    from conjecture.orientation_map import ORIENTATION_LAWS

    cells = {M: list(range(M - 1, 9)) for M in range(3, 7)}
    t0 = time.perf_counter()
    parts = []
    for law in ORIENTATION_LAWS:  # one law at a time, so that progress shows
        parts.append(orientation_study(cells, laws=(law,), starts=8, free_starts=12, max_iter=200))
        print(f"  {law}: {len(parts[-1]['rows'])} entries, {parts[-1]['seconds']:.0f} s", flush=True)
    data = {**parts[0], "laws": list(ORIENTATION_LAWS), "rows": sorted((r for p in parts for r in p["rows"]),
                                                                       key=lambda r: (r["M"], r["d"], r["kappa4"])),
            "seconds": round(time.perf_counter() - t0, 1), "starts": {"orientation": 8, "free": 12, "max_iter": 200}}
    (out_dir / "orientation_map.png").write_bytes(orientation_png(data["rows"]))
    sec = orientation_section(data)
    t = sec.tables[0]
    lines = ["| " + " | ".join(t.headers) + " |", "|" + "---|" * len(t.headers)]
    lines += ["| " + " | ".join(r) + " |" for r in t.rows]
    (out_dir / "orientation_map.md").write_text("\n".join(lines) + "\n")
    print(f"\norientation map: {len(data['rows'])} entries, {data['seconds']:.0f} s; table in "
          f"{out_dir / 'orientation_map.md'}")
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="slope,verdicts,bnb44")
    ap.add_argument("--out", default="regime3_bench")
    ap.add_argument("--bnb-seconds", type=float, default=240.0)
    args = ap.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    for part in parts:
        t0 = time.perf_counter()
        if part == "slope":
            data = slope_part()
        elif part == "verdicts":
            data = verdict_part(args.bnb_seconds)
        elif part == "bnb44":
            data = bnb44_part(args.bnb_seconds)
        elif part == "map":
            data = map_part(out_dir)
        else:
            raise SystemExit(f"unknown part {part!r}")
        (out_dir / f"{part}.json").write_text(json.dumps(data, indent=1, default=str, allow_nan=False))
        print(f"[{part}: {time.perf_counter() - t0:.1f} s]")


if __name__ == "__main__":
    main()

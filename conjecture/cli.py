"""``twolayer conjecture``: sweep (M, d) cells for a regime and activation and write the verdict reports.

With no arguments it runs the embedded default (regime I, ReLU, M = 2..5, d = 1..4, 32 starts per cell).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from conjecture.report import NORMALISATION, best_text, certificate_text, etf_text, gap_text, polygon_section, tilt_section
from numerics.evidence.run_folder import check_output_root, new_run_folder

from theory.cli_args import add_json_flag, parse_dims, parse_int_set, print_json
from theory.errors import InputError

DEFAULT_M = "2-5"
DEFAULT_D = "1-4"
DEFAULT_STARTS = 32
DEFAULT_OUT = "conjecture_out"
MAX_M, MAX_D = 64, 64
MAX_CELLS = 4096
STUDIES = ("polygons", "tilt")


def register(subparsers) -> None:
    """Add ``twolayer conjecture`` to the parser."""
    p = subparsers.add_parser("conjecture", help="ETF conjecture: search, relaxations, certificates, verdicts over (M, d)",
                              description=__doc__)
    p.add_argument("--regime", default="I", help="I (isotropic), II (linear tilt, d -> inf), III (non-Gaussian entries)")
    p.add_argument("--activation", default="relu", help="relu, leaky_relu(s), abs, step, relu^k")
    p.add_argument("--M", default=DEFAULT_M, help=f"compressed width(s): 3, 2-8, 2..8 or 2,4 (2..{MAX_M})")
    p.add_argument("--d", default=DEFAULT_D, help=f"input dimension(s): 1-4, 2,5, or relative to M: M-1,M+2 (1..{MAX_D})")
    p.add_argument("--starts", type=int, default=DEFAULT_STARTS, help="random + perturbed-ETF starts per cell (structured frames are added)")
    p.add_argument("--seed", type=int, default=0, help="sweep seed (cell seeds derive from it; recorded)")
    p.add_argument("--out", default=DEFAULT_OUT, help="output root: each run writes OUT/<run-id>/ and OUT/latest points to it")
    p.add_argument("--frame", default=None, help="JSON file with a user frame (list of M unit rows of length d)")
    p.add_argument("--tilt-norm", type=float, default=None, help="regime II only: ||m|| / abar, m along e_1 (default 0.5)")
    p.add_argument("--law", default=None, help="regime III only: entry law (default rademacher)")
    p.add_argument("--polish-dps", type=int, default=30, help="digits for the mpmath polish (0: off)")
    p.add_argument("--max-iter", type=int, default=300, help="L-BFGS iterations per start")
    p.add_argument("--no-sdp", action="store_true", help="skip the signed-beta SDP bounds")
    p.add_argument("--solver", default="CLARABEL", help="cvxpy solver for the QP/LP/SDP: CLARABEL or SCS")
    p.add_argument("--store", default=None, metavar="PATH",
                   help="result store: SQLite file or project directory (default $TWOLAYER_STORE, else ./twolayer-results)")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="run the cells on this Dask cluster")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (0: in-process)")
    p.add_argument("--study", default=None, help="extra study over the --M values: polygons (regime I, d = 2) or "
                                                 "tilt (regime II type change, d = M + 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_json_flag(p)
    p.set_defaults(handler=run)


def _cells(args) -> list[dict]:
    Ms = parse_int_set(args.M, "M", lo=2, hi=MAX_M)
    dims = parse_dims(args.d, Ms, lo=1, hi=MAX_D)
    ds = sorted({d for v in dims.values() for d in v})
    if sum(len(v) for v in dims.values()) > MAX_CELLS:
        raise InputError("d", f"at most {MAX_CELLS} (M, d) cells in one sweep")
    if not any(dims.values()):
        raise InputError("d", f"no d in 1..{MAX_D} for these M", got=args.d)
    if args.study is not None and args.study.strip().lower() not in STUDIES:
        raise InputError("study", "expected polygons or tilt", got=args.study)
    regime = str(args.regime).strip().upper()
    if regime not in ("I", "II", "III"):
        raise InputError("regime", "expected one of I, II, III", got=args.regime)
    if args.tilt_norm is not None and regime != "II":
        raise InputError("tilt-norm", f"applies to regime II only (this run is regime {regime})", got=args.tilt_norm)
    if args.law is not None and regime != "III":
        raise InputError("law", f"applies to regime III only (regimes I and II have Gaussian-equivalent targets; "
                                f"this run is regime {regime})", got=args.law)
    tilt_norm = 0.5 if args.tilt_norm is None else args.tilt_norm
    if args.starts < 1 or args.starts > 4096:
        raise InputError("starts", "expected an integer in 1..4096", got=args.starts)
    if tilt_norm != tilt_norm or tilt_norm < 0 or tilt_norm > 1e6:
        raise InputError("tilt-norm", "expected a finite number in 0..1e6", got=args.tilt_norm)
    from theory.activations import get_activation

    act = get_activation(args.activation).name
    user = None
    if args.frame is not None:
        from conjecture.frames import load_user_frame

        arr = load_user_frame(args.frame)
        if len(Ms) > 1 or len(ds) > 1:
            Ms, ds = [arr.shape[0]], [arr.shape[1]]
        if (Ms[0], ds[0]) != arr.shape:
            raise InputError("frame", f"shape {arr.shape} does not match --M {Ms[0]} --d {ds[0]}")
        user = arr.tolist()
    if args.frame is not None:
        dims = {Ms[0]: ds}
    cells = []
    for M in Ms:
        for d in dims[M]:
            c = {"M": M, "d": d, "regime": regime, "activation": act, "starts": args.starts, "polish_dps": args.polish_dps,
                 "max_iter": args.max_iter, "solver": args.solver.upper()}
            if regime == "II":
                c["tilt_norm"] = tilt_norm
            if regime == "III":
                c["law"] = args.law or "rademacher"
            if args.no_sdp:
                c["sdp"] = False
            if user is not None:
                c["user_frame"] = user
            cells.append(c)
    from conjecture.cells import CellParams

    for c in cells:  # validate everything before any work starts, naming the options as spelled on the command line
        try:
            CellParams.from_dict(c)
        except InputError as err:
            raise InputError(err.argument.replace("_", "-"), err.message, got=err.got) from None
    return cells


def _studies(args, cells: list[dict]) -> tuple[list, dict]:
    """The requested study over the --M values, as report sections and as data."""
    if args.study is None:
        return [], {}
    key = args.study.strip().lower()
    act = cells[0]["activation"]
    Ms = [M for M in parse_int_set(args.M, "M", lo=2, hi=MAX_M)]
    if key == "polygons":
        from conjecture.polygons import polygon_study

        Ms = [M for M in Ms if M >= 3]
        if not Ms:
            raise InputError("M", "the polygon study needs M >= 3", got=args.M)
        study = polygon_study(Ms, activation=act, seed=args.seed)
        return [polygon_section(study)], {"polygons": study}
    from conjecture.tilt import tilt_study

    studies = [tilt_study(M, activation=act, seed=args.seed) for M in Ms]
    return [tilt_section(studies)], {"tilt": studies}


def _row(c: dict, cell_id: str) -> dict:
    p, s = c["params"], c["search_signed"]
    return {"M": p["M"], "d": p["d"], "regime": p["regime"], "activation": p["activation"],
            "verdict_nonneg": c["verdict_nonneg"], "verdict_signed": c["verdict_signed"],
            "reason_nonneg": c["reason_nonneg"], "reason_signed": c["reason_signed"],
            "F_ETF": (c.get("etf") or {}).get("closed_form"), "best_found": s["best_value"],
            "best_found_rounding": s.get("best_value_rounding"), "gap_rel": s.get("gap_rel"),
            "certificate": certificate_text(c), "C_target": c["C_target"], "cell_id": cell_id, "seconds": c["seconds"]}


def run(args) -> int:
    t0 = time.perf_counter()
    cells = _cells(args)
    root = check_output_root(args.out)
    from conjecture.cells import KIND, evaluate_cell
    from numerics.evidence.reports import write_sweep_reports
    from numerics.evidence.sweep import run_sweep

    outcome = run_sweep(evaluate_cell, cells, kind=KIND, store=args.store, seed=args.seed, scheduler=args.scheduler,
                        n_workers=args.workers, quiet=args.quiet, argv=["twolayer", "conjecture", *sys.argv[2:]])
    sections, study_data = _studies(args, cells)
    r0 = cells[0]
    title = f"ETF conjecture, regime {r0['regime']}, {r0['activation']}"
    folder = new_run_folder(root, outcome.run_id)
    bundle = write_sweep_reports(outcome, folder, title=title, sections=sections, extra=study_data or None,
                                 description=f"twolayer conjecture --M {args.M} --d {args.d}, {args.starts} starts per "
                                             f"cell, sweep seed {args.seed}; computed {outcome.computed}, reused "
                                             f"{outcome.reused} cells from the store.")
    ordered = sorted(outcome.records, key=lambda r: (r.result["params"]["M"], r.result["params"]["d"]))
    if args.json:
        print_json({"title": title, "run_id": outcome.run_id, "report_id": bundle.report_id,
                    "report_dir": str(folder), "store": outcome.store_path, "normalisation": NORMALISATION,
                    "cells": [_row(r.result, r.cell_id) for r in ordered], "studies": study_data,
                    "files": {k: str(v) for k, v in bundle.paths.items()}})
        return 0
    print(f"{title}: {len(ordered)} cells, starts/cell {args.starts}, seed {args.seed}; run {outcome.run_id} "
          f"({outcome.scheduler}; computed {outcome.computed}, reused {outcome.reused}); store {outcome.store_path}")
    print(f"normalisation: {NORMALISATION}")
    print(f"{'M':>3} {'d':>3}  {'beta>=0':<14} {'signed':<14} {'F_ETF (abar = 1)':<40} {'best found, signed':<34} "
          f"{'gap / C_target':<26} seconds")
    for r in ordered:
        c = r.result
        print(f"{c['params']['M']:>3} {c['params']['d']:>3}  {c['verdict_nonneg']:<14} {c['verdict_signed']:<14} "
              f"{etf_text(c):<40} {best_text(c):<34} {gap_text(c):<26} {c['seconds']:.1f}")
    for sec in sections:
        for t in sec.tables:
            print(f"\n{t.title}")
            print("  " + " | ".join(t.headers))
            for row in t.rows:
                print("  " + " | ".join(row))
    print(f"reports in {folder} (also {Path(root) / 'latest'}): " + ", ".join(sorted(p.name for p in bundle.paths.values())))
    print(f"cite: {folder / 'CITATION.txt'}; total {time.perf_counter() - t0:.1f} s")
    return 0

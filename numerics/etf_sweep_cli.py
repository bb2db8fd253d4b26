"""``twolayer etf-sweep``: q(M) = 1^T K^-1 1 at the simplex ETF, closed form against an eigen-solve, stored.

    twolayer etf-sweep [--M 2-6] [--d 3,5] [--activation relu,abs] [--dps 30] [--seed S]
                       [--store PATH] [--scheduler tcp://host:port | --workers K] [--out ROOT] [--json]

Exit status 0 when every cell agrees, 1 when one disagrees, 2 for bad input.
"""

from __future__ import annotations

from theory.cli_args import add_json_flag, parse_dims, parse_int_set, print_json
from theory.errors import InputError

MAX_M, MAX_D = 200, 10_000
MAX_CELLS = 10_000
MAX_ACTIVATIONS = 16


def _cells(args) -> list[dict]:
    from theory.activations import get_activation
    from numerics.etf_cell import MAX_DPS

    Ms = parse_int_set(args.M, "M", lo=1, hi=MAX_M)
    dims = parse_dims(args.d, Ms, lo=1, hi=MAX_D)
    names = [a.strip() for a in str(args.activation).split(",")]
    if len(names) > MAX_ACTIVATIONS:
        raise InputError("activation", f"at most {MAX_ACTIVATIONS} activations")
    acts = list(dict.fromkeys(get_activation(a).name for a in names))
    if not 10 <= args.dps <= MAX_DPS:
        raise InputError("dps", f"expected an integer from 10 to {MAX_DPS}", got=args.dps)
    cells = [{"activation": a, "M": M, "d": d, "dps": args.dps} for a in acts for M in Ms for d in dims[M] if M <= d + 1]
    if not cells:
        raise InputError("M", "no (M, d) pair with M <= d + 1 (the simplex ETF needs it)", got=args.M)
    if len(cells) > MAX_CELLS:
        raise InputError("M", f"grid too large ({len(cells)} cells > {MAX_CELLS})")
    return cells


def _cmd_etf_sweep(args) -> int:
    from numerics import etf_report  # noqa: F401  (registers the report content of the kind)
    from numerics.etf_cell import KIND, etf_cell
    from numerics.evidence.reports import write_sweep_reports
    from numerics.evidence.run_folder import check_output_root, new_run_folder
    from numerics.evidence.sweep import run_sweep, sweep_kwargs

    cells = _cells(args)
    root = None if args.out is None else check_output_root(args.out)
    outcome = run_sweep(etf_cell, cells, kind=KIND, **sweep_kwargs(args))
    agree = sum(r.result.get("verdict") == "agree" for r in outcome.records)
    folder = bundle = None
    if root is not None:
        folder = new_run_folder(root, outcome.run_id)
        bundle = write_sweep_reports(outcome, folder, title=args.title, description=etf_report.NORMALISATION)
    if args.json:
        print_json({"run_id": outcome.run_id, "store": outcome.store_path, "cells": len(outcome.records),
                    "computed": outcome.computed, "reused": outcome.reused, "agree": agree,
                    "normalisation": etf_report.NORMALISATION,
                    "rows": [{"cell_id": r.cell_id, **r.params, "verdict": r.result["verdict"],
                              "q": r.result["values"]["one_K_inv_one"], "digits_agreed": r.result["digits_agreed"],
                              "ltilde_star": r.result["values"]["ltilde_star"]} for r in outcome.records],
                    "report_dir": None if folder is None else str(folder),
                    "report_id": None if bundle is None else bundle.report_id})
    else:
        print(f"run {outcome.run_id}: {len(outcome.records)} cells ({outcome.computed} computed, {outcome.reused} "
              f"reused) on {outcome.scheduler} in {outcome.wall_seconds:.2f} s; {agree} agree (closed form vs "
              f"eigen-solve); store {outcome.store_path}")
        if bundle is not None:
            print(f"report {bundle.report_id}: {bundle.paths['html']}")
    return 0 if agree == len(outcome.records) else 1


def register(subparsers) -> None:
    """Add ``etf-sweep`` to the ``twolayer`` parser."""
    from numerics.evidence.sweep import add_sweep_arguments

    e = subparsers.add_parser("etf-sweep", help="sweep q(M) = 1^T K^-1 1 at the simplex ETF (closed form vs eigen-solve), stored",
                              description=__doc__)
    e.add_argument("--M", default="2-6", help=f"compressed widths, e.g. 2-6, 2..6 or 2,3,5 (1..{MAX_M})")
    e.add_argument("--d", default="3,5", help=f"input dimensions, e.g. 3,5 or relative M-1 (1..{MAX_D})")
    e.add_argument("--activation", default="relu", help="activation, or a comma list of them")
    e.add_argument("--dps", type=int, default=30, help="decimal digits")
    add_sweep_arguments(e)
    e.add_argument("--out", default=None, metavar="ROOT", help="write the reports to ROOT/<run-id>/ (ROOT/latest points to it)")
    e.add_argument("--title", default="Simplex ETF: 1^T K^-1 1 and Ltilde*, closed form vs eigen-solve")
    add_json_flag(e)
    e.set_defaults(handler=_cmd_etf_sweep)

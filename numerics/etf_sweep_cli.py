"""``twolayer etf-sweep``: q(M) = 1^T K^-1 1 at the simplex ETF, closed form against an eigen-solve, stored."""

from __future__ import annotations

import argparse

from theory.errors import InputError
from numerics.evidence.cli import MAX_GRID_CELLS, _int_list


def _cmd_etf_sweep(args: argparse.Namespace) -> int:
    from theory.activations import get_activation
    from numerics.etf_cell import KIND, MAX_DPS, etf_cell
    from numerics.evidence.reports import write_sweep_reports
    from numerics.evidence.sweep import run_sweep, sweep_kwargs

    neurons = _int_list(args.neurons, "neurons", lo=1, hi=200)
    dims = _int_list(args.dims, "dims", lo=1, hi=10_000)
    acts = [get_activation(a).name for a in str(args.activations).split(",")]
    if not 10 <= args.dps <= MAX_DPS:
        raise InputError("dps", f"expected an integer from 10 to {MAX_DPS}", got=args.dps)
    cells = [{"activation": a, "M": M, "d": d, "dps": args.dps} for a in acts for d in dims for M in neurons if M <= d + 1]
    if not cells:
        raise InputError("neurons", "no (M, d) pair with M <= d + 1 (the simplex ETF needs it)", got=args.neurons)
    if len(cells) > MAX_GRID_CELLS:
        raise InputError("neurons", f"grid too large ({len(cells)} cells > {MAX_GRID_CELLS})")
    outcome = run_sweep(etf_cell, cells, kind=KIND, **sweep_kwargs(args))
    agree = sum(r.result.get("verdict") == "agree" for r in outcome.records)
    print(f"run {outcome.run_id}: {len(outcome.records)} cells ({outcome.computed} computed, {outcome.reused} reused)"
          f" on {outcome.scheduler} in {outcome.wall_seconds:.2f} s; {agree} agree (closed form vs eigen-solve)")
    if args.out:
        bundle = write_sweep_reports(outcome, args.out, title=args.title, x="M", y="d", value="ltilde_star",
                                     description="Regime (I), abar = 1: q(M) = 1^T K^{-1} 1 at the simplex ETF by "
                                                 "the closed form and by an eigen-solve of K, and Ltilde* = c_d - c_d^2 q(M).")
        print(f"report {bundle.report_id}: {bundle.paths['html']}")
    return 0 if agree == len(outcome.records) else 1


def register(subparsers) -> None:
    """Add ``etf-sweep`` to the ``twolayer`` parser."""
    from numerics.evidence.sweep import add_sweep_arguments

    e = subparsers.add_parser("etf-sweep", help="sweep q(M) = 1^T K^-1 1 at the simplex ETF (closed form vs eigen-solve), stored",
                              description="A cheap evidence sweep over (activation, M, d): closed form vs eigen-solve at "
                                          "--dps digits; results go to the store, reports to --out.")
    e.add_argument("--neurons", default="2..6", help="M values, e.g. 2..6 or 2,3,5 (default 2..6)")
    e.add_argument("--dims", default="3,5", help="d values (default 3,5)")
    e.add_argument("--activations", default="relu", help="comma-separated activations (default relu)")
    e.add_argument("--dps", type=int, default=30, help="decimal digits (default 30)")
    add_sweep_arguments(e)
    e.add_argument("--out", default=None, metavar="DIR", help="write HTML/Markdown/LaTeX/citation reports here")
    e.add_argument("--title", default="Simplex ETF: 1^T K^-1 1 and Ltilde*, closed form vs eigen-solve")
    e.set_defaults(handler=_cmd_etf_sweep)

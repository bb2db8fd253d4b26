"""Subcommands for evidence: ``reproduce``, ``store`` (runs, cells, export, check) and ``etf-sweep``.

    twolayer reproduce TARGET [--store PATH] [--max-cells N] [--json]
    twolayer store runs|cells|export|report|check [--store PATH] ...
    twolayer etf-sweep [--neurons 2..6] [--dims 3,5] [--activations relu,abs] [--dps 30] [--seed S]
                       [--store PATH] [--scheduler tcp://host:port | --workers K] [--out DIR] [--quiet]

Exit status: 0 success (reproduce: every number matches), 1 reproduce found a mismatch or a re-run
failed, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from theory.cli_args import add_json_flag, print_json
from theory.errors import InputError

def _add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="PATH", default=None,
                   help="result store: SQLite file or project directory (default $TWOLAYER_STORE, else ./twolayer-results)")
    add_json_flag(p)


# -- reproduce ------------------------------------------------------------------------------------------
def _cmd_reproduce(args: argparse.Namespace) -> int:
    from numerics.evidence.reproduce import Status, reproduce

    def show(cell) -> None:
        if args.json:
            return
        digits = ""
        tight = cell.tightest
        if tight is not None and tight.identical:
            digits = "; every number identical"
        elif tight is not None:
            digits = f"; tightest {tight.path}: {tight.digits_agreed:g} digits agree, {tight.digits_required:g} recorded"
        print(f"cell {cell.cell_id} [{cell.kind}] {json.dumps(cell.params, sort_keys=True)} seed {cell.seed}: "
              f"{cell.status.value.upper()} ({len(cell.comparisons)} values compared{digits}; "
              f"{cell.seconds:.2f} s, recorded {cell.recorded_seconds:.2f} s)"
              + (f"\n    {cell.message}" if cell.message else ""))

    res = reproduce(args.target, store=args.store, max_cells=args.max_cells, on_cell=show)
    n = len(res.cells)
    n_match = sum(c.status is Status.MATCH for c in res.cells)
    git_then = res.recorded_git or {}
    git_now = res.current.get("git") or {}
    if args.json:
        print_json({
            "target": res.target, "target_kind": res.target_kind, "store": res.store_path, "status": res.status.value,
            "recorded_git": git_then, "current_git": git_now,
            "cells": [{"cell_id": c.cell_id, "kind": c.kind, "status": c.status.value, "message": c.message,
                       "min_digits_agreed": (None if c.min_digits_agreed is None else
                                             "identical" if c.min_digits_agreed == float("inf") else c.min_digits_agreed),
                       "min_digits_required": c.min_digits_required}
                      for c in res.cells]})
    else:
        same = git_then.get("commit") == git_now.get("commit")
        print(f"{res.target_kind} {res.target}: {n_match}/{n} cells reproduce to their recorded precision"
              f" -> {res.status.value.upper()}")
        print(f"recorded with git {str(git_then.get('commit'))[:12]} (dirty {git_then.get('dirty')}); "
              f"re-run with git {str(git_now.get('commit'))[:12]} (dirty {git_now.get('dirty')})"
              + ("" if same else "  [different commit]"))
    return 0 if res.status is Status.MATCH else 1


# -- store ------------------------------------------------------------------------------------------------
def _open_store(args):
    from numerics.evidence.store import ResultStore

    return ResultStore(args.store, create=False)


def _cmd_store_runs(args: argparse.Namespace) -> int:
    with _open_store(args) as st:
        runs = st.runs()
        if args.json:
            print_json({"store": str(st.path), "runs": [{"run_id": r.run_id, "status": r.status, "kind": r.kind,
                                                          "seed": r.seed, "cells": r.n_cells, "computed": r.computed,
                                                          "reused": r.reused, "started_at": r.started_at,
                                                          "scheduler": r.scheduler} for r in runs]})
            return 0
        for r in runs:
            print(f"{r.run_id}  {r.status:<11} {r.kind:<20} seed {r.seed:<6} cells {r.n_cells:>5}  computed {r.computed:>5}"
                  f"  reused {r.reused:>5}  {r.started_at}  {r.scheduler}")
    return 0


def _cmd_store_cells(args: argparse.Namespace) -> int:
    from numerics.evidence.provenance import canonical_json

    if args.limit is not None and args.limit < 1:
        raise InputError("limit", "expected an integer >= 1", got=args.limit)
    with _open_store(args) as st:
        run_id = st.get_run(args.run).run_id if args.run else None
        rows = []
        for c in st.iter_cells(run_id=run_id, kind=args.kind):
            if args.limit and len(rows) >= args.limit:
                break
            rows.append(c)
        if args.json:
            print_json({"store": str(st.path), "cells": [{"cell_id": c.cell_id, "kind": c.kind, "params": c.params,
                                                           "verdict": c.result.get("verdict"), "seconds": c.seconds}
                                                          for c in rows]})
            return 0
        for c in rows:
            verdict = c.result.get("verdict")
            shown = "" if verdict is None else f"  verdict={verdict}"
            print(f"{c.cell_id}  {c.kind}  {canonical_json(c.params)}{shown}  {c.seconds:.3f} s")
    return 0


def _cmd_store_export(args: argparse.Namespace) -> int:
    from numerics.evidence.provenance import collect_provenance

    out = Path(args.out)
    if out.is_dir():
        raise InputError("out", "expected a file name, not a directory", got=args.out)
    fmt = args.format or ("parquet" if out.suffix == ".parquet" else "json")
    with _open_store(args) as st:
        run_id = st.get_run(args.run).run_id if args.run else None
        prov = collect_provenance()
        path = (st.export_parquet if fmt == "parquet" else st.export_json)(out, run_id=run_id, kind=args.kind,
                                                                           provenance=prov)
        n = len(st.export_rows(run_id=run_id, kind=args.kind))
    if args.json:
        print_json({"path": str(path), "cells": n, "format": fmt})
    else:
        print(f"wrote {n} cells to {path} ({fmt})")
    return 0


def _cmd_store_report(args: argparse.Namespace) -> int:
    from numerics.evidence.reports import write_sweep_reports
    from numerics.evidence.run_folder import check_output_root, new_run_folder
    from numerics.evidence.sweep import outcome_from_store

    with _open_store(args) as st:
        outcome = outcome_from_store(st, args.run)
        if not outcome.records:
            raise InputError("run", "this run has no stored cells", got=args.run)
        title = args.title or f"Sweep {outcome.kind}, run {outcome.run_id}"
        folder = new_run_folder(check_output_root(args.out), outcome.run_id)
        bundle = write_sweep_reports(outcome, folder, title=title, store=st)
    if args.json:
        print_json({"report_id": bundle.report_id, "run_id": outcome.run_id, "cells": len(outcome.records),
                    "report_dir": str(folder), "files": {k: str(v) for k, v in bundle.paths.items()}})
    else:
        print(f"report {bundle.report_id} ({len(outcome.records)} cells of run {outcome.run_id}): {bundle.paths['html']}")
    return 0


def _cmd_store_check(args: argparse.Namespace) -> int:
    with _open_store(args) as st:
        integrity = st.integrity_check()
        dups = st.duplicate_cell_count()
        n = st.count_cells()
        runs = st.runs()
    complete = sum(r.status == "complete" for r in runs)
    if args.json:
        print_json({"store": str(st.path), "integrity_check": integrity, "cells": n, "duplicate_ids": dups,
                    "runs": len(runs), "complete_runs": complete})
    else:
        print(f"store {st.path}: integrity_check {integrity}; {n} cells, {dups} duplicate ids; {len(runs)} runs "
              f"({complete} complete)")
    return 0 if integrity == "ok" and dups == 0 else 1


def register(subparsers) -> None:
    """Add ``reproduce`` and ``store`` to the ``twolayer`` parser."""
    p = subparsers.add_parser("reproduce", help="re-run a recorded cell, run or report and check the numbers match",
                              description="Re-run stored cells (TARGET: cell id or prefix, run id r..., report id "
                                          "rep-..., or a report file) and state whether every number matches to its "
                                          "recorded precision. Exit 0 all match, 1 mismatch, 2 bad input.")
    p.add_argument("target", help="cell id, run id, report id or report file")
    _add_store(p)
    p.add_argument("--max-cells", type=int, default=None, metavar="N", help="re-run only the first N cells")
    p.set_defaults(handler=_cmd_reproduce)

    s = subparsers.add_parser("store", help="inspect, check and export the result store")
    ss = s.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    q = ss.add_parser("runs", help="list runs")
    _add_store(q)
    q.set_defaults(handler=_cmd_store_runs)
    q = ss.add_parser("cells", help="list cells")
    _add_store(q)
    q.add_argument("--run", default=None, help="only this run's cells")
    q.add_argument("--kind", default=None, help="only cells of this kind")
    q.add_argument("--limit", type=int, default=None, help="at most this many")
    q.set_defaults(handler=_cmd_store_cells)
    q = ss.add_parser("export", help="export cells to JSON or Parquet (with provenance and content hash)")
    _add_store(q)
    q.add_argument("--out", required=True, metavar="FILE", help="output file (.json or .parquet)")
    q.add_argument("--format", choices=("json", "parquet"), default=None, help="default: from the file suffix")
    q.add_argument("--run", default=None, help="only this run's cells")
    q.add_argument("--kind", default=None, help="only cells of this kind")
    q.set_defaults(handler=_cmd_store_export)
    q = ss.add_parser("report", help="write the HTML/Markdown/LaTeX/citation reports of a stored run")
    _add_store(q)
    q.add_argument("--run", required=True, help="run id (or unique prefix)")
    q.add_argument("--out", required=True, metavar="ROOT", help="write the reports to ROOT/<run-id>/ (ROOT/latest points to it)")
    q.add_argument("--title", default=None, help="report title (default: kind and run id)")
    q.set_defaults(handler=_cmd_store_report)
    q = ss.add_parser("check", help="PRAGMA integrity_check and duplicate count")
    _add_store(q)
    q.set_defaults(handler=_cmd_store_check)

"""Subcommands for evidence: ``reproduce``, ``store`` (runs, cells, export, check) and ``etf-sweep``.

    twolayer reproduce TARGET [--store PATH] [--max-cells N] [--json]
    twolayer store runs|cells|export|report|check [--store PATH] ...
    twolayer etf-sweep [--neurons 2..6] [--dims 3,5] [--activations relu,abs] [--dps 30] [--seed S]
                       [--store PATH] [--scheduler tcp://host:port | --workers K] [--out DIR] [--quiet]

Exit status: 0 success (reproduce: every number matches), 1 reproduce found a mismatch or a re-run
failed, 2 bad input (one line on stderr).

``reproduce`` and every ``store`` action read the store only (``ResultStore(..., readonly=True)``): they
never create, migrate or write it, and refuse a file that is not a twolayer store.  ``store report``
writes its report files under --out; ``store export`` writes --out only, atomically, and refuses an
existing file unless --force is given.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from theory.cli_args import add_json_flag, print_json
from theory.errors import InputError
from theory.limits import shown

# `store cells --limit`: at most this many rows in one listing.
MAX_LIST_LIMIT = 100_000
# Longest --kind accepted (kinds are short names such as 'etf-q').
MAX_KIND_CHARS = 100
# Longest report-file path for `reproduce` (Linux PATH_MAX) and longest component (NAME_MAX), in bytes.
MAX_PATH_BYTES, MAX_NAME_BYTES = 4096, 255
# Export formats by file suffix; --format may name a file with another suffix, except one of these,
# which say the file holds something else.
EXPORT_SUFFIXES = {".json": "json", ".parquet": "parquet"}
OTHER_FORMAT_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".xlsx", ".xls", ".sqlite", ".sqlite3", ".db", ".html",
                                   ".htm", ".md", ".tex", ".pdf", ".png", ".yaml", ".yml", ".toml", ".xml", ".gz",
                                   ".zip", ".feather", ".arrow", ".pkl", ".npy", ".npz", ".h5", ".hdf5"})
# Where `reproduce` names the cell, run or report of TARGET, the argument is TARGET.
_TARGET_ARGUMENTS = frozenset({"cell", "run", "report"})

# `reproduce --max-cells`: at most this many.
MAX_REPRODUCE_CELLS = 1_000_000


def _bounded_int(lo: int, hi: int):
    """An argparse ``type``: an integer in lo..hi, refused in one short line (the value echoed cut short)."""

    def parse(text: str) -> int:
        body = text.strip()
        digits = body[1:] if body[:1] in "+-" else body
        if not digits.isdigit() or not digits.isascii() or len(digits) > 9 or not lo <= int(body) <= hi:
            raise argparse.ArgumentTypeError(f"expected an integer from {lo} to {hi} (got {shown(text)!r})")
        return int(body)

    parse.__name__ = "integer"
    return parse


def _add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="PATH", default=None,
                   help="result store: SQLite file or project directory (default $TWOLAYER_STORE, else ./twolayer-results)")
    add_json_flag(p)


# -- reproduce ------------------------------------------------------------------------------------------
def _cmd_reproduce(args: argparse.Namespace) -> int:
    from numerics.evidence.reproduce import CHECK_KIND, Status, reproduce

    def show(cell) -> None:
        if args.json:
            return
        if cell.kind == CHECK_KIND:
            print(f"report check {cell.cell_id}: {cell.status.value.upper()}" + (f": {cell.message}" if cell.message else ""))
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

    _check_target(args.target, args.store)
    try:
        res = reproduce(args.target, store=args.store, max_cells=args.max_cells, on_cell=show)
    except InputError as err:
        if err.argument not in _TARGET_ARGUMENTS:
            raise
        raise InputError("target", err.message, got=None if err.got is None else _shown_path(err.got)) from None
    except RecursionError:  # a report file's JSON nested too deeply to parse
        raise InputError("target", "not a twolayer report (its JSON is nested too deeply to read)",
                         got=shown(args.target)) from None
    if args.json:
        print_json(res.as_json())
    else:
        print(res.text())
    return 0 if res.status is Status.MATCH else 1


def _shown_path(text: object) -> str:
    from numerics.evidence.store import shown_path

    return shown_path(text)


def _check_target(target: object, store: str | None) -> None:
    """Refuse, before anything is opened or run, a TARGET that cannot be an id or a report file: control
    characters, a path longer than the system allows, an id longer than MAX_ID_CHARS or not of letters,
    digits and '-'.  (A missing store is reported first, as `reproduce` itself would.)"""
    from numerics.evidence.store import MAX_ID_CHARS, MIN_ID_CHARS, ResultStore

    if not isinstance(target, str) or not target.strip():
        raise InputError("target", "expected a cell id, run id (r...), report id (rep-...) or report file")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        raise InputError("target", "contains control characters", got=shown(target))
    from numerics.evidence.reproduce import looks_like_file

    if looks_like_file(target):
        raw = os.fsencode(target)
        if len(raw) > MAX_PATH_BYTES or any(len(part) > MAX_NAME_BYTES for part in raw.split(b"/")):
            raise InputError("target", f"report file path too long (at most {MAX_PATH_BYTES} bytes, "
                             f"{MAX_NAME_BYTES} per name)", got=_shown_path(target))
        return
    ResultStore(store, readonly=True).close()  # "no result store" / "not a twolayer result store" first
    body = target.strip()
    if (not MIN_ID_CHARS <= len(body) <= MAX_ID_CHARS
            or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in body)
            or (body.startswith("rep-") and not all(ch in "0123456789abcdef" for ch in body[4:]))):
        raise InputError("target", f"expected a cell id (hex), run id (r...) or report id (rep-<hex>), or a unique "
                         f"prefix of one: {MIN_ID_CHARS} to {MAX_ID_CHARS} letters, digits or '-'; or a report file",
                         got=shown(target))


# -- store ------------------------------------------------------------------------------------------------
def _open_store(args):
    """The store of --store, read-only (every `store` action is a read)."""
    from numerics.evidence.store import ResultStore

    return ResultStore(args.store, readonly=True)


def _check_kind(kind: str | None) -> None:
    if kind is None:
        return
    if not kind.strip() or len(kind) > MAX_KIND_CHARS or any(ord(ch) < 32 for ch in kind):
        raise InputError("kind", f"expected a cell kind name (1 to {MAX_KIND_CHARS} printable characters)",
                         got=shown(kind))


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

    if args.limit is not None and not 1 <= args.limit <= MAX_LIST_LIMIT:
        raise InputError("limit", f"expected an integer from 1 to {MAX_LIST_LIMIT}", got=shown(args.limit))
    _check_kind(args.kind)
    with _open_store(args) as st:
        run_id = st.get_run(args.run).run_id if args.run is not None else None
        rows = list(st.iter_cells(run_id=run_id, kind=args.kind, limit=args.limit))
        if args.json:
            print_json({"store": str(st.path), "cells": [{"cell_id": c.cell_id, "kind": c.kind, "params": c.params,
                                                           "verdict": c.result.get("verdict"), "seconds": c.seconds}
                                                          for c in rows]})
            return 0
        for c in rows:
            verdict = c.result.get("verdict")
            tail = "" if verdict is None else f"  verdict={verdict}"
            print(f"{c.cell_id}  {c.kind}  {canonical_json(c.params)}{tail}  {c.seconds:.3f} s")
    return 0


def _export_format(out: Path, fmt: str | None) -> str:
    """The export format: --format, or the suffix of --out (.json, .parquet); they must agree."""
    suffix = out.suffix.lower()
    implied = EXPORT_SUFFIXES.get(suffix)
    if fmt is not None:
        if implied is not None and implied != fmt:
            raise InputError("format", f"--format {fmt} contradicts the {suffix} suffix of --out", got=fmt)
        if implied is None and suffix in OTHER_FORMAT_SUFFIXES:
            raise InputError("format", f"--format {fmt} contradicts the {suffix} suffix of --out (name the file "
                             f".{fmt})", got=fmt)
        return fmt
    if implied is None:
        what = f"the suffix {suffix!r}" if suffix else "a name without a suffix"
        raise InputError("out", f"cannot tell the export format from {what}; name the --out file .json or "
                         ".parquet, or pass --format json|parquet", got=_shown_path(out))
    return implied


def _cmd_store_export(args: argparse.Namespace) -> int:
    from numerics.evidence.provenance import collect_provenance

    if not args.out or not args.out.strip() or "\x00" in args.out:
        raise InputError("out", "expected a file name", got=_shown_path(args.out))
    out = Path(args.out)
    raw = os.fsencode(args.out)
    if len(raw) > MAX_PATH_BYTES or any(len(part) > MAX_NAME_BYTES for part in raw.split(b"/")):
        raise InputError("out", "path too long", got=_shown_path(args.out))
    try:
        if out.is_dir():
            raise InputError("out", "expected a file name, not a directory", got=_shown_path(args.out))
        exists = os.path.lexists(out)
    except OSError as err:
        raise InputError("out", f"cannot use this path ({err.strerror})", got=_shown_path(args.out)) from None
    if exists and not args.force:
        raise InputError("out", "the --out file exists already; nothing was written (pass --force to replace it)",
                         got=_shown_path(args.out))
    fmt = _export_format(out, args.format)
    _check_kind(args.kind)
    with _open_store(args) as st:
        if exists:
            try:
                same = os.path.samefile(out, st.path)
            except OSError:
                same = False
            if same:
                raise InputError("out", "is the result store itself; refusing to replace it", got=_shown_path(args.out))
        run_id = st.get_run(args.run).run_id if args.run is not None else None
        n = len(st.export_rows(run_id=run_id, kind=args.kind))
        prov = collect_provenance()
        path = (st.export_parquet if fmt == "parquet" else st.export_json)(out, run_id=run_id, kind=args.kind,
                                                                           provenance=prov, overwrite=args.force)
    if args.json:
        print_json({"path": str(path), "cells": n, "format": fmt, "replaced": exists})
    else:
        print(f"wrote {n} cells to {path} ({fmt}{'; replaced the file that was there' if exists else ''})")
    return 0


def _cmd_store_report(args: argparse.Namespace) -> int:
    from numerics.evidence.reports import write_sweep_reports
    from numerics.evidence.run_folder import check_output_root, new_run_folder
    from numerics.evidence.sweep import outcome_from_store

    with _open_store(args) as st:
        outcome = outcome_from_store(st, args.run)
        if not outcome.records:
            raise InputError("run", "this run has no stored cells", got=shown(args.run))
        title = args.title or f"Sweep {outcome.kind}, run {outcome.run_id}"
        folder = new_run_folder(check_output_root(args.out), outcome.run_id)
        # The store is read-only here: the report is not recorded in it (write_sweep_reports' add_report
        # returns False).  It may be there already, from the sweep that wrote the same report.
        bundle = write_sweep_reports(outcome, folder, title=title, store=st)
        try:
            in_store = st.get_report(bundle.report_id)["report_id"] == bundle.report_id
        except InputError:
            in_store = False
    if args.json:
        print_json({"report_id": bundle.report_id, "run_id": outcome.run_id, "cells": len(outcome.records),
                    "report_dir": str(folder), "files": {k: str(v) for k, v in bundle.paths.items()},
                    "report_in_store": in_store})
    else:
        print(f"report {bundle.report_id} ({len(outcome.records)} cells of run {outcome.run_id}): {bundle.paths['html']}")
        if not in_store:
            print(f"(not recorded in the store, which `store report` only reads; reproduce it from its file: "
                  f"twolayer reproduce {bundle.paths['json']})")
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
    p.add_argument("--max-cells", type=_bounded_int(1, MAX_REPRODUCE_CELLS), default=None, metavar="N",
                   help="re-run only the first N cells")
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
    q.add_argument("--limit", type=_bounded_int(1, MAX_LIST_LIMIT), default=None, metavar="N",
                   help=f"at most this many (1 to {MAX_LIST_LIMIT})")
    q.set_defaults(handler=_cmd_store_cells)
    q = ss.add_parser("export", help="export cells to JSON or Parquet (with provenance and content hash)")
    _add_store(q)
    q.add_argument("--out", required=True, metavar="FILE",
                   help="output file (.json or .parquet); written atomically; an existing file needs --force")
    q.add_argument("--format", choices=("json", "parquet"), default=None,
                   help="default: from the file suffix (which must agree with it)")
    q.add_argument("--force", action="store_true", help="replace an existing --out file")
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

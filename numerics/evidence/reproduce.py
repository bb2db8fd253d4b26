"""Reproduction of stored evidence: re-run recorded cells and say whether the numbers match.

    match  <=>  every numeric leaf x of the recorded result and its re-computed y satisfy
                |x - y| <= 10^(-p) max(|x|, |y|)   (p = the recorded precision of that value),
                and every other leaf (verdicts, labels, integers) is equal.

The recorded precision ``p`` comes from the result's ``precision_digits``: an int (all values) or a
dict {value name: digits} (looked up by the full dotted path, then by the last name).  Float leaves
without a declared precision need ``DEFAULT_FLOAT_DIGITS``; decimal strings without one must be equal
as text.  Leaves named like timings (``TIMING_KEYS``, or names ending in 'seconds') are not compared.

A target is a cell id (hex, a unique prefix is enough), a run id (``r...``), a report id (``rep-...``)
or a report file (report.html / .json / .md / .tex).

A twolayer report file is checked, not only its cells re-run (``report.md`` / ``.tex`` are read through the
``report.json`` beside them; ``report.html`` carries its identity inline and is checked against the
``report.json`` beside it, or, without one, against the stored cells):

1. its ``content_hash`` is recomputed from its own cells and extra data exactly as the writer did
   (``results_hash`` of the cells, combined with ``extra`` when there is any) and its ``report_id``
   must be ``rep-`` + 12 hex digits of it;
2. its ``cell_ids`` must be the ids of its cells, each once, each in the store with the same kind,
   params and seed (exact ids: never a prefix, never a look-up by the report's own result hashes);
3. every cell is re-run and the re-run compared with the result the report states (and with the
   stored one), at the recorded precision;
4. the report-level verdict counts (``shown``), ``certified`` lists, ``kind``, ``normalisation`` and the
   kinds' findings must equal what the kinds' report content gives for the re-run results.

Any difference is a MISMATCH, reported as a check entry (kind ``report-check``) among the cells; a file
that is not a well-formed report (bad JSON, wrong field types, nested too deeply, over
``MAX_REPORT_BYTES``) is an InputError.

References: the project's issue 5 (evidence that can be cited); docs/evidence.md.

Examples
--------
>>> compare_results({"values": {"x": "1.2345"}, "precision_digits": 3},
...                 {"values": {"x": "1.2346"}, "precision_digits": 3})[0]
'match'
>>> compare_results({"verdict": "holds"}, {"verdict": "fails"})[0]
'mismatch'
"""

from __future__ import annotations

import importlib
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

import mpmath

from numerics.evidence.kind_modules import REPORT_KIND_MODULES  # imported before a report's counts are recomputed
from theory.errors import InputError
from theory.rendering import Rendered
from numerics.evidence.provenance import canonical_json, collect_provenance, content_hash, to_jsonable
from numerics.evidence.store import CellRecord, ResultStore, resolve_store_path, results_hash
from numerics.evidence.sweep import get_cell_kind, register_cell_kind, registered_kinds

# Modules that register cell kinds at import; imported (when present) before looking a kind up.
CELL_MODULES = ("numerics.etf_cell", "numerics.rates", "numerics.profiles", "conjecture.cells")
# Kinds whose module does not register them at import, registered here by name (explicit whitelist).
EXTRA_KINDS = {"conjecture-cell": ("conjecture.cells", "evaluate_cell")}
# float64 values with no declared precision: 12 significant digits, i.e. float64's 15-16 less up to
# 4 digits of summation-order / BLAS differences between machines.
DEFAULT_FLOAT_DIGITS = 12
TIMING_KEYS = frozenset({"seconds", "elapsed", "elapsed_seconds", "wall_seconds", "time_seconds", "timing",
                         "timings", "solve_seconds", "runtime"})
# The report format this module checks, and the most bytes of a report file it reads.
REPORT_FORMAT = "twolayer-report/2"
MAX_REPORT_BYTES = 64 * 1024 * 1024
# The kind of the entries that stand for a failed report-level check among Reproduction.cells.
CHECK_KIND = "report-check"
# The identity fields an HTML report embeds and its report.json repeats (numerics.evidence.reports.html.metadata).
IDENTITY_KEYS = ("format", "report_id", "content_hash", "title", "run_ids", "kind", "seed", "store", "cell_ids",
                 "created_at", "shown", "certified", "findings", "normalisation")


class Status(str, Enum):
    MATCH = "match"
    MISMATCH = "mismatch"
    ERROR = "error"


@dataclass(frozen=True)
class LeafComparison:
    """One compared leaf: path, recorded and recomputed text, digits required and agreed, match flag."""

    path: str
    recorded: str
    recomputed: str
    digits_required: float | None
    digits_agreed: float | None
    matches: bool

    @property
    def identical(self) -> bool:
        return self.digits_agreed == math.inf


@dataclass(frozen=True)
class CellReproduction:
    """The re-run of one stored cell."""

    cell_id: str
    kind: str
    params: dict
    seed: int
    status: Status
    comparisons: tuple[LeafComparison, ...]
    seconds: float
    recorded_seconds: float
    message: str = ""

    @property
    def tightest(self) -> LeafComparison | None:
        """The compared value with the least margin (digits agreed minus digits required)."""
        num = [c for c in self.comparisons if c.digits_required is not None and c.digits_agreed is not None]
        return min(num, key=lambda c: c.digits_agreed - c.digits_required) if num else None

    @property
    def min_digits_agreed(self) -> float | None:
        vals = [c.digits_agreed for c in self.comparisons if c.digits_agreed is not None]
        return min(vals) if vals else None  # math.inf when every compared number is identical

    @property
    def min_digits_required(self) -> float | None:
        vals = [c.digits_required for c in self.comparisons if c.digits_required is not None]
        return min(vals) if vals else None


@dataclass(frozen=True, repr=False)
class Reproduction(Rendered):
    """The re-run of a target (cell, run or report): per-cell outcomes and the environment then and now."""

    target: str
    target_kind: str
    store_path: str
    cells: tuple[CellReproduction, ...]
    recorded_git: dict
    current: dict = field(repr=False)

    @property
    def status(self) -> Status:
        if any(c.status is Status.ERROR for c in self.cells):
            return Status.ERROR
        if any(c.status is Status.MISMATCH for c in self.cells):
            return Status.MISMATCH
        return Status.MATCH

    @property
    def checks(self) -> tuple[CellReproduction, ...]:
        """The failed report-level checks (entries of kind CHECK_KIND; only report files have them)."""
        return tuple(c for c in self.cells if c.kind == CHECK_KIND)

    @property
    def cell_results(self) -> tuple[CellReproduction, ...]:
        """The re-run cells alone."""
        return tuple(c for c in self.cells if c.kind != CHECK_KIND)

    def as_json(self) -> dict:
        """What ``twolayer reproduce --json`` prints."""
        return {
            "target": self.target, "target_kind": self.target_kind, "store": self.store_path,
            "status": self.status.value, "recorded_git": self.recorded_git or {},
            "current_git": self.current.get("git") or {},
            "cells": [{"cell_id": c.cell_id, "kind": c.kind, "status": c.status.value, "message": c.message,
                       "min_digits_agreed": (None if c.min_digits_agreed is None else
                                             "identical" if c.min_digits_agreed == float("inf") else c.min_digits_agreed),
                       "min_digits_required": c.min_digits_required}
                      for c in self.cell_results],
            "checks": [{"check": c.cell_id, "status": c.status.value, "message": c.message} for c in self.checks]}

    def text(self) -> str:
        """The summary ``twolayer reproduce`` prints after its per-cell lines."""
        n = len(self.cell_results)
        n_match = sum(c.status is Status.MATCH for c in self.cell_results)
        git_then, git_now = self.recorded_git or {}, self.current.get("git") or {}
        same = git_then.get("commit") == git_now.get("commit")
        checks = f"; {len(self.checks)} report-level checks failed" if self.checks else ""
        return (f"{self.target_kind} {self.target}: {n_match}/{n} cells reproduce to their recorded precision{checks}"
                f" -> {self.status.value.upper()}\n"
                f"recorded with git {str(git_then.get('commit'))[:12]} (dirty {git_then.get('dirty')}); "
                f"re-run with git {str(git_now.get('commit'))[:12]} (dirty {git_now.get('dirty')})"
                + ("" if same else "  [different commit]"))


# -- comparison -----------------------------------------------------------------------------------------
def _is_timing(key: str) -> bool:
    """Timings differ between runs by nature: keys in TIMING_KEYS or ending in 'seconds' / '_time_s'."""
    low = key.lower()
    return low in TIMING_KEYS or low.endswith(("seconds", "_time_s", "_secs"))


def _leaves(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if _is_timing(str(k)):
                continue
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list):
        out[prefix + ".#len"] = len(obj)
        for i, v in enumerate(obj):
            out.update(_leaves(v, f"{prefix}.{i}"))
    else:
        out[prefix] = obj
    return out


def _precision_for(path: str, spec: Any) -> float | None:
    if spec is None:
        return None
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return float(spec)
    if isinstance(spec, dict):
        parts = path.split(".")
        # 'values.x' -> look up 'values.x', then 'x'; list entries 'bounds.x.0' -> 'bounds.x', 'x'
        candidates = [path, ".".join(parts[1:])]
        trimmed = [p for p in parts if not p.isdigit()]
        candidates += [".".join(trimmed), ".".join(trimmed[1:]), trimmed[-1] if trimmed else ""]
        for c in candidates:
            if c in spec and isinstance(spec[c], (int, float)) and not isinstance(spec[c], bool):
                return float(spec[c])
    return None


def _as_mpf(value: Any, dps: int):
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return mpmath.mpf(value)
    if isinstance(value, str):
        body = value.strip()
        if not body or not all(ch in "0123456789+-.eE" for ch in body):
            return None
        try:
            with mpmath.workdps(dps):
                return mpmath.mpf(body)
        except (ValueError, TypeError):
            return None
    return None


def _digits_agreed(a, b, dps: int) -> float:
    with mpmath.workdps(dps):
        scale = max(abs(a), abs(b))
        diff = abs(a - b)
        if diff == 0:
            return math.inf  # identical
        if scale == 0:
            return math.inf
        return float(-mpmath.log10(diff / scale))


def compare_results(recorded: dict, recomputed: dict) -> tuple[str, list[LeafComparison]]:
    """('match' or 'mismatch', leaf comparisons) of two cell results (see the module docstring)."""
    spec = recorded.get("precision_digits") if isinstance(recorded, dict) else None
    rec, new = _leaves(recorded), _leaves(recomputed)
    comps: list[LeafComparison] = []
    for path in sorted(set(rec) | set(new)):
        if path not in rec or path not in new:
            comps.append(LeafComparison(path, repr(rec.get(path, "<missing>")), repr(new.get(path, "<missing>")),
                                        None, None, False))
            continue
        a, b = rec[path], new[path]
        p = None if path.startswith("precision_digits") else _precision_for(path, spec)
        both_int = isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) and not isinstance(b, bool)
        if p is None and isinstance(a, float) and isinstance(b, float):
            p = float(DEFAULT_FLOAT_DIGITS)
        if p is not None and not both_int:
            work = int(max(p, 15)) + 10
            x, y = _as_mpf(a, work), _as_mpf(b, work)
            if x is not None and y is not None:
                agreed = _digits_agreed(x, y, work)
                comps.append(LeafComparison(path, str(a), str(b), p, agreed if agreed == math.inf else round(agreed, 2),
                                             agreed >= p))
                continue
        comps.append(LeafComparison(path, str(a), str(b), None, None, a == b and type(a) is type(b)))
    status = "match" if all(c.matches for c in comps) else "mismatch"
    return status, comps


# -- running ------------------------------------------------------------------------------------------------
def _import_cell_modules() -> None:
    for name in CELL_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that fails to import only makes its own kinds unavailable
            continue
    for kind, (module, function) in EXTRA_KINDS.items():
        if kind in registered_kinds():
            continue
        try:
            fn = getattr(importlib.import_module(module), function)
        except Exception:  # noqa: BLE001 - as above
            continue
        register_cell_kind(kind, fn)


def _import_report_modules() -> None:
    for name in REPORT_KIND_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that fails to import only leaves its kinds generic
            continue


def _rerun(rec: CellRecord) -> tuple[dict | None, float, str]:
    """(result or None, seconds, error text) of re-running a stored cell with its kind, params and seed."""
    _import_cell_modules()
    fn = get_cell_kind(rec.kind, rec.function or None)
    start = time.perf_counter()
    try:
        from numerics.evidence.sweep import execute_cell

        result, _, _ = execute_cell(fn, rec.params, rec.seed)
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - a failing re-run is a finding about this cell, reported as ERROR
        return None, time.perf_counter() - start, _one_line(f"{type(err).__name__}: {err}")
    return result, time.perf_counter() - start, ""


def _mismatch_text(c: LeafComparison, recorded: str = "recorded", recomputed: str = "recomputed") -> str:
    return (f"{c.path}: {recorded} {c.recorded[:40]} {recomputed} {c.recomputed[:40]}"
            + (f" ({c.digits_agreed} of {c.digits_required} digits)" if c.digits_required else ""))


def reproduce_cell(store: ResultStore, cell_id: str) -> CellReproduction:
    """Re-run one stored cell with its recorded kind, params and seed; compare with the stored result."""
    rec: CellRecord = store.get_cell(cell_id)
    result, seconds, error = _rerun(rec)
    if result is None:
        return CellReproduction(rec.cell_id, rec.kind, rec.params, rec.seed, Status.ERROR, (), seconds, rec.seconds,
                                error)
    status, comps = compare_results(rec.result, result)
    msg = "; ".join([_mismatch_text(c) for c in comps if not c.matches][:3])
    return CellReproduction(rec.cell_id, rec.kind, rec.params, rec.seed, Status(status), tuple(comps), seconds,
                            rec.seconds, msg)


def reproduce_stated_cell(rec: CellRecord, stated: dict) -> CellReproduction:
    """Re-run a stored cell and compare the re-run with the result a report states for it (and, where the
    stored result is not the same, with the stored one too: those comparisons have paths 'store:...')."""
    return _reproduce_stated(rec, stated)[0]


def _reproduce_stated(rec: CellRecord, stated: dict) -> tuple[CellReproduction, dict | None]:
    result, seconds, error = _rerun(rec)
    if result is None:
        return CellReproduction(rec.cell_id, rec.kind, rec.params, rec.seed, Status.ERROR, (), seconds, rec.seconds,
                                error), None
    _, comps = compare_results(stated, result)
    bad = [_mismatch_text(c, "the report states", "the re-run gives") for c in comps if not c.matches]
    if canonical_json(stated) != canonical_json(rec.result):
        _, stored = compare_results(rec.result, result)
        comps = comps + [replace(c, path="store:" + c.path) for c in stored]
        bad += [_mismatch_text(c, "stored", "the re-run gives") for c in stored if not c.matches]
    status = Status.MATCH if all(c.matches for c in comps) else Status.MISMATCH
    msg = "; ".join(bad[:3]) + (f"; and {len(bad) - 3} more" if len(bad) > 3 else "")
    return CellReproduction(rec.cell_id, rec.kind, rec.params, rec.seed, status, tuple(comps), seconds, rec.seconds,
                            _one_line(msg)), result


# -- report files -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportFile:
    """A twolayer report file as read: its identity (report.json's, or the one embedded in report.html),
    report.json itself (cells, extra; None for an HTML report without one beside it) and, for an HTML
    report, its embedded identity."""

    given: str
    identity: dict
    data: dict | None
    html_identity: dict | None
    json_path: Path | None


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _short(text: Any, n: int = 40) -> str:
    s = str(text)
    return s if len(s) <= n else s[:n] + "..."


def _read_bounded(path: Path, shown: str) -> str:
    """The UTF-8 text of a report file of at most MAX_REPORT_BYTES (InputError naming it otherwise)."""
    mib = 1024 * 1024
    limit = f"{MAX_REPORT_BYTES // mib} MiB" if MAX_REPORT_BYTES % mib == 0 else f"{MAX_REPORT_BYTES} bytes"
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise InputError("report", f"the report file is larger than {limit}; not read", got=shown)
        with open(path, "rb") as fh:
            raw = fh.read(MAX_REPORT_BYTES + 1)
    except OSError as err:
        raise InputError("report", f"cannot read the report ({err.__class__.__name__})", got=shown) from None
    if len(raw) > MAX_REPORT_BYTES:
        raise InputError("report", f"the report file is larger than {limit}; not read", got=shown)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("report", "the report file is not UTF-8 text", got=shown) from None


def _parse_json(text: str, shown: str) -> Any:
    """json.loads with the report's faults as InputError: no parse, a repeated key, nesting too deep."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as err:
        raise InputError("report", f"its JSON repeats the key {_short(err.key)!r}", got=shown) from None
    except RecursionError:
        raise InputError("report", "its JSON is nested too deeply to read", got=shown) from None
    except ValueError:  # JSONDecodeError, and integers too long to convert
        raise InputError("report", "not a twolayer report (its JSON does not parse)", got=shown) from None


def _is_twolayer(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("format"), str) and data["format"].startswith("twolayer-report/")


def _sidecar(p: Path) -> Path | None:
    """The JSON beside a report file: the same stem with .json, else report.json in the same folder."""
    for c in (p.with_suffix(".json"), p.with_name("report.json")):
        if c != p and c.is_file():
            return c
    return None


_HTML_START = "id='twolayer-report'>"


def load_report_file(target: str) -> ReportFile | tuple[Path, dict]:
    """A twolayer report file (ReportFile), or (path, what it names) for a JSON report of another writer
    or a store export: {'cell_ids': [...], 'stated': {cell id: result}} or {'results': [...]}."""
    given = str(target)
    p = Path(given)
    if p.is_dir():
        p = p / "report.json"
    if not p.is_file():
        raise InputError("report", "no such report file", got=given)
    suffix = p.suffix.lower()
    if suffix in (".html", ".htm"):
        page = _read_bounded(p, given)
        i = page.find(_HTML_START)
        j = page.find("</script>", i) if i >= 0 else -1
        if i < 0 or j < 0:  # another writer's page: what the JSON beside it names, if any
            side = _sidecar(p)
            if side is None:
                raise InputError("report", "not a twolayer HTML report (no embedded report identity)", got=given)
            data = _parse_json(_read_bounded(side, str(side)), str(side))
            if _is_twolayer(data):
                return ReportFile(given, data, data, None, side)
            foreign = _foreign_from_data(data)
            if foreign is None:
                raise InputError("report", "not a twolayer HTML report (no embedded report identity)", got=given)
            return side, foreign
        inline = _parse_json(page[i + len(_HTML_START):j], given)
        if not _is_twolayer(inline):
            raise InputError("report", "not a twolayer report (format tag missing)", got=given)
        side = _sidecar(p)
        data = None
        if side is not None:
            data = _parse_json(_read_bounded(side, str(side)), str(side))
            if not _is_twolayer(data):
                raise InputError("report", "the JSON beside this HTML report is not a twolayer report", got=str(side))
        return ReportFile(given, inline, data, inline, side)
    json_path = p
    if suffix in (".md", ".tex", ".txt", ".png"):
        json_path = _sidecar(p)
        if json_path is None:
            raise InputError("report", "report.json is missing beside this report file", got=given)
    data = _parse_json(_read_bounded(json_path, given), given)
    if _is_twolayer(data):
        return ReportFile(given, data, data, None, json_path)
    foreign = _foreign_from_data(data)
    if foreign is None:
        raise InputError("report", "not a twolayer report (format tag missing), nor a list of cell ids or results",
                         got=given)
    return json_path, foreign


def _str_list(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(v, str) for v in x)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_identity(ident: dict, shown: str) -> None:
    """InputError naming the report when a field of its identity has the wrong type (a malformed file)."""
    def bad(key: str, what: str):
        raise InputError("report", f"its '{key}' field is not {what}", got=shown)

    if ident.get("format") != REPORT_FORMAT:
        raise InputError("report", f"unsupported report format {_short(ident.get('format'))!r} (this toolkit "
                                   f"checks {REPORT_FORMAT})", got=shown)
    for key in ("report_id", "content_hash", "kind"):
        if not isinstance(ident.get(key), str):
            bad(key, "a string")
    if not _str_list(ident.get("cell_ids")):
        bad("cell_ids", "a list of cell ids (strings)")
    if ident.get("store") is not None and not isinstance(ident["store"], str):
        bad("store", "a string (the path of the result store)")
    if "run_ids" in ident and not _str_list(ident["run_ids"]):
        bad("run_ids", "a list of run ids (strings)")
    shown_counts = ident.get("shown")
    if not (isinstance(shown_counts, dict) and all(isinstance(v, dict) and all(_is_int(n) for n in v.values())
                                                   for v in shown_counts.values())):
        bad("shown", "an object of verdict counts (integers)")
    certified = ident.get("certified")
    if not (isinstance(certified, dict) and all(_str_list(v) for v in certified.values())):
        bad("certified", "an object of lists of certified cells (strings)")
    findings = ident.get("findings")
    if not (isinstance(findings, list) and all(isinstance(f, dict) for f in findings)):
        bad("findings", "a list of findings (objects)")
    if not _str_list(ident.get("normalisation")):
        bad("normalisation", "a list of strings")


def _check_cells(data: dict, shown: str) -> tuple[list[dict], dict]:
    """(cells, extra) of a report.json; InputError when either is malformed."""
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise InputError("report", "its 'cells' field is not a list of cells", got=shown)
    for i, c in enumerate(cells):
        if not (isinstance(c, dict) and isinstance(c.get("cell_id"), str) and isinstance(c.get("kind"), str)
                and isinstance(c.get("params"), dict) and _is_int(c.get("seed")) and isinstance(c.get("result"), dict)):
            raise InputError("report", f"cell {i} of the report is malformed (expected cell_id, kind, params, seed "
                                       "and result)", got=shown)
    extra = data.get("extra", {})
    if not isinstance(extra, dict):
        raise InputError("report", "its 'extra' field is not an object", got=shown)
    return cells, extra


def report_content_hash(cells: list[dict], extra: dict | None) -> str:
    """The content hash a report writer gives these cells and extra data (reports.content.build_content)."""
    chash = results_hash(cells)
    extra_data = to_jsonable(extra or {})
    if extra_data:
        chash = content_hash([chash, extra_data])
    return chash


def _check_entry(name: str, message: str, status: Status = Status.MISMATCH) -> CellReproduction:
    return CellReproduction(name, CHECK_KIND, {}, 0, status, (), 0.0, 0.0, _one_line(f"{name}: {message}"))


def _expected_content(cells: list[dict], results: dict[str, dict]) -> dict:
    """What the report writer shows for these cells with these results: kind, shown, certified,
    normalisation and the kinds' findings (numerics.evidence.reports.content / html.metadata)."""
    from numerics.evidence.reports.kinds import kind_content

    _import_report_modules()
    by_kind: dict[str, list[CellRecord]] = {}
    for c in cells:
        secs = c.get("seconds")
        rec = CellRecord(c["cell_id"], c["kind"], c["params"], c["seed"], results.get(c["cell_id"], c["result"]),
                         float(secs) if isinstance(secs, (int, float)) and not isinstance(secs, bool) else 0.0,
                         str(c.get("run_id") or ""), str(c.get("finished_at") or ""), str(c.get("worker") or ""),
                         str(c.get("function") or ""))
        by_kind.setdefault(rec.kind, []).append(rec)
    kinds = [kind_content(k, v) for k, v in by_kind.items()]
    tallies = [t for k in kinds for t in k.tallies]
    return {
        "kind": ", ".join(k.kind for k in kinds) or "none",
        "shown": {f"{t.kind}: {t.column}": t.counts for t in tallies},
        "certified": {f"{t.kind}: {t.column}": list(t.certified) for t in tallies},
        "normalisation": list(dict.fromkeys(k.normalisation for k in kinds if k.normalisation)),
        "findings": [f.as_dict() for k in kinds for f in k.findings],
    }


def _compare_shown(ident: dict, expected: dict, source: str) -> list[CellReproduction]:
    out = []
    if ident["kind"] != expected["kind"]:
        out.append(_check_entry("kind", f"the report states {ident['kind']!r} but its cells are of kind "
                                        f"{expected['kind']!r}"))
    for key in ("shown", "certified"):
        stated, exp = ident[key], expected[key]
        diffs = [f"{col!r}: the report states {canonical_json(stated.get(col, '<missing>'))}, {source} give "
                 f"{canonical_json(exp.get(col, '<missing>'))}"
                 for col in list(dict.fromkeys([*stated, *exp]))
                 if canonical_json(stated.get(col)) != canonical_json(exp.get(col))]
        if diffs:
            out.append(_check_entry(key, "; ".join(diffs[:3]) + (f"; and {len(diffs) - 3} more" if len(diffs) > 3 else "")))
    if canonical_json(ident["normalisation"]) != canonical_json(expected["normalisation"]):
        out.append(_check_entry("normalisation", f"the report states {_short(ident['normalisation'], 80)}, its "
                                                 f"kinds give {_short(expected['normalisation'], 80)}"))
    kind_findings = expected["findings"]
    if kind_findings:
        tail = ident["findings"][-len(kind_findings):]
        if canonical_json(tail) != canonical_json(kind_findings):
            out.append(_check_entry("findings", f"the report's findings of its kinds differ from what {source} give "
                                                f"({_short(canonical_json(kind_findings), 80)})"))
    return out


def reproduce_report_file(rf: ReportFile, *, store: str | None = None, max_cells: int | None = None,
                          on_cell=None) -> Reproduction:
    """Check a twolayer report file (see the module docstring) and re-run its cells."""
    shown = rf.given
    _check_identity(rf.identity, shown)
    html_alone = rf.data is None
    if not html_alone and rf.data is not rf.identity:
        _check_identity(rf.data, str(rf.json_path))
    cells, extra = (None, {}) if html_alone else _check_cells(rf.data, shown)
    ident = rf.identity
    store_path = store or ident.get("store")
    if not store_path:
        raise InputError("store", "the report names no store; pass --store", got=shown)
    listed = list(ident["cell_ids"])
    if not listed and not cells:
        raise InputError("target", "names no stored cells", got=shown)
    out: list[CellReproduction] = []

    def emit(entry: CellReproduction) -> None:
        out.append(entry)
        if on_cell is not None:
            on_cell(entry)

    with ResultStore(store_path, create=False) as st:
        ids = list(dict.fromkeys(listed + [c["cell_id"] for c in cells or []]))
        stored = {r.cell_id: r for r in st.get_cells(ids)}
        pre: list[CellReproduction] = []
        # 0. an HTML report and the report.json beside it state the same identity
        if rf.html_identity is not None and not html_alone:
            differ = [k for k in IDENTITY_KEYS
                      if canonical_json(rf.html_identity.get(k)) != canonical_json(rf.data.get(k))]
            if differ:
                pre.append(_check_entry("identity", f"the HTML report and {rf.json_path.name} beside it disagree on "
                                                    + ", ".join(differ)))
        note = ""
        if html_alone:
            cells = [stored[c].as_dict() for c in dict.fromkeys(listed) if c in stored]
            note = (" (report.json, which holds the report's cells and extra data, is not beside it: the stored cells "
                    "were hashed)")
        # 1. the content hash and the report id, recomputed from the report's own cells and extra data
        actual = report_content_hash(cells, extra)
        if ident["content_hash"] != actual:
            pre.append(_check_entry("content_hash", f"the report states {_short(ident['content_hash'], 24)} but its "
                                                    f"cells and extra data hash to {actual}{note}"))
        expected_id = "rep-" + actual.split(":", 1)[1][:12]
        if ident["report_id"] != expected_id:
            pre.append(_check_entry("report_id", f"the report states {_short(ident['report_id'], 24)} but its cells "
                                                 f"and extra data give {expected_id}{note}"))
        for c in [] if html_alone else cells:
            if "result_hash" in c and c["result_hash"] != content_hash(c["result"]):
                pre.append(_check_entry("result_hash", f"cell {_short(c['cell_id'], 20)}: the stated result hash is "
                                                       "not the hash of its stated result"))
        # 2. the cell ids: each once, the ids of the report's cells, each stored with the same inputs
        dup = [c for c, n in Counter(listed).items() if n > 1]
        if dup:
            pre.append(_check_entry("cell_ids", f"lists {len(dup)} cell id(s) more than once: "
                                                + ", ".join(_short(c, 20) for c in dup[:3])))
        if not html_alone:
            own = [c["cell_id"] for c in cells]
            dup_own = [c for c, n in Counter(own).items() if n > 1]
            if dup_own:
                pre.append(_check_entry("cells", f"{len(dup_own)} cell(s) appear more than once: "
                                                 + ", ".join(_short(c, 20) for c in dup_own[:3])))
            if listed != own:
                extra_ids = [c for c in listed if c not in set(own)]
                absent = [c for c in own if c not in set(listed)]
                detail = "; ".join(filter(None, [
                    extra_ids and "listed but not among its cells: " + ", ".join(_short(c, 20) for c in extra_ids[:3]),
                    absent and "among its cells but not listed: " + ", ".join(_short(c, 20) for c in absent[:3])]))
                if not detail:
                    detail = (f"{len(listed)} listed, {len(own)} cells" if len(listed) != len(own)
                              else "listed in another order")
                pre.append(_check_entry("cell_ids", f"do not match the ids of the report's cells ({detail})"))
        missing = [c for c in ids if c not in stored]
        if missing:
            pre.append(_check_entry("store", f"{len(missing)} of the report's {len(ids)} cell ids are not in the store "
                                             f"{st.path}: " + ", ".join(_short(c, 20) for c in missing[:3])))
        runnable = []
        for c in cells:
            rec = stored.get(c["cell_id"])
            if rec is None:
                continue
            if (c["kind"], canonical_json(c["params"]), c["seed"]) != (rec.kind, canonical_json(rec.params), rec.seed):
                pre.append(_check_entry("inputs", f"cell {_short(c['cell_id'], 20)}: the report's kind, params or seed "
                                                  "differ from the stored cell's"))
                continue
            runnable.append((rec, c["result"]))
        for entry in pre:
            emit(entry)
        # 3. re-run every cell and compare with what the report states (and what the store holds)
        todo = runnable[:max_cells] if max_cells else runnable
        results: dict[str, dict] = {}  # cell id -> re-run result
        for rec, stated in todo:
            res, result = _reproduce_stated(rec, stated)
            if result is not None:
                results[rec.cell_id] = result
            emit(res)
        # 4. the report-level verdict counts and certified cells, recounted from the re-run results
        if results:
            source = ("the re-run results" if len(results) == len(cells)
                      else f"the re-run results ({len(results)} of {len(cells)} cells; the report's own for the rest)")
            try:
                expected = _expected_content(cells, results)
            except Exception as err:  # noqa: BLE001 - a kind's content that fails on these results is a finding
                emit(_check_entry("shown", f"cannot recount the verdicts ({type(err).__name__}: {_short(err, 80)})",
                                  Status.ERROR))
            else:
                for entry in _compare_shown(ident, expected, source):
                    emit(entry)
        run_ids = ident.get("run_ids") or []
        git = _run_git(st, run_ids[0] if run_ids else None)
        path = str(st.path)
    return Reproduction(rf.given, "report", path, tuple(out), git, collect_provenance())


def looks_like_file(text: str) -> bool:
    """Whether a reproduce target names a report file (a suffix or a slash) rather than an id."""
    return Path(text).suffix.lower() in (".html", ".htm", ".json", ".md", ".tex", ".txt") or "/" in text


def resolve_target(target: str, store_arg: str | None) -> tuple[str, str, list[str], dict]:
    """(target kind, store path, cell ids, recorded git state) for a cell/run/report id or report file.
    (For a twolayer report file this only names its cells; ``reproduce`` checks the file too.)"""
    if not isinstance(target, str) or not target.strip():
        raise InputError("target", "expected a cell id, run id (r...), report id (rep-...) or report file")
    text = target.strip()
    if looks_like_file(text):
        loaded = load_report_file(text)
        if not isinstance(loaded, ReportFile):
            return foreign_report_cells(loaded[0], loaded[1], store_arg)
        _check_identity(loaded.identity, text)
        store_path = store_arg or loaded.identity.get("store")
        if not store_path:
            raise InputError("store", "the report names no store; pass --store", got=text)
        with ResultStore(store_path, create=False) as st:
            git = _run_git(st, (loaded.identity.get("run_ids") or [None])[0])
        return "report", store_path, list(loaded.identity["cell_ids"]), git
    with ResultStore(store_arg, create=False) as st:
        if text.startswith("rep-"):
            rep = st.get_report(text)
            return "report", str(st.path), list(rep["cell_ids"]), _run_git(st, rep["run_id"])
        if text.startswith("r") and not all(ch in "0123456789abcdef" for ch in text):
            run = st.get_run(text)
            return "run", str(st.path), st.run_cell_ids(run.run_id), (run.provenance or {}).get("git") or {}
        cell = st.get_cell(text)
        return "cell", str(st.path), [cell.cell_id], _run_git(st, cell.run_id)


# Where a report written by another layer's writer keeps its store, relative to the report's folder.
FOREIGN_STORE_CANDIDATES = ("twolayer.sqlite", "store/twolayer.sqlite", "../twolayer.sqlite")


def _foreign_from_data(data: Any) -> dict | None:
    """What a JSON report of another writer (or a store export) names: {'cell_ids': [...], 'stated': {...}}
    when it lists cell ids (a list, or a dict of lists per kind; 'stated' holds the result it gives for a
    listed cell, where its 'cells' are store rows), else {'results': [...]} for a list of cell results or
    store rows under 'cells'.  None when it names neither."""
    if not isinstance(data, dict):
        return None
    cells = data.get("cells")
    ids = data.get("cell_ids")
    if isinstance(ids, dict):
        ids = [c for group in ids.values() if isinstance(group, list) for c in group]
    if isinstance(ids, list) and ids and all(isinstance(c, str) for c in ids):
        stated = {}
        if isinstance(cells, list):
            stated = {c["cell_id"]: c["result"] for c in cells
                      if isinstance(c, dict) and isinstance(c.get("cell_id"), str) and isinstance(c.get("result"), dict)}
        return {"cell_ids": ids, "stated": stated}
    if isinstance(cells, list) and cells and all(isinstance(c, dict) for c in cells):
        return {"results": cells}
    return None


def foreign_report_cells(path: Path, foreign: dict, store_arg: str | None) -> tuple[str, str, list[str], dict]:
    """The stored cells of a foreign report, in the given store or one beside the report: by the cell ids
    it lists, or else by the hashes of the results it lists (the store keeps content_hash(result) per
    cell).  The hash is always computed from the listed result, never taken from a stated 'result_hash'."""
    folder = Path(path).parent
    candidates = [store_arg] if store_arg else [str(folder / c) for c in FOREIGN_STORE_CANDIDATES]
    store_path = next((c for c in candidates if c and resolve_store_path(c).is_file()), None)
    if store_path is None:
        raise InputError("store", "no store found beside this report; pass --store", got=str(path))
    with ResultStore(store_path, create=False) as st:
        if "cell_ids" in foreign:
            ids = list(dict.fromkeys(foreign["cell_ids"]))
            missing = len(set(ids) - st.finished_ids(ids))
            n = len(ids)
        else:
            cells = foreign["results"]
            hashes = [content_hash(c["result"]) if isinstance(c.get("result"), dict) else content_hash(c)
                      for c in cells]
            found: dict[str, str] = {}
            for h in hashes:
                row = st.conn.execute("SELECT cell_id FROM cells WHERE result_hash = ? LIMIT 1", (h,)).fetchone()
                if row is not None:
                    found[h] = row[0]
            missing, n = sum(h not in found for h in hashes), len(hashes)
            ids = list(dict.fromkeys(found[h] for h in hashes if h in found))
        if missing:
            raise InputError("report", f"{missing} of its {n} cells are not in the store {st.path}", got=str(path))
        git = _run_git(st, st.get_cell(ids[0]).run_id)
    return "report", str(store_path), ids, git


def _run_git(st: ResultStore, run_id: str | None) -> dict:
    if not run_id:
        return {}
    try:
        return (st.get_run(run_id).provenance or {}).get("git") or {}
    except InputError:
        return {}


def reproduce(target: str, *, store: str | None = None, max_cells: int | None = None,
              on_cell=None) -> Reproduction:
    """Re-run the cells of ``target`` (at most ``max_cells``, in recorded order) and compare each; a twolayer
    report file is checked as well (module docstring): its failed checks come first among the cells."""
    if max_cells is not None and (isinstance(max_cells, bool) or not isinstance(max_cells, int) or max_cells < 1):
        raise InputError("max-cells", "expected an integer >= 1", got=max_cells)
    if not isinstance(target, str) or not target.strip():
        raise InputError("target", "expected a cell id, run id (r...), report id (rep-...) or report file")
    text = target.strip()
    stated: dict = {}
    if looks_like_file(text):
        try:
            loaded = load_report_file(text)
            if isinstance(loaded, ReportFile):
                return reproduce_report_file(loaded, store=store, max_cells=max_cells, on_cell=on_cell)
        except RecursionError:
            raise InputError("report", "its JSON is nested too deeply to check", got=text) from None
        kind, store_path, cell_ids, git = foreign_report_cells(loaded[0], loaded[1], store)
        stated = loaded[1].get("stated") or {}
    else:
        kind, store_path, cell_ids, git = resolve_target(text, store)
    if not cell_ids:
        raise InputError("target", "names no stored cells", got=target)
    ids = cell_ids[:max_cells] if max_cells else cell_ids
    out = []
    with ResultStore(store_path, create=False) as st:
        for cid in ids:
            if cid in stated:
                res = reproduce_stated_cell(st.get_cell(cid), stated[cid])
            else:
                res = reproduce_cell(st, cid)
            out.append(res)
            if on_cell is not None:
                on_cell(res)
    return Reproduction(target, kind, str(store_path), tuple(out), git, collect_provenance())

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
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import mpmath

from theory.errors import InputError
from numerics.evidence.provenance import collect_provenance, content_hash
from numerics.evidence.reports import read_report_metadata
from numerics.evidence.store import CellRecord, ResultStore, resolve_store_path
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


@dataclass(frozen=True)
class Reproduction:
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


def reproduce_cell(store: ResultStore, cell_id: str) -> CellReproduction:
    """Re-run one stored cell with its recorded kind, params and seed; compare with the stored result."""
    rec: CellRecord = store.get_cell(cell_id)
    _import_cell_modules()
    fn = get_cell_kind(rec.kind, rec.function or None)
    start = time.perf_counter()
    try:
        from numerics.evidence.sweep import execute_cell

        result, _, _ = execute_cell(fn, rec.params, rec.seed)
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - a failing re-run is a finding about this cell, reported as ERROR
        return CellReproduction(rec.cell_id, rec.kind, rec.params, rec.seed, Status.ERROR, (),
                                time.perf_counter() - start, rec.seconds, f"{type(err).__name__}: {err}")
    seconds = time.perf_counter() - start
    status, comps = compare_results(rec.result, result)
    bad = [c for c in comps if not c.matches]
    msg = "" if not bad else "; ".join(f"{c.path}: recorded {c.recorded[:40]} recomputed {c.recomputed[:40]}"
                                       + (f" ({c.digits_agreed} of {c.digits_required} digits)" if c.digits_required else "")
                                       for c in bad[:3])
    return CellReproduction(rec.cell_id, rec.kind, rec.params, rec.seed, Status(status), tuple(comps), seconds,
                            rec.seconds, msg)


def resolve_target(target: str, store_arg: str | None) -> tuple[str, str, list[str], dict]:
    """(target kind, store path, cell ids, recorded git state) for a cell/run/report id or report file."""
    if not isinstance(target, str) or not target.strip():
        raise InputError("target", "expected a cell id, run id (r...), report id (rep-...) or report file")
    text = target.strip()
    path = Path(text)
    looks_like_file = path.suffix.lower() in (".html", ".htm", ".json", ".md", ".tex", ".txt") or "/" in text
    if looks_like_file:
        try:
            meta = read_report_metadata(path)
        except InputError as err:
            foreign = _foreign_report(path)
            if foreign is None:
                raise err from None
            return foreign_report_cells(path, foreign, store_arg)
        store_path = store_arg or meta.get("store")
        if not store_path:
            raise InputError("store", "the report names no store; pass --store", got=text)
        with ResultStore(store_path, create=False) as st:
            git = _run_git(st, (meta.get("run_ids") or [meta.get("run_id")])[0])
        return "report", store_path, list(meta["cell_ids"]), git
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


def _foreign_report(path: Path) -> dict | None:
    """What a JSON report written by another writer names: {'cell_ids': [...]} when it lists cell ids
    (a list, or a dict of lists per kind), else {'results': [...]} for a list of cell results under
    'cells'.  For a .md/.tex file, the JSON of the same stem beside it.  None when there is none."""
    p = Path(path)
    if p.suffix.lower() in (".md", ".tex", ".txt", ".png", ".html"):
        p = p.with_suffix(".json")
    if p.suffix.lower() != ".json" or not p.is_file():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    ids = data.get("cell_ids")
    if isinstance(ids, dict):
        ids = [c for group in ids.values() if isinstance(group, list) for c in group]
    if isinstance(ids, list) and ids and all(isinstance(c, str) for c in ids):
        return {"cell_ids": ids}
    cells = data.get("cells")
    if isinstance(cells, list) and cells and all(isinstance(c, dict) for c in cells):
        return {"results": cells}
    return None


def foreign_report_cells(path: Path, foreign: dict, store_arg: str | None) -> tuple[str, str, list[str], dict]:
    """The stored cells of a foreign report, in the given store or one beside the report: by the cell ids
    it lists, or else by the results' hashes (the store keeps content_hash(result) per cell)."""
    folder = Path(path).parent
    candidates = [store_arg] if store_arg else [str(folder / c) for c in FOREIGN_STORE_CANDIDATES]
    store_path = next((c for c in candidates if c and resolve_store_path(c).is_file()), None)
    if store_path is None:
        raise InputError("store", "no store found beside this report; pass --store", got=str(path))
    with ResultStore(store_path, create=False) as st:
        if "cell_ids" in foreign:
            ids = list(foreign["cell_ids"])
            missing = len(set(ids) - st.finished_ids(ids))
            n = len(ids)
        else:
            cells = foreign["results"]
            hashes = [c["result_hash"] if isinstance(c.get("result_hash"), str) and "result" in c
                      else content_hash(c) for c in cells]
            found: dict[str, str] = {}
            for h in hashes:
                row = st.conn.execute("SELECT cell_id FROM cells WHERE result_hash = ? LIMIT 1", (h,)).fetchone()
                if row is not None:
                    found[h] = row[0]
            missing, n = sum(h not in found for h in hashes), len(hashes)
            ids = [found[h] for h in hashes if h in found]
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
    """Re-run the cells of ``target`` (at most ``max_cells``, in recorded order) and compare each."""
    if max_cells is not None and (isinstance(max_cells, bool) or not isinstance(max_cells, int) or max_cells < 1):
        raise InputError("max-cells", "expected an integer >= 1", got=max_cells)
    kind, store_path, cell_ids, git = resolve_target(target, store)
    if not cell_ids:
        raise InputError("target", "names no stored cells", got=target)
    ids = cell_ids[:max_cells] if max_cells else cell_ids
    out = []
    with ResultStore(store_path, create=False) as st:
        for cid in ids:
            res = reproduce_cell(st, cid)
            out.append(res)
            if on_cell is not None:
                on_cell(res)
    return Reproduction(target, kind, str(store_path), tuple(out), git, collect_provenance())

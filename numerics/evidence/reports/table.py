"""The tabular view of a sweep shared by every report form: one row per cell, parameters then results.

    rows = [{"cell_id", params..., "verdict", values..., "seconds"}]

Examples
--------
>>> from numerics.evidence.store import CellRecord
>>> rec = CellRecord("abcd", "k", {"M": 2}, 1, {"verdict": "agree", "values": {"q": "4.000"}}, 0.1)
>>> t = sweep_table([rec])
>>> t.param_keys, t.value_keys, t.rows[0]["q"]
(['M'], ['q'], '4.000')
"""

from __future__ import annotations

import json

from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

from numerics.evidence.store import CellRecord

DISPLAY_DIGITS = 12


@dataclass(frozen=True)
class SweepTable:
    """Rows of a sweep (full-precision values as stored) and the column groups."""

    rows: tuple[dict, ...]
    param_keys: list
    value_keys: list
    verdict_counts: dict

    def varying_params(self) -> list[str]:
        """Parameters taking more than one value across the cells, in column order."""
        out = []
        for k in self.param_keys:
            vals = {repr(r.get(k)) for r in self.rows}
            if len(vals) > 1:
                out.append(k)
        return out


def _ordered_union(dicts: Sequence[dict]) -> list:
    keys: list = []
    for d in dicts:
        for k in d:
            if k not in keys:
                keys.append(k)
    return keys


_SKIP_TOP = {"verdict", "precision_digits", "source", "params"}


def cell_values(record: CellRecord) -> dict:
    """The values shown for a cell: ``result['values']`` when it is a dict, else ``{'value': ...}`` for a
    scalar there, else the scalar top-level entries of the result (not verdict, precision or params)."""
    res = record.result
    values = res.get("values")
    if isinstance(values, dict):
        return values
    if values is not None:
        return {"value": values}
    return {k: v for k, v in res.items() if k not in _SKIP_TOP and k not in record.params
            and (v is None or isinstance(v, (str, int, float, bool)))}


def _scalar(value: Any) -> Any:
    """Lists and dicts (e.g. a grid of N values) as canonical JSON text, so every table cell is hashable."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, tuple, dict)) else value


def sweep_table(records: Sequence[CellRecord]) -> SweepTable:
    """Flatten records: params and the cell values (``cell_values``) become columns; 'verdict' and
    'seconds' are kept."""
    recs = list(records)
    param_keys = _ordered_union([r.params for r in recs])
    per_cell = [cell_values(r) for r in recs]
    value_keys = _ordered_union(per_cell)
    rows = []
    for r, values in zip(recs, per_cell):
        row = {"cell_id": r.cell_id, **{k: _scalar(r.params.get(k)) for k in param_keys},
               "verdict": r.result.get("verdict"), **{k: _scalar(values.get(k)) for k in value_keys},
               "seconds": r.seconds}
        rows.append(row)
    counts = Counter(str(r.result["verdict"]) for r in recs if r.result.get("verdict") is not None)
    return SweepTable(tuple(rows), param_keys, value_keys, dict(sorted(counts.items())))


def as_float(value: Any) -> float | None:
    """A number (or a decimal string) as float; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def display(value: Any, digits: int = DISPLAY_DIGITS) -> str:
    """Short text of a cell value: decimal strings cut to ``digits`` significant digits (the stored,
    full-precision values are in the JSON export), floats in %.{digits}g, others as str.

    Examples
    --------
    >>> display("4.92612632324537253914484", 8), display(0.1), display(None)
    ('4.9261263', '0.1', '')
    """
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, str) and as_float(value) is not None and len(value) > digits + 3:
        return f"{float(value):.{digits}g}" if digits <= 16 else value
    if isinstance(value, (list, dict)):
        from numerics.evidence.provenance import canonical_json

        return canonical_json(value)
    return str(value)

"""Each result kind declares what its report shows; a kind nobody registered gets a plain table.

    register_report_kind("conjecture-cell", conjecture_content)   # in the layer that defines the kind
    kind_content("conjecture-cell", records) -> KindContent

A content function takes the kind's ``CellRecord``s and returns a ``KindContent``: its sections (tables
whose numbers carry their bounds, figures with labelled axes and legends), its verdict tallies (one per
verdict column, with the certified cells named), one compact table for LaTeX, and the normalisation.

Examples
--------
>>> from numerics.evidence.store import CellRecord
>>> rec = CellRecord("abcd1234", "k", {"M": 2}, 1, {"verdict": "agree", "values": {"q": "4.0"}}, 0.1)
>>> c = kind_content("k", [rec])
>>> c.tallies[0].text(), c.sections[0].tables[0].headers
('verdict: 1 agree', ('cell', 'M', 'verdict', 'q', 'seconds'))
"""

from __future__ import annotations

from typing import Callable, Sequence

from numerics.evidence.reports.figures import verdict_map_png
from numerics.evidence.reports.model import Figure, KindContent, Section, Table, VerdictTally
from numerics.evidence.reports.table import as_float, display, sweep_table
from numerics.evidence.store import CellRecord

ContentFunction = Callable[[Sequence[CellRecord]], KindContent]
_KINDS: dict[str, ContentFunction] = {}


def register_report_kind(kind: str, fn: ContentFunction) -> ContentFunction:
    """Declare the report content of ``kind`` (idempotent; the last registration wins)."""
    _KINDS[kind] = fn
    return fn


def registered_report_kinds() -> tuple[str, ...]:
    return tuple(sorted(_KINDS))


def kind_content(kind: str, records: Sequence[CellRecord]) -> KindContent:
    """The registered content of ``kind``, or the generic table for a kind nobody registered."""
    fn = _KINDS.get(kind, generic_content)
    return fn(records)


def generic_content(records: Sequence[CellRecord]) -> KindContent:
    """Parameters and scalar values of every cell to 12 digits; a verdict column and a verdict map only
    where the cells have verdicts."""
    recs = list(records)
    kind = recs[0].kind if recs else "?"
    t = sweep_table(recs)
    has_verdict = any(r.get("verdict") is not None for r in t.rows)
    values = [k for k in t.value_keys if any(r.get(k) is not None for r in t.rows)]
    headers = ("cell", *t.param_keys, *(("verdict",) if has_verdict else ()), *values, "seconds")
    rows = []
    for r in t.rows:
        row = [r["cell_id"]] + [display(r.get(k)) for k in t.param_keys]
        row += [display(r.get("verdict"))] if has_verdict else []
        row += [display(r.get(k)) or "-" for k in values] + [f"{r['seconds']:.3f}"]
        rows.append(tuple(row))
    table = Table(f"Cells of kind {kind}", headers, tuple(rows),
                  "Values as stored, to 12 significant digits; report.json holds them in full.")
    figures = []
    varying = [k for k in t.varying_params() if all(as_float(r.get(k)) is not None for r in t.rows)]
    if has_verdict and varying:
        x, y = varying[0], (varying[1] if len(varying) > 1 else None)
        figures.append(Figure(f"verdicts_{_slug(kind)}.png", f"Verdict of each {kind} cell by {x}" + (f" and {y}" if y else ""),
                              verdict_map_png(t.rows, x, y, [("verdict", "verdict")])))
    tallies = (VerdictTally(kind, "verdict", t.verdict_counts),) if has_verdict else ()
    return KindContent(kind, (Section(f"Cells: {kind}", tables=(table,), figures=tuple(figures)),), tallies, table)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)

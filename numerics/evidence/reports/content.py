"""What every report form shows, gathered once: identity, provenance, table, figures, citation facts.

    report_id = "rep-" + first 12 hex digits of the results hash (same numbers, same id)

Examples
--------
>>> from numerics.evidence.store import CellRecord
>>> rec = CellRecord("abcd1234", "k", {"M": 2}, 1, {"verdict": "agree", "values": {"q": "4.0"}}, 0.1)
>>> c = build_content([rec], title="demo", provenance={"toolkit": {"version": "0"}})
>>> c.report_id.startswith("rep-"), c.table.verdict_counts
(True, {'agree': 1})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from numerics.evidence.provenance import utc_now
from numerics.evidence.reports.figures import phase_diagram_png, value_plot_png
from numerics.evidence.reports.table import SweepTable, as_float, sweep_table
from numerics.evidence.store import CellRecord, results_hash


@dataclass(frozen=True)
class Figure:
    """One embedded figure: a file name, a caption and PNG bytes."""

    name: str
    caption: str
    png: bytes = field(repr=False)


@dataclass(frozen=True)
class ReportContent:
    """Everything the HTML, Markdown, LaTeX and citation writers render."""

    title: str
    description: str
    report_id: str
    content_hash: str
    records: tuple[CellRecord, ...]
    table: SweepTable
    provenance: dict
    run_provenance: dict
    run_id: str | None
    kind: str
    seed: int | None
    store_path: str | None
    figures: tuple[Figure, ...]
    created_at: str
    notes: tuple[str, ...]

    @property
    def reproduce_command(self) -> str:
        store = f" --store {self.store_path}" if self.store_path else ""
        return f"twolayer reproduce {self.report_id}{store}"

    def cell_reproduce_command(self, cell_id: str) -> str:
        store = f" --store {self.store_path}" if self.store_path else ""
        return f"twolayer reproduce {cell_id}{store}"


def _choose_axes(table: SweepTable, x: str | None, y: str | None) -> tuple[str | None, str | None]:
    varying = table.varying_params()
    if x is None:
        numeric = [k for k in varying if all(as_float(r.get(k)) is not None for r in table.rows)]
        x = (numeric or varying or [None])[0]
    if y is None:
        rest = [k for k in varying if k != x]
        y = rest[0] if rest else None
    return x, y


def _choose_value(table: SweepTable, value: str | None) -> str | None:
    if value is not None:
        return value
    for k in table.value_keys:
        if all(as_float(r.get(k)) is not None for r in table.rows):
            return k
    return None


def build_content(records: Sequence[CellRecord], *, title: str, description: str = "", provenance: dict,
                  run_provenance: dict | None = None, run_id: str | None = None, kind: str | None = None,
                  seed: int | None = None, store_path: str | None = None, x: str | None = None,
                  y: str | None = None, value: str | None = None, logy: bool = False,
                  notes: Sequence[str] = ()) -> ReportContent:
    """Assemble a report's content; figures are drawn when the table has a parameter that varies."""
    recs = tuple(records)
    table = sweep_table(recs)
    chash = results_hash([r.as_dict() for r in recs])
    x, y = _choose_axes(table, x, y)
    value = _choose_value(table, value)
    figures = []
    out_notes = list(notes)
    if x is not None and recs:
        figures.append(Figure("phase_diagram.png", f"Verdict of each cell by {x}" + (f" and {y}" if y else ""),
                              phase_diagram_png(table.rows, x, y, title=title[:80])))
        if value is not None:
            others = [k for k in table.varying_params() if k != x]
            per = f", one line per {', '.join(others)}" if others else ""
            figures.append(Figure("values.png", f"{value} against {x}{per}",
                                  value_plot_png(table.rows, x, value, group=others, logy=logy)))
    else:
        out_notes.append("No figure: no parameter varies across the cells.")
    kinds = sorted({r.kind for r in recs})
    return ReportContent(
        title=title,
        description=description,
        report_id="rep-" + chash.split(":", 1)[1][:12],
        content_hash=chash,
        records=recs,
        table=table,
        provenance=provenance,
        run_provenance=run_provenance or {},
        run_id=run_id,
        kind=kind or ", ".join(kinds),
        seed=seed,
        store_path=store_path,
        figures=tuple(figures),
        created_at=utc_now(),
        notes=tuple(out_notes),
    )

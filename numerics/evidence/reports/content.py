"""What every report form shows, gathered once: identity, provenance, each kind's content, findings.

    report_id = "rep-" + first 12 hex digits of the results hash (same numbers, same id)

The results hash covers every cell (id, kind, parameters, seed, result) and the report's own extra data
(a study computed outside the store, the pooled checks of ``twolayer verify``).

Examples
--------
>>> from numerics.evidence.store import CellRecord
>>> rec = CellRecord("abcd1234", "k", {"M": 2}, 1, {"verdict": "agree", "values": {"q": "4.0"}}, 0.1)
>>> c = build_content([rec], title="demo", provenance={"toolkit": {"version": "0"}})
>>> c.report_id.startswith("rep-"), [t.text() for t in c.tallies]
(True, ['verdict: 1 agree'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from numerics.evidence.provenance import content_hash, to_jsonable, utc_now
from numerics.evidence.reports.kinds import kind_content
from numerics.evidence.reports.model import Figure, Finding, KindContent, Section, VerdictTally
from numerics.evidence.store import CellRecord, results_hash


@dataclass(frozen=True)
class ReportContent:
    """Everything the HTML, Markdown, LaTeX and citation writers render."""

    title: str
    description: str
    report_id: str
    content_hash: str
    records: tuple[CellRecord, ...]
    kinds: tuple[KindContent, ...]
    sections: tuple[Section, ...]
    findings: tuple[Finding, ...]
    provenance: dict
    run_provenance: dict
    run_ids: tuple[str, ...]
    seed: int | None
    store_path: str | None
    created_at: str
    notes: tuple[str, ...]
    extra: dict

    @property
    def kind(self) -> str:
        return ", ".join(k.kind for k in self.kinds) or "none"

    @property
    def tallies(self) -> tuple[VerdictTally, ...]:
        return tuple(t for k in self.kinds for t in k.tallies)

    @property
    def normalisations(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k.normalisation for k in self.kinds if k.normalisation))

    @property
    def all_sections(self) -> tuple[Section, ...]:
        return tuple(s for k in self.kinds for s in k.sections) + self.sections

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        return self.findings + tuple(f for k in self.kinds for f in k.findings)

    @property
    def figures(self) -> tuple[Figure, ...]:
        return tuple(f for s in self.all_sections for f in s.figures)

    @property
    def reproduce_command(self) -> str:
        store = f" --store {self.store_path}" if self.store_path else ""
        return f"twolayer reproduce {self.report_id}{store}"


def build_content(records: Sequence[CellRecord], *, title: str, description: str = "", provenance: dict,
                  run_provenance: dict | None = None, run_ids: Sequence[str] = (), seed: int | None = None,
                  store_path: str | None = None, sections: Sequence[Section] = (),
                  findings: Sequence[Finding] = (), extra: dict | None = None,
                  notes: Sequence[str] = ()) -> ReportContent:
    """Assemble a report: the records grouped by kind (each rendered by its registered content)."""
    recs = tuple(records)
    by_kind: dict[str, list[CellRecord]] = {}
    for r in recs:
        by_kind.setdefault(r.kind, []).append(r)
    kinds = tuple(kind_content(k, v) for k, v in by_kind.items())
    extra_data = to_jsonable(extra or {})
    chash = results_hash([r.as_dict() for r in recs])
    if extra_data:
        chash = content_hash([chash, extra_data])
    return ReportContent(
        title=title, description=description, report_id="rep-" + chash.split(":", 1)[1][:12], content_hash=chash,
        records=recs, kinds=kinds, sections=tuple(sections), findings=tuple(findings), provenance=provenance,
        run_provenance=run_provenance or {}, run_ids=tuple(run_ids), seed=seed, store_path=store_path,
        created_at=utc_now(), notes=tuple(notes), extra=extra_data,
    )

"""Markdown form of a report: summary, findings, each section's figures (PNG files beside it) and tables,
citation, and the provenance at the end.

Examples
--------
>>> from numerics.evidence.reports.content import build_content
>>> from numerics.evidence.store import CellRecord
>>> rec = CellRecord("abcd1234", "k", {"M": 2}, 1, {"verdict": "agree", "values": {"q": "4.0"}}, 0.1)
>>> text = markdown_report(build_content([rec], title="demo", provenance={}))
>>> text.splitlines()[0], "| abcd1234 | 2 | agree | 4.0 |" in text
('# demo', True)
"""

from __future__ import annotations

import json

from numerics.evidence.reports.citation import citation_text
from numerics.evidence.reports.content import ReportContent
from numerics.evidence.reports.model import Table


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table) -> str:
    """A pipe table, then its note."""
    lines = ["| " + " | ".join(_cell(h) for h in table.headers) + " |", "|" + "---|" * table.width]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.rows]
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines)


def markdown_report(content: ReportContent) -> str:
    """The whole Markdown document."""
    out = [f"# {content.title}", ""]
    if content.description:
        out += [content.description, ""]
    out += [f"- Report: `{content.report_id}` (results `{content.content_hash}`)",
            f"- Cells: {len(content.records)} of kind `{content.kind}`"]
    for t in content.tallies:
        out.append(f"- `{t.kind}` {t.text()}" + (f"; certified: {', '.join(t.certified)}" if t.certified else ""))
    out += [f"- Normalisation: {n}" for n in content.normalisations]
    run = ", ".join(content.run_ids) or "-"
    out += [f"- Run: `{run}`" + ("" if content.seed is None else f", sweep seed {content.seed}")]
    if content.store_path:
        out.append(f"- Store: `{content.store_path}`")
    out += [f"- Reproduce: `{content.reproduce_command}`", ""]
    for note in content.notes:
        out += [f"> {note}", ""]
    if content.all_findings:
        out += ["## Findings", "", markdown_table(Table("Findings", ("check", "verdict", "evidence"),
                                                        tuple((f.name, f.verdict, f.detail) for f in content.all_findings))), ""]
    for s in content.all_sections:
        out += [f"## {s.title}", ""]
        for p in s.paragraphs:
            out += [p, ""]
        for fig in s.figures:
            out += [f"![{fig.caption}]({fig.name})", "", f"*{fig.caption}*", ""]
        for t in s.tables:
            out += [f"### {t.title}", "", markdown_table(t), ""]
    out += ["## How to cite this evidence", "", "```text", citation_text(content), "```", "",
            "## Provenance", "", "<details><summary>code, environment, command, seeds</summary>", "", "```json",
            json.dumps(content.run_provenance or content.provenance, indent=1, sort_keys=True), "```", "", "</details>", ""]
    return "\n".join(out)

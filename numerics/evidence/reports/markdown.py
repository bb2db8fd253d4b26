"""Markdown form of a sweep report: summary, figures (PNG files beside it), table, citation, provenance.

Examples
--------
>>> from numerics.evidence.reports.content import build_content
>>> from numerics.evidence.store import CellRecord
>>> rec = CellRecord("abcd1234", "k", {"M": 2}, 1, {"verdict": "agree", "values": {"q": "4.0"}}, 0.1)
>>> text = markdown_report(build_content([rec], title="demo", provenance={}))
>>> text.splitlines()[0], "| `abcd1234` | 2 | agree | 4.0 |" in text
('# demo', True)
"""

from __future__ import annotations

import json

from numerics.evidence.reports.citation import citation_text
from numerics.evidence.reports.content import ReportContent
from numerics.evidence.reports.table import display


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(content: ReportContent, digits: int = 12) -> str:
    """The cells as a pipe table (values to ``digits`` significant digits; full values in report.json)."""
    t = content.table
    head = ["cell"] + list(t.param_keys) + ["verdict"] + list(t.value_keys)
    lines = ["| " + " | ".join(_cell(str(h)) for h in head) + " |", "|" + "---|" * len(head)]
    for row in t.rows:
        vals = [f"`{row['cell_id']}`"] + [_cell(display(row.get(k), digits)) for k in t.param_keys]
        vals += [_cell(display(row.get("verdict")))] + [_cell(display(row.get(k), digits)) for k in t.value_keys]
        lines.append("| " + " | ".join(vals) + " |")
    return "\n".join(lines)


def markdown_report(content: ReportContent) -> str:
    """The whole Markdown document."""
    counts = ", ".join(f"{n} {v}" for v, n in content.table.verdict_counts.items()) or "none"
    out = [f"# {content.title}", ""]
    if content.description:
        out += [content.description, ""]
    out += [
        f"- Report: `{content.report_id}` (results `{content.content_hash}`)",
        f"- Cells: {len(content.records)} of kind `{content.kind}`; verdicts: {counts}",
        f"- Run: `{content.run_id}`, sweep seed {content.seed}",
        f"- Store: `{content.store_path}`",
        f"- Reproduce: `{content.reproduce_command}`",
        "",
    ]
    for note in content.notes:
        out += [f"> {note}", ""]
    for fig in content.figures:
        out += [f"![{fig.caption}]({fig.name})", "", f"*{fig.caption}*", ""]
    out += ["## Cells", "", markdown_table(content), "",
            "Values are shown to 12 significant digits; `report.json` holds them as computed.", "",
            "## How to cite this evidence", "", "```text", citation_text(content), "```", "",
            "## Provenance", "", "```json", json.dumps(content.run_provenance or content.provenance, indent=1,
                                                        sort_keys=True), "```", ""]
    return "\n".join(out)

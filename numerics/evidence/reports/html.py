"""Self-contained HTML form of a report: one file, no scripts, no external resources.

Figures are embedded as ``data:image/png;base64`` images; the report's identity and the cited cell ids
are embedded as JSON in ``<script type="application/json" id="twolayer-report">`` (data, not code), which
``twolayer reproduce report.html`` reads.  Provenance sits in a collapsed ``<details>`` section.

Examples
--------
>>> from numerics.evidence.reports.content import build_content
>>> from numerics.evidence.store import CellRecord
>>> rec = CellRecord("abcd1234", "k", {"M": 2}, 1, {"verdict": "agree", "values": {"q": "4.0"}}, 0.1)
>>> page = html_report(build_content([rec], title="a < b", provenance={}))
>>> page.startswith("<!DOCTYPE html>"), "a &lt; b" in page, "http" in page.split("<body>")[0]
(True, True, False)
"""

from __future__ import annotations

import base64
import html
import json

from numerics.evidence.provenance import canonical_json
from numerics.evidence.reports.citation import citation_text
from numerics.evidence.reports.content import ReportContent
from numerics.evidence.reports.model import Section, Table

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 76em; color: #222; background: #fff; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; } h3 { font-size: 1.0em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.4em 0 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
td { font-family: ui-monospace, monospace; }
pre { background: #f5f5f5; padding: 0.8em; white-space: pre-wrap; word-break: break-all; font-size: 0.85em; }
.scroll { overflow-x: auto; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; max-width: 100%; }
img.twolayer-figure { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #555; }
.note { font-size: 0.85em; color: #444; }
.v-proven, .v-agree, .v-confirmed, .v-match { color: #00734f; font-weight: bold; }
.v-supported, .v-consistent { color: #1f5f8b; font-weight: bold; }
.v-refuted, .v-disagree, .v-mismatch, .v-not_confirmed, .v-inconsistent { color: #b34700; font-weight: bold; }
.v-inconclusive { color: #9a6700; font-weight: bold; }
details { margin-top: 1.5em; }
"""
VERDICT_WORDS = {"PROVEN", "SUPPORTED", "REFUTED", "NOT_APPLICABLE", "INCONCLUSIVE", "agree", "disagree",
                 "confirmed", "not_confirmed", "consistent", "inconsistent"}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def metadata(content: ReportContent) -> dict:
    """The machine-readable identity embedded in the page (and written to report.json)."""
    return {
        "format": "twolayer-report/2",
        "report_id": content.report_id,
        "content_hash": content.content_hash,
        "title": content.title,
        "run_ids": list(content.run_ids),
        "kind": content.kind,
        "seed": content.seed,
        "store": content.store_path,
        "cell_ids": [r.cell_id for r in content.records],
        "created_at": content.created_at,
        "shown": {f"{t.kind}: {t.column}": t.counts for t in content.tallies},
        "certified": {f"{t.kind}: {t.column}": list(t.certified) for t in content.tallies},
        "findings": [f.as_dict() for f in content.all_findings],
        "normalisation": list(content.normalisations),
    }


def _json_script(data: dict) -> str:
    # canonical JSON is ASCII; '<' is escaped so the text cannot close the script element.
    return canonical_json(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def html_table(table: Table, table_id: str = "") -> str:
    ident = f" id='{_e(table_id)}'" if table_id else ""
    out = [f"<div class='scroll'><table{ident}>",
           "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in table.headers) + "</tr></thead>", "<tbody>"]
    for row in table.rows:
        cells = [f"<td class='v-{_e(v.lower())}'>{_e(v)}</td>" if v in VERDICT_WORDS else f"<td>{_e(v)}</td>"
                 for v in row]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table></div>"]
    if table.note:
        out.append(f"<p class='note'>{_e(table.note)}</p>")
    return "\n".join(out)


def _section(section: Section, index: int) -> str:
    parts = [f"<h2>{_e(section.title)}</h2>"]
    parts += [f"<p>{_e(p)}</p>" for p in section.paragraphs]
    parts += [
        f"<figure><img class='twolayer-figure' alt='{_e(f.caption)}' "
        f"src='data:image/png;base64,{base64.b64encode(f.png).decode('ascii')}'>"
        f"<figcaption>{_e(f.caption)}</figcaption></figure>"
        for f in section.figures
    ]
    for j, t in enumerate(section.tables):
        parts += [f"<h3>{_e(t.title)}</h3>", html_table(t, f"table-{index}-{j}")]
    return "\n".join(parts)


def html_report(content: ReportContent) -> str:
    """The whole page."""
    shown = "".join(f"<li><code>{_e(t.kind)}</code> {_e(t.text())}"
                    + (f"; certified: {_e(', '.join(t.certified))}" if t.certified else "") + "</li>"
                    for t in content.tallies)
    findings = ""
    if content.all_findings:
        rows = "".join(f"<tr><td>{_e(f.name)}</td><td class='v-{_e(f.verdict.lower())}'>{_e(f.verdict)}</td>"
                       f"<td>{_e(f.detail)}</td></tr>" for f in content.all_findings)
        findings = ("<h2>Findings</h2><div class='scroll'><table id='findings'><thead><tr><th>check</th><th>verdict</th>"
                    f"<th>evidence</th></tr></thead><tbody>{rows}</tbody></table></div>")
    prov = json.dumps(content.run_provenance or content.provenance, indent=1, sort_keys=True)
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_e(content.title)}</title>",
        f"<style>{_CSS}</style>",
        f"<script type='application/json' id='twolayer-report'>{_json_script(metadata(content))}</script>",
        "</head><body>",
        f"<h1>{_e(content.title)}</h1>",
        f"<p>{_e(content.description)}</p>" if content.description else "",
        "<ul>",
        f"<li>Report <code>{_e(content.report_id)}</code>, results <code>{_e(content.content_hash)}</code></li>",
        f"<li>{len(content.records)} cells of kind <code>{_e(content.kind)}</code></li>",
        shown,
        *(f"<li>Normalisation: {_e(n)}</li>" for n in content.normalisations),
        f"<li>Run <code>{_e(', '.join(content.run_ids) or '-')}</code>"
        + ("" if content.seed is None else f", sweep seed {_e(content.seed)}")
        + (f", store <code>{_e(content.store_path)}</code>" if content.store_path else "") + "</li>",
        f"<li>Reproduce: <code>{_e(content.reproduce_command)}</code></li>",
        "</ul>",
        *(f"<p class='note'><em>{_e(n)}</em></p>" for n in content.notes),
        findings,
        *(_section(s, i) for i, s in enumerate(content.all_sections)),
        "<h2>How to cite this evidence</h2>",
        f"<pre id='citation'>{_e(citation_text(content))}</pre>",
        "<details id='provenance-details'><summary>Provenance (code, environment, command, seeds)</summary>",
        f"<pre id='provenance'>{_e(prov)}</pre>",
        "</details>",
        "</body></html>",
        "",
    ]
    return "\n".join(p for p in parts if p != "")

"""Self-contained HTML form of a sweep report: one file, no scripts, no external resources.

Figures are embedded as ``data:image/png;base64`` images; the report's identity and the cited cell ids
are embedded as JSON in ``<script type="application/json" id="twolayer-report">`` (data, not code), which
``twolayer reproduce report.html`` reads.

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
from numerics.evidence.reports.table import display

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; background: #fff; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }
td.num { text-align: right; font-family: monospace; }
pre { background: #f5f5f5; padding: 0.8em; white-space: pre-wrap; word-break: break-all; font-size: 0.85em; }
.scroll { overflow-x: auto; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; }
figcaption { font-size: 0.85em; color: #555; }
.v-agree, .v-holds, .v-match { color: #00734f; font-weight: bold; }
.v-disagree, .v-fails, .v-mismatch, .v-counterexample { color: #b34700; font-weight: bold; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def metadata(content: ReportContent) -> dict:
    """The machine-readable identity embedded in the page (and written to report.json)."""
    return {
        "format": "twolayer-report/1",
        "report_id": content.report_id,
        "content_hash": content.content_hash,
        "title": content.title,
        "run_id": content.run_id,
        "kind": content.kind,
        "seed": content.seed,
        "store": content.store_path,
        "cell_ids": [r.cell_id for r in content.records],
        "created_at": content.created_at,
    }


def _json_script(data: dict) -> str:
    # canonical JSON is ASCII; '<' is escaped so the text cannot close the script element.
    return canonical_json(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def html_table(content: ReportContent, digits: int = 12) -> str:
    t = content.table
    head = ["cell"] + list(t.param_keys) + ["verdict"] + list(t.value_keys) + ["seconds"]
    out = ["<div class='scroll'><table id='cells'>", "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead>", "<tbody>"]
    for row in t.rows:
        verdict = display(row.get("verdict"))
        cells = [f"<td><code>{_e(row['cell_id'])}</code></td>"]
        cells += [f"<td>{_e(display(row.get(k), digits))}</td>" for k in t.param_keys]
        cells += [f"<td class='v-{_e(verdict.lower())}'>{_e(verdict)}</td>"]
        cells += [f"<td class='num' title='{_e(display(row.get(k), 60))}'>{_e(display(row.get(k), digits))}</td>"
                  for k in t.value_keys]
        cells += [f"<td class='num'>{row['seconds']:.3f}</td>"]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table></div>"]
    return "\n".join(out)


def html_report(content: ReportContent) -> str:
    """The whole page."""
    counts = ", ".join(f"{n} {_e(v)}" for v, n in content.table.verdict_counts.items()) or "none"
    figs = "\n".join(
        f"<figure><img class='twolayer-figure' alt='{_e(f.caption)}' "
        f"src='data:image/png;base64,{base64.b64encode(f.png).decode('ascii')}'>"
        f"<figcaption>{_e(f.caption)}</figcaption></figure>"
        for f in content.figures
    )
    notes = "".join(f"<p><em>{_e(n)}</em></p>" for n in content.notes)
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
        f"<li>{len(content.records)} cells of kind <code>{_e(content.kind)}</code>; verdicts: {counts}</li>",
        f"<li>Run <code>{_e(content.run_id)}</code>, sweep seed {_e(content.seed)}, store <code>{_e(content.store_path)}</code></li>",
        f"<li>Reproduce: <code>{_e(content.reproduce_command)}</code></li>",
        "</ul>",
        notes,
        "<h2>Figures</h2>" if content.figures else "",
        figs,
        "<h2>Cells</h2>",
        "<p>Values to 12 significant digits (hover for more; <code>report.json</code> holds them as computed).</p>",
        html_table(content),
        "<h2>How to cite this evidence</h2>",
        f"<pre id='citation'>{_e(citation_text(content))}</pre>",
        "<h2>Provenance</h2>",
        f"<pre id='provenance'>{_e(prov)}</pre>",
        "</body></html>",
        "",
    ]
    return "\n".join(p for p in parts if p != "")

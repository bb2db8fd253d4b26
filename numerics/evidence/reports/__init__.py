"""Sweep reports in four forms (HTML, Markdown, LaTeX, citation block) plus a JSON export.

For the other layers' CLIs::

    from numerics.evidence.sweep import run_sweep
    from numerics.evidence.reports import write_sweep_reports

    outcome = run_sweep(my_cell, cells, kind="my-kind", store=args.store, seed=args.seed,
                        scheduler=args.scheduler, n_workers=args.workers, quiet=args.quiet)
    bundle = write_sweep_reports(outcome, args.out, title="...", x="M", y="d", value="gap")
    print(bundle.citation_text)

``write_sweep_reports(outcome_or_records, out_dir, *, title, description="", x=None, y=None, value=None,
logy=False, store=None, provenance=None, notes=()) -> ReportBundle`` writes into ``out_dir``:

* ``report.html``  self-contained page (figures as base64 PNG, table, citation block, provenance);
* ``report.md``    Markdown (figures as PNG files beside it);
* ``report.tex``   a booktabs ``table`` plus the citation block;
* ``CITATION.txt`` the "how to cite this evidence" block;
* ``report.json``  identity, provenance and every cell with its full-precision result;
* ``phase_diagram.png``, ``values.png`` when a parameter varies.

``outcome_or_records`` is a ``SweepOutcome`` (its run id, seed, store and provenance are used) or a
sequence of ``CellRecord``.  ``x``/``y`` are the parameters of the verdict map (default: the first
varying numeric parameter, then the next varying one); ``value`` the result value plotted against ``x``
(default: the first value that is numeric in every cell).  ``store`` (default: the outcome's store)
records the report so that ``twolayer reproduce <report-id>`` finds its cells; ``provenance``
defaults to ``collect_provenance()`` at writing time (the run's own provenance is embedded as well).

The report id is ``rep-`` + 12 hex digits of the results hash: identical numbers give the same id.

Examples
--------
>>> import tempfile
>>> from numerics.evidence.store import CellRecord
>>> rec = CellRecord("abcd1234", "k", {"M": 2}, 1, {"verdict": "agree", "values": {"q": "4.0"}}, 0.1)
>>> b = write_sweep_reports([rec], tempfile.mkdtemp(), title="demo")
>>> sorted(p.name for p in b.paths.values())
['CITATION.txt', 'report.html', 'report.json', 'report.md', 'report.tex']
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from theory.errors import InputError
from numerics.evidence.provenance import collect_provenance
from numerics.evidence.reports.citation import citation_text
from numerics.evidence.reports.content import ReportContent, build_content
from numerics.evidence.reports.html import html_report, metadata
from numerics.evidence.reports.latex import latex_report
from numerics.evidence.reports.markdown import markdown_report
from numerics.evidence.store import CellRecord, ResultStore

__all__ = ["ReportBundle", "write_sweep_reports", "read_report_metadata"]


@dataclass(frozen=True)
class ReportBundle:
    """Paths of the written report files, the report's id and results hash, and the citation text."""

    report_id: str
    content_hash: str
    paths: dict
    citation_text: str
    out_dir: Path


def _atomic_write(path: Path, data: bytes | str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)


def write_sweep_reports(outcome_or_records, out_dir, *, title: str, description: str = "", x: str | None = None,
                        y: str | None = None, value: str | None = None, logy: bool = False, store=None,
                        provenance: dict | None = None, notes: Sequence[str] = ()) -> ReportBundle:
    """Write the HTML, Markdown, LaTeX, citation and JSON forms of a sweep report (see module docstring)."""
    from numerics.evidence.sweep import SweepOutcome

    if isinstance(outcome_or_records, SweepOutcome):
        oc = outcome_or_records
        records, run_id, kind, seed = oc.records, oc.run_id, oc.kind, oc.seed
        run_prov, store_path = oc.provenance, oc.store_path
        if store is None and oc.store_path:
            store = oc.store_path
    else:
        records = tuple(outcome_or_records)
        if not all(isinstance(r, CellRecord) for r in records):
            raise InputError("outcome_or_records", "expected a SweepOutcome or a sequence of CellRecord")
        run_ids = {r.run_id for r in records}
        run_id = run_ids.pop() if len(run_ids) == 1 else None
        kind, seed, run_prov = None, None, None
        store_path = None
    if not isinstance(title, str) or not title.strip():
        raise InputError("title", "expected a non-empty title", got=title)
    st = None
    if store is not None:
        st = store if isinstance(store, ResultStore) else ResultStore(store)
        store_path = str(st.path)
    prov = provenance if provenance is not None else collect_provenance()
    content: ReportContent = build_content(records, title=title, description=description, provenance=prov,
                                           run_provenance=run_prov, run_id=run_id, kind=kind, seed=seed,
                                           store_path=store_path, x=x, y=y, value=value, logy=logy, notes=notes)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("out", "expected a directory for the report files", got=str(out))
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fig in content.figures:
        _atomic_write(out / fig.name, fig.png)
    cite = citation_text(content)
    files = {
        "html": ("report.html", html_report(content)),
        "markdown": ("report.md", markdown_report(content)),
        "latex": ("report.tex", latex_report(content)),
        "citation": ("CITATION.txt", cite + "\n"),
        "json": ("report.json", json.dumps({**metadata(content), "provenance": prov, "run_provenance": run_prov,
                                            "cells": [r.as_dict() for r in records]}, indent=1, sort_keys=True,
                                           allow_nan=False)),
    }
    for key, (name, text) in files.items():
        _atomic_write(out / name, text)
        paths[key] = out / name
    if st is not None:
        st.add_report(report_id=content.report_id, run_id=run_id, content_hash_=content.content_hash,
                      paths={k: str(v.resolve()) for k, v in paths.items()},
                      cell_ids=[r.cell_id for r in records], title=title)
        if not isinstance(store, ResultStore):
            st.close()
    return ReportBundle(content.report_id, content.content_hash, paths, cite, out)


def read_report_metadata(path: str | os.PathLike) -> dict:
    """The embedded identity of a report file (report.html, report.json, report.md or report.tex):
    {'report_id', 'content_hash', 'cell_ids', 'store', ...}.  Markdown and LaTeX files are resolved
    through the ``report.json`` beside them."""
    p = Path(path)
    if p.is_dir():
        p = p / "report.json"
    if not p.is_file():
        raise InputError("report", "no such report file", got=str(path))
    if p.suffix in (".md", ".tex", ".txt"):
        p = p.with_name("report.json")
        if not p.is_file():
            raise InputError("report", "report.json is missing beside this report file", got=str(path))
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError("report", f"cannot read the report ({err.__class__.__name__})", got=str(path)) from None
    if p.suffix in (".html", ".htm"):
        start_tag = "id='twolayer-report'>"
        i = text.find(start_tag)
        j = text.find("</script>", i)
        if i < 0 or j < 0:
            raise InputError("report", "not a twolayer HTML report (no embedded report identity)", got=str(path))
        text = text[i + len(start_tag):j]
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise InputError("report", "not a twolayer report (its JSON does not parse)", got=str(path)) from None
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("twolayer-report/"):
        raise InputError("report", "not a twolayer report (format tag missing)", got=str(path))
    ids = data.get("cell_ids")
    if not isinstance(ids, list) or not all(isinstance(c, str) for c in ids):
        raise InputError("report", "report lists no cell ids", got=str(path))
    return data

"""Reports in four forms (HTML, Markdown, LaTeX, citation block) plus a JSON export.

    outcome = run_sweep(my_cell, cells, kind="my-kind", store=args.store, seed=args.seed, ...)
    bundle = write_sweep_reports(outcome, run_folder, title="...")
    print(bundle.citation_text)

``write_sweep_reports(source, out_dir, *, title, description="", store=None, provenance=None,
sections=(), findings=(), extra=None, notes=()) -> ReportBundle`` writes into ``out_dir``:

* ``report.html``  self-contained page (figures as base64 PNG, tables, citation block, provenance collapsed);
* ``report.md``    Markdown (figures as PNG files beside it);
* ``report.tex``   a standalone LaTeX document (one compact table per kind, citation block);
* ``CITATION.txt`` the "how to cite this evidence" block;
* ``report.json``  identity, what was shown, provenance, every cell with its full-precision result and
  the report's extra data;
* the figures of every section (PNG).

``source`` is a ``SweepOutcome``, a sequence of them (one report over several sweeps, as ``twolayer verify``
writes), or a sequence of ``CellRecord``.  What each result kind shows is declared by the kind
(``reports.kinds.register_report_kind``); ``sections`` and ``findings`` add report-level content such as a
study or a pooled check, and ``extra`` its data (hashed with the cells).  ``store`` (default: the
outcomes' store) records the report so that ``twolayer reproduce <report-id>`` finds its cells.

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

from theory.cli_args import strict_json
from theory.errors import InputError
from numerics.evidence.provenance import collect_provenance
from numerics.evidence.reports.citation import citation_text
from numerics.evidence.reports.content import ReportContent, build_content
from numerics.evidence.reports.html import html_report, metadata
from numerics.evidence.reports.model import Finding, Section
from numerics.evidence.reports.latex import latex_report
from numerics.evidence.reports.markdown import markdown_report
from numerics.evidence.store import CellRecord, ResultStore

__all__ = ["ReportBundle", "write_sweep_reports", "read_report_metadata", "Finding", "Section"]


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


def _sources(source):
    """(records, run ids, seed, run provenance, store path) of an outcome, outcomes or records."""
    from numerics.evidence.sweep import SweepOutcome

    outcomes = [source] if isinstance(source, SweepOutcome) else None
    if outcomes is None and isinstance(source, (list, tuple)) and source and all(isinstance(o, SweepOutcome) for o in source):
        outcomes = list(source)
    if outcomes is not None:
        records = tuple(r for o in outcomes for r in o.records)
        seeds = {o.seed for o in outcomes}
        stores = {o.store_path for o in outcomes if o.store_path}
        return (records, tuple(o.run_id for o in outcomes), seeds.pop() if len(seeds) == 1 else None,
                outcomes[0].provenance, stores.pop() if len(stores) == 1 else None)
    records = tuple(source) if isinstance(source, (list, tuple)) else None
    if records is None or not all(isinstance(r, CellRecord) for r in records):
        raise InputError("source", "expected a SweepOutcome, a list of them, or a sequence of CellRecord")
    run_ids = tuple(dict.fromkeys(r.run_id for r in records if r.run_id))
    return records, run_ids, None, None, None


def write_sweep_reports(source, out_dir, *, title: str, description: str = "", store=None,
                        provenance: dict | None = None, sections: Sequence[Section] = (),
                        findings: Sequence[Finding] = (), extra: dict | None = None,
                        notes: Sequence[str] = ()) -> ReportBundle:
    """Write the HTML, Markdown, LaTeX, citation and JSON forms of a report (see module docstring)."""
    records, run_ids, seed, run_prov, store_path = _sources(source)
    if not isinstance(title, str) or not title.strip():
        raise InputError("title", "expected a non-empty title", got=title)
    if store is None:
        store = store_path
    st = None
    if store is not None:
        st = store if isinstance(store, ResultStore) else ResultStore(store)
        store_path = str(st.path)
    prov = provenance if provenance is not None else collect_provenance()
    content: ReportContent = build_content(records, title=title, description=description, provenance=prov,
                                           run_provenance=run_prov, run_ids=run_ids, seed=seed,
                                           store_path=store_path, sections=sections, findings=findings,
                                           extra=extra, notes=notes)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("out", "expected a directory for the report files", got=str(out))
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fig in content.figures:
        _atomic_write(out / fig.name, fig.png)
        paths[fig.name] = out / fig.name
    cite = citation_text(content)
    files = {
        "html": ("report.html", html_report(content)),
        "markdown": ("report.md", markdown_report(content)),
        "latex": ("report.tex", latex_report(content)),
        "citation": ("CITATION.txt", cite + "\n"),
        "json": ("report.json", strict_json({**metadata(content), "provenance": prov, "run_provenance": run_prov,
                                             "extra": content.extra, "cells": [r.as_dict() for r in records]},
                                            indent=1)),
    }
    for key, (name, text) in files.items():
        _atomic_write(out / name, text)
        paths[key] = out / name
    if st is not None:
        st.add_report(report_id=content.report_id, run_id=run_ids[0] if run_ids else None,
                      content_hash_=content.content_hash, paths={k: str(v.resolve()) for k, v in paths.items()},
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

"""The "how to cite this evidence" block: what was shown (every verdict column counted, the certified
cells named), by which code, where, and how to re-run it; with BibTeX entries for the evidence and for
the paper whose claims it checks.

Examples
--------
>>> from numerics.evidence.reports.content import build_content
>>> from numerics.evidence.store import CellRecord
>>> rec = CellRecord("abcd1234", "k", {"M": 2}, 1, {"verdict": "agree"}, 0.1)
>>> prov = {"toolkit": {"name": "twolayer-compression", "version": "0.1.0"},
...         "git": {"commit": "f" * 40, "dirty": False}, "python": {"version": "3.11"}, "packages": {}}
>>> text = citation_text(build_content([rec], title="demo", provenance=prov))
>>> "twolayer reproduce rep-" in text and "git ffffffffffff (clean)" in text and "k: verdict: 1 agree" in text
True
"""

from __future__ import annotations

from numerics.evidence.reports.content import ReportContent
from numerics.evidence.reports.model import AMANI_2022, PaperSource

PACKAGES_CITED = ("numpy", "scipy", "sympy", "mpmath", "python-flint", "cvxpy", "clarabel", "dask", "pyarrow")
# Certified cells are named one by one up to this many per verdict column; beyond it, counted.
MAX_NAMED = 40


def _git_text(prov: dict) -> str:
    git = prov.get("git") or {}
    commit = git.get("commit")
    if not commit:
        return "git commit unknown (not run from a git checkout)"
    dirty = git.get("dirty")
    state = "dirty: uncommitted changes, the commit alone does not identify the code" if dirty else (
        "clean" if dirty is False else "dirty flag unknown")
    return f"git {commit[:12]} ({state})"


def environment_text(prov: dict) -> str:
    """'Python 3.11.7; numpy 2.4.6, ...; cvxpy solvers CLARABEL, ...; Linux-... x86_64'."""
    pk = prov.get("packages") or {}
    pkgs = ", ".join(f"{n} {pk[n]}" for n in PACKAGES_CITED if pk.get(n))
    solvers = (prov.get("solvers") or {}).get("cvxpy_installed")
    plat = (prov.get("platform") or {}).get("platform", "")
    parts = [f"Python {(prov.get('python') or {}).get('version', '?')}"]
    if pkgs:
        parts.append(pkgs)
    if solvers:
        parts.append("cvxpy solvers " + ", ".join(solvers))
    if plat:
        parts.append(plat)
    return "; ".join(parts)


def shown_lines(content: ReportContent) -> list[str]:
    """What the report shows: one line per kind and verdict column, the certified cells, the findings."""
    lines = []
    for t in content.tallies:
        lines.append(f"  {t.kind}: {t.text()}")
        if t.certified:
            named = ", ".join(t.certified[:MAX_NAMED])
            more = f" and {len(t.certified) - MAX_NAMED} more" if len(t.certified) > MAX_NAMED else ""
            lines.append(f"    certified ({len(t.certified)}): {named}{more}")
    for f in content.all_findings:
        lines.append(f"  {f.name}: {f.verdict}")
    return lines or ["  no verdicts"]


def citation_text(content: ReportContent) -> str:
    """Plain-text citation block (also embedded verbatim in the HTML, Markdown and LaTeX forms)."""
    prov = content.run_provenance or content.provenance
    tk = prov.get("toolkit") or {}
    name, version = tk.get("name", "twolayer-compression"), tk.get("version", "?")
    started = prov.get("timestamp_utc", "?")
    argv = " ".join(prov.get("argv") or []) or "?"
    commit = ((prov.get("git") or {}).get("commit") or "unknown")[:12]
    runs = ", ".join(content.run_ids) or "cells gathered from the store"
    seed = "" if content.seed is None else f"; sweep seed {content.seed}"
    lines = [
        f"Evidence: {content.title}",
        f"Report {content.report_id}; results hash {content.content_hash}",
        f"Cells: {len(content.records)} of kind {content.kind}{seed}; run {runs}",
        "Shown:",
        *shown_lines(content),
    ]
    for norm in content.normalisations:
        lines.append(f"Normalisation: {norm}")
    papers = sources(content)
    keys = ",".join(p.key for p in papers)
    lines += [
        "Checks the claims of: " + "; ".join(f"{p.text} [{p.key}]" for p in papers),
        f"Code: {name} {version}, {_git_text(prov)}",
        f"Environment: {environment_text(prov)}",
        f"Computed: run started {started} by `{argv}`; report written {content.created_at}",
        f"Reproduce: {content.reproduce_command}",
        "  (re-runs every cell and states whether the numbers match to their recorded precision)",
        "BibTeX:",
        f"@misc{{twolayer-{content.report_id},",
        f"  title = {{{content.title}}},",
        f"  author = {{{{{name}}} {version}}},",
        f"  note = {{Computational evidence computed with {name} {version} (git {commit}); report {content.report_id}, "
        f"results {content.content_hash}; checks \\cite{{{keys}}}}},",
        f"  year = {{{(started or '????')[:4]}}}",
        "}",
        *(line for p in papers for line in p.bibtex),
    ]
    return "\n".join(lines)


def sources(content: ReportContent) -> tuple[PaperSource, ...]:
    """The papers the report's kinds check, each once, in the order of the kinds (the toolkit's own paper
    when there is no kind)."""
    found = list(dict.fromkeys(k.source for k in content.kinds))
    return tuple(found) or (AMANI_2022,)

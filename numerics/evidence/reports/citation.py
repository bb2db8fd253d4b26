"""The "how to cite this evidence" block: what was computed, by which code, where, and how to re-run it.

Examples
--------
>>> from numerics.evidence.reports.content import build_content
>>> from numerics.evidence.store import CellRecord
>>> rec = CellRecord("abcd1234", "k", {"M": 2}, 1, {"verdict": "agree"}, 0.1)
>>> prov = {"toolkit": {"name": "twolayer-compression", "version": "0.1.0"},
...         "git": {"commit": "f" * 40, "dirty": False}, "python": {"version": "3.11"}, "packages": {}}
>>> text = citation_text(build_content([rec], title="demo", provenance=prov))
>>> "twolayer reproduce rep-" in text and "git ffffffffffff (clean)" in text
True
"""

from __future__ import annotations

from numerics.evidence.reports.content import ReportContent

PACKAGES_CITED = ("numpy", "scipy", "sympy", "mpmath", "cvxpy", "clarabel", "dask", "pyarrow")


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
    """'Python 3.11.7; numpy 2.4.6, ...; solvers CLARABEL, ...; Linux-... x86_64'."""
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


def citation_text(content: ReportContent) -> str:
    """Plain-text citation block (also embedded verbatim in the HTML, Markdown and LaTeX forms)."""
    prov = content.run_provenance or content.provenance
    tk = prov.get("toolkit") or {}
    counts = ", ".join(f"{n} {v}" for v, n in content.table.verdict_counts.items()) or "no cells"
    started = prov.get("timestamp_utc", "?")
    argv = " ".join(prov.get("argv") or []) or "?"
    key = f"twolayer-{content.report_id}"
    year = (started or "????")[:4]
    commit = ((prov.get("git") or {}).get("commit") or "unknown")[:12]
    lines = [
        f"Evidence: {content.title}",
        f"Report {content.report_id}; results hash {content.content_hash}",
        f"Cells: {len(content.records)} of kind {content.kind} ({counts}); sweep seed {content.seed}; run {content.run_id}",
        f"Code: {tk.get('name', 'twolayer-compression')} {tk.get('version', '?')}, {_git_text(prov)}",
        f"Environment: {environment_text(prov)}",
        f"Computed: run started {started} by `{argv}`; report written {content.created_at}",
        f"Reproduce: {content.reproduce_command}",
        "  (re-runs every cell and states whether the numbers match to their recorded precision;",
        "   one cell: twolayer reproduce <cell-id> with the ids in the table)",
        "BibTeX:",
        f"@misc{{{key},",
        f"  title = {{{content.title}}},",
        f"  note = {{Computed with {tk.get('name', 'twolayer-compression')} {tk.get('version', '?')}"
        f" (git {commit}), report {content.report_id}, results {content.content_hash}}},",
        f"  year = {{{year}}}",
        "}",
    ]
    return "\n".join(lines)

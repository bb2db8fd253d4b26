"""The claims beyond compression as a public function: ``run_claim`` runs one claim's check through the
result store and writes its reports.  ``twolayer claims run NAME`` is a thin layer over it.

Claim options (each claim takes its own; another is refused, naming it): memorization ``construction``,
``n``, ``d``, ``seeds``; ntk-memorization ``features``, ``n``, ``d``, ``eps``, ``seeds``; condensation
``activation``, ``d``, ``init_scale``, ``seeds``, ``steps``, ``optimizer``, ``checkpoint``.  Values are the
command line's (``"100,1000"``, ``"2-5"``) or plain ints.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from numerics.claims import CLAIMS, MAX_SEEDS
from theory.errors import InputError
from theory.job_budget import JobEstimate
from theory.rendering import Rendered

DEFAULT_OUT = "claims_out"
MAX_CELLS = 2_000
# Claim-specific options: (flag, dest, help). Each claim names the ones it takes and their defaults.
OPTIONS = (
    ("--construction", "construction", "memorization: threshold, relu or both (comma list)"),
    ("--n", "n", "number of points, e.g. 100,1000 or 100-400"),
    ("--d", "d", "input dimension(s), e.g. 2,5,10"),
    ("--seeds", "seeds", f"repetitions (seeds) per configuration, 1..{MAX_SEEDS}"),
    ("--features", "features", "ntk-memorization: ntk and/or rf (the control; comma list)"),
    ("--eps", "eps", "ntk-memorization: relative training errors in (0, 1) (comma list)"),
    ("--activation", "activation", "condensation: tanh, xtanh, x2tanh, sigmoid, softplus (comma list)"),
    ("--init-scale", "init_scale", "condensation: standard deviations of the initial parameters (comma list)"),
    ("--steps", "steps", "condensation: full-batch training steps"),
    ("--optimizer", "optimizer", "condensation: adam and/or gd (comma list)"),
    ("--checkpoint", "checkpoint", "condensation: modal (the count held at most checkpoints) or preactivation "
                                   "(stop when max |w.x + b| reaches 1)"),
)
DEFAULTS = {
    "memorization": {"construction": "threshold,relu", "n": "10,100,1000,10000", "d": "2,5,10", "seeds": "1"},
    "ntk-memorization": {"features": "ntk,rf", "n": "100,200,400", "d": "4,8,16", "eps": "0.3,0.1,0.03,0.01",
                         "seeds": "5"},
    "condensation": {"activation": "tanh,xtanh,x2tanh,sigmoid,softplus", "d": "1,5", "init_scale": "0.005,0.5",
                     "seeds": "5", "steps": "1000", "optimizer": "adam", "checkpoint": "modal"},
}


def claim_options(name: str, given: dict) -> dict:
    """The claim's options: its defaults, overridden by ``given``; an option it does not take is refused."""
    defaults = DEFAULTS[name]
    got = {}
    for flag, dest, _ in OPTIONS:
        value = given.get(dest)
        if dest not in defaults:
            if value is not None:
                raise InputError(flag.lstrip("-"), f"does not apply to the claim {name!r}", got=value)
            continue
        got[dest] = defaults[dest] if value is None else value
    return got


def _claim_module(name: str):
    """The module of claim ``name``'s cell kind: its CELL_FUNCTION and cells_from_options."""
    import importlib

    return importlib.import_module(CLAIMS[name].module)


def check_claim_name(name: object) -> str:
    if not isinstance(name, str) or name not in CLAIMS:
        raise InputError("name", f"unknown claim; valid: {', '.join(CLAIMS)}", got=name)
    return name



@dataclass(frozen=True, repr=False)
class ClaimRun(Rendered):
    """One claim's check: its stored cells, their verdicts, the report's findings and files."""

    name: str
    source: str
    kind: str
    run_id: str
    store: str
    scheduler: str
    computed: int
    reused: int
    wall_seconds: float
    records: tuple
    findings: tuple
    compact: object
    report_id: str
    report_dir: Path
    files: dict = field(default_factory=dict)

    @property
    def verdicts(self) -> dict:
        counts: dict = {}
        for r in self.records:
            counts[r.result.get("verdict")] = counts.get(r.result.get("verdict"), 0) + 1
        return counts

    def as_json(self) -> dict:
        """What ``twolayer claims run NAME --json`` prints."""
        return {"claim": self.name, "source": self.source, "kind": self.kind, "run_id": self.run_id,
                "store": self.store, "cells": len(self.records), "computed": self.computed, "reused": self.reused,
                "wall_seconds": self.wall_seconds, "verdicts": self.verdicts,
                "findings": [f.as_dict() for f in self.findings],
                "rows": [{"cell_id": r.cell_id, **r.params, "verdict": r.result.get("verdict"),
                          "values": r.result.get("values")} for r in self.records],
                "report_dir": str(self.report_dir), "report_id": self.report_id}

    def text(self) -> str:
        lines = [f"claim {self.name} ({self.source})",
                 f"run {self.run_id}: {len(self.records)} cells ({self.computed} computed, {self.reused} reused) on "
                 f"{self.scheduler} in {self.wall_seconds:.2f} s; store {self.store}"]
        if self.compact is not None:
            lines.append("  ".join(self.compact.headers))
            lines += ["  ".join(row) for row in self.compact.rows]
        lines.append("cell verdicts: " + ", ".join(f"{n} {v}" for v, n in sorted(self.verdicts.items(),
                                                                                 key=lambda kv: str(kv[0]))))
        lines += [f"finding {f.name}: {f.verdict} ({f.detail})" for f in self.findings]
        lines.append(f"report {self.report_id}: {self.files['html']}")
        return "\n".join(lines)

    def html_body(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(f.name)}</td><td><b>{html.escape(f.verdict)}</b></td>"
                       f"<td>{html.escape(f.detail)}</td></tr>" for f in self.findings)
        return (f"<p><b>claim {html.escape(self.name)}</b>: {len(self.records)} cells; {html.escape(self.source)}</p>"
                f"<table><tr><th>finding</th><th>verdict</th><th>detail</th></tr>{rows}</table>")

    def cite(self) -> str:
        return Path(self.files["citation"]).read_text()


def plan_claim(name: str, *, store=None, seed: int = 0, workers: int | None = None, scheduler: str | None = None,
               connect_timeout: float | None = None, quiet: bool = True, argv: list[str] | None = None,
               **options) -> tuple[str, list[dict], dict, JobEstimate]:
    """(claim name, cells, run_sweep options, JobEstimate) of ``run_claim`` with these arguments; nothing is
    run or written (``twolayer claims run NAME --estimate`` prints the estimate)."""
    from numerics.claims_cost import claims_estimator
    from numerics.evidence.sweep import plan_sweep, sweep_options

    name = check_claim_name(name)
    unknown = sorted(set(options) - {dest for _, dest, _ in OPTIONS})
    if unknown:
        raise InputError(unknown[0].replace("_", "-"), "is not a claim option")
    cells = _claim_module(name).cells_from_options(claim_options(name, options))
    if len(cells) > MAX_CELLS:
        seeds = 1 + max(int(c.get("replicate", 0)) for c in cells)
        raise InputError("seeds" if seeds > 1 else "n", f"too many cells ({len(cells)} > {MAX_CELLS}): fewer "
                                                         f"values or seeds")
    kw = sweep_options(store=store, seed=seed, scheduler=scheduler, workers=workers, connect_timeout=connect_timeout,
                       quiet=quiet, argv=argv)
    kw, job = plan_sweep(cells, claims_estimator(name), kw)
    return name, cells, kw, job


def run_claim(name: str, *, out=DEFAULT_OUT, store=None, seed: int = 0, workers: int | None = None,
              scheduler: str | None = None, connect_timeout: float | None = None, quiet: bool = True,
              title: str | None = None, allow_large: bool = False, argv: list[str] | None = None,
              **options) -> ClaimRun:
    """Run claim ``name``'s check (its options as keywords, see the module docstring) and write its report
    to ``out/<run-id>/``.  A job above the default budget (``theory.job_budget``) is refused unless
    ``allow_large``."""
    from numerics import claims_report  # noqa: F401  (registers the report content of the kinds)
    from numerics.evidence.reports import write_sweep_reports
    from numerics.evidence.reports.kinds import kind_content
    from numerics.evidence.run_folder import check_output_root, new_run_folder
    from numerics.evidence.sweep import run_sweep
    from theory.job_budget import check_budget

    name, cells, kw, job = plan_claim(name, store=store, seed=seed, workers=workers, scheduler=scheduler,
                                      connect_timeout=connect_timeout, quiet=quiet, argv=argv, **options)
    check_budget(job, allow_large=allow_large)
    module = _claim_module(name)
    root = check_output_root(out)
    claim = CLAIMS[name]
    outcome = run_sweep(module.CELL_FUNCTION, cells, kind=claim.kind, **kw)
    folder = new_run_folder(root, outcome.run_id)
    bundle = write_sweep_reports(outcome, folder, title=title or f"Claim check: {name}",
                                 description=f"{claim.statement}. Source: {claim.source}. See {claim.docs}.")
    content = kind_content(claim.kind, outcome.records)
    return ClaimRun(name, claim.source, claim.kind, outcome.run_id, outcome.store_path, outcome.scheduler,
                    outcome.computed, outcome.reused, outcome.wall_seconds, tuple(outcome.records),
                    tuple(content.findings), content.compact, bundle.report_id, folder, dict(bundle.paths))

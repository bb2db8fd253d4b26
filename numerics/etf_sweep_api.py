"""The ETF sweep as a public function: ``etf_sweep`` stores q(M) = 1^T K^-1 1 at the simplex ETF, closed form
against an eigen-solve, for every (activation, M, d) with M <= d + 1, and writes its report.

``twolayer etf-sweep`` is a thin layer over it.  Values are at abar = 1 (numerics.etf_report.NORMALISATION).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from theory.cli_args import parse_dims, parse_int_set
from theory.errors import InputError
from theory.job_budget import JobEstimate, Part, check_budget
from theory.rendering import Rendered

MAX_M, MAX_D = 200, 10_000
MAX_CELLS = 10_000
MAX_ACTIVATIONS = 16
DEFAULT_TITLE = "Simplex ETF: 1^T K^-1 1 and Ltilde*, closed form vs eigen-solve"
# Time of one cell (order of magnitude, 2 cores; benchmarks/bench_estimates.py measured 2.6 ms at M = 8,
# 10 ms at M = 32, 45 ms at M = 64 and 50 digits): a fixed part plus the certified M x M arb solve, ~M^3.
CELL_FIXED_S = 0.01
CELL_CUBIC_S = 1e-7


def sweep_estimate(cells: list[dict], workers: int) -> JobEstimate:
    """Wall time of the cells over ``workers`` processes (memory: the M x M high-precision matrices)."""
    workers = max(1, min(workers, len(cells)))
    seconds = sum(CELL_FIXED_S + CELL_CUBIC_S * c["M"] ** 3 * max(1.0, c["dps"] / 30) ** 1.5 for c in cells)
    peak = max(200 * c["M"] ** 2 * max(1.0, c["dps"] / 30) for c in cells) * workers
    return JobEstimate("etf-sweep", (Part(peak, seconds / workers, "M", f"{len(cells)} cells ({workers} at a time)"),))


def etf_cells(*, M, d, activation, dps) -> list[dict]:
    """The sweep's cells, every value checked (InputError naming the option)."""
    from numerics.etf_cell import MAX_DPS
    from theory.activations import get_activation

    Ms = parse_int_set(M, "M", lo=1, hi=MAX_M)
    dims = parse_dims(d, Ms, lo=1, hi=MAX_D)
    if not isinstance(activation, str):
        raise InputError("activation", "expected an activation name, or a comma list of them", got=activation)
    names = [a.strip() for a in activation.split(",")]
    if len(names) > MAX_ACTIVATIONS:
        raise InputError("activation", f"at most {MAX_ACTIVATIONS} activations")
    acts = list(dict.fromkeys(get_activation(a).name for a in names))
    if isinstance(dps, bool) or not isinstance(dps, int) or not 10 <= dps <= MAX_DPS:
        raise InputError("dps", f"expected an integer from 10 to {MAX_DPS}", got=dps)
    cells = [{"activation": a, "M": m, "d": dd, "dps": dps} for a in acts for m in Ms for dd in dims[m] if m <= dd + 1]
    if not cells:
        raise InputError("M", "no (M, d) pair with M <= d + 1 (the simplex ETF needs it)", got=M)
    if len(cells) > MAX_CELLS:
        raise InputError("M", f"grid too large ({len(cells)} cells > {MAX_CELLS})")
    return cells


@dataclass(frozen=True, repr=False)
class EtfSweepReport(Rendered):
    """The stored cells of one ETF sweep, how many agree, and where the report is."""

    run_id: str
    store: str
    scheduler: str
    wall_seconds: float
    computed: int
    reused: int
    rows: tuple[dict, ...]
    estimate: JobEstimate
    report_id: str | None = None
    report_dir: Path | None = None
    files: dict = field(default_factory=dict)

    @property
    def agree(self) -> int:
        return sum(r["verdict"] == "agree" for r in self.rows)

    def as_json(self) -> dict:
        """What ``twolayer etf-sweep --json`` prints."""
        from numerics.etf_report import NORMALISATION

        return {"run_id": self.run_id, "store": self.store, "cells": len(self.rows), "computed": self.computed,
                "reused": self.reused, "agree": self.agree, "normalisation": NORMALISATION, "rows": list(self.rows),
                "report_dir": None if self.report_dir is None else str(self.report_dir), "report_id": self.report_id,
                "estimate": self.estimate.as_dict()}

    def text(self) -> str:
        lines = [f"run {self.run_id}: {len(self.rows)} cells ({self.computed} computed, {self.reused} reused) on "
                 f"{self.scheduler} in {self.wall_seconds:.2f} s; {self.agree} agree (closed form vs eigen-solve); "
                 f"store {self.store}"]
        if self.report_id is not None:
            lines.append(f"report {self.report_id}: {self.files['html']}")
        return "\n".join(lines)

    def html_body(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(r['activation'])}</td><td>{r['M']}</td><td>{r['d']}</td>"
                       f"<td>{html.escape(str(r['q']))}</td><td>{html.escape(r['verdict'])}</td></tr>" for r in self.rows)
        return (f"<p><b>twolayer etf-sweep</b> run {html.escape(self.run_id)}: {self.agree} of {len(self.rows)} "
                f"agree</p><table><tr><th>activation</th><th>M</th><th>d</th><th>1^T K^-1 1</th><th>verdict</th>"
                f"</tr>{rows}</table>")


def plan(*, M="2-6", d="3,5", activation: str = "relu", dps: int = 30, seed: int = 0, store=None,
         workers: int | None = None, scheduler: str | None = None, connect_timeout: float | None = None,
         quiet: bool = True, argv: list[str] | None = None) -> tuple[list[dict], dict, JobEstimate]:
    """(cells, run_sweep options, JobEstimate) of ``etf_sweep`` with these arguments, nothing run or written
    (``twolayer etf-sweep --estimate`` prints the estimate)."""
    from numerics.evidence.sweep import plan_sweep, sweep_options

    cells = etf_cells(M=M, d=d, activation=activation, dps=dps)
    options = sweep_options(store=store, seed=seed, scheduler=scheduler, workers=workers,
                            connect_timeout=connect_timeout, quiet=quiet, argv=argv)
    options, job = plan_sweep(cells, sweep_estimate, options)
    return cells, options, job


def etf_sweep(*, M="2-6", d="3,5", activation: str = "relu", dps: int = 30, seed: int = 0, store=None,
              workers: int | None = None, scheduler: str | None = None, connect_timeout: float | None = None,
              out=None, title: str = DEFAULT_TITLE, quiet: bool = True, allow_large: bool = False,
              argv: list[str] | None = None) -> EtfSweepReport:
    """Run (or reuse from the store) every cell and, with ``out``, write the report to ``out/<run-id>/``."""
    from numerics import etf_report
    from numerics.etf_cell import KIND, etf_cell
    from numerics.evidence.reports import write_sweep_reports
    from numerics.evidence.run_folder import check_output_root, new_run_folder
    from numerics.evidence.sweep import run_sweep

    cells, options, job = plan(M=M, d=d, activation=activation, dps=dps, seed=seed, store=store, workers=workers,
                               scheduler=scheduler, connect_timeout=connect_timeout, quiet=quiet, argv=argv)
    check_budget(job, allow_large=allow_large)
    root = None if out is None else check_output_root(out)
    outcome = run_sweep(etf_cell, cells, kind=KIND, **options)
    folder = bundle = None
    if root is not None:
        folder = new_run_folder(root, outcome.run_id)
        bundle = write_sweep_reports(outcome, folder, title=title, description=etf_report.NORMALISATION)
    rows = tuple({"cell_id": r.cell_id, **r.params, "verdict": r.result["verdict"],
                  "q": r.result["values"]["one_K_inv_one"], "digits_agreed": r.result["digits_agreed"],
                  "ltilde_star": r.result["values"]["ltilde_star"]} for r in outcome.records)
    return EtfSweepReport(outcome.run_id, outcome.store_path, outcome.scheduler, outcome.wall_seconds,
                          outcome.computed, outcome.reused, rows, job,
                          report_id=None if bundle is None else bundle.report_id, report_dir=folder,
                          files={} if bundle is None else dict(bundle.paths))

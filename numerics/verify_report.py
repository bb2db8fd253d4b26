"""``twolayer verify``: run a profile's cells through the sweep runner, then write one report per run.

    ROOT/<run-id>/report.html   the self-contained page (findings, per-cell tables, checks with plots, run)
    ROOT/<run-id>/report.md     Markdown, with the log-log PNGs beside it
    ROOT/<run-id>/report.tex    standalone LaTeX (findings and one compact table per cell kind)
    ROOT/<run-id>/report.json   identity, findings, every cell, and ``extra``: the profile, its grid and
                                expected runtime, every check with its per-cell rows and plot series, the
                                cell ids per kind and the sweeps (hashed into the report id)
    ROOT/<run-id>/CITATION.txt  how to cite the evidence
    ROOT/latest -> <run-id>     the newest run; an earlier run's folder is never touched

The cells go to one result store (``store``; None: $TWOLAYER_STORE, else ./twolayer-results), which
re-running reuses.  The pooled rate checks of ``numerics.rate_checks`` become the report's findings;
the cells are shown by the report kinds of ``numerics.rate_report``.  Timings and which cells were
computed or reused are facts of the run, not results: they are shown in the report's run section and
kept in report.json's ``provenance.verify``, outside the hash, so the same numbers give the same report id.

References: docs/model.md section 6 and docs/derivations.md (finite N); numerics.rates (cells),
numerics.rate_checks (verdicts).

Examples
--------
>>> import tempfile
>>> out = run_verify("smoke", tempfile.mkdtemp(), seed=1, n_workers=0, quiet=True, kinds=("dimension-limit",),
...                  store=tempfile.mkdtemp())
>>> [(c.key, f.verdict) for c, f in zip(out.checks, out.findings)], out.folder.name == out.run_id
([('dimension', 'confirmed'), ('precision', 'info')], True)
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numerics.rate_report  # noqa: F401 - registers the report content of the verify cell kinds
from numerics import rates
from numerics.evidence.provenance import collect_provenance
from numerics.evidence.reports import write_sweep_reports
from numerics.evidence.reports.model import Figure, Finding, Section, Table
from numerics.evidence.run_folder import check_output_root, new_run_folder
from numerics.evidence.store import ResultStore
from numerics.evidence.sweep import _check_connect_timeout, _check_scheduler, _check_seed, _new_run_id, run_sweep
from numerics.plots import loglog_png, omitted_points
from numerics.profiles import DEFAULT_ROOT, DEFAULT_SEED, Profile, get_profile
from numerics.rate_checks import Check, Verdict, all_checks
from numerics.rate_report import SECTION_TITLES, ci_text, num
from theory.errors import InputError
from theory.job_budget import JobEstimate, Part, check_budget
from theory.rendering import Rendered

CELL_FUNCTIONS = {
    rates.KIND_CONSISTENCY: rates.consistency_cell,
    rates.KIND_MOMENTS: rates.moments_cell,
    rates.KIND_MINIMUM: rates.minimum_cell,
    rates.KIND_DIMENSION: rates.dimension_cell,
    rates.KIND_PRECISION: rates.precision_cell,
}

# check key -> (figure file, x label, y label, reference slope)
PLOTS = {
    "bias": ("bias.png", "N (target width)", "E[L_N] - Ltilde (control variate)", None),
    "variance_etf": ("variance_etf.png", "N (target width)", "Var L_N at the ETF", None),
    "variance_unbalanced": ("variance_unbalanced.png", "N (target width)", "Var L_N at e_1..e_M", None),
    "minimum_gain": ("minimum_gain.png", "N (target width)", "G_N = Ltilde_N* - min L_N", -0.5),
    "minimum_gap": ("minimum_gap.png", "N (target width)", "Ltilde* - min L_N = -(min L_N - Ltilde*)", -0.5),
    "minimum_deformation": ("minimiser_deformation.png", "N (target width)", "rms ||V* - R V_ETF||_F", -0.5),
    "minimum_gram_distance": ("minimiser_distance.png", "N (target width)", "rms ||G(V*) - G_ETF||_F", -0.5),
    "dimension": ("dimension.png", "d (input dimension)", "|Ltilde_d* - Ltilde_inf*|", None),
}
VERDICT_RULES = (
    "Ratios are measured / predicted with 95% confidence intervals from the sampling error of the measurement "
    "(the predictions of theory.finite_n are exact). 'confirmed': the pooled ratio's CI contains 1 and every "
    "fitted exponent's CI contains the predicted one. The minimum checks compare with theory.finite_n_gain's "
    "prediction of E[G_N] = A N^-1/2 + O(1/N) and of the minimiser's deformation (docs/finite_n_gain.md), whose "
    "Monte Carlo standard error (shown per cell in the minimum table as predicted +- MC s.e.) is not in the CI. "
    "'info': a measurement without a verdict.")
# Checks whose per-cell rows are exactly a cell kind's table (shown once, in the cells section).
ROWS_SHOWN_BY_KIND = {"consistency": SECTION_TITLES[rates.KIND_CONSISTENCY],
                      "dimension": SECTION_TITLES[rates.KIND_DIMENSION]}

# Kinds whose cells take seconds each: run on one shared local Dask cluster (one process per core);
# the others take milliseconds and run serially in this process.
HEAVY_KINDS = (rates.KIND_MOMENTS, rates.KIND_MINIMUM)


def _shared_cluster(n_workers: int | None, kinds: list[str]):
    """A LocalCluster for the heavy kinds when n_workers is None (auto) and the machine has >= 2 cores."""
    cores = os.cpu_count() or 1
    if n_workers is not None or cores < 2 or not any(k in HEAVY_KINDS for k in kinds):
        return None
    from distributed import LocalCluster

    return LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None)


# Memory of one verify worker: the largest draw (N = 10^4 target rows of d = 256, a few copies) and its
# kernel tiles, with the interpreter: about 300 MiB (measured peak RSS ~250 MiB).
WORKER_BYTES = 300 * 2**20


def verify_estimate(profile: Profile, workers: int) -> JobEstimate:
    """The profile's measured wall time on 2 cores (Profile.estimated_seconds) and its workers' memory."""
    return JobEstimate("verify", (Part(WORKER_BYTES * max(1, workers), profile.estimated_seconds, "profile",
                                       f"profile {profile.name} ({profile.expected_runtime})"),))


@dataclass(frozen=True, repr=False)
class VerifyOutcome(Rendered):
    """What ``run_verify`` produced: the checks and findings, the run folder and report, timing, provenance."""

    profile: str
    run_id: str
    folder: Path
    root: Path
    report_id: str
    checks: tuple[Check, ...]
    findings: tuple[Finding, ...]
    paths: dict
    wall_seconds: float
    provenance: dict
    cell_seconds: dict
    store_path: str

    seed: int = DEFAULT_SEED

    def lines(self) -> list[str]:
        return [c.line() for c in self.checks]

    def text(self) -> str:
        figures = sorted(p.name for p in self.paths.values() if Path(p).suffix == ".png")
        return "\n".join([*self.lines(),
                          f"report {self.report_id} in {self.folder} ({self.root / 'latest'} points at it): "
                          f"report.html, report.md, report.tex, report.json, CITATION.txt and {len(figures)} figures; "
                          f"{self.wall_seconds:.1f} s; store {self.store_path}"])

    def as_json(self) -> dict:
        """What ``twolayer verify --json`` prints."""
        return {"profile": self.profile, "seed": self.seed, "run_id": self.run_id, "run_folder": str(self.folder),
                "latest": str(self.root / "latest"), "report_id": self.report_id, "store": self.store_path,
                "wall_seconds": self.wall_seconds,
                "findings": [f.as_dict() for f in self.findings],
                "files": {k: str(v) for k, v in self.paths.items()}}

    def html_body(self) -> str:
        import html as _html

        rows = "".join(f"<tr><td>{_html.escape(f.name)}</td><td><b>{_html.escape(f.verdict)}</b></td>"
                       f"<td>{_html.escape(f.detail)}</td></tr>" for f in self.findings)
        return (f"<p><b>twolayer verify</b>, profile {_html.escape(self.profile)}: report {self.report_id} in "
                f"{_html.escape(str(self.folder))}</p><table><tr><th>check</th><th>verdict</th><th>detail</th></tr>"
                f"{rows}</table>")

    def cite(self) -> str:
        return Path(self.paths["citation"]).read_text()


# -- input ------------------------------------------------------------------------------------------------
def open_store(store) -> str:
    """Check the result store before any work (None: the shared default) and return its SQLite path.

    A path that is not a twolayer store (e.g. a JSON file) is an InputError; nothing is created then."""
    with ResultStore(store) as st:
        return str(st.path)


def _check_kinds(kinds) -> None:
    if kinds is None:
        return
    unknown = [k for k in kinds if k not in CELL_FUNCTIONS]
    if unknown or not kinds:
        raise InputError("kinds", f"expected some of {', '.join(CELL_FUNCTIONS)}", got=list(kinds))


# -- findings and sections ------------------------------------------------------------------------------
def verdict_word(check: Check) -> str:
    """The finding's verdict: confirmed, not_confirmed, consistent, inconsistent or info."""
    return check.verdict.value.replace(" ", "_")


def finding_detail(check: Check) -> str:
    """The measured ratio with its 95% CI against the prediction, the fitted exponent, then the check's detail."""
    parts = []
    if check.ratio is not None:
        r = check.ratio
        parts.append(f"measured / predicted = {r.value:.4f} (95% CI {r.low:.4f}..{r.high:.4f}; prediction: 1)")
    if check.exponent is not None:
        e = check.exponent
        p = check.predicted_exponent
        if p is None:
            pred = "no prediction"
        elif check.ratio is None and check.verdict in (Verdict.CONSISTENT, Verdict.INCONSISTENT):
            pred = f"compared with {p:g}"  # a reference exponent, not a closed-form prediction
        else:
            pred = f"predicted {p:g}"
        lo, hi = e.exponent_ci
        parts.append(f"fitted exponent {e.exponent:.3f} (95% CI {lo:.3f}..{hi:.3f}; {pred})")
    detail = check.detail.strip()
    if detail.startswith("(") and detail.endswith(")"):
        detail = detail[1:-1]
    if detail:
        parts.append(detail)
    return "; ".join(parts) or "no measurement"


def finding(check: Check) -> Finding:
    """A pooled check as a report-level finding: its title, verdict and the evidence behind the verdict."""
    return Finding(check.title, verdict_word(check), finding_detail(check))


def _cell_text(value, digits: int = 4) -> str:
    """A check-row value: an estimate {value, se, ci95} or a ratio {ratio, ci95} with its CI; '-' if absent."""
    if isinstance(value, dict) and "ci95" in value:
        lo, hi = value["ci95"]
        if "ratio" in value:
            return f"{value['ratio']:.3f} [{lo:.3f}, {hi:.3f}]"
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lo, hi)):
            return f"{value['value']:.{digits}g} (1 draw, no CI)"
        return ci_text(value["value"], lo, hi, digits)
    return num(value, digits)


# check family -> columns (row key, header, significant digits)
_CHECK_COLUMNS = {
    "bias": (("d", "d", 0), ("N", "N", 0), ("draws", "draws R", 0), ("predicted", "predicted bias/N (exact)", 6),
             ("measured_cv", "measured, control variate (95% CI)", 4), ("ratio_cv", "ratio (95% CI)", 4),
             ("measured_raw", "measured, raw mean (95% CI)", 4), ("ratio_raw", "raw ratio (95% CI)", 4)),
    "variance": (("d", "d", 0), ("N", "N", 0), ("draws", "draws R", 0), ("predicted", "predicted Var (exact)", 6),
                 ("predicted_first_term_share", "v1/N share of the prediction", 3),
                 ("measured", "measured Var (95% CI)", 4), ("ratio", "ratio (95% CI)", 4),
                 ("balance", "||sum_j beta_j v_j||", 3)),
    "minimum": (("d", "d", 0), ("N", "N", 0), ("draws", "draws R", 0), ("predicted", "predicted (theory.finite_n_gain)", 5),
                ("measured", "measured mean (95% CI)", 4), ("ratio", "ratio (95% CI)", 4),
                ("ratio_leading_only", "ratio to A N^-1/2 alone", 4), ("max_final_gradient_norm", "max final |grad|", 2)),
    "minimum_per_draw": (("d", "d", 0), ("N", "N", 0), ("draws", "draws R", 0),
                         ("corr_degree_two", "r, degree-2 predictor", 3), ("corr_second_order", "r, second-order", 3),
                         ("mean_residual", "mean G_N - second-order predictor (95% CI)", 3)),
    "minimum_motion": (("d", "d", 0), ("N", "N", 0), ("draws", "draws R", 0), ("predicted", "predicted rms", 4),
                       ("measured", "measured rms", 4), ("ratio", "ratio (95% CI)", 4)),
    "minimum_rotation": (("d", "d", 0), ("N", "N", 0), ("draws", "draws R", 0),
                         ("mean", "span distance to S_N's top eigenspace (95% CI)", 3),
                         ("haar", "independent Haar span (rms)", 3)),
    "precision": (("quantity", "quantity", 0), ("value", "value (arb or mpmath)", 6),
                  ("float64_digits", "float64 digits", 3), ("effect_to_rounding_bound", "effect / float64 bound", 3)),
}
_CHECK_NOTES = {
    "bias": "Predicted bias/N = (E[alpha^2] kappa(1) - abar^2 c_d)/N at the ETF (theory.finite_n, exact). Control "
            "variate: mean of Y - Z; raw: mean of Y = L_N - Ltilde (same draws). [low, high] = 95% CI.",
    "variance": "Predicted Var = v1/N + v2/N^2 + v3/N^3 (theory.finite_n, exact); v1/N share: how much of it is the "
                "first-order term. Measured: sample variance of L_N over the R draws, 95% CI by the delta method "
                "(kurtosis floored at 3). ||sum_j beta_j v_j|| = 0 for a balanced frame.",
    "minimum_per_draw": "Pearson correlation across the R draws of each per-draw predictor with the measured G_N "
                        "(theory.finite_n_gain.per_draw_gain); '-' or nan with fewer than 3 draws.",
    "minimum_motion": "Root mean square over the R draws against the leading-order prediction; the ratio's CI comes "
                      "from the mean of squares (delta method).",
    "minimum_rotation": "Sine distance ||P_V - P_top||_F / sqrt 2 between the span of the minimiser and the top M-1 "
                        "eigenvectors of S_N, against the rms value sqrt((M-1)(d-M+1)/d) for an independent Haar span.",
    "minimum": "Mean over the R draws with its 95% CI (mean +- 1.96 s/sqrt(R)); R is small, the minimum is a "
               "multi-start search (BFGS, then Newton steps: the largest final gradient norm is shown). Predicted: "
               "theory.finite_n_gain, A N^-1/2 plus the O(1/N) terms; the ratio to A N^-1/2 alone shows their size.",
    "precision": "float64 digits: digits of the float64 value that agree with arb (L_N and its differences) or "
                 "mpmath (the dimension limit). effect / float64 bound: the effect (finite-N bias/N for L_N, the "
                 "difference itself otherwise) over the a-priori float64 rounding bound; '-' for the dimension "
                 "rows, a closed form with no float64 rounding bound computed.",
}


def _family(key: str) -> str | None:
    if key == "bias":
        return "bias"
    if key.startswith("variance_"):
        return "variance"
    if key in ("minimum_per_draw", "minimum_rotation"):
        return key
    if key in ("minimum_deformation", "minimum_gram_distance"):
        return "minimum_motion"
    if key.startswith("minimum_"):
        return "minimum"
    return "precision" if key == "precision" else None


def check_table(check: Check) -> Table | None:
    """The per-cell rows behind a check, every measured number with its 95% CI; None when there are none."""
    fam = _family(check.key)
    if fam is None or not check.rows:
        return None
    # a column no row of this check fills (e.g. the ratio to A N^-1/2 alone outside the gain check) is left out
    cols = tuple(col for col in _CHECK_COLUMNS[fam] if any(row.get(col[0]) is not None for row in check.rows))
    rows = tuple(tuple(str(row.get(k)) if digits == 0 else _cell_text(row.get(k), digits) for k, _, digits in cols)
                 for row in check.rows)
    return Table(f"Per-cell rows of the check ({check.key})", tuple(h for _, h, _ in cols), rows, _CHECK_NOTES[fam])


def check_figure(check: Check) -> Figure | None:
    """The check's log-log plot (measured points with 95% error bars, predicted lines), if it has one."""
    if check.key not in PLOTS or not check.series:
        return None
    name, xlabel, ylabel, slope = PLOTS[check.key]
    exact = all(not any(s["se"]) for s in check.series)  # deterministic values (the dimension limit)
    png = loglog_png(check.series, title=check.title, xlabel=xlabel, ylabel=ylabel, reference_slope=slope,
                     point_label="computed" if exact else "measured")
    has_pred = any(s.get("predicted") is not None for s in check.series)
    points = ("computed values (deterministic, no error bars)" if exact
              else "measured points with 95% error bars (1.96 se)")
    caption = (f"{ylabel} against {xlabel.split(' (')[0]}, log-log: {points}"
               + (", predicted values as lines" if has_pred else "")
               + (f", a dashed reference line of slope {slope:g}" if slope is not None else "") + ".")
    left_out = omitted_points(check.series)
    if left_out:
        caption += f" {left_out} measured point(s) <= 0 cannot be drawn on a log scale (see the table)."
    return Figure(name, caption, png)


def check_section(check: Check) -> Section:
    paras = [f"Verdict: {verdict_word(check)}. {finding_detail(check)}."]
    if check.key in ROWS_SHOWN_BY_KIND:
        paras.append(f"The per-cell numbers are in the table of section '{ROWS_SHOWN_BY_KIND[check.key]}'.")
    table = check_table(check)
    fig = check_figure(check)
    return Section(f"Check: {check.title}", tuple(paras), (table,) if table else (), (fig,) if fig else ())


def _grid_text(grid: dict) -> str:
    def show(v):
        return ", ".join(str(x) for x in v) if isinstance(v, (list, tuple)) else str(v)

    return "; ".join(f"{k} {show(v)}" for k, v in grid.items())


def run_section(prof: Profile, kinds: list[str], sweeps: list[dict], wall: float, seed: int, run_id: str,
                store_path: str) -> Section:
    """The profile, its grid and expected runtime, the sweeps and the wall time of this run."""
    grids = {rates.KIND_MOMENTS: prof.moments, rates.KIND_MINIMUM: prof.minimum, rates.KIND_DIMENSION: prof.dimension,
             rates.KIND_PRECISION: prof.precision, rates.KIND_CONSISTENCY: prof.consistency}
    cells = prof.cells()
    grid = Table("Profile grid", ("kind", "cells", "parameters (the grid is the product of the listed values)"),
                 tuple((k, str(len(cells[k])), _grid_text(grids[k])) for k in kinds),
                 f"numerics.profiles.PROFILES['{prof.name}']; report.json's extra.profile_grid lists every cell.")
    sweep_rows = tuple((s["kind"], s["run_id"], str(s["cells"]), str(s["computed"]), str(s["reused"]), s["scheduler"],
                        f"{s['wall_seconds']:.2f}", s["results_hash"][:19]) for s in sweeps)
    sweep_table = Table("Sweeps of this run", ("kind", "sweep run", "cells", "computed", "reused", "ran on", "wall s",
                                                "results hash"), sweep_rows,
                        "One sweep per cell kind (numerics.evidence.sweep.run_sweep); reused cells come from the "
                        "store. Results hash shortened (in full in report.json).")
    computed = sum(s["computed"] for s in sweeps)
    reused = sum(s["reused"] for s in sweeps)
    paras = (f"Profile {prof.name}: {prof.description}.",
             f"Wall time {wall:.1f} s for the sweeps and checks; expected for this profile: {prof.expected_runtime}. "
             f"{computed} cells computed, {reused} reused from the store {store_path}.",
             f"Verify run {run_id}, sweep seed {seed}.")
    return Section("Run: profile, sweeps and timing", paras, (grid, sweep_table))


# -- the run --------------------------------------------------------------------------------------------
def run_verify(profile: str | Profile, out_root=DEFAULT_ROOT, *, seed: int = DEFAULT_SEED,
               n_workers: int | None = None, quiet: bool = False, kinds: tuple[str, ...] | None = None,
               scheduler: str | None = None, store=None, connect_timeout: float | None = None) -> VerifyOutcome:
    """Run every cell of ``profile`` (reusing finished cells in ``store``) and write the report of this run
    into ``out_root/<run-id>/`` (``out_root/latest`` points at it).

    ``store``: a path or None (the shared default, $TWOLAYER_STORE or ./twolayer-results).  ``scheduler``
    ('tcp://host:port') sends every cell to that Dask cluster instead of a local one; ``connect_timeout`` is how
    long to wait for it to answer (seconds, 1..600; default numerics.evidence.sweep.CONNECT_TIMEOUT_S).  The output root,
    the store, the seed and the scheduler address are checked before any cell runs; a bad one creates nothing.
    """
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    _check_kinds(kinds)
    seed = _check_seed(seed)
    scheduler = _check_scheduler(scheduler)
    connect_timeout = _check_connect_timeout(connect_timeout)
    root = check_output_root(out_root)
    store_path = open_store(store)
    run_id = _new_run_id()
    start = time.perf_counter()
    by_kind: dict[str, list[dict]] = {}
    cell_seconds: dict[str, float] = {}
    cell_ids: dict[str, list[str]] = {}
    sweeps, outcomes = [], []
    todo = [(k, c) for k, c in prof.cells().items() if kinds is None or k in kinds]
    cluster = None if scheduler else _shared_cluster(n_workers, [k for k, _ in todo])
    try:
        for kind, cells in todo:
            heavy = kind in HEAVY_KINDS and cluster is not None
            if scheduler:
                where = {"scheduler": scheduler, "n_workers": None}
            else:
                where = {"scheduler": cluster.scheduler_address if heavy else None,
                         "n_workers": n_workers if n_workers is not None or heavy else 0}
            outcome = run_sweep(CELL_FUNCTIONS[kind], cells, kind=kind, store=store_path, seed=seed, quiet=quiet,
                                argv=["twolayer", "verify", "--profile", prof.name], connect_timeout=connect_timeout,
                                **where)
            outcomes.append(outcome)
            by_kind[kind] = [r.result for r in outcome.records]
            cell_seconds[kind] = float(sum(r.seconds for r in outcome.records))
            cell_ids[kind] = [r.cell_id for r in outcome.records]
            sweeps.append({"kind": kind, "run_id": outcome.run_id, "sweep_id": outcome.sweep_id,
                           "cells": len(outcome.records), "computed": outcome.computed, "reused": outcome.reused,
                           "scheduler": outcome.scheduler, "wall_seconds": outcome.wall_seconds,
                           "results_hash": outcome.content_hash})
    finally:
        if cluster is not None:
            cluster.close()
    checks = tuple(all_checks(by_kind))
    findings = tuple(finding(c) for c in checks)
    wall = time.perf_counter() - start
    kinds_run = [k for k, _ in todo]
    # Results (hashed into the report id): the same numbers give the same data here.
    extra = {"profile": prof.name, "description": prof.description, "expected_runtime": prof.expected_runtime,
             "seed": seed, "profile_grid": {k: c for k, c in prof.cells().items() if k in kinds_run},
             "checks": [c.as_dict() for c in checks], "cell_ids": cell_ids,
             "sweeps": [{k: s[k] for k in ("kind", "sweep_id", "cells", "results_hash")} for s in sweeps]}
    provenance = collect_provenance(seeds=[seed])
    provenance["verify"] = {"run_id": run_id, "profile": prof.name, "wall_seconds": wall, "sweeps": sweeps,
                            "cell_seconds": cell_seconds}
    sections = [check_section(c) for c in checks]
    sections.append(run_section(prof, kinds_run, sweeps, wall, seed, run_id, store_path))
    folder = new_run_folder(root, run_id)
    n_cells = sum(len(v) for v in cell_ids.values())
    bundle = write_sweep_reports(
        outcomes, folder, title=f"twolayer verify: rate checks, profile {prof.name}",
        description=(f"Finite-N and 1/d rate checks of profile {prof.name} ({prof.description}): {n_cells} cells in "
                     f"{len(outcomes)} sweeps, sweep seed {seed}; verify run {run_id}."),
        store=store_path, provenance=provenance, sections=sections, findings=findings, extra=extra,
        notes=[VERDICT_RULES])
    return VerifyOutcome(prof.name, run_id, folder, root, bundle.report_id, checks, findings,
                         {k: Path(v) for k, v in bundle.paths.items()}, wall, provenance, cell_seconds, store_path,
                         seed)


def verify_plan(profile: str | Profile = "quick", *, seed: int = DEFAULT_SEED, workers: int | None = None,
                scheduler: str | None = None, connect_timeout: float | None = None, store=None,
                quiet: bool = True) -> tuple[Profile, dict, JobEstimate]:
    """(profile, checked sweep options, JobEstimate) of ``verify``; nothing run (``--estimate`` prints it).
    The profile's heavy kinds run on every core unless workers are given (planned as one large sweep)."""
    from numerics.evidence.sweep import planned_workers, sweep_options

    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    options = sweep_options(store=store, seed=seed, scheduler=scheduler, workers=workers,
                            connect_timeout=connect_timeout, quiet=quiet)
    return prof, options, verify_estimate(prof, planned_workers(options, 10**6))


def verify(*, profile: str | Profile = "quick", out=DEFAULT_ROOT, seed: int = DEFAULT_SEED, workers: int | None = None,
           scheduler: str | None = None, connect_timeout: float | None = None, store=None, quiet: bool = True,
           allow_large: bool = False) -> VerifyOutcome:
    """Run a verify profile's rate checks (``twolayer verify``): the budget is checked first, then
    ``run_verify``; the report goes to ``out/<run-id>/``."""
    prof, options, job = verify_plan(profile, seed=seed, workers=workers, scheduler=scheduler,
                                     connect_timeout=connect_timeout, store=store, quiet=quiet)
    check_budget(job, allow_large=allow_large)
    return run_verify(prof, out, seed=options["seed"], n_workers=options["n_workers"], quiet=options["quiet"],
                      scheduler=options["scheduler"], store=options["store"],
                      connect_timeout=options["connect_timeout"])

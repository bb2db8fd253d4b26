"""The conjecture layer's public API: ``check`` one (M, d) cell, ``sweep`` a grid and write its reports.

``twolayer conjecture`` is a thin layer over ``sweep``: the same function, the same numbers.  Sizes use
the command line's vocabulary (M compressed width, d input dimension) and accept plain values: an int,
a range string ``"2-5"``, a list ``[2, 3]`` or, for d, values relative to M (``"M-1,M+2"``).  Every value
is stated at abar = 1 (``NORMALISATION``).

Examples
--------
>>> from conjecture import check
>>> cell = check(M=3, d=2, starts=4, polish_dps=0, sdp=False, store=getfixture("tmp_path"))
>>> cell.verdict_nonneg, cell.verdict_signed      # signed: the elliptope certificate (docs/signed_beta.md)
('PROVEN', 'PROVEN')
>>> cell.certificate_hash.startswith("sha256:")
True
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from pathlib import Path

from conjecture.elliptope.stored import certificate_digest
from conjecture.orientation_stored import family_certificate_digest
from conjecture.report import (NORMALISATION, best_text, certificate_text, etf_text, gap_text, orientation_section,
                               polygon_section, tilt_section)
from numerics.evidence.provenance import content_hash
from numerics.evidence.store import CellRecord
from theory.cli_args import parse_dims, parse_int, parse_int_set
from theory.derive_bounds import DEFAULT_REGIME_III_LAW, DEFAULT_TILT_NORM, MAX_M
from theory.errors import InputError
from theory.job_budget import JobEstimate, check_budget
from theory.rendering import Rendered

DEFAULT_M = "2-5"
DEFAULT_D = "1-4"
DEFAULT_STARTS = 32
DEFAULT_OUT = "conjecture_out"
MAX_D = 64  # MAX_M (64) is shared with derive: theory.derive_bounds
MAX_CELLS = 4096
MAX_STARTS = 4096
STUDIES = ("polygons", "tilt", "orientation")
# The parts of a cell's result that carry its certificates (hashed into ``certificate_hash``).
CERTIFICATE_KEYS = ("bounds_nonneg", "certified_gap_rel", "zero_loss_certificate", "refutation_nonneg",
                    "refutation_signed", "qp_at_etf_nonneg")


def certificate_hash(result: dict) -> str:
    """content_hash of the certificate evidence of one cell (its bounds, certified gap and refutations)."""
    return content_hash({k: result.get(k) for k in CERTIFICATE_KEYS})


@dataclass(frozen=True, repr=False)
class CellCheck(Rendered):
    """The verdicts of one (M, d) cell with their evidence (``record.result`` holds all of it)."""

    record: CellRecord

    @property
    def result(self) -> dict:
        return self.record.result

    @property
    def M(self) -> int:
        return int(self.result["params"]["M"])

    @property
    def d(self) -> int:
        return int(self.result["params"]["d"])

    @property
    def verdict_nonneg(self) -> str:
        return self.result["verdict_nonneg"]

    @property
    def verdict_signed(self) -> str:
        return self.result["verdict_signed"]

    @property
    def certificate(self) -> str:
        return certificate_text(self.result)

    @property
    def certificate_hash(self) -> str:
        return certificate_hash(self.result)

    @property
    def cell_id(self) -> str:
        return self.record.cell_id

    def as_json(self) -> dict:
        """The row ``twolayer conjecture --json`` prints for this cell."""
        c, s = self.result, self.result["search_signed"]
        p = c["params"]
        return {"M": p["M"], "d": p["d"], "regime": p["regime"], "activation": p["activation"],
                "verdict_nonneg": c["verdict_nonneg"], "verdict_signed": c["verdict_signed"],
                "reason_nonneg": c["reason_nonneg"], "reason_signed": c["reason_signed"],
                "F_ETF": (c.get("etf") or {}).get("closed_form"), "best_found": s["best_value"],
                "best_found_rounding": s.get("best_value_rounding"), "gap_rel": s.get("gap_rel"),
                "certificate": self.certificate, "certificate_hash": self.certificate_hash,
                "result_hash": self.record.result_hash, "C_target": c["C_target"], "cell_id": self.cell_id,
                "seconds": c["seconds"], "normalisation": NORMALISATION}

    def row_text(self) -> str:
        c = self.result
        return (f"{self.M:>3} {self.d:>3}  {c['verdict_nonneg']:<14} {c['verdict_signed']:<14} {etf_text(c):<40} "
                f"{best_text(c):<34} {gap_text(c):<26} {c['seconds']:.1f}")

    def text(self) -> str:
        c = self.result
        return "\n".join([
            f"ETF conjecture cell M = {self.M}, d = {self.d} (regime {c['params']['regime']}, "
            f"{c['params']['activation']}); {NORMALISATION}",
            f"  beta >= 0: {self.verdict_nonneg} ({c['reason_nonneg']})",
            f"  signed:    {self.verdict_signed} ({c['reason_signed']})",
            f"  F_ETF: {etf_text(c)}; best found (signed): {best_text(c)}; gap / C_target: {gap_text(c)}",
            f"  certificate: {self.certificate} [{self.certificate_hash}]",
            f"  cell {self.cell_id}, result {self.record.result_hash}"])

    def html_body(self) -> str:
        c = self.result
        rows = [("M, d", f"{self.M}, {self.d}"), ("regime, activation", f"{c['params']['regime']}, "
                                                                        f"{c['params']['activation']}"),
                ("verdict, beta >= 0", self.verdict_nonneg), ("why", c["reason_nonneg"]),
                ("verdict, signed beta", self.verdict_signed), ("why", c["reason_signed"]),
                ("F_ETF", etf_text(c)), ("best found, signed", best_text(c)), ("gap / C_target", gap_text(c)),
                ("certificate", self.certificate), ("certificate hash", self.certificate_hash),
                ("cell id", self.cell_id), ("normalisation", NORMALISATION)]

        def style(value: str) -> str:
            colour = {"PROVEN": "#1a7f37", "REFUTED": "#cf222e", "SUPPORTED": "#0969da"}.get(value)
            return f' style="font-weight:bold;color:{colour}"' if colour else ""

        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td{style(v)}>{html.escape(v)}</td></tr>"
                       for k, v in rows)
        return f'<table class="twolayer-cell">{body}</table>'

    def latex_body(self) -> str:
        c = self.result
        return (rf"$M = {self.M},\ d = {self.d}:\ \beta \ge 0\ \text{{{self.verdict_nonneg}}},\ "
                rf"\text{{signed}}\ \text{{{self.verdict_signed}}},\ F_{{\mathrm{{ETF}}}} = "
                rf"{(c.get('etf') or {}).get('closed_form') or '-'}$")

    def cite(self) -> str:
        from numerics.evidence.provenance import collect_provenance
        from numerics.evidence.reports.citation import citation_text
        from numerics.evidence.reports.content import build_content

        content = build_content([self.record], title=f"ETF conjecture cell M = {self.M}, d = {self.d}",
                                provenance=collect_provenance(), run_ids=[self.record.run_id])
        return citation_text(content)


@dataclass(frozen=True, repr=False)
class SweepReport(Rendered):
    """What ``sweep`` did: its cells (ordered by M, d), where their reports and store are, the estimate."""

    title: str
    cells: tuple[CellCheck, ...]
    run_id: str
    store: str
    computed: int
    reused: int
    scheduler: str
    starts: int
    seed: int
    estimate: JobEstimate
    seconds: float
    report_id: str | None = None
    report_dir: Path | None = None
    root: Path | None = None
    files: dict = field(default_factory=dict)
    citation: str | None = None
    studies: dict = field(default_factory=dict)
    study_tables: tuple = ()

    def as_json(self) -> dict:
        """What ``twolayer conjecture --json`` prints."""
        return {"title": self.title, "run_id": self.run_id, "report_id": self.report_id,
                "report_dir": None if self.report_dir is None else str(self.report_dir), "store": self.store,
                "normalisation": NORMALISATION, "cells": [c.as_json() for c in self.cells], "studies": self.studies,
                "files": {k: str(v) for k, v in self.files.items()}, "estimate": self.estimate.as_dict()}

    def text(self) -> str:
        n = len(self.cells)
        lines = [f"{self.title}: {n} cell{'' if n == 1 else 's'}, starts/cell {self.starts}, seed {self.seed}; run "
                 f"{self.run_id} ({self.scheduler}; computed {self.computed}, reused {self.reused}); store {self.store}",
                 f"normalisation: {NORMALISATION}",
                 f"{'M':>3} {'d':>3}  {'beta>=0':<14} {'signed':<14} {'F_ETF (abar = 1)':<40} "
                 f"{'best found, signed':<34} {'gap / C_target':<26} seconds"]
        lines += [c.row_text() for c in self.cells]
        for t in self.study_tables:
            lines += ["", t.title, "  " + " | ".join(t.headers)] + ["  " + " | ".join(row) for row in t.rows]
        if self.report_dir is not None:
            names = ", ".join(sorted(Path(p).name for p in self.files.values()))
            lines.append(f"reports in {self.report_dir} (also {Path(self.root) / 'latest'}): {names}")
            lines.append(f"cite: {self.report_dir / 'CITATION.txt'}; total {self.seconds:.1f} s")
        return "\n".join(lines)

    def html_body(self) -> str:
        n = len(self.cells)
        head = (f"<p><b>{html.escape(self.title)}</b>: {n} cell{'' if n == 1 else 's'}; run {html.escape(self.run_id)}; "
                f"{html.escape(NORMALISATION)}</p>")
        return head + "".join(c.html_body() for c in self.cells)

    def cite(self) -> str:
        return self.citation if self.citation is not None else self.text()


def _cells(*, M, d, activation, regime, starts, polish_dps, max_iter, sdp, solver, tilt_norm, law, frame,
           study, objective=None, bnb_seconds=None) -> list[dict]:
    """The cells' parameters, every value checked (InputError naming the option) before any work starts."""
    Ms = parse_int_set(M, "M", lo=2, hi=MAX_M)
    dims = parse_dims(d, Ms, lo=1, hi=MAX_D)
    ds = sorted({v for vals in dims.values() for v in vals})
    if sum(len(v) for v in dims.values()) > MAX_CELLS:
        raise InputError("d", f"at most {MAX_CELLS} (M, d) cells in one sweep")
    if not any(dims.values()):
        raise InputError("d", f"no d in 1..{MAX_D} for these M", got=d)
    if study is not None and str(study).strip().lower() not in STUDIES:
        raise InputError("study", "expected polygons, tilt or orientation", got=study)
    regime = str(regime).strip().upper()
    if regime not in ("I", "II", "III"):
        raise InputError("regime", "expected one of I, II, III", got=regime)
    if study is not None and str(study).strip().lower() == "orientation" and regime != "III":
        raise InputError("study", f"orientation applies to regime III only (this run is regime {regime})", got=study)
    if tilt_norm is not None and regime != "II":
        raise InputError("tilt-norm", f"applies to regime II only (this run is regime {regime})", got=tilt_norm)
    if law is not None and regime != "III":
        raise InputError("law", f"applies to regime III only (regimes I and II have Gaussian-equivalent targets; "
                                f"this run is regime {regime})", got=law)
    for name, value in (("objective", objective), ("bnb-seconds", bnb_seconds)):
        if value is not None and regime != "III":
            raise InputError(name, f"applies to regime III only (this run is regime {regime})", got=value)
    starts = parse_int(starts, "starts", lo=1, hi=MAX_STARTS)
    norm = DEFAULT_TILT_NORM if tilt_norm is None else tilt_norm
    if isinstance(norm, bool) or not isinstance(norm, (int, float)) or norm != norm or not 0 <= norm <= 1e6:
        raise InputError("tilt-norm", "expected a finite number in 0..1e6", got=tilt_norm)
    if not isinstance(solver, str):
        raise InputError("solver", "expected CLARABEL or SCS", got=solver)
    from theory.activations import get_activation

    act = get_activation(activation).name
    user = None
    if frame is not None:
        from conjecture.frames import load_user_frame, user_frame_from_rows

        arr = load_user_frame(frame) if isinstance(frame, (str, Path)) else user_frame_from_rows(frame)
        if len(Ms) > 1 or len(ds) > 1:
            Ms, ds = (arr.shape[0],), [arr.shape[1]]
        if (Ms[0], ds[0]) != arr.shape:
            raise InputError("frame", f"shape {arr.shape} does not match --M {Ms[0]} --d {ds[0]}")
        user = arr.tolist()
        dims = {Ms[0]: ds}
    cells = []
    for m in Ms:
        for dd in dims[m]:
            c = {"M": m, "d": dd, "regime": regime, "activation": act, "starts": starts, "polish_dps": polish_dps,
                 "max_iter": max_iter, "solver": solver.upper()}
            if regime == "II":
                c["tilt_norm"] = float(norm)
            if regime == "III":
                c["law"] = law or DEFAULT_REGIME_III_LAW
                if objective is not None:
                    c["objective"] = objective
                if bnb_seconds is not None:
                    c["bnb_seconds"] = bnb_seconds
            if not sdp:
                c["sdp"] = False
            if regime == "I" and certificate_digest(m, act) is not None:
                c["signed_certificate"] = certificate_digest(m, act)   # a new certificate means a new cell id
            if regime == "III":
                digest = family_certificate_digest(m, dd, act, c["law"], objective)
                if digest is not None:
                    c["family_certificate"] = digest   # likewise for the shipped (4, 4) orientation bound
            if user is not None:
                c["user_frame"] = user
            cells.append(c)
    from conjecture.cells import CellParams

    for c in cells:  # validate everything before any work starts, naming the options as spelled on the command line
        try:
            CellParams.from_dict(c)
        except InputError as err:
            raise InputError(err.argument.replace("_", "-"), err.message, got=err.got) from None
    return cells


def _studies(study, Ms, act: str, seed: int, cells: list | None = None) -> tuple[list, dict]:
    """The requested study over the M values (the orientation study: over the cells' (M, d)), as report sections
    and as data."""
    if study is None:
        return [], {}
    key = str(study).strip().lower()
    if key == "orientation":
        from conjecture.orientation_map import orientation_study

        data = orientation_study(_study_dims(cells), activation=act, seed=seed)
        return [orientation_section(data)], {"orientation": data}
    if key == "polygons":
        from conjecture.polygons import polygon_study

        Ms = [m for m in Ms if m >= 3]
        if not Ms:
            raise InputError("M", "the polygon study needs M >= 3")
        data = polygon_study(Ms, activation=act, seed=seed)
        return [polygon_section(data)], {"polygons": data}
    from conjecture.tilt import tilt_study

    data = [tilt_study(m, activation=act, seed=seed) for m in Ms]
    return [tilt_section(data)], {"tilt": data}


def sweep(*, M=DEFAULT_M, d=DEFAULT_D, activation: str = "relu", regime: str = "I", starts=DEFAULT_STARTS,
          seed: int = 0, frame=None, tilt_norm: float | None = None, law: str | None = None, polish_dps: int = 30,
          max_iter: int = 300, sdp: bool = True, solver: str = "CLARABEL", study: str | None = None,
          out=DEFAULT_OUT, store=None, workers: int | None = None, scheduler: str | None = None,
          connect_timeout: float | None = None, quiet: bool = True, allow_large: bool = False,
          argv: list[str] | None = None, objective: str | None = None,
          bnb_seconds: float | None = None) -> SweepReport:
    """Sweep the (M, d) cells: search, relaxations, certificates and verdicts, stored cell by cell.

    ``out``: the output root (each run writes ``out/<run-id>/`` with the five report forms and points
    ``out/latest`` at it); None writes no report.  ``store``: the result store (None: $TWOLAYER_STORE, else
    ./twolayer-results); finished cells are reused.  The job is estimated first (``estimate``) and refused
    above the default budget unless ``allow_large``.
    """
    t0 = time.perf_counter()
    plan = estimate(M=M, d=d, activation=activation, regime=regime, starts=starts, seed=seed, frame=frame,
                    tilt_norm=tilt_norm, law=law, polish_dps=polish_dps, max_iter=max_iter, sdp=sdp, solver=solver,
                    study=study, store=store, workers=workers, scheduler=scheduler, connect_timeout=connect_timeout,
                    quiet=quiet, argv=argv, objective=objective, bnb_seconds=bnb_seconds)
    cells, options, job = plan
    check_budget(job, allow_large=allow_large)
    from numerics.evidence.run_folder import check_output_root, new_run_folder

    root = None if out is None else check_output_root(out)
    from conjecture.cells import KIND, evaluate_cell
    from numerics.evidence.reports import write_sweep_reports
    from numerics.evidence.sweep import run_sweep

    outcome = run_sweep(evaluate_cell, cells, kind=KIND, **options)
    act = cells[0]["activation"]
    sections, study_data = _studies(study, sorted({c["M"] for c in cells}), act, options["seed"], cells)
    first = cells[0]
    law = first.get("law")
    title = f"ETF conjecture, regime {first['regime']}, {act}" + (f", {law} entries" if law else "")
    flags = "".join(f" {flag} {value}" for flag, value, default in
                    (("--regime", first["regime"], "I"), ("--activation", act, "relu"), ("--law", law, None))
                    if value != default)
    folder = bundle = None
    if root is not None:
        folder = new_run_folder(root, outcome.run_id)
        bundle = write_sweep_reports(outcome, folder, title=title, sections=sections, extra=study_data or None,
                                     description=f"twolayer conjecture{flags} --M {M} --d {d}, {first['starts']} starts "
                                                 f"per cell, sweep seed {options['seed']}; computed "
                                                 f"{outcome.computed}, reused {outcome.reused} cells from the store.")
    ordered = sorted(outcome.records, key=lambda r: (r.result["params"]["M"], r.result["params"]["d"]))
    return SweepReport(
        title=title, cells=tuple(CellCheck(r) for r in ordered), run_id=outcome.run_id, store=outcome.store_path,
        computed=outcome.computed, reused=outcome.reused, scheduler=outcome.scheduler, starts=cells[0]["starts"],
        seed=options["seed"], estimate=job, seconds=time.perf_counter() - t0,
        report_id=None if bundle is None else bundle.report_id, report_dir=folder, root=root,
        files={} if bundle is None else dict(bundle.paths), citation=None if bundle is None else bundle.citation_text,
        studies=study_data, study_tables=tuple(t for sec in sections for t in sec.tables))


def estimate(*, M=DEFAULT_M, d=DEFAULT_D, activation: str = "relu", regime: str = "I", starts=DEFAULT_STARTS,
             seed: int = 0, frame=None, tilt_norm: float | None = None, law: str | None = None, polish_dps: int = 30,
             max_iter: int = 300, sdp: bool = True, solver: str = "CLARABEL", study: str | None = None, store=None,
             workers: int | None = None, scheduler: str | None = None, connect_timeout: float | None = None,
             quiet: bool = True, argv: list[str] | None = None, objective: str | None = None,
             bnb_seconds: float | None = None) -> tuple[list[dict], dict, JobEstimate]:
    """(cells, run_sweep options, JobEstimate) of ``sweep`` with these arguments: every value checked,
    nothing run or written.  ``twolayer conjecture --estimate`` prints the estimate."""
    from conjecture.job_cost import sweep_estimate
    from numerics.evidence.sweep import plan_sweep, sweep_options

    cells = _cells(M=M, d=d, activation=activation, regime=regime, starts=starts, polish_dps=polish_dps,
                   max_iter=max_iter, sdp=sdp, solver=solver, tilt_norm=tilt_norm, law=law, frame=frame, study=study,
                   objective=objective, bnb_seconds=bnb_seconds)
    options = sweep_options(store=store, seed=seed, scheduler=scheduler, workers=workers,
                            connect_timeout=connect_timeout, quiet=quiet, argv=argv)
    options, job = plan_sweep(cells, sweep_estimate, options)
    if study is not None and str(study).strip().lower() == "orientation":
        from conjecture.job_cost import orientation_study_part

        job = JobEstimate(job.command, job.parts + (orientation_study_part(_study_dims(cells), act=cells[0]["activation"]),))
    return cells, options, job


def _study_dims(cells: list) -> dict:
    """{M: [d, ...]} of the cells with an ETF (M <= d + 1, d >= 2): the orientation study's grid."""
    out: dict = {}
    for c in cells:
        if c["M"] <= c["d"] + 1 and c["d"] >= 2:
            out.setdefault(c["M"], []).append(c["d"])
    if not out:
        raise InputError("d", "the orientation study needs cells with M <= d + 1 and d >= 2")
    return out


def check(*, M: int, d: int, activation: str = "relu", regime: str = "I", starts=DEFAULT_STARTS, seed: int = 0,
          frame=None, tilt_norm: float | None = None, law: str | None = None, polish_dps: int = 30,
          max_iter: int = 300, sdp: bool = True, solver: str = "CLARABEL", store=None, workers: int | None = 0,
          allow_large: bool = False) -> CellCheck:
    """One (M, d) cell, the same numbers as ``twolayer conjecture --M M --d d`` with the same seed (its cell
    seed derives from the sweep seed and the cell's parameters); stored, no report written."""
    report = sweep(M=parse_int(M, "M", lo=2, hi=MAX_M), d=d, activation=activation, regime=regime, starts=starts,
                   seed=seed, frame=frame, tilt_norm=tilt_norm, law=law, polish_dps=polish_dps, max_iter=max_iter,
                   sdp=sdp, solver=solver, out=None, store=store, workers=workers, allow_large=allow_large)
    if len(report.cells) != 1:
        raise InputError("d", "check takes one (M, d) cell; use sweep for several", got=d)
    return report.cells[0]

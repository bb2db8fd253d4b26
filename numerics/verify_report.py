"""``twolayer verify``: run a profile's cells through the sweep runner, then write Markdown, JSON and PNGs.

    out/verify.md    verdict lines, per-cell tables, precision table, provenance
    out/verify.json  the same as data (checks, rows, series, provenance, profile, cell ids)
    out/*.png        log-log plots: predicted lines, measured points with 95% error bars
    out/store/       the SQLite result store (numerics.evidence.store); re-running reuses finished cells

References: MODEL.md section 4; numerics.rates (cells), numerics.rate_checks (verdicts).

Examples
--------
>>> import tempfile
>>> out = run_verify("smoke", tempfile.mkdtemp(), seed=1, n_workers=0, quiet=True, kinds=("dimension-limit",))
>>> [c.key for c in out.checks]
['dimension', 'precision']
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from numerics import rates
from numerics.plots import loglog_png
from numerics.profiles import Profile, get_profile
from numerics.evidence.provenance import collect_provenance, content_hash, to_jsonable
from numerics.rate_checks import Check, all_checks
from numerics.evidence.reports import write_sweep_reports
from numerics.evidence.sweep import run_sweep
from theory.errors import InputError

CELL_FUNCTIONS = {
    rates.KIND_CONSISTENCY: rates.consistency_cell,
    rates.KIND_MOMENTS: rates.moments_cell,
    rates.KIND_MINIMUM: rates.minimum_cell,
    rates.KIND_DIMENSION: rates.dimension_cell,
    rates.KIND_PRECISION: rates.precision_cell,
}

_PLOTS = {
    "bias": ("bias.png", "N", "E L_N - Ltilde (control variate)", None),
    "variance_etf": ("variance_etf.png", "N", "Var L_N at the ETF", None),
    "variance_unbalanced": ("variance_unbalanced.png", "N", "Var L_N at e_1..e_M", None),
    "minimum_gap_after_bias": ("minimum_gain.png", "N", "Ltilde* + bias - min L_N", -0.5),
    "minimum_gram_distance": ("minimiser_distance.png", "N", "||G(V*) - G_ETF||_F", -0.5),
    "dimension": ("dimension.png", "d", "|Ltilde_d* - Ltilde_inf*|", None),
}


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


@dataclass(frozen=True)
class VerifyOutcome:
    """What ``run_verify`` produced: checks, file paths, timing, and the provenance block."""

    profile: str
    checks: tuple[Check, ...]
    paths: dict
    wall_seconds: float
    provenance: dict
    cell_seconds: dict

    def lines(self) -> list[str]:
        return [c.line() for c in self.checks]


def run_verify(profile: str | Profile, out_dir, *, seed: int = 20220517, n_workers: int | None = None,
               quiet: bool = False, kinds: tuple[str, ...] | None = None, scheduler: str | None = None,
               store=None) -> VerifyOutcome:
    """Run every cell of ``profile`` (reusing finished cells in the store, default out_dir/store) and write the reports.

    ``scheduler`` ('tcp://host:port') sends every cell to that Dask cluster instead of a local one.
    Besides verify.md/json and the plots, the four evidence forms (report.html/md/tex, CITATION.txt)
    go to out_dir/evidence.
    """
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError("out", f"cannot create the output directory ({err.strerror})", got=str(out)) from None
    start = time.perf_counter()
    by_kind: dict[str, list[dict]] = {}
    cell_seconds: dict[str, float] = {}
    cell_ids: dict[str, list[str]] = {}
    sweep_info = []
    todo = [(k, c) for k, c in prof.cells().items() if kinds is None or k in kinds]
    cluster = None if scheduler else _shared_cluster(n_workers, [k for k, _ in todo])
    store_path = out / "store" if store is None else store
    records = []
    try:
        for kind, cells in todo:
            heavy = kind in HEAVY_KINDS and cluster is not None
            if scheduler:
                where = {"scheduler": scheduler, "n_workers": None}
            else:
                where = {"scheduler": cluster.scheduler_address if heavy else None,
                         "n_workers": n_workers if n_workers is not None or heavy else 0}
            outcome = run_sweep(CELL_FUNCTIONS[kind], cells, kind=kind, store=store_path, seed=seed, quiet=quiet,
                                argv=["twolayer", "verify", "--profile", prof.name], **where)
            records.extend(outcome.records)
            by_kind[kind] = [r.result for r in outcome.records]
            cell_seconds[kind] = float(sum(r.seconds for r in outcome.records))
            cell_ids[kind] = [r.cell_id for r in outcome.records]
            sweep_info.append({"kind": kind, "run_id": outcome.run_id, "computed": outcome.computed,
                               "reused": outcome.reused, "scheduler": outcome.scheduler,
                               "wall_seconds": outcome.wall_seconds, "results_hash": outcome.content_hash})
    finally:
        if cluster is not None:
            cluster.close()
    checks = tuple(all_checks(by_kind))
    provenance = collect_provenance(seeds=[seed])
    wall = time.perf_counter() - start
    paths = _write(out, prof, checks, provenance, sweep_info, cell_ids, wall)
    bundle = write_sweep_reports(records, out / "evidence", title=f"twolayer verify --profile {prof.name}",
                                 description="Cells of the finite-N and 1/d rate checks; verdicts are in verify.md.",
                                 store=store_path, provenance=provenance, notes=[c.line() for c in checks])
    paths = {**paths, **{f"evidence_{k}": v for k, v in bundle.paths.items()}}
    return VerifyOutcome(prof.name, checks, paths, wall, provenance, cell_seconds)


def _fmt(x, digits: int = 4) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def _table(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    keys = list(rows[0].keys())
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        cells = []
        for k in keys:
            v = row.get(k)
            if isinstance(v, dict):
                if "ci95" in v and "value" in v:
                    v = f"{v['value']:.4g} [{v['ci95'][0]:.4g}, {v['ci95'][1]:.4g}]"
                elif "ci95" in v and "ratio" in v:
                    v = f"{v['ratio']:.4f} [{v['ci95'][0]:.4f}, {v['ci95'][1]:.4f}]"
            cells.append(_fmt(v))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _write(out: Path, prof: Profile, checks, provenance: dict, sweep_info: list, cell_ids: dict, wall: float) -> dict:
    paths = {}
    for check in checks:
        if check.key in _PLOTS and check.series:
            name, xlabel, ylabel, slope = _PLOTS[check.key]
            (out / name).write_bytes(loglog_png(check.series, title=check.title, xlabel=xlabel, ylabel=ylabel,
                                                reference_slope=slope))
            paths[check.key] = str(out / name)
    md = [f"# twolayer verify: profile `{prof.name}`", "", prof.description, "",
          f"Wall time {wall:.1f} s (expected for this profile: {prof.expected_runtime}).", "", "## Verdicts", ""]
    md += [f"- {c.line()}" for c in checks]
    md += ["", "Ratios are measured/predicted with 95% confidence intervals from the sampling error of the",
           "measurement (predictions from theory.finite_n are exact).  'confirmed' means the pooled ratio's CI",
           "contains 1 and every fitted exponent's CI contains the predicted one.  The minimum-gap checks have",
           "no closed-form prediction: 'consistent' means every fitted exponent's CI contains MODEL.md's -1/2.", ""]
    for c in checks:
        md += [f"## {c.title}", "", c.line(), ""]
        md += _table(c.rows)
        if c.key in paths:
            md += ["", f"![{c.key}]({Path(paths[c.key]).name})"]
        md.append("")
    md += ["## Sweeps", ""] + _table(sweep_info)
    md += ["", "## Provenance", "", "```json", json.dumps(to_jsonable(provenance), indent=1, sort_keys=True), "```", ""]
    data = {"profile": prof.name, "profile_grid": prof.cells(), "expected_runtime": prof.expected_runtime,
            "wall_seconds": wall, "checks": [c.as_dict() for c in checks], "sweeps": sweep_info,
            "cell_ids": cell_ids, "provenance": provenance}
    data["content_hash"] = content_hash({"checks": data["checks"], "cell_ids": cell_ids})
    (out / "verify.md").write_text("\n".join(md), encoding="utf-8")
    (out / "verify.json").write_text(json.dumps(to_jsonable(data), indent=1, sort_keys=True), encoding="utf-8")
    paths["markdown"] = str(out / "verify.md")
    paths["json"] = str(out / "verify.json")
    return paths

"""What a condensation report shows: per (activation, d, init scale, optimizer), the counts of condensed lines
and orientations over seeds against the claimed 2p, the verdict of the group, and the angles to the
predicted lines.  Registered for kind ``condensation`` (``numerics.condensation_check``).

Group verdict: SUPPORTED when every seed has orientations <= 2p (and lines <= p), else NOT SUPPORTED; one
finding per group, so that ``twolayer reproduce`` checks them.
"""

from __future__ import annotations

from statistics import median
from typing import Sequence

from numerics.condensation_check import KIND
from numerics.claims import ZHOU_2021
from numerics.evidence.reports.kinds import register_report_kind
from numerics.evidence.reports.model import Finding, KindContent, Section, Table, VerdictTally
from numerics.evidence.store import CellRecord

NORMALISATION = "orientations of the bias-augmented input weights (w_j, b_j), normalised; counts threshold-free"


def _key(r: CellRecord) -> tuple:
    p = r.params
    return (p["activation"], p["d"], p["init_scale"], p.get("optimizer", "adam"), p.get("steps"),
            p.get("checkpoint", "modal"))


def _med(xs) -> str:
    xs = [x for x in xs if x is not None]
    return f"{median(xs):.3g}" if xs else "-"


def condensation_content(records: Sequence[CellRecord]) -> KindContent:
    """The report content of ``condensation`` records."""
    groups: dict[tuple, list[CellRecord]] = {}
    for r in records:
        groups.setdefault(_key(r), []).append(r)
    rows, findings, counts = [], [], {}
    for key in sorted(groups):
        recs = sorted(groups[key], key=lambda r: r.params.get("replicate", 0))
        vals = [r.result["values"] for r in recs]
        for r in recs:
            counts[r.result["verdict"]] = counts.get(r.result["verdict"], 0) + 1
        p = vals[0]["p"]
        ok = all(r.result["verdict"] == "within-bound" for r in recs)
        verdict = "SUPPORTED" if ok else "NOT SUPPORTED"
        act, d, scale, opt, steps, ck = key
        orient = ",".join(str(v["orientations"]) for v in vals)
        lines = ",".join(str(v["lines"]) for v in vals)
        rows.append((act, str(d), f"{scale:g}", opt, str(p), str(2 * p), orient, lines,
                     _med([v["line_stability"] for v in vals]), _med([v["checkpoint_stability"] for v in vals]),
                     _med([v.get("angle_largest_line_deg") for v in vals]),
                     _med([v.get("angle_largest_line_to_signD_deg") for v in vals]),
                     _med([v["weight_growth"] for v in vals]), verdict, ck,
                     ",".join(str(v.get("orientations_large", "-")) for v in vals),
                     _med([v.get("angle_largest_line_large_deg") for v in vals]),
                     ",".join(str(v.get("checkpoint_step", "-")) for v in vals)))
        name = f"condensation {act} d={d} init={scale:g} {opt}" + ("" if ck == "modal" else f" {ck}")
        detail = f"orientations over {len(vals)} seeds: {orient} (bound 2p = {2 * p}); lines: {lines}"
        if all("orientations_large" in v for v in vals):
            detail += "; among neurons with norm >= max/10: " + ",".join(str(v["orientations_large"]) for v in vals)
        findings.append(Finding(name, verdict, detail))
    table = Table("Condensed orientations against the claimed bound 2p",
                  ("activation", "d", "init scale", "optimizer", "p", "2p", "orientations per seed", "lines per seed",
                   "threshold stability (median)", "checkpoint stability (median)", "angle to predicted line, deg (median)",
                   "angle to sign(D) line, deg (median)", "||theta_T|| / ||theta_0|| (median)", "verdict",
                   "checkpoint", "orientations among neurons with norm >= max/10, per seed",
                   "angle of their largest line to the predicted one, deg (median)", "checkpoint step per seed"),
                  tuple(rows),
                  "Counts: average-linkage clustering of the normalised (w_j, b_j) by 1-|cos| (lines) and 1-cos "
                  "(orientations), the modal count over cut heights 1e-4..0.25, then the modal count over 10 "
                  "checkpoints; stabilities are the shares of cut heights / checkpoints that give it. Predicted line: "
                  "p = 1, +-D = sum_k r_k (x_k, 1); d = 1, the real roots of the degree-p polynomial (nearest root). "
                  "sign(D): where Adam's first steps point for p = 1. Checkpoint 'preactivation': the first step where the "
                  "largest |w_j . x_k + b_j| reaches 1 (or the last step). A verdict NOT SUPPORTED is a finding of this "
                  "protocol, not a failure of the run.")
    compact = Table("Condensation: orientations vs 2p", ("activation", "d", "init", "opt", "2p", "orientations", "verdict"),
                    tuple((r[0], r[1], r[2], r[3], r[5], r[6], r[13]) for r in rows))
    return KindContent(KIND, (Section("Condensation at small initialisation", tables=(table,)),),
                       (VerdictTally(KIND, "orientations <= 2p", counts),), compact, NORMALISATION, tuple(findings),
                       source=ZHOU_2021)


register_report_kind(KIND, condensation_content)

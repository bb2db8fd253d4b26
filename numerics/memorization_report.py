"""What a memorisation report shows: exact label checks, neuron counts against the claimed bounds, and the
weight-size table (with the minimum path norm over a stated dictionary where computed).

Registered for kind ``memorization-exact`` (``numerics.memorization_check``).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from numerics.claims import BUBECK_2020
from numerics.evidence.reports.kinds import register_report_kind
from numerics.evidence.reports.model import KindContent, Section, Table, VerdictTally
from numerics.evidence.store import CellRecord
from numerics.memorization_check import KIND

NORMALISATION = ("weights stated for the data scaled into [-1, 1]^d (x' = x / R); path norm sum_j |a_j| ||w_j||; "
                 "threshold units normalised to ||w_j|| = 1")


def _g(x, digits: int = 4) -> str:
    return "-" if x is None else (f"{x:.{digits}g}" if isinstance(x, float) else str(x))


def _slope(ns: list, ys: list) -> float | None:
    pts = [(math.log10(n), math.log10(y)) for n, y in zip(ns, ys) if y and y > 0]
    if len({p[0] for p in pts}) < 2:
        return None
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


def memorization_content(records: Sequence[CellRecord]) -> KindContent:
    """The report content of ``memorization-exact`` records."""
    recs = sorted(records, key=lambda r: (r.params["construction"], r.params["d"], r.params["n"]))
    counts: dict[str, int] = {}
    rows, sizes = [], []
    for r in recs:
        p, v = r.params, r.result.get("values", {})
        counts[r.result["verdict"]] = counts.get(r.result["verdict"], 0) + 1
        bound_name = "ceil(n/d)" if p["construction"] == "threshold" else "4 ceil(n/d)"
        rows.append((p["construction"], str(p["n"]), str(p["d"]), f"{v.get('labels_reproduced', 0)} of {p['n']}",
                     str(v.get("neurons", "-")), f"{v.get('bound', '-')} = {bound_name}",
                     {True: "all (d+1)-subsets", False: "VIOLATED", None: "group hyperplanes"}[r.result.get("general_position_full")],
                     r.result["verdict"], r.cell_id))
        if p["construction"] == "threshold":
            sizes.append((p["construction"], str(p["n"]), str(p["d"]), _g(v.get("min_separation")), _g(v.get("path_norm")),
                          "-", "-", _g(v.get("margin")), "-", "-"))
        else:
            sizes.append((p["construction"], str(p["n"]), str(p["d"]), _g(v.get("min_separation")), _g(v.get("path_norm")),
                          _g(v.get("path_norm_with_bias")), _g(v.get("max_weight_balanced")), "-",
                          _g(v.get("min_norm_path_norm")), _g(v.get("min_norm_ratio"))))
    checks = Table("Exact label checks and neuron counts",
                   ("construction", "n", "d", "labels reproduced exactly", "neurons", "claimed bound", "position verified",
                    "verdict", "cell"), tuple(rows),
                   "Every output computed in exact rational arithmetic (numerics.exact_forward). 'holds': every label "
                   "reproduced and neurons <= the bound; 'exceeds-bound': labels exact but the construction uses more "
                   "neurons (the threshold slabs use 2 ceil(n_minority/d)). Position: every group hyperplane checked "
                   "exactly against every point; all (d+1)-subsets only where there are at most 5000.")
    size_table = Table("Weight size of the constructions",
                       ("construction", "n", "d", "min separation", "path norm", "path norm (with bias)",
                        "largest weight (balanced)", "margin", "min path norm over dictionary", "ratio min / construction"),
                       tuple(sizes),
                       NORMALISATION + ". Margin: distance from the nearest data point to a threshold unit's hyperplane. "
                       "Min path norm: cvxpy LP over the construction's neurons (normalised) plus 8n random unit neurons "
                       "(ReLU, n <= 200), with the bias in the norm; solver tolerance about 1e-5 relative.")
    growth = []
    for c in sorted({r.params["construction"] for r in recs}):
        for d in sorted({r.params["d"] for r in recs if r.params["construction"] == c}):
            sub = [r for r in recs if r.params["construction"] == c and r.params["d"] == d]
            key = "path_norm" if c == "relu" else "inverse_margin"
            s = _slope([r.params["n"] for r in sub], [r.result.get("values", {}).get(key) for r in sub])
            if s is not None:
                growth.append((c, str(d), key, ", ".join(str(r.params["n"]) for r in sub), f"{s:.3g}"))
    secs = [Section("Memorisation constructions: exact checks", tables=(checks, size_table))]
    if growth:
        secs.append(Section("Growth of the weight size with n", tables=(Table(
            "Least-squares slope of log10(size) on log10(n), per construction and d",
            ("construction", "d", "size", "n values", "slope"), tuple(growth),
            "Descriptive only (no confidence interval): the size grows like n^slope on this grid."),)))
    compact = Table("Memorisation: exact checks", ("construction", "n", "d", "labels", "neurons", "bound", "verdict"),
                    tuple((r[0], r[1], r[2], r[3], r[4], r[5], r[7]) for r in rows))
    return KindContent(KIND, tuple(secs), (VerdictTally(KIND, "labels exact and neurons <= bound", counts),), compact,
                       NORMALISATION, source=BUBECK_2020)


register_report_kind(KIND, memorization_content)

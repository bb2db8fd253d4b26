"""What an NTK memorisation report shows: the measured m*(eps) per (features, n, d) over seeds, the scaling
fits with bootstrap intervals and the verdict of the rule in ``numerics.ntk_fit`` (one finding per feature
set; ``rf`` is the control that the rule must reject).  Registered for kind ``ntk-memorization``.
"""

from __future__ import annotations

from statistics import median
from typing import Sequence

from numerics.claims import BUBECK_2020
from numerics.evidence.reports.kinds import register_report_kind
from numerics.evidence.reports.model import Finding, KindContent, Section, Table, VerdictTally
from numerics.evidence.store import CellRecord
from numerics.ntk_fit import BOOTSTRAP, MARGIN, fit_scaling, rows_from_values
from numerics.ntk_scaling import KIND

NORMALISATION = ("x uniform on S^(d-1), labels +-1; m* = least number of neurons with relative least-squares training "
                 "error <= eps; ntk: d gradient features x 1[w.x > 0] per neuron, rf: relu(w.x)")


def _med(xs) -> str:
    xs = [x for x in xs if x is not None]
    return f"{median(xs):.4g}" if xs else "-"


def _text(e) -> str:
    return "-" if e is None else e.text()


def ntk_content(records: Sequence[CellRecord]) -> KindContent:
    """The report content of ``ntk-memorization`` records."""
    counts: dict[str, int] = {}
    by_feat: dict[str, list[CellRecord]] = {}
    for r in records:
        counts[r.result["verdict"]] = counts.get(r.result["verdict"], 0) + 1
        by_feat.setdefault(r.params.get("features", "ntk"), []).append(r)
    rows, fits, findings, compact = [], [], [], []
    for feat in sorted(by_feat):
        recs = sorted(by_feat[feat], key=lambda r: (r.params["d"], r.params["n"], r.params.get("replicate", 0)))
        groups: dict[tuple, list[dict]] = {}
        for r in recs:
            groups.setdefault((r.params["d"], r.params["n"]), []).append(r.result["values"])
        for (d, n), vals in sorted(groups.items()):
            eps = vals[0]["eps"]
            for i, e in enumerate(eps):
                ms = [v["m_star"][i] for v in vals]
                rows.append((feat, str(n), str(d), f"{n / d:.4g}", f"{e:g}", ",".join("-" if m is None else str(m) for m in ms),
                             str(vals[0]["ceil_n_over_k"]),
                             _med([None if m is None else m * vals[0]["k_per_neuron"] / n for m in ms]),
                             _med([v["coef_norm_at_m"][i] for v in vals])))
        fit_rows, unreached = rows_from_values([r.result["values"] for r in recs],
                                               [r.params.get("replicate", 0) for r in recs])
        fit = fit_scaling(fit_rows, unreached)
        label = "claim" if feat == "ntk" else "control"
        fits.append((feat, label, str(fit.rows), _text(fit.a_n), _text(fit.a_d), _text(fit.beta), _text(fit.alpha),
                     _text(fit.beta_one), _text(fit.linear_c1), _text(fit.linear_c0), fit.verdict))
        detail = (f"log m* = c + a_n log n + a_d log d + beta log log(1/eps): a_n {_text(fit.a_n)}, a_d {_text(fit.a_d)}, "
                  f"beta {_text(fit.beta)}; one exponent alpha of n/d {_text(fit.alpha)}; {fit.reason}")
        findings.append(Finding(f"ntk-memorization {feat} ({label})", fit.verdict, detail))
        compact.append((feat, _text(fit.a_n), _text(fit.a_d), _text(fit.beta), fit.verdict))
    table = Table("Least number of neurons m* reaching relative training error eps",
                  ("features", "n", "d", "n/d", "eps", "m* per seed", "ceil(n/k) (k features per neuron)",
                   "m* k / n (median)", "||c|| at m* (median)"), tuple(rows),
                  "m* decided by numpy lstsq at m* and m* - 1 (nested spans: the least such m). k = d (ntk) or 1 (rf): "
                  "m k parameters; m k = n is exact interpolation. ||c||: the least-squares coefficients' norm, "
                  "a weight-size indication (not part of the rule).")
    fit_table = Table("Scaling fits (95% percentile bootstrap over seeds, B = " + str(BOOTSTRAP) + ")",
                      ("features", "role", "rows", "a_n", "a_d", "beta", "alpha (n/d)", "beta (with alpha)",
                       "c1 in m = c1 (n/d) log(1/eps) + c0", "c0", "verdict"), tuple(fits),
                      f"Rule (numerics.ntk_fit, fixed before the run): SUPPORTED iff the intervals of a_n and -a_d meet "
                      f"[{1 - MARGIN:g}, {1 + MARGIN:g}] and that of beta starts at or below 1; INCONCLUSIVE when an "
                      f"interval is wider than 0.5 or the grid cannot separate the exponents. The rf control (one "
                      f"feature per neuron, m ~ n) is expected to fail the d exponent.")
    return KindContent(KIND, (Section("NTK memorisation: neurons needed for training error eps",
                                      tables=(table, fit_table)),),
                       (VerdictTally(KIND, "every eps reached", counts),),
                       Table("NTK memorisation: scaling fit", ("features", "a_n", "a_d", "beta", "verdict"),
                             tuple(compact)),
                       NORMALISATION, tuple(findings), source=BUBECK_2020)


register_report_kind(KIND, ntk_content)

"""What an ETF-sweep report shows: q(M) = 1^T K^-1 1 and Ltilde* at the simplex ETF, closed form against
an eigen-solve, per (activation, M, d), each value with the digits to which the two routes agree.

Registered for kind ``etf-value`` (``numerics.etf_cell``) with ``numerics.evidence.reports.kinds``.
"""

from __future__ import annotations

from typing import Sequence

from numerics.etf_cell import KIND
from numerics.evidence.reports.figures import verdict_map_png
from numerics.evidence.reports.kinds import register_report_kind
from numerics.evidence.reports.model import Figure, KindContent, Section, Table, VerdictTally
from numerics.evidence.store import CellRecord

NORMALISATION = "abar = 1 (regime I): Ltilde* = c_d - c_d^2 q(M), beta*_j = c_d q(M) / M"
SHOWN_DIGITS = 20


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_DIGITS + 2 else text[:SHOWN_DIGITS + 2]


def etf_content(records: Sequence[CellRecord]) -> KindContent:
    """The report content of ``etf-value`` records."""
    recs = sorted(records, key=lambda r: (r.params["activation"], r.params["M"], r.params["d"]))
    rows = []
    counts: dict[str, int] = {}
    for r in recs:
        res, p = r.result, r.params
        v = res["values"]
        counts[res["verdict"]] = counts.get(res["verdict"], 0) + 1
        rows.append((p["activation"], str(p["M"]), str(p["d"]), _cut(v["one_K_inv_one"]), _cut(v["one_K_inv_one_eig"]),
                     f"{res['digits_agreed']:g} of {res['precision_digits']['one_K_inv_one']}", _cut(v["ltilde_star"]),
                     f"{res['rotation_check_digits']:g}", res["verdict"], r.cell_id))
    dps = sorted({str(r.params["dps"]) for r in recs})
    table = Table("q(M) = 1^T K^-1 1 at the simplex ETF, two routes",
                  ("activation", "M", "d", "q(M), closed form", "q(M), eigen-solve", "digits agreeing", "Ltilde* (abar = 1)",
                   "float64 rotated-ETF digits", "verdict", "cell"), tuple(rows),
                  f"Values to {SHOWN_DIGITS} significant digits (computed at dps {', '.join(dps)}; report.json holds them "
                  "in full). 'agree': the two routes agree to the recorded precision; the float64 column is the "
                  "agreement of Ltilde at a random rotation of the ETF (rotation invariance).")
    compact = Table("Simplex ETF: q(M) by closed form and eigen-solve (abar = 1)",
                    ("activation", "M", "d", "q(M)", "digits agreeing", "verdict"),
                    tuple((r[0], r[1], r[2], r[3], r[5], r[8]) for r in rows))
    figures = ()
    acts = sorted({r.params["activation"] for r in recs})
    if len({(r.params["M"], r.params["d"]) for r in recs}) > 1:
        points = [{"M": r.params["M"], "d": r.params["d"], f"verdict {r.params['activation']}": r.result["verdict"]}
                  for r in recs]
        panels = [(f"{a}: closed form vs eigen-solve", f"verdict {a}") for a in acts]
        figures = (Figure("verdicts.png", "Closed form against eigen-solve, per (M, d), one panel per activation",
                          verdict_map_png(points, "M", "d", panels, xlabel="M (compressed width)",
                                          ylabel="d (input dimension)")),)
    section = Section("Simplex ETF values", tables=(table,), figures=figures)
    return KindContent(KIND, (section,), (VerdictTally(KIND, "closed form vs eigen-solve", counts),), compact,
                       NORMALISATION)


register_report_kind(KIND, etf_content)

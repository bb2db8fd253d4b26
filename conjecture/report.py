"""What a conjecture report shows: both verdicts of every (M, d) cell with their evidence, and the studies.

Registered for kind ``conjecture-cell`` with ``numerics.evidence.reports.kinds``; the polygon (d = 2) and
tilt (regime II) studies become report sections through ``polygon_section`` and ``tilt_section``.

Every number is shown with its bound: F_ETF from the closed form (digits agreeing with the exact ETF in
mpmath), the best value found with its float64 rounding bound (a loss is >= 0: a value within its bound
of 0 is printed as 0), gaps relative to C_target against the search tolerance, certificates against
the proof tolerance.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from conjecture.verdict import PROOF_RTOL, SEARCH_RTOL
from numerics.evidence.reports.figures import value_plot_png, verdict_map_png
from numerics.evidence.reports.kinds import register_report_kind
from numerics.evidence.reports.model import Figure, KindContent, Section, Table, VerdictTally
from numerics.evidence.store import CellRecord
from theory.loss_text import loss_text

KIND = "conjecture-cell"
NORMALISATION = ("abar = E[a||w||] = 1: every F is Ltilde / abar^2 (regime I: C_target = c_d; regime III: C_target = "
                 "E[||w||^n ||w'||^n kappa(<w^, w'^>)] under the entry law, docs/regime3.md); gaps are relative to "
                 "C_target; regime II tilts are ||m|| / abar")
# Below this size relative to C_target a float64 value of a loss (>= 0) or of a difference of two such values is
# rounding noise (the objective's float64 rounding bound is ~1e-13 C_target); it prints as 0.
ROUNDING_REL = 1e-12
VERDICT_COLUMNS = (("β ≥ 0", "verdict_nonneg"), ("signed β", "verdict_signed"))


def _where(c: dict) -> str:
    p = c["params"]
    return f"M={p['M']} d={p['d']}"


def etf_text(c: dict, digits: int = 16) -> str:
    """F_ETF as shown: the closed form to ``digits`` digits, or the best sampled orientation (regime III)."""
    etf = c.get("etf") or {}
    if "closed_form" in etf:
        agree = etf.get("digits_agree")
        tail = "" if agree is None else f" ({agree:.0f} digits vs exact ETF)"
        return _digits(etf["closed_form"], digits) + tail
    if "sampled_orientations_min" in etf:
        return f"{etf['sampled_orientations_min']:.12g} (best sampled orientation, not certified)"
    if "orientation_min" in etf:  # regime III, exact objective: the certificates are in c["regime3"]
        value = float(etf["orientation_min"])
        bound = (c.get("search_signed") or {}).get("best_value_rounding")
        if value < 0 and bound is not None and abs(value) <= float(bound):
            shown = loss_text(value, float(bound), digits=12)   # a loss >= 0: rounding noise prints as 0
        else:
            shown = f"{value:.12g}"
        fb = ((c.get("regime3") or {}).get("refutation") or {}).get("family_lower_bound") or {}
        zero = (((c.get("regime3") or {}).get("proven") or {}).get("zero_loss") or {})
        if fb.get("certified"):
            low = f"; every orientation certified > {float(Fraction(fb['threshold'])):.12g}"
        elif zero:
            low = f"; certified: |F| <= {zero['bound_rel']:.1e} C at the maximisers' orientation"
        else:
            low = "; an upper estimate of the minimum over orientations"
        return f"{shown} (best ETF orientation found, {etf.get('objective', 'exact')} objective{low})"
    return "- (no ETF)"


def _digits(decimal: str, digits: int) -> str:
    """A decimal string cut to ``digits`` significant digits (not rounded past what it states)."""
    s = str(decimal)
    mant = s.split("e")[0]
    count, out = 0, []
    for ch in mant:
        out.append(ch)
        if ch.isdigit() and (count or ch != "0"):
            count += 1
            if count >= digits:
                break
    return "".join(out) + ("e" + s.split("e")[1] if "e" in s else "")


def best_text(c: dict) -> str:
    """The best signed-beta value found, never negative, with its float64 rounding bound."""
    s = c["search_signed"]
    bound = s.get("best_value_rounding")
    if bound is None:
        return f"{s['best_value']:.15g} (float64)"
    return loss_text(float(s["best_value"]), float(bound), digits=15)


def gap_text(c: dict) -> str:
    gap = c["search_signed"].get("gap_rel")
    if gap is None:
        return "-"
    side = "within" if gap >= -SEARCH_RTOL else "BELOW by more than"
    return f"{gap:+.1e} ({side} {SEARCH_RTOL:g})"


def certificate_text(c: dict) -> str:
    """The certificate behind the verdicts, with its tolerance."""
    parts = []
    if "zero_loss_certificate" in c:
        parts.append("F_ETF = 0 exactly and Ltilde >= 0")
    gap = c.get("certified_gap_rel")
    if c.get("verdict_nonneg") == "PROVEN" and gap is not None and "zero_loss_certificate" not in c and "regime3" not in c:
        valid = [k for k, b in (c.get("bounds_nonneg") or {}).items() if b.get("valid")]
        parts.append(f"{', '.join(valid) or 'bound'}: gap {max(gap, 0.0):.1e} <= {PROOF_RTOL:g} (interval)")
    ell = c.get("elliptope_certificate") or {}
    if c.get("verdict_signed") == "PROVEN" and ell.get("checked"):
        parts.append(f"signed: elliptope certificate {ell['file'].rsplit('/', 1)[-1]} ({ell['boxes']} boxes)")
    r3 = c.get("regime3") or {}
    proven = r3.get("proven") or {}
    if (proven.get("b_maximum") or {}).get("certified"):
        bm = proven["b_maximum"]
        parts.append(f"max b at the {bm['maximiser']} (branch-and-bound, {bm['search']['boxes'] if bm['search'] else 0} "
                     "boxes)")
    if (proven.get("etf_at_maximisers") or {}).get("nonneg_bound"):
        parts.append(f"ETF at maximisers: beta >= 0 gap {proven['etf_at_maximisers']['nonneg_bound']['gap_rel_upper']:.1e}")
    if proven.get("zero_loss"):
        parts.append(f"F_ETF = 0 certified (|F| <= {proven['zero_loss']['bound_rel']:.1e} C) and Ltilde >= 0")
    ref3 = r3.get("refutation") or {}
    if "family_lower_bound" in ref3:
        fb = ref3["family_lower_bound"]
        state = "certified" if fb["certified"] else "NOT certified"
        origin = (", the shipped certificate conjecture/data/orientation_44, when it was produced"
                  if fb.get("reduction") == "stored certificate" else "")
        gaps = [v.get("gap_rel_certified") for v in (ref3.get("candidates") or {}).values()]
        gaps = [g for g in gaps if g is not None]
        below = f"; the counterexample certified below it by {max(gaps):.2e} C_target" if gaps else ""
        parts.append(f"min over ETF orientations > {float(Fraction(fb['threshold'])):.10g} {state} ({fb['search']['boxes']} boxes, "
                     f"{fb['search']['seconds']:.0f} s{origin}){below}")
    for key, label in (("refutation_nonneg", "beta >= 0"), ("refutation_signed", "signed")):
        ref = c.get(key)
        if ref is not None:
            parts.append(f"{label} counterexample " + ("certified (interval)" if ref.get("certified") else "NOT certified"))
    if not parts and c.get("verdict_nonneg") == "NOT_APPLICABLE" and c.get("verdict_signed") == "NOT_APPLICABLE":
        return "- (no ETF)"
    return "; ".join(parts) or "none"


def _tallies(cells: Sequence[dict]) -> tuple[VerdictTally, ...]:
    out = []
    for label, key in VERDICT_COLUMNS:
        counts: dict[str, int] = {}
        certified = []
        for c in sorted(cells, key=lambda c: (c["params"]["M"], c["params"]["d"])):
            v = c[key]
            counts[v] = counts.get(v, 0) + 1
            if v in ("PROVEN", "REFUTED"):
                certified.append(f"{_where(c)} {v}")
        out.append(VerdictTally(KIND, label, counts, tuple(certified)))
    return tuple(out)


def _main_table(cells: Sequence[dict], records: dict) -> Table:
    rows = []
    for c in cells:
        p, s = c["params"], c["search_signed"]
        rows.append((str(p["M"]), str(p["d"]), c["verdict_nonneg"], c["verdict_signed"], etf_text(c), best_text(c),
                     gap_text(c), certificate_text(c), f"{s['total_starts']} ({s['hits_of_best']} at best)",
                     records[id(c)]))
    return Table("Verdicts and evidence per cell",
                 ("M", "d", "β ≥ 0", "signed β", "F_ETF (abar = 1)", "best found, signed β", "gap / C_target",
                  "certificate", "starts", "cell"), tuple(rows),
                 f"PROVEN: an interval-certified lower bound within {PROOF_RTOL:g} (relative to C_target) of F_ETF, "
                 "or for signed beta an elliptope certificate (q(G) <= q_ETF on all of E_M: the bound is F_ETF "
                 "itself, no tolerance). "
                 f"SUPPORTED: the stated search found nothing below F_ETF - {SEARCH_RTOL:g} C_target. REFUTED: a rational "
                 "frame certified below F_ETF. INCONCLUSIVE: neither certified (e.g. the search found a frame below "
                 "F_ETF but the refutation, for regime III the lower bound over every ETF orientation, was not "
                 "certified within its budget; each cell's reason is in report.json: reason_signed, reason_nonneg). "
                 "NOT_APPLICABLE: M > d + 1 (no simplex ETF). "
                 "The full-precision values are in report.json.")


def _compact(cells: Sequence[dict]) -> Table:
    rows = tuple((str(c["params"]["M"]), str(c["params"]["d"]), c["verdict_nonneg"].replace("_", " "),
                  c["verdict_signed"].replace("_", " "), etf_text(c, 13).split(" (")[0],
                  gap_text(c).split(" (")[0], certificate_text(c)) for c in cells)
    certs = sorted({(e["file"].rsplit("/", 1)[-1], e["sha256"]) for c in cells
                    for e in [c.get("elliptope_certificate")] if e})
    shas = "".join(f"; {name} sha256 {sha}" for name, sha in certs)
    return Table("ETF conjecture: verdicts per cell (abar = 1)",
                 ("M", "d", "β ≥ 0", "signed β", "F_ETF", "gap found", "certificate (tolerance)"), rows,
                 f"gap found = (best - F_ETF)/C_target, SUPPORTED within {SEARCH_RTOL:g}; "
                 f"proof tolerance {PROOF_RTOL:g} relative (an elliptope certificate has none{shas}).")


def _figures(cells: Sequence[dict]) -> tuple[Figure, ...]:
    points = [{"M": c["params"]["M"], "d": c["params"]["d"], "verdict_nonneg": c["verdict_nonneg"],
               "verdict_signed": c["verdict_signed"]} for c in cells]
    figs = [Figure("verdicts.png", "Verdicts per (M, d): β ≥ 0 (left) and signed β (right)",
                   verdict_map_png(points, "M", "d", VERDICT_COLUMNS, xlabel="M (compressed width)",
                                   ylabel="d (input dimension)"))]
    by_m: dict[int, list] = {}
    for c in cells:
        C = c.get("C_target") or 0.0
        if C > 0:
            val = max(float(c["search_signed"]["best_value"]), 0.0) / C
            by_m.setdefault(c["params"]["M"], []).append((c["params"]["d"], val, None))
    series = {f"M = {m}": pts for m, pts in by_m.items()}
    if len({c["params"]["d"] for c in cells}) > 1 and series:
        if all(len(pts) == 1 for pts in by_m.values()):  # one d per M (e.g. --d M-1): one line against M
            line = [(m, pts[0][1], None) for m, pts in by_m.items()]
            figs.append(Figure("values.png", "Relative loss of the best frame found (signed beta), against M "
                               "(each M at its one d, as in the table)",
                               value_plot_png({"best found": line}, xlabel="M (compressed width)",
                                              ylabel="best Ltilde / C_target", title="best found, relative to C_target")))
        else:
            figs.append(Figure("values.png", "Relative loss of the best frame found (signed beta), against d, one line per M",
                               value_plot_png(series, xlabel="d (input dimension)",
                                              ylabel="best Ltilde / C_target", title="best found, relative to C_target")))
    return tuple(figs)


def _g(value: float, spec: str) -> str:
    """``format(value, spec)`` without a negative zero ('-0' prints as '0')."""
    text = format(float(value), spec)
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def _rel_text(value: float, spec: str, *, signed: bool = False, short: bool = False) -> str:
    """A value relative to C_target; within ROUNDING_REL of 0 it is rounding noise and prints as 0."""
    if abs(float(value)) < ROUNDING_REL:
        return f"0 (< {ROUNDING_REL:g})" if short else f"0 (|x| < {ROUNDING_REL:g})"
    return format(float(value), ("+" if signed else "") + spec)


def _no_etf_table(cells: Sequence[dict]) -> Table | None:
    rows = []
    for c in cells:
        if c["etf_exists"] or "best_configuration" not in c:
            continue
        b = c["best_configuration"]
        inner = b.get("distinct_inner_products", [])
        shown = ", ".join(_g(v, "g") for v in inner[:6]) + (" ..." if len(inner) > 6 else "")
        rows.append((str(c["params"]["M"]), str(c["params"]["d"]), best_text(c),
                     ", ".join(_g(v, ".4g") for v in b["gram_eigenvalues"]), shown,
                     ", ".join(_g(v, ".4g") for v in b["beta"])))
    if not rows:
        return None
    return Table("Best configurations found where no ETF exists (M > d + 1)",
                 ("M", "d", "best F (abar = 1)", "Gram eigenvalues", "inner products", "beta"), tuple(rows),
                 "Described, not certified: the best frame of the multi-start search.")


def _sdp_table(cells: Sequence[dict]) -> Table | None:
    rows = []
    for c in cells:
        for s in c.get("sdp_signed", ()):
            A = s.get("A_k")
            shown = f"{A:.6g}" if isinstance(A, (int, float)) and A == A and abs(A) != float("inf") else "-"
            rows.append((str(c["params"]["M"]), str(c["params"]["d"]), str(s["negatives"]), shown, "ok" if s["kkt_ok"] else "FAILED", str(s["note"])))
    if not rows:
        return None
    return Table("Signed beta: sign-pattern SDP lower bounds A_k on u^T K u / (sum u)^2 (k negative signs)",
                 ("M", "d", "k", "A_k", "KKT", "solver note"), tuple(rows),
                 "'-': the solver gave no finite bound (see the solver note). Reported, not used for any verdict: A_k proves pattern k only if A_k >= (kappa(1) + (M-1) kappa(rho0))/M; "
                 "k >= 1 gives A_k ~ 0 (the relaxation carries no information).")


def _elliptope_table(cells: Sequence[dict]) -> Table | None:
    seen = {}
    for c in cells:
        e = c.get("elliptope_certificate")
        if e:
            seen.setdefault((e["file"], e["sha256"]), (e, []))[1].append(f"M={c['params']['M']} d={c['params']['d']}")
    if not seen:
        return None
    rows = []
    for (file, sha), (e, ds) in sorted(seen.items()):
        claims = ", ".join(f"{k} {v}" for k, v in sorted(e["by_claim"].items()))
        check = (f"checked: {e['boxes']} boxes in {e['check_seconds']:.2f} s" if e["checked"]
                 else f"REJECTED: {e.get('failure')}")
        rows.append((file, sha, check, claims, ", ".join(ds)))
    return Table("Signed beta: elliptope certificates (q(G) <= q_ETF on all of E_M, equality only at the ETF)",
                 ("file", "sha256", "independent check", "boxes by claim", "cells"), tuple(rows),
                 "One certificate covers every d >= M - 1: G_ETF has rank M - 1, so the rank constraint is dropped. "
                 "Re-check with: twolayer certificate check FILE (docs/signed_beta.md).")


def conjecture_content(records: Sequence[CellRecord]) -> KindContent:
    """The report content of ``conjecture-cell`` records."""
    recs = sorted(records, key=lambda r: (r.result["params"]["M"], r.result["params"]["d"]))
    cells = [r.result for r in recs]
    ids = {id(r.result): r.cell_id for r in recs}
    tables = [_main_table(cells, ids)]
    tables += [t for t in (_no_etf_table(cells), _elliptope_table(cells), _sdp_table(cells)) if t is not None]
    regimes = sorted({c["params"]["regime"] for c in cells})
    acts = sorted({c["params"]["activation"] for c in cells})
    para = (f"Regime {', '.join(regimes)}, activation {', '.join(acts)}. Two verdicts per cell: output weights "
            "beta >= 0 and signed beta (the paper's conjecture).")
    section = Section("ETF conjecture: cells", (para,), tuple(tables), _figures(cells))
    return KindContent(KIND, (section,), _tallies(cells), _compact(cells), NORMALISATION)


def polygon_section(study: dict) -> Section:
    """The d = 2 study: where the regular M-gon is optimal."""
    tol = study.get("tolerance_rel", SEARCH_RTOL)
    rows = tuple((str(r["M"]), "optimal" if r["polygon_optimal"] else "NOT optimal",
                  _digits(str(r["polygon_value"]), 16), _digits(str(r["best_value"]), 16), f"{r['polygon_minus_best_rel']:+.2e}", r["random_starts_reaching_best"],
                  ", ".join(f"{g:.1f}" for g in r["best_gaps_deg"])) for r in study["rows"])
    table = Table("Regular M-gon against the best frame found (d = 2, abar = 1)",
                  ("M", "regular M-gon", "F(M-gon), polished", "F(best), polished", "(M-gon - best)/C_target",
                   "random starts at best", "best: angular gaps (deg)"), rows,
                  f"'optimal' means M-gon - best <= {tol:g} C_target after the search; values polished in mpmath at "
                  f"{study.get('dps')} digits.")
    return Section(f"Study: polygons in d = 2 ({study['activation']})", tables=(table,))


def tilt_section(studies: Sequence[dict]) -> Section:
    """The regime II study: where the optimum changes type (an antipodal pair along m appears)."""
    rows = tuple((str(s["M"]), str(s["d"]), f"{s['threshold']:.9f}",
                  f"{s['threshold_bracket'][1] - s['threshold_bracket'][0]:.1e}", f"{s['tilt_angle_at_threshold_deg']:.4f}",
                  str(s["F_B"])[:18], "agree" if s["checks_agree"] else "disagree") for s in studies)
    table = Table("Type change of the regime II optimum (abar = 1)",
                  ("M", "d", "||m||/abar at the change", "bracket width", "tilt angle (deg)", "F_B (antipodal type)",
                   "free search at 0.9x and 1.1x"), rows,
                  "Bisection of F_A(r) = F_B; 'agree' means a free search on each side finds the predicted type and "
                  "value within 1e-9.")
    return Section("Study: regime II tilt threshold", tables=(table,))


register_report_kind(KIND, conjecture_content)


def orientation_section(study: dict) -> Section:
    """The regime III orientation map (``conjecture.orientation_map``): table and figure."""
    from conjecture.orientation_plot import orientation_png

    rows, compact = [], []
    for r in study["rows"]:
        m4 = ", ".join(f"{x:.3g}" for x in r["row_fourth_moments"])
        lo, hi = r.get("alignment_range", (r["alignment"], r["alignment"]))
        rows.append((r["law"], f"{r['kappa4']:+.3g}", str(r["M"]), str(r["d"]), m4,
                     f"{r['alignment']:.3f} [{lo:.3f}, {hi:.3f}]",
                     _rel_text(r['F_etf_rel'], ".6g"), _rel_text(r['F_free_rel'], ".6g"),
                     _rel_text(r['gain_rel'], ".2e", signed=True), r["optimum"],
                     f"{r['deformation_max_gram']:.2e}", ", ".join(_g(v, ".4g") for v in r["free_gram_eigenvalues"])))
        compact.append((r["law"], f"{r['kappa4']:+.3g}", str(r["M"]), str(r["d"]), f"{r['alignment']:.3f}",
                        _rel_text(r['F_etf_rel'], ".5g", short=True),
                        _rel_text(r['gain_rel'], ".2e", signed=True, short=True), f"{r['deformation_max_gram']:.1e}",
                        r["optimum"]))
    table = Table("Best ETF orientation and the best frame, by entry law (regime III, exact objective, abar = 1)",
                  ("law", "kappa_4", "M", "d", "best ETF: rows' sum_i v_i^4", "alignment [row range]", "F_ETF / C_target",
                   "F_best / C_target", "(F_ETF - F_best) / C_target", "optimum", "max |G - G_ETF|",
                   "best frame: Gram eigenvalues"), tuple(rows),
                  "alignment = mean_j (sum_i v_ji^4 - 1/d)/(1 - 1/d): 0 when every row is a cube diagonal, 1 when "
                  f"every row is a coordinate axis. '0 (|x| < {ROUNDING_REL:g})': float64 rounding noise of a loss >= 0 or of a "
                  "difference of two such values. 'ETF': the free search found nothing below F_ETF - "
                  f"{study['tolerances']['search_rtol']:g} C_target and its Gram matrix is within "
                  f"{study['tolerances']['gram_tol']:g} of the ETF's; otherwise 'deformed'. Numerical searches "
                  "(not certified); the uniform law's objective is a cubature estimate (its error is in report.json).")
    para = ("How the law of the target's entries fixes the orientation of the ETF (the paper's abstract: "
            "'the orientation of the ETF depends on the parameters of the target network'), and where a deformed "
            "frame does better. Laws: " + ", ".join(study["laws"]) + f"; {study['seconds']:.0f} s.")
    fig = Figure("orientation.png", "Alignment of the best ETF orientation (top) and gain of the best frame over it "
                 "(bottom) against kappa_4 (laws evenly spaced); filled: the optimum is the ETF, open: a deformed frame beats "
                 "every ETF orientation found, crosses: unresolved (cubature error)",
                 orientation_png(study["rows"]))
    small = Table("Regime III orientation map: best ETF orientation and best frame by entry law (abar = 1)",
                  ("law", "kappa_4", "M", "d", "align.", "F_ETF/C", "gain/C", "max |dG|", "optimum"), tuple(compact),
                  "C = C_target; gain = F_ETF - F_best (the best frame found); max |dG| = max |G - G_ETF| of the best "
                  f"frame; '0 (< {ROUNDING_REL:g})': float64 rounding noise; align.: 0 every row a cube diagonal, 1 every row a coordinate axis; 'ETF': nothing found below "
                  f"F_ETF - {study['tolerances']['search_rtol']:g} C_target and Gram matrix within "
                  f"{study['tolerances']['gram_tol']:g} of the ETF's, else 'deformed'; numerical searches, not "
                  "certified; the row ranges, Gram eigenvalues and figure are in report.html.")
    return Section(f"Study: regime III orientation map ({study['activation']})", (para,), (table,), (fig,), small)

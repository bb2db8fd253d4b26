"""Reports of a conjecture sweep: Markdown, JSON, a LaTeX table and the phase-diagram PNG, written into one folder."""

from __future__ import annotations

import json
from pathlib import Path

from conjecture.phase_plot import phase_plot
from conjecture.verdict import PROOF_RTOL, SEARCH_RTOL

try:
    from numerics.evidence.provenance import content_hash, to_jsonable
except ImportError:  # pragma: no cover - numerics is part of the toolkit
    to_jsonable = lambda x: x  # noqa: E731
    content_hash = lambda x: ""  # noqa: E731


def _g(x) -> str:
    """A number as %.4g, or the stored text for non-finite values (JSON keeps them as strings or None)."""
    return f"{x:.4g}" if isinstance(x, (int, float)) else str(x)


def _fmt(x, n=3) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{n}e}"
    return str(x)


def cell_line(c: dict) -> str:
    """One Markdown table row for a cell."""
    p = c["params"]
    s = c["search_signed"]
    pol = c.get("polish", {})
    hess = pol.get("hessian") or {}
    hess_s = f"{hess.get('negative', '-')}/{hess.get('zero', '-')}/{hess.get('positive', '-')}" if hess else "-"
    digits = pol.get("digits_vs_closed_form") if pol.get("is_etf") else None  # only meaningful at the ETF
    etf = c.get("etf", {})
    etf_val = etf.get("closed_form", etf.get("sampled_orientations_min", "-"))
    etf_val = f"{float(etf_val):.12g}" if etf_val not in ("-", None) else "-"
    return (f"| {p['M']} | {p['d']} | {c['verdict_nonneg']} | {c['verdict_signed']} | {etf_val} | {_g(s['best_value'])} | "
            f"{_fmt(s['gap_rel'])} | {_fmt(c.get('certified_gap_rel'))} | {'-' if digits is None else f'{digits:.1f}'} | "
            f"{pol.get('ones_Kinv_ones', '-')} | {hess_s} | {s['total_starts']} ({s['hits_of_best']} hit best) | {c['seconds']:.1f} |")


def markdown(cells: list[dict], *, title: str, meta: dict, studies: dict | None = None) -> str:
    lines = [f"# {title}", ""]
    for k, v in meta.items():
        lines.append(f"- **{k}**: {v}")
    lines += ["", "Verdicts: PROVEN = certified (interval arithmetic) lower bound within "
              f"{PROOF_RTOL:g} (relative to C_target) of the ETF value; SUPPORTED = no frame found below the ETF value - "
              f"{SEARCH_RTOL:g} C_target after the stated search; REFUTED = rational frame certified below; NOT_APPLICABLE = M > d + 1.",
              "Columns: gap = (best found - ETF)/C_target; cert gap = (ETF - certified bound)/C_target, beta >= 0; "
              "digits = agreement of the mpmath-polished best frame with the closed form (relative); "
              "1^T K^-1 1 from the polished frame; Hessian = negative/zero/positive eigenvalues of the Riemannian Hessian "
              "(beta optimised) at the polished point.", "",
              "| M | d | beta>=0 | signed | F_ETF | best found | gap | cert gap | digits | 1^T K^-1 1 | Hessian -/0/+ | starts | s |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [cell_line(c) for c in sorted(cells, key=lambda c: (c["params"]["M"], c["params"]["d"]))]
    na = [c for c in cells if not c["etf_exists"]]
    if na:
        lines += ["", "## Best configurations where the ETF does not exist (M > d + 1)", ""]
        for c in sorted(na, key=lambda c: (c["params"]["M"], c["params"]["d"])):
            b = c["best_configuration"]
            lines.append(f"- M = {c['params']['M']}, d = {c['params']['d']}: F = {_g(c['search_signed']['best_value'])}; "
                         f"Gram eigenvalues {b['gram_eigenvalues']}; inner-product histogram on [-1, 1] (10 bins) "
                         f"{b['inner_product_histogram']}; beta {b['beta']}")
    sdp = [c for c in cells if "sdp_signed" in c]
    if sdp:
        lines += ["", "## Signed beta: sign-pattern SDP bounds A_k (lower bounds on u^T K u / (sum u)^2, k negative signs)", "",
                  "A bound proves the signed conjecture for pattern k only if A_k >= (kappa(1) + (M-1) kappa(rho0))/M; k = 0 "
                  "reproduces the Delsarte bound, k >= 1 gives A_k ~ 0 (no information: the chord relaxation is too weak).", ""]
        for c in sdp:
            vals = ", ".join(f"k={s['negatives']}: {_g(s['A_k'])}{'' if s['kkt_ok'] else ' (KKT FAILED)'}{'' if s['note'] in ('optimal',) else ' [' + str(s['note']) + ']'}" for s in c["sdp_signed"])
            lines.append(f"- M = {c['params']['M']}, d = {c['params']['d']}: {vals}")
    ref = [c for c in cells if "refutation_signed" in c or "refutation_nonneg" in c]
    if ref:
        lines += ["", "## Refutations (frames below the ETF value)", ""]
        for c in ref:
            for key in ("refutation_signed", "refutation_nonneg"):
                if key in c:
                    r = c[key]
                    lines.append(f"- M = {c['params']['M']}, d = {c['params']['d']} ({key}): certified = {r['certified']}; "
                                 f"Ltilde in {r.get('value_enclosure', '-')} vs F_ETF in {r.get('etf_enclosure', '-')}")
    if studies:
        lines += ["", "## Studies", "", "```json", json.dumps(to_jsonable(studies), indent=1)[:20000], "```"]
    return "\n".join(lines) + "\n"


def latex_table(cells: list[dict], *, caption: str) -> str:
    rows = []
    for c in sorted(cells, key=lambda c: (c["params"]["M"], c["params"]["d"])):
        p = c["params"]
        rows.append(f"{p['M']} & {p['d']} & {c['verdict_nonneg'].replace('_', ' ')} & {c['verdict_signed'].replace('_', ' ')} & "
                    f"{_g(c['search_signed']['best_value'])} \\\\")
    return ("\\begin{table}[ht]\n\\centering\n\\begin{tabular}{rrllr}\n\\hline\n"
            "$M$ & $d$ & $\\beta \\ge 0$ & signed $\\beta$ & best $F$ \\\\\n\\hline\n" + "\n".join(rows) +
            f"\n\\hline\n\\end{{tabular}}\n\\caption{{{caption}}}\n\\end{{table}}\n")


def write_reports(cells: list[dict], out: str | Path, *, title: str, meta: dict, provenance: dict | None = None,
                  studies: dict | None = None, stem: str = "conjecture") -> dict:
    """Write <stem>.md, <stem>.json, <stem>.tex, <stem>_phase.png into ``out``; returns the paths."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"title": title, "meta": meta, "provenance": provenance or {}, "cells": cells, "studies": studies or {}}
    payload = to_jsonable(payload)
    payload["content_hash"] = content_hash({"cells": payload["cells"], "studies": payload["studies"]})
    paths = {"json": folder / f"{stem}.json", "markdown": folder / f"{stem}.md", "latex": folder / f"{stem}.tex",
             "png": folder / f"{stem}_phase.png"}
    paths["json"].write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf-8")
    md = markdown(cells, title=title, meta={**meta, "content hash": payload["content_hash"]}, studies=studies)
    if provenance:
        prov = {k: provenance.get(k) for k in ("toolkit", "git", "python", "argv", "seeds", "timestamp_utc", "sweep") if k in provenance}
        md += "\n## Provenance\n\n```json\n" + json.dumps(to_jsonable(prov), indent=1, default=str) + "\n```\n"
    paths["markdown"].write_text(md, encoding="utf-8")
    paths["latex"].write_text(latex_table(cells, caption=title), encoding="utf-8")
    if cells:
        phase_plot(cells, paths["png"], title=title)
    else:
        paths.pop("png")
    return {k: str(v) for k, v in paths.items()}

"""From sweep cell results to verdicts: measured/predicted ratios with CIs, fitted exponents, confirmations.

    ratio = measured / predicted,  CI95 from the sampling error of the measurement (predictions are exact);
    confirmed  <=>  the pooled ratio's CI contains 1 (and, where an exponent is predicted, its CI contains it).

Checks: bias (control-variate estimator; raw estimator reported alongside), variance at the ETF and at an
unbalanced frame, the minimum gap and the minimiser's distance to the ETF (no prediction: fitted exponents
only, compared with N^(-1/2), docs/numerics.md), the dimension limit, and the float64/arb/Monte Carlo consistency.

References: docs/model.md section 6, docs/numerics.md; numerics.rates (cells); numerics.estimates (statistics).

Examples
--------
>>> c = Check("x", "demo", ratio=None, exponent=None, predicted_exponent=None, verdict=Verdict.INFO, detail="")
>>> c.verdict.value
'info'
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import numpy as np

from numerics.estimates import (PowerFit, Ratio, fit_power_law, fit_two_terms, mean_estimate, pooled_ratio, ratio,
                                relative_variance_se, variance_estimate)


class Verdict(enum.Enum):
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not confirmed"
    CONSISTENT = "consistent"
    INCONSISTENT = "inconsistent"
    INFO = "info"


@dataclass(frozen=True)
class Check:
    """One verdict line of the report and the per-cell table behind it."""

    key: str
    title: str
    ratio: Ratio | None
    exponent: PowerFit | None
    predicted_exponent: float | None
    verdict: Verdict
    detail: str
    rows: list = field(default_factory=list)
    series: list = field(default_factory=list)  # for plots: dicts with x, y, se, predicted, label

    def line(self) -> str:
        parts = [f"[{self.verdict.value.upper()}] {self.title}:"]
        if self.ratio is not None:
            parts.append(f"ratio {self.ratio.value:.4f} (95% CI {self.ratio.low:.4f}..{self.ratio.high:.4f})")
        if self.exponent is not None:
            e = self.exponent
            pred = "" if self.predicted_exponent is None else f", predicted {self.predicted_exponent:g}"
            parts.append(f"exponent {e.exponent:.3f} (95% CI {e.exponent_ci[0]:.3f}..{e.exponent_ci[1]:.3f}{pred})")
        if self.detail:
            parts.append(self.detail)
        return " ".join(parts)

    def as_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "verdict": self.verdict.value, "line": self.line(),
                "ratio": self.ratio.as_dict() if self.ratio else None,
                "exponent": self.exponent.as_dict() if self.exponent else None,
                "predicted_exponent": self.predicted_exponent, "detail": self.detail, "rows": self.rows,
                "series": self.series}


def _fit_in_exponent(fits: list[PowerFit], predicted: float) -> bool:
    return all(f.exponent_ci[0] <= predicted <= f.exponent_ci[1] for f in fits if math.isfinite(f.exponent))


def _pooled_fit(xs, ys, ses) -> PowerFit:
    return fit_power_law(xs, ys, ses)


def bias_check(results: list[dict]) -> list[Check]:
    """E L_N - Ltilde = bias_coefficient / N: control-variate estimator (verdict) and raw estimator at the ETF."""
    rows, est_cv, est_raw, preds = [], [], [], []
    series: dict[int, dict] = {}
    for r in results:
        etf = r["frames"]["etf"]
        Y, Z = np.array(etf["Y"]), np.array(etf["Z"])
        cv, raw = mean_estimate(Y - Z), mean_estimate(Y)
        pred = etf["predicted"]["bias"]
        est_cv.append(cv), est_raw.append(raw), preds.append(pred)
        rc, rr = ratio(cv, pred), ratio(raw, pred)
        rows.append({"d": r["d"], "N": r["N"], "draws": r["draws"], "predicted": pred, "measured_cv": cv.as_dict(),
                     "ratio_cv": rc.as_dict(), "measured_raw": raw.as_dict(), "ratio_raw": rr.as_dict()})
        s = series.setdefault(r["d"], {"label": f"d = {r['d']}", "x": [], "y": [], "se": [], "predicted": []})
        s["x"].append(r["N"]), s["y"].append(cv.value), s["se"].append(cv.se), s["predicted"].append(pred)
    fits = [fit_power_law(s["x"], s["y"], s["se"]) for s in series.values()]
    pooled_cv = pooled_ratio(est_cv, preds)
    pooled_raw = pooled_ratio(est_raw, preds)
    worst = min(fits, key=lambda f: -abs(f.exponent + 1)) if fits else None
    ok = pooled_cv.contains(1.0) and _fit_in_exponent(fits, -1.0)
    exps = ", ".join(f"d={d}: {f.exponent:.3f} [{f.exponent_ci[0]:.3f}, {f.exponent_ci[1]:.3f}]"
                     for d, f in zip(series, fits))
    main = Check("bias", "bias E L_N - Ltilde = (E[alpha^2] kappa(1) - abar^2 c_d)/N (control variate)",
                 pooled_cv, worst,
                 -1.0, Verdict.CONFIRMED if ok else Verdict.NOT_CONFIRMED,
                 f"(worst-fitting d shown; exponents per d: {exps})", rows, list(series.values()))
    raw = Check("bias_raw", "bias, raw mean of L_N - Ltilde at the ETF (no control variate)", pooled_raw, None, None,
                Verdict.CONFIRMED if pooled_raw.contains(1.0) else Verdict.NOT_CONFIRMED,
                "(secondary: same draws, noisier estimator)")
    return [main, raw]


def variance_check(results: list[dict], frame: str) -> Check | None:
    """Var L_N = v1/N + v2/N^2 + v3/N^3 (theory.finite_n) at one frame."""
    rows, ests, preds, rel = [], [], [], []
    series: dict[int, dict] = {}
    for r in results:
        if frame not in r["frames"]:
            continue
        f = r["frames"][frame]
        est = variance_estimate(f["Y"])
        pred = f["predicted"]["variance"]
        ests.append(est), preds.append(pred), rel.append(relative_variance_se(f["Y"]))
        first = f["predicted"]["variance_first"] / r["N"]
        rows.append({"d": r["d"], "N": r["N"], "draws": r["draws"], "predicted": pred,
                     "predicted_first_term_share": first / pred, "measured": est.as_dict(),
                     "ratio": ratio(est, pred).as_dict(), "balance": f["balance"]})
        s = series.setdefault(r["d"], {"label": f"d = {r['d']}", "x": [], "y": [], "se": [], "predicted": []})
        s["x"].append(r["N"]), s["y"].append(est.value), s["se"].append(est.se), s["predicted"].append(pred)
    if not ests:
        return None
    pooled = pooled_ratio(ests, preds, rel)
    fits, pred_fits = [], []
    for s in series.values():
        fits.append(fit_power_law(s["x"], s["y"], s["se"]))
        pred_fits.append(fit_power_law(s["x"], s["predicted"], np.array(s["predicted"]) * 1e-9).exponent)
    agree = all(f.exponent_ci[0] <= p <= f.exponent_ci[1] for f, p in zip(fits, pred_fits))
    exps = ", ".join(f"d={d}: {f.exponent:.3f} [{f.exponent_ci[0]:.3f}, {f.exponent_ci[1]:.3f}] vs predicted {p:.3f}"
                     for d, f, p in zip(series, fits, pred_fits))
    ok = pooled.contains(1.0) and agree
    title = {"etf": "variance at the ETF (balanced; v1 = O(1/d), 1/N^2 term visible)",
             "unbalanced": "variance at an unbalanced frame (e_1..e_M; order 1/N)"}[frame]
    # the exponent shown is the largest-d series, where the balanced/unbalanced difference is clearest
    return Check(f"variance_{frame}", title, pooled, fits[-1], pred_fits[-1],
                 Verdict.CONFIRMED if ok else Verdict.NOT_CONFIRMED, f"(local exponents per d: {exps})", rows,
                 list(series.values()))


def minimum_checks(results: list[dict]) -> list[Check]:
    """Fitted scaling of the gain Ltilde* + bias - min L_N and of the minimiser's Gram distance to the ETF."""
    out = []
    for key, title, sign in (("gap_after_bias", "gain Ltilde* + bias/N - min_theta L_N", -1.0),
                             ("gap", "|min_theta L_N - min_theta Ltilde|", None),
                             ("gram_distance", "distance of the minimiser from the ETF, ||G - G_ETF||_F", 1.0)):
        rows = []
        series: dict[int, dict] = {}
        for r in results:
            vals = np.array(r[key], dtype=float)
            vals = np.abs(vals) if sign is None else sign * vals
            est = mean_estimate(vals)
            rows.append({"d": r["d"], "N": r["N"], "draws": r["draws"], "mean": est.as_dict(),
                         "converged_fraction": float(np.mean(r["converged"])),
                         "max_final_gradient_norm": float(np.max(r.get("gradient_norm", [math.nan])))})
            s = series.setdefault(r["d"], {"label": f"d = {r['d']}", "x": [], "y": [], "se": [], "predicted": None})
            s["x"].append(r["N"]), s["y"].append(est.value), s["se"].append(est.se)
        fits = {d: fit_power_law(s["x"], s["y"], s["se"]) for d, s in series.items()}
        two = {d: fit_two_terms(s["x"], s["y"], s["se"]) for d, s in series.items() if len(s["x"]) >= 2}
        two_text = "; ".join(f"d={d}: {t.A:.3g} [{t.A_ci[0]:.3g}, {t.A_ci[1]:.3g}] N^-1/2 + "
                             f"{t.B:.3g} [{t.B_ci[0]:.3g}, {t.B_ci[1]:.3g}] N^-1" for d, t in two.items())
        allx = [x for s in series.values() for x in s["x"]]
        if not fits:
            continue
        consistent = all(f.exponent_ci[0] <= -0.5 <= f.exponent_ci[1] for f in fits.values())
        exps = "; ".join(f"d={d}: N^{f.exponent:.3f} [{f.exponent_ci[0]:.3f}, {f.exponent_ci[1]:.3f}], "
                         f"C = {f.constant:.3g} [{f.constant_ci[0]:.3g}, {f.constant_ci[1]:.3g}]"
                         for d, f in fits.items())
        # dependence on d at the largest common N
        n_max = max(allx)
        at_n = [(r["d"], row["mean"]) for r, row in zip(results, rows) if r["N"] == n_max]
        d_fit = None
        if len(at_n) >= 2:
            d_fit = fit_power_law([a for a, _ in at_n], [m["value"] for _, m in at_n], [m["se"] for _, m in at_n])
        d_text = "" if d_fit is None else (f"; at N = {n_max}: d^{d_fit.exponent:.3f} "
                                           f"[{d_fit.exponent_ci[0]:.3f}, {d_fit.exponent_ci[1]:.3f}]")
        last = list(fits.values())[-1]
        verdict = Verdict.CONSISTENT if consistent else Verdict.INCONSISTENT
        out.append(Check(f"minimum_{key}", f"minimum: {title}", None, last, -0.5, verdict,
                         f"(no closed-form prediction: the fitted exponents are compared with -1/2, docs/numerics.md; "
                         f"{exps}{d_text}; two-term fits: {two_text}; 'consistent' = every exponent CI contains -1/2)",
                         rows, list(series.values())))
    return out


def dimension_check(results: list[dict]) -> Check:
    """Ltilde_d* - Ltilde_inf* against (1 - 2 mu_0^2 q) mu_2^2 / d; deterministic, the CI is the O(1/d) drift."""
    res = sorted(results, key=lambda r: r["d"])
    rows = [{"d": r["d"], "difference": r["difference_float"], "predicted": r["predicted"], "ratio": r["ratio"],
             "float64_digits": r["float64_digits"], "quadrature_digits": r["quadrature_digits"]} for r in res]
    ratios = np.array([r["ratio"] for r in res])
    ds = np.array([r["d"] for r in res], dtype=float)
    # ratio(d) = 1 + a/d + ...: the last two points bound the remaining drift conservatively.
    if len(res) >= 2:
        r_last, r_prev = ratios[-1], ratios[-2]
        drift = abs(r_last - r_prev) + 1e-15
        rat = Ratio(float(r_last), float(r_last - drift), float(r_last + drift))
    else:
        rat = Ratio(float(ratios[-1]), float(ratios[-1]), float(ratios[-1]))
    small = [r for r in res if r["d"] <= 256]
    diffs = np.array([abs(r["difference_float"]) for r in small])
    fit = fit_power_law([r["d"] for r in small], diffs, diffs * 1e-12)
    big = [r for r in res if r["d"] >= 1024]
    local = fit_power_law([r["d"] for r in big], [abs(r["difference_float"]) for r in big],
                          [abs(r["difference_float"]) * 1e-15 for r in big]) if len(big) >= 2 else None
    ok = rat.contains(1.0) and (local is None or abs(local.exponent + 1) < 1e-3)
    detail = (f"(ratio at d = {int(ds[-1])}, CI = +- its change from d = {int(ds[-2]) if len(ds) > 1 else 0}; "
              f"exponent over d = 4..256 includes the O(1/d^2) term: {fit.exponent:.4f}"
              + (f"; over d >= 1024: {local.exponent:.6f}" if local else "") + ")")
    m = res[0]["M"]
    series = [{"label": f"M = {m}, mpmath", "x": ds.tolist(), "y": [abs(r["difference_float"]) for r in res],
               "se": [0.0] * len(res), "predicted": [abs(r["predicted"]) for r in res]},
              {"label": f"M = {m}, naive float64", "x": ds.tolist(), "y": [abs(r["float64_difference"]) for r in res],
               "se": [0.0] * len(res), "predicted": None}]
    return Check("dimension", "Ltilde_d* - Ltilde_inf* = (1 - 2 mu_0^2 q_M) mu_2^2 / d + O(d^-2)", rat,
                 local or fit, -1.0, Verdict.CONFIRMED if ok else Verdict.NOT_CONFIRMED, detail, rows, series)


def precision_check(prec: list[dict], dims: list[dict]) -> Check:
    """Where float64 loses the effect: digits of float64 agreeing with arb / mpmath."""
    rows = []
    for r in prec:
        rows.append({"quantity": f"L_N (N={r['N']}, d={r['d']})", "value": r["loss_arb"],
                     "float64_digits": r["loss_digits"],
                     "effect_to_rounding_bound": r["bias_effect"] / r["loss_float64_bound"]})
        for o in r["orientation"]:
            rows.append({"quantity": f"L_N(R_eps V) - L_N(V), eps={o['epsilon']:g} (N={r['N']})",
                         "value": o["delta_arb"],
                         "float64_digits": o["float64_digits"], "effect_to_rounding_bound": o["effect_to_bound"]})
    for r in sorted(dims, key=lambda r: r["d"]):
        rows.append({"quantity": f"Ltilde_d* - Ltilde_inf* (d={r['d']})", "value": r["difference_float"],
                     "float64_digits": r["float64_digits"], "effect_to_rounding_bound": None})
    lost = [row["quantity"] for row in rows if row["float64_digits"] < 3]
    return Check("precision", "float64 vs high precision (digits of float64 that agree)", None, None, None,
                 Verdict.INFO,
                 f"(float64 keeps < 3 digits in: {'; '.join(lost) if lost else 'none'})", rows)


def consistency_check(results: list[dict]) -> Check:
    """Exact loss vs Monte Carlo (|z| < 4) and float64 vs arb (within the stated bounds)."""
    rows = [row for r in results for row in r["rows"]]
    zmax = max(abs(row["z"]) for row in rows)
    within = all(row["within_bound"] for row in rows)
    ok = zmax < 4 and within
    return Check("consistency", "exact L_N vs Monte Carlo (|z| < 4) and float64 vs arb (within bound)",
                 None, None, None,
                 Verdict.CONFIRMED if ok else Verdict.NOT_CONFIRMED,
                 f"(max |z| = {zmax:.2f} over {len(rows)} instances; float64 within bound of arb: {within})", rows)


def all_checks(by_kind: dict[str, list[dict]]) -> list[Check]:
    """Every check that the available cell results support."""
    checks: list[Check] = []
    if by_kind.get("loss-consistency"):
        checks.append(consistency_check(by_kind["loss-consistency"]))
    if by_kind.get("finite-n-moments"):
        checks.extend(bias_check(by_kind["finite-n-moments"]))
        for frame in ("etf", "unbalanced"):
            c = variance_check(by_kind["finite-n-moments"], frame)
            if c is not None:
                checks.append(c)
    if by_kind.get("finite-n-minimum"):
        checks.extend(minimum_checks(by_kind["finite-n-minimum"]))
    if by_kind.get("dimension-limit"):
        checks.append(dimension_check(by_kind["dimension-limit"]))
    if by_kind.get("finite-n-precision") or by_kind.get("dimension-limit"):
        checks.append(precision_check(by_kind.get("finite-n-precision", []), by_kind.get("dimension-limit", [])))
    return checks

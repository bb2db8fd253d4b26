"""From sweep cell results to verdicts: measured/predicted ratios with CIs, fitted exponents, confirmations.

    ratio = measured / predicted,  CI95 from the sampling error of the measurement (predictions are exact);
    confirmed  <=>  the pooled ratio's CI contains 1 (and, where an exponent is predicted, its CI contains it).

Checks: bias (control-variate estimator; raw estimator reported alongside), variance at the ETF and at an
unbalanced frame, the finite-N minimum against theory.finite_n_gain (mean gain, per-draw predictors, the
minimiser's rotation and deformation; docs/finite_n_gain.md), the dimension limit, and the float64/arb/Monte Carlo
consistency.

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

from numerics.estimates import (Z95, Estimate, PowerFit, Ratio, fit_power_law, mean_estimate, pooled_ratio, ratio,
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


def _pooled_fisher(rs: list[float], ns: list[int]) -> tuple[float, float, float]:
    """Correlations of several cells pooled by Fisher's z (weights n - 3): (r, low, high) at 95%."""
    keep = [(r, n) for r, n in zip(rs, ns) if n > 3 and math.isfinite(r) and abs(r) < 1]
    if not keep:
        return math.nan, math.nan, math.nan
    w = np.array([n - 3 for _, n in keep], dtype=float)
    z = float(np.sum(w * np.arctanh([r for r, _ in keep])) / np.sum(w))
    s = 1.0 / math.sqrt(float(np.sum(w)))
    return math.tanh(z), math.tanh(z - Z95 * s), math.tanh(z + Z95 * s)


def _mean_square(x) -> Estimate:
    return mean_estimate(np.asarray(x, dtype=float) ** 2)


def _sqrt_ratio(r: Ratio) -> Ratio:
    """A ratio of mean squares turned into a ratio of root mean squares (CI endpoints mapped by sqrt)."""
    return Ratio(math.sqrt(max(r.value, 0.0)), math.sqrt(max(r.low, 0.0)), math.sqrt(max(r.high, 0.0)))


def _leading_constants(res: list[dict]) -> str:
    """A(d, M) per d, in increasing d: each cell estimates it by its own Monte Carlo, so the cells' range is shown."""
    by_d: dict[int, list[float]] = {}
    for r in res:
        by_d.setdefault(r["d"], []).append(float(r["prediction"]["leading_constant_A"]))
    parts = []
    for d, values in sorted(by_d.items()):
        lo, hi = min(values), max(values)
        parts.append(f"d={d}: A = {lo:.4g}" if f"{lo:.4g}" == f"{hi:.4g}" else f"d={d}: A = {lo:.4g}..{hi:.4g} (over N)")
    return ", ".join(parts)


def minimum_checks(results: list[dict]) -> list[Check]:
    """The finite-N minimum against theory.finite_n_gain: the mean gain (two versions), min L_N - Ltilde*, the
    per-draw predictors' correlation with the gain, and the minimiser's motion (deformation, Gram distance, span)."""
    res = sorted(results, key=lambda r: (r["d"], r["N"]))
    out: list[Check] = []
    specs = (
        ("gain", "gain", "predicted_mean_gain",
         "minimum: gain G_N = Ltilde_N* - min_theta L_N (abar_N) against E[G_N] = A N^-1/2 + O(1/N)"),
        ("gain_population", "gain_population", "predicted_mean_gain_population_abar",
         "minimum: gain with the population abar, G_N + (abar_N^2 - abar^2) c_d^2 q_M"),
        ("gap", "gap", "predicted_mean_gap_to_mean_field_minimum",
         "minimum: min_theta L_N - Ltilde* (population mean-field minimum)"),
    )
    for key, field_, pred_key, title in specs:
        rows, ests, preds, series = [], [], [], {}
        for r in res:
            p = r["prediction"]
            est = mean_estimate(r[field_])
            pred = p[pred_key]
            ests.append(est), preds.append(pred)
            row = {"d": r["d"], "N": r["N"], "draws": r["draws"], "predicted": pred,
                   "predicted_se": p["predicted_mean_gain_se"], "measured": est.as_dict(),
                   "ratio": ratio(est, pred).as_dict(),
                   "ratio_leading_only": ratio(est, p["leading_term"]).as_dict() if key == "gain" else None,
                   "max_final_gradient_norm": float(np.max(r["gradient_norm"]))}
            rows.append(row)
            sr = series.setdefault(r["d"], {"label": f"d = {r['d']}", "x": [], "y": [], "se": [], "predicted": []})
            sign = -1.0 if key == "gap" else 1.0   # min L_N - Ltilde* < 0: plotted as its magnitude
            sr["x"].append(r["N"]), sr["y"].append(sign * est.value), sr["se"].append(est.se)
            sr["predicted"].append(sign * pred)
        pooled = pooled_ratio(ests, preds)
        lead = ([f"d={row['d']}, N={row['N']}: {row['ratio_leading_only']['ratio']:.3f}" for row in rows]
                if key == "gain" else [])
        A_text = _leading_constants(res)
        mc = max(row["predicted_se"] / abs(row["predicted"]) for row in rows if row["predicted"])
        detail = (f"(prediction: theory.finite_n_gain, leading {A_text} plus the O(1/N) terms (finite-N law of S_N, "
                  "beta re-optimisation, frame deformation) without the orientation-selection term (+0.4% at most, "
                  f"docs/finite_n_gain.md); its Monte Carlo s.e. is at most {100 * mc:.2g}% of a cell's value; "
                  "confirmed = the pooled ratio's CI contains 1"
                  + (f"; measured / leading term alone: {'; '.join(lead)}" if lead else "")
                  + (". abar_N removes the orientation-free fluctuation 2 abar c_d^2 q_M (abar_N - abar), which makes "
                     "this version's spread several times larger" if key == "gain_population" else "") + ")")
        out.append(Check(f"minimum_{key}", title, pooled, None, None,
                         Verdict.CONFIRMED if pooled.contains(1.0) else Verdict.NOT_CONFIRMED, detail, rows,
                         list(series.values())))
    # per-draw predictors
    rows, r2, r1, ns = [], [], [], []
    for r in res:
        g = np.asarray(r["gain"], dtype=float)
        c2 = float(np.corrcoef(r["per_draw_degree_two"], g)[0, 1]) if g.size > 2 else math.nan
        c1 = float(np.corrcoef(r["per_draw"], g)[0, 1]) if g.size > 2 else math.nan
        r2.append(c2), r1.append(c1), ns.append(int(g.size))
        rows.append({"d": r["d"], "N": r["N"], "draws": r["draws"], "corr_degree_two": c2, "corr_second_order": c1,
                     "mean_residual": mean_estimate(g - np.asarray(r["per_draw"], dtype=float)).as_dict()})
    p2, p1 = _pooled_fisher(r2, ns), _pooled_fisher(r1, ns)
    out.append(Check("minimum_per_draw", "minimum: per-draw predictors against the measured gain (correlation across "
                     "draws)", None, None, None, Verdict.INFO,
                     f"(pooled Pearson r by Fisher's z: degree-2 predictor on S_N r = {p2[0]:.3f} (95% CI "
                     f"{p2[1]:.3f}..{p2[2]:.3f}); first + second order of the draw's field at the ETF on S_N's top "
                     f"eigenspace r = {p1[0]:.3f} ({p1[1]:.3f}..{p1[2]:.3f}); the residual G_N - predictor is the "
                     "orientation selection inside the span)", rows))
    # the minimiser's motion
    for key, field_, pred_key, title in (
            ("deformation", "deformation", "predicted_rms_deformation",
             "minimiser: deformation after removing the rotation, rms ||V* - R V_ETF||_F"),
            ("gram_distance", "gram_distance", "predicted_rms_gram_distance",
             "minimiser: rms distance of the Gram matrix from the ETF's, ||G - G_ETF||_F")):
        rows, ests, preds, series = [], [], [], {}
        for r in res:
            est = _mean_square(r[field_])
            pred = r["prediction"][pred_key]
            ests.append(est), preds.append(pred * pred)
            rows.append({"d": r["d"], "N": r["N"], "draws": r["draws"], "predicted": pred,
                         "measured": math.sqrt(est.value), "ratio": _sqrt_ratio(ratio(est, pred * pred)).as_dict()})
            sr = series.setdefault(r["d"], {"label": f"d = {r['d']}", "x": [], "y": [], "se": [], "predicted": []})
            sr["x"].append(r["N"]), sr["y"].append(math.sqrt(est.value))
            sr["se"].append(est.se / (2 * math.sqrt(est.value)) if est.value > 0 else 0.0)
            sr["predicted"].append(pred)
        pooled = _sqrt_ratio(pooled_ratio(ests, preds))
        out.append(Check(f"minimum_{key}", title, pooled, None, None,
                         Verdict.CONFIRMED if pooled.contains(1.0) else Verdict.NOT_CONFIRMED,
                         "(prediction: the Newton step delta = -H^+ g of the second-order model, N^-1/2 to leading "
                         "order, theory.finite_n_gain; ratio of root mean squares, CI from the mean of squares)",
                         rows, list(series.values())))
    rows = [{"d": r["d"], "N": r["N"], "draws": r["draws"], "mean": mean_estimate(r["span_distance"]).as_dict(),
             "haar": r["haar_span_distance"]} for r in res]
    worst = max(row["mean"]["value"] / row["haar"] for row in rows)
    out.append(Check("minimum_rotation", "minimiser: rotation, the span of V* against the top eigenspace of S_N",
                     None, None, None, Verdict.INFO,
                     "(predicted: the orientation is flat for Ltilde and the target picks the span of the top M-1 "
                     "eigenvectors of S_N; the sine distance ||P_V - P_top||_F / sqrt 2 stays small (degree >= 4 "
                     "harmonics and O(N^-1/2) terms tilt it), against sqrt((M-1)(d-M+1)/d) for an independent "
                     f"Haar orientation such as the start's: largest mean / Haar value over the cells {worst:.3f})",
                     rows))
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

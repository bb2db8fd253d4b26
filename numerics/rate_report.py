"""What the report of a ``twolayer verify`` cell kind shows: one table per kind, every number with its
95% CI, its rounding bound or its digits, and the normalisation the values use.

Registered at import with ``numerics.evidence.reports.kinds.register_report_kind`` for the five kinds of
``numerics.rates``: loss-consistency, finite-n-moments, finite-n-minimum, dimension-limit and
finite-n-precision.  Import this module before writing a report of such cells (``twolayer verify`` and
``twolayer store report`` do); it is light (no cell code, no SciPy until a table is built).

Verify cells carry no verdict of their own: the verdicts are the pooled rate checks of
``numerics.rate_checks``, which ``numerics.verify_report`` adds as report-level findings.  So these
contents have no verdict tallies and no verdict map.

Conventions: a measured mean or variance is ``value [low, high]`` (95% CI from the R draws); a
prediction of ``theory.finite_n`` is exact (no error); a float64 loss is ``value +- rounding bound``
(``theory.loss_text``: never negative); an arb enclosure is ``midpoint +- radius``; '-' marks a value the
cell does not compute (the table note says why).

Examples
--------
>>> from numerics.evidence.store import CellRecord
>>> res = {"activation": "relu", "M": 3, "d": 4, "dps": 30, "q_M": 1.9, "c_d": "0.1875", "difference": "-0.0140",
...        "difference_float": -0.0140, "predicted": -0.0113, "ratio": 1.246, "d_times_difference": -0.056,
...        "float64_difference": -0.0140, "float64_digits": 14.7, "quadrature_digits": None}
>>> c = dimension_content([CellRecord("abcd1234", KIND_DIMENSION, {"d": 4}, 0, res, 0.1)])
>>> c.tallies, c.sections[0].tables[0].rows[0][-2:]
((), ('-', 'abcd1234'))
"""

from __future__ import annotations

import math
from typing import Sequence

from numerics.evidence.reports.kinds import register_report_kind
from numerics.evidence.reports.model import KindContent, Section, Table
from numerics.evidence.store import CellRecord
from theory.loss_text import loss_text

# The kinds of numerics.rates (kept as text here so that importing this module does not load the cell
# code; tests/test_verify_report.py checks that they agree).
KIND_CONSISTENCY = "loss-consistency"
KIND_MOMENTS = "finite-n-moments"
KIND_MINIMUM = "finite-n-minimum"
KIND_DIMENSION = "dimension-limit"
KIND_PRECISION = "finite-n-precision"
KINDS = (KIND_CONSISTENCY, KIND_MOMENTS, KIND_MINIMUM, KIND_DIMENSION, KIND_PRECISION)
FRAME_NAMES = {"etf": "ETF (balanced)", "unbalanced": "e_1..e_M (unbalanced)"}
SECTION_TITLES = {
    KIND_CONSISTENCY: "Cells: loss consistency (float64, arb, Monte Carlo)",
    KIND_MOMENTS: "Cells: finite-N moments (bias and variance of L_N)",
    KIND_MINIMUM: "Cells: finite-N minimum of L_N",
    KIND_DIMENSION: "Cells: dimension limit of Ltilde* at the ETF",
    KIND_PRECISION: "Cells: float64 against high precision",
}
CI_NOTE = "[low, high] = 95% CI, mean +- 1.96 s/sqrt(R) over the R draws"


# -- number text ----------------------------------------------------------------------------------------
def num(x, digits: int = 4) -> str:
    """A number in %.{digits}g; '-' for a value that is absent (None)."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        return f"{x:.{digits}g}"
    return str(x)


def ci_text(value: float, low: float, high: float, digits: int = 4) -> str:
    """'value [low, high]'."""
    return f"{value:.{digits}g} [{low:.{digits}g}, {high:.{digits}g}]"


def estimate_text(est, digits: int = 4) -> str:
    """An Estimate (numerics.estimates) as 'value [low, high]'; one draw (no standard error) has no CI."""
    if not math.isfinite(est.se):
        return f"{est.value:.{digits}g} (1 draw, no CI)"
    lo, hi = est.ci
    return ci_text(est.value, lo, hi, digits)


def ratio_text(r, digits: int = 3) -> str:
    """A Ratio (numerics.estimates) as 'ratio [low, high]'."""
    return f"{r.value:.{digits}f} [{r.low:.{digits}f}, {r.high:.{digits}f}]"


def mean_text(samples: Sequence[float], digits: int = 4) -> str:
    """The mean of the draws with its 95% CI."""
    from numerics.estimates import mean_estimate

    vals = [float(v) for v in samples]
    if len(vals) < 2:
        return f"{vals[0]:.{digits}g} (1 draw, no CI)" if vals else "-"
    return estimate_text(mean_estimate(vals), digits)


def _digits(decimal: str, digits: int) -> str:
    """A decimal string (mpmath text) rounded to ``digits`` <= 15 significant digits."""
    try:
        return f"{float(decimal):.{digits}g}" if digits <= 15 else str(decimal)
    except (TypeError, ValueError):
        return str(decimal)


def _constant(records: Sequence[CellRecord], key: str) -> str:
    """The values of ``key`` over the cells (result first, then params), as text; '-' where no cell has one."""
    vals = {r.result.get(key, r.params.get(key)) for r in records}
    return ", ".join(sorted(str(v) for v in vals if v is not None)) or "-"


def _target_normalisation(records: Sequence[CellRecord]) -> str:
    """The target scale of the moments, minimum and precision cells (drawn by theory.target_laws)."""
    from theory.activations import get_activation

    laws = _constant(records, "law")
    acts = sorted({str(r.result.get("activation", r.params.get("activation", "relu"))) for r in records})
    degrees = sorted({get_activation(a).degree for a in acts})
    n = ", ".join(str(k) for k in degrees)
    norm = "||w_i||" if degrees == [1] else f"||w_i||^{n}"
    return (f"finite-N cells: target a_i = 1, w_i = z_i/sqrt(d) with z_i i.i.d. {laws} entries, so alpha_i = {norm} "
            "and abar = E[alpha] as drawn (not set to 1); student: unit directions v_j with output weights beta_j "
            "(fixed frames with their Ltilde-optimal beta, or the minimiser of L_N); L_N = E_x (f_N - g)^2 and "
            "Ltilde at the target's own scale (not divided by abar^2)")


# -- finite-n-moments ---------------------------------------------------------------------------------
def moments_content(records: Sequence[CellRecord]) -> KindContent:
    """Per cell: the bias E L_N - Ltilde (control variate); per cell and frame: Var L_N; both against
    theory.finite_n."""
    from numerics.estimates import mean_estimate, ratio, variance_estimate

    recs = sorted(records, key=lambda r: (r.result["d"], r.result["N"]))
    bias_rows, var_rows, compact = [], [], []
    for rec in recs:
        r = rec.result
        lead = (str(r["d"]), str(r["N"]), str(r["draws"]))
        frames = r["frames"]
        first = frames.get("etf") or next(iter(frames.values()))
        cv = mean_estimate([y - z for y, z in zip(first["Y"], first["Z"])])
        pb = first["predicted"]["bias"]
        rb = ratio(cv, pb)
        bias_rows.append((*lead, estimate_text(cv), num(pb, 6), ratio_text(rb), rec.cell_id))
        var_ratio = {}
        for frame, f in frames.items():
            var = variance_estimate(f["Y"])
            pv = f["predicted"]["variance"]
            var_ratio[frame] = ratio(var, pv)
            var_rows.append((*lead, FRAME_NAMES.get(frame, frame), estimate_text(var), num(pv, 6),
                             ratio_text(var_ratio[frame]), num(f["balance"], 2), rec.cell_id))
        compact.append((*lead, ratio_text(rb), *(ratio_text(var_ratio[k]) if k in var_ratio else "-"
                                                 for k in ("etf", "unbalanced"))))
    bias = Table(
        "Bias E[L_N] - Ltilde per cell",
        ("d", "N", "draws R", "measured, control variate (95% CI)", "predicted bias/N", "ratio (95% CI)", "cell"),
        tuple(bias_rows),
        f"{CI_NOTE}. Measured: mean of Y - Z over the draws, Y = L_N - Ltilde and Z the control variate (mean "
        "exactly 0 under isotropy; it removes the O(N^-1/2) first-order noise). Y - Z does not depend on the "
        "frame (the student's terms cancel), so one value per cell. Predicted: bias/N with bias = E[alpha^2] "
        "kappa(1) - abar^2 c_d (theory.finite_n, exact). Ratio = measured / predicted. The raw means (no "
        "control variate) are in the bias check of `twolayer verify`; every draw is in report.json.")
    variance = Table(
        "Variance Var L_N per cell and frame",
        ("d", "N", "draws R", "frame", "measured (95% CI)", "predicted", "ratio (95% CI)", "||sum_j beta_j v_j||",
         "cell"),
        tuple(var_rows),
        "Measured: sample variance of L_N over the R draws, 95% CI by the delta method with the kurtosis floored "
        "at 3. Predicted: v1/N + v2/N^2 + v3/N^3 (theory.finite_n, exact). ||sum_j beta_j v_j|| = 0 for a "
        "balanced frame, where v1 = O(1/d) and the 1/N^2 term shows.")
    para = (f"Law {_constant(recs, 'law')}, activation {_constant(recs, 'activation')}, M = {_constant(recs, 'M')}. "
            "Each cell draws R targets and evaluates the exact L_N (no sampling in x) at two fixed frames, each with "
            "its Ltilde-optimal beta: the ETF (balanced) and e_1..e_M (unbalanced; only where M <= d).")
    return KindContent(KIND_MOMENTS, (Section(SECTION_TITLES[KIND_MOMENTS], (para,),
                                              (bias, variance)),),
                       (), Table("Finite-N moments: measured / predicted (95% CI)",
                                 ("d", "N", "R", "bias", "Var at the ETF", "Var at e_1..e_M"), tuple(compact),
                                 "Predictions of theory.finite_n; CIs from the R draws; '-': no unbalanced frame "
                                 "(M > d)."),
                       _target_normalisation(recs))


# -- finite-n-minimum -----------------------------------------------------------------------------------
def minimum_content(records: Sequence[CellRecord]) -> KindContent:
    """Per cell: the gain G_N against its prediction (theory.finite_n_gain), min L_N - Ltilde*, the minimiser's motion
    and the search's gradient norms."""
    recs = sorted(records, key=lambda r: (r.result["d"], r.result["N"]))
    rows, compact = [], []
    for rec in recs:
        r = rec.result
        p = r.get("prediction")
        conv = r["converged"]
        grad = r.get("gradient_norm") or []
        bfgs = [g for gs in r.get("bfgs_gradient_norms", []) for g in gs]
        gain = r.get("gain")
        pred = f"{p['predicted_mean_gain']:.4g} +- {p['predicted_mean_gain_se']:.1g}" if p else "-"
        rows.append((str(r["d"]), str(r["N"]), str(r["draws"]), str(r["starts"]), pred,
                     mean_text(gain) if gain else "-",
                     f"{p['leading_term']:.4g}" if p else "-",
                     mean_text(r["gain_population"]) if gain else "-",
                     f"{p['predicted_mean_gain_population_abar']:.4g}" if p else "-",
                     mean_text(r["gap"]), f"{p['predicted_mean_gap_to_mean_field_minimum']:.4g}" if p else "-",
                     _rms(r.get("deformation")), f"{p['predicted_rms_deformation']:.3g}" if p else "-",
                     _rms(r["gram_distance"]), f"{p['predicted_rms_gram_distance']:.3g}" if p else "-",
                     mean_text(r["span_distance"], 3) if r.get("span_distance") else "-",
                     f"{sum(bool(c) for c in conv)}/{len(conv)}", num(max(grad), 2) if grad else "-",
                     num(max(bfgs), 2) if bfgs else "-", rec.cell_id))
        compact.append((str(r["d"]), str(r["N"]), str(r["draws"]), pred, mean_text(gain, 3) if gain else "-",
                        _rms(r.get("deformation")) + (f" / {p['predicted_rms_deformation']:.3g}" if p else ""),
                        _rms(r["gram_distance"]) + (f" / {p['predicted_rms_gram_distance']:.3g}" if p else "")))
    table = Table(
        "Minimum of L_N over the student per cell",
        ("d", "N", "draws R", "starts", "predicted E[G_N] (+- MC s.e.)", "G_N = Ltilde_N* - min L_N (95% CI)",
         "leading A N^-1/2", "G_N, population abar (95% CI)", "predicted", "min L_N - Ltilde* (95% CI)", "predicted",
         "rms deformation", "predicted", "rms ||G - G_ETF||_F", "predicted", "span distance to S_N's top (95% CI)",
         "converged", "max final |grad|", "max |grad| after BFGS", "cell"),
        tuple(rows),
        f"{CI_NOTE} (R is small: the minimum is a multi-start search). Ltilde_N* = T_N - abar_N^2 c_d^2 q_M, the "
        "mean-field minimum at the target's own abar_N and T_N; G_N >= 0 is the gain of the finite-N minimum over it; "
        "the population version uses abar (its spread carries the orientation-free fluctuation of abar_N). "
        "Ltilde* = abar^2 c_d (1 - c_d q_M). Predictions: theory.finite_n_gain (A N^-1/2 + O(1/N) terms, Monte Carlo "
        "standard error shown; docs/finite_n_gain.md). Deformation: ||V* - R V_ETF||_F after the best rotation R; "
        "span distance: sine distance between the top M-1 eigenspaces of V*^T V* and of S_N. converged: draws in which "
        "every start ended with gradient norm < 10 x the search tolerance; gradients after BFGS and after the Newton "
        "polish (numerics.finite_minimum).")
    para = (f"Law {_constant(recs, 'law')}, activation {_constant(recs, 'activation')}, M = {_constant(recs, 'M')}. "
            "Each draw minimises L_N over the frame V (beta eliminated in closed form) by BFGS from Haar-random "
            "rotations of the ETF, then Newton steps with the analytic Hessian (numerics.finite_minimum): a local "
            "search, so min L_N is the best value found.")
    return KindContent(KIND_MINIMUM, (Section(SECTION_TITLES[KIND_MINIMUM], (para,), (table,)),), (),
                       Table("Finite-N minimum: mean gain (95% CI) and rms motion of the minimiser",
                             ("d", "N", "R", "predicted E[G_N]", "G_N (95% CI)", "rms deformation",
                              "rms ||dG||_F"),
                             tuple(compact), "G_N = Ltilde_N* - min L_N at the target's own scale (not divided by "
                             "abar^2), measured mean over the R draws; predicted +- its Monte Carlo s.e.; deformation "
                             "||V* - R V_ETF||_F after the best rotation R and dG = G(V*) - G_ETF, each as measured rms "
                             "over the R draws (no CI) / predicted rms; predictions: theory.finite_n_gain."),
                       _target_normalisation(recs))


def _rms(samples) -> str:
    if not samples:
        return "-"
    return f"{math.sqrt(sum(float(x) ** 2 for x in samples) / len(samples)):.3g}"


# -- dimension-limit --------------------------------------------------------------------------------------
def dimension_content(records: Sequence[CellRecord]) -> KindContent:
    """Per d: Ltilde_d* - Ltilde_inf* at the ETF in mpmath against the first-order prediction, and in float64."""
    recs = sorted(records, key=lambda r: r.result["d"])
    rows, compact = [], []
    for rec in recs:
        r = rec.result
        q = r.get("quadrature_digits")
        rows.append((str(r["d"]), _digits(r["c_d"], 15), _digits(r["difference"], 12), num(r["predicted"], 12),
                     f"{r['ratio']:.9f}", num(r["d_times_difference"], 10), num(r["float64_difference"], 12),
                     f"{r['float64_digits']:.1f}", "-" if q is None else f"{q:.1f}", rec.cell_id))
        compact.append((str(r["d"]), _digits(r["difference"], 8), num(r["predicted"], 8), f"{r['ratio']:.6f}",
                        f"{r['float64_digits']:.1f}"))
    dmax_quad = max((r.result["d"] for r in recs if r.result.get("quadrature_digits") is not None), default=None)
    quad_note = ("quadrature digits: agreement of the closed-form c_d with an independent quadrature; '-' where d is "
                 f"above the cross-check's limit (d <= 64 in numerics.rates; largest here: {dmax_quad})")
    dps = _constant(recs, "dps")
    table = Table(
        "Ltilde_d* - Ltilde_inf* at the ETF against (1 - 2 mu_0^2 q_M) mu_2^2 / d",
        ("d", "c_d", "Ltilde_d* - Ltilde_inf* (mpmath)", "predicted, first order", "ratio", "d x difference",
         "naive float64 difference", "float64 digits", "quadrature digits", "cell"),
        tuple(rows),
        f"Deterministic (no sampling): mpmath at {dps} digits; c_d = E_u kappa(<u, e_1>) over u uniform on "
        "S^(d-1) (closed form), Ltilde* = c_d - c_d^2 q_M with q_M = 1^T K^-1 1 at the ETF, Ltilde_inf* with "
        "c_d -> mu_0^2. "
        "ratio = difference / prediction -> 1 + O(1/d). float64 digits: digits of the naive float64 difference "
        f"that agree with mpmath. {quad_note}.")
    qs = sorted({r.result["q_M"] for r in recs})
    para = (f"Activation {_constant(recs, 'activation')}, M = {_constant(recs, 'M')}, "
            f"q_M = {', '.join(num(q, 12) for q in qs)}. "
            "The d -> infinity limit of the mean-field optimum at the ETF, computed in mpmath and naively in float64.")
    section = Section(SECTION_TITLES[KIND_DIMENSION], (para,), (table,))
    return KindContent(KIND_DIMENSION, (section,), (),
                       Table("Dimension limit at the ETF (abar = 1)",
                             ("d", "difference", "predicted", "ratio", "float64 digits"), tuple(compact),
                             f"mpmath at {dps} digits, no sampling."),
                       "dimension-limit cells: abar = 1 exactly (mean-field objective, no target draws): "
                       "Ltilde* = c_d - c_d^2 q_M at the ETF with its optimal beta; the limit replaces c_d by mu_0^2")


# -- finite-n-precision ---------------------------------------------------------------------------------
def precision_content(records: Sequence[CellRecord]) -> KindContent:
    """float64 against arb: L_N at a rotated ETF, and L_N differences along the flat orientation direction."""
    recs = sorted(records, key=lambda r: (r.result["N"], r.result["d"]))
    rows, compact = [], []
    for rec in recs:
        r = rec.result
        bits = r["prec_bits"]
        bound = r["loss_float64_bound"]
        rows.append((str(r["N"]), str(r["d"]), "L_N at a rotated ETF",
                     loss_text(r["loss_arb"], r["loss_arb_radius"], digits=15),
                     loss_text(r["loss_float64"], bound, digits=15), f"{r['loss_digits']:.1f}",
                     f"bias/N {num(r['bias_effect'], 3)}", num(r["bias_effect"] / bound, 3), rec.cell_id))
        compact.append((str(r["N"]), "L_N", f"{r['loss_digits']:.1f}", num(r["bias_effect"] / bound, 3)))
        for o in r["orientation"]:
            q = f"L_N(R_eps V) - L_N(V), eps = {o['epsilon']:g}"
            rows.append((str(r["N"]), str(r["d"]), q, f"{o['delta_arb']:.6g} +- {o['delta_arb_radius']:.2g}",
                         f"{o['delta_float64']:.6g} +- {o['float64_bound']:.2g}", f"{o['float64_digits']:.1f}",
                         f"{abs(o['delta_arb']):.3g}", num(o["effect_to_bound"], 3), rec.cell_id))
            compact.append((str(r["N"]), f"Delta, eps = {o['epsilon']:g}", f"{o['float64_digits']:.1f}",
                            num(o["effect_to_bound"], 3)))
    table = Table(
        "float64 against arb ball arithmetic",
        ("N", "d", "quantity", f"arb ({_constant(recs, 'prec_bits')} bits): midpoint +- radius",
         "float64 +- rounding bound", "float64 digits", "effect to resolve", "effect / float64 bound", "cell"),
        tuple(rows),
        "float64 digits: significant digits of the float64 value that agree with the arb midpoint (16 = identical). "
        "Effect: for L_N, the finite-N bias/N at this frame (theory.finite_n), the size of what a finite-N "
        "comparison must resolve; for a difference along the flat orientation direction (a rotation by eps "
        "in one coordinate plane, which leaves Ltilde unchanged), its arb value. effect / bound < 1: float64 "
        "cannot resolve it. A loss within its bound of 0 prints as 0.")
    para = (f"Law {_constant(recs, 'law')}, activation {_constant(recs, 'activation')}, M = {_constant(recs, 'M')}. "
            "One target draw per cell; the student is a randomly rotated ETF with its Ltilde-optimal beta.")
    return KindContent(KIND_PRECISION, (Section(SECTION_TITLES[KIND_PRECISION], (para,), (table,)),), (),
                       Table("Where float64 loses the effect", ("N", "quantity", "float64 digits", "effect / bound"),
                             tuple(compact), "effect / bound < 1: below the float64 rounding bound."),
                       _target_normalisation(recs))


# -- loss-consistency ------------------------------------------------------------------------------------
def consistency_content(records: Sequence[CellRecord]) -> KindContent:
    """Per instance: exact float64 L_N against its arb enclosure and a Monte Carlo estimate."""
    rows, compact = [], []
    for rec in records:
        r = rec.result
        for row in r["rows"]:
            rows.append((str(r["d"]), str(r["N"]), str(r["M"]), row["activation"],
                         loss_text(row["exact"], row["rounding_bound"], digits=12),
                         loss_text(row["arb"], row["arb_radius"], digits=12), f"{row['float_minus_arb']:.2g}",
                         "yes" if row["within_bound"] else "NO",
                         f"{row['mc']:.6g} +- {row['mc_se']:.2g} ({r['mc_samples']} samples)", f"{row['z']:+.2f}",
                         rec.cell_id))
            compact.append((row["activation"], loss_text(row["exact"], row["rounding_bound"], digits=10),
                            f"{row['float_minus_arb']:.2g}", f"{row['z']:+.2f}"))
    table = Table(
        "Exact L_N: float64, arb enclosure and Monte Carlo",
        ("d", "N", "M", "activation", "float64 +- rounding bound", "arb: midpoint +- radius", "float64 - arb",
         "within bounds", "Monte Carlo +- se", "z", "cell"),
        tuple(rows),
        "float64: numerics.population_loss with its a-priori rounding bound; arb: numerics.interval_loss "
        "(a certified enclosure); within bounds: |float64 - arb| <= rounding bound + radius. Monte Carlo: "
        "mean of (f_N - g)^2 over x ~ N(0, I_d) with its standard error; z = (MC - float64) / se (|z| < 4 "
        "expected). A loss within its bound of 0 prints as 0.")
    para = "One random instance per activation and cell, three independent evaluations of the same loss."
    section = Section(SECTION_TITLES[KIND_CONSISTENCY], (para,), (table,))
    return KindContent(KIND_CONSISTENCY, (section,),
                       (), Table("Loss consistency: float64 against arb and Monte Carlo",
                                 ("activation", "float64 L_N", "float64 - arb", "MC z"), tuple(compact),
                                 "|z| < 4 expected; float64 - arb within the stated bounds."),
                       "loss-consistency cells: a random instance, a_i ~ N(0, 1), w_i ~ N(0, I_d/d), "
                       "b_j ~ N(0, 1/M^2), "
                       "v_j ~ N(0, I_d/d) (not unit vectors, not the profile's law); L_N at that scale")


register_report_kind(KIND_CONSISTENCY, consistency_content)
register_report_kind(KIND_MOMENTS, moments_content)
register_report_kind(KIND_MINIMUM, minimum_content)
register_report_kind(KIND_DIMENSION, dimension_content)
register_report_kind(KIND_PRECISION, precision_content)

"""Predicted E[G_N] against the measured mean gain of the finite-N minimum (issue 12; not part of the test suite).

    python benchmarks/bench_finite_n_gain.py [--draws 30,20,12,30] [--cheap 1000] [--selection 12] [--starts 2] [--seed 12] [--json out.json]

Target: a_i = 1, w_i ~ N(0, I/d), ReLU. For each (d, N, M) of the issue -- (16, 1000, 5), (32, 1000, 5),
(16, 4000, 5), (16, 1000, 3) -- R target draws, each with

* G_N = Ltilde_N* - min L_N (numerics.finite_minimum: BFGS + Newton polish from ``starts`` Haar-rotated ETFs; the
  largest final gradient norm is printed), and G_N^pop (population abar);
* the per-draw predictors: P2 = degree-2 term on the draw's S_N (theory.finite_n_gain.per_draw_gain) and
  P = exact first order + second order of the draw's own field at the ETF on S_N's top eigenspace, averaged over
  8 Haar orientations in it;
* the best rigid ETF (numerics.rigid_etf, from the top eigenspace): the first-order problem solved exactly on the draw,
  so that full - rigid is the deformation gain;
* the minimiser's motion (numerics.minimiser_motion).

Plus ``cheap`` further draws on which only the per-draw predictors are evaluated (no minimisation: ~0.02 s a
draw). Since P follows G_N to r ~ 0.9999, E[G_N] = E[P] + E[G_N - P] is estimated two-phase: mean of P over the
cheap draws plus the mean of G_N - P over the minimised ones, a CI several times narrower than the raw mean's.

The prediction (theory.finite_n_gain) includes its orientation-selection term, from ``selection`` simulated targets.
Printed: the prediction and its terms, the measured means with 95% CIs, the ratio measured / predicted with its CI
(the prediction's own Monte Carlo error is added in quadrature) raw, with P2 as control variate and two-phase, and
the correlation of each per-draw predictor with G_N across draws (95% CI by Fisher's z).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

# One core: BLAS on one thread (the products are N x d by d x M; threads only contend on a shared machine).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

CASES = ((16, 1000, 5), (32, 1000, 5), (16, 4000, 5), (16, 1000, 3))
Z95 = 1.959963984540054


def _mean_ci(x) -> dict:
    x = np.asarray(x, dtype=float)
    m, se = float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(x.size))
    return {"mean": m, "se": se, "ci95": [m - Z95 * se, m + Z95 * se]}


def _ratio(est: dict, pred: float, pred_se: float) -> dict:
    r = est["mean"] / pred
    se = abs(r) * math.hypot(est["se"] / est["mean"], pred_se / pred)
    return {"ratio": r, "se": se, "ci95": [r - Z95 * se, r + Z95 * se], "contains_1": r - Z95 * se <= 1 <= r + Z95 * se}


def _corr(x, y) -> dict:
    r = float(np.corrcoef(x, y)[0, 1])
    if len(x) < 5:
        return {"r": r, "ci95": [math.nan, math.nan]}
    z, s = math.atanh(r), 1 / math.sqrt(len(x) - 3)
    return {"r": r, "ci95": [math.tanh(z - Z95 * s), math.tanh(z + Z95 * s)]}


def run_case(d: int, N: int, M: int, draws: int, starts: int, seed: int, cheap: int, selection: int) -> dict:
    from numerics.finite_minimum import minimise_finite_loss
    from numerics.minimiser_motion import minimiser_motion
    from numerics.population_loss import prepare_target
    from numerics.rigid_etf import best_rigid_etf
    from theory.finite_n_gain import finite_n_gain, haar_orientations, per_draw_gain

    t0 = time.perf_counter()
    pred = finite_n_gain("relu", d, M, N, seed=seed, selection_samples=selection)
    t_pred = time.perf_counter() - t0
    s = pred.setup
    rng = np.random.default_rng(seed + 1)
    rows = []
    for _ in range(draws):
        W = rng.standard_normal((N, d)) / math.sqrt(d)
        target = prepare_target(np.ones(N), W, "relu")
        abar_n = float(target.alpha.mean())
        lt_n = target.self_term - abar_n**2 * s.c_d**2 * s.q
        lt_pop = target.self_term - s.abar**2 * s.c_d**2 * s.q
        p = per_draw_gain(target.alpha, target.units, M, orientations=haar_orientations(M - 1, 8, rng))
        best = minimise_finite_loss(target, M, rng, starts=starts)
        rigid = best_rigid_etf(target, M, rng, starts=starts, initial_basis=p.eigenvectors)
        motion = minimiser_motion(best.frame, p.eigenvectors)
        rows.append({"G": lt_n - best.value, "G_pop": lt_pop - best.value, "P2": p.degree_two, "P": p.total,
                     "rigid": lt_n - rigid.value, "deformation": motion.deformation, "gram": motion.gram_distance,
                     "span": motion.span_alignment, "grad": max(best.gradient_norms), "abar_n": abar_n,
                     "bfgs_grad": max(best.bfgs_gradient_norms), "rigid_grad": rigid.gradient_norm})
    col = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    cheap_rng = np.random.default_rng(seed + 2)
    cheap_p, cheap_p2 = [], []
    for _ in range(cheap):
        W = cheap_rng.standard_normal((N, d)) / math.sqrt(d)
        norms = np.linalg.norm(W, axis=1)
        p = per_draw_gain(norms, W / norms[:, None], M, orientations=haar_orientations(M - 1, 8, cheap_rng))
        cheap_p.append(p.total), cheap_p2.append(p.degree_two)
    cheap_p, cheap_p2 = np.array(cheap_p), np.array(cheap_p2)
    terms = {t.name: t.value for t in pred.terms}
    deg2 = terms["leading, degree 2, GOE limit"] + terms["finite-N law of S_N (degree 2)"]
    yb = terms["beta re-optimisation, degree 2"] + terms["beta re-optimisation, other degrees"]
    yd = terms["deformation, degree 2"] + terms["deformation, other degrees"]
    corr = terms["finite-N correlation of the field with S_N's top eigenspace"]
    sel = terms.get("orientation inside the span (selection)", 0.0)
    G = _mean_ci(col["G"])
    cv = _mean_ci(col["G"] - col["P2"])
    cv_est = {"mean": cv["mean"] + deg2, "se": cv["se"]}
    resid = _mean_ci(col["G"] - col["P"])
    p_cheap = _mean_ci(cheap_p)
    two_phase = {"mean": p_cheap["mean"] + resid["mean"], "se": math.hypot(p_cheap["se"], resid["se"])}
    haar_rms = math.sqrt((M - 1) * (d - M + 1) / d)
    return {
        "d": d, "N": N, "M": M, "draws": draws, "starts": starts, "seed": seed,
        "prediction": pred.as_dict(), "prediction_seconds": t_pred,
        "measured_G": G, "ratio": _ratio(G, pred.total, pred.total_se),
        "ratio_leading_only": _ratio(G, pred.leading_term, pred.terms[0].se),
        "ratio_control_variate": _ratio(cv_est, pred.total, pred.total_se),
        "cheap_draws": cheap, "two_phase_G": two_phase, "ratio_two_phase": _ratio(two_phase, pred.total, pred.total_se),
        "cheap_second_order": {"measured": _mean_ci(cheap_p - cheap_p2), "predicted": yb + yd + corr},
        "cheap_degree_two": {"measured": _mean_ci(cheap_p2), "predicted": deg2},
        "measured_G_pop": _mean_ci(col["G_pop"]),
        "ratio_pop": _ratio(_mean_ci(col["G_pop"]), pred.total + pred.population_shift, pred.total_se),
        "sd_G": float(np.std(col["G"], ddof=1)), "sd_G_pop": float(np.std(col["G_pop"], ddof=1)),
        "decomposition": {
            "P2 (degree 2 on S_N)": {"measured": _mean_ci(col["P2"]), "predicted": deg2},
            "rigid - P2 (beta + higher degrees + orientation)": {"measured": _mean_ci(col["rigid"] - col["P2"]),
                                                                "predicted": yb},
            "full - rigid (deformation)": {"measured": _mean_ci(col["G"] - col["rigid"]), "predicted": yd},
            "G - P (orientation selection)": {"measured": _mean_ci(col["G"] - col["P"]), "predicted": sel},
        },
        "correlation_P2": _corr(col["P2"], col["G"]), "correlation_P": _corr(col["P"], col["G"]),
        "rms_deformation": {"measured": float(np.sqrt(np.mean(col["deformation"] ** 2))),
                            "predicted": pred.deformation_rms},
        "rms_gram": {"measured": float(np.sqrt(np.mean(col["gram"] ** 2))), "predicted": pred.gram_rms},
        "span_distance": {"mean": float(np.mean(col["span"])), "haar_rms": haar_rms},
        "max_gradient_norm": float(col["grad"].max()), "max_bfgs_gradient_norm": float(col["bfgs_grad"].max()),
        "max_rigid_gradient_norm": float(col["rigid_grad"].max()),
        "abar_n_z": float((col["abar_n"].mean() - s.abar) / (math.sqrt(s.alpha_sq - s.abar**2) / math.sqrt(N * draws))),
        "rows": rows,
        "seconds": time.perf_counter() - t0,
    }


def _print(r: dict) -> None:
    p = r["prediction"]
    g, ra, cv = r["measured_G"], r["ratio"], r["ratio_control_variate"]
    print(f"\n(d, N, M) = ({r['d']}, {r['N']}, {r['M']}), {r['draws']} draws x {r['starts']} starts, "
          f"{r['seconds']:.0f} s (prediction {r['prediction_seconds']:.1f} s)")
    print(f"  predicted E[G_N] = {p['predicted_mean_gain']:.5e} +- {p['predicted_mean_gain_se']:.1e}  "
          f"(A = {p['leading_constant_A']:.5f}; leading term {p['leading_term']:.5e})")
    for t in p["terms"]:
        print(f"      {t['name']:<38} {t['value']:+.4e}")
    print(f"  measured mean G_N = {g['mean']:.5e} (95% CI {g['ci95'][0]:.5e}..{g['ci95'][1]:.5e}), sd {r['sd_G']:.2e}")
    print(f"  ratio measured/predicted = {ra['ratio']:.4f} (95% CI {ra['ci95'][0]:.4f}..{ra['ci95'][1]:.4f}) "
          f"contains 1: {ra['contains_1']};  leading term only: {r['ratio_leading_only']['ratio']:.4f}")
    print(f"  with P2 as control variate: {cv['ratio']:.4f} (95% CI {cv['ci95'][0]:.4f}..{cv['ci95'][1]:.4f})")
    tp = r["ratio_two_phase"]
    print(f"  two-phase (E[P] over {r['cheap_draws']} cheap draws + mean G - P): {r['two_phase_G']['mean']:.5e}, "
          f"ratio {tp['ratio']:.4f} (95% CI {tp['ci95'][0]:.4f}..{tp['ci95'][1]:.4f}) contains 1: {tp['contains_1']}")
    for name in ("cheap_degree_two", "cheap_second_order"):
        m = r[name]["measured"]
        print(f"      {name.replace('cheap_', 'cheap draws, ').replace('_', ' '):<50} measured {m['mean']:+.4e} "
              f"+- {1.96 * m['se']:.1e}   predicted {r[name]['predicted']:+.4e}")
    rp = r["ratio_pop"]
    print(f"  population abar: ratio {rp['ratio']:.4f} (95% CI {rp['ci95'][0]:.4f}..{rp['ci95'][1]:.4f}), "
          f"sd {r['sd_G_pop']:.2e} vs {r['sd_G']:.2e} with abar_N; mean abar_N - abar = {r['abar_n_z']:+.2f} s.e.")
    for name, v in r["decomposition"].items():
        m = v["measured"]
        print(f"      {name:<50} measured {m['mean']:+.3e} +- {1.96 * m['se']:.1e}   predicted {v['predicted']:+.3e}")
    c2, c = r["correlation_P2"], r["correlation_P"]
    print(f"  correlation with G_N across draws: P2 r = {c2['r']:.3f} ({c2['ci95'][0]:.3f}..{c2['ci95'][1]:.3f}), "
          f"P r = {c['r']:.3f} ({c['ci95'][0]:.3f}..{c['ci95'][1]:.3f})")
    print(f"  motion: rms deformation {r['rms_deformation']['measured']:.4f} (pred {r['rms_deformation']['predicted']:.4f}), "
          f"rms ||G - G_ETF|| {r['rms_gram']['measured']:.4f} (pred {r['rms_gram']['predicted']:.4f}), span distance "
          f"to top eigenspace {r['span_distance']['mean']:.3f} (Haar {r['span_distance']['haar_rms']:.3f})")
    print(f"  max final gradient norm {r['max_gradient_norm']:.1e} (BFGS alone {r['max_bfgs_gradient_norm']:.1e}; "
          f"rigid {r['max_rigid_gradient_norm']:.1e})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", default="30,20,12,30", help="draws per case, in the order of CASES")
    ap.add_argument("--starts", type=int, default=2)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--cheap", type=int, default=1000, help="draws with the per-draw predictors only, per case")
    ap.add_argument("--selection", type=int, default=12,
                    help="simulated targets for the prediction's orientation-selection term (~2-8 s each)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    args = ap.parse_args()
    draws = [int(x) for x in args.draws.split(",")]
    out = []
    for (d, N, M), R in zip(CASES, draws):
        if R < 2:
            continue
        r = run_case(d, N, M, R, args.starts, args.seed, args.cheap, args.selection)
        _print(r)
        out.append(r)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()

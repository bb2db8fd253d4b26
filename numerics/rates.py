"""Sweep cells for the rate checks: pure top-level functions ``cell(params, seed) -> dict`` (JSON-able).

Three kinds (registered with ``numerics.evidence.sweep.register_cell_kind`` at import):

* ``finite-n-moments``: R target draws at one (law, activation, d, N, M); for each draw the exact L_N at
  two fixed thetas, the ETF (balanced, sum_j beta_j v^_j = 0) and an unbalanced orthonormal frame
  (v^_j = e_j), both with the Ltilde-optimal beta.  Returns Y = L_N - Ltilde per draw and the control
  variate Z = -(2/N) sum_i (D_i - E D), D = alpha (g(w^) - abar c_d), whose mean is exactly 0 under
  isotropy, so mean(Y - Z) estimates the bias with the O(N^-1/2) first-order noise removed; Var Y is
  compared with theory.finite_n's exact variance.
* ``finite-n-minimum``: R draws; min over theta of L_N (numerics.finite_minimum), the gain G_N against
  theory.finite_n_gain's prediction, per-draw predictors, and the minimiser's motion (rotation and deformation,
  numerics.minimiser_motion) against its predicted size.
* ``dimension-limit``: Ltilde_d* - Ltilde_inf* at the ETF (abar = 1) in mpmath, against the first-order
  prediction (1 - 2 mu_0^2 q_M) mu_2^2 / d (c_d = mu_0^2 + mu_2^2 / d + O(d^-2), q_M = 1^T K^-1 1), and
  the same difference in float64 (digits that survive the cancellation).

Plus ``finite-n-precision``: float64 against arb for the loss and for a loss difference along the flat
orientation direction (where float64 loses the effect).

References: docs/model.md §4-5; theory.finite_n (predictions).

Examples
--------
>>> r = dimension_cell({"activation": "relu", "M": 3, "d": 64, "dps": 30}, 0)
>>> 0.9 < r["ratio"] < 1.1
True
"""

from __future__ import annotations

import math
import time

import mpmath
import numpy as np
from flint import arb, ctx
from scipy.special import gammaln

from numerics.finite_minimum import haar_rotation, minimise_finite_loss
from numerics.interval_loss import certified_loss_ball, certified_population_loss
from numerics.monte_carlo import monte_carlo_population_loss
from numerics.networks import NetworkPair
from numerics.population_loss import prepare_target
from numerics.evidence.sweep import register_cell_kind
from theory.activations import get_activation
from theory.errors import InputError
from theory.etf import check_neurons_dim, simplex_etf
from theory.finite_n import finite_n_constants
from theory.kernels import dual_kernel
from theory.objective import ltilde, optimal_beta
from theory.regimes import regime_summary, sphere_average_value
from theory.sphere import sphere_average_mp
from theory.target_laws import get_law

KIND_MOMENTS = "finite-n-moments"
KIND_MINIMUM = "finite-n-minimum"
KIND_DIMENSION = "dimension-limit"
KIND_PRECISION = "finite-n-precision"
KIND_CONSISTENCY = "loss-consistency"
# Gradient tolerance of the gap search: a stationary-point residual g moves the value by ~ g^2 / curvature,
# about 1e-14 here, far below the gaps (>= 1e-4) being measured.
GAP_GTOL = 1e-8
# The quadrature cross-check of c_d (independent of the closed form) runs for d up to this.
QUADRATURE_MAX_DIM = 64


def _int(params: dict, key: str, low: int, high: int = 10**13) -> int:
    v = params.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise InputError(key, f"expected an integer in [{low}, {high}]", got=v)
    return v


def fixed_thetas(M: int, d: int, summary) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The two frames of the moments check with their Ltilde-optimal beta: 'etf' and 'unbalanced' (e_1..e_M)."""
    check_neurons_dim(M, d)
    frames = {"etf": simplex_etf(M, d)}
    if M <= d:
        frames["unbalanced"] = np.eye(M, d)
    return {name: (np.asarray(optimal_beta(V, summary)), V) for name, V in frames.items()}


def moments_cell(params: dict, seed: int) -> dict:
    """R draws of L_N - Ltilde at the ETF and an unbalanced frame, with control variates and predictions."""
    law = get_law(params.get("law", "gaussian"))
    act = get_activation(params.get("activation", "relu"))
    d, N, M, R = _int(params, "d", 1), _int(params, "N", 1), _int(params, "M", 1), _int(params, "draws", 2)
    summary = regime_summary("I", act, d, law=law.name)
    abar, c_d = float(summary.abar), float(summary.sphere_avg)
    thetas = fixed_thetas(M, d, summary)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    out: dict = {"law": law.name, "activation": act.name, "d": d, "N": N, "M": M, "draws": R, "frames": {}}
    per = {name: {"Y": [], "Z": []} for name in thetas}
    ltil = {name: float(ltilde(beta, V, summary)) for name, (beta, V) in thetas.items()}
    for _ in range(R):
        a, W = law.sample(N, d, rng)
        target = prepare_target(a, W, act)
        for name, (beta, V) in thetas.items():
            loss = target.loss(beta, V).value  # unit frames: b = beta
            g = target.cross_kernel(V) @ beta
            D = target.alpha * (g - abar * c_d)
            mean_D = abar * c_d * (float(np.sum(beta)) - abar)
            per[name]["Y"].append(loss - ltil[name])
            per[name]["Z"].append(-2.0 * float(np.mean(D - mean_D)))
    for name, (beta, V) in thetas.items():
        k = finite_n_constants(beta, V, act, d, law.name)
        out["frames"][name] = {
            "beta": beta.tolist(), "ltilde": ltil[name], "Y": per[name]["Y"], "Z": per[name]["Z"],
            "balance": float(np.linalg.norm(beta @ V)),
            "predicted": {"bias_coefficient": k.bias_coefficient, "variance_first": k.variance_first,
                          "variance_second": k.variance_second, "variance_third": k.variance_third,
                          "bias": k.bias(N), "variance": k.variance(N), "source": k.source},
        }
    out["seconds"] = time.perf_counter() - t0
    return out


# Orientations averaged over per draw by the second-order per-draw predictor (theory.finite_n_gain.per_draw_gain).
PER_DRAW_ORIENTATIONS = 4


def _prediction_sizes(params: dict) -> dict:
    sizes = params.get("prediction", {})
    if not isinstance(sizes, dict) or set(sizes) - {"goe", "targets", "sphere"}:
        raise InputError("prediction", "expected a dict with goe, targets, sphere (Monte Carlo sizes)", got=sizes)
    return {"goe_samples": _int(sizes, "goe", 2, 10**6) if "goe" in sizes else None,
            "target_samples": _int(sizes, "targets", 2, 10**5) if "targets" in sizes else None,
            "sphere_samples": _int(sizes, "sphere", 2, 10**7) if "sphere" in sizes else 200_000}


def minimum_cell(params: dict, seed: int) -> dict:
    """R draws of min_theta L_N: the gain G_N against theory.finite_n_gain, per-draw predictors, the minimiser's motion.

    Per draw: G_N = Ltilde_N* - min L_N (abar_N) and G_N^pop (population abar), the per-draw predictors (degree 2
    on S_N; first + second order of the draw's field at the ETF on S_N's top eigenspace, averaged over
    PER_DRAW_ORIENTATIONS Haar orientations in it), the minimiser's deformation, Gram distance and span distance to
    S_N's top eigenspace (numerics.minimiser_motion), every start's gradient norm after BFGS and after the Newton
    polish; and, as before, min L_N - Ltilde* and L_N at a rotated ETF. The cell's prediction is computed once.
    """
    from numerics.minimiser_motion import minimiser_motion
    from theory.finite_n_gain import finite_n_gain, haar_orientations, per_draw_gain

    law = get_law(params.get("law", "gaussian"))
    act = get_activation(params.get("activation", "relu"))
    d, N, M, R = _int(params, "d", 1), _int(params, "N", 1), _int(params, "M", 2), _int(params, "draws", 1)
    starts = _int(params, "starts", 1, 100) if "starts" in params else 3
    sizes = _prediction_sizes(params)
    summary = regime_summary("I", act, d, law=law.name)
    etf = simplex_etf(M, d)
    beta_star = np.asarray(optimal_beta(etf, summary))
    l_star = float(ltilde(beta_star, etf, summary))
    bias = finite_n_constants(beta_star, etf, act, d, law.name).bias(N)
    t0 = time.perf_counter()
    pred = finite_n_gain(act, d, M, N, law=law.name, seed=seed, **sizes)
    s = pred.setup
    rng = np.random.default_rng(seed)
    rows = {"gap": [], "gap_after_bias": [], "etf_gap": [], "gram_distance": [], "beta_distance": [], "converged": [],
            "gradient_norm": [], "gain": [], "gain_population": [], "per_draw_degree_two": [], "per_draw": [],
            "deformation": [], "span_distance": [], "start_gradient_norms": [], "bfgs_gradient_norms": []}
    for _ in range(R):
        a, W = law.sample(N, d, rng)
        target = prepare_target(a, W, act)
        best = minimise_finite_loss(target, M, rng, starts=starts, gtol=GAP_GTOL)
        at_etf = target.loss(beta_star, etf @ haar_rotation(d, rng).T).value
        abar_n = float(np.mean(target.alpha))
        p = per_draw_gain(target.alpha, target.units, M, act, law=law.name,
                          orientations=haar_orientations(M - 1, PER_DRAW_ORIENTATIONS, rng))
        motion = minimiser_motion(best.frame, p.eigenvectors)
        rows["gain"].append(target.self_term - abar_n**2 * s.c_d**2 * s.q - best.value)
        rows["gain_population"].append(target.self_term - s.abar**2 * s.c_d**2 * s.q - best.value)
        rows["per_draw_degree_two"].append(p.degree_two)
        rows["per_draw"].append(p.total)
        rows["deformation"].append(motion.deformation)
        rows["span_distance"].append(motion.span_alignment)
        rows["gap"].append(best.value - l_star)
        rows["gap_after_bias"].append(best.value - (l_star + bias))
        rows["etf_gap"].append(at_etf - l_star)
        rows["gram_distance"].append(motion.gram_distance)
        rows["beta_distance"].append(float(np.linalg.norm(np.sort(best.beta) - np.sort(beta_star))))
        rows["converged"].append(bool(best.converged))
        rows["gradient_norm"].append(best.gradient_norm)
        rows["start_gradient_norms"].append(list(best.gradient_norms))
        rows["bfgs_gradient_norms"].append(list(best.bfgs_gradient_norms))
    return {"law": law.name, "activation": act.name, "d": d, "N": N, "M": M, "draws": R, "starts": starts,
            "ltilde_star": l_star, "bias": bias, "beta_star": beta_star.tolist(), **rows,
            "prediction": pred.as_dict(), "haar_span_distance": math.sqrt((M - 1) * (d - M + 1) / d),
            "seconds": time.perf_counter() - t0}


def relu_sphere_average_float64(d: int) -> float:
    """c_d = d Gamma(d/2)^2 / (4 pi Gamma((d+1)/2)^2) evaluated naively in float64 via log-gamma."""
    return d * math.exp(2.0 * (gammaln(d / 2.0) - gammaln((d + 1) / 2.0))) / (4.0 * math.pi)


def _sphere_average_high(act, d: int, dps: int):
    """c_d in mpmath: log-gamma closed form with log10(d) guard digits for ReLU, theory's closed form otherwise."""
    if act.name != "relu":
        return sphere_average_value(act, d, dps)
    guard = int(math.log10(d)) + 10
    with mpmath.workdps(dps + guard):
        half = mpmath.mpf(d) / 2
        ratio = mpmath.exp(mpmath.loggamma(half) - mpmath.loggamma(half + mpmath.mpf(1) / 2))
        value = d * ratio**2 / (4 * mpmath.pi)
    with mpmath.workdps(dps):
        return +value


def dimension_cell(params: dict, seed: int) -> dict:
    """Ltilde_d* - Ltilde_inf* at the ETF (abar = 1), mpmath and float64, vs mu_2^2 (1 - 2 mu_0^2 q) / d."""
    act = get_activation(params.get("activation", "relu"))
    M, d = _int(params, "M", 2), _int(params, "d", 1)
    dps = _int(params, "dps", 15, 200) if "dps" in params else 40
    check_neurons_dim(M, d)
    kern = dual_kernel(act)
    with mpmath.workdps(dps + 10):
        mu0 = mpmath.mpf(act.hermite_coefficient(0).evalf(dps + 20)) ** 2
        mu2 = mpmath.mpf(act.hermite_coefficient(2).evalf(dps + 20)) ** 2
        k1 = kern.mp(1, dps + 10)
        q = M / (k1 + (M - 1) * kern.mp(mpmath.mpf(-1) / (M - 1), dps + 10))
        c_d = _sphere_average_high(act, d, dps + 10)
        value = lambda c: c - c * c * q  # noqa: E731 - Ltilde* at the ETF with abar = 1
        diff = value(c_d) - value(mu0)
        predicted = (1 - 2 * mu0 * q) * mu2 / d
        quad = None
        if d <= QUADRATURE_MAX_DIM:
            quad = sphere_average_mp(act, d, dps=min(dps, 30))
            quad_digits = float(-mpmath.log10(abs(quad - c_d) / c_d + mpmath.mpf(10) ** (-min(dps, 30))))
        ratio = diff / predicted
    if act.name == "relu":
        c64 = relu_sphere_average_float64(d)
    else:
        c64 = float(c_d)  # no separate float64 route for other activations: the float64 digit check is ReLU-only
    q64, mu0_64 = float(q), float(mu0)
    diff64 = (c64 - c64 * c64 * q64) - (mu0_64 - mu0_64 * mu0_64 * q64)
    err = abs(diff64 - float(diff))
    digits = 16.0 if err == 0 else max(0.0, -math.log10(err / abs(float(diff))))
    return {"activation": act.name, "M": M, "d": d, "dps": dps, "q_M": float(q), "c_d": mpmath.nstr(c_d, dps),
            "difference": mpmath.nstr(diff, 25), "difference_float": float(diff),
            "predicted": float(predicted), "ratio": float(ratio), "d_times_difference": float(diff * d),
            "float64_difference": diff64, "float64_digits": digits,
            "quadrature_digits": quad_digits if quad is not None else None}


def precision_cell(params: dict, seed: int) -> dict:
    """float64 vs arb: L_N at the ETF and Delta = L_N(R_eps V) - L_N(V) along the flat orientation direction."""
    law = get_law(params.get("law", "gaussian"))
    act = get_activation(params.get("activation", "relu"))
    d, N, M = _int(params, "d", 2), _int(params, "N", 1, 2000), _int(params, "M", 2)
    eps_list = params.get("epsilons", [1e-4, 1e-8, 1e-12])
    prec = _int(params, "prec_bits", 64, 2048) if "prec_bits" in params else 192
    rng = np.random.default_rng(seed)
    a, W = law.sample(N, d, rng)
    summary = regime_summary("I", act, d, law=law.name)
    V = simplex_etf(M, d) @ haar_rotation(d, rng).T
    beta = np.asarray(optimal_beta(V, summary))
    target = prepare_target(a, W, act)
    base64 = target.loss(beta, V)
    base_ball = certified_loss_ball(NetworkPair.from_arrays(a, W, beta, V, act), prec)
    rows = []
    # rotation by angle eps in the plane of the first two coordinates
    for eps in eps_list:
        rot = np.eye(d)
        c, s = math.cos(eps), math.sin(eps)
        rot[:2, :2] = [[c, -s], [s, c]]
        V2 = V @ rot.T
        moved64 = target.loss(beta, V2)
        ball2 = certified_loss_ball(NetworkPair.from_arrays(a, W, beta, V2, act), prec)
        with ctx.workprec(prec):
            delta = sum(ball2[1:], arb(0)) - sum(base_ball[1:], arb(0))  # the self term cancels exactly
            delta_mid = float(delta.mid())
            radius = float(delta.rad())
        delta64 = moved64.value - base64.value
        err = abs(delta64 - delta_mid)
        digits = 16.0 if err == 0 else max(0.0, -math.log10(err / abs(delta_mid))) if delta_mid != 0 else 0.0
        rows.append({"epsilon": eps, "delta_arb": delta_mid, "delta_arb_radius": radius, "delta_float64": delta64,
                     "float64_digits": digits, "float64_bound": moved64.error_bound + base64.error_bound,
                     "effect_to_bound": abs(delta_mid) / (moved64.error_bound + base64.error_bound)})
    with ctx.workprec(prec):
        total = sum(base_ball, arb(0))
        loss_mid, loss_rad = float(total.mid()), float(total.rad())
    err = abs(base64.value - loss_mid)
    return {"law": law.name, "activation": act.name, "d": d, "N": N, "M": M, "prec_bits": prec,
            "loss_float64": base64.value, "loss_arb": loss_mid, "loss_arb_radius": loss_rad,
            "loss_float64_bound": base64.error_bound, "loss_abs_error": err,
            "loss_digits": 16.0 if err == 0 else -math.log10(err / abs(loss_mid)),
            "bias_effect": float(finite_n_constants(beta, V, act, d, law.name).bias(N)),
            "orientation": rows}


def consistency_cell(params: dict, seed: int) -> dict:
    """One random instance per activation: float64 exact vs arb enclosure vs Monte Carlo (z-score)."""
    names = params.get("activations", ["relu"])
    if not isinstance(names, list) or not names:
        raise InputError("activations", "expected a non-empty list of activation names", got=names)
    d, N, M = _int(params, "d", 1), _int(params, "N", 1, 2000), _int(params, "M", 1)
    samples = _int(params, "mc_samples", 2)
    rng = np.random.default_rng(seed)
    rows = []
    for name in names:
        act = get_activation(name)
        a = rng.standard_normal(N)
        W = rng.standard_normal((N, d)) / math.sqrt(d)
        b = rng.standard_normal(M) / M
        V = rng.standard_normal((M, d)) / math.sqrt(d)
        exact = prepare_target(a, W, act).loss(b, V)
        ball = certified_population_loss(a, W, b, V, act)
        mc = monte_carlo_population_loss(a, W, b, V, act, n_samples=samples, seed=int(rng.integers(2**31)))
        rows.append({"activation": act.name, "exact": exact.value, "rounding_bound": exact.error_bound,
                     "arb": ball.value, "arb_radius": ball.error_bound, "float_minus_arb": exact.value - ball.value,
                     "within_bound": abs(exact.value - ball.value) <= exact.error_bound + ball.error_bound,
                     "mc": mc.value, "mc_se": mc.error_bound, "z": (mc.value - exact.value) / mc.error_bound})
    return {"d": d, "N": N, "M": M, "mc_samples": samples, "rows": rows}


register_cell_kind(KIND_CONSISTENCY, consistency_cell)
register_cell_kind(KIND_MOMENTS, moments_cell)
register_cell_kind(KIND_MINIMUM, minimum_cell)
register_cell_kind(KIND_DIMENSION, dimension_cell)
register_cell_kind(KIND_PRECISION, precision_cell)

"""Cell ``ntk-memorization``: the least number of neurons m with which a random-feature least-squares fit
reaches relative training error eps, for n points uniform on the sphere S^(d-1).

    params: {"features": "ntk" | "rf", "n": points, "d": dimension, "eps": [errors in (0, 1)],
             "replicate": k (optional)}

Reading of the claim (Bubeck, Eldan, Lee, Mikulincer 2020: "the neural tangent kernel memorises up to error
eps with O((n/d) log(1/eps)) neurons, for well-dispersed data"): the toolkit's proxy is the NTK regression
itself at finite width.  A two-layer ReLU network f(x) = sum_j a_j relu(w_j . x) linearised in its input
weights around a random W has, per neuron j, the d gradient features x * 1[w_j . x > 0] (a_j only scales
them).  With m neurons the model has m d parameters; "memorises to error eps" is read as
||y - Phi_m c||_2 <= eps ||y||_2 for the least-squares c (training error, relative).  Labels y are +-1 at
random.  Control ``rf``: the random-features model relu(w_j . x) (one feature per neuron).

The measurement, per cell (one draw of X, y and M candidate neurons w_j ~ N(0, I_d) from the cell's seed):
1. Phi = [features of neuron 1 | ... | neuron M] (n x M k, k = d or 1), M = ceil(1.25 n / k) + 4.
2. Guess: the residual after each neuron from one Householder QR of Phi (||y||^2 - ||Q_j^T y||^2 with Q_j
   the first j k columns of Q; exact when the leading blocks of R are nonsingular).
3. Decide: m*(eps) = the least m with lstsq(Phi_m, y) relative residual <= eps (numpy lstsq, SVD), found by
   stepping from the guess with independent lstsq solves until lstsq itself says residual(m*) <= eps <
   residual(m* - 1).  The spans are nested, so the residual is non-increasing in m and this is the least m.
   Recorded: m*, the two lstsq residuals, how far the guess was off, ||c|| at m*.

Verdict: 'measured' (every eps reached within M neurons) or 'not-reached'.

Examples
--------
>>> r = ntk_cell({"features": "ntk", "n": 60, "d": 3, "eps": [0.3, 0.05]}, seed=4)
>>> v = r["values"]; r["verdict"], v["m_star"][0] <= v["m_star"][1] <= v["ceil_n_over_d"] + 2
('measured', True)
"""

from __future__ import annotations

import math

import numpy as np

from theory.errors import InputError
from numerics.evidence.sweep import register_cell_kind

KIND = "ntk-memorization"
FEATURES = ("ntk", "rf")
MAX_N, MAX_D, MAX_EPS = 4_000, 200, 16
EPS_MIN = 1e-6
KEYS = {"features", "n", "d", "eps", "replicate"}
# Residuals are float64 least-squares results; m* is an integer (exact).
RESIDUAL_DIGITS = 6


def _check(params: dict) -> tuple[str, int, int, list[float]]:
    if not isinstance(params, dict) or set(params) - KEYS or not {"n", "d", "eps"} <= set(params):
        raise InputError("params", f"expected keys {', '.join(sorted(KEYS))}", got=params)
    feat = params.get("features", "ntk")
    if feat not in FEATURES:
        raise InputError("features", f"expected one of {', '.join(FEATURES)}", got=feat)
    n, d, rep = params["n"], params["d"], params.get("replicate", 0)
    for name, v, lo, hi in (("n", n, 2, MAX_N), ("d", d, 2, MAX_D), ("replicate", rep, 0, 10**6 - 1)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise InputError(name, f"expected an integer from {lo} to {hi}", got=v)
    eps = params["eps"]
    if (not isinstance(eps, list) or not 1 <= len(eps) <= MAX_EPS
            or any(isinstance(e, bool) or not isinstance(e, (int, float)) or not EPS_MIN <= e < 1 for e in eps)):
        raise InputError("eps", f"expected a list of 1 to {MAX_EPS} numbers in [{EPS_MIN:g}, 1)", got=eps)
    return feat, n, d, [float(e) for e in eps]


def sphere_points(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """n points uniform on the unit sphere S^(d-1) (normalised Gaussians)."""
    X = rng.standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def features(X: np.ndarray, W: np.ndarray, kind: str) -> np.ndarray:
    """n x (m k) feature matrix, neuron by neuron: x * 1[w_j . x > 0] (ntk, k = d) or relu(w_j . x) (rf)."""
    Z = X @ W.T  # n x m
    if kind == "rf":
        return np.maximum(Z, 0.0)
    act = (Z > 0).astype(np.float64)
    return (act[:, :, None] * X[:, None, :]).reshape(len(X), -1)


def residual_curve(Phi: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Relative residual after 1..M neurons from one QR (the guess of the module docstring, step 2)."""
    Q, _ = np.linalg.qr(Phi, mode="reduced")
    proj = np.cumsum((Q.T @ y) ** 2)
    M = Phi.shape[1] // k
    cols = np.minimum(np.arange(1, M + 1) * k, Q.shape[1]) - 1
    yy = float(y @ y)
    return np.sqrt(np.maximum(yy - proj[cols], 0.0) / yy)


def lstsq_residual(Phi: np.ndarray, y: np.ndarray, m: int, k: int) -> tuple[float, float]:
    """(relative residual, ||c||) of the least-squares fit with the first m neurons (m = 0: residual 1)."""
    if m == 0:
        return 1.0, 0.0
    c, *_ = np.linalg.lstsq(Phi[:, :m * k], y, rcond=None)
    return float(np.linalg.norm(y - Phi[:, :m * k] @ c) / np.linalg.norm(y)), float(np.linalg.norm(c))


def least_m(Phi: np.ndarray, y: np.ndarray, k: int, eps: float, guess: int) -> dict | None:
    """The least m with lstsq residual <= eps, stepping from ``guess`` (None when M neurons do not reach it)."""
    M = Phi.shape[1] // k
    cache: dict[int, tuple[float, float]] = {}

    def res(m: int) -> tuple[float, float]:
        if m not in cache:
            cache[m] = lstsq_residual(Phi, y, m, k)
        return cache[m]

    m = min(max(guess, 1), M)
    while res(m)[0] > eps:
        if m == M:
            return None
        m += 1
    while m > 1 and res(m - 1)[0] <= eps:
        m -= 1
    return {"m": m, "residual": res(m)[0], "residual_below": res(m - 1)[0], "coef_norm": res(m)[1],
            "lstsq_solves": len(cache), "guess_offset": m - guess}


def ntk_cell(params: dict, seed: int) -> dict:
    """Measure m*(eps) for one draw (see the module docstring)."""
    feat, n, d, eps = _check(params)
    k = d if feat == "ntk" else 1
    M = math.ceil(1.25 * n / k) + 4
    rng = np.random.default_rng(seed)
    X = sphere_points(rng, n, d)
    y = rng.choice([-1.0, 1.0], size=n)
    W = rng.standard_normal((M, d))
    Phi = features(X, W, feat)
    curve = residual_curve(Phi, y, k)
    found = []
    for e in eps:
        guess = int(np.argmax(curve <= e)) + 1 if np.any(curve <= e) else M
        found.append(least_m(Phi, y, k, e, guess))
    reached = all(f is not None for f in found)
    values = {"features": feat, "n": n, "d": d, "eps": eps, "k_per_neuron": k, "candidates": M,
              "ceil_n_over_k": -(-n // k), "ceil_n_over_d": -(-n // d),
              "m_star": [f["m"] if f else None for f in found],
              "residual_at_m": [f["residual"] if f else None for f in found],
              "residual_at_m_minus_1": [f["residual_below"] if f else None for f in found],
              "coef_norm_at_m": [f["coef_norm"] if f else None for f in found],
              "guess_offset": [f["guess_offset"] if f else None for f in found],
              "lstsq_solves": sum(f["lstsq_solves"] for f in found if f)}
    precision = {key: RESIDUAL_DIGITS for key in ("residual_at_m", "residual_at_m_minus_1", "coef_norm_at_m")}
    return {"verdict": "measured" if reached else "not-reached", "values": values, "precision_digits": precision,
            "definition": "m* = least m with ||y - Phi_m c|| <= eps ||y|| (lstsq), y = +-1, x uniform on S^(d-1)",
            "source": "numerics.ntk_scaling (proxy for Bubeck et al. 2020, NTK memorisation)"}


def cells_from_options(opt: dict) -> list[dict]:
    """Cells of ``twolayer claims run ntk-memorization`` from its options (text as typed)."""
    from numerics.claims import MAX_SEEDS
    from theory.cli_args import parse_choices, parse_int, parse_int_set

    feats = parse_choices(opt["features"], "features", FEATURES)
    ns = parse_int_set(opt["n"], "n", lo=2, hi=MAX_N)
    ds = parse_int_set(opt["d"], "d", lo=2, hi=MAX_D)
    seeds = parse_int(opt["seeds"], "seeds", lo=1, hi=MAX_SEEDS)
    eps = _eps_list(opt["eps"])
    return [{"features": f, "n": n, "d": d, "eps": eps, "replicate": r}
            for f in feats for d in ds for n in ns for r in range(seeds)]


def _eps_list(text: object) -> list[float]:
    s = str(text)
    msg = f"expected a comma list of 1 to {MAX_EPS} numbers in [{EPS_MIN:g}, 1)"
    if len(s) > 1000:
        raise InputError("eps", msg, got=text)
    out = []
    for part in s.split(","):
        try:
            v = float(part)
        except ValueError:
            raise InputError("eps", msg, got=text) from None
        if not (math.isfinite(v) and EPS_MIN <= v < 1):
            raise InputError("eps", msg, got=text)
        out.append(v)
    out = sorted(set(out), reverse=True)
    if len(out) > MAX_EPS:
        raise InputError("eps", msg, got=text)
    return out


CELL_FUNCTION = ntk_cell
register_cell_kind(KIND, ntk_cell)

"""Cell ``condensation``: train a d-50-1 network from a small initialisation and count the condensed orientations.

    params: {"activation", "d", "init_scale", "optimizer": "adam" | "gd", "steps", "lr", "replicate"}

Setting (Zhou et al., arXiv:2105.11686): n = 80 points x_k ~ U[-4, 2]^d, target sum_i 3.5 sin(5 x_i + 1),
m = 50 hidden neurons, every parameter N(0, init_scale^2), full-batch training on the MSE
(``numerics.training``).  At 10 evenly spaced checkpoints the input weights (w_j, b_j) are counted with
``numerics.orientations`` (lines and orientations, threshold-free); the count reported is the one held at
most checkpoints (ties: the smaller; its share is ``checkpoint_stability``), compared with 2p, p the
multiplicity (``theory.condensation``); the count at the last step is reported too.  Also measured, at the last checkpoint with the
reported count: the angle between each found line and the predicted one (p = 1:
+-D = sum_k r_k (x_k, 1), r = y - f at initialisation; d = 1: the real roots of the degree-p polynomial; and,
for Adam with p = 1, the line of sign(D), where Adam's first steps go), and the counts along the run.

Verdict: 'within-bound' (orientations <= 2p and lines <= p) or 'exceeds-bound'.

Examples
--------
>>> r = condensation_cell({"activation": "tanh", "d": 2, "init_scale": 0.005, "optimizer": "adam",
...                        "steps": 300, "lr": 1e-4}, seed=0)
>>> r["values"]["p"], r["verdict"] in ("within-bound", "exceeds-bound")
(1, True)
"""

from __future__ import annotations

import math

import numpy as np

from theory.condensation import multiplicity, one_d_roots, p1_direction
from theory.errors import InputError
from theory.smooth_activations import get_smooth_activation
from numerics.evidence.sweep import register_cell_kind
from numerics.orientations import count_orientations, line_angle_degrees
from numerics.training import init_params, train

KIND = "condensation"
N_POINTS, WIDTH = 80, 50
MAX_D, MAX_STEPS = 50, 100_000
OPTIMIZERS = ("adam", "gd")
DEFAULT_LR = {"adam": 1e-4, "gd": 1e-2}
# Floats after thousands of training steps: BLAS summation order may differ between machines.
FLOAT_DIGITS = 6
KEYS = {"activation", "d", "init_scale", "optimizer", "steps", "lr", "replicate", "checkpoint"}
CHECKPOINTS = ("modal", "preactivation")
# checkpoint "preactivation": stop when the largest |w_j . x_k + b_j| reaches this (sigma no longer ~ its
# leading Taylor term); "large" neurons: norm at least LARGE_FRACTION of the largest.
STOP_PREACTIVATION = 1.0
LARGE_FRACTION = 0.1


def _check(params: dict):
    if not isinstance(params, dict) or set(params) - KEYS:
        raise InputError("params", f"expected keys {', '.join(sorted(KEYS))}", got=params)
    act = get_smooth_activation(params.get("activation"))
    d, steps, rep = params.get("d"), params.get("steps", 1000), params.get("replicate", 0)
    for name, v, lo, hi in (("d", d, 1, MAX_D), ("steps", steps, 1, MAX_STEPS), ("replicate", rep, 0, 10**6)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise InputError(name, f"expected an integer from {lo} to {hi}", got=v)
    opt = params.get("optimizer", "adam")
    if opt not in OPTIMIZERS:
        raise InputError("optimizer", f"expected one of {', '.join(OPTIMIZERS)}", got=opt)
    ck = params.get("checkpoint", "modal")
    if ck not in CHECKPOINTS:
        raise InputError("checkpoint", f"expected one of {', '.join(CHECKPOINTS)}", got=ck)
    scale, lr = params.get("init_scale"), params.get("lr", DEFAULT_LR[opt])
    for name, v in (("init_scale", scale), ("lr", lr)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v <= 10:
            raise InputError(name, "expected a number in (0, 10]", got=v)
    return act, d, float(scale), opt, steps, float(lr), ck


def training_data(rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray]:
    """n = 80 points U[-4, 2]^d and the target sum_i 3.5 sin(5 x_i + 1)."""
    X = rng.uniform(-4.0, 2.0, (N_POINTS, d))
    return X, (3.5 * np.sin(5.0 * X + 1.0)).sum(axis=1)


def _angles(found, predicted) -> list[float]:
    return [min(line_angle_degrees(f, q) for q in predicted) for f in found] if predicted else []


def condensation_cell(params: dict, seed: int) -> dict:
    """Train, count and compare (see the module docstring)."""
    act, d, scale, opt, steps, lr, ck = _check(params)
    mult = multiplicity(act.name)
    p = mult.p
    rng = np.random.default_rng(seed)
    X, y = training_data(rng, d)
    p0 = init_params(rng, d, WIDTH, scale)
    run = train(p0, X, y, act, steps=steps, lr=lr, optimizer=opt, record=10,
                stop_preactivation=STOP_PREACTIVATION if ck == "preactivation" else None)
    counts = [count_orientations(q.input_weights()) for q in run.params]
    # the count held at most of the recorded checkpoints after step 0 (ties: the smaller count), or the
    # count at the end of the small pre-activation stage (the last recorded step)
    along = [(c.lines, c.orientations) for c in counts[1:]] or [(counts[0].lines, counts[0].orientations)]
    modal = min(set(along), key=lambda lo: (-along.count(lo), lo))
    if ck == "preactivation":
        at = len(counts) - 1
    else:
        at = max((i for i, c in enumerate(counts) if i > 0 and (c.lines, c.orientations) == modal), default=0)
    last = counts[at]
    V = run.params[at].input_weights()
    norms = np.linalg.norm(V, axis=1)
    large = count_orientations(V[norms >= LARGE_FRACTION * norms.max()])
    f0 = act.value(X @ p0.W.T + p0.b) @ p0.a
    r0 = y - f0
    predicted, sign_pred = [], []
    if p == 1:
        D = p1_direction(X, r0)
        predicted = [D]
        sign_pred = [np.sign(D)]
    elif d == 1:
        predicted = [np.array([s, 1.0]) for s in one_d_roots(X[:, 0], r0, p)]
    angles = _angles(last.line_directions, predicted)
    angles_large = _angles(large.line_directions[:1], predicted)
    theta0, theta1 = p0.input_weights(), run.params[-1].input_weights()
    values = {
        "p": p, "bound_orientations": 2 * p, "lines": last.lines, "orientations": last.orientations,
        "line_stability": last.line_stability, "orientation_stability": last.orientation_stability,
        "checkpoint_stability": along.count(modal) / len(along), "modal_step": run.steps[at],
        "lines_final": counts[-1].lines, "orientations_final": counts[-1].orientations,
        "lines_along_run": [c.lines for c in counts], "orientations_along_run": [c.orientations for c in counts],
        "recorded_steps": list(run.steps),
        "loss_initial": run.losses[0], "loss_final": run.losses[-1],
        "weight_growth": float(np.linalg.norm(theta1) / np.linalg.norm(theta0)),
        "predicted_lines": len(predicted), "checkpoint": ck, "checkpoint_step": run.steps[at],
        "stopped_at_preactivation": ck == "preactivation" and run.steps[-1] < steps,
        "large_neurons": int(np.sum(norms >= LARGE_FRACTION * norms.max())),
        "lines_large": large.lines, "orientations_large": large.orientations,
        "angle_largest_line_large_deg": angles_large[0] if angles_large else None,
        "angle_largest_line_deg": angles[0] if angles else None,
        "angle_max_deg": max(angles) if angles else None,
    }
    if sign_pred and opt == "adam":
        values["angle_largest_line_to_signD_deg"] = _angles(last.line_directions[:1], sign_pred)[0]
    verdict = "within-bound" if last.orientations <= 2 * p and last.lines <= p else "exceeds-bound"
    values["verdict_large"] = ("within-bound" if large.orientations <= 2 * p and large.lines <= p
                               else "exceeds-bound")
    return {"verdict": verdict, "values": values, "precision_digits": FLOAT_DIGITS,
            "multiplicity": {"p": p, "derivative": mult.derivative, "reason": mult.reason},
            "source": "Zhou et al. arXiv:2105.11686 setting; theory.condensation (prediction); numerics.orientations (count)"}


def cells_from_options(opt: dict) -> list[dict]:
    """Cells of ``twolayer claims run condensation`` from its options (text as typed)."""
    from numerics.claims import MAX_SEEDS
    from theory.cli_args import parse_choices, parse_int, parse_int_set

    acts = [a.strip() for a in str(opt["activation"]).split(",")]
    if len(str(opt["activation"])) > 1000:
        raise InputError("activation", "at most 1000 characters")
    names = list(dict.fromkeys(get_smooth_activation(a).name for a in acts))
    ds = parse_int_set(opt["d"], "d", lo=1, hi=MAX_D)
    scales = _floats(opt["init_scale"], "init-scale")
    seeds = parse_int(opt["seeds"], "seeds", lo=1, hi=MAX_SEEDS)
    steps = parse_int(opt["steps"], "steps", lo=1, hi=MAX_STEPS)
    opts = parse_choices(opt["optimizer"], "optimizer", OPTIMIZERS)
    ck = str(opt.get("checkpoint", "modal")).strip()
    if ck not in CHECKPOINTS:
        raise InputError("checkpoint", f"expected one of {', '.join(CHECKPOINTS)}", got=opt.get("checkpoint"))
    extra = {} if ck == "modal" else {"checkpoint": ck}
    return [{"activation": a, "d": d, "init_scale": s, "optimizer": o, "steps": steps, "lr": DEFAULT_LR[o],
             "replicate": k, **extra} for a in names for d in ds for s in scales for o in dict.fromkeys(opts)
            for k in range(seeds)]


def _floats(text: object, argument: str) -> list[float]:
    s = str(text)
    if len(s) > 1000:
        raise InputError(argument, "at most 1000 characters")
    out = []
    for part in s.split(","):
        try:
            v = float(part)
        except ValueError:
            raise InputError(argument, "expected a comma list of numbers in (0, 10]", got=text) from None
        if not math.isfinite(v) or not 0 < v <= 10:
            raise InputError(argument, "expected a comma list of numbers in (0, 10]", got=text)
        out.append(v)
    if len(out) > 32:
        raise InputError(argument, "at most 32 values", got=text)
    return list(dict.fromkeys(out))


CELL_FUNCTION = condensation_cell
register_cell_kind(KIND, condensation_cell)

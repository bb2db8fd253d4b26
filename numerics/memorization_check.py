"""Cell ``memorization-exact``: build a memorising network exactly and check it in rational arithmetic.

    params: {"construction": "threshold" | "relu", "n": points, "d": dimension, "replicate": k (optional; a
             repetition index, so that repetitions get their own cell seeds)}

1. Points: n distinct integer vectors uniform in [-R, R]^d from the cell's seed, R = coordinate_bound(n, d);
   labels 0/1 (threshold) or rationals p/q in [-1, 1], 1 <= q <= 10^3, |p| <= q (ReLU), same generator.
2. The construction of ``theory.memorization``; its hyperplanes are checked exactly against every data point:
   h_g(x) = 0 for the group's own points and h_g(x) != 0 for every other point (a residue mod a 26-bit prime
   that is nonzero proves h != 0; a zero residue is decided with Python integers).  That is the position the
   construction needs; full general position (every d+1 points affinely independent) is checked exactly as
   well when there are at most FULL_CHECK_SUBSETS such subsets.  A draw that fails is redrawn (attempts counted).
3. ``numerics.exact_forward.evaluate``: f(x_i) exactly; every label must be reproduced exactly.
4. Weight size, for the data scaled into [-1, 1]^d (x' = x / R): ReLU: path norm sum_j |a_j| ||w_j|| (and with
   the bias, ||(w_j, b_j)||), the largest weight after balancing |a_j| = ||(w_j, b_j)||, and the largest raw
   entry; threshold: the units normalised to ||w_j|| = 1, path norm sum_j |a_j| and the margin (distance from
   the nearest data point to any unit's hyperplane; a ReLU or sigmoid imitation of the units needs weights of
   order 1 / margin).  The minimum separation min_{i != j} ||x'_i - x'_j||.
5. ReLU with n <= MIN_NORM_MAX_N: the minimum path norm over a dictionary (``numerics.min_norm``): the
   construction's neurons plus 8 n random unit neurons.

Verdict: 'holds' (all labels exact and neurons <= the claimed bound: ceil(n/d) threshold, 4 ceil(n/d) ReLU),
'exceeds-bound' (labels exact, more neurons than the bound), 'fails' (a label not reproduced).

Examples
--------
>>> r = memorization_cell({"construction": "relu", "n": 30, "d": 3}, seed=1)
>>> r["verdict"], r["values"]["labels_reproduced"], r["values"]["neurons"], r["values"]["bound"]
('holds', 30, 40, 40)
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations

import mpmath
import numpy as np

from theory.errors import InputError
from theory.memorization import ACTIVATIONS, build
from numerics.evidence.sweep import register_cell_kind
from numerics.exact_forward import evaluate
from numerics.min_norm import MIN_NORM_DIGITS, min_norm_interpolant, random_unit_neurons

KIND = "memorization-exact"
MAX_N, MAX_D = 20_000, 50
MIN_NORM_MAX_N = 200
FULL_CHECK_SUBSETS = 5_000
MAX_ATTEMPTS = 8
PRIME = 67_108_859  # < 2^26: products of residues < 2^52, sums of <= 2^10 of them fit in int64
MAX_COORD = 2 ** 40
GROUP_CHUNK = 256


def coordinate_bound(n: int, d: int) -> int:
    """R = min(2^40, max(16, ceil(n^(4/d)))): chance coincidences (a point on another group's hyperplane)
    have probability about 1/R per pair, so larger n and smaller d get a finer grid."""
    return int(min(MAX_COORD, max(16, math.ceil(n ** (4.0 / d)))))


def _check_params(params: dict) -> tuple[str, int, int]:
    if not isinstance(params, dict) or set(params) - {"construction", "n", "d", "replicate"}:
        raise InputError("params", "expected keys construction, n, d (and replicate)", got=params)
    rep = params.get("replicate", 0)
    if isinstance(rep, bool) or not isinstance(rep, int) or not 0 <= rep < 10**6:
        raise InputError("replicate", "expected an integer from 0 to 999999", got=rep)
    c = params.get("construction")
    if c not in ACTIVATIONS:
        raise InputError("construction", f"expected one of {', '.join(ACTIVATIONS)}", got=c)
    n, d = params.get("n"), params.get("d")
    for name, v, hi in (("n", n, MAX_N), ("d", d, MAX_D)):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= hi:
            raise InputError(name, f"expected an integer from 1 to {hi}", got=v)
    return c, n, d


def _draw(rng: np.random.Generator, construction: str, n: int, d: int, R: int):
    X = rng.integers(-R, R + 1, size=(n, d), dtype=np.int64)
    if construction == "threshold":
        labels = [int(v) for v in rng.integers(0, 2, size=n)]
    else:
        den = rng.integers(1, 10**3 + 1, size=n)
        num = rng.integers(-den, den + 1)
        labels = [Fraction(int(p), int(q)) for p, q in zip(num, den)]
    return X, labels


def hyperplane_violations(X: np.ndarray, construction) -> int:
    """Data points that break the construction's position: off their own group's hyperplane, or on another
    group's (exact: residues mod PRIME, zero residues rechecked with Python integers)."""
    n, d = X.shape
    ints = [tuple(int(v) for v in row) + (1,) for row in X]
    bad = 0
    for grp, h in zip(construction.groups, construction.hyperplanes):
        bad += sum(sum(a * b for a, b in zip(ints[i], h)) != 0 for i in grp)
    Xp = np.hstack([X % PRIME, np.ones((n, 1), dtype=np.int64)])
    G = len(construction.groups)
    for s in range(0, G, GROUP_CHUNK):
        H = np.array([[c % PRIME for c in h] for h in construction.hyperplanes[s:s + GROUP_CHUNK]], dtype=np.int64)
        R = (Xp @ H.T) % PRIME
        for i, k in zip(*np.nonzero(R == 0)):
            g = s + k
            if i in construction.groups[g]:
                continue
            bad += sum(a * b for a, b in zip(ints[i], construction.hyperplanes[g])) == 0
    return bad


def full_general_position(X: np.ndarray) -> bool | None:
    """Every d+1 points affinely independent (exact integer determinants), or None when there are more than
    FULL_CHECK_SUBSETS subsets to test."""
    import flint

    n, d = X.shape
    k = min(n, d + 1)
    if math.comb(n, k) > FULL_CHECK_SUBSETS:
        return None
    rows = [[int(v) for v in row] + [1] for row in X]
    for sub in combinations(range(n), k):
        M = flint.fmpz_mat([rows[i] for i in sub])
        if M.rank() < k:
            return False
    return True


def min_separation(X: np.ndarray, R: int) -> float:
    """min_{i != j} ||x_i - x_j|| / R (nearest neighbours by a k-d tree, the distance then computed exactly)."""
    from scipy.spatial import cKDTree

    if len(X) < 2:
        return float("inf")
    _, idx = cKDTree(X.astype(np.float64)).query(X.astype(np.float64), k=2)
    best = min(sum((int(a) - int(b)) ** 2 for a, b in zip(X[i], X[j])) for i, j in enumerate(idx[:, 1]))
    return float(mpmath.sqrt(best) / R)


def _norm(vec, den: int = 1) -> mpmath.mpf:
    return mpmath.sqrt(mpmath.mpf(sum(int(v) ** 2 for v in vec))) / den


def weight_sizes(construction, R: int) -> dict:
    """The weight-size measures of the module docstring, for data scaled by 1/R."""
    if construction.activation == "threshold":
        # unit j: 1[w.x + w0 +- t >= 0]; its distance to the data is t / ||w|| (integer grid), / R scaled
        path = sum(abs(a) for b in construction.blocks for a in b.out)
        margin = min((mpmath.mpf(abs(b.rows[0][-1] - b.rows[1][-1])) / 2 / _norm(b.rows[0][:-1]) / R
                      for b in construction.blocks), default=mpmath.inf)
        return {"path_norm": float(path), "margin": float(margin), "inverse_margin": float(1 / margin)}
    path = path_b = big_bal = big_raw = mpmath.mpf(0)
    for blk in construction.blocks:
        for row, a in zip(blk.rows, blk.out):
            w = _norm(row[:-1], blk.denominator) * R
            wb = mpmath.sqrt(w**2 + (mpmath.mpf(row[-1]) / blk.denominator) ** 2)
            path += abs(a) * w
            path_b += abs(a) * wb
            big_bal = max(big_bal, mpmath.sqrt(abs(a) * wb))
            entries = [mpmath.mpf(abs(v)) * R / blk.denominator for v in row[:-1]] + [mpmath.mpf(abs(row[-1])) / blk.denominator]
            big_raw = max(big_raw, mpmath.mpf(abs(a).numerator) / abs(a).denominator, *entries)
    return {"path_norm": float(path), "path_norm_with_bias": float(path_b), "max_weight_balanced": float(big_bal),
            "max_weight_raw": float(big_raw)}


def _relu_neurons_scaled(construction, R: int) -> np.ndarray:
    rows = []
    for blk in construction.blocks:
        for row, a in zip(blk.rows, blk.out):
            v = [float(mpmath.mpf(c) * R / blk.denominator) for c in row[:-1]] + [float(mpmath.mpf(row[-1]) / blk.denominator)]
            rows.append(np.array(v) / np.linalg.norm(v))
    return np.array(rows)


def memorization_cell(params: dict, seed: int) -> dict:
    """Build, check exactly and measure one memorisation construction (see the module docstring)."""
    construction, n, d = _check_params(params)
    R = coordinate_bound(n, d)
    rng = np.random.default_rng(seed)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        X, labels = _draw(rng, construction, n, d, R)
        if len({tuple(r) for r in X.tolist()}) < n:
            continue
        pad = lambda k: rng.integers(-R, R + 1, size=(k, d)).tolist()  # noqa: E731
        try:
            net = build(construction, X.tolist(), labels, d, pad)
        except InputError:
            continue
        if hyperplane_violations(X, net) == 0:
            break
    else:
        return {"verdict": "fails", "values": {"attempts": MAX_ATTEMPTS}, "reason": "no draw in the required position",
                "source": "numerics.memorization_check"}
    out = evaluate(X.tolist(), net.blocks, construction, net.output_bias)
    reproduced = sum(v == Fraction(y) for v, y in zip(out.values, labels))
    verdict = "fails" if reproduced < n else ("holds" if net.neurons <= net.bound else "exceeds-bound")
    values = {"labels_reproduced": reproduced, "n": n, "neurons": net.neurons, "bound": net.bound,
              "ceil_n_over_d": -(-n // d), "coordinate_bound": R, "attempts": attempt,
              "min_separation": min_separation(X, R), **weight_sizes(net, R),
              "exact_sign_fallbacks": out.exact_sign_checks, "sign_checks": out.sign_checks}
    if construction == "threshold":
        values["minority_points"] = sum(len(g) for g in net.groups)
    precision = {"min_norm_path_norm": MIN_NORM_DIGITS, "min_norm_path_norm_no_bias": MIN_NORM_DIGITS,
                 "min_norm_ratio": MIN_NORM_DIGITS, "min_norm_max_residual": 1}
    if construction == "relu" and n <= MIN_NORM_MAX_N:
        Xs = X.astype(np.float64) / R
        dictionary = np.vstack([_relu_neurons_scaled(net, R), random_unit_neurons(rng, 8 * n, d)])
        mn = min_norm_interpolant(Xs, np.array([float(y) for y in labels]), dictionary)
        values.update({"min_norm_path_norm": mn.path_norm, "min_norm_path_norm_no_bias": mn.path_norm_no_bias,
                       "min_norm_ratio": mn.path_norm / values["path_norm_with_bias"],
                       "min_norm_max_residual": mn.max_residual, "min_norm_dictionary": mn.dictionary_size})
        values["min_norm_status"] = mn.status
    return {"verdict": verdict, "values": values, "precision_digits": precision,
            "general_position_full": full_general_position(X),
            "position_checked": "every group hyperplane against every data point (exact)",
            "dictionary": "construction neurons (normalised) + 8n random unit (u, c)" if "min_norm_dictionary" in values else None,
            "source": "theory.memorization (toolkit's own constructions after Baum 1988 / Bubeck et al. 2020)"}


register_cell_kind(KIND, memorization_cell)
CELL_FUNCTION = memorization_cell


def cells_from_options(opt: dict) -> list[dict]:
    """Cells of ``twolayer claims run memorization`` from its options (text as typed)."""
    from numerics.claims import MAX_SEEDS
    from theory.cli_args import parse_choices, parse_int, parse_int_set

    cons = parse_choices(opt["construction"], "construction", ("threshold", "relu"))
    ns = parse_int_set(opt["n"], "n", lo=1, hi=MAX_N)
    ds = parse_int_set(opt["d"], "d", lo=1, hi=MAX_D)
    seeds = parse_int(opt["seeds"], "seeds", lo=1, hi=MAX_SEEDS)
    return [{"construction": c, "n": n, "d": d, **({"replicate": k} if seeds > 1 else {})}
            for c in cons for d in ds for n in ns for k in range(seeds)]

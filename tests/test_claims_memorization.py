"""Memorisation constructions (issue 13, A.1-A.2): exact labels, neuron counts, position checks, weight sizes."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from theory.errors import InputError
from theory.memorization import Block, hyperplane_through, relu_construction
from numerics.exact_forward import evaluate
from numerics.memorization_check import full_general_position, hyperplane_violations, memorization_cell


@pytest.mark.parametrize("construction", ["threshold", "relu"])
@pytest.mark.parametrize("n,d", [(1, 1), (9, 1), (40, 2), (37, 3), (120, 5)])
def test_every_label_reproduced_exactly_within_bound(construction, n, d):
    r = memorization_cell({"construction": construction, "n": n, "d": d}, seed=7)
    v = r["values"]
    assert v["labels_reproduced"] == n
    ceil = -(-n // d)
    assert v["bound"] == (ceil if construction == "threshold" else 4 * ceil)
    if construction == "relu":
        assert v["neurons"] == 4 * ceil and r["verdict"] == "holds"
    else:  # slabs: 2 ceil(n_minority / d), n_minority <= n / 2
        assert v["neurons"] == 2 * -(-v["minority_points"] // d) and 2 * v["minority_points"] <= n
        assert r["verdict"] == ("holds" if v["neurons"] <= ceil else "exceeds-bound")


def test_n_10000_d_10_relu_exact():
    r = memorization_cell({"construction": "relu", "n": 10_000, "d": 10}, seed=1)
    assert r["verdict"] == "holds" and r["values"]["labels_reproduced"] == 10_000 and r["values"]["neurons"] == 4000


def test_evaluator_detects_a_wrong_label():
    pts = [(0, 0), (1, 2), (3, 1)]
    ys = [Fraction(1), Fraction(-2), Fraction(1, 2)]
    c = relu_construction(pts, ys, 2, pad=lambda k: [(5, 7)] * k)
    out = evaluate(pts, c.blocks, "relu", c.output_bias)
    assert list(out.values) == ys
    # perturb one integer weight: some output must change (the check is not vacuous)
    b = c.blocks[0]
    rows = list(b.rows)
    rows[0] = (rows[0][0] + 1,) + rows[0][1:]
    bad = evaluate(pts, (Block(tuple(rows), b.out, b.denominator),), "relu", c.output_bias)
    assert list(bad.values) != ys


def test_exact_fallback_decides_zero_preactivations():
    # relu(x - 1) at x = 1 is exactly 0; the float bound cannot decide it, the integer fallback must
    blk = Block(((1, -1),), (Fraction(1),))
    out = evaluate([[1], [2]], (blk,), "relu", Fraction(0))
    assert out.values == (Fraction(0), Fraction(1)) and out.exact_sign_checks >= 1
    thr = evaluate([[1], [0]], (blk,), "threshold", Fraction(0))
    assert thr.values == (Fraction(1), Fraction(0))


def test_hyperplane_and_position_checks():
    assert hyperplane_through([(1, 1), (2, 2)]) == (1, -1, 0)
    assert hyperplane_through([(1, 1), (1, 1)]) is None
    X = np.array([[0, 0], [1, 1], [2, 2]])
    assert full_general_position(X) is False
    assert full_general_position(np.array([[0, 0], [1, 0], [0, 1]])) is True
    c = relu_construction(X[:2].tolist() + [[5, 1]], [Fraction(1)] * 3, 2, pad=lambda k: [(3, 8)] * k)
    assert hyperplane_violations(np.array(X[:2].tolist() + [[5, 1]]), c) == 0
    # the third point (2, 2) lies on the first group's line through (0, 0), (1, 1)
    c2 = relu_construction(X.tolist(), [Fraction(1)] * 3, 2, pad=lambda k: [(3, 8)] * k)
    assert hyperplane_violations(X, c2) == 1


def test_weight_sizes_and_min_norm():
    r = memorization_cell({"construction": "relu", "n": 30, "d": 3}, seed=2)
    v = r["values"]
    assert v["path_norm"] > 0 and v["path_norm_with_bias"] >= v["path_norm"]
    # the dictionary contains the construction's neurons, so the LP optimum is at most its path norm
    assert v["min_norm_status"] == "optimal" and v["min_norm_max_residual"] < 1e-6
    assert v["min_norm_path_norm"] <= v["path_norm_with_bias"] * (1 + 1e-5)
    t = memorization_cell({"construction": "threshold", "n": 30, "d": 3}, seed=2)["values"]
    assert 0 < t["margin"] <= t["min_separation"] and t["path_norm"] == t["neurons"]


def test_bad_params():
    for bad in ({"construction": "sigmoid", "n": 3, "d": 2}, {"construction": "relu", "n": 0, "d": 2},
                {"construction": "relu", "n": 3, "d": 2, "extra": 1}):
        with pytest.raises(InputError):
            memorization_cell(bad, seed=0)

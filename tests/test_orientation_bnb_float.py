"""The float64 interval branch-and-bound of (4, 4) orientations: soundness of the enclosures against dense float
sampling and against the arb enclosures of ``conjecture.ball_objective``, rounding, the kernel remainder, the leaf
encoding, and a toy with a known optimum."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from flint import arb, fmpq

from conjecture.float_interval import Jet, down, mul, up
from conjecture.orientation_bnb_float import (HI0, KINDS, LO0, SPLIT, bound_boxes, branch_and_bound, keep_44,
                                              replay_tree, threshold_float)
from conjecture.orientation_objective_float import objective_float, objective_jets, objective_point, secant_lower
from conjecture.relu_kernel_float import h4_range, h4p_range, h4pp_range

T44 = 0.0077369558 + (0.0077462881 - 0.0077369558) / 2


def _random_boxes(rng, n, level, shrink_abc=0):
    out_lo, out_hi = [], []
    w = (HI0 - LO0) / 2**level
    w[3:] /= 2**shrink_abc
    while len(out_lo) < n:
        idx = rng.integers(0, 2**level, size=(4 * n, 6))
        lo = LO0 + idx * w
        hi = lo + w
        m = keep_44(lo, hi) & (hi[:, 3:] <= 1).all(axis=1)
        out_lo += list(lo[m])
        out_hi += list(hi[m])
    return np.array(out_lo[:n]), np.array(out_hi[:n])


def test_down_up_bracket_exact_results():
    """Exact rational products/sums lie inside the widened float results (including at a power of two and 0)."""
    xs = np.array([0.1, 1.0, 2.0 ** -1070, 3.0, -7.25, 0.0, 1e300])
    for a in xs:
        for b in xs:
            lo, hi = mul((np.array([a]), np.array([a])), (np.array([b]), np.array([b])))
            exact = Fraction(a) * Fraction(b)
            if np.isfinite(hi[0]) and np.isfinite(lo[0]):
                assert Fraction(lo[0]) <= exact <= Fraction(hi[0])
            s = Fraction(a) + Fraction(b)
            assert Fraction(down(np.float64(a + b))) <= s <= Fraction(up(np.float64(a + b)))


def test_kernel_remainder_ranges_contain_samples(rng):
    """H4, H4', H4'' ranges on random intervals of [-1, 1] contain dense samples (monotonicity is right)."""
    lo = rng.uniform(-1, 1, 200)
    hi = np.minimum(lo + rng.uniform(0, 0.5, 200), 1.0)
    for fn, f in ((h4_range, lambda r: np.sqrt(1 - r * r) + r * np.arcsin(r) - 1 - r * r / 2 - r**4 / 24),
                  (h4p_range, lambda r: np.arcsin(r) - r - r**3 / 6),
                  (h4pp_range, lambda r: 1 / np.sqrt(1 - r * r) - 1 - r * r / 2)):
        L, H = fn((lo, hi))
        for i in range(200):
            t = np.linspace(lo[i], hi[i], 50)
            t = t[np.abs(t) < 1]
            v = f(t)
            assert np.all(v >= L[i] - 1e-12) and np.all(v <= H[i] + 1e-12)


def test_point_enclosure_matches_direct_formula_and_arb(rng):
    """F at points: the enclosure is thin (< 1e-13), contains the direct float64 formula, and overlaps the arb
    value of ``etf_family_bound.family_pair`` (the repo's independent ball-arithmetic route)."""
    from conjecture.ball_jets import Pair
    from conjecture.ball_objective import ball_objective
    from conjecture.etf_family_bound import family_pair
    from conjecture.etf_orientations import orientation_family
    from conjecture.interval import working_bits
    from theory.exact_anisotropic import exact_summary

    th = _random_boxes(rng, 6, 3)[0] + 0.01
    lo, hi = objective_point(th)
    direct = objective_float(th)
    assert np.all(hi - lo < 1e-13)
    assert np.all(lo - 1e-15 <= direct) and np.all(direct <= hi + 1e-15)
    s = exact_summary("relu", 4, "rademacher")
    with working_bits(80):
        fn = family_pair(ball_objective(s, 4), orientation_family(4, 4))
        for i in range(3):
            ps = Pair.variables([arb(fmpq(*Fraction(float(x)).as_integer_ratio())) for x in th[i]], [arb(0)] * 6)
            val = fn(ps).centre.v
            assert val.overlaps(arb(float((lo[i] + hi[i]) / 2), float((hi[i] - lo[i]) / 2) + 1e-300))


@pytest.mark.parametrize("level,shrink", [(4, 1), (5, 0), (6, 0)])
def test_box_bounds_below_dense_samples(rng, level, shrink):
    """On random grid boxes every lower bound (natural, separable, secant) is below F at 3000 random points of
    the box, and the gradient enclosure contains finite-difference gradients at random points."""
    lo, hi = _random_boxes(rng, 24, level, shrink)
    r = bound_boxes(objective_jets, lo, hi, T44, secant_lower)
    c = (lo + hi) / 2
    half = (hi - lo) / 2
    Fc, store = objective_jets(c, c, 1)
    Fb, box_store = objective_jets(lo, hi, 2, store, half)
    sec = secant_lower(store, box_store, half)
    lean = bound_boxes(objective_jets, lo, hi, T44, secant_lower, lean=True)
    for b in range(len(lo)):
        pts = lo[b] + rng.random((3000, 6)) * (hi[b] - lo[b])
        vals = objective_float(pts)
        assert vals.min() >= r.lower[b] - 1e-14
        assert vals.min() >= sec[b] - 1e-14
        assert vals.min() >= lean.lower[b] - 1e-14
        assert vals.min() >= Fb.lo[0, b] - 1e-14 and vals.max() <= Fb.hi[0, b] + 1e-14
        for p in pts[:3]:
            eps = 1e-6
            for i in range(6):
                e = np.zeros(6)
                e[i] = eps
                if np.all(p - e >= lo[b]) and np.all(p + e <= hi[b]):
                    g = (objective_float((p + e)[None])[0] - objective_float((p - e)[None])[0]) / (2 * eps)
                    assert Fb.lo[1 + i, b] - 1e-8 <= g <= Fb.hi[1 + i, b] + 1e-8


def test_box_bounds_against_arb_box_enclosure(rng):
    """On a few boxes our value lower bound is <= the upper end of the arb box enclosure of the repo's
    ``family_pair`` and <= the arb value at the box centre (both routes enclose the same function)."""
    from conjecture.ball_jets import Pair
    from conjecture.ball_objective import ball_objective
    from conjecture.etf_family_bound import family_pair
    from conjecture.etf_orientations import orientation_family
    from conjecture.interval import working_bits
    from theory.exact_anisotropic import exact_summary

    lo, hi = _random_boxes(rng, 3, 5)
    r = bound_boxes(objective_jets, lo, hi, T44, secant_lower)
    s = exact_summary("relu", 4, "rademacher")
    with working_bits(64):
        fn = family_pair(ball_objective(s, 4), orientation_family(4, 4))
        for b in range(len(lo)):
            cen = [Fraction(float(x)) for x in (lo[b] + hi[b]) / 2]
            hw = [Fraction(float(x)) for x in (hi[b] - lo[b]) / 2]
            q = [arb(fmpq(x.numerator, x.denominator)) for x in hw]
            pair = fn(Pair.variables([arb(fmpq(x.numerator, x.denominator)) for x in cen],
                                     [arb(0).union(h).union(-h) for h in q]))
            assert arb(float(r.lower[b])) <= pair.box.v.upper()
            assert arb(float(r.lower[b])) <= pair.centre.v.upper()
            assert pair.centre.v.overlaps(arb(float(r.centre_upper[b])).union(arb(float(r.lower[b]))))


def test_toy_known_optimum_and_refusal():
    """f(x, y) = x^2 - 2x/3 + y^2 - y/2 + 1/9 + 1/16 + 1/10 (min 1/10 at (1/3, 1/4)), written with dependent terms
    with a dependent natural enclosure: certified for T = 0.0999 and T = 0.1 - 1e-10 (the separable bound is exact
    for a separable quadratic), refused (a box centre below T) for T = 0.1001."""
    def jets(lo, hi, order, centre=None, half=None):
        from conjecture.float_interval import tighten
        x, y = Jet.variables(lo, hi, order)
        f = x * x - x.scale((down(2 / 3), up(2 / 3))) + y * y - y.scale(0.5) \
            + (down(1 / 9 + 1 / 16 + 1 / 10), up(1 / 9 + 1 / 16 + 1 / 10))
        store = {"f": f}
        if centre is not None:
            f = tighten(f, centre["f"], half)
        return f, store
    good = branch_and_bound(jets, np.array([0.0, 0.0]), np.array([1.0, 1.0]), 0.0999, batch=64)
    assert good.certified and 0.0999 < good.lowest_bound <= 0.1 + 1e-12
    tight = branch_and_bound(jets, np.array([0.0, 0.0]), np.array([1.0, 1.0]), 0.1 - 1e-10, batch=64)
    assert tight.certified
    bad = branch_and_bound(jets, np.array([0.0, 0.0]), np.array([1.0, 1.0]), 0.1001, batch=64)
    assert not bad.certified and "centre" in bad.reason


def test_monotone_test_drops_a_box_without_critical_point():
    """A box where F's gradient enclosure excludes 0 (if any in a random sample) is labelled 'monotone' only when
    no value test closes it; the label set is KINDS."""
    rng = np.random.default_rng(5)
    lo, hi = _random_boxes(rng, 64, 5)
    r = bound_boxes(objective_jets, lo, hi, 1.0, secant_lower)   # T = 1: no value test closes
    assert set(r.kind) <= set(KINDS) | {""}
    assert not np.any((r.kind == "natural") | (r.kind == "separable") | (r.kind == "secant"))


def test_tree_replay_rebuilds_the_boxes_and_threshold_rounds_down():
    """The recorded codes rebuild the toy search's boxes; leaves tile the box (volumes add up exactly)."""
    def jets(lo, hi, order, centre=None, half=None):
        from conjecture.float_interval import tighten
        x, y = Jet.variables(lo, hi, order)
        f = (x * y - x.scale(0.25)) * (x * y - x.scale(0.25)) + (np.float64(0.01), np.float64(0.01))
        store = {"f": f}
        if centre is not None:
            f = tighten(f, centre["f"], half)
        return f, store
    tree: list = []
    st = branch_and_bound(jets, np.array([0.0, 0.0]), np.array([1.0, 1.0]), 0.009, tree=tree, batch=8)
    assert st.certified and st.boxes > 3
    vol = Fraction(0)
    for depth, lo, hi, codes in replay_tree(tree, np.array([0.0, 0.0]), np.array([1.0, 1.0])):
        assert len(codes) == len(lo)
        for b in np.nonzero(codes < SPLIT)[0]:
            vol += Fraction(hi[b, 0] - lo[b, 0]) * Fraction(hi[b, 1] - lo[b, 1])
    assert vol == 1
    T = Fraction(77416219, 10**10)
    assert Fraction(threshold_float(T)) <= T


@pytest.mark.slow  # 28 s; the shipped trees' check below runs the same checker in the default suite
def test_independent_checker_replays_and_reproves_a_small_tree(tmp_path):
    """A search on a corner of the chart (far from the minimiser), written as tree.npz, is replayed by the
    independent checker (arb, no producer code): the leaves tile the box, dropped boxes are outside the domain,
    and every closed leaf is re-proved (with at most 3 extra bisections)."""
    from conjecture.orientation_bnb_float import write_tree
    from conjecture.orientation_objective_float import objective_jets as oj
    from conjecture.orientation_tree_check import main as check_main

    lo0 = np.array([0.5, 0.0, 0.0, 0.5, 0.0, 0.0])
    hi0 = np.array([1.0, 0.5, 0.5, 1.0, 0.5, 0.5])
    tree: list = []
    st = branch_and_bound(oj, lo0, hi0, T44, keep=keep_44, tree=tree, secant=secant_lower, lean=True,
                          max_seconds=60)
    assert st.certified
    path = tmp_path / "tree.npz"
    write_tree(str(path), tree, {"threshold": str(Fraction(T44)), "certified": True}, lo0, hi0)
    rep = check_main([str(path), "--sample", "40"])
    assert rep["volume_ok"] and rep["dropped_not_disjoint"] == 0
    assert rep["not_reproved"] == 0 and rep["reproved"] + rep["monotone_unchecked"] == rep["checked"]


def test_checker_shares_no_code_with_the_producer():
    """The checker imports no producer module (only numpy, python-flint and the repository's arb jets)."""
    from pathlib import Path

    from tests.import_scan import imported_modules

    src = Path(__file__).resolve().parent.parent / "conjecture" / "orientation_tree_check.py"
    mods = imported_modules(src)
    producer = ("conjecture.float_interval", "conjecture.relu_kernel_float", "conjecture.orientation_objective_float",
                "conjecture.orientation_bnb_float")
    assert not any(m.startswith(p) for m in mods for p in producer), mods


def test_checker_joins_a_stopped_search_and_its_resumption(tmp_path):
    """Structure only: part 1 splits the chart box, leaves one box unevaluated (coded -1 but meeting the domain)
    and one split whose children were never recorded; part 2 starts from exactly those three boxes and closes
    them. The checker accepts the pair, refuses part 1 alone (boxes left open) and a part 2 with a wrong root."""
    from conjecture.orientation_bnb_float import open_set, write_tree
    from conjecture.orientation_tree_check import main as check_main

    tree1 = [np.array([SPLIT + 0], np.int8), np.array([-1, SPLIT + 3], np.int8)]
    p1 = tmp_path / "t1.npz"
    write_tree(str(p1), tree1, {"threshold": "1/100", "certified": False})
    olo, ohi = open_set(tree1, LO0, HI0, keep_44)
    assert len(olo) == 3
    p2 = tmp_path / "t2.npz"
    write_tree(str(p2), [np.array([2, 2, 2], np.int8)], {"threshold": "1/100", "certified": True},
               roots=(olo, ohi))
    rep = check_main([str(p1), str(p2), "--no-reprove"])
    assert rep["volume_ok"] and rep["parts"] == 2 and rep["leaves"] == 3
    with pytest.raises(SystemExit):
        check_main([str(p1), "--no-reprove"])
    bad_lo = olo.copy()
    bad_lo[0, 0] += 1 / 1024
    p3 = tmp_path / "t3.npz"
    write_tree(str(p3), [np.array([2, 2, 2], np.int8)], {"threshold": "1/100", "certified": True},
               roots=(bad_lo, ohi))
    with pytest.raises(SystemExit):
        check_main([str(p1), str(p3), "--no-reprove"])

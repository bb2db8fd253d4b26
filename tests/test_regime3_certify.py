"""Certified regime III verdicts: max b on the sphere, the SO(d) branch-and-bound, tampered certificates failing,
the cells' verdicts and their statements, and ``twolayer conjecture --regime III --study orientation``."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from cli_checks import assert_refused
from conjecture.b_maximum import certify_b_maximum
from conjecture.cells import evaluate_cell
from conjecture.command_line import main
from conjecture.etf_family_bound import certify_family_lower, family_minimum
from conjecture.regime3_verdict import STATEMENT_SOME, etf_in_orbit, refutation, Regime3Budget
from theory.exact_anisotropic import exact_summary


def test_b_maximum_certified_and_a_wrong_candidate_fails():
    """d = 3, Rademacher: max b at the diagonal, certified (concavity box + branch-and-bound); claiming the axis
    e_1 as the maximiser must fail (a box centre is above its value)."""
    good = certify_b_maximum("relu", 3, "rademacher")
    assert good.certified and good.maximiser.startswith("diagonal") and good.search.boxes < 2000
    bad = certify_b_maximum("relu", 3, "rademacher", candidate=1, max_seconds=20)
    assert not bad.certified


def test_orientation_lower_bound_and_a_tampered_threshold():
    """(M, d) = (3, 2): min over ETF orientations of F > T is proved just below the numerical minimum and refused
    just above it (the search finds a box centre below T)."""
    s = exact_summary("relu", 2, "rademacher")
    fm = family_minimum(s, 3, 2, np.random.default_rng(0), starts=4)
    below = certify_family_lower(s, 3, 2, Fraction(fm.value) - Fraction(1, 10**7), numeric=fm)
    assert below.certified and below.search.boxes < 200
    above = certify_family_lower(s, 3, 2, Fraction(fm.value) + Fraction(1, 10**9), numeric=fm)
    assert not above.certified and "box centre" in above.search.reason


def test_a_counterexample_above_the_etf_is_not_certified(rng):
    """A frame that does not beat the best ETF orientation cannot refute it, whatever its enclosure says."""
    s = exact_summary("relu", 2, "rademacher")
    x = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])  # two antipodal rows and one orthogonal: far above the ETF
    out = refutation(s, 3, 2, 0.0022362465334662, [(x, np.array([0.1, 0.1, 0.1]), "signed")], Regime3Budget(), rng)
    assert out["certified"] == {"signed": False} and "below" in out["why"]


def test_etf_at_maximisers():
    """The cube diagonals are an ETF of 4 vectors in R^3; no 3-ETF lies among the diagonals or the axes of R^3."""
    rows = etf_in_orbit(3, 3, 4)
    G = np.array(rows) @ np.array(rows).T
    assert G.tolist() == (4 * np.eye(4, dtype=int) - 1).tolist()
    assert etf_in_orbit(3, 3, 3) is None and etf_in_orbit(1, 3, 3) is None


def test_cells_say_which_statement_they_prove_or_refute():
    """(4, 3): PROVEN for both signs (max b on every row; F_ETF = 0); (3, 2): REFUTED for both, with the certified
    gap and the branch-and-bound's boxes in the reason."""
    a = evaluate_cell({"M": 4, "d": 3, "regime": "III", "starts": 4, "polish_dps": 0, "sdp": False}, 0)
    assert (a["verdict_nonneg"], a["verdict_signed"]) == ("PROVEN", "PROVEN")
    assert a["reason_nonneg"].startswith("this orientation") and STATEMENT_SOME in a["reason_nonneg"]
    assert a["regime3"]["proven"]["b_maximum"]["certified"] and a["certified_gap_rel"] <= 1e-30
    b = evaluate_cell({"M": 3, "d": 2, "regime": "III", "starts": 4, "polish_dps": 0, "sdp": False}, 0)
    assert (b["verdict_nonneg"], b["verdict_signed"]) == ("REFUTED", "REFUTED")
    assert b["reason_signed"].startswith(STATEMENT_SOME + ": REFUTED") and "boxes" in b["reason_signed"]
    gap = b["regime3"]["refutation"]["candidates"]["signed"]["gap_rel_certified"]
    assert 1e-4 < gap < 4.5e-4 and b["etf"]["objective"] == "exact"
    json.dumps(a, allow_nan=False), json.dumps(b, allow_nan=False)


def _run(argv, capsys):
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_cli_orientation_study(tmp_path, capsys):
    """The study on a tiny case writes its table, figure and strict JSON (in a temporary folder)."""
    code, out, err = _run(["conjecture", "--regime", "III", "--M", "3", "--d", "2", "--starts", "4", "--polish-dps", "0",
                           "--no-sdp", "--study", "orientation", "--workers", "0", "--quiet", "--json",
                           "--out", str(tmp_path / "out"), "--store", str(tmp_path / "store")], capsys)
    assert code == 0, err

    def no_constants(x):
        raise ValueError(f"non-strict JSON constant {x}")

    data = json.loads(out, parse_constant=no_constants)
    rows = data["studies"]["orientation"]["rows"]
    assert len(rows) == 7 and sorted(r["kappa4"] for r in rows) == sorted(r["kappa4"] for r in rows)
    assert {r["optimum"] for r in rows} <= {"ETF", "deformed", "unresolved"}
    run = tmp_path / "out" / "latest"
    assert (run / "orientation.png").stat().st_size > 1000
    json.loads((run / "report.json").read_text(), parse_constant=no_constants)
    assert "orientation map" in (run / "report.md").read_text()


@pytest.mark.parametrize("argv,argument,needle", [
    (["--regime", "III", "--law", "sparse_rademacher(2)"], "law", "sparse_rademacher"),
    (["--regime", "I", "--study", "orientation"], "study", "regime III only"),
    (["--regime", "III", "--objective", "bogus"], "objective", "exact, truncated"),
    (["--regime", "I", "--bnb-seconds", "5"], "bnb-seconds", "regime III only"),
])
def test_bad_regime3_input_exit_2(argv, argument, needle, tmp_path, capsys):
    code, out, err = _run(["conjecture", *argv, "--M", "3", "--d", "2", "--out", str(tmp_path)], capsys)
    assert_refused(code, out, err, argument, needle)


@pytest.mark.parametrize("M,d", [(3, 2), (3, 3), (4, 3), (4, 4)])
def test_charts_give_etfs_and_agree_in_balls(M, d, rng):
    """Every chart maps its parameters to an ETF (Gram -1/(M-1)), and its ball rows contain the float rows."""
    from flint import arb

    from conjecture.ball_jets import Pair
    from conjecture.etf_orientations import orientation_family

    fam = orientation_family(M, d)
    for theta in fam.sample(rng, 3):
        rows = fam.rows_float(theta)
        assert np.allclose(rows @ rows.T, (M * np.eye(M) - 1) / (M - 1), atol=1e-12)
        pairs = fam.rows(Pair.variables([arb(float(t)) for t in theta], [arb(0, 1e-9)] * fam.dim))
        for (v, _, _), row in zip(pairs, rows):
            assert all(c.centre.v.overlaps(arb(float(x), 1e-12)) for c, x in zip(v, row))

"""Cells end to end: verdicts and their evidence, honest degradation under injected solver faults, regime II
refutation with an interval certificate, NOT_APPLICABLE descriptions, validation of parameters."""

import numpy as np
import pytest

from conjecture.cells import evaluate_cell
from theory.errors import InputError

FAST = {"starts": 8, "max_iter": 200, "sdp": False}


def test_relu_cell_proven_both_ways_with_30_digits():
    out = evaluate_cell({"M": 3, "d": 2, "starts": 8, "sdp": True}, 0)
    # signed beta: PROVEN by the shipped elliptope certificate (issue 11), cited by file name and sha256
    assert out["verdict_nonneg"] == "PROVEN" and out["verdict_signed"] == "PROVEN"
    assert "relu_M3.json" in out["reason_signed"] and out["elliptope_certificate"]["checked"]
    assert out["polish"]["digits_vs_closed_form"] >= 30
    assert out["polish"]["ones_Kinv_ones"].startswith("4.926126323245372539")
    assert out["etf"]["digits_agree"] >= 30  # closed form vs exact ETF in mpmath
    assert out["qp_at_etf_nonneg"]["verified"] and out["qp_at_best_signed"]["verified"]
    assert out["sdp_signed"][0]["kkt_ok"]


@pytest.mark.parametrize("inject", ["lp_fail", "lp_inaccurate", "qp_fail", "qp_inaccurate"])
def test_injected_solver_faults_never_prove(inject):
    # the tangent certificate is switched off under injection, so PROVEN could only come from the faulty solver
    out = evaluate_cell({"M": 3, "d": 2, "polish_dps": 0, "inject": inject, **FAST}, 0)
    assert out["verdict_nonneg"] != "PROVEN"
    assert out["verdict_nonneg"] in ("SUPPORTED", "INCONCLUSIVE")
    assert "search_nonneg" in out  # the verdict falls back on the stated search


def test_regime2_etf_refuted_with_certificate():
    out = evaluate_cell({"M": 3, "d": 4, "regime": "II", "tilt_norm": 0.5, "polish_dps": 0, **FAST}, 0)
    assert out["verdict_signed"] == "REFUTED"
    ref = out["refutation_signed"]
    assert ref["certified"] and all("/" in q for q in ref["frame_rational"][0])
    assert out["search_signed"]["gap_rel"] < -1e-3  # the tilted frame is much better than any ETF orientation


def test_not_applicable_describes_best_configuration():
    out = evaluate_cell({"M": 4, "d": 2, "polish_dps": 0, **FAST}, 0)
    assert out["verdict_signed"] == out["verdict_nonneg"] == "NOT_APPLICABLE"
    desc = out["best_configuration"]
    assert len(desc["gram_eigenvalues"]) == 4 and sum(desc["inner_product_histogram"]) == 12
    assert abs(sum(desc["gram_eigenvalues"]) - 4) < 1e-8  # trace of a unit-row Gram matrix


def test_user_frame_evaluated():
    ang = 2 * np.pi * np.arange(3) / 3
    rows = np.stack([np.cos(ang), np.sin(ang)], 1).tolist()
    out = evaluate_cell({"M": 3, "d": 2, "polish_dps": 0, "user_frame": rows, **FAST}, 0)
    assert abs(out["user_frame"]["gap_rel"]) < 1e-14  # the regular triangle is the ETF


@pytest.mark.parametrize("bad,arg", [({"M": 1, "d": 2}, "M"), ({"M": 3, "d": 0}, "d"), ({"M": 3, "d": 2, "regime": "IV"}, "regime"),
                                     ({"M": 3, "d": 2, "activation": "tanh"}, "activation"), ({"M": 3, "d": 2, "solver": "MOSEK"}, "solver"),
                                     ({"M": 2, "d": 2, "user_frame": [[1.0, 0.0], [0.5, 0.5]]}, "frame"),
                                     ({"M": 2, "d": 2, "user_frame": [[1.0, 0.0], [float("nan"), 1.0]]}, "frame")])
def test_bad_parameters(bad, arg):
    with pytest.raises(InputError, match=f"argument {arg}"):
        evaluate_cell(bad, 0)


@pytest.mark.parametrize("act", ["relu", "step"])
def test_zero_loss_cells_proven_for_signed_beta(act):
    # M = 2, d = 1: two opposite neurons represent the regime-I target exactly, F_ETF = 0 <= Ltilde (a squared loss)
    out = evaluate_cell({"M": 2, "d": 1, "activation": act, "polish_dps": 0, **FAST}, 0)
    assert out["verdict_signed"] == out["verdict_nonneg"] == "PROVEN"
    assert "zero_loss_certificate" in out and abs(out["search_signed"]["best_value"]) < 1e-15

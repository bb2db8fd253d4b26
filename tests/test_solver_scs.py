"""``--solver SCS``: no crash, solver failures of any type degrade honestly, and the verdicts match CLARABEL's.

Regression: ``twolayer conjecture --solver SCS --M 3 --d 2 --starts 2`` raised ``ValueError: m must be a positive
integer`` (SCS refuses a problem without constraints: the signed beta-QP), and ``solve_status`` caught only cvxpy's
SolverError.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import cvxpy as cp
import numpy as np
import pytest

from conjecture.cells import evaluate_cell
from conjecture.command_line import main
from conjecture.frames import random_frames
from conjecture.relax_lp import lp_bound
from conjecture.relax_qp import solve_beta_qp
from conjecture.relax_sdp import sdp_bound
from conjecture.solver_call import SOLVER_ERROR, solve_status
from theory.activations import get_activation
from theory.kernels import dual_kernel


def _K(X, act="relu"):
    K = dual_kernel(get_activation(act)).numpy(X @ X.T)
    np.fill_diagonal(K, float(dual_kernel(get_activation(act)).at_one))
    return K


@pytest.fixture
def raising_solver(monkeypatch):
    """Every cvxpy solve raises a plain ValueError, as SCS did for a problem without constraints."""

    def solve(self, *args, **kwargs):
        raise ValueError("m must be a positive integer")

    monkeypatch.setattr(cp.Problem, "solve", solve)


def test_solve_status_reports_any_exception(raising_solver):
    x = cp.Variable()
    status = solve_status(cp.Problem(cp.Minimize(cp.square(x - 1))), "SCS")
    assert status.startswith(SOLVER_ERROR) and "ValueError" in status and "positive integer" in status
    assert x.value is None


def test_solve_status_does_not_swallow_keyboard_interrupt(monkeypatch):
    def solve(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cp.Problem, "solve", solve)
    with pytest.raises(KeyboardInterrupt):
        solve_status(cp.Problem(cp.Minimize(cp.square(cp.Variable()))), "SCS")


def test_free_qp_with_scs_is_solved_in_closed_form_and_checked():
    X = random_frames(np.random.default_rng(0), 1, 4, 3)[0]
    K, b = _K(X), np.array([0.2, 0.1, -0.05, 0.15])
    for solver in ("SCS", "CLARABEL"):
        res = solve_beta_qp(K, b, 1.0, nonneg=False, solver=solver)
        assert res.verified and res.status.startswith("optimal (closed form")
        assert np.allclose(res.beta, np.linalg.solve(K, b), rtol=1e-12, atol=1e-14)
        assert res.stationarity <= 1e-12 and abs(res.gap) <= res.tolerance


def test_free_qp_singular_kernel():
    # d = 1: frames are +-1, so K has rank <= 2; b in range(K) has a minimiser, b outside it does not
    X = np.array([[1.0], [-1.0], [1.0]])
    K = _K(X)
    inside = K @ np.array([0.3, -0.1, 0.2])
    res = solve_beta_qp(K, inside, 1.0, nonneg=False, solver="SCS")
    assert res.verified and "singular" in res.status and res.stationarity <= 1e-12
    outside = np.array([1.0, 0.0, -1.0])  # orthogonal to range(K): the free QP is unbounded below
    assert np.linalg.norm(K @ outside) < 1e-12
    bad = solve_beta_qp(K, outside + inside, 1.0, nonneg=False, solver="SCS")
    assert not bad.verified


def test_nonneg_qp_with_scs_verified_and_equal_to_clarabel():
    rng = np.random.default_rng(3)
    polished = 0
    for _ in range(12):
        M, d = int(rng.integers(2, 7)), int(rng.integers(1, 5))
        X = random_frames(rng, 1, M, d)[0]
        K, b = _K(X), rng.normal(size=M) * 0.3
        scs = solve_beta_qp(K, b, 1.0, nonneg=True, solver="SCS")
        ref = solve_beta_qp(K, b, 1.0, nonneg=True, solver="CLARABEL")
        assert scs.verified and ref.verified, (scs.status, scs.stationarity, scs.gap, scs.tolerance)
        assert abs(scs.value - ref.value) <= 1e-6 * max(1.0, abs(ref.value))
        polished += "polished" in scs.status
    assert polished >= 1  # SCS's raw answer (accuracy ~1e-4) often needs the active-set polish to pass the check


def test_injected_override_is_never_polished():
    X = random_frames(np.random.default_rng(1), 1, 4, 3)[0]
    K, b = _K(X), np.array([0.2, -0.3, 0.1, 0.05])
    wrong = solve_beta_qp(K, b, 1.0, nonneg=True, override=lambda K, b: (np.linalg.solve(K, b) * 1.01, np.zeros(len(b))))
    assert not wrong.verified and wrong.status == "override"


def test_relaxations_degrade_on_any_solver_error(raising_solver):
    X = random_frames(np.random.default_rng(2), 1, 3, 2)[0]
    K, b = _K(X), np.array([0.2, 0.1, 0.3])
    qp = solve_beta_qp(K, b, 1.0, nonneg=True, solver="SCS")
    assert not qp.verified and qp.status.startswith(SOLVER_ERROR) and "ValueError" in qp.status
    free = solve_beta_qp(K, b, 1.0, nonneg=False, solver="SCS")  # needs no solver at all
    assert free.verified
    relu = get_activation("relu")
    sdp = sdp_bound(relu, 3, 0, solver="SCS")
    assert not sdp.kkt.ok and np.isnan(sdp.value) and sdp.note == SOLVER_ERROR
    lp = lp_bound(relu, 3, 2, solver="SCS")
    assert not lp.valid and lp.lp_status.startswith(SOLVER_ERROR)


def test_cell_verdict_degrades_honestly_on_solver_error(raising_solver):
    out = evaluate_cell({"M": 3, "d": 2, "starts": 4, "polish_dps": 0, "solver": "SCS"}, 0)
    # the tangent certificate holds, but the QP check at the ETF failed, so it is not used for PROVEN
    assert out["qp_at_etf_nonneg"]["verified"] is False
    assert out["qp_at_etf_nonneg"]["status"].startswith(SOLVER_ERROR)
    assert "not used for PROVEN" in out["qp_at_etf_nonneg"]["note"]
    assert out["verdict_nonneg"] == "SUPPORTED"
    # signed beta at M = 3 rests on the elliptope certificate, which uses no solver
    assert out["verdict_signed"] == "PROVEN" and "relu_M3.json" in out["reason_signed"]
    assert all(not s["kkt_ok"] and s["note"] == SOLVER_ERROR for s in out["sdp_signed"])


def _verdicts(tmp_path, solver: str, M: str, d: str, capsys) -> tuple[list, float]:
    out = tmp_path / solver
    t0 = time.perf_counter()
    code = main(["conjecture", "--solver", solver, "--M", M, "--d", d, "--starts", "8", "--polish-dps", "0",
                 "--workers", "0", "--quiet", "--out", str(out), "--store", str(tmp_path / f"{solver}.sqlite")])
    seconds = time.perf_counter() - t0
    _, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    report = json.loads((out / "latest" / "report.json").read_text())
    cells = [((c["result"]["params"]["M"], c["result"]["params"]["d"]),
              (c["result"]["verdict_nonneg"], c["result"]["verdict_signed"])) for c in report["cells"]]
    return sorted(cells), seconds


def test_scs_and_clarabel_give_identical_verdicts_on_the_grid(tmp_path, capsys):
    """The full M <= 5, d <= 5 grid: about 20 s per solver in-process (under 60 s together), so it runs in the
    default suite."""
    scs, t_scs = _verdicts(tmp_path, "SCS", "2-5", "1-5", capsys)
    clarabel, t_cl = _verdicts(tmp_path, "CLARABEL", "2-5", "1-5", capsys)
    assert len(scs) == 20 and [c[0] for c in scs] == [c[0] for c in clarabel]
    assert scs == clarabel, [(a, b) for a, b in zip(scs, clarabel) if a != b]
    counts = Counter(v for _, v in scs)
    assert counts[("PROVEN", "SUPPORTED")] >= 1 and counts[("NOT_APPLICABLE", "NOT_APPLICABLE")] == 6
    print(f"SCS {t_scs:.1f} s, CLARABEL {t_cl:.1f} s, verdicts {dict(counts)}")

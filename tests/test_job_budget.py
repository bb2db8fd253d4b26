"""The job budget (theory.job_budget): every command estimates its job from its arguments before it starts.

* above the default budget (2 GiB, 1 h) a job is refused, naming the argument that drives it, unless
  --allow-large is given; then it runs and says its estimate on stderr first;
* above the machine's memory it is refused even with --allow-large;
* --estimate prints the estimate (strict JSON with --json), runs nothing and writes nothing.
"""

from __future__ import annotations

import json
import math

import pytest

import theory.job_budget as budget
from cli_checks import assert_refused
from conjecture.command_line import main
from conjecture.job_cost import cell_seconds, sweep_estimate
from theory.errors import InputError
from theory.job_budget import JobEstimate, Part, check_budget, duration_text


def _cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _refused(result, argument: str, *needles: str) -> str:
    return assert_refused(*result, argument, *needles)


@pytest.fixture
def big_machine(monkeypatch):
    """A 64 GiB machine, so that the default budget, not the machine, is what a mid-sized job meets."""
    monkeypatch.setattr(budget, "machine_memory_bytes", lambda: 64 * 2**30)


# -- the rule ----------------------------------------------------------------------------------------------------

def test_check_budget_rules(big_machine):
    small = JobEstimate("x", (Part(2**20, 1.0, "N", "small"),))
    slow = JobEstimate("x", (Part(2**20, 2 * 3600.0, "starts", "slow search"), Part(0, 1.0, "M", "other")))
    huge = JobEstimate("x", (Part(60 * 2**30, 1.0, "N", "huge block"),))
    check_budget(small, allow_large=False)
    with pytest.raises(InputError) as err:
        check_budget(slow, allow_large=False)
    assert err.value.argument == "starts" and "--allow-large" in str(err.value) and "2 h" in str(err.value)
    check_budget(slow, allow_large=True)
    for allow in (False, True):  # 60 GiB > 80% of 64 GiB: never
        with pytest.raises(InputError) as err:
            check_budget(huge, allow_large=allow)
        assert err.value.argument == "N" and "more than this machine can hold" in str(err.value)


@pytest.mark.parametrize("seconds, text", [(0.5, "0.5 s"), (20, "20 s"), (600, "10 min"), (3600, "1 h"),
                                           (9000, "2.5 h"), (86400 * 30, "30 days")])
def test_duration_text(seconds, text):
    assert duration_text(seconds) == text


# -- loss ----------------------------------------------------------------------------------------------------------

def test_loss_over_the_default_time_budget_needs_allow_large(capsys, big_machine):
    argv = ("loss", "--N", "1000", "--d", "16", "--method", "mc", "--mc-samples", "100000000")
    # 10^8 samples of N = 1000 neurons: about 22 min; with a 1-minute budget it is refused without --allow-large
    budget_s = 60.0
    import unittest.mock as mock

    with mock.patch.object(budget, "DEFAULT_MAX_SECONDS", budget_s):
        _refused(_cli(capsys, *argv), "mc-samples", "--allow-large", "reduce --mc-samples")
        code, out, err = _cli(capsys, *argv, "--allow-large", "--estimate", "--json")
    assert code == 0 and err == ""
    est = json.loads(out)["estimate"]
    assert est["seconds"] > budget_s and est["command"] == "loss"
    assert max(est["parts"], key=lambda p: p["seconds"])["argument"] == "mc-samples"


def test_allow_large_runs_the_job_and_says_its_estimate(capsys, monkeypatch):
    monkeypatch.setattr(budget, "DEFAULT_MAX_SECONDS", 1e-9)  # every job is "large" now
    _refused(_cli(capsys, "loss", "--N", "50", "--d", "4"), "N", "--allow-large")
    code, out, err = _cli(capsys, "loss", "--N", "50", "--d", "4", "--allow-large", "--json")
    assert code == 0, err
    assert err.startswith("twolayer loss: --allow-large: estimated ") and len(err.strip().splitlines()) == 1
    (row,) = json.loads(out)
    assert row["method"].startswith("float64") and math.isfinite(row["value"])


def test_loss_above_the_machine_is_refused_even_with_allow_large(capsys, monkeypatch):
    monkeypatch.setattr(budget, "machine_memory_bytes", lambda: 4 * 2**30)
    _refused(_cli(capsys, "loss", "--N", "10000000", "--d", "100", "--allow-large"), "N",
             "more than this machine can hold", "reduce --N")


def test_loss_estimate_agrees_with_the_memory_parts(capsys):
    from numerics.loss_job import job_estimate, job_memory

    est = job_estimate(1000, 3, 16, ("float64",), drawn=True, samples=10)
    assert est.memory_bytes == sum(p[0] for p in job_memory(1000, 3, 16, ("float64",), drawn=True))
    code, out, _ = _cli(capsys, "loss", "--estimate", "--json")
    assert code == 0 and json.loads(out)["estimate"]["memory_bytes"] == est.memory_bytes


# -- conjecture, etf-sweep, verify, derive -----------------------------------------------------------------------

def test_conjecture_runaway_grid_is_refused_before_anything_is_written(tmp_path, capsys, big_machine):
    out_dir, store = tmp_path / "out", tmp_path / "store"
    line = _refused(_cli(capsys, "conjecture", "--M", "2-64", "--d", "1-64", "--starts", "4096", "--out", str(out_dir),
                         "--store", str(store)), "starts", "--allow-large", "days")
    assert "4032 cells" in line
    assert not out_dir.exists() and not store.exists()


def test_estimate_runs_nothing_and_writes_nothing(tmp_path, capsys):
    out_dir, store = tmp_path / "out", tmp_path / "store"
    for argv in (("conjecture", "--M", "2-16", "--d", "M-1", "--starts", "1000", "--out", str(out_dir)),
                 ("etf-sweep", "--M", "2-8", "--d", "M-1", "--out", str(out_dir)),
                 ("verify", "--profile", "full", "--out", str(out_dir)),
                 ("derive", "--M", "64", "--d", "63", "--dps", "50")):
        code, out, err = _cli(capsys, *argv, "--store", str(store), "--estimate", "--json") if argv[0] != "derive" \
            else _cli(capsys, *argv, "--estimate", "--json")
        assert code == 0, (argv, err)
        est = json.loads(out)["estimate"]
        assert est["command"] == argv[0] and est["seconds"] > 0 and est["memory_bytes"] > 0
        assert set(est["budget"]) == {"memory_bytes", "seconds", "machine_memory_bytes"}
        code, out, err = _cli(capsys, *argv, "--estimate")
        assert code == 0 and out.startswith(f"twolayer {argv[0]}: estimated ") and "default budget" in out
    assert not out_dir.exists() and not store.exists()


def test_conjecture_estimate_grows_with_its_arguments():
    base = {"M": 8, "d": 7, "starts": 32, "max_iter": 300, "polish_dps": 30}
    assert cell_seconds({**base, "starts": 320}) > cell_seconds(base)
    assert cell_seconds({**base, "polish_dps": 0}) < cell_seconds(base)
    assert cell_seconds({**base, "d": 4}) > cell_seconds({**base, "d": 7, "polish_dps": 0})  # M > d + 1: no ETF
    one = sweep_estimate([base] * 4, workers=1)
    two = sweep_estimate([base] * 4, workers=2)
    from conjecture.job_cost import STARTUP_S

    assert two.seconds - STARTUP_S == pytest.approx((one.seconds - STARTUP_S) / 2)  # start-up runs in parallel
    assert two.memory_bytes == 2 * one.memory_bytes


def test_etf_sweep_and_verify_over_budget(tmp_path, capsys, monkeypatch, big_machine):
    monkeypatch.setattr(budget, "DEFAULT_MAX_SECONDS", 1e-3)  # a tiny budget: refused before anything runs
    store = tmp_path / "store"
    _refused(_cli(capsys, "etf-sweep", "--M", "2-8", "--d", "M-1", "--store", str(store)), "M", "--allow-large")
    assert not store.exists()
    monkeypatch.setattr(budget, "DEFAULT_MAX_SECONDS", 600.0)
    _refused(_cli(capsys, "verify", "--profile", "full", "--store", str(store)), "profile", "--allow-large")
    assert not store.exists()


@pytest.mark.parametrize("argv", [("etf-sweep", "--M", "2-20", "--d", "30"),
                                  ("conjecture", "--M", "2-3", "--d", "1-2", "--starts", "4", "--polish-dps", "0")])
def test_the_estimate_printed_is_the_one_the_run_checks(tmp_path, capsys, argv):
    """--estimate and the run plan the same workers (regression: etf-sweep --estimate once skipped the
    in-process choice for small sweeps and showed 2 workers where the run used 1)."""
    common = (*argv, "--store", str(tmp_path / "store"), "--json")
    code, out, _ = _cli(capsys, *common, "--estimate")
    assert code == 0
    shown = json.loads(out)["estimate"]
    code, out, err = _cli(capsys, *common, "--out", str(tmp_path / "out"), "--quiet")
    assert code == 0, err
    assert json.loads(out)["estimate"] == shown

"""Runaway jobs: ``--workers`` above the machine's cores, and a ``--scheduler`` nobody answers at.

Regression tests: ``etf-sweep --workers 1024`` started 124 processes in 40 s; ``--scheduler
tcp://127.0.0.1:1`` took 41 s to say nothing was listening.  Both must now be one-line InputErrors (exit 2)
naming the argument, the first before any process or store is created, the second within the connect
timeout (``--connect-timeout``, default 5 s, bounded 1..600).
"""

from __future__ import annotations

import argparse
import json
import socket
import time

import psutil
import pytest

from cli_checks import assert_refused
from conjecture.command_line import main
from numerics.etf_cell import KIND, etf_cell
from numerics.evidence import sweep as sweep_mod
from numerics.evidence.store import ResultStore
from numerics.evidence.sweep import add_sweep_arguments, run_sweep, sweep_kwargs
from theory import limits
from theory.errors import InputError

CORES = limits.machine_cores()
CELL = {"activation": "relu", "M": 2, "d": 2, "dps": 20}


def _cli(capsys, *argv) -> tuple[int, str, str, float]:
    capsys.readouterr()
    start = time.perf_counter()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    seconds = time.perf_counter() - start
    out, err = capsys.readouterr()
    return code, out, err, seconds


def _refused(result, argument: str, *needles: str, within: float = 20) -> str:
    code, out, err, seconds = result
    assert seconds < within, seconds
    return assert_refused(code, out, err, argument, *needles)


@pytest.fixture
def dead_port():
    """A loopback port bound but not listening: a connection to it is refused, and no one else can take it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


# -- --workers -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("workers", [1024, CORES + 1])
def test_etf_sweep_workers_above_the_cores_is_refused_before_anything_starts(tmp_path, capsys, workers):
    before = _children()
    store = tmp_path / "store"
    line = _refused(_cli(capsys, "etf-sweep", "--M", "2", "--d", "2", "--workers", str(workers), "--store", str(store),
                         "--quiet"), "workers", f"at most {CORES} local workers", "cores", f"(got {workers})",
                    within=10)
    assert "--scheduler" in line
    assert _children() <= before  # no LocalCluster, no worker process
    assert not store.exists()  # refused before the store was opened


def test_conjecture_workers_above_the_cores_is_refused(tmp_path, capsys):
    store = tmp_path / "store"
    _refused(_cli(capsys, "conjecture", "--M", "2", "--d", "2", "--workers", "1024", "--store", str(store),
                  "--out", str(tmp_path / "out"), "--quiet"), "workers", f"at most {CORES} local workers")
    with ResultStore(store) as st:  # the run never started: no run, no cell
        assert st.runs() == [] and st.count_cells() == 0


def test_run_sweep_caps_workers_at_the_cores_unless_a_scheduler_is_given(tmp_path):
    with pytest.raises(InputError, match=f"argument workers: at most {CORES} local workers"):
        run_sweep(etf_cell, [CELL], kind=KIND, store=tmp_path, seed=1, n_workers=CORES + 1, quiet=True)
    assert sweep_mod._check_workers(CORES) == CORES and sweep_mod._check_workers(0) == 0
    assert sweep_mod._check_workers(None) is None
    # with a scheduler the cluster's workers run the cells: the local cap does not apply
    assert sweep_mod._check_workers(CORES + 1, "tcp://127.0.0.1:8786") == CORES + 1
    with pytest.raises(InputError, match="workers"):
        sweep_mod._check_workers(limits.MAX_WORKERS_ANY + 1, "tcp://127.0.0.1:8786")
    for bad in (-1, True, 1.5, "2"):
        with pytest.raises(InputError, match="argument workers"):
            sweep_mod._check_workers(bad)


def test_workers_up_to_the_cores_still_runs(tmp_path):
    out = run_sweep(etf_cell, [CELL], kind=KIND, store=tmp_path, seed=1, n_workers=0, quiet=True)
    assert out.computed == 1 and out.records[0].result["verdict"] == "agree"


# -- --scheduler and --connect-timeout -----------------------------------------------------------------------------------

def test_unreachable_scheduler_answers_within_the_default_timeout(tmp_path, capsys, dead_port):
    address = f"tcp://127.0.0.1:{dead_port}"
    line = _refused(_cli(capsys, "etf-sweep", "--M", "2", "--d", "2", "--scheduler", address,
                         "--store", str(tmp_path), "--quiet"), "scheduler",
                    f"no Dask scheduler answered at {address} within 5 s", within=15)
    assert "--connect-timeout" in line
    with ResultStore(tmp_path) as st:  # recorded as a failed run with no cells
        assert [r.status for r in st.runs()] == ["failed"] and st.count_cells() == 0


def test_connect_timeout_option_sets_the_wait(tmp_path, capsys, dead_port):
    address = f"tcp://127.0.0.1:{dead_port}"
    result = _cli(capsys, "etf-sweep", "--M", "2", "--d", "2", "--scheduler", address, "--connect-timeout", "1",
                  "--store", str(tmp_path), "--quiet")
    _refused(result, "scheduler", f"no Dask scheduler answered at {address} within 1 s", within=10)
    assert 0.9 < result[3]  # it did wait for the scheduler (about 1 s), and no longer than needed


@pytest.mark.parametrize("value", ["0", "0.5", "601", "nan", "inf", "-3", "abc", "1e309"])
def test_connect_timeout_out_of_bounds_is_refused(tmp_path, capsys, value):
    store = tmp_path / "store"
    _refused(_cli(capsys, "etf-sweep", "--M", "2", "--d", "2", "--connect-timeout", value, "--store", str(store),
                  "--quiet"), "connect-timeout", "from 1 to 600", within=10)
    assert not store.exists()


def test_run_sweep_connect_timeout_keyword(tmp_path, monkeypatch, dead_port):
    address = f"tcp://127.0.0.1:{dead_port}"
    for bad in (0, 601, True, float("nan"), "five", [5]):
        with pytest.raises(InputError, match="argument connect-timeout"):
            run_sweep(etf_cell, [CELL], kind=KIND, store=tmp_path / "bad", seed=1, scheduler=address, quiet=True,
                      connect_timeout=bad)
    assert sweep_mod.CONNECT_TIMEOUT_S == limits.DEFAULT_CONNECT_TIMEOUT_S == 5
    monkeypatch.setattr(sweep_mod, "CONNECT_TIMEOUT_S", 1)  # the default is the module constant, read at call time
    start = time.perf_counter()
    with pytest.raises(InputError, match=f"no Dask scheduler answered at {address} within 1 s"):
        run_sweep(etf_cell, [CELL], kind=KIND, store=tmp_path / "ok", seed=1, scheduler=address, quiet=True)
    assert time.perf_counter() - start < 10


def test_sweep_arguments_have_connect_timeout(capsys):
    parser = argparse.ArgumentParser()
    add_sweep_arguments(parser)
    kw = sweep_kwargs(parser.parse_args(["--connect-timeout", "12.5", "--scheduler", "tcp://127.0.0.1:8786",
                                         "--workers", str(CORES + 3)]))
    assert kw["connect_timeout"] == 12.5 and kw["scheduler"] == "tcp://127.0.0.1:8786" and kw["n_workers"] == CORES + 3
    assert sweep_kwargs(parser.parse_args([]))["connect_timeout"] == 5.0
    with pytest.raises(InputError, match="argument workers"):
        sweep_kwargs(parser.parse_args(["--workers", str(CORES + 1)]))
    with pytest.raises(SystemExit):
        main(["etf-sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--connect-timeout SECONDS" in text and "1..600 (default: 5)" in text


def test_scheduler_address_is_bounded(tmp_path, capsys):
    line = _refused(_cli(capsys, "etf-sweep", "--scheduler", "tcp://" + "h" * 100_000, "--store", str(tmp_path / "s")),
                    "scheduler", "at most 300 characters", within=10)
    assert len(line) < 300


def test_json_output_unaffected_by_limits(tmp_path, capsys):
    code, out, err, _ = _cli(capsys, "etf-sweep", "--M", "2", "--d", "2", "--workers", "0", "--store", str(tmp_path),
                             "--quiet", "--json")
    assert code == 0, err
    assert json.loads(out)["agree"] == 1


@pytest.mark.parametrize("option,value", [("--workers", "9" * 5000), ("--workers", "-1"), ("--workers", "1.5"),
                                          ("--seed", "9" * 5000), ("--seed", "-3")])
def test_sweep_integer_options_refuse_without_echoing(tmp_path, capsys, option, value):
    store = tmp_path / "store"
    code, out, err, seconds = _cli(capsys, "etf-sweep", "--M", "2", "--d", "2", option, value, "--store", str(store))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"argument {option}: expected an integer from 0 to" in err and len(err) < 300 and seconds < 10
    assert not store.exists()

"""Scale-out: the same sweep serially, on a LocalCluster and on a separately started ``dask scheduler``
plus ``dask worker`` processes on loopback gives identical results, all flowing into the store."""

from __future__ import annotations

import os

import pytest

from numerics.etf_cell import KIND, etf_cell
from numerics.evidence.loopback_cluster import loopback_cluster as start_loopback_cluster
from numerics.evidence.store import ResultStore
from numerics.evidence.sweep import run_sweep
from theory.errors import InputError

CELLS = [{"activation": a, "M": M, "d": 4, "dps": 30} for a in ("relu", "abs") for M in (2, 3, 4)]
SEED = 11
START_TIMEOUT_S = 60  # scheduler + workers must come up within this (2 busy cores)


@pytest.fixture(scope="module")
def loopback_cluster(tmp_path_factory):
    """A real `dask scheduler` on 127.0.0.1 and one `dask worker` process with 2 single-threaded workers."""
    with start_loopback_cluster(tmp_path_factory.mktemp("dask"), 2, timeout_s=START_TIMEOUT_S) as (address, n):
        assert address.startswith("tcp://127.0.0.1:")
        yield address, n


def _result_map(outcome) -> dict:
    return {r.cell_id: (r.params, r.seed, r.result) for r in outcome.records}


def test_serial_localcluster_and_external_scheduler_agree(tmp_path, loopback_cluster):
    address, n_workers = loopback_cluster
    assert n_workers == 2
    serial = run_sweep(etf_cell, CELLS, kind=KIND, store=tmp_path / "serial", seed=SEED, n_workers=0, quiet=True)
    local = run_sweep(etf_cell, CELLS, kind=KIND, store=tmp_path / "local", seed=SEED, n_workers=2, quiet=True)
    remote = run_sweep(etf_cell, CELLS, kind=KIND, store=tmp_path / "remote", seed=SEED, scheduler=address,
                       quiet=True)
    assert serial.scheduler == "serial"
    assert local.scheduler == "LocalCluster(2 workers)"
    assert remote.scheduler == f"dask {address}"
    for out in (serial, local, remote):
        assert (out.computed, out.reused) == (len(CELLS), 0)
    # identical results, seeds and ids (the numbers themselves, not only their hash)
    assert _result_map(local) == _result_map(serial) == _result_map(remote)
    assert local.content_hash == serial.content_hash == remote.content_hash
    # the cells ran on worker processes, not in this process, and came back into each store
    me = f":{os.getpid()}"
    assert all(not r.worker.endswith(me) for r in local.records + remote.records)
    assert all(r.worker.endswith(me) for r in serial.records)
    assert len({r.worker for r in remote.records}) >= 1
    # the workers' environments are part of the recorded provenance, and here they equal ours
    for out, n in ((local, 2), (remote, n_workers)):
        assert len(out.provenance["workers"]) == n and out.provenance["worker_environment_differs"] == []
        worker_pids = {env["process"]["pid"] for env in out.provenance["workers"].values()}
        assert {int(r.worker.rsplit(":", 1)[1]) for r in out.records} <= worker_pids
    for name in ("local", "remote"):
        with ResultStore(tmp_path / name) as st:
            assert "workers" in st.runs()[-1].provenance
            assert st.count_cells() == len(CELLS) and st.integrity_check() == "ok"
            assert st.runs()[-1].scheduler.startswith(("LocalCluster", "dask tcp://127.0.0.1"))


def test_external_scheduler_resumes_from_store(tmp_path, loopback_cluster):
    address, _ = loopback_cluster
    first = run_sweep(etf_cell, CELLS[:3], kind=KIND, store=tmp_path, seed=SEED, n_workers=0, quiet=True)
    again = run_sweep(etf_cell, CELLS, kind=KIND, store=tmp_path, seed=SEED, scheduler=address, quiet=True)
    assert (first.computed, again.computed, again.reused) == (3, len(CELLS) - 3, 3)
    with ResultStore(tmp_path) as st:
        assert st.count_cells() == len(CELLS) and st.duplicate_cell_count() == 0


def test_unreachable_scheduler_is_an_input_error(tmp_path, monkeypatch):
    import numerics.evidence.sweep

    monkeypatch.setattr(numerics.evidence.sweep, "CONNECT_TIMEOUT_S", 2)
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InputError, match="scheduler"):
        run_sweep(etf_cell, CELLS[:1], kind=KIND, store=tmp_path, seed=1, scheduler=f"tcp://127.0.0.1:{port}",
                  quiet=True)
    with ResultStore(tmp_path) as st:  # the failed run is recorded as such, with no cells
        assert [r.status for r in st.runs()] == ["failed"] and st.count_cells() == 0

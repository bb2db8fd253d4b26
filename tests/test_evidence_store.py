"""The result store: transactional cells, no duplicates, resume after SIGKILL, concurrent writers,
JSON/Parquet export with provenance and content hash."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from numerics.etf_cell import KIND, etf_cell
from numerics.evidence.store import CellRecord, ResultStore, resolve_store_path, results_hash
from numerics.evidence.sweep import run_sweep
from theory.errors import InputError

REPO = Path(__file__).resolve().parent.parent
SUBPROCESS_TIMEOUT_S = 90  # a whole CLI sweep below takes a few seconds; this only stops a hang


def _sweep_cmd(store: Path, neurons: str, dims: str, dps: int, seed: int = 3) -> list[str]:
    return [sys.executable, "-m", "conjecture.command_line", "etf-sweep", "--M", neurons, "--d", dims,
            "--dps", str(dps), "--seed", str(seed), "--workers", "0", "--store", str(store), "--quiet"]


def _count(db: Path) -> tuple[int, int]:
    """(rows, distinct cell ids), read through a separate, plain sqlite3 connection."""
    if not db.exists():
        return 0, 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return tuple(con.execute("SELECT COUNT(*), COUNT(DISTINCT cell_id) FROM cells").fetchone())
    except sqlite3.OperationalError:  # schema not created yet
        return 0, 0
    finally:
        con.close()


def _record(cid: str, value: str = "1.0") -> CellRecord:
    return CellRecord(cid, "k", {"x": 1}, 5, {"verdict": "agree", "values": {"v": value}, "precision_digits": 3}, 0.5,
                      "r1")


def test_cells_are_stored_once_and_round_trip(tmp_path):
    with ResultStore(tmp_path) as st:
        assert st.path == tmp_path / "twolayer.sqlite"
        assert st.add_cell(_record("aaaa0001")) is True
        assert st.add_cell(_record("aaaa0001", value="2.0")) is False  # same id: kept as first stored
        got = st.get_cell("aaaa0001")
        assert got.result["values"]["v"] == "1.0" and got.params == {"x": 1} and got.seed == 5
        assert st.get_cell("aaaa00").cell_id == "aaaa0001"  # unique prefix
        assert st.count_cells() == 1 and st.duplicate_cell_count() == 0
        row = st.conn.execute('SELECT verdict, "values", precision_digits FROM cells').fetchone()
        assert row == ("agree", '{"v":"1.0"}', 3)
        st.add_cell(_record("aaaa0002"))
        with pytest.raises(InputError, match="ambiguous"):
            st.get_cell("aaaa")
        with pytest.raises(InputError, match="no cell"):
            st.get_cell("bbbb")
        with pytest.raises(InputError, match="cell id"):
            st.get_cell("a'; DROP TABLE cells; --")


def test_failed_transaction_leaves_no_trace(tmp_path):
    with ResultStore(tmp_path) as st:
        with pytest.raises(RuntimeError):
            with st.transaction() as c:
                c.execute("INSERT INTO meta(key, value) VALUES ('probe', 'x')")
                raise RuntimeError("abort")
        assert st.conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'probe'").fetchone()[0] == 0


def test_store_path_rules(tmp_path, monkeypatch):
    assert resolve_store_path(tmp_path) == tmp_path / "twolayer.sqlite"
    assert resolve_store_path(tmp_path / "a.sqlite") == tmp_path / "a.sqlite"
    monkeypatch.setenv("TWOLAYER_STORE", str(tmp_path / "env"))
    assert resolve_store_path(None) == tmp_path / "env" / "twolayer.sqlite"
    with pytest.raises(InputError, match="no result store"):
        ResultStore(tmp_path / "missing", create=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InputError, match="not a readable"):
        ResultStore(junk)


def test_export_json_and_parquet_carry_provenance_and_hash(tmp_path):
    import pyarrow.parquet as pq

    cells = [{"activation": "relu", "M": M, "d": 3, "dps": 20} for M in (2, 3, 4)]
    out = run_sweep(etf_cell, cells, kind=KIND, store=tmp_path, seed=2, n_workers=0, quiet=True)
    prov = out.provenance
    with ResultStore(tmp_path) as st:
        jpath = st.export_json(tmp_path / "x.json", run_id=out.run_id, provenance=prov)
        ppath = st.export_parquet(tmp_path / "x.parquet", run_id=out.run_id, provenance=prov)
    data = json.loads(jpath.read_text())
    assert [c["cell_id"] for c in data["cells"]] == [r.cell_id for r in out.records]
    assert data["content_hash"] == results_hash(data["cells"]) == out.content_hash
    assert data["provenance"]["packages"]["numpy"] and "commit" in data["provenance"]["git"]
    table = pq.read_table(ppath)
    assert table.column("cell_id").to_pylist() == [r.cell_id for r in out.records]
    assert [json.loads(x) for x in table.column("result").to_pylist()] == [r.result for r in out.records]
    meta = table.schema.metadata
    assert meta[b"twolayer.content_hash"].decode() == out.content_hash
    assert json.loads(meta[b"twolayer.provenance"])["seeds"] == [2]


def test_sigkill_midway_then_restart_loses_and_repeats_nothing(tmp_path):
    """MUST SHOW: kill a sweep with SIGKILL midway; the restart keeps every finished cell and computes only the rest."""
    db = tmp_path / "twolayer.sqlite"
    cmd = _sweep_cmd(tmp_path, "2..9", "9", 40)
    total = 8
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
    try:
        while _count(db)[0] < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=SUBPROCESS_TIMEOUT_S)
    assert proc.returncode == -signal.SIGKILL, "the sweep finished before it could be killed"
    rows_at_kill, distinct_at_kill = _count(db)
    assert 3 <= rows_at_kill < total and rows_at_kill == distinct_at_kill
    with ResultStore(tmp_path) as st:
        assert st.integrity_check() == "ok"
        killed_run = st.runs()[0]
        assert killed_run.status == "running" and killed_run.finished_at is None  # it never got to close
        before = {c.cell_id: c.finished_at for c in st.iter_cells()}

    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # not a terminal: no progress bar
    assert f"{total} cells ({total - rows_at_kill} computed, {rows_at_kill} reused)" in again.stdout
    rows, distinct = _count(db)
    assert rows == distinct == total
    with ResultStore(tmp_path) as st:
        after = {c.cell_id: c.finished_at for c in st.iter_cells()}
        assert {k: after[k] for k in before} == before  # finished cells untouched, not recomputed
        assert st.integrity_check() == "ok" and st.duplicate_cell_count() == 0
        runs = st.runs()
        assert [r.status for r in runs] == ["abandoned", "complete"]  # the restart noticed the killed run
        assert [r.computed for r in runs] == [rows_at_kill, total - rows_at_kill]
    print(f"SIGKILL at {rows_at_kill}/{total} cells; restart computed {total - rows_at_kill}, reused {rows_at_kill};"
          f" store holds {rows} rows, {distinct} distinct")


def test_two_sweeps_writing_one_store_at_once(tmp_path):
    """MUST SHOW: two overlapping sweeps in two processes, one store; both finish, integrity_check is ok."""
    a = subprocess.Popen(_sweep_cmd(tmp_path, "2..7", "6", 30), cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    b = subprocess.Popen(_sweep_cmd(tmp_path, "4..7", "6,7", 30), cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=SUBPROCESS_TIMEOUT_S) for p in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, outs
    assert "6 cells" in outs[0][0] and "8 cells" in outs[1][0]
    unique = 6 + 4  # (M, d=6) for M = 2..7, plus (M, d=7) for M = 4..7; (4..7, 6) is shared
    rows, distinct = _count(tmp_path / "twolayer.sqlite")
    assert rows == distinct == unique
    with sqlite3.connect(tmp_path / "twolayer.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        statuses = [r[0] for r in con.execute("SELECT status FROM runs")]
    assert statuses == ["complete", "complete"]

"""The result store: transactional cells, no duplicates, resume after SIGKILL, concurrent writers (and
readers), JSON/Parquet export with provenance and content hash, read-only opening."""

from __future__ import annotations

import hashlib
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
from numerics.evidence.store import APPLICATION_ID, CellRecord, ResultStore, resolve_store_path, results_hash
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
    # Read commands see every finished cell (some only in the killed writer's -wal) and write nothing.
    sha = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()
           if p.name in ("twolayer.sqlite", "twolayer.sqlite-wal")}
    check = subprocess.run([sys.executable, "-m", "conjecture.command_line", "store", "check", "--json", "--store",
                            str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["cells"] == rows_at_kill and json.loads(check.stdout)["integrity_check"] == "ok"
    assert {n: hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in sha} == sha
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


def test_three_sweeps_and_readers_on_one_store_at_once(tmp_path):
    """Three overlapping sweeps in three processes write one store while `store check` reads it over and over."""
    from conjecture.command_line import main
    import contextlib
    import io

    specs = [("2..5", "5"), ("3..5", "5,6"), ("2..6", "6")]  # 4, 6 and 5 cells, 6 of them shared; 9 distinct
    procs = [subprocess.Popen(_sweep_cmd(tmp_path, m, d, 20), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for m, d in specs]
    reads, seen, last = 0, False, 0
    deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["store", "check", "--json", "--store", str(tmp_path)])
        if code == 2 and not seen:  # the store is not created yet
            assert "store" in err.getvalue(), err.getvalue()
            continue
        assert code == 0, err.getvalue()
        data = json.loads(out.getvalue())
        assert data["integrity_check"] == "ok" and data["duplicate_ids"] == 0 and data["cells"] >= last
        seen, last, reads = True, data["cells"], reads + 1
        time.sleep(0.05)
    outs = [p.communicate(timeout=SUBPROCESS_TIMEOUT_S) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert [f"{n} cells" in o[0] for n, o in zip((4, 6, 5), outs)] == [True] * 3
    rows, distinct = _count(tmp_path / "twolayer.sqlite")
    assert rows == distinct == 9
    with ResultStore(tmp_path, readonly=True) as st:
        assert st.integrity_check() == "ok" and st.duplicate_cell_count() == 0
        assert [r.status for r in st.runs()] == ["complete"] * 3
        # overlapping sweeps may each compute a shared cell; it is stored once (INSERT OR IGNORE)
        assert sum(r.computed for r in st.runs()) >= 9
    print(f"3 concurrent sweeps (4, 6, 5 cells) and {reads} reads during the writes: {rows} rows, {distinct} "
          "distinct, integrity_check ok, 3 runs complete")


def test_store_written_before_the_mark_is_read_unchanged_and_marked_by_a_writer(tmp_path, capsys):
    from conjecture.command_line import main

    with ResultStore(tmp_path) as st:
        st.add_cell(_record("aaaa0001"))
    db = tmp_path / "twolayer.sqlite"
    con = sqlite3.connect(db)  # as a schema-1 store looked before the mark
    con.execute("PRAGMA application_id = 0")
    con.execute("DELETE FROM meta WHERE key = 'format'")
    con.commit()
    con.close()
    assert sorted(os.listdir(tmp_path)) == ["twolayer.sqlite"]
    sha = hashlib.sha256(db.read_bytes()).hexdigest()
    assert main(["store", "check", "--store", str(tmp_path)]) == 0
    assert "1 cells" in capsys.readouterr().out
    assert hashlib.sha256(db.read_bytes()).hexdigest() == sha and sorted(os.listdir(tmp_path)) == ["twolayer.sqlite"]
    with ResultStore(tmp_path) as st:  # a writer adds the mark
        assert st.count_cells() == 1
    with sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert con.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()[0] == "twolayer-results"


def test_read_only_store_reads_and_refuses_writes(tmp_path):
    with ResultStore(tmp_path) as st:
        st.add_cell(_record("aaaa0001"))
        st.add_cell(_record("aaaa0002"))
    db = tmp_path / "twolayer.sqlite"
    existing = tmp_path / "old.json"
    existing.write_text("keep")
    sha = hashlib.sha256(db.read_bytes()).hexdigest()
    with ResultStore(tmp_path, readonly=True) as ro:
        assert ro.readonly and ro.count_cells() == 2 and ro.integrity_check() == "ok"
        assert [c.cell_id for c in ro.iter_cells(limit=1)] == ["aaaa0001"]
        assert ro.conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0] == 2
        with pytest.raises(RuntimeError, match="read-only"):
            ro.add_cell(_record("aaaa0003"))
        assert ro.add_report(report_id="rep-0", run_id=None, content_hash_="x", paths={}, cell_ids=[], title="t") is False
        with pytest.raises(InputError, match="exists already"):
            ro.export_json(existing)
        assert existing.read_text() == "keep"
        assert len(json.loads(ro.export_json(tmp_path / "new.json").read_text())["cells"]) == 2
        with pytest.raises(InputError, match="expected an integer >= 1"):
            list(ro.iter_cells(limit=0))
        # a writer that comes and goes while the reader is open: the reader sees its cells
        with ResultStore(tmp_path) as w:
            w.add_cell(_record("aaaa0003"))
        assert ro.count_cells() == 3
    assert sorted(os.listdir(tmp_path)) == ["new.json", "old.json", "twolayer.sqlite"]  # no -wal/-shm left
    assert hashlib.sha256(db.read_bytes()).hexdigest() != sha  # (the writer's cell, not the reader's doing)
    with pytest.raises(InputError, match="no result store"):
        ResultStore(tmp_path / "nope", readonly=True)
    assert not (tmp_path / "nope").exists()


def test_long_or_wildcard_ids_are_refused_before_sqlite_sees_them(tmp_path):
    with ResultStore(tmp_path) as st:
        st.add_cell(_record("aaaa0001"))
        for bad in ("a" * 100_000, "a" * 65, "aaa_", "aa%a", "aa\na", "ａａａａ"):
            with pytest.raises(InputError, match="cell id") as info:
                st.get_cell(bad)
            assert len(str(info.value)) < 200
        assert st.get_cell("a" * 4).cell_id == "aaaa0001" and st.get_cell("AAAA0001").cell_id == "aaaa0001"

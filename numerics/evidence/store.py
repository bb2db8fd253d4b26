"""The result store: one SQLite file per project directory holding every run and every result cell.

Layout (schema version 1)::

    runs(run_id, sweep_id, kind, seed, n_cells, started_at, finished_at, status, computed, reused,
         wall_seconds, scheduler, provenance JSON, error)
    cells(cell_id PRIMARY KEY, kind, params JSON, seed, result JSON, verdict, values JSON, bounds JSON,
          precision_digits, seconds, run_id, finished_at, result_hash, worker, function)
    run_cells(run_id, cell_id, position)          -- which cells a run asked for, in order
    reports(report_id, run_id, created_at, content_hash, paths JSON, cell_ids JSON, title)

A cell is identified by a hash of (kind, canonical params, seed), so the same cell is stored once
(``INSERT OR IGNORE`` on the primary key): a restarted sweep finds its finished cells and does not
recompute them, and two sweeps writing one store never duplicate a cell.  Every write is one
transaction (``BEGIN IMMEDIATE ... COMMIT``) in WAL mode with ``synchronous=FULL``, so a process killed
with SIGKILL loses at most the cell it was computing, and concurrent writers wait (busy timeout) rather
than fail.

``ResultStore(path)``: ``path`` is the SQLite file, or a directory meaning ``<dir>/twolayer.sqlite``.
The default project store is ``./twolayer-results/twolayer.sqlite`` (override with the environment
variable ``TWOLAYER_STORE`` or ``--store``).

References: the project's issue 5 (evidence that can be cited); docs/evidence.md.

Examples
--------
>>> import tempfile, os
>>> tmp = tempfile.mkdtemp()
>>> with ResultStore(tmp) as store:
...     os.path.basename(store.path), store.integrity_check()
('twolayer.sqlite', 'ok')
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from theory.errors import InputError
from numerics.evidence.provenance import canonical_json, content_hash, utc_now

STORE_FILENAME = "twolayer.sqlite"
DEFAULT_PROJECT_DIR = "twolayer-results"
SCHEMA_VERSION = "1"
# Writers wait this long for the write lock before giving up (concurrent sweeps on one store).
BUSY_TIMEOUT_S = 120.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    sweep_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    seed INTEGER NOT NULL,
    n_cells INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    computed INTEGER NOT NULL DEFAULT 0,
    reused INTEGER NOT NULL DEFAULT 0,
    wall_seconds REAL,
    scheduler TEXT,
    provenance TEXT NOT NULL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS cells (
    cell_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    result TEXT NOT NULL,
    verdict TEXT,
    "values" TEXT,
    bounds TEXT,
    precision_digits INTEGER,
    seconds REAL NOT NULL,
    run_id TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    result_hash TEXT NOT NULL,
    worker TEXT,
    function TEXT
);
CREATE TABLE IF NOT EXISTS run_cells (
    run_id TEXT NOT NULL,
    cell_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (run_id, cell_id)
);
CREATE TABLE IF NOT EXISTS reports (
    report_id TEXT PRIMARY KEY,
    run_id TEXT,
    created_at TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    paths TEXT NOT NULL,
    cell_ids TEXT NOT NULL,
    title TEXT
);
CREATE INDEX IF NOT EXISTS cells_kind ON cells(kind);
CREATE INDEX IF NOT EXISTS cells_run ON cells(run_id);
"""


@dataclass(frozen=True)
class CellRecord:
    """One finished cell: inputs (kind, params, seed), the JSON result and the compute time in seconds.

    ``result`` may carry 'verdict', 'values', 'bounds' and 'precision_digits' (digits the values are
    claimed to), which the store also keeps in columns of their own.
    """

    cell_id: str
    kind: str
    params: dict
    seed: int
    result: dict
    seconds: float
    run_id: str = ""
    finished_at: str = ""
    worker: str = ""
    function: str = ""

    @property
    def result_hash(self) -> str:
        """content_hash of the result (what a citation of this cell pins)."""
        return content_hash(self.result)

    def as_dict(self) -> dict:
        """Plain-JSON form, as exported."""
        return {
            "cell_id": self.cell_id,
            "kind": self.kind,
            "params": self.params,
            "seed": self.seed,
            "result": self.result,
            "result_hash": self.result_hash,
            "seconds": self.seconds,
            "run_id": self.run_id,
            "finished_at": self.finished_at,
            "worker": self.worker,
            "function": self.function,
        }


@dataclass(frozen=True)
class RunRecord:
    """One invocation of a sweep, with the provenance recorded when it started."""

    run_id: str
    sweep_id: str
    kind: str
    seed: int
    n_cells: int
    started_at: str
    finished_at: str | None
    status: str
    computed: int
    reused: int
    wall_seconds: float | None
    scheduler: str | None
    provenance: dict = field(repr=False)
    error: str | None = None


def claimed_digits(result: dict) -> int | None:
    """The smallest precision a result claims: ``precision_digits`` as an int, or the minimum of a dict of them.

    Examples
    --------
    >>> claimed_digits({"precision_digits": {"a": 25, "b": 11}}), claimed_digits({"x": 1})
    (11, None)
    """
    spec = result.get("precision_digits") if isinstance(result, dict) else None
    if isinstance(spec, dict):
        nums = [v for v in spec.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return int(min(nums)) if nums else None
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return int(spec)
    return None


def resolve_store_path(path: str | os.PathLike | None = None) -> Path:
    """The SQLite file for ``path``: a directory (existing, or without a suffix) means
    ``<dir>/twolayer.sqlite``; None means ``$TWOLAYER_STORE`` or ``./twolayer-results``.

    Examples
    --------
    >>> resolve_store_path("proj").name, resolve_store_path("proj/x.sqlite").name
    ('twolayer.sqlite', 'x.sqlite')
    """
    if path is None:
        path = os.environ.get("TWOLAYER_STORE") or DEFAULT_PROJECT_DIR
    p = Path(os.fspath(path)).expanduser()
    if p.is_dir() or (not p.exists() and p.suffix == ""):
        return p / STORE_FILENAME
    return p


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class ResultStore:
    """Transactional SQLite store of runs and result cells (see the module docstring for the schema).

    One connection per ``ResultStore`` object and per process; do not share one object between
    processes (Dask workers never touch the store: results flow back to the process that runs the
    sweep, which writes them).
    """

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True) -> None:
        self.path = resolve_store_path(path).absolute()
        if not create and not self.path.is_file():
            raise InputError("store", "no result store at this path (run a sweep first, or pass --store)", got=str(self.path))
        if self.path.exists() and not self.path.is_file():
            raise InputError("store", "expected an SQLite file or a project directory", got=str(self.path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._connect()

    # -- connection and transactions -------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            for attempt in range(50):  # switching to WAL needs a moment without other writers
                try:
                    conn.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError as err:
                    if "locked" not in str(err) and "busy" not in str(err):
                        raise
                    time.sleep(0.05 * (attempt + 1))
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._conn, self._pid = conn, os.getpid()
            with self.transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    conn.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
                elif row[0] != SCHEMA_VERSION:
                    raise InputError("store", f"schema version {row[0]} is not supported (expected {SCHEMA_VERSION})",
                                     got=str(self.path))
        except sqlite3.DatabaseError as err:
            self._conn = None
            raise InputError("store", f"not a readable twolayer result store ({err})", got=str(self.path)) from None
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        return self._connect()

    class _Tx:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            # BEGIN IMMEDIATE takes the write lock now, so the transaction cannot fail half-way on a
            # lock upgrade; sqlite3's busy handler retries for BUSY_TIMEOUT_S.  A few outer retries
            # cover the rare SQLITE_BUSY returned without invoking the handler (WAL recovery).
            for attempt in range(20):
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    return self.conn
                except sqlite3.OperationalError as err:
                    if "locked" not in str(err) and "busy" not in str(err):
                        raise
                    time.sleep(0.05 * (attempt + 1))
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, exc, tb) -> None:
            if exc_type is None:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute("ROLLBACK")

    def transaction(self) -> "ResultStore._Tx":
        """Context manager: one write transaction (committed on success, rolled back on error)."""
        return ResultStore._Tx(self._conn if self._conn is not None else self._connect())

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"

    # -- runs -------------------------------------------------------------------------------------
    def begin_run(self, *, run_id: str, sweep_id: str, kind: str, seed: int, cell_ids: Sequence[str],
                  scheduler: str | None, provenance: dict) -> None:
        """Record a new run and the cells it asks for (one transaction)."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO runs(run_id, sweep_id, kind, seed, n_cells, started_at, status, scheduler, provenance)"
                " VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                (run_id, sweep_id, kind, int(seed), len(cell_ids), utc_now(), scheduler, canonical_json(provenance)),
            )
            c.executemany(
                "INSERT OR IGNORE INTO run_cells(run_id, cell_id, position) VALUES (?, ?, ?)",
                [(run_id, cid, i) for i, cid in enumerate(cell_ids)],
            )

    def mark_abandoned_runs(self) -> list[str]:
        """Runs still 'running' whose process (same host, recorded pid) no longer exists become 'abandoned'
        (killed, e.g. by SIGKILL, before they could close).  Returns their ids."""
        import platform

        host = platform.node()
        stale = []
        for run_id, prov in self.conn.execute("SELECT run_id, provenance FROM runs WHERE status = 'running'").fetchall():
            proc = (_loads(prov) or {}).get("process") or {}
            pid = proc.get("pid")
            if proc.get("host") == host and isinstance(pid, int) and not _pid_alive(pid):
                stale.append(run_id)
        if stale:
            with self.transaction() as c:
                c.executemany("UPDATE runs SET status = 'abandoned', error = ?,"
                              " computed = (SELECT COUNT(*) FROM cells WHERE cells.run_id = runs.run_id)"
                              " WHERE run_id = ? AND status = 'running'",
                              [("its process ended without closing the run (killed?)", r) for r in stale])
        return stale

    def update_run_provenance(self, run_id: str, provenance: dict) -> None:
        """Replace a run's provenance (e.g. to add the Dask workers' environments once they are known)."""
        with self.transaction() as c:
            c.execute("UPDATE runs SET provenance = ? WHERE run_id = ?", (canonical_json(provenance), run_id))

    def finish_run(self, run_id: str, *, status: str, computed: int, reused: int, wall_seconds: float,
                   error: str | None = None) -> None:
        """Close a run: status 'complete', 'failed' or 'interrupted', with its counts and wall time.
        (A run whose process was killed stays 'running' until ``mark_abandoned_runs`` sees it.)"""
        with self.transaction() as c:
            c.execute(
                "UPDATE runs SET finished_at = ?, status = ?, computed = ?, reused = ?, wall_seconds = ?, error = ?"
                " WHERE run_id = ?",
                (utc_now(), status, int(computed), int(reused), float(wall_seconds), error, run_id),
            )

    def _run_from_row(self, row: sqlite3.Row | tuple) -> RunRecord:
        (run_id, sweep_id, kind, seed, n_cells, started, finished, status, computed, reused, wall, sched, prov, err) = row
        return RunRecord(run_id, sweep_id, kind, seed, n_cells, started, finished, status, computed, reused, wall,
                         sched, _loads(prov), err)

    _RUN_COLUMNS = ("run_id, sweep_id, kind, seed, n_cells, started_at, finished_at, status, computed, reused,"
                    " wall_seconds, scheduler, provenance, error")

    def runs(self) -> list[RunRecord]:
        """All runs, oldest first."""
        rows = self.conn.execute(f"SELECT {self._RUN_COLUMNS} FROM runs ORDER BY started_at, run_id").fetchall()
        return [self._run_from_row(r) for r in rows]

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id or unique id prefix (InputError if none or ambiguous)."""
        rows = self.conn.execute(f"SELECT {self._RUN_COLUMNS} FROM runs WHERE run_id LIKE ? ORDER BY run_id",
                                 (_prefix_pattern(run_id, "run"),)).fetchall()
        return self._run_from_row(_unique(rows, run_id, "run"))

    def run_cell_ids(self, run_id: str) -> list[str]:
        """Cell ids a run asked for, in its order."""
        rows = self.conn.execute("SELECT cell_id FROM run_cells WHERE run_id = ? ORDER BY position", (run_id,))
        return [r[0] for r in rows]

    # -- cells ------------------------------------------------------------------------------------
    def add_cell(self, record: CellRecord) -> bool:
        """Store a finished cell in one transaction; False if that cell id was already stored (kept as is)."""
        result = record.result
        precision = claimed_digits(result)
        with self.transaction() as c:
            cur = c.execute(
                'INSERT OR IGNORE INTO cells(cell_id, kind, params, seed, result, verdict, "values", bounds,'
                " precision_digits, seconds, run_id, finished_at, result_hash, worker, function)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.cell_id,
                    record.kind,
                    canonical_json(record.params),
                    int(record.seed),
                    canonical_json(result),
                    None if result.get("verdict") is None else str(result.get("verdict")),
                    None if "values" not in result else canonical_json(result["values"]),
                    None if "bounds" not in result else canonical_json(result["bounds"]),
                    precision,
                    float(record.seconds),
                    record.run_id,
                    record.finished_at or utc_now(),
                    record.result_hash,
                    record.worker,
                    record.function,
                ),
            )
            return cur.rowcount == 1

    _CELL_COLUMNS = "cell_id, kind, params, seed, result, seconds, run_id, finished_at, worker, function"

    @staticmethod
    def _cell_from_row(row: tuple) -> CellRecord:
        cid, kind, params, seed, result, seconds, run_id, finished, worker, function = row
        return CellRecord(cid, kind, _loads(params), int(seed), _loads(result), float(seconds), run_id or "",
                          finished or "", worker or "", function or "")

    def finished_ids(self, cell_ids: Iterable[str]) -> set[str]:
        """The subset of ``cell_ids`` already stored."""
        ids = list(cell_ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.conn.execute(f"SELECT cell_id FROM cells WHERE cell_id IN ({marks})", chunk))
        return found

    def get_cells(self, cell_ids: Sequence[str]) -> list[CellRecord]:
        """Stored cells for exactly these ids, in this order (missing ids are skipped)."""
        by_id: dict[str, CellRecord] = {}
        ids = list(cell_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT {self._CELL_COLUMNS} FROM cells WHERE cell_id IN ({marks})", chunk):
                by_id[row[0]] = self._cell_from_row(row)
        return [by_id[i] for i in ids if i in by_id]

    def get_cell(self, cell_id: str) -> CellRecord:
        """The cell with this id or unique id prefix (at least 4 characters)."""
        rows = self.conn.execute(f"SELECT {self._CELL_COLUMNS} FROM cells WHERE cell_id LIKE ? ORDER BY cell_id",
                                 (_prefix_pattern(cell_id, "cell"),)).fetchall()
        return self._cell_from_row(_unique(rows, cell_id, "cell"))

    def iter_cells(self, *, run_id: str | None = None, kind: str | None = None) -> Iterator[CellRecord]:
        """Stored cells, by run (the run's cells in its order, including ones another run computed) or kind."""
        if run_id is not None:
            sql = (f"SELECT {', '.join('c.' + x.strip() for x in self._CELL_COLUMNS.split(','))} FROM run_cells rc"
                   " JOIN cells c ON c.cell_id = rc.cell_id WHERE rc.run_id = ? ORDER BY rc.position")
            rows = self.conn.execute(sql, (run_id,))
        elif kind is not None:
            rows = self.conn.execute(f"SELECT {self._CELL_COLUMNS} FROM cells WHERE kind = ? ORDER BY finished_at",
                                     (kind,))
        else:
            rows = self.conn.execute(f"SELECT {self._CELL_COLUMNS} FROM cells ORDER BY finished_at, cell_id")
        for row in rows.fetchall():
            yield self._cell_from_row(row)

    def count_cells(self, *, kind: str | None = None) -> int:
        """Number of stored cells (of one kind)."""
        if kind is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0])
        return int(self.conn.execute("SELECT COUNT(*) FROM cells WHERE kind = ?", (kind,)).fetchone()[0])

    # -- reports ----------------------------------------------------------------------------------
    def add_report(self, *, report_id: str, run_id: str | None, content_hash_: str, paths: dict,
                   cell_ids: Sequence[str], title: str) -> None:
        """Record a written report (its files and the cells it cites)."""
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO reports(report_id, run_id, created_at, content_hash, paths, cell_ids, title)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (report_id, run_id, utc_now(), content_hash_, canonical_json(paths), canonical_json(list(cell_ids)), title),
            )

    def get_report(self, report_id: str) -> dict:
        """{'report_id', 'run_id', 'created_at', 'content_hash', 'paths', 'cell_ids', 'title'} by id or prefix."""
        rows = self.conn.execute(
            "SELECT report_id, run_id, created_at, content_hash, paths, cell_ids, title FROM reports"
            " WHERE report_id LIKE ? ORDER BY report_id", (_prefix_pattern(report_id, "report"),)).fetchall()
        rid, run_id, created, chash, paths, cells, title = _unique(rows, report_id, "report")
        return {"report_id": rid, "run_id": run_id, "created_at": created, "content_hash": chash,
                "paths": _loads(paths), "cell_ids": _loads(cells), "title": title}

    # -- checks and export ------------------------------------------------------------------------
    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` ('ok' when the file is sound)."""
        rows = self.conn.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)

    def duplicate_cell_count(self) -> int:
        """Rows sharing a cell id (0 by the primary key; counted independently as a check)."""
        row = self.conn.execute("SELECT COUNT(*) - COUNT(DISTINCT cell_id) FROM cells").fetchone()
        return int(row[0])

    def export_rows(self, *, run_id: str | None = None, kind: str | None = None) -> list[dict]:
        """Cells as plain dicts (the JSON/Parquet export rows)."""
        return [c.as_dict() for c in self.iter_cells(run_id=run_id, kind=kind)]

    def export_json(self, path: str | os.PathLike, *, run_id: str | None = None, kind: str | None = None,
                    provenance: dict | None = None) -> Path:
        """Write {'provenance', 'runs', 'cells', 'content_hash'} to ``path``; returns the path.

        ``content_hash`` is the hash of the exported cells (their ids, inputs and results, not timings).
        """
        rows = self.export_rows(run_id=run_id, kind=kind)
        runs = [r for r in self.runs() if run_id is None or r.run_id == run_id]
        payload = {
            "format": "twolayer-results/1",
            "store": str(self.path.resolve()),
            "provenance": provenance,
            "runs": [{**{k: getattr(r, k) for k in RunRecord.__dataclass_fields__}} for r in runs],
            "cells": rows,
            "content_hash": results_hash(rows),
        }
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=1, sort_keys=True, allow_nan=False))
        os.replace(tmp, out)
        return out

    def export_parquet(self, path: str | os.PathLike, *, run_id: str | None = None, kind: str | None = None,
                       provenance: dict | None = None) -> Path:
        """Write the cells as a Parquet table (params/result as JSON text columns plus verdict,
        precision_digits and seconds as typed columns); provenance and content hash go into the
        file's key-value metadata."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = self.export_rows(run_id=run_id, kind=kind)
        table = pa.table({
            "cell_id": pa.array([r["cell_id"] for r in rows], pa.string()),
            "kind": pa.array([r["kind"] for r in rows], pa.string()),
            "params": pa.array([canonical_json(r["params"]) for r in rows], pa.string()),
            "seed": pa.array([r["seed"] for r in rows], pa.int64()),
            "verdict": pa.array([None if r["result"].get("verdict") is None else str(r["result"]["verdict"])
                                 for r in rows], pa.string()),
            "precision_digits": pa.array([claimed_digits(r["result"]) for r in rows], pa.int64()),
            "result": pa.array([canonical_json(r["result"]) for r in rows], pa.string()),
            "result_hash": pa.array([r["result_hash"] for r in rows], pa.string()),
            "seconds": pa.array([r["seconds"] for r in rows], pa.float64()),
            "run_id": pa.array([r["run_id"] for r in rows], pa.string()),
            "finished_at": pa.array([r["finished_at"] for r in rows], pa.string()),
        })
        meta = {b"twolayer.content_hash": results_hash(rows).encode(),
                b"twolayer.provenance": canonical_json(provenance).encode(),
                b"twolayer.store": str(self.path.resolve()).encode()}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, out)
        return out


def results_hash(rows: Sequence[dict]) -> str:
    """content_hash of [(cell_id, kind, params, seed, result)] sorted by cell id: what a citation pins
    (timings, workers and run ids are excluded, so a re-run that reproduces the numbers has the same hash)."""
    core = sorted(([r["cell_id"], r["kind"], r["params"], r["seed"], r["result"]] for r in rows), key=lambda x: x[0])
    return content_hash(core)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prefix_pattern(text: str, what: str) -> str:
    body = str(text).strip()
    if len(body) < 4 or not all(ch.isalnum() or ch in "-_" for ch in body):
        raise InputError(what, f"expected a {what} id (at least 4 letters, digits, '-' or '_')", got=text)
    return body + "%"


def _unique(rows: list, text: str, what: str):
    if not rows:
        raise InputError(what, f"no {what} with this id in the store", got=text)
    if len(rows) > 1:
        raise InputError(what, f"ambiguous {what} id prefix; matches {', '.join(str(r[0]) for r in rows[:5])}", got=text)
    return rows[0]

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

A twolayer store marks itself: ``PRAGMA application_id`` is ``APPLICATION_ID`` ("2LYR") and ``meta`` holds
``format = twolayer-results`` and ``schema_version``.  (Stores written before the mark have only
``meta.schema_version`` and the tables above; they are recognised too, and a writer adds the mark.)
Any other SQLite file (another program's) is refused, by readers and writers alike, before anything
is written to it.

``ResultStore(path)``: ``path`` is the SQLite file, or a directory meaning ``<dir>/twolayer.sqlite``.
The default project store is ``./twolayer-results/twolayer.sqlite`` (override with the environment
variable ``TWOLAYER_STORE`` or ``--store``).  ``ResultStore(path, readonly=True)`` (or ``create=False``)
opens an existing store for reading only: SQLite ``mode=ro``, no schema, no journal-mode switch, no
write of any kind, and -- when no writer is active (no ``-wal`` file) -- ``immutable=1``, so that not
even the ``-wal``/``-shm`` files a WAL reader would make are left behind; a read-only file or a
store in a read-only directory can be read.  If a writer changes the file during such a read, the
query is run again (through an ordinary shared read while the writer's -wal exists).  A writer, too,
looks at an existing file read-only first, so another program's file is refused untouched; and it
checks that the file and its directory are writable before it starts.

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
import tempfile
import time
from urllib.parse import quote
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from theory.errors import InputError
from theory.limits import shown
from numerics.evidence.provenance import canonical_json, content_hash, utc_now

STORE_FILENAME = "twolayer.sqlite"
DEFAULT_PROJECT_DIR = "twolayer-results"
SCHEMA_VERSION = "1"
# Writers wait this long for the write lock before giving up (concurrent sweeps on one store).
BUSY_TIMEOUT_S = 120.0
# The store's mark in the SQLite header (PRAGMA application_id): "2LYR" as a big-endian 32-bit integer.
APPLICATION_ID = int.from_bytes(b"2LYR", "big")
STORE_FORMAT = "twolayer-results"
# Tables every twolayer store has (a file without them is not one).
REQUIRED_TABLES = frozenset({"meta", "runs", "cells", "run_cells"})
# Cell, run and report ids (and their prefixes): 4 to 64 ASCII letters, digits or '-'.
MIN_ID_CHARS, MAX_ID_CHARS = 4, 64

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


# Echoed values in error messages: ids and other values are cut by theory.limits.shown (48 characters plus
# their length); a path keeps its last SHOWN_PATH_CHARS characters (its file name).  Both stay within the 80
# characters theory.errors.InputError echoes.
SHOWN_PATH_CHARS = 72


def shown_path(path: object) -> str:
    """A path as echoed in an error message: whole when short, else '...' and its last SHOWN_PATH_CHARS characters.

    Examples
    --------
    >>> shown_path("/a/b.sqlite"), shown_path("/" + "d" * 200 + "/store.sqlite")[-16:]
    ('/a/b.sqlite', 'ddd/store.sqlite')
    """
    s = str(os.fspath(path) if isinstance(path, os.PathLike) else path).replace("\n", "\\n").replace("\r", "\\r")
    return s if len(s) <= SHOWN_PATH_CHARS + 3 else "..." + s[-SHOWN_PATH_CHARS:]


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
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text.strip() or "\x00" in text:
        raise InputError("store", "expected an SQLite file or a project directory", got=shown_path(text))
    try:
        p = Path(text).expanduser()
        if p.is_dir() or (not p.exists() and p.suffix == ""):
            return p / STORE_FILENAME
    except (OSError, RuntimeError) as err:  # e.g. a name too long for the file system, an unknown ~user
        reason = getattr(err, "strerror", None) or str(err)
        raise InputError("store", f"cannot use this path ({reason})", got=shown_path(text)) from None
    return p


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _file_identity(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _sqlite_reason(err: BaseException) -> str:
    return str(err).strip() or type(err).__name__


def _classify(conn: sqlite3.Connection, path: Path) -> str:
    """'empty' (a database with nothing in it), 'twolayer' (marked) or 'legacy' (a store written before
    the mark); InputError for another program's SQLite file or an unsupported schema version."""
    foreign = InputError("store", "not a twolayer result store (an SQLite file of another program; left unchanged)",
                         got=shown_path(path))
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    objects = int(conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0])
    if app_id not in (0, APPLICATION_ID):
        raise foreign
    if app_id == 0 and user_version == 0 and objects == 0:
        return "empty"
    if "meta" not in tables:
        if app_id == APPLICATION_ID:
            raise InputError("store", "a damaged twolayer result store (its meta table is missing)",
                             got=shown_path(path))
        raise foreign
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('format', 'schema_version')").fetchall())
    except sqlite3.DatabaseError:  # a 'meta' table of another shape
        raise foreign from None
    marked = app_id == APPLICATION_ID or meta.get("format") == STORE_FORMAT
    if not marked:
        # A store written before the mark: schema version 1 and the twolayer tables with their columns.
        try:
            columns = {r[1] for r in conn.execute("PRAGMA table_info(cells)").fetchall()}
        except sqlite3.DatabaseError:
            columns = set()
        legacy = (meta.get("schema_version") == SCHEMA_VERSION and REQUIRED_TABLES <= tables
                  and {"cell_id", "kind", "params", "seed", "result", "result_hash", "run_id"} <= columns)
        if not legacy:
            raise foreign
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError("store", f"schema version {version} is not supported (expected {SCHEMA_VERSION})",
                         got=shown_path(path))
    if not REQUIRED_TABLES <= tables:
        raise InputError("store", "a damaged twolayer result store (tables missing: "
                         f"{', '.join(sorted(REQUIRED_TABLES - tables))})", got=shown_path(path))
    fully_marked = app_id == APPLICATION_ID and meta.get("format") == STORE_FORMAT and "reports" in tables
    return "twolayer" if fully_marked else "legacy"


class _Rows:
    """Rows of a finished query, with the cursor methods the store's callers use."""

    def __init__(self, rows: list) -> None:
        self._rows = rows
        self._next = 0

    def fetchone(self):
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list:
        rest, self._next = self._rows[self._next:], len(self._rows)
        return rest

    def __iter__(self):
        return iter(self.fetchall())


class _ReadOnlyConnection:
    """What ``ResultStore.conn`` is for a read-only store: ``execute`` runs a query through the store's
    checked read path (re-run if a writer changed the file meanwhile) and returns its rows."""

    def __init__(self, store: "ResultStore") -> None:
        self._store = store

    def execute(self, sql: str, parameters: Sequence = ()) -> _Rows:
        return _Rows(self._store._query(sql, parameters))


class ResultStore:
    """Transactional SQLite store of runs and result cells (see the module docstring for the schema).

    ``create`` (default True): make the store (and its directory) if it does not exist; with
    ``create=False`` a missing store is an InputError.  ``readonly`` (default: ``not create``): open an
    existing store for reading only (see the module docstring); its write methods raise RuntimeError,
    except ``add_report``, which records nothing and returns False.

    One connection per ``ResultStore`` object and per process; do not share one object between
    processes (Dask workers never touch the store: results flow back to the process that runs the
    sweep, which writes them).
    """

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True,
                 readonly: bool | None = None) -> None:
        self.readonly = (not create) if readonly is None else bool(readonly)
        if self.readonly:
            create = False
        self.path = resolve_store_path(path).absolute()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._immutable = False
        self._identity: tuple | None = None
        try:
            exists = self.path.exists()
            is_file = self.path.is_file()
        except OSError as err:
            raise InputError("store", f"cannot use this path ({err.strerror})", got=shown_path(self.path)) from None
        if exists and not is_file:
            raise InputError("store", "expected an SQLite file or a project directory", got=shown_path(self.path))
        if not exists and not create:
            raise InputError("store", "no result store at this path (run a sweep first, or pass --store)",
                             got=shown_path(self.path))
        # What is there is looked at read-only first: another program's file is refused untouched.
        self._kind = self._probe() if exists else "missing"
        if self.readonly and self._kind == "empty":
            self.close()
            raise InputError("store", "not a twolayer result store (an empty file; run a sweep to create one)",
                             got=shown_path(self.path))
        self._connect()

    # -- connection and transactions -------------------------------------------------------------
    def _open_readonly(self) -> sqlite3.Connection:
        """A ``mode=ro`` connection; ``immutable=1`` as well when no writer is active (no -wal or -journal
        file beside the store), so that reading leaves no -wal/-shm file behind."""
        if not os.access(self.path, os.R_OK):
            raise InputError("store", "cannot read the store file (permission denied)", got=shown_path(self.path))
        side = str(self.path)
        immutable = not (os.path.lexists(side + "-wal") or os.path.lexists(side + "-journal"))
        identity = _file_identity(self.path)
        uri = "file:" + quote(str(self.path)) + "?mode=ro" + ("&immutable=1" if immutable else "")
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA query_only = ON")
        except sqlite3.DatabaseError as err:
            raise InputError("store", f"cannot open the store for reading ({_sqlite_reason(err)})",
                             got=shown_path(self.path)) from None
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn, self._pid, self._immutable, self._identity = conn, os.getpid(), immutable, identity
        return conn

    def _probe(self) -> str:
        """Classify the existing file through a read-only connection (kept when the store is read-only).

        A writer retries briefly: a store another sweep is creating this instant may not parse yet."""
        attempts = 1 if self.readonly else 4
        for attempt in range(attempts):
            try:
                if os.path.getsize(self.path) == 0:
                    kind = "empty"  # (SQLite takes an empty file for an empty database)
                else:
                    conn = self._open_readonly()
                    kind = _classify(conn, self.path)
                    if self._immutable and _file_identity(self.path) != self._identity:
                        self._open_readonly()  # a writer changed the file meanwhile: look again, shared
                        kind = _classify(self._conn, self.path)
                break
            except sqlite3.DatabaseError as err:
                self.close()
                if attempt + 1 < attempts:
                    time.sleep(0.1 * (attempt + 1))
                    continue
                raise InputError("store", f"not a readable twolayer result store ({_sqlite_reason(err)})",
                                 got=shown_path(self.path)) from None
            except InputError:
                self.close()
                raise
            except OSError as err:
                self.close()
                raise InputError("store", f"cannot read the store file ({err.strerror})",
                                 got=shown_path(self.path)) from None
        if not self.readonly:
            self.close()
        return kind

    def _connect(self):
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self.readonly:
            return self._open_readonly()
        return self._connect_writer()

    def _connect_writer(self) -> sqlite3.Connection:
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as err:
            raise InputError("store", "cannot create the store directory (a part of its path is a file)",
                             got=shown_path(err.filename or parent)) from None
        except OSError as err:
            raise InputError("store", f"cannot create the store directory ({(err.strerror or str(err)).lower()})",
                             got=shown_path(err.filename or parent)) from None
        creating = not self.path.exists()
        if not creating and not os.access(self.path, os.W_OK):
            raise InputError("store", "cannot write the store: the file is read-only (read commands such as "
                             "`store runs` still work)", got=shown_path(self.path))
        if not os.access(parent, os.W_OK):
            what = "cannot create the store file" if creating else "cannot write the store"
            raise InputError("store", f"{what}: its directory is read-only (a writer needs its -wal file there)",
                             got=shown_path(self.path))
        conn = None
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
            if self._kind != "twolayer":
                with self.transaction():
                    # Looked at again under the write lock, before anything is created.
                    kind = _classify(conn, self.path)
                    if kind != "twolayer":
                        for statement in _SCHEMA.split(";"):
                            if statement.strip():
                                conn.execute(statement)
                        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                        conn.executemany("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)",
                                         [("schema_version", SCHEMA_VERSION), ("format", STORE_FORMAT)])
                self._kind = "twolayer"
        except InputError:
            self.close()
            raise
        except sqlite3.DatabaseError as err:
            if conn is not None:
                conn.close()
            self._conn = None
            reason = _sqlite_reason(err)
            if creating:
                what = "cannot create the store file"
            elif "readonly" in reason or "read-only" in reason:
                what = "cannot write the store (it is read-only; read commands such as `store runs` still work)"
            elif "not a database" in reason:
                what = "not a readable twolayer result store"
            else:
                what = "cannot open the store for writing"
            raise InputError("store", f"{what} ({reason})", got=shown_path(self.path)) from None
        return conn

    def _unchanged(self) -> bool:
        return _file_identity(self.path) == self._identity

    def _query(self, sql: str, parameters: Sequence = ()) -> list:
        """All rows of one query.  Read through ``immutable=1``, the query is run again if the file changed
        meanwhile (a writer checkpointed into it): through a shared read while the writer's -wal exists,
        else immutable again on the new file."""
        conn = self._connect()
        if not (self.readonly and self._immutable):
            return conn.execute(sql, parameters).fetchall()
        for _ in range(3):
            try:
                rows = conn.execute(sql, parameters).fetchall()
            except sqlite3.DatabaseError:
                if self._unchanged():
                    raise
                rows = None
            if rows is not None and self._unchanged():
                return rows
            conn = self._open_readonly()
            if not self._immutable:
                return conn.execute(sql, parameters).fetchall()
        return conn.execute(sql, parameters).fetchall()

    @property
    def conn(self):
        """The SQLite connection (for a read-only store, a wrapper whose ``execute`` returns the rows)."""
        if self.readonly:
            self._connect()
            return _ReadOnlyConnection(self)
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
                return
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
                # e.g. the file became read-only after the store was opened
                raise InputError("store", f"cannot write the store: it is read-only ({exc})") from None

    def transaction(self) -> "ResultStore._Tx":
        """Context manager: one write transaction (committed on success, rolled back on error)."""
        if self.readonly:
            raise RuntimeError(f"{self!r} was opened read-only; it cannot be written")
        return ResultStore._Tx(self._conn if self._conn is not None and self._pid == os.getpid() else self._connect())

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r}{', readonly=True' if self.readonly else ''})"

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
        for run_id, prov in self._query("SELECT run_id, provenance FROM runs WHERE status = 'running'"):
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
        rows = self._query(f"SELECT {self._RUN_COLUMNS} FROM runs ORDER BY started_at, run_id")
        return [self._run_from_row(r) for r in rows]

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id or unique id prefix (InputError if none or ambiguous)."""
        rows = self._query(f"SELECT {self._RUN_COLUMNS} FROM runs WHERE run_id LIKE ? ORDER BY run_id LIMIT 6",
                           (_prefix_pattern(run_id, "run"),))
        return self._run_from_row(_unique(rows, run_id, "run"))

    def run_cell_ids(self, run_id: str) -> list[str]:
        """Cell ids a run asked for, in its order."""
        rows = self._query("SELECT cell_id FROM run_cells WHERE run_id = ? ORDER BY position", (run_id,))
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
            found.update(r[0] for r in self._query(f"SELECT cell_id FROM cells WHERE cell_id IN ({marks})", chunk))
        return found

    def get_cells(self, cell_ids: Sequence[str]) -> list[CellRecord]:
        """Stored cells for exactly these ids, in this order (missing ids are skipped)."""
        by_id: dict[str, CellRecord] = {}
        ids = list(cell_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._query(f"SELECT {self._CELL_COLUMNS} FROM cells WHERE cell_id IN ({marks})", chunk):
                by_id[row[0]] = self._cell_from_row(row)
        return [by_id[i] for i in ids if i in by_id]

    def get_cell(self, cell_id: str) -> CellRecord:
        """The cell with this id or unique id prefix (at least 4 characters)."""
        rows = self._query(f"SELECT {self._CELL_COLUMNS} FROM cells WHERE cell_id LIKE ? ORDER BY cell_id LIMIT 6",
                           (_prefix_pattern(cell_id, "cell"),))
        return self._cell_from_row(_unique(rows, cell_id, "cell"))

    def iter_cells(self, *, run_id: str | None = None, kind: str | None = None,
                   limit: int | None = None) -> Iterator[CellRecord]:
        """Stored cells, by run (the run's cells in its order, including ones another run computed) or kind;
        at most ``limit`` of them (None: all)."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise InputError("limit", "expected an integer >= 1", got=shown(limit))
        tail = "" if limit is None else f" LIMIT {int(limit)}"
        if run_id is not None:
            sql = (f"SELECT {', '.join('c.' + x.strip() for x in self._CELL_COLUMNS.split(','))} FROM run_cells rc"
                   " JOIN cells c ON c.cell_id = rc.cell_id WHERE rc.run_id = ? ORDER BY rc.position" + tail)
            rows = self._query(sql, (run_id,))
        elif kind is not None:
            rows = self._query(f"SELECT {self._CELL_COLUMNS} FROM cells WHERE kind = ? ORDER BY finished_at" + tail,
                               (kind,))
        else:
            rows = self._query(f"SELECT {self._CELL_COLUMNS} FROM cells ORDER BY finished_at, cell_id" + tail)
        for row in rows:
            yield self._cell_from_row(row)

    def count_cells(self, *, kind: str | None = None) -> int:
        """Number of stored cells (of one kind)."""
        if kind is None:
            return int(self._query("SELECT COUNT(*) FROM cells")[0][0])
        return int(self._query("SELECT COUNT(*) FROM cells WHERE kind = ?", (kind,))[0][0])

    # -- reports ----------------------------------------------------------------------------------
    def add_report(self, *, report_id: str, run_id: str | None, content_hash_: str, paths: dict,
                   cell_ids: Sequence[str], title: str) -> bool:
        """Record a written report (its files and the cells it cites); True once recorded.

        A read-only store records nothing and returns False (``store report`` is a read command: its
        report files carry the store path and cell ids, so ``reproduce <report file>`` still works)."""
        if self.readonly:
            return False
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO reports(report_id, run_id, created_at, content_hash, paths, cell_ids, title)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (report_id, run_id, utc_now(), content_hash_, canonical_json(paths), canonical_json(list(cell_ids)), title),
            )
        return True

    def get_report(self, report_id: str) -> dict:
        """{'report_id', 'run_id', 'created_at', 'content_hash', 'paths', 'cell_ids', 'title'} by id or prefix."""
        rows = self._query(
            "SELECT report_id, run_id, created_at, content_hash, paths, cell_ids, title FROM reports"
            " WHERE report_id LIKE ? ORDER BY report_id LIMIT 6", (_prefix_pattern(report_id, "report"),))
        rid, run_id, created, chash, paths, cells, title = _unique(rows, report_id, "report")
        return {"report_id": rid, "run_id": run_id, "created_at": created, "content_hash": chash,
                "paths": _loads(paths), "cell_ids": _loads(cells), "title": title}

    # -- checks and export ------------------------------------------------------------------------
    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` ('ok' when the file is sound)."""
        rows = self._query("PRAGMA integrity_check")
        return "; ".join(str(r[0]) for r in rows)

    def duplicate_cell_count(self) -> int:
        """Rows sharing a cell id (0 by the primary key; counted independently as a check)."""
        row = self._query("SELECT COUNT(*) - COUNT(DISTINCT cell_id) FROM cells")[0]
        return int(row[0])

    def export_rows(self, *, run_id: str | None = None, kind: str | None = None) -> list[dict]:
        """Cells as plain dicts (the JSON/Parquet export rows)."""
        return [c.as_dict() for c in self.iter_cells(run_id=run_id, kind=kind)]

    def export_json(self, path: str | os.PathLike, *, run_id: str | None = None, kind: str | None = None,
                    provenance: dict | None = None, overwrite: bool = False) -> Path:
        """Write {'provenance', 'runs', 'cells', 'content_hash'} to ``path``; returns the path.

        ``content_hash`` is the hash of the exported cells (their ids, inputs and results, not timings).
        The file is written atomically (a temporary file beside it, then renamed); an existing ``path``
        is an InputError unless ``overwrite``.
        """
        out = _check_export_target(path, overwrite)
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
        text = json.dumps(payload, indent=1, sort_keys=True, allow_nan=False)
        return _atomic_publish(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), overwrite)

    def export_parquet(self, path: str | os.PathLike, *, run_id: str | None = None, kind: str | None = None,
                       provenance: dict | None = None, overwrite: bool = False) -> Path:
        """Write the cells as a Parquet table (params/result as JSON text columns plus verdict,
        precision_digits and seconds as typed columns); provenance and content hash go into the
        file's key-value metadata.  Written atomically; an existing ``path`` needs ``overwrite``."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = _check_export_target(path, overwrite)
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
        return _atomic_publish(out, lambda tmp: pq.write_table(table, tmp), overwrite)


def _check_export_target(path: str | os.PathLike, overwrite: bool) -> Path:
    out = Path(os.fspath(path))
    try:
        if out.is_dir():
            raise InputError("out", "expected a file name, not a directory", got=shown_path(out))
        if os.path.lexists(out) and not overwrite:
            raise InputError("out", "the --out file exists already; nothing was written (pass --force to replace it)",
                             got=shown_path(out))
    except OSError as err:
        raise InputError("out", f"cannot use this path ({err.strerror})", got=shown_path(out)) from None
    return out


def _atomic_publish(out: Path, write, overwrite: bool) -> Path:
    """Write through ``write(tmp_path)`` into a fresh temporary file in ``out``'s directory, flush it to disk,
    then rename it onto ``out`` (``os.replace`` when ``overwrite``; else a hard link, which fails rather
    than replace a file that appeared meanwhile).  A failure leaves no temporary file behind."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name[:80]}.", suffix=".tmp", dir=out.parent)
    except OSError as err:
        raise InputError("out", f"cannot write a file in this directory ({(err.strerror or str(err)).lower()})",
                         got=shown_path(out)) from None
    try:
        umask = os.umask(0o022)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as an ordinary new file (mkstemp makes it 0600)
        os.close(fd)
        fd = -1
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, out)
        else:
            try:
                os.link(tmp, out)
            except FileExistsError:
                raise InputError("out", "the --out file exists already; nothing was written (pass --force to "
                                 "replace it)", got=shown_path(out)) from None
            except OSError:  # a file system without hard links
                if os.path.lexists(out):
                    raise InputError("out", "the --out file exists already; nothing was written",
                                     got=shown_path(out)) from None
                os.replace(tmp, out)
    finally:
        if fd >= 0:
            os.close(fd)
        if os.path.lexists(tmp):
            os.unlink(tmp)
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
    """``text`` + '%' for ``LIKE``, once ``text`` is checked to be an id or id prefix: MIN_ID_CHARS to
    MAX_ID_CHARS ASCII letters, digits or '-' (no LIKE wildcard, and short enough for SQLite's pattern limit)."""
    body = str(text).strip()
    rule = f"{MIN_ID_CHARS} to {MAX_ID_CHARS} letters, digits or '-'"
    if len(body) > MAX_ID_CHARS:
        raise InputError(what, f"expected a {what} id or prefix of {rule} (this one has {len(body)} characters)",
                         got=shown(text))
    if len(body) < MIN_ID_CHARS or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in body):
        raise InputError(what, f"expected a {what} id or prefix of {rule}", got=shown(text))
    return body + "%"


def _unique(rows: list, text: str, what: str):
    if not rows:
        raise InputError(what, f"no {what} with this id in the store", got=shown(text))
    if len(rows) > 1:
        more = ", ..." if len(rows) > 5 else ""
        raise InputError(what, f"ambiguous {what} id prefix; matches {', '.join(str(r[0]) for r in rows[:5])}{more}",
                         got=shown(text))
    return rows[0]

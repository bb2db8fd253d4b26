"""The result store is only read by the commands that read it, and never mistaken for another program's file.

* Every ``store`` action and ``reproduce`` open the store read-only: a twolayer store is byte-for-byte
  unchanged (sha256, file mode, no -wal/-shm left behind), and a store that cannot be written (0444 file,
  read-only directory; made immutable with ``chattr +i`` when running as root) can still be listed.
* A foreign SQLite file is refused (exit 2, one line naming the store) by every ``store`` action,
  ``reproduce`` and ``etf-sweep``, and left exactly as it was; a missing store path creates nothing.
* ``store export`` refuses an existing --out file unless --force, writes atomically, and takes its format
  from --format or a matching suffix.
* Long and odd ids, --limit and --kind are refused with one line naming the argument.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conjecture.command_line import main
from numerics.evidence.store import APPLICATION_ID, ResultStore

REPO = Path(__file__).resolve().parent.parent
SUBPROCESS_TIMEOUT_S = 120
SWEEP = ["--M", "2-3", "--d", "2", "--dps", "15", "--workers", "0", "--quiet"]


def _run(argv, capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``twolayer ARGV`` in this process (argparse errors exit with 2)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(folder: Path) -> dict:
    """{relative path: (mode, sha256 or None for a directory)} of everything under ``folder``."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(folder))] = (stat.filemode(st.st_mode),
                                           _sha(p) if stat.S_ISREG(st.st_mode) else os.readlink(p) if p.is_symlink()
                                           else None)
    return out


def _one_line_error(code: int, out: str, err: str, argument: str) -> str:
    line = err.strip()
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and len(line.splitlines()) == 1, err
    assert f"argument {argument}:" in line or f"argument --{argument}:" in line, line
    assert len(line) < 400, len(line)
    return line


# -- a real store, written once by a separate sweep process ---------------------------------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory):
    base = tmp_path_factory.mktemp("safety")
    proc = subprocess.run([sys.executable, "-m", "conjecture.command_line", "etf-sweep", *SWEEP, "--seed", "4",
                           "--store", str(base / "store"), "--out", str(base / "sweep-report"), "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    folder = base / "store"
    # the writer closed cleanly: only the database file is left, marked as a twolayer store
    assert sorted(os.listdir(folder)) == ["twolayer.sqlite"]
    with sqlite3.connect(f"file:{folder / 'twolayer.sqlite'}?mode=ro&immutable=1", uri=True) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert dict(con.execute("SELECT key, value FROM meta"))["format"] == "twolayer-results"
    return {"base": base, "folder": folder, "db": folder / "twolayer.sqlite", "run_id": info["run_id"],
            "cells": [r["cell_id"] for r in info["rows"]], "report_id": info["report_id"],
            "report_html": Path(info["report_dir"]) / "report.html"}


READ_COMMANDS = {
    "check": lambda s, w: ["store", "check"],
    "check-json": lambda s, w: ["store", "check", "--json"],
    "runs": lambda s, w: ["store", "runs", "--json"],
    "cells": lambda s, w: ["store", "cells", "--limit", "1"],
    "cells-of-run": lambda s, w: ["store", "cells", "--run", s["run_id"]],
    "export-json": lambda s, w: ["store", "export", "--out", w / "x.json"],
    "export-parquet": lambda s, w: ["store", "export", "--out", w / "x.parquet", "--run", s["run_id"][:12]],
    "report": lambda s, w: ["store", "report", "--run", s["run_id"], "--out", w / "rep", "--json"],
    "reproduce-cell": lambda s, w: ["reproduce", s["cells"][0]],
    "reproduce-run": lambda s, w: ["reproduce", s["run_id"]],
    "reproduce-report-id": lambda s, w: ["reproduce", s["report_id"]],
}


@pytest.mark.parametrize("name", sorted(READ_COMMANDS))
def test_read_commands_leave_a_twolayer_store_unchanged(store, name, capsys, tmp_path):
    before, sha_before = _snapshot(store["folder"]), _sha(store["db"])
    code, out, err = _run([*READ_COMMANDS[name](store, tmp_path), "--store", store["folder"]], capsys)
    assert code == 0, err
    assert _sha(store["db"]) == sha_before, f"{name} changed the store"
    assert _snapshot(store["folder"]) == before  # same mode, and no -wal/-shm (or anything else) left behind
    assert sorted(os.listdir(store["folder"])) == ["twolayer.sqlite"]
    if name == "check":
        assert "integrity_check ok; 2 cells, 0 duplicate ids; 1 runs (1 complete)" in out
    if name == "runs":
        assert [r["run_id"] for r in json.loads(out)["runs"]] == [store["run_id"]]
    if name == "cells":
        assert len(out.strip().splitlines()) == 1
    if name.startswith("export"):
        target = tmp_path / ("x.json" if name == "export-json" else "x.parquet")
        assert target.is_file() and sorted(os.listdir(tmp_path)) == [target.name]  # no temporary file left
    if name == "report":  # same cells as the sweep's own report: the same id, recorded by the sweep
        data = json.loads(out)
        assert data["report_id"] == store["report_id"] and data["report_in_store"] is True
        assert (tmp_path / "rep" / "latest" / "report.html").is_file()
    if name.startswith("reproduce"):
        assert "MATCH" in out
    print(f"{name}: sha256 {sha_before[:16]} before and after")


def test_store_report_does_not_record_the_report_in_the_store(capsys, tmp_path):
    folder = tmp_path / "s"
    assert _run(["etf-sweep", "--M", "2", "--d", "2", "--dps", "15", "--workers", "0", "--quiet", "--json",
                 "--store", folder], capsys)[0] == 0
    run_id = ResultStore(folder, readonly=True).runs()[0].run_id
    before = _snapshot(folder)
    code, out, err = _run(["store", "report", "--run", run_id, "--out", tmp_path / "rep", "--store", folder], capsys)
    assert code == 0, err
    assert "not recorded in the store" in out and "twolayer reproduce" in out
    assert _snapshot(folder) == before
    # the report file names its store and cells: it reproduces without the store knowing its id
    code, out, err = _run(["reproduce", tmp_path / "rep" / "latest" / "report.json"], capsys)
    assert code == 0 and "MATCH" in out, err
    assert _snapshot(folder) == before


def test_reproduce_of_a_report_file_leaves_the_store_unchanged(store, capsys):
    before = _snapshot(store["folder"])
    code, out, err = _run(["reproduce", store["report_html"], "--store", store["folder"]], capsys)
    assert code == 0, err
    assert _snapshot(store["folder"]) == before


# -- another program's SQLite file -----------------------------------------------------------------------
def _foreign(path: Path, journal: str, *, impostor: bool = False) -> None:
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA journal_mode = {journal}")
    con.execute("CREATE TABLE mine (a INTEGER, b TEXT)")
    con.executemany("INSERT INTO mine VALUES (?, ?)", [(i, f"row {i}") for i in range(50)])
    if impostor:  # a 'meta' table of the same shape, claiming schema version 1, but none of the store's tables
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.commit()
    con.close()


FOREIGN_COMMANDS = {
    "store check": ["store", "check"],
    "store check --json": ["store", "check", "--json"],
    "store runs": ["store", "runs"],
    "store cells": ["store", "cells"],
    "store cells --run": ["store", "cells", "--run", "r2024"],
    "store export": ["store", "export", "--out", "{w}/x.json"],
    "store report": ["store", "report", "--run", "r2024", "--out", "{w}/rep"],
    "reproduce cell": ["reproduce", "abcd1234"],
    "reproduce run": ["reproduce", "r20240101"],
    "reproduce report": ["reproduce", "rep-abcdef"],
    "etf-sweep": ["etf-sweep", *SWEEP],
}


@pytest.mark.parametrize("journal", ["delete", "wal"])
@pytest.mark.parametrize("impostor", [False, True], ids=["plain", "with-meta-table"])
def test_a_foreign_sqlite_file_is_refused_and_left_unchanged(journal, impostor, capsys, tmp_path):
    folder = tmp_path / "theirs"
    folder.mkdir()
    db = folder / "f.sqlite"
    _foreign(db, journal, impostor=impostor)
    assert sorted(os.listdir(folder)) == ["f.sqlite"]  # closed cleanly, WAL or not
    before, sha_before = _snapshot(tmp_path), _sha(db)
    work = tmp_path / "work"
    for name, argv in FOREIGN_COMMANDS.items():
        argv = [str(a).replace("{w}", str(work)) for a in argv]
        line = _one_line_error(*_run([*argv, "--store", db], capsys), "store")
        assert "not a twolayer result store" in line and "f.sqlite" in line, (name, line)
        assert _sha(db) == sha_before, name
        assert _snapshot(tmp_path) == before, name  # no tables, no -wal/-shm, no work folder, no report
    with sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True) as con:
        tables = sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0
    assert tables == (["meta", "mine"] if impostor else ["mine"])
    print(f"foreign ({journal}, impostor={impostor}): sha256 {sha_before} before and after "
          f"{len(FOREIGN_COMMANDS)} commands")


def test_library_writer_refuses_a_foreign_file(tmp_path):
    db = tmp_path / "f.sqlite"
    _foreign(db, "delete")
    sha = _sha(db)
    from theory.errors import InputError

    for kwargs in ({}, {"readonly": True}, {"create": False}):
        with pytest.raises(InputError, match="not a twolayer result store"):
            ResultStore(db, **kwargs)
    assert _sha(db) == sha and sorted(os.listdir(tmp_path)) == ["f.sqlite"]


@pytest.mark.parametrize("argv", [["store", "check"], ["store", "runs"], ["store", "cells"],
                                  ["store", "export", "--out", "{w}/x.json"], ["reproduce", "abcd1234"],
                                  ["store", "report", "--run", "r2024", "--out", "{w}/rep"]],
                         ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("where", ["missing.sqlite", "no/such/dir/s.sqlite", "no-such-dir"])
def test_missing_store_for_a_read_command_creates_nothing(argv, where, capsys, tmp_path):
    before = _snapshot(tmp_path)
    argv = [str(a).replace("{w}", str(tmp_path / "work")) for a in argv]
    line = _one_line_error(*_run([*argv, "--store", tmp_path / where], capsys), "store")
    assert "no result store at this path" in line
    assert _snapshot(tmp_path) == before


def test_empty_file_is_not_a_store_for_readers(capsys, tmp_path):
    db = tmp_path / "empty.sqlite"
    db.write_bytes(b"")
    line = _one_line_error(*_run(["store", "runs", "--store", db], capsys), "store")
    assert "not a twolayer result store" in line
    assert db.read_bytes() == b"" and sorted(os.listdir(tmp_path)) == ["empty.sqlite"]


# -- stores that cannot be written -------------------------------------------------------------------------
def _chattr(flag: str, *paths: Path) -> bool:
    exe = shutil.which("chattr")
    if exe is None:
        return False
    return subprocess.run([exe, flag, *map(str, paths)], capture_output=True).returncode == 0


@pytest.fixture
def unwritable(tmp_path):
    """make(folder, *files): chmod 0444 files / 0555 folder, and, as root (who ignores modes), ``chattr +i``.
    Yields make; returns whether the result is truly unwritable. Everything is made writable again after."""
    made: list[Path] = []

    def make(folder: Path, *files: Path) -> bool:
        for f in files:
            f.chmod(0o444)
        folder.chmod(0o555)
        made.extend([*files, folder])
        if os.geteuid() != 0:
            return True
        return _chattr("+i", *files, folder)

    yield make
    if made:
        _chattr("-i", *made)
        for p in made:
            p.chmod(0o755 if p.is_dir() else 0o644)


def test_read_only_store_can_be_listed_and_read(store, unwritable, capsys, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "twolayer.sqlite"
    shutil.copy2(store["db"], db)
    truly = unwritable(folder, db)
    before, sha = _snapshot(folder), _sha(db)
    assert before["twolayer.sqlite"][0] == "-r--r--r--"
    work = tmp_path / "work"
    work.mkdir()
    code, out, err = _run(["store", "runs", "--json", "--store", folder], capsys)
    assert code == 0, err
    assert [r["run_id"] for r in json.loads(out)["runs"]] == [store["run_id"]]
    code, out, err = _run(["store", "check", "--store", db], capsys)
    assert code == 0 and "integrity_check ok; 2 cells" in out, err
    code, out, err = _run(["store", "cells", "--store", db], capsys)
    assert code == 0 and [ln.split()[0] for ln in out.strip().splitlines()] == store["cells"], err
    code, out, err = _run(["store", "export", "--out", work / "x.json", "--store", db], capsys)
    assert code == 0 and len(json.loads((work / "x.json").read_text())["cells"]) == 2, err
    code, out, err = _run(["reproduce", store["cells"][1], "--store", db], capsys)
    assert code == 0 and "MATCH" in out, err
    assert _snapshot(folder) == before and _sha(db) == sha  # mode 0444 kept, nothing created beside it
    if truly:  # a writer gets one line saying why, not a traceback
        line = _one_line_error(*_run(["etf-sweep", *SWEEP, "--store", db], capsys), "store")
        assert "cannot write the store" in line or "read-only" in line, line
        assert _snapshot(folder) == before


def test_store_directory_that_cannot_be_created_says_so(monkeypatch, capsys, tmp_path):
    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    line = _one_line_error(*_run(["etf-sweep", *SWEEP, "--store", tmp_path / "a" / "b"], capsys), "store")
    assert "cannot create the store directory (permission denied)" in line and "cannot read" not in line, line
    assert os.listdir(tmp_path) == []


def test_store_directory_under_a_locked_folder(unwritable, capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    if not unwritable(locked):
        pytest.skip("cannot make a folder unwritable for root here (no chattr)")
    line = _one_line_error(*_run(["etf-sweep", *SWEEP, "--store", locked / "sub" / "store"], capsys), "store")
    assert "cannot create the store directory" in line and "cannot read" not in line, line
    assert os.listdir(locked) == []


# -- export ------------------------------------------------------------------------------------------------
def test_export_refuses_an_existing_file_unless_forced(store, capsys, tmp_path):
    target = tmp_path / "x.json"
    target.write_text("precious\n")
    line = _one_line_error(*_run(["store", "export", "--out", target, "--store", store["folder"]], capsys), "out")
    assert "--out" in line and "--force" in line
    assert target.read_text() == "precious\n" and sorted(os.listdir(tmp_path)) == ["x.json"]
    code, out, err = _run(["store", "export", "--out", target, "--force", "--json", "--store", store["folder"]], capsys)
    assert code == 0, err
    assert json.loads(out)["replaced"] is True
    data = json.loads(target.read_text())
    assert [c["cell_id"] for c in data["cells"]] == store["cells"] and data["format"] == "twolayer-results/1"
    assert sorted(os.listdir(tmp_path)) == ["x.json"]  # the temporary file was renamed, none left
    assert stat.S_IMODE(target.stat().st_mode) & 0o444 == 0o444  # an ordinary readable file, not mkstemp's 0600


def test_export_replaces_a_symlink_not_what_it_points_to(store, capsys, tmp_path):
    outside = tmp_path / "system.conf"
    outside.write_text("do not touch\n")
    link = tmp_path / "out" / "x.json"
    link.parent.mkdir()
    link.symlink_to(outside)
    _one_line_error(*_run(["store", "export", "--out", link, "--store", store["folder"]], capsys), "out")
    assert link.is_symlink() and outside.read_text() == "do not touch\n"
    code, _, err = _run(["store", "export", "--out", link, "--force", "--store", store["folder"]], capsys)
    assert code == 0, err
    assert not link.is_symlink() and json.loads(link.read_text())["cells"]
    assert outside.read_text() == "do not touch\n"


@pytest.mark.parametrize("out,fmt,argument", [
    ("x.csv", None, "out"),
    ("x", None, "out"),
    ("x.csv", "json", "format"),
    ("x.json", "parquet", "format"),
    ("x.parquet", "json", "format"),
])
def test_export_format_must_be_clear(store, out, fmt, argument, capsys, tmp_path):
    argv = ["store", "export", "--out", tmp_path / out, "--store", store["folder"], *(["--format", fmt] if fmt else [])]
    line = _one_line_error(*_run(argv, capsys), argument)
    assert ("--format" in line) and (out.split(".")[-1] in line or "suffix" in line), line
    assert os.listdir(tmp_path) == []


def test_export_format_from_option_or_suffix(store, capsys, tmp_path):
    import pyarrow.parquet as pq

    assert _run(["store", "export", "--out", tmp_path / "plain", "--format", "json", "--store", store["folder"]],
                capsys)[0] == 0
    assert len(json.loads((tmp_path / "plain").read_text())["cells"]) == 2
    assert _run(["store", "export", "--out", tmp_path / "t.PARQUET", "--store", store["folder"]], capsys)[0] == 0
    assert pq.read_table(tmp_path / "t.PARQUET").column("cell_id").to_pylist() == store["cells"]


def test_export_never_replaces_the_store_itself(capsys, tmp_path):
    db = tmp_path / "s.json"  # a store whose name ends in .json
    ResultStore(db).close()
    sha = _sha(db)
    line = _one_line_error(*_run(["store", "export", "--out", db, "--force", "--store", db], capsys), "out")
    assert "store itself" in line and _sha(db) == sha


# -- ids, prefixes, --limit, --kind --------------------------------------------------------------------------
ODD = [
    (["store", "cells", "--run", "x" * 100_000], "run"),
    (["store", "cells", "--run", "a'b;c"], "run"),
    (["store", "cells", "--run", "%%%%"], "run"),
    (["store", "cells", "--run", "____"], "run"),  # LIKE wildcards are not ids
    (["store", "cells", "--run", "r" + "0" * 64], "run"),
    (["store", "report", "--run", "x" * 100_000, "--out", "{w}/rep"], "run"),
    (["store", "export", "--out", "{w}/x.json", "--run", "x" * 100_000], "run"),
    (["store", "cells", "--kind", "k" * 1000], "kind"),
    (["store", "cells", "--limit", "-1"], "limit"),
    (["store", "cells", "--limit", "0"], "limit"),
    (["store", "cells", "--limit", "100001"], "limit"),
    (["store", "cells", "--limit", "9" * 5000], "limit"),
    (["reproduce", "abcd", "--max-cells", "9" * 5000], "max-cells"),
    (["reproduce", "x" * 100_000], "target"),
    (["reproduce", "a" * 65], "target"),
    (["reproduce", "a'b;c"], "target"),
    (["reproduce", "rep-zzzz"], "target"),
    (["reproduce", "ab\ncd"], "target"),
    (["reproduce", "x" * 300 + ".json"], "target"),
    (["reproduce", "/" + "d/" * 3000 + "report.json"], "target"),
]


@pytest.mark.parametrize("argv,argument", ODD, ids=[f"{i}-{a[0]}-{arg}" for i, (a, arg) in enumerate(ODD)])
def test_long_and_odd_values_get_one_line(store, argv, argument, capsys, tmp_path):
    before = _snapshot(store["folder"])
    argv = [a.replace("{w}", str(tmp_path / "work")) for a in argv]
    line = _one_line_error(*_run([*argv, "--store", store["folder"]], capsys), argument)
    assert "LIKE" not in line and "too complex" not in line
    if max(map(len, argv)) > 1000:  # the echoed value is cut: an id with its length said, a path to its tail
        assert "characters)" in line or "(got '..." in line, line
    assert _snapshot(store["folder"]) == before and not (tmp_path / "work").exists()


def test_limit_bounds_the_listing(store, capsys):
    code, out, _ = _run(["store", "cells", "--limit", "1", "--json", "--store", store["folder"]], capsys)
    assert code == 0 and len(json.loads(out)["cells"]) == 1
    code, out, _ = _run(["store", "cells", "--limit", "100000", "--json", "--store", store["folder"]], capsys)
    assert code == 0 and [c["cell_id"] for c in json.loads(out)["cells"]] == store["cells"]

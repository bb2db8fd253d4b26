"""`twolayer reproduce`: re-run recorded cells and state whether the numbers match to the recorded precision."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conjecture.command_line import main
from numerics.evidence.reproduce import DEFAULT_FLOAT_DIGITS, Status, compare_results, reproduce
from numerics.etf_cell import GUARD_DIGITS
from numerics.evidence.provenance import canonical_json
from numerics.evidence.store import ResultStore

REPO = Path(__file__).resolve().parent.parent
DPS = 20
PRECISION = DPS - GUARD_DIGITS  # digits etf_cell claims for its mpmath values
SUBPROCESS_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def earlier_report(tmp_path_factory):
    """A sweep and its report written by an earlier, separate `twolayer etf-sweep` process."""
    base = tmp_path_factory.mktemp("repro")
    proc = subprocess.run(
        [sys.executable, "-m", "conjecture.command_line", "etf-sweep", "--M", "2..4", "--d", "3",
         "--activation", "relu,leaky_relu(1/10)", "--dps", str(DPS), "--seed", "9", "--workers", "0",
         "--store", str(base), "--out", str(base / "report"), "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((base / "report" / "latest" / "report.json").read_text())
    return base, meta


def _set_value(store_dir: Path, cell_id: str, key: str, new: str) -> None:
    db = store_dir / "twolayer.sqlite"
    with sqlite3.connect(db) as con:
        result = json.loads(con.execute("SELECT result FROM cells WHERE cell_id = ?", (cell_id,)).fetchone()[0])
        result["values"][key] = new
        con.execute("UPDATE cells SET result = ? WHERE cell_id = ?", (canonical_json(result), cell_id))


def _perturb_digit(text: str, k: int) -> str:
    """Change the k-th significant digit of a decimal string (1-based)."""
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    first = next(i for i in digits if text[i] != "0")
    pos = [i for i in digits if i >= first][k - 1]
    return text[:pos] + str((int(text[pos]) + 1) % 10) + text[pos + 1:]


def test_reproduce_a_cell_of_an_earlier_report_matches(earlier_report, capsys):
    """MUST SHOW: a cell from an earlier report re-runs and matches to its recorded precision."""
    base, meta = earlier_report
    cell = meta["cell_ids"][1]
    assert main(["reproduce", cell, "--store", str(base)]) == 0
    out = capsys.readouterr().out
    assert f"cell {cell}" in out and "MATCH" in out and "1/1 cells reproduce" in out
    print(out)


def test_reproduce_whole_report_by_id_and_by_file(earlier_report, capsys):
    base, meta = earlier_report
    assert main(["reproduce", meta["report_id"], "--store", str(base)]) == 0
    out = capsys.readouterr().out
    assert f"{len(meta['cell_ids'])}/{len(meta['cell_ids'])} cells reproduce" in out
    # the HTML file carries its store path, so no --store is needed
    assert main(["reproduce", str(base / "report" / "latest" / "report.html"), "--max-cells", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "match" and len(summary["cells"]) == 2


def test_change_beyond_recorded_precision_still_matches_within_it_does_not(earlier_report, tmp_path):
    base, meta = earlier_report
    cell = meta["cell_ids"][0]
    store = tmp_path / "copy"
    store.mkdir()
    with ResultStore(base) as src:
        src.conn.execute(f"VACUUM INTO '{store / 'twolayer.sqlite'}'")
        original = src.get_cell(cell).result["values"]["ltilde_star"]
    # a change in the (PRECISION + 3)-th significant digit is below the recorded precision: still a match
    _set_value(store, cell, "ltilde_star", _perturb_digit(original, PRECISION + 3))
    assert reproduce(cell, store=str(store)).status is Status.MATCH
    # a change in the 6th digit is not
    _set_value(store, cell, "ltilde_star", _perturb_digit(original, 6))
    res = reproduce(cell, store=str(store))
    assert res.status is Status.MISMATCH
    bad = [c for c in res.cells[0].comparisons if not c.matches]
    assert [c.path for c in bad] == ["values.ltilde_star"]
    assert 4.5 < bad[0].digits_agreed < 7 and bad[0].digits_required == PRECISION
    assert main(["reproduce", cell, "--store", str(store)]) == 1


def test_compare_results_rules():
    rec = {"verdict": "holds", "values": {"a": "1.000001", "b": 0.5, "n": 3}, "precision_digits": {"a": 5},
           "seconds": 1.0}
    same = {"verdict": "holds", "values": {"a": "1.0000012", "b": 0.5 + 1e-14, "n": 3}, "precision_digits": {"a": 5},
            "seconds": 9.0}  # timings are not compared; floats need DEFAULT_FLOAT_DIGITS
    assert compare_results(rec, same)[0] == "match"
    assert compare_results(rec, {**same, "values": {**same["values"], "b": 0.5 * (1 + 10.0 ** -(DEFAULT_FLOAT_DIGITS - 2))}})[0] == "mismatch"
    assert compare_results(rec, {**same, "values": {**same["values"], "n": 4}})[0] == "mismatch"
    assert compare_results(rec, {**same, "values": {"a": "1.0000012", "b": 0.5}})[0] == "mismatch"  # missing n
    assert compare_results(rec, {**same, "verdict": "fails"})[0] == "mismatch"
    assert compare_results({"x": "abc"}, {"x": "abc"})[0] == "match"


def test_only_registered_toolkit_kinds_are_run(earlier_report, tmp_path, capsys):
    base, meta = earlier_report
    store = tmp_path / "evil"
    store.mkdir()
    with ResultStore(base) as src:
        src.conn.execute(f"VACUUM INTO '{store / 'twolayer.sqlite'}'")
    with sqlite3.connect(store / "twolayer.sqlite") as con:
        con.execute("UPDATE cells SET kind = 'shell', function = 'os:system' WHERE cell_id = ?", (meta["cell_ids"][0],))
    assert main(["reproduce", meta["cell_ids"][0], "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "no registered cell kind" in err and len(err.strip().splitlines()) == 1


def test_reports_of_other_writers_and_exports_are_found_by_result_hash(earlier_report, tmp_path, capsys):
    """A JSON report that lists cell results (as conjecture/numerics writers do) or a store export
    is traced back to its stored cells through the results' hashes."""
    base, meta = earlier_report
    with ResultStore(base) as st:
        cells = st.get_cells(meta["cell_ids"][:3])
        st.export_json(base / "export.json")
    foreign = base / "other" / "sweep.json"
    foreign.parent.mkdir()
    foreign.write_text(json.dumps({"title": "t", "cells": [c.result for c in cells]}))
    (base / "other" / "sweep.md").write_text("# a report written by another writer\n")
    assert main(["reproduce", str(foreign.with_suffix(".md"))]) == 0  # store found in the parent folder
    assert "3/3 cells reproduce" in capsys.readouterr().out
    assert main(["reproduce", str(base / "export.json"), "--max-cells", "1"]) == 0
    assert "1/1 cells reproduce" in capsys.readouterr().out
    listed = base / "other" / "verify.json"  # a report listing cell ids per kind (as `twolayer verify` does)
    listed.write_text(json.dumps({"cell_ids": {"etf-value": [c.cell_id for c in cells[:2]]}}))
    assert main(["reproduce", str(listed)]) == 0
    assert "2/2 cells reproduce" in capsys.readouterr().out
    foreign.write_text(json.dumps({"cells": [{**cells[0].result, "verdict": "edited"}]}))
    assert main(["reproduce", str(foreign)]) == 2
    assert "1 of its 1 cells are not in the store" in capsys.readouterr().err

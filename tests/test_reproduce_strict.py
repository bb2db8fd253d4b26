"""`twolayer reproduce <report file>` checks the report itself, not only the stored cells it names.

Two small real reports are written (a conjecture report and an etf-sweep report, into the suite's temporary
store); untampered they MATCH.  Each tampered copy (its own copy of the report folder) must give MISMATCH
(exit 1, with a line saying which check failed) or, for a malformed file, exit 2 with one line on stderr,
and never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conjecture.command_line import main
from numerics.evidence import reproduce as rp
from numerics.evidence.provenance import canonical_json, content_hash
from numerics.evidence.reproduce import CHECK_KIND, Status, report_content_hash, reproduce
from numerics.evidence.store import ResultStore

ZERO_HASH = "sha256:" + "0" * 64


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """{'conjecture': folder, 'etf': folder} of two reports written by `twolayer` in a temporary directory."""
    base = tmp_path_factory.mktemp("strict-reports")
    cwd = os.getcwd()
    os.chdir(base)
    try:
        assert main(["conjecture", "--M", "3", "--d", "2", "--starts", "2", "--polish-dps", "0", "--no-sdp",
                     "--workers", "0", "--quiet", "--out", str(base / "OUT")]) == 0
        assert main(["etf-sweep", "--M", "2-3", "--d", "3", "--workers", "0", "--quiet", "--out", str(base / "OUT2")]) == 0
    finally:
        os.chdir(cwd)
    out = {"conjecture": (base / "OUT" / "latest").resolve(), "etf": (base / "OUT2" / "latest").resolve()}
    for folder in out.values():
        assert (folder / "report.json").is_file() and (folder / "report.html").is_file()
    return out


def _load(folder: Path) -> dict:
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))


def _copy(reports, which: str, tmp_path: Path, name: str = "copy") -> Path:
    dst = tmp_path / name
    shutil.copytree(reports[which], dst)
    return dst


def _edit(reports, which: str, tmp_path: Path, fn, name: str = "copy") -> Path:
    """A copy of the report folder whose report.json is changed by ``fn(data)``; returns the report.json."""
    folder = _copy(reports, which, tmp_path, name)
    data = _load(folder)
    fn(data)
    (folder / "report.json").write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return folder / "report.json"


def _forge(data: dict) -> None:
    """Make the identity consistent with edited cells (what a careful forger would do)."""
    for c in data["cells"]:
        c["result_hash"] = content_hash(c["result"])
    data["content_hash"] = report_content_hash(data["cells"], data.get("extra"))
    data["report_id"] = "rep-" + data["content_hash"].split(":", 1)[1][:12]


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["reproduce", *map(str, argv)])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _mismatch(capsys, *argv) -> str:
    rc, out, err = _run(capsys, *argv)
    assert rc == 1, (out, err)
    assert "-> MISMATCH" in out and err == ""
    return out


def _input_error(capsys, *argv) -> str:
    rc, out, err = _run(capsys, *argv)
    assert rc == 2, (out, err)
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("twolayer reproduce: error: ")
    return err


def _perturb_digit(text: str, k: int) -> str:
    """Change the k-th significant digit of a decimal string (1-based)."""
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    first = next(i for i in digits if text[i] != "0")
    pos = [i for i in digits if i >= first][k - 1]
    return text[:pos] + str((int(text[pos]) + 1) % 10) + text[pos + 1:]


# -- untampered ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which, n", [("conjecture", 1), ("etf", 2)])
def test_untampered_reports_match_in_every_form(reports, capsys, which, n):
    folder = reports[which]
    for name in ("report.json", "report.html", "report.md", "report.tex"):
        rc, out, err = _run(capsys, folder / name)
        assert rc == 0, (name, out, err)
        assert f"{n}/{n} cells reproduce to their recorded precision -> MATCH" in out and err == ""
        assert CHECK_KIND not in out
    res = reproduce(str(folder / "report.json"))
    assert res.status is Status.MATCH and res.checks == () and len(res.cell_results) == n
    assert [c.cell_id for c in res.cells] == _load(folder)["cell_ids"]
    # every cell compared something, and identically (same code, same machine)
    assert all(c.comparisons and c.min_digits_agreed == float("inf") for c in res.cells)


def test_recomputed_hash_equals_the_writers(reports):
    for folder in reports.values():
        data = _load(folder)
        assert report_content_hash(data["cells"], data["extra"]) == data["content_hash"]
        assert data["report_id"] == "rep-" + data["content_hash"][7:19]


# -- edited cells ----------------------------------------------------------------------------------------------
def test_verdict_changed_to_refuted(reports, tmp_path, capsys):
    orig = _load(reports["conjecture"])["cells"][0]["result"]["verdict_nonneg"]
    new = "REFUTED" if orig != "REFUTED" else "PROVEN"
    path = _edit(reports, "conjecture", tmp_path, lambda d: d["cells"][0]["result"].__setitem__("verdict_nonneg", new))
    out = _mismatch(capsys, path)
    assert "content_hash: the report states sha256:" in out and "report_id: the report states rep-" in out
    assert f"verdict_nonneg: the report states {new} the re-run gives {orig}" in out
    # a careful forger who also fixes the hashes is still caught by the re-run
    path = _edit(reports, "conjecture", tmp_path, lambda d: (d["cells"][0]["result"].__setitem__("verdict_nonneg", new),
                                                           _forge(d)), name="forged")
    out = _mismatch(capsys, path)
    assert "content_hash:" not in out and "report_id:" not in out
    assert f"verdict_nonneg: the report states {new} the re-run gives {orig}" in out


def test_c_target_changed(reports, tmp_path, capsys):
    orig = _load(reports["conjecture"])["cells"][0]["result"]["C_target"]
    path = _edit(reports, "conjecture", tmp_path, lambda d: (d["cells"][0]["result"].__setitem__("C_target", 123),
                                                           _forge(d)))
    res = reproduce(str(path))
    assert res.status is Status.MISMATCH and res.checks == ()
    bad = [c for c in res.cells[0].comparisons if not c.matches]
    assert [c.path for c in bad] == ["C_target"] and bad[0].recorded == "123" and bad[0].recomputed == str(orig)
    out = _mismatch(capsys, path)
    assert f"C_target: the report states 123 the re-run gives {orig}" in out


def test_value_changed_beyond_its_recorded_precision(reports, tmp_path, capsys):
    cell = _load(reports["etf"])["cells"][1]
    orig = cell["result"]["values"]["ltilde_star"]
    digits = cell["result"]["precision_digits"]["ltilde_star"]
    assert digits >= 10
    edited = _perturb_digit(orig, 6)

    def change(d):
        d["cells"][1]["result"]["values"]["ltilde_star"] = edited

    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, change))
    assert "content_hash: the report states" in out and "values.ltilde_star: the report states " + edited[:40] in out
    forged = _edit(reports, "etf", tmp_path, lambda d: (change(d), _forge(d)), name="forged")
    res = reproduce(str(forged))
    assert res.status is Status.MISMATCH and res.checks == ()
    assert res.cells[0].status is Status.MATCH and res.cells[1].status is Status.MISMATCH
    bad = [c for c in res.cells[1].comparisons if not c.matches]
    assert [c.path for c in bad] == ["values.ltilde_star"]
    assert 4.5 < bad[0].digits_agreed < 7 and bad[0].digits_required == digits
    assert f"({bad[0].digits_agreed} of {float(digits)} digits)" in _mismatch(capsys, forged)


def test_report_cell_inputs_must_be_the_stored_ones(reports, tmp_path, capsys):
    path = _edit(reports, "etf", tmp_path, lambda d: (d["cells"][0]["params"].__setitem__("dps", 31), _forge(d)))
    out = _mismatch(capsys, path)
    cid = _load(reports["etf"])["cell_ids"][0]
    assert f"inputs: cell {cid}: the report's kind, params or seed differ from the stored cell's" in out


def test_extra_data_is_hashed(reports, tmp_path, capsys):
    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("extra", {"study": [1, 2]})))
    assert "content_hash: the report states" in out and "report_id:" in out


# -- edited identity -------------------------------------------------------------------------------------------
def test_content_hash_zeroed(reports, tmp_path, capsys):
    data = _load(reports["etf"])
    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("content_hash", ZERO_HASH)))
    assert f"content_hash: the report states sha256:0000" in out and f"hash to {data['content_hash']}" in out
    assert "report_id:" not in out  # the id still matches the cells
    assert out.count(": MATCH (") == 2  # both cells themselves reproduce


def test_report_id_changed(reports, tmp_path, capsys):
    data = _load(reports["etf"])
    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("report_id", "rep-0123456789ab")))
    assert f"report_id: the report states rep-0123456789ab but its cells and extra data give {data['report_id']}" in out
    assert "content_hash:" not in out


def test_cell_id_replaced_by_a_nonexistent_one(reports, tmp_path, capsys):
    ids = _load(reports["etf"])["cell_ids"]
    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, lambda d: d["cell_ids"].__setitem__(0, "deadbeefdeadbeef")))
    assert "cell_ids: do not match the ids of the report's cells (listed but not among its cells: deadbeefdeadbeef" in out
    assert "store: 1 of the report's 3 cell ids are not in the store" in out
    # replaced in the cells as well: the content hash and the store both say so
    def both(d):
        d["cell_ids"][0] = d["cells"][0]["cell_id"] = "deadbeefdeadbeef"

    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, both, name="both"))
    assert "content_hash:" in out and "store: 1 of the report's 2 cell ids are not in the store" in out
    assert "cell_ids:" not in out and f"cell {ids[1]} [etf-value]" in out


@pytest.mark.parametrize("ids", [[0, 0, 1], [1, 0], ["../../etc/passwd", 1], ["x'; DROP TABLE cells; --", 1], ["", 1]])
def test_duplicated_or_malformed_cell_ids(reports, tmp_path, capsys, ids):
    real = _load(reports["etf"])["cell_ids"]
    listed = [real[i] if isinstance(i, int) else i for i in ids]
    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("cell_ids", listed)))
    assert "cell_ids:" in out
    with ResultStore(_load(reports["etf"])["store"], create=False) as st:
        assert st.count_cells() >= 3  # nothing was written or dropped


@pytest.mark.parametrize("value", [7, None, "68d55814969d2d8b", [1, 2], {"etf-value": []}])
def test_cell_ids_of_the_wrong_type_are_an_input_error_never_a_fallback(reports, tmp_path, capsys, value):
    err = _input_error(capsys, _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("cell_ids", value)))
    assert "its 'cell_ids' field is not a list of cell ids" in err


def test_cell_ids_missing_is_an_input_error(reports, tmp_path, capsys):
    err = _input_error(capsys, _edit(reports, "etf", tmp_path, lambda d: d.pop("cell_ids")))
    assert "'cell_ids'" in err


def test_shown_counts_edited(reports, tmp_path, capsys):
    shown = _load(reports["conjecture"])["shown"]
    col, counts = next(iter(shown.items()))
    verdict, n = next(iter(counts.items()))
    edited = {**counts, verdict: n + 1}
    out = _mismatch(capsys, _edit(reports, "conjecture", tmp_path, lambda d: d["shown"].__setitem__(col, edited)))
    assert (f"shown: {col!r}: the report states {canonical_json(edited)}, the re-run results give "
            f"{canonical_json(counts)}") in out
    assert "content_hash:" not in out  # the counts are not hashed: only the re-run catches them
    # a column the cells do not have, and a column dropped
    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, lambda d: d["shown"].__setitem__("etf-value: x", {"agree": 2}),
                                  name="added"))
    assert "shown: 'etf-value: x': the report states" in out and "give \"<missing>\"" in out
    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, lambda d: d["shown"].clear(), name="dropped"))
    assert "shown: 'etf-value: closed form vs eigen-solve': the report states \"<missing>\"" in out


def test_shown_count_of_another_type_is_an_input_error(reports, tmp_path, capsys):
    col = next(iter(_load(reports["etf"])["shown"]))
    err = _input_error(capsys, _edit(reports, "etf", tmp_path, lambda d: d["shown"].__setitem__(col, {"agree": "2"})))
    assert "'shown' field is not an object of verdict counts" in err


def test_certified_list_edited(reports, tmp_path, capsys):
    certified = _load(reports["conjecture"])["certified"]
    col = next(c for c, v in certified.items() if v) if any(certified.values()) else next(iter(certified))
    edited = certified[col][1:] if certified[col] else ["M=3 d=2 REFUTED"]
    out = _mismatch(capsys, _edit(reports, "conjecture", tmp_path, lambda d: d["certified"].__setitem__(col, edited)))
    assert f"certified: {col!r}: the report states {canonical_json(edited)}" in out
    out = _mismatch(capsys, _edit(reports, "etf", tmp_path,
                                  lambda d: d["certified"]["etf-value: closed form vs eigen-solve"].append("M=9 d=9"),
                                  name="etf"))
    assert "certified: 'etf-value: closed form vs eigen-solve': the report states [\"M=9 d=9\"], the re-run results give []" in out


def test_kind_and_normalisation_edited(reports, tmp_path, capsys):
    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("kind", "conjecture-cell")))
    assert "kind: the report states 'conjecture-cell' but its cells are of kind 'etf-value'" in out
    out = _mismatch(capsys, _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("normalisation", ["abar = 2"]),
                                  name="norm"))
    assert "normalisation: the report states" in out


# -- malformed files -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [5, 1.5, ["a"], {"path": "x"}, True])
def test_store_field_not_a_string(reports, tmp_path, capsys, value):
    path = _edit(reports, "conjecture", tmp_path, lambda d: d.__setitem__("store", value))
    err = _input_error(capsys, path)
    assert "its 'store' field is not a string" in err and "copy/report.json" in err  # names the report


def test_store_field_empty_names_no_store(reports, tmp_path, capsys):
    err = _input_error(capsys, _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("store", "")))
    assert "names no store; pass --store" in err


def test_deep_nesting(reports, tmp_path, capsys):
    folder = _copy(reports, "etf", tmp_path)
    text = (folder / "report.json").read_text(encoding="utf-8").rstrip()
    assert text.endswith("}")
    (folder / "report.json").write_text(text[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}",
                                        encoding="utf-8")
    assert "nested too deeply" in _input_error(capsys, folder / "report.json")
    assert "nested too deeply" in _input_error(capsys, folder / "report.md")  # through the report.json beside it
    # nesting that parses but is deep, in the hashed extra data: an input error or a mismatch, never a traceback
    data = _load(reports["etf"])
    data["extra"] = {"deep": json.loads("[" * 400 + "]" * 400)}
    (folder / "report.json").write_text(json.dumps(data), encoding="utf-8")
    rc, out, err = _run(capsys, folder / "report.json")
    assert (rc, err) == (1, "") and "content_hash: the report states" in out


def test_huge_file(reports, tmp_path, capsys, monkeypatch):
    folder = _copy(reports, "etf", tmp_path)
    with open(folder / "report.json", "r+b") as fh:
        fh.truncate(rp.MAX_REPORT_BYTES + 1)  # sparse: nothing is written, nothing should be read
    assert "larger than 64 MiB" in _input_error(capsys, folder / "report.json")
    monkeypatch.setattr(rp, "MAX_REPORT_BYTES", 1000)  # the bound holds for an HTML report as well
    assert "larger than 1000 bytes" in _input_error(capsys, reports["etf"] / "report.html")


@pytest.mark.parametrize("text", ["{", "[1, 2]", '{"format": "twolayer-report/2", "format": "x"}', "\u00ff", ""])
def test_unparseable_reports(tmp_path, capsys, text):
    path = tmp_path / "report.json"
    path.write_text(text, encoding="latin-1" if text == "\u00ff" else "utf-8")
    err = _input_error(capsys, path)
    assert any(s in err for s in ("does not parse", "repeats the key", "not UTF-8", "not a twolayer report"))


def test_unknown_format_version(reports, tmp_path, capsys):
    err = _input_error(capsys, _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("format", "twolayer-report/9")))
    assert "unsupported report format 'twolayer-report/9'" in err


def test_malformed_cells_and_extra(reports, tmp_path, capsys):
    err = _input_error(capsys, _edit(reports, "etf", tmp_path, lambda d: d["cells"][1].__setitem__("seed", "1")))
    assert "cell 1 of the report is malformed" in err
    err = _input_error(capsys, _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("extra", [1]), name="extra"))
    assert "its 'extra' field is not an object" in err
    err = _input_error(capsys, _edit(reports, "etf", tmp_path, lambda d: d.pop("cells"), name="nocells"))
    assert "its 'cells' field is not a list" in err


def test_format_tag_removed_is_no_way_around_the_checks(reports, tmp_path, capsys):
    """Without its format tag a report is read as another writer's list of cell ids, and the results it
    lists are still compared with the re-run."""
    data = _load(reports["etf"])

    def strip(d):
        d.pop("format")
        d["cells"][0]["result"]["verdict"] = "disagree"

    path = _edit(reports, "etf", tmp_path, strip)
    out = _mismatch(capsys, path, "--store", data["store"])
    assert "verdict: the report states disagree the re-run gives agree" in out


def test_export_with_an_edited_result_is_not_found_by_its_stated_hash(reports, tmp_path, capsys):
    data = _load(reports["etf"])
    with ResultStore(data["store"], create=False) as st:
        rows = [c.as_dict() for c in st.get_cells(data["cell_ids"])]
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"cells": rows}), encoding="utf-8")
    rc, out, _ = _run(capsys, export, "--store", data["store"])
    assert rc == 0 and "2/2 cells reproduce" in out
    rows[0]["result"]["verdict"] = "disagree"  # its stated result_hash still names the stored cell
    export.write_text(json.dumps({"cells": rows}), encoding="utf-8")
    assert "1 of its 2 cells are not in the store" in _input_error(capsys, export, "--store", data["store"])


# -- HTML and Markdown forms -----------------------------------------------------------------------------------
def _edit_html_identity(page: str, fn) -> str:
    start = page.index("id='twolayer-report'>") + len("id='twolayer-report'>")
    end = page.index("</script>", start)
    ident = json.loads(page[start:end])
    fn(ident)
    text = canonical_json(ident).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return page[:start] + text + page[end:]


def test_html_identity_must_agree_with_the_report_json_beside_it(reports, tmp_path, capsys):
    folder = _copy(reports, "etf", tmp_path)
    page = (folder / "report.html").read_text(encoding="utf-8")
    col = next(iter(_load(folder)["shown"]))
    (folder / "report.html").write_text(_edit_html_identity(page, lambda d: d["shown"].__setitem__(col, {"agree": 5})),
                                        encoding="utf-8")
    out = _mismatch(capsys, folder / "report.html")
    assert "identity: the HTML report and report.json beside it disagree on shown" in out
    assert f"shown: {col!r}: the report states {{\"agree\":5}}, the re-run results give {{\"agree\":2}}" in out


def test_html_alone_is_checked_against_the_stored_cells(reports, tmp_path, capsys):
    folder = _copy(reports, "etf", tmp_path)
    (folder / "report.json").unlink()
    rc, out, err = _run(capsys, folder / "report.html")
    assert rc == 0 and "2/2 cells reproduce to their recorded precision -> MATCH" in out
    page = (folder / "report.html").read_text(encoding="utf-8")
    (folder / "report.html").write_text(_edit_html_identity(page, lambda d: d.__setitem__("content_hash", ZERO_HASH)),
                                        encoding="utf-8")
    out = _mismatch(capsys, folder / "report.html")
    assert "content_hash: the report states sha256:0000" in out and "is not beside it" in out
    (folder / "report.html").write_text(_edit_html_identity(page, lambda d: d["cell_ids"].append("feedfacefeedface")),
                                        encoding="utf-8")
    out = _mismatch(capsys, folder / "report.html")
    assert "store: 1 of the report's 3 cell ids are not in the store" in out


def test_markdown_and_latex_are_read_through_report_json(reports, tmp_path, capsys):
    path = _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("content_hash", ZERO_HASH))
    for name in ("report.md", "report.tex", "."):
        out = _mismatch(capsys, path.parent / name if name != "." else path.parent)
        assert "content_hash: the report states sha256:0000" in out


def test_max_cells_recounts_with_the_reports_own_results_for_the_rest(reports, capsys):
    rc, out, err = _run(capsys, reports["etf"] / "report.json", "--max-cells", "1")
    assert rc == 0 and "1/1 cells reproduce" in out
    res = reproduce(str(reports["etf"] / "report.json"), max_cells=1)
    assert res.status is Status.MATCH and len(res.cells) == 1


def test_json_output_names_the_failed_check(reports, tmp_path, capsys):
    path = _edit(reports, "etf", tmp_path, lambda d: d.__setitem__("report_id", "rep-0123456789ab"))
    rc, out, _ = _run(capsys, path, "--json")
    summary = json.loads(out)
    assert rc == 1 and summary["status"] == "mismatch"
    assert all(c["kind"] != CHECK_KIND for c in summary["cells"])  # cells are re-run cells only
    checks = summary["checks"]
    assert [c["check"] for c in checks] == ["report_id"] and "rep-0123456789ab" in checks[0]["message"]
    assert checks[0]["status"] == "mismatch"

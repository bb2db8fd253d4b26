"""`twolayer verify` writes one report per run: findings from the pooled checks, per-kind tables with their
bounds and no 'None' anywhere, one folder per run with ROOT/latest, one shared store, strict --json, and
bad --out / --store refused before anything is created."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conjecture.command_line import main
from numerics import rate_report, rates
from numerics.evidence.reports.kinds import kind_content, registered_report_kinds
from numerics.evidence.store import ResultStore

REPO = Path(__file__).resolve().parent.parent
SMOKE = ["verify", "--profile", "smoke", "--workers", "0", "--quiet"]
REPORT_FILES = {"report.html", "report.md", "report.tex", "report.json", "CITATION.txt"}
SUBPROCESS_TIMEOUT_S = 120


def _strict(text: str):
    def refuse(token):
        raise ValueError(f"non-finite JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:  # an argparse error (exit 2)
            rc = exc.code
    return rc, out.getvalue(), err.getvalue()


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _run_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two smoke runs into one output root and one store; the second prints --json."""
    base = tmp_path_factory.mktemp("verify")
    root, store = base / "vq", base / "store"
    rc, out1, err1 = _run([*SMOKE, "--out", str(root), "--store", str(store)])
    assert rc == 0, err1
    (first,) = _run_folders(root)
    before = _hashes(first)
    rc, out2, err2 = _run([*SMOKE, "--out", str(root), "--store", str(store), "--json"])
    assert rc == 0, err2
    return {"root": root, "store": store, "first": first, "first_hashes": before, "stdout": out1, "json": out2}


def test_one_folder_per_run_and_latest_points_at_the_newest(two_runs):
    root, first = two_runs["root"], two_runs["first"]
    folders = _run_folders(root)
    assert len(folders) == 2 and first in folders
    (second,) = [f for f in folders if f != first]
    assert sorted(p.name for p in root.iterdir()) == sorted([first.name, second.name, "latest"])
    assert (root / "latest").is_symlink() and (root / "latest").resolve() == second.resolve()
    # the earlier run's files are untouched, byte for byte
    assert _hashes(first) == two_runs["first_hashes"]
    for folder in folders:
        names = {p.name for p in folder.iterdir()}
        assert REPORT_FILES <= names
        assert not ({"verify.md", "verify.json", "evidence", "store"} & names)
        assert {"bias.png", "variance_etf.png", "dimension.png"} <= names
    # run ids have the sweep runner's format: r + UTC timestamp + 8 hex digits
    assert all(re.fullmatch(r"r\d{14}-[0-9a-f]{8}", f.name) for f in folders)


def test_markdown_has_no_none_and_no_verdict_tallies(two_runs):
    md = (two_runs["first"] / "report.md").read_text()
    assert "None" not in md
    assert not re.search(r"verdicts?:.*None", md)
    report = _strict((two_runs["first"] / "report.json").read_text())
    assert report["shown"] == {} and report["certified"] == {}  # verify cells have no per-cell verdict
    run_line = next(line for line in md.splitlines() if line.startswith("- Run:"))
    assert re.search(r"sweep seed 20220517$", run_line) and len(report["run_ids"]) == 5
    html = (two_runs["first"] / "report.html").read_text()
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert "None" not in text and "verdicts_" not in text
    assert text.count("class='twolayer-figure'") == len([p for p in two_runs["first"].iterdir() if p.suffix == ".png"])


def test_every_check_is_a_finding_with_its_verdict(two_runs):
    folder = two_runs["first"]
    report = _strict((folder / "report.json").read_text())
    checks = report["extra"]["checks"]
    assert {c["key"] for c in checks} >= {"consistency", "bias", "bias_raw", "variance_etf", "variance_unbalanced",
                                          "minimum_gain", "minimum_gain_population", "minimum_gap",
                                          "minimum_per_draw", "minimum_deformation", "minimum_gram_distance",
                                          "minimum_rotation", "dimension", "precision"}
    findings = report["findings"]
    assert [(f["name"], f["verdict"]) for f in findings] == [(c["title"], c["verdict"].replace(" ", "_"))
                                                               for c in checks]
    md = (folder / "report.md").read_text()
    findings_md = md.split("## Findings", 1)[1].split("\n## ", 1)[0]
    for f in findings:
        name = f["name"].replace("|", "\\|")
        assert f"| {name} | {f['verdict']} |" in findings_md
    for c, f in zip(checks, findings):
        if c["ratio"] is not None:  # the measured ratio and its CI against the prediction
            r = c["ratio"]
            lo, hi = r["ci95"]
            assert f"measured / predicted = {r['ratio']:.4f} (95% CI {lo:.4f}..{hi:.4f}; prediction: 1)" in f["detail"]
        assert f"## Check: {c['title']}" in md
    # the stdout lines are the same verdicts
    lines = [line for line in two_runs["stdout"].splitlines() if line.startswith("[")]
    assert [line.split("]")[0][1:].lower() for line in lines] == [c["verdict"] for c in checks]
    # the sections of the old verify.md: the profile, its expected runtime and the sweeps
    assert "## Run: profile, sweeps and timing" in md and "expected for this profile: about 5 s serial" in md
    assert "### Sweeps of this run" in md and "### Profile grid" in md
    assert report["extra"]["expected_runtime"] == "about 5 s serial"
    assert set(report["extra"]["cell_ids"]) == set(rate_report.KINDS)
    assert sorted(report["cell_ids"]) == sorted(i for ids in report["extra"]["cell_ids"].values() for i in ids)
    assert report["provenance"]["verify"]["wall_seconds"] > 0


def test_json_output_is_strict_and_names_the_run(two_runs):
    data = _strict(two_runs["json"])
    assert data["profile"] == "smoke" and data["report_id"].startswith("rep-")
    folder = Path(data["run_folder"])
    assert folder != two_runs["first"] and folder.is_dir() and folder.name == data["run_id"]
    assert Path(data["latest"]).resolve() == folder.resolve()
    assert data["store"] == str((two_runs["store"] / "twolayer.sqlite").resolve())
    assert {Path(p).parent for p in data["files"].values()} == {folder}
    assert all(Path(p).is_file() for p in data["files"].values())
    report = _strict((folder / "report.json").read_text())
    assert data["findings"] == report["findings"] and data["report_id"] == report["report_id"]
    assert all(set(f) == {"name", "verdict", "detail"} for f in data["findings"])
    # the second run reused every cell of the first from the one store
    assert all(s["computed"] == 0 for s in report["provenance"]["verify"]["sweeps"])


def test_kind_tables_state_every_value(two_runs):
    """Each verify kind has its registered content: no blank or 'None' cell, no tallies, a normalisation."""
    assert set(rate_report.KINDS) <= set(registered_report_kinds())
    assert rate_report.KINDS == (rates.KIND_CONSISTENCY, rates.KIND_MOMENTS, rates.KIND_MINIMUM, rates.KIND_DIMENSION,
                                 rates.KIND_PRECISION)
    with ResultStore(two_runs["store"], create=False) as st:
        for kind in rate_report.KINDS:
            records = list(st.iter_cells(kind=kind))
            assert records, kind
            content = kind_content(kind, records)
            assert content.kind == kind and content.tallies == () and content.normalisation
            tables = [t for s in content.sections for t in s.tables] + [content.compact]
            assert all(not s.figures for s in content.sections)
            for t in tables:
                assert t.rows and t.note, (kind, t.title)
                for row in t.rows:
                    assert len(row) == t.width
                    assert all(cell.strip() and "None" not in cell and "nan" not in cell for cell in row), (kind, row)
                # no column is absent in every row
                for j, h in enumerate(t.headers):
                    assert any(row[j] != "-" for row in t.rows), (kind, h)


def test_latex_compiles_without_overfull_lines(two_runs, tmp_path):
    exe = shutil.which("pdflatex")
    if exe is None:
        pytest.skip("pdflatex is not installed")
    shutil.copy(two_runs["first"] / "report.tex", tmp_path / "report.tex")
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "report.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    log = (tmp_path / "report.log").read_text(errors="replace")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)


def test_store_report_of_a_verify_sweep_uses_the_kind_content(two_runs, tmp_path):
    report = _strict((two_runs["first"] / "report.json").read_text())
    sweep = next(s for s in report["provenance"]["verify"]["sweeps"] if s["kind"] == rates.KIND_MOMENTS)
    rc, out, err = _run(["store", "report", "--run", sweep["run_id"], "--store", str(two_runs["store"]),
                         "--out", str(tmp_path / "sr"), "--json"])
    assert rc == 0, err
    folder = Path(_strict(out)["report_dir"])
    md = (folder / "report.md").read_text()
    assert "None" not in md and "### Bias E[L_N] - Ltilde per cell" in md and "### Variance Var L_N per cell" in md
    assert "- Normalisation: finite-N cells: target a_i = 1" in md and "verdict" not in md.split("## Cells", 1)[0]


def test_bad_store_refused_before_anything_is_created(tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"not": "a store"}')
    before = garbage.read_bytes()
    rc, out, err = _run([*SMOKE, "--store", str(garbage), "--out", str(tmp_path / "vq")])
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "store" in err and "Traceback" not in err
    assert not (tmp_path / "vq").exists() and garbage.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.json"]


def test_bad_out_seed_scheduler_workers_refused_before_anything_is_created(tmp_path):
    (tmp_path / "a-file").write_text("x")
    rc, _, err = _run([*SMOKE, "--out", str(tmp_path / "a-file"), "--store", str(tmp_path / "store")])
    assert rc == 2 and "argument out" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    for bad, word in ((["--scheduler", "localhost:8786"], "scheduler"), (["--seed", "-1"], "seed"),
                      (["--workers", "-1"], "workers")):
        rc, _, err = _run([*SMOKE, *bad, "--out", str(tmp_path / "vq"), "--store", str(tmp_path / "store")])
        assert rc == 2 and (f"argument {word}" in err or f"argument --{word}" in err), err
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_default_store_is_the_shared_one(tmp_path, monkeypatch):
    """No --store: $TWOLAYER_STORE, else ./twolayer-results (never a store inside the output root)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TWOLAYER_STORE", raising=False)
    rc, out, err = _run([*SMOKE, "--json"])
    assert rc == 0, err
    data = _strict(out)
    assert data["store"] == str((tmp_path / "twolayer-results" / "twolayer.sqlite").resolve())
    assert Path(data["run_folder"]).parent == Path("verify-out")
    assert sorted(p.name for p in (tmp_path / "verify-out").iterdir()) == ["latest", data["run_id"]]


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: quick)", "(default: verify-out)", "(default: 20220517)", "--json",
                    "$TWOLAYER_STORE, else ./twolayer-results"):
        assert default in text


def test_the_dispatcher_registers_the_verify_report_kinds():
    """`twolayer store report` builds the same parser: the verify kinds' content is registered there too."""
    code = ("import conjecture.command_line as c; c.build_parser(); c.import_report_kinds(); "
            "from numerics.evidence.reports.kinds import registered_report_kinds as r; print(','.join(r()))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=SUBPROCESS_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr
    assert set(rate_report.KINDS) <= set(proc.stdout.strip().split(","))

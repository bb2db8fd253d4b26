"""``twolayer conjecture``: outputs written, and bad input answered by one line on stderr with exit status 2."""

import json

import pytest

from conjecture.command_line import main
from conjecture.frames import load_user_frame
from theory.errors import InputError


def _run(argv, capsys):
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_small_run_writes_reports(tmp_path, capsys):
    code, out, err = _run(["conjecture", "--M", "2-3", "--d", "2", "--starts", "4", "--polish-dps", "0", "--no-sdp",
                           "--workers", "0", "--quiet", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    run = tmp_path / "latest"
    for name in ("report.md", "report.json", "report.tex", "report.html", "CITATION.txt", "verdicts.png"):
        assert (run / name).stat().st_size > 0
    data = json.loads((run / "report.json").read_text())
    assert [c["result"]["verdict_nonneg"] for c in data["cells"]] == ["PROVEN", "PROVEN"]
    assert data["run_provenance"]["seeds"] == [0] and all("seed" in c for c in data["cells"])
    # signed beta: M = 3 is PROVEN by the elliptope certificate, M = 2, d = 2 stays SUPPORTED
    assert data["shown"] == {"conjecture-cell: β ≥ 0": {"PROVEN": 2},
                             "conjecture-cell: signed β": {"PROVEN": 1, "SUPPORTED": 1}}
    assert "PROVEN" in out
    cite = (run / "CITATION.txt").read_text(encoding="utf-8")
    assert "β ≥ 0: 2 PROVEN" in cite and "signed β: 1 PROVEN, 1 SUPPORTED" in cite
    assert "certified (1): M=3 d=2 PROVEN" in cite
    assert "certified (2): M=2 d=2 PROVEN, M=3 d=2 PROVEN" in cite


@pytest.mark.parametrize("argv,needle", [
    (["--M", "1"], "argument M"), (["--d", "0"], "argument d"), (["--regime", "IV"], "argument regime"),
    (["--M", "2-x"], "argument M"), (["--activation", "softplus"], "argument activation"),
])
def test_bad_arguments_exit_2(argv, needle, tmp_path, capsys):
    code, out, err = _run(["conjecture", *argv, "--out", str(tmp_path)], capsys)
    assert code == 2 and needle in err and err.count("\n") == 1


@pytest.mark.parametrize("content,needle", [
    ("[[1, 0], [0, 1", "not valid JSON"), ("[[1, 0], [0.6, 0.6]]", "unit norm"), ("[[1, 0], [NaN, 1]]", "NaN"),
    ("[[1, 0], [0, 1, 0]]", "different lengths"), ('{"rows": []}', "'frame' key"),
])
def test_bad_frame_file_exit_2(content, needle, tmp_path, capsys):
    f = tmp_path / "frame.json"
    f.write_text(content)
    code, out, err = _run(["conjecture", "--frame", str(f), "--out", str(tmp_path)], capsys)
    assert code == 2 and needle in err and err.count("\n") == 1


def test_load_user_frame_ok(tmp_path):
    f = tmp_path / "f.json"
    f.write_text('{"frame": [[1, 0, 0], [-0.5, 0.8660254037844386, 0]]}')
    assert load_user_frame(f).shape == (2, 3)
    with pytest.raises(InputError, match="expected M = 3"):
        load_user_frame(f, M=3)


@pytest.mark.slow
def test_default_run_under_60_seconds(tmp_path, capsys, monkeypatch):
    import time

    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    code, out, err = _run(["conjecture"], capsys)
    assert code == 0 and (tmp_path / "conjecture_out" / "latest" / "report.md").exists()
    assert time.perf_counter() - t0 < 60


def test_m6_d5_citation_counts_both_verdicts(tmp_path, capsys):
    """MUST SHOW (issue 8): the M = 6, d = 5 citation says beta >= 0: PROVEN and signed: SUPPORTED."""
    code, out, err = _run(["conjecture", "--M", "6", "--d", "5", "--starts", "200", "--workers", "0", "--quiet",
                           "--out", str(tmp_path / "w1")], capsys)
    assert code == 0, err
    cite = (tmp_path / "w1" / "latest" / "CITATION.txt").read_text(encoding="utf-8")
    assert "conjecture-cell: β ≥ 0: 1 PROVEN" in cite and "certified (1): M=6 d=5 PROVEN" in cite
    assert "conjecture-cell: signed β: 1 SUPPORTED" in cite


@pytest.mark.parametrize("argv,needle", [
    (["--regime", "I", "--law", "rademacher"], "argument law: applies to regime III only"),
    (["--regime", "I", "--tilt-norm", "0.5"], "argument tilt-norm: applies to regime II only"),
    (["--regime", "III", "--tilt-norm", "0.5"], "argument tilt-norm: applies to regime II only"),
    (["--M", "1-100000000"], "argument M: values must lie in 2..64"),
    (["--M", "3", "--d", "M+100"], "argument d: relative range must run upwards within +-64"),
])
def test_options_that_do_not_apply_exit_2(argv, needle, tmp_path, capsys):
    code, out, err = _run(["conjecture", *argv, "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()

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
    assert data["shown"] == {"conjecture-cell: beta >= 0": {"PROVEN": 2}, "conjecture-cell: signed beta": {"SUPPORTED": 2}}
    assert "PROVEN" in out


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

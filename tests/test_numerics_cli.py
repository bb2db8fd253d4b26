"""``twolayer loss`` / ``twolayer verify``: documented file formats, and bad input -> one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conjecture.command_line import main
from numerics.networks import NetworkPair, read_network_file, write_network_file
from numerics.population_loss import exact_population_loss


def _pair(rng, N=12, d=3, M=2, act="relu"):
    return NetworkPair.from_arrays(rng.standard_normal(N), rng.standard_normal((N, d)), rng.standard_normal(M),
                                   rng.standard_normal((M, d)), act)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_loss_from_file_round_trip(tmp_path, rng, capsys, suffix):
    pair = _pair(rng, act="abs")
    path = write_network_file(tmp_path / f"net{suffix}", pair)
    back = read_network_file(path)
    assert back.activation.name == "abs" and np.array_equal(back.W, pair.W)
    assert main(["loss", "--weights", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = exact_population_loss(pair.a, pair.W, pair.b, pair.V, "abs")
    assert abs(out[0]["value"] - expected.value) <= expected.error_bound


def test_loss_all_methods_agree(capsys):
    assert main(["loss", "--N", "40", "--d", "4", "--method", "all", "--mc-samples", "40000",
                 "--seed", "2", "--json"]) == 0
    f64, ball, mc = json.loads(capsys.readouterr().out)
    assert abs(f64["value"] - ball["value"]) <= f64["error_bound"] + ball["error_bound"]
    assert abs(mc["value"] - f64["value"]) < 4 * mc["error_bound"]


def _write_bad(tmp_path, kind):
    if kind == "nan":
        p = tmp_path / "nan.npz"
        np.savez(p, a=np.array([1.0, np.nan]), W=np.ones((2, 3)), b=np.ones(1), V=np.ones((1, 3)))
    elif kind == "inf":
        p = tmp_path / "inf.json"
        p.write_text('{"target": {"a": [1, 1], "W": [[1, 2], [3, 1e999]]}, "student": {"b": [1], "V": [[1, 0]]}}')
    elif kind == "dims":
        p = tmp_path / "dims.npz"
        np.savez(p, a=np.ones(2), W=np.ones((2, 3)), b=np.ones(1), V=np.ones((1, 4)))
    elif kind == "n0":
        p = tmp_path / "n0.json"
        p.write_text('{"target": {"a": [], "W": []}, "student": {"b": [1], "V": [[1, 0]]}}')
    elif kind == "malformed":
        p = tmp_path / "bad.json"
        p.write_text("{not json")
    elif kind == "missing":
        p = tmp_path / "missing.json"
        p.write_text('{"target": {"a": [1], "W": [[1, 0]]}, "student": {"b": [1]}}')
    elif kind == "ragged":
        p = tmp_path / "ragged.json"
        p.write_text('{"target": {"a": [1, 2], "W": [[1, 0], [1]]}, "student": {"b": [1], "V": [[1, 0]]}}')
    elif kind == "notzip":
        p = tmp_path / "junk.npz"
        p.write_bytes(b"not a zip archive")
    else:
        p = tmp_path / "does-not-exist.json"
    return p


BAD = [("nan", "NaN or inf"), ("inf", "NaN or inf"), ("dims", "dimension mismatch"), ("n0", "at least one neuron"),
       ("malformed", "not valid JSON"), ("missing", "missing array"), ("ragged", "expected"),
       ("notzip", "not a readable .npz"), ("absent", "file not found")]


@pytest.mark.parametrize("kind, message", BAD)
def test_bad_weights_file_one_line_exit_2(tmp_path, capsys, kind, message):
    path = _write_bad(tmp_path, kind)
    assert main(["loss", "--weights", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["loss", "--N", "0"], "argument N"),
    (["loss", "--M", "0"], "argument M"),
    (["loss", "--d", "100001"], "argument d"),
    (["loss", "--law", "cauchy"], "law"),
    (["loss", "--method", "exactly"], "argument method"),
    (["loss", "--beta", "nan"], "argument beta"),
    (["verify", "--profile", "fast"], "unknown profile"),
])
def test_bad_arguments_one_line_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


def test_verify_subprocess_reports_unknown_profile_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "conjecture.command_line", "verify", "--profile", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr

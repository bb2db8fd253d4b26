"""One command-line vocabulary: --M/--N/--d where they apply, --json (strict) on every command, defaults in
--help, --version, a clean exit on a closed pipe, and one normalisation shared by derive and conjecture.

MUST SHOW (issue 8): `twolayer --version` works; every subcommand accepts --M/--N/--d where they apply and
--json, whose output json.loads parses with parse_constant raising on NaN; `twolayer derive --json | head -1`
exits cleanly; derive and conjecture print the same F_ETF for leaky_relu(0.2), M = 4, d = 3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest

from conjecture.command_line import build_parser, main

REPO = Path(__file__).resolve().parent.parent
SIZES = {"derive": {"--M", "--d"}, "loss": {"--N", "--M", "--d"}, "conjecture": {"--M", "--d"},
         "etf-sweep": {"--M", "--d"}}


def _strict(text: str):
    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def _leaf_parsers():
    """(name, parser) of every runnable subcommand, 'store runs' etc. included."""
    import argparse

    def walk(parser, prefix):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield prefix, parser
            return
        for name, child in subs[0].choices.items():
            yield from walk(child, f"{prefix} {name}".strip())

    return list(walk(build_parser(), ""))


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("twolayer ") and out.split()[1][0].isdigit()


def test_every_subcommand_has_json_sizes_and_shows_defaults():
    leaves = dict(_leaf_parsers())
    assert {"derive", "loss", "verify", "conjecture", "etf-sweep", "reproduce", "store runs", "store cells",
            "store export", "store report", "store check"} <= set(leaves)
    for name, parser in leaves.items():
        options = {o for a in parser._actions for o in a.option_strings}
        assert "--json" in options, name
        assert options >= SIZES.get(name, set()), (name, SIZES.get(name))
        shown = parser.format_help()
        old = {"--neurons", "--dim", "--dims", "--student-neurons", "--activations"}
        assert not any(f"{o} " in shown or f"{o}\n" in shown for o in old), name  # kept only as a hidden 'renamed' error
        with_default = [a for a in parser._actions if a.option_strings and a.default not in (None, False, "==SUPPRESS==")]
        if with_default:
            assert "(default" in shown, name


def _json_of(argv, capsys):
    code = main(argv)
    cap = capsys.readouterr()
    assert code == 0, (argv, cap.err)
    return _strict(cap.out)


def test_every_command_prints_strict_json(tmp_path, capsys):
    t = str(tmp_path)
    assert _json_of(["derive", "--json"], capsys)["entries"]
    methods = [m["method"] for m in _json_of(["loss", "--N", "30", "--d", "3", "--M", "2", "--method", "all", "--json"], capsys)]
    assert [m.split("-")[0] for m in methods] == ["float64", "arb", "monte"], methods
    assert _json_of(["loss", "--N", "30", "--d", "3", "--M", "2", "--method", "mc", "--mc-samples", "2000", "--json"],
                    capsys)[0]["method"].startswith("monte-carlo")
    conj = _json_of(["conjecture", "--M", "3", "--d", "2", "--starts", "2", "--polish-dps", "0", "--no-sdp",
                     "--workers", "0", "--quiet", "--json", "--out", f"{t}/c"], capsys)
    assert conj["cells"][0]["verdict_nonneg"] == "PROVEN"
    assert _json_of(["etf-sweep", "--M", "2-3", "--d", "3", "--workers", "0", "--quiet", "--json",
                     "--out", f"{t}/e"], capsys)["agree"] == 2
    assert _json_of(["verify", "--profile", "smoke", "--workers", "0", "--quiet", "--json", "--out", f"{t}/v"],
                    capsys)["findings"]
    runs = _json_of(["store", "runs", "--json"], capsys)["runs"]
    assert any(r["run_id"] == conj["run_id"] for r in runs)
    assert len(_json_of(["store", "cells", "--json", "--limit", "3"], capsys)["cells"]) == 3
    assert _json_of(["store", "check", "--json"], capsys)["integrity_check"] == "ok"
    assert _json_of(["store", "export", "--out", f"{t}/x.json", "--run", conj["run_id"], "--json"], capsys)["cells"] == 1
    assert _json_of(["store", "report", "--run", conj["run_id"], "--out", f"{t}/r", "--json"], capsys)["cells"] == 1
    rep = _json_of(["reproduce", conj["cells"][0]["cell_id"], "--json"], capsys)
    assert rep["status"] == "match"


def test_closed_pipe_exits_cleanly(tmp_path):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    for cmd in ("twolayer derive --json | head -1", "twolayer loss --N 40 --d 4 --M 3 --json | head -1",
                "twolayer derive | head -1"):
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr and "Error" not in proc.stderr, (cmd, proc.stderr)
        assert proc.stdout.strip(), cmd


def test_derive_and_conjecture_agree_on_f_etf(tmp_path, capsys):
    """The same normalisation (abar = 1) in both commands: leaky_relu(0.2), M = 4, d = 3."""
    act = "leaky_relu(0.2)"
    derived = _json_of(["derive", "--activation", act, "--M", "4", "--d", "3", "--dps", "40", "--json"], capsys)
    f_derive = next(e for e in derived["entries"] if e["name"] == "F_ETF")
    assert "abar = 1" in f_derive["normalisation"]
    conj = _json_of(["conjecture", "--activation", act, "--M", "4", "--d", "3", "--starts", "4", "--polish-dps", "0",
                     "--no-sdp", "--workers", "0", "--quiet", "--json", "--out", str(tmp_path / "c")], capsys)
    assert "abar = E[a||w||] = 1" in conj["normalisation"]
    f_conj = conj["cells"][0]["F_ETF"]
    with mpmath.workdps(50):
        a, b = mpmath.mpf(f_derive["value"]), mpmath.mpf(f_conj)
        assert abs(a - b) <= mpmath.mpf(10) ** -38 * abs(a), (f_derive["value"], f_conj)
    assert f_conj.startswith("0.000675358706043")

"""Fuzzing every subcommand with malformed arguments and files (Hypothesis over the argument grammar).

Each invocation takes valid, cheap arguments for a subcommand and corrupts one of them with a value that
is invalid for it. Every invocation must end with exit status 2 and one line on stderr that names the
corrupted argument, with no traceback, no hang (20 s each), no memory blowup (the invocations run in a
child process under a 4 GiB address-space limit, restarted when it dies) and no file created or changed:
not in its working folder, not in the result store.

MUST SHOW (issue 9): the number of invocations, 0 tracebacks, 0 hangs, 0 memory blowups.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
MEMORY_CAP = 4 << 30
INVOCATION_TIMEOUT_S = 20
FUZZ_EXAMPLES = 250

# The child runs `twolayer` in-process for each request line and answers with one JSON line.
CHILD = r"""
import contextlib, io, json, os, resource, sys, traceback
resource.setrlimit(resource.RLIMIT_AS, (%d, %d))
from conjecture.command_line import main
for line in sys.stdin:
    req = json.loads(line)
    os.chdir(req["cwd"])
    out, err = io.StringIO(), io.StringIO()
    tb = ""
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(req["argv"])
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
        except MemoryError:
            tb = "MemoryError"
        except BaseException:
            tb = traceback.format_exc()
    sys.__stdout__.write(json.dumps({"code": code, "err": err.getvalue()[-4000:], "tb": tb[-4000:]}) + "\n")
    sys.__stdout__.flush()
""" % (MEMORY_CAP, MEMORY_CAP)


class Child:
    """One long-lived child process running invocations; restarted after a hang or a crash."""

    def __init__(self, env: dict) -> None:
        self.env = env
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO, env=self.env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def run(self, argv: list[str], cwd: str) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(json.dumps({"argv": argv, "cwd": cwd}) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], INVOCATION_TIMEOUT_S + 30)  # + import time
        if not ready:
            self.stop()
            return {"hang": True}
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            self.proc = None
            return {"died": code}
        return json.loads(line)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def _tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    store = base / "store"
    env = {**os.environ, "TWOLAYER_STORE": str(store)}
    # a real store with one run, so that the store and reproduce commands reach their own arguments
    proc = subprocess.run([sys.executable, "-m", "conjecture.command_line", "etf-sweep", "--M", "2-3", "--d", "3",
                           "--workers", "0", "--quiet", "--json"], cwd=base, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    run = json.loads(proc.stdout)
    files = base / "files"
    files.mkdir()
    (files / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (files / "garbage.json").write_text("{not json")
    (files / "frame_dup.json").write_text(json.dumps([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    (files / "weights_bad.json").write_text(json.dumps({"activation": ["relu"], "target": {"a": [1], "W": [[1, 0]]},
                                                        "student": {"b": [1], "V": [[0, 1]]}}))
    (files / "weights_huge.json").write_text(json.dumps({"activation": "relu", "target": {"a": [1e308], "W": [[1e308, 0]]},
                                                         "student": {"b": [1], "V": [[0, 1]]}}))
    child = Child(env)
    yield {"base": base, "store": store, "env": env, "run_id": run["run_id"], "files": files, "child": child,
           "tally": {"invocations": 0, "tracebacks": 0, "hangs": 0, "blowups": 0}}
    child.stop()


INTS_BAD = ["x", "", "nan", "9" * 5000, "-5", "1e999", "2.5", "0x10", "1-100000000", "5-2", " - "]
FLOATS_BAD = ["nan", "inf", "-inf", "x", "", "1e999"]
TIMEOUTS_BAD = FLOATS_BAD + ["0", "0.5", "601", "1e308", "-1"]
ACTIVATIONS_BAD = ["softplus", "pw(", "pw(else: " + "(" * 300 + "t" + ")" * 300 + ")", "pw(else: " + "-" * 400 + "t)",
                   "leaky_relu(1/0)", "leaky_relu(1e999999)", "leaky_relu(" + "9" * 5000 + ")", "__import__('os')",
                   "x" * 100_000, "relu^99", "pw(t<" + "9" * 5000 + ": t; else: 0)"]
LAWS_BAD = ["cauchy", "gaussian(1e308)", "gaussian(" + "9" * 5000 + ")", "moments(m4=3,m4=5)",
            "moments(m4=" + "9" * 5000 + ")", "gaussian(-1)", "__import__('os')", "x" * 100_000]


def _files(env) -> dict:
    f = env["files"]
    return {"deep": str(f / "deep.json"), "garbage": str(f / "garbage.json"), "zero": "/dev/zero",
            "missing": str(f / "missing.json"), "dir": str(f), "long": "x" * 100_000,
            "dup": str(f / "frame_dup.json"), "wbad": str(f / "weights_bad.json"), "whuge": str(f / "weights_huge.json")}


def _commands(env) -> dict:
    """subcommand -> (valid cheap argv, {option: (name in messages, invalid values)})."""
    fl = _files(env)
    out = "OUT"
    run = env["run_id"]
    frames = [fl[k] for k in ("deep", "garbage", "zero", "missing", "dir", "long", "dup")]
    weights = [fl[k] for k in ("deep", "garbage", "zero", "missing", "dir", "long", "wbad", "whuge")]
    return {
        "derive": (["derive", "--d", "3", "--M", "3", "--dps", "15", "--order", "2"],
                   {"--d": ("d", INTS_BAD + ["1000000000"]), "--M": ("M", INTS_BAD + ["50"]),
                    "--dps": ("dps", INTS_BAD + ["5", "100000"]), "--order": ("order", INTS_BAD + ["500"]),
                    "--activation": ("activation", ACTIVATIONS_BAD), "--law": ("law", LAWS_BAD),
                    "--tilt-norm": ("tilt-norm", FLOATS_BAD)}),
        "loss": (["loss", "--N", "20", "--d", "3", "--M", "2"],
                 {"--N": ("N", INTS_BAD + ["1000000000"]), "--d": ("d", INTS_BAD + ["1000000000"]),
                  "--M": ("M", INTS_BAD + ["1000000000"]), "--beta": ("beta", FLOATS_BAD),
                  "--seed": ("seed", INTS_BAD), "--mc-samples": ("mc-samples", INTS_BAD + ["1000000000000"]),
                  "--method": ("method", ["x", "", "float64;rm"]), "--activation": ("activation", ACTIVATIONS_BAD),
                  "--law": ("law", LAWS_BAD)}),
        "loss-weights": (["loss"], {"--weights": ("weights", weights)}),
        "conjecture": (["conjecture", "--M", "3", "--d", "2", "--starts", "1", "--polish-dps", "0", "--no-sdp",
                        "--workers", "0", "--quiet", "--out", out],
                       {"--M": ("M", INTS_BAD + ["1", "65"]), "--d": ("d", INTS_BAD + ["M+100", "M-1..M-5", "0"]),
                        "--starts": ("starts", INTS_BAD + ["0", "100000"]), "--seed": ("seed", INTS_BAD),
                        "--regime": ("regime", ["IV", "", "i i"]), "--activation": ("activation", ACTIVATIONS_BAD),
                        "--solver": ("solver", ["MOSEK", "", "scs;x"]), "--polish-dps": ("polish-dps", INTS_BAD),
                        "--max-iter": ("max-iter", INTS_BAD + ["0"]), "--study": ("study", ["x", ""]),
                        "--frame": ("frame", frames), "--law": ("law", ["rademacher"] + LAWS_BAD),
                        "--tilt-norm": ("tilt-norm", ["0.5"] + FLOATS_BAD),
                        "--workers": ("workers", INTS_BAD + ["1024"]),
                        "--scheduler": ("scheduler", ["http://x", "", "x" * 100_000]),
                        "--connect-timeout": ("connect-timeout", TIMEOUTS_BAD)}),
        "etf-sweep": (["etf-sweep", "--M", "2", "--d", "2", "--workers", "0", "--quiet", "--out", out],
                      {"--M": ("M", INTS_BAD + ["0", "1000"]), "--d": ("d", INTS_BAD + ["0"]),
                       "--dps": ("dps", INTS_BAD + ["5"]), "--seed": ("seed", INTS_BAD),
                       "--activation": ("activation", ACTIVATIONS_BAD), "--workers": ("workers", INTS_BAD + ["1024"]),
                       "--scheduler": ("scheduler", ["http://x", "", "x" * 100_000]),
                       "--connect-timeout": ("connect-timeout", TIMEOUTS_BAD)}),
        "verify": (["verify", "--profile", "smoke", "--workers", "0", "--quiet", "--out", out],
                   {"--profile": ("profile", ["huge", "", "x" * 100_000]), "--seed": ("seed", INTS_BAD),
                    "--workers": ("workers", INTS_BAD + ["1024"]), "--scheduler": ("scheduler", ["http://x", ""]),
                    "--connect-timeout": ("connect-timeout", TIMEOUTS_BAD)}),
        "store cells": (["store", "cells", "--limit", "2"],
                        {"--limit": ("limit", INTS_BAD + ["0"]), "--run": ("run", ["rXXXX", "x" * 100_000, "a'b;c", "%"])}),
        "store export": (["store", "export", "--out", "exp.json", "--run", run],
                         {"--out": ("out", ["exp.csv", fl["dir"]]), "--format": ("format", ["csv", "", "parquet"]),
                          "--run": ("run", ["rXXXX", "x" * 100_000])}),
        "claims run": (["claims", "run"], {"": ("name", ["nosuch", "", "x" * 100_000, "memorization;x"])}),
        "claims run memorization": (
            ["claims", "run", "memorization", "--n", "10", "--d", "2", "--workers", "0", "--quiet", "--out", out],
            {"--construction": ("construction", ["sigmoid", "", "relu;x", "x" * 100_000]),
             "--n": ("n", INTS_BAD + ["0", "20001"]), "--d": ("d", INTS_BAD + ["0", "51"]),
             "--seeds": ("seeds", INTS_BAD + ["0", "65"]), "--steps": ("steps", ["10"]),
             "--eps": ("eps", ["0.1"]), "--workers": ("workers", INTS_BAD + ["1024"])}),
        "claims run ntk-memorization": (
            ["claims", "run", "ntk-memorization", "--n", "20", "--d", "2,4", "--seeds", "2", "--workers", "0",
             "--quiet", "--out", out],
            {"--features": ("features", ["cnn", "", "ntk;rf", "x" * 100_000]),
             "--eps": ("eps", FLOATS_BAD + ["1", "0", "-0.1", "1e-9", ",".join(["0.5"] * 2000)]),
             "--n": ("n", INTS_BAD + ["1", "4001"]), "--d": ("d", INTS_BAD + ["1", "201"]),
             "--seeds": ("seeds", INTS_BAD + ["0", "65"]), "--activation": ("activation", ["tanh"]),
             "--construction": ("construction", ["relu"])}),
        "claims run condensation": (
            ["claims", "run", "condensation", "--activation", "tanh", "--d", "1", "--init-scale", "0.01",
             "--seeds", "1", "--steps", "5", "--workers", "0", "--quiet", "--out", out],
            {"--activation": ("activation", ["relu", "", "x" * 100_000, "__import__('os')"]),
             "--init-scale": ("init-scale", FLOATS_BAD + ["0", "11", "-1"]),
             "--steps": ("steps", INTS_BAD + ["0", "100001"]), "--optimizer": ("optimizer", ["sgd", "", "adam;gd"]),
             "--d": ("d", INTS_BAD + ["0", "51"]), "--seeds": ("seeds", INTS_BAD + ["0", "65"]),
             "--features": ("features", ["ntk"]), "--checkpoint": ("checkpoint", ["late", "", "x" * 100_000])}),
        "reproduce": (["reproduce"], {"": ("target", ["x" * 100_000, "a'b;c", "rep-zzzz", "/dev/zero", fl["deep"],
                                                     fl["garbage"], fl["missing"]])}),
    }


def _invocation(env, name: str, option: str, value: str) -> tuple[list[str], str]:
    base, corrupt = _commands(env)[name]
    argv = list(base)
    arg_name = corrupt[option][0]
    if option == "":
        argv.append(value)
    elif option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    if name == "store export" and option == "--format" and value == "parquet":
        pass  # contradicts the .json suffix of --out
    return argv, arg_name


def _check(env, argv: list[str], arg_name: str) -> None:
    child, tally = env["child"], env["tally"]
    before = _tree_hash(env["store"])
    with tempfile.TemporaryDirectory(dir=env["base"]) as cwd:
        t0 = time.perf_counter()
        res = child.run(argv, cwd)
        seconds = time.perf_counter() - t0
        tally["invocations"] += 1
        left = sorted(os.listdir(cwd))
    shown = [a if len(a) < 80 else a[:40] + f"...({len(a)} chars)" for a in argv]
    if res.get("hang"):
        tally["hangs"] += 1
        pytest.fail(f"hang (> {INVOCATION_TIMEOUT_S} s): {shown}")
    if "died" in res or res.get("tb") == "MemoryError":
        tally["blowups"] += 1
        pytest.fail(f"memory blowup or crash ({res}): {shown}")
    if res["tb"]:
        tally["tracebacks"] += 1
        pytest.fail(f"traceback: {shown}\n{res['tb']}")
    err = res["err"].strip()
    assert res["code"] == 2, (shown, res)
    assert "Traceback" not in err and len(err.splitlines()) == 1, (shown, err)
    assert f"argument {arg_name}" in err or f"argument --{arg_name}" in err or f"--{arg_name}" in err, (shown, err)
    assert len(err) < 600, (shown, len(err))
    assert seconds < INVOCATION_TIMEOUT_S, (shown, seconds)
    assert left == [], (shown, left)  # nothing written into the working folder
    assert _tree_hash(env["store"]) == before, shown  # the store untouched


@st.composite
def _cases(draw, env):
    commands = _commands(env)
    name = draw(st.sampled_from(sorted(commands)))
    option = draw(st.sampled_from(sorted(commands[name][1])))
    value = draw(st.sampled_from(commands[name][1][option][1]))
    return name, option, value


def test_fuzz_every_subcommand(fuzz_env):
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=_cases(fuzz_env))
    def run(case):
        name, option, value = case
        argv, arg_name = _invocation(fuzz_env, name, option, value)
        _check(fuzz_env, argv, arg_name)

    run()
    tally = fuzz_env["tally"]
    print(f"\nfuzz: {tally['invocations']} invocations, {tally['tracebacks']} tracebacks, {tally['hangs']} hangs, "
          f"{tally['blowups']} memory blowups")
    assert tally["invocations"] >= 100 and tally["tracebacks"] == tally["hangs"] == tally["blowups"] == 0


def _all_cases(env_like) -> list[tuple[str, str, str]]:
    cmds = _commands(env_like)
    return [(n, o, v) for n, (_, opts) in sorted(cmds.items()) for o, (_, vals) in sorted(opts.items()) for v in vals]


def test_every_listed_bad_value_of_every_option(fuzz_env):
    """Each (subcommand, option, bad value) of the grammar once: the named regression cases."""
    failures = []
    for name, option, value in _all_cases(fuzz_env):
        argv, arg_name = _invocation(fuzz_env, name, option, value)
        try:
            _check(fuzz_env, argv, arg_name)
        except (AssertionError, pytest.fail.Exception) as err:
            failures.append(str(err)[:300])
    tally = fuzz_env["tally"]
    print(f"\nregression cases: {len(_all_cases(fuzz_env))}; tally {tally}")
    assert not failures, "\n".join(failures[:25]) + f"\n({len(failures)} failures)"

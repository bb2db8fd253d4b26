"""Every `twolayer` subcommand, given malformed arguments or files, answers with one line and exit 2.

The generic part walks the parser (so commands added later by any layer are covered): for every leaf
subcommand it tries an unknown option, non-numbers for numeric options, bad choices, and garbage /
missing / directory paths for options that read files.  A traceback (an exception escaping ``main``)
fails the test.  The explicit part covers the evidence commands' own validation.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from conjecture.command_line import build_parser, main

REPO = Path(__file__).resolve().parent.parent
CALL_TIMEOUT_S = 60  # one malformed call must fail fast; this only stops a hang
# Option names (dest) that read an existing file or store: a garbage file there must be rejected.
INPUT_DESTS = {"store", "network", "networks", "input", "config", "file", "frame", "frames", "report", "target",
               "from_file", "target_file", "spec", "load", "weights"}
OUTPUT_DESTS = {"out", "output", "out_dir", "outdir"}


def _reads_a_file(action: argparse.Action) -> bool:
    """Options that read an existing file: by name, or an input option whose help says 'file'."""
    if action.nargs == 0 or isinstance(action, argparse._HelpAction) or action.dest in OUTPUT_DESTS:
        return False
    return action.dest in INPUT_DESTS or " file" in f" {action.help or ''}".lower()


def _leaf_commands() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    out = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            out.append((path, parser))
            return
        for action in subs:
            for name, sub in action.choices.items():
                walk(sub, path + (name,))

    walk(build_parser(), ())
    return out


LEAVES = _leaf_commands()


def _required_fill(parser: argparse.ArgumentParser, skip: argparse.Action | None, value: str) -> list[str]:
    """Arguments that satisfy the parser's required positionals/options (with a bad ``value``)."""
    args: list[str] = []
    for a in parser._actions:
        if a is skip or isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if not a.option_strings:  # positional
            n = a.nargs if isinstance(a.nargs, int) else 1
            args += [value] * n
        elif a.required:
            args += [a.option_strings[-1], value]
    return args


@contextmanager
def _deadline(seconds: int):
    def boom(signum, frame):
        raise TimeoutError(f"CLI call took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _run(argv: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    with _deadline(CALL_TIMEOUT_S):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    err = capsys.readouterr().err
    return int(code), err


def _assert_clean_error(code: int, err: str, argv: list[str]) -> None:
    assert code == 2, (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    assert len(err.strip().splitlines()) == 1, (argv, err)


def _numeric_type(t) -> bool:
    """int, float, or a parsing function named like a number parser (e.g. positive_int, probability)."""
    if t in (int, float):
        return True
    name = getattr(t, "__name__", "").lower()
    return callable(t) and any(w in name for w in ("int", "float", "number", "positive", "prob", "digits"))


def _takes_a_number(action: argparse.Action) -> bool:
    """A numeric type, or a text option whose default is a number (parsed by the handler)."""
    if _numeric_type(action.type):
        return True
    numeric_default = isinstance(action.default, (int, float)) and not isinstance(action.default, bool)
    numeric_help = re.search(r"\(default -?\d[\d.]*\)", action.help or "") is not None
    return action.type in (None, str) and (numeric_default or numeric_help) and not action.choices


def _ids(leaves) -> list[str]:
    return [" ".join(p) for p, _ in leaves]


def test_every_registered_command_is_walked():
    names = {p[0] for p, _ in LEAVES}
    assert {"reproduce", "store", "etf-sweep"} <= names
    help_text = build_parser().format_help()
    assert all(n in help_text for n in names)


@pytest.mark.parametrize("path,parser", LEAVES, ids=_ids(LEAVES))
def test_unknown_option_and_bad_values(path, parser, capsys, tmp_path):
    argv = [*path, *_required_fill(parser, None, str(tmp_path / "missing")), "--no-such-option-xyz"]
    _assert_clean_error(*_run(argv, capsys), argv)
    for a in parser._actions:
        if not a.option_strings or a.nargs == 0 or isinstance(a, argparse._HelpAction):
            continue
        opt = a.option_strings[-1]
        fill = _required_fill(parser, a, str(tmp_path / "missing"))
        if _takes_a_number(a):
            argv = [*path, *fill, opt, "not-a-number"]
            _assert_clean_error(*_run(argv, capsys), argv)
        if a.choices:
            argv = [*path, *fill, opt, "no-such-choice"]
            _assert_clean_error(*_run(argv, capsys), argv)


@pytest.mark.parametrize("path,parser", LEAVES, ids=_ids(LEAVES))
def test_garbage_missing_and_directory_files(path, parser, capsys, tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xff not json, not sqlite, not a report \x89PNG" * 50)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    targets = [a for a in parser._actions if _reads_a_file(a)]
    for a in targets:
        fill = _required_fill(parser, a, str(garbage))
        # a missing path or a directory is a valid place for a new store (and would start real work)
        bads = (garbage,) if a.dest == "store" else (garbage, tmp_path / "does-not-exist.json", folder)
        for bad in bads:
            argv = [*path, *fill, *([a.option_strings[-1]] if a.option_strings else []), str(bad)]
            _assert_clean_error(*_run(argv, capsys), argv)


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["reproduce", "zz$$", "--store", "{tmp}"], "no result store"),
        (["reproduce", "abcd", "--store", "{tmp}/none.sqlite"], "no result store"),
        (["reproduce", "{tmp}/report.html"], "no such report"),
        (["reproduce", "abcd", "--max-cells", "0", "--store", "{store}"], "max-cells"),
        (["reproduce", "a'b;c", "--store", "{store}"], "cell id"),
        (["reproduce", "rep-000000", "--store", "{store}"], "no report"),
        (["reproduce", "r2099", "--store", "{store}"], "no run"),
        (["store", "check", "--store", "{tmp}/none.sqlite"], "no result store"),
        (["store", "export", "--store", "{store}", "--out", "{tmp}"], "not a directory"),
        (["store", "cells", "--store", "{store}", "--run", "rXXXX"], "no run"),
        (["etf-sweep", "--M", "2..x", "--store", "{tmp}"], "argument M"),
        (["etf-sweep", "--M", "50", "--d", "3", "--store", "{tmp}"], "M <= d + 1"),
        (["etf-sweep", "--d", "0", "--store", "{tmp}"], "argument d"),
        (["etf-sweep", "--M", "3..1", "--store", "{tmp}"], "argument M"),
        (["etf-sweep", "--activation", "__import__('os')", "--store", "{tmp}"], "unknown activation"),
        (["etf-sweep", "--dps", "5", "--store", "{tmp}"], "dps"),
        (["etf-sweep", "--seed", "-1", "--store", "{tmp}", "--M", "2", "--d", "2"], "seed"),
        (["etf-sweep", "--scheduler", "http://x", "--store", "{tmp}"], "scheduler"),
        (["etf-sweep", "--workers", "-3", "--store", "{tmp}"], "workers"),
    ],
)
def test_evidence_commands_validate_input(argv, needle, capsys, tmp_path):
    store = tmp_path / "s"
    from numerics.evidence.store import ResultStore

    ResultStore(store).close()
    argv = [x.replace("{tmp}", str(tmp_path)).replace("{store}", str(store)) for x in argv]
    code, err = _run(argv, capsys)
    _assert_clean_error(code, err, argv)
    assert needle in err, err


def test_real_process_gets_one_line_and_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "conjecture.command_line", "store", "check", "--store",
                           str(tmp_path / "nope.sqlite")], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"twolayer store: error: argument store: no result store at this path (run a sweep first, or pass --store)"
        f" (got '{tmp_path / 'nope.sqlite'}')"]

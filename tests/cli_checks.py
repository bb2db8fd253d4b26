"""Shared helpers for the command-line tests: run ``twolayer`` in-process; a refusal is exit 2 and one line."""

from __future__ import annotations


def assert_refused(code, out: str, err: str, argument: str, *needles: str) -> str:
    """Exit status 2, one line on stderr naming ``argument`` and holding every needle, no traceback; the line."""
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"argument {argument}:" in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def run_twolayer(argv, capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``twolayer ARGV`` in-process (argparse errors exit via SystemExit)."""
    from conjecture.command_line import main

    try:
        code = main(list(argv))
    except SystemExit as stop:
        code = stop.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err

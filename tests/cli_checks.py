"""Shared assertion for the command-line tests: a refusal is exit 2 and one line naming the argument."""

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

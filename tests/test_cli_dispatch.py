"""The ``twolayer`` dispatcher: help works, user errors are one line with exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conjecture.command_line import main


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_command_is_one_line_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "conjecture.command_line", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "no-such-command" in proc.stderr

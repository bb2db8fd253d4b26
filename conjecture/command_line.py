"""The ``twolayer`` command: one parser, subcommands registered by each layer.

User errors (``InputError``, argparse errors, unreadable files) print one line on stderr and exit 2;
a traceback means a bug in the toolkit.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn, Sequence

from numerics.evidence.kind_modules import REPORT_KIND_MODULES
from theory.cli_args import HelpFormatter
from theory.errors import InputError

# Modules that define ``register(subparsers)``; the order is the order in --help.
SUBCOMMAND_MODULES = (
    "theory.cli",
    "numerics.loss_cli",
    "numerics.verify_cli",
    "numerics.etf_sweep_cli",
    "numerics.claims_cli",
    "conjecture.cli",
    "conjecture.certificate_cli",
    "numerics.evidence.cli",
)


# The longest argparse message printed (its bad value is cut past this).
MAX_MESSAGE = 160


def toolkit_version() -> str:
    """The installed distribution's version ('unknown' when run from a bare source tree)."""
    try:
        return version("twolayer-compression")
    except PackageNotFoundError:
        return "unknown"


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: 'twolayer CMD: error: ...', exit status 2, and whose
    help shows every default."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        message = " ".join(message.split())
        if len(message) > MAX_MESSAGE:  # argparse echoes a bad value whole: keep the argument's name, cut the value
            message = f"{message[:MAX_MESSAGE]}... ({len(message)} characters)"
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="twolayer",
        description="Compression of wide two-layer networks: mean-field objective, finite-N rates, ETF conjecture.",
    )
    parser.add_argument("--version", action="version", version=f"twolayer {toolkit_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def import_report_kinds() -> None:
    """Register every layer's report content (reports and reproduce render any kind in the store)."""
    for name in REPORT_KIND_MODULES:
        importlib.import_module(name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "uses_reports", True):  # derive and loss write no report: they skip the report modules
        import_report_kinds()
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:  # an OSError, so caught first; e.g. `twolayer derive --json | head -1`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except InputError as err:
        print(f"twolayer {args.command}: error: {err}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as err:
        print(f"twolayer {args.command}: error: an input file is not UTF-8 text ({err.reason})", file=sys.stderr)
        return 2
    except (OSError, ValueError) as err:
        if isinstance(err, (FileNotFoundError, PermissionError, IsADirectoryError)):
            print(f"twolayer {args.command}: error: cannot read {err.filename!r}: {err.strerror}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        print(f"twolayer {args.command}: interrupted; finished results are kept in the store", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The command line's one vocabulary, parsed once at the boundary into typed values.

Every subcommand spells the three sizes the same way and reads them with the same grammar:

    --M   compressed width M        --N   target width N        --d   input dimension d

    VALUES := ITEM ("," ITEM)*          ITEM := INT | INT "-" INT | INT ".." INT
    (--d also takes items relative to M: "M", "M+2", "M-1", "M-1..M+2")

A command that takes one value (``derive --d 11``) uses the same grammar and refuses a set of several.
Bounds are checked before a range is expanded, so ``--M 1-100000000`` is refused at once.  Every
command has ``--json`` (strict JSON on stdout: no NaN or Infinity tokens) and shows its defaults in
``--help``.

Examples
--------
>>> parse_int_set("2-4", "M", lo=2, hi=64), parse_int_set("2..4,7", "M", lo=2, hi=64)
((2, 3, 4), (2, 3, 4, 7))
>>> parse_int("11", "d", lo=1, hi=64)
11
>>> parse_dims("M-1,M+2", (2, 3), lo=1, hi=64)
{2: (1, 4), 3: (2, 5)}
>>> strict_json({"x": float("nan"), "y": [1.5]})
'{"x": null, "y": [1.5]}'
"""

from __future__ import annotations

import argparse
import json
import math
import re
from typing import Any, Sequence

from theory.errors import InputError

# The most values a range may expand to (a sweep of more cells is refused before anything runs).
MAX_RANGE_VALUES = 10_000
# Integers in ranges have at most this many digits (bounds are far smaller; this stops huge literals early).
MAX_INT_DIGITS = 9
_ITEM = re.compile(r"^\s*(\d{1,%d})\s*(?:(-|\.\.)\s*(\d{1,%d}))?\s*$" % (MAX_INT_DIGITS, MAX_INT_DIGITS))
_RELATIVE = re.compile(r"^\s*M\s*([+-]\s*\d{1,%d})?\s*$" % MAX_INT_DIGITS, re.IGNORECASE)
GRAMMAR = "an integer, a range a-b or a..b, or a comma list of these"


def _shown(text: object, limit: int = 60) -> str:
    s = str(text)
    return s if len(s) <= limit else s[:limit] + f"... ({len(s)} characters)"


def _items(text: object, argument: str) -> list[str]:
    if isinstance(text, (list, tuple, range)):  # the Python API's plain values: [2, 3, 5] or range(2, 6)
        if len(text) > MAX_RANGE_VALUES or not all(isinstance(v, int) and not isinstance(v, bool) for v in text):
            raise InputError(argument, f"expected at most {MAX_RANGE_VALUES} integers", got=_shown(text))
        if not len(text):
            raise InputError(argument, "expected at least one value", got=_shown(text))
        text = ",".join(str(v) for v in text)
    if not isinstance(text, (str, int)) or isinstance(text, bool):
        raise InputError(argument, f"expected {GRAMMAR}", got=_shown(text))
    s = str(text)
    if len(s) > 1000:
        raise InputError(argument, f"expected {GRAMMAR} (at most 1000 characters)", got=_shown(s))
    return s.split(",")


def parse_int_set(text: object, argument: str, *, lo: int, hi: int,
                  max_values: int = MAX_RANGE_VALUES) -> tuple[int, ...]:
    """'3', '2-5', '2..5' or '2,4,6' (and mixtures) -> the sorted distinct integers, all in [lo, hi]."""
    out: set[int] = set()
    for part in _items(text, argument):
        m = _ITEM.match(part)
        if m is None:
            raise InputError(argument, f"expected {GRAMMAR}", got=_shown(text))
        first = int(m.group(1))
        last = int(m.group(3)) if m.group(3) is not None else first
        if last < first:
            raise InputError(argument, f"range {first}{m.group(2)}{last} is empty (its end is below its start)",
                             got=_shown(text))
        if first < lo or last > hi:
            raise InputError(argument, f"values must lie in {lo}..{hi}", got=_shown(text))
        if last - first + 1 + len(out) > max_values:
            raise InputError(argument, f"at most {max_values} values", got=_shown(text))
        out.update(range(first, last + 1))
    return tuple(sorted(out))


def parse_choices(text: object, argument: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """A comma list of names from ``allowed`` ('threshold,relu'), each once, in the order given.

    >>> parse_choices("relu, threshold,relu", "construction", ("threshold", "relu"))
    ('relu', 'threshold')
    """
    items = [t.strip() for t in _items(text, argument)]
    if any(t not in allowed for t in items):
        raise InputError(argument, f"expected a comma list of {', '.join(allowed)}", got=_shown(text))
    return tuple(dict.fromkeys(items))


def parse_int(text: object, argument: str, *, lo: int, hi: int) -> int:
    """One integer in [lo, hi], in the same grammar (a set of several values is refused)."""
    values = parse_int_set(text, argument, lo=lo, hi=hi)
    if len(values) != 1:
        raise InputError(argument, "this command takes a single value", got=_shown(text))
    return values[0]


def _relative(part: str, argument: str, text: object) -> int | None:
    m = _RELATIVE.match(part)
    if m is None:
        return None
    return int(m.group(1).replace(" ", "")) if m.group(1) else 0


def parse_dims(text: object, Ms: Sequence[int], *, lo: int, hi: int) -> dict[int, tuple[int, ...]]:
    """d values per M: absolute items ('1-4', '3,5') and items relative to M ('M-1', 'M+2', 'M-1..M+2').

    Absolute values outside [lo, hi] are an error; relative ones that fall outside are dropped for that M.
    """
    absolute: set[int] = set()
    offsets: set[int] = set()
    for part in _items(text, argument="d"):
        if "M" not in part.upper():
            absolute.update(parse_int_set(part, "d", lo=lo, hi=hi))
            continue
        ends = part.split("..")
        rel = [_relative(e, "d", text) for e in ends]
        if len(ends) > 2 or any(r is None for r in rel):
            raise InputError("d", f"expected {GRAMMAR}, or values relative to M such as M-1, M+2 or M-1..M+2",
                             got=_shown(text))
        first, last = rel[0], rel[-1]
        if last < first or last - first >= MAX_RANGE_VALUES or max(abs(first), abs(last)) > hi:
            raise InputError("d", f"relative range must run upwards within +-{hi}", got=_shown(text))
        offsets.update(range(first, last + 1))
    return {M: tuple(sorted(absolute | {M + o for o in offsets if lo <= M + o <= hi})) for M in Ms}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help texts that show every option's default (unless the help already states it) and keep the
    description's line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        shown = action.default not in (None, False, argparse.SUPPRESS) and action.option_strings
        if shown and "default" not in text:
            text += " (default: %(default)s)"
        return text


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """The ``--json`` flag every subcommand has."""
    parser.add_argument("--json", action="store_true", help="print the result as strict JSON on stdout")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def strict_json(obj: Any, *, indent: int | None = None) -> str:
    """JSON that any strict parser reads: a non-finite float becomes null (its text form says why)."""
    return json.dumps(_finite(obj), indent=indent, allow_nan=False, default=str)


def print_json(obj: Any) -> None:
    """Print ``strict_json(obj)`` on stdout."""
    print(strict_json(obj, indent=1))

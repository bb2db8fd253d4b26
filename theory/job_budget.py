"""What a job will cost, estimated from its arguments before it starts, and the budget every command checks.

Each command that runs a job (``loss``, ``conjecture``, ``etf-sweep``, ``verify``, ``derive``) builds a
``JobEstimate`` from its parsed arguments: the memory of its largest arrays and its wall time, part by part,
each part naming the argument that drives it.  ``check_budget`` then refuses, with one line naming that
argument (exit 2), before anything is allocated or written:

* a job needing more memory than this machine has (MACHINE_MEMORY_FRACTION of its physical memory), always;
* a job above the default budget (DEFAULT_MAX_BYTES of memory or DEFAULT_MAX_SECONDS of wall time), unless
  ``--allow-large`` is given: then it runs, and says its estimate on stderr first.

``--estimate`` prints the estimate (``--json``: as JSON) and exits 0 without running anything.

The time models are order-of-magnitude estimates fitted on a 2-core machine (see each command's
estimator and ``benchmarks/bench_estimates.py``, which prints estimate against measured time); a faster
machine finishes sooner.

Examples
--------
>>> est = JobEstimate("loss", (Part(3 * 2**30, 20.0, "N", "the N x M cross-kernel block"),))
>>> est.memory_text(), est.time_text()
('3 GiB', '20 s')
>>> check_budget(est, allow_large=False)
Traceback (most recent call last):
...
theory.errors.InputError: argument N: the job needs about 3 GiB of memory and 20 s, above the default budget of 2 GiB and 1 h (largest: the N x M cross-kernel block); reduce --N or pass --allow-large
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from theory.errors import InputError
from theory.limits import size_text

# Default budget: what a command runs without --allow-large.  2 GiB leaves a laptop usable; one hour is the
# longest run a user should get without asking for it (the "full" verify profile takes ~20 min on 2 cores).
DEFAULT_MAX_BYTES = 2 * 2**30
DEFAULT_MAX_SECONDS = 3600.0
# Even with --allow-large a job may use at most this fraction of the machine's physical memory (the rest is
# the operating system's and the Python interpreter's; past it the job would swap or be killed).
MACHINE_MEMORY_FRACTION = 0.8
# Physical memory assumed when the platform does not say.
FALLBACK_MEMORY_BYTES = 4 * 2**30


@dataclass(frozen=True)
class Part:
    """One cost of a job: bytes it holds at once, seconds it takes, the argument to reduce, what it is."""

    bytes: float
    seconds: float
    argument: str
    what: str


@dataclass(frozen=True)
class JobEstimate:
    """The estimated memory (parts held together: their sum) and wall time (their sum) of one job."""

    command: str
    parts: tuple[Part, ...]

    @property
    def memory_bytes(self) -> float:
        return float(sum(p.bytes for p in self.parts))

    @property
    def seconds(self) -> float:
        return float(sum(p.seconds for p in self.parts))

    def memory_text(self) -> str:
        return size_text(self.memory_bytes)

    def time_text(self) -> str:
        return duration_text(self.seconds)

    def largest(self, key: str) -> Part:
        """The part with the most bytes (key 'bytes') or seconds (key 'seconds')."""
        return max(self.parts, key=lambda p: getattr(p, key))

    def as_dict(self) -> dict:
        return {"command": self.command, "memory_bytes": self.memory_bytes, "seconds": self.seconds,
                "memory": self.memory_text(), "time": self.time_text(),
                "budget": {"memory_bytes": DEFAULT_MAX_BYTES, "seconds": DEFAULT_MAX_SECONDS,
                           "machine_memory_bytes": machine_memory_limit()},
                "parts": [{"what": p.what, "argument": p.argument, "memory_bytes": float(p.bytes),
                           "seconds": float(p.seconds)} for p in self.parts],
                "note": "order-of-magnitude estimate, fitted on a 2-core machine"}

    def text(self) -> str:
        mem, secs = self.largest("bytes"), self.largest("seconds")
        largest = f"largest: {mem.what}" if mem is secs else f"largest memory: {mem.what}; largest time: {secs.what}"
        return f"estimated {self.memory_text()} of memory and {self.time_text()} of wall time ({largest})"


def duration_text(seconds: float) -> str:
    """Seconds in words: '20 s', '4 min', '3.2 h', '12 days'."""
    if seconds < 90:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.2g} h"
    days = seconds / 86400
    return f"{days:.0f} days" if days < 1e6 else f"{days:.1e} days"


def machine_memory_bytes() -> int:
    """The machine's physical memory (sysconf; FALLBACK_MEMORY_BYTES when the platform does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return FALLBACK_MEMORY_BYTES


def machine_memory_limit() -> int:
    """The most memory any job may use, even with --allow-large."""
    return int(MACHINE_MEMORY_FRACTION * machine_memory_bytes())


def _limit_words() -> str:
    return f"{size_text(DEFAULT_MAX_BYTES)} and {duration_text(DEFAULT_MAX_SECONDS)}"


def check_budget(estimate: JobEstimate, *, allow_large: bool) -> None:
    """Refuse a job over the machine's memory, or over the default budget without ``allow_large``."""
    mem, secs = estimate.memory_bytes, estimate.seconds
    need = f"the job needs about {estimate.memory_text()} of memory and {estimate.time_text()}"
    machine = machine_memory_limit()
    if mem > machine:
        part = estimate.largest("bytes")
        raise InputError(part.argument, f"{need}, more than this machine can hold ({size_text(machine)}, "
                                        f"{MACHINE_MEMORY_FRACTION:.0%} of its memory; largest: {part.what}); "
                                        f"reduce --{part.argument}")
    over = mem > DEFAULT_MAX_BYTES or secs > DEFAULT_MAX_SECONDS
    if over and not allow_large:
        part = estimate.largest("bytes" if mem > DEFAULT_MAX_BYTES else "seconds")
        raise InputError(part.argument, f"{need}, above the default budget of {_limit_words()} "
                                        f"(largest: {part.what}); reduce --{part.argument} or pass --allow-large")
    if over:
        print(f"twolayer {estimate.command}: --allow-large: {estimate.text()}", file=sys.stderr)


def add_budget_flags(parser: argparse.ArgumentParser, *, allow_large: bool = True) -> None:
    """``--allow-large`` and ``--estimate``, shared by every command that runs a job (``allow_large=False``
    for a command whose hard bounds keep every job within the default budget: it has ``--estimate`` only)."""
    if allow_large:
        parser.add_argument("--allow-large", action="store_true",
                            help=f"run a job above the default budget ({_limit_words()}), up to "
                                 f"{MACHINE_MEMORY_FRACTION * 100:.0f}%% of this machine's memory")
    parser.add_argument("--estimate", action="store_true",
                        help="print the job's estimated memory and wall time, and exit without running it")


def print_estimate(estimate: JobEstimate, *, as_json: bool) -> int:
    """What ``--estimate`` prints; returns the exit status 0."""
    from theory.cli_args import print_json

    if as_json:
        print_json({"estimate": estimate.as_dict()})
        return 0
    print(f"twolayer {estimate.command}: {estimate.text()}")
    for p in estimate.parts:
        memory = size_text(p.bytes) if p.bytes else "-"
        seconds = duration_text(p.seconds) if p.seconds else "-"
        print(f"  {memory:>10}  {seconds:>9}  {p.what} (--{p.argument})")
    budget = "within" if estimate.memory_bytes <= DEFAULT_MAX_BYTES and estimate.seconds <= DEFAULT_MAX_SECONDS \
        else "above"
    print(f"  {budget} the default budget of {_limit_words()}; order-of-magnitude estimate")
    return 0

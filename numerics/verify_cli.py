"""``twolayer verify``: run a profile's rate checks and write one report per run.

    twolayer verify [--profile quick] [--out ROOT] [--seed 20220517] [--workers K] [--scheduler tcp://H:P]
                    [--connect-timeout S] [--store PATH] [--quiet] [--estimate] [--json]

Writes ROOT/<run-id>/ (report.html, report.md, report.tex, report.json, CITATION.txt, the log-log PNGs)
and points ROOT/latest at it (ROOT defaults to verify-out); an earlier run's folder is never touched.
The cells go to the shared result store (--store; default $TWOLAYER_STORE, else ./twolayer-results),
and re-running reuses them.
--out, --store and --scheduler are checked before any cell runs: a bad one exits 2 and creates nothing.
"""

from __future__ import annotations

# Registers the report content of the verify cell kinds in every process that builds the ``twolayer``
# parser, so that ``twolayer store report`` shows them too (light: no cell code is imported).
import numerics.rate_report  # noqa: F401
from theory.cli_args import add_json_flag, print_json
from theory.job_budget import add_budget_flags, print_estimate

from numerics.profiles import DEFAULT_ROOT, DEFAULT_SEED


def _verify_handler(args) -> int:
    from numerics.verify_report import verify, verify_plan

    if args.estimate:
        _, _, job = verify_plan(args.profile, seed=args.seed, workers=args.workers, scheduler=args.scheduler,
                                connect_timeout=args.connect_timeout, store=args.store)
        return print_estimate(job, as_json=args.json)
    outcome = verify(profile=args.profile, out=args.out, seed=args.seed, workers=args.workers,
                     scheduler=args.scheduler, connect_timeout=args.connect_timeout, store=args.store,
                     quiet=args.quiet, allow_large=args.allow_large)
    if args.json:
        print_json(outcome.as_json())
    else:
        print(outcome.text())
    return 0


def register(subparsers) -> None:
    """Add ``verify`` to the ``twolayer`` parser."""
    from numerics.evidence.sweep import add_sweep_arguments

    v = subparsers.add_parser("verify", help="check the predicted finite-N and 1/d rates (one report per run)",
                              description=__doc__)
    v.add_argument("--profile", default="quick",
                   help="smoke (seconds), quick (< 2 min), corners (N = 10^4, d = 256; ~10 min) or full (~50-60 min on "
                        "2 cores)")
    v.add_argument("--out", default=DEFAULT_ROOT, metavar="ROOT",
                   help="output root: each run writes ROOT/<run-id>/ and ROOT/latest points to it")
    add_sweep_arguments(v, default_seed=DEFAULT_SEED,
                        workers_default="one per core for the moments and minimum cells, the others serial")
    add_budget_flags(v)
    add_json_flag(v)
    v.set_defaults(handler=_verify_handler)

"""``twolayer verify``: run a profile's rate checks and write the verdicts, plots and evidence reports."""

from __future__ import annotations

import sys

from numerics.loss_cli import _positive_int


def _verify_handler(args) -> int:
    from numerics.profiles import get_profile
    from numerics.verify_report import run_verify

    profile = get_profile(args.profile)
    workers = None if args.workers is None else _positive_int(args.workers, "workers", 0)
    outcome = run_verify(profile, args.out, seed=args.seed, n_workers=workers, quiet=args.quiet,
                         scheduler=args.scheduler, store=args.store)
    for line in outcome.lines():
        print(line)
    print(f"wrote {outcome.paths['markdown']}, {outcome.paths['json']} and "
          f"{sum(1 for k in outcome.paths if k not in ('markdown', 'json'))} plots in {outcome.wall_seconds:.1f} s",
          file=sys.stderr if args.quiet else sys.stdout)
    return 0


def register(subparsers) -> None:
    """Add ``verify`` to the ``twolayer`` parser."""
    v = subparsers.add_parser("verify", help="check the predicted finite-N and 1/d rates (report, JSON, plots)",
                              description="Run the rate checks of a named profile (smoke, quick, full) and write "
                                          "verify.md, verify.json and log-log plots into --out.")
    v.add_argument("--profile", default="quick",
                   help="smoke (seconds), quick (< 2 min), corners (N = 10^4, d = 256; ~10 min) or full (~21 min on 2 cores)")
    v.add_argument("--out", default="verify-out", help="output directory (default verify-out)")
    v.add_argument("--seed", type=int, default=20220517, help="sweep seed (default 20220517)")
    v.add_argument("--workers", default=None, help="0 = serial; k = k local Dask workers (default: auto)")
    v.add_argument("--quiet", action="store_true", help="no progress bars")
    v.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="send the cells to this existing Dask cluster (default: a local one)")
    v.add_argument("--store", default=None, metavar="PATH",
                   help="result store: SQLite file or project directory (default OUT/store)")
    v.set_defaults(handler=_verify_handler)

"""``twolayer etf-sweep``: q(M) = 1^T K^-1 1 at the simplex ETF, closed form against an eigen-solve, stored.

    twolayer etf-sweep [--M 2-6] [--d 3,5] [--activation relu,abs] [--dps 30] [--seed S]
                       [--store PATH] [--scheduler tcp://host:port | --workers K] [--out ROOT] [--json]

Exit status 0 when every cell agrees, 1 when one disagrees, 2 for bad input.  A thin layer over
``numerics.etf_sweep`` (numerics/etf_sweep_api.py).
"""

from __future__ import annotations

from theory.cli_args import add_json_flag, print_json
from theory.job_budget import add_budget_flags, print_estimate

from numerics.etf_sweep_api import DEFAULT_TITLE, MAX_D, MAX_M


def _cmd_etf_sweep(args) -> int:
    import sys

    from numerics.etf_sweep_api import etf_sweep, plan

    if args.estimate:
        _, _, job = plan(M=args.M, d=args.d, activation=args.activation, dps=args.dps, seed=args.seed,
                         store=args.store, workers=args.workers, scheduler=args.scheduler,
                         connect_timeout=args.connect_timeout)
        return print_estimate(job, as_json=args.json)
    report = etf_sweep(M=args.M, d=args.d, activation=args.activation, dps=args.dps, seed=args.seed,
                       store=args.store, workers=args.workers, scheduler=args.scheduler,
                       connect_timeout=args.connect_timeout, out=args.out, title=args.title, quiet=args.quiet,
                       allow_large=args.allow_large, argv=["twolayer", *sys.argv[1:]])
    if args.json:
        print_json(report.as_json())
    else:
        print(report.text())
    return 0 if report.agree == len(report.rows) else 1


def register(subparsers) -> None:
    """Add ``etf-sweep`` to the ``twolayer`` parser."""
    from numerics.evidence.sweep import add_sweep_arguments

    e = subparsers.add_parser("etf-sweep", help="sweep q(M) = 1^T K^-1 1 at the simplex ETF (closed form vs eigen-solve), stored",
                              description=__doc__)
    e.add_argument("--M", default="2-6", help=f"compressed widths, e.g. 2-6, 2..6 or 2,3,5 (1..{MAX_M})")
    e.add_argument("--d", default="3,5", help=f"input dimensions, e.g. 3,5 or relative M-1 (1..{MAX_D})")
    e.add_argument("--activation", default="relu", help="activation, or a comma list of them")
    e.add_argument("--dps", type=int, default=30, help="decimal digits")
    add_sweep_arguments(e)
    add_budget_flags(e)
    e.add_argument("--out", default=None, metavar="ROOT", help="write the reports to ROOT/<run-id>/ (ROOT/latest points to it)")
    e.add_argument("--title", default=DEFAULT_TITLE)
    add_json_flag(e)
    e.set_defaults(handler=_cmd_etf_sweep)

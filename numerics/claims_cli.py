"""``twolayer claims``: list the theorem checks beyond compression, or run one (stored cells, reports).

    twolayer claims [list] [--json]
    twolayer claims run NAME [claim options] [--store PATH] [--seed S] [--workers K | --scheduler ADDR]
                             [--out ROOT] [--estimate] [--allow-large] [--json]

Claims (docs/claims.md): memorization, ntk-memorization, condensation.  An option that does not apply to
the claim is an error (exit 2).  A thin layer over ``numerics.claims_api.run_claim``.  Exit status 0 when the run finished (a claim NOT SUPPORTED here is a
finding, not a failure), 1 when a cell's check failed ('fails': a label not reproduced), 2 for bad input.
"""

from __future__ import annotations

from numerics.claims import CLAIMS
from numerics.claims_api import DEFAULT_OUT, DEFAULTS, OPTIONS, plan_claim, run_claim
from theory.cli_args import add_json_flag, print_json
from theory.job_budget import add_budget_flags, print_estimate


def _cmd_list(args) -> int:
    rows = [{"name": c.name, "source": c.source, "statement": c.statement, "kind": c.kind, "docs": c.docs}
            for c in CLAIMS.values()]
    if args.json:
        print_json({"claims": rows})
    else:
        for r in rows:
            print(f"{r['name']:<18} {r['statement']}\n{'':<18} source: {r['source']}\n{'':<18} docs: {r['docs']}")
    return 0


def _cmd_run(args) -> int:
    import sys

    common = dict(store=args.store, seed=args.seed, workers=args.workers, scheduler=args.scheduler,
                  connect_timeout=args.connect_timeout, quiet=args.quiet, argv=["twolayer", *sys.argv[1:]],
                  **{dest: getattr(args, dest) for _, dest, _ in OPTIONS})
    if args.estimate:
        return print_estimate(plan_claim(args.name, **common)[3], as_json=args.json)
    report = run_claim(args.name, out=args.out, title=args.title, allow_large=args.allow_large, **common)
    if args.json:
        print_json(report.as_json())
    else:
        print(report.text())
    return 1 if report.verdicts.get("fails") else 0


def register(subparsers) -> None:
    """Add ``claims`` (with ``list`` and ``run NAME``) to the ``twolayer`` parser."""
    from numerics.evidence.sweep import add_sweep_arguments

    c = subparsers.add_parser("claims", help="theorem checks beyond compression: memorisation, NTK scaling, condensation",
                              description=__doc__)
    add_json_flag(c)
    c.set_defaults(handler=_cmd_list)
    sub = c.add_subparsers(dest="claims_action", metavar="ACTION")
    lst = sub.add_parser("list", help="list the claims with their sources")
    add_json_flag(lst)
    lst.set_defaults(handler=_cmd_list)
    run = sub.add_parser("run", help="run one claim's check: stored cells and reports",
                         description=__doc__ + "\nDefaults per claim: " +
                         "; ".join(f"{k}: " + ", ".join(f"--{o.replace('_', '-')} {v}" for o, v in d.items())
                                   for k, d in DEFAULTS.items()))
    run.add_argument("name", metavar="NAME", help=f"the claim: {', '.join(CLAIMS)}")
    for flag, dest, text in OPTIONS:
        run.add_argument(flag, dest=dest, default=None, help=text + " (default: per claim, see above)")
    add_sweep_arguments(run)
    add_budget_flags(run)
    run.add_argument("--out", default=DEFAULT_OUT, metavar="ROOT", help="write the reports to ROOT/<run-id>/")
    run.add_argument("--title", default=None, help="report title (default: 'Claim check: NAME')")
    add_json_flag(run)
    run.set_defaults(handler=_cmd_run)

"""``twolayer verify``: run a profile's rate checks and write one report per run.

    twolayer verify [--profile quick] [--out ROOT] [--seed 20220517] [--workers K] [--scheduler tcp://H:P]
                    [--store PATH] [--quiet] [--json]

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
from theory.cli_args import add_json_flag, parse_int, print_json

DEFAULT_ROOT = "verify-out"
DEFAULT_SEED = 20220517
MAX_WORKERS = 1024


def _verify_handler(args) -> int:
    from numerics.profiles import get_profile
    from numerics.verify_report import run_verify

    profile = get_profile(args.profile)
    workers = None if args.workers is None else parse_int(args.workers, "workers", lo=0, hi=MAX_WORKERS)
    outcome = run_verify(profile, args.out, seed=args.seed, n_workers=workers, quiet=args.quiet,
                         scheduler=args.scheduler, store=args.store)
    files = {k: str(v) for k, v in outcome.paths.items()}
    if args.json:
        print_json({"profile": outcome.profile, "seed": args.seed, "run_id": outcome.run_id,
                    "run_folder": str(outcome.folder), "latest": str(outcome.root / "latest"),
                    "report_id": outcome.report_id, "store": outcome.store_path,
                    "wall_seconds": outcome.wall_seconds,
                    "findings": [{"name": f.name, "verdict": f.verdict, "detail": f.detail} for f in outcome.findings],
                    "files": files})
        return 0
    for line in outcome.lines():
        print(line)
    figures = sorted(p.name for k, p in outcome.paths.items() if p.suffix == ".png")
    print(f"report {outcome.report_id} in {outcome.folder} ({outcome.root / 'latest'} points at it): report.html, "
          f"report.md, report.tex, report.json, CITATION.txt and {len(figures)} figures; "
          f"{outcome.wall_seconds:.1f} s; store {outcome.store_path}")
    return 0


def register(subparsers) -> None:
    """Add ``verify`` to the ``twolayer`` parser."""
    v = subparsers.add_parser("verify", help="check the predicted finite-N and 1/d rates (one report per run)",
                              description=__doc__)
    v.add_argument("--profile", default="quick",
                   help="smoke (seconds), quick (< 2 min), corners (N = 10^4, d = 256; ~10 min) or full (~21 min on "
                        "2 cores)")
    v.add_argument("--out", default=DEFAULT_ROOT, metavar="ROOT",
                   help="output root: each run writes ROOT/<run-id>/ and ROOT/latest points to it")
    v.add_argument("--seed", type=int, default=DEFAULT_SEED, help="sweep seed (cell seeds derive from it; recorded)")
    v.add_argument("--workers", default=None, metavar="K",
                   help="0: serial in-process; K >= 1: K local Dask workers (default: one per core for the "
                        "moments and minimum cells, the others serial)")
    v.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="send the cells to this existing Dask cluster (default: a local one)")
    v.add_argument("--store", default=None, metavar="PATH",
                   help="result store: SQLite file or project directory (default $TWOLAYER_STORE, else "
                        "./twolayer-results)")
    v.add_argument("--quiet", action="store_true", help="no progress bars")
    add_json_flag(v)
    v.set_defaults(handler=_verify_handler)

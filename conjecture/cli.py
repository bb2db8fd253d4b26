"""``twolayer conjecture``: sweep (M, d) cells for a regime and activation and write the verdict reports.

With no arguments it runs the embedded default (regime I, ReLU, M = 2..5, d = 1..4, 32 starts per cell).
A thin layer over ``conjecture.sweep`` (conjecture/api.py): the same function, the same numbers.
"""

from __future__ import annotations

import sys

from conjecture.api import DEFAULT_D, DEFAULT_M, DEFAULT_OUT, DEFAULT_STARTS, MAX_D, MAX_M, estimate, sweep
from numerics.evidence.sweep import add_sweep_arguments
from theory.cli_args import add_json_flag, print_json
from theory.derive_bounds import DEFAULT_REGIME_III_LAW, DEFAULT_TILT_NORM
from theory.job_budget import add_budget_flags, print_estimate


def register(subparsers) -> None:
    """Add ``twolayer conjecture`` to the parser."""
    p = subparsers.add_parser("conjecture", help="ETF conjecture: search, relaxations, certificates, verdicts over (M, d)",
                              description=__doc__)
    p.add_argument("--regime", default="I", help="I (isotropic), II (linear tilt, d -> inf), III (non-Gaussian entries)")
    p.add_argument("--activation", default="relu", help="relu, leaky_relu(s), abs, step, relu^k")
    p.add_argument("--M", default=DEFAULT_M, help=f"compressed width(s): 3, 2-8, 2..8 or 2,4 (2..{MAX_M})")
    p.add_argument("--d", default=DEFAULT_D, help=f"input dimension(s): 1-4, 2,5, or relative to M: M-1,M+2 (1..{MAX_D})")
    p.add_argument("--starts", type=int, default=DEFAULT_STARTS, help="random + perturbed-ETF starts per cell (structured frames are added)")
    p.add_argument("--out", default=DEFAULT_OUT, help="output root: each run writes OUT/<run-id>/ and OUT/latest points to it")
    p.add_argument("--frame", default=None, help="JSON file with a user frame (list of M unit rows of length d)")
    p.add_argument("--tilt-norm", type=float, default=None, help=f"regime II only: ||m|| / abar, m along e_1 (default {DEFAULT_TILT_NORM})")
    p.add_argument("--law", default=None, help=f"regime III only: entry law (default {DEFAULT_REGIME_III_LAW})")
    p.add_argument("--polish-dps", type=int, default=30, help="digits for the high-precision polish (0: off)")
    p.add_argument("--max-iter", type=int, default=300, help="L-BFGS iterations per start")
    p.add_argument("--no-sdp", action="store_true", help="skip the signed-beta SDP bounds")
    p.add_argument("--solver", default="CLARABEL", help="cvxpy solver for the QP/LP/SDP: CLARABEL or SCS")
    p.add_argument("--study", default=None, help="extra study over the --M values: polygons (regime I, d = 2), "
                                                 "tilt (regime II type change, d = M + 1) or orientation (regime III: "
                                                 "the best ETF orientation over entry laws, on the cells' (M, d))")
    p.add_argument("--objective", default=None, help="regime III only: exact (the law's b, no truncation; default) or "
                                                     "truncated (the O(d^-2) expansion)")
    p.add_argument("--bnb-seconds", type=float, default=None, help="regime III only: seconds for the SO(d) "
                                                                    "branch-and-bound of a cell (default 600)")
    add_sweep_arguments(p)
    add_budget_flags(p)
    add_json_flag(p)
    p.set_defaults(handler=run)


def _options(args) -> dict:
    return dict(M=args.M, d=args.d, activation=args.activation, regime=args.regime, starts=args.starts,
                seed=args.seed, frame=args.frame, tilt_norm=args.tilt_norm, law=args.law, polish_dps=args.polish_dps,
                max_iter=args.max_iter, sdp=not args.no_sdp, solver=args.solver, study=args.study, store=args.store,
                objective=args.objective, bnb_seconds=args.bnb_seconds,
                workers=args.workers, scheduler=args.scheduler, connect_timeout=args.connect_timeout,
                quiet=args.quiet, argv=["twolayer", "conjecture", *sys.argv[2:]])


def run(args) -> int:
    if args.estimate:
        _, _, job = estimate(**_options(args))
        return print_estimate(job, as_json=args.json)
    report = sweep(**_options(args), out=args.out, allow_large=args.allow_large)
    if args.json:
        print_json(report.as_json())
    else:
        print(report.text())
    return 0

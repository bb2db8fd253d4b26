"""``twolayer loss``: the exact finite-N population loss of given or drawn networks.

    twolayer loss --weights net.json [--method float64|arb|mc|all] [--mc-samples S] [--seed K] [--json]
    twolayer loss [--law gaussian] [--N 1000] [--M 3] [--d 16] [--student etf|random] [--beta 0.3]
                  [--activation relu] [--method ...] [--mc-samples S] [--seed K] [--json]

Sizes use the toolkit's one vocabulary (theory.cli_args): --N target width, --M compressed width,
--d input dimension, each a single integer.  Weights files (JSON or NPZ: a, W, b, V arrays +
activation) are described in numerics.networks; with --weights the options that describe a drawn pair
(--law, --N, --M, --d, --student, --beta, --activation) do not apply and are refused, as are
--mc-samples without Monte Carlo and --seed when nothing is drawn or sampled.  The job's memory (its
arrays and kernel blocks) and time are estimated before anything is allocated (``numerics.loss_job.job_estimate``): above
the default budget (2 GiB, 1 h; theory.job_budget) it needs --allow-large, above the machine's memory it is
refused; --estimate prints the estimate and exits.  A thin layer over ``numerics.exact_loss``
(numerics/loss_api.py).

Output: one line per method.  The float64 value is printed with its rounding bound (``0 (|rounding| <
b)`` within the bound of zero, theory.loss_text), the certified enclosure as arb's own ``[mid +/- rad]``
with the digits the radius certifies (or ``[0, upper]`` when the ball reaches below 0), Monte Carlo with
its standard error.  ``--method all`` above the certified path's limit on N says that arb was skipped.
``--json`` prints a strict JSON list (no NaN/Infinity), one object per method.  User errors raise
InputError, which the dispatcher prints on one line with exit status 2.

Examples
--------
>>> from conjecture.command_line import main
>>> main(["loss", "--N", "50", "--d", "4", "--M", "3", "--seed", "1"])
... # doctest: +ELLIPSIS
L_N of N=50, M=3, d=4, relu (drawn: target law gaussian, student etf, beta 0.3, seed 1)
float64: L_N = ... +- ... -- a-priori rounding bound
0
"""

from __future__ import annotations

import argparse

from numerics.loss_api import MAX_D, MAX_M, MAX_N, exact_loss, loss_request
from theory.cli_args import HelpFormatter, add_json_flag, print_json
from theory.job_budget import add_budget_flags, print_estimate

REMOVED_FLAGS = {"--neurons": "--N", "--dim": "--d", "--student-neurons": "--M"}


def _loss_handler(args) -> int:
    options = dict(weights=args.weights, student=args.student, activation=args.activation, law=args.law, N=args.N,
                   M=args.M, d=args.d, beta=args.beta, method=args.method, mc_samples=args.mc_samples, seed=args.seed)
    if args.estimate:
        return print_estimate(loss_request(**options).estimate, as_json=args.json)
    report = exact_loss(**options, allow_large=args.allow_large)
    if args.json:
        print_json(report.as_json())
    else:
        print(report.text())
    return 0


class _Removed(argparse.Action):
    """A flag of the old vocabulary: refused with its replacement (one line, exit 2)."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string} was removed; use {REMOVED_FLAGS[option_string]}")


def register(subparsers) -> None:
    """Add ``loss`` to the ``twolayer`` parser."""
    p = subparsers.add_parser("loss", help="exact finite-N population loss L_N of given or drawn networks",
                              formatter_class=HelpFormatter,
                              description="L_N = E_x (f_N(x) - g(x))^2 in closed form (float64 with its rounding "
                                          "bound),\nas a certified arb enclosure, or by Monte Carlo, for the networks "
                                          "of a --weights file\nor a pair drawn by --law, --N, --M, --d, --student, "
                                          "--beta, --activation and --seed.")
    p.add_argument("--weights", help="JSON or NPZ file with arrays a, W, b, V (+ activation); see numerics.networks")
    p.add_argument("--law", default=None, help="target law when drawing (default gaussian)")
    p.add_argument("--N", default=None, help=f"target width N when drawing, 1..{MAX_N} (default 1000)")
    p.add_argument("--M", default=None, help=f"compressed width M when drawing, 1..{MAX_M} (default 3)")
    p.add_argument("--d", default=None, help=f"input dimension d when drawing, 1..{MAX_D} (default 16)")
    p.add_argument("--student", choices=("etf", "random"), default=None,
                   help="compressed frame when drawing: simplex ETF (M <= d + 1) or random unit rows (default etf)")
    p.add_argument("--beta", default=None, help="output weight of every compressed neuron when drawing (default 0.3)")
    p.add_argument("--activation", default=None, help="activation when drawing (default relu)")
    p.add_argument("--method", default="float64", help="float64 (closed form), arb (certified enclosure, moderate N), mc (Monte Carlo) or all")
    p.add_argument("--mc-samples", default=None, help="Monte Carlo samples, with --method mc or all (default 100000)")
    p.add_argument("--seed", default=None, help="seed for drawing and Monte Carlo, 0..999999999 (default 0)")
    add_budget_flags(p)
    add_json_flag(p)
    for flag in REMOVED_FLAGS:
        p.add_argument(flag, action=_Removed, help=argparse.SUPPRESS)
    p.set_defaults(handler=_loss_handler, uses_reports=False)

"""``twolayer derive``: print the theory layer's closed forms for one activation, law, d and M.

Output forms: text (default), strict JSON (``--json``), or a standalone LaTeX document (``--latex``) that
compiles with pdflatex (packages amsmath, amssymb, geometry) and whose sections can be pasted into a paper.
ETF and regime II values are normalised to abar = 1, as in ``twolayer conjecture``; each entry says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

from theory.cli_args import HelpFormatter, add_json_flag, print_json
from theory.derive_bounds import DEFAULT_TILT_NORM, MAX_D, MAX_DPS, MAX_M, MAX_ORDER, MIN_DPS, NORMALISATION_NOTE
from theory.errors import InputError
from theory.job_budget import add_budget_flags, print_estimate

# Options of earlier versions and what replaced them.
RENAMED = {"dim": "--d", "neurons": "--M", "tilt": "--tilt-norm (which is ||m|| / abar, not ||m||)"}


def register(subparsers) -> None:
    """Add ``derive`` to the ``twolayer`` parser."""
    p = subparsers.add_parser(
        "derive",
        help="closed forms: Hermite coefficients, dual kernel, c_d, law moments, ETF values, finite-N constants",
        description="Derive the theory layer's closed forms for one activation, entry law, d and M.\n\n"
                    + textwrap.fill(NORMALISATION_NOTE + ".", 100),
        formatter_class=HelpFormatter,
        allow_abbrev=False,  # '--tilt' must not silently mean '--tilt-norm'
    )
    p.add_argument("--activation", default="relu",
                   help="relu, leaky_relu(s), abs, step, relu^k (k=0..3), or pw(t<b: P; ...; else: P)")
    p.add_argument("--law", default="gaussian", help="gaussian, gaussian(s), rademacher, uniform, moments(m4=..,m6=..)")
    p.add_argument("--d", default="3", help=f"input dimension d, one value in 1..{MAX_D}")
    p.add_argument("--M", default="3", help=f"compressed width M, one value in 1..{MAX_M}, M <= d+1 (simplex ETF)")
    p.add_argument("--dps", default=str(30), help=f"decimal digits for numeric values ({MIN_DPS}..{MAX_DPS})")
    p.add_argument("--order", default=str(6), help=f"highest Hermite order printed (0..{MAX_ORDER})")
    p.add_argument("--finite-n-gain", action="store_true",
                   help="instead of the closed forms: the predicted gain E[G_N] of the finite-N minimum over the "
                        "mean-field value, with its components and Monte Carlo errors, for a_i = 1 and w_i ~ N(0, I/d) "
                        "(needs --N; uses --activation, --law, --d, --M, --seed; docs/finite_n_gain.md)")
    p.add_argument("--N", default=None, help="target width N for --finite-n-gain, one value in 10..100000")
    p.add_argument("--seed", default=None, help="seed of --finite-n-gain's Monte Carlo, 0..2^32-1 (default 0)")
    p.add_argument("--tilt-norm", default=None,
                   help="regime II tilted family: ||m|| / abar, as in twolayer conjecture "
                        f"(default {DEFAULT_TILT_NORM}; needs 2 <= M <= d and a homogeneous activation)")
    for old in RENAMED:  # the old spellings, hidden: they are refused with a pointer to the new one
        p.add_argument("--" + old, dest="renamed_" + old, default=None, help=argparse.SUPPRESS)
    fmt = p.add_mutually_exclusive_group()
    add_json_flag(fmt)
    fmt.add_argument("--latex", action="store_true",
                     help="a standalone LaTeX document (amsmath, amssymb, geometry), ready for pdflatex")
    add_budget_flags(p, allow_large=False)
    p.set_defaults(handler=run_derive, uses_reports=False)


# ---- the command ----------------------------------------------------------------------------------------------


def _pipe_safe(write) -> None:
    """Run ``write`` and flush stdout; a reader that closed the pipe early is not an error."""
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `twolayer derive --json | head -1`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def run_derive(args) -> int:
    from theory.api import derive, derive_request

    for old, hint in RENAMED.items():
        if getattr(args, "renamed_" + old, None) is not None:
            raise InputError(old, f"this option was renamed: use {hint}")
    if args.finite_n_gain:
        return _run_finite_n_gain(args)
    for name in ("N", "seed"):
        if getattr(args, name) is not None:
            raise InputError(name, "only used with --finite-n-gain", got=getattr(args, name))
    options = dict(activation=args.activation, law=args.law, d=args.d, M=args.M, dps=args.dps, order=args.order,
                   tilt_norm=args.tilt_norm)
    if args.estimate:
        return print_estimate(derive_request(**options).estimate, as_json=args.json)
    result = derive(**options)
    if args.json:
        _pipe_safe(lambda: print_json(result.as_json()))
    elif args.latex:
        _pipe_safe(lambda: print(result.latex()))
    else:
        _pipe_safe(lambda: print(result.text()))
    return 0


def _run_finite_n_gain(args) -> int:
    """``derive --finite-n-gain``: the prediction of theory.finite_n_gain as text or strict JSON."""
    from theory.api import finite_n_gain, finite_n_gain_request

    if args.latex:
        raise InputError("latex", "--finite-n-gain prints text or --json only")
    if args.tilt_norm is not None:
        raise InputError("tilt-norm", "not used with --finite-n-gain (the target is isotropic, regime I)",
                         got=args.tilt_norm)
    options = dict(activation=args.activation, law=args.law, d=args.d, M=args.M, N=args.N, seed=args.seed)
    if args.estimate:
        return print_estimate(finite_n_gain_request(**options).estimate, as_json=args.json)
    result = finite_n_gain(**options)
    if args.json:
        _pipe_safe(lambda: print_json(result.as_dict()))
    else:
        _pipe_safe(lambda: print(result.text()))
    return 0


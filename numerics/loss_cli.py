"""``twolayer loss``: the exact finite-N population loss of given or drawn networks.

    twolayer loss --weights net.json [--method float64|arb|mc|all] [--mc-samples S] [--seed K] [--json]
    twolayer loss [--law gaussian] [--N 1000] [--M 3] [--d 16] [--student etf|random] [--beta 0.3]
                  [--activation relu] [--method ...] [--mc-samples S] [--seed K] [--json]

Sizes use the toolkit's one vocabulary (theory.cli_args): --N target width, --M compressed width,
--d input dimension, each a single integer.  Weights files (JSON or NPZ: a, W, b, V arrays +
activation) are described in numerics.networks; with --weights the options that describe a drawn pair
(--law, --N, --M, --d, --student, --beta, --activation) do not apply and are refused, as are
--mc-samples without Monte Carlo and --seed when nothing is drawn or sampled.  A job whose arrays and
kernel blocks would need more than MAX_JOB_BYTES is refused before anything is allocated.

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
import math

import numpy as np

from theory.cli_args import HelpFormatter, add_json_flag, parse_int, print_json
from theory.errors import InputError
from theory.loss_text import loss_text

METHODS = ("float64", "arb", "mc", "all")
MAX_N = 10**7
MAX_M = 10**5
MAX_D = 10**5
MAX_MC_SAMPLES = 10**8
MAX_SEED = 10**9 - 1  # the integer grammar's 9-digit literals
MAX_JOB_BYTES = 2 * 2**30
DEFAULTS = {"law": "gaussian", "N": 1000, "M": 3, "d": 16, "student": "etf", "beta": "0.3",
            "activation": "relu", "mc_samples": 100_000, "seed": 0}
# Options that describe a drawn pair: a --weights file fixes all of them.
DRAWING_OPTIONS = (("law", "--law"), ("N", "--N"), ("M", "--M"), ("d", "--d"), ("student", "--student"),
                   ("beta", "--beta"), ("activation", "--activation"))
REMOVED_FLAGS = {"--neurons": "--N", "--dim": "--d", "--student-neurons": "--M"}
_F64 = 8


def _positive_int(text: str, argument: str, low: int = 1) -> int:
    """An integer >= ``low`` (kept for ``twolayer verify --workers``)."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise InputError(argument, f"expected an integer >= {low}", got=text) from None
    if value < low:
        raise InputError(argument, f"expected an integer >= {low}", got=value)
    return value


def _seed(text: object) -> int:
    try:
        return parse_int(text, "seed", lo=0, hi=MAX_SEED)
    except InputError:
        raise InputError("seed", f"expected an integer from 0 to {MAX_SEED} (numpy seeds are >= 0)",
                         got=text) from None


def _beta(text: object) -> float:
    try:
        beta = float(text)
    except (TypeError, ValueError):
        raise InputError("beta", "expected a real number", got=text) from None
    if not math.isfinite(beta):
        raise InputError("beta", "expected a finite real number", got=text)
    return beta


def job_memory(N: int, M: int, d: int, methods: tuple[str, ...], *, drawn: bool) -> list[tuple[int, str, str]]:
    """Bytes of the largest arrays the job allocates, as (bytes, argument to reduce, what) triples.

    Weights: W and its unit rows (and the drawn sample), V likewise; float64: the N x M cross-kernel
    block and the M x M student block with the kernel's work arrays (8 each), and the self term's tiles
    (5 buffers of 256 x 2048 per thread, 4 threads); arb: the N x N and N x M Gram matrices of 48-byte
    balls and the weights as Python balls; Monte Carlo: 4 batch arrays of MC_MAX_ELEMENTS floats.
    """
    from numerics.monte_carlo import MC_MAX_ELEMENTS
    from numerics.population_loss import COL_TILE, ROW_TILE

    def larger(x: str, y: str) -> str:
        return x if {"N": N, "M": M, "d": d}[x] >= {"N": N, "M": M, "d": d}[y] else y

    copies = 3 if drawn else 2
    parts = [(copies * N * d * _F64, larger("N", "d"), f"the N x d target weights (N = {N}, d = {d})"),
             (copies * M * d * _F64, larger("M", "d"), f"the M x d compressed weights (M = {M}, d = {d})")]
    if "float64" in methods:
        parts += [(8 * N * M * _F64, larger("N", "M"), f"the N x M cross-kernel block (N = {N}, M = {M})"),
                  (8 * M * M * _F64, "M", f"the M x M student kernel block (M = {M})"),
                  (4 * 5 * min(ROW_TILE, N) * min(COL_TILE, N) * _F64, "N", "the self term's kernel tiles")]
    if "arb" in methods:
        parts += [(48 * (2 * N * N + 2 * N * M + M * M) + 100 * (N + M) * d, "N",
                   f"the arb Gram matrices (N = {N}, M = {M})")]
    if "mc" in methods:
        parts += [(4 * MC_MAX_ELEMENTS * _F64 + (N + M) * d * _F64, "N", "the Monte Carlo batches")]
    return parts


def _check_memory(N: int, M: int, d: int, methods: tuple[str, ...], *, drawn: bool) -> None:
    parts = job_memory(N, M, d, methods, drawn=drawn)
    total = sum(p[0] for p in parts)
    if total > MAX_JOB_BYTES:
        _, argument, what = max(parts)
        raise InputError("weights" if not drawn else argument,
                         f"the job needs about {total / 2**30:.1f} GiB of memory, above the limit of "
                         f"{MAX_JOB_BYTES / 2**30:.0f} GiB (largest: {what})")


def _arb_limit(N: int, method: str) -> str | None:
    """Why arb is skipped under --method all (None when it runs); an InputError for --method arb."""
    from numerics.interval_loss import MAX_TARGET_NEURONS

    if N <= MAX_TARGET_NEURONS:
        return None
    why = f"N = {N} > {MAX_TARGET_NEURONS}, the limit of the certified enclosure"
    if method == "arb":
        raise InputError("N", f"the certified enclosure (--method arb) handles N <= {MAX_TARGET_NEURONS}; "
                              f"use --method float64", got=N)
    return why


def _refuse_drawing_options(args, use_mc: bool) -> None:
    given = [(dest, flag) for dest, flag in DRAWING_OPTIONS if getattr(args, dest) is not None]
    if given:
        flags = ", ".join(flag for _, flag in given)
        verb = "does" if len(given) == 1 else "do"
        raise InputError(given[0][0], f"{flags} {verb} not apply with --weights: the file gives both networks "
                                      f"and their activation")
    if args.seed is not None and not use_mc:
        raise InputError("seed", f"--seed does not apply with --weights and --method {args.method}: "
                                 f"nothing is drawn or sampled")


def _draw(args, N: int, M: int, d: int, seed: int):
    """The NetworkPair drawn by law and seed: target rows from the law, the student an ETF or random."""
    from numerics.networks import NetworkPair
    from theory.etf import simplex_etf
    from theory.activations import get_activation
    from theory.target_laws import get_law

    beta = _beta(args.beta if args.beta is not None else DEFAULTS["beta"])
    act = get_activation(args.activation if args.activation is not None else DEFAULTS["activation"])
    law = get_law(args.law if args.law is not None else DEFAULTS["law"])
    student = args.student if args.student is not None else DEFAULTS["student"]
    if student == "etf" and M > d + 1:
        raise InputError("M", f"the simplex ETF (--student etf) needs M <= d + 1 = {d + 1}; "
                              f"use --student random", got=M)
    rng = np.random.default_rng(seed)
    a, W = law.sample(N, d, rng)
    if student == "etf":
        V = simplex_etf(M, d)
    else:
        V = rng.standard_normal((M, d)) / np.sqrt(d)
        V /= np.linalg.norm(V, axis=1, keepdims=True)
    describe = f"drawn: target law {law.name}, student {student}, beta {beta:g}, seed {seed}"
    return NetworkPair.from_arrays(a, W, np.full(M, beta), V, act), describe


def _mc_text(value: float, se: float) -> str:
    if se > 0 and value > 0:
        digits = min(15, max(1, math.floor(math.log10(value)) - math.floor(math.log10(se)) + 2))
    else:
        digits = 15
    return f"{value:.{digits}g} +- {se:.2g}"


def result_text(r) -> str:
    """The loss of one LossResult as printed: never negative, always with its bound."""
    name = r.status.name
    if name == "ROUNDING_BOUND":
        return loss_text(r.value, r.error_bound)
    if name == "CERTIFIED":
        lower, upper = r.enclosure
        return r.ball if r.note is None else f"[{lower}, {upper}]"
    return _mc_text(r.value, r.error_bound)


def _line(r) -> str:
    name = r.status.name
    if name == "ROUNDING_BOUND":
        return f"float64: L_N = {result_text(r)} -- a-priori rounding bound"
    if name == "CERTIFIED":
        tail = f" (ball {r.ball}; {r.note})" if r.note else ""
        return f"arb: L_N in {result_text(r)} -- certified enclosure, {r.precision}{tail}"
    samples = r.method.split("(")[-1].rstrip(")")
    return f"mc: L_N = {result_text(r)} -- one standard error, {samples}, seed {r.seed}"


def _loss_handler(args) -> int:
    from numerics.interval_loss import certified_population_loss
    from numerics.monte_carlo import monte_carlo_population_loss
    from numerics.networks import read_network_file
    from numerics.population_loss import exact_population_loss

    if args.method not in METHODS:
        raise InputError("method", f"expected one of {', '.join(METHODS)}", got=args.method)
    methods = ("float64", "arb", "mc") if args.method == "all" else (args.method,)
    use_mc = "mc" in methods
    if args.mc_samples is not None and not use_mc:
        raise InputError("mc-samples", f"--mc-samples applies only with --method mc or all, "
                                       f"not --method {args.method}")
    samples = parse_int(args.mc_samples if args.mc_samples is not None else DEFAULTS["mc_samples"],
                        "mc-samples", lo=2, hi=MAX_MC_SAMPLES)
    seed = _seed(args.seed if args.seed is not None else DEFAULTS["seed"])
    if args.weights is not None:
        _refuse_drawing_options(args, use_mc)
        pair = read_network_file(args.weights)
        describe = f"from {args.weights}"
        skipped = _arb_limit(pair.n_target, args.method)
        run = tuple(m for m in methods if not (m == "arb" and skipped))
        _check_memory(pair.n_target, pair.n_student, pair.dim, run, drawn=False)
        draw_seed = None
    else:
        N = parse_int(args.N if args.N is not None else DEFAULTS["N"], "N", lo=1, hi=MAX_N)
        M = parse_int(args.M if args.M is not None else DEFAULTS["M"], "M", lo=1, hi=MAX_M)
        d = parse_int(args.d if args.d is not None else DEFAULTS["d"], "d", lo=1, hi=MAX_D)
        _beta(args.beta if args.beta is not None else DEFAULTS["beta"])
        skipped = _arb_limit(N, args.method)
        run = tuple(m for m in methods if not (m == "arb" and skipped))
        _check_memory(N, M, d, run, drawn=True)
        pair, describe = _draw(args, N, M, d, seed)
        draw_seed = seed
    results = []
    for m in methods:
        if m == "float64":
            results.append(exact_population_loss(pair.a, pair.W, pair.b, pair.V, pair.activation, seed=draw_seed))
        elif m == "arb" and skipped:
            results.append(skipped)
        elif m == "arb":
            results.append(certified_population_loss(pair.a, pair.W, pair.b, pair.V, pair.activation,
                                                     seed=draw_seed))
        else:
            results.append(monte_carlo_population_loss(pair.a, pair.W, pair.b, pair.V, pair.activation,
                                                       n_samples=samples, seed=seed))
    if args.json:
        print_json([{"method": "arb", "skipped": r} if isinstance(r, str) else {**r.as_dict(), "text": result_text(r)}
                    for r in results])
        return 0
    print(f"L_N of N={pair.n_target}, M={pair.n_student}, d={pair.dim}, {pair.activation.name} ({describe})")
    for r in results:
        print(f"arb: skipped ({r})" if isinstance(r, str) else _line(r))
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
    add_json_flag(p)
    for flag in REMOVED_FLAGS:
        p.add_argument(flag, action=_Removed, help=argparse.SUPPRESS)
    p.set_defaults(handler=_loss_handler)

"""``twolayer loss``: the exact finite-N population loss of given or drawn networks.

    twolayer loss --weights net.json [--method float64|arb|mc|all] [--mc-samples S] [--seed K] [--json]
    twolayer loss --law gaussian --neurons N --dim d --student etf --student-neurons M [--beta B] --seed K

Weights files (JSON or NPZ: a, W, b, V arrays + activation) are described in numerics.networks.
User errors (NaN/inf weights, mismatched dimensions, N = 0, unreadable or malformed files) raise InputError, which the dispatcher prints on one line with exit status 2.

Examples
--------
>>> from conjecture.command_line import main
>>> main(["loss", "--law", "gaussian", "--neurons", "50", "--dim", "4", "--student-neurons", "3", "--seed", "1"])
... # doctest: +ELLIPSIS
L_N = ...
0
"""

from __future__ import annotations

import json
import sys

import numpy as np

from theory.errors import InputError

METHODS = ("float64", "arb", "mc", "all")


def _positive_int(text: str, argument: str, low: int = 1) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise InputError(argument, f"expected an integer >= {low}", got=text) from None
    if value < low:
        raise InputError(argument, f"expected an integer >= {low}", got=value)
    return value


def _networks(args):
    """The NetworkPair from --weights, or drawn by law and seed."""
    from numerics.networks import NetworkPair, read_network_file

    if args.weights is not None:
        return read_network_file(args.weights)
    from theory.etf import simplex_etf
    from theory.target_laws import get_law

    n = _positive_int(args.neurons, "neurons")
    d = _positive_int(args.dim, "dim")
    m = _positive_int(args.student_neurons, "student-neurons")
    law = get_law(args.law)
    rng = np.random.default_rng(args.seed)
    a, W = law.sample(n, d, rng)
    if args.student == "etf":
        V = simplex_etf(m, d)
    else:
        V = rng.standard_normal((m, d)) / np.sqrt(d)
        V /= np.linalg.norm(V, axis=1, keepdims=True)
    try:
        beta = float(args.beta)
    except ValueError:
        raise InputError("beta", "expected a real number", got=args.beta) from None
    if not np.isfinite(beta):
        raise InputError("beta", "expected a finite real number", got=args.beta)
    return NetworkPair.from_arrays(a, W, np.full(m, beta), V, args.activation)


def _loss_handler(args) -> int:
    from numerics.interval_loss import MAX_TARGET_NEURONS, certified_population_loss
    from numerics.monte_carlo import monte_carlo_population_loss
    from numerics.population_loss import exact_population_loss

    if args.method not in METHODS:
        raise InputError("method", f"expected one of {', '.join(METHODS)}", got=args.method)
    samples = _positive_int(args.mc_samples, "mc-samples", 2)
    pair = _networks(args)
    results = []
    if args.method in ("float64", "all"):
        results.append(exact_population_loss(pair.a, pair.W, pair.b, pair.V, pair.activation, seed=args.seed))
    if args.method == "arb" or (args.method == "all" and pair.n_target <= MAX_TARGET_NEURONS):
        results.append(certified_population_loss(pair.a, pair.W, pair.b, pair.V, pair.activation, seed=args.seed))
    if args.method in ("mc", "all"):
        results.append(monte_carlo_population_loss(pair.a, pair.W, pair.b, pair.V, pair.activation,
                                                   n_samples=samples, seed=args.seed))
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=1))
        return 0
    for r in results:
        label = {"ROUNDING_BOUND": "rounding bound", "CERTIFIED": "certified radius",
                 "STATISTICAL": "standard error"}[r.status.name]
        print(f"L_N = {r.value:.17g}  +- {r.error_bound:.3g} ({label}; {r.method}, N={r.n_target}, M={r.n_student}, "
              f"d={r.dim}, {r.activation})")
    return 0


def register(subparsers) -> None:
    """Add ``loss`` to the ``twolayer`` parser."""
    p = subparsers.add_parser("loss", help="exact finite-N population loss L_N of given or drawn networks",
                              description="L_N = E_x (f_N(x) - g(x))^2 in closed form (float64 with rounding bound), "
                                          "as a certified arb enclosure, or by Monte Carlo.")
    p.add_argument("--weights", help="JSON or NPZ file with arrays a, W, b, V (+ activation); see numerics.networks")
    p.add_argument("--law", default="gaussian", help="target law when no --weights (default gaussian)")
    p.add_argument("--neurons", default="1000", help="N, target neurons (default 1000)")
    p.add_argument("--dim", default="16", help="d (default 16)")
    p.add_argument("--student", choices=("etf", "random"), default="etf", help="compressed frame (default etf)")
    p.add_argument("--student-neurons", default="3", help="M (default 3)")
    p.add_argument("--beta", default="0.3", help="output weight of every compressed neuron (default 0.3)")
    p.add_argument("--activation", default="relu", help="activation when drawing (default relu)")
    p.add_argument("--method", default="float64", help="float64 (default), arb, mc or all")
    p.add_argument("--mc-samples", default="100000", help="Monte Carlo samples (default 100000)")
    p.add_argument("--seed", type=int, default=0, help="seed for drawing and Monte Carlo (default 0)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(handler=_loss_handler)

"""The exact finite-N population loss as a public function: ``exact_loss`` of given or drawn networks.

L_N = E_x (f_N(x) - g(x))^2 in closed form (float64 with its rounding bound), as a certified arb
enclosure, or by Monte Carlo.  The networks come from one of:

* ``weights=PATH``: a JSON or NPZ weights file (numerics.networks);
* ``target=(a, W)`` and ``student=(b, V)``: numpy arrays (or nested lists), with ``activation``;
* a pair drawn by ``law``, ``N``, ``M``, ``d``, ``student="etf"|"random"``, ``beta``, ``activation``, ``seed``.

``twolayer loss`` is a thin layer over ``exact_loss``.  Options that do not apply to the chosen source
are refused (InputError naming them), as is a job above the budget without ``allow_large``.

Examples
--------
>>> from numerics import exact_loss
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> r = exact_loss(target=(np.ones(40), rng.standard_normal((40, 4)) / 2), student=(np.full(2, 0.3),
...                rng.standard_normal((2, 4))), activation="relu")
>>> r.results[0].value > 0, r.N, r.M, r.d
(True, 40, 2, 4)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numerics.loss_job import job_estimate
from theory.cli_args import parse_int
from theory.errors import InputError
from theory.job_budget import JobEstimate, check_budget
from theory.loss_text import loss_text
from theory.rendering import Rendered

METHODS = ("float64", "arb", "mc", "all")
MAX_N = 10**7
MAX_M = 10**5
MAX_D = 10**5
MAX_MC_SAMPLES = 10**8
MAX_SEED = 10**9 - 1  # the integer grammar's 9-digit literals
DEFAULTS = {"law": "gaussian", "N": 1000, "M": 3, "d": 16, "student": "etf", "beta": "0.3",
            "activation": "relu", "mc_samples": 100_000, "seed": 0}
# Options that describe a drawn pair: a weights file or given arrays fix all of them (command-line spelling).
DRAWING_OPTIONS = (("law", "--law"), ("N", "--N"), ("M", "--M"), ("d", "--d"), ("student", "--student"),
                   ("beta", "--beta"), ("activation", "--activation"))


def _seed(value: object) -> int:
    try:
        return parse_int(value, "seed", lo=0, hi=MAX_SEED)
    except InputError:
        raise InputError("seed", f"expected an integer from 0 to {MAX_SEED} (numpy seeds are >= 0)",
                         got=value) from None


def _beta(value: object) -> float:
    if isinstance(value, bool):
        raise InputError("beta", "expected a real number", got=value)
    try:
        beta = float(value)
    except (TypeError, ValueError):
        raise InputError("beta", "expected a real number", got=value) from None
    if not math.isfinite(beta):
        raise InputError("beta", "expected a finite real number", got=value)
    return beta


def _arb_limit(N: int, method: str) -> str | None:
    """Why arb is skipped under method 'all' (None when it runs); an InputError for method 'arb'."""
    from numerics.interval_loss import MAX_TARGET_NEURONS

    if N <= MAX_TARGET_NEURONS:
        return None
    why = f"N = {N} > {MAX_TARGET_NEURONS}, the limit of the certified enclosure"
    if method == "arb":
        raise InputError("N", f"the certified enclosure (--method arb) handles N <= {MAX_TARGET_NEURONS}; "
                              f"use --method float64", got=N)
    return why


@dataclass(frozen=True)
class LossRequest:
    """``exact_loss``'s arguments parsed and bounded; ``pair()`` reads or draws the networks."""

    source: str  # "file", "arrays" or "drawn"
    N: int
    M: int
    d: int
    method: str
    methods: tuple[str, ...]
    samples: int
    seed: int
    skipped: str | None
    estimate: JobEstimate
    given: object = None  # the NetworkPair read from the file or built from the arrays (checked)
    describe: str = ""
    draw: dict | None = None

    def pair(self):
        """(NetworkPair, description, seed used for drawing or None)."""
        if self.given is not None:
            return self.given, self.describe, None
        return (*_draw(self.N, self.M, self.d, self.seed, **self.draw), self.seed)


def _draw(N: int, M: int, d: int, seed: int, *, law: str, student: str, beta: float, activation: str):
    """The NetworkPair drawn by law and seed: target rows from the law, the student an ETF or random."""
    from numerics.networks import NetworkPair
    from theory.activations import get_activation
    from theory.etf import simplex_etf
    from theory.target_laws import get_law

    act, lw = get_activation(activation), get_law(law)
    rng = np.random.default_rng(seed)
    a, W = lw.sample(N, d, rng)
    if student == "etf":
        V = simplex_etf(M, d)
    else:
        V = rng.standard_normal((M, d)) / np.sqrt(d)
        V /= np.linalg.norm(V, axis=1, keepdims=True)
    describe = f"drawn: target law {lw.name}, student {student}, beta {beta:g}, seed {seed}"
    return NetworkPair.from_arrays(a, W, np.full(M, beta), V, act), describe


def _given(**options) -> list[str]:
    return [name for name, _ in DRAWING_OPTIONS if options.get(name) is not None]


def loss_request(*, weights=None, target=None, student=None, activation=None, law=None, N=None, M=None, d=None,
                 beta=None, method: str = "float64", mc_samples=None, seed=None) -> LossRequest:
    """Parse and bound ``exact_loss``'s arguments and estimate the job; nothing is drawn or computed (a
    weights file is read under numerics.networks' limits, which check its declared shapes first)."""
    if not isinstance(method, str) or method not in METHODS:
        raise InputError("method", f"expected one of {', '.join(METHODS)}", got=method)
    methods = ("float64", "arb", "mc") if method == "all" else (method,)
    use_mc = "mc" in methods
    if mc_samples is not None and not use_mc:
        raise InputError("mc-samples", f"--mc-samples applies only with --method mc or all, not --method {method}")
    samples = parse_int(mc_samples if mc_samples is not None else DEFAULTS["mc_samples"], "mc-samples", lo=2,
                        hi=MAX_MC_SAMPLES)
    seed_value = _seed(seed if seed is not None else DEFAULTS["seed"])
    drawing = isinstance(student, str) or student is None
    if weights is not None or not drawing:
        fixed = "--weights" if weights is not None else "given arrays"
        refused = _given(law=law, N=N, M=M, d=d, beta=beta,
                         activation=activation if weights is not None else None,
                         student=student if isinstance(student, str) else None)
        if weights is not None and (target is not None or not drawing):
            raise InputError("weights", "give either a weights file or target/student arrays, not both")
        if refused:
            flags = ", ".join(f"--{r}" for r in refused)
            verb = "does" if len(refused) == 1 else "do"
            what = "the file gives both networks and their activation" if weights is not None else \
                "the arrays give both networks"
            raise InputError(refused[0], f"{flags} {verb} not apply with {fixed}: {what}")
        if seed is not None and not use_mc:
            raise InputError("seed", f"--seed does not apply with {fixed} and --method {method}: nothing is drawn "
                                     f"or sampled")
    given, describe = None, ""
    if weights is not None:
        from numerics.networks import read_network_file

        given, describe = read_network_file(weights), f"from {weights}"
    elif not drawing:
        from numerics.networks import NetworkPair

        if target is None:
            raise InputError("target", "student arrays (b, V) need target arrays (a, W)")
        given = NetworkPair.from_arrays(*_pair_arrays(target, "target"), *_pair_arrays(student, "student"),
                                        activation if activation is not None else DEFAULTS["activation"])
        describe = "given arrays"
    if given is not None:
        N_, M_, d_, source, draw = given.n_target, given.n_student, given.dim, "file" if weights else "arrays", None
    else:
        if target is not None:
            raise InputError("target", "target arrays need student arrays (b, V) too")
        N_ = parse_int(N if N is not None else DEFAULTS["N"], "N", lo=1, hi=MAX_N)
        M_ = parse_int(M if M is not None else DEFAULTS["M"], "M", lo=1, hi=MAX_M)
        d_ = parse_int(d if d is not None else DEFAULTS["d"], "d", lo=1, hi=MAX_D)
        frame = student if student is not None else DEFAULTS["student"]
        if frame not in ("etf", "random"):
            raise InputError("student", "expected etf or random (or student arrays (b, V))", got=frame)
        if frame == "etf" and M_ > d_ + 1:
            raise InputError("M", f"the simplex ETF (--student etf) needs M <= d + 1 = {d_ + 1}; "
                                  f"use --student random", got=M_)
        draw = {"law": law if law is not None else DEFAULTS["law"], "student": frame,
                "beta": _beta(beta if beta is not None else DEFAULTS["beta"]),
                "activation": activation if activation is not None else DEFAULTS["activation"]}
        source = "drawn"
    skipped = _arb_limit(N_, method)
    run = tuple(m for m in methods if not (m == "arb" and skipped))
    est = job_estimate(N_, M_, d_, run, drawn=source == "drawn", samples=samples)
    return LossRequest(source, N_, M_, d_, method, methods, samples, seed_value, skipped, est, given=given,
                       describe=describe, draw=draw)


def _pair_arrays(pair, argument: str) -> tuple:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise InputError(argument, "expected a pair of arrays: (a, W) for the target, (b, V) for the student")
    return pair[0], pair[1]


@dataclass(frozen=True, repr=False)
class LossReport(Rendered):
    """The losses of one pair of networks, one result per method (a str: why arb was skipped)."""

    N: int
    M: int
    d: int
    activation: str
    describe: str
    results: tuple

    def as_json(self) -> list:
        """What ``twolayer loss --json`` prints: one object per method."""
        return [{"method": "arb", "skipped": r} if isinstance(r, str) else {**r.as_dict(), "text": result_text(r)}
                for r in self.results]

    def text(self) -> str:
        lines = [f"L_N of N={self.N}, M={self.M}, d={self.d}, {self.activation} ({self.describe})"]
        lines += [f"arb: skipped ({r})" if isinstance(r, str) else result_line(r) for r in self.results]
        return "\n".join(lines)


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


def result_line(r) -> str:
    """One method's line of ``twolayer loss``."""
    name = r.status.name
    if name == "ROUNDING_BOUND":
        return f"float64: L_N = {result_text(r)} -- a-priori rounding bound"
    if name == "CERTIFIED":
        tail = f" (ball {r.ball}; {r.note})" if r.note else ""
        return f"arb: L_N in {result_text(r)} -- certified enclosure, {r.precision}{tail}"
    samples = r.method.split("(")[-1].rstrip(")")
    return f"mc: L_N = {result_text(r)} -- one standard error, {samples}, seed {r.seed}"


def exact_loss(*, weights=None, target=None, student=None, activation=None, law=None, N=None, M=None, d=None,
               beta=None, method: str = "float64", mc_samples=None, seed=None, allow_large: bool = False) -> LossReport:
    """L_N of the networks (see the module docstring for the three sources), by ``method``: float64
    (closed form with its rounding bound), arb (certified enclosure), mc (Monte Carlo) or all."""
    from numerics.interval_loss import certified_population_loss
    from numerics.monte_carlo import monte_carlo_population_loss
    from numerics.population_loss import exact_population_loss

    req = loss_request(weights=weights, target=target, student=student, activation=activation, law=law, N=N, M=M,
                       d=d, beta=beta, method=method, mc_samples=mc_samples, seed=seed)
    check_budget(req.estimate, allow_large=allow_large)
    pair, describe, draw_seed = req.pair()
    results = []
    for m in req.methods:
        if m == "float64":
            results.append(exact_population_loss(pair.a, pair.W, pair.b, pair.V, pair.activation, seed=draw_seed))
        elif m == "arb" and req.skipped:
            results.append(req.skipped)
        elif m == "arb":
            results.append(certified_population_loss(pair.a, pair.W, pair.b, pair.V, pair.activation, seed=draw_seed))
        else:
            results.append(monte_carlo_population_loss(pair.a, pair.W, pair.b, pair.V, pair.activation,
                                                       n_samples=req.samples, seed=req.seed))
    return LossReport(pair.n_target, pair.n_student, pair.dim, pair.activation.name, describe, tuple(results))

"""The scaling fit of the NTK memorisation check and its decision rule (fixed before the default run).

Data: one row per (cell, eps): n, d, eps and the measured m* (``numerics.ntk_scaling``).  Fits, by ordinary
least squares, with 95% percentile-bootstrap intervals (B = BOOTSTRAP resamples, generator seeded with
BOOTSTRAP_SEED; each resample draws, within every (n, d) configuration, its seeds with replacement and keeps
all eps rows of a drawn seed together):

* the rule's fit:   log m* = c + a_n log n + a_d log d + beta log log(1/eps);
* the one-exponent fit the claim is written in:  log m* = c + alpha log(n/d) + beta log log(1/eps);
* linear:           m* = c1 (n/d) log(1/eps) + c0.

Rule.  The claim m = O((n/d) log(1/eps)) is read as: m* grows like n^1 d^-1 and at most like log(1/eps).
SUPPORTED iff the intervals of a_n and of -a_d each meet [1 - MARGIN, 1 + MARGIN] and the interval of beta
starts at or below 1.  MARGIN = 0.1 is fixed a priori from the rounding of m to an integer: at the
smallest n/d of the default grid (6.25) m* can exceed (n/d)(...) by up to one neuron, a bias of at most
log(1 + 1/6.25) = 0.15 in log m* at one end of a log(n/d) range of log 16 = 2.77, i.e. at most about 0.05
in an exponent.  INCONCLUSIVE when an interval of a_n, a_d or beta is wider than MAX_WIDTH, when the grid
has fewer than two values of n, of d or of eps, or when a configuration has fewer than two seeds; NOT SUPPORTED otherwise (the failing parts are named),
and also whenever some eps was not reached within the candidate neurons (1.25 n/k + 4) of a cell.

Examples
--------
>>> rows = [FitRow(n, d, e, max(1, round(n / d * (1 - e * e))), (n, d), r)
...         for n in (100, 200, 400) for d in (4, 8) for e in (0.3, 0.1) for r in range(2)]
>>> f = fit_scaling(rows)
>>> f.verdict, abs(f.a_n.estimate - 1) < 0.05, abs(f.a_d.estimate + 1) < 0.05
('SUPPORTED', True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

BOOTSTRAP = 1000
BOOTSTRAP_SEED = 20200605
MARGIN = 0.1
MAX_WIDTH = 0.5


@dataclass(frozen=True)
class FitRow:
    """One measured m* and where it comes from: (n, d) configuration and seed index."""

    n: int
    d: int
    eps: float
    m: int
    group: tuple
    replicate: int


@dataclass(frozen=True)
class Estimate:
    """A fitted coefficient with its 95% bootstrap interval."""

    estimate: float
    low: float
    high: float

    def text(self) -> str:
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}]"

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class ScalingFit:
    """The three fits, the verdict of the rule and why."""

    rows: int
    a_n: Estimate | None
    a_d: Estimate | None
    beta: Estimate | None
    alpha: Estimate | None
    beta_one: Estimate | None
    linear_c1: Estimate | None
    linear_c0: Estimate | None
    verdict: str
    reason: str


def _design(rows: Sequence[FitRow], kind: str) -> tuple[np.ndarray, np.ndarray]:
    n = np.array([r.n for r in rows], float)
    d = np.array([r.d for r in rows], float)
    e = np.array([r.eps for r in rows], float)
    m = np.array([r.m for r in rows], float)
    one = np.ones_like(n)
    if kind == "rule":
        return np.column_stack([one, np.log(n), np.log(d), np.log(np.log(1 / e))]), np.log(m)
    if kind == "alpha":
        return np.column_stack([one, np.log(n / d), np.log(np.log(1 / e))]), np.log(m)
    return np.column_stack([n / d * np.log(1 / e), one]), m


def _ols(rows: Sequence[FitRow], kind: str) -> np.ndarray:
    A, b = _design(rows, kind)
    return np.linalg.lstsq(A, b, rcond=None)[0]


def _bootstrap(rows: Sequence[FitRow]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    by: dict[tuple, dict[int, list[FitRow]]] = {}
    for r in rows:
        by.setdefault(r.group, {}).setdefault(r.replicate, []).append(r)
    keys = sorted(by)
    out: dict[str, list] = {"rule": [], "alpha": [], "linear": []}
    for _ in range(BOOTSTRAP):
        sample: list[FitRow] = []
        for g in keys:
            reps = sorted(by[g])
            for i in rng.integers(0, len(reps), size=len(reps)):
                sample.extend(by[g][reps[i]])
        for kind in out:
            out[kind].append(_ols(sample, kind))
    return {k: np.array(v) for k, v in out.items()}


def _est(point: float, draws: np.ndarray) -> Estimate:
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return Estimate(float(point), float(lo), float(hi))


def _meets(e: Estimate, target: float) -> bool:
    return e.low <= target + MARGIN and e.high >= target - MARGIN


def fit_scaling(rows: Sequence[FitRow], unreached: Sequence[tuple] = ()) -> ScalingFit:
    """Fit and decide (see the module docstring).  ``unreached``: (n, d, eps) of measurements where no m up to
    the candidates reached eps; any of them makes the verdict NOT SUPPORTED (m* exceeds the n/d scale there),
    the fit then describes the reached rows only."""
    fit = _fit(list(rows))
    if not unreached:
        return fit
    where = sorted({(n, d) for n, d, _ in unreached})
    reason = (f"eps not reached within the candidate neurons in {len(unreached)} measurements "
              f"((n, d) = {', '.join(f'({n}, {d})' for n, d in where[:6])}); fit of the reached rows: {fit.verdict}")
    return ScalingFit(fit.rows, fit.a_n, fit.a_d, fit.beta, fit.alpha, fit.beta_one, fit.linear_c1, fit.linear_c0,
                      "NOT SUPPORTED", reason)


def _fit(rows: list[FitRow]) -> ScalingFit:
    distinct = {name: len({getattr(r, name) for r in rows}) for name in ("n", "d", "eps")}
    if min(distinct.values(), default=0) < 2:
        few = ", ".join(k for k, v in distinct.items() if v < 2)
        return ScalingFit(len(rows), None, None, None, None, None, None, None, "INCONCLUSIVE",
                          f"fewer than two values of {few}: the exponents cannot be separated")
    seeds = {}
    for r in rows:
        seeds.setdefault(r.group, set()).add(r.replicate)
    if min(len(s) for s in seeds.values()) < 2:
        return ScalingFit(len(rows), None, None, None, None, None, None, None, "INCONCLUSIVE",
                          "a configuration has fewer than two seeds: no bootstrap interval")
    boot = _bootstrap(rows)
    rule, alpha, lin = _ols(rows, "rule"), _ols(rows, "alpha"), _ols(rows, "linear")
    a_n, a_d, beta = (_est(rule[i], boot["rule"][:, i]) for i in (1, 2, 3))
    al, b1 = _est(alpha[1], boot["alpha"][:, 1]), _est(alpha[2], boot["alpha"][:, 2])
    c1, c0 = _est(lin[0], boot["linear"][:, 0]), _est(lin[1], boot["linear"][:, 1])
    wide = [name for name, e in (("a_n", a_n), ("a_d", a_d), ("beta", beta)) if e.width > MAX_WIDTH]
    fails = []
    if not _meets(a_n, 1.0):
        fails.append(f"a_n interval {a_n.text()} misses [{1 - MARGIN:g}, {1 + MARGIN:g}]")
    if not _meets(Estimate(-a_d.estimate, -a_d.high, -a_d.low), 1.0):
        fails.append(f"-a_d interval misses [{1 - MARGIN:g}, {1 + MARGIN:g}] (a_d {a_d.text()})")
    if beta.low > 1.0:
        fails.append(f"beta interval {beta.text()} lies above 1 (faster than log(1/eps))")
    if wide:
        verdict, reason = "INCONCLUSIVE", f"interval wider than {MAX_WIDTH:g}: {', '.join(wide)}"
    elif fails:
        verdict, reason = "NOT SUPPORTED", "; ".join(fails)
    else:
        verdict, reason = "SUPPORTED", (f"a_n and -a_d meet [{1 - MARGIN:g}, {1 + MARGIN:g}], beta starts at or "
                                        f"below 1")
    return ScalingFit(len(rows), a_n, a_d, beta, al, b1, c1, c0, verdict, reason)


def rows_from_values(values: Sequence[dict], replicates: Sequence[int]) -> tuple[list[FitRow], list[tuple]]:
    """FitRows from cell values (``numerics.ntk_scaling``) and the (n, d, eps) not reached within the candidates."""
    out, unreached = [], []
    for v, rep in zip(values, replicates):
        for e, m in zip(v["eps"], v["m_star"]):
            if m is None:
                unreached.append((v["n"], v["d"], float(e)))
            else:
                out.append(FitRow(v["n"], v["d"], float(e), int(m), (v["n"], v["d"]), int(rep)))
    return out, unreached

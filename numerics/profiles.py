"""Named grids for ``twolayer verify``: smoke (seconds, in the test suite), quick (< 2 min), corners
(~5-10 min), full (~20 min on 2 cores: 1242 s measured).

Draws per cell (why these numbers).  The variance ratio's relative standard error is about
sqrt((kurtosis - 1) / R) ~ sqrt(2 / R) for near-Gaussian L_N, so R = 200 draws give +-10% per cell and
about +-3.5% pooled over 9 cells (95% CI +-7%), enough to tell a prediction that misses by the factor
~20 MODEL.md warns about (forgetting the self term), or by the 1/N^2 term at the ETF (~10-30% at
d >= 32), from one that holds.  The bias is measured with the control variate of numerics.rates, whose
residual is O(1/N), so its per-cell relative error is O(1/sqrt(R)) independent of N: R = 200 gives a few
per cent.  The minimum over theta is a multi-start search, so draws are fewer (6-20).  ``full`` takes
R = 300 over 35 cells (+-8% per variance cell, ~+-1.4% pooled) so that the whole grid (N = 10^2..10^4,
d = 4..256) takes about 50-60 minutes on 2 cores.

Examples
--------
>>> sorted(PROFILES)
['corners', 'full', 'quick', 'smoke']
>>> get_profile("quick").moments["draws"]
200
"""

from __future__ import annotations

from dataclasses import dataclass, field

from theory.errors import InputError

DEFAULT_ROOT = "verify-out"  # twolayer verify --out
DEFAULT_SEED = 20220517      # twolayer verify --seed


@dataclass(frozen=True)
class Profile:
    """Grids of one verify profile; each dict lists the cell parameters shared by its kind's grid."""

    name: str
    description: str
    moments: dict
    minimum: dict
    dimension: dict
    precision: dict
    consistency: dict
    expected_runtime: str
    estimated_seconds: float  # the upper end of expected_runtime, for the job budget (theory.job_budget)
    extra: dict = field(default_factory=dict)

    def cells(self) -> dict[str, list[dict]]:
        """{kind: [params, ...]} for every check of this profile."""
        m = self.moments
        moments = [{"law": m["law"], "activation": m["activation"], "d": d, "N": n, "M": m["M"], "draws": m["draws"]}
                   for d in m["d"] for n in m["N"]]
        g = self.minimum
        minimum = [{"law": g["law"], "activation": g["activation"], "d": d, "N": n, "M": g["M"], "draws": g["draws"],
                    "starts": g["starts"], **({"prediction": g["prediction"]} if "prediction" in g else {})}
                   for d in g["d"] for n in g["N"]]
        dm = self.dimension
        dimension = [{"activation": dm["activation"], "M": dm["M"], "d": d, "dps": dm["dps"]} for d in dm["d"]]
        p = self.precision
        precision = [{"law": p["law"], "activation": p["activation"], "d": p["d"], "N": n, "M": p["M"],
                      "epsilons": p["epsilons"], "prec_bits": p["prec_bits"]} for n in p["N"]]
        c = self.consistency
        consistency = [{"activations": c["activations"], "d": c["d"], "N": c["N"], "M": c["M"],
                        "mc_samples": c["mc_samples"]}]
        return {"finite-n-moments": moments, "finite-n-minimum": minimum, "dimension-limit": dimension,
                "finite-n-precision": precision, "loss-consistency": consistency}


_DIM_GRID = [4, 8, 16, 32, 64, 128, 256, 1024, 10**4, 10**6, 10**8, 10**12]
_PREC = {"law": "gaussian", "activation": "relu", "d": 16, "M": 3, "epsilons": [1e-4, 1e-8, 1e-12], "prec_bits": 192}
_CONS_ACTS = ["relu", "abs", "leaky_relu(0.1)", "relu^2", "step"]
# Monte Carlo sizes of the minimum cells' prediction (theory.finite_n_gain): GOE matrices, targets for the finite-N
# law of S_N, sphere directions; their standard errors stay below 0.5% of the predicted gain, against measured
# CIs of 5-20% (quick, 6 draws) and 3-10% (full, 20 draws).
_PRED_QUICK = {"goe": 5000, "targets": 400, "sphere": 50000}
_PRED_FULL = {"goe": 20000, "targets": 1000, "sphere": 200000}

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke", description="pipeline check inside the test suite; too few draws for verdicts to be meaningful",
        moments={"law": "gaussian", "activation": "relu", "d": [8, 32], "N": [50, 200], "M": 3, "draws": 30},
        minimum={"law": "gaussian", "activation": "relu", "d": [4], "N": [100, 400], "M": 3, "draws": 2, "starts": 1,
                 "prediction": {"goe": 1000, "targets": 50, "sphere": 5000}},
        dimension={"activation": "relu", "M": 3, "d": [4, 16, 64, 256, 10**4, 10**8], "dps": 30},
        precision={**_PREC, "N": [40], "d": 8},
        consistency={"activations": ["relu", "abs"], "d": 4, "N": 30, "M": 2, "mc_samples": 20000},
        expected_runtime="about 5 s serial", estimated_seconds=10),
    "quick": Profile(
        name="quick", description="every check at modest sizes; under 2 minutes on 2 cores",
        moments={"law": "gaussian", "activation": "relu", "d": [8, 32, 128], "N": [100, 316, 1000], "M": 3,
                 "draws": 200},
        minimum={"law": "gaussian", "activation": "relu", "d": [8, 32], "N": [100, 400, 1600], "M": 3, "draws": 6,
                 "starts": 2, "prediction": _PRED_QUICK},
        dimension={"activation": "relu", "M": 3, "d": _DIM_GRID, "dps": 40},
        precision={**_PREC, "N": [200]},
        consistency={"activations": _CONS_ACTS, "d": 8, "N": 100, "M": 3, "mc_samples": 100000},
        expected_runtime="60-110 s on 2 cores", estimated_seconds=110),
    "corners": Profile(
        name="corners", description="the large corners of the issue's grid (N up to 10^4, d up to 256) with fewer "
                                    "draws (100: +-14% per variance cell, bias resolved by the control variate)",
        moments={"law": "gaussian", "activation": "relu", "d": [32, 256], "N": [1000, 3162, 10000], "M": 3,
                 "draws": 100},
        minimum={"law": "gaussian", "activation": "relu", "d": [8], "N": [1000, 3162, 10000], "M": 3, "draws": 4,
                 "starts": 1, "prediction": _PRED_QUICK},
        dimension={"activation": "relu", "M": 3, "d": _DIM_GRID, "dps": 40},
        precision={**_PREC, "N": [200]},
        consistency={"activations": _CONS_ACTS, "d": 8, "N": 100, "M": 3, "mc_samples": 100000},
        expected_runtime="5-10 min on 2 cores", estimated_seconds=600),
    "full": Profile(
        name="full", description="the issue's grid: N = 10^2..10^4 x d = 4..256, 300 draws a cell (minimum: d <= 32, "
                                 "20 draws x 2 starts); about 50-60 min on 2 cores",
        moments={"law": "gaussian", "activation": "relu", "d": [4, 8, 16, 32, 64, 128, 256],
                 "N": [100, 316, 1000, 3162, 10000], "M": 3, "draws": 300},
        minimum={"law": "gaussian", "activation": "relu", "d": [4, 8, 16, 32], "N": [100, 316, 1000, 3162, 10000],
                 "M": 3, "draws": 20, "starts": 2, "prediction": _PRED_FULL},
        dimension={"activation": "relu", "M": 3, "d": _DIM_GRID, "dps": 50},
        precision={**_PREC, "N": [100, 300, 1000]},
        consistency={"activations": _CONS_ACTS, "d": 16, "N": 300, "M": 5, "mc_samples": 200000},
        expected_runtime="about 50-60 min on 2 cores: about 3480 s measured on 2026-12-01, partly on a shared "
                         "machine (moments ~35 min, minimum with its Newton polish and prediction ~20 min); see "
                         "docs/numerics.md",
        estimated_seconds=3300),
}


def get_profile(name: str) -> Profile:
    """Look up a profile by name (whitelist)."""
    key = str(name).strip().lower()
    if key not in PROFILES:
        raise InputError("profile", f"unknown profile; valid: {', '.join(PROFILES)}", got=name)
    return PROFILES[key]

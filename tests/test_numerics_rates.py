"""Rate checks: statistics helpers on known answers, cells against theory, the smoke profile end to end.

Tolerances: Monte Carlo-type comparisons use 4.5 standard errors (two-sided false-alarm rate 7e-6);
deterministic fits of exact power laws use 1e-9 (float64 logs of exact data).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from numerics.estimates import fit_power_law, mean_estimate, pooled_ratio, ratio, variance_estimate
from numerics.profiles import PROFILES, get_profile
from numerics.rates import consistency_cell, dimension_cell, moments_cell, precision_cell
from numerics.verify_report import run_verify
from theory.errors import InputError

K_SE = 4.5  # standard errors allowed for sampled quantities (false-alarm rate ~7e-6 per comparison)


def test_power_fit_recovers_exact_law():
    x = np.array([10.0, 30.0, 100.0, 1000.0])
    fit = fit_power_law(x, 3.0 * x**-0.5, 0.01 * 3.0 * x**-0.5)
    assert abs(fit.exponent + 0.5) < 1e-9 and abs(fit.constant - 3.0) < 1e-9
    assert fit.exponent_ci[0] < -0.5 < fit.exponent_ci[1]


def test_power_fit_ci_covers_noisy_truth(rng):
    """Coverage: across 200 synthetic data sets the 95% CI contains the true exponent about 95% of the time."""
    x = np.array([100.0, 300.0, 1000.0, 3000.0, 10000.0])
    hits = 0
    for _ in range(200):
        se = 0.05 * x**-1.0
        y = x**-1.0 + se * rng.standard_normal(x.size)
        f = fit_power_law(x, y, se)
        hits += f.exponent_ci[0] <= -1.0 <= f.exponent_ci[1]
    # binomial(200, 0.95): mean 190, sd 3.1; 4.5 sd below is 176
    assert hits >= 176


def test_mean_and_variance_estimates(rng):
    x = rng.standard_normal(4000) * 2.0 + 1.0
    m, v = mean_estimate(x), variance_estimate(x)
    assert abs(m.value - 1.0) < K_SE * m.se
    assert abs(v.value - 4.0) < K_SE * v.se
    r = ratio(v, 4.0)
    assert r.low < r.value < r.high
    pooled = pooled_ratio([v, v], [4.0, 4.0])
    assert pooled.high - pooled.low < r.high - r.low


def test_moments_cell_bias_and_variance_match_theory():
    res = moments_cell({"law": "gaussian", "activation": "relu", "d": 16, "N": 60, "M": 3, "draws": 150}, 11)
    for name, frame in res["frames"].items():
        Y, Z = np.array(frame["Y"]), np.array(frame["Z"])
        cv = mean_estimate(Y - Z)
        assert abs(cv.value - frame["predicted"]["bias"]) < K_SE * cv.se, name
        var = variance_estimate(Y)
        assert abs(var.value - frame["predicted"]["variance"]) < K_SE * var.se, name
    # the control variate has mean exactly 0 and removes most of the spread at the unbalanced frame
    unb = res["frames"]["unbalanced"]
    assert np.var(np.array(unb["Y"]) - np.array(unb["Z"])) < 0.2 * np.var(unb["Y"])


def test_dimension_cell_ratio_tends_to_one():
    r64 = dimension_cell({"activation": "relu", "M": 3, "d": 64, "dps": 30}, 0)
    r1e6 = dimension_cell({"activation": "relu", "M": 3, "d": 10**6, "dps": 30}, 0)
    # ratio = 1 + a/d + O(d^-2): the deviation shrinks by about the ratio of dimensions
    assert abs(r1e6["ratio"] - 1) < abs(r64["ratio"] - 1) * 64 / 10**6 * 2
    assert r64["quadrature_digits"] > 25  # closed form vs quadrature at 30 digits
    assert r1e6["float64_digits"] < 3  # naive float64 loses the 1/d effect at d = 10^6


def test_precision_cell_shows_float64_loss_along_flat_direction():
    r = precision_cell({"law": "gaussian", "activation": "relu", "d": 6, "N": 30, "M": 3,
                        "epsilons": [1e-4, 1e-13], "prec_bits": 160}, 5)
    assert abs(r["loss_float64"] - r["loss_arb"]) <= r["loss_float64_bound"] + r["loss_arb_radius"]
    big, tiny = r["orientation"]
    assert big["float64_digits"] > 6
    assert tiny["float64_digits"] < 3 and tiny["effect_to_bound"] < 1


def test_consistency_cell_mc_within_four_se():
    res = consistency_cell({"activations": ["relu", "relu^2"], "d": 5, "N": 40, "M": 2, "mc_samples": 40000}, 3)
    for row in res["rows"]:
        assert abs(row["z"]) < 4
        assert row["within_bound"]


def test_unknown_profile_is_input_error():
    with pytest.raises(InputError, match="unknown profile"):
        get_profile("fast")
    assert {"smoke", "quick", "full"} <= set(PROFILES)


def test_smoke_profile_end_to_end(tmp_path):
    store = tmp_path / "store"
    out = run_verify("smoke", tmp_path / "out", seed=3, n_workers=0, quiet=True, store=store)
    keys = [c.key for c in out.checks]
    for key in ("consistency", "bias", "variance_etf", "variance_unbalanced", "minimum_gain", "minimum_per_draw",
                "minimum_deformation", "minimum_rotation", "dimension", "precision"):
        assert key in keys
    assert out.folder == tmp_path / "out" / out.run_id and out.store_path == str(store / "twolayer.sqlite")
    data = json.loads((out.folder / "report.json").read_text())
    assert data["provenance"]["seeds"] == [3] and data["content_hash"].startswith("sha256:")
    assert [c["key"] for c in data["extra"]["checks"]] == keys and data["extra"]["profile"] == "smoke"
    md = (out.folder / "report.md").read_text()
    assert "## Findings" in md and "Provenance" in md
    for png in ("bias.png", "variance_etf.png", "dimension.png"):
        assert (out.folder / png).read_bytes()[:4] == b"\x89PNG"
    # the consistency and dimension checks do not depend on sample size: they must hold even in smoke
    verdicts = {c.key: c.verdict.value for c in out.checks}
    assert verdicts["consistency"] == "confirmed" and verdicts["dimension"] == "confirmed"
    # re-running reuses every stored cell
    again = run_verify("smoke", tmp_path / "out", seed=3, n_workers=0, quiet=True, kinds=("dimension-limit",),
                       store=store)
    assert math.isclose(again.checks[0].ratio.value, out.checks[keys.index("dimension")].ratio.value)
    assert again.provenance["verify"]["sweeps"][0]["computed"] == 0 and again.folder != out.folder

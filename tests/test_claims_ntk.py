"""NTK memorisation as a scaling check (issue 13, A.3): features, the least m, the fit and its rule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conjecture.command_line import main
from theory.errors import InputError
from numerics.ntk_fit import FitRow, fit_scaling
from numerics.ntk_scaling import features, lstsq_residual, ntk_cell, residual_curve, sphere_points


def test_ntk_features_are_the_gradient_of_the_network():
    # d/dW of sum_j a_j relu(w_j . x) at a = 1: the row block of neuron j is x 1[w_j . x > 0]
    rng = np.random.default_rng(0)
    X, W = sphere_points(rng, 7, 3), rng.standard_normal((4, 3))
    Phi = features(X, W, "ntk")
    f = lambda W_: np.maximum(X @ W_.T, 0).sum(1)  # noqa: E731
    h, V = 1e-6, rng.standard_normal(W.shape)
    assert np.allclose((f(W + h * V) - f(W - h * V)) / (2 * h), Phi @ V.ravel(), atol=1e-8)
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0)


@pytest.mark.parametrize("feat,n,d", [("ntk", 60, 4), ("rf", 40, 3), ("ntk", 45, 8)])
def test_m_star_is_the_least_m_by_independent_lstsq(feat, n, d):
    eps = [0.5, 0.2, 0.05]
    v = ntk_cell({"features": feat, "n": n, "d": d, "eps": eps}, seed=3)["values"]
    # rebuild the same draw and check m* against a plain lstsq at m* and m* - 1
    rng = np.random.default_rng(3)
    X = sphere_points(rng, n, d)
    y = rng.choice([-1.0, 1.0], size=n)
    W = rng.standard_normal((v["candidates"], d))
    Phi, k = features(X, W, feat), v["k_per_neuron"]
    for e, m in zip(eps, v["m_star"]):
        assert m is not None
        assert lstsq_residual(Phi, y, m, k)[0] <= e < lstsq_residual(Phi, y, m - 1, k)[0]
    assert v["m_star"] == sorted(v["m_star"])  # smaller eps needs at least as many neurons
    curve = residual_curve(Phi, y, k)
    assert np.all(np.diff(curve) <= 1e-12) and curve[0] <= 1.0


def test_interpolation_threshold_ntk():
    # m d >= n parameters: exact interpolation generically, so tiny eps needs about ceil(n / d) neurons
    v = ntk_cell({"features": "ntk", "n": 80, "d": 5, "eps": [1e-6]}, seed=1)["values"]
    assert v["ceil_n_over_d"] - 1 <= v["m_star"][0] <= v["ceil_n_over_d"] + 1


def _rows(model, ns=(100, 200, 400), ds=(4, 8, 16), eps=(0.3, 0.1, 0.03), seeds=3, noise=0.0):
    rng = np.random.default_rng(0)
    return [FitRow(n, d, e, max(1, round(model(n, d, e) * (1 + noise * rng.standard_normal()))), (n, d), r)
            for n in ns for d in ds for e in eps for r in range(seeds)]


def test_rule_accepts_n_over_d_and_rejects_other_scalings():
    good = fit_scaling(_rows(lambda n, d, e: n / d * np.log(1 / e), noise=0.02))
    assert good.verdict == "SUPPORTED" and abs(good.a_n.estimate - 1) < 0.05 and abs(good.beta.estimate - 1) < 0.1
    assert good.a_n.low <= good.a_n.estimate <= good.a_n.high
    no_d = fit_scaling(_rows(lambda n, d, e: n * np.log(1 / e), noise=0.02))
    assert no_d.verdict == "NOT SUPPORTED" and "a_d" in no_d.reason
    fast_eps = fit_scaling(_rows(lambda n, d, e: n / d * np.log(1 / e) ** 3, noise=0.02))
    assert fast_eps.verdict == "NOT SUPPORTED" and "beta" in fast_eps.reason
    quad = fit_scaling(_rows(lambda n, d, e: (n / d) ** 1.5, noise=0.02))
    assert quad.verdict == "NOT SUPPORTED" and "a_n" in quad.reason
    assert fit_scaling(_rows(lambda n, d, e: n / d, ds=(4,))).verdict == "INCONCLUSIVE"
    assert fit_scaling(_rows(lambda n, d, e: n / d, seeds=1)).verdict == "INCONCLUSIVE"
    unreached = fit_scaling(_rows(lambda n, d, e: n / d * np.log(1 / e)), unreached=[(400, 4, 0.03)])
    assert unreached.verdict == "NOT SUPPORTED" and "not reached" in unreached.reason


def test_bad_params():
    for bad in ({"n": 10, "d": 2}, {"n": 1, "d": 2, "eps": [0.1]}, {"n": 10, "d": 2, "eps": [1.0]},
                {"n": 10, "d": 2, "eps": [0.1], "features": "cnn"}, {"n": 10, "d": 1, "eps": [0.1]},
                {"n": 10, "d": 2, "eps": "0.1"}):
        with pytest.raises(InputError):
            ntk_cell(bad, seed=0)


def test_cli_run_store_report_reproduce(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["claims", "run", "ntk-memorization", "--n", "40,80", "--d", "4,8", "--eps", "0.3,0.05",
                 "--seeds", "2", "--store", "st", "--workers", "0", "--quiet", "--out", "o", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cells"] == 16 and {f["name"] for f in out["findings"]} == {
        "ntk-memorization ntk (claim)", "ntk-memorization rf (control)"}
    assert all(f["verdict"] in ("SUPPORTED", "NOT SUPPORTED", "INCONCLUSIVE") for f in out["findings"])
    assert main(["reproduce", "o/latest/report.json", "--store", "st"]) == 0
    assert "MATCH" in capsys.readouterr().out


@pytest.mark.parametrize("argv,name", [
    (["--eps", "1.5"], "eps"), (["--eps", "x"], "eps"), (["--features", "cnn"], "features"),
    (["--d", "1"], "d"), (["--n", "1"], "n"), (["--activation", "tanh"], "activation"),
])
def test_bad_cli_input(argv, name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["claims", "run", "ntk-memorization", *argv, "--store", "st"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"argument {name}" in err

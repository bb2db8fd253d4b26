"""Condensation (issue 13, B): multiplicity, predictions, training engine, orientation counts."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from theory.activations import T
from theory.condensation import multiplicity, one_d_polynomial, one_d_roots, p1_direction
from theory.errors import InputError
from theory.smooth_activations import SMOOTH, get_smooth_activation
from numerics.condensation_check import condensation_cell
from numerics.orientations import count_orientations, line_angle_degrees
from numerics.training import init_params, loss_and_grad, taylor_slopes, train


@pytest.mark.parametrize("name,p", [("tanh", 1), ("xtanh", 2), ("x2tanh", 3), ("sigmoid", 1), ("softplus", 1),
                                    ("x^2*tanh(x)", 3), ("leaky_relu(1)", 1), ("pw(t<-1: -1; t<1: t; else: 1)", 1),
                                    ("pw(else: t^3 - 3*t)", 1), ("pw(else: t^3)", 3)])
def test_multiplicity(name, p):
    assert multiplicity(name).p == p


@pytest.mark.parametrize("name", ["relu", "abs", "relu^2", "step", "leaky_relu(0.1)"])
def test_multiplicity_undefined_for_kinks(name):
    m = multiplicity(name)
    assert m.p is None and m.reason


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_numpy_activation_matches_sympy(name):
    act = get_smooth_activation(name)
    t = np.linspace(-3, 3, 13)
    f = sp.lambdify(T, act.expr, "numpy")
    df = sp.lambdify(T, sp.diff(act.expr, T), "numpy")
    assert np.allclose(act.value(t), f(t), rtol=1e-13, atol=1e-13)
    assert np.allclose(act.derivative(t), df(t), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_gradient_taylor_slope_two(name):
    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, (30, 4))
    y = np.sin(X).sum(1)
    slopes = taylor_slopes(init_params(rng, 4, 7, 0.7), X, y, get_smooth_activation(name), rng)
    assert all(1.8 < s < 2.2 for s in slopes), slopes


def test_training_reduces_loss_and_is_reproducible():
    act = get_smooth_activation("tanh")
    def go():
        rng = np.random.default_rng(5)
        X = rng.uniform(-1, 1, (40, 2)); y = np.sin(3 * X).sum(1)
        return train(init_params(rng, 2, 10, 0.5), X, y, act, steps=200, lr=1e-2, record=4)
    a, b = go(), go()
    assert a.losses[-1] < a.losses[0] and a.steps == (0, 50, 100, 150, 200)
    assert all(np.array_equal(p.W, q.W) for p, q in zip(a.params, b.params))


def test_predictions():
    rng = np.random.default_rng(0)
    X = rng.uniform(-4, 2, (20, 3)); r = rng.standard_normal(20)
    D = p1_direction(X, r)
    assert np.allclose(D * np.linalg.norm(np.hstack([X, np.ones((20, 1))]).T @ r), np.hstack([X, np.ones((20, 1))]).T @ r)
    x = rng.uniform(-4, 2, 15)
    for p in (1, 2, 3):
        coeffs = one_d_polynomial(x, r[:15], p)
        assert len(coeffs) == p + 1
        for s in one_d_roots(x, r[:15], p):  # each root makes F(u) parallel to u = (s, 1)
            u = np.array([s, 1.0])
            F = sum(rk * (u @ [xk, 1.0]) ** (p - 1) * np.array([xk, 1.0]) for xk, rk in zip(x, r[:15]))
            assert abs(F[0] * u[1] - F[1] * u[0]) <= 1e-8 * np.linalg.norm(F) * np.linalg.norm(u)
    assert one_d_roots(np.array([1.0, 2.0]), np.array([1.0, 1.0]), 1) == pytest.approx([1.5])


def test_orientation_counts():
    rng = np.random.default_rng(1)
    dirs = np.linalg.qr(rng.standard_normal((5, 5)))[0][:, :3].T
    V = np.vstack([np.sign(rng.standard_normal()) * dirs[i % 3] * (1 + rng.random()) for i in range(30)])
    V += 1e-5 * rng.standard_normal(V.shape)
    c = count_orientations(V)
    assert c.lines == 3 and 3 <= c.orientations <= 6 and c.line_stability > 0.5
    assert min(line_angle_degrees(c.line_directions[0], d) for d in dirs) < 0.1
    random = count_orientations(rng.standard_normal((50, 6)))
    assert random.lines > 10


def test_condensation_cell_tanh_1d_matches_prediction():
    r = condensation_cell({"activation": "tanh", "d": 1, "init_scale": 0.005, "optimizer": "adam", "steps": 1000,
                           "lr": 1e-4, "replicate": 0}, seed=11)
    v = r["values"]
    assert v["p"] == 1 and v["bound_orientations"] == 2
    assert len(v["lines_along_run"]) == 11 and v["predicted_lines"] == 1
    assert r["verdict"] == ("within-bound" if v["orientations"] <= 2 and v["lines"] <= 1 else "exceeds-bound")
    assert 0 <= v["angle_largest_line_deg"] <= 90


def test_bad_params():
    with pytest.raises(InputError):
        condensation_cell({"activation": "relu", "d": 1, "init_scale": 0.1}, seed=0)
    with pytest.raises(InputError):
        condensation_cell({"activation": "tanh", "d": 1, "init_scale": float("nan")}, seed=0)


def test_preactivation_checkpoint_is_the_first_crossing():
    act = get_smooth_activation("tanh")
    rng = np.random.default_rng(2)
    X = rng.uniform(-4, 2, (40, 2)); y = 3.0 * X.sum(1)  # a linear target: the weights keep growing
    p0 = init_params(rng, 2, 10, 0.05)
    run = train(p0, X, y, act, steps=3000, lr=0.05, optimizer="gd", record=4, stop_preactivation=1.0)
    t = run.steps[-1]
    assert 1 <= t < 3000
    pre = lambda q: float(np.abs(X @ q.W.T + q.b).max())  # noqa: E731
    assert pre(run.params[-1]) >= 1.0
    before = train(p0, X, y, act, steps=t - 1, lr=0.05, optimizer="gd", record=1)
    assert pre(before.params[-1]) < 1.0  # the step before the recorded one had not crossed yet


def test_condensation_cell_preactivation_counts_large_neurons():
    r = condensation_cell({"activation": "tanh", "d": 1, "init_scale": 0.005, "optimizer": "gd", "steps": 300,
                           "lr": 0.05, "checkpoint": "preactivation"}, seed=3)
    v = r["values"]
    assert v["checkpoint"] == "preactivation" and v["checkpoint_step"] <= 300
    assert 1 <= v["large_neurons"] <= 50 and v["orientations_large"] <= v["large_neurons"]
    assert v["verdict_large"] == ("within-bound" if v["orientations_large"] <= 2 and v["lines_large"] <= 1
                                  else "exceeds-bound")
    with pytest.raises(InputError):
        condensation_cell({"activation": "tanh", "d": 1, "init_scale": 0.1, "checkpoint": "late"}, seed=0)

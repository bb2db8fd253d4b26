"""Regime summaries, the symbolic objective and their gradients (Taylor-remainder slope tests)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from theory.errors import InputError
from theory.objective import ltilde, ltilde_gradients
from theory.regimes import rademacher_b_exact, regime_summary
from theory.symbolic_objective import symbolic_objective

HS = np.array([1e-2, 5e-3, 2.5e-3, 1.25e-3])


def taylor_slopes(f, x, grad, direction):
    """Slopes of log |f(x + h u) - f(x) - h <grad, u>| against log h; 2 for a correct gradient."""
    f0 = f(x)
    errs = np.array([abs(f(x + h * direction) - f0 - h * np.sum(grad * direction)) for h in HS])
    return np.diff(np.log(errs)) / np.diff(np.log(HS))


@lru_cache(maxsize=None)
def summaries(d=4):
    return [
        regime_summary("I", "relu", d),
        regime_summary("II", "abs", d, abar=1.0, tilt=(0.4, -0.1, 0.2, 0.0)[:d]),
        regime_summary("III", "relu", d, law="rademacher"),
        regime_summary("III", "relu^3", d, law="uniform"),
    ]


@pytest.mark.parametrize("idx", range(4))
def test_ltilde_gradients_taylor(idx, rng):
    s = summaries()[idx]
    beta = rng.standard_normal(3)
    V = rng.standard_normal((3, 4))
    gb, gV = ltilde_gradients(beta, V, s)
    db, dV = rng.standard_normal(3), rng.standard_normal((3, 4))
    slopes_b = taylor_slopes(lambda x: float(ltilde(x, V, s)), beta, gb, db)
    slopes_v = taylor_slopes(lambda x: float(ltilde(beta, x, s)), V, gV, dV)
    assert np.all(slopes_b > 1.9) and np.all(slopes_v > 1.8)  # second-order remainder; a wrong gradient gives ~1


def test_anisotropic_b_grad_taylor(rng):
    s = regime_summary("III", "abs", 5, law="rademacher")
    u = rng.standard_normal((1, 5))
    g = s.b_grad(u)
    slopes = taylor_slopes(lambda x: float(s.b(x)[0]), u, g, rng.standard_normal((1, 5)))
    assert np.all(slopes > 1.9)


@pytest.mark.parametrize("act", ["relu", "abs", "relu^3"])
def test_regime_three_against_rademacher_enumeration(act):
    """b(e_1) - b(diag) from the 1/d^2 formula vs exact enumeration over {+-1}^d: the gap shrinks like d^-3."""
    gaps = []
    for d in (6, 12):
        s = regime_summary("III", act, d, law="rademacher")
        e1, diag = np.eye(d)[0], np.ones(d) / np.sqrt(d)
        exact = rademacher_b_exact(act, e1) - rademacher_b_exact(act, diag)
        approx = float(s.b(e1[None])[0] - s.b(diag[None])[0])
        assert np.sign(exact) == np.sign(approx) and approx != 0
        gaps.append(abs(exact - approx))
    # d doubles: an O(d^-3) remainder shrinks by ~8; allow 5 (pre-asymptotic), while O(d^-2) would give only 4
    assert gaps[1] < gaps[0] / 5


def test_regime_three_sphere_average_is_isotropic_value(rng):
    """The anisotropic correction averages to 0 over the sphere: mean b over random v^ equals abar c_d."""
    s = regime_summary("III", "relu", 7, law="rademacher")
    g = rng.standard_normal((100_000, 7))
    vals = s.b(g / np.linalg.norm(g, axis=1, keepdims=True))
    se = vals.std(ddof=1) / np.sqrt(vals.size)
    assert abs(vals.mean() - s.abar * float(s.sphere_avg)) < 4 * se + 1e-15


def test_regime_one_uses_law_abar():
    s = regime_summary("I", "relu", 3, law="gaussian")
    assert abs(s.abar - 2 * np.sqrt(6) / (3 * np.sqrt(np.pi))) < 1e-15  # E||w||, w ~ N(0, I/3)
    assert regime_summary("I", "relu", 3, abar=2.0).abar == 2.0


@pytest.mark.parametrize("idx", range(3))
def test_symbolic_objective_matches_numpy_and_taylor(idx, rng):
    s = summaries(3)[idx]
    obj = symbolic_objective(s, 2)
    beta, V = rng.standard_normal((4, 2)), rng.standard_normal((4, 2, 3))
    assert np.allclose(obj.numpy(beta, V), ltilde(beta, V, s), rtol=0, atol=1e-13)  # float64 rounding
    gb, gV = obj.numpy_gradient(beta, V)
    gb2, gV2 = ltilde_gradients(beta, V, s)
    assert np.allclose(gb, gb2, atol=1e-12) and np.allclose(gV, gV2, atol=1e-12)
    dV = rng.standard_normal((2, 3))
    slopes = taylor_slopes(lambda x: float(obj.numpy(beta[0], x)), V[0], gV[0], dV)
    assert np.all(slopes > 1.8)
    assert abs(float(obj.mp(beta[0], V[0], 30)) - float(obj.numpy(beta[0], V[0]))) < 1e-13


def test_regime_errors():
    with pytest.raises(InputError) as err:
        regime_summary("II", "relu", 3)
    assert err.value.argument == "tilt"
    with pytest.raises(InputError) as err:
        regime_summary("I", "pw(t<-1: -1; t<1: t; else: 1)", 3)
    assert err.value.argument == "activation"
    with pytest.raises(InputError):
        regime_summary("I", "relu", 0)


@pytest.mark.parametrize("d", [2, 4])
def test_summary_c_d_holds_the_digits_asked_for(d):
    """regime_summary keeps c_d to 40 digits; constant_mp / b_mp at more digits recompute it (they used to
    pad the 40-digit value: an error of 2.7e-43 at 80 digits for relu, d = 2)."""
    import mpmath

    from theory.activations import get_activation
    from theory.regimes import regime_summary, sphere_average_value

    s = regime_summary("I", "relu", d)
    ref = sphere_average_value(get_activation("relu"), d, 100)
    with mpmath.workdps(100):
        assert abs(s.b_mp([1.0] + [0.0] * (d - 1), 80) / mpmath.mpf(s.abar) - ref) < mpmath.mpf(10) ** -78 * ref
        assert abs(s.constant_mp(80) / mpmath.mpf(s.abar) ** 2 - ref) < mpmath.mpf(10) ** -78 * ref

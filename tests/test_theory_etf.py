"""Simplex ETF: exact Gram matrix, closed-form values against independent routes, the tilted family, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from conjecture.command_line import main
from test_theory_reference import relu_kernel_series
from theory.activations import get_activation
from theory.etf import simplex_etf_exact
from theory.etf_values import etf_values, tilted_frame, tilted_value
from theory.objective import ltilde, optimal_beta
from theory.regimes import regime_summary
from theory.sphere import sphere_average_mp


@pytest.mark.parametrize("M,d", [(2, 1), (3, 2), (4, 3), (5, 7), (7, 11)])
def test_simplex_gram_is_exact(M, d):
    V = simplex_etf_exact(M, d)
    G = (V * V.T).applyfunc(sp.radsimp)
    for j in range(M):
        assert sp.simplify(G[j, j] - 1) == 0
        for l in range(M):
            if j != l:
                assert sp.simplify(G[j, l] + sp.Rational(1, M - 1)) == 0


def test_model_values_m2_m3():
    assert etf_values("relu", 2, 3).ones_Kinv_ones_exact == 4
    v = etf_values("relu", 3, 3, dps=40)
    with mpmath.workdps(40):
        assert abs(v.ones_Kinv_ones - mpmath.mpf("4.926126323245372539")) < mpmath.mpf(10) ** -18  # MODEL.md gives 19 digits


def _independent_relu_etf(M, d, dps):
    """1^T K^-1 1 and Ltilde*/C from the MODEL.md Hermite series for kappa, an mpmath linear solve on the exact
    frame, and c_d by polar-angle quadrature (no closed form of the code under test)."""
    with mpmath.workdps(dps + 10):
        V = simplex_etf_exact(M, d)
        rows = [[mpmath.mpf(sp.N(x, dps + 20)) for x in V.row(j)] for j in range(M)]
        K = mpmath.matrix(M, M)
        for j in range(M):
            for l in range(M):
                rho = mpmath.fsum(a * b for a, b in zip(rows[j], rows[l]))
                K[j, l] = mpmath.mpf(1) / 2 if j == l else relu_kernel_series(rho, dps + 10, terms=int(3.5 * dps) + 40)
        x = mpmath.lu_solve(K, mpmath.matrix([1] * M))
        ones = mpmath.fsum(x)
        c = sphere_average_mp(get_activation("relu"), d, dps + 10)
        return ones, 1 - c * ones


@pytest.mark.parametrize("M,d,dps", [(3, 3, 30), (7, 11, 40), (5, 4, 50)])
def test_etf_values_against_independent_route(M, d, dps):
    v = etf_values("relu", M, d, dps=dps)
    ones, rel = _independent_relu_etf(M, d, dps)
    tol = mpmath.mpf(10) ** -(dps - 5)  # both routes carry >= dps digits; 5 guard digits
    assert abs(v.ones_Kinv_ones - ones) < tol and abs(v.relative_loss - rel) < tol


def test_etf_values_agree_with_numpy_objective():
    """beta* and Ltilde* at the ETF vs theory.objective's numerical optimal beta (float64)."""
    for name in ["relu", "abs", "step", "relu^2", "relu^3", "leaky_relu(1/10)"]:
        v = etf_values(name, 4, 5, dps=20)
        s = regime_summary("I", name, 5)
        from theory.etf import simplex_etf

        V = simplex_etf(4, 5)
        beta = optimal_beta(V, s)
        assert np.allclose(beta, float(v.beta_star[0]), rtol=1e-10)
        assert abs(float(ltilde(beta, V, s)) - float(v.ltilde_star)) < 1e-12


def test_tilted_family_value_matches_objective():
    """Ltilde* along the equal-tilt family vs Ltilde at the built frame with numerically optimal beta (regime II)."""
    M, d, m = 3, 5, 0.7
    tilt = (m,) + (0.0,) * (d - 1)
    s = regime_summary("II", "relu", d, abar=1.0, tilt=tilt)
    for t in (0.3, 1.0, np.pi / 2):
        V = tilted_frame(M, d, t)
        direct = float(ltilde(optimal_beta(V, s), V, s))
        assert abs(direct - float(tilted_value("relu", M, 1.0, m, t, dps=20).value)) < 1e-12


# --- the derive command ---------------------------------------------------------------------------------------


def test_derive_relu_d11_m7_json(capsys):
    assert main(["derive", "--activation", "relu", "--d", "11", "--M", "7", "--dps", "40", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    entries = {e["name"]: e for e in out["entries"]}
    c = entries["c_d at d"]
    frac = Fraction(c["exact"])
    assert frac == Fraction(43659, 262144) and (frac.denominator & (frac.denominator - 1)) == 0  # dyadic
    assert Fraction(c["value"]) == frac  # terminating decimal printed in full
    ones, rel = _independent_relu_etf(7, 11, 40)
    with mpmath.workdps(40):
        assert abs(mpmath.mpf(entries["1^T K^-1 1"]["value"]) - ones) < mpmath.mpf(10) ** -30
        assert abs(mpmath.mpf(entries["Ltilde*/C_target"]["value"]) - rel) < mpmath.mpf(10) ** -30
        assert len(entries["1^T K^-1 1"]["value"].replace(".", "").lstrip("0")) >= 40


def test_derive_default_and_latex(capsys):
    assert main(["derive"]) == 0
    text = capsys.readouterr().out
    assert "3/16" in text and "4.926126323245372539" in text
    assert main(["derive", "--latex", "--activation", "abs"]) == 0
    assert "\\begin{align*}" in capsys.readouterr().out


@pytest.mark.parametrize("args,arg_name", [
    (["--M", "0"], "M"),
    (["--d", "-3"], "d"),
    (["--activation", "swish"], "activation"),
    (["--d", "2", "--M", "4"], "M"),
    (["--activation", "__import__('os')"], "activation"),
    (["--activation", "pw(else: __import__('os'))"], "activation"),
    (["--law", "cauchy"], "law"),
    (["--dps", "3"], "dps"),
])
def test_derive_bad_input_one_line_exit_2(args, arg_name, capsys):
    assert main(["derive", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"argument {arg_name}" in err and "Traceback" not in err


def test_derive_bad_input_subprocess():
    proc = subprocess.run([sys.executable, "-m", "conjecture.command_line", "derive", "--M", "0"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "argument M" in proc.stderr

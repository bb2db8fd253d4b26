"""``twolayer derive``: flags, one normalisation (abar = 1, as ``twolayer conjecture``), strict JSON, references,
guard digits of the dual kernel near rho = -1, and LaTeX that compiles without overfull lines."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import mpmath
import pytest

from tests.cli_checks import run_twolayer
from theory.activations import get_activation
from theory.etf_values import best_tilt, tilted_value
from theory.kernels import dual_kernel

REPO = Path(__file__).resolve().parent.parent


def _strict(text: str):
    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def _run(argv, capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``twolayer derive ARGV``."""
    return run_twolayer(["derive", *argv], capsys)


def _json(argv, capsys) -> dict:
    code, out, err = _run([*argv, "--json"], capsys)
    assert code == 0, err
    return _strict(out)


def _entries(doc: dict) -> dict:
    return {e["name"]: e for e in doc["entries"]}


# ---- flags ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv,new", [(["--dim", "3"], "--d"), (["--neurons", "3"], "--M"),
                                      (["--tilt", "0.5"], "--tilt-norm")])
def test_old_flags_are_refused(argv, new, capsys):
    code, out, err = _run(argv, capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and new in err and "Traceback" not in err


@pytest.mark.parametrize("argv,argument", [(["--d", "1..4"], "d"), (["--d", "1-4"], "d"), (["--d", "2,3"], "d"),
                                           (["--M", "2-3"], "M")])
def test_a_range_is_refused(argv, argument, capsys):
    code, _, err = _run(argv, capsys)
    assert code == 2 and f"argument {argument}: this command takes a single value" in err


@pytest.mark.parametrize("argv", [
    ["--d", "3", "--M", "4", "--tilt-norm", "0.5"],      # M > d: no tilted family
    ["--d", "5", "--M", "1", "--tilt-norm", "0.5"],      # M < 2
    ["--activation", "pw(t<-1: -1; t<1: t; else: 1)", "--tilt-norm", "0.5"],  # not positively homogeneous
    ["--tilt-norm", "nan"], ["--tilt-norm", "-1"], ["--tilt-norm", "inf"], ["--tilt-norm", "x"],
])
def test_tilt_norm_refused_where_it_does_not_apply(argv, capsys):
    code, out, err = _run(argv, capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "argument tilt-norm" in err


def test_json_and_latex_exclusive_and_bounds(capsys):
    assert _run(["--json", "--latex"], capsys)[0] == 2
    code, _, err = _run(["--d", "10001"], capsys)
    assert code == 2 and "argument d" in err
    code, _, err = _run(["--d", "3", "--M", "5"], capsys)
    assert code == 2 and "argument M" in err and "M <= d + 1" in err


def test_tilt_norm_is_m_over_abar(capsys):
    """Regime II at abar = 1 with ||m|| = tilt-norm; Ltilde is quadratic in (abar, m), so the law's own abar
    gives abar^2 times the same value."""
    doc = _json(["--d", "5", "--M", "3", "--tilt-norm", "0.7"], capsys)
    e = _entries(doc)
    assert doc["tilt_norm"] == 0.7 and float(e["||m||/abar"]["value"]) == 0.7
    assert e["Ltilde*(t)"]["normalisation"] == "abar = 1"
    with mpmath.workdps(40):
        t, value = mpmath.mpf(e["best tilt angle t"]["value"]), mpmath.mpf(e["Ltilde*(t)"]["value"])
        # the value at the printed angle (t is a minimiser, so its 17 printed digits fix the value to ~30)
        assert abs(tilted_value("relu", 3, 1, 0.7, t, dps=30).value - value) < mpmath.mpf(10) ** -25 * value
        abar = mpmath.mpf(doc["law_abar"])
        scaled = best_tilt("relu", 3, abar, abar * mpmath.mpf(0.7), dps=25)
        assert abs(scaled.value / abar**2 - value) < mpmath.mpf(10) ** -20 * value
        assert abs(scaled.angle - t) < mpmath.mpf(10) ** -10
    default = _entries(_json(["--d", "5", "--M", "3"], capsys))
    assert float(default["||m||/abar"]["value"]) == 0.5 and "default" in default["||m||/abar"]["source"]


# ---- JSON, pipes, large d -------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [[], ["--d", "1", "--M", "2"], ["--activation", "pw(t<-1: -1; t<1: t; else: 1)"],
                                  ["--activation", "relu^3", "--law", "moments(m4=5,m6=40)", "--d", "6", "--M", "5"]])
def test_json_is_strict_and_complete(argv, capsys):
    doc = _json(argv, capsys)
    assert doc["command"] == "derive" and doc["entries"]
    for e in doc["entries"]:
        assert set(e) >= {"section", "name", "exact", "value", "normalisation", "source", "note"}
        assert e["value"] is None or re.fullmatch(r"-?\d+(\.\d*)?(e[+-]?\d+)?", e["value"]), e
        assert "MODEL.md" not in e["source"]


def test_json_piped_into_head_exits_cleanly(tmp_path):
    cmd = f"{shlex.quote(sys.executable)} -m conjecture.command_line derive --json | head -1"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "{\n" and "Traceback" not in proc.stderr and "Error" not in proc.stderr


def test_large_d_is_quick_and_omits_thousand_digit_exact_forms(capsys):
    t0 = time.perf_counter()
    code, out, err = _run(["--d", "10000", "--M", "3"], capsys)
    assert code == 0, err
    assert time.perf_counter() - t0 < 60
    assert max(len(line) for line in out.splitlines()) < 1000
    line = next(x for x in out.splitlines() if x.startswith("  c_d at d:"))
    n = int(re.search(r"exact form has (\d+) digits, omitted", line).group(1))
    assert n > 200
    with mpmath.workdps(50):  # ReLU: c_d = d Gamma(d/2)^2 / (4 pi Gamma((d+1)/2)^2)
        d = mpmath.mpf(10000)
        c = d * mpmath.gamma(d / 2) ** 2 / (4 * mpmath.pi * mpmath.gamma((d + 1) / 2) ** 2)
        printed = mpmath.mpf(re.search(r"= (\S+)", line).group(1))
        assert abs(printed - c) < mpmath.mpf(10) ** -29 * c


# ---- one normalisation ----------------------------------------------------------------------------------------


def _leaky_kappa(rho):
    """kappa of sigma(t) = relu(t) - 0.2 relu(-t), written out here: 1.04 k1(rho) - 0.4 k1(-rho), with the
    arc-cosine kernel k1(rho) = (sqrt(1 - rho^2) + rho (pi - acos rho)) / (2 pi)."""
    k1 = lambda r: (mpmath.sqrt(1 - r * r) + r * (mpmath.pi - mpmath.acos(r))) / (2 * mpmath.pi)  # noqa: E731
    return mpmath.mpf("1.04") * k1(rho) - mpmath.mpf("0.4") * k1(-rho)


def test_f_etf_agrees_with_an_independent_computation(capsys):
    """F_ETF (abar = 1) for leaky_relu(0.2), d = 3, M = 4, at --dps 40, against C - b^T K^-1 b computed here:
    c_3 = (1/2) int_{-1}^{1} kappa(t) dt (t = <w^, e_1> is uniform on [-1, 1] on S^2), K = kappa(Gram) of the
    regular tetrahedron, b = c_3 1, by an mpmath linear solve. This is what twolayer conjecture prints as F_ETF."""
    doc = _json(["--activation", "leaky_relu(0.2)", "--d", "3", "--M", "4", "--dps", "40"], capsys)
    e = _entries(doc)
    f = e["F_ETF"]
    assert f["section"] == "etf" and f["normalisation"] == "abar = 1" and f["digits"] == 40
    with mpmath.workdps(60):
        c = mpmath.quad(_leaky_kappa, [-1, 0, 1]) / 2
        rows = [[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
        unit = [[mpmath.mpf(x) / mpmath.sqrt(3) for x in r] for r in rows]
        K = mpmath.matrix(4, 4)
        for i in range(4):
            for j in range(4):  # kappa(1) exactly on the diagonal (a rounded 1 - 1e-60 would cost 30 digits)
                gram = mpmath.mpf(1) if i == j else mpmath.fsum(a * b for a, b in zip(unit[i], unit[j]))
                K[i, j] = _leaky_kappa(gram)
        b = mpmath.matrix([c] * 4)
        beta = mpmath.lu_solve(K, b)
        f_indep = c - mpmath.fsum(b[i] * beta[i] for i in range(4))
        ones = mpmath.fsum(mpmath.lu_solve(K, mpmath.matrix([1] * 4)))
        f_printed = mpmath.mpf(f["value"])
        assert abs(f_printed - f_indep) <= mpmath.mpf(10) ** -25 * abs(f_indep), (f["value"], f_indep)
        assert abs(f_printed - f_indep) <= mpmath.mpf(10) ** -38 * abs(f_indep)  # all 40 digits in fact
        assert abs(mpmath.mpf(e["C_target"]["value"]) - c) <= mpmath.mpf(10) ** -39 * c
        assert abs(mpmath.mpf(e["1^T K^-1 1"]["value"]) - ones) <= mpmath.mpf(10) ** -38 * ones
        # the law's own abar (gaussian entries, relu-type: E||w|| = 0.9213...) multiplies the loss by abar^2
        law = e["Ltilde* at the law's abar"]
        abar = mpmath.mpf(doc["law_abar"])
        assert law["normalisation"].startswith("law scale: abar = E[a||w||] = 0.9213177319")
        assert abs(mpmath.mpf(law["value"]) - abar**2 * f_indep) <= mpmath.mpf(10) ** -37 * f_indep
    assert f["value"].startswith("0.000675358706043181")  # twolayer conjecture's F_ETF for this cell


def test_every_entry_says_its_normalisation(capsys):
    doc = _json(["--d", "5", "--M", "4"], capsys)
    e = _entries(doc)
    for name in ("beta*_j", "C_target", "F_ETF", "Ltilde*(t)"):
        assert e[name]["normalisation"] == "abar = 1", name
    for name in ("mu_0", "kappa(1) = E sigma^2", "c_d at d", "1^T K^-1 1", "Ltilde*/C_target", "Ltilde*(t)/C"):
        assert e[name]["normalisation"] == "", name
    for name in ("Ltilde* at the law's abar", "bias coefficient", "variance 1/N coefficient", "abar = E[a||w||^n]"):
        assert e[name]["normalisation"].startswith("law scale: abar = ") and "(gaussian)" in e[name]["normalisation"]
    assert e["C_target"]["exact"] == e["c_d at d"]["exact"]  # C = c_d at abar = 1, as twolayer conjecture
    code, out, _ = _run(["--d", "5", "--M", "4"], capsys)
    assert code == 0
    f_line = next(x for x in out.splitlines() if x.startswith("  F_ETF:"))
    assert "[abar = 1]" in f_line
    law_line = next(x for x in out.splitlines() if x.startswith("  Ltilde* at the law's abar:"))
    assert "[law scale: abar = E[a||w||] = " in law_line


def test_references_name_real_headings(capsys):
    """Sources cite docs/model.md and docs/derivations.md by a heading that exists (no 'MODEL.md section N')."""
    cited = set()
    for argv in ([], ["--activation", "pw(t<-1: -1; t<1: t; else: 1)"], ["--law", "rademacher", "--d", "4"]):
        for e in _json(argv, capsys)["entries"]:
            text = e["source"] + " " + e["note"]
            assert "MODEL.md" not in text
            assert not re.search(r"docs/\w+\.md(?! §\d+ ')", text), text  # every citation names its section
            cited.update(re.findall(r"docs/(\w+)\.md §(\d+) '([^']+)'", text))
    assert ("model", "5", "The ETF question") in cited and ("model", "3", "Dual kernel") in cited
    for doc, number, title in cited:
        headings = [line.lstrip("#").strip() for line in (REPO / "docs" / f"{doc}.md").read_text().splitlines()
                    if line.startswith("## ")]
        assert any(h.startswith(f"{number}. {title}") for h in headings), (doc, number, title, headings)
    for name in ("cli.py", "derivation.py", "kernels.py", "etf_values.py"):
        assert "MODEL.md" not in (REPO / "theory" / name).read_text(), name


# ---- guard digits ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "relu^2", "relu^3", "step"])
def test_kernel_keeps_its_digits_near_minus_one(name):
    """kappa(rho, 40) agrees with kappa(rho, 120) to 10^-38 relative near rho = -1, where the closed form's
    terms cancel. Relative is the right measure: the values there are tiny but not zero (relu^3 at
    rho = -1 + 1e-12 is 6e-43), so an absolute test at 10^-38 would pass with every digit wrong. At rho = -1
    exactly every term vanishes and the value is exactly 0 (checked exactly)."""
    kern = dual_kernel(get_activation(name))
    with mpmath.workdps(150):
        rhos = [mpmath.mpf("-0.999999"), -1 + mpmath.mpf(10) ** -12]
    for rho in rhos:
        for f in (kern.mp, kern.mp_prime):
            low, high = f(rho, 40), f(rho, 120)
            assert high != 0
            with mpmath.workdps(130):
                assert abs(low - high) <= mpmath.mpf(10) ** -38 * abs(high), (name, f.__name__, rho, low, high)
    assert kern.mp(-1, 40) == 0
    # what the guard repairs: the same closed form evaluated at exactly 40 digits (the code before the guard)
    # keeps fewer than 40 - 10 n of them at 1 + rho = 1e-12 (relu: 18, relu^2: 6, relu^3: none); the step
    # (n = 0) loses only about 6 there
    n = get_activation(name).degree
    if n >= 1:
        with mpmath.workdps(40):
            raw = +kern._mp(+rhos[1])
        with mpmath.workdps(130):
            exact = kern.mp(rhos[1], 120)
            assert abs(raw - exact) / abs(exact) > mpmath.mpf(10) ** -(40 - 10 * n)


# ---- LaTeX ----------------------------------------------------------------------------------------------------

LATEX_RUNS = [
    [],
    ["--activation", "abs", "--law", "rademacher", "--d", "8", "--M", "5", "--dps", "60"],
    ["--d", "11", "--M", "7", "--dps", "40"],
    ["--activation", "pw(t<-1: -1; t<1: t; else: 1)"],
    ["--activation", "leaky_relu(0.2)", "--d", "3", "--M", "4"],
    ["--dps", "100"],                 # long decimals
    ["--d", "150", "--M", "7"],       # exact forms with ~100-digit integers, wrapped over lines
]


def _pdflatex() -> str:
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdflatex is required in CI (apt-get install texlive-latex-base texlive-latex-recommended)")
        pytest.skip("pdflatex not installed")
    return exe


@pytest.mark.parametrize("argv", LATEX_RUNS, ids=lambda a: " ".join(a) or "default")
def test_latex_compiles_without_overfull_lines(argv, tmp_path, capsys):
    exe = _pdflatex()
    code, tex, err = _run([*argv, "--latex"], capsys)
    assert code == 0, err
    first = tex.splitlines()[0]
    assert first.startswith("%") and "amsmath" in first and "amssymb" in first
    assert r"\documentclass{article}" in tex and r"\end{document}" in tex and r"\allowdisplaybreaks" in tex
    typeset = "\n".join(re.split(r"(?<!\\)%", line)[0] for line in tex.splitlines())  # comments removed
    aligns = typeset.count(r"\begin{align*}")
    assert 1 <= aligns <= typeset.count(r"\subsection*")  # one environment per section, each with its heading
    assert r"\mu_{0}" in typeset and r"\text{mu" not in typeset and "E<w" not in typeset and "||" not in typeset
    if "pw(" not in " ".join(argv):
        for label in (r"F_{\mathrm{ETF}}", r"\mathbb{E}\langle \hat w, e_1\rangle^2",
                      r"\mathbf{1}^\top K^{-1}\mathbf{1}", r"\tilde L^*", r"(\bar a = 1)"):
            assert label in tex, label
    (tmp_path / "derive.tex").write_text(tex)
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "derive.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    log = (tmp_path / "derive.log").read_text(errors="replace")
    assert proc.returncode == 0, log[-2000:]
    assert "Overfull \\hbox" not in log, [line for line in log.splitlines() if "Overfull" in line]

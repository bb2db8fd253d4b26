"""``twolayer loss``: the toolkit's flag vocabulary, options that do not apply, strict JSON, the arb skip line,
the certified digits and outward-rounded endpoints, and losses that are never printed below zero."""

from __future__ import annotations

import json
import math
import time
from fractions import Fraction

import numpy as np
import pytest
from flint import ctx

from conjecture.command_line import main
from numerics.interval_loss import DEFAULT_PREC_BITS, MAX_TARGET_NEURONS, certified_loss_ball
from numerics.loss_job import MAX_JOB_BYTES, job_memory
from numerics.networks import NetworkPair, read_network_file, write_network_file
from numerics.population_loss import exact_population_loss

U = 2.0**-53


def _refuse(constant):
    raise ValueError(f"non-standard JSON constant {constant}")


def _strict(text: str):
    return json.loads(text, parse_constant=_refuse)


def _numbers(obj):
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return []
    if isinstance(obj, (int, float)):
        return [obj]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    return [x for v in obj for x in _numbers(v)]


def _run(capsys, *argv):
    capsys.readouterr()
    try:
        code = main(["loss", *argv])
    except SystemExit as exc:  # argparse's own errors (one line, status 2)
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _error(capsys, *argv) -> str:
    code, out, err = _run(capsys, *argv)
    assert code == 2, (argv, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


@pytest.fixture
def net_file(tmp_path, rng):
    pair = NetworkPair.from_arrays(rng.standard_normal(30), rng.standard_normal((30, 4)), rng.standard_normal(3),
                                   rng.standard_normal((3, 4)), "relu")
    return write_network_file(tmp_path / "net.npz", pair)


# -- strict JSON, every method ----------------------------------------------------------------------

@pytest.mark.parametrize("method", ["float64", "arb", "mc", "all"])
def test_strict_json_for_every_method(capsys, method):
    argv = ["--N", "50", "--d", "4", "--M", "3", "--method", method, "--json"]
    if method in ("mc", "all"):
        argv += ["--mc-samples", "20000"]
    code, out, _ = _run(capsys, *argv)
    assert code == 0
    doc = _strict(out)
    assert "NaN" not in out and "Infinity" not in out
    assert len(doc) == (3 if method == "all" else 1)
    numbers = _numbers(doc)
    assert numbers and all(math.isfinite(x) for x in numbers)
    for r in doc:
        assert all(math.isfinite(t) for t in r["terms"]) and len(r["terms"]) == 3
        assert r["text"] and not r["text"].startswith("-")
        if r["status"] == "STATISTICAL":  # the Monte Carlo estimates of the three terms and their errors
            assert len(r["term_errors"]) == 3 and all(e > 0 for e in r["term_errors"])
            scale = sum(abs(t) for t in r["terms"])
            assert abs(math.fsum(r["terms"]) - r["value"]) <= 8 * 20000 * U * scale


def test_mc_terms_estimate_the_closed_form_terms(capsys):
    code, out, _ = _run(capsys, "--N", "40", "--d", "4", "--method", "all", "--mc-samples", "40000", "--seed", "3",
                        "--json")
    assert code == 0
    f64, _, mc = _strict(out)
    for exact, est, se in zip(f64["terms"], mc["terms"], mc["term_errors"]):
        assert abs(est - exact) < 4 * se


# -- arb above its limit -----------------------------------------------------------------------------

def test_all_above_the_arb_limit_reports_the_skip(capsys):
    n = 5000
    assert n > MAX_TARGET_NEURONS
    why = f"N = {n} > {MAX_TARGET_NEURONS}, the limit of the certified enclosure"
    code, out, _ = _run(capsys, "--N", str(n), "--d", "4", "--method", "all", "--mc-samples", "2000")
    assert code == 0
    lines = out.splitlines()
    assert f"arb: skipped ({why})" in lines
    assert sum(line.startswith("float64: ") for line in lines) == 1 and sum(line.startswith("mc: ") for line in lines) == 1
    code, out, _ = _run(capsys, "--N", str(n), "--d", "4", "--method", "all", "--mc-samples", "2000", "--json")
    assert code == 0
    doc = _strict(out)
    assert {"method": "arb", "skipped": why} in doc
    assert [r.get("status") for r in doc] == ["ROUNDING_BOUND", None, "STATISTICAL"]


def test_arb_alone_above_the_limit_is_an_error_naming_N(capsys):
    err = _error(capsys, "--N", str(MAX_TARGET_NEURONS + 1), "--d", "4", "--method", "arb")
    assert "argument N" in err and str(MAX_TARGET_NEURONS) in err


# -- options that do not apply ------------------------------------------------------------------------

@pytest.mark.parametrize("option, value", [("--law", "gaussian"), ("--N", "30"), ("--M", "3"), ("--d", "4"),
                                           ("--student", "etf"), ("--beta", "0.3"), ("--activation", "abs"),
                                           ("--activation", "relu")])
def test_drawing_options_refused_with_weights(capsys, net_file, option, value):
    err = _error(capsys, "--weights", str(net_file), option, value)
    assert f"argument {option[2:]}" in err and f"{option} does not apply with --weights" in err


def test_several_drawing_options_are_all_named(capsys, net_file):
    err = _error(capsys, "--weights", str(net_file), "--N", "5", "--activation", "abs")
    assert "--N, --activation do not apply with --weights" in err


def test_mc_samples_without_mc_is_refused(capsys, net_file):
    for argv in (["--mc-samples", "500"], ["--method", "arb", "--N", "20", "--mc-samples", "500"],
                 ["--weights", str(net_file), "--mc-samples", "500"]):
        err = _error(capsys, *argv)
        assert "argument mc-samples" in err and "--method mc or all" in err
    code, out, _ = _run(capsys, "--weights", str(net_file), "--method", "mc", "--mc-samples", "500", "--seed", "4")
    assert code == 0 and "500 samples, seed 4" in out


def test_seed_with_weights_applies_only_to_monte_carlo(capsys, net_file):
    err = _error(capsys, "--weights", str(net_file), "--seed", "3")
    assert "argument seed" in err and "nothing is drawn or sampled" in err
    code, out, _ = _run(capsys, "--weights", str(net_file), "--method", "mc", "--mc-samples", "300", "--seed", "3",
                        "--json")
    assert code == 0 and _strict(out)[0]["seed"] == 3


def test_weights_file_activation_is_the_one_used(capsys, tmp_path, rng):
    pair = NetworkPair.from_arrays(rng.standard_normal(10), rng.standard_normal((10, 3)), rng.standard_normal(2),
                                   rng.standard_normal((2, 3)), "abs")
    path = write_network_file(tmp_path / "abs.json", pair)
    code, out, _ = _run(capsys, "--weights", str(path), "--json")
    assert code == 0
    r = _strict(out)[0]
    assert r["activation"] == "abs"
    assert r["value"] == exact_population_loss(pair.a, pair.W, pair.b, pair.V, "abs").value


# -- the vocabulary and bad values ---------------------------------------------------------------------

@pytest.mark.parametrize("old, new", [("--neurons", "--N"), ("--dim", "--d"), ("--student-neurons", "--M")])
def test_old_flags_are_refused(capsys, old, new):
    err = _error(capsys, old, "5")
    assert f"{old} was removed; use {new}" in err


@pytest.mark.parametrize("argv, argument", [
    (["--seed", "-1"], "seed"), (["--seed", "1.5"], "seed"), (["--seed", "x"], "seed"),
    (["--beta", "nan"], "beta"), (["--beta", "inf"], "beta"), (["--beta=-inf"], "beta"), (["--beta", "1e999"], "beta"),
    (["--N", "0"], "N"), (["--N", "10000001"], "N"), (["--N", "2-4"], "N"), (["--M", "100001"], "M"),
    (["--d", "0"], "d"), (["--mc-samples", "1", "--method", "mc"], "mc-samples"),
    (["--M", "8", "--d", "4"], "M"),  # the simplex ETF needs M <= d + 1
])
def test_bad_values_exit_2_naming_the_argument(capsys, argv, argument):
    assert f"argument {argument}:" in _error(capsys, *argv)


@pytest.mark.parametrize("argv, argument", [
    (["--N", "10000000", "--d", "100"], "N"),             # 10^9 target weights
    (["--N", "100", "--d", "3", "--M", "20000", "--student", "random"], "M"),  # a 20000 x 20000 student block
    (["--N", "1000000", "--M", "500", "--d", "600"], "N"),  # a 10^6 x 500 cross-kernel block
])
def test_jobs_above_the_memory_limit_are_refused_before_allocating(capsys, monkeypatch, argv, argument):
    import theory.job_budget

    monkeypatch.setattr(theory.job_budget, "machine_memory_bytes", lambda: 64 * 2**30)  # these fit, with --allow-large
    start = time.perf_counter()
    err = _error(capsys, *argv)
    assert time.perf_counter() - start < 5
    assert f"argument {argument}:" in err and f"default budget of {MAX_JOB_BYTES // 2**30} GiB" in err
    assert "--allow-large" in err


def test_memory_estimate_counts_the_blocks():
    parts = job_memory(1000, 3, 16, ("float64",), drawn=True)
    total = sum(p[0] for p in parts)
    assert 3 * 1000 * 16 * 8 < total < 200 * 2**20  # the default job: the weights plus ~80 MiB of tiles
    assert sum(p[0] for p in job_memory(2000, 3, 16, ("arb",), drawn=True)) > 48 * 2 * 2000**2


def test_help_shows_the_vocabulary_and_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["loss", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # help lines wrap at the terminal width
    for text in ("--N", "--M", "--d", "--json", "(default 1000)", "(default 3)", "(default 16)"):
        assert text in out
    for old in ("--neurons", "--dim", "--student-neurons"):
        assert old not in out


# -- the printed loss -----------------------------------------------------------------------------------

def test_text_lines_show_bound_and_standard_error(capsys):
    code, out, _ = _run(capsys, "--N", "50", "--d", "4", "--M", "3", "--method", "all", "--mc-samples", "20000")
    assert code == 0
    head, f64, ball, mc = out.splitlines()
    assert head.startswith("L_N of N=50, M=3, d=4, relu (drawn: target law gaussian, student etf, beta 0.3, seed 0)")
    assert f64.startswith("float64: L_N = ") and " +- " in f64 and f64.endswith("a-priori rounding bound")
    assert ball.startswith("arb: L_N in [") and " +/- " in ball
    assert mc.startswith("mc: L_N = ") and " +- " in mc and "one standard error, 20000 samples, seed 0" in mc


def _identical_pair_with_negative_float64(tmp_path) -> tuple[NetworkPair, object]:
    """Student = target exactly (b = a / N exactly: N a power of two), with a float64 value below 0."""
    for seed in range(60):
        rng = np.random.default_rng(seed)
        b, W = rng.standard_normal(8), rng.standard_normal((8, 3))
        pair = NetworkPair.from_arrays(8 * b, W, b, W, "relu")
        if exact_population_loss(pair.a, pair.W, pair.b, pair.V, "relu").value < 0:
            return pair, write_network_file(tmp_path / "same.json", pair)
    raise AssertionError("no seed gave a negative float64 value")


def test_no_negative_loss_printed_for_a_student_equal_to_the_target(capsys, tmp_path):
    pair, path = _identical_pair_with_negative_float64(tmp_path)
    raw = exact_population_loss(pair.a, pair.W, pair.b, pair.V, "relu")
    assert -raw.error_bound <= raw.value < 0
    code, out, _ = _run(capsys, "--weights", str(path), "--method", "all", "--mc-samples", "1000")
    assert code == 0
    _, f64, ball, mc = out.splitlines()
    assert f64 == f"float64: L_N = 0 (|rounding| < {raw.error_bound:.2g}) -- a-priori rounding bound"
    assert ball.startswith("arb: L_N in [0, ") and "lower end clamped at 0, since the loss is >= 0 by definition" in ball
    assert mc.startswith("mc: L_N = ") and not mc.startswith("mc: L_N = -")
    code, out, _ = _run(capsys, "--weights", str(path), "--method", "arb", "--json")
    r = _strict(out)[0]
    assert r["enclosure"][0] == "0" and Fraction(r["enclosure"][1]) > 0 and "clamped at 0" in r["note"]
    assert r["text"].startswith("[0, ")


def test_arb_prints_its_certified_digits_and_outward_endpoints(capsys, net_file):
    code, out, _ = _run(capsys, "--weights", str(net_file), "--method", "all", "--mc-samples", "1000", "--seed", "1",
                        "--json")
    assert code == 0
    f64, ball, _ = _strict(out)
    lower, upper = (Fraction(x) for x in ball["enclosure"])
    assert lower < upper  # a nonzero radius: the endpoints differ
    pair = read_network_file(net_file)
    t_self, t_cross, t_student = certified_loss_ball(pair)
    with ctx.workprec(DEFAULT_PREC_BITS):
        total = t_self + t_cross + t_student  # the sum the command forms, in the same order
        exact_mid, exact_rad = (Fraction(int(m)) * Fraction(2) ** int(e)
                                for m, e in (total.mid().man_exp(), total.rad().man_exp()))
    exact_lo, exact_hi = exact_mid - exact_rad, exact_mid + exact_rad
    assert lower <= exact_lo < exact_hi <= upper  # rounded outwards
    assert upper - lower <= 2 * (exact_hi - exact_lo)  # and only by a tenth of the width at each end
    # the float64 value lies within its rounding bound of every point of the enclosure
    v, b = Fraction(f64["value"]), Fraction(f64["error_bound"])
    assert v - b <= lower and upper <= v + b
    # the ball as arb prints it: as many digits as its radius allows (far more than float64's 17)
    mid_text, rad_text = ball["ball"].strip("[]").split(" +/- ")
    digits = len(mid_text.replace("0.", "", 1).lstrip("0").replace(".", ""))
    assert digits >= 30
    assert Fraction(mid_text) - Fraction(rad_text) <= exact_lo and exact_hi <= Fraction(mid_text) + Fraction(rad_text)
    code, text, _ = _run(capsys, "--weights", str(net_file), "--method", "arb")
    assert f"arb: L_N in {ball['ball']} -- certified enclosure, arb {DEFAULT_PREC_BITS} bits" in text

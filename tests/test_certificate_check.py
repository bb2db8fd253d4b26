"""conjecture.certificate.check: an independent re-verification of a conjecture report's PROVEN/REFUTED claims.

Two small reports are produced once (ReLU, M = 2..3, d = 1..2: PROVEN cells; step, M = 3, d = 2: REFUTED), then
checked as written (all confirmed) and after tampering with a copy (the tampered claim fails).
"""

from __future__ import annotations

import argparse
import doctest
import json
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from conjecture import certificate
from tests.import_scan import imported_modules
from conjecture.certificate import CertificateCheck, ClaimCheck, check
from theory.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PRODUCER_MODULES = {"conjecture.certify", "conjecture.interval", "conjecture.relax_lp", "conjecture.relax_qp",
                    "conjecture.relax_sdp", "conjecture.cells", "conjecture.cost", "conjecture.etf_reference",
                    "conjecture.verdict", "theory.kernels", "theory.etf_values", "theory.etf", "theory.sphere",
                    "theory.regimes", "theory.summaries", "theory.activations", "numerics.arb_linalg", "numerics.kappa",
                    "flint"}


def _produce(out: Path, *extra: str) -> Path:
    from conjecture.command_line import main

    code = main(["conjecture", *extra, "--starts", "4", "--polish-dps", "0", "--no-sdp", "--workers", "0", "--quiet",
                 "--out", str(out), "--store", str(out / "store")])
    assert code == 0
    return out / "latest" / "report.json"


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("certificate-reports")
    return {"relu": _produce(base / "relu", "--M", "2-3", "--d", "1-2"),
            "step": _produce(base / "step", "--activation", "step", "--M", "3", "--d", "2")}


def _entry(result: CertificateCheck, M: int, d: int, column: str) -> ClaimCheck:
    (e,) = [e for e in result.entries if (e.M, e.d, e.column) == (M, d, column)]
    return e


def _tampered(src: Path, dst: Path, M: int, d: int, edit) -> Path:
    doc = json.loads(src.read_text())
    (cell,) = [c for c in doc["cells"] if (c["result"]["params"]["M"], c["result"]["params"]["d"]) == (M, d)]
    edit(cell["result"])
    dst.write_text(json.dumps(doc))
    return dst


def test_reports_all_confirmed(reports):
    relu = check(reports["relu"])
    assert relu.all_confirmed and relu.failed == 0 and relu.not_checkable == 0
    claims = {(e.M, e.d, e.column): e.stated for e in relu.entries}
    assert claims == {(2, 1, "beta>=0"): "PROVEN", (2, 1, "signed"): "PROVEN", (2, 2, "beta>=0"): "PROVEN",
                      (3, 2, "beta>=0"): "PROVEN", (3, 2, "signed"): "PROVEN"}
    assert "relu_M3.json" in _entry(relu, 3, 2, "signed").detail and "675 boxes re-verified" in _entry(relu, 3, 2, "signed").detail
    assert "F_ETF = c_d (1 - c_d M/lambda) = 0 exactly" in _entry(relu, 2, 1, "signed").detail
    assert "tangent" in _entry(relu, 3, 2, "beta>=0").detail
    step = check(reports["step"].parent)  # the run folder is accepted too
    assert step.path == str(reports["step"])
    assert [(e.column, e.stated, e.status) for e in step.entries] == [("beta>=0", "REFUTED", "confirmed"),
                                                                      ("signed", "REFUTED", "confirmed")]
    assert step.counts == {"confirmed": 2, "failed": 0, "not checkable": 0}


def test_result_views(reports):
    res = check(reports["step"])
    text = repr(res)
    assert "2 confirmed, 0 failed" in text and "REFUTED" in text
    page = res._repr_html_()
    assert page.startswith("<table") and "re-verified" in page and page.count("<tr>") == 3
    doc = json.loads(res.to_json(), parse_constant=lambda name: pytest.fail(f"non-strict JSON: {name}"))
    assert doc["all_confirmed"] is True and doc["report_id"] == res.report_id and len(doc["entries"]) == 2
    assert {"M", "d", "column", "stated", "status", "detail", "seconds"} <= set(doc["entries"][0])


def test_tampered_coefficient_fails(reports, tmp_path):
    def edit(res):
        h = res["bounds_nonneg"]["tangent"]["h"]
        q = Fraction(h[0]) + Fraction(1, 10**40)  # h above kappa at the tangency by 1e-40 >> delta = 1e-60
        h[0] = f"{q.numerator}/{q.denominator}"

    res = check(_tampered(reports["relu"], tmp_path / "report.json", 3, 2, edit))
    bad = _entry(res, 3, 2, "beta>=0")
    assert bad.status == "failed" and "not proved" in bad.detail
    assert res.failed == 1 and res.confirmed == 4 and not res.all_confirmed


@pytest.mark.parametrize("field,value,needle", [
    ("sha256", "0" * 64, "differs from the cited"),
    ("file", "conjecture/elliptope/../certificate.py", "is not a file shipped"),
    ("file", "/etc/passwd", "is not a file shipped"),
])
def test_tampered_elliptope_reference_fails(reports, tmp_path, field, value, needle):
    def edit(res):
        res["elliptope_certificate"][field] = value

    res = check(_tampered(reports["relu"], tmp_path / "report.json", 3, 2, edit))
    bad = _entry(res, 3, 2, "signed")
    assert bad.status == "failed" and needle in bad.detail


def test_tampered_delta_fails(reports, tmp_path):
    def edit(res):
        res["bounds_nonneg"]["tangent"]["delta"] = f"1/{10**20}"  # the bound drops 1e-20 below the ETF value

    res = check(_tampered(reports["relu"], tmp_path / "report.json", 3, 2, edit))
    bad = _entry(res, 3, 2, "beta>=0")
    assert bad.status == "failed" and "relative gap" in bad.detail and "> 1e-30" in bad.detail


def test_tampered_refutation_frame_fails(reports, tmp_path):
    def edit(res):
        for key in ("refutation_signed", "refutation_nonneg"):
            res[key]["frame_rational"] = [["1", "0"], ["-1/2", "866/1000"], ["-1/2", "-866/1000"]]  # ~ the ETF

    res = check(_tampered(reports["step"], tmp_path / "report.json", 3, 2, edit))
    assert [e.status for e in res.entries] == ["failed", "failed"]
    assert "is not below F_ETF" in res.entries[0].detail


def test_tampered_etf_value_fails(reports, tmp_path):
    def edit(res):  # 1e-13 relative: invisible in float64 output, far beyond the 40 digits stated
        res["etf"]["closed_form"] = repr(float(res["etf"]["closed_form"]) * (1 + 1e-13))

    res = check(_tampered(reports["relu"], tmp_path / "report.json", 3, 2, edit))
    bad = _entry(res, 3, 2, "beta>=0")
    assert bad.status == "failed" and "stated F_ETF" in bad.detail
    assert _entry(res, 2, 2, "beta>=0").status == "confirmed"


def test_malformed_evidence_is_a_failed_entry(reports, tmp_path):
    def edit(res):
        res["bounds_nonneg"]["tangent"]["h"][0] = "9" * 1000  # too many digits: refused before Fraction()
        res["bounds_nonneg"]["tangent"]["h"][1] = "__import__('os')"

    res = check(_tampered(reports["relu"], tmp_path / "report.json", 3, 2, edit))
    bad = _entry(res, 3, 2, "beta>=0")
    assert bad.status == "failed" and "not a rational" in bad.detail


def test_unknown_activation_is_not_checkable(reports, tmp_path):
    def edit(res):
        res["params"]["activation"] = "pw(t<0: 0; else: t)"

    res = check(_tampered(reports["relu"], tmp_path / "report.json", 3, 2, edit))
    e = _entry(res, 3, 2, "beta>=0")
    assert e.status == "not checkable" and "not checkable here" in e.detail and not res.all_confirmed


@pytest.mark.parametrize("content", [
    '{"format": "twolayer-report/2", "kind": "etf-cell", "cells": []}',
    '[1, 2, 3]',
    '{"cells": [{"result": {}}]}',
    '{"format": "twolayer-report/2", "kind": "conjecture-cell", "cells": [{"result": {"params": {"M": 1, "d": 2}}}]}',
    "[" * 100 + "]" * 100,
    "{not json",
])
def test_not_a_report_is_input_error(tmp_path, content):
    f = tmp_path / "x.json"
    f.write_text(content)
    with pytest.raises(InputError) as err:
        check(f)
    assert err.value.argument == "path"


def test_checker_shares_no_code_with_the_producer():
    for name in ("certificate.py", "certificate_cli.py"):
        imported = imported_modules(ROOT / "conjecture" / name)
        assert not imported & PRODUCER_MODULES, imported & PRODUCER_MODULES
        assert not any(m.split(".")[0] in ("flint", "importlib", "numerics", "sympy") for m in imported), imported
        if name == "certificate.py":  # the checker itself: stdlib, mpmath and theory's input limits only
            extern = {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names and m != "__future__"
                      and not m.startswith("__future__.")}
            assert extern <= {"mpmath", "mpmath.iv", "theory.errors", "theory.errors.InputError", "theory.limits",
                              "theory.limits.read_bounded_json", "conjecture.elliptope.checker",
                              "conjecture.elliptope.checker.check_file"}, extern


def test_cli_register_and_exit_codes(reports, tmp_path, capsys):
    from conjecture import certificate_cli

    parser = argparse.ArgumentParser(prog="twolayer")
    certificate_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["certificate", "check", str(reports["step"]), "--json"])
    assert args.handler(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["counts"]["confirmed"] == 2
    def edit(res):
        for key in ("refutation_signed", "refutation_nonneg"):
            res[key]["beta_rational"] = ["1", "1", "1"]

    bad = _tampered(reports["step"], tmp_path / "report.json", 3, 2, edit)
    args = parser.parse_args(["certificate", "check", str(bad)])
    assert args.handler(args) == 1 and "2 failed" in capsys.readouterr().out
    (tmp_path / "plain.json").write_text("{}")
    with pytest.raises(InputError):
        args = parser.parse_args(["certificate", "check", str(tmp_path / "plain.json")])
        args.handler(args)


def test_module_docstring_example():
    assert doctest.testmod(certificate, optionflags=doctest.ELLIPSIS).failed == 0


def test_own_kernels_gegenbauer_and_derivatives():
    from mpmath import iv, mpf, pi

    from conjecture.certificate import BITS, _Kernel, _Precision, _activation, _gegenbauer

    F = Fraction
    assert _gegenbauer(2, 2) == [F(-1), F(0), F(2)]  # Chebyshev T_2
    assert _gegenbauer(2, 3) == [F(-1, 2), F(0), F(3, 2)]  # Legendre P_2
    assert _gegenbauer(2, 4) == [F(-1, 3), F(0), F(4, 3)]  # U_2 / 3
    assert _gegenbauer(3, 5)[1:] == [F(-3, 4), F(0), F(7, 4)] and sum(_gegenbauer(6, 7)) == 1
    assert _activation("relu").c_d(3).r == F(3, 16) and _activation("step").c_d(5).r == F(1, 4)
    with _Precision(BITS):
        at_zero = {"relu": 1 / (2 * pi), "abs": 2 / pi, "step": mpf(1) / 4, "relu^2": mpf(1) / 4, "relu^3": 2 / pi,
                   "leaky_relu(1/10)": (1 + mpf(1) / 100) / (2 * pi) - mpf(2) / 10 / (2 * pi)}
        half = iv.pi / 2
        for name, value in at_zero.items():
            kern = _Kernel(_activation(name))
            k = kern.at_angle(half, iv.sin(half), iv.cos(half))
            assert abs(mpf(k.mid) - value) < mpf(10) ** -80, name
            th, eps = iv.mpf("1.1"), iv.mpf("1e-30")  # the theta-derivatives against central differences
            v = [kern.jets(th + s * eps, iv.sin(th + s * eps), iv.cos(th + s * eps)) for s in (-1, 0, 1)]
            d1 = (v[2][0] - v[0][0]) / (2 * eps)
            d2 = (v[2][0] - 2 * v[1][0] + v[0][0]) / (eps * eps)
            assert abs(mpf((d1 - v[1][1]).mid)) < 1e-25 and abs(mpf((d2 - v[1][2]).mid)) < 1e-20, name

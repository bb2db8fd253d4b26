"""The signed-beta proof for M = 3 (issue 11): the shipped certificate, its independent checker, tampering.

MUST SHOW (issue 11): M = 3 signed beta PROVEN with the certificate checked by the independent checker; a
certificate with one claim altered is rejected with exit 1 (upper raised above q_ETF, upper lowered below the
true q at the box centre, a box deleted, a not_psd witness changed).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from conjecture.elliptope.checker import check_document, check_file
from conjecture.elliptope.stored import DATA_DIR, stored_proof
from tests.import_scan import imported_modules

SHIPPED = os.path.join(DATA_DIR, "relu_M3.json")


def _kappa(t):
    t = np.clip(t, -1.0, 1.0)
    return (np.sqrt(1 - t * t) + (np.pi - np.arccos(t)) * t) / (2 * np.pi)


def _q(g12, g13, g23) -> float:
    """q(G) = 1^T K^+ 1 in float64, K = kappa(G) (the quantity the certificate bounds)."""
    gram = np.array([[1, g12, g13], [g12, 1, g23], [g13, g23, 1]])
    return float(np.ones(3) @ np.linalg.pinv(_kappa(gram)) @ np.ones(3))


Q_ETF = 3 / (0.5 + 2 * _kappa(-0.5))


@pytest.fixture(scope="module")
def document():
    with open(SHIPPED, encoding="utf-8") as fh:
        return json.load(fh)


def test_shipped_certificate_is_checked(document):
    result = check_file(SHIPPED)
    assert result.ok, result.failure
    assert result.boxes == len(document["boxes"]) == sum(result.by_claim.values())
    assert set(result.by_claim) == {"local", "not_psd", "upper_bound/corner", "upper_bound/taylor", "upper_bound/triangle"}
    lo, hi = (Fraction(x) for x in document["q_etf"])
    with mpmath.workdps(60):   # q_ETF = 3 / (1/2 + 2 kappa(-1/2)), kappa(-1/2) = (sqrt(3)/2 - pi/6) / (2 pi)
        q_etf = 3 / (mpmath.mpf(1) / 2 + (mpmath.sqrt(3) / 2 - mpmath.pi / 6) / mpmath.pi)
        assert mpmath.mpf(lo.numerator) / lo.denominator < q_etf < mpmath.mpf(hi.numerator) / hi.denominator
    assert hi - lo < Fraction(1, 10 ** 30)


def test_prover_writes_a_certificate_the_checker_accepts():
    from conjecture.elliptope.prover import prove_m3

    run = prove_m3()
    assert run.complete and run.counts["local"] > 0
    result = check_document(json.loads(run.to_json()))
    assert result.ok, result.failure
    assert result.boxes == len(run.boxes)


def _leaf(document, g):
    """The certificate box that holds a sorted Gram point g (there may be two on a shared face: take the first)."""
    for box in document["boxes"]:
        lo = [float(Fraction(x)) for x in box["lo"]]
        hi = [float(Fraction(x)) for x in box["hi"]]
        if all(a <= x <= b for a, x, b in zip(lo, g, hi)):
            return box
    return None


def test_every_claim_holds_at_sampled_frames(document):
    """Soundness in float64, independently of both prover and checker: q at random frames obeys the claim of the
    box that holds it (Haar frames, near-coincident pairs and triples, near-ETF frames)."""
    rng = np.random.default_rng(11)
    frames = [rng.standard_normal((3, 3)) for _ in range(300)]
    for scale in (1e-1, 1e-2, 1e-3):
        v = rng.standard_normal(3)
        frames += [v + scale * rng.standard_normal((3, 3)) for _ in range(20)]                 # triples
        frames += [np.vstack([v, v + scale * rng.standard_normal(3), rng.standard_normal(3)]) for _ in range(20)]
    etf = np.array([[1, 0, 0], [-0.5, np.sqrt(3) / 2, 0], [-0.5, -np.sqrt(3) / 2, 0]])
    frames += [etf + 1e-2 * rng.standard_normal((3, 3)) for _ in range(40)]
    checked = {"upper_bound": 0, "local": 0}
    for x in frames:
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        gram = x @ x.T
        g = sorted([gram[0, 1], gram[0, 2], gram[1, 2]], reverse=True)   # the symmetry: sort the entries
        box = _leaf(document, g)
        assert box is not None, f"no box holds {g}"
        assert box["claim"] != "not_psd", f"a realisable Gram point {g} lies in a not_psd box"
        q = _q(*g)
        bound = float(Fraction(box["upper"])) if box["claim"] == "upper_bound" else Q_ETF
        assert q <= bound * (1 + 1e-9), (g, q, box)
        checked[box["claim"]] += 1
    assert checked["upper_bound"] > 300 and checked["local"] > 0


def test_determinant_identity():
    """det(K - 11^T/u) = c_u (2 sum p_i p_j - sum p_i^2) - 2 p1 p2 p3, p = kappa(1) - kappa(g), c_u = 1/2 - 1/u."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        x = rng.standard_normal((3, 3))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        gram = np.clip(x @ x.T, -1, 1)
        u = rng.uniform(4, 6)
        p = 0.5 - _kappa(np.array([gram[0, 1], gram[0, 2], gram[1, 2]]))
        f = (0.5 - 1 / u) * (2 * (p[0] * p[1] + p[0] * p[2] + p[1] * p[2]) - (p ** 2).sum()) - 2 * p.prod()
        assert f == pytest.approx(np.linalg.det(_kappa(gram) - np.ones((3, 3)) / u), abs=1e-13)


def test_feature_distance_is_concave():
    """Lemma S, numerically: s(theta) = sqrt(kappa(1) - kappa(cos theta)) has s'' <= 0 on (0, pi)."""
    theta = np.linspace(1e-3, np.pi - 1e-3, 4001)
    s = np.sqrt(0.5 - _kappa(np.cos(theta)))
    second = np.diff(s, 2) / (theta[1] - theta[0]) ** 2
    assert second.max() < 1e-6 and second[:100].max() < -0.09   # -s''(0) = 1/(3 pi) = 0.106


def _rejected(doc) -> str:
    result = check_document(doc)
    assert not result.ok
    return result.failure


def _first(document, claim, method=None):
    return next(i for i, b in enumerate(document["boxes"]) if b["claim"] == claim and b.get("method", method) == method)


def test_tamper_upper_above_q_etf(document):
    doc = copy.deepcopy(document)
    doc["boxes"][_first(doc, "upper_bound", "triangle")]["upper"] = "5"
    assert "is not in [4, q_etf.lo)" in _rejected(doc)


def test_tamper_upper_below_true_q_at_centre(document):
    doc = copy.deepcopy(document)
    for k, box in enumerate(doc["boxes"]):
        if box["claim"] != "upper_bound" or box["method"] == "corner":
            continue
        centre = [float((Fraction(a) + Fraction(b)) / 2) for a, b in zip(box["lo"], box["hi"])]
        g = sorted(centre, reverse=True)
        if np.linalg.eigvalsh(np.array([[1, g[0], g[1]], [g[0], 1, g[2]], [g[1], g[2], 1]])).min() > 0 and _q(*g) > 4.5:
            break
    lowered = Fraction(_q(*g)).limit_denominator(10 ** 6) - Fraction(1, 10 ** 4)
    box["upper"] = f"{lowered.numerator}/{lowered.denominator}"
    assert f"box {k}" in _rejected(doc)


def test_tamper_deleted_box(document):
    doc = copy.deepcopy(document)
    del doc["boxes"][len(doc["boxes"]) // 2]
    assert _rejected(doc).startswith("gap:")


def test_tamper_not_psd_witness(document):
    doc = copy.deepcopy(document)
    k = _first(doc, "not_psd")
    doc["boxes"][k]["witness"] = ["1", "0", "0"]   # x^T G x = 1 for every G
    assert f"box {k}" in _rejected(doc) and "witness" in _rejected(doc)


def test_tamper_header_and_format(document):
    for key, value in (("M", 4), ("activation", "abs"), ("q_etf", ["4", "5"]), ("q_etf", ["49/10", "4927/1000"])):
        doc = copy.deepcopy(document)
        doc[key] = value
        _rejected(doc)
    doc = copy.deepcopy(document)
    doc["boxes"][0]["lo"][0] = "__import__('os')"
    assert "rational string" in _rejected(doc)
    doc = copy.deepcopy(document)
    doc["boxes"].append(copy.deepcopy(doc["boxes"][0]))
    assert "the same box" in _rejected(doc)
    doc = copy.deepcopy(document)
    doc["boxes"][_first(doc, "local")]["claim"] = "trust_me"
    assert "unknown claim" in _rejected(doc)
    doc = copy.deepcopy(document)   # a field the claim does not use would mislead a reader: rejected too
    doc["boxes"][_first(doc, "not_psd")]["upper"] = "5"
    assert "does not belong to a not_psd claim" in _rejected(doc)


def test_cli_exit_codes(document, tmp_path):
    bad = copy.deepcopy(document)
    bad["boxes"][_first(bad, "not_psd")]["witness"] = ["0", "0", "1"]
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(bad))
    run = [sys.executable, "-m", "conjecture.command_line", "certificate", "check"]
    ok = subprocess.run(run + [SHIPPED, "--json"], capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    failed = subprocess.run(run + [str(path)], capture_output=True, text=True)
    assert failed.returncode == 1 and "CERTIFICATE REJECTED" in failed.stdout and "first failure: box" in failed.stdout
    (tmp_path / "junk.json").write_text("{not json")
    junk = subprocess.run(run + [str(tmp_path / "junk.json")], capture_output=True, text=True)
    assert junk.returncode == 2 and "argument path" in junk.stderr


def test_prove_refuses_to_overwrite(tmp_path):
    target = tmp_path / "c.json"
    target.write_text("keep me")
    run = subprocess.run([sys.executable, "-m", "conjecture.command_line", "certificate", "prove", "--M", "3",
                          "--out", str(target)], capture_output=True, text=True)
    assert run.returncode == 2 and "--out" in run.stderr and target.read_text() == "keep me"


def test_stored_proof_feeds_the_signed_verdict():
    from conjecture.cells import evaluate_cell

    proof = stored_proof(3, "relu")
    assert proof.check.ok and stored_proof(4, "relu") is None
    out = evaluate_cell({"M": 3, "d": 3, "starts": 4, "polish_dps": 0, "sdp": False}, 0)
    assert out["verdict_signed"] == "PROVEN"
    assert out["elliptope_certificate"]["sha256"] == proof.check.sha256
    assert "relu_M3.json" in out["reason_signed"] and proof.check.sha256[:16] in out["reason_signed"]
    m4 = evaluate_cell({"M": 4, "d": 3, "starts": 4, "polish_dps": 0, "sdp": False}, 0)
    assert m4["verdict_signed"] == "SUPPORTED" and "elliptope_certificate" not in m4


def test_checker_shares_no_code_with_the_prover():
    """The checker imports the standard library, python-flint and theory's input limits, nothing of the prover."""
    from pathlib import Path

    imported = imported_modules(Path(DATA_DIR).parent / "checker.py")
    extern = {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "__future__"}
    assert extern == {"flint", "flint.arb", "flint.fmpq", "theory.errors", "theory.errors.InputError", "theory.limits",
                      "theory.limits.read_bounded_json"}, extern

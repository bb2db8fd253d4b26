"""The shipped (4, 4) orientation certificate: it applies to its own cell only, a changed tree is refused, and the
shipped trees pass the independent checker (structure in full, a few leaves re-proved in arb)."""

import json
import shutil
from fractions import Fraction

import conjecture.orientation_stored as stored
from conjecture.orientation_tree_check import main as check_trees
from theory.exact_anisotropic import exact_summary

HEADER = json.loads((stored.DATA / "certificate.json").read_text(encoding="utf-8"))


def test_applies_to_its_cell_only():
    bound = stored.stored_family_bound(exact_summary("relu", 4, "rademacher"), 4, 4)
    assert bound is not None and bound.intact and bound.failure == ""
    assert bound.threshold == Fraction(HEADER["threshold"])
    assert HEADER["counterexample_found"] < float(bound.threshold) < HEADER["best_orientation_found"]
    record = bound.as_dict()
    assert record["certified"] and record["search"]["boxes"] == HEADER["boxes"] == 5284766
    assert stored.stored_family_bound(exact_summary("relu", 4, "rademacher"), 4, 3) is None
    assert stored.stored_family_bound(exact_summary("abs", 4, "rademacher"), 4, 4) is None
    assert stored.stored_family_bound(exact_summary("relu", 4, "rademacher", abar=2.0), 4, 4) is None


def test_a_changed_tree_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "orientation_44"
    shutil.copytree(stored.DATA, copy)
    data = bytearray((copy / "tree2.npz").read_bytes())
    data[-100] ^= 1
    (copy / "tree2.npz").write_bytes(bytes(data))
    monkeypatch.setattr(stored, "DATA", copy)
    bound = stored.stored_family_bound(exact_summary("relu", 4, "rademacher"), 4, 4)
    assert bound is not None and not bound.intact and "tree2.npz has sha256" in bound.failure
    assert not bound.as_dict()["certified"]


def test_shipped_trees_pass_the_independent_checker():
    trees = [str(stored.DATA / t["file"]) for t in HEADER["trees"]]
    report = check_trees([*trees, "--sample", "4", "--seed", "1"])
    assert report["threshold"] == HEADER["threshold"]
    assert report["volume_ok"] and report["dropped_not_disjoint"] == 0
    assert report["leaves"] == HEADER["independent_check"]["leaves"]
    assert report["closed"] == HEADER["closed_by"] | {"natural": 0}
    assert report["not_reproved"] == 0 and report["reproved"] + report["monotone_unchecked"] == 4


def test_the_44_cell_is_refuted_by_the_stored_bound():
    from conjecture.cells import evaluate_cell

    c = evaluate_cell({"M": 4, "d": 4, "regime": "III", "starts": 32, "polish_dps": 0, "sdp": False,
                       "bnb_seconds": 1.0}, 0)
    assert c["verdict_signed"] == "REFUTED" and c["verdict_nonneg"] == "REFUTED"
    ref = c["regime3"]["refutation"]
    assert ref["threshold"] == HEADER["threshold"] and ref["certified"]["signed"]
    assert "stored float-interval certificate" in c["reason_signed"]
    assert 2e-5 < ref["candidates"]["signed"]["gap_rel_certified"] < 5.2e-5


def test_the_certificate_is_part_of_the_cell_id():
    """A (4, 4) regime III cell computed before (or with another) certificate is not reused from the store."""
    import hashlib

    from conjecture.api import estimate

    digest = hashlib.sha256((stored.DATA / "certificate.json").read_bytes()).hexdigest()[:16]
    cells, _, _ = estimate(M="4", d="3-4", regime="III", law="rademacher")
    assert {c["d"]: c.get("family_certificate") for c in cells} == {3: None, 4: digest}
    assert stored.family_certificate_digest(4, 4, "relu", "rademacher", "truncated") is None
    assert stored.family_certificate_digest(4, 4, "relu", "uniform", None) is None

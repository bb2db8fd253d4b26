"""Provenance: every field a citation needs is recorded; content hashes are canonical."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from numerics.evidence.provenance import canonical_json, collect_provenance, content_hash, git_state, to_jsonable

REPO = Path(__file__).resolve().parent.parent


def test_provenance_has_every_field_a_citation_needs():
    prov = collect_provenance(argv=["twolayer", "etf-sweep", "--seed", "3"], seeds=[3])
    assert prov["toolkit"] == {"name": "twolayer-compression", "version": prov["toolkit"]["version"]}
    assert prov["toolkit"]["version"]
    for pkg in ("sympy", "mpmath", "numpy", "cvxpy", "clarabel", "dask", "distributed", "pyarrow"):
        assert prov["packages"][pkg], pkg
    assert prov["packages"]["numpy"] == np.__version__
    assert "CLARABEL" in prov["solvers"]["cvxpy_installed"]
    assert prov["python"]["version"].count(".") == 2 and prov["platform"]["system"]
    assert prov["argv"] == ["twolayer", "etf-sweep", "--seed", "3"] and prov["seeds"] == [3]
    stamp = dt.datetime.strptime(prov["timestamp_utc"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs((dt.datetime.utcnow() - stamp).total_seconds()) < 600
    json.loads(canonical_json(prov))  # serialisable as recorded


def test_git_state_matches_git_itself():
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("git is not available")
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    porcelain = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True,
                               timeout=10).stdout
    state = git_state()
    assert state["commit"] == head.stdout.strip()
    assert state["dirty"] is bool(porcelain.strip())


def test_content_hash_is_canonical():
    a = {"b": [1, 2.5, "x"], "a": {"z": None, "y": True}}
    b = {"a": {"y": True, "z": None}, "b": (1, 2.5, "x")}
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash({**a, "b": [1, 2.5000000000000004, "x"]})
    assert content_hash({"v": np.float64(0.1)}) == content_hash({"v": 0.1})
    assert to_jsonable({"x": np.arange(3), "y": float("inf")}) == {"x": [0, 1, 2], "y": "inf"}
    with pytest.raises(TypeError):
        canonical_json({"f": object()})

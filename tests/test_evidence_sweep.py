"""run_sweep: deterministic seeds and ids, reuse of finished cells, failures recorded, bad input rejected."""

from __future__ import annotations

import os

import numpy as np
import pytest

from numerics.evidence import sweep as sweep_mod
from numerics.etf_cell import KIND, etf_cell
from numerics.evidence.store import ResultStore
from numerics.evidence.sweep import cell_id_for, cell_seed, get_cell_kind, register_cell_kind, run_sweep
from theory.errors import InputError


def echo_cell(params: dict, seed: int) -> dict:
    """Returns what it was given (and numpy values, which the sweep must convert to JSON)."""
    rng = np.random.default_rng(seed)
    return {"verdict": "ok", "values": {"params": params, "draw": rng.standard_normal(2)}, "n": np.int64(3)}


def failing_cell(params: dict, seed: int) -> dict:
    if params["i"] == 2:
        raise ArithmeticError("cell 2 cannot be computed")
    return {"verdict": "ok", "values": {"i": params["i"]}}


def test_seeds_and_ids_are_deterministic_and_canonical():
    p1, p2 = {"b": 1, "a": [1, 2]}, {"a": (1, 2), "b": 1}
    s = cell_seed(7, {"a": [1, 2], "b": 1})
    assert s == cell_seed(7, {"b": 1, "a": [1, 2]}) and 0 <= s < 2**63
    assert cell_seed(8, p1) != s and cell_seed(7, {"a": [1, 3], "b": 1}) != s
    assert cell_id_for("k", {"a": [1, 2], "b": 1}, s) == cell_id_for("k", {"b": 1, "a": [1, 2]}, s)
    assert cell_id_for("k2", p1, s) != cell_id_for("k", p1, s)
    del p2


def test_sweep_records_reuses_and_dedupes(tmp_path):
    cells = [{"x": 1, "t": (1, 2)}, {"t": [1, 2], "x": 1}, {"x": 2, "t": [0]}]
    out = run_sweep(echo_cell, cells, kind="echo", store=tmp_path, seed=3, quiet=True)
    assert (out.computed, out.reused, len(out.records)) == (2, 0, 2)  # the first two cells are one cell
    rec = out.records[0]
    assert rec.params == {"t": [1, 2], "x": 1} and rec.result["values"]["params"] == rec.params
    assert rec.result["n"] == 3 and isinstance(rec.result["values"]["draw"][0], float)
    assert rec.seed == cell_seed(3, rec.params)
    expected = np.random.default_rng(rec.seed).standard_normal(2).tolist()
    assert rec.result["values"]["draw"] == expected
    again = run_sweep(echo_cell, cells + [{"x": 3, "t": []}], kind="echo", store=tmp_path, seed=3, quiet=True)
    assert (again.computed, again.reused) == (1, 2)
    assert again.records[:2] == out.records  # reused cells are the stored ones, unchanged
    other_seed = run_sweep(echo_cell, cells, kind="echo", store=tmp_path, seed=4, quiet=True)
    assert other_seed.computed == 2
    with ResultStore(tmp_path) as st:
        assert st.count_cells(kind="echo") == 5 and st.duplicate_cell_count() == 0
        assert [r.status for r in st.runs()] == ["complete"] * 3


def test_failing_cell_keeps_finished_ones_and_marks_run(tmp_path):
    cells = [{"i": i} for i in range(4)]
    with pytest.raises(ArithmeticError, match="cell 2"):
        run_sweep(failing_cell, cells, kind="failing", store=tmp_path, seed=1, n_workers=0, quiet=True)
    with ResultStore(tmp_path) as st:
        run = st.runs()[0]
        assert run.status == "failed" and "cell 2 cannot be computed" in run.error
        assert run.computed == 2 and st.count_cells() == 2


def test_where_cells_run_by_default():
    assert sweep_mod._plan(None, None, sweep_mod.SERIAL_MAX_PENDING) == ("serial", 0)
    assert sweep_mod._plan(None, 0, 1000) == ("serial", 0)
    assert sweep_mod._plan(None, 3, 1) == ("local", 3)
    assert sweep_mod._plan("tcp://127.0.0.1:1", 3, 1) == ("remote", 0)
    cores = os.cpu_count() or 1
    assert sweep_mod._plan(None, None, 1000) == (("serial", 0) if cores == 1 else ("local", cores))


def test_registry_is_a_whitelist():
    assert get_cell_kind(KIND) is etf_cell
    with pytest.raises(InputError, match="already registered"):
        register_cell_kind(KIND, echo_cell)
    with pytest.raises(InputError, match="no registered cell kind"):
        get_cell_kind("nope", "os:system")  # not a toolkit module: never imported
    with pytest.raises(InputError, match="kind"):
        register_cell_kind("bad kind!", echo_cell)


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"cell_fn": lambda p, s: {}}, "top-level"),
        ({"cells": "abc"}, "list of parameter dicts"),
        ({"cells": [1, 2]}, "must be a dict"),
        ({"cells": [{"x": object()}]}, "not JSON"),
        ({"cells": [{"x": float("nan")}]}, "not JSON"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**63}, "seed"),
        ({"seed": True}, "seed"),
        ({"scheduler": "localhost:8786"}, "scheduler"),
        ({"scheduler": "tcp://"}, "scheduler"),
        ({"n_workers": -1}, "workers"),
        ({"n_workers": 1.5}, "workers"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, needle):
    args = {"cell_fn": echo_cell, "cells": [{"x": 1}], "kind": "echo", "store": tmp_path, "seed": 1, "quiet": True}
    args.update(kwargs)
    fn, cells = args.pop("cell_fn"), args.pop("cells")
    with pytest.raises(InputError, match=needle):
        run_sweep(fn, cells, **args)

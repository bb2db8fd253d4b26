"""The other layers' cell kinds go through the same store and reproduce to their recorded precision."""

from __future__ import annotations

import pytest

from numerics.evidence.reproduce import Status, reproduce
from numerics.evidence.sweep import run_sweep

# One cheap cell of each kind (seconds, not minutes); the kinds' own tests check their mathematics.
CASES = [
    ("numerics.rates", "dimension_cell", "KIND_DIMENSION", {"activation": "relu", "M": 3, "d": 64, "dps": 30}),
    ("conjecture.cells", "evaluate_cell", "KIND",
     {"M": 3, "d": 2, "starts": 4, "sdp": False, "polish_dps": 0, "regime": "I", "activation": "relu"}),
]


@pytest.mark.parametrize("module,function,kind_attr,params", CASES, ids=[c[0] for c in CASES])
def test_other_layers_cells_reproduce(tmp_path, module, function, kind_attr, params):
    mod = pytest.importorskip(module)
    fn, kind = getattr(mod, function), getattr(mod, kind_attr)
    out = run_sweep(fn, [params], kind=kind, store=tmp_path, seed=5, n_workers=0, quiet=True)
    res = reproduce(out.records[0].cell_id, store=str(tmp_path))
    assert res.status is Status.MATCH, [c for c in res.cells[0].comparisons if not c.matches][:3]
    assert len(res.cells[0].comparisons) > 5  # numbers were compared, not only a verdict

"""Wall time of one sweep run serially, on a LocalCluster and on a separately started Dask cluster.

    python benchmarks/bench_sweep.py [--cells 24] [--dps 60] [--workers 1,2]

For each worker count k it runs the same ``etf-value`` sweep (fresh store each time) on
``LocalCluster(k)`` and on ``dask scheduler`` + ``dask worker --nworkers k`` started as separate
processes on 127.0.0.1, plus once serially; it prints the wall times and checks that every run
produced identical results (same content hash, same cell-by-cell results).  Timings are
measurements of this machine under its current load, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from numerics.etf_cell import KIND, etf_cell  # noqa: E402
from numerics.evidence.loopback_cluster import loopback_cluster  # noqa: E402
from numerics.evidence.sweep import run_sweep  # noqa: E402

START_TIMEOUT_S = 120


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=24)
    ap.add_argument("--dps", type=int, default=60)
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()
    pairs = [(M, d) for d in (8, 10, 12, 14) for M in range(2, d + 2)][: args.cells]
    cells = [{"activation": "relu", "M": M, "d": d, "dps": args.dps} for M, d in pairs]
    ks = [int(k) for k in args.workers.split(",")]
    base = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    rows = []

    def timed(label: str, **kw):
        out = run_sweep(etf_cell, cells, kind=KIND, store=base / label, seed=1, quiet=True, **kw)
        rows.append((label, out.wall_seconds, out.computed, out.content_hash,
                     {r.cell_id: r.result for r in out.records}))
        print(f"{label:<28} wall {out.wall_seconds:7.2f} s  ({out.computed} cells computed, "
              f"sum of cell times {sum(r.seconds for r in out.records):.2f} s)  {out.content_hash[:23]}", flush=True)

    print(f"{len(cells)} etf-value cells (relu, d in 8..14, dps {args.dps}) on {os.cpu_count()} cores")
    timed("serial", n_workers=0)
    for k in ks:
        timed(f"LocalCluster({k})", n_workers=k)
        with loopback_cluster(base, k, timeout_s=START_TIMEOUT_S) as (address, _):
            timed(f"dask scheduler + {k} worker(s)", scheduler=address)
    same = len({r[3] for r in rows}) == 1 and all(r[4] == rows[0][4] for r in rows)
    print("identical results in every run:", same)
    shutil.rmtree(base, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

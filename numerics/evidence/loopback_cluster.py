"""A real Dask cluster as separate processes on 127.0.0.1: ``dask scheduler`` plus ``dask worker``.

Used by the scale-out test and benchmark to check that ``--scheduler tcp://...`` gives the same results
as a LocalCluster. Both processes start in their own session and are stopped (TERM, then KILL) on exit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent


def dask_executable() -> str:
    """The ``dask`` command of this interpreter's environment (falls back to PATH)."""
    exe = Path(sys.executable).with_name("dask")
    return str(exe) if exe.exists() else (shutil.which("dask") or "dask")


def _stop(procs: list[subprocess.Popen], grace_s: float) -> None:
    for p in reversed(procs):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in reversed(procs):
        try:
            p.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=5)


@contextmanager
def loopback_cluster(base: Path, n_workers: int, *, timeout_s: float = 60.0) -> Iterator[tuple[str, int]]:
    """Start ``dask scheduler`` and ``dask worker --nworkers n_workers`` on loopback; yield (address, workers seen).

    Raises TimeoutError when the scheduler or the workers do not come up within ``timeout_s``.
    """
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    sched_file = base / f"scheduler-{n_workers}.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs: list[subprocess.Popen] = []
    try:
        sched = subprocess.Popen(
            [dask_executable(), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(sched_file), "--idle-timeout", "300"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=base, env=env, start_new_session=True)
        procs.append(sched)
        deadline = time.monotonic() + timeout_s
        address = None
        while address is None:  # the file may exist before the scheduler has finished writing it
            if sched.poll() is not None:
                raise RuntimeError("dask scheduler exited before writing its address")
            if time.monotonic() > deadline:
                raise TimeoutError(f"dask scheduler did not start within {timeout_s} s")
            try:
                address = json.loads(sched_file.read_text())["address"]
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                time.sleep(0.1)
        procs.append(subprocess.Popen(
            [dask_executable(), "worker", address, "--nworkers", str(n_workers), "--nthreads", "1", "--no-dashboard",
             "--local-directory", str(base / f"w{n_workers}"), "--death-timeout", "60"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO, env=env, start_new_session=True))
        from distributed import Client

        with Client(address, timeout=timeout_s) as client:
            client.wait_for_workers(n_workers, timeout=timeout_s)
            seen = len(client.scheduler_info()["workers"])
        yield address, seen
    finally:
        _stop(procs, grace_s=15)

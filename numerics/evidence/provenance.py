"""Provenance of a computed result: code version, environment, command line, seeds, time, content hash.

A number cited from this toolkit must be traceable to the exact code, inputs, seeds and environment.
``collect_provenance`` gathers what is needed; ``content_hash`` fingerprints results so that a cited
report names the numbers it stands for.

    provenance = {toolkit, git: {commit, dirty}, python, packages, solvers, platform, argv, seeds, timestamp_utc}
    content_hash(obj) = "sha256:" + sha256(canonical_json(obj))

References: the project's issue 5 ("evidence that can be cited").

Examples
--------
>>> content_hash({"b": 1, "a": [1.5, "x"]}) == content_hash({"a": [1.5, "x"], "b": 1})
True
>>> canonical_json({"b": 1, "a": 0.1})
'{"a":0.1,"b":1}'
>>> prov = collect_provenance(argv=["twolayer", "reproduce", "abc"], seeds=[7])
>>> prov["argv"], prov["seeds"], prov["toolkit"]["name"]
(['twolayer', 'reproduce', 'abc'], [7], 'twolayer-compression')
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata as _metadata
import json
import math
import os
import platform
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

TOOLKIT_DISTRIBUTION = "twolayer-compression"
# Distributions whose versions change numbers (numerics, solvers) or the way they are produced (scale-out).
KEY_PACKAGES = (
    "sympy",
    "mpmath",
    "numpy",
    "scipy",
    "cvxpy",
    "clarabel",
    "scs",
    "osqp",
    "python-flint",
    "dask",
    "distributed",
    "pyarrow",
    "matplotlib",
)
_GIT_TIMEOUT_S = 5.0
REPO_ROOT = Path(__file__).resolve().parent.parent


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, tuples, mpmath numbers and non-finite floats to plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if math.isfinite(obj):
            return float(obj)
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):  # numpy arrays and scalars
        return _jsonable(tolist())
    module = type(obj).__module__ or ""
    if module.startswith("mpmath"):
        return str(obj)
    raise TypeError(f"value of type {type(obj).__name__} is not JSON-serialisable: {obj!r}")


def to_jsonable(obj: Any) -> Any:
    """Plain-JSON copy of ``obj`` (numpy -> lists/floats, mpmath -> decimal strings, nan/inf -> strings).

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonable({"x": np.float64(0.5), "y": (1, float("nan"))})
    {'x': 0.5, 'y': [1, 'nan']}
    """
    return _jsonable(obj)


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys, no whitespace and shortest round-trip floats: equal data, equal text."""
    return json.dumps(_jsonable(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def content_hash(obj: Any) -> str:
    """"sha256:" + hex SHA-256 of ``canonical_json(obj)``."""
    return "sha256:" + hashlib.sha256(canonical_json(obj).encode("ascii")).hexdigest()


def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


@lru_cache(maxsize=1)
def git_state() -> dict:
    """{'commit': sha or None, 'dirty': bool or None, 'describe': str or None} of the toolkit's source tree.

    ``dirty`` is True when tracked files differ from the commit or untracked, non-ignored files exist;
    then the commit alone does not identify the code, and reports say so.
    """
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None, "describe": None}
    status = _git("status", "--porcelain", "--untracked-files=normal")
    return {
        "commit": commit,
        "dirty": None if status is None else bool(status),
        "describe": _git("describe", "--always", "--dirty"),
    }


def _version(dist: str) -> str | None:
    try:
        return _metadata.version(dist)
    except _metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def _cvxpy_solvers() -> list[str] | None:
    try:
        import cvxpy

        return sorted(cvxpy.installed_solvers())
    except Exception:  # noqa: BLE001 - a broken solver install must not stop a report; record it as unknown
        return None


def package_environment() -> dict:
    """Toolkit, Python and key package versions, from installed metadata only (cheap: imports nothing)."""
    env = _static_environment()
    return {k: env[k] for k in ("toolkit", "python", "packages")}


@lru_cache(maxsize=1)
def _static_environment() -> dict:
    return {
        "toolkit": {"name": TOOLKIT_DISTRIBUTION, "version": _version(TOOLKIT_DISTRIBUTION)},
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "packages": {name: _version(name) for name in KEY_PACKAGES},
        "platform": {"system": platform.system(), "release": platform.release(), "machine": platform.machine(),
                     "platform": platform.platform(), "node": platform.node(), "cpu_count": os.cpu_count()},
    }


def utc_now() -> str:
    """Current UTC time, ISO 8601 with microseconds and a 'Z' suffix."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def collect_provenance(argv: Sequence[str] | None = None, seeds: Sequence[int] | None = None) -> dict:
    """Everything needed to trace a number: toolkit version, git commit and dirty flag, Python and key
    package versions (with the installed cvxpy solvers), platform, command line, seeds and a UTC timestamp.

    ``argv`` defaults to ``sys.argv``; ``seeds`` are recorded as given (ints).
    """
    env = _static_environment()
    solvers = _cvxpy_solvers()
    return {
        **{k: (dict(v) if isinstance(v, dict) else v) for k, v in env.items()},
        "solvers": {"cvxpy_installed": solvers, "default_sdp": "CLARABEL" if solvers and "CLARABEL" in solvers else None},
        "git": git_state(),
        "argv": list(sys.argv if argv is None else argv),
        "cwd": os.getcwd(),
        "process": {"pid": os.getpid(), "host": platform.node()},
        "seeds": [int(s) for s in (seeds or [])],
        "timestamp_utc": utc_now(),
    }

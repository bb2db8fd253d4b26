"""One folder per run under an output root, so runs never overwrite each other: ``ROOT/<run-id>/`` and a
``ROOT/latest`` symbolic link to the newest.

Examples
--------
>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> a = new_run_folder(root, "r1"); b = new_run_folder(root, "r2")
>>> (root / "latest").resolve() == b.resolve(), a.is_dir()
(True, True)
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from theory.errors import InputError

LATEST = "latest"


def new_run_folder(root: str | os.PathLike, run_id: str) -> Path:
    """Create ``root/run_id`` (refusing one that exists) and point ``root/latest`` at it.

    A ``latest`` that is not a symbolic link (a folder or file of the user's) is left alone."""
    base = Path(root)
    if base.exists() and not base.is_dir():
        raise InputError("out", "expected a directory for the run folders", got=str(base))
    try:
        base.mkdir(parents=True, exist_ok=True)
        folder = base / run_id
        folder.mkdir()
    except FileExistsError:
        raise InputError("out", f"run folder {folder} exists already; nothing was overwritten") from None
    except OSError as err:
        raise InputError("out", f"cannot create the run folder ({err.strerror})", got=str(base)) from None
    latest = base / LATEST
    if latest.is_symlink() or not latest.exists():
        tmp = base / f".{LATEST}-{uuid.uuid4().hex[:8]}"
        os.symlink(run_id, tmp)
        os.replace(tmp, latest)
    return folder


def check_output_root(root: str | os.PathLike) -> Path:
    """Refuse, before any work starts, an output root that is a file or cannot be created."""
    base = Path(root)
    if base.exists() and not base.is_dir():
        raise InputError("out", "expected a directory for the run folders, not a file", got=str(base))
    parent = next((p for p in [base, *base.parents] if p.exists()), Path("."))
    if not os.access(parent, os.W_OK):
        raise InputError("out", "cannot create the output folder here (permission denied)", got=str(base))
    return base

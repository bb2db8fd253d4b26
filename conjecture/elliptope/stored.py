"""The elliptope certificates shipped with the package, checked once per process, for the signed-beta verdicts.

    >>> proof = stored_proof(3, "relu")
    >>> proof.check.ok, proof.file_name
    (True, 'relu_M3.json')
    >>> stored_proof(4, "relu") is None     # no certificate for M = 4 (out of reach, docs/signed_beta.md)
    True

A sweep never re-proves: it re-checks the stored file with the independent checker (0.3 s for M = 3) and cites
its sha256. Regenerate the file with ``twolayer certificate prove --M 3 --out FILE``.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass

from conjecture.elliptope.checker import ElliptopeCheck, check_file

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
SHIPPED = {(3, "relu"): "relu_M3.json"}


@dataclass(frozen=True)
class StoredProof:
    """A shipped certificate and the result of checking it in this process."""

    M: int
    activation: str
    path: str
    check: ElliptopeCheck

    @property
    def file_name(self) -> str:
        return os.path.basename(self.path)

    def summary(self) -> dict:
        """What a conjecture cell records: file, sha256, statement and what the checker verified."""
        c = self.check
        return {"file": f"conjecture/elliptope/data/{self.file_name}", "sha256": c.sha256, "checked": c.ok,
                "boxes": c.boxes, "by_claim": dict(c.by_claim), "check_seconds": c.wall_s, "statement": c.statement,
                "covers": f"every d >= {self.M - 1} (the rank constraint is dropped)", "failure": c.failure}

    def reason(self) -> str:
        c = self.check
        return (f"elliptope certificate {self.file_name} (sha256 {c.sha256[:16]}...), {c.boxes} boxes re-checked by "
                f"the independent checker: q(G) <= q_ETF on all of E_{self.M}, equality only at the ETF")


@functools.lru_cache(maxsize=None)
def certificate_digest(M: int, activation: str) -> str | None:
    """The first 16 hex digits of the shipped certificate's sha256 for (M, activation), or None (no check run).

    A conjecture cell carries it as a parameter, so a cell computed before a certificate existed (or with another
    one) is not reused from the result store."""
    name = SHIPPED.get((M, activation))
    path = os.path.join(DATA_DIR, name) if name else None
    if path is None or not os.path.isfile(path):
        return None
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def stored_proof(M: int, activation: str) -> StoredProof | None:
    """The shipped certificate for (M, activation) with its check (``check.ok``), or None when none is shipped."""
    name = SHIPPED.get((M, activation))
    if name is None:
        return None
    path = os.path.join(DATA_DIR, name)
    if not os.path.isfile(path):
        return None
    return StoredProof(M, activation, path, check_file(path))

"""The shipped (4, 4) orientation certificate: min over every ETF orientation of F > T (regime III, ReLU, Rademacher).

The float-interval branch-and-bound of ``conjecture.orientation_bnb_float`` ran once, for 56 min on one core, on
the chart ``hyperplane_in_r4``. It closed 5,284,766 boxes. Two trees record it, under data/orientation_44/: the
first run, and a resumed run of its open boxes. ``certificate.json`` is their header: the threshold T as an exact
fraction, each tree's sha256, the counts by test, and the independent check's figures. The check is
``conjecture.orientation_tree_check``, which shares no code with the search: exact tiling, dropped boxes outside
the domain, and 200 random leaves re-proved in arb.

A regime III cell at (M, d) = (4, 4) with the exact Rademacher objective for ReLU at abar = 1 uses this bound
instead of running its own arb search (27 days projected, docs/regime3.md §3.4). It does so only when both trees
still have their recorded sha256. ``twolayer certificate check`` does not re-run the search;
``python -m conjecture.orientation_tree_check`` re-checks the trees.

References: docs/regime3.md §3.5.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "orientation_44"


@dataclass(frozen=True)
class StoredFamilyBound:
    """The shipped lower bound over ETF orientations, with whether its trees still match their sha256."""

    threshold: Fraction
    header: dict
    intact: bool
    failure: str

    def as_dict(self) -> dict:
        """The shape of ``FamilyLowerBound.as_dict`` (family, threshold, search, certified) plus the provenance."""
        h = self.header
        return {"M": h["M"], "d": h["d"], "law": h["law"], "family": h["family"], "reduction": "stored certificate",
                "threshold": h["threshold"], "certified": self.intact,
                "search": {"certified": self.intact, "boxes": h["boxes"], "seconds": h["seconds"],
                           "reason": ("stored float-interval certificate (conjecture/data/orientation_44, "
                                      f"{h['boxes']} boxes in {h['seconds']:.0f} s, closed by "
                                      + ", ".join(f"{k} {v}" for k, v in sorted(h["closed_by"].items()) if v)
                                      + "; independently: exact tiling and "
                                      f"{h['independent_check']['reproved']} of {h['independent_check']['checked']} "
                                      "random leaves re-proved in arb; assumes " + h["assumption"] + ")")
                           if self.intact else f"stored certificate rejected: {self.failure}"},
                "stored": {"trees": h["trees"], "independent_check": h["independent_check"],
                           "assumption": h["assumption"], "lowest_value_bound": h["lowest_value_bound"]}}


def _applies(M: int, d: int, activation: str, law: str | None, objective: str | None, abar: float) -> bool:
    return ((M, d) == (4, 4) and activation == "relu" and law == "rademacher" and objective in (None, "exact")
            and abar == 1.0)


@lru_cache(maxsize=None)
def _read_checked(data: Path) -> tuple[dict, str]:
    """(header, failure) of the certificate in ``data``; failure is "" when every tree has its recorded sha256.
    Read once per folder and process (the trees are 1.5 MB)."""
    header = json.loads((data / "certificate.json").read_text(encoding="utf-8"))
    for tree in header["trees"]:
        path = data / tree["file"]
        if not path.is_file():
            return header, f"{tree['file']} is missing"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != tree["sha256"]:
            return header, f"{tree['file']} has sha256 {digest}, the header records {tree['sha256']}"
    return header, ""


def stored_family_bound(summary, M: int, d: int) -> StoredFamilyBound | None:
    """The shipped bound when ``summary`` is the one it was computed for (else None); ``intact`` is False when a
    tree file is missing or its sha256 differs from the header's."""
    if not _applies(M, d, summary.activation.name, getattr(summary, "law", None),
                    getattr(summary, "objective", None) or "", float(summary.abar)):
        return None
    header, failure = _read_checked(DATA)
    return StoredFamilyBound(Fraction(header["threshold"]), header, not failure, failure)


def family_certificate_digest(M: int, d: int, activation: str, law: str | None, objective: str | None) -> str | None:
    """The first 16 hex digits of the sha256 of ``certificate.json`` (which records each tree's sha256) for the
    cell this certificate serves, else None.  A conjecture cell carries it as a parameter, so a cell computed
    before the certificate existed (or with another one) is not reused from the result store."""
    if not _applies(M, d, activation, law, objective, 1.0):
        return None
    return hashlib.sha256((DATA / "certificate.json").read_bytes()).hexdigest()[:16]

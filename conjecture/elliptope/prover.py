"""Branch-and-bound proof that q(G) <= q_ETF on the elliptope E_3 (ReLU, signed beta), written as a certificate.

    >>> run = prove_m3()                       # about 2 s
    >>> run.complete, run.counts["local"], len(run.boxes) == sum(run.counts.values())
    (True, 8, True)

The boxes are the leaves of the canonical bisection tree of [-1, 1]^3 (split the widest coordinate, lowest index
on ties, at its midpoint), restricted to the fundamental domain g12 >= g13 >= g23 of the permutation symmetry.
A node is a leaf when one claim holds on it (in this order): corner, not_psd, local (near the ETF), then
upper_bound by the triangle or Taylor bound for the first rung u of UPPER_LADDER that works. Claims are explained
in conjecture.elliptope.triangle_claims and docs/signed_beta.md; the checker re-verifies them independently.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from flint import arb, fmpq

from conjecture.elliptope.triangle_claims import (SortedBox, c_of, corner_margin, local_margin, not_psd_witness,
                                                  q_star, taylor_bound, triangle_bound)
from conjecture.elliptope.feature_distance import angle
from conjecture.interval import working_bits

FORMAT = "twolayer-elliptope-certificate/1"
PROOF_BITS = 192
# Rational upper bounds tried in order, each below q_ETF = 4.92612632324537...
UPPER_LADDER = tuple(fmpq(n, d) for n, d in ((49, 10), (4925, 1000), (4926, 1000), (49261, 10000),
                                              (492612, 100000), (4926126, 1000000)))
CORNER_G13 = fmpq(1023, 1024)          # theta2 <= arccos(1023/1024) = 0.0442 < 2 c l(eps) = 0.0609
CORNER_UPPER = fmpq(49, 10)
LOCAL_HALF_WIDTH = fmpq(1, 256)        # local claims only on boxes inside the ETF's g-cube of this half-width
ETF_ENTRY = fmpq(-1, 2)
MAX_DEPTH = 60


@dataclass(frozen=True)
class BoxClaim:
    """One leaf: its box (rationals as strings) and the claim that disposes of it."""

    lo: tuple[str, str, str]
    hi: tuple[str, str, str]
    claim: str                      # "upper_bound", "not_psd" or "local"
    method: str | None = None       # for upper_bound: "triangle", "taylor" or "corner"
    upper: str | None = None        # for upper_bound: the rational u with q <= u on the box
    multiplier: str | None = None   # for taylor: the Lagrange multiplier nu >= 0 of sum theta <= 2 pi
    witness: tuple[str, str, str] | None = None   # for not_psd

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v is not None}


@dataclass
class ProofRun:
    """The prover's result: the certificate's boxes and what it measured."""

    boxes: list[BoxClaim]
    q_etf: tuple[fmpq, fmpq]
    counts: dict[str, int] = field(default_factory=dict)
    depth_counts: dict[int, int] = field(default_factory=dict)
    unresolved: int = 0
    wall_s: float = 0.0

    @property
    def complete(self) -> bool:
        return self.unresolved == 0

    def to_document(self) -> dict:
        """The certificate as a JSON-ready dict (the format of docs/signed_beta.md)."""
        return {
            "format": FORMAT, "kind": "signed_beta_elliptope",
            "statement": "for every G in E_3 = {G psd, G_jj = 1}: q(G) = 1^T (kappa∘G)^+ 1 <= q_etf, "
                         "with equality only at G_ETF (g12 = g13 = g23 = -1/2)",
            "M": 3, "activation": "relu",
            "normalisation": "kappa(t) = E[relu(x) relu(y)] for standard Gaussians with correlation t; kappa(1) = 1/2",
            "q_etf": [_q(self.q_etf[0]), _q(self.q_etf[1])],
            "symmetry": "permutations", "fundamental_domain": "g12 >= g13 >= g23",
            "entry_order": ["12", "13", "23"],
            "root": {"lo": ["-1", "-1", "-1"], "hi": ["1", "1", "1"]},
            "split_rule": "bisect the widest coordinate (lowest index on ties) at its midpoint",
            "corner": {"g13_min": _q(CORNER_G13)},
            "boxes": [b.to_dict() for b in self.boxes],
            "prover": {"bits": PROOF_BITS, "wall_s": round(self.wall_s, 3), "counts": dict(sorted(self.counts.items())),
                       "boxes_per_depth": {str(k): v for k, v in sorted(self.depth_counts.items())},
                       "unresolved": self.unresolved},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_document(), indent=1)


def _q(x: fmpq) -> str:
    return str(x)


def _rational_bounds(ball: arb, digits: int = 40) -> tuple[fmpq, fmpq]:
    scale = 10 ** digits
    n = int((ball * scale).mid().floor().unique_fmpz())
    lo, hi = fmpq(n - 1, scale), fmpq(n + 2, scale)
    assert arb(lo) < ball < arb(hi)
    return lo, hi


def _near_etf(lo, hi) -> bool:
    return all(l >= ETF_ENTRY - LOCAL_HALF_WIDTH and h <= ETF_ENTRY + LOCAL_HALF_WIDTH for l, h in zip(lo, hi))


def _leaf(lo, hi, rungs) -> BoxClaim | None:
    """The first claim that holds on the node, or None (split it)."""
    box = SortedBox.clip(lo, hi)
    strs = (tuple(map(_q, lo)), tuple(map(_q, hi)))
    if box.lo[1] >= CORNER_G13:
        return BoxClaim(*strs, "upper_bound", method="corner", upper=_q(CORNER_UPPER))
    witness = not_psd_witness(lo, hi)
    if witness is not None:
        return BoxClaim(*strs, "not_psd", witness=tuple(map(_q, witness)))
    if _near_etf(lo, hi):
        margin = local_margin(box)
        if margin is not None and margin > 0:
            return BoxClaim(*strs, "local")
    for u, c in rungs:
        phi = triangle_bound(box, c)
        if phi is not None and phi > 0:
            return BoxClaim(*strs, "upper_bound", method="triangle", upper=_q(u))
        found = taylor_bound(box, c)
        if found is not None and found[0] > 0:
            return BoxClaim(*strs, "upper_bound", method="taylor", upper=_q(u), multiplier=_q(fmpq(*float(found[1]).as_integer_ratio())))
    return None


def prove_m3(max_depth: int = MAX_DEPTH) -> ProofRun:
    """Run the branch-and-bound for M = 3, ReLU. ``unresolved`` counts nodes left at max_depth (0: complete)."""
    start = time.perf_counter()
    with working_bits(PROOF_BITS):
        qs = q_star()
        corner_ok = corner_margin(angle(CORNER_G13), c_of(CORNER_UPPER)) > 0
        assert corner_ok, "the corner lemma's constant does not hold at CORNER_G13"
        rungs = [(u, c_of(u)) for u in UPPER_LADDER if arb(u) < qs]
        run = ProofRun([], _rational_bounds(qs))
        stack = [((fmpq(-1),) * 3, (fmpq(1),) * 3, 0)]
        while stack:
            lo, hi, depth = stack.pop()
            if SortedBox.clip(lo, hi) is None:
                continue
            leaf = _leaf(lo, hi, rungs)
            if leaf is not None:
                run.boxes.append(leaf)
                key = leaf.method or leaf.claim
                run.counts[key] = run.counts.get(key, 0) + 1
                run.depth_counts[depth] = run.depth_counts.get(depth, 0) + 1
                continue
            if depth >= max_depth:
                run.unresolved += 1
                continue
            widths = [h - l for l, h in zip(lo, hi)]
            i = widths.index(max(widths))
            mid = (lo[i] + hi[i]) / 2
            stack.append((lo[:i] + (mid,) + lo[i + 1:], hi, depth + 1))
            stack.append((lo, hi[:i] + (mid,) + hi[i + 1:], depth + 1))
        run.wall_s = time.perf_counter() - start
        return run

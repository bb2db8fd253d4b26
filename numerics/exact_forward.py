"""Exact evaluation of a two-layer network with rational weights (``theory.memorization.Block``) at integer points.

    f(x) = output_bias + sum_blocks sum_j out_j * act(rows_j . (x, 1) / D),   act = relu or 1[. >= 0]

1. The sign of every pre-activation rows_j . (x, 1) (an integer) is decided in float64 with a rigorous
   error bound: each row is divided by its largest |entry| and rounded (relative error <= u), so the
   computed z satisfies |z - z_exact / max| <= 2 (d + 3) u sum_i |x_i| |q_i| (+ an underflow term);
   entries within that bound are decided exactly with Python integers.
2. Given the signs, a block contributes an affine function of x fixed by its pattern of active neurons:
   sum_{j active} out_j rows_j / D (ReLU) or sum_{j active} out_j (threshold), computed once per
   (block, pattern) in exact rationals; zero contributions are skipped, the others evaluated exactly at
   each point that has the pattern.  This is the forward pass, regrouped; nothing is rounded.

Examples
--------
>>> from fractions import Fraction
>>> from theory.memorization import Block
>>> blk = Block(((1, 0), (1, -1)), (Fraction(1), Fraction(-1)))
>>> r = evaluate([[0], [1], [3]], [blk], "relu", Fraction(0))
>>> [str(v) for v in r.values], r.exact_sign_checks
(['0', '1', '1'], 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

U = 2.0 ** -53
TINY = 2.0 ** -1074
# Neurons whose float pre-activations are held in memory at once (n x CHUNK floats).
CHUNK = 512


@dataclass(frozen=True)
class ExactOutputs:
    """f at every point (exact rationals) and how many signs needed the exact integer fallback."""

    values: tuple[Fraction, ...]
    exact_sign_checks: int
    sign_checks: int


def _unit_rows(rows: Sequence[Sequence[int]]) -> np.ndarray:
    out = np.empty((len(rows), len(rows[0])))
    for j, r in enumerate(rows):
        m = max(abs(v) for v in r) or 1
        out[j] = [float(Fraction(v, m)) for v in r]
    return out


def evaluate(points: Sequence[Sequence[int]], blocks, activation: str, output_bias: Fraction) -> ExactOutputs:
    """Exact f(x_i) for integer points (|coordinates| < 2^53); see the module docstring."""
    X = np.asarray(points, dtype=np.int64)
    n, d = X.shape
    X1f = np.hstack([X, np.ones((n, 1), dtype=np.int64)]).astype(np.float64)
    ints = [tuple(int(v) for v in row) + (1,) for row in X]
    absX = np.abs(X1f)
    values = [Fraction(output_bias)] * n
    flat = [(b, j) for b, blk in enumerate(blocks) for j in range(len(blk.rows))]
    codes: dict[int, np.ndarray] = {b: np.zeros(n, dtype=np.int64) for b in range(len(blocks))}
    fallback = 0
    for start in range(0, len(flat), CHUNK):
        part = flat[start:start + CHUNK]
        Q = _unit_rows([blocks[b].rows[j] for b, j in part])
        Z = X1f @ Q.T
        bound = 2.0 * (d + 3) * U * (absX @ np.abs(Q).T) + (d + 1) * absX.max(initial=1.0) * TINY * 4
        pos = Z > bound
        undecided = np.nonzero(~pos & ~(Z < -bound))
        fallback += len(undecided[0])
        zero = np.zeros_like(pos)
        for i, c in zip(*undecided):
            b, j = part[c]
            s = sum(a * w for a, w in zip(ints[i], blocks[b].rows[j]))
            pos[i, c] = s > 0
            zero[i, c] = s == 0
        active = pos | zero if activation == "threshold" else pos
        for c, (b, j) in enumerate(part):
            codes[b] |= active[:, c].astype(np.int64) << j
    for b, blk in enumerate(blocks):
        pats, inverse = np.unique(codes[b], return_inverse=True)
        for k, pat in enumerate(pats):
            on = [j for j in range(len(blk.rows)) if int(pat) >> j & 1]
            if activation == "threshold":
                const = sum((blk.out[j] for j in on), Fraction(0))
                if const:
                    for i in np.nonzero(inverse == k)[0]:
                        values[i] += const
                continue
            coef = [sum((blk.out[j] * blk.rows[j][t] for j in on), Fraction(0)) for t in range(d + 1)]
            if any(coef):
                for i in np.nonzero(inverse == k)[0]:
                    values[i] += sum((c * x for c, x in zip(coef, ints[i]) if c), Fraction(0)) / blk.denominator
    return ExactOutputs(tuple(values), fallback, n * len(flat))

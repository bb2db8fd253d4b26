"""Candidate frames (M unit vectors in R^d): random, simplex ETF and its perturbations, structured families,
and frames supplied by the user as JSON.

Every function returns float64 arrays of shape (B, M, d) with unit rows (a batch of B frames), or (M, d)
for a single frame where the name says so.

References: docs/model.md §5 (simplex ETF, M-gons in d = 2, antipodal pairs); regime (II) tilted ETFs.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np

from theory import limits
from theory.errors import InputError
from theory.etf import simplex_etf

# A user frame row counts as unit when | ||v|| - 1 | <= UNIT_TOL: 1e-9 allows frames written with ~10
# significant digits while still catching forgotten normalisation.
UNIT_TOL = 1e-9


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def random_frames(rng: np.random.Generator, batch: int, M: int, d: int) -> np.ndarray:
    """B frames with i.i.d. Haar-uniform rows (normalised Gaussians).

    Examples
    --------
    >>> random_frames(np.random.default_rng(0), 5, 3, 4).shape
    (5, 3, 4)
    """
    return _normalise(rng.standard_normal((batch, M, d)))


def random_rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    """A Haar-distributed orthogonal d x d matrix (QR of a Gaussian matrix with sign correction)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def etf_frame(M: int, d: int) -> np.ndarray:
    """The simplex ETF as a single frame (M, d); requires M <= d + 1."""
    return simplex_etf(M, d)


def perturbed_etfs(rng: np.random.Generator, batch: int, M: int, d: int, radius: float) -> np.ndarray:
    """Randomly rotated ETFs with every row moved by a tangent Gaussian of norm ``radius`` then renormalised.

    Examples
    --------
    >>> X = perturbed_etfs(np.random.default_rng(0), 3, 3, 2, 0.0)
    >>> bool(np.allclose(X[0] @ X[0].T, [[1, -.5, -.5], [-.5, 1, -.5], [-.5, -.5, 1]]))
    True
    """
    base = simplex_etf(M, d)
    out = np.empty((batch, M, d))
    for i in range(batch):
        x = base @ random_rotation(rng, d).T
        t = rng.standard_normal((M, d))
        t -= np.sum(t * x, axis=-1, keepdims=True) * x
        t *= radius / np.maximum(np.linalg.norm(t, axis=-1, keepdims=True), 1e-300)
        out[i] = _normalise(x + t)
    return out


def regular_polygon(M: int, d: int, phase: float = 0.0) -> np.ndarray:
    """Vertices of the regular M-gon in the (e_1, e_2) plane of R^d, shape (M, d); needs d >= 2."""
    ang = phase + 2 * np.pi * np.arange(M) / M
    out = np.zeros((M, d))
    out[:, 0], out[:, 1] = np.cos(ang), np.sin(ang)
    return out


def signed_lines(M: int, d: int) -> np.ndarray:
    """All frames on the M equally spaced lines at angles k pi / M of a plane, one per sign pattern
    (first sign fixed): shape (2^(M-1), M, d). For odd M this contains the regular M-gon."""
    ang = np.pi * np.arange(M) / M
    base = np.zeros((M, d))
    base[:, 0], base[:, 1] = np.cos(ang), np.sin(ang)
    signs = np.array([(1,) + s for s in itertools.product((1, -1), repeat=M - 1)], dtype=float)
    return signs[:, :, None] * base[None]


def polygon_unions(M: int, d: int, phases: int = 8) -> np.ndarray:
    """Unions of two regular polygons (M1 + M2 = M, each >= 2), in one plane with relative rotation
    (``phases`` values) or, for d >= 4, in two orthogonal planes (the product family)."""
    frames = []
    for m1 in range(2, M - 1):
        m2 = M - m1
        if m1 > m2:
            continue
        for k in range(phases):
            frames.append(np.vstack([regular_polygon(m1, d), regular_polygon(m2, d, np.pi * k / (phases * m2))]))
        if d >= 4:
            second = np.zeros((m2, d))
            second[:, 2:4] = regular_polygon(m2, 2)
            frames.append(np.vstack([regular_polygon(m1, d), second]))
    return np.array(frames).reshape(-1, M, d)


def cross_polytope(M: int, d: int) -> np.ndarray:
    """The first M of the 2d vectors +-e_i (ordered +e_1, -e_1, +e_2, ...); needs M <= 2d."""
    if M > 2 * d:
        raise InputError("neurons", f"the cross-polytope of R^d has 2d = {2 * d} vectors", got=M)
    out = np.zeros((M, d))
    for j in range(M):
        out[j, j // 2] = 1.0 if j % 2 == 0 else -1.0
    return out


def antipodal_plus_etf(M: int, d: int, pairs: int) -> np.ndarray:
    """``pairs`` antipodal pairs +-e_1, ..., +-e_pairs completed by a simplex ETF of M - 2 pairs vectors
    in the orthogonal complement (or in the same space when the complement is too small)."""
    rest = M - 2 * pairs
    out = np.zeros((M, d))
    for p in range(pairs):
        out[2 * p, p], out[2 * p + 1, p] = 1.0, -1.0
    if rest == 1:
        out[-1, min(pairs, d - 1)] = 1.0
    elif rest >= 2:
        free = d - pairs
        if free >= rest - 1:
            out[2 * pairs:, pairs:] = simplex_etf(rest, free)
        else:
            if rest <= d + 1:
                out[2 * pairs:] = simplex_etf(rest, d)
            elif d >= 2:
                out[2 * pairs:] = regular_polygon(rest, d)
            else:  # d = 1: the only directions are +-1
                out[2 * pairs:, 0] = [1.0 if k % 2 == 0 else -1.0 for k in range(rest)]
    return out


def tilted_etf(M: int, d: int, tilt: float, axis: int = 0) -> np.ndarray:
    """v_j = sin(tilt) e_axis + cos(tilt) u_j, u_j a simplex ETF of M vectors in e_axis^perp (needs d >= M).

    tilt = 0 is the ETF orthogonal to the axis; tilt = pi/2 collapses every vector onto e_axis.
    """
    if d < M:
        raise InputError("dim", f"a tilted ETF of M = {M} vectors needs d >= M", got=d)
    u = simplex_etf(M, d - 1)
    out = np.zeros((M, d))
    others = [k for k in range(d) if k != axis]
    out[:, others] = math.cos(tilt) * u
    out[:, axis] = math.sin(tilt)
    return out


def structured_frames(M: int, d: int) -> dict[str, np.ndarray]:
    """Every structured family that exists for (M, d), as a dict name -> (B, M, d) batch."""
    fam: dict[str, np.ndarray] = {}
    if M <= d + 1:
        fam["simplex_etf"] = etf_frame(M, d)[None]
    if d >= 2:
        fam["regular_polygon"] = regular_polygon(M, d)[None]
        if d == 2 and M <= 10:  # planar line configurations: 2^(M-1) frames, only where they are the candidates
            fam["signed_lines"] = signed_lines(M, d)
        if M >= 4 and d <= 4:
            fam["polygon_unions"] = polygon_unions(M, d)
    if M <= 2 * d:
        fam["cross_polytope"] = cross_polytope(M, d)[None]
    for pairs in range(1, M // 2 + 1):
        if pairs <= d:
            fam[f"antipodal{pairs}_plus_etf"] = antipodal_plus_etf(M, d, pairs)[None]
    return {k: _normalise(v) for k, v in fam.items()}


def load_user_frame(path: str | Path, *, M: int | None = None, d: int | None = None) -> np.ndarray:
    """Read a frame from JSON: a list of M rows of d finite numbers, each of unit norm (tolerance UNIT_TOL),
    or an object {"frame": [[...], ...]}. Raises InputError (argument ``frame``) naming what is wrong.

    The limits of ``theory.limits`` apply: a regular file only (``/dev/zero`` or a FIFO is refused, not
    read forever), at most MAX_JSON_BYTES, nested at most MAX_JSON_DEPTH deep, at most MAX_FRAME_ROWS rows
    of at most MAX_FRAME_DIM numbers.  Rows that repeat (<v_i, v_j> > 1 - DUPLICATE_ROW_TOL) are refused:
    the kernel matrix would be singular.  Antipodal rows (<v_i, v_j> = -1) are a legitimate frame and kept.
    """
    return user_frame_from_rows(limits.read_bounded_json(path, "frame"), M=M, d=d)


def user_frame_from_rows(data, *, M: int | None = None, d: int | None = None) -> np.ndarray:
    """The checks of ``load_user_frame`` on rows already in memory (a list of lists, a numpy array, or an
    object {"frame": rows}): the Python API's ``frame=`` argument."""
    if isinstance(data, np.ndarray):
        if data.dtype.kind not in "iuf":
            raise InputError("frame", "expected a real array (int or float)", got=str(data.dtype))
        data = data.tolist()
    if isinstance(data, tuple):
        data = [list(r) if isinstance(r, tuple) else r for r in data]
    if isinstance(data, dict):
        if "frame" not in data:
            raise InputError("frame", "a JSON object must have a 'frame' key holding the rows",
                             got=limits.shown(sorted(data)))
        data = data["frame"]
    if not isinstance(data, list) or not data or not all(isinstance(r, list) for r in data):
        raise InputError("frame", "expected a non-empty list of rows (lists of numbers)", got=type(data).__name__)
    if len(data) > limits.MAX_FRAME_ROWS:
        raise InputError("frame", f"at most {limits.MAX_FRAME_ROWS} rows", got=len(data))
    widths = {len(r) for r in data}
    if len(widths) != 1:
        raise InputError("frame", "rows have different lengths", got=limits.shown(sorted(widths)))
    if max(widths) > limits.MAX_FRAME_DIM:
        raise InputError("frame", f"rows of at most {limits.MAX_FRAME_DIM} numbers", got=max(widths))
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for r in data for x in r):
        raise InputError("frame", "entries must be numbers (not booleans, strings or lists)")
    try:
        arr = np.array(data, dtype=float)
    except OverflowError:
        raise InputError("frame", "an entry is too large for a float64; rows must have unit norm") from None
    if not np.all(np.isfinite(arr)):
        raise InputError("frame", "contains NaN or infinite entries")
    if M is not None and arr.shape[0] != M:
        raise InputError("frame", f"expected M = {M} rows", got=arr.shape[0])
    if d is not None and arr.shape[1] != d:
        raise InputError("frame", f"expected rows of length d = {d}", got=arr.shape[1])
    if arr.shape[0] < 2:
        raise InputError("frame", "needs at least M = 2 rows", got=arr.shape[0])
    if arr.shape[1] < 1:
        raise InputError("frame", "rows must hold at least one number (d >= 1)")
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.linalg.norm(arr, axis=1)
    worst = float(np.max(np.abs(norms - 1)))
    if not worst <= UNIT_TOL:
        raise InputError("frame", f"rows must have unit norm (|norm - 1| <= {UNIT_TOL:g})", got=round(worst, 12))
    frame = _normalise(arr)
    _check_distinct_rows(frame)
    return frame


def _check_distinct_rows(frame: np.ndarray) -> None:
    """Refuse two rows with <v_i, v_j> > 1 - DUPLICATE_ROW_TOL (i != j): a repeated neuron direction makes
    the M x M kernel matrix K singular (two equal rows; cond K ~ 1e307), so the frame's optimal output
    weights, and its value, are not defined.  Antipodal rows (<v_i, v_j> = -1) are not duplicates."""
    gram = frame @ frame.T
    np.fill_diagonal(gram, -np.inf)
    i, j = np.unravel_index(int(np.argmax(gram)), gram.shape)
    if gram[i, j] > 1 - limits.DUPLICATE_ROW_TOL:
        i, j = sorted((int(i), int(j)))
        raise InputError("frame", f"rows {i} and {j} repeat (<v_{i}, v_{j}> = {gram[i, j]:.15g} > 1 - "
                                  f"{limits.DUPLICATE_ROW_TOL:g}): a repeated direction makes the kernel matrix "
                                  f"singular; give each neuron its own direction (antipodal rows are allowed)")

"""The simplex equiangular tight frame (docs/model.md §5)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory.errors import InputError


def check_neurons_dim(M: object, d: object) -> tuple[int, int]:
    """Validate M >= 1, d >= 1 and M <= d + 1 (the simplex ETF exists iff M <= d + 1)."""
    if isinstance(M, bool) or not isinstance(M, int) or M < 1:
        raise InputError("M", "M must be an integer >= 1", got=M)
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise InputError("d", "d must be an integer >= 1", got=d)
    if M > d + 1:
        raise InputError("M", f"the simplex ETF needs M <= d + 1 = {d + 1}", got=M)
    return M, d


def simplex_etf_exact(M: int, d: int) -> sp.Matrix:
    """M x d exact matrix of unit rows with pairwise inner products -1/(M-1), embedded in R^d.

    Rows are the centred basis vectors e_j - 1/M of R^M, written in an orthonormal basis of
    the hyperplane sum = 0 (Helmert basis), scaled to unit length and padded with zeros.

    Examples
    --------
    >>> V = simplex_etf_exact(3, 2)
    >>> (V * V.T).applyfunc(sp.nsimplify)
    Matrix([
    [   1, -1/2, -1/2],
    [-1/2,    1, -1/2],
    [-1/2, -1/2,    1]])
    """
    check_neurons_dim(M, d)
    if M == 1:
        return sp.Matrix([[1] + [0] * (d - 1)])
    # Helmert basis of {x in R^M : sum x = 0}: h_k = (1, ..., 1, -k, 0, ...)/sqrt(k(k+1)), k = 1..M-1.
    basis = []
    for k in range(1, M):
        h = [sp.Integer(1)] * k + [sp.Integer(-k)] + [sp.Integer(0)] * (M - k - 1)
        basis.append([x / sp.sqrt(k * (k + 1)) for x in h])
    scale = sp.sqrt(sp.Rational(M, M - 1))
    rows = []
    for j in range(M):
        centred = [sp.Integer(1 if i == j else 0) - sp.Rational(1, M) for i in range(M)]
        coords = [scale * sum(c * h for c, h in zip(centred, hk)) for hk in basis]
        rows.append([sp.radsimp(x) for x in coords] + [sp.Integer(0)] * (d - (M - 1)))
    return sp.Matrix(rows)


def simplex_etf(M: int, d: int) -> np.ndarray:
    """Float64 simplex ETF, shape (M, d): the rows of ``simplex_etf_exact`` (same Helmert basis), built directly.

    Row j has coordinate k - 1 (k = 1..M-1) equal to sqrt(M / (M - 1)) h_k[j], with the Helmert vector
    h_k = (1, ..., 1, -k, 0, ..., 0) / sqrt(k (k + 1)); columns M-1..d-1 are zero.  Each entry is a few
    float operations (within 2 ulps of the exact value), so M in the thousands costs milliseconds, where
    the exact sympy construction grows like M^3 (a minute at M = 80).

    Examples
    --------
    >>> V = simplex_etf(4, 5)
    >>> bool(np.allclose(V @ V.T, (4 * np.eye(4) - 1) / 3))
    True
    """
    check_neurons_dim(M, d)
    V = np.zeros((M, d))
    if M == 1:
        V[0, 0] = 1.0
        return V
    k = np.arange(1, M, dtype=float)
    below = np.sqrt(M / ((M - 1) * k * (k + 1)))  # rows j < k
    at = -np.sqrt(M * k / ((M - 1) * (k + 1)))    # row j == k
    j = np.arange(M)[:, None]
    kk = np.arange(1, M)[None, :]
    V[:, : M - 1] = np.where(j < kk, below[None, :], np.where(j == kk, at[None, :], 0.0))
    return V

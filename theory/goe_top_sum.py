"""The sum of the k largest eigenvalues of a traceless GOE matrix: E[sum_{i<=k} lambda_i(H0)] and its moments.

    H = (A + A^T)/sqrt(2), A_ab i.i.d. N(0, 1)   (off-diagonal variance 1, diagonal variance 2: density ~ exp(-tr H^2/4)),
    H0 = H - (tr H / d) I   (traceless: the limit law of sqrt(N) S_N / s in docs/finite_n_gain.md, step 3).

E[sum_{i<=k} lambda_i(H0)] = E[sum_{i<=k} lambda_i(H)] because E tr H = 0; the second moments differ. Values:

* d = 2, k = 1: lambda_1(H0) = sqrt(((H11 - H22)/2)^2 + H12^2), a Rayleigh variable: mean sqrt(pi/2), E lambda^2 = 2 (exact);
* k = d: the sum is 0; k = d - 1: minus the smallest eigenvalue, so the mean equals that of k = 1;
* otherwise seeded Monte Carlo, with the standard error of each mean;
* large d, k fixed: the k top eigenvalues sit at the semicircle edge 2 sqrt(d), so the mean is 2 k sqrt(d) (1 + O(d^-2/3)),
  the O(d^-2/3) being the Tracy-Widom shift d^{-1/6} E[TW_i] of each of them (``semicircle_top_sum``).

References: Mehta, "Random Matrices" (3rd ed., 2004), ch. 3 (GOE density); Tracy & Widom, Comm. Math. Phys. 177 (1996)
(edge); used in docs/finite_n_gain.md.

Examples
--------
>>> r = traceless_goe_top_sum(2, 1)
>>> r.method, round(r.mean, 12), r.mean_se
('exact (Rayleigh)', 1.253314137316, 0.0)
>>> m = traceless_goe_top_sum(8, 2, samples=4000, seed=1)
>>> round(m.mean, 2), round(m.mean_se, 3), m.samples, m.seed
(7.58, 0.017, 4000, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theory.errors import InputError

# Matrices per batch: keeps a batch of d x d float64 matrices below ~160 MB.
_BATCH_ENTRIES = 20_000_000
DEFAULT_SAMPLES = 20_000
MAX_SAMPLES = 2_000_000


@dataclass(frozen=True)
class GOETopSum:
    """E[s_k], E[s_k^2] and E[sum_{i<=k} lambda_i^2] for s_k = sum_{i<=k} lambda_i(H0), with standard errors.

    ``method`` is 'exact (...)' (standard errors 0) or 'Monte Carlo' (``samples`` matrices from ``seed``).
    """

    d: int
    k: int
    mean: float
    mean_se: float
    sum_squared: float       # E[s_k^2]
    sum_squared_se: float
    squares_sum: float       # E[sum_{i<=k} lambda_i^2]
    squares_sum_se: float
    method: str
    samples: int
    seed: int | None
    source: str = "theory.goe_top_sum (traceless GOE, off-diagonal variance 1)"

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


def _check(d: object, k: object) -> tuple[int, int]:
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise InputError("d", "matrix size must be an integer >= 1", got=d)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= d:
        raise InputError("k", f"number of top eigenvalues must be an integer in 1..d = {d}", got=k)
    return d, k


def traceless_goe_eigenvalues(d: int, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Eigenvalues, largest first, of ``samples`` independent traceless GOE matrices of size d: shape (samples, d)."""
    batch = max(1, _BATCH_ENTRIES // (d * d))
    out = np.empty((samples, d))
    for start in range(0, samples, batch):
        n = min(batch, samples - start)
        a = rng.standard_normal((n, d, d))
        h = (a + a.transpose(0, 2, 1)) / math.sqrt(2.0)
        shift = np.trace(h, axis1=1, axis2=2) / d
        h[:, np.arange(d), np.arange(d)] -= shift[:, None]
        out[start:start + n] = np.linalg.eigvalsh(h)[:, ::-1]
    return out


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.inf


def traceless_goe_top_sum(d: int, k: int, *, samples: int = DEFAULT_SAMPLES, seed: int | None = 0) -> GOETopSum:
    """E[sum of the k largest eigenvalues of H0] and two second moments: exact where known, else Monte Carlo.

    The d = 1 matrix is 0. For d = 2, k = 1 (and k = 2, the sum 0) the values are exact.
    """
    d, k = _check(d, k)
    if k == d:  # the trace: 0; E tr H0^2 = d (d - 1) + d * 2 (d - 1)/d = (d - 1)(d + 2)
        return GOETopSum(d, k, 0.0, 0.0, 0.0, 0.0, float((d - 1) * (d + 2)), 0.0, "exact (trace 0)", 0, None)
    if d == 2:
        return GOETopSum(d, k, math.sqrt(math.pi / 2), 0.0, 2.0, 0.0, 2.0, 0.0, "exact (Rayleigh)", 0, None)
    if isinstance(samples, bool) or not isinstance(samples, int) or not 2 <= samples <= MAX_SAMPLES:
        raise InputError("samples", f"expected an integer in 2..{MAX_SAMPLES}", got=samples)
    rng = np.random.default_rng(seed)
    ev = traceless_goe_eigenvalues(d, samples, rng)[:, :k]
    s = ev.sum(axis=1)
    m, se = _mean_se(s)
    m2, se2 = _mean_se(s * s)
    q, seq = _mean_se(np.sum(ev * ev, axis=1))
    return GOETopSum(d, k, m, se, m2, se2, q, seq, "Monte Carlo", samples, seed)


def semicircle_top_sum(d: int, k: int) -> float:
    """Large-d form of E[sum_{i<=k} lambda_i(H0)] for fixed k: k eigenvalues at the semicircle edge 2 sqrt(d).

    Examples
    --------
    >>> semicircle_top_sum(16, 4)
    32.0
    """
    d, k = _check(d, k)
    return 2.0 * k * math.sqrt(d)

"""The orientation map of regime III: how the best ETF orientation follows the entry law, and where the optimum
stops being an ETF, over the fourth cumulant kappa_4 of the entries (exact objective, ``theory.exact_anisotropic``).

For each law, M and d (M <= d + 1): the best ETF orientation (``conjecture.etf_rotation_search``, numerical), its
axis alignment

    a = mean_j (sum_i v_ji^4 - 1/d) / (1 - 1/d)   in [0, 1]   (0: every row a cube diagonal, entries +-1/sqrt d;
                                                               1: every row a coordinate axis),

with its range over the rows (in d = 2 the mean is the same for every orientation of the 3-ETF: the rows'
sum_i v_i^4 add up to 9/8, so only the range tells orientations apart), and a free search over all frames (perturbed copies of that ETF and Haar-random frames, ``conjecture.refine``).
The optimum is called an ETF when the free search finds nothing below F_ETF - SEARCH_RTOL C_target and its Gram
matrix is within GRAM_TOL of the ETF's; otherwise the deformation is measured: max |G - G_ETF|, the Gram spectrum
and the distinct inner products ('deformed'). For the uniform law (a cubature rule) an entry whose estimated
cubature error exceeds a tenth of the gain is 'unresolved'. All values are relative to C_target (abar = 1).

At leading order b(v^) = abar c_d + mu_4^2 kappa_4 (sum_i v_i^4 - 3/(d+2)) / d^2 (docs/derivations.md, regime III):
kappa_4 < 0 (Rademacher, uniform, sparse Rademacher with p > 1/3) rewards rows near the cube diagonals,
kappa_4 > 0 (sparse Rademacher with p < 1/3) rows near the axes; kappa_4 = 0 (p = 1/3) leaves only the higher
cumulants. The map measures how far the exact optimum follows this.

References: the paper's abstract ("the orientation of the ETF depends on the parameters of the target network",
Amani et al., ITW 2022, arXiv:2205.08199); derived here (docs/regime3.md, "the orientation map").

Examples
--------
>>> out = orientation_study({3: [2]}, laws=("rademacher",), starts=4, free_starts=4)
>>> row = out["rows"][0]
>>> row["kappa4"], row["optimum"], round(row["alignment"], 3)
(-2.0, 'deformed', 0.5)
"""

from __future__ import annotations

import time

import numpy as np

from conjecture import frames as fr
from conjecture.cost import ReducedCost
from conjecture.etf_rotation_search import etf_orientation_search
from conjecture.refine import refine
from conjecture.verdict import SEARCH_RTOL
from theory.exact_anisotropic import exact_summary

# The laws of the default map, ordered by kappa_4: Rademacher (-2), sparse Rademacher p = 3/4 (-5/3), uniform
# (-6/5), p = 1/2 (-1), p = 1/3 (0), p = 1/4 (1), p = 1/8 (5).
ORIENTATION_LAWS = ("rademacher", "sparse_rademacher(3/4)", "uniform", "sparse_rademacher(1/2)",
                    "sparse_rademacher(1/3)", "sparse_rademacher(1/4)", "sparse_rademacher(1/8)")
# A frame is the ETF when its Gram matrix is within this of -1/(M-1) off the diagonal (conjecture.cells.GRAM_TOL).
GRAM_TOL = 1e-5
# Radii of the perturbed copies of the best ETF orientation that start the free search.
PERTURBATION_RADII = (0.02, 0.1, 0.3)


def row_alignments(rows: np.ndarray) -> np.ndarray:
    """(sum_i v_ji^4 - 1/d) / (1 - 1/d) per row j (0: a cube diagonal, 1: a coordinate axis)."""
    d = rows.shape[1]
    if d == 1:
        return np.ones(rows.shape[0])
    return (np.sum(rows**4, axis=1) - 1 / d) / (1 - 1 / d)


def alignment(rows: np.ndarray) -> float:
    """mean_j (sum_i v_ji^4 - 1/d) / (1 - 1/d): 0 for rows on cube diagonals, 1 for rows on coordinate axes.

    Examples
    --------
    >>> alignment(np.eye(3)), alignment(np.full((2, 4), 0.5))
    (1.0, 0.0)
    """
    d = rows.shape[1]
    if d == 1:
        return 1.0
    q = np.sum(rows**4, axis=1)
    return float(np.mean((q - 1 / d) / (1 - 1 / d)))


def _perturbed(rng: np.random.Generator, rows: np.ndarray, n: int) -> np.ndarray:
    out = []
    for i in range(n):
        r = PERTURBATION_RADII[i % len(PERTURBATION_RADII)]
        x = rows + r * rng.standard_normal(rows.shape)
        out.append(x / np.linalg.norm(x, axis=1, keepdims=True))
    return np.array(out)


def orientation_row(law: str, M: int, d: int, *, activation: str = "relu", rng: np.random.Generator,
                    starts: int = 16, free_starts: int = 24, max_iter: int = 300) -> dict:
    """One entry of the map (see the module docstring)."""
    t0 = time.perf_counter()
    s = exact_summary(activation, d, law)
    C = s.constant()
    orient = etf_orientation_search(s, M, d, rng, starts=starts)
    etf_rows = orient.rows
    n_pert = max(1, free_starts // 2)
    x0 = np.concatenate([etf_rows[None], _perturbed(rng, etf_rows, n_pert),
                         fr.random_frames(rng, max(1, free_starts - n_pert), M, d)])
    res = refine(ReducedCost(s), x0, max_iter=max_iter)
    x = res.points[res.best]
    F_free = float(res.values[res.best])
    G = x @ x.T
    G_etf = (M * np.eye(M) - 1) / (M - 1)
    deformation = float(np.max(np.abs(G - G_etf)))
    gain = (orient.value - F_free) / C
    is_etf = gain <= SEARCH_RTOL and deformation < GRAM_TOL
    optimum = "ETF" if is_etf else "deformed"
    if s.error_estimate is not None and s.error_estimate / C > max(abs(gain), SEARCH_RTOL) / 10:
        optimum = "unresolved"  # the cubature's error is not small against the gain: neither label is justified
    off = G[~np.eye(M, dtype=bool)]
    return {"law": s.law, "kappa4": float(s.kappa4), "M": M, "d": d, "objective": s.objective,
            "cubature_error": s.error_estimate, "C_target": C,
            "F_etf_rel": orient.value / C, "F_free_rel": max(F_free, 0.0) / C, "gain_rel": float(gain),
            "alignment": alignment(etf_rows),
            "alignment_range": [float(np.clip(row_alignments(etf_rows).min(), 0, 1)),
                                float(np.clip(row_alignments(etf_rows).max(), 0, 1))],
            "row_fourth_moments": [round(v, 6) for v in orient.row_fourth_moments],
            "etf_rows": np.round(etf_rows, 8).tolist(), "optimum": optimum,
            "deformation_max_gram": deformation,
            "free_gram_eigenvalues": (np.round(np.linalg.eigvalsh(G), 6) + 0.0).tolist(),  # + 0.0: no -0
            "free_inner_products": sorted(set(np.round(off, 4).tolist())),
            "free_beta": np.round(res.betas[res.best], 6).tolist(),
            "starts": {"orientation": orient.starts, "free": int(x0.shape[0]), "orientation_at_best": orient.hits},
            "seconds": round(time.perf_counter() - t0, 2)}


def orientation_study(cells: dict, *, activation: str = "relu", laws=ORIENTATION_LAWS, seed: int = 0,
                      starts: int = 16, free_starts: int = 24, max_iter: int = 300) -> dict:
    """The map over ``laws`` for the (M, d) of ``cells`` ({M: [d, ...]}, M <= d + 1 kept)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    rows, skipped = [], []
    for law in laws:
        for M in sorted(cells):
            for d in sorted(cells[M]):
                if M > d + 1 or d < 2:
                    skipped.append({"M": M, "d": d, "why": "no simplex ETF (M > d + 1)" if M > d + 1 else "d = 1"})
                    continue
                rows.append(orientation_row(law, M, d, activation=activation, rng=rng, starts=starts,
                                            free_starts=free_starts, max_iter=max_iter))
    rows.sort(key=lambda r: (r["M"], r["d"], r["kappa4"]))
    return {"activation": activation, "seed": seed, "laws": list(laws), "rows": rows,
            "skipped": [dict(t) for t in {tuple(sorted(x.items())) for x in skipped}],
            "normalisation": "abar = 1; F relative to C_target; alignment 0 = rows on cube diagonals, 1 = on axes",
            "tolerances": {"search_rtol": SEARCH_RTOL, "gram_tol": GRAM_TOL},
            "seconds": round(time.perf_counter() - t0, 2)}

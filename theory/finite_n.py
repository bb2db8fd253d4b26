"""Finite-N constants of regime (I): exact bias and exact variance of L_N(theta) over target draws.

Setting (docs/model.md §1 and §6): target neurons X_i = (alpha_i, w^_i), i = 1..N, i.i.d., with w^_i uniform on
S^{d-1} and independent of the scaling factor alpha_i = a_i ||w_i||^n (true for Gaussian weights; for other entry
laws it is the regime-I model, exact up to the O(d^-2) anisotropy of regime III). For fixed theta = (beta, V):

  L_N = (1/N^2) sum_i alpha_i^2 kappa(1) + (1/N^2) sum_{i != i'} alpha_i alpha_i' kappa(<w^_i, w^_i'>)
        - (2/N) sum_i alpha_i g(w^_i) + beta^T K beta,          g(w^) = sum_j beta_j kappa(<w^, v^_j>).

With c = c_d, abar = E alpha, m_k = E alpha^k, kappa1 = kappa(1), B = sum_j beta_j, Phi = theory.pair_average:

  bias      E L_N - Ltilde = (m_2 kappa1 - abar^2 c) / N                                   (exact)
  variance  Var L_N = v1 / N + v2 / N^2 + v3 / N^3                                          (exact)
    D  = alpha (g(w^) - abar c)          Var D = m_2 (beta^T P beta - 2 abar c^2 B + abar^2 c^2) - (abar c (B - abar))^2
    E  = alpha^2 kappa1 - 2 abar c alpha  (the self term minus twice the Hoeffding projection h_1)
    h2 = alpha alpha' kappa(<w^,w^'>) - abar c (alpha + alpha') + abar^2 c   (degenerate kernel)
    Var h2 = m_2^2 Phi_d(1) - abar^4 c^2 - 2 abar^2 c^2 (m_2 - abar^2)
    v1 = 4 Var D,  v2 = 2 Var h2 - 4 Cov(D, E),  v3 = Var E - 2 Var h2,
    Cov(D, E) = c (B - abar) [kappa1 (m_3 - abar m_2) - 2 abar c (m_2 - abar^2)],
    Var E = kappa1^2 (m_4 - m_2^2) - 4 kappa1 abar c (m_3 - abar m_2) + 4 abar^2 c^2 (m_2 - abar^2),
  where P_jl = Phi_d(<v^_j, v^_l>). Rotation invariance gives E_{w^'} kappa(<w^, w^'>) = c for every w^, so the
  Hoeffding projection of the pair kernel is h_1 = abar c (alpha - abar).

References: docs/model.md §6 (bias and the two leading variance terms); the exact 1/N^3 term and the
closed forms above are derived here (docs/derivations.md, "finite N").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.errors import InputError
from theory.kernels import dual_kernel
from theory.objective import unit_rows
from theory.pair_average import pair_average, pair_average_matrix
from theory.regimes import as_activation, sphere_average_value
from theory.sphere import check_dim
from theory.target_laws import get_law


@dataclass(frozen=True)
class FiniteNConstants:
    """bias_coefficient / N = E L_N - Ltilde;  Var L_N = variance_first/N + variance_second/N^2 + variance_third/N^3.

    All exact for rotation-invariant target laws (``law_rotation_invariant``: Gaussian entries); for other entry laws
    they are the regime-I model values (w^ treated as uniform and independent of alpha), whose error is set by the
    O(d^-2) anisotropy of regime III. Values are float64 from closed forms plus the pair average Phi_d
    (quadrature, relative accuracy about 1e-12).
    ``var_D`` is Var[alpha (g(w^) - abar c_d)], ``var_h2`` the degenerate pair variance.

    Examples
    --------
    >>> from theory.etf import simplex_etf
    >>> k = finite_n_constants(np.full(3, 0.3), simplex_etf(3, 8), "relu", 8, "rademacher")
    >>> bool(abs(k.bias_coefficient - (0.5 - 73728 / (44100 * np.pi**2))) < 1e-15)   # kappa(1) - c_8, ||w|| = 1
    True
    >>> k.variance(100) == k.variance_first / 100 + k.variance_second / 100**2 + k.variance_third / 100**3
    True
    """

    activation: str
    dim: int
    law: str
    abar: float
    alpha_moments: tuple[float, ...]
    alpha_methods: tuple[str, ...]
    sphere_avg: float
    kappa_one: float
    bias_coefficient: float
    var_D: float
    var_h2: float
    cov_DE: float
    var_E: float
    variance_first: float
    variance_second: float
    variance_third: float
    exact_in_N: bool
    law_rotation_invariant: bool
    source: str

    def bias(self, N: int) -> float:
        """E_target L_N(theta) - Ltilde(theta) = bias_coefficient / N."""
        return self.bias_coefficient / _check_n(N)

    def variance(self, N: int) -> float:
        """Var_target L_N(theta), exact polynomial in 1/N."""
        n = _check_n(N)
        return self.variance_first / n + self.variance_second / n**2 + self.variance_third / n**3


def _check_n(N) -> int:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise InputError("N", "number of target neurons must be an integer >= 1", got=N)
    return int(N)


def finite_n_constants(beta, frame, activation, dim: int, law=None) -> FiniteNConstants:
    """Exact bias and variance constants of L_N(theta) over i.i.d. target draws (regime I), see module docstring.

    References: docs/model.md §6; derived here (docs/derivations.md, "finite N").
    """
    act = as_activation(activation)
    d = check_dim(dim)
    target_law = get_law(law)
    units, _ = unit_rows(np.asarray(frame, dtype=float)[None] if np.ndim(frame) == 2 else frame)
    if units.ndim != 3 or units.shape[0] != 1:
        raise InputError("frame", "expected one frame of shape (M, d)", got=np.shape(frame))
    units = units[0]
    if units.shape[1] != d:
        raise InputError("frame", f"rows must live in R^d with d = {d}", got=units.shape)
    b = np.asarray(beta, dtype=float)
    if b.shape != (units.shape[0],) or not np.all(np.isfinite(b)):
        raise InputError("beta", f"expected {units.shape[0]} finite numbers", got=b.shape)
    sm = target_law.scaling_moments(d, act.degree, dps=20)
    m1, m2, m3, m4 = (float(x) for x in sm.alpha_moments)
    c = float(sphere_average_value(act, d))
    kern = dual_kernel(act)
    k1 = float(kern.at_one)
    B = float(b.sum())
    P = pair_average_matrix(act, d, units)
    gP = float(b @ P @ b)
    mean_D = m1 * c * (B - m1)
    var_D = m2 * (gP - 2 * m1 * c * c * B + m1 * m1 * c * c) - mean_D**2
    phi1 = pair_average(act, d, 1.0)
    var_h2 = m2 * m2 * phi1 - m1**4 * c * c - 2 * m1 * m1 * c * c * (m2 - m1 * m1)
    cov_DE = c * (B - m1) * (k1 * (m3 - m1 * m2) - 2 * m1 * c * (m2 - m1 * m1))
    var_E = k1 * k1 * (m4 - m2 * m2) - 4 * k1 * m1 * c * (m3 - m1 * m2) + 4 * m1 * m1 * c * c * (m2 - m1 * m1)
    return FiniteNConstants(
        activation=act.name, dim=d, law=target_law.name, abar=m1, alpha_moments=(m1, m2, m3, m4),
        alpha_methods=sm.method, sphere_avg=c, kappa_one=k1,
        bias_coefficient=m2 * k1 - m1 * m1 * c,
        var_D=var_D, var_h2=var_h2, cov_DE=cov_DE, var_E=var_E,
        variance_first=4 * var_D, variance_second=2 * var_h2 - 4 * cov_DE, variance_third=var_E - 2 * var_h2,
        exact_in_N=True,
        law_rotation_invariant=target_law.kind == "gaussian",
        source="docs/model.md §6 (leading terms); exact Hoeffding decomposition derived here (docs/derivations.md)",
    )


def loss_of_target(beta, frame, activation, a: np.ndarray, W: np.ndarray) -> float:
    """L_N(theta) = E_x (f_N(x) - g(x))^2 in closed form for one drawn target (a, W), float64.

    L_N = (1/N^2) sum_{i,i'} alpha_i alpha_i' kappa(<w^_i, w^_i'>) - (2/N) sum_{i,j} alpha_i beta_j kappa(<w^_i, v^_j>)
    + beta^T K beta, with alpha_i = a_i ||w_i||^n. Used by tests and the numerics layer to simulate the constants.

    Examples
    --------
    >>> V = np.eye(2)
    >>> round(loss_of_target(np.zeros(2), V, "relu", np.ones(1), np.array([[3.0, 4.0]])), 12)   # 25 kappa(1)
    12.5
    """
    act = as_activation(activation)
    kern = dual_kernel(act)
    W = np.asarray(W, dtype=float)
    norms = np.linalg.norm(W, axis=1)
    alpha = np.asarray(a, dtype=float) * norms**act.degree
    wh = W / norms[:, None]
    units, _ = unit_rows(np.asarray(frame, dtype=float))
    b = np.asarray(beta, dtype=float)
    N = W.shape[0]
    Kww = kern.numpy(np.clip(wh @ wh.T, -1, 1))
    np.fill_diagonal(Kww, float(kern.at_one))
    Kwv = kern.numpy(np.clip(wh @ units.T, -1, 1))
    Kvv = kern.numpy(np.clip(units @ units.T, -1, 1))
    np.fill_diagonal(Kvv, float(kern.at_one))
    return float(alpha @ Kww @ alpha / N**2 - 2 * alpha @ Kwv @ b / N + b @ Kvv @ b)

"""The beta-QP (KKT and dual bound) and the sign-pattern SDP (validity by sampling, tightness for k = 0)."""

import numpy as np

from conjecture.frames import random_frames
from conjecture.relax_qp import solve_beta_qp
from conjecture.relax_sdp import sdp_bound
from theory.activations import get_activation
from theory.kernels import dual_kernel


def _K(X, act="relu"):
    K = dual_kernel(get_activation(act)).numpy(X @ X.T)
    np.fill_diagonal(K, 0.5)
    return K


def test_qp_signed_matches_linear_solve_and_kkt():
    X = random_frames(np.random.default_rng(0), 1, 4, 3)[0]
    K, b = _K(X), np.array([0.2, 0.1, -0.05, 0.15])
    res = solve_beta_qp(K, b, 1.0, nonneg=False)
    exact = np.linalg.solve(K, b)
    assert res.verified
    assert np.allclose(res.beta, exact, atol=1e-7)  # interior-point accuracy
    assert res.gap <= res.tolerance


def test_qp_nonneg_kkt_and_injected_errors():
    X = random_frames(np.random.default_rng(1), 1, 4, 3)[0]
    K, b = _K(X), np.array([0.2, -0.3, 0.1, 0.05])
    ok = solve_beta_qp(K, b, 1.0, nonneg=True)
    assert ok.verified and min(ok.beta) >= -1e-9
    wrong = solve_beta_qp(K, b, 1.0, nonneg=True, override=lambda K, b: (np.linalg.solve(K, b) * 1.01, np.zeros(len(b))))
    assert not wrong.verified  # negative beta and no multiplier: KKT fails
    nan = solve_beta_qp(K, b, 1.0, nonneg=True, override=lambda K, b: (np.full(4, np.nan), np.zeros(4)))
    assert not nan.verified


def test_sdp_k0_tight_and_all_bounds_valid_by_sampling():
    act = get_activation("relu")
    M = 4
    kern = dual_kernel(act)
    q_etf = (0.5 + (M - 1) * float(kern.numpy(np.array(-1 / (M - 1))))) / M
    bounds = [sdp_bound(act, M, k) for k in range(M)]
    assert all(b.kkt.ok for b in bounds)
    assert abs(bounds[0].value - q_etf) < 1e-6  # reproduces the Delsarte bound, tight at the ETF
    rng = np.random.default_rng(2)
    X = random_frames(rng, 300, M, 3)
    for k, bd in enumerate(bounds):
        u = rng.exponential(size=(300, M)) * np.array([-1.0] * k + [1.0] * (M - k))
        keep = u.sum(1) > 0.05
        u = u[keep] / u[keep].sum(1, keepdims=True)
        q = np.array([ui @ _K(x) @ ui for ui, x in zip(u, X[keep])])
        # a valid lower bound: below every sampled u^T K u with sum u = 1 (solver accuracy ~1e-7)
        assert np.all(q >= bd.value - 1e-6)

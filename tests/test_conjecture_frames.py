"""Candidate frames: shapes, unit rows, and the geometric facts each family is named for."""

import numpy as np
import pytest

from conjecture import frames as fr


@pytest.mark.parametrize("M,d", [(2, 1), (3, 2), (4, 2), (5, 3), (6, 4), (9, 2), (8, 8)])
def test_structured_frames_are_unit(M, d):
    fams = fr.structured_frames(M, d)
    assert fams
    for name, X in fams.items():
        assert X.shape[1:] == (M, d), name
        assert np.allclose(np.linalg.norm(X, axis=-1), 1.0), name


def test_family_geometry():
    P = fr.regular_polygon(5, 3)
    G = P @ P.T
    assert np.allclose(np.diag(G, 1), np.cos(2 * np.pi / 5))
    C = fr.cross_polytope(4, 2)
    assert np.allclose(C @ C.T, [[1, -1, 0, 0], [-1, 1, 0, 0], [0, 0, 1, -1], [0, 0, -1, 1]])
    A = fr.antipodal_plus_etf(5, 4, 1)
    assert np.isclose(A[0] @ A[1], -1) and np.allclose((A[2:] @ A[2:].T)[~np.eye(3, dtype=bool)], -0.5)
    T = fr.tilted_etf(3, 4, 0.3)
    assert np.allclose(T[:, 0], np.sin(0.3))
    L = fr.signed_lines(3, 2)
    assert L.shape == (4, 3, 2)
    # the regular triangle is one of the sign patterns on the three lines at 0, 60, 120 degrees
    tri = fr.regular_polygon(3, 2)
    assert any(np.allclose(np.sort(np.angle(x[:, 0] + 1j * x[:, 1]) % (2 * np.pi)), np.sort(np.angle(tri[:, 0] + 1j * tri[:, 1]) % (2 * np.pi))) for x in L)


def test_perturbed_etf_radius():
    X = fr.perturbed_etfs(np.random.default_rng(0), 4, 4, 3, 1e-3)
    E = (4 * np.eye(4) - 1) / 3
    dev = np.max(np.abs(X @ np.swapaxes(X, 1, 2) - E))
    assert 1e-5 < dev < 5e-3

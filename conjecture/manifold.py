"""The product of unit spheres (S^{d-1})^M, batched: tangent projection, retraction, transport.

A point is an array of shape (B, M, d) whose rows are unit vectors; a tangent vector has the same
shape with every row orthogonal to the matching row of the point.

References: Absil, Mahony, Sepulchre, "Optimization Algorithms on Matrix Manifolds" (2008), sec. 4.1
(retraction by normalisation) and sec. 8.1 (vector transport by projection).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SphereProduct:
    """(S^{d-1})^M with the metric <xi, eta> = sum_j <xi_j, eta_j> (batched over a leading axis).

    Examples
    --------
    >>> man = SphereProduct(3, 2)
    >>> x = man.random(np.random.default_rng(0), 4)
    >>> bool(np.allclose(np.linalg.norm(x, axis=-1), 1.0))
    True
    >>> xi = man.project(x, np.ones_like(x))
    >>> float(np.max(np.abs(np.sum(xi * x, axis=-1)))) < 1e-15
    True
    """

    M: int
    d: int

    @property
    def dim(self) -> int:
        """Manifold dimension M (d - 1)."""
        return self.M * (self.d - 1)

    def random(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """Independent Haar-uniform points: Gaussian rows normalised."""
        g = rng.standard_normal((batch, self.M, self.d))
        return g / np.linalg.norm(g, axis=-1, keepdims=True)

    @staticmethod
    def project(x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """P_x v = v_j - <x_j, v_j> x_j row by row."""
        return v - np.sum(x * v, axis=-1, keepdims=True) * x

    @staticmethod
    def inner(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """<u, v> summed over the M rows and d columns; shape (B,)."""
        return np.sum(u * v, axis=(-1, -2))

    @staticmethod
    def norm(u: np.ndarray) -> np.ndarray:
        """sqrt(<u, u>), shape (B,)."""
        return np.sqrt(np.sum(u * u, axis=(-1, -2)))

    @staticmethod
    def retract(x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """R_x(v) = (x_j + v_j) / ||x_j + v_j|| row by row (a second-order retraction)."""
        y = x + v
        return y / np.linalg.norm(y, axis=-1, keepdims=True)

    @classmethod
    def transport(cls, x_new: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Vector transport by projection onto the tangent space at x_new."""
        return cls.project(x_new, v)

"""Fast dual-kernel evaluation: kappa(rho) = sum_{s=+-1} c_s k_n(s rho), in place (float64) and in arb balls.

For sigma = p relu(t)^n + q relu(-t)^n (theory.activations), with theta = arccos(rho), s = sin theta,
t = pi - theta and J_n the Cho-Saul angular functions
    J_0 = t,  J_1 = s + t rho,  J_2 = 3 s rho + t (1 + 2 rho^2),  J_3 = s (4 + 11 rho^2) + t (9 rho + 6 rho^3),
    k_n(rho) = J_n / (2 pi),   kappa(rho) = (p^2 + q^2) k_n(rho) + 2 p q k_n(-rho).
(k_n(-rho) swaps t with theta and rho with -rho.)  These are written out by hand here and checked
against the sympy-derived kernels of ``theory.kernels`` in the tests (two independent derivations).

References: Cho & Saul, "Kernel methods for deep learning", NIPS 2009, eq. (7); docs/model.md §3.

Examples
--------
>>> import numpy as np
>>> from theory.activations import get_activation
>>> kap = FastKappa.from_activation(get_activation("relu"))
>>> out = kap.evaluate(np.array([0.0, 1.0, -1.0]))
>>> [round(float(v), 12) for v in out * 2 * np.pi]
[1.0, 3.14159265359, 0.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from flint import arb

from theory.activations import Activation
from theory.errors import InputError

_TWO_PI = 2.0 * math.pi
K_N_AT_ONE = (0.5, 0.5, 1.5, 7.5)  # k_n(1) = E relu(g)^(2n) = (2n - 1)!!/2, n = 0..3


def _sine_of_cosine(c: np.ndarray, out: np.ndarray, scratch: np.ndarray, *, root: bool = True) -> np.ndarray:
    """sin = sqrt((1 - c)(1 + c)) into ``out`` (``scratch`` is overwritten); with root=False, 1 - c^2 itself.

    For |c| <= 1 the product has relative error <= 3u/2 (1 - c or 1 + c is exact when |c| >= 1/2, by
    Sterbenz), so sin has relative error <= 5u/4 + u/2.  The textbook 1 - c*c does not: the rounding of c*c
    (up to u/2 absolute) is a relative error up to 2^-28 in 1 - c^2 at c = 1 - 2^26 u, hence 3.6e-14 in kappa,
    300 times the per-element allowance of numerics.population_loss.
    """
    np.add(c, 1.0, out=scratch)
    np.subtract(1.0, c, out=out)
    out *= scratch
    if root:
        np.sqrt(out, out=out)
    return out


def _j_float(n: int, rho: np.ndarray, sin_t: np.ndarray, t: np.ndarray, out: np.ndarray) -> np.ndarray:
    """J_n(rho, s, t) into ``out`` (``t`` is overwritten); all arrays have the same shape."""
    if n == 0:
        np.copyto(out, t)
    elif n == 1:
        np.multiply(t, rho, out=out)
        out += sin_t
    elif n == 2:
        np.multiply(rho, rho, out=out)
        out *= 2.0
        out += 1.0
        out *= t
        np.multiply(sin_t, rho, out=t)
        t *= 3.0
        out += t
    elif n == 3:
        np.multiply(rho, rho, out=out)  # rho^2
        sq = out.copy()
        out *= 6.0
        out += 9.0
        out *= rho
        out *= t  # t (9 rho + 6 rho^3)
        sq *= 11.0
        sq += 4.0
        sq *= sin_t
        out += sq
    else:  # pragma: no cover - degrees are validated on construction
        raise InputError("activation", "degree must be 0..3", got=n)
    return out


@dataclass(frozen=True)
class FastKappa:
    """kappa of one positively homogeneous activation, as float coefficients of k_n(rho) and k_n(-rho).

    ``plus`` = (p^2 + q^2) / (2 pi), ``minus`` = 2 p q / (2 pi); ``at_one`` = kappa(1);
    ``lipschitz`` = max |kappa'| on [-1, 1] (infinite for the step activation, degree 0).
    """

    degree: int
    plus: float
    minus: float
    p: float
    q: float
    at_one: float
    lipschitz: float
    exact_pq: tuple[tuple[int, int], tuple[int, int]]

    @classmethod
    def from_activation(cls, act: Activation) -> "FastKappa":
        """Float and exact-rational coefficients of ``act`` (p, q must be rationals)."""
        n = int(act.degree)
        if not 0 <= n <= 3:
            raise InputError("activation", "degree must be 0..3", got=n)
        try:
            pq = tuple((int(v.p), int(v.q)) for v in (act.p, act.q))
        except (AttributeError, TypeError):
            raise InputError("activation", "p and q must be exact rationals", got=(act.p, act.q)) from None
        p, q = (a / b for a, b in pq)
        # kappa(1) = (p^2 + q^2) k_n(1) + 2 p q k_n(-1), k_n(1) = J_n(0) / (2 pi), k_n(-1) = J_n(pi) / (2 pi) = 0.
        at_one = (p * p + q * q) * K_N_AT_ONE[n]
        # kappa'(rho) = (p^2+q^2) k_n'(rho) - 2pq k_n'(-rho), k_n' = n^2 k_{n-1} >= 0 and increasing on [-1, 1]:
        # the maximum of |kappa'| is at most (p^2 + q^2 + 2|pq|) n^2 k_{n-1}(1).
        if n == 0:
            lipschitz = math.inf
        else:
            k_prev_at_one = K_N_AT_ONE[n - 1]
            lipschitz = (p * p + q * q + 2 * abs(p * q)) * n * n * k_prev_at_one
        return cls(n, (p * p + q * q) / _TWO_PI, 2 * p * q / _TWO_PI, p, q, float(at_one), lipschitz, pq)

    def evaluate(self, rho: np.ndarray, *, out: np.ndarray | None = None,
                 work: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """kappa(rho) elementwise; ``rho`` is clipped to [-1, 1] in place when ``out`` is given.

        ``work`` are three scratch arrays of rho's shape (reused across calls to avoid page faults).
        """
        rho = np.asarray(rho, dtype=float)
        if out is None:
            rho = rho.copy()
            out = np.empty_like(rho)
        if work is None:
            work = (np.empty_like(rho), np.empty_like(rho), np.empty_like(rho))
        sin_t, t, spare = work
        np.clip(rho, -1.0, 1.0, out=rho)
        _sine_of_cosine(rho, sin_t, t)
        np.arccos(rho, out=t)
        if self.minus != 0.0:
            np.negative(rho, out=spare)
            theta = np.copy(t)
            np.subtract(math.pi, t, out=t)
            _j_float(self.degree, rho, sin_t, t, out)
            out *= self.plus
            mirrored = _j_float(self.degree, spare, sin_t, theta, np.empty_like(rho))  # k_n(-rho): t <-> theta
            mirrored *= self.minus
            out += mirrored
            return out
        np.subtract(math.pi, t, out=t)
        _j_float(self.degree, rho, sin_t, t, out)
        out *= self.plus
        return out

    @property
    def has_fast_path(self) -> bool:
        """True when kappa = plus * J_n(rho) (q p = 0, kappa not identically 0): ``evaluate_negated`` applies."""
        return self.minus == 0.0 and self.plus > 0.0

    @property
    def j_at_one(self) -> float:
        """J_n(1) = 2 pi k_n(1) = pi (1, 1, 3, 15)[n], the unscaled diagonal value (rho_ii = 1)."""
        return math.pi * (1.0, 1.0, 3.0, 15.0)[self.degree]

    def evaluate_negated(self, x: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        """J_n(rho) from x = -rho, in place in ``x`` (also returned); kappa(rho) = ``plus`` * J_n(rho).

        Only for ``has_fast_path``.  ``s``, ``t`` are scratch arrays of x's shape.  Taking the negated
        cosine makes t = pi - arccos(rho) = arccos(x) one ufunc call, and leaving the factor ``plus``
        to the caller (it multiplies a sum once) saves another: 7 passes over memory for relu instead
        of 10.  Accuracy: arccos(x) is one correctly-rounded-to-a-few-ulp call instead of an arccos
        followed by a subtraction, so every element carries no more rounding than ``evaluate``.
        """
        np.clip(x, -1.0, 1.0, out=x)
        n = self.degree
        if n == 0:
            np.arccos(x, out=x)  # t = pi - theta
            return x
        if n == 1:  # J_1 = s + t rho = sin - t x
            _sine_of_cosine(x, s, t)
            np.arccos(x, out=t)
            t *= x
            np.subtract(s, t, out=x)
            return x
        if n == 2:  # J_2 = 3 sin rho + t (1 + 2 rho^2) = t (1 + 2 x^2) - 3 sin x
            _sine_of_cosine(x, s, t)
            s *= x
            s *= 3.0
            np.arccos(x, out=t)
            np.multiply(x, x, out=x)
            x *= 2.0
            x += 1.0
            x *= t
            x -= s
            return x
        # n == 3: J_3 = sin (4 + 11 rho^2) + t (9 rho + 6 rho^3) = sin (15 - 11 v) - t x (15 - 6 v), v = 1 - x^2
        _sine_of_cosine(x, s, t, root=False)  # s = v
        np.arccos(x, out=t)
        t *= x
        np.multiply(s, 6.0, out=x)
        np.subtract(15.0, x, out=x)
        t *= x  # t x (15 - 6 v)
        np.sqrt(s, out=x)  # sin
        s *= -11.0
        s += 15.0
        x *= s
        x -= t
        return x

    def evaluate_arb(self, rho: arb) -> arb:
        """kappa(rho) as an arb ball; rho is first intersected with [-1, 1] (its true value lies there)."""
        r = rho.intersection(arb(0, 1))
        sin_t = (1 - r * r).nonnegative_part().sqrt()
        theta = r.acos()
        pi = arb.pi()
        two_pi = 2 * pi
        (pn, pd), (qn, qd) = self.exact_pq
        p, q = arb(pn) / pd, arb(qn) / qd
        value = (p * p + q * q) * _j_arb(self.degree, r, sin_t, pi - theta) / two_pi
        if pn != 0 and qn != 0:
            value += 2 * p * q * _j_arb(self.degree, -r, sin_t, theta) / two_pi
        return value


def _j_arb(n: int, rho: arb, sin_t: arb, t: arb) -> arb:
    """J_n in ball arithmetic (same formulas as the float path)."""
    if n == 0:
        return t
    if n == 1:
        return sin_t + t * rho
    if n == 2:
        return 3 * sin_t * rho + t * (1 + 2 * rho * rho)
    return sin_t * (4 + 11 * rho * rho) + t * (9 * rho + 6 * rho * rho * rho)

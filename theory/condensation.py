"""Condensation at small initialisation (Zhou, Zhou, Luo, Zhang, Xu, arXiv:2105.11686): the multiplicity of an
activation at the origin and the leading-order condensed directions.

Multiplicity (the toolkit's reading): p = min{k >= 1 : sigma^(k)(0) != 0}.  The value sigma(0) does not enter
(sigmoid and softplus have sigma(0) != 0 and are stated p = 1): the gradient in w only sees sigma'.  The
claimed maximal number of condensed orientations of (w_j, b_j) is 2p (at most p lines).

For a piecewise activation of the toolkit's grammar (``theory.activations``), the one-sided Taylor
coefficients at 0 are compared; p is undefined when they differ at the first nonzero order (ReLU: 1 on
the right, 0 on the left: sigma'(0) does not exist).

Leading order, with the bias-augmented inputs x~_k = (x_k, 1) and residuals r_k = y_k - f(x_k) at
initialisation: sigma(z) ~ sigma^(p)(0) z^p / p!, so neuron j moves along
    F(u) = sum_k r_k (u . x~_k)^(p-1) x~_k          (times a_j sigma^(p)(0) / (p-1)!).
* p = 1: F is constant: every neuron moves along +-D, D = sum_k r_k x~_k (the residual-weighted mean).
* d = 1, u = (u1, u2): a fixed direction has F(u) parallel to u, i.e. with s = u1 / u2
      P(s) = sum_k r_k (s x_k + 1)^(p-1) (x_k - s) = 0,     a polynomial of degree p;
  its real roots are the predicted lines (s, 1).

Examples
--------
>>> multiplicity("x2tanh").p, multiplicity("sigmoid").p, multiplicity("relu").p
(3, 1, None)
>>> multiplicity("pw(t<-1: -1; t<1: t; else: 1)").p
1
>>> import numpy as np
>>> [round(float(s), 6) for s in one_d_roots(np.array([1.0, 2.0]), np.array([1.0, 1.0]), 1)]
[1.5]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from theory.activations import T
from theory.errors import InputError

MAX_ORDER = 12


@dataclass(frozen=True)
class Multiplicity:
    """p (None when undefined), the first nonzero derivative sigma^(p)(0) as text, and why."""

    activation: str
    p: int | None
    derivative: str
    reason: str


def _smooth_multiplicity(name: str, expr: sp.Expr) -> Multiplicity:
    for k in range(1, MAX_ORDER + 1):
        v = sp.simplify(sp.diff(expr, T, k).subs(T, 0))
        if v != 0:
            return Multiplicity(name, k, str(v), f"sigma^({k})(0) = {v}; lower derivatives (k >= 1) vanish")
    return Multiplicity(name, None, "0", f"sigma^(k)(0) = 0 for k = 1..{MAX_ORDER}")


def _one_sided(coeffs_left, coeffs_right, name: str) -> Multiplicity:
    L = [sp.nsimplify(c) for c in coeffs_left]
    R = [sp.nsimplify(c) for c in coeffs_right]
    size = max(len(L), len(R))
    L += [sp.Integer(0)] * (size - len(L))
    R += [sp.Integer(0)] * (size - len(R))
    if L[0] != R[0]:
        return Multiplicity(name, None, "-", "sigma is discontinuous at 0")
    for k in range(1, size):
        if L[k] != R[k]:
            return Multiplicity(name, None, "-", f"the one-sided derivatives of order {k} at 0 differ "
                                                 f"({k}! x {L[k]} on the left, {k}! x {R[k]} on the right)")
        if R[k] != 0:
            return Multiplicity(name, k, str(sp.factorial(k) * R[k]), f"sigma^({k})(0) = {sp.factorial(k) * R[k]}")
    return Multiplicity(name, None, "0", "sigma is constant near 0")


def multiplicity(spec: str) -> Multiplicity:
    """p of a smooth activation (``theory.smooth_activations``) or of one in the toolkit's grammar."""
    from theory.smooth_activations import ALIASES, SMOOTH, get_smooth_activation

    key = spec.strip().lower().replace(" ", "") if isinstance(spec, str) else spec
    if isinstance(key, str) and (key in SMOOTH or key in ALIASES):
        act = get_smooth_activation(spec)
        return _smooth_multiplicity(act.name, act.expr)
    from theory.activations import Activation, get_activation

    act = get_activation(spec, allow_general=True)
    if isinstance(act, Activation):
        n = act.degree
        right = [0] * n + [act.p]
        left = [0] * n + [act.q * (-1) ** n]
        if n == 0:
            right, left = [act.p], [act.q]
        return _one_sided(left, right, act.name)
    # PiecewiseActivation: piece i holds on [b_{i-1}, b_i)
    bps = list(act.breakpoints)
    right = act.pieces[sum(1 for b in bps if b <= 0)]
    left = act.pieces[sum(1 for b in bps if b < 0)]
    return _one_sided(list(left), list(right), act.name)


def p1_direction(X: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The unit vector along D = sum_k r_k (x_k, 1) (p = 1)."""
    Xt = np.hstack([X, np.ones((len(X), 1))])
    D = Xt.T @ r
    return D / np.linalg.norm(D)


def one_d_polynomial(x: np.ndarray, r: np.ndarray, p: int) -> np.ndarray:
    """Coefficients (lowest first) of P(s) = sum_k r_k (s x_k + 1)^(p-1) (x_k - s)."""
    if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= MAX_ORDER:
        raise InputError("p", f"expected an integer multiplicity from 1 to {MAX_ORDER}", got=p)
    P = np.polynomial.polynomial
    total = np.zeros(p + 1)
    for xk, rk in zip(x, r):
        term = P.polymul(P.polypow([1.0, xk], p - 1), [xk, -1.0])
        total[:len(term)] += rk * term
    return total


def one_d_roots(x: np.ndarray, r: np.ndarray, p: int) -> list[float]:
    """The real roots s = u1/u2 of P (the predicted lines (s, 1)), sorted."""
    roots = np.polynomial.polynomial.polyroots(one_d_polynomial(x, r, p))
    return sorted(float(z.real) for z in roots if abs(z.imag) <= 1e-9 * (1 + abs(z.real)))

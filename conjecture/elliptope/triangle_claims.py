"""The box claims of the M = 3 signed-beta proof, evaluated in ball arithmetic (prover side).

Order the off-diagonal Gram entries as g = (g12, g13, g23) and work on the fundamental domain g12 >= g13 >= g23,
that is theta1 <= theta2 <= theta3 with theta_i = arccos g_i. With p_i = s(theta_i)^2 and c_u = kappa(1) - 1/u,

    det(K - 11^T/u) = F_u := c_u (2(p1 p2 + p1 p3 + p2 p3) - p1^2 - p2^2 - p3^2) - 2 p1 p2 p3,

and for u >= 4, q(G) <= u  <=>  F_u >= 0 (the other principal minors are positive). Each claim proves F_u >= 0
on box ∩ domain, using only the domain constraints theta3 <= theta1 + theta2 and theta1 + theta2 + theta3 <= 2 pi:

    triangle  F_u = s1^2 Phi, Phi = c_u ((s2+s3)^2 - s1^2)(1 - rho^2) - 2 s2^2 s3^2, rho = (s3 - s2)/s1 in [0, 1),
              with rho bounded by concavity of s (valid up to s1 = 0, the coincidence face)
    taylor    second-order expansion about the box centre; the linear term minimised over box ∩ {sum <= 2 pi}
              by a Lagrange multiplier nu >= 0 (weak duality)
    local     F_{q*} at the ETF: F = 0, grad F = lam (1,1,1) with lam < 0, and a Hessian bound on the tangent plane
    corner    theta2 <= eps < 2 c_u l(eps): the analytic triple-coincidence lemma (docs/signed_beta.md)
"""

from __future__ import annotations

from dataclasses import dataclass

from flint import arb, fmpq

from conjecture.elliptope.feature_distance import HALF, angle, pi, jets, s_angle, s_gram, secant_gram, slope_gram


def two_pi() -> arb:
    return 2 * pi()


def t_star() -> arb:
    """theta at the ETF, 2 pi / 3."""
    return 2 * pi() / 3


@dataclass(frozen=True)
class SortedBox:
    """A Gram box clipped to the fundamental domain g12 >= g13 >= g23 (lo/hi in the order (12), (13), (23))."""

    lo: tuple[fmpq, fmpq, fmpq]
    hi: tuple[fmpq, fmpq, fmpq]

    @classmethod
    def clip(cls, lo, hi) -> "SortedBox | None":
        """The smallest box holding box ∩ {g12 >= g13 >= g23}, or None when that intersection is empty."""
        if max(lo[1], lo[2]) > min(hi[1], hi[0]):
            return None
        return cls((max(lo[0], lo[1], lo[2]), max(lo[1], lo[2]), lo[2]), (hi[0], min(hi[1], hi[0]), min(hi[2], hi[1], hi[0])))

    def angles(self) -> tuple[list[arb], list[arb]]:
        """(a, b): theta_i in [a_i, b_i]."""
        return [angle(g) for g in self.hi], [angle(g) for g in self.lo]


def c_of(u) -> arb:
    """c_u = kappa(1) - 1/u."""
    return HALF - 1 / arb(u)


def q_star() -> arb:
    """q_ETF = 3 / (kappa(1) + 2 kappa(-1/2)) for ReLU, kappa(-1/2) = (sqrt(3)/2 - pi/6) / (2 pi)."""
    return 3 / (HALF + 2 * ((arb(3).sqrt() / 2 - pi() / 6) / (2 * pi())))


def triangle_bound(box: SortedBox, c: arb) -> arb | None:
    """A ball whose lower end bounds Phi = F_u / s1^2 from below on box ∩ domain (None when rho < 1 fails)."""
    (lo12, lo13, _), (hi12, hi13, hi23) = box.lo, box.hi
    (a1, a2, _), (b1, b2, b3) = box.angles()
    s1l, s1h, s2l, s2h, s3l = s_gram(hi12), s_gram(lo12), s_gram(hi13), s_gram(lo13), s_gram(hi23)
    s3h = s_angle(b3.min(b1 + b2).min(two_pi() - a1 - a2))
    rho = slope_gram(hi13) / secant_gram(lo12)
    if hi12 < 1:
        rise = s3h.min(s_angle(a2 + b1)) - s2l
        rho = rho.min(rise / s1l).min((s_angle(a2 + a1) - s2l) / a1 / secant_gram(lo12))
    rho = rho.max(0)
    if not rho < 1:
        return None
    spread = ((s2l + s3l) ** 2 - s1h ** 2).max(s3l ** 2 + 2 * s2l * s3l).max(0)
    return c * spread * (1 - rho ** 2) - 2 * s2h ** 2 * s3h ** 2


def value_gradient_hessian(thetas: list[arb], c: arb) -> tuple[arb, list[arb], list[list[arb]]]:
    """F_u and its theta-gradient and Hessian (balls, valid for every point of the ball arguments)."""
    js = [jets(t) for t in thetas]
    s = [j[0] for j in js]
    p = [x * x for x in s]
    value = c * (2 * (p[0] * p[1] + p[0] * p[2] + p[1] * p[2]) - (p[0] ** 2 + p[1] ** 2 + p[2] ** 2)) - 2 * p[0] * p[1] * p[2]
    dp = [c * (2 * (p[1] + p[2]) - 2 * p[0]) - 2 * p[1] * p[2],
          c * (2 * (p[0] + p[2]) - 2 * p[1]) - 2 * p[0] * p[2],
          c * (2 * (p[0] + p[1]) - 2 * p[2]) - 2 * p[0] * p[1]]
    grad = [2 * s[i] * dp[i] * js[i][1] for i in range(3)]
    hess = [[arb(0)] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(3):
            d2p = -2 * c if i == j else 2 * c - 2 * p[3 - i - j]
            d2s = 4 * s[i] * s[j] * d2p + (2 * dp[i] if i == j else 0)
            hess[i][j] = d2s * js[i][1] * js[j][1] + (2 * s[i] * dp[i] * js[i][2] if i == j else 0)
    return value, grad, hess


def _multiplier(grad: list[float], low: list[float], high: list[float], room: float) -> float:
    """A good nu >= 0 for min g.h over a box with sum h <= room (fractional knapsack; any nu >= 0 is valid)."""
    h = [low[i] if grad[i] > 0 else high[i] for i in range(3)]
    excess = sum(h) - room
    if excess <= 0:
        return 0.0
    for i in sorted((i for i in range(3) if grad[i] < 0), key=lambda i: -grad[i]):
        if high[i] - low[i] >= excess:
            return -grad[i]
        excess -= high[i] - low[i]
    return max(0.0, *(-g for g in grad))


def taylor_bound(box: SortedBox, c: arb) -> tuple[arb, float] | None:
    """(lower bound ball of F_u on box ∩ {sum theta <= 2 pi}, the multiplier nu used); None at theta1 = 0."""
    if box.hi[0] == 1:
        return None
    a, b = box.angles()
    centre = [arb(((x.mid() + y.mid()) / 2).mid()) for x, y in zip(a, b)]
    value, grad, _ = value_gradient_hessian(centre, c)
    _, _, hess = value_gradient_hessian([x.union(y) for x, y in zip(a, b)], c)
    low = [x - t for x, t in zip(a, centre)]
    high = [y - t for y, t in zip(b, centre)]
    room = two_pi() - sum(centre)
    nu = _multiplier([float(g.mid()) for g in grad], [float(x.mid()) for x in low], [float(x.mid()) for x in high],
                     float(room.mid()))
    linear = sum(((grad[i] + nu) * low[i]).min((grad[i] + nu) * high[i]) for i in range(3)) - nu * room
    reach = [low[i].abs_upper().max(high[i].abs_upper()) for i in range(3)]
    quadratic = arb(0)
    for i in range(3):
        for j in range(3):
            if i == j:
                quadratic += hess[i][i].min(0) * reach[i] ** 2 / 2
            else:
                quadratic -= hess[i][j].abs_upper() * reach[i] * reach[j] / 2
    return value + linear + quadratic, nu


def etf_slope() -> arb:
    """lam = dF_{q*}/dtheta_i at the ETF (the same for every i, by symmetry)."""
    return value_gradient_hessian([t_star()] * 3, c_of(q_star()))[1][0]


def local_margin(box: SortedBox) -> arb | None:
    """n_max - n on box ∩ domain (> 0 proves F_{q*} >= 0 there, equality only at the ETF); None when mu > 0 fails."""
    a, b = box.angles()
    hull = [a[i].min(t_star()).union(b[i].max(t_star())) for i in range(3)]
    _, _, hess = value_gradient_hessian(hull, c_of(q_star()))
    r2, r6 = arb(2).sqrt(), arb(6).sqrt()
    basis = [[1 / r2, 1 / r6], [-1 / r2, 1 / r6], [arb(0), -2 / r6]]
    t = [[sum(basis[i][x] * hess[i][j] * basis[j][y] for i in range(3) for j in range(3)) for y in range(2)] for x in range(2)]
    mu = (t[0][0] + t[1][1]) / 2 - ((t[0][0] - t[1][1]).abs_upper() / 2 + t[0][1].abs_upper())
    lam = etf_slope()
    if not (mu > 0 and lam < 0):
        return None
    norm = sum(hess[i][j].abs_upper() ** 2 for i in range(3) for j in range(3)).sqrt()
    n_max = arb(3).sqrt() * (-lam) / (norm * norm / mu + norm / 2)
    return n_max - sum(t_star() - a[i] for i in range(3)).max(0) / arb(3).sqrt()


def corner_margin(eps: arb, c: arb) -> arb:
    """2 c l(eps) - eps, l(eps) = (2/3) G''(eps) cos(eps) / (4 sqrt(2 pi) (pi/2)^(3/2)); > 0 proves the corner lemma."""
    g2 = (pi() - eps) * eps.cos() - eps.sin()
    ell = 2 * g2 * eps.cos() / 3 / (4 * (2 * pi()).sqrt() * (pi() / 2) ** (arb(3) / 2))
    return 2 * c * ell - eps


def not_psd_witness(lo, hi, M: int = 3) -> tuple[fmpq, ...] | None:
    """A rational x with x^T G x < 0 for every G in the box (exact check), or None. Entries in the order
    (1,2), (1,3), ..., (1,M), (2,3), ..., (M-1,M)."""
    import itertools

    import numpy as np

    pairs = list(itertools.combinations(range(M), 2))
    gram = np.eye(M)
    for (i, j), l, h in zip(pairs, lo, hi):
        gram[i, j] = gram[j, i] = float((l + h) / 2)
    w, vecs = np.linalg.eigh(gram)
    if w[0] >= 0:
        return None
    x = tuple(fmpq(int(round(v * 2 ** 20)), 2 ** 20) for v in vecs[:, 0])
    total = sum(xi * xi for xi in x)
    for (i, j), l, h in zip(pairs, lo, hi):
        total += max(2 * x[i] * x[j] * l, 2 * x[i] * x[j] * h)
    return x if total < 0 else None

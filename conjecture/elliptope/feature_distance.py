"""ReLU feature distances on the unit sphere, in ball arithmetic (the prover's kernel for M = 3).

For unit v, w at angle theta, with phi(v) = relu(<v, x>), x ~ N(0, I) and kappa(1) = 1/2 (the project's ReLU
normalisation),

    s(theta)^2 = ||phi(v) - phi(w)||^2 / 2 = kappa(1) - kappa(cos theta) = G(theta) / (2 pi),
    G(theta) = pi - sin theta - (pi - theta) cos theta.

Facts used by the proof (docs/signed_beta.md, "Lemma S"): s is nondecreasing and concave on [0, pi], s(0) = 0,
s'(0) = 1/2, s'(pi) = 0. So s' and sigma(theta) = s(theta)/theta are nonincreasing, and the capped extension
s~(t) = s(min(t, pi)) is concave and nondecreasing on [0, inf). Every function here is evaluated at a point
(a ball around one number), and monotonicity turns point values into box bounds.
"""

from __future__ import annotations

from flint import arb, fmpq

HALF = arb(1) / 2


def pi() -> arb:
    """pi at the working precision (a module constant would keep the precision of import time)."""
    return arb.pi()


def angle(g: fmpq) -> arb:
    """theta = arccos(g) for a rational g in [-1, 1]."""
    return arb(g).acos()


def s_angle(theta: arb) -> arb:
    """s~(theta) = s(min(theta, pi)) for a ball theta >= 0."""
    PI = pi()
    t = theta.min(PI)
    return ((PI - t.sin() - (PI - t) * t.cos()) / (2 * PI)).sqrt()


def s_gram(g: fmpq) -> arb:
    """s(arccos g), written with 1 - cos theta = 1 - g to keep precision near g = 1 (s = 0 exactly at g = 1)."""
    if g == 1:
        return arb(0)
    a, PI = arb(g), pi()
    theta, sine = a.acos(), (1 - a * a).sqrt()
    return ((PI * (1 - a) - (sine - theta * a)) / (2 * PI)).sqrt()


def slope_gram(g: fmpq) -> arb:
    """s'(arccos g) = (pi - theta) sin theta / (4 pi s); the limit 1/2 at g = 1."""
    if g == 1:
        return HALF
    a, PI = arb(g), pi()
    return (PI - a.acos()) * (1 - a * a).sqrt() / (4 * PI * s_gram(g))


def secant_gram(g: fmpq) -> arb:
    """sigma(arccos g) = s / theta, the slope of the chord from 0; the limit 1/2 at g = 1."""
    if g == 1:
        return HALF
    return s_gram(g) / arb(g).acos()


def jets(theta: arb) -> tuple[arb, arb, arb]:
    """(s, s', s'') on a ball theta inside (0, pi]: s'' = (G''/(4 pi) - s'^2) / s."""
    PI, sine, cosine = pi(), theta.sin(), theta.cos()
    g0 = PI - sine - (PI - theta) * cosine
    g1 = (PI - theta) * sine
    g2 = (PI - theta) * cosine - sine
    s = (g0 / (2 * PI)).sqrt()
    s1 = g1 / (4 * PI * s)
    return s, s1, (g2 / (4 * PI) - s1 * s1) / s

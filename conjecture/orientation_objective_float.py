"""F on the (4, 4) chart ``hyperplane_in_r4`` as vectorised float64 interval jets, with the law's cancellation removed.

Regime III, M = d = 4, ReLU, Rademacher entries +-1/sqrt(d). At an ETF (docs/regime3.md §3.3)

    F = C - M bbar^2 / lambda - |b - bbar 1|^2 / (kappa(1) - kappa(rho0)),   b_j = b(v_j),
    b(v) = 2^-4 sum_{s in {+-1}^4} kappa_e(<s, v> / 2).

Summing kappa_e's Taylor polynomial over the 16 sign vectors in closed form (unit v: sum_s <s, v>^2 = 16,
sum_s <s, v>^4 = 16 (3 - 2 p4(v)), p4(v) = sum_i v_i^4) gives, with H4 the kernel's remainder after degree 4
(``conjecture.relu_kernel_float``),

    b(v) = A + delta(v),   A = (1 + 1/8 + 3/384) / (2 pi),
    delta(v) = -p4(v) / (384 pi) + (1 / (16 pi)) sum_{8 sign pairs s, s_1 = 1} H4(<s, v> / 2),

and, delta_j = delta(v_j), dbar their mean, e_j = delta_j - dbar,

    F = C0 - (8 A / lambda) dbar - (4 / lambda) dbar^2 - sum_j e_j^2 / (kappa(1) - kappa(rho0)),  C0 = C - 4 A^2 / lambda.

This is the same function; written so, the constant parts of the 32 kernel terms (which cancel in the true
derivatives but not in interval arithmetic) never enter a jet: what is enclosed is p4 (variation O(1)) and the
small remainders H4. The rows are v_j = num_j * factor, num_j = u (0, N(q) t_j) (a quaternion product, u = (1, x, y,
z), N(q) = |q|^2 R(q), q = (1, a, b, c), t_j the tetrahedron's cube diagonals), factor = 1 / (|u| |q|^2 sqrt 3);
the inner products <s, v_j> / 2 are formed as <s, num_j> * (factor / 2). Value and gradient are narrowed by centred
forms at the factor, the inner products and the deviations (``conjecture.float_interval.tighten``). Where an inner
product's interval comes near +-1 (H4'' unbounded), the Hessian term H4''(rho) d_i rho d_k rho is also enclosed by
D(rho) |d_i v| |d_k v| [-1, 1] (docs/regime3.md §3: d_i rho = <s/2 - rho v, d_i v>, |s/2 - rho v| = sqrt(1 - rho^2)),
and the two enclosures are intersected.

Constants (C, lambda, kappa(1) - kappa(rho0), A, C0, ...) are enclosed with python-flint arb at 128 bits and rounded
outward to float64.

References: derived here; docs/regime3.md §1 (the Rademacher closed forms) and §3.3 (the ETF form of F).

Examples
--------
>>> import numpy as np
>>> th = np.array([[1.0, 0.0, 0.0, 0.41421356, 0.0, 0.0]])
>>> lo, hi = objective_point(th)
>>> bool(lo[0] <= 0.0077462881024526 <= hi[0] and hi[0] - lo[0] < 1e-13)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from flint import arb, ctx

from conjecture.float_interval import (Jet, add, down, intersect, inv_sqrt_apply, mag, mul, reciprocal_apply,
                                       sqr, sub, tighten, tri_pairs, up)
from conjecture.etf_orientations import TETRAHEDRON as TETRA
from conjecture.relu_kernel_float import damped_range, h4_range, h4p_range, h4pp_range

SIGNS = tuple((1, s1, s2, s3) for s1 in (1, -1) for s2 in (1, -1) for s3 in (1, -1))  # one per pair +-s
NEAR_ONE = 0.99  # above this |rho| the damped Hessian enclosure is used as well


def _fl(x: arb) -> tuple[np.float64, np.float64]:
    """An arb ball as an outward-rounded float64 interval."""
    return down(np.float64(float(x.lower()))), up(np.float64(float(x.upper())))


@dataclass(frozen=True)
class Constants44:
    """Outward float64 enclosures (lo, hi) of the constants of F (M = d = 4, ReLU, Rademacher), for the kernel
    split after degree ``degree``: delta = h4 sum H(rho) + p2 P2 + p3 P3 + p4 P4 + p22 P2^2 (P_k = sum_i v_i^(2k))."""

    degree: int
    C: tuple
    C0: tuple
    lin: tuple       # 8 A / lambda
    quad: tuple      # 4 / lambda
    dev: tuple       # 1 / (kappa(1) - kappa(-1/3))
    p2: tuple
    p3: tuple
    p4: tuple
    p22: tuple
    h4: tuple        # 1 / (16 pi)
    inv_sqrt3: tuple


@lru_cache(maxsize=None)
def constants(degree: int = 4) -> Constants44:
    """The constants, from closed forms in arb (kappa(t) = (sqrt(1 - t^2) + (pi - acos t) t) / (2 pi)).

    E_s (<s, v>/2)^4 = (3 - 2 P2)/16, E_s (<s, v>/2)^6 = (15 - 30 P2 + 16 P3)/64,
    E_s (<s, v>/2)^8 = (105 - 420 P2 + 140 P2^2 + 448 P3 - 272 P4)/256 (unit v in R^4, s uniform in {+-1}^4; from
    the multinomial expansion and Newton's identities), and e = 1 + r^2/2 + r^4/24 + r^6/80 + 5 r^8/896 + ..."""
    if degree not in (4, 6, 8):
        raise ValueError("degree must be 4, 6 or 8")
    old = ctx.prec
    ctx.prec = 128
    try:
        pi = arb.pi()

        def kappa(t: arb) -> arb:
            return ((1 - t * t).sqrt() + (pi - t.acos()) * t) / (2 * pi) if abs(t) < 1 else \
                (arb(1) / 2 if t > 0 else arb(0))

        C = (kappa(arb(1)) + 4 * kappa(arb(1) / 2) + 6 * kappa(arb(0)) + 4 * kappa(arb(-1) / 2)
             + kappa(arb(-1))) / 16
        k1, k0 = kappa(arb(1)), kappa(arb(-1) / 3)
        lam = k1 + 3 * k0
        a4, a6, a8 = arb(1) / 24, arb(1) / 80, arb(5) / 896
        const = 1 + arb(1) / 4 / 2 + a4 * 3 / 16
        p2 = -a4 * 2 / 16
        p3 = p4 = p22 = arb(0)
        if degree >= 6:
            const += a6 * 15 / 64
            p2 += -a6 * 30 / 64
            p3 += a6 * 16 / 64
        if degree >= 8:
            const += a8 * 105 / 256
            p2 += -a8 * 420 / 256
            p22 += a8 * 140 / 256
            p3 += a8 * 448 / 256
            p4 += -a8 * 272 / 256
        two_pi = 2 * pi
        A = const / two_pi
        return Constants44(degree, _fl(C), _fl(C - 4 * A * A / lam), _fl(8 * A / lam), _fl(4 / lam),
                           _fl(1 / (k1 - k0)), _fl(p2 / two_pi), _fl(p3 / two_pi), _fl(p4 / two_pi),
                           _fl(p22 / two_pi), _fl(1 / (16 * pi)), _fl(1 / arb(3).sqrt()))
    finally:
        ctx.prec = old


def _kernel_term(rho: Jet, vnorm: list | None, degree: int = 4) -> Jet:
    """H4(rho) as a jet; ``vnorm[i]`` bounds |d_i v| on the box (order 2 only, for the damped enclosure)."""
    r = intersect(rho.v, (np.float64(-1.0), np.float64(1.0)))
    f0, f1 = h4_range(r, degree), h4p_range(r, degree)
    if rho.order == 1:
        return rho.apply(f0, f1)
    f2 = h4pp_range(r, degree)
    out = rho.apply(f0, f1, (np.where(np.isfinite(f2[1]), f2[0], 0.0), np.where(np.isfinite(f2[1]), f2[1], 0.0)))
    near = np.maximum(np.abs(r[0]), np.abs(r[1])) > NEAR_ONE
    if not near.any():
        return out
    I, K = tri_pairs(rho.p)
    D = damped_range(r)
    nb = np.stack([vnorm[i] for i in range(rho.p)])       # (p, N)
    prod = up(nb[I] * nb[K])
    mag2 = up(D[1][None] * prod)
    alt_lo = np.where((I == K)[:, None], 0.0, -mag2)
    lin = mul((f1[0][None], f1[1][None]), rho.h)
    alt = add((alt_lo, mag2), lin)
    hl, hh = out.h
    finite = np.isfinite(f2[1])[None]
    new_lo = np.where(near[None], np.where(finite, np.fmax(hl, alt[0]), alt[0]), hl)
    new_hi = np.where(near[None], np.where(finite, np.fmin(hh, alt[1]), alt[1]), hh)
    return out.with_hessian((new_lo, new_hi))


@dataclass(frozen=True)
class _Value:
    """A value-only enclosure (lo, hi) standing in for a jet (``.v``)."""

    v: tuple


def _narrow(name: str, jet: Jet, centre: dict | None, half, store: dict) -> Jet:
    """Record the jet (centre pass) or narrow it against the centre's (box pass); ``store`` keeps the result."""
    if centre is not None:
        jet = tighten(jet, centre[name], half)
    store[name] = jet
    return jet


def objective_jets(lo: np.ndarray, hi: np.ndarray, order: int, centre: dict | None = None,
                   half: np.ndarray | None = None, degree: int = 4, lean: bool = False) -> tuple[Jet | None, dict]:
    """F over the boxes [lo, hi] (arrays (N, 6): x, y, z, a, b, c) as a jet of the given order.

    Order 1 on point boxes gives the centre pass (its intermediates are returned for narrowing); order 2 with
    ``centre`` (the centre pass's dict) and ``half`` (half-widths) gives the box pass. The dict holds the
    (narrowed) jets of the factor, the rows, the inner products rho{j}{s}, the polynomial parts poly{j}, the
    deviations delta{j} and F. ``lean`` (box pass only): skip the kernel terms' derivatives and F; the dict then
    holds the deviations as value intervals only and F is None (what ``secant_lower`` needs)."""
    K = constants(degree)
    x, y, z, a, b, c = Jet.variables(lo, hi, order)
    store: dict = {}
    a2, b2, c2 = a.square(), b.square(), c.square()
    ab, ac, bc = a * b, a * c, b * c
    one = a.constant_like(1.0)
    N = [[one + a2 - b2 - c2, (ab - c).scale(2.0), (ac + b).scale(2.0)],
         [(ab + c).scale(2.0), one - a2 + b2 - c2, (bc - a).scale(2.0)],
         [(ac - b).scale(2.0), (bc + a).scale(2.0), one - a2 - b2 + c2]]
    q2 = one + a2 + b2 + c2
    u2 = one + x.square() + y.square() + z.square()
    factor = (inv_sqrt_apply(u2) * reciprocal_apply(q2)).scale(K.inv_sqrt3)
    factor = _narrow("factor", factor, centre, half, store)
    half_factor = factor.scale(0.5)
    deltas = []
    for j, t in enumerate(TETRA):
        p = []
        for i in range(3):
            acc = N[i][0] if t[0] > 0 else -N[i][0]
            for k in (1, 2):
                acc = acc + N[i][k] if t[k] > 0 else acc - N[i][k]
            p.append(acc)
        p1, p2, p3 = p
        num = [-(x * p1 + y * p2 + z * p3), p1 + y * p3 - z * p2, p2 - x * p3 + z * p1, p3 + x * p2 - y * p1]
        v = [_narrow(f"v{j}{k}", n * factor, centre, half, store) for k, n in enumerate(num)]
        vnorm = None
        if order == 2 and not lean:
            vnorm = []
            for i in range(6):
                s = np.zeros_like(lo[:, 0])
                for comp in v:
                    s = up(s + up(mag((comp.g[0][i], comp.g[1][i])) ** 2))
                vnorm.append(up(np.sqrt(s)))
        P2 = P3 = P4 = None
        for comp in v:
            m = comp.square()
            m2 = m.square()
            P2 = m2 if P2 is None else P2 + m2
            if degree >= 6:
                m3 = m2 * m
                P3 = m3 if P3 is None else P3 + m3
            if degree >= 8:
                m4 = m2.square()
                P4 = m4 if P4 is None else P4 + m4
        poly = P2.scale(K.p2)
        if degree >= 6:
            poly = poly + P3.scale(K.p3)
        if degree >= 8:
            poly = poly + P4.scale(K.p4) + P2.square().scale(K.p22)
        poly = _narrow(f"poly{j}", poly, centre, half, store)
        hsum = None
        for si, s in enumerate(SIGNS):
            lin = num[0]  # rho = <s, num> factor / 2
            for k in range(1, 4):
                lin = lin + num[k] if s[k] > 0 else lin - num[k]
            rho = _narrow(f"rho{j}{si}", lin * half_factor, centre, half, store)
            if lean:
                r = intersect(rho.v, (np.float64(-1.0), np.float64(1.0)))
                term = h4_range(r, degree)
                hsum = term if hsum is None else add(hsum, term)
                continue
            term = _kernel_term(rho, vnorm, degree)
            hsum = term if hsum is None else hsum + term
        if lean:
            store[f"delta{j}"] = _Value(add(mul(hsum, K.h4), poly.v))
            continue
        delta = hsum.scale(K.h4) + poly
        deltas.append(_narrow(f"delta{j}", delta, centre, half, store))
    if lean:
        return None, store
    total = deltas[0] + deltas[1] + deltas[2] + deltas[3]
    dbar = total.scale(0.25)
    dev = None
    for j in range(4):
        others = None
        for k in range(4):
            if k != j:
                others = deltas[k] if others is None else others + deltas[k]
        e = (deltas[j].scale(3.0) - others).scale(0.25)
        e2 = e.square()
        dev = e2 if dev is None else dev + e2
    F = (dbar.scale(K.lin) + dbar.square().scale(K.quad) + dev.scale(K.dev)).scale(-1.0) + K.C0
    F = _narrow("F", F, centre, half, store)
    return F, store


def objective_point(theta: np.ndarray, degree: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A rigorous float64 enclosure of F at the points theta (N, 6)."""
    F, _ = objective_jets(theta, theta, 1, degree=degree)
    return F.v


def objective_float(theta: np.ndarray) -> np.ndarray:
    """F at the points theta (N, 6) in plain float64, for sampling (not an enclosure): the chart's rows
    (``conjecture.etf_orientations``) and ``etf_family_bound.family_value`` on the exact Rademacher summary,
    none of this module's jets."""
    from conjecture.etf_family_bound import family_value
    from conjecture.etf_orientations import orientation_family
    from theory.exact_anisotropic import exact_summary

    fam, summary = orientation_family(4, 4), exact_summary("relu", 4, "rademacher")
    rows = np.stack([fam.rows_float(t) for t in np.atleast_2d(theta)])
    return family_value(summary, 4, rows)


def secant_lower(centre: dict, box: dict, half: np.ndarray, degree: int = 4, with_slack: bool = False):
    """A lower bound on F over each box from the convexity of H4 (the secant relaxation).

    H4 is convex on [-1, 1], so on the box's range [r_lo, r_hi] of rho_js, H4(rho) <= a_js + s_js rho with the
    chord through (r_lo, H4(r_lo)), (r_hi, H4(r_hi)) (end values rounded up, the line raised by 1e-15 against the
    rounding of its float slope). The coefficient of sum H4 in F's linear part is negative (-(8A/lambda)/4 * 1/(16 pi)),
    so with delta_j^+(theta) = poly_j(theta) + (1/(16 pi)) sum_s (a_js + s_js rho_js(theta)) >= delta_j(theta),

        F(theta) >= C0 - (8 A / lambda) mean_j delta_j^+(theta) + min_X [-(4/lambda) dbar^2 - sum e_j^2 / (k1 - k0)],

    the last term enclosed naturally from the box ranges of delta_j. The first term has no kernel curvature
    (only that of p4 and rho) and is bounded by the separable second-order bound (``separable_lower``)."""
    K = constants(degree)
    Qc = Qb = None
    for j in range(4):
        accc = centre[f"poly{j}"]
        accb = box[f"poly{j}"]
        sumc = sumb = None
        const_hi = 0.0
        for si in range(len(SIGNS)):
            rb = box[f"rho{j}{si}"]
            r = intersect(rb.v, (np.float64(-1.0), np.float64(1.0)))
            f_lo = h4_range((r[0], r[0]), degree)[1]
            f_hi = h4_range((r[1], r[1]), degree)[1]
            w = r[1] - r[0]
            with np.errstate(divide="ignore", invalid="ignore"):
                slope = np.where(w > 1e-300, (f_hi - f_lo) / w, 0.0)
            slope = np.where(np.isfinite(slope), slope, 0.0)
            f_lo = np.where(w > 1e-300, f_lo, np.maximum(f_lo, f_hi)) + 1e-15
            # a = f_lo - slope r_lo (rounded up); the line is a + slope rho
            a_hi = up(f_lo - down(slope * r[0]))
            const_hi = up(const_hi + a_hi)
            sl = (slope, slope)
            tc = centre[f"rho{j}{si}"].scale(sl)
            tb = rb.scale(sl)
            sumc = tc if sumc is None else sumc + tc
            sumb = tb if sumb is None else sumb + tb
        dc = accc + (sumc + (const_hi, const_hi)).scale(K.h4)
        db = accb + (sumb + (const_hi, const_hi)).scale(K.h4)
        Qc = dc if Qc is None else Qc + dc
        Qb = db if Qb is None else Qb + db
    # Q = C0 - lin * (sum delta^+) / 4
    Qc = Qc.scale(0.25).scale(K.lin).scale(-1.0) + K.C0
    Qb = Qb.scale(0.25).scale(K.lin).scale(-1.0) + K.C0
    HL, HH = Qb.hess_full()
    lin_part = separable_lower(Qc.v[0], Qc.g, HL, HH, half)
    # the quadratic part, naturally from the delta ranges
    dbar, dev_hi = _mean_and_spread(box)
    qd = mul(sqr(dbar), K.quad)
    dev_term = mul((np.zeros_like(dev_hi), dev_hi), K.dev)
    low = down(down(lin_part - qd[1]) - dev_term[1])
    low = np.where(np.isfinite(low), low, -np.inf)
    if not with_slack:
        return low
    slack = split_slack(Qc.g[0], Qc.g[1], HL, HH, half)
    # the chord gaps: about H4''(rho) (sum_k |d_k rho| h_k)^2 / 2 per term, shared among the coordinates
    coef = float(K.lin[1]) * 0.25 * float(K.h4[1])
    for j in range(4):
        for si in range(len(SIGNS)):
            rb = box[f"rho{j}{si}"]
            r = intersect(rb.v, (np.float64(-1.0), np.float64(1.0)))
            f2 = np.minimum(np.nan_to_num(h4pp_range(r, degree)[1], nan=1e3, posinf=1e3), 1e3)
            gc = centre[f"rho{j}{si}"].g
            terms = np.abs((gc[0] + gc[1]) / 2) * half.T          # (p, N)
            tot = terms.sum(axis=0)
            slack += coef * f2[None] * terms * tot[None]
    return low, slack


def _mean_and_spread(box: dict):
    """The interval of the deviations' mean dbar, and an upper bound on sum_j (delta_j - dbar)^2, each
    delta_j - dbar = (3 delta_j - sum_{k != j} delta_k) / 4 enclosed from the deviations' value intervals."""
    d = [box[f"delta{j}"].v for j in range(4)]
    dsum = add(add(d[0], d[1]), add(d[2], d[3]))
    dbar = (down(dsum[0] / 4), up(dsum[1] / 4))
    dev_hi = np.zeros_like(dbar[1])
    for j in range(4):
        others = None
        for k in range(4):
            if k != j:
                others = d[k] if others is None else add(others, d[k])
        e = mul(sub(mul(d[j], (np.float64(3.0), np.float64(3.0))), others), (np.float64(0.25), np.float64(0.25)))
        dev_hi = up(dev_hi + sqr(e)[1])
    return dbar, dev_hi


def natural_from_deltas(box: dict, degree: int = 4) -> np.ndarray:
    """F's natural lower bound from the deviations' value intervals (lean pass)."""
    K = constants(degree)
    dbar, dev_hi = _mean_and_spread(box)
    lin = mul(dbar, K.lin)
    q = mul(sqr(dbar), K.quad)
    dv = mul((np.zeros_like(dev_hi), dev_hi), K.dev)
    low = down(down(down(K.C0[0] - lin[1]) - q[1]) - dv[1])
    return np.where(np.isfinite(low), low, -np.inf)


def split_slack(gl, gh, HL, HH, half: np.ndarray) -> np.ndarray:
    """Per axis i and box, |g_i| h_i + sum_k |H_ik| h_i h_k (an unbounded |H_ik| counts as 1e9): the slack of the
    second-order bound along each axis, whose largest entry picks the axis to split."""
    p = half.shape[1]
    slack = np.zeros((p, half.shape[0]))
    for i in range(p):
        acc = mag((gl[i], gh[i])) * half[:, i]
        for k in range(p):
            acc = acc + np.nan_to_num(mag((HL[i, k], HH[i, k])), nan=1e9, posinf=1e9) * half[:, i] * half[:, k]
        slack[i] = acc
    return slack


def separable_lower(fc_lo, gc, HL, HH, half) -> np.ndarray:
    """f(c) + sum_i min_{|t| <= h_i} (g_i t + H_ii^lo t^2 / 2) - sum_{i < k} |H_ik| h_i h_k, rounded down (see
    ``conjecture.orientation_bnb_float``)."""
    p = HL.shape[0]
    sep = fc_lo.copy()
    for i in range(p):
        gam = mag((gc[0][i], gc[1][i]))
        a = HL[i, i]
        h = half[:, i]
        inner = (a > 0) & (gam < a * h)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t1 = up(up(gam * gam) / down(2 * a))
        t2 = down(-up(gam * h) + down(down(down(a * h) * h) / 2))
        sep = down(sep + np.where(inner, -t1, t2))
        for k in range(i + 1, p):
            m = mag((HL[i, k], HH[i, k]))
            sep = down(sep - up(up(m * h) * half[:, k]))
    return np.where(np.isfinite(sep), sep, -np.inf)

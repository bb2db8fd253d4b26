"""A certified enclosure of the finite-N population loss in arb ball arithmetic (python-flint).

    L_N in [mid - rad, mid + rad],
    L_N = (1/N^2) sum_{i,k} alpha_i alpha_k kappa(rho_ik) - (2/N) sum_{i,j} alpha_i beta_j kappa(rho_ij)
          + sum_{j,l} beta_j beta_l kappa(rho_jl),

evaluated with every float64 input taken as the exact binary number it is.  Ball arithmetic propagates
every rounding error, so the returned ball contains the exact loss of those inputs: the error bound is
the ball's radius (plus the rounding of its midpoint to a float).  Each cosine is intersected with
[-1, 1] before arccos (the exact cosine lies there).  A cosine ball that reaches +-1 (two parallel
neurons, e.g. a student equal to its target) is enclosed without arccos, whose ball is undefined there:
kappa(+-1) +- Lip(kappa) |rho -+ 1| for degree n >= 1, and theta = atan2(sin, |rho|) for the step (n = 0).
Cost: N^2 d / 2 ball operations in C for the Gram matrix, and a Python loop over N^2 / 2 pairs for
kappa; N of a few hundred takes seconds.

The result carries the ball as arb prints it (``[mid +/- rad]`` with the digits the radius certifies)
and its endpoints as decimal strings rounded outwards, with digits down to a tenth of the ball's width;
the lower end is clamped at 0 (the loss is >= 0 by definition) when the ball reaches below it.

References: MODEL.md sections 1-2; Johansson, "Arb: efficient arbitrary-precision midpoint-radius
interval arithmetic", IEEE Trans. Computers 66 (2017).

Examples
--------
>>> res = certified_population_loss([1.0, 1.0], [[1.0, 0.0], [0.0, 1.0]], [0.5], [[1.0, 0.0]], "relu")
>>> res.status.name, round(res.value, 15)
('CERTIFIED', 0.125)
>>> res.error_bound < 1e-30
True
>>> res.ball
'[0.12500000000000000000000000000000000000 +/- 3.38e-39]'
>>> res.enclosure
('0.1249999999999999999999999999999999999963', '0.1250000000000000000000000000000000000037')
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

from flint import arb, arb_mat, ctx

from numerics.kappa import FastKappa, _j_arb
from numerics.networks import NetworkPair
from numerics.population_loss import LossResult, LossStatus
from theory.activations import Activation
from theory.errors import InputError

DEFAULT_PREC_BITS = 128
MAX_TARGET_NEURONS = 2000  # beyond this the pair loop takes minutes; use the float64 path


def _gram(rows_a, rows_b) -> arb_mat:
    return arb_mat(rows_a) * arb_mat(rows_b).transpose()


def lipschitz_arb(kap: FastKappa) -> arb | None:
    """max |kappa'| on [-1, 1] as an exact ball: (|p| + |q|)^2 n^2 k_{n-1}(1) (see FastKappa.lipschitz);
    None for degree 0 (kappa is only 1/2-Hoelder there)."""
    n = kap.degree
    if n == 0:
        return None
    (pn, pd), (qn, qd) = kap.exact_pq
    pq = arb(abs(pn)) / pd + arb(abs(qn)) / qd
    k_prev = (arb(1) / 2, arb(1) / 2, arb(3) / 2)[n - 1]
    return pq * pq * (n * n) * k_prev


def _kappa_atan2(kap: FastKappa, rho: arb) -> arb:
    """kappa(rho) with theta = atan2(sin, |rho|) instead of arccos (defined for balls reaching +-1)."""
    r = rho.intersection(arb(0, 1))
    sin_t = (1 - r * r).nonnegative_part().sqrt()
    pi = arb.pi()
    if r.lower() > 0:
        theta = arb.atan2(sin_t, r)
    elif r.upper() < 0:
        theta = pi - arb.atan2(sin_t, -r)
    else:  # a ball around 0 that also reaches +-1: only a precision far too low gets here
        theta = (pi / 2) * (1 + arb(0, 1))
    (pn, pd), (qn, qd) = kap.exact_pq
    p, q = arb(pn) / pd, arb(qn) / qd
    value = (p * p + q * q) * _j_arb(kap.degree, r, sin_t, pi - theta) / (2 * pi)
    if pn != 0 and qn != 0:
        value += 2 * p * q * _j_arb(kap.degree, -r, sin_t, theta) / (2 * pi)
    return value


def kappa_ball(kap: FastKappa, rho: arb, lip: arb | None) -> arb:
    """kappa at a cosine ball whose true value lies in [-1, 1].

    Inside (-1, 1): ``kap.evaluate_arb``.  A ball reaching +-1 makes arb's arccos undefined (nan), so
    there kappa(e) +- lip |e - rho| (e = +-1, the nearer end; kappa(e) is exact) or, for degree 0, the
    atan2 form."""
    if rho.lower() > -1 and rho.upper() < 1:
        return kap.evaluate_arb(rho)
    end = arb(1) if rho.mid() > 0 else arb(-1)
    dist = abs(end - rho).upper()
    if lip is not None and dist < 1:
        return kap.evaluate_arb(end) + lip * dist * arb(0, 1)
    return _kappa_atan2(kap, rho)


def _kernel_sum(kap: FastKappa, gram: arb_mat, norms_a, norms_b, wa, wb, *, symmetric: bool) -> arb:
    """sum_{i,k} wa_i wb_k kappa(gram_ik / (|a_i| |b_k|)) (zero-norm rows have zero weight and are skipped)."""
    total = arb(0)
    n_a, n_b = gram.nrows(), gram.ncols()
    k_one = kap.evaluate_arb(arb(1))
    lip = lipschitz_arb(kap)
    for i in range(n_a):
        if norms_a[i] is None:
            continue
        if symmetric:
            total += wa[i] * wa[i] * k_one
            start = i + 1
        else:
            start = 0
        row = arb(0)
        for k in range(start, n_b):
            if norms_b[k] is None:
                continue
            row += wb[k] * kappa_ball(kap, gram[i, k] / (norms_a[i] * norms_b[k]), lip)
        total += (2 * row if symmetric else row) * wa[i]
    return total


def certified_loss_ball(pair: NetworkPair, prec_bits: int = DEFAULT_PREC_BITS) -> tuple[arb, arb, arb]:
    """The three terms of L_N (target-target, -2 x cross, student-student) as arb balls at ``prec_bits``."""
    kap = FastKappa.from_activation(pair.activation)
    n = pair.activation.degree
    with ctx.workprec(prec_bits):
        W = [[arb(float(x)) for x in row] for row in pair.W]
        V = [[arb(float(x)) for x in row] for row in pair.V]
        g_tt, g_ts, g_ss = _gram(W, W), _gram(W, V), _gram(V, V)

        def norms(gram: arb_mat, size: int):
            return [None if gram[i, i].is_zero() else gram[i, i].sqrt() for i in range(size)]

        nw, nv = norms(g_tt, pair.n_target), norms(g_ss, pair.n_student)
        alpha = [arb(0) if nw[i] is None else arb(float(pair.a[i])) * nw[i] ** n for i in range(pair.n_target)]
        beta = [arb(0) if nv[j] is None else arb(float(pair.b[j])) * nv[j] ** n for j in range(pair.n_student)]
        big_n = arb(pair.n_target)
        t_self = _kernel_sum(kap, g_tt, nw, nw, alpha, alpha, symmetric=True) / (big_n * big_n)
        t_cross = -2 * _kernel_sum(kap, g_ts, nw, nv, alpha, beta, symmetric=False) / big_n
        t_student = _kernel_sum(kap, g_ss, nv, nv, beta, beta, symmetric=True)
    return t_self, t_cross, t_student


def _exact(x: arb) -> Fraction:
    """An exact arb (radius 0, e.g. from ``lower()``/``upper()``) as a Fraction."""
    man, exp = x.man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(exp)


def _floor_log10(x: Fraction) -> int:
    """floor(log10(x)) for x > 0, exactly."""
    k = len(str(x.numerator)) - len(str(x.denominator))
    while Fraction(10) ** k > x:
        k -= 1
    while Fraction(10) ** (k + 1) <= x:
        k += 1
    return k


def _decimal(n: int, k: int) -> str:
    """n * 10^k as an exact decimal string (positional unless very large or small)."""
    if n == 0:
        return "0"
    with localcontext() as c:
        c.prec = len(str(abs(n))) + 2
        d = Decimal(n).scaleb(k)
    return format(d, "f") if -7 <= d.adjusted() < 16 else format(d, "e")


def decimal_enclosure(ball: arb, *, max_digits: int = 60) -> tuple[str, str]:
    """(lower, upper) as decimal strings with lower <= every point of ``ball`` <= upper (rounded outwards).

    The last digit is a tenth of the ball's width or finer (so the two differ when the radius is
    nonzero), and at most ``max_digits`` significant digits are kept.  Call it at the ball's working
    precision: ``lower()``/``upper()`` round the ends outwards at the current precision.

    >>> with ctx.workprec(128):
    ...     decimal_enclosure(arb(1) / 3 + arb("0 +/- 1e-20"))
    ('0.333333333333333333323', '0.333333333333333333344')
    """
    lo, hi = _exact(ball.lower()), _exact(ball.upper())
    top = max(abs(lo), abs(hi))
    if top == 0:
        return "0", "0"
    k = _floor_log10(top) - max_digits + 1
    if hi > lo:
        k = max(k, _floor_log10(hi - lo) - 1)
    quantum = Fraction(10) ** k
    n_lo, n_hi = math.floor(lo / quantum), math.ceil(hi / quantum)
    if n_lo == n_hi:  # an exact ball with a short decimal expansion: no trailing zeros
        while n_lo != 0 and n_lo % 10 == 0:
            n_lo, n_hi, k = n_lo // 10, n_hi // 10, k + 1
    return _decimal(n_lo, k), _decimal(n_hi, k)


def certified_population_loss(target_a, target_W, student_b, student_V, activation: str | Activation = "relu",
                              *, prec_bits: int = DEFAULT_PREC_BITS, seed: int | None = None) -> LossResult:
    """L_N(theta) as an arb ball at ``prec_bits`` bits; ``error_bound`` is a certified radius.

    Examples
    --------
    >>> r = certified_population_loss([2.0], [[3.0, 4.0]], [1.0], [[3.0, 4.0]], "relu")
    >>> abs(r.value - 12.5) < 1e-15   # (2 * 5 - 5)^2 * kappa(1) = 25 / 2
    True
    """
    pair = NetworkPair.from_arrays(target_a, target_W, student_b, student_V, activation)
    if pair.n_target > MAX_TARGET_NEURONS:
        raise InputError("target a", f"the certified path handles N <= {MAX_TARGET_NEURONS}; use the float64 path",
                         got=pair.n_target)
    if not isinstance(prec_bits, int) or prec_bits < 53:
        raise InputError("prec_bits", "expected an integer >= 53", got=prec_bits)
    t_self, t_cross, t_student = certified_loss_ball(pair, prec_bits)
    with ctx.workprec(prec_bits):
        total = t_self + t_cross + t_student
        if not total.is_finite():
            raise InputError("weights", "the enclosure is not finite; increase prec_bits or rescale the weights")
        mid = float(total.mid())
        # float() rounds to nearest: inflate by 2^-50 so the float radius still bounds the ball.
        radius = (float(total.rad()) + abs(float((total.mid() - arb(mid)).abs_upper()))) * (1 + 2.0**-50)
        lower, upper = decimal_enclosure(total)
        note = None
        if total.lower() < 0:  # the exact loss is >= 0: [0, upper] still encloses it
            note = f"lower end clamped at 0, since the loss is >= 0 by definition; the ball reaches down to {lower}"
            lower = "0"
        # arb prints only the digits its radius certifies (at most ~ prec_bits log10(2))
        ball = total.str(int(prec_bits * math.log10(2)) + 3)
        terms = tuple(float(t.mid()) for t in (t_self, t_cross, t_student))
    return LossResult(value=mid, error_bound=radius, terms=terms, method="arb-ball", precision=f"arb {prec_bits} bits",
                      status=LossStatus.CERTIFIED, n_target=pair.n_target, n_student=pair.n_student, dim=pair.dim,
                      activation=pair.activation.name, seed=seed, enclosure=(lower, upper), ball=ball, note=note)

"""A certified enclosure of the finite-N population loss in arb ball arithmetic (python-flint).

    L_N in [mid - rad, mid + rad],
    L_N = (1/N^2) sum_{i,k} alpha_i alpha_k kappa(rho_ik) - (2/N) sum_{i,j} alpha_i beta_j kappa(rho_ij)
          + sum_{j,l} beta_j beta_l kappa(rho_jl),

evaluated with every float64 input taken as the exact binary number it is.  Ball arithmetic propagates
every rounding error, so the returned ball contains the exact loss of those inputs: the error bound is
the ball's radius (plus the rounding of its midpoint to a float).  Each cosine is intersected with
[-1, 1] before arccos (the exact cosine lies there).  Cost: N^2 d / 2 ball operations in C for the
Gram matrix, and a Python loop over N^2 / 2 pairs for kappa; N of a few hundred takes seconds.

References: MODEL.md sections 1-2; Johansson, "Arb: efficient arbitrary-precision midpoint-radius
interval arithmetic", IEEE Trans. Computers 66 (2017).

Examples
--------
>>> res = certified_population_loss([1.0, 1.0], [[1.0, 0.0], [0.0, 1.0]], [0.5], [[1.0, 0.0]], "relu")
>>> res.status.name, round(res.value, 15)
('CERTIFIED', 0.125)
>>> res.error_bound < 1e-30
True
"""

from __future__ import annotations

from flint import arb, arb_mat, ctx

from numerics.kappa import FastKappa
from numerics.networks import NetworkPair
from numerics.population_loss import LossResult, LossStatus
from theory.activations import Activation
from theory.errors import InputError

DEFAULT_PREC_BITS = 128
MAX_TARGET_NEURONS = 2000  # beyond this the pair loop takes minutes; use the float64 path


def _gram(rows_a, rows_b) -> arb_mat:
    return arb_mat(rows_a) * arb_mat(rows_b).transpose()


def _kernel_sum(kap: FastKappa, gram: arb_mat, norms_a, norms_b, wa, wb, *, symmetric: bool) -> arb:
    """sum_{i,k} wa_i wb_k kappa(gram_ik / (|a_i| |b_k|)) (zero-norm rows have zero weight and are skipped)."""
    total = arb(0)
    n_a, n_b = gram.nrows(), gram.ncols()
    k_one = kap.evaluate_arb(arb(1))
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
            row += wb[k] * kap.evaluate_arb(gram[i, k] / (norms_a[i] * norms_b[k]))
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
        enclosure = (total.lower().str(30, radius=False), total.upper().str(30, radius=False))
        terms = tuple(float(t.mid()) for t in (t_self, t_cross, t_student))
    return LossResult(value=mid, error_bound=radius, terms=terms, method="arb-ball", precision=f"arb {prec_bits} bits",
                      status=LossStatus.CERTIFIED, n_target=pair.n_target, n_student=pair.n_student, dim=pair.dim,
                      activation=pair.activation.name, seed=seed, enclosure=enclosure)

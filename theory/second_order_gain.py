"""The second-order (O(1/N)) gain at a rigid ETF: beta re-optimisation plus the Newton step of the frame deformation.

A target enters L_N near the ETF only through the field z_j = b_N(v^_j) - abar_N c_d (with b_N(v^) = (1/N) sum_i
alpha_i kappa(<w^_i, v^>)) and its tangent gradients gz_j = grad_{v_j} z_j.  At a rigid (rotated) ETF V, to second
order in (z, gz), which are O(N^-1/2):

    min_beta L_N(beta, V)            = Ltilde_N* - 2 beta0 sum_j z_j - Y_beta,        Y_beta = z^T K^{-1} z   (exact),
    min over deformations of V       adds - Y_def,                                   Y_def  = (1/2) g^T H^+ g,
    g_j = 2 beta0 [kappa'(rho0) P_j sum_{l != j} (K^{-1} z)_l v_l - gz_j],   P_j = I - v_j v_j^T,  beta0 = a / lambda,

g being the first-order gradient of the reduced loss F_N(V) = T_N - b_N^T K^{-1} b_N in V and H = a^2 H_1 the Hessian
of the reduced Ltilde_N at the ETF (theory.etf_hessian; a = abar c_d).  The deformation itself is delta = -H^+ g.

Fields are evaluated at the reference ETF ``simplex_etf(M, d)`` (span = the first k = M - 1 coordinates); a target
is rotated into that frame first.  Two parts of the field have known laws:

* degree 2 (``degree_two_fields``): with the span an invariant subspace of S_N (the first-order optimum),
  z_j = a_2 e_j^T L e_j, gz_j = 2 a_2 P_j (L e_j, 0), L = the k x k block of S_N in the span;
* the rest (``rest_fields``): per target neuron w^, psi_r = psi - psi_2 with psi = (kappa(t_j) - c_d,
  kappa'(t_j) P_j w^), t_j = <w^, v_j>; E over the target of Y(rest) = (E alpha^2 / N) E_w^[Y(psi_r(w^))].

References: derived here (docs/finite_n_gain.md, steps 4-6).

Examples
--------
>>> from theory.activations import get_activation
>>> m = second_order_model(get_activation("relu"), 3, 6, abar=1.0)
>>> L = np.diag([0.02, 0.01])
>>> z, gz = m.degree_two_fields(L)
>>> yb, yd = m.gains(z, gz)
>>> parts = m.degree_two_parts(L)
>>> bool(yb > 0 and yd > 0), bool(np.isclose(parts[0] + parts[1], yb + yd))
(True, True)
>>> h = m.haar_average(np.array([0.02, 0.01]))      # k = 2: the gain does not depend on the orientation
>>> bool(np.allclose(h, parts))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from theory.activations import Activation
from theory.errors import InputError
from theory.etf import check_neurons_dim, simplex_etf
from theory.etf_hessian import ETFHessian, etf_hessian
from theory.gegenbauer_kernel import degree_two_coefficient_mp
from theory.kernels import dual_kernel
from theory.regimes import sphere_average_value


@dataclass(frozen=True)
class SecondOrderModel:
    """The quadratic model at the reference ETF for one activation, (M, d) and target scale abar."""

    activation: Activation
    M: int
    d: int
    abar: float
    c_d: float
    a2: float
    kappa_one: float
    kappa_rho0: float
    kappa_prime_rho0: float
    hessian: ETFHessian

    @property
    def k(self) -> int:
        return self.M - 1

    @property
    def lam(self) -> float:
        """Eigenvalue of K on 1: kappa(1) + (M - 1) kappa(rho0)."""
        return self.kappa_one + (self.M - 1) * self.kappa_rho0

    @property
    def mu(self) -> float:
        """Eigenvalue of K on 1^perp: kappa(1) - kappa(rho0)."""
        return self.kappa_one - self.kappa_rho0

    @property
    def a(self) -> float:
        return self.abar * self.c_d

    @property
    def beta0(self) -> float:
        return self.a / self.lam

    @cached_property
    def frame(self) -> np.ndarray:
        return simplex_etf(self.M, self.d)

    @cached_property
    def span_frame(self) -> np.ndarray:
        """The ETF rows in span coordinates, (M, k)."""
        return simplex_etf(self.M, self.k)

    def k_inverse(self, z: np.ndarray) -> np.ndarray:
        """K^{-1} z at the ETF (z of shape (..., M))."""
        mean = np.mean(z, axis=-1, keepdims=True)
        return mean / self.lam + (z - mean) / self.mu

    def gradient(self, z: np.ndarray, gz: np.ndarray) -> np.ndarray:
        """g (..., M, d): the first-order gradient of the reduced finite-N loss in V (module docstring)."""
        V = self.frame
        dbeta = self.k_inverse(z)
        kp = np.full((self.M, self.M), self.kappa_prime_rho0)
        np.fill_diagonal(kp, 0.0)
        s = np.einsum("jl,...l,ld->...jd", kp, dbeta, V)
        s = s - np.sum(s * V, axis=-1, keepdims=True) * V
        gzt = gz - np.sum(gz * V, axis=-1, keepdims=True) * V
        return 2 * self.beta0 * (s - gzt)

    def gains(self, z: np.ndarray, gz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Y_beta, Y_def) for fields z (..., M) and gz (..., M, d) at the reference ETF."""
        z = np.asarray(z, dtype=float)
        y_beta = np.sum(z * self.k_inverse(z), axis=-1)
        y_def = 0.5 * self.hessian.quadratic(self.gradient(z, gz)) / self.a**2
        return y_beta, y_def

    def deformation(self, z: np.ndarray, gz: np.ndarray) -> np.ndarray:
        """delta = -H^+ g (..., M, d): the predicted displacement of the frame away from the rigid ETF."""
        return self.hessian.step_from(self.gradient(z, gz)) / self.a**2

    def gram_change(self, delta: np.ndarray) -> np.ndarray:
        """First-order change of the Gram matrix, <delta_j, v_l> + <v_j, delta_l> (..., M, M)."""
        x = np.einsum("...jd,ld->...jl", delta, self.frame)
        return x + np.swapaxes(x, -1, -2)

    def degree_two_fields(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(z, gz) of the degree-2 field when the span carries the symmetric k x k block L (..., k, k) of S_N."""
        L = np.asarray(L, dtype=float)
        E = self.span_frame
        Le = np.einsum("...ab,jb->...ja", L, E)                      # L e_j
        z = self.a2 * np.einsum("ja,...ja->...j", E, Le)
        gz = np.zeros(L.shape[:-2] + (self.M, self.d))
        gz[..., : self.k] = 2 * self.a2 * Le - 2 * z[..., None] * E        # 2 a_2 P_j (L e_j)
        return z, gz

    def degree_two_parts(self, L: np.ndarray) -> np.ndarray:
        """(Y_beta, Y_def, ||delta||^2, ||dG||^2) of the degree-2 field for span blocks L (..., k, k): shape (4, ...)."""
        z, gz = self.degree_two_fields(L)
        yb, yd = self.gains(z, gz)
        delta = self.deformation(z, gz)
        return np.stack([yb, yd, np.sum(delta**2, axis=(-1, -2)), np.sum(self.gram_change(delta) ** 2, axis=(-1, -2))])

    @cached_property
    def degree_two_tensors(self) -> np.ndarray:
        """T[p, a, b, c, e] with part p of ``degree_two_parts``(L) = sum T[p,a,b,c,e] L_ab L_ce (polarisation)."""
        k = self.k
        basis = np.zeros((k * k, k, k))
        for i in range(k * k):
            a, b = divmod(i, k)
            basis[i, a, b] += 0.5
            basis[i, b, a] += 0.5
        diag = self.degree_two_parts(basis)
        pair = self.degree_two_parts(basis[:, None] + basis[None, :])
        return (0.5 * (pair - diag[:, :, None] - diag[:, None, :])).reshape(4, k, k, k, k)

    def haar_average(self, top: np.ndarray) -> np.ndarray:
        """E over a Haar orientation Q of ``degree_two_parts``(Q^T diag(top) Q), for spectra top (..., k): (4, ...).

        E[L_ab L_ce] = A d_ab d_ce + B (d_ac d_be + d_ae d_bc), fixed by A k^2 + 2 B k = (tr L)^2 and
        A k + B k (k + 1) = tr L^2 (an isotropic 4-tensor: Q only enters through these two invariants).
        """
        top = np.asarray(top, dtype=float)
        k = self.k
        trace_sq, sq_trace = np.sum(top, axis=-1) ** 2, np.sum(top**2, axis=-1)
        T = self.degree_two_tensors
        t1 = np.einsum("paacc->p", T)
        t2 = np.einsum("pabab->p", T) + np.einsum("pabba->p", T)
        det = k * k * k * (k + 1) - 2 * k * k
        A = (trace_sq * k * (k + 1) - 2 * k * sq_trace) / det
        B = (k * k * sq_trace - k * trace_sq) / det
        return np.multiply.outer(t1, A) + np.multiply.outer(t2, B)

    def rest_expectations(self, w: np.ndarray) -> np.ndarray:
        """Per direction w (n, d): (Y_beta, Y_def, ||delta||^2, ||dG||^2) of psi_r(w), shape (4, n)."""
        out = []
        chunk = max(500, 2_000_000 // (self.M * self.d))   # ~16 MB per (n, M, d) array
        for start in range(0, w.shape[0], chunk):
            z, gz = self.rest_fields(w[start:start + chunk])
            yb, yd = self.gains(z, gz)
            delta = self.deformation(z, gz)
            out.append(np.stack([yb, yd, np.sum(delta**2, axis=(-1, -2)),
                                 np.sum(self.gram_change(delta) ** 2, axis=(-1, -2))]))
        return np.concatenate(out, axis=1)

    def rest_fields(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """psi_r(w^) = psi - psi_2 for unit target directions w (n, d): (z part (n, M), gz part (n, M, d))."""
        kern = dual_kernel(self.activation)
        V = self.frame
        t = np.clip(w @ V.T, -1.0, 1.0)
        z = kern.numpy(t) - self.c_d - self.a2 * (t * t - 1.0 / self.d)
        coef = kern.numpy_prime(t) - 2 * self.a2 * t
        gz = coef[..., None] * (w[:, None, :] - t[..., None] * V[None])
        return z, gz


def second_order_model(act: Activation, M: int, d: int, *, abar: float) -> SecondOrderModel:
    """The quadratic model of the module docstring (needs M >= 3, M <= d + 1 and a strict local minimum at the ETF).

    M = 2 is refused: the antipodal pair has kappa'(-1) = 0 for ReLU, so tilting it out of its line costs nothing
    at second order and the expansion does not apply.
    """
    check_neurons_dim(M, d)
    if M < 3:
        raise InputError("M", "the second-order gain needs M >= 3 (at M = 2, kappa'(-1) = 0 for ReLU: the antipodal "
                         "pair's tilt is flat at second order)", got=M)
    kern = dual_kernel(act)
    hess = etf_hessian(act, M)
    if hess.min_eigenvalue <= 0 or hess.h_out <= 0:
        raise InputError("activation", f"the simplex ETF is not a strict local minimum of Ltilde for this activation "
                         f"at M = {M} (smallest Hessian eigenvalue {min(hess.min_eigenvalue, hess.h_out):.3g})",
                         got=act.name)
    rho0 = -1.0 / (M - 1)
    return SecondOrderModel(
        activation=act, M=M, d=d, abar=float(abar), c_d=float(sphere_average_value(act, d, 30)),
        a2=float(degree_two_coefficient_mp(act, d)), kappa_one=float(kern.at_one), kappa_rho0=float(kern.numpy(rho0)),
        kappa_prime_rho0=float(kern.numpy_prime(rho0)), hessian=hess)


def data_fields(alpha: np.ndarray, units: np.ndarray, model: SecondOrderModel) -> tuple[np.ndarray, np.ndarray]:
    """(z, gz) of one target (scaling factors alpha (N,), unit directions (N, d)) at the reference ETF.

    z_j = (1/N) sum_i alpha_i (kappa(<w^_i, v_j>) - c_d) (so b_N = abar_N c_d + z exactly), gz_j its tangent gradient.
    """
    kern = dual_kernel(model.activation)
    V = model.frame
    alpha = np.asarray(alpha, dtype=float)
    n = alpha.size
    t = np.clip(units @ V.T, -1.0, 1.0)
    z = alpha @ (kern.numpy(t) - model.c_d) / n
    grad = (kern.numpy_prime(t) * alpha[:, None]).T @ units / n
    grad = grad - np.sum(grad * V, axis=1, keepdims=True) * V
    return z, grad

"""Independent mpmath references for the theory tests (no use of the closed forms under test), and their self-check."""

from __future__ import annotations

import mpmath


def upper_gauss_moment(k: int, c):
    """J_k(c) = int_c^inf z^k phi(z) dz by the recursion J_k = c^(k-1) phi(c) + (k-1) J_{k-2}."""
    if k == 0:
        return mpmath.ncdf(-c)
    if k == 1:
        return mpmath.npdf(c)
    return c ** (k - 1) * mpmath.npdf(c) + (k - 1) * upper_gauss_moment(k - 2, c)


def relu_power_mean(n: int, a, b):
    """E[relu(a + b z)^n], z ~ N(0, 1), b > 0 (binomial expansion over the half line z > -a/b)."""
    c = -a / b
    return mpmath.fsum(mpmath.binomial(n, k) * a ** (n - k) * b**k * upper_gauss_moment(k, c) for k in range(n + 1))


def kernel_by_quadrature(p, q, n: int, rho, dps: int):
    """kappa(rho) = E_u[sigma(u) E_z sigma(rho u + sqrt(1-rho^2) z)]: inner mean in closed form, outer by quadrature."""
    with mpmath.workdps(dps + 15):
        p, q, rho = mpmath.mpf(p), mpmath.mpf(q), mpmath.mpf(rho)
        s = mpmath.sqrt(1 - rho**2)

        def sigma(u):
            return p * (u**n if u > 0 else 0) + q * ((-u) ** n if u < 0 else 0) if n > 0 else (p if u > 0 else q)

        def inner(u):
            return p * relu_power_mean(n, rho * u, s) + q * relu_power_mean(n, -rho * u, s)

        value = mpmath.quad(lambda u: mpmath.npdf(u) * sigma(u) * inner(u), [-mpmath.inf, 0, mpmath.inf])
    with mpmath.workdps(dps):
        return +value


def hermite_by_quadrature(p, q, n: int, k: int, dps: int):
    """mu_k = int sigma(u) He_k(u) phi(u) du / sqrt(k!), He_k(x) = 2^(-k/2) H_k(x / sqrt 2)."""
    with mpmath.workdps(dps + 15):
        p, q = mpmath.mpf(p), mpmath.mpf(q)

        def f(u):
            sig = p * (u**n if u > 0 else 0) + q * ((-u) ** n if u < 0 else 0) if n > 0 else (p if u > 0 else q)
            return sig * mpmath.hermite(k, u / mpmath.sqrt(2)) * mpmath.mpf(2) ** (-mpmath.mpf(k) / 2) * mpmath.npdf(u)

        value = mpmath.quad(f, [-mpmath.inf, 0, mpmath.inf]) / mpmath.sqrt(mpmath.factorial(k))
    with mpmath.workdps(dps):
        return +value


def relu_mu_sq_model(k: int):
    """MODEL.md section 2: mu_0^2 = 1/(2 pi), mu_1^2 = 1/4, mu_k^2 = ((k-3)!!)^2 / (2 pi k!) for even k >= 2."""
    if k == 0:
        return 1 / (2 * mpmath.pi)
    if k == 1:
        return mpmath.mpf(1) / 4
    if k % 2:
        return mpmath.mpf(0)
    return mpmath.fac2(k - 3) ** 2 / (2 * mpmath.pi * mpmath.factorial(k))


def relu_kernel_series(rho, dps: int, terms: int = 400):
    """kappa(rho) for ReLU from the MODEL.md Hermite series (|rho| < 1)."""
    with mpmath.workdps(dps + 10):
        rho = mpmath.mpf(rho)
        value = mpmath.fsum(relu_mu_sq_model(k) * rho**k for k in range(terms))
    with mpmath.workdps(dps):
        return +value


def test_references_agree_with_each_other():
    """The quadrature reference and the MODEL.md Hermite series reference give the same ReLU kernel value."""
    rho = mpmath.mpf(-1) / 3
    a = kernel_by_quadrature(1, 0, 1, rho, 40)
    b = relu_kernel_series(rho, 40, terms=200)
    assert abs(a - b) < mpmath.mpf(10) ** -35  # both accurate to ~40 digits; 5 guard digits

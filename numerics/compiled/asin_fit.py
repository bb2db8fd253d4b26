"""The producer of the compiled kernel's asin polynomial: Chebyshev interpolation in mpmath.

asin(y) = y + y z R(z), z = y^2, R(z) = (asin(sqrt z)/sqrt z - 1)/z, and R is approximated on [0, 1/4]
(|y| <= 1/2, the interval both branches of the kernel reduce to) by the degree-K interpolant at the K + 1
Chebyshev points, in monomial form with coefficients rounded to float64.  The coefficients are written into
``_jkernel.c`` by hand from ``c_table()``; ``numerics.compiled.asin_bound`` (which shares no code with this
module) certifies the approximation error of the table the compiled library actually holds.

    python -m numerics.compiled.asin_fit [K]      # prints the C table and the sampled error

Degree 12 is the smallest with a sampled error z |R - P| under 0.05 u (u = 2^-53): 5.4e-18 (degree 11:
5.8e-17, degree 13: 2.4e-18, limited by the rounding of the coefficients).
"""

from __future__ import annotations

import sys

import mpmath as mp

DEGREE = 12
UPPER = mp.mpf(1) / 4


def reduced_asin(z: mp.mpf) -> mp.mpf:
    """R(z) = (asin(sqrt z)/sqrt z - 1)/z, with R(0) = 1/6."""
    if z == 0:
        return mp.mpf(1) / 6
    s = mp.sqrt(z)
    return (mp.asin(s) / s - 1) / z


def fit(degree: int = DEGREE, dps: int = 60) -> list[float]:
    """float64 monomial coefficients p_0..p_K of the Chebyshev interpolant of R on [0, 1/4]."""
    with mp.workdps(dps):
        nodes = [UPPER / 2 * (1 + mp.cos(mp.pi * (j + mp.mpf(1) / 2) / (degree + 1))) for j in range(degree + 1)]
        vander = mp.matrix([[z**k for k in range(degree + 1)] for z in nodes])
        coeffs = mp.lu_solve(vander, mp.matrix([reduced_asin(z) for z in nodes]))
        return [float(c) for c in coeffs]


def sampled_error(coeffs: list[float], samples: int = 4001, dps: int = 40) -> float:
    """max z |R(z) - P(z)| on a uniform grid of [0, 1/4] (a sample, not a bound)."""
    with mp.workdps(dps):
        return float(max(abs(z * (reduced_asin(z) - mp.polyval([mp.mpf(c) for c in reversed(coeffs)], z)))
                         for z in mp.linspace(0, UPPER, samples)))


def c_table(coeffs: list[float]) -> str:
    """The coefficients as a C initialiser, exact (hexadecimal floats)."""
    return "{\n" + ",\n".join(f"    {c.hex()}  /* {c!r} */" for c in coeffs) + "\n}"


if __name__ == "__main__":  # pragma: no cover - a development tool
    k = int(sys.argv[1]) if len(sys.argv) > 1 else DEGREE
    table = fit(k)
    print(c_table(table))
    print("sampled max z |R - P| =", sampled_error(table))

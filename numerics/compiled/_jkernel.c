/* The Cho-Saul angular functions J_n(rho), n = 0..3, evaluated in place from x = -rho, in one fused loop.

   numerics.compiled.kernel calls these through ctypes (which releases the GIL); numerics.population_loss uses
   them for the N^2 target term when the library was built, and numpy ufuncs otherwise.  The Python module
   object exists only so that setuptools builds and installs this file as an (optional) extension.

   t = pi - arccos(rho) = arccos(x) without libm: with a = |x|,
     |x| <= 1/2:  z = x^2,          r = asin(x) = x + x z P(z),   t = pi/2 - r
     |x| >  1/2:  z = (1 - a)/2,    r = asin(sqrt z),             t = 2 r (x > 0),  pi - 2 r (x < 0)
   (asin(a) = pi/2 - 2 asin(sqrt((1 - a)/2)); 1 - a and the halving are exact for a >= 1/2).  P is the degree-12
   polynomial of numerics.compiled.asin_fit (Estrin's scheme below is written for degree 12);
   numerics.compiled.asin_bound certifies its error and derives
   the rounding bound of t from this exact sequence of operations.  Branches are selects, so the loop
   vectorises.  Contraction into FMA is off (-ffp-contract=off in pyproject.toml): every operation rounds once,
   as the bound assumes.  sin(theta) = sqrt((1 - x)(1 + x)) (relative error <= 3u/2 before the root). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>

#define ASIN_DEGREE 12

static const double ASIN_COEFFICIENTS[ASIN_DEGREE + 1] = {
    0x1.5555555555556p-3, 0x1.3333333332ecap-4, 0x1.6db6db6e31f13p-5, 0x1.f1c71c1db0623p-6,
    0x1.6e8bb1c8209a2p-6, 0x1.1c4d35cf95421p-6, 0x1.c9cf07674736ap-7, 0x1.782651caa6547p-7,
    0x1.52420b04b37bep-7, 0x1.65a9c4dfcf8b2p-8, 0x1.1d189408314eep-6, -0x1.e6aaa8a0a04ccp-7,
    0x1.d72b2bc8155f8p-6,
};

static const double PIO2_HI = 0x1.921fb54442d18p0, PIO2_LO = 0x1.1a62633145c07p-54;
static const double PI_HI = 0x1.921fb54442d18p1, PI_LO = 0x1.1a62633145c07p-53;

#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
#define TWOLAYER_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TWOLAYER_CLONES
#endif

static inline double fmax_plain(double a, double b) { return a > b ? a : b; } /* NaN b: keeps a */

static inline double clip_unit(double x) { return x > 1.0 ? 1.0 : (x < -1.0 ? -1.0 : x); }

static inline double asin_polynomial(double z) {
    /* Estrin's scheme (depth 4 instead of Horner's 12: 1.4x faster here).  Counting the roundings on the path
       of each term q_k z^k (z^2, z^4, z^8 carry 1, 3, 7), the most is 15, for q_11; asin_bound uses gamma_15. */
    const double *q = ASIN_COEFFICIENTS;
    const double z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
    const double e0 = q[0] + q[1] * z, e1 = q[2] + q[3] * z, e2 = q[4] + q[5] * z, e3 = q[6] + q[7] * z;
    const double e4 = q[8] + q[9] * z, e5 = q[10] + q[11] * z;
    const double f0 = e0 + e1 * z2, f1 = e2 + e3 * z2, f2 = e4 + e5 * z2;
    const double g0 = f0 + f1 * z4, g1 = f2 + q[12] * z4;
    return g0 + g1 * z8;
}

static inline double arccos_poly(double x) {
    const double a = __builtin_fabs(x);
    const int small = a <= 0.5;
    const double square = x * x, half_gap = (1.0 - a) * 0.5;  /* both computed: the selects vectorise */
    const double z = small ? square : half_gap;
    const double root = __builtin_sqrt(half_gap);
    const double y = small ? x : root;
    const double r = y + (y * z) * asin_polynomial(z);
    /* t = (A - f r) + B: (pi/2, 1, lo) small; (0, -2, 0) x > 1/2; (pi, 2, lo) x < -1/2.  f r is exact. */
    const double big_a = small ? PIO2_HI : (x > 0.0 ? 0.0 : PI_HI);
    const double big_b = small ? PIO2_LO : (x > 0.0 ? 0.0 : PI_LO);
    const double f = small ? 1.0 : (x > 0.0 ? -2.0 : 2.0);
    return (big_a - f * r) + big_b;
}

/* The |x| <= 1/2 branch of arccos_poly alone: the same operations, so the same bits, without the other
   branch's root and selects.  Used for blocks whose every |x| is at most 1/2 (most of a wide random target). */
static inline double arccos_small(double x) {
    const double z = x * x;
    const double r = x + (x * z) * asin_polynomial(z);
    return (PIO2_HI - r) + PIO2_LO;
}

TWOLAYER_CLONES
void twolayer_arccos(const double *x, double *out, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; ++i) out[i] = arccos_poly(clip_unit(x[i]));
}

/* J_n(rho) from c = -rho in [-1, 1]: the formulas of numerics.kappa.FastKappa.evaluate_negated, with
   v = 1 - c^2 = (1 - c)(1 + c) and sin = sqrt(v). */
#define DEFINE_J(suffix, ARCCOS)                                                                            \
    static inline double j##suffix##_0(double c) { return ARCCOS(c); }                                      \
    static inline double j##suffix##_1(double c) {                                                          \
        return __builtin_sqrt((1.0 - c) * (1.0 + c)) - ARCCOS(c) * c;                                       \
    }                                                                                                       \
    static inline double j##suffix##_2(double c) {                                                          \
        const double sine = __builtin_sqrt((1.0 - c) * (1.0 + c));                                          \
        return ARCCOS(c) * (1.0 + 2.0 * (c * c)) - 3.0 * (sine * c);                                        \
    }                                                                                                       \
    static inline double j##suffix##_3(double c) {                                                          \
        const double v = (1.0 - c) * (1.0 + c);                                                             \
        return __builtin_sqrt(v) * (15.0 - 11.0 * v) - (ARCCOS(c) * c) * (15.0 - 6.0 * v);                  \
    }

DEFINE_J(_of, arccos_poly)     /* j_of_n: any c in [-1, 1] */
DEFINE_J(_small, arccos_small) /* j_small_n: |c| <= 1/2 only; bit for bit j_of_n there */

/* Row sums out[r] = sum_j J_n(rho_rj) w_j of a strided block of x = -rho, without writing J back: each row
   goes through an L1-resident buffer of BLOCK values (by j_small_n when the block's every |x| <= 1/2), summed into LANES accumulators (lane k takes the
   columns j = k mod LANES of each block, the tail goes to lane 0), then added pairwise.  The order is fixed
   by this code alone, so every machine sums alike. */
#define BLOCK 512
#define LANES 8

#define DEFINE_KERNELS(n)                                                                                   \
    TWOLAYER_CLONES static void inplace_##n(double *x, ptrdiff_t m) {                                     \
        for (ptrdiff_t i = 0; i < m; ++i) x[i] = j_of_##n(clip_unit(x[i]));                                 \
    }                                                                                                       \
    TWOLAYER_CLONES static void weighted_##n(const double *x, ptrdiff_t rows, ptrdiff_t cols,              \
                                             ptrdiff_t stride, const double *w, double *out) {              \
        double buf[BLOCK];                                                                                  \
        for (ptrdiff_t r = 0; r < rows; ++r) {                                                              \
            const double *row = x + r * stride;                                                             \
            double acc[LANES] = {0.0};                                                                      \
            for (ptrdiff_t j0 = 0; j0 < cols; j0 += BLOCK) {                                                \
                const ptrdiff_t len = cols - j0 < BLOCK ? cols - j0 : BLOCK;                                \
                double top = 0.0;                                                                           \
                for (ptrdiff_t j = 0; j < len; ++j) top = fmax_plain(top, __builtin_fabs(row[j0 + j]));     \
                if (top <= 0.5)                                                                             \
                    for (ptrdiff_t j = 0; j < len; ++j) buf[j] = j_small_##n(row[j0 + j]);                  \
                else                                                                                        \
                    for (ptrdiff_t j = 0; j < len; ++j) buf[j] = j_of_##n(clip_unit(row[j0 + j]));          \
                ptrdiff_t j = 0;                                                                            \
                for (; j + LANES <= len; j += LANES)                                                        \
                    for (int k = 0; k < LANES; ++k) acc[k] += buf[j + k] * w[j0 + j + k];                   \
                for (; j < len; ++j) acc[0] += buf[j] * w[j0 + j];                                          \
            }                                                                                               \
            out[r] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));     \
        }                                                                                                   \
    }

DEFINE_KERNELS(0)
DEFINE_KERNELS(1)
DEFINE_KERNELS(2)
DEFINE_KERNELS(3)

int twolayer_j_negated(double *x, ptrdiff_t n, int degree) {
    switch (degree) {
    case 0: inplace_0(x, n); return 0;
    case 1: inplace_1(x, n); return 0;
    case 2: inplace_2(x, n); return 0;
    case 3: inplace_3(x, n); return 0;
    default: return -1;
    }
}

int twolayer_j_weighted_rows(const double *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride,
                             const double *w, double *out, int degree) {
    switch (degree) {
    case 0: weighted_0(x, rows, cols, stride, w, out); return 0;
    case 1: weighted_1(x, rows, cols, stride, w, out); return 0;
    case 2: weighted_2(x, rows, cols, stride, w, out); return 0;
    case 3: weighted_3(x, rows, cols, stride, w, out); return 0;
    default: return -1;
    }
}

int twolayer_asin_degree(void) { return ASIN_DEGREE; }

void twolayer_asin_coefficients(double *out) {
    for (int k = 0; k <= ASIN_DEGREE; ++k) out[k] = ASIN_COEFFICIENTS[k];
}

static struct PyModuleDef jkernel_module = {
    PyModuleDef_HEAD_INIT, "_jkernel",
    "J_n(rho) in compiled C; the functions are reached through ctypes (numerics.compiled.kernel).", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__jkernel(void) { return PyModule_Create(&jkernel_module); }

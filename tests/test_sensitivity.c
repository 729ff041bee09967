/* test_sensitivity.c - Sobol indices against analytic values, Morris effects against known rankings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resim/design.h"
#include "resim/rng.h"
#include "resim/sensitivity.h"

#define PI 3.14159265358979323846

typedef double (*model_fn)(const double *x, size_t k);

#define ISHIGAMI_A 7.0
#define ISHIGAMI_B 0.1

static double ishigami(const double *x, size_t k)
{
    (void)k;
    double s = sin(x[0]);
    return s + ISHIGAMI_A * sin(x[1]) * sin(x[1]) + ISHIGAMI_B * pow(x[2], 4) * s;
}

/* Sobol' G function with the classic a = (0, 1, 4.5, 9, 99, 99, 99, 99). */
static const double g_a[8] = {0, 1, 4.5, 9, 99, 99, 99, 99};

static double sobol_g(const double *x, size_t k)
{
    double p = 1;
    for (size_t i = 0; i < k; i++)
        p *= (fabs(4 * x[i] - 2) + g_a[i]) / (1 + g_a[i]);
    return p;
}

/* Analytic indices of Ishigami (Homma and Saltelli 1996). */
static void ishigami_exact(double s1[3], double st[3])
{
    double a = ISHIGAMI_A, b = ISHIGAMI_B, pi4 = pow(PI, 4), pi8 = pow(PI, 8);
    double v1 = 0.5 * pow(1 + b * pi4 / 5, 2), v2 = a * a / 8, v13 = 8 * b * b * pi8 / 225;
    double v = a * a / 8 + b * pi4 / 5 + b * b * pi8 / 18 + 0.5;
    s1[0] = v1 / v;
    s1[1] = v2 / v;
    s1[2] = 0;
    st[0] = (v1 + v13) / v;
    st[1] = v2 / v;
    st[2] = v13 / v;
}

/* Analytic indices of the G function (Saltelli and Sobol' 1995). */
static void g_exact(size_t k, double *s1, double *st)
{
    double vi[8], prod = 1;
    for (size_t i = 0; i < k; i++) {
        vi[i] = 1.0 / (3 * (1 + g_a[i]) * (1 + g_a[i]));
        prod *= 1 + vi[i];
    }
    double v = prod - 1;
    for (size_t i = 0; i < k; i++) {
        s1[i] = vi[i] / v;
        st[i] = vi[i] * prod / (1 + vi[i]) / v;
    }
}

/*
 * Evaluates f over a Saltelli design of n base samples and arranges the
 * outputs block by block (A, B, AB_1.., BA_1..) as resim_sobol_estimate
 * takes them, using the design's own role of every point.
 */
static double *saltelli_outputs(model_fn f, size_t k, const double *lo, const double *hi,
                                size_t n, int second_order)
{
    resim_error err = {0};
    resim_design *d = resim_design_alloc_saltelli(k, lo, hi, n, second_order, &err);
    assert_non_null(d);
    resim_design_cursor *c = resim_design_cursor_alloc(d, &err);
    assert_non_null(c);
    size_t size = resim_design_size(d);
    double *y = malloc(size * sizeof *y), x[20];
    assert_non_null(y);
    for (size_t p = 0; p < size; p++) {
        resim_design_role role;
        assert_int_equal(resim_design_point(d, c, p, x, &err), RESIM_OK);
        assert_int_equal(resim_design_role_of(d, p, &role, &err), RESIM_OK);
        size_t block = strcmp(role.matrix, "A") == 0   ? 0
                       : strcmp(role.matrix, "B") == 0 ? 1
                       : role.matrix[0] == 'A'         ? 2 + role.key
                                                       : 2 + k + role.key;
        y[block * n + role.group] = f(x, k);
    }
    resim_design_cursor_free(c);
    resim_design_free(d);
    return y;
}

static resim_sobol_result *estimate(const double *y, size_t n, size_t k, int second_order,
                                    size_t bootstrap, uint64_t seed)
{
    resim_error err = {0};
    gsl_rng *r = resim_rng_alloc();
    resim_rng_reset(r, seed, 0, RESIM_STREAM_BOOTSTRAP);
    resim_sobol_input in = {.y = y, .n = n, .k = k, .m = 1, .second_order = second_order};
    resim_sobol_result *res = resim_sobol_estimate(&in, r, bootstrap, 0.95, &err);
    gsl_rng_free(r);
    if (res == NULL)
        fail_msg("%s", err.msg);
    return res;
}

/* Every analytic value lies in its bootstrap interval; returns the mean width. */
static double check_covered(const resim_sobol_result *res, const double *s1, const double *st,
                            const char *what)
{
    double width = 0;
    for (size_t i = 0; i < res->k; i++) {
        if (!(res->s1_lo[i] <= s1[i] && s1[i] <= res->s1_hi[i]) ||
            !(res->st_lo[i] <= st[i] && st[i] <= res->st_hi[i]))
            fail_msg("%s n=%zu key %zu: S1 %.4f [%.4f, %.4f] exact %.4f; ST %.4f [%.4f, %.4f] "
                     "exact %.4f",
                     what, res->n, i + 1, res->s1[i], res->s1_lo[i], res->s1_hi[i], s1[i],
                     res->st[i], res->st_lo[i], res->st_hi[i], st[i]);
        assert_true(res->s1_lo[i] <= res->s1[i] && res->s1[i] <= res->s1_hi[i]);
        width += res->s1_hi[i] - res->s1_lo[i] + res->st_hi[i] - res->st_lo[i];
    }
    return width / (2.0 * (double)res->k);
}

/* Ishigami: analytic S1 and ST inside the 95 % intervals; 16 times the
 * samples narrows the intervals about 4 times (1 / sqrt(n)). */
static void test_ishigami(void **state)
{
    (void)state;
    double lo[3] = {-PI, -PI, -PI}, hi[3] = {PI, PI, PI}, s1[3], st[3];
    ishigami_exact(s1, st);
    assert_true(fabs(s1[0] - 0.3139) < 1e-4 && fabs(st[2] - 0.2437) < 1e-4);
    double width[2];
    size_t sizes[2] = {512, 8192};
    for (size_t t = 0; t < 2; t++) {
        double *y = saltelli_outputs(ishigami, 3, lo, hi, sizes[t], 0);
        resim_sobol_result *res = estimate(y, sizes[t], 3, 0, 1000, 2385);
        width[t] = check_covered(res, s1, st, "Ishigami");
        resim_sobol_result_free(res);
        free(y);
    }
    double ratio = width[0] / width[1];
    if (!(ratio > 2.5 && ratio < 6.5))
        fail_msg("interval width ratio %.2f for 16x the samples, not about 4", ratio);
}

/* Sobol' G over 8 keys, the same checks. */
static void test_sobol_g(void **state)
{
    (void)state;
    enum { K = 8 };
    double lo[K], hi[K], s1[K], st[K], width[2];
    for (size_t i = 0; i < K; i++) {
        lo[i] = 0;
        hi[i] = 1;
    }
    g_exact(K, s1, st);
    size_t sizes[2] = {512, 8192};
    for (size_t t = 0; t < 2; t++) {
        double *y = saltelli_outputs(sobol_g, K, lo, hi, sizes[t], 0);
        resim_sobol_result *res = estimate(y, sizes[t], K, 0, 1000, 7);
        width[t] = check_covered(res, s1, st, "G");
        resim_sobol_result_free(res);
        free(y);
    }
    double ratio = width[0] / width[1];
    if (!(ratio > 2.5 && ratio < 6.5))
        fail_msg("interval width ratio %.2f for 16x the samples, not about 4", ratio);
}

/* Second order: Ishigami's only interaction is S13; the first- and
 * total-order estimates do not change when the BA matrices are added...
 * except through the centring, which then includes them. */
static void test_second_order(void **state)
{
    (void)state;
    double lo[3] = {-PI, -PI, -PI}, hi[3] = {PI, PI, PI}, s1[3], st[3];
    ishigami_exact(s1, st);
    size_t n = 8192;
    double *y = saltelli_outputs(ishigami, 3, lo, hi, n, 1);
    resim_sobol_result *res = estimate(y, n, 3, 1, 300, 11);
    assert_non_null(res->s2);
    double s13 = st[2]; /* V13 / V */
    /* s2[(q k + i) k + j], i < j */
    double e12 = res->s2[0 * 3 + 1], e13 = res->s2[0 * 3 + 2], e23 = res->s2[1 * 3 + 2];
    assert_true(res->s2_lo[2] <= s13 && s13 <= res->s2_hi[2]);
    assert_true(res->s2_lo[1] <= 0 && 0 <= res->s2_hi[1]);
    assert_true(res->s2_lo[5] <= 0 && 0 <= res->s2_hi[5]);
    assert_true(fabs(e13 - s13) < 0.05 && fabs(e12) < 0.05 && fabs(e23) < 0.05);
    /* The lower triangle and diagonal stay empty. */
    assert_true(isnan(res->s2[0]) && isnan(res->s2[3]) && isnan(res->s2[4]));
    check_covered(res, s1, st, "Ishigami second order");
    resim_sobol_result_free(res);
    free(y);
}

/* The same seed gives the same intervals; another seed others; several
 * measures give each measure the intervals it has alone. */
static void test_bootstrap_reproducible(void **state)
{
    (void)state;
    double lo[3] = {-PI, -PI, -PI}, hi[3] = {PI, PI, PI};
    size_t n = 256;
    double *y = saltelli_outputs(ishigami, 3, lo, hi, n, 0);
    resim_sobol_result *a = estimate(y, n, 3, 0, 200, 5);
    resim_sobol_result *b = estimate(y, n, 3, 0, 200, 5);
    resim_sobol_result *c = estimate(y, n, 3, 0, 200, 6);
    assert_memory_equal(a->s1_lo, b->s1_lo, 3 * sizeof(double));
    assert_memory_equal(a->st_hi, b->st_hi, 3 * sizeof(double));
    assert_true(memcmp(a->s1_lo, c->s1_lo, 3 * sizeof(double)) != 0);
    /* Two measures: Ishigami and a constant (no variance: NaN indices). */
    double *y2 = malloc(2 * 5 * n * sizeof *y2);
    for (size_t i = 0; i < 5 * n; i++) {
        y2[2 * i] = y[i];
        y2[2 * i + 1] = 2.385;
    }
    gsl_rng *r = resim_rng_alloc();
    resim_rng_reset(r, 5, 0, RESIM_STREAM_BOOTSTRAP);
    resim_error err = {0};
    resim_sobol_input in = {.y = y2, .n = n, .k = 3, .m = 2};
    resim_sobol_result *d = resim_sobol_estimate(&in, r, 200, 0.95, &err);
    assert_non_null(d);
    for (size_t i = 0; i < 3; i++) {
        assert_true(d->s1[i] == a->s1[i] && d->st[i] == a->st[i]);
        assert_true(d->s1_lo[i] == a->s1_lo[i] && d->st_hi[i] == a->st_hi[i]);
        assert_true(isnan(d->s1[3 + i]) && isnan(d->st_lo[3 + i]));
    }
    assert_true(d->variance[1] == 0);
    /* Bad arguments. */
    in.n = 1;
    assert_null(resim_sobol_estimate(&in, r, 0, 0.95, &err));
    in.n = n;
    assert_null(resim_sobol_estimate(&in, NULL, 10, 0.95, &err));
    assert_null(resim_sobol_estimate(&in, r, 10, 1.5, &err));
    resim_sobol_result *none = resim_sobol_estimate(&in, NULL, 0, 0, &err);
    assert_non_null(none);
    assert_true(isnan(none->s1_lo[0]) && none->s1[0] == a->s1[0]);
    resim_sobol_result_free(none);
    gsl_rng_free(r);
    resim_sobol_result_free(a);
    resim_sobol_result_free(b);
    resim_sobol_result_free(c);
    resim_sobol_result_free(d);
    resim_sobol_result_free(NULL);
    free(y2);
    free(y);
}

/* f = 10 x1 - 5 x2 + 2 x3 x4 + 0 x5 on [0, 1]^5: mu* ranks x1 > x2 >
 * x3, x4 > x5, with exact mu for the linear keys and no spread for them. */
static double morris_model(const double *x, size_t k)
{
    (void)k;
    return 10 * x[0] - 5 * x[1] + 2 * x[2] * x[3] + 0 * x[4];
}

static void test_morris_ranking(void **state)
{
    (void)state;
    enum { K = 5, R = 50, P = 4 };
    double lo[K] = {0, 0, 0, 0, 0}, hi[K] = {1, 1, 1, 1, 1};
    resim_error err = {0};
    resim_design *d = resim_design_alloc_morris(K, lo, hi, R, P, 2385, &err);
    assert_non_null(d);
    size_t size = resim_design_size(d);
    double *x = malloc(size * K * sizeof *x), *y = malloc(size * sizeof *y);
    for (size_t p = 0; p < size; p++) {
        assert_int_equal(resim_design_point(d, NULL, p, x + p * K, &err), RESIM_OK);
        y[p] = morris_model(x + p * K, K);
    }
    gsl_rng *r = resim_rng_alloc();
    resim_rng_reset(r, 1, 0, RESIM_STREAM_BOOTSTRAP);
    resim_morris_input in = {.x = x, .y = y, .r = R, .k = K, .m = 1,
                             .delta = resim_design_morris_delta(P)};
    resim_morris_result *res = resim_morris_estimate(&in, r, 1000, 0.95, &err);
    assert_non_null(res);
    double *ms = res->mu_star;
    assert_true(ms[0] > ms[1] && ms[1] > ms[2] && ms[1] > ms[3] && ms[2] > ms[4] &&
                ms[3] > ms[4]);
    assert_true(fabs(res->mu[0] - 10) < 1e-9 && fabs(res->mu[1] + 5) < 1e-9);
    assert_true(fabs(ms[1] - 5) < 1e-9 && ms[4] == 0);
    assert_true(res->sigma[0] < 1e-9 && res->sigma[2] > 0.1);
    /* x3's effect is 2 x4: its mean lies near 2 E[x4] = 1. */
    assert_true(res->mu_star_lo[2] <= 1.0 && 1.0 <= res->mu_star_hi[2]);
    assert_true(res->mu_star_lo[2] < res->mu_star_hi[2]);
    resim_morris_result_free(res);
    /* A step that moves two keys, or a key moved twice, is refused. */
    double saved = x[1 * K + 0];
    x[1 * K + 0] = x[0 * K + 0] + 0.5;
    x[1 * K + 1] = x[0 * K + 1] + 0.5;
    in.x = x;
    assert_null(resim_morris_estimate(&in, r, 0, 0.95, &err));
    assert_non_null(strstr(err.msg, "trajectory 0, step 1"));
    x[1 * K + 0] = saved;
    x[1 * K + 1] = x[0 * K + 1];
    /* Trajectory 1's step 2 moving its first key back where it started:
     * that key moves a second time. */
    double *t1 = x + (K + 1) * K;
    memcpy(t1 + 2 * K, t1, K * sizeof *t1);
    assert_null(resim_morris_estimate(&in, r, 0, 0.95, &err));
    assert_non_null(strstr(err.msg, "trajectory 1"));
    assert_non_null(strstr(err.msg, "a second time"));
    gsl_rng_free(r);
    resim_design_free(d);
    free(x);
    free(y);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ishigami),
        cmocka_unit_test(test_sobol_g),
        cmocka_unit_test(test_second_order),
        cmocka_unit_test(test_bootstrap_reproducible),
        cmocka_unit_test(test_morris_ranking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

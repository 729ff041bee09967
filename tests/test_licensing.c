/*
 * test_licensing.c - the review-delay kernel (docs/model.md section 4) against
 * GSL's gamma CDF, bin by bin.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>

#include "resim/licensing.h"
#include "resim/scenario.h"

#define M RESIM_MONTH_DAYS
#define CAP 200
#define SENTINEL (-7.25)

/* Mass of bin k of a gamma(mean mu, cv c) delay, straight from docs/model.md. */
static double bin_mass(double mu, double cv, size_t k)
{
    double shape = 1 / (cv * cv), scale = mu * cv * cv;
    return gsl_cdf_gamma_P((double)(k + 1) * M, shape, scale) -
           gsl_cdf_gamma_P((double)k * M, shape, scale);
}

static void fill(double *w, size_t n, double v)
{
    for (size_t k = 0; k < n; k++)
        w[k] = v;
}

static const struct {
    double mu, cv;
} cases[] = {
    {63.0, 0.25}, {47.3, 0.41}, {96.5, 0.73}, {151.2, 1.17}, {180.0, 1.0},
    {5.2, 2.3},   {412.7, 0.07}, {1.9, 0.55}, {730.4, 0.38}, {29.85, 0.031},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Every bin in [first, end) is the CDF difference; bins outside hold no
 * more than the folded tail; the kernel sums to 1. */
static void test_kernel_matches_gamma_cdf(void **state)
{
    (void)state;
    double w[CAP];
    for (size_t c = 0; c < NCASES; c++) {
        double mu = cases[c].mu, cv = cases[c].cv;
        size_t first = 999, end = 999;
        fill(w, CAP, SENTINEL);
        resim_licensing_kernel(mu, cv, CAP, w, &first, &end);
        assert_true(first < end);
        assert_true(end <= CAP);
        double sum = 0;
        for (size_t k = 0; k < CAP; k++) {
            double expect = bin_mass(mu, cv, k);
            if (k >= first && k < end) {
                if (fabs(w[k] - expect) > 1e-12)
                    fail_msg("mu %g cv %g bin %zu: kernel %.17g, gamma CDF %.17g", mu, cv, k,
                             w[k], expect);
                sum += w[k];
            } else {
                if (w[k] != SENTINEL)
                    fail_msg("mu %g cv %g bin %zu outside [%zu, %zu) was written", mu, cv, k,
                             first, end);
                if (expect > 1e-12)
                    fail_msg("mu %g cv %g bin %zu left out but holds %.3g", mu, cv, k, expect);
            }
        }
        if (fabs(sum - 1) > 1e-12)
            fail_msg("mu %g cv %g: kernel sums to %.17g", mu, cv, sum);
    }
}

/* A tight delay has an empty head: its first bin is not 0. */
static void test_kernel_skips_empty_head(void **state)
{
    (void)state;
    double w[CAP];
    size_t first, end;
    resim_licensing_kernel(412.7, 0.07, CAP, w, &first, &end);
    /* 412.7 days is 13.56 months; the head below the tail mass is folded in. */
    double shape = 1 / (0.07 * 0.07), scale = 412.7 * 0.07 * 0.07;
    assert_true(first > 0);
    assert_true(gsl_cdf_gamma_P((double)first * M, shape, scale) <= RESIM_KERNEL_TAIL);
    assert_true(gsl_cdf_gamma_P((double)(first + 1) * M, shape, scale) > RESIM_KERNEL_TAIL);
    assert_true(end > 13);
    /* The first bin takes the head: w[first] = F((first+1) M). */
    assert_true(fabs(w[first] - gsl_cdf_gamma_P((double)(first + 1) * M, shape, scale)) <= 1e-15);
}

/* cv = 0 puts all mass in bin floor(mu / M). */
static void test_kernel_cv_zero(void **state)
{
    (void)state;
    const double mus[] = {97.6, 12.4, 30.4375 * 2, 245.9};
    const size_t bins[] = {3, 0, 2, 8};
    for (size_t c = 0; c < 4; c++) {
        double w[CAP];
        size_t first, end;
        fill(w, CAP, SENTINEL);
        resim_licensing_kernel(mus[c], 0, CAP, w, &first, &end);
        assert_int_equal(first, bins[c]);
        assert_int_equal(end, bins[c] + 1);
        assert_true(w[first] == 1);
        for (size_t k = 0; k < CAP; k++)
            if (k != first)
                assert_true(w[k] == SENTINEL);
    }
}

/* mu = 0 puts all mass in bin 0, whatever cv. */
static void test_kernel_mu_zero(void **state)
{
    (void)state;
    const double cvs[] = {0, 0.37, 1.83};
    for (size_t c = 0; c < 3; c++) {
        double w[CAP];
        size_t first, end;
        fill(w, CAP, SENTINEL);
        resim_licensing_kernel(0, cvs[c], CAP, w, &first, &end);
        assert_int_equal(first, 0);
        assert_int_equal(end, 1);
        assert_true(w[0] == 1);
        assert_true(w[1] == SENTINEL);
    }
}

/* Bins at or beyond cap are absent; those kept are still exact. */
static void test_kernel_cap_truncates(void **state)
{
    (void)state;
    double w[CAP];
    size_t first, end;
    const size_t cap = 3;
    fill(w, CAP, SENTINEL);
    resim_licensing_kernel(180.0, 1.0, cap, w, &first, &end);
    assert_int_equal(first, 0);
    assert_int_equal(end, cap);
    double sum = 0;
    for (size_t k = 0; k < cap; k++) {
        assert_true(fabs(w[k] - bin_mass(180.0, 1.0, k)) <= 1e-12);
        sum += w[k];
    }
    for (size_t k = cap; k < CAP; k++)
        assert_true(w[k] == SENTINEL);
    /* The mass left out is what is decided after the cap: 1 - F(cap M). */
    double kept = gsl_cdf_gamma_P((double)cap * M, 1.0, 180.0);
    assert_true(fabs(sum - kept) <= 1e-12);
    assert_true(sum < 0.5);

    /* A fixed delay beyond the cap leaves an empty kernel. */
    fill(w, CAP, SENTINEL);
    resim_licensing_kernel(97.6, 0, cap, w, &first, &end);
    assert_int_equal(first, end);
    for (size_t k = 0; k < CAP; k++)
        assert_true(w[k] == SENTINEL);

    /* A tight delay whose whole mass lies beyond the cap: nothing kept. */
    fill(w, CAP, SENTINEL);
    resim_licensing_kernel(412.7, 0.07, cap, w, &first, &end);
    assert_int_equal(first, end);
    for (size_t k = 0; k < CAP; k++)
        assert_true(w[k] == SENTINEL);

    /* cap = 1 keeps bin 0 only. */
    fill(w, CAP, SENTINEL);
    resim_licensing_kernel(47.3, 0.41, 1, w, &first, &end);
    assert_int_equal(first, 0);
    assert_int_equal(end, 1);
    assert_true(fabs(w[0] - bin_mass(47.3, 0.41, 0)) <= 1e-12);
    assert_true(w[1] == SENTINEL);
}

/* first and end do not depend on whether w is given. */
static void test_kernel_null_w(void **state)
{
    (void)state;
    const size_t caps[] = {1, 2, 3, 7, 40, CAP};
    for (size_t c = 0; c < NCASES; c++)
        for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
            double w[CAP];
            size_t f1 = 111, e1 = 111, f2 = 222, e2 = 222;
            resim_licensing_kernel(cases[c].mu, cases[c].cv, caps[k], w, &f1, &e1);
            resim_licensing_kernel(cases[c].mu, cases[c].cv, caps[k], NULL, &f2, &e2);
            if (f1 != f2 || e1 != e2)
                fail_msg("mu %g cv %g cap %zu: [%zu, %zu) with w, [%zu, %zu) without",
                         cases[c].mu, cases[c].cv, caps[k], f1, e1, f2, e2);
        }
    size_t f = 5, e = 5;
    resim_licensing_kernel(97.6, 0, CAP, NULL, &f, &e);
    assert_int_equal(f, 3);
    assert_int_equal(e, 4);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_matches_gamma_cdf),
        cmocka_unit_test(test_kernel_skips_empty_head),
        cmocka_unit_test(test_kernel_cv_zero),
        cmocka_unit_test(test_kernel_mu_zero),
        cmocka_unit_test(test_kernel_cap_truncates),
        cmocka_unit_test(test_kernel_null_w),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

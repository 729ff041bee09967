/* test_fit.c - bounded multi-start least squares and profile intervals on analytic models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resim/fit.h"

enum { NOBS = 30 };

/* Observations y_i at t_i = i and a model of theta; residual = model - y. */
typedef struct data {
    double y[NOBS];
    size_t n;
    int calls;
    int fail_at; /* make call number fail_at fail (0: never) */
    int nan_at;  /* make call number nan_at return a NaN */
} data;

/* y = a exp(-b t) + c */
static double decay(const double *th, double t) { return th[0] * exp(-th[1] * t) + th[2]; }

static int decay_resid(const double *th, double *r, void *ctx)
{
    data *d = ctx;
    d->calls++;
    if (d->fail_at > 0 && d->calls == d->fail_at)
        return 7;
    for (size_t i = 0; i < d->n; i++)
        r[i] = decay(th, (double)i) - d->y[i];
    if (d->nan_at > 0 && d->calls == d->nan_at)
        r[0] = NAN;
    return 0;
}

/* Two minima in [0, 5]: S = 0 at 1, a local one of about 2.2 near 3.9. */
static int twin_resid(const double *th, double *r, void *ctx)
{
    (void)ctx;
    r[0] = (th[0] - 1) * (th[0] - 4);
    r[1] = 0.5 * (th[0] - 1);
    r[2] = 0;
    return 0;
}

/* y = a exp(-b t) + 0 * d: the fourth parameter does nothing. */
static int inert_resid(const double *th, double *r, void *ctx)
{
    data *d = ctx;
    for (size_t i = 0; i < d->n; i++)
        r[i] = th[0] * exp(-th[1] * (double)i) + 0.0 * th[2] - d->y[i];
    return 0;
}

/* y = alpha + beta t: a linear model, for which the profile interval is the t interval. */
static int line_resid(const double *th, double *r, void *ctx)
{
    data *d = ctx;
    for (size_t i = 0; i < d->n; i++)
        r[i] = th[0] + th[1] * (double)i - d->y[i];
    return 0;
}

/* y = beta t (one parameter). */
static int slope_resid(const double *th, double *r, void *ctx)
{
    data *d = ctx;
    for (size_t i = 0; i < d->n; i++)
        r[i] = th[0] * (double)i - d->y[i];
    return 0;
}

static const double truth[3] = {2.385, 0.173, 0.417};
static const double lo3[3] = {0.5, 0.01, -1}, hi3[3] = {5, 1, 2};

static void make_decay(data *d, const double *th, double sigma, gsl_rng *r)
{
    memset(d, 0, sizeof *d);
    d->n = NOBS;
    for (size_t i = 0; i < NOBS; i++)
        d->y[i] = decay(th, (double)i) + (r != NULL ? gsl_ran_gaussian(r, sigma) : 0.0);
}

/* Without noise the fit recovers the parameters to 1e-6, and the intervals shrink onto them. */
static void test_recovery_exact(void **state)
{
    (void)state;
    data d;
    make_decay(&d, truth, 0, NULL);
    resim_error err = {0};
    resim_fit *w = resim_fit_alloc(NOBS, 3, &err);
    assert_non_null(w);
    resim_fit_options o;
    resim_fit_options_default(&o);
    assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo3, hi3, &o, &err), RESIM_OK);
    for (size_t j = 0; j < 3; j++) {
        assert_true(fabs(w->param[j].estimate - truth[j]) < 1e-6);
        assert_true(w->param[j].identified);
        assert_true(w->param[j].lower <= truth[j] + 1e-6 && truth[j] - 1e-6 <= w->param[j].upper);
        assert_true(w->param[j].upper - w->param[j].lower < 1e-3);
    }
    assert_true(w->sse < 1e-18);
    /* Every call of the function is counted. */
    assert_int_equal(w->runs, (size_t)d.calls);
    assert_true(w->grid == 21);
    /* No profile point does better than the estimate. */
    assert_true(w->profile_min >= w->sse - 1e-12);
    resim_fit_free(w);
}

/*
 * With noise, the intervals of each parameter cover the truth in at least
 * 45 of 50 seeded trials, and are not the whole box.
 */
static void test_coverage(void **state)
{
    (void)state;
    enum { TRIALS = 50 };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    resim_error err = {0};
    resim_fit *w = resim_fit_alloc(NOBS, 3, &err);
    assert_non_null(w);
    resim_fit_options o;
    resim_fit_options_default(&o);
    o.starts = 4;
    o.profile_points = 11;
    int covered[3] = {0, 0, 0};
    double width[3] = {0, 0, 0};
    for (unsigned long t = 0; t < TRIALS; t++) {
        gsl_rng_set(r, 2385 + t);
        data d;
        make_decay(&d, truth, 0.05, r);
        assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo3, hi3, &o, &err), RESIM_OK);
        for (size_t j = 0; j < 3; j++) {
            const resim_fit_param *p = &w->param[j];
            assert_true(p->identified);
            assert_true(p->lower <= p->estimate && p->estimate <= p->upper);
            covered[j] += p->lower <= truth[j] && truth[j] <= p->upper;
            width[j] += (p->upper - p->lower) / (hi3[j] - lo3[j]) / TRIALS;
        }
    }
    for (size_t j = 0; j < 3; j++) {
        print_message("parameter %zu: %d of %d covered, mean width %.3f of the box\n", j,
                      covered[j], TRIALS, width[j]);
        assert_true(covered[j] >= 45);
        assert_true(width[j] < 0.2);
    }
    resim_fit_free(w);
    gsl_rng_free(r);
}

/* For a linear model the profile interval is exactly the classical t interval. */
static void test_linear_t_interval(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 42);
    data d = {.n = NOBS};
    for (size_t i = 0; i < NOBS; i++)
        d.y[i] = 1.25 + 0.0385 * (double)i + gsl_ran_gaussian(r, 0.2);
    gsl_rng_free(r);
    /* Least squares by hand. */
    double n = NOBS, st = 0, sy = 0, stt = 0, sty = 0;
    for (size_t i = 0; i < NOBS; i++) {
        st += (double)i;
        sy += d.y[i];
        stt += (double)i * (double)i;
        sty += (double)i * d.y[i];
    }
    double sxx = stt - st * st / n;
    double beta = (sty - st * sy / n) / sxx, alpha = (sy - beta * st) / n;
    double sse = 0;
    for (size_t i = 0; i < NOBS; i++) {
        double e = d.y[i] - alpha - beta * (double)i;
        sse += e * e;
    }
    double s2 = sse / (n - 2), tq = gsl_cdf_tdist_Pinv(0.975, n - 2);
    double half[2] = {tq * sqrt(s2 * stt / (n * sxx)), tq * sqrt(s2 / sxx)};
    double est[2] = {alpha, beta};

    /* Wide enough that no bound binds the other parameter along a profile. */
    double lo[2] = {-8, -0.4}, hi[2] = {8, 0.6};
    resim_error err = {0};
    resim_fit *w = resim_fit_alloc(NOBS, 2, &err);
    resim_fit_options o;
    resim_fit_options_default(&o);
    assert_int_equal(resim_fit_solve(w, line_resid, &d, lo, hi, &o, &err), RESIM_OK);
    assert_true(fabs(w->sse - sse) < 1e-9 * sse);
    assert_true(fabs(w->fquantile - tq * tq) < 1e-9);
    for (size_t j = 0; j < 2; j++) {
        const resim_fit_param *p = &w->param[j];
        assert_true(fabs(p->estimate - est[j]) < 1e-7);
        assert_true(fabs(p->lower - (est[j] - half[j])) < 1e-4 * half[j]);
        assert_true(fabs(p->upper - (est[j] + half[j])) < 1e-4 * half[j]);
        assert_false(p->lower_at_bound || p->upper_at_bound);
        /* The profile of a linear model is a parabola: S_min + (x - est)^2 / c. */
        double c = j == 0 ? stt / (n * sxx) : 1 / sxx;
        assert_true(fabs(p->rise_lo * sse - (lo[j] - est[j]) * (lo[j] - est[j]) / c) <
                    1e-6 * p->rise_lo * sse);
        assert_true(fabs(p->rise_hi * sse - (hi[j] - est[j]) * (hi[j] - est[j]) / c) <
                    1e-6 * p->rise_hi * sse);
    }
    for (size_t i = 0; i < NOBS; i++)
        assert_true(fabs(w->resid[i] - (alpha + beta * (double)i - d.y[i])) < 1e-7);
    resim_fit_free(w);
}

/* One parameter: the profile is the objective itself; an interval reaching a bound stops there. */
static void test_one_parameter_and_bound(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    data d = {.n = NOBS};
    for (size_t i = 0; i < NOBS; i++)
        d.y[i] = 0.5 * (double)i + gsl_ran_gaussian(r, 0.3);
    gsl_rng_free(r);
    resim_error err = {0};
    resim_fit *w = resim_fit_alloc(NOBS, 1, &err);
    resim_fit_options o;
    resim_fit_options_default(&o);
    double lo = 0.2, hi = 0.9;
    assert_int_equal(resim_fit_solve(w, slope_resid, &d, &lo, &hi, &o, &err), RESIM_OK);
    double stt = 0, sty = 0;
    for (size_t i = 0; i < NOBS; i++) {
        stt += (double)i * (double)i;
        sty += (double)i * d.y[i];
    }
    double beta = sty / stt, sse = 0;
    for (size_t i = 0; i < NOBS; i++)
        sse += (d.y[i] - beta * (double)i) * (d.y[i] - beta * (double)i);
    double half = gsl_cdf_tdist_Pinv(0.975, NOBS - 1) * sqrt(sse / (NOBS - 1) / stt);
    const resim_fit_param *p = &w->param[0];
    assert_true(fabs(p->estimate - beta) < 1e-8);
    assert_true(fabs(p->upper - (beta + half)) < 1e-4 * half);
    /* Now the upper bound sits inside the interval: the interval stops at HI. */
    hi = beta + 0.5 * half;
    assert_int_equal(resim_fit_solve(w, slope_resid, &d, &lo, &hi, &o, &err), RESIM_OK);
    assert_true(p->identified);
    assert_true(p->upper_at_bound);
    assert_true(p->upper == hi);
    assert_false(p->lower_at_bound);
    assert_true(fabs(p->lower - (beta - half)) < 1e-4 * half);
    resim_fit_free(w);
}

/* Of several starts the best is kept, whichever start found it. */
static void test_best_start(void **state)
{
    (void)state;
    resim_error err = {0};
    resim_fit *w = resim_fit_alloc(3, 1, &err);
    resim_fit_options o;
    resim_fit_options_default(&o);
    o.profiles = 0;
    double lo = 0, hi = 5;
    /* Single starts land in both basins, depending on the seed. */
    int basin[2] = {0, 0};
    for (uint64_t seed = 1; seed <= 16; seed++) {
        o.starts = 1;
        o.seed = seed;
        assert_int_equal(resim_fit_solve(w, twin_resid, NULL, &lo, &hi, &o, &err), RESIM_OK);
        basin[w->param[0].estimate > 2.5]++;
    }
    assert_true(basin[0] > 0 && basin[1] > 0);
    /* A single start in the wrong basin: the profile finds the better fit and says so. */
    o.profiles = 1;
    o.starts = 1;
    for (o.seed = 1; o.seed <= 16; o.seed++) {
        assert_int_equal(resim_fit_solve(w, twin_resid, NULL, &lo, &hi, &o, &err), RESIM_OK);
        if (w->param[0].estimate > 2.5)
            break;
    }
    assert_true(w->param[0].estimate > 2.5);
    assert_true(w->profile_min < 1e-12 && w->sse > 2);
    o.profiles = 0;
    for (uint64_t seed = 1; seed <= 16; seed++) {
        o.starts = 8;
        o.seed = seed;
        assert_int_equal(resim_fit_solve(w, twin_resid, NULL, &lo, &hi, &o, &err), RESIM_OK);
        assert_true(fabs(w->param[0].estimate - 1) < 1e-6);
        assert_true(w->sse < 1e-12);
        assert_true(isnan(w->profile_min));
        assert_true(w->grid == 0 && w->profile_s == NULL);
        assert_true(isnan(w->param[0].lower));
    }
    resim_fit_free(w);
}

/* A parameter with no effect is not identified; the others still are. */
static void test_not_identified(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    data d = {.n = NOBS};
    for (size_t i = 0; i < NOBS; i++)
        d.y[i] = 2.385 * exp(-0.173 * (double)i) + gsl_ran_gaussian(r, 0.05);
    gsl_rng_free(r);
    resim_error err = {0};
    resim_fit *w = resim_fit_alloc(NOBS, 3, &err);
    resim_fit_options o;
    resim_fit_options_default(&o);
    double lo[3] = {0.5, 0.01, 0}, hi[3] = {5, 1, 10};
    assert_int_equal(resim_fit_solve(w, inert_resid, &d, lo, hi, &o, &err), RESIM_OK);
    assert_true(w->param[0].identified);
    assert_true(w->param[1].identified);
    assert_false(w->param[2].identified);
    assert_true(isnan(w->param[2].lower) && isnan(w->param[2].upper));
    assert_true(fabs(w->param[2].rise_lo) < 1e-9 && fabs(w->param[2].rise_hi) < 1e-9);
    for (size_t k = 0; k < w->grid; k++)
        assert_true(w->profile_s[2 * w->grid + k] <= w->threshold);
    /* The same holds without noise, where the threshold is the floor alone. */
    for (size_t i = 0; i < NOBS; i++)
        d.y[i] = 2.385 * exp(-0.173 * (double)i);
    assert_int_equal(resim_fit_solve(w, inert_resid, &d, lo, hi, &o, &err), RESIM_OK);
    assert_true(w->param[0].identified && w->param[1].identified);
    assert_false(w->param[2].identified);
    resim_fit_free(w);
}

/* The same seed gives the same bytes; another seed other starts but the same optimum. */
static void test_deterministic(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 99);
    data d;
    make_decay(&d, truth, 0.05, r);
    gsl_rng_free(r);
    resim_error err = {0};
    resim_fit *a = resim_fit_alloc(NOBS, 3, &err), *b = resim_fit_alloc(NOBS, 3, &err);
    resim_fit_options o;
    resim_fit_options_default(&o);
    o.seed = 12345;
    assert_int_equal(resim_fit_solve(a, decay_resid, &d, lo3, hi3, &o, &err), RESIM_OK);
    assert_int_equal(resim_fit_solve(b, decay_resid, &d, lo3, hi3, &o, &err), RESIM_OK);
    assert_memory_equal(a->param, b->param, 3 * sizeof *a->param);
    assert_memory_equal(a->resid, b->resid, NOBS * sizeof *a->resid);
    assert_memory_equal(a->profile_s, b->profile_s, 3 * a->grid * sizeof *a->profile_s);
    assert_int_equal(a->runs, b->runs);
    o.seed = 54321;
    assert_int_equal(resim_fit_solve(b, decay_resid, &d, lo3, hi3, &o, &err), RESIM_OK);
    assert_true(a->runs != b->runs);
    for (size_t j = 0; j < 3; j++)
        assert_true(fabs(a->param[j].estimate - b->param[j].estimate) < 1e-6);
    resim_fit_free(a);
    resim_fit_free(b);
}

/* Bad sizes, bounds and options are refused; a failing function stops the fit with its status. */
static void test_errors(void **state)
{
    (void)state;
    resim_error err = {0};
    assert_null(resim_fit_alloc(3, 3, &err));
    assert_non_null(strstr(err.msg, "more than 3 observations"));
    assert_null(resim_fit_alloc(100, 0, &err));
    assert_null(resim_fit_alloc(100, RESIM_FIT_MAX_PARAMS + 1, &err));
    resim_fit_free(NULL);

    data d;
    make_decay(&d, truth, 0, NULL);
    resim_fit *w = resim_fit_alloc(NOBS, 3, &err);
    resim_fit_options o;
    resim_fit_options_default(&o);
    double lo[3] = {0.5, 0.3, -1}, hi[3] = {5, 0.3, 2};
    assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo, hi, &o, &err), RESIM_EINVAL);
    assert_non_null(strstr(err.msg, "parameter 2"));
    hi[1] = NAN;
    assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo, hi, &o, &err), RESIM_EINVAL);
    o.starts = 0;
    assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo3, hi3, &o, &err), RESIM_EINVAL);
    resim_fit_options_default(&o);
    o.level = 1;
    assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo3, hi3, &o, &err), RESIM_EINVAL);
    resim_fit_options_default(&o);
    o.profile_points = 1;
    assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo3, hi3, &o, &err), RESIM_EINVAL);
    resim_fit_options_default(&o);

    /* A failure in the starts, then one in the profiles. */
    d.fail_at = 17;
    assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo3, hi3, &o, &err), 7);
    assert_non_null(strstr(err.msg, "failed"));
    d.calls = 0;
    d.fail_at = 0;
    assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo3, hi3, &o, &err), RESIM_OK);
    size_t total = w->runs;
    d.calls = 0;
    d.fail_at = (int)total - 3;
    assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo3, hi3, &o, &err), 7);
    d.calls = 0;
    d.fail_at = 0;
    d.nan_at = 5;
    assert_int_equal(resim_fit_solve(w, decay_resid, &d, lo3, hi3, &o, &err), RESIM_EINVAL);
    assert_non_null(strstr(err.msg, "not finite"));
    resim_fit_free(w);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovery_exact),
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_linear_t_interval),
        cmocka_unit_test(test_one_parameter_and_bound),
        cmocka_unit_test(test_best_start),
        cmocka_unit_test(test_not_identified),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

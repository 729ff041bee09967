/*
 * test_ensemble.c - the stochastic mode (docs/model.md section 8): distributions,
 * streams, lots against the kernel, agreement with the deterministic mode,
 * and the per-cell summary.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_statistics_double.h>

#include "resim/ensemble.h"
#include "resim/licensing.h"
#include "resim/model.h"
#include "resim/rng.h"
#include "resim/scenario.h"

#define FIXTURES RESIM_SOURCE_DIR "/tests/fixtures/"

/* A scenario built in memory over the fixture data, with its worker. */
typedef struct ens {
    resim_ini ini, central;
    resim_data data;
    resim_uncertain u;
    resim_scenario sc;
    size_t cells, T;
} ens;

static void put(resim_ini *ini, const char *section, const char *key, const char *value)
{
    resim_error err = {0};
    assert_int_equal(resim_ini_put(ini, section, key, value, ini->path, 1, &err), RESIM_OK);
    assert_int_equal(resim_ini_add_section(ini, section), RESIM_OK);
}

/* Sets policy.<lever>.<status> to value for all three list statuses. */
static void put_all(resim_ini *ini, const char *lever, const char *value)
{
    static const char *const st[] = {"none", "watch", "control"};
    for (int s = 0; s < 3; s++) {
        char key[64];
        snprintf(key, sizeof key, "%s.%s", lever, st[s]);
        put(ini, "policy", key, value);
    }
}

/* Sets the review-delay kernel (mean days, coefficient of variation) of every status. */
static void put_kernel(resim_ini *ini, double mu, double cv)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%g", mu);
    put_all(ini, "delay_mean_days", buf);
    snprintf(buf, sizeof buf, "%g", cv);
    put_all(ini, "delay_cv", buf);
}

/*
 * Chi-square goodness of fit of counts[0 .. T) to total * w[k] / norm for k
 * in [first, end) (0 elsewhere), bins pooled until each expects at least 5.
 * Returns the p-value; *dof and *seen (the counts' sum) for the caller's
 * checks.
 */
static double kernel_fit_p(const double *counts, size_t T, double total, const double *w,
                           size_t first, size_t end, double norm, int *dof, double *seen)
{
    double chi2 = 0, po = 0, pe = 0;
    *dof = -1;
    *seen = 0;
    for (size_t k = 0; k < T; k++) {
        po += counts[k];
        pe += k >= first && k < end ? total * w[k] / norm : 0;
        *seen += counts[k];
        if (pe >= 5) {
            chi2 += (po - pe) * (po - pe) / pe;
            (*dof)++;
            po = pe = 0;
        }
    }
    return *dof > 0 ? gsl_cdf_chisq_Q(chi2, *dof) : 0;
}

/* Base scenario: Dy and Tb over 14 months, Dy controlled. */
static void base(resim_ini *ini)
{
    memset(ini, 0, sizeof *ini);
    snprintf(ini->path, sizeof ini->path, "%s", FIXTURES "in-memory.ini");
    put(ini, "scenario", "name", "ens");
    put(ini, "scenario", "start", "2025-01");
    put(ini, "scenario", "months", "14");
    put(ini, "scenario", "data", "data");
    put(ini, "scenario", "elements", "Dy Tb");
    put(ini, "scenario", "transit_months", "2");
    put(ini, "scenario", "adjust_months", "2.6");
    put(ini, "policy", "controlled", "Dy");
}

static void open_ens(ens *x)
{
    resim_error err = {0};
    char dir[RESIM_PATH_MAX];
    resim_scenario_data_dir(&x->ini, dir, sizeof dir);
    int rc = resim_data_load(&x->data, dir, &err);
    if (rc == RESIM_OK)
        rc = resim_uncertain_scan(&x->ini, &x->data, &x->u, &err);
    if (rc == RESIM_OK)
        rc = resim_ini_copy(&x->central, &x->ini, &err);
    if (rc == RESIM_OK)
        rc = resim_uncertain_central(&x->central, &x->u, &err);
    if (rc == RESIM_OK)
        rc = resim_scenario_resolve(&x->sc, &x->central, &x->data, NULL, NULL, &err);
    if (rc != RESIM_OK)
        fail_msg("%s", err.msg);
    x->T = (size_t)x->sc.months;
    x->cells = x->sc.n_elements * RESIM_NMETRICS;
}

static void close_ens(ens *x)
{
    resim_scenario_free(&x->sc);
    resim_uncertain_free(&x->u);
    resim_data_free(&x->data);
    resim_ini_free(&x->central);
    resim_ini_free(&x->ini);
}

/* Deterministic run of x's central scenario into out[T * cells]. */
static void run_deterministic(ens *x, double *out)
{
    resim_error err = {0};
    resim_model *m = resim_model_alloc(&x->sc, RESIM_BY_NONE, &err);
    assert_non_null(m);
    assert_int_equal(resim_model_init(m, &x->sc, &err), RESIM_OK);
    double *scratch = malloc(x->cells * sizeof *scratch);
    while (resim_model_month(m) < x->sc.months) {
        int t = resim_model_month(m);
        resim_model_step(m, t < 0 ? scratch : out + (size_t)t * x->cells);
    }
    free(scratch);
    resim_model_free(m);
}

static resim_worker *worker(ens *x)
{
    resim_error err = {0};
    resim_worker *w = resim_worker_alloc(&x->data, &x->sc, RESIM_BY_NONE, &err);
    if (w == NULL)
        fail_msg("%s", err.msg);
    return w;
}

static void run_replicate(resim_worker *w, const ens *x, uint64_t seed, uint64_t r, double *out,
                          double *draws)
{
    resim_error err = {0};
    if (resim_worker_run(w, &x->ini, &x->u, seed, r, out, draws, &err) != RESIM_OK)
        fail_msg("%s", err.msg);
}

/* ------------------------------------------------------------ tests */

/* Approval 1, an exact review delay and lots as large as applications:
 * the stochastic run is the deterministic one. */
static void test_stochastic_equals_deterministic(void **state)
{
    (void)state;
    ens x;
    base(&x.ini);
    put_all(&x.ini, "approval", "1");
    put(&x.ini, "policy", "delay_mean_days.none", "47.3");
    put(&x.ini, "policy", "delay_mean_days.watch", "96.5");
    put(&x.ini, "policy", "delay_mean_days.control", "151.2");
    put(&x.ini, "stochastic", "lot_tonnes", "1e9");
    open_ens(&x);
    double *det = calloc(x.T * x.cells, sizeof *det), *sto = calloc(x.T * x.cells, sizeof *sto);
    run_deterministic(&x, det);
    resim_worker *w = worker(&x);
    for (uint64_t r = 0; r < 3; r++) {
        run_replicate(w, &x, 2718, r, sto, NULL);
        for (size_t k = 0; k < x.T * x.cells; k++)
            if (!(isnan(det[k]) && isnan(sto[k])) && det[k] != sto[k])
                fail_msg("cell %zu: stochastic %.17g, deterministic %.17g", k, sto[k], det[k]);
    }
    resim_worker_free(w);
    free(det);
    free(sto);
    close_ens(&x);
}

/* Where no minimum binds (a filled pipeline, no alternative supply, and an
 * approval rate high enough that the permanent inventory gap
 * D (1/p - 1)(tau + mu/M) stays inside every importer's cover), the model is
 * linear in the random draws, so the replicate mean converges to
 * the deterministic run: within 5 standard errors of the mean. */
static void test_mean_converges(void **state)
{
    (void)state;
    ens x;
    base(&x.ini);
    put_all(&x.ini, "approval", "0.9");
    put_all(&x.ini, "delay_mean_days", "71.4");
    put_all(&x.ini, "delay_cv", "0.55");
    put(&x.ini, "alt", "capacity_factor", "0");
    put(&x.ini, "stochastic", "lot_tonnes", "0.37");
    put(&x.ini, "scenario", "months", "8");
    /* A warm-up fills the review pipeline, so inventories never run dry. */
    put(&x.ini, "scenario", "warmup_months", "24");
    open_ens(&x);
    const size_t R = 400;
    double *det = calloc(x.T * x.cells, sizeof *det);
    double *all = calloc(R * x.T * x.cells, sizeof *all);
    run_deterministic(&x, det);
    resim_worker *w = worker(&x);
    for (uint64_t r = 0; r < R; r++)
        run_replicate(w, &x, 31, r, all + r * x.T * x.cells, NULL);
    const int metrics[] = {RESIM_M_CHINA_APPROVED, RESIM_M_CHINA_PENDING, RESIM_M_CHINA_ARRIVALS,
                           RESIM_M_INVENTORY, RESIM_M_REQUIREMENT};
    double *v = malloc(R * sizeof *v);
    size_t varied = 0;
    for (size_t t = 0; t < x.T; t++)
        for (size_t k = 0; k < sizeof metrics / sizeof metrics[0]; k++) {
            size_t cell = t * x.cells + (size_t)metrics[k]; /* element Dy */
            for (size_t r = 0; r < R; r++)
                v[r] = all[r * x.T * x.cells + cell];
            double mean = gsl_stats_mean(v, 1, R), sd = gsl_stats_sd(v, 1, R);
            /* Availability must stay full for the regime to be linear. */
            for (size_t r = 0; r < R; r++)
                assert_true(all[r * x.T * x.cells + t * x.cells + RESIM_M_SHORTFALL] == 0);
            if (sd > 0)
                varied++;
            double se = sd / sqrt((double)R);
            if (fabs(mean - det[cell]) > 5 * se + 1e-9 * fabs(det[cell]))
                fail_msg("month %zu metric %s: mean %.10g, deterministic %.10g, se %.3g", t,
                         resim_metric_names[metrics[k]], mean, det[cell], se);
        }
    assert_true(varied > 10); /* the check is not vacuous */
    free(v);
    resim_worker_free(w);
    free(det);
    free(all);
    close_ens(&x);
}

/* One application of many lots, then no demand: the lots' decision months
 * follow the kernel (chi-square goodness of fit, p > 0.001). */
static void test_lot_months_follow_kernel(void **state)
{
    (void)state;
    ens x;
    base(&x.ini);
    const double mu = 83.7, cv = 0.62, lot = 0.013;
    char buf[32];
    put_all(&x.ini, "approval", "1");
    put_kernel(&x.ini, mu, cv);
    snprintf(buf, sizeof buf, "%g", lot);
    put(&x.ini, "stochastic", "lot_tonnes", buf);
    put(&x.ini, "alt", "capacity_factor", "0");
    put(&x.ini, "2025-02", "base_tpy.Dy", "0");
    put(&x.ini, "scenario", "months", "24");
    open_ens(&x);
    double *out = calloc(x.T * x.cells, sizeof *out);
    resim_worker *w = worker(&x);
    run_replicate(w, &x, 99, 0, out, NULL);
    /* All of Dy's filings happen in month 0. */
    double applied0 = out[RESIM_M_CHINA_APPLIED];
    for (size_t t = 1; t < x.T; t++)
        assert_true(out[t * x.cells + RESIM_M_CHINA_APPLIED] == 0);
    /* Lots per importer: ceil(a_i / lot), each of size a_i / n_i. The
     * month-0 filing of each importer is D_i + D_i mu/(M tau) (section 5). */
    double w_k[64];
    size_t first, end;
    resim_licensing_kernel(mu, cv, x.T, w_k, &first, &end);
    double De = x.data.base_tpy[resim_data_element(&x.data, "Dy")] / 12;
    double total_lots = 0, check = 0;
    double counts[64] = {0};
    for (size_t i = 0; i < x.sc.n_importers; i++) {
        double D = x.sc.share[i] * De;
        double a = D + D * mu / (RESIM_MONTH_DAYS * 2.6);
        check += a;
        if (a > 0)
            total_lots += ceil(a / lot);
    }
    assert_true(fabs(check - applied0) < 1e-9 * applied0);
    /* Decided volume per month over the mean lot size gives lot counts. */
    double size = applied0 / total_lots;
    for (size_t t = 0; t < x.T && t < 64; t++)
        counts[t] = out[t * x.cells + RESIM_M_CHINA_APPROVED] / size;
    int dof;
    double seen, p = kernel_fit_p(counts, x.T, total_lots, w_k, first, end, 1, &dof, &seen);
    assert_true(dof >= 3);
    assert_true(fabs(seen - total_lots) < 1e-6 * total_lots); /* all decided in the horizon */
    if (p < 0.001)
        fail_msg("months against the kernel: %d dof, p = %.3g", dof, p);
    resim_worker_free(w);
    free(out);
    close_ens(&x);
}

/*
 * Few lots per filing (at most one more than the kernel's bins) draw their
 * months one by one against the cumulated kernel; the counts must still be
 * multinomial over the kernel. Six importers each split their month-0
 * filing into one to four lots, over many replicates; the lots of each
 * importer and month are its approved volume over its lot size. Chi-square
 * goodness of fit, p > 0.001, and the spread of one bin's count across
 * replicates against the multinomial variance.
 */
static void test_few_lots_follow_kernel(void **state)
{
    (void)state;
    ens x;
    base(&x.ini);
    const double mu = 83.7, cv = 0.62;
    char buf[32];
    put_all(&x.ini, "approval", "1");
    put_kernel(&x.ini, mu, cv);
    put(&x.ini, "alt", "capacity_factor", "0");
    put(&x.ini, "2025-02", "base_tpy.Dy", "0");
    put(&x.ini, "scenario", "months", "24");
    /* A lot size that splits the largest filing into four lots. */
    put(&x.ini, "stochastic", "lot_tonnes", "1e9");
    open_ens(&x);
    double w_k[64];
    size_t first, end;
    resim_licensing_kernel(mu, cv, x.T, w_k, &first, &end);
    double De = x.data.base_tpy[resim_data_element(&x.data, "Dy")] / 12, amax = 0;
    const size_t N = x.sc.n_importers;
    double a[16];
    assert_true(N <= 16);
    for (size_t i = 0; i < N; i++) {
        double D = x.sc.share[i] * De;
        a[i] = D + D * mu / (RESIM_MONTH_DAYS * 2.6);
        amax = a[i] > amax ? a[i] : amax;
    }
    const double lot = amax / 3.5;
    snprintf(buf, sizeof buf, "%.17g", lot);
    put(&x.ini, "stochastic", "lot_tonnes", buf);
    close_ens(&x);
    base(&x.ini);
    put_all(&x.ini, "approval", "1");
    put_kernel(&x.ini, mu, cv);
    put(&x.ini, "alt", "capacity_factor", "0");
    put(&x.ini, "2025-02", "base_tpy.Dy", "0");
    put(&x.ini, "scenario", "months", "24");
    snprintf(buf, sizeof buf, "%.17g", lot);
    put(&x.ini, "stochastic", "lot_tonnes", buf);
    open_ens(&x);
    double n_i[16], per_rep = 0;
    int several = 0;
    for (size_t i = 0; i < N; i++) {
        n_i[i] = a[i] > 0 ? ceil(a[i] / lot) : 0;
        assert_true(n_i[i] <= (double)(end - first + 1)); /* the one-by-one draw */
        several |= n_i[i] >= 2;
        per_rep += n_i[i];
    }
    assert_true(several);
    resim_error err = {0};
    resim_worker *w = resim_worker_alloc(&x.data, &x.sc, RESIM_BY_IMPORTER, &err);
    assert_non_null(w);
    const size_t G = 1 + N, cells = x.sc.n_elements * G * RESIM_NMETRICS, R = 600;
    double *out = calloc(x.T * cells, sizeof *out);
    double counts[64] = {0}, *bin1 = calloc(R, sizeof *bin1);
    const size_t k1 = first + 1; /* a bin of mass well inside (0, 1) */
    for (uint64_t r = 0; r < R; r++) {
        run_replicate(w, &x, 4242, r, out, NULL);
        for (size_t i = 0; i < N; i++) {
            if (n_i[i] == 0)
                continue;
            /* Dy is element 0; importer i is group 1 + i. */
            double applied = out[(1 + i) * RESIM_NMETRICS + RESIM_M_CHINA_APPLIED];
            assert_true(fabs(applied - a[i]) < 1e-9 * a[i]);
            double size = applied / n_i[i];
            for (size_t t = 0; t < x.T && t < 64; t++) {
                double c = out[t * cells + (1 + i) * RESIM_NMETRICS + RESIM_M_CHINA_APPROVED] / size;
                assert_true(fabs(c - round(c)) < 1e-6);
                counts[t] += round(c);
                if (t == k1)
                    bin1[r] += round(c);
            }
        }
    }
    double total = per_rep * (double)R, seen;
    int dof;
    double p = kernel_fit_p(counts, x.T, total, w_k, first, end, 1, &dof, &seen);
    assert_true(dof >= 3);
    assert_true(fabs(seen - total) < 1e-6 * total);
    if (p < 0.001)
        fail_msg("months against the kernel: %d dof, p = %.3g", dof, p);
    /* One bin's count per replicate: binomial(per_rep, w) variance, within
     * what 600 replicates can tell apart (the sample variance's relative
     * standard error is about sqrt(2 / R), some 6 %; 4 of them allowed). */
    double var = gsl_stats_variance(bin1, 1, R), pk = w_k[k1];
    double want = per_rep * pk * (1 - pk);
    if (fabs(var - want) > 4 * sqrt(2.0 / (double)R) * want)
        fail_msg("bin %zu: variance %.4g, multinomial %.4g", k1, var, want);
    free(bin1);
    free(out);
    resim_worker_free(w);
    close_ens(&x);
}

/*
 * Approvals of few lots (up to eight decided in a month) are one uniform
 * per lot: the approved lots of a replicate must be binomial over its lots.
 * One lot per importer and filing, approval 0.3: over 2000 replicates the
 * mean and the variance of the approved count of month-0 filings against
 * the binomial's.
 */
static void test_few_lots_approved_binomially(void **state)
{
    (void)state;
    ens x;
    base(&x.ini);
    const double p = 0.3;
    put_all(&x.ini, "approval", "0.3");
    put_all(&x.ini, "delay_mean_days", "0"); /* decided in the month filed */
    put(&x.ini, "alt", "capacity_factor", "0");
    put(&x.ini, "2025-02", "base_tpy.Dy", "0");
    put(&x.ini, "scenario", "months", "2");
    put(&x.ini, "stochastic", "lot_tonnes", "1e9"); /* one lot per filing */
    open_ens(&x);
    const size_t N = x.sc.n_importers, R = 2000;
    resim_error err = {0};
    resim_worker *w = resim_worker_alloc(&x.data, &x.sc, RESIM_BY_IMPORTER, &err);
    assert_non_null(w);
    const size_t cells = x.sc.n_elements * (1 + N) * RESIM_NMETRICS;
    double *out = calloc(x.T * cells, sizeof *out), *k = calloc(R, sizeof *k);
    double lots = 0;
    for (uint64_t r = 0; r < R; r++) {
        run_replicate(w, &x, 777, r, out, NULL);
        lots = 0;
        for (size_t i = 0; i < N; i++) {
            const double *row = out + (1 + i) * RESIM_NMETRICS; /* month 0, Dy, importer i */
            if (row[RESIM_M_CHINA_APPLIED] <= 0)
                continue;
            lots++;
            double ap = row[RESIM_M_CHINA_APPROVED];
            assert_true(ap == 0 || ap == row[RESIM_M_CHINA_APPLIED]); /* the whole lot or none */
            k[r] += ap > 0;
        }
    }
    assert_true(lots >= 4);
    double mean = gsl_stats_mean(k, 1, R), var = gsl_stats_variance(k, 1, R);
    double want = lots * p, want_var = lots * p * (1 - p);
    if (fabs(mean - want) > 5 * sqrt(want_var / (double)R))
        fail_msg("approved lots: mean %.4g, binomial %.4g", mean, want);
    if (fabs(var - want_var) > 4 * sqrt(2.0 / (double)R) * want_var)
        fail_msg("approved lots: variance %.4g, binomial %.4g", var, want_var);
    free(k);
    free(out);
    resim_worker_free(w);
    close_ens(&x);
}

/*
 * Each draw of the lot stream serves one purpose: a lot's decision month
 * and whether it is approved are independent, and neither depends on a
 * neighbouring importer's. One lot per importer filed in month 0 over a
 * kernel of a few months, approval 0.4, 600 replicates: chi-square tests
 * of independence (p > 0.001) of month and approval for the same lot and
 * of one importer's approval and the next importer's month, the approval
 * rate against 0.4, and the months against the kernel.
 */
static double independence_p(double tab[][2], size_t rows)
{
    /* Rows with fewer than 10 expected in a column are pooled into the next. */
    double pooled[64][2] = {{0}}, col[2] = {0}, total = 0;
    size_t n = 0;
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < 2; c++) {
            col[c] += tab[r][c];
            total += tab[r][c];
        }
    for (size_t r = 0; r < rows; r++) {
        pooled[n][0] += tab[r][0];
        pooled[n][1] += tab[r][1];
        double row = pooled[n][0] + pooled[n][1];
        if (row * col[0] / total >= 10 && row * col[1] / total >= 10)
            n++;
    }
    if (n < rows && n > 0 && pooled[n][0] + pooled[n][1] > 0) { /* a small remainder joins the last */
        pooled[n - 1][0] += pooled[n][0];
        pooled[n - 1][1] += pooled[n][1];
    }
    assert_true(n >= 3);
    double chi2 = 0;
    for (size_t r = 0; r < n; r++) {
        double row = pooled[r][0] + pooled[r][1];
        for (int c = 0; c < 2; c++) {
            double e = row * col[c] / total;
            chi2 += (pooled[r][c] - e) * (pooled[r][c] - e) / e;
        }
    }
    return gsl_cdf_chisq_Q(chi2, (double)(n - 1));
}

static void test_lot_draws_independent(void **state)
{
    (void)state;
    ens x;
    base(&x.ini);
    const double p = 0.4, mu = 45, cv = 0.6;
    put_all(&x.ini, "approval", "0.4");
    put_kernel(&x.ini, mu, cv);
    put(&x.ini, "alt", "capacity_factor", "0");
    put(&x.ini, "2025-02", "base_tpy.Dy", "0");
    put(&x.ini, "scenario", "months", "12");
    put(&x.ini, "stochastic", "lot_tonnes", "1e9"); /* one lot per filing */
    open_ens(&x);
    const size_t N = x.sc.n_importers, R = 600, T = x.T;
    resim_error err = {0};
    resim_worker *w = resim_worker_alloc(&x.data, &x.sc, RESIM_BY_IMPORTER, &err);
    assert_non_null(w);
    const size_t cells = x.sc.n_elements * (1 + N) * RESIM_NMETRICS;
    double *out = calloc(T * cells, sizeof *out);
    double same[16][2] = {{0}}, next[16][2] = {{0}}, months[16] = {0}, lots = 0, approved = 0;
    int *month = malloc(N * sizeof *month), *yes = malloc(N * sizeof *yes);
    for (uint64_t r = 0; r < R; r++) {
        run_replicate(w, &x, 4242, r, out, NULL);
        for (size_t i = 0; i < N; i++) {
            month[i] = -1;
            for (size_t t = 0; t < T && month[i] < 0; t++) {
                const double *row = out + t * cells + (1 + i) * RESIM_NMETRICS;
                if (row[RESIM_M_CHINA_APPROVED] + row[RESIM_M_CHINA_REJECTED] > 0) {
                    month[i] = (int)t;
                    yes[i] = row[RESIM_M_CHINA_APPROVED] > 0;
                }
            }
            if (month[i] < 0)
                continue; /* no filing, or decided after the horizon */
            lots++;
            approved += yes[i];
            months[month[i]]++;
            same[month[i]][yes[i]]++;
        }
        for (size_t i = 0; i + 1 < N; i++)
            if (month[i] >= 0 && month[i + 1] >= 0)
                next[month[i + 1]][yes[i]]++;
    }
    assert_true(lots >= 4 * (double)R);
    if (fabs(approved / lots - p) > 5 * sqrt(p * (1 - p) / lots))
        fail_msg("approval rate %.4g, want %.4g", approved / lots, p);
    double p_same = independence_p(same, T), p_next = independence_p(next, T);
    if (p_same < 0.001)
        fail_msg("a lot's month and approval dependent: p = %.3g", p_same);
    if (p_next < 0.001)
        fail_msg("one importer's approval and the next one's month dependent: p = %.3g", p_next);
    /* Months against the kernel (pooled to at least 5 expected). */
    double w_k[64];
    size_t first, end;
    resim_licensing_kernel(mu, cv, T, w_k, &first, &end);
    double norm = 0, seen;
    for (size_t k = first; k < end && k < T; k++)
        norm += w_k[k];
    int dof;
    const double p_months = kernel_fit_p(months, T, lots, w_k, first, end, norm, &dof, &seen);
    assert_true(dof >= 2);
    if (p_months < 0.001)
        fail_msg("months against the kernel: %d dof, p = %.3g", dof, p_months);
    free(month);
    free(yes);
    free(out);
    resim_worker_free(w);
    close_ens(&x);
}

/* A replicate depends on (seed, replicate) only: the same on another worker,
 * in another order; another seed gives other numbers. */
static void test_streams(void **state)
{
    (void)state;
    ens x;
    base(&x.ini);
    put(&x.ini, "policy", "approval.none", "beta(0.58, 12)");
    put(&x.ini, "policy", "delay_mean_days.none", "gamma(64.2, 0.3)");
    put(&x.ini, "policy", "delay_cv.none", "0.45");
    put(&x.ini, "stochastic", "lot_tonnes", "0.21");
    put(&x.ini, "list_process", "add.watch.rate", "6.5");
    put(&x.ini, "list_process", "add.watch.batch", "1");
    open_ens(&x);
    assert_int_equal(x.u.n, 2);
    size_t n = x.T * x.cells;
    double *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b), *c = calloc(n, sizeof *c);
    double da[2], db[2], dc[2];
    resim_worker *w1 = worker(&x), *w2 = worker(&x);
    run_replicate(w1, &x, 7, 5, a, da);
    run_replicate(w2, &x, 7, 3, c, dc); /* another replicate first on w2 */
    run_replicate(w2, &x, 7, 5, b, db);
    assert_memory_equal(a, b, n * sizeof *a);
    assert_memory_equal(da, db, sizeof da);
    assert_memory_not_equal(a, c, n * sizeof *a);
    run_replicate(w1, &x, 8, 5, c, dc);
    assert_memory_not_equal(a, c, n * sizeof *a);
    assert_true(dc[0] != da[0]);
    /* Draws lie in the keys' ranges. */
    assert_true(da[0] >= 0 && da[0] <= 1 && da[1] > 0);
    resim_worker_free(w1);
    resim_worker_free(w2);
    free(a);
    free(b);
    free(c);
    close_ens(&x);
}

/* Seeds differing by 2^32 are different streams (no 32-bit truncation). */
static void test_seed_not_truncated(void **state)
{
    (void)state;
    gsl_rng *r = resim_rng_alloc();
    resim_rng_reset(r, 12345, 0, RESIM_STREAM_LOTS);
    unsigned long a = gsl_rng_get(r);
    resim_rng_reset(r, 12345 + (1ULL << 32), 0, RESIM_STREAM_LOTS);
    unsigned long b = gsl_rng_get(r);
    resim_rng_reset(r, 12345, 1ULL << 32, RESIM_STREAM_LOTS);
    unsigned long c = gsl_rng_get(r);
    resim_rng_reset(r, 12345, 0, RESIM_STREAM_LISTS);
    unsigned long d = gsl_rng_get(r);
    assert_true(a != b && a != c && a != d);
    resim_rng_reset(r, 12345, 0, RESIM_STREAM_LOTS);
    assert_true(gsl_rng_get(r) == a);
    gsl_rng_free(r);
}

/* resim_rng_peek and resim_rng_advance give and skip exactly the uniforms
 * gsl_rng_uniform would, from every position within a block, across many
 * blocks, and interleaved with draws through GSL. */
static void test_bulk_uniforms(void **state)
{
    (void)state;
    gsl_rng *r = resim_rng_alloc(), *ref = resim_rng_alloc();
    double u[1000];
    for (size_t skip = 0; skip < 9; skip++)
        for (size_t n = 0; n < 300; n += 1 + n / 3) {
            resim_rng_reset(r, 99, skip, RESIM_STREAM_LOTS);
            resim_rng_reset(ref, 99, skip, RESIM_STREAM_LOTS);
            assert_true(resim_rng_position(r) == 0);
            for (size_t k = 0; k < skip; k++)
                (void)gsl_rng_uniform(r);
            resim_rng_advance(ref, skip);
            assert_true(resim_rng_position(r) == skip && resim_rng_position(ref) == skip);
            assert_int_equal(resim_rng_peek(ref, u, n), n);
            for (size_t k = 0; k < n; k++)
                assert_true(u[k] == gsl_rng_uniform(r));
            resim_rng_advance(ref, n);
            assert_true(resim_rng_position(ref) == skip + n && resim_rng_position(r) == skip + n);
            /* Both now stand at the same place: the next draws agree. */
            assert_true(gsl_rng_uniform(ref) == gsl_rng_uniform(r));
            assert_true(gsl_rng_get(ref) == gsl_rng_get(r));
        }
    /* A long peek (many blocks) and an advance past it. */
    resim_rng_reset(r, 7, 3, RESIM_STREAM_LOTS);
    resim_rng_reset(ref, 7, 3, RESIM_STREAM_LOTS);
    resim_rng_peek(ref, u, 1000);
    for (size_t k = 0; k < 1000; k++)
        assert_true(u[k] == gsl_rng_uniform(r));
    resim_rng_advance(ref, 1000);
    assert_true(gsl_rng_uniform(ref) == gsl_rng_uniform(r));
    gsl_rng_free(r);
    gsl_rng_free(ref);
}

static void test_distributions(void **state)
{
    (void)state;
    resim_dist d;
    char why[256];
    assert_true(resim_dist_is("beta(0.4, 20)"));
    assert_true(resim_dist_is(" normal (1, 2)"));
    assert_false(resim_dist_is("0.4"));
    assert_false(resim_dist_is("Sm Gd"));
    assert_int_equal(resim_dist_parse("beta(0.4, 20)", 0, 1, &d, why, sizeof why), 0);
    assert_true(resim_dist_central(&d) == 0.4);
    assert_int_equal(resim_dist_parse("triangular(1, 2.5, 4)", 0, 10, &d, why, sizeof why), 0);
    assert_true(resim_dist_central(&d) == 2.5);
    assert_int_equal(resim_dist_parse("uniform(2, 4)", 0, 10, &d, why, sizeof why), 0);
    assert_true(resim_dist_central(&d) == 3);
    /* Errors: unknown name, parameter count, bad parameters, no mass in range. */
    assert_int_equal(resim_dist_parse("weibull(1, 2)", 0, 1, &d, why, sizeof why), -1);
    assert_non_null(strstr(why, "unknown distribution"));
    assert_int_equal(resim_dist_parse("beta(0.4)", 0, 1, &d, why, sizeof why), -1);
    assert_int_equal(resim_dist_parse("beta(1.4, 3)", 0, 1, &d, why, sizeof why), -1);
    assert_int_equal(resim_dist_parse("gamma(10, -1)", 0, HUGE_VAL, &d, why, sizeof why), -1);
    assert_int_equal(resim_dist_parse("uniform(1.2, 1.5)", 0, 1, &d, why, sizeof why), -1);
    assert_non_null(strstr(why, "no mass"));
    assert_int_equal(resim_dist_parse("normal(1, x)", 0, 1, &d, why, sizeof why), -1);
    assert_int_equal(resim_dist_parse("normal(1, 2) extra", 0, 1, &d, why, sizeof why), -1);
    /* Truncation: a normal around the top of [0, 1] never leaves it; its
     * sample mean matches the truncated normal's. */
    assert_int_equal(resim_dist_parse("normal(0.93, 0.11)", 0, 1, &d, why, sizeof why), 0);
    gsl_rng *r = resim_rng_alloc();
    resim_rng_reset(r, 5, 0, RESIM_STREAM_LEVERS);
    const int n = 20000;
    double sum = 0;
    for (int k = 0; k < n; k++) {
        double v;
        assert_int_equal(resim_dist_draw(&d, r, &v), 0);
        assert_true(v >= 0 && v <= 1);
        sum += v;
    }
    /* E[X | a < X < b] = mu + s (phi(alpha) - phi(beta)) / (Phi(beta) - Phi(alpha)). */
    double alpha = (0 - 0.93) / 0.11, beta_ = (1 - 0.93) / 0.11;
    double phi_a = gsl_ran_ugaussian_pdf(alpha), phi_b = gsl_ran_ugaussian_pdf(beta_);
    double Z = gsl_cdf_ugaussian_P(beta_) - gsl_cdf_ugaussian_P(alpha);
    double expect = 0.93 + 0.11 * (phi_a - phi_b) / Z;
    assert_true(fabs(sum / n - expect) < 0.003);
    /* A range with almost no mass fails instead of looping. */
    assert_int_equal(resim_dist_parse("normal(50, 1)", 0, 1, &d, why, sizeof why), 0);
    double v;
    assert_int_equal(resim_dist_draw(&d, r, &v), -1);
    gsl_rng_free(r);
}

/* Keys that cannot be uncertain are rejected with file, line and key. */
static void test_uncertain_scan_errors(void **state)
{
    (void)state;
    ens x;
    base(&x.ini);
    put(&x.ini, "policy", "military_ban", "uniform(0, 1)");
    resim_error err = {0};
    char dir[RESIM_PATH_MAX];
    resim_scenario_data_dir(&x.ini, dir, sizeof dir);
    assert_int_equal(resim_data_load(&x.data, dir, &err), RESIM_OK);
    assert_int_not_equal(resim_uncertain_scan(&x.ini, &x.data, &x.u, &err), RESIM_OK);
    assert_non_null(strstr(err.msg, "military_ban"));
    assert_non_null(strstr(err.msg, "in-memory.ini:1"));
    put(&x.ini, "policy", "military_ban", "0");
    put(&x.ini, "policy", "approval.watch", "beta(2, 3)");
    assert_int_not_equal(resim_uncertain_scan(&x.ini, &x.data, &x.u, &err), RESIM_OK);
    assert_non_null(strstr(err.msg, "approval.watch"));
    put(&x.ini, "policy", "approval.watch", "beta(0.2, 3)");
    put(&x.ini, "2025-06", "list.add.control", "uniform(1, 3)");
    assert_int_equal(resim_uncertain_scan(&x.ini, &x.data, &x.u, &err), RESIM_OK);
    assert_int_equal(x.u.n, 2);
    resim_uncertain_free(&x.u);
    resim_data_free(&x.data);
    resim_ini_free(&x.ini);
}

/* The random list process picks importers with probability proportional
 * to exposure (chi-square over single-pick months, p > 0.001). */
static void test_list_process_by_exposure(void **state)
{
    (void)state;
    ens x;
    base(&x.ini);
    put(&x.ini, "scenario", "months", "1");
    put(&x.ini, "list_process", "add.control.rate", "9.7");
    put(&x.ini, "list_process", "add.control.batch", "1");
    open_ens(&x);
    resim_error err = {0};
    resim_model *m = resim_model_alloc(&x.sc, RESIM_BY_NONE, &err);
    gsl_rng *lists = resim_rng_alloc();
    resim_model_set_random(m, NULL, lists);
    double *out = malloc(x.cells * sizeof *out);
    const size_t N = x.sc.n_importers;
    double picks[16] = {0}, singles = 0, moved_any = 0;
    for (uint64_t r = 0; r < 4000; r++) {
        resim_rng_reset(lists, 17, r, RESIM_STREAM_LISTS);
        assert_int_equal(resim_model_init(m, &x.sc, &err), RESIM_OK);
        resim_model_step(m, out);
        const unsigned char *st = resim_model_status(m);
        size_t moved = 0, who = 0;
        for (size_t i = 0; i < N; i++)
            if (st[i] != x.data.status0[i]) {
                assert_int_equal(st[i], RESIM_CONTROL);
                moved++;
                who = i;
            }
        moved_any += moved > 0;
        if (moved == 1) {
            picks[who]++;
            singles++;
        }
    }
    /* Poisson(9.7/12): P(at least one batch) = 1 - exp(-0.808) = 0.554. */
    assert_true(fabs(moved_any / 4000 - (1 - exp(-9.7 / 12))) < 0.03);
    double total = 0, chi2 = 0;
    int dof = -1;
    for (size_t i = 0; i < N; i++)
        if (x.data.status0[i] != RESIM_CONTROL)
            total += x.data.exposure[i];
    for (size_t i = 0; i < N; i++) {
        if (x.data.status0[i] == RESIM_CONTROL) {
            assert_true(picks[i] == 0);
            continue;
        }
        double e = singles * x.data.exposure[i] / total;
        chi2 += (picks[i] - e) * (picks[i] - e) / e;
        dof++;
    }
    double p = gsl_cdf_chisq_Q(chi2, dof);
    if (p < 0.001)
        fail_msg("chi-square %.3g on %d dof, p = %.3g", chi2, dof, p);
    free(out);
    gsl_rng_free(lists);
    resim_model_free(m);
    close_ens(&x);
}

static void test_cell_summary(void **state)
{
    (void)state;
    double x[] = {0.93, NAN, 0.41, 0.87, 1.0, 0.66};
    double q[] = {0.0, 0.5, 1.0}, quant[3], mean, below;
    resim_ensemble_cell(x, 6, q, 3, 0.9, &mean, quant, &below);
    assert_true(fabs(mean - (0.93 + 0.41 + 0.87 + 1.0 + 0.66) / 5) < 1e-15);
    assert_true(quant[0] == 0.41 && quant[1] == 0.87 && quant[2] == 1.0);
    assert_true(fabs(below - 3.0 / 5) < 1e-15);
    double y[] = {NAN, NAN};
    resim_ensemble_cell(y, 2, q, 3, 0.9, &mean, quant, &below);
    assert_true(isnan(mean) && isnan(quant[1]) && isnan(below));
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stochastic_equals_deterministic),
        cmocka_unit_test(test_mean_converges),
        cmocka_unit_test(test_lot_months_follow_kernel),
        cmocka_unit_test(test_few_lots_follow_kernel),
        cmocka_unit_test(test_few_lots_approved_binomially),
        cmocka_unit_test(test_lot_draws_independent),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_seed_not_truncated),
        cmocka_unit_test(test_bulk_uniforms),
        cmocka_unit_test(test_distributions),
        cmocka_unit_test(test_uncertain_scan_errors),
        cmocka_unit_test(test_list_process_by_exposure),
        cmocka_unit_test(test_cell_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* sensitivity.c - Sobol indices (Saltelli 2010, Jansen 1999) and Morris effects with bootstrap intervals. */
#include "resim/sensitivity.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Percentile interval of the finite values among v[0 .. b-1] (sorted in
 * place); NaN when fewer than half are finite. */
static void percentile(double *v, size_t b, double confidence, double *lo, double *hi)
{
    size_t f = 0;
    for (size_t i = 0; i < b; i++)
        if (isfinite(v[i]))
            v[f++] = v[i];
    if (f == 0 || 2 * f < b) {
        *lo = *hi = NAN;
        return;
    }
    gsl_sort(v, 1, f);
    double tail = (1 - confidence) / 2;
    *lo = gsl_stats_quantile_from_sorted_data(v, 1, f, tail);
    *hi = gsl_stats_quantile_from_sorted_data(v, 1, f, 1 - tail);
}

void resim_sobol_result_free(resim_sobol_result *res)
{
    if (res == NULL)
        return;
    free(res->variance);
    free(res->s1);
    free(res->s1_lo);
    free(res->s1_hi);
    free(res->st);
    free(res->st_lo);
    free(res->st_hi);
    free(res->s2);
    free(res->s2_lo);
    free(res->s2_hi);
    free(res);
}

static double *nan_array(size_t n)
{
    double *a = malloc((n ? n : 1) * sizeof *a);
    if (a != NULL)
        for (size_t i = 0; i < n; i++)
            a[i] = NAN;
    return a;
}

/* Work space of one estimate: [m] x 4 sums, [k][m] x 2, [k][k][m]. */
static size_t sobol_work_size(const resim_sobol_input *in)
{
    return in->m * (4 + 2 * in->k + (in->second_order ? in->k * in->k : 0));
}

/*
 * One estimate of every index, from the base samples idx[0 .. n-1] (NULL:
 * 0 .. n-1). Writes var[m], s1[m][k], st[m][k] and, with second order,
 * s2[m][k][k] (i < j only).
 */
static void sobol_once(const resim_sobol_input *in, const size_t *idx, double *ws, double *var,
                       double *s1, double *st, double *s2)
{
    size_t n = in->n, k = in->k, m = in->m, so = (size_t)(in->second_order != 0);
    size_t G = so ? 2 * k + 2 : k + 2;
    const double *y = in->y;
    memset(ws, 0, sobol_work_size(in) * sizeof *ws);
    double *c = ws, *sa = c + m, *saa = sa + m, *sab = saa + m;
    double *v1 = sab + m, *vt = v1 + k * m, *v2 = vt + k * m;
    /* Centre on the mean of every value used (OpenTURNS does the same). */
    for (size_t g = 0; g < G; g++)
        for (size_t j = 0; j < n; j++) {
            const double *row = y + (g * n + (idx ? idx[j] : j)) * m;
            for (size_t q = 0; q < m; q++)
                c[q] += row[q];
        }
    for (size_t q = 0; q < m; q++)
        c[q] /= (double)(G * n);
    for (size_t j = 0; j < n; j++) {
        size_t jj = idx ? idx[j] : j;
        const double *a = y + jj * m, *b = y + (n + jj) * m;
        for (size_t q = 0; q < m; q++) {
            double da = a[q] - c[q], db = b[q] - c[q];
            sa[q] += da;
            saa[q] += da * da;
            sab[q] += da * db;
        }
        for (size_t i = 0; i < k; i++) {
            const double *e = y + ((2 + i) * n + jj) * m;
            double *v1i = v1 + i * m, *vti = vt + i * m;
            for (size_t q = 0; q < m; q++) {
                double d = e[q] - a[q];
                v1i[q] += (b[q] - c[q]) * d;
                vti[q] += d * d;
            }
        }
        if (so)
            for (size_t i = 0; i < k; i++) {
                const double *ba = y + ((2 + k + i) * n + jj) * m;
                for (size_t l = i + 1; l < k; l++) {
                    const double *ab = y + ((2 + l) * n + jj) * m;
                    double *v2il = v2 + (i * k + l) * m;
                    for (size_t q = 0; q < m; q++)
                        v2il[q] += (ab[q] - c[q]) * (ba[q] - c[q]);
                }
            }
    }
    double dn = (double)n;
    for (size_t q = 0; q < m; q++) {
        double v = (saa[q] - sa[q] * sa[q] / dn) / (dn - 1);
        var[q] = v;
        int ok = v > 0 && isfinite(v);
        for (size_t i = 0; i < k; i++) {
            s1[q * k + i] = ok ? v1[i * m + q] / (dn - 1) / v : NAN;
            st[q * k + i] = ok ? vt[i * m + q] / (2 * dn - 1) / v : NAN;
        }
        if (so)
            for (size_t i = 0; i < k; i++)
                for (size_t l = 0; l < k; l++) {
                    double *out = &s2[(q * k + i) * k + l];
                    if (l <= i || !ok) {
                        *out = NAN;
                        continue;
                    }
                    double vc = v2[(i * k + l) * m + q] / (dn - 1) - sab[q] / dn;
                    *out = vc / v - s1[q * k + i] - s1[q * k + l];
                }
    }
}

resim_sobol_result *resim_sobol_estimate(const resim_sobol_input *in, gsl_rng *r,
                                         size_t bootstrap, double confidence, resim_error *err)
{
    if (in->n < 2 || in->k == 0 || in->m == 0 || in->y == NULL) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0,
                        "Sobol indices need at least 2 base samples, 1 key and 1 measure");
        return NULL;
    }
    if (bootstrap > 0 && (r == NULL || !(confidence > 0 && confidence < 1))) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0,
                        "a bootstrap needs a generator and a confidence in (0, 1)");
        return NULL;
    }
    size_t n = in->n, k = in->k, m = in->m, mk = m * k, mkk = in->second_order ? mk * k : 0;
    if (bootstrap > SIZE_MAX / sizeof(double) / (mk + mkk + 1)) {
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "too many bootstrap resamples");
        return NULL;
    }
    resim_sobol_result *res = calloc(1, sizeof *res);
    double *ws = malloc(sobol_work_size(in) * sizeof *ws);
    double *bvar = malloc(m * sizeof *bvar);
    double *b1 = malloc(mk * sizeof *b1), *bt = malloc(mk * sizeof *bt);
    double *b2 = mkk ? malloc(mkk * sizeof *b2) : NULL;
    /* Resampled indices, stored index-major so each interval sorts one run. */
    double *all1 = malloc((bootstrap * mk + 1) * sizeof *all1);
    double *allt = malloc((bootstrap * mk + 1) * sizeof *allt);
    double *all2 = mkk ? malloc((bootstrap * mkk + 1) * sizeof *all2) : NULL;
    size_t *idx = malloc(n * sizeof *idx);
    int ok = res != NULL && ws != NULL && bvar != NULL && b1 != NULL && bt != NULL &&
             all1 != NULL && allt != NULL && idx != NULL && (mkk == 0 || (b2 && all2));
    if (ok) {
        res->n = n;
        res->k = k;
        res->m = m;
        res->second_order = in->second_order != 0;
        res->bootstrap = bootstrap;
        res->confidence = confidence;
        res->variance = nan_array(m);
        res->s1 = nan_array(mk);
        res->s1_lo = nan_array(mk);
        res->s1_hi = nan_array(mk);
        res->st = nan_array(mk);
        res->st_lo = nan_array(mk);
        res->st_hi = nan_array(mk);
        ok = res->variance && res->s1 && res->s1_lo && res->s1_hi && res->st && res->st_lo &&
             res->st_hi;
        if (ok && mkk) {
            res->s2 = nan_array(mkk);
            res->s2_lo = nan_array(mkk);
            res->s2_hi = nan_array(mkk);
            ok = res->s2 && res->s2_lo && res->s2_hi;
        }
    }
    if (!ok) {
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory for Sobol indices");
    } else {
        sobol_once(in, NULL, ws, res->variance, res->s1, res->st, res->s2);
        for (size_t b = 0; b < bootstrap; b++) {
            for (size_t j = 0; j < n; j++)
                idx[j] = (size_t)gsl_rng_uniform_int(r, n);
            sobol_once(in, idx, ws, bvar, b1, bt, b2);
            for (size_t x = 0; x < mk; x++) {
                all1[x * bootstrap + b] = b1[x];
                allt[x * bootstrap + b] = bt[x];
            }
            for (size_t x = 0; x < mkk; x++)
                all2[x * bootstrap + b] = b2[x];
        }
        if (bootstrap > 0) {
            for (size_t x = 0; x < mk; x++) {
                if (!isfinite(res->s1[x]))
                    continue;
                percentile(all1 + x * bootstrap, bootstrap, confidence, &res->s1_lo[x],
                           &res->s1_hi[x]);
                percentile(allt + x * bootstrap, bootstrap, confidence, &res->st_lo[x],
                           &res->st_hi[x]);
            }
            for (size_t x = 0; x < mkk; x++)
                if (isfinite(res->s2[x]))
                    percentile(all2 + x * bootstrap, bootstrap, confidence, &res->s2_lo[x],
                               &res->s2_hi[x]);
        }
    }
    free(ws);
    free(bvar);
    free(b1);
    free(bt);
    free(b2);
    free(all1);
    free(allt);
    free(all2);
    free(idx);
    if (!ok) {
        resim_sobol_result_free(res);
        return NULL;
    }
    return res;
}

void resim_morris_result_free(resim_morris_result *res)
{
    if (res == NULL)
        return;
    free(res->mu);
    free(res->mu_star);
    free(res->sigma);
    free(res->mu_star_lo);
    free(res->mu_star_hi);
    free(res);
}

/* Elementary effects ee[t][i][q] of every trajectory; RESIM_OK or an error. */
static int morris_effects(const resim_morris_input *in, double *ee, unsigned char *seen,
                          resim_error *err)
{
    size_t k = in->k, m = in->m;
    for (size_t t = 0; t < in->r; t++) {
        const double *x = in->x + t * (k + 1) * k, *y = in->y + t * (k + 1) * m;
        memset(seen, 0, k);
        for (size_t s = 1; s <= k; s++) {
            const double *x0 = x + (s - 1) * k, *x1 = x + s * k;
            size_t moved = SIZE_MAX, changes = 0;
            for (size_t i = 0; i < k; i++)
                if (x1[i] != x0[i]) {
                    moved = i;
                    changes++;
                }
            if (changes != 1)
                return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                                       "trajectory %zu, step %zu: %zu keys change (a Morris step "
                                       "changes exactly one)",
                                       t, s, changes);
            double *e = ee + (t * k + moved) * m;
            if (seen[moved]++)
                return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                                       "trajectory %zu, step %zu: key %zu moves a second time",
                                       t, s, moved + 1);
            double step = x1[moved] > x0[moved] ? in->delta : -in->delta;
            for (size_t q = 0; q < m; q++)
                e[q] = (y[s * m + q] - y[(s - 1) * m + q]) / step;
        }
    }
    return RESIM_OK;
}

resim_morris_result *resim_morris_estimate(const resim_morris_input *in, gsl_rng *r,
                                           size_t bootstrap, double confidence, resim_error *err)
{
    if (in->r == 0 || in->k == 0 || in->m == 0 || in->x == NULL || in->y == NULL ||
        !(in->delta > 0)) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0,
                        "Morris effects need a trajectory, a key, a measure and a step > 0");
        return NULL;
    }
    if (bootstrap > 0 && (r == NULL || !(confidence > 0 && confidence < 1))) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0,
                        "a bootstrap needs a generator and a confidence in (0, 1)");
        return NULL;
    }
    size_t R = in->r, k = in->k, m = in->m, mk = m * k;
    resim_morris_result *res = calloc(1, sizeof *res);
    double *ee = malloc(R * mk * sizeof *ee);
    double *boot = malloc((bootstrap * mk + 1) * sizeof *boot);
    size_t *idx = malloc(R * sizeof *idx);
    unsigned char *seen = malloc(k);
    int ok = res && ee && boot && idx && seen;
    if (ok) {
        res->r = R;
        res->k = k;
        res->m = m;
        res->bootstrap = bootstrap;
        res->confidence = confidence;
        res->mu = nan_array(mk);
        res->mu_star = nan_array(mk);
        res->sigma = nan_array(mk);
        res->mu_star_lo = nan_array(mk);
        res->mu_star_hi = nan_array(mk);
        ok = res->mu && res->mu_star && res->sigma && res->mu_star_lo && res->mu_star_hi;
    }
    int rc = ok ? morris_effects(in, ee, seen, err)
                : resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory for Morris effects");
    if (rc == RESIM_OK) {
        for (size_t i = 0; i < k; i++)
            for (size_t q = 0; q < m; q++) {
                double s = 0, sa = 0, ss = 0;
                for (size_t t = 0; t < R; t++) {
                    double e = ee[(t * k + i) * m + q];
                    s += e;
                    sa += fabs(e);
                }
                double mu = s / (double)R;
                for (size_t t = 0; t < R; t++) {
                    double d = ee[(t * k + i) * m + q] - mu;
                    ss += d * d;
                }
                res->mu[q * k + i] = mu;
                res->mu_star[q * k + i] = sa / (double)R;
                res->sigma[q * k + i] = R > 1 ? sqrt(ss / (double)(R - 1)) : NAN;
            }
        for (size_t b = 0; b < bootstrap; b++) {
            for (size_t t = 0; t < R; t++)
                idx[t] = (size_t)gsl_rng_uniform_int(r, R);
            for (size_t i = 0; i < k; i++)
                for (size_t q = 0; q < m; q++) {
                    double sa = 0;
                    for (size_t t = 0; t < R; t++)
                        sa += fabs(ee[(idx[t] * k + i) * m + q]);
                    boot[(q * k + i) * bootstrap + b] = sa / (double)R;
                }
        }
        if (bootstrap > 0)
            for (size_t x = 0; x < mk; x++)
                if (isfinite(res->mu_star[x]))
                    percentile(boot + x * bootstrap, bootstrap, confidence, &res->mu_star_lo[x],
                               &res->mu_star_hi[x]);
    }
    free(ee);
    free(boot);
    free(idx);
    free(seen);
    if (rc != RESIM_OK) {
        resim_morris_result_free(res);
        return NULL;
    }
    return res;
}

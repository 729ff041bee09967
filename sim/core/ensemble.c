/* ensemble.c - replicates of a scenario and their per-cell summary. */
#include "resim/ensemble.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resim/rng.h"

int resim_uncertain_scan(const resim_ini *ini, const resim_data *d, resim_uncertain *u,
                         resim_error *err)
{
    memset(u, 0, sizeof *u);
    for (size_t i = 0; i < ini->n; i++) {
        const resim_ini_entry *e = &ini->v[i];
        if (!resim_dist_is(e->value))
            continue;
        /* Text keys (source, name, data) are never read as distributions:
         * "Nikkei (B)" is a source, not a distribution named Nikkei. */
        resim_lever_ref ref;
        if (resim_lever_find(d, e->section, e->key, &ref) == RESIM_LEVER_FOUND &&
            resim_lever_get(ref.id)->kind == RESIM_KIND_TEXT)
            continue;
        double lo, hi;
        if (resim_key_range(d, e->section, e->key, &lo, &hi) != 0) {
            resim_uncertain_free(u);
            return resim_error_set(err, RESIM_EINVAL, e->file, e->line,
                                   "[%s] %s: this key cannot take a distribution", e->section,
                                   e->key);
        }
        size_t *entry = realloc(u->entry, (u->n + 1) * sizeof *entry);
        if (entry != NULL)
            u->entry = entry;
        resim_dist *dist = realloc(u->dist, (u->n + 1) * sizeof *dist);
        if (dist != NULL)
            u->dist = dist;
        if (entry == NULL || dist == NULL) {
            resim_uncertain_free(u);
            return resim_error_set(err, RESIM_ENOMEM, e->file, e->line, "out of memory");
        }
        char why[256];
        if (resim_dist_parse(e->value, lo, hi, &u->dist[u->n], why, sizeof why) != 0) {
            resim_uncertain_free(u);
            return resim_error_set(err, RESIM_EINVAL, e->file, e->line, "[%s] %s: %s", e->section,
                                   e->key, why);
        }
        u->entry[u->n++] = i;
    }
    return RESIM_OK;
}

void resim_uncertain_free(resim_uncertain *u)
{
    if (u == NULL)
        return;
    free(u->entry);
    free(u->dist);
    u->entry = NULL;
    u->dist = NULL;
    u->n = 0;
}

/* Puts a number into an entry, written so that it reads back exactly. */
static int put_value(resim_ini *ini, size_t entry, double v, resim_error *err)
{
    resim_ini_entry *e = &ini->v[entry];
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    return resim_ini_put(ini, e->section, e->key, buf, e->file, e->line, err);
}

int resim_uncertain_central(resim_ini *ini, const resim_uncertain *u, resim_error *err)
{
    for (size_t k = 0; k < u->n; k++) {
        int rc = put_value(ini, u->entry[k], resim_dist_central(&u->dist[k]), err);
        if (rc != RESIM_OK)
            return rc;
    }
    return RESIM_OK;
}

struct resim_worker {
    const resim_data *data;
    resim_model *model;
    gsl_rng *levers, *lots, *lists;
    double *month;   /* one step's output */
    size_t cells;
};

void resim_worker_free(resim_worker *w)
{
    if (w == NULL)
        return;
    resim_model_free(w->model);
    if (w->levers != NULL)
        gsl_rng_free(w->levers);
    if (w->lots != NULL)
        gsl_rng_free(w->lots);
    if (w->lists != NULL)
        gsl_rng_free(w->lists);
    free(w->month);
    free(w);
}

resim_worker *resim_worker_alloc(const resim_data *d, const resim_scenario *shape,
                                 resim_grouping by, resim_error *err)
{
    resim_worker *w = calloc(1, sizeof *w);
    if (w == NULL) {
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        return NULL;
    }
    w->data = d;
    if ((w->model = resim_model_alloc(shape, by, err)) == NULL) {
        resim_worker_free(w);
        return NULL;
    }
    w->cells = shape->n_elements * resim_model_groups(w->model) * RESIM_NMETRICS;
    w->levers = resim_rng_alloc();
    w->lots = resim_rng_alloc();
    w->lists = resim_rng_alloc();
    w->month = malloc(w->cells * sizeof *w->month);
    if (w->levers == NULL || w->lots == NULL || w->lists == NULL || w->month == NULL) {
        resim_worker_free(w);
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        return NULL;
    }
    resim_model_set_random(w->model, w->lots, w->lists);
    return w;
}

int resim_worker_run(resim_worker *w, const resim_ini *base, const resim_uncertain *u,
                     uint64_t seed, uint64_t r, double *out, double *draws, resim_error *err)
{
    resim_rng_reset(w->levers, seed, r, RESIM_STREAM_LEVERS);
    resim_rng_reset(w->lots, seed, r, RESIM_STREAM_LOTS);
    resim_rng_reset(w->lists, seed, r, RESIM_STREAM_LISTS);
    resim_ini ini;
    resim_scenario sc;
    int rc = resim_ini_copy(&ini, base, err);
    if (rc != RESIM_OK)
        return rc;
    for (size_t k = 0; k < u->n && rc == RESIM_OK; k++) {
        const resim_ini_entry *e = &base->v[u->entry[k]];
        if (resim_dist_draw(&u->dist[k], w->levers, &draws[k]) != 0)
            rc = resim_error_set(err, RESIM_EINVAL, e->file, e->line,
                                 "[%s] %s: %s has almost no mass in the key's valid range "
                                 "(replicate %llu)",
                                 e->section, e->key, e->value, (unsigned long long)r);
        else
            rc = put_value(&ini, u->entry[k], draws[k], err);
    }
    if (rc == RESIM_OK)
        rc = resim_scenario_resolve(&sc, &ini, w->data, NULL, NULL, err);
    if (rc != RESIM_OK) {
        resim_ini_free(&ini);
        return rc;
    }
    rc = resim_model_init(w->model, &sc, err);
    if (rc == RESIM_OK)
        rc = resim_model_run(w->model, w->month, out, NULL, NULL);
    resim_scenario_free(&sc);
    resim_ini_free(&ini);
    return rc;
}

void resim_ensemble_cell(double *x, size_t n, const double *q, size_t nq, double threshold,
                         double *mean, double *quant, double *below)
{
    /* Move NaNs to the end; order among the rest does not matter (sorted next). */
    size_t m = 0, count_below = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) {
            double v = x[i];
            x[i] = x[m];
            x[m++] = v;
        }
    if (m == 0) {
        *mean = *below = NAN;
        for (size_t k = 0; k < nq; k++)
            quant[k] = NAN;
        return;
    }
    for (size_t i = 0; i < m; i++)
        count_below += x[i] < threshold;
    gsl_sort(x, 1, m);
    /* The mean of the sorted values, so it does not depend on arrival order. */
    *mean = gsl_stats_mean(x, 1, m);
    for (size_t k = 0; k < nq; k++)
        quant[k] = gsl_stats_quantile_from_sorted_data(x, 1, m, q[k]);
    *below = (double)count_below / (double)m;
}

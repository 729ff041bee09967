/*
 * sweep_engine.c - computes design points: a worker per thread runs a point
 * (deterministic, or its replicates) into a row, and a ring of slots hands
 * the rows out in point order whatever the thread count.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"
#include "resim/data.h"
#include "resim/ensemble.h"

/* What one thread needs to compute points: its own INI, model and buffers. */
struct sweep_worker {
    sweep_engine *eng;
    pthread_t thread;
    resim_ini ini;
    resim_model *m;
    double *out;
    resim_outcome *oc;
    resim_design_cursor *cursor;
    char (*val)[VALUE_MAX];
    double *x;
    /* With --replicates: the raw scenario (distributions kept), its
     * uncertain entries, an ensemble worker and per-replicate measures. */
    resim_ini raw;
    resim_uncertain u;
    resim_worker *ens;
    double *series;   /* [months][cells] of one replicate */
    double *draws;
    double *meas;     /* [cells_out][replicates] */
    /* --series values of the point: [series][month of the window], with
     * --replicates [series][month][replicate]. */
    double *ser;
};

static void worker_free(sweep_worker *w)
{
    resim_ini_free(&w->ini);
    resim_model_free(w->m);
    free(w->out);
    free(w->oc);
    resim_design_cursor_free(w->cursor);
    free(w->val);
    free(w->x);
    resim_ini_free(&w->raw);
    resim_uncertain_free(&w->u);
    resim_worker_free(w->ens);
    free(w->series);
    free(w->draws);
    free(w->meas);
    free(w->ser);
}

static int worker_init(sweep_worker *w, const plan *p, const cli_scenario *s, resim_error *err)
{
    memset(w, 0, sizeof *w);
    size_t E = s->sc.n_elements;
    /* The INI the base scenario was resolved from: the deterministic one. */
    int rc = resim_ini_copy(&w->ini, s->sc.ini, err);
    if (rc != RESIM_OK)
        return rc;
    if ((w->m = resim_model_alloc(&s->sc, RESIM_BY_STATUS, err)) == NULL)
        return err != NULL ? err->status : RESIM_ENOMEM;
    if (p->design != NULL && (w->cursor = resim_design_cursor_alloc(p->design, err)) == NULL)
        return RESIM_ENOMEM;
    w->out = malloc(E * SWEEP_GROUPS * RESIM_NMETRICS * sizeof *w->out);
    w->oc = malloc(E * SWEEP_GROUPS * sizeof *w->oc);
    w->val = malloc(p->dims * sizeof *w->val);
    w->x = malloc(p->dims * sizeof *w->x);
    if (w->out == NULL || w->oc == NULL || w->val == NULL || w->x == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    if (p->n_series > 0) {
        size_t n = p->n_series * plan_months(p) * (p->replicates > 0 ? p->replicates : 1);
        if ((w->ser = malloc(n * sizeof *w->ser)) == NULL)
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory (fewer --series?)");
    }
    if (p->replicates > 0) {
        size_t cells = E * SWEEP_GROUPS * RESIM_NMETRICS;
        if ((rc = resim_ini_copy(&w->raw, &s->ini, err)) != RESIM_OK)
            return rc;
        if ((w->ens = resim_worker_alloc(&s->data, &s->sc, RESIM_BY_STATUS, err)) == NULL)
            return err != NULL ? err->status : RESIM_ENOMEM;
        w->series = malloc((size_t)s->sc.months * cells * sizeof *w->series);
        w->draws = malloc((s->u.n + 1) * sizeof *w->draws);
        w->meas = malloc(E * SWEEP_GROUPS * SWEEP_NMEASURES * p->replicates * sizeof *w->meas);
        if (w->series == NULL || w->draws == NULL || w->meas == NULL)
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0,
                                   "out of memory (fewer --replicates?)");
    }
    return RESIM_OK;
}

/* Runs the point's replicates and formats mean and quantiles of every measure. */
static int replicate_measures(sweep_worker *w, const plan *p, const cli_scenario *s, size_t i, cli_sbuf *b,
                              resim_error *err)
{
    const size_t E = s->sc.n_elements, R = p->replicates, G = SWEEP_GROUPS;
    const size_t cells = E * G * RESIM_NMETRICS;
    int rc = RESIM_OK;
    for (size_t r = 0; r < R && rc == RESIM_OK; r++) {
        rc = resim_worker_run(w->ens, &w->raw, &w->u, p->seed, r, w->series, w->draws, err);
        if (rc != RESIM_OK)
            break;
        for (size_t g = 0; g < E * G; g++) {
            resim_outcome_init(&w->oc[g]);
            for (int t = p->win0; t <= p->win1; t++)
                resim_outcome_add(&w->oc[g], t, w->series + (size_t)t * cells + g * RESIM_NMETRICS,
                                  p->threshold);
            resim_outcome_finish(&w->oc[g], p->win1 + 1);
            double v[SWEEP_NMEASURES];
            sweep_outcome_values(&w->oc[g], v);
            for (size_t m = 0; m < SWEEP_NMEASURES; m++)
                w->meas[(g * SWEEP_NMEASURES + m) * R + r] = v[m];
        }
        for (size_t k = 0; k < p->n_series; k++) {
            const sweep_series *se = &p->series[k];
            size_t cell = (se->element * G + se->group) * RESIM_NMETRICS + se->metric;
            for (int t = p->win0; t <= p->win1; t++)
                w->ser[(k * plan_months(p) + (size_t)(t - p->win0)) * R + r] =
                    w->series[(size_t)t * cells + cell];
        }
    }
    if (rc != RESIM_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return resim_error_set(err, rc, NULL, 0, "design point %zu: %.900s", i, msg);
    }
    double quant[32], mean, below;
    int bad = 0;
    for (size_t c = 0; c < E * G * SWEEP_NMEASURES; c++) {
        resim_ensemble_cell(w->meas + c * R, R, p->quantiles, p->n_quantiles, 0, &mean, quant,
                            &below);
        bad |= cli_sb_put(b, ",", 1) | cli_sb_number(b, mean);
        for (size_t q = 0; q < p->n_quantiles; q++)
            bad |= cli_sb_put(b, ",", 1) | cli_sb_number(b, quant[q]);
    }
    /* Series: per series the mean over the window's months, then each
     * quantile over them (the header's order). */
    const size_t T = plan_months(p);
    double *qs = malloc((p->n_quantiles + 1) * T * sizeof *qs);
    if (p->n_series > 0 && qs == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    for (size_t k = 0; k < p->n_series; k++) {
        for (size_t t = 0; t < T; t++)
            resim_ensemble_cell(w->ser + (k * T + t) * R, R, p->quantiles, p->n_quantiles, 0,
                                &qs[t], qs + T + t * p->n_quantiles, &below);
        for (size_t t = 0; t < T; t++)
            bad |= cli_sb_put(b, ",", 1) | cli_sb_number(b, qs[t]);
        for (size_t q = 0; q < p->n_quantiles; q++)
            for (size_t t = 0; t < T; t++)
                bad |= cli_sb_put(b, ",", 1) | cli_sb_number(b, qs[T + t * p->n_quantiles + q]);
    }
    free(qs);
    return bad ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory") : RESIM_OK;
}

/* The outcome of every (element, group) row of a point, fed month by month. */
typedef struct point_month_ctx {
    resim_outcome *oc;
    size_t n;
    double threshold;
    int t0, t1;       /* months measured */
    const plan *p;    /* its --series go to ser */
    double *ser;
} point_month_ctx;

static int point_month(void *ctx, int t, const double *out)
{
    const point_month_ctx *c = ctx;
    if (t < c->t0 || t > c->t1)
        return RESIM_OK;
    for (size_t g = 0; g < c->n; g++)
        resim_outcome_add(&c->oc[g], t, out + g * RESIM_NMETRICS, c->threshold);
    const plan *p = c->p;
    if (t > p->win1)
        return RESIM_OK;
    for (size_t k = 0; k < p->n_series; k++) {
        const sweep_series *se = &p->series[k];
        c->ser[k * plan_months(p) + (size_t)(t - p->win0)] =
            out[(se->element * SWEEP_GROUPS + se->group) * RESIM_NMETRICS + se->metric];
    }
    return RESIM_OK;
}

/*
 * Runs design point i and formats its row into b. The point's values are
 * set on the worker's own copy of the raw INI (each point sets every varied
 * key, so earlier points leave no trace) and resolved again.
 *
 * With --replicates the point runs R replicates of the stochastic mode and
 * its row carries each measure's mean and quantiles over them.
 */
static int compute_point(sweep_worker *w, const plan *p, const cli_scenario *s, size_t i, cli_sbuf *b,
                         resim_error *err)
{
    int rc = sweep_point_values(p, w->cursor, i, w->val, w->x, err);
    long line = p->design == NULL ? p->table.line[i] : 0;
    if (p->replicates > 0) {
        /* Stochastic: the varied values go into the raw scenario, whose
         * remaining distributions are drawn per replicate. */
        for (size_t k = 0; rc == RESIM_OK && k < p->dims; k++)
            rc = resim_ini_put(&w->raw, p->keys[k].section, p->keys[k].key, w->val[k], p->origin,
                               line, err);
        if (rc == RESIM_OK) {
            resim_uncertain_free(&w->u);
            rc = resim_uncertain_scan(&w->raw, &s->data, &w->u, err);
        }
        if (rc != RESIM_OK)
            return rc;
        if (sweep_row_lead(b, p, i, w->val))
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        if ((rc = replicate_measures(w, p, s, i, b, err)) != RESIM_OK)
            return rc;
        return cli_sb_put(b, "\n", 1) ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory")
                                  : RESIM_OK;
    }
    for (size_t k = 0; rc == RESIM_OK && k < p->dims; k++)
        rc = resim_ini_put(&w->ini, p->keys[k].section, p->keys[k].key, w->val[k], p->origin,
                           line, err);
    resim_scenario sc;
    if (rc == RESIM_OK)
        rc = resim_scenario_resolve(&sc, &w->ini, &s->data, NULL, NULL, err);
    if (rc != RESIM_OK) {
        if (err != NULL) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            resim_error_set(err, rc, NULL, 0, "design point %zu: %.900s", i, msg);
        }
        return rc;
    }
    size_t E = sc.n_elements;
    if (E != s->sc.n_elements || sc.n_importers != s->sc.n_importers) {
        resim_scenario_free(&sc);
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "design point %zu: the varied keys change the scenario's elements",
                               i);
    }
    /* Without --window the measures cover the point's own horizon (a
     * varied scenario.months changes it); the window and the series columns
     * are fixed by the base scenario, so a point must reach them. */
    int t1 = p->has_window ? p->win1 : sc.months - 1;
    if ((p->has_window || p->n_series > 0) && sc.months <= p->win1) {
        char d[8];
        resim_date_format(p->start + p->win1, d);
        resim_scenario_free(&sc);
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "design point %zu: the scenario ends before %s, the last month "
                               "of the window or series",
                               i, d);
    }
    if ((rc = resim_model_init(w->m, &sc, err)) != RESIM_OK) {
        resim_scenario_free(&sc);
        return rc;
    }
    for (size_t g = 0; g < E * SWEEP_GROUPS; g++)
        resim_outcome_init(&w->oc[g]);
    point_month_ctx mc = {w->oc, E * SWEEP_GROUPS, p->threshold, p->win0, t1, p, w->ser};
    resim_model_run(w->m, w->out, NULL, point_month, &mc);
    for (size_t g = 0; g < E * SWEEP_GROUPS; g++)
        resim_outcome_finish(&w->oc[g], t1 + 1);
    resim_scenario_free(&sc);

    int bad = sweep_row_lead(b, p, i, w->val);
    for (size_t g = 0; g < E * SWEEP_GROUPS; g++)
        bad |= sweep_row_measures(b, &w->oc[g], 1, p->start);
    for (size_t k = 0; k < p->n_series * plan_months(p); k++)
        bad |= cli_sb_put(b, ",", 1) | cli_sb_number(b, w->ser[k]);
    bad |= cli_sb_put(b, "\n", 1);
    if (bad)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    return RESIM_OK;
}

/* ------------------------------------------------------------ threads */

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

struct sweep_slot {
    int state;
    int status;
    cli_sbuf row;
    resim_error err;
};

static void *worker_main(void *arg)
{
    sweep_worker *w = arg;
    sweep_engine *e = w->eng;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        if (e->stop || e->next_claim >= e->count)
            break;
        if (e->next_claim >= e->next_out + e->nslot) {
            pthread_cond_wait(&e->space, &e->mu);
            continue;
        }
        size_t q = e->next_claim++;
        sweep_slot *sl = &e->ring[q % e->nslot];
        sl->state = SLOT_BUSY;
        pthread_mutex_unlock(&e->mu);
        sl->err.msg[0] = '\0';
        int rc = compute_point(w, e->p, e->s, e->i0 + q * e->di, &sl->row, &sl->err);
        pthread_mutex_lock(&e->mu);
        sl->status = rc;
        sl->state = SLOT_READY;
        pthread_cond_broadcast(&e->ready);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

static void sweep_engine_stop(sweep_engine *e)
{
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    pthread_cond_broadcast(&e->space);
    pthread_mutex_unlock(&e->mu);
    for (size_t t = 0; t < e->started; t++)
        pthread_join(e->w[t].thread, NULL);
    e->started = 0;
}

void sweep_engine_free(sweep_engine *e)
{
    sweep_engine_stop(e);
    for (size_t t = 0; t < e->nw; t++)
        worker_free(&e->w[t]);
    for (size_t k = 0; k < e->nslot && e->ring != NULL; k++)
        free(e->ring[k].row.p);
    free(e->ring);
    free(e->w);
    pthread_cond_destroy(&e->ready);
    pthread_cond_destroy(&e->space);
    pthread_mutex_destroy(&e->mu);
}

int sweep_engine_start(sweep_engine *e, const plan *p, const cli_scenario *s, size_t i0, size_t di,
                        size_t count, size_t threads, resim_error *err)
{
    memset(e, 0, sizeof *e);
    e->p = p;
    e->s = s;
    e->i0 = i0;
    e->di = di;
    e->count = count;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->ready, NULL);
    pthread_cond_init(&e->space, NULL);
    e->nw = threads;
    /* Under MPI, room to run ahead while rank 0 waits for another rank's row. */
    e->nslot = 4 * threads + 4 + (p->ranks > 1 ? 64 : 0);
    e->w = calloc(e->nw + 1, sizeof *e->w);
    e->ring = calloc(e->nslot, sizeof *e->ring);
    if (e->w == NULL || e->ring == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    for (size_t t = 0; t < e->nw; t++) {
        int rc = worker_init(&e->w[t], p, s, err);
        e->w[t].eng = e;
        if (rc != RESIM_OK)
            return rc;
    }
    for (size_t t = 0; t < e->nw; t++) {
        if (pthread_create(&e->w[t].thread, NULL, worker_main, &e->w[t]) != 0)
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "cannot start a worker thread");
        e->started++;
    }
    return RESIM_OK;
}

const cli_sbuf *sweep_engine_next(sweep_engine *e, resim_error *err)
{
    pthread_mutex_lock(&e->mu);
    sweep_slot *sl = &e->ring[e->next_out % e->nslot];
    while (sl->state != SLOT_READY)
        pthread_cond_wait(&e->ready, &e->mu);
    pthread_mutex_unlock(&e->mu);
    if (sl->status != RESIM_OK) {
        if (err != NULL)
            *err = sl->err;
        return NULL;
    }
    return &sl->row;
}

void sweep_engine_release(sweep_engine *e)
{
    pthread_mutex_lock(&e->mu);
    e->ring[e->next_out % e->nslot].state = SLOT_FREE;
    e->next_out++;
    pthread_cond_broadcast(&e->space);
    pthread_mutex_unlock(&e->mu);
}

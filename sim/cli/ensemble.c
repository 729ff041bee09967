/*
 * ensemble.c - `resim run --replicates N`: replicates on worker threads, in
 * chunks, and a summary of every (month, element, group) cell with exact
 * quantiles. The quantile store is bounded by --memory: a larger ensemble is
 * computed again in passes over blocks of months (replicates are
 * reproducible, so every pass sees the same numbers). With --summary, the
 * band of each element's lowest availability over the run, beside the
 * central run's.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rows.h"
#include "resim/csvout.h"
#include "resim/rng.h"
#include "resim/sidecar.h"

/* Largest chunk buffer of whole replicates held at once. */
#define CHUNK_BYTES ((size_t)64 << 20)

typedef struct chunk_job {
    const run_args *a;
    const resim_ini *base;
    const resim_uncertain *u;
    resim_worker **workers;
    size_t first, count;  /* replicates of this chunk: first .. first+count-1 */
    size_t cells_run;     /* doubles per replicate: months x cells */
    size_t n_draws;
    double *buf, *draws;
    atomic_size_t next;
    pthread_mutex_t lock;
    size_t failed_at;     /* lowest failed replicate index in the chunk, or count */
    resim_error err;
} chunk_job;

typedef struct thread_arg {
    chunk_job *job;
    resim_worker *w;
} thread_arg;

static void *work(void *p)
{
    thread_arg *ta = p;
    chunk_job *j = ta->job;
    for (;;) {
        size_t k = atomic_fetch_add(&j->next, 1);
        if (k >= j->count)
            break;
        resim_error err = {0};
        uint64_t r = (uint64_t)(j->first + k);
        if (resim_worker_run(ta->w, j->base, j->u, j->a->seed, r, j->buf + k * j->cells_run,
                             j->draws + k * j->n_draws, &err) != RESIM_OK) {
            pthread_mutex_lock(&j->lock);
            if (k < j->failed_at) { /* report the same error for any thread count */
                j->failed_at = k;
                j->err = err;
            }
            pthread_mutex_unlock(&j->lock);
        }
    }
    return NULL;
}

/* Computes one chunk of replicates on the worker threads. */
static int run_chunk(chunk_job *j, size_t nthreads, resim_error *err)
{
    atomic_store(&j->next, 0);
    j->failed_at = j->count;
    pthread_t tid[CLI_MAX_THREADS];
    thread_arg ta[CLI_MAX_THREADS];
    size_t started = 0;
    for (size_t k = 1; k < nthreads; k++) {
        ta[k] = (thread_arg){j, j->workers[k]};
        if (pthread_create(&tid[k], NULL, work, &ta[k]) != 0)
            break;
        started = k;
    }
    ta[0] = (thread_arg){j, j->workers[0]};
    work(&ta[0]);
    for (size_t k = 1; k <= started; k++)
        pthread_join(tid[k], NULL);
    if (j->failed_at < j->count) {
        *err = j->err;
        return err->status;
    }
    return RESIM_OK;
}

/*
 * Window measures of every replicate (--window): per (element, group) and
 * replicate, the lowest availability and the cumulative shortfall over the
 * window's months; summarised once all replicates are in.
 */
typedef struct window_stats {
    int t0, t1;        /* model months of the window, inclusive */
    size_t EG, R;
    double *x;         /* [EG][2][R]: lowest availability, cumulative shortfall */
    double *sum;       /* [EG][2 * (1 + nq) + 1]: prob, then mean and quantiles of each */
} window_stats;

enum { W_MIN, W_CUM };

/* Adds replicate k (0-based within the run) from its T x cells series. */
static void window_add(window_stats *w, const double *rep, size_t cells, size_t k)
{
    for (size_t eg = 0; eg < w->EG; eg++) {
        double lo = HUGE_VAL, cum = 0;
        for (int t = w->t0; t <= w->t1; t++) {
            const double *row = rep + (size_t)t * cells + eg * RESIM_NMETRICS;
            if (row[RESIM_M_AVAILABILITY] < lo)
                lo = row[RESIM_M_AVAILABILITY];
            cum += row[RESIM_M_SHORTFALL];
        }
        w->x[(eg * 2 + W_MIN) * w->R + k] = lo;
        w->x[(eg * 2 + W_CUM) * w->R + k] = cum;
    }
}

/* P(lowest availability < threshold) is the share of replicates with some
 * month of the window below it. */
static void window_finish(window_stats *w, const run_args *a)
{
    const size_t nq = a->n_quantiles, width = 2 * (1 + nq) + 1;
    for (size_t eg = 0; eg < w->EG; eg++) {
        double *out = w->sum + eg * width, below, unused;
        resim_ensemble_cell(w->x + (eg * 2 + W_MIN) * w->R, w->R, a->quantiles, nq, a->threshold,
                            &out[1], &out[2], &below);
        out[0] = below;
        resim_ensemble_cell(w->x + (eg * 2 + W_CUM) * w->R, w->R, a->quantiles, nq, a->threshold,
                            &out[2 + nq], &out[3 + nq], &unused);
    }
}

static void summary_header(FILE *fp, const run_args *a)
{
    fputs("scenario,date,month,element,group", fp);
    for (int k = 0; k < RESIM_NMETRICS; k++) {
        fprintf(fp, ",%s_mean", resim_metric_names[k]);
        for (size_t q = 0; q < a->n_quantiles; q++) {
            char name[32];
            cli_quantile_name(name, sizeof name, a->quantiles[q]);
            fprintf(fp, ",%s_%s", resim_metric_names[k], name);
        }
    }
    fputs(",prob_availability_below", fp);
    if (a->window != NULL) {
        fputs(",window_prob_below", fp);
        static const char *const measure[2] = {"window_min_availability", "window_cum_shortfall"};
        for (int k = 0; k < 2; k++) {
            fprintf(fp, ",%s_mean", measure[k]);
            for (size_t q = 0; q < a->n_quantiles; q++) {
                char name[32];
                cli_quantile_name(name, sizeof name, a->quantiles[q]);
                fprintf(fp, ",%s_%s", measure[k], name);
            }
        }
    }
    fputc('\n', fp);
}

/* Summarises and writes the rows of months m0 .. m0+nm-1 from the store. */
static void write_summary_block(FILE *fp, const run_args *a, const resim_scenario *sc, size_t G,
                                double *store, size_t R, int m0, int nm, const window_stats *w)
{
    const size_t cells = sc->n_elements * G * RESIM_NMETRICS;
    double quant[32];
    char date[8];
    for (int dm = 0; dm < nm; dm++) {
        int t = m0 + dm;
        resim_date_format(sc->start + t, date);
        for (size_t e = 0; e < sc->n_elements; e++)
            for (size_t g = 0; g < G; g++) {
                size_t base = (size_t)dm * cells + (e * G + g) * RESIM_NMETRICS;
                resim_csv_text(fp, sc->name);
                fprintf(fp, ",%s,%d,%s,", date, t, resim_scenario_symbol(sc, e));
                resim_csv_text(fp, cli_group_name(sc, a->by, g));
                double below = 0;
                for (int k = 0; k < RESIM_NMETRICS; k++) {
                    double mean, b;
                    resim_ensemble_cell(store + (base + (size_t)k) * R, R, a->quantiles,
                                        a->n_quantiles, a->threshold, &mean, quant, &b);
                    if (k == RESIM_M_AVAILABILITY)
                        below = b;
                    fputc(',', fp);
                    resim_csv_number(fp, mean);
                    for (size_t q = 0; q < a->n_quantiles; q++) {
                        fputc(',', fp);
                        resim_csv_number(fp, quant[q]);
                    }
                }
                fputc(',', fp);
                resim_csv_number(fp, below);
                /* The window's measures, the same in every month of the row's
                 * element and group. */
                const size_t width = 2 * (1 + a->n_quantiles) + 1;
                for (size_t k = 0; w != NULL && k < width; k++) {
                    fputc(',', fp);
                    resim_csv_number(fp, w->sum[(e * G + g) * width + k]);
                }
                fputc('\n', fp);
            }
    }
}

/* Lowest availability of every importer (the all row), by element, over the
 * months of one run: t x E x G x RESIM_NMETRICS values. */
static void lowest_of_run(const double *rep, size_t T, size_t E, size_t G, double *lowest)
{
    for (size_t e = 0; e < E; e++) {
        double low = 1;
        for (size_t t = 0; t < T; t++) {
            double a = rep[(t * E + e) * G * RESIM_NMETRICS + RESIM_M_AVAILABILITY];
            low = a < low ? a : low;
        }
        lowest[e] = low;
    }
}

/* The central run (every distribution at its central value), deterministic. */
static int central_lowest(const resim_scenario *sc, double *lowest, resim_error *err)
{
    const size_t E = sc->n_elements, T = (size_t)sc->months;
    resim_model *m = resim_model_alloc(sc, RESIM_BY_NONE, err);
    if (m == NULL)
        return err->status;
    resim_model_set_warn(m, NULL, NULL);
    double *series = malloc(T * E * RESIM_NMETRICS * sizeof *series);
    double *scratch = malloc(E * RESIM_NMETRICS * sizeof *scratch);
    int rc = series == NULL || scratch == NULL
                 ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory")
                 : resim_model_init(m, sc, err);
    if (rc == RESIM_OK)
        rc = resim_model_run(m, scratch, series, NULL, NULL);
    if (rc == RESIM_OK)
        lowest_of_run(series, T, E, 1, lowest);
    free(series);
    free(scratch);
    resim_model_free(m);
    return rc;
}

/*
 * Prints, per element, the central run's lowest availability and the 5 %,
 * 50 % and 95 % quantiles of the replicates' (lowest[r * E + e]; sorted in
 * place, element by element, through x).
 */
static int print_band(FILE *fp, const cli_scenario *s, const run_args *a, double *lowest,
                      resim_error *err)
{
    const resim_scenario *sc = &s->sc;
    const size_t E = sc->n_elements, R = a->replicates;
    double *central = malloc(E * sizeof *central), *x = malloc(R * sizeof *x);
    int rc = central == NULL || x == NULL
                 ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory")
                 : central_lowest(sc, central, err);
    if (rc == RESIM_OK) {
        fprintf(fp, "lowest availability of all importers over the run: the central run and "
                    "the band of %lu replicates (seed %llu)\n",
                R, a->seed);
        fprintf(fp, "%-7s %8s %8s %8s %8s\n", "element", "central", "p05", "median", "p95");
        static const double q[] = {0.05, 0.5, 0.95};
        for (size_t e = 0; e < E; e++) {
            double mean, quant[3], below;
            for (size_t r = 0; r < R; r++)
                x[r] = lowest[r * E + e];
            resim_ensemble_cell(x, R, q, 3, a->threshold, &mean, quant, &below);
            fprintf(fp, "%-7s %7.1f%% %7.1f%% %7.1f%% %7.1f%%\n", resim_scenario_symbol(sc, e),
                    100 * central[e], 100 * quant[0], 100 * quant[1], 100 * quant[2]);
        }
    }
    free(central);
    free(x);
    return rc;
}

static void draws_header(FILE *fp, const cli_scenario *s)
{
    fputs("replicate", fp);
    for (size_t k = 0; k < s->u.n; k++) {
        const resim_ini_entry *e = &s->ini.v[s->u.entry[k]];
        char key[256];
        snprintf(key, sizeof key, "%s.%s", e->section, e->key);
        fputc(',', fp);
        resim_csv_text(fp, key);
    }
    fputc('\n', fp);
}

static int write_sidecar(const char *csv, const cli_scenario *s, const run_args *a, int passes,
                         const char *draws, int argc, char **argv, resim_error *err)
{
    resim_out o;
    int rc = resim_sidecar_open(&o, csv, "ensemble", &s->sc, argc, argv, err);
    if (rc != RESIM_OK)
        return rc;
    FILE *fp = o.fp;
    fprintf(fp, "  \"seed\": %llu,\n  \"generator\": ", a->seed);
    resim_json_string(fp, resim_rng_name);
    fprintf(fp, ",\n  \"replicates\": %lu,\n  \"first_replicate\": %lu,\n  \"quantiles\": [",
            a->replicates, a->first_replicate);
    for (size_t q = 0; q < a->n_quantiles; q++)
        fprintf(fp, "%s%.15g", q ? ", " : "", a->quantiles[q]);
    fprintf(fp, "],\n  \"quantile_method\": \"linear interpolation between order statistics "
                "(Hyndman-Fan type 7), per cell; per-month quantiles are not trajectories\",\n"
                "  \"threshold\": %.15g,\n  \"passes\": %d,\n",
            a->threshold, passes);
    if (a->window != NULL)
        fprintf(fp, "  \"window\": \"%s\",\n", a->window);
    fputs("  \"uncertain\": [", fp);
    for (size_t k = 0; k < s->u.n; k++) {
        const resim_ini_entry *e = &s->ini.v[s->u.entry[k]];
        char key[256];
        snprintf(key, sizeof key, "%s.%s", e->section, e->key);
        fputs(k ? ",\n    {\"key\": " : "\n    {\"key\": ", fp);
        resim_json_string(fp, key);
        fputs(", \"distribution\": ", fp);
        resim_json_string(fp, e->value);
        fputc('}', fp);
    }
    fputs(s->u.n ? "\n  ],\n  \"draws\": " : "],\n  \"draws\": ", fp);
    if (draws != NULL)
        resim_json_string(fp, draws);
    else
        fputs("null", fp);
    fputs("\n}\n", fp);
    rc = resim_out_commit(&o, err);
    resim_out_abort(&o);
    return rc;
}

int cli_ensemble(const run_args *a, int argc, char **argv)
{
    resim_error err = {0};
    cli_scenario s;
    if (cli_load(&s, &a->scen, &err) != RESIM_OK)
        return cli_fail(&err);
    const resim_scenario *sc = &s.sc;
    const size_t R = a->replicates, T = (size_t)sc->months;
    const size_t nthreads = a->threads;
    int named = a->output != NULL && strcmp(a->output, "-") != 0;
    char draws_path[1100];
    snprintf(draws_path, sizeof draws_path, "%s.draws.csv", named ? a->output : "");
    resim_out out = {0}, raw = {0}, dr = {0};
    chunk_job job = {.a = a, .base = &s.ini, .u = &s.u};
    pthread_mutex_init(&job.lock, NULL);
    double *store = NULL, *lowest = NULL;
    window_stats w = {0};
    int rc = RESIM_ENOMEM, passes = 0, code = 0;

    job.workers = calloc(nthreads, sizeof *job.workers);
    if (job.workers == NULL)
        goto done;
    for (size_t k = 0; k < nthreads; k++)
        if ((job.workers[k] = resim_worker_alloc(&s.data, sc, a->by, &err)) == NULL)
            goto done;
    size_t G = a->by == RESIM_BY_NONE ? 1 : a->by == RESIM_BY_STATUS ? 1 + RESIM_NSTATUSES
                                                                     : 1 + sc->n_importers;
    const size_t cells = sc->n_elements * G * RESIM_NMETRICS;
    if (a->window != NULL) {
        w.t0 = a->window_ym[0] - sc->start;
        w.t1 = a->window_ym[1] - sc->start;
        if (w.t0 < 0 || w.t1 >= sc->months) {
            char first[8], last[8];
            resim_date_format(sc->start, first);
            resim_date_format(sc->start + sc->months - 1, last);
            code = cli_usage("--window %s: not within the run (%s to %s)", a->window, first, last);
            rc = RESIM_EUSAGE;
            goto done;
        }
        w.EG = sc->n_elements * G;
        w.R = R;
        w.x = malloc(w.EG * 2 * R * sizeof *w.x);
        w.sum = malloc(w.EG * (2 * (1 + a->n_quantiles) + 1) * sizeof *w.sum);
        if (w.x == NULL || w.sum == NULL) {
            rc = resim_error_set(&err, RESIM_ENOMEM, NULL, 0,
                                 "out of memory (lower --replicates)");
            goto done;
        }
    }
    job.cells_run = T * cells;
    job.n_draws = s.u.n;

    /* Months per pass so that the store fits the memory budget. */
    size_t budget = (size_t)a->memory_mb << 20;
    size_t per_month = R * cells * sizeof(double);
    size_t block = budget / per_month;
    if (block < 1)
        block = 1;
    if (block > T)
        block = T;
    size_t chunk = CHUNK_BYTES / (job.cells_run * sizeof(double));
    if (chunk < nthreads)
        chunk = nthreads;
    if (chunk > R)
        chunk = R;
    store = malloc(block * per_month);
    job.buf = malloc(chunk * job.cells_run * sizeof(double));
    job.draws = malloc((chunk * job.n_draws + 1) * sizeof(double));
    if (a->summary)
        lowest = malloc(R * sc->n_elements * sizeof *lowest);
    if (store == NULL || job.buf == NULL || job.draws == NULL || (a->summary && lowest == NULL)) {
        rc = resim_error_set(&err, RESIM_ENOMEM, NULL, 0,
                             "out of memory (lower --memory or --replicates)");
        goto done;
    }
    if ((rc = resim_out_open(&out, a->output, &err)) != RESIM_OK ||
        (a->raw != NULL && (rc = resim_out_open(&raw, a->raw, &err)) != RESIM_OK) ||
        (named && s.u.n > 0 && (rc = resim_out_open(&dr, draws_path, &err)) != RESIM_OK))
        goto done;
    summary_header(out.fp, a);
    if (raw.fp != NULL)
        cli_write_header(raw.fp, 1);
    if (dr.fp != NULL)
        draws_header(dr.fp, &s);

    for (size_t m0 = 0; m0 < T; m0 += block, passes++) {
        size_t nm = T - m0 < block ? T - m0 : block;
        for (size_t c0 = 0; c0 < R; c0 += chunk) {
            job.first = a->first_replicate + c0;
            job.count = R - c0 < chunk ? R - c0 : chunk;
            if ((rc = run_chunk(&job, nthreads, &err)) != RESIM_OK)
                goto done;
            for (size_t k = 0; k < job.count; k++) {
                const double *rep = job.buf + k * job.cells_run;
                long r = (long)(job.first + k);
                if (m0 == 0 && raw.fp != NULL)
                    for (size_t t = 0; t < T; t++)
                        cli_write_month(raw.fp, sc, a->by, G, (int)t, rep + t * cells, r);
                if (m0 == 0 && lowest != NULL)
                    lowest_of_run(rep, T, sc->n_elements, G, lowest + (c0 + k) * sc->n_elements);
                if (m0 == 0 && dr.fp != NULL) {
                    fprintf(dr.fp, "%ld", r);
                    for (size_t d = 0; d < job.n_draws; d++) {
                        fputc(',', dr.fp);
                        resim_csv_number(dr.fp, job.draws[k * job.n_draws + d]);
                    }
                    fputc('\n', dr.fp);
                }
                if (m0 == 0 && w.x != NULL)
                    window_add(&w, rep, cells, c0 + k);
                /* Store the block's months replicate-minor, ready to sort per cell. */
                for (size_t dm = 0; dm < nm; dm++)
                    for (size_t c = 0; c < cells; c++)
                        store[(dm * cells + c) * R + c0 + k] = rep[(m0 + dm) * cells + c];
            }
        }
        if (m0 == 0 && w.x != NULL)
            window_finish(&w, a);
        write_summary_block(out.fp, a, sc, G, store, R, (int)m0, (int)nm, w.x != NULL ? &w : NULL);
    }
    if ((raw.fp != NULL && (rc = (named ? resim_out_prepare : resim_out_commit)(&raw, &err))) ||
        (dr.fp != NULL && (rc = resim_out_prepare(&dr, &err)) != RESIM_OK) ||
        (rc = resim_out_prepare(&out, &err)) != RESIM_OK)
        goto done;
    if (named)
        rc = write_sidecar(a->output, &s, a, passes, s.u.n > 0 ? draws_path : NULL, argc, argv,
                           &err);
    if (rc == RESIM_OK && lowest != NULL)
        rc = print_band(named ? stdout : stderr, &s, a, lowest, &err);
done:
    if (rc == RESIM_ENOMEM && err.msg[0] == '\0')
        resim_error_set(&err, RESIM_ENOMEM, NULL, 0, "out of memory");
    resim_out_abort(&out);
    resim_out_abort(&raw);
    resim_out_abort(&dr);
    for (size_t k = 0; job.workers != NULL && k < nthreads; k++)
        resim_worker_free(job.workers[k]);
    free(job.workers);
    free(job.buf);
    free(job.draws);
    free(store);
    free(w.x);
    free(w.sum);
    free(lowest);
    pthread_mutex_destroy(&job.lock);
    cli_unload(&s);
    if (code != 0)
        return code;
    return rc == RESIM_OK ? 0 : cli_fail(&err);
}

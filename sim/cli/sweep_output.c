/*
 * sweep_output.c - what a sweep writes: the header and the measures of a
 * row, the partial file (and resuming it), progress, and the sidecar.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "sweep.h"
#include "resim/csvout.h"
#include "resim/rng.h"
#include "resim/sidecar.h"

const char *const sweep_group_names[SWEEP_GROUPS] = {"all", "none", "watch", "control"};

#define SWEEP_MEASURE_NAME(name, kind) #name,
const char *const sweep_measure_names[SWEEP_NMEASURES] = {SWEEP_MEASURE_LIST(SWEEP_MEASURE_NAME)};
#undef SWEEP_MEASURE_NAME

void sweep_outcome_values(const resim_outcome *o, double *v)
{
    const int month[] = {o->peak_month, o->min_month, o->first_below, o->stock_out, o->recovered};
    v[0] = o->cum_shortfall;
    v[1] = o->peak_shortfall;
    v[2] = month[0] < 0 ? NAN : (double)month[0];
    v[3] = o->min_availability;
    v[4] = month[1] < 0 ? NAN : (double)month[1];
    v[5] = o->months_below;
    v[6] = month[2] < 0 ? NAN : (double)month[2];
    v[7] = month[3] < 0 ? NAN : (double)month[3];
    v[8] = month[4] < 0 ? NAN : (double)month[4];
}

int sweep_row_measures(cli_sbuf *b, const resim_outcome *o)
{
    int rc = 0;
    rc |= cli_sb_put(b, ",", 1) | cli_sb_number(b, o->cum_shortfall);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_number(b, o->peak_shortfall);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->peak_month);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_number(b, o->min_availability);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->min_month);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->months_below);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->first_below);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->stock_out);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->recovered);
    return rc;
}

int sweep_header_line(cli_sbuf *b, const plan *p, const resim_scenario *sc)
{
    int bad = cli_sb_str(b, "point");
    for (size_t k = 0; k < p->dims; k++)
        bad |= cli_sb_put(b, ",", 1) | cli_sb_text(b, p->keys[k].name);
    for (size_t e = 0; e < sc->n_elements; e++)
        for (size_t g = 0; g < SWEEP_GROUPS; g++)
            for (size_t m = 0; m < SWEEP_NMEASURES; m++) {
                char name[96];
                snprintf(name, sizeof name, ",%s_%s_%s", resim_scenario_symbol(sc, e),
                         sweep_group_names[g], sweep_measure_names[m]);
                bad |= cli_sb_str(b, name);
                if (p->replicates == 0)
                    continue;
                bad |= cli_sb_str(b, "_mean");
                for (size_t q = 0; q < p->n_quantiles; q++) {
                    char qn[16];
                    cli_quantile_name(qn, sizeof qn, p->quantiles[q]);
                    bad |= cli_sb_str(b, name) | cli_sb_str(b, "_") | cli_sb_str(b, qn);
                }
            }
    bad |= cli_sb_put(b, "\n", 1);
    return bad;
}

/* The leading fields of point i's row ("i,v1,...,vk,"), for resume checks. */
static int row_prefix(cli_sbuf *b, const plan *p, resim_design_cursor *c, size_t i,
                      char (*val)[VALUE_MAX], double *x, resim_error *err)
{
    int rc = sweep_point_values(p, c, i, val, x, err);
    if (rc != RESIM_OK)
        return rc;
    char num[32];
    b->n = 0;
    int bad = cli_sb_put(b, num, (size_t)snprintf(num, sizeof num, "%zu", i));
    for (size_t k = 0; k < p->dims; k++)
        bad |= cli_sb_put(b, ",", 1) | cli_sb_text(b, val[k]);
    bad |= cli_sb_put(b, ",", 1);
    return bad ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory") : RESIM_OK;
}

int sweep_open_partial(const char *path, int resume, const cli_sbuf *header, plan *p, FILE **fpo,
                        resim_error *err)
{
    p->done = 0;
    FILE *fp = resume ? fopen(path, "r+") : NULL;
    if (fp == NULL) {
        if (resume && errno != ENOENT)
            return resim_error_set(err, RESIM_EIO, path, 0, "cannot open partial output to resume");
        if ((fp = fopen(path, "w")) == NULL)
            return resim_error_set(err, RESIM_EIO, path, 0, "cannot create partial output");
        if (fwrite(header->p, 1, header->n, fp) != header->n || fflush(fp) != 0) {
            fclose(fp);
            return resim_error_set(err, RESIM_EIO, path, 0, "write error");
        }
        *fpo = fp;
        return RESIM_OK;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    off_t keep = 0;
    long lineno = 0;
    int rc = RESIM_OK;
    cli_sbuf prefix = {0};
    resim_design_cursor *c = p->design != NULL ? resim_design_cursor_alloc(p->design, err) : NULL;
    char(*val)[VALUE_MAX] = malloc(p->dims * sizeof *val);
    double *x = malloc(p->dims * sizeof *x);
    if ((p->design != NULL && c == NULL) || val == NULL || x == NULL)
        rc = resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    while (rc == RESIM_OK && (n = getline(&line, &cap, fp)) > 0) {
        lineno++;
        if (line[n - 1] != '\n')
            break; /* torn by a kill: dropped */
        if (lineno == 1) {
            if ((size_t)n != header->n || memcmp(line, header->p, header->n) != 0)
                rc = resim_error_set(err, RESIM_EINVAL, path, 1,
                                     "header does not match this sweep's columns; cannot resume "
                                     "(remove the file to start again)");
        } else if (p->done >= p->n_local) {
            rc = resim_error_set(err, RESIM_EINVAL, path, lineno,
                                 "more rows than this sweep has points; cannot resume");
        } else {
            size_t i = shard_point(p, p->done);
            rc = row_prefix(&prefix, p, c, i, val, x, err);
            if (rc == RESIM_OK && strncmp(line, prefix.p, prefix.n) != 0)
                rc = resim_error_set(err, RESIM_EINVAL, path, lineno,
                                     "row is not design point %zu of this sweep (other ranges, "
                                     "seed or shard?); cannot resume",
                                     i);
            if (rc == RESIM_OK)
                p->done++;
        }
        if (rc == RESIM_OK)
            keep += (off_t)n;
    }
    free(line);
    free(prefix.p);
    free(val);
    free(x);
    resim_design_cursor_free(c);
    if (rc == RESIM_OK && ferror(fp))
        rc = resim_error_set(err, RESIM_EIO, path, 0, "read error");
    if (rc != RESIM_OK) {
        fclose(fp);
        return rc;
    }
    /* A torn header counts as nothing written. */
    if (lineno == 0 || keep == 0) {
        fclose(fp);
        return sweep_open_partial(path, 0, header, p, fpo, err);
    }
    if (fflush(fp) != 0 || ftruncate(fileno(fp), keep) != 0 || fseeko(fp, keep, SEEK_SET) != 0) {
        fclose(fp);
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot cut the torn last row");
    }
    *fpo = fp;
    return RESIM_OK;
}

double sweep_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sweep_progress_show(sweep_progress *pr, size_t done, int final)
{
    if (!pr->on)
        return;
    double t = sweep_now();
    if (!final && t - pr->last < 0.2)
        return;
    pr->last = t;
    double rate = t > pr->t0 ? (double)(done - pr->start) / (t - pr->t0) : 0;
    double eta = rate > 0 ? (double)(pr->total - done) / rate : 0;
    fprintf(stderr, "\rsweep: %zu/%zu points, %.1f points/s, ETA %.0f s   ", done, pr->total,
            rate, eta);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

int sweep_write_sidecar(const char *csv, const plan *p, const sweep_args *a,
                         const resim_scenario *sc, int argc, char **argv, resim_error *err)
{
    resim_out o;
    int rc = resim_sidecar_open(&o, csv, "sweep", sc, argc, argv, err);
    if (rc != RESIM_OK)
        return rc;
    FILE *fp = o.fp;
    fputs("  \"design\": {\"method\": ", fp);
    if (p->design != NULL) {
        resim_json_string(fp, resim_design_kind_name(resim_design_kind_of(p->design)));
    } else {
        fputs("\"file\", \"file\": ", fp);
        resim_json_string(fp, p->table.path);
    }
    fprintf(fp, ", \"points\": %zu", p->total);
    if (p->design != NULL && resim_design_kind_of(p->design) == RESIM_DESIGN_LHS)
        fprintf(fp, ", \"seed\": %lu", a->seed);
    fputs(", \"keys\": [", fp);
    for (size_t k = 0; k < p->dims; k++) {
        fputs(k ? ",\n    {\"key\": " : "\n    {\"key\": ", fp);
        resim_json_string(fp, p->keys[k].name);
        fputs(", \"lo\": ", fp);
        char buf[40];
        resim_format_short(buf, sizeof buf, p->keys[k].lo);
        fputs(buf, fp);
        resim_format_short(buf, sizeof buf, p->keys[k].hi);
        fprintf(fp, ", \"hi\": %s", buf);
        if (p->design != NULL && resim_design_kind_of(p->design) == RESIM_DESIGN_GRID)
            fprintf(fp, ", \"levels\": %zu", p->keys[k].levels);
        fputc('}', fp);
    }
    fprintf(fp, "]},\n  \"total_points\": %zu,\n  \"shard\": {\"k\": %zu, \"n\": %zu, "
                "\"from\": \"%s\", \"points\": %zu},\n",
            p->total, p->shard_k, p->shard_n, p->shard_from, p->n_local);
    fprintf(fp, "  \"threshold\": %.15g,\n  \"replicates\": %zu,\n", p->threshold,
            p->replicates);
    if (p->replicates > 0) {
        fprintf(fp, "  \"seed\": %lu,\n  \"generator\": ", p->seed);
        resim_json_string(fp, resim_rng_name);
        fputs(",\n  \"streams\": \"replicate r uses the same streams at every point\",\n"
              "  \"quantile_method\": \"linear interpolation between order statistics "
              "(Hyndman-Fan type 7); month measures over the replicates where the event "
              "happened\",\n  \"quantiles\": [",
              fp);
        for (size_t q = 0; q < p->n_quantiles; q++)
            fprintf(fp, "%s%.15g", q ? ", " : "", p->quantiles[q]);
        fputs("],\n", fp);
    }
    fprintf(fp, "  \"threads\": %zu,\n"
                "  \"mpi_ranks\": %d,\n  \"groups\": [\"all\", \"none\", \"watch\", \"control\"],\n"
                "  \"measures\": [",
            a->threads, p->ranks);
    for (size_t m = 0; m < SWEEP_NMEASURES; m++)
        fprintf(fp, "%s\"%s\"", m ? ", " : "", sweep_measure_names[m]);
    fputs("]\n}\n", fp);
    rc = resim_out_commit(&o, err);
    resim_out_abort(&o);
    return rc;
}

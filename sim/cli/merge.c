/*
 * merge.c - `resim merge SHARD... -o FILE`: joins the outputs of sweep
 * shards into one file in point order, byte for byte as one process would
 * have written it.
 *
 * The shards are read side by side, one row of each at a time (each shard
 * is in point order), so memory does not grow with the number of points.
 * Every point from 0 on must come from exactly one shard; when the shards'
 * sidecars (SHARD.json) give the design's total, points missing at the end
 * are found too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli.h"
#include "resim/csvout.h"
#include "resim/sidecar.h"

typedef struct shard {
    const char *path;
    FILE *fp;
    char *line;
    size_t cap;
    ssize_t len;   /* of line; 0 at the end */
    long lineno;
    size_t point;  /* of the current row */
} shard;

/* Reads the shard's next row; returns RESIM_OK (len 0 at the end) or an error. */
static int next_row(shard *s, resim_error *err)
{
    size_t prev = s->point;
    int had = s->lineno > 1;
    s->len = getline(&s->line, &s->cap, s->fp);
    if (s->len <= 0) {
        s->len = 0;
        if (ferror(s->fp))
            return resim_error_set(err, RESIM_EIO, s->path, 0, "read error");
        return RESIM_OK;
    }
    s->lineno++;
    if (s->line[s->len - 1] != '\n')
        return resim_error_set(err, RESIM_EPARSE, s->path, s->lineno,
                               "incomplete last row (an interrupted sweep? resume it first)");
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s->line, &end, 10);
    if (end == s->line || *end != ',' || errno != 0 || s->line[0] == '-')
        return resim_error_set(err, RESIM_EPARSE, s->path, s->lineno,
                               "row does not start with a point number");
    s->point = (size_t)v;
    if (had && s->point <= prev)
        return resim_error_set(err, RESIM_EPARSE, s->path, s->lineno,
                               "point %zu comes after point %zu: rows out of point order",
                               s->point, prev);
    return RESIM_OK;
}

/* The design's total number of points from a shard's sidecar, if any. */
static int sidecar_total(const char *csv, size_t *total)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.json", csv);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    int found = 0;
    while (!found && getline(&line, &cap, fp) > 0) {
        const char *at = strstr(line, "\"total_points\": ");
        if (at != NULL && sscanf(at + 16, "%zu", total) == 1)
            found = 1;
    }
    free(line);
    fclose(fp);
    return found;
}

static int write_sidecar(const char *out, shard *sh, size_t n, size_t total, resim_error *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.json", out);
    resim_out o;
    int rc = resim_out_open(&o, path, err);
    if (rc != RESIM_OK)
        return rc;
    fputs("{\n  \"kind\": \"sweep-merge\",\n  \"resim_version\": ", o.fp);
    resim_json_string(o.fp, RESIM_VERSION);
    fputs(",\n  \"shards\": [", o.fp);
    for (size_t k = 0; k < n; k++) {
        char hex[65];
        if ((rc = resim_sha256_file(sh[k].path, hex, err)) != RESIM_OK)
            break;
        fputs(k ? ",\n    {\"path\": " : "\n    {\"path\": ", o.fp);
        resim_json_string(o.fp, sh[k].path);
        fprintf(o.fp, ", \"sha256\": \"%s\"}", hex);
    }
    if (rc == RESIM_OK) {
        fprintf(o.fp, "\n  ],\n  \"total_points\": %zu\n}\n", total);
        rc = resim_out_commit(&o, err);
    }
    resim_out_abort(&o);
    return rc;
}

int cli_merge(int argc, char **argv)
{
    const char *out = NULL;
    shard *sh = calloc((size_t)argc, sizeof *sh);
    size_t n = 0;
    if (sh == NULL)
        return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs("usage: resim merge SHARD... -o FILE\n"
                  "Joins sweep shard files into point order; refuses overlapping or missing\n"
                  "points and shards whose headers differ.\n",
                  stdout);
            free(sh);
            return 0;
        }
        if ((r = cli_opt(argc, argv, &i, "--output", &v)) != 0 ||
            (r = cli_opt(argc, argv, &i, "-o", &v)) != 0) {
            if (r < 0) {
                free(sh);
                return EXIT_USAGE;
            }
            out = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "resim: unknown option '%s' (usage: resim merge SHARD... -o FILE)\n",
                    argv[i]);
            free(sh);
            return EXIT_USAGE;
        } else {
            sh[n++].path = argv[i];
        }
    }
    if (n == 0 || out == NULL) {
        free(sh);
        fprintf(stderr, "resim: %s (usage: resim merge SHARD... -o FILE)\n",
                n == 0 ? "merge needs shard files" : "merge needs -o FILE");
        return EXIT_USAGE;
    }
    resim_error err = {0};
    resim_out o = {0};
    int rc = RESIM_OK;
    size_t total = 0, known = 0;
    const char *total_from = NULL;
    /* Open every shard and check the headers agree. */
    for (size_t k = 0; k < n && rc == RESIM_OK; k++) {
        shard *s = &sh[k];
        if ((s->fp = fopen(s->path, "r")) == NULL) {
            rc = resim_error_set(&err, RESIM_EIO, s->path, 0, "cannot open shard");
            break;
        }
        s->len = getline(&s->line, &s->cap, s->fp);
        if (s->len <= 0 || s->line[s->len - 1] != '\n') {
            rc = resim_error_set(&err, RESIM_EPARSE, s->path, 1, "no header row");
            break;
        }
        s->lineno = 1;
        if (k > 0 && (s->len != sh[0].len || memcmp(s->line, sh[0].line, (size_t)s->len) != 0)) {
            rc = resim_error_set(&err, RESIM_EINVAL, s->path, 1,
                                 "header differs from %s's: not shards of one sweep", sh[0].path);
            break;
        }
        size_t t;
        if (sidecar_total(s->path, &t)) {
            if (known && t != total)
                rc = resim_error_set(&err, RESIM_EINVAL, s->path, 0,
                                     "its sidecar says %zu points, %s's says %zu", t, total_from,
                                     total);
            total = t;
            total_from = s->path;
            known = 1;
        }
    }
    if (rc == RESIM_OK)
        rc = resim_out_open(&o, out, &err);
    if (rc == RESIM_OK && fwrite(sh[0].line, 1, (size_t)sh[0].len, o.fp) != (size_t)sh[0].len)
        rc = resim_error_set(&err, RESIM_EIO, out, 0, "write error");
    for (size_t k = 0; k < n && rc == RESIM_OK; k++)
        rc = next_row(&sh[k], &err);
    size_t expect = 0;
    while (rc == RESIM_OK) {
        /* The shard holding the lowest point comes next. */
        shard *best = NULL;
        for (size_t k = 0; k < n; k++) {
            shard *s = &sh[k];
            if (s->len == 0)
                continue;
            if (best != NULL && s->point == best->point) {
                rc = resim_error_set(&err, RESIM_EINVAL, s->path, s->lineno,
                                     "point %zu is also in %s (line %ld): overlapping shards",
                                     s->point, best->path, best->lineno);
                break;
            }
            if (best == NULL || s->point < best->point)
                best = s;
        }
        if (rc != RESIM_OK || best == NULL)
            break;
        if (best->point != expect) {
            rc = resim_error_set(&err, RESIM_EINVAL, best->path, best->lineno,
                                 "point %zu is missing (no shard has it; next is point %zu)",
                                 expect, best->point);
            break;
        }
        if (fwrite(best->line, 1, (size_t)best->len, o.fp) != (size_t)best->len)
            rc = resim_error_set(&err, RESIM_EIO, out, 0, "write error");
        expect++;
        if (rc == RESIM_OK)
            rc = next_row(best, &err);
    }
    if (rc == RESIM_OK && known && expect != total)
        rc = expect < total ? resim_error_set(&err, RESIM_EINVAL, total_from, 0,
                                              "points %zu to %zu are missing (the design has %zu; "
                                              "a shard not given?)",
                                              expect, total - 1, total)
                            : resim_error_set(&err, RESIM_EINVAL, total_from, 0,
                                              "the shards hold %zu points, the design %zu", expect,
                                              total);
    if (rc == RESIM_OK)
        rc = resim_out_commit(&o, &err);
    if (rc == RESIM_OK && strcmp(out, "-") != 0)
        rc = write_sidecar(out, sh, n, expect, &err);
    resim_out_abort(&o);
    for (size_t k = 0; k < n; k++) {
        if (sh[k].fp != NULL)
            fclose(sh[k].fp);
        free(sh[k].line);
    }
    free(sh);
    return rc == RESIM_OK ? 0 : cli_fail(&err);
}

/*
 * merge.c - `resim merge SHARD... -o FILE`: joins the outputs of sweep
 * shards into one file in point order, byte for byte as one process would
 * have written it.
 *
 * Each shard is in point order, so the shards are merged as sorted streams,
 * one row of each in memory. At most MERGE_FAN_IN files are read at once:
 * with more shards, groups of them are first merged into scratch files
 * beside the output, or in TMPDIR (each row tagged with the shard and line it came from,
 * so that errors still name them), and those are merged in turn. Every
 * point from 0 on must come from exactly one shard; when the shards'
 * sidecars (SHARD.json) give the design's total, points missing at the end
 * are found too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli.h"
#include "resim/csvout.h"
#include "resim/sidecar.h"

/* Files read at once; with the output, a scratch file and stdio this stays
 * far below the usual limit of 1024 open files (and below 64). */
#define MERGE_FAN_IN 32

/* A sorted stream of rows: a shard, or a scratch file of tagged rows. */
typedef struct stream {
    FILE *fp;
    const char *path; /* for read errors */
    int tagged;       /* rows are "SHARD,LINE,row" */
    char *line;
    size_t cap;
    ssize_t len;      /* of line; 0 at the end */
    long lineno;      /* of the stream */
    const char *row;  /* the shard's row within line */
    size_t row_len;
    size_t point;     /* of the current row */
    size_t origin;    /* shard index of the current row */
    long origin_line; /* its line in that shard */
} stream;

typedef struct merge {
    const char **shard; /* [n] paths */
    size_t n;
    size_t fields;      /* of the header */
    const char *out;
    char **scratch;     /* names of scratch files alive */
    size_t n_scratch;
} merge;

/* Fields in one CSV line (quoted fields may hold commas). */
static size_t count_fields(const char *s, size_t n)
{
    size_t fields = 1;
    int quoted = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (s[i] == ',' && !quoted)
            fields++;
    }
    return fields;
}

static int parse_size(const char *s, const char **end, size_t *v)
{
    char *e;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long x = strtoull(s, &e, 10);
    if (errno != 0 || *e != ',')
        return -1;
    *v = (size_t)x;
    *end = e + 1;
    return 0;
}

/* Reads the stream's next row; returns RESIM_OK (len 0 at the end) or an error. */
static int next_row(const merge *m, stream *s, size_t index, resim_error *err)
{
    size_t prev = s->point;
    int had = s->len > 0 && s->lineno > (s->tagged ? 0 : 1);
    s->len = getline(&s->line, &s->cap, s->fp);
    if (s->len <= 0) {
        s->len = 0;
        if (ferror(s->fp))
            return resim_error_set(err, RESIM_EIO, s->path, 0, "read error");
        return RESIM_OK;
    }
    s->lineno++;
    if (s->tagged) {
        /* Written by this program: "SHARD,LINE,row\n". */
        const char *p = s->line;
        size_t origin, line;
        if (parse_size(p, &p, &origin) != 0 || parse_size(p, &p, &line) != 0 || origin >= m->n)
            return resim_error_set(err, RESIM_EIO, s->path, s->lineno, "scratch file damaged");
        s->origin = origin;
        s->origin_line = (long)line;
        s->row = p;
        s->row_len = (size_t)s->len - (size_t)(p - s->line);
        const char *q;
        if (parse_size(s->row, &q, &s->point) != 0)
            return resim_error_set(err, RESIM_EIO, s->path, s->lineno, "scratch file damaged");
        return RESIM_OK;
    }
    s->origin = index;
    s->origin_line = s->lineno;
    s->row = s->line;
    s->row_len = (size_t)s->len;
    if (s->line[s->len - 1] != '\n')
        return resim_error_set(err, RESIM_EPARSE, s->path, s->lineno,
                               "incomplete last row (an interrupted sweep? resume it first)");
    const char *end;
    if (parse_size(s->line, &end, &s->point) != 0)
        return resim_error_set(err, RESIM_EPARSE, s->path, s->lineno,
                               "row does not start with a point number");
    size_t f = count_fields(s->line, (size_t)s->len - 1);
    if (f != m->fields)
        return resim_error_set(err, RESIM_EPARSE, s->path, s->lineno,
                               "row has %zu fields, the header has %zu", f, m->fields);
    if (had && s->point <= prev)
        return resim_error_set(err, RESIM_EPARSE, s->path, s->lineno,
                               "point %zu comes after point %zu: rows out of point order",
                               s->point, prev);
    return RESIM_OK;
}

/* Opens a shard and reads past its header (already checked). */
static int open_shard(const merge *m, stream *s, size_t k, resim_error *err)
{
    memset(s, 0, sizeof *s);
    s->path = m->shard[k];
    if ((s->fp = fopen(s->path, "r")) == NULL)
        return resim_error_set(err, RESIM_EIO, s->path, 0, "cannot open shard: %s",
                               strerror(errno));
    s->len = getline(&s->line, &s->cap, s->fp);
    s->lineno = 1;
    s->len = 0;
    return next_row(m, s, k, err);
}

static int open_scratch(const merge *m, stream *s, const char *name, resim_error *err)
{
    memset(s, 0, sizeof *s);
    s->path = name;
    s->tagged = 1;
    if ((s->fp = fopen(name, "r")) == NULL)
        return resim_error_set(err, RESIM_EIO, name, 0, "cannot open scratch file: %s",
                               strerror(errno));
    return next_row(m, s, 0, err);
}

static void close_stream(stream *s)
{
    if (s->fp != NULL)
        fclose(s->fp);
    free(s->line);
    s->fp = NULL;
    s->line = NULL;
}

/*
 * Merges the streams into out: tagged rows into a scratch file, or the
 * final file (final: every point from 0 in turn). Returns the count of rows
 * in *rows.
 */
static int merge_streams(const merge *m, stream *s, size_t n, FILE *out, int final, size_t *rows,
                         resim_error *err)
{
    size_t expect = 0;
    int rc = RESIM_OK;
    while (rc == RESIM_OK) {
        /* The stream holding the lowest point comes next. */
        stream *best = NULL;
        for (size_t k = 0; k < n; k++) {
            stream *x = &s[k];
            if (x->len == 0)
                continue;
            if (best != NULL && x->point == best->point) {
                const stream *a = x->origin < best->origin ? x : best;
                const stream *b = a == x ? best : x;
                return resim_error_set(err, RESIM_EINVAL, m->shard[b->origin], b->origin_line,
                                       "point %zu is also in %s (line %ld): overlapping shards",
                                       b->point, m->shard[a->origin], a->origin_line);
            }
            if (best == NULL || x->point < best->point)
                best = x;
        }
        if (best == NULL)
            break;
        if (final && best->point != expect)
            return resim_error_set(err, RESIM_EINVAL, m->shard[best->origin], best->origin_line,
                                   "point %zu is missing (no shard has it; next is point %zu)",
                                   expect, best->point);
        int bad = 0;
        if (!final)
            bad = fprintf(out, "%zu,%ld,", best->origin, best->origin_line) < 0;
        bad |= fwrite(best->row, 1, best->row_len, out) != best->row_len;
        if (bad)
            return resim_error_set(err, RESIM_EIO, final ? m->out : best->path, 0,
                                   "write error: %s", strerror(errno));
        expect++;
        rc = next_row(m, best, best->origin, err);
    }
    *rows = expect;
    return rc;
}

/* Where scratch files go: beside the output, or in TMPDIR for stdout or a device. */
static const char *scratch_base(const merge *m, char *buf, size_t size)
{
    if (!resim_out_is_direct(m->out))
        return m->out;
    const char *dir = getenv("TMPDIR");
    snprintf(buf, size, "%s/resim-merge", dir != NULL && *dir ? dir : "/tmp");
    return buf;
}

static void drop_scratch(merge *m)
{
    for (size_t k = 0; k < m->n_scratch; k++) {
        resim_temp_remove(m->scratch[k]);
        free(m->scratch[k]);
    }
    m->n_scratch = 0;
}

/*
 * Merges the sources [first, first+count) of a level (shards when names is
 * NULL, else scratch files) into a new scratch file, appended to m->scratch.
 */
static int merge_group(merge *m, char **names, size_t first, size_t count, resim_error *err)
{
    stream s[MERGE_FAN_IN];
    size_t opened = 0, rows;
    int rc = RESIM_OK;
    char base[1100], *name = malloc(1200);
    if (name == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    int fd = resim_temp_create(scratch_base(m, base, sizeof base), "merge", name, 1200);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL) {
        rc = resim_error_set(err, RESIM_EIO, m->out, 0, "cannot create a scratch file: %s",
                             strerror(errno));
        if (fd >= 0)
            close(fd);
        if (name[0] != '\0' && fd >= 0)
            resim_temp_remove(name);
        free(name);
        return rc;
    }
    m->scratch[m->n_scratch++] = name;
    for (size_t k = 0; k < count && rc == RESIM_OK; k++, opened++)
        rc = names == NULL ? open_shard(m, &s[k], first + k, err)
                           : open_scratch(m, &s[k], names[first + k], err);
    if (rc == RESIM_OK)
        rc = merge_streams(m, s, opened, out, 0, &rows, err);
    for (size_t k = 0; k < opened; k++)
        close_stream(&s[k]);
    if ((fflush(out) != 0 || ferror(out)) && rc == RESIM_OK)
        rc = resim_error_set(err, RESIM_EIO, name, 0, "write error: %s", strerror(errno));
    if (fclose(out) != 0 && rc == RESIM_OK)
        rc = resim_error_set(err, RESIM_EIO, name, 0, "write error: %s", strerror(errno));
    return rc;
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

static int write_sidecar(const char *out, const merge *m, size_t total, resim_error *err)
{
    resim_out o;
    int rc = resim_sidecar_begin(&o, out, err);
    if (rc != RESIM_OK)
        return rc;
    fputs("{\n  \"kind\": \"sweep-merge\",\n  \"resim_version\": ", o.fp);
    resim_json_string(o.fp, RESIM_VERSION);
    fputs(",\n  \"shards\": [", o.fp);
    for (size_t k = 0; k < m->n; k++) {
        char hex[65];
        if ((rc = resim_sha256_file(m->shard[k], hex, err)) != RESIM_OK)
            break;
        fputs(k ? ",\n    {\"path\": " : "\n    {\"path\": ", o.fp);
        resim_json_string(o.fp, m->shard[k]);
        fprintf(o.fp, ", \"sha256\": \"%s\"}", hex);
    }
    if (rc == RESIM_OK) {
        fprintf(o.fp, "\n  ],\n  \"total_points\": %zu\n}\n", total);
        rc = resim_out_commit(&o, err);
    }
    resim_out_abort(&o);
    return rc;
}

/* Checks every shard's header against the first, one file open at a time. */
static int check_headers(merge *m, char **header, size_t *total, int *known, resim_error *err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t first_len = 0;
    const char *total_from = NULL;
    int rc = RESIM_OK;
    *known = 0;
    for (size_t k = 0; k < m->n && rc == RESIM_OK; k++) {
        const char *path = m->shard[k];
        FILE *fp = fopen(path, "r");
        if (fp == NULL) {
            rc = resim_error_set(err, RESIM_EIO, path, 0, "cannot open shard: %s",
                                 strerror(errno));
            break;
        }
        ssize_t len = getline(&line, &cap, fp);
        int read_error = ferror(fp);
        fclose(fp);
        if (read_error) {
            rc = resim_error_set(err, RESIM_EIO, path, 0, "read error");
            break;
        }
        if (len <= 0 || line[len - 1] != '\n') {
            rc = resim_error_set(err, RESIM_EPARSE, path, 1, "no header row");
            break;
        }
        if (k == 0) {
            if ((*header = malloc((size_t)len + 1)) == NULL) {
                rc = resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
                break;
            }
            memcpy(*header, line, (size_t)len);
            (*header)[len] = '\0';
            first_len = len;
            m->fields = count_fields(line, (size_t)len - 1);
        } else if (len != first_len || memcmp(line, *header, (size_t)len) != 0) {
            rc = resim_error_set(err, RESIM_EINVAL, path, 1,
                                 "header differs from %s's: not shards of one sweep", m->shard[0]);
            break;
        }
        size_t t;
        if (sidecar_total(path, &t)) {
            if (*known && t != *total)
                rc = resim_error_set(err, RESIM_EINVAL, path, 0,
                                     "its sidecar says %zu points, %s's says %zu", t, total_from,
                                     *total);
            *total = t;
            total_from = path;
            *known = 1;
        }
    }
    free(line);
    if (rc == RESIM_OK)
        rc = (int)first_len > 0 ? RESIM_OK : RESIM_EPARSE;
    return rc;
}

static int run_merge(merge *m, resim_error *err)
{
    char *header = NULL;
    size_t total = 0, rows = 0;
    int known = 0;
    resim_out o = {0};
    stream s[MERGE_FAN_IN];
    size_t opened = 0;
    int rc = check_headers(m, &header, &total, &known, err);
    /* Each level merges groups of MERGE_FAN_IN sources into scratch files. */
    char **level = NULL;
    size_t n_level = m->n;
    int from_shards = 1;
    if (rc == RESIM_OK && (m->scratch = calloc(m->n / 2 + 2, sizeof *m->scratch)) == NULL)
        rc = resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    while (rc == RESIM_OK && n_level > MERGE_FAN_IN) {
        size_t before = m->n_scratch;
        for (size_t g = 0; g < n_level && rc == RESIM_OK; g += MERGE_FAN_IN)
            rc = merge_group(m, from_shards ? NULL : level, g,
                             n_level - g < MERGE_FAN_IN ? n_level - g : MERGE_FAN_IN, err);
        if (rc != RESIM_OK)
            break;
        /* The sources of this level are done with. */
        if (!from_shards)
            for (size_t k = 0; k < n_level; k++)
                resim_temp_remove(level[k]);
        level = m->scratch + before;
        n_level = m->n_scratch - before;
        from_shards = 0;
    }
    if (rc == RESIM_OK)
        rc = resim_out_open(&o, m->out, err);
    if (rc == RESIM_OK && fputs(header, o.fp) == EOF)
        rc = resim_error_set(err, RESIM_EIO, m->out, 0, "write error: %s", strerror(errno));
    for (size_t k = 0; k < n_level && rc == RESIM_OK; k++, opened++)
        rc = from_shards ? open_shard(m, &s[k], k, err) : open_scratch(m, &s[k], level[k], err);
    if (rc == RESIM_OK)
        rc = merge_streams(m, s, opened, o.fp, 1, &rows, err);
    for (size_t k = 0; k < opened; k++)
        close_stream(&s[k]);
    if (rc == RESIM_OK && known && rows != total)
        rc = rows < total ? resim_error_set(err, RESIM_EINVAL, m->shard[0], 0,
                                            "points %zu to %zu are missing (the design has %zu; "
                                            "a shard not given?)",
                                            rows, total - 1, total)
                          : resim_error_set(err, RESIM_EINVAL, m->shard[0], 0,
                                            "the shards hold %zu points, the design %zu", rows,
                                            total);
    drop_scratch(m);
    /* The merged file and its sidecar are renamed into place together. */
    if (rc == RESIM_OK)
        rc = strcmp(m->out, "-") != 0 ? resim_out_prepare(&o, err) : resim_out_commit(&o, err);
    if (rc == RESIM_OK && strcmp(m->out, "-") != 0)
        rc = write_sidecar(m->out, m, rows, err);
    resim_out_abort(&o);
    free(m->scratch);
    free(header);
    return rc;
}

int cli_merge(int argc, char **argv)
{
    merge m = {0};
    m.shard = calloc((size_t)argc, sizeof *m.shard);
    if (m.shard == NULL)
        return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs("usage: resim merge SHARD... -o FILE\n"
                  "Joins sweep shard files into point order; refuses overlapping or missing\n"
                  "points, rows with the wrong number of fields and shards whose headers\n"
                  "differ. Any number of shards: at most 32 are read at once.\n",
                  stdout);
            free(m.shard);
            return fflush(stdout) != 0 || ferror(stdout) ? EXIT_INPUT : 0;
        }
        if ((r = cli_opt(argc, argv, &i, "--output", &v)) != 0 ||
            (r = cli_opt(argc, argv, &i, "-o", &v)) != 0) {
            if (r < 0) {
                free(m.shard);
                return EXIT_USAGE;
            }
            m.out = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "resim: unknown option '%s' (usage: resim merge SHARD... -o FILE)\n",
                    argv[i]);
            free(m.shard);
            return EXIT_USAGE;
        } else {
            m.shard[m.n++] = argv[i];
        }
    }
    if (m.n == 0 || m.out == NULL) {
        free(m.shard);
        fprintf(stderr, "resim: %s (usage: resim merge SHARD... -o FILE)\n",
                m.n == 0 ? "merge needs shard files" : "merge needs -o FILE");
        return EXIT_USAGE;
    }
    resim_error err = {0};
    int rc = run_merge(&m, &err);
    free(m.shard);
    return rc == RESIM_OK ? 0 : cli_fail(&err);
}

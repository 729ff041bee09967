/* csvread.c - CSV input through libcsv, one line fed at a time. */
#include "resim/csvread.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct stream {
    const char *path;
    resim_csv_row_fn fn;
    void *ctx;
    resim_error *err;
    int status;
    long line;       /* line being fed */
    long start_line; /* line fed while no row was begun: where the next row starts */
    long row_line;   /* line the current row started on */
    char **field;
    size_t n, cap;
} stream;

static void on_field(void *s, size_t len, void *data)
{
    stream *st = data;
    if (st->status != RESIM_OK)
        return;
    if (st->n == 0)
        st->row_line = st->start_line;
    if (st->n == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 16;
        char **f = realloc(st->field, cap * sizeof *f);
        if (f == NULL) {
            st->status = resim_error_set(st->err, RESIM_ENOMEM, st->path, st->line, "out of memory");
            return;
        }
        st->field = f;
        st->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        st->status = resim_error_set(st->err, RESIM_ENOMEM, st->path, st->line, "out of memory");
        return;
    }
    if (len > 0)
        memcpy(copy, s, len);
    copy[len] = '\0';
    st->field[st->n++] = copy;
}

static void clear_fields(stream *st)
{
    for (size_t i = 0; i < st->n; i++)
        free(st->field[i]);
    st->n = 0;
}

static void on_row(int c, void *data)
{
    (void)c;
    stream *st = data;
    if (st->status == RESIM_OK)
        st->status = st->fn(st->ctx, st->field, st->n, st->row_line, st->err);
    clear_fields(st);
}

int resim_csv_stream(const char *path, resim_csv_row_fn fn, void *ctx, resim_error *err)
{
    return resim_csv_stream_hash(path, fn, ctx, NULL, err);
}

int resim_csv_stream_hash(const char *path, resim_csv_row_fn fn, void *ctx, char sha256[65],
                          resim_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot open file");
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        fclose(fp);
        return resim_error_set(err, RESIM_ENOMEM, path, 0, "out of memory");
    }
    stream st = {.path = path, .fn = fn, .ctx = ctx, .err = err, .status = RESIM_OK};
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    struct sha256_ctx hash;
    sha256_init(&hash);
    while (st.status == RESIM_OK && (len = getline(&buf, &cap, fp)) > 0) {
        st.line++;
        sha256_update(&hash, (size_t)len, (const uint8_t *)buf);
        char *text = buf;
        if (memchr(buf, '\0', (size_t)len) != NULL) {
            st.status = resim_error_set(err, RESIM_EPARSE, path, st.line,
                                        "NUL byte in the line (not a text file?)");
            break;
        }
        /* A UTF-8 byte-order mark (spreadsheets write one) is not part of the first name. */
        if (st.line == 1 && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
            text += 3;
            len -= 3;
        }
        /* libcsv's state 0 is "no row begun": a row starting here starts on this
         * line, even if its first field is quoted and spans several lines. */
        if (p.pstate == 0)
            st.start_line = st.line;
        if (csv_parse(&p, text, (size_t)len, on_field, on_row, &st) != (size_t)len &&
            st.status == RESIM_OK)
            st.status = resim_error_set(err, RESIM_EPARSE, path, st.line, "malformed CSV: %s",
                                        csv_strerror(csv_error(&p)));
    }
    if (st.status == RESIM_OK && ferror(fp))
        st.status = resim_error_set(err, RESIM_EIO, path, 0, "read error");
    if (st.status == RESIM_OK && csv_fini(&p, on_field, on_row, &st) != 0 && st.status == RESIM_OK)
        st.status = resim_error_set(err, RESIM_EPARSE, path, st.line,
                                    "malformed CSV: unterminated quoted field");
    if (st.status == RESIM_OK && sha256 != NULL) {
        uint8_t digest[SHA256_DIGEST_SIZE];
        sha256_digest(&hash, sizeof digest, digest);
        for (size_t i = 0; i < sizeof digest; i++)
            snprintf(sha256 + 2 * i, 3, "%02x", digest[i]);
    }
    clear_fields(&st);
    free(st.field);
    free(buf);
    csv_free(&p);
    fclose(fp);
    return st.status;
}

typedef struct loader {
    resim_table *t;
    size_t cap;
} loader;

static int load_row(void *ctx, char **field, size_t n, long line, resim_error *err)
{
    loader *ld = ctx;
    resim_table *t = ld->t;
    if (t->header == NULL) {
        if ((t->header = calloc(n, sizeof *t->header)) == NULL)
            return resim_error_set(err, RESIM_ENOMEM, t->path, line, "out of memory");
        t->ncol = n;
        for (size_t j = 0; j < n; j++) {
            t->header[j] = field[j];
            field[j] = NULL;
            for (size_t k = 0; k < j; k++)
                if (strcmp(t->header[k], t->header[j]) == 0)
                    return resim_error_set(err, RESIM_EPARSE, t->path, line,
                                           "column '%s' appears twice in the header", t->header[j]);
        }
        return RESIM_OK;
    }
    if (n != t->ncol)
        return resim_error_set(err, RESIM_EPARSE, t->path, line,
                               "row has %zu fields, the header has %zu", n, t->ncol);
    if (t->nrow == ld->cap) {
        size_t cap = ld->cap ? 2 * ld->cap : 64;
        char **c = realloc(t->cell, cap * t->ncol * sizeof *c);
        if (c == NULL)
            return resim_error_set(err, RESIM_ENOMEM, t->path, line, "out of memory");
        t->cell = c;
        long *l = realloc(t->line, cap * sizeof *l);
        if (l == NULL)
            return resim_error_set(err, RESIM_ENOMEM, t->path, line, "out of memory");
        t->line = l;
        ld->cap = cap;
    }
    for (size_t j = 0; j < n; j++) {
        t->cell[t->nrow * t->ncol + j] = field[j];
        field[j] = NULL;
    }
    t->line[t->nrow++] = line;
    return RESIM_OK;
}

int resim_table_read(resim_table *t, const char *path, resim_error *err)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    loader ld = {.t = t};
    int rc = resim_csv_stream_hash(path, load_row, &ld, t->sha256, err);
    if (rc == RESIM_OK && t->header == NULL)
        rc = resim_error_set(err, RESIM_EPARSE, path, 0, "empty file: expected a header row");
    if (rc != RESIM_OK)
        resim_table_free(t);
    return rc;
}

void resim_table_free(resim_table *t)
{
    if (t == NULL)
        return;
    for (size_t j = 0; j < t->ncol && t->header != NULL; j++)
        free(t->header[j]);
    for (size_t i = 0; i < t->nrow * t->ncol; i++)
        free(t->cell[i]);
    free(t->header);
    free(t->cell);
    free(t->line);
    t->header = t->cell = NULL;
    t->line = NULL;
    t->ncol = t->nrow = 0;
}

int resim_table_col(const resim_table *t, const char *name)
{
    for (size_t j = 0; j < t->ncol; j++)
        if (strcmp(t->header[j], name) == 0)
            return (int)j;
    return -1;
}

int resim_table_need(const resim_table *t, const char *name, int *col, resim_error *err)
{
    *col = resim_table_col(t, name);
    if (*col < 0)
        return resim_error_set(err, RESIM_EPARSE, t->path, 1, "missing column '%s'", name);
    return RESIM_OK;
}

int resim_table_number(const resim_table *t, size_t row, const char *col, double lo, double hi,
                       double *out, resim_error *err)
{
    int j;
    int rc = resim_table_need(t, col, &j, err);
    if (rc != RESIM_OK)
        return rc;
    const char *s = resim_table_at(t, row, (size_t)j);
    if (resim_parse_double(s, out) != 0)
        return resim_error_set(err, RESIM_EPARSE, t->path, t->line[row], "%s: '%s' is not a number",
                               col, s);
    if (*out < lo || *out > hi)
        return resim_error_set(err, RESIM_EINVAL, t->path, t->line[row],
                               "%s: %s is outside [%g, %g]", col, s, lo, hi);
    return RESIM_OK;
}

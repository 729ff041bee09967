/*
 * analyze.c - `resim analyze SWEEP.csv --method sobol|morris|prim`: Sobol
 * indices, Morris effects or a PRIM box from the rows of a sweep, written as
 * a plain CSV (docs/analyze.md is its data dictionary) with a JSON sidecar.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "resim/csvout.h"
#include "resim/csvread.h"
#include "resim/design.h"
#include "resim/prim.h"
#include "resim/rng.h"
#include "resim/sensitivity.h"
#include "resim/sidecar.h"

int cli_analyze(int argc, char **argv);

static const char analyze_help[] =
    "usage: resim analyze SWEEP.csv --method sobol|morris|prim [options] -o FILE.csv\n"
    "\n"
    "Reads the rows of a sweep and writes sensitivity indices or a PRIM box.\n"
    "\n"
    "  --method sobol            first-order (S1, Saltelli 2010) and total (ST,\n"
    "                            Jansen 1999) Sobol indices; needs a Saltelli sweep\n"
    "                            (a 'matrix' column: A, B, AB1..ABk [, BA1..BAk])\n"
    "  --method morris           Morris mu, mu* and sigma; needs a Morris sweep\n"
    "                            ('trajectory' and 'step' columns)\n"
    "  --method prim             PRIM box for --condition over the varied keys\n"
    "                            (any sweep)\n"
    "  --measure NAME            a measure column, or a series NAME@YYYY-MM analysed\n"
    "                            month by month (repeatable; default: every measure)\n"
    "  --bootstrap B             resamples for the intervals (default 1000; 0: none)\n"
    "  --confidence C            interval level (default 0.95)\n"
    "  --seed S                  bootstrap seed (default 1)\n"
    "  --second-order            also S2 (needs the BA matrices)\n"
    "  --levels P                levels of the Morris design (default 4): effects\n"
    "                            are per step of P / (2 (P - 1)) of a key's range\n"
    "  --condition 'NAME OP X'   PRIM: points of interest, OP one of < <= > >=\n"
    "                            (an empty cell never meets it)\n"
    "  --density D               PRIM: choose the first box this dense (default 0.8)\n"
    "  --alpha A                 PRIM: peeling fraction (default 0.05)\n"
    "  --paste-alpha A           PRIM: pasting fraction (default 0.05; 0: none)\n"
    "  --min-mass M              PRIM: smallest box, as a fraction of points\n"
    "                            (default 0.05)\n"
    "  -o, --output FILE         the CSV (via a temporary file) and FILE.json;\n"
    "                            default stdout\n"
    "\n"
    "Columns read and written: docs/analyze.md. Exit codes: 0 success, 1 bad\n"
    "input, 2 bad command line.\n";

static int usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_usagev("see 'resim analyze --help'", fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

typedef enum { METHOD_SOBOL, METHOD_MORRIS, METHOD_PRIM } method;

typedef enum { OP_LT, OP_LE, OP_GT, OP_GE } cond_op;

typedef struct args {
    const char *input, *output;
    method method;
    const char **measures;
    size_t n_measures;
    unsigned long bootstrap;
    unsigned long long seed;
    double confidence;
    int second_order;
    unsigned long levels;
    const char *condition;
    char cond_name[256];
    cond_op cond_op;
    double cond_value;
    resim_prim_options prim;
} args;

/* A measure column: its name before '@' and the date after it ("" for none). */
typedef struct measure {
    int col;
    char *name, *date;
} measure;

/* The rows of a sweep, holding only the columns the analysis needs. */
typedef struct sweep {
    const args *a;
    const char *path;
    int col_point, col_matrix, col_traj, col_step;
    size_t k;
    int *key_col;
    char **key_name;
    size_t m;
    measure *meas;
    size_t nrow, cap;
    size_t *point, *traj, *step;
    int *block;     /* Saltelli block: 0 A, 1 B, 1+i AB_i, 1+k+i BA_i (i 1-based) */
    long *line;
    double *x;      /* [nrow][k] */
    double *y;      /* [nrow][m] */
    size_t ncol;    /* fields of the header */
    int header_done;
    int any_ba;
} sweep;

static void sweep_free(sweep *s)
{
    free(s->key_col);
    if (s->key_name)
        for (size_t i = 0; i < s->k; i++)
            free(s->key_name[i]);
    free(s->key_name);
    if (s->meas)
        for (size_t q = 0; q < s->m; q++) {
            free(s->meas[q].name);
            free(s->meas[q].date);
        }
    free(s->meas);
    free(s->point);
    free(s->traj);
    free(s->step);
    free(s->block);
    free(s->line);
    free(s->x);
    free(s->y);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int is_bookkeeping(const char *name)
{
    return strcmp(name, "point") == 0 || strcmp(name, "matrix") == 0 ||
           strcmp(name, "trajectory") == 0 || strcmp(name, "step") == 0;
}

/* Whether a measure column holds calendar dates (peak_date, ...; docs/sweep.md):
 * the month numbers beside them are what can be analysed. */
static int is_date_column(const char *name)
{
    size_t n = strlen(name);
    return n >= 5 && strcmp(name + n - 5, "_date") == 0;
}

/* Whether column name c is measure `want` or a dated column of series `want`. */
static int selects(const char *c, const char *want)
{
    size_t n = strlen(want);
    return strncmp(c, want, n) == 0 && (c[n] == '\0' || c[n] == '@');
}

static int add_measure(sweep *s, int col, const char *name)
{
    measure *mm = &s->meas[s->m];
    const char *at = strrchr(name, '@');
    size_t len = at ? (size_t)(at - name) : strlen(name);
    mm->col = col;
    mm->name = dup_n(name, len);
    mm->date = dup_n(at ? at + 1 : "", at ? strlen(at + 1) : 0);
    s->m++;
    return mm->name && mm->date ? RESIM_OK : RESIM_ENOMEM;
}

/* Reads the header: bookkeeping, keys and the measures asked for. */
static int read_header(sweep *s, char **f, size_t n, long line, resim_error *err)
{
    const args *a = s->a;
    s->ncol = n;
    s->col_point = s->col_matrix = s->col_traj = s->col_step = -1;
    for (size_t c = 0; c < n; c++) {
        if (strcmp(f[c], "point") == 0)
            s->col_point = (int)c;
        else if (strcmp(f[c], "matrix") == 0)
            s->col_matrix = (int)c;
        else if (strcmp(f[c], "trajectory") == 0)
            s->col_traj = (int)c;
        else if (strcmp(f[c], "step") == 0)
            s->col_step = (int)c;
    }
    if (s->col_point < 0)
        return resim_error_set(err, RESIM_EINVAL, s->path, line,
                               "no 'point' column: not the output of resim sweep");
    s->key_col = malloc(n * sizeof *s->key_col);
    s->key_name = calloc(n, sizeof *s->key_name);
    s->meas = calloc(n, sizeof *s->meas);
    if (!s->key_col || !s->key_name || !s->meas)
        return resim_error_set(err, RESIM_ENOMEM, s->path, line, "out of memory");
    /* Keys: the SECTION.KEY columns after the point, up to the first measure. */
    size_t c = (size_t)s->col_point + 1;
    for (; c < n; c++) {
        if (is_bookkeeping(f[c]))
            continue;
        if (strchr(f[c], '.') == NULL)
            break;
        s->key_col[s->k] = (int)c;
        if ((s->key_name[s->k++] = dup_n(f[c], strlen(f[c]))) == NULL)
            return resim_error_set(err, RESIM_ENOMEM, s->path, line, "out of memory");
    }
    size_t first_measure = c;
    if (s->k == 0)
        return resim_error_set(err, RESIM_EINVAL, s->path, line,
                               "no varied keys (SECTION.KEY columns after 'point')");
    if (a->method == METHOD_PRIM) {
        for (size_t d = first_measure; d < n; d++)
            if (strcmp(f[d], a->cond_name) == 0 && is_date_column(f[d]))
                return resim_error_set(err, RESIM_EINVAL, s->path, line,
                                       "--condition: '%s' holds dates; use its month number column",
                                       f[d]);
            else if (strcmp(f[d], a->cond_name) == 0)
                return add_measure(s, (int)d, f[d]) == RESIM_OK
                           ? RESIM_OK
                           : resim_error_set(err, RESIM_ENOMEM, s->path, line, "out of memory");
        return resim_error_set(err, RESIM_EINVAL, s->path, line,
                               "--condition: no measure column '%s'", a->cond_name);
    }
    if (a->n_measures == 0) {
        for (size_t d = first_measure; d < n; d++)
            if (!is_bookkeeping(f[d]) && !is_date_column(f[d]) &&
                add_measure(s, (int)d, f[d]) != RESIM_OK)
                return resim_error_set(err, RESIM_ENOMEM, s->path, line, "out of memory");
    }
    for (size_t w = 0; w < a->n_measures; w++) {
        size_t found = 0;
        for (size_t d = first_measure; d < n; d++) {
            if (!selects(f[d], a->measures[w]))
                continue;
            if (is_date_column(f[d]))
                return resim_error_set(err, RESIM_EINVAL, s->path, line,
                                       "--measure %s: the column holds dates; use its month "
                                       "number column",
                                       a->measures[w]);
            for (size_t q = 0; q < s->m; q++)
                if (s->meas[q].col == (int)d)
                    return resim_error_set(err, RESIM_EINVAL, s->path, line,
                                           "--measure %s: column '%s' is selected twice",
                                           a->measures[w], f[d]);
            if (add_measure(s, (int)d, f[d]) != RESIM_OK)
                return resim_error_set(err, RESIM_ENOMEM, s->path, line, "out of memory");
            found++;
        }
        if (found == 0)
            return resim_error_set(err, RESIM_EINVAL, s->path, line,
                                   "--measure %s: no such measure column (nor a series %s@YYYY-MM)",
                                   a->measures[w], a->measures[w]);
    }
    if (s->m == 0)
        return resim_error_set(err, RESIM_EINVAL, s->path, line, "no measure columns after the keys");
    if (a->method == METHOD_SOBOL && s->col_matrix < 0)
        return resim_error_set(err, RESIM_EINVAL, s->path, line,
                               "no 'matrix' column: Sobol indices need a Saltelli sweep "
                               "(resim sweep --design saltelli --points N), whose rows name "
                               "their matrix A, B, AB1..AB%zu",
                               s->k);
    if (a->method == METHOD_MORRIS && (s->col_traj < 0 || s->col_step < 0))
        return resim_error_set(err, RESIM_EINVAL, s->path, line,
                               "no 'trajectory' and 'step' columns: Morris effects need a Morris "
                               "sweep (resim sweep --design morris --trajectories R --levels P)");
    return RESIM_OK;
}

static int parse_count(const char *s, size_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno != 0 || v > SIZE_MAX)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Block of a Saltelli matrix name; -1 if it is none of A, B, AB<i>, BA<i>. */
static int matrix_block(const char *name, size_t k, int *is_ba)
{
    *is_ba = 0;
    if (strcmp(name, "A") == 0)
        return 0;
    if (strcmp(name, "B") == 0)
        return 1;
    size_t i;
    if ((strncmp(name, "AB", 2) == 0 || strncmp(name, "BA", 2) == 0) &&
        parse_count(name + 2, &i) == 0 && i >= 1 && i <= k) {
        *is_ba = name[0] == 'B';
        return (int)(*is_ba ? 1 + k + i : 1 + i);
    }
    return -1;
}

static int grow(sweep *s, resim_error *err, long line)
{
    size_t cap = s->cap ? 2 * s->cap : 1024;
    size_t *point = realloc(s->point, cap * sizeof *point);
    if (point) s->point = point;
    size_t *traj = realloc(s->traj, cap * sizeof *traj);
    if (traj) s->traj = traj;
    size_t *step = realloc(s->step, cap * sizeof *step);
    if (step) s->step = step;
    int *block = realloc(s->block, cap * sizeof *block);
    if (block) s->block = block;
    long *ln = realloc(s->line, cap * sizeof *ln);
    if (ln) s->line = ln;
    double *x = realloc(s->x, cap * s->k * sizeof *x);
    if (x) s->x = x;
    double *y = realloc(s->y, cap * s->m * sizeof *y);
    if (y) s->y = y;
    if (!point || !traj || !step || !block || !ln || !x || !y)
        return resim_error_set(err, RESIM_ENOMEM, s->path, line, "out of memory");
    s->cap = cap;
    return RESIM_OK;
}

static int on_row(void *ctx, char **f, size_t n, long line, resim_error *err)
{
    sweep *s = ctx;
    if (!s->header_done) {
        s->header_done = 1;
        return read_header(s, f, n, line, err);
    }
    if (n == 1 && f[0][0] == '\0')
        return RESIM_OK; /* a blank line */
    if (s->nrow == s->cap && grow(s, err, line) != RESIM_OK)
        return err->status;
    size_t r = s->nrow;
    if (n != s->ncol)
        return resim_error_set(err, RESIM_EPARSE, s->path, line, "%zu fields, the header has %zu",
                               n, s->ncol);
    if (parse_count(f[s->col_point], &s->point[r]) != 0)
        return resim_error_set(err, RESIM_EPARSE, s->path, line, "point: not a point number: '%s'",
                               f[s->col_point]);
    for (size_t i = 0; i < s->k; i++)
        if (resim_parse_double(f[s->key_col[i]], &s->x[r * s->k + i]) != 0)
            return resim_error_set(err, RESIM_EPARSE, s->path, line, "%s: not a number: '%s'",
                                   s->key_name[i], f[s->key_col[i]]);
    for (size_t q = 0; q < s->m; q++) {
        const char *v = f[s->meas[q].col];
        double *out = &s->y[r * s->m + q];
        if (v[0] == '\0')
            *out = NAN;
        else if (resim_parse_double(v, out) != 0) {
            const measure *mm = &s->meas[q];
            return resim_error_set(err, RESIM_EPARSE, s->path, line, "%s%s%s: not a number: '%s'",
                                   mm->name, mm->date[0] ? "@" : "", mm->date, v);
        }
    }
    s->block[r] = -1;
    if (s->a->method == METHOD_SOBOL) {
        int ba;
        s->block[r] = matrix_block(f[s->col_matrix], s->k, &ba);
        if (s->block[r] < 0)
            return resim_error_set(err, RESIM_EPARSE, s->path, line,
                                   "matrix: '%s' is not A, B, AB1..AB%zu or BA1..BA%zu",
                                   f[s->col_matrix], s->k, s->k);
        s->any_ba |= ba;
    }
    if (s->a->method == METHOD_MORRIS) {
        if (parse_count(f[s->col_traj], &s->traj[r]) != 0)
            return resim_error_set(err, RESIM_EPARSE, s->path, line,
                                   "trajectory: not a trajectory number: '%s'", f[s->col_traj]);
        if (parse_count(f[s->col_step], &s->step[r]) != 0 || s->step[r] > s->k)
            return resim_error_set(err, RESIM_EPARSE, s->path, line,
                                   "step: '%s' is not a step 0..%zu", f[s->col_step], s->k);
    }
    s->line[r] = line;
    s->nrow++;
    return RESIM_OK;
}

static const char *block_name(int block, size_t k, char *buf, size_t size)
{
    if (block == 0)
        return "A";
    if (block == 1)
        return "B";
    size_t b = (size_t)block;
    if (b <= 1 + k)
        snprintf(buf, size, "AB%zu", b - 1);
    else
        snprintf(buf, size, "BA%zu", b - 1 - k);
    return buf;
}

/*
 * Arranges a Saltelli sweep block by block: base sample j = point / G.
 * Checks that every base sample has every matrix once and that each AB_i
 * (BA_i) row is A (B) with key i from B (A). Fills order[g n + j] = row.
 */
static int saltelli_layout(const sweep *s, size_t *n_out, size_t **order_out, resim_error *err)
{
    size_t k = s->k, G = s->any_ba ? 2 * k + 2 : k + 2;
    if (s->nrow == 0)
        return resim_error_set(err, RESIM_EINVAL, s->path, 0, "no rows");
    size_t maxp = 0;
    for (size_t r = 0; r < s->nrow; r++)
        if (s->point[r] > maxp)
            maxp = s->point[r];
    size_t n = maxp / G + 1;
    if (n < 2)
        return resim_error_set(err, RESIM_EINVAL, s->path, 0,
                               "%zu base sample: Sobol indices need at least 2 (points / %zu)", n,
                               G);
    size_t *order = malloc(n * G * sizeof *order);
    if (order == NULL)
        return resim_error_set(err, RESIM_ENOMEM, s->path, 0, "out of memory");
    for (size_t i = 0; i < n * G; i++)
        order[i] = SIZE_MAX;
    char nb[24];
    for (size_t r = 0; r < s->nrow; r++) {
        size_t j = s->point[r] / G, g = (size_t)s->block[r];
        if (order[g * n + j] != SIZE_MAX) {
            int rc = resim_error_set(err, RESIM_EINVAL, s->path, s->line[r],
                                     "point %zu: base sample %zu has matrix %s twice (also line "
                                     "%ld)",
                                     s->point[r], j, block_name(s->block[r], k, nb, sizeof nb),
                                     s->line[order[g * n + j]]);
            free(order);
            return rc;
        }
        order[g * n + j] = r;
    }
    for (size_t j = 0; j < n; j++)
        for (size_t g = 0; g < G; g++)
            if (order[g * n + j] == SIZE_MAX) {
                free(order);
                return resim_error_set(
                    err, RESIM_EINVAL, s->path, 0,
                    "base sample %zu (points %zu..%zu) has no row of matrix %s: an incomplete "
                    "Saltelli sweep (merge every shard first)",
                    j, j * G, j * G + G - 1, block_name((int)g, k, nb, sizeof nb));
            }
    for (size_t j = 0; j < n; j++) {
        const double *xa = s->x + order[j] * k, *xb = s->x + order[n + j] * k;
        for (size_t g = 2; g < G; g++) {
            size_t r = order[g * n + j], i = g <= 1 + k ? g - 2 : g - 2 - k;
            int ba = g > 1 + k;
            const double *base = ba ? xb : xa, *other = ba ? xa : xb, *xr = s->x + r * k;
            for (size_t l = 0; l < k; l++)
                if (xr[l] != (l == i ? other[l] : base[l])) {
                    int from_b = (l == i) != ba;
                    int rc = resim_error_set(
                        err, RESIM_EINVAL, s->path, s->line[r],
                        "point %zu (matrix %s): %s is not %s's value (point %zu): not a Saltelli "
                        "design",
                        s->point[r], block_name((int)g, k, nb, sizeof nb), s->key_name[l],
                        from_b ? "B" : "A", s->point[order[(from_b ? n : 0) + j]]);
                    free(order);
                    return rc;
                }
        }
    }
    *n_out = n;
    *order_out = order;
    return RESIM_OK;
}

static void write_measure_id(FILE *fp, const measure *mm)
{
    resim_csv_text(fp, mm->name);
    fputc(',', fp);
    resim_csv_text(fp, mm->date);
}

/* Measures analysed together; a chunk's resamples repeat for every chunk. */
enum { CHUNK = 64 };

static int run_sobol(const sweep *s, const args *a, FILE *fp, size_t *n_out, size_t *undefined,
                     resim_error *err)
{
    size_t n = 0, *order = NULL, k = s->k;
    int rc = saltelli_layout(s, &n, &order, err);
    if (rc != RESIM_OK)
        return rc;
    *n_out = n;
    if (a->second_order && !s->any_ba) {
        free(order);
        return resim_error_set(err, RESIM_EINVAL, s->path, 0,
                               "--second-order needs the BA1..BA%zu matrices (a Saltelli sweep "
                               "made for second-order indices)",
                               k);
    }
    size_t G = s->any_ba ? 2 * k + 2 : k + 2;
    size_t chunk = s->m < CHUNK ? s->m : CHUNK;
    double *y = malloc(G * n * chunk * sizeof *y);
    gsl_rng *r = resim_rng_alloc();
    if (y == NULL || r == NULL) {
        free(order);
        free(y);
        gsl_rng_free(r);
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    }
    fputs("measure,date,index,key,key2,value,lo,hi,estimator\n", fp);
    for (size_t q0 = 0; q0 < s->m && rc == RESIM_OK; q0 += chunk) {
        size_t mc = s->m - q0 < chunk ? s->m - q0 : chunk;
        /* Blocks in the order A, B, AB_1.., BA_1.. as the estimator takes them. */
        for (size_t g = 0; g < G; g++)
            for (size_t j = 0; j < n; j++) {
                const double *row = s->y + order[g * n + j] * s->m + q0;
                memcpy(y + (g * n + j) * mc, row, mc * sizeof *y);
            }
        resim_rng_reset(r, a->seed, 0, RESIM_STREAM_BOOTSTRAP);
        resim_sobol_input in = {.y = y, .n = n, .k = k, .m = mc,
                                .second_order = a->second_order};
        resim_sobol_result *res = resim_sobol_estimate(&in, r, a->bootstrap, a->confidence, err);
        if (res == NULL) {
            rc = err->status;
            break;
        }
        for (size_t q = 0; q < mc; q++) {
            const measure *mm = &s->meas[q0 + q];
            *undefined += !(res->variance[q] > 0) || isnan(res->s1[q * k]);
            for (size_t i = 0; i < k; i++)
                for (int st = 0; st <= 1; st++) {
                    size_t x = q * k + i;
                    write_measure_id(fp, mm);
                    fputs(st ? ",ST," : ",S1,", fp);
                    resim_csv_text(fp, s->key_name[i]);
                    fputs(",,", fp);
                    resim_csv_number(fp, st ? res->st[x] : res->s1[x]);
                    fputc(',', fp);
                    resim_csv_number(fp, st ? res->st_lo[x] : res->s1_lo[x]);
                    fputc(',', fp);
                    resim_csv_number(fp, st ? res->st_hi[x] : res->s1_hi[x]);
                    fputs(st ? "," RESIM_SOBOL_ST_ESTIMATOR "\n" : "," RESIM_SOBOL_S1_ESTIMATOR "\n",
                          fp);
                }
            if (a->second_order)
                for (size_t i = 0; i < k; i++)
                    for (size_t l = i + 1; l < k; l++) {
                        size_t x = (q * k + i) * k + l;
                        write_measure_id(fp, mm);
                        fputs(",S2,", fp);
                        resim_csv_text(fp, s->key_name[i]);
                        fputc(',', fp);
                        resim_csv_text(fp, s->key_name[l]);
                        fputc(',', fp);
                        resim_csv_number(fp, res->s2[x]);
                        fputc(',', fp);
                        resim_csv_number(fp, res->s2_lo[x]);
                        fputc(',', fp);
                        resim_csv_number(fp, res->s2_hi[x]);
                        fputs("," RESIM_SOBOL_S2_ESTIMATOR "\n", fp);
                    }
        }
        resim_sobol_result_free(res);
    }
    free(order);
    free(y);
    gsl_rng_free(r);
    return rc;
}

/* Arranges a Morris sweep by trajectory and step; order[t (k+1) + s] = row. */
static int morris_layout(const sweep *s, size_t *r_out, size_t **order_out, resim_error *err)
{
    size_t k = s->k, R = 0;
    if (s->nrow == 0)
        return resim_error_set(err, RESIM_EINVAL, s->path, 0, "no rows");
    for (size_t r = 0; r < s->nrow; r++)
        if (s->traj[r] + 1 > R)
            R = s->traj[r] + 1;
    if (R > SIZE_MAX / (k + 1))
        return resim_error_set(err, RESIM_EINVAL, s->path, 0, "too many trajectories");
    size_t *order = malloc(R * (k + 1) * sizeof *order);
    if (order == NULL)
        return resim_error_set(err, RESIM_ENOMEM, s->path, 0, "out of memory");
    for (size_t i = 0; i < R * (k + 1); i++)
        order[i] = SIZE_MAX;
    for (size_t r = 0; r < s->nrow; r++) {
        size_t at = s->traj[r] * (k + 1) + s->step[r];
        if (order[at] != SIZE_MAX) {
            int rc = resim_error_set(err, RESIM_EINVAL, s->path, s->line[r],
                                     "trajectory %zu has step %zu twice (also line %ld)",
                                     s->traj[r], s->step[r], s->line[order[at]]);
            free(order);
            return rc;
        }
        order[at] = r;
    }
    for (size_t i = 0; i < R * (k + 1); i++)
        if (order[i] == SIZE_MAX) {
            free(order);
            return resim_error_set(err, RESIM_EINVAL, s->path, 0,
                                   "trajectory %zu has no step %zu: an incomplete Morris sweep "
                                   "(merge every shard first)",
                                   i / (k + 1), i % (k + 1));
        }
    *r_out = R;
    *order_out = order;
    return RESIM_OK;
}

static int run_morris(const sweep *s, const args *a, FILE *fp, size_t *r_out, size_t *undefined,
                      resim_error *err)
{
    size_t R = 0, *order = NULL, k = s->k;
    int rc = morris_layout(s, &R, &order, err);
    if (rc != RESIM_OK)
        return rc;
    *r_out = R;
    size_t P = R * (k + 1), chunk = s->m < CHUNK ? s->m : CHUNK;
    double *x = malloc(P * k * sizeof *x), *y = malloc(P * chunk * sizeof *y);
    gsl_rng *r = resim_rng_alloc();
    if (x == NULL || y == NULL || r == NULL) {
        free(order);
        free(x);
        free(y);
        gsl_rng_free(r);
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    }
    for (size_t p = 0; p < P; p++)
        memcpy(x + p * k, s->x + order[p] * k, k * sizeof *x);
    fputs("measure,date,key,mu,mu_star,sigma,mu_star_lo,mu_star_hi,estimator\n", fp);
    for (size_t q0 = 0; q0 < s->m && rc == RESIM_OK; q0 += chunk) {
        size_t mc = s->m - q0 < chunk ? s->m - q0 : chunk;
        for (size_t p = 0; p < P; p++)
            memcpy(y + p * mc, s->y + order[p] * s->m + q0, mc * sizeof *y);
        resim_rng_reset(r, a->seed, 0, RESIM_STREAM_BOOTSTRAP);
        resim_morris_input in = {.x = x, .y = y, .r = R, .k = k, .m = mc,
                                 .delta = resim_design_morris_delta(a->levels)};
        resim_morris_result *res = resim_morris_estimate(&in, r, a->bootstrap, a->confidence, err);
        if (res == NULL) {
            /* Name the rows: the core counts trajectories and steps. */
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            rc = resim_error_set(err, RESIM_EINVAL, s->path, 0, "%s: not a Morris design", msg);
            break;
        }
        for (size_t q = 0; q < mc; q++) {
            const measure *mm = &s->meas[q0 + q];
            *undefined += isnan(res->mu[q * k]) ? 1u : 0u;
            for (size_t i = 0; i < k; i++) {
                size_t v = q * k + i;
                write_measure_id(fp, mm);
                fputc(',', fp);
                resim_csv_text(fp, s->key_name[i]);
                double vals[5] = {res->mu[v], res->mu_star[v], res->sigma[v], res->mu_star_lo[v],
                                  res->mu_star_hi[v]};
                for (size_t c = 0; c < 5; c++) {
                    fputc(',', fp);
                    resim_csv_number(fp, vals[c]);
                }
                fputs("," RESIM_MORRIS_ESTIMATOR "\n", fp);
            }
        }
        resim_morris_result_free(res);
    }
    free(order);
    free(x);
    free(y);
    gsl_rng_free(r);
    return rc;
}

static int meets(const args *a, double v)
{
    switch (a->cond_op) {
    case OP_LT: return v < a->cond_value;
    case OP_LE: return v <= a->cond_value;
    case OP_GT: return v > a->cond_value;
    default: return v >= a->cond_value;
    }
}

static void write_box(FILE *fp, const resim_prim_result *res, const resim_prim_box *b,
                      const char *phase, size_t step, int chosen)
{
    fprintf(fp, "%zu,%s,", step, phase);
    resim_csv_number(fp, b->coverage);
    fputc(',', fp);
    resim_csv_number(fp, b->density);
    fputc(',', fp);
    resim_csv_number(fp, b->mass);
    fprintf(fp, ",%zu,%zu,%zu,%d", b->inside, b->interest, b->restricted, chosen);
    for (size_t i = 0; i < res->k; i++) {
        fputc(',', fp);
        if (b->lo[i] > res->data_lo[i])
            resim_csv_number(fp, b->lo[i]);
        fputc(',', fp);
        if (b->hi[i] < res->data_hi[i])
            resim_csv_number(fp, b->hi[i]);
    }
    fputc('\n', fp);
}

static int run_prim(const sweep *s, const args *a, FILE *fp, resim_prim_result **out,
                    resim_error *err)
{
    unsigned char *hit = malloc(s->nrow ? s->nrow : 1);
    if (hit == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    for (size_t r = 0; r < s->nrow; r++)
        hit[r] = (unsigned char)meets(a, s->y[r * s->m]);
    resim_prim_result *res = resim_prim_run(s->x, hit, s->nrow, s->k, &a->prim, err);
    free(hit);
    if (res == NULL) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return resim_error_set(err, RESIM_EINVAL, s->path, 0, "PRIM: %s", msg);
    }
    fputs("step,phase,coverage,density,mass,inside,interest,restricted,chosen", fp);
    for (size_t i = 0; i < s->k; i++) {
        fputs(",lo:", fp);
        resim_csv_text(fp, s->key_name[i]);
        fputs(",hi:", fp);
        resim_csv_text(fp, s->key_name[i]);
    }
    fputc('\n', fp);
    for (size_t t = 0; t < res->nsteps; t++)
        write_box(fp, res, &res->step[t], resim_prim_phase_name(res->step[t].phase), t,
                  t == res->chosen);
    if (res->chosen != SIZE_MAX)
        write_box(fp, res, &res->whole, "box", res->chosen, 1);
    *out = res;
    return RESIM_OK;
}

/* Parses 'NAME OP VALUE'; returns 0 or an exit code. */
static int parse_condition(args *a)
{
    const char *c = a->condition, *op = strpbrk(c, "<>");
    if (op == NULL)
        return usage("--condition '%s': no comparison (<, <=, > or >=)", c);
    const char *name = c;
    while (*name == ' ')
        name++;
    size_t len = (size_t)(op - name);
    while (len > 0 && name[len - 1] == ' ')
        len--;
    if (len == 0 || len >= sizeof a->cond_name)
        return usage("--condition '%s': no measure name before the comparison", c);
    memcpy(a->cond_name, name, len);
    a->cond_name[len] = '\0';
    int eq = op[1] == '=';
    a->cond_op = op[0] == '<' ? (eq ? OP_LE : OP_LT) : (eq ? OP_GE : OP_GT);
    const char *v = op + 1 + eq;
    while (*v == ' ')
        v++;
    char buf[64];
    size_t vl = strlen(v);
    while (vl > 0 && v[vl - 1] == ' ')
        vl--;
    if (vl == 0 || vl >= sizeof buf)
        return usage("--condition '%s': no number after the comparison", c);
    memcpy(buf, v, vl);
    buf[vl] = '\0';
    if (resim_parse_double(buf, &a->cond_value) != 0)
        return usage("--condition '%s': '%s' is not a number", c, buf);
    return 0;
}

static int parse_ulong(const char *opt, const char *v, unsigned long lo, unsigned long *out)
{
    size_t x;
    if (parse_count(v, &x) != 0 || x < lo || x > ULONG_MAX)
        return usage("%s takes a whole number >= %lu, not '%s'", opt, lo, v);
    *out = (unsigned long)x;
    return 0;
}

static int parse_fraction(const char *opt, const char *v, int open_low, double *out)
{
    double x;
    if (resim_parse_double(v, &x) != 0 || x < 0 || x > 1 || (open_low && x == 0))
        return usage("%s takes a number in %s0, 1], not '%s'", opt, open_low ? "(" : "[", v);
    *out = x;
    return 0;
}

static int parse_args(args *a, int argc, char **argv)
{
    int has_method = 0, prim_opts = 0, sobol_opts = 0, morris_opts = 0;
    a->bootstrap = 1000;
    a->seed = 1;
    a->confidence = 0.95;
    a->levels = 4;
    resim_prim_defaults(&a->prim);
    a->measures = calloc((size_t)argc, sizeof *a->measures);
    if (a->measures == NULL)
        return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r, code = 0;
#define OPT(name) ((r = cli_opt(argc, argv, &i, name, &v)) != 0)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(analyze_help, stdout);
            return -1;
        } else if (strcmp(argv[i], "--second-order") == 0) {
            a->second_order = 1;
            sobol_opts = 1;
            continue;
        } else if (OPT("--method")) {
            if (r < 0)
                return EXIT_USAGE;
            has_method = 1;
            if (strcmp(v, "sobol") == 0)
                a->method = METHOD_SOBOL;
            else if (strcmp(v, "morris") == 0)
                a->method = METHOD_MORRIS;
            else if (strcmp(v, "prim") == 0)
                a->method = METHOD_PRIM;
            else
                return usage("--method takes sobol, morris or prim, not '%s'", v);
        } else if (OPT("--measure")) {
            if (r < 0)
                return EXIT_USAGE;
            a->measures[a->n_measures++] = v;
        } else if (OPT("--bootstrap")) {
            if (r < 0)
                return EXIT_USAGE;
            code = parse_ulong("--bootstrap", v, 0, &a->bootstrap);
            if (code == 0 && a->bootstrap > 1000000)
                code = usage("--bootstrap takes at most 1000000 resamples, not %lu", a->bootstrap);
        } else if (OPT("--seed")) {
            if (r < 0)
                return EXIT_USAGE;
            char *end;
            errno = 0;
            a->seed = strtoull(v, &end, 10);
            if (*v < '0' || *v > '9' || *end != '\0' || errno != 0)
                code = usage("--seed takes a whole number >= 0, not '%s'", v);
        } else if (OPT("--confidence")) {
            if (r < 0)
                return EXIT_USAGE;
            code = parse_fraction("--confidence", v, 1, &a->confidence);
            if (code == 0 && a->confidence >= 1)
                code = usage("--confidence takes a number in (0, 1), not '%s'", v);
        } else if (OPT("--levels")) {
            if (r < 0)
                return EXIT_USAGE;
            morris_opts = 1;
            code = parse_ulong("--levels", v, 2, &a->levels);
            if (code == 0 && a->levels % 2 != 0)
                code = usage("--levels takes an even number (as the Morris design), not %lu",
                             a->levels);
        } else if (OPT("--condition")) {
            if (r < 0)
                return EXIT_USAGE;
            prim_opts = 1;
            a->condition = v;
            code = parse_condition(a);
        } else if (OPT("--density")) {
            if (r < 0)
                return EXIT_USAGE;
            prim_opts = 1;
            code = parse_fraction("--density", v, 0, &a->prim.density);
        } else if (OPT("--alpha")) {
            if (r < 0)
                return EXIT_USAGE;
            prim_opts = 1;
            code = parse_fraction("--alpha", v, 1, &a->prim.alpha);
            if (code == 0 && a->prim.alpha >= 1)
                code = usage("--alpha takes a number in (0, 1), not '%s'", v);
        } else if (OPT("--paste-alpha")) {
            if (r < 0)
                return EXIT_USAGE;
            prim_opts = 1;
            code = parse_fraction("--paste-alpha", v, 0, &a->prim.paste_alpha);
            if (code == 0 && a->prim.paste_alpha >= 1)
                code = usage("--paste-alpha takes a number in [0, 1), not '%s'", v);
        } else if (OPT("--min-mass")) {
            if (r < 0)
                return EXIT_USAGE;
            prim_opts = 1;
            code = parse_fraction("--min-mass", v, 0, &a->prim.min_mass);
        } else if (OPT("--output") || OPT("-o")) {
            if (r < 0)
                return EXIT_USAGE;
            a->output = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage("unknown option '%s'", argv[i]);
        } else if (a->input != NULL) {
            return usage("one sweep file at a time ('%s' and '%s')", a->input, argv[i]);
        } else {
            a->input = argv[i];
        }
#undef OPT
        if (code != 0)
            return code;
    }
    if (a->input == NULL)
        return usage("analyze needs a sweep CSV");
    if (!has_method)
        return usage("analyze needs --method sobol, morris or prim");
    if (a->method == METHOD_PRIM) {
        if (a->condition == NULL)
            return usage("--method prim needs --condition 'MEASURE < X' (or <=, >, >=)");
        if (a->n_measures > 0)
            return usage("--measure does not apply to --method prim: the condition names the "
                         "measure");
        if (sobol_opts || morris_opts)
            return usage("--second-order and --levels do not apply to --method prim");
    } else if (prim_opts) {
        return usage("--condition, --density, --alpha, --paste-alpha and --min-mass apply to "
                     "--method prim");
    }
    if (a->method == METHOD_SOBOL && morris_opts)
        return usage("--levels applies to --method morris");
    if (a->method == METHOD_MORRIS && sobol_opts)
        return usage("--second-order applies to --method sobol");
    return 0;
}

static const char *method_name(method m)
{
    return m == METHOD_SOBOL ? "sobol" : m == METHOD_MORRIS ? "morris" : "prim";
}

/* A number as people typed it (0.05, not 0.050000000000000003). */
static void json_number(FILE *fp, double v)
{
    char buf[40];
    resim_format_short(buf, sizeof buf, v);
    fputs(buf, fp);
}

static int write_sidecar(const args *a, const sweep *s, size_t groups,
                         const resim_prim_result *pr, int argc, char **argv, resim_error *err)
{
    char path[1100], hex[65];
    snprintf(path, sizeof path, "%s.json", a->output);
    int rc = resim_sha256_file(a->input, hex, err);
    if (rc != RESIM_OK)
        return rc;
    resim_out o;
    if ((rc = resim_out_open(&o, path, err)) != RESIM_OK)
        return rc;
    FILE *fp = o.fp;
    fputs("{\n  \"kind\": \"analyze\",\n  \"resim_version\": ", fp);
    resim_json_string(fp, RESIM_VERSION);
    fputs(",\n  \"command_line\": [", fp);
    for (int i = 0; i < argc; i++) {
        fputs(i ? ", " : "", fp);
        resim_json_string(fp, argv[i]);
    }
    fputs("],\n  \"sweep\": {\"path\": ", fp);
    resim_json_string(fp, a->input);
    fprintf(fp, ", \"sha256\": \"%s\", \"rows\": %zu},\n  \"method\": \"%s\",\n", hex, s->nrow,
            method_name(a->method));
    fputs("  \"keys\": [", fp);
    for (size_t i = 0; i < s->k; i++) {
        fputs(i ? ", " : "", fp);
        resim_json_string(fp, s->key_name[i]);
    }
    fprintf(fp, "],\n  \"measures\": %zu,\n", s->m);
    if (a->method == METHOD_PRIM) {
        fputs("  \"condition\": ", fp);
        resim_json_string(fp, a->condition);
        fprintf(fp, ",\n  \"points_of_interest\": %zu,\n", pr->total_interest);
        fputs("  \"alpha\": ", fp);
        json_number(fp, a->prim.alpha);
        fputs(",\n  \"paste_alpha\": ", fp);
        json_number(fp, a->prim.paste_alpha);
        fputs(",\n  \"min_mass\": ", fp);
        json_number(fp, a->prim.min_mass);
        fputs(",\n  \"density_threshold\": ", fp);
        json_number(fp, a->prim.density);
        if (pr->chosen != SIZE_MAX)
            fprintf(fp, ",\n  \"chosen_step\": %zu,\n  \"peeled_step\": %zu\n}\n", pr->chosen,
                    pr->peeled);
        else
            fputs(",\n  \"chosen_step\": null,\n  \"peeled_step\": null\n}\n", fp);
    } else {
        if (a->method == METHOD_SOBOL)
            fprintf(fp,
                    "  \"base_samples\": %zu,\n  \"second_order\": %s,\n  \"estimators\": "
                    "{\"S1\": \"%s\", \"ST\": \"%s\", \"S2\": \"%s\"},\n",
                    groups, a->second_order ? "true" : "false", RESIM_SOBOL_S1_ESTIMATOR,
                    RESIM_SOBOL_ST_ESTIMATOR, RESIM_SOBOL_S2_ESTIMATOR);
        else
            fprintf(fp,
                    "  \"trajectories\": %zu,\n  \"levels\": %lu,\n  \"delta\": ", groups,
                    a->levels);
        if (a->method == METHOD_MORRIS) {
            json_number(fp, resim_design_morris_delta(a->levels));
            fputs(",\n  \"estimators\": {\"mu\": \"" RESIM_MORRIS_ESTIMATOR
                  "\", \"mu_star\": \"campolongo2007\"},\n",
                  fp);
        }
        fprintf(fp, "  \"bootstrap\": %lu,\n  \"confidence\": ", a->bootstrap);
        json_number(fp, a->confidence);
        fprintf(fp, ",\n  \"seed\": %llu,\n  \"rng\": ", a->seed);
        resim_json_string(fp, resim_rng_name);
        fputs("\n}\n", fp);
    }
    rc = resim_out_commit(&o, err);
    resim_out_abort(&o);
    return rc;
}

int cli_analyze(int argc, char **argv)
{
    args a = {0};
    int code = parse_args(&a, argc, argv);
    if (code != 0) {
        free(a.measures);
        return code < 0 ? 0 : code;
    }
    resim_error err = {0};
    sweep s = {.a = &a, .path = a.input};
    int rc = resim_csv_stream(a.input, on_row, &s, &err);
    if (rc == RESIM_OK && !s.header_done)
        rc = resim_error_set(&err, RESIM_EPARSE, a.input, 0, "empty file: no header");
    if (rc == RESIM_OK && s.nrow == 0)
        rc = resim_error_set(&err, RESIM_EINVAL, a.input, 0, "no rows after the header");
    resim_out o = {0};
    size_t groups = 0, undefined = 0;
    resim_prim_result *pr = NULL;
    if (rc == RESIM_OK)
        rc = resim_out_open(&o, a.output, &err);
    if (rc == RESIM_OK) {
        if (a.method == METHOD_SOBOL)
            rc = run_sobol(&s, &a, o.fp, &groups, &undefined, &err);
        else if (a.method == METHOD_MORRIS)
            rc = run_morris(&s, &a, o.fp, &groups, &undefined, &err);
        else
            rc = run_prim(&s, &a, o.fp, &pr, &err);
    }
    if (rc == RESIM_OK)
        rc = resim_out_commit(&o, &err);
    resim_out_abort(&o);
    if (rc == RESIM_OK && a.output != NULL && strcmp(a.output, "-") != 0)
        rc = write_sidecar(&a, &s, groups, pr, argc, argv, &err);
    if (rc == RESIM_OK && undefined > 0)
        fprintf(stderr,
                "resim: warning: %zu of %zu measure columns are constant or have empty cells; "
                "their indices are empty\n",
                undefined, s.m);
    if (rc == RESIM_OK && pr != NULL && pr->chosen == SIZE_MAX) {
        size_t best = 0;
        for (size_t t = 1; t < pr->nsteps; t++)
            if (pr->step[t].density > pr->step[best].density)
                best = t;
        fprintf(stderr,
                "resim: warning: no box reaches density %g (the highest is %.3g, step %zu); the "
                "trajectory is written without a chosen box\n",
                a.prim.density, pr->step[best].density, best);
    }
    resim_prim_result_free(pr);
    sweep_free(&s);
    free(a.measures);
    return rc == RESIM_OK ? 0 : cli_fail(&err);
}

/*
 * sweep_output.c - what a sweep writes: the header and the measures of a
 * row, the partial file (and resuming it), progress, and the sidecar.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "sweep.h"
#include "resim/csvout.h"
#include "resim/data.h"
#include "resim/rng.h"
#include "resim/sidecar.h"

#define SWEEP_MEASURE_NAME(name, kind, date) #name,
const char *const sweep_measure_names[SWEEP_NMEASURES] = {SWEEP_MEASURE_LIST(SWEEP_MEASURE_NAME)};
#undef SWEEP_MEASURE_NAME
#define SWEEP_MEASURE_DATE(name, kind, date) date,
const char *const sweep_measure_dates[SWEEP_NMEASURES] = {SWEEP_MEASURE_LIST(SWEEP_MEASURE_DATE)};
#undef SWEEP_MEASURE_DATE

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

/* A month as a calendar date, or an empty field for -1 (never). */
static int sb_date(cli_sbuf *b, int start, int m)
{
    char d[8];
    if (m < 0)
        return 0;
    resim_date_format(start + m, d);
    return cli_sb_put(b, d, 7);
}

int sweep_row_measures(cli_sbuf *b, const resim_outcome *o, int dates, int start)
{
    int rc = 0;
    rc |= cli_sb_put(b, ",", 1) | cli_sb_number(b, o->cum_shortfall);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_number(b, o->peak_shortfall);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->peak_month);
    if (dates)
        rc |= cli_sb_put(b, ",", 1) | sb_date(b, start, o->peak_month);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_number(b, o->min_availability);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->min_month);
    if (dates)
        rc |= cli_sb_put(b, ",", 1) | sb_date(b, start, o->min_month);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->months_below);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->first_below);
    if (dates)
        rc |= cli_sb_put(b, ",", 1) | sb_date(b, start, o->first_below);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->stock_out);
    if (dates)
        rc |= cli_sb_put(b, ",", 1) | sb_date(b, start, o->stock_out);
    rc |= cli_sb_put(b, ",", 1) | cli_sb_month(b, o->recovered);
    if (dates)
        rc |= cli_sb_put(b, ",", 1) | sb_date(b, start, o->recovered);
    return rc;
}

int sweep_row_lead(cli_sbuf *b, const plan *p, size_t i, char (*val)[VALUE_MAX])
{
    char num[64];
    b->n = 0;
    int bad = cli_sb_put(b, num, (size_t)snprintf(num, sizeof num, "%zu", i));
    if (p->roles != SWEEP_ROLE_NONE) {
        resim_design_role role;
        if (resim_design_role_of(p->design, i, &role, NULL) != RESIM_OK)
            return -1;
        if (p->roles == SWEEP_ROLE_MATRIX)
            bad |= cli_sb_put(b, ",", 1) | cli_sb_str(b, role.matrix);
        else
            bad |= cli_sb_put(b, num, (size_t)snprintf(num, sizeof num, ",%zu,%zu", role.group,
                                                        role.step));
    }
    for (size_t k = 0; k < p->dims; k++)
        bad |= cli_sb_put(b, ",", 1) | cli_sb_text(b, val[k]);
    return bad;
}

/* Appends ",name@YYYY-MM" for every month of the plan (suffix after name). */
static int series_header(cli_sbuf *b, const plan *p, const char *name, const char *suffix)
{
    int bad = 0;
    for (int t = p->win0; t <= p->win1; t++) {
        char d[8];
        resim_date_format(p->start + t, d);
        bad |= cli_sb_put(b, ",", 1) | cli_sb_str(b, name) | cli_sb_str(b, suffix) |
               cli_sb_put(b, "@", 1) | cli_sb_put(b, d, 7);
    }
    return bad;
}

int sweep_header_line(cli_sbuf *b, const plan *p, const resim_scenario *sc)
{
    int bad = cli_sb_str(b, "point");
    if (p->roles == SWEEP_ROLE_MATRIX)
        bad |= cli_sb_str(b, ",matrix");
    else if (p->roles == SWEEP_ROLE_TRAJECTORY)
        bad |= cli_sb_str(b, ",trajectory,step");
    for (size_t k = 0; k < p->dims; k++)
        bad |= cli_sb_put(b, ",", 1) | cli_sb_text(b, p->keys[k].name);
    for (size_t e = 0; e < sc->n_elements; e++)
        for (size_t g = 0; g < SWEEP_GROUPS; g++)
            for (size_t m = 0; m < SWEEP_NMEASURES; m++) {
                char name[96];
                snprintf(name, sizeof name, ",%s_%s_", resim_scenario_symbol(sc, e),
                         sweep_group_names[g]);
                bad |= cli_sb_str(b, name) | cli_sb_str(b, sweep_measure_names[m]);
                if (p->replicates == 0) {
                    if (sweep_measure_dates[m][0] != '\0')
                        bad |= cli_sb_str(b, name) | cli_sb_str(b, sweep_measure_dates[m]);
                    continue;
                }
                bad |= cli_sb_str(b, "_mean");
                for (size_t q = 0; q < p->n_quantiles; q++) {
                    char qn[16];
                    cli_quantile_name(qn, sizeof qn, p->quantiles[q]);
                    bad |= cli_sb_str(b, name) | cli_sb_str(b, sweep_measure_names[m]) |
                           cli_sb_str(b, "_") | cli_sb_str(b, qn);
                }
            }
    for (size_t k = 0; k < p->n_series; k++) {
        const char *nm = p->series[k].name;
        if (p->replicates == 0) {
            bad |= series_header(b, p, nm, "");
            continue;
        }
        bad |= series_header(b, p, nm, "_mean");
        for (size_t q = 0; q < p->n_quantiles; q++) {
            char qn[20];
            qn[0] = '_';
            cli_quantile_name(qn + 1, sizeof qn - 1, p->quantiles[q]);
            bad |= series_header(b, p, nm, qn);
        }
    }
    bad |= cli_sb_put(b, "\n", 1);
    return bad;
}

/* The leading fields of point i's row ("i,[role,]v1,...,vk,"), for resume checks. */
static int row_prefix(cli_sbuf *b, const plan *p, resim_design_cursor *c, size_t i,
                      char (*val)[VALUE_MAX], double *x, resim_error *err)
{
    int rc = sweep_point_values(p, c, i, val, x, err);
    if (rc != RESIM_OK)
        return rc;
    int bad = sweep_row_lead(b, p, i, val) | cli_sb_put(b, ",", 1);
    return bad ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory") : RESIM_OK;
}

/* Adds text and its terminating NUL to the hash, so fields cannot run together. */
static void hash_str(struct sha256_ctx *h, const char *t)
{
    sha256_update(h, strlen(t) + 1, (const uint8_t *)t);
}

static void hash_fmt(struct sha256_ctx *h, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void hash_fmt(struct sha256_ctx *h, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    hash_str(h, buf);
}

int sweep_inputs_hash(const plan *p, const sweep_args *a, const cli_scenario *s, char hex[65],
                      resim_error *err)
{
    struct sha256_ctx h;
    sha256_init(&h);
    hash_str(&h, "resim sweep inputs 1");
    /* The scenario as parsed, bases merged, with --set and --warmup applied. */
    hash_fmt(&h, "entries %zu", s->ini.n);
    for (size_t i = 0; i < s->ini.n; i++) {
        hash_str(&h, s->ini.v[i].section);
        hash_str(&h, s->ini.v[i].key);
        hash_str(&h, s->ini.v[i].value);
    }
    for (size_t f = 0; f < RESIM_NFILES; f++) {
        char fh[65] = "";
        /* The hash of the bytes parsed when the reader kept it. */
        if (s->data.sha256[f][0] != '\0') {
            memcpy(fh, s->data.sha256[f], sizeof fh);
        } else if (s->data.path[f][0] != '\0') {
            int rc = resim_sha256_file(s->data.path[f], fh, err);
            if (rc != RESIM_OK)
                return rc;
        }
        hash_fmt(&h, "data %zu %s", f, fh);
    }
    if (p->design != NULL) {
        hash_fmt(&h, "design %s points %zu second_order %d trajectories %zu levels %zu seed %lu",
                 resim_design_kind_name(resim_design_kind_of(p->design)), a->points,
                 a->second_order, a->trajectories, a->levels, a->seed);
    } else {
        char fh[65];
        int rc = resim_sha256_file(p->table.path, fh, err);
        if (rc != RESIM_OK)
            return rc;
        hash_fmt(&h, "design file %s", fh);
    }
    hash_fmt(&h, "total %zu keys %zu", p->total, p->dims);
    for (size_t k = 0; k < p->dims; k++)
        hash_fmt(&h, "key %s %.17g %.17g %zu %d", p->keys[k].name, p->keys[k].lo, p->keys[k].hi,
                 p->keys[k].levels, p->keys[k].col);
    hash_fmt(&h, "replicates %zu seed %lu threshold %.17g quantiles %zu", p->replicates, p->seed,
             p->threshold, p->n_quantiles);
    for (size_t q = 0; q < p->n_quantiles; q++)
        hash_fmt(&h, "%.17g", p->quantiles[q]);
    hash_fmt(&h, "start %d window %d %d series %zu", p->start, p->win0, p->win1, p->n_series);
    for (size_t k = 0; k < p->n_series; k++)
        hash_str(&h, p->series[k].name);
    hash_fmt(&h, "shard %zu %zu", p->shard_k, p->shard_n);
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&h, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return RESIM_OK;
}

/* PATH.inputs, beside the partial file. */
static void inputs_path(char *buf, size_t n, const char *path)
{
    snprintf(buf, n, "%s.inputs", path);
}

void sweep_remove_inputs(const char *path)
{
    char ip[1200];
    inputs_path(ip, sizeof ip, path);
    remove(ip);
}

/* Records the inputs hash beside the partial file (written whole, then renamed). */
static int write_inputs(const char *path, const char *inputs, resim_error *err)
{
    char ip[1200], tmp[1220];
    inputs_path(ip, sizeof ip, path);
    snprintf(tmp, sizeof tmp, "%s.new", ip);
    /* Never through a link planted at the temporary name. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fp == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return resim_error_set(err, RESIM_EIO, tmp, 0, "cannot create: %s", strerror(e));
    }
    int bad = fprintf(fp, "resim sweep inputs sha256 %s\n", inputs) < 0;
    bad |= fflush(fp) != 0 || ferror(fp);
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, ip) != 0) {
        remove(tmp);
        return resim_error_set(err, RESIM_EIO, ip, 0, "write error");
    }
    return RESIM_OK;
}

/* Refuses to resume unless PATH.inputs records the hash `inputs`. */
static int check_inputs(const char *path, const char *inputs, resim_error *err)
{
    char ip[1200], line[128] = "", want[128];
    inputs_path(ip, sizeof ip, path);
    FILE *fp = fopen(ip, "r");
    if (fp == NULL)
        return resim_error_set(err, RESIM_EINVAL, path, 0,
                               "cannot resume: no record of the settings that made it (%s is "
                               "missing; remove the partial file to start again)",
                               ip);
    if (fgets(line, sizeof line, fp) == NULL)
        line[0] = '\0';
    fclose(fp);
    snprintf(want, sizeof want, "resim sweep inputs sha256 %s\n", inputs);
    if (strcmp(line, want) != 0)
        return resim_error_set(err, RESIM_EINVAL, path, 0,
                               "cannot resume: made with other settings (scenario, data, --set, "
                               "--threshold, --window, --series, design, seed or measures differ; "
                               "remove the partial file to start again)");
    return RESIM_OK;
}

/*
 * Opens path for the partial rows under an advisory write lock
 * (resim_partial_create / resim_partial_reopen: created exclusively, never
 * through a link). With resume an existing file is kept (*created 0), else
 * a new one is made. Returns the stream, or NULL with err set.
 */
static FILE *open_locked(const char *path, int resume, int *created, resim_error *err)
{
    *created = 0;
    FILE *fp = resume ? resim_partial_reopen(path) : NULL;
    if (fp == NULL && (!resume || errno == ENOENT)) {
        fp = resim_partial_create(path);
        *created = fp != NULL;
    }
    if (fp == NULL)
        resim_error_set(err, RESIM_EIO, path, 0, "cannot %s: %s; not started",
                        resume ? "resume" : "create", resim_partial_strerror(errno));
    return fp;
}

/* Writes the header into an empty, locked partial file and records the inputs. */
static int start_partial(const char *path, FILE *fp, const char *inputs, const cli_sbuf *header,
                         resim_error *err)
{
    int rc = write_inputs(path, inputs, err);
    if (rc != RESIM_OK)
        return rc;
    if (fseeko(fp, 0, SEEK_SET) != 0 || ftruncate(fileno(fp), 0) != 0 ||
        fwrite(header->p, 1, header->n, fp) != header->n || fflush(fp) != 0)
        return resim_error_set(err, RESIM_EIO, path, 0, "write error");
    return RESIM_OK;
}

/*
 * Reads the complete rows of fp from its start: with header, the header
 * line first (and the recorded inputs); then rows of the local points j0,
 * j0 + 1, ... (at most j1 - j0), each checked against the point's leading
 * fields. Counts them into *rows and the bytes to keep into *keep (a torn
 * last line is not kept).
 */
static int scan_rows(FILE *fp, const char *path, const plan *p, size_t j0, size_t j1,
                     const cli_sbuf *header, const char *inputs, size_t *rows, off_t *keep,
                     resim_error *err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = RESIM_OK;
    *rows = 0;
    *keep = 0;
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
        if (lineno == 1 && header != NULL) {
            /* A complete header: the file holds a sweep, which must be this one. */
            if ((rc = check_inputs(path, inputs, err)) != RESIM_OK)
                break;
            if ((size_t)n != header->n || memcmp(line, header->p, header->n) != 0)
                rc = resim_error_set(err, RESIM_EINVAL, path, 1,
                                     "header does not match this sweep's columns; cannot resume "
                                     "(remove the file to start again)");
        } else if (j0 + *rows >= j1) {
            rc = resim_error_set(err, RESIM_EINVAL, path, lineno,
                                 "more rows than this sweep has points; cannot resume");
        } else {
            size_t i = shard_point(p, j0 + *rows);
            rc = row_prefix(&prefix, p, c, i, val, x, err);
            if (rc == RESIM_OK && strncmp(line, prefix.p, prefix.n) != 0)
                rc = resim_error_set(err, RESIM_EINVAL, path, lineno,
                                     "row is not design point %zu of this sweep (other ranges, "
                                     "seed or shard?); cannot resume",
                                     i);
            if (rc == RESIM_OK)
                ++*rows;
        }
        if (rc == RESIM_OK)
            *keep += (off_t)n;
    }
    free(line);
    free(prefix.p);
    free(val);
    free(x);
    resim_design_cursor_free(c);
    if (rc == RESIM_OK && ferror(fp))
        rc = resim_error_set(err, RESIM_EIO, path, 0, "read error");
    return rc;
}

/* Cuts fp after keep bytes and positions it there for appending. */
static int cut_at(FILE *fp, const char *path, off_t keep, resim_error *err)
{
    if (fflush(fp) != 0 || ftruncate(fileno(fp), keep) != 0 || fseeko(fp, keep, SEEK_SET) != 0)
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot cut the torn last row");
    return RESIM_OK;
}

int sweep_open_partial(const char *path, int resume, const char *inputs, const cli_sbuf *header,
                       plan *p, FILE **fpo, resim_error *err)
{
    p->done = 0;
    p->kept = 0;
    int created;
    FILE *fp = open_locked(path, resume, &created, err);
    if (fp == NULL)
        return err != NULL ? err->status : RESIM_EIO;
    if (!resume || created) {
        int rc = start_partial(path, fp, inputs, header, err);
        if (rc != RESIM_OK) {
            fclose(fp);
            if (created)
                remove(path);
            return rc;
        }
        *fpo = fp;
        return RESIM_OK;
    }
    off_t keep;
    int rc = scan_rows(fp, path, p, 0, p->n_local, header, inputs, &p->done, &keep, err);
    /* A torn header counts as nothing written. */
    if (rc == RESIM_OK && keep == 0)
        rc = start_partial(path, fp, inputs, header, err);
    else if (rc == RESIM_OK && (rc = cut_at(fp, path, keep, err)) == RESIM_OK)
        p->kept = 1;
    if (rc != RESIM_OK) {
        fclose(fp);
        return rc;
    }
    *fpo = fp;
    return RESIM_OK;
}

void sweep_remove_parts(const char *output)
{
    char dir[1100];
    const char *slash = strrchr(output, '/');
    const char *base = slash != NULL ? slash + 1 : output;
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - output) + 1, output);
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    size_t nb = strlen(base);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t n = strlen(name);
        int r, of, used = 0;
        /* BASE.rank-R-of-N.partial, nothing else. */
        if (n <= nb || strncmp(name, base, nb) != 0 ||
            sscanf(name + nb, ".rank-%d-of-%d.partial%n", &r, &of, &used) != 2 ||
            (size_t)used != n - nb)
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s%s", slash != NULL ? dir : "", name);
        remove(path);
    }
    closedir(d);
}

void sweep_part_path(char *buf, size_t n, const char *output, int rank, int ranks)
{
    snprintf(buf, n, "%s.rank-%d-of-%d.partial", output, rank, ranks);
}

int sweep_open_part(const char *path, int resume, const plan *p, size_t j0, size_t j1,
                    size_t *rows, FILE **fpo, resim_error *err)
{
    *rows = 0;
    int created;
    FILE *fp = open_locked(path, resume, &created, err);
    if (fp == NULL)
        return err != NULL ? err->status : RESIM_EIO;
    if (resume && !created) {
        off_t keep;
        int rc = scan_rows(fp, path, p, j0, j1, NULL, NULL, rows, &keep, err);
        if (rc == RESIM_OK)
            rc = cut_at(fp, path, keep, err);
        if (rc != RESIM_OK) {
            fclose(fp);
            return rc;
        }
    }
    *fpo = fp;
    return RESIM_OK;
}

/* Appends the bytes of the file open as fd (from its start) to out. */
static int copy_all(int fd, FILE *out)
{
    char buf[1 << 16];
    off_t at = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, at);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (fwrite(buf, 1, (size_t)n, out) != (size_t)n)
            return -1;
        at += n;
    }
}

int sweep_join_parts(const char *output, const char *partial, FILE *head, int ranks, char *join,
                     size_t join_size, resim_error *err)
{
    char part[1200];
    snprintf(join, join_size, "%s.join", partial);
    /* Left by a join that was killed: ours to replace while we hold the lock. */
    remove(join);
    int fd = open(join, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL) {
        if (fd >= 0)
            close(fd);
        return resim_error_set(err, RESIM_EIO, join, 0, "cannot create: %s", strerror(errno));
    }
    /* The head's stream may be write-only: read its descriptor. */
    int bad = fflush(head) != 0 || copy_all(fileno(head), out) != 0;
    for (int r = 0; !bad && r < ranks; r++) {
        sweep_part_path(part, sizeof part, output, r, ranks);
        int in = open(part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0) {
            fclose(out);
            remove(join);
            return resim_error_set(err, RESIM_EIO, part, 0, "cannot open: %s", strerror(errno));
        }
        bad = copy_all(in, out) != 0;
        close(in);
    }
    bad = bad || fflush(out) != 0 || ferror(out) || fsync(fileno(out)) != 0;
    bad |= fclose(out) != 0;
    /* Renamed onto output together with the sidecar. */
    if (bad || resim_partial_hold(join, output) != 0) {
        remove(join);
        return resim_error_set(err, RESIM_EIO, output, 0, "write error");
    }
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
    resim_design_kind kind = p->design != NULL ? resim_design_kind_of(p->design) : RESIM_DESIGN_GRID;
    if (p->design != NULL && (kind == RESIM_DESIGN_LHS || kind == RESIM_DESIGN_MORRIS))
        fprintf(fp, ", \"seed\": %lu", a->seed);
    if (p->design != NULL && kind == RESIM_DESIGN_SALTELLI)
        fprintf(fp, ", \"base_samples\": %zu, \"second_order\": %s, \"matrices\": \"point p = j G + g: "
                    "base sample j, g in the order A, AB1..ABk, [BA1..BAk,] B\"",
                a->points, a->second_order ? "true" : "false");
    if (p->design != NULL && kind == RESIM_DESIGN_MORRIS) {
        char buf[40];
        size_t levels = a->levels > 0 ? a->levels : 4; /* the default of --levels */
        resim_format_short(buf, sizeof buf, resim_design_morris_delta(levels));
        fprintf(fp, ", \"trajectories\": %zu, \"levels\": %zu, \"delta\": %s", a->trajectories,
                levels, buf);
    }
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
        if (p->design != NULL && kind == RESIM_DESIGN_GRID)
            fprintf(fp, ", \"levels\": %zu", p->keys[k].levels);
        fputc('}', fp);
    }
    fprintf(fp, "]},\n  \"total_points\": %zu,\n  \"shard\": {\"k\": %zu, \"n\": %zu, "
                "\"from\": \"%s\", \"points\": %zu},\n",
            p->total, p->shard_k, p->shard_n, p->shard_from, p->n_local);
    fprintf(fp, "  \"threshold\": %.15g,\n  \"replicates\": %zu,\n", p->threshold,
            p->replicates);
    char d0[8], d1[8];
    resim_date_format(p->start + p->win0, d0);
    resim_date_format(p->start + p->win1, d1);
    fprintf(fp, "  \"window\": {\"from\": \"%s\", \"to\": \"%s\", \"first_month\": %d, "
                "\"last_month\": %d, \"given\": %s},\n",
            d0, d1, p->win0, p->win1, p->has_window ? "true" : "false");
    fputs("  \"series\": [", fp);
    for (size_t k = 0; k < p->n_series; k++) {
        fputs(k ? ", " : "", fp);
        resim_json_string(fp, p->series[k].name);
    }
    fputs("],\n", fp);
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
    fputs("],\n  \"date_columns\": [", fp);
    for (size_t m = 0, n = 0; p->replicates == 0 && m < SWEEP_NMEASURES; m++)
        if (sweep_measure_dates[m][0] != '\0')
            fprintf(fp, "%s\"%s\"", n++ ? ", " : "", sweep_measure_dates[m]);
    fputs("]\n}\n", fp);
    rc = resim_out_commit(&o, err);
    resim_out_abort(&o);
    return rc;
}

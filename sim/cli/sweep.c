/*
 * sweep.c - `resim sweep`: run a scenario once per point of a design (grid,
 * Latin hypercube, Sobol or a design CSV) and write one row of outcome
 * measures per point, in point order.
 *
 * The points of this process are cut three ways, all by index so that the
 * output never depends on how the work was split: a shard K/N takes points
 * K-1, K-1+N, ...; MPI ranks take turns over the shard's points; threads
 * claim points one at a time and a reorder ring hands finished rows to the
 * writer in order. Rows go to FILE.partial as they come (flushed in
 * batches), which is renamed to FILE when complete; --resume keeps the
 * complete rows of a partial file and computes the rest.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#ifdef RESIM_MPI
#include <mpi.h>
#endif

#include "cli.h"
#include "resim/csvout.h"
#include "resim/rng.h"
#include "resim/csvread.h"
#include "resim/design.h"
#include "resim/outcome.h"
#include "resim/sidecar.h"

/* Groups of a sweep row: the model runs with RESIM_BY_STATUS. */
#define SWEEP_GROUPS 4
static const char *const group_names[SWEEP_GROUPS] = {"all", "none", "watch", "control"};

/* The measures of resim_outcome, in column order. */
#define SWEEP_MEASURE_LIST(X)                                         \
    X(cum_shortfall, 0) X(peak_shortfall, 0) X(peak_month, 1)         \
    X(min_availability, 0) X(min_month, 1) X(months_below, 2)         \
    X(first_below, 1) X(stock_out, 1) X(recovered, 1)
#define SWEEP_MEASURE_NAME(name, kind) #name,
static const char *const measure_names[] = {SWEEP_MEASURE_LIST(SWEEP_MEASURE_NAME)};
#undef SWEEP_MEASURE_NAME
#define NMEASURES (sizeof measure_names / sizeof measure_names[0])

#define VALUE_MAX 64     /* longest value text of a point */
#define FLUSH_ROWS 64    /* rows per flush of the partial file, at most */

static const char sweep_help[] =
    "usage: resim sweep SCENARIO --vary SECTION.KEY=LO:HI[:N]... [options] -o FILE\n"
    "\n"
    "Runs SCENARIO once per design point and writes one CSV row per point:\n"
    "point, the varied values, then <El>_<group>_<measure> for every element and\n"
    "group (all, none, watch, control). See docs/sweep.md for the columns.\n"
    "\n"
    "  --vary SECTION.KEY=LO:HI[:N]  vary a numeric key (repeatable); N grid levels\n"
    "                                (default 5, grid only), e.g.\n"
    "                                --vary 2026-02.list.add.control=0:40:5\n"
    "  --design grid|lhs|sobol|FILE.csv\n"
    "                                grid (default), Latin hypercube, Sobol, or a\n"
    "                                design file whose header names the keys\n"
    "  --points N                    points of an lhs or sobol design\n"
    "  --seed S                      seed of the Latin hypercube and of the\n"
    "                                replicates' random streams (default 1)\n"
    "  --replicates R                R stochastic replicates per point (the same\n"
    "                                R streams at every point); each measure\n"
    "                                becomes its mean and quantiles\n"
    "  --quantiles Q,Q,...           quantiles with --replicates (default\n"
    "                                0.05,0.5,0.95)\n"
    "  --threads T                   worker threads (default 1)\n"
    "  --threshold X                 availability threshold (default 0.9)\n"
    "  --shard K/N                   compute points K-1, K-1+N, ... (default from\n"
    "                                SLURM_ARRAY_TASK_ID/COUNT/MIN, else 1/1)\n"
    "  --resume                      keep the complete rows of FILE.partial\n"
    "  --progress                    progress on stderr even when not a terminal\n"
    "  --set SECTION.KEY=VALUE       override a key for every point\n"
    "  --warmup N                    warm-up months\n"
    "  -o, --output FILE             the CSV (written as FILE.partial, renamed\n"
    "                                when complete) and FILE.json\n"
#ifdef RESIM_MPI
    "\nbuilt with MPI: yes (mpirun -n P resim sweep ... spreads points over ranks)\n";
#else
    "\nbuilt with MPI: no\n";
#endif

/* MPI rank of this process (0 without MPI); only rank 0 prints. */
static int sweep_rank = 0;

static int usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static int usage(const char *fmt, ...)
{
    if (sweep_rank == 0) { /* under MPI, one message, not one per rank */
        va_list ap;
        va_start(ap, fmt);
        cli_usagev("see 'resim sweep --help'", fmt, ap);
        va_end(ap);
    }
    return EXIT_USAGE;
}

static int fail(const resim_error *err)
{
    if (sweep_rank == 0)
        return cli_fail(err);
    return err->status == RESIM_EUSAGE ? EXIT_USAGE : EXIT_INPUT;
}

/* ------------------------------------------------------------ strings */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

static int sb_str(sbuf *b, const char *s) { return sb_put(b, s, strlen(s)); }

/* Appends a CSV text field (quoted only when needed). */
static int sb_text(sbuf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL)
        return sb_str(b, s);
    int rc = sb_put(b, "\"", 1);
    for (const char *c = s; *c != '\0' && rc == 0; c++)
        rc = *c == '"' ? sb_put(b, "\"\"", 2) : sb_put(b, c, 1);
    return rc != 0 ? rc : sb_put(b, "\"", 1);
}

static int sb_number(sbuf *b, double v)
{
    char buf[40];
    int n = resim_format_number(buf, sizeof buf, v);
    return sb_put(b, buf, (size_t)n);
}

/* A month number, or an empty field for -1 (never). */
static int sb_month(sbuf *b, int m)
{
    char buf[24];
    if (m < 0)
        return 0;
    int n = snprintf(buf, sizeof buf, "%d", m);
    return sb_put(b, buf, (size_t)n);
}

/* ------------------------------------------------------------ plan */

/* One varied key. */
typedef struct vkey {
    char name[256];    /* SECTION.KEY as given */
    char section[64];
    char key[192];
    double lo, hi;     /* range (of the design file's column for FILE) */
    size_t levels;     /* grid levels */
    int has_levels;
    int col;           /* design file column */
} vkey;

typedef struct sweep_args {
    cli_opts scen;
    const char **vary;
    size_t n_vary;
    const char *design;
    size_t points;
    int has_points;
    unsigned long seed;
    size_t threads;
    double threshold;
    size_t replicates;         /* 0: the deterministic mode */
    double quantiles[32];
    size_t n_quantiles;
    const char *shard;
    int resume, progress;
    const char *output;
} sweep_args;

/* Everything that decides which points this process computes and how. */
typedef struct plan {
    size_t dims;
    vkey *keys;
    resim_design *design;  /* generated designs */
    resim_table table;     /* design file */
    const char *origin;    /* origin of the INI entries a point sets */
    size_t total;          /* points of the whole design */
    size_t shard_k, shard_n; /* 1-based shard K of N */
    const char *shard_from;  /* "--shard", "SLURM_ARRAY_TASK_ID" or "default" */
    size_t n_local;        /* points of this shard */
    size_t done;           /* of these, already in the partial file */
    double threshold;
    int ranks;
    size_t replicates;       /* 0: deterministic */
    unsigned long seed;
    const double *quantiles;
    size_t n_quantiles;
} plan;

static size_t shard_point(const plan *p, size_t j) { return p->shard_k - 1 + j * p->shard_n; }

/*
 * The value texts of point i. A generated value is formatted once, and the
 * same text is both applied to the scenario and written to the output.
 */
static int point_values(const plan *p, resim_design_cursor *c, size_t i, char (*val)[VALUE_MAX],
                        double *x, resim_error *err)
{
    if (p->design == NULL) {
        for (size_t k = 0; k < p->dims; k++)
            snprintf(val[k], VALUE_MAX, "%s", resim_table_at(&p->table, i, (size_t)p->keys[k].col));
        return RESIM_OK;
    }
    int rc = resim_design_point(p->design, c, i, x, err);
    for (size_t k = 0; rc == RESIM_OK && k < p->dims; k++)
        resim_format_short(val[k], VALUE_MAX, x[k]);
    return rc;
}

/* ------------------------------------------------------------ arguments */

static int parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Keys that take text, not numbers: they cannot be varied. */
static int text_key(const char *section, const char *key)
{
    static const char *const names[] = {"name", "start", "data", "elements", "controlled",
                                        "controlled.add", "controlled.remove", "list.set",
                                        "source", "policy.controlled"};
    (void)section;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(key, names[k]) == 0)
            return 1;
    return 0;
}

static int known_section(const char *s)
{
    static const char *const names[] = {"scenario", "policy", "demand", "alt", "stockpile"};
    int ym;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(s, names[k]) == 0)
            return 1;
    return resim_date_parse(s, &ym) == 0;
}

/*
 * Splits SECTION.KEY into k and checks it names a numeric key of the
 * scenario, by resolving a copy of the INI with the key set to `probe`.
 * Returns RESIM_OK, RESIM_EUSAGE for a malformed or unknown key, or
 * another status.
 */
static int check_key(vkey *k, const char *name, const char *probe, const char *origin,
                     const cli_scenario *s, resim_error *err)
{
    const char *dot = strchr(name, '.');
    if (strlen(name) >= sizeof k->name || dot == NULL || dot == name || dot[1] == '\0' ||
        (size_t)(dot - name) >= sizeof k->section || strlen(dot + 1) >= sizeof k->key)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0,
                               "'%s' is not SECTION.KEY (e.g. policy.approval.watch)", name);
    snprintf(k->name, sizeof k->name, "%s", name);
    memcpy(k->section, name, (size_t)(dot - name));
    k->section[dot - name] = '\0';
    snprintf(k->key, sizeof k->key, "%s", dot + 1);
    if (!known_section(k->section))
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0,
                               "%s: unknown section [%s] (expected scenario, policy, demand, "
                               "alt, stockpile or a month YYYY-MM)",
                               name, k->section);
    if (text_key(k->section, k->key))
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0, "%s: not a numeric key", name);
    resim_ini ini;
    resim_scenario sc;
    resim_error e2 = {0};
    int rc = resim_ini_copy(&ini, s->sc.ini, err);
    if (rc != RESIM_OK)
        return rc;
    rc = resim_ini_put(&ini, k->section, k->key, probe, origin, 0, &e2);
    if (rc == RESIM_OK)
        rc = resim_scenario_resolve(&sc, &ini, &s->data, NULL, NULL, &e2);
    if (rc == RESIM_OK)
        resim_scenario_free(&sc);
    resim_ini_free(&ini);
    /* Only an unknown key is refused here; a rejected value is reported by
     * the point that uses it. The resolver says "unknown" for both an
     * unknown key and an unknown element or source inside one. */
    if (rc != RESIM_OK && strstr(e2.msg, "unknown") != NULL)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0, "%s: unknown key for this scenario (%s)",
                               name, e2.msg);
    return RESIM_OK;
}

/* Parses one --vary SECTION.KEY=LO:HI[:N]; errors are usage errors. */
static int parse_vary(vkey *k, const char *spec, const cli_scenario *s, resim_error *err)
{
    memset(k, 0, sizeof *k);
    const char *eq = strchr(spec, '=');
    if (eq == NULL)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0,
                               "--vary '%s': expected SECTION.KEY=LO:HI[:N]", spec);
    char name[256], range[256];
    if ((size_t)(eq - spec) >= sizeof name || strlen(eq + 1) >= sizeof range)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0, "--vary '%s': too long", spec);
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    strcpy(range, eq + 1);
    char *c1 = strchr(range, ':');
    if (c1 == NULL)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0,
                               "--vary '%s': expected a range LO:HI[:N] after '='", spec);
    *c1 = '\0';
    char *c2 = strchr(c1 + 1, ':');
    if (c2 != NULL)
        *c2 = '\0';
    if (resim_parse_double(range, &k->lo) != 0 || resim_parse_double(c1 + 1, &k->hi) != 0)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0,
                               "--vary '%s': LO and HI must be numbers", spec);
    if (k->lo > k->hi)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0, "--vary '%s': LO is above HI", spec);
    k->levels = 5;
    if (c2 != NULL) {
        if (parse_size(c2 + 1, 1, 1000000, &k->levels) != 0)
            return resim_error_set(err, RESIM_EUSAGE, NULL, 0,
                                   "--vary '%s': N must be a whole number of levels, at least 1",
                                   spec);
        k->has_levels = 1;
    }
    char probe[VALUE_MAX];
    resim_format_short(probe, sizeof probe, k->lo);
    vkey tmp = *k;
    int rc = check_key(&tmp, name, probe, "--vary", s, err);
    if (rc != RESIM_OK) {
        if (err != NULL && rc == RESIM_EUSAGE) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            resim_error_set(err, RESIM_EUSAGE, NULL, 0, "--vary %.900s", msg);
        }
        return rc;
    }
    *k = tmp;
    return RESIM_OK;
}

/* Reads a design file: keys from its header, one point per row. */
static int load_design_file(plan *p, const char *path, const cli_scenario *s, resim_error *err)
{
    int rc = resim_table_read(&p->table, path, err);
    if (rc != RESIM_OK)
        return rc;
    resim_table *t = &p->table;
    if (t->nrow == 0)
        return resim_error_set(err, RESIM_EINVAL, path, 1, "no design points (only a header)");
    p->keys = calloc(t->ncol, sizeof *p->keys);
    if (p->keys == NULL)
        return resim_error_set(err, RESIM_ENOMEM, path, 0, "out of memory");
    for (size_t j = 0; j < t->ncol; j++) {
        const char *h = t->header[j];
        /* A leading index column (pandas writes it unnamed) and EMA
         * Workbench's bookkeeping columns carry no key. */
        if ((j == 0 && (h[0] == '\0' || strcmp(h, "point") == 0)) || strcmp(h, "scenario") == 0 ||
            strcmp(h, "policy") == 0 || strcmp(h, "model") == 0)
            continue;
        for (size_t k = 0; k < p->dims; k++)
            if (strcmp(p->keys[k].name, h) == 0)
                return resim_error_set(err, RESIM_EINVAL, path, 1, "column %zu: key %s given twice",
                                       j + 1, h);
        vkey *k = &p->keys[p->dims];
        resim_error e2 = {0};
        rc = check_key(k, h, resim_table_at(t, 0, j), "the design file", s, &e2);
        if (rc != RESIM_OK)
            return resim_error_set(err, rc == RESIM_EUSAGE ? RESIM_EINVAL : rc, path, 1,
                                   "column %zu: %s", j + 1, e2.msg);
        k->col = (int)j;
        k->lo = HUGE_VAL;
        k->hi = -HUGE_VAL;
        for (size_t i = 0; i < t->nrow; i++) {
            const char *cell = resim_table_at(t, i, j);
            double v;
            if (resim_parse_double(cell, &v) != 0)
                return resim_error_set(err, RESIM_EPARSE, path, t->line[i],
                                       "column %zu (%s): '%s' is not a number", j + 1, h, cell);
            if (strlen(cell) >= VALUE_MAX)
                return resim_error_set(err, RESIM_EPARSE, path, t->line[i],
                                       "column %zu (%s): value longer than %d characters", j + 1,
                                       h, VALUE_MAX - 1);
            k->lo = fmin(k->lo, v);
            k->hi = fmax(k->hi, v);
        }
        p->dims++;
    }
    if (p->dims == 0)
        return resim_error_set(err, RESIM_EINVAL, path, 1, "no key columns (SECTION.KEY) in the header");
    p->total = t->nrow;
    p->origin = t->path;
    return RESIM_OK;
}

/* Parses K/N; returns 0 or -1. */
static int parse_shard(const char *s, size_t *k, size_t *n)
{
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    if (parse_size(buf, 1, SIZE_MAX, k) != 0 || parse_size(slash + 1, 1, SIZE_MAX, n) != 0 ||
        *k > *n)
        return -1;
    return 0;
}

/* The shard from --shard, else from a Slurm array job, else 1/1. */
static int choose_shard(plan *p, const char *opt)
{
    p->shard_k = p->shard_n = 1;
    p->shard_from = "default";
    if (opt != NULL) {
        if (parse_shard(opt, &p->shard_k, &p->shard_n) != 0)
            return usage("--shard '%s': expected K/N with 1 <= K <= N", opt);
        p->shard_from = "--shard";
        return 0;
    }
    const char *id = getenv("SLURM_ARRAY_TASK_ID");
    if (id == NULL || id[0] == '\0')
        return 0;
    const char *count = getenv("SLURM_ARRAY_TASK_COUNT"), *min = getenv("SLURM_ARRAY_TASK_MIN");
    size_t vid, vcount, vmin = 0;
    if (parse_size(id, 0, SIZE_MAX, &vid) != 0)
        return usage("SLURM_ARRAY_TASK_ID='%s' is not a task number", id);
    if (count == NULL || parse_size(count, 1, SIZE_MAX, &vcount) != 0)
        return usage("SLURM_ARRAY_TASK_COUNT='%s' is not a task count (needed with "
                     "SLURM_ARRAY_TASK_ID)",
                     count != NULL ? count : "");
    if (min != NULL && min[0] != '\0' && parse_size(min, 0, SIZE_MAX, &vmin) != 0)
        return usage("SLURM_ARRAY_TASK_MIN='%s' is not a task number", min);
    if (vid < vmin || vid - vmin >= vcount)
        return usage("SLURM_ARRAY_TASK_ID=%zu is outside MIN=%zu .. MIN+COUNT-1 (COUNT=%zu); "
                     "use a contiguous array (--array=0-N)",
                     vid, vmin, vcount);
    p->shard_k = vid - vmin + 1;
    p->shard_n = vcount;
    p->shard_from = "SLURM_ARRAY_TASK_ID";
    return 0;
}

static int parse_args(int argc, char **argv, sweep_args *a)
{
    memset(a, 0, sizeof *a);
    a->seed = 1;
    a->threads = 1;
    a->threshold = 0.9;
    static const double default_q[] = {0.05, 0.5, 0.95};
    a->n_quantiles = sizeof default_q / sizeof default_q[0];
    memcpy(a->quantiles, default_q, sizeof default_q);
    a->scen.sets = calloc((size_t)argc, sizeof *a->scen.sets);
    a->vary = calloc((size_t)argc, sizeof *a->vary);
    if (a->scen.sets == NULL || a->vary == NULL)
        return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        size_t n;
#define OPT(name) ((r = cli_opt(argc, argv, &i, name, &v)) != 0)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            if (sweep_rank == 0)
                fputs(sweep_help, stdout);
            return -1;
        } else if (OPT("--set")) {
            if (r < 0)
                return EXIT_USAGE;
            a->scen.sets[a->scen.n_sets++] = v;
        } else if (OPT("--warmup")) {
            if (r < 0)
                return EXIT_USAGE;
            a->scen.warmup = v;
        } else if (OPT("--vary")) {
            if (r < 0)
                return EXIT_USAGE;
            a->vary[a->n_vary++] = v;
        } else if (OPT("--design")) {
            if (r < 0)
                return EXIT_USAGE;
            a->design = v;
        } else if (OPT("--points")) {
            if (r < 0)
                return EXIT_USAGE;
            if (parse_size(v, 1, SIZE_MAX / 2, &a->points) != 0)
                return usage("--points '%s': expected a whole number, at least 1", v);
            a->has_points = 1;
        } else if (OPT("--replicates")) {
            if (r < 0)
                return EXIT_USAGE;
            if (parse_size(v, 1, 100000000, &a->replicates) != 0)
                return usage("--replicates '%s': expected a whole number, at least 1", v);
        } else if (OPT("--quantiles")) {
            if (r < 0)
                return EXIT_USAGE;
            int code = cli_parse_quantiles(v, a->quantiles, 32, &a->n_quantiles);
            if (code != 0)
                return code;
        } else if (OPT("--seed")) {
            if (r < 0)
                return EXIT_USAGE;
            if (parse_size(v, 0, 4294967295u, &n) != 0)
                return usage("--seed '%s': expected a whole number in [0, 4294967295]", v);
            a->seed = (unsigned long)n;
        } else if (OPT("--threads")) {
            if (r < 0)
                return EXIT_USAGE;
            if (parse_size(v, 1, 1024, &a->threads) != 0)
                return usage("--threads '%s': expected a whole number in [1, 1024]", v);
        } else if (OPT("--threshold")) {
            if (r < 0)
                return EXIT_USAGE;
            if (resim_parse_double(v, &a->threshold) != 0 || a->threshold < 0 || a->threshold > 1)
                return usage("--threshold '%s': expected a number in [0, 1]", v);
        } else if (OPT("--shard")) {
            if (r < 0)
                return EXIT_USAGE;
            a->shard = v;
        } else if (OPT("--output") || OPT("-o")) {
            if (r < 0)
                return EXIT_USAGE;
            a->output = v;
        } else if (strcmp(argv[i], "--resume") == 0) {
            a->resume = 1;
        } else if (strcmp(argv[i], "--progress") == 0) {
            a->progress = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage("unknown option '%s'", argv[i]);
        } else if (a->scen.scenario == NULL) {
            a->scen.scenario = argv[i];
        } else {
            return usage("more than one scenario given ('%s')", argv[i]);
        }
#undef OPT
    }
    if (a->scen.scenario == NULL)
        return usage("no scenario file given");
    if (a->output == NULL || strcmp(a->output, "-") == 0)
        return usage("sweep needs -o FILE (rows are written to FILE.partial, then renamed)");
    if (strlen(a->output) > 900)
        return usage("output path too long");
    return 0;
}

/* Builds the design from the arguments. Returns 0 or an exit code. */
static int build_plan(plan *p, const sweep_args *a, const cli_scenario *s, resim_error *err)
{
    const char *d = a->design != NULL ? a->design : "grid";
    int is_file = strcmp(d, "grid") != 0 && strcmp(d, "lhs") != 0 && strcmp(d, "sobol") != 0;
    p->threshold = a->threshold;
    p->origin = "--vary";
    p->replicates = a->replicates;
    p->seed = a->seed;
    p->quantiles = a->quantiles;
    p->n_quantiles = a->n_quantiles;
    if (is_file) {
        if (a->n_vary > 0)
            return usage("--vary and a design file (%s) exclude each other: the file's header "
                         "names the keys",
                         d);
        if (a->has_points)
            return usage("--points does not apply to a design file (%s): its rows are the points",
                         d);
        int rc = load_design_file(p, d, s, err);
        return rc == RESIM_OK ? 0 : fail(err);
    }
    resim_design_kind kind = strcmp(d, "grid") == 0  ? RESIM_DESIGN_GRID
                             : strcmp(d, "lhs") == 0 ? RESIM_DESIGN_LHS
                                                     : RESIM_DESIGN_SOBOL;
    if (a->n_vary == 0)
        return usage("nothing to vary: give --vary SECTION.KEY=LO:HI[:N] or --design FILE.csv");
    if (kind == RESIM_DESIGN_GRID && a->has_points)
        return usage("--points applies to lhs and sobol; a grid has N levels per key "
                     "(--vary KEY=LO:HI:N)");
    if (kind != RESIM_DESIGN_GRID && !a->has_points)
        return usage("--design %s needs --points N", d);
    if (kind == RESIM_DESIGN_SOBOL && a->n_vary > RESIM_SOBOL_MAX_DIMS)
        return usage("--design sobol supports at most %d keys, not %zu", RESIM_SOBOL_MAX_DIMS,
                     a->n_vary);
    p->dims = a->n_vary;
    p->keys = calloc(p->dims, sizeof *p->keys);
    double *lo = malloc(p->dims * sizeof *lo), *hi = malloc(p->dims * sizeof *hi);
    size_t *lv = malloc(p->dims * sizeof *lv);
    int code = 0;
    if (p->keys == NULL || lo == NULL || hi == NULL || lv == NULL) {
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        code = fail(err);
    }
    for (size_t k = 0; code == 0 && k < p->dims; k++) {
        int rc = parse_vary(&p->keys[k], a->vary[k], s, err);
        if (rc != RESIM_OK) {
            code = fail(err);
            break;
        }
        for (size_t j = 0; j < k; j++)
            if (strcmp(p->keys[j].name, p->keys[k].name) == 0) {
                code = usage("--vary %s given twice", p->keys[k].name);
                break;
            }
        if (code == 0 && kind != RESIM_DESIGN_GRID && p->keys[k].has_levels)
            code = usage("--vary '%s': levels (:N) apply to a grid; --design %s takes --points",
                         a->vary[k], d);
        lo[k] = p->keys[k].lo;
        hi[k] = p->keys[k].hi;
        lv[k] = p->keys[k].levels;
    }
    if (code == 0) {
        p->design = resim_design_alloc(kind, p->dims, lo, hi, lv, a->points, a->seed, err);
        if (p->design == NULL) {
            err->status = RESIM_EUSAGE;
            code = fail(err);
        } else {
            p->total = resim_design_size(p->design);
        }
    }
    free(lo);
    free(hi);
    free(lv);
    return code;
}

static void free_plan(plan *p)
{
    resim_design_free(p->design);
    resim_table_free(&p->table);
    free(p->keys);
}

/* ------------------------------------------------------------ one point */

/* What one thread needs to compute points: its own INI, model and buffers. */
typedef struct worker {
    struct engine *eng;
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
} worker;

static void worker_free(worker *w)
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
}

static int worker_init(worker *w, const plan *p, const cli_scenario *s, resim_error *err)
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
    if (p->replicates > 0) {
        size_t cells = E * SWEEP_GROUPS * RESIM_NMETRICS;
        if ((rc = resim_ini_copy(&w->raw, &s->ini, err)) != RESIM_OK)
            return rc;
        if ((w->ens = resim_worker_alloc(&s->data, &s->sc, RESIM_BY_STATUS, err)) == NULL)
            return err != NULL ? err->status : RESIM_ENOMEM;
        w->series = malloc((size_t)s->sc.months * cells * sizeof *w->series);
        w->draws = malloc((s->u.n + 1) * sizeof *w->draws);
        w->meas = malloc(E * SWEEP_GROUPS * NMEASURES * p->replicates * sizeof *w->meas);
        if (w->series == NULL || w->draws == NULL || w->meas == NULL)
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0,
                                   "out of memory (fewer --replicates?)");
    }
    return RESIM_OK;
}

/* The measures of one outcome as numbers, months of events that never
 * happened as NaN (left out of the replicate statistics). */
static void outcome_values(const resim_outcome *o, double *v)
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

/* Runs the point's replicates and formats mean and quantiles of every measure. */
static int replicate_measures(worker *w, const plan *p, const cli_scenario *s, size_t i, sbuf *b,
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
            for (int t = 0; t < s->sc.months; t++)
                resim_outcome_add(&w->oc[g], t, w->series + (size_t)t * cells + g * RESIM_NMETRICS,
                                  p->threshold);
            resim_outcome_finish(&w->oc[g], s->sc.months);
            double v[NMEASURES];
            outcome_values(&w->oc[g], v);
            for (size_t m = 0; m < NMEASURES; m++)
                w->meas[(g * NMEASURES + m) * R + r] = v[m];
        }
    }
    if (rc != RESIM_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return resim_error_set(err, rc, NULL, 0, "design point %zu: %.900s", i, msg);
    }
    double quant[32], mean, below;
    int bad = 0;
    for (size_t c = 0; c < E * G * NMEASURES; c++) {
        resim_ensemble_cell(w->meas + c * R, R, p->quantiles, p->n_quantiles, 0, &mean, quant,
                            &below);
        bad |= sb_put(b, ",", 1) | sb_number(b, mean);
        for (size_t q = 0; q < p->n_quantiles; q++)
            bad |= sb_put(b, ",", 1) | sb_number(b, quant[q]);
    }
    return bad ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory") : RESIM_OK;
}

static int row_measures(sbuf *b, const resim_outcome *o)
{
    int rc = 0;
    rc |= sb_put(b, ",", 1) | sb_number(b, o->cum_shortfall);
    rc |= sb_put(b, ",", 1) | sb_number(b, o->peak_shortfall);
    rc |= sb_put(b, ",", 1) | sb_month(b, o->peak_month);
    rc |= sb_put(b, ",", 1) | sb_number(b, o->min_availability);
    rc |= sb_put(b, ",", 1) | sb_month(b, o->min_month);
    rc |= sb_put(b, ",", 1) | sb_month(b, o->months_below);
    rc |= sb_put(b, ",", 1) | sb_month(b, o->first_below);
    rc |= sb_put(b, ",", 1) | sb_month(b, o->stock_out);
    rc |= sb_put(b, ",", 1) | sb_month(b, o->recovered);
    return rc;
}

/*
 * Runs design point i and formats its row into b. The point's values are
 * set on the worker's own copy of the raw INI (each point sets every varied
 * key, so earlier points leave no trace) and resolved again.
 *
 * With --replicates the point runs R replicates of the stochastic mode and
 * its row carries each measure's mean and quantiles over them.
 */
static int compute_point(worker *w, const plan *p, const cli_scenario *s, size_t i, sbuf *b,
                         resim_error *err)
{
    int rc = point_values(p, w->cursor, i, w->val, w->x, err);
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
        char num[32];
        b->n = 0;
        int bad = sb_put(b, num, (size_t)snprintf(num, sizeof num, "%zu", i));
        for (size_t k = 0; k < p->dims; k++)
            bad |= sb_put(b, ",", 1) | sb_text(b, w->val[k]);
        if (bad)
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        if ((rc = replicate_measures(w, p, s, i, b, err)) != RESIM_OK)
            return rc;
        return sb_put(b, "\n", 1) ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory")
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
    if ((rc = resim_model_init(w->m, &sc, err)) != RESIM_OK) {
        resim_scenario_free(&sc);
        return rc;
    }
    for (size_t g = 0; g < E * SWEEP_GROUPS; g++)
        resim_outcome_init(&w->oc[g]);
    while (resim_model_month(w->m) < sc.months) {
        int t = resim_model_month(w->m);
        resim_model_step(w->m, w->out);
        if (t < 0)
            continue;
        for (size_t g = 0; g < E * SWEEP_GROUPS; g++)
            resim_outcome_add(&w->oc[g], t, w->out + g * RESIM_NMETRICS, p->threshold);
    }
    for (size_t g = 0; g < E * SWEEP_GROUPS; g++)
        resim_outcome_finish(&w->oc[g], sc.months);
    resim_scenario_free(&sc);

    char num[32];
    b->n = 0;
    int bad = sb_put(b, num, (size_t)snprintf(num, sizeof num, "%zu", i));
    for (size_t k = 0; k < p->dims; k++)
        bad |= sb_put(b, ",", 1) | sb_text(b, w->val[k]);
    for (size_t g = 0; g < E * SWEEP_GROUPS; g++)
        bad |= row_measures(b, &w->oc[g]);
    bad |= sb_put(b, "\n", 1);
    if (bad)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    return RESIM_OK;
}

/* ------------------------------------------------------------ threads */

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

typedef struct slot {
    int state;
    int status;
    sbuf row;
    resim_error err;
} slot;

/*
 * Computes the points i0, i0 + di, ... (count of them) on worker threads and
 * hands their rows out in that order through a ring of slots: a worker
 * claims the next sequence number only when its slot is free, so at most
 * `nslot` rows are held, however many points there are.
 */
typedef struct engine {
    const plan *p;
    const cli_scenario *s;
    size_t i0, di, count;
    pthread_mutex_t mu;
    pthread_cond_t ready, space;
    size_t next_claim, next_out;
    int stop;
    slot *ring;
    size_t nslot;
    worker *w;
    size_t nw, started;
} engine;

static void *worker_main(void *arg)
{
    worker *w = arg;
    engine *e = w->eng;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        if (e->stop || e->next_claim >= e->count)
            break;
        if (e->next_claim >= e->next_out + e->nslot) {
            pthread_cond_wait(&e->space, &e->mu);
            continue;
        }
        size_t q = e->next_claim++;
        slot *sl = &e->ring[q % e->nslot];
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

static void engine_stop(engine *e)
{
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    pthread_cond_broadcast(&e->space);
    pthread_mutex_unlock(&e->mu);
    for (size_t t = 0; t < e->started; t++)
        pthread_join(e->w[t].thread, NULL);
    e->started = 0;
}

static void engine_free(engine *e)
{
    engine_stop(e);
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

static int engine_start(engine *e, const plan *p, const cli_scenario *s, size_t i0, size_t di,
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

/* Waits for the next row in order; NULL (with err) if its point failed. */
static const sbuf *engine_next(engine *e, resim_error *err)
{
    pthread_mutex_lock(&e->mu);
    slot *sl = &e->ring[e->next_out % e->nslot];
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

/* Gives the slot of the row engine_next returned back to the workers. */
static void engine_release(engine *e)
{
    pthread_mutex_lock(&e->mu);
    e->ring[e->next_out % e->nslot].state = SLOT_FREE;
    e->next_out++;
    pthread_cond_broadcast(&e->space);
    pthread_mutex_unlock(&e->mu);
}

/* ------------------------------------------------------------ output */

static int header_line(sbuf *b, const plan *p, const resim_scenario *sc)
{
    int bad = sb_str(b, "point");
    for (size_t k = 0; k < p->dims; k++)
        bad |= sb_put(b, ",", 1) | sb_text(b, p->keys[k].name);
    for (size_t e = 0; e < sc->n_elements; e++)
        for (size_t g = 0; g < SWEEP_GROUPS; g++)
            for (size_t m = 0; m < NMEASURES; m++) {
                char name[96];
                snprintf(name, sizeof name, ",%s_%s_%s", resim_scenario_symbol(sc, e),
                         group_names[g], measure_names[m]);
                bad |= sb_str(b, name);
                if (p->replicates == 0)
                    continue;
                bad |= sb_str(b, "_mean");
                for (size_t q = 0; q < p->n_quantiles; q++) {
                    char qn[16];
                    cli_quantile_name(qn, sizeof qn, p->quantiles[q]);
                    bad |= sb_str(b, name) | sb_str(b, "_") | sb_str(b, qn);
                }
            }
    bad |= sb_put(b, "\n", 1);
    return bad;
}

/* The leading fields of point i's row ("i,v1,...,vk,"), for resume checks. */
static int row_prefix(sbuf *b, const plan *p, resim_design_cursor *c, size_t i,
                      char (*val)[VALUE_MAX], double *x, resim_error *err)
{
    int rc = point_values(p, c, i, val, x, err);
    if (rc != RESIM_OK)
        return rc;
    char num[32];
    b->n = 0;
    int bad = sb_put(b, num, (size_t)snprintf(num, sizeof num, "%zu", i));
    for (size_t k = 0; k < p->dims; k++)
        bad |= sb_put(b, ",", 1) | sb_text(b, val[k]);
    bad |= sb_put(b, ",", 1);
    return bad ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory") : RESIM_OK;
}

/*
 * Opens the partial file. Without resume it starts afresh with the header.
 * With resume it keeps the header and the complete rows that belong to this
 * sweep, in order, cuts off a torn last line and counts the rows kept.
 */
static int open_partial(const char *path, int resume, const sbuf *header, plan *p, FILE **fpo,
                        resim_error *err)
{
    p->done = 0;
    FILE *fp = resume ? resim_partial_reopen(path) : NULL;
    if (fp == NULL) {
        if (resume && errno != ENOENT)
            return resim_error_set(err, RESIM_EIO, path, 0, "cannot resume: %s", resim_partial_strerror(errno));
        if ((fp = resim_partial_create(path)) == NULL)
            return resim_error_set(err, RESIM_EIO, path, 0, "cannot create: %s", resim_partial_strerror(errno));
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
    sbuf prefix = {0};
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
        return open_partial(path, 0, header, p, fpo, err);
    }
    if (fflush(fp) != 0 || ftruncate(fileno(fp), keep) != 0 || fseeko(fp, keep, SEEK_SET) != 0) {
        fclose(fp);
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot cut the torn last row");
    }
    *fpo = fp;
    return RESIM_OK;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct progress {
    int on;
    double t0, last;
    size_t start, total;
} progress;

static void progress_show(progress *pr, size_t done, int final)
{
    if (!pr->on)
        return;
    double t = now_seconds();
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

static int write_sidecar(const char *csv, const plan *p, const sweep_args *a,
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
    for (size_t m = 0; m < NMEASURES; m++)
        fprintf(fp, "%s\"%s\"", m ? ", " : "", measure_names[m]);
    fputs("]\n}\n", fp);
    rc = resim_out_commit(&o, err);
    resim_out_abort(&o);
    return rc;
}

/* ------------------------------------------------------------ MPI */

#ifdef RESIM_MPI
enum { TAG_ROW = 1, TAG_ERR = 2 };

/* True when started by mpirun (or another PMI launcher). */
static int mpi_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMI_SIZE") != NULL ||
           getenv("PMIX_RANK") != NULL;
}
#endif

#ifdef RESIM_MPI
/* Sends a row to rank 0. A blocking send spins a core while rank 0 is busy
 * (taking it from this rank's own worker), so wait for it with short sleeps. */
static void send_row(const sbuf *row)
{
    MPI_Request req;
    int done = 0;
    MPI_Isend(row->p, (int)row->n, MPI_CHAR, 0, TAG_ROW, MPI_COMM_WORLD, &req);
    long nap = 20000;
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done) {
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        if (nap < 1000000)
            nap *= 2;
    }
}
#endif

/* Receives the next row of rank `from` into b; returns RESIM_OK or the
 * error that rank sent. */
static int recv_row(int from, sbuf *b, resim_error *err)
{
#ifdef RESIM_MPI
    MPI_Status st;
    int n, flag = 0;
    /* Open MPI's blocking probe spins a core at full speed; rank 0 also
     * computes points, so wait for a row by polling with short sleeps. */
    long nap = 20000;
    for (;;) {
        MPI_Iprobe(from, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (flag)
            break;
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        if (nap < 1000000)
            nap *= 2;
    }
    MPI_Get_count(&st, MPI_CHAR, &n);
    b->n = 0;
    if (n < 0 || sb_put(b, "", 0) != 0 || (size_t)n + 1 > b->cap) {
        size_t need = (size_t)n + 1;
        char *q = realloc(b->p, need);
        if (q == NULL)
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        b->p = q;
        b->cap = need;
    }
    MPI_Recv(b->p, n, MPI_CHAR, from, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    b->n = (size_t)n;
    b->p[b->n] = '\0';
    if (st.MPI_TAG == TAG_ERR)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0, "%s", b->p);
    return RESIM_OK;
#else
    (void)from;
    (void)b;
    return resim_error_set(err, RESIM_EINVAL, NULL, 0, "no MPI in this build");
#endif
}

/* ------------------------------------------------------------ command */

/*
 * Computes this rank's share of the shard's remaining points. Rank 0
 * writes every row, its own and the other ranks', in point order; the
 * other ranks send theirs to it. Returns a resim status.
 */
static int run_points(const plan *p, const cli_scenario *s, size_t threads, int rank, int ranks,
                      FILE *fp, progress *pr, resim_error *err)
{
    size_t left = p->n_local - p->done;
    size_t mine = left > (size_t)rank ? (left - (size_t)rank + (size_t)ranks - 1) / (size_t)ranks : 0;
    size_t i0 = shard_point(p, p->done + (size_t)rank);
    engine e;
    int rc = engine_start(&e, p, s, i0, p->shard_n * (size_t)ranks, mine,
                          threads < mine ? threads : mine, err);
    sbuf remote = {0};
    size_t since_flush = 0;
    double last_flush = now_seconds();
    for (size_t q = 0; rc == RESIM_OK && q < (rank == 0 ? left : mine); q++) {
        const sbuf *row;
        int from = rank == 0 ? (int)(q % (size_t)ranks) : rank;
        if (from == rank) {
            row = engine_next(&e, err);
            if (row == NULL) {
                rc = err != NULL ? err->status : RESIM_EINVAL;
#ifdef RESIM_MPI
                if (rank != 0)
                    MPI_Send(err->msg, (int)strlen(err->msg), MPI_CHAR, 0, TAG_ERR, MPI_COMM_WORLD);
#endif
                break;
            }
        } else {
            if ((rc = recv_row(from, &remote, err)) != RESIM_OK)
                break;
            row = &remote;
        }
        if (rank != 0) {
#ifdef RESIM_MPI
            send_row(row);
#endif
        } else {
            if (fwrite(row->p, 1, row->n, fp) != row->n)
                rc = resim_error_set(err, RESIM_EIO, NULL, 0, "write error");
            /* Flush in batches: a kill loses at most the rows since. */
            double t = now_seconds();
            if (++since_flush >= FLUSH_ROWS || t - last_flush > 0.5) {
                if (fflush(fp) != 0)
                    rc = resim_error_set(err, RESIM_EIO, NULL, 0, "write error");
                since_flush = 0;
                last_flush = t;
            }
            progress_show(pr, p->done + q + 1, 0);
        }
        if (from == rank)
            engine_release(&e);
    }
    free(remote.p);
    engine_free(&e);
    return rc;
}

int cli_sweep(int argc, char **argv)
{
    int ranks = 1;
#ifdef RESIM_MPI
    int use_mpi = mpi_launched();
    if (use_mpi) {
        int provided;
        MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &sweep_rank);
        MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    }
#endif
    sweep_args a;
    plan p;
    memset(&p, 0, sizeof p);
    p.ranks = ranks;
    cli_scenario s;
    int loaded = 0, code = parse_args(argc, argv, &a);
    resim_error err = {0};
    char partial[1100];
    FILE *fp = NULL;
    if (code == 0) {
        if (cli_load(&s, &a.scen, &err) != RESIM_OK)
            code = fail(&err);
        else
            loaded = 1;
    }
    if (code == 0)
        code = build_plan(&p, &a, &s, &err);
    if (code == 0)
        code = choose_shard(&p, a.shard);
    if (code == 0) {
        p.n_local = p.total > p.shard_k - 1 ? (p.total - p.shard_k) / p.shard_n + 1 : 0;
        snprintf(partial, sizeof partial, "%s.partial", a.output);
    }
    /* Rank 0 opens (and on resume reads) the partial file; the others
     * learn from it how many rows are done. */
    if (code == 0) {
        long done = 0;
        if (sweep_rank == 0) {
            sbuf header = {0};
            int rc = header_line(&header, &p, &s.sc) ? resim_error_set(&err, RESIM_ENOMEM, NULL, 0,
                                                                       "out of memory")
                                                     : open_partial(partial, a.resume, &header, &p,
                                                                    &fp, &err);
            free(header.p);
            done = rc == RESIM_OK ? (long)p.done : -1;
            if (rc != RESIM_OK)
                code = fail(&err);
        }
#ifdef RESIM_MPI
        if (ranks > 1)
            MPI_Bcast(&done, 1, MPI_LONG, 0, MPI_COMM_WORLD);
#endif
        if (done < 0 && code == 0)
            code = EXIT_INPUT;
        p.done = done < 0 ? 0 : (size_t)done;
    }
    if (code == 0) {
        progress pr = {.on = sweep_rank == 0 && (a.progress || isatty(STDERR_FILENO)),
                       .t0 = now_seconds(), .start = p.done, .total = p.n_local};
        int rc = run_points(&p, &s, a.threads, sweep_rank, ranks, fp, &pr, &err);
        if (rc == RESIM_OK && sweep_rank == 0) {
            progress_show(&pr, p.n_local, 1);
            int bad = fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
            bad |= fclose(fp) != 0;
            fp = NULL;
            if (bad || resim_partial_hold(partial, a.output) != 0) /* renamed with the sidecar */
                rc = resim_error_set(&err, RESIM_EIO, a.output, 0, "write error");
            if (rc == RESIM_OK)
                rc = write_sidecar(a.output, &p, &a, &s.sc, argc, argv, &err);
        }
        if (rc != RESIM_OK) {
            if (pr.on)
                fputc('\n', stderr);
            code = fail(&err);
#ifdef RESIM_MPI
            /* Other ranks may wait on a send that will never be received. */
            if (ranks > 1 && sweep_rank == 0) {
                if (fp != NULL)
                    fclose(fp);
                MPI_Abort(MPI_COMM_WORLD, code);
            }
#endif
        }
    }
    if (fp != NULL)
        fclose(fp);
    free_plan(&p);
    if (loaded)
        cli_unload(&s);
    free(a.scen.sets);
    free(a.vary);
#ifdef RESIM_MPI
    if (use_mpi) {
        /* A rank that finishes first would spin a core inside MPI_Finalize's
         * barrier while the others still compute: wait for them politely. */
        if (ranks > 1) {
            MPI_Request req;
            int flag = 0;
            MPI_Ibarrier(MPI_COMM_WORLD, &req);
            while (MPI_Test(&req, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && !flag) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
        }
        MPI_Finalize();
    }
#endif
    return code < 0 ? 0 : code;
}

/*
 * sweep_args.c - the plan of a sweep: its options, the varied keys (checked
 * in the lever table), the design, the shard, and the values of each point.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"
#include "resim/csvout.h"
#include "resim/data.h"
#include "resim/lever.h"
#include "resim/number.h"

const char *const sweep_group_names[SWEEP_GROUPS] = {"all", "none", "watch", "control"};

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
    "  --design grid|lhs|sobol|saltelli|morris|FILE.csv\n"
    "                                grid (default), Latin hypercube, Sobol, the\n"
    "                                Saltelli scheme for Sobol indices, Morris\n"
    "                                trajectories, or a design file whose header\n"
    "                                names the keys\n"
    "  --points N                    points of an lhs or sobol design; base samples\n"
    "                                of a saltelli design (N x (k + 2) rows, with a\n"
    "                                'matrix' column)\n"
    "  --second-order                saltelli: also the BA matrices (N x (2k + 2)\n"
    "                                rows), for second-order indices\n"
    "  --trajectories R              morris: R trajectories of k + 1 points\n"
    "                                ('trajectory' and 'step' columns)\n"
    "  --levels P                    morris: levels per key (even, default 4)\n"
    "  --seed S                      seed of the Latin hypercube, the Morris\n"
    "                                trajectories and the replicates' random\n"
    "                                streams (default 1)\n"
    "  --window YYYY-MM:YYYY-MM      measure only these months (default: the\n"
    "                                whole horizon)\n"
    "  --series COLUMN:El:group      also write that monthly column (of resim run)\n"
    "                                per point, one column El_group_COLUMN@YYYY-MM\n"
    "                                per month of the window (repeatable)\n"
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
    "                                when complete) and FILE.json\n";

int sweep_usage(const char *fmt, ...)
{
    if (sweep_mpi_rank() == 0) { /* under MPI, one message, not one per rank */
        va_list ap;
        va_start(ap, fmt);
        cli_usagev("see 'resim sweep --help'", fmt, ap);
        va_end(ap);
    }
    return EXIT_USAGE;
}

int sweep_fail(const resim_error *err)
{
    if (sweep_mpi_rank() == 0)
        return cli_fail(err);
    return err->status == RESIM_EUSAGE ? EXIT_USAGE : EXIT_INPUT;
}

int sweep_point_values(const plan *p, resim_design_cursor *c, size_t i, char (*val)[VALUE_MAX],
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

static int parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
    unsigned long long v;
    if (cli_whole(s, lo, hi, &v) != 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Whether key names a lever that takes text, a list or a date in any
 * section (name, elements, controlled, list.set, ...): it cannot be varied. */
static int text_key(const char *key)
{
    for (size_t i = 0; i < resim_lever_count(); i++) {
        const resim_lever *l = resim_lever_at(i);
        if (resim_lever_numeric(l->kind) || strchr(l->key, '<') != NULL)
            continue;
        if (strcmp(key, l->key) == 0)
            return 1;
        /* An event may name a lever with its section (policy.controlled). */
        size_t n = strlen(l->section->name);
        if ((l->flags & RESIM_LEVER_EVENT) && strncmp(key, l->section->name, n) == 0 &&
            key[n] == '.' &&
            strcmp(key + n + 1, l->key) == 0)
            return 1;
    }
    return 0;
}

/* Sections a sweep may vary: those a single run reads, and events. */
static int known_section(const char *s)
{
    int ym;
    return resim_lever_section_known(s, 1) || resim_date_parse(s, &ym) == 0;
}

/*
 * Splits SECTION.KEY into k and checks in the lever table that it names a
 * numeric key of the scenario (origin is where the key was given, for the
 * message). Returns RESIM_OK, or RESIM_EUSAGE for a malformed, unknown or
 * non-numeric key; a value out of range is reported by the point using it.
 */
static int check_key(vkey *k, const char *name, const char *origin, const cli_scenario *s,
                     resim_error *err)
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
    if (!known_section(k->section)) {
        char expected[256];
        resim_lever_section_list(expected, sizeof expected, 1);
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0, "%s: unknown section [%s] (expected %s)",
                               name, k->section, expected);
    }
    int found = text_key(k->key) ? RESIM_LEVER_FOUND
                                 : resim_lever_find(&s->data, k->section, k->key, NULL);
    if (found != RESIM_LEVER_FOUND) {
        resim_ini_entry e = {k->section, k->key, "", origin, 0};
        resim_error why = {0};
        resim_lever_find_error(&e, found, &why);
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0, "%s: unknown key for this scenario (%s)",
                               name, why.msg);
    }
    /* A source's start month (alt.<source>.start) passes here and is
     * refused by the first point, which cannot read a number as a month. */
    if (text_key(k->key))
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0, "%s: not a numeric key", name);
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
    vkey tmp = *k;
    int rc = check_key(&tmp, name, "--vary", s, err);
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
        rc = check_key(k, h, "the design file", s, &e2);
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
int sweep_choose_shard(plan *p, const char *opt)
{
    p->shard_k = p->shard_n = 1;
    p->shard_from = "default";
    if (opt != NULL) {
        if (parse_shard(opt, &p->shard_k, &p->shard_n) != 0)
            return sweep_usage("--shard '%s': expected K/N with 1 <= K <= N", opt);
        p->shard_from = "--shard";
        return 0;
    }
    const char *id = getenv("SLURM_ARRAY_TASK_ID");
    if (id == NULL || id[0] == '\0')
        return 0;
    const char *count = getenv("SLURM_ARRAY_TASK_COUNT"), *min = getenv("SLURM_ARRAY_TASK_MIN");
    size_t vid, vcount, vmin = 0;
    if (parse_size(id, 0, SIZE_MAX, &vid) != 0)
        return sweep_usage("SLURM_ARRAY_TASK_ID='%s' is not a task number", id);
    if (count == NULL || parse_size(count, 1, SIZE_MAX, &vcount) != 0)
        return sweep_usage("SLURM_ARRAY_TASK_COUNT='%s' is not a task count (needed with "
                     "SLURM_ARRAY_TASK_ID)",
                     count != NULL ? count : "");
    if (min != NULL && min[0] != '\0' && parse_size(min, 0, SIZE_MAX, &vmin) != 0)
        return sweep_usage("SLURM_ARRAY_TASK_MIN='%s' is not a task number", min);
    if (vid < vmin || vid - vmin >= vcount)
        return sweep_usage("SLURM_ARRAY_TASK_ID=%zu is outside MIN=%zu .. MIN+COUNT-1 (COUNT=%zu); "
                     "use a contiguous array (--array=0-N)",
                     vid, vmin, vcount);
    p->shard_k = vid - vmin + 1;
    p->shard_n = vcount;
    p->shard_from = "SLURM_ARRAY_TASK_ID";
    return 0;
}

int sweep_parse_args(int argc, char **argv, sweep_args *a)
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
            if (sweep_mpi_rank() == 0) {
                fputs(sweep_help, stdout);
                fputs(sweep_mpi_built(), stdout);
            }
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
                return sweep_usage("--points '%s': expected a whole number, at least 1", v);
            a->has_points = 1;
        } else if (OPT("--trajectories")) {
            if (r < 0)
                return EXIT_USAGE;
            if (parse_size(v, 1, 100000000, &a->trajectories) != 0)
                return sweep_usage("--trajectories '%s': expected a whole number, at least 1", v);
            a->has_trajectories = 1;
        } else if (OPT("--levels")) {
            if (r < 0)
                return EXIT_USAGE;
            if (parse_size(v, 2, 1000000, &a->levels) != 0 || a->levels % 2 != 0)
                return sweep_usage("--levels '%s': expected an even whole number, at least 2", v);
        } else if (OPT("--window")) {
            if (r < 0)
                return EXIT_USAGE;
            a->window = v;
        } else if (OPT("--series")) {
            if (r < 0)
                return EXIT_USAGE;
            if (a->n_series == SWEEP_MAX_SERIES)
                return sweep_usage("at most %d --series", SWEEP_MAX_SERIES);
            a->series[a->n_series++] = v;
        } else if (strcmp(argv[i], "--second-order") == 0) {
            a->second_order = 1;
        } else if (OPT("--replicates")) {
            if (r < 0)
                return EXIT_USAGE;
            if (parse_size(v, 1, 100000000, &a->replicates) != 0)
                return sweep_usage("--replicates '%s': expected a whole number, at least 1", v);
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
                return sweep_usage("--seed '%s': expected a whole number in [0, 4294967295]", v);
            a->seed = (unsigned long)n;
        } else if (OPT("--threads")) {
            if (r < 0)
                return EXIT_USAGE;
            if (parse_size(v, 1, CLI_MAX_THREADS, &a->threads) != 0)
                return sweep_usage("--threads '%s': expected a whole number in [1, %d]", v,
                             CLI_MAX_THREADS);
        } else if (OPT("--threshold")) {
            if (r < 0)
                return EXIT_USAGE;
            if (resim_parse_double(v, &a->threshold) != 0 || a->threshold < 0 || a->threshold > 1)
                return sweep_usage("--threshold '%s': expected a number in [0, 1]", v);
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
            return sweep_usage("unknown option '%s'", argv[i]);
        } else if (a->scen.scenario == NULL) {
            a->scen.scenario = argv[i];
        } else {
            return sweep_usage("more than one scenario given ('%s')", argv[i]);
        }
#undef OPT
    }
    if (a->scen.scenario == NULL)
        return sweep_usage("no scenario file given");
    if (a->output == NULL || strcmp(a->output, "-") == 0)
        return sweep_usage("sweep needs -o FILE (rows are written to FILE.partial, then renamed)");
    if (strlen(a->output) > 900)
        return sweep_usage("output path too long");
    return 0;
}

/* Builds the design from the arguments. Returns 0 or an exit code. */
int sweep_build_plan(plan *p, const sweep_args *a, const cli_scenario *s, resim_error *err)
{
    const char *d = a->design != NULL ? a->design : "grid";
    static const char *const kinds[] = {"grid", "lhs", "sobol", "saltelli", "morris"};
    resim_design_kind kind = RESIM_DESIGN_GRID;
    int is_file = 1;
    for (size_t j = 0; j < sizeof kinds / sizeof kinds[0]; j++)
        if (strcmp(d, kinds[j]) == 0) {
            kind = (resim_design_kind[]){RESIM_DESIGN_GRID, RESIM_DESIGN_LHS, RESIM_DESIGN_SOBOL,
                                         RESIM_DESIGN_SALTELLI, RESIM_DESIGN_MORRIS}[j];
            is_file = 0;
        }
    if (kind != RESIM_DESIGN_MORRIS && (a->has_trajectories || a->levels > 0))
        return sweep_usage("--trajectories and --levels apply to --design morris");
    if (kind != RESIM_DESIGN_SALTELLI && a->second_order)
        return sweep_usage("--second-order applies to --design saltelli");
    p->threshold = a->threshold;
    p->origin = "--vary";
    p->replicates = a->replicates;
    p->seed = a->seed;
    p->quantiles = a->quantiles;
    p->n_quantiles = a->n_quantiles;
    if (is_file) {
        if (a->n_vary > 0)
            return sweep_usage("--vary and a design file (%s) exclude each other: the file's header "
                         "names the keys",
                         d);
        if (a->has_points)
            return sweep_usage("--points does not apply to a design file (%s): its rows are the points",
                         d);
        int rc = load_design_file(p, d, s, err);
        return rc == RESIM_OK ? 0 : sweep_fail(err);
    }
    if (a->n_vary == 0)
        return sweep_usage("nothing to vary: give --vary SECTION.KEY=LO:HI[:N] or --design FILE.csv");
    if (kind == RESIM_DESIGN_GRID && a->has_points)
        return sweep_usage("--points applies to lhs and sobol; a grid has N levels per key "
                     "(--vary KEY=LO:HI:N)");
    if (kind == RESIM_DESIGN_MORRIS && a->has_points)
        return sweep_usage("--points does not apply to --design morris: it has R (k + 1) points "
                           "(--trajectories R)");
    if (kind == RESIM_DESIGN_MORRIS && !a->has_trajectories)
        return sweep_usage("--design morris needs --trajectories R");
    if (kind != RESIM_DESIGN_GRID && kind != RESIM_DESIGN_MORRIS && !a->has_points)
        return sweep_usage("--design %s needs --points N", d);
    if (kind == RESIM_DESIGN_SALTELLI && a->points < 2)
        return sweep_usage("--design saltelli needs --points N with N >= 2 base samples");
    if (kind == RESIM_DESIGN_SALTELLI && a->n_vary > RESIM_SALTELLI_MAX_DIMS)
        return sweep_usage("--design saltelli supports at most %d keys, not %zu",
                           RESIM_SALTELLI_MAX_DIMS, a->n_vary);
    if (kind == RESIM_DESIGN_SOBOL && a->n_vary > RESIM_SOBOL_MAX_DIMS)
        return sweep_usage("--design sobol supports at most %d keys, not %zu", RESIM_SOBOL_MAX_DIMS,
                     a->n_vary);
    p->dims = a->n_vary;
    p->keys = calloc(p->dims, sizeof *p->keys);
    double *lo = malloc(p->dims * sizeof *lo), *hi = malloc(p->dims * sizeof *hi);
    size_t *lv = malloc(p->dims * sizeof *lv);
    int code = 0;
    if (p->keys == NULL || lo == NULL || hi == NULL || lv == NULL) {
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        code = sweep_fail(err);
    }
    for (size_t k = 0; code == 0 && k < p->dims; k++) {
        int rc = parse_vary(&p->keys[k], a->vary[k], s, err);
        if (rc != RESIM_OK) {
            code = sweep_fail(err);
            break;
        }
        for (size_t j = 0; j < k; j++)
            if (strcmp(p->keys[j].name, p->keys[k].name) == 0) {
                code = sweep_usage("--vary %s given twice", p->keys[k].name);
                break;
            }
        if (code == 0 && kind != RESIM_DESIGN_GRID && p->keys[k].has_levels)
            code = sweep_usage("--vary '%s': levels (:N) apply to a grid; --design %s takes --points",
                         a->vary[k], d);
        lo[k] = p->keys[k].lo;
        hi[k] = p->keys[k].hi;
        lv[k] = p->keys[k].levels;
    }
    if (code == 0) {
        if (kind == RESIM_DESIGN_SALTELLI)
            p->design = resim_design_alloc_saltelli(p->dims, lo, hi, a->points, a->second_order, err);
        else if (kind == RESIM_DESIGN_MORRIS)
            p->design = resim_design_alloc_morris(p->dims, lo, hi, a->trajectories,
                                                  a->levels > 0 ? a->levels : 4, a->seed, err);
        else
            p->design = resim_design_alloc(kind, p->dims, lo, hi, lv, a->points, a->seed, err);
        p->roles = kind == RESIM_DESIGN_SALTELLI ? SWEEP_ROLE_MATRIX
                   : kind == RESIM_DESIGN_MORRIS ? SWEEP_ROLE_TRAJECTORY
                                                 : SWEEP_ROLE_NONE;
        if (p->design == NULL) {
            err->status = RESIM_EUSAGE;
            code = sweep_fail(err);
        } else {
            p->total = resim_design_size(p->design);
        }
    }
    free(lo);
    free(hi);
    free(lv);
    return code;
}

/*
 * Resolves the scenario with the keys of mask set to val (the others as the
 * scenario has them); the error names what was tried.
 */
static int resolve_with(const plan *p, const cli_scenario *s, const unsigned char *mask,
                        char (*val)[VALUE_MAX], const char *what, resim_error *err)
{
    resim_ini ini;
    resim_error e = {0};
    int rc = resim_ini_copy(&ini, s->sc.ini, err);
    if (rc != RESIM_OK)
        return rc;
    for (size_t k = 0; rc == RESIM_OK && k < p->dims; k++)
        if (mask[k])
            rc = resim_ini_put(&ini, p->keys[k].section, p->keys[k].key, val[k], p->origin, 0, &e);
    resim_scenario sc;
    memset(&sc, 0, sizeof sc);
    if (rc == RESIM_OK)
        rc = resim_scenario_resolve(&sc, &ini, &s->data, NULL, NULL, &e);
    resim_scenario_free(&sc);
    resim_ini_free(&ini);
    if (rc != RESIM_OK)
        resim_error_set(err, rc == RESIM_ENOMEM ? RESIM_ENOMEM : RESIM_EINVAL, NULL, 0,
                        "%s: %.700s (the design is checked before any point is computed)", what,
                        e.msg);
    return rc;
}

int sweep_check_design(const plan *p, const cli_scenario *s, resim_error *err)
{
    char(*val)[VALUE_MAX] = calloc(p->dims, sizeof *val);
    unsigned char *mask = calloc(p->dims, 1);
    double *x = malloc(p->dims * sizeof *x);
    resim_design_cursor *c = NULL;
    int rc = RESIM_OK;
    if (val == NULL || mask == NULL || x == NULL ||
        (p->design != NULL && (c = resim_design_cursor_alloc(p->design, err)) == NULL))
        rc = resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    /* A design file: every value of every row against its key's range. */
    for (size_t k = 0; rc == RESIM_OK && p->design == NULL && k < p->dims; k++) {
        const vkey *vk = &p->keys[k];
        resim_lever_ref ref;
        if (resim_lever_find(&s->data, vk->section, vk->key, &ref) != RESIM_LEVER_FOUND)
            continue; /* check_key let it through; resolving below decides */
        const resim_lever *lv = resim_lever_get(ref.id);
        if (!resim_lever_numeric(lv->kind) || lv->kind == RESIM_KIND_MONTH)
            continue;
        for (size_t i = 0; rc == RESIM_OK && i < p->total; i++) {
            char *cell = (char *)resim_table_at(&p->table, i, (size_t)vk->col);
            resim_ini_entry e = {(char *)vk->section, (char *)vk->key, cell, p->table.path,
                                 p->table.line[i]};
            double v;
            rc = resim_lever_parse(lv, &e, s->sc.start, &v, err);
        }
    }
    /* Each key alone at its lowest and highest value, then the first point. */
    for (size_t k = 0; rc == RESIM_OK && k < p->dims; k++) {
        const vkey *vk = &p->keys[k];
        for (int end = 0; rc == RESIM_OK && end < 2; end++) {
            double v = end ? vk->hi : vk->lo;
            char what[400];
            if (p->design == NULL) {
                /* The text of a row holding that value, as the point would set it. */
                for (size_t i = 0; i < p->total; i++) {
                    const char *cell = resim_table_at(&p->table, i, (size_t)vk->col);
                    double w;
                    if (resim_parse_double(cell, &w) == 0 && w == v) {
                        snprintf(val[k], VALUE_MAX, "%s", cell);
                        break;
                    }
                }
            } else {
                resim_format_short(val[k], VALUE_MAX, v);
            }
            snprintf(what, sizeof what, "%s = %s (the %s of its range)", vk->name, val[k],
                     end ? "top" : "bottom");
            memset(mask, 0, p->dims);
            mask[k] = 1;
            rc = resolve_with(p, s, mask, val, what, err);
        }
    }
    if (rc == RESIM_OK && p->total > 0) {
        rc = sweep_point_values(p, c, 0, val, x, err);
        memset(mask, 1, p->dims);
        if (rc == RESIM_OK)
            rc = resolve_with(p, s, mask, val, "design point 0", err);
    }
    resim_design_cursor_free(c);
    free(val);
    free(mask);
    free(x);
    return rc;
}

int sweep_plan_months(plan *p, const sweep_args *a, const resim_scenario *sc)
{
    p->start = sc->start;
    p->win0 = 0;
    p->win1 = sc->months - 1;
    if (a->window != NULL) {
        char lo[16], hi[16];
        const char *colon = strchr(a->window, ':');
        int y0, y1;
        if (colon == NULL || (size_t)(colon - a->window) >= sizeof lo || strlen(colon + 1) >= sizeof hi)
            return sweep_usage("--window '%s': expected YYYY-MM:YYYY-MM", a->window);
        memcpy(lo, a->window, (size_t)(colon - a->window));
        lo[colon - a->window] = '\0';
        strcpy(hi, colon + 1);
        if (resim_date_parse(lo, &y0) != 0 || resim_date_parse(hi, &y1) != 0)
            return sweep_usage("--window '%s': expected YYYY-MM:YYYY-MM", a->window);
        if (y0 > y1)
            return sweep_usage("--window '%s': the first month is after the last", a->window);
        char s0[8], s1[8];
        resim_date_format(sc->start, s0);
        resim_date_format(sc->start + sc->months - 1, s1);
        if (y0 < sc->start || y1 > sc->start + sc->months - 1)
            return sweep_usage("--window '%s': outside the scenario's months %s:%s", a->window, s0,
                               s1);
        p->win0 = y0 - sc->start;
        p->win1 = y1 - sc->start;
        p->has_window = 1;
    }
    for (size_t k = 0; k < a->n_series; k++) {
        sweep_series *se = &p->series[k];
        char buf[128];
        const char *spec = a->series[k];
        if (strlen(spec) >= sizeof buf)
            return sweep_usage("--series '%s': too long", spec);
        strcpy(buf, spec);
        char *c1 = strchr(buf, ':'), *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL || strchr(c2 + 1, ':') != NULL)
            return sweep_usage("--series '%s': expected COLUMN:El:group (e.g. availability:Tb:control)",
                               spec);
        *c1 = *c2 = '\0';
        const char *col = buf, *el = c1 + 1, *grp = c2 + 1;
        se->metric = RESIM_NMETRICS;
        for (size_t m = 0; m < RESIM_NMETRICS; m++)
            if (strcmp(col, resim_metric_names[m]) == 0)
                se->metric = m;
        if (se->metric == RESIM_NMETRICS)
            return sweep_usage("--series '%s': '%s' is not a column of resim run (e.g. availability, "
                               "shortfall, china_arrivals)",
                               spec, col);
        se->element = sc->n_elements;
        for (size_t e = 0; e < sc->n_elements; e++)
            if (strcmp(el, resim_scenario_symbol(sc, e)) == 0)
                se->element = e;
        if (se->element == sc->n_elements)
            return sweep_usage("--series '%s': '%s' is not an element of the scenario", spec, el);
        se->group = SWEEP_GROUPS;
        for (size_t g = 0; g < SWEEP_GROUPS; g++)
            if (strcmp(grp, sweep_group_names[g]) == 0)
                se->group = g;
        if (se->group == SWEEP_GROUPS)
            return sweep_usage("--series '%s': group '%s' is not all, none, watch or control", spec,
                               grp);
        snprintf(se->name, sizeof se->name, "%s_%s_%s", el, grp, col);
        for (size_t j = 0; j < k; j++)
            if (strcmp(p->series[j].name, se->name) == 0)
                return sweep_usage("--series '%s' given twice", spec);
    }
    p->n_series = a->n_series;
    return 0;
}

void sweep_free_plan(plan *p)
{
    resim_design_free(p->design);
    resim_table_free(&p->table);
    free(p->keys);
}

/* run.c - `resim run` and `resim check`: one deterministic scenario. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rows.h"
#include "resim/csvout.h"
#include "resim/number.h"
#include "resim/sidecar.h"

static const char run_help[] =
    "usage: resim run SCENARIO [options]\n"
    "Simulates the scenario month by month and writes the monthly CSV.\n"
    "\n"
    "  --set SECTION.KEY=VALUE   override any scenario key (repeatable), e.g.\n"
    "                            policy.approval.watch=0.3, 2026-02.list.add.control=40\n"
    "  -o, --output FILE         write the CSV to FILE (via a temporary file) and run\n"
    "                            metadata to FILE.json; default stdout\n"
    "  --by status|importer      add rows per list status (in each month) or per importer\n"
    "  --by status@YYYY-MM       add rows per list status as it is in that month, the\n"
    "                            same importers in every month (single runs only)\n"
    "  --warmup N                simulate N months before the start, unwritten\n"
    "  --summary                 print per element, for all importers, the control list\n"
    "                            and the others, the lowest availability and its month\n"
    "                            and the cumulative shortfall, with and without the\n"
    "                            national stockpile, and the tonnes it released; with\n"
    "                            --replicates, the central run's lowest availability\n"
    "                            and the 5 %, 50 % and 95 % quantiles of the\n"
    "                            replicates' lowest availability\n"
    "ensembles (lots, uncertain levers, random list moves):\n"
    "  --replicates N            run N replicates; the CSV becomes a summary (mean and\n"
    "                            quantiles of every column per row)\n"
    "  --seed S                  random seed (default 1)\n"
    "  --threads T               worker threads (default 1; same bytes for any T)\n"
    "  --quantiles Q,Q,...       quantiles (default 0.05,0.25,0.5,0.75,0.95)\n"
    "  --threshold X             report P(availability < X) (default 0.9)\n"
    "  --window YYYY-MM:YYYY-MM  add, per element and group, P(availability < X in some\n"
    "                            month of the window) and the distribution of the\n"
    "                            window's lowest availability and cumulative shortfall\n"
    "  --raw FILE                also write every replicate's rows to FILE\n"
    "  --first-replicate F       replicates F .. F+N-1 (default 0)\n"
    "  --memory MB               memory for exact quantiles (default 512)\n"
    "\n"
    "exit codes: 0 success, 1 bad input or failed output, 2 bad command line.\n";

static const char check_help[] =
    "usage: resim check SCENARIO [--set SECTION.KEY=VALUE]... [--warmup N]\n"
    "Validates the scenario (with its bases) and prints the levers at the start, each\n"
    "with the file and line it came from (or default, or data tables), and the\n"
    "timeline of events with their sources. Warns about event sections without a\n"
    "source and list moves that ask for more importers than a list holds.\n"
    "\n"
    "exit codes: 0 valid, 1 bad input, 2 bad command line.\n";

/* Whether argv asks for help (--help or -h anywhere). */
static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/* A whole non-negative number for option `name`; returns 0 or an exit code. */
static int whole(const char *name, const char *v, unsigned long long max, unsigned long long *out)
{
    if (cli_whole(v, 0, max, out) != 0)
        return cli_usage("%s takes a whole number up to %llu, not '%s'", name, max, v);
    return 0;
}

/* The ensemble options of run; returns 1 if argv[*i] was one, 0 if not, or -exit code. */
static int parse_ensemble(int argc, char **argv, int *i, run_args *a)
{
    const char *v;
    unsigned long long x = 0;
    int r, code = 0;
    if ((r = cli_opt(argc, argv, i, "--replicates", &v)) != 0) {
        if (r > 0 && (code = whole("--replicates", v, 100000000, &x)) == 0) {
            a->replicates = (unsigned long)x;
            if (x == 0)
                code = cli_usage("--replicates must be at least 1");
        }
    } else if ((r = cli_opt(argc, argv, i, "--seed", &v)) != 0) {
        if (r > 0)
            code = whole("--seed", v, UINT64_MAX, &a->seed);
    } else if ((r = cli_opt(argc, argv, i, "--threads", &v)) != 0) {
        if (r > 0 && (code = whole("--threads", v, CLI_MAX_THREADS, &x)) == 0) {
            a->threads = (unsigned long)x;
            if (x == 0)
                code = cli_usage("--threads must be at least 1");
        }
    } else if ((r = cli_opt(argc, argv, i, "--first-replicate", &v)) != 0) {
        if (r > 0 && (code = whole("--first-replicate", v, UINT32_MAX, &x)) == 0)
            a->first_replicate = (unsigned long)x;
    } else if ((r = cli_opt(argc, argv, i, "--memory", &v)) != 0) {
        if (r > 0 && (code = whole("--memory", v, 1u << 20, &x)) == 0) {
            a->memory_mb = (unsigned long)x;
            if (x == 0)
                code = cli_usage("--memory must be at least 1 MB");
        }
    } else if ((r = cli_opt(argc, argv, i, "--quantiles", &v)) != 0) {
        if (r > 0)
            code = cli_parse_quantiles(v, a->quantiles, 32, &a->n_quantiles);
    } else if ((r = cli_opt(argc, argv, i, "--threshold", &v)) != 0) {
        if (r > 0 && (resim_parse_double(v, &a->threshold) != 0 || a->threshold < 0 ||
                      a->threshold > 1))
            code = cli_usage("--threshold takes a number in [0, 1], not '%s'", v);
    } else if ((r = cli_opt(argc, argv, i, "--window", &v)) != 0) {
        char first[8];
        if (r > 0 && (strlen(v) != 15 || v[7] != ':' ||
                      (snprintf(first, sizeof first, "%.7s", v) < 0 ||
                       resim_date_parse(first, &a->window_ym[0]) != 0) ||
                      resim_date_parse(v + 8, &a->window_ym[1]) != 0 ||
                      a->window_ym[1] < a->window_ym[0]))
            code = cli_usage("--window takes FIRST:LAST, two months YYYY-MM in order, not '%s'", v);
        else if (r > 0)
            a->window = v;
    } else if ((r = cli_opt(argc, argv, i, "--raw", &v)) != 0) {
        if (r > 0)
            a->raw = v;
    } else {
        return 0;
    }
    if (strncmp(argv[*i], "--replicates", 12) != 0 && strcmp(argv[*i - 1], "--replicates") != 0)
        a->ensemble_opts++;
    if (r < 0)
        return -EXIT_USAGE;
    return code != 0 ? -code : 1;
}

/* Parses the options of run and check; returns 0 or an exit code. */
static int parse(int argc, char **argv, run_args *a, int is_run)
{
    memset(a, 0, sizeof *a);
    a->seed = 1;
    a->threads = 1;
    a->memory_mb = 512;
    a->threshold = 0.9;
    static const double default_q[] = {0.05, 0.25, 0.5, 0.75, 0.95};
    a->n_quantiles = sizeof default_q / sizeof default_q[0];
    memcpy(a->quantiles, default_q, sizeof default_q);
    a->scen.sets = calloc((size_t)argc, sizeof *a->scen.sets);
    if (a->scen.sets == NULL)
        return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if ((r = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            a->scen.sets[a->scen.n_sets++] = v;
        } else if ((r = cli_opt(argc, argv, &i, "--warmup", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            a->scen.warmup = v;
        } else if (is_run && ((r = cli_opt(argc, argv, &i, "--output", &v)) != 0 ||
                              (r = cli_opt(argc, argv, &i, "-o", &v)) != 0)) {
            if (r < 0)
                return EXIT_USAGE;
            a->output = v;
        } else if (is_run && (r = cli_opt(argc, argv, &i, "--by", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            if (strcmp(v, "status") == 0) {
                a->by = RESIM_BY_STATUS;
            } else if (strncmp(v, "status@", 7) == 0) {
                int ym;
                if (resim_date_parse(v + 7, &ym) != 0)
                    return cli_usage("--by status@ takes a month YYYY-MM, not '%s'", v + 7);
                a->by = RESIM_BY_STATUS;
                a->by_at = v + 7;
            }
            else if (strcmp(v, "importer") == 0)
                a->by = RESIM_BY_IMPORTER;
            else
                return cli_usage("--by takes status, status@YYYY-MM or importer, not '%s'", v);
        } else if (is_run && strcmp(argv[i], "--summary") == 0) {
            a->summary = 1;
        } else if (is_run && (r = parse_ensemble(argc, argv, &i, a)) != 0) {
            if (r < 0)
                return -r;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage("unknown option '%s'", argv[i]);
        } else if (a->scen.scenario == NULL) {
            a->scen.scenario = argv[i];
        } else {
            return cli_usage("more than one scenario given ('%s')", argv[i]);
        }
    }
    if (a->scen.scenario == NULL)
        return cli_usage("no scenario file given");
    if (a->ensemble_opts > 0 && a->replicates == 0)
        return cli_usage("ensemble options need --replicates N");
    if (a->replicates > 0 && a->by_at != NULL)
        return cli_usage("--by status@YYYY-MM is for single runs; ensembles take --by status");
    return 0;
}

/* Where each month of a single run goes: the CSV. */
typedef struct run_month_ctx {
    FILE *fp;
    const resim_scenario *sc;
    resim_grouping by;
    size_t G;
} run_month_ctx;

static int run_month(void *ctx, int t, const double *out)
{
    const run_month_ctx *c = ctx;
    cli_write_month(c->fp, c->sc, c->by, c->G, t, out, -1);
    return RESIM_OK;
}

/* Stops the first run of --by status@ after its month (ctx: the month). */
static int stop_after(void *ctx, int t, const double *out)
{
    (void)out;
    return t < *(const int *)ctx ? RESIM_OK : -1;
}

/*
 * The list status of every importer in month `at` (after that month's
 * events), from a run of sc up to it, into status[n_importers]. Returns 0,
 * or an exit code after printing the error.
 */
static int statuses_at(const resim_scenario *sc, const char *at, unsigned char *status)
{
    int ym;
    resim_date_parse(at, &ym);
    if (ym < sc->start || ym >= sc->start + sc->months) {
        char first[8], last[8];
        resim_date_format(sc->start, first);
        resim_date_format(sc->start + sc->months - 1, last);
        return cli_usage("--by status@%s: not a month of the run (%s to %s)", at, first, last);
    }
    resim_error err = {0};
    resim_model *m = resim_model_alloc(sc, RESIM_BY_NONE, &err);
    double *scratch = malloc(sc->n_elements * RESIM_NMETRICS * sizeof *scratch);
    int rc = m == NULL ? RESIM_ENOMEM : RESIM_OK;
    if (rc == RESIM_OK && scratch == NULL)
        rc = resim_error_set(&err, RESIM_ENOMEM, NULL, 0, "out of memory");
    if (rc == RESIM_OK && (rc = resim_model_init(m, sc, &err)) == RESIM_OK) {
        int month = ym - sc->start;
        rc = resim_model_run(m, scratch, NULL, stop_after, &month) == -1 ? RESIM_OK : RESIM_EINVAL;
        if (rc == RESIM_OK)
            memcpy(status, resim_model_status(m), sc->n_importers);
    }
    free(scratch);
    resim_model_free(m);
    return rc == RESIM_OK ? 0 : cli_fail(&err);
}

static int write_sidecar(const char *csv, const resim_scenario *sc, const char *by_at, int argc,
                         char **argv, resim_error *err)
{
    resim_out o;
    int rc = resim_sidecar_open(&o, csv, "run", sc, argc, argv, err);
    if (rc != RESIM_OK)
        return rc;
    fputs("  \"columns\": [\"scenario\", \"date\", \"month\", \"element\", \"group\"", o.fp);
    for (int k = 0; k < RESIM_NMETRICS; k++)
        fprintf(o.fp, ", \"%s\"", resim_metric_names[k]);
    fputs("]", o.fp);
    if (by_at != NULL) /* the status groups hold the same importers in every month */
        fprintf(o.fp, ",\n  \"groups\": \"status@%s\"", by_at);
    fputs("\n}\n", o.fp);
    rc = resim_out_commit(&o, err);
    resim_out_abort(&o);
    return rc;
}

int cli_run(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(run_help, stdout);
        return 0;
    }
    run_args a;
    int code = parse(argc, argv, &a, 1);
    if (code != 0) {
        free(a.scen.sets);
        return code;
    }
    if (a.replicates > 0) {
        code = cli_ensemble(&a, argc, argv);
        free(a.scen.sets);
        return code;
    }
    resim_error err = {0};
    cli_scenario s;
    resim_model *m = NULL;
    double *out = NULL;
    unsigned char *fixed = NULL;
    resim_out o = {0};
    if (cli_load(&s, &a.scen, &err) != RESIM_OK) {
        free(a.scen.sets);
        return cli_fail(&err);
    }
    const resim_scenario *sc = &s.sc;
    int rc = RESIM_ENOMEM;
    if ((m = resim_model_alloc(sc, a.by, &err)) == NULL)
        goto done;
    resim_model_set_warn(m, cli_warn, NULL);
    if (a.by_at != NULL) {
        if ((fixed = malloc(sc->n_importers + 1)) == NULL) {
            rc = resim_error_set(&err, RESIM_ENOMEM, NULL, 0, "out of memory");
            goto done;
        }
        if ((code = statuses_at(sc, a.by_at, fixed)) != 0)
            goto done;
        resim_model_set_groups(m, fixed);
    }
    size_t G = resim_model_groups(m);
    out = malloc(sc->n_elements * G * RESIM_NMETRICS * sizeof *out);
    if (out == NULL) {
        rc = resim_error_set(&err, RESIM_ENOMEM, NULL, 0, "out of memory");
        goto done;
    }
    if ((rc = resim_model_init(m, sc, &err)) != RESIM_OK ||
        (rc = resim_out_open(&o, a.output, &err)) != RESIM_OK)
        goto done;
    if (sc->has_list_process)
        cli_warn(NULL, "[list_process] applies to ensembles (--replicates) only; ignored");
    cli_write_header(o.fp, 0);
    run_month_ctx mc = {o.fp, sc, a.by, G};
    if ((rc = resim_model_run(m, out, NULL, run_month, &mc)) != RESIM_OK ||
        (rc = resim_out_prepare(&o, &err)) != RESIM_OK)
        goto done;
    if (a.output != NULL && strcmp(a.output, "-") != 0)
        rc = write_sidecar(a.output, sc, a.by_at, argc, argv, &err);
    if (rc == RESIM_OK && a.summary)
        rc = cli_headline(a.output != NULL && strcmp(a.output, "-") != 0 ? stdout : stderr, &s,
                          &err);
done:
    resim_out_abort(&o);
    free(out);
    free(fixed);
    resim_model_free(m);
    cli_unload(&s);
    free(a.scen.sets);
    if (code != 0)
        return code;
    return rc == RESIM_OK ? 0 : cli_fail(&err);
}

/* Warns about every event section without a `source =` line. */
static void check_sources(const resim_ini *ini)
{
    for (size_t k = 0; k < ini->n_sections; k++) {
        const char *sec = ini->sections[k];
        int ym;
        if (resim_date_parse(sec, &ym) != 0 || resim_ini_get(ini, sec, "source") != NULL)
            continue;
        const resim_ini_entry *first = NULL;
        for (size_t i = 0; i < ini->n && first == NULL; i++)
            if (strcmp(ini->v[i].section, sec) == 0)
                first = &ini->v[i];
        char msg[RESIM_PATH_MAX + 128];
        if (first != NULL && first->line > 0)
            snprintf(msg, sizeof msg, "%s:%ld: [%s] has no source = line (where the event comes from)",
                     first->file, first->line, sec);
        else
            snprintf(msg, sizeof msg, "%s: [%s] has no source = line (where the event comes from)",
                     first != NULL ? first->file : ini->path, sec);
        cli_warn(NULL, msg);
    }
}

static int check_run(const resim_scenario *sc, resim_error *err)
{
    resim_model *m = resim_model_alloc(sc, RESIM_BY_NONE, err);
    double *scratch = malloc(sc->n_elements * RESIM_NMETRICS * sizeof *scratch);
    int rc = m == NULL ? RESIM_ENOMEM : RESIM_OK;
    if (rc == RESIM_OK && scratch == NULL)
        rc = resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    if (rc == RESIM_OK) {
        resim_model_set_warn(m, cli_warn, NULL);
        if ((rc = resim_model_init(m, sc, err)) == RESIM_OK)
            rc = resim_model_run(m, scratch, NULL, NULL, NULL);
    }
    free(scratch);
    resim_model_free(m);
    return rc;
}

int cli_check(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(check_help, stdout);
        return 0;
    }
    run_args a;
    int code = parse(argc, argv, &a, 0);
    if (code != 0) {
        free(a.scen.sets);
        return code;
    }
    resim_error err = {0};
    cli_scenario s;
    int rc = cli_load(&s, &a.scen, &err);
    free(a.scen.sets);
    if (rc != RESIM_OK)
        return cli_fail(&err);
    check_sources(&s.central);
    /* Runs the scenario once so that list moves asking for more importers
     * than a list holds warn here as in `run`. */
    rc = check_run(&s.sc, &err);
    if (rc != RESIM_OK) {
        cli_unload(&s);
        return cli_fail(&err);
    }
    resim_timeline_print(stdout, &s.sc);
    if (s.u.n > 0) {
        printf("uncertain levers (drawn once per replicate; the values above are central):\n");
        for (size_t k = 0; k < s.u.n; k++) {
            const resim_ini_entry *e = &s.ini.v[s.u.entry[k]];
            printf("  %s.%s = %s   (central %.15g)   (%s", e->section, e->key, e->value,
                   resim_dist_central(&s.u.dist[k]), e->file);
            if (e->line > 0)
                printf(":%ld", e->line);
            printf(")\n");
        }
    }
    if (s.sc.has_list_process)
        printf("random list process: [list_process] (ensembles only)\n");
    cli_unload(&s);
    return 0;
}

/* run.c - `resim run` and `resim check`: one deterministic scenario. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "resim/csvout.h"
#include "resim/csvread.h"
#include "resim/outcome.h"
#include "resim/sidecar.h"

/* A whole non-negative number for option `name`; returns 0 or an exit code. */
static int whole(const char *name, const char *v, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*v == '\0' || *v == '-' || *end != '\0' || errno != 0 || x > max)
        return cli_usage("%s takes a whole number up to %llu, not '%s'", name, max, v);
    *out = x;
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
        if (r > 0 && (code = whole("--threads", v, 1024, &x)) == 0) {
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
            if (strcmp(v, "status") == 0)
                a->by = RESIM_BY_STATUS;
            else if (strcmp(v, "importer") == 0)
                a->by = RESIM_BY_IMPORTER;
            else
                return cli_usage("--by takes status or importer, not '%s'", v);
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
    if (a->replicates > 0 && a->summary)
        return cli_usage("--summary is for single runs; an ensemble's CSV is its summary");
    return 0;
}

void cli_write_header(FILE *fp, int with_replicate)
{
    fputs(with_replicate ? "scenario,replicate,date,month,element,group"
                         : "scenario,date,month,element,group", fp);
    for (int k = 0; k < RESIM_NMETRICS; k++)
        fprintf(fp, ",%s", resim_metric_names[k]);
    fputc('\n', fp);
}

const char *cli_group_name(const resim_scenario *sc, resim_grouping by, size_t g)
{
    if (g == 0)
        return "all";
    if (by == RESIM_BY_STATUS)
        return resim_status_names[g - 1];
    return sc->data->importer_id[g - 1];
}

void cli_write_month(FILE *fp, const resim_scenario *sc, resim_grouping by, size_t G, int t,
                     const double *out, long replicate)
{
    char date[8];
    resim_date_format(sc->start + t, date);
    for (size_t e = 0; e < sc->n_elements; e++)
        for (size_t g = 0; g < G; g++) {
            const double *row = out + (e * G + g) * RESIM_NMETRICS;
            resim_csv_text(fp, sc->name);
            if (replicate >= 0)
                fprintf(fp, ",%ld", replicate);
            fprintf(fp, ",%s,%d,%s,", date, t, resim_scenario_symbol(sc, e));
            resim_csv_text(fp, cli_group_name(sc, by, g));
            for (int k = 0; k < RESIM_NMETRICS; k++) {
                fputc(',', fp);
                resim_csv_number(fp, row[k]);
            }
            fputc('\n', fp);
        }
}

static void print_summary(FILE *fp, const resim_scenario *sc, const resim_outcome *oc)
{
    fprintf(fp, "%-4s %14s %9s %14s %14s %9s\n", "", "peak shortfall", "in", "cumulative",
            "lowest avail.", "in");
    for (size_t e = 0; e < sc->n_elements; e++) {
        const resim_outcome *o = &oc[e];
        char peak[8] = "-", low[8] = "-";
        if (o->peak_month >= 0)
            resim_date_format(sc->start + o->peak_month, peak);
        if (o->min_month >= 0)
            resim_date_format(sc->start + o->min_month, low);
        fprintf(fp, "%-4s %12.2f t %9s %12.2f t %13.1f%% %9s\n", resim_scenario_symbol(sc, e),
                o->peak_shortfall, peak, o->cum_shortfall, 100 * o->min_availability, low);
    }
}

static int write_sidecar(const char *csv, const resim_scenario *sc, int argc, char **argv,
                         resim_error *err)
{
    resim_out o;
    int rc = resim_sidecar_open(&o, csv, "run", sc, argc, argv, err);
    if (rc != RESIM_OK)
        return rc;
    fputs("  \"columns\": [\"scenario\", \"date\", \"month\", \"element\", \"group\"", o.fp);
    for (int k = 0; k < RESIM_NMETRICS; k++)
        fprintf(o.fp, ", \"%s\"", resim_metric_names[k]);
    fputs("]\n}\n", o.fp);
    rc = resim_out_commit(&o, err);
    resim_out_abort(&o);
    return rc;
}

int cli_run(int argc, char **argv)
{
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
    resim_outcome *oc = NULL;
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
    size_t G = resim_model_groups(m);
    out = malloc(sc->n_elements * G * RESIM_NMETRICS * sizeof *out);
    oc = malloc(sc->n_elements * sizeof *oc);
    if (out == NULL || oc == NULL) {
        rc = resim_error_set(&err, RESIM_ENOMEM, NULL, 0, "out of memory");
        goto done;
    }
    for (size_t e = 0; e < sc->n_elements; e++)
        resim_outcome_init(&oc[e]);
    if ((rc = resim_model_init(m, sc, &err)) != RESIM_OK ||
        (rc = resim_out_open(&o, a.output, &err)) != RESIM_OK)
        goto done;
    if (sc->has_list_process)
        cli_warn(NULL, "[list_process] applies to ensembles (--replicates) only; ignored");
    cli_write_header(o.fp, 0);
    while (resim_model_month(m) < sc->months) {
        int t = resim_model_month(m);
        resim_model_step(m, out);
        if (t < 0)
            continue;
        cli_write_month(o.fp, sc, a.by, G, t, out, -1);
        for (size_t e = 0; e < sc->n_elements; e++)
            resim_outcome_add(&oc[e], t, out + e * G * RESIM_NMETRICS, 0.9);
    }
    if ((rc = resim_out_prepare(&o, &err)) != RESIM_OK)
        goto done;
    if (a.output != NULL && strcmp(a.output, "-") != 0)
        rc = write_sidecar(a.output, sc, argc, argv, &err);
    if (rc == RESIM_OK && a.summary)
        print_summary(a.output != NULL && strcmp(a.output, "-") != 0 ? stdout : stderr, sc, oc);
done:
    resim_out_abort(&o);
    free(out);
    free(oc);
    resim_model_free(m);
    cli_unload(&s);
    free(a.scen.sets);
    return rc == RESIM_OK ? 0 : cli_fail(&err);
}

int cli_check(int argc, char **argv)
{
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
    resim_timeline_print(stdout, &s.sc);
    if (s.u.n > 0) {
        printf("uncertain levers (drawn once per replicate; the values above are central):\n");
        for (size_t k = 0; k < s.u.n; k++) {
            const resim_ini_entry *e = &s.ini.v[s.u.entry[k]];
            printf("  %s.%s = %s   (central %.15g)\n", e->section, e->key, e->value,
                   resim_dist_central(&s.u.dist[k]));
        }
    }
    if (s.sc.has_list_process)
        printf("random list process: [list_process] (ensembles only)\n");
    cli_unload(&s);
    return 0;
}

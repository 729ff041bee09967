/*
 * common.c - what every subcommand shares: the help text, option matching,
 * the one parser of whole numbers, usage and input errors, warnings, and
 * loading a scenario with its overrides.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "resim/number.h"

const char cli_help_text[] =
    "usage: resim COMMAND [ARGS]\n"
    "\n"
    "Scenario simulation of heavy-rare-earth supply to Japanese importers under\n"
    "China's export licensing.\n"
    "\n"
    "commands:\n"
    "  run SCENARIO [options]    simulate and write the monthly CSV\n"
    "      --set SECTION.KEY=VALUE   override any scenario key (repeatable),\n"
    "                                e.g. policy.approval.watch=0.3 or\n"
    "                                2026-02.list.add.control=40\n"
    "      -o, --output FILE         write the CSV to FILE (via a temporary file)\n"
    "                                and run metadata to FILE.json; default stdout\n"
    "      --by status|importer      add rows per list status or per importer\n"
    "      --by status@YYYY-MM       status groups as they are in that month, kept\n"
    "                                (single runs only)\n"
    "      --warmup N                simulate N months before the start, unwritten\n"
    "      --summary                 print per element (all, control list, others)\n"
    "                                the lowest availability and the shortfall, with\n"
    "                                and without the national stockpile; with\n"
    "                                --replicates, the band of lowest availability\n"
    "    ensembles (lots, uncertain levers, random list moves):\n"
    "      --replicates N            run N replicates; the CSV becomes a summary\n"
    "                                (mean and quantiles of every column per row)\n"
    "      --seed S                  random seed (default 1)\n"
    "      --threads T               worker threads (default 1; same bytes for any T)\n"
    "      --quantiles Q,Q,...       quantiles (default 0.05,0.25,0.5,0.75,0.95)\n"
    "      --threshold X             report P(availability < X) (default 0.9)\n"
    "      --window FIRST:LAST       add P(below X in some month of the window) and\n"
    "                                the window's lowest availability and shortfall\n"
    "      --raw FILE                also write every replicate's rows to FILE\n"
    "      --first-replicate F       replicates F .. F+N-1 (default 0)\n"
    "      --memory MB               memory for exact quantiles (default 512)\n"
    "  check SCENARIO [--set ...] [--warmup N]\n"
    "                            validate; print the resolved levers and timeline\n"
    "  sweep SCENARIO --vary SECTION.KEY=LO:HI[:N]... -o FILE\n"
    "                            one row of outcome measures per design point\n"
    "                            (grid, lhs, sobol, saltelli, morris or a design CSV;\n"
    "                            shards, threads, MPI, resume): see 'resim sweep --help'\n"
    "  merge SHARD... -o FILE    join sweep shard files into point order\n"
    "  fit SCENARIO --observed FILE.csv --measure SPEC --free SECTION.KEY=LO:HI...\n"
    "                            calibrate keys to an observed series: 'resim fit --help'\n"
    "  analyze SWEEP.csv --method sobol|morris|prim -o FILE\n"
    "                            Sobol indices, Morris effects or a PRIM box from a\n"
    "                            sweep: see 'resim analyze --help'\n"
    "  serve [SCENARIO] [--port N] [--bind ADDRESS]\n"
    "                            the explorer: sliders and charts in the browser\n"
    "                            (see 'resim serve --help')\n"
    "  summary RUN.csv... [--threshold X] [--csv]\n"
    "                            per element and group: lowest availability, shortfall,\n"
    "                            months below X, and the change from the first file\n"
    "  COMMAND --help            the options of one command\n"
    "  help                      this text\n"
    "  --version                 the version\n"
    "\n"
    "exit codes: 0 success, 1 bad input or failed output (one line on stderr\n"
    "names the file, line and key), 2 bad command line.\n";

int cli_usagev(const char *hint, const char *fmt, va_list ap)
{
    fputs("resim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (%s)\n", hint);
    return EXIT_USAGE;
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_usagev("try 'resim help'", fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_fail(const resim_error *err)
{
    fprintf(stderr, "resim: %s\n", err->msg);
    return err->status == RESIM_EUSAGE ? EXIT_USAGE : EXIT_INPUT;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cli_usage("option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_whole(const char *s, unsigned long long lo, unsigned long long hi,
              unsigned long long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_quantiles(const char *v, double *q, size_t max, size_t *n)
{
    char buf[512];
    if (strlen(v) >= sizeof buf)
        return cli_usage("--quantiles: list longer than %zu characters", sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", v);
    *n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        double x;
        if (resim_parse_double(tok, &x) != 0 || x < 0 || x > 1)
            return cli_usage("--quantiles takes numbers in [0, 1], not '%s'", tok);
        if (*n == max)
            return cli_usage("--quantiles takes at most %zu values", max);
        if (*n > 0 && x <= q[*n - 1])
            return cli_usage("--quantiles must be increasing");
        q[(*n)++] = x;
        /* Each quantile names columns: two names alike would be two equal columns. */
        char a[32], b[32];
        cli_quantile_name(a, sizeof a, x);
        for (size_t k = 0; k + 1 < *n; k++) {
            cli_quantile_name(b, sizeof b, q[k]);
            if (strcmp(a, b) == 0)
                return cli_usage("--quantiles %.17g and %.17g both name columns %s", q[k], x, a);
        }
    }
    if (*n == 0)
        return cli_usage("--quantiles needs at least one value");
    return 0;
}

void cli_quantile_name(char *buf, size_t n, double q)
{
    double pct = q * 100;
    if (pct == (double)(long)pct)
        snprintf(buf, n, "p%02ld", (long)pct);
    else
        snprintf(buf, n, "p%g", pct);
}

void cli_warn(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "resim: warning: %s\n", msg);
}

int cli_load(cli_scenario *s, const cli_opts *o, resim_error *err)
{
    memset(s, 0, sizeof *s);
    int rc = resim_ini_read_scenario(&s->ini, o->scenario, err);
    for (size_t k = 0; rc == RESIM_OK && k < o->n_sets; k++)
        rc = resim_ini_set(&s->ini, o->sets[k], err);
    if (rc == RESIM_OK && o->warmup != NULL)
        rc = resim_ini_put(&s->ini, "scenario", "warmup_months", o->warmup, "--warmup", 0, err);
    char dir[RESIM_PATH_MAX];
    if (rc == RESIM_OK) {
        resim_scenario_data_dir(&s->ini, dir, sizeof dir);
        rc = resim_data_load(&s->data, dir, err);
    }
    /* Distributions are drawn per replicate; the single run takes their central values. */
    if (rc == RESIM_OK)
        rc = resim_uncertain_scan(&s->ini, &s->data, &s->u, err);
    if (rc == RESIM_OK)
        rc = resim_ini_copy(&s->central, &s->ini, err);
    if (rc == RESIM_OK)
        rc = resim_uncertain_central(&s->central, &s->u, err);
    if (rc == RESIM_OK)
        rc = resim_scenario_resolve(&s->sc, &s->central, &s->data, cli_warn, NULL, err);
    if (rc != RESIM_OK)
        cli_unload(s);
    return rc;
}

void cli_unload(cli_scenario *s)
{
    resim_scenario_free(&s->sc);
    resim_uncertain_free(&s->u);
    resim_data_free(&s->data);
    resim_ini_free(&s->central);
    resim_ini_free(&s->ini);
}


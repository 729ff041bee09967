/*
 * cli.h - what the subcommands of the resim command line share (private):
 * exit codes, option parsing, errors, the scenario loader and the entry
 * point of each subcommand. Defined in common.c; rows.h has the CSV rows.
 */
#ifndef RESIM_CLI_H
#define RESIM_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "resim/ensemble.h"
#include "resim/error.h"
#include "resim/iniread.h"
#include "resim/model.h"
#include "resim/scenario.h"

/* Exit codes: documented in `resim help` and the README. */
enum { EXIT_INPUT = 1, EXIT_USAGE = 2 };

/* `resim help`: the commands, their options and the exit codes. */
extern const char cli_help_text[];

/* Most worker threads any subcommand starts (--threads). */
#define CLI_MAX_THREADS 1024

/*
 * A scenario read from disk with its overrides applied (ini, which may hold
 * distributions), the same with each distribution at its central value
 * (central), its data, and central resolved (sc).
 */
typedef struct cli_scenario {
    resim_ini ini;
    resim_ini central;
    resim_data data;
    resim_uncertain u;
    resim_scenario sc;
} cli_scenario;

/* Collected command-line options shared by run, check and sweep. */
typedef struct cli_opts {
    const char *scenario;
    const char **sets;
    size_t n_sets;
    const char *warmup;
} cli_opts;

int cli_load(cli_scenario *s, const cli_opts *o, resim_error *err);
void cli_unload(cli_scenario *s);
void cli_warn(void *ctx, const char *msg);

/*
 * Matches argv[*i] against option `name` taking a value ("--name V" or
 * "--name=V"). Returns 1 and sets *value on a match, 0 if it is another
 * option, -1 (after printing a usage error) when the value is missing.
 */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* Prints "resim: MESSAGE (HINT)" on one line to stderr; returns EXIT_USAGE. */
int cli_usagev(const char *hint, const char *fmt, va_list ap);
/* Prints "resim: MESSAGE" and a hint to stderr; returns EXIT_USAGE. */
int cli_usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* The one parser of whole numbers: digits only, in [lo, hi]; 0 or -1. */
int cli_whole(const char *s, unsigned long long lo, unsigned long long hi,
              unsigned long long *out);
/* Parses --quantiles (increasing, in [0, 1]); returns 0 or an exit code. */
int cli_parse_quantiles(const char *v, double *q, size_t max, size_t *n);
/* Column suffix of quantile q: 0.05 -> "p05", 0.025 -> "p2.5". */
void cli_quantile_name(char *buf, size_t n, double q);
/* Prints an error record to stderr; returns the exit code for it. */
int cli_fail(const resim_error *err);

/* Options of `resim run` (the ensemble ones apply with --replicates). */
typedef struct run_args {
    cli_opts scen;
    const char *output;
    resim_grouping by;
    const char *by_at;  /* --by status@YYYY-MM: the month, else NULL */
    int summary;
    unsigned long replicates, first_replicate, threads, memory_mb;
    unsigned long long seed;
    double quantiles[32];
    size_t n_quantiles;
    double threshold;
    const char *raw;
    const char *window;  /* --window YYYY-MM:YYYY-MM, or NULL */
    int window_ym[2];    /* its first and last calendar month */
    int ensemble_opts; /* ensemble options other than --replicates seen */
} run_args;

int cli_ensemble(const run_args *a, int argc, char **argv);
/*
 * Prints the headline of `run --summary` for s (its central values): per
 * element, for all importers, the control list and the others, the lowest
 * availability, its month and the cumulative shortfall with and without the
 * national stockpile, and what it released. Runs s twice (headline.c).
 */
int cli_headline(FILE *fp, const cli_scenario *s, resim_error *err);
int cli_run(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_sweep(int argc, char **argv);
int cli_merge(int argc, char **argv);
int cli_fit(int argc, char **argv);
int cli_analyze(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_summary(int argc, char **argv);

#endif

/*
 * summary.c - `resim summary`: per element and group (all importers, the
 * control list, everyone else), the lowest availability and its month, the
 * cumulative shortfall and the months below a threshold of one or more run
 * CSVs, with each file's difference from the first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "resim/csvout.h"
#include "resim/csvread.h"
#include "resim/number.h"

static const char summary_help[] =
    "usage: resim summary RUN.csv [RUN.csv ...] [--threshold X] [--csv]\n"
    "For every element of each run CSV (written by resim run, with --by status for\n"
    "the groups), and for all importers, the control list and everyone else (the\n"
    "none and watch groups summed): the lowest availability and its month, the\n"
    "cumulative shortfall, the months with availability below X (default 0.9),\n"
    "and the difference of each from the first file.\n"
    "\n"
    "  --threshold X   availability threshold in [0, 1] (default 0.9)\n"
    "  --csv           write the same as CSV to stdout\n"
    "\n"
    "exit codes: 0 success, 1 bad input, 2 bad command line.\n";

enum { G_ALL, G_CONTROL, G_OTHERS, NG };
static const char *const group_label[NG] = {"all", "control", "none+watch"};
static const char *const group_text[NG] = {"all importers", "control list", "everyone else"};

#define MAX_EL 32

/* Monthly sums of one element and group. */
typedef struct series {
    double *d, *c, *u; /* demand, consumption, shortfall by month */
    size_t n;
} series;

/* What the measures of one element and group came to. */
typedef struct measures {
    int present;
    double min_av;
    int min_t;
    double cum;
    int below;
} measures;

typedef struct run_file {
    const char *path;
    char scenario[128];
    size_t n_el;
    char el[MAX_EL][8];
    series s[MAX_EL][NG];
    int has_groups; /* a row of group none, watch or control */
    int has_date0;
    int date0;      /* calendar month of month 0 */
    int col[8];     /* scenario, date, month, element, group, demand, consumption, shortfall */
    int header;
    measures m[MAX_EL][NG];
} run_file;

static const char *const needed[8] = {"scenario", "date",   "month",       "element",
                                      "group",    "demand", "consumption", "shortfall"};

static int grow(series *s, size_t n)
{
    if (n <= s->n)
        return 0;
    double *p[3] = {s->d, s->c, s->u};
    for (int k = 0; k < 3; k++) {
        double *q = realloc(p[k], n * sizeof *q);
        if (q == NULL)
            return -1;
        memset(q + s->n, 0, (n - s->n) * sizeof *q);
        p[k] = q;
        if (k == 0)
            s->d = q;
        else if (k == 1)
            s->c = q;
        else
            s->u = q;
    }
    s->n = n;
    return 0;
}

static int on_row(void *ctx, char **f, size_t n, long line, resim_error *err)
{
    run_file *r = ctx;
    if (!r->header) {
        r->header = 1;
        for (int k = 0; k < 8; k++) {
            r->col[k] = -1;
            for (size_t i = 0; i < n; i++)
                if (strcmp(f[i], needed[k]) == 0)
                    r->col[k] = (int)i;
            if (r->col[k] < 0)
                return resim_error_set(err, RESIM_EINVAL, r->path, line,
                                       "not a run CSV of resim (no column %s%s)", needed[k],
                                       k >= 5 ? "; an ensemble summary or a sweep?" : "");
        }
        return RESIM_OK;
    }
    for (int k = 0; k < 8; k++)
        if ((size_t)r->col[k] >= n)
            return resim_error_set(err, RESIM_EPARSE, r->path, line, "row shorter than the header");
    const char *group = f[r->col[4]];
    int g = strcmp(group, "all") == 0       ? G_ALL
            : strcmp(group, "control") == 0 ? G_CONTROL
            : strcmp(group, "none") == 0 || strcmp(group, "watch") == 0 ? G_OTHERS
                                                                        : -1;
    if (g < 0) /* an importer of --by importer */
        return RESIM_OK;
    r->has_groups |= g != G_ALL;
    double t, v[3];
    if (resim_parse_double(f[r->col[2]], &t) != 0 || t < 0 || t > 1e6 || t != (double)(long)t)
        return resim_error_set(err, RESIM_EPARSE, r->path, line, "month: not a month number: '%s'",
                               f[r->col[2]]);
    for (int k = 0; k < 3; k++)
        if (resim_parse_double(f[r->col[5 + k]], &v[k]) != 0)
            return resim_error_set(err, RESIM_EPARSE, r->path, line, "%s: not a number: '%s'",
                                   needed[5 + k], f[r->col[5 + k]]);
    if (r->scenario[0] == '\0')
        snprintf(r->scenario, sizeof r->scenario, "%s", f[r->col[0]]);
    int ym;
    if (!r->has_date0 && resim_date_parse(f[r->col[1]], &ym) == 0) {
        r->date0 = ym - (int)t;
        r->has_date0 = 1;
    }
    const char *sym = f[r->col[3]];
    size_t e = 0;
    while (e < r->n_el && strcmp(r->el[e], sym) != 0)
        e++;
    if (e == r->n_el) {
        if (r->n_el == MAX_EL || strlen(sym) >= sizeof r->el[0])
            return resim_error_set(err, RESIM_EINVAL, r->path, line, "element: too many or too long: '%s'",
                                   sym);
        strcpy(r->el[r->n_el++], sym);
    }
    series *s = &r->s[e][g];
    size_t m = (size_t)t;
    if (grow(s, m + 1) != 0)
        return resim_error_set(err, RESIM_ENOMEM, r->path, line, "out of memory");
    s->d[m] += v[0];
    s->c[m] += v[1];
    s->u[m] += v[2];
    return RESIM_OK;
}

/* Availability is consumption / demand of the summed rows, 1 without demand. */
static void measure(run_file *r, double threshold)
{
    for (size_t e = 0; e < r->n_el; e++)
        for (int g = 0; g < NG; g++) {
            const series *s = &r->s[e][g];
            measures *m = &r->m[e][g];
            *m = (measures){.present = s->n > 0, .min_av = 2, .min_t = -1};
            for (size_t t = 0; t < s->n; t++) {
                double a = s->d[t] > 0 ? s->c[t] / s->d[t] : 1;
                m->cum += s->u[t];
                if (a < m->min_av) {
                    m->min_av = a;
                    m->min_t = (int)t;
                }
                m->below += a < threshold;
            }
        }
}

static void free_file(run_file *r)
{
    for (size_t e = 0; e < MAX_EL; e++)
        for (int g = 0; g < NG; g++) {
            free(r->s[e][g].d);
            free(r->s[e][g].c);
            free(r->s[e][g].u);
        }
}

/* The same element and group in the first file, or NULL. */
static const measures *first_of(const run_file *first, const run_file *r, size_t e, int g)
{
    for (size_t k = 0; k < first->n_el; k++)
        if (strcmp(first->el[k], r->el[e]) == 0)
            return first->m[k][g].present ? &first->m[k][g] : NULL;
    return NULL;
}

/* The month of a lowest availability; "-" when it never fell below 1. */
static void month_text(const run_file *r, const measures *m, char out[8])
{
    int t = m->min_av < 1 ? m->min_t : -1;
    if (t < 0 || !r->has_date0)
        snprintf(out, 8, "-");
    else
        resim_date_format(r->date0 + t, out);
}

static void print_text(const run_file *f, size_t nf, double threshold)
{
    char pct[16];
    snprintf(pct, sizeof pct, "%g%%", 100 * threshold);
    for (size_t k = 0; k < nf; k++) {
        const run_file *r = &f[k];
        printf("%s%s (%s)\n", k ? "\n" : "", r->scenario, r->path);
        char below[32];
        snprintf(below, sizeof below, "months < %s", pct);
        printf("%-4s %-14s %13s %8s %14s %13s", "", "group", "lowest avail.", "in",
               "cum. shortfall", below);
        if (k > 0)
            printf("   %s", "change from the first file (lowest, shortfall, months)");
        printf("\n");
        for (size_t e = 0; e < r->n_el; e++)
            for (int g = 0; g < NG; g++) {
                const measures *m = &r->m[e][g];
                if (!m->present)
                    continue;
                char when[8];
                month_text(r, m, when);
                printf("%-4s %-14s %12.1f%% %8s %12.2f t %13d", r->el[e], group_text[g],
                       100 * m->min_av, when, m->cum, m->below);
                const measures *b = k > 0 ? first_of(&f[0], r, e, g) : NULL;
                if (b != NULL)
                    printf("   %+6.1f pp %+10.2f t %+4d", 100 * (m->min_av - b->min_av),
                           m->cum - b->cum, m->below - b->below);
                else if (k > 0)
                    printf("   -");
                printf("\n");
            }
    }
}

static void print_csv(const run_file *f, size_t nf)
{
    fputs("file,scenario,element,group,min_availability,min_date,cum_shortfall,months_below,"
          "diff_min_availability,diff_cum_shortfall,diff_months_below\n",
          stdout);
    for (size_t k = 0; k < nf; k++) {
        const run_file *r = &f[k];
        for (size_t e = 0; e < r->n_el; e++)
            for (int g = 0; g < NG; g++) {
                const measures *m = &r->m[e][g];
                if (!m->present)
                    continue;
                char when[8];
                month_text(r, m, when);
                resim_csv_text(stdout, r->path);
                fputc(',', stdout);
                resim_csv_text(stdout, r->scenario);
                printf(",%s,%s,", r->el[e], group_label[g]);
                resim_csv_number(stdout, m->min_av);
                printf(",%s,", strcmp(when, "-") != 0 ? when : "");
                resim_csv_number(stdout, m->cum);
                printf(",%d,", m->below);
                const measures *b = first_of(&f[0], r, e, g);
                if (b != NULL) {
                    resim_csv_number(stdout, m->min_av - b->min_av);
                    fputc(',', stdout);
                    resim_csv_number(stdout, m->cum - b->cum);
                    printf(",%d\n", m->below - b->below);
                } else {
                    fputs(",,\n", stdout);
                }
            }
    }
}

int cli_summary(int argc, char **argv)
{
    double threshold = 0.9;
    int csv = 0;
    size_t nf = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(summary_help, stdout);
            return 0;
        }
    run_file *f = calloc((size_t)argc, sizeof *f);
    if (f == NULL) {
        fputs("resim: out of memory\n", stderr);
        return EXIT_INPUT;
    }
    int code = 0;
    for (int i = 1; i < argc && code == 0; i++) {
        const char *v;
        int r;
        if ((r = cli_opt(argc, argv, &i, "--threshold", &v)) != 0) {
            if (r < 0)
                code = EXIT_USAGE;
            else if (resim_parse_double(v, &threshold) != 0 || threshold < 0 || threshold > 1)
                code = cli_usage("--threshold takes a number in [0, 1], not '%s'", v);
        } else if (strcmp(argv[i], "--csv") == 0) {
            csv = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            code = cli_usage("unknown option '%s'", argv[i]);
        } else {
            f[nf++].path = argv[i];
        }
    }
    if (code == 0 && nf == 0)
        code = cli_usage("no run CSV given");
    resim_error err = {0};
    for (size_t k = 0; code == 0 && k < nf; k++) {
        if (resim_csv_stream(f[k].path, on_row, &f[k], &err) != RESIM_OK)
            code = cli_fail(&err);
        else if (f[k].n_el == 0) {
            resim_error_set(&err, RESIM_EINVAL, f[k].path, 0, "no rows (not a run CSV?)");
            code = cli_fail(&err);
        } else
            measure(&f[k], threshold);
    }
    for (size_t k = 0; code == 0 && k < nf; k++)
        if (!f[k].has_groups)
            fprintf(stderr,
                    "resim: note: %s has no status groups (run it with --by status): only "
                    "all importers are summarised\n",
                    f[k].path);
    if (code == 0) {
        if (csv)
            print_csv(f, nf);
        else
            print_text(f, nf, threshold);
    }
    for (size_t k = 0; k < nf; k++)
        free_file(&f[k]);
    free(f);
    return code;
}

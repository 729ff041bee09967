/*
 * headline.c - the headline of `resim run --summary`: for each element, for
 * all importers and for the control list against everyone else, the lowest
 * availability and its month and the cumulative shortfall, the same two with
 * the national stockpile switched off (the scenario run again with
 * stockpile.enabled = 0, events included), and what the stockpile released,
 * so that a reader sees when a result is held up by the stockpile.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The groups of the headline: every importer, the control list, the others. */
enum { H_ALL, H_CONTROL, H_OTHERS, H_N };
static const char *const group_label[H_N] = {"all", "control", "others"};

/* What one run gives for one element and group. */
typedef struct hl_acc {
    double lowest;   /* lowest monthly availability; 1 when never short */
    int lowest_month; /* first month of it; -1 when never below 1 */
    double shortfall; /* cumulative, t */
    double released;  /* stockpile releases received, t */
} hl_acc;

typedef struct hl_run {
    size_t E;
    hl_acc *acc; /* [E][H_N] */
} hl_run;

static void acc_add(hl_acc *h, int t, double D, double C, double U, double rel)
{
    double a = D > 0 ? C / D : 1;
    if (a < h->lowest) {
        h->lowest = a;
        h->lowest_month = t;
    }
    h->shortfall += U;
    h->released += rel;
}

/* Month t of a run grouped by status: the all row, control, none + watch. */
static int on_month(void *ctx, int t, const double *out)
{
    hl_run *r = ctx;
    const size_t G = 1 + RESIM_NSTATUSES;
    for (size_t e = 0; e < r->E; e++) {
        const double *row = out + e * G * RESIM_NMETRICS;
        const double *none = row + (1 + RESIM_NONE) * RESIM_NMETRICS;
        const double *watch = row + (1 + RESIM_WATCH) * RESIM_NMETRICS;
        const double *ctrl = row + (1 + RESIM_CONTROL) * RESIM_NMETRICS;
        hl_acc *h = r->acc + e * H_N;
        acc_add(&h[H_ALL], t, row[RESIM_M_DEMAND], row[RESIM_M_CONSUMPTION],
                row[RESIM_M_SHORTFALL], row[RESIM_M_STOCKPILE_RELEASE]);
        acc_add(&h[H_CONTROL], t, ctrl[RESIM_M_DEMAND], ctrl[RESIM_M_CONSUMPTION],
                ctrl[RESIM_M_SHORTFALL], ctrl[RESIM_M_STOCKPILE_RELEASE]);
        acc_add(&h[H_OTHERS], t, none[RESIM_M_DEMAND] + watch[RESIM_M_DEMAND],
                none[RESIM_M_CONSUMPTION] + watch[RESIM_M_CONSUMPTION],
                none[RESIM_M_SHORTFALL] + watch[RESIM_M_SHORTFALL],
                none[RESIM_M_STOCKPILE_RELEASE] + watch[RESIM_M_STOCKPILE_RELEASE]);
    }
    return RESIM_OK;
}

/* Runs sc grouped by status into r (allocated by the caller). */
static int run_groups(const resim_scenario *sc, hl_run *r, resim_error *err)
{
    for (size_t k = 0; k < r->E * H_N; k++)
        r->acc[k] = (hl_acc){1, -1, 0, 0};
    resim_model *m = resim_model_alloc(sc, RESIM_BY_STATUS, err);
    if (m == NULL)
        return err->status;
    /* A list move that asks for too many was reported by the main run. */
    resim_model_set_warn(m, NULL, NULL);
    double *scratch = malloc(sc->n_elements * (1 + RESIM_NSTATUSES) * RESIM_NMETRICS *
                             sizeof *scratch);
    int rc = scratch == NULL ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory")
                             : resim_model_init(m, sc, err);
    if (rc == RESIM_OK)
        rc = resim_model_run(m, scratch, NULL, on_month, r);
    free(scratch);
    resim_model_free(m);
    return rc;
}

/*
 * The entries of s with the national stockpile off: stockpile.enabled = 0,
 * and every event that would switch it on sets 0 instead.
 */
static int without_stockpile(const cli_scenario *s, resim_ini *ini, resim_error *err)
{
    int rc = resim_ini_copy(ini, &s->central, err);
    if (rc == RESIM_OK)
        rc = resim_ini_put(ini, "stockpile", "enabled", "0", "--summary", 0, err);
    for (size_t i = 0; rc == RESIM_OK && i < ini->n; i++) {
        const resim_ini_entry *e = &ini->v[i];
        resim_lever_ref ref;
        if (resim_section_of(e->section) == RESIM_SECTION_EVENT &&
            resim_lever_find(&s->data, e->section, e->key, &ref) == RESIM_LEVER_FOUND &&
            ref.id == RESIM_LEVER_STOCK_ENABLED)
            rc = resim_ini_put(ini, e->section, e->key, "0", e->file, e->line, err);
    }
    return rc;
}

static void print_pair(FILE *fp, const resim_scenario *sc, const hl_acc *h)
{
    char month[8] = "-";
    if (h->lowest_month >= 0)
        resim_date_format(sc->start + h->lowest_month, month);
    fprintf(fp, " %7.1f%% %8s %11.2f t", 100 * h->lowest, month, h->shortfall);
}

int cli_headline(FILE *fp, const cli_scenario *s, resim_error *err)
{
    const resim_scenario *sc = &s->sc;
    const size_t E = sc->n_elements;
    hl_run with = {E, calloc(E * H_N, sizeof(hl_acc))};
    hl_run without = {E, calloc(E * H_N, sizeof(hl_acc))};
    resim_ini ini = {0};
    resim_scenario off;
    memset(&off, 0, sizeof off);
    int rc = RESIM_OK;
    if (with.acc == NULL || without.acc == NULL)
        rc = resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    if (rc == RESIM_OK)
        rc = run_groups(sc, &with, err);
    if (rc == RESIM_OK)
        rc = without_stockpile(s, &ini, err);
    if (rc == RESIM_OK)
        rc = resim_scenario_resolve(&off, &ini, &s->data, NULL, NULL, err);
    if (rc == RESIM_OK)
        rc = run_groups(&off, &without, err);
    if (rc == RESIM_OK) {
        fprintf(fp, "%-7s %-8s%32s%32s %11s\n", "", "", "with the national stockpile",
                "without it", "stockpile");
        fprintf(fp, "%-7s %-8s %8s %8s %13s %8s %8s %13s %11s\n", "element", "group",
                "lowest", "in", "shortfall", "lowest", "in", "shortfall", "released");
        for (size_t e = 0; e < E; e++)
            for (int g = 0; g < H_N; g++) {
                const hl_acc *a = &with.acc[e * H_N + (size_t)g];
                fprintf(fp, "%-7s %-8s", g == 0 ? resim_scenario_symbol(sc, e) : "",
                        group_label[g]);
                print_pair(fp, sc, a);
                print_pair(fp, sc, &without.acc[e * H_N + (size_t)g]);
                fprintf(fp, " %9.2f t\n", a->released);
            }
        fprintf(fp, "lowest: the lowest monthly availability (consumption / demand) and its first "
                    "month; shortfall: cumulative;\n"
                    "others: every importer not on the control list; without it: the scenario run "
                    "again with stockpile.enabled = 0.\n");
        /* Say outright where the stockpile holds a result up. */
        int any = 0;
        for (size_t e = 0; e < E; e++) {
            const hl_acc *a = &with.acc[e * H_N], *b = &without.acc[e * H_N];
            double points = 100 * (a->lowest - b->lowest);
            if (points >= 0.05) {
                fprintf(fp, "%s%s %.1f points", any ? ", " : "held up by the stockpile: ",
                        resim_scenario_symbol(sc, e), points);
                any = 1;
            }
        }
        fputs(any ? " (lowest availability of all importers, with it minus without it)\n"
                  : "the stockpile does not raise any element's lowest availability\n",
              fp);
    }
    resim_scenario_free(&off);
    resim_ini_free(&ini);
    free(with.acc);
    free(without.acc);
    return rc;
}

/*
 * test_model.c - the monthly engine (docs/model.md sections 3, 5, 6, 7) on the
 * fixture data in tests/fixtures: steady state, mass balance, limiting
 * cases, list moves, grouping and one month computed by hand.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>

#include "resim/model.h"
#include "resim/iniread.h"
#include "resim/scenario.h"

#define FIXTURES RESIM_SOURCE_DIR "/tests/fixtures/"
#define MD RESIM_MONTH_DAYS

/* ------------------------------------------------------------ helpers */

/* |a - b| <= max(abs, rel * max(|a|, |b|)); two NaNs are equal. */
static void close_(double a, double b, double rel, double abs_tol, const char *what,
                   const char *file, int line)
{
    if (isnan(a) && isnan(b))
        return;
    double tol = fmax(abs_tol, rel * fmax(fabs(a), fabs(b)));
    if (!(fabs(a - b) <= tol)) {
        print_error("%s: got %.17g, expected %.17g (difference %.3g, tolerance %.3g)\n", what, a,
                    b, fabs(a - b), tol);
        _fail(file, line);
    }
}
#define assert_close(a, b, rel, abs_tol) close_((a), (b), (rel), (abs_tol), #a, __FILE__, __LINE__)
#define assert_close_at(a, b, rel, abs_tol, ...)                                  \
    do {                                                                          \
        char what_[256];                                                          \
        snprintf(what_, sizeof what_, __VA_ARGS__);                               \
        close_((a), (b), (rel), (abs_tol), what_, __FILE__, __LINE__);            \
    } while (0)

typedef struct run {
    resim_ini ini;
    resim_data data;
    resim_scenario sc;
    resim_model *m;
    size_t E, G;
    int t0, T;
    double *rows; /* [(t - t0)][E][G][RESIM_NMETRICS] */
    int warns;
    char warn[512];
} run;

/* Runs still open, closed by the teardown when an assertion jumps out. */
#define MAX_OPEN 8
static run *open_runs[MAX_OPEN];

static void on_warn(void *ctx, const char *msg)
{
    run *r = ctx;
    r->warns++;
    snprintf(r->warn, sizeof r->warn, "%s", msg);
}

/* Reads a fixture scenario, applies SECTION.KEY=VALUE overrides (NULL
 * terminated), loads its data, resolves it and sets the model's start state. */
static run *run_open(const char *name, const char *const *sets, resim_grouping by)
{
    run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    size_t slot = 0;
    while (slot < MAX_OPEN && open_runs[slot] != NULL)
        slot++;
    assert_true(slot < MAX_OPEN);
    open_runs[slot] = r;
    resim_error err = {0};
    char path[RESIM_PATH_MAX], dir[RESIM_PATH_MAX];
    snprintf(path, sizeof path, FIXTURES "%s", name);
    if (resim_ini_read(&r->ini, path, &err) != RESIM_OK)
        fail_msg("%s", err.msg);
    for (size_t k = 0; sets != NULL && sets[k] != NULL; k++)
        if (resim_ini_set(&r->ini, sets[k], &err) != RESIM_OK)
            fail_msg("%s", err.msg);
    resim_scenario_data_dir(&r->ini, dir, sizeof dir);
    if (resim_data_load(&r->data, dir, &err) != RESIM_OK)
        fail_msg("%s", err.msg);
    if (resim_scenario_resolve(&r->sc, &r->ini, &r->data, on_warn, r, &err) != RESIM_OK)
        fail_msg("%s", err.msg);
    r->m = resim_model_alloc(&r->sc, by, &err);
    if (r->m == NULL)
        fail_msg("%s", err.msg);
    resim_model_set_warn(r->m, on_warn, r);
    if (resim_model_init(r->m, &r->sc, &err) != RESIM_OK)
        fail_msg("%s", err.msg);
    r->E = r->sc.n_elements;
    r->G = resim_model_groups(r->m);
    r->t0 = -r->sc.warmup;
    r->T = r->sc.months;
    r->rows = calloc((size_t)(r->T - r->t0) * r->E * r->G * RESIM_NMETRICS, sizeof(double));
    assert_non_null(r->rows);
    return r;
}

static double *row(const run *r, int t, size_t e, size_t g)
{
    return r->rows + (((size_t)(t - r->t0) * r->E + e) * r->G + g) * RESIM_NMETRICS;
}

/* Simulates the next month into its rows. */
static int run_step(run *r)
{
    int t = resim_model_month(r->m);
    assert_true(t < r->T);
    resim_model_step(r->m, row(r, t, 0, 0));
    return t;
}

static void run_all(run *r)
{
    while (resim_model_month(r->m) < r->T)
        run_step(r);
}

static void run_close(run *r)
{
    if (r == NULL)
        return;
    for (size_t k = 0; k < MAX_OPEN; k++)
        if (open_runs[k] == r)
            open_runs[k] = NULL;
    resim_model_free(r->m);
    resim_scenario_free(&r->sc);
    resim_data_free(&r->data);
    resim_ini_free(&r->ini);
    free(r->rows);
    free(r);
}

static size_t importer(const run *r, const char *id)
{
    for (size_t i = 0; i < r->data.n_importers; i++)
        if (strcmp(r->data.importer_id[i], id) == 0)
            return i;
    fail_msg("no importer %s", id);
    return 0;
}

static size_t element(const run *r, const char *sym)
{
    for (size_t e = 0; e < r->sc.n_elements; e++)
        if (strcmp(resim_scenario_symbol(&r->sc, e), sym) == 0)
            return e;
    fail_msg("no element %s", sym);
    return 0;
}

/* Metrics that are sums over importers (not element-wide, not ratios). */
static int additive(int k)
{
    return k != RESIM_M_ALT_CAPACITY && k != RESIM_M_NATIONAL_STOCKPILE &&
           k != RESIM_M_AVAILABILITY && k != RESIM_M_COVER_DAYS;
}

/* ------------------------------------------------------------ (a) steady state */

static void check_steady(run *r)
{
    run_all(r);
    for (size_t e = 0; e < r->E; e++)
        for (int t = r->t0 + 1; t < r->T; t++)
            for (size_t g = 0; g < r->G; g++)
                for (int k = 0; k < RESIM_NMETRICS; k++)
                    assert_close_at(row(r, t, e, g)[k], row(r, r->t0, e, g)[k], 1e-12, 1e-12,
                                    "%s %s month %d group %zu", resim_scenario_symbol(&r->sc, e),
                                    resim_metric_names[k], t, g);
    /* The steady state is the one of docs/model.md section 6, from the data. */
    const resim_data *d = &r->data;
    for (size_t e = 0; e < r->E; e++) {
        size_t x = r->sc.element[e];
        const double *v = row(r, 0, e, 0);
        double De = d->base_tpy[x] / 12, inv = 0;
        for (size_t i = 0; i < d->n_importers; i++)
            inv += d->cover[i] * d->share[x * d->n_importers + i] * De;
        assert_close(v[RESIM_M_DEMAND], De, 1e-12, 0);
        assert_close(v[RESIM_M_REQUIREMENT], De, 1e-12, 0);
        assert_close(v[RESIM_M_INVENTORY], inv, 1e-12, 0);
        assert_close(v[RESIM_M_CONSUMPTION], De, 1e-12, 0);
        assert_true(v[RESIM_M_SHORTFALL] == 0);
        assert_true(v[RESIM_M_AVAILABILITY] == 1);
        assert_close(v[RESIM_M_COVER_DAYS], inv / (De / MD), 1e-12, 0);
        assert_true(v[RESIM_M_STOCKPILE_RELEASE] == 0);
        assert_close(v[RESIM_M_NATIONAL_STOCKPILE], d->stock_tonnes[x], 1e-12, 0);
        assert_close(v[RESIM_M_CHINA_PENDING], 0, 0, 1e-12);
        assert_close(v[RESIM_M_CHINA_REJECTED], 0, 0, 1e-12);
        /* Sources at full rate and flat: A = japan_share * capacity / 12. */
        double A = 0;
        for (size_t j = 0; j < d->n_sources; j++)
            if (d->source_element[j] == x)
                A += d->source[j].japan_share * d->source[j].capacity_tpy / 12;
        assert_close(v[RESIM_M_ALT_CAPACITY], A, 1e-12, 0);
        assert_close(v[RESIM_M_ALT_SUPPLY], A, 1e-12, 1e-12);
        assert_close(v[RESIM_M_CHINA_APPLIED], De - A, 1e-12, 0);
        assert_close(v[RESIM_M_CHINA_APPROVED], De - A, 1e-12, 0);
        assert_close(v[RESIM_M_CHINA_ARRIVALS], De - A, 1e-12, 0);
    }
}

static void test_steady_state(void **state)
{
    (void)state;
    run *r = run_open("flat.ini", NULL, RESIM_BY_NONE);
    assert_int_equal(r->E, 3);
    check_steady(r);
    run_close(r);
}

/* Warm-up months are part of the same steady state; so is a scenario with
 * no source at all for an element (Y) and a transit of zero or three. */
static void test_steady_state_warmup_transit(void **state)
{
    (void)state;
    const char *const a[] = {"scenario.warmup_months=5", "scenario.transit_months=0", NULL};
    run *r = run_open("flat.ini", a, RESIM_BY_STATUS);
    assert_int_equal(r->t0, -5);
    check_steady(r);
    run_close(r);
    const char *const b[] = {"scenario.transit_months=3", "scenario.adjust_months=1.37", NULL};
    r = run_open("flat.ini", b, RESIM_BY_IMPORTER);
    check_steady(r);
    run_close(r);
}

/* ------------------------------------------------------------ (b) mass balance */

static void check_balance(run *r)
{
    const resim_data *d = &r->data;
    double seen_release = 0, seen_pending = 0, seen_rejected = 0, seen_short = 0;
    for (size_t e = 0; e < r->E; e++) {
        size_t x = r->sc.element[e];
        /* Start state (section 6): inventory at target, nothing pending. */
        double De0 = r->sc.initial.base_tpy[x] / 12 * pow(1 + r->sc.initial.growth[x], r->t0 / 12.0);
        double inv = 0, pend = 0, stock = r->sc.initial.stock_tonnes[x];
        for (size_t i = 0; i < d->n_importers; i++)
            inv += d->cover[i] * d->share[x * d->n_importers + i] * De0;
        for (int t = r->t0; t < r->T; t++) {
            const double *v = row(r, t, e, 0);
            const char *s = resim_scenario_symbol(&r->sc, e);
            double scale = fmax(1, v[RESIM_M_DEMAND] + inv);
            assert_close_at(v[RESIM_M_INVENTORY],
                            inv + v[RESIM_M_CHINA_ARRIVALS] + v[RESIM_M_ALT_SUPPLY] +
                                v[RESIM_M_STOCKPILE_RELEASE] - v[RESIM_M_CONSUMPTION],
                            0, 1e-12 * scale, "%s inventory balance month %d", s, t);
            assert_close_at(v[RESIM_M_CHINA_PENDING],
                            pend + v[RESIM_M_CHINA_APPLIED] - v[RESIM_M_CHINA_APPROVED] -
                                v[RESIM_M_CHINA_REJECTED],
                            0, 1e-12 * fmax(1, pend + v[RESIM_M_CHINA_APPLIED]),
                            "%s pending balance month %d", s, t);
            assert_close_at(v[RESIM_M_NATIONAL_STOCKPILE], stock - v[RESIM_M_STOCKPILE_RELEASE], 0,
                            1e-12 * fmax(1, stock), "%s stockpile balance month %d", s, t);
            assert_close_at(v[RESIM_M_CONSUMPTION] + v[RESIM_M_SHORTFALL], v[RESIM_M_DEMAND],
                            1e-12, 1e-12, "%s consumption + shortfall month %d", s, t);
            assert_close_at(v[RESIM_M_ALT_SUPPLY] + v[RESIM_M_CHINA_APPLIED],
                            v[RESIM_M_REQUIREMENT], 1e-12, 1e-12, "%s requirement split month %d",
                            s, t);
            assert_true(v[RESIM_M_ALT_SUPPLY] <= v[RESIM_M_ALT_CAPACITY] * (1 + 1e-12) + 1e-12);
            assert_true(v[RESIM_M_SHORTFALL] >= -1e-12);
            assert_true(v[RESIM_M_INVENTORY] >= -1e-12);
            assert_true(v[RESIM_M_CHINA_PENDING] >= -1e-9);
            assert_true(v[RESIM_M_STOCKPILE_RELEASE] >= 0);
            assert_close_at(v[RESIM_M_AVAILABILITY], v[RESIM_M_CONSUMPTION] / v[RESIM_M_DEMAND],
                            1e-12, 0, "%s availability month %d", s, t);
            inv = v[RESIM_M_INVENTORY];
            pend = v[RESIM_M_CHINA_PENDING];
            stock = v[RESIM_M_NATIONAL_STOCKPILE];
            seen_release += v[RESIM_M_STOCKPILE_RELEASE];
            seen_pending += pend;
            seen_rejected += v[RESIM_M_CHINA_REJECTED];
            seen_short += v[RESIM_M_SHORTFALL];
        }
    }
    /* The scenario must exercise every term of the balances. */
    assert_true(seen_release > 0);
    assert_true(seen_pending > 0);
    assert_true(seen_rejected > 0);
    assert_true(seen_short > 0);
}

static void test_mass_balance(void **state)
{
    (void)state;
    run *r = run_open("licensing.ini", NULL, RESIM_BY_NONE);
    run_all(r);
    check_balance(r);
    run_close(r);
    /* With a warm-up, a transit of 3 and growing sources. */
    const char *const b[] = {"scenario.warmup_months=4", "scenario.transit_months=3",
                             "alt.src_tb.ramp_months=7", NULL};
    r = run_open("licensing.ini", b, RESIM_BY_NONE);
    run_all(r);
    check_balance(r);
    run_close(r);
}

/* ------------------------------------------------------------ (c) approval 0 */

static void test_approval_zero(void **state)
{
    (void)state;
    const char *const sets[] = {"policy.controlled=Dy,Tb",   "policy.approval.none=0",
                                "policy.approval.watch=0",   "policy.approval.control=0",
                                "policy.delay_mean_days.none=38.6", "policy.delay_cv.none=0.52",
                                "policy.delay_mean_days.watch=71.2", "policy.delay_cv.watch=0.8",
                                NULL};
    run *r = run_open("flat.ini", sets, RESIM_BY_NONE);
    run_all(r);
    int L = r->sc.transit;
    assert_int_equal(L, 2);
    size_t y = element(r, "Y");
    for (size_t e = 0; e < r->E; e++) {
        size_t x = r->sc.element[e];
        double De = r->data.base_tpy[x] / 12;
        for (int t = 0; t < r->T; t++) {
            const double *v = row(r, t, e, 0);
            if (e == y) {
                /* Y is not controlled: nothing changes for it. */
                assert_close(v[RESIM_M_CHINA_ARRIVALS], De, 1e-12, 0);
                continue;
            }
            assert_true(v[RESIM_M_CHINA_APPROVED] == 0);
            if (t < L) /* approved before the start, still landing */
                assert_close(v[RESIM_M_CHINA_ARRIVALS], De - v[RESIM_M_ALT_CAPACITY], 1e-12, 0);
            else
                assert_true(v[RESIM_M_CHINA_ARRIVALS] == 0);
        }
        if (e != y) {
            assert_true(row(r, r->T - 1, e, 0)[RESIM_M_CHINA_REJECTED] > 0);
            assert_true(row(r, r->T - 1, e, 0)[RESIM_M_SHORTFALL] > 0);
        }
    }
    run_close(r);
}

/* ------------------------------------------------------------ (d) approval 1, no delay */

static const char *const free_trade[] = {
    "policy.approval.none=1", "policy.approval.watch=1", "policy.approval.control=1",
    "policy.delay_mean_days.none=0", "policy.delay_mean_days.watch=0",
    "policy.delay_mean_days.control=0", "2025-04.approval.none=1", "2025-04.military_ban=0",
    "2026-02.approval.none=1", "2026-02.delay_mean_days.none=0", NULL};

static void test_approval_one_no_delay(void **state)
{
    (void)state;
    run *r = run_open("licensing.ini", free_trade, RESIM_BY_STATUS);
    run_all(r);
    for (size_t e = 0; e < r->E; e++)
        for (int t = 0; t < r->T; t++)
            for (size_t g = 0; g < r->G; g++) {
                assert_close_at(row(r, t, e, g)[RESIM_M_SHORTFALL], 0, 0, 1e-12,
                                "%s shortfall month %d group %zu", resim_scenario_symbol(&r->sc, e),
                                t, g);
                assert_close(row(r, t, e, g)[RESIM_M_CHINA_PENDING], 0, 0, 1e-12);
                assert_close(row(r, t, e, g)[RESIM_M_CHINA_REJECTED], 0, 0, 1e-12);
            }
    /* A licence approved at once with certainty is no licence at all. */
    const char *sets[16];
    size_t n = 0;
    for (; free_trade[n] != NULL; n++)
        sets[n] = free_trade[n];
    sets[n++] = "policy.controlled=none";
    sets[n++] = "2025-04.controlled.add=none";
    sets[n] = NULL;
    run *u = run_open("licensing.ini", sets, RESIM_BY_STATUS);
    run_all(u);
    for (size_t e = 0; e < r->E; e++)
        for (int t = 0; t < r->T; t++)
            for (size_t g = 0; g < r->G; g++)
                for (int k = 0; k < RESIM_NMETRICS; k++)
                    assert_close_at(row(r, t, e, g)[k], row(u, t, e, g)[k], 1e-12, 1e-12,
                                    "%s %s month %d group %zu", resim_scenario_symbol(&r->sc, e),
                                    resim_metric_names[k], t, g);
    run_close(u);
    run_close(r);
}

/* ------------------------------------------------------------ (e) list moves */

enum { N = RESIM_NONE, W = RESIM_WATCH, C = RESIM_CONTROL };

/*
 * Fixture importers a..f: exposure 0.62 0.87 0.62 0.35 0.91 0.62, status
 * none none watch none control none. By exposure, ties by table order:
 * e b a c f d (descending), d a c f b e (ascending).
 */
static void check_moves(const char *const *sets, const int want[6], int want_warns)
{
    run *r = run_open("flat.ini", sets, RESIM_BY_NONE);
    const unsigned char *st = resim_model_status(r->m);
    static const int initial[6] = {N, N, W, N, C, N};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(st[i], initial[i]);
    /* The events are dated 2025-02 and 2025-03, months 1 and 2. */
    run_step(r);
    run_step(r);
    run_step(r);
    char got[64] = "", expect[64] = "";
    for (size_t i = 0; i < 6; i++) {
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s ", resim_status_names[st[i]]);
        snprintf(expect + strlen(expect), sizeof expect - strlen(expect), "%s ", resim_status_names[want[i]]);
    }
    if (strcmp(got, expect) != 0)
        fail_msg("%s: statuses a..f are %s, expected %s", sets[0], got, expect);
    assert_int_equal(r->warns, want_warns);
    if (want_warns > 0)
        assert_non_null(strstr(r->warn, "list."));
    run_close(r);
}

static void test_list_add_control(void **state)
{
    (void)state;
    /* b and a; c (watch) ties with a but comes later in the table. */
    const char *const two[] = {"2025-03.list.add.control=2", NULL};
    check_moves(two, (int[]){C, C, W, N, C, N}, 0);
    /* The third is c, on the watch list: watch-listed ones move too. */
    const char *const three[] = {"2025-03.list.add.control=3", NULL};
    check_moves(three, (int[]){C, C, C, N, C, N}, 0);
}

static void test_list_add_watch(void **state)
{
    (void)state;
    /* Only status none: b, then a before f (tie, table order); c stays. */
    const char *const two[] = {"2025-03.list.add.watch=2", NULL};
    check_moves(two, (int[]){W, W, W, N, C, N}, 0);
    const char *const three[] = {"2025-03.list.add.watch=3", NULL};
    check_moves(three, (int[]){W, W, W, N, C, W}, 0);
    /* A fraction rounds to whole importers. */
    const char *const frac[] = {"2025-03.list.add.watch=0.7", NULL};
    check_moves(frac, (int[]){N, W, W, N, C, N}, 0);
}

static void test_list_remove(void **state)
{
    (void)state;
    /* Control list d, e, f: the lowest exposure (d, 0.35) goes first, then f. */
    const char *const one[] = {"2025-02.list.set=imp_d:control,imp_f:control",
                               "2025-03.list.remove.control=1", NULL};
    check_moves(one, (int[]){N, N, W, N, C, C}, 0);
    const char *const two[] = {"2025-02.list.set=imp_d:control,imp_f:control",
                               "2025-03.list.remove.control=2", NULL};
    check_moves(two, (int[]){N, N, W, N, C, N}, 0);
    /* Watch list a, c, f, all at 0.62: a and c go, by table order. */
    const char *const tie[] = {"2025-02.list.set=imp_a:watch imp_f:watch",
                               "2025-03.list.remove.watch=2", NULL};
    check_moves(tie, (int[]){N, N, N, N, C, W}, 0);
}

static void test_list_more_than_there_are(void **state)
{
    (void)state;
    const char *const watch[] = {"2025-03.list.add.watch=10", NULL};
    check_moves(watch, (int[]){W, W, W, W, C, W}, 1);
    const char *const control[] = {"2025-02.list.add.control=8", NULL};
    check_moves(control, (int[]){C, C, C, C, C, C}, 1);
    const char *const rm[] = {"2025-02.list.remove.control=4", "2025-03.list.remove.watch=2",
                              NULL};
    check_moves(rm, (int[]){N, N, N, N, N, N}, 2);
}

/* Events take effect in their month: the status before it is unchanged. */
static void test_list_move_timing(void **state)
{
    (void)state;
    const char *const sets[] = {"2025-03.list.add.control=1", NULL};
    run *r = run_open("flat.ini", sets, RESIM_BY_NONE);
    size_t b = importer(r, "imp_b");
    run_step(r);
    run_step(r);
    assert_int_equal(resim_model_status(r->m)[b], N);
    run_step(r);
    assert_int_equal(resim_model_status(r->m)[b], C);
    run_close(r);
}

/* ------------------------------------------------------------ (f) groups */

static void check_groups_sum(const run *r, size_t first_group)
{
    for (size_t e = 0; e < r->E; e++)
        for (int t = 0; t < r->T; t++) {
            const double *all = row(r, t, e, 0);
            for (int k = 0; k < RESIM_NMETRICS; k++) {
                if (!additive(k)) {
                    if (k == RESIM_M_ALT_CAPACITY || k == RESIM_M_NATIONAL_STOCKPILE)
                        for (size_t g = first_group; g < r->G; g++)
                            assert_true(row(r, t, e, g)[k] == all[k]);
                    continue;
                }
                double sum = 0;
                for (size_t g = first_group; g < r->G; g++)
                    sum += row(r, t, e, g)[k];
                assert_close_at(sum, all[k], 1e-12, 1e-12, "%s %s month %d",
                                resim_scenario_symbol(&r->sc, e), resim_metric_names[k], t);
            }
            for (size_t g = first_group; g < r->G; g++) {
                const double *v = row(r, t, e, g);
                if (v[RESIM_M_DEMAND] > 0)
                    assert_close(v[RESIM_M_AVAILABILITY], v[RESIM_M_CONSUMPTION] / v[RESIM_M_DEMAND],
                                 1e-12, 0);
                else {
                    assert_true(v[RESIM_M_AVAILABILITY] == 1);
                    assert_true(isnan(v[RESIM_M_COVER_DAYS]));
                }
            }
        }
}

static void test_groups_by_status(void **state)
{
    (void)state;
    run *r = run_open("licensing.ini", NULL, RESIM_BY_STATUS);
    assert_int_equal(r->G, 4);
    run_all(r);
    check_groups_sum(r, 1);

    /* The `all` rows do not depend on the grouping. */
    run *a = run_open("licensing.ini", NULL, RESIM_BY_NONE);
    assert_int_equal(a->G, 1);
    run_all(a);
    for (size_t e = 0; e < r->E; e++)
        for (int t = 0; t < r->T; t++)
            for (int k = 0; k < RESIM_NMETRICS; k++)
                assert_close(row(r, t, e, 0)[k], row(a, t, e, 0)[k], 1e-12, 1e-12);
    run_close(a);

    /* Groups follow the status in month t after its events: Dy demand of
     * the control group is e alone in month 7; a, b, e from month 8
     * (list.add.control = 2); b, e from month 13 (list.remove.control = 1). */
    size_t dy = element(r, "Dy"), x = r->sc.element[dy], n = r->data.n_importers;
    const double *sh = r->data.share + x * n;
    size_t ia = importer(r, "imp_a"), ib = importer(r, "imp_b"), ie = importer(r, "imp_e");
    size_t ic = importer(r, "imp_c"), id = importer(r, "imp_d"), iff = importer(r, "imp_f");
    struct {
        int t;
        double control, watch, none;
    } want[] = {
        {7, sh[ie], sh[ic], sh[ia] + sh[ib] + sh[id] + sh[iff]},
        {8, sh[ia] + sh[ib] + sh[ie], sh[ic] + sh[iff], sh[id]},
        {12, sh[ia] + sh[ib] + sh[ie], sh[ic] + sh[iff], sh[id]},
        {13, sh[ib] + sh[ie], sh[ic] + sh[iff], sh[ia] + sh[id]},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        int t = want[k].t;
        double De = row(r, t, dy, 0)[RESIM_M_DEMAND];
        assert_close(row(r, t, dy, 1 + RESIM_NONE)[RESIM_M_DEMAND], want[k].none * De, 1e-12, 0);
        assert_close(row(r, t, dy, 1 + RESIM_WATCH)[RESIM_M_DEMAND], want[k].watch * De, 1e-12, 0);
        assert_close(row(r, t, dy, 1 + RESIM_CONTROL)[RESIM_M_DEMAND], want[k].control * De, 1e-12,
                     0);
    }
    run_close(r);
}

/* ------------------------------------------------------------ every status its own policy */

/*
 * Each list status gets its own approval rate and its own whole-month
 * review delay (cv 0, mean k + 1/2 months: decided exactly k months after
 * filing, docs/model.md section 4). Nothing is pending at the start and no
 * importer changes status, so for the group of status s, every month t:
 *   approved(t) = approval_s * applied(t - k_s), rejected(t) = the rest,
 *   pending(t)  = applied(t - k_s + 1) + ... + applied(t).
 * A status that read another status's approval or delay fails this.
 */
static void test_every_status_its_own_policy(void **state)
{
    (void)state;
    static const double approval[RESIM_NSTATUSES] = {0.83, 0.46, 0.17};
    static const int k_of[RESIM_NSTATUSES] = {1, 2, 4};
    char sets[8][64];
    const char *argv[9];
    size_t n = 0;
    snprintf(sets[n++], sizeof sets[0], "policy.controlled=Dy Tb");
    for (int s = 0; s < RESIM_NSTATUSES; s++) {
        snprintf(sets[n++], sizeof sets[0], "policy.approval.%s=%.17g", resim_status_names[s],
                 approval[s]);
        snprintf(sets[n++], sizeof sets[0], "policy.delay_mean_days.%s=%.17g",
                 resim_status_names[s], (k_of[s] + 0.5) * MD);
    }
    for (size_t k = 0; k < n; k++)
        argv[k] = sets[k];
    argv[n] = NULL;
    run *r = run_open("flat.ini", argv, RESIM_BY_STATUS);
    run_all(r);
    const char *const syms[] = {"Dy", "Tb"};
    for (size_t q = 0; q < 2; q++) {
        size_t e = element(r, syms[q]);
        for (int s = 0; s < RESIM_NSTATUSES; s++) {
            size_t g = 1 + (size_t)s;
            int k = k_of[s];
            assert_true(row(r, 0, e, g)[RESIM_M_CHINA_APPLIED] > 0);
            for (int t = 0; t < r->T; t++) {
                const double *x = row(r, t, e, g);
                double decided = t >= k ? row(r, t - k, e, g)[RESIM_M_CHINA_APPLIED] : 0;
                double pending = 0;
                for (int f = t - k + 1 < 0 ? 0 : t - k + 1; f <= t; f++)
                    pending += row(r, f, e, g)[RESIM_M_CHINA_APPLIED];
                assert_close_at(x[RESIM_M_CHINA_APPROVED], approval[s] * decided, 1e-12, 1e-12,
                                "%s %s month %d approved", syms[q], resim_status_names[s], t);
                assert_close_at(x[RESIM_M_CHINA_REJECTED], (1 - approval[s]) * decided, 1e-12,
                                1e-12, "%s %s month %d rejected", syms[q], resim_status_names[s],
                                t);
                assert_close_at(x[RESIM_M_CHINA_PENDING], pending, 1e-9, 1e-12,
                                "%s %s month %d pending", syms[q], resim_status_names[s], t);
            }
        }
    }
    run_close(r);
}

static void test_groups_by_importer(void **state)
{
    (void)state;
    run *r = run_open("licensing.ini", NULL, RESIM_BY_IMPORTER);
    assert_int_equal(r->G, 1 + r->data.n_importers);
    run_all(r);
    check_groups_sum(r, 1);
    run_close(r);
}

/* ------------------------------------------------------------ (g) by hand */

/*
 * Month 0 of imp_b's Dy (none, military 0.40, cover 3.1, share 0.187) under
 * licensing.ini with the military ban: docs/model.md section 5, steps 2-9, and
 * its approval arriving two months later (transit 2).
 */
static void test_first_month_by_hand(void **state)
{
    (void)state;
    const char *const sets[] = {"policy.military_ban=1", NULL};
    run *r = run_open("licensing.ini", sets, RESIM_BY_IMPORTER);
    run_all(r);
    const resim_data *d = &r->data;
    const size_t n = d->n_importers, dy = element(r, "Dy"), x = r->sc.element[dy];
    const size_t b = importer(r, "imp_b");
    const double L = 2, tau = 2.6;
    const double mu[3] = {47.3, 96.5, 151.2};

    /* Step 2: demand. */
    double De = 238.5 / 12;
    double D = 0.187 * De;
    /* Step 3: src_dy starts 2024-07 (month -6), ramp 5, full from month -2,
     * growth 3.5 %/yr after; Japan takes 62 %. */
    double ramp = fmin(1, (0 - -6 + 1) / 5.0);
    double A = 0.62 * 41.7 * ramp * pow(1.035, (0 - -2) / 12.0) / 12;
    double frac = 1 - fmin(1, A / De);
    /* Step 4: inventory is at target and the supply line holds L c0, so
     * only the review part of the lead time is a gap. */
    double sumR = 0, Rb = 0;
    for (size_t i = 0; i < n; i++) {
        double Di = d->share[x * n + i] * De;
        double lead = mu[d->status0[i]] / MD + L;
        double Ri = fmax(0, Di + ((d->cover[i] * Di - d->cover[i] * Di) +
                                  (Di * frac * lead - L * Di * frac)) / tau);
        sumR += Ri;
        if (i == b)
            Rb = Ri;
    }
    /* Step 5: alternative purchases pro rata, the rest filed with China. */
    double alt = fmin(Rb, A * Rb / sumR);
    double a = Rb - alt;
    /* Step 6: decided in month 0 is the first bin of a gamma(47.3 d, cv 0.41). */
    double w0 = gsl_cdf_gamma_P(MD, 1 / (0.41 * 0.41), 47.3 * 0.41 * 0.41);
    double p = 0.83 * (1 - 0.40 * 1);
    double dec = a * w0;
    /* Step 7: c0 arrives (approved before the start). Steps 8-9: no gap. */
    double c0 = D * frac;
    double avail = 3.1 * D + c0 + alt;

    const double *v = row(r, 0, dy, 1 + b);
    assert_close(v[RESIM_M_DEMAND], D, 1e-12, 0);
    assert_close(v[RESIM_M_ALT_CAPACITY], A, 1e-12, 0);
    assert_close(v[RESIM_M_REQUIREMENT], Rb, 1e-12, 0);
    assert_close(v[RESIM_M_ALT_SUPPLY], alt, 1e-12, 0);
    assert_close(v[RESIM_M_CHINA_APPLIED], a, 1e-12, 0);
    assert_close(v[RESIM_M_CHINA_APPROVED], p * dec, 1e-12, 0);
    assert_close(v[RESIM_M_CHINA_REJECTED], (1 - p) * dec, 1e-12, 0);
    assert_close(v[RESIM_M_CHINA_PENDING], a - dec, 1e-12, 0);
    assert_close(v[RESIM_M_CHINA_ARRIVALS], c0, 1e-12, 0);
    assert_close(v[RESIM_M_STOCKPILE_RELEASE], 0, 0, 1e-15);
    assert_close(v[RESIM_M_NATIONAL_STOCKPILE], 29.3, 1e-12, 0);
    assert_close(v[RESIM_M_INVENTORY], avail - D, 1e-12, 0);
    assert_close(v[RESIM_M_CONSUMPTION], D, 1e-12, 0);
    assert_close(v[RESIM_M_SHORTFALL], 0, 0, 1e-15);
    assert_close(v[RESIM_M_AVAILABILITY], 1, 1e-12, 0);
    assert_close(v[RESIM_M_COVER_DAYS], (avail - D) / (D / MD), 1e-12, 0);
    /* The requirement is above demand by the review part of the lead. */
    assert_true(Rb > D * 1.1);
    assert_true(w0 > 0.05 && w0 < 0.95);

    /* Transit 2: month 1 still receives c0; month 2 receives month 0's approval. */
    assert_close(row(r, 1, dy, 1 + b)[RESIM_M_CHINA_ARRIVALS], c0, 1e-12, 0);
    assert_close(row(r, 2, dy, 1 + b)[RESIM_M_CHINA_ARRIVALS], p * dec, 1e-12, 0);
    run_close(r);
}

/* Demand grows as (1 + g)^(t / 12); alt capacity ramps as in step 3. */
static void test_demand_and_alt_capacity(void **state)
{
    (void)state;
    const char *const sets[] = {"alt.capacity_factor=0.83", "alt.delay_months=2",
                                "alt.src_tb.delay_months=1", "alt.src_tb.capacity_factor=1.27",
                                NULL};
    run *r = run_open("licensing.ini", sets, RESIM_BY_NONE);
    run_all(r);
    size_t tb = element(r, "Tb"), dy = element(r, "Dy");
    for (int t = 0; t < r->T; t++) {
        assert_close(row(r, t, tb, 0)[RESIM_M_DEMAND], 87.3 / 12 * pow(1.041, t / 12.0), 1e-12, 0);
        /* src_tb: 2025-03 (month 2) + 2 + 1 = month 5, ramp 3, no growth. */
        double start = 5, A = 0;
        if (t >= start)
            A = 0.48 * 13.9 * 0.83 * 1.27 * fmin(1, (t - start + 1) / 3.0) / 12;
        assert_close_at(row(r, t, tb, 0)[RESIM_M_ALT_CAPACITY], A, 1e-12, 1e-15,
                        "Tb alt capacity month %d", t);
        /* src_dy: 2024-07 (month -6) + 2 = month -4, ramp 5, full from month 0. */
        double Ad = 0.62 * 41.7 * 0.83 * fmin(1, (t + 4 + 1) / 5.0) * pow(1.035, fmax(0, t - 0) / 12.0) / 12;
        assert_close_at(row(r, t, dy, 0)[RESIM_M_ALT_CAPACITY], Ad, 1e-12, 0,
                        "Dy alt capacity month %d", t);
    }
    run_close(r);
}

/*
 * Step 8 from the per-importer rows: availability before release from
 * avail = I(t-1) + arrivals + alt, release min(N, release_max, sum unmet)
 * when it is below the trigger, shared pro rata to unmet.
 */
static void check_release(const char *trigger_set, double trigger)
{
    const char *const sets[] = {trigger_set, NULL};
    run *r = run_open("licensing.ini", sets, RESIM_BY_IMPORTER);
    run_all(r);
    const size_t n = r->data.n_importers;
    int released = 0, held = 0;
    for (size_t e = 0; e < r->E; e++) {
        size_t x = r->sc.element[e];
        double Ne = r->data.stock_tonnes[x], cap = r->data.stock_release_max[x];
        for (int t = 0; t < r->T; t++) {
            double unmet[16], sumD = 0, sumMin = 0, sumUnmet = 0;
            for (size_t i = 0; i < n; i++) {
                const double *v = row(r, t, e, 1 + i);
                double prev = t > 0 ? row(r, t - 1, e, 1 + i)[RESIM_M_INVENTORY]
                                    : r->data.cover[i] * v[RESIM_M_DEMAND];
                double avail = prev + v[RESIM_M_CHINA_ARRIVALS] + v[RESIM_M_ALT_SUPPLY];
                double D = v[RESIM_M_DEMAND];
                unmet[i] = fmax(0, D - avail);
                sumD += D;
                sumMin += fmin(D, avail);
                sumUnmet += unmet[i];
            }
            double Rel = 0;
            if (Ne > 0 && sumMin / sumD < trigger)
                Rel = fmin(fmin(Ne, cap), sumUnmet);
            const double *all = row(r, t, e, 0);
            assert_close_at(all[RESIM_M_STOCKPILE_RELEASE], Rel, 1e-9, 1e-12,
                            "%s release month %d", resim_scenario_symbol(&r->sc, e), t);
            for (size_t i = 0; i < n; i++)
                assert_close_at(row(r, t, e, 1 + i)[RESIM_M_STOCKPILE_RELEASE],
                                sumUnmet > 0 ? Rel * unmet[i] / sumUnmet : 0, 1e-9, 1e-12,
                                "%s release to importer %zu month %d",
                                resim_scenario_symbol(&r->sc, e), i, t);
            released += Rel > 0;
            held += Ne > 0 && Rel == 0 && sumUnmet > 1e-9; /* short, but above the trigger */
            Ne -= Rel;
        }
    }
    assert_true(released >= 3);
    if (trigger < 0.9)
        assert_true(held >= 1);
    run_close(r);
}

static void test_stockpile_release_by_hand(void **state)
{
    (void)state;
    check_release("stockpile.trigger=0.93", 0.93);
    check_release("stockpile.trigger=0.61", 0.61);
}

/* Reinitialising a model gives the same run again (no state left over). */
static void test_reinit_repeats(void **state)
{
    (void)state;
    run *r = run_open("licensing.ini", NULL, RESIM_BY_STATUS);
    run_all(r);
    size_t size = (size_t)(r->T - r->t0) * r->E * r->G * RESIM_NMETRICS;
    double *first = malloc(size * sizeof *first);
    assert_non_null(first);
    memcpy(first, r->rows, size * sizeof *first);
    resim_error err = {0};
    assert_int_equal(resim_model_init(r->m, &r->sc, &err), RESIM_OK);
    assert_int_equal(resim_model_month(r->m), 0);
    run_all(r);
    assert_memory_equal(first, r->rows, size * sizeof *first);
    free(first);
    run_close(r);
}

static int close_all(void **state)
{
    (void)state;
    for (size_t k = 0; k < MAX_OPEN; k++)
        run_close(open_runs[k]);
    return 0;
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_steady_state, close_all),
        cmocka_unit_test_teardown(test_steady_state_warmup_transit, close_all),
        cmocka_unit_test_teardown(test_mass_balance, close_all),
        cmocka_unit_test_teardown(test_approval_zero, close_all),
        cmocka_unit_test_teardown(test_approval_one_no_delay, close_all),
        cmocka_unit_test_teardown(test_list_add_control, close_all),
        cmocka_unit_test_teardown(test_list_add_watch, close_all),
        cmocka_unit_test_teardown(test_list_remove, close_all),
        cmocka_unit_test_teardown(test_list_more_than_there_are, close_all),
        cmocka_unit_test_teardown(test_list_move_timing, close_all),
        cmocka_unit_test_teardown(test_groups_by_status, close_all),
        cmocka_unit_test_teardown(test_every_status_its_own_policy, close_all),
        cmocka_unit_test_teardown(test_groups_by_importer, close_all),
        cmocka_unit_test_teardown(test_first_month_by_hand, close_all),
        cmocka_unit_test_teardown(test_demand_and_alt_capacity, close_all),
        cmocka_unit_test_teardown(test_stockpile_release_by_hand, close_all),
        cmocka_unit_test_teardown(test_reinit_repeats, close_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_model_v2.c - the version-2 mechanisms of the monthly engine
 * (docs/model.md sections 9-13), each on a small case worked out by hand
 * (tests/fixtures/hand: importer A, status none, military 0.2; importer B,
 * watch; Dy and Tb at 10 t a month, shares A 0.5 / B 0.5 of Dy and A 1 of
 * Tb; no non-China supply; transit 1 month; gaps closed in 1 month), and
 * the same levers in the stochastic mode (section 8).
 *
 * In every case the start state (section 6) is: inventory cover x D =
 * 1 x D, the month-0 China flow c0 = D in transit, so month 0 arrives D.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "resim/iniread.h"
#include "resim/model.h"
#include "resim/scenario.h"

#define HAND RESIM_SOURCE_DIR "/tests/fixtures/hand/base.ini"

/* Group rows of a run grouped by status. */
enum { ALL = 0, NONE = 1, WATCH = 2, CONTROL = 3 };
enum { DY = 0, TB = 1 };

typedef struct run {
    resim_ini ini;
    resim_data data;
    resim_scenario sc;
    resim_model *m;
    gsl_rng *rng;
    size_t E, G;
    int T;
    double *rows; /* [t][E][G][RESIM_NMETRICS] */
} run;

static run *current; /* closed by the teardown when an assertion jumps out */

static void run_close(run *r)
{
    if (r == NULL)
        return;
    resim_model_free(r->m);
    resim_scenario_free(&r->sc);
    resim_data_free(&r->data);
    resim_ini_free(&r->ini);
    if (r->rng != NULL)
        gsl_rng_free(r->rng);
    free(r->rows);
    free(r);
    if (current == r)
        current = NULL;
}

static int close_current(void **state)
{
    (void)state;
    run_close(current);
    return 0;
}

/*
 * The hand case with SECTION.KEY=VALUE overrides (NULL terminated), grouped
 * by status and run to the end; with a seed, in the stochastic mode.
 */
static run *run_hand(const char *const *sets, unsigned long seed)
{
    run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    current = r;
    resim_error err = {0};
    char dir[RESIM_PATH_MAX];
    if (resim_ini_read(&r->ini, HAND, &err) != RESIM_OK)
        fail_msg("%s", err.msg);
    for (size_t k = 0; sets[k] != NULL; k++)
        if (resim_ini_set(&r->ini, sets[k], &err) != RESIM_OK)
            fail_msg("%s: %s", sets[k], err.msg);
    resim_scenario_data_dir(&r->ini, dir, sizeof dir);
    if (resim_data_load(&r->data, dir, &err) != RESIM_OK)
        fail_msg("%s", err.msg);
    if (resim_scenario_resolve(&r->sc, &r->ini, &r->data, NULL, NULL, &err) != RESIM_OK)
        fail_msg("%s", err.msg);
    r->m = resim_model_alloc(&r->sc, RESIM_BY_STATUS, &err);
    assert_non_null(r->m);
    if (seed != 0) {
        r->rng = gsl_rng_alloc(gsl_rng_mt19937);
        assert_non_null(r->rng);
        gsl_rng_set(r->rng, seed);
        resim_model_set_random(r->m, r->rng, NULL);
    }
    if (resim_model_init(r->m, &r->sc, &err) != RESIM_OK)
        fail_msg("%s", err.msg);
    r->E = r->sc.n_elements;
    r->G = resim_model_groups(r->m);
    r->T = r->sc.months;
    assert_int_equal(r->sc.warmup, 0);
    r->rows = calloc((size_t)r->T * r->E * r->G * RESIM_NMETRICS, sizeof(double));
    assert_non_null(r->rows);
    assert_int_equal(resim_model_run(r->m, NULL, r->rows, NULL, NULL), RESIM_OK);
    return r;
}

/* Metric k of month t, element e, group g. */
static double v(const run *r, int t, size_t e, size_t g, int k)
{
    return r->rows[(((size_t)t * r->E + e) * r->G + g) * RESIM_NMETRICS + (size_t)k];
}

static void near_(double got, double want, const char *what, int t, const char *file, int line)
{
    if (!(fabs(got - want) <= 1e-12 * fmax(1, fabs(want)))) {
        print_error("%s month %d: got %.17g, expected %.17g\n", what, t, got, want);
        _fail(file, line);
    }
}
/* A value worked out by hand, to 1e-12 relative. */
#define NEAR(r, t, e, g, k, want) near_(v(r, t, e, g, RESIM_M_##k), (want), #e " " #g " " #k, t, __FILE__, __LINE__)

/* ------------------------------------------------------------ section 9 */

/*
 * Per-element policy. approval.none.Dy = 0.2 is overridden by the bare
 * approval.none = 0.5 written after it; approval.none.Tb = 1 then sets Tb
 * alone. The military ban is on Dy only; the review of Tb takes exactly
 * one month (mu = M, cv 0: k = floor(M / M) = 1), Dy's none.
 */
static void test_per_element_policy(void **state)
{
    (void)state;
    const char *const sets[] = {"policy.controlled=Dy Tb",        "policy.approval.none.Dy=0.2",
                                "policy.approval.none=0.5",       "policy.approval.none.Tb=1",
                                "policy.military_ban.Dy=1",       "policy.delay_mean_days.none.Tb=30.4375",
                                "2030-03.approval.none.Dy=0.25", NULL};
    run *r = run_hand(sets, 0);
    /* Month 0, Dy, A: D = 5, lead 0 + L = 1, R = D = 5 decided at once;
     * p = 0.5 x (1 - 0.2 x 1) = 0.4: 2 approved, 3 rejected. B (watch,
     * approval 1, military 0): all 5 approved. */
    NEAR(r, 0, DY, NONE, CHINA_APPROVED, 2);
    NEAR(r, 0, DY, NONE, CHINA_REJECTED, 3);
    NEAR(r, 0, DY, WATCH, CHINA_APPROVED, 5);
    NEAR(r, 0, DY, WATCH, CHINA_REJECTED, 0);
    /* Month 0, Tb, A: lead = M / M + 1 = 2, SL* = 10 x 2 = 20 against a
     * supply line of 10 in transit: R = 10 + (20 - 10) / 1 = 20, all of it
     * pending (decided in month 1). */
    NEAR(r, 0, TB, NONE, REQUIREMENT, 20);
    NEAR(r, 0, TB, NONE, CHINA_APPROVED, 0);
    NEAR(r, 0, TB, NONE, CHINA_PENDING, 20);
    /* Month 1, Dy, A: inventory 5 + 5 - 5 = 5, supply line 2 (approved in
     * month 0): R = 5 + (5 - 2) = 8; approved 0.4 x 8 = 3.2. */
    NEAR(r, 1, DY, NONE, REQUIREMENT, 8);
    NEAR(r, 1, DY, NONE, CHINA_APPROVED, 3.2);
    NEAR(r, 1, DY, NONE, CHINA_REJECTED, 4.8);
    /* Month 1, Tb: the 20 are decided with approval.none.Tb = 1 and no ban
     * on Tb: all approved; R = 10 + (20 - 20) = 10 goes to pending. */
    NEAR(r, 1, TB, NONE, CHINA_APPROVED, 20);
    NEAR(r, 1, TB, NONE, CHINA_REJECTED, 0);
    NEAR(r, 1, TB, NONE, CHINA_PENDING, 10);
    /* Month 2: the event sets Dy alone to 0.25, p = 0.2. Inventory
     * 5 + 2 - 5 = 2, supply line 3.2: R = 5 + (5 - 2) + (5 - 3.2) = 9.8. */
    NEAR(r, 2, DY, NONE, REQUIREMENT, 9.8);
    NEAR(r, 2, DY, NONE, CHINA_APPROVED, 1.96);
    NEAR(r, 2, DY, NONE, CHINA_REJECTED, 7.84);
    NEAR(r, 2, TB, NONE, CHINA_REJECTED, 0);
    run_close(r);
}

/* ------------------------------------------------------------ section 10 */

/*
 * Precautionary inventory, pi = 2. Extra cover: none 2, watch 3 (the bare
 * key written after watch.Dy = 1 overrides it); from month 1 none.Dy = 4;
 * from month 3 Dy is no longer controlled, so the target is 0.
 */
static void test_precautionary_inventory(void **state)
{
    (void)state;
    const char *const sets[] = {"policy.controlled=Dy",
                                "scenario.precaution_adjust_months=2",
                                "policy.precaution_months.none=2",
                                "policy.precaution_months.watch.Dy=1",
                                "policy.precaution_months.watch=3",
                                "2030-02.precaution_months.none.Dy=4",
                                "2030-04.controlled.remove=Dy",
                                NULL};
    run *r = run_hand(sets, 0);
    /* Start: X = X*: A (1 + 2) x 5 = 15, B (1 + 3) x 5 = 20; a steady month. */
    NEAR(r, 0, DY, NONE, INVENTORY, 15);
    NEAR(r, 0, DY, WATCH, INVENTORY, 20);
    NEAR(r, 0, DY, NONE, REQUIREMENT, 5);
    /* Month 1: X_A = 2 + (4 - 2) / 2 = 3, I* = 4 x 5 = 20: R = 5 + (20 - 15) = 10. */
    NEAR(r, 1, DY, NONE, REQUIREMENT, 10);
    NEAR(r, 1, DY, WATCH, REQUIREMENT, 5);
    NEAR(r, 1, DY, NONE, INVENTORY, 15);
    /* Month 2: X_A = 3.5, I* = 22.5; supply line 10 against 5:
     * R = 5 + (22.5 - 15) + (5 - 10) = 7.5; inventory 15 + 10 - 5 = 20. */
    NEAR(r, 2, DY, NONE, REQUIREMENT, 7.5);
    NEAR(r, 2, DY, NONE, INVENTORY, 20);
    /* Month 3, not controlled: X_A = 3.5 / 2 = 1.75, I* = 13.75, supply
     * line 7.5 against 5: R = max(0, 5 - 6.25 - 2.5) = 0. B: X = 1.5,
     * I* = 12.5: R = max(0, 5 - 7.5) = 0. */
    NEAR(r, 3, DY, NONE, REQUIREMENT, 0);
    NEAR(r, 3, DY, WATCH, REQUIREMENT, 0);
    /* Tb is never controlled: no extra cover. */
    NEAR(r, 0, TB, NONE, INVENTORY, 10);
    run_close(r);
}

/* ------------------------------------------------------------ section 11 */

/*
 * Substitution: no Dy approvals, rate 1.2 a year for Dy (0.1 a month; the
 * bare 0.6 is Tb's), cap 0.25, reversion 0.6 a year (0.05 a month). From
 * month 6 the cap drops to 0.1 and A's approvals return.
 */
static void test_substitution(void **state)
{
    (void)state;
    const char *const sets[] = {"policy.controlled=Dy",        "policy.approval.none=0",
                                "policy.approval.watch=0",     "substitution.rate=0.6",
                                "substitution.rate.Dy=1.2",    "substitution.cap=0.25",
                                "substitution.reversion=0.6",  "2030-07.substitution.cap.Dy=0.1",
                                "2030-07.approval.none=1",     NULL};
    run *r = run_hand(sets, 0);
    /* Months 0-1: stock and the last arrival cover demand: C / D = 1, S stays 0. */
    NEAR(r, 1, DY, ALL, DEMAND, 10);
    NEAR(r, 1, DY, ALL, SHORTFALL, 0);
    /* Month 2: nothing left, C = 0 < 0.95 D: S = 0.1 after the month. */
    NEAR(r, 2, DY, ALL, DEMAND, 10);
    NEAR(r, 2, DY, ALL, SUBSTITUTED, 0);
    /* Month 3: D = 5 x 0.9 each, 1 t substituted; S = 0.2. Month 4: 0.8, 2 t;
     * S = min(0.25, 0.3). Month 5: 0.75, 2.5 t. */
    NEAR(r, 3, DY, ALL, DEMAND, 9);
    NEAR(r, 3, DY, ALL, SUBSTITUTED, 1);
    NEAR(r, 4, DY, ALL, SUBSTITUTED, 2);
    NEAR(r, 5, DY, ALL, DEMAND, 7.5);
    NEAR(r, 5, DY, ALL, SUBSTITUTED, 2.5);
    /* Month 6: the lower cap clamps S to 0.1 before demand: 4.5 each.
     * A files R = 4.5 + (4.5 - 0) + (4.5 - 0) = 13.5, all approved. */
    NEAR(r, 6, DY, ALL, DEMAND, 9);
    NEAR(r, 6, DY, ALL, SUBSTITUTED, 1);
    NEAR(r, 6, DY, NONE, CHINA_APPROVED, 13.5);
    /* Month 7: A's 13.5 arrive, C = D: S_A = 0.1 - 0.05; B still short. */
    NEAR(r, 7, DY, NONE, SHORTFALL, 0);
    NEAR(r, 8, DY, NONE, DEMAND, 4.75);
    NEAR(r, 8, DY, NONE, SUBSTITUTED, 0.25);
    NEAR(r, 8, DY, WATCH, DEMAND, 4.5);
    NEAR(r, 8, DY, WATCH, SUBSTITUTED, 0.5);
    /* Tb never runs short: rate 0.6 but nothing substituted. */
    for (int t = 0; t < r->T; t++)
        NEAR(r, t, TB, ALL, SUBSTITUTED, 0);
    run_close(r);
}

/*
 * An importer that substitutes everything has no demand, so it takes the
 * reversion branch and comes back (section 11): rate 12 a year (1 a month),
 * reversion 6 a year (0.5 a month), no approvals.
 */
static void test_full_substitution_returns(void **state)
{
    (void)state;
    const char *const sets[] = {"policy.controlled=Dy", "policy.approval.none=0",
                                "policy.approval.watch=0", "substitution.rate.Dy=12",
                                "substitution.reversion.Dy=6", NULL};
    run *r = run_hand(sets, 0);
    /* Month 2 short: S = 1. Month 3: no demand at all; S = 1 - 0.5. Month 4:
     * D = 5 x 0.5 each, short again: S = 1. Month 5: no demand. */
    NEAR(r, 2, DY, ALL, SHORTFALL, 10);
    NEAR(r, 3, DY, ALL, DEMAND, 0);
    NEAR(r, 3, DY, ALL, SUBSTITUTED, 10);
    NEAR(r, 3, DY, ALL, AVAILABILITY, 1);
    NEAR(r, 4, DY, ALL, DEMAND, 5);
    NEAR(r, 4, DY, ALL, SUBSTITUTED, 5);
    NEAR(r, 5, DY, ALL, DEMAND, 0);
    run_close(r);
}

/* ------------------------------------------------------------ section 12 */

/*
 * The stockpile decision rule: 30 t of Dy, at most 4 t a month, trigger
 * 0.9, decision after 1 month, only status none eligible; the stockpile
 * is switched on in month 3, watch becomes eligible in month 4, and from
 * month 5 a decision takes 6 months.
 */
static void test_stockpile_decision_rule(void **state)
{
    (void)state;
    const char *const sets[] = {"policy.controlled=Dy",
                                "policy.approval.none=0",
                                "policy.approval.watch=0",
                                "stockpile.enabled=0",
                                "stockpile.trigger=0.9",
                                "stockpile.decision_months=1",
                                "stockpile.eligible=none",
                                "2030-04.stockpile.enabled=1",
                                "2030-05.stockpile.eligible=none watch",
                                "2030-06.stockpile.decision_months=6",
                                NULL};
    run *r = run_hand(sets, 0);
    /* Months 0-1 are covered. Month 2: nothing (n = 1), and the stockpile is off. */
    NEAR(r, 2, DY, ALL, STOCKPILE_RELEASE, 0);
    NEAR(r, 2, DY, ALL, SHORTFALL, 10);
    /* Month 3: n = 3 - 1 = 2 > 1 (counted while it was off): release
     * min(30, 4, unmet of the eligible = A's 5) = 4, all to A. */
    NEAR(r, 3, DY, ALL, STOCKPILE_RELEASE, 4);
    NEAR(r, 3, DY, NONE, STOCKPILE_RELEASE, 4);
    NEAR(r, 3, DY, WATCH, STOCKPILE_RELEASE, 0);
    NEAR(r, 3, DY, NONE, SHORTFALL, 1);
    NEAR(r, 3, DY, ALL, NATIONAL_STOCKPILE, 26);
    /* Month 4: watch eligible too: 4 t shared 2 / 2 by unmet (5 each). */
    NEAR(r, 4, DY, NONE, STOCKPILE_RELEASE, 2);
    NEAR(r, 4, DY, WATCH, STOCKPILE_RELEASE, 2);
    NEAR(r, 4, DY, ALL, NATIONAL_STOCKPILE, 22);
    /* Month 5: n = 4 is not above 6: no release. */
    NEAR(r, 5, DY, ALL, STOCKPILE_RELEASE, 0);
    NEAR(r, 5, DY, ALL, NATIONAL_STOCKPILE, 22);
    run_close(r);
}

/* An empty eligible list means no releases at all (section 12). */
static void test_stockpile_nobody_eligible(void **state)
{
    (void)state;
    const char *const sets[] = {"policy.controlled=Dy", "policy.approval.none=0",
                                "policy.approval.watch=0", "stockpile.enabled=1",
                                "stockpile.eligible=", NULL};
    run *r = run_hand(sets, 0);
    for (int t = 0; t < r->T; t++)
        NEAR(r, t, DY, ALL, STOCKPILE_RELEASE, 0);
    NEAR(r, 2, DY, ALL, SHORTFALL, 10);
    run_close(r);
}

/* ------------------------------------------------------------ section 13 */

/*
 * General licences: Dy controlled, approval 0.5, military ban, reviews of
 * exactly 2 months (60.875 days, cv 0) for status none; general licences
 * for 0.6 of none's filings (the bare key after none.Dy = 0.3).
 */
static void test_general_licence(void **state)
{
    (void)state;
    const char *const sets[] = {"policy.controlled=Dy",
                                "policy.approval.none=0.5",
                                "policy.military_ban=1",
                                "policy.delay_mean_days.none=60.875",
                                "policy.general_licence.none.Dy=0.3",
                                "policy.general_licence.none=0.6",
                                NULL};
    run *r = run_hand(sets, 0);
    /* Month 0, A: lead = (1 - 0.6) x 2 + 1 = 1.8, SL* = 9 against 5 in
     * transit: R = 9. 0.6 x 9 = 5.4 decided at once with p = 1 - 0.2 x 1:
     * 4.32 approved, 1.08 rejected; 3.6 pending for two months. */
    NEAR(r, 0, DY, NONE, REQUIREMENT, 9);
    NEAR(r, 0, DY, NONE, CHINA_APPLIED, 9);
    NEAR(r, 0, DY, NONE, CHINA_APPROVED, 4.32);
    NEAR(r, 0, DY, NONE, CHINA_REJECTED, 1.08);
    NEAR(r, 0, DY, NONE, CHINA_PENDING, 3.6);
    /* B has no general licence (watch) and no review delay: all 5 approved. */
    NEAR(r, 0, DY, WATCH, CHINA_APPROVED, 5);
    /* Month 1, A: inventory 5, supply line 3.6 + 4.32: R = 5 + (9 - 7.92)
     * = 6.08; 3.648 at once (2.9184 approved), 2.432 more pending. */
    NEAR(r, 1, DY, NONE, REQUIREMENT, 6.08);
    NEAR(r, 1, DY, NONE, CHINA_APPROVED, 2.9184);
    NEAR(r, 1, DY, NONE, CHINA_PENDING, 6.032);
    /* Month 2, A: inventory 5 + 4.32 - 5, supply line 6.032 + 2.9184:
     * R = 5 + 0.68 + 0.0496 = 5.7296; at once 3.43776 (2.750208 approved);
     * month 0's 3.6 decided with p = 0.5 x 0.8: 1.44 approved. */
    NEAR(r, 2, DY, NONE, REQUIREMENT, 5.7296);
    NEAR(r, 2, DY, NONE, CHINA_APPROVED, 2.750208 + 1.44);
    NEAR(r, 2, DY, NONE, CHINA_REJECTED, 0.687552 + 2.16);
    NEAR(r, 2, DY, NONE, CHINA_PENDING, 2.432 + 0.4 * 5.7296);
    /* Tb is not controlled: decided at once, all approved, the general
     * licence key notwithstanding. */
    NEAR(r, 0, TB, NONE, CHINA_APPROVED, 10);
    NEAR(r, 0, TB, NONE, CHINA_PENDING, 0);
    run_close(r);
}

/* ------------------------------------------------------------ stochastic mode */

/*
 * The same levers with lots (section 8): per-element approvals in the
 * Bernoulli draws, the general-licence share decided at once, the extra
 * cover and the substituted share updated as in the deterministic mode.
 */
static void test_stochastic_v2(void **state)
{
    (void)state;
    const char *const sets[] = {"policy.controlled=Dy Tb",
                                "policy.approval.none.Dy=0",
                                "policy.approval.none.Tb=0.5",
                                "policy.general_licence.watch.Dy=1",
                                "policy.precaution_months.none=2",
                                "substitution.rate.Dy=1.2",
                                "stochastic.lot_tonnes=0.001",
                                NULL};
    run *r = run_hand(sets, 20261201);
    /* The start state is deterministic: A's inventory (1 + 2) x 5. */
    NEAR(r, 0, DY, NONE, INVENTORY, 15);
    double tb_dec = 0, tb_ap = 0;
    for (int t = 0; t < r->T; t++) {
        /* Dy for A: approval 0, so no lot is ever approved. */
        NEAR(r, t, DY, NONE, CHINA_APPROVED, 0);
        /* Dy for B: a general licence for everything, military 0: decided
         * and approved at once, never pending. */
        NEAR(r, t, DY, WATCH, CHINA_PENDING, 0);
        near_(v(r, t, DY, WATCH, RESIM_M_CHINA_APPROVED), v(r, t, DY, WATCH, RESIM_M_CHINA_APPLIED),
              "Dy watch approved = applied", t, __FILE__, __LINE__);
        tb_ap += v(r, t, TB, NONE, RESIM_M_CHINA_APPROVED);
        tb_dec += v(r, t, TB, NONE, RESIM_M_CHINA_APPROVED) + v(r, t, TB, NONE, RESIM_M_CHINA_REJECTED);
    }
    /* Tb: lots of 1 kg approved with probability 0.5 (no ban): tens of
     * thousands of trials put the share within 0.02 of it. */
    assert_true(tb_dec > 50);
    if (!(fabs(tb_ap / tb_dec - 0.5) < 0.02))
        fail_msg("Tb approved share %.4f, expected about 0.5", tb_ap / tb_dec);
    /* A runs out of Dy and substitutes: 0.1 a month once short. */
    assert_true(v(r, r->T - 1, DY, NONE, RESIM_M_SUBSTITUTED) > 0);
    NEAR(r, r->T - 1, DY, WATCH, SUBSTITUTED, 0);
    run_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_per_element_policy, close_current),
        cmocka_unit_test_teardown(test_precautionary_inventory, close_current),
        cmocka_unit_test_teardown(test_substitution, close_current),
        cmocka_unit_test_teardown(test_full_substitution_returns, close_current),
        cmocka_unit_test_teardown(test_stockpile_decision_rule, close_current),
        cmocka_unit_test_teardown(test_stockpile_nobody_eligible, close_current),
        cmocka_unit_test_teardown(test_general_licence, close_current),
        cmocka_unit_test_teardown(test_stochastic_v2, close_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

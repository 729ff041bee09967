/*
 * test_outcome.c - the outcome measures of a monthly series (outcome.h),
 * which are the measures of every sweep row, against values worked out by
 * hand on short series: a dip with a stock-out and a recovery, a series
 * that never dips, a dip in the last month, ties, and a threshold met
 * exactly.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "resim/outcome.h"

/* One month of a series: what the outcome reads of a row. */
typedef struct month {
    double shortfall, availability, release, stockpile;
} month;

static resim_outcome feed(const month *m, int n, double threshold)
{
    resim_outcome o;
    resim_outcome_init(&o);
    for (int t = 0; t < n; t++) {
        double row[RESIM_NMETRICS];
        for (int k = 0; k < RESIM_NMETRICS; k++)
            row[k] = 1234.5; /* columns the outcome must not read */
        row[RESIM_M_SHORTFALL] = m[t].shortfall;
        row[RESIM_M_AVAILABILITY] = m[t].availability;
        row[RESIM_M_STOCKPILE_RELEASE] = m[t].release;
        row[RESIM_M_NATIONAL_STOCKPILE] = m[t].stockpile;
        resim_outcome_add(&o, t, row, threshold);
    }
    resim_outcome_finish(&o, n);
    return o;
}

/*
 * Eight months, threshold 0.9:
 *   t   shortfall  avail.  release  stockpile
 *   0     0        1.00     0        10
 *   1     2.5      0.85     1         9     below
 *   2     4.0      0.80     9         0     below; the release empties it
 *   3     4.0      0.70     0         0     below; ties the peak, lowest
 *   4     1.5      0.95     0         0
 *   5     3.0      0.70     0         0     below; ties the lowest
 *   6     0        0.90     0         0     at the threshold: not below
 *   7     0        1.00     0         0
 * cumulative 0 + 2.5 + 4 + 4 + 1.5 + 3 = 15 t; peak 4 t first in month 2;
 * lowest 0.70 first in month 3; 4 months below (1, 2, 3, 5), the first in
 * month 1; stock-out in month 2; from month 6 on it stays at or above.
 */
static void test_dip_and_recovery(void **state)
{
    (void)state;
    const month m[] = {{0, 1.0, 0, 10}, {2.5, 0.85, 1, 9}, {4.0, 0.8, 9, 0}, {4.0, 0.7, 0, 0},
                       {1.5, 0.95, 0, 0}, {3.0, 0.7, 0, 0}, {0, 0.9, 0, 0},  {0, 1.0, 0, 0}};
    resim_outcome o = feed(m, 8, 0.9);
    assert_true(o.cum_shortfall == 15.0);
    assert_true(o.peak_shortfall == 4.0);
    assert_int_equal(o.peak_month, 2);
    assert_true(o.min_availability == 0.7);
    assert_int_equal(o.min_month, 3);
    assert_int_equal(o.months_below, 4);
    assert_int_equal(o.first_below, 1);
    assert_int_equal(o.last_below, 5);
    assert_int_equal(o.stock_out, 2);
    assert_int_equal(o.recovered, 6);

    /* A lower threshold sees fewer months below; the rest is the same. */
    resim_outcome low = feed(m, 8, 0.75);
    assert_int_equal(low.months_below, 2); /* months 3 and 5 */
    assert_int_equal(low.first_below, 3);
    assert_int_equal(low.recovered, 6);
    assert_true(low.cum_shortfall == 15.0);
}

/* Full supply throughout: no shortfall, no dip, no stock-out, nothing recovered. */
static void test_never_short(void **state)
{
    (void)state;
    const month m[] = {{0, 1, 0, 5}, {0, 1, 0, 5}, {0, 1, 0, 5}};
    resim_outcome o = feed(m, 3, 0.9);
    assert_true(o.cum_shortfall == 0 && o.peak_shortfall == 0);
    assert_int_equal(o.peak_month, -1);
    assert_true(o.min_availability == 1);
    assert_int_equal(o.min_month, 0);
    assert_int_equal(o.months_below, 0);
    assert_int_equal(o.first_below, -1);
    assert_int_equal(o.last_below, -1);
    assert_int_equal(o.stock_out, -1);
    assert_int_equal(o.recovered, -1);
}

/*
 * A dip that lasts to the last month never recovers; an empty stockpile
 * that released nothing that month is not a stock-out (month 1), one that
 * a release emptied is (month 3).
 */
static void test_dip_to_the_end(void **state)
{
    (void)state;
    const month m[] = {{0, 0.95, 0, 0}, {1.25, 0.875, 0, 0}, {0.5, 0.92, 0, 0}, {2.0, 0.5, 3, 0}};
    resim_outcome o = feed(m, 4, 0.9);
    assert_true(o.cum_shortfall == 3.75);
    assert_true(o.peak_shortfall == 2.0);
    assert_int_equal(o.peak_month, 3);
    assert_true(o.min_availability == 0.5);
    assert_int_equal(o.min_month, 3);
    assert_int_equal(o.months_below, 2);
    assert_int_equal(o.first_below, 1);
    assert_int_equal(o.last_below, 3);
    assert_int_equal(o.stock_out, 3);
    assert_int_equal(o.recovered, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dip_and_recovery),
        cmocka_unit_test(test_never_short),
        cmocka_unit_test(test_dip_to_the_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_prim.c - PRIM recovers a box planted in synthetic data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resim/prim.h"
#include "resim/rng.h"

enum { N = 4000, K = 4 };

/*
 * N uniform points on [0, 1] x [-2, 2] x [10, 20] x [0, 1]; of interest
 * inside 0.2 <= x1 <= 0.6 and x3 >= 15 (a fifth of the points), with 2 %
 * of the labels flipped as noise.
 */
static void planted(double *x, unsigned char *hit, double noise, uint64_t seed)
{
    gsl_rng *r = resim_rng_alloc();
    resim_rng_reset(r, seed, 0, RESIM_STREAM_LEVERS);
    for (size_t p = 0; p < N; p++) {
        double *xp = x + p * K;
        xp[0] = gsl_rng_uniform(r);
        xp[1] = -2 + 4 * gsl_rng_uniform(r);
        xp[2] = 10 + 10 * gsl_rng_uniform(r);
        xp[3] = gsl_rng_uniform(r);
        hit[p] = xp[0] >= 0.2 && xp[0] <= 0.6 && xp[2] >= 15;
        if (gsl_rng_uniform(r) < noise)
            hit[p] = !hit[p];
    }
    gsl_rng_free(r);
}

static void test_planted_box(void **state)
{
    (void)state;
    double *x = malloc(N * K * sizeof *x);
    unsigned char *hit = malloc(N);
    planted(x, hit, 0.02, 2385);
    resim_prim_options o;
    resim_prim_defaults(&o);
    o.density = 0.9;
    resim_error err = {0};
    resim_prim_result *r = resim_prim_run(x, hit, N, K, &o, &err);
    assert_non_null(r);
    assert_true(r->nsteps > 5);
    /* The trajectory starts with the whole data and trades coverage for density. */
    assert_int_equal(r->step[0].phase, RESIM_PRIM_START);
    assert_true(r->step[0].coverage == 1 && r->step[0].mass == 1 && r->step[0].restricted == 0);
    assert_true(r->step[0].density < 0.3);
    for (size_t t = 1; t <= r->peeled; t++) {
        assert_int_equal(r->step[t].phase, RESIM_PRIM_PEEL);
        assert_true(r->step[t].mass < r->step[t - 1].mass);
        assert_true(r->step[t].coverage <= r->step[t - 1].coverage);
    }
    assert_true(r->peeled != SIZE_MAX && r->chosen != SIZE_MAX);
    const resim_prim_box *b = &r->step[r->chosen];
    if (!(b->coverage >= 0.9 && b->density >= 0.9))
        fail_msg("coverage %.3f density %.3f", b->coverage, b->density);
    /* Only x1 and x3 are restricted, near the planted limits. */
    assert_int_equal(b->restricted, 2);
    assert_true(fabs(b->lo[0] - 0.2) < 0.03 && fabs(b->hi[0] - 0.6) < 0.03);
    assert_true(fabs(b->lo[2] - 15) < 0.3);
    assert_true(b->hi[2] == r->data_hi[2]);
    assert_true(b->lo[1] == r->data_lo[1] && b->hi[1] == r->data_hi[1]);
    assert_true(b->lo[3] == r->data_lo[3] && b->hi[3] == r->data_hi[3]);
    /* The same limits applied to every point give the same box. */
    assert_int_equal(r->whole.inside, b->inside);
    assert_memory_equal(r->whole.lo, b->lo, K * sizeof(double));
    assert_memory_equal(r->whole.hi, b->hi, K * sizeof(double));
    assert_int_equal(r->whole.interest, b->interest);
    size_t inside = 0, in_hits = 0;
    for (size_t p = 0; p < N; p++) {
        int in = 1;
        for (size_t i = 0; i < K; i++)
            in &= x[p * K + i] >= b->lo[i] && x[p * K + i] <= b->hi[i];
        inside += (size_t)in;
        in_hits += (size_t)(in && hit[p]);
    }
    assert_int_equal(inside, b->inside);
    assert_int_equal(in_hits, b->interest);
    assert_true(fabs(b->coverage - (double)in_hits / (double)r->total_interest) < 1e-15);
    /* Pasting never lowers the density of the peeled box. */
    assert_true(b->density >= r->step[r->peeled].density);
    resim_prim_result_free(r);
    free(x);
    free(hit);
}

/* Pasting recovers what a coarse peel cut off: with large peels the
 * peeled box misses part of the planted box, and pasting takes it back. */
static void test_pasting(void **state)
{
    (void)state;
    double *x = malloc(N * K * sizeof *x);
    unsigned char *hit = malloc(N);
    planted(x, hit, 0, 7);
    resim_prim_options o;
    resim_prim_defaults(&o);
    o.alpha = 0.3;
    o.paste_alpha = 0.01;
    o.density = 0.95;
    resim_error err = {0};
    resim_prim_result *r = resim_prim_run(x, hit, N, K, &o, &err);
    assert_non_null(r);
    assert_true(r->chosen != SIZE_MAX);
    assert_true(r->chosen > r->peeled);
    assert_int_equal(r->step[r->chosen].phase, RESIM_PRIM_PASTE);
    assert_true(r->step[r->chosen].coverage > r->step[r->peeled].coverage);
    assert_true(r->step[r->chosen].density >= r->step[r->peeled].density);
    resim_prim_result_free(r);
    /* Without pasting the chosen box is the peeled one. */
    o.paste_alpha = 0;
    r = resim_prim_run(x, hit, N, K, &o, &err);
    assert_non_null(r);
    assert_int_equal(r->chosen, r->peeled);
    resim_prim_result_free(r);
    free(x);
    free(hit);
}

/* Discrete keys (a grid): ties peel as a whole value; no box reaches an
 * impossible density; bad options and values are refused. */
static void test_ties_and_errors(void **state)
{
    (void)state;
    enum { M = 100 };
    double x[M * 2];
    unsigned char hit[M];
    for (size_t p = 0; p < M; p++) {
        x[2 * p] = (double)(p % 5);
        x[2 * p + 1] = (double)(p / 5 % 4);
        hit[p] = x[2 * p] == 4 && p % 3 != 0;
    }
    resim_prim_options o;
    resim_prim_defaults(&o);
    o.density = 1;
    resim_error err = {0};
    resim_prim_result *r = resim_prim_run(x, hit, M, 2, &o, &err);
    assert_non_null(r);
    for (size_t t = 1; t < r->nsteps; t++)
        for (size_t i = 0; i < 2; i++)
            assert_true(r->step[t].lo[i] == floor(r->step[t].lo[i]));
    assert_true(r->step[r->nsteps - 1].lo[0] == 4);
    assert_true(r->peeled == SIZE_MAX && r->chosen == SIZE_MAX);
    resim_prim_result_free(r);
    o.alpha = 0;
    assert_null(resim_prim_run(x, hit, M, 2, &o, &err));
    resim_prim_defaults(&o);
    x[3] = NAN;
    assert_null(resim_prim_run(x, hit, M, 2, &o, &err));
    assert_non_null(strstr(err.msg, "point 1, key 2"));
    assert_null(resim_prim_run(x, hit, 0, 2, &o, &err));
    resim_prim_result_free(NULL);
    assert_string_equal(resim_prim_phase_name(RESIM_PRIM_PASTE), "paste");
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_box),
        cmocka_unit_test(test_pasting),
        cmocka_unit_test(test_ties_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

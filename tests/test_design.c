/* test_design.c - grid, Latin hypercube and Sobol designs by point index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_qrng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resim/design.h"

/* Grid: the full product, last key fastest, ends exact. */
static void test_grid_order(void **state)
{
    (void)state;
    double lo[3] = {0.125, -2.385, 7}, hi[3] = {0.875, 4.615, 7};
    size_t lv[3] = {4, 3, 1};
    resim_error err = {0};
    resim_design *d = resim_design_alloc(RESIM_DESIGN_GRID, 3, lo, hi, lv, 0, 0, &err);
    assert_non_null(d);
    assert_int_equal(resim_design_size(d), 12);
    double x[3];
    size_t seen[4][3] = {{0}};
    for (size_t i = 0; i < 12; i++) {
        assert_int_equal(resim_design_point(d, NULL, i, x, &err), RESIM_OK);
        size_t a = i / 3, b = i % 3;
        double xa = a == 3 ? 0.875 : 0.125 + 0.75 * (double)a / 3;
        double xb = b == 2 ? 4.615 : -2.385 + 7.0 * (double)b / 2;
        assert_true(x[0] == xa);
        assert_true(x[1] == xb);
        assert_true(x[2] == 7);
        seen[a][b]++;
    }
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 3; b++)
            assert_int_equal(seen[a][b], 1);
    assert_int_equal(resim_design_point(d, NULL, 12, x, &err), RESIM_EINVAL);
    resim_design_free(d);
}

/* LHS: every stratum of every key is hit exactly once; the seed decides. */
static void test_lhs_strata(void **state)
{
    (void)state;
    enum { N = 97, K = 3 };
    double lo[K] = {0.2385, -10, 100}, hi[K] = {0.9, 31.5, 100.5};
    resim_error err = {0};
    resim_design *d = resim_design_alloc(RESIM_DESIGN_LHS, K, lo, hi, NULL, N, 2385, &err);
    assert_non_null(d);
    assert_int_equal(resim_design_size(d), N);
    int hit[K][N];
    memset(hit, 0, sizeof hit);
    double x[K], first[K];
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(resim_design_point(d, NULL, i, x, &err), RESIM_OK);
        if (i == 0)
            memcpy(first, x, sizeof x);
        for (size_t k = 0; k < K; k++) {
            assert_true(x[k] >= lo[k] && x[k] <= hi[k]);
            double t = (x[k] - lo[k]) / (hi[k] - lo[k]) * N;
            size_t s = (size_t)floor(t);
            /* A value within rounding of a boundary belongs to one side only. */
            if (s == N)
                s = N - 1;
            hit[k][s]++;
        }
    }
    for (size_t k = 0; k < K; k++)
        for (size_t s = 0; s < N; s++)
            assert_int_equal(hit[k][s], 1);
    /* Same seed, same design; another seed, another design. */
    resim_design *same = resim_design_alloc(RESIM_DESIGN_LHS, K, lo, hi, NULL, N, 2385, &err);
    resim_design *other = resim_design_alloc(RESIM_DESIGN_LHS, K, lo, hi, NULL, N, 2386, &err);
    assert_non_null(same);
    assert_non_null(other);
    assert_int_equal(resim_design_point(same, NULL, 0, x, &err), RESIM_OK);
    assert_memory_equal(x, first, sizeof x);
    assert_int_equal(resim_design_point(other, NULL, 0, x, &err), RESIM_OK);
    assert_true(memcmp(x, first, sizeof x) != 0);
    resim_design_free(same);
    resim_design_free(other);
    resim_design_free(d);
}

/* LHS at sizes around the Feistel network's powers of four: still one point per stratum. */
static void test_lhs_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 3, 4, 5, 15, 16, 17, 63, 64, 65, 1023, 1025};
    double lo[2] = {-2.385, 0}, hi[2] = {7.5, 1};
    resim_error err = {0};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t n = sizes[t];
        resim_design *d = resim_design_alloc(RESIM_DESIGN_LHS, 2, lo, hi, NULL, n, 77, &err);
        assert_non_null(d);
        int *hit = calloc(2 * n, sizeof *hit);
        assert_non_null(hit);
        double x[2];
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(resim_design_point(d, NULL, i, x, &err), RESIM_OK);
            for (size_t k = 0; k < 2; k++) {
                assert_true(x[k] >= lo[k] && x[k] <= hi[k]);
                size_t s = (size_t)floor((x[k] - lo[k]) / (hi[k] - lo[k]) * (double)n);
                hit[k * n + (s == n ? n - 1 : s)]++;
            }
        }
        for (size_t s = 0; s < 2 * n; s++)
            assert_int_equal(hit[s], 1);
        free(hit);
        resim_design_free(d);
    }
}

/* Sobol: the points are gsl_qrng_sobol's, scaled, in any visiting order. */
static void test_sobol_equals_gsl(void **state)
{
    (void)state;
    enum { N = 64, K = 5 };
    double lo[K] = {0, -1, 2.385, 10, 0.5}, hi[K] = {1, 1, 3.385, 1010, 0.5};
    resim_error err = {0};
    resim_design *d = resim_design_alloc(RESIM_DESIGN_SOBOL, K, lo, hi, NULL, N, 0, &err);
    assert_non_null(d);
    resim_design_cursor *c = resim_design_cursor_alloc(d, &err);
    assert_non_null(c);
    gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, K);
    double u[N][K], x[K];
    for (size_t i = 0; i < N; i++)
        gsl_qrng_get(q, u[i]);
    gsl_qrng_free(q);
    /* Forward, then a few jumps back and forth. */
    size_t order[N + 6];
    for (size_t i = 0; i < N; i++)
        order[i] = i;
    size_t jumps[6] = {5, 5, 63, 0, 17, 3};
    memcpy(order + N, jumps, sizeof jumps);
    for (size_t n = 0; n < N + 6; n++) {
        size_t i = order[n];
        assert_int_equal(resim_design_point(d, c, i, x, &err), RESIM_OK);
        for (size_t k = 0; k < K; k++)
            assert_true(x[k] == lo[k] + u[i][k] * (hi[k] - lo[k]));
    }
    /* Without a cursor a Sobol design cannot step. */
    assert_int_equal(resim_design_point(d, NULL, 0, x, &err), RESIM_EINVAL);
    resim_design_cursor_free(c);
    resim_design_free(d);
}

/* Saltelli: A and B are the two halves of a 2k-dimensional Sobol draw, AB_i
 * is A with key i from B, BA_i is B with key i from A; roles name them. */
static void test_saltelli(void **state)
{
    (void)state;
    enum { N = 33, K = 3 };
    double lo[K] = {-3.14159, 0.2385, 10}, hi[K] = {3.14159, 0.9, 1010};
    resim_error err = {0};
    for (int second = 0; second <= 1; second++) {
        resim_design *d = resim_design_alloc_saltelli(K, lo, hi, N, second, &err);
        assert_non_null(d);
        size_t G = second ? 2 * K + 2 : K + 2;
        assert_int_equal(resim_design_size(d), N * G);
        assert_int_equal(resim_design_kind_of(d), RESIM_DESIGN_SALTELLI);
        resim_design_cursor *c = resim_design_cursor_alloc(d, &err);
        assert_non_null(c);
        gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, 2 * K);
        double u[2 * K], a[K], b[K], x[K];
        gsl_qrng_get(q, u); /* (0.5, ..., 0.5) is skipped */
        size_t seen_ab[K] = {0}, seen_ba[K] = {0};
        for (size_t j = 0; j < N; j++) {
            gsl_qrng_get(q, u);
            for (size_t i = 0; i < K; i++) {
                a[i] = lo[i] + u[i] * (hi[i] - lo[i]);
                b[i] = lo[i] + u[K + i] * (hi[i] - lo[i]);
            }
            for (size_t g = 0; g < G; g++) {
                size_t p = j * G + g;
                resim_design_role role;
                assert_int_equal(resim_design_point(d, c, p, x, &err), RESIM_OK);
                assert_int_equal(resim_design_role_of(d, p, &role, &err), RESIM_OK);
                assert_int_equal(role.group, j);
                const double *base = role.matrix[0] == 'B' ? b : a;
                const double *other = base == a ? b : a;
                if (strcmp(role.matrix, "A") == 0 || strcmp(role.matrix, "B") == 0)
                    assert_true(role.key == SIZE_MAX);
                else {
                    char want[24];
                    snprintf(want, sizeof want, "%s%zu", base == a ? "AB" : "BA", role.key + 1);
                    assert_string_equal(role.matrix, want);
                    if (base == a)
                        seen_ab[role.key]++;
                    else
                        seen_ba[role.key]++;
                }
                for (size_t i = 0; i < K; i++)
                    assert_true(x[i] == (i == role.key ? other[i] : base[i]));
            }
            /* A first and B last in every group. */
            resim_design_role r0, r1;
            resim_design_role_of(d, j * G, &r0, &err);
            resim_design_role_of(d, j * G + G - 1, &r1, &err);
            assert_string_equal(r0.matrix, "A");
            assert_string_equal(r1.matrix, "B");
        }
        for (size_t i = 0; i < K; i++) {
            assert_int_equal(seen_ab[i], N);
            assert_int_equal(seen_ba[i], second ? N : 0);
        }
        /* Jumping back gives the same point. */
        double y[K];
        assert_int_equal(resim_design_point(d, c, 7, x, &err), RESIM_OK);
        assert_int_equal(resim_design_point(d, c, N * G - 1, y, &err), RESIM_OK);
        assert_int_equal(resim_design_point(d, c, 7, y, &err), RESIM_OK);
        assert_memory_equal(x, y, sizeof x);
        assert_int_equal(resim_design_point(d, NULL, 0, x, &err), RESIM_EINVAL);
        assert_int_equal(resim_design_point(d, c, N * G, x, &err), RESIM_EINVAL);
        gsl_qrng_free(q);
        resim_design_cursor_free(c);
        resim_design_free(d);
    }
    /* 2k dimensions of at most 40: 20 keys, not 21. */
    double l21[21] = {0}, h21[21];
    for (size_t i = 0; i < 21; i++)
        h21[i] = 1;
    resim_design *d = resim_design_alloc_saltelli(20, l21, h21, 4, 0, &err);
    assert_non_null(d);
    resim_design_free(d);
    assert_null(resim_design_alloc_saltelli(21, l21, h21, 4, 0, &err));
    assert_non_null(strstr(err.msg, "at most 20"));
    assert_null(resim_design_alloc_saltelli(2, l21, h21, 1, 0, &err));
    assert_null(resim_design_alloc(RESIM_DESIGN_SALTELLI, 2, l21, h21, NULL, 4, 0, &err));
    assert_string_equal(resim_design_kind_name(RESIM_DESIGN_SALTELLI), "saltelli");
}

/* Morris: each trajectory moves every key exactly once, by Delta of its
 * range, on the grid of levels; the seed decides. */
static void test_morris(void **state)
{
    (void)state;
    enum { R = 40, K = 4, P = 6 };
    double lo[K] = {0.2385, -10, 5, 100}, hi[K] = {0.9, 31.5, 5, 100.5};
    resim_error err = {0};
    resim_design *d = resim_design_alloc_morris(K, lo, hi, R, P, 2385, &err);
    assert_non_null(d);
    assert_int_equal(resim_design_size(d), R * (K + 1));
    assert_int_equal(resim_design_kind_of(d), RESIM_DESIGN_MORRIS);
    double delta = resim_design_morris_delta(P);
    assert_true(fabs(delta - 0.6) < 1e-15);
    double prev[K], x[K];
    size_t up = 0, down = 0;
    for (size_t r = 0; r < R; r++) {
        size_t moved[K] = {0};
        for (size_t s = 0; s <= K; s++) {
            size_t p = r * (K + 1) + s;
            resim_design_role role;
            assert_int_equal(resim_design_point(d, NULL, p, x, &err), RESIM_OK);
            assert_int_equal(resim_design_role_of(d, p, &role, &err), RESIM_OK);
            assert_int_equal(role.group, r);
            assert_int_equal(role.step, s);
            for (size_t i = 0; i < K; i++) {
                assert_true(x[i] >= lo[i] && x[i] <= hi[i]);
                /* On the grid lo + l (hi - lo) / (P - 1). */
                if (hi[i] > lo[i]) {
                    double l = (x[i] - lo[i]) / (hi[i] - lo[i]) * (P - 1);
                    assert_true(fabs(l - round(l)) < 1e-9);
                }
            }
            if (s == 0) {
                assert_true(role.key == SIZE_MAX);
            } else {
                assert_true(role.key < K);
                moved[role.key]++;
                for (size_t i = 0; i < K; i++) {
                    if (i != role.key) {
                        assert_true(x[i] == prev[i]);
                        continue;
                    }
                    double step = (x[i] - prev[i]) / (hi[i] - lo[i] == 0 ? 1 : hi[i] - lo[i]);
                    if (hi[i] > lo[i]) {
                        assert_true(fabs(fabs(step) - delta) < 1e-12);
                        if (step > 0)
                            up++;
                        else
                            down++;
                    }
                }
            }
            memcpy(prev, x, sizeof x);
        }
        for (size_t i = 0; i < K; i++)
            assert_int_equal(moved[i], 1);
    }
    /* Both directions occur. */
    assert_true(up > 10 && down > 10);
    /* Same seed, same design; another seed, another. */
    resim_design *same = resim_design_alloc_morris(K, lo, hi, R, P, 2385, &err);
    resim_design *other = resim_design_alloc_morris(K, lo, hi, R, P, 2386, &err);
    resim_design *fewer = resim_design_alloc_morris(K, lo, hi, 3, P, 2385, &err);
    double y[K];
    int differ = 0;
    for (size_t p = 0; p < R * (K + 1); p++) {
        resim_design_point(d, NULL, p, x, &err);
        resim_design_point(same, NULL, p, y, &err);
        assert_memory_equal(x, y, sizeof x);
        if (p < 3 * (K + 1)) {
            /* Trajectories do not depend on how many there are. */
            resim_design_point(fewer, NULL, p, y, &err);
            assert_memory_equal(x, y, sizeof x);
        }
        resim_design_point(other, NULL, p, y, &err);
        differ |= memcmp(x, y, sizeof x) != 0;
    }
    assert_true(differ);
    resim_design_free(same);
    resim_design_free(other);
    resim_design_free(fewer);
    resim_design_free(d);
    assert_null(resim_design_alloc_morris(K, lo, hi, R, 5, 1, &err));
    assert_non_null(strstr(err.msg, "even"));
    assert_null(resim_design_alloc_morris(K, lo, hi, 0, 4, 1, &err));
    assert_null(resim_design_alloc(RESIM_DESIGN_MORRIS, K, lo, hi, NULL, 4, 0, &err));
    assert_string_equal(resim_design_kind_name(RESIM_DESIGN_MORRIS), "morris");
}

static void test_errors(void **state)
{
    (void)state;
    double lo[41], hi[41];
    size_t lv[41];
    for (size_t k = 0; k < 41; k++) {
        lo[k] = 0;
        hi[k] = 2.385;
        lv[k] = 2;
    }
    resim_error err = {0};
    /* More than 40 Sobol dimensions: an error, not GSL's unusable generator. */
    assert_null(resim_design_alloc(RESIM_DESIGN_SOBOL, 41, lo, hi, NULL, 10, 0, &err));
    assert_int_equal(err.status, RESIM_EINVAL);
    assert_non_null(strstr(err.msg, "at most 40"));
    resim_design *d = resim_design_alloc(RESIM_DESIGN_SOBOL, 40, lo, hi, NULL, 10, 0, &err);
    assert_non_null(d);
    resim_design_free(d);
    /* Empty range, no points, no levels, no keys, a grid too large. */
    double blo = 3, bhi = 2;
    assert_null(resim_design_alloc(RESIM_DESIGN_LHS, 1, &blo, &bhi, NULL, 10, 1, &err));
    assert_non_null(strstr(err.msg, "empty"));
    double nlo = NAN;
    assert_null(resim_design_alloc(RESIM_DESIGN_LHS, 1, &nlo, hi, NULL, 10, 1, &err));
    assert_null(resim_design_alloc(RESIM_DESIGN_LHS, 1, lo, hi, NULL, 0, 1, &err));
    assert_null(resim_design_alloc(RESIM_DESIGN_SOBOL, 1, lo, hi, NULL, 0, 1, &err));
    size_t zero = 0;
    assert_null(resim_design_alloc(RESIM_DESIGN_GRID, 1, lo, hi, &zero, 0, 0, &err));
    assert_null(resim_design_alloc(RESIM_DESIGN_GRID, 1, lo, hi, NULL, 0, 0, &err));
    assert_null(resim_design_alloc(RESIM_DESIGN_GRID, 0, lo, hi, lv, 0, 0, &err));
    size_t big[41];
    for (size_t k = 0; k < 41; k++)
        big[k] = 1000;
    assert_null(resim_design_alloc(RESIM_DESIGN_GRID, 41, lo, hi, big, 0, 0, &err));
    assert_non_null(strstr(err.msg, "too many"));
    /* A one-level grid sits at lo; a degenerate range is fine. */
    size_t one = 1;
    d = resim_design_alloc(RESIM_DESIGN_GRID, 1, &hi[0], &hi[0], &one, 0, 0, &err);
    assert_non_null(d);
    double x;
    assert_int_equal(resim_design_point(d, NULL, 0, &x, &err), RESIM_OK);
    assert_true(x == 2.385);
    assert_int_equal(resim_design_point(d, NULL, 1, &x, &err), RESIM_EINVAL);
    resim_design_free(d);
    resim_design_free(NULL);
    resim_design_cursor_free(NULL);
    assert_string_equal(resim_design_kind_name(RESIM_DESIGN_LHS), "lhs");
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_order),
        cmocka_unit_test(test_lhs_strata),
        cmocka_unit_test(test_lhs_sizes),
        cmocka_unit_test(test_sobol_equals_gsl),
        cmocka_unit_test(test_saltelli),
        cmocka_unit_test(test_morris),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* design.c - grid, Latin hypercube, Sobol, Saltelli and Morris designs, point by index. */
#include "resim/design.h"

#include "resim/rng.h"

#include <Random123/philox.h>
#include <gsl/gsl_qrng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct resim_design {
    resim_design_kind kind;
    size_t dims, size;
    double *lo, *hi;  /* [dims] */
    size_t *levels;   /* [dims], GRID */
    uint64_t seed;    /* LHS: the key of its permutations and offsets */
    unsigned half;    /* LHS: bits of each half of the Feistel network */
    size_t group;     /* SALTELLI: points per base sample; MORRIS: dims + 1 */
    size_t nlevels;   /* MORRIS: levels per key */
    double delta;     /* MORRIS: step as a fraction of the range */
    size_t *perm;     /* [trajectories][dims], MORRIS: the order keys move in */
    size_t *start;    /* [trajectories][dims], MORRIS: start level, 0 .. levels-1 */
    signed char *dir; /* [trajectories][dims], MORRIS: +1 or -1 per key */
};

struct resim_design_cursor {
    const resim_design *d;
    gsl_qrng *q;      /* SOBOL */
    size_t have;      /* index of the draw held in u; SIZE_MAX for none */
    double *u;        /* [dims] (SALTELLI: [2 dims]), the last draw */
};

const char *resim_design_kind_name(resim_design_kind kind)
{
    switch (kind) {
    case RESIM_DESIGN_GRID: return "grid";
    case RESIM_DESIGN_LHS: return "lhs";
    case RESIM_DESIGN_SALTELLI: return "saltelli";
    case RESIM_DESIGN_MORRIS: return "morris";
    default: return "sobol";
    }
}

void resim_design_free(resim_design *d)
{
    if (d == NULL)
        return;
    free(d->lo);
    free(d->hi);
    free(d->levels);
    free(d->perm);
    free(d->start);
    free(d->dir);
    free(d);
}

static resim_design *fail(resim_design *d, resim_error *err, int status, const char *msg)
{
    resim_design_free(d);
    resim_error_set(err, status, NULL, 0, "%s", msg);
    return NULL;
}

/*
 * The Latin hypercube by index, in O(dims) memory: point i of key j lies in
 * stratum pi_j(i) of the n strata, at offset u_j(i) inside it, where pi_j is
 * a pseudo-random permutation of [0, n) and u_j(i) a uniform number in
 * [0, 1), both computed from (seed, j, i) alone with Philox-4x32-10. pi_j is
 * a balanced Feistel network of LHS_ROUNDS rounds on the smallest even
 * number of bits that holds n - 1, walked along its cycle until the value
 * falls inside [0, n) (cycle walking keeps it a permutation of [0, n)), so
 * any shard can start at any point at no cost.
 */
#define LHS_ROUNDS 6
#define LHS_OFFSET_PURPOSE 0x4c485300u /* "LHS": the counter word of the offsets */

/* The first two words of Philox-4x32-10 at counter (x, j, purpose) under key seed. */
static uint64_t lhs_philox(uint64_t seed, size_t j, uint32_t purpose, uint64_t x)
{
    philox4x32_ctr_t c = {{(uint32_t)x, (uint32_t)(x >> 32), (uint32_t)j, purpose}};
    philox4x32_key_t k = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    philox4x32_ctr_t r = philox4x32(c, k);
    return (uint64_t)r.v[0] << 32 | r.v[1];
}

/* pi_j(i): the stratum of point i for key j. */
static size_t lhs_stratum(const resim_design *d, size_t j, size_t i)
{
    const unsigned h = d->half;
    const uint64_t mask = ((uint64_t)1 << h) - 1, n = d->size;
    uint64_t x = i;
    do {
        uint64_t left = x >> h, right = x & mask;
        for (uint32_t r = 0; r < LHS_ROUNDS; r++) {
            uint64_t next = left ^ (lhs_philox(d->seed, j, r + 1, right) & mask);
            left = right;
            right = next;
        }
        x = left << h | right;
    } while (x >= n);
    return (size_t)x;
}

/* u_j(i) in [0, 1), 53 random bits. */
static double lhs_offset(const resim_design *d, size_t j, size_t i)
{
    uint64_t w = lhs_philox(d->seed, j, LHS_OFFSET_PURPOSE, i);
    return (double)(w >> 11) * 0x1.0p-53;
}

/* The Feistel half width for n points: 2 half bits hold n - 1, at least 1. */
static unsigned lhs_half(size_t n)
{
    unsigned bits = 0;
    while (bits < 64 && ((uint64_t)(n - 1) >> bits) != 0)
        bits++;
    return bits < 2 ? 1 : (bits + 1) / 2;
}

resim_design *resim_design_alloc(resim_design_kind kind, size_t dims, const double *lo,
                                 const double *hi, const size_t *levels, size_t points,
                                 unsigned long seed, resim_error *err)
{
    if (dims == 0)
        return fail(NULL, err, RESIM_EINVAL, "a design needs at least one key");
    if (kind == RESIM_DESIGN_SALTELLI || kind == RESIM_DESIGN_MORRIS)
        return fail(NULL, err, RESIM_EINVAL,
                    kind == RESIM_DESIGN_SALTELLI
                        ? "a Saltelli design is made by resim_design_alloc_saltelli"
                        : "a Morris design is made by resim_design_alloc_morris");
    if (kind == RESIM_DESIGN_SOBOL && dims > RESIM_SOBOL_MAX_DIMS) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0,
                        "a Sobol design supports at most %d keys, not %zu", RESIM_SOBOL_MAX_DIMS,
                        dims);
        return NULL;
    }
    if (kind != RESIM_DESIGN_GRID && points == 0)
        return fail(NULL, err, RESIM_EINVAL, "a design needs at least one point");
    for (size_t k = 0; k < dims; k++) {
        if (!isfinite(lo[k]) || !isfinite(hi[k]) || lo[k] > hi[k]) {
            resim_error_set(err, RESIM_EINVAL, NULL, 0, "key %zu: range [%g, %g] is empty", k + 1,
                            lo[k], hi[k]);
            return NULL;
        }
        if (kind == RESIM_DESIGN_GRID && (levels == NULL || levels[k] == 0)) {
            resim_error_set(err, RESIM_EINVAL, NULL, 0, "key %zu: a grid needs at least 1 level",
                            k + 1);
            return NULL;
        }
    }
    resim_design *d = calloc(1, sizeof *d);
    if (d == NULL)
        return fail(NULL, err, RESIM_ENOMEM, "out of memory");
    d->kind = kind;
    d->dims = dims;
    d->lo = malloc(dims * sizeof *d->lo);
    d->hi = malloc(dims * sizeof *d->hi);
    d->levels = calloc(dims, sizeof *d->levels);
    if (d->lo == NULL || d->hi == NULL || d->levels == NULL)
        return fail(d, err, RESIM_ENOMEM, "out of memory");
    memcpy(d->lo, lo, dims * sizeof *lo);
    memcpy(d->hi, hi, dims * sizeof *hi);
    if (kind == RESIM_DESIGN_GRID) {
        memcpy(d->levels, levels, dims * sizeof *levels);
        d->size = 1;
        for (size_t k = 0; k < dims; k++) {
            if (d->size > SIZE_MAX / levels[k])
                return fail(d, err, RESIM_EINVAL, "the grid has too many points");
            d->size *= levels[k];
        }
        return d;
    }
    d->size = points;
    if (kind == RESIM_DESIGN_LHS) {
        d->seed = seed;
        d->half = lhs_half(points);
    }
    return d;
}

size_t resim_design_size(const resim_design *d) { return d->size; }
size_t resim_design_dims(const resim_design *d) { return d->dims; }
resim_design_kind resim_design_kind_of(const resim_design *d) { return d->kind; }

resim_design_cursor *resim_design_cursor_alloc(const resim_design *d, resim_error *err)
{
    resim_design_cursor *c = calloc(1, sizeof *c);
    if (c == NULL) {
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        return NULL;
    }
    c->d = d;
    c->have = SIZE_MAX;
    if (d->kind == RESIM_DESIGN_SOBOL || d->kind == RESIM_DESIGN_SALTELLI) {
        size_t qd = d->kind == RESIM_DESIGN_SALTELLI ? 2 * d->dims : d->dims;
        c->q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned int)qd);
        c->u = malloc(qd * sizeof *c->u);
        if (c->q == NULL || c->u == NULL) {
            resim_design_cursor_free(c);
            resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
            return NULL;
        }
    }
    return c;
}

void resim_design_cursor_free(resim_design_cursor *c)
{
    if (c == NULL)
        return;
    gsl_qrng_free(c->q);
    free(c->u);
    free(c);
}

/* lo + t (hi - lo), with t in [0, 1]; exactly hi when t is 1. */
static double scale(double lo, double hi, double t)
{
    return t >= 1 ? hi : lo + t * (hi - lo);
}

/* Puts draw `index` of the cursor's Sobol sequence in c->u. */
static void sobol_draw(resim_design_cursor *c, size_t index)
{
    if (c->have == index)
        return;
    /* The sequence only steps forward: start again to go back. */
    size_t next = c->have == SIZE_MAX || index < c->have ? 0 : c->have + 1;
    if (next == 0)
        gsl_qrng_init(c->q);
    for (; next <= index; next++)
        gsl_qrng_get(c->q, c->u);
    c->have = index;
}

int resim_design_point(const resim_design *d, resim_design_cursor *c, size_t index, double *x,
                       resim_error *err)
{
    if (index >= d->size)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0, "design point %zu out of range (%zu points)",
                               index, d->size);
    size_t k = d->dims;
    switch (d->kind) {
    case RESIM_DESIGN_GRID: {
        size_t rest = index;
        for (size_t j = k; j-- > 0;) {
            size_t n = d->levels[j], at = rest % n;
            rest /= n;
            x[j] = n == 1 ? d->lo[j] : scale(d->lo[j], d->hi[j], (double)at / (double)(n - 1));
        }
        return RESIM_OK;
    }
    case RESIM_DESIGN_LHS:
        for (size_t j = 0; j < k; j++) {
            double t = ((double)lhs_stratum(d, j, index) + lhs_offset(d, j, index)) /
                       (double)d->size;
            x[j] = d->lo[j] + t * (d->hi[j] - d->lo[j]);
        }
        return RESIM_OK;
    case RESIM_DESIGN_SOBOL:
        if (c == NULL || c->d != d)
            return resim_error_set(err, RESIM_EINVAL, NULL, 0, "a Sobol design needs its cursor");
        sobol_draw(c, index);
        for (size_t j = 0; j < k; j++)
            x[j] = d->lo[j] + c->u[j] * (d->hi[j] - d->lo[j]);
        return RESIM_OK;
    case RESIM_DESIGN_SALTELLI: {
        if (c == NULL || c->d != d)
            return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                                   "a Saltelli design needs its cursor");
        size_t j = index / d->group, g = index % d->group;
        /* GSL's first draw, (0.5, ..., 0.5), would make A and B equal. */
        sobol_draw(c, j + 1);
        /* g = 0: A; 1 .. k: AB_g; k+1 .. 2k: BA_(g-k) (second order); last: B. */
        int is_ba = g > k && g + 1 < d->group;
        int from_b = g + 1 == d->group || is_ba;
        size_t swap = g >= 1 && g <= k ? g - 1 : is_ba ? g - k - 1 : SIZE_MAX;
        for (size_t i = 0; i < k; i++) {
            int b = i == swap ? !from_b : from_b;
            x[i] = scale(d->lo[i], d->hi[i], c->u[b ? k + i : i]);
        }
        return RESIM_OK;
    }
    case RESIM_DESIGN_MORRIS: {
        size_t r = index / d->group, s = index % d->group;
        const size_t *perm = d->perm + r * k;
        const size_t *start = d->start + r * k;
        const signed char *dir = d->dir + r * k;
        /* Levels are counted in whole steps so that equal levels give equal values. */
        size_t jump = d->nlevels / 2, top = d->nlevels - 1;
        for (size_t i = 0; i < k; i++)
            x[i] = (double)start[i];
        for (size_t m = 0; m < s; m++)
            x[perm[m]] += dir[perm[m]] * (double)jump;
        for (size_t i = 0; i < k; i++)
            x[i] = scale(d->lo[i], d->hi[i], x[i] / (double)top);
        return RESIM_OK;
    }
    }
    return RESIM_EINVAL;
}

/* Copies the ranges into a new design of the given kind; NULL on error. */
static resim_design *alloc_box(resim_design_kind kind, size_t dims, const double *lo,
                               const double *hi, resim_error *err)
{
    if (dims == 0)
        return fail(NULL, err, RESIM_EINVAL, "a design needs at least one key");
    for (size_t k = 0; k < dims; k++)
        if (!isfinite(lo[k]) || !isfinite(hi[k]) || lo[k] > hi[k]) {
            resim_error_set(err, RESIM_EINVAL, NULL, 0, "key %zu: range [%g, %g] is empty", k + 1,
                            lo[k], hi[k]);
            return NULL;
        }
    resim_design *d = calloc(1, sizeof *d);
    if (d == NULL)
        return fail(NULL, err, RESIM_ENOMEM, "out of memory");
    d->kind = kind;
    d->dims = dims;
    d->lo = malloc(dims * sizeof *d->lo);
    d->hi = malloc(dims * sizeof *d->hi);
    if (d->lo == NULL || d->hi == NULL)
        return fail(d, err, RESIM_ENOMEM, "out of memory");
    memcpy(d->lo, lo, dims * sizeof *lo);
    memcpy(d->hi, hi, dims * sizeof *hi);
    return d;
}

resim_design *resim_design_alloc_saltelli(size_t dims, const double *lo, const double *hi,
                                          size_t n, int second_order, resim_error *err)
{
    if (dims > RESIM_SALTELLI_MAX_DIMS) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0,
                        "a Saltelli design supports at most %d keys (a Sobol sequence over "
                        "twice as many dimensions), not %zu",
                        RESIM_SALTELLI_MAX_DIMS, dims);
        return NULL;
    }
    if (n < 2)
        return fail(NULL, err, RESIM_EINVAL, "a Saltelli design needs at least 2 base samples");
    resim_design *d = alloc_box(RESIM_DESIGN_SALTELLI, dims, lo, hi, err);
    if (d == NULL)
        return NULL;
    d->group = second_order ? 2 * dims + 2 : dims + 2;
    if (n > SIZE_MAX / d->group)
        return fail(d, err, RESIM_EINVAL, "the Saltelli design has too many points");
    d->size = n * d->group;
    return d;
}

double resim_design_morris_delta(size_t levels)
{
    return (double)levels / (2.0 * (double)(levels - 1));
}

resim_design *resim_design_alloc_morris(size_t dims, const double *lo, const double *hi,
                                        size_t trajectories, size_t levels, unsigned long seed,
                                        resim_error *err)
{
    if (trajectories == 0)
        return fail(NULL, err, RESIM_EINVAL, "a Morris design needs at least one trajectory");
    if (levels < 2 || levels % 2 != 0) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0,
                        "a Morris design needs an even number of levels >= 2, not %zu", levels);
        return NULL;
    }
    resim_design *d = alloc_box(RESIM_DESIGN_MORRIS, dims, lo, hi, err);
    if (d == NULL)
        return NULL;
    d->group = dims + 1;
    d->nlevels = levels;
    d->delta = resim_design_morris_delta(levels);
    if (trajectories > SIZE_MAX / d->group / sizeof(double) / dims)
        return fail(d, err, RESIM_EINVAL, "the Morris design has too many points");
    d->size = trajectories * d->group;
    size_t nk = trajectories * dims;
    d->perm = malloc(nk * sizeof *d->perm);
    d->start = malloc(nk * sizeof *d->start);
    d->dir = malloc(nk * sizeof *d->dir);
    gsl_rng *r = resim_rng_alloc();
    if (d->perm == NULL || d->start == NULL || d->dir == NULL || r == NULL) {
        gsl_rng_free(r);
        return fail(d, err, RESIM_ENOMEM, "out of memory for the Morris design");
    }
    /* Morris' B* = (J x* + (Delta/2)((2B - J) D* + J)) P*: base x* on the
     * levels that leave room for a step up, directions D*, order P*. */
    for (size_t t = 0; t < trajectories; t++) {
        size_t *perm = d->perm + t * dims;
        resim_rng_reset(r, seed, t, RESIM_STREAM_MORRIS);
        for (size_t i = 0; i < dims; i++)
            perm[i] = i;
        gsl_ran_shuffle(r, perm, dims, sizeof *perm);
        for (size_t i = 0; i < dims; i++) {
            int up = gsl_rng_uniform_int(r, 2) == 0;
            size_t l = (size_t)gsl_rng_uniform_int(r, levels / 2);
            d->dir[t * dims + i] = up ? 1 : -1;
            /* Delta is levels/2 grid steps of 1 / (levels - 1). */
            d->start[t * dims + i] = up ? l : l + levels / 2;
        }
    }
    gsl_rng_free(r);
    return d;
}

int resim_design_role_of(const resim_design *d, size_t index, resim_design_role *role,
                         resim_error *err)
{
    if (index >= d->size)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0, "design point %zu out of range (%zu points)",
                               index, d->size);
    size_t k = d->dims;
    role->group = index;
    role->step = 0;
    role->key = SIZE_MAX;
    role->matrix[0] = '\0';
    if (d->kind == RESIM_DESIGN_SALTELLI) {
        size_t g = index % d->group;
        role->group = index / d->group;
        role->step = g;
        if (g == 0)
            strcpy(role->matrix, "A");
        else if (g == d->group - 1)
            strcpy(role->matrix, "B");
        else if (g <= k) {
            role->key = g - 1;
            snprintf(role->matrix, sizeof role->matrix, "AB%zu", g);
        } else {
            role->key = g - k - 1;
            snprintf(role->matrix, sizeof role->matrix, "BA%zu", g - k);
        }
    } else if (d->kind == RESIM_DESIGN_MORRIS) {
        role->group = index / d->group;
        role->step = index % d->group;
        if (role->step > 0)
            role->key = d->perm[role->group * k + role->step - 1];
    }
    return RESIM_OK;
}

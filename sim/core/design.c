/* design.c - grid, Latin hypercube and Sobol designs, point by index. */
#include "resim/design.h"

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct resim_design {
    resim_design_kind kind;
    size_t dims, size;
    double *lo, *hi;  /* [dims] */
    size_t *levels;   /* [dims], GRID */
    size_t *stratum;  /* [size][dims], LHS: the stratum of point i for key k */
    double *offset;   /* [size][dims], LHS: position inside the stratum, [0, 1) */
};

struct resim_design_cursor {
    const resim_design *d;
    gsl_qrng *q;      /* SOBOL */
    size_t have;      /* index of the point held in u; SIZE_MAX for none */
    double *u;        /* [dims], the last draw */
};

const char *resim_design_kind_name(resim_design_kind kind)
{
    switch (kind) {
    case RESIM_DESIGN_GRID: return "grid";
    case RESIM_DESIGN_LHS: return "lhs";
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
    free(d->stratum);
    free(d->offset);
    free(d);
}

static resim_design *fail(resim_design *d, resim_error *err, int status, const char *msg)
{
    resim_design_free(d);
    resim_error_set(err, status, NULL, 0, "%s", msg);
    return NULL;
}

/* Draws the Latin hypercube: one shuffle per key, then the offsets. */
static int lhs_fill(resim_design *d, unsigned long seed)
{
    size_t n = d->size, k = d->dims;
    if (n > SIZE_MAX / k / sizeof(double))
        return -1;
    size_t *perm = malloc(n * sizeof *perm);
    d->stratum = malloc(n * k * sizeof *d->stratum);
    d->offset = malloc(n * k * sizeof *d->offset);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    int ok = perm != NULL && d->stratum != NULL && d->offset != NULL && r != NULL;
    if (ok) {
        gsl_rng_set(r, seed);
        for (size_t j = 0; j < k; j++) {
            for (size_t i = 0; i < n; i++)
                perm[i] = i;
            gsl_ran_shuffle(r, perm, n, sizeof *perm);
            for (size_t i = 0; i < n; i++)
                d->stratum[i * k + j] = perm[i];
        }
        for (size_t i = 0; i < n * k; i++)
            d->offset[i] = gsl_rng_uniform(r);
    }
    gsl_rng_free(r);
    free(perm);
    return ok ? 0 : -1;
}

resim_design *resim_design_alloc(resim_design_kind kind, size_t dims, const double *lo,
                                 const double *hi, const size_t *levels, size_t points,
                                 unsigned long seed, resim_error *err)
{
    if (dims == 0)
        return fail(NULL, err, RESIM_EINVAL, "a design needs at least one key");
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
    if (kind == RESIM_DESIGN_LHS && lhs_fill(d, seed) != 0)
        return fail(d, err, RESIM_ENOMEM, "out of memory for the Latin hypercube");
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
    if (d->kind == RESIM_DESIGN_SOBOL) {
        c->q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned int)d->dims);
        c->u = malloc(d->dims * sizeof *c->u);
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
            double t = ((double)d->stratum[index * k + j] + d->offset[index * k + j]) /
                       (double)d->size;
            x[j] = d->lo[j] + t * (d->hi[j] - d->lo[j]);
        }
        return RESIM_OK;
    case RESIM_DESIGN_SOBOL:
        if (c == NULL || c->d != d)
            return resim_error_set(err, RESIM_EINVAL, NULL, 0, "a Sobol design needs its cursor");
        if (c->have != index) {
            /* The sequence only steps forward: start again to go back. */
            size_t next = c->have == SIZE_MAX || index < c->have ? 0 : c->have + 1;
            if (next == 0)
                gsl_qrng_init(c->q);
            for (; next <= index; next++)
                gsl_qrng_get(c->q, c->u);
            c->have = index;
        }
        for (size_t j = 0; j < k; j++)
            x[j] = d->lo[j] + c->u[j] * (d->hi[j] - d->lo[j]);
        return RESIM_OK;
    }
    return RESIM_EINVAL;
}

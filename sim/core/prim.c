/* prim.c - PRIM peeling and pasting (Friedman and Fisher 1999) over points with a flag of interest. */
#include "resim/prim.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void resim_prim_defaults(resim_prim_options *o)
{
    o->alpha = 0.05;
    o->paste_alpha = 0.05;
    o->min_mass = 0.05;
    o->density = 0.8;
}

const char *resim_prim_phase_name(resim_prim_phase phase)
{
    switch (phase) {
    case RESIM_PRIM_START: return "start";
    case RESIM_PRIM_PEEL: return "peel";
    default: return "paste";
    }
}

void resim_prim_result_free(resim_prim_result *res)
{
    if (res == NULL)
        return;
    free(res->data_lo);
    free(res->data_hi);
    free(res->step);
    free(res->storage);
    free(res);
}

typedef struct keyed {
    double v;
    size_t p;
} keyed;

static int by_value(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->p < y->p ? -1 : x->p > y->p;
}

/* The working state: data, sorted orders, the current box. */
typedef struct prim {
    const double *x;
    const unsigned char *interest;
    size_t n, k;
    size_t *ord;          /* [k][n] points by increasing value of each key */
    unsigned char *in;    /* [n] inside the current box */
    double *lo, *hi;      /* [k] current limits */
    size_t inside, hits;  /* points in the box, of interest */
    resim_prim_result *res;
    size_t cap;           /* steps allocated */
} prim;

/* Number of points an alpha fraction of m stands for: at least 1. */
static size_t share(double alpha, size_t m)
{
    double t = ceil(alpha * (double)m);
    return t < 1 ? 1 : (size_t)t;
}

static int inside_box(const prim *s, size_t p, size_t skip)
{
    const double *xp = s->x + p * s->k;
    for (size_t i = 0; i < s->k; i++)
        if (i != skip && (xp[i] < s->lo[i] || xp[i] > s->hi[i]))
            return 0;
    return 1;
}

/* Sets the box flags and counts from the limits. */
static void refresh(prim *s)
{
    s->inside = s->hits = 0;
    for (size_t p = 0; p < s->n; p++) {
        s->in[p] = (unsigned char)inside_box(s, p, SIZE_MAX);
        s->inside += s->in[p];
        s->hits += s->in[p] && s->interest[p];
    }
}

static void fill_box(const prim *s, resim_prim_box *b, resim_prim_phase phase, size_t inside,
                     size_t hits, const double *lo, const double *hi)
{
    const resim_prim_result *r = s->res;
    b->phase = phase;
    b->inside = inside;
    b->interest = hits;
    b->coverage = r->total_interest ? (double)hits / (double)r->total_interest : NAN;
    b->density = inside ? (double)hits / (double)inside : NAN;
    b->mass = (double)inside / (double)s->n;
    b->lo = lo;
    b->hi = hi;
    b->restricted = 0;
    for (size_t i = 0; i < s->k; i++)
        b->restricted += lo[i] > r->data_lo[i] || hi[i] < r->data_hi[i];
}

/* Appends the current box to the trajectory. */
static int push(prim *s, resim_prim_phase phase)
{
    resim_prim_result *r = s->res;
    if (r->nsteps == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        resim_prim_box *st = realloc(r->step, cap * sizeof *st);
        if (st == NULL)
            return -1;
        r->step = st;
        double *lim = realloc(r->storage, cap * 2 * s->k * sizeof *lim);
        if (lim == NULL)
            return -1;
        r->storage = lim;
        s->cap = cap;
    }
    double *lim = r->storage + r->nsteps * 2 * s->k;
    memcpy(lim, s->lo, s->k * sizeof *lim);
    memcpy(lim + s->k, s->hi, s->k * sizeof *lim);
    fill_box(s, &r->step[r->nsteps], phase, s->inside, s->hits, lim, lim + s->k);
    r->nsteps++;
    return 0;
}

/*
 * The peel of key i on one side (up = 0: lowest values): the new limit q
 * and the points (and points of interest) it removes. Returns 0 when there
 * is nothing to peel.
 */
static int peel_side(const prim *s, size_t i, int up, size_t t, double *q, size_t *gone,
                     size_t *gone_hits)
{
    const size_t *ord = s->ord + i * s->n;
    size_t n = s->n, c = 0;
    double v0 = 0;
    int have = 0;
    for (size_t a = 0; a < n && !have; a++) {
        size_t p = ord[up ? n - 1 - a : a];
        if (!s->in[p])
            continue;
        double v = s->x[p * s->k + i];
        if (c == 0)
            v0 = v;
        if (c >= t && v != v0) {
            *q = v;
            have = 1;
        }
        c++;
    }
    if (!have)
        return 0;
    *gone = *gone_hits = 0;
    for (size_t a = 0; a < n; a++) {
        size_t p = ord[up ? n - 1 - a : a];
        if (!s->in[p])
            continue;
        double v = s->x[p * s->k + i];
        if (up ? v <= *q : v >= *q)
            break;
        (*gone)++;
        *gone_hits += s->interest[p] != 0;
    }
    return 1;
}

static int peel(prim *s, const resim_prim_options *o)
{
    while (s->hits < s->inside) {
        size_t t = share(o->alpha, s->inside);
        if (t >= s->inside)
            break;
        double dens = (double)s->hits / (double)s->inside, best = -INFINITY, best_q = 0;
        size_t best_i = SIZE_MAX;
        int best_up = 0;
        for (size_t i = 0; i < s->k; i++)
            for (int up = 0; up <= 1; up++) {
                double q;
                size_t gone, gone_hits;
                if (!peel_side(s, i, up, t, &q, &gone, &gone_hits) || gone == 0)
                    continue;
                size_t left = s->inside - gone;
                if ((double)left < o->min_mass * (double)s->n)
                    continue;
                double gain = ((double)(s->hits - gone_hits) / (double)left - dens) / (double)gone;
                if (gain > best) {
                    best = gain;
                    best_i = i;
                    best_up = up;
                    best_q = q;
                }
            }
        if (best_i == SIZE_MAX)
            break;
        if (best_up)
            s->hi[best_i] = best_q;
        else
            s->lo[best_i] = best_q;
        refresh(s);
        if (push(s, RESIM_PRIM_PEEL) != 0)
            return -1;
    }
    return 0;
}

/*
 * The paste of key i on one side: the new limit q (the data's limit when
 * the side is released) and the points (of interest) it adds.
 */
static int paste_side(const prim *s, size_t i, int up, size_t t, double *q, size_t *add,
                      size_t *add_hits)
{
    const resim_prim_result *r = s->res;
    if (up ? s->hi[i] >= r->data_hi[i] : s->lo[i] <= r->data_lo[i])
        return 0;
    const size_t *ord = s->ord + i * s->n;
    size_t n = s->n, c = 0, c_hits = 0;
    double last = 0;
    /* Walk away from the box: increasing values above hi, decreasing below lo. */
    for (size_t a = 0; a < n; a++) {
        size_t p = ord[up ? a : n - 1 - a];
        double v = s->x[p * s->k + i];
        if (up ? v <= s->hi[i] : v >= s->lo[i])
            continue;
        if (!inside_box(s, p, i))
            continue;
        if (c >= t && v != last)
            break;
        last = v;
        c++;
        c_hits += s->interest[p] != 0;
    }
    if (c == 0)
        return 0;
    *q = c < t ? (up ? r->data_hi[i] : r->data_lo[i]) : last;
    *add = c;
    *add_hits = c_hits;
    return 1;
}

static int paste(prim *s, const resim_prim_options *o)
{
    if (!(o->paste_alpha > 0))
        return 0;
    for (;;) {
        size_t t = share(o->paste_alpha, s->inside);
        double dens = (double)s->hits / (double)s->inside, best = -INFINITY, best_q = 0;
        size_t best_i = SIZE_MAX;
        int best_up = 0;
        for (size_t i = 0; i < s->k; i++)
            for (int up = 0; up <= 1; up++) {
                double q;
                size_t add, add_hits;
                if (!paste_side(s, i, up, t, &q, &add, &add_hits))
                    continue;
                double d = (double)(s->hits + add_hits) / (double)(s->inside + add);
                if (d > best) {
                    best = d;
                    best_i = i;
                    best_up = up;
                    best_q = q;
                }
            }
        if (best_i == SIZE_MAX || best < dens)
            return 0;
        if (best_up)
            s->hi[best_i] = best_q;
        else
            s->lo[best_i] = best_q;
        refresh(s);
        if (push(s, RESIM_PRIM_PASTE) != 0)
            return -1;
    }
}

resim_prim_result *resim_prim_run(const double *x, const unsigned char *interest, size_t n,
                                  size_t k, const resim_prim_options *o, resim_error *err)
{
    if (n == 0 || k == 0 || x == NULL || interest == NULL) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0, "PRIM needs at least one point and one key");
        return NULL;
    }
    if (!(o->alpha > 0 && o->alpha < 1) || !(o->paste_alpha >= 0 && o->paste_alpha < 1) ||
        !(o->min_mass >= 0 && o->min_mass <= 1) || !(o->density >= 0 && o->density <= 1)) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0,
                        "PRIM options: alpha in (0, 1), paste alpha in [0, 1), minimum mass and "
                        "density in [0, 1]");
        return NULL;
    }
    for (size_t p = 0; p < n * k; p++)
        if (!isfinite(x[p])) {
            resim_error_set(err, RESIM_EINVAL, NULL, 0, "point %zu, key %zu: not a finite value",
                            p / k, p % k + 1);
            return NULL;
        }
    prim s = {.x = x, .interest = interest, .n = n, .k = k};
    resim_prim_result *r = calloc(1, sizeof *r);
    s.res = r;
    s.ord = malloc(k * n * sizeof *s.ord);
    s.in = malloc(n);
    s.lo = malloc(k * sizeof *s.lo);
    s.hi = malloc(k * sizeof *s.hi);
    keyed *tmp = malloc(n * sizeof *tmp);
    int ok = r && s.ord && s.in && s.lo && s.hi && tmp;
    if (ok) {
        r->n = n;
        r->k = k;
        r->peeled = r->chosen = SIZE_MAX;
        r->data_lo = malloc(k * sizeof *r->data_lo);
        r->data_hi = malloc(k * sizeof *r->data_hi);
        ok = r->data_lo && r->data_hi;
    }
    if (ok) {
        for (size_t p = 0; p < n; p++)
            r->total_interest += interest[p] != 0;
        for (size_t i = 0; i < k; i++) {
            for (size_t p = 0; p < n; p++) {
                tmp[p].v = x[p * k + i];
                tmp[p].p = p;
            }
            qsort(tmp, n, sizeof *tmp, by_value);
            for (size_t p = 0; p < n; p++)
                s.ord[i * n + p] = tmp[p].p;
            r->data_lo[i] = s.lo[i] = tmp[0].v;
            r->data_hi[i] = s.hi[i] = tmp[n - 1].v;
        }
        refresh(&s);
        ok = push(&s, RESIM_PRIM_START) == 0 && peel(&s, o) == 0;
    }
    if (ok) {
        for (size_t t = 0; t < r->nsteps && r->peeled == SIZE_MAX; t++)
            if (r->total_interest > 0 && r->step[t].density >= o->density)
                r->peeled = t;
        if (r->peeled != SIZE_MAX) {
            const double *lim = r->storage + r->peeled * 2 * k;
            memcpy(s.lo, lim, k * sizeof *s.lo);
            memcpy(s.hi, lim + k, k * sizeof *s.hi);
            refresh(&s);
            ok = paste(&s, o) == 0;
            r->chosen = r->nsteps - 1 > r->peeled && r->step[r->nsteps - 1].phase ==
                        RESIM_PRIM_PASTE ? r->nsteps - 1 : r->peeled;
        }
    }
    if (ok) {
        /* The storage has stopped moving: point every box at its limits. */
        for (size_t t = 0; t < r->nsteps; t++) {
            r->step[t].lo = r->storage + t * 2 * k;
            r->step[t].hi = r->step[t].lo + k;
        }
        if (r->chosen != SIZE_MAX) {
            /* Applied anew to every point, as a reader of the limits would. */
            const double *lo = r->step[r->chosen].lo, *hi = r->step[r->chosen].hi;
            memcpy(s.lo, lo, k * sizeof *s.lo);
            memcpy(s.hi, hi, k * sizeof *s.hi);
            refresh(&s);
            fill_box(&s, &r->whole, r->step[r->chosen].phase, s.inside, s.hits, lo, hi);
        }
    }
    free(s.ord);
    free(s.in);
    free(s.lo);
    free(s.hi);
    free(tmp);
    if (!ok) {
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory for PRIM");
        resim_prim_result_free(r);
        return NULL;
    }
    return r;
}

/*
 * fit.c - bounded multi-start nonlinear least squares (GSL's trust region)
 * and profile intervals for each parameter (docs/fit.md). Pure: no I/O.
 */
#include "resim/fit.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_qrng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void resim_fit_options_default(resim_fit_options *o)
{
    o->starts = 16;
    o->seed = 1;
    o->max_iter = 200;
    o->xtol = 1e-10;
    o->gtol = 1e-12;
    o->h_df = 1e-7;
    o->profiles = 1;
    o->profile_points = 21;
    o->level = 0.95;
    o->floor_rel = 1e-9;
}

/* What the GSL callback needs: the caller's function and which parameter is held. */
typedef struct fit_impl {
    resim_fit *w;
    resim_fit_fn f;
    void *ctx;
    const double *lo, *hi;
    size_t held;       /* index of the parameter held fixed, or p for none */
    double held_value;
    int status;        /* the caller's non-zero status, or RESIM_EINVAL for a non-finite residual */
    double *theta;     /* [p] */
    double *r;         /* [n] */
    double *zbest;     /* [p] */
    double *zstart;    /* [p] */
    double *zwarm;     /* [p] warm start of a profile fit (first p-1 used) */
    double *zside;     /* [p] solution at the inner end of a bracket */
    double *zgrid;     /* [grid][p] profile solutions at the grid points */
    gsl_multifit_nlinear_workspace *full, *prof;
    gsl_multifit_nlinear_fdf fdf_full, fdf_prof;
    gsl_vector *x_full, *x_prof;
} fit_impl;

resim_fit *resim_fit_alloc(size_t n, size_t p, resim_error *err)
{
    if (p < 1 || p > RESIM_FIT_MAX_PARAMS) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0, "a fit takes 1 to %d parameters, not %zu",
                        RESIM_FIT_MAX_PARAMS, p);
        return NULL;
    }
    if (n <= p) {
        resim_error_set(err, RESIM_EINVAL, NULL, 0,
                        "a fit of %zu parameters needs more than %zu observations, not %zu", p, p,
                        n);
        return NULL;
    }
    resim_fit *w = calloc(1, sizeof *w);
    fit_impl *im = calloc(1, sizeof *im);
    if (w == NULL || im == NULL) {
        free(w);
        free(im);
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        return NULL;
    }
    w->impl = im;
    w->n = n;
    w->p = p;
    w->param = calloc(p, sizeof *w->param);
    w->resid = calloc(n, sizeof *w->resid);
    im->theta = calloc(p, sizeof *im->theta);
    im->r = calloc(n, sizeof *im->r);
    im->zbest = calloc(p, sizeof *im->zbest);
    im->zstart = calloc(p, sizeof *im->zstart);
    im->zwarm = calloc(p, sizeof *im->zwarm);
    im->zside = calloc(p, sizeof *im->zside);
    if (w->param == NULL || w->resid == NULL || im->theta == NULL || im->r == NULL ||
        im->zbest == NULL || im->zstart == NULL || im->zwarm == NULL || im->zside == NULL) {
        resim_fit_free(w);
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        return NULL;
    }
    return w;
}

static void free_gsl(fit_impl *im)
{
    if (im->full != NULL)
        gsl_multifit_nlinear_free(im->full);
    if (im->prof != NULL)
        gsl_multifit_nlinear_free(im->prof);
    gsl_vector_free(im->x_full);
    gsl_vector_free(im->x_prof);
    im->full = im->prof = NULL;
    im->x_full = im->x_prof = NULL;
}

void resim_fit_free(resim_fit *w)
{
    if (w == NULL)
        return;
    fit_impl *im = w->impl;
    if (im != NULL) {
        free_gsl(im);
        free(im->theta);
        free(im->r);
        free(im->zbest);
        free(im->zstart);
        free(im->zwarm);
        free(im->zside);
        free(im->zgrid);
        free(im);
    }
    free(w->param);
    free(w->resid);
    free(w->profile_x);
    free(w->profile_s);
    free(w);
}

/* ------------------------------------------------------------ transform */

/* theta = lo + (hi - lo) / (1 + exp(-z)): any z lands inside [lo, hi]. */
static double from_z(double z, double lo, double hi)
{
    double u = 1.0 / (1.0 + exp(-z));
    double t = lo + (hi - lo) * u;
    return t < lo ? lo : t > hi ? hi : t;
}

/* The inverse, for u = (theta - lo) / (hi - lo) strictly inside (0, 1). */
static double logit(double u) { return log(u / (1.0 - u)); }

/* A uniform number in [0, 1) fixed by (seed, j): SplitMix64 (Steele et al. 2014). */
static double shift_of(uint64_t seed, size_t j)
{
    uint64_t z = seed + (uint64_t)(j + 1) * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return ldexp((double)(z >> 11), -53);
}

/* ------------------------------------------------------------ evaluation */

/* GSL's view of the residuals: z of the free parameters in, f out. */
static int gsl_residuals(const gsl_vector *x, void *params, gsl_vector *fv)
{
    fit_impl *im = params;
    resim_fit *w = im->w;
    size_t q = 0;
    for (size_t j = 0; j < w->p; j++)
        im->theta[j] = j == im->held ? im->held_value
                                     : from_z(gsl_vector_get(x, q++), im->lo[j], im->hi[j]);
    w->runs++;
    int rc = im->f(im->theta, im->r, im->ctx);
    if (rc != 0) {
        im->status = rc;
        return GSL_EBADFUNC;
    }
    for (size_t i = 0; i < w->n; i++) {
        if (!isfinite(im->r[i])) {
            im->status = RESIM_EINVAL;
            return GSL_EBADFUNC;
        }
        gsl_vector_set(fv, i, im->r[i]);
    }
    return GSL_SUCCESS;
}

static double sum_squares(const gsl_vector *f)
{
    double s;
    gsl_blas_ddot(f, f, &s);
    return s;
}

static int stopped(fit_impl *im, resim_error *err)
{
    if (im->status == RESIM_EINVAL)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "the residual function returned a value that is not finite");
    return resim_error_set(err, im->status, NULL, 0, "the residual function failed");
}

/*
 * Fits the free parameters (all, or all but im->held) from z0 (q values) and
 * leaves the solution in zout and its objective in *s; *s0 gets the
 * objective at z0 when s0 is not NULL. Returns RESIM_OK or the function's
 * status.
 */
static int fit_from(fit_impl *im, const resim_fit_options *opt, const double *z0, double *zout,
                    double *s, double *s0, resim_error *err)
{
    int profile = im->held < im->w->p;
    gsl_multifit_nlinear_workspace *ws = profile ? im->prof : im->full;
    gsl_multifit_nlinear_fdf *fdf = profile ? &im->fdf_prof : &im->fdf_full;
    gsl_vector *x = profile ? im->x_prof : im->x_full;
    size_t q = fdf->p;
    for (size_t k = 0; k < q; k++)
        gsl_vector_set(x, k, z0[k]);
    im->status = 0;
    gsl_multifit_nlinear_init(x, fdf, ws);
    if (im->status != 0)
        return stopped(im, err);
    if (s0 != NULL)
        *s0 = sum_squares(gsl_multifit_nlinear_residual(ws));
    int info;
    /* GSL_EMAXITER and GSL_ENOPROG leave the best point reached; keep it. */
    gsl_multifit_nlinear_driver(opt->max_iter, opt->xtol, opt->gtol, 0.0, NULL, NULL, &info, ws);
    if (im->status != 0)
        return stopped(im, err);
    const gsl_vector *xz = gsl_multifit_nlinear_position(ws);
    for (size_t k = 0; k < q; k++)
        zout[k] = gsl_vector_get(xz, k);
    *s = sum_squares(gsl_multifit_nlinear_residual(ws));
    return RESIM_OK;
}

/* The profile objective with parameter im->held at x, from warm start zw (p-1 values). */
static int profile_at(fit_impl *im, const resim_fit_options *opt, double x, const double *zw,
                      double *zout, double *s, resim_error *err)
{
    resim_fit *w = im->w;
    im->held_value = x;
    if (w->p > 1)
        return fit_from(im, opt, zw, zout, s, NULL, err);
    /* Nothing left to fit: one evaluation. */
    w->runs++;
    im->theta[0] = x;
    int rc = im->f(im->theta, im->r, im->ctx);
    if (rc != 0) {
        im->status = rc;
        return stopped(im, err);
    }
    double sum = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (!isfinite(im->r[i])) {
            im->status = RESIM_EINVAL;
            return stopped(im, err);
        }
        sum += im->r[i] * im->r[i];
    }
    *s = sum;
    return RESIM_OK;
}

/* ------------------------------------------------------------ profiles */

/*
 * Where the profile of parameter j crosses the threshold between a (at or
 * under it, solution za) and b (above it): regula falsi with the Illinois
 * modification, warm-starting each fit from the inner end.
 */
static int crossing(fit_impl *im, const resim_fit_options *opt, double a, double sa, double b,
                    double sb, const double *za, double *out, resim_error *err)
{
    resim_fit *w = im->w;
    size_t j = im->held;
    double thr = w->threshold, tol = 1e-7 * (im->hi[j] - im->lo[j]);
    double fa = sa - thr, fb = sb - thr;
    size_t q = w->p - 1;
    memcpy(im->zside, za, q * sizeof *za);
    int side = 0;
    for (int it = 0; it < 60 && fabs(b - a) > tol; it++) {
        double c = b - fb * (b - a) / (fb - fa);
        if (!(c > fmin(a, b) && c < fmax(a, b)))
            c = 0.5 * (a + b);
        double sc;
        int rc = profile_at(im, opt, c, im->zside, im->zwarm, &sc, err);
        if (rc != RESIM_OK)
            return rc;
        double fc = sc - thr;
        if (fc <= 0) {
            a = c;
            fa = fc;
            memcpy(im->zside, im->zwarm, q * sizeof *im->zwarm);
            if (side == -1)
                fb *= 0.5;
            side = -1;
        } else {
            b = c;
            fb = fc;
            if (side == 1)
                fa *= 0.5;
            side = 1;
        }
    }
    /* The inner end: a value known to be under the threshold. */
    *out = a;
    return RESIM_OK;
}

/* The profile of parameter j over the grid, then its interval. */
static int profile_param(fit_impl *im, const resim_fit_options *opt, size_t j, resim_error *err)
{
    resim_fit *w = im->w;
    const size_t K = w->grid, p = w->p;
    double *xs = w->profile_x + j * K, *ss = w->profile_s + j * K;
    resim_fit_param *pr = &w->param[j];
    const double est = pr->estimate;
    im->held = j;
    for (size_t k = 0; k < K; k++) {
        xs[k] = k + 1 == K ? im->hi[j]
                           : im->lo[j] + (im->hi[j] - im->lo[j]) * (double)k / (double)(K - 1);
        ss[k] = NAN;
    }
    /* The other parameters' z at the estimate: the warm start on both sides. */
    double *zest = im->zstart;
    for (size_t k = 0, c = 0; k < p; k++)
        if (k != j)
            zest[c++] = im->zbest[k];
    size_t first_up = K; /* first grid index above the estimate */
    for (size_t k = 0; k < K; k++)
        if (xs[k] >= est) {
            first_up = k;
            break;
        }
    /* Walk up, then down, each fit starting where the previous one ended. */
    for (int dir = 0; dir < 2; dir++) {
        const double *warm = zest;
        for (size_t m = 0; m < K; m++) {
            size_t k;
            if (dir == 0) {
                if (first_up + m >= K)
                    break;
                k = first_up + m;
            } else {
                if (m >= first_up)
                    break;
                k = first_up - 1 - m;
            }
            int rc = profile_at(im, opt, xs[k], warm, im->zgrid + k * p, &ss[k], err);
            if (rc != RESIM_OK)
                return rc;
            warm = im->zgrid + k * p;
        }
    }
    for (size_t k = 0; k < K; k++)
        if (ss[k] < w->profile_min)
            w->profile_min = ss[k];
    double thr = w->threshold;
    pr->rise_lo = w->sse > 0 ? (ss[0] - w->sse) / w->sse : NAN;
    pr->rise_hi = w->sse > 0 ? (ss[K - 1] - w->sse) / w->sse : NAN;
    pr->identified = 0;
    for (size_t k = 0; k < K; k++)
        if (ss[k] > thr)
            pr->identified = 1;
    pr->lower = pr->upper = NAN;
    pr->lower_at_bound = pr->upper_at_bound = 1;
    if (!pr->identified)
        return RESIM_OK;
    /* Upper end: the first grid point above the threshold going up. */
    pr->upper = im->hi[j];
    for (size_t k = first_up; k < K; k++)
        if (ss[k] > thr) {
            double a = k == first_up ? est : xs[k - 1];
            double sa = k == first_up ? w->sse : ss[k - 1];
            const double *za = k == first_up ? zest : im->zgrid + (k - 1) * p;
            int rc = crossing(im, opt, a, sa, xs[k], ss[k], za, &pr->upper, err);
            if (rc != RESIM_OK)
                return rc;
            pr->upper_at_bound = 0;
            break;
        }
    pr->lower = im->lo[j];
    for (size_t m = 0; m < first_up; m++) {
        size_t k = first_up - 1 - m;
        if (ss[k] > thr) {
            double a = m == 0 ? est : xs[k + 1];
            double sa = m == 0 ? w->sse : ss[k + 1];
            const double *za = m == 0 ? zest : im->zgrid + (k + 1) * p;
            int rc = crossing(im, opt, a, sa, xs[k], ss[k], za, &pr->lower, err);
            if (rc != RESIM_OK)
                return rc;
            pr->lower_at_bound = 0;
            break;
        }
    }
    return RESIM_OK;
}

/* ------------------------------------------------------------ solve */

static int check_options(const resim_fit *w, const double *lo, const double *hi,
                         const resim_fit_options *o, resim_error *err)
{
    for (size_t j = 0; j < w->p; j++)
        if (!isfinite(lo[j]) || !isfinite(hi[j]) || !(lo[j] < hi[j]))
            return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                                   "parameter %zu: bounds must be finite with LO < HI", j + 1);
    if (o->starts < 1)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0, "a fit needs at least one start");
    if (o->profiles && o->profile_points < 2)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "a profile needs at least 2 grid points");
    if (!(o->level > 0 && o->level < 1))
        return resim_error_set(err, RESIM_EINVAL, NULL, 0, "the level must be in (0, 1)");
    if (o->max_iter < 1 || !(o->xtol >= 0) || !(o->gtol >= 0) || !(o->h_df > 0) ||
        !(o->floor_rel >= 0))
        return resim_error_set(err, RESIM_EINVAL, NULL, 0, "bad solver tolerances");
    return RESIM_OK;
}

static int alloc_gsl(fit_impl *im, const resim_fit_options *opt, resim_error *err)
{
    resim_fit *w = im->w;
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    par.trs = gsl_multifit_nlinear_trs_lm;
    par.h_df = opt->h_df;
    im->fdf_full = (gsl_multifit_nlinear_fdf){
        .f = gsl_residuals, .df = NULL, .fvv = NULL, .n = w->n, .p = w->p, .params = im};
    im->full = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, w->n, w->p);
    im->x_full = gsl_vector_alloc(w->p);
    if (im->full == NULL || im->x_full == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    if (opt->profiles && w->p > 1) {
        im->fdf_prof = im->fdf_full;
        im->fdf_prof.p = w->p - 1;
        im->prof = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, w->n, w->p - 1);
        im->x_prof = gsl_vector_alloc(w->p - 1);
        if (im->prof == NULL || im->x_prof == NULL)
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    }
    return RESIM_OK;
}

/* The multi-start fit: the best of opt->starts shifted Sobol points. */
static int multistart(fit_impl *im, const resim_fit_options *opt, resim_error *err)
{
    resim_fit *w = im->w;
    const size_t p = w->p;
    gsl_qrng *sobol = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned int)p);
    if (sobol == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    double u[RESIM_FIT_MAX_PARAMS], shift[RESIM_FIT_MAX_PARAMS];
    for (size_t j = 0; j < p; j++)
        shift[j] = shift_of(opt->seed, j);
    double best = HUGE_VAL, s0max = 0;
    int rc = RESIM_OK;
    im->held = p;
    for (size_t k = 0; k < opt->starts && rc == RESIM_OK; k++) {
        gsl_qrng_get(sobol, u);
        for (size_t j = 0; j < p; j++) {
            double v = u[j] + shift[j];
            v -= floor(v);
            /* The middle 90 % of the box: the transform is flat near a bound. */
            im->zstart[j] = logit(0.05 + 0.9 * v);
        }
        double s, s0;
        rc = fit_from(im, opt, im->zstart, im->zwarm, &s, &s0, err);
        if (rc != RESIM_OK)
            break;
        if (s0 > s0max)
            s0max = s0;
        if (s < best) {
            best = s;
            w->best_start = k;
            memcpy(im->zbest, im->zwarm, p * sizeof *im->zbest);
            const gsl_vector *f = gsl_multifit_nlinear_residual(im->full);
            for (size_t i = 0; i < w->n; i++)
                w->resid[i] = gsl_vector_get(f, i);
        }
    }
    gsl_qrng_free(sobol);
    if (rc != RESIM_OK)
        return rc;
    w->sse = best;
    w->floor = opt->floor_rel * (s0max > best ? s0max - best : 0);
    for (size_t j = 0; j < p; j++) {
        resim_fit_param *pr = &w->param[j];
        pr->estimate = from_z(im->zbest[j], im->lo[j], im->hi[j]);
        pr->lower = pr->upper = pr->rise_lo = pr->rise_hi = NAN;
        pr->lower_at_bound = pr->upper_at_bound = 0;
        pr->identified = 1;
    }
    return RESIM_OK;
}

int resim_fit_solve(resim_fit *w, resim_fit_fn f, void *ctx, const double *lo, const double *hi,
                    const resim_fit_options *opt, resim_error *err)
{
    fit_impl *im = w->impl;
    int rc = check_options(w, lo, hi, opt, err);
    if (rc != RESIM_OK)
        return rc;
    im->w = w;
    im->f = f;
    im->ctx = ctx;
    im->lo = lo;
    im->hi = hi;
    w->runs = 0;
    w->best_start = 0;
    w->profile_min = NAN;
    free(w->profile_x);
    free(w->profile_s);
    free(im->zgrid);
    w->profile_x = w->profile_s = im->zgrid = NULL;
    w->grid = opt->profiles ? opt->profile_points : 0;
    if (w->grid > 0) {
        w->profile_x = malloc(w->p * w->grid * sizeof *w->profile_x);
        w->profile_s = malloc(w->p * w->grid * sizeof *w->profile_s);
        im->zgrid = malloc(w->grid * w->p * sizeof *im->zgrid);
        if (w->profile_x == NULL || w->profile_s == NULL || im->zgrid == NULL)
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    }
    if ((rc = alloc_gsl(im, opt, err)) == RESIM_OK && (rc = multistart(im, opt, err)) == RESIM_OK) {
        double dof = (double)(w->n - w->p);
        /* The F-based threshold of a profile interval (Bates and Watts 1988, section 6.1). */
        w->fquantile = gsl_cdf_fdist_Pinv(opt->level, 1.0, dof);
        w->threshold = w->sse * (1.0 + w->fquantile / dof) + w->floor;
        if (w->grid > 0)
            w->profile_min = HUGE_VAL;
        for (size_t j = 0; rc == RESIM_OK && j < w->p && w->grid > 0; j++)
            rc = profile_param(im, opt, j, err);
    }
    free_gsl(im);
    im->held = w->p;
    return rc;
}

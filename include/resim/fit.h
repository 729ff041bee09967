/*
 * fit.h - bounded nonlinear least squares with profile intervals: fits
 * parameters between bounds to minimise a sum of squared residuals from a
 * caller's function, from several Sobol starting points, and brackets each
 * parameter by the profile of the objective (docs/fit.md).
 *
 * The module knows nothing of scenarios: the caller's residual function
 * runs whatever model it likes. It does no I/O and starts no threads.
 */
#ifndef RESIM_FIT_H
#define RESIM_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "resim/error.h"

/*
 * The caller's residuals: given parameters theta[p] on their own scale,
 * fills resid[n] (already weighted, e.g. sqrt(w_i) * (model_i - obs_i)) and
 * returns 0, or returns non-zero to stop the fit (the caller keeps its own
 * account of why). resid must be finite.
 */
typedef int (*resim_fit_fn)(const double *theta, double *resid, void *ctx);

/* Most free parameters: gsl_qrng_sobol's dimension limit. */
#define RESIM_FIT_MAX_PARAMS 40

typedef struct resim_fit_options {
    size_t starts;         /* starting points (Sobol, shifted by the seed); default 16 */
    uint64_t seed;         /* shifts the Sobol points (Cranley-Patterson); default 1 */
    size_t max_iter;       /* trust-region iterations per fit; default 200 */
    double xtol, gtol;     /* gsl_multifit_nlinear_driver tolerances; 1e-10, 1e-12 */
    double h_df;           /* finite-difference step, relative; default 1e-7 */
    int profiles;          /* compute profile intervals; default 1 */
    size_t profile_points; /* grid points across each parameter's bounds; default 21 */
    double level;          /* interval level; default 0.95 */
    double floor_rel;      /* rise below floor_rel times the objective's spread over
                              the starting points counts as none; default 1e-9 */
} resim_fit_options;

/* Fills o with the defaults above. */
void resim_fit_options_default(resim_fit_options *o);

/* What the fit found for one parameter (on its own scale). */
typedef struct resim_fit_param {
    double estimate;
    double lower, upper;     /* the interval; NaN without profiles or when not identified */
    int lower_at_bound;      /* the profile stays under the threshold down to LO */
    int upper_at_bound;      /* ... up to HI */
    int identified;          /* 0: the profile stays under the threshold across the whole grid */
    double rise_lo, rise_hi; /* (S_prof(bound) - S_min) / S_min at LO and HI; NaN if S_min = 0 */
} resim_fit_param;

/*
 * A fit's workspace and result. Allocated for n residuals and p
 * parameters; every array below is owned by it.
 */
typedef struct resim_fit {
    size_t n, p;
    resim_fit_param *param;   /* [p] */
    double *resid;            /* [n] residuals at the estimate, as the function returned them */
    double sse;               /* S_min: the smallest sum of squared residuals found */
    double fquantile;         /* F_{1, n-p} quantile at the level */
    double threshold;         /* S_min (1 + fquantile / (n - p)) + floor */
    double floor;             /* floor_rel times the spread of S over the starting points */
    size_t runs;              /* calls of the residual function */
    size_t best_start;        /* which starting point gave the estimate (0-based) */
    size_t grid;              /* profile grid points per parameter (0 without profiles) */
    double *profile_x;        /* [p][grid] the held value */
    double *profile_s;        /* [p][grid] the profile objective there */
    double profile_min;       /* the smallest profile objective on any grid; below sse
                                 means the starts missed a better fit (use more) */
    void *impl;               /* GSL workspaces (private) */
} resim_fit;

/*
 * Allocates a fit for n residuals and 1 <= p <= RESIM_FIT_MAX_PARAMS
 * parameters, n > p. Returns NULL (and fills err) on bad sizes or no memory.
 */
resim_fit *resim_fit_alloc(size_t n, size_t p, resim_error *err);
void resim_fit_free(resim_fit *w); /* accepts NULL */

/*
 * Minimises S(theta) = sum f(theta)_i^2 over lo[j] < theta[j] < hi[j].
 *
 * Each parameter is mapped to an unbounded z by theta = lo + (hi - lo) /
 * (1 + exp(-z)); gsl_multifit_nlinear's trust region (Levenberg-Marquardt,
 * forward-difference Jacobian) is run from each of opt->starts points of a
 * Sobol sequence over the middle 90 % of the box, shifted modulo 1 by a
 * vector fixed by opt->seed; the best is kept (the earliest on ties).
 *
 * With profiles, each parameter j is then held on a grid of
 * opt->profile_points values from lo[j] to hi[j] while the others are
 * fitted again (warm-started outward from the estimate), and the interval is
 * where the profile S_j(x) stays at or below the threshold
 * S_min (1 + F_{1,n-p,level} / (n - p)) (plus the floor): each end is found
 * by Brent's method between the estimate's side of the first grid point
 * above the threshold and that point. A side with no grid point above the
 * threshold ends at the bound; a parameter with none on either side is
 * "not identified".
 *
 * Returns RESIM_OK, RESIM_EINVAL for bad bounds or options, or the
 * function's own non-zero status when it stopped the fit (err then says
 * where). The same inputs always give the same result.
 */
int resim_fit_solve(resim_fit *w, resim_fit_fn f, void *ctx, const double *lo, const double *hi,
                    const resim_fit_options *opt, resim_error *err);

#endif

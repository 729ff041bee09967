/*
 * sensitivity.h - variance-based (Sobol) and elementary-effect (Morris)
 * sensitivity indices from the outputs of a Saltelli or Morris design, with
 * bootstrap percentile intervals.
 *
 * Pure: no I/O, no global state. Random numbers come from the generator the
 * caller passes; the same generator state gives the same intervals.
 */
#ifndef RESIM_SENSITIVITY_H
#define RESIM_SENSITIVITY_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

#include "resim/error.h"

/* Names of the estimators, for output files and metadata. */
#define RESIM_SOBOL_S1_ESTIMATOR "saltelli2010"
#define RESIM_SOBOL_ST_ESTIMATOR "jansen1999"
#define RESIM_SOBOL_S2_ESTIMATOR "saltelli2002"
#define RESIM_MORRIS_ESTIMATOR "morris1991"

/*
 * Outputs of a Saltelli design (see resim_design_alloc_saltelli) for m
 * measures, arranged block by block: y[(g n + j) m + q] is measure q of base
 * sample j in block g, where block 0 is A, 1 is B, 2 .. k+1 are AB_1 ..
 * AB_k and, with second order, k+2 .. 2k+1 are BA_1 .. BA_k (OpenTURNS'
 * order for the same matrices). n >= 2 base samples, k >= 1 keys.
 *
 * Estimators, on y centred by the mean c of all its (k+2) n (or (2k+2) n)
 * values of the measure, with V the sample variance of f(A) (divisor n-1):
 *
 *   S1_i = sum_j f(B)_j (f(AB_i)_j - f(A)_j) / (n - 1) / V
 *          (Saltelli et al. 2010, table 2 (b); Sobol' 2007)
 *   ST_i = sum_j (f(A)_j - f(AB_i)_j)^2 / (2n - 1) / V      (Jansen 1999)
 *   S2_ij = (sum_j f(AB_j') f(BA_i) / (n - 1) - sum_j f(A) f(B) / n) / V
 *           - S1_i - S1_j'   for i < j' (closed second-order index less
 *                            the first-order ones; Saltelli 2002)
 *
 * The divisors n-1 and 2n-1 (rather than n and 2n) are those of OpenTURNS
 * (MauntzKucherenkoSensitivityAlgorithm for S1 and S2,
 * JansenSensitivityAlgorithm for ST), so results agree with it to rounding;
 * they differ from the 1/n forms by a factor 1 + O(1/n).
 *
 * A measure with V = 0 (or a NaN among its values) has NaN indices.
 */
typedef struct resim_sobol_input {
    const double *y;
    size_t n, k, m;
    int second_order;
} resim_sobol_input;

/* Point estimates and intervals, all [m][k] (s2: [m][k][k], entry (i, j)
 * with i < j; the rest NaN). Owned by the result. */
typedef struct resim_sobol_result {
    size_t n, k, m;
    int second_order;
    size_t bootstrap;
    double confidence;
    double *variance;              /* [m] V */
    double *s1, *s1_lo, *s1_hi;
    double *st, *st_lo, *st_hi;
    double *s2, *s2_lo, *s2_hi;    /* NULL without second order */
} resim_sobol_result;

/*
 * Computes the indices of every measure and, when bootstrap > 0, their
 * percentile intervals at the given confidence (0.95 for 2.5 % and
 * 97.5 %): `bootstrap` resamples of the n base samples with replacement
 * (the same j drawn in every block), the estimators above applied to each
 * resample (centred on its own mean), and the quantiles of the resampled
 * indices by linear interpolation between order statistics
 * (gsl_stats_quantile_from_sorted_data). Resample b draws its n indices with
 * gsl_rng_uniform_int(r, n) in order, after resample b-1; every measure
 * uses the same resamples, so a measure's intervals do not depend on which
 * other measures are analysed with it. r may be NULL when bootstrap is 0.
 *
 * Returns NULL with err set on bad arguments or no memory. Time
 * O((bootstrap + 1) n k m) (k^2 with second order); memory
 * O(bootstrap k m) besides the result.
 */
resim_sobol_result *resim_sobol_estimate(const resim_sobol_input *in, gsl_rng *r,
                                         size_t bootstrap, double confidence, resim_error *err);
void resim_sobol_result_free(resim_sobol_result *res); /* accepts NULL */

/*
 * Outputs of a Morris design: r trajectories of k+1 points each, point s
 * of trajectory t having key values x[(t (k+1) + s) k + i] and measures
 * y[(t (k+1) + s) m + q]. Consecutive points of a trajectory must differ in
 * exactly one key, and every key must move once per trajectory.
 *
 * The elementary effect of the key moved between points s-1 and s is
 * EE = (y_s - y_(s-1)) / (+-delta), the sign that of the key's change and
 * delta the step as a fraction of the key's range (levels / (2 (levels -
 * 1)) for resim's Morris design), so effects are per unit of the scaled
 * range as in Morris (1991) and SALib. Per key and measure:
 *   mu = mean EE, mu* = mean |EE| (Campolongo et al. 2007),
 *   sigma = standard deviation of EE (divisor r-1; NaN when r = 1).
 */
typedef struct resim_morris_input {
    const double *x, *y;
    size_t r, k, m;
    double delta;
} resim_morris_input;

typedef struct resim_morris_result {
    size_t r, k, m;
    size_t bootstrap;
    double confidence;
    double *mu, *mu_star, *sigma;          /* [m][k] */
    double *mu_star_lo, *mu_star_hi;       /* [m][k], NaN without bootstrap */
} resim_morris_result;

/*
 * Computes mu, mu* and sigma, and a bootstrap percentile interval for mu*
 * (trajectories resampled with replacement, as for Sobol above). A
 * trajectory that is not one-at-a-time is an error naming it (0-based)
 * and its step. Returns NULL with err set on error.
 */
resim_morris_result *resim_morris_estimate(const resim_morris_input *in, gsl_rng *r,
                                           size_t bootstrap, double confidence, resim_error *err);
void resim_morris_result_free(resim_morris_result *res); /* accepts NULL */

#endif

/*
 * ensemble.h - Monte Carlo replicates of a scenario (docs/model.md section 8).
 *
 * Replicate r of seed s draws its uncertain levers, its lots and its list
 * process from streams fixed by (s, r, purpose) alone, so a replicate gives
 * the same numbers whichever thread, rank or shard computes it.
 */
#ifndef RESIM_ENSEMBLE_H
#define RESIM_ENSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#include "resim/model.h"
#include "resim/scenario.h"
#include "resim/uncertain.h"

/* The entries of a raw scenario whose values are distributions. */
typedef struct resim_uncertain {
    size_t n;
    size_t *entry;     /* index into the INI's entries */
    resim_dist *dist;
} resim_uncertain;

/* Finds and validates every distribution-valued entry of ini. */
int resim_uncertain_scan(const resim_ini *ini, const resim_data *d, resim_uncertain *u,
                         resim_error *err);
void resim_uncertain_free(resim_uncertain *u); /* accepts a zeroed record */

/* Writes each uncertain entry's central value into ini (for a deterministic run). */
int resim_uncertain_central(resim_ini *ini, const resim_uncertain *u, resim_error *err);

/* Computes whole replicates; one per thread. */
typedef struct resim_worker resim_worker;

/*
 * A worker for replicates of scenarios over data d shaped like `shape`
 * (elements, importers), which it needs only during the call. d must
 * outlive the worker.
 */
resim_worker *resim_worker_alloc(const resim_data *d, const resim_scenario *shape,
                                 resim_grouping by, resim_error *err);
void resim_worker_free(resim_worker *w); /* accepts NULL */

/*
 * Runs replicate r of seed of the raw scenario `base` (whose uncertain
 * entries u were found by resim_uncertain_scan) into out[t * cells + cell]
 * for months t = 0 .. months-1 (cells = elements x groups x RESIM_NMETRICS),
 * and the drawn lever values into draws[u->n]. A drawn value the scenario
 * rejects is an error naming the replicate and key.
 */
int resim_worker_run(resim_worker *w, const resim_ini *base, const resim_uncertain *u,
                     uint64_t seed, uint64_t r, double *out, double *draws, resim_error *err);

/*
 * Summary of one cell over replicates: the mean, the quantiles q[0..nq-1]
 * (linear interpolation between order statistics, Hyndman-Fan type 7, as
 * gsl_stats_quantile_from_sorted_data) and the share of values below
 * `threshold`. NaN values (cover_days where demand is 0) are left out; if
 * all are NaN the results are NaN. Sorts x in place.
 */
void resim_ensemble_cell(double *x, size_t n, const double *q, size_t nq, double threshold,
                         double *mean, double *quant, double *below);

#endif

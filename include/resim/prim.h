/*
 * prim.h - scenario discovery with PRIM, the Patient Rule Induction Method
 * (Friedman and Fisher 1999, Statistics and Computing 9, 123-143): a box of
 * key ranges where the points of interest (e.g. runs with availability
 * below 0.8) are dense, found by peeling and pasting.
 *
 * Pure: no I/O, no global state, no randomness.
 */
#ifndef RESIM_PRIM_H
#define RESIM_PRIM_H

#include <stddef.h>

#include "resim/error.h"

typedef struct resim_prim_options {
    double alpha;       /* fraction of the box's points one peel removes (default 0.05) */
    double paste_alpha; /* fraction of the box's points one paste adds (default 0.05; 0: none) */
    double min_mass;    /* peeling stops before the box holds less than this fraction of
                           all points (default 0.05) */
    double density;     /* the chosen box is the first peeled box with at least this
                           density (default 0.8) */
} resim_prim_options;

/* Fills o with the defaults above. */
void resim_prim_defaults(resim_prim_options *o);

typedef enum { RESIM_PRIM_START, RESIM_PRIM_PEEL, RESIM_PRIM_PASTE } resim_prim_phase;

/* "start", "peel" or "paste". */
const char *resim_prim_phase_name(resim_prim_phase phase);

/* One box: limits lo[k] <= x <= hi[k] (inclusive) and how it fares. */
typedef struct resim_prim_box {
    resim_prim_phase phase;
    size_t inside;      /* points in the box */
    size_t interest;    /* of which of interest */
    double coverage;    /* interest / all points of interest */
    double density;     /* interest / inside */
    double mass;        /* inside / all points */
    size_t restricted;  /* keys whose limits are inside the data's range */
    const double *lo, *hi; /* [k], owned by the result */
} resim_prim_box;

typedef struct resim_prim_result {
    size_t n, k;
    size_t total_interest;  /* points of interest among the n */
    double *data_lo, *data_hi; /* [k] the data's range per key */
    size_t nsteps;
    resim_prim_box *step;   /* [nsteps]: the start box, the peels, then the pastes of the chosen box */
    size_t peeled;          /* the peeled box chosen (first with density >= threshold); SIZE_MAX if none */
    size_t chosen;          /* the chosen box after pasting (the last paste, or `peeled`);
                               SIZE_MAX if none */
    resim_prim_box whole;   /* the chosen box's limits applied anew to all n points */
    double *storage;        /* limits of every step */
} resim_prim_result;

/*
 * Runs PRIM on n points of k keys, x[p k + i], with interest[p] non-zero
 * for the points of interest.
 *
 * Peeling: from the box spanning the data, each step considers, for every
 * key, removing the alpha fraction (at least one point) of the box's points
 * with the lowest values (the box's lower limit becomes the value at
 * order statistic ceil(alpha m), m points in the box; points tied with it
 * stay) or with the highest; with ties that leave nothing to remove, the
 * whole lowest (highest) value goes. It takes the peel with the largest
 * gain in density per point removed (Friedman and Fisher's criterion; ties
 * go to the first key, lower side first) whose box keeps at least min_mass
 * of all points. Peeling stops when no peel is left or the box holds only
 * points of interest.
 *
 * The chosen box is the first peeled box (largest coverage) with density >=
 * options->density. Pasting then widens it one key side at a time by the
 * paste_alpha fraction of its points nearest outside that side (with ties),
 * taking the paste with the highest density while that density is not
 * below the box's; a side pasted past the data's range is released.
 *
 * Returns NULL with err set on bad arguments or no memory; no box reaching
 * the threshold is not an error (peeled and chosen are SIZE_MAX).
 * Time O(k n log n + steps k n); memory O(k n).
 */
resim_prim_result *resim_prim_run(const double *x, const unsigned char *interest, size_t n,
                                  size_t k, const resim_prim_options *options, resim_error *err);
void resim_prim_result_free(resim_prim_result *res); /* accepts NULL */

#endif

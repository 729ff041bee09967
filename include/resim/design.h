/*
 * design.h - experimental designs for sweeps: the points of a full-factorial
 * grid, a Latin hypercube or a Sobol sequence over a box of parameter ranges,
 * each point computed from its index.
 *
 * Pure: no I/O, no global state. A point index runs over 0 .. size-1 and
 * always gives the same values, whoever asks and in whatever order, so that
 * threads, MPI ranks and Slurm shards can each compute their own points.
 */
#ifndef RESIM_DESIGN_H
#define RESIM_DESIGN_H

#include <stddef.h>

#include "resim/error.h"

typedef enum {
    RESIM_DESIGN_GRID,  /* full factorial, levels[k] evenly spaced values per key */
    RESIM_DESIGN_LHS,   /* Latin hypercube of `points` points, seeded */
    RESIM_DESIGN_SOBOL  /* the first `points` points of gsl_qrng_sobol */
} resim_design_kind;

/* gsl_qrng_sobol supports at most this many dimensions; a larger request
 * there gives an unusable generator, here an error. */
#define RESIM_SOBOL_MAX_DIMS 40

typedef struct resim_design resim_design;

/*
 * Allocates a design over dims keys, key k ranging over [lo[k], hi[k]]
 * (lo[k] <= hi[k], both finite).
 *
 * - GRID: levels[k] >= 1 values per key, lo + j (hi - lo) / (levels - 1) for
 *   j = 0 .. levels-1 (hi exactly for the last; lo alone when levels is 1).
 *   Points enumerate the full product in row-major order: the LAST key
 *   varies fastest, like nested loops over the keys in the order given
 *   (Python's itertools.product). `points` and `seed` are ignored.
 * - LHS: `points` >= 1 points. Key k's range is cut into `points` equal
 *   strata; a permutation per key assigns every point its own stratum, and
 *   the value lies at a uniform random position inside it. Randomness comes
 *   from a gsl_rng_mt19937 seeded with `seed` (GSL keeps 32 bits of it, and
 *   seed 0 is GSL's default seed 4357): first one gsl_ran_shuffle per key,
 *   in key order, then the positions point by point, key by key. The
 *   permutations and positions are kept: O(points x dims) memory.
 * - SOBOL: `points` >= 1 points, point i being the (i+1)-th draw of
 *   gsl_qrng_sobol (GSL skips the origin) scaled to [lo, hi]; at most
 *   RESIM_SOBOL_MAX_DIMS keys. levels and seed are ignored.
 *
 * levels may be NULL except for GRID. Returns NULL on error (too many
 * dimensions, an empty range, a grid too large for size_t, no memory),
 * with err filled. The caller owns the design; it copies lo, hi and levels.
 */
resim_design *resim_design_alloc(resim_design_kind kind, size_t dims, const double *lo,
                                 const double *hi, const size_t *levels, size_t points,
                                 unsigned long seed, resim_error *err);
void resim_design_free(resim_design *d); /* accepts NULL */

/* Number of points and of keys. */
size_t resim_design_size(const resim_design *d);
size_t resim_design_dims(const resim_design *d);
resim_design_kind resim_design_kind_of(const resim_design *d);

/*
 * A cursor holds what one caller (one thread) needs to compute points
 * cheaply: for SOBOL, a generator that steps forward, so visiting indices in
 * increasing order costs O(dims) per index step. Grid and LHS need no
 * cursor state but accept one. Not shared between threads.
 */
typedef struct resim_design_cursor resim_design_cursor;

resim_design_cursor *resim_design_cursor_alloc(const resim_design *d, resim_error *err);
void resim_design_cursor_free(resim_design_cursor *c); /* accepts NULL */

/*
 * Writes the values of point `index` (< size) to x[0 .. dims-1]. c may be
 * NULL for GRID and LHS; SOBOL needs a cursor of this design. Returns
 * RESIM_OK, or RESIM_EINVAL for an index out of range or a missing cursor.
 * The design is only read, so threads may share it, each with its cursor.
 */
int resim_design_point(const resim_design *d, resim_design_cursor *c, size_t index, double *x,
                       resim_error *err);

/* "grid", "lhs" or "sobol". */
const char *resim_design_kind_name(resim_design_kind kind);

#endif

/*
 * design.h - experimental designs for sweeps: the points of a full-factorial
 * grid, a Latin hypercube, a Sobol sequence, the Saltelli scheme for Sobol
 * indices or Morris trajectories over a box of parameter ranges, each point
 * computed from its index.
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
    RESIM_DESIGN_SOBOL, /* the first `points` points of gsl_qrng_sobol */
    RESIM_DESIGN_SALTELLI, /* matrices A, B, AB_i (and BA_i) for Sobol indices */
    RESIM_DESIGN_MORRIS    /* one-at-a-time trajectories for Morris screening */
} resim_design_kind;

/* gsl_qrng_sobol supports at most this many dimensions; a larger request
 * there gives an unusable generator, here an error. */
#define RESIM_SOBOL_MAX_DIMS 40
/* The Saltelli scheme draws A and B from one Sobol sequence over 2k
 * dimensions, so it takes at most half as many keys. */
#define RESIM_SALTELLI_MAX_DIMS (RESIM_SOBOL_MAX_DIMS / 2)

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
 *   the value lies at a uniform random position inside it. Both come from
 *   Philox-4x32-10 keyed by `seed` (all 64 bits count): key k's permutation
 *   is a 6-round Feistel network over the smallest even number of bits that
 *   holds points - 1, cycle-walked into [0, points), and the position of
 *   point i is 53 bits of Philox at (i, k). Point i is computed from (seed,
 *   k, i) alone: O(dims) memory and no start-up cost for any size, and the
 *   same value whichever shard, rank or thread asks for it.
 * - SOBOL: `points` >= 1 points, point i being the (i+1)-th draw of
 *   gsl_qrng_sobol (GSL skips the origin) scaled to [lo, hi]; at most
 *   RESIM_SOBOL_MAX_DIMS keys. levels and seed are ignored.
 *
 * SALTELLI and MORRIS have their own constructors below; given here they
 * are an error.
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

/* "grid", "lhs", "sobol", "saltelli" or "morris". */
const char *resim_design_kind_name(resim_design_kind kind);

/*
 * The Saltelli scheme (Saltelli et al. 2010, Comput. Phys. Commun. 181,
 * 259-270) for first-order and total Sobol indices over dims <=
 * RESIM_SALTELLI_MAX_DIMS keys, with n >= 2 base samples.
 *
 * Base sample j (0-based) is draw j+2 of gsl_qrng_sobol over 2 dims
 * dimensions (GSL skips the origin; the first draw, (0.5, ..., 0.5), is
 * skipped too, as it would make A and B equal): its first dims coordinates are row j
 * of matrix A, the last dims row j of matrix B, each scaled to [lo, hi].
 * AB_i is A with key i's column taken from B; BA_i (only with
 * second_order) is B with key i's column taken from A.
 *
 * The design has G = dims + 2 points per base sample (2 dims + 2 with
 * second_order), n G in all, grouped by base sample: point index
 * p = j G + g, with g in the order A, AB_1 .. AB_dims, [BA_1 .. BA_dims,]
 * B (SALib's order). resim_design_role names the matrix of every point.
 * Deterministic: there is no seed. Visiting points in increasing order
 * costs O(dims) per point through a cursor (which is required).
 */
resim_design *resim_design_alloc_saltelli(size_t dims, const double *lo, const double *hi,
                                          size_t n, int second_order, resim_error *err);

/*
 * Morris trajectories (Morris 1991, Technometrics 33, 161-174; the
 * trajectory construction of Campolongo, Cariboni and Saltelli 2007) over
 * dims keys: `trajectories` >= 1 trajectories of dims + 1 points each, on
 * a grid of `levels` values per key (levels even, >= 2), with steps of
 * Delta = levels / (2 (levels - 1)) of each key's range.
 *
 * Trajectory r draws, from the Philox stream (seed, r, RESIM_STREAM_MORRIS):
 * a permutation of the keys (gsl_ran_shuffle), then per key in key order a
 * direction (+1 or -1, gsl_rng_uniform_int(r, 2)) and a base level
 * l in 0 .. levels/2 - 1 (gsl_rng_uniform_int). Its start point has key i at
 * l / (levels - 1) for direction +1 and l / (levels - 1) + Delta for -1
 * (scaled to [lo, hi]); step s = 1 .. dims moves key perm[s-1] by
 * +-Delta. Every value lies on the grid of levels values from lo to hi.
 *
 * Point index p = r (dims + 1) + s. Trajectories do not depend on each
 * other, so R and the seed fix them whoever asks; the draws are kept
 * (O(trajectories x dims) memory). A cursor is optional.
 */
resim_design *resim_design_alloc_morris(size_t dims, const double *lo, const double *hi,
                                        size_t trajectories, size_t levels, unsigned long seed,
                                        resim_error *err);

/* Delta of a Morris design on `levels` levels, as a fraction of each range. */
double resim_design_morris_delta(size_t levels);

/*
 * What a point is for the analysis that reads it back. For SALTELLI:
 * group = base sample j, matrix = "A", "B", "AB<i>" or "BA<i>" (i 1-based,
 * the key taken from the other matrix), key = that key 0-based (SIZE_MAX
 * for A and B). For MORRIS: group = trajectory r, step = s (0 .. dims),
 * key = the key step s moved (SIZE_MAX for s = 0), matrix "". For the
 * other designs: group = index, step 0, key SIZE_MAX, matrix "".
 */
typedef struct resim_design_role {
    size_t group;
    size_t step;
    size_t key;
    char matrix[24];
} resim_design_role;

int resim_design_role_of(const resim_design *d, size_t index, resim_design_role *role,
                         resim_error *err);

#endif

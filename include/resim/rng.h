/*
 * rng.h - counter-based random streams (Random123 Philox-4x32-10 behind the
 * gsl_rng interface). A stream is fixed by (seed, replicate, purpose) alone,
 * so results never depend on threads, ranks or shards, and no two
 * replicates share a stream (no 32-bit seed truncation as with gsl_rng_set).
 */
#ifndef RESIM_RNG_H
#define RESIM_RNG_H

#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

/* What a stream is drawn for; each purpose of a replicate has its own. */
typedef enum {
    RESIM_STREAM_LEVERS = 1, /* uncertain levers, drawn once per replicate */
    RESIM_STREAM_LOTS = 2,   /* lot decision months and approvals */
    RESIM_STREAM_LISTS = 3,  /* the random list process */
    RESIM_STREAM_MORRIS = 4, /* a Morris design's trajectory (replicate = trajectory) */
    RESIM_STREAM_BOOTSTRAP = 5 /* resampling for analysis intervals */
} resim_stream;

/* Name of the generator, for run metadata. */
extern const char resim_rng_name[];

/* A generator to be positioned with resim_rng_reset; free with gsl_rng_free. */
gsl_rng *resim_rng_alloc(void);

/* Positions r at the start of the stream (seed, replicate, purpose). */
void resim_rng_reset(gsl_rng *r, uint64_t seed, uint64_t replicate, resim_stream purpose);

/* Whether r comes from resim_rng_alloc (and so can be read in bulk). */
int resim_rng_bulk(const gsl_rng *r);

/* The next n uniforms of r from resim_rng_alloc, exactly those n calls of
 * gsl_rng_uniform would give, without advancing r; returns n. */
size_t resim_rng_peek(const gsl_rng *r, double *u, size_t n);

/* Advances r from resim_rng_alloc past n uniforms, exactly as n calls of
 * gsl_rng_uniform would. */
void resim_rng_advance(gsl_rng *r, size_t n);

/* How many uniforms r from resim_rng_alloc has given since its reset. */
uint64_t resim_rng_position(const gsl_rng *r);

#endif

/* rng.c - Philox-4x32-10 streams through Random123's GSL adapter. */
#include "resim/rng.h"

#include <Random123/philox.h>
#include <Random123/gsl_microrng.h>

/* Defines gsl_rng_resim_philox and resim_philox_reset. The adapter's own
 * code narrows integers on purpose; its warnings are not ours to fix. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
GSL_MICRORNG(resim_philox, philox4x32); /* 10 rounds, the default */
#pragma GCC diagnostic pop

const char resim_rng_name[] = "philox4x32-10 (Random123), key = seed, counter = (replicate, purpose)";

gsl_rng *resim_rng_alloc(void) { return gsl_rng_alloc(gsl_rng_resim_philox); }

void resim_rng_reset(gsl_rng *r, uint64_t seed, uint64_t replicate, resim_stream purpose)
{
    /* The adapter counts draws in the last counter word; the rest is ours. */
    philox4x32_ctr_t c = {{(uint32_t)replicate, (uint32_t)(replicate >> 32), (uint32_t)purpose, 0}};
    philox4x32_key_t k = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    resim_philox_reset(r, c, k);
}

/*
 * Bulk uniforms. A stream's position is the adapter's state: the block
 * counter n (the next block to compute) and elem, how many outputs of the
 * last block (r) are still to be handed out, last word first. The block
 * function below is Random123's philox4x32 with 10 rounds, written over
 * arrays of blocks so that the compiler can run several blocks in vector
 * registers; tests/test_ensemble.c checks it against gsl_rng_uniform.
 */
#define PEEK_BLOCKS 32

/* Also compiled for AVX2 and picked at load time: integer arithmetic, the
 * same words either way. */
#if defined(__GNUC__) && defined(__x86_64__)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

/* The uniforms of blocks n0 .. n0 + nb - 1, in the adapter's order (each
 * block's last word first), divided by 2^32 as gsl_rng_uniform divides. */
static CLONES void philox_blocks(const resim_philox_state *st, unsigned long long n0, size_t nb,
                                 double *u)
{
    uint32_t x0[PEEK_BLOCKS], x1[PEEK_BLOCKS], x2[PEEK_BLOCKS], x3[PEEK_BLOCKS];
    for (size_t j = 0; j < nb; j++) {
        x0[j] = st->ctr.v[0];
        x1[j] = st->ctr.v[1];
        x2[j] = st->ctr.v[2];
        x3[j] = st->ctr.v[3] | (uint32_t)(n0 + j);
    }
    uint32_t k0 = st->key.v[0], k1 = st->key.v[1];
    for (int round = 0; round < 10; round++) {
        for (size_t j = 0; j < nb; j++) {
            const uint64_t p0 = (uint64_t)PHILOX_M4x32_0 * x0[j];
            const uint64_t p1 = (uint64_t)PHILOX_M4x32_1 * x2[j];
            const uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1[j] ^ k0;
            const uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3[j] ^ k1;
            x0[j] = y0;
            x1[j] = (uint32_t)p1;
            x2[j] = y2;
            x3[j] = (uint32_t)p0;
        }
        k0 += PHILOX_W32_0;
        k1 += PHILOX_W32_1;
    }
    for (size_t j = 0; j < nb; j++) {
        u[4 * j] = x3[j] / 4294967296.;
        u[4 * j + 1] = x2[j] / 4294967296.;
        u[4 * j + 2] = x1[j] / 4294967296.;
        u[4 * j + 3] = x0[j] / 4294967296.;
    }
}

size_t resim_rng_peek(const gsl_rng *r, double *u, size_t n)
{
    const resim_philox_state *st = r->state;
    size_t k = 0;
    for (int e = st->elem; e > 0 && k < n; e--)
        u[k++] = st->r.v[e - 1] / 4294967296.;
    unsigned long long b = st->n;
    double last[4 * PEEK_BLOCKS];
    while (k < n) {
        size_t nb = (n - k) / 4;
        nb = nb < PEEK_BLOCKS ? nb : PEEK_BLOCKS;
        if (nb > 0) { /* whole blocks straight into u */
            philox_blocks(st, b, nb, u + k);
            k += 4 * nb;
            b += nb;
            continue;
        }
        philox_blocks(st, b, 1, last); /* part of one block */
        for (size_t w = 0; k < n; w++)
            u[k++] = last[w];
        b++;
    }
    return k;
}

void resim_rng_advance(gsl_rng *r, size_t n)
{
    resim_philox_state *st = r->state;
    size_t from_last = n < (size_t)st->elem ? n : (size_t)st->elem;
    st->elem -= (int)from_last;
    n -= from_last;
    if (n == 0)
        return;
    st->n += n / 4;
    if (n % 4 != 0) { /* part of one more block: compute it as the adapter would */
        philox4x32_ctr_t c = st->ctr;
        c.v[3] |= (uint32_t)st->n;
        st->n++;
        st->r = philox4x32(c, st->key);
        st->elem = 4 - (int)(n % 4);
    }
}

int resim_rng_bulk(const gsl_rng *r) { return r != NULL && r->type == gsl_rng_resim_philox; }

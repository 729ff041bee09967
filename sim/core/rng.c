/* rng.c - Philox-4x32-10 streams through Random123's GSL adapter, and their
 * uniforms read in bulk. */
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
static CLONES void philox_blocks_c(const resim_philox_state *st, unsigned long long n0,
                                   size_t nb, double *u)
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

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

/* Four blocks' words (one block per lane of each of w3 .. w0) stored as
 * four blocks in order, each's last word first. */
__attribute__((target("avx512f"))) static inline void store_blocks4(double *v, __m256d w3,
                                                                   __m256d w2, __m256d w1,
                                                                   __m256d w0)
{
    const __m256d a = _mm256_unpacklo_pd(w3, w2), b = _mm256_unpackhi_pd(w3, w2);
    const __m256d c = _mm256_unpacklo_pd(w1, w0), e = _mm256_unpackhi_pd(w1, w0);
    _mm256_storeu_pd(v, _mm256_permute2f128_pd(a, c, 0x20));
    _mm256_storeu_pd(v + 4, _mm256_permute2f128_pd(b, e, 0x20));
    _mm256_storeu_pd(v + 8, _mm256_permute2f128_pd(a, c, 0x31));
    _mm256_storeu_pd(v + 12, _mm256_permute2f128_pd(b, e, 0x31));
}

/*
 * The same blocks with AVX-512, eight at a time: each 32-bit word in a
 * 64-bit lane, so that one vpmuludq makes eight of a round's 32 x 32 ->
 * 64-bit products, and the ten rounds stay in registers. A word w becomes
 * w / 2^32 as the double whose bits are those of 2^52 or'ed with w (that is
 * 2^52 + w), minus 2^52, times 2^-32: every step exact, so the same doubles
 * as the division. The words are philox_blocks_c's (test_bulk_uniforms
 * compares the uniforms with GSL's on every machine that runs it).
 */
__attribute__((target("avx512f"))) static void
philox_blocks_avx512(const resim_philox_state *st, unsigned long long n0, size_t nb, double *u)
{
    const __m512i m0 = _mm512_set1_epi64(PHILOX_M4x32_0), m1 = _mm512_set1_epi64(PHILOX_M4x32_1);
    const __m512i low = _mm512_set1_epi64(0xffffffff);
    const __m512i magic = _mm512_set1_epi64(0x4330000000000000); /* the bits of 2^52 */
    const __m512d two52 = _mm512_set1_pd(0x1p52), scale = _mm512_set1_pd(0x1p-32);
    const uint32_t c3 = st->ctr.v[3];
    size_t j = 0;
    for (; j + 8 <= nb; j += 8) {
        __m512i x0 = _mm512_set1_epi64(st->ctr.v[0]), x1 = _mm512_set1_epi64(st->ctr.v[1]);
        __m512i x2 = _mm512_set1_epi64(st->ctr.v[2]);
        long long w3[8];
        for (unsigned int l = 0; l < 8; l++)
            w3[l] = (long long)(c3 | (uint32_t)(n0 + j + l));
        __m512i x3 = _mm512_loadu_si512(w3);
        uint32_t k0 = st->key.v[0], k1 = st->key.v[1];
        for (int round = 0; round < 10; round++) {
            const __m512i p0 = _mm512_mul_epu32(x0, m0), p1 = _mm512_mul_epu32(x2, m1);
            const __m512i y0 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(p1, 32), x1),
                                                _mm512_set1_epi64(k0));
            const __m512i y2 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(p0, 32), x3),
                                                _mm512_set1_epi64(k1));
            x0 = y0;
            x1 = _mm512_and_si512(p1, low);
            x2 = y2;
            x3 = _mm512_and_si512(p0, low);
            k0 += PHILOX_W32_0;
            k1 += PHILOX_W32_1;
        }
        const __m512i w[4] = {x3, x2, x1, x0};
        __m512d d[4];
        for (int k = 0; k < 4; k++)
            d[k] = _mm512_mul_pd(
                _mm512_sub_pd(_mm512_castsi512_pd(_mm512_or_si512(w[k], magic)), two52), scale);
        /* Blocks j .. j + 3, then j + 4 .. j + 7: their (w3, w2, w1, w0) in order. */
        store_blocks4(u + 4 * j, _mm512_extractf64x4_pd(d[0], 0), _mm512_extractf64x4_pd(d[1], 0),
                      _mm512_extractf64x4_pd(d[2], 0), _mm512_extractf64x4_pd(d[3], 0));
        store_blocks4(u + 4 * j + 16, _mm512_extractf64x4_pd(d[0], 1),
                      _mm512_extractf64x4_pd(d[1], 1), _mm512_extractf64x4_pd(d[2], 1),
                      _mm512_extractf64x4_pd(d[3], 1));
    }
    if (j < nb)
        philox_blocks_c(st, n0 + j, nb - j, u + 4 * j);
}

static void philox_blocks(const resim_philox_state *st, unsigned long long n0, size_t nb,
                          double *u)
{
    if (__builtin_cpu_supports("avx512f"))
        philox_blocks_avx512(st, n0, nb, u);
    else
        philox_blocks_c(st, n0, nb, u);
}
#else
#define philox_blocks philox_blocks_c
#endif

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

uint64_t resim_rng_position(const gsl_rng *r)
{
    const resim_philox_state *st = r->state;
    return 4 * (uint64_t)st->n - (uint64_t)st->elem;
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

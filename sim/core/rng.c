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

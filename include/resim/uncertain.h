/*
 * uncertain.h - a scenario value given as a distribution, drawn once per
 * replicate (docs/model.md section 8), truncated to the key's valid range.
 *
 *   beta(mean, concentration)   a = mean*k, b = (1-mean)*k
 *   gamma(mean, cv)             shape 1/cv^2, scale mean*cv^2
 *   lognormal(median, sigma)    log-scale sd sigma
 *   uniform(lo, hi)
 *   triangular(lo, mode, hi)
 *   normal(mean, sd)
 */
#ifndef RESIM_UNCERTAIN_H
#define RESIM_UNCERTAIN_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

typedef enum {
    RESIM_DIST_BETA, RESIM_DIST_GAMMA, RESIM_DIST_LOGNORMAL,
    RESIM_DIST_UNIFORM, RESIM_DIST_TRIANGULAR, RESIM_DIST_NORMAL
} resim_dist_kind;

typedef struct resim_dist {
    resim_dist_kind kind;
    double p[3];   /* parameters as written */
    double lo, hi; /* truncation: the key's valid range */
} resim_dist;

/* Whether text is written as a distribution: a name and a parenthesis. */
int resim_dist_is(const char *text);

/*
 * Parses text into d, truncated to [lo, hi]. Returns 0, or -1 with a reason
 * in why (bad name, parameter count or value, no mass inside the range).
 */
int resim_dist_parse(const char *text, double lo, double hi, resim_dist *d, char *why, size_t n);

/* The value a deterministic run uses: the mean (beta, gamma, normal), the
 * median (lognormal), the midpoint (uniform) or the mode (triangular). */
double resim_dist_central(const resim_dist *d);

/* Draws from d truncated to [lo, hi] by rejection; -1 if 10,000 draws all
 * fall outside (the range holds almost none of the mass). */
int resim_dist_draw(const resim_dist *d, gsl_rng *r, double *out);

#endif

/* licensing.c - the review-delay kernel (docs/model.md section 4). */
#include "resim/licensing.h"

#include <gsl/gsl_cdf.h>
#include <math.h>

#include "resim/data.h"

void resim_licensing_kernel(double mu, double cv, size_t cap, double *w, size_t *first, size_t *end)
{
    const double M = RESIM_MONTH_DAYS;
    if (cv == 0 || mu == 0) {
        /* The whole application is decided floor(mu / M) months later. */
        double k = floor(mu / M);
        if (k >= (double)cap) {
            *first = *end = cap;
            return;
        }
        *first = (size_t)k;
        *end = *first + 1;
        if (w != NULL)
            w[*first] = 1;
        return;
    }
    const double shape = 1 / (cv * cv), scale = mu * cv * cv;
    /* Skip the head: bins whose upper edge still holds less than the tail mass. */
    size_t k = 0;
    while (k < cap && gsl_cdf_gamma_P((double)(k + 1) * M, shape, scale) <= RESIM_KERNEL_TAIL)
        k++;
    *first = k;
    if (k == cap) {
        *end = cap;
        return;
    }
    /* The first bin takes the head mass too: w[first] = F((first+1) M). */
    double lo_P = 0, lo_Q = 1;
    for (;; k++) {
        double hi = (double)(k + 1) * M;
        double hi_P = gsl_cdf_gamma_P(hi, shape, scale);
        double hi_Q = gsl_cdf_gamma_Q(hi, shape, scale);
        /* Difference the smaller tail, for accuracy on both sides of the median. */
        double mass = lo_P < 0.5 ? hi_P - lo_P : lo_Q - hi_Q;
        if (hi_Q < RESIM_KERNEL_TAIL) {
            if (w != NULL)
                w[k] = mass + hi_Q; /* the last bin takes the tail */
            *end = k + 1;
            return;
        }
        if (w != NULL)
            w[k] = mass;
        if (k + 1 == cap) {
            *end = cap;
            return;
        }
        lo_P = hi_P;
        lo_Q = hi_Q;
    }
}

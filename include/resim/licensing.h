/*
 * licensing.h - the review-delay kernel of an export licence (docs/model.md
 * section 4): the share of an application decided k whole months after it
 * was filed, when the review delay is gamma distributed.
 */
#ifndef RESIM_LICENSING_H
#define RESIM_LICENSING_H

#include <stddef.h>

/* Mass below which the head and the tail of a kernel are folded into its
 * first and last bins, so every kernel still sums to 1. */
#define RESIM_KERNEL_TAIL 1e-12

/*
 * Fills w[first .. end-1] with the kernel of a review delay with mean mu
 * days and coefficient of variation cv (shape 1/cv^2, scale mu*cv^2; cv = 0
 * or mu = 0 means exactly mu days):
 *
 *     w[k] = F((k+1) M) - F(k M),  M = 365.25/12 days.
 *
 * Only bins k < cap are kept: a decision k >= cap months after filing falls
 * after the last simulated month, so its mass is left out (it stays
 * pending). w must hold cap doubles; entries outside [first, end) are not
 * touched. With w == NULL only first and end are computed.
 * Requires mu >= 0, cv >= 0 and cap >= 1.
 */
void resim_licensing_kernel(double mu, double cv, size_t cap, double *w, size_t *first, size_t *end);

#endif

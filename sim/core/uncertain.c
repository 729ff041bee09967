/* uncertain.c - distributions for uncertain levers, through GSL's samplers. */
#include "resim/uncertain.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    resim_dist_kind kind;
    int nparam;
} kinds[] = {
    {"beta", RESIM_DIST_BETA, 2},           {"gamma", RESIM_DIST_GAMMA, 2},
    {"lognormal", RESIM_DIST_LOGNORMAL, 2}, {"uniform", RESIM_DIST_UNIFORM, 2},
    {"triangular", RESIM_DIST_TRIANGULAR, 3}, {"normal", RESIM_DIST_NORMAL, 2},
};

#define REJECTION_TRIES 10000

int resim_dist_is(const char *text)
{
    while (*text == ' ')
        text++;
    const char *p = text;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
        p++;
    while (*p == ' ')
        p++;
    return p > text && *p == '(';
}

/* Support of each distribution before truncation. */
static void support(const resim_dist *d, double *lo, double *hi)
{
    switch (d->kind) {
    case RESIM_DIST_BETA: *lo = 0; *hi = 1; break;
    case RESIM_DIST_GAMMA:
    case RESIM_DIST_LOGNORMAL: *lo = 0; *hi = HUGE_VAL; break;
    case RESIM_DIST_UNIFORM: *lo = d->p[0]; *hi = d->p[1]; break;
    case RESIM_DIST_TRIANGULAR: *lo = d->p[0]; *hi = d->p[2]; break;
    case RESIM_DIST_NORMAL: *lo = -HUGE_VAL; *hi = HUGE_VAL; break;
    }
}

static int fail(char *why, size_t n, const char *text, const char *reason)
{
    snprintf(why, n, "%s: %s", text, reason);
    return -1;
}

int resim_dist_parse(const char *text, double lo, double hi, resim_dist *d, char *why, size_t n)
{
    const char *open = strchr(text, '(');
    const char *close = strrchr(text, ')');
    if (open == NULL || close == NULL || close < open)
        return fail(why, n, text, "expected name(parameters)");
    for (const char *q = close + 1; *q; q++)
        if (*q != ' ')
            return fail(why, n, text, "text after ')'");
    const char *name = text;
    while (*name == ' ')
        name++;
    size_t len = (size_t)(open - name);
    while (len > 0 && name[len - 1] == ' ')
        len--;
    int found = -1;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strlen(kinds[k].name) == len && strncmp(name, kinds[k].name, len) == 0)
            found = (int)k;
    if (found < 0)
        return fail(why, n, text,
                    "unknown distribution (beta, gamma, lognormal, uniform, triangular, normal)");
    memset(d, 0, sizeof *d);
    d->kind = kinds[found].kind;
    d->lo = lo;
    d->hi = hi;
    int count = 0;
    const char *p = open + 1;
    while (p < close) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v) || count == 3)
            return fail(why, n, text, "parameters must be numbers separated by commas");
        d->p[count++] = v;
        while (*end == ' ')
            end++;
        if (*end == ',')
            end++;
        else if (end != close)
            return fail(why, n, text, "parameters must be numbers separated by commas");
        p = end;
    }
    if (count != kinds[found].nparam)
        return fail(why, n, text, kinds[found].nparam == 3 ? "takes 3 parameters" : "takes 2 parameters");
    const double *q = d->p;
    switch (d->kind) {
    case RESIM_DIST_BETA:
        if (!(q[0] > 0 && q[0] < 1 && q[1] > 0))
            return fail(why, n, text, "needs 0 < mean < 1 and concentration > 0");
        break;
    case RESIM_DIST_GAMMA:
        if (!(q[0] > 0 && q[1] > 0))
            return fail(why, n, text, "needs mean > 0 and cv > 0");
        break;
    case RESIM_DIST_LOGNORMAL:
        if (!(q[0] > 0 && q[1] >= 0))
            return fail(why, n, text, "needs median > 0 and sigma >= 0");
        break;
    case RESIM_DIST_UNIFORM:
        if (!(q[0] <= q[1]))
            return fail(why, n, text, "needs lo <= hi");
        break;
    case RESIM_DIST_TRIANGULAR:
        if (!(q[0] <= q[1] && q[1] <= q[2] && q[0] < q[2]))
            return fail(why, n, text, "needs lo <= mode <= hi and lo < hi");
        break;
    case RESIM_DIST_NORMAL:
        if (!(q[1] >= 0))
            return fail(why, n, text, "needs sd >= 0");
        break;
    }
    double s_lo = 0, s_hi = 0;
    support(d, &s_lo, &s_hi);
    if (s_hi < lo || s_lo > hi)
        return fail(why, n, text, "has no mass inside the key's valid range");
    return 0;
}

double resim_dist_central(const resim_dist *d)
{
    switch (d->kind) {
    case RESIM_DIST_UNIFORM: return (d->p[0] + d->p[1]) / 2;
    case RESIM_DIST_TRIANGULAR: return d->p[1];
    default: return d->p[0];
    }
}

static double draw_once(const resim_dist *d, gsl_rng *r)
{
    const double *q = d->p;
    switch (d->kind) {
    case RESIM_DIST_BETA: return gsl_ran_beta(r, q[0] * q[1], (1 - q[0]) * q[1]);
    case RESIM_DIST_GAMMA: return gsl_ran_gamma(r, 1 / (q[1] * q[1]), q[0] * q[1] * q[1]);
    case RESIM_DIST_LOGNORMAL: return gsl_ran_lognormal(r, log(q[0]), q[1]);
    case RESIM_DIST_UNIFORM: return gsl_ran_flat(r, q[0], q[1]);
    case RESIM_DIST_NORMAL: return q[0] + gsl_ran_gaussian(r, q[1]);
    case RESIM_DIST_TRIANGULAR: {
        /* GSL has no triangular sampler: invert its CDF. */
        double u = gsl_rng_uniform(r), a = q[0], c = q[1], b = q[2];
        double fc = (c - a) / (b - a);
        return u < fc ? a + sqrt(u * (b - a) * (c - a)) : b - sqrt((1 - u) * (b - a) * (b - c));
    }
    }
    return NAN;
}

int resim_dist_draw(const resim_dist *d, gsl_rng *r, double *out)
{
    for (int k = 0; k < REJECTION_TRIES; k++) {
        double v = draw_once(d, r);
        if (v >= d->lo && v <= d->hi) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

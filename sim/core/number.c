/* number.c - the one parser of numbers written as text. */
#include "resim/number.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

int resim_parse_double(const char *s, double *out)
{
    char *end;
    while (*s == ' ')
        s++;
    if (*s == '\0')
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    /* Underflow (ERANGE with a tiny or zero result) is a valid subnormal. */
    if (*end != '\0' || (errno == ERANGE && fabs(v) >= 1) || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

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
    /* Decimal only: strtod would also read hexadecimal (0x12 as 18). */
    const char *digits = *s == '-' || *s == '+' ? s + 1 : s;
    if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
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

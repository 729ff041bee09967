/* error.c - the one place every resim error is recorded. */
#include "resim/error.h"

#include <stdarg.h>
#include <stdio.h>

int resim_error_set(resim_error *err, int status, const char *file, long line,
                    const char *fmt, ...)
{
    if (err == NULL)
        return status;
    err->status = status;
    size_t used = 0;
    int n = 0;
    if (file != NULL && line > 0)
        n = snprintf(err->msg, sizeof err->msg, "%s:%ld: ", file, line);
    else if (file != NULL)
        n = snprintf(err->msg, sizeof err->msg, "%s: ", file);
    if (n > 0)
        used = (size_t)n < sizeof err->msg ? (size_t)n : sizeof err->msg - 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + used, sizeof err->msg - used, fmt, ap);
    va_end(ap);
    return status;
}

#define RESIM_STATUS_TEXT(code, text) text,
static const char *const status_text[] = {RESIM_STATUS_LIST(RESIM_STATUS_TEXT)};
#undef RESIM_STATUS_TEXT

const char *resim_status_text(int status)
{
    if (status < 0 || status >= RESIM_NSTATUS)
        return "unknown status";
    return status_text[status];
}

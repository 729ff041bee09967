/*
 * error.h - status codes and the error record shared by every resim module.
 *
 * Functions that can fail return an int status (RESIM_OK on success) and,
 * when given a non-NULL resim_error, fill it with the input that failed:
 * file, line (0 when not known) and a message naming the key or field.
 * Only the command-line layer turns a status into an exit code.
 */
#ifndef RESIM_ERROR_H
#define RESIM_ERROR_H

#include <stddef.h>

/* One list generates both the codes and their messages. */
#define RESIM_STATUS_LIST(X)                                   \
    X(RESIM_OK, "success")                                     \
    X(RESIM_EIO, "cannot read or write a file")                \
    X(RESIM_EPARSE, "malformed input")                         \
    X(RESIM_EINVAL, "invalid value")                           \
    X(RESIM_ENOMEM, "out of memory")                           \
    X(RESIM_EUSAGE, "bad command line")

#define RESIM_STATUS_ENUM(code, text) code,
typedef enum { RESIM_STATUS_LIST(RESIM_STATUS_ENUM) RESIM_NSTATUS } resim_status;
#undef RESIM_STATUS_ENUM

/* Where and why an operation failed. Owned by the caller. */
typedef struct resim_error {
    int status;      /* a resim_status */
    char msg[1024];  /* "file:line: message", ready to print */
} resim_error;

/*
 * Records an error and returns status, so callers can write
 * `return resim_error_set(err, RESIM_EINVAL, path, line, "...", ...)`.
 * file may be NULL and line 0 when not known; err may be NULL.
 * Every error in resim passes through here: one breakpoint catches them all.
 */
int resim_error_set(resim_error *err, int status, const char *file, long line,
                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* The fixed text of a status code. */
const char *resim_status_text(int status);

#endif

/* serve.h - the explorer's JSON API, kept apart from HTTP so it can be tested alone (private). */
#ifndef RESIM_SERVE_H
#define RESIM_SERVE_H

#include <stddef.h>

#include "cli.h"

/* Largest request body the API reads, bytes; a larger one is answered 413. */
#define SERVE_MAX_BODY (64 * 1024)
/* Most keys one request may set. */
#define SERVE_MAX_SETS 256

/* An answer: HTTP status, content type and a malloc'ed body. */
typedef struct serve_reply {
    unsigned status;
    const char *type;
    char *body;
    size_t len;
    const char *filename; /* suggested download name, or NULL */
} serve_reply;

typedef struct serve_api serve_api;

/*
 * Loads the scenario at `scenario` (the one file the server ever reads) and
 * prepares `runs` run slots: at most that many runs compute at once, and a
 * request that waits longer than wait_ms for a slot is answered 503.
 * Returns NULL with err filled on failure.
 */
serve_api *serve_api_alloc(const char *scenario, size_t runs, long wait_ms, resim_error *err);
void serve_api_free(serve_api *api); /* accepts NULL */

/* The scenario's name (for the start-up line). */
const char *serve_api_name(const serve_api *api);

/*
 * Answers one API request (url starts with /api/). body may be NULL when
 * len is 0. Thread-safe: any number of threads may call it at once.
 */
void serve_api_handle(serve_api *api, const char *method, const char *url, const char *body,
                      size_t len, serve_reply *r);

/* Sets r to a JSON error {"error": line}, status given. */
void serve_reply_error(serve_reply *r, unsigned status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

void serve_reply_free(serve_reply *r);

#endif

/* out_impl.h - private glue between csvout.c and sidecar.c (not installed). */
#ifndef RESIM_OUT_IMPL_H
#define RESIM_OUT_IMPL_H

#include <stddef.h>

#include "resim/csvout.h"

/* s with each byte that is not valid UTF-8 replaced by U+FFFD (malloc'ed; NULL without memory). */
char *resim_utf8_clean(const char *s, size_t *len);

/* Opens o as a memory output holding the sidecar of csv (CSV.json). */
int resim_out_open_sidecar(resim_out *o, const char *csv, resim_error *err);

/*
 * Checks the JSON text a sidecar's writers produced and renders it in the
 * sidecar layout; *out is malloc'ed. Defined in sidecar.c.
 */
int resim_sidecar_render(const char *text, size_t len, const char *path, char **out,
                         size_t *out_len, resim_error *err);

#endif

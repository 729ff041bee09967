/* jsoncheck.c - a sidecar's text checked with jansson before it is written. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "out_impl.h"

int resim_sidecar_render(const char *text, size_t len, const char *path, char **out,
                         size_t *out_len, resim_error *err)
{
    /* Integers as reals: a seed beyond 2^63 is valid JSON that jansson's
     * integers cannot hold. Only the check needs the parse. */
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &jerr);
    if (doc == NULL)
        return resim_error_set(err, RESIM_EINVAL, path, 0,
                               "sidecar is not valid JSON at line %d (%s); nothing written",
                               jerr.line, jerr.text);
    int is_object = json_is_object(doc);
    json_decref(doc);
    if (!is_object)
        return resim_error_set(err, RESIM_EINVAL, path, 0, "sidecar is not a JSON object");
    if ((*out = malloc(len + 1)) == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    memcpy(*out, text, len);
    (*out)[len] = '\0';
    *out_len = len;
    return RESIM_OK;
}

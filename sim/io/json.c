/* json.c - JSON text with jansson: text cleaned to UTF-8, string literals, and the check of a sidecar before it is written. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "out_impl.h"
#include "resim/sidecar.h"
#include "resim/utf8.h"

char *resim_utf8_clean(const char *s, size_t *len)
{
    size_t n = strlen(s);
    char *clean = malloc(3 * n + 1);
    if (clean == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t k = resim_utf8_seq(p + i, n - i);
        if (k == 0) {
            memcpy(clean + m, "\xef\xbf\xbd", 3);
            m += 3;
            i++;
        } else {
            memcpy(clean + m, p + i, k);
            m += k;
            i += k;
        }
    }
    clean[m] = '\0';
    *len = m;
    return clean;
}

void resim_json_string(FILE *fp, const char *s)
{
    size_t n;
    char *clean = resim_utf8_clean(s, &n);
    json_t *j = clean != NULL ? json_stringn(clean, n) : NULL;
    if (j == NULL ||
        json_dumpf(j, fp, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) != 0)
        fputs("\"\"", fp); /* out of memory; the sidecar check still sees valid JSON */
    json_decref(j);
    free(clean);
}

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

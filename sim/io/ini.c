/* ini.c - raw scenario entries, read with inih, each with its file and line. */
#include "resim/iniread.h"
#include "resim/scenario.h"
#include "resim/sidecar.h"
#include "resim/utf8.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* inih cuts lines at this length (Debian's build); longer lines are errors. */
#define INI_LINE_MAX 200
/* A scenario is a few kilobytes; a larger file is not one. */
#define INI_FILE_MAX (16L << 20)

typedef struct reader {
    const char *buf; /* the whole file, as read (and hashed) */
    size_t len, pos;
    long line;
    int continued; /* the line just read starts with white space */
    int after_key; /* inih would join an indented line to the key above */
    resim_ini *ini;
    resim_error *err;
    int status;
} reader;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* An indented "name = ..." line, which inih would join to the value above. */
static int looks_like_key(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_space(s[i]))
        i++;
    size_t k = i;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                     (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
        i++;
    if (i == k)
        return 0;
    while (i < n && is_space(s[i]))
        i++;
    return i < n && s[i] == '=';
}

/* Feeds inih one line at a time so the handler knows the line number. */
static char *read_line(char *str, int num, void *stream)
{
    reader *r = stream;
    if (r->pos >= r->len || r->status != RESIM_OK)
        return NULL;
    const char *s = r->buf + r->pos;
    const char *nl = memchr(s, '\n', r->len - r->pos);
    size_t n = nl != NULL ? (size_t)(nl - s) + 1 : r->len - r->pos;
    r->pos += n;
    r->line++;
    size_t body = n - (nl != NULL);
    if (memchr(s, '\0', n) != NULL) {
        r->status = resim_error_set(r->err, RESIM_EPARSE, r->ini->path, r->line,
                                    "NUL byte in the line (not a text file?)");
        return NULL;
    }
    if (n > (size_t)num - 1) {
        r->status = resim_error_set(r->err, RESIM_EPARSE, r->ini->path, r->line,
                                    "line longer than %d characters", INI_LINE_MAX - 2);
        return NULL;
    }
    size_t i = 0;
    while (i < body && is_space(s[i]))
        i++;
    int comment = i < body && (s[i] == ';' || s[i] == '#');
    if (!comment && !resim_utf8_valid(s, body)) {
        r->status = resim_error_set(r->err, RESIM_EPARSE, r->ini->path, r->line,
                                    "not UTF-8 text (save the scenario as UTF-8)");
        return NULL;
    }
    r->continued = body > 0 && (s[0] == ' ' || s[0] == '\t');
    if (!comment && i < body) {
        if (r->continued && r->after_key && looks_like_key(s, body)) {
            size_t e = i;
            while (e < body && !is_space(s[e]) && s[e] != '=')
                e++;
            r->status = resim_error_set(r->err, RESIM_EPARSE, r->ini->path, r->line,
                                        "indented key '%.*s': an indented line continues the "
                                        "value above; start the key at the beginning of the line",
                                        (int)(e - i), s + i);
            return NULL;
        }
        /* inih joins indented lines to the last key until the next section. */
        r->after_key = s[i] != '[';
    }
    memcpy(str, s, n);
    str[n] = '\0';
    return str;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    reader *r = user;
    if (r->status != RESIM_OK)
        return 0;
    if (name == NULL) /* a section header with no keys yet */
        return resim_ini_add_section(r->ini, section) == RESIM_OK;
    resim_ini_entry *last = r->ini->n > 0 ? &r->ini->v[r->ini->n - 1] : NULL;
    if (r->continued && last != NULL && strcmp(last->section, section) == 0 &&
        strcmp(last->key, name) == 0) {
        /* An indented line continues the value above, joined by a space. */
        size_t a = strlen(last->value), b = strlen(value);
        char *v = realloc(last->value, a + b + 2);
        if (v == NULL) {
            r->status = resim_error_set(r->err, RESIM_ENOMEM, r->ini->path, r->line, "out of memory");
            return 0;
        }
        v[a] = ' ';
        memcpy(v + a + 1, value, b + 1);
        last->value = v;
        return 1;
    }
    if (resim_ini_get(r->ini, section, name) != NULL) {
        r->status = resim_error_set(r->err, RESIM_EPARSE, r->ini->path, r->line,
                                    "[%s] %s: key given twice in one section", section, name);
        return 0;
    }
    if (resim_ini_append(r->ini, section, name, value, r->ini->path, r->line) != RESIM_OK) {
        r->status = resim_error_set(r->err, RESIM_ENOMEM, r->ini->path, r->line, "out of memory");
        return 0;
    }
    return 1; /* inih: non-zero means success */
}

/* Reads the whole file: the bytes hashed are the bytes parsed. */
static int slurp(const char *path, char **buf, size_t *len, resim_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot open scenario file");
    size_t cap = 8192, n = 0;
    char *b = malloc(cap);
    int rc = b == NULL ? resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory") : RESIM_OK;
    while (rc == RESIM_OK) {
        if (n == cap) {
            if ((long)cap >= INI_FILE_MAX) {
                rc = resim_error_set(err, RESIM_EPARSE, path, 0,
                                     "larger than %ld MB: not a scenario file",
                                     INI_FILE_MAX >> 20);
                break;
            }
            char *nb = realloc(b, 2 * cap);
            if (nb == NULL) {
                rc = resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (rc == RESIM_OK && ferror(fp))
        rc = resim_error_set(err, RESIM_EIO, path, 0, "read error");
    fclose(fp);
    if (rc != RESIM_OK) {
        free(b);
        return rc;
    }
    *buf = b;
    *len = n;
    return RESIM_OK;
}

int resim_ini_read(resim_ini *ini, const char *path, resim_error *err)
{
    memset(ini, 0, sizeof *ini);
    if (strlen(path) >= sizeof ini->path)
        return resim_error_set(err, RESIM_EIO, path, 0, "path too long");
    strcpy(ini->path, path);
    reader r = {.ini = ini, .err = err, .status = RESIM_OK};
    char *buf = NULL;
    int rc = slurp(path, &buf, &r.len, err);
    if (rc != RESIM_OK)
        return rc;
    r.buf = buf;
    resim_sha256_hex(buf, r.len, ini->sha256);
    /* inih skips a UTF-8 byte-order mark itself. */
    rc = ini_parse_stream(read_line, &r, on_entry, &r);
    free(buf);
    if (r.status == RESIM_OK && rc > 0)
        r.status = resim_error_set(err, RESIM_EPARSE, path, rc,
                                   "not an INI line (expected [section] or key = value)");
    if (r.status == RESIM_OK && rc < 0)
        r.status = resim_error_set(err, RESIM_ENOMEM, path, 0, "out of memory");
    if (r.status != RESIM_OK)
        resim_ini_free(ini);
    return r.status;
}

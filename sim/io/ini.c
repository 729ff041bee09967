/* ini.c - raw scenario entries, read with inih, each with its file and line. */
#include "resim/iniread.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* inih cuts lines at this length (Debian's build); longer lines are errors. */
#define INI_LINE_MAX 200

typedef struct reader {
    FILE *fp;
    long line;
    int too_long;
    int continued; /* the line just read starts with white space */
    resim_ini *ini;
    resim_error *err;
    int status;
} reader;

/* Feeds inih one line at a time so the handler knows the line number. */
static char *read_line(char *str, int num, void *stream)
{
    reader *r = stream;
    if (fgets(str, num, r->fp) == NULL)
        return NULL;
    r->line++;
    r->continued = str[0] == ' ' || str[0] == '\t';
    size_t n = strlen(str);
    if (n > 0 && str[n - 1] != '\n' && !feof(r->fp) && r->too_long == 0)
        r->too_long = 1;
    if (r->too_long == 1) {
        /* Skip the rest of the long line so later lines keep their numbers. */
        int c;
        while ((c = fgetc(r->fp)) != EOF && c != '\n')
            ;
        r->too_long = 2;
        resim_error_set(r->err, RESIM_EPARSE, r->ini->path, r->line,
                        "line longer than %d characters", INI_LINE_MAX - 2);
        r->status = RESIM_EPARSE;
    }
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

int resim_ini_read(resim_ini *ini, const char *path, resim_error *err)
{
    memset(ini, 0, sizeof *ini);
    if (strlen(path) >= sizeof ini->path)
        return resim_error_set(err, RESIM_EIO, path, 0, "path too long");
    strcpy(ini->path, path);
    reader r = {.fp = fopen(path, "r"), .ini = ini, .err = err, .status = RESIM_OK};
    if (r.fp == NULL)
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot open scenario file");
    int rc = ini_parse_stream(read_line, &r, on_entry, &r);
    int read_error = ferror(r.fp);
    fclose(r.fp);
    if (r.status == RESIM_OK && read_error)
        r.status = resim_error_set(err, RESIM_EIO, path, 0, "read error");
    if (r.status == RESIM_OK && rc > 0)
        r.status = resim_error_set(err, RESIM_EPARSE, path, rc,
                                   "not an INI line (expected [section] or key = value)");
    if (r.status == RESIM_OK && rc < 0)
        r.status = resim_error_set(err, RESIM_ENOMEM, path, 0, "out of memory");
    if (r.status != RESIM_OK)
        resim_ini_free(ini);
    return r.status;
}


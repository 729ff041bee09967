/* entries.c - raw scenario entries in memory: look up, override, copy. */
#include "resim/ini.h"
#include "resim/utf8.h"

#include <stdlib.h>
#include <string.h>

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

int resim_ini_add_section(resim_ini *ini, const char *section)
{
    if (ini->n_sections > 0 && strcmp(ini->sections[ini->n_sections - 1], section) == 0)
        return RESIM_OK;
    for (size_t i = 0; i < ini->n_sections; i++)
        if (strcmp(ini->sections[i], section) == 0)
            return RESIM_OK;
    char **s = realloc(ini->sections, (ini->n_sections + 1) * sizeof *s);
    if (s == NULL)
        return RESIM_ENOMEM;
    ini->sections = s;
    if ((s[ini->n_sections] = dupstr(section)) == NULL)
        return RESIM_ENOMEM;
    ini->n_sections++;
    return RESIM_OK;
}

int resim_ini_append(resim_ini *ini, const char *section, const char *key, const char *value,
                  const char *file, long line)
{
    if (ini->n == ini->cap) {
        size_t cap = ini->cap ? 2 * ini->cap : 64;
        resim_ini_entry *v = realloc(ini->v, cap * sizeof *v);
        if (v == NULL)
            return RESIM_ENOMEM;
        ini->v = v;
        ini->cap = cap;
    }
    resim_ini_entry *e = &ini->v[ini->n];
    e->section = dupstr(section);
    e->key = dupstr(key);
    e->value = dupstr(value);
    e->file = file;
    e->line = line;
    if (e->section == NULL || e->key == NULL || e->value == NULL) {
        free(e->section);
        free(e->key);
        free(e->value);
        return RESIM_ENOMEM;
    }
    ini->n++;
    return resim_ini_add_section(ini, section);
}

const resim_ini_entry *resim_ini_get(const resim_ini *ini, const char *section, const char *key)
{
    for (size_t i = 0; i < ini->n; i++)
        if (strcmp(ini->v[i].section, section) == 0 && strcmp(ini->v[i].key, key) == 0)
            return &ini->v[i];
    return NULL;
}

int resim_ini_put(resim_ini *ini, const char *section, const char *key, const char *value,
                  const char *file, long line, resim_error *err)
{
    for (size_t i = 0; i < ini->n; i++) {
        resim_ini_entry *e = &ini->v[i];
        if (strcmp(e->section, section) == 0 && strcmp(e->key, key) == 0) {
            char *v = dupstr(value);
            if (v == NULL)
                return resim_error_set(err, RESIM_ENOMEM, file, line, "out of memory");
            free(e->value);
            e->value = v;
            e->file = file;
            e->line = line;
            return RESIM_OK;
        }
    }
    if (resim_ini_append(ini, section, key, value, file, line) != RESIM_OK)
        return resim_error_set(err, RESIM_ENOMEM, file, line, "out of memory");
    return RESIM_OK;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    memmove(s, s + i, n - i + 1);
}

int resim_ini_set(resim_ini *ini, const char *assignment, resim_error *err)
{
    char buf[512];
    if (strlen(assignment) >= sizeof buf)
        return resim_error_set(err, RESIM_EUSAGE, "--set", 0, "%.40s...: too long", assignment);
    strcpy(buf, assignment);
    char *eq = strchr(buf, '=');
    char *dot = strchr(buf, '.');
    if (eq == NULL || dot == NULL || dot > eq)
        return resim_error_set(err, RESIM_EUSAGE, "--set", 0,
                               "'%s': expected SECTION.KEY=VALUE", assignment);
    *eq = '\0';
    *dot = '\0';
    char *section = buf, *key = dot + 1, *value = eq + 1;
    trim(section);
    trim(key);
    trim(value);
    if (*section == '\0' || *key == '\0')
        return resim_error_set(err, RESIM_EUSAGE, "--set", 0,
                               "'%s': expected SECTION.KEY=VALUE", assignment);
    /* Text that is not UTF-8 is refused here as in a scenario file (and not
     * echoed back). */
    if (!resim_utf8_valid(section, strlen(section)) || !resim_utf8_valid(key, strlen(key)))
        return resim_error_set(err, RESIM_EUSAGE, "--set", 0,
                               "a section or key that is not UTF-8 text");
    if (!resim_utf8_valid(value, strlen(value)))
        return resim_error_set(err, RESIM_EUSAGE, "--set", 0,
                               "[%s] %s: the value is not UTF-8 text", section, key);
    int rc = resim_ini_put(ini, section, key, value, "--set", 0, err);
    if (rc == RESIM_OK)
        rc = resim_ini_add_section(ini, section);
    return rc;
}

const char *resim_ini_file(resim_ini *ini, const char *path)
{
    if (strcmp(path, ini->path) == 0)
        return ini->path;
    for (size_t i = 0; i < ini->n_files; i++)
        if (strcmp(ini->files[i], path) == 0)
            return ini->files[i];
    char **f = realloc(ini->files, (ini->n_files + 1) * sizeof *f);
    if (f == NULL)
        return NULL;
    ini->files = f;
    if ((f[ini->n_files] = dupstr(path)) == NULL)
        return NULL;
    return f[ini->n_files++];
}

int resim_ini_copy(resim_ini *dst, const resim_ini *src, resim_error *err)
{
    memset(dst, 0, sizeof *dst);
    memcpy(dst->path, src->path, sizeof dst->path);
    memcpy(dst->sha256, src->sha256, sizeof dst->sha256);
    for (size_t i = 0; i < src->n_sections; i++)
        if (resim_ini_add_section(dst, src->sections[i]) != RESIM_OK)
            goto nomem;
    for (size_t f = 0; f < src->n_files; f++)
        if (resim_ini_file(dst, src->files[f]) == NULL)
            goto nomem;
    for (size_t i = 0; i < src->n; i++) {
        const resim_ini_entry *e = &src->v[i];
        /* Entries read from the file point at the copy's own path, and
         * those read from a base file at the copy's own copy of its path. */
        const char *file = e->file == src->path ? dst->path : e->file;
        for (size_t f = 0; f < src->n_files && file == e->file; f++)
            if (e->file == src->files[f] && (file = resim_ini_file(dst, e->file)) == NULL)
                goto nomem;
        if (resim_ini_append(dst, e->section, e->key, e->value, file, e->line) != RESIM_OK)
            goto nomem;
    }
    return RESIM_OK;
nomem:
    resim_ini_free(dst);
    return resim_error_set(err, RESIM_ENOMEM, src->path, 0, "out of memory");
}

void resim_ini_free(resim_ini *ini)
{
    if (ini == NULL)
        return;
    for (size_t i = 0; i < ini->n; i++) {
        free(ini->v[i].section);
        free(ini->v[i].key);
        free(ini->v[i].value);
    }
    for (size_t i = 0; i < ini->n_sections; i++)
        free(ini->sections[i]);
    for (size_t i = 0; i < ini->n_files; i++)
        free(ini->files[i]);
    free(ini->v);
    free(ini->sections);
    free(ini->files);
    ini->v = NULL;
    ini->sections = NULL;
    ini->files = NULL;
    ini->n = ini->cap = ini->n_sections = ini->n_files = 0;
}

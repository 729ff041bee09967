/*
 * ini.h - the raw entries of a scenario in memory (section, key, value,
 * and the file and line each came from), with command-line overrides.
 *
 * The store is pure (sim/core/entries.c): a sweep or an ensemble changes
 * one entry of its own copy and resolves again without reading any file.
 * Reading a file into a store is iniread.h.
 */
#ifndef RESIM_INI_H
#define RESIM_INI_H

#include <stddef.h>

#include "resim/data.h"
#include "resim/error.h"

typedef struct resim_ini_entry {
    char *section, *key, *value;
    const char *file; /* the INI path, or "--set" */
    long line;        /* 0 for --set */
} resim_ini_entry;

typedef struct resim_ini {
    char path[RESIM_PATH_MAX];
    resim_ini_entry *v;
    size_t n, cap;
    char **sections; /* section names in file order, for the empty ones too */
    size_t n_sections;
    char **files;    /* paths of the base files entries came from (owned), so
                        an entry's `file` may point at one of them */
    size_t n_files;
    char sha256[65]; /* hex SHA-256 of the bytes parsed, "" when not read from a file */
} resim_ini;

/* Applies SECTION.KEY=VALUE: replaces the entry or appends one. */
int resim_ini_set(resim_ini *ini, const char *assignment, resim_error *err);
/* Sets section/key to value (replacing or appending), with the given origin. */
int resim_ini_put(resim_ini *ini, const char *section, const char *key, const char *value,
                  const char *file, long line, resim_error *err);
/* The entry for section/key, or NULL. */
const resim_ini_entry *resim_ini_get(const resim_ini *ini, const char *section, const char *key);
/* Appends an entry / records a section name (used by the INI reader). */
int resim_ini_append(resim_ini *ini, const char *section, const char *key, const char *value,
                     const char *file, long line);
int resim_ini_add_section(resim_ini *ini, const char *section);
/*
 * A copy of path owned by ini (the same pointer for the same text), for the
 * `file` of entries read from a base file. NULL when out of memory.
 */
const char *resim_ini_file(resim_ini *ini, const char *path);
/* Deep copy (for sweeps and ensembles that change values). */
int resim_ini_copy(resim_ini *dst, const resim_ini *src, resim_error *err);
void resim_ini_free(resim_ini *ini); /* accepts a zeroed or freed store */

#endif

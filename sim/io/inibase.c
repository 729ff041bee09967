/* inibase.c - a scenario file read with the chain of files it names as `base`, into one store. */
#include "resim/iniread.h"

#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest chain of bases followed (a longer one is almost surely a mistake). */
#define BASE_DEPTH_MAX 32

/*
 * Copies every section and entry of src into dst: a key dst already has in
 * the same section is replaced, any other is added. Entries keep the file
 * and line they were read from. [scenario] base is left out: it is spent.
 */
static int absorb(resim_ini *dst, const resim_ini *src, resim_error *err)
{
    for (size_t i = 0; i < src->n_sections; i++)
        if (resim_ini_add_section(dst, src->sections[i]) != RESIM_OK)
            return resim_error_set(err, RESIM_ENOMEM, src->path, 0, "out of memory");
    for (size_t i = 0; i < src->n; i++) {
        const resim_ini_entry *e = &src->v[i];
        if (strcmp(e->section, "scenario") == 0 && strcmp(e->key, "base") == 0)
            continue;
        const char *file = e->file == src->path ? resim_ini_file(dst, src->path) : e->file;
        for (size_t f = 0; f < src->n_files && file == e->file; f++)
            if (e->file == src->files[f])
                file = resim_ini_file(dst, e->file);
        if (file == NULL)
            return resim_error_set(err, RESIM_ENOMEM, src->path, 0, "out of memory");
        int rc = resim_ini_put(dst, e->section, e->key, e->value, file, e->line, err);
        if (rc != RESIM_OK)
            return rc;
    }
    return RESIM_OK;
}

/* A path written in file `from`, relative to from's folder unless absolute. */
static int relative_to(char *out, size_t size, const char *from, const char *path)
{
    const char *slash = strrchr(from, '/');
    int n = path[0] == '/' || slash == NULL
                ? snprintf(out, size, "%s", path)
                : snprintf(out, size, "%.*s/%s", (int)(slash - from), from, path);
    return n >= 0 && (size_t)n < size ? 0 : -1;
}

/* A file by device and inode, so two spellings of one path are one file. */
typedef struct file_id {
    dev_t dev;
    ino_t ino;
} file_id;

static int load(resim_ini *ini, const char *path, file_id *chain, size_t depth,
                resim_error *err)
{
    memset(ini, 0, sizeof *ini); /* freeing it is safe whatever happens */
    resim_ini file;
    int rc = resim_ini_read(&file, path, err);
    if (rc != RESIM_OK)
        return rc;
    strcpy(ini->path, file.path);
    memcpy(ini->sha256, file.sha256, sizeof ini->sha256); /* of the bytes parsed */
    struct stat st;
    if (stat(path, &st) == 0)
        chain[depth] = (file_id){st.st_dev, st.st_ino};
    const resim_ini_entry *b = resim_ini_get(&file, "scenario", "base");
    if (b != NULL) {
        char base_path[RESIM_PATH_MAX];
        if (b->value[0] == '\0' || relative_to(base_path, sizeof base_path, path, b->value) != 0)
            rc = resim_error_set(err, RESIM_EINVAL, b->file, b->line,
                                 "[scenario] base: expected the path of a scenario file");
        else if (stat(base_path, &st) != 0)
            rc = resim_error_set(err, RESIM_EIO, b->file, b->line,
                                 "[scenario] base: cannot open %s", base_path);
        for (size_t k = 0; rc == RESIM_OK && k <= depth; k++)
            if (chain[k].dev == st.st_dev && chain[k].ino == st.st_ino)
                rc = resim_error_set(err, RESIM_EINVAL, b->file, b->line,
                                     "[scenario] base: %s is already a base of this file "
                                     "(a cycle of bases)",
                                     base_path);
        if (rc == RESIM_OK && depth + 1 >= BASE_DEPTH_MAX)
            rc = resim_error_set(err, RESIM_EINVAL, b->file, b->line,
                                 "[scenario] base: more than %d files deep", BASE_DEPTH_MAX);
        resim_ini parent;
        if (rc == RESIM_OK && (rc = load(&parent, base_path, chain, depth + 1, err)) == RESIM_OK) {
            /* Every base is recorded, deepest first, even one whose keys
             * are all replaced (the sidecar lists them). */
            for (size_t f = 0; f < parent.n_files && rc == RESIM_OK; f++)
                if (resim_ini_file(ini, parent.files[f]) == NULL)
                    rc = resim_error_set(err, RESIM_ENOMEM, path, 0, "out of memory");
            if (rc == RESIM_OK && resim_ini_file(ini, parent.path) == NULL)
                rc = resim_error_set(err, RESIM_ENOMEM, path, 0, "out of memory");
            if (rc == RESIM_OK)
                rc = absorb(ini, &parent, err);
            resim_ini_free(&parent);
        }
    }
    if (rc == RESIM_OK)
        rc = absorb(ini, &file, err);
    resim_ini_free(&file);
    if (rc != RESIM_OK)
        resim_ini_free(ini);
    return rc;
}

int resim_ini_read_scenario(resim_ini *ini, const char *path, resim_error *err)
{
    file_id chain[BASE_DEPTH_MAX] = {{0, 0}};
    return load(ini, path, chain, 0, err);
}

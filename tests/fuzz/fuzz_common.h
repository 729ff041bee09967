/*
 * fuzz_common.h - a scratch directory with the test fixture's data, and file
 * writing, shared by the libFuzzer harnesses (each harness includes it once).
 */
#ifndef RESIM_FUZZ_COMMON_H
#define RESIM_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#ifndef RESIM_SOURCE_DIR
#define RESIM_SOURCE_DIR "."
#endif

/* The scratch directory: DIR/s/ for scenarios, DIR/data/ (a copy of the
 * fixture's data, so "../data" from DIR/s resolves), DIR/o/ for outputs. */
static char fuzz_dir[256];

static inline void fuzz_copy(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (in == NULL || out == NULL)
        abort();
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            abort();
    fclose(in);
    if (fclose(out) != 0)
        abort();
}

static const char *const fuzz_data_files[] = {"elements.csv", "demand.csv", "importers.csv",
                                              "alt_sources.csv", "stockpile.csv"};

/* Copies fixture data file k into the scratch data directory. */
static inline void fuzz_restore_data(size_t k)
{
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/tests/fixtures/data/%s", RESIM_SOURCE_DIR, fuzz_data_files[k]);
    snprintf(to, sizeof to, "%s/data/%s", fuzz_dir, fuzz_data_files[k]);
    fuzz_copy(from, to);
}

static inline int mkdir_p(const char *path)
{
    return mkdir(path, 0777) == 0 ? 0 : -1;
}

/* Removes the scratch directory at exit. */
static void fuzz_teardown(void)
{
    static const char *const names[] = {
        "data/elements.csv", "data/demand.csv", "data/importers.csv", "data/alt_sources.csv",
        "data/stockpile.csv", "s/data", "s/flat.ini", "s/fuzz.ini", "s/design.csv",
        "o/out.csv", "o/out.csv.json", "o/out.csv.partial", "o/shard0.csv", "o/shard1.csv",
        "o/shard2.csv", "o/shard3.csv", "o/shard0.csv.json", "data", "s", "o", ""};
    char path[512];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, names[k]);
        if (unlink(path) != 0)
            rmdir(path);
    }
}

static inline void fuzz_setup(void)
{
    if (fuzz_dir[0] != '\0')
        return;
    gsl_set_error_handler_off();
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/resim_fuzz.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(fuzz_dir) == NULL)
        abort();
    atexit(fuzz_teardown);
    char path[512];
    const char *sub[] = {"s", "data", "o"};
    for (size_t k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, sub[k]);
        if (mkdir_p(path) != 0)
            abort();
    }
    for (size_t k = 0; k < sizeof fuzz_data_files / sizeof fuzz_data_files[0]; k++)
        fuzz_restore_data(k);
    /* flat.ini says "data = data": its data is the scratch copy too. */
    char link[512];
    snprintf(path, sizeof path, "%s/data", fuzz_dir);
    snprintf(link, sizeof link, "%s/s/data", fuzz_dir);
    if (symlink(path, link) != 0)
        abort();
    snprintf(path, sizeof path, "%s/tests/fixtures/flat.ini", RESIM_SOURCE_DIR);
    char to[512];
    snprintf(to, sizeof to, "%s/s/flat.ini", fuzz_dir);
    fuzz_copy(path, to);
}

/* Writes n bytes to path (aborts on failure: the harness, not the input, is broken). */
static inline void fuzz_write(const char *path, const uint8_t *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || (n > 0 && fwrite(data, 1, n, fp) != n) || fclose(fp) != 0)
        abort();
}

/* Removes the files a command may have left in the scratch output directory. */
static inline void fuzz_clean_outputs(void)
{
    static const char *const names[] = {"out.csv", "out.csv.json", "out.csv.partial"};
    char path[512];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        snprintf(path, sizeof path, "%s/o/%s", fuzz_dir, names[k]);
        unlink(path);
    }
}

#endif

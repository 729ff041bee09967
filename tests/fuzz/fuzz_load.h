/* fuzz_load.h - a scenario read, overridden and resolved as `resim check` does, without printing. */
#ifndef RESIM_FUZZ_LOAD_H
#define RESIM_FUZZ_LOAD_H

#include "resim/data.h"
#include "resim/ensemble.h"
#include "resim/iniread.h"
#include "resim/scenario.h"
#include "resim/uncertain.h"

static void fuzz_quiet(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
}

/* Reads path, applies the assignments, loads data and resolves; frees everything. */
static int fuzz_load(const char *path, char **sets, size_t n_sets)
{
    resim_error err = {0};
    resim_ini ini, central;
    resim_data data;
    resim_uncertain u;
    resim_scenario sc;
    memset(&central, 0, sizeof central);
    memset(&data, 0, sizeof data);
    memset(&u, 0, sizeof u);
    memset(&sc, 0, sizeof sc);
    int rc = resim_ini_read_scenario(&ini, path, &err);
    if (rc != RESIM_OK)
        return rc;
    for (size_t k = 0; rc == RESIM_OK && k < n_sets; k++)
        rc = resim_ini_set(&ini, sets[k], &err);
    char dir[RESIM_PATH_MAX];
    if (rc == RESIM_OK) {
        resim_scenario_data_dir(&ini, dir, sizeof dir);
        rc = resim_data_load(&data, dir, &err);
    }
    if (rc == RESIM_OK)
        rc = resim_uncertain_scan(&ini, &data, &u, &err);
    if (rc == RESIM_OK)
        rc = resim_ini_copy(&central, &ini, &err);
    if (rc == RESIM_OK)
        rc = resim_uncertain_central(&central, &u, &err);
    if (rc == RESIM_OK)
        rc = resim_scenario_resolve(&sc, &central, &data, fuzz_quiet, NULL, &err);
    /* An error record always says something. */
    if (rc != RESIM_OK && err.msg[0] == '\0')
        abort();
    resim_scenario_free(&sc);
    resim_uncertain_free(&u);
    resim_data_free(&data);
    resim_ini_free(&central);
    resim_ini_free(&ini);
    return rc;
}

#endif

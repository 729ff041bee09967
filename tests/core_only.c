/*
 * core_only.c - a program linked against the numerical core alone (every
 * object of resim_core, no resim_io): builds data and entries in memory,
 * resolves them and runs the model, so the build fails if the core ever
 * calls into the I/O library (the layering core <- io <- cli).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resim/data.h"
#include "resim/ini.h"
#include "resim/model.h"
#include "resim/number.h"
#include "resim/scenario.h"

static int failures = 0;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "core_only: FAIL: %s\n", what);
        failures++;
    }
}

int main(void)
{
    /* Two elements, three importers: the tables a data directory would hold. */
    static char *ids[3] = {"a", "b", "c"};
    static unsigned char status0[3] = {RESIM_NONE, RESIM_WATCH, RESIM_CONTROL};
    static double exposure[3] = {0.2, 0.5, 0.9}, military[3] = {0, 0.25, 0.5};
    static double cover[3] = {2.5, 3, 1.5};
    static double share[RESIM_MAX_ELEMENTS * 3];
    resim_data d;
    memset(&d, 0, sizeof d);
    snprintf(d.dir, sizeof d.dir, "(memory)");
    d.n_elements = 2;
    strcpy(d.symbol[0], "Dy");
    strcpy(d.symbol[1], "Tb");
    d.licensed[0] = d.licensed[1] = 1;
    d.has_demand[0] = d.has_demand[1] = 1;
    d.base_tpy[0] = 240;
    d.base_tpy[1] = 48;
    d.has_share[0] = d.has_share[1] = 1;
    double sh[2][3] = {{0.5, 0.3, 0.2}, {0.1, 0.6, 0.3}};
    for (size_t e = 0; e < 2; e++)
        for (size_t i = 0; i < 3; i++)
            share[e * 3 + i] = sh[e][i];
    d.n_importers = 3;
    d.importer_id = ids;
    d.status0 = status0;
    d.exposure = exposure;
    d.military = military;
    d.cover = cover;
    d.share = share;

    resim_ini ini;
    memset(&ini, 0, sizeof ini);
    snprintf(ini.path, sizeof ini.path, "(memory).ini");
    const char *entries[][3] = {{"scenario", "start", "2025-01"},
                                {"scenario", "months", "6"},
                                {"policy", "controlled", "Dy"},
                                {"policy", "approval.watch", "0.5"},
                                {"policy", "delay_mean_days.watch", "45"},
                                {"2025-03", "approval.watch", "0.25"}};
    for (size_t k = 0; k < sizeof entries / sizeof entries[0]; k++)
        check(resim_ini_append(&ini, entries[k][0], entries[k][1], entries[k][2], ini.path,
                               (long)k + 1) == RESIM_OK,
              "append an entry");

    resim_error err = {0};
    resim_scenario sc;
    int rc = resim_scenario_resolve(&sc, &ini, &d, NULL, NULL, &err);
    check(rc == RESIM_OK, err.msg);
    if (rc != RESIM_OK) {
        resim_ini_free(&ini);
        return 1;
    }
    check(sc.n_events == 1, "one event");
    resim_model *m = resim_model_alloc(&sc, RESIM_BY_STATUS, &err);
    check(m != NULL, "model allocated");
    size_t G = resim_model_groups(m);
    double *out = malloc(sc.n_elements * G * RESIM_NMETRICS * sizeof *out);
    check(out != NULL, "output allocated");
    check(resim_model_init(m, &sc, &err) == RESIM_OK, err.msg);
    double v;
    check(resim_parse_double(" 2.385 ", &v) == 0 && v == 2.385, "parse a number");
    for (int t = 0; t < sc.months; t++) {
        resim_model_step(m, out);
        /* Demand of the `all` row is base / 12 (no growth) for each element. */
        check(fabs(out[RESIM_M_DEMAND] - 20) < 1e-12, "Dy demand is 20 t a month");
        check(fabs(out[G * RESIM_NMETRICS + RESIM_M_DEMAND] - 4) < 1e-12,
              "Tb demand is 4 t a month");
        /* Tb is not controlled: nothing is ever pending. */
        check(out[G * RESIM_NMETRICS + RESIM_M_CHINA_PENDING] == 0, "Tb has nothing pending");
    }
    /* After the event, a watch-listed importer of controlled Dy waits for
     * its approvals: something is pending at the end. */
    check(out[RESIM_M_CHINA_PENDING] > 0, "Dy has applications pending");
    free(out);
    resim_model_free(m);
    resim_scenario_free(&sc);
    resim_ini_free(&ini);
    if (failures == 0)
        printf("core_only: ok\n");
    return failures == 0 ? 0 : 1;
}

/*
 * bench_model.c - times the monthly engine in process for scripts/bench: a
 * deterministic run of a scenario and a stochastic replicate of it, each
 * the best of several, with the run itself and nothing of the CSV.
 *
 *   bench_model SCENARIO [RUNS] [REPLICATES]
 *
 * Prints key=value lines: importer-element-months, best deterministic run
 * (model only, and with the scenario resolved as a replicate resolves it),
 * ns per importer-element-month, best stochastic replicate and its multiple
 * of a deterministic run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "resim/data.h"
#include "resim/ensemble.h"
#include "resim/iniread.h"
#include "resim/model.h"
#include "resim/scenario.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const resim_error *err)
{
    fprintf(stderr, "bench_model: %s\n", err->msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_model SCENARIO [RUNS] [REPLICATES]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 20, reps = argc > 3 ? atoi(argv[3]) : 10;
    resim_error err = {0};
    resim_ini ini;
    resim_data d;
    resim_scenario sc;
    char dir[4096];
    if (resim_ini_read(&ini, argv[1], &err) != RESIM_OK)
        return fail(&err);
    resim_scenario_data_dir(&ini, dir, sizeof dir);
    if (resim_data_load(&d, dir, &err) != RESIM_OK)
        return fail(&err);
    if (resim_scenario_resolve(&sc, &ini, &d, NULL, NULL, &err) != RESIM_OK)
        return fail(&err);
    resim_model *m = resim_model_alloc(&sc, RESIM_BY_NONE, &err);
    if (m == NULL)
        return fail(&err);
    const size_t cells = sc.n_elements * resim_model_groups(m) * RESIM_NMETRICS;
    double *month = malloc(cells * sizeof *month);
    double *series = malloc((size_t)sc.months * cells * sizeof *series);
    if (month == NULL || series == NULL)
        return 1;
    const double iem = (double)sc.n_importers * (double)sc.n_elements * (double)sc.months;

    /* Deterministic: init and run, and the same with the scenario resolved. */
    double best = 1e30, best_full = 1e30, check = 0;
    for (int k = 0; k < runs; k++) {
        double t0 = now();
        if (resim_model_init(m, &sc, &err) != RESIM_OK)
            return fail(&err);
        resim_model_run(m, month, series, NULL, NULL);
        double t1 = now();
        best = t1 - t0 < best ? t1 - t0 : best;
        check += series[((size_t)sc.months - 1) * cells];
        resim_scenario s2;
        t0 = now();
        if (resim_scenario_resolve(&s2, &ini, &d, NULL, NULL, &err) != RESIM_OK ||
            resim_model_init(m, &s2, &err) != RESIM_OK)
            return fail(&err);
        resim_model_run(m, month, series, NULL, NULL);
        t1 = now();
        resim_scenario_free(&s2);
        best_full = t1 - t0 < best_full ? t1 - t0 : best_full;
    }

    /* Stochastic: whole replicates as the ensemble computes them. */
    resim_uncertain u = {0};
    if (resim_uncertain_scan(&ini, &d, &u, &err) != RESIM_OK)
        return fail(&err);
    double *draws = malloc((u.n + 1) * sizeof *draws);
    resim_worker *w = resim_worker_alloc(&d, &sc, RESIM_BY_NONE, &err);
    if (w == NULL || draws == NULL)
        return fail(&err);
    double best_rep = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (resim_worker_run(w, &ini, &u, 1, (uint64_t)r, series, draws, &err) != RESIM_OK)
            return fail(&err);
        double t1 = now();
        best_rep = t1 - t0 < best_rep ? t1 - t0 : best_rep;
        check += series[((size_t)sc.months - 1) * cells];
    }
    printf("importer_element_months=%.0f\n", iem);
    printf("deterministic_ms=%.3f\n", best * 1e3);
    printf("deterministic_resolved_ms=%.3f\n", best_full * 1e3);
    printf("ns_per_iem=%.2f\n", best / iem * 1e9);
    printf("stochastic_ms=%.3f\n", best_rep * 1e3);
    printf("stochastic_multiple=%.2f\n", best_rep / best_full);
    printf("checksum=%.17g\n", check);
    resim_worker_free(w);
    resim_uncertain_free(&u);
    free(draws);
    free(series);
    free(month);
    resim_model_free(m);
    resim_scenario_free(&sc);
    resim_data_free(&d);
    resim_ini_free(&ini);
    return 0;
}

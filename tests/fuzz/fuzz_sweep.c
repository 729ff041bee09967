/*
 * fuzz_sweep.c - libFuzzer harness: the input, split on NUL bytes and
 * newlines, is the argument vector of `resim sweep`; it is parsed and the
 * plan built and checked (design, window, series, shard, header, inputs
 * hash, first and last point) without computing points or writing files.
 */
#include "fuzz_common.h"

#include "sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_ARGS 64

/* The scenario named by the arguments: a shipped one by its file name, else
 * the fixture flat.ini (no other file on the machine is ever read). */
static void fuzz_scenario_path(const char *arg, char *buf, size_t n)
{
    static const char *const shipped[] = {"baseline.ini", "japan-2026.ini", "licensing-2025.ini",
                                          "whatif-approvals-20.ini", "whatif-control-doubles.ini",
                                          "whatif-lynas-late.ini"};
    const char *base = strrchr(arg, '/');
    base = base != NULL ? base + 1 : arg;
    for (size_t k = 0; k < sizeof shipped / sizeof shipped[0]; k++)
        if (strcmp(base, shipped[k]) == 0) {
            snprintf(buf, n, "%s/scenarios/%s", RESIM_SOURCE_DIR, shipped[k]);
            return;
        }
    snprintf(buf, n, "%s/s/flat.ini", fuzz_dir);
}

/* A design file argument reads the scratch design (two keys of every scenario). */
static int fuzz_design_kind(const char *d)
{
    static const char *const kinds[] = {"grid", "lhs", "sobol", "saltelli", "morris"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strcmp(d, kinds[k]) == 0)
            return 1;
    return 0;
}

static void fuzz_plan(int argc, char **argv)
{
    sweep_args a;
    plan p;
    cli_scenario s;
    resim_error err = {0};
    char scen[512], design[512];
    memset(&p, 0, sizeof p);
    p.ranks = 1;
    int loaded = 0, code = sweep_parse_args(argc, argv, &a);
    if (code == 0) {
        fuzz_scenario_path(a.scen.scenario, scen, sizeof scen);
        a.scen.scenario = scen;
        if (a.design != NULL && !fuzz_design_kind(a.design)) {
            snprintf(design, sizeof design, "%s/s/design.csv", fuzz_dir);
            a.design = design;
        }
        if (cli_load(&s, &a.scen, &err) == RESIM_OK)
            loaded = 1;
        else
            code = 1;
    }
    if (code == 0)
        code = sweep_build_plan(&p, &a, &s, &err);
    if (code == 0)
        code = sweep_plan_months(&p, &a, &s.sc);
    if (code == 0)
        code = sweep_choose_shard(&p, a.shard);
    if (code == 0) {
        p.n_local = p.total > p.shard_k - 1 ? (p.total - p.shard_k) / p.shard_n + 1 : 0;
        if (sweep_check_design(&p, &s, &err) != RESIM_OK)
            code = 1;
    }
    if (code == 0) {
        cli_sbuf header = {0};
        char inputs[65];
        if (sweep_header_line(&header, &p, &s.sc) == 0)
            sweep_inputs_hash(&p, &a, &s, inputs, &err);
        free(header.p);
        /* The values of the shard's first and last points. */
        char(*val)[VALUE_MAX] = calloc(p.dims, sizeof *val);
        double *x = malloc(p.dims * sizeof *x);
        resim_design_cursor *c =
            p.design != NULL ? resim_design_cursor_alloc(p.design, &err) : NULL;
        if (val != NULL && x != NULL && (p.design == NULL || c != NULL) && p.n_local > 0) {
            sweep_point_values(&p, c, shard_point(&p, 0), val, x, &err);
            sweep_point_values(&p, c, shard_point(&p, p.n_local - 1), val, x, &err);
        }
        resim_design_cursor_free(c);
        free(val);
        free(x);
    }
    sweep_free_plan(&p);
    if (loaded)
        cli_unload(&s);
    free(a.scen.sets);
    free(a.vary);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    fuzz_setup();
    if (!ready) {
        static const char design[] = "policy.approval.watch,alt.capacity_factor\n0.1,0.5\n0.9,1.5\n";
        char path[512];
        snprintf(path, sizeof path, "%s/s/design.csv", fuzz_dir);
        fuzz_write(path, (const uint8_t *)design, sizeof design - 1);
        ready = 1;
    }
    char *text = malloc(size + 1);
    char *argv[FUZZ_MAX_ARGS + 2];
    int argc = 0;
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    argv[argc++] = "sweep";
    size_t start = 0;
    for (size_t i = 0; i <= size && argc <= FUZZ_MAX_ARGS; i++)
        if (i == size || text[i] == '\0' || text[i] == '\n') {
            text[i] = '\0';
            if (i > start || i < size) /* an empty argument is an argument too */
                argv[argc++] = text + start;
            start = i + 1;
        }
    argv[argc] = NULL;
    fuzz_plan(argc, argv);
    free(text);
    return 0;
}

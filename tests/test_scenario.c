/*
 * test_scenario.c - reading scenarios and data: every bad input is an error
 * naming file, line and key; --set overrides; events after the horizon
 * are dropped with a warning.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <gsl/gsl_errno.h>

#include "resim/iniread.h"
#include "resim/scenario.h"

#define FIXTURES RESIM_SOURCE_DIR "/tests/fixtures/"

static char tmp[256];  /* a scratch directory with a copy of the fixture data */
static const char *const data_files[] = {"elements.csv", "demand.csv", "importers.csv",
                                         "alt_sources.csv", "stockpile.csv"};

/* ------------------------------------------------------------ files */

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        fail_msg("cannot open %s", path);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        fail_msg("cannot write %s", path);
    fputs(text, fp);
    fclose(fp);
}

/* Restores the fixture data in tmp/data. */
static void reset_data(void)
{
    for (size_t f = 0; f < 5; f++) {
        char src[512], rel[64];
        snprintf(src, sizeof src, FIXTURES "data/%s", data_files[f]);
        snprintf(rel, sizeof rel, "data/%s", data_files[f]);
        char *text = slurp(src);
        write_file(rel, text);
        free(text);
    }
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[768];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_dir(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/resim_test_scenario.XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    char data[300];
    snprintf(data, sizeof data, "%s/data", tmp);
    if (mkdir(data, 0700) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    remove_dir(tmp);
    return 0;
}

static int restore(void **state)
{
    (void)state;
    reset_data();
    return 0;
}

/* ------------------------------------------------------------ loading */

typedef struct loaded {
    resim_ini ini;
    resim_data data;
    resim_scenario sc;
    resim_error err;
    int rc;
    int warns;
    char warn[512];
} loaded;

static loaded L; /* freed by the per-test teardown, also after a failure */

static int unload(void **state)
{
    (void)state;
    resim_scenario_free(&L.sc);
    resim_data_free(&L.data);
    resim_ini_free(&L.ini);
    memset(&L, 0, sizeof L);
    return 0;
}

static void on_warn(void *ctx, const char *msg)
{
    loaded *l = ctx;
    l->warns++;
    snprintf(l->warn, sizeof l->warn, "%s", msg);
}

/* Reads tmp/s.ini, applies sets, loads its data and resolves: the first failing step's status. */
static int load(const char *const *sets)
{
    char path[512], dir[RESIM_PATH_MAX];
    unload(NULL);
    snprintf(path, sizeof path, "%s/s.ini", tmp);
    if ((L.rc = resim_ini_read(&L.ini, path, &L.err)) != RESIM_OK)
        return L.rc;
    for (size_t k = 0; sets != NULL && sets[k] != NULL; k++)
        if ((L.rc = resim_ini_set(&L.ini, sets[k], &L.err)) != RESIM_OK)
            return L.rc;
    resim_scenario_data_dir(&L.ini, dir, sizeof dir);
    if ((L.rc = resim_data_load(&L.data, dir, &L.err)) != RESIM_OK)
        return L.rc;
    L.rc = resim_scenario_resolve(&L.sc, &L.ini, &L.data, on_warn, &L, &L.err);
    return L.rc;
}

/* Lines 1-6; what a test appends starts on line 7. */
#define HEAD                                                                                      \
    "[scenario]\nname = t\nstart = 2025-01\nmonths = 12\ndata = data\nelements = Dy Tb\n"

static void write_ini(const char *text)
{
    write_file("s.ini", text);
}

/* The error names tmp/FILE, the line (0: no line) and every given word. */
static void expect_msg(const char *file, long line, const char *w1, const char *w2)
{
    char prefix[600];
    if (line > 0)
        snprintf(prefix, sizeof prefix, "%s/%s:%ld: ", tmp, file, line);
    else
        snprintf(prefix, sizeof prefix, "%s/%s: ", tmp, file);
    if (strncmp(L.err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", L.err.msg, prefix);
    if (w1 != NULL && strstr(L.err.msg, w1) == NULL)
        fail_msg("message '%s' does not name '%s'", L.err.msg, w1);
    if (w2 != NULL && strstr(L.err.msg, w2) == NULL)
        fail_msg("message '%s' does not name '%s'", L.err.msg, w2);
    assert_null(strchr(L.err.msg, '\n'));
}

/* An INI that must fail: status, line and the words of its message. */
static void bad_ini(const char *tail, int status, long line, const char *w1, const char *w2)
{
    char text[2048];
    snprintf(text, sizeof text, HEAD "%s", tail);
    write_ini(text);
    int rc = load(NULL);
    if (rc == RESIM_OK)
        fail_msg("accepted:\n%s", tail);
    assert_int_equal(rc, status);
    expect_msg("s.ini", line, w1, w2);
}

/* ------------------------------------------------------------ good input */

static void test_fixture_resolves(void **state)
{
    (void)state;
    char *text = slurp(FIXTURES "licensing.ini");
    write_ini(text);
    free(text);
    assert_int_equal(load(NULL), RESIM_OK);
    const resim_scenario *sc = &L.sc;
    assert_string_equal(sc->name, "licensing");
    assert_int_equal(sc->months, 30);
    assert_int_equal(sc->transit, 2);
    assert_true(sc->adjust == 2.6);
    assert_int_equal(sc->n_elements, 3);
    assert_string_equal(resim_scenario_symbol(sc, 2), "Y");
    assert_int_equal(sc->n_importers, 6);
    assert_int_equal(sc->n_sources, 2);
    for (size_t e = 0; e < sc->n_elements; e++) {
        assert_true(sc->initial.approval[RESIM_WATCH][sc->element[e]] == 0.57);
        assert_true(sc->initial.delay_cv[RESIM_CONTROL][sc->element[e]] == 1.17);
    }
    assert_true(sc->initial.stock_trigger == 0.93);
    /* Source start months are relative to the scenario start. */
    assert_true(sc->initial.source[0].start == -6);
    assert_true(sc->initial.source[1].start == 2);
    int dy = resim_data_element(&L.data, "Dy"), tb = resim_data_element(&L.data, "Tb");
    assert_true(dy >= 0 && tb >= 0);
    assert_int_equal(sc->initial.controlled[dy], 1);
    assert_int_equal(sc->initial.controlled[tb], 0);
    /* Shares are copied per scenario element. */
    assert_true(sc->share[1 * 6 + 0] == 0.305);
    /* Eight events (source = is no event), in date order. */
    assert_int_equal(sc->n_events, 8);
    assert_int_equal(sc->events[0].month, 3);
    assert_int_equal(sc->events[0].kind, RESIM_EV_CONTROLLED_ADD);
    assert_string_equal(sc->events[0].source, "fixture event");
    assert_int_equal(sc->events[3].month, 8);
    assert_int_equal(sc->events[3].kind, RESIM_EV_LIST_ADD);
    assert_int_equal(sc->events[3].status, RESIM_CONTROL);
    assert_true(sc->events[3].value == 2);
    assert_int_equal(sc->events[7].month, 13);
    assert_int_equal(sc->events[7].kind, RESIM_EV_LIST_REMOVE);
    assert_null(sc->events[7].source);
    assert_int_equal(L.warns, 0);
}

static void test_defaults(void **state)
{
    (void)state;
    write_ini("[scenario]\nstart = 2025-01\nmonths = 7\ndata = data\n");
    assert_int_equal(load(NULL), RESIM_OK);
    /* Elements: those licensed in 2025 (Dy, Tb; not Y). */
    assert_int_equal(L.sc.n_elements, 2);
    assert_int_equal(L.sc.transit, 1);
    assert_true(L.sc.adjust == 2);
    assert_int_equal(L.sc.warmup, 0);
    assert_true(L.sc.initial.stock_trigger == 0.9);
    assert_true(L.sc.initial.alt_capacity_factor == 1);
    for (size_t x = 0; x < L.data.n_elements; x++)
        assert_int_equal(L.sc.initial.controlled[x], 0);
}

/* Events dated before the first simulated month take effect in it. */
static void test_early_event(void **state)
{
    (void)state;
    write_ini(HEAD "warmup_months = 2\n[2024-06]\napproval.none = 0.44\n[2024-12]\napproval.none = 0.61\n");
    assert_int_equal(load(NULL), RESIM_OK);
    assert_int_equal(L.sc.n_events, 2);
    assert_int_equal(L.sc.events[0].month, -2);
    assert_true(L.sc.events[0].value == 0.44);
    assert_int_equal(L.sc.events[1].month, -1);
}

static void test_event_after_horizon(void **state)
{
    (void)state;
    write_ini(HEAD "[2025-12]\napproval.none = 0.38\n[2026-03]\napproval.none = 0.41\n");
    assert_int_equal(load(NULL), RESIM_OK);
    assert_int_equal(L.warns, 1);
    char where[600];
    snprintf(where, sizeof where, "%s/s.ini:10:", tmp);
    if (strstr(L.warn, where) == NULL || strstr(L.warn, "approval.none") == NULL)
        fail_msg("warning '%s' does not name %s and the key", L.warn, where);
    /* 2025-12 is month 11, the last: kept. */
    assert_int_equal(L.sc.n_events, 1);
    assert_int_equal(L.sc.events[0].month, 11);
    assert_true(L.sc.events[0].value == 0.38);
}

/* ------------------------------------------------------------ bad INI */

static void test_unknown_section(void **state)
{
    (void)state;
    bad_ini("[polcy]\napproval.none = 0.5\n", RESIM_EINVAL, 8, "[polcy]", NULL);
}

static void test_unknown_key(void **state)
{
    (void)state;
    bad_ini("[policy]\napproval.none = 0.5\napproval.nonee = 0.5\n", RESIM_EINVAL, 9,
            "approval.nonee", "unknown key");
    bad_ini("months_x = 3\n", RESIM_EINVAL, 7, "months_x", NULL);
    bad_ini("[alt]\nsrc_dy.capacity = 3.5\n", RESIM_EINVAL, 8, "src_dy.capacity", NULL);
    bad_ini("[2025-05]\nlist.add.nobody = 3\n", RESIM_EINVAL, 8, "list.add.nobody", NULL);
}

static void test_unknown_element(void **state)
{
    (void)state;
    bad_ini("[policy]\ncontrolled = Dy Xq\n", RESIM_EINVAL, 8, "controlled", "Xq");
    bad_ini("[demand]\nbase_tpy.Xq = 12.5\n", RESIM_EINVAL, 8, "base_tpy.Xq", NULL);
    bad_ini("[2025-04]\ncontrolled.add = Tb Zz\n", RESIM_EINVAL, 8, "controlled.add", "Zz");
    bad_ini("[alt]\nsrc_xx.capacity_tpy = 3.5\n", RESIM_EINVAL, 8, "src_xx.capacity_tpy", NULL);
    write_ini("[scenario]\nstart = 2025-01\nmonths = 12\ndata = data\nelements = Dy Nd\n");
    assert_int_not_equal(load(NULL), RESIM_OK);
    expect_msg("s.ini", 5, "elements", "Nd");
}

static void test_unknown_importer(void **state)
{
    (void)state;
    bad_ini("[2025-04]\nlist.set = imp_a:control,imp_zz:watch\n", RESIM_EINVAL, 8, "list.set",
            "imp_zz");
    bad_ini("[2025-04]\nlist.set = imp_a:banned\n", RESIM_EINVAL, 8, "list.set", "banned");
    bad_ini("[2025-04]\nlist.set = imp_a\n", RESIM_EPARSE, 8, "list.set", "imp_a");
}

static void test_rate_outside_unit(void **state)
{
    (void)state;
    bad_ini("[policy]\napproval.watch = 1.25\n", RESIM_EINVAL, 8, "approval.watch", "1.25");
    bad_ini("[policy]\napproval.control = -0.1\n", RESIM_EINVAL, 8, "approval.control", NULL);
    bad_ini("[stockpile]\ntrigger = 1.5\n", RESIM_EINVAL, 8, "trigger", NULL);
    bad_ini("[2025-06]\nalt.src_tb.japan_share = 1.01\n", RESIM_EINVAL, 8, "japan_share", NULL);
    bad_ini("[policy]\nmilitary_ban = 0.5\n", RESIM_EINVAL, 8, "military_ban", NULL);
}

static void test_negative_values(void **state)
{
    (void)state;
    bad_ini("[policy]\ndelay_mean_days.none = -4.5\n", RESIM_EINVAL, 8, "delay_mean_days.none",
            "-4.5");
    bad_ini("[2025-03]\ndelay_cv.watch = -0.3\n", RESIM_EINVAL, 8, "delay_cv.watch", NULL);
    bad_ini("[alt]\nsrc_dy.capacity_tpy = -12.5\n", RESIM_EINVAL, 8, "src_dy.capacity_tpy",
            "-12.5");
    bad_ini("[stockpile]\ntonnes.Dy = -3\n", RESIM_EINVAL, 8, "tonnes.Dy", NULL);
    bad_ini("[2025-03]\nlist.add.watch = -2\n", RESIM_EINVAL, 8, "list.add.watch", NULL);
    bad_ini("transit_months = -1\n", RESIM_EINVAL, 7, "transit_months", NULL);
    bad_ini("adjust_months = 0.5\n", RESIM_EINVAL, 7, "adjust_months", NULL);
    bad_ini("[demand]\ngrowth.Dy = -1\n", RESIM_EINVAL, 8, "growth.Dy", NULL);
}

/* ------------------------------------------------------------ version 2 */

/* Every version-2 key (docs/model.md sections 9-13) out of its range. */
static void test_v2_out_of_range(void **state)
{
    (void)state;
    bad_ini("[policy]\napproval.watch.Dy = 1.5\n", RESIM_EINVAL, 8, "approval.watch.Dy", "1.5");
    bad_ini("[policy]\ndelay_mean_days.control.Tb = -3\n", RESIM_EINVAL, 8,
            "delay_mean_days.control.Tb", "-3");
    bad_ini("[policy]\ndelay_cv.none.Dy = -0.2\n", RESIM_EINVAL, 8, "delay_cv.none.Dy", NULL);
    bad_ini("[policy]\nmilitary_ban.Dy = 0.5\n", RESIM_EINVAL, 8, "military_ban.Dy", "0 or 1");
    bad_ini("[policy]\nprecaution_months.none.Dy = -1\n", RESIM_EINVAL, 8,
            "precaution_months.none.Dy", "negative");
    bad_ini("[policy]\nprecaution_months.watch = -0.5\n", RESIM_EINVAL, 8,
            "precaution_months.watch", NULL);
    bad_ini("[policy]\ngeneral_licence.none = 1.2\n", RESIM_EINVAL, 8, "general_licence.none",
            "[0, 1]");
    bad_ini("[policy]\ngeneral_licence.watch.Tb = -0.1\n", RESIM_EINVAL, 8,
            "general_licence.watch.Tb", NULL);
    bad_ini("precaution_adjust_months = 0.5\n", RESIM_EINVAL, 7, "precaution_adjust_months",
            "at least 1");
    bad_ini("[substitution]\nrate.Dy = -0.1\n", RESIM_EINVAL, 8, "rate.Dy", "negative");
    bad_ini("[substitution]\ncap = 1.5\n", RESIM_EINVAL, 8, "cap", "[0, 1]");
    bad_ini("[substitution]\nreversion.Tb = -1\n", RESIM_EINVAL, 8, "reversion.Tb", NULL);
    bad_ini("[substitution]\ntrigger = 1.2\n", RESIM_EINVAL, 8, "trigger", "[0, 1]");
    bad_ini("[stockpile]\ndecision_months = 1.5\n", RESIM_EPARSE, 8, "decision_months", "whole");
    bad_ini("[stockpile]\ndecision_months = -1\n", RESIM_EINVAL, 8, "decision_months", NULL);
    bad_ini("[2025-06]\nsubstitution.cap.Dy = 2\n", RESIM_EINVAL, 8, "substitution.cap.Dy", NULL);
    bad_ini("[2025-06]\ngeneral_licence.none.Dy = 1.01\n", RESIM_EINVAL, 8,
            "general_licence.none.Dy", NULL);
}

/* An element the data lacks in a version-2 key. */
static void test_v2_unknown_element(void **state)
{
    (void)state;
    const char *const keys[] = {"approval.none.Xq",     "delay_mean_days.watch.Xq",
                                "delay_cv.control.Xq",  "military_ban.Nd",
                                "precaution_months.watch.Xq", "general_licence.none.Xq"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        char tail[128];
        snprintf(tail, sizeof tail, "[policy]\n%s = 1\n", keys[k]);
        bad_ini(tail, RESIM_EINVAL, 8, keys[k], "unknown element");
    }
    bad_ini("[substitution]\nrate.Xq = 0.1\n", RESIM_EINVAL, 8, "rate.Xq", "unknown element");
    bad_ini("[substitution]\ncap.Nd = 0.1\n", RESIM_EINVAL, 8, "cap.Nd", "unknown element");
    bad_ini("[substitution]\nreversion.Xq = 0.1\n", RESIM_EINVAL, 8, "reversion.Xq",
            "unknown element");
    bad_ini("[2025-06]\napproval.watch.Xq = 0.3\n", RESIM_EINVAL, 8, "approval.watch.Xq",
            "unknown element");
    bad_ini("[2025-06]\nsubstitution.rate.Xq = 0.3\n", RESIM_EINVAL, 8, "substitution.rate.Xq",
            "unknown element");
}

/* A status that is not none, watch or control in a version-2 key. */
static void test_v2_unknown_status(void **state)
{
    (void)state;
    bad_ini("[policy]\napproval.nobody.Dy = 0.5\n", RESIM_EINVAL, 8, "approval.nobody.Dy",
            "unknown key");
    bad_ini("[policy]\nprecaution_months.banned = 1\n", RESIM_EINVAL, 8,
            "precaution_months.banned", "unknown key");
    bad_ini("[policy]\ngeneral_licence.vip.Dy = 0.3\n", RESIM_EINVAL, 8, "general_licence.vip.Dy",
            "unknown key");
    bad_ini("[policy]\ndelay_cv.x.Tb = 0.3\n", RESIM_EINVAL, 8, "delay_cv.x.Tb", "unknown key");
    bad_ini("[stockpile]\neligible = none vip\n", RESIM_EINVAL, 8, "eligible", "vip");
    bad_ini("[2025-06]\nstockpile.eligible = controlled\n", RESIM_EINVAL, 8, "stockpile.eligible",
            "controlled");
    /* The substitution threshold is one number for every element. */
    bad_ini("[substitution]\ntrigger.Dy = 0.9\n", RESIM_EINVAL, 8, "trigger.Dy", "unknown key");
}

/* Version-2 keys resolve into the tables, in the order written. */
static void test_v2_keys_resolve(void **state)
{
    (void)state;
    write_ini(HEAD "precaution_adjust_months = 2.5\n"
                   "[policy]\napproval.watch.Dy = 0.2\napproval.watch = 0.6\napproval.watch.Tb = 0.1\n"
                   "military_ban.Tb = 1\ngeneral_licence.none.Dy = 0.35\n"
                   "[substitution]\nrate = 0.1\ncap.Tb = 0.4\ntrigger = 0.8\n"
                   "[stockpile]\ndecision_months = 3\neligible = watch, control\n"
                   "[2025-06]\nstockpile.eligible =\n");
    assert_int_equal(load(NULL), RESIM_OK);
    const resim_scenario *sc = &L.sc;
    const resim_levers *lv = &sc->initial;
    size_t dy = sc->element[0], tb = sc->element[1];
    assert_true(sc->precaution_adjust == 2.5);
    assert_true(lv->approval[RESIM_WATCH][dy] == 0.6 && lv->approval[RESIM_WATCH][tb] == 0.1);
    assert_true(lv->approval[RESIM_NONE][dy] == 1 && lv->approval[RESIM_CONTROL][tb] == 0);
    assert_true(lv->military_ban[tb] == 1 && lv->military_ban[dy] == 0);
    assert_true(lv->general_licence[RESIM_NONE][dy] == 0.35);
    assert_true(lv->general_licence[RESIM_NONE][tb] == 0);
    assert_true(lv->subst_rate[dy] == 0.1 && lv->subst_rate[tb] == 0.1);
    assert_true(lv->subst_cap[tb] == 0.4 && lv->subst_cap[dy] == 1);
    assert_true(lv->subst_trigger == 0.8 && lv->subst_reversion[dy] == 0);
    assert_true(lv->stock_decision_months == 3);
    assert_true(lv->stock_eligible == (1u << RESIM_WATCH | 1u << RESIM_CONTROL));
    assert_int_equal(sc->n_events, 1);
    assert_true(sc->events[0].lever.id == RESIM_LEVER_STOCK_ELIGIBLE && sc->events[0].value == 0);
}

static void test_malformed_date(void **state)
{
    (void)state;
    bad_ini("[2026-13]\napproval.none = 0.5\n", RESIM_EINVAL, 8, "[2026-13]", NULL);
    bad_ini("[2026-1]\napproval.none = 0.5\n", RESIM_EINVAL, 8, "[2026-1]", NULL);
    write_ini("[scenario]\nname = t\nstart = 2026/01\nmonths = 12\ndata = data\n");
    assert_int_equal(load(NULL), RESIM_EPARSE);
    expect_msg("s.ini", 3, "start", "2026/01");
    bad_ini("[alt]\nsrc_tb.start = 2025-00\n", RESIM_EPARSE, 8, "src_tb.start", "2025-00");
}

static void test_bad_number(void **state)
{
    (void)state;
    bad_ini("[policy]\napproval.none = 0.5x\n", RESIM_EPARSE, 8, "approval.none", "0.5x");
    bad_ini("[policy]\napproval.none =\n", RESIM_EPARSE, 8, "approval.none", NULL);
    bad_ini("[demand]\nbase_tpy.Dy = 1e999\n", RESIM_EPARSE, 8, "base_tpy.Dy", NULL);
    bad_ini("[demand]\nbase_tpy.Dy = nan\n", RESIM_EPARSE, 8, "base_tpy.Dy", NULL);
    bad_ini("warmup_months = 2.5\n", RESIM_EPARSE, 7, "warmup_months", NULL);
    bad_ini("[2025-05]\nlist.add.control = many\n", RESIM_EPARSE, 8, "list.add.control", "many");
}

static void test_duplicate_key(void **state)
{
    (void)state;
    bad_ini("[policy]\napproval.none = 0.5\napproval.none = 0.6\n", RESIM_EPARSE, 9,
            "approval.none", "twice");
    bad_ini("months = 24\n", RESIM_EPARSE, 7, "months", "twice");
}

static void test_missing_start(void **state)
{
    (void)state;
    write_ini("[scenario]\nname = t\nmonths = 12\ndata = data\n");
    assert_int_not_equal(load(NULL), RESIM_OK);
    expect_msg("s.ini", 0, "start", NULL);
}

static void test_not_ini(void **state)
{
    (void)state;
    bad_ini("this is not a key\n", RESIM_EPARSE, 7, NULL, NULL);
}

static void test_missing_scenario_file(void **state)
{
    (void)state;
    resim_ini ini;
    resim_error err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/absent.ini", tmp);
    assert_int_equal(resim_ini_read(&ini, path, &err), RESIM_EIO);
    assert_non_null(strstr(err.msg, path));
}

/* ------------------------------------------------------------ base = */

/* A file read with its base: keys replaced in place or added, each with its
 * own file and line, the base recorded; a copy keeps all of it after the
 * original is freed. */
static void test_base_merge(void **state)
{
    (void)state;
    write_file("b.ini", "[scenario]\nname = b\nstart = 2025-01\n\n[2026-02]\n"
                        "approval.watch = 0.5\nlist.add.control = 3\n");
    write_file("c.ini", "; child\n[scenario]\nbase = b.ini\n[2026-02]\napproval.watch = 0.25\n"
                        "approval.none = 0.125\n");
    char child[512], base[512];
    snprintf(child, sizeof child, "%s/c.ini", tmp);
    snprintf(base, sizeof base, "%s/b.ini", tmp);
    resim_ini ini, copy;
    resim_error err = {0};
    assert_int_equal(resim_ini_read_scenario(&ini, child, &err), RESIM_OK);
    assert_string_equal(ini.path, child);
    assert_null(resim_ini_get(&ini, "scenario", "base"));
    assert_int_equal(ini.n, 5);
    /* The replaced key keeps the base's place, before the base's next key. */
    assert_string_equal(ini.v[2].key, "approval.watch");
    assert_string_equal(ini.v[2].value, "0.25");
    assert_string_equal(ini.v[2].file, child);
    assert_int_equal(ini.v[2].line, 5);
    assert_string_equal(ini.v[3].key, "list.add.control");
    assert_string_equal(ini.v[3].file, base);
    assert_int_equal(ini.v[3].line, 7);
    assert_string_equal(ini.v[4].key, "approval.none");
    assert_int_equal(ini.v[4].line, 6);
    assert_int_equal(ini.n_files, 1);
    assert_string_equal(ini.files[0], base);
    assert_int_equal(resim_ini_copy(&copy, &ini, &err), RESIM_OK);
    resim_ini_free(&ini);
    assert_int_equal(copy.n_files, 1);
    assert_string_equal(copy.files[0], base);
    assert_ptr_equal(copy.v[3].file, copy.files[0]);
    assert_ptr_equal(copy.v[2].file, copy.path);
    resim_ini_free(&copy);
}

static void test_base_cycle(void **state)
{
    (void)state;
    write_file("x.ini", "[scenario]\nbase = y.ini\n");
    write_file("y.ini", "[scenario]\n\nbase = x.ini\n");
    char path[512], prefix[600];
    snprintf(path, sizeof path, "%s/x.ini", tmp);
    snprintf(prefix, sizeof prefix, "%s/y.ini:3: ", tmp);
    resim_ini ini;
    resim_error err = {0};
    assert_int_equal(resim_ini_read_scenario(&ini, path, &err), RESIM_EINVAL);
    assert_int_equal(strncmp(err.msg, prefix, strlen(prefix)), 0);
    assert_non_null(strstr(err.msg, "cycle"));
    resim_ini_free(&ini); /* zeroed on failure */
}

/* ------------------------------------------------------------ --set */

static void test_set_syntax(void **state)
{
    (void)state;
    write_ini(HEAD);
    const char *const bad[] = {"policyapproval", "policy_approval=0.3", ".approval=0.3",
                               "policy.=0.3", "approval=policy.x"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *sets[] = {bad[k], NULL};
        int rc = load(sets);
        if (rc != RESIM_EUSAGE)
            fail_msg("--set %s gave %d, not RESIM_EUSAGE", bad[k], rc);
        if (strstr(L.err.msg, "--set") == NULL || strstr(L.err.msg, bad[k]) == NULL)
            fail_msg("message '%s' does not name --set and '%s'", L.err.msg, bad[k]);
    }
}

static void test_set_override_and_append(void **state)
{
    (void)state;
    write_ini(HEAD "[policy]\napproval.none = 0.5\n");
    const char *sets[] = {"policy.approval.none = 0.37", "policy.delay_cv.watch=0.66",
                          "2025-07.approval.watch=0.21", "scenario.months=9", NULL};
    assert_int_equal(load(sets), RESIM_OK);
    /* The override replaced the file's entry: no new entry. */
    const resim_ini_entry *e = resim_ini_get(&L.ini, "policy", "approval.none");
    assert_non_null(e);
    assert_string_equal(e->value, "0.37");
    assert_string_equal(e->file, "--set");
    assert_int_equal(e->line, 0);
    size_t count = 0;
    for (size_t i = 0; i < L.ini.n; i++)
        count += strcmp(L.ini.v[i].key, "approval.none") == 0;
    assert_int_equal(count, 1);
    assert_true(L.sc.initial.approval[RESIM_NONE][L.sc.element[0]] == 0.37);
    assert_int_equal(L.sc.months, 9);
    /* A new key is appended. */
    e = resim_ini_get(&L.ini, "policy", "delay_cv.watch");
    assert_non_null(e);
    assert_string_equal(e->value, "0.66");
    assert_true(L.sc.initial.delay_cv[RESIM_WATCH][L.sc.element[0]] == 0.66);
    /* An event section is created, and its event resolved. */
    int found = 0;
    for (size_t i = 0; i < L.ini.n_sections; i++)
        found |= strcmp(L.ini.sections[i], "2025-07") == 0;
    assert_true(found);
    assert_int_equal(L.sc.n_events, 1);
    assert_int_equal(L.sc.events[0].month, 6);
    assert_true(L.sc.events[0].value == 0.21);
}

/* A bad value given by --set names --set, not the file. */
static void test_set_bad_value(void **state)
{
    (void)state;
    write_ini(HEAD);
    const char *sets[] = {"policy.approval.none=1.7", NULL};
    assert_int_equal(load(sets), RESIM_EINVAL);
    assert_true(strncmp(L.err.msg, "--set: ", 7) == 0);
    assert_non_null(strstr(L.err.msg, "approval.none"));
    const char *sets2[] = {"bogus.key=1", NULL};
    assert_int_not_equal(load(sets2), RESIM_OK);
    assert_non_null(strstr(L.err.msg, "bogus"));
}

/* ------------------------------------------------------------ bad data */

static void bad_data(const char *file, const char *text, int status, long line, const char *w1,
                     const char *w2)
{
    char rel[64];
    snprintf(rel, sizeof rel, "data/%s", file);
    write_file(rel, text);
    write_ini(HEAD);
    int rc = load(NULL);
    if (rc == RESIM_OK)
        fail_msg("data/%s accepted:\n%s", file, text);
    assert_int_equal(rc, status);
    char where[64];
    snprintf(where, sizeof where, "data/%s", file);
    expect_msg(where, line, w1, w2);
    reset_data();
}

static void test_data_missing_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/data/stockpile.csv", tmp);
    assert_int_equal(unlink(path), 0);
    write_ini(HEAD);
    assert_int_equal(load(NULL), RESIM_EIO);
    expect_msg("data/stockpile.csv", 0, NULL, NULL);
}

static void test_data_unterminated_quote(void **state)
{
    (void)state;
    bad_data("importers.csv",
             "id,name,status,exposure,military,cover_months,share_Dy,share_Tb,share_Y\n"
             "imp_a,A,none,0.62,0.15,2.7,0.5,0.5,0.5\n"
             "imp_b,\"Importer B,none,0.87,0.40,3.1,0.5,0.5,0.5\n",
             RESIM_EPARSE, 3, "quoted", NULL);
    /* A quote inside an unquoted field is malformed too (strict mode). */
    bad_data("demand.csv", "element,base_tpy,growth\nDy,23\"8.5,0.027\n", RESIM_EPARSE, 2,
             "malformed", NULL);
}

static void test_data_column_count(void **state)
{
    (void)state;
    bad_data("demand.csv", "element,base_tpy,growth\nDy,238.5,0.027\nTb,87.3,0.041,extra\n",
             RESIM_EPARSE, 3, "4 fields", NULL);
    bad_data("alt_sources.csv",
             "id,element,capacity_tpy,start,ramp_months,growth,japan_share\nsrc_dy,Dy,41.7\n",
             RESIM_EPARSE, 2, NULL, NULL);
}

static void test_data_missing_column(void **state)
{
    (void)state;
    bad_data("demand.csv", "element,base_tpy\nDy,238.5\nTb,87.3\n", RESIM_EPARSE, 1, "growth",
             NULL);
    bad_data("stockpile.csv", "element,tonnes\nDy,29.3\n", RESIM_EPARSE, 1, "release_max_tpm",
             NULL);
    bad_data("elements.csv", "symbol,name_en\nDy,Dysprosium\n", RESIM_EPARSE, 1, "licensed_2025",
             NULL);
}

static void test_data_shares(void **state)
{
    (void)state;
    bad_data("importers.csv",
             "id,status,exposure,military,cover_months,share_Dy,share_Tb\n"
             "imp_a,none,0.62,0.15,2.7,0.4,0.5\n"
             "imp_b,none,0.87,0.40,3.1,0.6,0.4999\n",
             RESIM_EINVAL, 0, "share_Tb", "tolerance");
    bad_data("importers.csv",
             "id,status,exposure,military,cover_months,share_Dy\n"
             "imp_a,none,0.62,0.15,2.7,0.4\nimp_b,none,1.87,0.40,3.1,0.6\n",
             RESIM_EINVAL, 3, "exposure", NULL);
    bad_data("importers.csv",
             "id,status,exposure,military,cover_months,share_Dy\n"
             "imp_a,none,0.62,0.15,2.7,0.4\nimp_b,listed,0.87,0.40,3.1,0.6\n",
             RESIM_EINVAL, 3, "status", "listed");
    bad_data("importers.csv",
             "id,status,exposure,military,cover_months,share_Dy\n"
             "imp_a,none,0.62,0.15,2.7,0.4\nimp_a,none,0.87,0.40,3.1,0.6\n",
             RESIM_EINVAL, 3, "imp_a", "twice");
}

/* A scenario element with no share column is an error on the importer table. */
static void test_data_no_share_column(void **state)
{
    (void)state;
    write_file("data/importers.csv",
               "id,status,exposure,military,cover_months,share_Dy\n"
               "imp_a,none,0.62,0.15,2.7,0.4\nimp_b,none,0.87,0.40,3.1,0.6\n");
    write_ini(HEAD);
    assert_int_not_equal(load(NULL), RESIM_OK);
    expect_msg("data/importers.csv", 1, "share_Tb", NULL);
}

static void test_data_unknown_element(void **state)
{
    (void)state;
    bad_data("demand.csv", "element,base_tpy,growth\nDy,238.5,0.027\nXx,87.3,0.041\n",
             RESIM_EINVAL, 3, "Xx", NULL);
    bad_data("alt_sources.csv",
             "id,element,capacity_tpy,start,ramp_months,growth,japan_share\n"
             "src_dy,Dy,41.7,2024-07,5,0.035,0.62\nsrc_nd,Nd,13.9,2025-03,3,0,0.48\n",
             RESIM_EINVAL, 3, "Nd", NULL);
    bad_data("stockpile.csv", "element,tonnes,release_max_tpm\nQq,29.3,7.1\n", RESIM_EINVAL, 2,
             "Qq", NULL);
    bad_data("importers.csv",
             "id,status,exposure,military,cover_months,share_Dy,share_Tb,share_Ho\n"
             "imp_a,none,0.62,0.15,2.7,1,1,1\n",
             RESIM_EINVAL, 1, "share_Ho", NULL);
}

static void test_data_bad_source_start(void **state)
{
    (void)state;
    bad_data("alt_sources.csv",
             "id,element,capacity_tpy,start,ramp_months,growth,japan_share\n"
             "src_dy,Dy,41.7,2024-07,5,0.035,0.62\nsrc_tb,Tb,13.9,2025-3,3,0,0.48\n",
             RESIM_EPARSE, 3, "start", "2025-3");
    bad_data("alt_sources.csv",
             "id,element,capacity_tpy,start,ramp_months,growth,japan_share\n"
             "src_dy,Dy,41.7,July 2024,5,0.035,0.62\n",
             RESIM_EPARSE, 2, "start", "July 2024");
}

static void test_data_bad_number(void **state)
{
    (void)state;
    bad_data("demand.csv", "element,base_tpy,growth\nDy,238.5,0.027\nTb,lots,0.041\n",
             RESIM_EPARSE, 3, "base_tpy", "lots");
    bad_data("stockpile.csv", "element,tonnes,release_max_tpm\nDy,-29.3,7.1\n", RESIM_EINVAL, 2,
             "tonnes", NULL);
    bad_data("elements.csv", "symbol,licensed_2025\nDy,1\nDy,1\n", RESIM_EINVAL, 3, "Dy", NULL);
}

/* A demand row with its line broken inside quotes keeps later line numbers right. */
static void test_data_line_numbers_after_quoted_newline(void **state)
{
    (void)state;
    bad_data("demand.csv",
             "element,base_tpy,growth,source\nDy,238.5,0.027,\"two\nlines\"\nTb,87.3,oops,x\n",
             RESIM_EPARSE, 4, "growth", "oops");
}

/* ------------------------------------------------------------ dates */

static void test_dates(void **state)
{
    (void)state;
    int ym = -1;
    assert_int_equal(resim_date_parse("2026-02", &ym), 0);
    assert_int_equal(ym, 2026 * 12 + 1);
    char buf[8];
    resim_date_format(ym, buf);
    assert_string_equal(buf, "2026-02");
    resim_date_format(1999 * 12 + 11, buf);
    assert_string_equal(buf, "1999-12");
    const char *bad[] = {"2026-13", "2026-00", "2026/01", "2026-1", "26-01", "2026-01x", "",
                         "abcd-ef"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        if (resim_date_parse(bad[k], &ym) == 0)
            fail_msg("'%s' parsed as a date", bad[k]);
}

#define T(f) cmocka_unit_test_setup_teardown(f, restore, unload)

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        T(test_fixture_resolves),
        T(test_defaults),
        T(test_early_event),
        T(test_event_after_horizon),
        T(test_unknown_section),
        T(test_unknown_key),
        T(test_unknown_element),
        T(test_unknown_importer),
        T(test_rate_outside_unit),
        T(test_negative_values),
        T(test_v2_out_of_range),
        T(test_v2_unknown_element),
        T(test_v2_unknown_status),
        T(test_v2_keys_resolve),
        T(test_malformed_date),
        T(test_bad_number),
        T(test_duplicate_key),
        T(test_missing_start),
        T(test_not_ini),
        T(test_missing_scenario_file),
        T(test_base_merge),
        T(test_base_cycle),
        T(test_set_syntax),
        T(test_set_override_and_append),
        T(test_set_bad_value),
        T(test_data_missing_file),
        T(test_data_unterminated_quote),
        T(test_data_column_count),
        T(test_data_missing_column),
        T(test_data_shares),
        T(test_data_no_share_column),
        T(test_data_unknown_element),
        T(test_data_bad_source_start),
        T(test_data_bad_number),
        T(test_data_line_numbers_after_quoted_newline),
        T(test_dates),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

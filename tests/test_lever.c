/*
 * test_lever.c - the lever table (lever.h): every line is consistent with
 * its shape, kind and default; lookups tell an unknown key from an unknown
 * element or source; event keys are found bare or with their section;
 * values are checked against the kind; stores reach the right field; the
 * report lists the resolved levers in the order the sidecar keeps.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resim/iniread.h"
#include "resim/lever.h"
#include "resim/scenario.h"

#define FIXTURES RESIM_SOURCE_DIR "/tests/fixtures/"

static resim_data data;

static int setup(void **state)
{
    (void)state;
    resim_error err = {0};
    if (resim_data_load(&data, FIXTURES "data", &err) != RESIM_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    resim_data_free(&data);
    return 0;
}

/* ------------------------------------------------------------ the table */

static void test_lines_are_consistent(void **state)
{
    (void)state;
    assert_int_equal(resim_lever_count(), RESIM_NLEVERS);
    assert_null(resim_lever_at(RESIM_NLEVERS));
    for (size_t i = 0; i < resim_lever_count(); i++) {
        const resim_lever *l = resim_lever_at(i);
        char what[128];
        snprintf(what, sizeof what, "%s (%s.%s)", l->name, l->section->name, l->key);
        assert_int_equal(l->id, (resim_lever_id)i);
        assert_ptr_equal(resim_lever_get(l->id), l);
        /* The placeholders say the shape. */
        int has_s = strstr(l->key, "<status>") != NULL, has_e = strstr(l->key, "<El>") != NULL;
        int has_j = strstr(l->key, "<source>") != NULL;
        resim_lever_shape want = has_s && has_e ? RESIM_SHAPE_STATUS_ELEMENT
                                 : has_s        ? RESIM_SHAPE_STATUS
                                 : has_e        ? RESIM_SHAPE_ELEMENT
                                 : has_j        ? RESIM_SHAPE_SOURCE
                                                : RESIM_SHAPE_SCALAR;
        if (l->shape != want)
            fail_msg("%s: shape %d, its key says %d", what, l->shape, want);
        if ((l->flags & RESIM_LEVER_ALL_ELEMENTS) && !has_e)
            fail_msg("%s: ALL_ELEMENTS without <El>", what);
        if ((l->flags & RESIM_LEVER_LISTED) && !has_s)
            fail_msg("%s: LISTED without <status>", what);
        if (l->help == NULL || strlen(l->help) < 10 || l->unit == NULL)
            fail_msg("%s: no help line or unit", what);
        /* Numeric kinds have a range holding their default. */
        if (resim_lever_numeric(l->kind)) {
            if (!(l->lo <= l->hi))
                fail_msg("%s: range [%g, %g]", what, l->lo, l->hi);
            int ns = l->shape == RESIM_SHAPE_STATUS ? RESIM_NSTATUSES : 1;
            for (int s = 0; s < ns && !isnan(l->def[0]); s++)
                if (!(l->def[s] >= l->lo && l->def[s] <= l->hi))
                    fail_msg("%s: default %g outside [%g, %g]", what, l->def[s], l->lo, l->hi);
            if ((l->flags & RESIM_LEVER_FROM_DATA) != 0 && !isnan(l->def[0]))
                fail_msg("%s: a default from the data and one in the table", what);
        } else if (l->flags & RESIM_LEVER_DIST) {
            fail_msg("%s: a distribution on a key that takes no number", what);
        }
        /* Kept in resim_levers: a number, a status mask, or the controlled set. */
        if (l->offset != RESIM_LEVER_NOWHERE && !resim_lever_numeric(l->kind) &&
            l->kind != RESIM_KIND_MONTH && l->kind != RESIM_KIND_STATUSES &&
            l->id != RESIM_LEVER_CONTROLLED)
            fail_msg("%s: kept in resim_levers but not a number", what);
        /* Names once: no two lines with the same section and key. */
        for (size_t k = 0; k < i; k++) {
            const resim_lever *o = resim_lever_at(k);
            if (o->section == l->section && strcmp(o->key, l->key) == 0)
                fail_msg("%s given twice", what);
        }
    }
    const char *names[16];
    assert_int_equal(resim_lever_sections(names, 16, 0), 8);
    assert_string_equal(names[0], "scenario");
    assert_string_equal(names[5], "substitution");
    assert_string_equal(names[7], "list_process");
    assert_int_equal(resim_lever_sections(names, 16, 1), 6);
    char list[256];
    resim_lever_section_list(list, sizeof list, 1);
    assert_string_equal(list,
                        "scenario, policy, demand, alt, stockpile, substitution or a month YYYY-MM");
    assert_true(resim_lever_section_known("list_process", 0));
    assert_false(resim_lever_section_known("list_process", 1));
    assert_false(resim_lever_section_known("2026-02", 0));
    assert_int_equal(resim_section_of("alt"), RESIM_SECTION_ALT);
    assert_int_equal(resim_section_of("2026-02"), RESIM_SECTION_EVENT);
    assert_int_equal(resim_section_of(RESIM_EVENT_SECTION), -1);
    assert_int_equal(resim_section_of("nosuch"), -1);
    assert_string_equal(resim_section_get(RESIM_SECTION_LIST_PROCESS)->name, "list_process");
}

/* ------------------------------------------------------------ lookups */

static int find(const char *section, const char *key, resim_lever_ref *ref)
{
    return resim_lever_find(&data, section, key, ref);
}

static void test_find(void **state)
{
    (void)state;
    resim_lever_ref r;
    int dy = resim_data_element(&data, "Dy"), src = resim_data_source(&data, "src_tb");
    assert_true(dy >= 0 && src >= 0);

    assert_int_equal(find("policy", "approval.watch", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_APPROVAL);
    assert_int_equal(r.status, RESIM_WATCH);
    assert_int_equal(find("policy", "approval.bogus", &r), RESIM_LEVER_UNKNOWN_KEY);
    /* Version 2 (docs/model.md section 9): a key with an element sets one. */
    assert_int_equal(r.element, RESIM_LEVER_ALL);
    assert_int_equal(find("policy", "approval.watch.Dy", &r), RESIM_LEVER_FOUND);
    assert_true(r.id == RESIM_LEVER_APPROVAL && r.status == RESIM_WATCH && r.element == dy);
    assert_int_equal(find("policy", "approval.watch.x", &r), RESIM_LEVER_UNKNOWN_INDEX);
    assert_int_equal(find("policy", "approval.bogus.Dy", &r), RESIM_LEVER_UNKNOWN_KEY);
    assert_int_equal(find("policy", "military_ban.Dy", &r), RESIM_LEVER_FOUND);
    assert_true(r.id == RESIM_LEVER_MILITARY_BAN && r.element == dy);
    assert_int_equal(find("policy", "military_ban", &r), RESIM_LEVER_FOUND);
    assert_true(r.id == RESIM_LEVER_MILITARY_BAN && r.element == RESIM_LEVER_ALL);
    assert_int_equal(find("policy", "general_licence.none", &r), RESIM_LEVER_FOUND);
    assert_int_equal(find("policy", "precaution_months.control.Dy", &r), RESIM_LEVER_FOUND);
    assert_int_equal(find("substitution", "rate.Dy", &r), RESIM_LEVER_FOUND);
    assert_true(r.id == RESIM_LEVER_SUBST_RATE && r.element == dy);
    assert_int_equal(find("substitution", "cap", &r), RESIM_LEVER_FOUND);
    assert_true(r.id == RESIM_LEVER_SUBST_CAP && r.element == RESIM_LEVER_ALL);
    assert_int_equal(find("substitution", "trigger.Dy", &r), RESIM_LEVER_UNKNOWN_KEY);
    assert_int_equal(find("stockpile", "eligible", &r), RESIM_LEVER_FOUND);
    assert_int_equal(find("stockpile", "decision_months", &r), RESIM_LEVER_FOUND);
    /* In an event a bare trigger is the stockpile's; the substitution
     * threshold carries its section. */
    assert_int_equal(find("2026-02", "trigger", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_STOCK_TRIGGER);
    assert_int_equal(find("2026-02", "substitution.trigger", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_SUBST_TRIGGER);
    assert_int_equal(find("2026-02", "cap.Dy", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_SUBST_CAP);
    assert_int_equal(find("policy", "approval", &r), RESIM_LEVER_UNKNOWN_KEY);
    assert_int_equal(find("demand", "growth.Dy", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_GROWTH);
    assert_int_equal(r.element, dy);
    /* An element or source the data lacks is not an unknown key. */
    assert_int_equal(find("demand", "growth.Xx", &r), RESIM_LEVER_UNKNOWN_INDEX);
    assert_int_equal(find("alt", "nosuch.capacity_tpy", &r), RESIM_LEVER_UNKNOWN_INDEX);
    assert_int_equal(find("alt", "src_tb.nosuch", &r), RESIM_LEVER_UNKNOWN_KEY);
    assert_int_equal(find("alt", "nosuch.nofield", &r), RESIM_LEVER_UNKNOWN_KEY);
    assert_int_equal(find("demand", "base_tpy.Dy.x", &r), RESIM_LEVER_UNKNOWN_INDEX);
    assert_int_equal(find("alt", "src_tb.ramp_months", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_SOURCE_RAMP_MONTHS);
    assert_int_equal(r.source, src);
    assert_int_equal(find("alt", "capacity_factor", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_ALT_CAPACITY_FACTOR);
    assert_int_equal(find("alt", "foo", &r), RESIM_LEVER_UNKNOWN_KEY);
    assert_int_equal(find("scenario", "months", &r), RESIM_LEVER_FOUND);
    assert_int_equal(find("nosection", "months", &r), RESIM_LEVER_UNKNOWN_KEY);
    /* A bare key that sets every element, where the table allows it. */
    assert_int_equal(find("stochastic", "lot_tonnes", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.element, RESIM_LEVER_ALL);
    assert_int_equal(find("demand", "growth", &r), RESIM_LEVER_UNKNOWN_KEY);
    /* The random list process moves to watch or control, never to none. */
    assert_int_equal(find("list_process", "add.control.batch", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.status, RESIM_CONTROL);
    assert_int_equal(find("list_process", "add.none.batch", &r), RESIM_LEVER_UNKNOWN_KEY);
}

static void test_find_events(void **state)
{
    (void)state;
    resim_lever_ref r;
    /* Bare, with the section, and keys only events take. */
    assert_int_equal(find("2026-02", "approval.control", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_APPROVAL);
    assert_int_equal(r.status, RESIM_CONTROL);
    assert_int_equal(find("2026-02", "policy.approval.control", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_APPROVAL);
    assert_int_equal(find("2026-02", "capacity_factor", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_ALT_CAPACITY_FACTOR);
    assert_int_equal(find("2026-02", "src_dy.capacity_factor", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_SOURCE_CAPACITY_FACTOR);
    assert_int_equal(find("2026-02", "alt.src_dy.capacity_factor", &r), RESIM_LEVER_FOUND);
    assert_int_equal(find("2026-02", "alt.nosuch.capacity_factor", &r), RESIM_LEVER_UNKNOWN_INDEX);
    assert_int_equal(find("2026-02", "stockpile.tonnes.Dy", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_STOCK_TONNES);
    /* Bare per-element keys of a later section are found too (the source
     * keys of [alt] do not take "tonnes" for a source). */
    assert_int_equal(find("2026-02", "tonnes.Dy", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_STOCK_TONNES);
    assert_int_equal(find("2026-02", "release_max_tpm.Tb", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_STOCK_RELEASE_MAX);
    assert_int_equal(find("2026-02", "policy.controlled", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_CONTROLLED);
    assert_int_equal(find("2026-02", "controlled.add", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_CONTROLLED_ADD);
    assert_int_equal(find("2026-02", "list.add.watch", &r), RESIM_LEVER_FOUND);
    assert_int_equal(r.id, RESIM_LEVER_LIST_ADD);
    assert_int_equal(r.status, RESIM_WATCH);
    assert_int_equal(find("2026-02", "list.add.none", &r), RESIM_LEVER_UNKNOWN_KEY);
    assert_int_equal(find("2026-02", "source", &r), RESIM_LEVER_FOUND);
    /* Run-wide keys are not event levers, and neither is the lot size. */
    assert_int_equal(find("2026-02", "months", &r), RESIM_LEVER_UNKNOWN_KEY);
    assert_int_equal(find("2026-02", "scenario.months", &r), RESIM_LEVER_UNKNOWN_KEY);
    assert_int_equal(find("2026-02", "lot_tonnes", &r), RESIM_LEVER_UNKNOWN_KEY);
    /* Event-only keys are not keys of a lever section. */
    assert_int_equal(find("policy", "list.add.watch", &r), RESIM_LEVER_UNKNOWN_KEY);
}

/* ------------------------------------------------------------ values */

static int parse(resim_lever_id id, const char *value, double *v, resim_error *err)
{
    char section[] = "policy", key[] = "k", val[64];
    snprintf(val, sizeof val, "%s", value);
    resim_ini_entry e = {section, key, val, "f.ini", 7};
    return resim_lever_parse(resim_lever_get(id), &e, 2025 * 12, v, err);
}

static void test_parse(void **state)
{
    (void)state;
    double v = -5;
    resim_error err = {0};
    assert_int_equal(parse(RESIM_LEVER_APPROVAL, "0.385", &v, &err), RESIM_OK);
    assert_true(v == 0.385);
    assert_int_equal(parse(RESIM_LEVER_APPROVAL, "1.5", &v, &err), RESIM_EINVAL);
    assert_string_equal(err.msg, "f.ini:7: [policy] k: rate outside [0, 1]: 1.5");
    assert_int_equal(parse(RESIM_LEVER_APPROVAL, "x", &v, &err), RESIM_EPARSE);
    assert_string_equal(err.msg, "f.ini:7: [policy] k: not a number: x");
    assert_int_equal(parse(RESIM_LEVER_GROWTH, "-1", &v, &err), RESIM_EINVAL);
    assert_int_equal(parse(RESIM_LEVER_GROWTH, "-0.999", &v, &err), RESIM_OK);
    assert_int_equal(parse(RESIM_LEVER_MILITARY_BAN, "0.5", &v, &err), RESIM_EINVAL);
    assert_string_equal(err.msg, "f.ini:7: [policy] k: must be 0 or 1: 0.5");
    assert_int_equal(parse(RESIM_LEVER_LOT_TONNES, "0", &v, &err), RESIM_EINVAL);
    assert_int_equal(parse(RESIM_LEVER_ADJUST, "0.75", &v, &err), RESIM_EINVAL);
    assert_int_equal(parse(RESIM_LEVER_MONTHS, "12.5", &v, &err), RESIM_EPARSE);
    assert_string_equal(err.msg, "f.ini:7: [policy] k: not a whole number: 12.5");
    assert_int_equal(parse(RESIM_LEVER_MONTHS, "0", &v, &err), RESIM_EINVAL);
    assert_string_equal(err.msg, "f.ini:7: [policy] k: 0 outside [1, 12000]");
    assert_int_equal(parse(RESIM_LEVER_TRANSIT, "1200", &v, &err), RESIM_OK);
    assert_true(v == 1200);
    /* A month is counted from the start given (January 2025 here). */
    assert_int_equal(parse(RESIM_LEVER_SOURCE_START, "2026-03", &v, &err), RESIM_OK);
    assert_true(v == 14);
    assert_int_equal(parse(RESIM_LEVER_SOURCE_START, "2026-13", &v, &err), RESIM_EPARSE);
    assert_int_equal(parse(RESIM_LEVER_LIST_ADD, "-2", &v, &err), RESIM_EINVAL);
    assert_int_equal(parse(RESIM_LEVER_CONTROLLED, "Dy", &v, &err), RESIM_EINVAL);

    double lo, hi;
    assert_int_equal(resim_key_range(&data, "policy", "approval.none", &lo, &hi), 0);
    assert_true(lo == 0 && hi == 1);
    assert_int_equal(resim_key_range(&data, "demand", "growth.Tb", &lo, &hi), 0);
    assert_true(lo > -1 && nextafter(lo, -2) == -1 && isinf(hi));
    assert_int_equal(resim_key_range(&data, "stochastic", "lot_tonnes", &lo, &hi), 0);
    assert_true(lo > 0 && nextafter(lo, -1) == 0);
    assert_int_equal(resim_key_range(&data, "2026-02", "list.remove.control", &lo, &hi), 0);
    assert_int_equal(resim_key_range(&data, "policy", "military_ban", &lo, &hi), -1);
    assert_int_equal(resim_key_range(&data, "scenario", "months", &lo, &hi), -1);
    assert_int_equal(resim_key_range(&data, "alt", "src_dy.start", &lo, &hi), -1);
    assert_int_equal(resim_key_range(&data, "policy", "approval.bogus", &lo, &hi), -1);
}

/* ------------------------------------------------------------ storage */

static void test_store(void **state)
{
    (void)state;
    resim_levers lv;
    memset(&lv, 0, sizeof lv);
    resim_lever_ref r = {RESIM_LEVER_DELAY_CV, RESIM_CONTROL, 3, -1};
    resim_lever_store(&lv, &r, 0.75);
    assert_true(lv.delay_cv[RESIM_CONTROL][3] == 0.75 && lv.delay_cv[RESIM_CONTROL][2] == 0);
    assert_true(lv.delay_cv[RESIM_WATCH][3] == 0 && lv.delay_mean_days[RESIM_CONTROL][3] == 0);
    assert_true(resim_lever_value(&lv, &r) == 0.75);
    /* A bare key (docs/model.md section 9) sets every element of its status. */
    r.element = RESIM_LEVER_ALL;
    resim_lever_store(&lv, &r, 0.5);
    for (int e = 0; e < RESIM_MAX_ELEMENTS; e++)
        assert_true(lv.delay_cv[RESIM_CONTROL][e] == 0.5 && lv.delay_cv[RESIM_NONE][e] == 0);
    r = (resim_lever_ref){RESIM_LEVER_DELAY_CV, RESIM_CONTROL, 3, -1};
    r = (resim_lever_ref){RESIM_LEVER_SOURCE_JAPAN_SHARE, -1, -1, 1};
    resim_lever_store(&lv, &r, 0.25);
    assert_true(lv.source[1].japan_share == 0.25 && lv.source[0].japan_share == 0);
    r = (resim_lever_ref){RESIM_LEVER_STOCK_RELEASE_MAX, -1, 2, -1};
    resim_lever_store(&lv, &r, 3.5);
    assert_true(lv.stock_release_max[2] == 3.5 && lv.stock_tonnes[2] == 0);
    r.element = RESIM_LEVER_ALL;
    resim_lever_store(&lv, &r, 4.5);
    for (int e = 0; e < RESIM_MAX_ELEMENTS; e++)
        assert_true(lv.stock_release_max[e] == 4.5);
    r = (resim_lever_ref){RESIM_LEVER_STOCK_TRIGGER, -1, -1, -1};
    resim_lever_store(&lv, &r, 0.8);
    assert_true(lv.stock_trigger == 0.8 && lv.stock_enabled == 0);
}

/* ------------------------------------------------------------ report */

typedef struct collect {
    char keys[4096];
    size_t n;
} collect;

static void on_lever(void *ctx, const char *key, const char *value)
{
    collect *c = ctx;
    size_t used = strlen(c->keys);
    snprintf(c->keys + used, sizeof c->keys - used, "%s=%s\n", key, value);
    c->n++;
}

static void test_report(void **state)
{
    (void)state;
    resim_ini ini;
    resim_error err = {0};
    resim_scenario sc;
    assert_int_equal(resim_ini_read(&ini, FIXTURES "licensing.ini", &err), RESIM_OK);
    assert_int_equal(resim_ini_set(&ini, "policy.delay_cv.watch=0.385", &err), RESIM_OK);
    assert_int_equal(resim_scenario_resolve(&sc, &ini, &data, NULL, NULL, &err), RESIM_OK);
    collect c = {{0}, 0};
    resim_levers_each(&sc, &sc.initial, on_lever, &c);
    /* controlled, 5 x 3 status levers (every element alike) and the ban;
     * 2 per element; 2 + 7 per source; 2 + 2 per element + 2; substitution's
     * 3 element levers (every element alike) and its trigger. */
    size_t E = sc.n_elements, J = sc.n_sources;
    assert_int_equal(c.n, 1 + 15 + 1 + 2 * E + 2 + 7 * J + 2 + 2 * E + 2 + 4);
    assert_non_null(strstr(c.keys, "stockpile.eligible=none watch control\n"));
    assert_non_null(strstr(c.keys, "substitution.cap=1\n"));
    assert_non_null(strstr(c.keys, "policy.delay_cv.watch=0.385\n"));
    /* Element levers of a section alternate, one element at a time. */
    char *g = strstr(c.keys, "demand.base_tpy.Dy="), *h = strstr(c.keys, "demand.growth.Dy=");
    char *k = strstr(c.keys, "demand.base_tpy.Tb=");
    assert_true(g != NULL && h != NULL && k != NULL && g < h && h < k);
    assert_non_null(strstr(c.keys, "alt.src_dy.start=2024-07\n"));
    resim_scenario_free(&sc);
    resim_ini_free(&ini);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_are_consistent), cmocka_unit_test(test_find),
        cmocka_unit_test(test_find_events),          cmocka_unit_test(test_parse),
        cmocka_unit_test(test_store),                cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* serve_levers.c - the lever table as the explorer sees it: every key of a scenario with its value and the timeline. */
#include "serve_levers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "resim/lever.h"

static const char *const kind_names[] = {
    [RESIM_KIND_RATE] = "rate",         [RESIM_KIND_NONNEG] = "nonneg",
    [RESIM_KIND_GROWTH] = "growth",     [RESIM_KIND_POSITIVE] = "positive",
    [RESIM_KIND_AT_LEAST_ONE] = "at_least_one", [RESIM_KIND_SWITCH] = "switch",
    [RESIM_KIND_COUNT] = "count",       [RESIM_KIND_WHOLE] = "whole",
    [RESIM_KIND_MONTH] = "month",       [RESIM_KIND_ELEMENTS] = "elements",
    [RESIM_KIND_ASSIGN] = "assign",     [RESIM_KIND_STATUSES] = "statuses",
    [RESIM_KIND_TEXT] = "text",
};

static const char *const shape_names[] = {
    [RESIM_SHAPE_SCALAR] = "scalar",   [RESIM_SHAPE_STATUS] = "status",
    [RESIM_SHAPE_ELEMENT] = "element", [RESIM_SHAPE_SOURCE] = "source",
    [RESIM_SHAPE_STATUS_ELEMENT] = "status_element",
};

static int event_only(const resim_lever *lv) { return lv->section->id == RESIM_SECTION_EVENT; }

/* Copies src into dst with placeholder ph replaced by with; NULL `with`
 * drops ".ph" (a bare key that sets every element). */
static void replace(char *dst, size_t n, const char *src, const char *ph, const char *with)
{
    const char *p = strstr(src, ph);
    if (p == NULL) {
        snprintf(dst, n, "%s", src);
        return;
    }
    size_t head = (size_t)(p - src);
    if (with == NULL && head > 0 && src[head - 1] == '.')
        head--;
    snprintf(dst, n, "%.*s%s%s", (int)head, src, with != NULL ? with : "", p + strlen(ph));
}

/* The key lv names with the indices of ref, as a scenario writes it. */
static void concrete_key(char *out, size_t n, const resim_lever *lv, const resim_lever_ref *ref,
                         const resim_data *d)
{
    char a[160], b[160];
    replace(a, sizeof a, lv->key, "<status>", ref->status >= 0 ? resim_status_names[ref->status] : "");
    replace(b, sizeof b, a, "<El>",
            ref->element >= 0 ? d->symbol[ref->element] : NULL);
    replace(out, n, b, "<source>", ref->source >= 0 ? d->source_id[ref->source] : "");
}

static json_t *number_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* A status mask (bit s: status s; docs/model.md section 12) as the names a scenario writes. */
static json_t *status_names(double mask_value)
{
    unsigned mask = (unsigned)mask_value;
    char buf[64] = "";
    for (int st = 0; st < RESIM_NSTATUSES; st++)
        if ((mask >> st) & 1u) {
            if (buf[0] != '\0')
                strcat(buf, " ");
            strcat(buf, resim_status_names[st]);
        }
    return json_string(buf);
}

/* The value of one concrete lever in the scenario as written (before its events). */
static json_t *scenario_value(const resim_scenario *sc, const resim_lever *lv, resim_lever_ref ref)
{
    if (lv->offset == RESIM_LEVER_NOWHERE)
        return json_null();
    if (lv->kind == RESIM_KIND_ELEMENTS) {
        char buf[256] = "";
        for (size_t e = 0; e < sc->n_elements; e++)
            if (sc->initial.controlled[sc->element[e]]) {
                if (buf[0] != '\0')
                    strcat(buf, " ");
                strcat(buf, resim_scenario_symbol(sc, e));
            }
        return json_string(buf);
    }
    if (lv->kind == RESIM_KIND_STATUSES)
        return status_names(resim_lever_value(&sc->initial, &ref));
    int by_element = lv->shape == RESIM_SHAPE_ELEMENT || lv->shape == RESIM_SHAPE_STATUS_ELEMENT;
    if (by_element && ref.element == RESIM_LEVER_ALL) {
        /* A bare key for every element: their common value, or null when they differ. */
        ref.element = (int)sc->element[0];
        double v = resim_lever_value(&sc->initial, &ref);
        for (size_t e = 1; e < sc->n_elements; e++) {
            ref.element = (int)sc->element[e];
            if (resim_lever_value(&sc->initial, &ref) != v)
                return json_null();
        }
        return number_or_null(v);
    }
    double v = resim_lever_value(&sc->initial, &ref);
    if (lv->kind == RESIM_KIND_MONTH) {
        char date[8];
        resim_date_format(sc->start + (int)v, date);
        return json_string(date);
    }
    return number_or_null(v);
}

/* One concrete lever of table line lv. */
static void add_lever(json_t *list, const resim_scenario *sc, const resim_lever *lv,
                      resim_lever_ref ref)
{
    const resim_data *d = sc->data;
    char key[200], id[240];
    concrete_key(key, sizeof key, lv, &ref, d);
    if (event_only(lv))
        snprintf(id, sizeof id, "%s", key);
    else
        snprintf(id, sizeof id, "%s.%s", lv->section->name, key);
    double def = lv->def[ref.status >= 0 ? ref.status : 0];
    json_t *x = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:b,s:b,s:b}", "id", id, "lever",
                          lv->name, "section", lv->section->name, "key", key, "shape",
                          shape_names[lv->shape], "kind", kind_names[lv->kind], "default",
                          lv->kind == RESIM_KIND_STATUSES ? status_names(def) : number_or_null(def), "unit", lv->unit, "help", lv->help, "event",
                          (lv->flags & RESIM_LEVER_EVENT) != 0, "event_only", event_only(lv),
                          "from_data", (lv->flags & RESIM_LEVER_FROM_DATA) != 0);
    if (x == NULL)
        return;
    if (resim_lever_numeric(lv->kind)) {
        json_object_set_new(x, "min", number_or_null(lv->lo));
        json_object_set_new(x, "max", number_or_null(lv->hi));
    }
    json_object_set_new(x, "value", scenario_value(sc, lv, ref));
    json_array_append_new(list, x);
}

/* Every concrete key of table line lv for sc's statuses, elements and sources. */
static void expand(json_t *list, const resim_scenario *sc, const resim_lever *lv)
{
    int has_status = strstr(lv->key, "<status>") != NULL;
    int has_el = strstr(lv->key, "<El>") != NULL;
    int has_src = strstr(lv->key, "<source>") != NULL;
    int s0 = has_status ? ((lv->flags & RESIM_LEVER_LISTED) ? RESIM_WATCH : RESIM_NONE) : -1;
    int s1 = has_status ? RESIM_NSTATUSES - 1 : -1;
    for (int s = s0; s <= s1; s++) {
        resim_lever_ref ref = {lv->id, s, -1, -1};
        if (has_src) {
            for (size_t k = 0; k < sc->n_sources; k++) {
                ref.source = (int)sc->source[k];
                add_lever(list, sc, lv, ref);
            }
        } else if (has_el) {
            if (lv->flags & RESIM_LEVER_ALL_ELEMENTS) {
                ref.element = RESIM_LEVER_ALL;
                add_lever(list, sc, lv, ref);
            }
            for (size_t e = 0; e < sc->n_elements; e++) {
                ref.element = (int)sc->element[e];
                add_lever(list, sc, lv, ref);
            }
        } else {
            add_lever(list, sc, lv, ref);
        }
    }
}

/* Whether the explorer offers table line lv: not [scenario] (fixed for the
 * run), not what ensembles alone read, not an event's source text. */
static int offered(const resim_lever *lv)
{
    return lv->section->id != RESIM_SECTION_SCENARIO &&
           !(lv->section->flags & RESIM_SECTION_ENSEMBLE_ONLY) &&
           !(event_only(lv) && lv->kind == RESIM_KIND_TEXT);
}

/* The lever id an event sets, as in the lever list, or null. */
static json_t *event_lever(const resim_scenario *sc, const resim_ini_entry *e)
{
    resim_lever_ref ref;
    if (resim_lever_find(sc->data, e->section, e->key, &ref) != RESIM_LEVER_FOUND)
        return json_null();
    const resim_lever *lv = resim_lever_get(ref.id);
    char key[200], id[240];
    concrete_key(key, sizeof key, lv, &ref, sc->data);
    if (event_only(lv))
        return json_string(key);
    snprintf(id, sizeof id, "%s.%s", lv->section->name, key);
    return json_string(id);
}

json_t *serve_levers_json(const resim_scenario *sc, const char *path, const char *file)
{
    json_t *root = json_object(), *levers = json_array(), *timeline = json_array();
    json_t *elements = json_array(), *dates = json_array(), *metrics = json_array();
    if (!root || !levers || !timeline || !elements || !dates || !metrics) {
        json_decref(root);
        json_decref(levers);
        json_decref(timeline);
        json_decref(elements);
        json_decref(dates);
        json_decref(metrics);
        return NULL;
    }
    for (size_t i = 0; i < resim_lever_count(); i++) {
        const resim_lever *lv = resim_lever_at(i);
        if (offered(lv))
            expand(levers, sc, lv);
    }
    char d[8];
    for (size_t e = 0; e < sc->n_elements; e++)
        json_array_append_new(elements, json_string(resim_scenario_symbol(sc, e)));
    for (int t = 0; t < sc->months; t++) {
        resim_date_format(sc->start + t, d);
        json_array_append_new(dates, json_string(d));
    }
    for (int k = 0; k < RESIM_NMETRICS; k++)
        json_array_append_new(metrics, json_string(resim_metric_names[k]));
    for (size_t k = 0; k < sc->n_events; k++) {
        const resim_event *ev = &sc->events[k];
        resim_date_format(ev->date, d);
        json_t *x = json_pack("{s:s,s:i,s:s,s:s,s:o}", "date", d, "month", ev->month, "key",
                              ev->entry->key, "value", ev->entry->value, "lever",
                              event_lever(sc, ev->entry));
        if (x == NULL)
            continue;
        json_object_set_new(x, "source", ev->source != NULL ? json_string(ev->source) : json_null());
        json_array_append_new(timeline, x);
    }
    resim_date_format(sc->start, d);
    json_t *scen = json_pack("{s:s,s:s,s:s,s:s,s:i,s:o,s:o}", "name", sc->name, "path", path,
                             "file", file, "start", d, "months", sc->months, "elements", elements,
                             "dates", dates);
    json_object_set_new(root, "scenario", scen);
    json_object_set_new(root, "levers", levers);
    json_object_set_new(root, "timeline", timeline);
    json_object_set_new(root, "metrics", metrics);
    json_object_set_new(root, "groups", json_pack("[ssss]", "all", "none", "watch", "control"));
    json_object_set_new(root, "limits", json_pack("{s:i,s:i}", "max_body", SERVE_MAX_BODY,
                                                  "max_sets", SERVE_MAX_SETS));
    return root;
}

int serve_levers_check(const char *key, char *why, size_t n_why)
{
    const char *dot = strchr(key, '.');
    size_t n = (size_t)(dot - key);
    char section[32];
    snprintf(section, sizeof section, "%.*s", (int)(n < sizeof section - 1 ? n : sizeof section - 1), key);
    int sec = n < sizeof section - 1 ? resim_section_of(section) : -1;
    /* An event, a lever section, or an unknown one: the resolver checks the
     * key as the command line does. */
    if (sec < 0 || (sec != RESIM_SECTION_SCENARIO &&
                    !(resim_section_get((resim_section_id)sec)->flags & RESIM_SECTION_ENSEMBLE_ONLY)))
        return 0;
    snprintf(why, n_why,
             "resim: --set %.120s: the explorer sets levers only, not [%s] (fixed when the "
             "server starts, or read by ensembles only)",
             key, section);
    return -1;
}

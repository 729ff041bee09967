/* serve_levers.c - the levers the explorer offers, their current values and the timeline. */
#include "serve_levers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "resim/csvread.h"

typedef struct lever_ctx {
    const resim_scenario *sc;
    json_t *list;
} lever_ctx;

static const char *const lever_sections[] = {"policy", "demand", "alt", "stockpile"};

static json_t *number_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* One lever from resim_levers_each. */
static void add_lever(void *ctx, const char *id, const char *value)
{
    lever_ctx *c = ctx;
    const char *dot = strchr(id, '.');
    char section[16];
    snprintf(section, sizeof section, "%.*s", (int)(dot - id), id);
    const char *key = dot + 1;
    double lo = 0, hi = 0, v = 0;
    const char *shape = "number";
    json_t *val;
    if (strcmp(key, "controlled") == 0) {
        shape = "elements";
        val = json_string(value);
    } else if (strstr(key, ".start") != NULL && resim_parse_double(value, &v) != 0) {
        shape = "date";
        val = json_string(value);
    } else {
        resim_parse_double(value, &v);
        val = json_real(v);
        if (resim_key_range(c->sc->data, section, key, &lo, &hi) == 0 && lo == 0 && hi == 1)
            shape = strcmp(key, "military_ban") == 0 || strcmp(key, "enabled") == 0 ? "switch"
                                                                                    : "rate";
    }
    json_t *x = json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", id, "section", section, "key", key,
                          "shape", shape, "value", val);
    if (x == NULL)
        return;
    if (strcmp(shape, "number") == 0 || strcmp(shape, "rate") == 0) {
        json_object_set_new(x, "min", number_or_null(lo));
        json_object_set_new(x, "max", number_or_null(hi));
    }
    json_object_set_new(x, "event", json_true());
    json_array_append_new(c->list, x);
}

/* Event-only keys: list moves. */
static void add_list_moves(json_t *list)
{
    static const char *const keys[] = {"list.add.control", "list.add.watch", "list.remove.control",
                                       "list.remove.watch"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        json_t *x = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:n,s:b,s:s}", "id", keys[k], "section",
                              "event", "key", keys[k], "shape", "count", "min", 0, "value", 0,
                              "max", "event_only", 1, "unit", "importers");
        if (x != NULL)
            json_array_append_new(list, x);
    }
}

/* The lever id (SECTION.KEY) an event key sets, or NULL. */
static json_t *event_lever(const char *key)
{
    for (size_t s = 0; s < sizeof lever_sections / sizeof lever_sections[0]; s++) {
        size_t n = strlen(lever_sections[s]);
        if (strncmp(key, lever_sections[s], n) == 0 && key[n] == '.')
            return json_string(key);
    }
    char id[160];
    if (strncmp(key, "approval.", 9) == 0 || strncmp(key, "delay_mean_days.", 16) == 0 ||
        strncmp(key, "delay_cv.", 9) == 0 || strcmp(key, "military_ban") == 0 ||
        strncmp(key, "controlled", 10) == 0) {
        snprintf(id, sizeof id, "policy.%s", key);
        return json_string(id);
    }
    if (strncmp(key, "list.", 5) == 0)
        return json_string(key);
    return json_null();
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
    lever_ctx c = {sc, levers};
    resim_levers_each(sc, &sc->initial, add_lever, &c);
    add_list_moves(levers);
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
                              event_lever(ev->entry->key));
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

int serve_levers_check(const char *key, const char *value, serve_reply *r)
{
    (void)value;
    const char *dot = strchr(key, '.');
    size_t n = (size_t)(dot - key);
    for (size_t s = 0; s < sizeof lever_sections / sizeof lever_sections[0]; s++)
        if (strlen(lever_sections[s]) == n && strncmp(key, lever_sections[s], n) == 0)
            return 0;
    char section[16];
    int ym;
    snprintf(section, sizeof section, "%.*s", (int)(n < 15 ? n : 15), key);
    if (n == 7 && resim_date_parse(section, &ym) == 0)
        return 0;
    serve_reply_error(r, 400,
                      "resim: --set %.120s: the explorer sets levers only ([policy], [demand], "
                      "[alt], [stockpile] or an event month [YYYY-MM])",
                      key);
    return -1;
}

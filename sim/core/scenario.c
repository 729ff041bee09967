/*
 * scenario.c - resolves raw INI entries against the data tables into initial
 * levers and a dated event timeline (MODEL.md section 3). Pure: no I/O.
 */
#include "resim/scenario.h"

#include "resim/number.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *resim_scenario_symbol(const resim_scenario *sc, size_t e)
{
    return sc->data->symbol[sc->element[e]];
}

void resim_scenario_data_dir(const resim_ini *ini, char *out, size_t size)
{
    const resim_ini_entry *d = resim_ini_get(ini, "scenario", "data");
    const char *rel = d != NULL ? d->value : "../data";
    if (rel[0] == '/') {
        snprintf(out, size, "%s", rel);
        return;
    }
    const char *slash = strrchr(ini->path, '/');
    int dirlen = slash != NULL ? (int)(slash - ini->path) : 1;
    const char *dir = slash != NULL ? ini->path : ".";
    snprintf(out, size, "%.*s/%s", dirlen, dir, rel);
}

/* ------------------------------------------------------------ key lookup */

typedef enum { R_RATE, R_NONNEG, R_GROWTH, R_BOOL, R_DATE, R_POSITIVE } range_kind;

typedef struct numkey {
    size_t offset;
    range_kind range;
} numkey;

/* Matches "prefix.<suffix>" and returns the suffix, or NULL. */
static const char *after(const char *key, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(key, prefix, n) == 0 && key[n] == '.' ? key + n + 1 : NULL;
}

#define LV(field) offsetof(resim_levers, field)

static int policy_key(const char *key, numkey *k)
{
    const char *s;
    int st;
    if ((s = after(key, "approval")) && (st = resim_status_of(s)) >= 0)
        *k = (numkey){LV(approval) + (size_t)st * sizeof(double), R_RATE};
    else if ((s = after(key, "delay_mean_days")) && (st = resim_status_of(s)) >= 0)
        *k = (numkey){LV(delay_mean_days) + (size_t)st * sizeof(double), R_NONNEG};
    else if ((s = after(key, "delay_cv")) && (st = resim_status_of(s)) >= 0)
        *k = (numkey){LV(delay_cv) + (size_t)st * sizeof(double), R_NONNEG};
    else if (strcmp(key, "military_ban") == 0)
        *k = (numkey){LV(military_ban), R_BOOL};
    else
        return -1;
    return 0;
}

/* Element keys: 1 = no such element, -1 = no such key. */
static int element_key(const resim_data *d, const char *key, const char *name, size_t base,
                       range_kind range, numkey *k)
{
    const char *s = after(key, name);
    if (s == NULL)
        return -1;
    int e = resim_data_element(d, s);
    if (e < 0)
        return 1;
    *k = (numkey){base + (size_t)e * sizeof(double), range};
    return 0;
}

static int demand_key(const resim_data *d, const char *key, numkey *k)
{
    int r = element_key(d, key, "base_tpy", LV(base_tpy), R_NONNEG, k);
    return r < 0 ? element_key(d, key, "growth", LV(growth), R_GROWTH, k) : r;
}

static int stockpile_key(const resim_data *d, const char *key, numkey *k)
{
    if (strcmp(key, "enabled") == 0)
        *k = (numkey){LV(stock_enabled), R_BOOL};
    else if (strcmp(key, "trigger") == 0)
        *k = (numkey){LV(stock_trigger), R_RATE};
    else {
        int r = element_key(d, key, "tonnes", LV(stock_tonnes), R_NONNEG, k);
        return r < 0 ? element_key(d, key, "release_max_tpm", LV(stock_release_max), R_NONNEG, k)
                     : r;
    }
    return 0;
}

static const struct {
    const char *name;
    size_t offset;
    range_kind range;
} source_fields[] = {
    {"capacity_factor", offsetof(resim_source_levers, capacity_factor), R_NONNEG},
    {"delay_months", offsetof(resim_source_levers, delay_months), R_NONNEG},
    {"capacity_tpy", offsetof(resim_source_levers, capacity_tpy), R_NONNEG},
    {"start", offsetof(resim_source_levers, start), R_DATE},
    {"ramp_months", offsetof(resim_source_levers, ramp_months), R_NONNEG},
    {"growth", offsetof(resim_source_levers, growth), R_GROWTH},
    {"japan_share", offsetof(resim_source_levers, japan_share), R_RATE},
};

/* 1 = no such source, -1 = no such key. */
static int alt_key(const resim_data *d, const char *key, numkey *k)
{
    if (strcmp(key, "capacity_factor") == 0) {
        *k = (numkey){LV(alt_capacity_factor), R_NONNEG};
        return 0;
    }
    if (strcmp(key, "delay_months") == 0) {
        *k = (numkey){LV(alt_delay_months), R_NONNEG};
        return 0;
    }
    const char *dot = strchr(key, '.');
    if (dot == NULL)
        return -1;
    for (size_t j = 0; j < d->n_sources; j++) {
        size_t n = strlen(d->source_id[j]);
        if (n != (size_t)(dot - key) || strncmp(key, d->source_id[j], n) != 0)
            continue;
        for (size_t f = 0; f < sizeof source_fields / sizeof source_fields[0]; f++)
            if (strcmp(dot + 1, source_fields[f].name) == 0) {
                *k = (numkey){LV(source) + j * sizeof(resim_source_levers) + source_fields[f].offset,
                              source_fields[f].range};
                return 0;
            }
        return -1;
    }
    return 1;
}

typedef enum { SEC_POLICY, SEC_DEMAND, SEC_ALT, SEC_STOCKPILE, SEC_NLEVER } lever_section;
static const char *const lever_sections[SEC_NLEVER] = {"policy", "demand", "alt", "stockpile"};

static int lever_key(const resim_data *d, int sec, const char *key, numkey *k)
{
    switch (sec) {
    case SEC_POLICY: return policy_key(key, k);
    case SEC_DEMAND: return demand_key(d, key, k);
    case SEC_ALT: return alt_key(d, key, k);
    default: return stockpile_key(d, key, k);
    }
}

static int section_index(const char *name)
{
    for (int s = 0; s < SEC_NLEVER; s++)
        if (strcmp(name, lever_sections[s]) == 0)
            return s;
    return -1;
}

/* ------------------------------------------------------------ values */

static int bad(resim_error *err, const resim_ini_entry *e, int status, const char *fmt,
               const char *detail)
{
    return resim_error_set(err, status, e->file, e->line, "[%s] %s: %s%s", e->section, e->key,
                           fmt, detail != NULL ? detail : "");
}

static int number_value(const resim_ini_entry *e, range_kind range, const resim_scenario *sc,
                        double *out, resim_error *err)
{
    if (range == R_DATE) {
        int ym;
        if (resim_date_parse(e->value, &ym) != 0)
            return bad(err, e, RESIM_EPARSE, "not a date YYYY-MM: ", e->value);
        *out = ym - sc->start;
        return RESIM_OK;
    }
    double v;
    if (resim_parse_double(e->value, &v) != 0)
        return bad(err, e, RESIM_EPARSE, "not a number: ", e->value);
    switch (range) {
    case R_RATE:
        if (v < 0 || v > 1)
            return bad(err, e, RESIM_EINVAL, "rate outside [0, 1]: ", e->value);
        break;
    case R_NONNEG:
        if (v < 0)
            return bad(err, e, RESIM_EINVAL, "must not be negative: ", e->value);
        break;
    case R_GROWTH:
        if (v <= -1)
            return bad(err, e, RESIM_EINVAL, "growth must be above -1: ", e->value);
        break;
    case R_POSITIVE:
        if (v <= 0)
            return bad(err, e, RESIM_EINVAL, "must be positive: ", e->value);
        break;
    case R_BOOL:
        if (v != 0 && v != 1)
            return bad(err, e, RESIM_EINVAL, "must be 0 or 1: ", e->value);
        break;
    case R_DATE: break;
    }
    *out = v;
    return RESIM_OK;
}

static int int_value(const resim_ini_entry *e, long lo, long hi, long *out, resim_error *err)
{
    double v;
    if (resim_parse_double(e->value, &v) != 0 || v != floor(v))
        return bad(err, e, RESIM_EPARSE, "not a whole number: ", e->value);
    if (v < (double)lo || v > (double)hi) {
        char range[64];
        snprintf(range, sizeof range, " outside [%ld, %ld]", lo, hi);
        return bad(err, e, RESIM_EINVAL, e->value, range);
    }
    *out = (long)v;
    return RESIM_OK;
}

/* Parses a list of element symbols (space or comma separated) into a mask. */
static int element_list(const resim_ini_entry *e, const resim_data *d, unsigned char *mask,
                        size_t *order, size_t *n, resim_error *err)
{
    char buf[256];
    if (strlen(e->value) >= sizeof buf)
        return bad(err, e, RESIM_EPARSE, "list too long", NULL);
    strcpy(buf, e->value);
    memset(mask, 0, RESIM_MAX_ELEMENTS);
    size_t count = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ,\t", &save); tok != NULL; tok = strtok_r(NULL, " ,\t", &save)) {
        if (strcmp(tok, "none") == 0)
            continue;
        int x = resim_data_element(d, tok);
        if (x < 0)
            return bad(err, e, RESIM_EINVAL, "unknown element ", tok);
        if (mask[x])
            return bad(err, e, RESIM_EINVAL, "element given twice: ", tok);
        mask[x] = 1;
        if (order != NULL)
            order[count] = (size_t)x;
        count++;
    }
    if (n != NULL)
        *n = count;
    return RESIM_OK;
}

/* ------------------------------------------------------------ resolve */

static int resolve_scenario_section(resim_scenario *sc, const resim_ini *ini, resim_error *err)
{
    const resim_data *d = sc->data;
    sc->transit = 1;
    sc->adjust = 2;
    snprintf(sc->name, sizeof sc->name, "scenario");
    int have_start = 0, have_months = 0, have_elements = 0;
    for (size_t i = 0; i < ini->n; i++) {
        const resim_ini_entry *e = &ini->v[i];
        if (strcmp(e->section, "scenario") != 0)
            continue;
        long v;
        int rc = RESIM_OK;
        if (strcmp(e->key, "name") == 0) {
            if (strlen(e->value) == 0 || strlen(e->value) >= sizeof sc->name)
                return bad(err, e, RESIM_EINVAL, "name must be 1 to 127 characters", NULL);
            strcpy(sc->name, e->value);
        } else if (strcmp(e->key, "start") == 0) {
            if (resim_date_parse(e->value, &sc->start) != 0)
                return bad(err, e, RESIM_EPARSE, "not a date YYYY-MM: ", e->value);
            have_start = 1;
        } else if (strcmp(e->key, "months") == 0) {
            rc = int_value(e, 1, 12000, &v, err);
            sc->months = (int)v;
            have_months = 1;
        } else if (strcmp(e->key, "warmup_months") == 0) {
            rc = int_value(e, 0, 12000, &v, err);
            sc->warmup = (int)v;
        } else if (strcmp(e->key, "transit_months") == 0) {
            rc = int_value(e, 0, 1200, &v, err);
            sc->transit = (int)v;
        } else if (strcmp(e->key, "adjust_months") == 0) {
            if (resim_parse_double(e->value, &sc->adjust) != 0)
                return bad(err, e, RESIM_EPARSE, "not a number: ", e->value);
            if (sc->adjust < 1)
                return bad(err, e, RESIM_EINVAL, "must be at least 1: ", e->value);
        } else if (strcmp(e->key, "elements") == 0) {
            unsigned char mask[RESIM_MAX_ELEMENTS];
            if ((rc = element_list(e, d, mask, sc->element, &sc->n_elements, err)) != RESIM_OK)
                return rc;
            if (sc->n_elements == 0)
                return bad(err, e, RESIM_EINVAL, "no elements", NULL);
            have_elements = 1;
        } else if (strcmp(e->key, "data") != 0) {
            return bad(err, e, RESIM_EINVAL, "unknown key", NULL);
        }
        if (rc != RESIM_OK)
            return rc;
    }
    if (!have_start || !have_months)
        return resim_error_set(err, RESIM_EINVAL, ini->path, 0,
                               "[scenario] needs start (YYYY-MM) and months");
    if (!have_elements)
        for (size_t x = 0; x < d->n_elements; x++)
            if (d->licensed[x])
                sc->element[sc->n_elements++] = x;
    if (sc->n_elements == 0)
        return resim_error_set(err, RESIM_EINVAL, ini->path, 0, "[scenario] elements: none chosen");
    return RESIM_OK;
}

static void default_levers(resim_scenario *sc)
{
    const resim_data *d = sc->data;
    resim_levers *lv = &sc->initial;
    memset(lv, 0, sizeof *lv);
    lv->approval[RESIM_NONE] = 1;
    lv->approval[RESIM_WATCH] = 1;
    lv->approval[RESIM_CONTROL] = 0;
    lv->alt_capacity_factor = 1;
    lv->stock_trigger = 0.9;
    for (size_t x = 0; x < d->n_elements; x++) {
        lv->base_tpy[x] = d->base_tpy[x];
        lv->growth[x] = d->growth[x];
        lv->stock_tonnes[x] = d->stock_tonnes[x];
        lv->stock_release_max[x] = d->stock_release_max[x];
    }
    for (size_t j = 0; j < d->n_sources; j++) {
        lv->source[j] = d->source[j];
        lv->source[j].start = d->source_start[j] - sc->start;
    }
}

static int set_number(resim_levers *lv, const numkey *k, const resim_ini_entry *e,
                      const resim_scenario *sc, resim_error *err)
{
    double v;
    int rc = number_value(e, k->range, sc, &v, err);
    if (rc == RESIM_OK)
        memcpy((char *)lv + k->offset, &v, sizeof v);
    return rc;
}

static int lookup_error(const resim_ini_entry *e, int r, resim_error *err)
{
    return bad(err, e, RESIM_EINVAL,
               r > 0 ? "unknown element or source in key" : "unknown key", NULL);
}

static int resolve_lever_sections(resim_scenario *sc, const resim_ini *ini, resim_error *err)
{
    for (size_t i = 0; i < ini->n; i++) {
        const resim_ini_entry *e = &ini->v[i];
        int sec = section_index(e->section);
        if (sec < 0)
            continue;
        if (sec == SEC_POLICY && strcmp(e->key, "controlled") == 0) {
            int rc = element_list(e, sc->data, sc->initial.controlled, NULL, NULL, err);
            if (rc != RESIM_OK)
                return rc;
            continue;
        }
        numkey k;
        int r = lever_key(sc->data, sec, e->key, &k);
        if (r != 0)
            return lookup_error(e, r, err);
        int rc = set_number(&sc->initial, &k, e, sc, err);
        if (rc != RESIM_OK)
            return rc;
    }
    return RESIM_OK;
}

static int check_elements(const resim_scenario *sc, resim_error *err)
{
    const resim_data *d = sc->data;
    for (size_t e = 0; e < sc->n_elements; e++) {
        size_t x = sc->element[e];
        if (!d->has_demand[x]) {
            char key[32];
            snprintf(key, sizeof key, "base_tpy.%s", d->symbol[x]);
            if (resim_ini_get(sc->ini, "demand", key) == NULL)
                return resim_error_set(err, RESIM_EINVAL, d->path[RESIM_FILE_DEMAND], 0,
                                       "no demand for element %s (add a row, or set [demand] %s)",
                                       d->symbol[x], key);
        }
        if (!d->has_share[x])
            return resim_error_set(err, RESIM_EINVAL, d->path[RESIM_FILE_IMPORTERS], 1,
                                   "no column share_%s for scenario element %s", d->symbol[x],
                                   d->symbol[x]);
    }
    return RESIM_OK;
}

/* Parses list.set = id:status,... into the assignment pool. */
static int parse_list_set(resim_scenario *sc, const resim_ini_entry *e, resim_event *ev,
                          resim_error *err)
{
    const resim_data *d = sc->data;
    size_t len = strlen(e->value);
    char *buf = malloc(len + 1);
    if (buf == NULL)
        return bad(err, e, RESIM_ENOMEM, "out of memory", NULL);
    memcpy(buf, e->value, len + 1);
    ev->set_first = sc->n_list_set;
    int rc = RESIM_OK;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", \t", &save); tok != NULL && rc == RESIM_OK;
         tok = strtok_r(NULL, ", \t", &save)) {
        char *colon = strchr(tok, ':');
        if (colon == NULL) {
            rc = bad(err, e, RESIM_EPARSE, "expected id:status, got ", tok);
            break;
        }
        *colon = '\0';
        int st = resim_status_of(colon + 1);
        if (st < 0) {
            rc = bad(err, e, RESIM_EINVAL, "status must be none, watch or control: ", colon + 1);
            break;
        }
        size_t who = d->n_importers;
        for (size_t i = 0; i < d->n_importers; i++)
            if (strcmp(d->importer_id[i], tok) == 0)
                who = i;
        if (who == d->n_importers) {
            rc = bad(err, e, RESIM_EINVAL, "unknown importer ", tok);
            break;
        }
        resim_list_assign *p = realloc(sc->list_set, (sc->n_list_set + 1) * sizeof *p);
        if (p == NULL) {
            rc = bad(err, e, RESIM_ENOMEM, "out of memory", NULL);
            break;
        }
        sc->list_set = p;
        p[sc->n_list_set++] = (resim_list_assign){who, st};
    }
    ev->set_count = sc->n_list_set - ev->set_first;
    free(buf);
    return rc;
}

/* A lever key in an event: prefixed with its section (alt.capacity_factor)
 * or bare (approval.watch); 0 if found, else as lever_key. */
static int event_lever_key(const resim_data *d, const char *key, numkey *k)
{
    int r = -1;
    const char *dot = strchr(key, '.');
    if (dot != NULL) {
        char sec[16];
        size_t n = (size_t)(dot - key);
        if (n < sizeof sec) {
            memcpy(sec, key, n);
            sec[n] = '\0';
            int x = section_index(sec);
            if (x >= 0)
                r = lever_key(d, x, dot + 1, k);
        }
    }
    for (int x = 0; x < SEC_NLEVER && r < 0; x++)
        r = lever_key(d, x, key, k);
    return r;
}

/* One key of an event section into an event. Returns 1 for `source`. */
static int event_entry(resim_scenario *sc, const resim_ini_entry *e, resim_event *ev,
                       resim_error *err)
{
    const char *key = e->key, *s;
    int st;
    if (strcmp(key, "source") == 0)
        return 1;
    if (strcmp(key, "controlled") == 0 || strcmp(key, "controlled.add") == 0 ||
        strcmp(key, "controlled.remove") == 0) {
        ev->kind = key[10] == '\0'    ? RESIM_EV_CONTROLLED
                   : key[11] == 'a' ? RESIM_EV_CONTROLLED_ADD
                                    : RESIM_EV_CONTROLLED_REMOVE;
        return element_list(e, sc->data, ev->elements, NULL, NULL, err);
    }
    if (((s = after(key, "list.add")) || (s = after(key, "list.remove"))) &&
        (st = resim_status_of(s)) > RESIM_NONE) {
        double v;
        if (resim_parse_double(e->value, &v) != 0)
            return bad(err, e, RESIM_EPARSE, "not a number: ", e->value);
        if (v < 0)
            return bad(err, e, RESIM_EINVAL, "must not be negative: ", e->value);
        ev->kind = key[5] == 'a' ? RESIM_EV_LIST_ADD : RESIM_EV_LIST_REMOVE;
        ev->status = st;
        ev->value = floor(v + 0.5); /* counts are rounded to whole importers */
        return RESIM_OK;
    }
    if (strcmp(key, "list.set") == 0) {
        ev->kind = RESIM_EV_LIST_SET;
        return parse_list_set(sc, e, ev, err);
    }
    if (strcmp(key, "policy.controlled") == 0) {
        ev->kind = RESIM_EV_CONTROLLED;
        return element_list(e, sc->data, ev->elements, NULL, NULL, err);
    }
    numkey k;
    int r = event_lever_key(sc->data, key, &k);
    if (r != 0)
        return lookup_error(e, r, err);
    ev->kind = RESIM_EV_SET;
    ev->offset = k.offset;
    return number_value(e, k.range, sc, &ev->value, err);
}

static int cmp_event(const void *a, const void *b)
{
    const resim_event *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    /* Same date: keep the order of the entries. */
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

static int resolve_events(resim_scenario *sc, const resim_ini *ini, resim_warn_fn warn, void *ctx,
                          resim_error *err)
{
    sc->events = calloc(ini->n + 1, sizeof *sc->events);
    if (sc->events == NULL)
        return resim_error_set(err, RESIM_ENOMEM, ini->path, 0, "out of memory");
    const char *src_section = NULL, *src_value = NULL;
    for (size_t i = 0; i < ini->n; i++) {
        const resim_ini_entry *e = &ini->v[i];
        int date;
        if (resim_date_parse(e->section, &date) != 0)
            continue;
        resim_event *ev = &sc->events[sc->n_events];
        memset(ev, 0, sizeof *ev);
        ev->date = date;
        ev->entry = e;
        int rc = event_entry(sc, e, ev, err);
        if (rc == 1)
            continue;
        if (rc != RESIM_OK)
            return rc;
        /* A section's entries are usually together: look its source up once. */
        if (src_section == NULL || strcmp(src_section, e->section) != 0) {
            const resim_ini_entry *src = resim_ini_get(ini, e->section, "source");
            src_section = e->section;
            src_value = src != NULL ? src->value : NULL;
        }
        ev->source = src_value;
        int month = date - sc->start;
        if (month >= sc->months) {
            if (warn != NULL) {
                char msg[512];
                snprintf(msg, sizeof msg, "%s:%ld: [%s] %s: after the horizon (%d months), ignored",
                         e->file, e->line, e->section, e->key, sc->months);
                warn(ctx, msg);
            }
            continue;
        }
        ev->month = month < -sc->warmup ? -sc->warmup : month;
        sc->n_events++;
    }
    qsort(sc->events, sc->n_events, sizeof *sc->events, cmp_event);
    return RESIM_OK;
}

/* [list_process] keys: {add,remove}.{watch,control}.{rate,batch}. */
static int list_process_key(const char *key, int *dir, int *status, int *is_batch)
{
    const char *s;
    if ((s = after(key, "add")) != NULL)
        *dir = 0;
    else if ((s = after(key, "remove")) != NULL)
        *dir = 1;
    else
        return -1;
    const char *dot = strchr(s, '.');
    if (dot == NULL)
        return -1;
    char st[16];
    size_t n = (size_t)(dot - s);
    if (n >= sizeof st)
        return -1;
    memcpy(st, s, n);
    st[n] = '\0';
    *status = resim_status_of(st);
    if (*status <= RESIM_NONE)
        return -1;
    if (strcmp(dot + 1, "rate") == 0)
        *is_batch = 0;
    else if (strcmp(dot + 1, "batch") == 0)
        *is_batch = 1;
    else
        return -1;
    return 0;
}

static int resolve_stochastic(resim_scenario *sc, const resim_ini *ini, resim_error *err)
{
    for (size_t x = 0; x < RESIM_MAX_ELEMENTS; x++)
        sc->lot_tonnes[x] = RESIM_DEFAULT_LOT_TONNES;
    /* The all-element lot size first, so per-element keys override it. */
    const resim_ini_entry *all = resim_ini_get(ini, "stochastic", "lot_tonnes");
    if (all != NULL) {
        double v = 0;
        int rc = number_value(all, R_POSITIVE, sc, &v, err);
        if (rc != RESIM_OK)
            return rc;
        for (size_t x = 0; x < RESIM_MAX_ELEMENTS; x++)
            sc->lot_tonnes[x] = v;
    }
    for (size_t i = 0; i < ini->n; i++) {
        const resim_ini_entry *e = &ini->v[i];
        numkey k;
        int rc = RESIM_OK, r;
        if (strcmp(e->section, "stochastic") == 0) {
            if (e == all)
                continue;
            r = element_key(sc->data, e->key, "lot_tonnes", 0, R_POSITIVE, &k);
            if (r != 0)
                return lookup_error(e, r, err);
            rc = number_value(e, R_POSITIVE, sc, &sc->lot_tonnes[k.offset / sizeof(double)], err);
        } else if (strcmp(e->section, "list_process") == 0) {
            sc->has_list_process = 1;
            int dir, st, is_batch;
            if (strcmp(e->key, "start") == 0) {
                double m = 0;
                rc = number_value(e, R_DATE, sc, &m, err);
                sc->list_start = (int)m;
            } else if (list_process_key(e->key, &dir, &st, &is_batch) == 0) {
                double v = 0;
                rc = number_value(e, R_NONNEG, sc, &v, err);
                if (is_batch)
                    sc->list_batch[dir][st] = floor(v + 0.5);
                else
                    sc->list_rate[dir][st] = v;
            } else {
                return lookup_error(e, -1, err);
            }
        }
        if (rc != RESIM_OK)
            return rc;
    }
    return RESIM_OK;
}

static int range_of(range_kind r, double *lo, double *hi)
{
    switch (r) {
    case R_RATE: *lo = 0; *hi = 1; return 0;
    case R_NONNEG: *lo = 0; *hi = HUGE_VAL; return 0;
    /* Open lower bounds become the next double up, so [lo, hi] is exact. */
    case R_POSITIVE: *lo = nextafter(0, 1); *hi = HUGE_VAL; return 0;
    case R_GROWTH: *lo = nextafter(-1, 0); *hi = HUGE_VAL; return 0;
    default: return -1;
    }
}

int resim_key_range(const resim_data *d, const char *section, const char *key, double *lo,
                    double *hi)
{
    numkey k;
    int sec = section_index(section), ym;
    if (sec >= 0)
        return lever_key(d, sec, key, &k) == 0 ? range_of(k.range, lo, hi) : -1;
    if (strcmp(section, "stochastic") == 0) {
        if (strcmp(key, "lot_tonnes") != 0 && element_key(d, key, "lot_tonnes", 0, R_POSITIVE, &k) != 0)
            return -1;
        return range_of(R_POSITIVE, lo, hi);
    }
    if (strcmp(section, "list_process") == 0) {
        int dir, st, is_batch;
        return list_process_key(key, &dir, &st, &is_batch) == 0 ? range_of(R_NONNEG, lo, hi) : -1;
    }
    if (resim_date_parse(section, &ym) != 0)
        return -1;
    if (after(key, "list.add") != NULL || after(key, "list.remove") != NULL)
        return range_of(R_NONNEG, lo, hi);
    return event_lever_key(d, key, &k) == 0 ? range_of(k.range, lo, hi) : -1;
}

static int check_sections(const resim_ini *ini, resim_error *err)
{
    for (size_t i = 0; i < ini->n_sections; i++) {
        const char *s = ini->sections[i];
        int ym;
        if (strcmp(s, "scenario") == 0 || strcmp(s, "stochastic") == 0 ||
            strcmp(s, "list_process") == 0 || section_index(s) >= 0 ||
            resim_date_parse(s, &ym) == 0)
            continue;
        long line = 0;
        const char *file = ini->path;
        for (size_t k = 0; k < ini->n; k++)
            if (strcmp(ini->v[k].section, s) == 0) {
                line = ini->v[k].line;
                file = ini->v[k].file;
                break;
            }
        return resim_error_set(err, RESIM_EINVAL, file, line,
                               "unknown section [%s] (expected scenario, policy, demand, alt, "
                               "stockpile, stochastic, list_process or a month YYYY-MM)",
                               s);
    }
    return RESIM_OK;
}

static int copy_shares(resim_scenario *sc, resim_error *err)
{
    const resim_data *d = sc->data;
    size_t n = d->n_importers;
    sc->n_importers = n;
    sc->share = malloc(sc->n_elements * n * sizeof *sc->share);
    if (sc->share == NULL)
        return resim_error_set(err, RESIM_ENOMEM, d->path[RESIM_FILE_IMPORTERS], 0, "out of memory");
    for (size_t e = 0; e < sc->n_elements; e++)
        memcpy(sc->share + e * n, d->share + sc->element[e] * n, n * sizeof *sc->share);
    for (size_t j = 0; j < d->n_sources; j++)
        for (size_t e = 0; e < sc->n_elements; e++)
            if (d->source_element[j] == sc->element[e]) {
                sc->source[sc->n_sources] = j;
                sc->source_element[sc->n_sources++] = e;
            }
    return RESIM_OK;
}

int resim_scenario_resolve(resim_scenario *sc, const resim_ini *ini, const resim_data *data,
                           resim_warn_fn warn, void *ctx, resim_error *err)
{
    memset(sc, 0, sizeof *sc);
    sc->ini = ini;
    sc->data = data;
    int rc;
    if ((rc = check_sections(ini, err)) || (rc = resolve_scenario_section(sc, ini, err)) ||
        (rc = check_elements(sc, err)) || (default_levers(sc), 0) ||
        (rc = resolve_lever_sections(sc, ini, err)) ||
        (rc = resolve_events(sc, ini, warn, ctx, err)) || (rc = resolve_stochastic(sc, ini, err)) ||
        (rc = copy_shares(sc, err))) {
        resim_scenario_free(sc);
        return rc;
    }
    return RESIM_OK;
}

void resim_scenario_free(resim_scenario *sc)
{
    if (sc == NULL)
        return;
    free(sc->share);
    free(sc->events);
    free(sc->list_set);
    sc->share = NULL;
    sc->events = NULL;
    sc->list_set = NULL;
    sc->n_events = sc->n_list_set = 0;
}

/* ------------------------------------------------------------ reports */

static void emit_number(resim_lever_fn fn, void *ctx, const char *key, double v)
{
    char buf[40];
    if (v == 0)
        v = 0;
    snprintf(buf, sizeof buf, "%.15g", v);
    fn(ctx, key, buf);
}

void resim_levers_each(const resim_scenario *sc, const resim_levers *lv, resim_lever_fn fn,
                       void *ctx)
{
    const resim_data *d = sc->data;
    char key[128], buf[256];
    buf[0] = '\0';
    for (size_t e = 0; e < sc->n_elements; e++)
        if (lv->controlled[sc->element[e]]) {
            if (buf[0] != '\0')
                strcat(buf, " ");
            strcat(buf, resim_scenario_symbol(sc, e));
        }
    fn(ctx, "policy.controlled", buf);
    for (int s = 0; s < RESIM_NSTATUSES; s++) {
        snprintf(key, sizeof key, "policy.approval.%s", resim_status_names[s]);
        emit_number(fn, ctx, key, lv->approval[s]);
    }
    for (int s = 0; s < RESIM_NSTATUSES; s++) {
        snprintf(key, sizeof key, "policy.delay_mean_days.%s", resim_status_names[s]);
        emit_number(fn, ctx, key, lv->delay_mean_days[s]);
    }
    for (int s = 0; s < RESIM_NSTATUSES; s++) {
        snprintf(key, sizeof key, "policy.delay_cv.%s", resim_status_names[s]);
        emit_number(fn, ctx, key, lv->delay_cv[s]);
    }
    emit_number(fn, ctx, "policy.military_ban", lv->military_ban);
    for (size_t e = 0; e < sc->n_elements; e++) {
        size_t x = sc->element[e];
        snprintf(key, sizeof key, "demand.base_tpy.%s", d->symbol[x]);
        emit_number(fn, ctx, key, lv->base_tpy[x]);
        snprintf(key, sizeof key, "demand.growth.%s", d->symbol[x]);
        emit_number(fn, ctx, key, lv->growth[x]);
    }
    emit_number(fn, ctx, "alt.capacity_factor", lv->alt_capacity_factor);
    emit_number(fn, ctx, "alt.delay_months", lv->alt_delay_months);
    for (size_t k = 0; k < sc->n_sources; k++) {
        size_t j = sc->source[k];
        const resim_source_levers *s = &lv->source[j];
        for (size_t f = 0; f < sizeof source_fields / sizeof source_fields[0]; f++) {
            double v;
            memcpy(&v, (const char *)s + source_fields[f].offset, sizeof v);
            snprintf(key, sizeof key, "alt.%s.%s", d->source_id[j], source_fields[f].name);
            if (source_fields[f].range == R_DATE) {
                char date[8];
                resim_date_format(sc->start + (int)v, date);
                fn(ctx, key, date);
            } else {
                emit_number(fn, ctx, key, v);
            }
        }
    }
    emit_number(fn, ctx, "stockpile.enabled", lv->stock_enabled);
    emit_number(fn, ctx, "stockpile.trigger", lv->stock_trigger);
    for (size_t e = 0; e < sc->n_elements; e++) {
        size_t x = sc->element[e];
        snprintf(key, sizeof key, "stockpile.tonnes.%s", d->symbol[x]);
        emit_number(fn, ctx, key, lv->stock_tonnes[x]);
        snprintf(key, sizeof key, "stockpile.release_max_tpm.%s", d->symbol[x]);
        emit_number(fn, ctx, key, lv->stock_release_max[x]);
    }
}

/*
 * scenario.c - resolves raw INI entries against the data tables into initial
 * levers and a dated event timeline (docs/model.md section 3). Pure: no I/O.
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
    /* Relative to the file that states it (a base file's data stays its own). */
    const char *from = d != NULL && d->line > 0 ? d->file : ini->path;
    const char *slash = strrchr(from, '/');
    int dirlen = slash != NULL ? (int)(slash - from) : 1;
    const char *dir = slash != NULL ? from : ".";
    snprintf(out, size, "%.*s/%s", dirlen, dir, rel);
}

/* ------------------------------------------------------------ sections */

/* ------------------------------------------------------------ values */

static int bad(resim_error *err, const resim_ini_entry *e, int status, const char *fmt,
               const char *detail)
{
    return resim_error_set(err, status, e->file, e->line, "[%s] %s: %s%s", e->section, e->key,
                           fmt, detail != NULL ? detail : "");
}

/* The value of entry e for lever id (MONTH values relative to sc's start). */
static int lever_value(resim_lever_id id, const resim_ini_entry *e, const resim_scenario *sc,
                       double *out, resim_error *err)
{
    return resim_lever_parse(resim_lever_get(id), e, sc->start, out, err);
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
    sc->transit = (int)resim_lever_get(RESIM_LEVER_TRANSIT)->def[0];
    sc->adjust = resim_lever_get(RESIM_LEVER_ADJUST)->def[0];
    sc->precaution_adjust = resim_lever_get(RESIM_LEVER_PRECAUTION_ADJUST)->def[0];
    sc->warmup = (int)resim_lever_get(RESIM_LEVER_WARMUP)->def[0];
    snprintf(sc->name, sizeof sc->name, "scenario");
    int have_start = 0, have_months = 0, have_elements = 0;
    for (size_t i = 0; i < ini->n; i++) {
        const resim_ini_entry *e = &ini->v[i];
        if (strcmp(e->section, "scenario") != 0)
            continue;
        resim_lever_ref ref;
        int found = resim_lever_find(d, e->section, e->key, &ref);
        if (found != RESIM_LEVER_FOUND)
            return resim_lever_find_error(e, found, err);
        double v = 0;
        int rc = RESIM_OK;
        switch (ref.id) {
        case RESIM_LEVER_NAME:
            if (strlen(e->value) == 0 || strlen(e->value) >= sizeof sc->name)
                return bad(err, e, RESIM_EINVAL, "name must be 1 to 127 characters", NULL);
            strcpy(sc->name, e->value);
            break;
        case RESIM_LEVER_START:
            if ((rc = resim_lever_parse(resim_lever_get(ref.id), e, 0, &v, err)) == RESIM_OK)
                sc->start = (int)v;
            have_start = 1;
            break;
        case RESIM_LEVER_MONTHS:
            if ((rc = lever_value(ref.id, e, sc, &v, err)) == RESIM_OK)
                sc->months = (int)v;
            have_months = 1;
            break;
        case RESIM_LEVER_WARMUP:
            if ((rc = lever_value(ref.id, e, sc, &v, err)) == RESIM_OK)
                sc->warmup = (int)v;
            break;
        case RESIM_LEVER_TRANSIT:
            if ((rc = lever_value(ref.id, e, sc, &v, err)) == RESIM_OK)
                sc->transit = (int)v;
            break;
        case RESIM_LEVER_ADJUST:
            rc = lever_value(ref.id, e, sc, &sc->adjust, err);
            break;
        case RESIM_LEVER_PRECAUTION_ADJUST:
            rc = lever_value(ref.id, e, sc, &sc->precaution_adjust, err);
            break;
        case RESIM_LEVER_ELEMENTS: {
            unsigned char mask[RESIM_MAX_ELEMENTS];
            if ((rc = element_list(e, d, mask, sc->element, &sc->n_elements, err)) != RESIM_OK)
                return rc;
            if (sc->n_elements == 0)
                return bad(err, e, RESIM_EINVAL, "no elements", NULL);
            have_elements = 1;
            break;
        }
        default: /* data: read by resim_scenario_data_dir */
            break;
        }
        if (rc != RESIM_OK)
            return rc;
    }
    if (!have_start || !have_months)
        return resim_error_set(err, RESIM_EINVAL, ini->path, 0,
                               "[scenario] needs start (YYYY-MM) and months");
    /* Dates are written with four-digit years: the last month must be 9999-12 at the latest. */
    if (sc->start + sc->months - 1 > 9999 * 12 + 11) {
        const resim_ini_entry *e = resim_ini_get(ini, "scenario", "months");
        return resim_error_set(err, RESIM_EINVAL, e != NULL ? e->file : ini->path,
                               e != NULL ? e->line : 0,
                               "[scenario] months = %d: the run would end after 9999-12 (dates "
                               "have four-digit years)",
                               sc->months);
    }
    if (!have_elements)
        for (size_t x = 0; x < d->n_elements; x++)
            if (d->licensed[x])
                sc->element[sc->n_elements++] = x;
    if (sc->n_elements == 0)
        return resim_error_set(err, RESIM_EINVAL, ini->path, 0, "[scenario] elements: none chosen");
    return RESIM_OK;
}

/* Every lever kept in resim_levers at its default: the table's, or the data's. */
static void default_levers(resim_scenario *sc)
{
    const resim_data *d = sc->data;
    resim_levers *lv = &sc->initial;
    memset(lv, 0, sizeof *lv);
    for (size_t i = 0; i < resim_lever_count(); i++) {
        const resim_lever *l = resim_lever_at(i);
        if (l->offset == RESIM_LEVER_NOWHERE ||
            (!resim_lever_numeric(l->kind) && l->kind != RESIM_KIND_STATUSES) ||
            (l->flags & RESIM_LEVER_FROM_DATA))
            continue;
        int ns = l->shape == RESIM_SHAPE_STATUS || l->shape == RESIM_SHAPE_STATUS_ELEMENT
                     ? RESIM_NSTATUSES
                     : 1;
        int nj = l->shape == RESIM_SHAPE_SOURCE ? (int)d->n_sources : 1;
        for (int st = 0; st < ns; st++)
            for (int j = 0; j < nj; j++) {
                resim_lever_ref ref = {l->id, st, RESIM_LEVER_ALL, j};
                resim_lever_store(lv, &ref, l->def[st]);
            }
    }
    /* Defaults from the data tables. */
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

static int resolve_lever_sections(resim_scenario *sc, const resim_ini *ini, resim_error *err)
{
    /* The sections that hold levers the model keeps in resim_levers. */
    unsigned char keeps[RESIM_NSECTIONS] = {0};
    for (size_t i = 0; i < resim_lever_count(); i++) {
        const resim_lever *l = resim_lever_at(i);
        if (l->offset != RESIM_LEVER_NOWHERE && l->section->id != RESIM_SECTION_EVENT)
            keeps[l->section->id] = 1;
    }
    for (size_t i = 0; i < ini->n; i++) {
        const resim_ini_entry *e = &ini->v[i];
        int sec = resim_section_of(e->section);
        if (sec < 0 || !keeps[sec])
            continue;
        resim_lever_ref ref;
        int found = resim_lever_find(sc->data, e->section, e->key, &ref);
        if (found != RESIM_LEVER_FOUND)
            return resim_lever_find_error(e, found, err);
        const resim_lever *l = resim_lever_get(ref.id);
        int rc;
        if (l->kind == RESIM_KIND_ELEMENTS) {
            rc = element_list(e, sc->data, sc->initial.controlled, NULL, NULL, err);
        } else {
            double v;
            if ((rc = resim_lever_parse(l, e, sc->start, &v, err)) == RESIM_OK)
                resim_lever_store(&sc->initial, &ref, v);
        }
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

/* One key of an event section into an event. Returns 1 for `source`. */
static int event_entry(resim_scenario *sc, const resim_ini_entry *e, resim_event *ev,
                       resim_error *err)
{
    int found = resim_lever_find(sc->data, e->section, e->key, &ev->lever);
    if (found != RESIM_LEVER_FOUND)
        return resim_lever_find_error(e, found, err);
    const resim_lever *l = resim_lever_get(ev->lever.id);
    switch (ev->lever.id) {
    case RESIM_LEVER_SOURCE: return 1;
    case RESIM_LEVER_CONTROLLED:
    case RESIM_LEVER_CONTROLLED_ADD:
    case RESIM_LEVER_CONTROLLED_REMOVE:
        ev->kind = ev->lever.id == RESIM_LEVER_CONTROLLED       ? RESIM_EV_CONTROLLED
                   : ev->lever.id == RESIM_LEVER_CONTROLLED_ADD ? RESIM_EV_CONTROLLED_ADD
                                                                : RESIM_EV_CONTROLLED_REMOVE;
        return element_list(e, sc->data, ev->elements, NULL, NULL, err);
    case RESIM_LEVER_LIST_ADD:
    case RESIM_LEVER_LIST_REMOVE: {
        double v;
        int rc = resim_lever_parse(l, e, sc->start, &v, err);
        if (rc != RESIM_OK)
            return rc;
        ev->kind = ev->lever.id == RESIM_LEVER_LIST_ADD ? RESIM_EV_LIST_ADD : RESIM_EV_LIST_REMOVE;
        ev->status = ev->lever.status;
        ev->value = floor(v + 0.5); /* counts are rounded to whole importers */
        return RESIM_OK;
    }
    case RESIM_LEVER_LIST_SET:
        ev->kind = RESIM_EV_LIST_SET;
        return parse_list_set(sc, e, ev, err);
    default:
        ev->kind = RESIM_EV_SET;
        return resim_lever_parse(l, e, sc->start, &ev->value, err);
    }
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

static int resolve_stochastic(resim_scenario *sc, const resim_ini *ini, resim_error *err)
{
    const resim_lever *lot = resim_lever_get(RESIM_LEVER_LOT_TONNES);
    for (size_t x = 0; x < RESIM_MAX_ELEMENTS; x++)
        sc->lot_tonnes[x] = lot->def[0];
    /* The all-element lot size first, so per-element keys override it. */
    const resim_ini_entry *all = resim_ini_get(ini, "stochastic", "lot_tonnes");
    if (all != NULL) {
        double v = 0;
        int rc = resim_lever_parse(lot, all, sc->start, &v, err);
        if (rc != RESIM_OK)
            return rc;
        for (size_t x = 0; x < RESIM_MAX_ELEMENTS; x++)
            sc->lot_tonnes[x] = v;
    }
    for (size_t i = 0; i < ini->n; i++) {
        const resim_ini_entry *e = &ini->v[i];
        int is_lot = strcmp(e->section, "stochastic") == 0;
        if ((!is_lot && strcmp(e->section, "list_process") != 0) || e == all)
            continue;
        sc->has_list_process |= !is_lot;
        resim_lever_ref ref;
        int found = resim_lever_find(sc->data, e->section, e->key, &ref);
        if (found != RESIM_LEVER_FOUND)
            return resim_lever_find_error(e, found, err);
        double v = 0;
        int rc = resim_lever_parse(resim_lever_get(ref.id), e, sc->start, &v, err);
        int dir = ref.id == RESIM_LEVER_LIST_REMOVE_RATE || ref.id == RESIM_LEVER_LIST_REMOVE_BATCH;
        switch (ref.id) {
        case RESIM_LEVER_LOT_TONNES: sc->lot_tonnes[ref.element] = v; break;
        case RESIM_LEVER_LIST_START: sc->list_start = (int)v; break;
        case RESIM_LEVER_LIST_ADD_RATE:
        case RESIM_LEVER_LIST_REMOVE_RATE: sc->list_rate[dir][ref.status] = v; break;
        default: sc->list_batch[dir][ref.status] = floor(v + 0.5); break;
        }
        if (rc != RESIM_OK)
            return rc;
    }
    return RESIM_OK;
}

static int check_sections(const resim_ini *ini, resim_error *err)
{
    for (size_t i = 0; i < ini->n_sections; i++) {
        const char *s = ini->sections[i];
        int ym;
        if (resim_lever_section_known(s, 0) || resim_date_parse(s, &ym) == 0)
            continue;
        long line = 0;
        const char *file = ini->path;
        for (size_t k = 0; k < ini->n; k++)
            if (strcmp(ini->v[k].section, s) == 0) {
                line = ini->v[k].line;
                file = ini->v[k].file;
                break;
            }
        char expected[256];
        resim_lever_section_list(expected, sizeof expected, 0);
        return resim_error_set(err, RESIM_EINVAL, file, line, "unknown section [%s] (expected %s)",
                               s, expected);
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

/*
 * The largest national demand or alternative capacity a scenario may reach,
 * t/year: far above any real market (all rare earths together are about
 * 3e5 t/year), low enough that sums over importers and months stay finite.
 */
#define MAX_TPY 1e12

/*
 * The highest value lever id takes for element x or source k over the run:
 * at the start or set by an event. *from is the event's entry when an event
 * sets the highest, else NULL. With lowest, the lowest instead.
 */
static double lever_extreme(const resim_scenario *sc, resim_lever_id id, int x, int k, int lowest,
                            const resim_ini_entry **from)
{
    resim_lever_ref ref = {id, -1, x, k};
    double v = resim_lever_value(&sc->initial, &ref);
    *from = NULL;
    for (size_t i = 0; i < sc->n_events; i++) {
        const resim_event *ev = &sc->events[i];
        if (ev->kind != RESIM_EV_SET || ev->lever.id != id ||
            (x >= 0 && ev->lever.element != x && ev->lever.element != RESIM_LEVER_ALL) ||
            (k >= 0 && ev->lever.source != k))
            continue;
        if (lowest ? ev->value < v : ev->value > v) {
            v = ev->value;
            *from = ev->entry;
        }
    }
    return v;
}

/* Refuses a magnitude past MAX_TPY, naming the entry (or the key) that makes it. */
static int too_big(const resim_scenario *sc, const resim_ini_entry *from, const char *section,
                   const char *key, const char *what, double v, resim_error *err)
{
    const resim_ini_entry *e = from != NULL ? from : resim_ini_get(sc->ini, section, key);
    char value[64];
    snprintf(value, sizeof value, "%g", v);
    return resim_error_set(err, RESIM_EINVAL, e != NULL ? e->file : sc->ini->path,
                           e != NULL ? e->line : 0,
                           "[%s] %s%s%s: %s would reach %s t/year within the horizon (at most "
                           "%g): refused, no runaway or non-finite number is written",
                           e != NULL ? e->section : section, e != NULL ? e->key : key,
                           e != NULL ? " = " : "", e != NULL ? e->value : "", what, value, MAX_TPY);
}

/*
 * Checks that national demand (docs/model.md section 5 step 2) and each
 * alternative source's capacity (step 3) stay finite and below MAX_TPY
 * over every month simulated, warm-up included, taking each lever at the
 * extremes its events give it.
 */
static int check_magnitudes(const resim_scenario *sc, resim_error *err)
{
    const double t_lo = -sc->warmup / 12.0, t_hi = (sc->months - 1) / 12.0;
    const resim_ini_entry *fb, *fg0, *fg1;
    for (size_t e = 0; e < sc->n_elements; e++) {
        int x = (int)sc->element[e];
        const char *sym = sc->data->symbol[x];
        char key[32], what[64];
        double b = lever_extreme(sc, RESIM_LEVER_BASE_TPY, x, -1, 0, &fb);
        double g0 = lever_extreme(sc, RESIM_LEVER_GROWTH, x, -1, 1, &fg0);
        double g1 = lever_extreme(sc, RESIM_LEVER_GROWTH, x, -1, 0, &fg1);
        double f0 = fmax(pow(1 + g0, t_lo), pow(1 + g0, t_hi));
        double f1 = fmax(pow(1 + g1, t_lo), pow(1 + g1, t_hi));
        snprintf(what, sizeof what, "%s's national demand", sym);
        if (!(b <= MAX_TPY)) {
            snprintf(key, sizeof key, "base_tpy.%s", sym);
            return too_big(sc, fb, "demand", key, what, b, err);
        }
        if (!(b * fmax(f0, f1) <= MAX_TPY)) {
            snprintf(key, sizeof key, "growth.%s", sym);
            return too_big(sc, f1 >= f0 ? fg1 : fg0, "demand", key, what, b * fmax(f0, f1), err);
        }
    }
    for (size_t i = 0; i < sc->n_sources; i++) {
        int k = (int)sc->source[i];
        const char *id = sc->data->source_id[k];
        const resim_ini_entry *fc, *ff, *fa, *fs, *fgr;
        double tpy = lever_extreme(sc, RESIM_LEVER_SOURCE_CAPACITY_TPY, -1, k, 0, &fc);
        double cf = lever_extreme(sc, RESIM_LEVER_SOURCE_CAPACITY_FACTOR, -1, k, 0, &ff);
        double acf = lever_extreme(sc, RESIM_LEVER_ALT_CAPACITY_FACTOR, -1, -1, 0, &fa);
        double cap = tpy * cf * acf * lever_extreme(sc, RESIM_LEVER_SOURCE_JAPAN_SHARE, -1, k, 0, &fs);
        double g = lever_extreme(sc, RESIM_LEVER_SOURCE_GROWTH, -1, k, 0, &fgr);
        double grown = cap * fmax(1, pow(1 + g, t_hi));
        char key[96], what[96];
        snprintf(what, sizeof what, "the capacity of source %s", id);
        if (!(cap <= MAX_TPY)) {
            /* Blame the factor far from its usual 1, else the capacity itself. */
            if (!(acf <= 1e3) && !(acf < cf))
                return too_big(sc, fa, "alt", "capacity_factor", what, cap, err);
            snprintf(key, sizeof key, "%s.%s", id, !(cf <= 1e3) ? "capacity_factor" : "capacity_tpy");
            return too_big(sc, !(cf <= 1e3) ? ff : fc, "alt", key, what, cap, err);
        }
        if (!(grown <= MAX_TPY)) {
            snprintf(key, sizeof key, "%s.growth", id);
            return too_big(sc, fgr, "alt", key, what, grown, err);
        }
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
        (rc = copy_shares(sc, err)) || (rc = check_magnitudes(sc, err))) {
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

/* SECTION.KEY of a lever with its indices in place; an element index of
 * RESIM_LEVER_ALL leaves the key's last ".<El>" out. */
static void key_text(char *buf, size_t size, const resim_lever *l, const resim_data *d,
                     const resim_lever_ref *ref)
{
    size_t used = (size_t)snprintf(buf, size, "%s.", l->section->name);
    for (const char *t = l->key; *t != '\0' && used + 1 < size;) {
        const char *sub = NULL;
        size_t skip = 1;
        if (strncmp(t, "<status>", 8) == 0) {
            sub = resim_status_names[ref->status];
            skip = 8;
        } else if (strncmp(t, "<source>", 8) == 0) {
            sub = d->source_id[ref->source];
            skip = 8;
        } else if (strncmp(t, ".<El>", 5) == 0 && ref->element == RESIM_LEVER_ALL) {
            sub = "";
            skip = 5;
        } else if (strncmp(t, "<El>", 4) == 0) {
            sub = d->symbol[ref->element];
            skip = 4;
        }
        if (sub != NULL) {
            int w = snprintf(buf + used, size - used, "%s", sub);
            used += w > 0 ? (size_t)w : 0;
        } else {
            buf[used++] = *t;
            buf[used] = '\0';
        }
        t += skip;
    }
}

static void emit_lever(const resim_scenario *sc, const resim_levers *lv, const resim_lever *l,
                       resim_lever_ref ref, resim_lever_fn fn, void *ctx)
{
    char key[160];
    key_text(key, sizeof key, l, sc->data, &ref);
    if (ref.element == RESIM_LEVER_ALL)
        ref.element = (int)sc->element[0];
    double v = resim_lever_value(lv, &ref);
    if (l->kind == RESIM_KIND_STATUSES) { /* names, in status order */
        char buf[64] = "";
        for (int st = 0; st < RESIM_NSTATUSES; st++)
            if ((unsigned)v & (1u << st)) {
                if (buf[0] != '\0')
                    strcat(buf, " ");
                strcat(buf, resim_status_names[st]);
            }
        fn(ctx, key, buf);
    } else if (l->kind == RESIM_KIND_MONTH) {
        char date[8];
        resim_date_format(sc->start + (int)v, date);
        fn(ctx, key, date);
    } else {
        emit_number(fn, ctx, key, v);
    }
}

/* A lever indexed by element whose bare key sets every element: the bare
 * key while every scenario element has the same value, else one key per
 * element (so a scenario that sets only bare keys reports as before). */
static void emit_elements(const resim_scenario *sc, const resim_levers *lv, const resim_lever *l,
                          resim_lever_ref r, resim_lever_fn fn, void *ctx)
{
    resim_lever_ref first = r, other = r;
    first.element = (int)sc->element[0];
    int same = 1;
    for (size_t e = 1; e < sc->n_elements && same; e++) {
        other.element = (int)sc->element[e];
        same = resim_lever_value(lv, &other) == resim_lever_value(lv, &first);
    }
    for (size_t e = 0; e < (same ? 1 : sc->n_elements); e++) {
        r.element = same ? RESIM_LEVER_ALL : (int)sc->element[e];
        emit_lever(sc, lv, l, r, fn, ctx);
    }
}

void resim_levers_each(const resim_scenario *sc, const resim_levers *lv, resim_lever_fn fn,
                       void *ctx)
{
    const size_t n = resim_lever_count();
    for (size_t i = 0; i < n;) {
        const resim_lever *l = resim_lever_at(i);
        if (l->offset == RESIM_LEVER_NOWHERE) {
            i++;
            continue;
        }
        if (l->kind == RESIM_KIND_ELEMENTS) { /* the controlled set */
            char key[64], buf[256];
            snprintf(key, sizeof key, "%s.%s", l->section->name, l->key);
            buf[0] = '\0';
            for (size_t e = 0; e < sc->n_elements; e++)
                if (lv->controlled[sc->element[e]]) {
                    if (buf[0] != '\0')
                        strcat(buf, " ");
                    strcat(buf, resim_scenario_symbol(sc, e));
                }
            fn(ctx, key, buf);
            i++;
            continue;
        }
        /* Levers of a section indexed by element (or by source) are
         * reported together, one element (or source) at a time; a lever
         * whose bare key sets every element is reported on its own. */
        size_t end = i + 1;
        int bare = (l->flags & RESIM_LEVER_ALL_ELEMENTS) != 0;
        if (!bare && (l->shape == RESIM_SHAPE_ELEMENT || l->shape == RESIM_SHAPE_SOURCE))
            while (end < n && resim_lever_at(end)->offset != RESIM_LEVER_NOWHERE &&
                   resim_lever_at(end)->shape == l->shape &&
                   !(resim_lever_at(end)->flags & RESIM_LEVER_ALL_ELEMENTS) &&
                   resim_lever_at(end)->section == l->section)
                end++;
        switch (l->shape) {
        case RESIM_SHAPE_SCALAR:
            emit_lever(sc, lv, l, (resim_lever_ref){l->id, -1, -1, -1}, fn, ctx);
            break;
        case RESIM_SHAPE_SOURCE:
            for (size_t j = 0; j < sc->n_sources; j++)
                for (size_t k = i; k < end; k++)
                    emit_lever(sc, lv, resim_lever_at(k),
                               (resim_lever_ref){resim_lever_at(k)->id, -1, -1, (int)sc->source[j]},
                               fn, ctx);
            break;
        case RESIM_SHAPE_ELEMENT:
            if (bare) {
                emit_elements(sc, lv, l, (resim_lever_ref){l->id, -1, -1, -1}, fn, ctx);
                break;
            }
            for (size_t e = 0; e < sc->n_elements; e++)
                for (size_t k = i; k < end; k++)
                    emit_lever(sc, lv, resim_lever_at(k),
                               (resim_lever_ref){resim_lever_at(k)->id, -1, (int)sc->element[e], -1},
                               fn, ctx);
            break;
        case RESIM_SHAPE_STATUS:
            for (int st = 0; st < RESIM_NSTATUSES; st++)
                emit_lever(sc, lv, l, (resim_lever_ref){l->id, st, -1, -1}, fn, ctx);
            break;
        case RESIM_SHAPE_STATUS_ELEMENT:
            for (int st = 0; st < RESIM_NSTATUSES; st++)
                emit_elements(sc, lv, l, (resim_lever_ref){l->id, st, -1, -1}, fn, ctx);
            break;
        }
        i = end;
    }
}

/* data.c - reads the data directory: elements, demand, importers, sources, stockpile. */
#include "resim/csvread.h"
#include "resim/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tolerance on the sum of an element's importer shares. */
#define SHARE_SUM_TOL 1e-6

static int text(const resim_table *t, size_t row, const char *col, const char **out,
                resim_error *err)
{
    int j;
    int rc = resim_table_need(t, col, &j, err);
    if (rc == RESIM_OK)
        *out = resim_table_at(t, row, (size_t)j);
    return rc;
}

/* The element of a row, which must be in the element table. */
static int element_of(const resim_data *d, const resim_table *t, size_t row, const char *col,
                      size_t *out, resim_error *err)
{
    const char *s;
    int rc = text(t, row, col, &s, err);
    if (rc != RESIM_OK)
        return rc;
    int e = resim_data_element(d, s);
    if (e < 0)
        return resim_error_set(err, RESIM_EINVAL, t->path, t->line[row],
                               "%s: unknown element '%s' (not in %s)", col, s,
                               resim_data_file_names[RESIM_FILE_ELEMENTS]);
    *out = (size_t)e;
    return RESIM_OK;
}

/* An element symbol: it becomes CSV fields, column names and INI keys. */
static int valid_symbol(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 3 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static int load_elements(resim_data *d, const resim_table *t, resim_error *err)
{
    int rc = RESIM_OK;
    if (t->nrow > RESIM_MAX_ELEMENTS)
        return resim_error_set(err, RESIM_EINVAL, t->path, 0, "more than %d elements",
                               RESIM_MAX_ELEMENTS);
    for (size_t i = 0; i < t->nrow && rc == RESIM_OK; i++) {
        const char *sym;
        double lic;
        if ((rc = text(t, i, "symbol", &sym, err)) != RESIM_OK ||
            (rc = resim_table_number(t, i, "licensed_2025", 0, 1, &lic, err)) != RESIM_OK)
            break;
        if (!valid_symbol(sym))
            return resim_error_set(err, RESIM_EINVAL, t->path, t->line[i],
                                   "symbol: must be 1 to 3 ASCII letters or digits starting "
                                   "with a letter (it names CSV columns and keys)");
        if (resim_data_element(d, sym) >= 0)
            return resim_error_set(err, RESIM_EINVAL, t->path, t->line[i],
                                   "symbol: '%s' given twice", sym);
        strcpy(d->symbol[d->n_elements], sym);
        d->licensed[d->n_elements++] = lic != 0;
    }
    return rc;
}

static int load_demand(resim_data *d, const resim_table *t, resim_error *err)
{
    for (size_t i = 0; i < t->nrow; i++) {
        size_t e = 0;
        int rc;
        if ((rc = element_of(d, t, i, "element", &e, err)) != RESIM_OK)
            return rc;
        if (d->has_demand[e])
            return resim_error_set(err, RESIM_EINVAL, t->path, t->line[i],
                                   "element: '%s' given twice", d->symbol[e]);
        if ((rc = resim_table_number(t, i, "base_tpy", 0, HUGE_VAL, &d->base_tpy[e], err)) ||
            (rc = resim_table_number(t, i, "growth", -0.999999, HUGE_VAL, &d->growth[e], err)))
            return rc;
        d->has_demand[e] = 1;
    }
    return RESIM_OK;
}

static int load_stockpile(resim_data *d, const resim_table *t, resim_error *err)
{
    for (size_t i = 0; i < t->nrow; i++) {
        size_t e = 0;
        int rc;
        if ((rc = element_of(d, t, i, "element", &e, err)) != RESIM_OK)
            return rc;
        if (d->has_stock[e])
            return resim_error_set(err, RESIM_EINVAL, t->path, t->line[i],
                                   "element: '%s' given twice", d->symbol[e]);
        if ((rc = resim_table_number(t, i, "tonnes", 0, HUGE_VAL, &d->stock_tonnes[e], err)) ||
            (rc = resim_table_number(t, i, "release_max_tpm", 0, HUGE_VAL,
                                     &d->stock_release_max[e], err)))
            return rc;
        d->has_stock[e] = 1;
    }
    return RESIM_OK;
}

static int valid_id(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static int load_sources(resim_data *d, const resim_table *t, resim_error *err)
{
    if (t->nrow > RESIM_MAX_SOURCES)
        return resim_error_set(err, RESIM_EINVAL, t->path, 0, "more than %d sources",
                               RESIM_MAX_SOURCES);
    for (size_t i = 0; i < t->nrow; i++) {
        const char *id, *start;
        int rc;
        size_t k = d->n_sources;
        resim_source_levers *s = &d->source[k];
        if ((rc = text(t, i, "id", &id, err)) != RESIM_OK)
            return rc;
        if (!valid_id(id) || strlen(id) >= sizeof d->source_id[0] ||
            strcmp(id, "capacity_factor") == 0 || strcmp(id, "delay_months") == 0)
            return resim_error_set(err, RESIM_EINVAL, t->path, t->line[i],
                                   "id: '%s' must be letters, digits, _ or - (at most 47), "
                                   "and not a key of [alt]", id);
        for (size_t j = 0; j < k; j++)
            if (strcmp(d->source_id[j], id) == 0)
                return resim_error_set(err, RESIM_EINVAL, t->path, t->line[i],
                                       "id: '%s' given twice", id);
        strcpy(d->source_id[k], id);
        if ((rc = element_of(d, t, i, "element", &d->source_element[k], err)) ||
            (rc = resim_table_number(t, i, "capacity_tpy", 0, HUGE_VAL, &s->capacity_tpy, err)) ||
            (rc = resim_table_number(t, i, "ramp_months", 0, HUGE_VAL, &s->ramp_months, err)) ||
            (rc = resim_table_number(t, i, "growth", -0.999999, HUGE_VAL, &s->growth, err)) ||
            (rc = resim_table_number(t, i, "japan_share", 0, 1, &s->japan_share, err)) ||
            (rc = text(t, i, "start", &start, err)))
            return rc;
        if (resim_date_parse(start, &d->source_start[k]) != 0)
            return resim_error_set(err, RESIM_EPARSE, t->path, t->line[i],
                                   "start: '%s' is not a date YYYY-MM", start);
        s->capacity_factor = 1;
        s->delay_months = 0;
        d->n_sources++;
    }
    return RESIM_OK;
}

static int load_importers(resim_data *d, const resim_table *t, resim_error *err)
{
    size_t n = t->nrow;
    if (n == 0)
        return resim_error_set(err, RESIM_EINVAL, t->path, 0, "no importers");
    d->importer_id = calloc(n, sizeof *d->importer_id);
    d->status0 = calloc(n, 1);
    d->exposure = calloc(n, sizeof(double));
    d->military = calloc(n, sizeof(double));
    d->cover = calloc(n, sizeof(double));
    d->share = calloc(RESIM_MAX_ELEMENTS * n, sizeof(double));
    if (!d->importer_id || !d->status0 || !d->exposure || !d->military || !d->cover || !d->share)
        return resim_error_set(err, RESIM_ENOMEM, t->path, 0, "out of memory");
    d->n_importers = n;
    for (size_t j = 0; j < t->ncol; j++) {
        const char *h = t->header[j];
        if (strncmp(h, "share_", 6) != 0)
            continue;
        int e = resim_data_element(d, h + 6);
        if (e < 0)
            return resim_error_set(err, RESIM_EINVAL, t->path, 1,
                                   "column %s: unknown element '%s'", h, h + 6);
        d->has_share[e] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *id, *status;
        int rc;
        if ((rc = text(t, i, "id", &id, err)) || (rc = text(t, i, "status", &status, err)) ||
            (rc = resim_table_number(t, i, "exposure", 0, 1, &d->exposure[i], err)) ||
            (rc = resim_table_number(t, i, "military", 0, 1, &d->military[i], err)) ||
            (rc = resim_table_number(t, i, "cover_months", 0, HUGE_VAL, &d->cover[i], err)))
            return rc;
        if (!valid_id(id))
            return resim_error_set(err, RESIM_EINVAL, t->path, t->line[i],
                                   "id: '%s' must be letters, digits, _ or -", id);
        for (size_t k = 0; k < i; k++)
            if (strcmp(d->importer_id[k], id) == 0)
                return resim_error_set(err, RESIM_EINVAL, t->path, t->line[i],
                                       "id: '%s' given twice", id);
        if ((d->importer_id[i] = malloc(strlen(id) + 1)) == NULL)
            return resim_error_set(err, RESIM_ENOMEM, t->path, 0, "out of memory");
        strcpy(d->importer_id[i], id);
        int s = resim_status_of(status);
        if (s < 0)
            return resim_error_set(err, RESIM_EINVAL, t->path, t->line[i],
                                   "status: '%s' is not none, watch or control", status);
        d->status0[i] = (unsigned char)s;
        for (size_t e = 0; e < d->n_elements; e++) {
            if (!d->has_share[e])
                continue;
            char col[16];
            snprintf(col, sizeof col, "share_%s", d->symbol[e]);
            if ((rc = resim_table_number(t, i, col, 0, 1, &d->share[e * n + i], err)))
                return rc;
        }
    }
    for (size_t e = 0; e < d->n_elements; e++) {
        if (!d->has_share[e])
            continue;
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += d->share[e * n + i];
        if (fabs(sum - 1) > SHARE_SUM_TOL)
            return resim_error_set(err, RESIM_EINVAL, t->path, 0,
                                   "share_%s: shares sum to %.9g, not 1 (tolerance %g)",
                                   d->symbol[e], sum, SHARE_SUM_TOL);
    }
    return RESIM_OK;
}

int resim_data_load(resim_data *d, const char *dir, resim_error *err)
{
    typedef int (*loader)(resim_data *, const resim_table *, resim_error *);
    static const loader load[RESIM_NFILES] = {load_elements, load_demand, load_importers,
                                              load_sources, load_stockpile};
    memset(d, 0, sizeof *d);
    if (strlen(dir) + 32 >= sizeof d->dir)
        return resim_error_set(err, RESIM_EIO, dir, 0, "path too long");
    strcpy(d->dir, dir);
    for (int f = 0; f < RESIM_NFILES; f++) {
        snprintf(d->path[f], sizeof d->path[f], "%s/%s", dir, resim_data_file_names[f]);
        resim_table t;
        int rc = resim_table_read(&t, d->path[f], err);
        if (rc == RESIM_OK) {
            memcpy(d->sha256[f], t.sha256, sizeof d->sha256[f]);
            rc = load[f](d, &t, err);
            resim_table_free(&t);
        }
        if (rc != RESIM_OK) {
            resim_data_free(d);
            return rc;
        }
    }
    return RESIM_OK;
}

void resim_data_free(resim_data *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_importers && d->importer_id != NULL; i++)
        free(d->importer_id[i]);
    free(d->importer_id);
    free(d->status0);
    free(d->exposure);
    free(d->military);
    free(d->cover);
    free(d->share);
    d->importer_id = NULL;
    d->status0 = NULL;
    d->exposure = d->military = d->cover = d->share = NULL;
    d->n_importers = 0;
}

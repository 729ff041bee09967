/* fit.c - `resim fit`: calibrates free scenario keys to an observed monthly series. */
/* realpath() is an XSI function. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "resim/csvout.h"
#include "resim/csvread.h"
#include "resim/fit.h"
#include "resim/iniread.h"
#include "resim/sidecar.h"

static const char fit_help[] =
    "usage: resim fit SCENARIO --observed FILE.csv --measure SPEC\n"
    "                 --free SECTION.KEY=LO:HI [--free ...] [options]\n"
    "\n"
    "Fits the free keys so that the deterministic run's measure matches the\n"
    "observed monthly series (weighted least squares, GSL trust region from\n"
    "several Sobol starting points), and brackets each key by the profile of\n"
    "the objective (an approximate 95 % interval, or \"not identified\").\n"
    "\n"
    "  --observed FILE.csv   columns date (YYYY-MM), value, optional weight;\n"
    "                        consecutive months inside the scenario's horizon\n"
    "  --measure SPEC        COLUMN[:ELEMENTS[:GROUP]] of the run CSV, summed over\n"
    "                        ELEMENTS (comma-separated, default all) in GROUP\n"
    "                        (all, none, watch, control; default all), e.g.\n"
    "                        china_arrivals, china_approved:Dy,Tb,\n"
    "                        consumption:all:control\n"
    "  --free SECTION.KEY=LO:HI\n"
    "                        a numeric scenario or event key to fit, with bounds\n"
    "                        (repeatable), e.g. 2010-09.approval.none=0:1\n"
    "  --normalise YYYY-MM   divide both series by their value in that month\n"
    "  --starts N            starting points (default 16)\n"
    "  --seed S              shifts the Sobol starting points (default 1)\n"
    "  --profile-points N    profile grid points across each key's bounds (default 21)\n"
    "  --set SECTION.KEY=VALUE, --warmup N   as for resim run\n"
    "  -o, --output FITTED.ini\n"
    "                        write the scenario with the fitted values (and\n"
    "                        FITTED.ini.json); also FITTED.csv unless --fitted-csv\n"
    "  --fitted-csv FILE     write observed vs fitted per month to FILE (and FILE.json)\n"
    "\n"
    "Prints a table: each key's estimate and interval, the RMSE and the number\n"
    "of model runs. See docs/fit.md.\n"
    "exit codes: 0 success, 1 bad input or failed output, 2 bad command line.\n";

#define FIT_MAX_KEYS RESIM_FIT_MAX_PARAMS

/* One free key: where it lives and its bounds. */
typedef struct free_key {
    char name[192], section[64], key[128];
    double lo, hi;
} free_key;

/* Which model series is compared: a column summed over elements, in one group. */
typedef struct measure {
    char spec[256];
    int column;                                /* index into resim_metric_names */
    unsigned char element[RESIM_MAX_ELEMENTS]; /* scenario elements summed */
    int group;                                 /* 0 all, 1 + status */
} measure;

typedef struct fit_args {
    cli_opts scen;
    const char *observed, *measure, *normalise, *output, *fitted_csv;
    const char *free_spec[FIT_MAX_KEYS];
    size_t n_free;
    size_t starts, profile_points;
    unsigned long long seed;
} fit_args;

/* The observed series, in month order. */
typedef struct observed {
    size_t n;
    int *t;         /* model month */
    double *value;  /* as read, then divided by the normalisation value */
    double *weight;
    long *line;
    char sha256[65];
    int norm_t;     /* model month of --normalise, or INT_MIN */
    double norm_value;
} observed;

/* Everything one model run needs; the residual function's context. */
typedef struct fit_ctx {
    const cli_scenario *s;
    const free_key *keys;
    size_t p;
    const measure *ms;
    const observed *obs;
    size_t n;       /* residuals: observations with weight > 0 outside the normalisation month */
    size_t *row;    /* [n] observation of each residual */
    double *sqrtw;  /* [n] */
    resim_ini work; /* the scenario's entries with the free keys set */
    resim_model *m;
    double *out;    /* one month of model output */
    double *series; /* [months] the measure */
    int last_t;     /* last month the residuals need */
    resim_error err;
} fit_ctx;

/* ------------------------------------------------------------ keys */

/*
 * Whether `resim fit` may free section.key, and the key's valid range, as
 * the lever table says: a key a deterministic run reads (not [stochastic]
 * or [list_process]), that an event may set when given in an event
 * section, and whose kind takes any number in a range (not a switch, a
 * count, a whole number, a month or text). Everything else in fit asks it.
 */
static int fit_key_check(const cli_scenario *s, const char *section, const char *key, double *lo,
                         double *hi, resim_error *err)
{
    /* The lever table decides (include/resim/lever.h): a key may be free when
     * a deterministic run reads it and it takes any number in a range. */
    resim_lever_ref ref;
    int found = resim_lever_find(&s->data, section, key, &ref);
    int ym, event = resim_date_parse(section, &ym) == 0;
    if (found == RESIM_LEVER_UNKNOWN_INDEX)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "--free %s.%s: unknown element or source in the key for this "
                               "scenario's data",
                               section, key);
    if (found != RESIM_LEVER_FOUND) {
        char sections[256];
        resim_lever_section_list(sections, sizeof sections, 1);
        if (!event && resim_section_of(section) < 0)
            return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                                   "--free %s.%s: unknown section [%s] (sections: %s)", section,
                                   key, section, sections);
        if (event)
            for (int k = 0; k < RESIM_NSECTIONS; k++) {
                const resim_section *sec = resim_section_get((resim_section_id)k);
                if (!(sec->flags & RESIM_SECTION_EVENTS) &&
                    resim_lever_find(&s->data, sec->name, key, NULL) == RESIM_LEVER_FOUND)
                    return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                                           "--free %s.%s: an event cannot set this key (only "
                                           "[%s] takes it)",
                                           section, key, sec->name);
            }
        return resim_error_set(err, RESIM_EINVAL, NULL, 0, "--free %s.%s: unknown key", section,
                               key);
    }
    const resim_lever *lv = resim_lever_get(ref.id);
    if (lv->section->flags & RESIM_SECTION_ENSEMBLE_ONLY)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "--free %s.%s: [%s] has no effect on a deterministic run", section,
                               key, lv->section->name);
    const char *why = NULL;
    switch (lv->kind) {
    case RESIM_KIND_RATE:
    case RESIM_KIND_NONNEG:
    case RESIM_KIND_GROWTH:
    case RESIM_KIND_POSITIVE:
    case RESIM_KIND_AT_LEAST_ONE:
        break;
    case RESIM_KIND_SWITCH:
        why = "a switch (0 or 1) cannot be fitted";
        break;
    case RESIM_KIND_COUNT:
        why = "list moves count whole importers and cannot be fitted";
        break;
    case RESIM_KIND_WHOLE:
        why = "takes whole numbers only and cannot be fitted";
        break;
    case RESIM_KIND_MONTH:
        why = "a calendar month cannot be fitted (a source's delay_months can)";
        break;
    case RESIM_KIND_ELEMENTS:
    case RESIM_KIND_ASSIGN:
    case RESIM_KIND_STATUSES:
    case RESIM_KIND_TEXT:
        why = "not a number, so it cannot be fitted";
        break;
    }
    if (why != NULL)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0, "--free %s.%s: %s", section, key, why);
    if (event && ym > s->sc.start + s->sc.months - 1)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "--free %s.%s: the event month is after the scenario's "
                               "horizon, so the key has no effect",
                               section, key);
    *lo = lv->lo;
    *hi = lv->hi;
    return RESIM_OK;
}

/* Parses --free SECTION.KEY=LO:HI; a malformed spec is a usage error, a bad key or range not. */
static int parse_free(free_key *k, const char *spec, const cli_scenario *s, resim_error *err)
{
    memset(k, 0, sizeof *k);
    const char *eq = strchr(spec, '=');
    const char *dot = strchr(spec, '.');
    if (eq == NULL || dot == NULL || dot > eq || dot == spec || dot + 1 == eq)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0,
                               "--free '%s': expected SECTION.KEY=LO:HI", spec);
    if ((size_t)(eq - spec) >= sizeof k->name || (size_t)(dot - spec) >= sizeof k->section ||
        (size_t)(eq - dot - 1) >= sizeof k->key)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0, "--free '%s': too long", spec);
    memcpy(k->name, spec, (size_t)(eq - spec));
    memcpy(k->section, spec, (size_t)(dot - spec));
    memcpy(k->key, dot + 1, (size_t)(eq - dot - 1));
    char range[128];
    snprintf(range, sizeof range, "%s", eq + 1);
    char *colon = strchr(range, ':');
    if (colon == NULL)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0,
                               "--free '%s': expected bounds LO:HI after '='", spec);
    *colon = '\0';
    if (resim_parse_double(range, &k->lo) != 0 || resim_parse_double(colon + 1, &k->hi) != 0)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0,
                               "--free '%s': LO and HI must be numbers", spec);
    if (!(k->lo < k->hi))
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "--free %s: LO must be below HI (got %s)", k->name, eq + 1);
    double vlo = 0, vhi = 0; /* set by fit_key_check when it returns RESIM_OK */
    int rc = fit_key_check(s, k->section, k->key, &vlo, &vhi, err);
    if (rc != RESIM_OK)
        return rc;
    if (k->lo < vlo || k->hi > vhi)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "--free %s: bounds %s outside the key's valid range [%g, %g]",
                               k->name, eq + 1, vlo, vhi);
    return RESIM_OK;
}

/* ------------------------------------------------------------ measure */

static int parse_measure(measure *ms, const char *spec, const resim_scenario *sc,
                         resim_error *err)
{
    memset(ms, 0, sizeof *ms);
    if (strlen(spec) >= sizeof ms->spec)
        return resim_error_set(err, RESIM_EUSAGE, NULL, 0, "--measure: too long");
    char buf[sizeof ms->spec];
    strcpy(buf, spec);
    strcpy(ms->spec, spec);
    char *els = strchr(buf, ':'), *grp = NULL;
    if (els != NULL) {
        *els++ = '\0';
        if ((grp = strchr(els, ':')) != NULL)
            *grp++ = '\0';
    }
    ms->column = -1;
    for (int k = 0; k < RESIM_NMETRICS; k++)
        if (strcmp(buf, resim_metric_names[k]) == 0)
            ms->column = k;
    if (ms->column < 0)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "--measure %s: unknown column '%s' (a metric column of the run "
                               "CSV, e.g. china_arrivals)",
                               spec, buf);
    size_t count = 0;
    if (els == NULL || *els == '\0' || strcmp(els, "all") == 0) {
        for (size_t e = 0; e < sc->n_elements; e++)
            ms->element[e] = 1;
        count = sc->n_elements;
    } else {
        char *save = NULL;
        for (char *tok = strtok_r(els, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
            size_t e = 0;
            while (e < sc->n_elements && strcmp(resim_scenario_symbol(sc, e), tok) != 0)
                e++;
            if (e == sc->n_elements)
                return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                                       "--measure %s: element '%s' is not in the scenario", spec,
                                       tok);
            if (ms->element[e])
                return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                                       "--measure %s: element '%s' given twice", spec, tok);
            ms->element[e] = 1;
            count++;
        }
        if (count == 0)
            return resim_error_set(err, RESIM_EINVAL, NULL, 0, "--measure %s: no elements", spec);
    }
    if (count > 1 && (ms->column == RESIM_M_AVAILABILITY || ms->column == RESIM_M_COVER_DAYS))
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "--measure %s: %s is a ratio and cannot be summed over elements; "
                               "name one element",
                               spec, buf);
    ms->group = 0;
    if (grp != NULL && strcmp(grp, "all") != 0) {
        ms->group = -1;
        for (int g = 0; g < RESIM_NSTATUSES; g++)
            if (strcmp(grp, resim_status_names[g]) == 0)
                ms->group = 1 + g;
        if (ms->group < 0)
            return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                                   "--measure %s: unknown group '%s' (all, none, watch or control)",
                                   spec, grp);
    }
    return RESIM_OK;
}

/* ------------------------------------------------------------ observed */

static void observed_free(observed *o)
{
    free(o->t);
    free(o->value);
    free(o->weight);
    free(o->line);
    memset(o, 0, sizeof *o);
}

/* Reads date,value[,weight]: consecutive months inside the horizon, finite values. */
static int read_observed(observed *o, const char *path, const char *normalise,
                         const resim_scenario *sc, resim_error *err)
{
    memset(o, 0, sizeof *o);
    o->norm_t = INT_MIN;
    resim_table t;
    int rc = resim_table_read(&t, path, err);
    if (rc != RESIM_OK)
        return rc;
    int cdate, cvalue;
    if ((rc = resim_table_need(&t, "date", &cdate, err)) != RESIM_OK ||
        (rc = resim_table_need(&t, "value", &cvalue, err)) != RESIM_OK) {
        resim_table_free(&t);
        return rc;
    }
    int cweight = resim_table_col(&t, "weight");
    if (t.nrow == 0) {
        resim_table_free(&t);
        return resim_error_set(err, RESIM_EINVAL, path, 0, "no observations");
    }
    o->n = t.nrow;
    o->t = malloc(t.nrow * sizeof *o->t);
    o->value = malloc(t.nrow * sizeof *o->value);
    o->weight = malloc(t.nrow * sizeof *o->weight);
    o->line = malloc(t.nrow * sizeof *o->line);
    if (o->t == NULL || o->value == NULL || o->weight == NULL || o->line == NULL) {
        resim_table_free(&t);
        observed_free(o);
        return resim_error_set(err, RESIM_ENOMEM, path, 0, "out of memory");
    }
    char first[8], last[8];
    resim_date_format(sc->start, first);
    resim_date_format(sc->start + sc->months - 1, last);
    double wsum = 0;
    for (size_t i = 0; i < t.nrow && rc == RESIM_OK; i++) {
        long line = t.line[i];
        o->line[i] = line;
        const char *d = resim_table_at(&t, i, (size_t)cdate);
        int ym;
        if (resim_date_parse(d, &ym) != 0) {
            rc = resim_error_set(err, RESIM_EPARSE, path, line, "date: not a month YYYY-MM: '%s'",
                                 d);
            break;
        }
        if (ym < sc->start || ym >= sc->start + sc->months) {
            rc = resim_error_set(err, RESIM_EINVAL, path, line,
                                 "date %s is outside the scenario's horizon %s to %s", d, first,
                                 last);
            break;
        }
        o->t[i] = ym - sc->start;
        if (i > 0 && o->t[i] <= o->t[i - 1]) {
            rc = resim_error_set(err, RESIM_EINVAL, path, line,
                                 o->t[i] == o->t[i - 1] ? "date %s given twice (also line %ld)"
                                                        : "date %s out of order (after line %ld)",
                                 d, t.line[i - 1]);
            break;
        }
        if (i > 0 && o->t[i] != o->t[i - 1] + 1) {
            char gap[8];
            resim_date_format(sc->start + o->t[i - 1] + 1, gap);
            rc = resim_error_set(err, RESIM_EINVAL, path, line,
                                 "date %s: months missing from %s (the series must have every "
                                 "month; give a missing one weight 0)",
                                 d, gap);
            break;
        }
        if ((rc = resim_table_number(&t, i, "value", -HUGE_VAL, HUGE_VAL, &o->value[i], err)) !=
            RESIM_OK)
            break;
        o->weight[i] = 1;
        if (cweight >= 0 &&
            (rc = resim_table_number(&t, i, "weight", 0, HUGE_VAL, &o->weight[i], err)) != RESIM_OK)
            break;
        wsum += o->weight[i];
    }
    if (rc == RESIM_OK && !(wsum > 0))
        rc = resim_error_set(err, RESIM_EINVAL, path, 0, "every weight is 0");
    if (rc == RESIM_OK && normalise != NULL) {
        int ym;
        if (resim_date_parse(normalise, &ym) != 0) {
            rc = resim_error_set(err, RESIM_EUSAGE, NULL, 0,
                                 "--normalise takes a month YYYY-MM, not '%s'", normalise);
        } else {
            size_t i = 0;
            while (i < o->n && o->t[i] != ym - sc->start)
                i++;
            if (i == o->n)
                rc = resim_error_set(err, RESIM_EINVAL, path, 0,
                                     "--normalise %s: the observed series has no value that month",
                                     normalise);
            else if (o->value[i] == 0)
                rc = resim_error_set(err, RESIM_EINVAL, path, o->line[i],
                                     "--normalise %s: the observed value that month is 0",
                                     normalise);
            else {
                o->norm_t = ym - sc->start;
                o->norm_value = o->value[i];
                for (size_t k = 0; k < o->n; k++)
                    o->value[k] /= o->norm_value;
            }
        }
    }
    if (rc == RESIM_OK)
        rc = resim_sha256_file(path, o->sha256, err);
    resim_table_free(&t);
    if (rc != RESIM_OK)
        observed_free(o);
    return rc;
}

/* ------------------------------------------------------------ one model run */

/* Sets the free keys of ctx->work to theta (17 significant digits read back exactly). */
static int set_free(fit_ctx *c, const double *theta, resim_error *err)
{
    for (size_t j = 0; j < c->p; j++) {
        char v[40];
        resim_format_number(v, sizeof v, theta[j]);
        int rc = resim_ini_put(&c->work, c->keys[j].section, c->keys[j].key, v, "--free", 0, err);
        if (rc != RESIM_OK)
            return rc;
    }
    return RESIM_OK;
}

/* Runs the deterministic model with the free keys at theta; fills c->series up to c->last_t. */
static int run_model(fit_ctx *c, const double *theta, resim_scenario *keep, resim_error *err)
{
    int rc = set_free(c, theta, err);
    resim_scenario sc;
    if (rc == RESIM_OK)
        rc = resim_scenario_resolve(&sc, &c->work, &c->s->data, NULL, NULL, err);
    if (rc != RESIM_OK)
        return rc;
    const measure *ms = c->ms;
    size_t G = resim_model_groups(c->m);
    if ((rc = resim_model_init(c->m, &sc, err)) == RESIM_OK) {
        while (resim_model_month(c->m) <= c->last_t) {
            int t = resim_model_month(c->m);
            resim_model_step(c->m, c->out);
            if (t < 0)
                continue;
            double sum = 0;
            for (size_t e = 0; e < sc.n_elements; e++)
                if (ms->element[e])
                    sum += c->out[(e * G + (size_t)ms->group) * RESIM_NMETRICS + (size_t)ms->column];
            c->series[t] = sum;
        }
    }
    if (keep != NULL && rc == RESIM_OK)
        *keep = sc;
    else
        resim_scenario_free(&sc);
    return rc;
}

/* The model's measure in the observed month of observation i, normalised like the data. */
static int model_value(fit_ctx *c, size_t i, double *out, resim_error *err)
{
    double v = c->series[c->obs->t[i]];
    if (c->obs->norm_t != INT_MIN) {
        double d = c->series[c->obs->norm_t];
        if (d == 0 || !isfinite(d)) {
            char date[8];
            resim_date_format(c->s->sc.start + c->obs->norm_t, date);
            return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                                   "--normalise %s: the model's %s is %g that month for some "
                                   "values of the free keys; choose another month or narrower bounds",
                                   date, c->ms->spec, d);
        }
        v /= d;
    }
    if (!isfinite(v)) {
        char date[8];
        resim_date_format(c->s->sc.start + c->obs->t[i], date);
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "--measure %s: the model's value in %s is not a number (no demand?)",
                               c->ms->spec, date);
    }
    *out = v;
    return RESIM_OK;
}

/* The residual function of the fit: sqrt(w) (model - observed) for each used month. */
static int fit_residuals(const double *theta, double *resid, void *ctx)
{
    fit_ctx *c = ctx;
    int rc = run_model(c, theta, NULL, &c->err);
    for (size_t k = 0; rc == RESIM_OK && k < c->n; k++) {
        size_t i = c->row[k];
        double v = 0;
        rc = model_value(c, i, &v, &c->err);
        resid[k] = c->sqrtw[k] * (v - c->obs->value[i]);
    }
    return rc;
}

static void ctx_free(fit_ctx *c)
{
    resim_ini_free(&c->work);
    resim_model_free(c->m);
    free(c->out);
    free(c->series);
    free(c->row);
    free(c->sqrtw);
}

static int ctx_init(fit_ctx *c, const cli_scenario *s, const free_key *keys, size_t p,
                    const measure *ms, const observed *obs, resim_error *err)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->keys = keys;
    c->p = p;
    c->ms = ms;
    c->obs = obs;
    int rc = resim_ini_copy(&c->work, &s->central, err);
    if (rc != RESIM_OK)
        return rc;
    resim_grouping by = ms->group == 0 ? RESIM_BY_NONE : RESIM_BY_STATUS;
    if ((c->m = resim_model_alloc(&s->sc, by, err)) == NULL)
        return err->status;
    size_t G = resim_model_groups(c->m);
    c->out = malloc(s->sc.n_elements * G * RESIM_NMETRICS * sizeof *c->out);
    c->series = calloc((size_t)s->sc.months, sizeof *c->series);
    c->row = malloc(obs->n * sizeof *c->row);
    c->sqrtw = malloc(obs->n * sizeof *c->sqrtw);
    if (c->out == NULL || c->series == NULL || c->row == NULL || c->sqrtw == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    c->last_t = obs->t[obs->n - 1];
    if (obs->norm_t > c->last_t)
        c->last_t = obs->norm_t;
    for (size_t i = 0; i < obs->n; i++)
        if (obs->weight[i] > 0 && obs->t[i] != obs->norm_t) {
            c->row[c->n] = i;
            c->sqrtw[c->n++] = sqrt(obs->weight[i]);
        }
    return RESIM_OK;
}

/* Checks each free key at both bounds with the rest of the scenario, so a fit never starts on a
 * combination the resolver refuses. */
static int probe_bounds(fit_ctx *c, const free_key *keys, size_t p, resim_error *err)
{
    double theta[FIT_MAX_KEYS];
    for (size_t j = 0; j < p; j++)
        theta[j] = 0.5 * (keys[j].lo + keys[j].hi);
    for (size_t j = 0; j < p; j++)
        for (int side = 0; side < 2; side++) {
            double mid = theta[j];
            theta[j] = side == 0 ? keys[j].lo : keys[j].hi;
            resim_scenario sc;
            int rc = set_free(c, theta, err);
            if (rc == RESIM_OK)
                rc = resim_scenario_resolve(&sc, &c->work, &c->s->data, NULL, NULL, err);
            theta[j] = mid;
            if (rc != RESIM_OK) {
                char msg[sizeof err->msg];
                snprintf(msg, sizeof msg, "%s", err->msg);
                return resim_error_set(err, RESIM_EINVAL, NULL, 0, "--free %s: refused at %s: %.800s",
                                       keys[j].name, side == 0 ? "LO" : "HI", msg);
            }
            resim_scenario_free(&sc);
        }
    return RESIM_OK;
}

/* ------------------------------------------------------------ arguments */

/* A usage error of resim fit, with the hint to its own help. */
static int usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_usagev("try 'resim fit --help'", fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

static int whole(const char *name, const char *v, unsigned long long lo, unsigned long long max,
                 unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*v == '\0' || *v == '-' || *end != '\0' || errno != 0 || x < lo || x > max)
        return usage("%s takes a whole number from %llu to %llu, not '%s'", name, lo, max, v);
    *out = x;
    return 0;
}

static int parse_args(int argc, char **argv, fit_args *a)
{
    memset(a, 0, sizeof *a);
    a->starts = 16;
    a->profile_points = 21;
    a->seed = 1;
    a->scen.sets = calloc((size_t)argc, sizeof *a->scen.sets);
    if (a->scen.sets == NULL)
        return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        unsigned long long x = 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(fit_help, stdout);
            return -1;
        }
        if ((r = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            a->scen.sets[a->scen.n_sets++] = v;
        } else if ((r = cli_opt(argc, argv, &i, "--warmup", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            a->scen.warmup = v;
        } else if ((r = cli_opt(argc, argv, &i, "--observed", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            a->observed = v;
        } else if ((r = cli_opt(argc, argv, &i, "--measure", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            a->measure = v;
        } else if ((r = cli_opt(argc, argv, &i, "--free", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            if (a->n_free == FIT_MAX_KEYS)
                return usage("at most %d --free keys", FIT_MAX_KEYS);
            a->free_spec[a->n_free++] = v;
        } else if ((r = cli_opt(argc, argv, &i, "--normalise", &v)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--normalize", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            a->normalise = v;
        } else if ((r = cli_opt(argc, argv, &i, "--starts", &v)) != 0) {
            if (r < 0 || whole("--starts", v, 1, 100000, &x) != 0)
                return EXIT_USAGE;
            a->starts = (size_t)x;
        } else if ((r = cli_opt(argc, argv, &i, "--profile-points", &v)) != 0) {
            if (r < 0 || whole("--profile-points", v, 2, 10000, &x) != 0)
                return EXIT_USAGE;
            a->profile_points = (size_t)x;
        } else if ((r = cli_opt(argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0 || whole("--seed", v, 0, UINT64_MAX, &a->seed) != 0)
                return EXIT_USAGE;
        } else if ((r = cli_opt(argc, argv, &i, "--output", &v)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "-o", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            a->output = v;
        } else if ((r = cli_opt(argc, argv, &i, "--fitted-csv", &v)) != 0) {
            if (r < 0)
                return EXIT_USAGE;
            a->fitted_csv = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage("unknown option '%s'", argv[i]);
        } else if (a->scen.scenario == NULL) {
            a->scen.scenario = argv[i];
        } else {
            return usage("more than one scenario given ('%s')", argv[i]);
        }
    }
    if (a->scen.scenario == NULL)
        return usage("fit: no scenario file given");
    if (a->observed == NULL)
        return usage("fit: --observed FILE.csv is required");
    if (a->measure == NULL)
        return usage("fit: --measure SPEC is required");
    if (a->n_free == 0)
        return usage("fit: at least one --free SECTION.KEY=LO:HI is required");
    if (a->output != NULL && strcmp(a->output, "-") == 0)
        return usage("fit: -o needs a file name (the fitted scenario)");
    return 0;
}

/* ------------------------------------------------------------ outputs */

/* A number for JSON: 17 significant digits, or null. */
static void json_number(FILE *fp, double v)
{
    if (isfinite(v))
        fprintf(fp, "%.17g", v);
    else
        fputs("null", fp);
}

/* The fit's own members of a sidecar (after the common ones). */
static void write_fit_members(FILE *fp, const fit_args *a, const free_key *keys,
                              const resim_fit *w, const fit_ctx *c, const observed *obs,
                              double rmse, size_t runs, const char *csv)
{
    char d0[8], d1[8];
    resim_date_format(c->s->sc.start + obs->t[0], d0);
    resim_date_format(c->s->sc.start + obs->t[obs->n - 1], d1);
    fputs("  \"observed\": {\"path\": ", fp);
    resim_json_string(fp, a->observed);
    fprintf(fp, ", \"sha256\": \"%s\", \"months\": %zu, \"first\": \"%s\", \"last\": \"%s\"},\n",
            obs->sha256, obs->n, d0, d1);
    fputs("  \"measure\": {\"spec\": ", fp);
    resim_json_string(fp, c->ms->spec);
    fputs(", \"column\": ", fp);
    resim_json_string(fp, resim_metric_names[c->ms->column]);
    fputs(", \"elements\": [", fp);
    for (size_t e = 0, k = 0; e < c->s->sc.n_elements; e++)
        if (c->ms->element[e]) {
            fputs(k++ ? ", " : "", fp);
            resim_json_string(fp, resim_scenario_symbol(&c->s->sc, e));
        }
    fprintf(fp, "], \"group\": \"%s\"},\n",
            c->ms->group == 0 ? "all" : resim_status_names[c->ms->group - 1]);
    fputs("  \"normalise\": ", fp);
    if (obs->norm_t != INT_MIN) {
        resim_date_format(c->s->sc.start + obs->norm_t, d0);
        fprintf(fp, "{\"month\": \"%s\", \"observed\": ", d0);
        json_number(fp, obs->norm_value);
        fputs("}", fp);
    } else {
        fputs("null", fp);
    }
    fputs(",\n  \"fitted_csv\": ", fp);
    if (csv != NULL)
        resim_json_string(fp, csv);
    else
        fputs("null", fp);
    fputs(",\n  \"solver\": \"gsl_multifit_nlinear trust region (Levenberg-Marquardt), "
          "forward-difference Jacobian, logistic transform to the bounds; best of Sobol starts; "
          "profile intervals with an F threshold\",\n",
          fp);
    fprintf(fp, "  \"starts\": %zu,\n  \"seed\": %llu,\n  \"best_start\": %zu,\n", a->starts,
            a->seed, w->best_start);
    fprintf(fp, "  \"model_runs\": %zu,\n  \"residuals\": %zu,\n  \"level\": 0.95,\n", runs, w->n);
    fputs("  \"sse\": ", fp);
    json_number(fp, w->sse);
    fputs(",\n  \"rmse\": ", fp);
    json_number(fp, rmse);
    fputs(",\n  \"f_quantile\": ", fp);
    json_number(fp, w->fquantile);
    fputs(",\n  \"threshold\": ", fp);
    json_number(fp, w->threshold);
    fputs(",\n  \"profile_min\": ", fp);
    json_number(fp, w->profile_min);
    fputs(",\n  \"free\": [", fp);
    for (size_t j = 0; j < w->p; j++) {
        const resim_fit_param *pr = &w->param[j];
        fputs(j ? ",\n    {\"key\": " : "\n    {\"key\": ", fp);
        resim_json_string(fp, keys[j].name);
        fputs(", \"lo\": ", fp);
        json_number(fp, keys[j].lo);
        fputs(", \"hi\": ", fp);
        json_number(fp, keys[j].hi);
        fputs(", \"estimate\": ", fp);
        json_number(fp, pr->estimate);
        fprintf(fp, ", \"identified\": %s, \"lower\": ", pr->identified ? "true" : "false");
        json_number(fp, pr->lower);
        fputs(", \"upper\": ", fp);
        json_number(fp, pr->upper);
        fprintf(fp, ", \"lower_at_bound\": %s, \"upper_at_bound\": %s, \"rise_lo\": ",
                pr->lower_at_bound ? "true" : "false", pr->upper_at_bound ? "true" : "false");
        json_number(fp, pr->rise_lo);
        fputs(", \"rise_hi\": ", fp);
        json_number(fp, pr->rise_hi);
        fputs(",\n     \"profile\": {\"x\": [", fp);
        for (size_t k = 0; k < w->grid; k++) {
            fputs(k ? ", " : "", fp);
            json_number(fp, w->profile_x[j * w->grid + k]);
        }
        fputs("], \"sse\": [", fp);
        for (size_t k = 0; k < w->grid; k++) {
            fputs(k ? ", " : "", fp);
            json_number(fp, w->profile_s[j * w->grid + k]);
        }
        fputs("]}}", fp);
    }
    fputs("\n  ]\n}\n", fp);
}

static int write_sidecar(const char *path, const char *kind, const resim_scenario *fitted,
                         int argc, char **argv, const fit_args *a, const free_key *keys,
                         const resim_fit *w, const fit_ctx *c, const observed *obs, double rmse,
                         size_t runs, const char *csv, resim_error *err)
{
    resim_out o;
    int rc = resim_sidecar_open(&o, path, kind, fitted, argc, argv, err);
    if (rc != RESIM_OK)
        return rc;
    write_fit_members(o.fp, a, keys, w, c, obs, rmse, runs, csv);
    rc = resim_out_commit(&o, err);
    resim_out_abort(&o);
    return rc;
}

/* observed vs fitted, one row a month: date,observed,fitted,residual,weight. */
static int write_series(const char *path, const fit_ctx *c, const double *fitted,
                        resim_error *err)
{
    resim_out o;
    int rc = resim_out_open(&o, path, err);
    if (rc != RESIM_OK)
        return rc;
    fputs("date,observed,fitted,residual,weight\n", o.fp);
    for (size_t i = 0; i < c->obs->n; i++) {
        char date[8];
        resim_date_format(c->s->sc.start + c->obs->t[i], date);
        fprintf(o.fp, "%s,", date);
        resim_csv_number(o.fp, c->obs->value[i]);
        fputc(',', o.fp);
        resim_csv_number(o.fp, fitted[i]);
        fputc(',', o.fp);
        resim_csv_number(o.fp, fitted[i] - c->obs->value[i]);
        fputc(',', o.fp);
        resim_csv_number(o.fp, c->obs->weight[i]);
        fputc('\n', o.fp);
    }
    rc = resim_out_commit(&o, err);
    resim_out_abort(&o);
    return rc;
}

/* One value the fitted scenario must carry: a fitted key, a --set override or the data path. */
typedef struct override {
    const char *section, *key;
    char value[64 + RESIM_PATH_MAX];
    char comment[200];
    long line;    /* line of the key in the scenario file, or 0 to add it */
    int written;
} override;

/* Whether line s (of the file) is a section header; copies its name to name. */
static int section_header(const char *s, char *name, size_t size)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '[')
        return 0;
    const char *end = strchr(s, ']');
    if (end == NULL || (size_t)(end - s - 1) >= size)
        return 0;
    memcpy(name, s + 1, (size_t)(end - s - 1));
    name[end - s - 1] = '\0';
    return 1;
}

/* An indented line that is not blank and not a comment continues the value above (inih). */
static int continuation(const char *s)
{
    if (*s != ' ' && *s != '\t')
        return 0;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s != '\0' && *s != '\n' && *s != '\r' && *s != ';' && *s != '#';
}

static void put_override(FILE *fp, override *ov)
{
    fprintf(fp, "; %s\n%s = %s\n", ov->comment, ov->key, ov->value);
    ov->written = 1;
}

/* Writes the entries of section sec that the file lacks. */
static void flush_section(FILE *fp, const char *sec, override *ov, size_t nov)
{
    for (size_t k = 0; k < nov; k++)
        if (!ov[k].written && ov[k].line == 0 && strcmp(ov[k].section, sec) == 0)
            put_override(fp, &ov[k]);
}

/*
 * Copies the scenario file line by line, replacing the lines of the
 * overridden keys and adding the keys it lacks at the end of their section
 * (or in new sections at the end), each after a comment line.
 */
static int write_scenario(FILE *fp, const char *src, const char *header, override *ov,
                          size_t nov, resim_error *err)
{
    FILE *in = fopen(src, "r");
    if (in == NULL)
        return resim_error_set(err, RESIM_EIO, src, 0, "cannot open scenario file");
    fputs(header, fp);
    char line[4096], sec[256] = "", name[256];
    size_t nblank = 0; /* blank lines held back until we know what follows */
    long ln = 0;
    int skipping = 0;
    while (fgets(line, sizeof line, in) != NULL) {
        ln++;
        if (skipping && continuation(line))
            continue;
        skipping = 0;
        if (line[strspn(line, " \t\r\n")] == '\0') {
            nblank++;
            continue;
        }
        if (section_header(line, name, sizeof name)) {
            flush_section(fp, sec, ov, nov);
            snprintf(sec, sizeof sec, "%s", name);
        }
        for (; nblank > 0; nblank--)
            fputc('\n', fp);
        size_t k = 0;
        while (k < nov && ov[k].line != ln)
            k++;
        if (k < nov) {
            put_override(fp, &ov[k]);
            skipping = 1;
            continue;
        }
        fputs(line, fp);
        if (strchr(line, '\n') == NULL)
            fputc('\n', fp);
    }
    int bad = ferror(in);
    fclose(in);
    if (bad)
        return resim_error_set(err, RESIM_EIO, src, 0, "read error");
    flush_section(fp, sec, ov, nov);
    for (; nblank > 0; nblank--)
        fputc('\n', fp);
    /* Sections the file does not have, in the order of the overrides. */
    for (size_t k = 0; k < nov; k++)
        if (!ov[k].written) {
            fprintf(fp, "\n[%s]\n", ov[k].section);
            flush_section(fp, ov[k].section, ov, nov);
        }
    return RESIM_OK;
}

/* Directory part of path ("." if none). */
static void dir_of(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(out, size, ".");
    else if (slash == path)
        snprintf(out, size, "/");
    else
        snprintf(out, size, "%.*s", (int)(slash - path), path);
}

/* The data directory as a path relative to the directory of `file`, via realpath. */
static int relative_data(const char *data_dir, const char *file, char *out, size_t size)
{
    char dir[RESIM_PATH_MAX], a[PATH_MAX], b[PATH_MAX];
    dir_of(file, dir, sizeof dir);
    if (realpath(data_dir, a) == NULL || realpath(dir, b) == NULL)
        return -1;
    size_t i = 0, common = 0;
    while (a[i] != '\0' && a[i] == b[i]) {
        if (a[i] == '/')
            common = i;
        i++;
    }
    if ((a[i] == '\0' && (b[i] == '/' || b[i] == '\0')) || (b[i] == '\0' && a[i] == '/'))
        common = i;
    size_t used = 0;
    out[0] = '\0';
    for (const char *s = b + common; *s != '\0'; s++)
        if (*s == '/' && used + 4 < size) {
            memcpy(out + used, "../", 4);
            used += 3;
        }
    const char *rest = a + common + (a[common] == '/');
    if (*rest == '\0') {
        if (used == 0)
            snprintf(out, size, ".");
        else
            out[used - 1] = '\0';
    } else if (snprintf(out + used, size - used, "%s", rest) >= (int)(size - used)) {
        return -1;
    }
    return 0;
}

static int write_fitted_ini(const char *path, const fit_args *a, const free_key *keys,
                            const resim_fit *w, const cli_scenario *s, double rmse,
                            resim_error *err)
{
    override ov[FIT_MAX_KEYS + 64 + 1];
    size_t nov = 0;
    const resim_ini *ini = &s->ini;
    /* Command-line overrides first, then the data path, then the fitted keys. */
    for (size_t i = 0; i < ini->n; i++) {
        const resim_ini_entry *e = &ini->v[i];
        if (strcmp(e->file, ini->path) == 0 && e->line > 0)
            continue;
        size_t j = 0;
        while (j < w->p && !(strcmp(keys[j].section, e->section) == 0 &&
                             strcmp(keys[j].key, e->key) == 0))
            j++;
        if (j < w->p)
            continue;
        if (nov == sizeof ov / sizeof ov[0] - FIT_MAX_KEYS - 1)
            return resim_error_set(err, RESIM_EINVAL, NULL, 0, "too many --set options to write");
        override *o = &ov[nov++];
        memset(o, 0, sizeof *o);
        o->section = e->section;
        o->key = e->key;
        snprintf(o->value, sizeof o->value, "%s", e->value);
        snprintf(o->comment, sizeof o->comment, "set on the command line of the fit (%s)",
                 e->file);
    }
    const resim_ini_entry *d = resim_ini_get(ini, "scenario", "data");
    char rel[RESIM_PATH_MAX];
    if (relative_data(s->data.dir, path, rel, sizeof rel) != 0)
        return resim_error_set(err, RESIM_EIO, path, 0,
                               "cannot express the data directory %s relative to it",
                               s->data.dir);
    if (d == NULL || strcmp(d->value, rel) != 0) {
        override *o = &ov[nov++];
        memset(o, 0, sizeof *o);
        o->section = "scenario";
        o->key = "data";
        snprintf(o->value, sizeof o->value, "%s", rel);
        snprintf(o->comment, sizeof o->comment,
                 "the scenario's data directory, relative to this file");
    }
    for (size_t j = 0; j < w->p; j++) {
        const resim_fit_param *pr = &w->param[j];
        override *o = &ov[nov++];
        memset(o, 0, sizeof *o);
        o->section = keys[j].section;
        o->key = keys[j].key;
        resim_format_short(o->value, sizeof o->value, pr->estimate);
        char lo[32], hi[32], iv[96];
        if (!pr->identified) {
            resim_format_short(lo, sizeof lo, keys[j].lo);
            resim_format_short(hi, sizeof hi, keys[j].hi);
            snprintf(iv, sizeof iv, "not identified in [%s, %s]", lo, hi);
        } else {
            snprintf(iv, sizeof iv, "95%% interval [%.6g, %.6g]%s", pr->lower, pr->upper,
                     pr->lower_at_bound && pr->upper_at_bound ? ", both ends at the bounds"
                     : pr->lower_at_bound                     ? ", cut by the lower bound"
                     : pr->upper_at_bound                     ? ", cut by the upper bound"
                                                              : "");
        }
        /* inih reads lines of up to 198 characters: shorten a long file name. */
        int room = 150 - (int)strlen(iv) - (int)strlen(s->sc.name);
        const char *obs = a->observed;
        if (room < 10)
            room = 10;
        if ((int)strlen(obs) > room)
            obs += strlen(obs) - (size_t)room;
        snprintf(o->comment, sizeof o->comment, "fitted by resim fit to %s%s (%s); %s",
                 obs == a->observed ? "" : "...", obs, a->measure, iv);
        if (strlen(o->comment) > 190)
            o->comment[190] = '\0';
    }
    /* Where each key stands in the file, if it does (--set has replaced the entries of s). */
    resim_ini file;
    int rc = resim_ini_read(&file, ini->path, err);
    if (rc != RESIM_OK)
        return rc;
    for (size_t k = 0; k < nov; k++) {
        const resim_ini_entry *e = resim_ini_get(&file, ov[k].section, ov[k].key);
        if (e != NULL)
            ov[k].line = e->line;
    }
    resim_ini_free(&file);
    char header[512];
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    snprintf(header, sizeof header,
             "; Fitted by resim fit to the observed series %.120s (RMSE %.6g);\n"
             "; the fitted values are marked below, the fit's details are in %.120s.json.\n",
             a->observed, rmse, base);
    resim_out o;
    if ((rc = resim_out_open(&o, path, err)) != RESIM_OK)
        return rc;
    if ((rc = write_scenario(o.fp, ini->path, header, ov, nov, err)) == RESIM_OK)
        rc = resim_out_commit(&o, err);
    resim_out_abort(&o);
    return rc;
}

/* The path of the series CSV: --fitted-csv, or FITTED.ini with .csv for .ini. */
static const char *series_path(const fit_args *a, char *buf, size_t size)
{
    if (a->fitted_csv != NULL)
        return a->fitted_csv;
    if (a->output == NULL)
        return NULL;
    size_t n = strlen(a->output);
    if (n > 4 && strcmp(a->output + n - 4, ".ini") == 0)
        n -= 4;
    snprintf(buf, size, "%.*s.csv", (int)n, a->output);
    return buf;
}

static int has_unused(const observed *o)
{
    for (size_t i = 0; i < o->n; i++)
        if (!(o->weight[i] > 0))
            return 1;
    return 0;
}

static void print_table(const fit_args *a, const free_key *keys, const resim_fit *w,
                        const fit_ctx *c, const double *fitted, double rmse, size_t runs)
{
    printf("resim fit %s to %s: %zu months of %s", a->scen.scenario, a->observed, c->obs->n,
           a->measure);
    if (c->obs->norm_t != INT_MIN) {
        char d[8];
        resim_date_format(c->s->sc.start + c->obs->norm_t, d);
        printf(", normalised to %s", d);
    }
    printf("\n%-36s %14s  %-32s %s\n", "key", "estimate", "95% interval (profile)", "bounds");
    for (size_t j = 0; j < w->p; j++) {
        const resim_fit_param *pr = &w->param[j];
        char iv[96], b[64];
        if (!pr->identified)
            snprintf(iv, sizeof iv, "not identified");
        else
            snprintf(iv, sizeof iv, "[%.6g, %.6g]%s", pr->lower, pr->upper,
                     pr->lower_at_bound && pr->upper_at_bound ? " both at bounds"
                     : pr->lower_at_bound                     ? " LO at bound"
                     : pr->upper_at_bound                     ? " HI at bound"
                                                              : "");
        snprintf(b, sizeof b, "%.6g:%.6g", keys[j].lo, keys[j].hi);
        printf("%-36s %14.6g  %-32s %s\n", keys[j].name, pr->estimate, iv, b);
    }
    /* The residual of every observed month, five to a line. */
    printf("residual (fitted - observed) by month:");
    for (size_t i = 0; i < c->obs->n; i++) {
        char d[8];
        resim_date_format(c->s->sc.start + c->obs->t[i], d);
        printf("%s%s %+10.4g%s", i % 5 == 0 ? "\n  " : "   ", d, fitted[i] - c->obs->value[i],
               c->obs->weight[i] > 0 ? "" : "*");
    }
    printf("\n%s", has_unused(c->obs) ? "  (* weight 0: not fitted)\n" : "");
    printf("RMSE %.6g over %zu fitted months; weighted sum of squares %.6g, profile threshold "
           "%.6g (F(1, %zu) quantile %.4g)\n",
           rmse, w->n, w->sse, w->threshold, w->n - w->p, w->fquantile);
    printf("best of %zu starts (seed %llu), %zu model runs\n", a->starts, a->seed, runs);
}

/* ------------------------------------------------------------ command */

int cli_fit(int argc, char **argv)
{
    fit_args a;
    int code = parse_args(argc, argv, &a);
    if (code != 0) {
        free(a.scen.sets);
        return code < 0 ? 0 : code;
    }
    resim_error err = {0};
    cli_scenario s;
    if (cli_load(&s, &a.scen, &err) != RESIM_OK) {
        free(a.scen.sets);
        return cli_fail(&err);
    }
    free_key keys[FIT_MAX_KEYS];
    measure ms;
    observed obs = {0};
    fit_ctx c;
    memset(&c, 0, sizeof c);
    resim_fit *w = NULL;
    resim_scenario fitted_sc;
    int have_fitted = 0;
    double *fitted = NULL;
    int rc = RESIM_OK;
    for (size_t j = 0; rc == RESIM_OK && j < a.n_free; j++) {
        rc = parse_free(&keys[j], a.free_spec[j], &s, &err);
        for (size_t k = 0; rc == RESIM_OK && k < j; k++)
            if (strcmp(keys[k].name, keys[j].name) == 0)
                rc = resim_error_set(&err, RESIM_EUSAGE, NULL, 0, "--free %s given twice",
                                     keys[j].name);
    }
    if (rc == RESIM_OK)
        rc = parse_measure(&ms, a.measure, &s.sc, &err);
    if (rc == RESIM_OK)
        rc = read_observed(&obs, a.observed, a.normalise, &s.sc, &err);
    if (rc == RESIM_OK)
        rc = ctx_init(&c, &s, keys, a.n_free, &ms, &obs, &err);
    if (rc == RESIM_OK)
        rc = probe_bounds(&c, keys, a.n_free, &err);
    if (rc == RESIM_OK && c.n <= a.n_free)
        rc = resim_error_set(&err, RESIM_EINVAL, a.observed, 0,
                             "%zu fitted months for %zu free keys: need more months than keys",
                             c.n, a.n_free);
    if (rc == RESIM_OK && (w = resim_fit_alloc(c.n, a.n_free, &err)) == NULL)
        rc = err.status;
    if (rc == RESIM_OK) {
        resim_fit_options opt;
        resim_fit_options_default(&opt);
        opt.starts = a.starts;
        opt.seed = a.seed;
        opt.profile_points = a.profile_points;
        double lo[FIT_MAX_KEYS], hi[FIT_MAX_KEYS];
        for (size_t j = 0; j < a.n_free; j++) {
            lo[j] = keys[j].lo;
            hi[j] = keys[j].hi;
        }
        rc = resim_fit_solve(w, fit_residuals, &c, lo, hi, &opt, &err);
        if (rc != RESIM_OK && c.err.msg[0] != '\0')
            err = c.err;
    }
    /* The fitted run: the series for the CSV and the scenario for the sidecar. */
    double rmse = NAN;
    size_t runs = 0;
    if (rc == RESIM_OK) {
        double theta[FIT_MAX_KEYS];
        for (size_t j = 0; j < a.n_free; j++)
            theta[j] = w->param[j].estimate;
        fitted = malloc(obs.n * sizeof *fitted);
        if (fitted == NULL)
            rc = resim_error_set(&err, RESIM_ENOMEM, NULL, 0, "out of memory");
        else if ((rc = run_model(&c, theta, &fitted_sc, &err)) == RESIM_OK)
            have_fitted = 1;
        for (size_t i = 0; rc == RESIM_OK && i < obs.n; i++)
            rc = model_value(&c, i, &fitted[i], &err);
        runs = w->runs + 1;
        double wsum = 0;
        for (size_t k = 0; k < c.n; k++)
            wsum += c.sqrtw[k] * c.sqrtw[k];
        rmse = sqrt(w->sse / wsum);
    }
    char csvbuf[RESIM_PATH_MAX + 8];
    const char *csv = series_path(&a, csvbuf, sizeof csvbuf);
    if (rc == RESIM_OK && csv != NULL) {
        rc = write_series(csv, &c, fitted, &err);
        if (rc == RESIM_OK)
            rc = write_sidecar(csv, "fit_series", &fitted_sc, argc, argv, &a, keys, w, &c, &obs,
                               rmse, runs, csv, &err);
    }
    if (rc == RESIM_OK && a.output != NULL) {
        rc = write_fitted_ini(a.output, &a, keys, w, &s, rmse, &err);
        if (rc == RESIM_OK)
            rc = write_sidecar(a.output, "fit", &fitted_sc, argc, argv, &a, keys, w, &c, &obs,
                               rmse, runs, csv, &err);
    }
    if (rc == RESIM_OK && w->profile_min < w->sse * (1 - 1e-9) - w->floor)
        fprintf(stderr,
                "resim: warning: a profile found a smaller sum of squares (%.6g) than the best "
                "start (%.6g): the estimate is a local minimum; try more --starts\n",
                w->profile_min, w->sse);
    if (rc == RESIM_OK) {
        print_table(&a, keys, w, &c, fitted, rmse, runs);
        if (fflush(stdout) != 0 || ferror(stdout))
            rc = resim_error_set(&err, RESIM_EIO, "stdout", 0, "write error");
    }
    if (have_fitted)
        resim_scenario_free(&fitted_sc);
    free(fitted);
    resim_fit_free(w);
    ctx_free(&c);
    observed_free(&obs);
    cli_unload(&s);
    free(a.scen.sets);
    return rc == RESIM_OK ? 0 : cli_fail(&err);
}

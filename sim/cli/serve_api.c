/* serve_api.c - the explorer's JSON API: levers, runs as JSON or CSV, and a scenario file. */
#include "serve.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resim/csvout.h"
#include "resim/csvread.h"
#include "resim/ensemble.h"
#include "resim/outcome.h"
#include "rows.h"
#include "serve_levers.h"

/* One run slot: a model per grouping, kept from run to run so review-delay
 * kernels computed for one request serve the next. */
typedef struct slot {
    int busy;
    resim_model *model[2]; /* RESIM_BY_NONE, RESIM_BY_STATUS */
} slot;

struct serve_api {
    cli_scenario base; /* read only once serving starts */
    char path[RESIM_PATH_MAX];
    const char *file;  /* the scenario file's name, within path */
    char *levers;      /* GET /api/levers, built once */
    size_t levers_len;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    slot *slots;
    size_t n_slots;
    long wait_ms;
};

/* What one request asks for, and what it resolved to. */
typedef struct request {
    char **assign; /* "SECTION.KEY=VALUE", in the order given */
    size_t n_assign;
    json_t *set;   /* key -> value text, in the order given */
    resim_grouping by;
    unsigned char metric[RESIM_NMETRICS];
    resim_ini raw, central;
    resim_uncertain u;
    resim_scenario sc;
    json_t *warnings;
} request;

/* ------------------------------------------------------------ replies */

static void reply_set(serve_reply *r, unsigned status, const char *type, char *body, size_t len)
{
    r->status = status;
    r->type = type;
    r->body = body;
    r->len = len;
    r->filename = NULL;
}

static void reply_json(serve_reply *r, unsigned status, json_t *j)
{
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    if (s == NULL) {
        serve_reply_error(r, 500, "resim: out of memory");
        return;
    }
    reply_set(r, status, "application/json", s, strlen(s));
}

void serve_reply_error(serve_reply *r, unsigned status, const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:s}", "error", line);
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s == NULL) {
        /* Out of memory: a fixed body the server knows not to free. */
        reply_set(r, 500, "application/json", NULL, 0);
        return;
    }
    reply_set(r, status, "application/json", s, strlen(s));
}

void serve_reply_free(serve_reply *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

/* ------------------------------------------------------------ set-up */

serve_api *serve_api_alloc(const char *scenario, size_t runs, long wait_ms, resim_error *err)
{
    serve_api *api = calloc(1, sizeof *api);
    if (api == NULL) {
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        return NULL;
    }
    if (strlen(scenario) >= sizeof api->path) {
        free(api);
        resim_error_set(err, RESIM_EUSAGE, scenario, 0, "path too long");
        return NULL;
    }
    strcpy(api->path, scenario);
    const char *slash = strrchr(api->path, '/');
    api->file = slash != NULL ? slash + 1 : api->path;
    cli_opts o = {.scenario = scenario};
    if (cli_load(&api->base, &o, err) != RESIM_OK) {
        free(api);
        return NULL;
    }
    pthread_mutex_init(&api->mu, NULL);
    pthread_cond_init(&api->freed, NULL);
    api->wait_ms = wait_ms;
    api->n_slots = runs > 0 ? runs : 1;
    api->slots = calloc(api->n_slots, sizeof *api->slots);
    json_t *lv = api->slots != NULL ? serve_levers_json(&api->base.sc, api->path, api->file) : NULL;
    if (lv != NULL) {
        api->levers = json_dumps(lv, JSON_COMPACT | JSON_REAL_PRECISION(17));
        json_decref(lv);
    }
    if (api->levers == NULL) {
        serve_api_free(api);
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        return NULL;
    }
    api->levers_len = strlen(api->levers);
    return api;
}

void serve_api_free(serve_api *api)
{
    if (api == NULL)
        return;
    for (size_t k = 0; api->slots != NULL && k < api->n_slots; k++) {
        resim_model_free(api->slots[k].model[0]);
        resim_model_free(api->slots[k].model[1]);
    }
    free(api->slots);
    free(api->levers);
    cli_unload(&api->base);
    pthread_mutex_destroy(&api->mu);
    pthread_cond_destroy(&api->freed);
    free(api);
}

const char *serve_api_name(const serve_api *api) { return api->base.sc.name; }

/* ------------------------------------------------------------ requests */

static void request_free(request *q)
{
    for (size_t k = 0; k < q->n_assign; k++)
        free(q->assign[k]);
    free(q->assign);
    json_decref(q->set);
    json_decref(q->warnings);
    resim_scenario_free(&q->sc);
    resim_uncertain_free(&q->u);
    resim_ini_free(&q->central);
    resim_ini_free(&q->raw);
}

/* A number as a person would type it: 40, 0.3, 1e-05 (the fewest digits
 * that read back exactly). */
static void short_number(char *buf, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, n, "%.0f", v == 0 ? 0.0 : v);
        return;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, n, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
}

/* Keys are SECTION.KEY made of letters, digits, '_', '-' and '.'. */
static int key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 120)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* Values are one printable line that fits an INI line. */
static int value_ok(const char *v)
{
    size_t n = strlen(v);
    if (n > 160)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f || v[i] == ';')
            return 0;
    return 1;
}

/* Reads {"set": {...}, "by": "none"|"status", "metrics": [...]}. Returns 0,
 * or -1 with r set to the 4xx answer. */
static int parse_request(const char *body, size_t len, request *q, serve_reply *r)
{
    memset(q, 0, sizeof *q);
    memset(q->metric, 1, sizeof q->metric);
    q->set = json_object();
    q->warnings = json_array();
    if (q->set == NULL || q->warnings == NULL) {
        serve_reply_error(r, 500, "resim: out of memory");
        return -1;
    }
    if (len > SERVE_MAX_BODY) {
        serve_reply_error(r, 413, "resim: request body over %d bytes", SERVE_MAX_BODY);
        return -1;
    }
    if (len == 0)
        return 0; /* no body: the scenario as it is */
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        serve_reply_error(r, 400, "resim: request is not valid JSON: %s (line %d, column %d)",
                          je.text, je.line, je.column);
        return -1;
    }
    int rc = -1;
    const char *name;
    json_t *v;
    if (!json_is_object(root)) {
        serve_reply_error(r, 400, "resim: request must be a JSON object like {\"set\": {\"policy.approval.watch\": 0.3}}");
        goto done;
    }
    json_object_foreach(root, name, v) {
        if (strcmp(name, "set") != 0 && strcmp(name, "by") != 0 && strcmp(name, "metrics") != 0) {
            serve_reply_error(r, 400, "resim: unknown request field '%.60s' (expected set, by, metrics)", name);
            goto done;
        }
    }
    json_t *by = json_object_get(root, "by");
    if (by != NULL) {
        const char *b = json_string_value(by);
        if (b != NULL && strcmp(b, "status") == 0)
            q->by = RESIM_BY_STATUS;
        else if (b == NULL || strcmp(b, "none") != 0) {
            serve_reply_error(r, 400, "resim: \"by\" takes \"none\" or \"status\"");
            goto done;
        }
    }
    json_t *metrics = json_object_get(root, "metrics");
    if (metrics != NULL) {
        if (!json_is_array(metrics)) {
            serve_reply_error(r, 400, "resim: \"metrics\" must be a list of column names");
            goto done;
        }
        memset(q->metric, 0, sizeof q->metric);
        size_t i;
        json_array_foreach(metrics, i, v) {
            const char *m = json_string_value(v);
            int k = RESIM_NMETRICS;
            for (k = 0; m != NULL && k < RESIM_NMETRICS; k++)
                if (strcmp(m, resim_metric_names[k]) == 0)
                    break;
            if (m == NULL || k == RESIM_NMETRICS) {
                serve_reply_error(r, 400, "resim: unknown column '%.60s' in \"metrics\"",
                                  m != NULL ? m : "(not text)");
                goto done;
            }
            q->metric[k] = 1;
        }
    }
    json_t *set = json_object_get(root, "set");
    if (set != NULL && !json_is_object(set)) {
        serve_reply_error(r, 400, "resim: \"set\" must be an object of \"SECTION.KEY\": value");
        goto done;
    }
    size_t n = set != NULL ? json_object_size(set) : 0;
    if (n > SERVE_MAX_SETS) {
        serve_reply_error(r, 400, "resim: at most %d keys may be set at once", SERVE_MAX_SETS);
        goto done;
    }
    q->assign = calloc(n + 1, sizeof *q->assign);
    if (q->assign == NULL) {
        serve_reply_error(r, 500, "resim: out of memory");
        goto done;
    }
    if (set != NULL) {
        json_object_foreach(set, name, v) {
            char text[200];
            if (json_is_string(v))
                snprintf(text, sizeof text, "%s", json_string_value(v));
            else if (json_is_integer(v))
                snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            else if (json_is_real(v))
                short_number(text, sizeof text, json_real_value(v));
            else if (json_is_boolean(v))
                snprintf(text, sizeof text, "%d", json_is_true(v) ? 1 : 0);
            else {
                serve_reply_error(r, 400, "resim: --set %.120s: the value must be a number, text or true/false", name);
                goto done;
            }
            if (!key_ok(name) || strchr(name, '.') == NULL) {
                serve_reply_error(r, 400, "resim: --set '%.120s': expected SECTION.KEY", name);
                goto done;
            }
            if ((json_is_string(v) && strlen(json_string_value(v)) >= sizeof text) || !value_ok(text)) {
                serve_reply_error(r, 400, "resim: --set %.120s: the value must be one line of at most 160 characters, without ';'", name);
                goto done;
            }
            char why[300];
            if (serve_levers_check(name, why, sizeof why) != 0) {
                serve_reply_error(r, 400, "%s", why);
                goto done;
            }
            size_t need = strlen(name) + strlen(text) + 2;
            char *a = malloc(need);
            if (a == NULL || json_object_set_new(q->set, name, json_string(text)) != 0) {
                free(a);
                serve_reply_error(r, 500, "resim: out of memory");
                goto done;
            }
            snprintf(a, need, "%s=%s", name, text);
            q->assign[q->n_assign++] = a;
        }
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

static void collect_warning(void *ctx, const char *msg)
{
    request *q = ctx;
    char line[600];
    snprintf(line, sizeof line, "resim: warning: %s", msg);
    json_array_append_new(q->warnings, json_string(line));
}

/* Applies the request's keys to a copy of the scenario and resolves it,
 * as `resim run SCENARIO --set ...` does. Returns 0 or -1 with r set. */
static int resolve(const serve_api *api, request *q, serve_reply *r)
{
    resim_error err = {0};
    int rc = resim_ini_copy(&q->raw, &api->base.ini, &err);
    for (size_t k = 0; rc == RESIM_OK && k < q->n_assign; k++)
        rc = resim_ini_set(&q->raw, q->assign[k], &err);
    if (rc == RESIM_OK)
        rc = resim_uncertain_scan(&q->raw, &api->base.data, &q->u, &err);
    if (rc == RESIM_OK)
        rc = resim_ini_copy(&q->central, &q->raw, &err);
    if (rc == RESIM_OK)
        rc = resim_uncertain_central(&q->central, &q->u, &err);
    if (rc == RESIM_OK)
        rc = resim_scenario_resolve(&q->sc, &q->central, &api->base.data, collect_warning, q, &err);
    if (rc == RESIM_OK)
        return 0;
    serve_reply_error(r, rc == RESIM_ENOMEM ? 500 : 400, "resim: %s", err.msg);
    return -1;
}

/* ------------------------------------------------------------ runs */

static slot *slot_take(serve_api *api)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += api->wait_ms / 1000;
    until.tv_nsec += (api->wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    slot *s = NULL;
    pthread_mutex_lock(&api->mu);
    for (;;) {
        for (size_t k = 0; k < api->n_slots && s == NULL; k++)
            if (!api->slots[k].busy)
                s = &api->slots[k];
        if (s != NULL) {
            s->busy = 1;
            break;
        }
        if (pthread_cond_timedwait(&api->freed, &api->mu, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&api->mu);
    return s;
}

static void slot_give(serve_api *api, slot *s)
{
    pthread_mutex_lock(&api->mu);
    s->busy = 0;
    pthread_cond_signal(&api->freed);
    pthread_mutex_unlock(&api->mu);
}

/* Runs the resolved scenario; *out gets months x cells values (malloc'ed).
 * Returns 0 or -1 with r set. */
static int run(serve_api *api, request *q, double **out, size_t *cells, serve_reply *r)
{
    const resim_scenario *sc = &q->sc;
    slot *s = slot_take(api);
    if (s == NULL) {
        serve_reply_error(r, 503, "resim: every run slot is busy; try again");
        return -1;
    }
    resim_error err = {0};
    int rc = RESIM_OK;
    int b = q->by == RESIM_BY_STATUS;
    if (s->model[b] == NULL && (s->model[b] = resim_model_alloc(sc, q->by, &err)) == NULL)
        rc = RESIM_ENOMEM;
    resim_model *m = s->model[b];
    size_t G = m != NULL ? resim_model_groups(m) : 1;
    *cells = sc->n_elements * G * RESIM_NMETRICS;
    *out = rc == RESIM_OK ? malloc((size_t)sc->months * *cells * sizeof **out) : NULL;
    if (rc == RESIM_OK && *out == NULL)
        rc = resim_error_set(&err, RESIM_ENOMEM, NULL, 0, "out of memory");
    if (rc == RESIM_OK) {
        resim_model_set_warn(m, collect_warning, q);
        rc = resim_model_init(m, sc, &err);
    }
    if (rc == RESIM_OK) {
        while (resim_model_month(m) < sc->months) {
            int t = resim_model_month(m);
            /* Warm-up months are simulated into the first block and overwritten. */
            resim_model_step(m, *out + (size_t)(t < 0 ? 0 : t) * *cells);
        }
        resim_model_set_warn(m, NULL, NULL);
    }
    slot_give(api, s);
    if (rc == RESIM_OK)
        return 0;
    free(*out);
    *out = NULL;
    serve_reply_error(r, rc == RESIM_ENOMEM ? 500 : 400, "resim: %s", err.msg);
    return -1;
}

/* The CSV `resim run` writes for the same scenario, by the same writer. */
static int write_csv(const request *q, const double *out, size_t cells, size_t G, serve_reply *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (fp == NULL) {
        serve_reply_error(r, 500, "resim: out of memory");
        return -1;
    }
    cli_write_header(fp, 0);
    for (int t = 0; t < q->sc.months; t++)
        cli_write_month(fp, &q->sc, q->by, G, t, out + (size_t)t * cells, -1);
    int bad = ferror(fp);
    if (fclose(fp) != 0 || bad) {
        free(buf);
        serve_reply_error(r, 500, "resim: out of memory");
        return -1;
    }
    reply_set(r, 200, "text/csv; charset=utf-8", buf, len);
    return 0;
}

/* Appends `arg` to s, quoted for a POSIX shell when it needs it. */
static void shell_word(json_t *parts, const char *arg)
{
    int plain = *arg != '\0';
    for (const char *p = arg; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/=:,+@%",
                       *p) != NULL;
    if (plain) {
        json_array_append_new(parts, json_string(arg));
        return;
    }
    size_t n = strlen(arg);
    char *w = malloc(4 * n + 3);
    if (w == NULL)
        return;
    size_t k = 0;
    w[k++] = '\'';
    for (size_t i = 0; i < n; i++) {
        if (arg[i] == '\'') {
            memcpy(w + k, "'\\''", 4);
            k += 4;
        } else {
            w[k++] = arg[i];
        }
    }
    w[k++] = '\'';
    w[k] = '\0';
    json_array_append_new(parts, json_string(w));
    free(w);
}

/* The command line that prints the same CSV. */
static char *command_line(const serve_api *api, const request *q)
{
    json_t *parts = json_array();
    if (parts == NULL)
        return NULL;
    json_array_append_new(parts, json_string("resim"));
    json_array_append_new(parts, json_string("run"));
    shell_word(parts, api->path);
    if (q->by == RESIM_BY_STATUS) {
        json_array_append_new(parts, json_string("--by"));
        json_array_append_new(parts, json_string("status"));
    }
    for (size_t k = 0; k < q->n_assign; k++) {
        json_array_append_new(parts, json_string("--set"));
        shell_word(parts, q->assign[k]);
    }
    size_t len = 0, i;
    json_t *w;
    json_array_foreach(parts, i, w) len += json_string_length(w) + 1;
    char *s = malloc(len + 1);
    if (s != NULL) {
        s[0] = '\0';
        json_array_foreach(parts, i, w) {
            if (i > 0)
                strcat(s, " ");
            strcat(s, json_string_value(w));
        }
    }
    json_decref(parts);
    return s;
}

static json_t *date_text(int ym)
{
    char d[8];
    resim_date_format(ym, d);
    return json_string(d);
}

/* Lowest availability and when, cumulative and peak shortfall, per element. */
static json_t *headline(const request *q, const double *out, size_t cells, size_t G)
{
    const resim_scenario *sc = &q->sc;
    json_t *h = json_array();
    for (size_t e = 0; h != NULL && e < sc->n_elements; e++) {
        resim_outcome o;
        resim_outcome_init(&o);
        for (int t = 0; t < sc->months; t++)
            resim_outcome_add(&o, t, out + (size_t)t * cells + e * G * RESIM_NMETRICS, 0.9);
        resim_outcome_finish(&o, sc->months);
        json_t *x = json_pack("{s:s,s:f,s:i,s:f,s:f,s:i,s:i}", "element",
                              resim_scenario_symbol(sc, e), "min_availability", o.min_availability,
                              "min_month", o.min_month, "cum_shortfall", o.cum_shortfall,
                              "peak_shortfall", o.peak_shortfall, "peak_month", o.peak_month,
                              "months_below", o.months_below);
        if (x == NULL) {
            json_decref(h);
            return NULL;
        }
        json_object_set_new(x, "min_date", o.min_month >= 0 ? date_text(sc->start + o.min_month) : json_null());
        json_object_set_new(x, "peak_date", o.peak_month >= 0 ? date_text(sc->start + o.peak_month) : json_null());
        json_array_append_new(h, x);
    }
    return h;
}

/* The run as JSON columns in the CSV's row order. */
static json_t *run_json(const serve_api *api, const request *q, const double *out, size_t cells,
                        size_t G)
{
    const resim_scenario *sc = &q->sc;
    json_t *j = json_object(), *cols = json_array(), *data = json_object();
    json_t *date = json_array(), *month = json_array(), *elem = json_array(), *group = json_array();
    json_t *metric[RESIM_NMETRICS] = {0};
    int ok = j && cols && data && date && month && elem && group;
    for (int k = 0; ok && k < RESIM_NMETRICS; k++)
        ok = !q->metric[k] || (metric[k] = json_array()) != NULL;
    if (ok) {
        const char *fixed[] = {"scenario", "date", "month", "element", "group"};
        for (size_t k = 0; k < 5; k++)
            json_array_append_new(cols, json_string(fixed[k]));
        for (int k = 0; k < RESIM_NMETRICS; k++)
            if (q->metric[k])
                json_array_append_new(cols, json_string(resim_metric_names[k]));
    }
    /* Repeated labels are shared values, not one allocation per row. */
    json_t *el_name[RESIM_MAX_ELEMENTS] = {0}, *gr_name[1 + RESIM_NSTATUSES] = {0};
    for (size_t e = 0; ok && e < sc->n_elements; e++)
        ok = (el_name[e] = json_string(resim_scenario_symbol(sc, e))) != NULL;
    for (size_t g = 0; ok && g < G && g <= RESIM_NSTATUSES; g++)
        ok = (gr_name[g] = json_string(cli_group_name(sc, q->by, g))) != NULL;
    for (int t = 0; ok && t < sc->months; t++) {
        json_t *d = date_text(sc->start + t), *m = json_integer(t);
        for (size_t e = 0; e < sc->n_elements; e++)
            for (size_t g = 0; g < G; g++) {
                const double *row = out + (size_t)t * cells + (e * G + g) * RESIM_NMETRICS;
                json_array_append(date, d);
                json_array_append(month, m);
                json_array_append(elem, el_name[e]);
                json_array_append(group, gr_name[g]);
                for (int k = 0; k < RESIM_NMETRICS; k++)
                    if (metric[k] != NULL)
                        /* NaN (cover_days without demand) is an empty CSV field: null. */
                        json_array_append_new(metric[k], isfinite(row[k]) ? json_real(row[k]) : json_null());
            }
        json_decref(d);
        json_decref(m);
    }
    for (size_t e = 0; e < RESIM_MAX_ELEMENTS; e++)
        json_decref(el_name[e]);
    for (size_t g = 0; g <= RESIM_NSTATUSES; g++)
        json_decref(gr_name[g]);
    size_t rows = (size_t)sc->months * sc->n_elements * G;
    if (ok)
        ok = json_array_size(date) == rows && json_array_size(group) == rows;
    if (ok) {
        json_object_set_new(data, "date", date);
        json_object_set_new(data, "month", month);
        json_object_set_new(data, "element", elem);
        json_object_set_new(data, "group", group);
        date = month = elem = group = NULL;
        for (int k = 0; k < RESIM_NMETRICS; k++)
            if (metric[k] != NULL) {
                ok = ok && json_array_size(metric[k]) == rows;
                json_object_set_new(data, resim_metric_names[k], metric[k]);
                metric[k] = NULL;
            }
    }
    char *cmd = ok ? command_line(api, q) : NULL;
    json_t *h = ok ? headline(q, out, cells, G) : NULL;
    if (ok && cmd != NULL && h != NULL) {
        json_object_set_new(j, "scenario", json_string(sc->name));
        json_object_set_new(j, "baseline", json_boolean(q->n_assign == 0));
        json_object_set_new(j, "by", json_string(q->by == RESIM_BY_STATUS ? "status" : "none"));
        json_object_set(j, "set", q->set);
        json_object_set_new(j, "command", json_string(cmd));
        json_object_set(j, "warnings", q->warnings);
        json_object_set_new(j, "rows", json_integer((json_int_t)rows));
        json_object_set_new(j, "columns", cols);
        json_object_set_new(j, "data", data);
        json_object_set_new(j, "headline", h);
        free(cmd);
        return j;
    }
    free(cmd);
    json_decref(h);
    json_decref(j);
    json_decref(cols);
    json_decref(data);
    json_decref(date);
    json_decref(month);
    json_decref(elem);
    json_decref(group);
    for (int k = 0; k < RESIM_NMETRICS; k++)
        json_decref(metric[k]);
    return NULL;
}

/* A scenario file that names this one as its base and holds the changed keys. */
static int scenario_ini(const serve_api *api, const request *q, serve_reply *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (fp == NULL) {
        serve_reply_error(r, 500, "resim: out of memory");
        return -1;
    }
    fprintf(fp, "; %s with %zu changed key%s, written by the resim explorer.\n", q->sc.name,
            q->n_assign, q->n_assign == 1 ? "" : "s");
    fprintf(fp, "[scenario]\nbase = %s\n", api->file);
    /* Keys grouped by section, sections in the order first given. */
    for (size_t k = 0; k < q->n_assign; k++) {
        const char *a = q->assign[k], *dot = strchr(a, '.');
        size_t sl = (size_t)(dot - a);
        int seen = 0;
        for (size_t i = 0; i < k && !seen; i++)
            seen = strncmp(q->assign[i], a, sl) == 0 && q->assign[i][sl] == '.';
        if (seen)
            continue;
        fprintf(fp, "\n[%.*s]\n", (int)sl, a);
        for (size_t i = k; i < q->n_assign; i++) {
            const char *b = q->assign[i];
            if (strncmp(b, a, sl) != 0 || b[sl] != '.')
                continue;
            const char *eq = strchr(b, '=');
            fprintf(fp, "%.*s = %s\n", (int)(eq - b - (int)sl - 1), b + sl + 1, eq + 1);
        }
    }
    int bad = ferror(fp);
    if (fclose(fp) != 0 || bad) {
        free(buf);
        serve_reply_error(r, 500, "resim: out of memory");
        return -1;
    }
    reply_set(r, 200, "text/plain; charset=utf-8", buf, len);
    return 0;
}

/* ------------------------------------------------------------ routes */

void serve_api_handle(serve_api *api, const char *method, const char *url, const char *body,
                      size_t len, serve_reply *r)
{
    memset(r, 0, sizeof *r);
    if (strcmp(url, "/api/levers") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            serve_reply_error(r, 405, "resim: %s takes GET", url);
            return;
        }
        char *s = malloc(api->levers_len + 1);
        if (s == NULL) {
            serve_reply_error(r, 500, "resim: out of memory");
            return;
        }
        memcpy(s, api->levers, api->levers_len + 1);
        reply_set(r, 200, "application/json", s, api->levers_len);
        return;
    }
    int is_run = strcmp(url, "/api/run") == 0, is_csv = strcmp(url, "/api/run.csv") == 0,
        is_ini = strcmp(url, "/api/scenario.ini") == 0;
    if (!is_run && !is_csv && !is_ini) {
        serve_reply_error(r, 404, "resim: no such API: %.100s", url);
        return;
    }
    if (strcmp(method, "POST") != 0) {
        serve_reply_error(r, 405, "resim: %s takes POST with a JSON body", url);
        return;
    }
    request q;
    if (parse_request(body, len, &q, r) != 0 || resolve(api, &q, r) != 0) {
        request_free(&q);
        return;
    }
    if (is_ini) {
        if (scenario_ini(api, &q, r) == 0)
            r->filename = "scenario.ini";
        request_free(&q);
        return;
    }
    double *out = NULL;
    size_t cells = 0;
    if (run(api, &q, &out, &cells, r) == 0) {
        size_t G = cells / (q.sc.n_elements * RESIM_NMETRICS);
        if (is_csv) {
            if (write_csv(&q, out, cells, G, r) == 0)
                r->filename = "run.csv";
        } else {
            json_t *j = run_json(api, &q, out, cells, G);
            if (j == NULL)
                serve_reply_error(r, 500, "resim: out of memory");
            else
                reply_json(r, 200, j);
        }
    }
    free(out);
    request_free(&q);
}

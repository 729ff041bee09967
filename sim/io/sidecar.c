/*
 * sidecar.c - run metadata as JSON (built and checked with jansson), and the
 * human-readable timeline.
 *
 * The shared members are built as jansson values; a command adds its own
 * members as text, and the whole document is parsed by jansson before it is
 * written, so a sidecar is never invalid JSON. Text that is not UTF-8 (a
 * path, an argument) has each invalid byte replaced by U+FFFD.
 */
#include "resim/sidecar.h"

#include <jansson.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>

#include "out_impl.h"

void resim_sha256_hex(const void *data, size_t n, char hex[65])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, n, data);
    unsigned char digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof digest, digest);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

int resim_sha256_file(const char *path, char hex[65], resim_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot open file");
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        sha256_update(&ctx, n, buf);
    int bad = ferror(fp);
    fclose(fp);
    if (bad)
        return resim_error_set(err, RESIM_EIO, path, 0, "read error");
    unsigned char digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof digest, digest);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return RESIM_OK;
}

/* A jansson string of s, each byte that is not valid UTF-8 replaced by U+FFFD. */
static json_t *jstr(const char *s)
{
    size_t n;
    char *clean = resim_utf8_clean(s, &n);
    json_t *j = clean != NULL ? json_stringn(clean, n) : NULL;
    free(clean);
    return j;
}

/* Writes a jansson value on one line ("a": 1, "b": [2, 3]). */
static int dump_line(FILE *fp, const json_t *v)
{
    return json_dumpf(v, fp, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
}

typedef struct lever_json {
    json_t *obj;
    int bad;
} lever_json;

static void lever_member(void *ctx, const char *key, const char *value)
{
    lever_json *j = ctx;
    j->bad |= json_object_set_new(j->obj, key, jstr(value)) != 0;
}

/* Writes `  "key": VALUE,` with arrays and objects of many members one per line. */
static int member(FILE *fp, const char *key, const json_t *v, int spread)
{
    json_t *k = jstr(key);
    int bad = k == NULL;
    fputs("  ", fp);
    bad |= k != NULL && dump_line(fp, k) != 0;
    json_decref(k);
    fputs(": ", fp);
    if (spread && json_is_array(v) && json_array_size(v) > 0) {
        size_t i;
        const json_t *x;
        fputc('[', fp);
        json_array_foreach(v, i, x) {
            fputs(i ? ",\n    " : "\n    ", fp);
            bad |= dump_line(fp, x) != 0;
        }
        fputs("\n  ]", fp);
    } else if (spread && json_is_object(v) && json_object_size(v) > 0) {
        const char *name;
        const json_t *x;
        int first = 1;
        fputc('{', fp);
        json_object_foreach((json_t *)v, name, x) {
            fputs(first ? "\n    " : ",\n    ", fp);
            first = 0;
            json_t *n = jstr(name);
            bad |= n == NULL || dump_line(fp, n) != 0;
            json_decref(n);
            fputs(": ", fp);
            bad |= dump_line(fp, x) != 0;
        }
        fputs("\n  }", fp);
    } else {
        bad |= dump_line(fp, v) != 0;
    }
    fputs(",\n", fp);
    return bad;
}

int resim_sidecar_common(FILE *fp, const resim_scenario *sc, int argc, char **argv,
                         resim_error *err)
{
    char hex[65];
    int rc = RESIM_OK;
    /* The hash of the bytes that were parsed, not of the file as it is now. */
    if (sc->ini->sha256[0] != '\0')
        memcpy(hex, sc->ini->sha256, sizeof hex);
    else if ((rc = resim_sha256_file(sc->ini->path, hex, err)) != RESIM_OK)
        return rc;
    json_t *doc = json_object();
    if (doc == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    int bad = json_object_set_new(doc, "resim_version", jstr(RESIM_VERSION));
    json_t *cmd = json_array();
    for (int i = 0; i < argc; i++)
        bad |= json_array_append_new(cmd, jstr(argv[i]));
    bad |= json_object_set_new(doc, "command_line", cmd);
    bad |= json_object_set_new(doc, "scenario",
                               json_pack("{s:o, s:o, s:s}", "name", jstr(sc->name), "path",
                                         jstr(sc->ini->path), "sha256", hex));
    /* The files the scenario is built on ([scenario] base), deepest first. */
    if (sc->ini->n_files > 0) {
        json_t *bases = json_array();
        for (size_t f = 0; f < sc->ini->n_files && rc == RESIM_OK; f++) {
            if ((rc = resim_sha256_file(sc->ini->files[f], hex, err)) != RESIM_OK)
                break;
            bad |= json_array_append_new(
                bases, json_pack("{s:o, s:s}", "path", jstr(sc->ini->files[f]), "sha256", hex));
        }
        bad |= json_object_set_new(doc, "bases", bases);
    }
    json_t *data = json_array();
    for (int f = 0; f < RESIM_NFILES && rc == RESIM_OK; f++) {
        if (sc->data->sha256[f][0] != '\0')
            memcpy(hex, sc->data->sha256[f], sizeof hex);
        else if ((rc = resim_sha256_file(sc->data->path[f], hex, err)) != RESIM_OK)
            break;
        bad |= json_array_append_new(
            data, json_pack("{s:o, s:s}", "path", jstr(sc->data->path[f]), "sha256", hex));
    }
    bad |= json_object_set_new(doc, "data", data);
    char date[8];
    resim_date_format(sc->start, date);
    bad |= json_object_set_new(doc, "start", json_string(date));
    bad |= json_object_set_new(doc, "months", json_integer(sc->months));
    bad |= json_object_set_new(doc, "warmup_months", json_integer(sc->warmup));
    bad |= json_object_set_new(doc, "transit_months", json_integer(sc->transit));
    /* A whole number of months stays an integer, as before. */
    json_t *adjust = sc->adjust == (double)(long)sc->adjust ? json_integer((long)sc->adjust)
                                                            : json_real(sc->adjust);
    bad |= json_object_set_new(doc, "adjust_months", adjust);
    json_t *el = json_array();
    for (size_t e = 0; e < sc->n_elements; e++)
        bad |= json_array_append_new(el, jstr(resim_scenario_symbol(sc, e)));
    bad |= json_object_set_new(doc, "elements", el);
    lever_json lj = {json_object(), 0};
    resim_levers_each(sc, &sc->initial, lever_member, &lj);
    bad |= lj.bad | json_object_set_new(doc, "levers", lj.obj);
    json_t *tl = json_array();
    for (size_t k = 0; k < sc->n_events; k++) {
        const resim_event *ev = &sc->events[k];
        resim_date_format(ev->date, date);
        bad |= json_array_append_new(
            tl, json_pack("{s:s, s:i, s:o, s:o, s:o}", "date", date, "month", ev->month, "key",
                          jstr(ev->entry->key), "value", jstr(ev->entry->value), "source",
                          ev->source != NULL ? jstr(ev->source) : json_null()));
    }
    bad |= json_object_set_new(doc, "timeline", tl);
    if (rc == RESIM_OK) {
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v) {
            int spread = strcmp(key, "data") == 0 || strcmp(key, "bases") == 0 ||
                         strcmp(key, "levers") == 0 ||
                         strcmp(key, "timeline") == 0;
            bad |= member(fp, key, v, spread);
        }
        if (bad)
            rc = resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    }
    json_decref(doc);
    return rc;
}

int resim_sidecar_open(resim_out *o, const char *csv, const char *kind, const resim_scenario *sc,
                       int argc, char **argv, resim_error *err)
{
    int rc = resim_out_open_sidecar(o, csv, err);
    if (rc != RESIM_OK)
        return rc;
    fputs("{\n  \"kind\": ", o->fp);
    resim_json_string(o->fp, kind);
    fputs(",\n", o->fp);
    rc = resim_sidecar_common(o->fp, sc, argc, argv, err);
    if (rc != RESIM_OK)
        resim_out_abort(o);
    return rc;
}

typedef struct lever_print {
    FILE *fp;
    const resim_scenario *sc;
} lever_print;

/* Where the value of SECTION.KEY came from: the entry that set it (its file
 * and line, or the option), the data tables, or the lever's default. A key
 * reported per element may have been set for every element by its bare key. */
static void origin(char *buf, size_t size, const resim_scenario *sc, const char *key)
{
    char section[64];
    const char *dot = strchr(key, '.');
    if (dot == NULL || (size_t)(dot - key) >= sizeof section) {
        snprintf(buf, size, "default");
        return;
    }
    memcpy(section, key, (size_t)(dot - key));
    section[dot - key] = '\0';
    const resim_ini_entry *e = resim_ini_get(sc->ini, section, dot + 1);
    const char *last = strrchr(dot + 1, '.');
    if (e == NULL && last != NULL) {
        char bare[160];
        snprintf(bare, sizeof bare, "%.*s", (int)(last - dot - 1), dot + 1);
        e = resim_ini_get(sc->ini, section, bare);
    }
    resim_lever_ref ref;
    if (e != NULL && e->line > 0)
        snprintf(buf, size, "%s:%ld", e->file, e->line);
    else if (e != NULL)
        snprintf(buf, size, "%s", e->file);
    else if (resim_lever_find(sc->data, section, dot + 1, &ref) == RESIM_LEVER_FOUND &&
             (resim_lever_get(ref.id)->flags & RESIM_LEVER_FROM_DATA))
        snprintf(buf, size, "data tables");
    else
        snprintf(buf, size, "default");
}

static void lever_line(void *ctx, const char *key, const char *value)
{
    const lever_print *p = ctx;
    char from[RESIM_PATH_MAX + 32];
    origin(from, sizeof from, p->sc, key);
    fprintf(p->fp, "  %-40s %-12s (%s)\n", key, value, from);
}

void resim_timeline_print(FILE *fp, const resim_scenario *sc)
{
    char date[8];
    resim_date_format(sc->start, date);
    fprintf(fp, "scenario %s: %s, %d months from %s (warm-up %d), transit %d, adjust %g\n",
            sc->name, sc->ini->path, sc->months, date, sc->warmup, sc->transit, sc->adjust);
    fprintf(fp, "data: %s (%zu importers, %zu sources for the scenario's elements)\n",
            sc->data->dir, sc->n_importers, sc->n_sources);
    fputs("levers at the start:\n", fp);
    lever_print lp = {fp, sc};
    resim_levers_each(sc, &sc->initial, lever_line, &lp);
    fprintf(fp, "timeline (%zu events):\n", sc->n_events);
    for (size_t k = 0; k < sc->n_events; k++) {
        const resim_event *ev = &sc->events[k];
        resim_date_format(ev->date, date);
        fprintf(fp, "  %s  month %4d  %s = %s", date, ev->month, ev->entry->key, ev->entry->value);
        if (ev->source != NULL)
            fprintf(fp, "   [%s]", ev->source);
        fprintf(fp, "   (%s:%ld)\n", ev->entry->file, ev->entry->line);
    }
}

/* sidecar.c - run metadata as JSON, and the human-readable timeline. */
#include "resim/sidecar.h"

#include <nettle/sha2.h>
#include <string.h>

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

void resim_json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", fp);
        else if (c == '\t')
            fputs("\\t", fp);
        else if (c < 0x20)
            fprintf(fp, "\\u%04x", c);
        else
            fputc(c, fp);
    }
    fputc('"', fp);
}

typedef struct lever_json {
    FILE *fp;
    int first;
} lever_json;

static void lever_member(void *ctx, const char *key, const char *value)
{
    lever_json *j = ctx;
    fputs(j->first ? "\n    " : ",\n    ", j->fp);
    j->first = 0;
    resim_json_string(j->fp, key);
    fputs(": ", j->fp);
    resim_json_string(j->fp, value);
}

int resim_sidecar_common(FILE *fp, const resim_scenario *sc, int argc, char **argv,
                         resim_error *err)
{
    char hex[65];
    int rc = resim_sha256_file(sc->ini->path, hex, err);
    if (rc != RESIM_OK)
        return rc;
    fputs("  \"resim_version\": ", fp);
    resim_json_string(fp, RESIM_VERSION);
    fputs(",\n  \"command_line\": [", fp);
    for (int i = 0; i < argc; i++) {
        fputs(i ? ", " : "", fp);
        resim_json_string(fp, argv[i]);
    }
    fputs("],\n  \"scenario\": {\"name\": ", fp);
    resim_json_string(fp, sc->name);
    fputs(", \"path\": ", fp);
    resim_json_string(fp, sc->ini->path);
    fprintf(fp, ", \"sha256\": \"%s\"},\n", hex);
    /* The files the scenario is built on ([scenario] base), deepest first. */
    for (size_t b = 0; b < sc->ini->n_files; b++) {
        if ((rc = resim_sha256_file(sc->ini->files[b], hex, err)) != RESIM_OK)
            return rc;
        fputs(b ? ",\n    {\"path\": " : "  \"bases\": [\n    {\"path\": ", fp);
        resim_json_string(fp, sc->ini->files[b]);
        fprintf(fp, ", \"sha256\": \"%s\"}%s", hex, b + 1 == sc->ini->n_files ? "\n  ],\n" : "");
    }
    fputs("  \"data\": [", fp);
    for (int f = 0; f < RESIM_NFILES; f++) {
        if ((rc = resim_sha256_file(sc->data->path[f], hex, err)) != RESIM_OK)
            return rc;
        fputs(f ? ",\n    {\"path\": " : "\n    {\"path\": ", fp);
        resim_json_string(fp, sc->data->path[f]);
        fprintf(fp, ", \"sha256\": \"%s\"}", hex);
    }
    char date[8];
    resim_date_format(sc->start, date);
    fprintf(fp, "\n  ],\n  \"start\": \"%s\",\n  \"months\": %d,\n  \"warmup_months\": %d,\n"
                "  \"transit_months\": %d,\n  \"adjust_months\": %.15g,\n  \"elements\": [",
            date, sc->months, sc->warmup, sc->transit, sc->adjust);
    for (size_t e = 0; e < sc->n_elements; e++) {
        fputs(e ? ", " : "", fp);
        resim_json_string(fp, resim_scenario_symbol(sc, e));
    }
    fputs("],\n  \"levers\": {", fp);
    lever_json j = {fp, 1};
    resim_levers_each(sc, &sc->initial, lever_member, &j);
    fputs("\n  },\n  \"timeline\": [", fp);
    for (size_t k = 0; k < sc->n_events; k++) {
        const resim_event *ev = &sc->events[k];
        resim_date_format(ev->date, date);
        fprintf(fp, "%s\n    {\"date\": \"%s\", \"month\": %d, \"key\": ", k ? "," : "", date,
                ev->month);
        resim_json_string(fp, ev->entry->key);
        fputs(", \"value\": ", fp);
        resim_json_string(fp, ev->entry->value);
        fputs(", \"source\": ", fp);
        if (ev->source != NULL)
            resim_json_string(fp, ev->source);
        else
            fputs("null", fp);
        fputc('}', fp);
    }
    fputs("\n  ],\n", fp);
    return RESIM_OK;
}

int resim_sidecar_open(resim_out *o, const char *csv, const char *kind, const resim_scenario *sc,
                       int argc, char **argv, resim_error *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.json", csv);
    int rc = resim_out_open(o, path, err);
    if (rc != RESIM_OK)
        return rc;
    fprintf(o->fp, "{\n  \"kind\": \"%s\",\n", kind);
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

/* lever.c - the lever table and the lookups every reader of scenario keys shares. */
#include "resim/lever.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "resim/number.h"

/* Columns of RESIM_LEVER_LIST, expanded into struct fields. */
#define KIND_RANGE_RATE 0.0, 1.0
#define KIND_RANGE_NONNEG 0.0, HUGE_VAL
#define KIND_RANGE_COUNT 0.0, HUGE_VAL
/* Open lower bounds are the next double inside, so [lo, hi] is exact. */
#define KIND_RANGE_GROWTH (-1.0 + DBL_EPSILON / 2), HUGE_VAL
#define KIND_RANGE_POSITIVE DBL_TRUE_MIN, HUGE_VAL
#define KIND_RANGE_AT_LEAST_ONE 1.0, HUGE_VAL
#define KIND_RANGE_SWITCH 0.0, 1.0
#define KIND_RANGE_MONTH NAN, NAN
#define KIND_RANGE_ELEMENTS NAN, NAN
#define KIND_RANGE_ASSIGN NAN, NAN
#define KIND_RANGE_TEXT NAN, NAN
#define KIND_RANGE_STATUSES NAN, NAN
#define K(kind) RESIM_KIND_##kind, KIND_RANGE_##kind
#define W(lo, hi) RESIM_KIND_WHOLE, lo, hi
#define NN(hi) RESIM_KIND_NONNEG, 0.0, hi
#define D(x) {x, x, x}
#define D3(a, b, c) {a, b, c}
#define DATA {NAN, NAN, NAN}
#define NODEF {NAN, NAN, NAN}
#define EV RESIM_LEVER_EVENT
#define DIST RESIM_LEVER_DIST
#define FD RESIM_LEVER_FROM_DATA
#define ALL RESIM_LEVER_ALL_ELEMENTS
#define LISTED RESIM_LEVER_LISTED
#define F(field) offsetof(resim_levers, field)
#define SRC(field) (offsetof(resim_levers, source) + offsetof(resim_source_levers, field))
#define NOWHERE RESIM_LEVER_NOWHERE

#define RESIM_SECTION_LINE(id, name, flags) {RESIM_SECTION_##id, name, flags},
static const resim_section sections[RESIM_NSECTIONS] = {RESIM_SECTION_LIST(RESIM_SECTION_LINE)};
#undef RESIM_SECTION_LINE

#define RESIM_LEVER_LINE(id, section, key, shape, kind, def, flags, where, unit, help)           \
    {RESIM_LEVER_##id, #id, &sections[RESIM_SECTION_##section], key, RESIM_SHAPE_##shape, kind, \
     def, (flags), where, unit, help},

static const resim_lever table[RESIM_NLEVERS] = {RESIM_LEVER_LIST(RESIM_LEVER_LINE)};

#undef RESIM_LEVER_LINE

size_t resim_lever_count(void) { return RESIM_NLEVERS; }

const resim_lever *resim_lever_at(size_t i) { return i < RESIM_NLEVERS ? &table[i] : NULL; }

const resim_lever *resim_lever_get(resim_lever_id id) { return &table[id]; }

int resim_lever_numeric(resim_lever_kind kind)
{
    return kind != RESIM_KIND_ELEMENTS && kind != RESIM_KIND_ASSIGN && kind != RESIM_KIND_TEXT &&
           kind != RESIM_KIND_MONTH && kind != RESIM_KIND_STATUSES;
}

const resim_section *resim_section_get(resim_section_id id) { return &sections[id]; }

/* Whether s is a calendar month YYYY-MM (as resim_date_parse reads it). */
static int is_month(const char *s)
{
    for (int i = 0; i < 7; i++)
        if (i == 4 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return 0;
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    return s[7] == '\0' && month >= 1 && month <= 12;
}

int resim_section_of(const char *name)
{
    /* Most sections of a scenario are events: try a month first. */
    if (name[0] >= '0' && name[0] <= '9')
        return is_month(name) ? RESIM_SECTION_EVENT : -1;
    for (int k = 0; k < RESIM_NSECTIONS; k++)
        if (!(sections[k].flags & RESIM_SECTION_EVENTS) && sections[k].name[0] == name[0] &&
            strcmp(sections[k].name, name) == 0)
            return k;
    return -1;
}

size_t resim_lever_sections(const char **names, size_t max, int deterministic_only)
{
    size_t n = 0;
    for (int k = 0; k < RESIM_NSECTIONS; k++) {
        unsigned f = sections[k].flags;
        if ((f & RESIM_SECTION_EVENTS) ||
            (deterministic_only && (f & RESIM_SECTION_ENSEMBLE_ONLY)))
            continue;
        if (n < max)
            names[n] = sections[k].name;
        n++;
    }
    return n;
}

int resim_lever_section_known(const char *name, int deterministic_only)
{
    const char *names[16];
    size_t n = resim_lever_sections(names, 16, deterministic_only);
    for (size_t k = 0; k < n && k < 16; k++)
        if (strcmp(names[k], name) == 0)
            return 1;
    return 0;
}

void resim_lever_section_list(char *buf, size_t size, int deterministic_only)
{
    const char *names[16];
    size_t n = resim_lever_sections(names, 16, deterministic_only), used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < n && k < 16 && used < size; k++) {
        int w = snprintf(buf + used, size - used, "%s%s", k ? ", " : "", names[k]);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used < size)
        snprintf(buf + used, size - used, " or a month YYYY-MM");
}

/* ------------------------------------------------------------ matching */

static const char PH_STATUS[] = "<status>", PH_ELEMENT[] = "<El>"; /* and <source> */

/*
 * Matches key against a line's key text. A placeholder takes the text up
 * to the character that follows it in the template (or the rest of the key
 * when it is last). The text around the placeholders must fit first; then
 * an unknown status makes an unknown key, and an unknown element or source
 * an unknown index.
 */
static int match(const resim_data *d, const resim_lever *lv, const char *key, resim_lever_ref *ref)
{
    const char *t = lv->key, *k = key;
    struct {
        char kind; /* 's', 'e' or 'j' */
        const char *text;
        size_t len;
    } tok[4];
    size_t ntok = 0;
    *ref = (resim_lever_ref){lv->id, -1, -1, -1};
    while (*t != '\0') {
        if (*t != '<') {
            if (*k != *t) {
                /* A bare key that sets every element: the template's last
                 * ".<El>" is left out. */
                if (!((lv->flags & RESIM_LEVER_ALL_ELEMENTS) && *k == '\0' && t[0] == '.' &&
                      strcmp(t + 1, PH_ELEMENT) == 0))
                    return RESIM_LEVER_UNKNOWN_KEY;
                ref->element = RESIM_LEVER_ALL;
                break;
            }
            t++;
            k++;
            continue;
        }
        const char *close = strchr(t, '>');
        char stop = close[1];
        const char *end = stop != '\0' ? strchr(k, stop) : k + strlen(k);
        int bare = 0;
        if (end == NULL && (lv->flags & RESIM_LEVER_ALL_ELEMENTS) && close[1] == '.' &&
            strcmp(close + 2, PH_ELEMENT) == 0) {
            /* approval.watch for approval.<status>.<El>: every element. */
            end = k + strlen(k);
            bare = 1;
        }
        if (end == NULL || ntok == sizeof tok / sizeof tok[0])
            return RESIM_LEVER_UNKNOWN_KEY;
        tok[ntok].kind = strncmp(t, PH_STATUS, sizeof PH_STATUS - 1) == 0    ? 's'
                         : strncmp(t, PH_ELEMENT, sizeof PH_ELEMENT - 1) == 0 ? 'e'
                                                                              : 'j';
        tok[ntok].text = k;
        tok[ntok++].len = (size_t)(end - k);
        t = bare ? t + strlen(t) : close + 1;
        k = end;
        if (bare)
            ref->element = RESIM_LEVER_ALL;
    }
    if (*k != '\0')
        return RESIM_LEVER_UNKNOWN_KEY;
    /* The key fits the template: now the names in it. */
    int r = RESIM_LEVER_FOUND;
    for (size_t q = 0; q < ntok; q++) {
        char name[64];
        int x = -1;
        if (tok[q].len < sizeof name) {
            memcpy(name, tok[q].text, tok[q].len);
            name[tok[q].len] = '\0';
            x = tok[q].kind == 's'   ? resim_status_of(name)
                : tok[q].kind == 'e' ? resim_data_element(d, name)
                                     : resim_data_source(d, name);
        }
        if (tok[q].kind == 's') {
            if (x < 0 || ((lv->flags & RESIM_LEVER_LISTED) && x == RESIM_NONE))
                return RESIM_LEVER_UNKNOWN_KEY;
            ref->status = x;
        } else if (x < 0) {
            r = RESIM_LEVER_UNKNOWN_INDEX;
        } else if (tok[q].kind == 'e') {
            ref->element = x;
        } else {
            ref->source = x;
        }
    }
    return r;
}

/* The lines of one section, in table order; the first that is found or
 * names an unknown index decides. With events_only, only event levers. */
static int find_in(const resim_data *d, int section, const char *key, int events_only,
                   resim_lever_ref *out)
{
    for (size_t i = 0; i < RESIM_NLEVERS; i++) {
        const resim_lever *lv = &table[i];
        if ((int)lv->section->id != section || (events_only && !(lv->flags & RESIM_LEVER_EVENT)))
            continue;
        /* Most lines differ from the key in its first letter. */
        if (lv->key[0] != '<' && lv->key[0] != key[0])
            continue;
        resim_lever_ref ref;
        int r = match(d, lv, key, &ref);
        if (r == RESIM_LEVER_FOUND && out != NULL)
            *out = ref;
        if (r != RESIM_LEVER_UNKNOWN_KEY)
            return r;
    }
    return RESIM_LEVER_UNKNOWN_KEY;
}

/* Whether a section (not the event-only keys) holds a lever an event may set. */
static int event_section(int section)
{
    if (section < 0 || (sections[section].flags & RESIM_SECTION_EVENTS))
        return 0;
    for (size_t i = 0; i < RESIM_NLEVERS; i++)
        if ((table[i].flags & RESIM_LEVER_EVENT) && (int)table[i].section->id == section)
            return 1;
    return 0;
}

int resim_lever_find(const resim_data *d, const char *section, const char *key,
                     resim_lever_ref *out)
{
    int sec = resim_section_of(section);
    if (sec < 0)
        return RESIM_LEVER_UNKNOWN_KEY;
    if (sec != RESIM_SECTION_EVENT)
        return find_in(d, sec, key, 0, out);
    /* An event: keys only events take, then a lever key with its section
     * (alt.capacity_factor), then a bare lever key of any section, the
     * first in table order (approval.watch). */
    int r = find_in(d, RESIM_SECTION_EVENT, key, 1, out);
    if (r != RESIM_LEVER_UNKNOWN_KEY)
        return r;
    const char *dot = strchr(key, '.');
    if (dot != NULL) {
        char name[32];
        size_t n = (size_t)(dot - key);
        if (n < sizeof name) {
            memcpy(name, key, n);
            name[n] = '\0';
            int x = resim_section_of(name);
            if (event_section(x) &&
                (r = find_in(d, x, dot + 1, 1, out)) != RESIM_LEVER_UNKNOWN_KEY)
                return r;
        }
    }
    for (size_t i = 0; i < RESIM_NLEVERS; i++) {
        const resim_lever *lv = &table[i];
        if (!(lv->flags & RESIM_LEVER_EVENT) || lv->section->id == RESIM_SECTION_EVENT ||
            (lv->key[0] != '<' && lv->key[0] != key[0]))
            continue;
        resim_lever_ref ref;
        r = match(d, lv, key, &ref);
        if (r == RESIM_LEVER_FOUND && out != NULL)
            *out = ref;
        if (r != RESIM_LEVER_UNKNOWN_KEY)
            return r;
    }
    return RESIM_LEVER_UNKNOWN_KEY;
}

/* ------------------------------------------------------------ values */

static int bad(resim_error *err, const resim_ini_entry *e, int status, const char *what,
               const char *detail)
{
    return resim_error_set(err, status, e->file, e->line, "[%s] %s: %s%s", e->section, e->key,
                           what, detail != NULL ? detail : "");
}

/* ------------------------------------------------------------ suggestions */

/* Levenshtein distance of two short strings (keys are under 128 characters). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 127 || nb > 127)
        return (size_t)-1;
    size_t row[128];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

/*
 * The key template `tmpl` written out for comparison with `key`: <status>
 * becomes status st, and <El> or <source> the key's own text at the same
 * place (dot-separated), so only the fixed part of a key is compared. With
 * bare_ok (a key whose last .<El> may be left out to set every element), a
 * key without that segment is written without it.
 */
static void spell(char *out, size_t size, const char *tmpl, int st, const char *key, int bare_ok)
{
    size_t used = 0, seg = 0;
    out[0] = '\0';
    for (const char *t = tmpl; *t != '\0' && used + 1 < size;) {
        const char *sub = NULL;
        size_t skip = 0, sublen = 0;
        if (strncmp(t, "<status>", 8) == 0) {
            sub = resim_status_names[st];
            sublen = strlen(sub);
            skip = 8;
        } else if (strncmp(t, "<El>", 4) == 0 || strncmp(t, "<source>", 8) == 0) {
            skip = t[1] == 'E' ? 4 : 8;
            sub = key; /* the key's segment number seg */
            for (size_t k = 0; k < seg && sub != NULL; k++)
                sub = (sub = strchr(sub, '.')) != NULL ? sub + 1 : NULL;
            if (sub == NULL)
                sub = "";
            const char *dot = strchr(sub, '.');
            sublen = dot != NULL ? (size_t)(dot - sub) : strlen(sub);
            if (sublen == 0 && bare_ok && t[skip] == '\0' && used > 0 && out[used - 1] == '.')
                out[--used] = '\0'; /* the bare key: no trailing dot */
        }
        if (sub != NULL) {
            if (used + sublen >= size)
                break;
            memcpy(out + used, sub, sublen);
            used += sublen;
            t += skip;
        } else {
            seg += *t == '.';
            out[used++] = *t++;
        }
        out[used] = '\0';
    }
}

/*
 * The table key closest to e's key in its section (for an event, any key an
 * event takes, bare or with its section), when close enough to be a likely
 * misspelling: at most 2 edits, or a third of the key's length.
 */
static int suggest(const resim_ini_entry *e, char *best, size_t size)
{
    int ym, event = resim_date_parse(e->section, &ym) == 0;
    size_t best_d = (size_t)-1, len = strlen(e->key);
    for (size_t i = 0; i < RESIM_NLEVERS; i++) {
        const resim_lever *lv = &table[i];
        if (event ? !(lv->flags & RESIM_LEVER_EVENT) : strcmp(lv->section->name, e->section) != 0)
            continue;
        int with_section = event && strcmp(lv->section->name, RESIM_EVENT_SECTION) != 0;
        int nst = strstr(lv->key, "<status>") != NULL ? RESIM_NSTATUSES : 1;
        for (int form = 0; form <= with_section; form++)
            for (int st = 0; st < nst; st++) {
                if ((lv->flags & RESIM_LEVER_LISTED) && nst > 1 && st == RESIM_NONE)
                    continue;
                char tmpl[160], cand[160];
                snprintf(tmpl, sizeof tmpl, "%s%s%s", form ? lv->section->name : "", form ? "." : "",
                         lv->key);
                spell(cand, sizeof cand, tmpl, st, e->key, (lv->flags & RESIM_LEVER_ALL_ELEMENTS) != 0);
                size_t dist = edit_distance(e->key, cand);
                if (dist < best_d) {
                    best_d = dist;
                    snprintf(best, size, "%s", cand);
                }
            }
    }
    return best_d > 0 && (best_d <= 2 || best_d * 3 <= len) ? 0 : -1;
}

int resim_lever_find_error(const resim_ini_entry *e, int found, resim_error *err)
{
    char best[160], hint[200];
    if (found != RESIM_LEVER_UNKNOWN_INDEX && suggest(e, best, sizeof best) == 0) {
        snprintf(hint, sizeof hint, "unknown key (did you mean %s?)", best);
        return bad(err, e, RESIM_EINVAL, hint, NULL);
    }
    return bad(err, e, RESIM_EINVAL,
               found == RESIM_LEVER_UNKNOWN_INDEX ? "unknown element or source in key"
                                                  : "unknown key",
               NULL);
}

/* A list of status names (space or comma separated) into a mask, bit s
 * for status s; an empty list is no one (docs/model.md section 12). */
static int parse_statuses(const resim_ini_entry *e, double *out, resim_error *err)
{
    unsigned mask = 0;
    for (const char *p = e->value; *p != '\0';) {
        size_t n = strcspn(p, " ,\t");
        if (n > 0) {
            char name[16];
            int st = -1;
            if (n < sizeof name) {
                memcpy(name, p, n);
                name[n] = '\0';
                st = resim_status_of(name);
            }
            if (st < 0) {
                char what[80];
                snprintf(what, sizeof what, "unknown status '%.*s' (none, watch or control)",
                         (int)(n < 40 ? n : 40), p);
                return bad(err, e, RESIM_EINVAL, what, NULL);
            }
            mask |= 1u << st;
        }
        p += n;
        p += strspn(p, " ,\t");
    }
    *out = mask;
    return RESIM_OK;
}

/* Whether s writes a whole number in digits: [-]DIGITS[.0...], spaces around
 * (no hexadecimal, exponent or sign +: months = 0x12 is not 18). */
static int whole_text(const char *s)
{
    while (*s == ' ')
        s++;
    if (*s == '-')
        s++;
    if (*s < '0' || *s > '9')
        return 0;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s == '.')
        for (s++; *s == '0'; s++)
            ;
    while (*s == ' ')
        s++;
    return *s == '\0';
}

int resim_lever_parse(const resim_lever *lv, const resim_ini_entry *e, int start, double *out,
                      resim_error *err)
{
    if (lv->kind == RESIM_KIND_STATUSES)
        return parse_statuses(e, out, err);
    if (!resim_lever_numeric(lv->kind) && lv->kind != RESIM_KIND_MONTH)
        return bad(err, e, RESIM_EINVAL, "not a numeric key", NULL);
    if (lv->kind == RESIM_KIND_MONTH) {
        int ym;
        if (resim_date_parse(e->value, &ym) != 0)
            return bad(err, e, RESIM_EPARSE, "not a date YYYY-MM: ", e->value);
        *out = ym - start;
        return RESIM_OK;
    }
    double v;
    if (lv->kind == RESIM_KIND_WHOLE) {
        if (!whole_text(e->value) || resim_parse_double(e->value, &v) != 0 || v != floor(v))
            return bad(err, e, RESIM_EPARSE, "not a whole number: ", e->value);
        if (v < lv->lo || v > lv->hi) {
            char range[64];
            snprintf(range, sizeof range, " outside [%ld, %ld]", (long)lv->lo, (long)lv->hi);
            return bad(err, e, RESIM_EINVAL, e->value, range);
        }
        *out = v;
        return RESIM_OK;
    }
    if (resim_parse_double(e->value, &v) != 0)
        return bad(err, e, RESIM_EPARSE, "not a number: ", e->value);
    const char *why = NULL;
    switch (lv->kind) {
    case RESIM_KIND_RATE: why = v < 0 || v > 1 ? "rate outside [0, 1]: " : NULL; break;
    case RESIM_KIND_NONNEG:
    case RESIM_KIND_COUNT: why = v < 0 ? "must not be negative: " : NULL; break;
    case RESIM_KIND_GROWTH: why = v <= -1 ? "growth must be above -1: " : NULL; break;
    case RESIM_KIND_POSITIVE: why = v <= 0 ? "must be positive: " : NULL; break;
    case RESIM_KIND_AT_LEAST_ONE: why = v < 1 ? "must be at least 1: " : NULL; break;
    case RESIM_KIND_SWITCH: why = v != 0 && v != 1 ? "must be 0 or 1: " : NULL; break;
    default: break;
    }
    if (why == NULL && v > lv->hi) {
        char top[64];
        snprintf(top, sizeof top, " is above the largest allowed, %g", lv->hi);
        return bad(err, e, RESIM_EINVAL, e->value, top);
    }
    if (why != NULL)
        return bad(err, e, RESIM_EINVAL, why, e->value);
    *out = v;
    return RESIM_OK;
}

/* ------------------------------------------------------------ storage */

static size_t slot_offset(const resim_lever *lv, const resim_lever_ref *ref, int element)
{
    size_t off = lv->offset;
    switch (lv->shape) {
    case RESIM_SHAPE_SCALAR: break;
    case RESIM_SHAPE_STATUS: off += (size_t)ref->status * sizeof(double); break;
    case RESIM_SHAPE_ELEMENT: off += (size_t)element * sizeof(double); break;
    case RESIM_SHAPE_SOURCE: off += (size_t)ref->source * sizeof(resim_source_levers); break;
    case RESIM_SHAPE_STATUS_ELEMENT:
        off += ((size_t)ref->status * RESIM_MAX_ELEMENTS + (size_t)element) * sizeof(double);
        break;
    }
    return off;
}

double resim_lever_value(const resim_levers *lv, const resim_lever_ref *ref)
{
    double v;
    memcpy(&v, (const char *)lv + slot_offset(&table[ref->id], ref, ref->element), sizeof v);
    return v;
}

void resim_lever_store(resim_levers *lv, const resim_lever_ref *ref, double v)
{
    const resim_lever *l = &table[ref->id];
    if (ref->element != RESIM_LEVER_ALL ||
        (l->shape != RESIM_SHAPE_ELEMENT && l->shape != RESIM_SHAPE_STATUS_ELEMENT)) {
        memcpy((char *)lv + slot_offset(l, ref, ref->element), &v, sizeof v);
        return;
    }
    for (int e = 0; e < RESIM_MAX_ELEMENTS; e++)
        memcpy((char *)lv + slot_offset(l, ref, e), &v, sizeof v);
}

int resim_key_range(const resim_data *d, const char *section, const char *key, double *lo,
                    double *hi)
{
    resim_lever_ref ref;
    if (resim_lever_find(d, section, key, &ref) != RESIM_LEVER_FOUND)
        return -1;
    const resim_lever *lv = &table[ref.id];
    if (!(lv->flags & RESIM_LEVER_DIST) || !resim_lever_numeric(lv->kind))
        return -1;
    *lo = lv->lo;
    *hi = lv->hi;
    return 0;
}

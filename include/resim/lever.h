/*
 * lever.h - the one table of every key a scenario may set: its section,
 * key, shape, kind of value and valid range, default, whether an event or
 * a distribution may set it, its unit and a line of help.
 *
 * The resolver, --set, events, `resim check`, the sidecar's `levers`, the
 * sweep's key check and the ranges of uncertain keys all read this table;
 * nothing else names a key. The table and the lookups are pure (sim/core/
 * lever.c) and link with the core alone.
 *
 * Adding a lever: one line in RESIM_LEVER_LIST below (and, when the model
 * keeps it in resim_levers, its field there), then its use in the model.
 */
#ifndef RESIM_LEVER_H
#define RESIM_LEVER_H

#include <stddef.h>

#include "resim/data.h"
#include "resim/error.h"
#include "resim/ini.h"

/*
 * Levers and lever-like state: everything an event can change, as the
 * model reads it. The table says which key sets which field.
 */
typedef struct resim_levers {
    /* Policy by list status and element (docs/model.md section 9); the
     * element index is the element table's, like every [El] below. */
    double approval[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS];
    double delay_mean_days[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS];
    double delay_cv[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS];
    double military_ban[RESIM_MAX_ELEMENTS];
    double precaution_months[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS]; /* section 10 */
    double general_licence[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS];   /* section 13 */
    double base_tpy[RESIM_MAX_ELEMENTS], growth[RESIM_MAX_ELEMENTS];
    double alt_capacity_factor, alt_delay_months;
    resim_source_levers source[RESIM_MAX_SOURCES]; /* indexed like the data's sources */
    double stock_enabled, stock_trigger;
    double stock_tonnes[RESIM_MAX_ELEMENTS]; /* the holding; releases draw it down */
    double stock_release_max[RESIM_MAX_ELEMENTS];
    double stock_decision_months; /* section 12 */
    double stock_eligible;        /* statuses that receive releases: bit s for status s */
    /* Substitution and thrift (section 11). */
    double subst_rate[RESIM_MAX_ELEMENTS], subst_cap[RESIM_MAX_ELEMENTS];
    double subst_reversion[RESIM_MAX_ELEMENTS], subst_trigger;
    unsigned char controlled[RESIM_MAX_ELEMENTS];
} resim_levers;

/*
 * What a key is indexed by. The key's text marks each index with a
 * placeholder: <status> (none, watch, control), <El> (an element symbol)
 * and <source> (an alternative source id). In resim_levers a lever is
 * stored as double f[RESIM_NSTATUSES] (status), f[RESIM_MAX_ELEMENTS]
 * (element), f[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS] (status and element),
 * or as a field of resim_source_levers (source).
 */
typedef enum {
    RESIM_SHAPE_SCALAR,
    RESIM_SHAPE_STATUS,
    RESIM_SHAPE_ELEMENT,
    RESIM_SHAPE_SOURCE,
    RESIM_SHAPE_STATUS_ELEMENT
} resim_lever_shape;

/* The kind of value a key takes; numeric kinds have a range [lo, hi]. */
typedef enum {
    RESIM_KIND_RATE,     /* number in [0, 1] */
    RESIM_KIND_NONNEG,   /* number >= 0 */
    RESIM_KIND_GROWTH,   /* number > -1 (a yearly growth rate) */
    RESIM_KIND_POSITIVE, /* number > 0 */
    RESIM_KIND_AT_LEAST_ONE, /* number >= 1 */
    RESIM_KIND_SWITCH,   /* 0 or 1 */
    RESIM_KIND_COUNT,    /* number >= 0, rounded to a whole count */
    RESIM_KIND_WHOLE,    /* whole number in [lo, hi] */
    RESIM_KIND_MONTH,    /* a calendar month YYYY-MM, kept as a model month */
    RESIM_KIND_ELEMENTS, /* a list of element symbols */
    RESIM_KIND_ASSIGN,   /* a list of importer:status */
    RESIM_KIND_STATUSES, /* a list of status names, kept as a mask (bit s: status s) */
    RESIM_KIND_TEXT      /* free text */
} resim_lever_kind;

/* Flags of a lever. */
enum {
    RESIM_LEVER_EVENT = 1,       /* an event section may set it */
    RESIM_LEVER_DIST = 2,        /* it may take a distribution in an ensemble */
    RESIM_LEVER_FROM_DATA = 4,   /* its default comes from the data tables */
    RESIM_LEVER_ALL_ELEMENTS = 8,/* the key without its last .<El> sets every element */
    RESIM_LEVER_LISTED = 16      /* <status> is watch or control only */
};

/* The section name that stands for every event section ([YYYY-MM]). */
#define RESIM_EVENT_SECTION "YYYY-MM"

/* Flags of a section. */
enum {
    RESIM_SECTION_ENSEMBLE_ONLY = 1, /* read by ensembles only (lots, the random list process) */
    RESIM_SECTION_EVENTS = 2    /* stands for every event section [YYYY-MM] */
};

/* The sections of a scenario file, in the order reports list them. */
#define RESIM_SECTION_LIST(X)                                          \
    X(SCENARIO, "scenario", 0)                                     \
    X(POLICY, "policy", 0)                                         \
    X(DEMAND, "demand", 0)                                         \
    X(ALT, "alt", 0)                                               \
    X(STOCKPILE, "stockpile", 0)                                   \
    X(SUBSTITUTION, "substitution", 0)                             \
    X(STOCHASTIC, "stochastic", RESIM_SECTION_ENSEMBLE_ONLY)       \
    X(LIST_PROCESS, "list_process", RESIM_SECTION_ENSEMBLE_ONLY)   \
    X(EVENT, RESIM_EVENT_SECTION, RESIM_SECTION_EVENTS)

#define RESIM_SECTION_ENUM(id, name, flags) RESIM_SECTION_##id,
typedef enum { RESIM_SECTION_LIST(RESIM_SECTION_ENUM) RESIM_NSECTIONS } resim_section_id;
#undef RESIM_SECTION_ENUM

typedef struct resim_section {
    resim_section_id id;
    const char *name;
    unsigned flags;
} resim_section;

/* Section id of a name ("policy", ...; a month YYYY-MM is RESIM_SECTION_EVENT), or -1. */
int resim_section_of(const char *name);
/* The line of a section. */
const resim_section *resim_section_get(resim_section_id id);

/*
 * The table. Columns: id, section, key (with placeholders), shape, kind,
 * default, flags, where the model keeps it, unit, help.
 *   default: D(x) for every index, D3(none, watch, control) by status,
 *            DATA (from the data tables; flag FROM_DATA), NODEF (text,
 *            lists, or a key that must be given)
 *   section: a section of RESIM_SECTION_LIST; EVENT for keys only an event
 *            takes (an event may also set any lever flagged EV)
 *   flags:   EV (event), DIST (distribution), FD (from data), ALL (bare
 *            key sets every element), LISTED; 0 for none
 *   where:   F(field) of resim_levers, SRC(field) of resim_source_levers,
 *            or NOWHERE (kept by the scenario, not in resim_levers)
 * Ranges of WHOLE keys are given as W(lo, hi) in the kind column, and a
 * NONNEG key with a finite top as NN(hi) (the random list process: GSL's
 * Poisson sampler takes time growing with the mean, so rates stop at 1e6
 * batches a year).
 */
#define RESIM_LEVER_LIST(X)                                                                         \
    /* [scenario]: fixed for the run */                                                             \
    X(NAME, SCENARIO, "name", SCALAR, K(TEXT), NODEF, 0, NOWHERE, "",                             \
      "name written in the scenario column (1 to 127 characters)")                                  \
    X(START, SCENARIO, "start", SCALAR, K(MONTH), NODEF, 0, NOWHERE, "YYYY-MM",                   \
      "calendar month of model month 0")                                                            \
    X(MONTHS, SCENARIO, "months", SCALAR, W(1, 12000), NODEF, 0, NOWHERE, "months",               \
      "months simulated and written")                                                               \
    X(WARMUP, SCENARIO, "warmup_months", SCALAR, W(0, 12000), D(0), 0, NOWHERE, "months",         \
      "months simulated before the start and not written")                                          \
    X(TRANSIT, SCENARIO, "transit_months", SCALAR, W(0, 1200), D(1), 0, NOWHERE, "months",        \
      "months from approval to arrival in Japan")                                                   \
    X(ADJUST, SCENARIO, "adjust_months", SCALAR, K(AT_LEAST_ONE), D(2), 0, NOWHERE, "months",     \
      "months importers take to close inventory and supply-line gaps")                              \
    X(ELEMENTS, SCENARIO, "elements", SCALAR, K(ELEMENTS), DATA, FD, NOWHERE, "",                 \
      "elements simulated, in output order (default: the licensed ones of the element table)")      \
    X(DATA_DIR, SCENARIO, "data", SCALAR, K(TEXT), NODEF, 0, NOWHERE, "",                         \
      "folder of the data tables, relative to the scenario file (default ../data)")                 \
    X(PRECAUTION_ADJUST, SCENARIO, "precaution_adjust_months", SCALAR, K(AT_LEAST_ONE), D(1), 0,  \
      NOWHERE, "months", "months the precautionary extra cover takes to follow its target")         \
    /* [policy]: China's licensing; a key without its .<El> sets every element */                   \
    X(CONTROLLED, POLICY, "controlled", SCALAR, K(ELEMENTS), NODEF, EV, F(controlled), "",        \
      "elements that need an export licence")                                                       \
    X(APPROVAL, POLICY, "approval.<status>.<El>", STATUS_ELEMENT, K(RATE), D3(1, 1, 0),           \
      EV | DIST | ALL, F(approval), "fraction",                                                     \
      "share of decided applications approved, by status at decision")                             \
    X(DELAY_MEAN_DAYS, POLICY, "delay_mean_days.<status>.<El>", STATUS_ELEMENT, K(NONNEG), D(0),  \
      EV | DIST | ALL, F(delay_mean_days), "days", "mean review delay, by status at filing")        \
    X(DELAY_CV, POLICY, "delay_cv.<status>.<El>", STATUS_ELEMENT, K(NONNEG), D(0),                \
      EV | DIST | ALL, F(delay_cv), "",                                                             \
      "coefficient of variation of the review delay (0: exactly the mean)")                         \
    X(MILITARY_BAN, POLICY, "military_ban.<El>", ELEMENT, K(SWITCH), D(0), EV | ALL,              \
      F(military_ban), "", "1: the military share of every controlled application is refused")     \
    X(PRECAUTION_MONTHS, POLICY, "precaution_months.<status>.<El>", STATUS_ELEMENT, K(NONNEG),    \
      D(0), EV | DIST | ALL, F(precaution_months), "months",                                        \
      "extra months of cover wanted while the element is controlled, by status now")               \
    X(GENERAL_LICENCE, POLICY, "general_licence.<status>.<El>", STATUS_ELEMENT, K(RATE), D(0),    \
      EV | DIST | ALL, F(general_licence), "fraction",                                              \
      "share of filings a general licence covers: decided at once, no review")                      \
    /* [demand]: national demand by element */                                                      \
    X(BASE_TPY, DEMAND, "base_tpy.<El>", ELEMENT, K(NONNEG), DATA, EV | DIST | FD, F(base_tpy),   \
      "t/year", "national demand at month 0")                                                       \
    X(GROWTH, DEMAND, "growth.<El>", ELEMENT, K(GROWTH), DATA, EV | DIST | FD, F(growth),         \
      "1/year", "yearly growth of national demand")                                                 \
    /* [alt]: non-China supply, all sources or one */                                               \
    X(ALT_CAPACITY_FACTOR, ALT, "capacity_factor", SCALAR, K(NONNEG), D(1), EV | DIST,            \
      F(alt_capacity_factor), "", "multiplies the capacity of every source")                        \
    X(ALT_DELAY_MONTHS, ALT, "delay_months", SCALAR, K(NONNEG), D(0), EV | DIST,                  \
      F(alt_delay_months), "months", "delays the start of every source")                            \
    X(SOURCE_CAPACITY_FACTOR, ALT, "<source>.capacity_factor", SOURCE, K(NONNEG), D(1),           \
      EV | DIST, SRC(capacity_factor), "", "multiplies this source's capacity")                     \
    X(SOURCE_DELAY_MONTHS, ALT, "<source>.delay_months", SOURCE, K(NONNEG), D(0), EV | DIST,      \
      SRC(delay_months), "months", "delays this source's start")                                    \
    X(SOURCE_CAPACITY_TPY, ALT, "<source>.capacity_tpy", SOURCE, K(NONNEG), DATA,                 \
      EV | DIST | FD, SRC(capacity_tpy), "t/year", "capacity at full rate")                         \
    X(SOURCE_START, ALT, "<source>.start", SOURCE, K(MONTH), DATA, EV | FD, SRC(start),           \
      "YYYY-MM", "first month of output")                                                           \
    X(SOURCE_RAMP_MONTHS, ALT, "<source>.ramp_months", SOURCE, K(NONNEG), DATA, EV | DIST | FD,   \
      SRC(ramp_months), "months", "months from the start to full rate")                             \
    X(SOURCE_GROWTH, ALT, "<source>.growth", SOURCE, K(GROWTH), DATA, EV | DIST | FD,             \
      SRC(growth), "1/year", "yearly growth after the ramp")                                        \
    X(SOURCE_JAPAN_SHARE, ALT, "<source>.japan_share", SOURCE, K(RATE), DATA, EV | DIST | FD,     \
      SRC(japan_share), "fraction", "share of the output available to Japan")                       \
    /* [stockpile]: the national stockpile */                                                       \
    X(STOCK_ENABLED, STOCKPILE, "enabled", SCALAR, K(SWITCH), D(0), EV, F(stock_enabled), "",     \
      "1: the national stockpile releases when availability drops")                                 \
    X(STOCK_TRIGGER, STOCKPILE, "trigger", SCALAR, K(RATE), D(0.9), EV | DIST, F(stock_trigger),  \
      "fraction", "availability below which the stockpile releases")                                \
    X(STOCK_TONNES, STOCKPILE, "tonnes.<El>", ELEMENT, K(NONNEG), DATA, EV | DIST | FD,           \
      F(stock_tonnes), "t", "holding (an event replaces it)")                                       \
    X(STOCK_RELEASE_MAX, STOCKPILE, "release_max_tpm.<El>", ELEMENT, K(NONNEG), DATA,             \
      EV | DIST | FD, F(stock_release_max), "t/month", "largest release in a month")                \
    X(STOCK_DECISION_MONTHS, STOCKPILE, "decision_months", SCALAR, W(0, 12000), D(0), EV,        \
      F(stock_decision_months), "months",                                                           \
      "months of low availability before a release is decided (0: at once)")                        \
    X(STOCK_ELIGIBLE, STOCKPILE, "eligible", SCALAR, K(STATUSES), D(7), EV, F(stock_eligible),   \
      "", "statuses that may receive releases (space-separated; empty: no one)")                    \
    /* [substitution]: substitution and thrift; a key without its .<El> sets every element */       \
    X(SUBST_RATE, SUBSTITUTION, "rate.<El>", ELEMENT, K(NONNEG), D(0), EV | DIST | ALL,           \
      F(subst_rate), "1/year", "share of potential demand substituted per year while short")        \
    X(SUBST_CAP, SUBSTITUTION, "cap.<El>", ELEMENT, K(RATE), D(1), EV | DIST | ALL, F(subst_cap), \
      "fraction", "largest substituted share")                                                      \
    X(SUBST_REVERSION, SUBSTITUTION, "reversion.<El>", ELEMENT, K(NONNEG), D(0),                  \
      EV | DIST | ALL, F(subst_reversion), "1/year",                                                \
      "share of potential demand that returns per year when supply is adequate")                    \
    X(SUBST_TRIGGER, SUBSTITUTION, "trigger", SCALAR, K(RATE), D(0.95), EV | DIST,                \
      F(subst_trigger), "fraction", "an importer below this availability substitutes")              \
    /* [stochastic]: ensembles only */                                                              \
    X(LOT_TONNES, STOCHASTIC, "lot_tonnes.<El>", ELEMENT, K(POSITIVE), D(1), DIST | ALL,    \
      NOWHERE, "t", "size of a licence lot (the bare key sets every element)")                      \
    /* [list_process]: random list moves, ensembles only */                                         \
    X(LIST_ADD_RATE, LIST_PROCESS, "add.<status>.rate", STATUS, NN(1e6), D(0),                  \
      DIST | LISTED, NOWHERE, "1/year", "batches of additions to the list per year")          \
    X(LIST_ADD_BATCH, LIST_PROCESS, "add.<status>.batch", STATUS, K(NONNEG), D(0),                \
      DIST | LISTED, NOWHERE, "importers", "importers added per batch (rounded)")             \
    X(LIST_REMOVE_RATE, LIST_PROCESS, "remove.<status>.rate", STATUS, NN(1e6), D(0),            \
      DIST | LISTED, NOWHERE, "1/year", "batches of removals from the list per year")         \
    X(LIST_REMOVE_BATCH, LIST_PROCESS, "remove.<status>.batch", STATUS, K(NONNEG), D(0),          \
      DIST | LISTED, NOWHERE, "importers", "importers removed per batch (rounded)")           \
    X(LIST_START, LIST_PROCESS, "start", SCALAR, K(MONTH), NODEF, 0, NOWHERE, "YYYY-MM",        \
      "month the random list process starts (default month 0)")                                     \
    /* [YYYY-MM]: keys only an event takes (any lever marked EV as well) */                         \
    X(CONTROLLED_ADD, EVENT, "controlled.add", SCALAR, K(ELEMENTS), NODEF, EV,        \
      NOWHERE, "", "elements that start to need a licence")                                         \
    X(CONTROLLED_REMOVE, EVENT, "controlled.remove", SCALAR, K(ELEMENTS), NODEF, EV,  \
      NOWHERE, "", "elements that no longer need a licence")                                        \
    X(LIST_ADD, EVENT, "list.add.<status>", STATUS, K(COUNT), NODEF,                  \
      EV | DIST | LISTED, NOWHERE, "importers",                                                     \
      "the N most exposed importers not on the list move to it")                                    \
    X(LIST_REMOVE, EVENT, "list.remove.<status>", STATUS, K(COUNT), NODEF,            \
      EV | DIST | LISTED, NOWHERE, "importers",                                                     \
      "the N least exposed importers on the list move to none")                                     \
    X(LIST_SET, EVENT, "list.set", SCALAR, K(ASSIGN), NODEF, EV, NOWHERE, "",         \
      "named importers move to a status (id:status, ...)")                                          \
    X(SOURCE, EVENT, "source", SCALAR, K(TEXT), NODEF, EV, NOWHERE, "",               \
      "where the event comes from (copied into the sidecar's timeline)")

#define RESIM_LEVER_ENUM(id, ...) RESIM_LEVER_##id,
typedef enum { RESIM_LEVER_LIST(RESIM_LEVER_ENUM) RESIM_NLEVERS } resim_lever_id;
#undef RESIM_LEVER_ENUM

/* Where a lever lives in resim_levers when the scenario keeps it elsewhere. */
#define RESIM_LEVER_NOWHERE ((size_t)-1)

/* One line of the table. */
typedef struct resim_lever {
    resim_lever_id id;
    const char *name;          /* the id as text, e.g. "APPROVAL" */
    const resim_section *section; /* its section; RESIM_SECTION_EVENT for event-only keys */
    const char *key;           /* with placeholders, e.g. "approval.<status>" */
    resim_lever_shape shape;
    resim_lever_kind kind;
    double lo, hi;             /* valid range of a numeric kind; open bounds are the
                                  next double inside (growth: just above -1) */
    double def[RESIM_NSTATUSES]; /* default; by status for status-shaped levers,
                                    else def[0]; NaN when FROM_DATA or none */
    unsigned flags;            /* RESIM_LEVER_EVENT, ... */
    size_t offset;             /* of its field in resim_levers, or RESIM_LEVER_NOWHERE */
    const char *unit;          /* "" when it has none */
    const char *help;          /* one line */
} resim_lever;

/* Number of lines in the table, and line i (NULL past the end), in table order. */
size_t resim_lever_count(void);
const resim_lever *resim_lever_at(size_t i);
/* The line of an id. */
const resim_lever *resim_lever_get(resim_lever_id id);

/* A key found in the table: the lever and its indices. */
#define RESIM_LEVER_ALL (-1) /* element index of a bare key that sets every element */
typedef struct resim_lever_ref {
    resim_lever_id id;
    int status;  /* <status>, or -1 */
    int element; /* <El> in the element table, RESIM_LEVER_ALL, or -1 */
    int source;  /* <source> in the data's sources, or -1 */
} resim_lever_ref;

/* What resim_lever_find found. */
enum {
    RESIM_LEVER_FOUND = 0,
    RESIM_LEVER_UNKNOWN_KEY = -1,   /* no key of the section reads like this */
    RESIM_LEVER_UNKNOWN_INDEX = 1   /* a key with an element or source the data lacks */
};

/*
 * Finds section/key in the table. section is a section name or an event
 * section YYYY-MM; an event key may carry its section (alt.capacity_factor)
 * or not (approval.watch) and finds only levers an event may set. Returns
 * RESIM_LEVER_FOUND (and fills *out when out is not NULL),
 * RESIM_LEVER_UNKNOWN_KEY or RESIM_LEVER_UNKNOWN_INDEX. Says nothing about
 * the value: resim_lever_parse does.
 */
int resim_lever_find(const resim_data *d, const char *section, const char *key,
                     resim_lever_ref *out);

/*
 * Records the error of a failed resim_lever_find on entry e ("[section]
 * key: unknown key" or "...: unknown element or source in key") and
 * returns its status (RESIM_EINVAL).
 */
int resim_lever_find_error(const resim_ini_entry *e, int found, resim_error *err);

/*
 * Parses the value of entry e for a numeric lever (every kind but ELEMENTS,
 * ASSIGN and TEXT) and checks it against the lever's kind and range; a
 * MONTH becomes months since `start` (year*12 + month-1). Errors name file,
 * line, section and key. COUNT values are not rounded here.
 */
int resim_lever_parse(const resim_lever *lv, const resim_ini_entry *e, int start, double *out,
                      resim_error *err);

/* Whether a kind takes a number (a distribution needs one, and so does a sweep). */
int resim_lever_numeric(resim_lever_kind kind);

/*
 * The value ref names in lv, for a numeric lever kept in resim_levers (the
 * element must not be RESIM_LEVER_ALL); and the store of a value into it
 * (into every element for RESIM_LEVER_ALL).
 */
double resim_lever_value(const resim_levers *lv, const resim_lever_ref *ref);
void resim_lever_store(resim_levers *lv, const resim_lever_ref *ref, double v);

/*
 * Whether section/key may take a distribution in an ensemble (a numeric
 * lever flagged RESIM_LEVER_DIST), and its valid range [lo, hi]. Returns 0
 * if so, -1 if the key is unknown, not numeric or takes no distribution.
 */
int resim_key_range(const resim_data *d, const char *section, const char *key, double *lo,
                    double *hi);

/*
 * Section names the table knows, in table order (event sections not
 * included): "scenario", "policy", ... Fills up to max names and returns
 * how many there are. With deterministic_only, leaves out the sections
 * only ensembles read (RESIM_SECTION_ENSEMBLE_ONLY).
 */
size_t resim_lever_sections(const char **names, size_t max, int deterministic_only);

/* Whether name is one of those sections (not an event section). */
int resim_lever_section_known(const char *name, int deterministic_only);

/* Writes "scenario, policy, ... or a month YYYY-MM": the sections a file
 * may hold, for error messages. */
void resim_lever_section_list(char *buf, size_t size, int deterministic_only);

#endif

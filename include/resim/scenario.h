/*
 * scenario.h - a scenario as the engine sees it: the data tables, the raw
 * INI entries (with command-line overrides) and the resolved scenario
 * (initial levers plus a timeline of dated events).
 *
 * The three layers are kept apart so that a sweep or an ensemble can change
 * one raw entry and resolve again without reading any file.
 */
#ifndef RESIM_SCENARIO_H
#define RESIM_SCENARIO_H

#include <stddef.h>

#include "resim/error.h"

#define RESIM_MAX_ELEMENTS 32 /* rows of the element table */
#define RESIM_MAX_SOURCES 64  /* rows of the alternative-source table */
#define RESIM_PATH_MAX 1024

/* Days in one model month (MODEL.md section 0). */
#define RESIM_MONTH_DAYS (365.25 / 12.0)

/* List status of an importer. */
typedef enum { RESIM_NONE = 0, RESIM_WATCH = 1, RESIM_CONTROL = 2, RESIM_NSTATUSES = 3 } resim_list_status;

extern const char *const resim_status_names[RESIM_NSTATUSES]; /* "none", "watch", "control" */

/* Receives a warning (an ignored event, a list move asked for more than there are). */
typedef void (*resim_warn_fn)(void *ctx, const char *msg);

/* ---------------------------------------------------------------- data */

/* Data files read from a scenario's data directory. */
enum { RESIM_FILE_ELEMENTS, RESIM_FILE_DEMAND, RESIM_FILE_IMPORTERS, RESIM_FILE_SOURCES,
       RESIM_FILE_STOCKPILE, RESIM_NFILES };
extern const char *const resim_data_file_names[RESIM_NFILES];

/* Fields of an alternative source; the same names are scenario keys. */
typedef struct resim_source_levers {
    double capacity_factor; /* multiplies capacity_tpy */
    double delay_months;    /* added to the start month */
    double capacity_tpy;    /* t REO per year at full rate */
    double start;           /* first month of output, model month (data: YYYY-MM) */
    double ramp_months;     /* months from start to full rate */
    double growth;          /* fraction per year after the ramp */
    double japan_share;     /* share of output available to Japan */
} resim_source_levers;

typedef struct resim_data {
    char dir[RESIM_PATH_MAX];
    char path[RESIM_NFILES][RESIM_PATH_MAX];

    size_t n_elements;                  /* element table */
    char symbol[RESIM_MAX_ELEMENTS][4];
    unsigned char licensed[RESIM_MAX_ELEMENTS];

    unsigned char has_demand[RESIM_MAX_ELEMENTS]; /* demand table, by element */
    double base_tpy[RESIM_MAX_ELEMENTS], growth[RESIM_MAX_ELEMENTS];

    unsigned char has_stock[RESIM_MAX_ELEMENTS]; /* stockpile table, by element */
    double stock_tonnes[RESIM_MAX_ELEMENTS], stock_release_max[RESIM_MAX_ELEMENTS];

    size_t n_sources;                   /* alternative sources */
    char source_id[RESIM_MAX_SOURCES][48];
    size_t source_element[RESIM_MAX_SOURCES];
    int source_start[RESIM_MAX_SOURCES]; /* calendar month, year*12 + month-1 */
    resim_source_levers source[RESIM_MAX_SOURCES];

    size_t n_importers;                 /* importer table */
    char **importer_id;                 /* [n_importers] */
    unsigned char *status0;             /* initial list status */
    double *exposure, *military, *cover;
    unsigned char has_share[RESIM_MAX_ELEMENTS];
    double *share;                      /* [RESIM_MAX_ELEMENTS][n_importers] */
    char sha256[RESIM_NFILES][65];      /* hex SHA-256 of the bytes parsed */
} resim_data;

/* Reads the five tables of a data directory. On failure frees what it took. */
int resim_data_load(resim_data *d, const char *dir, resim_error *err);
void resim_data_free(resim_data *d); /* accepts a zeroed or freed record */

/* Index of an element symbol in the element table, or -1. */
int resim_data_element(const resim_data *d, const char *symbol);

/* ---------------------------------------------------------------- INI */

typedef struct resim_ini_entry {
    char *section, *key, *value;
    const char *file; /* the INI path, or "--set" */
    long line;        /* 0 for --set */
} resim_ini_entry;

typedef struct resim_ini {
    char path[RESIM_PATH_MAX];
    resim_ini_entry *v;
    size_t n, cap;
    char **sections; /* section names in file order, for the empty ones too */
    size_t n_sections;
    char sha256[65]; /* hex SHA-256 of the bytes parsed, "" when not read from a file */
} resim_ini;

/* Reads an INI file into entries, keeping file and line of each. */
int resim_ini_read(resim_ini *ini, const char *path, resim_error *err);
/* Applies SECTION.KEY=VALUE: replaces the entry or appends one. */
int resim_ini_set(resim_ini *ini, const char *assignment, resim_error *err);
/* Sets section/key to value (replacing or appending), with the given origin. */
int resim_ini_put(resim_ini *ini, const char *section, const char *key, const char *value,
                  const char *file, long line, resim_error *err);
/* The entry for section/key, or NULL. */
const resim_ini_entry *resim_ini_get(const resim_ini *ini, const char *section, const char *key);
/* Appends an entry / records a section name (used by the INI reader). */
int resim_ini_append(resim_ini *ini, const char *section, const char *key, const char *value,
                     const char *file, long line);
int resim_ini_add_section(resim_ini *ini, const char *section);
/* Deep copy (for sweeps and ensembles that change values). */
int resim_ini_copy(resim_ini *dst, const resim_ini *src, resim_error *err);
void resim_ini_free(resim_ini *ini);

/* ---------------------------------------------------------------- scenario */

/* Levers and lever-like state: everything an event can change. */
typedef struct resim_levers {
    double approval[RESIM_NSTATUSES];
    double delay_mean_days[RESIM_NSTATUSES];
    double delay_cv[RESIM_NSTATUSES];
    double military_ban;
    double base_tpy[RESIM_MAX_ELEMENTS], growth[RESIM_MAX_ELEMENTS];
    double alt_capacity_factor, alt_delay_months;
    resim_source_levers source[RESIM_MAX_SOURCES];
    double stock_enabled, stock_trigger;
    double stock_tonnes[RESIM_MAX_ELEMENTS]; /* the holding; releases draw it down */
    double stock_release_max[RESIM_MAX_ELEMENTS];
    unsigned char controlled[RESIM_MAX_ELEMENTS];
} resim_levers;

typedef enum {
    RESIM_EV_SET,              /* a numeric lever takes a value */
    RESIM_EV_CONTROLLED,       /* the controlled set is replaced */
    RESIM_EV_CONTROLLED_ADD,
    RESIM_EV_CONTROLLED_REMOVE,
    RESIM_EV_LIST_ADD,         /* list.add.<status> = N */
    RESIM_EV_LIST_REMOVE,      /* list.remove.<status> = N */
    RESIM_EV_LIST_SET          /* list.set = id:status,... */
} resim_event_kind;

typedef struct resim_event {
    int month;           /* model month it takes effect in */
    int date;            /* calendar month as written, year*12 + month-1 */
    resim_event_kind kind;
    size_t offset;       /* RESIM_EV_SET: byte offset of the double in resim_levers */
    double value;        /* RESIM_EV_SET value; list moves: the count */
    int status;          /* list moves: which list */
    unsigned char elements[RESIM_MAX_ELEMENTS]; /* controlled*: mask by element-table index */
    size_t set_first, set_count; /* RESIM_EV_LIST_SET: range in list_set */
    const resim_ini_entry *entry; /* the INI entry it came from */
    const char *source;  /* the section's `source =`, or NULL */
} resim_event;

typedef struct resim_list_assign {
    size_t importer;
    int status;
} resim_list_assign;

/*
 * A resolved scenario. It points into the resim_ini and resim_data it was
 * resolved from, which must outlive it.
 */
typedef struct resim_scenario {
    const resim_ini *ini;
    const resim_data *data;
    char name[128];
    int start;           /* calendar month of model month 0, year*12 + month-1 */
    int months;          /* T */
    int warmup;          /* W */
    int transit;         /* L */
    double adjust;       /* tau, months */

    size_t n_elements;   /* scenario elements, in scenario order */
    size_t element[RESIM_MAX_ELEMENTS]; /* index into the element table */

    size_t n_importers;
    double *share;       /* [n_elements][n_importers], owned */

    size_t n_sources;    /* sources supplying a scenario element */
    size_t source[RESIM_MAX_SOURCES];      /* index into the data's sources */
    size_t source_element[RESIM_MAX_SOURCES]; /* scenario element index */

    resim_levers initial;   /* levers in force before any event; source
                               fields indexed like the data's sources */
    resim_event *events;    /* sorted by month, stable; owned */
    size_t n_events;
    resim_list_assign *list_set; /* owned */
    size_t n_list_set;

    /* Stochastic mode only (MODEL.md section 8). */
    double lot_tonnes[RESIM_MAX_ELEMENTS]; /* [stochastic] lot size, by element */
    int has_list_process;                  /* a [list_process] section was given */
    double list_rate[2][RESIM_NSTATUSES];  /* [list_process] batches per year: [0] add, [1] remove */
    double list_batch[2][RESIM_NSTATUSES]; /* importers per batch */
    int list_start;                        /* model month the process starts */
} resim_scenario;

/* Default lot size of an application in the stochastic mode, t. */
#define RESIM_DEFAULT_LOT_TONNES 1.0

/*
 * Resolves raw entries against the data into a scenario. Unknown sections
 * or keys, bad values and unknown elements or importers are errors naming
 * file, line and key. Events after the horizon are dropped with a warning.
 */
int resim_scenario_resolve(resim_scenario *sc, const resim_ini *ini, const resim_data *data,
                           resim_warn_fn warn, void *ctx, resim_error *err);
void resim_scenario_free(resim_scenario *sc); /* accepts a zeroed record */

/*
 * Whether section/key is a numeric key that may take a distribution in an
 * ensemble, and its valid range [lo, hi]. Returns 0 if so, -1 if the key is
 * not numeric (text, lists, dates, switches) or unknown.
 */
int resim_key_range(const resim_data *d, const char *section, const char *key, double *lo,
                    double *hi);

/* Data directory named by an INI (its `data` key, relative to the INI file). */
void resim_scenario_data_dir(const resim_ini *ini, char *out, size_t size);

/* Calendar month "YYYY-MM" <-> year*12 + month-1; parse returns 0 on success. */
int resim_date_parse(const char *s, int *out);
void resim_date_format(int ym, char out[8]);

/* The symbol of scenario element e. */
const char *resim_scenario_symbol(const resim_scenario *sc, size_t e);

/* ---------------------------------------------------------------- reports */

/* Receives one resolved lever as a key (SECTION.KEY) and its value as text. */
typedef void (*resim_lever_fn)(void *ctx, const char *key, const char *value);

/*
 * Calls fn for every lever of lv that concerns sc's elements and sources,
 * in a fixed order: policy, demand, alt, stockpile. Numbers are written as
 * in the CSV output; source start months as YYYY-MM.
 */
void resim_levers_each(const resim_scenario *sc, const resim_levers *lv, resim_lever_fn fn,
                       void *ctx);

#endif

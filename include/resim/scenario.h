/*
 * scenario.h - the resolved scenario: the raw entries (ini.h) checked
 * against the data tables (data.h) into the levers in force at the start
 * and a timeline of dated events.
 *
 * The layers are kept apart so that a sweep or an ensemble can change one
 * raw entry and resolve again without reading any file.
 */
#ifndef RESIM_SCENARIO_H
#define RESIM_SCENARIO_H

#include <stddef.h>

#include "resim/data.h"
#include "resim/error.h"
#include "resim/ini.h"
#include "resim/lever.h"

/* Receives a warning (an ignored event, a list move asked for more than there are). */
typedef void (*resim_warn_fn)(void *ctx, const char *msg);

/* ---------------------------------------------------------------- scenario */

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
    resim_lever_ref lever; /* the key's lever and its indices */
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
    double precaution_adjust; /* pi, months (docs/model.md section 10) */

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

    /* Stochastic mode only (docs/model.md section 8). */
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

/* Data directory named by an INI (its `data` key, relative to the INI file). */
void resim_scenario_data_dir(const resim_ini *ini, char *out, size_t size);

/* The symbol of scenario element e. */
const char *resim_scenario_symbol(const resim_scenario *sc, size_t e);

/* ---------------------------------------------------------------- reports */

/* Receives one resolved lever as a key (SECTION.KEY) and its value as text. */
typedef void (*resim_lever_fn)(void *ctx, const char *key, const char *value);

/*
 * Calls fn for every lever of lv that concerns sc's elements and sources,
 * in a fixed order: policy, demand, alt, stockpile, substitution. Numbers are written as
 * in the CSV output; source start months as YYYY-MM.
 */
void resim_levers_each(const resim_scenario *sc, const resim_levers *lv, resim_lever_fn fn,
                       void *ctx);

#endif

/*
 * data.h - the data tables of a scenario's data directory (elements,
 * demand, importers, alternative sources, national stockpile) as one
 * record, and the names shared with it (list statuses, table files).
 *
 * Ownership: resim_data_load (in the I/O library, sim/io/data.c) fills a
 * caller-owned record and resim_data_free releases what it allocated; the
 * lookups here (sim/core/data.c) are pure and link with the core alone.
 */
#ifndef RESIM_DATA_H
#define RESIM_DATA_H

#include <stddef.h>

#include "resim/error.h"

#define RESIM_MAX_ELEMENTS 32 /* rows of the element table */
#define RESIM_MAX_SOURCES 64  /* rows of the alternative-source table */
#define RESIM_PATH_MAX 1024

/* Days in one model month (docs/model.md, units). */
#define RESIM_MONTH_DAYS (365.25 / 12.0)

/* List status of an importer. */
typedef enum { RESIM_NONE = 0, RESIM_WATCH = 1, RESIM_CONTROL = 2, RESIM_NSTATUSES = 3 } resim_list_status;

extern const char *const resim_status_names[RESIM_NSTATUSES]; /* "none", "watch", "control" */

/* The status named s ("none", "watch", "control"), or -1. */
int resim_status_of(const char *s);

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

/* Reads the five tables of a data directory. On failure frees what it took.
 * Defined in the I/O library. */
int resim_data_load(resim_data *d, const char *dir, resim_error *err);
/* Frees what resim_data_load allocated; accepts a zeroed or freed record. */
void resim_data_free(resim_data *d);

/* Index of an element symbol in the element table, or -1. */
int resim_data_element(const resim_data *d, const char *symbol);
/* Index of an alternative source id, or -1. */
int resim_data_source(const resim_data *d, const char *id);

/* Calendar month "YYYY-MM" <-> year*12 + month-1; parse returns 0 on success. */
int resim_date_parse(const char *s, int *out);
void resim_date_format(int ym, char out[8]);

#endif

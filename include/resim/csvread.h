/*
 * csvread.h - CSV input through libcsv, with the line number of every row so
 * that errors can name file, line and field.
 */
#ifndef RESIM_CSVREAD_H
#define RESIM_CSVREAD_H

#include <stddef.h>

#include "resim/error.h"
#include "resim/number.h" /* resim_parse_double, used with tables */

/*
 * Called once per row with its fields (NUL-terminated, owned by the reader,
 * valid during the call) and the line the row starts on. Returns RESIM_OK to
 * go on; anything else stops reading and is returned by resim_csv_stream.
 */
typedef int (*resim_csv_row_fn)(void *ctx, char **fields, size_t n, long line, resim_error *err);

/*
 * Streams a CSV file row by row (the header is the first row). A UTF-8
 * byte-order mark at the start is skipped; a NUL byte is an error naming
 * its line.
 */
int resim_csv_stream(const char *path, resim_csv_row_fn fn, void *ctx, resim_error *err);
/* As resim_csv_stream, and gives the hex SHA-256 of the bytes read (sha256 may be NULL). */
int resim_csv_stream_hash(const char *path, resim_csv_row_fn fn, void *ctx, char sha256[65],
                          resim_error *err);

/* A whole small CSV file in memory: a header and rows of equal length. */
typedef struct resim_table {
    char path[1024];
    size_t ncol, nrow;
    char **header; /* [ncol] */
    char **cell;   /* [nrow][ncol] */
    long *line;    /* [nrow] line each row starts on */
    char sha256[65]; /* hex SHA-256 of the bytes read */
} resim_table;

/* Reads a table; a row whose field count differs from the header's is an error. */
int resim_table_read(resim_table *t, const char *path, resim_error *err);
void resim_table_free(resim_table *t); /* accepts a zeroed record */

/* Column index of a header name, or -1. */
int resim_table_col(const resim_table *t, const char *name);
/* Like resim_table_col, but a missing column is an error naming the file. */
int resim_table_need(const resim_table *t, const char *name, int *col, resim_error *err);
static inline const char *resim_table_at(const resim_table *t, size_t row, size_t col)
{
    return t->cell[row * t->ncol + col];
}

/*
 * Parses a whole field as a finite number in [lo, hi]; errors name the
 * file, line and column.
 */
int resim_table_number(const resim_table *t, size_t row, const char *col, double lo, double hi,
                       double *out, resim_error *err);

#endif

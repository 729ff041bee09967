/*
 * csvout.h - output files written whole or not at all, and CSV fields.
 *
 * A named output is written to a temporary file beside it and renamed over
 * it only when complete, so a killed run never leaves a torn file.
 */
#ifndef RESIM_CSVOUT_H
#define RESIM_CSVOUT_H

#include <stdio.h>

#include "resim/error.h"

typedef struct resim_out {
    FILE *fp;            /* write here */
    char path[1024];     /* final name, or "" for stdout */
    char tmp[1100];      /* temporary name while writing */
} resim_out;

/* Opens path for writing through a temporary file; NULL or "-" is stdout. */
int resim_out_open(resim_out *o, const char *path, resim_error *err);
/* Flushes, syncs and renames the temporary file into place. */
int resim_out_commit(resim_out *o, resim_error *err);
/* Closes and removes the temporary file (safe after commit, and twice). */
void resim_out_abort(resim_out *o);

/* Writes a text field, quoted by libcsv only when it holds , " CR or LF. */
void resim_csv_text(FILE *fp, const char *s);
/* Writes a number with 17 significant digits (reads back exactly), always with a
 * decimal point or exponent ("3.0", not "3"); NaN is an empty field. */
void resim_csv_number(FILE *fp, double v);
/* Formats a number as resim_csv_number does; returns the length. */
int resim_format_number(char *buf, size_t size, double v);

/*
 * Formats a number in the fewest of 15, 16 or 17 significant digits that
 * read back exactly ("0.2", not "0.20000000000000001"), for values people
 * typed or chose (design points, levers); slower than resim_format_number.
 */
int resim_format_short(char *buf, size_t size, double v);

#endif

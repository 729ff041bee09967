/*
 * rows.h - CSV rows of the command line (private): the monthly rows of run
 * and ensemble replicates, and a growing text buffer that sweep rows are
 * built in before they are written or sent to another rank.
 */
#ifndef RESIM_CLI_ROWS_H
#define RESIM_CLI_ROWS_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "resim/model.h"
#include "resim/scenario.h"

/* Writes a CSV header / one month's rows of a run; replicate < 0 leaves the
 * replicate column out. */
void cli_write_header(FILE *fp, int with_replicate);
void cli_write_month(FILE *fp, const resim_scenario *sc, resim_grouping by, size_t G, int t,
                     const double *out, long replicate);
/* The group column of group g: all, a status or an importer id. */
const char *cli_group_name(const resim_scenario *sc, resim_grouping by, size_t g);

/* A text buffer that grows; p is NUL-terminated, n its length. Owned by the
 * caller, who frees p. The appenders return 0, or -1 when out of memory. */
typedef struct cli_sbuf {
    char *p;
    size_t n, cap;
} cli_sbuf;

/* Makes room for n more bytes and the NUL; 0 or -1. */
int cli_sb_grow(cli_sbuf *b, size_t n);

static inline int cli_sb_put(cli_sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap && cli_sb_grow(b, n) != 0)
        return -1;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

int cli_sb_str(cli_sbuf *b, const char *s);
/* A CSV text field (quoted only when needed). */
int cli_sb_text(cli_sbuf *b, const char *s);
/* A number as resim_csv_number writes it. */
int cli_sb_number(cli_sbuf *b, double v);
/* A month number, or an empty field for -1 (never). */
int cli_sb_month(cli_sbuf *b, int m);

#endif

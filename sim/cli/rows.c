/*
 * rows.c - CSV rows of the command line: the monthly rows of run and
 * ensemble replicates, and the growing text buffer sweep rows are built in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "resim/csvout.h"

void cli_write_header(FILE *fp, int with_replicate)
{
    fputs(with_replicate ? "scenario,replicate,date,month,element,group"
                         : "scenario,date,month,element,group", fp);
    for (int k = 0; k < RESIM_NMETRICS; k++)
        fprintf(fp, ",%s", resim_metric_names[k]);
    fputc('\n', fp);
}

const char *cli_group_name(const resim_scenario *sc, resim_grouping by, size_t g)
{
    if (g == 0)
        return "all";
    if (by == RESIM_BY_STATUS)
        return resim_status_names[g - 1];
    return sc->data->importer_id[g - 1];
}

void cli_write_month(FILE *fp, const resim_scenario *sc, resim_grouping by, size_t G, int t,
                     const double *out, long replicate)
{
    char date[8];
    resim_date_format(sc->start + t, date);
    for (size_t e = 0; e < sc->n_elements; e++)
        for (size_t g = 0; g < G; g++) {
            const double *row = out + (e * G + g) * RESIM_NMETRICS;
            resim_csv_text(fp, sc->name);
            if (replicate >= 0)
                fprintf(fp, ",%ld", replicate);
            fprintf(fp, ",%s,%d,%s,", date, t, resim_scenario_symbol(sc, e));
            resim_csv_text(fp, cli_group_name(sc, by, g));
            for (int k = 0; k < RESIM_NMETRICS; k++) {
                fputc(',', fp);
                resim_csv_number(fp, row[k]);
            }
            fputc('\n', fp);
        }
}


/* ------------------------------------------------------------ text buffer */

int cli_sb_grow(cli_sbuf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int cli_sb_str(cli_sbuf *b, const char *s) { return cli_sb_put(b, s, strlen(s)); }

/* Appends a CSV text field (quoted only when needed). */
int cli_sb_text(cli_sbuf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL)
        return cli_sb_str(b, s);
    int rc = cli_sb_put(b, "\"", 1);
    for (const char *c = s; *c != '\0' && rc == 0; c++)
        rc = *c == '"' ? cli_sb_put(b, "\"\"", 2) : cli_sb_put(b, c, 1);
    return rc != 0 ? rc : cli_sb_put(b, "\"", 1);
}

int cli_sb_number(cli_sbuf *b, double v)
{
    char buf[40];
    int n = resim_format_number(buf, sizeof buf, v);
    return cli_sb_put(b, buf, (size_t)n);
}

/* A month number, or an empty field for -1 (never). */
int cli_sb_month(cli_sbuf *b, int m)
{
    char buf[24];
    if (m < 0)
        return 0;
    int n = snprintf(buf, sizeof buf, "%d", m);
    return cli_sb_put(b, buf, (size_t)n);
}


/* data.c - pure lookups in the data tables: statuses, elements, sources and calendar months. */
#include "resim/data.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const char *const resim_status_names[RESIM_NSTATUSES] = {"none", "watch", "control"};

const char *const resim_data_file_names[RESIM_NFILES] = {
    "elements.csv", "demand.csv", "importers.csv", "alt_sources.csv", "stockpile.csv"};

int resim_status_of(const char *s)
{
    for (int k = 0; k < RESIM_NSTATUSES; k++)
        if (strcmp(s, resim_status_names[k]) == 0)
            return k;
    return -1;
}

int resim_data_element(const resim_data *d, const char *symbol)
{
    for (size_t e = 0; e < d->n_elements; e++)
        if (strcmp(d->symbol[e], symbol) == 0)
            return (int)e;
    return -1;
}

int resim_data_source(const resim_data *d, const char *id)
{
    for (size_t j = 0; j < d->n_sources; j++)
        if (strcmp(d->source_id[j], id) == 0)
            return (int)j;
    return -1;
}

int resim_date_parse(const char *s, int *out)
{
    if (strlen(s) != 7 || s[4] != '-')
        return -1;
    for (int i = 0; i < 7; i++)
        if (i != 4 && !isdigit((unsigned char)s[i]))
            return -1;
    int year = atoi(s), month = atoi(s + 5);
    if (month < 1 || month > 12)
        return -1;
    *out = year * 12 + month - 1;
    return 0;
}

void resim_date_format(int ym, char out[8])
{
    int year = ym / 12 % 10000, month = ym % 12 + 1;
    if (year < 0 || month < 1) {
        year = 0;
        month = 1;
    }
    out[0] = (char)('0' + year / 1000);
    out[1] = (char)('0' + year / 100 % 10);
    out[2] = (char)('0' + year / 10 % 10);
    out[3] = (char)('0' + year % 10);
    out[4] = '-';
    out[5] = (char)('0' + month / 10);
    out[6] = (char)('0' + month % 10);
    out[7] = '\0';
}

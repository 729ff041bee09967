/* csvout.c - atomic output files and CSV fields through libcsv. */
#include "resim/csvout.h"

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int resim_out_open(resim_out *o, const char *path, resim_error *err)
{
    memset(o, 0, sizeof *o);
    if (path == NULL || strcmp(path, "-") == 0) {
        o->fp = stdout;
        return RESIM_OK;
    }
    if (strlen(path) >= sizeof o->path)
        return resim_error_set(err, RESIM_EIO, path, 0, "path too long");
    strcpy(o->path, path);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        o->tmp[0] = '\0';
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot create output file");
    }
    if ((o->fp = fdopen(fd, "w")) == NULL) {
        close(fd);
        unlink(o->tmp);
        o->tmp[0] = '\0';
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot open output file");
    }
    return RESIM_OK;
}

int resim_out_commit(resim_out *o, resim_error *err)
{
    if (o->fp == stdout) {
        o->fp = NULL;
        if (fflush(stdout) != 0 || ferror(stdout))
            return resim_error_set(err, RESIM_EIO, "stdout", 0, "write error");
        return RESIM_OK;
    }
    int bad = fflush(o->fp) != 0 || ferror(o->fp) || fsync(fileno(o->fp)) != 0;
    bad |= fclose(o->fp) != 0;
    o->fp = NULL;
    if (bad || rename(o->tmp, o->path) != 0) {
        unlink(o->tmp);
        o->tmp[0] = '\0';
        return resim_error_set(err, RESIM_EIO, o->path, 0, "write error");
    }
    o->tmp[0] = '\0';
    return RESIM_OK;
}

void resim_out_abort(resim_out *o)
{
    if (o->fp != NULL && o->fp != stdout)
        fclose(o->fp);
    o->fp = NULL;
    if (o->tmp[0] != '\0')
        unlink(o->tmp);
    o->tmp[0] = '\0';
}

void resim_csv_text(FILE *fp, const char *s)
{
    if (strpbrk(s, ",\"\r\n") != NULL)
        csv_fwrite(fp, s, strlen(s));
    else
        fputs(s, fp);
}

/* Whole numbers keep a decimal point, so every reader types the column as real. */
static int real_point(char *buf, size_t size, int n)
{
    if (n > 0 && (size_t)n + 2 < size && strpbrk(buf, ".eni") == NULL) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    return n;
}

int resim_format_number(char *buf, size_t size, double v)
{
    if (isnan(v)) {
        buf[0] = '\0';
        return 0;
    }
    if (v == 0)
        v = 0; /* no "-0" */
    /* 17 significant digits read back exactly (a shortest-form search costs
     * four times as much, and output is a large part of a big run). */
    return real_point(buf, size, snprintf(buf, size, "%.17g", v));
}

int resim_format_short(char *buf, size_t size, double v)
{
    if (isnan(v)) {
        buf[0] = '\0';
        return 0;
    }
    if (v == 0)
        v = 0;
    /* The fewest of 15, 16 or 17 significant digits that read back exactly. */
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return real_point(buf, size, n);
}

void resim_csv_number(FILE *fp, double v)
{
    char buf[32];
    resim_format_number(buf, sizeof buf, v);
    fputs(buf, fp);
}

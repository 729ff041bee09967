/*
 * csvout.h - output files written whole or not at all, and CSV fields.
 *
 * A named output is written as coreutils writes one: to a temporary file
 * beside it (FILE.tmp.XXXXXX, created exclusively with mode 0666 so the
 * umask applies), flushed, synced and renamed over FILE only when complete,
 * so a killed run never leaves a torn file. Character devices, FIFOs and
 * the descriptor aliases /dev/stdout, /dev/stderr, /dev/fd/N are written
 * directly, never replaced. A symbolic link is followed: the file it names
 * is replaced (by a rename in that file's directory) and the link kept; a
 * link to nothing is refused. SIGINT, SIGTERM and SIGHUP remove every
 * temporary file still open, then end the process as the signal would.
 *
 * An output "prepared" rather than committed waits for the next sidecar
 * (sidecar.h) to be committed, and the two are renamed into place together:
 * both or neither.
 */
#ifndef RESIM_CSVOUT_H
#define RESIM_CSVOUT_H

#include <stdio.h>

#include "resim/error.h"

/* How an output reaches its target. */
enum { RESIM_OUT_NONE, RESIM_OUT_STDOUT, RESIM_OUT_FILE, RESIM_OUT_DIRECT, RESIM_OUT_MEMORY };

typedef struct resim_out {
    FILE *fp;            /* write here */
    char path[1100];     /* final name (a followed link resolved), or "" for stdout */
    char tmp[1100];      /* temporary name while writing, "" when none */
    int kind;            /* RESIM_OUT_* */
    int held;            /* prepared: renamed by the next sidecar commit */
    int discard;         /* a sidecar whose output is a device: checked, not written */
    char *mem;           /* RESIM_OUT_MEMORY: the text written (a sidecar) */
    size_t mem_len;
} resim_out;

/*
 * Opens path for writing (through a temporary file for a regular file);
 * NULL or "-" is stdout. Errors name the path and the reason.
 */
int resim_out_open(resim_out *o, const char *path, resim_error *err);
/* Flushes, syncs and renames the temporary file into place. */
int resim_out_commit(resim_out *o, resim_error *err);
/*
 * Flushes, syncs and closes the temporary file but leaves it unrenamed: the
 * next commit of a sidecar renames it together with the sidecar. For stdout
 * and devices this is resim_out_commit.
 */
int resim_out_prepare(resim_out *o, resim_error *err);
/* Closes and removes the temporary file (safe after commit, and twice). */
void resim_out_abort(resim_out *o);
/* 1 if path names a device, FIFO or descriptor alias written directly. */
int resim_out_is_direct(const char *path);

/*
 * Files appended to by long jobs (a sweep's FILE.partial). Creates path
 * exclusively, never through a symbolic link (O_EXCL|O_NOFOLLOW, mode 0666
 * under the umask), and holds an advisory write lock (fcntl) on it while the
 * process lives, so a second sweep to the same output is refused (EBUSY); a
 * regular file left there by an earlier run is replaced, a link or anything
 * else is refused. When path ends in ".partial", the final name
 * without it must not be a device, FIFO or directory. Returns NULL with
 * errno set on failure.
 */
FILE *resim_partial_create(const char *path);
/* The reason a partial-file function failed, for its errno. */
const char *resim_partial_strerror(int errnum);
/* Opens an existing partial file for resuming ("r+"), never through a link,
 * and locks it as resim_partial_create does. */
FILE *resim_partial_reopen(const char *path);
/*
 * Renames a finished partial file to its final name when the next sidecar
 * is committed (both or neither; on failure the partial file is kept).
 * Returns 0, or -1 with errno set.
 */
int resim_partial_hold(const char *partial, const char *path);

/*
 * Scratch files: creates "BASE.SUFFIX.XXXXXX" exclusively (mode 0666 under
 * the umask) and registers it for removal on SIGINT/SIGTERM/SIGHUP; name
 * receives the name. Returns a descriptor, or -1 with errno set.
 */
int resim_temp_create(const char *base, const char *suffix, char *name, size_t size);
/* Removes a scratch file made by resim_temp_create and clears name. */
void resim_temp_remove(char *name);

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

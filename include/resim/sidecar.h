/*
 * sidecar.h - run metadata beside an output file (FILE.json), so that the
 * CSV itself stays plain for pandas, R and gnuplot.
 */
#ifndef RESIM_SIDECAR_H
#define RESIM_SIDECAR_H

#include <stdio.h>

#include "resim/csvout.h"
#include "resim/error.h"
#include "resim/scenario.h"

/* Hex SHA-256 of a file's bytes. */
int resim_sha256_file(const char *path, char hex[65], resim_error *err);
/* Hex SHA-256 of n bytes in memory. */
void resim_sha256_hex(const void *data, size_t n, char hex[65]);

/* Writes s as a JSON string literal (through jansson); each byte that is not
 * valid UTF-8 becomes U+FFFD. */
void resim_json_string(FILE *fp, const char *s);

/*
 * Writes the members every sidecar shares, as `"key": value,` lines inside
 * an object the caller opened: version, command line, scenario path and
 * hash, data file hashes, the resolved levers at the start and the event
 * timeline.
 */
int resim_sidecar_common(FILE *fp, const resim_scenario *sc, int argc, char **argv,
                         resim_error *err);

/*
 * Opens the sidecar of the output `csv` (csv.json) and writes its opening:
 * the object's brace, `"kind": kind` and the common members. The caller
 * adds its own members, the closing brace, and commits o (or aborts it on
 * failure). The text is kept in memory; the commit checks it is valid JSON
 * (jansson), writes it atomically and renames every prepared output
 * (resim_out_prepare) with it, all or none. A device or FIFO `csv` has no
 * sidecar: the commit checks the text and writes nothing.
 */
int resim_sidecar_open(resim_out *o, const char *csv, const char *kind, const resim_scenario *sc,
                       int argc, char **argv, resim_error *err);

/*
 * Opens the sidecar of `csv` as resim_sidecar_open does, but empty: for
 * commands without a scenario (merge). The caller writes the whole object.
 */
int resim_sidecar_begin(resim_out *o, const char *csv, resim_error *err);

/* Writes the timeline of sc as text, one event a line (for `resim check`). */
void resim_timeline_print(FILE *fp, const resim_scenario *sc);

#endif

/*
 * iniread.h - reads a scenario file into an entry store (ini.h), keeping
 * the file and line of every entry so that errors can name them. Part of
 * the I/O library (sim/io/ini.c).
 */
#ifndef RESIM_INIREAD_H
#define RESIM_INIREAD_H

#include "resim/error.h"
#include "resim/ini.h"

/*
 * Reads the INI file at path into ini (which it initialises). An indented
 * line continues the value above; a key given twice in a section and lines
 * longer than the reader takes are errors. On failure frees what it took.
 */
int resim_ini_read(resim_ini *ini, const char *path, resim_error *err);

/*
 * Reads a scenario file and, when its [scenario] base names another file
 * (relative to the file that names it), that file first, recursively: the
 * file's sections and keys are added to its base's, and a key the base has
 * in the same section (an event month included) is replaced. Every entry
 * keeps the file and line it came from; `base` itself is not kept. A cycle
 * of bases is an error naming the file and line of the `base` that closes
 * it. ini->path is path. On failure frees what it took.
 */
int resim_ini_read_scenario(resim_ini *ini, const char *path, resim_error *err);

#endif

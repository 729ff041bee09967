/* serve_levers.h - the levers the explorer offers and the keys it accepts (private). */
#ifndef RESIM_SERVE_LEVERS_H
#define RESIM_SERVE_LEVERS_H

#include <jansson.h>

#include "resim/scenario.h"
#include "serve.h"

/*
 * GET /api/levers: the scenario (name, file, start, months, dates, elements),
 * every lever with its section, key, shape, range, default, unit, help and
 * value in the scenario, and the timeline of events. NULL when out of memory.
 */
json_t *serve_levers_json(const resim_scenario *sc, const char *path, const char *file);

/*
 * Whether the explorer may set key (SECTION.KEY): levers and dated events
 * only, never [scenario] (which names files and sizes the run) nor what
 * ensembles alone read. Returns 0, or -1 with the reason in why (one line).
 */
int serve_levers_check(const char *key, char *why, size_t n_why);

#endif

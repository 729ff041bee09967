/*
 * model.h - the monthly engine (docs/model.md sections 1-7, deterministic mode).
 *
 * The caller owns the loop: resim_model_init sets the start state at the
 * first simulated month (-warmup), and each resim_model_step simulates one
 * month into a caller-owned block of E x G rows of RESIM_NMETRICS values
 * (element-major, then group). Nothing is allocated after init.
 */
#ifndef RESIM_MODEL_H
#define RESIM_MODEL_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

#include "resim/error.h"
#include "resim/scenario.h"

/* The metric columns of docs/model.md section 7, in output order, then
 * `substituted` (section 11): potential demand minus demand, 0 until
 * substitution is switched on. */
#define RESIM_METRIC_LIST(X)            \
    X(DEMAND, "demand")                 \
    X(REQUIREMENT, "requirement")       \
    X(ALT_CAPACITY, "alt_capacity")     \
    X(ALT_SUPPLY, "alt_supply")         \
    X(CHINA_APPLIED, "china_applied")   \
    X(CHINA_APPROVED, "china_approved") \
    X(CHINA_REJECTED, "china_rejected") \
    X(CHINA_PENDING, "china_pending")   \
    X(CHINA_ARRIVALS, "china_arrivals") \
    X(STOCKPILE_RELEASE, "stockpile_release") \
    X(NATIONAL_STOCKPILE, "national_stockpile") \
    X(INVENTORY, "inventory")           \
    X(CONSUMPTION, "consumption")       \
    X(SHORTFALL, "shortfall")           \
    X(AVAILABILITY, "availability")     \
    X(COVER_DAYS, "cover_days")         \
    X(SUBSTITUTED, "substituted")

#define RESIM_METRIC_ENUM(id, name) RESIM_M_##id,
enum { RESIM_METRIC_LIST(RESIM_METRIC_ENUM) RESIM_NMETRICS };
#undef RESIM_METRIC_ENUM

extern const char *const resim_metric_names[RESIM_NMETRICS];

/* Output groups: `all` only, or also one per list status, or one per importer. */
typedef enum { RESIM_BY_NONE, RESIM_BY_STATUS, RESIM_BY_IMPORTER } resim_grouping;

typedef struct resim_model resim_model;

/* Allocates a model for scenarios shaped like sc (elements, importers). */
resim_model *resim_model_alloc(const resim_scenario *sc, resim_grouping by, resim_error *err);
void resim_model_free(resim_model *m); /* accepts NULL */

/*
 * Switches the stochastic mode of docs/model.md section 8 on (or off with NULLs)
 * before resim_model_init: `lots` draws lot decision months and approvals,
 * `lists` the random list process of the scenario's [list_process]. The
 * generators belong to the caller, who positions them per replicate.
 */
void resim_model_set_random(resim_model *m, gsl_rng *lots, gsl_rng *lists);

/* Receives warnings from list moves (asked for more importers than there are). */
void resim_model_set_warn(resim_model *m, resim_warn_fn fn, void *ctx);

/*
 * Sets the start state of sc (docs/model.md section 6) at month -warmup, after
 * the events dated on or before it. sc must have the element and importer
 * counts the model was allocated for and must outlive the run. May grow the
 * decision ring when sc's review delays are longer than any seen before.
 */
int resim_model_init(resim_model *m, const resim_scenario *sc, resim_error *err);

/* The month the next step simulates (negative during warm-up). */
int resim_model_month(const resim_model *m);

/* Number of groups per element in a step's output (1, 4 or 1 + importers). */
size_t resim_model_groups(const resim_model *m);

/*
 * Simulates one month into out[(e * G + g) * RESIM_NMETRICS + metric].
 * Group 0 is `all`; then none, watch, control (by status) or the importers
 * in table order (by importer). cover_days is NaN where demand is 0.
 */
void resim_model_step(resim_model *m, double *out);

/* Receives month t (>= 0) of a run: E x G rows as resim_model_step writes
 * them. Returns RESIM_OK to go on; anything else stops the run. */
typedef int (*resim_month_fn)(void *ctx, int t, const double *out);

/*
 * Steps a model set up by resim_model_init to the end of its scenario, one
 * resim_model_step a month. Warm-up months go to scratch and are not passed
 * on. Month t >= 0 goes to series + t * cells when series is not NULL
 * (cells = E x G x RESIM_NMETRICS), else to scratch; then fn, when not
 * NULL, receives it. scratch holds one month (E x G rows). Returns RESIM_OK
 * or the first status other than RESIM_OK that fn returned.
 */
int resim_model_run(resim_model *m, double *scratch, double *series, resim_month_fn fn,
                    void *ctx);

/* Current list status of every importer (for tests and reports). */
const unsigned char *resim_model_status(const resim_model *m);

/*
 * With RESIM_BY_STATUS, groups importers by the fixed status[i] (one per
 * importer, RESIM_NONE .. RESIM_CONTROL) in every month instead of by their
 * status in that month; NULL restores the latter. status belongs to the
 * caller and must outlive the runs.
 */
void resim_model_set_groups(resim_model *m, const unsigned char *status);

#endif

/*
 * sweep.h - the parts of `resim sweep` (private): the plan of a sweep
 * (sweep_args.c), the engine that computes points on threads
 * (sweep_engine.c), the rows and files it writes (sweep_output.c) and every
 * use of MPI (sweep_mpi.c); sweep.c holds the command that joins them.
 *
 * The points of this process are cut three ways, all by index so that the
 * output never depends on how the work was split: a shard K/N takes points
 * K-1, K-1+N, ...; MPI ranks take contiguous blocks of the shard's points,
 * each written to its own part and joined in rank order at the end;
 * threads claim points one at a time and a reorder ring hands finished rows
 * to the writer in order.
 */
#ifndef RESIM_CLI_SWEEP_H
#define RESIM_CLI_SWEEP_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "rows.h"
#include "resim/csvread.h"
#include "resim/design.h"
#include "resim/outcome.h"

/* Groups of a sweep row: the model runs with RESIM_BY_STATUS. */
#define SWEEP_GROUPS 4
extern const char *const sweep_group_names[SWEEP_GROUPS]; /* all, none, watch, control */

/*
 * The measures of resim_outcome, in column order (kind 1: a month, 2: a
 * count). A month measure is followed, in the deterministic mode, by the
 * same month as a calendar date, in the column named last.
 */
#define SWEEP_MEASURE_LIST(X)                                                        \
    X(cum_shortfall, 0, "") X(peak_shortfall, 0, "") X(peak_month, 1, "peak_date")   \
    X(min_availability, 0, "") X(min_month, 1, "min_date") X(months_below, 2, "")    \
    X(first_below, 1, "first_below_date") X(stock_out, 1, "stock_out_date")          \
    X(recovered, 1, "recovered_date")
#define SWEEP_MEASURE_ENUM(name, kind, date) SWEEP_M_##name,
enum { SWEEP_MEASURE_LIST(SWEEP_MEASURE_ENUM) SWEEP_NMEASURES };
#undef SWEEP_MEASURE_ENUM
extern const char *const sweep_measure_names[SWEEP_NMEASURES];
/* The date column of each measure; "" for a measure that is not a month. */
extern const char *const sweep_measure_dates[SWEEP_NMEASURES];

#define VALUE_MAX 64     /* longest value text of a point */
#define SWEEP_MAX_SERIES 64 /* --series options */

/* ------------------------------------------------------------ plan (sweep_args.c) */

/* One varied key. */
typedef struct vkey {
    char name[256];    /* SECTION.KEY as given */
    char section[64];
    char key[192];
    double lo, hi;     /* range (of the design file's column for FILE) */
    size_t levels;     /* grid levels */
    int has_levels;
    int col;           /* design file column */
} vkey;

typedef struct sweep_args {
    cli_opts scen;
    const char **vary;
    size_t n_vary;
    const char *design;
    size_t points;
    int has_points;
    size_t trajectories;       /* morris */
    int has_trajectories;
    size_t levels;             /* morris; 0: not given */
    int second_order;          /* saltelli */
    const char *window;        /* YYYY-MM:YYYY-MM or NULL */
    const char *series[SWEEP_MAX_SERIES];
    size_t n_series;
    unsigned long seed;
    size_t threads;
    double threshold;
    size_t replicates;         /* 0: the deterministic mode */
    double quantiles[32];
    size_t n_quantiles;
    const char *shard;
    int resume, progress;
    const char *output;
} sweep_args;

/* One --series COLUMN:El:group: a metric of one element and group, per month. */
typedef struct sweep_series {
    size_t metric;     /* index in resim_metric_names */
    size_t element;    /* scenario element */
    size_t group;      /* index in sweep_group_names */
    char name[160];    /* El_group_COLUMN */
} sweep_series;

/* Which bookkeeping columns follow `point`. */
typedef enum { SWEEP_ROLE_NONE, SWEEP_ROLE_MATRIX, SWEEP_ROLE_TRAJECTORY } sweep_role_cols;

/* Everything that decides which points this process computes and how. */
typedef struct plan {
    size_t dims;
    vkey *keys;
    resim_design *design;  /* generated designs */
    resim_table table;     /* design file */
    const char *origin;    /* origin of the INI entries a point sets */
    size_t total;          /* points of the whole design */
    size_t shard_k, shard_n; /* 1-based shard K of N */
    const char *shard_from;  /* "--shard", "SLURM_ARRAY_TASK_ID" or "default" */
    size_t n_local;        /* points of this shard */
    size_t done;           /* of these, already in the partial file */
    int kept;              /* the partial file was resumed (inputs checked), not started afresh */
    double threshold;
    int ranks;
    size_t replicates;       /* 0: deterministic */
    unsigned long seed;
    const double *quantiles;
    size_t n_quantiles;
    sweep_role_cols roles;   /* matrix (saltelli) or trajectory and step (morris) */
    int start;               /* calendar month of model month 0 (year*12 + month-1) */
    int win0, win1;          /* months measured: win0 .. win1 (model months) */
    int has_window;
    sweep_series series[SWEEP_MAX_SERIES];
    size_t n_series;
} plan;

/* Months the measures and series cover. */
static inline size_t plan_months(const plan *p) { return (size_t)(p->win1 - p->win0 + 1); }

/* Point j of this shard. */
static inline size_t shard_point(const plan *p, size_t j) { return p->shard_k - 1 + j * p->shard_n; }

/* A usage error (printed by rank 0 only); returns EXIT_USAGE. */
int sweep_usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* An input error (printed by rank 0 only); returns its exit code. */
int sweep_fail(const resim_error *err);

/* Parses the command line; returns 0, an exit code, or -1 after --help. */
int sweep_parse_args(int argc, char **argv, sweep_args *a);
/* Builds the design from the arguments; returns 0 or an exit code. */
int sweep_build_plan(plan *p, const sweep_args *a, const cli_scenario *s, resim_error *err);
/* The shard from --shard, else from a Slurm array job, else 1/1; 0 or an exit code. */
int sweep_choose_shard(plan *p, const char *opt);
void sweep_free_plan(plan *p);
/*
 * The value texts of point i. A generated value is formatted once, and the
 * same text is both applied to the scenario and written to the output.
 */
int sweep_point_values(const plan *p, resim_design_cursor *c, size_t i, char (*val)[VALUE_MAX],
                       double *x, resim_error *err);

/*
 * Checks the whole design before any point is computed: every value of a
 * design file within its key's range in the lever table, and the scenario
 * resolving with each key at its lowest and highest value and with the
 * values of the first point. Returns RESIM_OK or the error naming the key.
 */
int sweep_check_design(const plan *p, const cli_scenario *s, resim_error *err);

/*
 * Parses --window and --series against the scenario (elements, horizon)
 * into the plan; returns 0 or an exit code.
 */
int sweep_plan_months(plan *p, const sweep_args *a, const resim_scenario *sc);

/* ------------------------------------------------------------ engine (sweep_engine.c) */

typedef struct sweep_worker sweep_worker;
typedef struct sweep_slot sweep_slot;

/*
 * Computes the points i0, i0 + di, ... (count of them) on worker threads and
 * hands their rows out in that order through a ring of slots: a worker
 * claims the next sequence number only when its slot is free, so at most
 * `nslot` rows are held, however many points there are.
 */
typedef struct sweep_engine {
    const plan *p;
    const cli_scenario *s;
    size_t i0, di, count;
    pthread_mutex_t mu;
    pthread_cond_t ready, space;
    size_t next_claim, next_out;
    int stop;
    sweep_slot *ring;
    size_t nslot;
    sweep_worker *w;
    size_t nw, started;
} sweep_engine;

int sweep_engine_start(sweep_engine *e, const plan *p, const cli_scenario *s, size_t i0,
                       size_t di, size_t count, size_t threads, resim_error *err);
/* Waits for the next row in order; NULL (with err) if its point failed. */
const cli_sbuf *sweep_engine_next(sweep_engine *e, resim_error *err);
/* Gives the slot of the row sweep_engine_next returned back to the workers. */
void sweep_engine_release(sweep_engine *e);
void sweep_engine_free(sweep_engine *e); /* stops the threads first */

/* ------------------------------------------------------------ output (sweep_output.c) */

/* The header row of the sweep's CSV; returns 0 or -1 when out of memory. */
int sweep_header_line(cli_sbuf *b, const plan *p, const resim_scenario *sc);
/*
 * The leading fields of point i's row: the point number, its matrix or
 * trajectory and step when the design has them, and the values val (no
 * trailing comma). b is emptied first. Returns 0 or -1 (out of memory).
 */
int sweep_row_lead(cli_sbuf *b, const plan *p, size_t i, char (*val)[VALUE_MAX]);
/* Appends the measures of one outcome, each after a comma; with dates, a
 * month measure is followed by its calendar date (start: month 0's). */
int sweep_row_measures(cli_sbuf *b, const resim_outcome *o, int dates, int start);
/* The measures of one outcome as numbers; months that never came are NaN. */
void sweep_outcome_values(const resim_outcome *o, double *v);
/*
 * The SHA-256 (hex) of everything that decides a sweep's rows: the
 * scenario's entries after its bases, --set and --warmup, the bytes of its
 * data tables, the design (kind, keys, ranges, levels, points, seed or the
 * design file's bytes), the replicates, quantiles, threshold, window,
 * series and shard. Threads and ranks are left out: they never change a row.
 */
int sweep_inputs_hash(const plan *p, const sweep_args *a, const cli_scenario *s, char hex[65],
                      resim_error *err);
/*
 * Opens the partial file, created exclusively (never through a link) and
 * held under an advisory write lock (fcntl) until it is closed: a second
 * sweep to the same output is refused. Beside it, PATH.inputs records the
 * inputs hash. Without resume it starts afresh with the header. With resume
 * it refuses a partial file whose recorded hash is not `inputs`, keeps the
 * header and the complete rows that belong to this sweep, in order, cuts
 * off a torn last line and counts the rows kept.
 */
int sweep_open_partial(const char *path, int resume, const char *inputs, const cli_sbuf *header,
                       plan *p, FILE **fpo, resim_error *err);
/*
 * Under MPI each rank writes the rows of its block of points to its own
 * part, FILE.rank-R-of-N.partial (sweep_part_path). sweep_open_part opens
 * (creates, or with resume keeps the checked complete rows of) the part for
 * the local points j0 .. j1-1, locked like the partial file; *rows counts
 * the rows kept.
 */
void sweep_part_path(char *buf, size_t n, const char *output, int rank, int ranks);
/* Removes every part of output (of any rank count), once output is complete. */
void sweep_remove_parts(const char *output);
int sweep_open_part(const char *path, int resume, const plan *p, size_t j0, size_t j1,
                    size_t *rows, FILE **fpo, resim_error *err);
/*
 * Rank 0, when every rank has finished its part: streams the partial file
 * head (the header and rows kept from before) and the parts of ranks 0 ..
 * ranks-1 in order into a new file (its name in join), to be renamed onto
 * output with the sidecar (resim_partial_hold). The caller removes the
 * parts, the partial file and its record of inputs once both are
 * committed. A kill during the join leaves every input in place for
 * --resume.
 */
int sweep_join_parts(const char *output, const char *partial, FILE *head, int ranks, char *join,
                     size_t join_size, resim_error *err);
/* Removes PATH.inputs (after the partial file was renamed to its final name). */
void sweep_remove_inputs(const char *path);
/* Writes FILE.json for the sweep. */
int sweep_write_sidecar(const char *csv, const plan *p, const sweep_args *a,
                        const resim_scenario *sc, int argc, char **argv, resim_error *err);

/* Seconds on a monotonic clock. */
double sweep_now(void);

typedef struct sweep_progress {
    int on;
    double t0, last;
    size_t start, total;
} sweep_progress;

/* Shows points done, rate and ETA on stderr (at most 5 times a second). */
void sweep_progress_show(sweep_progress *pr, size_t done, int final);

/* ------------------------------------------------------------ MPI (sweep_mpi.c) */

/* Starts MPI when launched by mpirun; sets rank and ranks (0 and 1 without). */
void sweep_mpi_start(int *rank, int *ranks);
/* This process's rank (0 without MPI); only rank 0 prints. */
int sweep_mpi_rank(void);
/* "built with MPI: ..." for the help text. */
const char *sweep_mpi_built(void);
/* Rank 0's count of rows done, given to every rank. */
void sweep_mpi_share(long *done, int ranks);
/* The lowest rank whose failed is non-zero, or -1; every rank calls it. */
int sweep_mpi_first_failed(int failed, int ranks);
/* Gives rank `from`'s error message to rank 0 (in err); every rank calls it. */
void sweep_mpi_pass_error(int from, resim_error *err);
/* Waits for the other ranks without spinning, then ends MPI. */
void sweep_mpi_finish(int ranks);

#endif

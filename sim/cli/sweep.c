/*
 * sweep.c - `resim sweep`: runs a scenario once per point of a design (grid,
 * Latin hypercube, Sobol, Saltelli, Morris or a design CSV) and writes one
 * row of outcome measures (and monthly series) per point, in point order
 * (sweep.h says how the points are cut between shards, ranks and threads).
 *
 * Rows go to FILE.partial as they come (flushed in batches), which is
 * renamed to FILE when complete; --resume keeps the complete rows of a
 * partial file and computes the rest. Under MPI each rank writes a block
 * of points to its own part and rank 0 joins the parts in order at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sweep.h"
#include "resim/csvout.h"

#define FLUSH_ROWS 64    /* rows per flush of the partial file, at most */

/*
 * Rank `rank` of `ranks` takes a contiguous block of the local points not
 * yet in the partial file: done .. n_local-1 cut in `ranks` nearly equal
 * blocks, in rank order, so the parts joined in rank order are the rows in
 * point order.
 */
static void rank_block(const plan *p, int rank, int ranks, size_t *j0, size_t *j1)
{
    size_t left = p->n_local - p->done, R = (size_t)ranks, r = (size_t)rank;
    size_t q = left / R, extra = left % R;
    *j0 = p->done + r * q + (r < extra ? r : extra);
    *j1 = *j0 + q + (r < extra ? 1 : 0);
}

/*
 * Computes the local points j0 .. j1-1 on the threads and appends their
 * rows, in order, to fp (the partial file, or this rank's part under MPI).
 * Returns a resim status.
 */
static int run_points(const plan *p, const cli_scenario *s, size_t threads, size_t j0, size_t j1,
                      FILE *fp, sweep_progress *pr, resim_error *err)
{
    size_t count = j1 - j0;
    sweep_engine e;
    int rc = sweep_engine_start(&e, p, s, shard_point(p, j0), p->shard_n, count,
                                threads < count ? threads : count, err);
    size_t since_flush = 0;
    double last_flush = sweep_now();
    for (size_t q = 0; rc == RESIM_OK && q < count; q++) {
        const cli_sbuf *row = sweep_engine_next(&e, err);
        if (row == NULL) {
            rc = err != NULL ? err->status : RESIM_EINVAL;
            break;
        }
        if (fwrite(row->p, 1, row->n, fp) != row->n)
            rc = resim_error_set(err, RESIM_EIO, NULL, 0, "write error");
        sweep_engine_release(&e);
        /* Flush in batches: a kill loses at most the rows since. */
        double t = sweep_now();
        if (++since_flush >= FLUSH_ROWS || t - last_flush > 0.5) {
            if (fflush(fp) != 0)
                rc = resim_error_set(err, RESIM_EIO, NULL, 0, "write error");
            since_flush = 0;
            last_flush = t;
        }
        sweep_progress_show(pr, pr->start + q + 1, 0);
    }
    sweep_engine_free(&e);
    if (rc == RESIM_OK && (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0))
        rc = resim_error_set(err, RESIM_EIO, NULL, 0, "write error");
    return rc;
}

/*
 * Under MPI: opens this rank's part (keeping its rows on resume), computes
 * the rest of its block into it, and returns a resim status.
 */
static int run_part(const plan *p, const cli_scenario *s, const sweep_args *a, int rank, int ranks,
                    sweep_progress *pr, resim_error *err)
{
    char path[1200];
    size_t j0, j1, rows;
    FILE *fp = NULL;
    rank_block(p, rank, ranks, &j0, &j1);
    sweep_part_path(path, sizeof path, a->output, rank, ranks);
    /* Parts are kept only beside the partial file they belong to (its inputs checked). */
    int rc = sweep_open_part(path, a->resume && p->kept, p, j0, j1, &rows, &fp, err);
    if (rc == RESIM_OK) {
        /* Rank 0's progress stands for every rank's: the blocks are alike. */
        pr->start = rows;
        pr->total = j1 - j0;
        pr->t0 = sweep_now();
        rc = run_points(p, s, a->threads, j0 + rows, j1, fp, pr, err);
    }
    if (fp != NULL && fclose(fp) != 0 && rc == RESIM_OK)
        rc = resim_error_set(err, RESIM_EIO, path, 0, "write error");
    return rc;
}

int cli_sweep(int argc, char **argv)
{
    int rank, ranks;
    sweep_mpi_start(&rank, &ranks);
    sweep_args a;
    plan p;
    memset(&p, 0, sizeof p);
    p.ranks = ranks;
    cli_scenario s;
    int loaded = 0, code = sweep_parse_args(argc, argv, &a);
    resim_error err = {0};
    char partial[1100];
    FILE *fp = NULL;
    if (code == 0) {
        if (cli_load(&s, &a.scen, &err) != RESIM_OK)
            code = sweep_fail(&err);
        else
            loaded = 1;
    }
    if (code == 0)
        code = sweep_build_plan(&p, &a, &s, &err);
    if (code == 0)
        code = sweep_plan_months(&p, &a, &s.sc);
    if (code == 0)
        code = sweep_choose_shard(&p, a.shard);
    if (code == 0) {
        p.n_local = p.total > p.shard_k - 1 ? (p.total - p.shard_k) / p.shard_n + 1 : 0;
        snprintf(partial, sizeof partial, "%s.partial", a.output);
        /* The whole design is checked before any work or any file. */
        if (sweep_check_design(&p, &s, &err) != RESIM_OK)
            code = sweep_fail(&err);
    }
    /* Rank 0 opens (and on resume reads) the partial file; the others
     * learn from it how many rows are done. */
    if (code == 0) {
        long done = 0;
        if (rank == 0) {
            cli_sbuf header = {0};
            char inputs[65];
            int rc = sweep_header_line(&header, &p, &s.sc)
                         ? resim_error_set(&err, RESIM_ENOMEM, NULL, 0, "out of memory")
                         : sweep_inputs_hash(&p, &a, &s, inputs, &err);
            if (rc == RESIM_OK)
                rc = sweep_open_partial(partial, a.resume, inputs, &header, &p, &fp, &err);
            free(header.p);
            done = rc == RESIM_OK ? (long)p.done : -1;
            if (rc != RESIM_OK)
                code = sweep_fail(&err);
        }
        long kept = p.kept;
        sweep_mpi_share(&done, ranks);
        sweep_mpi_share(&kept, ranks);
        p.kept = (int)kept;
        if (done < 0 && code == 0)
            code = EXIT_INPUT;
        p.done = done < 0 ? 0 : (size_t)done;
    }
    if (code == 0) {
        sweep_progress pr = {.on = rank == 0 && (a.progress || isatty(STDERR_FILENO)),
                       .t0 = sweep_now(), .start = p.done, .total = p.n_local};
        int rc;
        if (ranks == 1) {
            rc = run_points(&p, &s, a.threads, p.done, p.n_local, fp, &pr, &err);
        } else {
            /* Each rank writes its own part; rank 0 joins them at the end. */
            rc = run_part(&p, &s, &a, rank, ranks, &pr, &err);
            int first = sweep_mpi_first_failed(rc != RESIM_OK, ranks);
            sweep_mpi_pass_error(first, &err);
            if (first >= 0 && rc == RESIM_OK)
                rc = RESIM_EINVAL; /* another rank failed: its message is in err on rank 0 */
        }
        if (rc == RESIM_OK && rank == 0) {
            sweep_progress_show(&pr, pr.total, 1);
            /* The rows are renamed onto FILE together with the sidecar, while
             * the partial file is still locked. */
            char join[1200] = "";
            if (ranks == 1) {
                if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0 ||
                    resim_partial_hold(partial, a.output) != 0)
                    rc = resim_error_set(&err, RESIM_EIO, a.output, 0, "write error");
            } else {
                rc = sweep_join_parts(a.output, partial, fp, ranks, join, sizeof join, &err);
            }
            if (rc == RESIM_OK)
                rc = sweep_write_sidecar(a.output, &p, &a, &s.sc, argc, argv, &err);
            if (rc == RESIM_OK) {
                if (ranks > 1)
                    remove(partial);
                sweep_remove_inputs(partial);
                sweep_remove_parts(a.output); /* of this run, or left by an earlier one */
            } else if (join[0] != '\0') {
                remove(join);
            }
            int bad = fclose(fp) != 0;
            fp = NULL;
            if (bad && rc == RESIM_OK)
                rc = resim_error_set(&err, RESIM_EIO, a.output, 0, "write error");
        }
        if (rc != RESIM_OK) {
            if (pr.on)
                fputc('\n', stderr);
            code = sweep_fail(&err);
        }
    }
    if (fp != NULL)
        fclose(fp);
    sweep_free_plan(&p);
    if (loaded)
        cli_unload(&s);
    free(a.scen.sets);
    free(a.vary);
    sweep_mpi_finish(ranks);
    return code < 0 ? 0 : code;
}

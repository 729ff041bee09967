/*
 * sweep.c - `resim sweep`: runs a scenario once per point of a design (grid,
 * Latin hypercube, Sobol, Saltelli, Morris or a design CSV) and writes one
 * row of outcome measures (and monthly series) per point, in point order
 * (sweep.h says how the points are cut between shards, ranks and threads).
 *
 * Rows go to FILE.partial as they come (flushed in batches), which is
 * renamed to FILE when complete; --resume keeps the complete rows of a
 * partial file and computes the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sweep.h"

#define FLUSH_ROWS 64    /* rows per flush of the partial file, at most */

/*
 * Computes this rank's share of the shard's remaining points. Rank 0
 * writes every row, its own and the other ranks', in point order; the
 * other ranks send theirs to it. Returns a resim status.
 */
static int run_points(const plan *p, const cli_scenario *s, size_t threads, int rank, int ranks,
                      FILE *fp, sweep_progress *pr, resim_error *err)
{
    size_t left = p->n_local - p->done;
    size_t mine = left > (size_t)rank ? (left - (size_t)rank + (size_t)ranks - 1) / (size_t)ranks : 0;
    size_t i0 = shard_point(p, p->done + (size_t)rank);
    sweep_engine e;
    int rc = sweep_engine_start(&e, p, s, i0, p->shard_n * (size_t)ranks, mine,
                          threads < mine ? threads : mine, err);
    cli_sbuf remote = {0};
    size_t since_flush = 0;
    double last_flush = sweep_now();
    for (size_t q = 0; rc == RESIM_OK && q < (rank == 0 ? left : mine); q++) {
        const cli_sbuf *row;
        int from = rank == 0 ? (int)(q % (size_t)ranks) : rank;
        if (from == rank) {
            row = sweep_engine_next(&e, err);
            if (row == NULL) {
                rc = err != NULL ? err->status : RESIM_EINVAL;
                if (rank != 0)
                    sweep_mpi_send_error(err->msg);
                break;
            }
        } else {
            if ((rc = sweep_mpi_recv_row(from, &remote, err)) != RESIM_OK)
                break;
            row = &remote;
        }
        if (rank != 0) {
            sweep_mpi_send_row(row);
        } else {
            if (fwrite(row->p, 1, row->n, fp) != row->n)
                rc = resim_error_set(err, RESIM_EIO, NULL, 0, "write error");
            /* Flush in batches: a kill loses at most the rows since. */
            double t = sweep_now();
            if (++since_flush >= FLUSH_ROWS || t - last_flush > 0.5) {
                if (fflush(fp) != 0)
                    rc = resim_error_set(err, RESIM_EIO, NULL, 0, "write error");
                since_flush = 0;
                last_flush = t;
            }
            sweep_progress_show(pr, p->done + q + 1, 0);
        }
        if (from == rank)
            sweep_engine_release(&e);
    }
    free(remote.p);
    sweep_engine_free(&e);
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
        sweep_mpi_share(&done, ranks);
        if (done < 0 && code == 0)
            code = EXIT_INPUT;
        p.done = done < 0 ? 0 : (size_t)done;
    }
    if (code == 0) {
        sweep_progress pr = {.on = rank == 0 && (a.progress || isatty(STDERR_FILENO)),
                       .t0 = sweep_now(), .start = p.done, .total = p.n_local};
        int rc = run_points(&p, &s, a.threads, rank, ranks, fp, &pr, &err);
        if (rc == RESIM_OK && rank == 0) {
            sweep_progress_show(&pr, p.n_local, 1);
            /* Renamed while still locked, so no second sweep can take it in between. */
            int bad = fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
            bad = bad || rename(partial, a.output) != 0;
            bad |= fclose(fp) != 0;
            fp = NULL;
            if (bad)
                rc = resim_error_set(&err, RESIM_EIO, a.output, 0, "write error");
            else
                sweep_remove_inputs(partial);
            if (rc == RESIM_OK)
                rc = sweep_write_sidecar(a.output, &p, &a, &s.sc, argc, argv, &err);
        }
        if (rc != RESIM_OK) {
            if (pr.on)
                fputc('\n', stderr);
            code = sweep_fail(&err);
            if (ranks > 1 && rank == 0) {
                if (fp != NULL)
                    fclose(fp);
                fp = NULL;
                sweep_mpi_abort(code, ranks);
            }
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

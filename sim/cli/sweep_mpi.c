/*
 * sweep_mpi.c - every use of MPI by a sweep: starting and ending it, rank 0
 * receiving the other ranks' rows, and stopping every rank after a failure.
 * Without RESIM_MPI each function is what one process alone needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef RESIM_MPI
#include <mpi.h>
#endif

#include "sweep.h"

/* MPI rank of this process (0 without MPI); only rank 0 prints. */
static int sweep_rank = 0;
#ifdef RESIM_MPI
static int use_mpi = 0;
#endif

int sweep_mpi_rank(void) { return sweep_rank; }

const char *sweep_mpi_built(void)
{
#ifdef RESIM_MPI
    return "\nbuilt with MPI: yes (mpirun -n P resim sweep ... spreads points over ranks)\n";
#else
    return "\nbuilt with MPI: no\n";
#endif
}

#ifdef RESIM_MPI
enum { TAG_ROW = 1, TAG_ERR = 2 };

/* True when started by mpirun (or another PMI launcher). */
static int mpi_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMI_SIZE") != NULL ||
           getenv("PMIX_RANK") != NULL;
}
#endif

void sweep_mpi_start(int *rank, int *ranks)
{
    *ranks = 1;
#ifdef RESIM_MPI
    use_mpi = mpi_launched();
    if (use_mpi) {
        int provided;
        MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &sweep_rank);
        MPI_Comm_size(MPI_COMM_WORLD, ranks);
    }
#endif
    *rank = sweep_rank;
}

void sweep_mpi_share(long *done, int ranks)
{
#ifdef RESIM_MPI
    if (ranks > 1)
        MPI_Bcast(done, 1, MPI_LONG, 0, MPI_COMM_WORLD);
#else
    (void)done;
    (void)ranks;
#endif
}

/* Sends a row to rank 0. A blocking send spins a core while rank 0 is busy
 * (taking it from this rank's own worker), so wait for it with short sleeps. */
void sweep_mpi_send_row(const cli_sbuf *row)
{
#ifdef RESIM_MPI
    MPI_Request req;
    int done = 0;
    MPI_Isend(row->p, (int)row->n, MPI_CHAR, 0, TAG_ROW, MPI_COMM_WORLD, &req);
    long nap = 20000;
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done) {
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        if (nap < 1000000)
            nap *= 2;
    }
#else
    (void)row;
#endif
}

void sweep_mpi_send_error(const char *msg)
{
#ifdef RESIM_MPI
    MPI_Send(msg, (int)strlen(msg), MPI_CHAR, 0, TAG_ERR, MPI_COMM_WORLD);
#else
    (void)msg;
#endif
}

int sweep_mpi_recv_row(int from, cli_sbuf *b, resim_error *err)
{
#ifdef RESIM_MPI
    MPI_Status st;
    int n, flag = 0;
    /* Open MPI's blocking probe spins a core at full speed; rank 0 also
     * computes points, so wait for a row by polling with short sleeps. */
    long nap = 20000;
    for (;;) {
        MPI_Iprobe(from, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (flag)
            break;
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        if (nap < 1000000)
            nap *= 2;
    }
    MPI_Get_count(&st, MPI_CHAR, &n);
    b->n = 0;
    if (n < 0 || cli_sb_put(b, "", 0) != 0 || (size_t)n + 1 > b->cap) {
        size_t need = (size_t)n + 1;
        char *q = realloc(b->p, need);
        if (q == NULL)
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        b->p = q;
        b->cap = need;
    }
    MPI_Recv(b->p, n, MPI_CHAR, from, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    b->n = (size_t)n;
    b->p[b->n] = '\0';
    if (st.MPI_TAG == TAG_ERR)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0, "%s", b->p);
    return RESIM_OK;
#else
    (void)from;
    (void)b;
    return resim_error_set(err, RESIM_EINVAL, NULL, 0, "no MPI in this build");
#endif
}

void sweep_mpi_abort(int code, int ranks)
{
#ifdef RESIM_MPI
    /* Other ranks may wait on a send that will never be received. */
    if (ranks > 1 && sweep_rank == 0)
        MPI_Abort(MPI_COMM_WORLD, code);
#else
    (void)code;
    (void)ranks;
#endif
}

void sweep_mpi_finish(int ranks)
{
#ifdef RESIM_MPI
    if (use_mpi) {
        /* A rank that finishes first would spin a core inside MPI_Finalize's
         * barrier while the others still compute: wait for them politely. */
        if (ranks > 1) {
            MPI_Request req;
            int flag = 0;
            MPI_Ibarrier(MPI_COMM_WORLD, &req);
            while (MPI_Test(&req, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && !flag) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
        }
        MPI_Finalize();
    }
#else
    (void)ranks;
#endif
}

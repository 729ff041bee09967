/*
 * sweep_mpi.c - every use of MPI by a sweep: starting and ending it, sharing
 * the rows already done, and telling every rank which rank failed first (and
 * rank 0 its message). Rows never travel: each rank writes its own part of
 * the output. Without RESIM_MPI each function is what one process alone needs.
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
enum { TAG_ERR = 2 };

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

#ifdef RESIM_MPI
/* Waits for a request with short sleeps: Open MPI's blocking calls spin a
 * core at full speed, which the ranks still computing on it need. */
static void wait_politely(MPI_Request *req)
{
    int done = 0;
    long nap = 20000;
    while (MPI_Test(req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done) {
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        if (nap < 1000000)
            nap *= 2;
    }
}
#endif

int sweep_mpi_first_failed(int failed, int ranks)
{
#ifdef RESIM_MPI
    if (ranks > 1) {
        int mine = failed ? sweep_rank : ranks, first = ranks;
        MPI_Request req;
        MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req);
        wait_politely(&req);
        return first < ranks ? first : -1;
    }
#else
    (void)ranks;
#endif
    return failed ? 0 : -1;
}

void sweep_mpi_pass_error(int from, resim_error *err)
{
#ifdef RESIM_MPI
    if (from <= 0)
        return;
    if (sweep_rank == from) {
        MPI_Send(err->msg, (int)strlen(err->msg) + 1, MPI_CHAR, 0, TAG_ERR, MPI_COMM_WORLD);
    } else if (sweep_rank == 0) {
        char msg[sizeof err->msg];
        MPI_Request req;
        MPI_Irecv(msg, (int)sizeof msg, MPI_CHAR, from, TAG_ERR, MPI_COMM_WORLD, &req);
        wait_politely(&req);
        msg[sizeof msg - 1] = '\0';
        resim_error_set(err, RESIM_EINVAL, NULL, 0, "%s", msg);
    }
#else
    (void)from;
    (void)err;
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

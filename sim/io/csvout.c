/* csvout.c - atomic output files (as coreutils writes them) and CSV fields through libcsv. */
#include "resim/csvout.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "out_impl.h"
#include "resim/sidecar.h"

/* ------------------------------------------------ temporary files and signals */

/*
 * Names of the temporary files that exist now, for the signal handler. A
 * slot's name is written before the slot is switched on, and the handler
 * only calls unlink, signal and raise (async-signal-safe).
 */
#define TMP_SLOTS 256
static char tmp_name[TMP_SLOTS][1200]; /* as long as the longest name kept (a backup's) */
static volatile sig_atomic_t tmp_on[TMP_SLOTS];
static int handlers_installed;
static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP};

static void on_signal(int sig)
{
    for (int k = 0; k < TMP_SLOTS; k++)
        if (tmp_on[k])
            unlink(tmp_name[k]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    if (handlers_installed)
        return;
    handlers_installed = 1;
    for (size_t k = 0; k < sizeof cleanup_signals / sizeof cleanup_signals[0]; k++) {
        struct sigaction old, sa;
        /* A signal the caller ignores (nohup, a background shell) stays ignored. */
        if (sigaction(cleanup_signals[k], NULL, &old) != 0 || old.sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(cleanup_signals[k], &sa, NULL);
    }
}

/* Blocks (or restores) the cleanup signals around a change of the file set. */
static void block_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t k = 0; k < sizeof cleanup_signals / sizeof cleanup_signals[0]; k++)
        sigaddset(&set, cleanup_signals[k]);
    sigprocmask(SIG_BLOCK, &set, old);
}

static void restore_signals(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

static void tmp_register(const char *name)
{
    install_handlers();
    for (int k = 0; k < TMP_SLOTS; k++)
        if (!tmp_on[k]) {
            snprintf(tmp_name[k], sizeof tmp_name[k], "%s", name);
            tmp_on[k] = 1;
            return;
        }
}

static void tmp_forget(const char *name)
{
    for (int k = 0; k < TMP_SLOTS; k++)
        if (tmp_on[k] && strcmp(tmp_name[k], name) == 0) {
            tmp_on[k] = 0;
            return;
        }
}

/* Removes a temporary file and forgets it. */
static void tmp_remove(char *name)
{
    if (name[0] == '\0')
        return;
    sigset_t old;
    block_signals(&old);
    unlink(name);
    tmp_forget(name);
    restore_signals(&old);
    name[0] = '\0';
}

/*
 * Creates "BASE.SUFFIX.XXXXXX" exclusively (never through a link) with mode
 * 0666 under the umask, as coreutils does: a file made 0600 whatever the
 * umask would hide results from the group that reads them.
 * Returns the descriptor, or -1 with errno set.
 */
static int create_unique(const char *base, const char *suffix, char *name, size_t size)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static unsigned long counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    for (int attempt = 0; attempt < 100; attempt++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL + ++counter;
        char tail[7];
        uint64_t y = x >> 16;
        for (int k = 0; k < 6; k++, y /= 62)
            tail[k] = digits[y % 62];
        tail[6] = '\0';
        if (snprintf(name, size, "%s.%s.%s", base, suffix, tail) >= (int)size) {
            errno = ENAMETOOLONG;
            return -1;
        }
        sigset_t old;
        block_signals(&old);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0)
            tmp_register(name);
        int saved = errno;
        restore_signals(&old);
        if (fd >= 0)
            return fd;
        errno = saved;
        if (saved != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

/* ------------------------------------------------ targets */

/* Names that stand for one of this process's descriptors. */
static int fd_alias(const char *path)
{
    return strcmp(path, "/dev/stdout") == 0 || strcmp(path, "/dev/stderr") == 0 ||
           strncmp(path, "/dev/fd/", 8) == 0 || strncmp(path, "/proc/self/fd/", 14) == 0;
}

enum { TARGET_NEW, TARGET_FILE, TARGET_DIRECT };

/*
 * Follows symbolic links from path to the name they end at (which may not
 * exist yet): a relative link is read from the link's own directory.
 */
static int follow(const char *path, char *final, size_t size, resim_error *err)
{
    char cur[4096], target[4096];
    if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur)
        return resim_error_set(err, RESIM_EIO, path, 0, "path too long");
    for (int depth = 0;; depth++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            break;
        if (depth == 40)
            return resim_error_set(err, RESIM_EIO, path, 0, "too many levels of symbolic links");
        ssize_t n = readlink(cur, target, sizeof target - 1);
        if (n < 0)
            return resim_error_set(err, RESIM_EIO, path, 0, "cannot read symbolic link: %s",
                                   strerror(errno));
        target[n] = '\0';
        const char *slash = strrchr(cur, '/');
        if (target[0] == '/' || slash == NULL) {
            memcpy(cur, target, (size_t)n + 1);
        } else {
            int dir = (int)(slash - cur) + 1;
            char joined[4096];
            if (snprintf(joined, sizeof joined, "%.*s%s", dir, cur, target) >= (int)sizeof joined)
                return resim_error_set(err, RESIM_EIO, path, 0, "path too long");
            memcpy(cur, joined, sizeof cur);
        }
    }
    if (strlen(cur) >= size)
        return resim_error_set(err, RESIM_EIO, path, 0, "path too long");
    strcpy(final, cur);
    return RESIM_OK;
}

/*
 * Decides how path is written: directly (a character device, a FIFO or a
 * descriptor alias), or through a temporary file renamed onto *final: path
 * itself, or the name a symbolic link leads to (the link is kept, and the
 * file it names is written, or created). A directory, a block device or a
 * socket is refused.
 */
static int classify(const char *path, char *final, size_t size, int *how, resim_error *err)
{
    struct stat st;
    if (fd_alias(path)) {
        *how = TARGET_DIRECT;
        return RESIM_OK;
    }
    int rc = follow(path, final, size, err);
    if (rc != RESIM_OK)
        return rc;
    if (stat(final, &st) != 0) {
        if (errno != ENOENT)
            return resim_error_set(err, RESIM_EIO, path, 0, "cannot write: %s", strerror(errno));
        *how = TARGET_NEW;
        return RESIM_OK;
    }
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
        *how = TARGET_DIRECT;
        return RESIM_OK;
    }
    if (S_ISDIR(st.st_mode))
        return resim_error_set(err, RESIM_EIO, path, 0, "is a directory");
    if (!S_ISREG(st.st_mode))
        return resim_error_set(err, RESIM_EIO, path, 0,
                               "is not a regular file, character device or FIFO");
    *how = TARGET_FILE;
    return RESIM_OK;
}

int resim_out_is_direct(const char *path)
{
    char final[1100];
    int how = TARGET_NEW;
    if (path == NULL || strcmp(path, "-") == 0)
        return 1;
    if (classify(path, final, sizeof final, &how, NULL) != RESIM_OK)
        return 0;
    return how == TARGET_DIRECT;
}

int resim_out_open(resim_out *o, const char *path, resim_error *err)
{
    memset(o, 0, sizeof *o);
    if (path == NULL || strcmp(path, "-") == 0) {
        o->fp = stdout;
        o->kind = RESIM_OUT_STDOUT;
        return RESIM_OK;
    }
    if (strlen(path) >= 1024)
        return resim_error_set(err, RESIM_EIO, path, 0, "path too long");
    int how;
    int rc = classify(path, o->path, sizeof o->path, &how, err);
    if (rc != RESIM_OK)
        return rc;
    if (how == TARGET_DIRECT) {
        /* Appended to, so a descriptor alias of a file adds after what is there. */
        int fd = open(path, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 || (o->fp = fdopen(fd, "w")) == NULL) {
            int saved = errno;
            if (fd >= 0)
                close(fd);
            return resim_error_set(err, RESIM_EIO, path, 0, "cannot open: %s", strerror(saved));
        }
        snprintf(o->path, sizeof o->path, "%s", path);
        o->kind = RESIM_OUT_DIRECT;
        return RESIM_OK;
    }
    int fd = create_unique(o->path, "tmp", o->tmp, sizeof o->tmp);
    if (fd < 0) {
        o->tmp[0] = '\0';
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot create output file: %s",
                               strerror(errno));
    }
    if ((o->fp = fdopen(fd, "w")) == NULL) {
        int saved = errno;
        close(fd);
        tmp_remove(o->tmp);
        return resim_error_set(err, RESIM_EIO, path, 0, "cannot open output file: %s",
                               strerror(saved));
    }
    o->kind = RESIM_OUT_FILE;
    return RESIM_OK;
}

int resim_out_open_sidecar(resim_out *o, const char *csv, resim_error *err)
{
    memset(o, 0, sizeof *o);
    if (snprintf(o->path, sizeof o->path, "%s.json", csv) >= (int)sizeof o->path)
        return resim_error_set(err, RESIM_EIO, csv, 0, "path too long");
    /* A device or FIFO output has no sidecar (there is no file to describe). */
    o->discard = resim_out_is_direct(csv);
    o->kind = RESIM_OUT_MEMORY;
    if ((o->fp = open_memstream(&o->mem, &o->mem_len)) == NULL)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    return RESIM_OK;
}

/* Declared in sidecar.h beside the JSON helpers; here so that json.c and
 * this file do not call each other. */
int resim_sidecar_begin(resim_out *o, const char *csv, resim_error *err)
{
    return resim_out_open_sidecar(o, csv, err);
}

/* Flushes and closes a stream; returns 0 or the errno of the first failure. */
static int close_checked(FILE *fp, int sync)
{
    int e = 0;
    if (fflush(fp) != 0)
        e = errno ? errno : EIO;
    if (e == 0 && ferror(fp))
        e = EIO;
    if (e == 0 && sync && fsync(fileno(fp)) != 0)
        e = errno;
    if (fclose(fp) != 0 && e == 0)
        e = errno ? errno : EIO;
    return e;
}

static int write_error(resim_error *err, const char *path, int e)
{
    return resim_error_set(err, RESIM_EIO, path, 0, "write error: %s", strerror(e));
}

/* ------------------------------------------------ outputs committed together */

/* Renames waiting for the next sidecar: prepared outputs and finished partial files. */
typedef struct held_rename {
    resim_out *owner; /* NULL for a partial file, which is kept on failure */
    char from[1100], to[1100], backup[1200];
} held_rename;

#define HELD_MAX 16
static held_rename held[HELD_MAX];
static size_t n_held;

static void held_drop(const resim_out *o)
{
    for (size_t k = 0; k < n_held; k++)
        if (held[k].owner == o) {
            memmove(&held[k], &held[k + 1], (n_held - k - 1) * sizeof held[0]);
            n_held--;
            return;
        }
}

/* Removes every held temporary file (a partial file stays, for --resume). */
static void held_abandon(void)
{
    for (size_t k = 0; k < n_held; k++)
        if (held[k].owner != NULL) {
            tmp_remove(held[k].owner->tmp);
            held[k].owner->held = 0;
            held[k].owner->kind = RESIM_OUT_NONE;
        }
    n_held = 0;
}

/*
 * Renames every held file into place, then (if given) the sidecar's: all of
 * them or none. A file being replaced is first linked to a backup name so
 * that a failed rename later in the group can put it back. Signals wait
 * until the group is in place or undone.
 */
static int rename_group(held_rename *side, resim_error *err)
{
    held_rename *g[HELD_MAX + 1];
    size_t n = 0;
    for (size_t k = 0; k < n_held; k++)
        g[n++] = &held[k];
    if (side != NULL)
        g[n++] = side;
    sigset_t old;
    block_signals(&old);
    size_t done = 0;
    int rc = RESIM_OK;
    for (; done < n; done++) {
        held_rename *h = g[done];
        h->backup[0] = '\0';
        struct stat st;
        if (n > 1 && lstat(h->to, &st) == 0 && S_ISREG(st.st_mode)) {
            for (int attempt = 0; attempt < 100; attempt++) {
                snprintf(h->backup, sizeof h->backup, "%s.bak.%d.%d", h->to, (int)getpid(),
                         attempt);
                if (link(h->to, h->backup) == 0)
                    break;
                h->backup[0] = '\0';
                if (errno != EEXIST)
                    break;
            }
            if (h->backup[0] != '\0')
                tmp_register(h->backup);
        }
        if (rename(h->from, h->to) != 0) {
            rc = resim_error_set(err, RESIM_EIO, h->to, 0, "cannot rename into place: %s",
                                 strerror(errno));
            if (h->backup[0] != '\0')
                tmp_remove(h->backup);
            break;
        }
    }
    if (rc != RESIM_OK) {
        /* Undo the renames done: the old files come back, new ones go. */
        while (done-- > 0) {
            held_rename *h = g[done];
            if (h->owner == NULL && h != side)
                rename(h->to, h->from); /* a partial file goes back for --resume */
            else if (h->backup[0] == '\0')
                unlink(h->to);
            if (h->backup[0] != '\0') {
                rename(h->backup, h->to);
                tmp_forget(h->backup);
                h->backup[0] = '\0';
            }
        }
    }
    for (size_t k = 0; k < n; k++) {
        if (g[k]->backup[0] != '\0')
            tmp_remove(g[k]->backup);
        if (g[k]->owner != NULL) {
            if (rc == RESIM_OK) {
                tmp_forget(g[k]->owner->tmp);
                g[k]->owner->tmp[0] = '\0';
            } else {
                tmp_remove(g[k]->owner->tmp);
            }
            g[k]->owner->held = 0;
            g[k]->owner->kind = RESIM_OUT_NONE;
        }
    }
    n_held = 0;
    restore_signals(&old);
    return rc;
}

/* Writes a sidecar's text to its temporary file and renames the group. */
static int commit_sidecar(resim_out *o, resim_error *err)
{
    int e = close_checked(o->fp, 0);
    o->fp = NULL;
    if (e != 0) {
        held_abandon();
        return resim_error_set(err, RESIM_ENOMEM, o->path, 0, "cannot build the sidecar");
    }
    char *text = NULL;
    size_t len = 0;
    int rc = resim_sidecar_render(o->mem, o->mem_len, o->path, &text, &len, err);
    if (rc == RESIM_OK && o->discard) {
        free(text);
        return rename_group(NULL, err);
    }
    held_rename side = {.owner = o};
    if (rc == RESIM_OK) {
        char target[1100];
        resim_out f;
        memcpy(target, o->path, sizeof target);
        rc = resim_out_open(&f, target, err);
        if (rc == RESIM_OK && f.kind != RESIM_OUT_FILE) {
            /* The sidecar's own name is a device: written there directly. */
            size_t w = fwrite(text, 1, len, f.fp);
            e = close_checked(f.fp, 0);
            rc = w != len || e != 0 ? write_error(err, target, e ? e : EIO) : RESIM_OK;
            free(text);
            return rc == RESIM_OK ? rename_group(NULL, err) : (held_abandon(), rc);
        }
        if (rc == RESIM_OK) {
            size_t w = fwrite(text, 1, len, f.fp);
            e = close_checked(f.fp, 1);
            f.fp = NULL;
            if (w != len || e != 0)
                rc = write_error(err, target, e ? e : EIO);
            /* The sidecar's temporary file now belongs to o. */
            memcpy(o->tmp, f.tmp, sizeof o->tmp);
            memcpy(o->path, f.path, sizeof o->path);
            snprintf(side.from, sizeof side.from, "%s", o->tmp);
            snprintf(side.to, sizeof side.to, "%s", o->path);
        }
    }
    free(text);
    if (rc != RESIM_OK) {
        held_abandon();
        tmp_remove(o->tmp);
        return rc;
    }
    return rename_group(&side, err);
}

int resim_out_prepare(resim_out *o, resim_error *err)
{
    if (o->held)
        return RESIM_OK;
    if (o->kind != RESIM_OUT_FILE)
        return resim_out_commit(o, err);
    int e = close_checked(o->fp, 1);
    o->fp = NULL;
    if (e != 0) {
        tmp_remove(o->tmp);
        return write_error(err, o->path, e);
    }
    if (n_held == HELD_MAX)
        return resim_out_commit(o, err);
    held_rename *h = &held[n_held++];
    memset(h, 0, sizeof *h);
    h->owner = o;
    snprintf(h->from, sizeof h->from, "%s", o->tmp);
    snprintf(h->to, sizeof h->to, "%s", o->path);
    o->held = 1;
    return RESIM_OK;
}

int resim_out_commit(resim_out *o, resim_error *err)
{
    int e;
    int kind = o->kind;
    /* Committed (or failed) once: a second commit has nothing to do. */
    if (kind != RESIM_OUT_STDOUT)
        o->kind = RESIM_OUT_NONE;
    switch (kind) {
    case RESIM_OUT_STDOUT:
        o->fp = NULL;
        if (fflush(stdout) != 0 || ferror(stdout))
            return write_error(err, "stdout", errno ? errno : EIO);
        return RESIM_OK;
    case RESIM_OUT_DIRECT:
        e = close_checked(o->fp, 0);
        o->fp = NULL;
        return e != 0 ? write_error(err, o->path, e) : RESIM_OK;
    case RESIM_OUT_MEMORY:
        return commit_sidecar(o, err);
    case RESIM_OUT_FILE:
        break;
    default:
        return RESIM_OK;
    }
    if (o->held) {
        /* Prepared already: committed on its own now. */
        held_drop(o);
        o->held = 0;
    } else {
        e = close_checked(o->fp, 1);
        o->fp = NULL;
        if (e != 0) {
            tmp_remove(o->tmp);
            return write_error(err, o->path, e);
        }
    }
    sigset_t old;
    block_signals(&old);
    int bad = rename(o->tmp, o->path) != 0;
    int saved = errno;
    restore_signals(&old);
    if (bad) {
        tmp_remove(o->tmp);
        return resim_error_set(err, RESIM_EIO, o->path, 0, "cannot rename into place: %s",
                               strerror(saved));
    }
    block_signals(&old);
    tmp_forget(o->tmp);
    restore_signals(&old);
    o->tmp[0] = '\0';
    return RESIM_OK;
}

void resim_out_abort(resim_out *o)
{
    if (o->fp != NULL && o->fp != stdout)
        fclose(o->fp);
    o->fp = NULL;
    if (o->held) {
        held_drop(o);
        o->held = 0;
    }
    tmp_remove(o->tmp);
    free(o->mem);
    o->mem = NULL;
    o->mem_len = 0;
}

int resim_temp_create(const char *base, const char *suffix, char *name, size_t size)
{
    return create_unique(base, suffix, name, size);
}

void resim_temp_remove(char *name)
{
    tmp_remove(name);
}

/* ------------------------------------------------ partial files */

/*
 * Takes an advisory write lock on the whole file (fcntl, so it also holds
 * on NFS): a second sweep to the same output is refused while the first
 * runs. The lock goes with the process. Returns 0, or -1 with errno EBUSY
 * when another process holds it.
 */
static int lock_partial(int fd)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) == 0)
        return 0;
    if (errno == EACCES || errno == EAGAIN)
        errno = EBUSY;
    return -1;
}

/* A stream on fd once it is locked; on failure fd is closed and errno kept. */
static FILE *locked_stream(int fd, const char *mode)
{
    FILE *fp = lock_partial(fd) == 0 ? fdopen(fd, mode) : NULL;
    if (fp == NULL) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return fp;
}

FILE *resim_partial_create(const char *path)
{
    size_t n = strlen(path);
    if (n > 8 && strcmp(path + n - 8, ".partial") == 0 && n - 8 < 1100) {
        char final[1100];
        memcpy(final, path, n - 8);
        final[n - 8] = '\0';
        struct stat st;
        if (fd_alias(final) || (stat(final, &st) == 0 && !S_ISREG(st.st_mode))) {
            /* FILE.partial is renamed onto FILE: a device or directory there is refused. */
            errno = fd_alias(final) || !S_ISDIR(st.st_mode) ? ENOTSUP : EISDIR;
            return NULL;
        }
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            errno = S_ISLNK(st.st_mode) ? ELOOP : EEXIST;
            return NULL;
        }
        /* Left by an earlier run and not resumed: replaced, unless a sweep
         * is writing it now. */
        int old = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (old >= 0 && lock_partial(old) != 0) {
            int saved = errno;
            close(old);
            errno = saved;
            return NULL;
        }
        int gone = unlink(path);
        if (old >= 0)
            close(old);
        if (gone != 0)
            return NULL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        if (errno == EEXIST) /* another sweep created it just now */
            errno = EBUSY;
        return NULL;
    }
    return locked_stream(fd, "w");
}

const char *resim_partial_strerror(int errnum)
{
    switch (errnum) {
    case EBUSY:
        return "another resim sweep is writing it (the file is locked)";
    case ENOTSUP:
        return "the output must be a regular file (FILE.partial is renamed onto it)";
    case ELOOP:
        return "is a symbolic link (a partial file is never written through one)";
    case EEXIST:
        return "exists and is not a regular file";
    default:
        return strerror(errnum);
    }
}

FILE *resim_partial_reopen(const char *path)
{
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EEXIST;
        return NULL;
    }
    return locked_stream(fd, "r+");
}

int resim_partial_hold(const char *partial, const char *path)
{
    char final[1100];
    int how;
    if (classify(path, final, sizeof final, &how, NULL) != RESIM_OK || how == TARGET_DIRECT) {
        errno = ENOTSUP;
        return -1;
    }
    if (n_held == HELD_MAX) {
        errno = ENOMEM;
        return -1;
    }
    held_rename *h = &held[n_held++];
    memset(h, 0, sizeof *h);
    snprintf(h->from, sizeof h->from, "%s", partial);
    snprintf(h->to, sizeof h->to, "%s", final);
    return 0;
}

/* ------------------------------------------------ CSV fields */
void resim_csv_text(FILE *fp, const char *s)
{
    if (strpbrk(s, ",\"\r\n") != NULL)
        csv_fwrite(fp, s, strlen(s));
    else
        fputs(s, fp);
}

/* Whole numbers keep a decimal point, so every reader types the column as real. */
static int real_point(char *buf, size_t size, int n)
{
    if (n > 0 && (size_t)n + 2 < size && strpbrk(buf, ".eni") == NULL) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    return n;
}

int resim_format_number(char *buf, size_t size, double v)
{
    if (isnan(v)) {
        buf[0] = '\0';
        return 0;
    }
    if (v == 0)
        v = 0; /* no "-0" */
    /* 17 significant digits read back exactly (a shortest-form search costs
     * four times as much, and output is a large part of a big run). */
    return real_point(buf, size, snprintf(buf, size, "%.17g", v));
}

int resim_format_short(char *buf, size_t size, double v)
{
    if (isnan(v)) {
        buf[0] = '\0';
        return 0;
    }
    if (v == 0)
        v = 0;
    /* The fewest of 15, 16 or 17 significant digits that read back exactly. */
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return real_point(buf, size, n);
}

void resim_csv_number(FILE *fp, double v)
{
    char buf[32];
    resim_format_number(buf, sizeof buf, v);
    fputs(buf, fp);
}

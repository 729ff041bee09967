/*
 * model.c - one month of docs/model.md section 5 (with the version-2
 * mechanisms of sections 9-13) for every importer and element, from the
 * start state of section 6. Pure computation into caller-owned arrays: no
 * I/O, and nothing allocated after resim_model_init.
 */
#include "resim/model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "resim/licensing.h"
#include "resim/rng.h"

#define RESIM_METRIC_NAME(id, name) name,
const char *const resim_metric_names[RESIM_NMETRICS] = {RESIM_METRIC_LIST(RESIM_METRIC_NAME)};
#undef RESIM_METRIC_NAME

/* Cells of a kernel's guide table (a power of 2, so u * GUIDE is exact). */
#define GUIDE 64

/* A cached kernel (docs/model.md section 4) for one review-delay setting. */
typedef struct kentry {
    double mu, cv;
    size_t cap, first, end;
    double *w;   /* [end + 1]: bins [first, end), then the after-horizon mass */
    double *cum; /* [end + 1] after w: the same, cumulated and normalised, for
                  * drawing one lot's month; the last category with mass is
                  * given 2, so every uniform draw lands in one */
    uint32_t *guide; /* [GUIDE] after cum: guide[i], counted from first, is the
                      * first bin with i / GUIDE < cum (where a search for a
                      * uniform in [i / GUIDE, (i + 1) / GUIDE) may start) */
    int used;    /* needed by the run being set up */
} kentry;

/* Lever values spread over an element's importers by status: supply-line
 * lead (section 13), extra cover target X* (section 10), approval (section
 * 9), general-licence share (section 13), stockpile eligibility (section 12). */
enum { Q_LEAD, Q_XT, Q_APPR, Q_GL, Q_ELIG, Q_N };

struct resim_model {
    const resim_scenario *sc;
    resim_grouping by;
    size_t E, N, G;
    size_t K;            /* decision ring length: longest kernel in the run */
    size_t L1;           /* transit ring length: transit_months + 1 */
    int t0, t;           /* first simulated month, next month to simulate */
    size_t next_event;
    resim_levers lv;
    unsigned char *status;   /* [N] */
    size_t *desc, *asc;      /* importers by exposure, ties by table order */
    double *sorted_for;      /* [N]: the exposures desc and asc were sorted for */
    int sorted;
    /* Per-importer state and inputs of each element, [E][N] by active
     * index q (the q-th importer with a share, in table order), so that
     * the monthly passes read and write them in a line. */
    double *inv, *pend, *intr; /* inventory, pending, in transit */
    double *sh, *cv, *ml;      /* share, cover months, military share */
    unsigned char *stq;        /* list status */
    /* Lever values by status (Q_*), spread over q: [E][Q_N][N], rebuilt
     * when a value or a status changes (qtab: the values they were spread
     * from; qstale: a status changed since). */
    double *lq;
    double qtab[RESIM_MAX_ELEMENTS][Q_N][RESIM_NSTATUSES];
    unsigned char qstale[RESIM_MAX_ELEMENTS];
    /* Volume to be decided, [E][K][N]: element, month mod K, then one column
     * per active importer, the columns grouped by list status (in any
     * order within a status: sums go through col in table order), so that
     * filing one status's kernel is a straight vector update of K rows
     * (docs/model.md section 4). */
    double *ring;
    size_t *col;             /* [E*N]: column of element e's q-th active importer */
    size_t *gbeg;            /* [E*(NSTATUSES+1)]: first column of each status, then the end */
    unsigned char *status_cols; /* [N]: the statuses the columns are grouped by */
    size_t *qcol;            /* [E*N]: the active importer (q) in each column */
    size_t *qof;             /* [E*N]: q of importer i in element e, or NO_Q */
    double *trans;           /* [E][L1][N]: volume approved, by month mod L1, then q */
    /* Kernels of every review-delay setting a run meets, computed at init
     * and kept for the next runs (sweeps and ensembles repeat settings). */
    kentry *kc;
    size_t nkc, capkc;
    double *kscratch;        /* [horizon]: a kernel being computed */
    size_t kscratch_n;
    /* Current kernel of each status and scenario element (section 9): bins
     * [kfirst, kend), then at kend the mass decided after the horizon. */
    const double *kw[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS];
    const double *kcum[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS];
    const uint32_t *kguide[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS];
    size_t kfirst[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS], kend[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS];
    double kmu[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS], kcv[RESIM_NSTATUSES][RESIM_MAX_ELEMENTS];
    double *xcover;          /* [E][N] by q: precautionary extra cover X, months (section 10) */
    double *subst;           /* [E][N] by q: substituted share S (section 11) */
    int *low_months;         /* [E]: n_e, consecutive months below the trigger (section 12) */
    /* Whether some X (or S) of an element may be nonzero: while neither is,
     * the month skips their arithmetic, which would change nothing. [E] */
    unsigned char *x_live, *s_live;
    double *scratch;         /* [S_N*N] per-importer values of the element in hand */
    /* Importers with a share of each element, [E][N] and [E]: one without
     * stays at zero in every month (no demand, stock or orders), so the
     * monthly loops skip it; adding its zeros would change no sum. */
    size_t *active, *n_active;
    resim_warn_fn warn;
    void *warn_ctx;
    const unsigned char *group_status; /* [N] fixed status groups, or NULL */

    /* Stochastic mode (docs/model.md section 8); NULL generators: deterministic. */
    gsl_rng *lots_rng, *list_rng;
    double *ring_lots;       /* [E][K][N] like ring: lots to be decided */
    unsigned int *counts;    /* [K+1]: lots per kernel bin of one filing */
    /* The lot stream's next uniforms, read ahead in bulk when it comes from
     * resim_rng_alloc: ubuf[upos..ulen) are still to be used, and the
     * stream itself stands at ubuf[ubase] until lots_sync moves it on. */
    int bulk;
    size_t upos, ulen, ubase;
    uint64_t gsl_from;       /* the stream's position when GSL began to draw */
    double kfrac[9][9];      /* [n][k]: k / n for n, k <= APPROVE_DIRECT (0 for n = 0) */
    double ubuf[1024];
};

/* Per-importer values of the element in hand, by q; S_REV is by column. */
enum {
    S_D, S_R, S_ALT, S_FILED, S_APPR, S_REJ, S_ARR, S_AVAIL, S_UNMET, S_GL, S_REV, S_REVQ,
    S_DEC, S_NLOTS, S_MIN, S_UNEL, S_REL, S_C, S_SUB, S_N
};


/* Orders importers for list moves (docs/model.md section 3) by insertion sort,
 * which is stable and needs no global comparator state. */
static void sort_exposure(size_t *idx, const double *x, size_t n, int descending)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && (descending ? x[idx[j - 1]] < x[v] : x[idx[j - 1]] > x[v])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

void resim_model_free(resim_model *m)
{
    if (m == NULL)
        return;
    free(m->status);
    free(m->desc);
    free(m->asc);
    free(m->inv);
    free(m->pend);
    free(m->intr);
    free(m->sh);
    free(m->cv);
    free(m->ml);
    free(m->stq);
    free(m->lq);
    free(m->ring);
    free(m->col);
    free(m->gbeg);
    free(m->status_cols);
    free(m->qcol);
    free(m->qof);
    free(m->trans);
    for (size_t k = 0; k < m->nkc; k++)
        free(m->kc[k].w);
    free(m->kc);
    free(m->kscratch);
    free(m->xcover);
    free(m->subst);
    free(m->low_months);
    free(m->x_live);
    free(m->s_live);
    free(m->scratch);
    free(m->active);
    free(m->n_active);
    free(m->sorted_for);
    free(m->ring_lots);
    free(m->counts);
    free(m);
}

resim_model *resim_model_alloc(const resim_scenario *sc, resim_grouping by, resim_error *err)
{
    resim_model *m = calloc(1, sizeof *m);
    if (m == NULL) {
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        return NULL;
    }
    size_t E = sc->n_elements, N = sc->n_importers;
    m->by = by;
    m->E = E;
    m->N = N;
    m->G = by == RESIM_BY_NONE ? 1 : by == RESIM_BY_STATUS ? 1 + RESIM_NSTATUSES : 1 + N;
    m->status = malloc(N);
    m->desc = malloc(N * sizeof *m->desc);
    m->asc = malloc(N * sizeof *m->asc);
    m->inv = malloc(E * N * sizeof(double));
    m->pend = malloc(E * N * sizeof(double));
    m->intr = malloc(E * N * sizeof(double));
    m->sh = malloc(E * N * sizeof(double));
    m->cv = malloc(E * N * sizeof(double));
    m->ml = malloc(E * N * sizeof(double));
    m->stq = malloc(E * N);
    m->lq = malloc(E * Q_N * N * sizeof(double));
    m->xcover = malloc(E * N * sizeof(double));
    m->subst = malloc(E * N * sizeof(double));
    m->low_months = malloc(E * sizeof *m->low_months);
    m->x_live = malloc(E);
    m->s_live = malloc(E);
    m->scratch = malloc(S_N * N * sizeof(double));
    m->active = malloc(E * N * sizeof *m->active);
    m->n_active = malloc(E * sizeof *m->n_active);
    m->sorted_for = malloc(N * sizeof(double));
    m->col = malloc(E * N * sizeof *m->col);
    m->gbeg = malloc(E * (RESIM_NSTATUSES + 1) * sizeof *m->gbeg);
    m->status_cols = malloc(N);
    m->qcol = malloc(E * N * sizeof *m->qcol);
    m->qof = malloc(E * N * sizeof *m->qof);
    if (!m->status || !m->desc || !m->asc || !m->inv || !m->pend || !m->intr || !m->scratch ||
        !m->active || !m->n_active || !m->sorted_for || !m->xcover || !m->subst || !m->low_months ||
        !m->x_live || !m->s_live || !m->col || !m->gbeg || !m->status_cols || !m->qcol ||
        !m->qof || !m->sh || !m->cv || !m->ml || !m->stq || !m->lq) {
        resim_model_free(m);
        resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
        return NULL;
    }
    return m;
}

void resim_model_set_random(resim_model *m, gsl_rng *lots, gsl_rng *lists)
{
    m->lots_rng = lots;
    m->list_rng = lists;
    m->bulk = resim_rng_bulk(lots);
    m->upos = m->ulen = m->ubase = 0;
    for (unsigned int n = 0; n < 9; n++)
        for (unsigned int k = 0; k < 9; k++)
            m->kfrac[n][k] = n > 0 ? (double)k / n : 0;
}

void resim_model_set_warn(resim_model *m, resim_warn_fn fn, void *ctx)
{
    m->warn = fn;
    m->warn_ctx = ctx;
}

int resim_model_month(const resim_model *m) { return m->t; }
size_t resim_model_groups(const resim_model *m) { return m->G; }
const unsigned char *resim_model_status(const resim_model *m) { return m->status; }

void resim_model_set_groups(resim_model *m, const unsigned char *status)
{
    m->group_status = status;
}

/* ------------------------------------------------------------ levers */

/* Whether an event sets a review-delay lever (docs/model.md sections 4 and 9), and of which status. */
static int is_delay_event(const resim_event *ev, int *status)
{
    if (ev->kind != RESIM_EV_SET || (ev->lever.id != RESIM_LEVER_DELAY_MEAN_DAYS &&
                                     ev->lever.id != RESIM_LEVER_DELAY_CV))
        return 0;
    *status = ev->lever.status;
    return 1;
}

static size_t horizon(const resim_scenario *sc) { return (size_t)(sc->warmup + sc->months); }

/* Kernels kept beyond those the current run needs. */
#define KERNEL_CACHE_MAX 64

static kentry *kernel_find(const resim_model *m, double mu, double cv, size_t cap)
{
    for (size_t k = 0; k < m->nkc; k++)
        if (m->kc[k].mu == mu && m->kc[k].cv == cv && m->kc[k].cap == cap)
            return &m->kc[k];
    return NULL;
}

/* The kernel of (mu, cv) on a horizon of cap months, computed if new. */
static kentry *kernel_need(resim_model *m, double mu, double cv, size_t cap)
{
    kentry *e = kernel_find(m, mu, cv, cap);
    if (e == NULL) {
        if (m->nkc == m->capkc) {
            size_t n = m->capkc ? 2 * m->capkc : 8;
            kentry *kc = realloc(m->kc, n * sizeof *kc);
            if (kc == NULL)
                return NULL;
            m->kc = kc;
            m->capkc = n;
        }
        if (m->kscratch_n < cap) {
            double *w = realloc(m->kscratch, cap * sizeof *w);
            if (w == NULL)
                return NULL;
            m->kscratch = w;
            m->kscratch_n = cap;
        }
        size_t first, end;
        resim_licensing_kernel(mu, cv, cap, m->kscratch, &first, &end);
        double *w = malloc((2 * (end + 1) + GUIDE / 2) * sizeof *w);
        if (w == NULL)
            return NULL;
        double tail = 1;
        for (size_t k = first; k < end; k++) {
            w[k] = m->kscratch[k];
            tail -= w[k];
        }
        w[end] = tail > 0 ? tail : 0;
        double *cum = w + end + 1, norm = 0, acc = 0;
        size_t last = first;
        for (size_t k = first; k <= end; k++) {
            norm += w[k];
            if (w[k] > 0)
                last = k;
        }
        for (size_t k = first; k <= end; k++) {
            acc += w[k];
            cum[k] = k >= last ? 2 : acc / norm;
        }
        uint32_t *guide = (uint32_t *)(cum + end + 1);
        size_t g = first;
        for (size_t i = 0; i < GUIDE; i++) {
            while (!((double)i / GUIDE < cum[g]))
                g++;
            guide[i] = (uint32_t)(g - first);
        }
        e = &m->kc[m->nkc++];
        *e = (kentry){mu, cv, cap, first, end, w, cum, guide, 0};
    }
    e->used = 1;
    return e;
}

/*
 * Makes sure the cache holds the kernel of every delay setting of sc's
 * timeline, drops unneeded ones beyond KERNEL_CACHE_MAX, and returns the
 * longest kernel (the decision ring's length), or 0 when out of memory.
 */
static size_t prepare_kernels(resim_model *m, const resim_scenario *sc)
{
    for (size_t k = 0; k < m->nkc; k++)
        m->kc[k].used = 0;
    resim_levers lv = sc->initial;
    size_t cap = horizon(sc), K = 1;
    kentry *e;
    for (int s = 0; s < RESIM_NSTATUSES; s++)
        for (size_t q = 0; q < sc->n_elements; q++) {
            size_t x = sc->element[q];
            if ((e = kernel_need(m, lv.delay_mean_days[s][x], lv.delay_cv[s][x], cap)) == NULL)
                return 0;
            K = e->end > K ? e->end : K;
        }
    for (size_t k = 0; k < sc->n_events; k++) {
        const resim_event *ev = &sc->events[k];
        int s;
        if (!is_delay_event(ev, &s))
            continue;
        resim_lever_store(&lv, &ev->lever, ev->value);
        for (size_t q = 0; q < sc->n_elements; q++) {
            size_t x = sc->element[q];
            if ((e = kernel_need(m, lv.delay_mean_days[s][x], lv.delay_cv[s][x], cap)) == NULL)
                return 0;
            K = e->end > K ? e->end : K;
        }
    }
    if (m->nkc > KERNEL_CACHE_MAX) {
        size_t kept = 0;
        for (size_t k = 0; k < m->nkc; k++) {
            if (m->kc[k].used)
                m->kc[kept++] = m->kc[k];
            else
                free(m->kc[k].w);
        }
        m->nkc = kept;
    }
    return K;
}

/* Points each status at the kernel of its current delay setting; every
 * setting of the run was prepared at init, so nothing is computed here. */
static void refresh_kernels(resim_model *m)
{
    const resim_scenario *sc = m->sc;
    size_t cap = horizon(sc);
    for (int s = 0; s < RESIM_NSTATUSES; s++)
        for (size_t q = 0; q < sc->n_elements; q++) {
            size_t x = sc->element[q];
            double mu = m->lv.delay_mean_days[s][x], cv = m->lv.delay_cv[s][x];
            if (mu == m->kmu[s][q] && cv == m->kcv[s][q])
                continue;
            const kentry *e = kernel_find(m, mu, cv, cap);
            if (e == NULL)
                continue; /* cannot happen: prepare_kernels walked the same timeline */
            m->kw[s][q] = e->w;
            m->kcum[s][q] = e->cum;
            m->kguide[s][q] = e->guide;
            m->kfirst[s][q] = e->first;
            m->kend[s][q] = e->end;
            m->kmu[s][q] = mu;
            m->kcv[s][q] = cv;
        }
}

static void warn_moves(resim_model *m, const resim_event *ev, size_t moved)
{
    if (m->warn == NULL)
        return;
    char msg[512];
    const resim_ini_entry *e = ev->entry;
    char where[300];
    if (e->line > 0) /* an override from the command line has no line */
        snprintf(where, sizeof where, "%s:%ld", e->file, e->line);
    else
        snprintf(where, sizeof where, "%s", e->file);
    snprintf(msg, sizeof msg, "%s: [%s] %s = %s: only %zu importers could move", where,
             e->section, e->key, e->value, moved);
    m->warn(m->warn_ctx, msg);
}

/* list.add / list.remove (docs/model.md section 3): deterministic by exposure. */
static void list_move(resim_model *m, const resim_event *ev)
{
    /* More than there are importers moves them all (and warns); the cast of a
     * larger double to size_t would be undefined. */
    size_t want = ev->value > 0 ? (ev->value < (double)m->N + 1 ? (size_t)ev->value : m->N + 1) : 0;
    size_t moved = 0;
    int to = ev->status;
    for (size_t k = 0; k < m->N && moved < want; k++) {
        if (ev->kind == RESIM_EV_LIST_ADD) {
            size_t i = m->desc[k];
            int ok = to == RESIM_CONTROL ? m->status[i] != RESIM_CONTROL : m->status[i] == RESIM_NONE;
            if (ok) {
                m->status[i] = (unsigned char)to;
                moved++;
            }
        } else {
            size_t i = m->asc[k];
            if (m->status[i] == to) {
                m->status[i] = RESIM_NONE;
                moved++;
            }
        }
    }
    if (moved < want)
        warn_moves(m, ev, moved);
}

/* A lowered substitution cap clamps S at once, in step 1 (section 11). */
static void clamp_substitution(resim_model *m)
{
    for (size_t e = 0; e < m->E; e++) {
        double cap = m->lv.subst_cap[m->sc->element[e]];
        double *S = m->subst + e * m->N;
        for (size_t i = 0; i < m->N; i++)
            if (S[i] > cap)
                S[i] = cap;
    }
}

/* stockpile.eligible when every status is (the default). */
#define ELIGIBLE_ALL ((1u << RESIM_NSTATUSES) - 1)

static void apply_event(resim_model *m, const resim_event *ev)
{
    const resim_scenario *sc = m->sc;
    unsigned char *ctrl = m->lv.controlled;
    switch (ev->kind) {
    case RESIM_EV_SET:
        resim_lever_store(&m->lv, &ev->lever, ev->value);
        if (ev->lever.id == RESIM_LEVER_SUBST_CAP)
            clamp_substitution(m);
        break;
    case RESIM_EV_CONTROLLED:
        memcpy(ctrl, ev->elements, RESIM_MAX_ELEMENTS);
        break;
    case RESIM_EV_CONTROLLED_ADD:
    case RESIM_EV_CONTROLLED_REMOVE:
        for (size_t x = 0; x < RESIM_MAX_ELEMENTS; x++)
            if (ev->elements[x])
                ctrl[x] = ev->kind == RESIM_EV_CONTROLLED_ADD;
        break;
    case RESIM_EV_LIST_ADD:
    case RESIM_EV_LIST_REMOVE:
        list_move(m, ev);
        break;
    case RESIM_EV_LIST_SET:
        for (size_t k = 0; k < ev->set_count; k++) {
            const resim_list_assign *a = &sc->list_set[ev->set_first + k];
            m->status[a->importer] = (unsigned char)a->status;
        }
        break;
    }
}

static void apply_events(resim_model *m, int t)
{
    const resim_scenario *sc = m->sc;
    while (m->next_event < sc->n_events && sc->events[m->next_event].month <= t)
        apply_event(m, &sc->events[m->next_event++]);
}

/* ------------------------------------------------------------ supply */

/* D_e(t), docs/model.md section 5 step 2. */
static double national_demand(const resim_levers *lv, size_t x, int t)
{
    return lv->base_tpy[x] / 12 * pow(1 + lv->growth[x], t / 12.0);
}

/* A_e(t), docs/model.md section 5 step 3. */
static double alt_capacity(const resim_model *m, size_t e, int t)
{
    const resim_scenario *sc = m->sc;
    const resim_levers *lv = &m->lv;
    double A = 0;
    for (size_t k = 0; k < sc->n_sources; k++) {
        if (sc->source_element[k] != e)
            continue;
        const resim_source_levers *s = &lv->source[sc->source[k]];
        double start = s->start + lv->alt_delay_months + s->delay_months;
        if (t < start)
            continue;
        double ramp = s->ramp_months > 1 ? s->ramp_months : 1;
        double full = start + ramp - 1;
        double r = fmin(1, (t - start + 1) / ramp);
        double cap = s->capacity_tpy * lv->alt_capacity_factor * s->capacity_factor * r *
                     pow(1 + s->growth, fmax(0, t - full) / 12);
        A += s->japan_share * cap / 12;
    }
    return A;
}

/* Share of demand China must cover: 1 - min(1, A_e / D_e). */
static double china_fraction(double De, double Ae) { return De > 0 ? 1 - fmin(1, Ae / De) : 0; }

/* ------------------------------------------------------------ columns */

/* No active importer at this index. */
#define NO_Q ((size_t)-1)

/*
 * Groups the ring columns of every element by current list status, in
 * table order within a status (at the start of a run, when the rings are
 * empty).
 */
static void lay_columns(resim_model *m)
{
    const size_t N = m->N, NS = RESIM_NSTATUSES;
    for (size_t e = 0; e < m->E; e++) {
        const size_t *act = m->active + e * N, n = m->n_active[e];
        size_t *col = m->col + e * N, *gb = m->gbeg + e * (NS + 1);
        size_t *qcol = m->qcol + e * N, *qof = m->qof + e * N;
        size_t next[RESIM_NSTATUSES] = {0};
        for (size_t q = 0; q < n; q++)
            next[m->status[act[q]]]++;
        size_t c = 0;
        for (size_t st = 0; st < NS; st++) {
            gb[st] = c;
            size_t k = next[st];
            next[st] = c;
            c += k;
        }
        gb[NS] = c;
        for (size_t i = 0; i < N; i++)
            qof[i] = NO_Q;
        for (size_t q = 0; q < n; q++) {
            col[q] = next[m->status[act[q]]]++;
            qcol[col[q]] = q;
            qof[act[q]] = q;
        }
    }
    memcpy(m->status_cols, m->status, N);
}

/* Copies the current list statuses to every element's q order, and marks
 * the lever values spread from them stale. */
static void spread_status(resim_model *m)
{
    const size_t N = m->N;
    for (size_t e = 0; e < m->E; e++) {
        const size_t *act = m->active + e * N;
        unsigned char *st = m->stq + e * N;
        for (size_t q = 0; q < m->n_active[e]; q++)
            st[q] = m->status[act[q]];
        m->qstale[e] = 1;
    }
}

/* Swaps two ring columns of element e, with what they hold. */
static void swap_columns(resim_model *m, size_t e, size_t c1, size_t c2)
{
    if (c1 == c2)
        return;
    const size_t N = m->N, K = m->K;
    for (int r = 0; r < 2; r++) {
        double *ring = r == 0 ? m->ring : m->ring_lots;
        if (r == 1 && m->lots_rng == NULL)
            break; /* the deterministic mode never reads the lot ring */
        for (size_t k = 0; k < K; k++) {
            double *row = ring + (e * K + k) * N, v = row[c1];
            row[c1] = row[c2];
            row[c2] = v;
        }
    }
    size_t *col = m->col + e * N, *qcol = m->qcol + e * N;
    const size_t q1 = qcol[c1], q2 = qcol[c2];
    col[q1] = c2;
    col[q2] = c1;
    qcol[c1] = q2;
    qcol[c2] = q1;
}

/*
 * Moves the columns of importers whose status changed into their new
 * status's group: one swap with a neighbouring group's edge column per
 * group crossed, so a few moves cost a few columns, not a new layout.
 * Order within a group does not matter (filing is per column; sums run in
 * table order through col).
 */
static void regroup_columns(resim_model *m)
{
    const size_t N = m->N, NS = RESIM_NSTATUSES;
    for (size_t i = 0; i < N; i++) {
        const int from = m->status_cols[i], to = m->status[i];
        if (from == to)
            continue;
        for (size_t e = 0; e < m->E; e++) {
            const size_t q = m->qof[e * N + i];
            if (q == NO_Q)
                continue;
            size_t *gb = m->gbeg + e * (NS + 1);
            for (int g = from; g < to; g++) { /* the last column of g becomes g+1's first */
                swap_columns(m, e, m->col[e * N + q], gb[g + 1] - 1);
                gb[g + 1]--;
            }
            for (int g = from; g > to; g--) { /* the first column of g becomes g-1's last */
                swap_columns(m, e, m->col[e * N + q], gb[g]);
                gb[g]++;
            }
        }
        m->status_cols[i] = (unsigned char)to;
    }
}

/* ------------------------------------------------------------ init */

int resim_model_init(resim_model *m, const resim_scenario *sc, resim_error *err)
{
    if (sc->n_elements != m->E || sc->n_importers != m->N)
        return resim_error_set(err, RESIM_EINVAL, NULL, 0,
                               "scenario shape differs from the model's allocation");
    size_t E = m->E, N = m->N;
    size_t K = prepare_kernels(m, sc), L1 = (size_t)sc->transit + 1;
    if (K == 0)
        return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    if (K > m->K || L1 > m->L1) {
        size_t nk = K > m->K ? K : m->K, nl = L1 > m->L1 ? L1 : m->L1;
        double *ring = realloc(m->ring, E * N * nk * sizeof(double));
        if (ring != NULL)
            m->ring = ring;
        unsigned int *counts = realloc(m->counts, (nk + 1) * sizeof *counts);
        if (counts != NULL)
            m->counts = counts;
        double *lots = realloc(m->ring_lots, E * N * nk * sizeof(double));
        if (lots != NULL)
            m->ring_lots = lots;
        double *trans = realloc(m->trans, E * N * nl * sizeof(double));
        if (trans != NULL)
            m->trans = trans;
        if (ring == NULL || trans == NULL || counts == NULL || lots == NULL)
            return resim_error_set(err, RESIM_ENOMEM, NULL, 0, "out of memory");
    }
    m->K = K;
    m->L1 = L1;
    m->upos = m->ulen = m->ubase = 0; /* nothing read ahead of a new run's stream */
    memset(m->counts, 0, (K + 1) * sizeof *m->counts);
    m->sc = sc;
    m->t0 = m->t = -sc->warmup;
    m->next_event = 0;
    m->lv = sc->initial;
    memcpy(m->status, sc->data->status0, N);
    /* The same exposures give the same order: sort only when they change. */
    if (!m->sorted || memcmp(m->sorted_for, sc->data->exposure, N * sizeof(double)) != 0) {
        sort_exposure(m->desc, sc->data->exposure, N, 1);
        sort_exposure(m->asc, sc->data->exposure, N, 0);
        memcpy(m->sorted_for, sc->data->exposure, N * sizeof(double));
        m->sorted = 1;
    }
    memset(m->pend, 0, E * N * sizeof(double));
    memset(m->subst, 0, E * N * sizeof(double));
    for (size_t e = 0; e < E; e++) {
        m->low_months[e] = 0; /* months before the start count as at or above the trigger */
        m->s_live[e] = 0;
        m->x_live[e] = 0;
    }
    for (int s = 0; s < RESIM_NSTATUSES; s++)
        for (size_t e = 0; e < RESIM_MAX_ELEMENTS; e++)
            m->kmu[s][e] = m->kcv[s][e] = NAN; /* forces a refresh */

    /* Only importers with a share are ever read, so only their rings are cleared. */
    for (size_t e = 0; e < E; e++) {
        m->n_active[e] = 0;
        for (size_t i = 0; i < N; i++) {
            size_t b = e * N + i, q = m->n_active[e];
            if (sc->share[b] == 0)
                continue;
            m->active[e * N + q] = i;
            m->sh[e * N + q] = sc->share[b];
            m->cv[e * N + q] = sc->data->cover[i];
            m->ml[e * N + q] = sc->data->military[i];
            m->n_active[e]++;
        }
        for (size_t k = 0; k < L1; k++)
            memset(m->trans + (e * L1 + k) * N, 0, m->n_active[e] * sizeof(double));
        for (size_t k = 0; k < K; k++) {
            memset(m->ring + (e * K + k) * N, 0, m->n_active[e] * sizeof(double));
            if (m->lots_rng != NULL) /* the deterministic mode never reads the lot ring */
                memset(m->ring_lots + (e * K + k) * N, 0, m->n_active[e] * sizeof(double));
        }
    }

    /* Events dated on or before the first month take effect in it (section 1). */
    apply_events(m, m->t0);
    lay_columns(m);
    spread_status(m);

    /* Section 6: inventory at target, with the extra cover X = X* of month
     * t0 (section 10); the flow c0 approved in each of the L months before
     * t0 arrives in months t0 .. t0+L-1. */
    int L = sc->transit;
    for (size_t e = 0; e < E; e++) {
        const size_t x = sc->element[e], *act = m->active + e * N;
        const int ctrl = m->lv.controlled[x];
        double De = national_demand(&m->lv, x, m->t0);
        double frac = china_fraction(De, alt_capacity(m, e, m->t0));
        for (size_t i = 0; i < N; i++)
            m->x_live[e] |= ctrl && m->lv.precaution_months[m->status[i]][x] != 0;
        for (size_t q = 0; q < m->n_active[e]; q++) {
            size_t b = e * N + q;
            double D = m->sh[b] * De;
            double c0 = fmax(0, D * frac);
            double X = ctrl ? m->lv.precaution_months[m->status[act[q]]][x] : 0;
            m->xcover[b] = X;
            m->inv[b] = (m->cv[b] + X) * D;
            m->intr[b] = L * c0;
            /* Approval of month t0-j sits in slot (-j) mod L1 = L1-j. */
            for (int j = 1; j <= L; j++)
                m->trans[(e * L1 + L1 - (size_t)j) * N + q] = c0;
        }
    }
    return RESIM_OK;
}

/* ------------------------------------------------------------ step */

static void add_flows(double *row, double D, double R, double alt, double a, double ap, double rj,
                      double pend, double arr, double rel, double inv, double C, double sub)
{
    /* Shortfall is summed as D - C per importer, so it is exactly 0 when met. */
    row[RESIM_M_SHORTFALL] += D - C;
    row[RESIM_M_DEMAND] += D;
    row[RESIM_M_REQUIREMENT] += R;
    row[RESIM_M_ALT_SUPPLY] += alt;
    row[RESIM_M_CHINA_APPLIED] += a;
    row[RESIM_M_CHINA_APPROVED] += ap;
    row[RESIM_M_CHINA_REJECTED] += rj;
    row[RESIM_M_CHINA_PENDING] += pend;
    row[RESIM_M_CHINA_ARRIVALS] += arr;
    row[RESIM_M_STOCKPILE_RELEASE] += rel;
    row[RESIM_M_INVENTORY] += inv;
    row[RESIM_M_CONSUMPTION] += C;
    row[RESIM_M_SUBSTITUTED] += sub;
}

static void finish_row(double *row, double Ae, double Ne)
{
    row[RESIM_M_ALT_CAPACITY] = Ae;
    row[RESIM_M_NATIONAL_STOCKPILE] = Ne;
    double D = row[RESIM_M_DEMAND];
    row[RESIM_M_AVAILABILITY] = D > 0 ? row[RESIM_M_CONSUMPTION] / D : 1;
    row[RESIM_M_COVER_DAYS] = D > 0 ? row[RESIM_M_INVENTORY] / (D / RESIM_MONTH_DAYS) : NAN;
}

/* A function the step inlines wherever it is called (a hint elsewhere). */
#if defined(__GNUC__)
#define ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define ALWAYS_INLINE inline
#endif

/* A kernel placed on the decision ring for one status (docs/model.md
 * section 4): its bins as one straight run from the filing's first ring
 * position to the end of the ring, then the rest from the ring's start.
 * The same for every importer of the status, so worked out once a month. */
typedef struct kplace {
    size_t pos, run, rest;
    const double *w; /* bins from the first */
} kplace;

/*
 * r[p] += a[p] * w over n columns. On x86-64 also compiled for AVX2 and
 * picked at load time: the same multiply, then the same add, on four
 * columns at once instead of two, so the same bytes (the build is strict
 * C11, which fuses no multiply-add; scripts/test-native compares).
 */
#if defined(__GNUC__) && defined(__x86_64__)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif
static CLONES void add_scaled(double *restrict r, const double *restrict a, double w, size_t n)
{
    for (size_t p = 0; p < n; p++)
        r[p] += a[p] * w;
}

/*
 * Deterministic filing of every active importer of an element: the
 * kernel's expected share in each month, one status at a time, one ring
 * row (month) at a time over the status's columns. rev is by column.
 */
static void file_expected(double *ring, size_t N, size_t n, int ctrl, size_t slot,
                          const kplace *kp, const size_t *gb, const double *rev)
{
    if (!ctrl) { /* w[0] = 1: decided at once */
        double *restrict r = ring + slot * N;
        for (size_t p = 0; p < n; p++)
            r[p] += rev[p];
        return;
    }
    for (int st = 0; st < RESIM_NSTATUSES; st++) {
        const size_t g0 = gb[st], g = gb[st + 1] - g0;
        if (g == 0)
            continue;
        const kplace *k = &kp[st];
        for (size_t j = 0; j < k->run; j++)
            add_scaled(ring + (k->pos + j) * N + g0, rev + g0, k->w[j], g);
        for (size_t j = 0; j < k->rest; j++)
            add_scaled(ring + j * N + g0, rev + g0, k->w[k->run + j], g);
    }
}

/*
 * Stochastic filing (docs/model.md section 8): the application splits into
 * ceil(a / lot) equal lots, and each lot draws its month from the kernel's
 * bins (and the mass decided after the horizon): the counts per month are
 * multinomial. Few lots draw one uniform each against the cumulated kernel;
 * many lots draw the multinomial as a chain of binomials. The two give the
 * same distribution; the first costs a few steps per lot instead of a
 * binomial per bin.
 */
/*
 * The lot stream's uniforms (gsl_rng_uniform's), read ahead in bulk when
 * the stream comes from resim_rng_alloc. One importer's draws take at most
 * LOTS_UNIFORMS of them straight from ubuf, by a cursor the caller keeps in
 * a local variable: lots_reserve makes sure they are there first. Where
 * GSL draws from the stream itself, lots_gsl_begin moves the stream past
 * the uniforms used, and lots_gsl_end skips in ubuf those GSL drew (what
 * was read ahead beyond them is still the stream's next).
 */
#define LOTS_DIRECT 64   /* most lots of one filing drawn one by one */
#define APPROVE_DIRECT 8 /* most lots of one decision approved one by one */
#define LOTS_UNIFORMS (LOTS_DIRECT + 2 * APPROVE_DIRECT)
_Static_assert(APPROVE_DIRECT < 9, "kfrac holds k / n up to n = 8");

static void lots_sync(resim_model *m)
{
    if (m->bulk && m->upos > m->ubase) {
        resim_rng_advance(m->lots_rng, m->upos - m->ubase);
        m->ubase = m->upos;
    }
}

static void lots_reserve(resim_model *m)
{
    if (m->bulk && m->ulen - m->upos < LOTS_UNIFORMS) {
        lots_sync(m);
        m->ulen = resim_rng_peek(m->lots_rng, m->ubuf, sizeof m->ubuf / sizeof m->ubuf[0]);
        m->upos = m->ubase = 0;
    }
}

static inline double lots_uniform(const resim_model *m, size_t *up)
{
    return m->bulk ? m->ubuf[(*up)++] : gsl_rng_uniform(m->lots_rng);
}

static ALWAYS_INLINE void lots_gsl_begin(resim_model *m, const size_t *up)
{
    m->upos = *up;
    lots_sync(m);
    if (m->bulk)
        m->gsl_from = resim_rng_position(m->lots_rng);
}

static ALWAYS_INLINE void lots_gsl_end(resim_model *m, size_t *up)
{
    if (m->bulk) {
        const uint64_t drawn = resim_rng_position(m->lots_rng) - m->gsl_from;
        if (drawn <= m->ulen - m->upos)
            m->upos = m->ubase = m->upos + (size_t)drawn;
        else
            m->upos = m->ubase = m->ulen; /* past what was read ahead */
    }
    lots_reserve(m);
    *up = m->upos;
}

/* Number of lots of volume a (section 8), ceil(a / lot) within an unsigned
 * int. Between 0 and 4e9 the ceiling is the truncation, plus one when that
 * is below: exact, and without a libm call on targets with no rounding
 * instruction; other values (none in a run) go to ceil. */
static double lot_count(double a, double lot)
{
    const double x = a / lot;
    if (x > 4e9)
        return 4e9;
    if (!(x > 0))
        return ceil(x);
    const double t = (double)(long long)x; /* x < 2^63: an exact truncation */
    return t < x ? t + 1 : t;
}

/* lot_count(a, lot) without a division for at most one lot's volume: one
 * lot (a / lot is in (0, 1]; the lower bound keeps it from underflowing). */
static inline double lots_of(double a, double lot)
{
    return a <= lot && a > lot * 0x1p-900 ? 1 : lot_count(a, lot);
}

/*
 * The bin a uniform u falls in: the first k in [0, nb] with u < cum[k]
 * (cum is nondecreasing and cum[nb] is above every uniform). The scan
 * starts where the kernel's guide table says bins below cannot hold u, so
 * it finds the same k as a scan from 0 in a step or two.
 */
static ALWAYS_INLINE size_t lot_bin(const double *cum, const uint32_t *guide, double u)
{
    size_t k = guide[(size_t)(u * GUIDE)];
    while (!(u < cum[k]))
        k++;
    return k;
}


static ALWAYS_INLINE void file_lots(resim_model *m, size_t *up, double *ring, double *lots,
                                    int s, size_t e, size_t pos, double a, double lot)
/* ring and lots: an importer's column; its month k is at k * N. */
{
    if (a <= 0)
        return;
    const size_t K = m->K, N = m->N, first = m->kfirst[s][e], nbins = m->kend[s][e] - first;
    const double *w = m->kw[s][e] + first;
    const double n = lots_of(a, lot);
    if (n == 1) { /* one draw for the whole application */
        const double *cum = m->kcum[s][e] + first;
        const size_t k = lot_bin(cum, m->kguide[s][e], lots_uniform(m, up));
        if (k < nbins) { /* bin nbins: decided after the horizon */
            const size_t at = pos + k < K ? pos + k : pos + k - K;
            ring[at * N] += a;
            lots[at * N] += 1;
        }
        return;
    }
    const double size = a / n;
    unsigned int *c = m->counts;
    if (n <= (double)(nbins + 1) && n <= LOTS_DIRECT) {
        const double *cum = m->kcum[s][e] + first;
        size_t touched[LOTS_DIRECT], nt = 0;
        for (unsigned int l = 0; l < (unsigned int)n; l++) {
            const size_t k = lot_bin(cum, m->kguide[s][e], lots_uniform(m, up));
            if (k < nbins && c[k]++ == 0)
                touched[nt++] = k; /* bin nbins: decided after the horizon */
        }
        for (size_t j = 0; j < nt; j++) {
            const size_t k = touched[j], at = pos + k < K ? pos + k : pos + k - K;
            ring[at * N] += c[k] * size;
            lots[at * N] += c[k];
            c[k] = 0;
        }
        return;
    }
    lots_gsl_begin(m, up);
    gsl_ran_multinomial(m->lots_rng, nbins + 1, (unsigned int)n, w, c);
    lots_gsl_end(m, up);
    for (size_t k = 0; k < nbins; k++) {
        if (c[k] > 0) {
            ring[pos * N] += c[k] * size;
            lots[pos * N] += c[k];
            c[k] = 0; /* counts stay zero between filings */
        }
        if (++pos == K)
            pos = 0;
    }
    c[nbins] = 0;
}

/*
 * Approved volume of `dec` decided with approval probability p: p * dec in
 * the deterministic mode; in the stochastic mode each of its nlots lots is
 * approved by a Bernoulli trial (section 8): up to APPROVE_DIRECT lots one
 * uniform each, more as one binomial draw (the same distribution of the
 * number approved).
 */

/* How many of u[0 .. n) are below p, for n <= 4 (u[0 .. 4) readable). */
#if defined(__SSE2__)
static ALWAYS_INLINE unsigned int below_among(const double *u, double p, unsigned int n)
{
    /* Two comparisons of two lanes each (cmpltpd is C's <), one bit per
     * uniform, the first n counted. */
    static const unsigned char bits[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
    const __m128d pv = _mm_set1_pd(p);
    const unsigned int lo = (unsigned int)_mm_movemask_pd(_mm_cmplt_pd(_mm_loadu_pd(u), pv));
    const unsigned int hi = (unsigned int)_mm_movemask_pd(_mm_cmplt_pd(_mm_loadu_pd(u + 2), pv));
    return bits[(lo | hi << 2) & ((1u << n) - 1)];
}
#else
static ALWAYS_INLINE unsigned int below_among(const double *u, double p, unsigned int n)
{
    unsigned int k = 0;
    for (unsigned int j = 0; j < 4; j++)
        k += (j < n) & (u[j] < p);
    return k;
}
#endif

static ALWAYS_INLINE double approve(resim_model *m, size_t *up, double p, double dec, double nlots)
{
    if (m->bulk && p > 0 && p < 1 && nlots <= APPROVE_DIRECT) {
        /* The same trials as below, without a branch on the number of lots
         * (which varies from month to month): up to APPROVE_DIRECT
         * uniforms are compared (lots_reserve keeps them in ubuf) and
         * the first nlots counted. */
        const double *u = m->ubuf + *up;
        const unsigned int nl = (unsigned int)nlots;
        unsigned int k = 0;
        if (nl <= APPROVE_DIRECT / 2) /* nearly always: half the comparisons */
            k = below_among(u, p, nl);
        else
            k = below_among(u, p, 4) + below_among(u + 4, p, nl - 4);
        *up += nl;
        /* k / nl from a table of the same quotients; with no lot nothing
         * is decided (dec = 0), and dec * 0 is p * dec. */
        return dec * m->kfrac[nl][k];
    }
    if (m->lots_rng != NULL && p > 0 && p < 1 && nlots > 0) {
        unsigned int k = 0;
        if (nlots <= APPROVE_DIRECT) {
            for (unsigned int j = 0; j < (unsigned int)nlots; j++)
                k += lots_uniform(m, up) < p;
        } else {
            lots_gsl_begin(m, up);
            k = gsl_ran_binomial(m->lots_rng, p, (unsigned int)nlots);
            lots_gsl_end(m, up);
        }
        return nlots == 1 ? dec * k : dec * (k / nlots); /* k / 1 is k */
    }
    return p * dec;
}

/* Picks one importer with probability proportional to its weight among
 * those eligible for the move; returns N if none has weight. */
static size_t pick_weighted(const resim_model *m, int add, int to)
{
    const double *x = m->sc->data->exposure;
    double total = 0;
    for (size_t i = 0; i < m->N; i++) {
        int s = m->status[i];
        int ok = add ? (to == RESIM_CONTROL ? s != RESIM_CONTROL : s == RESIM_NONE) : s == to;
        if (ok)
            total += add ? x[i] : 1 - x[i];
    }
    if (total <= 0)
        return m->N;
    double target = gsl_rng_uniform(m->list_rng) * total, acc = 0;
    size_t last = m->N;
    for (size_t i = 0; i < m->N; i++) {
        int s = m->status[i];
        int ok = add ? (to == RESIM_CONTROL ? s != RESIM_CONTROL : s == RESIM_NONE) : s == to;
        double wt = add ? x[i] : 1 - x[i];
        if (!ok || wt <= 0)
            continue;
        last = i;
        acc += wt;
        if (target < acc)
            return i;
    }
    return last; /* rounding left target at the very top */
}

/*
 * The random list process: batches arrive as Poisson processes (rate per
 * year) and each batch moves importers picked with probability proportional
 * to exposure (additions) or to 1 - exposure (removals).
 */
#define LIST_MEAN_MAX 1e6

static void list_process(resim_model *m, int t)
{
    const resim_scenario *sc = m->sc;
    if (m->list_rng == NULL || !sc->has_list_process || t < sc->list_start)
        return;
    for (int dir = 0; dir < 2; dir++)
        for (int to = RESIM_WATCH; to < RESIM_NSTATUSES; to++) {
            double rate = sc->list_rate[dir][to];
            if (rate <= 0)
                continue;
            /* A million batches a month, or a batch larger than the importer
             * count, already moves everyone: the caps keep GSL's Poisson
             * sampler (which stalls at huge means) and the cast defined. */
            double mu = rate / 12 < LIST_MEAN_MAX ? rate / 12 : LIST_MEAN_MAX;
            unsigned int batches = gsl_ran_poisson(m->list_rng, mu);
            double b = sc->list_batch[dir][to];
            size_t batch = b < (double)m->N + 1 ? (size_t)b : m->N + 1;
            size_t moves = batches * batch;
            for (size_t k = 0; k < moves; k++) {
                size_t i = pick_weighted(m, dir == 0, to);
                if (i == m->N)
                    break;
                m->status[i] = (unsigned char)(dir == 0 ? to : RESIM_NONE);
            }
        }
}

/*
 * The per-importer passes of one element-month. Each is a straight loop
 * over the active importers q with no sum carried from one importer to
 * the next, so that it runs as vector code (the divisions included); the
 * sums are then taken in table order, one metric at a time, in separate
 * loops (section 5's sums are over importers in table order, and floating
 * point addition must keep that order to give the same bytes). Compiled
 * also for AVX2 and picked at load time, like add_scaled; every lane does
 * the same IEEE operations as the scalar code.
 */

/* Steps 1a, 2 and 4: extra cover (section 10), demand after substitution
 * (section 11), and the requirement from inventory and supply-line gaps.
 * Returns whether some X is nonzero after the month. */
static ALWAYS_INLINE int requirement_body(size_t n, const double *restrict sh,
                                          const double *restrict cv, const double *restrict lead,
                                          const double *restrict xt, const double *restrict S,
                                          const double *restrict inv, const double *restrict pend,
                                          const double *restrict intr, double *restrict X,
                                          double *restrict sD, double *restrict sR, double De,
                                          double frac, double tau, double pi, const int s_live,
                                          const int x_live)
{
    int xnz = 0;
    for (size_t q = 0; q < n; q++) {
        double D = sh[q] * De, cov = cv[q];
        if (s_live)
            D *= 1 - S[q];
        if (x_live) {
            /* Worked out for every importer and then selected: a
             * conditional division would keep the loop from running as
             * vector code (it might trap). */
            const double Xs = xt[q], X0 = X[q], moved = X0 + (Xs - X0) / pi;
            const double X1 = Xs != X0 ? moved : X0;
            X[q] = X1;
            cov += X1;
            xnz |= X1 != 0;
        }
        const double gap = (cov * D - inv[q]) + (D * frac * lead[q] - (pend[q] + intr[q]));
        const double R = D + gap / tau;
        sD[q] = D;
        sR[q] = R > 0 ? R : 0;
    }
    return xnz;
}

static CLONES int pass_requirement(size_t n, const double *restrict sh, const double *restrict cv,
                                   const double *restrict lead, const double *restrict xt,
                                   const double *restrict S, const double *restrict inv,
                                   const double *restrict pend, const double *restrict intr,
                                   double *restrict X, double *restrict sD, double *restrict sR,
                                   double De, double frac, double tau, double pi, int s_live,
                                   int x_live)
{
    if (s_live && x_live)
        return requirement_body(n, sh, cv, lead, xt, S, inv, pend, intr, X, sD, sR, De, frac, tau,
                                pi, 1, 1);
    if (s_live)
        return requirement_body(n, sh, cv, lead, xt, S, inv, pend, intr, X, sD, sR, De, frac, tau,
                                pi, 1, 0);
    if (x_live)
        return requirement_body(n, sh, cv, lead, xt, S, inv, pend, intr, X, sD, sR, De, frac, tau,
                                pi, 0, 1);
    return requirement_body(n, sh, cv, lead, xt, S, inv, pend, intr, X, sD, sR, De, frac, tau, pi,
                            0, 0);
}

/* Step 5 and the filing split of step 6: alternative purchases pro rata
 * (min(R, A R / sum R)), the application, and its general-licence share
 * (section 13) and share for review. */
static ALWAYS_INLINE void applications_body(size_t n, const double *restrict sR,
                                            const double *restrict glq, double *restrict sAlt,
                                            double *restrict sA, double *restrict sGl,
                                            double *restrict rev, double Ae, double sumR,
                                            const int pro, const int gl_on)
{
    for (size_t q = 0; q < n; q++) {
        const double R = sR[q];
        double alt = 0;
        if (pro) {
            const double pro_rata = Ae * R / sumR;
            alt = pro_rata < R ? pro_rata : R;
        }
        const double a = R - alt;
        double gl = 0, review = a;
        if (gl_on) {
            gl = glq[q] * a;
            review = a - gl;
        }
        sAlt[q] = alt;
        sA[q] = a;
        sGl[q] = gl;
        rev[q] = review;
    }
}

static CLONES void pass_applications(size_t n, const double *restrict sR,
                                     const double *restrict glq, double *restrict sAlt,
                                     double *restrict sA, double *restrict sGl,
                                     double *restrict rev, double Ae, double sumR, int gl_on)
{
    const int pro = sumR > 0;
    if (pro && gl_on)
        applications_body(n, sR, glq, sAlt, sA, sGl, rev, Ae, sumR, 1, 1);
    else if (pro)
        applications_body(n, sR, glq, sAlt, sA, sGl, rev, Ae, sumR, 1, 0);
    else if (gl_on)
        applications_body(n, sR, glq, sAlt, sA, sGl, rev, Ae, sumR, 0, 1);
    else
        applications_body(n, sR, glq, sAlt, sA, sGl, rev, Ae, sumR, 0, 0);
}

/* Steps 6-7 after the filing: what is decided this month (dec) leaves
 * pending; its approved part (section 9: the element's approval and
 * military ban; section 13: the general-licence share decided at once)
 * enters transit, and what was approved L months ago arrives. With
 * `drawn`, ap and rj hold the stochastic mode's approvals already. tnext
 * is NULL when L = 0: the approval arrives at once. */
typedef struct decide_in {
    const double *dec, *rev, *appr, *ml, *gl, *alt, *D, *inv, *el, *tnext;
    double *pend, *intr, *tnow, *ap, *rj, *arr, *av, *un, *mn, *unel;
} decide_in;

static ALWAYS_INLINE void decisions_body(
    size_t n, const double *restrict dec, const double *restrict rev, const double *restrict appr,
    const double *restrict ml, const double *restrict glv, const double *restrict altv,
    const double *restrict Dv, const double *restrict inv, const double *restrict el,
    const double *restrict tnext, double *restrict pend, double *restrict intr,
    double *restrict tnow, double *restrict apv, double *restrict rjv, double *restrict arrv,
    double *restrict av, double *restrict un, double *restrict mn, double *restrict unel,
    int ctrl, double ban, const int drawn, const int gl_on, const int all_el, const int same)
{
    for (size_t q = 0; q < n; q++) {
        const double d = dec[q];
        pend[q] += rev[q] - d;
        double ap, rj;
        if (drawn) {
            ap = apv[q];
            rj = rjv[q];
        } else {
            const double pc = appr[q] * (1 - ml[q] * ban), p = ctrl ? pc : 1;
            ap = p * d;
            rj = d - ap;
            if (gl_on) { /* decided at once; the military ban applies, approval not */
                const double gl = glv[q], gl_appr = (1 - ml[q] * ban) * gl;
                const double ap2 = ap + gl_appr, rj2 = rj + (gl - gl_appr);
                ap = gl > 0 ? ap2 : ap;
                rj = gl > 0 ? rj2 : rj;
            }
            apv[q] = ap;
            rjv[q] = rj;
        }
        tnow[q] = ap;
        const double arr = same ? ap : tnext[q]; /* approved in month t - L */
        intr[q] += ap - arr;
        const double D = Dv[q], avail = inv[q] + arr + altv[q], short_by = D - avail;
        const double unmet = D > avail ? short_by : 0;
        arrv[q] = arr;
        av[q] = avail;
        un[q] = unmet;
        mn[q] = D < avail ? D : avail;
        unel[q] = all_el || el[q] != 0 ? unmet : 0; /* section 12: only eligible ones draw */
    }
}

#define DECISIONS(drawn, gl_on, all_el, same)                                                   \
    decisions_body(n, d->dec, d->rev, d->appr, d->ml, d->gl, d->alt, d->D, d->inv, d->el,      \
                   d->tnext, d->pend, d->intr, d->tnow, d->ap, d->rj, d->arr, d->av, d->un,   \
                   d->mn, d->unel, ctrl, ban, drawn, gl_on, all_el, same)

static CLONES void pass_decisions(size_t n, const decide_in *d, int ctrl, double ban, int drawn,
                                  int gl_on, int all_el)
{
    const int same = d->tnext == NULL;
    if (drawn)
        same ? DECISIONS(1, 0, 0, 1) : DECISIONS(1, 0, 0, 0);
    else if (gl_on && !all_el)
        same ? DECISIONS(0, 1, 0, 1) : DECISIONS(0, 1, 0, 0);
    else if (gl_on)
        same ? DECISIONS(0, 1, 1, 1) : DECISIONS(0, 1, 1, 0);
    else if (!all_el)
        same ? DECISIONS(0, 0, 0, 1) : DECISIONS(0, 0, 0, 0);
    else
        same ? DECISIONS(0, 0, 1, 1) : DECISIONS(0, 0, 1, 0);
}
#undef DECISIONS

/* Steps 9-10 and section 11: the stockpile's release shared out over
 * eligible unmet demand, consumption, closing inventory, then the
 * substituted share's update (up by the rate below the trigger, down by
 * the reversion otherwise, within [0, cap]; importers without potential
 * demand keep theirs). Returns whether some S of an importer with
 * potential demand is above 0. */
typedef struct close_in {
    const double *sh, *D, *av, *un, *el;
    double *inv, *S, *rel, *C, *sub;
} close_in;

static ALWAYS_INLINE int closing_body(size_t n, const double *restrict sh,
                                      const double *restrict Dv, const double *restrict av,
                                      const double *restrict un, const double *restrict el,
                                      double *restrict inv, double *restrict S,
                                      double *restrict relv, double *restrict Cv,
                                      double *restrict subv, double De, double Rel,
                                      double sumUnmet, double r12, double v12, double cap,
                                      double theta, const int release, const int all_el,
                                      const int s_live, const int substitutes)
{
    int s_any = 0;
    for (size_t q = 0; q < n; q++) {
        const double D = Dv[q];
        double rel = 0;
        if (release) { /* Rel > 0 needs eligible unmet > 0 */
            const double part = Rel * un[q] / sumUnmet;
            rel = all_el || el[q] != 0 ? part : 0;
        }
        const double have = av[q] + rel;
        const double C = D < have ? D : have;
        inv[q] = have - C;
        relv[q] = rel;
        Cv[q] = C;
        /* Potential demand minus demand; 0 while no S is above 0. */
        subv[q] = s_live ? sh[q] * De - D : 0;
        if (substitutes) {
            const double pot = sh[q] * De, s0 = S[q];
            const int below = (D > 0) & (C / (D > 0 ? D : 1) < theta);
            const double up = s0 + r12, upc = up < cap ? up : cap;
            const double down = s0 - v12, low = down < cap ? down : cap, dn = low > 0 ? low : 0;
            const double s1 = pot > 0 ? (below ? upc : dn) : s0;
            S[q] = s1;
            s_any |= (pot > 0) & (s1 > 0);
        }
    }
    return s_any;
}

#define CLOSING(release, all_el, s_live, substitutes)                                          \
    closing_body(n, c->sh, c->D, c->av, c->un, c->el, c->inv, c->S, c->rel, c->C, c->sub, De,  \
                 Rel, sumUnmet, r12, v12, cap, theta, release, all_el, s_live, substitutes)

static CLONES int pass_closing(size_t n, const close_in *c, double De, double Rel,
                               double sumUnmet, double r12, double v12, double cap, double theta,
                               int all_el, int s_live, int substitutes)
{
    if (Rel > 0)
        return all_el ? CLOSING(1, 1, s_live, substitutes) : CLOSING(1, 0, s_live, substitutes);
    if (substitutes)
        return s_live ? CLOSING(0, 1, 1, 1) : CLOSING(0, 1, 0, 1);
    return s_live ? CLOSING(0, 1, 1, 0) : CLOSING(0, 1, 0, 0);
}
#undef CLOSING

/* Spreads element e's lever values by status over its importers (Q_*),
 * when they or a status changed since they were last spread. */
static void spread_levers(resim_model *m, size_t e, const double tab[Q_N][RESIM_NSTATUSES])
{
    if (!m->qstale[e] && memcmp(tab, m->qtab[e], sizeof m->qtab[e]) == 0)
        return;
    memcpy(m->qtab[e], tab, sizeof m->qtab[e]);
    m->qstale[e] = 0;
    const size_t N = m->N, n = m->n_active[e];
    const unsigned char *st = m->stq + e * N;
    for (int k = 0; k < Q_N; k++) {
        double *v = m->lq + ((size_t)e * Q_N + (size_t)k) * N;
        for (size_t q = 0; q < n; q++)
            v[q] = tab[k][st[q]];
    }
}

/* Sums x over q in table order (section 5's order for every sum). */
static double sum_in_order(const double *x, size_t n)
{
    double s = 0;
    for (size_t q = 0; q < n; q++)
        s += x[q];
    return s;
}

/*
 * Steps 2-10 of month m->t for scenario element e into its E x G block
 * `all`. With `plain`, no version-2 mechanism acts on the element this
 * month (element_plain): the passes run without the version-2 arithmetic.
 */
static void element_month(resim_model *m, size_t e, double *all, int plain)
{
    const resim_scenario *sc = m->sc;
    const resim_levers *lv = &m->lv;
    const double M = RESIM_MONTH_DAYS, tau = sc->adjust, pi = sc->precaution_adjust;
    const size_t N = m->N, G = m->G, K = m->K, L1 = m->L1;
    const int t = m->t, L = sc->transit;
    const size_t u = (size_t)(t - m->t0), slot = u % K;
    /* Ring positions are the same for every importer: work them out once. */
    const size_t tslot = u % L1, tnext = (u + 1) % L1;
    size_t first_pos[RESIM_NSTATUSES];
    kplace kp[RESIM_NSTATUSES];
    double *sc0 = m->scratch;
#define SV(k) (sc0 + (size_t)(k) * N)
    double *sD = SV(S_D), *sR = SV(S_R), *sAlt = SV(S_ALT), *sA = SV(S_FILED);
    double *sAp = SV(S_APPR), *sRj = SV(S_REJ), *sArr = SV(S_ARR), *sAv = SV(S_AVAIL);
    double *sUn = SV(S_UNMET), *sGl = SV(S_GL), *sRev = SV(S_REV), *sRevq = SV(S_REVQ);
    double *sDec = SV(S_DEC), *sMin = SV(S_MIN), *sUnel = SV(S_UNEL), *sRel = SV(S_REL);
    double *sC = SV(S_C), *sSub = SV(S_SUB), *sNl = SV(S_NLOTS);
#undef SV
    const unsigned eligible = (unsigned)lv->stock_eligible;
    const int all_eligible = plain || eligible == ELIGIBLE_ALL;
    const size_t x = sc->element[e];
    const size_t *act = m->active + e * N, n_act = m->n_active[e];
    const double De = national_demand(lv, x, t);       /* step 2 */
    const double Ae = alt_capacity(m, e, t);            /* step 3 */
    const double frac = china_fraction(De, Ae);
    const int ctrl = lv->controlled[x];
    const double ban = lv->military_ban[x];
    double tab[Q_N][RESIM_NSTATUSES];
    int gl_on = 0, x_on = 0; /* a general licence, an extra cover target for some status */
    for (int st = 0; st < RESIM_NSTATUSES; st++) {
        tab[Q_LEAD][st] =
            ctrl ? (1 - lv->general_licence[st][x]) * lv->delay_mean_days[st][x] / M + L : L;
        tab[Q_XT][st] = ctrl ? lv->precaution_months[st][x] : 0;
        tab[Q_APPR][st] = lv->approval[st][x];
        tab[Q_GL][st] = lv->general_licence[st][x];
        tab[Q_ELIG][st] = (eligible >> st) & 1u;
        first_pos[st] = (u + m->kfirst[st][e]) % K;
        const size_t nb = m->kend[st][e] - m->kfirst[st][e];
        kp[st].pos = first_pos[st];
        kp[st].run = K - first_pos[st] < nb ? K - first_pos[st] : nb;
        kp[st].rest = nb - kp[st].run;
        kp[st].w = m->kw[st][e] + m->kfirst[st][e];
        gl_on |= ctrl && lv->general_licence[st][x] > 0;
        x_on |= tab[Q_XT][st] != 0;
    }
    spread_levers(m, e, (const double(*)[RESIM_NSTATUSES])tab);
    const double *lq = m->lq + e * Q_N * N;
    const double *qlead = lq + Q_LEAD * N, *qxt = lq + Q_XT * N, *qappr = lq + Q_APPR * N;
    const double *qgl = lq + Q_GL * N, *qel = lq + Q_ELIG * N;
    if (x_on)
        m->x_live[e] = 1;
    const int x_live = !plain && m->x_live[e], s_live = !plain && m->s_live[e];
    gl_on = !plain && gl_on;
    const size_t b0 = e * N;
    double *inv = m->inv + b0, *pend = m->pend + b0, *intr = m->intr + b0;
    double *X = m->xcover + b0, *S = m->subst + b0;
    const double *sh = m->sh + b0, *ml = m->ml + b0;
    const unsigned char *stq = m->stq + b0;

    /* Steps 1a, 2 and 4. */
    const int xnz = pass_requirement(n_act, sh, m->cv + b0, qlead, qxt, S, inv, pend, intr, X, sD,
                                     sR, De, frac, tau, pi, s_live, x_live);
    if (x_live && !xnz && !x_on) /* every X back at 0 and every target 0 */
        m->x_live[e] = 0;
    const double sumR = sum_in_order(sR, n_act);

    /* Steps 5-7: alternative purchases, filing (the general-licence
     * share decided at once, section 13), decisions, arrivals. */
    pass_applications(n_act, sR, qgl, sAlt, sA, sGl, sRevq, Ae, sumR, gl_on);
    const int stoch = m->lots_rng != NULL;
    double *ringE = m->ring + e * K * N, *lotsE = m->ring_lots + e * K * N;
    double *slot_row = ringE + slot * N, *slot_lots = lotsE + slot * N;
    const size_t *col = m->col + e * N;
    if (!stoch) {
        /* Deterministic: every filing at once, by column, then what is
         * decided this month back in q order. */
        for (size_t q = 0; q < n_act; q++)
            sRev[col[q]] = sRevq[q];
        file_expected(ringE, N, n_act, ctrl, slot, kp, m->gbeg + e * (RESIM_NSTATUSES + 1), sRev);
        for (size_t q = 0; q < n_act; q++)
            sDec[q] = slot_row[col[q]];
        memset(slot_row, 0, n_act * sizeof *slot_row);
    } else {
        /* Stochastic: every importer's filing draws, then every
         * importer's approval draws, each in table order, so the draws
         * come in a fixed order (docs/model.md section 8). Two passes
         * rather than one loop: the stream's position then moves by
         * counts known ahead, not by the lots a filing has just placed. */
        const double lot = sc->lot_tonnes[x];
        size_t up = m->upos;
        if (!ctrl) {
            for (size_t q = 0; q < n_act; q++)
                slot_row[col[q]] += sA[q]; /* w[0] = 1: decided at once */
        } else {
            for (size_t q = 0; q < n_act; q++) {
                if (m->bulk && m->ulen - up < LOTS_UNIFORMS) {
                    m->upos = up;
                    lots_reserve(m);
                    up = m->upos;
                }
                const size_t c = col[q];
                const int s = stq[q];
                file_lots(m, &up, ringE + c, lotsE + c, s, e, first_pos[s], sRevq[q], lot);
            }
        }
        /* What is decided this month, volume and lots, into q order. */
        for (size_t q = 0; q < n_act; q++) {
            sDec[q] = slot_row[col[q]];
            sNl[q] = slot_lots[col[q]];
        }
        memset(slot_row, 0, n_act * sizeof *slot_row);
        memset(slot_lots, 0, n_act * sizeof *slot_lots);
        for (size_t q = 0; q < n_act; q++) {
            if (m->bulk && m->ulen - up < LOTS_UNIFORMS) {
                m->upos = up;
                lots_reserve(m);
                up = m->upos;
            }
            const double nlots = sNl[q], dec = sDec[q];
            /* Section 9: the approval and the military ban of this element. */
            const double p = ctrl ? qappr[q] * (1 - ml[q] * ban) : 1;
            double ap = approve(m, &up, p, dec, nlots);
            double rj = dec - ap;
            const double gl = sGl[q];
            if (gl_on && gl > 0) { /* decided at once; the military ban applies, approval not */
                const double n_gl = lots_of(gl, lot);
                const double gl_appr = approve(m, &up, 1 - ml[q] * ban, gl, n_gl);
                ap += gl_appr;
                rj += gl - gl_appr;
            }
            sAp[q] = ap;
            sRj[q] = rj;
        }
        m->upos = up;
    }
    const decide_in din = {sDec, sRevq, qappr, ml, sGl, sAlt, sD, inv, qel,
                           L1 > 1 ? m->trans + (e * L1 + tnext) * N : NULL,
                           pend, intr, m->trans + (e * L1 + tslot) * N, sAp, sRj, sArr, sAv, sUn,
                           sMin, sUnel};
    pass_decisions(n_act, &din, ctrl, ban, stoch, gl_on, all_eligible);
    double sumD = 0, sumMin = 0, sumUnmet = 0;
    for (size_t q = 0; q < n_act; q++) {
        sumD += sD[q];
        sumMin += sMin[q];
        sumUnmet += sUnel[q];
    }

    /* Step 8: the national stockpile releases when availability has been
     * below the trigger for more than decision_months (section 12). */
    double *Ne = &m->lv.stock_tonnes[x];
    double before = sumD > 0 ? sumMin / sumD : 1, Rel = 0;
    m->low_months[e] = before < lv->stock_trigger ? m->low_months[e] + 1 : 0;
    if (lv->stock_enabled != 0 && *Ne > 0 && before < lv->stock_trigger &&
        m->low_months[e] > lv->stock_decision_months) {
        Rel = fmin(fmin(*Ne, lv->stock_release_max[x]), sumUnmet);
        *Ne -= Rel;
    }

    /* Steps 9-10, then the substitution update (section 11), skipped where
     * it changes nothing: with no rate and no reversion S stays where it is. */
    const int substitutes = !plain && (lv->subst_rate[x] != 0 || lv->subst_reversion[x] != 0);
    const close_in cin = {sh, sD, sAv, sUn, qel, inv, S, sRel, sC, sSub};
    const int s_any = pass_closing(n_act, &cin, De, Rel, sumUnmet, lv->subst_rate[x] / 12,
                                   lv->subst_reversion[x] / 12, lv->subst_cap[x],
                                   lv->subst_trigger, all_eligible, s_live, substitutes);
    if (substitutes)
        m->s_live[e] = (unsigned char)s_any;

    /* The element's row: every metric summed over importers in table order. */
    double sum[RESIM_NMETRICS] = {0};
    for (size_t q = 0; q < n_act; q++) {
        sum[RESIM_M_SHORTFALL] += sD[q] - sC[q]; /* exactly 0 when met */
        sum[RESIM_M_DEMAND] += sD[q];
        sum[RESIM_M_REQUIREMENT] += sR[q];
        sum[RESIM_M_ALT_SUPPLY] += sAlt[q];
        sum[RESIM_M_CHINA_APPLIED] += sA[q];
        sum[RESIM_M_CHINA_APPROVED] += sAp[q];
        sum[RESIM_M_CHINA_REJECTED] += sRj[q];
        sum[RESIM_M_CHINA_PENDING] += pend[q];
        sum[RESIM_M_CHINA_ARRIVALS] += sArr[q];
        sum[RESIM_M_STOCKPILE_RELEASE] += sRel[q];
        sum[RESIM_M_INVENTORY] += inv[q];
        sum[RESIM_M_CONSUMPTION] += sC[q];
        sum[RESIM_M_SUBSTITUTED] += sSub[q];
    }
    memcpy(all, sum, sizeof sum);
    if (m->by != RESIM_BY_NONE) {
        double by_status[RESIM_NSTATUSES][RESIM_NMETRICS] = {{0}};
        const unsigned char *group = m->group_status != NULL ? m->group_status : m->status;
        for (size_t q = 0; q < n_act; q++) {
            const size_t i = act[q];
            double *row = m->by == RESIM_BY_STATUS ? by_status[group[i]]
                                                   : all + (1 + i) * RESIM_NMETRICS;
            add_flows(row, sD[q], sR[q], sAlt[q], sA[q], sAp[q], sRj[q], pend[q], sArr[q],
                      sRel[q], inv[q], sC[q], sSub[q]);
        }
        if (m->by == RESIM_BY_STATUS)
            memcpy(all + RESIM_NMETRICS, by_status, sizeof by_status);
    }
    for (size_t g = 0; g < G; g++)
        finish_row(all + g * RESIM_NMETRICS, Ae, *Ne);
}

/*
 * Whether no version-2 mechanism acts on element e this month: no extra
 * cover wanted or held, no substituted share and no substitution rate or
 * reversion, no general licence, and every status eligible for releases.
 * The stockpile's decision count is per element and is kept either way.
 */
static int element_plain(const resim_model *m, size_t e)
{
    const resim_levers *lv = &m->lv;
    const size_t x = m->sc->element[e];
    if (m->x_live[e] || m->s_live[e] || lv->subst_rate[x] != 0 || lv->subst_reversion[x] != 0 ||
        (unsigned)lv->stock_eligible != ELIGIBLE_ALL)
        return 0;
    if (lv->controlled[x])
        for (int st = 0; st < RESIM_NSTATUSES; st++)
            if (lv->precaution_months[st][x] != 0 || lv->general_licence[st][x] > 0)
                return 0;
    return 1;
}

void resim_model_step(resim_model *m, double *out)
{
    const size_t E = m->E, G = m->G;
    apply_events(m, m->t); /* step 1 */
    list_process(m, m->t);
    if (memcmp(m->status, m->status_cols, m->N) != 0) {
        regroup_columns(m);
        spread_status(m);
    }
    refresh_kernels(m);
    memset(out, 0, E * G * RESIM_NMETRICS * sizeof *out);
    for (size_t e = 0; e < E; e++)
        element_month(m, e, out + e * G * RESIM_NMETRICS, element_plain(m, e));
    lots_sync(m);
    m->t++;
}

int resim_model_run(resim_model *m, double *scratch, double *series, resim_month_fn fn,
                    void *ctx)
{
    int rc = RESIM_OK;
    const size_t cells = m->E * m->G * RESIM_NMETRICS;
    while (rc == RESIM_OK && m->t < m->sc->months) {
        int t = m->t;
        double *out = t >= 0 && series != NULL ? series + (size_t)t * cells : scratch;
        resim_model_step(m, out);
        if (t >= 0 && fn != NULL)
            rc = fn(ctx, t, out);
    }
    return rc;
}

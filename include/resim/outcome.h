/*
 * outcome.h - what an analyst reads off one element's monthly series:
 * cumulative and peak shortfall, lowest availability, months below a
 * threshold, when the national stockpile ran out and when supply recovered.
 * Fed one month at a time, so nothing of the series is kept.
 */
#ifndef RESIM_OUTCOME_H
#define RESIM_OUTCOME_H

#include "resim/model.h"

typedef struct resim_outcome {
    double cum_shortfall;   /* t over the horizon */
    double peak_shortfall;  /* largest monthly shortfall, t */
    int peak_month;         /* first month it occurs; -1 if none */
    double min_availability;
    int min_month;          /* first month of the lowest availability */
    int months_below;       /* months with availability below the threshold */
    int first_below;        /* -1 if never */
    int last_below;         /* -1 if never */
    int stock_out;          /* first month a release empties the stockpile; -1 if never */
    int recovered;          /* month from which availability stays at or above
                               the threshold to the end, after a dip; -1 if it
                               never dipped or never recovered */
} resim_outcome;

void resim_outcome_init(resim_outcome *o);
/* Adds month t's row (RESIM_NMETRICS values); months must come in order. */
void resim_outcome_add(resim_outcome *o, int t, const double *row, double threshold);
/* Completes the fields that need the whole horizon of `months` months. */
void resim_outcome_finish(resim_outcome *o, int months);

#endif

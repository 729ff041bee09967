/* outcome.c - per-element outcome measures of a monthly series. */
#include "resim/outcome.h"

void resim_outcome_init(resim_outcome *o)
{
    *o = (resim_outcome){.peak_month = -1, .min_availability = 2, .min_month = -1,
                         .first_below = -1, .last_below = -1, .stock_out = -1, .recovered = -1};
}

void resim_outcome_add(resim_outcome *o, int t, const double *row, double threshold)
{
    double U = row[RESIM_M_SHORTFALL], a = row[RESIM_M_AVAILABILITY];
    o->cum_shortfall += U;
    if (U > o->peak_shortfall) {
        o->peak_shortfall = U;
        o->peak_month = t;
    }
    if (a < o->min_availability) {
        o->min_availability = a;
        o->min_month = t;
    }
    if (a < threshold) {
        o->months_below++;
        if (o->first_below < 0)
            o->first_below = t;
        o->last_below = t;
    }
    if (o->stock_out < 0 && row[RESIM_M_STOCKPILE_RELEASE] > 0 && row[RESIM_M_NATIONAL_STOCKPILE] <= 0)
        o->stock_out = t;
}

void resim_outcome_finish(resim_outcome *o, int months)
{
    o->recovered = o->last_below >= 0 && o->last_below + 1 < months ? o->last_below + 1 : -1;
}

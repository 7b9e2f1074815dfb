/* The institute daemon's schedule (include/prep/institute.h, "the schedule"): when to cut,
 * with no clock of its own (the daemon passes the wall clock; tests pass a fake one). */
#include "prep/institute.h"

#include <string.h>

void prep_institute_sched_init(prep_institute_sched *s, int64_t interval, prep_time window_open, prep_time window_close,
                          prep_time until, prep_time sim_start, double seconds_per_cut, int max_cuts,
                          double now_wall)
{
    PREP_ASSERT(interval > 0);
    memset(s, 0, sizeof *s);
    s->interval = interval;
    s->window_open = window_open;
    s->window_close = window_close;
    s->until = until;
    s->sim_start = sim_start;
    s->seconds_per_cut = seconds_per_cut;
    s->max_cuts = max_cuts;
    if (sim_start != PREP_TIME_NONE) {
        s->next = sim_start;
        s->real_next = now_wall; /* the first drill cut at once */
    } else {
        /* the next boundary strictly after now (a cut is never made for a past instant) */
        prep_time now = (prep_time)now_wall;
        s->next = (now / interval + 1) * interval;
        if (window_open != PREP_TIME_NONE && s->next < window_open) s->next = window_open;
        s->real_next = (double)s->next;
    }
}

int prep_institute_sched_next(const prep_institute_sched *s, double *due_wall, prep_time *cut_at)
{
    if (s->over || s->next > s->until || (s->max_cuts && s->cuts >= s->max_cuts)) return 0;
    *due_wall = s->sim_start != PREP_TIME_NONE ? s->real_next : (double)s->next;
    *cut_at = s->next;
    return 1;
}

void prep_institute_sched_done(prep_institute_sched *s, int made, int final)
{
    if (made) {
        s->cuts++;
        if (final && s->next >= s->window_close) s->over = 1;
    }
    s->next += s->interval;
    if (s->sim_start != PREP_TIME_NONE) s->real_next += s->seconds_per_cut;
    else s->real_next = (double)s->next;
}

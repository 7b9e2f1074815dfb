/* prep institute: what the institute's daemon (prep institute) decides before it cuts, as
 * a part with no I/O of its own beyond reading its file; the CLI wires it to the cutter,
 * delivery and the pull link.
 *   - its configuration (prep institute --config FILE; docs/institute.md): a strict JSON
 *     object (src/institute/institute_config.c);
 *   - its schedule: when to cut, on a clock it is given (src/institute/institute_sched.c).
 * The configuration is a strict JSON object: unknown keys, wrong types and out-of-range values are refused, each
 * diag naming the key (and line:column for syntax errors), so a typo never silently
 * changes the night. */
#ifndef PREP_INSTITUTE_H
#define PREP_INSTITUTE_H

#include "prep/core.h"

#define PREP_INSTITUTE_CONFIG_MAX (1u << 20) /* bytes of a config file */

typedef struct prep_institute_config {
    /* owned strings; NULL when absent */
    char *catalog, *actas, *key, *pubkey, *store, *registry, *secrets;
    int drill;
    char *clock_start;      /* accelerated clock: the first simulated instant (local time) */
    double seconds_per_cut; /* real seconds per cut on the accelerated clock (0.5..3600) */
    char *until;            /* last cut instant (default: the window's close) */
    char *pull_listen, *pull_cert, *pull_key;
    int parallel;           /* 1..64, default 8 */
    int retries;            /* 0..20, default 2 */
    long backoff_ms;        /* 10..600000, default 1000 */
    int push_raw;           /* "deliver": {"gzip": false}: pushes send every file raw (receivers
                             * older than the compressed transfer); default 0 */
    int max_cuts;           /* 0..1000000, 0 = run the whole window */
    unsigned store_keep;    /* 1..PREP_INSTITUTE_STORE_KEEP_MAX: after each cut the store keeps the
                             * objects of this many newest cuts (prep_cut_store_gc); 0 = all */
} prep_institute_config;

#define PREP_INSTITUTE_STORE_KEEP_MAX 100000

/* Parses data[0..len) (borrowed; name labels the diags). On error *c is left empty
 * (freeable) and diags say what: kinds "config-syntax" (with line:column),
 * "config-field" (unknown key or wrong type), "config-range", "config-missing",
 * "limit". A bad value's diag carries the line of its key when the key is found. */
PREP_NODISCARD prep_err prep_institute_config_parse(const void *data, size_t len, const char *name, prep_institute_config *c,
                                prep_diags *d);
void prep_institute_config_free(prep_institute_config *c);

/* ---------------------------------------------------------------- the schedule
 * When the daemon cuts (src/institute/institute_sched.c): pure arithmetic over the clock
 * it is given, so that the night's timing is unit-tested with a fake clock.
 *   - live: one cut at every boundary of the interval (:00, :05, ...) of the wall clock,
 *     the first the next boundary after start-up and not before the window opens;
 *   - drill (an accelerated clock): the first cut at clock.start, then one every
 *     seconds_per_cut real seconds, each standing for one interval of simulated time;
 *   - no cut after `until` (the window's close by default), nor after max_cuts cuts made,
 *     nor after a final cut made at or after the window's close;
 *   - a failed cut is not retried early: the next one is tried on time. */
typedef struct prep_institute_sched {
    int64_t interval;           /* seconds of election time between cuts */
    prep_time window_open, window_close, until;
    prep_time sim_start;        /* PREP_TIME_NONE: live */
    double seconds_per_cut;     /* drill: real seconds per cut */
    int max_cuts;               /* 0: no limit */
    /* state */
    prep_time next;             /* the next cut's instant (election time) */
    double real_next;           /* drill: the real second it is due */
    int cuts;                   /* cuts made */
    int over;                   /* the final cut was made */
} prep_institute_sched;

/* Sets up the schedule; now_wall is the wall clock (seconds) at start-up. */
void prep_institute_sched_init(prep_institute_sched *s, int64_t interval, prep_time window_open, prep_time window_close,
                          prep_time until, prep_time sim_start, double seconds_per_cut, int max_cuts,
                          double now_wall);
/* The next cut: 1 with *due_wall (the wall-clock second to wait for) and *cut_at (the
 * cut's instant), or 0 when the schedule is over. */
int prep_institute_sched_next(const prep_institute_sched *s, double *due_wall, prep_time *cut_at);
/* After the cut at the instant prep_institute_sched_next gave: made says whether it was made
 * (signed and activated), final whether the cutter marked it final (every acta counted);
 * a final cut at or after the window's close ends the schedule. */
void prep_institute_sched_done(prep_institute_sched *s, int made, int final);

#endif

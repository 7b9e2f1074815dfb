/* The institute daemon's schedule (include/prep/institute.h "the schedule") with a fake
 * clock: the instants and real seconds below are worked out by hand from the rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "prep/institute.h"

/* 2021-06-06 19:00:00 UTC and friends, as plain epoch seconds */
#define T19 1623006000
#define T20 (T19 + 3600)

/* Runs the schedule to its end, every cut made (final only at the last allowed one when
 * final_at is not 0); records the instants and due times. Returns the count. */
static int run(prep_institute_sched *s, prep_time *at, double *due, int cap, prep_time final_at)
{
    int n = 0;
    double dw;
    prep_time t;
    while (n < cap && prep_institute_sched_next(s, &dw, &t)) {
        at[n] = t;
        due[n] = dw;
        n++;
        prep_institute_sched_done(s, 1, final_at && t >= final_at);
    }
    return n;
}

static void test_live_boundaries_from_window_open(void **st)
{
    (void)st;
    /* started at 19:00:07, window 20:00..20:20, interval 300: the first cut is the window's
     * opening (not 19:05), then every 5 minutes, 20:20 included */
    prep_institute_sched s;
    prep_institute_sched_init(&s, 300, T20, T20 + 1200, T20 + 1200, PREP_TIME_NONE, 0, 0, (double)T19 + 7.5);
    prep_time at[16];
    double due[16];
    int n = run(&s, at, due, 16, 0);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(at[i], T20 + 300 * i);
        assert_true(due[i] == (double)(T20 + 300 * i)); /* live: due at the instant itself */
    }
}

static void test_live_inside_window_next_boundary(void **st)
{
    (void)st;
    /* started at 20:07:00 inside the window: the next boundary is 20:10, never 20:05 (past) */
    prep_institute_sched s;
    prep_institute_sched_init(&s, 300, T20, T20 + 3600, T20 + 3600, PREP_TIME_NONE, 0, 0, (double)(T20 + 420));
    double due;
    prep_time t;
    assert_int_equal(prep_institute_sched_next(&s, &due, &t), 1);
    assert_int_equal(t, T20 + 600);
    /* exactly on a boundary: the next one (a cut for "now" may already be made) */
    prep_institute_sched_init(&s, 300, T20, T20 + 3600, T20 + 3600, PREP_TIME_NONE, 0, 0, (double)(T20 + 600));
    assert_int_equal(prep_institute_sched_next(&s, &due, &t), 1);
    assert_int_equal(t, T20 + 900);
}

static void test_failed_cut_is_not_retried_early(void **st)
{
    (void)st;
    prep_institute_sched s;
    prep_institute_sched_init(&s, 300, T20, T20 + 3600, T20 + 3600, PREP_TIME_NONE, 0, 3, (double)T19);
    double due;
    prep_time t;
    assert_int_equal(prep_institute_sched_next(&s, &due, &t), 1);
    assert_int_equal(t, T20);
    prep_institute_sched_done(&s, 0, 0); /* failed */
    assert_int_equal(prep_institute_sched_next(&s, &due, &t), 1);
    assert_int_equal(t, T20 + 300); /* on time, not at once */
    assert_int_equal(s.cuts, 0);    /* a failure is not a cut made: max_cuts counts made ones */
    prep_institute_sched_done(&s, 1, 0);
    prep_institute_sched_done(&s, 1, 0);
    prep_institute_sched_done(&s, 0, 0);
    assert_int_equal(prep_institute_sched_next(&s, &due, &t), 1);
    prep_institute_sched_done(&s, 1, 0);
    assert_int_equal(s.cuts, 3);
    assert_int_equal(prep_institute_sched_next(&s, &due, &t), 0); /* max_cuts reached */
}

static void test_drill_accelerated_clock(void **st)
{
    (void)st;
    /* a drill from 19:00 simulated, 4 real seconds per 5-minute cut, started at real 1000.25;
     * until 19:20: five cuts due at real 1000.25, 1004.25, ... */
    prep_institute_sched s;
    prep_institute_sched_init(&s, 300, T20, T20 + 86400, T19 + 1200, T19, 4.0, 0, 1000.25);
    prep_time at[16];
    double due[16];
    int n = run(&s, at, due, 16, 0);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(at[i], T19 + 300 * i);
        assert_true(due[i] == 1000.25 + 4.0 * i);
    }
}

static void test_final_cut_ends_only_after_close(void **st)
{
    (void)st;
    /* the cutter marks cuts final from 20:10 on; only one at or after the close (20:15)
     * ends the schedule, though `until` is later */
    prep_institute_sched s;
    prep_institute_sched_init(&s, 300, T20, T20 + 900, T20 + 3600, PREP_TIME_NONE, 0, 0, (double)T19);
    prep_time at[32];
    double due[32];
    int n = run(&s, at, due, 32, T20 + 600);
    assert_int_equal(n, 4); /* 20:00, 20:05, 20:10 (final, before the close: go on), 20:15 */
    assert_int_equal(at[3], T20 + 900);
    double d;
    prep_time t;
    assert_int_equal(prep_institute_sched_next(&s, &d, &t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_boundaries_from_window_open),
        cmocka_unit_test(test_live_inside_window_next_boundary),
        cmocka_unit_test(test_failed_cut_is_not_retried_early),
        cmocka_unit_test(test_drill_accelerated_clock),
        cmocka_unit_test(test_final_cut_ends_only_after_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Dropping a version never waits for its br warmer (issue 13 C). The warmer runs at idle
 * priority; on election night both cores are busy with requests and it may not run for
 * tens of seconds, so a worker that dropped the last reference to an old cut and joined
 * the warmer froze for up to 40 s. Here the warmer is held inside the testing hook (a
 * stand-in for "not scheduled") while the last reference is dropped on another thread:
 * that unref must return at once, the version must stay alive while the warmer holds it,
 * and the warmer must free it when it is let go. Before the fix the unref blocked until
 * the hook released it (this test then fails after 2 s instead of hanging). */
#include "test_cut_util.h"

#include <pthread.h>
#include <time.h>

#include "../../src/serve/site_internal.h"
#include "prep/serve.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static const prep_serve_version *target; /* the version whose warmer is held: the first
                                          * whose warmer reaches the hook */
static int hold;                         /* 1: the warmer waits in the hook */
static int entered, freed, unref_done;

static void hook(int event, const prep_serve_version *v)
{
    pthread_mutex_lock(&mu);
    if (event == SITE_HOOK_WARM_FILE && (!target || v == target)) {
        target = v;
        entered = 1;
        pthread_cond_broadcast(&cv);
        while (hold) pthread_cond_wait(&cv, &mu);
    } else if (event == SITE_HOOK_FREED && v == target) {
        freed = 1;
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&mu);
}

/* Waits (mu held) until *flag or ms elapse; returns *flag. */
static int wait_flag(int *flag, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!*flag)
        if (pthread_cond_timedwait(&cv, &mu, &until) != 0) break;
    return *flag;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double unref_seconds;

static void *unref_main(void *arg)
{
    double t0 = now_s();
    prep_serve_version_unref(arg); /* the last reference: a worker after a cut switch */
    double t1 = now_s();
    pthread_mutex_lock(&mu);
    unref_seconds = t1 - t0;
    unref_done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

typedef struct fx {
    char *tmp, *store;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->tmp = tmpdir_new();
    f->store = pathf("%s/store", f->tmp);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(5, &sk, &pk);
    site s;
    site_init(&s, 40); /* SHA256SUMS > 128 B: its br is the warmer's (pages are plain here) */
    uint64_t seq = 0;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(make_cut(f->store, &s, &sk, PREP_CUT_LIVE, T0, 3600, &seq, &d), PREP_OK);
    prep_diags_free(&d);
    site_free(&s);
    site_test_hook = hook;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    site_test_hook = NULL;
    rm_rf(f->tmp);
    free(f->tmp);
    free(f->store);
    free(f);
    return 0;
}

static prep_serve_version *load_warm(fx *f)
{
    prep_serve_site_opts o;
    prep_serve_site_opts_init(&o);
    o.https = 1;
    o.threads = 1;
    o.br_warm = 1;
    prep_serve_version *v = NULL;
    prep_diags d;
    prep_diags_init(&d);
    pthread_mutex_lock(&mu);
    target = NULL;
    hold = 1;
    entered = freed = unref_done = 0;
    pthread_mutex_unlock(&mu);
    prep_err e = prep_serve_version_load(f->store, 0, NULL, &o, &v, &d);
    if (e) prep_diags_print(&d, stderr, 0);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
    return v;
}

static void test_unref_does_not_wait_for_a_starved_warmer(void **state)
{
    fx *f = *state;
    prep_serve_version *v = load_warm(f);
    pthread_mutex_lock(&mu);
    int in = wait_flag(&entered, 10000); /* idle priority: it runs when the CPU is free */
    int caught = target == v;
    pthread_mutex_unlock(&mu);
    assert_true(in);
    assert_true(caught);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, unref_main, v), 0);
    pthread_mutex_lock(&mu);
    int returned = wait_flag(&unref_done, 2000);
    int was_freed = freed;
    hold = 0; /* let the warmer go (also unblocks a joining unref, so a failure ends) */
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(th, NULL);
    print_message("last unref with the warmer held: %s after %.6f s\n", returned ? "returned" : "BLOCKED",
                  unref_seconds);
    assert_true(returned);
    assert_true(unref_seconds < 0.5);
    assert_false(was_freed); /* the held warmer still owns the version */
    pthread_mutex_lock(&mu);
    int gone = wait_flag(&freed, 10000); /* the warmer frees it on its way out */
    pthread_mutex_unlock(&mu);
    assert_true(gone);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unref_does_not_wait_for_a_starved_warmer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

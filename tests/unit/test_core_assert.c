/* PREP_ASSERT (include/prep/core.h "assertions"): in the sanitizer build a false condition
 * prints file:line, the function and the condition, then aborts; in a release build it is
 * compiled out and its condition is not evaluated. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "prep/core.h"

static int evaluated;
/* Not static: in a release build PREP_ASSERT only names it inside sizeof, and clang would
 * warn that a static one is never emitted. */
int side_effect(void);
int side_effect(void)
{
    evaluated++;
    return 1;
}

static void test_true_condition_passes(void **st)
{
    (void)st;
    evaluated = 0;
    PREP_ASSERT(side_effect() == 1);
#ifdef PREP_ASSERTS
    assert_int_equal(evaluated, 1);
#else
    assert_int_equal(evaluated, 0); /* compiled out: not evaluated */
#endif
}

/* A child breaks an invariant; the parent reads what it printed and how it ended. */
static void test_false_condition(void **st)
{
    (void)st;
#ifndef PREP_ASSERTS
    skip(); /* compiled out: test_true_condition_passes checks that */
#endif
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 2);
        close(pfd[0]);
        prep_buf b;
        prep_buf_init(&b, 0);
        (void)prep_buf_append(&b, NULL, 3); /* precondition: no bytes from NULL */
        _exit(0);
    }
    close(pfd[1]);
    char out[1024];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof out - 1 && (n = read(pfd[0], out + got, sizeof out - 1 - got)) > 0) got += (size_t)n;
    out[got] = 0;
    close(pfd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(out, "core.c:"));
    assert_non_null(strstr(out, "prep_buf_append: assertion failed: b && (p || !n)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_true_condition_passes),
        cmocka_unit_test(test_false_condition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

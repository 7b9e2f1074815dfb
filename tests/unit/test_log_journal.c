/* prep_log under systemd (issue 17 item 5): when stderr is the journal's stream (its
 * device and inode are $JOURNAL_STREAM) every line starts with its syslog priority, <3>
 * error .. <7> debug, and carries no timestamp; when the variable is absent, malformed or
 * names another stream (a child whose stderr was redirected), lines are unchanged.
 * Each case runs in a child process: prep_log decides once per process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/core.h"

enum { ENV_NONE, ENV_MATCH, ENV_OTHER, ENV_BAD };

/* Runs prep_log at every level in a child whose stderr is a temporary file; returns what
 * the child wrote (static buffer). */
static const char *run(int env)
{
    static char out[4096];
    char path[] = "/tmp/prep-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd, STDERR_FILENO);
        struct stat st;
        fstat(STDERR_FILENO, &st);
        char v[64];
        unsetenv("JOURNAL_STREAM");
        setenv("PREP_LOG", "debug", 1);
        if (env == ENV_MATCH) snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        if (env == ENV_OTHER) snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino + 1);
        if (env == ENV_BAD) snprintf(v, sizeof v, "%llu:%llux", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        if (env != ENV_NONE) setenv("JOURNAL_STREAM", v, 1);
        prep_log(PREP_LOG_ERROR, "cut %d refused: %s", 12, "chain-gap");
        prep_log(PREP_LOG_WARN, "two\nlines");
        prep_log(PREP_LOG_INFO, "cut %d active", 13);
        prep_log(PREP_LOG_DEBUG, "detail");
        fflush(stderr);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ssize_t n = pread(fd, out, sizeof out - 1, 0);
    assert_true(n >= 0);
    out[n] = 0;
    close(fd);
    unlink(path);
    return out;
}

static const char plain[] = "prep: error: cut 12 refused: chain-gap\n"
                            "prep: warning: two lines\n"
                            "prep: info: cut 13 active\n"
                            "prep: debug: detail\n";

static void test_journal_priorities(void **st)
{
    (void)st;
    assert_string_equal(run(ENV_MATCH), "<3>prep: error: cut 12 refused: chain-gap\n"
                                        "<4>prep: warning: two lines\n"
                                        "<6>prep: info: cut 13 active\n"
                                        "<7>prep: debug: detail\n");
}

static void test_not_journal(void **st)
{
    (void)st;
    assert_string_equal(run(ENV_NONE), plain);
    assert_string_equal(run(ENV_OTHER), plain);
    assert_string_equal(run(ENV_BAD), plain);
}

/* The program's own lines (printf, fprintf(stderr)) under the journal: stdout <6>,
 * stderr <4>, prep_log's lines keep their own priority, a line written in pieces gets one
 * prefix; stdout and stderr both go to the same file here, in order (line buffered). */
static void test_program_lines(void **st)
{
    (void)st;
    char path[] = "/tmp/prep-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
        struct stat sb;
        fstat(STDERR_FILENO, &sb);
        char v[64];
        snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino);
        setenv("JOURNAL_STREAM", v, 1);
        setenv("PREP_LOG", "info", 1);
        if (prep_log_journal_streams() != 1) _exit(3);
        printf("prep institute: corte %d activo\n", 7);
        fprintf(stderr, "prep institute: the cut of %s ", "20:05");
        fprintf(stderr, "failed: %s\n", "no space left on device (ENOSPC)");
        prep_log(PREP_LOG_ERROR, "cut %d refused", 8);
        printf("done\n");
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char out[4096];
    ssize_t n = pread(fd, out, sizeof out - 1, 0);
    assert_true(n >= 0);
    out[n] = 0;
    close(fd);
    unlink(path);
    assert_string_equal(out, "<6>prep institute: corte 7 activo\n"
                             "<4>prep institute: the cut of 20:05 failed: no space left on device (ENOSPC)\n"
                             "<3>prep: error: cut 8 refused\n"
                             "<6>done\n");
    /* not under the journal: nothing wrapped */
    unsetenv("JOURNAL_STREAM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_priorities),
        cmocka_unit_test(test_not_journal),
        cmocka_unit_test(test_program_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

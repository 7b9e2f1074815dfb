/* libFuzzer target: the --targets file of prep deliver (load_targets_file in
 * src/cli/cmd_deliver.c): one broadcaster a line, key=value words, '#' comments. The input
 * is written to a temp file and read as the CLI reads it.
 * Checks: no crash or leak (ASan); no line is silently dropped (a file that loads has one
 * target per non-blank, non-comment line, each with an id, a URL and its method, every
 * field NUL-terminated within its buffer); a refused file is refused with a message (on
 * stderr, not checked here). Inputs naming a password-file= are skipped: the word opens
 * the file it names, and a FIFO or /dev/stdin would hang the run (the CLI's tests read
 * real password files). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/cli/args.c"
#include "../src/cli/cmd_deliver.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void cleanup(void)
{
    remove(path);
}

/* Lines that must each become a target: not blank, not a comment (the loader's rule). */
static size_t target_lines(const uint8_t *d, size_t n)
{
    size_t count = 0, i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && d[e] != '\n') e++;
        size_t s = i;
        while (s < e && (d[s] == ' ' || d[s] == '\t' || d[s] == '\r')) s++;
        if (s < e && d[s] != '#') count++;
        i = e + 1;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536 || memmem(data, size, "password-file=", 14)) return 0;
    if (!path[0]) {
        snprintf(path, sizeof path, "%s/prep-fuzz-targets.XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0) abort();
        close(fd);
        atexit(cleanup);
    }
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) abort();

    prep_deliver_target *v = NULL;
    size_t n = 0;
    int r = load_targets_file(path, &v, &n);
    if (r == 0) {
        if (n != target_lines(data, size)) abort();
        for (size_t i = 0; i < n; i++) {
            const prep_deliver_target *t = &v[i];
            if (!t->id[0] || !t->url[0]) abort();
            if (t->method != PREP_DELIVER_SFTP && t->method != PREP_DELIVER_FTPS) abort();
            if (strnlen(t->id, sizeof t->id) >= sizeof t->id || strnlen(t->url, sizeof t->url) >= sizeof t->url ||
                strnlen(t->ssh_key, sizeof t->ssh_key) >= sizeof t->ssh_key ||
                strnlen(t->user, sizeof t->user) >= sizeof t->user ||
                strnlen(t->password, sizeof t->password) >= sizeof t->password)
                abort();
        }
    } else if (r != -1) {
        abort();
    }
    free(v);
    return 0;
}

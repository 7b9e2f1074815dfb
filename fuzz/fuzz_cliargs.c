/* libFuzzer target: the command-line option parser (src/cli/args.c). The input is split at
 * NUL bytes into argv. cli_parse must never crash, and on success every option it reports
 * as given must carry a value that is one of the arguments (or "1" for a flag). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cli/args.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[64];
    int argc = 0;
    for (size_t i = 0, start = 0; i <= size && argc < 64; i++)
        if (i == size || buf[i] == 0) {
            argv[argc++] = buf + start;
            start = i + 1;
        }
    cli_opt opts[] = {
        {"catalog", "FILE", "", NULL}, {"actas", "PATH", "", NULL}, {"final", NULL, "", NULL},
        {"at", "TIME", "", NULL},      {NULL, NULL, NULL, NULL},
    };
    int help;
    char err[256];
    if (cli_parse(argc, argv, opts, &help, err, sizeof err) == 0) {
        for (cli_opt *o = opts; o->name; o++) {
            if (!o->value) continue;
            if (!o->arg && strcmp(o->value, "1")) abort();
            if (o->value < buf || o->value > buf + size) {
                if (o->arg || strcmp(o->value, "1")) abort();
            }
        }
    } else if (!memchr(err, 0, sizeof err)) {
        abort();
    }
    free(buf);
    return 0;
}

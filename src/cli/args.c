/* prep command line: option parsing shared by every subcommand. */
#include "cli.h"

#include <string.h>

int cli_parse(int argc, char **argv, cli_opt *opts, int *help, char *err, size_t errsz)
{
    *help = 0;
    for (cli_opt *o = opts; o->name; o++) o->value = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            *help = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            snprintf(err, errsz, "unexpected argument '%s' (options start with --)", a);
            return -1;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        cli_opt *o = opts;
        for (; o->name; o++)
            if (strlen(o->name) == nl && !strncmp(o->name, name, nl)) break;
        if (!o->name) {
            snprintf(err, errsz, "unknown option '--%.*s'", (int)(nl > 64 ? 64 : nl), name);
            return -1;
        }
        if (o->value) {
            snprintf(err, errsz, "option '--%s' given twice", o->name);
            return -1;
        }
        if (!o->arg) {
            if (eq) {
                snprintf(err, errsz, "option '--%s' takes no value", o->name);
                return -1;
            }
            o->value = "1";
        } else if (eq) {
            o->value = eq + 1;
        } else {
            if (i + 1 >= argc) {
                snprintf(err, errsz, "option '--%s' needs a value (%s)", o->name, o->arg);
                return -1;
            }
            o->value = argv[++i];
        }
    }
    return 0;
}

void cli_usage(FILE *f, const char *cmd, const char *synopsis, const char *summary, const cli_opt *opts)
{
    fprintf(f, "usage: prep %s %s\n\n%s\n\noptions:\n", cmd, synopsis, summary);
    for (const cli_opt *o = opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-24s %s\n", left, o->help);
    }
    fprintf(f, "  %-24s %s\n", "-h, --help", "show this help");
}

const char *cli_get(const cli_opt *opts, const char *name)
{
    for (const cli_opt *o = opts; o->name; o++)
        if (!strcmp(o->name, name)) return o->value;
    return NULL;
}

int cli_not_built(const char *cmd)
{
    fprintf(stderr, "prep: '%s' is not built yet in this version (see the open issues)\n", cmd);
    return CLI_USAGE;
}

int cli_int(const char *cmd, const char *name, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v;
    if (!s) return 0;
    if (prep_parse_i64(s, &v) || v < lo || v > hi) {
        fprintf(stderr, "prep %s: --%s must be a whole number in %lld..%lld\n", cmd, name, (long long)lo,
                (long long)hi);
        return -1;
    }
    *out = v;
    return 1;
}

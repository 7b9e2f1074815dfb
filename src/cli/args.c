/* prep command line: option parsing shared by every subcommand. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Set by cli_parse when a command is given the hidden --man: cli_usage then prints the
 * same synopsis, summary and options as a roff man page instead of --help's text, so the
 * installed man pages and --help come from one source (docs/build.md "Man pages"). */
static int man_mode;
static const char *man_oneline;

void cli_man_describe(const char *oneline) { man_oneline = oneline; }

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
        if (!strcmp(a, "--man")) { /* hidden: the man page (see man_mode) */
            *help = man_mode = 1;
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
            /* "--at --store DIR": the value forgotten, the next option taken for it */
            const char *nx = argv[i + 1];
            for (const cli_opt *q = opts; nx[0] == '-' && nx[1] == '-' && q->name; q++) {
                size_t ql = strlen(q->name);
                if (!strncmp(nx + 2, q->name, ql) && (nx[2 + ql] == 0 || nx[2 + ql] == '=')) {
                    snprintf(err, errsz, "option '--%s' needs a value (%s), not the option '%s'", o->name, o->arg,
                             nx);
                    return -1;
                }
            }
            o->value = argv[++i];
        }
    }
    return 0;
}

/* Writes s as roff text: backslashes escaped, a leading '.' or '\'' made literal, '-' in
 * option words as \-, and every non-ASCII UTF-8 character as \[uXXXX] so the pages are
 * plain ASCII that groff and lintian read without warnings. */
static void roff_put(FILE *f, const char *s, size_t n, int minus)
{
    int bol = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (bol && (c == '.' || c == '\'')) fputs("\\&", f);
        bol = c == '\n';
        if (c == '\\') fputs("\\e", f);
        else if (c == '-' && minus) fputs("\\-", f);
        else if (c < 0x80) fputc(c, f);
        else {
            unsigned cp = 0, extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
            cp = c & (0x3f >> extra);
            for (unsigned k = 0; k < extra && i + 1 < n; k++) cp = (cp << 6) | ((unsigned char)s[++i] & 0x3f);
            fprintf(f, "\\[u%04X]", cp);
        }
    }
}

static void roff_puts(FILE *f, const char *s, int minus) { roff_put(f, s, strlen(s), minus); }

/* The page name: "difusor add" -> "prep-difusor-add". */
static void man_name(const char *cmd, char *out, size_t outsz)
{
    snprintf(out, outsz, "prep%s%s", *cmd ? "-" : "", cmd);
    for (char *p = out; *p; p++)
        if (*p == ' ') *p = '-';
}

static void man_head(FILE *f, const char *cmd, const char *oneline)
{
    char name[96], up[96];
    man_name(cmd, name, sizeof name);
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof up; i++) up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    up[i] = 0;
    fputs(".TH ", f);
    roff_puts(f, up, 1);
    fprintf(f, " 1 \"\" \"prep %s\" \"prep manual\"\n.SH NAME\n", PREP_VERSION);
    roff_puts(f, name, 1);
    fputs(" \\- ", f);
    roff_puts(f, oneline, 0);
    fputs("\n", f);
}

/* The first sentence of a summary, on one line: the NAME line of a subcommand's page. */
static void first_sentence(const char *s, char *out, size_t outsz)
{
    size_t k = 0;
    for (const char *p = s; *p && k + 1 < outsz; p++) {
        if (*p == '.' && (p[1] == ' ' || p[1] == '\n' || !p[1])) break;
        out[k++] = *p == '\n' ? ' ' : *p;
    }
    out[k] = 0;
    if (k && out[0] >= 'A' && out[0] <= 'Z' && !(out[1] >= 'A' && out[1] <= 'Z')) out[0] = (char)(out[0] + 32);
}

static void man_text(FILE *f, const char *s)
{
    /* a blank line is a new paragraph */
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (!n) fputs(".PP\n", f);
        else {
            size_t lead = 0;
            while (lead < n && p[lead] == ' ') lead++;
            roff_put(f, p + lead, n - lead, 0);
            fputs("\n", f);
        }
        p += n + (e ? 1 : 0);
    }
}

static void man_tail(FILE *f, const char *cmd, const char *const *subs, size_t nsubs)
{
    fputs(".SH EXIT STATUS\n0 success, 1 a check failed, 2 bad usage or input.\n.SH SEE ALSO\n", f);
    if (*cmd) fputs(".BR prep (1),\n", f);
    for (size_t i = 0; i < nsubs; i++) {
        char name[96];
        char sub[80];
        snprintf(sub, sizeof sub, "%s%s%s", cmd, *cmd ? " " : "", subs[i]);
        man_name(sub, name, sizeof name);
        fputs(".BR ", f);
        roff_puts(f, name, 1);
        fputs(" (1),\n", f);
    }
    fputs("the documentation in\n.IR /usr/share/doc/prep/ .\n", f);
}

static void man_usage(FILE *f, const char *cmd, const char *synopsis, const char *summary, const cli_opt *opts)
{
    char one[256];
    if (man_oneline && !strchr(cmd, ' ')) snprintf(one, sizeof one, "%s", man_oneline);
    else first_sentence(summary, one, sizeof one);
    man_head(f, cmd, one);
    fputs(".SH SYNOPSIS\n.nf\n\\fBprep ", f);
    roff_puts(f, cmd, 1);
    fputs("\\fR ", f);
    roff_puts(f, synopsis, 1);
    fputs("\n.fi\n.SH DESCRIPTION\n", f);
    man_text(f, summary);
    fputs(".SH OPTIONS\n", f);
    for (const cli_opt *o = opts; o->name; o++) {
        fputs(".TP\n\\fB\\-\\-", f);
        roff_puts(f, o->name, 1);
        fputs("\\fR", f);
        if (o->arg) {
            fputs(" \\fI", f);
            roff_puts(f, o->arg, 1);
            fputs("\\fR", f);
        }
        fputs("\n", f);
        man_text(f, o->help);
    }
    fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nshow this help\n", f);
    man_tail(f, cmd, NULL, 0);
}

void cli_man_text(FILE *f, const char *cmd, const char *oneline, void (*print)(FILE *), const char *const *subs,
                  size_t nsubs)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) return;
    print(m);
    fclose(m);
    man_head(f, cmd, oneline ? oneline : man_oneline ? man_oneline : "");
    fputs(".SH DESCRIPTION\n.nf\n", f);
    roff_put(f, text, len, 1);
    if (len && text[len - 1] != '\n') fputs("\n", f);
    fputs(".fi\n", f);
    if (!subs) {
        fputs(".PP\nEach subcommand has its own page,\n.BR prep\\-", f);
        roff_puts(f, cmd, 1);
        fputs("\\-\\fISUBCOMMAND\\fR (1).\n", f);
    }
    man_tail(f, cmd, subs, nsubs);
    free(text);
}

void cli_usage(FILE *f, const char *cmd, const char *synopsis, const char *summary, const cli_opt *opts)
{
    if (man_mode) {
        man_usage(f, cmd, synopsis, summary, opts);
        return;
    }
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

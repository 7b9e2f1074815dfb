/* prep difusor: the institute's registry of broadcasters (docs/registry.md).
 * Option parsing and printing only; the work is in src/registry/registry*.c. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "prep/cut.h"
#include "prep/registry.h"

#define COMMON_OPTS                                                                                                 \
    {"db", "FILE", "the registry database (default ./difusores.db)", NULL},                                         \
        {"secrets", "FILE", "the secrets file (default DB.secrets; mode 0600, refused otherwise)", NULL}
#define BY_WHY_OPTS                                                                                                 \
    {"by", "NAME", "who makes the change (required; kept in the audit log)", NULL},                                 \
        {"why", "TEXT", "why (required; kept in the audit log)", NULL}
#define NOW_OPT {"now", "TIME", "the instant deadlines are checked against (tests, drills; default: now)", NULL}
#define END_OPTS {NULL, NULL, NULL, NULL}

static int status_of(prep_err e)
{
    if (e == PREP_OK) return CLI_OK;
    return e == PREP_ERR_VERIFY ? CLI_CHECK_FAILED : CLI_USAGE;
}

static int finish(prep_diags *d, prep_err e, const char *sub)
{
    if (d->n) prep_diags_print(d, stderr, 30);
    if (e) fprintf(stderr, "prep difusor %s: %s\n", sub, prep_err_text(e));
    prep_diags_free(d);
    return status_of(e);
}

/* Parses argv (after the subcommand and its optional ID); -1 to continue, else the exit status. */
static int parse(int argc, char **argv, cli_opt *opts, const char *sub, const char *synopsis, const char *summary)
{
    int help;
    char err[256];
    if (cli_parse(argc, argv, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep difusor %s: %s (see 'prep difusor %s --help')\n", sub, err, sub);
        return CLI_USAGE;
    }
    if (help) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "difusor %s", sub);
        cli_usage(stdout, cmd, synopsis, summary, opts);
        return CLI_OK;
    }
    return -1;
}

static int need(const cli_opt *opts, const char *sub, const char *name, const char *arg)
{
    if (cli_get(opts, name)) return 0;
    fprintf(stderr, "prep difusor %s: --%s %s is required (see 'prep difusor %s --help')\n", sub, name, arg, sub);
    return -1;
}

static int open_reg(const cli_opt *opts, const char *sub, prep_registry **r)
{
    const char *db = cli_get(opts, "db");
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_registry_open(db ? db : "difusores.db", cli_get(opts, "secrets"), r, &d);
    if (e) return finish(&d, e, sub);
    prep_diags_free(&d);
    return -1;
}

/* --now in the registry's zone; PREP_TIME_NONE on a bad value (message printed). */
static prep_time get_now(prep_registry *r, const cli_opt *opts, const char *sub)
{
    const char *s = cli_get(opts, "now");
    if (!s) return prep_time_now();
    prep_registry_settings set;
    prep_diags d;
    prep_diags_init(&d);
    if (prep_registry_settings_get(r, &set, &d) != PREP_OK) {
        prep_diags_print(&d, stderr, 5);
        fprintf(stderr, "prep difusor %s: cannot read the registry's zone for --now\n", sub);
        prep_diags_free(&d);
        return PREP_TIME_NONE;
    }
    prep_diags_free(&d);
    prep_time t;
    if (prep_time_parse(s, set.zone, &t)) {
        fprintf(stderr, "prep difusor %s: --now '%s' is not a time (YYYY-MM-DD HH:MM[:SS])\n", sub, s);
        return PREP_TIME_NONE;
    }
    return t;
}

static void fmt_time(prep_time t, const char *zone, char *out, size_t outsz)
{
    if (t == PREP_TIME_NONE || prep_time_format(t, zone, PREP_TS_ISO, out, outsz)) snprintf(out, outsz, "-");
}

/* ---------------------------------------------------------------- add, edit */
/* Appends an option per Anexo 1 field to opts from index k; returns the new count. */
static size_t field_opts(cli_opt *opts, size_t k)
{
    static char helps[PREP_REGISTRY_NFIELDS][300];
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) {
        const prep_registry_field_info *f = &prep_registry_fields[i];
        snprintf(helps[i], sizeof helps[i], "%s%s", f->label, f->required ? " (required)" : "");
        opts[k++] = (cli_opt){f->option, "VALUE", helps[i], NULL};
    }
    opts[k] = (cli_opt)END_OPTS;
    return k;
}

/* Fills in from the options (every one but those in skip[]) and --from; 0 or an exit status. */
static int gather_input(const cli_opt *opts, const char *sub, prep_registry_input *in, prep_diags *d)
{
    static const char *const skip[] = {"db", "secrets", "now", "by", "why", "from"};
    prep_err e = PREP_OK;
    for (size_t i = 0; opts[i].name; i++) {
        int skipped = 0;
        for (size_t j = 0; j < PREP_ARRAY_LEN(skip); j++) skipped |= !strcmp(opts[i].name, skip[j]);
        if (skipped || !opts[i].value) continue;
        prep_err e2 = prep_registry_input_set(in, opts[i].name, opts[i].value, "command line", 0, d);
        if (e2) e = e2;
    }
    const char *from = cli_get(opts, "from");
    if (!e && from) {
        char *data = NULL;
        size_t len = 0;
        if (prep_read_file(from, PREP_REGISTRY_INPUT_MAX, &data, &len)) {
            fprintf(stderr, "prep difusor %s: cannot read --from %s (at most %u bytes)\n", sub, from,
                    PREP_REGISTRY_INPUT_MAX);
            return CLI_USAGE;
        }
        prep_registry_input tmp;
        prep_registry_input_init(&tmp);
        e = prep_registry_input_parse(data, len, from, &tmp, d);
        memset(data, 0, len);
        free(data);
        /* merge: the command line wins */
        for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++)
            if (!in->v[i]) {
                in->v[i] = tmp.v[i];
                tmp.v[i] = NULL;
            }
        char **a[] = {&in->id, &in->logo, &in->ftp_password, &in->ssh_password};
        char **b[] = {&tmp.id, &tmp.logo, &tmp.ftp_password, &tmp.ssh_password};
        for (size_t i = 0; i < PREP_ARRAY_LEN(a); i++)
            if (!*a[i]) {
                *a[i] = *b[i];
                *b[i] = NULL;
            }
        prep_registry_input_free(&tmp);
    }
    if (e) {
        if (d->n) prep_diags_print(d, stderr, 30);
        fprintf(stderr, "prep difusor %s: %s\n", sub, prep_err_text(e));
        return CLI_USAGE;
    }
    return 0;
}

static int sub_add(int argc, char **argv)
{
    cli_opt opts[PREP_REGISTRY_NFIELDS + 16];
    cli_opt common[] = {COMMON_OPTS, NOW_OPT,
                        {"by", "NAME", "who registers it (required; kept in the audit log)", NULL},
                        {"from", "FILE", "read the fields from a 'key = value' file (docs/registry.md)", NULL},
                        {"id", "ID", "the broadcaster's id, [a-z0-9-] (default: from the name)", NULL},
                        {"logo", "FILE", "its logo, PNG or SVG, at most 512 KiB (shown on the roster)", NULL},
                        {"ftp-password", "TEXT", "FTP password (secrets file only; prefer --from FILE)", NULL},
                        {"ssh-password", "TEXT", "SSH password (secrets file only; SSH keys are preferred)", NULL}};
    size_t k = 0;
    for (size_t i = 0; i < PREP_ARRAY_LEN(common); i++) opts[k++] = common[i];
    field_opts(opts, k);
    int rc = parse(argc, argv, opts, "add", "[--from FILE] --by NAME --FIELD VALUE ...",
                   "Registers a broadcaster with every field of the call's Anexo 1 (registration form).\n"
                   "Options override the same keys of --from. Refused after the registration deadline\n"
                   "(prep difusor settings). Prints the broadcaster's pull token once: keep it secret.");
    if (rc >= 0) return rc;
    if (need(opts, "add", "by", "NAME")) return CLI_USAGE;
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_input in;
    prep_registry_input_init(&in);
    if ((rc = gather_input(opts, "add", &in, &d))) {
        prep_registry_input_free(&in);
        prep_diags_free(&d);
        return rc;
    }
    prep_registry *r;
    if ((rc = open_reg(opts, "add", &r)) >= 0) {
        prep_registry_input_free(&in);
        prep_diags_free(&d);
        return rc;
    }
    prep_time now = get_now(r, opts, "add");
    if (now == PREP_TIME_NONE) {
        prep_registry_close(r);
        prep_registry_input_free(&in);
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    if (in.ssh_password)
        fprintf(stderr, "prep difusor add: warning: an SSH password was given; SSH keys are preferred "
                        "(the institute's key installed on the broadcaster)\n");
    char token[PREP_REGISTRY_TOKEN_HEX + 1], id[64];
    prep_err e = prep_registry_add(r, &in, cli_get(opts, "by"), now, token, id, &d);
    if (!e) {
        printf("registered %s\n", id);
        printf("pull token (shown only now; keep it secret): %s\n", token);
    }
    memset(token, 0, sizeof token);
    prep_registry_close(r);
    prep_registry_input_free(&in);
    return finish(&d, e, "add");
}

static int sub_edit(const char *id, int argc, char **argv)
{
    cli_opt opts[PREP_REGISTRY_NFIELDS + 16];
    cli_opt common[] = {COMMON_OPTS, BY_WHY_OPTS,
                        {"from", "FILE", "read the changed fields from a 'key = value' file", NULL},
                        {"logo", "FILE", "a new logo, PNG or SVG, at most 512 KiB", NULL},
                        {"ftp-password", "TEXT", "a new FTP password (secrets file only)", NULL},
                        {"ssh-password", "TEXT", "a new SSH password (secrets file only)", NULL}};
    size_t k = 0;
    for (size_t i = 0; i < PREP_ARRAY_LEN(common); i++) opts[k++] = common[i];
    field_opts(opts, k);
    int rc = parse(argc, argv, opts, "edit", "ID --by NAME --why TEXT --FIELD VALUE ...",
                   "Changes fields of a registered broadcaster (validated as for add; an empty value\n"
                   "clears an optional field). Audited with the names of the changed fields.");
    if (rc >= 0) return rc;
    if (!id) {
        fprintf(stderr, "prep difusor edit: give the broadcaster's ID\n");
        return CLI_USAGE;
    }
    if (need(opts, "edit", "by", "NAME") || need(opts, "edit", "why", "TEXT")) return CLI_USAGE;
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_input in;
    prep_registry_input_init(&in);
    if ((rc = gather_input(opts, "edit", &in, &d))) {
        prep_registry_input_free(&in);
        prep_diags_free(&d);
        return rc;
    }
    prep_registry *r;
    if ((rc = open_reg(opts, "edit", &r)) >= 0) {
        prep_registry_input_free(&in);
        prep_diags_free(&d);
        return rc;
    }
    prep_err e = prep_registry_edit(r, id, &in, cli_get(opts, "by"), cli_get(opts, "why"), &d);
    if (!e) printf("%s: changed\n", id);
    prep_registry_close(r);
    prep_registry_input_free(&in);
    return finish(&d, e, "edit");
}

/* ---------------------------------------------------------------- list, show */
static int sub_list(int argc, char **argv)
{
    cli_opt opts[] = {COMMON_OPTS, END_OPTS};
    int rc = parse(argc, argv, opts, "list", "[--db FILE]", "Lists every broadcaster: id, status, method, name.");
    if (rc >= 0) return rc;
    prep_registry *r;
    if ((rc = open_reg(opts, "list", &r)) >= 0) return rc;
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_difusor *v;
    size_t n;
    prep_err e = prep_registry_list(r, &v, &n, &d);
    if (!e) {
        for (size_t i = 0; i < n; i++)
            printf("%-24s %-24s %-5s %s\n", v[i].id, prep_registry_status_name(v[i].status),
                   v[i].v[PREP_REGISTRY_F_method], v[i].v[PREP_REGISTRY_F_name]);
        prep_registry_difusor_list_free(v, n);
    }
    prep_registry_close(r);
    return finish(&d, e, "list");
}

static const char *method_name(prep_deliver_method m)
{
    return m == PREP_DELIVER_SFTP ? "sftp" : m == PREP_DELIVER_FTPS ? "ftps" : "pull";
}

static int sub_show(const char *id, int argc, char **argv)
{
    cli_opt opts[] = {COMMON_OPTS, {"deliveries", "N", "how many of the last deliveries to print (default 5)", NULL},
                      END_OPTS};
    int rc = parse(argc, argv, opts, "show", "ID [--deliveries N]",
                   "Prints one broadcaster: every Anexo 1 field, status, logo, whether passwords are\n"
                   "set (never their values), its audit log and its last deliveries.");
    if (rc >= 0) return rc;
    if (!id) {
        fprintf(stderr, "prep difusor show: give the broadcaster's ID\n");
        return CLI_USAGE;
    }
    int64_t nd = 5;
    if (cli_get(opts, "deliveries") && (prep_parse_i64(cli_get(opts, "deliveries"), &nd) || nd < 0 || nd > 10000)) {
        fprintf(stderr, "prep difusor show: --deliveries must be 0..10000\n");
        return CLI_USAGE;
    }
    prep_registry *r;
    if ((rc = open_reg(opts, "show", &r)) >= 0) return rc;
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_difusor df;
    prep_registry_settings set;
    prep_err e = prep_registry_settings_get(r, &set, &d);
    if (!e) e = prep_registry_get(r, id, &df, &d);
    if (!e) {
        char t1[40], t2[40];
        fmt_time(df.created, set.zone, t1, sizeof t1);
        fmt_time(df.changed, set.zone, t2, sizeof t2);
        printf("id: %s\nstatus: %s\nregistered: %s\nchanged: %s\n", df.id, prep_registry_status_name(df.status), t1, t2);
        if (df.status == PREP_REGISTRY_BLOCKED) printf("status before the block: %s\n", prep_registry_status_name(df.before_block));
        for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) {
            if (!*df.v[i]) continue;
            const char *v = df.v[i];
            if (strchr(v, '\n')) {
                printf("%s:\n", prep_registry_fields[i].option);
                for (const char *p = v; *p;) {
                    const char *nl = strchr(p, '\n');
                    int l = nl ? (int)(nl - p) : (int)strlen(p);
                    printf("    %.*s\n", l, p);
                    p += l + (nl ? 1 : 0);
                }
            } else {
                printf("%s: %s\n", prep_registry_fields[i].option, v);
            }
        }
        if (df.logo_len)
            printf("logo: %s, %zu bytes, sha256 %s\n", df.logo_type, df.logo_len, df.logo_sha256);
        else
            printf("logo: none\n");
        printf("ftp-password: %s\n", df.has_ftp_password ? "set (secrets file)" : "not set");
        printf("ssh-password: %s\n", df.has_ssh_password ? "set (secrets file)" : "not set");
        prep_registry_difusor_free(&df);
        prep_registry_audit_entry *a;
        size_t na;
        if (!(e = prep_registry_audit(r, id, &a, &na, &d))) {
            printf("audit:\n");
            for (size_t i = 0; i < na; i++) {
                char t[40];
                fmt_time(a[i].at, set.zone, t, sizeof t);
                printf("  #%lld %s %s by %s", (long long)a[i].seq, t, a[i].action, a[i].who);
                if (*a[i].from || *a[i].to) printf(" (%s -> %s)", *a[i].from ? a[i].from : "-", a[i].to);
                printf(": %s\n", a[i].why);
            }
            free(a);
        }
        prep_registry_delivery *dv;
        size_t ndv;
        if (!e && !(e = prep_registry_deliveries(r, id, (size_t)nd, &dv, &ndv, &d))) {
            printf("deliveries (last %zu):\n", ndv);
            for (size_t i = 0; i < ndv; i++) {
                char t[40];
                fmt_time(dv[i].finished, set.zone, t, sizeof t);
                printf("  cut %llu %s %s %s, %llu objects, %llu bytes, %llds%s%s\n", (unsigned long long)dv[i].seq,
                       method_name(dv[i].method), t, dv[i].status, (unsigned long long)dv[i].objects,
                       (unsigned long long)dv[i].bytes, (long long)(dv[i].finished - dv[i].started),
                       *dv[i].error ? ": " : "", dv[i].error);
            }
            free(dv);
        }
    }
    prep_registry_close(r);
    return finish(&d, e, "show");
}

/* ---------------------------------------------------------------- settings */
static int sub_settings(int argc, char **argv)
{
    cli_opt opts[] = {COMMON_OPTS,
                      {"registration-deadline", "TIME", "last instant to register (call I.e: 2021-04-19 23:59)", NULL},
                      {"infrastructure-deadline", "TIME", "last instant to verify infrastructure (I.f: 2021-04-30 23:59)",
                       NULL},
                      {"roster-date", "TIME", "the roster's publication date: approvals end (I.h: 2021-05-28 23:59)",
                       NULL},
                      {"zone", "TZ", "the process's time zone (default America/Mexico_City)", NULL},
                      {"process", "ID", "the process id; roster cuts are '<process>-difusores' (default prep)", NULL},
                      BY_WHY_OPTS,
                      END_OPTS};
    int rc = parse(argc, argv, opts, "settings", "[--registration-deadline T] [--infrastructure-deadline T] "
                                                 "[--roster-date T] [--zone TZ] [--process ID] --by NAME --why TEXT",
                   "Prints the process settings, or changes the given ones (audited). Times are local\n"
                   "to --zone; 'none' clears a date.");
    if (rc >= 0) return rc;
    prep_registry *r;
    if ((rc = open_reg(opts, "settings", &r)) >= 0) return rc;
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_settings s;
    prep_err e = prep_registry_settings_get(r, &s, &d);
    int changing = 0;
    static const char *const names[] = {"registration-deadline", "infrastructure-deadline", "roster-date", "zone",
                                        "process"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(names); i++) changing |= cli_get(opts, names[i]) != NULL;
    if (!e && changing) {
        if (cli_get(opts, "zone")) snprintf(s.zone, sizeof s.zone, "%s", cli_get(opts, "zone"));
        if (cli_get(opts, "process")) snprintf(s.process, sizeof s.process, "%s", cli_get(opts, "process"));
        prep_time *tp[] = {&s.registration_deadline, &s.infrastructure_deadline, &s.roster_date};
        for (int i = 0; i < 3 && !e; i++) {
            const char *v = cli_get(opts, names[i]);
            if (!v) continue;
            if (!strcmp(v, "none")) {
                *tp[i] = PREP_TIME_NONE;
            } else if (prep_time_parse(v, s.zone, tp[i])) {
                prep_diags_add(&d, names[i], 0, 0, "invalid-field",
                               "--%s '%.64s' is not a time (YYYY-MM-DD HH:MM[:SS]) in zone %s", names[i], v, s.zone);
                e = PREP_ERR_INVALID;
            }
        }
        if (!e) e = prep_registry_settings_set(r, &s, cli_get(opts, "by"), cli_get(opts, "why"), &d);
    }
    if (!e) {
        char t[3][40];
        fmt_time(s.registration_deadline, s.zone, t[0], sizeof t[0]);
        fmt_time(s.infrastructure_deadline, s.zone, t[1], sizeof t[1]);
        fmt_time(s.roster_date, s.zone, t[2], sizeof t[2]);
        printf("registration-deadline: %s\ninfrastructure-deadline: %s\nroster-date: %s\nzone: %s\nprocess: %s\n", t[0],
               t[1], t[2], s.zone, s.process);
    }
    prep_registry_close(r);
    return finish(&d, e, "settings");
}

/* ---------------------------------------------------------------- status changes */
static int sub_change(const char *sub, const char *id, int argc, char **argv)
{
    int is_status = !strcmp(sub, "status");
    cli_opt opts[] = {COMMON_OPTS, BY_WHY_OPTS, NOW_OPT,
                      {"to", "STATUS", "status: the new status (infrastructure-verified, approved, active, blocked)", NULL},
                      END_OPTS};
    int rc = parse(argc, argv, opts, sub, is_status ? "ID --to STATUS --by NAME --why TEXT" : "ID --by NAME --why TEXT",
                   "Changes a broadcaster's status (audited with who, when and why). The order is\n"
                   "registered -> infrastructure-verified -> approved -> active; block from any status,\n"
                   "unblock back to the one before. verify-infra is refused after the infrastructure\n"
                   "deadline, approve after the roster date. A block takes effect for every process\n"
                   "(pushes, the pull link answers 403) when this command returns.");
    if (rc >= 0) return rc;
    if (!id) {
        fprintf(stderr, "prep difusor %s: give the broadcaster's ID\n", sub);
        return CLI_USAGE;
    }
    if (need(opts, sub, "by", "NAME") || need(opts, sub, "why", "TEXT")) return CLI_USAGE;
    prep_registry_status to = PREP_REGISTRY_REGISTERED;
    if (is_status) {
        if (need(opts, sub, "to", "STATUS")) return CLI_USAGE;
        if (prep_registry_status_parse(cli_get(opts, "to"), &to) || to == PREP_REGISTRY_REGISTERED) {
            fprintf(stderr, "prep difusor status: --to '%s' must be infrastructure-verified, approved, active or "
                            "blocked (use unblock to lift a block)\n", cli_get(opts, "to"));
            return CLI_USAGE;
        }
    } else if (cli_get(opts, "to")) {
        fprintf(stderr, "prep difusor %s: --to goes with 'status' only\n", sub);
        return CLI_USAGE;
    } else if (!strcmp(sub, "verify-infra")) {
        to = PREP_REGISTRY_INFRA_VERIFIED;
    } else if (!strcmp(sub, "approve")) {
        to = PREP_REGISTRY_APPROVED;
    } else if (!strcmp(sub, "activate")) {
        to = PREP_REGISTRY_ACTIVE;
    } else if (!strcmp(sub, "block")) {
        to = PREP_REGISTRY_BLOCKED;
    }
    prep_registry *r;
    if ((rc = open_reg(opts, sub, &r)) >= 0) return rc;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e;
    const char *by = cli_get(opts, "by"), *why = cli_get(opts, "why");
    if (!strcmp(sub, "unblock")) {
        e = prep_registry_unblock(r, id, by, why, &d);
    } else {
        prep_time now = get_now(r, opts, sub);
        e = now == PREP_TIME_NONE ? PREP_ERR_USAGE : prep_registry_transition(r, id, to, by, why, now, &d);
    }
    if (!e) {
        prep_registry_difusor df;
        if (prep_registry_get(r, id, &df, &d) == PREP_OK) {
            printf("%s: %s\n", id, prep_registry_status_name(df.status));
            prep_registry_difusor_free(&df);
        }
    }
    prep_registry_close(r);
    return finish(&d, e, sub);
}

static int sub_token(const char *id, int argc, char **argv)
{
    cli_opt opts[] = {COMMON_OPTS, BY_WHY_OPTS, {"rotate", NULL, "make a new pull token (the old one stops working)", NULL},
                      END_OPTS};
    int rc = parse(argc, argv, opts, "token", "ID --rotate --by NAME --why TEXT",
                   "Gives the broadcaster a new pull token, printed once (the registry keeps only its\n"
                   "SHA-256, so a lost token cannot be shown again: rotate it).");
    if (rc >= 0) return rc;
    if (!id) {
        fprintf(stderr, "prep difusor token: give the broadcaster's ID\n");
        return CLI_USAGE;
    }
    if (!cli_get(opts, "rotate")) {
        fprintf(stderr, "prep difusor token: tokens are stored hashed and cannot be shown; --rotate makes a new one\n");
        return CLI_USAGE;
    }
    if (need(opts, "token", "by", "NAME") || need(opts, "token", "why", "TEXT")) return CLI_USAGE;
    prep_registry *r;
    if ((rc = open_reg(opts, "token", &r)) >= 0) return rc;
    prep_diags d;
    prep_diags_init(&d);
    char token[PREP_REGISTRY_TOKEN_HEX + 1];
    prep_err e = prep_registry_token_rotate(r, id, cli_get(opts, "by"), cli_get(opts, "why"), token, &d);
    if (!e) printf("pull token of %s (shown only now; keep it secret): %s\n", id, token);
    memset(token, 0, sizeof token);
    prep_registry_close(r);
    return finish(&d, e, "token");
}

/* ---------------------------------------------------------------- letter, roster */
static int sub_letter(const char *id, int argc, char **argv)
{
    cli_opt opts[] = {COMMON_OPTS, {"out", "FILE", "write the letter here, HTML (required)", NULL},
                      {"date", "TIME", "the letter's date (default: today)", NULL}, END_OPTS};
    int rc = parse(argc, argv, opts, "letter", "ID --out FILE.html [--date TIME]",
                   "Writes the call's Anexo 2 commitment letter filled in for the broadcaster, as an\n"
                   "HTML page that prints on letter paper (print it on letterhead and sign it).");
    if (rc >= 0) return rc;
    if (!id) {
        fprintf(stderr, "prep difusor letter: give the broadcaster's ID\n");
        return CLI_USAGE;
    }
    if (need(opts, "letter", "out", "FILE")) return CLI_USAGE;
    prep_registry *r;
    if ((rc = open_reg(opts, "letter", &r)) >= 0) return rc;
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_settings set;
    prep_err e = prep_registry_settings_get(r, &set, &d);
    prep_time date = prep_time_now();
    if (!e && cli_get(opts, "date")) {
        char b[64];
        snprintf(b, sizeof b, "%s", cli_get(opts, "date"));
        if (strlen(b) == 10) strncat(b, " 12:00", sizeof b - strlen(b) - 1); /* a day alone */
        if (prep_time_parse(b, set.zone, &date)) {
            prep_diags_add(&d, "date", 0, 0, "invalid-field", "--date '%.64s' is not a date (YYYY-MM-DD)",
                           cli_get(opts, "date"));
            e = PREP_ERR_INVALID;
        }
    }
    prep_buf b;
    prep_buf_init(&b, 16u * 1024 * 1024);
    if (!e) e = prep_registry_letter(r, id, date, &b, &d);
    if (!e && (e = prep_write_file_atomic(cli_get(opts, "out"), b.data, b.len)))
        prep_diags_add(&d, cli_get(opts, "out"), 0, 0, "io", "cannot write the letter");
    if (!e) printf("%s: commitment letter of %s\n", cli_get(opts, "out"), id);
    prep_buf_free(&b);
    prep_registry_close(r);
    return finish(&d, e, "letter");
}

static int sub_roster(int argc, char **argv)
{
    cli_opt opts[] = {COMMON_OPTS,
                      {"out", "DIR", "the roster directory (index.html, SHA256SUMS, SHA256SUMS.sig) (required)", NULL},
                      {"key", "FILE", "the institute's signing key (prep keygen) (required)", NULL},
                      {"pubkey", "FILE", "check the written roster's signature against this public key", NULL},
                      {"drill", NULL, "a drill roster (signed with a drill key)", NULL},
                      NOW_OPT,
                      END_OPTS};
    int rc = parse(argc, argv, opts, "roster", "--out DIR --key FILE [--pubkey FILE] [--drill]",
                   "Publishes the roster of official broadcasters: DIR/index.html (Spanish, no outside\n"
                   "requests), each approved or active broadcaster's logo linking to its publication\n"
                   "site, blocked ones marked 'Bloqueado' without a link. It is signed like a cut\n"
                   "(store DIR.store, process '<process>-difusores'): verify with\n"
                   "signify -V -p KEY.pub -m DIR/SHA256SUMS and (cd DIR && sha256sum -c SHA256SUMS).");
    if (rc >= 0) return rc;
    if (need(opts, "roster", "out", "DIR") || need(opts, "roster", "key", "FILE")) return CLI_USAGE;
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_seckey key;
    prep_err e = prep_cut_seckey_load(cli_get(opts, "key"), &key, &d);
    if (e) return finish(&d, e == PREP_ERR_VERIFY ? PREP_ERR_INVALID : e, "roster");
    prep_registry *r;
    if ((rc = open_reg(opts, "roster", &r)) >= 0) {
        prep_cut_seckey_wipe(&key);
        prep_diags_free(&d);
        return rc;
    }
    prep_time now = get_now(r, opts, "roster");
    uint64_t seq = 0;
    if (now == PREP_TIME_NONE)
        e = PREP_ERR_USAGE;
    else
        e = prep_registry_roster(r, cli_get(opts, "out"), &key, cli_get(opts, "drill") != NULL, now, &seq, &d);
    prep_cut_seckey_wipe(&key);
    prep_registry_close(r);
    if (e == PREP_ERR_VERIFY) e = PREP_ERR_INVALID; /* a refusal to sign is bad input here */
    if (!e && cli_get(opts, "pubkey")) {
        prep_cut_pubkey pk;
        char *m = NULL, *s = NULL;
        size_t ml = 0, sl = 0;
        prep_buf p;
        prep_buf_init(&p, 0);
        prep_buf_printf(&p, "%s/SHA256SUMS", cli_get(opts, "out"));
        prep_cut_sig sig;
        e = prep_cut_pubkey_load(cli_get(opts, "pubkey"), &pk, &d);
        if (!e) e = prep_read_file(p.data, 256u * 1024 * 1024, &m, &ml);
        prep_buf_puts(&p, ".sig");
        if (!e) e = prep_read_file(p.data, 4096, &s, &sl);
        if (!e) e = prep_cut_sig_parse(s, sl, p.data, &sig, &d);
        if (!e) e = prep_cut_sig_verify(&pk, 1, &sig, m, ml, NULL, p.data, &d);
        if (e && e != PREP_ERR_VERIFY) e = PREP_ERR_INVALID;
        free(m);
        free(s);
        prep_buf_free(&p);
    }
    if (!e) printf("%s: roster %llu signed%s\n", cli_get(opts, "out"), (unsigned long long)seq,
                   cli_get(opts, "pubkey") ? " and verified" : "");
    return finish(&d, e, "roster");
}

static int sub_audit(const char *id, int argc, char **argv)
{
    cli_opt opts[] = {COMMON_OPTS, END_OPTS};
    int rc = parse(argc, argv, opts, "audit", "[ID]",
                   "Prints the append-only audit log, oldest first: every registration, edit, status\n"
                   "change, block, token rotation and settings change, with who, when and why.");
    if (rc >= 0) return rc;
    prep_registry *r;
    if ((rc = open_reg(opts, "audit", &r)) >= 0) return rc;
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_settings set;
    prep_registry_audit_entry *a = NULL;
    size_t n = 0;
    prep_err e = prep_registry_settings_get(r, &set, &d);
    if (!e) e = prep_registry_audit(r, id, &a, &n, &d);
    for (size_t i = 0; !e && i < n; i++) {
        char t[40];
        fmt_time(a[i].at, set.zone, t, sizeof t);
        printf("#%lld %s %s %s by %s", (long long)a[i].seq, t, *a[i].difusor ? a[i].difusor : "-", a[i].action,
               a[i].who);
        if (*a[i].from || *a[i].to) printf(" (%s -> %s)", *a[i].from ? a[i].from : "-", a[i].to);
        printf(": %s\n", a[i].why);
    }
    free(a);
    prep_registry_close(r);
    return finish(&d, e, "audit");
}

/* ---------------------------------------------------------------- dispatch */
static void usage(FILE *f)
{
    fprintf(f, "usage: prep difusor SUBCOMMAND [ID] [options]\n\n"
               "The institute's registry of official broadcasters (docs/registry.md).\n\n"
               "subcommands:\n"
               "  add                      register a broadcaster (Anexo 1 fields)\n"
               "  list                     list every broadcaster\n"
               "  show ID                  one broadcaster, its audit log and last deliveries\n"
               "  edit ID --FIELD VALUE    change fields (audited)\n"
               "  audit [ID]               the audit log (all, or one broadcaster's)\n"
               "  settings                 the call's dates (deadlines, roster date), zone, process\n"
               "  status ID --to STATUS    change the status\n"
               "  verify-infra|approve|activate ID   the same, one step\n"
               "  block ID | unblock ID    block (link answers 403, pushes stop) or lift a block\n"
               "  token ID --rotate        a new pull token\n"
               "  letter ID --out FILE     the Anexo 2 commitment letter, printable HTML\n"
               "  roster --out DIR --key F the signed public roster\n\n"
               "Every subcommand takes --db FILE (default ./difusores.db), --secrets FILE and --help.\n");
}

static int difusor_main(int argc, char **argv);

int cmd_difusor(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--man")) {
        cli_man_text(stdout, "difusor", NULL, usage, NULL, 0);
        return CLI_OK;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    /* global options before the subcommand ("prep difusor --db F list") go after it */
    char **args = prep_xcalloc((size_t)argc + 1, sizeof *args);
    int na = 0, lead = 1;
    char *front[4];
    int nf = 0;
    while (lead < argc && nf <= 2 &&
           (!strcmp(argv[lead], "--db") || !strcmp(argv[lead], "--secrets") || !strncmp(argv[lead], "--db=", 5) ||
            !strncmp(argv[lead], "--secrets=", 10))) {
        front[nf++] = argv[lead];
        if (!strchr(argv[lead], '=') && lead + 1 < argc) front[nf++] = argv[++lead];
        lead++;
    }
    if (lead >= argc) {
        free(args);
        usage(stderr);
        return CLI_USAGE;
    }
    args[na++] = argv[0];
    for (int i = lead; i < argc; i++) {
        args[na++] = argv[i];
        /* keep SUB [ID] first, then the leading globals */
        if (i == lead + (lead + 1 < argc && strncmp(argv[lead + 1], "-", 1) ? 1 : 0))
            for (int j = 0; j < nf; j++) args[na++] = front[j];
    }
    int rc = difusor_main(na, args);
    free(args);
    return rc;
}

static int difusor_main(int argc, char **argv)
{
    const char *sub = argv[1];
    const char *id = NULL;
    int rest = 2;
    if (argc > 2 && strncmp(argv[2], "-", 1)) {
        id = argv[2];
        rest = 3;
    }
    int n = argc - rest;
    char **a = argv + rest;
    int takes_id = !strcmp(sub, "show") || !strcmp(sub, "edit") || !strcmp(sub, "audit") || !strcmp(sub, "status") || !strcmp(sub, "verify-infra") ||
                   !strcmp(sub, "approve") || !strcmp(sub, "activate") || !strcmp(sub, "block") ||
                   !strcmp(sub, "unblock") || !strcmp(sub, "token") || !strcmp(sub, "letter");
    if (id && !takes_id) {
        fprintf(stderr, "prep difusor %s: unexpected argument '%s'\n", sub, id);
        return CLI_USAGE;
    }
    if (!strcmp(sub, "add")) return sub_add(n, a);
    if (!strcmp(sub, "list")) return sub_list(n, a);
    if (!strcmp(sub, "show")) return sub_show(id, n, a);
    if (!strcmp(sub, "edit")) return sub_edit(id, n, a);
    if (!strcmp(sub, "audit")) return sub_audit(id, n, a);
    if (!strcmp(sub, "settings")) return sub_settings(n, a);
    if (!strcmp(sub, "token")) return sub_token(id, n, a);
    if (!strcmp(sub, "letter")) return sub_letter(id, n, a);
    if (!strcmp(sub, "roster")) return sub_roster(n, a);
    if (strcmp(sub, "edit") && strcmp(sub, "audit") && takes_id) return sub_change(sub, id, n, a);
    fprintf(stderr, "prep difusor: unknown subcommand '%s'\n", sub);
    usage(stderr);
    return CLI_USAGE;
}

/* prep deliver: push a cut to broadcasters over SFTP or explicit FTPS (docs/delivery.md).
 * Option parsing, target lists and progress printing only; the work is in src/deliver/. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prep/deliver.h"
#include "prep/registry.h"

#define TARGETS_MAX 1000           /* targets in one run */
#define TARGETS_FILE_MAX (1u << 20) /* bytes of a --targets file */

static int status_of(prep_err e)
{
    if (e == PREP_OK) return CLI_OK;
    return e == PREP_ERR_IO || e == PREP_ERR_VERIFY ? CLI_CHECK_FAILED : CLI_USAGE;
}

static int copy_field(char *dst, size_t dsz, const char *v, const char *what, const char *where)
{
    if (strlen(v) >= dsz) {
        fprintf(stderr, "prep deliver: %s: %s is longer than %zu bytes\n", where, what, dsz - 1);
        return -1;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* Reads a password file: its first line, at most 255 bytes. */
static int read_password(const char *path, char *out, size_t outsz, const char *where)
{
    char *b = NULL;
    size_t n = 0;
    if (prep_read_file(path, 4096, &b, &n) != PREP_OK) {
        fprintf(stderr, "prep deliver: %s: cannot read the password file %s\n", where, path);
        return -1;
    }
    size_t l = strcspn(b, "\r\n");
    int r = 0;
    if (l < n && b[l] == '\0') { /* strcspn stopped at a NUL, not at the line's end */
        fprintf(stderr, "prep deliver: %s: the password file %s has a NUL byte in its first line\n", where, path);
        r = -1;
    } else if (l >= outsz) {
        fprintf(stderr, "prep deliver: %s: the password in %s is longer than %zu bytes\n", where, path, outsz - 1);
        r = -1;
    } else {
        memcpy(out, b, l);
        out[l] = 0;
    }
    memset(b, 0, n);
    free(b);
    return r;
}

static int set_method(prep_deliver_target *t, const char *where)
{
    if (!strncmp(t->url, "sftp://", 7))
        t->method = PREP_DELIVER_SFTP;
    else if (!strncmp(t->url, "ftp://", 6))
        t->method = PREP_DELIVER_FTPS;
    else {
        fprintf(stderr, "prep deliver: %s: the URL must be sftp://USER@HOST:PORT/path/ or ftp://HOST:PORT/path/\n",
                where);
        return -1;
    }
    return 0;
}

/* One "key=value" of a target line or an option. */
static int target_set(prep_deliver_target *t, const char *k, const char *v, const char *where)
{
    if (!strcmp(k, "id")) return copy_field(t->id, sizeof t->id, v, "id", where);
    if (!strcmp(k, "url")) return copy_field(t->url, sizeof t->url, v, "url", where) || set_method(t, where);
    if (!strcmp(k, "ssh-key")) return copy_field(t->ssh_key, sizeof t->ssh_key, v, "ssh-key", where);
    if (!strcmp(k, "host-sha256")) {
        if (!strncmp(v, "SHA256:", 7)) v += 7;
        return copy_field(t->ssh_host_sha256, sizeof t->ssh_host_sha256, v, "host-sha256", where);
    }
    if (!strcmp(k, "ca-file")) return copy_field(t->ca_file, sizeof t->ca_file, v, "ca-file", where);
    if (!strcmp(k, "user")) return copy_field(t->user, sizeof t->user, v, "user", where);
    if (!strcmp(k, "password-file")) return read_password(v, t->password, sizeof t->password, where);
    fprintf(stderr, "prep deliver: %s: unknown key '%.40s' (id url ssh-key host-sha256 ca-file user password-file)\n",
            where, k);
    return -1;
}

/* --targets FILE: one target a line, "key=value" words; '#' comments, blank lines. */
static int load_targets_file(const char *path, prep_deliver_target **v, size_t *n)
{
    char *b = NULL;
    size_t len = 0;
    prep_err e = prep_read_file(path, TARGETS_FILE_MAX, &b, &len);
    if (e) {
        fprintf(stderr, "prep deliver: cannot read %s: %s\n", path, prep_err_text(e));
        return -1;
    }
    const char *nul = memchr(b, 0, len);
    if (nul) { /* the lines after it would be lost without a word */
        long at = 1;
        for (const char *q = b; q < nul; q++) at += *q == '\n';
        fprintf(stderr, "prep deliver: %s:%ld: a NUL byte; a targets file is text\n", path, at);
        memset(b, 0, len);
        free(b);
        return -1;
    }
    int bad = 0;
    long lineno = 0;
    for (char *line = b, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        char *s = prep_trim(line);
        if (!*s || *s == '#') continue;
        char where[600];
        snprintf(where, sizeof where, "%s:%ld", path, lineno);
        if (*n >= TARGETS_MAX) {
            fprintf(stderr, "prep deliver: %s: more than %d targets\n", where, TARGETS_MAX);
            bad = 1;
            break;
        }
        *v = prep_xrealloc(*v, (*n + 1) * sizeof **v);
        prep_deliver_target *t = &(*v)[*n];
        memset(t, 0, sizeof *t);
        char *save = NULL;
        for (char *w = strtok_r(s, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            char *eq = strchr(w, '=');
            if (!eq) {
                fprintf(stderr, "prep deliver: %s: '%.40s' is not key=value\n", where, w);
                bad = 1;
                continue;
            }
            *eq = 0;
            if (target_set(t, w, eq + 1, where)) bad = 1;
        }
        if (!t->id[0] || !t->url[0]) {
            fprintf(stderr, "prep deliver: %s: a target needs id= and url=\n", where);
            bad = 1;
        }
        (*n)++;
    }
    memset(b, 0, len);
    free(b);
    return bad ? -1 : 0;
}

/* ---------------------------------------------------------------- progress */
typedef struct ui {
    int tty;
    int live; /* a status line is on the terminal */
} ui;

static void human(uint64_t b, char *out, size_t n)
{
    if (b >= 10u * 1024 * 1024)
        snprintf(out, n, "%.1f MiB", (double)b / (1024.0 * 1024.0));
    else if (b >= 10u * 1024)
        snprintf(out, n, "%.1f KiB", (double)b / 1024.0);
    else
        snprintf(out, n, "%llu B", (unsigned long long)b);
}

static void clear_live(ui *u)
{
    if (u->live) {
        fputs("\r\033[K", stderr);
        u->live = 0;
    }
}

static void on_progress(void *ctx, const prep_deliver_progress *p)
{
    ui *u = ctx;
    const prep_deliver_result *r = p->result;
    char hb[32];
    if (p->event == PREP_DELIVER_EV_END) {
        clear_live(u);
        if (r->status == PREP_DELIVER_UPTODATE)
            printf("%s: cut %llu already delivered\n", r->id, (unsigned long long)r->seq);
        else if (r->status == PREP_DELIVER_DONE) {
            human(r->bytes, hb, sizeof hb);
            char from[40] = "whole";
            if (r->from) snprintf(from, sizeof from, "from %llu", (unsigned long long)r->from);
            printf("%s: cut %llu delivered (%s, %zu cut%s): %zu files, %zu objects, %s in %.1f s%s%s\n", r->id,
                   (unsigned long long)r->seq, from, r->cuts, r->cuts == 1 ? "" : "s", r->files, r->objects, hb,
                   r->seconds, r->error[0] ? "; " : "", r->error);
        } else
            printf("%s: FAILED cut %llu after %u attempt%s: %s\n", r->id, (unsigned long long)r->seq, r->attempts,
                   r->attempts == 1 ? "" : "s", r->error);
        fflush(stdout);
    } else if (p->event == PREP_DELIVER_EV_RETRY) {
        clear_live(u);
        fprintf(stderr, "%s: attempt %u failed (%s); retrying in %.1f s\n", r->id, r->attempts, r->error,
                (double)p->retry_ms / 1000.0);
    } else if (p->event == PREP_DELIVER_EV_TICK && u->tty) {
        human(p->bytes, hb, sizeof hb);
        fprintf(stderr, "\r\033[Kdeliver: %zu/%zu targets done, %s sent", p->done, p->total, hb);
        u->live = 1;
    }
}

/* ---------------------------------------------------------------- the command */

int cmd_deliver(int argc, char **argv)
{
    cli_opt opts[] = {
        {"store", "DIR", "the institute's store (required)", NULL},
        {"cut", "SEQ", "the cut to deliver (default: the active cut)", NULL},
        {"to", "ID", "only this target (repeatable)", NULL},
        {"db", "FILE", "the broadcaster registry: every active broadcaster (records each delivery)", NULL},
        {"targets", "FILE", "targets, one a line: id=.. url=.. [ssh-key= host-sha256= | ca-file= user= password-file=]",
         NULL},
        {"target", "URL", "one target: sftp://USER@HOST:PORT/abs/path/ or ftp://HOST:PORT/path/", NULL},
        {"id", "ID", "with --target: its id (default: target)", NULL},
        {"ssh-key", "FILE", "with an sftp:// --target: the institute's private key", NULL},
        {"host-sha256", "H", "with an sftp:// --target: the pinned host key (ssh-keygen -lf K.pub -E sha256)", NULL},
        {"ca-file", "FILE", "with an ftp:// --target: the certificate to verify the server with", NULL},
        {"user", "U", "with an ftp:// --target: the FTP user (default anonymous)", NULL},
        {"password-file", "FILE", "with an ftp:// --target: a file whose first line is the password", NULL},
        {"parallel", "N", "targets transferring at once (default 8, 1..64)", NULL},
        {"ftps-streams", "N", "FTPS: connections per target sending objects at once (default 8, 1..32)", NULL},
        {"sftp-streams", "N", "SFTP: the same (default 1, 1..32)", NULL},
        {"retries", "N", "failed attempts retried per target (default 4)", NULL},
        {"backoff", "MS", "first retry's wait, doubled each time, with jitter (default 1000)", NULL},
        {"connect-timeout", "S", "seconds to connect (default 15)", NULL},
        {"slow-time", "S", "seconds a transfer may stay under 512 B/s (default 30)", NULL},
        {"state", "DIR", "per-target state and delivery records (default STORE/deliver)", NULL},
        {"full", NULL, "ignore the state: send the cut whole (a broadcaster with an empty store)", NULL},
        {"no-gzip", NULL, "send every file raw, never its .gz (a broadcaster whose prep predates compressed transfer)", NULL},
        {NULL, NULL, NULL, NULL},
    };
    /* --to may repeat: take those out before the common parser (which refuses repeats). */
    char **rest = prep_xcalloc((size_t)argc + 1, sizeof *rest);
    const char **to = prep_xcalloc((size_t)argc + 1, sizeof *to);
    int nrest = 0;
    size_t nto = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && !strcmp(argv[i], "--to") && i + 1 < argc)
            to[nto++] = argv[++i];
        else if (i > 0 && !strncmp(argv[i], "--to=", 5))
            to[nto++] = argv[i] + 5;
        else
            rest[nrest++] = argv[i];
    }
    int help;
    char err[256];
    int rc = CLI_USAGE;
    prep_deliver_target *tv = NULL;
    size_t nt = 0;
    prep_deliver_result *res = NULL;
    prep_registry *reg = NULL;
    prep_diags d;
    prep_diags_init(&d);
    if (cli_parse(nrest - 1, rest + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep deliver: %s (see 'prep deliver --help')\n", err);
        goto out;
    }
    if (help) {
        cli_usage(stdout, "deliver",
                  "--store DIR [--cut SEQ] [--to ID]... (--db FILE | --targets FILE | --target URL [--id ID]\n"
                  "       (--ssh-key F --host-sha256 H | [--ca-file F] [--user U] [--password-file F]))\n"
                  "       [--parallel N] [--ftps-streams N] [--sftp-streams N] [--retries N] [--backoff MS] [--state DIR] [--full] [--no-gzip]",
                  "Pushes a cut to broadcasters over SFTP (key login, pinned host key) or FTP with\n"
                  "explicit TLS (certificate verified): only the objects each one lacks, every file\n"
                  "to a temporary name then renamed, the manifests and then the signatures last.\n"
                  "A broadcaster behind gets the chain of cuts up to this one (latest wins: no run is\n"
                  "spent on intermediate cuts). One line per target when it ends; exit 0 all\n"
                  "delivered, 1 some target failed, 2 bad usage. docs/delivery.md.",
                  opts);
        rc = CLI_OK;
        goto out;
    }
    const char *store = cli_get(opts, "store");
    if (!store) {
        fprintf(stderr, "prep deliver: --store DIR is required (see 'prep deliver --help')\n");
        goto out;
    }
    prep_deliver_opts o;
    prep_deliver_opts_init(&o);
    int64_t v;
    int r;
    uint64_t seq = 0;
    if ((r = cli_int("deliver", "cut", cli_get(opts, "cut"), 1, (int64_t)PREP_CUT_SEQ_MAX, &v)) < 0) goto out;
    if (r) seq = (uint64_t)v;
    if ((r = cli_int("deliver", "parallel", cli_get(opts, "parallel"), 1, 64, &v)) < 0) goto out;
    if (r) o.parallel = (unsigned)v;
    if ((r = cli_int("deliver", "ftps-streams", cli_get(opts, "ftps-streams"), 1, PREP_DELIVER_STREAMS_MAX, &v)) < 0) goto out;
    if (r) o.ftps_streams = (unsigned)v;
    if ((r = cli_int("deliver", "sftp-streams", cli_get(opts, "sftp-streams"), 1, PREP_DELIVER_STREAMS_MAX, &v)) < 0) goto out;
    if (r) o.sftp_streams = (unsigned)v;
    if ((r = cli_int("deliver", "retries", cli_get(opts, "retries"), 0, 100, &v)) < 0) goto out;
    if (r) o.retries = (unsigned)v;
    if ((r = cli_int("deliver", "backoff", cli_get(opts, "backoff"), 0, 600000, &v)) < 0) goto out;
    if (r) o.backoff_ms = (uint64_t)v;
    if ((r = cli_int("deliver", "connect-timeout", cli_get(opts, "connect-timeout"), 1, 600, &v)) < 0) goto out;
    if (r) o.connect_timeout = (long)v;
    if ((r = cli_int("deliver", "slow-time", cli_get(opts, "slow-time"), 1, 3600, &v)) < 0) goto out;
    if (r) o.low_speed_time = (long)v;
    o.state_dir = cli_get(opts, "state");
    o.full = cli_get(opts, "full") != NULL;
    o.no_gzip = cli_get(opts, "no-gzip") != NULL;

    if (cli_get(opts, "db")) {
        prep_deliver_target *rv = NULL;
        size_t rn = 0;
        prep_err re = prep_registry_open(cli_get(opts, "db"), NULL, &reg, &d);
        if (!re) re = prep_registry_targets(reg, &rv, &rn, &d);
        if (re) {
            prep_diags_print(&d, stderr, 20);
            fprintf(stderr, "prep deliver: --db %s: %s\n", cli_get(opts, "db"), prep_err_text(re));
            goto out;
        }
        for (size_t i = 0; i < rn; i++) /* pull broadcasters fetch for themselves */
            if (rv[i].method != PREP_DELIVER_PULL) {
                tv = prep_xrealloc(tv, (nt + 1) * sizeof *tv);
                tv[nt++] = rv[i];
            }
        if (rv) memset(rv, 0, rn * sizeof *rv);
        free(rv);
    }
    if (cli_get(opts, "targets") && load_targets_file(cli_get(opts, "targets"), &tv, &nt)) goto out;
    if (cli_get(opts, "target")) {
        tv = prep_xrealloc(tv, (nt + 1) * sizeof *tv);
        prep_deliver_target *t = &tv[nt++];
        memset(t, 0, sizeof *t);
        static const char *const keys[] = {"url", "ssh-key", "host-sha256", "ca-file", "user", "password-file"};
        static const char *const names[] = {"target", "ssh-key", "host-sha256", "ca-file", "user", "password-file"};
        if (target_set(t, "id", cli_get(opts, "id") ? cli_get(opts, "id") : "target", "--id")) goto out;
        for (size_t k = 0; k < PREP_ARRAY_LEN(keys); k++)
            if (cli_get(opts, names[k]) && target_set(t, keys[k], cli_get(opts, names[k]), "--target")) goto out;
    } else if (cli_get(opts, "id") || cli_get(opts, "ssh-key") || cli_get(opts, "host-sha256") ||
               cli_get(opts, "ca-file") || cli_get(opts, "user") || cli_get(opts, "password-file")) {
        fprintf(stderr, "prep deliver: --id, --ssh-key, --host-sha256, --ca-file, --user and --password-file go "
                        "with --target URL\n");
        goto out;
    }
    if (nt == 0 && cli_get(opts, "db")) {
        printf("no active SFTP or FTPS broadcaster in %s: nothing to push\n", cli_get(opts, "db"));
        rc = CLI_OK;
        goto out;
    }
    if (nt == 0) {
        fprintf(stderr, "prep deliver: no target: give --db FILE (active SFTP/FTPS broadcasters), --targets FILE or "
                        "--target URL (see 'prep deliver --help')\n");
        goto out;
    }
    if (nto) { /* keep only the --to ones, in the file's order */
        size_t k = 0;
        for (size_t i = 0; i < nt; i++) {
            int keep = 0;
            for (size_t j = 0; j < nto; j++) keep |= !strcmp(tv[i].id, to[j]);
            if (keep) tv[k++] = tv[i];
        }
        for (size_t j = 0; j < nto; j++) {
            int found = 0;
            for (size_t i = 0; i < k; i++) found |= !strcmp(tv[i].id, to[j]);
            if (!found) {
                fprintf(stderr, "prep deliver: --to %s: no such target\n", to[j]);
                goto out;
            }
        }
        nt = k;
    }
    res = prep_xcalloc(nt, sizeof *res);
    ui u = {.tty = isatty(2)};
    o.progress = on_progress;
    o.progress_ctx = &u;
    prep_time started = prep_time_now();
    prep_err e = prep_deliver_push(store, seq, tv, nt, &o, res, &d);
    clear_live(&u);
    if (reg && (e == PREP_OK || e == PREP_ERR_IO))
        for (size_t i = 0; i < nt; i++) { /* the registry's record of each delivery */
            prep_registry_delivery rec;
            memset(&rec, 0, sizeof rec);
            snprintf(rec.difusor, sizeof rec.difusor, "%s", res[i].id);
            rec.seq = res[i].seq;
            rec.method = tv[i].method;
            rec.started = started;
            rec.finished = started + (prep_time)res[i].seconds;
            snprintf(rec.status, sizeof rec.status, "%s",
                     res[i].status == PREP_DELIVER_DONE       ? "ok"
                     : res[i].status == PREP_DELIVER_UPTODATE ? "up-to-date"
                                                              : "failed");
            rec.bytes = res[i].bytes;
            rec.objects = res[i].objects;
            snprintf(rec.error, sizeof rec.error, "%s", res[i].error);
            if (prep_registry_delivery_record(reg, &rec, &d))
                fprintf(stderr, "prep deliver: %s: the delivery record could not be written\n", res[i].id);
        }
    if (d.n) prep_diags_print(&d, stderr, 20);
    if (e == PREP_OK || e == PREP_ERR_IO) {
        size_t ok = 0;
        for (size_t i = 0; i < nt; i++) ok += res[i].status != PREP_DELIVER_FAILED;
        printf("%zu of %zu targets have cut %llu\n", ok, nt, (unsigned long long)(nt ? res[0].seq : 0));
    } else {
        fprintf(stderr, "prep deliver: %s\n", prep_err_text(e));
    }
    rc = status_of(e);
out:
    if (tv) {
        memset(tv, 0, nt * sizeof *tv); /* passwords */
        free(tv);
    }
    prep_registry_close(reg);
    free(res);
    free(rest);
    free(to);
    prep_diags_free(&d);
    return rc;
}

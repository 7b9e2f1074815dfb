/* prep keygen | cut | verify | export | receive: signed cuts (docs/formats/cut.md).
 * Option parsing and printing only; the work is in src/cut/. */
#include "cli.h"
#include "cutter.h"

#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "prep/cut.h"
#include "prep/render.h"

static int status_of(prep_err e)
{
    if (e == PREP_OK) return CLI_OK;
    return e == PREP_ERR_VERIFY ? CLI_CHECK_FAILED : CLI_USAGE;
}

/* Parses argv; returns -1 to continue, else the exit status. */
static int parse(int argc, char **argv, cli_opt *opts, const char *cmd, const char *synopsis, const char *summary)
{
    int help;
    char err[256];
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep %s: %s (see 'prep %s --help')\n", cmd, err, cmd);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, cmd, synopsis, summary, opts);
        return CLI_OK;
    }
    return -1;
}

static int need(const cli_opt *opts, const char *cmd, const char *name, const char *arg)
{
    if (cli_get(opts, name)) return 0;
    fprintf(stderr, "prep %s: --%s %s is required (see 'prep %s --help')\n", cmd, name, arg, cmd);
    return -1;
}

static int parse_seq(const char *s, uint64_t *out)
{
    int64_t v;
    if (!s) {
        *out = 0;
        return 0;
    }
    if (prep_parse_i64(s, &v) || v < 1 || (uint64_t)v > PREP_CUT_SEQ_MAX) return -1;
    *out = (uint64_t)v;
    return 0;
}

static int finish(prep_diags *d, prep_err e, const char *cmd)
{
    if (d->n) prep_diags_print(d, stderr, 20);
    if (e) fprintf(stderr, "prep %s: %s\n", cmd, prep_err_text(e));
    prep_diags_free(d);
    return status_of(e);
}

/* ---------------------------------------------------------------- keygen */
int cmd_keygen(int argc, char **argv)
{
    cli_opt opts[] = {
        {"out", "NAME", "write NAME.key (secret, mode 0600) and NAME.pub (required)", NULL},
        {"drill", NULL, "a key for drill cuts (live and drill cuts must use different keys)", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int r = parse(argc, argv, opts, "keygen", "--out NAME [--drill]",
                  "Makes an Ed25519 key pair in OpenBSD signify's format (unencrypted secret key;\n"
                  "keep NAME.key offline and publish NAME.pub). signify -S needs the secret key\n"
                  "named NAME.sec: copy it if you sign with signify itself.");
    if (r >= 0) return r;
    if (need(opts, "keygen", "out", "NAME")) return CLI_USAGE;
    prep_diags d;
    prep_diags_init(&d);
    const char *name = cli_get(opts, "out");
    prep_cut_mode mode = cli_get(opts, "drill") ? PREP_CUT_DRILL : PREP_CUT_LIVE;
    prep_err e = prep_cut_keygen(name, mode, &d);
    if (!e) {
        char *pp = prep_xmalloc(strlen(name) + 8);
        sprintf(pp, "%s.pub", name);
        prep_cut_pubkey pk;
        if (prep_cut_pubkey_load(pp, &pk, &d) == PREP_OK) {
            char kh[17];
            prep_cut_keynum_hex(pk.keynum, kh);
            printf("%s.key, %s.pub: %s key %s\n", name, name, prep_cut_mode_name(mode), kh);
        }
        free(pp);
    }
    return finish(&d, e, "keygen");
}

/* ---------------------------------------------------------------- cut */
/* prep cut --catalog: count, render and cut in one step. The pages show the sequence the
 * cut gets (active + 1); prep_cut_make refuses under the store's lock if another writer
 * took that sequence meanwhile ("sequence-moved"). */
static int cut_from_catalog(const cli_opt *opts)
{
    if (need(opts, "cut", "actas", "DIR") || need(opts, "cut", "at", "TIME") || need(opts, "cut", "key", "FILE") ||
        need(opts, "cut", "store", "DIR"))
        return CLI_USAGE;
    if (cli_get(opts, "from") || cli_get(opts, "process") || cli_get(opts, "tz") || cli_get(opts, "elections")) {
        fprintf(stderr, "prep cut: --from, --process, --tz and --elections go without --catalog (the catalogue names them)\n");
        return CLI_USAGE;
    }
    const char *store = cli_get(opts, "store"), *pub = cli_get(opts, "pubkey"), *vf = cli_get(opts, "valid-for");
    int64_t valid_for = 0;
    if (vf && (prep_parse_i64(vf, &valid_for) || valid_for < 1)) {
        fprintf(stderr, "prep cut: --valid-for must be a whole number of seconds >= 1\n");
        return CLI_USAGE;
    }
    const char *why = cli_get(opts, "override-reason");
    if (why && (!*why || strlen(why) > 500 || !prep_utf8_valid(why, strlen(why)))) {
        fprintf(stderr, "prep cut: --override-reason must be 1-500 bytes of UTF-8 text (it is published)\n");
        return CLI_USAGE;
    }
    cutter cu;
    int oc = cutter_open(&cu, "cut", cli_get(opts, "catalog"), cli_get(opts, "actas"), cli_get(opts, "key"), pub,
                         store, cli_get(opts, "drill") != NULL, why);
    if (oc) return oc == -2 ? CLI_CHECK_FAILED : CLI_USAGE;
    cu.valid_for = valid_for;
    const prep_catalog *c = cu.cat;
    prep_time at;
    if (prep_time_parse(cli_get(opts, "at"), c->timezone, &at)) {
        fprintf(stderr, "prep cut: --at '%s' is not a time (YYYY-MM-DD HH:MM[:SS])\n", cli_get(opts, "at"));
        cutter_close(&cu);
        return CLI_USAGE;
    }
    prep_diags d;
    prep_diags_init(&d);
    cutter_stats st;
    prep_err e = cutter_cut(&cu, at, PREP_TIME_NONE, &st, &d);
    if (cutter_integrity_refused(e, &d))
        fprintf(stderr, "prep cut: refusing to cut: counts would go below the active cut's, or actas it published "
                        "are no longer captured (below); nothing is signed and the active cut stays. Pass "
                        "--override-reason TEXT if this is intended (the reason is published in the cut)\n");
    if (!e) {
        char inst[64];
        prep_time_format(at, c->timezone, PREP_TS_HEADER, inst, sizeof inst);
        fprintf(stderr, "prep cut: %zu captures in the cut\n", st.captures);
        printf("cut %llu (%s, %s): %zu files (%zu pages), %llu bytes (%llu held in memory)%s\n",
               (unsigned long long)st.seq, prep_cut_mode_name(cu.drill ? PREP_CUT_DRILL : PREP_CUT_LIVE), inst,
               st.files, st.pages, (unsigned long long)st.bytes, (unsigned long long)st.held,
               st.final_cut ? ", final" : "");
    }
    cutter_close(&cu);
    if (cutter_integrity_refused(e, &d)) {
        finish(&d, PREP_OK, "cut");
        return CLI_CHECK_FAILED; /* an integrity refusal, like an unreadable row: exit 1 */
    }
    return finish(&d, e == PREP_ERR_VERIFY ? PREP_ERR_INVALID : e, "cut");
}

int cmd_cut(int argc, char **argv)
{
    cli_opt opts[] = {
        {"catalog", "FILE", "the process catalogue: the cut's pages are rendered from it and --actas", NULL},
        {"actas", "DIR", "with --catalog: the captures, one <election-id>.csv per election", NULL},
        {"pubkey", "FILE", "with --catalog: the public key shown on the 'Cómo verificar' page", NULL},
        {"from", "DIR", "instead of --catalog: publish every regular file under DIR", NULL},
        {"process", "ID", "with --from: the process id, e.g. qro2021", NULL},
        {"elections", "IDS", "the election set, ids separated by spaces, e.g. 'gub dip ayu'", NULL},
        {"at", "TIME", "the cut instant, e.g. '2021-06-06 23:05' in --tz (required)", NULL},
        {"tz", "ZONE", "the process's time zone (default America/Mexico_City)", NULL},
        {"key", "FILE", "the secret key (NAME.key from prep keygen) (required)", NULL},
        {"store", "DIR", "the store to add the cut to; made if missing (required)", NULL},
        {"drill", NULL, "a drill cut (needs a drill key and a drill store)", NULL},
        {"valid-for", "SECONDS", "how long after the instant the cut stays current (default 3600)", NULL},
        {"allow-shrink", NULL, "with --from: publish although DIR has fewer than half the active cut's files", NULL},
        {"allow-cut-short", NULL, "with --from: publish although files of DIR end short of a complete file of their kind "
                                  "(a copy cut off?)", NULL},
        {"override-reason", "TEXT", "with --catalog: publish although the captures fail an integrity check "
                                    "(unreadable rows, conflicting captures, counts below the active cut's); "
                                    "TEXT and what it let through are published in the signed cut", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int r = parse(argc, argv, opts, "cut",
                  "--catalog FILE --actas DIR --at TIME --key FILE --store DIR [--drill] [--valid-for SECONDS]\n"
                  "           [--override-reason TEXT]\n"
                  "       prep cut --from DIR --process ID --at TIME --key FILE --store DIR [--tz ZONE] [--elections IDS]\n"
                  "           [--allow-shrink] [--allow-cut-short]",
                  "Makes, signs and stores one cut (sequence = active + 1, chained to the active cut)\n"
                  "and activates it. With --catalog, the actas captured up to --at are counted and the\n"
                  "whole publication is rendered (pages, database, LEEME); with --from, the files of a\n"
                  "directory are published as they are. The format is in docs/formats/cut.md.");
    if (r >= 0) return r;
    if (cli_get(opts, "catalog")) return cut_from_catalog(opts);
    if (cli_get(opts, "override-reason")) {
        fprintf(stderr, "prep cut: --override-reason goes with --catalog (a --from cut publishes files as they are)\n");
        return CLI_USAGE;
    }
    if (need(opts, "cut", "from", "DIR") || need(opts, "cut", "process", "ID") || need(opts, "cut", "at", "TIME") ||
        need(opts, "cut", "key", "FILE") || need(opts, "cut", "store", "DIR"))
        return CLI_USAGE;
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = cli_get(opts, "process");
    p.elections = cli_get(opts, "elections");
    p.zone = cli_get(opts, "tz") ? cli_get(opts, "tz") : "America/Mexico_City";
    p.mode = cli_get(opts, "drill") ? PREP_CUT_DRILL : PREP_CUT_LIVE;
    p.allow_shrink = cli_get(opts, "allow-shrink") != NULL;
    p.allow_cut_short = cli_get(opts, "allow-cut-short") != NULL;
    if (prep_time_parse(cli_get(opts, "at"), p.zone, &p.instant) != 0) {
        fprintf(stderr, "prep cut: --at '%s' is not a time like '2021-06-06 23:05' (or the zone '%s' is unknown)\n",
                cli_get(opts, "at"), p.zone);
        return CLI_USAGE;
    }
    const char *vf = cli_get(opts, "valid-for");
    if (vf) {
        int64_t v;
        if (prep_parse_i64(vf, &v) || v < 1) {
            fprintf(stderr, "prep cut: --valid-for must be a whole number of seconds >= 1\n");
            return CLI_USAGE;
        }
        p.valid_for = v;
    }
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_seckey k;
    prep_err e = prep_cut_seckey_load(cli_get(opts, "key"), &k, &d);
    if (e) return finish(&d, e == PREP_ERR_VERIFY ? PREP_ERR_INVALID : e, "cut");
    /* a store damaged since its active cut (a byte flipped on disk): each damaged object is
     * moved aside, so that this cut, which then finds it missing, copies it again from the
     * directory (as the cutter does when it starts: src/cli/cutter.c, store_whole) */
    uint64_t aseq = 0;
    char first[PREP_CUT_PATH_MAX + 1];
    long bad = prep_cut_store_repair_active(cli_get(opts, "store"), &aseq, first, sizeof first);
    if (bad > 0)
        fprintf(stderr,
                "prep cut: the store lacks or held damaged %ld object(s) of the active cut %llu (the first of %s): "
                "this cut stores what the directory has of them again\n",
                bad, (unsigned long long)aseq, first);
    uint64_t seq = 0;
    e = prep_cut_make_dir(cli_get(opts, "store"), &p, cli_get(opts, "from"), &k, &seq, &d);
    prep_cut_seckey_wipe(&k);
    if (!e) {
        prep_cut_manifest m;
        if (prep_cut_load(cli_get(opts, "store"), seq, &m, &d) == PREP_OK) {
            char inst[64];
            prep_time_format(m.meta.instant, m.meta.zone, PREP_TS_ISO_OFF, inst, sizeof inst);
            printf("cut %llu (%s, %s): %zu files, %llu bytes, manifest %s\n", (unsigned long long)seq,
                   prep_cut_mode_name(m.meta.mode), inst, m.n, (unsigned long long)m.total_bytes, m.sha256);
            prep_cut_manifest_free(&m);
        }
    }
    /* A bad input (path, key mode, clock) is a usage/input error, not a failed check. */
    return finish(&d, e == PREP_ERR_VERIFY ? PREP_ERR_INVALID : e, "cut");
}

/* ---------------------------------------------------------------- policy options */
static int load_policy(const cli_opt *opts, const char *cmd, prep_cut_policy *pol, prep_cut_pubkey *pk,
                       prep_diags *d)
{
    prep_cut_policy_init(pol);
    pol->mode = cli_get(opts, "drill") ? PREP_CUT_DRILL : PREP_CUT_LIVE;
    const char *now = cli_get(opts, "now");
    if (now && prep_time_parse(now, "UTC", &pol->now) != 0) {
        fprintf(stderr, "prep %s: --now '%s' is not a time like '2021-06-06T23:05:00-05:00'\n", cmd, now);
        return -1;
    }
    const char *skew = cli_get(opts, "max-skew");
    if (skew) {
        int64_t v;
        if (prep_parse_i64(skew, &v) || v < 0) {
            fprintf(stderr, "prep %s: --max-skew must be a whole number of seconds >= 0\n", cmd);
            return -1;
        }
        pol->max_skew = v;
    }
    if (prep_cut_pubkey_load(cli_get(opts, "pubkey"), pk, d) != PREP_OK) {
        prep_diags_print(d, stderr, 5);
        fprintf(stderr, "prep %s: cannot read the public key\n", cmd);
        return -1;
    }
    pol->keys = pk;
    pol->n_keys = 1;
    return 0;
}

/* ---------------------------------------------------------------- verify */
int cmd_verify(int argc, char **argv)
{
    cli_opt opts[] = {
        {"store", "DIR", "the store to check (required)", NULL},
        {"cut", "SEQ", "check only cut SEQ (default: the whole chain up to the active cut)", NULL},
        {"pubkey", "FILE", "the institute's public key, NAME.pub (required)", NULL},
        {"drill", NULL, "the store holds drill cuts (default: live)", NULL},
        {"now", "TIME", "the clock for the staleness report (default: now)", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int r = parse(argc, argv, opts, "verify", "--store DIR [--cut SEQ] --pubkey FILE [--drill]",
                  "Checks a cut, or the whole chain: each signature (Ed25519, signify format),\n"
                  "each manifest, each file's size and SHA-256, and each link to the previous cut.\n"
                  "Exit 0 all good; 1 a check failed (the reason is printed); 2 bad usage.");
    if (r >= 0) return r;
    if (need(opts, "verify", "store", "DIR") || need(opts, "verify", "pubkey", "FILE")) return CLI_USAGE;
    uint64_t seq;
    if (parse_seq(cli_get(opts, "cut"), &seq)) {
        fprintf(stderr, "prep verify: --cut must be a sequence number >= 1\n");
        return CLI_USAGE;
    }
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_policy pol;
    prep_cut_pubkey pk;
    if (load_policy(opts, "verify", &pol, &pk, &d)) {
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    prep_cut_verify_result res;
    prep_err e = prep_cut_verify(cli_get(opts, "store"), seq, &pol, &res, &d);
    if (!e) {
        if (res.first == res.last)
            printf("cut %llu verified: %zu objects, %llu bytes hashed%s\n", (unsigned long long)res.last, res.objects,
                   (unsigned long long)res.bytes, res.stale ? "; past its validity horizon (desactualizado)" : "");
        else
            printf("cuts %llu..%llu verified (%zu cuts, chain intact): %zu objects, %llu bytes hashed%s\n",
                   (unsigned long long)res.first, (unsigned long long)res.last, res.cuts, res.objects,
                   (unsigned long long)res.bytes,
                   res.stale ? "; the last cut is past its validity horizon (desactualizado)" : "");
    } else if (e == PREP_ERR_VERIFY) {
        prep_diags_print(&d, stderr, 20);
        prep_diags_free(&d);
        fprintf(stderr, "prep verify: FAILED\n");
        return CLI_CHECK_FAILED;
    }
    return finish(&d, e, "verify");
}

/* ---------------------------------------------------------------- export */
/* --link and --keep N into o; -1 (message printed) on a bad value. */
static int link_opts(const cli_opt *opts, const char *cmd, prep_cut_export_opts *o)
{
    o->link = cli_get(opts, "link") != NULL;
    const char *af = cli_get(opts, "archive-full");
    if (af) {
        int64_t n;
        if (prep_parse_i64(af, &n) || n < 0 || n > (int64_t)PREP_CUT_EXPORT_ARCHIVE_FULL_MAX) {
            fprintf(stderr, "prep %s: --archive-full takes a number of cuts from 0 (all) to %u\n", cmd,
                    PREP_CUT_EXPORT_ARCHIVE_FULL_MAX);
            return -1;
        }
        o->archive_full = (unsigned)n;
    }
    const char *k = cli_get(opts, "keep");
    if (!k) return 0;
    int64_t v;
    if (!o->link || prep_parse_i64(k, &v) || v < 0 || v > (int64_t)PREP_CUT_EXPORT_KEEP_MAX) {
        fprintf(stderr, "prep %s: --keep takes a number of trees from 0 to %u, with --link\n", cmd,
                PREP_CUT_EXPORT_KEEP_MAX);
        return -1;
    }
    o->keep = (unsigned)v;
    return 0;
}

int cmd_export(int argc, char **argv)
{
    cli_opt opts[] = {
        {"store", "DIR", "the store (required)", NULL},
        {"cut", "SEQ", "the cut to export (default: the active cut)", NULL},
        {"out", "DIR", "the directory to write or replace atomically (required)", NULL},
        {"no-twins", NULL, "do not write .gz and .br twins", NULL},
        {"no-archive", NULL, "do not write DIR.cortes/<seq>/ nor the DIR/cortes link", NULL},
        {"copy", NULL, "copy files instead of hard-linking them from the store", NULL},
        {"link", NULL, "make DIR a symbolic link to DIR.sitios/<seq>/, switched atomically (docs/apache.md)", NULL},
        {"keep", "N", "with --link: previous cut trees kept for in-flight downloads (default 3)", NULL},
        {"archive-full", "N", "archived cuts kept whole in DIR.cortes/ (default 8); older ones keep only SHA256SUMS(.sig), and unused files are removed; 0 = all", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int r = parse(argc, argv, opts, "export",
                  "--store DIR [--cut SEQ] --out DIR [--link [--keep N]] [--archive-full N] [--no-twins] [--no-archive] [--copy]",
                  "Writes a cut as a plain directory for Apache or nginx: every file, .gz and .br\n"
                  "twins, SHA256SUMS (the signed manifest) and SHA256SUMS.sig; every cut under\n"
                  "DIR.cortes/<seq>/, reachable as DIR/cortes/<seq>/. Check it with\n"
                  "'cd DIR && sha256sum -c --strict SHA256SUMS' (docs/formats/cut.md).\n"
                  "With --link, each cut is a tree DIR.sitios/<seq>/ and DIR a symbolic link to the\n"
                  "current one (and DIR.sitios/corte.map names it for 'prep apache').");
    if (r >= 0) return r;
    if (need(opts, "export", "store", "DIR") || need(opts, "export", "out", "DIR")) return CLI_USAGE;
    prep_cut_export_opts o;
    prep_cut_export_opts_init(&o);
    if (parse_seq(cli_get(opts, "cut"), &o.seq)) {
        fprintf(stderr, "prep export: --cut must be a sequence number >= 1\n");
        return CLI_USAGE;
    }
    o.twins = !cli_get(opts, "no-twins");
    o.archive = !cli_get(opts, "no-archive");
    o.copy = cli_get(opts, "copy") != NULL;
    if (link_opts(opts, "export", &o)) return CLI_USAGE;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_export(cli_get(opts, "store"), cli_get(opts, "out"), &o, &d);
    if (!e) printf("exported to %s\n", cli_get(opts, "out"));
    return finish(&d, e, "export");
}

/* ---------------------------------------------------------------- receive */
static void report_receive(prep_err e, const prep_cut_result *res)
{
    if (e) return;
    if (res->accepted)
        printf("active cut %llu (was %llu): %zu cuts accepted, %zu objects (%llu bytes) copied\n",
               (unsigned long long)res->active_after, (unsigned long long)res->active_before, res->accepted,
               res->objects_copied, (unsigned long long)res->bytes_copied);
    else
        printf("active cut %llu unchanged\n", (unsigned long long)res->active_after);
    fflush(stdout);
}

/* --store-keep N of prep receive: 0 = the store keeps every cut's objects. */
static unsigned g_store_keep;

/* The store's retention after a round (prep_cut_store_gc): after the export, so the
 * export's archive had the objects of the cuts it skipped. */
static prep_err receive_gc(const char *store, prep_diags *d)
{
    if (!g_store_keep) return PREP_OK;
    prep_cut_gc_result r;
    prep_err e = prep_cut_store_gc(store, g_store_keep, &r, d);
    if (!e && (r.cuts_pruned || r.objects_removed))
        printf("store: %zu cuts pruned to their manifest, %zu objects removed (%llu bytes)\n", r.cuts_pruned,
               r.objects_removed, (unsigned long long)r.bytes_removed);
    return e;
}

static prep_err receive_export(const char *store, const char *dir, const prep_cut_export_opts *xo, prep_diags *d)
{
    prep_cut_export_opts o = *xo;
    o.seq = 0; /* the active cut */
    prep_err e = prep_cut_export(store, dir, &o, d);
    if (!e) printf("exported to %s%s\n", dir, o.link ? " (link switched)" : "");
    if (!e) e = receive_gc(store, d);
    fflush(stdout);
    return e;
}

/* ---------------------------------------------------------------- receive --watch
 * A cut is complete when INCOMING/cuts/<seq>/manifest.sig exists (pushers upload it
 * last). Each round stages the complete cuts and only the objects they reference (hard
 * links) in STORE.entrante/, so files of a cut still being uploaded never make the batch
 * refuse ("extra-file"), receives from there, then removes what was consumed from
 * INCOMING and exports. A batch refused as it stands is not retried until its signature
 * files change. */
#define WATCH_MANIFEST_MAX ((size_t)1 << 30)
#define WATCH_POLL_MIN 10
#define WATCH_POLL_MAX 3600000

static volatile sig_atomic_t g_watch_stop;
static void watch_on_signal(int sig)
{
    (void)sig;
    g_watch_stop = 1;
}

static char *path_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *path_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = malloc((size_t)n + 1);
    if (!p) abort();
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* Hard link, else copy (another file system). */
static int stage_file(const char *from, const char *to)
{
    if (link(from, to) == 0) return 0;
    char *data = NULL;
    size_t len = 0;
    if (prep_read_file(from, WATCH_MANIFEST_MAX, &data, &len) != PREP_OK) return -1;
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int r = -1;
    if (fd < 0) prep_io_fail("create", to, errno);
    else r = prep_write_all(fd, data, len, to) == PREP_OK ? 0 : -1;
    if (fd >= 0 && close(fd) != 0 && !r) {
        prep_io_fail("close", to, errno);
        r = -1;
    }
    free(data);
    return r;
}

typedef struct watch_cut {
    uint64_t seq;
    int patch;           /* 0 manifest, 1 manifest.patch, 2 manifest.patch.gz */
    struct timespec sig_mtime;
    off_t sig_size;
} watch_cut;

static int cmp_watch_cut(const void *a, const void *b)
{
    const watch_cut *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The complete cuts in from/cuts, ascending; *n of them (owned array). */
static watch_cut *watch_scan(const char *from, size_t *n)
{
    *n = 0;
    char *cuts = path_fmt("%s/cuts", from);
    DIR *dp = opendir(cuts);
    watch_cut *v = NULL;
    size_t seen = 0;
    struct dirent *de;
    while (dp && (de = readdir(dp)) && seen++ < PREP_CUT_INCOMING_MAX) {
        uint64_t seq;
        if (de->d_name[0] == '0' || parse_seq(de->d_name, &seq) || !seq) continue;
        struct stat st, mst;
        char *sig = path_fmt("%s/%s/manifest.sig", cuts, de->d_name);
        char *man = path_fmt("%s/%s/manifest", cuts, de->d_name);
        char *pat = path_fmt("%s/%s/manifest.patch", cuts, de->d_name);
        char *paz = path_fmt("%s/%s/manifest.patch.gz", cuts, de->d_name);
        int have = lstat(sig, &st) == 0 && S_ISREG(st.st_mode);
        int patch = !have || lstat(man, &mst) == 0 ? 0 : lstat(pat, &mst) == 0 ? 1 : lstat(paz, &mst) == 0 ? 2 : 0;
        if (have) {
            v = realloc(v, (*n + 1) * sizeof *v);
            if (!v) abort();
            v[(*n)++] = (watch_cut){seq, patch, st.st_mtim, st.st_size};
        }
        free(sig);
        free(man);
        free(pat);
        free(paz);
    }
    if (dp) closedir(dp);
    free(cuts);
    if (*n) qsort(v, *n, sizeof *v, cmp_watch_cut);
    return v;
}

/* Stages cut c (its manifest files and the objects it references that from holds) into
 * stage; base: the previous cut's manifest (borrowed, may be empty), replaced by this
 * one's. Returns the objects staged as "aa/bbbb..." names appended to *objs. */
static void watch_stage_cut(const char *store, const char *from, const char *stage, const watch_cut *c,
                            prep_cut_manifest *base, char ***objs, size_t *nobjs)
{
    char *src = path_fmt("%s/cuts/%llu", from, (unsigned long long)c->seq);
    char *dst = path_fmt("%s/cuts/%llu", stage, (unsigned long long)c->seq);
    mkdir(dst, 0755);
    const char *mname = c->patch == 2 ? "manifest.patch.gz" : c->patch ? "manifest.patch" : "manifest";
    char *ms = path_fmt("%s/%s", src, mname), *md = path_fmt("%s/%s", dst, mname);
    char *ss = path_fmt("%s/manifest.sig", src), *sd = path_fmt("%s/manifest.sig", dst);
    stage_file(ms, md);
    stage_file(ss, sd);
    char *data = NULL;
    size_t len = 0;
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_manifest m = {0};
    int parsed = 0;
    if (prep_read_file(ms, WATCH_MANIFEST_MAX, &data, &len) == PREP_OK) {
        if (c->patch == 2) { /* gzip'd: inflated (bounded) only to learn its objects */
            char *raw = NULL;
            size_t rl = 0;
            if (prep_cut_gunzip(data, len, WATCH_MANIFEST_MAX, &raw, &rl, ms, &d) != PREP_OK) rl = 0;
            free(data);
            data = raw;
            len = rl;
        }
        if (!data) {
            /* not inflatable: staged as it is; the receiver says why it refuses it */
        } else if (!c->patch) {
            parsed = prep_cut_manifest_parse(data, len, NULL, ms, &m, &d) == PREP_OK;
        } else if (base->n || base->raw) {
            const char *roots[2] = {store, from};
            prep_buf out;
            prep_buf_init(&out, 0);
            if (prep_cut_manifest_patch_objects(base, data, len, NULL, roots, 2, ms, &out, &d) == PREP_OK)
                parsed = prep_cut_manifest_parse(out.data, out.len, NULL, ms, &m, &d) == PREP_OK;
            prep_buf_free(&out);
        }
    }
    /* Unparsable: staged without objects; the receiver says why it refuses it. Each object
     * as it came: raw, gzip'd (aa/bbbb.gz), or both (the receiver takes the raw one). */
    for (size_t i = 0; parsed && i < m.n; i++) {
        const prep_cut_entry *en = &m.entries[i];
        size_t k = en->n_parts ? en->n_parts : 1;
        for (size_t j = 0; j < 2 * k; j++) {
            const char *h = en->n_parts ? en->parts[j / 2].sha256 : en->sha256;
            const char *ext = j % 2 ? ".gz" : "";
            char *o = path_fmt("%s/objects/%.2s/%s%s", from, h, h + 2, ext);
            char *od = path_fmt("%s/objects/%.2s", stage, h);
            char *ot = path_fmt("%s/%s%s", od, h + 2, ext);
            struct stat st;
            if (lstat(o, &st) == 0 && S_ISREG(st.st_mode) && lstat(ot, &st) != 0) {
                mkdir(od, 0755);
                if (stage_file(o, ot) == 0) {
                    *objs = realloc(*objs, (*nobjs + 1) * sizeof **objs);
                    if (!*objs) abort();
                    (*objs)[(*nobjs)++] = path_fmt("%.2s/%s%s", h, h + 2, ext);
                }
            }
            free(o);
            free(od);
            free(ot);
        }
    }
    prep_cut_manifest_free(base);
    if (parsed) *base = m;
    else prep_cut_manifest_free(&m);
    prep_diags_free(&d);
    free(data);
    free(src);
    free(dst);
    free(ms);
    free(md);
    free(ss);
    free(sd);
}

static void watch_sleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    if (!g_watch_stop) nanosleep(&ts, NULL); /* a signal ends it early */
}

static int receive_watch(const cli_opt *opts, const prep_cut_policy *pol_in, const prep_cut_export_opts *xo)
{
    const char *store = cli_get(opts, "store"), *from = cli_get(opts, "from");
    long poll = 1000;
    if (cli_get(opts, "poll-ms")) {
        int64_t v;
        if (prep_parse_i64(cli_get(opts, "poll-ms"), &v) || v < WATCH_POLL_MIN || v > WATCH_POLL_MAX) {
            fprintf(stderr, "prep receive: --poll-ms takes %d to %d milliseconds\n", WATCH_POLL_MIN, WATCH_POLL_MAX);
            return CLI_USAGE;
        }
        poll = (long)v;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = watch_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char *stage = path_fmt("%s.entrante", store);
    char *last_failed = NULL;
    int status = CLI_OK;
    printf("watching %s every %ld ms\n", from, poll);
    fflush(stdout);
    while (!g_watch_stop) {
        size_t n;
        watch_cut *cuts = watch_scan(from, &n);
        /* The batch's fingerprint: its signatures' sequence, size and mtime. */
        prep_buf fp;
        prep_buf_init(&fp, 0);
        for (size_t i = 0; i < n; i++) {
            char t[96];
            snprintf(t, sizeof t, "%llu:%lld:%lld.%09ld;", (unsigned long long)cuts[i].seq,
                     (long long)cuts[i].sig_size, (long long)cuts[i].sig_mtime.tv_sec, cuts[i].sig_mtime.tv_nsec);
            prep_buf_puts(&fp, t);
        }
        if (!n || (last_failed && fp.len == strlen(last_failed) && !memcmp(fp.data, last_failed, fp.len))) {
            free(cuts);
            prep_buf_free(&fp);
            watch_sleep(poll);
            continue;
        }
        prep_rm_tree(stage);
        char *sc = path_fmt("%s/cuts", stage), *so = path_fmt("%s/objects", stage);
        int made = mkdir(stage, 0755) == 0 && mkdir(sc, 0755) == 0 && mkdir(so, 0755) == 0;
        prep_diags d;
        prep_diags_init(&d);
        prep_cut_manifest base = {0};
        char **objs = NULL;
        size_t nobjs = 0;
        prep_err e = PREP_ERR_IO;
        prep_cut_result res = {0};
        if (!made) {
            fprintf(stderr, "prep receive: cannot create %s\n", stage);
        } else {
            /* A patch applies to the cut before it; without that cut the staged manifest is
             * incomplete and prep_cut_receive refuses it with its own diag. */
            if (cuts[0].patch && prep_cut_load(store, cuts[0].seq - 1, &base, &d) != PREP_OK) {
                fprintf(stderr, "prep receive: the patch of cut %llu needs cut %llu, which cannot be read:\n",
                        (unsigned long long)cuts[0].seq, (unsigned long long)(cuts[0].seq - 1));
                prep_diags_print(&d, stderr, 5);
            }
            prep_diags_free(&d);
            prep_diags_init(&d);
            for (size_t i = 0; i < n; i++) watch_stage_cut(store, from, stage, &cuts[i], &base, &objs, &nobjs);
            e = prep_cut_receive(store, stage, pol_in, &res, &d);
            report_receive(e, &res);
            if (d.n) prep_diags_print(&d, stderr, 20);
            /* Consumed: every staged cut now at or below the active one. */
            int all = 1;
            for (size_t i = 0; i < n; i++) {
                if (cuts[i].seq > res.active_after) {
                    all = 0;
                    continue;
                }
                char *cd = path_fmt("%s/cuts/%llu", from, (unsigned long long)cuts[i].seq);
                prep_rm_tree(cd);
                free(cd);
            }
            if (all || res.accepted)
                for (size_t i = 0; i < nobjs; i++) {
                    char *o = path_fmt("%s/objects/%s", from, objs[i]);
                    unlink(o); /* the store holds it now (or it was refused with its cut) */
                    free(o);
                }
            if (xo && res.accepted) {
                prep_diags xd;
                prep_diags_init(&xd);
                if (receive_export(store, cli_get(opts, "export"), xo, &xd) != PREP_OK) {
                    prep_diags_print(&xd, stderr, 20);
                    status = CLI_CHECK_FAILED;
                }
                prep_diags_free(&xd);
            }
        }
        free(last_failed);
        last_failed = NULL;
        if (e) {
            last_failed = prep_xstrndup(fp.data ? (const char *)fp.data : "", fp.len);
            fprintf(stderr, "prep receive: %s; waiting for new files\n", prep_err_text(e));
        }
        for (size_t i = 0; i < nobjs; i++) free(objs[i]);
        free(objs);
        prep_cut_manifest_free(&base);
        prep_diags_free(&d);
        prep_rm_tree(stage);
        free(sc);
        free(so);
        free(cuts);
        prep_buf_free(&fp);
    }
    printf("stopped\n");
    free(last_failed);
    free(stage);
    return status;
}

/* ---------------------------------------------------------------- receive --pull */
static int receive_pull(const cli_opt *opts, const prep_cut_policy *pol, const char *xdir,
                        const prep_cut_export_opts *xo)
{
    int64_t every = 2000;
    if (cli_int("receive", "poll-ms", cli_get(opts, "poll-ms"), 100, 3600000, &every) < 0) return CLI_USAGE;
    /* one puller per store (prep serve --pull takes the same lock) */
    int slock = cli_store_lock("receive --pull", cli_get(opts, "store"), "pull");
    if (slock < 0) return CLI_USAGE;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = watch_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    cli_pull p = {.cmd = "receive", .url = cli_get(opts, "pull"), .ca_file = cli_get(opts, "pull-ca"),
                  .store = cli_get(opts, "store"), .policy = pol, .every_ms = (long)every, .export_dir = xdir,
                  .export_opts = xo, .export_pending = xdir != NULL, .store_keep = g_store_keep};
    if (g_store_keep)
        printf("prep receive: pulling from the institute's link every %lld ms; the store keeps the objects of the %u "
               "newest cuts\n", (long long)every, g_store_keep);
    else
        printf("prep receive: pulling from the institute's link every %lld ms\n", (long long)every);
    fflush(stdout);
    cli_pull_loop(&p, &g_watch_stop);
    close(slock);
    return CLI_OK;
}

int cmd_receive(int argc, char **argv)
{
    cli_opt opts[] = {
        {"store", "DIR", "the broadcaster's store (made if missing) (required)", NULL},
        {"from", "DIR", "the incoming cut(s): cuts/<seq>/manifest{,.sig} and objects/ (required)", NULL},
        {"pubkey", "FILE", "the institute's public key (required)", NULL},
        {"drill", NULL, "this store takes drill cuts (default: live)", NULL},
        {"now", "TIME", "the clock (default: now)", NULL},
        {"max-skew", "SECONDS", "how far a cut instant may be ahead of the clock (default 300)", NULL},
        {"export", "DIR", "after an activation, export the active cut to DIR (as 'prep export --out DIR')", NULL},
        {"link", NULL, "with --export: DIR is a symbolic link switched per cut (docs/apache.md)", NULL},
        {"keep", "N", "with --link: previous cut trees kept for in-flight downloads (default 3)", NULL},
        {"archive-full", "N", "archived cuts kept whole in DIR.cortes/ (default 8); older ones keep only SHA256SUMS(.sig), and unused files are removed; 0 = all", NULL},
        {"store-keep", "N", "after each round that took a cut (--from, --watch or --pull): the store keeps the objects of the N newest cuts only; older cuts keep their manifest and signature (default: all)", NULL},
        {"watch", NULL, "keep running: poll --from for complete cuts, receive, clear them, export (until SIGINT/SIGTERM)", NULL},
        {"poll-ms", "MS", "with --watch: how often to look (default 1000)", NULL},
        {"pull", "URL", "instead of --from: take each new cut from the institute's pull link, until SIGINT/SIGTERM", NULL},
        {"pull-ca", "FILE", "with --pull: the CA or certificate of the institute's link (default: system CAs)", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int r = parse(argc, argv, opts, "receive",
                  "--store DIR --from DIR --pubkey FILE [--drill] [--now TIME] [--export DIR [--link [--keep N]] [--archive-full N]] [--store-keep N]\n"
                  "       [--watch [--poll-ms MS]]\n"
                  "       prep receive --store DIR --pull URL [--pull-ca FILE] --pubkey FILE [--drill] [--export DIR ...]\n"
                  "       [--store-keep N] [--poll-ms MS]",
                  "Verifies incoming cuts (signature, every object's size and hash, the chain,\n"
                  "a newer sequence, the clock) and only then switches the active cut atomically.\n"
                  "A refused cut is logged with its reason (stderr and DIR/log); the active cut stays.\n"
                  "--export DIR then writes the active cut there. --watch repeats: a cut is complete\n"
                  "when INCOMING/cuts/<seq>/manifest.sig exists (pushers upload it last); complete\n"
                  "cuts and their objects are received, then removed from INCOMING. --pull URL takes\n"
                  "the cuts from the institute's pull link instead (polled every --poll-ms, default\n"
                  "2000), with the same checks, until SIGINT/SIGTERM.");
    if (r >= 0) return r;
    const char *pull = cli_get(opts, "pull");
    if (pull && (cli_get(opts, "from") || cli_get(opts, "watch"))) {
        fprintf(stderr, "prep receive: --pull replaces --from and --watch (it always keeps running)\n");
        return CLI_USAGE;
    }
    if (!pull && cli_get(opts, "pull-ca")) {
        fprintf(stderr, "prep receive: --pull-ca goes with --pull URL\n");
        return CLI_USAGE;
    }
    if (need(opts, "receive", "store", "DIR") || (!pull && need(opts, "receive", "from", "DIR")) ||
        need(opts, "receive", "pubkey", "FILE"))
        return CLI_USAGE;
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_policy pol;
    prep_cut_pubkey pk;
    if (load_policy(opts, "receive", &pol, &pk, &d)) {
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    prep_cut_export_opts xo;
    prep_cut_export_opts_init(&xo);
    if (link_opts(opts, "receive", &xo)) {
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    const char *sk = cli_get(opts, "store-keep");
    if (sk) {
        int64_t v;
        if (prep_parse_i64(sk, &v) || v < 1 || v > (int64_t)PREP_CUT_INCOMING_MAX) {
            fprintf(stderr, "prep receive: --store-keep takes a number of cuts from 1 to %d\n", PREP_CUT_INCOMING_MAX);
            prep_diags_free(&d);
            return CLI_USAGE;
        }
        g_store_keep = (unsigned)v;
    }
    const char *xdir = cli_get(opts, "export");
    if ((xo.link || cli_get(opts, "keep") || cli_get(opts, "archive-full")) && !xdir) {
        fprintf(stderr, "prep receive: --link, --keep and --archive-full go with --export DIR\n");
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    if (cli_get(opts, "watch")) {
        prep_diags_free(&d);
        return receive_watch(opts, &pol, xdir ? &xo : NULL);
    }
    if (pull) {
        prep_diags_free(&d);
        return receive_pull(opts, &pol, xdir, &xo);
    }
    if (cli_get(opts, "poll-ms")) {
        fprintf(stderr, "prep receive: --poll-ms goes with --watch\n");
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    prep_cut_result res;
    prep_err e = prep_cut_receive(cli_get(opts, "store"), cli_get(opts, "from"), &pol, &res, &d);
    report_receive(e, &res);
    /* Export whatever is active now: also after a batch refused part-way (its good cuts
     * stay active), so the served tree is never behind the store. */
    if (xdir && (!e || res.accepted)) {
        prep_err xe = receive_export(cli_get(opts, "store"), xdir, &xo, &d);
        if (!e) e = xe;
    } else if (!xdir && !e) {
        e = receive_gc(cli_get(opts, "store"), &d);
    }
    return finish(&d, e, "receive");
}

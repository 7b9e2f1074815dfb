/* prep serve: the broadcaster's HTTPS server for a cut store (docs/internals/serve.md).
 * Option parsing and printing only; the work is in src/serve/. */
#include "cli.h"

#include <unistd.h>
#include <pthread.h>

#include <stdlib.h>
#include <string.h>

#include "prep/catalog.h"
#include "prep/serve.h"

static int seconds_ms(const char *cmd, const char *name, const char *s, int *out)
{
    int64_t v;
    if (!s) return 0;
    if (prep_parse_i64(s, &v) || v < 1 || v > 86400) {
        fprintf(stderr, "prep %s: --%s must be a whole number of seconds in 1..86400\n", cmd, name);
        return -1;
    }
    *out = (int)(v * 1000);
    return 0;
}

static int int_opt(const char *cmd, const char *name, const char *s, int64_t lo, int64_t hi, int *out)
{
    int64_t v;
    int r = cli_int(cmd, name, s, lo, hi, &v);
    if (r > 0) *out = (int)v;
    return r < 0 ? -1 : 0;
}

/* --pull: the pull loop on its own thread beside the server; the server's watcher picks
 * up each cut the loop activates in the store. */
typedef struct serve_pull {
    cli_pull p;
    pthread_t th;
    volatile sig_atomic_t stop;
} serve_pull;

static void *serve_pull_main(void *arg)
{
    serve_pull *sp = arg;
    cli_pull_loop(&sp->p, &sp->stop);
    return NULL;
}

int cmd_serve(int argc, char **argv)
{
    cli_opt opts[] = {
        {"store", "DIR", "the cut store to serve (required); a newly activated cut is picked up while serving", NULL},
        {"listen", "ADDR:PORT",
         "plain HTTP listener (default 127.0.0.1:8080 without TLS); with TLS it redirects to https. A numeric "
         "address: 127.0.0.1:8080, 0.0.0.0:80, [::1]:8080 (IPv6 in brackets); port 0 takes any free port",
         NULL},
        {"tls-listen", "ADDR:PORT", "HTTPS listener (HTTP/2 and HTTP/1.1 by ALPN; TLS 1.2 and 1.3 only)", NULL},
        {"tls-cert", "FILE", "PEM certificate chain for --tls-listen", NULL},
        {"tls-key", "FILE", "PEM private key for --tls-listen", NULL},
        {"threads", "N", "event loops, one per core (default: online cores)", NULL},
        {"user", "NAME", "drop privileges to NAME after binding (required as root unless every listener is loopback)",
         NULL},
        {"access-log", "FILE", "append one line per request in combined log format", NULL},
        {"frame-ancestors", "ORIGINS", "space-separated origins allowed to embed the pages (CSP frame-ancestors)", NULL},
        {"catalog", "FILE", "take the publication window and time zone from this catalogue", NULL},
        {"max-conns-per-ip", "N", "connections one client address (an IPv6 client: its /64) may hold open (default 64; behind a proxy, its "
         "address is the only client: docs/scale-out.md)",
         NULL},
        {"max-conns", "N",
         "connections open at once, whole server (default 10000); at it the oldest incomplete (else idle) one makes room",
         NULL},
        {"answer-memory", "MB",
         "mebibytes all open answers may own at once (archive bodies, pages copied for a client without gzip), "
         "whole server (default 256); an answer past it gets 503 with retry-after",
         NULL},
        {"idle-timeout", "S", "close a keep-alive connection idle this long (default 30)", NULL},
        {"header-timeout", "S", "a request head or TLS handshake must complete within S from its first byte (default 10)",
         NULL},
        {"pid-file", "FILE", "write the process id here after binding (removed at exit)", NULL},
        {"poll-ms", "N", "check the store for a new active cut every N ms (default 250)", NULL},
        {"archive-cache", "MB",
         "keep archived files (/cortes/N/...) once read, up to MB mebibytes for the process (default 64; 0 = read "
         "each answer from the store)",
         NULL},
        {"pull", "URL", "fetch each new cut from the institute's pull link (https://.../pull/TOKEN/) into --store", NULL},
        {"pull-ca", "FILE", "with --pull: the CA or certificate that signs the institute's link (default: system CAs)",
         NULL},
        {"pubkey", "FILE", "with --pull: the institute's public key; every pulled cut is verified with it", NULL},
        {"drill", NULL, "with --pull: the store takes drill cuts (default: live)", NULL},
        {"pull-every", "MS", "with --pull: poll the link every MS milliseconds (default 2000)", NULL},
        {"store-keep", "N",
         "with --pull: after each cut taken, the store keeps the objects of the N newest cuts only; older cuts keep "
         "their manifest and signature, and /cortes/<seq>/ answers 410 for their pages (default: all)",
         NULL},
        {NULL, NULL, NULL, NULL},
    };
    int help;
    char err[256];
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep serve: %s (see 'prep serve --help')\n", err);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, "serve",
                  "--store DIR [--listen ADDR:PORT] [--tls-listen ADDR:PORT --tls-cert F --tls-key F] [--threads N] "
                  "[--user NAME] [--access-log FILE] [--frame-ancestors ORIGINS] [--catalog FILE] "
                  "[--max-conns-per-ip N] [--max-conns N] [--answer-memory MB] [--idle-timeout S] [--header-timeout S] [--pid-file F] [--poll-ms N]\n"
                  "       [--pull URL --pubkey FILE [--pull-ca FILE] [--drill] [--pull-every MS] [--store-keep N]]",
                  "Serves the active cut of a store over HTTP/1.1 and, with a certificate, HTTPS with HTTP/2.\n"
                  "Switches to a newly activated cut atomically; answers /health and /metrics (Prometheus).\n"
                  "At start-up, an active cut that cannot be loaded (an object missing or damaged) is\n"
                  "replaced by the newest whole older cut until a newer one is activated; /health says so.\n"
                  "With --pull it also takes each new cut from the institute's link, verifies it\n"
                  "(prep receive's checks) and activates it in --store; --store-keep N then bounds the store\n"
                  "(docs/formats/cut.md, section 4). Stops on SIGINT or SIGTERM.\n"
                  "Behind HAProxy (several replicas): a request whose query starts with prep_visto=N is\n"
                  "refused (503, retry-after: 1) while the cut served is older than N, and /health/cut\n"
                  "answers 503 then, so a reader never gets an older cut than one it already got\n"
                  "(docs/scale-out.md; the proxy's configuration: docs/scale-out/haproxy.cfg).",
                  opts);
        return CLI_OK;
    }
    prep_serve_config c;
    prep_serve_config_init(&c);
    c.store = cli_get(opts, "store");
    c.listen = cli_get(opts, "listen");
    c.tls_listen = cli_get(opts, "tls-listen");
    c.tls_cert = cli_get(opts, "tls-cert");
    c.tls_key = cli_get(opts, "tls-key");
    c.user = cli_get(opts, "user");
    c.access_log = cli_get(opts, "access-log");
    c.pid_file = cli_get(opts, "pid-file");
    c.site.frame_ancestors = cli_get(opts, "frame-ancestors");
    /* A restart on a store whose active cut lost an object serves the newest whole older
     * cut, saying so on stderr and in /health, instead of the waiting page (issue 13). */
    c.site.fallback = 1;
    c.site.log_out = stderr;
    if (!c.store) {
        fprintf(stderr, "prep serve: --store DIR is required (see 'prep serve --help')\n");
        return CLI_USAGE;
    }
    if (!c.tls_listen && (c.tls_cert || c.tls_key)) {
        fprintf(stderr, "prep serve: --tls-cert and --tls-key go with --tls-listen\n");
        return CLI_USAGE;
    }
    if (c.tls_listen && (!c.tls_cert || !c.tls_key)) {
        fprintf(stderr, "prep serve: --tls-listen needs --tls-cert FILE and --tls-key FILE\n");
        return CLI_USAGE;
    }
    if (!c.listen && !c.tls_listen) c.listen = "127.0.0.1:8080";
    if (int_opt("serve", "threads", cli_get(opts, "threads"), 1, PREP_SERVE_MAX_THREADS, &c.threads) ||
        int_opt("serve", "max-conns-per-ip", cli_get(opts, "max-conns-per-ip"), 1, 1000000, &c.max_conns_per_ip) ||
        int_opt("serve", "max-conns", cli_get(opts, "max-conns"), 1, 10000000, &c.max_conns) ||
        int_opt("serve", "poll-ms", cli_get(opts, "poll-ms"), 10, 3600000, &c.poll_ms) ||
        seconds_ms("serve", "idle-timeout", cli_get(opts, "idle-timeout"), &c.idle_timeout_ms) ||
        seconds_ms("serve", "header-timeout", cli_get(opts, "header-timeout"), &c.header_timeout_ms))
        return CLI_USAGE;
    int cache_mb = 64, answer_mb = PREP_HTTP_ANSWER_MEMORY_MB;
    if (int_opt("serve", "archive-cache", cli_get(opts, "archive-cache"), 0, 65536, &cache_mb) ||
        int_opt("serve", "answer-memory", cli_get(opts, "answer-memory"), 1, 1048576, &answer_mb))
        return CLI_USAGE;
    c.max_answer_memory = (size_t)answer_mb << 20;
    c.site.archive_cache_bytes = (size_t)cache_mb << 20;

    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *cat = NULL;
    const char *catf = cli_get(opts, "catalog");
    if (catf) {
        if (prep_catalog_load(catf, &cat, &d) != PREP_OK) {
            prep_diags_print(&d, stderr, 20);
            fprintf(stderr, "prep serve: cannot read the catalogue %s\n", catf);
            prep_diags_free(&d);
            return CLI_USAGE;
        }
        c.site.window_open = cat->window_open;
        c.site.window_close = cat->window_close;
        c.site.zone = cat->timezone;
    }
    const char *pull = cli_get(opts, "pull");
    if (!pull && (cli_get(opts, "pull-ca") || cli_get(opts, "pubkey") || cli_get(opts, "drill") ||
                  cli_get(opts, "pull-every") || cli_get(opts, "store-keep"))) {
        fprintf(stderr, "prep serve: --pull-ca, --pubkey, --drill, --pull-every and --store-keep go with --pull URL "
                        "(a store fed by prep receive: prep receive --store-keep)\n");
        prep_catalog_free(cat);
        return CLI_USAGE;
    }
    int every = 2000, store_keep = 0;
    prep_cut_pubkey pk;
    prep_cut_policy pol;
    if (pull) {
        if (!cli_get(opts, "pubkey")) {
            fprintf(stderr, "prep serve: --pull needs --pubkey FILE (the institute's key: pulled cuts are verified)\n");
            prep_catalog_free(cat);
            return CLI_USAGE;
        }
        if (int_opt("serve", "pull-every", cli_get(opts, "pull-every"), 100, 3600000, &every) ||
            int_opt("serve", "store-keep", cli_get(opts, "store-keep"), 1, PREP_CUT_INCOMING_MAX, &store_keep) ||
            prep_cut_pubkey_load(cli_get(opts, "pubkey"), &pk, &d) != PREP_OK) {
            prep_diags_print(&d, stderr, 5);
            prep_diags_free(&d);
            prep_catalog_free(cat);
            return CLI_USAGE;
        }
        prep_cut_policy_init(&pol);
        pol.mode = cli_get(opts, "drill") ? PREP_CUT_DRILL : PREP_CUT_LIVE;
        pol.keys = &pk;
        pol.n_keys = 1;
    }
    /* one puller per store: two would take every cut twice into it */
    int slock = pull ? cli_store_lock("serve --pull", c.store, "pull") : -1;
    if (pull && slock < 0) {
        prep_diags_free(&d);
        prep_catalog_free(cat);
        return CLI_USAGE;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    c.status_out = stdout;
    serve_pull sp = {.p = {.cmd = "serve", .url = pull, .ca_file = cli_get(opts, "pull-ca"), .store = c.store,
                           .policy = &pol, .every_ms = every, .store_keep = (unsigned)store_keep}};
    int have_puller = pull && pthread_create(&sp.th, NULL, serve_pull_main, &sp) == 0;
    if (pull && !have_puller) fprintf(stderr, "prep serve: cannot start the pull thread\n");
    prep_err e = prep_serve_run(&c, &d);
    if (have_puller) {
        sp.stop = 1;
        pthread_join(sp.th, NULL);
    }
    if (d.n) prep_diags_print(&d, stderr, 20);
    if (e) fprintf(stderr, "prep serve: %s\n", prep_err_text(e));
    if (slock >= 0) close(slock);
    prep_diags_free(&d);
    prep_catalog_free(cat);
    return e == PREP_OK ? CLI_OK : e == PREP_ERR_VERIFY ? CLI_CHECK_FAILED : CLI_USAGE;
}

/* prep serve: the broadcaster's server on the http part's core (include/prep/serve.h,
 * docs/internals/serve.md).
 *
 * The versions are the http server's state. prep_serve_run opens the server (binds,
 * drops privileges), loads the active cut (or the empty version) and starts the event
 * loops; the calling thread then becomes the watcher: it waits for SIGINT/SIGTERM with a
 * timeout of poll_ms, reads the store's active pointer each time and, when it names
 * another manifest, loads the new version (seconds of CPU at state scale: never on an
 * event loop) and publishes it. /health and /metrics are answered here, from the version
 * served and the store. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prep/cut.h"
#include "prep/policy.h"
#include "prep/serve.h"

static _Atomic int g_stop;

typedef struct serve_state {
    prep_serve_config cfg;          /* copied */
    prep_http_server *srv;
    _Atomic uint64_t load_us;       /* wall time of the last load */
    int load_failed;                /* the active cut's last load was refused (or an older cut
                                     * stands in for it), and STORE/healed was then */
    int64_t failed_healed;          /* this (its change time, taken before that load: objects
                                     * of the active cut the store lacked were taken again when
                                     * it moves, PREP_CUT_HEALED_FILE) */
} serve_state;

void prep_serve_config_init(prep_serve_config *c)
{
    memset(c, 0, sizeof *c);
    prep_serve_site_opts_init(&c->site);
    c->max_conns_per_ip = 64;
    c->max_conns = 10000;
    c->max_answer_memory = (size_t)PREP_HTTP_ANSWER_MEMORY_MB << 20;
    c->idle_timeout_ms = 30000;
    c->header_timeout_ms = 10000;
    c->poll_ms = 250;
}

void prep_serve_stop(void)
{
    atomic_store(&g_stop, 1);
}

/* ---------------------------------------------------------------- the handler */
static void h_respond(void *ctx, void *state, const prep_http_request *req, prep_http_response *out)
{
    (void)ctx;
    prep_serve_respond(state, req, out);
}

static void h_ref(void *state) { prep_serve_version_ref(state); }
static void h_unref(void *state) { prep_serve_version_unref(state); }

static uint64_t h_seq(const void *state)
{
    prep_serve_version_info vi;
    prep_serve_version_get_info(state, &vi);
    return vi.seq;
}

/* What /health says (docs/internals/serve.md "/health"): the served version's state and,
 * while the waiting page is served, whether the store's active cut was refused. */
typedef struct serve_health {
    int status;               /* 200 or 503 */
    uint64_t seq;             /* the cut served (0: waiting page) */
    prep_time instant;        /* its instant */
    uint64_t fallback_from;   /* the active cut it stands in for (0: none) */
    uint64_t active;          /* the store's active cut, when it was refused */
    int unavailable;          /* the waiting page while the active cut was refused */
    char why[192];
} serve_health;

static void health_get(serve_state *ss, serve_health *h)
{
    memset(h, 0, sizeof *h);
    h->status = 200;
    h->instant = PREP_TIME_NONE;
    prep_serve_version *v = prep_http_server_state(ss->srv);
    if (v) {
        prep_serve_version_info vi;
        prep_serve_version_get_info(v, &vi);
        h->seq = vi.seq;
        if (vi.seq) h->instant = vi.instant;
        h->fallback_from = vi.fallback_from;
        snprintf(h->why, sizeof h->why, "%s", vi.fallback_why);
    }
    prep_serve_version_unref(v);
    if (h->seq) return;
    /* The waiting page: right before the first cut, wrong when the store's active cut was
     * refused (and no older one was whole). Only a refusal of the cut the pointer names
     * now counts: a cut just activated and not loaded yet (the watcher polls, a load takes
     * seconds at state scale) is not an alarm. One small file read (the active pointer). */
    prep_serve_refusal r;
    if (!prep_serve_last_refusal(&r)) return;
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_active a;
    if (prep_cut_active_read(ss->cfg.store, &a, &d) == PREP_OK && a.seq == r.seq &&
        !strcmp(a.manifest_sha256, r.manifest_sha256)) {
        h->unavailable = 1;
        h->active = a.seq;
        snprintf(h->why, sizeof h->why, "%s", r.why);
        h->status = 503;
    }
    prep_diags_free(&d);
}

static int h_reserved(void *ctx, prep_http_server *srv, int which, prep_buf *b)
{
    serve_state *ss = ctx;
    serve_health h;
    health_get(ss, &h);
    if (which == 1) {
        if (h.fallback_from)
            prep_buf_printf(b, "degraded corte %llu: active cut %llu cannot be loaded (%s); serving the newest whole cut\n",
                            (unsigned long long)h.seq, (unsigned long long)h.fallback_from, h.why);
        else if (h.unavailable)
            prep_buf_printf(b, "unavailable: active cut %llu cannot be loaded (%s) and no older cut is whole; "
                               "serving the waiting page\n",
                            (unsigned long long)h.active, h.why);
        else
            prep_buf_printf(b, "ok corte %llu\n", (unsigned long long)h.seq);
        return h.status;
    }
    prep_http_server_metrics(srv, b);
    int64_t age = h.instant == PREP_TIME_NONE ? 0 : (int64_t)time(NULL) - h.instant;
    prep_buf_printf(b,
                    "# HELP prep_serve_active_cut_sequence The cut served (0: none yet).\n"
                    "# TYPE prep_serve_active_cut_sequence gauge\n"
                    "prep_serve_active_cut_sequence %llu\n"
                    "# HELP prep_serve_cut_age_seconds Seconds since the served cut's instant (0: none).\n"
                    "# TYPE prep_serve_cut_age_seconds gauge\n"
                    "prep_serve_cut_age_seconds %lld\n"
                    "# HELP prep_serve_version_load_seconds Wall time of the last cut load.\n"
                    "# TYPE prep_serve_version_load_seconds gauge\n"
                    "prep_serve_version_load_seconds %.3f\n"
                    "# HELP prep_serve_fallback_from_cut The active cut that could not be loaded and that\n"
                    "# the served one stands in for (0: the active cut is served).\n"
                    "# TYPE prep_serve_fallback_from_cut gauge\n"
                    "prep_serve_fallback_from_cut %llu\n"
                    "# HELP prep_serve_unavailable 1 while the waiting page is served because the active cut was refused.\n"
                    "# TYPE prep_serve_unavailable gauge\n"
                    "prep_serve_unavailable %d\n",
                    (unsigned long long)h.seq, (long long)age, (double)atomic_load(&ss->load_us) / 1e6,
                    (unsigned long long)h.fallback_from, h.unavailable);
    return 200;
}

/* ---------------------------------------------------------------- versions */
static void report_version(serve_state *ss, prep_serve_version *v)
{
    if (!ss->cfg.status_out) return;
    prep_serve_version_info vi;
    prep_serve_version_get_info(v, &vi);
    if (vi.seq)
        fprintf(ss->cfg.status_out, "prep serve: corte %llu activo (%zu archivos, %.1f s CPU)%s\n",
                (unsigned long long)vi.seq, vi.files, vi.load_cpu_seconds, vi.drill ? " [simulacro]" : "");
    else
        fprintf(ss->cfg.status_out, "prep serve: no cut in %s yet: serving the waiting page\n", ss->cfg.store);
    fflush(ss->cfg.status_out);
}

/* Loads the active cut when it is not the one served. Returns a new version or NULL. */
static prep_serve_version *load_if_changed(serve_state *ss, char *last_sha, int initial)
{
    prep_cut_active a;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_active_read(ss->cfg.store, &a, &d);
    prep_diags_free(&d);
    if (e) {
        if (initial && e == PREP_ERR_NOTFOUND) {
            prep_serve_version *v = NULL;
            if (prep_serve_version_empty(&ss->cfg.site, &v) == PREP_OK) return v;
        }
        return NULL;
    }
    if (!strcmp(a.manifest_sha256, last_sha)) {
        /* tried once per activation, and again when objects of a refused cut were taken
         * again since that load began (moved aside as damaged, then brought back by the
         * pull: STORE/healed) */
        if (!ss->load_failed) return NULL;
        if (prep_cut_store_changed(ss->cfg.store, PREP_CUT_HEALED_FILE) == ss->failed_healed) return NULL;
    }
    snprintf(last_sha, 65, "%s", a.manifest_sha256);
    prep_diags_init(&d);
    prep_serve_version *v = NULL;
    int64_t t0 = prep_mono_ms();
    /* before the load: a heal during it (the pull runs beside) retries it */
    int64_t healed = prep_cut_store_changed(ss->cfg.store, PREP_CUT_HEALED_FILE);
    prep_serve_version *prev = ss->srv ? prep_http_server_state(ss->srv) : NULL;
    e = prep_serve_version_load(ss->cfg.store, 0, prev, &ss->cfg.site, &v, &d);
    prep_serve_version_unref(prev);
    atomic_store(&ss->load_us, (uint64_t)(prep_mono_ms() - t0) * 1000);
    prep_serve_version_info vi = {0};
    if (!e && v) prep_serve_version_get_info(v, &vi);
    ss->load_failed = e != PREP_OK || vi.fallback_from != 0; /* an older cut stands in for it */
    ss->failed_healed = healed;
    if (e) {
        if (d.n) prep_diags_print(&d, stderr, 10);
        fprintf(stderr, "prep serve: cut %llu not loaded (%s); still serving the previous one\n",
                (unsigned long long)a.seq, prep_err_str(e));
        prep_diags_free(&d);
        if (initial) {
            prep_serve_version *ev = NULL;
            if (prep_serve_version_empty(&ss->cfg.site, &ev) == PREP_OK) return ev;
        }
        return NULL;
    }
    prep_diags_free(&d);
    return v;
}

/* ---------------------------------------------------------------- run */
prep_err prep_serve_run(const prep_serve_config *cfg, prep_diags *d)
{
    if (!cfg->store || (!cfg->listen && !cfg->tls_listen)) {
        prep_diags_add(d, "serve", 0, 0, "usage", "a store and at least one listen address are required");
        return PREP_ERR_USAGE;
    }
    if (cfg->poll_ms < 1) {
        prep_diags_add(d, "serve", 0, 0, "usage", "the poll period must be >= 1 ms");
        return PREP_ERR_USAGE;
    }
    serve_state *ss = calloc(1, sizeof *ss);
    if (!ss) return PREP_ERR_NOMEM;
    ss->cfg = *cfg;
    ss->cfg.site.https = cfg->tls_listen != NULL;
    /* The server core's own answers (redirects, /health, refusals) carry the same security
     * fields as the site's files: one policy table (include/prep/policy.h). */
    prep_policy_security sec;
    if (prep_policy_security_make(cfg->site.frame_ancestors, ss->cfg.site.https, cfg->site.hsts_max_age, &sec) !=
        PREP_OK) {
        prep_diags_add(d, "serve", 0, 0, "usage",
                       "frame ancestors \"%s\" are not a space-separated list of origins (letters, digits and "
                       ". : / - * [ ], at most %d bytes)",
                       cfg->site.frame_ancestors, PREP_POLICY_ORIGINS_MAX);
        free(ss);
        return PREP_ERR_USAGE;
    }
    prep_http_server_config hc;
    prep_http_server_config_init(&hc);
    hc.name = "prep serve";
    hc.listen = cfg->listen;
    hc.tls_listen = cfg->tls_listen;
    hc.tls_cert = cfg->tls_cert;
    hc.tls_key = cfg->tls_key;
    hc.redirect_plain = 1;
    hc.threads = cfg->threads;
    hc.user = cfg->user;
    hc.access_log = cfg->access_log;
    hc.pid_file = cfg->pid_file;
    hc.max_conns_per_ip = cfg->max_conns_per_ip;
    hc.max_conns = cfg->max_conns;
    hc.max_answer_memory = cfg->max_answer_memory;
    hc.idle_timeout_ms = cfg->idle_timeout_ms;
    hc.header_timeout_ms = cfg->header_timeout_ms;
    hc.csp = sec.csp;
    hc.hsts_max_age = cfg->site.hsts_max_age;
    hc.metrics_prefix = "prep_serve";
    hc.status_out = cfg->status_out;
    hc.handler = (prep_http_handler){.ctx = ss,
                                     .respond = h_respond,
                                     .state_ref = h_ref,
                                     .state_unref = h_unref,
                                     .state_seq = h_seq,
                                     .reserved = h_reserved};
    prep_err e = prep_http_server_open(&hc, &ss->srv, d);
    if (e) {
        free(ss);
        return e;
    }
    char last_sha[65] = "";
    prep_serve_version *v = load_if_changed(ss, last_sha, 1);
    if (!v) {
        prep_diags_add(d, cfg->store, 0, 0, "store", "cannot load the active cut nor the empty version of %s",
                       cfg->store);
        prep_http_server_close(ss->srv);
        free(ss);
        return PREP_ERR_INVALID;
    }
    report_version(ss, v);
    /* SIGINT/SIGTERM are taken by sigtimedwait below, never by a handler. */
    sigset_t sigs, oldmask;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, &oldmask);
    atomic_store(&g_stop, 0);
    e = prep_http_server_start(ss->srv, v, d);

    /* The watcher. */
    while (!e && !atomic_load(&g_stop)) {
        struct timespec to = {.tv_sec = cfg->poll_ms / 1000, .tv_nsec = (long)(cfg->poll_ms % 1000) * 1000000L};
        int sig = sigtimedwait(&sigs, NULL, &to);
        if (sig == SIGINT || sig == SIGTERM) break;
        prep_serve_version *nv = load_if_changed(ss, last_sha, 0);
        if (nv) {
            prep_serve_version_ref(nv); /* for the report, after the server took its own */
            prep_http_server_publish(ss->srv, nv);
            report_version(ss, nv);
            prep_serve_version_unref(nv);
        }
        prep_http_server_housekeep(ss->srv);
    }
    prep_http_server_close(ss->srv);
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
    free(ss);
    return e;
}

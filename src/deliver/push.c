/* prep deliver, push: moves a cut's plan to each target with libcurl's multi interface.
 *
 * Each target has a few streams: easy handles re-used file after file so a connection
 * (SSH, or the FTP control connection where the server allows it) stays open. Its
 * objects go over every stream at once (opts->ftps_streams for FTPS, whose connections
 * carry one file each; opts->sftp_streams for SFTP); its manifests, patches and
 * signatures follow one at a time, in order (prep_deliver_sched). At most opts->parallel
 * targets transfer at once. Each file goes to REMOTE.tmp-TAG and is renamed over REMOTE
 * by post-quote commands. A failed transfer stops the target starting files; once its
 * streams are idle it sleeps for a backoff (its slot goes to another target) and resumes
 * at the files that failed; after opts->retries failed rounds it gives up. Only a target
 * whose last signature landed gets its state advanced. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "prep/deliver.h"

void prep_deliver_opts_init(prep_deliver_opts *o)
{
    memset(o, 0, sizeof *o);
    o->parallel = 8;
    o->retries = 4;
    o->backoff_ms = 1000;
    o->backoff_max_ms = 60000;
    o->connect_timeout = 15;
    o->low_speed_limit = 512;
    o->low_speed_time = 30;
    o->ftps_streams = 8;
    o->sftp_streams = 1;
}

static uint64_t mono_ms(void) { return (uint64_t)prep_mono_ms(); }

/* The bytes being uploaded: a store file or a buffer. */
typedef struct source {
    FILE *f;
    const char *mem;
    size_t len, off;
} source;

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
    source *s = ud;
    size_t want = size * nmemb;
    if (s->f) {
        size_t got = fread(buf, 1, want, s->f);
        if (got == 0 && ferror(s->f)) return CURL_READFUNC_ABORT;
        return got;
    }
    size_t left = s->len - s->off;
    if (want > left) want = left;
    memcpy(buf, s->mem + s->off, want);
    s->off += want;
    return want;
}

#define PREP_DELIVER_FTPS_PER_CONN 1 /* see start_file */

typedef enum { T_PENDING, T_RUNNING, T_WAIT, T_DONE } tstate;

struct tgt;

/* One connection's worth of a target: an easy handle and the file it carries. */
typedef struct stream {
    struct tgt *g;
    CURL *h;
    struct curl_slist *post;
    source src;
    size_t file;         /* plan index in flight, or PREP_DELIVER_SCHED_NONE */
    unsigned conn_files; /* FTPS: files sent on the current connection */
    int fresh;           /* the next transfer opens a new connection */
    char errbuf[CURL_ERROR_SIZE];
} stream;

typedef struct tgt {
    const prep_deliver_target *t;
    prep_deliver_result *r;
    const prep_deliver_plan *plan; /* borrowed from the plan cache */
    tstate st;
    prep_deliver_sched sched;
    stream *s; /* owned: ns streams */
    unsigned ns;
    int draining; /* a transfer failed: start nothing, wait for the others to end */
    char tag[17];
    uint64_t wake, t0;
    unsigned failures;
} tgt;

typedef struct push {
    const char *store, *state_dir;
    const prep_deliver_opts *o;
    CURLM *m;
    tgt *tg;
    size_t n, done, running;
    uint64_t bytes;
    prep_rng rng;
} push;

static void emit(push *p, prep_deliver_event ev, size_t i, uint64_t retry_ms)
{
    if (!p->o->progress) return;
    prep_deliver_progress pr = {.event = ev,
                                .target = i,
                                .result = i < p->n ? p->tg[i].r : NULL,
                                .done = p->done,
                                .total = p->n,
                                .bytes = p->bytes,
                                .retry_ms = retry_ms};
    p->o->progress(p->o->progress_ctx, &pr);
}

static void src_close(stream *s)
{
    if (s->src.f) fclose(s->src.f);
    memset(&s->src, 0, sizeof s->src);
}

/* Takes every stream of g off the multi handle (those in flight are abandoned). */
static void streams_stop(push *p, tgt *g)
{
    for (unsigned k = 0; k < g->ns; k++) {
        stream *s = &g->s[k];
        if (s->file != PREP_DELIVER_SCHED_NONE) {
            curl_multi_remove_handle(p->m, s->h);
            prep_deliver_sched_end(&g->sched, s->file, 0);
            s->file = PREP_DELIVER_SCHED_NONE;
        }
        src_close(s);
    }
}

/* One line per target and cut in STATE/<id>/deliveries. Best effort. */
static void record(const push *p, const tgt *g)
{
    char dir[1200], path[1300], line[800], when[64];
    snprintf(dir, sizeof dir, "%s/%s", p->state_dir, g->t->id);
    if (prep_mkdirs(dir)) return;
    snprintf(path, sizeof path, "%s/deliveries", dir);
    prep_time_format(prep_time_now(), "UTC", PREP_TS_ISO_OFF, when, sizeof when);
    const prep_deliver_result *r = g->r;
    const char *st = r->status == PREP_DELIVER_DONE ? "done" : r->status == PREP_DELIVER_UPTODATE ? "up-to-date" : "failed";
    int n = snprintf(line, sizeof line, "%s seq=%llu from=%llu status=%s cuts=%zu files=%zu objects=%zu bytes=%llu "
                                        "seconds=%.3f retries=%u error=%s\n",
                     when, (unsigned long long)r->seq, (unsigned long long)r->from, st, r->cuts, r->files, r->objects,
                     (unsigned long long)r->bytes, r->seconds, r->attempts, r->error[0] ? r->error : "-");
    if (n < 0) return;
    if ((size_t)n >= sizeof line) {
        line[sizeof line - 2] = '\n';
        n = (int)sizeof line - 1;
    }
    /* the log is the operator's record, not the delivery: a failure is said, never fatal */
    if (prep_append_file(path, line, (size_t)n, 0))
        prep_log(PREP_LOG_WARN, "deliver: log line lost: %s", prep_err_text(PREP_ERR_IO));
}

static void finish(push *p, size_t i, prep_deliver_status st)
{
    tgt *g = &p->tg[i];
    streams_stop(p, g);
    if (g->st == T_RUNNING) p->running--;
    g->st = T_DONE;
    g->r->status = st;
    g->r->seconds = (double)(mono_ms() - g->t0) / 1000.0;
    if (st == PREP_DELIVER_DONE) {
        prep_err e = prep_deliver_state_write(p->state_dir, g->t->id, g->plan->seq, g->plan->manifest_sha256);
        if (e) /* the cut is there; the next run will re-send it (harmless) */
            snprintf(g->r->error, sizeof g->r->error, "delivered, but the state under %s could not be written: %s",
                     p->state_dir, prep_err_text(e));
    }
    p->done++;
    record(p, g);
    emit(p, PREP_DELIVER_EV_END, i, 0);
}

static const char *explain(const tgt *g, CURLcode c)
{
    switch (c) {
    case CURLE_PEER_FAILED_VERIFICATION:
        return g->t->method == PREP_DELIVER_SFTP ? "the server's host key does not match the pinned SHA-256"
                                                 : "the server's TLS certificate did not verify";
    case CURLE_COULDNT_CONNECT: return "cannot connect (down, or refusing)";
    case CURLE_OPERATION_TIMEDOUT: return "timed out (too slow, or not answering)";
    case CURLE_LOGIN_DENIED: return "login refused";
    case CURLE_USE_SSL_FAILED: return "the server does not offer TLS (AUTH TLS); refusing plain FTP";
    case CURLE_QUOTE_ERROR: return "the rename after the upload failed";
    case CURLE_REMOTE_ACCESS_DENIED: return "the server refused access to the path";
    default: return curl_easy_strerror(c);
    }
}

/* Starts the transfer of plan file fi of g on its idle stream s. Returns 0, or -1 (error
 * text set, the target is failed by the caller: a local problem, not worth retrying). */
static int start_file(push *p, tgt *g, stream *s, size_t fi)
{
    const prep_deliver_file *f = &g->plan->files[fi];
    char tmp[PREP_DELIVER_REMOTE_MAX + 32], url[1024], cmds[2][600];
    if (prep_deliver_temp_name(f->remote, g->tag, tmp, sizeof tmp) || prep_deliver_file_url(g->t, tmp, url, sizeof url) ||
        prep_deliver_rename_cmds(g->t, tmp, f->remote, cmds, sizeof cmds[0]) != 2) {
        snprintf(g->r->error, sizeof g->r->error, "%s: URL too long", f->remote);
        return -1;
    }
    src_close(s);
    if (f->data || !f->local) {
        s->src.mem = f->data ? f->data : "";
        s->src.len = (size_t)f->size;
    } else if (!(s->src.f = fopen(f->local, "rb"))) {
        snprintf(g->r->error, sizeof g->r->error, "cannot read %s: %s", f->local, strerror(errno));
        return -1;
    }
    curl_slist_free_all(s->post);
    s->post = NULL;
    struct curl_slist *a = curl_slist_append(NULL, cmds[0]);
    struct curl_slist *b = a ? curl_slist_append(a, cmds[1]) : NULL;
    if (!b) {
        curl_slist_free_all(a);
        snprintf(g->r->error, sizeof g->r->error, "out of memory");
        return -1;
    }
    s->post = b;
    s->errbuf[0] = 0;
    curl_easy_setopt(s->h, CURLOPT_URL, url);
    curl_easy_setopt(s->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)f->size);
    curl_easy_setopt(s->h, CURLOPT_POSTQUOTE, s->post);
    /* vsftpd (require_ssl_reuse=YES, its default) refuses a data connection that does not
     * resume the control connection's TLS session (522). Measured here with libcurl 7.88 /
     * OpenSSL 3 / TLS 1.3 against vsftpd 3.0.3: the second data connection of one control
     * connection fails that way (the session ticket it would resume is spent). So an FTPS
     * control connection carries PREP_DELIVER_FTPS_PER_CONN files and is then closed;
     * the target's several streams are what make FTPS fast.
     * After a failure the next attempt never re-uses the old connection. */
    long forbid = 0;
    if (g->t->method == PREP_DELIVER_FTPS && ++s->conn_files >= PREP_DELIVER_FTPS_PER_CONN) {
        forbid = 1;
        s->conn_files = 0;
    }
    curl_easy_setopt(s->h, CURLOPT_FRESH_CONNECT, (long)s->fresh);
    curl_easy_setopt(s->h, CURLOPT_FORBID_REUSE, forbid);
    s->fresh = 0;
    if (curl_multi_add_handle(p->m, s->h) != CURLM_OK) {
        snprintf(g->r->error, sizeof g->r->error, "cannot start the transfer");
        return -1;
    }
    s->file = fi;
    return 0;
}

/* Gives each idle stream of g (running, not draining) the next file it may send.
 * Returns 0, or -1 when a file could not be started (error text set). */
static int fill(push *p, tgt *g)
{
    for (unsigned k = 0; k < g->ns && !g->draining; k++) {
        stream *s = &g->s[k];
        if (s->file != PREP_DELIVER_SCHED_NONE) continue;
        size_t fi = prep_deliver_sched_next(&g->sched);
        if (fi == PREP_DELIVER_SCHED_NONE) break;
        if (start_file(p, g, s, fi)) {
            prep_deliver_sched_end(&g->sched, fi, 0);
            return -1;
        }
    }
    return 0;
}

static int setup_handle(tgt *g, stream *s)
{
    s->g = g;
    s->file = PREP_DELIVER_SCHED_NONE;
    s->h = curl_easy_init();
    if (!s->h) return -1;
    CURL *h = s->h;
    curl_easy_setopt(h, CURLOPT_PRIVATE, s);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &s->src);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FTP_CREATE_MISSING_DIRS, (long)CURLFTP_CREATE_DIR_RETRY);
    if (g->t->method == PREP_DELIVER_SFTP) {
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "sftp");
        curl_easy_setopt(h, CURLOPT_SSH_AUTH_TYPES, (long)CURLSSH_AUTH_PUBLICKEY);
        curl_easy_setopt(h, CURLOPT_SSH_PRIVATE_KEYFILE, g->t->ssh_key);
        /* libssh2 derives the public key from the private one when given "". */
        char pub[600];
        struct stat st;
        snprintf(pub, sizeof pub, "%s.pub", g->t->ssh_key);
        curl_easy_setopt(h, CURLOPT_SSH_PUBLIC_KEYFILE, stat(pub, &st) == 0 ? pub : "");
        curl_easy_setopt(h, CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, g->t->ssh_host_sha256);
        curl_easy_setopt(h, CURLOPT_NEW_FILE_PERMS, 0644L);
        curl_easy_setopt(h, CURLOPT_NEW_DIRECTORY_PERMS, 0755L);
    } else {
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "ftp");
        curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
        if (g->t->ca_file[0]) curl_easy_setopt(h, CURLOPT_CAINFO, g->t->ca_file);
        curl_easy_setopt(h, CURLOPT_USERNAME, g->t->user[0] ? g->t->user : "anonymous");
        curl_easy_setopt(h, CURLOPT_PASSWORD, g->t->password);
    }
    return 0;
}

static void set_timeouts(stream *s, const prep_deliver_opts *o)
{
    curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
    curl_easy_setopt(s->h, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit);
    curl_easy_setopt(s->h, CURLOPT_LOW_SPEED_TIME, o->low_speed_time);
    /* A server that accepts the connection but never answers: curl has no reply timeout
     * for SSH or the FTP control channel other than the low-speed rule and this one. */
    curl_easy_setopt(s->h, CURLOPT_SERVER_RESPONSE_TIMEOUT, o->low_speed_time);
}

/* g gets a slot: start (or resume) its transfer. */
static void run_target(push *p, size_t i)
{
    tgt *g = &p->tg[i];
    g->st = T_RUNNING;
    g->draining = 0;
    p->running++;
    if (fill(p, g)) finish(p, i, PREP_DELIVER_FAILED);
}

static void on_done(push *p, stream *s, CURLcode c)
{
    tgt *g = s->g;
    size_t i = (size_t)(g - p->tg);
    curl_multi_remove_handle(p->m, s->h);
    size_t fi = s->file;
    s->file = PREP_DELIVER_SCHED_NONE;
    src_close(s);
    if (fi == PREP_DELIVER_SCHED_NONE || g->st != T_RUNNING) return;
    const prep_deliver_file *f = &g->plan->files[fi];
    prep_deliver_sched_end(&g->sched, fi, c == CURLE_OK);
    if (c == CURLE_OK) {
        g->r->files++;
        g->r->bytes += f->size;
        p->bytes += f->size;
        if (f->kind == PREP_DELIVER_OBJECT) g->r->objects++;
        emit(p, PREP_DELIVER_EV_FILE, i, 0);
        if (g->sched.done == g->plan->n) {
            finish(p, i, PREP_DELIVER_DONE);
            return;
        }
        if (fill(p, g)) {
            finish(p, i, PREP_DELIVER_FAILED);
            return;
        }
    } else {
        s->fresh = 1;
        s->conn_files = 0;
        /* One failed round per attempt, however many streams fail in it (a server that
         * went down fails them all at once); its first error is the one reported. */
        if (!g->draining) {
            g->draining = 1;
            g->failures++;
            g->r->attempts = g->failures;
            char big[1024];
            snprintf(big, sizeof big, "%s: %s%s%s", f->remote, explain(g, c), s->errbuf[0] ? ": " : "", s->errbuf);
            snprintf(g->r->error, sizeof g->r->error, "%.255s", big);
            /* No newline may reach the record file or the terminal from a server's text. */
            for (char *q = g->r->error; *q; q++)
                if ((unsigned char)*q < 0x20) *q = ' ';
        }
    }
    if (!g->draining || g->sched.inflight > 0) return;
    /* The round is over: every stream is idle. */
    if (g->failures > p->o->retries) {
        finish(p, i, PREP_DELIVER_FAILED);
        return;
    }
    for (unsigned k = 0; k < g->ns; k++) g->s[k].fresh = 1;
    uint64_t w = prep_deliver_backoff_ms(g->failures, p->o->backoff_ms, p->o->backoff_max_ms, prep_rng_unit(&p->rng));
    g->st = T_WAIT;
    p->running--;
    g->wake = mono_ms() + w;
    emit(p, PREP_DELIVER_EV_RETRY, i, w);
}

/* The target's last cut: its state, unless the store's copy of that cut is another
 * manifest (a rebuilt store) or the caller asked for a full push. */
static uint64_t target_from(const char *store, const char *state_dir, const prep_deliver_target *t, int full,
                            prep_diags *d)
{
    if (full) return 0;
    uint64_t last = 0;
    char sha[65];
    if (prep_deliver_state_read(state_dir, t->id, &last, sha, d) != PREP_OK || last == 0) return 0;
    char path[1200];
    snprintf(path, sizeof path, "%s/cuts/%llu/manifest", store, (unsigned long long)last);
    char *b = NULL;
    size_t n = 0;
    char got[65] = "";
    if (prep_read_file(path, (size_t)1 << 30, &b, &n) == PREP_OK) prep_sha256_hex(b, n, got);
    free(b);
    if (strcmp(got, sha) != 0) {
        prep_diags_add(d, path, 0, 0, "state",
                       "target %s was last sent cut %llu with manifest %.16s..., which this store does not hold; "
                       "sending cut whole",
                       t->id, (unsigned long long)last, sha);
        return 0;
    }
    return last;
}

/* The options as used: defaults and bounds applied. */
static void opts_bounded(const prep_deliver_opts *in, prep_deliver_opts *o)
{
    if (in)
        *o = *in;
    else
        prep_deliver_opts_init(o);
    if (o->parallel == 0) o->parallel = 8;
    if (o->parallel > 64) o->parallel = 64;
    if (o->retries > 100) o->retries = 100;
    if (o->backoff_max_ms < o->backoff_ms) o->backoff_max_ms = o->backoff_ms;
    if (o->ftps_streams == 0) o->ftps_streams = 1;
    if (o->ftps_streams > PREP_DELIVER_STREAMS_MAX) o->ftps_streams = PREP_DELIVER_STREAMS_MAX;
    if (o->sftp_streams == 0) o->sftp_streams = 1;
    if (o->sftp_streams > PREP_DELIVER_STREAMS_MAX) o->sftp_streams = PREP_DELIVER_STREAMS_MAX;
}

/* Each target's plan, one per distinct starting cut (targets at the same cut share it). */
static prep_err plan_targets(push *p, uint64_t seq, const prep_deliver_target *targets,
                             prep_deliver_result *results, prep_deliver_plan *plans, size_t *n_plans,
                             prep_diags *d)
{
    for (size_t i = 0; i < p->n; i++) {
        tgt *g = &p->tg[i];
        g->t = &targets[i];
        g->r = &results[i];
        uint64_t from = target_from(p->store, p->state_dir, g->t, p->o->full, d);
        uint64_t base = from >= seq ? seq : from;
        size_t k = 0;
        while (k < *n_plans && plans[k].from != base) k++;
        if (k == *n_plans) {
            prep_err e = prep_deliver_plan_make_opt(p->store, base, seq, !p->o->no_gzip, &plans[k], d);
            if (e) return e;
            (*n_plans)++;
        }
        g->plan = &plans[k];
        g->r->from = from;
        g->r->cuts = plans[k].cuts;
        uint64_t tag = prep_rng_next(&p->rng);
        snprintf(g->tag, sizeof g->tag, "%016llx", (unsigned long long)tag);
    }
    return PREP_OK;
}

/* Target i's transfer handles (one per stream, at most one per object); a target with
 * nothing to send is finished as up to date. */
static void target_handles(push *p, size_t i)
{
    tgt *g = &p->tg[i];
    const prep_deliver_opts *o = p->o;
    g->t0 = mono_ms();
    if (g->plan->n == 0) {
        finish(p, i, PREP_DELIVER_UPTODATE);
        return;
    }
    /* The objects are a prefix of the plan (prep_deliver_plan_make's order). */
    size_t objects = 0;
    while (objects < g->plan->n && g->plan->files[objects].kind == PREP_DELIVER_OBJECT) objects++;
    unsigned want = g->t->method == PREP_DELIVER_FTPS ? o->ftps_streams : o->sftp_streams;
    if (want > objects) want = objects ? (unsigned)objects : 1;
    int bad = prep_deliver_sched_init(&g->sched, g->plan->n, objects) != PREP_OK;
    if (!bad && !(g->s = calloc(want, sizeof *g->s))) bad = 1;
    for (unsigned k = 0; !bad && k < want; k++) {
        if (setup_handle(g, &g->s[k])) {
            curl_easy_cleanup(g->s[k].h);
            bad = 1;
            break;
        }
        set_timeouts(&g->s[k], o);
        g->ns++;
    }
    if (bad) {
        snprintf(g->r->error, sizeof g->r->error, "cannot make a transfer handle");
        finish(p, i, PREP_DELIVER_FAILED);
    }
}

/* The transfer loop: up to parallel targets at once, woken retries before new targets,
 * until every target is finished. */
static void run_all(push *p)
{
    size_t n = p->n;
    uint64_t last_tick = 0;
    while (p->done < n) {
        uint64_t now = mono_ms(), next_wake = now + 250;
        for (size_t i = 0; i < n && p->running < p->o->parallel; i++)
            if (p->tg[i].st == T_WAIT && p->tg[i].wake <= now) run_target(p, i);
        for (size_t i = 0; i < n && p->running < p->o->parallel; i++)
            if (p->tg[i].st == T_PENDING) {
                p->tg[i].t0 = mono_ms();
                run_target(p, i);
            }
        for (size_t i = 0; i < n; i++)
            if (p->tg[i].st == T_WAIT && p->tg[i].wake < next_wake) next_wake = p->tg[i].wake;
        int still = 0;
        curl_multi_perform(p->m, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(p->m, &left)))
            if (msg->msg == CURLMSG_DONE) {
                stream *s = NULL;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
                if (s) on_done(p, s, msg->data.result);
            }
        if (p->done >= n) break;
        now = mono_ms();
        if (now - last_tick >= 250) {
            last_tick = now;
            emit(p, PREP_DELIVER_EV_TICK, n, 0);
        }
        int wait = next_wake > now ? (int)(next_wake - now) : 0;
        if (wait > 250) wait = 250;
        if (p->running > 0 || wait > 0) curl_multi_poll(p->m, NULL, 0, wait, NULL);
    }
}

prep_err prep_deliver_curl_acquire(prep_diags *d)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) return PREP_OK;
    prep_diags_add(d, "libcurl", 0, 0, "io", "libcurl cannot be initialised");
    return PREP_ERR_IO;
}

void prep_deliver_curl_release(void) { curl_global_cleanup(); }

prep_err prep_deliver_push(const char *store, uint64_t seq, const prep_deliver_target *targets, size_t n,
                           const prep_deliver_opts *o_in, prep_deliver_result *results, prep_diags *d)
{
    prep_deliver_opts o;
    opts_bounded(o_in, &o);
    char *sd_own = NULL;
    const char *state_dir = o.state_dir;
    if (!state_dir) {
        size_t l = strlen(store) + 16;
        sd_own = malloc(l);
        if (!sd_own) return PREP_ERR_NOMEM;
        snprintf(sd_own, l, "%s/deliver", store);
        state_dir = sd_own;
    }
    prep_err e = PREP_OK;
    if (seq == 0) {
        prep_cut_active a;
        if ((e = prep_cut_active_read(store, &a, d))) {
            prep_diags_add(d, store, 0, 0, "missing-cut", "the store has no active cut to deliver");
            free(sd_own);
            return e;
        }
        seq = a.seq;
    }
    for (size_t i = 0; i < n; i++) {
        char err[300];
        if (prep_deliver_target_check(&targets[i], err, sizeof err)) {
            prep_diags_add(d, "target", (long)i + 1, 0, "target", "%s", err);
            e = PREP_ERR_INVALID;
        }
        memset(&results[i], 0, sizeof results[i]);
        snprintf(results[i].id, sizeof results[i].id, "%s", targets[i].id);
        results[i].seq = seq;
        results[i].status = PREP_DELIVER_FAILED;
    }
    if (e || n == 0) {
        free(sd_own);
        return e;
    }

    prep_deliver_plan *plans = calloc(n, sizeof *plans);
    size_t n_plans = 0;
    push p = {.store = store, .state_dir = state_dir, .o = &o, .n = n};
    p.tg = calloc(n, sizeof *p.tg);
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) seed = mono_ms() ^ (uint64_t)getpid();
    prep_rng_seed(&p.rng, seed);
    if (!plans || !p.tg) {
        e = PREP_ERR_NOMEM;
        goto out;
    }
    if (!o.no_gzip) {
        /* The compressed forms, once for every target (a no-op when made already); without
         * them the files go raw, which costs bytes, not correctness. */
        prep_diags wd;
        prep_diags_init(&wd);
        if (prep_cut_wire_prepare(store, seq, 0, NULL, &wd) != PREP_OK && wd.n)
            prep_log(PREP_LOG_WARN, "deliver: no compressed forms for cut %llu (%s: %s); sending raw",
                     (unsigned long long)seq, wd.v[wd.n - 1].file, wd.v[wd.n - 1].msg);
        prep_diags_free(&wd);
    }
    if ((e = plan_targets(&p, seq, targets, results, plans, &n_plans, d))) goto out;
    if ((e = prep_deliver_curl_acquire(d))) goto out;
    p.m = curl_multi_init();
    if (!p.m) {
        e = PREP_ERR_NOMEM;
        goto cleanup_curl;
    }
    /* Room in the cache for every idle SSH connection of the running targets. */
    curl_multi_setopt(p.m, CURLMOPT_MAXCONNECTS, (long)o.parallel * (long)(o.sftp_streams + 1));
    for (size_t i = 0; i < n; i++) target_handles(&p, i);
    run_all(&p);
    for (size_t i = 0; i < n; i++)
        if (results[i].status == PREP_DELIVER_FAILED) e = PREP_ERR_IO;
    for (size_t i = 0; i < n; i++) {
        tgt *g = &p.tg[i];
        for (unsigned k = 0; k < g->ns; k++) {
            curl_multi_remove_handle(p.m, g->s[k].h);
            curl_easy_cleanup(g->s[k].h);
            curl_slist_free_all(g->s[k].post);
            src_close(&g->s[k]);
        }
    }
    curl_multi_cleanup(p.m);
cleanup_curl:
    prep_deliver_curl_release();
out:
    for (size_t k = 0; k < n_plans; k++) prep_deliver_plan_free(&plans[k]);
    free(plans);
    if (p.tg)
        for (size_t i = 0; i < n; i++) {
            free(p.tg[i].s);
            prep_deliver_sched_free(&p.tg[i].sched);
        }
    free(p.tg);
    free(sd_own);
    return e;
}

/* The institute's pull link server (include/prep/pull.h) on the http part's server core
 * (include/prep/http.h): the same event loops, limits, deadlines, per-address caps and
 * TLS policy as prep serve (docs/internals/serve.md "Network layer"), with this file's
 * handler answering /pull/<token>/... .
 *
 * The handler runs on the event loops: every answer is built from small reads of the
 * store. Store files (manifests, signatures, objects) are mapped read-only and the
 * mapping is the body (objects are immutable, and a mapping stays valid if the file is
 * unlinked meanwhile); the token is asked again on every request so a block takes effect
 * at once. The one thing held in memory is the manifest patches of the last few cuts
 * (cuts/<k>/manifest.patch, computed once per cut for every broadcaster). The token is a
 * secret: the access log names the broadcaster, and writes the path with the token
 * replaced by "*". */
#include "prep/pull.h"
#include "prep/deliver.h"
#include "prep/http.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct prep_pull_server {
    prep_pull_server_opts o;
    char *store;
    prep_http_server *srv;
    _Atomic uint64_t requests, ok, not_modified, forbidden, not_found, bad, bytes;
    /* The manifest patches asked for lately (cut seq against seq - 1), a few cuts' worth
     * so broadcasters at k-1 and at k do not evict each other. */
    pthread_mutex_t patch_mu;
    pthread_cond_t patch_cv;
    struct patch_slot {
        uint64_t seq;    /* 0: empty */
        uint64_t key[8]; /* the two manifests' files (device, inode, mtime, size): a store
                          * replaced under the server (a drill, then the live night) is not
                          * answered from the old store's patch */
        int ready;       /* 0: being computed by one thread (the others wait), 1: done */
        char *data;      /* NULL when ready: no patch worth sending */
        size_t len;
        uint64_t used;   /* for least-recently-used replacement */
    } patch[4];
    uint64_t patch_clock;
    /* The state announced last (estado): a new cut is announced once its compressed forms
     * are made (wire/cuts/<seq>/done), so that broadcasters polling in the seconds after
     * the cut do not all take it raw; held under patch_mu. */
    prep_cut_active announced;
};

/* How long a new cut may wait for its compressed forms before it is announced anyway (the
 * cache failed, or no institute makes it): seconds since the active pointer was written. */
#define WIRE_WAIT_MAX_S 60

/* ---------------------------------------------------------------- answers */
/* What one answer owns (prep_http_response._owned). */
typedef struct pull_owned {
    char *head;              /* the HTTP/1.1 head (malloc) */
    char *data;              /* a body in memory (malloc), or NULL */
    void *map;               /* a store file mapped read-only, or NULL */
    size_t map_len;
    char who[64];            /* the broadcaster's id, for the access log */
    char target[PREP_HTTP_PATH_MAX + 16]; /* the path with the token replaced by "*" */
    char etag[72];           /* "\"<sha256>\"" */
} pull_owned;

static void pull_done(prep_http_response *r)
{
    pull_owned *o = r->_owned;
    if (o) {
        free(o->head);
        free(o->data);
        if (o->map) munmap(o->map, o->map_len);
        free(o);
    }
    r->_owned = NULL;
    r->body = NULL;
    r->h1_head = NULL;
    r->n_fields = 0;
}

static void count(prep_pull_server *s, int status, uint64_t bytes)
{
    atomic_fetch_add(&s->requests, 1);
    atomic_fetch_add(&s->bytes, bytes);
    if (status == 200) atomic_fetch_add(&s->ok, 1);
    else if (status == 304) atomic_fetch_add(&s->not_modified, 1);
    else if (status == 403) atomic_fetch_add(&s->forbidden, 1);
    else if (status == 404) atomic_fetch_add(&s->not_found, 1);
    else atomic_fetch_add(&s->bad, 1);
}

static void add_field(prep_http_response *r, const char *name, const char *value)
{
    if (r->n_fields >= PREP_HTTP_MAX_FIELDS) return;
    r->fields[r->n_fields++] = (prep_http_field){name, strlen(name), value, strlen(value)};
}

/* Fills the fields and the HTTP/1.1 head of r (status, content type, the body already
 * set in r->body/body_len). The link's answers are never cached by anyone between: the
 * client asks again with If-None-Match. */
static void finish(prep_pull_server *s, prep_http_response *r, const prep_http_request *rq, int status,
                   const char *ctype, int with_etag)
{
    pull_owned *o = r->_owned;
    r->status = status;
    r->send_body = rq->method != PREP_HTTP_HEAD && status != 304;
    add_field(r, "content-type", ctype);
    add_field(r, "cache-control", "no-store");
    add_field(r, "x-content-type-options", "nosniff");
    if (with_etag) add_field(r, "etag", o->etag);
    if (status == 405) add_field(r, "allow", "GET, HEAD");
    prep_buf b;
    prep_buf_init(&b, 4096);
    prep_buf_printf(&b, "HTTP/1.1 %d %s\r\n", status, prep_http_reason(status));
    for (size_t i = 0; i < r->n_fields; i++)
        prep_buf_printf(&b, "%s: %s\r\n", r->fields[i].name, r->fields[i].value);
    if (status != 304) prep_buf_printf(&b, "content-length: %llu\r\n", (unsigned long long)r->body_len);
    size_t hl = 0;
    o->head = prep_buf_steal(&b, &hl);
    r->h1_head = o->head ? o->head : "";
    r->h1_head_len = o->head ? hl : 0;
    if (status == 304) r->body_len = 0;
    count(s, status, r->send_body ? r->body_len : 0);
}

static void text(prep_pull_server *s, prep_http_response *r, const prep_http_request *rq, int status,
                 const char *body, int with_etag)
{
    pull_owned *o = r->_owned;
    o->data = strdup(body);
    r->body = (const uint8_t *)(o->data ? o->data : "");
    r->body_len = o->data ? strlen(o->data) : 0;
    r->own_bytes = r->body_len;
    finish(s, r, rq, status, "text/plain; charset=utf-8", with_etag);
}

/* A regular file of the store (no symlink), mapped. 0 done, 1 not found, -1 I/O. */
static int map_file(pull_owned *o, const char *path, int head_only, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = fd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP ? -1 : 1;
        if (fd >= 0) close(fd);
        return e;
    }
    *size = (uint64_t)st.st_size;
    if (!head_only && st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            close(fd);
            return -1;
        }
        o->map = m;
        o->map_len = (size_t)st.st_size;
    }
    close(fd);
    return 0;
}

/* A copy (owned) of the patch that rebuilds cut k's manifest from cut k-1's, or NULL when
 * there is none to send (k-1 or k not in the store, or the patch is not smaller than the
 * manifest: the client then takes the manifest). Each patch is computed once, outside the
 * lock; broadcasters asking for it meanwhile wait for that computation. A request for a
 * cut the store does not have evicts nothing. */
static char *patch_for(prep_pull_server *s, uint64_t k, size_t *len)
{
    if (k < 2 || k > PREP_CUT_SEQ_MAX) return NULL;
    /* Which files cut k-1 and cut k are now: no such cut, no patch (and nothing evicted). */
    uint64_t key[8];
    for (int j = 0; j < 2; j++) {
        char mpath[4096];
        struct stat st;
        snprintf(mpath, sizeof mpath, "%s/cuts/%llu/manifest", s->store, (unsigned long long)(k - 1 + (uint64_t)j));
        if (stat(mpath, &st) != 0) return NULL;
        key[4 * j] = (uint64_t)st.st_dev;
        key[4 * j + 1] = (uint64_t)st.st_ino;
        key[4 * j + 2] = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
        key[4 * j + 3] = (uint64_t)st.st_size;
    }
    char *copy = NULL;
    const size_t n_slots = sizeof s->patch / sizeof s->patch[0];
    pthread_mutex_lock(&s->patch_mu);
    struct patch_slot *slot = NULL;
    for (;;) {
        slot = NULL;
        for (size_t i = 0; i < n_slots; i++)
            if (s->patch[i].seq == k && !memcmp(s->patch[i].key, key, sizeof key)) slot = &s->patch[i];
        if (!slot || slot->ready) break;
        pthread_cond_wait(&s->patch_cv, &s->patch_mu);
    }
    if (!slot) {
        /* the same cut number from files that changed since (ready), else an empty slot,
         * else the least recently used ready one */
        for (size_t i = 0; i < n_slots && !slot; i++)
            if (s->patch[i].seq == k && s->patch[i].ready) slot = &s->patch[i];
        for (size_t i = 0; i < n_slots && !slot; i++)
            if (!s->patch[i].seq) slot = &s->patch[i];
        if (!slot)
            for (size_t i = 0; i < n_slots; i++)
                if (s->patch[i].ready && (!slot || s->patch[i].used < slot->used)) slot = &s->patch[i];
        if (slot) { /* claimed: others asking for this cut wait until it is ready */
            free(slot->data);
            slot->data = NULL;
            slot->len = 0;
            slot->seq = k;
            memcpy(slot->key, key, sizeof key);
            slot->ready = 0;
        } /* else every slot is being computed: this request computes for itself alone */
        pthread_mutex_unlock(&s->patch_mu);
        prep_buf pb;
        int made = prep_deliver_patch(s->store, k, &pb, NULL);
        char *data = NULL;
        size_t dlen = 0;
        if (made == 1) {
            dlen = pb.len;
            data = prep_buf_steal(&pb, NULL);
        }
        prep_buf_free(&pb);
        if (!slot) {
            *len = dlen;
            return data;
        }
        pthread_mutex_lock(&s->patch_mu);
        slot->data = data;
        slot->len = dlen;
        slot->ready = 1;
        if (made < 0) slot->seq = 0; /* asked again next time */
        pthread_cond_broadcast(&s->patch_cv);
        if (made < 0) {
            pthread_mutex_unlock(&s->patch_mu);
            return NULL;
        }
    }
    slot->used = ++s->patch_clock;
    if (slot->data && (copy = malloc(slot->len ? slot->len : 1))) {
        memcpy(copy, slot->data, slot->len);
        *len = slot->len;
    }
    pthread_mutex_unlock(&s->patch_mu);
    return copy;
}

/* 1 when the client takes gzip (its Accept-Encoding, the http part's negotiation). */
static int wants_gzip(const prep_http_request *rq)
{
    prep_http_coding c = PREP_HTTP_IDENTITY;
    if (!rq->accept_encoding.p) return 0;
    return prep_http_negotiate(rq->accept_encoding.p, rq->accept_encoding.len, PREP_HTTP_HAVE_GZIP, 0, &c) == 0 &&
           c == PREP_HTTP_GZIP;
}

/* Answers the compressed form at gz_path (the wire cache: prep_cut_wire_prepare) when the
 * client takes gzip and the file is there: 1 done, 0 not (answer as without it). */
static int answer_gz(prep_pull_server *s, prep_http_response *r, const prep_http_request *rq, const char *gz_path,
                     const char *ctype)
{
    pull_owned *o = r->_owned;
    uint64_t size = 0;
    if (!wants_gzip(rq) || map_file(o, gz_path, rq->method == PREP_HTTP_HEAD, &size) != 0) return 0;
    r->body = o->map ? (const uint8_t *)o->map : (const uint8_t *)"";
    r->body_len = size;
    add_field(r, "content-encoding", "gzip");
    add_field(r, "vary", "accept-encoding");
    finish(s, r, rq, 200, ctype, 0);
    return 1;
}

/* The state to announce for the active cut act: act itself once its compressed forms are
 * made (or without o.wire_wait, or after WIRE_WAIT_MAX_S), else the one announced before
 * it; 0 when there is none yet (the night's first cut: no state). */
static int announce(prep_pull_server *s, prep_cut_active *act)
{
    char p[4200];
    struct stat st, ast;
    snprintf(p, sizeof p, "%s/wire/cuts/%llu/done", s->store, (unsigned long long)act->seq);
    int ready = !s->o.wire_wait || stat(p, &st) == 0;
    if (!ready) {
        snprintf(p, sizeof p, "%s/active", s->store);
        ready = stat(p, &ast) != 0 || time(NULL) - ast.st_mtime >= WIRE_WAIT_MAX_S;
    }
    int any = 1;
    pthread_mutex_lock(&s->patch_mu);
    /* (a lower sequence or another process: a store replaced under the link) */
    if (ready || s->announced.seq > act->seq || (s->announced.seq && strcmp(s->announced.process, act->process)))
        s->announced = *act;
    else if (s->announced.seq)
        *act = s->announced; /* the previous cut until this one's .gz are made */
    else
        any = 0;
    pthread_mutex_unlock(&s->patch_mu);
    return any;
}

static int all_digits(const char *p, size_t n)
{
    if (!n || n > 19) return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return 0;
    return p[0] != '0';
}

static int all_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return 0;
    return 1;
}

static void respond(void *ctx, void *state, const prep_http_request *rq, prep_http_response *r)
{
    (void)state;
    prep_pull_server *s = ctx;
    memset(r, 0, offsetof(prep_http_response, _scratch));
    pull_owned *o = calloc(1, sizeof *o);
    if (!o) { /* no memory: an answer that owns nothing */
        static const char head[] = "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
                                   "cache-control: no-store\r\ncontent-length: 0\r\n";
        r->status = 503;
        add_field(r, "content-type", "text/plain");
        add_field(r, "cache-control", "no-store");
        r->h1_head = head;
        r->h1_head_len = sizeof head - 1;
        r->body = (const uint8_t *)"";
        r->log_target = "-";
        count(s, 503, 0);
        return;
    }
    r->_owned = o;
    r->done = pull_done;
    r->log_target = "-";
    int head_only = rq->method == PREP_HTTP_HEAD;
    if (rq->method == PREP_HTTP_OTHER) {
        text(s, r, rq, 405, "only GET and HEAD\n", 0);
        return;
    }
    char key[PREP_HTTP_PATH_MAX + 1];
    size_t klen = 0;
    if (prep_http_path_normalize(rq->path.p ? rq->path.p : "", rq->path.p ? rq->path.len : 0, key, sizeof key,
                                 &klen) ||
        strncmp(key, "pull/", 5) != 0) {
        text(s, r, rq, 404, "not found\n", 0);
        return;
    }
    /* pull/<token>/<rest> */
    char *tok = key + 5, *slash = strchr(tok, '/');
    if (!slash || slash == tok || slash - tok > 128) {
        text(s, r, rq, 404, "not found\n", 0);
        return;
    }
    *slash = '\0';
    const char *rest = slash + 1;
    snprintf(o->target, sizeof o->target, "/pull/*/%s", rest);
    r->log_target = o->target;
    int a = s->o.authorize ? s->o.authorize(s->o.ctx, tok, o->who) : 0;
    o->who[sizeof o->who - 1] = '\0';
    if (a > 0 && o->who[0]) r->log_user = o->who;
    if (a < 0) {
        text(s, r, rq, 403, "this broadcaster's link is blocked by the institute\n", 0);
        return;
    }
    if (a == 0) {
        text(s, r, rq, 404, "not found\n", 0);
        return;
    }
    if (!strcmp(rest, "estado")) {
        prep_cut_active act;
        prep_diags d;
        prep_diags_init(&d);
        prep_err e = prep_cut_active_read(s->store, &act, &d);
        prep_diags_free(&d);
        if (e) {
            text(s, r, rq, 503, "prep-pull 1\nseq 0\n", 0);
            return;
        }
        if (!announce(s, &act)) {
            text(s, r, rq, 503, "prep-pull 1\nseq 0\n", 0);
            return;
        }
        snprintf(o->etag, sizeof o->etag, "\"%s\"", act.manifest_sha256);
        if (rq->if_none_match.p &&
            prep_http_if_none_match(rq->if_none_match.p, rq->if_none_match.len, o->etag, strlen(o->etag))) {
            r->body = (const uint8_t *)"";
            finish(s, r, rq, 304, "text/plain; charset=utf-8", 1);
            return;
        }
        char body[256];
        snprintf(body, sizeof body, "prep-pull 1\nseq %llu\nmanifest %s\n", (unsigned long long)act.seq,
                 act.manifest_sha256);
        text(s, r, rq, 200, body, 1);
        return;
    }
    if (!strncmp(rest, "cuts/", 5)) {
        const char *sq = rest + 5, *sl = strchr(sq, '/');
        if (sl && !strcmp(sl + 1, "manifest.patch") && all_digits(sq, (size_t)(sl - sq)) && sl - sq <= 12) {
            char gz[4200];
            if (!prep_cut_wire_patch_path(s->store, strtoull(sq, NULL, 10), gz, sizeof gz) &&
                answer_gz(s, r, rq, gz, "text/plain; charset=utf-8"))
                return;
            size_t plen = 0;
            char *patch = patch_for(s, strtoull(sq, NULL, 10), &plen);
            if (!patch) {
                text(s, r, rq, 404, "no patch: fetch the manifest\n", 0);
                return;
            }
            o->data = patch;
            r->body = (const uint8_t *)patch;
            r->body_len = plen;
            r->own_bytes = plen; /* this answer's copy of the patch */
            finish(s, r, rq, 200, "text/plain; charset=utf-8", 0);
            return;
        }
    }
    char path[PREP_HTTP_PATH_MAX + 4096];
    const char *ctype = "application/octet-stream";
    path[0] = '\0';
    if (!strncmp(rest, "cuts/", 5)) {
        const char *sq = rest + 5, *sl = strchr(sq, '/');
        if (sl && all_digits(sq, (size_t)(sl - sq)) && (!strcmp(sl + 1, "manifest") || !strcmp(sl + 1, "manifest.sig"))) {
            snprintf(path, sizeof path, "%s/cuts/%.*s/%s", s->store, (int)(sl - sq), sq, sl + 1);
            ctype = "text/plain; charset=utf-8";
        }
    } else if (!strncmp(rest, "objects/", 8)) {
        const char *h = rest + 8;
        if (strlen(h) == 65 && h[2] == '/' && all_hex(h, 2) && all_hex(h + 3, 62)) {
            char sha[65];
            memcpy(sha, h, 2);
            memcpy(sha + 2, h + 3, 62);
            sha[64] = '\0';
            char gz[PREP_HTTP_PATH_MAX + 4096];
            if (!prep_cut_wire_object_path(s->store, sha, gz, sizeof gz) && answer_gz(s, r, rq, gz, ctype)) return;
            prep_cut_object_path(s->store, sha, path, sizeof path);
        }
    }
    if (!path[0]) {
        text(s, r, rq, 404, "not found\n", 0);
        return;
    }
    uint64_t size = 0;
    int m = map_file(o, path, head_only, &size);
    if (m == 1) {
        text(s, r, rq, 404, "not found\n", 0);
        return;
    }
    if (m < 0) {
        /* named for the institute's operator on stderr; the broadcaster retries */
        fprintf(stderr, "prep pull link: cannot read %s: %s\n", path, strerror(errno));
        text(s, r, rq, 503, "the institute cannot read this file now: retry\n", 0);
        return;
    }
    r->body = o->map ? (const uint8_t *)o->map : (const uint8_t *)"";
    r->body_len = size;
    finish(s, r, rq, 200, ctype, 0);
}

/* ---------------------------------------------------------------- lifecycle */
prep_err prep_pull_server_start(const prep_pull_server_opts *o, prep_pull_server **out, prep_diags *d)
{
    *out = NULL;
    if (!o->listen) {
        prep_diags_add(d, "(listen)", 0, 0, "pull-server", "no listen address (ADDR:PORT)");
        return PREP_ERR_USAGE;
    }
    if (!o->store) {
        prep_diags_add(d, "(store)", 0, 0, "pull-server", "no store");
        return PREP_ERR_USAGE;
    }
    if (!o->tls_cert != !o->tls_key) {
        prep_diags_add(d, o->tls_cert ? o->tls_cert : o->tls_key, 0, 0, "pull-server",
                       "both --tls-cert and --tls-key are needed");
        return PREP_ERR_USAGE;
    }
    prep_pull_server *s = calloc(1, sizeof *s);
    if (!s) return PREP_ERR_NOMEM;
    s->o = *o;
    s->store = strdup(o->store);
    if (!s->store) {
        free(s);
        return PREP_ERR_NOMEM;
    }
    pthread_mutex_init(&s->patch_mu, NULL);
    pthread_cond_init(&s->patch_cv, NULL);
    prep_http_server_config hc;
    prep_http_server_config_init(&hc);
    hc.name = "prep pull link";
    if (o->tls_cert) {
        hc.tls_listen = o->listen;
        hc.tls_cert = o->tls_cert;
        hc.tls_key = o->tls_key;
    } else {
        hc.listen = o->listen;
    }
    hc.threads = o->threads > 0 ? o->threads : 2;
    hc.allow_root = 1; /* inside the institute's daemon, which decides its own user */
    hc.max_conns = o->max_conns > 0 ? o->max_conns : 4096;
    hc.max_conns_per_ip = o->max_conns_per_addr > 0 ? o->max_conns_per_addr : 16;
    hc.idle_timeout_ms = (o->timeout_s > 0 ? o->timeout_s : 30) * 1000;
    hc.header_timeout_ms = (o->head_timeout_s > 0 ? o->head_timeout_s : 10) * 1000;
    hc.redact_targets = 1;
    if (o->log) {
        fflush(o->log);
        hc.access_log_fd = fileno(o->log);
    }
    hc.metrics_prefix = "prep_pull";
    hc.handler = (prep_http_handler){.ctx = s, .respond = respond};
    prep_err e = prep_http_server_open(&hc, &s->srv, d);
    if (!e) e = prep_http_server_start(s->srv, NULL, d);
    if (e) {
        prep_pull_server_stop(s);
        return e;
    }
    *out = s;
    return PREP_OK;
}

int prep_pull_server_port(const prep_pull_server *s)
{
    if (!s) return 0;
    int p = prep_http_server_port(s->srv, 1);
    return p ? p : prep_http_server_port(s->srv, 0);
}

void prep_pull_server_stop(prep_pull_server *s)
{
    if (!s) return;
    prep_http_server_close(s->srv);
    pthread_mutex_destroy(&s->patch_mu);
    pthread_cond_destroy(&s->patch_cv);
    for (size_t i = 0; i < sizeof s->patch / sizeof s->patch[0]; i++) free(s->patch[i].data);
    free(s->store);
    free(s);
}

void prep_pull_server_get_stats(prep_pull_server *s, prep_pull_server_stats *out)
{
    out->requests = atomic_load(&s->requests);
    out->ok = atomic_load(&s->ok);
    out->not_modified = atomic_load(&s->not_modified);
    out->forbidden = atomic_load(&s->forbidden);
    out->not_found = atomic_load(&s->not_found);
    out->bad = atomic_load(&s->bad);
    out->bytes = atomic_load(&s->bytes);
}

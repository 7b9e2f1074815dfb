/* The institute's pull link server (include/prep/pull.h).
 *
 * Deliberately plain: one accept thread and one thread per connection (bounded by
 * max_conns), blocking sockets with SO_RCVTIMEO/SO_SNDTIMEO, OpenSSL for TLS, and the
 * project's own HTTP/1.1 head parser (prep_http_parse_request). The clients are a few
 * hundred broadcasters polling every few seconds, not the public: simplicity and
 * predictability win over the public server's event loop. Files are streamed from the
 * store (never held in memory), the token is asked again on every request so a block
 * takes effect at once. The one thing held in memory is the manifest patches of the last
 * few cuts (cuts/<k>/manifest.patch, computed once per cut for every broadcaster). */
#include "prep/pull.h"
#include "prep/deliver.h"
#include "prep/serve.h"
#include "prep/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct prep_pull_server {
    prep_pull_server_opts o;
    char *store;
    SSL_CTX *ctx;
    int lfd;
    int port;
    pthread_t acceptor;
    atomic_int stopping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int conns;        /* live connection threads */
    int *fds;         /* their sockets, for shutdown at stop (max_conns slots, -1 free) */
    uint8_t (*addr)[17]; /* per slot: the peer's address group (prep_addr_group) */
    int64_t *deadline;   /* per slot: monotonic ms by which the awaited head must be in; 0 none */
    pthread_t reaper;    /* cuts connections past their deadline (a trickled head, a slow handshake) */
    _Atomic uint64_t refused_addr, cut_deadline;
    _Atomic uint64_t requests, ok, not_modified, forbidden, not_found, bad, bytes;
    pthread_mutex_t log_mu;
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
};

typedef struct conn {
    prep_pull_server *s;
    int fd;
    int slot;
    SSL *ssl;
    char peer[64];
} conn;

/* ---------------------------------------------------------------- transport */
static int io_write(conn *c, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w;
        if (c->ssl) {
            int r = SSL_write(c->ssl, b, n > (1u << 30) ? (1 << 30) : (int)n);
            if (r <= 0) return -1;
            w = r;
        } else {
            w = send(c->fd, b, n, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t io_read(conn *c, void *p, size_t n)
{
    if (c->ssl) {
        int r = SSL_read(c->ssl, p, n > (1u << 30) ? (1 << 30) : (int)n);
        return r > 0 ? r : -1;
    }
    for (;;) {
        ssize_t r = recv(c->fd, p, n, 0);
        if (r < 0 && errno == EINTR) continue;
        return r > 0 ? r : -1;
    }
}

/* ---------------------------------------------------------------- responses */
static void log_line(conn *c, const prep_http_req *rq, int status, uint64_t bytes, const char *who)
{
    prep_pull_server *s = c->s;
    if (!s->o.log) return;
    char when[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    pthread_mutex_lock(&s->log_mu);
    /* the token is a secret: the log names the broadcaster, never the path's token */
    fprintf(s->o.log, "%s %s %s %.*s %d %llu\n", when, c->peer, who[0] ? who : "-",
            rq ? (int)rq->method_name.len : 1, rq ? rq->method_name.p : "-", status, (unsigned long long)bytes);
    fflush(s->o.log);
    pthread_mutex_unlock(&s->log_mu);
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

static int send_head(conn *c, int status, const char *ctype, uint64_t len, const char *etag, int keep)
{
    char h[512];
    int n = snprintf(h, sizeof h,
                     "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %llu\r\ncache-control: no-store\r\n"
                     "x-content-type-options: nosniff\r\n%s%s%s%s\r\n",
                     status, prep_http_reason(status), ctype, (unsigned long long)len, etag ? "etag: \"" : "",
                     etag ? etag : "", etag ? "\"\r\n" : "", keep ? "" : "connection: close\r\n");
    return io_write(c, h, (size_t)n);
}

static int send_text(conn *c, int status, const char *body, int head_only, int keep, const char *etag)
{
    size_t n = strlen(body);
    if (send_head(c, status, "text/plain; charset=utf-8", n, etag, keep)) return -1;
    return head_only ? 0 : io_write(c, body, n);
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

/* Streams a regular file of the store (no symlink). 0 sent, 1 not found, -1 I/O. */
static int send_file(conn *c, const char *path, const char *ctype, int head_only, int keep, uint64_t *sent)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        return 1;
    }
    if (send_head(c, 200, ctype, (uint64_t)st.st_size, NULL, keep)) {
        close(fd);
        return -1;
    }
    if (head_only) {
        close(fd);
        return 0;
    }
    char buf[65536];
    uint64_t left = (uint64_t)st.st_size;
    while (left) {
        ssize_t r = read(fd, buf, left < sizeof buf ? left : sizeof buf);
        if (r <= 0 || io_write(c, buf, (size_t)r)) {
            close(fd);
            return -1;
        }
        left -= (uint64_t)r;
        *sent += (uint64_t)r;
    }
    close(fd);
    return 0;
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

/* Answers one request; returns 0 to keep the connection, -1 to close it. */
static int handle(conn *c, const prep_http_req *rq)
{
    prep_pull_server *s = c->s;
    int keep = rq->keep_alive;
    int head_only = rq->method == PREP_HTTP_HEAD;
    uint64_t sent = 0;
    char who[64] = "";
    int status;
    if (rq->method == PREP_HTTP_OTHER) {
        status = 405;
        keep = 0;
        send_text(c, status, "only GET and HEAD\n", 0, keep, NULL);
        goto out;
    }
    char key[PREP_HTTP_PATH_MAX + 1];
    size_t klen = 0;
    if (prep_http_path_normalize(rq->path.p, rq->path.len, key, sizeof key, &klen) ||
        strncmp(key, "pull/", 5) != 0) {
        status = 404;
        send_text(c, status, "not found\n", head_only, keep, NULL);
        goto out;
    }
    /* pull/<token>/<rest> */
    char *tok = key + 5, *slash = strchr(tok, '/');
    if (!slash || slash == tok || slash - tok > 128) {
        status = 404;
        send_text(c, status, "not found\n", head_only, keep, NULL);
        goto out;
    }
    *slash = '\0';
    const char *rest = slash + 1;
    int a = s->o.authorize ? s->o.authorize(s->o.ctx, tok, who) : 0;
    if (a < 0) {
        status = 403;
        send_text(c, status, "this broadcaster's link is blocked by the institute\n", head_only, keep, NULL);
        goto out;
    }
    if (a == 0) {
        status = 404;
        send_text(c, status, "not found\n", head_only, keep, NULL);
        goto out;
    }
    if (!strcmp(rest, "estado")) {
        prep_cut_active act;
        prep_diags d;
        prep_diags_init(&d);
        prep_err e = prep_cut_active_read(s->store, &act, &d);
        prep_diags_free(&d);
        if (e) {
            status = 503;
            send_text(c, status, "prep-pull 1\nseq 0\n", head_only, keep, NULL);
            goto out;
        }
        if (rq->if_none_match.p) {
            char tag[70];
            int tl = snprintf(tag, sizeof tag, "\"%s\"", act.manifest_sha256);
            if (prep_http_if_none_match(rq->if_none_match.p, rq->if_none_match.len, tag, (size_t)tl)) {
                status = 304;
                char h[256];
                int n = snprintf(h, sizeof h, "HTTP/1.1 304 Not Modified\r\netag: %s\r\ncache-control: no-store\r\n%s\r\n",
                                 tag, keep ? "" : "connection: close\r\n");
                if (io_write(c, h, (size_t)n)) keep = 0;
                goto out;
            }
        }
        char body[256];
        snprintf(body, sizeof body, "prep-pull 1\nseq %llu\nmanifest %s\n", (unsigned long long)act.seq,
                 act.manifest_sha256);
        status = 200;
        if (send_text(c, status, body, head_only, keep, act.manifest_sha256)) keep = 0;
        sent = strlen(body);
        goto out;
    }
    if (!strncmp(rest, "cuts/", 5)) {
        const char *sq = rest + 5, *sl = strchr(sq, '/');
        if (sl && !strcmp(sl + 1, "manifest.patch") && all_digits(sq, (size_t)(sl - sq)) && sl - sq <= 12) {
            size_t plen = 0;
            char *patch = patch_for(s, strtoull(sq, NULL, 10), &plen);
            if (!patch) {
                status = 404;
                send_text(c, status, "no patch: fetch the manifest\n", head_only, keep, NULL);
                goto out;
            }
            status = 200;
            if (send_head(c, status, "text/plain; charset=utf-8", plen, NULL, keep) ||
                (!head_only && io_write(c, patch, plen)))
                keep = 0;
            else if (!head_only)
                sent = plen;
            free(patch);
            goto out;
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
            prep_cut_object_path(s->store, sha, path, sizeof path);
        }
    }
    if (!path[0]) {
        status = 404;
        send_text(c, status, "not found\n", head_only, keep, NULL);
        goto out;
    }
    int r = send_file(c, path, ctype, head_only, keep, &sent);
    if (r == 1) {
        status = 404;
        send_text(c, status, "not found\n", head_only, keep, NULL);
    } else {
        status = 200;
        if (r < 0) keep = 0;
    }
out:
    count(s, status, sent);
    log_line(c, rq, status, sent, who);
    return keep ? 0 : -1;
}

/* ---------------------------------------------------------------- connections */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* While a handshake or a request head is awaited the connection has a deadline, kept by
 * the reaper thread, so bytes trickled one at a time cannot hold a thread (issue 13: 256
 * connections sending a byte every 10 s held every slot); none while a request is answered. */
static void set_deadline(prep_pull_server *s, int slot, int on)
{
    pthread_mutex_lock(&s->mu);
    s->deadline[slot] = on ? mono_ms() + (int64_t)s->o.head_timeout_s * 1000 : 0;
    pthread_mutex_unlock(&s->mu);
}

static void *reaper_main(void *arg)
{
    prep_pull_server *s = arg;
    while (!atomic_load(&s->stopping)) {
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
        int64_t now = mono_ms();
        pthread_mutex_lock(&s->mu);
        for (int i = 0; i < s->o.max_conns; i++)
            if (s->fds[i] >= 0 && s->deadline[i] && now > s->deadline[i]) {
                shutdown(s->fds[i], SHUT_RDWR); /* its thread's read returns; it closes */
                s->deadline[i] = 0;
                atomic_fetch_add(&s->cut_deadline, 1);
            }
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

static void *conn_main(void *arg)
{
    conn *c = arg;
    prep_pull_server *s = c->s;
    char *buf = malloc(PREP_HTTP_MAX_HEAD);
    size_t have = 0;
    if (!buf) goto done;
    set_deadline(s, c->slot, 1); /* the handshake and the first head */
    if (s->ctx) {
        c->ssl = SSL_new(s->ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_accept(c->ssl) != 1) goto done;
    }
    while (!atomic_load(&s->stopping)) {
        prep_http_req rq;
        prep_http_parse_result pr = prep_http_parse_request(buf, have, &rq);
        if (pr == PREP_HTTP_NEED_MORE) {
            if (have == PREP_HTTP_MAX_HEAD) break;
            ssize_t r = io_read(c, buf + have, PREP_HTTP_MAX_HEAD - have);
            if (r <= 0) break;
            have += (size_t)r;
            continue;
        }
        set_deadline(s, c->slot, 0); /* answering: no head deadline (writes have SO_SNDTIMEO) */
        if (pr == PREP_HTTP_ERROR) {
            send_text(c, rq.status, "bad request\n", 0, 0, NULL);
            count(s, rq.status, 0);
            log_line(c, NULL, rq.status, 0, "");
            break;
        }
        int keep = handle(c, &rq) == 0;
        memmove(buf, buf + rq.head_len, have - rq.head_len);
        have -= rq.head_len;
        if (!keep) break;
        set_deadline(s, c->slot, 1); /* the next head */
    }
done:
    free(buf);
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    pthread_mutex_lock(&s->mu);
    s->fds[c->slot] = -1;
    close(c->fd);
    s->conns--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    free(c);
    return NULL;
}

static void *accept_main(void *arg)
{
    prep_pull_server *s = arg;
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(s->lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
        if (atomic_load(&s->stopping)) {
            if (fd >= 0) close(fd);
            break;
        }
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
                if (errno == EMFILE || errno == ENFILE) usleep(10000);
                continue;
            }
            break;
        }
        struct timeval tv = {.tv_sec = s->o.timeout_s};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        uint8_t grp[17];
        prep_addr_group(&sa, grp);
        pthread_mutex_lock(&s->mu);
        int slot = -1, same = 0;
        for (int i = 0; i < s->o.max_conns; i++) {
            if (s->fds[i] < 0) {
                if (slot < 0 && s->conns < s->o.max_conns) slot = i;
            } else if (!memcmp(s->addr[i], grp, 17)) {
                same++;
            }
        }
        int over_addr = same >= s->o.max_conns_per_addr;
        if (slot < 0 || over_addr) {
            pthread_mutex_unlock(&s->mu);
            /* a clear refusal: a plain connection is told why; over TLS nothing can be said
             * before a handshake, which is what is being refused: closed, and logged */
            const char *why = over_addr ? "too many connections from this address\n" : "the link is full\n";
            char busy[256];
            int bl = snprintf(busy, sizeof busy,
                              "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
                              "content-length: %zu\r\nretry-after: 5\r\nconnection: close\r\n\r\n%s",
                              strlen(why), why);
            if (!s->ctx) (void)!send(fd, busy, (size_t)bl, MSG_NOSIGNAL);
            close(fd);
            atomic_fetch_add(&s->requests, 1);
            atomic_fetch_add(&s->bad, 1);
            if (over_addr && atomic_fetch_add(&s->refused_addr, 1) % 1000 == 0 && s->o.log) {
                char pa[64] = "?";
                if (sa.ss_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, pa, sizeof pa);
                else if (sa.ss_family == AF_INET6)
                    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, pa, sizeof pa);
                pthread_mutex_lock(&s->log_mu);
                fprintf(s->o.log, "pull: refused %s: over %d connections from its address (every 1000th refusal logged)\n",
                        pa, s->o.max_conns_per_addr);
                fflush(s->o.log);
                pthread_mutex_unlock(&s->log_mu);
            }
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        if (!c) {
            pthread_mutex_unlock(&s->mu);
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        c->slot = slot;
        if (sa.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, c->peer, sizeof c->peer);
        else if (sa.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, c->peer, sizeof c->peer);
        s->fds[slot] = fd;
        memcpy(s->addr[slot], grp, 17);
        s->deadline[slot] = mono_ms() + (int64_t)s->o.head_timeout_s * 1000;
        s->conns++;
        pthread_mutex_unlock(&s->mu);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 256 * 1024);
        if (pthread_create(&t, &at, conn_main, c) != 0) {
            pthread_mutex_lock(&s->mu);
            s->fds[slot] = -1;
            s->conns--;
            pthread_mutex_unlock(&s->mu);
            close(fd);
            free(c);
        }
        pthread_attr_destroy(&at);
    }
    return NULL;
}

/* ---------------------------------------------------------------- lifecycle */
static prep_err fail(prep_diags *d, const char *what, const char *why, prep_err e)
{
    prep_diags_add(d, what, 0, 0, "pull-server", "%s", why);
    return e;
}

prep_err prep_pull_server_start(const prep_pull_server_opts *o, prep_pull_server **out, prep_diags *d)
{
    *out = NULL;
    struct sockaddr_storage sa;
    socklen_t salen;
    if (!o->listen) return fail(d, "(listen)", "no listen address (ADDR:PORT)", PREP_ERR_USAGE);
    prep_err pe = prep_serve_parse_addr(o->listen, &sa, &salen, d);
    if (pe) return pe;
    if (!o->store) return fail(d, "(store)", "no store", PREP_ERR_USAGE);
    prep_pull_server *s = calloc(1, sizeof *s);
    if (!s) return PREP_ERR_NOMEM;
    s->o = *o;
    if (s->o.max_conns <= 0) s->o.max_conns = 4096;
    if (s->o.timeout_s <= 0) s->o.timeout_s = 30;
    if (s->o.head_timeout_s <= 0) s->o.head_timeout_s = 10;
    if (s->o.max_conns_per_addr <= 0) s->o.max_conns_per_addr = 16;
    s->lfd = -1;
    s->store = strdup(o->store);
    s->fds = malloc((size_t)s->o.max_conns * sizeof *s->fds);
    s->addr = calloc((size_t)s->o.max_conns, sizeof *s->addr);
    s->deadline = calloc((size_t)s->o.max_conns, sizeof *s->deadline);
    if (!s->store || !s->fds || !s->addr || !s->deadline) {
        free(s->store);
        free(s->fds);
        free(s->addr);
        free(s->deadline);
        free(s);
        return PREP_ERR_NOMEM;
    }
    for (int i = 0; i < s->o.max_conns; i++) s->fds[i] = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->log_mu, NULL);
    pthread_mutex_init(&s->patch_mu, NULL);
    pthread_cond_init(&s->patch_cv, NULL);
    pthread_cond_init(&s->cv, NULL);
    prep_err e = PREP_OK;
    if (o->tls_cert || o->tls_key) {
        s->ctx = SSL_CTX_new(TLS_server_method());
        /* prep's one TLS policy (include/prep/tls.h), the same as prep serve's. */
        if (!s->ctx || !o->tls_cert || !o->tls_key || prep_tls_server_policy(s->ctx, NULL) != PREP_OK ||
            SSL_CTX_use_certificate_chain_file(s->ctx, o->tls_cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(s->ctx, o->tls_key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(s->ctx) != 1) {
            char eb[256] = "both --tls-cert and --tls-key are needed";
            unsigned long ec = ERR_get_error();
            if (ec) ERR_error_string_n(ec, eb, sizeof eb);
            e = fail(d, o->tls_cert ? o->tls_cert : "(tls)", eb, PREP_ERR_INVALID);
            goto bad;
        }
    }
    s->lfd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s->lfd < 0 || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(s->lfd, (struct sockaddr *)&sa, salen) || listen(s->lfd, 128)) {
        e = fail(d, o->listen, strerror(errno), PREP_ERR_IO);
        goto bad;
    }
    socklen_t sl = sizeof sa;
    getsockname(s->lfd, (struct sockaddr *)&sa, &sl);
    s->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                             : ((struct sockaddr_in *)&sa)->sin_port);
    if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
        e = fail(d, o->listen, "cannot start the reaper thread", PREP_ERR_IO);
        goto bad;
    }
    if (pthread_create(&s->acceptor, NULL, accept_main, s) != 0) {
        atomic_store(&s->stopping, 1);
        pthread_join(s->reaper, NULL);
        e = fail(d, o->listen, "cannot start the accept thread", PREP_ERR_IO);
        goto bad;
    }
    *out = s;
    return PREP_OK;
bad:
    if (s->lfd >= 0) close(s->lfd);
    SSL_CTX_free(s->ctx);
    free(s->store);
    free(s->fds);
    free(s->addr);
    free(s->deadline);
    free(s);
    return e;
}

int prep_pull_server_port(const prep_pull_server *s) { return s ? s->port : 0; }

void prep_pull_server_stop(prep_pull_server *s)
{
    if (!s) return;
    atomic_store(&s->stopping, 1);
    shutdown(s->lfd, SHUT_RDWR);
    pthread_join(s->acceptor, NULL);
    pthread_join(s->reaper, NULL);
    close(s->lfd);
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->o.max_conns; i++)
        if (s->fds[i] >= 0) shutdown(s->fds[i], SHUT_RDWR);
    while (s->conns > 0) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    SSL_CTX_free(s->ctx);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->log_mu);
    pthread_mutex_destroy(&s->patch_mu);
    pthread_cond_destroy(&s->patch_cv);
    pthread_cond_destroy(&s->cv);
    for (size_t i = 0; i < sizeof s->patch / sizeof s->patch[0]; i++) free(s->patch[i].data);
    free(s->store);
    free(s->fds);
    free(s->addr);
    free(s->deadline);
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

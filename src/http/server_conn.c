/* prep serve: connections: accept, TLS handshake, HTTP/1.1 with keep-alive and
 * pipelining, writes, timeouts (docs/internals/serve.md "Network layer").
 *
 * Level-triggered epoll. A connection listens for EPOLLIN while it has nothing left to
 * write and for EPOLLOUT only while a write is blocked (so a client that pipelines
 * faster than it reads is not read further: its read buffer is bounded at one head).
 * Responses are queued (up to NET_H1_QUEUE pipelined ones) and written together: plain
 * with one sendmsg of head/extra/body iovecs straight from the version's memory; TLS by
 * coalescing into a 64 KiB buffer handed to SSL_write. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>

#include "net_internal.h"

#define LINGER_MS 2000

static void h1_serve(net_conn *c);

/* ---------------------------------------------------------------- accept / close */
/* A reset, not a FIN: the client learns at once that it was refused. */
static void close_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

#define REFUSAL_BODY "503 Service Unavailable: too many connections, retry in a few seconds\n"
#define REFUSAL_BODY_ADDR "503 Service Unavailable: too many connections from this address, retry in a few seconds\n"

/* A connection over a limit (the global cap with nothing to shed, or its address group's
 * --max-conns-per-ip). Plain HTTP gets a 503 with retry-after, written at once (it fits
 * any socket buffer) before the request is read, then the half-close and short drain of
 * any closing connection so the client reads it rather than a reset; it holds no count
 * and at most NET_REFUSING_MAX of them drain per worker. A TLS connection is reset: a
 * handshake only to say 503 would spend on refusals the CPU that readers need, and a
 * reset fails the client at once instead of leaving it waiting. */
static void refuse(net_worker *w, int fd, const struct sockaddr_storage *ss, int tls, int per_addr)
{
    atomic_fetch_add_explicit(per_addr ? &w->st.refused_addr : &w->st.refused_cap, 1, memory_order_relaxed);
    if (tls || w->n_refusing >= NET_REFUSING_MAX) {
        close_reset(fd);
        return;
    }
    char msg[512];
    const char *body = per_addr ? REFUSAL_BODY_ADDR : REFUSAL_BODY;
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
                     "content-length: %zu\r\nretry-after: %d\r\ncache-control: " PREP_POLICY_CC_NO_CACHE
                     "\r\ndate: %s\r\n"
                     "connection: close\r\n\r\n%s",
                     strlen(body), NET_RETRY_AFTER, net_date(w), body);
    net_conn *c = calloc(1, sizeof *c);
    if (!c || send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
        free(c);
        close_reset(fd);
        return;
    }
    c->kind = EV_CONN;
    c->fd = fd;
    c->w = w;
    c->refused = 1;
    c->proto = PROTO_H1;
    c->peer = *ss;
    c->active_ms = w->now_ms;
    shutdown(fd, SHUT_WR);
    c->linger_until = w->now_ms + LINGER_MS;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev)) {
        free(c);
        close(fd);
        return;
    }
    c->events = EPOLLIN;
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    w->n_conns++;
    w->n_refusing++;
}

/* Closes the worker's oldest waiting connection (no complete request yet, else an idle
 * reader) to make room under the global cap. 0 done, -1 none waiting. The worker's
 * event loop handles listener events after the connections' own (server.c), so no
 * event of this turn still points at the freed connection. */
static int shed_oldest(net_worker *w)
{
    net_conn *c = net_conn_shed_victim(w);
    if (!c) return -1;
    atomic_fetch_add_explicit(&w->st.shed, 1, memory_order_relaxed);
    net_conn_close(c);
    return 0;
}

/* Out of descriptors (EMFILE/ENFILE): the listener stays readable and a level-triggered
 * loop would spin on it. Shed a waiting connection and try again; with none, the spare
 * descriptor lets the connection be accepted and refused. 1 try again, 0 stop. */
static int accept_out_of_fds(net_worker *w, net_listener *l)
{
    if (!shed_oldest(w)) return 1;
    if (w->spare_fd < 0) return 0;
    close(w->spare_fd);
    int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        atomic_fetch_add_explicit(&w->st.refused_cap, 1, memory_order_relaxed);
        close_reset(fd);
    }
    w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd >= 0;
}

void net_conn_accept(net_worker *w, net_listener *l)
{
    net_server *s = w->srv;
    int tls = s->lcfg[l->idx].tls;
    for (int k = 0; k < 64; k++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if ((errno == EMFILE || errno == ENFILE) && accept_out_of_fds(w, l)) continue;
            return; /* EAGAIN */
        }
        if (net_ip_acquire(s, &ss)) {
            refuse(w, fd, &ss, tls, 1);
            continue;
        }
        /* The global cap: room is made by closing this worker's oldest waiting connection
         * (silent, trickling or mid-handshake first, else an idle reader), never one
         * being served; with none, another worker that has some is asked to shed one
         * (net_shed_ask); with none anywhere, the new connection is refused. */
        if (atomic_load(&s->conns) >= s->cfg.max_conns && shed_oldest(w) && !net_shed_ask(w)) {
            net_ip_release(s, &ss);
            refuse(w, fd, &ss, tls, 0);
            continue;
        }
        /* No read buffer yet: it is allocated when the first bytes arrive (a connection
         * that never sends costs its net_conn only) and released again after a second
         * of keep-alive idleness (net_conn_timeouts). */
        net_conn *c = calloc(1, sizeof *c);
        if (!c) {
            net_ip_release(s, &ss);
            close(fd);
            continue;
        }
        c->kind = EV_CONN;
        c->fd = fd;
        c->w = w;
        c->lidx = l->idx;
        c->tls = tls;
        c->redirect = s->lcfg[l->idx].redirect;
        c->proto = PROTO_H1;
        c->peer = ss;
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->ip, sizeof c->ip);
        else
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->ip, sizeof c->ip);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->active_ms = w->now_ms;
        /* The head deadline starts at the accept, plain or TLS: the handshake and the
         * first request head must be done within --header-timeout of it (a client that
         * connects and sends nothing, or one byte now and then, is cut then). Later heads
         * on a keep-alive connection start their deadline at their first byte. */
        c->head_start_ms = w->now_ms;
        if (c->tls) {
            c->ssl = SSL_new(s->ssl);
            if (!c->ssl || !SSL_set_fd(c->ssl, fd)) {
                if (c->ssl) SSL_free(c->ssl);
                free(c);
                net_ip_release(s, &ss);
                close(fd);
                continue;
            }
            SSL_set_accept_state(c->ssl);
            SSL_set_app_data(c->ssl, c); /* net_tls_msg counts its KeyUpdates */
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev)) {
            if (c->ssl) SSL_free(c->ssl);
            free(c);
            net_ip_release(s, &ss);
            close(fd);
            continue;
        }
        c->events = EPOLLIN;
        c->next = w->conns;
        if (w->conns) w->conns->prev = c;
        w->conns = c;
        w->n_conns++;
        net_conn_wait(c); /* until its first complete request */
        atomic_fetch_add(&s->conns, 1);
        atomic_fetch_add_explicit(&w->st.conns_total, 1, memory_order_relaxed);
    }
}

static void h1out_done(net_h1out *o)
{
    if (o->has_resp) prep_http_response_done(&o->resp);
    o->has_resp = 0;
    free(o->alloc);
    o->alloc = NULL;
}

/* Leaves the epoll set, then closes. close() alone leaves it only when no other
 * descriptor shares the socket: a child forked by the process that runs the server (a
 * system(), a drill's peer) holds a copy until its exec, and the registration, whose
 * data.ptr is the connection about to be freed, would go on reporting events. */
static void conn_fd_close(net_conn *c)
{
    epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
}

void net_conn_close(net_conn *c)
{
    net_worker *w = c->w;
    net_conn_undefer(c);
    net_conn_unwait(c);
    if (c->refused) { /* a 503 drained: it held no count */
        conn_fd_close(c);
        if (c->prev) c->prev->next = c->next;
        else w->conns = c->next;
        if (c->next) c->next->prev = c->prev;
        PREP_ASSERT(w->n_refusing > 0);
        w->n_conns--;
        w->n_refusing--;
        free(c);
        return;
    }
    if (c->h2) net_h2_free(c);
    while (c->qn) {
        if (c->q[c->qhead].owned) net_mem_give(w->srv, c->q[c->qhead].owned);
        h1out_done(&c->q[c->qhead]);
        c->qhead = (c->qhead + 1) % NET_H1_QUEUE;
        c->qn--;
    }
    if (c->ssl) SSL_free(c->ssl);
    conn_fd_close(c);
    net_ip_release(w->srv, &c->peer);
    PREP_ASSERT(atomic_load(&w->srv->conns) > 0);
    atomic_fetch_sub(&w->srv->conns, 1);
    if (c->prev) c->prev->next = c->next;
    else w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->n_conns--;
    free(c->rbuf);
    free(c->q);
    free(c->wbuf);
    free(c);
}

/* Answered and closing: half-close, then drain what the client still sends for a moment,
 * so that its unread bytes do not turn our close into a reset that destroys the answer. */
static void start_linger(net_conn *c)
{
    if (c->ssl && c->handshaken) {
        ERR_clear_error();
        SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    shutdown(c->fd, SHUT_WR);
    c->linger_until = c->w->now_ms + LINGER_MS;
    net_conn_wait(c); /* answered and closing: tier 0, among the first to go at the cap */
    net_conn_set_events(c, EPOLLIN);
}

static void linger_read(net_conn *c)
{
    char buf[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        c->dead = 1;
        return;
    }
}

void net_conn_progress(net_conn *c, size_t n, int done)
{
    c->progress_bytes += n;
    if (!done && c->progress_bytes < NET_PROGRESS_BYTES) return;
    c->active_ms = c->w->now_ms;
    c->progress_bytes = 0;
    if (c->stalled) net_conn_unwait(c); /* reading again: being served */
}

void net_conn_timeouts(net_worker *w)
{
    const prep_http_server_config *cfg = &w->srv->cfg;
    for (net_conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        int64_t now = w->now_ms;
        if (c->hello_rearm) { /* a ClientHello's first bytes: look again (hello_check) */
            c->hello_rearm = 0;
            net_conn_set_events(c, EPOLLIN);
        }
        if (c->linger_until) {
            if (now >= c->linger_until) net_conn_close(c);
        } else if (c->head_start_ms && now - c->head_start_ms >= cfg->header_timeout_ms) {
            net_conn_close(c); /* slowloris: a head (or handshake) too slow */
        } else if (now - c->active_ms >= cfg->idle_timeout_ms) {
            net_conn_close(c);
        } else if (c->proto == PROTO_H2 &&
                   (net_h2_stalls(c, cfg->idle_timeout_ms, cfg->header_timeout_ms), c->dead)) {
            net_conn_close(c);
        } else if (!c->waiting && now - c->active_ms >= NET_STALL_SHED_MS &&
                   (c->proto == PROTO_H2 ? net_h2_pending(c) : c->qn > 0 || c->woff < c->wlen)) {
            net_conn_wait_stalled(c); /* its answers not taken: shed first at the cap */
        } else if (c->proto == PROTO_H2 && !c->waiting && now - c->active_ms >= 1000 && net_h2_idle(c)) {
            net_conn_wait(c); /* no open stream for a second: idle, may be shed at the cap */
        } else if (c->proto == PROTO_H2 && c->wbuf && c->woff == c->wlen && now - c->active_ms >= 1000) {
            /* Nothing to write for a second (idle, or streams held by a client that does
             * not open its window): the TLS write buffer (64 KiB) goes back; h2_flush
             * allocates it again when nghttp2 has frames to send. */
            free(c->wbuf);
            c->wbuf = NULL;
            c->wlen = c->woff = 0;
            atomic_store_explicit(&w->srv->trim_due, 1, memory_order_relaxed);
        } else if (c->proto == PROTO_H1 && !c->rlen && !c->qn && c->woff == c->wlen && now - c->active_ms >= 1000) {
            /* Idle keep-alive for a second: give back the read buffer, the answer queue
             * and the TLS write buffer (16 + 12 + 64 KiB); the next request allocates
             * them again. */
            if (c->rbuf || c->wbuf) /* and back to the system (the watcher, server.c) */
                atomic_store_explicit(&w->srv->trim_due, 1, memory_order_relaxed);
            free(c->rbuf);
            c->rbuf = NULL;
            free(c->q);
            c->q = NULL;
            c->qhead = 0;
            free(c->wbuf);
            c->wbuf = NULL;
            c->wlen = c->woff = 0;
        }
    }
}

/* ---------------------------------------------------------------- raw I/O */
ssize_t net_conn_read(net_conn *c, void *buf, size_t cap)
{
    if (!c->ssl) {
        for (;;) {
            ssize_t n = read(c->fd, buf, cap);
            if (n > 0) return n;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return 0;
            return -1;
        }
    }
    ERR_clear_error();
    int n = SSL_read(c->ssl, buf, cap > (size_t)INT32_MAX ? INT32_MAX : (int)cap);
    if (c->key_updates > NET_TLS_KEY_UPDATES_MAX) {
        prep_log(PREP_LOG_WARN, "serve: TLS connection from %s cut: more than %d KeyUpdates", c->ip,
                 NET_TLS_KEY_UPDATES_MAX);
        ERR_clear_error();
        return -1;
    }
    if (n > 0) return n;
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ) {
        /* no data in that record (AUTO_RETRY is off): what OpenSSL holds is read after the
         * worker's other connections, without waiting for epoll (the socket may be empty) */
        c->tls_more = SSL_has_pending(c->ssl);
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        c->want_write_on_read = 1;
        return 0;
    }
    ERR_clear_error();
    return -1;
}

int net_conn_flush_wbuf(net_conn *c)
{
    while (c->woff < c->wlen) {
        ERR_clear_error();
        int n = SSL_write(c->ssl, c->wbuf + c->woff, (int)(c->wlen - c->woff));
        if (n > 0) {
            c->woff += (size_t)n;
            /* HTTP/1.1 writes only answers; HTTP/2 also PING and SETTINGS acks, which are
             * no progress: h2.c counts its response bytes itself */
            if (c->proto != PROTO_H2) net_conn_progress(c, (size_t)n, c->woff == c->wlen);
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return 0;
        ERR_clear_error();
        return -1;
    }
    c->woff = c->wlen = 0;
    return 1;
}

/* ---------------------------------------------------------------- HTTP/1.1 output */
static size_t h1out_total(const net_h1out *o)
{
    return o->head_len + o->common_len + o->extra_len + o->body_len;
}

static void q_pop(net_conn *c)
{
    PREP_ASSERT(c->qn > 0 && c->h1_owned >= c->q[c->qhead].owned);
    c->h1_owned -= c->q[c->qhead].owned;
    if (c->q[c->qhead].owned) net_mem_give(c->w->srv, c->q[c->qhead].owned);
    h1out_done(&c->q[c->qhead]);
    c->qhead = (c->qhead + 1) % NET_H1_QUEUE;
    c->qn--;
}

/* The pieces of o from byte `from` on. */
static int h1out_pieces(const net_h1out *o, size_t from, struct iovec *iov)
{
    const void *p[4] = {o->head, o->common, o->extra, o->body};
    size_t l[4] = {o->head_len, o->common_len, o->extra_len, o->body_len};
    int n = 0;
    for (int i = 0; i < 4; i++) {
        if (from >= l[i]) {
            from -= l[i];
            continue;
        }
        iov[n].iov_base = (char *)p[i] + from;
        iov[n].iov_len = l[i] - from;
        from = 0;
        n++;
    }
    return n;
}

/* 1 queue empty, 0 blocked, -1 error. */
static int h1_write(net_conn *c)
{
    if (!c->ssl) {
        while (c->qn) {
            struct iovec iov[4 * NET_H1_QUEUE];
            int n = 0;
            for (size_t k = 0; k < c->qn; k++) {
                const net_h1out *o = &c->q[(c->qhead + k) % NET_H1_QUEUE];
                n += h1out_pieces(o, o->sent, iov + n);
            }
            struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
            ssize_t r = n ? sendmsg(c->fd, &m, MSG_NOSIGNAL) : 0;
            if (r < 0) {
                if (errno == EINTR) continue;
                return errno == EAGAIN ? 0 : -1;
            }
            c->active_ms = c->w->now_ms;
            size_t left = (size_t)r;
            while (c->qn) {
                net_h1out *o = &c->q[c->qhead];
                size_t rest = h1out_total(o) - o->sent, take = left < rest ? left : rest;
                o->sent += take;
                left -= take;
                if (o->sent < h1out_total(o)) break;
                q_pop(c);
            }
        }
        return 1;
    }
    for (;;) {
        if (c->woff < c->wlen) {
            int r = net_conn_flush_wbuf(c);
            if (r <= 0) return r;
        }
        if (!c->qn) return 1;
        if (!c->wbuf && !(c->wbuf = malloc(NET_WBUF))) return -1;
        c->wlen = c->woff = 0;
        while (c->qn && c->wlen < NET_WBUF) {
            net_h1out *o = &c->q[c->qhead];
            struct iovec iov[4];
            int n = h1out_pieces(o, o->sent, iov);
            for (int i = 0; i < n && c->wlen < NET_WBUF; i++) {
                size_t room = NET_WBUF - c->wlen, take = iov[i].iov_len < room ? iov[i].iov_len : room;
                memcpy(c->wbuf + c->wlen, iov[i].iov_base, take);
                c->wlen += take;
                o->sent += take;
            }
            if (o->sent < h1out_total(o)) break;
            q_pop(c);
        }
    }
}

/* ---------------------------------------------------------------- HTTP/1.1 requests */
static prep_http_slice find_field(const prep_http_req *r, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++)
        if (r->headers[i].name.len == nl && !strncasecmp(r->headers[i].name.p, name, nl)) return r->headers[i].value;
    return (prep_http_slice){NULL, 0};
}

static void set_extra(net_conn *c, net_h1out *o, const prep_http_req *r)
{
    const char *date = net_date(c->w);
    const char *conn = c->closing ? "connection: close\r\n"
                       : (r && r->version_minor == 0) ? "connection: keep-alive\r\n"
                                                      : "";
    int n = snprintf(o->extra, sizeof o->extra, "date: %s\r\n%s\r\n", date, conn);
    o->extra_len = (size_t)n < sizeof o->extra ? (size_t)n : sizeof o->extra - 1;
}

static net_h1out *q_new(net_conn *c)
{
    net_h1out *o = &c->q[(c->qhead + c->qn) % NET_H1_QUEUE];
    net_conn_served(c); /* a complete request: served, not shed at the cap */
    o->has_resp = 0;
    o->alloc = NULL;
    o->sent = 0;
    o->owned = 0;
    o->body = NULL;
    o->body_len = 0;
    o->common = NULL;
    o->common_len = 0;
    c->qn++;
    return o;
}

/* Our own response (errors, /health, /metrics, redirects): head and body in one block. */
static void own_response(net_conn *c, net_h1out *o, int status, const char *ctype, const char *cache,
                         const char *extra_fields, const char *body, size_t blen, int send_body)
{
    size_t hl = 0;
    char *head = net_h1_own_head(c, status, ctype, cache, extra_fields, blen, &hl);
    char *all = head ? realloc(head, hl + blen + 1) : NULL;
    if (!all) {
        free(head);
        c->dead = 1;
        o->head = "";
        o->head_len = 0;
        return;
    }
    memcpy(all + hl, body, blen);
    o->alloc = all;
    o->head = all;
    o->head_len = hl;
    o->body = (const uint8_t *)all + hl;
    o->body_len = send_body ? blen : 0;
}

static void log_h1(net_conn *c, const prep_http_req *r, const prep_http_response *resp, int status, uint64_t bytes)
{
    net_count(c->w, status, bytes);
    if (!c->w->logbuf) return;
    prep_http_slice ref = r ? find_field(r, "referer") : (prep_http_slice){0};
    prep_http_slice ua = r ? find_field(r, "user-agent") : (prep_http_slice){0};
    const char *m = r && r->method_name.p ? r->method_name.p : "-";
    size_t ml = r && r->method_name.p ? r->method_name.len : 1;
    const char *t = r && r->target.p ? r->target.p : "";
    size_t tl = r && r->target.p ? r->target.len : 0;
    t = net_log_target(c->w->srv, resp, t, &tl);
    net_access_log(c->w, c->ip, resp ? resp->log_user : NULL, m, ml, t, tl, r && r->version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1", status, bytes,
                   ref.p, ref.len, ua.p, ua.len);
}

static void h1_error(net_conn *c, const prep_http_req *r, int status)
{
    net_h1out *o = q_new(c);
    c->closing = 1;
    char body[96];
    int bl = snprintf(body, sizeof body, "%d %s\n", status, prep_http_reason(status));
    own_response(c, o, status, "text/plain; charset=utf-8", PREP_POLICY_CC_NO_CACHE,
                 status == 405 ? "allow: GET, HEAD\r\n" : NULL, body, (size_t)bl, !(r && r->method == PREP_HTTP_HEAD));
    set_extra(c, o, r);
    log_h1(c, r, NULL, status, o->body_len);
}

static void h1_dispatch(net_conn *c, const prep_http_req *r)
{
    net_server *s = c->w->srv;
    if (!r->keep_alive) c->closing = 1;
    net_h1out *o = q_new(c);
    int send_body = r->method != PREP_HTTP_HEAD;
    int which = r->path.p ? net_is_reserved(s, r->path.p, r->path.len) : 0;
    int status;
    if (which) {
        char *body = NULL;
        status = 200;
        size_t bl = net_reserved_answer(s, which, &body, &status);
        own_response(c, o, status,
                     which == 1 ? "text/plain; charset=utf-8" : "text/plain; version=0.0.4; charset=utf-8",
                     PREP_POLICY_CC_NO_CACHE, NULL, body ? body : "", body ? bl : 0, send_body);
        free(body);
    } else if (c->redirect) {
        char *loc = net_redirect_location(c, r->host, r->path, r->query);
        char *f = NULL;
        if (loc && (f = malloc(strlen(loc) + 16))) sprintf(f, "location: %s\r\n", loc);
        static const char body[] = "301 Moved Permanently\n";
        own_response(c, o, 301, "text/plain; charset=utf-8", PREP_POLICY_CC_NO_CACHE, f ? f : "", body,
                     sizeof body - 1, send_body);
        free(loc);
        free(f);
        status = 301;
    } else {
        prep_http_request sr = {.method = r->method,
                                 .path = r->path,
                                 .query = r->query,
                                 .accept_encoding = r->accept_encoding,
                                 .if_none_match = r->if_none_match,
                                 .range = r->range,
                                 .if_range = r->if_range,
                                 .now = PREP_TIME_NONE};
        net_respond(c->w, &sr, &o->resp);
        o->has_resp = 1;
        /* The server's answer memory (net_mem_take), all connections together: past it
         * the answer is refused. HTTP/1.1 answers in order, so the request cannot wait
         * behind later ones as an HTTP/2 stream does: 503 with retry-after. */
        size_t own = (size_t)o->resp.own_bytes;
        if (own && !net_mem_take(s, own)) {
            prep_http_response_done(&o->resp);
            memset(&o->resp, 0, sizeof o->resp);
            o->has_resp = 0;
            net_mem_refused(c->w);
            static const char busy[] = "503 Service Unavailable\n";
            own_response(c, o, 503, "text/plain; charset=utf-8", PREP_POLICY_CC_NO_CACHE,
                         "retry-after: " NET_STR(NET_RETRY_AFTER) "\r\n", busy, sizeof busy - 1, send_body);
            set_extra(c, o, r);
            log_h1(c, r, NULL, 503, o->body_len);
            return;
        }
        o->head = o->resp.h1_head;
        o->head_len = o->resp.h1_head_len;
        o->common = o->resp.h1_common;
        o->common_len = o->resp.h1_common_len;
        o->body = o->resp.body;
        o->body_len = o->resp.send_body ? (size_t)o->resp.body_len : 0;
        /* What this answer owns (an archive body, an identity page copied from its
         * parts) counts against the connection's budget: h1_process stops taking
         * pipelined requests while the queue owns NET_H1_MEM_BUDGET or more. */
        o->owned = own;
        c->h1_owned += o->owned;
        status = o->resp.status;
    }
    set_extra(c, o, r);
    log_h1(c, r, o->has_resp ? &o->resp : NULL, status, o->body_len);
}

/* Answers every complete request in the read buffer (up to a full queue, or the queue's
 * memory budget). Returns 1 when another pass may find more: it consumed a request and
 * bytes remain, or a limit stopped it with bytes left (once the queue is written, the
 * next pass takes them; without this, requests already read waited for the client to
 * send more when a blocked write had left the queue full). */
static int h1_process(net_conn *c)
{
    size_t off = 0;
    while (c->qn < NET_H1_QUEUE && c->h1_owned < NET_H1_MEM_BUDGET && !c->closing && !c->dead && off < c->rlen) {
        prep_http_req r;
        prep_http_parse_result pr = prep_http_parse_request(c->rbuf + off, c->rlen - off, &r);
        if (pr == PREP_HTTP_NEED_MORE) break;
        if (pr == PREP_HTTP_ERROR) {
            h1_error(c, &r, r.status ? r.status : 400);
            break;
        }
        h1_dispatch(c, &r);
        off += r.head_len;
    }
    if (off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
        c->head_start_ms = c->rlen ? c->w->now_ms : 0;
    }
    int limited = c->qn >= NET_H1_QUEUE || c->h1_owned >= NET_H1_MEM_BUDGET;
    return c->rlen && (off || (limited && !c->closing && !c->dead));
}

static void h1_serve(net_conn *c)
{
    size_t spent = 0; /* bytes read this event: the work budget, as for HTTP/2 */
    for (;;) {
        int more = h1_process(c);
        if (c->dead) return;
        if (c->qn) {
            int r = h1_write(c);
            if (r < 0) {
                c->dead = 1;
                return;
            }
            if (r == 0) {
                net_conn_set_events(c, EPOLLOUT);
                return;
            }
        }
        if (!c->qn && !c->closing) net_conn_wait(c); /* answered: idle (or a next head coming) */
        if (c->closing) {
            start_linger(c);
            return;
        }
        if (more) continue; /* the queue was full: answer the rest before reading */
        /* The last read drained the socket and every request it brought is answered: a
         * client that waits for its answer (no pipelining) cannot have sent more yet, so
         * back to epoll (level-triggered: it reports anything that did arrive) rather
         * than a read that says EAGAIN. One system call fewer per request. */
        if (c->short_read && !c->rlen && (!c->ssl || !SSL_has_pending(c->ssl))) {
            c->short_read = 0;
            net_conn_set_events(c, EPOLLIN);
            return;
        }
        PREP_ASSERT(c->rlen < NET_RBUF); /* the parser refuses a full head (431) */
        if (c->rlen >= NET_RBUF) {
            c->dead = 1;
            return;
        }
        if (spent >= NET_EVENT_BUDGET) { /* a client pipelining without end: others first */
            net_conn_defer(c);
            return;
        }
        if (!c->rbuf && !(c->rbuf = malloc(NET_RBUF))) {
            c->dead = 1;
            return;
        }
        if (!c->q && !(c->q = malloc(NET_H1_QUEUE * sizeof *c->q))) { /* q_new sets up an entry */
            c->dead = 1;
            return;
        }
        c->want_write_on_read = 0;
        ssize_t n = net_conn_read(c, c->rbuf + c->rlen, NET_RBUF - c->rlen);
        if (n < 0) {
            c->dead = 1;
            return;
        }
        if (n == 0) {
            net_conn_set_events(c, c->want_write_on_read ? EPOLLOUT : EPOLLIN);
            if (c->tls_more) net_conn_defer(c);
            return;
        }
        if (!c->rlen && !c->head_start_ms) c->head_start_ms = c->w->now_ms;
        spent += (size_t)n;
        c->short_read = (size_t)n < NET_RBUF - c->rlen;
        c->rlen += (size_t)n;
        c->active_ms = c->w->now_ms;
    }
}

/* ---------------------------------------------------------------- events */
/* Before OpenSSL reads the ClientHello: its first record's 9 bytes (record header and
 * handshake header), peeked. 1 to go on, 0 to wait (fewer than 9 bytes: EPOLLIN off until
 * the next tick, or the level-triggered loop would spin on them), -1 to close (a ClientHello
 * declared longer than NET_CLIENT_HELLO_MAX, or the peer gone). Anything that is not a
 * ClientHello is left to OpenSSL to refuse. */
static int hello_check(net_conn *c)
{
    unsigned char h[9];
    ssize_t n = recv(c->fd, h, sizeof h, MSG_PEEK);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    if (n == 0) return -1;
    if (h[0] != 0x16 || (n >= 6 && h[5] != 0x01)) return c->hello_seen = 1;
    if (n < 9) {
        net_conn_set_events(c, 0);
        c->hello_rearm = 1;
        return 0;
    }
    uint32_t len = (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8];
    if (len > NET_CLIENT_HELLO_MAX) return -1;
    return c->hello_seen = 1;
}

static int handshake(net_conn *c)
{
    if (!c->hello_seen) {
        int h = hello_check(c);
        if (h <= 0) return h;
    }
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->handshaken = 1; /* head_start_ms stays: the first head's deadline began at the accept */
        c->active_ms = c->w->now_ms;
        const unsigned char *p = NULL;
        unsigned int l = 0;
        SSL_get0_alpn_selected(c->ssl, &p, &l);
        if (l == 2 && !memcmp(p, "h2", 2)) {
            c->proto = PROTO_H2;
            if (net_h2_start(c)) return -1;
        }
        return 1;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        net_conn_set_events(c, EPOLLIN);
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        net_conn_set_events(c, EPOLLOUT);
        return 0;
    }
    ERR_clear_error(); /* e.g. a TLS 1.1 client: refused by the protocol floor */
    return -1;
}

void net_conn_event(net_conn *c, unsigned events)
{
    if (c->linger_until) {
        linger_read(c);
    } else if (c->tls && !c->handshaken) {
        int r = handshake(c);
        if (r < 0) c->dead = 1;
        else if (r > 0) {
            if (c->proto == PROTO_H2) net_h2_on_readable(c);
            else h1_serve(c);
        }
    } else if (c->proto == PROTO_H2) {
        if (events & EPOLLOUT) net_h2_on_writable(c);
        if (!c->dead) net_h2_on_readable(c);
    } else {
        if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) c->dead = 1;
        else h1_serve(c);
    }
    if (c->dead) net_conn_close(c);
}

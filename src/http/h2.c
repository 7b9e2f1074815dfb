/* prep serve: HTTP/2 over TLS by libnghttp2 (docs/internals/serve.md "Network layer").
 *
 * One nghttp2 server session per connection. Request fields we use are copied into the
 * stream (at most NET_H2_FIELDS_MAX bytes; the whole field list is bounded by
 * NET_H2_HEADER_LIST_MAX, else 431); the answer is made at END_STREAM by the same site
 * code as HTTP/1.1. Bodies go out with NGHTTP2_DATA_FLAG_NO_COPY: nghttp2 never copies
 * them; send_data_callback puts the 9-byte frame header and the slice of the version's
 * memory into the connection's TLS write buffer, which SSL_write encrypts from. Each
 * stream holds its response (and so its version reference) until nghttp2 closes it, or
 * until the connection goes: nghttp2_session_del frees its streams without calling
 * on_stream_close, so the connection keeps its own list of open streams and frees what
 * is left on it after the session (net_h2_free). */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <nghttp2/nghttp2.h>

#include "net_internal.h"

typedef struct h2_stream h2_stream;

struct net_h2 {
    nghttp2_session *s;
    net_conn *c;
    h2_stream *streams;              /* open streams (doubly linked): freed with the session */
    size_t pinned;                   /* bytes the open streams' answers own (NET_H2_MEM_BUDGET) */
    size_t n_pending;                /* streams with body bytes not yet sent */
    h2_stream *wait_head, *wait_tail; /* requests waiting for the memory budget (FIFO) */
    int64_t tokens;                  /* frame budget (NET_H2_FRAME_*): a frame we must handle costs 1 */
    int64_t tokens_ms;               /* last refill */
    uint32_t scan_left;              /* frames_charge: bytes still to come of the frame (or of
                                      * the client preface) being read */
    uint8_t scan_hd[9], scan_have;   /* a frame header read so far */
    unsigned too_large;              /* requests answered 431 (NET_H2_TOO_LARGE_MAX) */
    const char *abuse;               /* why the connection is being cut, or NULL */
};

/* The frame budget: a token bucket of frames that cost us work and give the client
 * nothing: every frame but HEADERS and CONTINUATION (requests, budgeted as such), whatever
 * its type, flags or stream: PING and its ACK, SETTINGS, WINDOW_UPDATE, PRIORITY,
 * RST_STREAM, DATA (we take no request bodies), GOAWAY, and types nghttp2 ignores
 * (extensions, frames of closed streams). Counted from the bytes before nghttp2 sees them
 * (frames_charge): session 36's probe sent GBs of PING ACKs, WINDOW_UPDATEs of closed
 * streams and unknown types, which nghttp2 drops without a callback, at ~0.9 of a core.
 * NET_H2_FRAME_BURST at the start, NET_H2_FRAME_RATE a second, and credit for what the
 * client legitimately answers: a request, and each DATA frame we send (its WINDOW_UPDATEs,
 * stream and connection). Empty: GOAWAY ENHANCE_YOUR_CALM and close. */
static void tokens_refill(net_conn *c)
{
    net_h2 *h = c->h2;
    int64_t now = c->w->now_ms, dt = now - h->tokens_ms;
    if (dt < 100) return;
    h->tokens_ms = now;
    h->tokens += dt * NET_H2_FRAME_RATE / 1000;
    if (h->tokens > NET_H2_FRAME_BURST) h->tokens = NET_H2_FRAME_BURST;
}

/* Charges the frames that begin in buf[0..n) (the connection's bytes in order, the
 * 24-byte client preface first: scan_left starts there). */
static void frames_charge(net_h2 *h, const uint8_t *buf, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (h->scan_left) {
            size_t k = n - i < h->scan_left ? n - i : h->scan_left;
            h->scan_left -= (uint32_t)k;
            i += k;
            continue;
        }
        h->scan_hd[h->scan_have++] = buf[i++];
        if (h->scan_have < 9) continue;
        h->scan_have = 0;
        h->scan_left = (uint32_t)h->scan_hd[0] << 16 | (uint32_t)h->scan_hd[1] << 8 | h->scan_hd[2];
        uint8_t type = h->scan_hd[3];
        if (type != NGHTTP2_HEADERS && type != NGHTTP2_CONTINUATION && --h->tokens < 0 && !h->abuse)
            h->abuse = "frame flood";
    }
}

static void tokens_credit(net_h2 *h, int64_t n)
{
    h->tokens += n;
    if (h->tokens > NET_H2_FRAME_BURST) h->tokens = NET_H2_FRAME_BURST;
}

struct h2_stream {
    h2_stream *prev, *next;          /* in net_h2.streams */
    int32_t id;
    char *fields;                    /* the kept request fields (keep): grown up to
                                      * NET_H2_FIELDS_MAX, freed once answered */
    size_t flen, fcap, header_bytes;
    int too_large;
    int pending;                     /* counted in net_h2.n_pending */
    int waiting;                     /* on net_h2's wait list */
    h2_stream *wnext;
    size_t pin;                      /* counted in net_h2.pinned and the server's owned */
    int mem_refused;                 /* its answer was refused for the server's answer memory */
    prep_http_slice method, path, query, target, ae, inm, range, if_range, ua, referer;
    prep_http_response resp;
    int has_resp;
    char *own;                       /* our own body */
    const uint8_t *body;
    size_t body_len, body_off;
    int64_t begun_ms;                /* when its HEADERS came */
    int complete;                    /* its request ended (END_STREAM): being answered */
    int64_t moved_ms;                /* when its answer last took NET_PROGRESS_BYTES (or began) */
    size_t moved_off;                /* body_off then */
    char status[8], clen[24], date[40], seq[24]; /* the answer's own fields (nghttp2 refers to them) */
};

static void stream_link(net_h2 *h, h2_stream *st)
{
    st->prev = NULL;
    st->next = h->streams;
    if (h->streams) h->streams->prev = st;
    h->streams = st;
}

/* Unlinks st and frees it with what it holds: its response (the version reference, an
 * archive body) and our own body. */
static void wait_push(net_h2 *h, h2_stream *st, int front)
{
    st->waiting = 1;
    if (front) {
        st->wnext = h->wait_head;
        h->wait_head = st;
        if (!h->wait_tail) h->wait_tail = st;
    } else {
        st->wnext = NULL;
        if (h->wait_tail) h->wait_tail->wnext = st;
        else h->wait_head = st;
        h->wait_tail = st;
    }
}

static void wait_remove(net_h2 *h, h2_stream *st)
{
    h2_stream *prev = NULL;
    for (h2_stream *p = h->wait_head; p; prev = p, p = p->wnext)
        if (p == st) {
            if (prev) prev->wnext = st->wnext;
            else h->wait_head = st->wnext;
            if (h->wait_tail == st) h->wait_tail = prev;
            break;
        }
    st->waiting = 0;
    st->wnext = NULL;
}

static void stream_free(net_h2 *h, h2_stream *st)
{
    if (st->waiting) wait_remove(h, st);
    if (st->prev) st->prev->next = st->next;
    else h->streams = st->next;
    if (st->next) st->next->prev = st->prev;
    PREP_ASSERT(h->pinned >= st->pin);
    h->pinned -= st->pin;
    if (st->pin) net_mem_give(h->c->w->srv, st->pin);
    if (st->pending) h->n_pending--;
    if (st->has_resp) prep_http_response_done(&st->resp);
    free(st->own);
    free(st->fields);
    free(st);
}

/* The request's slices, each into st->fields. */
static void slices(h2_stream *st, prep_http_slice *v[10])
{
    prep_http_slice *const all[10] = {&st->method, &st->path,  &st->query,    &st->target, &st->ae,
                                      &st->inm,    &st->range, &st->if_range, &st->ua,     &st->referer};
    memcpy(v, all, sizeof all);
}

/* A request field's value copied into the stream: the buffer grows as the fields come (a
 * stream held open costs what its request brought, not NET_H2_FIELDS_MAX), the slices
 * already kept moved with it. Past NET_H2_FIELDS_MAX, or without memory: too_large (431). */
static prep_http_slice keep(h2_stream *st, const uint8_t *v, size_t n)
{
    if (st->flen + n > st->fcap) {
        size_t cap = st->fcap ? st->fcap : 256;
        while (cap < st->flen + n) cap *= 2;
        char *nb = st->flen + n <= NET_H2_FIELDS_MAX ? realloc(st->fields, cap) : NULL;
        if (!nb) {
            st->too_large = 1;
            return (prep_http_slice){NULL, 0};
        }
        prep_http_slice *sl[10];
        slices(st, sl);
        for (int i = 0; i < 10; i++)
            if (sl[i]->p) sl[i]->p = nb + (sl[i]->p - st->fields);
        st->fields = nb;
        st->fcap = cap;
    }
    char *p = st->fields + st->flen;
    memcpy(p, v, n);
    st->flen += n;
    return (prep_http_slice){p, n};
}

/* Once answered, the request's fields are not read again: a stream held open by a client
 * that does not read keeps only its answer. */
static void forget_request(h2_stream *st)
{
    prep_http_slice *sl[10];
    slices(st, sl);
    for (int i = 0; i < 10; i++) *sl[i] = (prep_http_slice){NULL, 0};
    free(st->fields);
    st->fields = NULL;
    st->flen = st->fcap = 0;
}

static int name_is(const uint8_t *name, size_t len, const char *s)
{
    size_t l = strlen(s);
    return len == l && !memcmp(name, s, l); /* HTTP/2 field names arrive lowercase */
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    net_conn *c = ud;
    h2_stream *st = calloc(1, sizeof *st);
    if (!st) return NGHTTP2_ERR_CALLBACK_FAILURE;
    st->id = frame->hd.stream_id;
    stream_link(c->h2, st);
    /* A new request is progress only while no answer waits for the client's window:
     * otherwise a request every few seconds would keep stalled answers alive forever. */
    if (!c->h2->n_pending) c->active_ms = c->w->now_ms;
    c->head_start_ms = 0; /* the first request came within the accept's deadline */
    st->begun_ms = c->w->now_ms; /* its request must end within --header-timeout (net_h2_stalls) */
    tokens_credit(c->h2, 1);
    nghttp2_session_set_stream_user_data(session, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)flags;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    h2_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!st) return 0;
    st->header_bytes += namelen + valuelen + 32; /* RFC 9113 §6.5.2's accounting */
    if (st->header_bytes > NET_H2_HEADER_LIST_MAX) st->too_large = 1;
    if (st->header_bytes > (size_t)NET_H2_HEADER_LIST_CUT * NET_H2_HEADER_LIST_MAX) {
        /* Fields far past the size we advertised: HPACK lets a client name one large field
         * of its table again in one byte, so 120 KB of frames can decode to 480 MB that
         * nghttp2 checks field by field before calling us. Stopped here, the rest of the
         * block is never decoded: the connection is cut (h2_cut, ENHANCE_YOUR_CALM). */
        net_conn *c = ud;
        c->h2->abuse = "request fields far past SETTINGS_MAX_HEADER_LIST_SIZE (an HPACK expansion)";
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (st->too_large) return 0;
    if (name_is(name, namelen, ":method")) {
        st->method = keep(st, value, valuelen);
    } else if (name_is(name, namelen, ":path")) {
        st->target = keep(st, value, valuelen);
        const char *q = st->target.p ? memchr(st->target.p, '?', st->target.len) : NULL;
        st->path = st->target;
        if (q) {
            st->path.len = (size_t)(q - st->target.p);
            st->query = (prep_http_slice){q + 1, st->target.len - st->path.len - 1};
        }
    } else if (name_is(name, namelen, "accept-encoding")) {
        st->ae = keep(st, value, valuelen);
    } else if (name_is(name, namelen, "if-none-match")) {
        st->inm = keep(st, value, valuelen);
    } else if (name_is(name, namelen, "range")) {
        st->range = keep(st, value, valuelen);
    } else if (name_is(name, namelen, "if-range")) {
        st->if_range = keep(st, value, valuelen);
    } else if (name_is(name, namelen, "user-agent")) {
        st->ua = keep(st, value, valuelen > 512 ? 512 : valuelen);
    } else if (name_is(name, namelen, "referer")) {
        st->referer = keep(st, value, valuelen > 512 ? 512 : valuelen);
    }
    return 0;
}

static ssize_t data_read(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                         nghttp2_data_source *source, void *ud)
{
    (void)session;
    (void)id;
    (void)buf;
    (void)ud;
    h2_stream *st = source->ptr;
    size_t rest = st->body_len - st->body_off, n = rest < length ? rest : length;
    *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (n == rest) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int send_data(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd, size_t length,
                     nghttp2_data_source *source, void *ud)
{
    (void)session;
    net_conn *c = ud;
    h2_stream *st = source->ptr;
    size_t pad = frame->data.padlen;
    if (NET_WBUF - c->wlen < 9 + length + pad) return NGHTTP2_ERR_WOULDBLOCK;
    memcpy(c->wbuf + c->wlen, framehd, 9);
    c->wlen += 9;
    if (pad) c->wbuf[c->wlen++] = (uint8_t)(pad - 1);
    memcpy(c->wbuf + c->wlen, st->body + st->body_off, length);
    c->wlen += length;
    st->body_off += length;
    /* response bytes: the only progress of a busy connection, counted in NET_PROGRESS_BYTES
     * (a byte at a time is none); per stream too (net_h2_stalls) */
    net_conn_progress(c, length, st->body_off == st->body_len);
    if (st->body_off - st->moved_off >= NET_PROGRESS_BYTES) {
        st->moved_ms = c->w->now_ms;
        st->moved_off = st->body_off;
    }
    tokens_credit(c->h2, 2); /* the stream's and the connection's WINDOW_UPDATE */
    if (st->body_off == st->body_len && st->pending) {
        st->pending = 0;
        c->h2->n_pending--;
    }
    if (pad > 1) {
        memset(c->wbuf + c->wlen, 0, pad - 1);
        c->wlen += pad - 1;
    }
    return 0;
}

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t length, int flags, void *ud)
{
    (void)session;
    (void)flags;
    net_conn *c = ud;
    size_t room = NET_WBUF - c->wlen;
    if (!room) return NGHTTP2_ERR_WOULDBLOCK;
    size_t n = length < room ? length : room;
    memcpy(c->wbuf + c->wlen, data, n);
    c->wlen += n;
    return (ssize_t)n;
}

#define NV(nm, val) \
    ((nghttp2_nv){(uint8_t *)(nm), (uint8_t *)(val), strlen(nm), strlen(val), \
                  NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE})

/* Answers st; 0 when its answer would take the connection over its memory budget: the
 * answer is dropped and st must wait (the caller puts it on the wait list). */
static int respond(net_conn *c, h2_stream *st)
{
    net_worker *w = c->w;
    net_server *s = w->srv;
    prep_http_method m = PREP_HTTP_OTHER;
    if (st->method.p && st->method.len == 3 && !memcmp(st->method.p, "GET", 3)) m = PREP_HTTP_GET;
    else if (st->method.p && st->method.len == 4 && !memcmp(st->method.p, "HEAD", 4)) m = PREP_HTTP_HEAD;
    int status;
    nghttp2_nv nva[PREP_HTTP_MAX_FIELDS + 16]; /* nghttp2 copies the array (not the strings) */
    size_t nv = 0;
    int which = st->path.p ? net_is_reserved(s, st->path.p, st->path.len) : 0;
    if (!(st->too_large || m == PREP_HTTP_OTHER || which || !st->path.p)) {
        prep_http_request sr = {.method = m,
                                 .path = st->path,
                                 .query = st->query,
                                 .accept_encoding = st->ae,
                                 .if_none_match = st->inm,
                                 .range = st->range,
                                 .if_range = st->if_range,
                                 .now = PREP_TIME_NONE};
        net_respond(w, &sr, &st->resp);
        st->has_resp = 1;
        /* The memory budget: what the open answers own (archive bodies, identity pages
         * copied from their parts; a body in the version's memory costs nothing more).
         * The first such answer is always admitted, so one download of any size the site
         * serves works; past the budget the answer is dropped and the request waits until
         * an answer of this connection is done (its memory freed), then is answered
         * again from scratch. The server's answer memory (net_mem_take) is the same rule
         * over every connection: past it a connection holding answers waits for them as
         * above; one holding none has nothing to wait for and is answered 503. */
        size_t own = (size_t)st->resp.own_bytes;
        int over = own && c->h2->pinned && c->h2->pinned + own > NET_H2_MEM_BUDGET;
        int refused = own && !over && !net_mem_take(s, own);
        if (over || refused) {
            prep_http_response_done(&st->resp);
            memset(&st->resp, 0, sizeof st->resp);
            st->has_resp = 0;
            if (over || c->h2->pinned) return 0;
            st->mem_refused = 1;
            net_mem_refused(w);
        } else {
            st->pin = own;
            c->h2->pinned += own;
        }
    }
    if (!st->has_resp) {
        const char *ctype = "text/plain; charset=utf-8";
        status = st->too_large                ? 431
                 : m == PREP_HTTP_OTHER         ? 405
                 : !st->path.p                  ? 400
                 : st->mem_refused              ? 503
                                                : 200;
        if (status == 431 && ++c->h2->too_large > NET_H2_TOO_LARGE_MAX && !c->h2->abuse)
            c->h2->abuse = "repeated request fields over SETTINGS_MAX_HEADER_LIST_SIZE (431)";
        if (status == 200) {
            st->body_len = net_reserved_answer(s, which, &st->own, &status);
            if (which == 2) ctype = "text/plain; version=0.0.4; charset=utf-8";
        } else {
            prep_buf b;
            prep_buf_init(&b, 256);
            prep_buf_printf(&b, "%d %s\n", status, prep_http_reason(status));
            st->own = prep_buf_steal(&b, &st->body_len);
        }
        st->body = (const uint8_t *)st->own;
        snprintf(st->status, sizeof st->status, "%d", status);
        nva[nv++] = NV(":status", st->status);
        nva[nv++] = NV("content-type", ctype);
        nva[nv++] = NV("cache-control", PREP_POLICY_CC_NO_CACHE);
        if (status == 405) nva[nv++] = NV("allow", "GET, HEAD");
        if (status == 503) nva[nv++] = NV("retry-after", NET_STR(NET_RETRY_AFTER));
        net_kv kv[8];
        size_t n = net_security_fields(c, kv, PREP_ARRAY_LEN(kv), st->seq, sizeof st->seq);
        for (size_t i = 0; i < n; i++) nva[nv++] = NV(kv[i].n, kv[i].v);
    } else {
        status = st->resp.status;
        snprintf(st->status, sizeof st->status, "%d", status);
        nva[nv++] = NV(":status", st->status);
        for (size_t i = 0; i < st->resp.n_fields && nv < PREP_ARRAY_LEN(nva) - 3; i++) {
            const prep_http_field *f = &st->resp.fields[i];
            nva[nv++] = (nghttp2_nv){(uint8_t *)f->name, (uint8_t *)f->value, f->name_len, f->value_len,
                                        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
        }
        st->body = st->resp.body;
        st->body_len = (size_t)st->resp.body_len;
    }
    int send_body = m != PREP_HTTP_HEAD && status != 304 && (!st->has_resp || st->resp.send_body);
    if (status != 304) {
        snprintf(st->clen, sizeof st->clen, "%zu", st->body_len);
        nva[nv++] = NV("content-length", st->clen);
    }
    snprintf(st->date, sizeof st->date, "%s", net_date(w));
    nva[nv++] = NV("date", st->date);
    uint64_t sent = send_body ? st->body_len : 0;
    net_count(w, status, sent);
    if (w->logbuf) {
        size_t tl = st->target.p ? st->target.len : 0;
        const char *t = net_log_target(s, st->has_resp ? &st->resp : NULL, st->target.p ? st->target.p : "", &tl);
        net_access_log(w, c->ip, st->has_resp ? st->resp.log_user : NULL, st->method.p ? st->method.p : "-",
                       st->method.p ? st->method.len : 1, t, tl, "HTTP/2.0", status, sent, st->referer.p,
                       st->referer.len, st->ua.p, st->ua.len);
    }
    nghttp2_data_provider dp = {.source.ptr = st, .read_callback = data_read};
    int with_body = send_body && st->body_len;
    int rv = nghttp2_submit_response(c->h2->s, st->id, nva, nv, with_body ? &dp : NULL);
    if (rv) nghttp2_submit_rst_stream(c->h2->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    else if (with_body) {
        st->pending = 1;
        c->h2->n_pending++;
        st->moved_ms = c->w->now_ms;
        st->moved_off = 0;
    }
    forget_request(st);
    return 1;
}

/* An answer was freed: answer the waiting requests, in order, while the budget allows. */
static void answer_waiting(net_conn *c)
{
    net_h2 *h = c->h2;
    while (h->wait_head) {
        h2_stream *st = h->wait_head;
        wait_remove(h, st);
        if (!respond(c, st)) {
            wait_push(h, st, 1);
            break;
        }
    }
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    net_conn *c = ud; /* the frame budget was charged from the bytes (frames_charge) */
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        h2_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
        if (st && !st->complete) {
            st->complete = 1;
            net_conn_served(c); /* a whole request: not shed at the global cap (idle again: net_conn_timeouts) */
        }
        if (st && !st->status[0] && !st->waiting && !respond(c, st)) wait_push(c->h2, st, 0);
    }
    return 0;
}

/* A frame nghttp2 refused (a stream past our limit, a bad header block): it costs a
 * token, so a client that keeps opening refused streams is cut like a PING flood. */
static int on_invalid_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, int lib_error_code,
                                 void *ud)
{
    (void)session;
    (void)frame;
    (void)lib_error_code;
    net_conn *c = ud;
    if (--c->h2->tokens < 0 && !c->h2->abuse) c->h2->abuse = "invalid or refused frame flood";
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code, void *ud)
{
    (void)error_code;
    net_conn *c = ud;
    h2_stream *st = nghttp2_session_get_stream_user_data(session, id);
    if (!st) return 0;
    nghttp2_session_set_stream_user_data(session, id, NULL);
    size_t pin = st->pin;
    stream_free(c->h2, st);
    if (pin && c->h2->wait_head) answer_waiting(c);
    return 0;
}

int net_h2_start(net_conn *c)
{
    if (!c->wbuf && !(c->wbuf = malloc(NET_WBUF))) return -1;
    net_h2 *h = calloc(1, sizeof *h);
    if (!h) return -1;
    h->c = c;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb)) {
        free(h);
        return -1;
    }
    nghttp2_session_callbacks_set_send_callback(cb, send_cb);
    nghttp2_session_callbacks_set_send_data_callback(cb, send_data);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, on_invalid_frame_recv);
    /* nghttp2's own flood protections, set to our numbers rather than left to the
     * defaults of whatever version is installed (docs/internals/serve.md). */
    nghttp2_option *opt;
    if (nghttp2_option_new(&opt)) {
        nghttp2_session_callbacks_del(cb);
        free(h);
        return -1;
    }
    nghttp2_option_set_max_settings(opt, NET_H2_MAX_SETTINGS);
    nghttp2_option_set_max_continuations(opt, NET_H2_MAX_CONTINUATIONS);
    nghttp2_option_set_stream_reset_rate_limit(opt, NET_H2_RST_BURST, NET_H2_RST_RATE);
    nghttp2_option_set_max_outbound_ack(opt, NET_H2_MAX_OUTBOUND_ACK);
    nghttp2_option_set_no_closed_streams(opt, 1); /* no priority tree kept of closed streams */
    int rv = nghttp2_session_server_new2(&h->s, cb, c, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (rv) {
        free(h);
        return -1;
    }
    h->tokens = NET_H2_FRAME_BURST;
    h->tokens_ms = c->w->now_ms;
    h->scan_left = NGHTTP2_CLIENT_MAGIC_LEN; /* the preface, then frames */
    c->h2 = h;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, NET_H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, NET_H2_HEADER_LIST_MAX},
    };
    if (nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, PREP_ARRAY_LEN(iv))) return -1;
    return 0;
}

int net_h2_idle(const net_conn *c)
{
    /* a stream whose request has not ended is no answer being given (session 36's probe
     * held 100 connections of open request heads, never shed, and refused every newcomer) */
    for (const h2_stream *st = c->h2 ? c->h2->streams : NULL; st; st = st->next)
        if (st->complete) return 0;
    return 1;
}

int net_h2_pending(const net_conn *c)
{
    return c->h2 && c->h2->n_pending;
}

void net_h2_free(net_conn *c)
{
    net_h2 *h = c->h2;
    if (!h) return;
    /* nghttp2_session_del does not call on_stream_close: the streams still open (a
     * client gone mid-response, a stalled flow-control window) are freed here, and with
     * them their responses' version references. */
    nghttp2_session_del(h->s);
    while (h->streams) stream_free(h, h->streams);
    free(h);
    atomic_store_explicit(&c->w->srv->trim_due, 1, memory_order_relaxed);
    c->h2 = NULL;
}

/* Writes what nghttp2 has to send: 1 all sent, 0 blocked (EPOLLOUT armed), -1 error. */
static int h2_flush(net_conn *c)
{
    nghttp2_session *s = c->h2->s;
    for (;;) {
        if (c->woff < c->wlen) {
            int r = net_conn_flush_wbuf(c);
            if (r < 0) return -1;
            if (r == 0) {
                net_conn_set_events(c, EPOLLIN | EPOLLOUT);
                return 0;
            }
        }
        if (!nghttp2_session_want_write(s)) break;
        c->wlen = c->woff = 0;
        /* given back while the connection had nothing to write (net_conn_timeouts) */
        if (!c->wbuf && !(c->wbuf = malloc(NET_WBUF))) return -1;
        if (nghttp2_session_send(s)) return -1;
        if (!c->wlen) break;
    }
    net_conn_set_events(c, c->want_write_on_read ? EPOLLIN | EPOLLOUT : EPOLLIN);
    return 1;
}

/* Sends GOAWAY (best effort) and closes: the client broke a budget or the protocol. */
static void h2_cut(net_conn *c, const char *why)
{
    prep_log(PREP_LOG_WARN, "serve: HTTP/2 connection from %s cut: %s", c->ip, why);
    atomic_fetch_add_explicit(&c->w->st.h2_cut, 1, memory_order_relaxed);
    nghttp2_session_terminate_session(c->h2->s, NGHTTP2_ENHANCE_YOUR_CALM);
    h2_flush(c);
    c->dead = 1;
}

void net_h2_on_readable(net_conn *c)
{
    net_h2 *h = c->h2;
    if (!h) {
        c->dead = 1;
        return;
    }
    tokens_refill(c);
    if (!c->rbuf && !(c->rbuf = malloc(NET_RBUF))) {
        c->dead = 1;
        return;
    }
    size_t spent = 0;
    for (;;) {
        /* The work budget: at most NET_EVENT_BUDGET bytes of frames per readiness event,
         * then the worker's other connections go first (a WINDOW_UPDATE flood must not
         * hold the loop). The connection is resumed after them: OpenSSL may hold bytes
         * epoll does not know about. */
        if (spent >= NET_EVENT_BUDGET) {
            net_conn_defer(c);
            break;
        }
        c->want_write_on_read = 0;
        ssize_t n = net_conn_read(c, c->rbuf, NET_RBUF);
        if (n < 0) {
            c->dead = 1;
            return;
        }
        if (n == 0) {
            if (c->tls_more) net_conn_defer(c); /* OpenSSL holds more: after the others */
            break;
        }
        spent += (size_t)n;
        frames_charge(h, (const uint8_t *)c->rbuf, (size_t)n);
        if (h->abuse) { /* not handed to nghttp2: the budget is spent */
            h2_cut(c, h->abuse);
            return;
        }
        /* Bytes read are not progress (PING, SETTINGS, WINDOW_UPDATE cost the client
         * nothing): requests and response bytes are (on_begin_headers, send_data). */
        ssize_t rv = nghttp2_session_mem_recv(h->s, (const uint8_t *)c->rbuf, (size_t)n);
        if (rv < 0 && h->abuse) { /* a callback stopped the session on a budget */
            h2_cut(c, h->abuse);
            return;
        }
        if (rv < 0) {
            /* nghttp2's own limits (CONTINUATION, SETTINGS entries, outbound acks) or a
             * protocol error: nothing a browser sends. */
            prep_log(PREP_LOG_WARN, "serve: HTTP/2 connection from %s cut: %s", c->ip, nghttp2_strerror((int)rv));
            atomic_fetch_add_explicit(&c->w->st.h2_cut, 1, memory_order_relaxed);
            c->dead = 1;
            return;
        }
        if (h->abuse) {
            h2_cut(c, h->abuse);
            return;
        }
        if (h2_flush(c) < 0) {
            c->dead = 1;
            return;
        }
    }
    if (h2_flush(c) < 0) {
        c->dead = 1;
        return;
    }
    if (!nghttp2_session_want_read(c->h2->s) && !nghttp2_session_want_write(c->h2->s) && c->woff == c->wlen)
        c->dead = 1;
}

void net_h2_on_writable(net_conn *c)
{
    if (c->h2 && h2_flush(c) < 0) c->dead = 1;
}

void net_h2_stalls(net_conn *c, int64_t limit_ms, int64_t head_limit_ms)
{
    net_h2 *h = c->h2;
    if (!h || !h->streams) return;
    int reset = 0;
    for (h2_stream *st = h->streams; st; st = st->next) {
        if (!st->complete && st->begun_ms && c->w->now_ms - st->begun_ms >= head_limit_ms) {
            /* a request head that does not end (HEADERS without END_STREAM, kept open by
             * requests on other streams): the HTTP/2 slowloris; its kept fields go */
            nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
            st->begun_ms = 0; /* once */
            reset++;
            continue;
        }
        if (!st->pending || c->w->now_ms - st->moved_ms < limit_ms) continue;
        /* taken a byte at a time, or not at all: its answer (and the cut version it
         * holds) goes; the client may ask again */
        nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
        st->moved_ms = c->w->now_ms; /* once */
        reset++;
    }
    if (!reset) return;
    atomic_fetch_add_explicit(&c->w->st.h2_stalled, (uint64_t)reset, memory_order_relaxed);
    if (h2_flush(c) < 0) c->dead = 1;
}

/* The http server core: what it answers itself (/health and /metrics through the
 * handler, protocol errors, the plain-to-HTTPS redirect), the counters and the access log
 * (docs/internals/serve.md "Network layer"). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net_internal.h"

const int net_status_list[NET_N_STATUS] = {200, 206, 301, 304, 400, 403, 404, 405, 406, 408,
                                           410, 413, 414, 416, 431, 500, 501, 503, 505, 302, 204};

int net_status_index(int status)
{
    for (int i = 0; i < NET_N_STATUS; i++)
        if (net_status_list[i] == status) return i;
    return NET_N_STATUS; /* other */
}

void net_count(net_worker *w, int status, uint64_t bytes)
{
    atomic_fetch_add_explicit(&w->st.requests[net_status_index(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->st.bytes, bytes, memory_order_relaxed);
}

int net_is_reserved(const net_server *s, const char *path, size_t len)
{
    if (!s->h->reserved) return 0;
    if (len == 7 && !memcmp(path, "/health", 7)) return 1;
    if (len == 8 && !memcmp(path, "/metrics", 8)) return 2;
    return 0;
}

void net_respond(net_worker *w, const prep_http_request *rq, prep_http_response *out)
{
    const prep_http_handler *h = w->srv->h;
    h->respond(h->ctx, w->state, rq, out);
}

void prep_http_response_done(prep_http_response *r)
{
    if (r && r->done) r->done(r);
}

static const char *reason(int status)
{
    switch (status) {
    case 301: return "Moved Permanently";
    case 408: return "Request Timeout";
    case 503: return "Service Unavailable";
    default: return prep_http_reason(status);
    }
}

static uint64_t worker_seq(net_worker *w)
{
    const prep_http_handler *h = w->srv->h;
    return w->state && h->state_seq ? h->state_seq(w->state) : 0;
}

size_t net_reserved_answer(net_server *s, int which, char **body, int *status)
{
    prep_buf b;
    prep_buf_init(&b, 1 << 20);
    int st = s->h->reserved(s->h->ctx, s, which, &b);
    if (status) *status = st;
    size_t len = 0;
    *body = prep_buf_steal(&b, &len);
    return len;
}

/* Every worker's counters summed (relaxed reads: a scrape is a moment's picture). */
typedef struct net_totals {
    uint64_t req[NET_N_STATUS + 1]; /* by net_status_list, then "other" */
    uint64_t bytes, conns_total, shed, refused_cap, refused_addr, refused_mem, h2_stalled;
    int64_t conns;                  /* open now */
} net_totals;

static void net_totals_get(prep_http_server *s, net_totals *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < s->nthreads; i++) {
        net_stats *st = &s->w[i].st;
        for (int k = 0; k <= NET_N_STATUS; k++) t->req[k] += atomic_load_explicit(&st->requests[k], memory_order_relaxed);
        t->bytes += atomic_load_explicit(&st->bytes, memory_order_relaxed);
        t->conns_total += atomic_load_explicit(&st->conns_total, memory_order_relaxed);
        t->shed += atomic_load_explicit(&st->shed, memory_order_relaxed);
        t->refused_cap += atomic_load_explicit(&st->refused_cap, memory_order_relaxed);
        t->refused_addr += atomic_load_explicit(&st->refused_addr, memory_order_relaxed);
        t->refused_mem += atomic_load_explicit(&st->refused_mem, memory_order_relaxed);
        t->h2_stalled += atomic_load_explicit(&st->h2_stalled, memory_order_relaxed);
    }
    t->conns = atomic_load(&s->conns);
}

void prep_http_server_metrics(prep_http_server *s, prep_buf *b)
{
    net_totals t;
    net_totals_get(s, &t);
    const uint64_t *req = t.req;
    const char *px = s->cfg.metrics_prefix ? s->cfg.metrics_prefix : "prep_http";
    prep_buf_puts(b, "# HELP prep_http_requests_total Requests answered, by status.\n"
                     "# TYPE prep_http_requests_total counter\n");
    for (int k = 0; k <= NET_N_STATUS; k++) {
        if (!req[k] && k != 0) continue;
        if (k < NET_N_STATUS)
            prep_buf_printf(b, "prep_http_requests_total{status=\"%d\"} %llu\n", net_status_list[k],
                            (unsigned long long)req[k]);
        else
            prep_buf_printf(b, "prep_http_requests_total{status=\"other\"} %llu\n", (unsigned long long)req[k]);
    }
    prep_buf_printf(b,
                    "# HELP prep_http_response_bytes_total Body bytes sent (as planned at answer time).\n"
                    "# TYPE prep_http_response_bytes_total counter\n"
                    "prep_http_response_bytes_total %llu\n"
                    "# HELP %s_connections Connections open now.\n"
                    "# TYPE %s_connections gauge\n"
                    "%s_connections %lld\n"
                    "# HELP %s_connections_total Connections accepted.\n"
                    "# TYPE %s_connections_total counter\n"
                    "%s_connections_total %llu\n",
                    (unsigned long long)t.bytes, px, px, px, (long long)t.conns, px, px, px,
                    (unsigned long long)t.conns_total);
    prep_buf_printf(b,
                    "# HELP %s_connections_shed_total Waiting connections (no complete request yet, or\n"
                    "# idle) closed to admit a new one at the global connection cap.\n"
                    "# TYPE %s_connections_shed_total counter\n"
                    "%s_connections_shed_total %llu\n"
                    "# HELP %s_connections_refused_total Connections refused (503 over plain HTTP, a reset\n"
                    "# over TLS): the global cap with nothing to shed, or the address group's limit.\n"
                    "# TYPE %s_connections_refused_total counter\n"
                    "%s_connections_refused_total{reason=\"cap\"} %llu\n"
                    "%s_connections_refused_total{reason=\"per_address\"} %llu\n",
                    px, px, px, (unsigned long long)t.shed, px, px, px, (unsigned long long)t.refused_cap, px,
                    (unsigned long long)t.refused_addr);
    prep_buf_printf(b,
                    "# HELP %s_answer_memory_bytes Bytes the open answers own (archive bodies, identity pages\n"
                    "# copied from their parts), all connections.\n"
                    "# TYPE %s_answer_memory_bytes gauge\n"
                    "%s_answer_memory_bytes %zu\n"
                    "# HELP %s_answers_refused_memory_total Answers refused (503) because they would take the\n"
                    "# answer memory over its limit.\n"
                    "# TYPE %s_answers_refused_memory_total counter\n"
                    "%s_answers_refused_memory_total %llu\n",
                    px, px, px, atomic_load_explicit(&s->owned, memory_order_relaxed), px, px, px,
                    (unsigned long long)t.refused_mem);
    prep_buf_printf(b,
                    "# HELP %s_h2_streams_stalled_total HTTP/2 streams reset because the client took less than\n"
                    "# 16 KiB of the answer within the idle timeout.\n"
                    "# TYPE %s_h2_streams_stalled_total counter\n"
                    "%s_h2_streams_stalled_total %llu\n",
                    px, px, px, (unsigned long long)t.h2_stalled);
}


size_t net_security_fields(net_conn *c, net_kv *out, size_t cap, char *seqbuf, size_t seqcap)
{
    net_server *s = c->w->srv;
    size_t n = 0;
    /* The fields and their order of prep_policy_security_fields (include/prep/policy.h). */
    if (c->tls && s->hsts[0] && n < cap) out[n++] = (net_kv){"strict-transport-security", s->hsts};
    if (n < cap) out[n++] = (net_kv){"x-content-type-options", PREP_POLICY_NOSNIFF};
    if (n < cap) out[n++] = (net_kv){"referrer-policy", PREP_POLICY_REFERRER};
    if (n < cap) out[n++] = (net_kv){"content-security-policy", s->csp};
    if (s->h->state_seq && n < cap) {
        snprintf(seqbuf, seqcap, "%llu", (unsigned long long)worker_seq(c->w));
        out[n++] = (net_kv){"x-prep-corte", seqbuf};
    }
    return n;
}

char *net_h1_own_head(net_conn *c, int status, const char *ctype, const char *cache, const char *extra_fields,
                      size_t body_len, size_t *len)
{
    prep_buf b;
    prep_buf_init(&b, 64 * 1024);
    prep_buf_printf(&b, "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\ncache-control: %s\r\n%s", status,
                    reason(status), ctype, body_len, cache, extra_fields ? extra_fields : "");
    net_kv kv[8];
    char seq[24];
    size_t n = net_security_fields(c, kv, PREP_ARRAY_LEN(kv), seq, sizeof seq);
    for (size_t i = 0; i < n; i++) prep_buf_printf(&b, "%s: %s\r\n", kv[i].n, kv[i].v);
    return prep_buf_steal(&b, len);
}

/* Host for the redirect: the request's Host without its port, if it is a plain name or
 * address; else the HTTPS listener's own host. */
char *net_redirect_location(net_conn *c, prep_http_slice host, prep_http_slice path, prep_http_slice query)
{
    net_server *s = c->w->srv;
    char h[256] = "";
    if (host.p && host.len && host.len < sizeof h) {
        size_t l = host.len;
        if (host.p[0] == '[') { /* [v6]:port */
            const char *e = memchr(host.p, ']', host.len);
            l = e ? (size_t)(e - host.p) + 1 : 0;
        } else {
            const char *e = memchr(host.p, ':', host.len);
            if (e) l = (size_t)(e - host.p);
        }
        int ok = l > 0;
        for (size_t i = 0; i < l && ok; i++) {
            char ch = host.p[i];
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                 ch == '-' || ch == '[' || ch == ']' || ch == ':';
        }
        if (ok) {
            memcpy(h, host.p, l);
            h[l] = 0;
        }
    }
    if (!h[0])
        for (int i = 0; i < s->n_lcfg; i++)
            if (s->lcfg[i].tls) snprintf(h, sizeof h, "%s", s->lcfg[i].host);
    prep_buf b;
    prep_buf_init(&b, 64 * 1024);
    prep_buf_printf(&b, "https://%s", h);
    if (s->tls_port != 443) prep_buf_printf(&b, ":%d", s->tls_port);
    if (path.p && path.len) prep_buf_append(&b, path.p, path.len);
    else prep_buf_putc(&b, '/');
    if (query.p) {
        prep_buf_putc(&b, '?');
        prep_buf_append(&b, query.p, query.len);
    }
    return prep_buf_steal(&b, NULL);
}

/* ---------------------------------------------------------------- access log */
const char *net_log_target(const net_server *s, const prep_http_response *r, const char *t, size_t *len)
{
    if (r && r->log_target) {
        *len = strlen(r->log_target);
        return r->log_target;
    }
    if (s->cfg.redact_targets) {
        *len = 1;
        return "-";
    }
    return t;
}

void net_access_flush(net_worker *w)
{
    if (!w->logbuf || !w->loglen) return;
    size_t off = 0;
    while (off < w->loglen) {
        ssize_t n = write(w->srv->log_fd, w->logbuf + off, w->loglen - off);
        if (n <= 0) break; /* a full disk loses log lines, never requests */
        off += (size_t)n;
    }
    w->loglen = 0;
}

static void log_put(net_worker *w, const char *p, size_t n)
{
    if (w->loglen + n > NET_LOGBUF) net_access_flush(w);
    if (n > NET_LOGBUF) n = NET_LOGBUF;
    memcpy(w->logbuf + w->loglen, p, n);
    w->loglen += n;
}

/* A quoted field: bytes outside printable ASCII, '"' and '\' as \xHH; at most 1024 bytes
 * of input; "-" when absent. */
static void log_quoted(net_worker *w, const char *p, size_t n)
{
    char out[1024 * 4 + 4];
    size_t o = 0;
    out[o++] = '"';
    if (!p) out[o++] = '-';
    for (size_t i = 0; p && i < n && i < 1024; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
            static const char hx[] = "0123456789abcdef";
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hx[ch >> 4];
            out[o++] = hx[ch & 15];
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o++] = '"';
    log_put(w, out, o);
}

void net_access_log(net_worker *w, const char *ip, const char *user, const char *method, size_t mlen,
                    const char *target, size_t tlen,
                    const char *proto, int status, uint64_t bytes, const char *referer, size_t rlen, const char *ua,
                    size_t ualen)
{
    if (!w->logbuf) return;
    time_t t = time(NULL);
    if (t != w->log_sec) {
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(w->log_time, sizeof w->log_time, "%d/%b/%Y:%H:%M:%S %z", &tm);
        w->log_sec = t;
    }
    char head[256];
    /* the user field: the handler's (the pull link's broadcaster id), printable, no space */
    char u[64] = "-";
    for (size_t i = 0; user && user[i] && i < sizeof u - 1; i++) {
        unsigned char ch = (unsigned char)user[i];
        u[i] = ch > 0x20 && ch < 0x7f && ch != '"' ? (char)ch : '_';
        u[i + 1] = 0;
    }
    int n = snprintf(head, sizeof head, "%s - %s [%s] \"", ip, u, w->log_time);
    log_put(w, head, (size_t)n);
    /* the request line, escaped like the quoted fields but without its own quotes */
    char rl[1100];
    size_t ml = mlen > 32 ? 32 : mlen, tl = tlen > 1024 ? 1024 : tlen;
    int rn = snprintf(rl, sizeof rl, "%.*s %.*s %s", (int)ml, method, (int)tl, target, proto);
    if (rn < 0) rn = 0;
    if ((size_t)rn >= sizeof rl) rn = sizeof rl - 1;
    for (int i = 0; i < rn; i++) {
        unsigned char ch = (unsigned char)rl[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
            char e[5];
            snprintf(e, sizeof e, "\\x%02x", ch);
            log_put(w, e, 4);
        } else {
            log_put(w, &rl[i], 1);
        }
    }
    char mid[64];
    if (bytes)
        n = snprintf(mid, sizeof mid, "\" %d %llu ", status, (unsigned long long)bytes);
    else
        n = snprintf(mid, sizeof mid, "\" %d - ", status);
    log_put(w, mid, (size_t)n);
    log_quoted(w, referer, rlen);
    log_put(w, " ", 1);
    log_quoted(w, ua, ualen);
    log_put(w, "\n", 1);
    if (w->loglen >= NET_LOGBUF - 8192) net_access_flush(w);
}

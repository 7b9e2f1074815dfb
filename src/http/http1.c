/* HTTP/1.1 request-head parser (RFC 9112). Stateless and re-entrant: it re-reads the
 * head from the start on every call, so the answer for a prefix of the bytes is either
 * NEED_MORE or the answer for the whole (docs/internals/http1.md, "Prefix rule"). */
#include <string.h>

#include "prep/http.h"
#include "http_internal.h"

/* tchar (RFC 9110 §5.6.2): ALPHA / DIGIT / "!#$%&'*+-.^_`|~" */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


static prep_http_parse_result fail(prep_http_req *r, int status, const char *why)
{
    r->status = status;
    r->error = why;
    r->keep_alive = 0;
    return PREP_HTTP_ERROR;
}

static prep_http_slice sl(const char *p, size_t n)
{
    prep_http_slice s = {p, n};
    return s;
}

/* Splits the request-target into authority / path / query. Returns 0 or -1 (malformed). */
static int split_target(prep_http_req *r)
{
    const char *t = r->target.p;
    size_t n = r->target.len, i = 0;
    if (t[0] == '/') {
        /* origin-form */
    } else if ((n >= 7 && http_ieq(t, 7, "http://")) || (n >= 8 && http_ieq(t, 8, "https://"))) {
        i = (t[4] == ':') ? 7 : 8;
        size_t a = i;
        while (i < n && t[i] != '/' && t[i] != '?') {
            if (t[i] == '@') return -1; /* userinfo: RFC 9110 §4.2.4 */
            i++;
        }
        if (i == a) return -1;
        r->authority = sl(t + a, i - a);
    } else {
        return -1;
    }
    size_t ps = i;
    while (i < n && t[i] != '?') i++;
    r->path = sl(t + ps, i - ps);
    if (i < n) r->query = sl(t + i + 1, n - i - 1);
    return 0;
}

/* Host = uri-host [ ":" port ]: reg-name / IP-literal / IPv4 characters only. */
static int host_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
        if (!strchr("-._~!$&'()*+,;=:[]%", c)) return 0;
    }
    return 1;
}

/* The Connection field: a comma-separated token list. */
static void connection_tokens(const char *p, size_t n, int *close, int *ka)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ',')) i++;
        size_t s = i;
        while (i < n && p[i] != ',' && p[i] != ' ' && p[i] != '\t') i++;
        if (http_ieq(p + s, i - s, "close")) *close = 1;
        if (http_ieq(p + s, i - s, "keep-alive")) *ka = 1;
    }
}

/* Finds the LF ending the line that starts at pos, looking no further than limit (an
 * absolute index) nor len. Returns its index, or (size_t)-1. */
static size_t find_lf(const unsigned char *b, size_t pos, size_t len, size_t limit)
{
    size_t end = len < limit ? len : limit;
    if (pos >= end) return (size_t)-1;
    const unsigned char *q = memchr(b + pos, '\n', end - pos);
    return q ? (size_t)(q - b) : (size_t)-1;
}

/* Known field slots: value kept only when the field occurs once. */
static void keep_once(prep_http_slice *slot, unsigned *count, prep_http_req *r, unsigned bit,
                      prep_http_slice v)
{
    if (++*count == 1) {
        *slot = v;
    } else {
        *slot = sl(NULL, 0);
        r->dup_ignored |= bit;
    }
}

prep_http_parse_result prep_http_parse_request(const char *buf, size_t len, prep_http_req *r)
{
    memset(r, 0, sizeof *r);
    const unsigned char *b = (const unsigned char *)buf;
    size_t pos = 0;

    /* RFC 9112 §2.2: ignore empty lines before the request-line (they count toward the
     * head limit). */
    for (;;) {
        if (pos >= PREP_HTTP_MAX_HEAD) return fail(r, 431, "head too large");
        if (pos >= len) return PREP_HTTP_NEED_MORE;
        if (b[pos] == '\n') {
            pos++;
        } else if (b[pos] == '\r') {
            if (pos + 1 >= len) return PREP_HTTP_NEED_MORE;
            if (b[pos + 1] != '\n') return fail(r, 400, "bare CR");
            pos += 2;
        } else {
            break;
        }
    }

    /* ------------------------------------------------------------- request line */
    size_t rl_limit = pos + PREP_HTTP_MAX_REQUEST_LINE;
    int rl_by_head = 0;
    if (rl_limit > PREP_HTTP_MAX_HEAD) {
        rl_limit = PREP_HTTP_MAX_HEAD;
        rl_by_head = 1;
    }
    /* The method is checked on whatever has arrived (the same bytes lead to the same
     * answer whole or in part), so garbage such as a TLS hello is refused at once. */
    size_t avail_end = len < rl_limit ? len : rl_limit;
    size_t i = pos;
    while (i < avail_end && b[i] != ' ') {
        if (!is_tchar(b[i])) return fail(r, 400, "invalid method");
        i++;
    }
    if (i < avail_end && i == pos) return fail(r, 400, "empty method");
    size_t eol = find_lf(b, pos, len, rl_limit);
    if (eol == (size_t)-1) {
        if (len >= rl_limit)
            return rl_by_head ? fail(r, 431, "head too large")
                              : fail(r, 414, "request line too long");
        return PREP_HTTP_NEED_MORE;
    }
    size_t end = eol;
    if (end > pos && b[end - 1] == '\r') end--;
    /* method SP request-target SP HTTP-version, single spaces (RFC 9112 §3) */
    size_t sp1 = i; /* b[sp1] == ' ' since the LF is not a tchar */
    r->method_name = sl(buf + pos, sp1 - pos);
    if (sp1 - pos == 3 && memcmp(buf + pos, "GET", 3) == 0)
        r->method = PREP_HTTP_GET;
    else if (sp1 - pos == 4 && memcmp(buf + pos, "HEAD", 4) == 0)
        r->method = PREP_HTTP_HEAD;
    else
        r->method = PREP_HTTP_OTHER;
    size_t ts = sp1 + 1, te = ts;
    while (te < end && b[te] != ' ') {
        if (b[te] < 0x21 || b[te] > 0x7e || b[te] == '#')
            return fail(r, 400, "invalid request-target");
        te++;
    }
    if (te == ts) return fail(r, 400, "empty request-target");
    if (te >= end) return fail(r, 400, "missing version");
    size_t vs = te + 1;
    if (end - vs != 8 || memcmp(b + vs, "HTTP/", 5) != 0 || b[vs + 5] < '0' || b[vs + 5] > '9' ||
        b[vs + 6] != '.' || b[vs + 7] < '0' || b[vs + 7] > '9')
        return fail(r, 400, "invalid version");
    if (b[vs + 5] != '1') return fail(r, 505, "unsupported version");
    r->version_minor = b[vs + 7] == '0' ? 0 : 1;
    r->target = sl(buf + ts, te - ts);
    if (split_target(r) != 0 && r->method != PREP_HTTP_OTHER)
        return fail(r, 400, "invalid request-target");
    pos = eol + 1;

    /* ------------------------------------------------------------- field lines */
    unsigned n_host = 0, n_ae = 0, n_inm = 0, n_range = 0, n_ir = 0;
    int conn_close = 0, conn_ka = 0, has_te = 0, has_cl = 0;
    unsigned long long cl = 0;
    for (;;) {
        eol = find_lf(b, pos, len, PREP_HTTP_MAX_HEAD);
        if (eol == (size_t)-1) {
            if (len >= PREP_HTTP_MAX_HEAD) return fail(r, 431, "head too large");
            return PREP_HTTP_NEED_MORE;
        }
        end = eol;
        if (end > pos && b[end - 1] == '\r') end--;
        if (end == pos) break; /* the empty line ending the head */
        if (b[pos] == ' ' || b[pos] == '\t') return fail(r, 400, "obs-fold");
        size_t c = pos;
        while (c < end && b[c] != ':') {
            if (!is_tchar(b[c])) return fail(r, 400, "invalid field name");
            c++;
        }
        if (c == end) return fail(r, 400, "missing colon");
        if (c == pos) return fail(r, 400, "empty field name");
        size_t v = c + 1, ve = end;
        while (v < ve && (b[v] == ' ' || b[v] == '\t')) v++;
        while (ve > v && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) ve--;
        for (size_t k = c + 1; k < end; k++) {
            unsigned char ch = b[k];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return fail(r, 400, "invalid field value");
        }
        if (r->n_headers >= PREP_HTTP_MAX_HEADERS) return fail(r, 431, "too many fields");
        prep_http_slice name = sl(buf + pos, c - pos), val = sl(buf + v, ve - v);
        r->headers[r->n_headers].name = name;
        r->headers[r->n_headers].value = val;
        r->n_headers++;
        if (http_ieq(name.p, name.len, "host")) {
            if (++n_host > 1) return fail(r, 400, "duplicate Host");
            if (!host_ok(val.p, val.len)) return fail(r, 400, "invalid Host");
            r->host = val;
        } else if (http_ieq(name.p, name.len, "accept-encoding")) {
            keep_once(&r->accept_encoding, &n_ae, r, PREP_HTTP_DUP_ACCEPT_ENCODING, val);
        } else if (http_ieq(name.p, name.len, "if-none-match")) {
            keep_once(&r->if_none_match, &n_inm, r, PREP_HTTP_DUP_IF_NONE_MATCH, val);
        } else if (http_ieq(name.p, name.len, "range")) {
            keep_once(&r->range, &n_range, r, PREP_HTTP_DUP_RANGE, val);
        } else if (http_ieq(name.p, name.len, "if-range")) {
            keep_once(&r->if_range, &n_ir, r, PREP_HTTP_DUP_IF_RANGE, val);
        } else if (http_ieq(name.p, name.len, "connection")) {
            connection_tokens(val.p, val.len, &conn_close, &conn_ka);
        } else if (http_ieq(name.p, name.len, "transfer-encoding")) {
            has_te = 1;
        } else if (http_ieq(name.p, name.len, "content-length")) {
            /* 1*DIGIT; repeated values must agree (RFC 9112 §6.3) */
            if (val.len == 0 || val.len > 18) return fail(r, 400, "invalid Content-Length");
            unsigned long long x = 0;
            for (size_t k = 0; k < val.len; k++) {
                if (val.p[k] < '0' || val.p[k] > '9') return fail(r, 400, "invalid Content-Length");
                x = x * 10 + (unsigned)(val.p[k] - '0');
            }
            if (has_cl && x != cl) return fail(r, 400, "conflicting Content-Length");
            has_cl = 1;
            cl = x;
        }
        pos = eol + 1;
    }
    r->head_len = eol + 1;

    /* ------------------------------------------------------------- whole-head rules */
    if (r->version_minor == 1 && n_host == 0) return fail(r, 400, "missing Host");
    if (has_te && r->version_minor == 0) return fail(r, 400, "Transfer-Encoding in HTTP/1.0");
    if (has_te && has_cl) return fail(r, 400, "Transfer-Encoding with Content-Length");
    if (r->method == PREP_HTTP_OTHER) return fail(r, 405, "method not allowed");
    if (has_te) return fail(r, 501, "Transfer-Encoding on GET/HEAD");
    if (has_cl && cl != 0) return fail(r, 400, "body on GET/HEAD");
    r->keep_alive = r->version_minor == 1 ? !conn_close : (conn_ka && !conn_close);
    return PREP_HTTP_COMPLETE;
}

const char *prep_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* libFuzzer target: the pure HTTP layer of prep serve (include/prep/serve.h).
 * The input's first two bytes choose a split point; the rest is a byte stream a client
 * sent. Checked: the parse of a prefix is NEED_MORE or exactly the parse of the whole
 * (status, head length, fields); every slice lies inside the buffer; pipelined requests
 * walk forward; the path normaliser's output is a clean relative key; the field helpers
 * never fail outside their documented answers. The whole input also goes straight to the
 * path normaliser, the Accept-Encoding parser and the Range/ETag evaluators. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prep/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void in_buf(prep_http_slice s, const char *b, size_t n)
{
    if (s.p == NULL) return;
    if (s.p < b || s.p + s.len > b + n) abort();
}

static void check_key(const char *path, size_t len)
{
    char out[PREP_HTTP_PATH_MAX + 1];
    size_t ol = 0;
    int st = prep_http_path_normalize(path, len, out, sizeof out, &ol);
    if (st != 0 && st != 400 && st != 414) abort();
    if (st != 0) return;
    if (ol == 0 || ol > PREP_HTTP_PATH_MAX || strlen(out) != ol) abort();
    if (out[0] == '/' || out[ol - 1] == '/' || strstr(out, "//") || strchr(out, '\\')) abort();
    /* no "." or ".." segment survives */
    const char *s = out;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) abort();
        if (!e) break;
        s = e + 1;
    }
}

static void check_fields(const char *v, size_t n)
{
    prep_http_coding c;
    for (unsigned have = 0; have < 4; have++) {
        int st = prep_http_negotiate(v, n, have, (int)(have & 1), &c);
        if (st != 0 && st != 406) abort();
        if (st == 0 && c == PREP_HTTP_BR && !((have & PREP_HTTP_HAVE_BR) && (have & 1))) abort();
        if (st == 0 && c == PREP_HTTP_GZIP && !(have & PREP_HTTP_HAVE_GZIP)) abort();
    }
    uint64_t a, b;
    static const uint64_t sizes[] = {0, 1, 1000, UINT64_MAX};
    for (size_t k = 0; k < 4; k++) {
        prep_http_range_kind r = prep_http_range(v, n, sizes[k], &a, &b);
        if (r == PREP_HTTP_RANGE_PARTIAL && (a > b || b >= sizes[k])) abort();
    }
    int m = prep_http_if_none_match(v, n, "\"ab\"", 4);
    int ir = prep_http_if_range(v, n, "\"ab\"", 4);
    if ((m != 0 && m != 1) || (ir != 0 && ir != 1) || (ir && !m)) abort();
}

static int same(const prep_http_req *x, const char *bx, const prep_http_req *y, const char *by)
{
    if (x->status != y->status || x->head_len != y->head_len || x->method != y->method ||
        x->n_headers != y->n_headers || x->keep_alive != y->keep_alive ||
        x->version_minor != y->version_minor || x->dup_ignored != y->dup_ignored)
        return 0;
    if ((x->path.p == NULL) != (y->path.p == NULL) || x->path.len != y->path.len) return 0;
    if (x->path.p && x->path.p - bx != y->path.p - by) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t split = ((size_t)data[0] << 8 | data[1]);
    data += 2;
    size -= 2;
    if (split > size) split = size ? split % (size + 1) : 0;

    /* exact-size copies so that ASan catches a read past the end */
    char *whole = malloc(size ? size : 1);
    char *part = malloc(split ? split : 1);
    if (!whole || !part) abort();
    memcpy(whole, data, size);
    memcpy(part, data, split);

    prep_http_req w, p;
    prep_http_parse_result rw = prep_http_parse_request(whole, size, &w);
    prep_http_parse_result rp = prep_http_parse_request(part, split, &p);
    if (rp != PREP_HTTP_NEED_MORE && (rp != rw || !same(&p, part, &w, whole))) abort();
    if (rw == PREP_HTTP_COMPLETE && split < w.head_len && rp != PREP_HTTP_NEED_MORE) abort();

    /* pipelined requests: walk the buffer */
    size_t off = 0;
    for (int guard = 0; guard < 1000; guard++) {
        prep_http_req r;
        prep_http_parse_result res = prep_http_parse_request(whole + off, size - off, &r);
        if (res == PREP_HTTP_ERROR) {
            if (r.status == 0 || r.error == NULL || r.keep_alive) abort();
            break;
        }
        if (res != PREP_HTTP_COMPLETE) break;
        const char *b = whole + off;
        size_t n = size - off;
        if (r.head_len == 0 || r.head_len > n || r.head_len > PREP_HTTP_MAX_HEAD) abort();
        if (r.n_headers > PREP_HTTP_MAX_HEADERS) abort();
        if (r.method == PREP_HTTP_OTHER || r.status != 0) abort();
        in_buf(r.target, b, r.head_len);
        in_buf(r.path, b, r.head_len);
        in_buf(r.query, b, r.head_len);
        in_buf(r.host, b, r.head_len);
        for (size_t k = 0; k < r.n_headers; k++) {
            in_buf(r.headers[k].name, b, r.head_len);
            in_buf(r.headers[k].value, b, r.head_len);
        }
        check_key(r.path.p ? r.path.p : "", r.path.len);
        if (r.accept_encoding.p) check_fields(r.accept_encoding.p, r.accept_encoding.len);
        if (r.range.p) check_fields(r.range.p, r.range.len);
        if (r.if_none_match.p) check_fields(r.if_none_match.p, r.if_none_match.len);
        off += r.head_len;
    }

    check_key(whole, size);
    check_fields(whole, size);
    free(whole);
    free(part);
    return 0;
}

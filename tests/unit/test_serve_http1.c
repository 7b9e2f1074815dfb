/* The pure HTTP layer of prep serve: request-head parser, path normalisation,
 * Accept-Encoding negotiation, If-None-Match / If-Range / Range (include/prep/serve.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prep/serve.h"

#define S(lit) lit, sizeof(lit) - 1

static int slice_is(prep_http_slice s, const char *lit)
{
    if (lit == NULL) return s.p == NULL;
    return s.p != NULL && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static prep_http_parse_result parse_str(const char *s, size_t n, prep_http_req *r)
{
    return prep_http_parse_request(s, n, r);
}

/* ------------------------------------------------------------------ real requests */

/* curl 7.88 (Debian 12) as sent by `curl http://localhost:8080/base-de-datos/`. */
static const char CURL_PLAIN[] = "GET /base-de-datos/ HTTP/1.1\r\n"
                                 "Host: localhost:8080\r\n"
                                 "User-Agent: curl/7.88.1\r\n"
                                 "Accept: */*\r\n"
                                 "\r\n";
/* `curl --compressed -r 100- https://prep.example.mx/base-de-datos/GUB.csv` */
static const char CURL_RANGE[] = "GET /base-de-datos/GUB.csv HTTP/1.1\r\n"
                                 "Host: prep.example.mx\r\n"
                                 "Range: bytes=100-\r\n"
                                 "User-Agent: curl/7.88.1\r\n"
                                 "Accept: */*\r\n"
                                 "Accept-Encoding: deflate, gzip, br, zstd\r\n"
                                 "\r\n";
/* Chromium 120 navigating to a page it has cached. */
static const char CHROMIUM[] =
    "GET /gubernatura/distrito-03/?embebido=1 HTTP/1.1\r\n"
    "Host: prep.example.mx\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"120\", \"Not?A_Brand\";v=\"8\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
    "Sec-Fetch-Site: none\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: es-MX,es;q=0.9,en;q=0.8\r\n"
    "If-None-Match: \"5f2a9c\"\r\n"
    "\r\n";
/* h2load --h1 (nghttp2 1.52): lower-case field names. */
static const char H2LOAD[] = "GET /corte.json HTTP/1.1\r\n"
                             "host: 127.0.0.1:8443\r\n"
                             "user-agent: h2load nghttp2/1.52.0\r\n"
                             "accept-encoding: gzip, deflate\r\n"
                             "\r\n";
/* ApacheBench 2.3 without -k: HTTP/1.0, no keep-alive. */
static const char AB10[] = "GET / HTTP/1.0\r\n"
                           "Host: 127.0.0.1\r\n"
                           "User-Agent: ApacheBench/2.3\r\n"
                           "Accept: */*\r\n"
                           "\r\n";
/* ab -k: HTTP/1.0 with a keep-alive token. */
static const char AB10K[] = "HEAD /index.html HTTP/1.0\r\n"
                            "Connection: Keep-Alive\r\n"
                            "Host: 127.0.0.1\r\n"
                            "\r\n";

static void test_curl(void **st)
{
    (void)st;
    prep_http_req r;
    assert_int_equal(parse_str(S(CURL_PLAIN), &r), PREP_HTTP_COMPLETE);
    assert_int_equal(r.head_len, sizeof CURL_PLAIN - 1);
    assert_int_equal(r.method, PREP_HTTP_GET);
    assert_true(slice_is(r.path, "/base-de-datos/"));
    assert_true(slice_is(r.query, NULL));
    assert_true(slice_is(r.host, "localhost:8080"));
    assert_true(slice_is(r.accept_encoding, NULL));
    assert_int_equal(r.version_minor, 1);
    assert_int_equal(r.keep_alive, 1);
    assert_int_equal(r.n_headers, 3);
    assert_true(slice_is(r.headers[2].name, "Accept"));
    assert_true(slice_is(r.headers[2].value, "*/*"));

    assert_int_equal(parse_str(S(CURL_RANGE), &r), PREP_HTTP_COMPLETE);
    assert_true(slice_is(r.range, "bytes=100-"));
    assert_true(slice_is(r.accept_encoding, "deflate, gzip, br, zstd"));
    uint64_t a = 0, b = 0;
    assert_int_equal(prep_http_range(r.range.p, r.range.len, 1000, &a, &b), PREP_HTTP_RANGE_PARTIAL);
    assert_int_equal(a, 100);
    assert_int_equal(b, 999);
}

static void test_chromium_h2load_ab(void **st)
{
    (void)st;
    prep_http_req r;
    assert_int_equal(parse_str(S(CHROMIUM), &r), PREP_HTTP_COMPLETE);
    assert_int_equal(r.head_len, sizeof CHROMIUM - 1);
    assert_true(slice_is(r.path, "/gubernatura/distrito-03/"));
    assert_true(slice_is(r.query, "embebido=1"));
    assert_true(slice_is(r.if_none_match, "\"5f2a9c\""));
    assert_true(slice_is(r.accept_encoding, "gzip, deflate, br"));
    assert_int_equal(r.keep_alive, 1);
    assert_int_equal(r.n_headers, 15);
    assert_int_equal(prep_http_if_none_match(r.if_none_match.p, r.if_none_match.len, S("\"5f2a9c\"")), 1);

    assert_int_equal(parse_str(S(H2LOAD), &r), PREP_HTTP_COMPLETE);
    assert_true(slice_is(r.host, "127.0.0.1:8443"));
    assert_true(slice_is(r.accept_encoding, "gzip, deflate"));
    assert_true(slice_is(r.path, "/corte.json"));

    assert_int_equal(parse_str(S(AB10), &r), PREP_HTTP_COMPLETE);
    assert_int_equal(r.version_minor, 0);
    assert_int_equal(r.keep_alive, 0);
    assert_int_equal(parse_str(S(AB10K), &r), PREP_HTTP_COMPLETE);
    assert_int_equal(r.method, PREP_HTTP_HEAD);
    assert_int_equal(r.keep_alive, 1);
}

static void test_keep_alive_rules(void **st)
{
    (void)st;
    prep_http_req r;
    assert_int_equal(parse_str(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), &r),
                     PREP_HTTP_COMPLETE);
    assert_int_equal(r.keep_alive, 0);
    /* token list, any case, over two lines */
    assert_int_equal(parse_str(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: te\r\n"
                                 "connection: Upgrade, CLOSE\r\n\r\n"), &r),
                     PREP_HTTP_COMPLETE);
    assert_int_equal(r.keep_alive, 0);
    /* "closed" is not "close" */
    assert_int_equal(parse_str(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"), &r),
                     PREP_HTTP_COMPLETE);
    assert_int_equal(r.keep_alive, 1);
    /* 1.0: keep-alive plus close -> close */
    assert_int_equal(parse_str(S("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), &r),
                     PREP_HTTP_COMPLETE);
    assert_int_equal(r.keep_alive, 0);
    /* HTTP/1.9 is handled as 1.1 (RFC 9110 §2.5) */
    assert_int_equal(parse_str(S("GET / HTTP/1.9\r\nHost: a\r\n\r\n"), &r), PREP_HTTP_COMPLETE);
    assert_int_equal(r.version_minor, 1);
    assert_int_equal(r.keep_alive, 1);
}

static void test_forms_and_lenience(void **st)
{
    (void)st;
    prep_http_req r;
    /* absolute-form: the path is taken, the authority kept */
    assert_int_equal(parse_str(S("GET http://prep.example.mx/a/b?c HTTP/1.1\r\nHost: x\r\n\r\n"), &r),
                     PREP_HTTP_COMPLETE);
    assert_true(slice_is(r.authority, "prep.example.mx"));
    assert_true(slice_is(r.path, "/a/b"));
    assert_true(slice_is(r.query, "c"));
    assert_int_equal(parse_str(S("GET HTTPS://h:443 HTTP/1.1\r\nHost: h\r\n\r\n"), &r), PREP_HTTP_COMPLETE);
    assert_true(slice_is(r.authority, "h:443"));
    assert_int_equal(r.path.len, 0);
    /* LF-only line ends (RFC 9112 §2.2), OWS around values, empty lines first */
    assert_int_equal(parse_str(S("\r\n\nGET /x HTTP/1.1\nHost:  a \t\nRange:bytes=0-1\n\n"), &r),
                     PREP_HTTP_COMPLETE);
    assert_true(slice_is(r.host, "a"));
    assert_true(slice_is(r.range, "bytes=0-1"));
    assert_true(slice_is(r.path, "/x"));
    /* empty Host is allowed; empty query present */
    assert_int_equal(parse_str(S("GET /? HTTP/1.1\r\nHost:\r\n\r\n"), &r), PREP_HTTP_COMPLETE);
    assert_true(slice_is(r.host, ""));
    assert_true(slice_is(r.query, ""));
    /* Content-Length: 0 on GET is fine; repeated equal values too */
    assert_int_equal(parse_str(S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"), &r),
                     PREP_HTTP_COMPLETE);
    /* obs-text in a value is allowed */
    assert_int_equal(parse_str(S("GET / HTTP/1.1\r\nHost: a\r\nX-N: Quer\xc3\xa9taro\r\n\r\n"), &r),
                     PREP_HTTP_COMPLETE);
    /* repeated list fields are dropped and flagged */
    assert_int_equal(parse_str(S("GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n"
                                 "Range: bytes=0-1\r\naccept-encoding: br\r\nRANGE: bytes=2-3\r\n"
                                 "If-None-Match: \"a\"\r\n\r\n"), &r),
                     PREP_HTTP_COMPLETE);
    assert_true(slice_is(r.accept_encoding, NULL));
    assert_true(slice_is(r.range, NULL));
    assert_true(slice_is(r.if_none_match, "\"a\""));
    assert_int_equal(r.dup_ignored, PREP_HTTP_DUP_ACCEPT_ENCODING | PREP_HTTP_DUP_RANGE);
}

static void test_pipelined(void **st)
{
    (void)st;
    static const char P[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                            "HEAD /b?q=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                            "\r\n" /* a stray CRLF between requests */
                            "GET /c HTTP/1.0\r\n\r\n"
                            "GET /d HTTP/1.1\r\nHo";
    size_t off = 0, n = sizeof P - 1;
    prep_http_req r;
    assert_int_equal(parse_str(P + off, n - off, &r), PREP_HTTP_COMPLETE);
    assert_true(slice_is(r.path, "/a"));
    assert_int_equal(r.head_len, 28); /* 17 + 9 + 2 */
    off += r.head_len;
    assert_int_equal(parse_str(P + off, n - off, &r), PREP_HTTP_COMPLETE);
    assert_int_equal(r.method, PREP_HTTP_HEAD);
    assert_true(slice_is(r.path, "/b"));
    assert_true(slice_is(r.query, "q=1"));
    off += r.head_len;
    assert_int_equal(parse_str(P + off, n - off, &r), PREP_HTTP_COMPLETE);
    assert_true(slice_is(r.path, "/c"));
    assert_int_equal(r.head_len, 2 + 17 + 2);
    assert_int_equal(r.keep_alive, 0);
    off += r.head_len;
    assert_int_equal(parse_str(P + off, n - off, &r), PREP_HTTP_NEED_MORE);
    assert_int_equal(n - off, 19); /* 15 + 2 + 2 */
}

/* ------------------------------------------------------------------ hostile requests */

struct bad {
    const char *req;
    size_t len;
    int status;
    const char *why; /* the parser's reason, checked where two rules could give the status */
};
#define B(lit, st) {lit, sizeof(lit) - 1, st, NULL}
#define BW(lit, st, why) {lit, sizeof(lit) - 1, st, why}

static const struct bad BAD[] = {
    BW("GET / HTTP/1.1\r\nHost: a\r\n Folded: x\r\n\r\n", 400, "obs-fold"),           /* obs-fold SP */
    BW("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\tmore\r\n\r\n", 400, "obs-fold"),        /* obs-fold HTAB */
    BW("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "invalid field name"),                         /* space before colon */
    B("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400),               /* bare CR in value */
    B("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400),                        /* bare CR in line */
    BW("\r\x00GET / HTTP/1.1\r\n\r\n", 400, "bare CR"),                               /* bare CR first */
    B("GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400),             /* NUL in value */
    BW("G\x00T / HTTP/1.1\r\n", 400, "invalid method"),                                      /* NUL in method */
    B("GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", 400),               /* DEL */
    BW("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "duplicate Host"),               /* duplicate Host */
    BW("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", 400, "missing Host"),                    /* no Host in 1.1 */
    B("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),                        /* invalid Host */
    B("GET / HTTP/1.1\r\nHost: a\r\nHo(st: a\r\n\r\n", 400),              /* bad field name */
    B("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", 400),                   /* empty name */
    B("GET / HTTP/1.1\r\nHost a\r\n\r\n", 400),                           /* no colon */
    BW("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 400, "body on GET/HEAD"), /* body on GET */
    B("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400),   /* bad CL */
    B("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n", 400),
    B("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
    B("HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    B("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),      /* TE in 1.0 */
    B("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400),
    B("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 405),
    B("DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", 405),
    B("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 405),
    B("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405),
    B("get / HTTP/1.1\r\nHost: a\r\n\r\n", 405),                         /* methods are case-sensitive */
    B("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    B("GET / HTTP/0.9\r\n\r\n", 505),
    B("GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505),
    B("GET /\r\n\r\n", 400),                                              /* HTTP/0.9 line */
    B("GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    B("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400),
    B("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400),                         /* trailing SP */
    B("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),                         /* double SP */
    B(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),                         /* leading SP */
    B("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400),                       /* SP in target */
    B("GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", 400),                 /* no '/' */
    B("GET /#top HTTP/1.1\r\nHost: a\r\n\r\n", 400),                      /* fragment */
    B("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400),                  /* raw UTF-8 target */
    B("GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),                /* userinfo */
    B("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400),                  /* empty authority */
    BW("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "invalid method"),
    BW("GE\x01", 400, "invalid method"),                                  /* refused before any LF */               /* TLS hello, at once */
    B("GE\tT / HTTP/1.1\r\n", 400),                                       /* tab in method */
    B("GET\r\n\r\n", 400),                                                /* method alone */
};

static void test_hostile(void **st)
{
    (void)st;
    for (size_t k = 0; k < sizeof BAD / sizeof BAD[0]; k++) {
        prep_http_req r;
        prep_http_parse_result res = parse_str(BAD[k].req, BAD[k].len, &r);
        if (res != PREP_HTTP_ERROR || r.status != BAD[k].status)
            fail_msg("case %zu: result %d status %d (%s), want %d", k, (int)res, r.status,
                     r.error ? r.error : "-", BAD[k].status);
        assert_non_null(r.error);
        if (BAD[k].why) assert_string_equal(r.error, BAD[k].why);
        assert_int_equal(r.keep_alive, 0);
        assert_string_not_equal(prep_http_reason(r.status), "Unknown");
    }
}

/* Every status the servers send has its RFC 9110 reason phrase (the section lookup's 303
 * and /health's 503 once went out as "Unknown"). */
static void test_reasons(void **st)
{
    (void)st;
    static const struct { int status; const char *reason; } want[] = {
        {200, "OK"}, {206, "Partial Content"}, {301, "Moved Permanently"}, {303, "See Other"},
        {304, "Not Modified"}, {308, "Permanent Redirect"}, {400, "Bad Request"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {406, "Not Acceptable"}, {408, "Request Timeout"},
        {413, "Content Too Large"}, {414, "URI Too Long"}, {416, "Range Not Satisfiable"},
        {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"}, {500, "Internal Server Error"},
        {501, "Not Implemented"}, {503, "Service Unavailable"}, {505, "HTTP Version Not Supported"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(prep_http_reason(want[i].status), want[i].reason);
}

/* Builds "GET /aaa... HTTP/1.1\r\n" of exactly total bytes. */
static char *line_of(size_t total)
{
    char *b = malloc(total + 64);
    assert_non_null(b);
    size_t fixed = strlen("GET / HTTP/1.1\r\n");
    memcpy(b, "GET /", 5);
    memset(b + 5, 'a', total - fixed);
    memcpy(b + 5 + (total - fixed), " HTTP/1.1\r\n", 11);
    return b;
}

static void test_limits(void **st)
{
    (void)st;
    prep_http_req r;
    /* request line of exactly 8192 bytes with CRLF: accepted */
    char *b = line_of(PREP_HTTP_MAX_REQUEST_LINE);
    memcpy(b + PREP_HTTP_MAX_REQUEST_LINE, "Host: a\r\n\r\n", 11);
    assert_int_equal(parse_str(b, PREP_HTTP_MAX_REQUEST_LINE + 11, &r), PREP_HTTP_COMPLETE);
    free(b);
    /* one more byte: 414, whole or as soon as 8192 bytes arrived without LF */
    b = line_of(PREP_HTTP_MAX_REQUEST_LINE + 1);
    assert_int_equal(parse_str(b, PREP_HTTP_MAX_REQUEST_LINE + 1, &r), PREP_HTTP_ERROR);
    assert_int_equal(r.status, 414);
    assert_int_equal(parse_str(b, PREP_HTTP_MAX_REQUEST_LINE, &r), PREP_HTTP_ERROR);
    assert_int_equal(parse_str(b, PREP_HTTP_MAX_REQUEST_LINE - 1, &r), PREP_HTTP_NEED_MORE);
    free(b);

    /* head of exactly 16384 bytes: accepted; 16385: 431 */
    size_t cap = PREP_HTTP_MAX_HEAD + 64;
    char *h = malloc(cap);
    assert_non_null(h);
    for (int extra = 0; extra <= 1; extra++) {
        size_t want = PREP_HTTP_MAX_HEAD + (size_t)extra;
        size_t o = 0;
        memcpy(h, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
        o = 28;
        size_t fill = want - o - 4; /* then "\r\n\r\n" */
        memset(h + o, 'v', fill);
        o += fill;
        memcpy(h + o, "\r\n\r\n", 4);
        o += 4;
        assert_int_equal(o, want);
        prep_http_parse_result res = parse_str(h, o, &r);
        if (extra == 0) {
            assert_int_equal(res, PREP_HTTP_COMPLETE);
            assert_int_equal(r.head_len, PREP_HTTP_MAX_HEAD);
        } else {
            assert_int_equal(res, PREP_HTTP_ERROR);
            assert_int_equal(r.status, 431);
        }
    }
    /* a flood of empty lines is a head too */
    memset(h, '\n', PREP_HTTP_MAX_HEAD);
    assert_int_equal(parse_str(h, PREP_HTTP_MAX_HEAD, &r), PREP_HTTP_ERROR);
    assert_int_equal(r.status, 431);
    free(h);

    /* 64 fields: accepted; 65: 431 */
    char f[4096];
    for (int n = 64; n <= 65; n++) {
        size_t o = (size_t)snprintf(f, sizeof f, "GET / HTTP/1.1\r\nHost: a\r\n");
        for (int k = 1; k < n; k++) o += (size_t)snprintf(f + o, sizeof f - o, "X-%d: %d\r\n", k, k);
        o += (size_t)snprintf(f + o, sizeof f - o, "\r\n");
        prep_http_parse_result res = parse_str(f, o, &r);
        if (n == 64) {
            assert_int_equal(res, PREP_HTTP_COMPLETE);
            assert_int_equal(r.n_headers, 64);
        } else {
            assert_int_equal(res, PREP_HTTP_ERROR);
            assert_int_equal(r.status, 431);
        }
    }
}

/* Every prefix gives NEED_MORE or exactly the whole's answer; for a request that
 * completes, every prefix shorter than the head gives NEED_MORE. */
static void check_splits(const char *req, size_t len)
{
    prep_http_req whole, part;
    prep_http_parse_result w = parse_str(req, len, &whole);
    for (size_t k = 0; k <= len; k++) {
        char *pre = malloc(k ? k : 1); /* exact size: a read past the prefix trips ASan */
        assert_non_null(pre);
        memcpy(pre, req, k);
        prep_http_parse_result p = parse_str(pre, k, &part);
        if (w == PREP_HTTP_COMPLETE && k < whole.head_len) assert_int_equal(p, PREP_HTTP_NEED_MORE);
        if (p != PREP_HTTP_NEED_MORE) {
            assert_int_equal(p, w);
            assert_int_equal(part.status, whole.status);
            assert_int_equal(part.head_len, whole.head_len);
            if (p == PREP_HTTP_COMPLETE) {
                assert_int_equal(part.method, whole.method);
                assert_int_equal(part.path.p - pre, whole.path.p - req);
                assert_int_equal(part.path.len, whole.path.len);
                assert_int_equal(part.n_headers, whole.n_headers);
                assert_int_equal(part.keep_alive, whole.keep_alive);
            }
        }
        free(pre);
    }
}

static void test_split_every_byte(void **st)
{
    (void)st;
    check_splits(S(CURL_PLAIN));
    check_splits(S(CURL_RANGE));
    check_splits(S(CHROMIUM));
    check_splits(S(H2LOAD));
    check_splits(S(AB10));
    check_splits(S(AB10K));
    for (size_t k = 0; k < sizeof BAD / sizeof BAD[0]; k++) check_splits(BAD[k].req, BAD[k].len);
}

/* ------------------------------------------------------------------ paths */

static void test_paths(void **st)
{
    (void)st;
    static const struct {
        const char *in;
        int status;
        const char *out;
    } T[] = {
        {"/", 0, "index.html"},
        {"", 0, "index.html"},
        {"/gubernatura/", 0, "gubernatura/index.html"},
        {"/gubernatura", 0, "gubernatura"},
        {"//a///b//", 0, "a/b/index.html"},
        {"/a/./b/.", 0, "a/b/index.html"},
        {"/assets/app.0123456789ab.css", 0, "assets/app.0123456789ab.css"},
        {"/el%20marqu%C3%A9s/", 0, "el marqu\xc3\xa9s/index.html"},
        {"/a%2Fb", 0, "a/b"},
        {"/%41%62", 0, "Ab"},
        {"/.well-known/x", 0, ".well-known/x"},
        {"/a/..", 400, NULL},
        {"/../etc/passwd", 400, NULL},
        {"/a/%2e%2e/b", 400, NULL},
        {"/a/..%2Fb", 400, NULL},
        {"/a\\b", 400, NULL},
        {"/a%5Cb", 400, NULL},
        {"/a%00", 400, NULL},
        {"/a%0a", 400, NULL},
        {"/a%7F", 400, NULL},
        {"/a%", 400, NULL},
        {"/a%4", 400, NULL},
        {"/a%zz", 400, NULL},
        {"a/b", 400, NULL},
        {"%2Fa", 400, NULL},
    };
    char out[PREP_HTTP_PATH_MAX + 1];
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
        size_t ol = 99;
        int s = prep_http_path_normalize(T[k].in, strlen(T[k].in), out, sizeof out, &ol);
        if (s != T[k].status) fail_msg("path %s: %d, want %d", T[k].in, s, T[k].status);
        if (s == 0) {
            assert_string_equal(out, T[k].out);
            assert_int_equal(ol, strlen(T[k].out));
        }
    }
    /* bounded output: "/abc" needs 4 bytes with the NUL */
    assert_int_equal(prep_http_path_normalize(S("/abc"), out, 4, NULL), 0);
    assert_string_equal(out, "abc");
    assert_int_equal(prep_http_path_normalize(S("/abcd"), out, 4, NULL), 414);
    assert_int_equal(prep_http_path_normalize(S("/"), out, 10, NULL), 414); /* index.html = 10 */
    assert_int_equal(prep_http_path_normalize(S("/a"), out, 0, NULL), 414);
    /* PREP_HTTP_PATH_MAX bounds even a big caller buffer */
    char big[3000], in[3000];
    in[0] = '/';
    memset(in + 1, 'x', 1500);
    assert_int_equal(prep_http_path_normalize(in, 1 + PREP_HTTP_PATH_MAX, big, sizeof big, NULL), 0);
    assert_int_equal(prep_http_path_normalize(in, 2 + PREP_HTTP_PATH_MAX, big, sizeof big, NULL), 414);
}

/* ------------------------------------------------------------------ Accept-Encoding */

static void test_accept_encoding(void **st)
{
    (void)st;
    enum { BOTH = PREP_HTTP_HAVE_GZIP | PREP_HTTP_HAVE_BR, GZ = PREP_HTTP_HAVE_GZIP };
    static const struct {
        const char *ae; /* NULL: absent */
        unsigned have;
        int https, status;
        prep_http_coding want;
    } T[] = {
        {NULL, BOTH, 1, 0, PREP_HTTP_IDENTITY},                        /* curl without --compressed */
        {"gzip, deflate, br", BOTH, 1, 0, PREP_HTTP_BR},               /* Chromium over HTTPS */
        {"gzip, deflate, br", BOTH, 0, 0, PREP_HTTP_GZIP},             /* ... over plain HTTP */
        {"gzip, deflate, br", 0, 1, 0, PREP_HTTP_IDENTITY},            /* nothing compressed */
        {"deflate, gzip, br, zstd", GZ, 1, 0, PREP_HTTP_GZIP},
        {"gzip;q=1.0, br;q=0.5", BOTH, 1, 0, PREP_HTTP_GZIP},          /* q decides */
        {"br;q=0.5, gzip;q=0.5", BOTH, 1, 0, PREP_HTTP_BR},            /* tie: br first */
        {"gzip;q=0", BOTH, 0, 0, PREP_HTTP_IDENTITY},                  /* q=0 forbids */
        {"GZIP;Q=0.001", GZ, 0, 0, PREP_HTTP_GZIP},
        {"x-gzip", GZ, 0, 0, PREP_HTTP_GZIP},
        {"*", BOTH, 1, 0, PREP_HTTP_BR},
        {"*;q=0.5, br;q=0", BOTH, 1, 0, PREP_HTTP_GZIP},
        {"identity", BOTH, 1, 0, PREP_HTTP_IDENTITY},
        {"", BOTH, 1, 0, PREP_HTTP_IDENTITY},                          /* empty: identity only */
        {"identity;q=0", BOTH, 1, 406, PREP_HTTP_IDENTITY},            /* nothing else acceptable */
        {"gzip, identity;q=0", GZ, 1, 0, PREP_HTTP_GZIP},
        {"br, identity;q=0", BOTH, 0, 406, PREP_HTTP_IDENTITY},        /* br needs HTTPS */
        {"*;q=0", BOTH, 1, 406, PREP_HTTP_IDENTITY},
        {"*;q=0, identity", BOTH, 1, 0, PREP_HTTP_IDENTITY},
        {"gzip;q=0.5", GZ, 0, 0, PREP_HTTP_GZIP},                      /* implicit identity is last */
        {"identity;q=0.9, gzip;q=0.5", GZ, 0, 0, PREP_HTTP_IDENTITY},
        {" , gzip ,, br ", BOTH, 1, 0, PREP_HTTP_BR},                  /* empty list elements */
        {"gzip;q=2", BOTH, 1, 0, PREP_HTTP_IDENTITY},                  /* malformed: as absent */
        {"gzip;q=0.1234", BOTH, 1, 0, PREP_HTTP_IDENTITY},
        {"gzip;level=9", BOTH, 1, 0, PREP_HTTP_IDENTITY},
        {"identity;q=0, gzip;q=", BOTH, 1, 0, PREP_HTTP_IDENTITY},     /* malformed beats q=0 */
        {"gzip br", BOTH, 1, 0, PREP_HTTP_IDENTITY},
        {"gzip;q=1.000, br;q=1.001", BOTH, 1, 0, PREP_HTTP_IDENTITY},
    };
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
        prep_http_coding c = (prep_http_coding)99;
        int s = prep_http_negotiate(T[k].ae, T[k].ae ? strlen(T[k].ae) : 0, T[k].have, T[k].https, &c);
        if (s != T[k].status || c != T[k].want)
            fail_msg("AE \"%s\": %d/%d, want %d/%d", T[k].ae ? T[k].ae : "(absent)", s, (int)c,
                     T[k].status, (int)T[k].want);
    }
}

/* ------------------------------------------------------------------ ETag and Range */

static void test_etags(void **st)
{
    (void)st;
    static const char E[] = "\"ab12\"";
    static const struct {
        const char *v;
        int inm, ir;
    } T[] = {
        {"\"ab12\"", 1, 1},
        {"W/\"ab12\"", 1, 0},  /* weak matches for INM, never for If-Range */
        {"\"zz\", W/\"ab12\"", 1, 0},
        {" \"zz\" ,\"ab12\" ", 1, 0},
        {"*", 1, 0},
        {" * ", 1, 0},
        {"\"ab1\"", 0, 0},
        {"ab12", 0, 0},        /* no quotes: malformed */
        {"\"ab12", 0, 0},
        {"\"ab12\" x", 0, 0},
        {"\"ab12\", *", 0, 0}, /* '*' only alone */
        {"", 0, 0},
        {"Sat, 05 Jun 2021 12:00:00 GMT", 0, 0}, /* If-Range date: we send no Last-Modified */
        {"w/\"ab12\"", 0, 0},  /* "W/" is case-sensitive */
    };
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
        int a = prep_http_if_none_match(T[k].v, strlen(T[k].v), S(E));
        int b = prep_http_if_range(T[k].v, strlen(T[k].v), S(E));
        if (a != T[k].inm || b != T[k].ir)
            fail_msg("etag %s: inm %d ir %d, want %d %d", T[k].v, a, b, T[k].inm, T[k].ir);
    }
    /* our tag weak: If-Range never applies; INM still compares weakly */
    assert_int_equal(prep_http_if_range(S("\"ab12\""), S("W/\"ab12\"")), 0);
    assert_int_equal(prep_http_if_none_match(S("\"ab12\""), S("W/\"ab12\"")), 1);
}

static void test_ranges(void **st)
{
    (void)st;
    static const struct {
        const char *v;
        uint64_t size;
        prep_http_range_kind kind;
        uint64_t first, last;
    } T[] = {
        {"bytes=0-499", 1000, PREP_HTTP_RANGE_PARTIAL, 0, 499},
        {"bytes=500-999", 1000, PREP_HTTP_RANGE_PARTIAL, 500, 999},
        {"bytes=500-5000", 1000, PREP_HTTP_RANGE_PARTIAL, 500, 999},  /* clamped */
        {"bytes=999-", 1000, PREP_HTTP_RANGE_PARTIAL, 999, 999},
        {"bytes=-1", 1000, PREP_HTTP_RANGE_PARTIAL, 999, 999},
        {"bytes=-300", 1000, PREP_HTTP_RANGE_PARTIAL, 700, 999},       /* 1000 - 300 */
        {"bytes=-5000", 1000, PREP_HTTP_RANGE_PARTIAL, 0, 999},
        {"Bytes=0-0", 1, PREP_HTTP_RANGE_PARTIAL, 0, 0},
        {"bytes= 2-3 ", 10, PREP_HTTP_RANGE_PARTIAL, 2, 3},
        {"bytes=1000-", 1000, PREP_HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=1000-2000", 1000, PREP_HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-0", 1000, PREP_HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=0-", 0, PREP_HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-10", 0, PREP_HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=99999999999999999999999-", 1000, PREP_HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=0-99999999999999999999999", 1000, PREP_HTTP_RANGE_PARTIAL, 0, 999},
        {"bytes=5-4", 1000, PREP_HTTP_RANGE_IGNORE, 0, 0},            /* last < first */
        {"bytes=0-1,5-6", 1000, PREP_HTTP_RANGE_IGNORE, 0, 0},        /* several: 200 */
        {"items=0-1", 1000, PREP_HTTP_RANGE_IGNORE, 0, 0},
        {"bytes=", 1000, PREP_HTTP_RANGE_IGNORE, 0, 0},
        {"bytes=-", 1000, PREP_HTTP_RANGE_IGNORE, 0, 0},
        {"bytes=a-b", 1000, PREP_HTTP_RANGE_IGNORE, 0, 0},
        {"bytes=1-2x", 1000, PREP_HTTP_RANGE_IGNORE, 0, 0},
        {"bytes 0-1", 1000, PREP_HTTP_RANGE_IGNORE, 0, 0},
    };
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
        uint64_t a = 7, b = 7;
        prep_http_range_kind r = prep_http_range(T[k].v, strlen(T[k].v), T[k].size, &a, &b);
        if (r != T[k].kind) fail_msg("range %s: %d, want %d", T[k].v, (int)r, (int)T[k].kind);
        if (r == PREP_HTTP_RANGE_PARTIAL && (a != T[k].first || b != T[k].last))
            fail_msg("range %s: %llu-%llu, want %llu-%llu", T[k].v, (unsigned long long)a,
                     (unsigned long long)b, (unsigned long long)T[k].first,
                     (unsigned long long)T[k].last);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curl),
        cmocka_unit_test(test_chromium_h2load_ab),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_forms_and_lenience),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_split_every_byte),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_accept_encoding),
        cmocka_unit_test(test_etags),
        cmocka_unit_test(test_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

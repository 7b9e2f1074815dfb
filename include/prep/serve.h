/* prep serve: the broadcaster's HTTP server (DESIGN.md, "serve").
 *
 * This header holds, for now, the pure parsing layer the server and its fuzzers share:
 * pure functions over byte buffers, no sockets, no allocation, no global state
 * (docs/internals/http1.md):
 *   - an HTTP/1.1 request-head parser (RFC 9112), re-entrant over "the bytes received
 *     so far" and pipelining-friendly;
 *   - path normalisation of a request target into a site key (docs/formats/site.md);
 *   - Accept-Encoding negotiation (br > gzip > identity, q-values, RFC 9110 §12.5.3);
 *   - If-None-Match, If-Range and single byte-range evaluation (RFC 9110 §13, §14).
 *
 * Ownership: every pointer argument is borrowed; every slice a function outputs points
 * into the caller's input buffer (borrowed from it: valid while that buffer is). */
#ifndef PREP_SERVE_H
#define PREP_SERVE_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- limits */
#define PREP_HTTP_MAX_REQUEST_LINE 8192 /* bytes of the request line with its line end: 414 */
#define PREP_HTTP_MAX_HEAD 16384 /* bytes of the whole head (leading empty lines, request
                                  * line, fields, final empty line): 431 */
#define PREP_HTTP_MAX_HEADERS 64 /* header field lines: 431 */
#define PREP_HTTP_PATH_MAX 1024  /* bytes of a canonical path (NUL excluded): 414 */

/* A byte range of the caller's buffer. p == NULL: absent. p != NULL, len == 0: present
 * and empty. Not NUL-terminated. */
typedef struct prep_http_slice {
    const char *p;
    size_t len;
} prep_http_slice;

typedef enum prep_http_method {
    PREP_HTTP_GET,
    PREP_HTTP_HEAD,
    PREP_HTTP_OTHER, /* a valid token that is neither: the head is parsed, then 405 */
} prep_http_method;

typedef enum prep_http_parse_result {
    PREP_HTTP_NEED_MORE = 0, /* the head is not complete yet: call again with more bytes */
    PREP_HTTP_COMPLETE = 1,  /* req->head_len bytes are this request's head */
    PREP_HTTP_ERROR = -1,    /* answer req->status and close the connection */
} prep_http_parse_result;

/* Fields the static server uses: set only when the field occurs exactly once (a repeated
 * one is dropped, see docs/internals/http1.md; the bit in dup_ignored says so). */
#define PREP_HTTP_DUP_ACCEPT_ENCODING 1u
#define PREP_HTTP_DUP_IF_NONE_MATCH 2u
#define PREP_HTTP_DUP_RANGE 4u
#define PREP_HTTP_DUP_IF_RANGE 8u

typedef struct prep_http_header {
    prep_http_slice name, value; /* value without surrounding whitespace */
} prep_http_header;

typedef struct prep_http_req {
    prep_http_method method;
    prep_http_slice method_name;
    prep_http_slice target;    /* the request-target as sent */
    prep_http_slice authority; /* absolute-form only: the URI's host[:port] */
    prep_http_slice path;      /* from the first '/' of the target up to '?' (may be empty
                                * for "http://host"); percent-encoded, not normalised */
    prep_http_slice query;     /* after '?', or absent */
    int version_minor;         /* 0 (HTTP/1.0) or 1 (HTTP/1.1 and any later 1.x) */
    int keep_alive;            /* 1: the connection may serve another request */
    prep_http_slice host;      /* Host field value (absolute-form: still the field) */
    prep_http_slice accept_encoding, if_none_match, range, if_range;
    unsigned dup_ignored;      /* PREP_HTTP_DUP_* */
    size_t n_headers;
    prep_http_header headers[PREP_HTTP_MAX_HEADERS]; /* every field line, in order */
    size_t head_len;           /* COMPLETE (and 405/501 after a whole head): bytes used */
    int status;                /* ERROR: the HTTP status to answer (400, 405, 414, 431,
                                * 501, 505); otherwise 0 */
    const char *error;         /* ERROR: a short stable reason ("bare CR", ...), static */
} prep_http_req;

/* Parses the request head at the start of buf[0..len). Call it again with the same
 * buffer grown by newly received bytes after NEED_MORE (it is stateless: the answer for a
 * prefix is NEED_MORE or the answer for the whole). After COMPLETE, the next pipelined
 * request starts at buf + req->head_len. Never reads past len. */
prep_http_parse_result prep_http_parse_request(const char *buf, size_t len, prep_http_req *req);

/* The reason phrase of a status this layer produces ("Bad Request"...); static. */
const char *prep_http_reason(int status);

/* Turns a request path (req->path: empty or starting with '/') into a relative site key
 * in out (NUL-terminated, at most cap - 1 bytes and PREP_HTTP_PATH_MAX): percent-decoded,
 * "//" collapsed, "." segments dropped, a trailing '/' (or the empty path) mapped to
 * "index.html", no leading '/'. Returns 0, 400 (bad escape, %00, control byte, DEL,
 * backslash, ".." segment, no leading '/') or 414 (longer than cap - 1 or
 * PREP_HTTP_PATH_MAX). *out_len (may be NULL) gets the key's length on 0. */
int prep_http_path_normalize(const char *path, size_t len, char *out, size_t cap,
                             size_t *out_len);

typedef enum prep_http_coding {
    PREP_HTTP_IDENTITY = 0,
    PREP_HTTP_GZIP = 1,
    PREP_HTTP_BR = 2,
} prep_http_coding;

#define PREP_HTTP_HAVE_GZIP 1u /* the file exists gzip-compressed */
#define PREP_HTTP_HAVE_BR 2u   /* the file exists brotli-compressed */

/* Chooses the content coding for one file: ae = the Accept-Encoding value (NULL: the
 * field is absent), have = PREP_HTTP_HAVE_* (identity always exists), https = br allowed.
 * Highest q wins, ties go br > gzip > identity; identity not named (nor by '*') is
 * acceptable but least preferred. A malformed field counts as absent. Returns 0 with
 * *out set, or 406 when nothing available is acceptable (identity explicitly refused). */
int prep_http_negotiate(const char *ae, size_t len, unsigned have, int https,
                        prep_http_coding *out);

/* If-None-Match: 1 when the list (a field value) matches etag (our entity-tag as sent,
 * with its quotes, e.g. "\"ab12\"") by weak comparison or is "*"; then a GET/HEAD gets
 * 304. 0 otherwise, and for a malformed list (the condition is ignored). */
int prep_http_if_none_match(const char *list, size_t len, const char *etag, size_t etag_len);

/* If-Range: 1 when the value is a strong entity-tag equal to etag (strong itself): the
 * Range may be honoured. 0 for a date, a weak tag, a mismatch or garbage: serve 200. */
int prep_http_if_range(const char *value, size_t len, const char *etag, size_t etag_len);

typedef enum prep_http_range_kind {
    PREP_HTTP_RANGE_IGNORE = 0, /* malformed, other unit or several ranges: serve 200 */
    PREP_HTTP_RANGE_PARTIAL,    /* serve 206 with bytes *first..*last (inclusive) */
    PREP_HTTP_RANGE_UNSATISFIABLE, /* serve 416 with Content-Range: bytes * /size */
} prep_http_range_kind;

/* Evaluates a Range value ("bytes=a-b", "bytes=a-", "bytes=-n") against a file of size
 * bytes. *first and *last are set only for PARTIAL. */
prep_http_range_kind prep_http_range(const char *value, size_t len, uint64_t size,
                                     uint64_t *first, uint64_t *last);

/* ================================================================ the served site
 * (src/serve/site.c, docs/internals/serve.md)
 *
 * A VERSION is one activated cut held in memory, read-only once loaded: every public file
 * of the cut assembled from the store's objects, its gzip and brotli variants (for
 * compressible media types), a strong ETag per representation, the Cache-Control of its
 * class and a prebuilt HTTP/1.1 head per representation. Versions are reference-counted:
 * a response keeps the version it started on alive until it is done, so a switch to a
 * newer cut never tears a response (DESIGN.md promise 2). Thread-safe: ref/unref are
 * atomic, everything else of a loaded version is immutable. */
#include "prep/core.h"

typedef struct prep_serve_version prep_serve_version; /* opaque */

/* What a broadcaster configures about its own site (not part of the signed cut). */
typedef struct prep_serve_site_opts {
    int https;                   /* the site is served over TLS: HSTS is sent, br allowed */
    int64_t hsts_max_age;        /* seconds; default 31536000; 0 = no HSTS header */
    const char *frame_ancestors; /* borrowed; space-separated origins allowed to embed the
                                  * pages (the broadcaster's portal), e.g.
                                  * "https://www.diario.mx"; NULL = "'self'" only */
    prep_time window_open;       /* publication window (catalogue); PREP_TIME_NONE = none */
    prep_time window_close;
    const char *zone;            /* borrowed; tz name to write the window in, NULL = UTC */
    int threads;                 /* compression threads at load; 0 = online cores */
    int archive;                 /* serve cortes/<seq>/... from the store (default 1) */
    int br_warm;                 /* 1 (default): after an HTTPS load, a lowest-priority thread
                                  * makes the pages' brotli variants (most requested in prev
                                  * first); 0: only on first request */
    int whole_file;              /* 0 (default): composed pages are held as their parts (shared
                                  * across versions), gzip per part, br on first use. 1: the
                                  * former approach, for comparison (bench_serve_load): every
                                  * page assembled, whole-file gzip and br and every head at load */
    int fallback;                /* 0 (default): a load of the active cut that fails fails. 1
                                  * (prep serve): when loading the active cut (seq 0) with no
                                  * prev (start-up) or the empty one fails, load the newest
                                  * older whole cut
                                  * instead (prep_cut_fallbacks; at most
                                  * PREP_SERVE_FALLBACK_TRIES tried) and say so in the info */
    FILE *log_out;               /* borrowed; where a fallback is reported (why the active cut
                                  * was refused, which cut is served instead); NULL = nowhere */
} prep_serve_site_opts;

#define PREP_SERVE_FALLBACK_TRIES 4

void prep_serve_site_opts_init(prep_serve_site_opts *o);

/* Loads cut seq (0 = the active cut) of store into a new version with reference count 1
 * (the caller's). prev (borrowed, may be NULL) is the version being replaced: files whose
 * SHA-256 is unchanged reuse its compressed variants instead of compressing again, and
 * pages take their parts (bytes and deflate streams) from the part cache shared with prev,
 * so only new parts are read and compressed. With opts->https and opts->br_warm a
 * lowest-priority thread then makes the pages' br variants; dropping the version's last
 * reference asks it to stop and never waits for it (it frees the version on its way out
 * when it is the last owner). Every
 * object is checked against its size and SHA-256 while assembling (a store damaged on
 * disk is refused: PREP_ERR_VERIFY with the path). opts is copied. */
prep_err prep_serve_version_load(const char *store, uint64_t seq, const prep_serve_version *prev,
                                 const prep_serve_site_opts *opts, prep_serve_version **out,
                                 prep_diags *d);
/* With opts->fallback, seq 0 and prev NULL or the empty version (nothing served), a
 * refused active cut is followed by the newest
 * older whole cut (the store's other cuts, prep_cut_fallbacks): PREP_OK with that version,
 * its info's fallback_from = the active sequence and fallback_why = the first reason; d
 * still holds the active cut's diags. When none loads, the active cut's error. */
/* The last active cut (seq 0) that prep_serve_version_load could not load, process-wide
 * (one server per process): its sequence, manifest hash (as the active pointer named it)
 * and the first reason ("missing-object: ..."). Set whether or not a fallback was served,
 * cleared by the next load of an active cut that succeeds. Returns 1 and fills *out when
 * there is one, else 0 (*out zeroed). /health uses it to tell "the active cut cannot be
 * loaded" from "not loaded yet". */
typedef struct prep_serve_refusal {
    uint64_t seq;
    char manifest_sha256[65];
    char why[192];
} prep_serve_refusal;
int prep_serve_last_refusal(prep_serve_refusal *out);
/* A version with no cut at all (a broadcaster before its first cut): every page path
 * answers the "waiting" page. Reference count 1. */
prep_err prep_serve_version_empty(const prep_serve_site_opts *opts, prep_serve_version **out);
void prep_serve_version_ref(prep_serve_version *v);
void prep_serve_version_unref(prep_serve_version *v); /* frees at 0; NULL ok */

typedef struct prep_serve_version_info {
    uint64_t seq;               /* 0: the empty version */
    char manifest_sha256[65];
    prep_time instant;          /* the cut instant */
    int drill;                  /* a drill cut */
    size_t files;
    uint64_t bytes_identity;    /* sum of the files' sizes */
    uint64_t bytes_held;        /* everything this version holds in memory (bodies, parts,
                                 * variants, heads; what it shares with other versions too) */
    double load_cpu_seconds;    /* CPU time the load took (all threads) */
    size_t variants_compressed; /* whole-file gzip/brotli variants this load compressed
                                 * (attempts; pages held as parts count in parts_compressed) */
    size_t variants_reused;     /* variants taken from prev (SHA-256 unchanged) */
    size_t parts;               /* distinct parts of pages held as parts */
    size_t parts_compressed;    /* parts this load read, checked and deflated (not cached) */
    size_t parts_cached;        /* parts in the cache shared with other versions, after the load */
    uint64_t bytes_lazy;        /* the part of bytes_held made after the load (pages' brotli
                                 * variants, heads built on first use); grows */
    size_t br_made;             /* pages' brotli variants made so far (request or warmer) */
    int warm_done;              /* the br warmer has finished (or there is none) */
    double warm_cpu_seconds;    /* its CPU time, once done */
    uint64_t fallback_from;     /* this version stands in for active cut N that could not be
                                 * loaded (opts.fallback); 0 = it is the active cut itself */
    char fallback_why[192];     /* then: the first reason the active cut was refused
                                 * ("missing-object: ..."); "" otherwise */
} prep_serve_version_info;

void prep_serve_version_get_info(const prep_serve_version *v, prep_serve_version_info *out);

/* One request as the site sees it, from HTTP/1.1 (prep_http_req) or HTTP/2 headers.
 * Every slice borrowed; an absent field has p == NULL. */
typedef struct prep_serve_request {
    prep_http_method method;
    prep_http_slice path;            /* percent-encoded, as received (no query) */
    prep_http_slice accept_encoding, if_none_match, range, if_range;
    prep_time now;                   /* for the publication window; PREP_TIME_NONE = clock */
} prep_serve_request;

typedef struct prep_serve_field {
    const char *name; /* lowercase ("content-type"), static or in the response */
    size_t name_len;
    const char *value;
    size_t value_len;
} prep_serve_field;

#define PREP_SERVE_MAX_FIELDS 24

/* The answer to one request. Everything it points to stays valid until
 * prep_serve_response_done, which also drops the version reference it holds. */
typedef struct prep_serve_response {
    int status;                      /* 200, 206, 304, 400, 404, 405, 406, 414, 416, 503 */
    /* The fields to send, lowercase names, in order, WITHOUT content-length, date and
     * connection (the protocol layer adds those). HTTP/2 sends them as they are. */
    prep_serve_field fields[PREP_SERVE_MAX_FIELDS];
    size_t n_fields;
    /* HTTP/1.1: the head to send before "date:"/"connection:" and the final CRLF: the
     * status line and every field above plus content-length, ready to write (prebuilt per
     * representation for 200 and 304; built into the response otherwise). */
    const char *h1_head;
    size_t h1_head_len;
    /* HTTP/1.1: sent right after h1_head: the version's one shared block of x-prep-corte and
     * the security fields (a prebuilt head leaves them out, so that ~380 bytes are not
     * repeated in every representation's 200 and 304 heads); borrowed from the version,
     * valid until prep_serve_response_done. Empty (len 0) when h1_head holds every field
     * (errors, ranges, archive answers). */
    const char *h1_common;
    size_t h1_common_len;
    const uint8_t *body;             /* the bytes to send (a Range is already applied) */
    uint64_t body_len;               /* the content-length; HEAD: send no body, same length */
    int send_body;                   /* 0 for HEAD, 304 */
    uint64_t seq;                    /* the cut this response belongs to (0 = none) */
    prep_serve_version *_v;          /* the reference this response holds */
    void *_owned;                    /* storage the response owns (archive bodies, heads) */
    char _scratch[512];              /* small dynamic fields (content-range, ...) */
} prep_serve_response;

/* Answers req from version v (borrowed; the response takes its own reference). Never
 * fails: a bad path is 400/404, a method other than GET/HEAD 405 with "allow: GET, HEAD".
 * Paths: "/" and ".../" map to index.html; a directory without its slash redirects (301);
 * "cortes/<seq>/..." serves an archived cut from the store (immutable); files get the
 * cache class of their path (docs/internals/serve.md); every response carries the
 * security headers and "x-prep-corte: <seq>". */
void prep_serve_respond(prep_serve_version *v, const prep_serve_request *req, prep_serve_response *out);
void prep_serve_response_done(prep_serve_response *r);

/* The Cache-Control value served for a site path (no leading '/'); static. */
const char *prep_serve_cache_control(const char *path, size_t len);

/* ================================================================ the server
 * (src/serve/server*.c, tls.c, h2.c; docs/internals/serve.md "Network layer")
 *
 * One epoll event loop per thread, each with its own listening socket per address (all
 * bound with SO_REUSEPORT: the kernel spreads connections), TLS 1.2/1.3 by OpenSSL with
 * ALPN h2 > http/1.1, HTTP/2 by libnghttp2, HTTP/1.1 with keep-alive and pipelining by
 * prep_http_parse_request. A watcher (the calling thread) polls the store's active
 * pointer and loads a newly activated cut off the event loops, then publishes it; each
 * response keeps the version it started on. Reserved paths outside the site: /health and
 * /metrics (Prometheus text). */
#define PREP_SERVE_MAX_THREADS 64

typedef struct prep_serve_config {
    const char *store;          /* borrowed; the cut store to serve (required) */
    const char *listen;         /* borrowed; plain "ADDR:PORT" ("[::1]:8080" for IPv6; port 0
                                 * = any free port, printed); NULL = none. With TLS
                                 * configured, plain requests get 301 to https (but
                                 * /health and /metrics answer on it) */
    const char *tls_listen;     /* borrowed; "ADDR:PORT" for HTTPS; NULL = no TLS */
    const char *tls_cert;       /* borrowed; PEM certificate chain file (with tls_listen) */
    const char *tls_key;        /* borrowed; PEM private key file */
    int threads;                /* event loops; 0 = online cores; at most PREP_SERVE_MAX_THREADS */
    const char *user;           /* borrowed; after binding, drop to this user (setgroups,
                                 * setgid, setuid); NULL = keep. As root without a user,
                                 * only loopback listeners are allowed */
    const char *access_log;     /* borrowed; file appended in combined format; NULL = none */
    const char *pid_file;       /* borrowed; written after binding, removed at exit; NULL */
    prep_serve_site_opts site;  /* copied; site.https is set by prep_serve_run */
    int max_conns_per_ip;       /* default 64 (one table for the whole process), per
                                 * address group: an IPv4 address, an IPv6 /64 */
    int max_conns;              /* default 10000, whole process; at it a new connection
                                 * sheds the oldest one without a complete request (else
                                 * the oldest idle one), else is refused (503 plain,
                                 * reset TLS) */
    int idle_timeout_ms;        /* keep-alive idle and stalled writes; default 30000 */
    int header_timeout_ms;      /* a request head (or TLS handshake) must complete within
                                 * this from its first byte; default 10000 (slowloris) */
    int poll_ms;                /* active pointer polling period; default 250 */
    FILE *status_out;           /* borrowed; "listening on" and cut-switch lines; NULL = none */
} prep_serve_config;

void prep_serve_config_init(prep_serve_config *c);

/* Binds, drops privileges, loads the active cut (or the empty version) and serves until
 * SIGINT or SIGTERM (blocked in the calling thread while it runs; SIGPIPE is ignored
 * process-wide) or prep_serve_stop. Problems before serving (bad address, port in use,
 * certificate, user, store) go to d and return PREP_ERR_USAGE / PREP_ERR_IO /
 * PREP_ERR_INVALID; a cut that fails to load while serving is reported on stderr and the
 * previous one stays. Returns PREP_OK after a clean stop. One server per process. */
prep_err prep_serve_run(const prep_serve_config *c, prep_diags *d);
/* Asks a running prep_serve_run to stop (async-signal-safe; any thread). */
void prep_serve_stop(void);


/* A listen address "ADDR:PORT" — a numeric IPv4 address, or an IPv6 one in brackets
 * ("[::1]:8443"), port 0..65535 (0 = any free port) — into *sa and *len (borrowed). Returns
 * PREP_OK, or PREP_ERR_USAGE with a "listen" diag naming spec. Shared by prep serve and the
 * institute's pull links. */
#include <sys/socket.h>
prep_err prep_serve_parse_addr(const char *spec, struct sockaddr_storage *sa, socklen_t *len, prep_diags *d);

#endif

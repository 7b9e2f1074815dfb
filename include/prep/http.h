/* prep http: the server core both prep servers stand on (DESIGN.md, "http"): the
 * public broadcaster server (prep serve, include/prep/serve.h) and the institute's pull
 * link (include/prep/pull.h). It knows nothing of cuts, pages or the registry: a server
 * is given a HANDLER that answers requests, and a STATE (an opaque reference-counted
 * object, e.g. the cut version prep serve holds) that the handler answers from.
 *
 * Two layers:
 *   - the parsing layer: pure functions over byte buffers, no sockets, no allocation, no
 *     global state (docs/internals/http1.md): an HTTP/1.1 request-head parser (RFC 9112),
 *     re-entrant over "the bytes received so far" and pipelining-friendly; path
 *     normalisation of a request target into a site key (docs/formats/site.md);
 *     Accept-Encoding negotiation (br > gzip > identity, q-values, RFC 9110 §12.5.3);
 *     If-None-Match, If-Range and single byte-range evaluation (RFC 9110 §13, §14); listen
 *     addresses;
 *   - the server (src/http/server*.c, h2.c, tls.c; docs/internals/serve.md "Network
 *     layer"): one epoll event loop per thread, TLS by OpenSSL under prep_tls_server_policy,
 *     HTTP/2 by libnghttp2, HTTP/1.1 with keep-alive and pipelining, and every limit of
 *     docs/internals/serve.md (deadlines, per-address caps, the global cap with its
 *     reserve, per-connection memory and work budgets).
 *
 * Ownership: every pointer argument is borrowed; every slice a function outputs points
 * into the caller's input buffer (borrowed from it: valid while that buffer is). */
#ifndef PREP_HTTP_H
#define PREP_HTTP_H

#include <stdio.h>
#include <sys/socket.h>

#include "prep/core.h"

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

/* ================================================================ requests and answers */
/* One request as a handler sees it, from HTTP/1.1 (prep_http_req) or HTTP/2 headers.
 * Every slice borrowed; an absent field has p == NULL. */
typedef struct prep_http_request {
    prep_http_method method;
    prep_http_slice path;            /* percent-encoded, as received (no query) */
    prep_http_slice query;           /* after '?', as received; absent: p == NULL */
    prep_http_slice accept_encoding, if_none_match, range, if_range;
    prep_time now;                   /* for the publication window; PREP_TIME_NONE = clock */
} prep_http_request;

typedef struct prep_http_field {
    const char *name; /* lowercase ("content-type"), static or in the response */
    size_t name_len;
    const char *value;
    size_t value_len;
} prep_http_field;

#define PREP_HTTP_MAX_FIELDS 24

/* The answer to one request. Everything it points to stays valid until
 * prep_http_response_done, which calls the handler's done (dropping the state reference
 * the answer holds, freeing what it owns). */
typedef struct prep_http_response prep_http_response;
struct prep_http_response {
    int status;                      /* 200, 206, 304, 400, 404, 405, 406, 414, 416, 503 */
    /* The fields to send, lowercase names, in order, WITHOUT content-length, date and
     * connection (the protocol layer adds those). HTTP/2 sends them as they are. */
    prep_http_field fields[PREP_HTTP_MAX_FIELDS];
    size_t n_fields;
    /* HTTP/1.1: the head to send before "date:"/"connection:" and the final CRLF: the
     * status line and every field above plus content-length, ready to write (prebuilt per
     * representation for 200 and 304; built into the response otherwise). */
    const char *h1_head;
    size_t h1_head_len;
    /* HTTP/1.1: sent right after h1_head: a block of fields shared by many answers (prep
     * serve: the version's x-prep-corte and security fields, so that ~380 bytes are not
     * repeated in every representation's prebuilt heads); borrowed, valid until
     * prep_http_response_done. Empty (len 0) when h1_head holds every field. */
    const char *h1_common;
    size_t h1_common_len;
    const uint8_t *body;             /* the bytes to send (a Range is already applied); may be NULL
                                      * when send_body is 0 (a HEAD of a page made from its parts) */
    uint64_t body_len;               /* the content-length; HEAD: send no body, same length */
    int send_body;                   /* 0 for HEAD, 304 */
    uint64_t seq;                    /* the cut this response belongs to (0 = none) */
    const char *log_user;            /* the access log's user field (the pull link: the
                                      * broadcaster's id); NULL = "-". Valid until done */
    const char *log_target;          /* the access log's request target instead of the one
                                      * received (a path holding a secret); NULL = as
                                      * received, or "-" under redact_targets */
    void (*done)(prep_http_response *r); /* the handler's release; NULL = nothing */
    uint64_t own_bytes;              /* memory this answer alone holds for its body (a copy
                                      * it made: an identity page assembled from its parts,
                                      * an archived file read for it alone, a patch): what
                                      * the connection's and the server's answer-memory
                                      * budgets count. 0 when the body is the state's, in a
                                      * shared cache, or mapped from a file */
    void *_ref;                      /* the state reference this response holds */
    void *_owned;                    /* the handler's storage for this response (heads,
                                      * bodies, references), released by done */
    char _scratch[512];              /* small dynamic fields (content-range, ...) */
};

/* Ends a response: calls r->done; NULL ok. */
void prep_http_response_done(prep_http_response *r);

/* A listen address "ADDR:PORT" — a numeric IPv4 address, or an IPv6 one in brackets
 * ("[::1]:8443"), port 0..65535 (0 = any free port) — into *sa and *len (borrowed). Returns
 * PREP_OK, or PREP_ERR_USAGE with a "listen" diag naming spec. */
PREP_NODISCARD prep_err prep_http_parse_addr(const char *spec, struct sockaddr_storage *sa, socklen_t *len, prep_diags *d);

/* ================================================================ the server */
#define PREP_HTTP_MAX_THREADS 64
#define PREP_HTTP_ANSWER_MEMORY_MB 256 /* max_answer_memory's default, in MiB */

typedef struct prep_http_server prep_http_server; /* opaque */

/* What a server answers with. Every callback runs on an event loop (respond, done, the
 * state's ref/unref) unless said otherwise, concurrently on several: thread-safe, and
 * never blocking for long (no network; small file reads only). */
typedef struct prep_http_handler {
    void *ctx;
    /* Answers req from state (a reference the calling event loop holds; NULL when the
     * server was started without one). Never fails: an answer is always filled in, with
     * its done set when it holds anything. */
    void (*respond)(void *ctx, void *state, const prep_http_request *req, prep_http_response *out);
    void (*state_ref)(void *state);
    void (*state_unref)(void *state);       /* NULL ok; must not block (an event loop may
                                             * drop the last reference) */
    uint64_t (*state_seq)(const void *state); /* "x-prep-corte" of the server's own answers
                                             * (errors, redirects); NULL = not sent */
    /* "/health" (which 1) and "/metrics" (which 2), answered by the server itself (in
     * text/plain, no-cache): appends the body to b and returns the status. NULL: those
     * paths go to respond like any other. prep_http_server_metrics gives the network
     * counters. */
    int (*reserved)(void *ctx, prep_http_server *srv, int which, prep_buf *b);
} prep_http_handler;

typedef struct prep_http_server_config {
    const char *name;           /* the status lines' prefix ("prep serve"); NULL = "prep" */
    const char *listen;         /* borrowed; plain "ADDR:PORT"; NULL = none */
    const char *tls_listen;     /* borrowed; HTTPS "ADDR:PORT"; NULL = none */
    const char *tls_cert;       /* borrowed; PEM chain and key (with tls_listen) */
    const char *tls_key;
    int redirect_plain;         /* with both listeners: plain requests get 301 to https
                                 * (the reserved paths still answer on it) */
    int h2;                     /* 1 (default): ALPN offers h2 before http/1.1 */
    int threads;                /* event loops; 0 = online cores; at most PREP_HTTP_MAX_THREADS */
    const char *user;           /* borrowed; after binding, drop to this user; NULL = keep.
                                 * As root without a user, only loopback listeners are
                                 * allowed (unless allow_root) */
    int allow_root;             /* 1: keep root without a user (a server inside a daemon
                                 * that drops privileges itself, or not at all) */
    const char *access_log;     /* borrowed; file appended in combined format; NULL = none */
    int access_log_fd;          /* or an open descriptor (borrowed); -1 (default) = none */
    int redact_targets;         /* 1: the access log never writes a request target as
                                 * received (it may hold a token), only the answer's
                                 * log_target, else "-" */
    const char *pid_file;       /* borrowed; written after binding, removed at close; NULL */
    int max_conns_per_ip;       /* default 64, per address group (an IPv4 address, an IPv6
                                 * /64), one table for the server */
    int max_conns;              /* default 10000: at it a new connection sheds the oldest
                                 * one without a complete request (else the oldest idle
                                 * one), else is refused (503 plain, reset TLS) */
    size_t max_answer_memory;   /* default PREP_HTTP_ANSWER_MEMORY_MB: bytes every connection's answers may own
                                 * at once (archive bodies, identity pages copied from their
                                 * parts), whole server. An answer past it is refused (503,
                                 * retry-after) unless nothing else is held, so that
                                 * connections from many addresses cannot pile it up */
    int idle_timeout_ms;        /* keep-alive idle and stalled writes; default 30000 */
    int header_timeout_ms;      /* a request head (or TLS handshake) must complete within
                                 * this; default 10000 (slowloris) */
    const char *csp;            /* content-security-policy of the server's own answers;
                                 * NULL = "default-src 'none'" */
    int64_t hsts_max_age;       /* strict-transport-security of own answers over TLS;
                                 * 0 = none (default) */
    const char *metrics_prefix; /* the connection gauges' names in prep_http_server_metrics
                                 * ("prep_serve" gives prep_serve_connections...); NULL =
                                 * "prep_http" */
    FILE *status_out;           /* borrowed; the "listening on" lines; NULL = none */
    prep_http_handler handler;
} prep_http_server_config;

void prep_http_server_config_init(prep_http_server_config *c);

/* Checks the configuration, binds every listening socket (SO_REUSEPORT, one per address
 * per event loop), loads the certificate, opens the access log, writes the pid file and
 * drops privileges. Nothing is served yet. *out owned (prep_http_server_close). Errors:
 * PREP_ERR_USAGE (bad address, limits, root), PREP_ERR_IO (port in use, files) with a
 * diag naming what. Sets the process's malloc mmap threshold (docs/internals/serve.md). */
PREP_NODISCARD prep_err prep_http_server_open(const prep_http_server_config *c, prep_http_server **out, prep_diags *d);
/* Starts the event loops on their own threads, answering from state (the caller's
 * reference passes to the server; NULL ok), and prints the listeners to status_out. */
PREP_NODISCARD prep_err prep_http_server_start(prep_http_server *s, void *state, prep_diags *d);
/* Replaces the state answered from (the caller's reference passes to the server): each
 * event loop takes the new one at its next turn; answers in flight keep theirs. */
void prep_http_server_publish(prep_http_server *s, void *state);
/* A new reference to the state published last (NULL when none). Any thread. */
void *prep_http_server_state(prep_http_server *s);
/* The bound port of the TLS (tls 1) or plain (tls 0) listener; 0 when none. */
int prep_http_server_port(const prep_http_server *s, int tls);
/* Gives back to the system the memory closed connections freed (malloc_trim), at most
 * once a second and only when some was freed. Call it from the owner's thread (it takes
 * milliseconds: never from an event loop). */
void prep_http_server_housekeep(prep_http_server *s);
/* Appends the network counters in Prometheus text format: requests by status, body
 * bytes, connections open and accepted, shed and refused. */
void prep_http_server_metrics(prep_http_server *s, prep_buf *b);
/* Stops (closes every connection), joins the event loops, drops the state, removes the
 * pid file, frees. NULL ok. */
void prep_http_server_close(prep_http_server *s);

#endif

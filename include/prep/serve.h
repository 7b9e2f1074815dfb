/* prep serve: the broadcaster's HTTPS server (DESIGN.md, "serve"): the active cut held
 * in memory as a VERSION and swapped atomically, answered on the http part's server core
 * (include/prep/http.h). */
#ifndef PREP_SERVE_H
#define PREP_SERVE_H

#include <stdio.h>

#include "prep/core.h"
#include "prep/http.h"

/* ================================================================ the served site
 * (src/serve/site_*.c, docs/internals/serve.md)
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
    size_t archive_cache_bytes;  /* archived files kept once read (process-wide, shared by
                                  * every cut that has the file); default 64 MiB; 0 = each
                                  * answer reads, assembles and checks its own copy */
    int br_warm;                 /* 1 (default): after an HTTPS load, a lowest-priority thread
                                  * makes the pages' brotli variants (most requested in prev
                                  * first); 0: only on first request */
    int whole_file;              /* 0 (default): composed pages are held as their parts (shared
                                  * across versions), gzip per part, br on first use. 1: the
                                  * former approach, for comparison (bench_serve_load): every
                                  * page assembled, whole-file gzip and br and every head at load */
    int chunks_alone;            /* 0 (default): a page's own parts are deflated with the page's
                                  * bytes before them as preset dictionary, so its gzip answer
                                  * compresses like one stream. 1: every part alone (the former
                                  * chunks, for comparison: tests and benches) */
    int fallback;                /* 0 (default): a load of the active cut that fails fails. 1
                                  * (prep serve): when loading the active cut (seq 0) with no
                                  * prev (start-up) or the empty one fails, load the newest
                                  * older whole cut
                                  * instead (prep_cut_fallbacks; at most
                                  * PREP_SERVE_FALLBACK_TRIES tried) and say so in the info */
    FILE *log_out;               /* borrowed; where a fallback is reported (why the active cut
                                  * was refused, which cut is served instead); NULL = nowhere */
    uint64_t archive_load_rate;  /* bytes of archived cuts' manifests a version may read and
                                  * parse a second (a page of a cut none of its
                                  * SITE_ARCHIVE_CACHE kept manifests is asked for), with 4
                                  * seconds' worth at once; past it such a page gets 503 with
                                  * retry-after: 1. Default 32 MiB; 0 = unlimited */
    uint64_t identity_keep;      /* composed pages' identity bytes kept once assembled, per
                                  * version, for identity and Range answers (an answer of a
                                  * page not kept inflates its parts); default
                                  * PREP_SERVE_IDENTITY_KEEP; 0 = none kept */
} prep_serve_site_opts;

/* 64 MiB: the identity of the pages asked for without compression (a crawler, a tool, an
 * attacker repeating a Range of one page) is kept after its first answer, up to this. */
#define PREP_SERVE_IDENTITY_KEEP ((uint64_t)64 << 20)

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
PREP_NODISCARD prep_err prep_serve_version_load(const char *store, uint64_t seq, const prep_serve_version *prev,
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
PREP_NODISCARD prep_err prep_serve_version_empty(const prep_serve_site_opts *opts, prep_serve_version **out);
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
    size_t parts_compressed;    /* deflate chunks this load made (not cached): a part alone,
                                 * or a part after the bytes before it in a page (one per
                                 * such context) */
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

/* Answers req from version v (borrowed; the response takes its own reference). Never
 * fails: a bad path is 400/404, a method other than GET/HEAD 405 with "allow: GET, HEAD".
 * Paths: "/" and ".../" map to index.html; a directory without its slash redirects (301);
 * "cortes/<seq>/..." serves an archived cut from the store (immutable); files get the
 * cache class of their path (prep_policy_cache_control, include/prep/policy.h), other
 * answers no-cache; every response carries the
 * security headers and "x-prep-corte: <seq>". End it with prep_http_response_done. */
void prep_serve_respond(prep_serve_version *v, const prep_http_request *req, prep_http_response *out);

/* Behind a load balancer (src/serve/site_replica.c, docs/scale-out.md): a request whose
 * query STARTS with "prep_visto=N" (N: 0 to PREP_SERVE_SEEN_DIGITS digits; empty = 0),
 * followed by '&' or the end, carries the newest cut its client was already given.
 * prep_serve_respond strips the marker (and its '&') before anything else looks at the
 * query, then, when v's cut is older than N, answers 503 with retry-after: 1 and its own
 * x-prep-corte instead of the file: the proxy retries on another replica. GET or HEAD
 * /health/cut answers "ok corte S" (200) when the served cut S >= N (no marker: N = 0),
 * "behind corte S < N" (503) otherwise: the proxy's health check. A value that is not
 * such a marker ("prep_visto=x", more digits) is left in the query (the site ignores it). */
#define PREP_SERVE_SEEN_PARAM "prep_visto"
#define PREP_SERVE_SEEN_DIGITS 12
/* Parses the marker at the start of query (borrowed). Returns 1 with *seen = N and *rest =
 * the query after it ({NULL, 0} when nothing follows, as for a request without a query);
 * 0 with *seen = 0 and *rest = query when there is none. */
int prep_serve_seen_take(prep_http_slice query, uint64_t *seen, prep_http_slice *rest);

/* ================================================================ the server
 * (src/serve/serve_run.c on the http part's server core; docs/internals/serve.md)
 *
 * The versions are the http server's state: a watcher (the calling thread) polls the
 * store's active pointer and loads a newly activated cut off the event loops, then
 * publishes it; each response keeps the version it started on. Reserved paths outside
 * the site: /health and /metrics (Prometheus text). */
#define PREP_SERVE_MAX_THREADS PREP_HTTP_MAX_THREADS

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
    size_t max_answer_memory;   /* default 256 MiB: what all open answers may own at once
                                 * (prep_http_server_config.max_answer_memory) */
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
PREP_NODISCARD prep_err prep_serve_run(const prep_serve_config *c, prep_diags *d);
/* Asks a running prep_serve_run to stop (async-signal-safe; any thread). */
void prep_serve_stop(void);


#endif

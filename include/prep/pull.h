/* prep pull: the per-broadcaster download link (DESIGN.md "deliver": pull), both ends.
 *
 * The institute serves, under /pull/<token>/, what a broadcaster's store needs to take a
 * cut: the current state, each cut's manifest and signature, and the content-addressed
 * objects. Each broadcaster has its own secret token (the registry keeps only its
 * SHA-256); a blocked broadcaster's token answers 403 from the moment the block is
 * committed, because every request asks the authorizer again. Nothing here is trusted
 * by the receiver: it verifies every cut with prep_cut_receive, as for a push.
 *
 *   GET /pull/<token>/estado                 "prep-pull 1\nseq N\nmanifest SHA256\n"
 *                                            (ETag "SHA256": poll with If-None-Match)
 *   GET /pull/<token>/cuts/<seq>/manifest    the cut's manifest
 *   GET /pull/<token>/cuts/<seq>/manifest.patch
 *                                            the patch that rebuilds it from cut seq-1's
 *                                            (docs/formats/cut.md), 404 when there is none
 *                                            smaller than the manifest; the client uses it
 *                                            when it holds cut seq-1, as a push does
 *   GET /pull/<token>/cuts/<seq>/manifest.sig
 *   GET /pull/<token>/objects/<aa>/<62 hex>  one object
 *
 * Objects and patches are answered with Content-Encoding: gzip to a client that accepts
 * it, when the institute's wire cache (prep_cut_wire_prepare) holds their compressed form;
 * never compressed on the event loop. The client keeps such an object as
 * objects/aa/<sha>.gz for prep_cut_receive, which inflates it bounded by the signed size.
 *
 * Code: src/pull/pull_server.c, src/pull/pull_client.c; docs/delivery.md. */
#ifndef PREP_PULL_H
#define PREP_PULL_H

#include "prep/core.h"
#include "prep/cut.h"

/* ---------------------------------------------------------------- the institute's side */
/* Decides on a token (a NUL-terminated string of at most 128 bytes from the URL): returns
 * 1 allowed (id_out gets the broadcaster id, for the log), 0 unknown (404), -1 blocked
 * (403). Called on server threads, once per request; must be thread-safe. */
typedef int (*prep_pull_authorize_fn)(void *ctx, const char *token, char id_out[64]);

typedef struct prep_pull_server_opts {
    const char *listen;    /* "127.0.0.1:9443" or "[::1]:9443" (borrowed; prep_http_parse_addr) */
    const char *tls_cert;  /* PEM files (borrowed); NULL = plain HTTP (tests, or behind a TLS front) */
    const char *tls_key;
    const char *store;     /* the institute's store (borrowed) */
    prep_pull_authorize_fn authorize;
    void *ctx;
    int max_conns;         /* concurrent connections; default 4096 (at the cap the oldest one
                            * without a complete request is shed, else a new one is refused) */
    int threads;           /* event loops; default 2 */
    int timeout_s;         /* keep-alive idle and stalled writes; default 30 */
    int head_timeout_s;    /* the TLS handshake and each request head must be complete this long after
                            * they are awaited, however the bytes trickle in; default 10 */
    int max_conns_per_addr; /* connections from one IPv4 address or one IPv6 /64; default 16 */
    FILE *log;             /* one line per request (borrowed); NULL = none */
    int wire_wait;         /* 1: a new cut is announced (estado) once its compressed forms are
                            * made (STORE/wire/cuts/<seq>/done, prep_cut_wire_prepare), at most
                            * 60 s after it became active; meanwhile the cut before (or, for
                            * the first, no cut: 503). The institute sets it: it makes them
                            * right after each cut. 0: every cut at once. */
} prep_pull_server_opts;

typedef struct prep_pull_server prep_pull_server; /* opaque */

/* Binds and starts serving on its own event loops: the http part's server core, with the
 * same limits, deadlines, per-address caps and TLS policy as prep serve
 * (docs/internals/serve.md "Network layer"); HTTP/1.1 and, over TLS, HTTP/2. Over a
 * limit a plain connection is answered 503 with the reason, a TLS one reset. The access
 * log (o->log, combined format) names the broadcaster and never writes its token.
 * *out owned (prep_pull_server_stop).
 * The bound port (useful with port 0) via prep_pull_server_port. */
PREP_NODISCARD prep_err prep_pull_server_start(const prep_pull_server_opts *o, prep_pull_server **out, prep_diags *d);
int prep_pull_server_port(const prep_pull_server *s);
/* Stops accepting, closes every connection, joins the threads, frees. NULL ok. */
void prep_pull_server_stop(prep_pull_server *s);

typedef struct prep_pull_server_stats {
    uint64_t requests, ok, not_modified, forbidden, not_found, bad, bytes;
} prep_pull_server_stats;
void prep_pull_server_get_stats(prep_pull_server *s, prep_pull_server_stats *out);

/* ---------------------------------------------------------------- the broadcaster's side */
typedef struct prep_pull_opts {
    const char *url;        /* ".../pull/<token>/" (borrowed), ending in '/' */
    const char *ca_file;    /* PEM to verify the institute's certificate; NULL = system CAs */
    const char *store;      /* the broadcaster's store (borrowed) */
    const char *work;       /* scratch dir for the incoming batch (borrowed); NULL = STORE/pull */
    const prep_cut_policy *policy; /* what prep_cut_receive checks (borrowed) */
    int timeout_s;          /* per transfer; default 60 */
    int heal;               /* 1: when the link's newest cut is the active one, take it again
                             * (its whole manifest, the objects the store lacks): a store that
                             * moved a damaged object aside gets it back without a next cut */
} prep_pull_opts;

typedef struct prep_pull_result {
    uint64_t remote_seq;     /* the institute's current sequence (0 unknown) */
    uint64_t active_before, active_after;
    int not_modified;        /* the state had not changed since the last poll (304) */
    size_t cuts_fetched, objects_fetched;
    size_t patches_fetched;  /* cuts whose manifest came as a patch */
    size_t patches_refused;  /* patches offered that did not apply here (the whole manifest
                              * was fetched instead): a fault at the institute's side */
    uint64_t bytes_fetched;  /* on the wire (a gzip'd answer counts its compressed bytes) */
    size_t gz_fetched;       /* objects that came gzip'd (Content-Encoding: gzip) */
    int http_status;         /* of the state request; 403 = this broadcaster is blocked */
} prep_pull_result;

/* One poll: asks the state (conditional on etag, in/out: a 65-byte buffer, "" the first
 * time), and when the institute has a newer cut, fetches the manifests (as patches against
 * the cut before when the store holds it) and signatures of every cut after the local
 * active one and the objects the store lacks, then
 * prep_cut_receive. Returns PREP_OK (also when nothing was new), PREP_ERR_VERIFY (a cut
 * was refused; the active cut stays), PREP_ERR_IO (network; diags say which URL and
 * why, "blocked" for 403). */
PREP_NODISCARD prep_err prep_pull_once(const prep_pull_opts *o, char etag[65], prep_pull_result *res, prep_diags *d);

#endif

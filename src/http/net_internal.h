/* The http part's server core (include/prep/http.h): shared between server*.c, tls.c and
 * h2.c only. docs/internals/serve.md "Network layer". */
#ifndef PREP_HTTP_NET_INTERNAL_H
#define PREP_HTTP_NET_INTERNAL_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "prep/http.h"
#include "prep/policy.h"

#define NET_MAX_LISTENERS 2          /* plain and TLS */
#define NET_H1_QUEUE 8               /* pipelined responses queued per connection */
#define NET_RBUF PREP_HTTP_MAX_HEAD  /* read buffer: one whole head (16 KiB) */
#define NET_WBUF (64 * 1024)         /* TLS write buffer (coalesced records) */
#define NET_LOGBUF (64 * 1024)       /* access-log buffer per worker */
#define NET_MMAP_THRESHOLD (1 << 20) /* malloc blocks this large get their own mapping */
#define NET_H2_MAX_STREAMS 32          /* SETTINGS_MAX_CONCURRENT_STREAMS */
/* Progress of an answer a client reads: this many bytes of it taken (or all of it). A
 * client that takes less within --idle-timeout (1 byte every few seconds, its window
 * opened a byte at a time) makes none: its connection is closed as idle, and an HTTP/2
 * stream so stalled is reset, freeing the answer and the cut version it holds. 16 KiB
 * in 30 s is 0.5 KB/s, under any reader's link. */
#define NET_PROGRESS_BYTES (16 * 1024)
/* A connection whose answers made no such progress for this long is a stalled reader: at
 * the global cap it is shed before idle readers (tier 0), not kept as "being served". */
#define NET_STALL_SHED_MS 5000
/* The longest ClientHello taken (the handshake length its first record declares): a real
 * one is 0.5-3 KB (with post-quantum key shares); OpenSSL allows 131,396 and holds a buffer
 * of the declared size (~150 KB a connection) until --header-timeout. */
#define NET_CLIENT_HELLO_MAX (16 * 1024)
/* TLS 1.3 KeyUpdate messages a client may send on one connection: each one asking for an
 * update makes the server derive keys and write one back, and OpenSSL handled a flood of
 * them inside one SSL_read, never back to the loop (session 36's probe: one connection
 * held a worker, its other connections and timeouts, for as long as it sent). Browsers
 * send none; a client moving gigabytes might send a few. */
#define NET_TLS_KEY_UPDATES_MAX 32
#define NET_H2_MEM_BUDGET (16u << 20)  /* bytes the open answers of one connection may own */
#define NET_H1_MEM_BUDGET NET_H2_MEM_BUDGET /* the same for HTTP/1.1's queued answers */
#define NET_H2_FRAME_BURST 1000        /* frame budget: tokens at the start, and at most */
#define NET_H2_FRAME_RATE 100          /* tokens added a second */
#define NET_H2_MAX_SETTINGS 16         /* entries per SETTINGS frame (7 are defined) */
#define NET_H2_MAX_CONTINUATIONS 8     /* CONTINUATION frames after one HEADERS */
#define NET_H2_HEADER_LIST_CUT 4       /* a stream's fields past this many times the limit
                                        * advertised (SETTINGS_MAX_HEADER_LIST_SIZE): the
                                        * connection is cut, not answered 431 */
#define NET_H2_RST_BURST 200           /* RST_STREAMs received: bucket size (rapid reset) */
#define NET_H2_RST_RATE 20             /* and its refill a second */
#define NET_H2_MAX_OUTBOUND_ACK 100    /* PING/SETTINGS acks queued for a client that does not read */
#define NET_EVENT_BUDGET (64 * 1024)   /* bytes read from one connection per readiness event */
#define NET_H2_FIELDS_MAX 8192       /* bytes of kept request fields per HTTP/2 stream */
#define NET_H2_HEADER_LIST_MAX PREP_HTTP_MAX_HEAD /* all request fields of a stream */
#define NET_H2_TOO_LARGE_MAX 4       /* requests answered 431 on one connection, then it is cut
                                      * (HTTP/1.1 closes at the first): a block of one-byte
                                      * table references decoding just under the cut costs
                                      * ~3.7 times a plain request to decode (session 36) */
#define NET_REFUSING_MAX 256         /* refused connections draining after their 503, per worker */
#define NET_RETRY_AFTER 5            /* seconds, in the 503 of a refused connection or answer */
#define NET_STR_(x) #x
#define NET_STR(x) NET_STR_(x)       /* a number macro's text: NET_STR(NET_RETRY_AFTER) is "5" */
#define NET_SHED_ASKS_MAX 64         /* connections admitted over the cap while another worker sheds */

/* Statuses counted in /metrics; anything else counts as "other". */
#define NET_N_STATUS 21
extern const int net_status_list[NET_N_STATUS];
int net_status_index(int status);

/* What epoll_event.data.ptr points to: the first member says which. */
enum { EV_LISTENER = 1, EV_CONN, EV_WAKE };

typedef struct net_listener {
    int kind;                  /* EV_LISTENER */
    int fd;
    int idx;                   /* index into server.lcfg */
} net_listener;

typedef struct net_listen_cfg {
    int tls;                   /* 1: HTTPS */
    int redirect;              /* plain while TLS is configured: 301 to https */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char host[128];            /* as given, for printing and redirects ("127.0.0.1", "[::1]") */
    int port;                  /* after binding (port 0 resolved) */
    int loopback;
} net_listen_cfg;

typedef struct prep_http_server net_server;
typedef struct net_worker net_worker;
typedef struct net_conn net_conn;
typedef struct net_h2 net_h2;

/* Per-worker counters, summed at scrape time (relaxed atomics: only this worker writes). */
typedef struct net_stats {
    _Atomic uint64_t requests[NET_N_STATUS + 1];
    _Atomic uint64_t bytes;
    _Atomic uint64_t conns_total;
    _Atomic uint64_t h2_cut;             /* HTTP/2 connections cut for a budget or a protocol error */
    _Atomic uint64_t h2_stalled;         /* HTTP/2 streams reset: their answer taken too slowly */
    _Atomic uint64_t shed;               /* waiting connections closed to admit a new one (cap) */
    _Atomic uint64_t refused_cap;        /* refused: the global cap, nothing to shed */
    _Atomic uint64_t refused_addr;       /* refused: --max-conns-per-ip of its address group */
    _Atomic uint64_t refused_mem;        /* answers refused (503): the server's answer memory */
} net_stats;

struct net_worker {
    int id;
    net_server *srv;
    pthread_t th;
    int ep;
    struct { int kind; int fd; } wake;   /* eventfd: a new version or stop */
    net_listener ls[NET_MAX_LISTENERS];
    int n_ls;
    net_conn *conns;                     /* doubly linked, for timeouts and shutdown */
    size_t n_conns;
    void *state;                         /* this worker's reference to the handler's state */
    uint64_t vgen;
    int64_t now_ms;                      /* monotonic, updated each loop turn */
    time_t date_sec;
    char date[40];                       /* "Tue, 15 Nov 1994 08:12:31 GMT" */
    size_t date_len;
    time_t log_sec;
    char log_time[40];                   /* "10/Oct/2000:13:55:36 -0700" */
    char *logbuf;                        /* NET_LOGBUF, or NULL without an access log */
    size_t loglen;
    int64_t log_flushed_ms;
    net_conn *dhead, *dtail;             /* connections that yielded with work left (FIFO) */
    size_t n_deferred;
    /* Waiting connections, oldest first, in two tiers: [0] no complete request yet (or
     * closing), [1] readers answered and now idle. What the global cap sheds to admit a
     * new connection, tier 0 first (net_conn_wait). */
    net_conn *whead[2], *wtail[2];
    _Atomic size_t n_waiting;            /* written by this worker only; read by the others */
    _Atomic int shed_asks;               /* other workers admitted connections on our waiting ones */
    size_t n_refusing;                   /* refused connections draining (NET_REFUSING_MAX) */
    int spare_fd;                        /* a descriptor held back for EMFILE (accept, refuse) */
    net_stats st;
};

struct prep_http_server {
    prep_http_server_config cfg;         /* copied */
    const prep_http_handler *h;          /* &cfg.handler */
    net_listen_cfg lcfg[NET_MAX_LISTENERS];
    int n_lcfg;
    int tls_port;                        /* for redirects; 0 = no TLS */
    SSL_CTX *ssl;
    int nthreads;
    int started;                         /* worker threads running */
    int pid_written;
    net_worker *w;
    int log_fd;                          /* the access log, or -1 */
    int own_log_fd;                      /* 1: opened here (closed at the end) */
    char csp[PREP_POLICY_CSP_MAX];       /* content-security-policy of own answers */
    char hsts[64];                       /* strict-transport-security value */
    int64_t last_trim;                   /* prep_http_server_housekeep */
    /* the published state */
    pthread_mutex_t vmu;
    void *state;
    _Atomic uint64_t vgen;
    _Atomic int stopping;
    _Atomic int64_t conns;               /* open now */
    _Atomic size_t owned;                /* bytes all open answers own (cfg.max_answer_memory) */
    _Atomic int trim_due;                /* memory of connections freed: housekeep trims */
    _Atomic int shed_pending;            /* shed_asks not yet done, all workers (NET_SHED_ASKS_MAX) */
    /* connections per IP: one table for the server */
    pthread_mutex_t ipmu;
    struct ipcount **ipt;
    size_t ipt_size;
};

/* One queued HTTP/1.1 response (head + extra + body, sent in order). */
typedef struct net_h1out {
    prep_http_response resp;            /* when has_resp */
    int has_resp;
    const char *head;
    size_t head_len;
    const char *common;                  /* the version's shared fields (after head), or empty */
    size_t common_len;
    char extra[96];                      /* "date: ...\r\n" ["connection: close\r\n"] "\r\n" */
    size_t extra_len;
    const uint8_t *body;
    size_t body_len;                     /* 0 when no body is sent */
    size_t sent;                         /* bytes of head+extra+body already written */
    char *alloc;                         /* owned memory of our own responses */
    size_t owned;                        /* body bytes the response owns (counted in h1_owned) */
} net_h1out;

enum { PROTO_H1 = 1, PROTO_H2 };

struct net_conn {
    int kind;                            /* EV_CONN */
    int fd;
    net_worker *w;
    net_conn *prev, *next;
    int lidx;                            /* listener config index */
    int tls, redirect;
    SSL *ssl;
    int handshaken;
    int hello_seen;                      /* the ClientHello's declared length was looked at */
    unsigned key_updates;                /* TLS 1.3 KeyUpdates received (net_tls_msg) */
    int tls_more;                        /* SSL_read stopped at a record that was no data, with
                                          * more buffered: resume after the others (deferred) */
    int hello_rearm;                     /* fewer than 9 bytes of it: EPOLLIN again at the next tick */
    int proto;
    unsigned events;                     /* current epoll interest */
    int closing;                         /* close once the output is written */
    int dead;
    int64_t linger_until;                /* answered and half-closed: drain until then */
    struct sockaddr_storage peer;
    char ip[48];
    int64_t head_start_ms;               /* first byte of the pending head, 0 = none */
    int64_t active_ms;                   /* last progress */
    size_t progress_bytes;               /* answer bytes taken since: NET_PROGRESS_BYTES make progress */
    int stalled;                         /* waiting (tier 0) as a stalled reader (NET_STALL_SHED_MS) */
    char *rbuf;                          /* NET_RBUF, from the first byte read; NULL while idle */
    size_t rlen;
    net_h1out *q;                        /* NET_H1_QUEUE, allocated with rbuf (12 KiB) */
    size_t qhead, qn;                    /* ring of queued responses */
    size_t h1_owned;                     /* body bytes the queued answers own (NET_H1_MEM_BUDGET) */
    uint8_t *wbuf;                       /* TLS: NET_WBUF, coalesced plaintext */
    size_t wlen, woff;
    int want_write_on_read;              /* SSL_read said WANT_WRITE */
    int short_read;                      /* the last read returned less than asked */
    net_h2 *h2;
    net_conn *dprev, *dnext;             /* in the worker's deferred list, when deferred */
    int deferred;
    net_conn *wprev, *wnext;             /* in the worker's waiting list, when waiting */
    int waiting;                         /* 0 no, else 1 + the tier (whead) */
    int served_once;                     /* a request of it was complete: an established reader */
    int refused;                         /* over a limit: answered 503, draining; not counted */
};

/* server.c */
void net_worker_now(net_worker *w);
const char *net_date(net_worker *w);     /* cached per second */
void net_conn_close(net_conn *c);
void net_conn_set_events(net_conn *c, unsigned ev);
/* The connection used its work budget with work left: resumed after the worker's other
 * ready connections (its next loop turn polls epoll without waiting). */
void net_conn_defer(net_conn *c);
void net_conn_undefer(net_conn *c);
/* The waiting lists (worker's, oldest first): a connection is waiting from its accept
 * until its first complete request (tier 0), and again once its answers are written
 * (tier 1: an idle reader; tier 0 when it is closing). At the global cap the oldest
 * waiting connection of tier 0, else of tier 1, is closed to admit a new one (readers
 * that got answers keep their idle connections while silent ones remain: the reserve);
 * a connection being served is never shed. net_conn_wait appends (no-op when waiting),
 * net_conn_unwait removes, net_conn_served removes on a complete request. */
void net_conn_wait(net_conn *c);
/* A connection being served whose answers stalled: waiting in tier 0 until it makes
 * progress again (net_conn_progress) or asks anew. */
void net_conn_wait_stalled(net_conn *c);
void net_conn_unwait(net_conn *c);
void net_conn_served(net_conn *c);
net_conn *net_conn_shed_victim(net_worker *w); /* the next to shed, or NULL */
/* At the cap with no waiting connection of its own, a worker asks another that has some
 * to shed its oldest (net_shed_asked, on that worker's loop) and admits the new
 * connection meanwhile (at most NET_SHED_ASKS_MAX over the cap). 1 asked, 0 none. */
int net_shed_ask(net_worker *w);
void net_shed_asked(net_worker *w);
/* The address group --max-conns-per-ip counts: prep_addr_group (core.h). */
/* Connections per address group (one table for the process): acquire 0 = counted, -1 = over the limit. */
int net_ip_acquire(net_server *s, const struct sockaddr_storage *a);
void net_ip_release(net_server *s, const struct sockaddr_storage *a);
/* The server's answer memory (cfg.max_answer_memory): what every open answer owns (an
 * archive body, an identity page copied from its parts), all connections and workers
 * together. Each connection also has its own budget (NET_H2/H1_MEM_BUDGET); this one is
 * what bounds connections from many address groups. net_mem_take counts n bytes and
 * returns 1, or returns 0 (nothing counted) when they would take the total over the limit
 * while something else is held: with nothing held any one answer is taken, so a single
 * download of any size the site serves works. net_mem_give returns them. */
int net_mem_take(net_server *s, size_t n);
void net_mem_give(net_server *s, size_t n);
/* An answer refused for the server's answer memory: counted in /metrics (refused_mem). */
void net_mem_refused(net_worker *w);
/* server_conn.c */
void net_conn_accept(net_worker *w, net_listener *l);
void net_conn_event(net_conn *c, unsigned events);
void net_conn_timeouts(net_worker *w);
/* n answer bytes taken by the client (done: all of an answer): progress once they add up
 * to NET_PROGRESS_BYTES (net_conn.active_ms). */
void net_conn_progress(net_conn *c, size_t n, int done);
/* Reads up to cap bytes (plain read or SSL_read). >0 bytes, 0 would block, -1 closed/error. */
ssize_t net_conn_read(net_conn *c, void *buf, size_t cap);
/* Writes wbuf[woff..wlen) (TLS). 1 all written, 0 would block, -1 error. */
int net_conn_flush_wbuf(net_conn *c);
/* server_extra.c: reserved paths, own responses, access log */
/* 1 /health, 2 /metrics, 0 anything else or a handler without reserved paths */
int net_is_reserved(const net_server *s, const char *path, size_t len);
/* Builds /health or /metrics (which = net_is_reserved) by the handler into an owned body;
 * returns its length (*body owned: free()). *status (may be NULL) gets its status. */
size_t net_reserved_answer(net_server *s, int which, char **body, int *status);
/* The handler's answer to one request, from the worker's state. */
void net_respond(net_worker *w, const prep_http_request *rq, prep_http_response *out);
/* Builds our own complete HTTP/1.1 response head (status line, fields, content-length,
 * security fields, x-prep-corte; not date/connection nor the final CRLF) into an owned
 * string. extra_fields: more "name: value\r\n" lines or NULL. */
char *net_h1_own_head(net_conn *c, int status, const char *ctype, const char *cache,
                      const char *extra_fields, size_t body_len, size_t *len);
/* The same fields as name/value pairs for HTTP/2 (security fields and x-prep-corte). */
typedef struct net_kv { const char *n, *v; } net_kv;
size_t net_security_fields(net_conn *c, net_kv *out, size_t cap, char *seqbuf, size_t seqcap);
void net_count(net_worker *w, int status, uint64_t bytes);
void net_access_log(net_worker *w, const char *ip, const char *user, const char *method, size_t mlen, const char *target,
                    size_t tlen, const char *proto, int status, uint64_t bytes, const char *referer,
                    size_t rlen, const char *ua, size_t ualen);
void net_access_flush(net_worker *w);
/* The target the access log writes for an answer (r may be NULL): r->log_target, else
 * "-" under redact_targets, else the target received (*len in and out). */
const char *net_log_target(const net_server *s, const prep_http_response *r, const char *t, size_t *len);
/* redirects: Location for a plain request; returns an owned string */
char *net_redirect_location(net_conn *c, prep_http_slice host, prep_http_slice path, prep_http_slice query);
/* tls.c */
prep_err net_tls_ctx(const char *cert, const char *key, int h2, SSL_CTX **out, prep_diags *d);
/* h2.c */
int net_h2_start(net_conn *c);           /* 0 ok */
void net_h2_on_readable(net_conn *c);
void net_h2_on_writable(net_conn *c);
void net_h2_free(net_conn *c);
int net_h2_idle(const net_conn *c);      /* 1: no stream whose request ended (none being answered) */
int net_h2_pending(const net_conn *c);   /* 1: an answer with body bytes not yet taken */
/* Resets the streams whose answer took less than NET_PROGRESS_BYTES for limit_ms, and
 * those whose request has not ended head_limit_ms after its HEADERS, and sends the
 * resets. */
void net_h2_stalls(net_conn *c, int64_t limit_ms, int64_t head_limit_ms);

#define net_mono_ms prep_mono_ms

#endif

/* prep serve: the response decision (docs/internals/serve.md).
 *
 * prep_serve_respond maps one request onto a loaded version: method, publication window,
 * path normalisation, lookup (or the archive of older cuts), content negotiation,
 * If-None-Match, Range/If-Range. For a 200 or 304 of an in-memory file the HTTP/1.1
 * head is the one prebuilt at load; every other answer builds its head into storage the
 * response owns. Thread-safe: the version is read-only, the archive cache is under a
 * mutex, the response holds a reference to its version until prep_http_response_done. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "site_internal.h"

/* ---------------------------------------------------------------- archived bodies
 * Archived cuts never change and a file is named by its SHA-256, so a body read, assembled
 * and checked once is kept: an archived page answered again costs a lookup, not a read,
 * an assembly and a hash (issue 13 item 4). One process-wide direct-mapped table bounded
 * in bytes, keyed by the store and the file's SHA-256 (one body for every cut that has
 * the file); an answer holds a reference, so a body replaced in the table lives until its
 * last answer ends. A body that does not fit the budget is answered uncached. */
#define ARCH_SLOTS 4096

typedef struct arch_body {
    atomic_uint refs;
    uint64_t key;          /* FNV-1a of the store's path and the SHA-256 */
    char sha256[65];
    size_t len;
    uint8_t data[];
} arch_body;

static pthread_mutex_t g_arch_mu = PTHREAD_MUTEX_INITIALIZER;
static arch_body *g_arch[ARCH_SLOTS];
static size_t g_arch_bytes;
static _Atomic uint64_t g_arch_hits, g_arch_misses;

static void arch_body_unref(arch_body *b)
{
    if (!b) return;
    unsigned was = atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel);
    PREP_ASSERT(was >= 1);
    if (was == 1) free(b);
}

static uint64_t arch_key(const char *store, const char *sha256)
{
    uint64_t h = prep_fnv1a(PREP_FNV1A_INIT, store, strlen(store) + 1);
    return prep_fnv1a(h, sha256, 64);
}

/* A reference to the cached body, or NULL. */
static arch_body *arch_body_get(uint64_t key, const char *sha256)
{
    pthread_mutex_lock(&g_arch_mu);
    arch_body *b = g_arch[key % ARCH_SLOTS];
    if (b && (b->key != key || memcmp(b->sha256, sha256, 64))) b = NULL;
    if (b) atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&g_arch_mu);
    atomic_fetch_add_explicit(b ? &g_arch_hits : &g_arch_misses, 1, memory_order_relaxed);
    return b;
}

/* Offers b (checked) to the table, replacing its slot's occupant when the budget allows. */
/* Keeps b in the cache when it fits the budget: 1, else 0 (b is its answer's alone). */
static int arch_body_put(arch_body *b, size_t budget)
{
    arch_body *old = NULL;
    int kept = 0;
    pthread_mutex_lock(&g_arch_mu);
    arch_body **slot = &g_arch[b->key % ARCH_SLOTS];
    size_t bytes = g_arch_bytes - (*slot ? (*slot)->len : 0) + b->len;
    if (bytes <= budget) {
        old = *slot;
        *slot = b;
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
        g_arch_bytes = bytes;
        kept = 1;
    }
    pthread_mutex_unlock(&g_arch_mu);
    arch_body_unref(old);
    return kept;
}

void site_arch_cache_stats(uint64_t *hits, uint64_t *misses, size_t *bytes)
{
    *hits = atomic_load(&g_arch_hits);
    *misses = atomic_load(&g_arch_misses);
    pthread_mutex_lock(&g_arch_mu);
    *bytes = g_arch_bytes;
    pthread_mutex_unlock(&g_arch_mu);
}

typedef struct site_owned {
    uint8_t *body;  /* an answer's own body (malloc) */
    arch_body *ab;  /* a reference: the body is this cached archived file */
    site_arch_cut *arch; /* a reference: the body is this archived cut's SHA256SUMS or .sig */
    char *head;     /* built HTTP/1.1 head (malloc) */
    char *loc;      /* Location value (malloc) */
    char ctype[PREP_CUT_MEDIA_TYPE_MAX + 1];
    char etag[28];
    char seq[24];
    char text[64];  /* a small text body (/health/cut) */
} site_owned;

static void site_response_done(prep_http_response *r);

static site_owned *owned(prep_http_response *r)
{
    if (!r->_owned) r->_owned = calloc(1, sizeof(site_owned));
    return r->_owned;
}

/* ---------------------------------------------------------------- small bodies */
#define PAGE_HEAD \
    "<!doctype html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">" \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>"
#define PAGE(title, text) PAGE_HEAD title "</title></head>\n<body>\n<h1>" title "</h1>\n<p>" text "</p>\n</body></html>\n"

static const char *error_body(int status)
{
    switch (status) {
    case 301: return PAGE("Movido permanentemente", "Esta p\xC3\xA1gina est\xC3\xA1 en otra direcci\xC3\xB3n.");
    case 303: return PAGE("Ver la secci\xC3\xB3n", "La secci\xC3\xB3n buscada est\xC3\xA1 en otra direcci\xC3\xB3n.");
    case 400: return PAGE("Solicitud incorrecta", "La direcci\xC3\xB3n solicitada no es v\xC3\xA1lida.");
    case 404: return PAGE("P\xC3\xA1gina no encontrada", "La p\xC3\xA1gina solicitada no existe en este sitio.");
    case 405: return PAGE("M\xC3\xA9todo no permitido", "Este sitio solo atiende solicitudes GET y HEAD.");
    case 406: return PAGE("Codificaci\xC3\xB3n no aceptable",
                          "El contenido no est\xC3\xA1 disponible en una codificaci\xC3\xB3n aceptada.");
    case 414: return PAGE("Direcci\xC3\xB3n demasiado larga", "La direcci\xC3\xB3n solicitada es demasiado larga.");
    case 416: return PAGE("Intervalo no satisfacible", "El intervalo de bytes solicitado est\xC3\xA1 fuera del archivo.");
    default: return PAGE("Servicio no disponible", "El sitio no puede atender la solicitud en este momento.");
    }
}

/* Used when even a small allocation fails: a complete static answer. */
static const char nomem_head[] = "HTTP/1.1 503 Service Unavailable\r\ncache-control: " PREP_POLICY_CC_NO_CACHE "\r\n"
                                 "retry-after: 5\r\ncontent-length: 0\r\n";

static void answer_nomem(prep_http_response *r)
{
    r->status = 503;
    r->n_fields = 0;
    r->fields[r->n_fields++] =
        (prep_http_field){"cache-control", 13, PREP_POLICY_CC_NO_CACHE, sizeof PREP_POLICY_CC_NO_CACHE - 1};
    r->fields[r->n_fields++] = (prep_http_field){"retry-after", 11, "5", 1};
    r->h1_head = nomem_head;
    r->h1_head_len = sizeof nomem_head - 1;
    r->body = NULL;
    r->body_len = 0;
    r->send_body = 0;
}

/* Builds r->h1_head from r->status, r->fields and (when with_len) r->body_len. */
static void finish_head(prep_http_response *r, int with_len)
{
    site_owned *o = owned(r);
    prep_buf b;
    prep_buf_init(&b, 1 << 16);
    if (!o || site_build_head(&b, r->status, r->fields, r->n_fields, with_len, r->body_len) != PREP_OK) {
        prep_buf_free(&b);
        answer_nomem(r);
        return;
    }
    free(o->head);
    o->head = prep_buf_steal(&b, &r->h1_head_len);
    r->h1_head = o->head;
}

#define ADD(r, nm, val, vlen) \
    do { \
        if ((r)->n_fields < PREP_HTTP_MAX_FIELDS) \
            (r)->fields[(r)->n_fields++] = (prep_http_field){nm, sizeof nm - 1, (val), (vlen)}; \
    } while (0)

/* An error (or redirect) page: extra fields (allow, location, content-range) first. */
static void answer_error(prep_serve_version *v, const prep_http_request *req, prep_http_response *r,
                         int status, const char *seq_str, const prep_http_field *extra, size_t n_extra)
{
    r->status = status;
    r->n_fields = 0;
    static const char ct[] = "text/html; charset=utf-8";
    ADD(r, "content-type", ct, sizeof ct - 1);
    ADD(r, "cache-control", PREP_POLICY_CC_NO_CACHE, sizeof PREP_POLICY_CC_NO_CACHE - 1);
    for (size_t i = 0; i < n_extra && r->n_fields < PREP_HTTP_MAX_FIELDS; i++) r->fields[r->n_fields++] = extra[i];
    site_common_fields(v, seq_str, r->fields, &r->n_fields);
    const char *body = error_body(status);
    r->body = (const uint8_t *)body;
    r->body_len = strlen(body);
    r->send_body = req->method == PREP_HTTP_GET;
    finish_head(r, 1);
}

/* ---------------------------------------------------------------- behind a load balancer
 * (site_replica.c, docs/scale-out.md) */
/* GET/HEAD /health/cut: 200 "ok corte S" when the served cut S is at least the marker's
 * seen (0 without one), 503 "behind corte S < N" when older. */
static void answer_cut_health(prep_serve_version *v, const prep_http_request *req, prep_http_response *r,
                              uint64_t seen)
{
    site_owned *o = owned(r);
    if (!o) {
        answer_nomem(r);
        return;
    }
    int behind = seen > v->info.seq;
    r->status = behind ? 503 : 200;
    r->n_fields = 0;
    static const char ct[] = "text/plain; charset=utf-8";
    ADD(r, "content-type", ct, sizeof ct - 1);
    ADD(r, "cache-control", PREP_POLICY_CC_NO_CACHE, sizeof PREP_POLICY_CC_NO_CACHE - 1);
    site_common_fields(v, v->seq_str, r->fields, &r->n_fields);
    int n = behind ? snprintf(o->text, sizeof o->text, "behind corte %llu < %llu\n", (unsigned long long)v->info.seq,
                              (unsigned long long)seen)
                   : snprintf(o->text, sizeof o->text, "ok corte %llu\n", (unsigned long long)v->info.seq);
    r->body = (const uint8_t *)o->text;
    r->body_len = (uint64_t)n;
    r->send_body = req->method == PREP_HTTP_GET;
    finish_head(r, 1);
}

/* 503 with retry-after: 1, for an answer this replica may give in a moment. */
static void answer_retry_soon(prep_serve_version *v, const prep_http_request *req, prep_http_response *r,
                              const char *seq_str)
{
    prep_http_field f = {"retry-after", 11, "1", 1};
    answer_error(v, req, r, 503, seq_str, &f, 1);
}

/* A request whose client was already given a newer cut than v's: 503 with retry-after: 1
 * (the proxy retries on another replica; a client that gets it retries soon, when this
 * replica will most likely have switched), never the older cut's file. */
static void answer_behind(prep_serve_version *v, const prep_http_request *req, prep_http_response *r)
{
    answer_retry_soon(v, req, r, v->seq_str);
}

/* ---------------------------------------------------------------- the waiting page */
static int waiting(const prep_serve_version *v, prep_time now)
{
    if (v->empty) return 1;
    return !v->info.drill && v->opts.window_open != PREP_TIME_NONE && now < v->opts.window_open;
}

static void answer_wait(prep_serve_version *v, const prep_http_request *req, prep_http_response *r, prep_time now)
{
    r->status = 503;
    r->seq = 0; /* nothing of a cut is shown before the window opens */
    r->n_fields = 0;
    static const char ct[] = "text/html; charset=utf-8";
    ADD(r, "content-type", ct, sizeof ct - 1);
    ADD(r, "cache-control", PREP_POLICY_CC_NO_CACHE, sizeof PREP_POLICY_CC_NO_CACHE - 1);
    int64_t wait = 60; /* no window known, or open with no cut yet: cuts come every few minutes */
    if (v->opts.window_open != PREP_TIME_NONE && now < v->opts.window_open) wait = v->opts.window_open - now;
    int n = snprintf(r->_scratch, 32, "%lld", (long long)wait);
    ADD(r, "retry-after", r->_scratch, (size_t)n);
    site_common_fields(v, "0", r->fields, &r->n_fields);
    r->body = (const uint8_t *)v->wait_page;
    r->body_len = v->wait_page_len;
    r->send_body = req->method == PREP_HTTP_GET;
    finish_head(r, 1);
}

/* ---------------------------------------------------------------- redirects */
static void answer_redirect(prep_serve_version *v, const prep_http_request *req, prep_http_response *r,
                            const char *key, size_t klen, const char *seq_str)
{
    /* Location: "/" + key + "/", percent-encoding every byte outside RFC 3986 pchar. */
    site_owned *o = owned(r);
    char *loc = o ? malloc(3 * klen + 3) : NULL;
    if (!loc) {
        answer_nomem(r);
        return;
    }
    static const char hx[] = "0123456789ABCDEF";
    size_t n = 0;
    loc[n++] = '/';
    for (size_t i = 0; i < klen; i++) {
        unsigned char c = (unsigned char)key[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~/!$&'()*+,;=:@", c)) {
            loc[n++] = (char)c;
        } else {
            loc[n++] = '%';
            loc[n++] = hx[c >> 4];
            loc[n++] = hx[c & 15];
        }
    }
    loc[n++] = '/';
    loc[n] = '\0';
    free(o->loc);
    o->loc = loc;
    prep_http_field f = {"location", 8, loc, n};
    answer_error(v, req, r, 301, seq_str, &f, 1);
}

/* ---------------------------------------------------------------- serving a file */
typedef struct served_file {
    const char *ctype;
    int compressible;
    const char *cc;
    int cors;
    const char *seq_str;
    const uint8_t *body[REP_N]; /* NULL: absent */
    uint64_t len[REP_N];
    const char *etag[REP_N];
    size_t etag_len[REP_N];
    site_file *file; /* a file of the version (heads, br, parts made on first use), or NULL */
} served_file;

static int rep_of(prep_http_coding c)
{
    return c == PREP_HTTP_BR ? REP_BR : c == PREP_HTTP_GZIP ? REP_GZ : REP_ID;
}

/* The identity bytes of a page held as parts, [first, first + n): from its kept identity
 * (site_identity_get), else into the response's own storage (inflated from the parts'
 * deflate streams). 0, or -1 when no memory. */
static int assemble_identity(prep_serve_version *v, prep_http_response *r, site_file *f, uint64_t first, uint64_t n)
{
    const site_blob *kept = site_identity_get(v, f);
    if (kept) {
        r->body = kept->data + first;
        return 0;
    }
    site_owned *o = owned(r);
    if (!o) return -1;
    free(o->body);
    o->body = malloc((size_t)n + 1);
    if (!o->body) return -1;
    if (site_copy_parts(f, first, n, o->body) != 0) return -1;
    r->body = o->body;
    r->own_bytes = n;
    return 0;
}

static void answer_file(prep_serve_version *v, const prep_http_request *req, prep_http_response *r,
                        served_file *sf)
{
    unsigned have = (sf->body[REP_GZ] ? PREP_HTTP_HAVE_GZIP : 0) | (sf->body[REP_BR] ? PREP_HTTP_HAVE_BR : 0);
    site_file *f = sf->file;
    site_blob *br = f ? site_br_get(f) : NULL;
    if (f && !br && site_br_possible(v, f)) have |= PREP_HTTP_HAVE_BR; /* can be made */
    const char *ae = req->accept_encoding.p;
    size_t ael = req->accept_encoding.len;
    prep_http_coding c = PREP_HTTP_IDENTITY;
    if (prep_http_negotiate(ae, ael, have, v->opts.https, &c) != 0) {
        answer_error(v, req, r, 406, sf->seq_str, NULL, 0);
        return;
    }
    int k = rep_of(c);
    if (k == REP_BR && !sf->body[REP_BR] && f) {
        /* The page's br variant is not made yet: make it (one page's worth of work), or
         * answer with the next choice while another thread makes it. */
        br = site_br_make(v, f, BR_REQUEST);
        if (!br) {
            if (prep_http_negotiate(ae, ael, have & ~PREP_HTTP_HAVE_BR, v->opts.https, &c) == 0) k = rep_of(c);
            else br = site_br_make(v, f, BR_FORCE); /* br only: make our own copy */
        }
        if (br == &site_no_variant) {
            if (prep_http_negotiate(ae, ael, have & ~PREP_HTTP_HAVE_BR, v->opts.https, &c) != 0) {
                answer_error(v, req, r, 406, sf->seq_str, NULL, 0);
                return;
            }
            k = rep_of(c);
        } else if (br) {
            sf->body[REP_BR] = br->data;
            sf->len[REP_BR] = br->len;
        }
    }
    if (!sf->body[k] && !(k == REP_ID && f && f->composed)) k = REP_ID; /* be safe */
    if (f) {
        sf->etag[k] = f->rep[k].etag;
        sf->etag_len[k] = f->rep[k].etag_len;
    }
    const site_head *hd = f && sf->cc == f->cache_control ? site_head_get(v, f, k, sf->len[k]) : NULL;
    r->n_fields = 0;
    if (req->if_none_match.p &&
        prep_http_if_none_match(req->if_none_match.p, req->if_none_match.len, sf->etag[k], sf->etag_len[k])) {
        r->status = 304;
        site_file_fields(v, sf->seq_str, sf->ctype, sf->compressible, k, sf->etag[k], sf->etag_len[k], sf->cc, sf->cors, 1,
                         r->fields, &r->n_fields);
        r->body = NULL;
        r->body_len = 0;
        r->send_body = 0;
        if (hd) {
            r->h1_head = hd->data + hd->h200_len;
            r->h1_head_len = hd->h304_len;
            r->h1_common = v->h1_common;
            r->h1_common_len = v->h1_common_len;
        } else {
            finish_head(r, 0);
        }
        return;
    }
    uint64_t size = sf->len[k];
    if (k == REP_ID && req->range.p &&
        (!req->if_range.p || prep_http_if_range(req->if_range.p, req->if_range.len, sf->etag[k], sf->etag_len[k]))) {
        uint64_t first = 0, last = 0;
        prep_http_range_kind rk = prep_http_range(req->range.p, req->range.len, size, &first, &last);
        if (rk == PREP_HTTP_RANGE_PARTIAL) {
            r->status = 206;
            site_file_fields(v, sf->seq_str, sf->ctype, sf->compressible, k, sf->etag[k], sf->etag_len[k], sf->cc,
                             sf->cors, 0, r->fields, &r->n_fields);
            int n = snprintf(r->_scratch, 96, "bytes %llu-%llu/%llu", (unsigned long long)first,
                             (unsigned long long)last, (unsigned long long)size);
            ADD(r, "content-range", r->_scratch, (size_t)n);
            r->body = sf->body[k] ? sf->body[k] + first : NULL;
            r->body_len = last - first + 1;
            r->send_body = req->method == PREP_HTTP_GET;
            /* a HEAD needs no bytes: nothing inflated for it */
            if (!r->body && r->send_body && assemble_identity(v, r, f, first, r->body_len) != 0) {
                answer_nomem(r);
                return;
            }
            finish_head(r, 1);
            return;
        }
        if (rk == PREP_HTTP_RANGE_UNSATISFIABLE) {
            int n = snprintf(r->_scratch, 96, "bytes */%llu", (unsigned long long)size);
            prep_http_field cr = {"content-range", 13, r->_scratch, (size_t)n};
            answer_error(v, req, r, 416, sf->seq_str, &cr, 1);
            return;
        }
    }
    r->status = 200;
    site_file_fields(v, sf->seq_str, sf->ctype, sf->compressible, k, sf->etag[k], sf->etag_len[k], sf->cc, sf->cors, 0,
                     r->fields, &r->n_fields);
    r->body = sf->body[k];
    r->body_len = size;
    r->send_body = req->method == PREP_HTTP_GET;
    if (!r->body && r->send_body && f && f->composed && assemble_identity(v, r, f, 0, size) != 0) {
        answer_nomem(r);
        return;
    }
    if (hd) {
        r->h1_head = hd->data;
        r->h1_head_len = hd->h200_len;
        r->h1_common = v->h1_common;
        r->h1_common_len = v->h1_common_len;
    } else {
        finish_head(r, 1);
    }
}

static const site_file *find_file(const prep_serve_version *v, const char *key)
{
    if (!v->index) return NULL;
    uint64_t h = site_path_hash(key);
    for (size_t slot = (size_t)h & v->index_mask; v->index[slot].file; slot = (slot + 1) & v->index_mask) {
        const site_file *f = &v->files[v->index[slot].file - 1];
        if (v->index[slot].hash == (uint32_t)(h >> 32) && !strcmp(f->path, key)) return f;
    }
    return NULL;
}

static void served_from_memory(const prep_serve_version *v, site_file *f, served_file *sf)
{
    memset(sf, 0, sizeof *sf);
    sf->ctype = f->media_type;
    sf->compressible = f->compressible;
    sf->cc = f->cache_control;
    sf->cors = f->cors;
    sf->seq_str = v->seq_str;
    sf->file = f;
    for (int k = 0; k < REP_N; k++) {
        site_blob *b = k == REP_BR ? site_br_get(f) : f->rep[k].b;
        if (b && b != &site_no_variant) {
            sf->body[k] = b->data;
            sf->len[k] = b->len;
        }
        sf->etag[k] = f->rep[k].etag;
        sf->etag_len[k] = f->rep[k].etag_len;
    }
    sf->len[REP_ID] = f->size;
}

/* ---------------------------------------------------------------- the archive */
/* What one archived file is, copied out of the cache under its lock. */
typedef struct arch_file {
    int found;       /* 1: a file; 2: a directory with index.html (redirect); 0: none */
    uint64_t size;
    char sha256[65];
    size_t n_parts;
    prep_cut_part parts[PREP_CUT_PARTS_MAX];
    const uint8_t *inline_src; /* SHA256SUMS / .sig: the archived cut's own bytes (shared) */
} arch_file;

void site_arch_cut_unref(site_arch_cut *c)
{
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1) return;
    prep_cut_manifest_free(&c->m);
    free(c->sig);
    free(c);
}

/* Whether the archive may load a manifest of `bytes` now (opts.archive_load_rate: a token
 * bucket of bytes, 4 seconds' worth at most), taking them. Under v->arch_lock. Each load
 * of a national manifest (~70 MB) costs ~0.5 s of a worker: a client asking in turn for
 * pages of more cuts than SITE_ARCHIVE_CACHE keeps would make every answer one (session
 * 36's probe: 60 ms of CPU per request at Querétaro scale, the current pages' answers
 * timing out behind them). */
static int arch_budget_take(prep_serve_version *v, uint64_t bytes)
{
    uint64_t rate = v->opts.archive_load_rate;
    if (!rate) return 1;
    int64_t now = prep_mono_ms();
    double cap = 4.0 * (double)rate;
    if (!v->arch_budget_ms) v->arch_budget = cap;
    else v->arch_budget += (double)(now - v->arch_budget_ms) * (double)rate / 1000.0;
    if (v->arch_budget > cap) v->arch_budget = cap;
    v->arch_budget_ms = now;
    if (v->arch_budget < (double)bytes && v->arch_budget < cap) return 0; /* a bigger one: when full */
    v->arch_budget -= (double)bytes;
    return 1;
}

/* Archived cut seq, loaded on a miss (manifest parsed, signature read, both hashed once),
 * with a reference for the caller. Under v->arch_lock. NULL when the store lacks it, or
 * (*busy set) when the archive's load budget is spent for now. */
static site_arch_cut *arch_get(prep_serve_version *v, uint64_t seq, int *busy)
{
    site_arch_slot *lru = &v->arch[0];
    for (int i = 0; i < SITE_ARCHIVE_CACHE; i++) {
        if (v->arch[i].seq == seq && v->arch[i].c) {
            v->arch[i].used = ++v->arch_tick;
            atomic_fetch_add_explicit(&v->arch[i].c->refs, 1, memory_order_relaxed);
            return v->arch[i].c;
        }
        if (v->arch[i].used < lru->used) lru = &v->arch[i];
    }
    char mp[4096];
    struct stat st;
    snprintf(mp, sizeof mp, "%s/cuts/%llu/manifest", v->store, (unsigned long long)seq);
    if (stat(mp, &st) != 0) return NULL;
    if (!arch_budget_take(v, (uint64_t)st.st_size)) {
        *busy = 1;
        return NULL;
    }
    site_arch_cut *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_load(v->store, seq, &c->m, &d);
    prep_diags_free(&d);
    if (e != PREP_OK) {
        prep_cut_manifest_free(&c->m);
        free(c);
        return NULL;
    }
    char sp[4096];
    snprintf(sp, sizeof sp, "%s/cuts/%llu/manifest.sig", v->store, (unsigned long long)seq);
    if (prep_read_file(sp, SITE_SIG_MAX, &c->sig, &c->sig_len) != PREP_OK) {
        c->sig = NULL;
        c->sig_len = 0;
    }
    prep_sha256_hex(c->m.raw, c->m.raw_len, c->raw_sha256);
    if (c->sig) prep_sha256_hex(c->sig, c->sig_len, c->sig_sha256);
    atomic_init(&c->refs, 2); /* the slot's and the caller's */
    site_arch_cut_unref(lru->c);
    lru->c = c;
    lru->seq = seq;
    lru->used = ++v->arch_tick;
    return c;
}

/* A page of an archived cut whose objects the store's retention removed (cuts/<seq>/pruned,
 * prep serve --pull --store-keep or prep receive --store-keep): 410 Gone with a short page
 * saying so, and where the cut's signed list and signature still are. Every page of such a
 * cut gets it, whether or not its bytes happen to remain (an object shared with a kept
 * cut): the answer depends on the cut, not on which objects are left. */
static void answer_pruned(prep_serve_version *v, const prep_http_request *req, prep_http_response *r, uint64_t seq,
                          const char *rest, int have_sig)
{
    site_owned *o = owned(r);
    prep_buf b, up;
    prep_buf_init(&b, 1 << 16); /* a maximum, not a size */
    prep_buf_init(&up, 1 << 16);
    /* Relative links, as the published pages use (a site may live under a sub-path):
     * rest is the path below cortes/<seq>/, so each of its slashes is one level up. */
    prep_err e = prep_buf_puts(&up, "");
    for (const char *c = rest; *c && !e; c++)
        if (*c == '/') e = prep_buf_puts(&up, "../");
    const char *u = up.data ? (const char *)up.data : "";
    unsigned long long s = (unsigned long long)seq;
    if (!e)
        e = prep_buf_printf(
            &b,
            PAGE_HEAD "Corte %llu no disponible completo</title></head>\n<body>\n"
                      "<h1>El corte %llu ya no se conserva completo en este sitio</h1>\n"
                      "<p>Para ahorrar espacio, este sitio conserva completos solo los cortes m\xC3\xA1s recientes; "
                      "las p\xC3\xA1ginas del corte %llu se retiraron. Su lista de archivos firmada por el "
                      "instituto sigue disponible: <a href=\"%sSHA256SUMS\">SHA256SUMS</a>",
            s, s, s, u);
    if (!e && have_sig) e = prep_buf_printf(&b, " y su firma: <a href=\"%sSHA256SUMS.sig\">SHA256SUMS.sig</a>", u);
    if (!e)
        e = prep_buf_printf(&b,
                            ".</p>\n<p>Los resultados vigentes est\xC3\xA1n en la "
                            "<a href=\"%s../../\">p\xC3\xA1gina principal</a>.</p>\n</body></html>\n",
                            u);
    prep_buf_free(&up);
    if (!o || e) {
        prep_buf_free(&b);
        answer_nomem(r);
        return;
    }
    free(o->body);
    size_t len = 0;
    o->body = (uint8_t *)prep_buf_steal(&b, &len);
    r->status = 410;
    r->n_fields = 0;
    static const char ct[] = "text/html; charset=utf-8";
    ADD(r, "content-type", ct, sizeof ct - 1);
    ADD(r, "cache-control", PREP_POLICY_CC_NO_CACHE, sizeof PREP_POLICY_CC_NO_CACHE - 1);
    site_common_fields(v, o->seq, r->fields, &r->n_fields);
    r->body = o->body;
    r->body_len = len;
    r->own_bytes = len;
    r->send_body = req->method == PREP_HTTP_GET;
    finish_head(r, 1);
}

static void answer_archive(prep_serve_version *v, const prep_http_request *req, prep_http_response *r,
                           const char *key, size_t klen, uint64_t seq, const char *rest)
{
    site_owned *o = owned(r);
    if (!o) {
        answer_nomem(r);
        return;
    }
    snprintf(o->seq, sizeof o->seq, "%llu", (unsigned long long)seq);
    r->seq = seq;
    arch_file af;
    memset(&af, 0, sizeof af);
    int busy = 0;
    pthread_mutex_lock(&v->arch_lock);
    site_arch_cut *ac = arch_get(v, seq, &busy);
    pthread_mutex_unlock(&v->arch_lock);
    if (busy) {
        answer_retry_soon(v, req, r, o->seq);
        return;
    }
    const uint8_t *shared = NULL; /* SHA256SUMS or .sig: the archived cut's own bytes */
    int have_sig = ac && ac->sig;
    if (ac) {
        /* ac is ours (a reference): read without the lock */
        const prep_cut_entry *e = prep_cut_manifest_find(&ac->m, rest);
        if (e) {
            af.found = 1;
            af.size = e->size;
            memcpy(af.sha256, e->sha256, 65);
            af.n_parts = e->n_parts;
            for (size_t i = 0; i < e->n_parts && i < PREP_CUT_PARTS_MAX; i++) af.parts[i] = e->parts[i];
            snprintf(o->ctype, sizeof o->ctype, "%s", e->media_type);
        } else if (!strcmp(rest, "SHA256SUMS") || (!strcmp(rest, "SHA256SUMS.sig") && ac->sig)) {
            int sums = !strcmp(rest, "SHA256SUMS");
            af.found = 1;
            af.size = sums ? ac->m.raw_len : ac->sig_len;
            memcpy(af.sha256, sums ? ac->raw_sha256 : ac->sig_sha256, 65);
            snprintf(o->ctype, sizeof o->ctype, "text/plain; charset=utf-8");
            shared = (const uint8_t *)(sums ? ac->m.raw : ac->sig);
            af.inline_src = shared;
            o->arch = ac; /* released with the response */
            ac = NULL;
        } else {
            char idx[PREP_HTTP_PATH_MAX + 16];
            snprintf(idx, sizeof idx, "%s/index.html", rest);
            if (prep_cut_manifest_find(&ac->m, idx)) af.found = 2;
        }
        site_arch_cut_unref(ac);
    }
    /* The retention's mark is written before any object goes and never removed; the
     * active cut's objects are always kept (a mark on it is ignored, as prep verify does). */
    int prunable = (af.found == 2 || (af.found == 1 && !af.inline_src)) && seq < v->info.seq;
    if (prunable && prep_cut_store_pruned(v->store, seq)) {
        answer_pruned(v, req, r, seq, rest, have_sig);
        return;
    }
    if (af.found == 2) {
        answer_redirect(v, req, r, key, klen, o->seq);
        return;
    }
    if (af.found == 1 && af.size > SITE_ARCHIVE_FILE_MAX) {
        prep_log(PREP_LOG_WARN, "serve: archived file cortes/%llu/%s is larger than %llu bytes: not served",
                 (unsigned long long)seq, rest, (unsigned long long)SITE_ARCHIVE_FILE_MAX);
        af.found = 0;
    }
    int n = af.found == 1 ? snprintf(o->etag, sizeof o->etag, "\"%.20s\"", af.sha256) : 0;
    /* a revalidation that matches is answered without reading, assembling or hashing the
     * body */
    int not_modified = af.found == 1 && req->if_none_match.p &&
                       prep_http_if_none_match(req->if_none_match.p, req->if_none_match.len, o->etag, (size_t)n);
    uint64_t akey = af.found == 1 && !af.inline_src ? arch_key(v->store, af.sha256) : 0;
    size_t budget = v->opts.archive_cache_bytes;
    if (akey && !not_modified && budget) o->ab = arch_body_get(akey, af.sha256);
    if (akey && !not_modified && !o->ab) {
        arch_body *nb = malloc(sizeof *nb + (size_t)af.size + 1);
        char kind[24], msg[200];
        if (!nb) {
            answer_nomem(r);
            return;
        }
        atomic_init(&nb->refs, 1);
        nb->key = akey;
        memcpy(nb->sha256, af.sha256, 65);
        nb->len = (size_t)af.size;
        o->ab = nb;
        if (site_assemble(v->store, af.sha256, af.size, af.n_parts, af.parts, nb->data, kind, msg) == PREP_OK) {
            /* read for this answer: its own memory unless the cache keeps it (bounded by
             * --archive-cache, shared by every answer of the file) */
            if (!budget || !arch_body_put(nb, budget)) r->own_bytes = nb->len;
        } else {
            if (prunable && prep_cut_store_pruned(v->store, seq)) { /* the retention ran meanwhile */
                answer_pruned(v, req, r, seq, rest, have_sig);
                return;
            }
            prep_log(PREP_LOG_WARN, "serve: archived file cortes/%llu/%s: %s: %s", (unsigned long long)seq, rest,
                     kind, msg);
            af.found = 0;
        }
    }
    if (af.found != 1) {
        answer_error(v, req, r, 404, o->seq, NULL, 0);
        return;
    }
    served_file sf;
    memset(&sf, 0, sizeof sf);
    sf.ctype = o->ctype;
    sf.compressible = 0; /* identity only: no vary */
    sf.cc = prep_policy_cache_control(key, klen);
    sf.cors = prep_policy_cors(key, klen);
    sf.seq_str = o->seq;
    sf.body[REP_ID] = shared ? shared : o->ab ? o->ab->data : NULL; /* NULL for a 304 (not needed) */
    sf.len[REP_ID] = af.size;
    sf.etag[REP_ID] = o->etag;
    sf.etag_len[REP_ID] = (size_t)n;
    answer_file(v, req, r, &sf);
}

/* ---------------------------------------------------------------- the section lookup */
/* seccion/?n=N (and embebido/seccion/?n=N; a national process's seccion/EE/?n=N), the
 * no-JavaScript form of seccion/ (docs/formats/site.md, "My section"): N, digits only,
 * leading zeros allowed, names a section of the cut (of entity EE): 303 to its page,
 * Location relative ("0412/"); anything else after
 * "n=": 404 whose body is the cut's own seccion/no-encontrada.html (so it carries the
 * cut's stamp), under the policy's answer class (no-cache). A query not starting with
 * "n=" is no lookup: the page is served. Returns 1 when it answered. */
static int answer_lookup(prep_serve_version *v, const prep_http_request *req, prep_http_response *r, const char *key,
                         size_t klen)
{
    static const char idx[] = "seccion/index.html";
    const size_t il = sizeof idx - 1;
    const char *q = req->query.p;
    size_t ql = req->query.len;
    if (!q || ql < 2 || q[0] != 'n' || q[1] != '=') return 0;
    /* [embebido/]seccion/index.html, or a national process's [embebido/]seccion/EE/index.html */
    size_t pre = klen >= 9 && !memcmp(key, "embebido/", 9) ? 9 : 0;
    size_t rest = klen - pre;
    const char *k = key + pre;
    int national = rest == il + 3 && !memcmp(k, "seccion/", 8) && k[8] >= '0' && k[8] <= '9' && k[9] >= '0' &&
                   k[9] <= '9' && k[10] == '/' && !memcmp(k + 11, "index.html", 10);
    if (!national && (rest != il || memcmp(k, idx, il))) return 0;
    size_t dir = klen - 10; /* up to and with "seccion/" (or "seccion/EE/") */
    size_t i = 2, nd = 0;
    unsigned num = 0;
    while (i < ql && q[i] == '0') i++;
    for (; i < ql && q[i] >= '0' && q[i] <= '9' && nd < 5; i++, nd++) num = num * 10 + (unsigned)(q[i] - '0');
    char path[PREP_HTTP_PATH_MAX + 32];
    int found = 0;
    if (ql > 2 && i == ql && nd >= 1 && nd <= 4) { /* "0" names no section: as Apache's rule */
        snprintf(path, sizeof path, "%.*s%04u/index.html", (int)dir, key, num);
        found = find_file(v, path) != NULL;
    }
    site_owned *o = owned(r);
    if (!o) {
        answer_nomem(r);
        return 1;
    }
    if (found) {
        free(o->loc);
        o->loc = malloc(8);
        if (!o->loc) {
            answer_nomem(r);
            return 1;
        }
        int n = snprintf(o->loc, 8, "%04u/", num);
        prep_http_field f = {"location", 8, o->loc, (size_t)n};
        answer_error(v, req, r, 303, v->seq_str, &f, 1);
        return 1;
    }
    snprintf(path, sizeof path, "%.*sno-encontrada.html", (int)dir, key);
    site_file *f = (site_file *)find_file(v, path);
    if (!f) { /* a cut rendered before the section tree existed */
        answer_error(v, req, r, 404, v->seq_str, NULL, 0);
        return 1;
    }
    served_file sf;
    served_from_memory(v, f, &sf);
    r->status = 404;
    r->n_fields = 0;
    ADD(r, "content-type", sf.ctype, strlen(sf.ctype));
    ADD(r, "cache-control", PREP_POLICY_CC_NO_CACHE, sizeof PREP_POLICY_CC_NO_CACHE - 1);
    site_common_fields(v, v->seq_str, r->fields, &r->n_fields);
    r->body = sf.body[REP_ID];
    r->body_len = sf.len[REP_ID];
    r->send_body = req->method == PREP_HTTP_GET;
    if (!r->body && assemble_identity(v, r, f, 0, r->body_len) != 0) {
        answer_nomem(r);
        return 1;
    }
    finish_head(r, 1);
    return 1;
}

/* ---------------------------------------------------------------- respond */
void prep_serve_respond(prep_serve_version *v, const prep_http_request *req, prep_http_response *out)
{
    memset(out, 0, offsetof(prep_http_response, _scratch));
    out->_scratch[0] = '\0';
    prep_serve_version_ref(v);
    out->_ref = v;
    out->done = site_response_done;
    out->seq = v->info.seq;
    if (req->method != PREP_HTTP_GET && req->method != PREP_HTTP_HEAD) {
        prep_http_field f = {"allow", 5, "GET, HEAD", 9};
        answer_error(v, req, out, 405, v->seq_str, &f, 1);
        return;
    }
    /* The load balancer's marker, stripped before anything else reads the query. */
    prep_http_request rq = *req;
    uint64_t seen = 0;
    int marked = prep_serve_seen_take(req->query, &seen, &rq.query);
    req = &rq;
    if (req->path.len == 11 && !memcmp(req->path.p, "/health/cut", 11)) {
        answer_cut_health(v, req, out, seen);
        return;
    }
    if (marked && seen > v->info.seq) {
        answer_behind(v, req, out);
        return;
    }
    prep_time now = req->now != PREP_TIME_NONE ? req->now : prep_time_now();
    if (waiting(v, now)) {
        answer_wait(v, req, out, now);
        return;
    }
    char key[PREP_HTTP_PATH_MAX + 1];
    size_t klen = 0;
    int st = prep_http_path_normalize(req->path.p ? req->path.p : "", req->path.p ? req->path.len : 0, key,
                                      sizeof key, &klen);
    if (st != 0) {
        answer_error(v, req, out, st, v->seq_str, NULL, 0);
        return;
    }
    if (klen >= 6 && !memcmp(key, "cortes", 6) && (klen == 6 || key[6] == '/')) {
        /* cortes/<seq>/<path>: an archived cut (no listing of cortes/ itself). */
        const char *p = key + 7;
        uint64_t seq = 0;
        size_t nd = 0;
        while (klen > 7 && *p >= '0' && *p <= '9' && nd < 13) {
            seq = seq * 10 + (uint64_t)(*p - '0');
            p++;
            nd++;
        }
        int canonical = nd > 0 && nd <= 12 && key[7] != '0' && (*p == '\0' || *p == '/');
        if (!v->opts.archive || !canonical || seq > v->info.seq) {
            answer_error(v, req, out, 404, v->seq_str, NULL, 0);
            return;
        }
        if (*p == '\0') { /* "cortes/5": the directory without its slash */
            answer_redirect(v, req, out, key, klen, v->seq_str);
            return;
        }
        answer_archive(v, req, out, key, klen, seq, p + 1);
        return;
    }
    if (answer_lookup(v, req, out, key, klen)) return;
    site_file *f = (site_file *)find_file(v, key);
    if (f) {
        atomic_fetch_add_explicit(&f->hits, 1, memory_order_relaxed);
        served_file sf;
        served_from_memory(v, f, &sf);
        answer_file(v, req, out, &sf);
        return;
    }
    /* "/dir" where dir/index.html exists: redirect to "/dir/". */
    if (klen + 11 <= PREP_HTTP_PATH_MAX) {
        char idx[PREP_HTTP_PATH_MAX + 12];
        memcpy(idx, key, klen);
        memcpy(idx + klen, "/index.html", 12);
        if (find_file(v, idx)) {
            answer_redirect(v, req, out, key, klen, v->seq_str);
            return;
        }
    }
    answer_error(v, req, out, 404, v->seq_str, NULL, 0);
}

/* The answer's release (prep_http_response_done calls it). */
static void site_response_done(prep_http_response *r)
{
    site_owned *o = r->_owned;
    if (o) {
        site_arch_cut_unref(o->arch);
        arch_body_unref(o->ab);
        free(o->body);
        free(o->head);
        free(o->loc);
        free(o);
    }
    r->_owned = NULL;
    prep_serve_version *v = r->_ref;
    r->_ref = NULL;
    r->body = NULL;
    r->h1_head = NULL;
    r->n_fields = 0;
    prep_serve_version_unref(v);
}

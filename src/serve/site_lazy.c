/* prep serve: what a version makes after its load (docs/internals/serve.md, "Made on
 * first use"): the brotli variant of a page (on its first request, or by a low-priority
 * warmer thread), the prebuilt heads of a representation, and the identity bytes of a
 * page held as parts (inflated from the parts' deflate streams).
 *
 * Each is published once with an atomic pointer: a compare-and-swap from NULL, release
 * order; readers load with acquire. The loser of a race frees its own copy. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#include "site_internal.h"

/* Inflates the first want bytes of p's deflate stream into dst (want <= p->len). z is
 * initialised on first use (*zinit). 0, or -1. */
static int inflate_part(const site_part *p, uint8_t *dst, uint64_t want, z_stream *z, int *zinit)
{
    if (!p->defl) return -1;
    if (!*zinit) {
        memset(z, 0, sizeof *z);
        if (inflateInit2(z, -15) != Z_OK) return -1;
        *zinit = 1;
    } else if (inflateReset(z) != Z_OK) {
        return -1;
    }
    z->next_in = p->defl;
    z->avail_in = p->defl_len;
    z->next_out = dst;
    z->avail_out = (uInt)want;
    /* The stream ends with a sync flush, not a final block: inflate stops with the output
     * full (or the input used up); Z_FINISH spares it keeping a window. */
    (void)inflate(z, Z_FINISH);
    return z->total_out == want ? 0 : -1;
}

int site_copy_parts(const site_file *f, uint64_t off, uint64_t len, uint8_t *dst)
{
    z_stream z;
    int zinit = 0, rc = 0;
    uint8_t *tmp = NULL;
    uint64_t pos = 0;
    if (f->dict) return site_copy_chunks(f, off, len, dst);
    for (size_t i = 0; i < f->n_parts && len > 0 && rc == 0; i++) {
        const site_part *p = f->part[i];
        const site_part *c = f->chunk[i]; /* compressed alone */
        if (off < pos + p->len) {
            uint64_t a = off - pos;
            uint64_t n = p->len - a < len ? p->len - a : len;
            if (p->data) {
                memcpy(dst, p->data + a, (size_t)n);
            } else if (a == 0) {
                rc = inflate_part(c, dst, n, &z, &zinit);
            } else {
                /* A range that starts inside the part: inflate up to its end, keep the tail. */
                free(tmp);
                tmp = malloc((size_t)(a + n) + 1);
                rc = tmp ? inflate_part(c, tmp, a + n, &z, &zinit) : -1;
                if (rc == 0) memcpy(dst, tmp + a, (size_t)n);
            }
            dst += n;
            off += n;
            len -= n;
        }
        pos += p->len;
    }
    if (zinit) inflateEnd(&z);
    free(tmp);
    return rc;
}

site_blob *site_identity_get(prep_serve_version *v, site_file *f)
{
    site_blob *b = atomic_load_explicit(&f->idn, memory_order_acquire);
    if (b || !f->composed) return b;
    /* the bytes are counted before they are made, so that threads racing over the budget
     * cannot all pass it */
    uint64_t had = atomic_fetch_add_explicit(&v->idn_bytes, f->size, memory_order_relaxed);
    if (had + f->size > v->opts.identity_keep || !(b = site_blob_new(f->size)) ||
        site_copy_parts(f, 0, f->size, b->data) != 0) {
        if (b) site_blob_unref(b);
        atomic_fetch_sub_explicit(&v->idn_bytes, f->size, memory_order_relaxed);
        return NULL;
    }
    site_blob *expect = NULL;
    if (atomic_compare_exchange_strong_explicit(&f->idn, &expect, b, memory_order_acq_rel, memory_order_acquire)) {
        atomic_fetch_add_explicit(&v->lazy_bytes, f->size, memory_order_relaxed);
        return b;
    }
    site_blob_unref(b);
    atomic_fetch_sub_explicit(&v->idn_bytes, f->size, memory_order_relaxed);
    return expect;
}

int site_br_possible(const prep_serve_version *v, const site_file *f)
{
    return v->opts.https && f->compressible && f->size >= SITE_COMPRESS_MIN && f->size <= SITE_COMPRESS_MAX;
}

site_blob *site_br_get(const site_file *f)
{
    return atomic_load_explicit(&((site_file *)f)->br, memory_order_acquire);
}

/* Publishes b as f's br variant; returns the one that won. */
static site_blob *br_publish(prep_serve_version *v, site_file *f, site_blob *b)
{
    site_blob *expect = NULL;
    if (atomic_compare_exchange_strong_explicit(&f->br, &expect, b, memory_order_acq_rel, memory_order_acquire)) {
        if (b != &site_no_variant) {
            atomic_fetch_add_explicit(&v->lazy_bytes, b->len, memory_order_relaxed);
            atomic_fetch_add_explicit(&v->br_made, 1, memory_order_relaxed);
        }
        return b;
    }
    site_blob_unref(b);
    return expect;
}

site_blob *site_br_make(prep_serve_version *v, site_file *f, int mode)
{
    site_blob *b = site_br_get(f);
    if (b) return b;
    if (!site_br_possible(v, f)) return &site_no_variant;
    if (mode == BR_REQUEST && f->size > SITE_BR_REQUEST_MAX) return NULL;
    int force = mode == BR_FORCE;
    int claimed = !atomic_exchange_explicit(&f->br_claim, 1, memory_order_acq_rel);
    if (!claimed && !force) return NULL;
    site_blob *nb = NULL;
    if (f->composed) {
        uint8_t *tmp = malloc((size_t)f->size + 1);
        int ok = tmp && site_copy_parts(f, 0, f->size, tmp) == 0;
        if (ok) nb = site_brotli_blob(tmp, f->size);
        free(tmp);
        if (!ok) { /* no memory for the page's bytes */
            if (claimed) atomic_store_explicit(&f->br_claim, 0, memory_order_release); /* let another try */
            return NULL;
        }
    } else if (f->rep[REP_ID].b) {
        nb = site_brotli_blob(f->rep[REP_ID].b->data, f->size);
    }
    return br_publish(v, f, nb ? nb : &site_no_variant);
}

const site_head *site_head_get(prep_serve_version *v, site_file *f, int k, uint64_t len)
{
    site_head *h = atomic_load_explicit(&f->head[k], memory_order_acquire);
    if (h) return h;
    prep_buf b;
    prep_buf_init(&b, 1 << 16);
    prep_http_field fl[PREP_HTTP_MAX_FIELDS];
    size_t n = 0;
    const site_rep *r = &f->rep[k];
    /* Without x-prep-corte and the security fields: the version's h1_common follows. */
    site_file_own_fields(f->media_type, f->compressible, k, r->etag, r->etag_len, f->cache_control, f->cors, 0, fl, &n);
    prep_err e = site_build_head(&b, 200, fl, n, 1, len);
    size_t l200 = b.len;
    n = 0;
    site_file_own_fields(f->media_type, f->compressible, k, r->etag, r->etag_len, f->cache_control, f->cors, 1, fl, &n);
    if (e == PREP_OK) e = site_build_head(&b, 304, fl, n, 0, 0);
    if (e != PREP_OK) {
        prep_buf_free(&b);
        return NULL;
    }
    h = malloc(sizeof *h + b.len);
    if (!h) {
        prep_buf_free(&b);
        return NULL;
    }
    h->h200_len = (uint32_t)l200;
    h->h304_len = (uint32_t)(b.len - l200);
    memcpy(h->data, b.data, b.len);
    size_t total = sizeof *h + b.len;
    prep_buf_free(&b);
    site_head *expect = NULL;
    if (atomic_compare_exchange_strong_explicit(&f->head[k], &expect, h, memory_order_acq_rel,
                                                memory_order_acquire)) {
        atomic_fetch_add_explicit(&v->lazy_bytes, total, memory_order_relaxed);
        return h;
    }
    free(h);
    return expect;
}

/* ---------------------------------------------------------------- the warmer */
static size_t depth(const char *p)
{
    size_t d = 0;
    for (; *p; p++) d += *p == '/';
    return d;
}

static const prep_serve_version *sort_v;

/* Most requested in prev first, then main tree before embebido/, shallow paths first. */
static int warm_cmp(const void *a, const void *b)
{
    const site_file *x = &sort_v->files[*(const size_t *)a], *y = &sort_v->files[*(const size_t *)b];
    if (x->prev_hits != y->prev_hits) return x->prev_hits > y->prev_hits ? -1 : 1;
    int ex = !strncmp(x->path, "embebido/", 9), ey = !strncmp(y->path, "embebido/", 9);
    if (ex != ey) return ex - ey;
    size_t dx = depth(x->path), dy = depth(y->path);
    if (dx != dy) return dx < dy ? -1 : 1;
    return strcmp(x->path, y->path);
}

static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

static void *warmer_main(void *arg)
{
    prep_serve_version *v = arg;
    /* Lowest priority: the warmer only uses CPU the workers leave. */
#ifdef SCHED_IDLE
    struct sched_param sp = {0};
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0)
#endif
        (void)setpriority(PRIO_PROCESS, 0, 19);
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    size_t n = 0;
    size_t *order = malloc((v->n_files + 1) * sizeof *order);
    if (order) {
        for (size_t i = 0; i < v->n_files; i++)
            if (v->files[i].lazy_br && site_br_possible(v, &v->files[i])) order[n++] = i;
        pthread_mutex_lock(&sort_lock);
        sort_v = v;
        qsort(order, n, sizeof *order, warm_cmp);
        pthread_mutex_unlock(&sort_lock);
        for (size_t i = 0; i < n && !atomic_load_explicit(&v->warm_stop, memory_order_acquire); i++) {
            void (*hook)(int, const prep_serve_version *) = site_test_hook;
            if (hook) hook(SITE_HOOK_WARM_FILE, v);
            if (atomic_load_explicit(&v->warm_stop, memory_order_acquire)) break;
            (void)site_br_make(v, &v->files[order[i]], BR_WARM);
        }
        free(order);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    atomic_store(&v->warm_ns, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec)));
    atomic_store_explicit(&v->warm_done, 1, memory_order_release);
    /* The last owner frees: the users may have dropped v while this thread was starved
     * (then nothing waited for it); nothing of v is touched after the decrement. */
    if (atomic_fetch_sub_explicit(&v->owners, 1, memory_order_acq_rel) == 1) site_version_destroy(v);
    return NULL;
}

void site_warmer_start(prep_serve_version *v)
{
    atomic_store(&v->warm_stop, 0);
    atomic_store(&v->owners, 2); /* the users and the warmer */
    pthread_attr_t at;
    int ok = pthread_attr_init(&at) == 0;
    if (ok && pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) == 0 &&
        pthread_create(&v->warmer, &at, warmer_main, v) == 0) {
        v->warmer_started = 1;
    } else {
        atomic_store(&v->owners, 1);
        atomic_store(&v->warm_done, 1);
    }
    if (ok) pthread_attr_destroy(&at);
}

int site_warmer_release(prep_serve_version *v)
{
    if (!v->warmer_started) return 1;
    atomic_store_explicit(&v->warm_stop, 1, memory_order_release);
    return atomic_fetch_sub_explicit(&v->owners, 1, memory_order_acq_rel) == 1;
}

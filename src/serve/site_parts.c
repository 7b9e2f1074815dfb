/* prep serve: the part cache and gzip members made of per-part deflate chunks
 * (docs/internals/serve.md, "Pages: gzip per part").
 *
 * A composed page (pre | body | post | stamp) changes on every cut, but only in its stamp
 * (the same object on every page) and in the bodies whose numbers changed. The cache holds
 * each part (its CRC-32, its bytes when shared) and each part's deflate chunks (raw
 * deflate, level 6, ending with a sync flush so that a chunk ends on a byte boundary and
 * is not final), across versions: a chunk compressed alone, or one compressed with the
 * page's bytes before the part as dictionary (site_chunks.c decides which, and makes the
 * latter). A page's gzip representation is a gzip header, its chunks one after the other,
 * a final empty block, the CRC-32 of the page (crc32_combine of the parts' CRCs) and its
 * size. A chunk refers back only into its part or the bytes before it in the same page,
 * so the concatenation is a valid deflate stream. */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "site_internal.h"

site_parts *site_parts_new(void)
{
    site_parts *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->nb = 1024;
    t->b = calloc(t->nb, sizeof *t->b);
    if (!t->b) {
        free(t);
        return NULL;
    }
    atomic_init(&t->refs, 1);
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void site_parts_ref(site_parts *t)
{
    if (t) atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

static void part_free(site_part *p)
{
    free(p->data);
    free(p->defl);
    free(p);
}

void site_part_unref(site_part *p)
{
    if (!p) return;
    unsigned was = atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel);
    PREP_ASSERT(was >= 1);
    if (was == 1) part_free(p);
}

void site_parts_unref(site_parts *t)
{
    if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1) return;
    for (size_t i = 0; i < t->nb; i++) {
        site_part *p = t->b[i];
        while (p) {
            site_part *nx = p->next;
            site_part_unref(p); /* the table's own reference */
            p = nx;
        }
    }
    free(t->b);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static size_t bucket(const site_parts *t, const char *sha256)
{
    /* The key is a SHA-256: its first 16 hex digits are as good as any hash. */
    uint64_t h = 0;
    for (int i = 0; i < 16; i++) {
        char c = sha256[i];
        h = h << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return (size_t)(h & (t->nb - 1));
}

static void grow(site_parts *t)
{
    size_t nb = t->nb * 2;
    site_part **b = calloc(nb, sizeof *b);
    if (!b) return; /* keep the longer chains */
    site_part **old = t->b;
    size_t onb = t->nb;
    t->b = b;
    t->nb = nb;
    for (size_t i = 0; i < onb; i++) {
        site_part *p = old[i];
        while (p) {
            site_part *nx = p->next;
            size_t k = bucket(t, p->sha256);
            p->next = t->b[k];
            t->b[k] = p;
            p = nx;
        }
    }
    free(old);
}

static site_part *table_find(site_parts *t, const char *sha256, uint64_t len, int kind, const char *ctx)
{
    size_t k = bucket(t, sha256);
    for (site_part *p = t->b[k]; p; p = p->next)
        if (p->kind == kind && p->len == len && !memcmp(p->sha256, sha256, 64) && (!ctx || !memcmp(p->ctx, ctx, 64))) {
            atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
            return p;
        }
    site_part *p = calloc(1, sizeof *p + (ctx ? 64 : 0));
    if (!p) return NULL;
    atomic_init(&p->refs, 2); /* the table's and the caller's */
    memcpy(p->sha256, sha256, 64);
    p->sha256[64] = '\0';
    p->len = len;
    p->kind = (uint8_t)kind;
    if (ctx) memcpy(p->ctx, ctx, 64);
    p->next = t->b[k];
    t->b[k] = p;
    if (++t->n > t->nb) grow(t);
    return p;
}

site_part *site_parts_get(site_parts *t, const char *sha256, uint64_t len)
{
    return table_find(t, sha256, len, PART_RAW, NULL);
}

site_part *site_parts_chunk(site_parts *t, const char *sha256, uint64_t len, const char *ctx)
{
    return table_find(t, sha256, len, PART_CHUNK, ctx);
}

void site_parts_prune(site_parts *t)
{
    uint64_t bytes = 0;
    size_t raw = 0;
    for (size_t i = 0; i < t->nb; i++) {
        site_part **pp = &t->b[i];
        while (*pp) {
            site_part *p = *pp;
            /* Only loads (serialised by t->lock) take references, so 1 stays 1. */
            if (atomic_load_explicit(&p->refs, memory_order_acquire) == 1) {
                *pp = p->next;
                t->n--;
                part_free(p);
                continue;
            }
            if (p->ready) bytes += (p->data ? p->len : 0) + p->defl_len;
            raw += p->kind == PART_RAW;
            pp = &p->next;
        }
    }
    t->bytes = bytes;
    t->n_raw = raw;
}

/* ---------------------------------------------------------------- filling a part */
static int read_object(const char *path, uint8_t *dst, uint64_t size)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return PART_MISSING;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return PART_MISSING;
    }
    if ((uint64_t)st.st_size != size) {
        close(fd);
        return PART_SIZE;
    }
    uint64_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, dst + got, (size_t)(size - got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            close(fd);
            return r == 0 ? PART_SIZE : PART_MISSING;
        }
        got += (uint64_t)r;
    }
    close(fd);
    return PART_OK;
}

uint8_t *site_scratch_get(site_scratch *s, uint64_t n)
{
    if (n + 1 > SIZE_MAX / 2) return NULL;
    if (s->cap < n + 1) {
        size_t cap = s->cap ? s->cap : 1 << 16;
        while (cap < n + 1) cap *= 2;
        uint8_t *b = realloc(s->p, cap);
        if (!b) return NULL;
        s->p = b;
        s->cap = cap;
    }
    return s->p;
}

void site_scratch_free(site_scratch *s)
{
    free(s->p);
    s->p = NULL;
    s->cap = 0;
}

int site_part_bytes(const site_part *p, const char *store, site_scratch *sc, const uint8_t **out)
{
    if (p->data) {
        *out = p->data;
        return PART_OK;
    }
    char op[4096];
    if (p->len > SITE_PART_MAX || prep_cut_object_path(store, p->sha256, op, sizeof op) != 0) return PART_LIMIT;
    uint8_t *b = site_scratch_get(sc, p->len);
    if (!b) return PART_NOMEM;
    int r = read_object(op, b, p->len);
    if (r == PART_OK) *out = b;
    return r;
}

int site_chunk_deflate(site_part *c, void *zs, const uint8_t *dict, size_t dict_len, const uint8_t *in, uint64_t n)
{
    unsigned char *chunk;
    size_t chunk_len;
    if (!zs || prep_cut_gz_chunk_dict(zs, dict, dict_len, in, (size_t)n, &chunk, &chunk_len) != 0) return -1;
    if (chunk_len > UINT32_MAX) {
        free(chunk);
        return -1;
    }
    c->defl = chunk;
    c->defl_len = (uint32_t)chunk_len;
    return 0;
}

void site_part_fill(site_part *p, const char *store, void *zs, site_scratch *sc)
{
    if (p->ready || p->err) return;
    if (p->len > SITE_PART_MAX) {
        p->err = PART_LIMIT;
        return;
    }
    char op[4096];
    if (prep_cut_object_path(store, p->sha256, op, sizeof op) != 0) {
        p->err = PART_LIMIT;
        return;
    }
    /* A part several files use (the stamp, shared chrome) keeps its bytes: the load hashes
     * it once per file. Any other is read into the worker's buffer and kept only as
     * deflate (its chunks). */
    int keep = p->uses > 1;
    uint8_t *buf = keep ? malloc((size_t)p->len + 1) : site_scratch_get(sc, p->len);
    if (!buf) {
        p->err = PART_NOMEM;
        return;
    }
    int r = read_object(op, buf, p->len);
    if (r == PART_OK) {
        char got[65];
        prep_sha256_hex(buf, (size_t)p->len, got);
        if (strcmp(got, p->sha256) != 0) r = PART_HASH;
    }
    if (r != PART_OK) {
        if (keep) free(buf);
        p->err = r;
        return;
    }
    p->crc = (uint32_t)crc32(0, buf, (uInt)p->len);
    if (p->alone) (void)site_chunk_deflate(p, zs, NULL, 0, buf, p->len); /* none: the load fails */
    if (keep) p->data = buf;
    p->ready = 1;
}

void site_part_fill_alone(site_part *p, const char *store, void *zs, site_scratch *sc)
{
    if (!p->ready || p->err || p->defl) return;
    const uint8_t *b = NULL;
    if (site_part_bytes(p, store, sc, &b) != PART_OK) return;
    if (!p->data) { /* read again from the store: check it */
        char got[65];
        prep_sha256_hex(b, (size_t)p->len, got);
        if (strcmp(got, p->sha256) != 0) return;
    }
    (void)site_chunk_deflate(p, zs, NULL, 0, b, p->len);
}

/* ---------------------------------------------------------------- gzip members */
site_blob *site_parts_gzip(site_part *const *chunks, size_t n, uint64_t size)
{
    uint64_t len = PREP_CUT_GZ_EXTRA;
    if (n > PREP_CUT_PARTS_MAX) return NULL; /* the manifest allows no more */
    for (size_t i = 0; i < n; i++) {
        if (!chunks[i]->defl) return NULL;
        len += chunks[i]->defl_len;
    }
    if (len >= size) return NULL;
    site_blob *b = site_blob_new(len);
    if (!b) return NULL;
    const unsigned char *chunk[PREP_CUT_PARTS_MAX];
    size_t chunk_len[PREP_CUT_PARTS_MAX];
    uint32_t crc[PREP_CUT_PARTS_MAX];
    uint64_t raw_len[PREP_CUT_PARTS_MAX];
    for (size_t i = 0; i < n; i++) {
        chunk[i] = chunks[i]->defl;
        chunk_len[i] = chunks[i]->defl_len;
        crc[i] = chunks[i]->crc;
        raw_len[i] = chunks[i]->len;
    }
    prep_cut_gz_member(b->data, chunk, chunk_len, crc, raw_len, n, size);
    return b;
}

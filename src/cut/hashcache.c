/* prep cut: what one prep_cut_make remembers for the next (prep_cut_hash_cache).
 *
 * An institute makes a cut every few minutes from a site whose files mostly repeat: a
 * page whose numbers did not change differs from its last version only in its per-cut
 * stamp. Two costs follow the whole site instead of the change unless remembered:
 *   - the SHA-256 of every part (the caller says which parts are the same bytes as in the
 *     last cut made with this cache: prep_cut_file.same_parts);
 *   - the SHA-256 of every assembled file (the hash line sha256sum checks), which covers
 *     the stamp and so changes every cut. SHA-256 runs front to back, so the state after
 *     the parts that repeat (prep_cut_file.hash_prefix: the render puts the stamp after
 *     the bodies) is kept, and a cut hashes only the bytes from the first part that changed.
 * Nothing here is trusted by a receiver: a broadcaster re-hashes every part and every
 * assembled file it takes in. A wrong same_parts claim would still sign a stale part, so
 * prep_cut_make re-hashes a sample of the claimed parts and, on a difference, forgets the
 * cache and hashes everything (make.c, "hint_sample").
 *
 * The state is kept after each part of the prefix, not only after the whole prefix: a
 * national section page is presidencia | senadurías | diputaciones | stamp,
 * and a capture of diputaciones re-hashes from its part on, not from the page's start
 * (the busiest cut fed 270 MB of prefixes with one state per file).
 *
 * The state after a part is OpenSSL's SHA256_CTX (the low-level interface, deprecated
 * in OpenSSL 3 but kept there): a plain struct that can be copied, where an EVP context
 * would be two allocations per file and a provider call per copy. Same code (SHA-NI where
 * the processor has it) as EVP_sha256. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cut_internal.h"

struct hc_entry {
    char *path;              /* owned; NULL = empty slot */
    uint32_t hash;           /* path_hash(path)'s low bits: most probes of another path stop here */
    uint8_t n_parts;         /* as last made: 0 plain (one "part": the file) */
    uint8_t prefix_n;        /* parts the states cover; 0 = no state */
    uint8_t seen;            /* in the current make */
    hc_part_hash *parts;     /* owned: max(1, n_parts) of them */
    SHA256_CTX *state;       /* owned: prefix_n of them, state[j] after parts [0, j] */
};

struct prep_cut_hash_cache {
    hc_entry *v;
    size_t cap, n;     /* cap a power of two; n used slots */
    char made[65];     /* SHA-256 of the manifest of the last cut made with the cache; "" none */
    prep_time made_instant; /* its instant and UTC offset */
    long made_off;
    uint64_t fed; /* prep_cut_hash_cache_fed, counted since cut_hc_begin */
    prep_buf manifest; /* cut_hc_manifest_buf: its memory kept from one cut to the next */
};

const char *cut_hc_made(const prep_cut_hash_cache *c)
{
    return c->made;
}

void cut_hc_set_made(prep_cut_hash_cache *c, const char *sha256, prep_time instant, long off)
{
    snprintf(c->made, sizeof c->made, "%s", sha256 ? sha256 : "");
    c->made_instant = instant;
    c->made_off = off;
}

int cut_hc_made_meta(const prep_cut_hash_cache *c, const char *sha256, prep_time *instant, long *off)
{
    if (!c->made[0] || strcmp(c->made, sha256) != 0) return 0;
    *instant = c->made_instant;
    *off = c->made_off;
    return 1;
}

prep_err prep_cut_hash_cache_new(prep_cut_hash_cache **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? PREP_OK : PREP_ERR_NOMEM;
}

void cut_hc_clear(prep_cut_hash_cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++) {
        free(c->v[i].path);
        free(c->v[i].parts);
        free(c->v[i].state);
    }
    free(c->v);
    c->v = NULL;
    c->cap = c->n = 0;
    c->made[0] = 0;
}

void prep_cut_hash_cache_free(prep_cut_hash_cache *c)
{
    cut_hc_clear(c);
    if (c) prep_buf_free(&c->manifest);
    free(c);
}

prep_buf *cut_hc_manifest_buf(prep_cut_hash_cache *c, size_t max)
{
    if (c->manifest.max != max) {
        prep_buf_free(&c->manifest);
        prep_buf_init(&c->manifest, max);
    }
    prep_buf_reset(&c->manifest); /* len 0 and no sticky error; the pages stay */
    return &c->manifest;
}

static uint32_t path_hash(const char *s)
{
    return (uint32_t)prep_fnv1a(PREP_FNV1A_INIT, s, strlen(s));
}

/* The slot of path (hash: path_hash(path)), or the empty one where it would go. */
static hc_entry *slot_of(hc_entry *v, size_t cap, const char *path, uint32_t hash)
{
    size_t i = hash & (cap - 1);
    while (v[i].path && (v[i].hash != hash || strcmp(v[i].path, path) != 0)) i = (i + 1) & (cap - 1);
    return &v[i];
}

/* Moves the table's entries into a new one of nc slots (linear probing: an entry removed
 * from a table breaks the chains past it, so removal rebuilds too). */
static int rebuild(prep_cut_hash_cache *c, size_t nc)
{
    hc_entry *nv = calloc(nc, sizeof *nv);
    if (!nv) return -1;
    size_t n = 0;
    for (size_t i = 0; i < c->cap; i++)
        if (c->v[i].path) {
            *slot_of(nv, nc, c->v[i].path, c->v[i].hash) = c->v[i];
            n++;
        }
    free(c->v);
    c->v = nv;
    c->cap = nc;
    c->n = n;
    return 0;
}

static int grow(prep_cut_hash_cache *c)
{
    return rebuild(c, c->cap ? c->cap * 2 : 1024);
}

uint64_t prep_cut_hash_cache_fed(const prep_cut_hash_cache *c) { return c->fed; }

void cut_hc_begin(prep_cut_hash_cache *c)
{
    c->fed = 0;
    for (size_t i = 0; i < c->cap; i++) c->v[i].seen = 0;
}

hc_entry *cut_hc_entry(prep_cut_hash_cache *c, const char *path)
{
    if (c->n + 1 > c->cap / 2 && grow(c)) return NULL;
    uint32_t h = path_hash(path);
    hc_entry *e = slot_of(c->v, c->cap, path, h);
    if (!e->path) {
        if (!(e->path = strdup(path))) return NULL;
        e->hash = h;
        c->n++;
    }
    return e;
}

const hc_part_hash *cut_hc_entry_parts(const hc_entry *e, size_t n_parts)
{
    return e->parts && e->n_parts == n_parts ? e->parts : NULL;
}

/* Part k of src into h; 0 when it could not be loaded. */
static int feed(prep_cut_hash_cache *c, SHA256_CTX *h, const hc_src *src, const size_t *len, size_t k)
{
    if (!len[k]) return 1;
    const unsigned char *b = src->p[k] ? src->p[k] : src->load ? src->load(src->ctx, k) : NULL;
    if (!b) return 0;
    SHA256_Update(h, b, len[k]);
    c->fed += len[k];
    return 1;
}

void cut_hc_sha256(const void *p, size_t n, hc_part_hash *out)
{
    SHA256_CTX h;
    SHA256_Init(&h);
    SHA256_Update(&h, p, n);
    SHA256_Final(out->md, &h);
    out->size = n;
}

void cut_hc_memo_sha256(hc_memo *m, const void *p, size_t n, hc_part_hash *out)
{
    if (n > HC_MEMO_MAX) {
        cut_hc_sha256(p, n, out);
        return;
    }
    int old = 0;
    m->clock++;
    for (int i = 0; i < HC_MEMO_N; i++) {
        if (m->len[i] == n && m->bytes[i] && !memcmp(m->bytes[i], p, n)) {
            m->hits[i]++;
            m->used[i] = m->clock;
            *out = m->hash[i];
            return;
        }
        if (m->hits[i] < m->hits[old] || (m->hits[i] == m->hits[old] && m->used[i] < m->used[old])) old = i;
    }
    cut_hc_sha256(p, n, out);
    if (!m->bytes[old] && !(m->bytes[old] = malloc(HC_MEMO_MAX))) return; /* not remembered: hashed again */
    memcpy(m->bytes[old], p, n);
    m->len[old] = n;
    m->hash[old] = *out;
    m->hits[old] = 0;
    m->used[old] = m->clock;
}

void cut_hc_memo_free(hc_memo *m)
{
    for (int i = 0; i < HC_MEMO_N; i++) free(m->bytes[i]);
    memset(m, 0, sizeof *m);
}

prep_err cut_hc_file(prep_cut_hash_cache *c, hc_entry *e, const hc_src *src, size_t n_parts, const size_t *len,
                     const hc_part_hash *parts, size_t first_changed, size_t prefix, char out[65])
{
    size_t np = n_parts ? n_parts : 1;
    if (e->n_parts != n_parts || !e->parts) {
        free(e->parts);
        free(e->state);
        e->state = NULL;
        e->n_parts = 0;
        e->prefix_n = 0;
        if (!(e->parts = calloc(np, sizeof *e->parts))) return PREP_ERR_NOMEM; /* the caller forgets the cache */
    }
    e->n_parts = (uint8_t)n_parts;
    memcpy(e->parts, parts, np * sizeof *parts);
    e->seen = 1;
    if (!n_parts) { /* a plain file: its one part is the file */
        prep_hex(parts[0].md, sizeof parts[0].md, out);
        return PREP_OK;
    }
    size_t total_parts = n_parts;
    if (prefix > total_parts) prefix = total_parts;
    SHA256_CTX h;
    if (e->prefix_n != prefix) { /* no states, or states of another prefix */
        free(e->state);
        e->state = NULL;
        e->prefix_n = 0;
        first_changed = 0;
        if (prefix && !(e->state = malloc(prefix * sizeof *e->state))) return PREP_ERR_NOMEM;
        e->prefix_n = (uint8_t)prefix;
    }
    if (first_changed > prefix) first_changed = prefix;
    /* the bytes of parts [0, first_changed) are those state[first_changed - 1] covers */
    if (first_changed)
        h = e->state[first_changed - 1];
    else
        SHA256_Init(&h);
    for (size_t k = first_changed; k < prefix; k++) {
        if (!feed(c, &h, src, len, k)) goto lost;
        e->state[k] = h;
    }
    for (size_t k = prefix; k < total_parts; k++)
        if (!feed(c, &h, src, len, k)) goto lost;
    unsigned char md[32];
    SHA256_Final(md, &h);
    prep_hex(md, sizeof md, out);
    return PREP_OK;
lost: /* states past the part that failed are not kept: the caller forgets the cache */
    e->prefix_n = 0;
    free(e->state);
    e->state = NULL;
    return PREP_ERR_IO;
}

int prep_cut_hash_cache_part(const prep_cut_hash_cache *c, const char *path, size_t n_parts, size_t k, size_t len,
                             unsigned char md[32])
{
    if (!c || !c->cap) return 0;
    const hc_entry *e = slot_of((hc_entry *)c->v, c->cap, path, path_hash(path));
    if (!e->path || e->n_parts != n_parts || !e->parts || k >= (n_parts ? n_parts : 1) || e->parts[k].size != len)
        return 0;
    memcpy(md, e->parts[k].md, 32);
    return 1;
}

void cut_hc_end(prep_cut_hash_cache *c)
{
    /* files no longer published: forget them, so the cache follows the site */
    size_t kept = 0;
    for (size_t i = 0; i < c->cap; i++) {
        hc_entry *e = &c->v[i];
        if (!e->path || e->seen) {
            kept += e->path != NULL;
            continue;
        }
        free(e->path);
        free(e->parts);
        free(e->state);
        memset(e, 0, sizeof *e);
    }
    if (kept == c->n) return;
    size_t nc = 1024;
    while (nc < 2 * kept + 2) nc *= 2;
    if (rebuild(c, nc)) cut_hc_clear(c); /* keep nothing rather than a broken table */
}

/* 64 hex chars (checked by the manifest's parser) into 32 bytes. */
static void unhex32(const char *h, unsigned char md[32])
{
    for (int i = 0; i < 32; i++) {
        int a = h[2 * i], b = h[2 * i + 1];
        a = a <= '9' ? a - '0' : a - 'a' + 10;
        b = b <= '9' ? b - '0' : b - 'a' + 10;
        md[i] = (unsigned char)(a * 16 + b);
    }
}

prep_err prep_cut_hash_cache_seed(prep_cut_hash_cache *c, const prep_cut_manifest *m)
{
    cut_hc_clear(c);
    size_t cap = 1024;
    while (cap / 2 < m->n + 1) cap *= 2;
    if (rebuild(c, cap)) return PREP_ERR_NOMEM;
    for (size_t i = 0; i < m->n; i++) {
        const prep_cut_entry *en = &m->entries[i];
        size_t np = en->n_parts ? en->n_parts : 1;
        uint32_t ph = path_hash(en->path);
        hc_entry *e = slot_of(c->v, c->cap, en->path, ph);
        if (e->path) continue; /* the parser refuses duplicate paths */
        e->path = strdup(en->path);
        e->hash = ph;
        e->parts = calloc(np, sizeof *e->parts);
        if (!e->path || !e->parts) {
            free(e->parts);
            e->parts = NULL; /* the path alone is a valid empty entry for cut_hc_clear */
            cut_hc_clear(c);
            return PREP_ERR_NOMEM;
        }
        c->n++;
        e->n_parts = (uint8_t)en->n_parts;
        for (size_t k = 0; k < np; k++) {
            const char *h = en->n_parts ? en->parts[k].sha256 : en->sha256;
            e->parts[k].size = en->n_parts ? en->parts[k].size : en->size;
            unhex32(h, e->parts[k].md);
        }
    }
    cut_hc_set_made(c, m->sha256, m->meta.instant, m->meta.instant_off);
    return PREP_OK;
}

int prep_cut_hash_cache_holds(const prep_cut_hash_cache *c, const char *path, size_t n_parts, size_t k,
                              const void *bytes, size_t len, unsigned char md[32])
{
    unsigned char was[32];
    if (!prep_cut_hash_cache_part(c, path, n_parts, k, len, was)) return 0;
    hc_part_hash h;
    cut_hc_sha256(bytes, len, &h);
    if (memcmp(h.md, was, sizeof was) != 0) return 0;
    memcpy(md, h.md, sizeof h.md);
    return 1;
}

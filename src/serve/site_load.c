/* prep serve: loading a cut into an in-memory version (docs/internals/serve.md).
 *
 * A version holds every public file of one cut, assembled from the store's objects and
 * checked against the manifest's size and SHA-256, its gzip and brotli variants (kept
 * only when smaller), a strong ETag per representation and a prebuilt HTTP/1.1 head per
 * representation for 200 and 304. Files whose SHA-256 is unchanged since the previous
 * version share its bytes and variants (reference-counted blobs), so a new cut costs only
 * what changed: the pages (their stamp changes every cut), not the database or assets. */
#include <brotli/encode.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "site_internal.h"

/* ---------------------------------------------------------------- blobs */
site_blob *site_blob_new(uint64_t len)
{
    if (len > SIZE_MAX - sizeof(site_blob) - 1) return NULL;
    site_blob *b = malloc(sizeof *b + (size_t)len + 1);
    if (!b) return NULL;
    atomic_init(&b->refs, 1);
    b->len = len;
    return b;
}

void site_blob_ref(site_blob *b)
{
    if (b && b != &site_no_variant) atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

site_blob site_no_variant;

void site_blob_unref(site_blob *b)
{
    if (b && b != &site_no_variant && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) free(b);
}

/* ---------------------------------------------------------------- options, classes */
void prep_serve_site_opts_init(prep_serve_site_opts *o)
{
    memset(o, 0, sizeof *o);
    o->hsts_max_age = PREP_POLICY_HSTS_MAX_AGE;
    o->window_open = PREP_TIME_NONE;
    o->window_close = PREP_TIME_NONE;
    o->archive = 1;
    o->archive_cache_bytes = (size_t)64 << 20;
    o->br_warm = 1;
    o->identity_keep = PREP_SERVE_IDENTITY_KEEP;
    o->archive_load_rate = (uint64_t)32 << 20;
}

static int compressible_type(const char *t)
{
    return !strncmp(t, "text/", 5) || !strncmp(t, "application/json", 16) ||
           !strncmp(t, "application/xml", 15) || !strncmp(t, "image/svg+xml", 13) ||
           !strncmp(t, "application/geo+json", 20) || !strncmp(t, "application/manifest+json", 25) ||
           !strncmp(t, "application/javascript", 22);
}

const char *site_reason(int status)
{
    switch (status) {
    case 301: return "Moved Permanently";
    case 410: return "Gone";
    case 503: return "Service Unavailable";
    default: return prep_http_reason(status);
    }
}

/* ---------------------------------------------------------------- fields and heads */
#define FLD(f, n, nm, val, vlen) \
    do { \
        if (*(n) < PREP_HTTP_MAX_FIELDS) \
            (f)[(*(n))++] = (prep_http_field){nm, sizeof nm - 1, (val), (vlen)}; \
    } while (0)
#define FLDS(f, n, nm, lit) FLD(f, n, nm, lit, sizeof lit - 1)

void site_common_fields(const prep_serve_version *v, const char *seq_str, prep_http_field *f, size_t *n)
{
    FLD(f, n, "x-prep-corte", seq_str, strlen(seq_str));
    prep_policy_field sec[4];
    size_t ns = prep_policy_security_fields(&v->sec, sec);
    for (size_t i = 0; i < ns && *n < PREP_HTTP_MAX_FIELDS; i++)
        f[(*n)++] = (prep_http_field){sec[i].name, strlen(sec[i].name), sec[i].value, sec[i].value_len};
}

prep_err site_common_block(prep_serve_version *v)
{
    prep_http_field f[8];
    size_t n = 0;
    site_common_fields(v, v->seq_str, f, &n);
    prep_buf b;
    prep_buf_init(&b, 4096);
    prep_err e = PREP_OK;
    for (size_t i = 0; i < n && e == PREP_OK; i++) {
        e = prep_buf_append(&b, f[i].name, f[i].name_len);
        if (e == PREP_OK) e = prep_buf_append(&b, ": ", 2);
        if (e == PREP_OK) e = prep_buf_append(&b, f[i].value, f[i].value_len);
        if (e == PREP_OK) e = prep_buf_append(&b, "\r\n", 2);
    }
    if (e != PREP_OK) {
        prep_buf_free(&b);
        return e;
    }
    free(v->h1_common);
    v->h1_common = prep_buf_steal(&b, &v->h1_common_len);
    return v->h1_common ? PREP_OK : PREP_ERR_NOMEM;
}

void site_file_fields(const prep_serve_version *v, const char *seq_str, const char *ctype, int compressible,
                      int rep, const char *etag, size_t etag_len, const char *cc, int cors, int not_modified,
                      prep_http_field *f, size_t *n)
{
    site_file_own_fields(ctype, compressible, rep, etag, etag_len, cc, cors, not_modified, f, n);
    site_common_fields(v, seq_str, f, n);
}

void site_file_own_fields(const char *ctype, int compressible, int rep, const char *etag, size_t etag_len,
                          const char *cc, int cors, int not_modified, prep_http_field *f, size_t *n)
{
    if (!not_modified) {
        FLD(f, n, "content-type", ctype, strlen(ctype));
        if (rep == REP_GZ) FLDS(f, n, "content-encoding", "gzip");
        if (rep == REP_BR) FLDS(f, n, "content-encoding", "br");
    }
    if (compressible) FLDS(f, n, "vary", "accept-encoding");
    FLD(f, n, "etag", etag, etag_len);
    FLD(f, n, "cache-control", cc, strlen(cc));
    if (cors) FLDS(f, n, "access-control-allow-origin", PREP_POLICY_CORS_ORIGIN);
    if (!not_modified && rep == REP_ID) FLDS(f, n, "accept-ranges", "bytes");
}

prep_err site_build_head(prep_buf *b, int status, const prep_http_field *f, size_t n, int with_len,
                         uint64_t len)
{
    prep_err e = prep_buf_printf(b, "HTTP/1.1 %d %s\r\n", status, site_reason(status));
    for (size_t i = 0; i < n && e == PREP_OK; i++) {
        e = prep_buf_append(b, f[i].name, f[i].name_len);
        if (e == PREP_OK) e = prep_buf_append(b, ": ", 2);
        if (e == PREP_OK) e = prep_buf_append(b, f[i].value, f[i].value_len);
        if (e == PREP_OK) e = prep_buf_append(b, "\r\n", 2);
    }
    if (e == PREP_OK && with_len) e = prep_buf_printf(b, "content-length: %llu\r\n", (unsigned long long)len);
    return e;
}

/* ---------------------------------------------------------------- assembling */
/* Reads exactly size bytes of the regular file path into dst. 0, or -1 (missing/IO) or
 * -2 (its size differs). */
static int read_exact(const char *path, uint8_t *dst, uint64_t size)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size != size) {
        close(fd);
        return -2;
    }
    uint64_t got = 0;
    while (got < size) {
        size_t want = size - got > ((size_t)1 << 30) ? ((size_t)1 << 30) : (size_t)(size - got);
        ssize_t r = read(fd, dst + got, want);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            close(fd);
            return r == 0 ? -2 : -1;
        }
        got += (uint64_t)r;
    }
    close(fd);
    return 0;
}

prep_err site_assemble(const char *store, const char *sha256, uint64_t size, size_t n_parts,
                       const prep_cut_part *parts, uint8_t *dst, char kind[24], char msg[200])
{
    char op[4096];
    if (n_parts == 0) {
        if (prep_cut_object_path(store, sha256, op, sizeof op) != 0) {
            snprintf(kind, 24, "limit");
            snprintf(msg, 200, "store path too long");
            return PREP_ERR_LIMIT;
        }
        int r = read_exact(op, dst, size);
        if (r != 0) {
            snprintf(kind, 24, r == -2 ? "size-mismatch" : "missing-object");
            snprintf(msg, 200, "object %.64s %s", sha256,
                     r == -2 ? "does not have the manifest's size" : "cannot be read");
            return PREP_ERR_VERIFY;
        }
    } else {
        uint64_t off = 0;
        for (size_t i = 0; i < n_parts; i++) {
            if (parts[i].size > size - off || prep_cut_object_path(store, parts[i].sha256, op, sizeof op) != 0) {
                snprintf(kind, 24, "parts-mismatch");
                snprintf(msg, 200, "part %zu does not fit the file", i + 1);
                return PREP_ERR_VERIFY;
            }
            int r = read_exact(op, dst + off, parts[i].size);
            if (r != 0) {
                snprintf(kind, 24, r == -2 ? "size-mismatch" : "missing-object");
                snprintf(msg, 200, "part object %.64s %s", parts[i].sha256,
                         r == -2 ? "does not have the manifest's size" : "cannot be read");
                return PREP_ERR_VERIFY;
            }
            off += parts[i].size;
        }
        if (off != size) {
            snprintf(kind, 24, "parts-mismatch");
            snprintf(msg, 200, "parts add up to %llu bytes, not %llu", (unsigned long long)off,
                     (unsigned long long)size);
            return PREP_ERR_VERIFY;
        }
    }
    char got[65];
    prep_sha256_hex(dst, (size_t)size, got);
    if (strcmp(got, sha256) != 0) {
        snprintf(kind, 24, "hash-mismatch");
        /* Name the damaged part when the file is composed. */
        uint64_t off = 0;
        for (size_t i = 0; i < n_parts; i++) {
            char ph[65];
            prep_sha256_hex(dst + off, (size_t)parts[i].size, ph);
            if (strcmp(ph, parts[i].sha256) != 0) {
                snprintf(msg, 200, "part object %.64s has SHA-256 %.64s", parts[i].sha256, ph);
                return PREP_ERR_VERIFY;
            }
            off += parts[i].size;
        }
        snprintf(msg, 200, "assembled bytes have SHA-256 %.64s, the manifest says %.64s", got, sha256);
        return PREP_ERR_VERIFY;
    }
    return PREP_OK;
}

/* ---------------------------------------------------------------- compression */
site_blob *site_gzip_blob(const uint8_t *in, uint64_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip wrapper with mtime 0 (reproducible). */
    if (deflateInit2(&z, SITE_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    uLong cap = deflateBound(&z, (uLong)n) + 64;
    site_blob *b = site_blob_new(cap);
    if (!b) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = b->data;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    uint64_t out = cap - z.avail_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END || out >= n) {
        free(b);
        return NULL;
    }
    site_blob *s = realloc(b, sizeof *b + (size_t)out + 1);
    if (s) b = s;
    b->len = out;
    return b;
}

site_blob *site_brotli_blob(const uint8_t *in, uint64_t n)
{
    size_t cap = BrotliEncoderMaxCompressedSize((size_t)n);
    if (cap == 0) return NULL;
    site_blob *b = site_blob_new(cap);
    if (!b) return NULL;
    size_t out = cap;
    if (prep_cut_brotli(SITE_BROTLI_Q, 22, in, (size_t)n, b->data, &out) != 0 || out >= n) {
        free(b);
        return NULL;
    }
    site_blob *s = realloc(b, sizeof *b + out + 1);
    if (s) b = s;
    b->len = out;
    return b;
}

/* ---------------------------------------------------------------- the version */
void site_etag_set(site_rep *r, const char *sha, int rep)
{
    static const char *suf[REP_N] = {"", "-gz", "-br"};
    int n = snprintf(r->etag, sizeof r->etag, "\"%.20s%s\"", sha, suf[rep]);
    r->etag_len = (uint8_t)n;
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct load_job {
    prep_serve_version *v;
    site_part **fill; /* parts this load reads, chunks compressed alone (phase 1) */
    size_t n_fill;
    uint32_t *dfiles; /* files that make chunks with dictionary (phase 2) */
    size_t n_dfiles;
    int phase;        /* 1: parts, 2: dictionary chunks, 3: files */
    pthread_t caller; /* the loading thread (its CPU time is measured by the loader) */
    pthread_mutex_t lock;
    double cpu;
} load_job;

static void load_fail(site_file *f, prep_err e, const char *kind, const char *msg)
{
    f->err = e;
    snprintf(f->errkind, sizeof f->errkind, "%s", kind);
    snprintf(f->errmsg, sizeof f->errmsg, "%s", msg);
}

/* A file held whole: its bytes, checked, and eager whole-file variants. */
static void load_plain(prep_serve_version *v, site_file *f)
{
    site_rep *id = &f->rep[REP_ID];
    if (!id->b) {
        id->b = site_blob_new(f->size);
        if (!id->b) {
            char m[64];
            snprintf(m, sizeof m, "%llu bytes", (unsigned long long)f->size);
            load_fail(f, PREP_ERR_NOMEM, "nomem", m);
            return;
        }
        if (f->entry) {
            f->err = site_assemble(v->store, f->sha256, f->size, f->entry->n_parts, f->entry->parts,
                                   id->b->data, f->errkind, f->errmsg);
            if (f->err != PREP_OK) return;
        } else {
            /* SHA256SUMS / SHA256SUMS.sig: bytes of the manifest and its signature. */
            const char *src = !strcmp(f->path, "SHA256SUMS") ? v->m.raw : v->sig;
            memcpy(id->b->data, src, (size_t)f->size);
        }
        if (f->compressible && f->size >= SITE_COMPRESS_MIN && f->size <= SITE_COMPRESS_MAX) {
            f->rep[REP_GZ].b = site_gzip_blob(id->b->data, f->size);
            f->compressed++;
        }
    }
    if (!site_br_get(f) && site_br_possible(v, f) && !f->lazy_br) {
        /* eager for plain files (prev served without br over plain HTTP: made now) */
        site_blob *b = site_brotli_blob(id->b->data, f->size);
        atomic_store_explicit(&f->br, b ? b : &site_no_variant, memory_order_relaxed);
        f->compressed++;
    }
}

/* Names f's first part whose bytes (p->data or its object in store) do not have its
 * SHA-256 in m; 0 when none (the parts are whole, their concatenation is not the file). */
static int damaged_part(const site_file *f, const char *store, site_scratch *sc, char m[200])
{
    for (size_t i = 0; i < f->n_parts; i++) {
        const uint8_t *b = NULL;
        char ph[65];
        if (site_part_bytes(f->part[i], store, sc, &b) != PART_OK) continue;
        prep_sha256_hex(b, (size_t)f->part[i]->len, ph);
        if (strcmp(ph, f->part[i]->sha256) != 0) {
            snprintf(m, 200, "part object %.64s has SHA-256 %.64s", f->part[i]->sha256, ph);
            return 1;
        }
    }
    return 0;
}

/* A page held as parts: its parts were filled in phase 1; check that they make the page
 * the manifest names, and assemble its gzip member from the parts' deflate streams. A
 * part that holds no bytes (most: a page's own body) is read again from the store to be
 * hashed. */
static const char *const part_kinds[] = {"nomem", "missing-object", "size-mismatch", "hash-mismatch", "nomem", "limit"};
static const char *const part_what[] = {"cannot be made", "cannot be read", "does not have the manifest's size",
                                        "does not have its SHA-256", "cannot be held (no memory)",
                                        "is larger than a part may be"};
static int composed_hash_ok(EVP_MD_CTX *md, site_file *f, const char *store, site_scratch *sc);

static void load_composed(EVP_MD_CTX *md, site_file *f, const char *store, site_scratch *sc)
{
    const char *const *kinds = part_kinds, *const *what = part_what;
    for (size_t i = 0; i < 2 * (size_t)f->n_parts; i++) {
        const site_part *p = i < f->n_parts ? f->part[i] : f->chunk[i - f->n_parts];
        if (p->err || !p->ready) {
            int e = p->err > 0 && p->err <= PART_LIMIT ? p->err : 0;
            char m[200];
            snprintf(m, sizeof m, "part object %.64s %s", p->sha256, what[e]);
            load_fail(f, e == PART_NOMEM ? PREP_ERR_NOMEM : e == PART_LIMIT ? PREP_ERR_LIMIT : PREP_ERR_VERIFY,
                      kinds[e], m);
            return;
        }
    }
    /* A member reused from prev: the same page from the same parts, checked by then. */
    if (!f->rep[REP_GZ].b && !composed_hash_ok(md, f, store, sc)) return;
    for (size_t i = 0; i < f->n_parts; i++)
        if (!f->chunk[i]->defl) { /* zlib could not make it */
            char m[200];
            snprintf(m, sizeof m, "part object %.64s: its deflate chunk cannot be made", f->part[i]->sha256);
            load_fail(f, PREP_ERR_NOMEM, "nomem", m);
            return;
        }
    if (!f->rep[REP_GZ].b && f->compressible && f->size >= SITE_COMPRESS_MIN && f->size <= SITE_COMPRESS_MAX)
        f->rep[REP_GZ].b = site_parts_gzip(f->chunk, f->n_parts, f->size);
}

/* Hashes the page from its parts (memory or store) against the manifest: 1, or 0 with
 * the file failed (naming the damaged part when there is one). */
static int composed_hash_ok(EVP_MD_CTX *md, site_file *f, const char *store, site_scratch *sc)
{
    const char *const *kinds = part_kinds, *const *what = part_what;
    unsigned char dg[32];
    unsigned dl = 0;
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < f->n_parts; i++) {
        const uint8_t *b = NULL;
        int r = site_part_bytes(f->part[i], store, sc, &b);
        if (r != PART_OK) {
            char m[200];
            snprintf(m, sizeof m, "part object %.64s %s", f->part[i]->sha256, what[r]);
            load_fail(f, r == PART_NOMEM ? PREP_ERR_NOMEM : r == PART_LIMIT ? PREP_ERR_LIMIT : PREP_ERR_VERIFY,
                      kinds[r], m);
            return 0;
        }
        ok = EVP_DigestUpdate(md, b, (size_t)f->part[i]->len) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(md, dg, &dl) == 1 && dl == 32;
    if (!ok) {
        load_fail(f, PREP_ERR_NOMEM, "nomem", "SHA-256");
        return 0;
    }
    char got[65];
    prep_hex(dg, 32, got);
    if (strcmp(got, f->sha256) != 0) {
        char m[200];
        if (!damaged_part(f, store, sc, m))
            snprintf(m, sizeof m, "assembled bytes have SHA-256 %.64s, the manifest says %.64s", got, f->sha256);
        load_fail(f, PREP_ERR_VERIFY, "hash-mismatch", m);
        return 0;
    }
    return 1;
}

static void work_loop(load_job *j, prep_par *par)
{
    prep_serve_version *v = j->v;
    size_t i, i1;
    if (j->phase == 1 || j->phase == 2) {
        void *zs = prep_cut_gz_deflater_new();
        site_scratch sc = {0}, fb = {0};
        while (prep_par_next(par, &i, &i1)) {
            site_part *p = j->phase == 1 ? j->fill[i] : NULL;
            if (!p) site_chunks_fill_dict(&v->files[j->dfiles[i]], v->store, zs, &sc, &fb);
            else if (!p->ready) site_part_fill(p, v->store, zs, &sc);
            else site_part_fill_alone(p, v->store, zs, &sc);
        }
        site_scratch_free(&fb);
        site_scratch_free(&sc);
        prep_cut_gz_deflater_free(zs);
        return;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    site_scratch sc = {0};
    while (prep_par_next(par, &i, &i1)) {
        site_file *f = &v->files[i];
        if (f->err != PREP_OK) continue;
        if (f->composed) load_composed(md, f, v->store, &sc);
        else load_plain(v, f);
        for (int k = 0; k < REP_N; k++) site_etag_set(&f->rep[k], f->sha256, k);
    }
    site_scratch_free(&sc);
    EVP_MD_CTX_free(md);
}

/* One worker of a phase: a helper thread's CPU time is added to the job's (the loading
 * thread's is measured by the loader itself). */
static void load_worker(void *arg, prep_par *par)
{
    load_job *j = arg;
    int helper = !pthread_equal(pthread_self(), j->caller);
    double t0 = helper ? thread_cpu() : 0;
    work_loop(j, par);
    if (!helper) return;
    double dt = thread_cpu() - t0;
    pthread_mutex_lock(&j->lock);
    j->cpu += dt;
    pthread_mutex_unlock(&j->lock);
}

/* Runs one phase of the job on nt threads (this one included), one item at a time. */
static void run_phase(load_job *j, int phase, long nt, size_t items)
{
    j->phase = phase;
    j->caller = pthread_self();
    prep_par_run(nt, items, 1, load_worker, j);
}

uint64_t site_path_hash(const char *s)
{
    return prep_fnv1a(PREP_FNV1A_INIT, s, strlen(s));
}

prep_err site_index_build(prep_serve_version *v)
{
    if (!v->n_files) return PREP_OK;
    size_t cap = 16;
    while (cap < 2 * v->n_files) cap *= 2;
    v->index = calloc(cap, sizeof *v->index);
    if (!v->index) return PREP_ERR_NOMEM;
    v->index_mask = cap - 1;
    for (size_t i = 0; i < v->n_files; i++) {
        uint64_t h = site_path_hash(v->files[i].path);
        size_t slot = (size_t)h & v->index_mask;
        while (v->index[slot].file) slot = (slot + 1) & v->index_mask;
        v->index[slot].file = (uint32_t)(i + 1);
        v->index[slot].hash = (uint32_t)(h >> 32);
    }
    return PREP_OK;
}

static int file_cmp(const void *a, const void *b)
{
    return strcmp(((const site_file *)a)->path, ((const site_file *)b)->path);
}

static const site_file *find_prev(const prep_serve_version *p, const char *path)
{
    size_t lo = 0, hi = p->n_files;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(p->files[mid].path, path);
        if (c == 0) return &p->files[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

void (*site_test_hook)(int event, const prep_serve_version *v);

void site_version_destroy(prep_serve_version *v)
{
    void (*hook)(int, const prep_serve_version *) = site_test_hook;
    if (hook) hook(SITE_HOOK_FREED, v);
    for (size_t i = 0; i < v->n_files; i++) {
        site_file *f = &v->files[i];
        for (int k = 0; k < REP_N; k++) {
            site_blob_unref(f->rep[k].b);
            free(atomic_load_explicit(&f->head[k], memory_order_acquire));
        }
        site_blob_unref(atomic_load_explicit(&f->br, memory_order_acquire));
        site_blob_unref(atomic_load_explicit(&f->idn, memory_order_acquire));
    }
    for (size_t i = 0; i < v->n_parts; i++) site_part_unref(v->parts[i]);
    free(v->parts);
    free(v->file_parts);
    site_parts_unref(v->tab);
    free(v->files);
    free(v->index);
    prep_cut_manifest_free(&v->m);
    for (int i = 0; i < SITE_ARCHIVE_CACHE; i++) site_arch_cut_unref(v->arch[i].c);
    pthread_mutex_destroy(&v->arch_lock);
    free(v->sig);
    free(v->store);
    free(v->frame_ancestors);
    free(v->zone);
    free(v->wait_page);
    free(v->h1_common);
    free(v);
}

/* The users' side of freeing: with a warmer still running, it frees v when it exits
 * (site_warmer_release); the caller never waits for it. */
static void version_free(prep_serve_version *v)
{
    if (v && site_warmer_release(v)) site_version_destroy(v);
}

void prep_serve_version_ref(prep_serve_version *v)
{
    if (v) atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}

void prep_serve_version_unref(prep_serve_version *v)
{
    if (!v) return;
    unsigned was = atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel);
    PREP_ASSERT(was >= 1); /* an unref without its ref */
    if (was == 1) version_free(v);
}

void prep_serve_version_get_info(const prep_serve_version *v, prep_serve_version_info *out)
{
    prep_serve_version *w = (prep_serve_version *)v; /* only atomics are read */
    *out = v->info;
    out->bytes_lazy = atomic_load_explicit(&w->lazy_bytes, memory_order_relaxed);
    out->bytes_held += out->bytes_lazy;
    out->br_made = atomic_load_explicit(&w->br_made, memory_order_relaxed);
    out->warm_done = atomic_load_explicit(&w->warm_done, memory_order_acquire);
    out->warm_cpu_seconds = (double)atomic_load(&w->warm_ns) / 1e9;
}

static void html_escape(prep_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': prep_buf_puts(b, "&amp;"); break;
        case '<': prep_buf_puts(b, "&lt;"); break;
        case '>': prep_buf_puts(b, "&gt;"); break;
        case '"': prep_buf_puts(b, "&quot;"); break;
        case '\'': prep_buf_puts(b, "&#39;"); break;
        default: prep_buf_putc(b, *s);
        }
    }
}

/* The page answered while nothing may be shown yet (docs/internals/serve.md). */
static prep_err build_wait_page(prep_serve_version *v)
{
    prep_buf b;
    prep_buf_init(&b, 1 << 16);
    prep_buf_puts(&b, "<!doctype html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                      "<title>PREP: resultados preliminares</title></head>\n<body>\n"
                      "<h1>Resultados preliminares</h1>\n<p>");
    char when[128];
    const char *zone = v->zone ? v->zone : "UTC";
    if (v->opts.window_open != PREP_TIME_NONE &&
        prep_time_format(v->opts.window_open, zone, PREP_TS_HUMAN, when, sizeof when) == 0) {
        /* "6 de junio de 2021, 20:00 (UTC-5)" -> "... (UTC-5, America/Mexico_City)" */
        size_t wl = strlen(when);
        if (wl && when[wl - 1] == ')') when[wl - 1] = '\0';
        prep_buf_puts(&b, "La publicaci\xC3\xB3n de los resultados preliminares comienza el ");
        html_escape(&b, when);
        prep_buf_puts(&b, ", ");
        html_escape(&b, zone);
        prep_buf_puts(&b, ").");
    } else {
        prep_buf_puts(&b, "Los resultados preliminares a\xC3\xBAn no se publican en este sitio. "
                          "Vuelva a consultarlo en unos minutos.");
    }
    prep_err e = prep_buf_puts(&b, "</p>\n</body></html>\n");
    if (e != PREP_OK) {
        prep_buf_free(&b);
        return e;
    }
    v->wait_page = prep_buf_steal(&b, &v->wait_page_len);
    return PREP_OK;
}

static prep_err version_new(const prep_serve_site_opts *opts, prep_serve_version **out)
{
    *out = NULL;
    prep_serve_version *v = calloc(1, sizeof *v);
    if (!v) return PREP_ERR_NOMEM;
    atomic_init(&v->refs, 1);
    pthread_mutex_init(&v->arch_lock, NULL);
    if (opts) v->opts = *opts;
    else prep_serve_site_opts_init(&v->opts);
    /* The security fields of the policy table (include/prep/policy.h); bad origins are refused. */
    if (prep_policy_security_make(v->opts.frame_ancestors, v->opts.https, v->opts.hsts_max_age, &v->sec) != PREP_OK) {
        version_free(v);
        return PREP_ERR_INVALID;
    }
    if (v->opts.frame_ancestors) v->frame_ancestors = strdup(v->opts.frame_ancestors);
    if (v->opts.zone) v->zone = strdup(v->opts.zone);
    v->opts.frame_ancestors = v->frame_ancestors;
    v->opts.zone = v->zone;
    if ((opts && opts->frame_ancestors && !v->frame_ancestors) || (opts && opts->zone && !v->zone)) {
        version_free(v);
        return PREP_ERR_NOMEM;
    }
    snprintf(v->seq_str, sizeof v->seq_str, "0");
    v->info.instant = PREP_TIME_NONE;
    prep_err e = site_common_block(v);
    if (e == PREP_OK) e = build_wait_page(v);
    if (e != PREP_OK) {
        version_free(v);
        return e;
    }
    *out = v;
    return PREP_OK;
}

prep_err prep_serve_version_empty(const prep_serve_site_opts *opts, prep_serve_version **out)
{
    prep_err e = version_new(opts, out);
    if (e == PREP_OK) {
        (*out)->empty = 1;
        (*out)->info.bytes_held = sizeof **out + (*out)->wait_page_len;
    }
    return e;
}

/* v's files: the manifest's entries plus SHA256SUMS (and its .sig when the store has one),
 * unsorted. PREP_ERR_NOMEM, or PREP_ERR_LIMIT (a diag) for a file too large to serve. */
static prep_err version_files(prep_serve_version *v, const char *store, prep_diags *d)
{
    {
        char sp[4096];
        snprintf(sp, sizeof sp, "%s/cuts/%llu/manifest.sig", store, (unsigned long long)v->m.meta.seq);
        char *sig = NULL;
        size_t sl = 0;
        if (prep_read_file(sp, SITE_SIG_MAX, &sig, &sl) == PREP_OK) {
            v->sig = sig;
            v->sig_len = sl;
        }
    }
    /* The files: the manifest's entries plus SHA256SUMS (and .sig), sorted by path. */
    v->n_files = v->m.n + 1 + (v->sig ? 1 : 0);
    v->files = calloc(v->n_files, sizeof *v->files);
    if (!v->files) return PREP_ERR_NOMEM;
    for (size_t i = 0; i < v->m.n; i++) {
        const prep_cut_entry *en = &v->m.entries[i];
        site_file *f = &v->files[i];
        if (en->size > SITE_FILE_MAX) {
            prep_diags_add(d, en->path, 0, 0, "limit", "%llu bytes is more than a served file may hold (%llu)",
                           (unsigned long long)en->size, (unsigned long long)SITE_FILE_MAX);
            return PREP_ERR_LIMIT;
        }
        f->path = en->path;
        f->media_type = en->media_type;
        f->size = en->size;
        memcpy(f->sha256, en->sha256, 65);
        f->entry = en;
    }
    {
        site_file *f = &v->files[v->m.n];
        f->path = "SHA256SUMS";
        f->media_type = "text/plain; charset=utf-8";
        f->size = v->m.raw_len;
        prep_sha256_hex(v->m.raw, v->m.raw_len, f->sha256);
        if (v->sig) {
            f = &v->files[v->m.n + 1];
            f->path = "SHA256SUMS.sig";
            f->media_type = "text/plain; charset=utf-8";
            f->size = v->sig_len;
            prep_sha256_hex(v->sig, v->sig_len, f->sha256);
        }
    }
    return PREP_OK;
}

/* File f of v against its previous version: its policy and compressibility, its parts from
 * the shared table (new ones listed in fill for the workers), and the variants it can take
 * over from the same file of prev. PREP_ERR_NOMEM. */
static prep_err file_plan(prep_serve_version *v, const prep_serve_version *prev, site_file *f, site_part **fill,
                          size_t *n_fill)
{
    f->cache_control = prep_policy_cache_control(f->path, strlen(f->path));
    f->cors = prep_policy_cors(f->path, strlen(f->path));
    f->compressible = compressible_type(f->media_type);
    const site_file *pf = prev && !prev->empty ? find_prev(prev, f->path) : NULL;
    if (pf) f->prev_hits = atomic_load_explicit(&((site_file *)pf)->hits, memory_order_relaxed);
    int same = pf && !strcmp(pf->sha256, f->sha256) && pf->size == f->size;
    /* The manifest (megabytes at state scale, new every cut, fetched by verifiers)
     * gets its br from the warmer, like the pages. */
    f->lazy_br = !v->opts.whole_file && !f->entry && !strcmp(f->path, "SHA256SUMS");
    if (v->tab && f->entry && f->entry->n_parts) {
        /* A page held as parts, each from the shared cache. */
        f->composed = 1;
        f->lazy_br = 1;
        f->n_parts = (uint8_t)f->entry->n_parts;
        f->part = v->file_parts + v->n_file_parts;
        v->n_file_parts += f->n_parts;
        for (size_t k = 0; k < f->n_parts; k++) {
            const prep_cut_part *cp = &f->entry->parts[k];
            site_part *p = site_parts_get(v->tab, cp->sha256, cp->size);
            if (!p) return PREP_ERR_NOMEM; /* parts listed so far are the version's to free */
            if (p->mark == v->tab->serial) {
                site_part_unref(p); /* listed already: the version holds one reference */
                p->uses++;
            } else {
                p->mark = v->tab->serial;
                p->uses = 1;
                p->alone = 0; /* until a file uses its chunk alone: site_chunks_plan */
                v->parts[v->n_parts++] = p;
                if (!p->ready && !p->err) fill[(*n_fill)++] = p;
            }
            f->part[k] = p;
        }
        int same_parts = same && pf->composed && pf->n_parts == f->n_parts && pf->rep[REP_GZ].b;
        for (size_t k = 0; same_parts && k < f->n_parts; k++) same_parts = pf->part[k] == f->part[k];
        if (same_parts) {
            /* The same page from the same parts: its variants too. */
            f->rep[REP_GZ].b = pf->rep[REP_GZ].b;
            site_blob_ref(f->rep[REP_GZ].b);
            f->reused++;
            site_blob *br = site_br_get(pf);
            if (br && br != &site_no_variant && v->opts.https) {
                site_blob_ref(br);
                atomic_store_explicit(&f->br, br, memory_order_relaxed);
                f->reused++;
            }
        }
    } else if (same && pf->rep[REP_ID].b) {
        for (int k = 0; k < REP_N; k++) {
            f->rep[k].b = pf->rep[k].b;
            site_blob_ref(f->rep[k].b);
            if (k != REP_ID && f->rep[k].b) f->reused++;
        }
        site_blob *br = site_br_get(pf);
        if (br && v->opts.https) {
            site_blob_ref(br);
            atomic_store_explicit(&f->br, br, memory_order_relaxed);
            if (br != &site_no_variant) f->reused++;
        }
    }
    return PREP_OK;
}

/* Counts v's files into v->info and the bytes v holds into *held; a diag for each file that
 * failed (naming its object when it has one). The first failure's error, or PREP_OK. */
static prep_err version_account(prep_serve_version *v, const char *store, uint64_t *held_out, prep_diags *d)
{
    prep_err first = PREP_OK;
    uint64_t held = sizeof *v + v->n_files * sizeof *v->files + v->m.raw_len + v->sig_len + v->wait_page_len +
                    v->h1_common_len +
                    v->n_parts * sizeof *v->parts + v->n_file_parts * sizeof *v->file_parts;
    for (size_t i = 0; i < v->n_files; i++) {
        site_file *f = &v->files[i];
        if (f->err != PREP_OK) {
            char op[4096] = "";
            if (f->entry && f->entry->n_parts == 0) prep_cut_object_path(store, f->sha256, op, sizeof op);
            prep_diags_add(d, op[0] ? op : f->path, 0, 0, f->errkind, "%s: %s", f->path, f->errmsg);
            if (first == PREP_OK) first = f->err;
            continue;
        }
        v->info.files++;
        v->info.bytes_identity += f->size;
        v->info.variants_reused += (size_t)f->reused;
        v->info.variants_compressed += (size_t)f->compressed;
        for (int k = 0; k < REP_N; k++) {
            site_blob *b = k == REP_BR ? site_br_get(f) : f->rep[k].b;
            if (b) held += b->len;
            site_head *h = atomic_load_explicit(&f->head[k], memory_order_relaxed);
            if (h) held += sizeof *h + h->h200_len + h->h304_len;
        }
    }
    for (size_t i = 0; i < v->n_parts; i++) {
        const site_part *p = v->parts[i];
        held += sizeof *p + (p->kind == PART_CHUNK ? 64 : 0) + (p->data ? p->len : 0) + p->defl_len;
    }
    *held_out = held;
    return first;
}

static prep_err version_load_one(const char *store, uint64_t seq, const prep_serve_version *prev,
                                 const prep_serve_site_opts *opts, prep_serve_version **out, prep_diags *d)
{
    *out = NULL;
    double cpu0 = thread_cpu();
    prep_serve_version *v = NULL;
    prep_err e = version_new(opts, &v);
    if (e == PREP_ERR_INVALID) {
        prep_diags_add(d, "site-options", 0, 0, "bad-option",
                       "frame ancestors \"%s\" are not a space-separated list of origins (letters, digits and "
                       ". : / - * [ ], at most %d bytes)",
                       opts && opts->frame_ancestors ? opts->frame_ancestors : "", PREP_POLICY_ORIGINS_MAX);
        return e;
    }
    if (e != PREP_OK) return e;
    v->store = strdup(store);
    if (!v->store) {
        version_free(v);
        return PREP_ERR_NOMEM;
    }
    e = prep_cut_load(store, seq, &v->m, d);
    if (e != PREP_OK) {
        version_free(v);
        return e;
    }
    uint64_t s = v->m.meta.seq;
    snprintf(v->seq_str, sizeof v->seq_str, "%llu", (unsigned long long)s);
    if (site_common_block(v) != PREP_OK) {
        version_free(v);
        return PREP_ERR_NOMEM;
    }
    e = version_files(v, store, d);
    if (e != PREP_OK) {
        version_free(v);
        return e;
    }
    qsort(v->files, v->n_files, sizeof *v->files, file_cmp);
    if (site_index_build(v) != PREP_OK) {
        version_free(v);
        return PREP_ERR_NOMEM;
    }
    int parts_mode = !v->opts.whole_file;
    for (size_t i = 0; i < v->n_files && parts_mode; i++)
        if (v->files[i].entry && v->files[i].entry->n_parts) {
            v->tab = prev && prev->tab ? prev->tab : NULL;
            if (v->tab) site_parts_ref(v->tab);
            else v->tab = site_parts_new();
            if (!v->tab) {
                version_free(v);
                return PREP_ERR_NOMEM;
            }
            break;
        }
    size_t n_all = 0; /* the manifest's parts: a bound on the distinct ones too */
    for (size_t i = 0; i < v->m.n; i++) n_all += v->m.entries[i].n_parts;
    /* Each part position of the manifest has a part entry and a chunk entry. */
    if (v->tab) {
        pthread_mutex_lock(&v->tab->lock);
        v->tab->serial++;
        v->parts = calloc(2 * n_all + 1, sizeof *v->parts);
        v->file_parts = calloc(2 * n_all + 1, sizeof *v->file_parts);
    }
    site_part **fill = v->tab ? calloc(2 * n_all + 1, sizeof *fill) : NULL;
    uint32_t *dfiles = v->tab ? calloc(v->n_files + 1, sizeof *dfiles) : NULL;
    size_t n_fill = 0, n_dfiles = 0, n_made = 0;
    if (v->tab && (!v->parts || !v->file_parts || !fill || !dfiles)) e = PREP_ERR_NOMEM;
    for (size_t i = 0; i < v->n_files && e == PREP_OK; i++) e = file_plan(v, prev, &v->files[i], fill, &n_fill);
    for (size_t i = 0; i < v->n_files && e == PREP_OK; i++) {
        site_file *f = &v->files[i];
        if (!f->composed) continue;
        e = site_chunks_plan(v, f, fill, &n_fill, &n_made);
        if (f->dict_fill) dfiles[n_dfiles++] = (uint32_t)i;
    }
    /* Workers: read and compress new parts, then assemble, check and compress files. */
    load_job job;
    memset(&job, 0, sizeof job);
    job.v = v;
    job.fill = fill;
    job.n_fill = n_fill;
    job.dfiles = dfiles;
    job.n_dfiles = n_dfiles;
    pthread_mutex_init(&job.lock, NULL);
    long nt = v->opts.threads > 0 ? v->opts.threads : prep_par_cores(SITE_THREADS_MAX);
    if (nt > SITE_THREADS_MAX) nt = SITE_THREADS_MAX;
    if (e == PREP_OK) {
        if (n_fill) run_phase(&job, 1, nt, n_fill);
        if (n_dfiles) run_phase(&job, 2, nt, n_dfiles);
        run_phase(&job, 3, nt, v->n_files);
    }
    pthread_mutex_destroy(&job.lock);
    free(fill);
    free(dfiles);
    if (e != PREP_OK) {
        site_parts *t = v->tab;
        site_parts_ref(t);
        version_free(v);
        if (t) {
            site_parts_prune(t);
            pthread_mutex_unlock(&t->lock);
            site_parts_unref(t);
        }
        return e;
    }
    /* The whole-file approach builds every head at load, as it always did. */
    for (size_t i = 0; i < v->n_files && v->opts.whole_file; i++) {
        site_file *f = &v->files[i];
        if (f->err != PREP_OK) continue;
        for (int k = 0; k < REP_N; k++) {
            site_blob *b = k == REP_BR ? site_br_get(f) : f->rep[k].b;
            if (b && b != &site_no_variant) site_head_get(v, f, k, b->len);
        }
    }
    atomic_store(&v->lazy_bytes, 0);
    double own = thread_cpu() - cpu0;

    uint64_t held = 0;
    prep_err first = version_account(v, store, &held, d);
    v->info.parts = 0;
    for (size_t i = 0; i < v->n_parts; i++) v->info.parts += v->parts[i]->kind == PART_RAW;
    v->info.parts_compressed = n_made;
    if (v->tab) {
        site_parts *t = v->tab;
        if (first != PREP_OK) {
            site_parts_ref(t);
            version_free(v);
            v = NULL;
        }
        site_parts_prune(t);
        pthread_mutex_unlock(&t->lock);
        if (!v) site_parts_unref(t);
        else v->info.parts_cached = t->n_raw;
    }
    if (first != PREP_OK) {
        version_free(v);
        return first;
    }
    v->info.seq = s;
    memcpy(v->info.manifest_sha256, v->m.sha256, 65);
    v->info.instant = v->m.meta.instant;
    v->info.drill = v->m.meta.mode == PREP_CUT_DRILL;
    v->info.bytes_held = held;
    v->info.load_cpu_seconds = job.cpu + own;
    if (v->opts.https && v->opts.br_warm && !v->opts.whole_file) site_warmer_start(v);
    else atomic_store(&v->warm_done, 1);
    *out = v;
    return PREP_OK;
}

/* "KIND: MESSAGE" of the first diag kept after index from (the message names the public
 * path and the object), or the error's name. */
static void first_reason(const prep_diags *d, size_t from, prep_err e, char *out, size_t cap)
{
    if (d && d->n > from) {
        const prep_diag *g = &d->v[from];
        snprintf(out, cap, "%s: %s", g->kind ? g->kind : "?", g->msg ? g->msg : "");
    } else {
        snprintf(out, cap, "%s", prep_err_str(e));
    }
}

/* Start-up with a refused active cut (issue 13): the newest older cut that loads whole.
 * The log says why the active one was refused and which cut stands in for it; a store
 * whose only cut is damaged still fails (the caller serves the waiting page). */
static prep_err version_fallback(const char *store, const prep_serve_site_opts *opts, prep_err e0, size_t d_from,
                                 prep_serve_version **out, prep_diags *d)
{
    FILE *log = opts->log_out;
    prep_cut_active a;
    prep_diags q;
    prep_diags_init(&q);
    prep_err e = prep_cut_active_read(store, &a, &q);
    prep_diags_free(&q);
    if (e) return e0; /* no active pointer: nothing to stand in for */
    char why[192];
    first_reason(d, d_from, e0, why, sizeof why);
    if (log)
        fprintf(log, "prep serve: active cut %llu cannot be loaded (%s); looking for an older whole cut\n",
                (unsigned long long)a.seq, prep_err_str(e0));
    uint64_t cand[PREP_SERVE_FALLBACK_TRIES];
    size_t n = 0;
    prep_diags_init(&q);
    e = prep_cut_fallbacks(store, cand, PREP_SERVE_FALLBACK_TRIES, &n, &q);
    if (log && q.n) prep_diags_print(&q, log, 10);
    prep_diags_free(&q);
    for (size_t i = 0; e == PREP_OK && i < n; i++) {
        prep_serve_version *v = NULL;
        prep_diags_init(&q);
        prep_err le = version_load_one(store, cand[i], NULL, opts, &v, &q);
        if (le == PREP_OK) {
            prep_diags_free(&q);
            v->info.fallback_from = a.seq;
            snprintf(v->info.fallback_why, sizeof v->info.fallback_why, "%s", why);
            if (log) {
                /* On failure the caller prints d; here nobody else will. */
                if (d && d->n > d_from) {
                    prep_diags tail = *d;
                    tail.v = d->v + d_from;
                    tail.n = d->n - d_from;
                    tail.total = d->total - d_from;
                    prep_diags_print(&tail, log, 10);
                }
                fprintf(log,
                        "prep serve: serving cut %llu, the newest whole cut, instead of active cut %llu "
                        "until a newer cut is activated\n",
                        (unsigned long long)cand[i], (unsigned long long)a.seq);
                fflush(log);
            }
            *out = v;
            return PREP_OK;
        }
        if (log) {
            char r[192];
            first_reason(&q, 0, le, r, sizeof r);
            fprintf(log, "prep serve: cut %llu cannot be loaded either (%s)\n", (unsigned long long)cand[i], r);
        }
        prep_diags_free(&q);
        if (le == PREP_ERR_NOMEM) return le;
    }
    if (log) {
        fprintf(log, "prep serve: no whole cut older than %llu in %s (%zu tried)\n", (unsigned long long)a.seq, store,
                n);
        fflush(log);
    }
    return e0;
}

/* The last active cut refused by a load (process-wide: one server per process). */
static pthread_mutex_t refusal_mu = PTHREAD_MUTEX_INITIALIZER;
static prep_serve_refusal refusal;

int prep_serve_last_refusal(prep_serve_refusal *out)
{
    pthread_mutex_lock(&refusal_mu);
    *out = refusal;
    pthread_mutex_unlock(&refusal_mu);
    return out->seq != 0;
}

/* The active cut refused for an object that is not what its name says (a byte flipped on
 * this broadcaster's disk, a file cut short): each such object of the cut is moved to
 * STORE/damaged/ (prep_cut_store_lacks, which logs each one in STORE/log and on stderr), so
 * that the next cut pulled or received finds it missing and fetches it again instead of
 * trusting it and being refused for it in turn, every cut after. */
static void version_repair(const char *store, const prep_serve_site_opts *opts)
{
    uint64_t seq = 0;
    char first[PREP_CUT_PATH_MAX + 1];
    long bad = prep_cut_store_repair_active(store, &seq, first, sizeof first);
    if (bad > 0 && opts && opts->log_out) {
        fprintf(opts->log_out,
                "prep serve: cut %llu: %ld object(s) missing or damaged (the first of %s); the damaged ones are "
                "moved to %s/" PREP_CUT_DAMAGED_DIR "/ and the next cut fetches them again\n",
                (unsigned long long)seq, bad, first, store);
        fflush(opts->log_out);
    }
}

prep_err prep_serve_version_load(const char *store, uint64_t seq, const prep_serve_version *prev,
                                 const prep_serve_site_opts *opts, prep_serve_version **out, prep_diags *d)
{
    size_t d_from = d ? d->n : 0;
    prep_err e = version_load_one(store, seq, prev, opts, out, d);
    if (seq != 0) return e;
    if (e == PREP_OK) { /* the active cut itself is served: no refusal stands */
        pthread_mutex_lock(&refusal_mu);
        memset(&refusal, 0, sizeof refusal);
        pthread_mutex_unlock(&refusal_mu);
        return e;
    }
    {
        prep_cut_active a;
        prep_diags q;
        prep_diags_init(&q);
        if (prep_cut_active_read(store, &a, &q) == PREP_OK) {
            pthread_mutex_lock(&refusal_mu);
            refusal.seq = a.seq;
            memcpy(refusal.manifest_sha256, a.manifest_sha256, sizeof refusal.manifest_sha256);
            first_reason(d, d_from, e, refusal.why, sizeof refusal.why);
            pthread_mutex_unlock(&refusal_mu);
        }
        prep_diags_free(&q);
    }
    if (e == PREP_ERR_VERIFY) version_repair(store, opts);
    /* Only when nothing is being served: at start-up (no prev) or from the waiting page.
     * While a cut is served, a failed switch keeps that one (the caller's rule). */
    if (e == PREP_ERR_NOMEM || (prev && !prev->empty) || !opts || !opts->fallback) return e;
    return version_fallback(store, opts, e, d_from, out, d);
}

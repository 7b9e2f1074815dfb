/* The served site's private structures (src/serve/site_load.c, site_parts.c, site_lazy.c,
 * site_respond.c). docs/internals/serve.md describes the design. */
#ifndef PREP_SERVE_SITE_INTERNAL_H
#define PREP_SERVE_SITE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "prep/cut.h"
#include "prep/policy.h"
#include "prep/serve.h"

/* Limits (docs/internals/serve.md, "Limits"). */
#define SITE_COMPRESS_MIN 128                    /* smaller files get no variant */
#define SITE_COMPRESS_MAX ((uint64_t)64 << 20)   /* larger files get no variant */
#define SITE_FILE_MAX ((uint64_t)1 << 30)        /* one file held in memory */
#define SITE_PART_MAX ((uint64_t)64 << 20)       /* one part of a composed file held */
#define SITE_ARCHIVE_FILE_MAX ((uint64_t)256 << 20) /* one archived file read per response */
#define SITE_ARCHIVE_CACHE 4                     /* parsed archive manifests kept per version */
#define SITE_SIG_MAX 4096                        /* bytes of a manifest.sig */
#define SITE_BR_REQUEST_MAX ((uint64_t)1 << 20)  /* a request makes a missing br variant only
                                                  * up to this size (larger: the warmer) */
#define SITE_THREADS_MAX 64
#define SITE_DICT_SHARED 1 /* a part more files of a load use is deflated alone (the stamp,
                            * shared chrome, a body a page shares with its embedded twin), and
                            * so is every part after it in a page */

#define SITE_GZIP_LEVEL 6 /* the settings `prep export` uses for pages */
#define SITE_BROTLI_Q 5

enum { REP_ID = 0, REP_GZ = 1, REP_BR = 2, REP_N = 3 };

/* An immutable byte string shared between versions (a file's bytes or one of its
 * variants, reused by the next version when the file's SHA-256 is unchanged). */
typedef struct site_blob {
    atomic_uint refs;
    uint64_t len;
    uint8_t data[];
} site_blob;

site_blob *site_blob_new(uint64_t len);
void site_blob_ref(site_blob *b);
void site_blob_unref(site_blob *b); /* the site_no_variant sentinel is never freed */

/* "Tried, no variant" (the variant was not smaller, or could not be made): len 0. */
extern site_blob site_no_variant;

/* ---------------------------------------------------------------- parts (site_parts.c) */
/* Part error codes (site_part.err). */
enum { PART_OK = 0, PART_MISSING, PART_SIZE, PART_HASH, PART_NOMEM, PART_LIMIT };

/* One part of composed files (pre, stamp, body, post), keyed by its SHA-256, shared by
 * every page and every version that uses it, or one deflate CHUNK of such a part made
 * with the page's bytes before it (a second kind of entry in the same table). Written
 * only by the load that created it (under the table's lock, before the version is
 * published), immutable afterwards, but for a part entry's own chunk (defl), which a
 * later load may add when a page first uses the part alone (no version that is being
 * served reads it: none used it).
 *
 * A part entry (kind PART_RAW) holds what the load checked: CRC-32, the bytes when
 * several files use it, and its raw deflate stream compressed alone (refers only inside
 * the part) when some page uses it so. A chunk entry (PART_CHUNK) holds the part's raw
 * deflate stream compressed with the page's bytes before the part (up to 32 KiB) as
 * zlib's preset dictionary: it refers back into the parts before it, so it is valid only
 * after exactly those bytes; its key names them: ctx is the SHA-256 of the preceding
 * parts' hashes, in order. docs/internals/serve.md, "Chunks compressed with the bytes
 * before them". */
enum { PART_RAW = 0, PART_CHUNK = 1 };
typedef struct site_part {
    atomic_uint refs;        /* the table's own + one per version that references it */
    struct site_part *next;  /* table chain */
    char sha256[65];
    uint8_t kind;            /* PART_RAW, PART_CHUNK */
    uint8_t alone;           /* raw: a file of the load that last listed it uses its chunk
                              * compressed alone (defl) */
    uint64_t len;
    uint64_t mark;           /* load serial that last listed it (under the table lock) */
    uint32_t uses;           /* raw: files of the load that last listed it that use it */
    int ready;               /* raw: read and checked; chunk: compressed */
    int err;                 /* PART_* */
    uint32_t crc;            /* CRC-32 of the bytes */
    uint32_t defl_len;
    uint8_t *data;           /* raw, owned: the bytes, held only by a part that more than one
                              * file of the load that read it uses (the stamp, shared chrome: a
                              * few hundred objects, ~2 MB at national scale); NULL otherwise:
                              * its identity is inflated from its file's chunks when a response
                              * needs it, and read again from the store when a load hashes a
                              * page (issue 15: 2.3 GB of bodies held twice, as bytes and as
                              * deflate, made the national cut 3.4 GB resident) */
    uint8_t *defl;           /* owned: raw deflate (level 6), ending with a sync flush
                              * (byte-aligned, not final): a part's chunk alone (NULL while no
                              * page has used it alone, or when it could not be made), a chunk
                              * entry's with its dictionary */
    char ctx[];              /* chunk only (64 bytes, not NUL-terminated): SHA-256 (hex) of the
                              * preceding parts' hashes; part entries are allocated without
                              * it (500,000 of them at national scale) */
} site_part;

/* The part cache: survives from version to version (each version holds a reference),
 * pruned of parts no version references at the end of every load. */
typedef struct site_parts {
    atomic_uint refs;
    pthread_mutex_t lock;    /* held for the whole of a load that uses the table */
    site_part **b;
    size_t nb, n;
    size_t n_raw;            /* part entries (the rest are chunks), after the last prune */
    uint64_t serial;         /* loads so far */
    uint64_t bytes;          /* data + deflate bytes of the parts held */
} site_parts;

site_parts *site_parts_new(void);
void site_parts_ref(site_parts *t);
void site_parts_unref(site_parts *t);
/* Under t->lock: the part of that SHA-256, or a new empty one (ready 0) added to the table.
 * The caller gets its own reference. NULL: no memory. */
site_part *site_parts_get(site_parts *t, const char *sha256, uint64_t len);
/* Under t->lock: the chunk entry of that part compressed after the preceding parts whose
 * hashes ctx (64 hex) digests; a new empty one when absent. As above. */
site_part *site_parts_chunk(site_parts *t, const char *sha256, uint64_t len, const char *ctx);
void site_part_unref(site_part *p);
/* Under t->lock: drops every part only the table references. */
void site_parts_prune(site_parts *t);
/* A worker's reusable buffer (a load's reads of parts that keep no bytes). */
typedef struct site_scratch {
    uint8_t *p; /* owned */
    size_t cap;
} site_scratch;
/* At least n bytes of s (grown as needed); NULL: no memory. */
uint8_t *site_scratch_get(site_scratch *s, uint64_t n);
void site_scratch_free(site_scratch *s);
/* Reads part entry p's object from store, checks size and SHA-256, computes its CRC-32;
 * the bytes are read into sc and kept (p->data) only when p->uses > 1. When p->alone,
 * compresses its chunk alone (p->defl) with zs (prep_cut_gz_deflater_new) from the same
 * bytes (left NULL when zlib cannot). Sets p->err / p->ready. */
void site_part_fill(site_part *p, const char *store, void *zs, site_scratch *sc);
/* Compresses the chunk alone of part entry p, read and checked by an earlier load: its
 * bytes from memory or read again from store (their SHA-256 checked; p->err untouched:
 * the load that needs it fails, a later one tries again). */
void site_part_fill_alone(site_part *p, const char *store, void *zs, site_scratch *sc);
/* Compresses in[0..n) into c->defl with the dict_len bytes before it as preset
 * dictionary (0: none). 0, or -1 (no memory, zlib error). */
int site_chunk_deflate(site_part *c, void *zs, const uint8_t *dict, size_t dict_len, const uint8_t *in, uint64_t n);
/* p's bytes: p->data, or its object read again from store into sc (size checked, not its
 * hash: the caller hashes the file they make). PART_OK (*out set), PART_MISSING, PART_SIZE,
 * PART_LIMIT or PART_NOMEM. */
int site_part_bytes(const site_part *p, const char *store, site_scratch *sc, const uint8_t **out);
/* The gzip member of a page made of n chunks: header (mtime 0, OS unix), the chunks' deflate
 * streams, a final empty block, CRC-32 (crc32_combine) and ISIZE. NULL when a chunk has no
 * deflate stream, the member is not smaller than the page, or no memory. */
site_blob *site_parts_gzip(site_part *const *chunks, size_t n, uint64_t size);

/* ---------------------------------------------------------------- versions */
/* The prebuilt HTTP/1.1 heads of one representation: 200 then 304, built on first use. */
typedef struct site_head {
    uint32_t h200_len, h304_len;
    char data[]; /* h200 at 0, h304 at h200_len */
} site_head;

/* One representation of a file. */
typedef struct site_rep {
    site_blob *b;      /* identity and gzip: set at load, NULL = absent (identity of a page
                        * held as parts: NULL, assembled per response) */
    char etag[28];     /* "\"<20 hex>\"", "\"<20 hex>-gz\"", "\"<20 hex>-br\"" */
    uint8_t etag_len;
} site_rep;

/* One public file of the version. */
typedef struct site_file {
    const char *path;       /* borrowed from the manifest (or static) */
    const char *media_type; /* borrowed from the manifest (or static) */
    uint64_t size;
    char sha256[65];
    const prep_cut_entry *entry; /* NULL for SHA256SUMS, SHA256SUMS.sig */
    const char *cache_control;   /* static */
    int cors;                    /* prep_policy_cors: access-control-allow-origin on its answers */
    int compressible;
    int composed;           /* held as parts: identity assembled on demand, gzip per part,
                             * br made lazily */
    int lazy_br;            /* br made after the load (pages, SHA256SUMS), not at load */
    uint8_t n_parts;
    uint8_t dict;           /* some chunk[k] is compressed with the bytes before it */
    site_part **part;       /* n_parts of them, in the version's file_parts; borrowed (the
                             * version holds the references) */
    site_part **chunk;      /* n_parts: part k's deflate: part[k] itself (its chunk alone) or
                             * a chunk entry (with the bytes before it); in file_parts too */
    site_rep rep[REP_N];
    _Atomic(site_blob *) br;          /* br variant: NULL not made yet, site_no_variant none */
    atomic_int br_claim;              /* 1: someone is making it */
    _Atomic(site_blob *) idn;         /* composed: its identity bytes once kept (site_identity_get) */
    _Atomic(site_head *) head[REP_N]; /* heads, built on first use */
    atomic_uint hits;                 /* requests answered from this file (warm order) */
    uint32_t prev_hits;               /* the same path's hits in prev at load */
    /* load bookkeeping */
    int reused;      /* variants taken from prev */
    uint16_t dict_fill; /* chunks with dictionary this file makes (bit k: chunk[k]) */
    int compressed;  /* whole-file variants compressed by this load */
    prep_err err;
    char errkind[24];
    char errmsg[200];
} site_file;

typedef struct site_index_slot {
    uint32_t file;  /* index into files + 1; 0 = empty */
    uint32_t hash;  /* high half of the path's hash, compared before the path */
} site_index_slot;

/* FNV-1a, 64 bits, of a NUL-terminated path. */
uint64_t site_path_hash(const char *s);
/* Builds v->index over v->files. PREP_ERR_NOMEM. */
prep_err site_index_build(prep_serve_version *v);

/* One archived cut's manifest and signature, read and hashed once when the slot is
 * loaded: SHA256SUMS and SHA256SUMS.sig of that cut are answered from these bytes, with no
 * copy and no hash per request (issue 13). Refcounted: the slot holds one reference and
 * each response answering from it another, so evicting the slot never frees bytes a
 * response is still sending. */
typedef struct site_arch_cut {
    atomic_uint refs;
    prep_cut_manifest m;
    char *sig;             /* owned, NULL if none */
    size_t sig_len;
    char raw_sha256[65];   /* of m.raw (SHA256SUMS) */
    char sig_sha256[65];   /* of sig, "" when none */
} site_arch_cut;
void site_arch_cut_unref(site_arch_cut *c); /* NULL ok */

typedef struct site_arch_slot {
    uint64_t seq;          /* 0: empty slot */
    site_arch_cut *c;      /* owned reference, NULL when empty */
    uint64_t used;         /* LRU tick */
} site_arch_slot;

struct prep_serve_version {
    atomic_uint refs;
    prep_serve_site_opts opts;  /* copied; the strings below are the version's own copies */
    char *store;                /* owned; NULL for the empty version */
    char *frame_ancestors;      /* owned */
    char *zone;                 /* owned */
    int empty;
    prep_cut_manifest m;
    char *sig; /* owned: the cut's manifest.sig text (may be NULL) */
    size_t sig_len;
    site_file *files; /* owned, sorted by path (bytewise) */
    size_t n_files;
    /* path -> file: open addressing, linear probing, a power of two >= 2 x n_files slots;
     * owned; NULL when there are no files. A binary search over the sorted paths cost ~14
     * strcmp of long common prefixes per request (3 % of a request's CPU). */
    site_index_slot *index;
    size_t index_mask;
    /* parts of composed files */
    site_parts *tab;   /* referenced; NULL without composed files held as parts */
    site_part **parts; /* owned array; one reference each: the distinct parts used */
    size_t n_parts;
    site_part **file_parts; /* owned array: every composed file's parts in order (site_file.part
                             * points into it), sized by the manifest's parts, not by
                             * PREP_CUT_PARTS_MAX per file */
    size_t n_file_parts;
    /* per-version field values */
    char seq_str[24];
    prep_policy_security sec; /* CSP (frame ancestors) and HSTS, from the policy table */
    char *h1_common;   /* owned: x-prep-corte and the security fields as HTTP/1.1 lines,
                        * sent after every prebuilt head (prep_http_response.h1_common) */
    size_t h1_common_len;
    /* the waiting page (empty version, live cut before the window opens) */
    char *wait_page;
    size_t wait_page_len;
    prep_serve_version_info info;
    /* made after the load (atomics: any thread) */
    _Atomic uint64_t lazy_bytes;
    atomic_size_t br_made;
    _Atomic uint64_t idn_bytes;       /* identity bytes kept (opts.identity_keep at most) */
    /* the br warmer: a detached thread. owners counts who may free the version: 1 for its
     * users (refs > 0) plus 1 while the warmer runs; the last of the two frees it, so the
     * thread dropping the last reference never waits for the warmer (issue 13 C). */
    pthread_t warmer;
    int warmer_started;
    atomic_int owners;
    atomic_int warm_stop, warm_done;
    _Atomic uint64_t warm_ns;
    /* archive manifests */
    pthread_mutex_t arch_lock;
    site_arch_slot arch[SITE_ARCHIVE_CACHE];
    /* manifest bytes the archive may still load (opts.archive_load_rate), and when it was
     * last refilled (CLOCK_MONOTONIC ms; 0: never); under arch_lock */
    double arch_budget;
    int64_t arch_budget_ms;
    uint64_t arch_tick;
};

/* The fields every response carries last: x-prep-corte and the security fields. Appends
 * to f (*n updated, at most PREP_HTTP_MAX_FIELDS). seq_str may point elsewhere (archive). */
void site_common_fields(const prep_serve_version *v, const char *seq_str, prep_http_field *f, size_t *n);
/* (Re)builds v->h1_common from v->seq_str. PREP_ERR_NOMEM. */
prep_err site_common_block(prep_serve_version *v);
/* The fields of a representation's 200 (or 304) before the common ones (site_file_fields
 * without site_common_fields). */
void site_file_own_fields(const char *ctype, int compressible, int rep, const char *etag, size_t etag_len,
                          const char *cc, int cors, int not_modified, prep_http_field *f, size_t *n);
/* Fields of a 200 (or 304 when not_modified) of one representation, content-length
 * excluded; ctype, etag and cc borrowed. */
void site_file_fields(const prep_serve_version *v, const char *seq_str, const char *ctype, int compressible,
                      int rep, const char *etag, size_t etag_len, const char *cc, int cors, int not_modified,
                      prep_http_field *f, size_t *n);
/* Appends "HTTP/1.1 STATUS REASON\r\n", the fields and, when with_len, content-length. */
prep_err site_build_head(prep_buf *b, int status, const prep_http_field *f, size_t n, int with_len,
                         uint64_t len);
const char *site_reason(int status);
/* Assembles one file (plain object or parts) from store into dst (size bytes) and checks
 * its size and SHA-256. Returns PREP_OK, or an error with kind/msg filled. */
/* The archived-body cache of site_respond.c: answers from it, reads into it, bytes held. */
void site_arch_cache_stats(uint64_t *hits, uint64_t *misses, size_t *bytes);
prep_err site_assemble(const char *store, const char *sha256, uint64_t size, size_t n_parts,
                       const prep_cut_part *parts, uint8_t *dst, char kind[24], char msg[200]);
void site_etag_set(site_rep *r, const char *sha256, int k);
site_blob *site_gzip_blob(const uint8_t *in, uint64_t n);
site_blob *site_brotli_blob(const uint8_t *in, uint64_t n);

/* ---------------------------------------------------------------- chunks (site_chunks.c) */
/* Load, after every file's parts are listed (their uses counted): f's chunks (f->chunk,
 * in v->file_parts): part k > 0 with the bytes before it as dictionary (a chunk entry;
 * new ones in v->parts) while no part 0..k is used by more than SITE_DICT_SHARED files,
 * else the part entry itself (its chunk alone: p->alone; a part an earlier load read
 * without making it goes to fill). New dictionary chunks are f's to make (f->dict_fill).
 * *n_made counts the chunks to make. PREP_ERR_NOMEM. */
prep_err site_chunks_plan(prep_serve_version *v, site_file *f, site_part **fill, size_t *n_fill, size_t *n_made);
/* Makes the chunks of f->dict_fill: reads f's parts in order (memory or store, each
 * checked) into fb and deflates each with the bytes before it. Errors go to the chunks. */
void site_chunks_fill_dict(site_file *f, const char *store, void *zs, site_scratch *sc, site_scratch *fb);
/* Bytes [off, off+len) of a page whose chunks use dictionaries: its chunks inflated as one
 * stream from the start. 0, or -1. */
int site_copy_chunks(const site_file *f, uint64_t off, uint64_t len, uint8_t *dst);
/* ---------------------------------------------------------------- lazy (site_lazy.c) */
/* Copies bytes [off, off+len) of a composed file's identity from its parts into dst: a
 * part's bytes when it holds them, else its deflate stream inflated (only as far as the
 * range needs). 0, or -1 when no memory (or a stream that does not inflate to the part). */
int site_copy_parts(const site_file *f, uint64_t off, uint64_t len, uint8_t *dst);
/* The identity bytes of composed page f, assembled once and kept while v's identity_keep
 * allows (published like br: the loser of a race frees its copy); NULL when over it or no
 * memory: the caller assembles its own copy. */
site_blob *site_identity_get(prep_serve_version *v, site_file *f);
/* Whether a br variant of f may exist in v (https, compressible, size in range). */
int site_br_possible(const prep_serve_version *v, const site_file *f);
/* f's br blob if made (NULL: not yet; site_no_variant: none). */
site_blob *site_br_get(const site_file *f);
/* Makes f's br variant now unless someone else is making it or (BR_REQUEST) the file is
 * larger than SITE_BR_REQUEST_MAX: then NULL. BR_FORCE makes its own copy even then (the
 * loser of the race frees its copy). Returns the blob (site_no_variant when none) or NULL. */
enum { BR_REQUEST, BR_FORCE, BR_WARM };
site_blob *site_br_make(prep_serve_version *v, site_file *f, int mode);
/* f's prebuilt heads for representation k (whose body has len bytes), built on first
 * use; NULL when no memory. */
const site_head *site_head_get(prep_serve_version *v, site_file *f, int k, uint64_t len);
/* Starts the low-priority br warmer of v (pages, most requested in prev first, then the
 * shallowest paths), detached; it holds one of v's owners. */
void site_warmer_start(prep_serve_version *v);
/* From the last unref: asks the warmer to stop, without waiting for it. Returns 1 when
 * the caller must free v now (no warmer, or it has already finished), 0 when the warmer
 * frees v as it exits (it may be starved of CPU at idle priority for seconds while the
 * workers are busy: a worker must never wait for it). */
int site_warmer_release(prep_serve_version *v);
/* Frees v and everything it holds (the warmer is gone). site_load.c. */
void site_version_destroy(prep_serve_version *v);

/* Testing hook (tests only; process-wide, NULL = none): called by the warmer before each
 * file with SITE_HOOK_WARM_FILE, and by site_version_destroy with SITE_HOOK_FREED, on
 * the thread doing it. */
enum { SITE_HOOK_WARM_FILE = 1, SITE_HOOK_FREED = 2 };
extern void (*site_test_hook)(int event, const prep_serve_version *v);

#endif

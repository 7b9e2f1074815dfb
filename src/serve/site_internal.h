/* The served site's private structures (src/serve/site_load.c, site_respond.c).
 * docs/internals/serve.md describes the design. */
#ifndef PREP_SERVE_SITE_INTERNAL_H
#define PREP_SERVE_SITE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "prep/cut.h"
#include "prep/serve.h"

/* Limits (docs/internals/serve.md, "Limits"). */
#define SITE_COMPRESS_MIN 128                    /* smaller files get no variant */
#define SITE_COMPRESS_MAX ((uint64_t)64 << 20)   /* larger files get no variant */
#define SITE_FILE_MAX ((uint64_t)1 << 30)        /* one file held in memory */
#define SITE_ARCHIVE_FILE_MAX ((uint64_t)256 << 20) /* one archived file read per response */
#define SITE_ARCHIVE_CACHE 4                     /* parsed archive manifests kept per version */
#define SITE_SIG_MAX 4096                        /* bytes of a manifest.sig */
#define SITE_THREADS_MAX 64

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
void site_blob_unref(site_blob *b);

/* One representation of a file. */
typedef struct site_rep {
    site_blob *b;      /* NULL: this representation does not exist */
    char etag[28];     /* "\"<20 hex>\"", "\"<20 hex>-gz\"", "\"<20 hex>-br\"" */
    uint8_t etag_len;
    uint32_t h200_off, h200_len; /* into site_file.heads */
    uint32_t h304_off, h304_len;
} site_rep;

/* One public file of the version. */
typedef struct site_file {
    const char *path;       /* borrowed from the manifest (or static) */
    const char *media_type; /* borrowed from the manifest (or static) */
    uint64_t size;
    char sha256[65];
    const prep_cut_entry *entry; /* NULL for SHA256SUMS, SHA256SUMS.sig */
    const char *cache_control;   /* static */
    int compressible;
    site_rep rep[REP_N];
    char *heads; /* owned: every prebuilt HTTP/1.1 head of the file */
    /* load bookkeeping */
    int reused;      /* variants taken from prev */
    int compressed;  /* variants compressed by this load */
    prep_err err;
    char errkind[24];
    char errmsg[200];
} site_file;

typedef struct site_arch_slot {
    uint64_t seq;          /* 0: empty slot */
    prep_cut_manifest m;
    char *sig;             /* owned, NULL if none */
    size_t sig_len;
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
    /* per-version field values */
    char seq_str[24];
    char csp[2048];
    size_t csp_len;
    char hsts[48];
    size_t hsts_len;
    /* the waiting page (empty version, live cut before the window opens) */
    char *wait_page;
    size_t wait_page_len;
    prep_serve_version_info info;
    /* archive manifests */
    pthread_mutex_t arch_lock;
    site_arch_slot arch[SITE_ARCHIVE_CACHE];
    uint64_t arch_tick;
};

/* The fields every response carries last: x-prep-corte and the security fields. Appends
 * to f (*n updated, at most PREP_SERVE_MAX_FIELDS). seq_str may point elsewhere (archive). */
void site_common_fields(const prep_serve_version *v, const char *seq_str, prep_serve_field *f, size_t *n);
/* Fields of a 200 (or 304 when not_modified) of one representation, content-length
 * excluded; ctype, etag and cc borrowed. */
void site_file_fields(const prep_serve_version *v, const char *seq_str, const char *ctype, int compressible,
                      int rep, const char *etag, size_t etag_len, const char *cc, int not_modified,
                      prep_serve_field *f, size_t *n);
/* Appends "HTTP/1.1 STATUS REASON\r\n", the fields and, when with_len, content-length. */
prep_err site_build_head(prep_buf *b, int status, const prep_serve_field *f, size_t n, int with_len,
                         uint64_t len);
const char *site_reason(int status);
/* Assembles one file (plain object or parts) from store into dst (size bytes) and checks
 * its size and SHA-256. Returns PREP_OK, or an error with kind/msg filled. */
prep_err site_assemble(const char *store, const char *sha256, uint64_t size, size_t n_parts,
                       const prep_cut_part *parts, uint8_t *dst, char kind[24], char msg[200]);

#endif

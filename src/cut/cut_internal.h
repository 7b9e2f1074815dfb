/* prep cut: helpers shared by the files of src/cut/ only (not a public interface). */
#ifndef PREP_CUT_INTERNAL_H
#define PREP_CUT_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "prep/core.h"
#include "prep/cut.h"

/* Names in an export and a store. */
#define CUT_SUMS_NAME "SHA256SUMS"
#define CUT_SIG_NAME "SHA256SUMS.sig"
#define CUT_MANIFEST_MAGIC "# prep-cut-manifest 1\n"
/* The longest manifest (and patch) line: a "HASH  PATH" line is 64 + 2 + PREP_CUT_PATH_MAX
 * (1,090) and a "#f" line at most ~160, but a "#p" line of PREP_CUT_PARTS_MAX parts, each
 * " SIZE HASH" with a size of up to 20 digits, is 2 + 16 * 86 = 1,378 bytes. */
#define CUT_PARTS_LINE_MAX (2 + PREP_CUT_PARTS_MAX * (1 + 20 + 1 + 64))
#define CUT_LINE_MAX (CUT_PARTS_LINE_MAX > PREP_CUT_PATH_MAX + 80 ? CUT_PARTS_LINE_MAX : PREP_CUT_PATH_MAX + 80)


/* ---- file system steps, each through the test hook (store.c) */
/* 0 to proceed; else -1 with errno set by the hook. */
int cut_hook(const char *op, const char *path);
int cut_open(const char *path, int flags, mode_t mode);
int cut_write_all(int fd, const void *p, size_t n, const char *path);
/* read(2) retried on EINTR; -1 after a diag "cannot read" on label. */
ssize_t cut_read(int fd, void *buf, size_t n, prep_diags *d, const char *label);
int cut_fsync(int fd, const char *path);
int cut_rename(const char *from, const char *to);
int cut_mkdir(const char *path);           /* EEXIST of a real directory is success */
int cut_fsync_dir(const char *path);
int cut_link(const char *from, const char *to);
/* Writes data to path atomically: path.tmp.<pid>, write, fsync, rename, fsync dir.
 * mode_bits for the new file. On failure the temporary is removed; errno kept. */
int cut_write_atomic(const char *path, const void *data, size_t len, mode_t mode_bits);
/* Removes a directory tree (no symlink is followed). Best effort; 0 on success. */
int cut_rm_rf(const char *path);

/* ---- strings */
/* Joins a and b with '/', owned (free()). */
char *cut_join(const char *a, const char *b);
char *cut_join3(const char *a, const char *b, const char *c);
/* Returns a printf'd owned string (aborts on OOM like prep_x*). */
char *cut_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- hashing (OpenSSL EVP, incremental) */
typedef struct cut_sha256 {
    void *ctx; /* EVP_MD_CTX */
} cut_sha256;
int cut_sha256_init(cut_sha256 *h);
void cut_sha256_update(cut_sha256 *h, const void *p, size_t n);
void cut_sha256_final(cut_sha256 *h, char out[65]);
/* SHA-256 (hex) of what fd reads from where it is, at most max + 1 bytes (a file grown
 * past what is expected is not read to its end; UINT64_MAX: all), into out, *got the bytes
 * read: 0, or the errno of the read that failed (ENOMEM: no hash context), out then "". */
int cut_fd_sha256(int fd, uint64_t max, char out[65], uint64_t *got);

/* ---- what one prep_cut_make remembers for the next (hashcache.c) */
typedef struct hc_part_hash {
    uint64_t size;
    unsigned char md[32];
} hc_part_hash;
void cut_hc_sha256(const void *p, size_t n, hc_part_hash *out);
/* A few small parts hashed, by their bytes: a cut's stamp is the same bytes in ~74,000
 * national pages and its open-data head in ~71,000 datos.json, each hashed once (a compare
 * of a few hundred bytes instead of a SHA-256 with its start and end). A new part takes
 * the slot matched least often (of those, the one used longest ago), so the parts every
 * file repeats stay while a changed section's own parts (up to three of them between two
 * stamps) pass through one slot after another. */
#define HC_MEMO_N 4
#define HC_MEMO_MAX 4096
typedef struct hc_memo {
    unsigned char *bytes[HC_MEMO_N]; /* owned, HC_MEMO_MAX bytes each once used */
    size_t len[HC_MEMO_N];
    hc_part_hash hash[HC_MEMO_N];
    uint64_t hits[HC_MEMO_N]; /* how often each slot matched since it was filled */
    uint64_t used[HC_MEMO_N]; /* when it last matched or was filled */
    uint64_t clock;
} hc_memo;
/* cut_hc_sha256 through m: a part of at most HC_MEMO_MAX bytes equal to one remembered
 * takes its hash. */
void cut_hc_memo_sha256(hc_memo *m, const void *p, size_t n, hc_part_hash *out);
void cut_hc_memo_free(hc_memo *m);
void cut_hc_clear(prep_cut_hash_cache *c);
/* The buffer a cut's manifest is written into, emptied, of at most max bytes: the same
 * memory every cut (a national manifest is ~69 MB; a fresh buffer each cut cost its pages'
 * faults and zeroing, ~5 % of the busiest cut's CPU). Freed with the cache. */
prep_buf *cut_hc_manifest_buf(prep_cut_hash_cache *c, size_t max);
/* The manifest SHA-256 of the last cut made with c ("" none): its objects are in the store
 * while that cut is the store's active one. */
const char *cut_hc_made(const prep_cut_hash_cache *c);
void cut_hc_set_made(prep_cut_hash_cache *c, const char *sha256, prep_time instant, long off);
/* 1 when sha256 is the manifest of the last cut made with c: *instant and *off get its
 * instant (what the next cut needs of it, without reading it again). */
int cut_hc_made_meta(const prep_cut_hash_cache *c, const char *sha256, prep_time *instant, long *off);
/* Marks every file unseen; cut_hc_end then forgets those no cut_hc_file named. */
void cut_hc_begin(prep_cut_hash_cache *c);
void cut_hc_end(prep_cut_hash_cache *c);
/* path's entry, made empty when the cache has none: valid until the next cut_hc_entry
 * (which may move the table). NULL when out of memory. */
typedef struct hc_entry hc_entry;
hc_entry *cut_hc_entry(prep_cut_hash_cache *c, const char *path);
/* The part hashes e had in the last make (n_parts of them, 1 for a plain file), or NULL. */
const hc_part_hash *cut_hc_entry_parts(const hc_entry *e, size_t n_parts);
/* Records e's part hashes (n_parts 0: a plain file, parts[0] its hash) and writes the
 * assembled file's SHA-256 to out: from the state kept after part first_changed - 1 (parts
 * [0, first_changed) are the bytes that state covers; first_changed <= prefix), hashing
 * the rest, and keeping the state after each part of [0, prefix). */
typedef struct hc_src {
    const unsigned char *p[PREP_CUT_PARTS_MAX]; /* each part's bytes; NULL: load(ctx, k) */
    const unsigned char *(*load)(void *ctx, size_t k); /* a part the store holds (prep_cut_file.stored):
                                                  * valid until the next call; NULL on failure */
    void *ctx;
} hc_src;
/* PREP_ERR_IO when src->load fails (it reports why). */
prep_err cut_hc_file(prep_cut_hash_cache *c, hc_entry *e, const hc_src *src, size_t n_parts, const size_t *len,
                     const hc_part_hash *parts, size_t first_changed, size_t prefix, char out[65]);


/* Reads a whole regular file, refusing symlinks (O_NOFOLLOW) and files over max bytes.
 * *data owned. Returns PREP_OK, PREP_ERR_NOTFOUND, PREP_ERR_LIMIT, PREP_ERR_INVALID
 * (symlink or not a regular file: *why set), PREP_ERR_IO. */
prep_err cut_read_small(const char *path, size_t max, char **data, size_t *len, const char **why);

/* ---- the store (store.c) */
typedef struct cut_store {
    char *root;             /* owned */
    int lock_fd;
    struct cut_dirs *dirs;  /* tmp/ and objects/XX/ as open directories (store.c); NULL until used */
} cut_store;

/* Opens (creating the layout when create) and locks the store, then removes leftovers
 * of interrupted runs (tmp/ contents, cuts/.tmp-*). */
prep_err cut_store_open(cut_store *s, const char *root, int create, prep_diags *d);
void cut_store_close(cut_store *s);
/* Active pointer: read (NOTFOUND if none) / write atomically. */
prep_err cut_active_read_path(const char *root, prep_cut_active *a, prep_diags *d);
prep_err cut_active_write(cut_store *s, const prep_cut_active *a, prep_diags *d);
/* Appends one line to STORE/log (best effort) and to stderr through prep_log. */
void cut_store_log(const char *root, prep_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Installs an object whose bytes come from fd (already opened, regular) into the store:
 * tmp/, copying at most size+1 bytes while hashing, checks size and sha256, fsync,
 * chmod 0444, rename into objects/aa/. Kinds: "oversize", "truncated", "hash-mismatch".
 * label names the source in diags. Marks the objects/aa directory dirty in dirty[256]. */
prep_err cut_object_put_fd(cut_store *s, int fd, const char *label, uint64_t size, const char *sha256,
                           unsigned char dirty[256], prep_diags *d);
/* One syncfs(2) of the file system that holds the store / dir (through the test hook
 * "syncfs"); a failure is an "io" diag on dir naming what (errno kept). */
prep_err cut_store_syncfs(cut_store *s, prep_diags *d);
prep_err cut_syncfs(const char *dir, const char *what, prep_diags *d);
/* The same from any source: rd reads up to n bytes: > 0 bytes, 0 the end, -1 an I/O
 * failure, -2 refused (both with a diag). cut_object_put_fd is this over read(2). */
typedef ssize_t (*cut_read_fn)(void *ctx, void *buf, size_t n, prep_diags *d, const char *label);
prep_err cut_object_put_src(cut_store *s, cut_read_fn rd, void *ctx, const char *label, uint64_t size,
                            const char *sha256, unsigned char dirty[256], prep_diags *d);
/* Batched installs of objects read from a source (prep_cut_receive): cut_stage_src copies
 * and hashes like cut_object_put_src (same kinds) into tmp/, mode 0444, not synced, and
 * adds it to l; cut_stage_commit then makes them all durable with one syncfs and renames
 * them into objects/aa/ (marking dirty), or, when e is an error already, removes them; it
 * empties l either way and returns the first error. A national first pull installs
 * ~500,000 objects: one sync instead of an fsync each. */
typedef struct cut_staged {
    unsigned tmp; /* its number in tmp/ (store.c) */
    char sha256[65];
    const char *unasked; /* cut_stage_mem's label: the store was not asked for it first */
    uint64_t size;
} cut_staged;
typedef struct cut_stage_list {
    cut_staged *v;
    size_t n, cap;
} cut_stage_list;
prep_err cut_stage_src(cut_store *s, cut_stage_list *l, cut_read_fn rd, void *ctx, const char *label, uint64_t size,
                       const char *sha256, prep_diags *d);
prep_err cut_stage_fd(cut_store *s, cut_stage_list *l, int fd, const char *label, uint64_t size, const char *sha256,
                      prep_diags *d);
/* The same for bytes in memory whose hash the caller computed (prep_cut_make): written to
 * tmp/ with mode 0444, not synced; a crash before cut_stage_commit's renames leaves only
 * tmp/ leftovers, and after its sync every object under its name has its bytes. label
 * NULL: the caller asked the store first (cut_object_check). Else the store was not asked
 * (an object the caller knows to be new, but for rare returns to older bytes): the commit
 * renames it without replacing (RENAME_NOREPLACE) and, when the store has it already,
 * checks that object as cut_object_check does (label: what the object belongs to, borrowed
 * until the commit) and drops the temporary. A busy national cut saves ~24,000 fstatat. */
prep_err cut_stage_mem(cut_store *s, cut_stage_list *l, const void *p, size_t n, const char *sha256,
                       const char *label, prep_diags *d);
/* cut_stage_mem for many objects at once (a national first cut stages ~220,000, 2 GB): on
 * up to CUT_STAGE_THREADS threads when there are CUT_STAGE_SPREAD or more, each writing
 * whole objects under temporary numbers taken in advance, so that the bytes are copied
 * into the file system on every core; in one thread when fewer, or while a test hook is
 * set. Every object staged is in l, also on an error (the first one: a diag, and the
 * caller's cut_stage_commit removes them). */
#define CUT_STAGE_THREADS 4
#define CUT_STAGE_SPREAD 4096
typedef struct cut_stage_job {
    const void *p;
    size_t n;
    const char *sha256; /* borrowed */
    const char *label;  /* as cut_stage_mem's */
} cut_stage_job;
prep_err cut_stage_mem_many(cut_store *s, cut_stage_list *l, const cut_stage_job *v, size_t n, prep_diags *d);
prep_err cut_stage_commit(cut_store *s, cut_stage_list *l, unsigned char dirty[256], prep_err e, prep_diags *d);
/* 1 if the object exists as a regular file of the given size; 0 if absent; -1 (diag)
 * if something else is there (symlink, wrong size, not regular, an objects/aa that is
 * not a real directory). Through the store's open directories: a busy national cut checks
 * ~24,000 objects in 256 directories. */
int cut_object_check(cut_store *s, const char *sha256, uint64_t size, const char *label, prep_diags *d);
/* Moves what is at object sha256's name to STORE/damaged/<sha256>.<seconds since the
 * epoch>[.<n>] (never over an earlier one): 0, or -1 (errno). */
int cut_object_quarantine(cut_store *s, const char *sha256);

/* Reads object sha256 into buf (room for len + 1 bytes): 0 when it holds exactly len bytes;
 * -1 otherwise, errno set when it could not be opened or read (0: its size differs). */
int cut_object_read(cut_store *s, const char *sha256, void *buf, size_t len);
/* The last n bytes of stored entry e (n = its size when smaller than CUT_END_TAIL), read from
 * its last objects into tail: 0, or -1 when one cannot be read whole. */
int cut_entry_tail(cut_store *s, const prep_cut_entry *e, unsigned char tail[], size_t *n);
/* fsyncs each objects/aa dir marked in dirty. */
prep_err cut_objects_sync(cut_store *s, const unsigned char dirty[256], prep_diags *d);
/* Writes cuts/<seq>/{manifest,manifest.sig} (temp dir, fsync, rename, fsync cuts/).
 * An existing cuts/<seq> with other bytes (never activated) is replaced. */
prep_err cut_store_put_cut(cut_store *s, uint64_t seq, const char *manifest, size_t mlen, const char *sig,
                           size_t slen, prep_diags *d);
/* Reads and parses cuts/<seq>/manifest (and its .sig bytes into *sig when sig != NULL). */
/* 1 (a diag "active-missing" added, naming store) when the store at root has no active
 * pointer but its cuts show it had one (cut 2 or later, or a cut 1 its log says was
 * activated): the pointer was removed or lost, and a first cut now would sign sequence 1
 * again beside the chain already published. 0 for a new store or a first cut never
 * activated. */
/* The objects a cut has checked or written so far, by hash (each string borrowed, 64 hex):
 * a part that several files share is put once. Open addressing, keys unique; free v. */
typedef struct cut_sha_set {
    const char **v;
    size_t cap, n;
} cut_sha_set;
/* 1 if h is in s already; else adds it and returns 0 (-1: out of memory). */
int cut_sha_set_add(cut_sha_set *s, const char *h);
int cut_store_pointer_lost(const char *root, const char *store, prep_diags *d);
prep_err cut_store_read_cut(const char *root, uint64_t seq, const prep_cut_limits *lim, prep_cut_manifest *m,
                            char **sig, size_t *siglen, prep_diags *d);
/* cuts/<seq>/pruned: the store's retention removed (or may have removed) the objects of
 * that cut; its manifest and signature stay (prep_cut_store_gc). */
#define CUT_PRUNED_NAME "pruned"
int cut_store_is_pruned(const char *root, uint64_t seq);
/* Lists cuts/<seq> sequences present, ascending. *out owned. */
prep_err cut_store_list(const char *root, uint64_t **out, size_t *n, prep_diags *d);

/* ---- compressed transfer (wire.c) */
/* A gzip file being inflated from fd (or from memory when fd is -1): exactly one member,
 * at most in_max compressed bytes read. cut_gz_in_read is a cut_read_fn: "truncated" when
 * the stream ends early, "bad-gzip" for a corrupt stream or bytes after it, "oversize"
 * when the file is longer than in_max. The caller bounds the output. */
typedef struct cut_gz_in {
    int fd;
    void *z;            /* z_stream, owned */
    unsigned char *buf; /* owned */
    uint64_t in_max, in_read;
    int ended;
} cut_gz_in;
/* The most bytes an honest gzip of size bytes takes (deflate's stored blocks, a header). */
uint64_t cut_gz_in_max(uint64_t size);
int cut_gz_in_open(cut_gz_in *g, int fd, uint64_t in_max); /* 0, or -1 out of memory */
ssize_t cut_gz_in_read(void *g, void *buf, size_t n, prep_diags *d, const char *label);
void cut_gz_in_close(cut_gz_in *g);
/* The retention's part for the cache: removes wire/aa/<sha>.gz of every object not in keep
 * (sorted, 64-byte ids) and wire/cuts/<seq> below cutoff. Best effort. */
void cut_wire_gc(const char *root, const char (*keep)[64], size_t nk, uint64_t cutoff);

/* ---- manifest writing (manifest.c) */
/* Serialises meta + entries (sorted, validated) into out: the exact bytes to sign. */
prep_err cut_manifest_write(const prep_cut_meta *meta, const prep_cut_entry *e, size_t n,
                            const prep_cut_limits *lim, prep_buf *out, prep_diags *d);
/* Appends one entry as the manifest writes it ("#f", "#p" when composed, hash line). */
prep_err cut_entry_put(prep_buf *b, const prep_cut_entry *x);
/* 1 if two entries are the same (size, hash, type, parts). */
int cut_entry_same(const prep_cut_entry *a, const prep_cut_entry *b);

/* The objects an entry is stored as: its parts when composed, else itself. */
static inline size_t cut_entry_nobj(const prep_cut_entry *e) { return e->n_parts ? e->n_parts : 1; }
static inline const char *cut_entry_obj_sha(const prep_cut_entry *e, size_t k)
{
    return e->n_parts ? e->parts[k].sha256 : e->sha256;
}
static inline uint64_t cut_entry_obj_size(const prep_cut_entry *e, size_t k)
{
    return e->n_parts ? e->parts[k].size : e->size;
}
/* How a complete file of a kind ends (ending.c): prep cut --from refuses a file that does
 * not end so when its version in the active cut did, or, for a new path, when the cut's
 * other files of its kind do ("file-cut-short"). */
typedef enum {
    CUT_END_NONE, /* a kind with no ending checked (gzip, fonts, application/octet-stream, ...) */
    CUT_END_HTML, /* "</html>", white space after it allowed, any case */
    CUT_END_SVG,  /* "</svg>", likewise */
    CUT_END_JSON, /* "}" or "]", white space after it allowed */
    CUT_END_LINE, /* a line end: .csv .tsv .txt .md */
    CUT_END_PNG,  /* the IEND chunk */
    CUT_END_JPEG, /* FF D9 */
    CUT_END_PDF,  /* "%%EOF" in the last CUT_END_TAIL bytes */
    CUT_END_ZIP,  /* an end of central directory record in the last CUT_END_TAIL bytes: .zip .xlsx .docx */
    CUT_END_KINDS
} cut_end_kind;
#define CUT_END_TAIL 64
/* The kind of path, by its extension (any case). */
cut_end_kind cut_end_kind_of(const char *path);
/* What a complete file of kind k ends with, for messages. */
const char *cut_end_name(cut_end_kind k);
/* 1 when tail, a file's last n bytes (its last CUT_END_TAIL, or all of a shorter file),
 * ends as a complete file of kind k does; always 1 for CUT_END_NONE. */
int cut_end_ok(cut_end_kind k, const unsigned char *tail, size_t n);
/* A JSON file's brackets as it is read: a file that ends with "}" or "]" but was cut
 * after an inner one ("[{...}" of "[{...}, {...}]") is still open. */
typedef struct cut_end_json {
    uint64_t depth;          /* { and [ open, outside strings */
    unsigned char in_str, esc, under; /* inside a string; after its backslash; a close with none open */
} cut_end_json;
void cut_end_json_feed(cut_end_json *j, const void *p, size_t len);
/* 1 when every bracket read was closed, in no string */
int cut_end_json_closed(const cut_end_json *j);
/* Appends len bytes at p to the rolling tail (*n bytes held, at most CUT_END_TAIL). */
void cut_end_push(unsigned char tail[CUT_END_TAIL], size_t *n, const void *p, size_t len);

/* Composed entry: reads its parts from root's objects/ in order, hashing the assembled
 * bytes; 0 if they are exactly the entry's size and SHA-256, else -1 with a diag
 * ("missing-object" when a part cannot be read, "parts-mismatch" otherwise). Plain
 * entries: 0. *bytes (may be NULL) gets the bytes read. */
int cut_entry_assemble_check(const char *root, const prep_cut_entry *e, const char *label, uint64_t *bytes,
                             prep_diags *d);

/* Checks a process id / election set / zone syntax. 0 ok. */
int cut_check_process(const char *s);
int cut_check_elections(const char *s);
int cut_check_zone(const char *s);
/* Media type for path when the content's UTF-8 validity is known. Static. */
const char *cut_media_type_utf8(const char *path, int utf8);
/* Formats t with offset off as "YYYY-MM-DDTHH:MM:SS+HH:MM". */
void cut_format_instant(prep_time t, long off, char out[32]);

/* ---- verification of one cut's bytes against policy (receive.c) */
/* Signature + parse: sig file bytes and manifest bytes -> parsed manifest (owned by m);
 * m->raw is a copy of the bytes when keep_raw, else NULL (a cut maker's check after
 * signing holds the bytes already: a national manifest is ~69 MB). */
prep_err cut_check_signed(const prep_cut_policy *pol, const char *mbytes, size_t mlen, const char *sbytes,
                          size_t slen, const char *label, int keep_raw, prep_cut_manifest *m, prep_diags *d);
/* prep_cut_manifest_parse, with m->raw left NULL unless keep_raw (manifest.c). */
prep_err cut_manifest_parse_ex(const void *data, size_t len, const prep_cut_limits *lim, const char *name, int keep_raw,
                               prep_cut_manifest *m, prep_diags *d);

/* A cut directory's name: 1 to 12 digits, no leading zero. 0 with *out, else -1. */
int cut_parse_seq_name(const char *s, uint64_t *out);

#endif

/* prep cut: signed, chained, content-addressed cuts (DESIGN.md promises 1, 2, 5, 7).
 *
 * A cut is a set of public files published as one version. Its files are stored by
 * SHA-256 (objects/, written once, never modified); its manifest lists every public path
 * with size, SHA-256 and media type, plus a metadata record; an Ed25519 signature in
 * OpenBSD signify's format covers the manifest's exact bytes. The manifest is also a
 * `sha256sum -c --strict` input. Format: docs/formats/cut.md.
 *
 * Store layout (one store per process and mode):
 *   objects/aa/bbbb...      the file whose SHA-256 is aabbbb... (0444, immutable)
 *   cuts/<seq>/manifest     the exact signed manifest bytes
 *   cuts/<seq>/manifest.sig its signify signature
 *   active                  the active pointer (replaced atomically by rename)
 *   log                     one line per accepted or refused cut
 *   lock, tmp/              a flock(2) lock file and temporary files
 *
 * Ownership at each declaration: borrowed (not kept past the call), owned (caller frees
 * with the named function), static (lives for the program). */
#ifndef PREP_CUT_H
#define PREP_CUT_H

#include <stdint.h>

#include "prep/core.h"

/* ---------------------------------------------------------------- limits */
#define PREP_CUT_PATH_MAX 1024      /* bytes in a public path */
#define PREP_CUT_SEGMENT_MAX 255    /* bytes in one path segment */
#define PREP_CUT_MEDIA_TYPE_MAX 127 /* bytes in a media type */
#define PREP_CUT_PROCESS_MAX 64     /* bytes in a process id */
#define PREP_CUT_ZONE_MAX 64        /* bytes in a tz database name */
#define PREP_CUT_ELECTIONS_MAX 1024 /* bytes in the election set line */
#define PREP_CUT_COMMENT_MAX 1024   /* bytes in a signify "untrusted comment" line */
#define PREP_CUT_SEQ_MAX 999999999999ULL
#define PREP_CUT_INCOMING_MAX 100000 /* directory entries looked at in one incoming area */
#define PREP_CUT_PARTS_MAX 16       /* parts of one composed file (a national section page: pre, stamp,
                                     * its head, one part per election, post) */
#define PREP_CUT_SUBST_PART_MAX (1u << 20) /* bytes of the new part a patch's "#s" line names */
#define PREP_CUT_SUBST_MAX 4        /* "#s" lines of one patch (one per shared per-cut part) */

typedef struct prep_cut_limits {
    size_t max_files;            /* entries in one manifest; default 1,000,000 */
    uint64_t max_manifest_bytes; /* default 256 MiB */
    uint64_t max_object_bytes;   /* one file; default 4 GiB */
    uint64_t max_total_bytes;    /* sum of a cut's file sizes; default 256 GiB */
} prep_cut_limits;

void prep_cut_limits_default(prep_cut_limits *l);

/* ---------------------------------------------------------------- modes */
typedef enum prep_cut_mode { PREP_CUT_LIVE = 0, PREP_CUT_DRILL = 1 } prep_cut_mode;
/* "live" / "drill" (static). */
const char *prep_cut_mode_name(prep_cut_mode m);

/* ---------------------------------------------------------------- keys and signatures */
/* signify formats: a two-line file "untrusted comment: TEXT\n" + base64 + "\n".
 *   public key  = "Ed" | keynum[8] | pk[32]
 *   secret key  = "Ed" | "BK" | kdfrounds u32 BE (must be 0: unencrypted) | salt[16] |
 *                 checksum[8] (first 8 bytes of SHA-512(sk)) | keynum[8] | sk[64]
 *   signature   = "Ed" | keynum[8] | Ed25519 signature[64] over the message bytes */
#define PREP_CUT_KEYNUM_LEN 8

typedef struct prep_cut_pubkey {
    uint8_t keynum[PREP_CUT_KEYNUM_LEN];
    uint8_t pk[32];
} prep_cut_pubkey;

/* Which cuts a key may sign, from the comment `prep keygen` writes ("prep live key" /
 * "prep drill key"); keys made by other tools are UNMARKED. */
typedef enum prep_cut_keymark { PREP_CUT_KEY_UNMARKED, PREP_CUT_KEY_LIVE, PREP_CUT_KEY_DRILL } prep_cut_keymark;

typedef struct prep_cut_seckey {
    uint8_t keynum[PREP_CUT_KEYNUM_LEN];
    uint8_t sk[64]; /* libsodium layout: seed[32] | pk[32] */
    prep_cut_keymark mark;
} prep_cut_seckey;

typedef struct prep_cut_sig {
    uint8_t keynum[PREP_CUT_KEYNUM_LEN];
    uint8_t sig[64];
} prep_cut_sig;

/* Writes NAME.key (mode 0600, refused if it exists) and NAME.pub, marked for `mode`.
 * name is borrowed. */
PREP_NODISCARD prep_err prep_cut_keygen(const char *name, prep_cut_mode mode, prep_diags *d);

/* Parsers of the three signify files. data/name are borrowed; name labels diags.
 * Diag kinds: "sig-envelope" (layout, comment, base64), "sig-algorithm" (not "Ed"/"BK"),
 * "key-encrypted" (kdfrounds != 0), "key-checksum". */
PREP_NODISCARD prep_err prep_cut_pubkey_parse(const void *data, size_t len, const char *name, prep_cut_pubkey *out,
                               prep_diags *d);
PREP_NODISCARD prep_err prep_cut_seckey_parse(const void *data, size_t len, const char *name, prep_cut_seckey *out,
                               prep_diags *d);
PREP_NODISCARD prep_err prep_cut_sig_parse(const void *data, size_t len, const char *name, prep_cut_sig *out,
                            prep_diags *d);
/* Same, from a file (at most 4 KiB). */
PREP_NODISCARD prep_err prep_cut_pubkey_load(const char *path, prep_cut_pubkey *out, prep_diags *d);
PREP_NODISCARD prep_err prep_cut_seckey_load(const char *path, prep_cut_seckey *out, prep_diags *d);
/* Overwrites the secret key in memory. */
void prep_cut_seckey_wipe(prep_cut_seckey *k);
/* The public key of a secret key. */
void prep_cut_seckey_public(const prep_cut_seckey *k, prep_cut_pubkey *out);

/* Signs msg (borrowed) with k: a pure Ed25519 signature over the exact bytes. */
PREP_NODISCARD prep_err prep_cut_sign(const prep_cut_seckey *k, const void *msg, size_t len, prep_cut_sig *out);
/* The signify signature file text ("untrusted comment: COMMENT\n" + base64 + "\n"),
 * appended to out. comment is borrowed, one line, at most 1000 bytes. */
PREP_NODISCARD prep_err prep_cut_sig_format(const prep_cut_sig *s, const char *comment, prep_buf *out);
/* Checks s over msg against the trusted keys (borrowed array of n): a signature whose
 * keynum is none of theirs gives "unknown-key"; one that does not verify gives
 * "bad-signature" (both PREP_ERR_VERIFY). *which gets the index of the key (may be NULL). */
PREP_NODISCARD prep_err prep_cut_sig_verify(const prep_cut_pubkey *keys, size_t n, const prep_cut_sig *s, const void *msg,
                             size_t len, size_t *which, const char *name, prep_diags *d);
/* Hex of a keynum: 16 chars + NUL. */
void prep_cut_keynum_hex(const uint8_t keynum[PREP_CUT_KEYNUM_LEN], char out[17]);

/* ---------------------------------------------------------------- paths, media types */
/* 0 if p[0..n) is a valid public path; else -1 and *why (static) names the rule broken.
 * Rules: 1..PREP_CUT_PATH_MAX bytes of valid UTF-8; '/'-separated segments of
 * 1..PREP_CUT_SEGMENT_MAX bytes; no "." or ".." segment, no leading or trailing '/',
 * no "//"; no byte < 0x20, no DEL, no C1 control, no '\\'; no segment that begins or ends
 * with a space; not reserved: first segment "cortes", or "SHA256SUMS", "SHA256SUMS.sig". */
int prep_cut_path_check(const char *p, size_t n, const char **why);
/* The media type published for path (by extension; text types get "; charset=utf-8" when
 * data is valid UTF-8, else "; charset=iso-8859-1"). data may be NULL. Static string. */
const char *prep_cut_media_type(const char *path, const void *data, size_t len);

/* ---------------------------------------------------------------- manifest */
/* One part of a composed file: the file is the concatenation of its parts, in order. The
 * store keeps the parts as objects (not the assembled file); export, verify and receive
 * assemble them and check the assembled bytes against the entry's size and SHA-256. */
typedef struct prep_cut_part {
    uint64_t size;
    char sha256[65];
} prep_cut_part;

typedef struct prep_cut_entry {
    const char *path;       /* borrowed from the manifest */
    const char *media_type; /* borrowed from the manifest */
    uint64_t size;          /* of the (assembled) file */
    char sha256[65];        /* of the (assembled) file: what `sha256sum -c` checks */
    size_t n_parts;         /* 0: a plain file, stored as one object; 2..PREP_CUT_PARTS_MAX: composed */
    const prep_cut_part *parts; /* borrowed from the manifest (n_parts of them), NULL when plain */
} prep_cut_entry;

typedef struct prep_cut_meta {
    char process[PREP_CUT_PROCESS_MAX + 1];
    char elections[PREP_CUT_ELECTIONS_MAX + 1]; /* ids separated by one space; may be "" */
    uint64_t seq;                               /* 1.. PREP_CUT_SEQ_MAX */
    prep_time instant;                          /* the cut instant */
    long instant_off;                           /* its UTC offset as written, seconds */
    char zone[PREP_CUT_ZONE_MAX + 1];           /* tz database name */
    prep_cut_mode mode;
    prep_time valid_until; /* the validity horizon: after it the cut is stale */
    long valid_off;
    char previous[65]; /* SHA-256 of the previous cut's manifest; "" for the first cut */
    uint8_t keynum[PREP_CUT_KEYNUM_LEN];
} prep_cut_meta;

typedef struct prep_cut_manifest {
    prep_cut_meta meta;
    prep_cut_entry *entries; /* owned; sorted by path (bytewise), unique */
    size_t n;
    prep_cut_part *_parts;   /* owned: storage for the entries' parts */
    uint64_t total_bytes;
    char *raw; /* owned: the exact manifest bytes (what the signature covers) */
    size_t raw_len;
    char sha256[65]; /* of raw */
    char *_text;     /* owned: the entries' strings (blocks chained by manifest.c) */
} prep_cut_manifest;

/* Strict, bounded parse of manifest bytes (borrowed; copied into m->raw). lim may be NULL
 * (defaults). A composed entry's "#p" line is checked (2..PREP_CUT_PARTS_MAX parts whose
 * sizes add up to the entry's). Diag kinds (line = manifest line): "manifest-syntax", "manifest-version",
 * "manifest-field", "limit", "bad-path", "not-utf8", "duplicate-path", "path-order",
 * "path-conflict", "size-total". On error *m is left empty (freeable). */
PREP_NODISCARD prep_err prep_cut_manifest_parse(const void *data, size_t len, const prep_cut_limits *lim, const char *name,
                                 prep_cut_manifest *m, prep_diags *d);
void prep_cut_manifest_free(prep_cut_manifest *m);
/* The entry for path, or NULL (binary search). Borrowed. */
const prep_cut_entry *prep_cut_manifest_find(const prep_cut_manifest *m, const char *path);
/* 1 if the cut is past its validity horizon at now ("desactualizado" on the pages). */
int prep_cut_is_stale(const prep_cut_manifest *m, prep_time now);

/* ---------------------------------------------------------------- manifest patches */
/* A patch rebuilds a manifest from the previous one, so delivery sends only the entries
 * that changed (docs/formats/cut.md). It is not trusted: the rebuilt bytes must match
 * the patch's "result" hash and are then signature-checked like any manifest.
 * Appends to out (an initialised buffer) the patch that turns base into next (both
 * borrowed). */
PREP_NODISCARD prep_err prep_cut_manifest_diff(const prep_cut_manifest *base, const prep_cut_manifest *next, prep_buf *out);
/* The diff emits one substitution line ("#s OLD NEWSIZE NEW": in every composed entry
 * that no operation names, part OLD becomes part NEW) when it makes the patch smaller:
 * the per-cut stamp shared by every page. */
/* Applies patch (borrowed) to base: *out is initialised here and, on success, holds the
 * rebuilt manifest bytes (owned; prep_buf_free). Diag kinds: "patch-syntax", "patch-base"
 * (made for another base), "patch-mismatch" (rebuilt bytes differ from "result"), "limit".
 * This form has no part objects: a patch with a "#s" line is refused ("missing-object"). */
PREP_NODISCARD prep_err prep_cut_manifest_patch(const prep_cut_manifest *base, const void *patch, size_t len,
                                 const prep_cut_limits *lim, const char *name, prep_buf *out, prep_diags *d);
/* Same, finding the part objects a "#s" substitution needs under roots (borrowed, n_roots
 * directories with a store's objects/aa/bbbb... layout, searched in order: the receiver's
 * store, then its incoming area). The new part (at most PREP_CUT_SUBST_PART_MAX bytes) is
 * read and checked against its size and hash; each substituted entry is re-assembled from
 * its part objects, streaming (at most each part's size + 1 byte read), for its new size
 * and SHA-256. Further kinds: "missing-object" (an object not under any root),
 * "patch-mismatch" (the new part's size is not the object's), "hash-mismatch" (the new
 * part's bytes), "size-mismatch" (a base part's object), "symlink", "not-regular". */
PREP_NODISCARD prep_err prep_cut_manifest_patch_objects(const prep_cut_manifest *base, const void *patch, size_t len,
                                         const prep_cut_limits *lim, const char *const *roots, size_t n_roots,
                                         const char *name, prep_buf *out, prep_diags *d);

/* The parts a patch's "#s" substitutions need, read from the patch's head alone, so a
 * receiver can fetch them before applying the patch: *n_new (0..PREP_CUT_SUBST_MAX) of
 * them, new_parts[j] the SHA-256 and new_sizes[j] the size of each. The head is checked as
 * prep_cut_manifest_patch_objects checks it (its base must be base_sha256: "patch-base";
 * "patch-syntax", "limit"), nothing more: applying the patch decides. */
PREP_NODISCARD prep_err prep_cut_manifest_patch_subst(const char *base_sha256, const void *patch, size_t len,
                                       const prep_cut_limits *lim, const char *name,
                                       char new_parts[PREP_CUT_SUBST_MAX][65], uint64_t new_sizes[PREP_CUT_SUBST_MAX],
                                       size_t *n_new, prep_diags *d);

/* ---------------------------------------------------------------- making a cut */
/* One public file given in memory; every pointer borrowed. media_type NULL = by extension.
 * n_parts 0: a plain file, stored as one object. n_parts 2..PREP_CUT_PARTS_MAX: a composed
 * file, data[0..len) being the exact concatenation of parts of part_len[0..n_parts) bytes
 * (their sum must be len): each part is stored as its own object, so a part shared by
 * many files (a page's per-cut stamp) or unchanged since the previous cut (its body) is
 * stored and delivered once (prep_render's pages: prep_site_file.n_parts). */
typedef struct prep_cut_file {
    const char *path;
    const void *data;
    size_t len;
    const char *media_type;
    uint8_t n_parts;
    size_t part_len[PREP_CUT_PARTS_MAX];
    /* Hints for a cut made with prep_cut_params.hash_cache (ignored without one):
     * same_parts: bit k set = part k (bit 0: a plain file) is byte for byte part k of this
     *   path in the last cut made with that cache; its SHA-256 is not computed again (a
     *   sample is, and one difference makes the call forget the cache and hash all);
     * hash_prefix: parts [0, hash_prefix) are expected to repeat from cut to cut: the hash
     *   state after them is kept, so the file's SHA-256 costs only the bytes after them. */
    uint32_t same_parts;
    uint8_t hash_prefix;
    /* Parts the store already holds (a cutter's last site: prep_render_site_shed): bit k set
     * = part k is not in data but is the object whose SHA-256 is stored_sha[j], j its rank
     * among the set bits; data holds the other parts, in order, and len and part_len stay
     * the whole file's. Needs prep_cut_params.hash_cache. Such a part is read from the store
     * only to hash the assembled file when an earlier part changed; one the store lacks fails
     * the cut ("stored-missing") and nothing is published. */
    uint32_t stored;
    const unsigned char (*stored_sha)[32];
    /* A plain file's SHA-256 as its caller computed it from these very bytes (a renderer
     * that shows it on a page: the database files), or NULL. With a hash cache that knew
     * the path in its last cut it is taken instead of hashing the file again; a sample is
     * checked as for same_parts (a wrong one makes the call forget the cache and hash all). */
    const unsigned char *sha256;
} prep_cut_file;

/* What prep_cut_make remembers between the cuts of one store (src/cut/hashcache.c): part
 * hashes and the SHA-256 states after each file's repeating prefix. Owned by the caller. */
typedef struct prep_cut_hash_cache prep_cut_hash_cache;
PREP_NODISCARD prep_err prep_cut_hash_cache_new(prep_cut_hash_cache **out);
void prep_cut_hash_cache_free(prep_cut_hash_cache *c);
/* The SHA-256 of part k (len bytes) of path in the last cut made with c, if that file had
 * n_parts parts (0: a plain file, its one part the file): 1 and md filled, else 0. What a
 * cutter gives prep_render_site_shed (the store holds that object while the cut is kept). */
int prep_cut_hash_cache_part(const prep_cut_hash_cache *c, const char *path, size_t n_parts, size_t k, size_t len,
                             unsigned char md[32]);
/* Makes c know manifest m (the store's active cut, whose signature the caller checked) as
 * if c had made it: each file's part hashes, no hash states. A restarted cutter's first
 * render can then name by hash the parts that cut holds (prep_render_opts.shed), and its
 * first cut checks them against it. Replaces what c held; PREP_ERR_NOMEM leaves c empty. */
PREP_NODISCARD prep_err prep_cut_hash_cache_seed(prep_cut_hash_cache *c, const prep_cut_manifest *m);
/* 1 (md filled) when len bytes at bytes are part k of path in the last cut c made or was
 * seeded with: their SHA-256 is computed and compared. What a restarted cutter gives its
 * first render to shed (prep_render_opts.shed). */
int prep_cut_hash_cache_holds(const prep_cut_hash_cache *c, const char *path, size_t n_parts, size_t k,
                              const void *bytes, size_t len, unsigned char md[32]);
/* The bytes the last cut made with c fed to composed files' whole-file SHA-256 from the
 * states c keeps (from each file's first changed part to its end; stored parts read back
 * included): what the manifest's whole-file hashes cost that cut beyond hashing its new
 * parts (bench/bench_national.c's floor). */
uint64_t prep_cut_hash_cache_fed(const prep_cut_hash_cache *c);

typedef struct prep_cut_params {
    const char *process;   /* borrowed; [A-Za-z0-9._-]{1,64} */
    const char *elections; /* borrowed; ids [a-z0-9_-] separated by one space; NULL = "" */
    prep_time instant;     /* the cut instant */
    const char *zone;      /* borrowed; the process's tz name, e.g. "America/Mexico_City" */
    prep_cut_mode mode;
    int64_t valid_for;     /* seconds after instant the cut stays current; 0 = 3600 */
    prep_cut_limits limits;
    uint64_t expect_seq;   /* 0 = any; else the sequence the files were made for (the pages
                            * show it): checked under the store's lock, "sequence-moved" */
    prep_cut_hash_cache *hash_cache; /* NULL = hash every file (prep_cut_make only) */
    int allow_shrink;      /* 0: a cut with fewer than half the files of the active cut (when
                            * its manifest is read: not with a hash cache that made it) is
                            * refused, "cut-shrinks" (a wrong or half-copied directory); a cut
                            * of no file is refused whatever this says, "empty-cut" */
    int allow_cut_short;   /* 0: a file of a directory (prep_cut_make_dir) that ends short of
                            * a complete file of its kind is refused, "file-cut-short" (make.c,
                            * not_cut_short) */
} prep_cut_params;

/* Defaults: mode live, valid_for 3600, default limits, the rest NULL/PREP_TIME_NONE. */
void prep_cut_params_init(prep_cut_params *p);

/* Makes, signs and stores one cut with sequence active+1 (1 in an empty store), chained
 * to the active cut, then activates it atomically. files is borrowed (n entries, any
 * order). The key must not be marked for the other mode. *seq gets the new sequence
 * (may be NULL). Diag kinds as in parsing, plus "key-mode", "instant-regress", "process-mismatch". */
PREP_NODISCARD prep_err prep_cut_make(const char *store, const prep_cut_params *p, const prep_cut_file *files, size_t n,
                       const prep_cut_seckey *key, uint64_t *seq, prep_diags *d);
/* PREP_OK when cut m of store (its manifest as loaded, raw bytes kept) carries a signature
 * (STORE/cuts/<seq>/manifest.sig) by key's public half; else PREP_ERR_VERIFY and a diag
 * "chain-key" at that file saying why: a chain continues only under the key that signed
 * it (prep_cut_make refuses another signer the same way when it reads the active cut). */
PREP_NODISCARD prep_err prep_cut_check_signer(const char *store, const prep_cut_manifest *m,
                                              const prep_cut_seckey *key, prep_diags *d);
/* Same, publishing every regular file under dir (relative paths; symlinks refused). */
PREP_NODISCARD prep_err prep_cut_make_dir(const char *store, const prep_cut_params *p, const char *dir,
                           const prep_cut_seckey *key, uint64_t *seq, prep_diags *d);

/* ---------------------------------------------------------------- receiving and checking */
typedef struct prep_cut_policy {
    const prep_cut_pubkey *keys; /* borrowed; the keys trusted for `mode` */
    size_t n_keys;
    prep_cut_mode mode;         /* the mode this store accepts */
    prep_time now;              /* PREP_TIME_NONE = wall clock */
    int64_t max_skew;           /* seconds a cut instant may be ahead of now; default 300 */
    int check_validity;         /* refuse a cut past its horizon ("expired"); default 1 */
    int rehash_existing;        /* re-hash objects already in the store; default 0 (size only) */
    prep_cut_limits limits;
} prep_cut_policy;

void prep_cut_policy_init(prep_cut_policy *p);

typedef struct prep_cut_result {
    uint64_t active_before; /* 0 = none */
    uint64_t active_after;
    size_t accepted;        /* cuts activated */
    size_t unchanged;       /* cuts already active (same bytes): nothing to do */
    size_t objects_copied;
    uint64_t bytes_copied;
} prep_cut_result;

/* The broadcaster's activation. incoming (borrowed) has the store's layout:
 * cuts/<seq>/manifest (or cuts/<seq>/manifest.patch against cut seq-1, held by the store
 * or earlier in the same batch), cuts/<seq>/manifest.sig (one or more cuts) and
 * objects/aa/b... with every object the store lacks. Each cut, in ascending sequence, must pass: the
 * signature by a trusted key; the manifest parse; its mode; its process; sequence newer
 * than the active one; the chain (previous = SHA-256 of the active manifest); the instant
 * not beyond now + max_skew; the horizon not past (checked for the batch's last cut only,
 * so a broadcaster can catch up through older cuts); every object's size and hash. Only then
 * is the active pointer switched (temp, fsync, rename, fsync dir). Anything else in
 * incoming (an extra file, a symlink) refuses the whole batch. A refusal is logged to
 * stderr and STORE/log with its reason and the active cut stays. Returns PREP_OK,
 * PREP_ERR_VERIFY (a check failed; diags say which), or an I/O error. res may be NULL.
 * Diag kinds: "unknown-key", "bad-signature", "sig-envelope", manifest kinds, "mode",
 * "process-mismatch", "key-mismatch", "rollback", "conflict", "chain-broken", "chain-gap",
 * "future-instant", "expired", "instant-regress", "missing-object", "size-mismatch",
 * "patch-syntax", "patch-base", "patch-mismatch",
 * "oversize", "truncated", "hash-mismatch", "parts-mismatch", "extra-file", "symlink", "not-regular", "limit",
 * "bad-gzip" (an object or patch sent gzip'd whose stream is corrupt). */
PREP_NODISCARD prep_err prep_cut_receive(const char *store, const char *incoming, const prep_cut_policy *pol,
                          prep_cut_result *res, prep_diags *d);

typedef struct prep_cut_active {
    uint64_t seq;
    char manifest_sha256[65];
    char process[PREP_CUT_PROCESS_MAX + 1];
    prep_cut_mode mode;
} prep_cut_active;

/* Reads the active pointer. PREP_ERR_NOTFOUND when the store has no active cut. */
PREP_NODISCARD prep_err prep_cut_active_read(const char *store, prep_cut_active *a, prep_diags *d);
/* Loads cuts/<seq>/manifest (seq 0 = the active cut) and parses it; checks its hash
 * against the active pointer when it is the active cut. No signature check (the store
 * only holds verified cuts; use prep_cut_verify to re-check). */
PREP_NODISCARD prep_err prep_cut_load(const char *store, uint64_t seq, prep_cut_manifest *m, prep_diags *d);
/* The cuts a server may stand on when the active one cannot be loaded, newest first, at
 * most max into seqs (caller's array): older than the active cut (a newer one was never
 * activated), manifest parsing and signature file present, the same process and mode as
 * the active pointer, and, where the next newer cut's manifest reads (passed over or not),
 * the one it names as its previous (the chain). Objects are not checked here (loading
 * does that). A cut left out gets a diag (kinds as cut_store_read_cut's, "not-found" for
 * the signature, "fallback-other", "chain").
 * PREP_ERR_NOTFOUND without an active pointer. Read-only; no lock. */
PREP_NODISCARD prep_err prep_cut_fallbacks(const char *store, uint64_t *seqs, size_t max, size_t *n, prep_diags *d);
/* STORE/objects/aa/bbbb... for sha256 into out. -1 if it does not fit. */
int prep_cut_object_path(const char *store, const char *sha256, char *out, size_t outsz);
/* How many of cut m's objects the store lacks or holds damaged (not a regular file, or
 * another size), 0 when it holds them all; *first gets the path of the first file
 * concerned (borrowed from m). With repair, each object is also read and hashed, and one
 * that is damaged (those, or other bytes than its name's SHA-256: a byte flipped on disk)
 * is moved to STORE/damaged/<sha256>.<epoch seconds> and logged, so that the next cut,
 * which renders it, writes it again (docs/formats/cut.md §4); one that could not be looked
 * at (out of descriptors, objects/aa not a directory) is counted but never moved. -1 when
 * the store cannot be opened. Takes the store's lock while it looks (a national active
 * cut: ~2 GB read on up to 4 threads). */
long prep_cut_store_lacks(const char *store, const prep_cut_manifest *m, int repair, const char **first);
/* prep_cut_store_lacks with repair over the store's active cut, read from it: what a cut
 * maker starting on the store (prep cut --from), a server whose load was refused and an
 * export that was refused each run. The count (0: whole), *seq the active cut, first
 * (firstsz bytes) the path of the first file concerned; -1 when there is no active cut to
 * read. */
long prep_cut_store_repair_active(const char *store, uint64_t *seq, char *first, size_t firstsz);
/* STORE/healed: rewritten (its change time moves) each time a redelivered active cut
 * brought back objects the store lacked (prep_cut_receive); a server whose load of that
 * cut was refused loads it again then (src/serve/serve_run.c). */
#define PREP_CUT_HEALED_FILE "healed"
/* STORE/damaged/: the objects prep_cut_store_lacks found damaged, moved aside. */
#define PREP_CUT_DAMAGED_DIR "damaged"
/* The change time of STORE/name in nanoseconds since the epoch, 0 when there is none: a
 * caller that keeps it sees STORE/damaged/ take an object (its entries change) or
 * STORE/healed rewritten (a new file each time). */
int64_t prep_cut_store_changed(const char *store, const char *name);
/* The bytes of file en of a stored cut (its parts assembled in order), at most max of them,
 * checked against the entry's size and SHA-256: PREP_OK and *data (owned, *len bytes), or
 * PREP_ERR_LIMIT, PREP_ERR_NOMEM, PREP_ERR_VERIFY (an object missing, short or other bytes). */
PREP_NODISCARD prep_err prep_cut_file_read(const char *store, const prep_cut_entry *en, uint64_t max, char **data,
                                           size_t *len);

typedef struct prep_cut_verify_result {
    uint64_t first, last; /* the sequences checked */
    size_t cuts;
    size_t objects;       /* distinct objects hashed */
    uint64_t bytes;       /* bytes hashed */
    int stale;            /* the last cut checked is past its horizon at pol->now */
} prep_cut_verify_result;

/* Re-checks cut seq (0 = the whole chain from the oldest cut to the active one): its
 * signature, manifest, mode, every object's size and hash (re-read), no symlink, and the
 * chain links (and, for one cut, the link to its predecessor when present). Validity is
 * reported in r->stale, not refused. Returns PREP_OK or PREP_ERR_VERIFY. */
PREP_NODISCARD prep_err prep_cut_verify(const char *store, uint64_t seq, const prep_cut_policy *pol, prep_cut_verify_result *r,
                         prep_diags *d);

/* ---------------------------------------------------------------- export */
typedef struct prep_cut_export_opts {
    uint64_t seq; /* 0 = the active cut */
    int twins;    /* write .gz and .br twins of compressible files (default 1) */
    int archive;  /* also write OUT.cortes/<seq>/ for every cut up to seq, linked from OUT/cortes */
    int copy;     /* copy files instead of hard-linking them from the export's pool */
    /* Symlink-switched mode (docs/apache.md): each cut's tree is written once as
     * OUT.sitios/<seq>/ and OUT is a relative symbolic link to it, replaced with one
     * rename; OUT.sitios/corte.map ("corte <seq>", an Apache txt RewriteMap) names the
     * same tree. After the switch the keep most recent other trees stay (in-flight
     * downloads finish) and older ones are removed. Default 0 (a plain directory). */
    int link;
    unsigned keep; /* link mode: previous trees kept (default PREP_CUT_EXPORT_KEEP) */
    /* Retention of the archive (OUT.cortes/): the archive_full cuts with the highest
     * sequences up to the exported one are kept in full (every file and twin); older cuts
     * keep only SHA256SUMS and SHA256SUMS.sig (the chain stays checkable), and pool files
     * no tree links any more are removed. Trees still served (OUT.sitios/<seq>, the
     * exported cut) are never thinned. 0 = every cut in full (the pool grows without
     * bound). Default PREP_CUT_EXPORT_ARCHIVE_FULL. */
    unsigned archive_full;
} prep_cut_export_opts;

#define PREP_CUT_EXPORT_ARCHIVE_FULL 8u /* archived cuts kept in full: 40 minutes of 5-minute cuts */
#define PREP_CUT_EXPORT_ARCHIVE_FULL_MAX 100000u

#define PREP_CUT_EXPORT_KEEP 3u /* previous cut trees kept by the link mode */
#define PREP_CUT_EXPORT_KEEP_MAX 1000u

void prep_cut_export_opts_init(prep_cut_export_opts *o);

/* Writes cut o->seq of store as a plain directory out (borrowed): every public path, its
 * twins, SHA256SUMS (the manifest) and SHA256SUMS.sig. out is built beside itself and
 * swapped in atomically (rename, or renameat2 RENAME_EXCHANGE over a previous export).
 * With o->archive, OUT.cortes/<seq>/ holds each cut up to seq the same way (written
 * once) and OUT/cortes is a relative symlink to it (../OUT.cortes). Files are hard links
 * into OUT.objetos/, the export's own pool of verified copies and twins; the store is only
 * read (no lock taken), so editing a served file cannot damage it. The served tree's pool
 * files are re-hashed on every export and replaced when changed. A non-empty out that
 * is not a previous export is never replaced (PREP_ERR_INVALID, diag "exists").
 * With o->link, out is a symbolic link instead (see the field): a symlink out is
 * re-pointed, a previous plain export is exchanged for the link and removed, anything
 * else is refused ("exists"); the sequence switched to is also written to the map. */
PREP_NODISCARD prep_err prep_cut_export(const char *store, const char *out, const prep_cut_export_opts *o, prep_diags *d);

/* ---------------------------------------------------------------- retention */
typedef struct prep_cut_gc_result {
    size_t cuts_pruned;     /* cuts newly marked pruned (objects no longer kept) */
    size_t objects_removed;
    uint64_t bytes_removed;
} prep_cut_gc_result;

/* The store's garbage collector: keeps the objects of the keep (>= 1) newest cuts up to
 * the active one and of any cut above it; an older cut keeps its manifest and signature
 * and is marked cuts/<seq>/pruned before any object is removed, so prep_cut_verify checks
 * its signature and chain but not its objects. Takes the store's lock. Crash-safe: a kill
 * leaves unused objects that the next run removes. docs/formats/cut.md §4. */
PREP_NODISCARD prep_err prep_cut_store_gc(const char *store, unsigned keep, prep_cut_gc_result *r, prep_diags *d);
/* 1 when cut seq of store carries the retention's mark (cuts/<seq>/pruned): its objects may
 * be gone, its manifest and signature stay. 0 otherwise. Reads without the lock: the mark
 * is written before any of the cut's objects is removed and never taken away. */
int prep_cut_store_pruned(const char *store, uint64_t seq);

/* ---------------------------------------------------------------- delta */
typedef struct prep_cut_delta {
    char (*sha256)[65]; /* owned; the distinct objects the store lacks */
    uint64_t *size;     /* owned */
    size_t n;
    uint64_t bytes;      /* sum of size[] */
    uint64_t full_bytes; /* sum of the distinct objects of the manifest */
    size_t full_objects;
} prep_cut_delta;

/* Objects of m (borrowed) that store lacks (a store that does not exist lacks all). A
 * composed entry counts as its part objects, a plain one as its own object; full_bytes
 * and full_objects count the same distinct objects (what a new, empty store needs). */
PREP_NODISCARD prep_err prep_cut_delta_compute(const char *store, const prep_cut_manifest *m, prep_cut_delta *out);
void prep_cut_delta_free(prep_cut_delta *dl);

/* ---------------------------------------------------------------- gzip of composed files
 * A composed file's gzip representation is one gzip member whose deflate stream is each
 * part's own raw deflate CHUNK (level PREP_CUT_GZ_LEVEL, ending byte-aligned with a sync
 * flush), one after the other, then an empty final block, the file's CRC-32 (the parts'
 * CRCs combined) and its size. `prep export` compresses each chunk alone (no window shared
 * across parts): it depends only on its part, so a new cut compresses only its new parts
 * (the stamp, changed bodies), kept in its pool. `prep serve` compresses a page's own
 * parts with the page's bytes before them as preset dictionary
 * (prep_cut_gz_chunk_dict: the joined stream compresses like one), keyed in its part cache
 * by the part and the parts before it. src/cut/gzparts.c. */
#define PREP_CUT_GZ_LEVEL 6
#define PREP_CUT_GZ_EXTRA 20 /* bytes of a member beyond its chunks: header, final block, CRC, size */

/* A raw deflate stream for prep_cut_gz_chunk, reusable across calls. Owned
 * (prep_cut_gz_deflater_free, NULL ok); NULL when out of memory. */
void *prep_cut_gz_deflater_new(void);
void prep_cut_gz_deflater_free(void *zs);
/* The chunk of in[0..n) (borrowed) into *out (owned, *outn bytes), with zs (reset here) or
 * a deflater of its own when zs is NULL. 0, or -1 (out of memory, zlib error). */
int prep_cut_gz_chunk(void *zs, const void *in, size_t n, unsigned char **out, size_t *outn);
/* The same with dict[0..dict_len) (its last 32 KiB) as zlib's preset dictionary: the chunk
 * may refer back into those bytes, so it inflates right only right after them (`prep
 * serve` compresses a page's own parts with the parts before them: docs/internals/serve.md). */
int prep_cut_gz_chunk_dict(void *zs, const void *dict, size_t dict_len, const void *in, size_t n,
                           unsigned char **out, size_t *outn);
/* Writes the member of a file of `size` bytes made of n parts into dst, which holds
 * PREP_CUT_GZ_EXTRA + the sum of chunk_len bytes: chunk[i] (chunk_len[i] bytes) is the
 * chunk of part i, crc[i] the CRC-32 of its raw_len[i] bytes. Returns the bytes written. */
size_t prep_cut_gz_member(unsigned char *dst, const unsigned char *const *chunk, const size_t *chunk_len,
                          const uint32_t *crc, const uint64_t *raw_len, size_t n, uint64_t size);

/* ---------------------------------------------------------------- brotli
 * The brotli of in[0..n) (text mode, the given quality and window) into out, which holds
 * *outn bytes (BrotliEncoderMaxCompressedSize(n) always suffices); *outn becomes the bytes
 * written. The encoder's working blocks of 4 KiB and more (among them a hash table of
 * 1 MiB at quality 5) are kept per thread for its next calls, at most 16 blocks and
 * 8 MiB, the oldest pushed out first, instead of being allocated, faulted in and freed on
 * every call; freed when the thread exits. 0, or -1 (out does not hold it, out of
 * memory). The same bytes as BrotliEncoderCompress. src/cut/brotli.c. */
int prep_cut_brotli(int quality, int lgwin, const void *in, size_t n, void *out, size_t *outn);

/* ---------------------------------------------------------------- compressed transfer
 * A delivery may carry an object as objects/aa/<sha>.gz and a patch as
 * cuts/<seq>/manifest.patch.gz (one gzip member each); the receiver inflates them with
 * the output bounded by the signed size + 1 byte and checks the bytes as if they had come
 * raw (docs/formats/cut.md §5, docs/delivery.md "Compressed transfer"). The institute
 * compresses each new object once per cut into its store's cache, STORE/wire/:
 *   wire/aa/<62 hex>.gz              gzip of the object (only when it is smaller)
 *   wire/cuts/<seq>/manifest.patch.gz the patch from cut seq-1, gzip'd
 * src/cut/wire.c. */
#define PREP_CUT_WIRE_LEVEL 6        /* zlib level: see docs/delivery.md for the measurement */
#define PREP_CUT_WIRE_MIN_BYTES 128  /* smaller objects go raw: a gzip member costs 18+ bytes */

typedef struct prep_cut_wire_result {
    size_t objects;       /* distinct objects of the cut that the cut before lacks */
    size_t compressed;    /* .gz made now */
    size_t cached;        /* .gz already there */
    size_t kept_raw;      /* compressible, but gzip did not make them smaller */
    size_t skipped;       /* not a compressible type, or under PREP_CUT_WIRE_MIN_BYTES */
    uint64_t raw_bytes;   /* of the objects compressed now (compressed + kept_raw) */
    uint64_t gz_bytes;    /* what they cost on the wire now (the .gz, or raw when kept) */
    uint64_t patch_bytes, patch_gz_bytes; /* the patch from cut seq-1, raw and gzip'd (0: none made) */
} prep_cut_wire_result;

/* Makes the cache for cut seq of store: the .gz of every object of cut seq that cut seq-1
 * lacks (all of them when seq-1 is absent), for compressible media types
 * (prep_cut_wire_compressible) of at least PREP_CUT_WIRE_MIN_BYTES, kept only when
 * smaller; and the gzip of the patch from seq-1 when the patch is smaller than the
 * manifest (the one prep_deliver_patch sends). level 0 = PREP_CUT_WIRE_LEVEL.
 * Idempotent (what exists is kept). Crash-safe: files are written under wire/tmp, made
 * durable by one syncfs(2), then renamed in; a kill leaves each .gz whole or absent.
 * Serialised by flock on wire/lock (not the store's lock: a reader never waits).
 * r may be NULL. Kinds: "missing-object", "io", manifest kinds. */
PREP_NODISCARD prep_err prep_cut_wire_prepare(const char *store, uint64_t seq, int level, prep_cut_wire_result *r,
                                              prep_diags *d);
/* STORE/wire/aa/<62 hex>.gz and STORE/wire/cuts/<seq>/manifest.patch.gz. -1 if it does not fit. */
int prep_cut_wire_object_path(const char *store, const char *sha256, char *out, size_t outsz);
int prep_cut_wire_patch_path(const char *store, uint64_t seq, char *out, size_t outsz);
/* 1 for the media types worth compressing (text types, JSON, GeoJSON, JavaScript, XML, SVG). */
int prep_cut_wire_compressible(const char *media_type);
/* The most bytes an honest gzip of size bytes takes (deflate's stored blocks and a
 * header): a longer .gz is refused from its size, unread. */
uint64_t prep_cut_gz_bound(uint64_t size);
/* Inflates one gzip member in[0..n) (borrowed) into *out (owned, NUL not added, *outn
 * bytes), at most max bytes: more is "oversize" (inflation stops one byte past max), a
 * stream that ends early "truncated", a corrupt one, a bad CRC or length, or any byte
 * after the member "bad-gzip". PREP_OK, PREP_ERR_VERIFY (diag), PREP_ERR_NOMEM. */
PREP_NODISCARD prep_err prep_cut_gunzip(const void *in, size_t n, uint64_t max, char **out, size_t *outn,
                                        const char *label, prep_diags *d);

/* ---------------------------------------------------------------- testing hooks */
/* Called before each file-system step of the store code with op in "open", "write",
 * "fsync", "rename", "mkdir", "fsyncdir", "link" and the path ("noreplace" before a
 * rename that must not replace: EINVAL plays a file system without RENAME_NOREPLACE).
 * Returning non-zero makes that step fail with that errno (tests: ENOSPC, crash points).
 * fn NULL = none.
 * Process-wide; for tests only. */
typedef int (*prep_cut_io_hook)(void *ctx, const char *op, const char *path);
void prep_cut_set_io_hook(prep_cut_io_hook fn, void *ctx);

#endif

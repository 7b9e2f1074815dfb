/* prep cut: making one cut at the institute (prep_cut_make, prep_cut_make_dir).
 *
 * Order of steps, each crash-safe: hash every file; write the manifest; sign it; check
 * the signature and re-parse the bytes with the receiver's parser; store each object
 * the store lacks (temp, fsync, verify, rename); fsync object dirs; write cuts/<seq>/;
 * switch the active pointer. A crash before the last rename leaves the previous cut
 * active; leftovers are cleaned on the next open. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cut_internal.h"

void prep_cut_params_init(prep_cut_params *p)
{
    memset(p, 0, sizeof *p);
    p->instant = PREP_TIME_NONE;
    p->mode = PREP_CUT_LIVE;
    p->valid_for = 3600;
    prep_cut_limits_default(&p->limits);
}

/* One source file: in memory (data) or on disk (fspath). */
typedef struct src {
    char *path;         /* owned public path */
    const void *data;   /* borrowed, or NULL */
    char *fspath;       /* owned, or NULL */
    uint64_t size;
    char sha256[65];
    const char *type;   /* static or borrowed */
    size_t n_parts;     /* 0 = plain; else the parts of data, in order: */
    size_t part0;       /* srcs.parts[part0 .. part0 + n_parts) */
    const prep_cut_file *in; /* prep_cut_make's file, hashed once the active cut is known */
    uint32_t present;   /* bit k: part k (bit 0: a plain file) is named by the active cut,
                         * so the store holds it (hash_srcs) */
    uint8_t end;        /* on disk: its cut_end_kind, and */
    uint8_t end_ok;     /* whether it ends as a complete file of that kind (hash_file) */
} src;

/* The parts live in one pool, not in each src: most files are plain, and a fixed
 * PREP_CUT_PARTS_MAX (16) per file would cost ~1.2 KB for each of a national cut's
 * 146,626 files. */
typedef struct srcs {
    src *v;
    size_t n, cap;
    prep_cut_part *parts;
    size_t n_parts, cap_parts;
    char *names; /* prep_cut_make: every v[i].path, one after the other in one block (one
                  * allocation for 147,290 paths, and the manifest's writer reads them in
                  * order); NULL: each path owned apart */
} srcs;

static void srcs_free(srcs *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!s->names) free(s->v[i].path);
        free(s->v[i].fspath);
    }
    free(s->names);
    free(s->v);
    free(s->parts);
    memset(s, 0, sizeof *s);
}

/* np more parts in the pool; their index, or SIZE_MAX when memory ran out. */
static size_t srcs_parts_add(srcs *s, size_t np)
{
    if (s->n_parts + np > s->cap_parts) {
        size_t nc = s->cap_parts ? s->cap_parts * 2 : 1024;
        while (nc < s->n_parts + np) nc *= 2;
        prep_cut_part *nv = realloc(s->parts, nc * sizeof *nv);
        if (!nv) return SIZE_MAX;
        s->parts = nv;
        s->cap_parts = nc;
    }
    size_t at = s->n_parts;
    s->n_parts += np;
    return at;
}

static src *srcs_add(srcs *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = prep_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    src *x = &s->v[s->n++];
    memset(x, 0, sizeof *x);
    return x;
}

/* Length of the longest prefix of s[0..n) that is whole valid UTF-8 sequences, with an
 * incomplete (but so far valid) sequence allowed at the very end; -1 if invalid. */
static long utf8_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len) return -1;
        if (i + len > n) {
            for (size_t k = i + 1; k < n; k++)
                if ((s[k] & 0xc0) != 0x80) return -1;
            return (long)i;
        }
        if (!prep_utf8_valid((const char *)s + i, len)) return -1;
        i += len;
    }
    return (long)i;
}

/* Hashes a file on disk, refusing symlinks, and learns whether it is UTF-8 and whether it
 * ends as a complete file of its kind x->end. */
static prep_err hash_file(const char *fspath, const char *label, uint64_t max, src *x, int *utf8, prep_diags *d)
{
    int fd = open(fspath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        prep_diags_add(d, label, 0, 0, errno == ELOOP ? "symlink" : "io", "cannot open: %s",
                       errno == ELOOP ? "a symbolic link" : strerror(errno));
        return errno == ELOOP ? PREP_ERR_INVALID : PREP_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        prep_diags_add(d, label, 0, 0, "not-regular", "not a regular file");
        close(fd);
        return PREP_ERR_INVALID;
    }
    cut_sha256 h;
    if (cut_sha256_init(&h)) {
        close(fd);
        return PREP_ERR_NOMEM;
    }
    unsigned char buf[65536 + 4], tail[CUT_END_TAIL];
    size_t carry = 0, tail_n = 0;
    cut_end_json json = {0};
    uint64_t total = 0;
    *utf8 = 1;
    prep_err e = PREP_OK;
    for (;;) {
        ssize_t r = cut_read(fd, buf + carry, 65536, d, label);
        if (r < 0) {
            e = PREP_ERR_IO;
            break;
        }
        if (r == 0) break;
        cut_sha256_update(&h, buf + carry, (size_t)r);
        cut_end_push(tail, &tail_n, buf + carry, (size_t)r);
        if (x->end == CUT_END_JSON) cut_end_json_feed(&json, buf + carry, (size_t)r);
        total += (uint64_t)r;
        if (total > max) {
            prep_diags_add(d, label, 0, 0, "limit", "larger than %llu bytes", (unsigned long long)max);
            e = PREP_ERR_LIMIT;
            break;
        }
        size_t have = carry + (size_t)r;
        if (*utf8) {
            long ok = utf8_prefix(buf, have);
            if (ok < 0) {
                *utf8 = 0;
                carry = 0;
            } else {
                carry = have - (size_t)ok;
                memmove(buf, buf + ok, carry);
            }
        }
    }
    if (carry) *utf8 = 0;
    close(fd);
    cut_sha256_final(&h, x->sha256);
    x->size = total;
    x->end_ok = (uint8_t)(cut_end_ok((cut_end_kind)x->end, tail, tail_n) &&
                          (x->end != CUT_END_JSON || cut_end_json_closed(&json)));
    return e;
}

/* Walks dir, adding every regular file; refuses symlinks and special files. */
static prep_err walk(const char *root, const char *rel, int depth, const prep_cut_params *p, srcs *out,
                     prep_diags *d)
{
    char *dirp = rel[0] ? cut_join(root, rel) : prep_xstrdup(root);
    if (depth > 64) {
        prep_diags_add(d, dirp, 0, 0, "limit", "directories nested deeper than 64");
        free(dirp);
        return PREP_ERR_LIMIT;
    }
    DIR *dp = opendir(dirp);
    if (!dp) {
        prep_diags_add(d, dirp, 0, 0, "io", "cannot list: %s", strerror(errno));
        free(dirp);
        return PREP_ERR_IO;
    }
    prep_err e = PREP_OK;
    struct dirent *de;
    while (!e && (de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *r = rel[0] ? cut_join(rel, de->d_name) : prep_xstrdup(de->d_name);
        char *fp = cut_join(root, r);
        struct stat st;
        if (lstat(fp, &st) != 0) {
            prep_diags_add(d, fp, 0, 0, "io", "cannot stat: %s", strerror(errno));
            e = PREP_ERR_IO;
        } else if (S_ISLNK(st.st_mode)) {
            prep_diags_add(d, fp, 0, 0, "symlink", "symbolic links are not published; copy the file instead");
            e = PREP_ERR_INVALID;
        } else if (S_ISDIR(st.st_mode)) {
            e = walk(root, r, depth + 1, p, out, d);
        } else if (!S_ISREG(st.st_mode)) {
            prep_diags_add(d, fp, 0, 0, "not-regular", "not a regular file");
            e = PREP_ERR_INVALID;
        } else if (out->n >= p->limits.max_files) {
            prep_diags_add(d, root, 0, 0, "limit", "more than %zu files", p->limits.max_files);
            e = PREP_ERR_LIMIT;
        } else {
            const char *why;
            if (prep_cut_path_check(r, strlen(r), &why)) {
                prep_diags_add(d, fp, 0, 0, "bad-path", "cannot publish path '%s': %s", r, why);
                e = PREP_ERR_INVALID;
            } else {
                src *x = srcs_add(out);
                x->path = r;
                x->fspath = fp;
                r = fp = NULL;
                int utf8;
                x->end = (uint8_t)cut_end_kind_of(x->path);
                e = hash_file(x->fspath, x->fspath, p->limits.max_object_bytes, x, &utf8, d);
                x->type = cut_media_type_utf8(x->path, utf8);
            }
        }
        free(r);
        free(fp);
    }
    closedir(dp);
    free(dirp);
    return e;
}

prep_err prep_cut_check_signer(const char *store, const prep_cut_manifest *m, const prep_cut_seckey *key,
                               prep_diags *d)
{
    prep_cut_pubkey pk;
    prep_cut_seckey_public(key, &pk);
    prep_cut_sig sg;
    prep_diags sd;
    prep_diags_init(&sd);
    char *label = cut_fmt("%s/cuts/%llu/manifest.sig", store, (unsigned long long)m->meta.seq), *sig = NULL;
    size_t siglen = 0;
    const char *why = "";
    prep_err e = cut_read_small(label, 4096, &sig, &siglen, &why);
    if (e) prep_diags_add(&sd, label, 0, 0, "not-found", "its signature cannot be read");
    if (!e) e = prep_cut_sig_parse(sig, siglen, label, &sg, &sd);
    if (!e) e = prep_cut_sig_verify(&pk, 1, &sg, m->raw, m->raw_len, NULL, label, &sd);
    if (e) {
        char kh[17];
        prep_cut_keynum_hex(key->keynum, kh);
        prep_diags_add(d, label, 0, 0, "chain-key",
                       "the active cut %llu does not verify with the signing key (key %s): %s. A chain continues "
                       "only under the key that signed it; nothing is signed. Sign with that key, or start a new "
                       "store for the new key",
                       (unsigned long long)m->meta.seq, kh, sd.n ? sd.v[0].msg : "its signature cannot be read");
    }
    prep_diags_free(&sd);
    free(sig);
    free(label);
    return e ? PREP_ERR_VERIFY : PREP_OK;
}

/* The new cut's metadata: the parameters, and from the store's active cut (if any) the
 * sequence and the chain, refusing a cut of another process or mode, an instant before
 * the active cut's, or a sequence other than the one the files were made for. *prev gets
 * the active cut's manifest. */
static prep_err next_meta(cut_store *s, const char *store, const prep_cut_params *p, const prep_cut_seckey *key,
                          prep_cut_meta *mt, prep_cut_manifest *prev, prep_diags *d)
{
    memset(mt, 0, sizeof *mt);
    snprintf(mt->process, sizeof mt->process, "%s", p->process);
    snprintf(mt->elections, sizeof mt->elections, "%s", p->elections ? p->elections : "");
    snprintf(mt->zone, sizeof mt->zone, "%s", p->zone);
    mt->mode = p->mode;
    mt->instant = p->instant;
    memcpy(mt->keynum, key->keynum, 8);
    int64_t vf = p->valid_for ? p->valid_for : 3600;
    mt->valid_until = p->instant + vf;
    if (prep_time_utcoff(mt->instant, mt->zone, &mt->instant_off) != 0 ||
        prep_time_utcoff(mt->valid_until, mt->zone, &mt->valid_off) != 0) {
        prep_diags_add(d, mt->zone, 0, 0, "manifest-field", "unknown time zone '%s'", mt->zone);
        return PREP_ERR_INVALID;
    }
    prep_cut_active a;
    prep_err ae = cut_active_read_path(s->root, &a, d);
    if (ae && ae != PREP_ERR_NOTFOUND) return ae;
    if (ae == PREP_ERR_NOTFOUND && cut_store_pointer_lost(s->root, store, d)) return PREP_ERR_VERIFY;
    mt->seq = 1;
    if (ae == PREP_OK) {
        if (strcmp(a.process, mt->process) != 0) {
            prep_diags_add(d, store, 0, 0, "process-mismatch", "store holds process '%s'; this cut is for '%s'", a.process,
                     mt->process);
            return PREP_ERR_INVALID;
        }
        if (a.mode != mt->mode) {
            prep_diags_add(d, store, 0, 0, "mode", "store holds %s cuts; this cut is %s (use another store)",
                     prep_cut_mode_name(a.mode), prep_cut_mode_name(mt->mode));
            return PREP_ERR_INVALID;
        }
        /* the last cut made with the hash cache: what is needed of it is known (its
         * manifest at national scale is ~20 MB to read and parse) */
        if (p->hash_cache &&
            cut_hc_made_meta(p->hash_cache, a.manifest_sha256, &prev->meta.instant, &prev->meta.instant_off)) {
            memcpy(prev->sha256, a.manifest_sha256, 65);
        } else {
            prep_err e = cut_store_read_cut(s->root, a.seq, &p->limits, prev, NULL, NULL, d);
            if (!e && strcmp(prev->sha256, a.manifest_sha256) == 0) e = prep_cut_check_signer(s->root, prev, key, d);
            if (e) return e;
        }
        if (strcmp(prev->sha256, a.manifest_sha256) != 0) {
            prep_diags_add(d, store, 0, 0, "hash-mismatch", "active cut %llu's manifest does not match the pointer",
                     (unsigned long long)a.seq);
            return PREP_ERR_VERIFY;
        }
        if (mt->instant < prev->meta.instant) {
            char pi[32];
            cut_format_instant(prev->meta.instant, prev->meta.instant_off, pi);
            prep_diags_add(d, store, 0, 0, "instant-regress", "cut instant is before the previous cut's (%s)", pi);
            return PREP_ERR_INVALID;
        }
        if (a.seq >= PREP_CUT_SEQ_MAX) {
            prep_diags_add(d, store, 0, 0, "limit", "sequence numbers exhausted");
            return PREP_ERR_LIMIT;
        }
        mt->seq = a.seq + 1;
        memcpy(mt->previous, a.manifest_sha256, 65);
    }
    if (p->expect_seq && p->expect_seq != mt->seq) {
        prep_diags_add(d, store, 0, 0, "sequence-moved",
                 "the files were made for sequence %llu but the store's next cut is %llu (another writer?)",
                 (unsigned long long)p->expect_seq, (unsigned long long)mt->seq);
        return PREP_ERR_INVALID;
    }
    return PREP_OK;
}

/* Writes the manifest into *mb, signs it into *sb, and checks both with the receiver's
 * own code (*check gets the manifest as a receiver reads it). */
static prep_err write_and_sign(const prep_cut_meta *mt, const srcs *ss, const prep_cut_params *p,
                               const prep_cut_seckey *key, prep_buf *mb, prep_buf *sb, prep_cut_manifest *check,
                               prep_diags *d)
{
    prep_cut_entry *ents = calloc(ss->n ? ss->n : 1, sizeof *ents);
    if (!ents) return PREP_ERR_NOMEM;
    for (size_t i = 0; i < ss->n; i++) {
        ents[i].path = ss->v[i].path;
        ents[i].media_type = ss->v[i].type;
        ents[i].size = ss->v[i].size;
        memcpy(ents[i].sha256, ss->v[i].sha256, 65);
        ents[i].n_parts = ss->v[i].n_parts;
        ents[i].parts = ss->v[i].n_parts ? ss->parts + ss->v[i].part0 : NULL;
    }
    prep_err e = cut_manifest_write(mt, ents, ss->n, &p->limits, mb, d);
    free(ents);
    if (e) return e;
    prep_cut_sig sig;
    if ((e = prep_cut_sign(key, mb->data, mb->len, &sig))) return e;
    char kh[17];
    prep_cut_keynum_hex(key->keynum, kh);
    char comment[200];
    snprintf(comment, sizeof comment, "prep cut %s sequence %llu %s, key %s", mt->process, (unsigned long long)mt->seq,
             prep_cut_mode_name(mt->mode), kh);
    if ((e = prep_cut_sig_format(&sig, comment, sb))) return e;
    prep_cut_pubkey pub;
    prep_cut_seckey_public(key, &pub);
    prep_cut_policy pol;
    prep_cut_policy_init(&pol);
    pol.keys = &pub;
    pol.n_keys = 1;
    pol.mode = mt->mode;
    pol.limits = p->limits;
    return cut_check_signed(&pol, mb->data, mb->len, sb->data, sb->len, "new cut", 0, check, d);
}

/* Claimed-unchanged parts, and files whose hash is given (prep_cut_file.sha256), whose hash
 * is computed anyway, 1 in HINT_SAMPLE: a renderer that claims a changed part unchanged is
 * found within a cut or two, not never. */
#define HINT_SAMPLE 61

/* One more hint (*sample counts them): 1 when it is one of those checked and the len
 * bytes at at do not hash to md. */
static int hint_false(size_t *sample, const unsigned char *at, size_t len, const unsigned char md[32])
{
    if (++*sample % HINT_SAMPLE) return 0;
    hc_part_hash got;
    cut_hc_sha256(at, len, &got);
    return memcmp(got.md, md, sizeof got.md) != 0;
}

/* A part the store holds (prep_cut_file.stored), read back to hash its file. */
typedef struct stored_load {
    cut_store *s;
    const prep_cut_file *in;
    unsigned char *buf;
    size_t cap;
    prep_diags *d;
} stored_load;

static const unsigned char *load_stored(void *ctx, size_t k)
{
    stored_load *l = ctx;
    const prep_cut_file *in = l->in;
    size_t len = in->part_len[k];
    char hex[65];
    prep_hex(in->stored_sha[__builtin_popcount(in->stored & ((1u << k) - 1u))], 32, hex);
    if (len + 1 > l->cap) {
        unsigned char *nb = realloc(l->buf, len + 1);
        if (!nb) return NULL;
        l->buf = nb;
        l->cap = len + 1;
    }
    if (cut_object_read(l->s, hex, l->buf, len) == 0) return l->buf;
    prep_diags_add(l->d, in->path, 0, 0, "stored-missing",
                   "part %zu (object %s, %zu bytes) is not in the store as the last cut left it: %s", k, hex, len,
                   errno ? strerror(errno) : "its size differs");
    return NULL;
}

/* One file of prep_cut_make through the hash cache: its parts' hashes (a claimed-unchanged
 * part's from the cache, a stored part's as given), its assembled hash from the state
 * after its repeating prefix. *bad when a sampled claim was false. */
static prep_err hash_cached(prep_cut_hash_cache *hc, hc_memo *memo, stored_load *sl, src *x, prep_cut_part *xp,
                            size_t *sample, int *bad)
{
    const prep_cut_file *in = x->in;
    size_t np = in->n_parts, nparts = np ? np : 1, lens[PREP_CUT_PARTS_MAX];
    if (np) memcpy(lens, in->part_len, np * sizeof *lens);
    else lens[0] = in->len;
    hc_entry *he = cut_hc_entry(hc, x->path);
    if (!he) return PREP_ERR_NOMEM;
    const hc_part_hash *old = cut_hc_entry_parts(he, np);
    hc_part_hash ph[PREP_CUT_PARTS_MAX];
    size_t prefix = np ? (in->hash_prefix < np ? in->hash_prefix : np) : 0, off = 0, j = 0;
    size_t first_changed = prefix;
    uint32_t stored = np ? in->stored : 0;
    hc_src hs = {.load = load_stored, .ctx = sl};
    sl->in = in;
    for (size_t k = 0; k < nparts; k++) {
        int in_store = (stored >> k) & 1u; /* its bytes are not in data */
        const unsigned char *at = in_store ? NULL : (const unsigned char *)x->data + off;
        hs.p[k] = at;
        int same = !in_store && old && ((in->same_parts >> k) & 1u) && old[k].size == lens[k];
        if (same && hint_false(sample, at, lens[k], old[k].md)) {
            prep_log(PREP_LOG_WARN, "cut: %s: part %zu was said to be unchanged but differs; hashing every file",
                     x->path, k);
            *bad = 1;
            return PREP_OK;
        }
        if (same) {
            ph[k] = old[k];
            x->present |= 1u << k;
        } else {
            if (in_store) { /* in the store only: its hash as given */
                memcpy(ph[k].md, in->stored_sha[j++], sizeof ph[k].md);
                ph[k].size = lens[k];
            } else if (!np && in->sha256 && old) { /* hashed by the caller; a sample checked */
                if (hint_false(sample, at, lens[k], in->sha256)) {
                    prep_log(PREP_LOG_WARN, "cut: %s: its SHA-256 as given differs from its bytes'; hashing every file",
                             x->path);
                    *bad = 1;
                    return PREP_OK;
                }
                memcpy(ph[k].md, in->sha256, sizeof ph[k].md);
                ph[k].size = lens[k];
            } else {
                cut_hc_memo_sha256(memo, at, lens[k], &ph[k]);
            }
            /* re-made or stored, the active cut's bytes: its object (put_objects checks the
             * others), and the state still holds */
            if (old && old[k].size == lens[k] && !memcmp(ph[k].md, old[k].md, sizeof ph[k].md))
                x->present |= 1u << k;
            else if (k < first_changed)
                first_changed = k;
        }
        if (np) {
            xp[k].size = lens[k];
            prep_hex(ph[k].md, sizeof ph[k].md, xp[k].sha256);
        }
        if (!in_store) off += lens[k];
    }
    return cut_hc_file(hc, he, &hs, np, lens, ph, first_changed, prefix, x->sha256);
}

/* The hashes of prep_cut_make's files, once the active cut is known (*prev, zeroed when
 * the store is empty): through p->hash_cache when the active cut is the last one made
 * with it (else the cache is forgotten first), else every byte. */
static prep_err hash_srcs(const prep_cut_params *p, srcs *ss, const prep_cut_manifest *prev, cut_store *s,
                          prep_diags *d)
{
    prep_cut_hash_cache *hc = p->hash_cache;
    if (hc && (!prev->sha256[0] || strcmp(cut_hc_made(hc), prev->sha256) != 0)) cut_hc_clear(hc);
    hc_memo memo = {0};
    stored_load sl = {.s = s, .d = d};
    for (int attempt = 0; attempt < 2; attempt++) {
        if (hc) cut_hc_begin(hc);
        int bad = 0;
        size_t sample = 0;
        for (size_t i = 0; i < ss->n && !bad; i++) {
            src *x = &ss->v[i];
            if (!x->in) continue;
            x->present = 0;
            if (hc) {
                prep_err e = hash_cached(hc, &memo, &sl, x, ss->parts + x->part0, &sample, &bad);
                if (e) {
                    cut_hc_memo_free(&memo);
                    free(sl.buf);
                    cut_hc_clear(hc);
                    return e;
                }
                continue;
            }
            prep_sha256_hex(x->data, x->size, x->sha256);
            size_t off = 0;
            for (size_t k = 0; k < x->n_parts; k++) {
                prep_cut_part *pt = &ss->parts[x->part0 + k];
                prep_sha256_hex((const char *)x->data + off, pt->size, pt->sha256);
                off += pt->size;
            }
        }
        if (!bad) break;
        cut_hc_clear(hc);
    }
    cut_hc_memo_free(&memo);
    free(sl.buf);
    return PREP_OK;
}

/* A file of prep_cut_make_dir, copied (re-hashed while copied: a file changed since it was
 * hashed is refused) and synced on its own. */
static prep_err put_file(cut_store *s, const src *x, unsigned char dirty[256], prep_diags *d)
{
    int fd = open(x->fspath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        prep_io_fail("open", x->fspath, errno);
        prep_diags_add(d, x->fspath, 0, 0, "io", "cannot open: %s", strerror(errno));
        return PREP_ERR_IO;
    }
    prep_err e = cut_object_put_fd(s, fd, x->fspath, x->size, x->sha256, dirty, d);
    close(fd);
    return e;
}

/* Every object of the cut the store lacks (a composed file's parts are its objects),
 * then one sync of the object directories touched. fresh: the store has no active cut, or
 * the hash cache knew it, so an object from memory that it did not hold (x->present) is
 * new but for rare returns to older bytes, and is written without asking the store first
 * (cut_stage_mem); else each is looked for first, as most are there. The objects from
 * memory are written together at the end, on every core when they are many
 * (cut_stage_mem_many: a national first cut's 2 GB). */
static prep_err put_objects(cut_store *s, const srcs *ss, int fresh, prep_diags *d)
{
    prep_err e = PREP_OK;
    unsigned char dirty[256] = {0};
    cut_sha_set seen = {0};
    cut_stage_list l = {0}; /* new objects from memory: one sync for all (an fsync each cost a
                             * national first cut ~700,000 of them) */
    cut_stage_job *jobs = NULL;
    size_t nj = 0, cj = 0;
    for (size_t i = 0; i < ss->n && !e; i++) {
        const src *x = &ss->v[i];
        size_t np = x->n_parts ? x->n_parts : 1, off = 0;
        uint32_t stored = x->in && x->n_parts ? x->in->stored : 0;
        for (size_t k = 0; k < np && !e; k++) {
            const prep_cut_part *pt = x->n_parts ? &ss->parts[x->part0 + k] : NULL;
            const char *sha = pt ? pt->sha256 : x->sha256;
            uint64_t size = pt ? pt->size : x->size;
            int in_store = (stored >> k) & 1u;
            const char *at = x->data && !in_store ? (const char *)x->data + off : NULL;
            if (!in_store) off += (size_t)size;
            if ((x->present >> k) & 1u) continue;
            int dup = cut_sha_set_add(&seen, sha);
            if (dup) {
                if (dup < 0) e = PREP_ERR_NOMEM;
                continue;
            }
            int have = at && fresh ? 0 : cut_object_check(s, sha, size, x->path, d);
            if (have < 0) {
                e = PREP_ERR_VERIFY;
            } else if (!have && in_store) {
                prep_diags_add(d, x->path, 0, 0, "stored-missing",
                               "part %zu (object %s) is not in the store as the last cut left it", k, sha);
                e = PREP_ERR_VERIFY;
            } else if (!have && at) {
                if (nj == cj) {
                    cj = cj ? cj * 2 : 4096;
                    jobs = prep_xrealloc(jobs, cj * sizeof *jobs);
                }
                jobs[nj++] = (cut_stage_job){at, (size_t)size, sha, fresh ? x->path : NULL};
            } else if (!have) {
                e = put_file(s, x, dirty, d);
            }
        }
    }
    free(seen.v);
    if (!e) e = cut_stage_mem_many(s, &l, jobs, nj, d);
    free(jobs);
    e = cut_stage_commit(s, &l, dirty, e, d);
    return e ? e : cut_objects_sync(s, dirty, d);
}

/* A cut of no file, or (unless p->allow_shrink) of fewer than half the files of the active
 * cut prev (when its manifest was read), is refused: an empty, wrong or half-copied
 * directory would otherwise replace the whole publication. */
static prep_err not_collapsed(const char *store, const prep_cut_params *p, size_t n, const prep_cut_manifest *prev,
                              prep_diags *d)
{
    if (!n) {
        prep_diags_add(d, store, 0, 0, "empty-cut", "the cut has no file; nothing is signed");
        return PREP_ERR_INVALID;
    }
    if (p->allow_shrink || !prev->n || n * 2 >= prev->n) return PREP_OK;
    prep_diags_add(d, store, 0, 0, "cut-shrinks",
                   "the cut has %zu files against the active cut %llu's %zu: a wrong or half-copied directory? "
                   "Nothing is signed (prep cut --allow-shrink publishes it)",
                   n, (unsigned long long)prev->meta.seq, prev->n);
    return PREP_ERR_INVALID;
}

/* 1 when stored entry en ends as a complete file of kind k, judged as a new file is (a
 * JSON's brackets too, its objects read whole: at most 64 MiB, else 0). */
static int stored_ends_ok(cut_store *s, const prep_cut_entry *en, cut_end_kind k)
{
    unsigned char t[CUT_END_TAIL];
    size_t tn = 0;
    if (cut_entry_tail(s, en, t, &tn) || !cut_end_ok(k, t, tn)) return 0;
    if (k != CUT_END_JSON) return 1;
    if (en->size > ((uint64_t)64 << 20)) return 0;
    cut_end_json j = {0};
    int ok = 1;
    for (size_t i = 0; ok && i < cut_entry_nobj(en); i++) {
        size_t n = (size_t)cut_entry_obj_size(en, i);
        char *b = prep_xmalloc(n + 1);
        ok = cut_object_read(s, cut_entry_obj_sha(en, i), b, n) == 0;
        if (ok) cut_end_json_feed(&j, b, n);
        free(b);
    }
    return ok && cut_end_json_closed(&j);
}

/* With prep cut --from, unless p->allow_cut_short: a file that does not end as a complete file
 * of its kind (cut_end_kind) is refused when its version in the active cut prev did, or,
 * for a path new to the cut of a kind whose files always end so (HTML, SVG, JSON: not
 * text, whose last line end is a habit, nor binary files with bytes after their end
 * marker), when at least 3 of the cut's other files of its kind are and 9 in 10 of them
 * do: a file cut short while the directory was copied, which would otherwise be signed and
 * published as it is. Files the cutter renders are not checked. */
static prep_err not_cut_short(cut_store *s, const prep_cut_params *p, const srcs *ss, const prep_cut_manifest *prev,
                              prep_diags *d)
{
    if (p->allow_cut_short) return PREP_OK;
    size_t kind_n[CUT_END_KINDS] = {0}, kind_ok[CUT_END_KINDS] = {0}, bad = 0;
    for (size_t i = 0; i < ss->n; i++) {
        const src *x = &ss->v[i];
        if (!x->fspath || !x->end) continue;
        kind_n[x->end]++;
        kind_ok[x->end] += x->end_ok;
    }
    for (size_t i = 0; i < ss->n; i++) {
        const src *x = &ss->v[i];
        if (!x->fspath || !x->end || x->end_ok) continue;
        const prep_cut_entry *en = prev->n ? prep_cut_manifest_find(prev, x->path) : NULL;
        size_t others = kind_n[x->end] - 1, others_ok = kind_ok[x->end];
        int always = x->end == CUT_END_HTML || x->end == CUT_END_SVG || x->end == CUT_END_JSON;
        if (en && strcmp(en->sha256, x->sha256) && stored_ends_ok(s, en, (cut_end_kind)x->end)) {
            if (bad++ < 20)
                prep_diags_add(d, x->fspath, 0, 0, "file-cut-short",
                               "it does not end with %s, as its version in the active cut %llu (%llu bytes; now %llu) "
                               "did: cut short while being copied?",
                               cut_end_name(x->end), (unsigned long long)prev->meta.seq,
                               (unsigned long long)en->size, (unsigned long long)x->size);
        } else if (!en && always && others >= 3 && others_ok * 10 >= others * 9) {
            if (bad++ < 20)
                prep_diags_add(d, x->fspath, 0, 0, "file-cut-short",
                               "it does not end with %s, as %zu of the cut's %zu other files of its kind do "
                               "(%llu bytes): cut short while being copied?",
                               cut_end_name(x->end), others_ok, others, (unsigned long long)x->size);
        }
    }
    if (!bad) return PREP_OK;
    prep_diags_add(d, s->root, 0, 0, "file-cut-short",
                   "%zu file%s of the directory end%s short of a complete file; nothing is signed. Copy the "
                   "directory again (prep cut --allow-cut-short publishes it as it is)",
                   bad, bad == 1 ? "" : "s", bad == 1 ? "s" : "");
    return PREP_ERR_INVALID;
}

static prep_err make_common(const char *store, const prep_cut_params *p, srcs *ss, const prep_cut_seckey *key,
                            uint64_t *seq_out, prep_diags *d)
{
    prep_err e = PREP_OK;
    cut_store s = {.lock_fd = -1};
    prep_buf own_mb, sb;
    prep_buf_init(&own_mb, p->limits.max_manifest_bytes);
    prep_buf_init(&sb, 4096);
    /* the cutter's manifest buffer lives in its hash cache, from one cut to the next */
    prep_buf *mb = p->hash_cache ? cut_hc_manifest_buf(p->hash_cache, p->limits.max_manifest_bytes) : &own_mb;
    prep_cut_manifest prev = {0}, check = {0};
    prep_cut_meta mt;
    if ((e = cut_store_open(&s, store, 1, d))) goto out;
    if ((e = next_meta(&s, store, p, key, &mt, &prev, d))) goto out;
    if ((e = hash_srcs(p, ss, &prev, &s, d))) goto out;
    prep_err short_e = not_cut_short(&s, p, ss, &prev, d);
    /* hash_srcs forgets a cache that is not the active cut's; a store without an active cut
     * holds no objects but a failed first cut's */
    int fresh = !prev.sha256[0] || (p->hash_cache && !strcmp(cut_hc_made(p->hash_cache), prev.sha256));
    if ((e = write_and_sign(&mt, ss, p, key, mb, &sb, &check, d))) goto out;
    /* signed in memory only: nothing stored */
    if ((e = not_collapsed(store, p, ss->n, &prev, d)) || (e = short_e)) goto out;
    if ((e = put_objects(&s, ss, fresh, d))) goto out;
    if ((e = cut_store_put_cut(&s, mt.seq, mb->data, mb->len, sb.data, sb.len, d))) goto out;
    prep_cut_active na = {.seq = mt.seq, .mode = mt.mode};
    memcpy(na.manifest_sha256, check.sha256, 65);
    snprintf(na.process, sizeof na.process, "%s", mt.process);
    if ((e = cut_active_write(&s, &na, d))) goto out;
    cut_store_log(s.root, PREP_LOG_INFO, "cut %llu made and activated: %s %s, %zu files, %llu bytes, manifest %s",
                  (unsigned long long)mt.seq, mt.process, prep_cut_mode_name(mt.mode), check.n,
                  (unsigned long long)check.total_bytes, check.sha256);
    if (seq_out) *seq_out = mt.seq;
    if (p->hash_cache) {
        cut_hc_end(p->hash_cache);
        cut_hc_set_made(p->hash_cache, check.sha256, check.meta.instant, check.meta.instant_off);
    }
out:
    if (e && p->hash_cache) cut_hc_clear(p->hash_cache); /* what it holds may not be in the store */
    prep_cut_manifest_free(&prev);
    prep_cut_manifest_free(&check);
    prep_buf_free(&own_mb);
    prep_buf_free(&sb);
    cut_store_close(&s);
    return e;
}

static prep_err check_params(const prep_cut_params *p, const prep_cut_seckey *key, prep_diags *d)
{
    if (!p->process || cut_check_process(p->process)) {
        prep_diags_add(d, "cut", 0, 0, "manifest-field", "process id '%s' is not [A-Za-z0-9._-]{1,64}",
                       p->process ? p->process : "(none)");
        return PREP_ERR_INVALID;
    }
    if (p->elections && cut_check_elections(p->elections)) {
        prep_diags_add(d, "cut", 0, 0, "manifest-field", "election set '%.80s' is not ids [a-z0-9_-] separated by one space",
                       p->elections);
        return PREP_ERR_INVALID;
    }
    if (!p->zone || cut_check_zone(p->zone)) {
        prep_diags_add(d, "cut", 0, 0, "manifest-field", "zone '%s' is not a tz database name", p->zone ? p->zone : "(none)");
        return PREP_ERR_INVALID;
    }
    const char *tzdir = getenv("TZDIR");
    char *zf = cut_fmt("%s/%s", tzdir && *tzdir ? tzdir : "/usr/share/zoneinfo", p->zone);
    struct stat zst;
    int known = stat(zf, &zst) == 0 && S_ISREG(zst.st_mode);
    free(zf);
    if (!known) {
        prep_diags_add(d, "cut", 0, 0, "manifest-field", "time zone '%s' is not in this system's tz database", p->zone);
        return PREP_ERR_INVALID;
    }
    if (p->instant == PREP_TIME_NONE || p->instant < 0) {
        prep_diags_add(d, "cut", 0, 0, "manifest-field", "no cut instant");
        return PREP_ERR_INVALID;
    }
    if (p->valid_for < 0 || p->valid_for > (int64_t)100 * 366 * 86400) {
        prep_diags_add(d, "cut", 0, 0, "manifest-field", "validity of %lld seconds is out of range",
                       (long long)p->valid_for);
        return PREP_ERR_INVALID;
    }
    if ((key->mark == PREP_CUT_KEY_DRILL && p->mode == PREP_CUT_LIVE) ||
        (key->mark == PREP_CUT_KEY_LIVE && p->mode == PREP_CUT_DRILL)) {
        prep_diags_add(d, "cut", 0, 0, "key-mode", "a %s key cannot sign a %s cut; drill and live cuts use different keys",
                       key->mark == PREP_CUT_KEY_DRILL ? "drill" : "live", prep_cut_mode_name(p->mode));
        return PREP_ERR_INVALID;
    }
    return PREP_OK;
}

prep_err prep_cut_make(const char *store, const prep_cut_params *p, const prep_cut_file *files, size_t n,
                       const prep_cut_seckey *key, uint64_t *seq, prep_diags *d)
{
    prep_err e = check_params(p, key, d);
    if (e) return e;
    if (n > p->limits.max_files) {
        prep_diags_add(d, "cut", 0, 0, "limit", "%zu files; the limit is %zu", n, p->limits.max_files);
        return PREP_ERR_LIMIT;
    }
    srcs ss = {0};
    /* both arrays sized once: grown by doubling, a national cut's (147,290 files, 725,000
     * parts: ~80 MB) were copied ~8 times each and held twice at the last copy */
    size_t total_parts = 0, names = 0;
    for (size_t i = 0; i < n; i++) {
        total_parts += files[i].n_parts;
        names += strlen(files[i].path ? files[i].path : "") + 1;
    }
    if (n) {
        ss.v = prep_xmalloc(n * sizeof *ss.v);
        ss.cap = n;
        ss.names = prep_xmalloc(names);
    }
    if (total_parts && !(ss.parts = malloc(total_parts * sizeof *ss.parts))) {
        srcs_free(&ss);
        return PREP_ERR_NOMEM;
    }
    ss.cap_parts = total_parts;
    for (size_t i = 0, name_at = 0; i < n; i++) {
        src *x = srcs_add(&ss);
        const char *fp = files[i].path ? files[i].path : "";
        size_t fl = strlen(fp) + 1;
        x->path = memcpy(ss.names + name_at, fp, fl);
        name_at += fl;
        x->data = files[i].data ? files[i].data : "";
        x->size = files[i].len;
        x->in = &files[i];
        size_t np = files[i].n_parts, sum = 0, held = 0; /* held: the bytes in data */
        if (files[i].stored && (np < 2 || np > PREP_CUT_PARTS_MAX || (files[i].stored >> np) || !files[i].stored_sha ||
                                !p->hash_cache)) {
            prep_diags_add(d, x->path, 0, 0, "manifest-field",
                           "parts said to be in the store need a composed file, their hashes and a hash cache");
            srcs_free(&ss);
            return PREP_ERR_INVALID;
        }
        for (size_t k = 0; k < np && k < PREP_CUT_PARTS_MAX; k++)
            if (!((files[i].stored >> k) & 1u)) held += files[i].part_len[k];
        x->type = files[i].media_type ? files[i].media_type
                                      : prep_cut_media_type(x->path, x->data, np ? held : files[i].len);
        if (np) {
            int ok = np >= 2 && np <= PREP_CUT_PARTS_MAX;
            for (size_t k = 0; ok && k < np; k++) {
                if (files[i].part_len[k] > files[i].len - sum) ok = 0;
                else sum += files[i].part_len[k];
            }
            if (!ok || sum != files[i].len) {
                prep_diags_add(d, x->path, 0, 0, "manifest-field",
                         "a composed file needs 2..%d parts whose lengths add up to its %zu bytes", PREP_CUT_PARTS_MAX,
                         files[i].len);
                srcs_free(&ss);
                return PREP_ERR_INVALID;
            }
            size_t at = srcs_parts_add(&ss, np);
            if (at == SIZE_MAX) {
                srcs_free(&ss);
                return PREP_ERR_NOMEM;
            }
            x->n_parts = np;
            x->part0 = at;
            for (size_t k = 0; k < np; k++) ss.parts[at + k].size = files[i].part_len[k];
        }
    }
    e = make_common(store, p, &ss, key, seq, d);
    srcs_free(&ss);
    return e;
}

prep_err prep_cut_make_dir(const char *store, const prep_cut_params *p, const char *dir, const prep_cut_seckey *key,
                           uint64_t *seq, prep_diags *d)
{
    prep_err e = check_params(p, key, d);
    if (e) return e;
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        prep_diags_add(d, dir, 0, 0, "not-found", "not a directory");
        return PREP_ERR_NOTFOUND;
    }
    /* A store inside the published tree would publish itself. */
    char *rd = realpath(dir, NULL), *rs = realpath(store, NULL);
    if (!rs) { /* a store to be made: resolve its parent */
        const char *sl = strrchr(store, '/');
        char *parent = sl ? prep_xstrndup(store, (size_t)(sl - store)) : prep_xstrdup(".");
        char *rp = realpath(parent[0] ? parent : "/", NULL);
        if (rp) rs = cut_fmt("%s/%s", rp, sl ? sl + 1 : store);
        free(rp);
        free(parent);
    }
    int inside = rd && rs && !strncmp(rs, rd, strlen(rd)) && (rs[strlen(rd)] == '/' || rs[strlen(rd)] == 0);
    free(rd);
    free(rs);
    if (inside) {
        prep_diags_add(d, store, 0, 0, "usage", "the store is inside the directory to publish (%s)", dir);
        return PREP_ERR_USAGE;
    }
    srcs ss = {0};
    e = walk(dir, "", 0, p, &ss, d);
    if (!e) e = make_common(store, p, &ss, key, seq, d);
    srcs_free(&ss);
    return e;
}

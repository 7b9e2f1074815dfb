/* prep cut: a cut as a plain directory for Apache or nginx (prep export).
 *
 * OUT gets every public path (hard-linked from the store's read-only objects, or copied),
 * a .gz and a .br twin beside each compressible file, and the manifest and signature as
 * SHA256SUMS and SHA256SUMS.sig, so that `cd OUT && sha256sum -c --strict SHA256SUMS`
 * works. The tree is built at OUT.tmp-<pid> and swapped in with one rename (or
 * renameat2 RENAME_EXCHANGE over a previous export), so the web server sees the old tree
 * or the new one. With the archive, OUT.cortes/<seq>/ holds every cut (each written once,
 * never changed) and OUT/cortes is a relative symbolic link to it (../OUT.cortes): /cortes/<seq>/.
 *
 * Files are hard links into OUT.objetos/, the export's own pool of verified copies (and
 * their twins, made once per object: a new cut compresses only its new objects), never
 * into the store: export only reads the store, takes no store lock, and an edit of a
 * served file cannot damage it. The pool files of the served tree are re-hashed (twins
 * decompressed and re-hashed) on every export, and a changed one is replaced. */
#include <brotli/encode.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <brotli/decode.h>

#include "cut_internal.h"

#define TWIN_MIN 256                  /* smaller files are not worth a twin */
#define TWIN_MAX ((size_t)64 << 20)   /* larger files get no twin (memory bound) */

void prep_cut_export_opts_init(prep_cut_export_opts *o)
{
    memset(o, 0, sizeof *o);
    o->twins = 1;
    o->archive = 1;
    o->keep = PREP_CUT_EXPORT_KEEP;
}

static int compressible(const char *type)
{
    return !strncmp(type, "text/", 5) || !strncmp(type, "application/json", 16) ||
           !strncmp(type, "application/xml", 15) || !strncmp(type, "image/svg+xml", 13) ||
           !strncmp(type, "application/geo+json", 20) || !strncmp(type, "application/manifest+json", 25) ||
           !strncmp(type, "application/javascript", 22);
}

/* Compression effort. Pages are assembled with the cut's stamp, so every page is a new
 * object on every cut and all of them are compressed again every 5 minutes: at Querétaro
 * scale (15,000 pages, 200 MB) brotli quality 11 took 8 minutes of CPU per export, more
 * than the cadence. Pages get quick settings; everything else (hashed assets, database
 * files, which are compressed once) gets the best ones. */
static int is_page(const char *type) { return !strncmp(type, "text/html", 9); }
#define GZIP_LEVEL_PAGE 6
#define GZIP_LEVEL_BEST 9
#define BROTLI_Q_PAGE 5
#define BROTLI_Q_BEST 11

static int gzip_buf(const unsigned char *in, size_t n, int level, unsigned char **out, size_t *outn)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16 = a gzip wrapper; zlib writes mtime 0, so the output is reproducible. */
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    *out = malloc(cap);
    if (!*out) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    *outn = cap - z.avail_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static int brotli_buf(const unsigned char *in, size_t n, int quality, unsigned char **out, size_t *outn)
{
    size_t cap = BrotliEncoderMaxCompressedSize(n);
    if (cap == 0) return -1;
    *out = malloc(cap);
    if (!*out) return -1;
    *outn = cap;
    if (!BrotliEncoderCompress(quality, 22, BROTLI_MODE_TEXT, n, in, outn, *out)) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- the export's pool
 * OUT.objetos/aa/bbbb... holds one copy of each object the export uses (and its twins
 * bbbb....gz / .br, or a bbbb....gz.none marker when compression does not pay). Every
 * file under OUT and OUT.cortes is a hard link to it. The store is only read: an edit of
 * a served file can damage the pool, never the store, and the next export finds it. */
typedef struct fixup {
    dev_t dev;
    ino_t ino;   /* a changed pool file's inode, still linked from older archive trees */
    char *path;  /* the pool file that replaces it */
} fixup;

typedef struct pool {
    char *dir;
    char *store;
    int lock_fd;
    unsigned counter;
    size_t repaired;
    fixup *fix;
    size_t nfix;
} pool;

static void pool_note_fix(pool *p, const struct stat *old, const char *newpath)
{
    p->fix = prep_xrealloc(p->fix, (p->nfix + 1) * sizeof *p->fix);
    p->fix[p->nfix++] = (fixup){old->st_dev, old->st_ino, prep_xstrdup(newpath)};
}

static prep_err pool_open(pool *p, const char *out, const char *store, prep_diags *d)
{
    p->dir = cut_fmt("%s.objetos", out);
    p->store = prep_xstrdup(store);
    p->lock_fd = -1;
    p->counter = 0;
    p->repaired = 0;
    char *tmp = cut_join(p->dir, "tmp");
    char *lk = cut_join(p->dir, "lock");
    prep_err e = PREP_OK;
    if (cut_mkdir(p->dir) != 0 || cut_mkdir(tmp) != 0) {
        cut_diag(d, p->dir, 0, 0, "io", "cannot create: %s", strerror(errno));
        e = PREP_ERR_IO;
    } else if ((p->lock_fd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0 ||
               flock(p->lock_fd, LOCK_EX) != 0) {
        cut_diag(d, lk, 0, 0, "io", "cannot lock the export: %s", strerror(errno));
        e = PREP_ERR_IO;
    } else {
        cut_rm_rf(tmp); /* leftovers of an interrupted export */
        if (cut_mkdir(tmp) != 0) e = PREP_ERR_IO;
    }
    free(tmp);
    free(lk);
    return e;
}

static void pool_close(pool *p)
{
    for (size_t i = 0; i < p->nfix; i++) free(p->fix[i].path);
    free(p->fix);
    if (p->lock_fd >= 0) close(p->lock_fd);
    free(p->dir);
    free(p->store);
    memset(p, 0, sizeof *p);
    p->lock_fd = -1;
}

static char *pool_tmp(pool *p) { return cut_fmt("%s/tmp/%ld.%u", p->dir, (long)getpid(), p->counter++); }

/* SHA-256 of a file into out; -1 if unreadable. */
static int hash_file(const char *path, char out[65], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    cut_sha256 h;
    if (cut_sha256_init(&h)) {
        close(fd);
        return -1;
    }
    char buf[65536];
    ssize_t n;
    uint64_t total = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        cut_sha256_update(&h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    close(fd);
    cut_sha256_final(&h, out);
    if (size) *size = total;
    return n < 0 ? -1 : 0;
}

/* The pool file of en (owned path), copied from the store if missing. verify: re-hash a
 * file already there (and replace it when it was changed). */
static char *pool_obj(pool *p, const prep_cut_entry *en, int verify, prep_diags *d, prep_err *err)
{
    *err = PREP_OK;
    char *dir = cut_fmt("%s/%.2s", p->dir, en->sha256);
    char *path = cut_fmt("%s/%s", dir, en->sha256 + 2);
    struct stat st, repaired;
    int was_repaired = 0;
    if (lstat(path, &st) == 0) {
        char got[65] = "";
        uint64_t sz = 0;
        int good = S_ISREG(st.st_mode) && (uint64_t)st.st_size == en->size &&
                   (!verify || (hash_file(path, got, &sz) == 0 && !strcmp(got, en->sha256)));
        if (good) {
            free(dir);
            return path;
        }
        cut_store_log(NULL, PREP_LOG_WARN, "export: %s (for '%s') was changed on disk; replacing it from the store",
                      path, en->path);
        p->repaired++;
        unlink(path);
        repaired = st;
        was_repaired = 1;
    }
    /* Copy from the store (a composed file: its parts, assembled in order), hashing as we go. */
    char *src = cut_fmt("%s/objects/%.2s/%s", p->store, cut_entry_obj_sha(en, 0), cut_entry_obj_sha(en, 0) + 2);
    char *tmp = pool_tmp(p);
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int out = in < 0 ? -1 : cut_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0444);
    cut_sha256 h;
    char got[65] = "";
    uint64_t total = 0;
    int ok = in >= 0 && out >= 0 && cut_sha256_init(&h) == 0;
    int wfail = 0, missing = in < 0;
    if (ok) {
        char buf[65536];
        for (size_t k = 0;;) {
            ssize_t n;
            while ((n = read(in, buf, sizeof buf)) > 0) {
                cut_sha256_update(&h, buf, (size_t)n);
                total += (uint64_t)n;
                if (total > en->size) { /* grown: damaged, and never read without bound */
                    ok = 0;
                    break;
                }
                if (cut_write_all(out, buf, (size_t)n, tmp) != 0) {
                    ok = 0;
                    wfail = 1;
                    break;
                }
            }
            if (n < 0) ok = 0;
            close(in);
            in = -1;
            if (!ok || ++k >= cut_entry_nobj(en)) break;
            free(src);
            src = cut_fmt("%s/objects/%.2s/%s", p->store, cut_entry_obj_sha(en, k), cut_entry_obj_sha(en, k) + 2);
            in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (in < 0) {
                ok = 0;
                missing = 1;
                break;
            }
        }
        cut_sha256_final(&h, got);
    }
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (wfail || (!ok && !missing && out < 0)) {
        cut_diag(d, tmp, 0, 0, "io", "cannot write: %s", strerror(errno));
        *err = PREP_ERR_IO;
    } else if (!ok || total != en->size || strcmp(got, en->sha256) != 0) {
        cut_diag(d, src, 0, 0, missing ? "missing-object" : en->n_parts ? "parts-mismatch" : "hash-mismatch",
                 "the store's object of '%s' is missing or damaged; run 'prep verify'", en->path);
        *err = PREP_ERR_VERIFY;
    } else if (cut_mkdir(dir) != 0 || cut_rename(tmp, path) != 0) {
        cut_diag(d, path, 0, 0, "io", "cannot write: %s", strerror(errno));
        *err = PREP_ERR_IO;
    }
    if (*err) {
        unlink(tmp);
        free(path);
        path = NULL;
    } else if (was_repaired) {
        pool_note_fix(p, &repaired, path);
    }
    free(src);
    free(tmp);
    free(dir);
    return path;
}

/* Decompresses a twin and checks it is the object. */
static int twin_good(const char *twin, const char *ext, const prep_cut_entry *en)
{
    char *c = NULL;
    size_t cn;
    if (cut_read_small(twin, TWIN_MAX, &c, &cn, NULL) != PREP_OK) return 0;
    unsigned char *o = malloc(en->size ? en->size : 1);
    size_t on = en->size;
    int ok = 0;
    if (o && !strcmp(ext, "gz")) {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 15 + 16) == Z_OK) {
            z.next_in = (unsigned char *)c;
            z.avail_in = (uInt)cn;
            z.next_out = o;
            z.avail_out = (uInt)on;
            ok = inflate(&z, Z_FINISH) == Z_STREAM_END && z.avail_out == 0 && z.avail_in == 0;
            inflateEnd(&z);
        }
    } else if (o) {
        ok = BrotliDecoderDecompress(cn, (const uint8_t *)c, &on, o) == BROTLI_DECODER_RESULT_SUCCESS &&
             on == en->size;
    }
    if (ok) {
        char h[65];
        prep_sha256_hex(o, (size_t)en->size, h);
        ok = !strcmp(h, en->sha256);
    }
    free(o);
    free(c);
    return ok;
}

/* The pool twin (ext "gz" or "br") of en (owned path), made from the pool object when
 * missing; NULL when the object gets no such twin (compression does not pay). */
static char *pool_twin(pool *p, const prep_cut_entry *en, const char *obj, const char *ext, int verify,
                       prep_diags *d, prep_err *err)
{
    *err = PREP_OK;
    char *path = cut_fmt("%s/%.2s/%s.%s", p->dir, en->sha256, en->sha256 + 2, ext);
    char *none = cut_fmt("%s.none", path);
    struct stat st, repaired;
    int was_repaired = 0;
    char *src = NULL, *tmp = NULL;
    unsigned char *out = NULL;
    if (lstat(path, &st) == 0) {
        if (S_ISREG(st.st_mode) && (!verify || twin_good(path, ext, en))) goto have;
        cut_store_log(NULL, PREP_LOG_WARN, "export: twin %s was changed on disk; making it again", path);
        p->repaired++;
        unlink(path);
        repaired = st;
        was_repaired = 1;
    } else if (lstat(none, &st) == 0) {
        goto no;
    }
    size_t n;
    if (cut_read_small(obj, TWIN_MAX, &src, &n, NULL) != PREP_OK || n != en->size) {
        cut_diag(d, obj, 0, 0, "io", "cannot read the exported object of '%s'", en->path);
        *err = PREP_ERR_IO;
        goto no;
    }
    size_t on = 0;
    int page = is_page(en->media_type);
    int r = !strcmp(ext, "gz")
                ? gzip_buf((unsigned char *)src, n, page ? GZIP_LEVEL_PAGE : GZIP_LEVEL_BEST, &out, &on)
                : brotli_buf((unsigned char *)src, n, page ? BROTLI_Q_PAGE : BROTLI_Q_BEST, &out, &on);
    tmp = pool_tmp(p);
    const char *dst = path;
    if (r != 0 || on >= n) { /* no gain: remember that */
        dst = none;
        on = 0;
    }
    int fd = cut_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0444);
    if (fd < 0 || cut_write_all(fd, out, on, tmp) != 0 || close(fd) != 0 || cut_rename(tmp, dst) != 0) {
        cut_diag(d, dst, 0, 0, "io", "cannot write a compressed twin: %s", strerror(errno));
        *err = PREP_ERR_IO;
        unlink(tmp);
        goto no;
    }
    if (dst == none) goto no;
    if (was_repaired) pool_note_fix(p, &repaired, path);
have:
    free(none);
    free(src);
    free(tmp);
    free(out);
    return path;
no:
    free(path);
    free(none);
    free(src);
    free(tmp);
    free(out);
    return NULL;
}

/* Copies from -> to (new file), fsynced. */
static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) return -1;
    int out = cut_open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    if (out < 0) {
        int er = errno;
        close(in);
        errno = er;
        return -1;
    }
    char buf[65536];
    ssize_t n;
    int r = 0;
    while ((n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            r = -1;
            break;
        }
        if (cut_write_all(out, buf, (size_t)n, to) != 0) {
            r = -1;
            break;
        }
    }
    if (!r) r = cut_fsync(out, to);
    int er = errno;
    close(in);
    if (close(out) != 0 && !r) {
        r = -1;
        er = errno;
    }
    errno = er;
    return r;
}

static int place(const char *from, const char *to, int copy)
{
    if (!copy) {
        if (cut_link(from, to) == 0) return 0;
        if (errno != EXDEV && errno != EPERM && errno != EMLINK) return -1;
    }
    return copy_file(from, to);
}

/* mkdir -p of the parent directories of rel under root. */
static int make_parents(const char *root, const char *rel)
{
    const char *sl = strrchr(rel, '/');
    if (!sl) return 0;
    char *p = cut_fmt("%s/%.*s", root, (int)(sl - rel), rel);
    size_t base = strlen(root) + 1;
    int r = 0;
    for (size_t i = base; p[i - 1] && !r; i++) {
        if (p[i] == '/' || p[i] == 0) {
            char c = p[i];
            p[i] = 0;
            r = cut_mkdir(p);
            p[i] = c;
            if (!c) break;
        }
    }
    free(p);
    return r;
}

/* Writes one cut's tree into dir (which exists and is empty), linking from the pool.
 * verify: re-check pool files already there (the served tree); archives skip it. */
static prep_err write_tree(pool *pl, const prep_cut_manifest *m, const char *sig, size_t siglen, const char *dir,
                           const prep_cut_export_opts *o, int verify, prep_diags *d)
{
    prep_err e = PREP_OK;
    for (size_t i = 0; i < m->n && !e; i++) {
        const prep_cut_entry *en = &m->entries[i];
        char *dst = cut_join(dir, en->path);
        char *obj = pool_obj(pl, en, verify, d, &e);
        if (!obj) {
            /* diag added */
        } else if (make_parents(dir, en->path) != 0 || place(obj, dst, o->copy) != 0) {
            cut_diag(d, dst, 0, 0, "io", "cannot write: %s", strerror(errno));
            e = PREP_ERR_IO;
        } else if (o->twins && en->size >= TWIN_MIN && en->size <= TWIN_MAX && compressible(en->media_type)) {
            static const char *exts[] = {"gz", "br"};
            for (int k = 0; k < 2 && !e; k++) {
                char *tname = cut_fmt("%s.%s", en->path, exts[k]);
                if (!prep_cut_manifest_find(m, tname)) {
                    char *tw = pool_twin(pl, en, obj, exts[k], verify, d, &e);
                    if (tw) {
                        char *tdst = cut_join(dir, tname);
                        if (place(tw, tdst, o->copy) != 0) {
                            cut_diag(d, tdst, 0, 0, "io", "cannot write: %s", strerror(errno));
                            e = PREP_ERR_IO;
                        }
                        free(tdst);
                        free(tw);
                    }
                }
                free(tname);
            }
        }
        free(dst);
        free(obj);
    }
    if (!e) {
        char *sp = cut_join(dir, CUT_SUMS_NAME), *gp = cut_join(dir, CUT_SIG_NAME);
        if (cut_write_atomic(sp, m->raw, m->raw_len, 0444) != 0 || cut_write_atomic(gp, sig, siglen, 0444) != 0) {
            cut_diag(d, dir, 0, 0, "io", "cannot write the manifest: %s", strerror(errno));
            e = PREP_ERR_IO;
        }
        free(sp);
        free(gp);
    }
    if (!e && cut_fsync_dir(dir) != 0) {
        cut_diag(d, dir, 0, 0, "io", "cannot fsync: %s", strerror(errno));
        e = PREP_ERR_IO;
    }
    return e;
}

/* A directory we may replace: a previous export (has SHA256SUMS) or empty. */
static int replaceable(const char *out)
{
    char *p = cut_join(out, CUT_SUMS_NAME);
    struct stat st;
    int ok = lstat(p, &st) == 0;
    free(p);
    if (ok) return 1;
    DIR *dp = opendir(out);
    if (!dp) return 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(dp)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(dp);
    return empty;
}

/* Older archive trees still link the inodes of pool files found changed: relink them. */
static pool *g_fix_pool;
static int fix_cb(const char *fp, const struct stat *st, int flag, struct FTW *f)
{
    (void)f;
    if (flag != FTW_F || !S_ISREG(st->st_mode)) return 0;
    for (size_t i = 0; i < g_fix_pool->nfix; i++) {
        const fixup *x = &g_fix_pool->fix[i];
        if (x->dev != st->st_dev || x->ino != st->st_ino) continue;
        char *tmp = cut_fmt("%s.fix-%ld", fp, (long)getpid());
        int ok = link(x->path, tmp) == 0 && rename(tmp, fp) == 0;
        if (!ok) unlink(tmp);
        free(tmp);
        return ok ? 0 : -1;
    }
    return 0;
}

static prep_err archive_fixups(pool *pl, const char *arch, prep_diags *d)
{
    if (!pl->nfix) return PREP_OK;
    struct stat st;
    if (lstat(arch, &st) != 0) return PREP_OK;
    g_fix_pool = pl;
    int r = nftw(arch, fix_cb, 16, FTW_PHYS);
    g_fix_pool = NULL;
    if (r != 0) {
        cut_diag(d, arch, 0, 0, "io", "cannot relink a repaired file in the archive: %s", strerror(errno));
        return PREP_ERR_IO;
    }
    return PREP_OK;
}

static prep_err archive_cut(pool *pl, uint64_t seq, const char *arch, const prep_cut_export_opts *o,
                            prep_diags *d)
{
    char *final = cut_fmt("%s/%llu", arch, (unsigned long long)seq);
    struct stat st;
    if (lstat(final, &st) == 0) { /* written once, never changed */
        free(final);
        return PREP_OK;
    }
    prep_cut_manifest m;
    char *sig = NULL;
    size_t sl = 0;
    prep_err e = cut_store_read_cut(pl->store, seq, NULL, &m, &sig, &sl, d);
    if (e) {
        free(final);
        return e;
    }
    char *tmp = cut_fmt("%s/.tmp-%llu-%ld", arch, (unsigned long long)seq, (long)getpid());
    cut_rm_rf(tmp);
    if (cut_mkdir(tmp) != 0) {
        cut_diag(d, tmp, 0, 0, "io", "cannot create: %s", strerror(errno));
        e = PREP_ERR_IO;
    }
    if (!e) e = write_tree(pl, &m, sig, sl, tmp, o, 0, d);
    if (!e && cut_rename(tmp, final) != 0) {
        cut_diag(d, final, 0, 0, "io", "cannot rename: %s", strerror(errno));
        e = PREP_ERR_IO;
    }
    if (e) cut_rm_rf(tmp);
    prep_cut_manifest_free(&m);
    free(sig);
    free(tmp);
    free(final);
    return e;
}

/* ---------------------------------------------------------------- link mode
 * OUT -> BASE.sitios/<seq> (relative symlink), OUT.sitios/<seq>/ one tree per cut,
 * OUT.sitios/corte.map "corte <seq>" for Apache's RewriteMap (docs/apache.md). */
#define MAP_NAME "corte.map"

static int parse_tree_name(const char *name, uint64_t *seq)
{
    if (!*name || strlen(name) > 12) return 0;
    uint64_t v = 0;
    for (const char *c = name; *c; c++) {
        if (*c < '0' || *c > '9') return 0;
        v = v * 10 + (uint64_t)(*c - '0');
    }
    if (name[0] == '0' || v == 0) return 0;
    *seq = v;
    return 1;
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Removes leftovers of interrupted exports (we hold the pool lock: no other export of
 * this OUT runs) and every tree but cur and the keep highest others. */
static void prune_trees(const char *sites, uint64_t cur, unsigned keep, size_t *removed)
{
    DIR *dp = opendir(sites);
    if (!dp) return;
    uint64_t *seqs = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        uint64_t v;
        if (!strncmp(de->d_name, ".tmp-", 5)) {
            char *p = cut_join(sites, de->d_name);
            cut_rm_rf(p);
            free(p);
        } else if (parse_tree_name(de->d_name, &v) && v != cur && n < PREP_CUT_INCOMING_MAX) {
            seqs = prep_xrealloc(seqs, (n + 1) * sizeof *seqs);
            seqs[n++] = v;
        }
    }
    closedir(dp);
    qsort(seqs, n, sizeof *seqs, cmp_desc);
    for (size_t i = keep; i < n; i++) {
        char *p = cut_fmt("%s/%llu", sites, (unsigned long long)seqs[i]);
        if (cut_rm_rf(p) == 0) (*removed)++;
        else cut_store_log(NULL, PREP_LOG_WARN, "export: cannot remove the old tree %s: %s", p, strerror(errno));
        free(p);
    }
    free(seqs);
}

/* Puts the finished tree tmp in place as sites/<seq>, points out at it and writes the
 * map. out is absent, a symlink, or a previous plain export (exchanged, then removed). */
static prep_err link_switch(const char *out, const char *base, const char *parent, const char *sites,
                            const char *tmp, uint64_t seq, unsigned keep, prep_diags *d)
{
    char *final = cut_fmt("%s/%llu", sites, (unsigned long long)seq);
    char *target = cut_fmt("%s.sitios/%llu", base, (unsigned long long)seq);
    char *ltmp = cut_fmt("%s.tmp-link-%ld", out, (long)getpid());
    char *map = cut_join(sites, MAP_NAME);
    char *line = cut_fmt("# prep export --link: the cut OUT points at (Apache RewriteMap txt)\ncorte %llu\n",
                         (unsigned long long)seq);
    prep_err e = PREP_OK;
    struct stat st;
    /* 1. the tree: a rebuilt tree of the same cut replaces the old one in one exchange. */
    if (lstat(final, &st) != 0) {
        if (cut_rename(tmp, final) != 0) {
            cut_diag(d, final, 0, 0, "io", "cannot rename into place: %s", strerror(errno));
            e = PREP_ERR_IO;
        }
    } else if (cut_hook("rename", final) != 0 ||
               renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) != 0) {
        cut_diag(d, final, 0, 0, "io", "cannot swap the rebuilt tree in: %s", strerror(errno));
        e = PREP_ERR_IO;
    } /* else tmp holds the previous tree of this cut; the caller removes it */
    if (!e && cut_fsync_dir(sites) != 0) e = PREP_ERR_IO;
    /* 2. the link: a new symlink renamed over the old one (rename(2) is atomic). */
    if (!e) {
        unlink(ltmp);
        if (symlink(target, ltmp) != 0) {
            cut_diag(d, ltmp, 0, 0, "io", "cannot create the link: %s", strerror(errno));
            e = PREP_ERR_IO;
        } else if (lstat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
            /* A previous plain export: exchange, then remove the old directory. */
            if (cut_hook("rename", out) != 0 || renameat2(AT_FDCWD, ltmp, AT_FDCWD, out, RENAME_EXCHANGE) != 0) {
                cut_diag(d, out, 0, 0, "io", "cannot swap the link in: %s", strerror(errno));
                e = PREP_ERR_IO;
            } else if (cut_rm_rf(ltmp) != 0) {
                cut_store_log(NULL, PREP_LOG_WARN, "export: cannot remove the previous export %s", ltmp);
            }
        } else if (cut_rename(ltmp, out) != 0) {
            cut_diag(d, out, 0, 0, "io", "cannot switch the link: %s", strerror(errno));
            e = PREP_ERR_IO;
        }
        if (e) unlink(ltmp);
    }
    if (!e && cut_fsync_dir(parent) != 0) {
        cut_diag(d, parent, 0, 0, "io", "cannot fsync: %s", strerror(errno));
        e = PREP_ERR_IO;
    }
    /* 3. the map Apache reads (re-read by mod_rewrite when its mtime changes). */
    if (!e && cut_write_atomic(map, line, strlen(line), 0444) != 0) {
        cut_diag(d, map, 0, 0, "io", "cannot write: %s", strerror(errno));
        e = PREP_ERR_IO;
    }
    if (!e) {
        size_t removed = 0;
        prune_trees(sites, seq, keep, &removed);
        if (removed)
            cut_store_log(NULL, PREP_LOG_INFO, "export: %zu old cut trees removed from %s (kept %u)", removed, sites,
                          keep);
    }
    free(final);
    free(target);
    free(ltmp);
    free(map);
    free(line);
    return e;
}

prep_err prep_cut_export(const char *store, const char *out_in, const prep_cut_export_opts *o, prep_diags *d)
{
    prep_cut_export_opts def;
    if (!o) {
        prep_cut_export_opts_init(&def);
        o = &def;
    }
    char *out = prep_xstrdup(out_in);
    size_t ol = strlen(out);
    while (ol > 1 && out[ol - 1] == '/') out[--ol] = 0;
    const char *bs = strrchr(out, '/');
    const char *base = bs ? bs + 1 : out;
    char *parent = bs ? (bs == out ? prep_xstrdup("/") : prep_xstrndup(out, (size_t)(bs - out))) : prep_xstrdup(".");
    char *tmp = cut_fmt("%s.tmp-%ld", out, (long)getpid());
    char *arch = cut_fmt("%s.cortes", out);
    char *sites = cut_fmt("%s.sitios", out);
    prep_cut_manifest m = {0};
    char *sig = NULL;
    size_t sl = 0;
    uint64_t *seqs = NULL;
    size_t ns = 0;
    pool pl = {.lock_fd = -1};
    prep_err e = PREP_OK;
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
        cut_diag(d, out_in, 0, 0, "usage", "--out must name a directory to create or replace");
        e = PREP_ERR_USAGE;
        goto out;
    }
    /* The store is only read (no lock: its cuts and objects never change once there). */
    struct stat st;
    char *od = cut_join(store, "objects");
    int is_store = lstat(od, &st) == 0 && S_ISDIR(st.st_mode);
    free(od);
    if (!is_store) {
        cut_diag(d, store, 0, 0, "not-found", "not a prep store");
        e = PREP_ERR_NOTFOUND;
        goto out;
    }
    uint64_t seq = o->seq;
    if (!seq) {
        prep_cut_active a;
        e = cut_active_read_path(store, &a, d);
        if (e == PREP_ERR_NOTFOUND) cut_diag(d, store, 0, 0, "not-found", "the store has no active cut");
        if (e) goto out;
        seq = a.seq;
    }
    if ((e = cut_store_read_cut(store, seq, NULL, &m, &sig, &sl, d))) goto out;
    if (o->link && o->keep > PREP_CUT_EXPORT_KEEP_MAX) {
        cut_diag(d, out_in, 0, 0, "usage", "keep %u trees: at most %u", o->keep, PREP_CUT_EXPORT_KEEP_MAX);
        e = PREP_ERR_USAGE;
        goto out;
    }
    if (lstat(out, &st) == 0 && !(o->link && S_ISLNK(st.st_mode)) && (!S_ISDIR(st.st_mode) || !replaceable(out))) {
        cut_diag(d, out, 0, 0, "exists",
                 o->link ? "refusing to replace: not a symbolic link, not a previous prep export and not empty"
                         : "refusing to replace: not a previous prep export and not empty");
        e = PREP_ERR_INVALID;
        goto out;
    }
    if ((e = pool_open(&pl, out, store, d))) goto out;
    if (o->link) {
        if (cut_mkdir(sites) != 0) {
            cut_diag(d, sites, 0, 0, "io", "cannot create: %s", strerror(errno));
            e = PREP_ERR_IO;
            goto out;
        }
        free(tmp);
        tmp = cut_fmt("%s/.tmp-%llu-%ld", sites, (unsigned long long)seq, (long)getpid());
    }
    cut_rm_rf(tmp);
    if (cut_mkdir(tmp) != 0) {
        cut_diag(d, tmp, 0, 0, "io", "cannot create: %s", strerror(errno));
        e = PREP_ERR_IO;
        goto out;
    }
    if ((e = write_tree(&pl, &m, sig, sl, tmp, o, 1, d))) goto out;
    if (o->archive) {
        if (cut_mkdir(arch) != 0) {
            cut_diag(d, arch, 0, 0, "io", "cannot create: %s", strerror(errno));
            e = PREP_ERR_IO;
            goto out;
        }
        if ((e = cut_store_list(store, &seqs, &ns, d))) goto out;
        for (size_t i = 0; i < ns && !e; i++)
            if (seqs[i] <= seq) e = archive_cut(&pl, seqs[i], arch, o, d);
        if (!e) e = archive_fixups(&pl, arch, d);
        if (e) goto out;
        /* OUT/cortes -> ../BASE.cortes; a tree of the link mode is one level deeper. */
        char *link_to = cut_fmt(o->link ? "../../%s.cortes" : "../%s.cortes", base);
        char *lp = cut_join(tmp, "cortes");
        int r = symlink(link_to, lp);
        free(link_to);
        free(lp);
        if (r != 0) {
            cut_diag(d, tmp, 0, 0, "io", "cannot link cortes/: %s", strerror(errno));
            e = PREP_ERR_IO;
            goto out;
        }
        if (cut_fsync_dir(arch) != 0) {
            e = PREP_ERR_IO;
            goto out;
        }
    }
    if (cut_fsync_dir(tmp) != 0) {
        e = PREP_ERR_IO;
        goto out;
    }
    if (o->link) {
        /* The kept trees of earlier cuts may link a pool file found changed: relink them too. */
        if ((e = archive_fixups(&pl, sites, d))) goto out;
        if ((e = link_switch(out, base, parent, sites, tmp, seq, o->keep, d))) goto out;
    } else if (lstat(out, &st) != 0) {
        if (cut_rename(tmp, out) != 0) {
            cut_diag(d, out, 0, 0, "io", "cannot rename into place: %s", strerror(errno));
            e = PREP_ERR_IO;
            goto out;
        }
    } else {
        if (cut_hook("rename", out) != 0 || renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) != 0) {
            cut_diag(d, out, 0, 0, "io", "cannot swap the new export in: %s", strerror(errno));
            e = PREP_ERR_IO;
            goto out;
        }
        /* tmp now holds the previous export. */
    }
    if (cut_fsync_dir(parent) != 0) {
        e = PREP_ERR_IO;
        goto out;
    }
    cut_store_log(NULL, PREP_LOG_INFO, "cut %llu exported to %s (%zu files)", (unsigned long long)seq, out, m.n);
out:
    if (!e && pl.repaired)
        cut_store_log(NULL, PREP_LOG_WARN, "export: %zu exported files had been changed on disk and were replaced",
                      pl.repaired);
    if (tmp) cut_rm_rf(tmp);
    pool_close(&pl);
    prep_cut_manifest_free(&m);
    free(sig);
    free(seqs);
    free(out);
    free(parent);
    free(tmp);
    free(arch);
    free(sites);
    return e;
}

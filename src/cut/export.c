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
#include <signal.h>
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

/* An I/O failure named where it happened, from errno (kept): "no space left on device
 * (or no free inode) while writing PATH", else "<the system's message> while VERB PATH". */
static int g_nospace; /* an export step failed for want of space or inodes */

static prep_err io_diag(prep_diags *d, const char *path, const char *verb)
{
    int er = errno;
    if (er == ENOSPC || er == EDQUOT) g_nospace = 1;
    if (er == ENOSPC)
        prep_diags_add(d, path, 0, 0, "io", "no space left on device (or no free inode) while %s %s", verb, path);
    else if (er == EDQUOT)
        prep_diags_add(d, path, 0, 0, "io", "disk quota exceeded while %s %s", verb, path);
    else
        prep_diags_add(d, path, 0, 0, "io", "%s while %s %s", strerror(er), verb, path);
    errno = er;
    return PREP_ERR_IO;
}

#define TWIN_MIN 256                  /* smaller files are not worth a twin */
#define TWIN_MAX ((size_t)64 << 20)   /* larger files get no twin (memory bound) */

void prep_cut_export_opts_init(prep_cut_export_opts *o)
{
    memset(o, 0, sizeof *o);
    o->twins = 1;
    o->archive = 1;
    o->keep = PREP_CUT_EXPORT_KEEP;
    o->archive_full = PREP_CUT_EXPORT_ARCHIVE_FULL;
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
/* JSON data is new on every cut too (corte.json, and the night's progress series
 * avance/<id>.json, which grows all night): the page settings. A 288-point series of 21 KB
 * took 0.029 CPU s at brotli 11 and 0.002 s at 5 (3.1 KB vs 4.9 KB); three of them a
 * cut held a drill at one cut a second (integ/night_288) several cuts behind. */
static int is_per_cut_json(const char *type) { return !strncmp(type, "application/json", 16); }
#define GZIP_LEVEL_PAGE 6
#define GZIP_LEVEL_BEST 9
#define BROTLI_Q_PAGE 5
#define BROTLI_Q_BEST 11
/* Larger plain files (the database CSVs, new on every cut, up to megabytes by the end of
 * the night) get quality 6: 1.06 MB of CSV took 1.44 s at quality 11 and 0.03 s at 6,
 * for 16 % more bytes (282.7 KB vs 244.0 KB). */
#define BROTLI_BEST_MAX ((size_t)128 << 10)
#define BROTLI_Q_LARGE 6
/* And gzip level 6 for them: at level 9 the three CSVs of a cut at 21:00 (1.9 MB) took
 * 0.16 CPU s, at 6 0.03 s, for 12 % more bytes (192.7 KB vs 171.8 KB) sent only to
 * clients without brotli; the CSVs grow all night, and so would the cost. */
#define GZIP_LEVEL_LARGE 6

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
    if (prep_cut_brotli(quality, 22, in, n, *out, outn) != 0) {
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
    long pid;
    int dirty;                 /* files or links made since the last syncfs */
    char (*cand)[65];          /* SHA-256 of the files of cuts thinned by this export: */
    size_t ncand;              /* the only pool files that may have lost their last tree */
    int cand_lost;             /* some could not be named: scan the whole pool */
    char (*dcand)[65];         /* the parts of those cuts (their .dfl chunks) */
    size_t ndcand, capdcand;
    unsigned char aa_made[256]; /* OUT.objetos/aa directories known to exist */
    const prep_cut_export_opts *direct; /* set: composed pages live in the trees, not here */
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
    p->pid = (long)getpid();
    p->dirty = 0;
    memset(p->aa_made, 0, sizeof p->aa_made);
    char *tmp = cut_join(p->dir, "tmp");
    char *lk = cut_join(p->dir, "lock");
    prep_err e = PREP_OK;
    if (cut_mkdir(p->dir) != 0 || cut_mkdir(tmp) != 0) {
        e = io_diag(d, p->dir, "creating");
    } else if ((p->lock_fd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0 ||
               flock(p->lock_fd, LOCK_EX) != 0) {
        e = io_diag(d, lk, "locking");
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
    free(p->cand);
    free(p->dcand);
    if (p->lock_fd >= 0) close(p->lock_fd);
    free(p->dir);
    free(p->store);
    memset(p, 0, sizeof *p);
    p->lock_fd = -1;
}

static char *pool_tmp(pool *p) { return cut_fmt("%s/tmp/%ld.%u", p->dir, p->pid, p->counter++); }

/* SHA-256 of a file into out; -1 if unreadable. */
static int hash_file(const char *path, char out[65], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    uint64_t total = 0;
    int er = cut_fd_sha256(fd, UINT64_MAX, out, &total);
    close(fd);
    if (size) *size = total;
    return er ? -1 : 0;
}

/* The pool file of en (owned path), copied from the store if missing. verify: re-hash a
 * file already there (and replace it when it was changed). */
static char *pool_obj(pool *p, const prep_cut_entry *en, int verify, prep_diags *d, prep_err *err)
{
    *err = PREP_OK;
    char *dir = cut_fmt("%s/%.2s", p->dir, en->sha256);
    char *path = cut_fmt("%s/%s", dir, en->sha256 + 2);
    struct stat st, repaired = {0};
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
        *err = io_diag(d, tmp, "writing");
    } else if (!ok || total != en->size || strcmp(got, en->sha256) != 0) {
        prep_diags_add(d, src, 0, 0, missing ? "missing-object" : en->n_parts ? "parts-mismatch" : "hash-mismatch",
                 "the store's object of '%s' is missing or damaged; run 'prep verify'", en->path);
        *err = PREP_ERR_VERIFY;
    } else if (cut_mkdir(dir) != 0 || cut_rename(tmp, path) != 0) {
        *err = io_diag(d, path, "writing");
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
    struct stat st, repaired = {0};
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
        prep_diags_add(d, obj, 0, 0, "io", "cannot read the exported object of '%s'", en->path);
        *err = PREP_ERR_IO;
        goto no;
    }
    size_t on = 0;
    int page = is_page(en->media_type) || is_per_cut_json(en->media_type);
    int r = !strcmp(ext, "gz")
                ? gzip_buf((unsigned char *)src, n,
                           page ? GZIP_LEVEL_PAGE : n > BROTLI_BEST_MAX ? GZIP_LEVEL_LARGE : GZIP_LEVEL_BEST, &out, &on)
                : brotli_buf((unsigned char *)src, n,
                             page ? BROTLI_Q_PAGE : n > BROTLI_BEST_MAX ? BROTLI_Q_LARGE : BROTLI_Q_BEST, &out, &on);
    tmp = pool_tmp(p);
    const char *dst = path;
    if (r != 0 || on >= n) { /* no gain: remember that */
        dst = none;
        on = 0;
    }
    int fd = cut_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0444);
    if (fd < 0 || cut_write_all(fd, out, on, tmp) != 0 || close(fd) != 0 || cut_rename(tmp, dst) != 0) {
        *err = io_diag(d, dst, "writing");
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

/* ---------------------------------------------------------------- composed pages
 * A page is pre|body|post|stamp (docs/formats/site.md): a new object on every cut (its
 * stamp is new) whose body changes only when the tally changed it. Its twins:
 *
 * .gz — made of per-part deflate chunks kept in the pool as OUT.objetos/aa/bbbb....dfl
 *   (keyed by the part's SHA-256): each part compressed on its own (raw deflate,
 *   Z_SYNC_FLUSH, so it ends byte-aligned and not final), and the page's gzip member is
 *   a 10-byte header, the chunks in order, an empty final block (03 00), the CRC-32 of
 *   the page (the parts' CRCs combined with crc32_combine) and its size. A chunk only
 *   refers back into its own part, so the concatenation inflates to the page. A new cut
 *   compresses only its new parts (the stamp, the bodies that changed).
 * .br — brotli streams cannot be concatenated (Debian's 1.0.9), and a page compressed
 *   whole at quality 5 costs more CPU than everything else together while saving only
 *   7.6 % over gzip (Querétaro: 44.6 MB br q5 vs 48.3 MB gzip for 15,056 pages); below
 *   quality 4 brotli is larger than gzip. So only the most visited pages — at most
 *   PAGE_BR_DEPTH slashes in their path: the home, election, district and municipality
 *   pages (80 of 15,056) — get a .br (quality 5); the section pages are served in gzip.
 *
 * A chunk file: "prepdfl1", raw size (u64 LE), raw CRC-32 (u32 LE), CRC-32 of the
 * deflate bytes (u32 LE), deflate length (u64 LE), the deflate bytes. It is used only
 * when its lengths and deflate CRC check and its raw CRC is the CRC of the part's bytes
 * just read from the store (or of the same bytes earlier in this export). */
#define PAGE_BR_DEPTH 2
#define DFL_MAGIC "prepdfl1"
#define DFL_HEAD 32
#define PCACHE_MAX_BYTES ((size_t)128 << 20) /* memory for parts shared by several pages */
#define PCACHE_RAW_MAX ((size_t)64 << 10)    /* a shared part's bytes are kept up to this size */

static int page_wants_br(const prep_cut_entry *en)
{
    int slashes = 0;
    for (const char *c = en->path; *c; c++) slashes += *c == '/';
    return slashes <= PAGE_BR_DEPTH;
}

/* A twinned composed entry (the new path); other entries take pool_obj/pool_twin. */
static int is_composed_page(const prep_cut_export_opts *o, const prep_cut_entry *en)
{
    return o->twins && en->n_parts >= 2 && en->size >= TWIN_MIN && en->size <= TWIN_MAX &&
           compressible(en->media_type);
}

typedef struct pcache_ent {
    char sha[65]; /* "" = free slot */
    uint32_t left; /* uses still to come in this tree */
    int have_crc;
    uint32_t crc;
    unsigned char *raw; /* owned, or NULL */
    unsigned char *dfl; /* owned, or NULL */
    size_t dfl_n;
} pcache_ent;

typedef struct pcache {
    pcache_ent *v;
    size_t cap; /* power of two */
    size_t bytes;
} pcache;

static size_t pc_hash(const char *sha)
{
    size_t h = 0;
    for (int i = 0; i < 16; i++) h = h * 16 + (size_t)(sha[i] <= '9' ? sha[i] - '0' : (sha[i] | 32) - 'a' + 10);
    return h;
}

static pcache_ent *pc_find(pcache *c, const char *sha, int insert)
{
    if (!c->cap) return NULL;
    for (size_t i = pc_hash(sha) & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        pcache_ent *e = &c->v[i];
        if (!e->sha[0]) {
            if (!insert) return NULL;
            memcpy(e->sha, sha, 65);
            return e;
        }
        if (!memcmp(e->sha, sha, 64)) return e;
    }
}

/* Counts the uses of each part by the composed pages of m. */
static void pc_init(pcache *c, const prep_cut_manifest *m, const prep_cut_export_opts *o)
{
    memset(c, 0, sizeof *c);
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++)
        if (is_composed_page(o, &m->entries[i])) n += m->entries[i].n_parts;
    if (!n) return;
    c->cap = 16;
    while (c->cap < 2 * n) c->cap *= 2;
    c->v = prep_xcalloc(c->cap, sizeof *c->v);
    for (size_t i = 0; i < m->n; i++) {
        const prep_cut_entry *en = &m->entries[i];
        if (!is_composed_page(o, en)) continue;
        for (size_t k = 0; k < en->n_parts; k++) pc_find(c, en->parts[k].sha256, 1)->left++;
    }
}

static void pc_drop(pcache_ent *e)
{
    free(e->raw);
    free(e->dfl);
    e->raw = e->dfl = NULL;
}

static void pc_free(pcache *c)
{
    for (size_t i = 0; i < c->cap; i++) pc_drop(&c->v[i]);
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* Reads exactly part->size bytes of the store's object into dst: 0; -1 missing; -2 of
 * another size (errno kept for -1). */
static int part_read(const pool *p, const prep_cut_part *pt, unsigned char *dst)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", p->store, pt->sha256, pt->sha256 + 2);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    uint64_t got = 0;
    int r = 0;
    while (got < pt->size) {
        size_t want = pt->size - got > (1u << 30) ? (1u << 30) : (size_t)(pt->size - got);
        ssize_t n = read(fd, dst + got, want);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            r = -2;
            break;
        }
        got += (uint64_t)n;
    }
    if (!r) { /* one byte more would be a grown object */
        char extra;
        ssize_t n;
        do n = read(fd, &extra, 1);
        while (n < 0 && errno == EINTR);
        if (n != 0) r = -2;
    }
    close(fd);
    return r;
}

static void put_le32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static void put_le64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t get_le64(const unsigned char *b)
{
    return (uint64_t)get_le32(b) | (uint64_t)get_le32(b + 4) << 32;
}

static uint32_t crc_of(const unsigned char *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}


/* Writes n bytes as the new pool file final (temporary name, then rename). */
static int pool_put(pool *p, const char *final, const void *data, size_t n)
{
    char *tmp = pool_tmp(p);
    int fd = cut_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0444);
    int r = fd < 0 || cut_write_all(fd, data, n, tmp) != 0 ? -1 : 0;
    if (fd >= 0 && close(fd) != 0) r = -1;
    if (!r) r = cut_rename(tmp, final);
    if (r) {
        int er = errno;
        unlink(tmp);
        errno = er;
    }
    p->dirty = 1;
    free(tmp);
    return r;
}

/* Makes sure OUT.objetos/<first two hex of sha> exists. */
static int pool_aa(pool *p, const char *sha)
{
    unsigned v = (unsigned)(pc_hash(sha) >> (4 * 14)) & 0xff; /* the first two hex digits */
    if (p->aa_made[v]) return 0;
    char *dir = cut_fmt("%s/%.2s", p->dir, sha);
    int r = cut_mkdir(dir);
    free(dir);
    if (!r) p->aa_made[v] = 1;
    return r;
}

/* The deflate chunk of part pt whose bytes are raw (crc: their CRC-32): from the cache
 * entry ce (may be NULL), else the pool's .dfl file, else compressed now and kept there.
 * *dfl is borrowed from ce when *owned is 0. -1: cannot write (errno). */
static int chunk_get(pool *p, pcache *c, pcache_ent *ce, const prep_cut_part *pt, const unsigned char *raw,
                     uint32_t crc, unsigned char **dfl, size_t *n, int *owned)
{
    *owned = 0;
    if (ce && ce->dfl) {
        *dfl = ce->dfl;
        *n = ce->dfl_n;
        return 0;
    }
    unsigned char *got = NULL;
    size_t gn = 0;
    char *path = cut_fmt("%s/%.2s/%s.dfl", p->dir, pt->sha256, pt->sha256 + 2);
    char *file = NULL;
    size_t fn = 0;
    if (cut_read_small(path, DFL_HEAD + (size_t)pt->size + (size_t)pt->size / 8 + 1024, &file, &fn, NULL) ==
            PREP_OK &&
        fn >= DFL_HEAD) {
        const unsigned char *h = (const unsigned char *)file;
        uint64_t dn = get_le64(h + 24);
        if (!memcmp(h, DFL_MAGIC, 8) && get_le64(h + 8) == pt->size && get_le32(h + 16) == crc &&
            dn == fn - DFL_HEAD && get_le32(h + 20) == crc_of(h + DFL_HEAD, (size_t)dn)) {
            got = malloc(dn ? (size_t)dn : 1);
            if (got) {
                memcpy(got, h + DFL_HEAD, (size_t)dn);
                gn = (size_t)dn;
            }
        }
    }
    free(file);
    int r = 0;
    if (!got) {
        if (prep_cut_gz_chunk(NULL, raw, (size_t)pt->size, &got, &gn) != 0) {
            free(path);
            errno = ENOMEM;
            return -1;
        }
        unsigned char *f = malloc(DFL_HEAD + gn);
        if (!f) {
            r = -1;
            errno = ENOMEM;
        } else {
            memcpy(f, DFL_MAGIC, 8);
            put_le64(f + 8, pt->size);
            put_le32(f + 16, crc);
            put_le32(f + 20, crc_of(got, gn));
            put_le64(f + 24, gn);
            memcpy(f + DFL_HEAD, got, gn);
            unlink(path); /* a damaged one */
            r = pool_aa(p, pt->sha256) != 0 || pool_put(p, path, f, DFL_HEAD + gn) != 0 ? -1 : 0;
            free(f);
        }
    }
    free(path);
    if (r) {
        free(got);
        return -1;
    }
    if (ce && ce->left > 0 && c->bytes + gn <= PCACHE_MAX_BYTES) {
        ce->dfl = got;
        ce->dfl_n = gn;
        c->bytes += gn;
        *dfl = got;
        *n = gn;
        return 0;
    }
    *dfl = got;
    *n = gn;
    *owned = 1;
    return 0;
}

/* An existing pool file at path: 1 if usable (regular; of size want unless want is
 * UINT64_MAX; check(path) when given), 0 if absent, -1 if present but bad (removed;
 * its stat in *old for the archive's relinking). */
static int pool_have(pool *p, const char *path, uint64_t want, int verify, const prep_cut_entry *en, const char *ext,
                     int in_tree, struct stat *old)
{
    if (lstat(path, old) != 0) return 0;
    int good = S_ISREG(old->st_mode) && (want == UINT64_MAX || (uint64_t)old->st_size == want);
    if (good && verify) {
        if (!ext) {
            char got[65] = "";
            good = hash_file(path, got, NULL) == 0 && !strcmp(got, en->sha256);
        } else {
            good = twin_good(path, ext, en);
        }
    }
    if (good) return 1;
    cut_store_log(NULL, PREP_LOG_WARN, "export: %s (for '%s') was changed on disk; making it again", path, en->path);
    p->repaired++;
    if (!in_tree) unlink(path); /* a served file is replaced by a rename, never removed */
    return -1;
}

/* Writes n bytes as a new file at path in a tree being built (invisible until the tree is
 * renamed into place after pool_sync: a kill leaves a .tmp- tree the next export
 * removes), so no temporary name is needed. */
static int tree_put(pool *p, const char *path, const void *data, size_t n)
{
    int fd = cut_open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0444);
    int r = fd < 0 || cut_write_all(fd, data, n, path) != 0 ? -1 : 0;
    if (fd >= 0 && close(fd) != 0) r = -1;
    p->dirty = 1;
    return r;
}

/* The pool files of a composed page: *obj always, *gz / *br when the page gets that twin
 * (else NULL). All owned. want_gz/want_br: the twin's name is free in the manifest.
 *
 * tree (direct mode): the page's path in the one tree that holds it (link mode's archived
 * cut); the page and its twins are written there instead of the pool, and *obj etc. name
 * them. A page is a new object on every cut (its stamp), linked by exactly one tree, so a
 * pool copy bought nothing but a temporary name, a rename, a link per file and the GC's
 * lstat and unlink of it once the cut leaves the window. fresh: the tree is being built
 * (its files do not exist yet: nothing to look at); otherwise the tree is served and a
 * damaged file is replaced by a rename over it. */
/* Where a file goes: straight to its name in a fresh tree; else a temporary name and a
 * rename (a pool file, or a damaged served one replaced). 0, or -1 with errno. */
static int page_put(pool *p, int in_tree, int fresh, const char *path, const void *data, size_t n)
{
    return in_tree && fresh ? tree_put(p, path, data, n) : pool_put(p, path, data, n);
}

/* Assembles page (en->size bytes) from en's parts, cached in c or read from the store, with
 * each part's CRC-32 in crcs; checks the size and SHA-256 against en, then keeps the parts
 * later pages share in c. PREP_ERR_VERIFY (a diag naming the object) when they do not. */
static prep_err page_assemble(pool *p, pcache *c, const prep_cut_entry *en, unsigned char *page, uint32_t *crcs,
                              prep_diags *d)
{
    prep_err e = PREP_OK;
    uint64_t off = 0;
    for (size_t k = 0; k < en->n_parts && !e; k++) {
        const prep_cut_part *pt = &en->parts[k];
        pcache_ent *ce = pc_find(c, pt->sha256, 0);
        if (off + pt->size > en->size) {
            e = PREP_ERR_VERIFY;
            break;
        }
        if (ce && ce->raw) {
            memcpy(page + off, ce->raw, (size_t)pt->size);
        } else {
            int r = part_read(p, pt, page + off);
            if (r) {
                char *src = cut_fmt("%s/objects/%.2s/%s", p->store, pt->sha256, pt->sha256 + 2);
                prep_diags_add(d, src, 0, 0, r == -1 ? "missing-object" : "parts-mismatch",
                         "the store's object of '%s' is missing or damaged; run 'prep verify'", en->path);
                free(src);
                e = PREP_ERR_VERIFY;
                break;
            }
        }
        crcs[k] = ce && ce->have_crc ? ce->crc : crc_of(page + off, (size_t)pt->size);
        off += pt->size;
    }
    if (!e) {
        char h[65];
        prep_sha256_hex(page, (size_t)en->size, h);
        if (off != en->size || strcmp(h, en->sha256) != 0) {
            prep_diags_add(d, en->path, 0, 0, "parts-mismatch",
                     "the store's parts of '%s' do not assemble to its size and SHA-256; run 'prep verify'", en->path);
            e = PREP_ERR_VERIFY;
        }
    }
    if (e) return e;
    /* The parts are proven: remember shared ones for the pages still to come. */
    off = 0;
    for (size_t k = 0; k < en->n_parts; k++) {
        const prep_cut_part *pt = &en->parts[k];
        pcache_ent *ce = pc_find(c, pt->sha256, 0);
        if (ce) {
            ce->crc = crcs[k];
            ce->have_crc = 1;
            if (!ce->raw && ce->left > 1 && pt->size <= PCACHE_RAW_MAX && c->bytes + pt->size <= PCACHE_MAX_BYTES &&
                (ce->raw = malloc(pt->size ? (size_t)pt->size : 1))) {
                memcpy(ce->raw, page + off, (size_t)pt->size);
                c->bytes += (size_t)pt->size;
            }
        }
        off += pt->size;
    }
    return PREP_OK;
}

/* The gzip twin tw0 of page from its parts' deflate chunks (kept in c or the pool), or its
 * ".none" marker (pool only) when gzip does not make it smaller. */
static prep_err page_gz(pool *p, pcache *c, const prep_cut_entry *en, const unsigned char *page,
                        const uint32_t *crcs, int in_tree, int fresh, const char *tw0, int have_tw0,
                        const struct stat *old_tw0, int *none0, prep_diags *d)
{
    unsigned char *dfl[PREP_CUT_PARTS_MAX] = {0};
    size_t dn[PREP_CUT_PARTS_MAX] = {0};
    int own[PREP_CUT_PARTS_MAX] = {0};
    size_t total = PREP_CUT_GZ_EXTRA;
    uint64_t off = 0;
    prep_err e = PREP_OK;
    for (size_t k = 0; k < en->n_parts && !e; k++) {
        const prep_cut_part *pt = &en->parts[k];
        if (chunk_get(p, c, pc_find(c, pt->sha256, 0), pt, page + off, crcs[k], &dfl[k], &dn[k], &own[k]) != 0)
            e = io_diag(d, p->dir, "writing a compressed part in");
        total += dn[k];
        off += pt->size;
    }
    if (!e) {
        int gain = total < en->size;
        unsigned char *g = gain ? malloc(total) : NULL;
        if (gain && !g) {
            e = PREP_ERR_IO;
            prep_diags_add(d, en->path, 0, 0, "io", "out of memory");
        } else if (gain) {
            uint64_t raw_len[PREP_CUT_PARTS_MAX];
            for (size_t k = 0; k < en->n_parts; k++) raw_len[k] = en->parts[k].size;
            size_t at = prep_cut_gz_member(g, (const unsigned char *const *)dfl, dn, crcs, raw_len, en->n_parts,
                                           en->size);
            if (page_put(p, in_tree, fresh, tw0, g, at) != 0) {
                e = io_diag(d, tw0, "writing");
            } else if (have_tw0 < 0 && !in_tree) {
                pool_note_fix(p, old_tw0, tw0);
            }
            free(g);
        } else if (in_tree) {
            *none0 = 1;
        } else {
            char *nn = cut_fmt("%s.none", tw0);
            if (pool_put(p, nn, "", 0) != 0)
                e = io_diag(d, nn, "writing");
            free(nn);
            *none0 = 1;
        }
    }
    for (size_t k = 0; k < en->n_parts; k++)
        if (own[k]) free(dfl[k]);
    return e;
}

static prep_err page_files(pool *p, pcache *c, const prep_cut_entry *en, int verify, int want_gz, int want_br,
                           const char *tree, int fresh, char **obj, char **gz, char **br, prep_diags *d)
{
    *obj = *gz = *br = NULL;
    want_br = want_br && page_wants_br(en);
    char *op = tree ? prep_xstrdup(tree) : cut_fmt("%s/%.2s/%s", p->dir, en->sha256, en->sha256 + 2);
    char *tw[2] = {cut_fmt("%s.gz", op), cut_fmt("%s.br", op)};
    int want[2] = {want_gz, want_br};
    int have_obj = 0, have_tw[2] = {0, 0}, none[2] = {0, 0};
    int in_tree = tree != NULL;
    struct stat old_obj, old_tw[2], st;
    if (!(in_tree && fresh)) {
        have_obj = pool_have(p, op, en->size, verify, en, NULL, in_tree, &old_obj);
        for (int k = 0; k < 2; k++) {
            if (!want[k]) continue;
            have_tw[k] = pool_have(p, tw[k], UINT64_MAX, verify, en, k ? "br" : "gz", in_tree, &old_tw[k]);
            if (in_tree) continue; /* no markers in a tree: a twin that does not pay is absent */
            char *nn = cut_fmt("%s.none", tw[k]);
            if (have_tw[k] <= 0 && lstat(nn, &st) == 0) none[k] = 1;
            free(nn);
        }
    }
    prep_err e = PREP_OK;
    unsigned char *page = NULL;
    uint32_t crcs[PREP_CUT_PARTS_MAX];
    int need_gz = want[0] && have_tw[0] != 1 && !none[0], need_br = want[1] && have_tw[1] != 1 && !none[1];
    if (have_obj == 1 && !need_gz && !need_br) goto done;

    page = malloc(en->size);
    if (!page) {
        prep_diags_add(d, en->path, 0, 0, "io", "out of memory for a page of %llu bytes", (unsigned long long)en->size);
        e = PREP_ERR_IO;
        goto done;
    }
    if ((e = page_assemble(p, c, en, page, crcs, d))) goto done;
    if (!in_tree && pool_aa(p, en->sha256) != 0) {
        e = io_diag(d, p->dir, "creating");
        goto done;
    }
    if (have_obj != 1) {
        if (page_put(p, in_tree, fresh, op, page, (size_t)en->size) != 0) {
            e = io_diag(d, op, "writing");
            goto done;
        }
        if (have_obj < 0 && !in_tree) pool_note_fix(p, &old_obj, op);
    }
    if (need_gz) e = page_gz(p, c, en, page, crcs, in_tree, fresh, tw[0], have_tw[0], &old_tw[0], &none[0], d);
    if (need_br && !e) {
        unsigned char *b = NULL;
        size_t bn = 0;
        int r = brotli_buf(page, (size_t)en->size, BROTLI_Q_PAGE, &b, &bn);
        const char *dst = tw[1];
        char *nn = cut_fmt("%s.none", tw[1]);
        if (r != 0 || bn >= en->size) {
            dst = nn;
            bn = 0;
            none[1] = 1;
        }
        if (in_tree && none[1]) {
            /* no marker in a tree */
        } else if (page_put(p, in_tree, fresh, dst, b ? (const void *)b : "", bn) != 0) {
            e = io_diag(d, dst, "writing");
        } else if (!none[1] && have_tw[1] < 0 && !in_tree) {
            pool_note_fix(p, &old_tw[1], tw[1]);
        }
        free(nn);
        free(b);
    }
done:
    /* This page's uses of its parts are over: free what no later page needs. */
    for (size_t k = 0; k < en->n_parts; k++) {
        pcache_ent *ce = pc_find(c, en->parts[k].sha256, 0);
        if (ce && ce->left > 0 && --ce->left == 0) {
            if (ce->raw) c->bytes -= (size_t)en->parts[k].size;
            if (ce->dfl) c->bytes -= ce->dfl_n;
            pc_drop(ce);
        }
    }
    free(page);
    if (e) {
        free(op);
        free(tw[0]);
        free(tw[1]);
        return e;
    }
    *obj = op;
    for (int k = 0; k < 2; k++) {
        if (want[k] && !none[k]) (k ? br : gz)[0] = tw[k];
        else free(tw[k]);
    }
    return PREP_OK;
}

/* Makes everything written so far durable with one syncfs(2) of the file system that
 * holds the pool (trees and archive are on it: they are hard links into it), instead of
 * an fsync per file: it runs before any rename that makes a tree visible. */
static prep_err pool_sync(pool *p, prep_diags *d)
{
    if (!p->dirty) return PREP_OK;
    prep_err e = cut_syncfs(p->dir, "the export", d);
    if (e) return e;
    p->dirty = 0;
    return PREP_OK;
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

/* mkdir -p of the parent directories of rel under root. *last (owned, may be NULL) is
 * the parent made by the previous call: entries come sorted, so most share it. */
static int make_parents(const char *root, const char *rel, char **last)
{
    const char *sl = strrchr(rel, '/');
    if (!sl) return 0;
    size_t pl = (size_t)(sl - rel);
    if (*last && strlen(*last) == pl && !memcmp(*last, rel, pl)) return 0;
    char *p = cut_fmt("%s/%.*s", root, (int)pl, rel);
    int r = cut_mkdir(p); /* the usual case: only the last level is new */
    if (r != 0 && errno == ENOENT) {
        size_t base = strlen(root) + 1;
        r = 0;
        for (size_t i = base; p[i - 1] && !r; i++) {
            if (p[i] == '/' || p[i] == 0) {
                char c = p[i];
                p[i] = 0;
                r = cut_mkdir(p);
                p[i] = c;
                if (!c) break;
            }
        }
    }
    free(p);
    if (!r) {
        free(*last);
        *last = prep_xstrndup(rel, pl);
    }
    return r;
}

/* Composed pages are written in the archived cut itself (page_files) in link mode with
 * the archive; not with --copy, whose pool and trees may be on different file systems (a
 * damaged served page is replaced by a rename from the pool's tmp/). */
static int direct_pages(const prep_cut_export_opts *o) { return o->link && o->archive && !o->copy; }

/* Writes one cut's tree into dir (which exists and is empty, or the spare skeleton:
 * directories only), linking from the pool. verify: re-check pool files already there
 * (the served tree); archives skip it. dir NULL: only make and verify the pool files.
 * direct: composed pages are written in the tree itself, not linked from the pool (see
 * page_files; link mode's archive, where each page is in exactly one tree); with dir
 * NULL, direct_dir is the tree already there whose pages are checked (and replaced when
 * damaged) in place. */
static prep_err write_tree(pool *pl, const prep_cut_manifest *m, const char *sig, size_t siglen, const char *dir,
                           const prep_cut_export_opts *o, int verify, int direct, const char *direct_dir,
                           prep_diags *d)
{
    prep_err e = PREP_OK;
    pcache pc;
    pc_init(&pc, m, o);
    char *last = NULL;
    pl->dirty = 1;
    for (size_t i = 0; i < m->n && !e; i++) {
        const prep_cut_entry *en = &m->entries[i];
        char *dst = dir ? cut_join(dir, en->path) : NULL;
        if (dir && make_parents(dir, en->path, &last) != 0) {
            e = io_diag(d, dst, "writing");
            free(dst);
            break;
        }
        static const char *exts[] = {"gz", "br"};
        if (is_composed_page(o, en)) {
            char *tn[2] = {cut_fmt("%s.gz", en->path), cut_fmt("%s.br", en->path)};
            char *f[3] = {NULL, NULL, NULL};
            char *in_tree = NULL;
            if (direct) in_tree = dir ? prep_xstrdup(dst) : cut_join(direct_dir, en->path);
            e = page_files(pl, &pc, en, verify, !prep_cut_manifest_find(m, tn[0]), !prep_cut_manifest_find(m, tn[1]),
                           in_tree, dir != NULL, &f[0], &f[1], &f[2], d);
            free(in_tree);
            for (int k = 0; k < 3 && !e && dir && !direct; k++) {
                if (!f[k]) continue;
                char *to = k ? cut_join(dir, tn[k - 1]) : prep_xstrdup(dst);
                if (place(f[k], to, o->copy) != 0)
                    e = io_diag(d, to, "writing");
                free(to);
            }
            for (int k = 0; k < 3; k++) free(f[k]);
            free(tn[0]);
            free(tn[1]);
            free(dst);
            continue;
        }
        char *obj = pool_obj(pl, en, verify, d, &e);
        if (!obj) {
            /* diag added */
        } else if (dir && place(obj, dst, o->copy) != 0) {
            e = io_diag(d, dst, "writing");
        } else if (o->twins && en->size >= TWIN_MIN && en->size <= TWIN_MAX && compressible(en->media_type)) {
            for (int k = 0; k < 2 && !e; k++) {
                char *tname = cut_fmt("%s.%s", en->path, exts[k]);
                if (!prep_cut_manifest_find(m, tname)) {
                    char *tw = pool_twin(pl, en, obj, exts[k], verify, d, &e);
                    if (tw && dir) {
                        char *tdst = cut_join(dir, tname);
                        if (place(tw, tdst, o->copy) != 0)
                            e = io_diag(d, tdst, "writing");
                        free(tdst);
                    }
                    free(tw);
                }
                free(tname);
            }
        }
        free(dst);
        free(obj);
    }
    free(last);
    pc_free(&pc);
    if (!dir) return e;
    if (!e) {
        char *sp = cut_join(dir, CUT_SUMS_NAME), *gp = cut_join(dir, CUT_SIG_NAME);
        if (cut_write_atomic(sp, m->raw, m->raw_len, 0444) != 0 || cut_write_atomic(gp, sig, siglen, 0444) != 0)
            e = io_diag(d, dir, "writing the manifest in");
        free(sp);
        free(gp);
    }
    if (!e && cut_fsync_dir(dir) != 0)
        e = io_diag(d, dir, "syncing");
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
        return io_diag(d, arch, "relinking a repaired file in");
    }
    return PREP_OK;
}

static int archive_is_full(const char *dir);

/* ---- the spare skeleton
 * Every cut's tree has a directory per page (15,000 at Querétaro), and creating and
 * removing them was a quarter of an export's CPU (ext4's mkdir). A thinned cut's
 * directories are kept instead as ARCH/.spare (its files unlinked: the pool's GC still
 * sees their link counts drop), and the next cut's archive is built in it: the same
 * directories, mostly, already exist. The spare is never served; a leftover of a kill
 * while it was being emptied is still named .thin-* and removed by the next export. */
#define SPARE_NAME ".spare"

/* The two walks over a skeleton of 15,000 directories use the d_type that getdents
 * returns and names relative to an open directory: nftw(3) stats every entry and hands
 * out full paths, which cost a third of the time of these walks (45,000 fstatat). */
#define WALK_DEPTH_MAX 64

static int is_dot(const char *n) { return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])); }

/* The kind of entry de of dp: 1 a directory, 0 not, -1 unknown (errno). */
static int entry_is_dir(DIR *dp, const struct dirent *de)
{
    if (de->d_type != DT_UNKNOWN) return de->d_type == DT_DIR;
    struct stat st;
    if (fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
    return S_ISDIR(st.st_mode);
}

/* Unlinks every entry that is not a directory under the directory open at dfd (which
 * it closes), keeping the directories. 0, or -1 when something could not be removed. */
static int unlink_files_at(int dfd, int depth)
{
    DIR *dp = fdopendir(dfd);
    if (!dp) {
        close(dfd);
        return -1;
    }
    int r = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (is_dot(de->d_name)) continue;
        int isdir = entry_is_dir(dp, de);
        if (isdir == 1) {
            int c = depth < WALK_DEPTH_MAX ? openat(dirfd(dp), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                                           : -1;
            if (c < 0 || unlink_files_at(c, depth + 1) != 0) r = -1;
        } else if (isdir < 0 || (unlinkat(dirfd(dp), de->d_name, 0) != 0 && errno != ENOENT)) {
            r = -1;
        }
    }
    closedir(dp);
    return r;
}

/* Removes the empty directories under the directory open at dfd (which it closes),
 * deepest first: 1 when dfd's directory is left empty, 0 when not. */
static int rmdir_empty_at(int dfd, int depth)
{
    DIR *dp = fdopendir(dfd);
    if (!dp) {
        close(dfd);
        return 0;
    }
    size_t left = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (is_dot(de->d_name)) continue;
        int c = -1;
        if (entry_is_dir(dp, de) == 1 && depth < WALK_DEPTH_MAX)
            c = openat(dirfd(dp), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c >= 0 && rmdir_empty_at(c, depth + 1) == 1 && unlinkat(dirfd(dp), de->d_name, AT_REMOVEDIR) == 0)
            continue;
        left++;
    }
    closedir(dp);
    return left == 0;
}

static int open_dir(const char *path) { return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); }

/* Keeps the full tree at tmp (a thinned cut's) as the spare: 0, or -1 when it is not
 * wanted (the caller removes it). */
static int spare_adopt(const char *arch, const char *tmp)
{
    char *sp = cut_join(arch, SPARE_NAME);
    struct stat st;
    int r = -1;
    int fd;
    if (lstat(sp, &st) != 0 && (fd = open_dir(tmp)) >= 0 && unlink_files_at(fd, 0) == 0 && rename(tmp, sp) == 0)
        r = 0;
    free(sp);
    return r;
}

/* Makes dir from the spare when there is one (*used set), else an empty directory. */
static int spare_take(const char *arch, const char *dir, int *used)
{
    char *sp = cut_join(arch, SPARE_NAME);
    *used = rename(sp, dir) == 0;
    int r = *used ? 0 : cut_mkdir(dir);
    free(sp);
    return r;
}

/* OUT.cortes/<seq>/, written once (*existed set when it was there already). verify:
 * re-check the pool files it links (it is the served tree of the link mode). */
static prep_err archive_cut(pool *pl, uint64_t seq, const char *arch, const prep_cut_export_opts *o, int verify,
                            const prep_cut_manifest *have_m, const char *have_sig, size_t have_sl, int *existed,
                            prep_diags *d)
{
    char *final = cut_fmt("%s/%llu", arch, (unsigned long long)seq);
    struct stat st;
    *existed = 0;
    int thin = 0;
    if (lstat(final, &st) == 0) { /* written once, never changed... */
        if (archive_is_full(final)) {
            *existed = 1;
            free(final);
            return PREP_OK;
        }
        thin = 1; /* ...unless the retention thinned it and it is wanted in full again */
    }
    /* The exported cut's manifest is the caller's (have_m): parsed and verified once. */
    prep_cut_manifest own = {0};
    char *own_sig = NULL;
    size_t sl = have_sl;
    prep_err e = have_m ? PREP_OK : cut_store_read_cut(pl->store, seq, NULL, &own, &own_sig, &sl, d);
    if (e) {
        free(final);
        return e;
    }
    const prep_cut_manifest *mp = have_m ? have_m : &own;
    const char *sig = have_m ? have_sig : own_sig;
    char *tmp = cut_fmt("%s/.tmp-%llu-%ld", arch, (unsigned long long)seq, (long)getpid());
    cut_rm_rf(tmp);
    int used_spare = 0;
    if (spare_take(arch, tmp, &used_spare) != 0)
        e = io_diag(d, tmp, "creating");
    if (!e && used_spare) {
        /* A file where the spare has a directory of that name (a path that changed
         * kind) fails: then the tree is written again in an empty directory. */
        prep_diags d1;
        prep_diags_init(&d1);
        e = write_tree(pl, mp, sig, sl, tmp, o, verify, direct_pages(o), NULL, &d1);
        prep_diags_free(&d1);
        int fd = e ? -1 : open_dir(tmp);
        if (fd >= 0) rmdir_empty_at(fd, 0);
        else if (!e) e = PREP_ERR_IO;
        if (e) {
            cut_rm_rf(tmp);
            e = PREP_OK;
            used_spare = 0;
            if (cut_mkdir(tmp) != 0)
                e = io_diag(d, tmp, "creating");
        }
    }
    if (!e && !used_spare) e = write_tree(pl, mp, sig, sl, tmp, o, verify, direct_pages(o), NULL, d);
    if (!e) e = pool_sync(pl, d);
    if (!e && (thin ? cut_hook("rename", final) != 0 ||
                          renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) != 0
                    : cut_rename(tmp, final) != 0))
        e = io_diag(d, final, "renaming into");
    if (e || thin) cut_rm_rf(tmp); /* after the exchange, tmp holds the thin cut */
    prep_cut_manifest_free(&own);
    free(own_sig);
    free(tmp);
    free(final);
    return e;
}

/* The served tree of the link mode: tmp/NAME -> ../../BASE.cortes/<seq>/NAME for each
 * top-level NAME of the archived cut. */
static prep_err shallow_tree(const char *tmp, const char *arch, const char *base, uint64_t seq, prep_diags *d)
{
    char *src = cut_fmt("%s/%llu", arch, (unsigned long long)seq);
    DIR *dp = opendir(src);
    prep_err e = PREP_OK;
    if (!dp) {
        io_diag(d, src, "reading");
        free(src);
        return PREP_ERR_IO;
    }
    struct dirent *de;
    size_t n = 0;
    while (!e && (de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (++n > PREP_CUT_INCOMING_MAX) break;
        char *to = cut_fmt("../../%s.cortes/%llu/%s", base, (unsigned long long)seq, de->d_name);
        char *lp = cut_join(tmp, de->d_name);
        if (cut_hook("symlink", lp) != 0 || symlink(to, lp) != 0)
            e = io_diag(d, lp, "linking");
        free(to);
        free(lp);
    }
    closedir(dp);
    free(src);
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
    if (n) qsort(seqs, n, sizeof *seqs, cmp_desc); /* seqs is NULL when n == 0 */
    for (size_t i = keep; i < n; i++) {
        char *p = cut_fmt("%s/%llu", sites, (unsigned long long)seqs[i]);
        if (cut_rm_rf(p) == 0) (*removed)++;
        else cut_store_log(NULL, PREP_LOG_WARN, "export: cannot remove the old tree %s: %s", p, strerror(errno));
        free(p);
    }
    free(seqs);
}

/* ---------------------------------------------------------------- retention and GC
 * The archive keeps the o->archive_full newest cuts (up to the exported one) in full;
 * an older cut is thinned to SHA256SUMS and SHA256SUMS.sig (the chain and the signatures
 * stay downloadable and checkable), and pool files that no tree links any more (link
 * count 1: only the pool holds them) are removed with their markers and the deflate
 * chunks of parts the exported cut no longer uses. Every step is crash-safe:
 *
 * - thinning builds ARCH/.thin-<seq>-<pid>/ (hard links to the two files), exchanges it
 *   with ARCH/<seq> in one renameat2(RENAME_EXCHANGE), then removes the full tree now
 *   under the .thin- name: a kill leaves ARCH/<seq> full or thin, never partial, and a
 *   leftover .thin-/.tmp- directory is removed by the next export (under the pool lock);
 * - a pool file is removed only when its link count is 1, so a file the served tree or
 *   any kept tree links can never go; a kill leaves unreferenced files the next GC takes.
 *
 * Test hook: PREP_EXPORT_GC_KILL_AFTER=N raises SIGKILL before the (N+1)th step after
 * the switch (archiving a skipped cut, an exchange, a removal; tests/integ/apache_night.sh
 * kills the export at many points). */
static long g_gc_kill = -2; /* -2: not read yet; -1: off */

static void gc_step(void)
{
    if (g_gc_kill == -2) {
        const char *v = getenv("PREP_EXPORT_GC_KILL_AFTER");
        g_gc_kill = v && *v ? strtol(v, NULL, 10) : -1;
    }
    if (g_gc_kill < 0) return;
    if (g_gc_kill-- == 0) raise(SIGKILL);
}

/* 1 when ARCH/<seq> holds more than the manifest and its signature. */
static int archive_is_full(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    struct dirent *de;
    int full = 0;
    while (!full && (de = readdir(dp)))
        full = strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, CUT_SUMS_NAME) &&
               strcmp(de->d_name, CUT_SIG_NAME);
    closedir(dp);
    return full;
}

/* Writes ARCH/<seq> thin (only SHA256SUMS and its signature) when it is missing, or
 * thins a full one; *did set when something changed. */
static prep_err archive_thin(pool *pl, uint64_t seq, const char *arch, int *did, prep_diags *d)
{
    char *final = cut_fmt("%s/%llu", arch, (unsigned long long)seq);
    char *tmp = cut_fmt("%s/.thin-%llu-%ld", arch, (unsigned long long)seq, (long)getpid());
    char *ts = cut_join(tmp, CUT_SUMS_NAME), *tg = cut_join(tmp, CUT_SIG_NAME);
    prep_err e = PREP_OK;
    struct stat st;
    int exists = lstat(final, &st) == 0;
    *did = 0;
    if (exists && !archive_is_full(final)) goto done;
    cut_rm_rf(tmp);
    if (cut_mkdir(tmp) != 0) {
        e = io_diag(d, tmp, "creating");
        goto done;
    }
    if (exists) { /* the two files of the full tree, linked */
        char *fs = cut_join(final, CUT_SUMS_NAME), *fg = cut_join(final, CUT_SIG_NAME);
        if (cut_link(fs, ts) != 0) {
            e = io_diag(d, ts, "linking");
        } else if (cut_link(fg, tg) != 0)
            e = io_diag(d, tg, "linking");
        free(fs);
        free(fg);
    } else {
        prep_cut_manifest m;
        char *sig = NULL;
        size_t sl = 0;
        if ((e = cut_store_read_cut(pl->store, seq, NULL, &m, &sig, &sl, d))) goto done;
        if (cut_write_atomic(ts, m.raw, m.raw_len, 0444) != 0) {
            e = io_diag(d, ts, "writing");
        } else if (cut_write_atomic(tg, sig, sl, 0444) != 0)
            e = io_diag(d, tg, "writing");
        prep_cut_manifest_free(&m);
        free(sig);
    }
    if (!e && cut_fsync_dir(tmp) != 0)
        e = io_diag(d, tmp, "syncing");
    if (!e) {
        gc_step();
        int r = exists ? (cut_hook("rename", final) != 0 ? -1
                                                         : renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE))
                       : cut_rename(tmp, final);
        if (r != 0) {
            e = io_diag(d, final, exists ? "thinning" : "renaming into");
        } else if (cut_fsync_dir(arch) != 0) {
            e = io_diag(d, arch, "syncing");
        } else {
            *did = 1;
        }
    }
    if (!e && exists) { /* the thinned cut's files are the GC's candidates */
        prep_cut_manifest tm;
        prep_diags d1;
        prep_diags_init(&d1);
        if (cut_store_read_cut(pl->store, seq, NULL, &tm, NULL, NULL, &d1) == PREP_OK) {
            pl->cand = prep_xrealloc(pl->cand, (pl->ncand + tm.n) * sizeof *pl->cand);
            /* Pages written in their tree (direct) have no pool file: nothing to look at.
             * A cut exported before that (its pages are links, now under tmp) has. */
            int pages_pooled = !pl->direct;
            for (size_t i = 0; i < tm.n && !pages_pooled; i++) {
                if (!is_composed_page(pl->direct, &tm.entries[i])) continue;
                char *fp = cut_join(tmp, tm.entries[i].path);
                pages_pooled = lstat(fp, &st) == 0 && st.st_nlink > 1;
                free(fp);
                break;
            }
            for (size_t i = 0; i < tm.n; i++) {
                if (pages_pooled || !is_composed_page(pl->direct, &tm.entries[i]))
                    memcpy(pl->cand[pl->ncand++], tm.entries[i].sha256, 65);
                for (size_t k = 0; k < tm.entries[i].n_parts; k++) { /* their deflate chunks */
                    if (pl->ndcand == pl->capdcand) {
                        pl->capdcand = pl->capdcand ? pl->capdcand * 2 : 4096;
                        pl->dcand = prep_xrealloc(pl->dcand, pl->capdcand * sizeof *pl->dcand);
                    }
                    memcpy(pl->dcand[pl->ndcand++], tm.entries[i].parts[k].sha256, 65);
                }
            }
            prep_cut_manifest_free(&tm);
        } else {
            pl->cand_lost = 1; /* cannot name them: a full scan */
        }
        prep_diags_free(&d1);
    }
    if (!e && exists) {
        gc_step(); /* tmp now holds the full tree: its directories become the spare, or go */
        if (spare_adopt(arch, tmp) != 0) cut_rm_rf(tmp);
    }
done:
    if (lstat(tmp, &st) == 0) cut_rm_rf(tmp);
    free(ts);
    free(tg);
    free(tmp);
    free(final);
    return e;
}

/* Removes leftovers of interrupted exports in ARCH (.tmp-*, .thin-*): we hold the lock. */
static void archive_leftovers(const char *arch)
{
    DIR *dp = opendir(arch);
    if (!dp) return;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (strncmp(de->d_name, ".tmp-", 5) && strncmp(de->d_name, ".thin-", 6)) continue;
        char *p = cut_join(arch, de->d_name);
        cut_rm_rf(p);
        free(p);
    }
    closedir(dp);
}

static int cmp_sha(const void *a, const void *b) { return memcmp(a, b, 64); }

static int is_hex62(const char *s)
{
    for (int i = 0; i < 62; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* The SHA-256 (hex) of every part of m, sorted (cmp_sha); *np of them. Owned; NULL when 0. */
static char (*sorted_parts(const prep_cut_manifest *m, size_t *np))[64]
{
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++) n += m->entries[i].n_parts;
    char(*parts)[64] = n ? prep_xcalloc(n, 64) : NULL;
    n = 0;
    for (size_t i = 0; i < m->n; i++)
        for (size_t k = 0; k < m->entries[i].n_parts; k++) memcpy(parts[n++], m->entries[i].parts[k].sha256, 64);
    if (n) qsort(parts, n, 64, cmp_sha);
    *np = n;
    return parts;
}

/* Removes what no tree needs from OUT.objetos/ (see above). keep_parts: the parts of m
 * whose deflate chunks stay (the next cut shares most of them). */
static prep_err pool_gc(pool *p, const prep_cut_manifest *m, size_t *files, uint64_t *bytes, prep_diags *d)
{
    size_t np;
    char(*parts)[64] = sorted_parts(m, &np);
    prep_err e = PREP_OK;
    for (int aa = 0; aa < 256 && !e; aa++) {
        char *dir = cut_fmt("%s/%02x", p->dir, aa);
        DIR *dp = opendir(dir);
        if (!dp) {
            if (errno != ENOENT)
                e = io_diag(d, dir, "reading");
            free(dir);
            continue;
        }
        int dfd = dirfd(dp);
        char **nones = NULL;
        size_t nn = 0;
        struct dirent *de;
        while ((de = readdir(dp))) {
            const char *n = de->d_name;
            size_t l = strlen(n);
            if (l < 62 || !is_hex62(n)) continue;
            const char *ext = n + 62;
            if (!strcmp(ext, ".gz.none") || !strcmp(ext, ".br.none")) { /* judged once the objects are done */
                nones = prep_xrealloc(nones, (nn + 1) * sizeof *nones);
                nones[nn++] = prep_xstrdup(n);
                continue;
            }
            struct stat st;
            if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
            int drop;
            if (!strcmp(ext, ".dfl")) {
                char sha[64];
                snprintf(sha, sizeof sha, "%02x", aa);
                memcpy(sha + 2, n, 62);
                drop = !np || !bsearch(sha, parts, np, 64, cmp_sha);
            } else if (!*ext || !strcmp(ext, ".gz") || !strcmp(ext, ".br")) {
                drop = st.st_nlink == 1; /* only the pool links it */
            } else {
                continue;
            }
            if (!drop) continue;
            gc_step();
            if (unlinkat(dfd, n, 0) != 0 && errno != ENOENT) {
                e = io_diag(d, dir, "removing an unused file from");
                break;
            }
            (*files)++;
            *bytes += (uint64_t)st.st_blocks * 512;
        }
        for (size_t i = 0; i < nn; i++) { /* a marker outlives no object */
            char obj[63];
            memcpy(obj, nones[i], 62);
            obj[62] = 0;
            struct stat st;
            if (!e && fstatat(dfd, obj, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
                gc_step();
                if (unlinkat(dfd, nones[i], 0) == 0) (*files)++;
            }
            free(nones[i]);
        }
        free(nones);
        closedir(dp);
        free(dir);
    }
    free(parts);
    return e;
}

/* The GC of the pool files the cuts thinned by this export linked (pool->cand): each one
 * whose link count is now 1 is removed, with its markers. Scanning the whole pool (about
 * 250,000 entries at Querétaro) cost more than the rest of the GC; the full scan
 * (pool_gc) still runs after an interrupted export, every GC_FULL_EVERY cuts (which also
 * removes the deflate chunks no longer used), and in plain mode. */
#define GC_FULL_EVERY 16
#define GC_PENDING_NAME "gc-pendiente"

static prep_err pool_gc_targeted(pool *p, const prep_cut_manifest *m, size_t *files, uint64_t *bytes, prep_diags *d)
{
    /* The chunks of the thinned cuts' parts that the exported cut does not use. */
    if (p->ndcand) {
        size_t np;
        char(*parts)[64] = sorted_parts(m, &np);
        qsort(p->dcand, p->ndcand, sizeof *p->dcand, cmp_sha);
        for (size_t i = 0; i < p->ndcand; i++) {
            if (i && !memcmp(p->dcand[i], p->dcand[i - 1], 64)) continue;
            if (np && bsearch(p->dcand[i], parts, np, 64, cmp_sha)) continue;
            char *f = cut_fmt("%s/%.2s/%s.dfl", p->dir, p->dcand[i], p->dcand[i] + 2);
            gc_step();
            if (unlink(f) == 0) (*files)++;
            free(f);
        }
        free(parts);
    }
    if (p->ncand) qsort(p->cand, p->ncand, sizeof *p->cand, cmp_sha);
    static const char *exts[] = {"", ".gz", ".br"};
    for (size_t i = 0; i < p->ncand; i++) {
        if (i && !memcmp(p->cand[i], p->cand[i - 1], 64)) continue;
        for (int k = 0; k < 3; k++) {
            char *f = cut_fmt("%s/%.2s/%s%s", p->dir, p->cand[i], p->cand[i] + 2, exts[k]);
            struct stat st;
            if (lstat(f, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) {
                gc_step();
                if (unlink(f) != 0 && errno != ENOENT) {
                    io_diag(d, f, "removing an unused file");
                    free(f);
                    return PREP_ERR_IO;
                }
                (*files)++;
                *bytes += (uint64_t)st.st_blocks * 512;
                if (k == 0)
                    for (int t = 1; t < 3; t++) {
                        char *nn = cut_fmt("%s%s.none", f, exts[t]);
                        if (unlink(nn) == 0) (*files)++;
                        free(nn);
                    }
            }
            free(f);
        }
    }
    return PREP_OK;
}

/* After the switch: the cuts up to seq that the archive lacks (the newest first: full
 * within the window, thin below it), then the thinning of full cuts below the window
 * that no served tree (sites, link mode) points into, then the pool's GC. */
static prep_err archive_rest(pool *pl, const prep_cut_manifest *m, uint64_t seq, const uint64_t *seqs, size_t ns,
                             const char *arch, const char *sites, const prep_cut_export_opts *o, int reclaim_only,
                             prep_diags *d)
{
    prep_err e = PREP_OK;
    uint64_t full_from = o->archive_full && seq > o->archive_full ? seq - o->archive_full + 1 : 1;
    /* gc-pendiente: a GC was started and not finished (a kill, an error): scan it all. */
    char *pending = cut_join(pl->dir, GC_PENDING_NAME);
    struct stat pst;
    int full_scan = lstat(pending, &pst) == 0 || !sites || reclaim_only || seq % GC_FULL_EVERY == 0;
    if (o->archive_full && !o->copy) {
        int fd = open(pending, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd >= 0) close(fd);
        else full_scan = 1;
    }
    /* Trees still served in link mode point into their archived cut: never thinned. */
    uint64_t *served = NULL;
    size_t nserved = 0;
    if (sites) {
        DIR *dp = opendir(sites);
        struct dirent *de;
        while (dp && (de = readdir(dp))) {
            uint64_t v;
            if (parse_tree_name(de->d_name, &v) && nserved < PREP_CUT_INCOMING_MAX) {
                served = prep_xrealloc(served, (nserved + 1) * sizeof *served);
                served[nserved++] = v;
            }
        }
        if (dp) closedir(dp);
    }
    size_t thinned = 0, made = 0;
    for (size_t i = ns; i-- > 0 && !e;) {
        uint64_t s = seqs[i];
        if (s >= seq) continue;
        /* A cut the store's retention pruned has no objects left: thin. */
        int keep_full = s >= full_from && !cut_store_is_pruned(pl->store, s);
        for (size_t k = 0; k < nserved && !keep_full; k++) keep_full = served[k] == s && !cut_store_is_pruned(pl->store, s);
        char *at = cut_fmt("%s/%llu", arch, (unsigned long long)s);
        struct stat st;
        int missing = lstat(at, &st) != 0;
        free(at);
        if (missing && reclaim_only) continue; /* only frees space: archives nothing */
        if (missing) gc_step(); /* a skipped cut: the hook proves the switch came first */
        if (keep_full && reclaim_only) continue;
        if (keep_full) {
            int ex = 0;
            e = archive_cut(pl, s, arch, o, 0, NULL, NULL, 0, &ex, d);
            made += !ex;
        } else {
            int did = 0;
            e = archive_thin(pl, s, arch, &did, d);
            thinned += did;
        }
    }
    free(served);
    if (!e && (made || thinned)) e = archive_fixups(pl, arch, d);
    size_t files = 0;
    uint64_t bytes = 0;
    if (!e && o->archive_full && !o->copy) {
        e = full_scan || pl->cand_lost ? pool_gc(pl, m, &files, &bytes, d) : pool_gc_targeted(pl, m, &files, &bytes, d);
        if (!e) unlink(pending);
    }
    free(pending);
    if (made || thinned || files)
        cut_store_log(NULL, PREP_LOG_INFO,
                      "export: archive of %s: %zu skipped cuts archived, %zu thinned to their manifest; %zu unused "
                      "pool files removed (%llu bytes)",
                      arch, made, thinned, files, (unsigned long long)bytes);
    return e;
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
        if (cut_rename(tmp, final) != 0)
            e = io_diag(d, final, "renaming into");
    } else if (cut_hook("rename", final) != 0 ||
               renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) != 0)
        e = io_diag(d, final, "swapping in"); /* else tmp holds the previous tree of this cut; the caller removes it */
    if (!e && cut_fsync_dir(sites) != 0) e = PREP_ERR_IO;
    /* 2. the link: a new symlink renamed over the old one (rename(2) is atomic). */
    if (!e) {
        unlink(ltmp);
        if (symlink(target, ltmp) != 0) {
            e = io_diag(d, ltmp, "creating the link");
        } else if (lstat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
            /* A previous plain export: exchange, then remove the old directory. */
            if (cut_hook("rename", out) != 0 || renameat2(AT_FDCWD, ltmp, AT_FDCWD, out, RENAME_EXCHANGE) != 0) {
                e = io_diag(d, out, "swapping the link in at");
            } else if (cut_rm_rf(ltmp) != 0) {
                cut_store_log(NULL, PREP_LOG_WARN, "export: cannot remove the previous export %s", ltmp);
            }
        } else if (cut_rename(ltmp, out) != 0)
            e = io_diag(d, out, "switching the link");
        if (e) unlink(ltmp);
    }
    if (!e && cut_fsync_dir(parent) != 0)
        e = io_diag(d, parent, "syncing");
    /* 3. the map Apache reads (re-read by mod_rewrite when its mtime changes). */
    if (!e && cut_write_atomic(map, line, strlen(line), 0444) != 0)
        e = io_diag(d, map, "writing");
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

/* Checks the export's name and the store, and resolves which cut to export: o->seq, or the
 * store's active cut when 0. */
static prep_err export_seq(const char *store, const char *out_in, const char *base, const prep_cut_export_opts *o,
                           uint64_t *seq_out, prep_diags *d)
{
    struct stat st;
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
        prep_diags_add(d, out_in, 0, 0, "usage", "--out must name a directory to create or replace");
        return PREP_ERR_USAGE;
    }
    /* The store is only read (no lock: its cuts and objects never change once there). */
    char *od = cut_join(store, "objects");
    int is_store = lstat(od, &st) == 0 && S_ISDIR(st.st_mode);
    free(od);
    if (!is_store) {
        prep_diags_add(d, store, 0, 0, "not-found", "not a prep store");
        return PREP_ERR_NOTFOUND;
    }
    uint64_t seq = o->seq;
    if (!seq) {
        prep_cut_active a;
        prep_err e = cut_active_read_path(store, &a, d);
        if (e == PREP_ERR_NOTFOUND) prep_diags_add(d, store, 0, 0, "not-found", "the store has no active cut");
        if (e) return e;
        seq = a.seq;
    }
    *seq_out = seq;
    return PREP_OK;
}

/* Puts the finished tree tmp in place at out: the link mode's switch of OUT's symbolic link,
 * a rename for a first export, else an atomic exchange (tmp then holds the previous export);
 * then syncs the parent directory. */
static prep_err export_switch(pool *pl, const char *out, const char *base, const char *parent, const char *sites,
                              const char *tmp, uint64_t seq, const prep_cut_export_opts *o, prep_diags *d)
{
    prep_err e;
    struct stat st;
    if (o->link) {
        /* The kept trees of earlier cuts may link a pool file found changed: relink them too. */
        if ((e = archive_fixups(pl, sites, d))) return e;
        if ((e = link_switch(out, base, parent, sites, tmp, seq, o->keep, d))) return e;
    } else if (lstat(out, &st) != 0) {
        if (cut_rename(tmp, out) != 0) {
            return io_diag(d, out, "renaming into");
        }
    } else {
        if (cut_hook("rename", out) != 0 || renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) != 0) {
            return io_diag(d, out, "swapping the new export in at");
        }
        /* tmp now holds the previous export. */
    }
    if (cut_fsync_dir(parent) != 0) {
        return io_diag(d, parent, "syncing");
    }
    return PREP_OK;
}

static prep_err export_run(const char *store, const char *out_in, const prep_cut_export_opts *o, int reclaim_first,
                           prep_diags *d)
{
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
    uint64_t seq = 0;
    if ((e = export_seq(store, out_in, base, o, &seq, d))) goto out;
    struct stat st;
    if ((e = cut_store_read_cut(store, seq, NULL, &m, &sig, &sl, d))) goto out;
    if (o->link && o->keep > PREP_CUT_EXPORT_KEEP_MAX) {
        prep_diags_add(d, out_in, 0, 0, "usage", "keep %u trees: at most %u", o->keep, PREP_CUT_EXPORT_KEEP_MAX);
        e = PREP_ERR_USAGE;
        goto out;
    }
    if (lstat(out, &st) == 0 && !(o->link && S_ISLNK(st.st_mode)) && (!S_ISDIR(st.st_mode) || !replaceable(out))) {
        prep_diags_add(d, out, 0, 0, "exists",
                 o->link ? "refusing to replace: not a symbolic link, not a previous prep export and not empty"
                         : "refusing to replace: not a previous prep export and not empty");
        e = PREP_ERR_INVALID;
        goto out;
    }
    if ((e = pool_open(&pl, out, store, d))) goto out;
    if (direct_pages(o)) pl.direct = o;
    if (o->link) {
        if (cut_mkdir(sites) != 0) {
            e = io_diag(d, sites, "creating");
            goto out;
        }
        free(tmp);
        tmp = cut_fmt("%s/.tmp-%llu-%ld", sites, (unsigned long long)seq, (long)getpid());
    }
    cut_rm_rf(tmp);
    if (cut_mkdir(tmp) != 0) {
        e = io_diag(d, tmp, "creating");
        goto out;
    }
    /* Link mode with the archive: OUT.cortes/<seq>/ is the cut's one real tree, and the
     * served OUT.sitios/<seq>/ holds a symlink to each of its top-level names (plus
     * cortes): a new cut makes its directories and links once, and pruning a tree
     * removes a dozen symlinks. Otherwise the served tree is a tree of its own. */
    int shallow = o->link && o->archive;
    if (!shallow && (e = write_tree(&pl, &m, sig, sl, tmp, o, 1, 0, NULL, d))) goto out;
    if (o->archive) {
        if (cut_mkdir(arch) != 0) {
            e = io_diag(d, arch, "creating");
            goto out;
        }
        archive_leftovers(arch);
        if ((e = cut_store_list(store, &seqs, &ns, d))) goto out;
        /* After a full disk: the retention first (thinning, GC), then the new cut. */
        if (reclaim_first && o->archive_full &&
            (e = archive_rest(&pl, &m, seq, seqs, ns, arch, o->link ? sites : NULL, o, 1, d)))
            goto out;
        /* The exported cut first: the cuts it skipped (a backlog after an outage or a
         * full disk) are archived after the switch (archive_rest), so the public site
         * never waits for older cuts. */
        int existed = 0;
        e = archive_cut(&pl, seq, arch, o, shallow, &m, sig, sl, &existed, d);
        /* The served files of a tree already there are re-checked all the same. */
        if (!e && shallow && existed) {
            char *at = cut_fmt("%s/%llu", arch, (unsigned long long)seq);
            e = write_tree(&pl, &m, sig, sl, NULL, o, 1, direct_pages(o), at, d);
            free(at);
        }
        if (!e) e = archive_fixups(&pl, arch, d);
        if (!e && shallow) e = shallow_tree(tmp, arch, base, seq, d);
        if (e) goto out;
        /* OUT/cortes -> ../BASE.cortes; a tree of the link mode is one level deeper. */
        char *link_to = cut_fmt(o->link ? "../../%s.cortes" : "../%s.cortes", base);
        char *lp = cut_join(tmp, "cortes");
        int r = symlink(link_to, lp);
        free(link_to);
        free(lp);
        if (r != 0) {
            e = io_diag(d, tmp, "linking cortes/ in");
            goto out;
        }
        if (cut_fsync_dir(arch) != 0) {
            e = PREP_ERR_IO;
            goto out;
        }
    }
    pl.dirty = 1; /* the tree's last entries */
    if ((e = pool_sync(&pl, d))) goto out;
    if (cut_fsync_dir(tmp) != 0) {
        e = PREP_ERR_IO;
        goto out;
    }
    if ((e = export_switch(&pl, out, base, parent, sites, tmp, seq, o, d))) goto out;
    cut_store_log(NULL, PREP_LOG_INFO, "cut %llu exported to %s (%zu files)", (unsigned long long)seq, out, m.n);
    /* The site is on the new cut: now the skipped cuts, the retention, the GC. A failure
     * here is reported; the next export finishes the job. */
    if (o->archive) e = archive_rest(&pl, &m, seq, seqs, ns, arch, o->link ? sites : NULL, o, 0, d);
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

prep_err prep_cut_export(const char *store, const char *out_in, const prep_cut_export_opts *o, prep_diags *d)
{
    prep_cut_export_opts def;
    if (!o) {
        prep_cut_export_opts_init(&def);
        o = &def;
    }
    g_nospace = 0;
    prep_err e = export_run(store, out_in, o, 0, d);
    /* A full disk before the switch: the retention normally runs after the switch, so
     * without this the site would stay on the old cut for as long as the disk is full.
     * Free what the retention allows (never what is served), then try once more. */
    if (e == PREP_ERR_IO && g_nospace && o->archive && o->archive_full) {
        cut_store_log(NULL, PREP_LOG_WARN, "export: no space left for the new cut; applying the retention first "
                                           "and trying again");
        g_nospace = 0;
        prep_diags retry;
        prep_diags_init(&retry);
        e = export_run(store, out_in, o, 1, &retry);
        if (!e) { /* the first failure stays in d, reported as recovered */
            prep_diags_add(d, out_in, 0, 0, "recovered", "the export succeeded after the retention freed space");
        } else {
            for (size_t i = 0; i < retry.n; i++)
                prep_diags_add(d, retry.v[i].file, retry.v[i].line, retry.v[i].col, retry.v[i].kind, "%s",
                               retry.v[i].msg);
        }
        prep_diags_free(&retry);
    }
    return e;
}

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
 * Twins are cached in STORE/twins/ by object hash (content never changes, so neither does
 * its compressed form): a new cut compresses only its new objects. */
#include <brotli/encode.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cut_internal.h"

#define TWIN_MIN 256                  /* smaller files are not worth a twin */
#define TWIN_MAX ((size_t)64 << 20)   /* larger files get no twin (memory bound) */

void prep_cut_export_opts_init(prep_cut_export_opts *o)
{
    memset(o, 0, sizeof *o);
    o->twins = 1;
    o->archive = 1;
}

static int compressible(const char *type)
{
    return !strncmp(type, "text/", 5) || !strncmp(type, "application/json", 16) ||
           !strncmp(type, "application/xml", 15) || !strncmp(type, "image/svg+xml", 13) ||
           !strncmp(type, "application/geo+json", 20) || !strncmp(type, "application/manifest+json", 25) ||
           !strncmp(type, "application/javascript", 22);
}

static int gzip_buf(const unsigned char *in, size_t n, unsigned char **out, size_t *outn)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16 = a gzip wrapper; zlib writes mtime 0, so the output is reproducible. */
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
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

static int brotli_buf(const unsigned char *in, size_t n, unsigned char **out, size_t *outn)
{
    size_t cap = BrotliEncoderMaxCompressedSize(n);
    if (cap == 0) return -1;
    *out = malloc(cap);
    if (!*out) return -1;
    *outn = cap;
    if (!BrotliEncoderCompress(11, 22, BROTLI_MODE_TEXT, n, in, outn, *out)) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* Path of the cached twin (ext "gz" or "br") of object sha256, making it if missing.
 * Returns an owned path, or NULL when the object gets no such twin (not smaller). */
static char *twin_get(cut_store *s, const prep_cut_entry *en, const char *ext, prep_diags *d, prep_err *err)
{
    *err = PREP_OK;
    char *dir = cut_fmt("%s/twins/%.2s", s->root, en->sha256);
    char *p = cut_fmt("%s/%s.%s", dir, en->sha256 + 2, ext);
    char *none = cut_fmt("%s.none", p);
    struct stat st;
    char *objp = NULL;
    unsigned char *out = NULL;
    char *src = NULL;
    if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) goto have;
    if (lstat(none, &st) == 0) goto no;
    objp = cut_fmt("%s/objects/%.2s/%s", s->root, en->sha256, en->sha256 + 2);
    size_t n;
    if (cut_read_small(objp, TWIN_MAX, &src, &n, NULL) != PREP_OK || n != en->size) {
        cut_diag(d, objp, 0, 0, "missing-object", "cannot read the object of '%s'", en->path);
        *err = PREP_ERR_VERIFY;
        goto no;
    }
    size_t on = 0;
    int r = !strcmp(ext, "gz") ? gzip_buf((unsigned char *)src, n, &out, &on)
                               : brotli_buf((unsigned char *)src, n, &out, &on);
    if (cut_mkdir(dir) != 0) goto io;
    if (r != 0 || on >= n) { /* no gain: remember that */
        if (cut_write_atomic(none, "", 0, 0444) != 0) goto io;
        goto no;
    }
    if (cut_write_atomic(p, out, on, 0444) != 0) goto io;
    goto have;
io:
    cut_diag(d, p, 0, 0, "io", "cannot write a compressed twin: %s", strerror(errno));
    *err = PREP_ERR_IO;
no:
    free(p);
    p = NULL;
have:
    free(dir);
    free(none);
    free(objp);
    free(src);
    free(out);
    return p;
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

/* Writes one cut's tree into dir (which exists and is empty). */
static prep_err write_tree(cut_store *s, const prep_cut_manifest *m, const char *sig, size_t siglen, const char *dir,
                           const prep_cut_export_opts *o, prep_diags *d)
{
    prep_err e = PREP_OK;
    for (size_t i = 0; i < m->n && !e; i++) {
        const prep_cut_entry *en = &m->entries[i];
        char *dst = cut_join(dir, en->path);
        char *obj = cut_fmt("%s/objects/%.2s/%s", s->root, en->sha256, en->sha256 + 2);
        struct stat st;
        if (lstat(obj, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != en->size) {
            cut_diag(d, obj, 0, 0, "missing-object", "object of '%s' is missing or damaged; run 'prep verify'",
                           en->path);
            e = PREP_ERR_VERIFY;
        } else if (make_parents(dir, en->path) != 0 || place(obj, dst, o->copy) != 0) {
            cut_diag(d, dst, 0, 0, "io", "cannot write: %s", strerror(errno));
            e = PREP_ERR_IO;
        } else if (o->twins && en->size >= TWIN_MIN && en->size <= TWIN_MAX && compressible(en->media_type)) {
            static const char *exts[] = {"gz", "br"};
            for (int k = 0; k < 2 && !e; k++) {
                char *tname = cut_fmt("%s.%s", en->path, exts[k]);
                if (!prep_cut_manifest_find(m, tname)) {
                    char *tw = twin_get(s, en, exts[k], d, &e);
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

static prep_err archive_cut(cut_store *s, uint64_t seq, const char *arch, const prep_cut_export_opts *o,
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
    prep_err e = cut_store_read_cut(s->root, seq, NULL, &m, &sig, &sl, d);
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
    if (!e) e = write_tree(s, &m, sig, sl, tmp, o, d);
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
    prep_cut_manifest m = {0};
    char *sig = NULL;
    size_t sl = 0;
    uint64_t *seqs = NULL;
    size_t ns = 0;
    cut_store s = {.lock_fd = -1};
    prep_err e = PREP_OK;
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
        cut_diag(d, out_in, 0, 0, "usage", "--out must name a directory to create or replace");
        e = PREP_ERR_USAGE;
        goto out;
    }
    if ((e = cut_store_open(&s, store, 0, d))) goto out;
    uint64_t seq = o->seq;
    if (!seq) {
        prep_cut_active a;
        e = cut_active_read_path(s.root, &a, d);
        if (e == PREP_ERR_NOTFOUND) cut_diag(d, store, 0, 0, "not-found", "the store has no active cut");
        if (e) goto out;
        seq = a.seq;
    }
    if ((e = cut_store_read_cut(s.root, seq, NULL, &m, &sig, &sl, d))) goto out;
    struct stat st;
    if (lstat(out, &st) == 0 && (!S_ISDIR(st.st_mode) || !replaceable(out))) {
        cut_diag(d, out, 0, 0, "exists", "refusing to replace: not a previous prep export and not empty");
        e = PREP_ERR_INVALID;
        goto out;
    }
    cut_rm_rf(tmp);
    if (cut_mkdir(tmp) != 0) {
        cut_diag(d, tmp, 0, 0, "io", "cannot create: %s", strerror(errno));
        e = PREP_ERR_IO;
        goto out;
    }
    if ((e = write_tree(&s, &m, sig, sl, tmp, o, d))) goto out;
    if (o->archive) {
        if (cut_mkdir(arch) != 0) {
            cut_diag(d, arch, 0, 0, "io", "cannot create: %s", strerror(errno));
            e = PREP_ERR_IO;
            goto out;
        }
        if ((e = cut_store_list(s.root, &seqs, &ns, d))) goto out;
        for (size_t i = 0; i < ns && !e; i++)
            if (seqs[i] <= seq) e = archive_cut(&s, seqs[i], arch, o, d);
        if (e) goto out;
        char *link_to = cut_fmt("../%s.cortes", base);
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
    if (lstat(out, &st) != 0) {
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
    cut_rm_rf(tmp);
    cut_store_close(&s);
    prep_cut_manifest_free(&m);
    free(sig);
    free(seqs);
    free(out);
    free(parent);
    free(tmp);
    free(arch);
    return e;
}

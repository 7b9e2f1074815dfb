/* prep cut: the compressed form of a cut's objects on the wire (docs/delivery.md,
 * "Compressed transfer"; docs/formats/cut.md §5).
 *
 * Two halves that meet only in the gzip format:
 *
 * - The receiver's bounded inflate (cut_gz_in_*, prep_cut_gunzip): an object may arrive
 *   as objects/aa/<sha>.gz. Nothing of it is trusted: its own size is bounded before a
 *   byte is read (cut_gz_in_max: what deflate can take for the declared size), the
 *   inflated bytes are bounded by the caller (the signed size + 1 byte, so a bomb stops
 *   at one byte past the declared size), exactly one gzip member is accepted (its CRC-32
 *   and length checked by zlib, nothing after it), and the inflated bytes are then hashed
 *   as if they had come raw. A stream that ends early is "truncated", a corrupt one
 *   "bad-gzip".
 *
 * - The institute's cache (prep_cut_wire_prepare): STORE/wire/aa/<sha>.gz for each new
 *   compressible object of a cut, made once per cut and read by every delivery (push
 *   uploads it, the pull link sends it with Content-Encoding: gzip), and
 *   STORE/wire/cuts/<seq>/manifest.patch.gz, the patch from cut seq-1 compressed. Files
 *   are written under STORE/wire/tmp/, made durable by one syncfs(2), then renamed in: a
 *   crash leaves a .gz whole or absent, never torn. The store's retention removes the .gz
 *   of every object it removes (cut_wire_gc). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cut_internal.h"

/* ---------------------------------------------------------------- bounded inflate */
#define GZ_IN_BUF 65536

uint64_t prep_cut_gz_bound(uint64_t size) { return cut_gz_in_max(size); }

uint64_t cut_gz_in_max(uint64_t size)
{
    /* Deflate's worst case is stored blocks: 5 bytes per 65,535; a gzip header with a
     * name and a comment fits in the constant. Anything longer is not an honest gzip of
     * `size` bytes and is refused from its size, unread. */
    return size + size / 8192 + 4096;
}

int cut_gz_in_open(cut_gz_in *g, int fd, uint64_t in_max)
{
    memset(g, 0, sizeof *g);
    g->fd = fd;
    g->in_max = in_max;
    z_stream *z = calloc(1, sizeof *z);
    g->buf = malloc(GZ_IN_BUF);
    if (!z || !g->buf || inflateInit2(z, 16 + 15) != Z_OK) { /* 16: gzip wrapper only */
        free(z);
        free(g->buf);
        g->buf = NULL;
        return -1;
    }
    g->z = z;
    return 0;
}

void cut_gz_in_close(cut_gz_in *g)
{
    if (g->z) {
        inflateEnd(g->z);
        free(g->z);
    }
    free(g->buf);
    g->z = NULL;
    g->buf = NULL;
}

/* Reads more compressed input. 1 some, 0 end of file, -1 (diag). */
static int gz_fill(cut_gz_in *g, prep_diags *d, const char *label)
{
    z_stream *z = g->z;
    if (g->fd < 0) return 0; /* in memory (prep_cut_gunzip): all of it was given */
    uint64_t room = g->in_max + 1 - g->in_read;
    size_t ask = room < GZ_IN_BUF ? (size_t)room : GZ_IN_BUF;
    ssize_t r = cut_read(g->fd, g->buf, ask, d, label);
    if (r < 0) return -1;
    g->in_read += (uint64_t)r;
    if (g->in_read > g->in_max) {
        prep_diags_add(d, label, 0, 0, "oversize", "the gzip file is longer than %llu bytes, more than any gzip of "
                       "the size the manifest declares", (unsigned long long)g->in_max);
        return -1;
    }
    z->next_in = g->buf;
    z->avail_in = (uInt)r;
    return r > 0;
}

ssize_t cut_gz_in_read(void *ctx, void *buf, size_t n, prep_diags *d, const char *label)
{
    cut_gz_in *g = ctx;
    z_stream *z = g->z;
    if (g->ended) {
        /* After the member: nothing more may follow (a second member, garbage). */
        if (z->avail_in == 0) {
            int f = gz_fill(g, d, label);
            if (f < 0) return -2;
            if (f == 0) return 0;
        }
        prep_diags_add(d, label, 0, 0, "bad-gzip", "bytes after the end of the gzip stream");
        return -2;
    }
    z->next_out = buf;
    z->avail_out = (uInt)(n > 0x40000000u ? 0x40000000u : n);
    uInt asked = z->avail_out;
    while (z->avail_out == asked) {
        if (z->avail_in == 0) {
            int f = gz_fill(g, d, label);
            if (f < 0) return -2;
            if (f == 0) {
                prep_diags_add(d, label, 0, 0, "truncated", "the gzip stream ends before its end (%llu bytes read)",
                               (unsigned long long)g->in_read);
                return -2;
            }
        }
        int r = inflate(z, Z_NO_FLUSH);
        if (r == Z_STREAM_END) {
            g->ended = 1;
            break;
        }
        if (r == Z_MEM_ERROR) {
            prep_diags_add(d, label, 0, 0, "io", "out of memory while inflating");
            return -1;
        }
        if (r != Z_OK && r != Z_BUF_ERROR) {
            prep_diags_add(d, label, 0, 0, "bad-gzip", "not a valid gzip stream: %s", z->msg ? z->msg : "zlib error");
            return -2;
        }
    }
    size_t got = asked - z->avail_out;
    if (got == 0 && g->ended) return cut_gz_in_read(ctx, buf, n, d, label);
    return (ssize_t)got;
}

/* A cut_gz_in over memory: the fd is -1 and the whole input is given at once. */
prep_err prep_cut_gunzip(const void *in, size_t n, uint64_t max, char **out, size_t *outn, const char *label,
                         prep_diags *d)
{
    *out = NULL;
    *outn = 0;
    if (!label) label = "(gzip)";
    cut_gz_in g;
    if (cut_gz_in_open(&g, -1, n)) return PREP_ERR_NOMEM;
    z_stream *z = g.z;
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)n;
    g.in_read = n;
    prep_buf b;
    prep_buf_init(&b, (size_t)max);
    prep_err e = PREP_OK;
    char tmp[GZ_IN_BUF];
    for (;;) {
        uint64_t room = max + 1 - b.len;
        ssize_t r = cut_gz_in_read(&g, tmp, room < sizeof tmp ? (size_t)room : sizeof tmp, d, label);
        if (r == 0) break;
        if (r < 0) {
            e = r == -1 ? PREP_ERR_NOMEM : PREP_ERR_VERIFY;
            break;
        }
        if (b.len + (size_t)r > max) {
            prep_diags_add(d, label, 0, 0, "oversize", "inflates to more than %llu bytes", (unsigned long long)max);
            e = PREP_ERR_VERIFY;
            break;
        }
        if ((e = prep_buf_append(&b, tmp, (size_t)r))) break;
    }
    cut_gz_in_close(&g);
    if (e) {
        prep_buf_free(&b);
        return e;
    }
    *out = prep_buf_steal(&b, outn);
    if (!*out) {
        *out = malloc(1);
        if (!*out) return PREP_ERR_NOMEM;
    }
    return PREP_OK;
}

/* ---------------------------------------------------------------- the institute's cache */
int prep_cut_wire_object_path(const char *store, const char *sha256, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "%s/wire/%.2s/%s.gz", store, sha256, sha256 + 2);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int prep_cut_wire_patch_path(const char *store, uint64_t seq, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "%s/wire/cuts/%llu/manifest.patch.gz", store, (unsigned long long)seq);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int prep_cut_wire_compressible(const char *media_type)
{
    if (!media_type) return 0;
    static const char *const types[] = {"text/", "application/json", "application/geo+json", "application/javascript",
                                        "application/xml", "image/svg+xml", "application/manifest+json"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(types); i++)
        if (!strncmp(media_type, types[i], strlen(types[i]))) return 1;
    return 0;
}

/* gzip of in[0..n) at level into *out (owned). 0, or -1. */
static int gzip_mem(z_stream *z, const void *in, size_t n, unsigned char **out, size_t *outn)
{
    if (deflateReset(z) != Z_OK) return -1;
    size_t cap = deflateBound(z, (uLong)n) + 64;
    *out = malloc(cap);
    if (!*out) return -1;
    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)n;
    z->next_out = *out;
    z->avail_out = (uInt)cap;
    if (deflate(z, Z_FINISH) != Z_STREAM_END) {
        free(*out);
        *out = NULL;
        return -1;
    }
    *outn = cap - z->avail_out;
    return 0;
}

typedef struct wire_job {
    char *tmp, *dst; /* owned */
} wire_job;

typedef struct wire_run {
    const char *root;
    char *tmpdir;        /* owned: STORE/wire/tmp */
    z_stream z;
    int z_ok;
    wire_job *jobs;
    size_t n_jobs, cap_jobs;
    unsigned counter;
    prep_cut_wire_result *r;
} wire_run;

/* Writes data to a new file under wire/tmp; queues its rename to dst (taken). */
static prep_err wire_stage(wire_run *w, char *dst, const void *data, size_t len, prep_diags *d)
{
    char *tmp = cut_fmt("%s/w.%ld.%u", w->tmpdir, (long)getpid(), w->counter++);
    int fd = cut_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (fd < 0 || cut_write_all(fd, data, len, tmp) != 0 || close(fd) != 0) {
        prep_diags_add(d, tmp, 0, 0, "io", "cannot write the compressed form: %s", strerror(errno));
        if (fd >= 0) close(fd);
        unlink(tmp);
        free(tmp);
        free(dst);
        return PREP_ERR_IO;
    }
    if (w->n_jobs == w->cap_jobs) {
        w->cap_jobs = w->cap_jobs ? w->cap_jobs * 2 : 256;
        w->jobs = prep_xrealloc(w->jobs, w->cap_jobs * sizeof *w->jobs);
    }
    w->jobs[w->n_jobs++] = (wire_job){tmp, dst};
    return PREP_OK;
}

/* One object: compressed when its type is compressible, it has no .gz yet, and the .gz
 * is smaller. */
static prep_err wire_object(wire_run *w, const char *sha, uint64_t size, const char *type, prep_diags *d)
{
    prep_cut_wire_result *r = w->r;
    if (!prep_cut_wire_compressible(type) || size < PREP_CUT_WIRE_MIN_BYTES) {
        r->skipped++;
        return PREP_OK;
    }
    char gp[PREP_CUT_PATH_MAX + 256], op[PREP_CUT_PATH_MAX + 256];
    struct stat st;
    if (prep_cut_wire_object_path(w->root, sha, gp, sizeof gp) || prep_cut_object_path(w->root, sha, op, sizeof op))
        return PREP_ERR_LIMIT;
    if (lstat(gp, &st) == 0) {
        r->cached++;
        return PREP_OK;
    }
    int fd = open(op, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
        prep_diags_add(d, op, 0, 0, "missing-object", "the store's object is absent or not of its declared size");
        if (fd >= 0) close(fd);
        return PREP_ERR_VERIFY;
    }
    void *m = size ? mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (m == MAP_FAILED) {
        prep_diags_add(d, op, 0, 0, "io", "cannot map: %s", strerror(errno));
        return PREP_ERR_IO;
    }
    unsigned char *gz = NULL;
    size_t gzn = 0;
    int bad = gzip_mem(&w->z, m, (size_t)size, &gz, &gzn);
    munmap(m, (size_t)size);
    if (bad) return PREP_ERR_NOMEM;
    r->raw_bytes += size;
    prep_err e = PREP_OK;
    if (gzn < size) {
        char dir[PREP_CUT_PATH_MAX + 256];
        snprintf(dir, sizeof dir, "%s/wire/%.2s", w->root, sha);
        if (cut_mkdir(dir) != 0) {
            prep_diags_add(d, dir, 0, 0, "io", "cannot create: %s", strerror(errno));
            e = PREP_ERR_IO;
        } else if (!(e = wire_stage(w, prep_xstrdup(gp), gz, gzn, d))) {
            r->compressed++;
            r->gz_bytes += gzn;
        }
    } else {
        r->kept_raw++;
        r->gz_bytes += size;
    }
    free(gz);
    return e;
}

/* The patch from cut seq-1 to seq, compressed (when the raw patch is worth sending: smaller
 * than the manifest, as prep_deliver_patch decides). */
static prep_err wire_patch(wire_run *w, const prep_cut_manifest *prev, const prep_cut_manifest *cur, uint64_t seq,
                           prep_diags *d)
{
    char gp[PREP_CUT_PATH_MAX + 256];
    struct stat st;
    if (prep_cut_wire_patch_path(w->root, seq, gp, sizeof gp)) return PREP_ERR_LIMIT;
    if (lstat(gp, &st) == 0) return PREP_OK;
    prep_buf pb;
    prep_buf_init(&pb, cur->raw_len + 1);
    prep_err e = prep_cut_manifest_diff(prev, cur, &pb);
    if (e || pb.len >= cur->raw_len) {
        prep_buf_free(&pb);
        return e == PREP_ERR_NOMEM ? e : PREP_OK; /* no patch worth sending: the manifest goes */
    }
    unsigned char *gz = NULL;
    size_t gzn = 0;
    if (gzip_mem(&w->z, pb.data, pb.len, &gz, &gzn)) {
        prep_buf_free(&pb);
        return PREP_ERR_NOMEM;
    }
    w->r->patch_bytes = pb.len;
    w->r->patch_gz_bytes = gzn;
    prep_buf_free(&pb);
    char *dir = cut_fmt("%s/wire/cuts/%llu", w->root, (unsigned long long)seq);
    char *cuts = cut_fmt("%s/wire/cuts", w->root);
    if (cut_mkdir(cuts) != 0 || cut_mkdir(dir) != 0) {
        prep_diags_add(d, dir, 0, 0, "io", "cannot create: %s", strerror(errno));
        e = PREP_ERR_IO;
    } else {
        e = wire_stage(w, prep_xstrdup(gp), gz, gzn, d);
    }
    free(dir);
    free(cuts);
    free(gz);
    return e;
}

static int cmp64(const void *a, const void *b) { return memcmp(a, b, 64); }

/* Durable, then visible: one syncfs of the store's file system, the renames, and an
 * fsync of every directory renamed into. */
static prep_err wire_commit(wire_run *w, prep_diags *d)
{
    if (!w->n_jobs) return PREP_OK;
    prep_err e = cut_syncfs(w->tmpdir, "the compressed forms", d);
    if (e) return e;
    for (size_t i = 0; i < w->n_jobs && !e; i++) {
        if (cut_rename(w->jobs[i].tmp, w->jobs[i].dst) != 0) {
            prep_diags_add(d, w->jobs[i].dst, 0, 0, "io", "cannot rename into place: %s", strerror(errno));
            e = PREP_ERR_IO;
        }
    }
    /* the directories, each once (the jobs are in no order: sort their names) */
    size_t n = w->n_jobs;
    char **dirs = prep_xmalloc(n * sizeof *dirs);
    for (size_t i = 0; i < n; i++) {
        dirs[i] = prep_xstrdup(w->jobs[i].dst);
        char *sl = strrchr(dirs[i], '/');
        if (sl) *sl = '\0';
    }
    for (size_t i = 0; i < n && !e; i++) {
        int seen = 0;
        for (size_t k = i + 1; k < n && !seen && k < i + 64; k++) seen = !strcmp(dirs[i], dirs[k]);
        if (!seen && cut_fsync_dir(dirs[i]) != 0) {
            prep_diags_add(d, dirs[i], 0, 0, "io", "cannot sync the directory: %s", strerror(errno));
            e = PREP_ERR_IO;
        }
    }
    for (size_t i = 0; i < n; i++) free(dirs[i]);
    free(dirs);
    return e;
}

static void wire_run_free(wire_run *w)
{
    for (size_t i = 0; i < w->n_jobs; i++) {
        unlink(w->jobs[i].tmp); /* after a successful rename: ENOENT, harmless */
        free(w->jobs[i].tmp);
        free(w->jobs[i].dst);
    }
    free(w->jobs);
    if (w->z_ok) deflateEnd(&w->z);
    free(w->tmpdir);
}

/* Opens STORE/wire (created), takes its lock (flock, blocking), empties wire/tmp. */
static int wire_lock(const char *root, prep_diags *d)
{
    char *dir = cut_fmt("%s/wire", root), *tmp = cut_fmt("%s/wire/tmp", root), *lk = cut_fmt("%s/wire/lock", root);
    int fd = -1;
    if (cut_mkdir(dir) != 0 || cut_mkdir(tmp) != 0) {
        prep_diags_add(d, dir, 0, 0, "io", "cannot create: %s", strerror(errno));
    } else if ((fd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0 || flock(fd, LOCK_EX) != 0) {
        prep_diags_add(d, lk, 0, 0, "io", "cannot lock: %s", strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    } else {
        DIR *dp = opendir(tmp);
        struct dirent *de;
        while (dp && (de = readdir(dp)))
            if (de->d_name[0] != '.') unlinkat(dirfd(dp), de->d_name, 0);
        if (dp) closedir(dp);
    }
    free(dir);
    free(tmp);
    free(lk);
    return fd;
}

prep_err prep_cut_wire_prepare(const char *store, uint64_t seq, int level, prep_cut_wire_result *r, prep_diags *d)
{
    prep_cut_wire_result local;
    if (!r) r = &local;
    memset(r, 0, sizeof *r);
    /* Made already (every push worker of the institute asks, once per target): done. */
    char *done = cut_fmt("%s/wire/cuts/%llu/done", store, (unsigned long long)seq);
    struct stat dst;
    int made = lstat(done, &dst) == 0;
    if (made) {
        free(done);
        return PREP_OK;
    }
    prep_cut_manifest cur = {0}, prev = {0};
    prep_err e = prep_cut_load(store, seq, &cur, d);
    if (e) {
        free(done);
        return e;
    }
    int have_prev = 0;
    if (seq > 1) {
        prep_diags pd;
        prep_diags_init(&pd);
        have_prev = prep_cut_load(store, seq - 1, &prev, &pd) == PREP_OK;
        prep_diags_free(&pd);
    }
    wire_run w = {.root = store, .tmpdir = cut_fmt("%s/wire/tmp", store), .r = r};
    char(*old)[64] = NULL;
    struct wire_obj {
        char sha[64]; /* first: cmp64 sorts by it */
        uint64_t size;
        const char *type;
    } *seen = NULL;
    size_t n_old = 0, n_seen = 0;
    int lock = wire_lock(store, d);
    if (lock < 0) {
        e = PREP_ERR_IO;
        goto out;
    }
    if (lstat(done, &dst) == 0) goto out; /* made by the writer this one waited for */
    if (deflateInit2(&w.z, level > 0 ? level : PREP_CUT_WIRE_LEVEL, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        e = PREP_ERR_NOMEM;
        goto out;
    }
    w.z_ok = 1;
    /* the objects of the cut before (a sorted list): what every broadcaster on it holds */
    for (size_t i = 0; have_prev && i < prev.n; i++) n_old += cut_entry_nobj(&prev.entries[i]);
    old = prep_xmalloc((n_old ? n_old : 1) * 64);
    n_old = 0;
    for (size_t i = 0; have_prev && i < prev.n; i++)
        for (size_t j = 0; j < cut_entry_nobj(&prev.entries[i]); j++)
            memcpy(old[n_old++], cut_entry_obj_sha(&prev.entries[i], j), 64);
    if (n_old) qsort(old, n_old, 64, cmp64);
    size_t n_all = 0;
    for (size_t i = 0; i < cur.n; i++) n_all += cut_entry_nobj(&cur.entries[i]);
    /* the new objects, each once (a part shared by many entries, the stamp, is one) */
    seen = prep_xmalloc((n_all ? n_all : 1) * sizeof *seen);
    for (size_t i = 0; i < cur.n; i++) {
        const prep_cut_entry *en = &cur.entries[i];
        for (size_t j = 0; j < cut_entry_nobj(en); j++) {
            const char *sha = cut_entry_obj_sha(en, j);
            if (n_old && bsearch(sha, old, n_old, 64, cmp64)) continue;
            memcpy(seen[n_seen].sha, sha, 64);
            seen[n_seen].size = cut_entry_obj_size(en, j);
            seen[n_seen++].type = en->media_type;
        }
    }
    if (n_seen) qsort(seen, n_seen, sizeof *seen, cmp64);
    for (size_t i = 0; i < n_seen && !e; i++) {
        if (i && !memcmp(seen[i].sha, seen[i - 1].sha, 64)) continue;
        char sha[65];
        memcpy(sha, seen[i].sha, 64);
        sha[64] = '\0';
        r->objects++;
        e = wire_object(&w, sha, seen[i].size, seen[i].type, d);
    }
    if (!e && have_prev) e = wire_patch(&w, &prev, &cur, seq, d);
    if (!e) e = wire_commit(&w, d);
    if (!e && lstat(done, &dst) != 0) { /* another process may have made it meanwhile */
        char *cd = cut_fmt("%s/wire/cuts/%llu", store, (unsigned long long)seq), *cs = cut_fmt("%s/wire/cuts", store);
        if (cut_mkdir(cs) != 0 || cut_mkdir(cd) != 0 || cut_write_atomic(done, "", 0, 0444) != 0) {
            prep_diags_add(d, done, 0, 0, "io", "cannot write: %s", strerror(errno));
            e = PREP_ERR_IO;
        }
        free(cd);
        free(cs);
    }
out:
    free(done);
    wire_run_free(&w);
    if (lock >= 0) close(lock);
    free(old);
    free(seen);
    prep_cut_manifest_free(&cur);
    prep_cut_manifest_free(&prev);
    return e;
}

/* ---------------------------------------------------------------- retention */
void cut_wire_gc(const char *root, const char (*keep)[64], size_t nk, uint64_t cutoff)
{
    char *wd = cut_fmt("%s/wire", root);
    struct stat st;
    if (lstat(wd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        free(wd);
        return;
    }
    free(wd);
    for (int aa = 0; aa < 256; aa++) {
        char *dir = cut_fmt("%s/wire/%02x", root, aa);
        DIR *dp = opendir(dir);
        struct dirent *de;
        while (dp && (de = readdir(dp))) {
            if (strlen(de->d_name) != 65 || strcmp(de->d_name + 62, ".gz")) continue;
            char sha[64];
            snprintf(sha, sizeof sha, "%02x", aa);
            memcpy(sha + 2, de->d_name, 62);
            if (nk && bsearch(sha, keep, nk, 64, cmp64)) continue;
            unlinkat(dirfd(dp), de->d_name, 0);
        }
        if (dp) closedir(dp);
        free(dir);
    }
    char *cd = cut_fmt("%s/wire/cuts", root);
    DIR *dp = opendir(cd);
    struct dirent *de;
    while (dp && (de = readdir(dp))) {
        uint64_t v;
        if (cut_parse_seq_name(de->d_name, &v) || v >= cutoff) continue;
        char *p = cut_join(cd, de->d_name);
        cut_rm_rf(p);
        free(p);
    }
    if (dp) closedir(dp);
    free(cd);
}

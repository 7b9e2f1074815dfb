/* prep cut: a broadcaster receives and activates cuts (prep_cut_receive).
 *
 * Two phases. Phase 1 looks at the whole incoming area before touching the store: only
 * cuts/<seq>/{manifest,manifest.sig} and objects/aa/<62 hex> may be there, no symlink,
 * every signature must verify with a trusted key, every manifest must parse, and every
 * object must be referenced by one of the manifests; anything else refuses the batch.
 * Phase 2 takes the cuts in ascending sequence and, for each, re-reads and re-verifies
 * it (what is used is what was verified), applies the policy (mode, process, sequence,
 * chain, clock), installs the objects it lacks (each hashed while copied, at most the
 * declared size + 1 byte read), and only then switches the active pointer. A refusal
 * in phase 2 stops the batch; earlier cuts of the batch stay activated (each is whole). */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cut_internal.h"

void prep_cut_policy_init(prep_cut_policy *p)
{
    memset(p, 0, sizeof *p);
    p->mode = PREP_CUT_LIVE;
    p->now = PREP_TIME_NONE;
    p->max_skew = 300;
    p->check_validity = 1;
    prep_cut_limits_default(&p->limits);
}

prep_err cut_check_signed(const prep_cut_policy *pol, const char *mbytes, size_t mlen, const char *sbytes,
                          size_t slen, const char *label, int keep_raw, prep_cut_manifest *m, prep_diags *d)
{
    memset(m, 0, sizeof *m);
    char *sl = cut_fmt("%s.sig", label);
    prep_cut_sig sig;
    prep_err e = prep_cut_sig_parse(sbytes, slen, sl, &sig, d);
    if (!e) e = prep_cut_sig_verify(pol->keys, pol->n_keys, &sig, mbytes, mlen, NULL, sl, d);
    free(sl);
    if (e) return PREP_ERR_VERIFY;
    e = cut_manifest_parse_ex(mbytes, mlen, &pol->limits, label, keep_raw, m, d);
    if (e) return e == PREP_ERR_NOMEM ? e : PREP_ERR_VERIFY;
    if (memcmp(m->meta.keynum, sig.keynum, 8) != 0) {
        char a[17], b[17];
        prep_cut_keynum_hex(m->meta.keynum, a);
        prep_cut_keynum_hex(sig.keynum, b);
        prep_diags_add(d, label, 0, 0, "key-mismatch", "manifest names key %s but is signed by key %s", a, b);
        prep_cut_manifest_free(m);
        return PREP_ERR_VERIFY;
    }
    if (m->meta.mode != pol->mode) {
        prep_diags_add(d, label, 0, 0, "mode", "a %s cut offered to a %s store; refused", prep_cut_mode_name(m->meta.mode),
                       prep_cut_mode_name(pol->mode));
        prep_cut_manifest_free(m);
        return PREP_ERR_VERIFY;
    }
    return PREP_OK;
}

/* ---------------------------------------------------------------- hash set of object ids */
typedef struct objset {
    char (*v)[65];
    unsigned char *mark; /* 1 = referenced */
    size_t cap, n;
} objset;

static uint64_t hx64(const char *s)
{
    uint64_t h = 0;
    for (int i = 0; i < 16; i++) h = h << 4 | (uint64_t)(s[i] >= 'a' ? s[i] - 'a' + 10 : s[i] - '0');
    return h;
}

static int objset_init(objset *o, size_t n)
{
    o->cap = 64;
    while (o->cap < n * 2) o->cap <<= 1;
    o->v = calloc(o->cap, sizeof *o->v);
    o->mark = calloc(o->cap, 1);
    o->n = 0;
    return o->v && o->mark ? 0 : -1;
}

static void objset_free(objset *o)
{
    free(o->v);
    free(o->mark);
    memset(o, 0, sizeof *o);
}

/* Index of h in o, or -1. */
static long objset_find(const objset *o, const char *h)
{
    if (!o->cap) return -1;
    for (size_t i = hx64(h) & (o->cap - 1);; i = (i + 1) & (o->cap - 1)) {
        if (!o->v[i][0]) return -1;
        if (!memcmp(o->v[i], h, 64)) return (long)i;
    }
}

/* Adds h (growing the table); returns 1 if new, 0 if present, -1 out of memory. */
static int objset_add(objset *o, const char *h)
{
    if (objset_find(o, h) >= 0) return 0;
    if ((o->n + 1) * 2 > o->cap) {
        objset g;
        if (objset_init(&g, o->cap ? o->cap : 32)) {
            objset_free(&g);
            return -1;
        }
        for (size_t i = 0; i < o->cap; i++) {
            if (!o->v[i][0]) continue;
            size_t k = hx64(o->v[i]) & (g.cap - 1);
            while (g.v[k][0]) k = (k + 1) & (g.cap - 1);
            memcpy(g.v[k], o->v[i], 65);
            g.mark[k] = o->mark[i];
            g.n++;
        }
        objset_free(o);
        *o = g;
    }
    size_t i = hx64(h) & (o->cap - 1);
    while (o->v[i][0]) i = (i + 1) & (o->cap - 1);
    memcpy(o->v[i], h, 65);
    o->n++;
    return 1;
}

/* ---------------------------------------------------------------- incoming scan */
typedef struct incoming {
    const char *root;
    uint64_t *seqs;
    size_t n_seqs;
    objset objs; /* objects present in incoming as objects/aa/<62 hex> */
    objset gz;   /* and as objects/aa/<62 hex>.gz (wire.c inflates them, bounded) */
} incoming;

static int is_hex_name(const char *s, size_t n)
{
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}


/* lstat p and demand a type; diag otherwise. want: 'd' dir, 'f' regular. */
static int want_type(const char *p, char want, prep_diags *d)
{
    struct stat st;
    if (lstat(p, &st) != 0) {
        prep_diags_add(d, p, 0, 0, "io", "cannot stat: %s", strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode)) {
        prep_diags_add(d, p, 0, 0, "symlink", "a symbolic link in the incoming cut; refused");
        return -1;
    }
    if (want == 'd' ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
        prep_diags_add(d, p, 0, 0, want == 'd' ? "extra-file" : "not-regular", "%s",
                       want == 'd' ? "a file where a directory belongs" : "not a regular file");
        return -1;
    }
    return 0;
}

#define EXTRA(path) prep_diags_add(d, path, 0, 0, "extra-file", "not part of any incoming cut; refused")

static prep_err scan_incoming(incoming *in, size_t max_entries, prep_diags *d)
{
    prep_err e = PREP_OK;
    size_t seen = 0, seqcap = 0;
    if (want_type(in->root, 'd', d)) return PREP_ERR_VERIFY;
    if (objset_init(&in->objs, 64) || objset_init(&in->gz, 64)) return PREP_ERR_NOMEM;
    DIR *top = opendir(in->root);
    if (!top) return PREP_ERR_IO;
    struct dirent *de;
    while (!e && (de = readdir(top))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *p = cut_join(in->root, de->d_name);
        if (strcmp(de->d_name, "cuts") && strcmp(de->d_name, "objects")) {
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode))
                prep_diags_add(d, p, 0, 0, "symlink", "a symbolic link in the incoming cut; refused");
            else
                EXTRA(p);
            e = PREP_ERR_VERIFY;
        } else if (want_type(p, 'd', d)) {
            e = PREP_ERR_VERIFY;
        } else if (!strcmp(de->d_name, "cuts")) {
            DIR *cd = opendir(p);
            struct dirent *ce;
            while (cd && !e && (ce = readdir(cd))) {
                if (!strcmp(ce->d_name, ".") || !strcmp(ce->d_name, "..")) continue;
                char *cp = cut_join(p, ce->d_name);
                uint64_t v;
                if (++seen > max_entries) {
                    prep_diags_add(d, in->root, 0, 0, "limit", "more than %zu entries in the incoming area", max_entries);
                    e = PREP_ERR_LIMIT;
                } else if (cut_parse_seq_name(ce->d_name, &v)) {
                    EXTRA(cp);
                    e = PREP_ERR_VERIFY;
                } else if (want_type(cp, 'd', d)) {
                    e = PREP_ERR_VERIFY;
                } else {
                    DIR *sd = opendir(cp);
                    struct dirent *se;
                    int have = 0;
                    while (sd && !e && (se = readdir(sd))) {
                        if (!strcmp(se->d_name, ".") || !strcmp(se->d_name, "..")) continue;
                        char *fp = cut_join(cp, se->d_name);
                        if (strcmp(se->d_name, "manifest") && strcmp(se->d_name, "manifest.sig") &&
                            strcmp(se->d_name, "manifest.patch") && strcmp(se->d_name, "manifest.patch.gz")) {
                            struct stat st;
                            if (lstat(fp, &st) == 0 && S_ISLNK(st.st_mode))
                                prep_diags_add(d, fp, 0, 0, "symlink", "a symbolic link in the incoming cut; refused");
                            else
                                EXTRA(fp);
                            e = PREP_ERR_VERIFY;
                        } else if (want_type(fp, 'f', d)) {
                            e = PREP_ERR_VERIFY;
                        } else {
                            have++;
                        }
                        free(fp);
                    }
                    if (sd) closedir(sd);
                    char *sgp = cut_join(cp, "manifest.sig");
                    int has_sig = !e && access(sgp, F_OK) == 0;
                    free(sgp);
                    if (!e && (have != 2 || !has_sig)) {
                        prep_diags_add(d, cp, 0, 0, have > 2 ? "extra-file" : "missing-object",
                                 "needs manifest.sig and one of manifest, manifest.patch or manifest.patch.gz");
                        e = PREP_ERR_VERIFY;
                    }
                    if (!e) {
                        if (in->n_seqs == seqcap) {
                            seqcap = seqcap ? seqcap * 2 : 16;
                            in->seqs = prep_xrealloc(in->seqs, seqcap * sizeof *in->seqs);
                        }
                        in->seqs[in->n_seqs++] = v;
                    }
                }
                free(cp);
            }
            if (cd) closedir(cd);
        } else { /* objects */
            DIR *od = opendir(p);
            struct dirent *oe;
            while (od && !e && (oe = readdir(od))) {
                if (!strcmp(oe->d_name, ".") || !strcmp(oe->d_name, "..")) continue;
                char *op = cut_join(p, oe->d_name);
                if (!is_hex_name(oe->d_name, 2)) {
                    EXTRA(op);
                    e = PREP_ERR_VERIFY;
                } else if (want_type(op, 'd', d)) {
                    e = PREP_ERR_VERIFY;
                } else {
                    DIR *hd = opendir(op);
                    struct dirent *he;
                    while (hd && !e && (he = readdir(hd))) {
                        if (!strcmp(he->d_name, ".") || !strcmp(he->d_name, "..")) continue;
                        char *fp = cut_join(op, he->d_name);
                        char h[65], id[66];
                        /* objects/aa/<62 hex>, or the same gzip'd: <62 hex>.gz */
                        size_t nl = strnlen(he->d_name, sizeof id - 1);
                        memcpy(id, he->d_name, nl);
                        id[nl] = '\0';
                        int gz = strlen(he->d_name) == 65 && !strcmp(he->d_name + 62, ".gz");
                        if (gz) id[62] = '\0';
                        if (++seen > max_entries) {
                            prep_diags_add(d, in->root, 0, 0, "limit", "more than %zu entries in the incoming area",
                                           max_entries);
                            e = PREP_ERR_LIMIT;
                        } else if (!is_hex_name(id, 62)) {
                            EXTRA(fp);
                            e = PREP_ERR_VERIFY;
                        } else if (want_type(fp, 'f', d)) {
                            e = PREP_ERR_VERIFY;
                        } else {
                            memcpy(h, oe->d_name, 2);
                            memcpy(h + 2, id, 63);
                            if (objset_add(gz ? &in->gz : &in->objs, h) < 0) e = PREP_ERR_NOMEM;
                        }
                        free(fp);
                    }
                    if (hd) closedir(hd);
                }
                free(op);
            }
            if (od) closedir(od);
        }
        free(p);
    }
    closedir(top);
    if (!e && in->n_seqs > 1) {
        for (size_t i = 1; i < in->n_seqs; i++) /* insertion sort: batches are small */
            for (size_t k = i; k > 0 && in->seqs[k - 1] > in->seqs[k]; k--) {
                uint64_t t = in->seqs[k];
                in->seqs[k] = in->seqs[k - 1];
                in->seqs[k - 1] = t;
            }
    }
    if (!e && in->n_seqs == 0) {
        prep_diags_add(d, in->root, 0, 0, "missing-object", "no cut in the incoming area (cuts/<seq>/manifest)");
        e = PREP_ERR_VERIFY;
    }
    return e;
}

static prep_err read_file_diag(const char *p, uint64_t max, char **b, size_t *n, prep_diags *d)
{
    const char *why = "";
    prep_err e = cut_read_small(p, (size_t)max, b, n, &why);
    if (e == PREP_ERR_LIMIT)
        prep_diags_add(d, p, 0, 0, "limit", "larger than %llu bytes", (unsigned long long)max);
    else if (e == PREP_ERR_INVALID)
        prep_diags_add(d, p, 0, 0, strstr(why, "symbolic") ? "symlink" : "not-regular", "%s", why);
    else if (e)
        prep_diags_add(d, p, 0, 0, "io", "cannot read: %s", strerror(errno));
    return e;
}

/* A patch file (p ends in ".gz": inflated, at most max bytes either way). */
static prep_err read_patch(const char *p, uint64_t max, char **b, size_t *n, prep_diags *d)
{
    size_t pl = strlen(p);
    if (pl < 3 || strcmp(p + pl - 3, ".gz")) return read_file_diag(p, max, b, n, d);
    char *z = NULL;
    size_t zn = 0;
    prep_err e = read_file_diag(p, cut_gz_in_max(max), &z, &zn, d);
    if (!e) e = prep_cut_gunzip(z, zn, max, b, n, p, d);
    free(z);
    return e;
}

static int in_batch(const incoming *in, uint64_t seq)
{
    for (size_t i = 0; i < in->n_seqs; i++)
        if (in->seqs[i] == seq) return 1;
    return 0;
}

/* The manifest bytes of incoming cut seq (owned): the file itself, or its patch applied
 * to the manifest of cut seq-1 (from the store, else from this batch). Unverified. */
static prep_err incoming_manifest(const incoming *in, const char *store, uint64_t seq, const prep_cut_policy *pol,
                                  int depth, char **out, size_t *outn, prep_diags *d)
{
    *out = NULL;
    char *mp = cut_fmt("%s/cuts/%llu/manifest", in->root, (unsigned long long)seq);
    char *pp = cut_fmt("%s.patch", mp);
    char *pz = cut_fmt("%s.gz", pp);
    struct stat st;
    prep_err e;
    if (lstat(pp, &st) != 0 && lstat(pz, &st) == 0) { /* the patch came gzip'd */
        free(pp);
        pp = pz;
        pz = NULL;
    }
    free(pz);
    if (lstat(pp, &st) != 0) {
        e = read_file_diag(mp, pol->limits.max_manifest_bytes, out, outn, d);
        goto out;
    }
    char *patch = NULL, *bb = NULL;
    size_t pn = 0, bn = 0;
    prep_cut_manifest base = {0};
    if ((e = read_patch(pp, pol->limits.max_manifest_bytes, &patch, &pn, d))) goto out;
    char *bp = cut_fmt("%s/cuts/%llu/manifest", store, (unsigned long long)(seq - 1));
    if (seq > 1 && lstat(bp, &st) == 0) {
        e = read_file_diag(bp, pol->limits.max_manifest_bytes, &bb, &bn, d);
    } else if (seq > 1 && depth < 64 && in_batch(in, seq - 1)) {
        e = incoming_manifest(in, store, seq - 1, pol, depth + 1, &bb, &bn, d);
    } else {
        prep_diags_add(d, pp, 0, 0, "patch-base", "a patch needs cut %llu's manifest, which this receiver lacks",
                 (unsigned long long)(seq - 1));
        e = PREP_ERR_VERIFY;
    }
    free(bp);
    if (!e) e = prep_cut_manifest_parse(bb, bn, &pol->limits, "patch base", &base, d);
    prep_buf nb;
    /* A "#s" substitution reads part objects: the store's (verified), then this batch's. */
    const char *roots[2] = {store, in->root};
    if (!e) e = prep_cut_manifest_patch_objects(&base, patch, pn, &pol->limits, roots, 2, pp, &nb, d);
    if (!e) *out = prep_buf_steal(&nb, outn);
    if (*out == NULL && !e) e = PREP_ERR_NOMEM;
    prep_cut_manifest_free(&base);
    free(patch);
    free(bb);
out:
    free(mp);
    free(pp);
    return e;
}

/* Reads and verifies incoming cut seq. */
static prep_err read_incoming_cut(const incoming *in, const char *store, uint64_t seq, const prep_cut_policy *pol,
                                  prep_cut_manifest *m, char **sig, size_t *siglen, prep_diags *d)
{
    char *mp = cut_fmt("%s/cuts/%llu/manifest", in->root, (unsigned long long)seq);
    char *sp = cut_fmt("%s.sig", mp);
    char *mb = NULL, *sb = NULL;
    size_t ml = 0, sl = 0;
    const char *why = "";
    memset(m, 0, sizeof *m);
    prep_err e = incoming_manifest(in, store, seq, pol, 0, &mb, &ml, d);
    if (!e) {
        e = cut_read_small(sp, 4096, &sb, &sl, &why);
        if (e) prep_diags_add(d, sp, 0, 0, e == PREP_ERR_LIMIT ? "sig-envelope" : "io", "cannot read the signature%s",
                              e == PREP_ERR_LIMIT ? " (larger than 4096 bytes)" : "");
    }
    if (!e) e = cut_check_signed(pol, mb, ml, sb, sl, mp, 1, m, d);
    if (!e && m->meta.seq != seq) {
        prep_diags_add(d, mp, 0, 0, "manifest-field", "manifest says sequence %llu but was delivered as cut %llu",
                       (unsigned long long)m->meta.seq, (unsigned long long)seq);
        prep_cut_manifest_free(m);
        e = PREP_ERR_VERIFY;
    }
    if (e && e != PREP_ERR_NOMEM && e != PREP_ERR_IO) e = PREP_ERR_VERIFY;
    free(mb);
    if (!e && sig) {
        *sig = sb;
        *siglen = sl;
    } else {
        free(sb);
    }
    free(mp);
    free(sp);
    return e;
}

static prep_err refuse(prep_diags *d, const char *label, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static prep_err refuse(prep_diags *d, const char *label, const char *kind, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    prep_diags_add(d, label, 0, 0, kind, "%s", msg);
    return PREP_ERR_VERIFY;
}

/* An object sent as objects/aa/<sha>.gz: a file no longer than any gzip of size bytes,
 * inflated into the store (at most size + 1 bytes out) and hashed as it goes. */
static prep_err take_gz(cut_store *s, const incoming *in, const char *sha, uint64_t size, const char *path,
                        cut_stage_list *staged, prep_cut_result *res, prep_diags *d)
{
    char *ip = cut_fmt("%s/objects/%.2s/%s.gz", in->root, sha, sha + 2);
    int fd = open(ip, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    prep_err e = PREP_OK;
    uint64_t max = cut_gz_in_max(size);
    cut_gz_in g = {.fd = -1};
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        prep_diags_add(d, ip, 0, 0, fd < 0 && errno == ELOOP ? "symlink" : "not-regular",
                       "incoming object of '%s' cannot be read as a regular file", path);
        e = PREP_ERR_VERIFY;
    } else if ((uint64_t)st.st_size > max) {
        prep_diags_add(d, ip, 0, 0, "oversize", "gzip'd object of '%s' is %lld bytes, more than any gzip of the "
                       "%llu bytes the manifest declares", path, (long long)st.st_size, (unsigned long long)size);
        e = PREP_ERR_VERIFY;
    } else if (cut_gz_in_open(&g, fd, max)) {
        e = PREP_ERR_NOMEM;
    } else {
        e = cut_stage_src(s, staged, cut_gz_in_read, &g, ip, size, sha, d);
        if (!e) {
            res->objects_copied++;
            res->bytes_copied += size;
        }
    }
    cut_gz_in_close(&g);
    if (fd >= 0) close(fd);
    free(ip);
    return e;
}

/* One object of a cut (a file, or a part of a composed file): present in the store (size
 * checked, optionally re-hashed) or copied from incoming, hashed while copied. */
static prep_err take_object(cut_store *s, const incoming *in, const prep_cut_policy *pol, const char *sha,
                            uint64_t size, const char *path, const char *label, cut_stage_list *staged,
                            prep_cut_result *res, prep_diags *d)
{
    prep_err e = PREP_OK;
        int have = cut_object_check(s, sha, size, path, d);
        if (have < 0) {
            e = PREP_ERR_VERIFY;
            return e;
        }
        if (have && pol->rehash_existing) {
            char op[PREP_CUT_PATH_MAX + 200];
            prep_cut_object_path(s->root, sha, op, sizeof op);
            int fd = open(op, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            char got[65] = "";
            uint64_t n = 0;
            if (fd >= 0) {
                PREP_IGNORE(cut_fd_sha256(fd, UINT64_MAX, got, &n)); /* unreadable: got "", refused below */
                close(fd);
            }
            if (strcmp(got, sha) != 0)
                return refuse(d, label, "hash-mismatch", "object of '%s' in the store is damaged (SHA-256 %s)", path, got);
        }
        if (have) return PREP_OK;
        /* Both forms sent: the raw one is taken (nothing to inflate), the .gz ignored. */
        if (objset_find(&in->objs, sha) < 0 && objset_find(&in->gz, sha) >= 0)
            return take_gz(s, in, sha, size, path, staged, res, d);
        long at = objset_find(&in->objs, sha);
        if (at < 0)
            return refuse(d, label, "missing-object", "object %s of '%s' is neither in the store nor in the incoming cut",
                          sha, path);
        char *ip = cut_fmt("%s/objects/%.2s/%s", in->root, sha, sha + 2);
        int fd = open(ip, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            prep_diags_add(d, ip, 0, 0, fd < 0 && errno == ELOOP ? "symlink" : "not-regular",
                           "incoming object of '%s' cannot be read as a regular file", path);
            if (fd >= 0) close(fd);
            free(ip);
            e = PREP_ERR_VERIFY;
            return e;
        }
        if ((uint64_t)st.st_size > size) {
            prep_diags_add(d, ip, 0, 0, "oversize", "object of '%s' is %lld bytes; the manifest declares %llu", path,
                           (long long)st.st_size, (unsigned long long)size);
            e = PREP_ERR_VERIFY;
        } else if ((uint64_t)st.st_size < size) {
            prep_diags_add(d, ip, 0, 0, "truncated", "object of '%s' is %lld bytes; the manifest declares %llu",
                           path, (long long)st.st_size, (unsigned long long)size);
            e = PREP_ERR_VERIFY;
        } else {
            e = cut_stage_fd(s, staged, fd, ip, size, sha, d);
            if (!e) {
                res->objects_copied++;
                res->bytes_copied += size;
            }
        }
        close(fd);
        free(ip);
        if (e) return e;
    return e;
}

static const prep_diag *last_diag(const prep_diags *d) { return d && d->n ? &d->v[d->n - 1] : NULL; }

static void log_refusal(const char *root, uint64_t seq, const prep_diags *d)
{
    const prep_diag *g = last_diag(d);
    if (seq)
        cut_store_log(root, PREP_LOG_ERROR, "cut %llu refused: %s: %s: %s", (unsigned long long)seq,
                      g ? g->kind : "error", g ? g->file : "", g ? g->msg : "");
    else
        cut_store_log(root, PREP_LOG_ERROR, "incoming cuts refused: %s: %s: %s", g ? g->kind : "error",
                      g ? g->file : "", g ? g->msg : "");
}

#define REFUSE(kind, ...)                                        \
    do {                                                         \
        prep_diags_add(d, label, 0, 0, kind, __VA_ARGS__);       \
        e = PREP_ERR_VERIFY;                                     \
        goto done;                                               \
    } while (0)

/* Every object of cut m (seq): present in the store (size checked, optionally re-hashed) or
 * copied from incoming, then one sync for the new ones and their renames into objects/.
 * heal (the active cut delivered again): only the objects the delivery holds, and one the
 * store holds damaged (another kind of file or size) is moved aside first so that the
 * delivery's copy is taken. done_objs: empty, sized for m. */
static prep_err take_objects(cut_store *s, const incoming *in, const prep_cut_policy *pol, const prep_cut_manifest *m,
                             uint64_t seq, int heal, const char *label, objset *done_objs, cut_stage_list *staged,
                             unsigned char dirty[256], prep_cut_result *res, prep_diags *d)
{
    for (size_t i = 0; i < m->n; i++) {
        const prep_cut_entry *en = &m->entries[i];
        for (size_t j = 0; j < cut_entry_nobj(en); j++) {
            const char *sha = cut_entry_obj_sha(en, j);
            uint64_t size = cut_entry_obj_size(en, j);
            if (heal && objset_find(&in->objs, sha) < 0 && objset_find(&in->gz, sha) < 0) continue;
            int added = objset_add(done_objs, sha);
            if (added < 0) return PREP_ERR_NOMEM;
            if (added == 0) continue;
            if (heal && cut_object_check(s, sha, size, en->path, NULL) < 0 && cut_object_quarantine(s, sha) == 0)
                cut_store_log(s->root, PREP_LOG_ERROR,
                              "object %s of %s (cut %llu) was damaged: moved to damaged/, taken again from the "
                              "delivery", sha, en->path, (unsigned long long)seq);
            prep_err e = take_object(s, in, pol, sha, size, en->path, label, staged, res, d);
            if (e) return e;
        }
    }
    return cut_stage_commit(s, staged, dirty, PREP_OK, d);
}

/* Phase 2 for one cut. act/actm: the active cut and its manifest (updated on success). */
static prep_err accept_one(cut_store *s, const incoming *in, uint64_t seq, int last, const prep_cut_policy *pol,
                           prep_time now, int *have_act, prep_cut_active *act, prep_cut_manifest *actm,
                           prep_cut_result *res, prep_diags *d)
{
    prep_cut_manifest m;
    char *sig = NULL;
    size_t siglen = 0;
    char *label = cut_fmt("%s/cuts/%llu", in->root, (unsigned long long)seq);
    prep_err e = read_incoming_cut(in, s->root, seq, pol, &m, &sig, &siglen, d);
    if (e) {
        free(label);
        return e;
    }
    objset done_objs = {0};
    cut_stage_list staged = {0}; /* new objects, made durable together (cut_stage_commit) */
    unsigned char dirty[256] = {0};
    const prep_cut_meta *mt = &m.meta;
    if (*have_act) {
        if (strcmp(mt->process, act->process) != 0)
            REFUSE("process-mismatch", "cut is for process '%s'; this store holds '%s'", mt->process, act->process);
        if (seq < act->seq)
            REFUSE("rollback", "sequence %llu is older than the active %llu", (unsigned long long)seq,
                   (unsigned long long)act->seq);
        if (seq == act->seq) {
            if (!strcmp(m.sha256, act->manifest_sha256)) {
                res->unchanged++;
                /* delivered again (a broadcaster whose store moved a damaged object of it
                 * aside takes it again: prep_pull_opts.heal): what the store lacks of it
                 * and the delivery holds is taken; nothing else changes */
                size_t before = res->objects_copied;
                e = objset_init(&done_objs, m.n) ? PREP_ERR_NOMEM : PREP_OK;
                if (!e) e = take_objects(s, in, pol, &m, seq, 1, label, &done_objs, &staged, dirty, res, d);
                if (!e) e = cut_objects_sync(s, dirty, d);
                if (e) goto done;
                if (res->objects_copied > before) {
                    cut_store_log(s->root, PREP_LOG_WARN, "cut %llu is already active; %zu of its objects the store "
                                  "lacked taken again", (unsigned long long)seq, res->objects_copied - before);
                    char *hp = cut_fmt("%s/%s", s->root, PREP_CUT_HEALED_FILE);
                    char *txt = cut_fmt("cut %llu: %zu objects taken again\n", (unsigned long long)seq,
                                        res->objects_copied - before);
                    if (prep_write_file_atomic(hp, txt, strlen(txt)) != PREP_OK)
                        prep_log(PREP_LOG_WARN, "%s: cannot write (a server may not load the cut again)", hp);
                    free(txt);
                    free(hp);
                } else
                    cut_store_log(s->root, PREP_LOG_INFO, "cut %llu is already active; nothing to do",
                                  (unsigned long long)seq);
                goto done;
            }
            REFUSE("conflict", "sequence %llu is already active with manifest %s; this one is %s (two different cuts "
                               "with one sequence)",
                   (unsigned long long)seq, act->manifest_sha256, m.sha256);
        }
        if (seq > act->seq + 1)
            REFUSE("chain-gap", "cut %llu follows cut %llu, which this store lacks (active is %llu); deliver the "
                                "cuts in order",
                   (unsigned long long)seq, (unsigned long long)(seq - 1), (unsigned long long)act->seq);
        if (strcmp(mt->previous, act->manifest_sha256) != 0)
            REFUSE("chain-broken", "previous manifest hash is %s; the active cut %llu's is %s",
                   mt->previous[0] ? mt->previous : "none", (unsigned long long)act->seq, act->manifest_sha256);
        if (mt->instant < actm->meta.instant) REFUSE("instant-regress", "cut instant is before the active cut's");
    }
    if (mt->instant > now + pol->max_skew) {
        char a[32], b[32];
        cut_format_instant(mt->instant, mt->instant_off, a);
        cut_format_instant(now, mt->instant_off, b);
        REFUSE("future-instant", "cut instant %s is ahead of this clock (%s) by more than %llds", a, b,
               (long long)pol->max_skew);
    }
    /* Only the cut a batch ends on must be current: a broadcaster catching up after an
     * outage passes through older cuts whose horizon is already behind it. */
    if (pol->check_validity && last && now > mt->valid_until) {
        char a[32];
        cut_format_instant(mt->valid_until, mt->valid_off, a);
        REFUSE("expired", "cut was valid until %s; it is past its horizon (stale, 'desactualizado')", a);
    }

    /* Objects: present (size checked, optionally re-hashed) or copied from incoming. */
    e = objset_init(&done_objs, m.n) ? PREP_ERR_NOMEM : PREP_OK;
    if (!e) e = take_objects(s, in, pol, &m, seq, 0, label, &done_objs, &staged, dirty, res, d);
    if (e) goto done;
    /* Composed files: the parts, now all in the store, must assemble to the signed hash.
     * An entry the same as the active cut's was checked when that cut was accepted. */
    for (size_t i = 0; i < m.n; i++) {
        const prep_cut_entry *en = &m.entries[i];
        if (!en->n_parts) continue;
        const prep_cut_entry *old = *have_act ? prep_cut_manifest_find(actm, en->path) : NULL;
        if (old && cut_entry_same(old, en)) continue;
        if (cut_entry_assemble_check(s->root, en, en->path, NULL, d)) {
            e = PREP_ERR_VERIFY;
            goto done;
        }
    }
    if ((e = cut_objects_sync(s, dirty, d))) goto done;
    if ((e = cut_store_put_cut(s, seq, m.raw, m.raw_len, sig, siglen, d))) goto done;
    prep_cut_active na = {.seq = seq, .mode = mt->mode};
    memcpy(na.manifest_sha256, m.sha256, 65);
    snprintf(na.process, sizeof na.process, "%s", mt->process);
    if ((e = cut_active_write(s, &na, d))) goto done;
    /* Activated. */
    *act = na;
    *have_act = 1;
    prep_cut_manifest_free(actm);
    *actm = m;
    memset(&m, 0, sizeof m);
    res->accepted++;
    res->active_after = seq;
    cut_store_log(s->root, PREP_LOG_INFO, "cut %llu activated: manifest %s, %zu files, %zu objects copied",
                  (unsigned long long)seq, na.manifest_sha256, actm->n, res->objects_copied);
done:
    if (staged.v) cut_stage_commit(s, &staged, dirty, e ? e : PREP_ERR_IO, d); /* removes them */
    objset_free(&done_objs);
    prep_cut_manifest_free(&m);
    free(sig);
    free(label);
    return e;
}

prep_err prep_cut_receive(const char *store, const char *incoming_dir, const prep_cut_policy *pol,
                          prep_cut_result *res, prep_diags *d)
{
    prep_diags local;
    prep_diags_init(&local);
    if (!d) d = &local;
    prep_cut_result dummy;
    if (!res) res = &dummy;
    memset(res, 0, sizeof *res);
    prep_time now = pol->now == PREP_TIME_NONE ? prep_time_now() : pol->now;
    cut_store s = {.lock_fd = -1};
    incoming in = {.root = incoming_dir};
    prep_cut_manifest actm = {0}, m = {0};
    prep_cut_active act;
    int have_act = 0;
    uint64_t cur = 0;

    prep_err e = cut_store_open(&s, store, 1, d);
    if (e) goto out;
    prep_err ae = cut_active_read_path(s.root, &act, d);
    if (ae && ae != PREP_ERR_NOTFOUND) {
        e = ae;
        goto out;
    }
    if (!ae) {
        have_act = 1;
        res->active_before = res->active_after = act.seq;
        if ((e = prep_cut_load(s.root, act.seq, &actm, d))) goto out;
    }
    if (pol->n_keys == 0) {
        prep_diags_add(d, store, 0, 0, "unknown-key", "no trusted key given");
        e = PREP_ERR_VERIFY;
        goto refused;
    }

    /* Phase 1. */
    size_t max_entries = pol->limits.max_files < 1000 ? 4000 : pol->limits.max_files * 4;
    if (max_entries > 16u * 1000 * 1000) max_entries = 16u * 1000 * 1000;
    if ((e = scan_incoming(&in, max_entries, d))) goto refused;
    for (size_t i = 0; i < in.n_seqs; i++) {
        cur = in.seqs[i];
        if ((e = read_incoming_cut(&in, s.root, cur, pol, &m, NULL, NULL, d))) goto refused;
        for (size_t k = 0; k < m.n; k++)
            for (size_t j = 0; j < cut_entry_nobj(&m.entries[k]); j++) {
                long at = objset_find(&in.objs, cut_entry_obj_sha(&m.entries[k], j));
                if (at >= 0) in.objs.mark[at] = 1;
                at = objset_find(&in.gz, cut_entry_obj_sha(&m.entries[k], j));
                if (at >= 0) in.gz.mark[at] = 1;
            }
        prep_cut_manifest_free(&m);
    }
    cur = 0;
    for (int f = 0; f < 2; f++) {
        const objset *os = f ? &in.gz : &in.objs;
        for (size_t i = 0; i < os->cap; i++) {
            if (!os->v[i][0] || os->mark[i]) continue;
            char *p = cut_fmt("%s/objects/%.2s/%s%s", in.root, os->v[i], os->v[i] + 2, f ? ".gz" : "");
            EXTRA(p);
            free(p);
            e = PREP_ERR_VERIFY;
            goto refused;
        }
    }

    /* Phase 2. */
    for (size_t i = 0; i < in.n_seqs; i++) {
        cur = in.seqs[i];
        e = accept_one(&s, &in, cur, i + 1 == in.n_seqs, pol, now, &have_act, &act, &actm, res, d);
        if (e) goto refused;
    }
    goto out;
refused:
    if (e != PREP_ERR_NOMEM && e != PREP_ERR_IO) e = PREP_ERR_VERIFY;
    log_refusal(s.root ? s.root : NULL, cur, d);
out:
    prep_cut_manifest_free(&actm);
    prep_cut_manifest_free(&m);
    objset_free(&in.objs);
    objset_free(&in.gz);
    free(in.seqs);
    cut_store_close(&s);
    prep_diags_free(&local);
    return e;
}

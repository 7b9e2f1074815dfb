/* prep cut: re-checking a store (prep verify). Read-only: no lock, no clean-up, so a
 * citizen can run it on a copy of a store. Keeps going after a failure so that one run
 * names every problem (bounded by the diags' max_keep). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cut_internal.h"

typedef struct seenset {
    char (*v)[65];
    size_t cap, n;
} seenset;

static uint64_t hx64(const char *s)
{
    uint64_t h = 0;
    for (int i = 0; i < 16; i++) h = h << 4 | (uint64_t)(s[i] >= 'a' ? s[i] - 'a' + 10 : s[i] - '0');
    return h;
}

/* 1 if newly added, 0 if present. Grows. */
static int seen_add(seenset *s, const char *h)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        char(*nv)[65] = prep_xcalloc(nc, sizeof *nv);
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->v[i][0]) continue;
            size_t k = hx64(s->v[i]) & (nc - 1);
            while (nv[k][0]) k = (k + 1) & (nc - 1);
            memcpy(nv[k], s->v[i], 65);
        }
        free(s->v);
        s->v = nv;
        s->cap = nc;
    }
    size_t k = hx64(h) & (s->cap - 1);
    while (s->v[k][0]) {
        if (!memcmp(s->v[k], h, 64)) return 0;
        k = (k + 1) & (s->cap - 1);
    }
    memcpy(s->v[k], h, 65);
    s->n++;
    return 1;
}

/* Re-hashes one object; 0 ok, -1 failed (diag added). */
static int check_object(const char *root, const prep_cut_entry *en, uint64_t seq, prep_cut_verify_result *r,
                        prep_diags *d)
{
    char *dir = cut_fmt("%s/objects/%.2s", root, en->sha256);
    char *p = cut_fmt("%s/%s", dir, en->sha256 + 2);
    int rc = -1;
    struct stat st;
    if (lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        prep_diags_add(d, dir, 0, 0, S_ISLNK(st.st_mode) ? "symlink" : "not-regular",
                       "store directory is not a directory (cut %llu, '%s')", (unsigned long long)seq, en->path);
        goto out;
    }
    if (lstat(p, &st) != 0) {
        prep_diags_add(d, p, 0, 0, "missing-object", "object of '%s' (cut %llu) is missing", en->path,
                       (unsigned long long)seq);
        goto out;
    }
    if (S_ISLNK(st.st_mode)) {
        prep_diags_add(d, p, 0, 0, "symlink", "object of '%s' (cut %llu) is a symbolic link", en->path,
                       (unsigned long long)seq);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        prep_diags_add(d, p, 0, 0, "not-regular", "object of '%s' (cut %llu) is not a regular file", en->path,
                       (unsigned long long)seq);
        goto out;
    }
    if ((uint64_t)st.st_size != en->size) {
        prep_diags_add(d, p, 0, 0, (uint64_t)st.st_size > en->size ? "oversize" : "truncated",
                       "object of '%s' (cut %llu) is %lld bytes; the manifest says %llu", en->path,
                       (unsigned long long)seq, (long long)st.st_size, (unsigned long long)en->size);
        goto out;
    }
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        prep_diags_add(d, p, 0, 0, "io", "cannot open: %s", strerror(errno));
        goto out;
    }
    char got[65];
    uint64_t total = 0;
    int er = cut_fd_sha256(fd, en->size, got, &total);
    close(fd);
    if (er == ENOMEM) goto out;
    r->bytes += total;
    if (er || total != en->size || strcmp(got, en->sha256) != 0) {
        prep_diags_add(d, p, 0, 0, "hash-mismatch", "object of '%s' (cut %llu) has SHA-256 %s; the manifest says %s",
                       en->path, (unsigned long long)seq, got, en->sha256);
        goto out;
    }
    rc = 0;
out:
    free(dir);
    free(p);
    return rc;
}

/* Signature, parse, mode and objects of one stored cut. m is filled (owned) on success
 * of the signed part, even if objects fail. Returns 0 if all is well. */
static int verify_one(const char *root, uint64_t seq, const prep_cut_policy *pol, seenset *seen, int pruned,
                      prep_cut_verify_result *r, prep_cut_manifest *m, prep_diags *d)
{
    char *sig = NULL;
    size_t sl = 0;
    prep_cut_manifest raw;
    memset(m, 0, sizeof *m);
    prep_err e = cut_store_read_cut(root, seq, &pol->limits, &raw, &sig, &sl, d);
    if (e) return -1;
    char *label = cut_fmt("%s/cuts/%llu/manifest", root, (unsigned long long)seq);
    e = cut_check_signed(pol, raw.raw, raw.raw_len, sig, sl, label, 1, m, d);
    free(label);
    prep_cut_manifest_free(&raw);
    free(sig);
    if (e) return -1;
    int bad = 0;
    r->cuts++;
    /* A cut the store's retention pruned (prep_cut_store_gc) keeps only its signed
     * manifest: signature, parse and chain are checked, its objects are not. */
    for (size_t i = 0; i < m->n && !pruned; i++) {
        const prep_cut_entry *en = &m->entries[i];
        int parts_bad = 0;
        for (size_t j = 0; j < cut_entry_nobj(en); j++) {
            /* the object: the file itself, or part j of a composed file */
            prep_cut_entry obj = {.path = en->path, .size = cut_entry_obj_size(en, j)};
            memcpy(obj.sha256, cut_entry_obj_sha(en, j), 65);
            if (!seen_add(seen, obj.sha256)) continue;
            r->objects++;
            if (check_object(root, &obj, seq, r, d)) bad = parts_bad = 1;
        }
        /* A composed file: its parts must assemble to the signed size and hash. */
        if (en->n_parts && !parts_bad) {
            uint64_t nb = 0;
            if (cut_entry_assemble_check(root, en, en->path, &nb, d)) bad = 1;
            r->bytes += nb;
        }
    }
    return bad ? -1 : 0;
}

prep_err prep_cut_verify(const char *store, uint64_t seq, const prep_cut_policy *pol, prep_cut_verify_result *r,
                         prep_diags *d)
{
    prep_cut_verify_result dummy;
    if (!r) r = &dummy;
    memset(r, 0, sizeof *r);
    prep_time now = pol->now == PREP_TIME_NONE ? prep_time_now() : pol->now;
    struct stat st;
    if (lstat(store, &st) != 0 || !S_ISDIR(st.st_mode)) {
        prep_diags_add(d, store, 0, 0, "not-found", "no such store directory");
        return PREP_ERR_NOTFOUND;
    }
    if (pol->n_keys == 0) {
        prep_diags_add(d, store, 0, 0, "unknown-key", "no public key given");
        return PREP_ERR_VERIFY;
    }
    prep_cut_active a;
    prep_err ae = cut_active_read_path(store, &a, d);
    if (ae && ae != PREP_ERR_NOTFOUND) return PREP_ERR_VERIFY;
    int have_active = ae == PREP_OK;
    int lost = !have_active && cut_store_pointer_lost(store, store, d); /* the chain is still checked */
    uint64_t *seqs = NULL;
    size_t ns = 0;
    prep_err e = cut_store_list(store, &seqs, &ns, d);
    if (e) return e;
    if (have_active) { /* cuts above the active one were never activated: not part of the chain */
        size_t k = 0;
        while (k < ns && seqs[k] <= a.seq) k++;
        ns = k;
    }
    if (ns == 0) {
        prep_diags_add(d, store, 0, 0, "not-found", "the store holds no cut");
        free(seqs);
        return PREP_ERR_NOTFOUND;
    }
    if (have_active && seqs[ns - 1] != a.seq) {
        prep_diags_add(d, store, 0, 0, "missing-object", "the active cut %llu is not in the store",
                       (unsigned long long)a.seq);
        free(seqs);
        return PREP_ERR_VERIFY;
    }
    size_t lo = 0, hi = ns; /* the range of seqs[] to check */
    if (seq) {
        size_t k = 0;
        while (k < ns && seqs[k] != seq) k++;
        if (k == ns) {
            prep_diags_add(d, store, 0, 0, "not-found", "cut %llu is not in the store (or was never activated)",
                           (unsigned long long)seq);
            free(seqs);
            return PREP_ERR_NOTFOUND;
        }
        lo = k;
        hi = k + 1;
    }
    int bad = 0;
    seenset seen = {0};
    prep_cut_manifest prev = {0}, cur = {0};
    int have_prev = 0;
    /* For one cut, its link to the predecessor is checked by hash of the stored bytes. */
    if (seq && lo > 0 && seqs[lo - 1] == seq - 1) {
        if (cut_store_read_cut(store, seq - 1, &pol->limits, &prev, NULL, NULL, d) == PREP_OK) have_prev = 1;
    }
    r->first = seqs[lo];
    for (size_t i = lo; i < hi; i++) {
        uint64_t s = seqs[i];
        /* Never for the active cut (or above): its objects are always checked. */
        int pruned = have_active && s < a.seq && cut_store_is_pruned(store, s);
        int ok = verify_one(store, s, pol, &seen, pruned, r, &cur, d) == 0;
        if (!ok) bad = 1;
        if (!cur.raw) { /* signature or parse failed: the chain cannot be followed through it */
            prep_cut_manifest_free(&prev);
            have_prev = 0;
            continue;
        }
        if (have_prev) {
            if (strcmp(cur.meta.process, prev.meta.process) != 0) {
                prep_diags_add(d, store, 0, 0, "process-mismatch", "cut %llu is for process '%s'; cut %llu for '%s'",
                               (unsigned long long)s, cur.meta.process, (unsigned long long)prev.meta.seq,
                               prev.meta.process);
                bad = 1;
            }
            if (prev.meta.seq + 1 != s) {
                prep_diags_add(d, store, 0, 0, "chain-gap", "cut %llu follows cut %llu; cuts in between are missing",
                               (unsigned long long)s, (unsigned long long)prev.meta.seq);
                bad = 1;
            } else if (strcmp(cur.meta.previous, prev.sha256) != 0) {
                prep_diags_add(d, store, 0, 0, "chain-broken",
                               "cut %llu names previous manifest %s; cut %llu's manifest is %s", (unsigned long long)s,
                               cur.meta.previous[0] ? cur.meta.previous : "none", (unsigned long long)prev.meta.seq,
                               prev.sha256);
                bad = 1;
            }
            if (cur.meta.instant < prev.meta.instant) {
                prep_diags_add(d, store, 0, 0, "instant-regress", "cut %llu's instant is before cut %llu's",
                               (unsigned long long)s, (unsigned long long)prev.meta.seq);
                bad = 1;
            }
        } else if (i > lo && !seq) {
            prep_diags_add(d, store, 0, 0, "chain-gap", "cannot link cut %llu to the cut before it", (unsigned long long)s);
            bad = 1;
        }
        if (have_active && s == a.seq && strcmp(cur.sha256, a.manifest_sha256) != 0) {
            prep_diags_add(d, store, 0, 0, "hash-mismatch", "active pointer names manifest %s; cut %llu's is %s",
                           a.manifest_sha256, (unsigned long long)s, cur.sha256);
            bad = 1;
        }
        r->last = s;
        r->stale = prep_cut_is_stale(&cur, now);
        prep_cut_manifest_free(&prev);
        prev = cur;
        memset(&cur, 0, sizeof cur);
        have_prev = 1;
    }
    prep_cut_manifest_free(&prev);
    prep_cut_manifest_free(&cur);
    free(seen.v);
    free(seqs);
    return bad || lost ? PREP_ERR_VERIFY : PREP_OK;
}

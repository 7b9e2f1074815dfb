/* prep deliver, push: the pure parts — what a target lacks (the plan), URL checks and
 * building, temporary names, rename commands, the backoff schedule, per-target state.
 * No network here; src/deliver/push.c moves the bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "prep/deliver.h"

/* ---------------------------------------------------------------- a set of object ids */
typedef struct idset {
    char (*v)[65];
    size_t cap, n;
} idset;

static uint64_t idhash(const char *s)
{
    uint64_t h = 0;
    for (int i = 0; i < 16; i++) h = h << 4 | (uint64_t)(s[i] >= 'a' ? s[i] - 'a' + 10 : s[i] - '0');
    return h;
}

static void idset_free(idset *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int idset_has(const idset *s, const char *h)
{
    if (!s->cap) return 0;
    for (size_t i = idhash(h) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->v[i][0]) return 0;
        if (!memcmp(s->v[i], h, 64)) return 1;
    }
}

/* 1 added, 0 present, -1 no memory. */
static int idset_add(idset *s, const char *h)
{
    if (idset_has(s, h)) return 0;
    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        char(*nv)[65] = calloc(nc, sizeof *nv);
        if (!nv) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->v[i][0]) continue;
            size_t k = idhash(s->v[i]) & (nc - 1);
            while (nv[k][0]) k = (k + 1) & (nc - 1);
            memcpy(nv[k], s->v[i], 65);
        }
        free(s->v);
        s->v = nv;
        s->cap = nc;
    }
    size_t i = idhash(h) & (s->cap - 1);
    while (s->v[i][0]) i = (i + 1) & (s->cap - 1);
    memcpy(s->v[i], h, 64);
    s->v[i][64] = 0;
    s->n++;
    return 1;
}

/* The objects of one entry: its parts, or itself. */
static size_t entry_nobj(const prep_cut_entry *e) { return e->n_parts ? e->n_parts : 1; }
static const char *entry_sha(const prep_cut_entry *e, size_t k) { return e->n_parts ? e->parts[k].sha256 : e->sha256; }
static uint64_t entry_size(const prep_cut_entry *e, size_t k) { return e->n_parts ? e->parts[k].size : e->size; }

static prep_err idset_add_manifest(idset *s, const prep_cut_manifest *m)
{
    for (size_t i = 0; i < m->n; i++)
        for (size_t k = 0; k < entry_nobj(&m->entries[i]); k++)
            if (idset_add(s, entry_sha(&m->entries[i], k)) < 0) return PREP_ERR_NOMEM;
    return PREP_OK;
}

/* ---------------------------------------------------------------- the plan */
void prep_deliver_plan_free(prep_deliver_plan *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->files[i].local);
        free(p->files[i].data);
    }
    free(p->files);
    memset(p, 0, sizeof *p);
}

static prep_deliver_file *plan_add(prep_deliver_plan *p, size_t *cap)
{
    if (p->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        prep_deliver_file *nf = realloc(p->files, nc * sizeof *nf);
        if (!nf) return NULL;
        p->files = nf;
        *cap = nc;
    }
    prep_deliver_file *f = &p->files[p->n++];
    memset(f, 0, sizeof *f);
    return f;
}

static char *fmt_dup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_dup(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static int cut_present(const char *store, uint64_t seq)
{
    char *p = fmt_dup("%s/cuts/%llu/manifest", store, (unsigned long long)seq);
    struct stat st;
    int ok = p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return ok;
}

/* Adds a store file (local path) as remote. */
static prep_err add_local(prep_deliver_plan *p, size_t *cap, prep_deliver_file_kind kind, uint64_t seq,
                          const char *remote, char *local_owned, prep_diags *d)
{
    struct stat st;
    if (!local_owned) return PREP_ERR_NOMEM;
    if (stat(local_owned, &st) != 0 || !S_ISREG(st.st_mode)) {
        prep_diags_add(d, local_owned, 0, 0, "missing-object", "cannot read a file the delivery needs: %s",
                       strerror(errno));
        free(local_owned);
        return PREP_ERR_IO;
    }
    prep_deliver_file *f = plan_add(p, cap);
    if (!f) {
        free(local_owned);
        return PREP_ERR_NOMEM;
    }
    f->kind = kind;
    f->seq = seq;
    snprintf(f->remote, sizeof f->remote, "%s", remote);
    f->local = local_owned;
    f->size = (uint64_t)st.st_size;
    p->bytes += f->size;
    return PREP_OK;
}

/* Object file f of the plan (just added, raw) becomes its compressed form when the
 * store's wire cache has one (prep_cut_wire_prepare): made once per cut, sent to every
 * target. */
static prep_err use_gz_object(prep_deliver_plan *p, prep_deliver_file *f, const char *store, const char *sha)
{
    char gp[PREP_CUT_PATH_MAX + 256];
    struct stat st;
    if (prep_cut_wire_object_path(store, sha, gp, sizeof gp) || lstat(gp, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size >= f->size)
        return PREP_OK;
    char *l = strdup(gp);
    if (!l) return PREP_ERR_NOMEM;
    free(f->local);
    f->local = l;
    snprintf(f->remote, sizeof f->remote, "objects/%.2s/%s.gz", sha, sha + 2);
    p->bytes -= f->size - (uint64_t)st.st_size;
    f->size = (uint64_t)st.st_size;
    p->gz_files++;
    return PREP_OK;
}

/* Cut k's manifest for the plan: its patch against cut k-1 when patch (the target holds
 * or the batch carries the base; the receiver resolves a chain of patches recursively, at
 * most 64 deep) and it is smaller, gzip'd when the wire cache has it (the same patch, made
 * once for every target), else the whole manifest. */
static prep_err plan_manifest(prep_deliver_plan *p, size_t *cap, const char *store, uint64_t k, int patch, int gzip,
                              prep_diags *d)
{
    char remote[PREP_DELIVER_REMOTE_MAX], gp[PREP_CUT_PATH_MAX + 256];
    struct stat gst;
    if (patch && gzip && !prep_cut_wire_patch_path(store, k, gp, sizeof gp) && lstat(gp, &gst) == 0 &&
        S_ISREG(gst.st_mode)) {
        snprintf(remote, sizeof remote, "cuts/%llu/manifest.patch.gz", (unsigned long long)k);
        prep_err e = add_local(p, cap, PREP_DELIVER_PATCH, k, remote, strdup(gp), d);
        if (!e) p->gz_files++;
        return e;
    }
    if (patch) {
        prep_buf pb;
        int made = prep_deliver_patch(store, k, &pb, d) == 1;
        prep_deliver_file *f = made ? plan_add(p, cap) : NULL;
        if (f) {
            f->kind = PREP_DELIVER_PATCH;
            f->seq = k;
            snprintf(f->remote, sizeof f->remote, "cuts/%llu/manifest.patch", (unsigned long long)k);
            f->size = pb.len;
            f->data = prep_buf_steal(&pb, NULL);
            p->bytes += f->size;
        }
        prep_buf_free(&pb);
        if (f) return PREP_OK;
    }
    snprintf(remote, sizeof remote, "cuts/%llu/manifest", (unsigned long long)k);
    return add_local(p, cap, PREP_DELIVER_MANIFEST, k, remote, fmt_dup("%s/cuts/%llu/manifest", store, (unsigned long long)k), d);
}

prep_err prep_deliver_plan_make(const char *store, uint64_t from, uint64_t seq, prep_deliver_plan *p, prep_diags *d)
{
    return prep_deliver_plan_make_opt(store, from, seq, 1, p, d);
}

prep_err prep_deliver_plan_make_opt(const char *store, uint64_t from, uint64_t seq, int gzip, prep_deliver_plan *p,
                                    prep_diags *d)
{
    memset(p, 0, sizeof *p);
    if (from > 0 && from < seq && !cut_present(store, from)) from = 0; /* its base is gone: send whole */
    p->from = from;
    p->seq = seq;
    prep_cut_manifest last = {0}, prev = {0}, cur = {0};
    idset have = {0}, sent = {0};
    size_t cap = 0;
    prep_err e = PREP_OK;
    if (seq == 0) {
        prep_diags_add(d, store, 0, 0, "missing-cut", "no cut to deliver");
        return PREP_ERR_NOTFOUND;
    }
    if ((e = prep_cut_load(store, seq, &last, d))) {
        prep_diags_add(d, store, 0, 0, "missing-cut", "cut %llu cannot be loaded from the store",
                       (unsigned long long)seq);
        return e;
    }
    memcpy(p->manifest_sha256, last.sha256, 65);
    if (from >= seq) goto out; /* up to date */
    uint64_t first = from ? from + 1 : seq;
    if (seq - first + 1 > PREP_DELIVER_CHAIN_MAX) {
        prep_diags_add(d, store, 0, 0, "limit",
                       "the target is %llu cuts behind (at cut %llu); one batch carries at most %d: deliver its "
                       "cuts in steps with --cut, or reset its state with --full if its store is empty",
                       (unsigned long long)(seq - from), (unsigned long long)from, PREP_DELIVER_CHAIN_MAX);
        e = PREP_ERR_LIMIT;
        goto out;
    }
    p->cuts = (size_t)(seq - first + 1);
    /* The institute's retention ("store_keep") removed the objects of an older cut of the
     * chain: the target is too far behind to take it (its store refuses a gap). */
    for (uint64_t k = first; k < seq; k++)
        if (prep_cut_store_pruned(store, k)) {
            prep_diags_add(d, store, 0, 0, "pruned",
                           "the target is on cut %llu, %llu cuts behind: the objects of cut %llu of its catch-up "
                           "chain are no longer kept (the store's retention); it must empty its store, then "
                           "deliver with --full",
                           (unsigned long long)from, (unsigned long long)(seq - from), (unsigned long long)k);
            e = PREP_ERR_NOTFOUND;
            goto out;
        }
    if (from) {
        if ((e = prep_cut_load(store, from, &prev, d))) goto out;
        if ((e = idset_add_manifest(&have, &prev))) goto out;
    }
    /* 1. Objects: the union over the batch of what the target's cut lacks, each once. */
    for (uint64_t k = first; k <= seq; k++) {
        prep_cut_manifest *m = &cur;
        if (k == seq) {
            m = &last;
        } else if ((e = prep_cut_load(store, k, &cur, d))) {
            prep_diags_add(d, store, 0, 0, "missing-cut", "cut %llu of the catch-up chain %llu..%llu is not in the store",
                           (unsigned long long)k, (unsigned long long)first, (unsigned long long)seq);
            goto out;
        }
        for (size_t i = 0; i < m->n && !e; i++) {
            const prep_cut_entry *en = &m->entries[i];
            for (size_t j = 0; j < entry_nobj(en) && !e; j++) {
                const char *h = entry_sha(en, j);
                if (idset_has(&have, h)) continue;
                int a = idset_add(&sent, h);
                if (a < 0) e = PREP_ERR_NOMEM;
                if (a <= 0) continue;
                char remote[PREP_DELIVER_REMOTE_MAX], lp[PREP_CUT_PATH_MAX + 256];
                snprintf(remote, sizeof remote, "objects/%.2s/%s", h, h + 2);
                if (prep_cut_object_path(store, h, lp, sizeof lp) < 0) {
                    e = PREP_ERR_LIMIT;
                    break;
                }
                e = add_local(p, &cap, PREP_DELIVER_OBJECT, 0, remote, strdup(lp), d);
                if (!e && p->files[p->n - 1].size != entry_size(en, j)) {
                    prep_diags_add(d, lp, 0, 0, "size-mismatch", "store object of '%s' is %llu bytes; manifest says %llu",
                                   en->path, (unsigned long long)p->files[p->n - 1].size,
                                   (unsigned long long)entry_size(en, j));
                    e = PREP_ERR_VERIFY;
                }
                if (!e) {
                    p->objects++;
                    p->raw_bytes += p->files[p->n - 1].size;
                    if (gzip) e = use_gz_object(p, &p->files[p->n - 1], store, h);
                }
            }
        }
        if (m == &cur) prep_cut_manifest_free(&cur);
        if (e) goto out;
    }
    /* 2. Each cut's manifest, or its patch against the cut before when that is smaller and
     *    the target holds (or this batch carries) the base. */
    for (uint64_t k = first; k <= seq; k++)
        if ((e = plan_manifest(p, &cap, store, k, from && k - first < 60, gzip, d))) goto out;
    /* 3. The signatures, ascending: the newest cut's is the last file of the push. */
    for (uint64_t k = first; k <= seq; k++) {
        char remote[PREP_DELIVER_REMOTE_MAX];
        snprintf(remote, sizeof remote, "cuts/%llu/manifest.sig", (unsigned long long)k);
        e = add_local(p, &cap, PREP_DELIVER_SIG, k, remote,
                      fmt_dup("%s/cuts/%llu/manifest.sig", store, (unsigned long long)k), d);
        if (e) goto out;
    }
out:
    prep_cut_manifest_free(&last);
    prep_cut_manifest_free(&prev);
    prep_cut_manifest_free(&cur);
    idset_free(&have);
    idset_free(&sent);
    if (e) {
        uint64_t f0 = p->from, s0 = p->seq;
        prep_deliver_plan_free(p);
        p->from = f0;
        p->seq = s0;
    }
    return e;
}

/* ---------------------------------------------------------------- targets and URLs */
static int id_ok(const char *s)
{
    size_t n = strnlen(s, 64);
    if (n == 0 || n > 63) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return 0;
    return 1;
}

static int seg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

/* Checks "HOST[:PORT]" in [a, b). */
static int host_ok(const char *a, const char *b, char *err, size_t errsz)
{
    const char *h_end = b;
    if (a < b && *a == '[') {
        const char *c = memchr(a, ']', (size_t)(b - a));
        if (!c || c == a + 1) {
            snprintf(err, errsz, "bad bracketed IPv6 host");
            return -1;
        }
        for (const char *q = a + 1; q < c; q++)
            if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F') || *q == ':' ||
                  *q == '.')) {
                snprintf(err, errsz, "bad character in IPv6 host");
                return -1;
            }
        h_end = c + 1;
        if (h_end < b && *h_end != ':') {
            snprintf(err, errsz, "junk after the IPv6 host");
            return -1;
        }
    } else {
        const char *c = memchr(a, ':', (size_t)(b - a));
        h_end = c ? c : b;
        if (h_end == a) {
            snprintf(err, errsz, "the URL has no host");
            return -1;
        }
        for (const char *q = a; q < h_end; q++)
            if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '.' ||
                  *q == '-')) {
                snprintf(err, errsz, "bad character '%c' in the host", *q);
                return -1;
            }
    }
    if (h_end < b) { /* :PORT */
        const char *q = h_end + 1;
        long port = 0;
        if (q == b || b - q > 5) {
            snprintf(err, errsz, "bad port");
            return -1;
        }
        for (; q < b; q++) {
            if (*q < '0' || *q > '9') {
                snprintf(err, errsz, "bad port");
                return -1;
            }
            port = port * 10 + (*q - '0');
        }
        if (port < 1 || port > 65535) {
            snprintf(err, errsz, "port %ld out of range 1..65535", port);
            return -1;
        }
    }
    return 0;
}

/* Checks "/seg/seg/.../" (or "/"). */
static int path_ok(const char *p, char *err, size_t errsz)
{
    size_t n = strlen(p);
    if (n == 0 || p[0] != '/' || p[n - 1] != '/') {
        snprintf(err, errsz, "the URL's path must begin and end with '/' (the incoming directory)");
        return -1;
    }
    const char *s = p + 1;
    while (*s) {
        const char *e = strchr(s, '/');
        if (e == s) {
            snprintf(err, errsz, "empty segment ('//') in the URL's path");
            return -1;
        }
        if ((e - s == 1 && s[0] == '.') || (e - s == 2 && s[0] == '.' && s[1] == '.')) {
            snprintf(err, errsz, "'.' or '..' segment in the URL's path");
            return -1;
        }
        for (const char *q = s; q < e; q++)
            if (!seg_char(*q)) {
                snprintf(err, errsz, "character '%c' not allowed in the URL's path ([A-Za-z0-9._-] only)", *q);
                return -1;
            }
        s = e + 1;
    }
    return 0;
}

static int b64_pin_ok(const char *s)
{
    size_t n = strlen(s), i = 0;
    if (n < 43 || n > 44) return 0;
    for (; i < 43; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '+' || s[i] == '/'))
            return 0;
    return n == 43 || s[43] == '=';
}

int prep_deliver_target_check(const prep_deliver_target *t, char *err, size_t errsz)
{
    const char *u = t->url;
    if (memchr(t->url, 0, sizeof t->url) == NULL || memchr(t->id, 0, sizeof t->id) == NULL) {
        snprintf(err, errsz, "unterminated field");
        return -1;
    }
    if (!id_ok(t->id)) {
        snprintf(err, errsz, "target id '%.63s' is not [a-z0-9-]{1,63}", t->id);
        return -1;
    }
    const char *scheme = t->method == PREP_DELIVER_SFTP ? "sftp://" : t->method == PREP_DELIVER_FTPS ? "ftp://" : NULL;
    if (!scheme) {
        snprintf(err, errsz, "target %s: only SFTP and FTPS targets can be pushed to", t->id);
        return -1;
    }
    if (!strncmp(u, "ftps://", 7)) {
        snprintf(err, errsz, "target %s: ftps:// is implicit TLS; write ftp:// (explicit TLS is always required)", t->id);
        return -1;
    }
    size_t sl = strlen(scheme);
    if (strncmp(u, scheme, sl) != 0) {
        snprintf(err, errsz, "target %s: the URL must begin with %s", t->id, scheme);
        return -1;
    }
    for (const char *q = u; *q; q++)
        if (*q == '?' || *q == '#' || *q == '%' || *q == '~' || (unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
            snprintf(err, errsz, "target %s: character '%c' not allowed in the URL", t->id,
                     (unsigned char)*q > 0x20 && (unsigned char)*q < 0x7f ? *q : '?');
            return -1;
        }
    const char *auth = u + sl, *slash = strchr(auth, '/');
    if (!slash) {
        snprintf(err, errsz, "target %s: the URL has no path (the incoming directory, ending in '/')", t->id);
        return -1;
    }
    const char *at = memchr(auth, '@', (size_t)(slash - auth));
    char sub[200];
    if (t->method == PREP_DELIVER_SFTP) {
        if (!at || at == auth) {
            snprintf(err, errsz, "target %s: an SFTP URL names its user: sftp://USER@HOST:PORT/path/", t->id);
            return -1;
        }
        for (const char *q = auth; q < at; q++)
            if (!seg_char(*q)) {
                snprintf(err, errsz, "target %s: bad character '%c' in the user name", t->id, *q);
                return -1;
            }
        if (host_ok(at + 1, slash, sub, sizeof sub) || path_ok(slash, sub, sizeof sub)) {
            snprintf(err, errsz, "target %s: %s", t->id, sub);
            return -1;
        }
        if (!t->ssh_key[0]) {
            snprintf(err, errsz, "target %s: SFTP needs the institute's private key file (ssh_key)", t->id);
            return -1;
        }
        if (!b64_pin_ok(t->ssh_host_sha256)) {
            snprintf(err, errsz,
                     "target %s: SFTP needs the pinned host key: the base64 SHA-256 that 'ssh-keygen -lf KEY.pub -E "
                     "sha256' prints, without 'SHA256:'",
                     t->id);
            return -1;
        }
    } else {
        if (at) {
            snprintf(err, errsz, "target %s: put the FTPS user in the user field, not in the URL", t->id);
            return -1;
        }
        if (host_ok(auth, slash, sub, sizeof sub) || path_ok(slash, sub, sizeof sub)) {
            snprintf(err, errsz, "target %s: %s", t->id, sub);
            return -1;
        }
    }
    return 0;
}

int prep_deliver_file_url(const prep_deliver_target *t, const char *remote, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "%s%s", t->url, remote);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int prep_deliver_temp_name(const char *remote, const char *tag, char *out, size_t outsz)
{
    size_t tl = strlen(tag);
    if (tl == 0 || tl > 16) return -1;
    for (size_t i = 0; i < tl; i++)
        if (!((tag[i] >= '0' && tag[i] <= '9') || (tag[i] >= 'a' && tag[i] <= 'f'))) return -1;
    int n = snprintf(out, outsz, "%s.tmp-%s", remote, tag);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int prep_deliver_rename_cmds(const prep_deliver_target *t, const char *tmp, const char *remote, char cmds[2][600],
                             size_t cmdsz)
{
    if (cmdsz > 600) cmdsz = 600;
    int a, b;
    if (t->method == PREP_DELIVER_SFTP) {
        /* The absolute incoming path: the URL's path after the authority. */
        const char *p = strchr(t->url + strlen("sftp://"), '/');
        if (!p) return -1;
        a = snprintf(cmds[0], cmdsz, "*rm %s%s", p, remote);
        b = snprintf(cmds[1], cmdsz, "rename %s%s %s%s", p, tmp, p, remote);
    } else if (t->method == PREP_DELIVER_FTPS) {
        const char *bt = strrchr(tmp, '/'), *br = strrchr(remote, '/');
        bt = bt ? bt + 1 : tmp;
        br = br ? br + 1 : remote;
        a = snprintf(cmds[0], cmdsz, "RNFR %s", bt);
        b = snprintf(cmds[1], cmdsz, "RNTO %s", br);
    } else {
        return -1;
    }
    if (a < 0 || b < 0 || (size_t)a >= cmdsz || (size_t)b >= cmdsz) return -1;
    return 2;
}

uint64_t prep_deliver_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t max_ms, double rnd)
{
    if (attempt == 0) return 0;
    uint64_t w = base_ms;
    for (unsigned i = 1; i < attempt && w < max_ms; i++) w = w > UINT64_MAX / 2 ? UINT64_MAX : w * 2;
    if (w > max_ms) w = max_ms;
    if (rnd < 0) rnd = 0;
    if (rnd >= 1) rnd = 0.999999;
    uint64_t half = w / 2;
    return (w - half) + (uint64_t)((double)half * rnd);
}

/* ---------------------------------------------------------------- state */
int prep_deliver_patch(const char *store, uint64_t seq, prep_buf *out, prep_diags *d)
{
    char *mpath = fmt_dup("%s/cuts/%llu/manifest", store, (unsigned long long)seq);
    struct stat st;
    prep_buf_init(out, 1); /* allocates nothing: out can always be freed */
    if (!mpath || seq < 2 || stat(mpath, &st) != 0) {
        free(mpath);
        return -1;
    }
    free(mpath);
    prep_buf_init(out, (size_t)st.st_size + 1); /* a patch as big as the manifest is not worth it */
    prep_cut_manifest a = {0}, b = {0};
    int r = -1;
    if (!prep_cut_load(store, seq - 1, &a, d) && !prep_cut_load(store, seq, &b, d)) {
        prep_err e = prep_cut_manifest_diff(&a, &b, out);
        r = e == PREP_OK && out->len < (size_t)st.st_size ? 1 : e == PREP_OK || e == PREP_ERR_LIMIT ? 0 : -1;
    }
    prep_cut_manifest_free(&a);
    prep_cut_manifest_free(&b);
    return r;
}

prep_err prep_deliver_state_read(const char *dir, const char *id, uint64_t *seq, char sha256[65], prep_diags *d)
{
    *seq = 0;
    sha256[0] = 0;
    char *p = fmt_dup("%s/%s/state", dir, id);
    if (!p) return PREP_ERR_NOMEM;
    char *b = NULL;
    size_t n = 0;
    prep_err e = prep_read_file(p, 4096, &b, &n);
    if (e) {
        int absent = e == PREP_ERR_NOTFOUND; /* not errno: a size-limit refusal does not set it */
        if (!absent) prep_diags_add(d, p, 0, 0, "state", "cannot read the delivery state (%s); sending everything",
                                    e == PREP_ERR_LIMIT ? "larger than 4096 bytes" : strerror(errno));
        free(p);
        return absent ? PREP_ERR_NOTFOUND : PREP_OK;
    }
    unsigned long long v = 0;
    char h[65] = "";
    int got = sscanf(b, "prep-deliver-state 1\nsequence %llu\nmanifest %64[0-9a-f]\n", &v, h);
    if (got != 2 || v == 0 || v > PREP_CUT_SEQ_MAX || !prep_is_sha256_hex(h)) {
        prep_diags_add(d, p, 0, 0, "state", "not a delivery state file; sending everything");
    } else {
        *seq = v;
        memcpy(sha256, h, 65);
    }
    free(b);
    free(p);
    return PREP_OK;
}

prep_err prep_deliver_state_write(const char *dir, const char *id, uint64_t seq, const char *sha256)
{
    char *dp = fmt_dup("%s/%s", dir, id);
    if (!dp) return PREP_ERR_NOMEM;
    prep_err e = prep_mkdirs(dp);
    char *p = fmt_dup("%s/state", dp);
    char *body = fmt_dup("prep-deliver-state 1\nsequence %llu\nmanifest %s\n", (unsigned long long)seq, sha256);
    if (!e) e = p && body ? prep_write_file_atomic(p, body, strlen(body)) : PREP_ERR_NOMEM;
    free(dp);
    free(p);
    free(body);
    return e;
}

/* The broadcaster's end of a pull link (include/prep/pull.h): poll the state, fetch what
 * the store lacks into a scratch incoming area, hand it to prep_cut_receive (which trusts
 * nothing it was given), clean up. libcurl's easy interface over one reused handle:
 * one broadcaster pulls from one institute, sequentially. */
#include "prep/deliver.h"
#include "prep/pull.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAX 4096

typedef struct hdrs {
    char etag[72];
    int gzip; /* Content-Encoding: gzip (the body is the object's .gz, kept as it came) */
} hdrs;

typedef struct sink {
    FILE *f;        /* to a file, or */
    char *mem;      /* to memory (at most cap) */
    size_t len, cap;
    uint64_t limit; /* refuse bodies longer than this */
    uint64_t limit_gz; /* the same for a gzip'd body (0: as limit) */
    const hdrs *h;  /* the answer's head, read before any body byte */
    uint64_t got;
    int over;
    int werr;       /* errno of a failed write to f (ENOSPC on a full disk) */
} sink;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    sink *s = ud;
    size_t k = sz * n;
    s->got += k;
    uint64_t lim = s->h && s->h->gzip && s->limit_gz ? s->limit_gz : s->limit;
    if (lim && s->got > lim) {
        s->over = 1;
        return 0;
    }
    if (s->f) {
        if (fwrite(p, 1, k, s->f) == k) return k;
        s->werr = errno ? errno : EIO;
        return 0;
    }
    if (s->len + k > s->cap) {
        s->over = 1;
        return 0;
    }
    memcpy(s->mem + s->len, p, k);
    s->len += k;
    return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    hdrs *h = ud;
    size_t k = sz * n;
    if (k > 17 && !strncasecmp(p, "content-encoding:", 17)) {
        const char *v = p + 17;
        while (*v == ' ') v++;
        h->gzip = !strncasecmp(v, "gzip", 4);
    }
    if (k > 6 && !strncasecmp(p, "etag:", 5)) {
        const char *v = p + 5;
        while (*v == ' ') v++;
        size_t l = k - (size_t)(v - p);
        while (l && (v[l - 1] == '\r' || v[l - 1] == '\n' || v[l - 1] == ' ')) l--;
        if (l >= 2 && v[0] == '"' && v[l - 1] == '"' && l - 2 < sizeof h->etag) {
            memcpy(h->etag, v + 1, l - 2);
            h->etag[l - 2] = '\0';
        }
    }
    return k;
}

static void setup(CURL *c, const prep_pull_opts *o, char *errbuf)
{
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(o->timeout_s > 0 ? o->timeout_s : 60));
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (o->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "prep-pull/1");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
}

/* GET base+rel into s. Returns the HTTP status, or -1 (transport error, errbuf says). */
static long get(CURL *c, const prep_pull_opts *o, const char *rel, sink *s, const char *inm, hdrs *h, char *errbuf)
{
    char url[4096];
    if ((size_t)snprintf(url, sizeof url, "%s%s", o->url, rel) >= sizeof url) return -1;
    setup(c, o, errbuf);
    errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    struct curl_slist *hl = NULL;
    char line[128];
    if (inm && inm[0]) {
        snprintf(line, sizeof line, "If-None-Match: \"%s\"", inm);
        hl = curl_slist_append(hl, line);
    }
    /* Objects and patches may come gzip'd from the institute's cache; the body is kept as
     * it came (curl does not decode it: no CURLOPT_ACCEPT_ENCODING) and inflated, bounded,
     * by prep_cut_receive or prep_cut_gunzip. */
    if (h) hl = curl_slist_append(hl, "Accept-Encoding: gzip");
    if (hl) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    if (h) {
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hl);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && code != 200)) {
        if (!errbuf[0]) snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
        if (s->over) snprintf(errbuf, CURL_ERROR_SIZE, "response larger than %llu bytes", (unsigned long long)s->limit);
        return -1;
    }
    return code;
}


static long fetch_file_gz(CURL *c, const prep_pull_opts *o, const char *rel, const char *path, uint64_t limit,
                          uint64_t limit_gz, int *gzip, uint64_t *bytes, char *errbuf);

/* The largest manifest (or manifest patch) taken from the link: the policy's limit, the
 * same one prep_cut_receive then applies (256 MiB by default). A national cut's manifest is
 * ~69 MB, over the fixed 64 MiB this was, so the broadcasters of `prep demo --scale
 * national` could never take their first cut. */
static uint64_t manifest_max(const prep_pull_opts *o)
{
    if (o->policy) return o->policy->limits.max_manifest_bytes;
    prep_cut_limits l;
    prep_cut_limits_default(&l);
    return l.max_manifest_bytes;
}

/* GET rel into file path (size-limited). 0 ok, else the HTTP status, -1 (network) or -2
 * (the local disk: errbuf names the failure, e.g. no space left on device). */
static long fetch_file(CURL *c, const prep_pull_opts *o, const char *rel, const char *path, uint64_t limit,
                       uint64_t *bytes, char *errbuf)
{
    return fetch_file_gz(c, o, rel, path, limit, 0, NULL, bytes, errbuf);
}

/* The same, offering gzip: *gzip (when not NULL) says whether the body came gzip'd, then
 * bounded by limit_gz instead of limit. */
static long fetch_file_gz(CURL *c, const prep_pull_opts *o, const char *rel, const char *path, uint64_t limit,
                          uint64_t limit_gz, int *gzip, uint64_t *bytes, char *errbuf)
{
    FILE *f = fopen(path, "wbx");
    if (!f) {
        prep_io_fail("create", path, errno);
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", prep_io_last());
        return -2;
    }
    hdrs h = {"", 0};
    sink s = {.f = f, .limit = limit, .limit_gz = limit_gz, .h = gzip ? &h : NULL};
    errno = 0;
    long code = get(c, o, rel, &s, NULL, gzip ? &h : NULL, errbuf);
    if (gzip) *gzip = h.gzip;
    int wbad = fclose(f) != 0;
    if (wbad && !s.werr) s.werr = errno ? errno : EIO;
    if (s.werr) {
        /* the disk, not the network: say so (a full disk reads "no space left on device") */
        prep_io_fail("write", path, s.werr);
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", prep_io_last());
        code = -2;
    }
    if (code != 200) {
        unlink(path);
        return code;
    }
    *bytes += s.got;
    return 0;
}

static int store_has(const char *store, const char *sha, uint64_t size)
{
    char p[4096];
    struct stat st;
    if (prep_cut_object_path(store, sha, p, sizeof p)) return 0;
    return lstat(p, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

/* Fetches the object sha (size bytes) into work unless the store or work already has it.
 * 0 ok, else the HTTP status or -1 (errbuf says why). fetched (4096 bytes, may be NULL)
 * gets the file's path when this call fetched it, else "". */
static long fetch_object(CURL *c, const prep_pull_opts *o, const char *work, const char *sha, uint64_t size,
                         prep_pull_result *res, char *errbuf, char *fetched)
{
    if (fetched) fetched[0] = '\0';
    char path[4096], rel[128];
    if (store_has(o->store, sha, size)) return 0;
    snprintf(path, sizeof path, "%s/objects/%.2s", work, sha);
    if (prep_mkdirs(path)) {
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", prep_io_last());
        return -2;
    }
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", work, sha, sha + 2);
    char gzp[4100];
    snprintf(gzp, sizeof gzp, "%s.gz", path);
    struct stat st;
    if (lstat(path, &st) == 0 || lstat(gzp, &st) == 0) return 0; /* fetched for an earlier cut of the batch */
    snprintf(rel, sizeof rel, "objects/%.2s/%s", sha, sha + 2);
    int gz = 0;
    long r = fetch_file_gz(c, o, rel, path, size + 1, prep_cut_gz_bound(size), &gz, &res->bytes_fetched, errbuf);
    if (!r && gz && rename(path, gzp) != 0) { /* kept gzip'd: prep_cut_receive inflates it, bounded */
        prep_io_fail("rename", gzp, errno);
        snprintf(errbuf, CURL_ERROR_SIZE, "%s", prep_io_last());
        unlink(path);
        return -2;
    }
    if (!r) {
        res->objects_fetched++;
        if (gz) res->gz_fetched++;
        if (fetched) snprintf(fetched, 4096, "%.4000s", gz ? gzp : path);
    }
    return r;
}

/* The diag for a failed GET of rel (r: the HTTP status, -1 or -2): "blocked" for 403,
 * "io" for the local disk. */
static void fetch_failed(prep_diags *d, const prep_pull_opts *o, const char *rel, long r, const char *errbuf)
{
    if (r == -2) { /* the local disk (fetch_file): named as an I/O failure, not the link's */
        prep_diags_add(d, o->url, 0, 0, "io", "%s: %s", rel, errbuf);
        return;
    }
    prep_diags_add(d, o->url, 0, 0, r == 403 ? "blocked" : "pull-http", "%s: %s", rel,
                   r < 0 ? errbuf : r == 403 ? "refused (403): blocked" : "HTTP error");
}

/* Whether an entry of m is, or has as a part, the object sha. */
static int manifest_names(const prep_cut_manifest *m, const char *sha)
{
    for (size_t i = 0; i < m->n; i++) {
        const prep_cut_entry *en = &m->entries[i];
        if (!en->n_parts && !strcmp(en->sha256, sha)) return 1;
        for (size_t j = 0; j < en->n_parts; j++)
            if (!strcmp(en->parts[j].sha256, sha)) return 1;
    }
    return 0;
}

/* Removes the "#s" parts fetched for a patch that is not used (res: counted back). */
static void subst_drop(char obj[][4096], size_t n, prep_pull_result *res)
{
    for (size_t j = 0; j < n; j++)
        if (obj[j][0] && unlink(obj[j]) == 0 && res) res->objects_fetched--;
}

/* Cut q as a patch against base (the manifest of cut q-1, which the store or this batch
 * holds): fetches cuts/q/manifest.patch and the new parts its "#s" lines name, rebuilds
 * the manifest (prep_cut_manifest_patch_objects: every substituted page re-assembled and
 * hashed, the result hash checked) into *m and writes it to work as cuts/q/manifest, so
 * prep_cut_receive checks the institute's signature over those bytes as over a fetched
 * manifest, without rebuilding them a second time. Returns 1 done, 0 use the whole
 * manifest instead (no patch offered, or it does not apply), -1 the broadcaster is
 * blocked (diag). */
static int fetch_patch(CURL *c, const prep_pull_opts *o, const char *work, uint64_t q, const prep_cut_manifest *base,
                       prep_cut_manifest *m, prep_pull_result *res, char *errbuf, prep_diags *d)
{
    char rel[128], path[4096];
    char subst_obj[PREP_CUT_SUBST_MAX][4096], subst_neu[PREP_CUT_SUBST_MAX][65];
    uint64_t subst_size[PREP_CUT_SUBST_MAX];
    size_t n_subst = 0;
    for (size_t j = 0; j < PREP_CUT_SUBST_MAX; j++) subst_obj[j][0] = subst_neu[j][0] = '\0';
    int gone = 0;
    snprintf(rel, sizeof rel, "cuts/%llu/manifest.patch", (unsigned long long)q);
    snprintf(path, sizeof path, "%s/%s", work, rel);
    int pgz = 0;
    const uint64_t mmax = manifest_max(o);
    long r = fetch_file_gz(c, o, rel, path, mmax, prep_cut_gz_bound(mmax), &pgz, &res->bytes_fetched, errbuf);
    if (r == 403 || r == -2) { /* blocked, or the local disk refused it */
        fetch_failed(d, o, rel, r, errbuf);
        return -1;
    }
    if (r) return 0; /* 404: none worth sending; a network error shows again on the manifest */
    const prep_cut_limits *lim = o->policy ? &o->policy->limits : NULL;
    char *text = NULL;
    size_t tl = 0;
    int done = 0;
    prep_err rf = prep_read_file(path, (size_t)(pgz ? prep_cut_gz_bound(mmax) : mmax), &text, &tl);
    if (!rf && pgz) { /* gzip'd: inflated here, bounded like the receiver's (a bad one: the manifest) */
        char *raw = NULL;
        size_t rl = 0;
        prep_diags gd;
        prep_diags_init(&gd);
        rf = prep_cut_gunzip(text, tl, (size_t)mmax, &raw, &rl, path, &gd);
        prep_diags_free(&gd);
        free(text);
        text = raw;
        tl = rl;
    }
    if (rf == PREP_OK) {
        /* Made for this base, and which parts its "#s" substitutions need (they must be at
         * hand to rebuild the files they are in): read from the patch's head alone, so
         * nothing is fetched for a patch made for another base. */
        prep_diags hd;
        prep_diags_init(&hd);
        int ok = prep_cut_manifest_patch_subst(base->sha256, text, tl, lim, path, subst_neu, subst_size, &n_subst,
                                               &hd) == PREP_OK;
        prep_diags_free(&hd);
        for (size_t j = 0; ok && j < n_subst; j++) {
            long fr = fetch_object(c, o, work, subst_neu[j], subst_size[j], res, errbuf, subst_obj[j]);
            if (fr == -2) {
                char orel[128];
                snprintf(orel, sizeof orel, "objects/%.2s/%s", subst_neu[j], subst_neu[j] + 2);
                fetch_failed(d, o, orel, fr, errbuf);
                free(text);
                unlink(path);
                subst_drop(subst_obj, n_subst, res);
                return -1;
            }
            if (fr == 404) gone = 1; /* its part is no longer kept (the institute's retention) */
            if (fr) ok = 0;
        }
        if (ok) {
            const char *const roots[2] = {o->store, work};
            prep_buf out;
            prep_diags pd;
            prep_diags_init(&pd);
            if (prep_cut_manifest_patch_objects(base, text, tl, lim, roots, 2, path, &out, &pd) == PREP_OK) {
                char mpath[4096];
                snprintf(mpath, sizeof mpath, "%s/cuts/%llu/manifest", work, (unsigned long long)q);
                done = prep_cut_manifest_parse(out.data, out.len, lim, path, m, &pd) == PREP_OK;
                if (done && prep_write_file_atomic(mpath, out.data, out.len) != PREP_OK) {
                    /* the patch applied; the disk refused the result: an I/O failure, named,
                     * not a patch to fall back from */
                    prep_diags_add(d, mpath, 0, 0, "io", "%s", prep_io_last());
                    prep_buf_free(&out);
                    prep_diags_free(&pd);
                    free(text);
                    unlink(path);
                    subst_drop(subst_obj, n_subst, NULL);
                    prep_cut_manifest_free(m);
                    memset(m, 0, sizeof *m);
                    return -1;
                }
                prep_buf_free(&out);
            }
            prep_diags_free(&pd);
        }
    }
    free(text);
    unlink(path); /* the rebuilt manifest stands for it */
    if (done) {
        res->patches_fetched++;
        /* A "#s" part no entry of the result names (a substitution that changed nothing)
         * would be an object no manifest names: the receiver refuses such a batch. */
        for (size_t j = 0; j < n_subst; j++)
            if (subst_obj[j][0] && !manifest_names(m, subst_neu[j]) && unlink(subst_obj[j]) == 0) res->objects_fetched--;
        return 1;
    }
    if (!gone) res->patches_refused++; /* a part the link no longer has is no fault of the patch */
    /* It did not apply here: the whole manifest. The part fetched for it goes too, or the
     * receiver would refuse the batch for an object no manifest names; the whole
     * manifest's own objects are fetched by the caller. */
    subst_drop(subst_obj, n_subst, res);
    prep_cut_manifest_free(m);
    memset(m, 0, sizeof *m);
    return 0;
}

static int parse_state(const char *t, uint64_t *seq, char sha[65])
{
    unsigned long long s = 0;
    if (strncmp(t, "prep-pull 1\n", 12)) return -1;
    if (sscanf(t + 12, "seq %llu\nmanifest %64[0-9a-f]\n", &s, sha) != 2 || !prep_is_sha256_hex(sha)) return -1;
    *seq = s;
    return 0;
}

/* One cut q of the batch into work: its signature, its manifest (a patch against *base
 * when held, else whole: into *m) and every object of it the batch lacks. */
static prep_err fetch_cut(CURL *c, const prep_pull_opts *o, const char *work, uint64_t q, uint64_t active,
                          uint64_t remote, const prep_cut_manifest *base, int have_base, prep_cut_manifest *m,
                          prep_pull_result *res, char *errbuf, prep_diags *d)
{
    char path[4096], rel[256];
    snprintf(path, sizeof path, "%s/cuts/%llu", work, (unsigned long long)q);
    if (prep_mkdirs(path)) {
        prep_diags_add(d, path, 0, 0, "io", "%s", prep_err_text(PREP_ERR_IO));
        return PREP_ERR_IO;
    }
    snprintf(rel, sizeof rel, "cuts/%llu/manifest.sig", (unsigned long long)q);
    snprintf(path, sizeof path, "%s/%s", work, rel);
    long r = fetch_file(c, o, rel, path, 4096, &res->bytes_fetched, errbuf);
    if (r) {
        fetch_failed(d, o, rel, r, errbuf);
        return PREP_ERR_IO;
    }
    int patched = have_base ? fetch_patch(c, o, work, q, base, m, res, errbuf, d) : 0;
    if (patched < 0) return PREP_ERR_IO;
    if (!patched) {
        snprintf(rel, sizeof rel, "cuts/%llu/manifest", (unsigned long long)q);
        snprintf(path, sizeof path, "%s/%s", work, rel);
        r = fetch_file(c, o, rel, path, manifest_max(o), &res->bytes_fetched, errbuf);
        if (r) {
            fetch_failed(d, o, rel, r, errbuf);
            return PREP_ERR_IO;
        }
        char *text = NULL;
        size_t tl = 0;
        prep_err e;
        if ((e = prep_read_file(path, (size_t)manifest_max(o), &text, &tl)) ||
            (e = prep_cut_manifest_parse(text, tl, o->policy ? &o->policy->limits : NULL, path, m, d))) {
            free(text);
            return e;
        }
        free(text);
    }
    res->cuts_fetched++;
    for (size_t i = 0; i < m->n; i++) {
        const prep_cut_entry *en = &m->entries[i];
        size_t nobj = en->n_parts ? en->n_parts : 1;
        for (size_t j = 0; j < nobj; j++) {
            const char *sha = en->n_parts ? en->parts[j].sha256 : en->sha256;
            uint64_t size = en->n_parts ? en->parts[j].size : en->size;
            r = fetch_object(c, o, work, sha, size, res, errbuf, NULL);
            if (!r) continue;
            snprintf(rel, sizeof rel, "objects/%.2s/%s", sha, sha + 2);
            if (r == 404) {
                /* The manifest is there, its object is not: the institute's retention
                 * ("store_keep") removed the objects of this older cut. The chain
                 * cannot be taken from here (every cut of a batch needs its objects). */
                prep_diags_add(d, o->url, 0, 0, "pull-gone",
                               "%s (of cut %llu): not on the link (404): the institute no longer keeps the "
                               "objects of cut %llu (its store keeps only the newest cuts whole), so this store, "
                               "on cut %llu, is too far behind to take the chain up to %llu; move it aside and "
                               "start from an empty store, which takes the newest cut whole",
                               rel, (unsigned long long)q, (unsigned long long)q, (unsigned long long)active,
                               (unsigned long long)remote);
            } else {
                fetch_failed(d, o, rel, r, errbuf);
            }
            return PREP_ERR_IO;
        }
    }
    return PREP_OK;
}

/* The state (estado): 0 with *remote and rsha when there is one to act on; 1 when there is
 * nothing to do (304); -1 with e set and a diag. */
static int fetch_state(CURL *c, const prep_pull_opts *o, char etag[65], prep_pull_result *res, uint64_t *remote,
                       char rsha[65], char *errbuf, prep_err *e, prep_diags *d)
{
    char state[STATE_MAX + 1];
    sink s = {.mem = state, .cap = STATE_MAX, .limit = STATE_MAX};
    hdrs h = {"", 0};
    long code = get(c, o, "estado", &s, etag, &h, errbuf);
    res->http_status = (int)code;
    if (code == 304) {
        res->not_modified = 1;
        return 1;
    }
    *e = PREP_ERR_IO;
    if (code == 403) {
        prep_diags_add(d, o->url, 0, 0, "blocked", "the institute refuses this link (403): the broadcaster is blocked");
        return -1;
    }
    if (code != 200) {
        if (code < 0) prep_diags_add(d, o->url, 0, 0, "pull-network", "estado: %s", errbuf);
        else prep_diags_add(d, o->url, 0, 0, "pull-http", "estado: HTTP status %ld", code);
        return -1;
    }
    state[s.len] = '\0';
    if (parse_state(state, remote, rsha)) {
        prep_diags_add(d, o->url, 0, 0, "pull-state", "estado is not a prep-pull 1 state");
        *e = PREP_ERR_PARSE;
        return -1;
    }
    *e = PREP_OK;
    res->remote_seq = *remote;
    return 0;
}

prep_err prep_pull_once(const prep_pull_opts *o, char etag[65], prep_pull_result *res, prep_diags *d)
{
    memset(res, 0, sizeof *res);
    size_t ul = o->url ? strlen(o->url) : 0;
    if (!ul || o->url[ul - 1] != '/' || (strncmp(o->url, "https://", 8) && strncmp(o->url, "http://", 7))) {
        prep_diags_add(d, o->url ? o->url : "(url)", 0, 0, "pull-url", "the pull link must be an https:// URL ending in '/'");
        return PREP_ERR_USAGE;
    }
    prep_err ce = prep_deliver_curl_acquire(d);
    if (ce) return ce;
    CURL *c = curl_easy_init();
    if (!c) {
        prep_deliver_curl_release();
        return PREP_ERR_NOMEM;
    }
    char errbuf[CURL_ERROR_SIZE];
    prep_err e = PREP_OK;
    char *work = NULL;
    prep_cut_manifest m = {0}, base = {0};
    uint64_t remote = 0;
    char rsha[65];
    if (fetch_state(c, o, etag, res, &remote, rsha, errbuf, &e, d)) goto out;
    prep_cut_active act = {0};
    prep_diags ad;
    prep_diags_init(&ad);
    if (prep_cut_active_read(o->store, &act, &ad) != PREP_OK) act.seq = 0;
    prep_diags_free(&ad);
    res->active_before = res->active_after = act.seq;
    /* healing: the link's newest cut is this store's active one, the same manifest */
    int heal = o->heal && act.seq && remote == act.seq && !strcmp(rsha, act.manifest_sha256);
    if (remote <= act.seq && !heal) {
        snprintf(etag, 65, "%s", rsha);
        goto out;
    }
    /* the batch: every cut after the active one (the chain), or only the newest for an
     * empty store (a first cut needs no predecessor); healing, the active one again */
    uint64_t first = heal ? act.seq : act.seq ? act.seq + 1 : remote;
    work = o->work ? strdup(o->work) : NULL;
    if (!work) {
        size_t n = strlen(o->store) + 8;
        work = malloc(n);
        if (work) snprintf(work, n, "%s/pull", o->store);
    }
    if (!work) {
        e = PREP_ERR_NOMEM;
        goto out;
    }
    prep_rm_tree(work);
    /* The manifest of the cut before the one being fetched, when held: a cut's manifest
     * is then fetched as a patch against it (a few hundred KB instead of the whole). */
    int have_base = 0;
    if (act.seq && first == act.seq + 1) {
        prep_diags bd;
        prep_diags_init(&bd);
        have_base = prep_cut_load(o->store, act.seq, &base, &bd) == PREP_OK;
        prep_diags_free(&bd);
    }
    for (uint64_t q = first; q <= remote && !e; q++) {
        prep_cut_manifest_free(&m);
        memset(&m, 0, sizeof m);
        e = fetch_cut(c, o, work, q, act.seq, remote, &base, have_base, &m, res, errbuf, d);
        /* This cut's manifest is the next one's base. */
        prep_cut_manifest_free(&base);
        base = m;
        memset(&m, 0, sizeof m);
        have_base = 1;
    }
    if (!e) {
        prep_cut_result cr = {0};
        e = prep_cut_receive(o->store, work, o->policy, &cr, d);
        res->active_after = cr.active_after ? cr.active_after : res->active_before;
        if (!e) snprintf(etag, 65, "%s", rsha);
    }
out:
    prep_cut_manifest_free(&m);
    prep_cut_manifest_free(&base);
    if (work) {
        prep_rm_tree(work);
        free(work);
    }
    curl_easy_cleanup(c);
    prep_deliver_curl_release();
    return e;
}

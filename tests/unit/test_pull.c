/* The pull link end to end on loopback: the institute's pull server over a real socket,
 * the broadcaster's prep_pull_once with libcurl, prep_cut_receive behind it. */
#include "test_cut_util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "prep/pull.h"

#include <strings.h>
#include <zlib.h>

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static atomic_int blocked;
static atomic_int asked;

static int authorize(void *ctx, const char *token, char id_out[64])
{
    (void)ctx;
    atomic_fetch_add(&asked, 1);
    if (strcmp(token, TOKEN) != 0) return 0;
    snprintf(id_out, 64, "uaq");
    return atomic_load(&blocked) ? -1 : 1;
}

typedef struct fixture {
    char *root, *inst, *bcast;
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    prep_pull_server *srv;
    char url[128];
    prep_cut_policy pol;
    site s;
} fixture;

/* Starts f's link with o (its store and authorizer) and points f->url at it; the port. */
static int link_start(fixture *f, const prep_pull_server_opts *o)
{
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_pull_server_start(o, &f->srv, &d), PREP_OK);
    prep_diags_free(&d);
    int port = prep_pull_server_port(f->srv);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/pull/%s/", port, TOKEN);
    return port;
}

static void fx_up(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->root = tmpdir_new();
    f->inst = pathf("%s/institute", f->root);
    f->bcast = pathf("%s/broadcaster", f->root);
    key_from_seed(7, &f->sk, &f->pk);
    site_init(&f->s, 40);
    prep_pull_server_opts o = {.listen = "127.0.0.1:0", .store = f->inst, .authorize = authorize};
    link_start(f, &o);
    policy_for(&f->pol, &f->pk, T0 + 3600);
    atomic_store(&blocked, 0);
}

static void fx_down(fixture *f)
{
    prep_pull_server_stop(f->srv);
    site_free(&f->s);
    rm_rf(f->root);
    free(f->root);
    free(f->inst);
    free(f->bcast);
}

static uint64_t cut(fixture *f, prep_time at)
{
    uint64_t seq = 0;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = make_cut(f->inst, &f->s, &f->sk, PREP_CUT_LIVE, at, 3600, &seq, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
    return seq;
}

static prep_err pull(fixture *f, const char *url, char etag[65], prep_pull_result *r, prep_diags *d)
{
    prep_pull_opts o = {.url = url, .store = f->bcast, .policy = &f->pol};
    return prep_pull_once(&o, etag, r, d);
}

/* The broadcaster's manifest of cut k is the institute's, byte for byte. */
static void assert_same_manifest(const fixture *f, int k)
{
    char *a = pathf("%s/cuts/%d/manifest", f->inst, k), *b = pathf("%s/cuts/%d/manifest", f->bcast, k);
    size_t na, nb;
    char *da = read_all(a, &na), *db = read_all(b, &nb);
    assert_non_null(da);
    assert_non_null(db);
    assert_int_equal(na, nb);
    assert_memory_equal(da, db, na);
    free(da);
    free(db);
    free(a);
    free(b);
}

/* The diff that turns cut k-1 of store into cut k, NUL-terminated (out initialised here). */
static void diff_of(const char *store, uint64_t k, prep_buf *out)
{
    prep_cut_manifest a = {0}, b = {0};
    assert_int_equal(prep_cut_load(store, k - 1, &a, NULL), PREP_OK);
    assert_int_equal(prep_cut_load(store, k, &b, NULL), PREP_OK);
    prep_buf_init(out, 1u << 20);
    assert_int_equal(prep_cut_manifest_diff(&a, &b, out), PREP_OK);
    assert_int_equal(prep_buf_append(out, "", 1), PREP_OK);
    out->len--; /* the NUL is past the patch */
    prep_cut_manifest_free(&a);
    prep_cut_manifest_free(&b);
}

static void test_pull_first_then_delta_then_304(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    assert_int_equal(cut(&f, T0), 1);
    site_set(&f.s, "gubernatura/seccion-0003/index.html", "<!doctype html><p>3 actas</p>");
    assert_int_equal(cut(&f, T0 + 300), 2);

    char etag[65] = "";
    prep_pull_result r;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = pull(&f, f.url, etag, &r, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    /* an empty store takes only the newest cut: 43 distinct files, one object each */
    assert_int_equal(r.remote_seq, 2);
    assert_int_equal(r.active_before, 0);
    assert_int_equal(r.active_after, 2);
    assert_int_equal(r.cuts_fetched, 1);
    assert_int_equal(r.objects_fetched, 43);
    assert_int_equal(r.patches_fetched, 0); /* nothing to patch against */
    assert_int_equal(active_seq(f.bcast), 2);
    prep_cut_active a1, a2;
    assert_int_equal(prep_cut_active_read(f.inst, &a1, NULL), PREP_OK);
    assert_int_equal(prep_cut_active_read(f.bcast, &a2, NULL), PREP_OK);
    assert_string_equal(a1.manifest_sha256, a2.manifest_sha256);
    assert_string_equal(etag, a1.manifest_sha256);

    /* nothing new: the state answers 304 and nothing is fetched */
    e = pull(&f, f.url, etag, &r, &d);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(r.http_status, 304);
    assert_true(r.not_modified);
    assert_int_equal(r.objects_fetched, 0);

    /* two more cuts, two pages changed in each: the broadcaster takes both cuts of the
     * chain and only the changed pages' objects (2 + 2, the LEEME changes in cut 4 too) */
    site_set(&f.s, "gubernatura/seccion-0001/index.html", "<!doctype html><p>1 acta</p>");
    site_set(&f.s, "gubernatura/seccion-0002/index.html", "<!doctype html><p>2 actas</p>");
    assert_int_equal(cut(&f, T0 + 600), 3);
    site_set(&f.s, "gubernatura/seccion-0004/index.html", "<!doctype html><p>4 actas</p>");
    site_set(&f.s, "LEEME.txt", "Base de datos del PREP. Corte 4.\n");
    assert_int_equal(cut(&f, T0 + 900), 4);
    e = pull(&f, f.url, etag, &r, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(r.active_before, 2);
    assert_int_equal(r.active_after, 4);
    assert_int_equal(r.cuts_fetched, 2);
    assert_int_equal(r.objects_fetched, 4);
    assert_int_equal(active_seq(f.bcast), 4);
    /* both manifests came as patches (3 against the store's 2, 4 against the batch's 3),
     * so the bytes are the two signatures, two small patches and the four objects: less
     * than the two whole manifests alone */
    assert_int_equal(r.patches_fetched, 2);
    struct stat m3, m4;
    char *p3 = pathf("%s/cuts/3/manifest", f.inst), *p4 = pathf("%s/cuts/4/manifest", f.inst);
    assert_int_equal(stat(p3, &m3), 0);
    assert_int_equal(stat(p4, &m4), 0);
    free(p3);
    free(p4);
    assert_true(r.bytes_fetched < (uint64_t)(m3.st_size + m4.st_size));
    /* the broadcaster's manifests are the institute's, byte for byte */
    assert_same_manifest(&f, 3);
    assert_same_manifest(&f, 4);
    /* the scratch area is gone */
    char *scratch = pathf("%s/pull", f.bcast);
    struct stat sb;
    assert_int_not_equal(stat(scratch, &sb), 0);
    free(scratch);
    prep_diags_free(&d);
    fx_down(&f);
}

static size_t buf_sink(char *p, size_t sz, size_t n, void *ud)
{
    prep_buf_append(ud, p, sz * n);
    return sz * n;
}

/* One GET of url into a buffer; the HTTP status. */
typedef struct get_job {
    const char *url;
    prep_buf body;
    long code;
    pthread_t th;
} get_job;

static void *get_main(void *arg)
{
    get_job *j = arg;
    prep_buf_init(&j->body, 1u << 20);
    CURL *g = curl_easy_init();
    curl_easy_setopt(g, CURLOPT_URL, j->url);
    curl_easy_setopt(g, CURLOPT_WRITEFUNCTION, buf_sink);
    curl_easy_setopt(g, CURLOPT_WRITEDATA, &j->body);
    j->code = curl_easy_perform(g) == CURLE_OK ? 0 : -1;
    if (!j->code) curl_easy_getinfo(g, CURLINFO_RESPONSE_CODE, &j->code);
    curl_easy_cleanup(g);
    return NULL;
}

/* GET url's body (status 200 asserted); owned, NUL-terminated; *len (may be NULL) its length. */
static char *get_body(const char *url, size_t *len)
{
    get_job j = {.url = url};
    get_main(&j);
    assert_int_equal(j.code, 200);
    if (len) *len = j.body.len;
    assert_int_equal(prep_buf_append(&j.body, "", 1), PREP_OK);
    return prep_buf_steal(&j.body, NULL);
}

static void test_block_unknown_and_hostile_paths(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    cut(&f, T0);
    char etag[65] = "";
    prep_pull_result r;
    prep_diags d;
    prep_diags_init(&d);

    /* blocked: 403 from the next request on, named "blocked"; nothing activated */
    atomic_store(&blocked, 1);
    prep_err e = pull(&f, f.url, etag, &r, &d);
    assert_int_equal(e, PREP_ERR_IO);
    assert_int_equal(r.http_status, 403);
    assert_non_null(prep_diags_find(&d, "blocked"));
    assert_int_equal(active_seq(f.bcast), 0);
    /* unblocked: the same link works again */
    atomic_store(&blocked, 0);
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(pull(&f, f.url, etag, &r, &d), PREP_OK);
    assert_int_equal(active_seq(f.bcast), 1);

    /* an unknown token is 404, like any path outside the links */
    char bad[160];
    snprintf(bad, sizeof bad, "http://127.0.0.1:%d/pull/ffff/", prep_pull_server_port(f.srv));
    etag[0] = '\0';
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(pull(&f, bad, etag, &r, &d), PREP_ERR_IO);
    assert_int_equal(r.http_status, 404);

    /* a listen address that is not ADDR:PORT is refused before anything is bound */
    prep_pull_server *bad_srv = NULL;
    prep_pull_server_opts bo = {.listen = "localhost:99999", .store = f.inst, .authorize = authorize};
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(prep_pull_server_start(&bo, &bad_srv, &d), PREP_ERR_USAGE);
    assert_null(bad_srv);
    assert_non_null(prep_diags_find(&d, "listen"));

    /* hostile paths never reach a file outside the store */
    static const char *const probes[] = {
        "cuts/1/../../active", "cuts/01/manifest", "cuts/1/other", "objects/zz/aaaa", "objects/../active",
        "cuts/1/manifest/", "%2e%2e/%2e%2e/etc/passwd", "objects/ab/cd",
        "cuts/999/manifest.patch", "cuts/0/manifest.patch", "cuts/1/manifest.patch",
        "cuts/9999999999999/manifest.patch",
    };
    CURL *c = curl_easy_init();
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        char u[512];
        snprintf(u, sizeof u, "%s%s", f.url, probes[i]);
        curl_easy_setopt(c, CURLOPT_URL, u);
        curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code != 404 && code != 400) fprintf(stderr, "probe %s -> %ld\n", probes[i], code);
        assert_true(code == 404 || code == 400);
    }
    /* a patch needs a cut before it: cut 1 has none (404, so the client takes the
     * manifest); with cut 2 made, cuts/2/manifest.patch is a patch against cut 1 */
    {
        char u[512];
        snprintf(u, sizeof u, "%scuts/1/manifest.patch", f.url);
        curl_easy_setopt(c, CURLOPT_URL, u);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        long pc = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &pc);
        assert_int_equal(pc, 404);
        site_set(&f.s, "gubernatura/seccion-0005/index.html", "<!doctype html><p>5 actas</p>");
        cut(&f, T0 + 300);
        snprintf(u, sizeof u, "%scuts/2/manifest.patch", f.url);
        size_t body_len;
        char *body = get_body(u, &body_len);
        prep_cut_manifest m1 = {0};
        assert_int_equal(prep_cut_load(f.inst, 1, &m1, NULL), PREP_OK);
        prep_buf rebuilt;
        assert_int_equal(prep_cut_manifest_patch(&m1, body, body_len, NULL, "patch", &rebuilt, NULL), PREP_OK);
        char *p2 = pathf("%s/cuts/2/manifest", f.inst);
        size_t n2;
        char *d2 = read_all(p2, &n2);
        assert_int_equal(rebuilt.len, n2);
        assert_memory_equal(rebuilt.data, d2, n2);
        assert_true(body_len < n2);
        free(d2);
        free(p2);
        /* Many broadcasters asking at once, for the cached cut and for cuts 3 and 4 made
         * now (computed while the others wait, four slots in use), all get the same bytes. */
        site_set(&f.s, "gubernatura/seccion-0007/index.html", "<!doctype html><p>7 actas</p>");
        cut(&f, T0 + 600);
        site_set(&f.s, "gubernatura/seccion-0008/index.html", "<!doctype html><p>8 actas</p>");
        cut(&f, T0 + 900);
        get_job jobs[12];
        char urls[12][256];
        for (int i = 0; i < 12; i++) {
            snprintf(urls[i], sizeof urls[i], "%scuts/%d/manifest.patch", f.url, 2 + i % 3);
            jobs[i].url = urls[i];
            assert_int_equal(pthread_create(&jobs[i].th, NULL, get_main, &jobs[i]), 0);
        }
        for (int i = 0; i < 12; i++) pthread_join(jobs[i].th, NULL);
        for (int i = 0; i < 12; i++) {
            assert_int_equal(jobs[i].code, 200);
            if (i >= 3) {
                assert_int_equal(jobs[i].body.len, jobs[i - 3].body.len);
                assert_memory_equal(jobs[i].body.data, jobs[i - 3].body.data, jobs[i].body.len);
            }
        }
        assert_int_equal(jobs[0].body.len, body_len); /* cut 2's patch, as served before */
        assert_memory_equal(jobs[0].body.data, body, body_len);
        for (int i = 0; i < 12; i++) prep_buf_free(&jobs[i].body);
        prep_buf_free(&rebuilt);
        free(body);
        prep_cut_manifest_free(&m1);
    }
    /* and a real object is served */
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f.inst, 1, &m, NULL), PREP_OK);
    char u[512];
    snprintf(u, sizeof u, "%sobjects/%.2s/%s", f.url, m.entries[0].sha256, m.entries[0].sha256 + 2);
    curl_easy_setopt(c, CURLOPT_URL, u);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    curl_off_t cl = 0;
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    assert_int_equal((uint64_t)cl, m.entries[0].size);
    prep_cut_manifest_free(&m);
    curl_easy_cleanup(c);

    /* the server counts a request after its answer is written: give the last one a moment */
    prep_pull_server_stats ss;
    for (int i = 0; i < 200; i++) {
        prep_pull_server_get_stats(f.srv, &ss);
        if (ss.forbidden >= 1 && ss.not_found >= 10) break;
        usleep(10000);
    }
    assert_true(ss.forbidden >= 1);
    assert_true(ss.not_found >= 10);
    prep_diags_free(&d);
    fx_down(&f);
}

/* ---------------------------------------------------------------- a patch that does not apply */
/* A stand-in institute link over a real socket, answering from the institute's store
 * except for cuts/2/manifest.patch (a crafted patch) and one extra object: what a
 * broadcaster does when a patch does not apply cannot be provoked through the real
 * server, which only makes good patches. One connection at a time, Connection: close. */
typedef struct fake_link {
    int lfd, port;
    const char *store;
    char patch_path[64];
    const char *patch;
    size_t patch_len;
    char junk_sha[65];
    atomic_int stop;
    char asked[64][160];
    atomic_int n_asked;
    pthread_t th;
} fake_link;

static void *fake_main(void *arg)
{
    fake_link *fl = arg;
    while (!atomic_load(&fl->stop)) {
        int fd = accept(fl->lfd, NULL, NULL);
        if (fd < 0) continue;
        char req[2048];
        ssize_t n = recv(fd, req, sizeof req - 1, 0);
        req[n > 0 ? n : 0] = '\0';
        char path[1024] = "";
        sscanf(req, "GET /pull/" TOKEN "/%1000s", path);
        int k = atomic_fetch_add(&fl->n_asked, 1);
        if (k < 64) snprintf(fl->asked[k], sizeof fl->asked[k], "%.159s", path);
        char *body = NULL;
        size_t bl = 0;
        prep_cut_active a;
        if (!strcmp(path, "estado") && prep_cut_active_read(fl->store, &a, NULL) == PREP_OK) {
            body = pathf("prep-pull 1\nseq %llu\nmanifest %s\n", (unsigned long long)a.seq, a.manifest_sha256);
            bl = strlen(body);
        } else if (!strcmp(path, fl->patch_path)) {
            body = malloc(fl->patch_len);
            memcpy(body, fl->patch, fl->patch_len);
            bl = fl->patch_len;
        } else if (!strncmp(path, "objects/", 8) && !strncmp(path + 8, fl->junk_sha, 2) &&
                   !strcmp(path + 11, fl->junk_sha + 2)) {
            body = prep_xstrdup("junk");
            bl = 4;
        } else if (!strncmp(path, "cuts/", 5) || !strncmp(path, "objects/", 8)) {
            char *f = pathf("%s/%s", fl->store, path);
            body = read_all(f, &bl);
            free(f);
        }
        char head[256];
        int hl = body ? snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\ncontent-length: %zu\r\nconnection: close\r\n\r\n", bl)
                      : snprintf(head, sizeof head, "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        if (send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl && body) {
            for (size_t off = 0; off < bl;) {
                ssize_t w = send(fd, body + off, bl - off, MSG_NOSIGNAL);
                if (w <= 0) break;
                off += (size_t)w;
            }
        }
        free(body);
        close(fd);
    }
    return NULL;
}

static int fake_asked(fake_link *fl, const char *path)
{
    int n = atomic_load(&fl->n_asked);
    for (int i = 0; i < n && i < 64; i++)
        if (!strcmp(fl->asked[i], path)) return 1;
    return 0;
}

/* The institute's patch from seq-1 to seq with a "#s OLD 4 junk" line inserted after its
 * header (OLD: the first entry's hash, a plain file: nothing is substituted), and with
 * bad_result the "# result:" hash replaced by the base's. Owned. */
static char *crafted_patch(const char *store, uint64_t seq, const char *junk_sha, int bad_result)
{
    prep_cut_manifest a = {0};
    assert_int_equal(prep_cut_load(store, seq - 1, &a, NULL), PREP_OK);
    prep_buf pb;
    diff_of(store, seq, &pb);
    char *t = (char *)pb.data;
    if (bad_result) {
        char *res = strstr(t, "\n# result: ");
        assert_non_null(res);
        memcpy(res + 11, a.sha256, 64);
    }
    char *at = t;
    for (int line = 0; line < 15; line++) at = strchr(at, '\n') + 1; /* magic, base, result, 12 header lines */
    char *patch = pathf("%.*s#s %s 4 %s\n%s", (int)(at - t), t, a.entries[0].sha256, junk_sha, at);
    prep_cut_manifest_free(&a);
    prep_buf_free(&pb);
    return patch;
}

static void test_patch_that_does_not_apply_falls_back(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    cut(&f, T0);
    char etag[65] = "";
    prep_pull_result r;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(pull(&f, f.url, etag, &r, &d), PREP_OK); /* the broadcaster holds cut 1 */
    site_set(&f.s, "gubernatura/seccion-0006/index.html", "<!doctype html><p>6 actas</p>");
    cut(&f, T0 + 300);

    /* The real patch from 1 to 2 with a wrong "# result:" hash and a "#s" line naming an
     * object that no manifest has: it cannot apply, and its part would be extra. */
    fake_link fl = {.store = f.inst};
    prep_sha256_hex("junk", 4, fl.junk_sha);
    char *patch = crafted_patch(f.inst, 2, fl.junk_sha, 1);
    snprintf(fl.patch_path, sizeof fl.patch_path, "cuts/2/manifest.patch");
    fl.patch = patch;
    fl.patch_len = strlen(patch);

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    fl.lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fl.lfd >= 0);
    assert_int_equal(bind(fl.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fl.lfd, 16), 0);
    assert_int_equal(getsockname(fl.lfd, (struct sockaddr *)&sa, &sl), 0);
    fl.port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&fl.th, NULL, fake_main, &fl), 0);
    char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/pull/%s/", fl.port, TOKEN);

    /* The patch is fetched, its part too, it does not apply: the whole manifest is
     * fetched, the stray part is dropped (else the receiver refuses the batch), cut 2 is
     * active and its manifest is the institute's. */
    etag[0] = '\0';
    prep_err e = pull(&f, url, etag, &r, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(r.active_after, 2);
    assert_int_equal(r.patches_fetched, 0);
    assert_int_equal(r.patches_refused, 1);
    assert_true(fake_asked(&fl, "cuts/2/manifest.patch"));
    char junk_path[80];
    snprintf(junk_path, sizeof junk_path, "objects/%.2s/%.62s", fl.junk_sha, fl.junk_sha + 2);
    assert_true(fake_asked(&fl, junk_path));
    assert_true(fake_asked(&fl, "cuts/2/manifest"));
    assert_int_equal(r.objects_fetched, 1); /* the changed page only */
    assert_same_manifest(&f, 2);

    /* A patch that applies but whose "#s" changes nothing (its part named by no entry):
     * used, and the stray part dropped so the receiver does not refuse the batch. */
    site_set(&f.s, "gubernatura/seccion-0007/index.html", "<!doctype html><p>7 actas</p>");
    cut(&f, T0 + 600);
    free(patch);
    prep_sha256_hex("junk", 4, fl.junk_sha);
    patch = crafted_patch(f.inst, 3, fl.junk_sha, 0);
    snprintf(fl.patch_path, sizeof fl.patch_path, "cuts/3/manifest.patch");
    fl.patch = patch;
    fl.patch_len = strlen(patch);
    atomic_store(&fl.n_asked, 0);
    etag[0] = '\0';
    e = pull(&f, url, etag, &r, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(r.active_after, 3);
    assert_int_equal(r.patches_fetched, 1);
    assert_int_equal(r.patches_refused, 0);
    assert_false(fake_asked(&fl, "cuts/3/manifest"));
    assert_int_equal(r.objects_fetched, 1); /* the changed page; the stray part uncounted */

    atomic_store(&fl.stop, 1);
    shutdown(fl.lfd, SHUT_RDWR);
    int wake = socket(AF_INET, SOCK_STREAM, 0); /* in case accept is still waiting */
    connect(wake, (struct sockaddr *)&sa, sizeof sa);
    close(wake);
    pthread_join(fl.th, NULL);
    close(fl.lfd);
    free(patch);
    prep_diags_free(&d);
    fx_down(&f);
}

/* ---------------------------------------------------------------- composed pages */
/* A cut of 30 pages held as parts (head | stamp | body | foot), as the renderer makes
 * them: the stamp names the cut, so every page's entry changes in every cut and the
 * patch says so with one "#s" line. Page 0's body changes in cut seq 2. */
static const char *composed_pad = ""; /* appended to the stamp and bodies (the gzip tests) */

static void composed_cut(fixture *f, int stamp, const char *body0)
{
    static const char head[] = "<!doctype html><html><head><title>PREP</title></head><body>";
    static const char foot[] = "</body></html>\n";
    char stamp_s[640];
    snprintf(stamp_s, sizeof stamp_s, "<p class=corte>Corte %d</p>%s", stamp, composed_pad);
    prep_cut_file files[30];
    char *data[30], *paths[30];
    for (int i = 0; i < 30; i++) {
        char body[640];
        snprintf(body, sizeof body, "<p>seccion %04d: %s</p>%s", i + 1, i == 0 ? body0 : "sin cambios", composed_pad);
        data[i] = pathf("%s%s%s%s", head, stamp_s, body, foot);
        paths[i] = pathf("seccion-%04d/index.html", i + 1);
        memset(&files[i], 0, sizeof files[i]);
        files[i].path = paths[i];
        files[i].data = data[i];
        files[i].len = strlen(data[i]);
        files[i].n_parts = 4;
        files[i].part_len[0] = strlen(head);
        files[i].part_len[1] = strlen(stamp_s);
        files[i].part_len[2] = strlen(body);
        files[i].part_len[3] = strlen(foot);
    }
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.elections = "gubernatura";
    p.instant = T0 + 300 * stamp;
    p.zone = "America/Mexico_City";
    p.mode = PREP_CUT_LIVE;
    p.valid_for = 3600;
    uint64_t seq = 0;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_make(f->inst, &p, files, 30, &f->sk, &seq, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(seq, (uint64_t)stamp);
    prep_diags_free(&d);
    for (int i = 0; i < 30; i++) {
        free(data[i]);
        free(paths[i]);
    }
}

static void test_composed_pages_patch_with_stamp(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    composed_cut(&f, 1, "3 actas");
    char etag[65] = "";
    prep_pull_result r;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(pull(&f, f.url, etag, &r, &d), PREP_OK);
    assert_int_equal(active_seq(f.bcast), 1);
    composed_cut(&f, 2, "5 actas");

    /* The institute's patch carries the stamp substitution (else this test tests nothing). */
    prep_buf pb;
    diff_of(f.inst, 2, &pb);
    assert_non_null(strstr((char *)pb.data, "\n#s "));
    prep_buf_free(&pb);

    /* Pulled as a patch: the new stamp part and page 0's new body are the only objects
     * fetched, the stamp part is kept (every page names it), and the broadcaster's
     * manifest is the institute's byte for byte. */
    prep_pull_server_stats s0, s1;
    prep_pull_server_get_stats(f.srv, &s0);
    etag[0] = '\0';
    prep_err e = pull(&f, f.url, etag, &r, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(r.active_after, 2);
    assert_int_equal(r.patches_fetched, 1);
    assert_int_equal(r.patches_refused, 0);
    assert_int_equal(r.objects_fetched, 2);
    /* five requests, each answered once: estado, the signature, the patch, two objects
     * (the stamp part is not dropped and fetched again) */
    for (int i = 0; i < 200; i++) {
        prep_pull_server_get_stats(f.srv, &s1);
        if (s1.ok - s0.ok >= 5) break;
        usleep(10000);
    }
    usleep(50000);
    prep_pull_server_get_stats(f.srv, &s1);
    assert_int_equal(s1.ok - s0.ok, 5);
    assert_same_manifest(&f, 2);
    prep_diags_free(&d);
    fx_down(&f);
}

/* A store replaced under a running link (the drill's, then the night's): cut 2's patch
 * is the new store's, not the one cached from the old store. */
static void test_patch_follows_a_replaced_store(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    cut(&f, T0);
    site_set(&f.s, "gubernatura/seccion-0001/index.html", "<!doctype html><p>simulacro</p>");
    cut(&f, T0 + 300);
    char u[512];
    snprintf(u, sizeof u, "%scuts/2/manifest.patch", f.url);
    char *old_patch = get_body(u, NULL);

    rm_rf(f.inst);
    site_set(&f.s, "gubernatura/seccion-0001/index.html", "<!doctype html><p>jornada</p>");
    cut(&f, T0 + 3600);
    site_set(&f.s, "gubernatura/seccion-0002/index.html", "<!doctype html><p>jornada 2</p>");
    cut(&f, T0 + 3900);
    char *new_patch = get_body(u, NULL);
    assert_string_not_equal(old_patch, new_patch);
    prep_buf want;
    diff_of(f.inst, 2, &want);
    assert_int_equal(strlen(new_patch), want.len);
    assert_memory_equal(new_patch, want.data, want.len);
    prep_buf_free(&want);
    free(old_patch);
    free(new_patch);
    fx_down(&f);
}

static void test_tampered_object_refused(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    cut(&f, T0);
    /* the institute's copy of one object is damaged on disk: the broadcaster must refuse
     * the cut (its own check), keep nothing active, and name the file */
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f.inst, 1, &m, NULL), PREP_OK);
    const prep_cut_entry *en = prep_cut_manifest_find(&m, "LEEME.txt");
    assert_non_null(en);
    char op[4096];
    prep_cut_object_path(f.inst, en->sha256, op, sizeof op);
    chmod(op, 0644);
    size_t n = 0;
    char *b = read_all(op, &n);
    b[0] ^= 1;
    unlink(op);
    write_bytes(op, b, n);
    free(b);
    prep_cut_manifest_free(&m);
    char etag[65] = "";
    prep_pull_result r;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(pull(&f, f.url, etag, &r, &d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&d, "hash-mismatch"));
    assert_int_equal(active_seq(f.bcast), 0);
    assert_string_equal(etag, "");
    prep_diags_free(&d);
    fx_down(&f);
}

/* A full disk while pulling is named as such (issue 13): the pull work area on a 16 KiB
 * tmpfs, a cut with a 256 KiB page: the fetch fails with an "io" diag saying "no space
 * left on device", not a patch refused or a network error, and the active cut stays.
 * Needs root to mount the tmpfs (skipped otherwise). */
static void test_full_disk_named(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    cut(&f, T0);
    char etag[65] = "";
    prep_pull_result r;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(pull(&f, f.url, etag, &r, &d), PREP_OK);
    assert_int_equal(active_seq(f.bcast), 1);
    char *work = pathf("%s/small", f.root);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && mount -t tmpfs -o size=16k tmpfs '%s' 2>/dev/null", work, work);
    if (system(cmd) != 0) {
        prep_diags_free(&d);
        free(work);
        fx_down(&f);
        skip();
    }
    char *big = prep_xmalloc(256 * 1024 + 1);
    for (size_t i = 0; i < 256 * 1024; i++) big[i] = (char)('a' + (i * 7919 + i / 13) % 26);
    big[256 * 1024] = 0;
    site_set(&f.s, "gubernatura/seccion-0005/index.html", "<!doctype html><p>%s</p>", big);
    free(big);
    assert_int_equal(cut(&f, T0 + 300), 2);
    prep_pull_opts o = {.url = f.url, .store = f.bcast, .policy = &f.pol, .work = work};
    prep_diags_free(&d);
    prep_diags_init(&d);
    prep_err e = prep_pull_once(&o, etag, &r, &d);
    snprintf(cmd, sizeof cmd, "umount '%s'", work);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(e, PREP_ERR_IO);
    const prep_diag *g = prep_diags_find(&d, "io");
    if (!g) prep_diags_print(&d, stderr, 10);
    assert_non_null(g);
    assert_non_null(strstr(g->msg, "no space left on device"));
    assert_null(prep_diags_find(&d, "pull-http"));
    assert_int_equal(r.patches_refused, 0);
    assert_int_equal(active_seq(f.bcast), 1);
    prep_diags_free(&d);
    free(work);
    fx_down(&f);
}

static int connect_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Issue 13: 1,000 connections from 200 addresses that trickle a request head never hold
 * the link: a registered broadcaster still pulls the new cut in under 2 s, the tricklers
 * are cut at the head deadline, and one address cannot open more than its share (16):
 * the rest are refused with a 503 that says why. */
static void test_slowloris_link(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    prep_pull_server_stop(f.srv);
    prep_pull_server_opts so = {.listen = "127.0.0.1:0", .store = f.inst, .authorize = authorize, .head_timeout_s = 3};
    int port = link_start(&f, &so);
    prep_diags d;
    prep_diags_init(&d);
    cut(&f, T0);
    char etag[65] = "";
    prep_pull_result r;
    assert_int_equal(pull(&f, f.url, etag, &r, &d), PREP_OK);
    site_set(&f.s, "LEEME.txt", "Base de datos del PREP. Corte 2.\n");
    cut(&f, T0 + 300);

    enum { N = 1000, ADDRS = 200 };
    int *fds = prep_xcalloc(N, sizeof *fds);
    int opened = 0;
    for (int i = 0; i < N; i++) {
        char src[32];
        snprintf(src, sizeof src, "127.0.%d.%d", 1 + i % ADDRS / 250, 2 + i % ADDRS % 250);
        fds[i] = connect_from(src, port);
        if (fds[i] >= 0 && send(fds[i], "G", 1, MSG_NOSIGNAL) == 1) opened++;
    }
    assert_true(opened >= N - 5);
    usleep(300000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    prep_err e = pull(&f, f.url, etag, &r, &d);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f.bcast), 2);
    fprintf(stderr, "pulled cut 2 in %.3f s beside %d trickling connections\n", secs, opened);
    assert_true(secs < 2.0);
    /* the head deadline (3 s here) cuts every trickler: a read sees the close */
    sleep(4);
    int closed = 0;
    for (int i = 0; i < N; i++) {
        if (fds[i] < 0) continue;
        struct timeval tv = {0, 200000};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char b[64];
        if (recv(fds[i], b, sizeof b, 0) == 0) closed++;
        close(fds[i]);
    }
    fprintf(stderr, "%d of %d tricklers cut at the head deadline\n", closed, opened);
    assert_true(closed >= opened - 5);
    /* one address: at most 16 at once, the others refused with the reason */
    int refused = 0, held[40];
    for (int i = 0; i < 40; i++) {
        held[i] = connect_from("127.0.9.9", port);
        assert_true(held[i] >= 0);
    }
    usleep(300000);
    for (int i = 0; i < 40; i++) {
        struct timeval tv = {0, 100000};
        setsockopt(held[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char b[2048];
        size_t got = 0;
        ssize_t n;
        while (got < sizeof b - 1 && (n = recv(held[i], b + got, sizeof b - 1 - got, 0)) > 0) got += (size_t)n;
        b[got] = 0;
        if (strstr(b, "503") && strstr(b, "too many connections from this address")) refused++;
        close(held[i]);
    }
    fprintf(stderr, "%d of 40 connections from one address refused\n", refused);
    assert_int_equal(refused, 40 - 16);
    free(fds);
    prep_diags_free(&d);
    fx_down(&f);
}


/* The access log names the broadcaster and never writes its token: not for an answered
 * request, not for a path the link refuses, not for a request head that does not parse
 * (the server core logs "-" as its target). */
static void test_log_never_has_the_token(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    prep_pull_server_stop(f.srv);
    char *logp = pathf("%s/pull.log", f.root);
    FILE *log = fopen(logp, "w+");
    assert_non_null(log);
    prep_pull_server_opts o = {.listen = "127.0.0.1:0", .store = f.inst, .authorize = authorize, .log = log};
    int port = link_start(&f, &o);
    prep_diags d;
    prep_diags_init(&d);
    cut(&f, T0);
    char etag[65] = "";
    prep_pull_result r;
    assert_int_equal(pull(&f, f.url, etag, &r, &d), PREP_OK);
    const char *raw[] = {"GET /pull/" TOKEN "/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
                         "GET /pull/" TOKEN "/estado HTTP/1.1\r\nHost: x\r\nBad\x01Field: y\r\n\r\n",
                         "BREW /pull/" TOKEN "/estado HTTP/1.1\r\nHost: x\r\n\r\n"};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        int fd = connect_from("127.0.0.1", port);
        assert_true(fd >= 0);
        assert_int_equal(send(fd, raw[i], strlen(raw[i]), MSG_NOSIGNAL), (ssize_t)strlen(raw[i]));
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char b[1024];
        ssize_t n = recv(fd, b, sizeof b - 1, 0);
        assert_true(n > 0);
        b[n] = 0;
        assert_non_null(strstr(b, "HTTP/1.1 4"));
        close(fd);
    }
    prep_pull_server_stop(f.srv); /* flushes the log */
    f.srv = NULL;
    fseek(log, 0, SEEK_SET);
    char all[65536];
    size_t got = fread(all, 1, sizeof all - 1, log);
    all[got] = 0;
    fclose(log);
    assert_true(got > 0);
    assert_null(strstr(all, TOKEN));
    assert_non_null(strstr(all, " - uaq ["));
    assert_non_null(strstr(all, "\"GET /pull/*/estado HTTP/1.1\" 200 "));
    free(logp);
    prep_diags_free(&d);
    fx_down(&f);
}


/* ---------------------------------------------------------------- compressed transfer */
/* GET url with (or without) Accept-Encoding: gzip, the body kept as it came; *ce gets 1 when
 * the answer said Content-Encoding: gzip. */
static size_t ce_hdr(char *p, size_t sz, size_t n, void *ud)
{
    if (sz * n > 17 && !strncasecmp(p, "content-encoding: gzip", 22)) *(int *)ud = 1;
    return sz * n;
}

static char *get_coded(const char *url, int gzip, size_t *len, int *ce)
{
    prep_buf b;
    prep_buf_init(&b, 1u << 20);
    CURL *g = curl_easy_init();
    struct curl_slist *hl = gzip ? curl_slist_append(NULL, "Accept-Encoding: gzip") : NULL;
    *ce = 0;
    curl_easy_setopt(g, CURLOPT_URL, url);
    curl_easy_setopt(g, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(g, CURLOPT_WRITEFUNCTION, buf_sink);
    curl_easy_setopt(g, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(g, CURLOPT_HEADERFUNCTION, ce_hdr);
    curl_easy_setopt(g, CURLOPT_HEADERDATA, ce);
    assert_int_equal(curl_easy_perform(g), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(g, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    curl_easy_cleanup(g);
    curl_slist_free_all(hl);
    *len = b.len;
    return prep_buf_steal(&b, NULL);
}

/* zlib's own gunzip (not the program's): the bytes a gzip body stands for. */
static char *zlib_gunzip(const char *in, size_t n, size_t *outn)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 31), Z_OK);
    size_t cap = 1u << 20;
    char *o = malloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)o;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    *outn = cap - z.avail_out;
    inflateEnd(&z);
    return o;
}

static void wire_prepare(fixture *f, uint64_t seq, prep_cut_wire_result *wr)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_wire_prepare(f->inst, seq, 0, wr, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
}

static const char pad300[] = "<!-- relleno: el texto de una seccion, repetido como en una pagina real; relleno: el "
                             "texto de una seccion, repetido como en una pagina real; relleno: el texto de una "
                             "seccion, repetido como en una pagina real; relleno: el texto de una seccion -->";

/* Composed pages whose stamp and bodies are worth compressing, the wire cache made for each
 * cut: the first pull takes gzip'd objects, the second a gzip'd patch whose "#s" stamp part
 * came gzip'd too; both manifests are the institute's byte for byte, and fewer bytes cross
 * the link than the objects weigh. A client that does not offer gzip (an older prep, curl)
 * gets the raw bytes; one that does gets what zlib inflates to the very object. */
static void test_pull_gzip(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    /* the link as the institute runs it: a cut is announced once its .gz are made */
    prep_pull_server_stop(f.srv);
    prep_pull_server_opts o = {.listen = "127.0.0.1:0", .store = f.inst, .authorize = authorize, .wire_wait = 1};
    link_start(&f, &o);
    composed_pad = pad300;
    composed_cut(&f, 1, "3 actas");
    char etag[65] = "";
    prep_pull_result r;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(pull(&f, f.url, etag, &r, &d), PREP_ERR_IO); /* cut 1 not announced yet: 503 */
    assert_int_equal(r.http_status, 503);
    assert_int_equal(active_seq(f.bcast), 0);
    prep_diags_free(&d);
    prep_cut_wire_result wr;
    wire_prepare(&f, 1, &wr);
    assert_true(wr.compressed >= 30); /* the 30 bodies and the stamp; the head and foot are small */
    prep_diags_init(&d);
    prep_err e = pull(&f, f.url, etag, &r, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f.bcast), 1);
    assert_int_equal(r.gz_fetched, wr.compressed);
    assert_same_manifest(&f, 1);

    composed_cut(&f, 2, "5 actas");
    /* cut 2 is not announced before its compressed forms are made: a broadcaster polling
     * meanwhile still sees cut 1 (and would otherwise take cut 2 raw) */
    e = pull(&f, f.url, etag, &r, &d);
    assert_int_equal(e, PREP_OK);
    assert_true(r.not_modified); /* the state is still cut 1's: 304 to its ETag */
    assert_int_equal(active_seq(f.bcast), 1);
    wire_prepare(&f, 2, &wr);
    assert_int_equal(wr.compressed, 2); /* the new stamp and page 0's new body */
    assert_true(wr.patch_gz_bytes > 0 && wr.patch_gz_bytes < wr.patch_bytes);
    e = pull(&f, f.url, etag, &r, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(r.active_after, 2);
    assert_int_equal(r.patches_fetched, 1);
    assert_int_equal(r.patches_refused, 0);
    assert_int_equal(r.gz_fetched, 2);
    assert_same_manifest(&f, 2);
    /* on the wire: less than the raw patch and the two raw objects */
    assert_true(r.bytes_fetched < wr.patch_bytes + wr.raw_bytes);

    /* an object by both kinds of client */
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f.inst, 2, &m, NULL), PREP_OK);
    const prep_cut_entry *en = prep_cut_manifest_find(&m, "seccion-0001/index.html");
    assert_non_null(en);
    const char *sha = en->parts[2].sha256; /* the new body */
    char u[512], hex[65];
    snprintf(u, sizeof u, "%sobjects/%.2s/%s", f.url, sha, sha + 2);
    size_t n, rn;
    int ce;
    char *raw = get_coded(u, 0, &n, &ce);
    assert_int_equal(ce, 0);
    assert_int_equal(n, en->parts[2].size);
    prep_sha256_hex(raw, n, hex);
    assert_string_equal(hex, sha);
    free(raw);
    char *gz = get_coded(u, 1, &n, &ce);
    assert_int_equal(ce, 1);
    assert_true(n < en->parts[2].size);
    raw = zlib_gunzip(gz, n, &rn);
    prep_sha256_hex(raw, rn, hex);
    assert_string_equal(hex, sha);
    free(raw);
    free(gz);
    prep_cut_manifest_free(&m);
    composed_pad = "";
    prep_diags_free(&d);
    fx_down(&f);
}

/* The institute's cached .gz of a new object is damaged: the broadcaster refuses the cut
 * (its own bounded inflate and hash), keeps the last good cut, and takes the cut once the
 * damaged file is gone (the raw object is then sent). */
static void test_pull_tampered_gz_refused(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    composed_pad = pad300;
    composed_cut(&f, 1, "3 actas");
    char etag[65] = "";
    prep_pull_result r;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(pull(&f, f.url, etag, &r, &d), PREP_OK);
    composed_cut(&f, 2, "5 actas");
    wire_prepare(&f, 2, NULL);
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f.inst, 2, &m, NULL), PREP_OK);
    const prep_cut_entry *en = prep_cut_manifest_find(&m, "seccion-0001/index.html");
    char gp[4096];
    assert_int_equal(prep_cut_wire_object_path(f.inst, en->parts[2].sha256, gp, sizeof gp), 0);
    size_t n;
    char *b = read_all(gp, &n);
    b[n / 2] ^= 0x20;
    chmod(gp, 0644);
    write_bytes(gp, b, n);
    free(b);
    prep_err e = pull(&f, f.url, etag, &r, &d);
    assert_int_equal(e, PREP_ERR_VERIFY);
    assert_true(prep_diags_find(&d, "bad-gzip") || prep_diags_find(&d, "hash-mismatch"));
    assert_int_equal(active_seq(f.bcast), 1);
    assert_int_equal(unlink(gp), 0);
    prep_diags_free(&d);
    prep_diags_init(&d);
    e = pull(&f, f.url, etag, &r, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f.bcast), 2);
    assert_same_manifest(&f, 2);
    prep_cut_manifest_free(&m);
    composed_pad = "";
    prep_diags_free(&d);
    fx_down(&f);
}

/* A manifest over 64 MiB comes through the link (a national cut's is ~69 MB): the pull
 * client's bound is the policy's max_manifest_bytes (256 MiB by default), the same one
 * prep_cut_receive applies, not a fixed 64 MiB under it. 75,000 files with ~830-byte paths
 * and the same bytes (one object) make a manifest of ~68 MB; a policy bound one byte
 * under that manifest's size refuses it, and names the bound. */
static void test_manifest_over_64_mib(void **st)
{
    (void)st;
    fixture f;
    fx_up(&f);
    enum { N = 75000 };
    char seg[201];
    memset(seg, 's', 200);
    seg[200] = '\0';
    prep_cut_file *files = calloc(N, sizeof *files);
    char **paths = calloc(N, sizeof *paths);
    assert_non_null(files);
    assert_non_null(paths);
    static const char page[] = "<!doctype html><title>Secci\xC3\xB3n</title><p>sin actas</p>";
    for (size_t i = 0; i < N; i++) {
        paths[i] = pathf("seccion/%s/%s/%s/%s/%06zu.html", seg, seg, seg, seg, i);
        files[i].path = paths[i];
        files[i].data = page;
        files[i].len = sizeof page - 1;
    }
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.elections = "gubernatura";
    p.instant = T0;
    p.zone = "America/Mexico_City";
    p.valid_for = 3600;
    uint64_t seq = 0;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_make(f.inst, &p, files, N, &f.sk, &seq, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    for (size_t i = 0; i < N; i++) free(paths[i]);
    free(paths);
    free(files);
    char *mp = pathf("%s/cuts/1/manifest", f.inst);
    struct stat ms;
    assert_int_equal(stat(mp, &ms), 0);
    free(mp);
    assert_true(ms.st_size > (off_t)64 << 20);

    /* one byte under: refused before it is parsed, the bound named, nothing active */
    char etag[65] = "";
    prep_pull_result r;
    f.pol.limits.max_manifest_bytes = (uint64_t)ms.st_size - 1;
    assert_int_not_equal(pull(&f, f.url, etag, &r, &d), PREP_OK);
    int named = 0;
    for (size_t i = 0; i < d.n; i++) named |= strstr(d.v[i].msg, "larger than") != NULL;
    if (!named) prep_diags_print(&d, stderr, 5);
    assert_true(named);
    assert_int_equal(active_seq(f.bcast), 0);

    /* the default bound: taken whole, the same manifest byte for byte */
    prep_diags_free(&d);
    prep_diags_init(&d);
    prep_cut_limits_default(&f.pol.limits);
    e = pull(&f, f.url, etag, &r, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f.bcast), 1);
    assert_same_manifest(&f, 1);
    prep_diags_free(&d);
    fx_down(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pull_first_then_delta_then_304),
        cmocka_unit_test(test_block_unknown_and_hostile_paths),
        cmocka_unit_test(test_patch_that_does_not_apply_falls_back),
        cmocka_unit_test(test_composed_pages_patch_with_stamp),
        cmocka_unit_test(test_patch_follows_a_replaced_store),
        cmocka_unit_test(test_tampered_object_refused),
        cmocka_unit_test(test_full_disk_named),
        cmocka_unit_test(test_slowloris_link),
        cmocka_unit_test(test_log_never_has_the_token),
        cmocka_unit_test(test_pull_gzip),
        cmocka_unit_test(test_pull_tampered_gz_refused),
        cmocka_unit_test(test_manifest_over_64_mib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* prep serve holds a page's parts as deflate only (issue 15, src/serve/site_parts.c): the
 * identity bytes of a page, and every range of them, are inflated from the parts per
 * answer; gzip and br stay what they were; a version holds far less than the identity
 * bytes; a load hashes each page by reading its parts again from the store, so a part
 * object damaged in the store after an earlier load refuses the next load while the
 * version being served keeps answering the right bytes from memory.
 *
 * Expected bytes are the ones the test gave prep_cut_make; ETags are computed here from
 * them; gzip and br bodies are decoded with zlib and the brotli decoder. */
#include "test_cut_util.h"

#include <brotli/decode.h>
#include <sys/stat.h>
#include <zlib.h>

#include "prep/serve.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Pages of 4 parts: pre, stamp and post are the same bytes on every page (kept as bytes by
 * the part cache), the body is each page's own (kept as deflate only). */
#define N_PAGES 4
typedef struct site4 {
    char *pre, *stamp, *post;
    char *body[N_PAGES];
    size_t body_len[N_PAGES];
    char *page[N_PAGES];
    size_t len[N_PAGES];
    char path[N_PAGES][64];
} site4;

/* Compressible text that is not one repeated unit: words drawn from a list. */
static char *words(prep_rng *r, size_t n)
{
    static const char *w[] = {"<tr><td>", "Votos", "PAN ", "PRI ", "MORENA ", "</td><td>", "1234", "0917",
                              "casilla ", "secci\xC3\xB3n ", "</td></tr>\n", "nulos ", "distrito "};
    char *b = prep_xmalloc(n + 1);
    size_t i = 0;
    while (i < n) {
        const char *s = w[prep_rng_next(r) % (sizeof w / sizeof *w)];
        for (; *s && i < n; s++) b[i++] = *s;
    }
    b[n] = '\0';
    return b;
}

static void site4_make(site4 *s, int cut, const size_t *body_len)
{
    prep_rng r;
    prep_rng_seed(&r, 11);
    s->pre = words(&r, 700);
    s->post = words(&r, 300);
    char st[64];
    snprintf(st, sizeof st, "<p>Corte %d, 6 de junio de 2021</p>", cut);
    s->stamp = prep_xstrdup(st);
    for (int i = 0; i < N_PAGES; i++) {
        s->body_len[i] = body_len[i];
        s->body[i] = words(&r, body_len[i]);
        size_t a = strlen(s->pre), b = strlen(s->stamp), c = body_len[i], d = strlen(s->post);
        s->len[i] = a + b + c + d;
        s->page[i] = prep_xmalloc(s->len[i] + 1);
        memcpy(s->page[i], s->pre, a);
        memcpy(s->page[i] + a, s->stamp, b);
        memcpy(s->page[i] + a + b, s->body[i], c);
        memcpy(s->page[i] + a + b + c, s->post, d);
        snprintf(s->path[i], sizeof s->path[i], "p%d/index.html", i);
    }
}

static void site4_free(site4 *s)
{
    free(s->pre);
    free(s->stamp);
    free(s->post);
    for (int i = 0; i < N_PAGES; i++) {
        free(s->body[i]);
        free(s->page[i]);
    }
}

static void cut(const char *store, site4 *s, const prep_cut_seckey *sk, prep_time at)
{
    prep_cut_file cf[N_PAGES];
    memset(cf, 0, sizeof cf);
    for (int i = 0; i < N_PAGES; i++) {
        cf[i].path = s->path[i];
        cf[i].data = s->page[i];
        cf[i].len = s->len[i];
        cf[i].n_parts = 4;
        cf[i].part_len[0] = strlen(s->pre);
        cf[i].part_len[1] = strlen(s->stamp);
        cf[i].part_len[2] = s->body_len[i];
        cf[i].part_len[3] = strlen(s->post);
    }
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.instant = at;
    p.zone = "America/Mexico_City";
    p.mode = PREP_CUT_DRILL;
    uint64_t seq = 0;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_make(store, &p, cf, N_PAGES, sk, &seq, &d);
    if (e != PREP_OK) prep_diags_print(&d, stderr, 0);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
}

static prep_serve_site_opts opts(void)
{
    prep_serve_site_opts o;
    prep_serve_site_opts_init(&o);
    o.https = 1;
    o.threads = 2;
    o.br_warm = 0;
    return o;
}

static prep_http_request req(const char *path, const char *ae)
{
    prep_http_request r;
    memset(&r, 0, sizeof r);
    r.method = PREP_HTTP_GET;
    r.path = (prep_http_slice){path, strlen(path)};
    if (ae) r.accept_encoding = (prep_http_slice){ae, strlen(ae)};
    r.now = PREP_TIME_NONE;
    return r;
}

static const char *field(const prep_http_response *r, const char *name)
{
    static char buf[256];
    for (size_t i = 0; i < r->n_fields; i++)
        if (r->fields[i].name_len == strlen(name) && !memcmp(r->fields[i].name, name, r->fields[i].name_len)) {
            snprintf(buf, sizeof buf, "%.*s", (int)r->fields[i].value_len, r->fields[i].value);
            return buf;
        }
    return NULL;
}

/* The page's identity, gzip and br answers decode to its bytes; HEAD and 304 work on both
 * identity and gzip; every range that starts or ends at, before or after a part boundary
 * (and some inside) is its slice. */
static void check_page(prep_serve_version *v, const site4 *s, int i)
{
    char path[80];
    snprintf(path, sizeof path, "/%s", s->path[i]);
    const char *pg = s->page[i];
    size_t n = s->len[i];
    char h[65], et[40], etgz[40];
    prep_sha256_hex(pg, n, h);
    snprintf(et, sizeof et, "\"%.20s\"", h);
    snprintf(etgz, sizeof etgz, "\"%.20s-gz\"", h);
    prep_http_response r;

    prep_http_request q = req(path, NULL);
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, n);
    assert_memory_equal(r.body, pg, n);
    assert_string_equal(field(&r, "etag"), et);
    prep_http_response_done(&r);

    q = req(path, "gzip");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(field(&r, "content-encoding"), "gzip");
    assert_string_equal(field(&r, "etag"), etgz);
    {
        uint8_t *out = prep_xmalloc(n + 16);
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
        z.next_in = (Bytef *)r.body;
        z.avail_in = (uInt)r.body_len;
        z.next_out = out;
        z.avail_out = (uInt)(n + 16);
        assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
        assert_int_equal(z.total_out, n);
        assert_memory_equal(out, pg, n);
        inflateEnd(&z);
        free(out);
    }
    prep_http_response_done(&r);

    q = req(path, "br");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(field(&r, "content-encoding"), "br");
    {
        uint8_t *out = prep_xmalloc(n + 16);
        size_t ol = n + 16;
        assert_int_equal(BrotliDecoderDecompress(r.body_len, r.body, &ol, out), BROTLI_DECODER_RESULT_SUCCESS);
        assert_int_equal(ol, n);
        assert_memory_equal(out, pg, n);
        free(out);
    }
    prep_http_response_done(&r);

    /* HEAD: the length, no body */
    q = req(path, NULL);
    q.method = PREP_HTTP_HEAD;
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, n);
    assert_int_equal(r.send_body, 0);
    prep_http_response_done(&r);

    /* 304 on each form's own tag */
    q = req(path, NULL);
    q.if_none_match = (prep_http_slice){et, strlen(et)};
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 304);
    prep_http_response_done(&r);
    q = req(path, "gzip");
    q.if_none_match = (prep_http_slice){etgz, strlen(etgz)};
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 304);
    prep_http_response_done(&r);

    /* ranges around every part boundary, and a few inside parts */
    size_t bound[5] = {0, strlen(s->pre), strlen(s->pre) + strlen(s->stamp),
                       strlen(s->pre) + strlen(s->stamp) + s->body_len[i], n};
    for (int b = 0; b < 5; b++) {
        size_t at = bound[b];
        size_t rg[][2] = {{at ? at - 1 : 0, at < n ? at : n - 1}, {at, at + 5}, {at + 1, n - 1},
                          {0, at ? at - 1 : 0},     {at + 3, at + 3}, {at ? at - 2 : 0, at + 700}};
        for (size_t k = 0; k < sizeof rg / sizeof *rg; k++) {
            size_t first = rg[k][0], last = rg[k][1] < n ? rg[k][1] : n - 1;
            if (first >= n || first > last) continue;
            char spec[64], want[96];
            snprintf(spec, sizeof spec, "bytes=%zu-%zu", first, last);
            snprintf(want, sizeof want, "bytes %zu-%zu/%zu", first, last, n);
            q = req(path, NULL);
            q.range = (prep_http_slice){spec, strlen(spec)};
            prep_serve_respond(v, &q, &r);
            assert_int_equal(r.status, 206);
            assert_string_equal(field(&r, "content-range"), want);
            assert_int_equal(r.body_len, last - first + 1);
            assert_memory_equal(r.body, pg + first, last - first + 1);
            prep_http_response_done(&r);
        }
    }
}

static const size_t sizes[N_PAGES] = {20000, 7000, 150, 90000};

static void test_every_form(void **state)
{
    (void)state;
    char *tmp = tmpdir_new();
    char *store = pathf("%s/store", tmp);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(5, &sk, &pk);
    site4 s;
    site4_make(&s, 1, sizes);
    cut(store, &s, &sk, T0);
    prep_serve_site_opts o = opts();
    prep_serve_version *v = NULL;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(store, 0, NULL, &o, &v, &d), PREP_OK);
    for (int i = 0; i < N_PAGES; i++) check_page(v, &s, i);
    /* the next cut (new stamp, same bodies) from its prev: the cached bodies answer */
    site4 s2;
    site4_make(&s2, 2, sizes);
    cut(store, &s2, &sk, T0 + 300);
    prep_serve_version *v2 = NULL;
    assert_int_equal(prep_serve_version_load(store, 0, v, &o, &v2, &d), PREP_OK);
    for (int i = 0; i < N_PAGES; i++) check_page(v2, &s2, i);
    for (int i = 0; i < N_PAGES; i++) check_page(v, &s, i); /* the old one still whole */
    prep_serve_version_unref(v);
    prep_serve_version_unref(v2);
    prep_diags_free(&d);
    site4_free(&s);
    site4_free(&s2);
    rm_rf(tmp);
    free(tmp);
    free(store);
}

/* The identity of a page asked for without compression is assembled once and kept while
 * the version's identity_keep allows: a second answer, and a Range of it, take the same
 * bytes (no inflating again: a repeated Range was ~7 times a gzip answer's CPU); a page
 * past the budget is assembled for each answer, right all the same. */
static void test_identity_kept(void **state)
{
    (void)state;
    char *tmp = tmpdir_new();
    char *store = pathf("%s/store", tmp);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(8, &sk, &pk);
    site4 s;
    site4_make(&s, 1, sizes);
    cut(store, &s, &sk, T0);
    prep_serve_site_opts o = opts();
    o.identity_keep = s.len[0] + s.len[2]; /* pages 0 and 2 fit, then nothing more */
    prep_serve_version *v = NULL;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(store, 0, NULL, &o, &v, &d), PREP_OK);
    prep_serve_version_info info;
    prep_serve_version_get_info(v, &info);
    uint64_t lazy0 = info.bytes_lazy;
    const int order[] = {0, 1, 2, 3};
    const uint8_t *first_body[N_PAGES];
    for (size_t j = 0; j < PREP_ARRAY_LEN(order); j++) {
        int i = order[j];
        char path[80];
        snprintf(path, sizeof path, "/%s", s.path[i]);
        prep_http_request q = req(path, NULL);
        prep_http_response r;
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, s.len[i]);
        assert_memory_equal(r.body, s.page[i], s.len[i]);
        first_body[i] = r.body;
        prep_http_response_done(&r);
    }
    prep_serve_version_get_info(v, &info);
    assert_true(info.bytes_lazy - lazy0 >= s.len[0] + s.len[2]); /* and the heads made on first use */
    for (int i = 0; i < N_PAGES; i++) {
        char path[80], spec[32];
        snprintf(path, sizeof path, "/%s", s.path[i]);
        prep_http_request q = req(path, NULL);
        prep_http_response r;
        prep_serve_respond(v, &q, &r);
        assert_memory_equal(r.body, s.page[i], s.len[i]);
        int kept = i == 0 || i == 2;
        if (kept) assert_ptr_equal(r.body, first_body[i]);
        assert_int_equal(r.own_bytes, kept ? 0 : s.len[i]); /* not kept: its own copy */
        prep_http_response_done(&r);
        snprintf(spec, sizeof spec, "bytes=-%zu", s.len[i] / 3); /* a suffix: the page's end */
        q.range = (prep_http_slice){spec, strlen(spec)};
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 206);
        size_t off = s.len[i] - s.len[i] / 3;
        assert_memory_equal(r.body, s.page[i] + off, s.len[i] / 3);
        if (kept) assert_ptr_equal(r.body, first_body[i] + off);
        prep_http_response_done(&r);
    }
    prep_serve_version_unref(v);
    prep_diags_free(&d);
    site4_free(&s);
    rm_rf(tmp);
    free(tmp);
    free(store);
}

/* Pages of more archived cuts than a version keeps manifests of, asked for in turn: each
 * one not kept is a manifest read and parsed, so past archive_load_rate's bytes such a
 * page gets 503 with retry-after: 1 (the cuts kept still answer, and so does the current
 * one); with no limit every one answers. */
static void test_archive_load_budget(void **state)
{
    (void)state;
    char *tmp = tmpdir_new();
    char *store = pathf("%s/store", tmp);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(9, &sk, &pk);
    site4 s[7];
    for (int k = 0; k < 7; k++) {
        site4_make(&s[k], (unsigned)k + 1, sizes);
        cut(store, &s[k], &sk, T0 + 300 * k);
    }
    struct stat st;
    char *m1 = pathf("%s/cuts/6/manifest", store); /* the largest: cut 1's has no previous */
    assert_int_equal(stat(m1, &st), 0);
    for (int limited = 1; limited >= 0; limited--) {
        prep_serve_site_opts o = opts();
        /* 4 seconds' worth: six manifests at once, not twelve */
        o.archive_load_rate = limited ? (uint64_t)st.st_size * 3 / 2 : 0;
        prep_serve_version *v = NULL;
        prep_diags d;
        prep_diags_init(&d);
        assert_int_equal(prep_serve_version_load(store, 0, NULL, &o, &v, &d), PREP_OK);
        int busy = 0, ok = 0;
        for (int round = 0; round < 2; round++)
            for (int k = 1; k <= 6; k++) {
                char path[96];
                snprintf(path, sizeof path, "/cortes/%d/%s", k, s[k - 1].path[0]);
                prep_http_request q = req(path, "gzip");
                prep_http_response r;
                prep_serve_respond(v, &q, &r);
                if (r.status == 503) {
                    busy++;
                    assert_string_equal(field(&r, "retry-after"), "1");
                    assert_true(round == 1 && k <= 2); /* loaded once and not kept (4 are) */
                } else {
                    assert_int_equal(r.status, 200);
                    ok++;
                }
                prep_http_response_done(&r);
            }
        /* the current cut is never held back */
        char path[96];
        snprintf(path, sizeof path, "/%s", s[6].path[0]);
        prep_http_request q = req(path, "gzip");
        prep_http_response r;
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 200);
        prep_http_response_done(&r);
        if (limited) {
            /* six loaded, then cuts 1 and 2 again (the 4 kept are 3 to 6) with the budget
             * spent: held back (a slow run may have earned one back) */
            assert_true(busy >= 1);
            assert_int_equal(ok + busy, 12);
        } else {
            assert_int_equal(busy, 0);
        }
        prep_serve_version_unref(v);
        prep_diags_free(&d);
    }
    for (int k = 0; k < 7; k++) site4_free(&s[k]);
    free(m1);
    rm_rf(tmp);
    free(tmp);
    free(store);
}

/* A body object damaged in the store after the load that cached it: the next load reads
 * it again to hash the page and is refused naming the object; the served version still
 * answers the right bytes (from its deflate). Repaired, the load passes. */
static void test_damaged_after_load(void **state)
{
    (void)state;
    char *tmp = tmpdir_new();
    char *store = pathf("%s/store", tmp);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(6, &sk, &pk);
    site4 s;
    site4_make(&s, 1, sizes);
    cut(store, &s, &sk, T0);
    prep_serve_site_opts o = opts();
    prep_serve_version *v = NULL;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(store, 0, NULL, &o, &v, &d), PREP_OK);

    char bh[65], op[4096];
    prep_sha256_hex(s.body[0], s.body_len[0], bh);
    assert_int_equal(prep_cut_object_path(store, bh, op, sizeof op), 0);
    char *bad = prep_xstrdup(s.body[0]);
    bad[100] ^= 1;
    chmod(op, 0644);
    write_bytes(op, bad, s.body_len[0]);

    site4 s2;
    site4_make(&s2, 2, sizes);
    cut(store, &s2, &sk, T0 + 300);
    prep_serve_version *v2 = NULL;
    assert_int_equal(prep_serve_version_load(store, 0, v, &o, &v2, &d), PREP_ERR_VERIFY);
    assert_null(v2);
    int named = 0;
    for (size_t i = 0; i < d.n; i++)
        if (!strcmp(d.v[i].kind, "hash-mismatch") && strstr(d.v[i].msg, bh) && strstr(d.v[i].msg, s.path[0])) named++;
    assert_int_equal(named, 1);
    check_page(v, &s, 0);

    write_bytes(op, s.body[0], s.body_len[0]);
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(store, 0, v, &o, &v2, &d), PREP_OK);
    check_page(v2, &s2, 0);
    prep_serve_version_unref(v);
    prep_serve_version_unref(v2);
    prep_diags_free(&d);
    free(bad);
    site4_free(&s);
    site4_free(&s2);
    rm_rf(tmp);
    free(tmp);
    free(store);
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Large pages: the process grows by much less than the identity bytes once loaded: the
 * bodies' deflate and the gzip members (this text deflates to ~25 %: ~0.5 x); before,
 * the parts' bytes too (~1.5 x). */
static void test_memory(void **state)
{
    (void)state;
#ifdef UNDER_ASAN
    skip(); /* shadow memory (and ASan's quarantine) make RSS meaningless */
#endif
    char *tmp = tmpdir_new();
    char *store = pathf("%s/store", tmp);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(7, &sk, &pk);
    /* 4 pages of 8 MB bodies */
    size_t big[N_PAGES] = {8 << 20, 8 << 20, 8 << 20, 8 << 20};
    site4 s;
    site4_make(&s, 1, big);
    cut(store, &s, &sk, T0);
    uint64_t identity = 0;
    for (int i = 0; i < N_PAGES; i++) identity += s.len[i];
    prep_serve_site_opts o = opts();
    o.threads = 1;
    prep_serve_version *v = NULL;
    prep_diags d;
    prep_diags_init(&d);
    long before = rss_kb();
    assert_int_equal(prep_serve_version_load(store, 0, NULL, &o, &v, &d), PREP_OK);
    long grew = (rss_kb() - before) * 1024;
    print_message("identity %llu bytes, RSS grew %ld bytes\n", (unsigned long long)identity, grew);
    assert_true(grew < (long)(identity / 4 * 3));
    prep_serve_version_info info;
    prep_serve_version_get_info(v, &info);
    assert_true(info.bytes_held < identity / 4 * 3);
    prep_serve_version_unref(v);
    prep_diags_free(&d);
    site4_free(&s);
    rm_rf(tmp);
    free(tmp);
    free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_form),
        cmocka_unit_test(test_identity_kept),
        cmocka_unit_test(test_archive_load_budget),
        cmocka_unit_test(test_damaged_after_load),
        cmocka_unit_test(test_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

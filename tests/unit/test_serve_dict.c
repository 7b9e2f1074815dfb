/* prep serve deflates a page's own parts with the page's bytes before them as preset
 * dictionary (src/serve/site_chunks.c, docs/internals/serve.md "Chunks compressed with the
 * bytes before them"): pages shaped like a national section page (a head part of its own,
 * three election blocks of the same markup, the cut's stamp and the shared tail).
 *
 * Expected bytes are the ones the test gave prep_cut_make; every gzip answer is inflated
 * here with zlib (gzip wrapper) and compared with them; the size of the former join (each
 * part deflated alone, raw deflate level 6, memLevel 9, sync flush, + 20 bytes of gzip
 * header, final block and trailer) is computed here with zlib from the parts' bytes, and
 * the answer with the dictionary must be well under it. */
#include "test_cut_util.h"

#include <brotli/decode.h>
#include <zlib.h>

#include "prep/serve.h"

#define N_PAGES 6
#define N_PARTS 6 /* pre | pres | sen | dip | stamp | post: a section page as prep rendered it until
                   * session 38 (now pres | sen | dip | stamp); serve takes any layout, and
                   * this one also has a shared part after the stamp */
typedef struct site6 {
    char *part[N_PAGES][N_PARTS]; /* stamp and post: the same bytes on every page */
    size_t plen[N_PAGES][N_PARTS];
    char *page[N_PAGES];
    size_t len[N_PAGES];
    char path[N_PAGES][64];
} site6;

/* One election block: the same markup for every election, the page's own numbers. */
static char *block(prep_rng *r, const char *election, int page, int votes_shift)
{
    static const char *party[] = {"PAN", "PRI", "PRD", "PVEM", "PT", "MC", "MORENA"};
    prep_buf b;
    prep_buf_init(&b, 1 << 20);
    prep_buf_printf(&b, "<section class=\"eleccion\"><h2>%s</h2><table class=\"resultados\">\n", election);
    for (int c = 0; c < 40; c++) {
        prep_buf_printf(&b, "<tr><th scope=\"row\">Casilla %d-%d</th>", page, c);
        for (size_t k = 0; k < sizeof party / sizeof *party; k++)
            prep_buf_printf(&b, "<td class=\"partido %s\">%u</td>", party[k],
                            (unsigned)(prep_rng_next(r) % 300) + (unsigned)votes_shift);
        prep_buf_puts(&b, "<td class=\"nulos\">3</td></tr>\n");
    }
    prep_buf_puts(&b, "</table></section>\n");
    assert_int_equal(prep_buf_err(&b), PREP_OK);
    char *s = prep_xstrndup(b.data, b.len);
    prep_buf_free(&b);
    return s;
}

/* The pages of a cut: change_page's block change_part (1..3) has other numbers (-1: none);
 * with same_head page 1's head part is page 0's (the same bytes: a part two pages use). */
static int same_head;
static void site6_make(site6 *s, int cut, int change_page, int change_part)
{
    prep_rng r;
    prep_rng_seed(&r, 21);
    char stamp[96];
    snprintf(stamp, sizeof stamp, "<p class=\"corte\">Corte %d, 6 de junio de 2021, 23:%02d</p>\n", cut, cut * 5);
    static const char *post = "<footer><p>Resultados preliminares. No son los definitivos.</p></footer></body></html>\n";
    static const char *elec[3] = {"Presidencia", "Senadur\u00edas", "Diputaciones federales"};
    for (int i = 0; i < N_PAGES; i++) {
        char pre[256];
        snprintf(pre, sizeof pre,
                 "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\"><title>Secci\xC3\xB3n %d</title>"
                 "</head><body><h1>Secci\xC3\xB3n %04d</h1>\n",
                 100 + (same_head && i == 1 ? 0 : i), 100 + (same_head && i == 1 ? 0 : i));
        s->part[i][0] = prep_xstrdup(pre);
        for (int e = 0; e < 3; e++)
            s->part[i][1 + e] = block(&r, elec[e], i, i == change_page && 1 + e == change_part ? 1000 : 0);
        s->part[i][4] = prep_xstrdup(stamp);
        s->part[i][5] = prep_xstrdup(post);
        s->len[i] = 0;
        for (int k = 0; k < N_PARTS; k++) s->len[i] += s->plen[i][k] = strlen(s->part[i][k]);
        s->page[i] = prep_xmalloc(s->len[i] + 1);
        size_t at = 0;
        for (int k = 0; k < N_PARTS; k++) {
            memcpy(s->page[i] + at, s->part[i][k], s->plen[i][k]);
            at += s->plen[i][k];
        }
        snprintf(s->path[i], sizeof s->path[i], "seccion/%04d/index.html", 100 + i);
    }
}

static void site6_free(site6 *s)
{
    for (int i = 0; i < N_PAGES; i++) {
        for (int k = 0; k < N_PARTS; k++) free(s->part[i][k]);
        free(s->page[i]);
    }
}

static void cut(const char *store, const site6 *s, const prep_cut_seckey *sk, prep_time at)
{
    prep_cut_file cf[N_PAGES];
    memset(cf, 0, sizeof cf);
    for (int i = 0; i < N_PAGES; i++) {
        cf[i].path = s->path[i];
        cf[i].data = s->page[i];
        cf[i].len = s->len[i];
        cf[i].n_parts = N_PARTS;
        for (int k = 0; k < N_PARTS; k++) cf[i].part_len[k] = s->plen[i][k];
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

static prep_serve_site_opts opts(int alone)
{
    prep_serve_site_opts o;
    prep_serve_site_opts_init(&o);
    o.https = 1;
    o.threads = 2;
    o.br_warm = 0;
    o.chunks_alone = alone;
    return o;
}

static prep_serve_version *load(const char *store, const prep_serve_version *prev, int alone)
{
    prep_serve_site_opts o = opts(alone);
    prep_serve_version *v = NULL;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_serve_version_load(store, 0, prev, &o, &v, &d);
    if (e != PREP_OK) prep_diags_print(&d, stderr, 0);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
    return v;
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

/* The former join's size: each part deflated alone (raw, level 6, memLevel 9, sync flush)
 * plus the member's 20 bytes. */
static size_t join_alone_size(const site6 *s, int i)
{
    size_t total = 20;
    for (int k = 0; k < N_PARTS; k++) {
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
        size_t cap = deflateBound(&z, (uLong)s->plen[i][k]) + 16;
        unsigned char *out = prep_xmalloc(cap);
        z.next_in = (Bytef *)s->part[i][k];
        z.avail_in = (uInt)s->plen[i][k];
        z.next_out = out;
        z.avail_out = (uInt)cap;
        assert_int_equal(deflate(&z, Z_SYNC_FLUSH), Z_OK);
        total += cap - z.avail_out;
        deflateEnd(&z);
        free(out);
    }
    return total;
}

/* The gzip answer of page i: inflated with zlib to exactly the page; returns its size. */
static size_t check_gzip(prep_serve_version *v, const site6 *s, int i)
{
    char path[80];
    snprintf(path, sizeof path, "/%s", s->path[i]);
    prep_http_request q = req(path, "gzip");
    prep_http_response r;
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(field(&r, "content-encoding"), "gzip");
    size_t n = s->len[i];
    uint8_t *out = prep_xmalloc(n + 16);
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)r.body;
    z.avail_in = (uInt)r.body_len;
    z.next_out = out;
    z.avail_out = (uInt)(n + 16);
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_in, 0); /* one member, nothing after it */
    assert_int_equal(z.total_out, n);
    assert_memory_equal(out, s->page[i], n);
    inflateEnd(&z);
    free(out);
    size_t len = (size_t)r.body_len;
    prep_http_response_done(&r);
    return len;
}

/* Identity, br, HEAD, 304 (identity and gzip tags) and every range around each part
 * boundary of page i. */
static void check_other_forms(prep_serve_version *v, const site6 *s, int i)
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

    q = req(path, "gzip");
    q.method = PREP_HTTP_HEAD;
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(field(&r, "etag"), etgz);
    assert_int_equal(r.send_body, 0);
    prep_http_response_done(&r);

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

    size_t at = 0;
    for (int b = 0; b <= N_PARTS; b++) {
        size_t rg[][2] = {{at ? at - 1 : 0, at}, {at, at + 5}, {at + 1, n - 1}, {0, at ? at - 1 : 0}, {at + 3, at + 3},
                          {at ? at - 2 : 0, at + 5000}};
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
        if (b < N_PARTS) at += s->plen[i][b];
    }
}

typedef struct fx6 {
    char *tmp, *store;
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
} fx6;

static void fx6_init(fx6 *f, uint8_t seed)
{
    f->tmp = tmpdir_new();
    f->store = pathf("%s/store", f->tmp);
    key_from_seed(seed, &f->sk, &f->pk);
}

static void fx6_free(fx6 *f)
{
    rm_rf(f->tmp);
    free(f->tmp);
    free(f->store);
}

/* Every gzip answer inflates to its page and is much smaller than the former join of
 * chunks compressed alone (computed here); with chunks_alone the answer is exactly that
 * join. Identity, ranges, br, HEAD and 304 as before. */
static void test_dict_answers(void **state)
{
    (void)state;
    fx6 f;
    fx6_init(&f, 31);
    site6 s;
    site6_make(&s, 1, -1, 0);
    cut(f.store, &s, &f.sk, T0);
    prep_serve_version *v = load(f.store, NULL, 0);
    prep_serve_version *va = load(f.store, NULL, 1);
    size_t sum_dict = 0, sum_alone = 0;
    for (int i = 0; i < N_PAGES; i++) {
        size_t joined = join_alone_size(&s, i);
        size_t got = check_gzip(v, &s, i);
        size_t alone = check_gzip(va, &s, i);
        assert_int_equal(alone, joined);
        print_message("%s: %zu bytes, gzip %zu with the dictionary, %zu alone\n", s.path[i], s.len[i], got, alone);
        /* three blocks of the same markup: the second and third refer back to the first */
        assert_true(got * 100 < joined * 90);
        sum_dict += got;
        sum_alone += alone;
        check_other_forms(v, &s, i);
        check_other_forms(va, &s, i);
    }
    print_message("all pages: gzip %zu with the dictionary, %zu alone\n", sum_dict, sum_alone);
    prep_serve_version_info info;
    prep_serve_version_get_info(v, &info);
    /* per page: pre alone, pres, sen, dip with the bytes before them; stamp and post (used
     * by all 6 pages) alone, once */
    assert_int_equal(info.parts, N_PAGES * 4 + 2);
    assert_int_equal(info.parts_compressed, N_PAGES * 4 + 2);
    prep_serve_version_unref(v);
    prep_serve_version_unref(va);
    site6_free(&s);
    fx6_free(&f);
}

/* The next cut: a new stamp, one page's senate block changed. Only the new stamp, the
 * changed block and the block after it (its bytes before changed) are compressed; every
 * page of both versions answers its own bytes. */
static void test_dict_next_cut(void **state)
{
    (void)state;
    fx6 f;
    fx6_init(&f, 32);
    site6 s1, s2;
    site6_make(&s1, 1, -1, 0);
    cut(f.store, &s1, &f.sk, T0);
    prep_serve_version *v1 = load(f.store, NULL, 0);
    site6_make(&s2, 2, 3, 2);
    cut(f.store, &s2, &f.sk, T0 + 300);
    prep_serve_version *v2 = load(f.store, v1, 0);
    prep_serve_version_info info;
    prep_serve_version_get_info(v2, &info);
    assert_int_equal(info.parts_compressed, 3);
    for (int i = 0; i < N_PAGES; i++) {
        check_gzip(v2, &s2, i);
        check_other_forms(v2, &s2, i);
        check_gzip(v1, &s1, i);
    }
    prep_serve_version_unref(v1);
    check_gzip(v2, &s2, 3);
    prep_serve_version_unref(v2);
    site6_free(&s1);
    site6_free(&s2);
    fx6_free(&f);
}

/* A part object damaged in the store after the load that cached it, read again because
 * the block before it changed (its chunk is made again with the new bytes before it): the
 * load is refused naming that object and the page; the served version answers right. */
static void test_dict_damaged(void **state)
{
    (void)state;
    fx6 f;
    fx6_init(&f, 33);
    site6 s1, s2;
    site6_make(&s1, 1, -1, 0);
    cut(f.store, &s1, &f.sk, T0);
    prep_serve_version *v1 = load(f.store, NULL, 0);
    char dh[65], op[4096];
    prep_sha256_hex(s1.part[1][3], s1.plen[1][3], dh); /* page 1's dip block */
    assert_int_equal(prep_cut_object_path(f.store, dh, op, sizeof op), 0);
    char *bad = prep_xstrdup(s1.part[1][3]);
    bad[200] ^= 1;
    chmod(op, 0644);
    write_bytes(op, bad, s1.plen[1][3]);
    site6_make(&s2, 2, 1, 1); /* page 1's presidential block changes */
    cut(f.store, &s2, &f.sk, T0 + 300);
    prep_serve_site_opts o = opts(0);
    prep_serve_version *v2 = NULL;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(f.store, 0, v1, &o, &v2, &d), PREP_ERR_VERIFY);
    assert_null(v2);
    int named = 0;
    for (size_t i = 0; i < d.n; i++)
        if (!strcmp(d.v[i].kind, "hash-mismatch") && strstr(d.v[i].msg, dh) && strstr(d.v[i].msg, s2.path[1])) named++;
    assert_int_equal(named, 1);
    prep_diags_free(&d);
    for (int i = 0; i < N_PAGES; i++) check_gzip(v1, &s1, i);
    write_bytes(op, s1.part[1][3], s1.plen[1][3]);
    v2 = load(f.store, v1, 0);
    for (int i = 0; i < N_PAGES; i++) check_gzip(v2, &s2, i);
    prep_serve_version_unref(v1);
    prep_serve_version_unref(v2);
    free(bad);
    site6_free(&s1);
    site6_free(&s2);
    fx6_free(&f);
}

/* A part that pages used only after the bytes before them becomes one a page uses alone:
 * the next cut gives pages 0 and 1 the same head (a part two files use: their chunks are
 * all alone now), so their unchanged blocks, read by the first load without a chunk
 * alone, get one, from the store (read again and checked). 7 chunks: the six blocks and
 * the stamp (the shared head is page 0's, whose chunk alone exists: a first part is always
 * alone). Every page of both versions answers its own bytes. */
static void test_dict_then_alone(void **state)
{
    (void)state;
    fx6 f;
    fx6_init(&f, 34);
    site6 s1, s2;
    site6_make(&s1, 1, -1, 0);
    cut(f.store, &s1, &f.sk, T0);
    prep_serve_version *v1 = load(f.store, NULL, 0);
    same_head = 1;
    site6_make(&s2, 2, -1, 0);
    same_head = 0;
    cut(f.store, &s2, &f.sk, T0 + 300);
    prep_serve_version *v2 = load(f.store, v1, 0);
    prep_serve_version_info info;
    prep_serve_version_get_info(v2, &info);
    assert_int_equal(info.parts_compressed, 7);
    for (int i = 0; i < N_PAGES; i++) {
        check_gzip(v2, &s2, i);
        check_other_forms(v2, &s2, i);
        check_gzip(v1, &s1, i);
    }
    /* pages 0 and 1 are now the former join: their chunks alone */
    assert_int_equal(check_gzip(v2, &s2, 1), join_alone_size(&s2, 1));
    assert_true(check_gzip(v2, &s2, 2) < join_alone_size(&s2, 2));
    prep_serve_version_unref(v1);
    prep_serve_version_unref(v2);
    site6_free(&s1);
    site6_free(&s2);
    fx6_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dict_answers),
        cmocka_unit_test(test_dict_next_cut),
        cmocka_unit_test(test_dict_damaged),
        cmocka_unit_test(test_dict_then_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

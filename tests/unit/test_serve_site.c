/* The served site (src/serve/site*.c): versions loaded from real stores made with
 * prep_cut_make, and the response decision of prep_serve_respond. */
#include "test_cut_util.h"

#include <brotli/decode.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <zlib.h>

#include "prep/policy.h"
#include "prep/serve.h"
#include "../../src/serve/site_internal.h" /* site_arch_cache_stats */

/* ---------------------------------------------------------------- a small site */
#define N_FILES 8
typedef struct fx {
    char *tmp, *store;
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    const char *path[N_FILES];
    char *data[N_FILES];
    size_t len[N_FILES];
    uint8_t parts[N_FILES]; /* 0 or 2: composed as stamp + body */
    size_t stamp_len[N_FILES];
} fx;

enum { F_INDEX, F_GUB, F_CSS, F_CORTE, F_CSV, F_PNG, F_SPACE, F_EMB };

static char *rep_text(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *b = prep_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) b[i] = unit[i % ul];
    b[n] = 0;
    return b;
}

/* Page text: a per-cut stamp, then a body. */
static void set_page(fx *f, int i, const char *path, int cut, size_t body_len)
{
    char stamp[64];
    int sn = snprintf(stamp, sizeof stamp, "<!doctype html><p>Corte %d</p>", cut);
    char *body = rep_text("<tr><td>Votos del PAN</td><td>1234</td></tr>\n", body_len);
    free(f->data[i]);
    f->data[i] = prep_xmalloc((size_t)sn + body_len + 1);
    memcpy(f->data[i], stamp, (size_t)sn);
    memcpy(f->data[i] + sn, body, body_len + 1);
    f->len[i] = (size_t)sn + body_len;
    f->path[i] = path;
    f->parts[i] = 2;
    f->stamp_len[i] = (size_t)sn;
    free(body);
}

static void set_plain(fx *f, int i, const char *path, char *data, size_t len)
{
    free(f->data[i]);
    f->path[i] = path;
    f->data[i] = data;
    f->len[i] = len;
    f->parts[i] = 0;
}

static void fx_site(fx *f, int cut)
{
    set_page(f, F_INDEX, "index.html", cut, 4000);
    set_page(f, F_GUB, "gubernatura/index.html", cut, 2000);
    set_plain(f, F_CSS, "assets/app.0123456789.css", rep_text("body{margin:0;color:#222}\n", 1200), 1200);
    char *cj = prep_xmalloc(64);
    int n = snprintf(cj, 64, "{\"corte\":%d}", cut);
    set_plain(f, F_CORTE, "corte.json", cj, (size_t)n);
    set_plain(f, F_CSV, "base-de-datos/QRO_GUB_2021.csv", rep_text("CLAVE|PAN|PRI|MORENA\n0001|12|7|30\n", 3000),
              3000);
    char *png = prep_xmalloc(300);
    prep_rng rng;
    prep_rng_seed(&rng, 7);
    for (int i = 0; i < 300; i++) png[i] = (char)prep_rng_next(&rng);
    set_plain(f, F_PNG, "img/logo.png", png, 300);
    set_page(f, F_SPACE, "con espacio/index.html", cut, 200);
    set_page(f, F_EMB, "embebido/index.html", cut, 300);
}

static uint64_t fx_cut(fx *f, prep_cut_mode mode, prep_time at)
{
    prep_cut_file cf[N_FILES];
    memset(cf, 0, sizeof cf);
    for (int i = 0; i < N_FILES; i++) {
        cf[i].path = f->path[i];
        cf[i].data = f->data[i];
        cf[i].len = f->len[i];
        cf[i].n_parts = f->parts[i];
        if (f->parts[i]) {
            cf[i].part_len[0] = f->stamp_len[i];
            cf[i].part_len[1] = f->len[i] - f->stamp_len[i];
        }
    }
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.instant = at;
    p.zone = "America/Mexico_City";
    p.mode = mode;
    uint64_t seq = 0;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_make(f->store, &p, cf, N_FILES, &f->sk, &seq, &d);
    if (e != PREP_OK) prep_diags_print(&d, stderr, 0);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
    return seq;
}

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->tmp = tmpdir_new();
    f->store = pathf("%s/store", f->tmp);
    key_from_seed(3, &f->sk, &f->pk);
    fx_site(f, 1);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    rm_rf(f->tmp);
    for (int i = 0; i < N_FILES; i++) free(f->data[i]);
    free(f->tmp);
    free(f->store);
    free(f);
    return 0;
}

static prep_serve_version *load(fx *f, uint64_t seq, const prep_serve_version *prev, const prep_serve_site_opts *o)
{
    prep_serve_version *v = NULL;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_serve_version_load(f->store, seq, prev, o, &v, &d);
    if (e != PREP_OK) prep_diags_print(&d, stderr, 0);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
    return v;
}

static prep_serve_site_opts opts_https(void)
{
    prep_serve_site_opts o;
    prep_serve_site_opts_init(&o);
    o.https = 1;
    o.threads = 2;
    o.br_warm = 0; /* deterministic: br made on first request (test_br_lazy has the warmer) */
    return o;
}

/* ---------------------------------------------------------------- requests */
static prep_http_slice S(const char *s)
{
    prep_http_slice x = {s, s ? strlen(s) : 0};
    return x;
}

static prep_http_request rq(prep_http_method m, const char *path)
{
    prep_http_request r;
    memset(&r, 0, sizeof r);
    r.method = m;
    r.path = S(path);
    r.now = PREP_TIME_NONE;
    return r;
}

/* The whole HTTP/1.1 head as sent: h1_head, then the version's shared h1_common (owned). */
static char *full_head(const prep_http_response *r)
{
    char *h = malloc(r->h1_head_len + r->h1_common_len + 1);
    assert_non_null(h);
    memcpy(h, r->h1_head, r->h1_head_len);
    if (r->h1_common_len) memcpy(h + r->h1_head_len, r->h1_common, r->h1_common_len);
    h[r->h1_head_len + r->h1_common_len] = '\0';
    return h;
}

/* The value of field name, NUL-terminated in a static buffer, or NULL. Also checks that
 * the h1 head carries it exactly once with the same value. */
static const char *fld(const prep_http_response *r, const char *name)
{
    static char buf[4096];
    const char *hit = NULL;
    for (size_t i = 0; i < r->n_fields; i++) {
        const prep_http_field *f = &r->fields[i];
        if (f->name_len == strlen(name) && !memcmp(f->name, name, f->name_len)) {
            assert_null(hit);
            assert_true(f->value_len < sizeof buf);
            memcpy(buf, f->value, f->value_len);
            buf[f->value_len] = 0;
            hit = buf;
        }
    }
    if (hit) {
        char line[4200];
        snprintf(line, sizeof line, "\r\n%s: %s\r\n", name, hit);
        char *head = full_head(r);
        assert_non_null(strstr(head, line));
        free(head);
    }
    return hit;
}

static void check_head(const prep_http_response *r)
{
    char *head = full_head(r);
    size_t hl = r->h1_head_len + r->h1_common_len;
    char sl[64];
    snprintf(sl, sizeof sl, "HTTP/1.1 %d ", r->status);
    assert_memory_equal(head, sl, strlen(sl));
    assert_true(hl >= 2 && !memcmp(head + hl - 2, "\r\n", 2));
    assert_true(r->h1_head_len >= 2 && !memcmp(r->h1_head + r->h1_head_len - 2, "\r\n", 2));
    assert_null(strstr(head, "\r\n\r\n"));
    /* Every field is on the head, and the head has no other line but content-length. */
    size_t lines = 0;
    for (char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) lines++;
    char cl[64];
    snprintf(cl, sizeof cl, "\r\ncontent-length: %llu\r\n", (unsigned long long)r->body_len);
    int has_cl = strstr(head, cl) != NULL;
    if (r->status == 304) assert_false(has_cl);
    else assert_true(has_cl);
    assert_int_equal(lines, r->n_fields + (size_t)has_cl);
    for (size_t i = 0; i < r->n_fields; i++)
        for (size_t j = 0; j < r->fields[i].name_len; j++)
            assert_false(r->fields[i].name[j] >= 'A' && r->fields[i].name[j] <= 'Z');
    free(head);
}

#define CSP_SELF \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

static void check_security(const prep_http_response *r, int https, const char *csp)
{
    check_head(r);
    assert_string_equal(fld(r, "x-content-type-options"), "nosniff");
    assert_string_equal(fld(r, "referrer-policy"), "strict-origin-when-cross-origin");
    assert_string_equal(fld(r, "content-security-policy"), csp ? csp : CSP_SELF);
    if (https) assert_string_equal(fld(r, "strict-transport-security"), "max-age=31536000");
    else assert_null(fld(r, "strict-transport-security"));
    assert_non_null(fld(r, "x-prep-corte"));
}

static void etag_of(const char *data, size_t len, const char *suffix, char out[40])
{
    char h[65];
    prep_sha256_hex(data, len, h);
    snprintf(out, 40, "\"%.20s%s\"", h, suffix);
}

static char *gunzip(const uint8_t *p, size_t n, size_t *outn)
{
    size_t cap = 1 << 20;
    char *o = prep_xmalloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 31), Z_OK);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)o;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    *outn = cap - z.avail_out;
    inflateEnd(&z);
    return o;
}

static char *unbrotli(const uint8_t *p, size_t n, size_t *outn)
{
    size_t cap = 1 << 20;
    char *o = prep_xmalloc(cap);
    *outn = cap;
    assert_int_equal(BrotliDecoderDecompress(n, p, outn, (uint8_t *)o), BROTLI_DECODER_RESULT_SUCCESS);
    return o;
}

/* ---------------------------------------------------------------- tests */
static void test_representations(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_cut(f, PREP_CUT_LIVE, T0), 1);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = load(f, 0, NULL, &o);
    prep_serve_version_info info;
    prep_serve_version_get_info(v, &info);
    assert_int_equal(info.seq, 1);
    assert_int_equal(info.files, N_FILES + 2); /* + SHA256SUMS, SHA256SUMS.sig */
    /* plain files compressed whole, compressible (text) and >= 128 bytes: css, csv and
     * SHA256SUMS.sig ("untrusted comment: prep cut qro2021 sequence 1 live, key <16 hex>\n"
     * = 74 bytes, + 100 base64 + 1 = 175) x 2 (gzip, br) = 6, and SHA256SUMS gzip only (its
     * br is made after the load, like the pages') = 7.
     * The four pages (index, gub, space, emb) are held as parts: one stamp ("Corte 1", the
     * same bytes on each) + four bodies (4000, 2000, 200, 300 bytes) = 5 parts, each
     * deflated once. */
    assert_int_equal(info.variants_compressed, 7);
    assert_int_equal(info.variants_reused, 0);
    assert_int_equal(info.parts, 5);
    assert_int_equal(info.parts_compressed, 5);
    assert_int_equal(info.parts_cached, 5);
    assert_true(info.bytes_held > info.bytes_identity);
    for (int i = 0; i < N_FILES; i++) {
        char path[256];
        snprintf(path, sizeof path, "/%s", f->path[i]);
        int expect_variants = i != F_PNG && i != F_CORTE;
        static const char *aes[3] = {NULL, "gzip", "br;q=1, gzip;q=0.5"};
        static const char *suf[3] = {"", "-gz", "-br"};
        for (int k = 0; k < 3; k++) {
            prep_http_request q = rq(PREP_HTTP_GET, path);
            q.accept_encoding = S(aes[k]);
            prep_http_response r;
            prep_serve_respond(v, &q, &r);
            assert_int_equal(r.status, 200);
            check_security(&r, 1, NULL);
            assert_string_equal(fld(&r, "x-prep-corte"), "1");
            assert_int_equal(r.seq, 1);
            assert_true(r.send_body);
            int kk = expect_variants ? k : 0;
            char et[40];
            etag_of(f->data[i], f->len[i], suf[kk], et);
            assert_string_equal(fld(&r, "etag"), et);
            size_t n = 0;
            char *plain = NULL;
            if (kk == 0) {
                assert_null(fld(&r, "content-encoding"));
                assert_string_equal(fld(&r, "accept-ranges"), "bytes");
                plain = prep_xstrndup((const char *)r.body, (size_t)r.body_len);
                n = (size_t)r.body_len;
            } else {
                assert_string_equal(fld(&r, "content-encoding"), kk == 1 ? "gzip" : "br");
                assert_null(fld(&r, "accept-ranges"));
                assert_true(r.body_len < f->len[i]);
                plain = kk == 1 ? gunzip(r.body, (size_t)r.body_len, &n) : unbrotli(r.body, (size_t)r.body_len, &n);
            }
            assert_int_equal(n, f->len[i]);
            assert_memory_equal(plain, f->data[i], n);
            free(plain);
            if (i == F_PNG) {
                assert_null(fld(&r, "vary"));
                assert_string_equal(fld(&r, "content-type"), "image/png");
            } else {
                assert_string_equal(fld(&r, "vary"), "accept-encoding");
            }
            if (i == F_INDEX) assert_string_equal(fld(&r, "content-type"), "text/html; charset=utf-8");
            prep_http_response_done(&r);
        }
    }
    /* SHA256SUMS is the manifest's exact bytes. */
    prep_http_request q = rq(PREP_HTTP_GET, "/SHA256SUMS");
    prep_http_response r;
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    size_t mn;
    char *mp = pathf("%s/cuts/1/manifest", f->store);
    char *m = read_all(mp, &mn);
    assert_int_equal(r.body_len, mn);
    assert_memory_equal(r.body, m, mn);
    free(m);
    free(mp);
    prep_http_response_done(&r);
    prep_serve_version_unref(v);
}

static void test_conditionals_and_head(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = load(f, 0, NULL, &o);
    static const char *aes[3] = {NULL, "gzip", "br"};
    static const char *suf[3] = {"", "-gz", "-br"};
    const char *common = NULL;
    for (int k = 0; k < 3; k++) {
        char et[40], other[40];
        etag_of(f->data[F_GUB], f->len[F_GUB], suf[k], et);
        etag_of(f->data[F_GUB], f->len[F_GUB], suf[(k + 1) % 3], other);
        /* its own tag: 304 */
        prep_http_request q = rq(PREP_HTTP_GET, "/gubernatura/");
        q.accept_encoding = S(aes[k]);
        q.if_none_match = S(et);
        prep_http_response r;
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 304);
        check_security(&r, 1, NULL);
        assert_false(r.send_body);
        assert_int_equal(r.body_len, 0);
        assert_string_equal(fld(&r, "etag"), et);
        assert_string_equal(fld(&r, "cache-control"), "public, max-age=60, stale-while-revalidate=240");
        assert_string_equal(fld(&r, "vary"), "accept-encoding");
        assert_null(fld(&r, "content-type"));
        prep_http_response_done(&r);
        /* another representation's tag, in a list with a stranger: 200 */
        char list[100];
        snprintf(list, sizeof list, "\"zzz\", %s", other);
        q.if_none_match = S(list);
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 200);
        prep_http_response_done(&r);
        /* the weak form of its own tag matches (weak comparison) */
        snprintf(list, sizeof list, "W/%s", et);
        q.if_none_match = S(list);
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 304);
        prep_http_response_done(&r);
        /* HEAD: no body, the same length and head as GET */
        q = rq(PREP_HTTP_GET, "/gubernatura/index.html");
        q.accept_encoding = S(aes[k]);
        prep_http_response g, h;
        prep_serve_respond(v, &q, &g);
        q.method = PREP_HTTP_HEAD;
        prep_serve_respond(v, &q, &h);
        assert_int_equal(h.status, 200);
        assert_false(h.send_body);
        assert_true(g.send_body);
        assert_int_equal(h.body_len, g.body_len);
        assert_int_equal(h.h1_head_len, g.h1_head_len);
        assert_memory_equal(h.h1_head, g.h1_head, g.h1_head_len);
        assert_int_equal(h.h1_common_len, g.h1_common_len);
        assert_memory_equal(h.h1_common, g.h1_common, g.h1_common_len);
        /* A prebuilt head leaves the shared fields to the version's one h1_common block:
         * the same pointer for every representation, the CSP and x-prep-corte only there. */
        if (!common) common = g.h1_common;
        assert_ptr_equal(g.h1_common, common);
        assert_non_null(memmem(g.h1_common, g.h1_common_len, "\r\ncontent-security-policy: ", 27));
        assert_true(g.h1_common_len > 13 && !memcmp(g.h1_common, "x-prep-corte: 1\r\n", 17));
        assert_null(memmem(g.h1_head, g.h1_head_len, "content-security-policy", 23));
        assert_null(memmem(g.h1_head, g.h1_head_len, "x-prep-corte", 12));
        prep_http_response_done(&g);
        prep_http_response_done(&h);
    }
    /* Our own heads (a 404) hold every field themselves. */
    prep_http_request q = rq(PREP_HTTP_GET, "/nada");
    prep_http_response r;
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.h1_common_len, 0);
    assert_non_null(memmem(r.h1_head, r.h1_head_len, "\r\ncontent-security-policy: ", 27));
    prep_http_response_done(&r);
    prep_serve_version_unref(v);
}

static void test_ranges(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = load(f, 0, NULL, &o);
    const char *csv = "/base-de-datos/QRO_GUB_2021.csv";
    char et[40];
    etag_of(f->data[F_CSV], f->len[F_CSV], "", et);
    prep_http_request q = rq(PREP_HTTP_GET, csv);
    q.range = S("bytes=10-19");
    prep_http_response r;
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 206);
    check_security(&r, 1, NULL);
    assert_string_equal(fld(&r, "content-range"), "bytes 10-19/3000");
    assert_int_equal(r.body_len, 10); /* 19 - 10 + 1 */
    assert_memory_equal(r.body, f->data[F_CSV] + 10, 10);
    assert_string_equal(fld(&r, "etag"), et);
    prep_http_response_done(&r);
    /* the last 100 bytes: 2900..2999 */
    q.range = S("bytes=-100");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 206);
    assert_string_equal(fld(&r, "content-range"), "bytes 2900-2999/3000");
    assert_memory_equal(r.body, f->data[F_CSV] + 2900, 100);
    prep_http_response_done(&r);
    /* beyond the end: 416 with the size */
    q.range = S("bytes=5000-");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 416);
    check_security(&r, 1, NULL);
    assert_string_equal(fld(&r, "content-range"), "bytes */3000");
    prep_http_response_done(&r);
    /* If-Range with our tag: 206; another tag or a date: the whole file */
    q.range = S("bytes=0-0");
    q.if_range = S(et);
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 206);
    assert_int_equal(r.body_len, 1);
    prep_http_response_done(&r);
    q.if_range = S("\"00000000000000000000\"");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 3000);
    prep_http_response_done(&r);
    /* Range is honoured on identity only: with gzip accepted, the whole gzip body */
    q = rq(PREP_HTTP_GET, csv);
    q.range = S("bytes=0-9");
    q.accept_encoding = S("gzip");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(fld(&r, "content-encoding"), "gzip");
    prep_http_response_done(&r);
    /* HEAD with a range: 206 head, no body */
    q = rq(PREP_HTTP_HEAD, csv);
    q.range = S("bytes=100-");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 206);
    assert_false(r.send_body);
    assert_int_equal(r.body_len, 2900); /* 3000 - 100 */
    prep_http_response_done(&r);
    prep_serve_version_unref(v);
}

static void test_errors_and_paths(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    prep_serve_site_opts o = opts_https();
    o.https = 0;
    prep_serve_version *v = load(f, 0, NULL, &o);
    prep_http_response r;
    /* 405 with allow */
    prep_http_request q = rq(PREP_HTTP_OTHER, "/index.html");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 405);
    check_security(&r, 0, NULL);
    assert_string_equal(fld(&r, "allow"), "GET, HEAD");
    assert_non_null(strstr((const char *)r.body, "M\xC3\xA9todo no permitido"));
    prep_http_response_done(&r);
    /* 404 */
    q = rq(PREP_HTTP_GET, "/no-existe.html");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 404);
    check_security(&r, 0, NULL);
    assert_true(r.send_body);
    assert_non_null(strstr((const char *)r.body, "P\xC3\xA1gina no encontrada"));
    assert_string_equal(fld(&r, "content-type"), "text/html; charset=utf-8");
    prep_http_response_done(&r);
    /* a directory without index.html: 404, no listing */
    q = rq(PREP_HTTP_GET, "/assets/");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 404);
    prep_http_response_done(&r);
    q = rq(PREP_HTTP_GET, "/assets");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 404);
    prep_http_response_done(&r);
    /* 400 */
    const char *bad[] = {"/../x", "/%00", "/a/%2e%2e/b", "/a\\b"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(bad); i++) {
        q = rq(PREP_HTTP_GET, bad[i]);
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 400);
        check_security(&r, 0, NULL);
        prep_http_response_done(&r);
    }
    /* 301 for a directory with index.html */
    q = rq(PREP_HTTP_GET, "/gubernatura");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 301);
    check_security(&r, 0, NULL);
    assert_string_equal(fld(&r, "location"), "/gubernatura/");
    prep_http_response_done(&r);
    q = rq(PREP_HTTP_GET, "/con%20espacio");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 301);
    assert_string_equal(fld(&r, "location"), "/con%20espacio/");
    prep_http_response_done(&r);
    /* "/" and "" are index.html; "//gubernatura/./" is gubernatura/index.html */
    const char *roots[] = {"/", "", "/./"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(roots); i++) {
        q = rq(PREP_HTTP_GET, roots[i]);
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, f->len[F_INDEX]);
        assert_memory_equal(r.body, f->data[F_INDEX], f->len[F_INDEX]);
        prep_http_response_done(&r);
    }
    q = rq(PREP_HTTP_GET, "//gubernatura/./");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, f->data[F_GUB], f->len[F_GUB]);
    prep_http_response_done(&r);
    /* over plain HTTP br is never chosen, and not even made */
    q = rq(PREP_HTTP_GET, "/");
    q.accept_encoding = S("br");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_null(fld(&r, "content-encoding"));
    prep_http_response_done(&r);
    /* identity refused and nothing else available: 406 */
    q = rq(PREP_HTTP_GET, "/img/logo.png");
    q.accept_encoding = S("gzip, identity;q=0");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 406);
    check_security(&r, 0, NULL);
    prep_http_response_done(&r);
    /* HEAD of an error: no body, same length */
    q = rq(PREP_HTTP_HEAD, "/nada");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 404);
    assert_false(r.send_body);
    assert_true(r.body_len > 0);
    prep_http_response_done(&r);
    prep_serve_version_unref(v);
}

static void test_cache_and_security(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    fx_site(f, 2);
    fx_cut(f, PREP_CUT_LIVE, T0 + 300);
    prep_serve_site_opts o = opts_https();
    o.frame_ancestors = "https://www.diario.mx https://portal.example";
    prep_serve_version *v = load(f, 0, NULL, &o);
    struct {
        const char *path, *cc;
    } cases[] = {
        {"/assets/app.0123456789.css", "public, max-age=31536000, immutable"},
        {"/corte.json", "no-cache"},
        {"/index.html", "public, max-age=60, stale-while-revalidate=240"},
        {"/base-de-datos/QRO_GUB_2021.csv", "public, max-age=60, stale-while-revalidate=240"},
        {"/SHA256SUMS", "public, max-age=60, stale-while-revalidate=240"},
        {"/SHA256SUMS.sig", "public, max-age=60, stale-while-revalidate=240"},
        {"/cortes/1/index.html", "public, max-age=31536000, immutable"},
        {"/cortes/1/base-de-datos/QRO_GUB_2021.csv", "public, max-age=31536000, immutable"},
    };
    const char *csp = CSP_SELF " https://www.diario.mx https://portal.example";
    for (size_t i = 0; i < PREP_ARRAY_LEN(cases); i++) {
        prep_http_request q = rq(PREP_HTTP_GET, cases[i].path);
        prep_http_response r;
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 200);
        check_security(&r, 1, csp);
        assert_string_equal(fld(&r, "cache-control"), cases[i].cc);
        assert_string_equal(fld(&r, "x-prep-corte"), strstr(cases[i].path, "cortes/1") ? "1" : "2");
        prep_http_response_done(&r);
    }
    /* the classes themselves: tests/unit/test_policy.c */
    assert_string_equal(prep_policy_cache_control("corte.json", 10), "no-cache");
    assert_string_equal(prep_policy_cache_control("assets/x", 8), "public, max-age=60, stale-while-revalidate=240");
    assert_string_equal(prep_policy_cache_control("LEEME.txt", 9), "public, max-age=60, stale-while-revalidate=240");
    prep_serve_version_unref(v);
    /* origins that would break the header are refused */
    o.frame_ancestors = "https://a.mx; script-src *";
    prep_serve_version *bad = NULL;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(f->store, 0, NULL, &o, &bad, &d), PREP_ERR_INVALID);
    assert_null(bad);
    assert_non_null(prep_diags_find(&d, "bad-option"));
    prep_diags_free(&d);
}

static void test_archive(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    char *cut1_index = prep_xstrndup(f->data[F_INDEX], f->len[F_INDEX]);
    size_t cut1_len = f->len[F_INDEX];
    fx_site(f, 2);
    fx_cut(f, PREP_CUT_LIVE, T0 + 300);
    fx_site(f, 3);
    fx_cut(f, PREP_CUT_LIVE, T0 + 600);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = load(f, 2, NULL, &o); /* serving cut 2 while 3 is in the store */
    prep_http_response r;
    const char *paths[] = {"/cortes/1/", "/cortes/1/index.html", "/cortes/1/./index.html"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(paths); i++) {
        prep_http_request q = rq(PREP_HTTP_GET, paths[i]);
        q.accept_encoding = S("br, gzip");
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 200);
        check_security(&r, 1, NULL);
        assert_int_equal(r.seq, 1);
        assert_string_equal(fld(&r, "x-prep-corte"), "1");
        assert_null(fld(&r, "content-encoding")); /* identity only */
        assert_int_equal(r.body_len, cut1_len);
        assert_memory_equal(r.body, cut1_index, cut1_len);
        char et[40];
        etag_of(cut1_index, cut1_len, "", et);
        assert_string_equal(fld(&r, "etag"), et);
        prep_http_response_done(&r);
    }
    /* the archive honours ranges and If-None-Match */
    prep_http_request q = rq(PREP_HTTP_GET, "/cortes/1/index.html");
    q.range = S("bytes=0-14");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 206);
    assert_memory_equal(r.body, "<!doctype html>", 15);
    prep_http_response_done(&r);
    char et[40];
    etag_of(cut1_index, cut1_len, "", et);
    q = rq(PREP_HTTP_GET, "/cortes/1/index.html");
    q.if_none_match = S(et);
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 304);
    check_security(&r, 1, NULL);
    prep_http_response_done(&r);
    /* the version's own cut is in the archive too */
    q = rq(PREP_HTTP_GET, "/cortes/2/corte.json");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "{\"corte\":2}", 11);
    assert_string_equal(fld(&r, "cache-control"), "public, max-age=31536000, immutable");
    prep_http_response_done(&r);
    /* redirects and refusals */
    q = rq(PREP_HTTP_GET, "/cortes/1");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 301);
    assert_string_equal(fld(&r, "location"), "/cortes/1/");
    prep_http_response_done(&r);
    q = rq(PREP_HTTP_GET, "/cortes/1/gubernatura");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 301);
    assert_string_equal(fld(&r, "location"), "/cortes/1/gubernatura/");
    assert_string_equal(fld(&r, "x-prep-corte"), "1");
    prep_http_response_done(&r);
    const char *nf[] = {"/cortes/", "/cortes", "/cortes/3/index.html", "/cortes/01/index.html", "/cortes/0/index.html",
                        "/cortes/1/nada.html", "/cortes/x/index.html", "/cortes/99999999999999/index.html"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(nf); i++) {
        q = rq(PREP_HTTP_GET, nf[i]);
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 404);
        check_security(&r, 1, NULL);
        prep_http_response_done(&r);
    }
    /* the archive's SHA256SUMS is that cut's manifest */
    q = rq(PREP_HTTP_GET, "/cortes/1/SHA256SUMS");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    char *mp = pathf("%s/cuts/1/manifest", f->store);
    size_t mn;
    char *m = read_all(mp, &mn);
    assert_int_equal(r.body_len, mn);
    assert_memory_equal(r.body, m, mn);
    free(m);
    free(mp);
    prep_http_response_done(&r);
    prep_serve_version_unref(v);
    /* archive off: 404 */
    o.archive = 0;
    v = load(f, 0, NULL, &o);
    q = rq(PREP_HTTP_GET, "/cortes/1/index.html");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 404);
    prep_http_response_done(&r);
    prep_serve_version_unref(v);
    free(cut1_index);
}


/* An archived page answered again is answered from the body checked the first time: no
 * read, no assembly, no hash (issue 13 item 4). The proof: its objects are removed from
 * the store after the first answer, and the second is still whole; a page not answered
 * before, whose object is gone, is refused (404) as it always was. */
static void test_archive_cached(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    char *cut1_csv = prep_xstrndup(f->data[F_CSV], f->len[F_CSV]);
    size_t csv_len = f->len[F_CSV];
    char *cut1_gub = prep_xstrndup(f->data[F_GUB], f->len[F_GUB]);
    size_t gub_len = f->len[F_GUB];
    fx_site(f, 2);
    fx_cut(f, PREP_CUT_LIVE, T0 + 300);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = load(f, 0, NULL, &o);
    uint64_t h0, m0, h1, m1;
    size_t b0, b1;
    site_arch_cache_stats(&h0, &m0, &b0);
    prep_http_response r;
    prep_http_request q = rq(PREP_HTTP_GET, "/cortes/1/gubernatura/index.html");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, gub_len);
    assert_memory_equal(r.body, cut1_gub, gub_len);
    prep_http_response_done(&r);
    site_arch_cache_stats(&h1, &m1, &b1);
    assert_int_equal(m1 - m0, 1);
    assert_int_equal(h1 - h0, 0);
    assert_true(b1 >= b0 + gub_len || b1 >= gub_len);
    /* every part object of cut 1's page goes from the store */
    char h[65], op[4096];
    prep_sha256_hex(cut1_gub + f->stamp_len[F_GUB], gub_len - f->stamp_len[F_GUB], h);
    assert_int_equal(prep_cut_object_path(f->store, h, op, sizeof op), 0);
    unlink(op);
    prep_sha256_hex(cut1_gub, f->stamp_len[F_GUB], h);
    assert_int_equal(prep_cut_object_path(f->store, h, op, sizeof op), 0);
    unlink(op);
    for (int k = 0; k < 3; k++) {
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, gub_len);
        assert_memory_equal(r.body, cut1_gub, gub_len);
        prep_http_response_done(&r);
    }
    site_arch_cache_stats(&h1, &m1, &b1);
    assert_int_equal(h1 - h0, 3);
    /* a range of it, from the same body */
    q.range = S("bytes=0-14");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 206);
    assert_memory_equal(r.body, "<!doctype html>", 15);
    prep_http_response_done(&r);
    /* never answered before and its object gone: refused, as without the cache */
    if (memcmp(cut1_csv, f->data[F_CSV], csv_len < f->len[F_CSV] ? csv_len : f->len[F_CSV]) ||
        csv_len != f->len[F_CSV]) {
        prep_sha256_hex(cut1_csv, csv_len, h);
        assert_int_equal(prep_cut_object_path(f->store, h, op, sizeof op), 0);
        unlink(op);
        q = rq(PREP_HTTP_GET, "/cortes/1/base-de-datos/QRO_GUB_2021.csv");
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 404);
        prep_http_response_done(&r);
    }
    prep_serve_version_unref(v);
    free(cut1_csv);
    free(cut1_gub);
}

/* A cut the store's retention pruned (prep_cut_store_gc): its pages answer 410 with a short
 * Spanish page naming what remains, the same whether or not a page's bytes are still in the
 * store (an object shared with a kept cut); SHA256SUMS and SHA256SUMS.sig still answer 200
 * with the signed bytes; paths the cut never had stay 404; the kept cuts answer 200. Also
 * when the retention runs after the version was loaded (the mark is read per request). */
static void test_archive_pruned(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    for (int k = 2; k <= 4; k++) {
        fx_site(f, k);
        fx_cut(f, PREP_CUT_LIVE, T0 + 300 * (k - 1));
    }
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = load(f, 4, NULL, &o);
    prep_http_response r;
    /* cut 1 in the archive cache before the retention runs */
    prep_http_request q = rq(PREP_HTTP_GET, "/cortes/1/index.html");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    prep_http_response_done(&r);
    prep_cut_gc_result g;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_store_gc(f->store, 2, &g, &d), PREP_OK); /* keeps 3 and 4 */
    prep_diags_free(&d);
    assert_int_equal(g.cuts_pruned, 2);
    assert_true(g.objects_removed > 0);
    assert_true(prep_cut_store_pruned(f->store, 1) && prep_cut_store_pruned(f->store, 2));
    assert_false(prep_cut_store_pruned(f->store, 3) || prep_cut_store_pruned(f->store, 4));
    /* the CSS and the PNG did not change between cuts: their objects remain, yet 410 */
    const char *gone[] = {"/cortes/1/index.html", "/cortes/1/", "/cortes/2/gubernatura/", "/cortes/2/corte.json",
                          "/cortes/1/assets/app.0123456789.css", "/cortes/2/img/logo.png"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(gone); i++) {
        for (int head = 0; head < 2; head++) {
            q = rq(head ? PREP_HTTP_HEAD : PREP_HTTP_GET, gone[i]);
            q.accept_encoding = S("br, gzip");
            q.range = S("bytes=0-9");
            prep_serve_respond(v, &q, &r);
            assert_int_equal(r.status, 410);
            check_head(&r);
            check_security(&r, 1, NULL);
            assert_string_equal(fld(&r, "content-type"), "text/html; charset=utf-8");
            assert_string_equal(fld(&r, "cache-control"), "no-cache");
            assert_null(fld(&r, "content-encoding"));
            assert_null(fld(&r, "content-range"));
            const char *want = strstr(gone[i], "/1/") ? "1" : "2";
            assert_string_equal(fld(&r, "x-prep-corte"), want);
            assert_int_equal(r.send_body, !head);
            char *body = prep_xstrndup((const char *)r.body, r.body_len);
            /* relative links (a site may live under a sub-path): one "../" per level below cortes/<seq>/ */
            const char *rest = strchr(gone[i] + strlen("/cortes/"), '/') + 1;
            char up[64] = "";
            for (const char *c = rest; *c; c++)
                if (*c == '/') strcat(up, "../");
            char *sums = pathf("href=\"%sSHA256SUMS\"", up), *sig = pathf("href=\"%sSHA256SUMS.sig\"", up);
            char *home = pathf("href=\"%s../../\"", up);
            if (!strstr(body, sums) || !strstr(body, sig) || !strstr(body, home)) fail_msg("%s: %s", gone[i], body);
            assert_non_null(strstr(body, "ya no se conserva completo"));
            free(home);
            assert_true(prep_utf8_valid(body, strlen(body)));
            free(sums);
            free(sig);
            free(body);
            char *h = full_head(&r);
            assert_non_null(strstr(h, "HTTP/1.1 410 Gone\r\n"));
            free(h);
            prep_http_response_done(&r);
        }
    }
    /* what remains of a pruned cut: its signed list and signature, byte for byte */
    const char *rest[] = {"SHA256SUMS", "SHA256SUMS.sig"};
    const char *file[] = {"manifest", "manifest.sig"};
    for (int i = 0; i < 2; i++) {
        char *u = pathf("/cortes/1/%s", rest[i]);
        q = rq(PREP_HTTP_GET, u);
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 200);
        char *mp = pathf("%s/cuts/1/%s", f->store, file[i]);
        size_t mn;
        char *m = read_all(mp, &mn);
        assert_int_equal(r.body_len, mn);
        assert_memory_equal(r.body, m, mn);
        free(m);
        free(mp);
        free(u);
        prep_http_response_done(&r);
    }
    /* a path the cut never had: 404 as before; a kept cut: 200 */
    q = rq(PREP_HTTP_GET, "/cortes/1/nada.html");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 404);
    prep_http_response_done(&r);
    q = rq(PREP_HTTP_GET, "/cortes/3/corte.json");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "{\"corte\":3}", 11);
    prep_http_response_done(&r);
    /* a pruned cut loaded afresh (a new version) answers the same */
    prep_serve_version *v2 = load(f, 4, v, &o);
    q = rq(PREP_HTTP_GET, "/cortes/2/index.html");
    prep_serve_respond(v2, &q, &r);
    assert_int_equal(r.status, 410);
    prep_http_response_done(&r);
    prep_serve_version_unref(v2);
    prep_serve_version_unref(v);
}

/* Archived SHA256SUMS are answered from the archived cut's own bytes, shared by every
 * response and hashed once (issue 13: each request copied and hashed the whole manifest
 * under a lock); a response outlives the eviction of its cut from the archive cache; a
 * revalidation is answered 304 without reading the body (here: its object is gone). */
static void test_archive_shared(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    for (int k = 2; k <= 7; k++) {
        fx_site(f, k);
        fx_cut(f, PREP_CUT_LIVE, T0 + 300 * (k - 1));
    }
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = load(f, 7, NULL, &o);
    prep_http_response r1, r2, r;
    prep_http_request q = rq(PREP_HTTP_GET, "/cortes/1/SHA256SUMS");
    prep_serve_respond(v, &q, &r1);
    prep_serve_respond(v, &q, &r2);
    assert_int_equal(r1.status, 200);
    assert_int_equal(r2.status, 200);
    assert_ptr_equal(r1.body, r2.body); /* one copy: the archived cut's */
    /* five other cuts through a cache of four: cut 1 is evicted while r1 is held */
    for (int k = 2; k <= 6; k++) {
        char pth[64];
        snprintf(pth, sizeof pth, "/cortes/%d/SHA256SUMS", k);
        prep_http_request qk = rq(PREP_HTTP_GET, pth);
        prep_serve_respond(v, &qk, &r);
        assert_int_equal(r.status, 200);
        prep_http_response_done(&r);
    }
    char *mp = pathf("%s/cuts/1/manifest", f->store);
    size_t mn;
    char *m = read_all(mp, &mn);
    assert_int_equal(r1.body_len, mn);
    assert_memory_equal(r1.body, m, mn); /* still whole (ASan: no use after free) */
    char et[40];
    etag_of(m, mn, "", et);
    assert_string_equal(fld(&r1, "etag"), et);
    prep_http_response_done(&r1);
    prep_http_response_done(&r2);
    free(m);
    free(mp);
    /* 304 without touching the body: cut 1's corte.json object removed from the store */
    char *ip = pathf("%s/cuts/1/manifest", f->store);
    size_t il;
    char *man = read_all(ip, &il);
    const char *line = strstr(man, "  corte.json\n"); /* sha256sum's two blanks; a plain file */
    assert_non_null(line);
    const char *sha = line - 64;
    char shahex[65];
    memcpy(shahex, sha, 64);
    shahex[64] = 0;
    char obj[4096];
    assert_int_equal(prep_cut_object_path(f->store, shahex, obj, sizeof obj), 0);
    char *copy = pathf("%s.keep", obj);
    assert_int_equal(rename(obj, copy), 0);
    char et1[40];
    snprintf(et1, sizeof et1, "\"%.20s\"", shahex);
    q = rq(PREP_HTTP_GET, "/cortes/1/corte.json");
    q.if_none_match = S(et1);
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 304);
    prep_http_response_done(&r);
    assert_int_equal(rename(copy, obj), 0);
    free(copy);
    free(man);
    free(ip);
    prep_serve_version_unref(v);
}

static void test_damaged_store(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    char h[65], op[4096];
    prep_sha256_hex(f->data[F_CSV], f->len[F_CSV], h);
    assert_int_equal(prep_cut_object_path(f->store, h, op, sizeof op), 0);
    chmod(op, 0644);
    char *bad = prep_xstrndup(f->data[F_CSV], f->len[F_CSV]);
    bad[100] ^= 1; /* same size, one bit */
    write_bytes(op, bad, f->len[F_CSV]);
    free(bad);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = NULL;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(f->store, 0, NULL, &o, &v, &d), PREP_ERR_VERIFY);
    assert_null(v);
    const prep_diag *dg = prep_diags_find(&d, "hash-mismatch");
    assert_non_null(dg);
    assert_string_equal(dg->file, op);
    assert_non_null(strstr(dg->msg, "base-de-datos/QRO_GUB_2021.csv"));
    prep_diags_free(&d);
    /* a missing part object of a composed page */
    write_bytes(op, f->data[F_CSV], f->len[F_CSV]);
    prep_sha256_hex(f->data[F_GUB] + f->stamp_len[F_GUB], f->len[F_GUB] - f->stamp_len[F_GUB], h);
    assert_int_equal(prep_cut_object_path(f->store, h, op, sizeof op), 0);
    assert_int_equal(unlink(op), 0);
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(f->store, 0, NULL, &o, &v, &d), PREP_ERR_VERIFY);
    dg = prep_diags_find(&d, "missing-object");
    assert_non_null(dg);
    assert_non_null(strstr(dg->msg, "gubernatura/index.html"));
    assert_non_null(strstr(dg->msg, h));
    prep_diags_free(&d);
}

/* 2021-06-06 08:00:00 America/Mexico_City (UTC-5) = T0 - 12 h = 1623027600 - 43200 = 1622984400 */
#define OPEN (T0 - 43200)

static void test_window(void **state)
{
    fx *f = *state;
    /* a live cut made before the window opens (the institute's test run) */
    fx_cut(f, PREP_CUT_LIVE, OPEN - 7200);
    prep_serve_site_opts o = opts_https();
    o.window_open = OPEN;
    o.window_close = OPEN + 86400;
    o.zone = "America/Mexico_City";
    prep_serve_version *v = load(f, 0, NULL, &o);
    const char *paths[] = {"/", "/assets/app.0123456789.css", "/nada", "/cortes/1/index.html"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(paths); i++) {
        prep_http_request q = rq(PREP_HTTP_GET, paths[i]);
        q.now = OPEN - 3725; /* 1 h 2 min 5 s before: 3600 + 120 + 5 = 3725 s */
        prep_http_response r;
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 503);
        check_security(&r, 1, NULL);
        assert_string_equal(fld(&r, "retry-after"), "3725");
        assert_string_equal(fld(&r, "cache-control"), "no-cache");
        assert_string_equal(fld(&r, "x-prep-corte"), "0");
        char *body = prep_xstrndup((const char *)r.body, (size_t)r.body_len);
        assert_non_null(strstr(body, "La publicaci\xC3\xB3n de los resultados preliminares comienza el "
                                     "6 de junio de 2021, 08:00 (UTC-5, America/Mexico_City)."));
        free(body);
        prep_http_response_done(&r);
    }
    /* one second before: retry-after 1; at the opening: served */
    prep_http_request q = rq(PREP_HTTP_GET, "/");
    q.now = OPEN - 1;
    prep_http_response r;
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(fld(&r, "retry-after"), "1");
    prep_http_response_done(&r);
    q.now = OPEN;
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    prep_http_response_done(&r);
    /* after the window closes the last cut stays */
    q.now = OPEN + 86400 * 3;
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(fld(&r, "x-prep-corte"), "1");
    prep_http_response_done(&r);
    prep_serve_version_unref(v);

    /* the empty version: 503 before and after the opening */
    prep_serve_version *e = NULL;
    assert_int_equal(prep_serve_version_empty(&o, &e), PREP_OK);
    q.now = OPEN - 60;
    prep_serve_respond(e, &q, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(fld(&r, "retry-after"), "60");
    assert_int_equal(r.seq, 0);
    check_security(&r, 1, NULL);
    prep_http_response_done(&r);
    q.now = OPEN + 60;
    prep_serve_respond(e, &q, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(fld(&r, "retry-after"));
    prep_http_response_done(&r);
    q.method = PREP_HTTP_OTHER;
    prep_serve_respond(e, &q, &r);
    assert_int_equal(r.status, 405);
    prep_http_response_done(&r);
    prep_serve_version_info info;
    prep_serve_version_get_info(e, &info);
    assert_int_equal(info.seq, 0);
    prep_serve_version_unref(e);
}

static void test_window_drill(void **state)
{
    fx *f = *state;
    char *s2 = pathf("%s/drill", f->tmp);
    free(f->store);
    f->store = s2;
    fx_cut(f, PREP_CUT_DRILL, OPEN - 86400 * 7);
    prep_serve_site_opts o = opts_https();
    o.window_open = OPEN;
    prep_serve_version *v = load(f, 0, NULL, &o);
    prep_http_request q = rq(PREP_HTTP_GET, "/");
    q.now = OPEN - 86400 * 7 + 10; /* a drill a week before the election */
    prep_http_response r;
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, f->data[F_INDEX], f->len[F_INDEX]);
    prep_http_response_done(&r);
    prep_serve_version_info info;
    prep_serve_version_get_info(v, &info);
    assert_int_equal(info.drill, 1);
    prep_serve_version_unref(v);
}

static void test_reuse(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    fx_site(f, 2); /* every page's stamp changes, corte.json changes; css, csv, png do not */
    fx_cut(f, PREP_CUT_LIVE, T0 + 300);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v1 = load(f, 1, NULL, &o);
    prep_serve_version *v2 = load(f, 2, v1, &o);
    prep_serve_version_info i2;
    prep_serve_version_get_info(v2, &i2);
    /* unchanged with variants: css, csv = 2 files x 2 = 4 reused.
     * compressed again whole: SHA256SUMS (a new manifest: gzip; br after the load) and
     * SHA256SUMS.sig (a new signature, 175 bytes: gzip, br) = 3. corte.json is < 128 bytes, the png is not
     * compressible. The pages: only the new stamp ("Corte 2") is a new part (1 deflated);
     * the four bodies come from the cache: 5 parts, 6 in the cache (v1's stamp too). */
    assert_int_equal(i2.variants_reused, 4);
    assert_int_equal(i2.variants_compressed, 3);
    assert_int_equal(i2.parts, 5);
    assert_int_equal(i2.parts_compressed, 1);
    assert_int_equal(i2.parts_cached, 6);
    /* the whole-file approach (for comparison) compresses the 4 pages again: 4 + 4 x 2 = 12 */
    prep_serve_site_opts ow = o;
    ow.whole_file = 1;
    prep_serve_version *w1 = load(f, 1, NULL, &ow);
    prep_serve_version *w2 = load(f, 2, w1, &ow);
    prep_serve_version_info iw;
    prep_serve_version_get_info(w2, &iw);
    assert_int_equal(iw.variants_reused, 4);
    assert_int_equal(iw.variants_compressed, 12);
    assert_int_equal(iw.parts, 0);
    prep_serve_version_unref(w1);
    prep_serve_version_unref(w2);
    prep_serve_version_unref(v1); /* v2's shared blobs outlive v1 */
    /* v1 gone: loading cut 2 again prunes v1's stamp from the cache; the same pages from
     * the same parts share v2's gzip members (4 pages) and its plain variants (css, csv: 4,
     * SHA256SUMS: 1, and .sig's when smaller): at least 9 reused, nothing compressed. */
    prep_serve_version *v3 = load(f, 2, v2, &o);
    prep_serve_version_info i3;
    prep_serve_version_get_info(v3, &i3);
    assert_int_equal(i3.parts_compressed, 0);
    assert_int_equal(i3.variants_compressed, 0);
    assert_int_equal(i3.parts_cached, 5);
    assert_true(i3.variants_reused >= 9); /* SHA256SUMS.sig's variants are kept only when smaller */
    prep_serve_version_unref(v3);
    prep_http_request q = rq(PREP_HTTP_GET, "/assets/app.0123456789.css");
    q.accept_encoding = S("br");
    prep_http_response r;
    prep_serve_respond(v2, &q, &r);
    assert_int_equal(r.status, 200);
    size_t n;
    char *plain = unbrotli(r.body, (size_t)r.body_len, &n);
    assert_int_equal(n, f->len[F_CSS]);
    assert_memory_equal(plain, f->data[F_CSS], n);
    free(plain);
    assert_string_equal(fld(&r, "x-prep-corte"), "2");
    prep_http_response_done(&r);
    prep_serve_version_unref(v2);
}

static void test_response_keeps_version(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = load(f, 0, NULL, &o);
    prep_http_request q = rq(PREP_HTTP_GET, "/gubernatura/");
    q.accept_encoding = S("gzip");
    prep_http_response r;
    prep_serve_respond(v, &q, &r);
    prep_serve_version_unref(v); /* the server switched to another cut */
    /* the response still reads its version's memory (ASan: no use after free) */
    size_t n;
    char *plain = gunzip(r.body, (size_t)r.body_len, &n);
    assert_memory_equal(plain, f->data[F_GUB], n);
    free(plain);
    assert_non_null(fld(&r, "etag"));
    check_head(&r);
    prep_http_response_done(&r);
}

/* Threads answer requests while the main thread swaps versions and drops the old ones. */
typedef struct hammer {
    pthread_mutex_t lock;
    prep_serve_version *cur;
    atomic_int stop;
    atomic_long answered;
    const fx *f;
} hammer;

static void *hammer_thread(void *arg)
{
    hammer *h = arg;
    const char *paths[] = {"/", "/gubernatura/", "/cortes/1/index.html", "/base-de-datos/QRO_GUB_2021.csv",
                           "/nada", "/gubernatura"};
    unsigned i = 0;
    while (!atomic_load(&h->stop)) {
        pthread_mutex_lock(&h->lock);
        prep_serve_version *v = h->cur;
        prep_http_request q = rq(PREP_HTTP_GET, paths[i % PREP_ARRAY_LEN(paths)]);
        q.accept_encoding = S(i % 3 == 0 ? "gzip" : i % 3 == 1 ? "br" : NULL);
        if (i % 5 == 0) q.range = S("bytes=1-3");
        prep_http_response r;
        prep_serve_respond(v, &q, &r); /* takes its own reference */
        pthread_mutex_unlock(&h->lock);
        /* read every byte after the swap may have dropped the version */
        volatile unsigned sum = 0;
        for (uint64_t b = 0; b < r.body_len; b++) sum += r.body[b];
        for (size_t b = 0; b < r.h1_head_len; b++) sum += (unsigned char)r.h1_head[b];
        for (size_t b = 0; b < r.h1_common_len; b++) sum += (unsigned char)r.h1_common[b];
        (void)sum; /* the reads are the point (ASan sees a freed version); the value is not */
        assert_true(r.status == 200 || r.status == 206 || r.status == 404 || r.status == 301);
        prep_http_response_done(&r);
        atomic_fetch_add(&h->answered, 1);
        i++;
    }
    return NULL;
}

static void test_swap_under_load(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    fx_site(f, 2);
    fx_cut(f, PREP_CUT_LIVE, T0 + 300);
    prep_serve_site_opts o = opts_https();
    o.threads = 1;
    hammer h;
    pthread_mutex_init(&h.lock, NULL);
    h.cur = load(f, 1, NULL, &o);
    atomic_init(&h.stop, 0);
    atomic_init(&h.answered, 0);
    h.f = f;
    pthread_t th[3];
    for (int i = 0; i < 3; i++) assert_int_equal(pthread_create(&th[i], NULL, hammer_thread, &h), 0);
    for (int round = 0; round < 12; round++) {
        prep_serve_version *next = load(f, (uint64_t)(round % 2 + 1), h.cur, &o);
        pthread_mutex_lock(&h.lock);
        prep_serve_version *old = h.cur;
        h.cur = next;
        pthread_mutex_unlock(&h.lock);
        prep_serve_version_unref(old);
    }
    /* On a busy machine the 12 loads may finish before a hammer thread ran at all: let
     * them answer some requests on the last version too before stopping. */
    while (atomic_load(&h.answered) < 30) sched_yield();
    atomic_store(&h.stop, 1);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    assert_true(atomic_load(&h.answered) > 0);
    prep_serve_version_unref(h.cur);
    pthread_mutex_destroy(&h.lock);
}

/* The gzip member of a page is its parts' deflate streams: header, final empty block,
 * CRC-32 and ISIZE of the page; `gzip -dc` (a real decoder) gives the page back. */
static void test_gzip_parts(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = load(f, 0, NULL, &o);
    static const int pages[] = {F_INDEX, F_GUB, F_SPACE, F_EMB};
    for (size_t i = 0; i < PREP_ARRAY_LEN(pages); i++) {
        int pi = pages[i];
        char path[256];
        snprintf(path, sizeof path, "/%s", f->path[pi]);
        prep_http_request q = rq(PREP_HTTP_GET, path);
        q.accept_encoding = S("gzip");
        prep_http_response r;
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(fld(&r, "content-encoding"), "gzip");
        const uint8_t *g = r.body;
        size_t n = (size_t)r.body_len;
        static const uint8_t hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
        assert_memory_equal(g, hdr, 10);
        uint32_t crc = (uint32_t)crc32(0, (const Bytef *)f->data[pi], (uInt)f->len[pi]);
        uint32_t got_crc = (uint32_t)g[n - 8] | (uint32_t)g[n - 7] << 8 | (uint32_t)g[n - 6] << 16 |
                           (uint32_t)g[n - 5] << 24;
        uint32_t isize = (uint32_t)g[n - 4] | (uint32_t)g[n - 3] << 8 | (uint32_t)g[n - 2] << 16 |
                         (uint32_t)g[n - 1] << 24;
        assert_int_equal(got_crc, crc);
        assert_int_equal(isize, f->len[pi]);
        assert_int_equal(g[n - 10], 0x03); /* the final empty fixed block */
        assert_int_equal(g[n - 9], 0x00);
        if (pi == F_INDEX) {
            /* once, through gzip(1) */
            char *gz = pathf("%s/index.html.gz", f->tmp);
            char *out = pathf("%s/index.out", f->tmp);
            write_bytes(gz, (const char *)g, n);
            char cmd[8400];
            snprintf(cmd, sizeof cmd, "gzip -dc '%s' > '%s'", gz, out);
            assert_int_equal(system(cmd), 0);
            size_t on = 0;
            char *plain = read_all(out, &on);
            assert_int_equal(on, f->len[pi]);
            assert_memory_equal(plain, f->data[pi], on);
            free(plain);
            free(gz);
            free(out);
        }
        prep_http_response_done(&r);
    }
    prep_serve_version_unref(v);
}

/* br of a page: none at load, made by its first request (once, even when threads race),
 * then served from memory; the warmer makes the rest; plain files keep eager br. */
typedef struct br_race {
    prep_serve_version *v;
    const fx *f;
    atomic_int go;
    int ok;
} br_race;

static void *br_thread(void *arg)
{
    br_race *b = arg;
    while (!atomic_load(&b->go)) {
    }
    prep_http_request q = rq(PREP_HTTP_GET, "/");
    q.accept_encoding = S("br, gzip");
    prep_http_response r;
    prep_serve_respond(b->v, &q, &r);
    int is_br = 0; /* (fld's buffer is static: not from threads) */
    for (size_t i = 0; i < r.n_fields; i++)
        if (r.fields[i].name_len == 16 && !memcmp(r.fields[i].name, "content-encoding", 16))
            is_br = r.fields[i].value_len == 2 && !memcmp(r.fields[i].value, "br", 2);
    size_t n = 0;
    char *plain = is_br ? unbrotli(r.body, (size_t)r.body_len, &n) : gunzip(r.body, (size_t)r.body_len, &n);
    b->ok = r.status == 200 && n == b->f->len[F_INDEX] && !memcmp(plain, b->f->data[F_INDEX], n);
    free(plain);
    prep_http_response_done(&r);
    return NULL;
}

static void test_br_lazy(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = load(f, 0, NULL, &o);
    prep_serve_version_info info;
    prep_serve_version_get_info(v, &info);
    assert_int_equal(info.br_made, 0);
    assert_int_equal(info.bytes_lazy, 0);
    uint64_t held0 = info.bytes_held;
    /* plain text files have br at load */
    prep_http_request q = rq(PREP_HTTP_GET, "/assets/app.0123456789.css");
    q.accept_encoding = S("br");
    prep_http_response r;
    prep_serve_respond(v, &q, &r);
    assert_string_equal(fld(&r, "content-encoding"), "br");
    prep_http_response_done(&r);
    prep_serve_version_get_info(v, &info);
    assert_int_equal(info.br_made, 0);
    /* four threads ask for the home page's br at once: each gets a good body, one br made */
    br_race b = {.v = v, .f = f};
    atomic_init(&b.go, 0);
    br_race bs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        bs[i] = (br_race){.v = v, .f = f};
        atomic_init(&bs[i].go, 0);
    }
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, br_thread, &bs[i]), 0);
    for (int i = 0; i < 4; i++) atomic_store(&bs[i].go, 1);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_true(bs[i].ok);
    }
    prep_serve_version_get_info(v, &info);
    assert_int_equal(info.br_made, 1);
    assert_true(info.bytes_lazy > 0);
    assert_int_equal(info.bytes_held, held0 + info.bytes_lazy);
    /* now it is there: the same bytes for every request, br chosen */
    const uint8_t *first = NULL;
    for (int i = 0; i < 2; i++) {
        q = rq(PREP_HTTP_GET, "/");
        q.accept_encoding = S("br");
        prep_serve_respond(v, &q, &r);
        assert_string_equal(fld(&r, "content-encoding"), "br");
        char et[40];
        etag_of(f->data[F_INDEX], f->len[F_INDEX], "-br", et);
        assert_string_equal(fld(&r, "etag"), et);
        check_head(&r);
        if (i == 0) first = r.body;
        else assert_ptr_equal(first, r.body);
        prep_http_response_done(&r);
    }
    /* "br only, identity refused" before the variant exists: made for it, never 406 */
    q = rq(PREP_HTTP_GET, "/gubernatura/");
    q.accept_encoding = S("br, identity;q=0");
    prep_serve_respond(v, &q, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(fld(&r, "content-encoding"), "br");
    prep_http_response_done(&r);
    prep_serve_version_get_info(v, &info);
    assert_int_equal(info.br_made, 2);
    assert_int_equal(info.warm_done, 1); /* no warmer: br_warm = 0 */
    /* over plain HTTP there is no br and nothing is made */
    prep_serve_site_opts oh = o;
    oh.https = 0;
    prep_serve_version *vh = load(f, 0, NULL, &oh);
    q = rq(PREP_HTTP_GET, "/");
    q.accept_encoding = S("br, gzip");
    prep_serve_respond(vh, &q, &r);
    assert_string_equal(fld(&r, "content-encoding"), "gzip");
    prep_http_response_done(&r);
    prep_serve_version_get_info(vh, &info);
    assert_int_equal(info.br_made, 0);
    prep_serve_version_unref(vh);
    /* the warmer: every page's br (4 pages), in the background */
    prep_serve_site_opts ow = o;
    ow.br_warm = 1;
    prep_serve_version *vw = load(f, 0, v, &ow);
    for (int i = 0; i < 2000; i++) {
        prep_serve_version_get_info(vw, &info);
        if (info.warm_done) break;
        usleep(5000);
    }
    assert_int_equal(info.warm_done, 1);
    /* the two pages v had made came from prev with the same parts; the warmer made the
     * other 2 and SHA256SUMS's */
    assert_int_equal(info.br_made, 3);
    for (int i = 0; i < N_FILES; i++) {
        if (!f->parts[i]) continue;
        char path[256];
        snprintf(path, sizeof path, "/%s", f->path[i]);
        q = rq(PREP_HTTP_GET, path);
        q.accept_encoding = S("br");
        prep_serve_respond(vw, &q, &r);
        assert_string_equal(fld(&r, "content-encoding"), "br");
        size_t n;
        char *plain = unbrotli(r.body, (size_t)r.body_len, &n);
        assert_int_equal(n, f->len[i]);
        assert_memory_equal(plain, f->data[i], n);
        free(plain);
        prep_http_response_done(&r);
    }
    prep_serve_version_get_info(vw, &info);
    assert_int_equal(info.br_made, 3);
    prep_serve_version_unref(v);
    prep_serve_version_unref(vw); /* joins nothing: the warmer is done */
    /* a version dropped while its warmer runs asks it to stop without waiting; the warmer
     * frees it (ASan/TSan: clean; test_serve_release holds the warmer) */
    vw = load(f, 0, NULL, &ow);
    prep_serve_version_unref(vw);
}

/* A cut whose new part is damaged is refused naming the part; the previous version keeps
 * serving, the damaged part does not stay in the cache, and the repaired cut loads. */
static void test_part_damage_recovers(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    fx_site(f, 2);
    fx_cut(f, PREP_CUT_LIVE, T0 + 300);
    prep_serve_site_opts o = opts_https();
    prep_serve_version *v1 = load(f, 1, NULL, &o);
    char h[65], op[4096];
    prep_sha256_hex(f->data[F_INDEX], f->stamp_len[F_INDEX], h); /* cut 2's stamp */
    assert_int_equal(prep_cut_object_path(f->store, h, op, sizeof op), 0);
    chmod(op, 0644);
    char *bad = prep_xstrndup(f->data[F_INDEX], f->stamp_len[F_INDEX]);
    bad[3] ^= 1;
    write_bytes(op, bad, f->stamp_len[F_INDEX]);
    prep_serve_version *v2 = NULL;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(f->store, 2, v1, &o, &v2, &d), PREP_ERR_VERIFY);
    assert_null(v2);
    const prep_diag *dg = prep_diags_find(&d, "hash-mismatch");
    assert_non_null(dg);
    assert_non_null(strstr(dg->msg, h));
    prep_diags_free(&d);
    /* v1 still answers */
    prep_http_request q = rq(PREP_HTTP_GET, "/");
    q.accept_encoding = S("gzip");
    prep_http_response r;
    prep_serve_respond(v1, &q, &r);
    assert_int_equal(r.status, 200);
    size_t n;
    char *plain = gunzip(r.body, (size_t)r.body_len, &n);
    assert_non_null(strstr(plain, "Corte 1"));
    free(plain);
    prep_http_response_done(&r);
    /* repaired: loads (the part is read again, not taken from the cache) */
    bad[3] ^= 1;
    write_bytes(op, bad, f->stamp_len[F_INDEX]);
    free(bad);
    v2 = load(f, 2, v1, &o);
    prep_serve_version_info info;
    prep_serve_version_get_info(v2, &info);
    assert_int_equal(info.parts_compressed, 1);
    prep_serve_respond(v2, &q, &r);
    plain = gunzip(r.body, (size_t)r.body_len, &n);
    assert_int_equal(n, f->len[F_INDEX]);
    assert_memory_equal(plain, f->data[F_INDEX], n);
    free(plain);
    prep_http_response_done(&r);
    prep_serve_version_unref(v1);
    prep_serve_version_unref(v2);
}

/* opts.whole_file: the former approach gives the same representations. */
static void test_whole_file_same_bytes(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    prep_serve_site_opts o = opts_https();
    prep_serve_site_opts ow = o;
    ow.whole_file = 1;
    prep_serve_version *v = load(f, 0, NULL, &o);
    prep_serve_version *w = load(f, 0, NULL, &ow);
    prep_serve_version_info iv, iw;
    prep_serve_version_get_info(v, &iv);
    prep_serve_version_get_info(w, &iw);
    assert_int_equal(iv.bytes_identity, iw.bytes_identity);
    /* 8 text files >= 128 bytes x 2 (as before parts existed) */
    assert_int_equal(iw.variants_compressed, 16);
    static const char *aes[3] = {NULL, "gzip", "br"};
    for (int i = 0; i < N_FILES; i++)
        for (int k = 0; k < 3; k++) {
            char path[256];
            snprintf(path, sizeof path, "/%s", f->path[i]);
            prep_http_request q = rq(PREP_HTTP_GET, path);
            q.accept_encoding = S(aes[k]);
            q.range = S(k == 0 ? "bytes=5-99" : NULL);
            prep_http_response a, b;
            prep_serve_respond(v, &q, &a);
            prep_serve_respond(w, &q, &b);
            assert_int_equal(a.status, b.status);
            assert_int_equal(a.n_fields, b.n_fields);
            for (size_t j = 0; j < a.n_fields; j++) {
                assert_memory_equal(a.fields[j].name, b.fields[j].name, a.fields[j].name_len);
                if (strcmp(a.fields[j].name, "content-encoding") && strcmp(a.fields[j].name, "content-length"))
                    assert_memory_equal(a.fields[j].value, b.fields[j].value, a.fields[j].value_len);
            }
            const char *ce = fld(&a, "content-encoding");
            int kk = !ce ? 0 : !strcmp(ce, "gzip") ? 1 : 2;
            if (!ce) assert_null(fld(&b, "content-encoding"));
            else assert_string_equal(fld(&b, "content-encoding"), kk == 1 ? "gzip" : "br");
            if (kk == 0) {
                assert_int_equal(a.body_len, b.body_len);
                assert_memory_equal(a.body, b.body, (size_t)a.body_len);
            } else {
                size_t na = 0, nb = 0;
                char *pa = kk == 1 ? gunzip(a.body, (size_t)a.body_len, &na) : unbrotli(a.body, (size_t)a.body_len, &na);
                char *pb = kk == 1 ? gunzip(b.body, (size_t)b.body_len, &nb) : unbrotli(b.body, (size_t)b.body_len, &nb);
                assert_int_equal(na, nb);
                assert_memory_equal(pa, pb, na);
                free(pa);
                free(pb);
            }
            prep_http_response_done(&a);
            prep_http_response_done(&b);
        }
    prep_serve_version_unref(v);
    prep_serve_version_unref(w);
}

/* Issue 13: a restart (no prev) on a store whose active cut lost an object. Without
 * opts.fallback the load fails as before; with it, the newest older cut that loads whole
 * is served and the info says which active cut it stands in for and why. A cut whose
 * manifest is not the one the next cut chains to is passed over; a load with a prev
 * (a switch while serving) never falls back: the server keeps its version. */
static void test_fallback(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_cut(f, PREP_CUT_LIVE, T0), 1);
    fx_site(f, 2);
    assert_int_equal(fx_cut(f, PREP_CUT_LIVE, T0 + 300), 2);
    fx_site(f, 3);
    assert_int_equal(fx_cut(f, PREP_CUT_LIVE, T0 + 600), 3);
    /* cut 3's corte.json ({"corte":3}) is its own object: delete it */
    char h[65], op[4096];
    prep_sha256_hex(f->data[F_CORTE], f->len[F_CORTE], h);
    assert_int_equal(prep_cut_object_path(f->store, h, op, sizeof op), 0);
    assert_int_equal(unlink(op), 0);

    prep_serve_site_opts o = opts_https();
    prep_serve_version *v = NULL;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(f->store, 0, NULL, &o, &v, &d), PREP_ERR_VERIFY);
    assert_null(v);
    prep_diags_free(&d);
    prep_serve_refusal rf;
    assert_int_equal(prep_serve_last_refusal(&rf), 1); /* what /health compares with the pointer */
    assert_int_equal(rf.seq, 3);
    assert_int_equal(strlen(rf.manifest_sha256), 64);
    assert_non_null(strstr(rf.why, "missing-object"));

    o.fallback = 1;
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(f->store, 0, NULL, &o, &v, &d), PREP_OK);
    assert_non_null(prep_diags_find(&d, "missing-object")); /* the active cut's reason stays in d */
    prep_diags_free(&d);
    prep_serve_version_info vi;
    prep_serve_version_get_info(v, &vi);
    assert_int_equal(vi.seq, 2);
    assert_int_equal(vi.fallback_from, 3);
    assert_non_null(strstr(vi.fallback_why, "missing-object"));
    assert_non_null(strstr(vi.fallback_why, "corte.json"));
    prep_http_request r = rq(PREP_HTTP_GET, "/corte.json");
    prep_http_response resp;
    prep_serve_respond(v, &r, &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body_len, strlen("{\"corte\":2}"));
    assert_memory_equal(resp.body, "{\"corte\":2}", resp.body_len);
    assert_string_equal(fld(&resp, "x-prep-corte"), "2");
    prep_http_response_done(&resp);

    /* a switch while serving (prev given): no fallback, the caller keeps prev */
    prep_serve_version *v2 = NULL;
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(f->store, 0, v, &o, &v2, &d), PREP_ERR_VERIFY);
    assert_null(v2);
    prep_diags_free(&d);
    prep_serve_version_unref(v);
    /* from the waiting page (prev = the empty version): nothing is served, so it falls back */
    prep_serve_version *ev = NULL;
    assert_int_equal(prep_serve_version_empty(&o, &ev), PREP_OK);
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(f->store, 0, ev, &o, &v2, &d), PREP_OK);
    prep_diags_free(&d);
    prep_serve_version_get_info(v2, &vi);
    assert_int_equal(vi.seq, 2);
    assert_int_equal(vi.fallback_from, 3);
    prep_serve_version_unref(v2);
    prep_serve_version_unref(ev);

    /* cut 2's manifest replaced by another one of sequence 2 (its horizon moved): cut 3
     * does not chain to it, so cut 1 is served */
    char *mp = pathf("%s/cuts/2/manifest", f->store);
    size_t ml = 0;
    char *m = read_all(mp, &ml);
    assert_non_null(m);
    char *vu = strstr(m, "# valid-until: ");
    assert_non_null(vu);
    char *colon = strchr(vu + 15 + 11, ':'); /* the minutes of "YYYY-MM-DDTHH:MM" */
    assert_non_null(colon);
    colon[1] = colon[1] == '0' ? '1' : '0';
    chmod(mp, 0644);
    write_bytes(mp, m, ml);
    free(m);
    free(mp);
    uint64_t seqs[4];
    size_t n = 0;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_fallbacks(f->store, seqs, 4, &n, &d), PREP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(seqs[0], 1);
    assert_non_null(prep_diags_find(&d, "chain"));
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(prep_serve_version_load(f->store, 0, NULL, &o, &v, &d), PREP_OK);
    prep_diags_free(&d);
    prep_serve_version_get_info(v, &vi);
    assert_int_equal(vi.seq, 1);
    assert_int_equal(vi.fallback_from, 3);
    prep_serve_version_unref(v);

    /* the object restored: the active cut loads and no refusal stands */
    write_bytes(op, f->data[F_CORTE], f->len[F_CORTE]);
    v = load(f, 0, NULL, &o);
    prep_serve_version_get_info(v, &vi);
    assert_int_equal(vi.seq, 3);
    assert_int_equal(vi.fallback_from, 0);
    assert_string_equal(vi.fallback_why, "");
    assert_int_equal(prep_serve_last_refusal(&rf), 0);
    prep_serve_version_unref(v);
}

/* ---------------------------------------------------------------- behind a load balancer
 * The "prep_visto" marker (site_replica.c, docs/scale-out.md). */
static void test_seen_marker_parse(void **state)
{
    (void)state;
    struct {
        const char *q;
        int marked;
        uint64_t seen;
        const char *rest; /* NULL: absent */
    } c[] = {
        {"prep_visto=7", 1, 7, NULL},
        {"prep_visto=7&n=0412", 1, 7, "n=0412"},
        {"prep_visto=&n=1", 1, 0, "n=1"},
        {"prep_visto=", 1, 0, NULL},
        {"prep_visto=0&", 1, 0, NULL},
        {"prep_visto=999999999999&x", 1, 999999999999ULL, "x"},
        {"prep_visto=1234567890123", 0, 0, "prep_visto=1234567890123"}, /* 13 digits */
        {"prep_visto=7x", 0, 0, "prep_visto=7x"},
        {"prep_visto=-1", 0, 0, "prep_visto=-1"},
        {"n=1&prep_visto=7", 0, 0, "n=1&prep_visto=7"}, /* only first */
        {"prep_vist=7", 0, 0, "prep_vist=7"},
        {"", 0, 0, ""},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(c); i++) {
        uint64_t seen = 99;
        prep_http_slice rest;
        assert_int_equal(prep_serve_seen_take(S(c[i].q), &seen, &rest), c[i].marked);
        assert_int_equal(seen, c[i].seen);
        if (!c[i].rest) {
            assert_null(rest.p);
            assert_int_equal(rest.len, 0);
        } else {
            assert_non_null(rest.p);
            assert_int_equal(rest.len, strlen(c[i].rest));
            assert_memory_equal(rest.p, c[i].rest, rest.len);
        }
    }
    uint64_t seen = 5;
    prep_http_slice none = {NULL, 0}, rest;
    assert_int_equal(prep_serve_seen_take(none, &seen, &rest), 0);
    assert_int_equal(seen, 0);
    assert_null(rest.p);
}

static void respond_q(prep_serve_version *v, prep_http_method m, const char *path, const char *query,
                      prep_http_response *r)
{
    prep_http_request q = rq(m, path);
    q.query = S(query);
    prep_serve_respond(v, &q, r);
}

static void test_seen_marker(void **state)
{
    fx *f = *state;
    fx_cut(f, PREP_CUT_LIVE, T0);
    char *cut1_index = prep_xstrndup(f->data[F_INDEX], f->len[F_INDEX]);
    size_t cut1_len = f->len[F_INDEX];
    fx_site(f, 2);
    fx_cut(f, PREP_CUT_LIVE, T0 + 300);
    prep_serve_site_opts o = opts_https();
    o.https = 0;
    prep_serve_version *v1 = load(f, 1, NULL, &o), *v2 = load(f, 2, v1, &o);
    prep_http_response r;
    /* A reader that was given cut 2 asks a replica still on cut 1: refused, never cut 1. */
    const prep_http_method ms[] = {PREP_HTTP_GET, PREP_HTTP_HEAD};
    for (size_t i = 0; i < 2; i++) {
        respond_q(v1, ms[i], "/", "prep_visto=2", &r);
        assert_int_equal(r.status, 503);
        check_security(&r, 0, NULL);
        assert_string_equal(fld(&r, "retry-after"), "1");
        assert_string_equal(fld(&r, "x-prep-corte"), "1");
        assert_string_equal(fld(&r, "cache-control"), PREP_POLICY_CC_NO_CACHE);
        assert_int_equal(r.send_body, ms[i] == PREP_HTTP_GET);
        assert_null(memmem(r.body, r.body_len, "Corte 1", 7));
        prep_http_response_done(&r);
    }
    /* Same or older marks: the file of the replica's cut, as without a mark. */
    const char *ok[] = {"prep_visto=1", "prep_visto=0", "prep_visto=", "prep_visto=1&v=3", "prep_visto=9x"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(ok); i++) {
        respond_q(v1, PREP_HTTP_GET, "/", ok[i], &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(fld(&r, "x-prep-corte"), "1");
        assert_int_equal(r.body_len, cut1_len);
        assert_memory_equal(r.body, cut1_index, cut1_len);
        prep_http_response_done(&r);
    }
    respond_q(v2, PREP_HTTP_GET, "/corte.json", "prep_visto=1", &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "{\"corte\":2}", r.body_len);
    prep_http_response_done(&r);
    /* Archived files are refused too: the mark is about the replica, not the path. */
    respond_q(v1, PREP_HTTP_GET, "/cortes/1/", "prep_visto=2", &r);
    assert_int_equal(r.status, 503);
    prep_http_response_done(&r);
    /* The health check. */
    struct {
        prep_serve_version *v;
        const char *q;
        int status;
        const char *body;
    } h[] = {
        {v1, NULL, 200, "ok corte 1\n"},       {v1, "prep_visto=1", 200, "ok corte 1\n"},
        {v1, "prep_visto=2", 503, "behind corte 1 < 2\n"}, {v2, "prep_visto=2", 200, "ok corte 2\n"},
        {v2, "prep_visto=", 200, "ok corte 2\n"},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(h); i++) {
        respond_q(h[i].v, PREP_HTTP_GET, "/health/cut", h[i].q, &r);
        assert_int_equal(r.status, h[i].status);
        check_security(&r, 0, NULL);
        assert_string_equal(fld(&r, "content-type"), "text/plain; charset=utf-8");
        assert_string_equal(fld(&r, "cache-control"), PREP_POLICY_CC_NO_CACHE);
        assert_int_equal(r.body_len, strlen(h[i].body));
        assert_memory_equal(r.body, h[i].body, r.body_len);
        prep_http_response_done(&r);
    }
    respond_q(v1, PREP_HTTP_HEAD, "/health/cut", "prep_visto=2", &r);
    assert_int_equal(r.status, 503);
    assert_false(r.send_body);
    prep_http_response_done(&r);
    /* A replica with no cut yet: the health check passes until a reader was given a cut;
     * an unmarked page gets the waiting page, a marked one the refusal. */
    prep_serve_version *e = NULL;
    assert_int_equal(prep_serve_version_empty(&o, &e), PREP_OK);
    respond_q(e, PREP_HTTP_GET, "/health/cut", "prep_visto=0", &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "ok corte 0\n", r.body_len);
    prep_http_response_done(&r);
    respond_q(e, PREP_HTTP_GET, "/health/cut", "prep_visto=1", &r);
    assert_int_equal(r.status, 503);
    prep_http_response_done(&r);
    respond_q(e, PREP_HTTP_GET, "/", "prep_visto=1", &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(fld(&r, "retry-after"), "1");
    prep_http_response_done(&r);
    respond_q(e, PREP_HTTP_GET, "/", "prep_visto=0", &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(fld(&r, "retry-after"), "60"); /* the waiting page's */
    prep_http_response_done(&r);
    prep_serve_version_unref(e);
    prep_serve_version_unref(v2);
    prep_serve_version_unref(v1);
    free(cut1_index);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_representations, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_conditionals_and_head, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ranges, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_errors_and_paths, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cache_and_security, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_cached, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_shared, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_store, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_window, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_window_drill, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reuse, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_response_keeps_version, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_swap_under_load, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_gzip_parts, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_br_lazy, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_part_damage_recovers, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_whole_file_same_bytes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_fallback, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_archive_pruned, fx_setup, fx_teardown),
        cmocka_unit_test(test_seen_marker_parse),
        cmocka_unit_test_setup_teardown(test_seen_marker, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

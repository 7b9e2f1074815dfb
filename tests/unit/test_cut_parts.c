/* Composed files in cuts (docs/formats/cut.md, "Composed files"): a page stored as its
 * parts (pre | stamp | body | post), so that a cut whose only change on a page is the
 * per-cut stamp costs one shared stamp object, not the page. Covers the "#p" manifest
 * line (parse, refusals, patches), prep_cut_make storing parts, delta counting parts,
 * export assembling pages that sha256sum checks, and the attacks on parts: a part
 * flipped, a part missing, parts that assemble to another hash. */
#include "test_cut_util.h"

#include <zlib.h>

#include "prep/serve.h"

#define NPAGES 5

/* A site of NPAGES composed pages plus one plain file. The stamp is shared by every page. */
typedef struct csite {
    char *data[NPAGES];
    size_t len[NPAGES];
    size_t part[NPAGES][PREP_CUT_PARTS_MAX];
    uint8_t np[NPAGES];
    char *csv;
    char *json[NPAGES];   /* g_json: a datos.json beside each page, [per-cut head | body] */
    size_t json_head[NPAGES];
} csite;

/* 1: the site also has a composed JSON file per page whose head is shared and per cut, as
 * the open data's datos.json are: a second shared part that changes on every cut. */
static int g_json;
/* 1: the pages have PREP_CUT_PARTS_MAX parts (pre | stamp | 13 body blocks | post), as a
 * national section page is split per election; a changed page changes one block (WIDE_HOT). */
static int g_wide;
#define WIDE_HOT 7

/* Page i's body as g_wide blocks into body (their lengths into bl[]); returns how many. */
static size_t wide_body(int i, int seq, int changed_page, char *body, size_t cap, size_t *bl)
{
    size_t nb = PREP_CUT_PARTS_MAX - 3, at = 0;
    for (size_t j = 0; j < nb; j++) {
        int w = snprintf(body + at, cap - at, "%s<section><h2>Bloque %zu</h2><p>Secci\xC3\xB3n %d: %d votos</p>%040d</section>",
                         j ? "" : "</header><main>", j, i + 1, i == changed_page && j == WIDE_HOT ? 100 + seq : 7, 0);
        bl[j] = (size_t)w;
        at += (size_t)w;
    }
    return nb;
}

static void csite_make(csite *s, int seq, int changed_page)
{
    char stamp[128];
    snprintf(stamp, sizeof stamp, "<div class=\"corte\" data-corte=\"%d\">Corte %d, 23:%02d</div>", seq, seq, seq * 5);
    for (int i = 0; i < NPAGES; i++) {
        char pre[128], body[4096];
        size_t bl[PREP_CUT_PARTS_MAX], nb = 1;
        const char *post = "</main></body></html>\n";
        snprintf(pre, sizeof pre, "<!DOCTYPE html><title>Secci\xC3\xB3n %d</title><header>", i + 1);
        if (g_wide)
            nb = wide_body(i, seq, changed_page, body, sizeof body, bl);
        else
            snprintf(body, sizeof body, "</header><main><p>Secci\xC3\xB3n %d: %d votos</p>%0100d", i + 1,
                     i == changed_page ? 100 + seq : 7, 0);
        size_t a = strlen(pre), b = strlen(stamp), c = strlen(body), d = strlen(post);
        free(s->data[i]);
        s->data[i] = prep_xmalloc(a + b + c + d);
        memcpy(s->data[i], pre, a);
        memcpy(s->data[i] + a, stamp, b);
        memcpy(s->data[i] + a + b, body, c);
        memcpy(s->data[i] + a + b + c, post, d);
        s->len[i] = a + b + c + d;
        s->part[i][0] = a, s->part[i][1] = b;
        if (g_wide)
            memcpy(&s->part[i][2], bl, nb * sizeof *bl);
        else
            s->part[i][2] = c;
        s->part[i][2 + nb] = d;
        s->np[i] = (uint8_t)(3 + nb);
    }
    free(s->csv);
    s->csv = pathf("CLAVE|TOTAL\n22-0001-B|%d\n", seq);
    for (int i = 0; g_json && i < NPAGES; i++) {
        char head[96];
        snprintf(head, sizeof head, "{\"corte\":%d,\"instante\":\"2021-06-06T23:%02d:00-05:00\"", seq, seq * 5);
        free(s->json[i]);
        s->json[i] = pathf("%s,\"seccion\":%d,\"votos\":%d}\n", head, i + 1, i == changed_page ? 100 + seq : 7);
        s->json_head[i] = strlen(head);
    }
}

static void csite_free(csite *s)
{
    for (int i = 0; i < NPAGES; i++) free(s->data[i]), free(s->json[i]);
    free(s->csv);
    memset(s, 0, sizeof *s);
}

static prep_err csite_cut(const char *store, const csite *s, const prep_cut_seckey *k, prep_time at, prep_diags *d)
{
    prep_cut_file f[2 * NPAGES + 1];
    memset(f, 0, sizeof f);
    char paths[NPAGES][64], jpaths[NPAGES][64];
    for (int i = 0; i < NPAGES; i++) {
        snprintf(paths[i], sizeof paths[i], "gubernatura/seccion-%04d/index.html", i + 1);
        f[i].path = paths[i];
        f[i].data = s->data[i];
        f[i].len = s->len[i];
        f[i].n_parts = s->np[i];
        memcpy(f[i].part_len, s->part[i], sizeof s->part[i]);
    }
    f[NPAGES].path = "datos/gub.csv";
    f[NPAGES].data = s->csv;
    f[NPAGES].len = strlen(s->csv);
    size_t nf = NPAGES + 1;
    for (int i = 0; g_json && i < NPAGES; i++, nf++) {
        snprintf(jpaths[i], sizeof jpaths[i], "gubernatura/seccion-%04d/datos.json", i + 1);
        f[nf].path = jpaths[i];
        f[nf].data = s->json[i];
        f[nf].len = strlen(s->json[i]);
        f[nf].n_parts = 2;
        f[nf].part_len[0] = s->json_head[i];
        f[nf].part_len[1] = f[nf].len - s->json_head[i];
    }
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.elections = "gubernatura";
    p.instant = at;
    p.zone = "America/Mexico_City";
    p.valid_for = 3600;
    return prep_cut_make(store, &p, f, nf, k, NULL, d);
}

static int object_exists(const char *store, const char *sha)
{
    char p[4096];
    assert_int_equal(prep_cut_object_path(store, sha, p, sizeof p), 0);
    struct stat st;
    return lstat(p, &st) == 0;
}

/* ---------------------------------------------------------------- the manifest line */
static const char *H1 = "1111111111111111111111111111111111111111111111111111111111111111";
static const char *H2 = "2222222222222222222222222222222222222222222222222222222222222222";

static char *manifest_with(const char *entry_lines, unsigned long long size)
{
    return pathf("# prep-cut-manifest 1\n# process: qro2021\n# elections: gubernatura\n# sequence: 1\n"
                 "# instant: 2021-06-06T23:00:00-05:00\n# zone: America/Mexico_City\n# mode: live\n"
                 "# valid-until: 2021-06-07T00:00:00-05:00\n# previous: none\n# key: 0102030405060708\n"
                 "# files: 1\n# bytes: %llu\n#f %llu text/html; charset=utf-8\n%s# end\n",
                 size, size, entry_lines);
}

static void test_parse_parts(void **state)
{
    (void)state;
    char *lines = pathf("#p 3 %s 7 %s\n%s  a/index.html\n", H1, H2, H1);
    char *m = manifest_with(lines, 10);
    prep_cut_manifest pm;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_manifest_parse(m, strlen(m), NULL, "m", &pm, &d), PREP_OK);
    assert_int_equal(pm.n, 1);
    assert_int_equal(pm.entries[0].n_parts, 2);
    assert_int_equal(pm.entries[0].parts[0].size, 3);
    assert_string_equal(pm.entries[0].parts[1].sha256, H2);
    assert_int_equal(pm.entries[0].parts[1].size, 7);
    /* The writer (through a patch from an empty-ish base) gives the same line back. */
    prep_cut_manifest_free(&pm);
    free(m), free(lines);
    prep_diags_free(&d);
}

/* A "#p" line of n parts of each bytes (owned), hashes H1, H2, H1 ... */
static char *parts_line(size_t n, unsigned long long each)
{
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_buf_puts(&b, "#p"), PREP_OK);
    for (size_t k = 0; k < n; k++) assert_int_equal(prep_buf_printf(&b, " %llu %s", each, k % 2 ? H2 : H1), PREP_OK);
    assert_int_equal(prep_buf_puts(&b, "\n"), PREP_OK);
    return prep_buf_steal(&b, NULL);
}

/* PREP_CUT_PARTS_MAX parts are accepted, also when their line is longer than any other
 * line may be: 16 parts of 268,435,456 bytes (a 4 GiB file, the default limit) make a
 * "#p" line of 1,202 bytes (the limit was 1,104 with 4 parts). */
static void test_parse_sixteen_parts(void **state)
{
    (void)state;
    unsigned long long each = 268435456ULL;
    char *pl = parts_line(PREP_CUT_PARTS_MAX, each);
    assert_int_equal(strlen(pl) - 1, 2 + PREP_CUT_PARTS_MAX * (1 + 9 + 1 + 64));
    assert_true(strlen(pl) - 1 > PREP_CUT_PATH_MAX + 80);
    char *lines = pathf("%s%s  a/index.html\n", pl, H1);
    char *m = manifest_with(lines, each * PREP_CUT_PARTS_MAX);
    prep_cut_manifest pm;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_manifest_parse(m, strlen(m), NULL, "m", &pm, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(pm.entries[0].n_parts, PREP_CUT_PARTS_MAX);
    for (size_t k = 0; k < PREP_CUT_PARTS_MAX; k++) {
        assert_int_equal(pm.entries[0].parts[k].size, each);
        assert_string_equal(pm.entries[0].parts[k].sha256, k % 2 ? H2 : H1);
    }
    prep_cut_manifest_free(&pm);
    free(m), free(lines), free(pl);
    prep_diags_free(&d);
}

static void expect_bad(const char *parts_line, unsigned long long size, const char *kind)
{
    char *lines = pathf("%s%s  a/index.html\n", parts_line, H1);
    char *m = manifest_with(lines, size);
    prep_cut_manifest pm;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_manifest_parse(m, strlen(m), NULL, "m", &pm, &d);
    if (e == PREP_OK || !prep_diags_find(&d, kind)) {
        prep_diags_print(&d, stderr, 5);
        fail_msg("'%s' was not refused as %s", parts_line, kind);
    }
    assert_int_equal(d.v[0].line, 14); /* the "#p" line */
    assert_null(pm.entries);
    free(m), free(lines);
    prep_diags_free(&d);
}

static void test_parse_parts_refusals(void **state)
{
    (void)state;
    char *l;
    l = pathf("#p 10 %s\n", H1); /* one part is a plain file */
    expect_bad(l, 10, "manifest-field");
    free(l);
    l = pathf("#p 3 %s 6 %s\n", H1, H2); /* 3 + 6 = 9, not 10 */
    expect_bad(l, 10, "manifest-field");
    free(l);
    l = parts_line(PREP_CUT_PARTS_MAX + 1, 1); /* 17 parts: one more than the format allows */
    expect_bad(l, PREP_CUT_PARTS_MAX + 1, "manifest-field");
    free(l);
    l = pathf("#p 3 %.63sX 7 %s\n", H1, H2); /* not hex */
    expect_bad(l, 10, "manifest-syntax");
    free(l);
    l = pathf("#p 3 %s  7 %s\n", H1, H2); /* two spaces */
    expect_bad(l, 10, "manifest-field");
    free(l);
    l = pathf("#p 3 %s 7 %s \n", H1, H2); /* trailing space */
    expect_bad(l, 10, "manifest-syntax");
    free(l);
    l = pathf("#p -3 %s 13 %s\n", H1, H2);
    expect_bad(l, 10, "manifest-field");
    free(l);
    /* A "#p" line in place of the hash line of the next entry: the hash line is missing. */
    l = pathf("#p 3 %s 7 %s\n#p 3 %s 7 %s\n", H1, H2, H1, H2);
    char *m = manifest_with(l, 10);
    free(l);
    prep_cut_manifest pm;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_not_equal(prep_cut_manifest_parse(m, strlen(m), NULL, "m", &pm, &d), PREP_OK);
    assert_non_null(prep_diags_find(&d, "manifest-syntax"));
    prep_diags_free(&d);
    free(m);
}

/* ---------------------------------------------------------------- make, delta, patch, export */
typedef struct fx {
    char *t, *inst, *recv, *inc;
    prep_cut_seckey k;
    prep_cut_pubkey pk;
    prep_cut_policy pol;
    csite s;
    prep_diags d;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->t = tmpdir_new();
    f->inst = pathf("%s/inst", f->t);
    f->recv = pathf("%s/recv", f->t);
    f->inc = pathf("%s/incoming", f->t);
    key_from_seed(21, &f->k, &f->pk);
    prep_diags_init(&f->d);
    csite_make(&f->s, 1, -1);
    assert_int_equal(csite_cut(f->inst, &f->s, &f->k, T0, &f->d), PREP_OK);
    csite_make(&f->s, 2, 3); /* cut 2: a new stamp on every page, and page 4's numbers */
    assert_int_equal(csite_cut(f->inst, &f->s, &f->k, T0 + 300, &f->d), PREP_OK);
    policy_for(&f->pol, &f->pk, T0 + 400);
    deliver(f->inst, 1, f->recv, f->inc);
    assert_int_equal(prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &f->d), PREP_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    rm_rf(f->t);
    csite_free(&f->s);
    prep_diags_free(&f->d);
    free(f->t), free(f->inst), free(f->recv), free(f->inc);
    free(f);
    return 0;
}

static int setup_json(void **state)
{
    g_json = 1;
    return setup(state);
}

static int teardown_json(void **state)
{
    int r = teardown(state);
    g_json = 0;
    return r;
}

static void test_make_stores_parts(void **state)
{
    fx *f = *state;
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f->inst, 2, &m, NULL), PREP_OK);
    assert_int_equal(m.n, NPAGES + 1);
    const prep_cut_entry *csv = prep_cut_manifest_find(&m, "datos/gub.csv");
    assert_int_equal(csv->n_parts, 0);
    assert_true(object_exists(f->inst, csv->sha256));
    const prep_cut_entry *pg = prep_cut_manifest_find(&m, "gubernatura/seccion-0004/index.html");
    assert_int_equal(pg->n_parts, 4);
    assert_int_equal(pg->size, f->s.len[3]);
    char h[65];
    prep_sha256_hex(f->s.data[3], f->s.len[3], h);
    assert_string_equal(pg->sha256, h); /* the hash line is the assembled page's */
    assert_false(object_exists(f->inst, pg->sha256)); /* the page itself is not stored */
    for (size_t k = 0; k < 4; k++) assert_true(object_exists(f->inst, pg->parts[k].sha256));
    /* Every page of a cut shares one stamp object. */
    const prep_cut_entry *p1 = prep_cut_manifest_find(&m, "gubernatura/seccion-0001/index.html");
    assert_string_equal(p1->parts[1].sha256, pg->parts[1].sha256);
    /* Full delta against an empty store: 5 pre + 1 stamp + 5 bodies + 1 post + the csv. */
    prep_cut_delta dl;
    char *none = pathf("%s/none", f->t);
    assert_int_equal(prep_cut_delta_compute(none, &m, &dl), PREP_OK);
    assert_int_equal(dl.full_objects, 5 + 1 + 5 + 1 + 1);
    assert_int_equal(dl.n, dl.full_objects);
    prep_cut_delta_free(&dl);
    free(none);
    /* Against the broadcaster at cut 1: the new stamp, page 4's new body, the new csv. */
    assert_int_equal(prep_cut_delta_compute(f->recv, &m, &dl), PREP_OK);
    assert_int_equal(dl.n, 3);
    uint64_t want = pg->parts[1].size + pg->parts[2].size + csv->size;
    assert_int_equal(dl.bytes, want);
    prep_cut_delta_free(&dl);
    prep_cut_manifest_free(&m);
    /* verify re-hashes parts and assembles the pages. */
    prep_cut_verify_result r;
    assert_int_equal(prep_cut_verify(f->inst, 0, &f->pol, &r, &f->d), PREP_OK);
    assert_int_equal(r.cuts, 2);
}

static void test_make_refuses_bad_parts(void **state)
{
    fx *f = *state;
    prep_cut_file file = {.path = "x.html", .data = "abcdef", .len = 6, .n_parts = 2, .part_len = {2, 3}};
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.instant = T0 + 600;
    p.zone = "America/Mexico_City";
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    assert_int_equal(prep_cut_make(f->inst, &p, &file, 1, &f->k, NULL, &f->d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&f->d, "manifest-field"));
    file.n_parts = 1, file.part_len[0] = 6;
    assert_int_equal(prep_cut_make(f->inst, &p, &file, 1, &f->k, NULL, &f->d), PREP_ERR_INVALID);
    file.n_parts = 2, file.part_len[0] = SIZE_MAX, file.part_len[1] = 7; /* wraps to 6 */
    assert_int_equal(prep_cut_make(f->inst, &p, &file, 1, &f->k, NULL, &f->d), PREP_ERR_INVALID);
    assert_int_equal(active_seq(f->inst), 2);
}

static void test_receive_with_patch_and_export(void **state)
{
    fx *f = *state;
    assert_int_equal(deliver(f->inst, 2, f->recv, f->inc), 3);
    size_t pl = make_patch_delivery(f->inst, 2, f->inc);
    /* The patch carries the entries whose assembled hash changed (all pages) and the csv. */
    assert_true(pl > 0);
    prep_cut_result res;
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    prep_err e = prep_cut_receive(f->recv, f->inc, &f->pol, &res, &f->d);
    if (e) prep_diags_print(&f->d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(res.objects_copied, 3);
    assert_int_equal(active_seq(f->recv), 2);
    assert_int_equal(prep_cut_verify(f->recv, 0, &f->pol, NULL, &f->d), PREP_OK);
    /* Export assembles each page; stock sha256sum checks the tree (it skips "#p" lines). */
    char *out = pathf("%s/www", f->t);
    prep_cut_export_opts o;
    prep_cut_export_opts_init(&o);
    assert_int_equal(prep_cut_export(f->recv, out, &o, &f->d), PREP_OK);
    size_t n;
    char *pp = pathf("%s/gubernatura/seccion-0004/index.html", out);
    char *pg = read_all(pp, &n);
    free(pp);
    assert_int_equal(n, f->s.len[3]);
    assert_memory_equal(pg, f->s.data[3], n);
    free(pg);
    pp = pathf("%s/SHA256SUMS", out);
    char *sums = read_all(pp, &n);
    free(pp);
    assert_non_null(strstr(sums, "\n#p "));
    free(sums);
    assert_int_equal(sh("cd '%s' && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    assert_int_equal(sh("cd '%s/cortes/1' && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    free(out);
}

/* ---------------------------------------------------------------- attacks on parts */
static void expect_refused(fx *f, const char *kind)
{
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    prep_err e = prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &f->d);
    if (e != PREP_ERR_VERIFY || !prep_diags_find(&f->d, kind)) {
        prep_diags_print(&f->d, stderr, 5);
        fail_msg("expected refusal '%s', got %s", kind, prep_err_str(e));
    }
    char *line = log_last_line(f->recv);
    assert_non_null(strstr(line, "refused"));
    assert_non_null(strstr(line, kind));
    free(line);
    assert_int_equal(active_seq(f->recv), 1);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_verify(f->recv, 0, &f->pol, NULL, &d), PREP_OK);
    prep_diags_free(&d);
    /* and the honest cut is still accepted */
    deliver(f->inst, 2, f->recv, f->inc);
    assert_int_equal(prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &f->d), PREP_OK);
    assert_int_equal(active_seq(f->recv), 2);
}

/* Incoming path of cut 2's stamp part (shared by every page). */
static char *incoming_stamp(fx *f)
{
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f->inst, 2, &m, NULL), PREP_OK);
    char *p = pathf("%s/objects/%.2s/%s", f->inc, m.entries[1].parts[1].sha256, m.entries[1].parts[1].sha256 + 2);
    prep_cut_manifest_free(&m);
    return p;
}

static void test_part_flipped(void **state)
{
    fx *f = *state;
    deliver(f->inst, 2, f->recv, f->inc);
    char *p = incoming_stamp(f);
    size_t n;
    char *b = read_all(p, &n);
    b[n / 2] ^= 1;
    unlink(p);
    write_bytes(p, b, n);
    free(b), free(p);
    expect_refused(f, "hash-mismatch");
}

static void test_part_missing(void **state)
{
    fx *f = *state;
    deliver(f->inst, 2, f->recv, f->inc);
    char *p = incoming_stamp(f);
    assert_int_equal(unlink(p), 0);
    free(p);
    expect_refused(f, "missing-object");
}

/* The institute's key signs a manifest whose parts do not make the page it names (a
 * renderer or signer bug, or a stolen key used carelessly): refused all the same. */
static void test_parts_assemble_to_wrong_hash(void **state)
{
    fx *f = *state;
    deliver(f->inst, 2, f->recv, f->inc);
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f->inst, 2, &m, NULL), PREP_OK);
    /* Swap page 1's pre and body parts in its "#p" line: same sizes in sum, other bytes. */
    const prep_cut_entry *e = prep_cut_manifest_find(&m, "gubernatura/seccion-0001/index.html");
    char *from = pathf("#p %llu %s %llu %s %llu %s %llu %s\n", (unsigned long long)e->parts[0].size,
                       e->parts[0].sha256, (unsigned long long)e->parts[1].size, e->parts[1].sha256,
                       (unsigned long long)e->parts[2].size, e->parts[2].sha256,
                       (unsigned long long)e->parts[3].size, e->parts[3].sha256);
    char *to = pathf("#p %llu %s %llu %s %llu %s %llu %s\n", (unsigned long long)e->parts[2].size,
                     e->parts[2].sha256, (unsigned long long)e->parts[1].size, e->parts[1].sha256,
                     (unsigned long long)e->parts[0].size, e->parts[0].sha256,
                     (unsigned long long)e->parts[3].size, e->parts[3].sha256);
    char *at = strstr(m.raw, from);
    assert_non_null(at);
    memcpy(at, to, strlen(to));
    char *mp = pathf("%s/cuts/2/manifest", f->inc), *sp = pathf("%s.sig", mp);
    write_bytes(mp, m.raw, m.raw_len);
    prep_cut_sig sig;
    assert_int_equal(prep_cut_sign(&f->k, m.raw, m.raw_len, &sig), PREP_OK);
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_cut_sig_format(&sig, "parts swapped", &b), PREP_OK);
    write_bytes(sp, b.data, b.len);
    prep_buf_free(&b);
    free(mp), free(sp), free(from), free(to);
    prep_cut_manifest_free(&m);
    expect_refused(f, "parts-mismatch");
}

/* A part damaged inside a store: verify names it, export refuses to publish the page. */
static void test_store_part_damaged(void **state)
{
    fx *f = *state;
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f->inst, 2, &m, NULL), PREP_OK);
    const prep_cut_entry *e = prep_cut_manifest_find(&m, "gubernatura/seccion-0004/index.html");
    char p[4096];
    assert_int_equal(prep_cut_object_path(f->inst, e->parts[2].sha256, p, sizeof p), 0);
    prep_cut_manifest_free(&m);
    size_t n;
    char *b = read_all(p, &n);
    b[0] ^= 0x20;
    chmod(p, 0644);
    unlink(p);
    write_bytes(p, b, n);
    free(b);
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    assert_int_equal(prep_cut_verify(f->inst, 2, &f->pol, NULL, &f->d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&f->d, "hash-mismatch"));
    char *out = pathf("%s/www", f->t);
    prep_cut_export_opts o;
    prep_cut_export_opts_init(&o);
    assert_int_equal(prep_cut_export(f->inst, out, &o, &f->d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&f->d, "parts-mismatch"));
    free(out);
}

/* ---------------------------------------------------------------- the "#s" substitution */
/* An entry's lines as a manifest writes them (written here, not by the library). */
static int cut_entry_text(const prep_cut_entry *e, prep_buf *b)
{
    prep_err r = prep_buf_printf(b, "#f %llu %s\n#p", (unsigned long long)e->size, e->media_type);
    for (size_t k = 0; k < e->n_parts && !r; k++)
        r = prep_buf_printf(b, " %llu %s", (unsigned long long)e->parts[k].size, e->parts[k].sha256);
    if (!r) r = prep_buf_printf(b, "\n%s  %s\n", e->sha256, e->path);
    return r ? -1 : 0;
}

/* The honest patch of cut 2 against cut 1 (owned). */
static char *honest_patch(fx *f, size_t *n)
{
    deliver(f->inst, 2, f->recv, f->inc);
    make_patch_delivery(f->inst, 2, f->inc);
    char *pp = pathf("%s/cuts/2/manifest.patch", f->inc);
    char *b = read_all(pp, n);
    free(pp);
    return b;
}

/* Cut 2's stamp (new) and cut 1's (old), from page 1's parts. */
static void stamps(fx *f, prep_cut_part *old_stamp, prep_cut_part *new_stamp, prep_cut_part *pre1)
{
    prep_cut_manifest m1, m2;
    assert_int_equal(prep_cut_load(f->inst, 1, &m1, NULL), PREP_OK);
    assert_int_equal(prep_cut_load(f->inst, 2, &m2, NULL), PREP_OK);
    const prep_cut_entry *a = prep_cut_manifest_find(&m1, "gubernatura/seccion-0001/index.html");
    const prep_cut_entry *b = prep_cut_manifest_find(&m2, "gubernatura/seccion-0001/index.html");
    *old_stamp = a->parts[1];
    *new_stamp = b->parts[1];
    if (pre1) *pre1 = a->parts[0];
    prep_cut_manifest_free(&m1);
    prep_cut_manifest_free(&m2);
}

static size_t count_str(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
    return n;
}

static void test_subst_patch_accepted(void **state)
{
    fx *f = *state;
    size_t n;
    char *patch = honest_patch(f, &n);
    prep_cut_part o, w;
    stamps(f, &o, &w, NULL);
    /* One substitution line (cut 1's stamp becomes cut 2's) and only two entries listed:
     * page 4 (its body changed) and the csv; pages 1, 2, 3 and 5 come from the "#s". */
    char *line = pathf("\n#s %s %llu %s\n", o.sha256, (unsigned long long)w.size, w.sha256);
    assert_non_null(strstr(patch, line));
    free(line);
    assert_int_equal(count_str(patch, "\n#f "), 2);
    assert_non_null(strstr(patch, "  gubernatura/seccion-0004/index.html\n"));
    assert_null(strstr(patch, "seccion-0001"));
    /* Rebuilt byte-exact from the receiver's store and the delivered stamp object. */
    prep_cut_manifest m1, m2;
    assert_int_equal(prep_cut_load(f->recv, 1, &m1, NULL), PREP_OK);
    assert_int_equal(prep_cut_load(f->inst, 2, &m2, NULL), PREP_OK);
    /* The part it needs, read from its head before any object is at hand (a pull
     * broadcaster fetches it first); refused for another base. */
    char neu[PREP_CUT_SUBST_MAX][65];
    uint64_t nsize[PREP_CUT_SUBST_MAX];
    size_t nn = 9;
    assert_int_equal(prep_cut_manifest_patch_subst(m1.sha256, patch, n, NULL, "p", neu, nsize, &nn, &f->d), PREP_OK);
    assert_int_equal(nn, 1);
    assert_string_equal(neu[0], w.sha256);
    assert_int_equal(nsize[0], w.size);
    assert_int_equal(prep_cut_manifest_patch_subst(m2.sha256, patch, n, NULL, "p", neu, nsize, &nn, &f->d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&f->d, "patch-base"));
    assert_int_equal(nn, 0);
    const char *roots[2] = {f->recv, f->inc};
    prep_buf out;
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    assert_int_equal(prep_cut_manifest_patch_objects(&m1, patch, n, NULL, roots, 2, "p", &out, &f->d), PREP_OK);
    assert_int_equal(out.len, m2.raw_len);
    assert_memory_equal(out.data, m2.raw, out.len);
    prep_buf_free(&out);
    /* Without the incoming area the new stamp is missing; without objects at all, too. */
    assert_int_equal(prep_cut_manifest_patch_objects(&m1, patch, n, NULL, roots, 1, "p", &out, &f->d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&f->d, "missing-object"));
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    assert_int_equal(prep_cut_manifest_patch(&m1, patch, n, NULL, "p", &out, &f->d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&f->d, "missing-object"));
    prep_cut_manifest_free(&m1);
    /* And the receiver accepts it: the stored manifest is the signed one, byte for byte. */
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    prep_err e = prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &f->d);
    if (e) prep_diags_print(&f->d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f->recv), 2);
    char *mp = pathf("%s/cuts/2/manifest", f->recv);
    size_t ml;
    char *mb = read_all(mp, &ml);
    assert_int_equal(ml, m2.raw_len);
    assert_memory_equal(mb, m2.raw, ml);
    free(mb), free(mp);
    prep_cut_manifest_free(&m2);
    assert_int_equal(prep_cut_verify(f->recv, 0, &f->pol, NULL, &f->d), PREP_OK);
    free(patch);
}

/* Two shared per-cut parts (the pages' stamp and the JSON files' head): two "#s" lines, and
 * of the entries only page 4 and its JSON (their bodies changed) and the csv are listed;
 * the receiver rebuilds the signed manifest byte for byte and accepts the cut. */
static void test_subst_two_parts(void **state)
{
    fx *f = *state;
    size_t n;
    char *patch = honest_patch(f, &n);
    assert_int_equal(count_str(patch, "\n#s "), 2);
    assert_int_equal(count_str(patch, "\n#f "), 3);
    assert_non_null(strstr(patch, "  gubernatura/seccion-0004/datos.json\n"));
    assert_null(strstr(patch, "seccion-0001"));
    prep_cut_manifest m1, m2;
    assert_int_equal(prep_cut_load(f->recv, 1, &m1, NULL), PREP_OK);
    assert_int_equal(prep_cut_load(f->inst, 2, &m2, NULL), PREP_OK);
    char neu[PREP_CUT_SUBST_MAX][65];
    uint64_t nsize[PREP_CUT_SUBST_MAX];
    size_t nn = 0;
    assert_int_equal(prep_cut_manifest_patch_subst(m1.sha256, patch, n, NULL, "p", neu, nsize, &nn, &f->d), PREP_OK);
    assert_int_equal(nn, 2);
    const prep_cut_entry *j2 = prep_cut_manifest_find(&m2, "gubernatura/seccion-0002/datos.json");
    const prep_cut_entry *p2 = prep_cut_manifest_find(&m2, "gubernatura/seccion-0002/index.html");
    assert_true((!strcmp(neu[0], j2->parts[0].sha256) && !strcmp(neu[1], p2->parts[1].sha256)) ||
                (!strcmp(neu[1], j2->parts[0].sha256) && !strcmp(neu[0], p2->parts[1].sha256)));
    const char *roots[2] = {f->recv, f->inc};
    prep_buf out;
    assert_int_equal(prep_cut_manifest_patch_objects(&m1, patch, n, NULL, roots, 2, "p", &out, &f->d), PREP_OK);
    assert_int_equal(out.len, m2.raw_len);
    assert_memory_equal(out.data, m2.raw, out.len);
    prep_buf_free(&out);
    prep_cut_manifest_free(&m1);
    prep_cut_manifest_free(&m2);
    prep_err e = prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &f->d);
    if (e) prep_diags_print(&f->d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f->recv), 2);
    free(patch);
}

/* A patch naming one part twice, or with more "#s" lines than PREP_CUT_SUBST_MAX, is
 * refused before anything is rebuilt. */
static void test_subst_lines_refused(void **state)
{
    fx *f = *state;
    size_t n;
    char *patch = honest_patch(f, &n);
    char *first = strstr(patch, "\n#s ");
    assert_non_null(first);
    char *eol = strchr(first + 1, '\n');
    size_t ll = (size_t)(eol - first); /* "\n#s ...", without its own end */
    prep_cut_manifest m1;
    assert_int_equal(prep_cut_load(f->recv, 1, &m1, NULL), PREP_OK);
    for (int extra = 1; extra <= PREP_CUT_SUBST_MAX; extra += PREP_CUT_SUBST_MAX - 1) {
        /* the first line repeated `extra` times after itself */
        prep_buf b;
        prep_buf_init(&b, 0);
        prep_buf_append(&b, patch, (size_t)(eol - patch));
        for (int k = 0; k < extra; k++) prep_buf_append(&b, first, ll);
        prep_buf_append(&b, eol, n - (size_t)(eol - patch));
        assert_int_equal(prep_buf_err(&b), PREP_OK);
        char neu[PREP_CUT_SUBST_MAX][65];
        uint64_t nsize[PREP_CUT_SUBST_MAX];
        size_t nn = 0;
        prep_diags_free(&f->d);
        prep_diags_init(&f->d);
        assert_int_equal(prep_cut_manifest_patch_subst(m1.sha256, b.data, b.len, NULL, "p", neu, nsize, &nn, &f->d),
                         PREP_ERR_PARSE);
        assert_non_null(prep_diags_find(&f->d, "patch-syntax"));
        prep_buf_free(&b);
    }
    prep_cut_manifest_free(&m1);
    free(patch);
}

/* Writes the honest patch with `from` replaced by `to` (first occurrence) and expects
 * the receiver to refuse it as `kind`. */
static void lie(fx *f, const char *from, const char *to, const char *kind)
{
    size_t n;
    char *patch = honest_patch(f, &n);
    char *at = strstr(patch, from);
    assert_non_null(at);
    char *lying = pathf("%.*s%s%s", (int)(at - patch), patch, to, at + strlen(from));
    char *pp = pathf("%s/cuts/2/manifest.patch", f->inc);
    unlink(pp);
    write_bytes(pp, lying, strlen(lying));
    free(pp), free(lying), free(patch);
    expect_refused(f, kind);
}

static char *subst_line(const prep_cut_part *old, uint64_t size, const char *neu)
{
    return pathf("#s %s %llu %s\n", old->sha256, (unsigned long long)size, neu);
}

/* Each lie on a fresh fixture (expect_refused ends by accepting the honest cut 2). */
static char *honest_line(fx *f, prep_cut_part *o, prep_cut_part *w, prep_cut_part *pre)
{
    stamps(f, o, w, pre);
    return subst_line(o, w->size, w->sha256);
}

/* Wrong S2: an object the receiver holds (page 1's pre), with its true size: every
 * substituted page assembles to other bytes, so the rebuilt manifest is not the result. */
static void test_subst_lie_wrong_new_part(void **state)
{
    fx *f = *state;
    prep_cut_part o, w, pre;
    char *honest = honest_line(f, &o, &w, &pre), *l = subst_line(&o, pre.size, pre.sha256);
    lie(f, honest, l, "patch-mismatch");
    free(l), free(honest);
}

/* The right S2 with a wrong size: refused before anything is assembled. */
static void test_subst_lie_wrong_size(void **state)
{
    fx *f = *state;
    prep_cut_part o, w;
    char *honest = honest_line(f, &o, &w, NULL), *l = subst_line(&o, w.size + 1, w.sha256);
    lie(f, honest, l, "patch-mismatch");
    free(l), free(honest);
}

/* An S1 that is not the entries' old part: nothing is substituted, so the pages keep
 * cut 1's hash lines and the rebuilt manifest is not the signed one. */
static void test_subst_lie_wrong_old_part(void **state)
{
    fx *f = *state;
    prep_cut_part o, w;
    char *honest = honest_line(f, &o, &w, NULL);
    prep_cut_part fake = o;
    memcpy(fake.sha256, H1, 65);
    char *l = subst_line(&fake, w.size, w.sha256);
    lie(f, honest, l, "patch-mismatch");
    free(l), free(honest);
}

/* An S2 that was neither delivered nor held. */
static void test_subst_lie_unknown_new_part(void **state)
{
    fx *f = *state;
    prep_cut_part o, w;
    char *honest = honest_line(f, &o, &w, NULL), *l = pathf("#s %s %llu %s\n", o.sha256, (unsigned long long)w.size, H2);
    lie(f, honest, l, "missing-object");
    free(l), free(honest);
}

/* An entry the op must not cover (page 4: its body changed too) dropped from the
 * explicit operations: the substitution alone makes the wrong page 4. */
static void test_subst_lie_entry_dropped(void **state)
{
    fx *f = *state;
    prep_cut_manifest m2;
    assert_int_equal(prep_cut_load(f->inst, 2, &m2, NULL), PREP_OK);
    prep_buf eb;
    prep_buf_init(&eb, 0);
    assert_int_equal(cut_entry_text(prep_cut_manifest_find(&m2, "gubernatura/seccion-0004/index.html"), &eb), 0);
    prep_cut_manifest_free(&m2);
    lie(f, eb.data, "", "patch-mismatch");
    prep_buf_free(&eb);
}

/* A malformed "#s" line. */
static void test_subst_lie_syntax(void **state)
{
    fx *f = *state;
    prep_cut_part o, w;
    char *honest = honest_line(f, &o, &w, NULL), *l = pathf("#s %s %llu\n", o.sha256, (unsigned long long)w.size);
    lie(f, honest, l, "patch-syntax");
    free(l), free(honest);
}

/* The honest patch, but the new stamp object missing from the delivery. */
static void test_subst_stamp_missing(void **state)
{
    fx *f = *state;
    size_t n;
    free(honest_patch(f, &n));
    char *p = incoming_stamp(f);
    assert_int_equal(unlink(p), 0);
    free(p);
    expect_refused(f, "missing-object");
}

/* The honest patch, but the delivered stamp object has other bytes. */
static void test_subst_stamp_flipped(void **state)
{
    fx *f = *state;
    size_t n;
    free(honest_patch(f, &n));
    char *p = incoming_stamp(f);
    char *b = read_all(p, &n);
    assert_non_null(b);
    b[0] ^= 1;
    unlink(p);
    write_bytes(p, b, n);
    free(b), free(p);
    expect_refused(f, "hash-mismatch");
}

/* ---------------------------------------------------------------- PREP_CUT_PARTS_MAX parts */
static int setup_wide(void **state)
{
    g_wide = 1;
    return setup(state);
}

static int teardown_wide(void **state)
{
    int r = teardown(state);
    g_wide = 0;
    return r;
}

/* The whole gzip member p[0..n) inflated (owned), checked to end where the file does. */
static char *gunzip_all(const unsigned char *p, size_t n, size_t *outn)
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
    assert_int_equal(z.avail_in, 0);
    *outn = cap - z.avail_out;
    inflateEnd(&z);
    return o;
}

/* Pages of 16 parts, end to end: made (one object per part, the stamp shared), delivered
 * with a "#s" patch (cut 2 changes the stamp and one block of page 4: three new objects),
 * received, verified, exported (the page and its gzip twin, made of one deflate chunk per
 * part, inflate to the page; stock gzip -t and sha256sum agree), and served (identity and
 * gzip). The expected bytes are the pages csite_make wrote, not anything read back. */
static void test_sixteen_parts_round_trip(void **state)
{
    fx *f = *state;
    const char *p4 = "gubernatura/seccion-0004/index.html";
    prep_cut_manifest m1, m2;
    assert_int_equal(prep_cut_load(f->inst, 1, &m1, NULL), PREP_OK);
    assert_int_equal(prep_cut_load(f->inst, 2, &m2, NULL), PREP_OK);
    const prep_cut_entry *a = prep_cut_manifest_find(&m1, p4), *b = prep_cut_manifest_find(&m2, p4);
    assert_int_equal(b->n_parts, PREP_CUT_PARTS_MAX);
    assert_int_equal(b->size, f->s.len[3]);
    for (size_t k = 0; k < PREP_CUT_PARTS_MAX; k++) {
        assert_int_equal(b->parts[k].size, f->s.part[3][k]);
        assert_true(object_exists(f->inst, b->parts[k].sha256));
        /* only the stamp (1) and the changed block differ from cut 1 */
        int same = !strcmp(a->parts[k].sha256, b->parts[k].sha256);
        assert_int_equal(same, !(k == 1 || k == 2 + WIDE_HOT));
    }
    /* The broadcaster at cut 1 lacks the new stamp, page 4's new block and the csv. */
    prep_cut_delta dl;
    assert_int_equal(prep_cut_delta_compute(f->recv, &m2, &dl), PREP_OK);
    assert_int_equal(dl.n, 3);
    const prep_cut_entry *csv = prep_cut_manifest_find(&m2, "datos/gub.csv");
    assert_int_equal(dl.bytes, b->parts[1].size + b->parts[2 + WIDE_HOT].size + csv->size);
    prep_cut_delta_free(&dl);
    /* The patch: one "#s" (the stamp) and two entries (page 4, the csv). */
    size_t n;
    char *patch = honest_patch(f, &n);
    char *line = pathf("\n#s %s %llu %s\n", a->parts[1].sha256, (unsigned long long)b->parts[1].size,
                       b->parts[1].sha256);
    assert_non_null(strstr(patch, line));
    free(line);
    assert_int_equal(count_str(patch, "\n#s "), 1);
    assert_int_equal(count_str(patch, "\n#f "), 2);
    free(patch);
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    prep_err e = prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &f->d);
    if (e) prep_diags_print(&f->d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f->recv), 2);
    char *mp = pathf("%s/cuts/2/manifest", f->recv);
    size_t ml;
    char *mb = read_all(mp, &ml);
    assert_int_equal(ml, m2.raw_len);
    assert_memory_equal(mb, m2.raw, ml); /* rebuilt byte for byte through the "#s" */
    free(mb), free(mp);
    assert_int_equal(prep_cut_verify(f->recv, 0, &f->pol, NULL, &f->d), PREP_OK);
    prep_cut_manifest_free(&m1);
    prep_cut_manifest_free(&m2);

    /* export: the assembled page and its gzip twin */
    char *out = pathf("%s/www", f->t);
    prep_cut_export_opts o;
    prep_cut_export_opts_init(&o);
    assert_int_equal(prep_cut_export(f->recv, out, &o, &f->d), PREP_OK);
    for (int i = 0; i < NPAGES; i++) {
        char *pp = pathf("%s/gubernatura/seccion-%04d/index.html", out, i + 1);
        char *pg = read_all(pp, &n);
        assert_int_equal(n, f->s.len[i]);
        assert_memory_equal(pg, f->s.data[i], n);
        free(pg);
        char *gp = pathf("%s.gz", pp);
        unsigned char *gz = (unsigned char *)read_all(gp, &n);
        size_t pn;
        char *plain = gunzip_all(gz, n, &pn);
        assert_int_equal(pn, f->s.len[i]);
        assert_memory_equal(plain, f->s.data[i], pn);
        assert_int_equal(sh("gzip -t '%s'", gp), 0);
        free(plain), free(gz), free(gp), free(pp);
    }
    assert_int_equal(sh("cd '%s' && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    free(out);

    /* serve: the page held as its 16 parts, answered whole and gzip */
    prep_serve_site_opts so;
    prep_serve_site_opts_init(&so);
    so.https = 1;
    so.threads = 2;
    so.br_warm = 0;
    prep_serve_version *v = NULL;
    e = prep_serve_version_load(f->recv, 0, NULL, &so, &v, &f->d);
    if (e) prep_diags_print(&f->d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    prep_serve_version_info info;
    prep_serve_version_get_info(v, &info);
    /* distinct parts: 5 pre + 1 stamp + 1 post (the same on every page) + 13 blocks per
     * page (each names its page and block) */
    assert_int_equal(info.parts, NPAGES + 1 + 1 + NPAGES * (PREP_CUT_PARTS_MAX - 3));
    for (int gzip = 0; gzip < 2; gzip++) {
        prep_http_request q;
        memset(&q, 0, sizeof q);
        q.method = PREP_HTTP_GET;
        q.path = (prep_http_slice){"/gubernatura/seccion-0004/index.html", strlen("/gubernatura/seccion-0004/index.html")};
        if (gzip) q.accept_encoding = (prep_http_slice){"gzip", 4};
        q.now = PREP_TIME_NONE;
        prep_http_response r;
        prep_serve_respond(v, &q, &r);
        assert_int_equal(r.status, 200);
        size_t pn = (size_t)r.body_len;
        char *plain = gzip ? gunzip_all(r.body, (size_t)r.body_len, &pn) : NULL;
        assert_int_equal(pn, f->s.len[3]);
        assert_memory_equal(gzip ? plain : (const char *)r.body, f->s.data[3], pn);
        free(plain);
        prep_http_response_done(&r);
    }
    prep_serve_version_unref(v);
}

/* prep_cut_make refuses a file of PREP_CUT_PARTS_MAX + 1 parts (it cannot even say them:
 * prep_cut_file has room for PREP_CUT_PARTS_MAX) and takes one of PREP_CUT_PARTS_MAX. */
static void test_make_parts_limit(void **state)
{
    fx *f = *state;
    char data[64];
    memset(data, 'x', sizeof data);
    prep_cut_file file = {.path = "x.html", .data = data, .len = PREP_CUT_PARTS_MAX, .n_parts = PREP_CUT_PARTS_MAX + 1};
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.allow_shrink = 1; /* one file after the fixture's cuts of six */
    p.instant = T0 + 600;
    p.zone = "America/Mexico_City";
    for (size_t k = 0; k < PREP_CUT_PARTS_MAX; k++) file.part_len[k] = 1;
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    assert_int_equal(prep_cut_make(f->inst, &p, &file, 1, &f->k, NULL, &f->d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&f->d, "manifest-field"));
    file.n_parts = PREP_CUT_PARTS_MAX;
    prep_err e = prep_cut_make(f->inst, &p, &file, 1, &f->k, NULL, &f->d);
    if (e) prep_diags_print(&f->d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f->inst, 0, &m, NULL), PREP_OK);
    assert_int_equal(m.entries[0].n_parts, PREP_CUT_PARTS_MAX);
    prep_cut_manifest_free(&m);
}

/* A part several files share is put once, however far apart they are (a page and its
 * embedded twin carry the same body, thousands of files apart): 40 composed files, each
 * with a part of its own and the one part they all share, and that part then as a plain
 * file of its own. The io hook counts each object's rename into objects/. */
typedef struct rename_count {
    char shared[65];
    int shared_renames, renames;
} rename_count;

static int count_renames(void *ctx, const char *op, const char *path)
{
    rename_count *c = ctx;
    if (!strcmp(op, "rename") && strlen(path) == 64) {
        c->renames++;
        if (!strcmp(path, c->shared)) c->shared_renames++;
    }
    return 0;
}

static void test_make_puts_shared_part_once(void **state)
{
    fx *f = *state;
    enum { NF = 40 };
    static const char shared[] = "<footer>the same bytes in every file</footer>";
    char data[NF + 1][128], paths[NF + 1][32];
    prep_cut_file files[NF + 1];
    memset(files, 0, sizeof files);
    for (int i = 0; i < NF; i++) {
        int n = snprintf(data[i], sizeof data[i], "<main>page %d</main>%s", i, shared);
        snprintf(paths[i], sizeof paths[i], "p%02d/index.html", i);
        files[i] = (prep_cut_file){.path = paths[i], .data = data[i], .len = (size_t)n, .n_parts = 2};
        files[i].part_len[0] = (size_t)n - strlen(shared);
        files[i].part_len[1] = strlen(shared);
    }
    snprintf(data[NF], sizeof data[NF], "%s", shared);
    snprintf(paths[NF], sizeof paths[NF], "zz.txt");
    files[NF] = (prep_cut_file){.path = paths[NF], .data = data[NF], .len = strlen(shared)};
    rename_count c = {{0}, 0, 0};
    prep_sha256_hex(shared, strlen(shared), c.shared);
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.instant = T0 + 600;
    p.zone = "America/Mexico_City";
    char *store = pathf("%s/shared", f->t);
    prep_cut_set_io_hook(count_renames, &c);
    prep_err e = prep_cut_make(store, &p, files, NF + 1, &f->k, NULL, &f->d);
    prep_cut_set_io_hook(NULL, NULL);
    if (e) prep_diags_print(&f->d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(c.shared_renames, 1);
    assert_int_equal(c.renames, NF + 1); /* the 40 own parts and the shared one */
    assert_true(object_exists(store, c.shared));
    prep_cut_verify_result r;
    assert_int_equal(prep_cut_verify(store, 0, &f->pol, &r, &f->d), PREP_OK);
    free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_parts),
        cmocka_unit_test(test_parse_parts_refusals),
        cmocka_unit_test(test_parse_sixteen_parts),
        cmocka_unit_test_setup_teardown(test_make_stores_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_make_puts_shared_part_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_make_refuses_bad_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_with_patch_and_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_part_flipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_part_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parts_assemble_to_wrong_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_part_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_patch_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_lie_wrong_new_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_lie_wrong_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_lie_wrong_old_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_lie_unknown_new_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_lie_entry_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_lie_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_stamp_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_stamp_flipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_two_parts, setup_json, teardown_json),
        cmocka_unit_test_setup_teardown(test_subst_lines_refused, setup_json, teardown_json),
        cmocka_unit_test_setup_teardown(test_sixteen_parts_round_trip, setup_wide, teardown_wide),
        cmocka_unit_test_setup_teardown(test_make_parts_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

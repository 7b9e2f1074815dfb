/* The institute's wire cache (prep_cut_wire_prepare, src/cut/wire.c): which objects get a
 * .gz (new in the cut, compressible, smaller), that each inflates (by zlib itself, not the
 * program) to its object, that the patch's .gz is the patch, that a second call makes
 * nothing, that a crash before the sync leaves no .gz visible, that the store's retention
 * removes the .gz of the objects it removes, and that a delivery made of the .gz forms
 * (what push uploads) is accepted by prep_cut_receive. */
#include "test_cut_util.h"

#include <zlib.h>

#include "prep/deliver.h"

typedef struct fx {
    char *t, *inst, *recv, *inc;
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    prep_cut_policy pol;
    site s;
} fx;

static const char pad[] = "relleno de una pagina de seccion: casillas, votos y actas, repetido para que valga "
                          "la pena comprimirlo; relleno de una pagina de seccion: casillas, votos y actas.";

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->t = tmpdir_new();
    f->inst = pathf("%s/inst", f->t);
    f->recv = pathf("%s/recv", f->t);
    f->inc = pathf("%s/incoming", f->t);
    key_from_seed(21, &f->sk, &f->pk);
    site_init(&f->s, 8);
    /* small and binary-typed files beside the pages: never compressed */
    site_set(&f->s, "a.txt", "corto");
    site_set(&f->s, "img/logo.png", "\x89PNG%s%s", pad, pad);
    uint64_t seq;
    assert_int_equal(make_cut(f->inst, &f->s, &f->sk, PREP_CUT_LIVE, T0, 3600, &seq, NULL), PREP_OK);
    site_set(&f->s, "gubernatura/seccion-0002/index.html", "<p>2 actas</p>%s", pad);
    site_set(&f->s, "gubernatura/seccion-0005/index.html", "<p>5 actas</p>%s", pad);
    site_set(&f->s, "datos/QRO_GUB_2021.csv", "CLAVE_CASILLA|TOTAL\n22-0002-B|310\n22-0005-B|290\n");
    assert_int_equal(make_cut(f->inst, &f->s, &f->sk, PREP_CUT_LIVE, T0 + 300, 3600, &seq, NULL), PREP_OK);
    policy_for(&f->pol, &f->pk, T0 + 400);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    rm_rf(f->t);
    site_free(&f->s);
    free(f->t), free(f->inst), free(f->recv), free(f->inc);
    free(f);
    return 0;
}

static char *zlib_gunzip(const char *in, size_t n, size_t *outn)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 31), Z_OK);
    size_t cap = 1u << 22;
    char *o = malloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)o;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_in, 0);
    *outn = cap - z.avail_out;
    inflateEnd(&z);
    return o;
}

static prep_err prepare(fx *f, uint64_t seq, prep_cut_wire_result *r)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_wire_prepare(f->inst, seq, 0, r, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    prep_diags_free(&d);
    return e;
}

/* Number of .gz files under STORE/wire/aa/. */
static int gz_count(const char *store)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "find %s/wire -path '*/wire/[0-9a-f][0-9a-f]/*.gz' -type f 2>/dev/null | wc -l", store);
    FILE *p = popen(cmd, "r");
    int n = -1;
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static void test_what_is_compressed(void **state)
{
    fx *f = *state;
    prep_cut_wire_result r;
    assert_int_equal(prepare(f, 2, &r), PREP_OK);
    /* cut 2's new objects, counted from the manifests: two pages and the CSV */
    prep_cut_manifest m1, m2;
    assert_int_equal(prep_cut_load(f->inst, 1, &m1, NULL), PREP_OK);
    assert_int_equal(prep_cut_load(f->inst, 2, &m2, NULL), PREP_OK);
    size_t fresh = 0;
    for (size_t i = 0; i < m2.n; i++) {
        const prep_cut_entry *o = prep_cut_manifest_find(&m1, m2.entries[i].path);
        if (!o || strcmp(o->sha256, m2.entries[i].sha256)) fresh++;
    }
    assert_int_equal(fresh, 3);
    assert_int_equal(r.objects, 3);
    /* the pages (over 128 bytes, HTML) get a .gz; the 45-byte CSV is too small */
    assert_int_equal(r.compressed, 2);
    assert_int_equal(r.skipped, 1);
    assert_int_equal(gz_count(f->inst), 2);
    for (size_t i = 0; i < m2.n; i++) {
        const prep_cut_entry *en = &m2.entries[i];
        char gp[4096];
        struct stat st;
        assert_int_equal(prep_cut_wire_object_path(f->inst, en->sha256, gp, sizeof gp), 0);
        if (stat(gp, &st) != 0) continue;
        assert_true((uint64_t)st.st_size < en->size);
        size_t gn, rn;
        char *g = read_all(gp, &gn), *raw = zlib_gunzip(g, gn, &rn);
        char hex[65];
        prep_sha256_hex(raw, rn, hex);
        assert_int_equal(rn, en->size);
        assert_string_equal(hex, en->sha256);
        free(g), free(raw);
    }
    /* the patch's .gz is the patch from cut 1 */
    char pp[4096];
    assert_int_equal(prep_cut_wire_patch_path(f->inst, 2, pp, sizeof pp), 0);
    size_t gn, rn;
    char *g = read_all(pp, &gn);
    assert_non_null(g);
    char *raw = zlib_gunzip(g, gn, &rn);
    prep_buf want;
    prep_buf_init(&want, 0);
    assert_int_equal(prep_cut_manifest_diff(&m1, &m2, &want), PREP_OK);
    assert_int_equal(rn, want.len);
    assert_memory_equal(raw, want.data, rn);
    assert_int_equal(r.patch_bytes, want.len);
    assert_int_equal(r.patch_gz_bytes, gn);
    free(g), free(raw);
    prep_buf_free(&want);
    prep_cut_manifest_free(&m1);
    prep_cut_manifest_free(&m2);
    /* a second call makes nothing */
    assert_int_equal(prepare(f, 2, &r), PREP_OK);
    assert_int_equal(r.compressed, 0);
    assert_int_equal(gz_count(f->inst), 2);
}

/* The first cut: every object is new; the PNG is never compressed whatever its size. */
static void test_first_cut_and_types(void **state)
{
    fx *f = *state;
    prep_cut_wire_result r;
    assert_int_equal(prepare(f, 1, &r), PREP_OK);
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f->inst, 1, &m, NULL), PREP_OK);
    size_t distinct = 0; /* the manifest's distinct hashes */
    for (size_t i = 0; i < m.n; i++) {
        int dup = 0;
        for (size_t k = 0; k < i; k++) dup |= !strcmp(m.entries[k].sha256, m.entries[i].sha256);
        distinct += !dup;
    }
    assert_int_equal(m.n, 13); /* index, LEEME, the CSV, 8 pages, a.txt, the PNG */
    assert_int_equal(r.objects, distinct);
    const prep_cut_entry *png = prep_cut_manifest_find(&m, "img/logo.png");
    char gp[4096];
    assert_int_equal(prep_cut_wire_object_path(f->inst, png->sha256, gp, sizeof gp), 0);
    assert_int_not_equal(access(gp, F_OK), 0);
    assert_int_equal(prep_cut_wire_compressible(png->media_type), 0);
    assert_int_equal(prep_cut_wire_compressible("text/html; charset=utf-8"), 1);
    assert_int_equal(prep_cut_wire_compressible("application/json"), 1);
    assert_int_equal(prep_cut_wire_compressible("image/svg+xml"), 1);
    prep_cut_manifest_free(&m);
    /* no patch for a first cut */
    assert_int_equal(prep_cut_wire_patch_path(f->inst, 1, gp, sizeof gp), 0);
    assert_int_not_equal(access(gp, F_OK), 0);
}

/* A crash (here: the sync fails) before the renames: no .gz is visible, and the next call
 * makes them all. */
static int fail_syncfs(void *ctx, const char *op, const char *path)
{
    (void)ctx;
    (void)path;
    return !strcmp(op, "syncfs") ? EIO : 0;
}

static void test_no_gz_before_the_sync(void **state)
{
    fx *f = *state;
    prep_cut_set_io_hook(fail_syncfs, NULL);
    prep_cut_wire_result r;
    assert_int_equal(prepare(f, 2, &r), PREP_ERR_IO);
    prep_cut_set_io_hook(NULL, NULL);
    assert_int_equal(gz_count(f->inst), 0);
    char pp[4096];
    assert_int_equal(prep_cut_wire_patch_path(f->inst, 2, pp, sizeof pp), 0);
    assert_int_not_equal(access(pp, F_OK), 0);
    assert_int_equal(prepare(f, 2, &r), PREP_OK);
    assert_int_equal(r.compressed, 2);
    assert_int_equal(gz_count(f->inst), 2);
    /* nothing is left in wire/tmp */
    assert_int_equal(sh("[ -z \"$(ls -A %s/wire/tmp)\" ]", f->inst), 0);
}

/* The retention removes the .gz of the objects it removes (and the patch of a cut below
 * the window). */
static void test_gc_follows_the_store(void **state)
{
    fx *f = *state;
    assert_int_equal(prepare(f, 1, NULL), PREP_OK);
    assert_int_equal(prepare(f, 2, NULL), PREP_OK);
    int before = gz_count(f->inst);
    site_set(&f->s, "gubernatura/seccion-0002/index.html", "<p>7 actas</p>%s", pad);
    uint64_t seq;
    assert_int_equal(make_cut(f->inst, &f->s, &f->sk, PREP_CUT_LIVE, T0 + 600, 3600, &seq, NULL), PREP_OK);
    assert_int_equal(prepare(f, 3, NULL), PREP_OK);
    assert_int_equal(gz_count(f->inst), before + 1);
    prep_cut_gc_result g;
    assert_int_equal(prep_cut_store_gc(f->inst, 1, &g, NULL), PREP_OK);
    assert_true(g.objects_removed >= 2);
    /* every .gz left names an object still in the store */
    assert_int_equal(sh("cd %s/wire && for g in [0-9a-f][0-9a-f]/*.gz; do o=../objects/${g%%.gz}; [ -f \"$o\" ] || exit 1; done",
                        f->inst),
                     0);
    assert_true(gz_count(f->inst) < before + 1);
    char pp[4096];
    assert_int_equal(prep_cut_wire_patch_path(f->inst, 2, pp, sizeof pp), 0);
    assert_int_not_equal(access(pp, F_OK), 0);
    assert_int_equal(prep_cut_wire_patch_path(f->inst, 3, pp, sizeof pp), 0);
    assert_int_equal(access(pp, F_OK), 0);
}

/* A delivery made of the plan's files (the .gz forms where the cache has them): what push
 * uploads, copied into an incoming area, is accepted and the store verifies. */
static void copy_plan(const prep_deliver_plan *p, const char *inc)
{
    for (size_t i = 0; i < p->n; i++) {
        char *dst = pathf("%s/%s", inc, p->files[i].remote);
        char *dir = prep_xstrdup(dst);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(prep_mkdirs(dir), PREP_OK);
        if (p->files[i].local) copy_file_to(p->files[i].local, dst);
        else write_bytes(dst, p->files[i].data, (size_t)p->files[i].size);
        free(dst), free(dir);
    }
}

static void test_plan_sends_gz_and_is_accepted(void **state)
{
    fx *f = *state;
    assert_int_equal(prepare(f, 1, NULL), PREP_OK);
    assert_int_equal(prepare(f, 2, NULL), PREP_OK);
    prep_deliver_plan p;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_deliver_plan_make(f->inst, 0, 1, &p, &d), PREP_OK);
    assert_true(p.gz_files >= 9);
    assert_true(p.bytes < p.raw_bytes);
    copy_plan(&p, f->inc);
    prep_deliver_plan_free(&p);
    prep_err e = prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    rm_rf(f->inc);
    assert_int_equal(prep_deliver_plan_make(f->inst, 1, 2, &p, &d), PREP_OK);
    assert_int_equal(p.gz_files, 3); /* two pages and the patch */
    int has_patch_gz = 0;
    for (size_t i = 0; i < p.n; i++) has_patch_gz |= !strcmp(p.files[i].remote, "cuts/2/manifest.patch.gz");
    assert_true(has_patch_gz);
    copy_plan(&p, f->inc);
    prep_deliver_plan_free(&p);
    e = prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f->recv), 2);
    assert_int_equal(prep_cut_verify(f->recv, 0, &f->pol, NULL, &d), PREP_OK);
    /* raw on request: the same plan without a single .gz */
    assert_int_equal(prep_deliver_plan_make_opt(f->inst, 1, 2, 0, &p, &d), PREP_OK);
    assert_int_equal(p.gz_files, 0);
    for (size_t i = 0; i < p.n; i++) assert_null(strstr(p.files[i].remote, ".gz"));
    prep_deliver_plan_free(&p);
    prep_diags_free(&d);
}

/* prep_cut_gunzip's bounds on memory input (the pull client's patch). */
static void test_gunzip_bounds(void **state)
{
    (void)state;
    static char zeros[1 << 20];
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char gz[8192];
    z.next_in = (Bytef *)zeros;
    z.avail_in = sizeof zeros;
    z.next_out = gz;
    z.avail_out = sizeof gz;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t gn = sizeof gz - z.avail_out;
    deflateEnd(&z);
    char *out;
    size_t on;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_gunzip(gz, gn, sizeof zeros, &out, &on, "t", &d), PREP_OK);
    assert_int_equal(on, sizeof zeros);
    free(out);
    assert_int_equal(prep_cut_gunzip(gz, gn, sizeof zeros - 1, &out, &on, "t", &d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&d, "oversize"));
    assert_int_equal(prep_cut_gunzip(gz, gn - 1, sizeof zeros, &out, &on, "t", &d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&d, "truncated"));
    assert_int_equal(prep_cut_gunzip("plain text", 10, 100, &out, &on, "t", &d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&d, "bad-gzip"));
    prep_diags_free(&d);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_what_is_compressed),       T(test_first_cut_and_types), T(test_no_gz_before_the_sync),
        T(test_gc_follows_the_store),     T(test_plan_sends_gz_and_is_accepted),
        cmocka_unit_test(test_gunzip_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

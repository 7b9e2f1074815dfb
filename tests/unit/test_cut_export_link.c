/* Unit tests of the export's link mode (docs/apache.md): OUT is a symlink to
 * OUT.sitios/<seq>/, corte.map names the same cut, old trees are pruned to the kept
 * number, and what may not be replaced is refused. */
#include "test_cut_util.h"

static void setup_store(const char *store, int ncuts, prep_cut_seckey *sk)
{
    prep_cut_pubkey pk;
    key_from_seed(9, sk, &pk);
    site s;
    site_init(&s, 3);
    prep_diags d;
    prep_diags_init(&d);
    for (int i = 1; i <= ncuts; i++) {
        site_set(&s, "index.html", "<!doctype html><title>PREP</title><p>Corte %d</p>%0300d", i, 0);
        uint64_t seq = 0;
        assert_int_equal(make_cut(store, &s, sk, PREP_CUT_LIVE, T0 + 300 * (i - 1), 3600, &seq, &d), PREP_OK);
        assert_int_equal(seq, (uint64_t)i);
    }
    prep_diags_free(&d);
    site_free(&s);
}

static prep_err export_link(const char *store, const char *out, uint64_t seq, unsigned keep, prep_diags *d)
{
    prep_cut_export_opts o;
    prep_cut_export_opts_init(&o);
    o.link = 1;
    o.seq = seq;
    o.keep = keep;
    return prep_cut_export(store, out, &o, d);
}

/* The sequences of the trees under sites, as "a b c " ascending. */
static char *trees(const char *sites)
{
    char *r = pathf("%s", "");
    for (int i = 1; i <= 20; i++) {
        char *p = pathf("%s/%d", sites, i);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            char *n = pathf("%s%d ", r, i);
            free(r);
            r = n;
        }
        free(p);
    }
    return r;
}

static void test_link_switches(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t), *out = pathf("%s/site", t), *sites = pathf("%s/site.sitios", t);
    prep_cut_seckey sk;
    setup_store(store, 3, &sk);
    prep_diags d;
    prep_diags_init(&d);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        assert_int_equal(export_link(store, out, seq, 3, &d), PREP_OK);
        char target[256];
        ssize_t n = readlink(out, target, sizeof target - 1);
        assert_true(n > 0);
        target[n] = 0;
        char *want = pathf("site.sitios/%llu", (unsigned long long)seq);
        assert_string_equal(target, want); /* relative: the pair can be moved together */
        free(want);
        /* The map Apache reads names the same cut. */
        char *mp = pathf("%s/corte.map", sites);
        size_t ml;
        char *map = read_all(mp, &ml);
        char *line = pathf("\ncorte %llu\n", (unsigned long long)seq);
        assert_non_null(strstr(map, line));
        free(line);
        free(map);
        free(mp);
        /* Through the link: the cut's page, its signed manifest, and the archive. */
        char *ip = pathf("%s/index.html", out);
        size_t il;
        char *page = read_all(ip, &il);
        char *corte = pathf("<p>Corte %llu</p>", (unsigned long long)seq);
        assert_non_null(strstr(page, corte));
        free(corte);
        free(page);
        free(ip);
        char *sp = pathf("%s/SHA256SUMS", out), *cp = pathf("%s/cuts/%llu/manifest", store, (unsigned long long)seq);
        size_t a, b;
        char *x = read_all(sp, &a), *y = read_all(cp, &b);
        assert_int_equal(a, b);
        assert_memory_equal(x, y, a);
        free(x);
        free(y);
        free(sp);
        free(cp);
        char *arch = pathf("%s/cortes/1/index.html", out);
        assert_int_equal(access(arch, R_OK), 0);
        free(arch);
    }
    assert_int_equal(sh("cd '%s' && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    /* Exporting the current cut again rebuilds its tree in place: still linked, no leftovers. */
    assert_int_equal(export_link(store, out, 3, 3, &d), PREP_OK);
    assert_int_equal(dir_count(sites, ".tmp-"), 0);
    assert_int_equal(dir_count(t, "site.tmp"), 0);
    char *tr = trees(sites);
    assert_string_equal(tr, "1 2 3 ");
    free(tr);
    prep_diags_free(&d);
    rm_rf(t);
    free(t);
    free(store);
    free(out);
    free(sites);
}

static void test_link_prunes_old_trees(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t), *out = pathf("%s/site", t), *sites = pathf("%s/site.sitios", t);
    prep_cut_seckey sk;
    setup_store(store, 6, &sk);
    prep_diags d;
    prep_diags_init(&d);
    for (uint64_t seq = 1; seq <= 6; seq++) assert_int_equal(export_link(store, out, seq, 3, &d), PREP_OK);
    char *tr = trees(sites);
    assert_string_equal(tr, "3 4 5 6 "); /* the current (6) and the 3 before it */
    free(tr);
    /* Back to an older cut with keep 1: the current (2) and the highest other (6). */
    assert_int_equal(export_link(store, out, 2, 1, &d), PREP_OK);
    tr = trees(sites);
    assert_string_equal(tr, "2 6 ");
    free(tr);
    /* keep 0: only the tree served. */
    assert_int_equal(export_link(store, out, 6, 0, &d), PREP_OK);
    tr = trees(sites);
    assert_string_equal(tr, "6 ");
    free(tr);
    /* The archive is never pruned. */
    char *arch = pathf("%s/site.cortes/1/index.html", t);
    assert_int_equal(access(arch, R_OK), 0);
    free(arch);
    prep_diags_free(&d);
    rm_rf(t);
    free(t);
    free(store);
    free(out);
    free(sites);
}

static void test_link_refusals_and_upgrade(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t);
    prep_cut_seckey sk;
    setup_store(store, 2, &sk);
    prep_diags d;
    prep_diags_init(&d);
    /* A regular file, and a directory that is not an export: never replaced. */
    char *f = pathf("%s/file", t);
    write_bytes(f, "keep me", 7);
    assert_int_equal(export_link(store, f, 0, 3, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "exists"));
    size_t n;
    char *c = read_all(f, &n);
    assert_memory_equal(c, "keep me", 7);
    free(c);
    prep_diags_free(&d);
    prep_diags_init(&d);
    char *dir = pathf("%s/other", t), *mine = pathf("%s/other/mine.txt", t);
    assert_int_equal(mkdir(dir, 0755), 0);
    write_bytes(mine, "x", 1);
    assert_int_equal(export_link(store, dir, 0, 3, &d), PREP_ERR_INVALID);
    assert_int_equal(access(mine, R_OK), 0);
    prep_diags_free(&d);
    prep_diags_init(&d);
    /* keep above the bound is bad usage. */
    char *out = pathf("%s/site", t);
    assert_int_equal(export_link(store, out, 0, PREP_CUT_EXPORT_KEEP_MAX + 1, &d), PREP_ERR_USAGE);
    prep_diags_free(&d);
    prep_diags_init(&d);
    /* A previous plain export becomes the link; a plain export over the link is refused. */
    prep_cut_export_opts o;
    prep_cut_export_opts_init(&o);
    assert_int_equal(prep_cut_export(store, out, &o, &d), PREP_OK);
    struct stat sb;
    assert_int_equal(lstat(out, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(export_link(store, out, 0, 3, &d), PREP_OK);
    assert_int_equal(lstat(out, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(dir_count(t, "site.tmp"), 0); /* the old directory was removed */
    assert_int_equal(sh("cd '%s' && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    assert_int_equal(prep_cut_export(store, out, &o, &d), PREP_ERR_INVALID);
    assert_int_equal(lstat(out, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    prep_diags_free(&d);
    rm_rf(t);
    free(t);
    free(store);
    free(f);
    free(dir);
    free(mine);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_switches),
        cmocka_unit_test(test_link_prunes_old_trees),
        cmocka_unit_test(test_link_refusals_and_upgrade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

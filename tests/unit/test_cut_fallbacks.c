/* prep_cut_fallbacks (src/cut/fallback.c, issue 13 B): which cuts a server may stand on
 * when the active one cannot be loaded. Real stores made with prep_cut_make; the active
 * pointer rewritten by hand where a test needs a store state prep never writes itself. */
#include "test_cut_util.h"

typedef struct fx {
    char *tmp, *store;
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->tmp = tmpdir_new();
    f->store = pathf("%s/store", f->tmp);
    key_from_seed(9, &f->sk, &f->pk);
    site s;
    site_init(&s, 3);
    for (int i = 1; i <= 4; i++) {
        site_set(&s, "index.html", "<!doctype html><title>PREP</title><p>Corte %d</p>", i);
        uint64_t seq = 0;
        prep_diags d;
        prep_diags_init(&d);
        assert_int_equal(make_cut(f->store, &s, &f->sk, PREP_CUT_LIVE, T0 + 300 * i, 3600, &seq, &d), PREP_OK);
        assert_int_equal(seq, (uint64_t)i);
        prep_diags_free(&d);
    }
    site_free(&s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    rm_rf(f->tmp);
    free(f->tmp);
    free(f->store);
    free(f);
    return 0;
}

/* Points the store's active pointer at cut seq (its real manifest hash), with process. */
static void set_active(fx *f, uint64_t seq, const char *process)
{
    char *mp = pathf("%s/cuts/%llu/manifest", f->store, (unsigned long long)seq);
    size_t n = 0;
    char *m = read_all(mp, &n);
    assert_non_null(m);
    char h[65];
    prep_sha256_hex(m, n, h);
    free(m);
    free(mp);
    char *ap = pathf("%s/active", f->store);
    char buf[512];
    int bl = snprintf(buf, sizeof buf, "prep-active 1\nsequence %llu\nmanifest %s\nprocess %s\nmode live\n",
                      (unsigned long long)seq, h, process);
    write_bytes(ap, buf, (size_t)bl);
    free(ap);
    prep_cut_active a;
    assert_int_equal(prep_cut_active_read(f->store, &a, NULL), PREP_OK);
    assert_int_equal(a.seq, seq);
}

static void test_newest_first_older_only(void **state)
{
    fx *f = *state;
    uint64_t s[8];
    size_t n = 9;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_fallbacks(f->store, s, 8, &n, &d), PREP_OK);
    assert_int_equal(n, 3);
    assert_int_equal(s[0], 3);
    assert_int_equal(s[1], 2);
    assert_int_equal(s[2], 1);
    assert_int_equal(d.n, 0);
    prep_diags_free(&d);
    /* at most max */
    prep_diags_init(&d);
    assert_int_equal(prep_cut_fallbacks(f->store, s, 2, &n, &d), PREP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(s[1], 2);
    prep_diags_free(&d);
    /* cut 4 in the store but never activated (the pointer names 3): not a fallback */
    set_active(f, 3, "qro2021");
    prep_diags_init(&d);
    assert_int_equal(prep_cut_fallbacks(f->store, s, 8, &n, &d), PREP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(s[0], 2);
    assert_int_equal(s[1], 1);
    prep_diags_free(&d);
}

static void test_other_process_and_missing(void **state)
{
    fx *f = *state;
    uint64_t s[8];
    size_t n = 0;
    prep_diags d;
    /* the pointer says another process: none of these cuts stands in for it */
    set_active(f, 4, "otro2024");
    prep_diags_init(&d);
    assert_int_equal(prep_cut_fallbacks(f->store, s, 8, &n, &d), PREP_OK);
    assert_int_equal(n, 0);
    const prep_diag *g = prep_diags_find(&d, "fallback-other");
    assert_non_null(g);
    assert_non_null(strstr(g->msg, "otro2024"));
    prep_diags_free(&d);
    /* cut 3's signature file gone: passed over with a diag; 2 and 1 remain */
    set_active(f, 4, "qro2021");
    char *sp = pathf("%s/cuts/3/manifest.sig", f->store);
    assert_int_equal(unlink(sp), 0);
    free(sp);
    prep_diags_init(&d);
    assert_int_equal(prep_cut_fallbacks(f->store, s, 8, &n, &d), PREP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(s[0], 2);
    assert_int_equal(s[1], 1);
    assert_non_null(prep_diags_find(&d, "not-found"));
    prep_diags_free(&d);
    /* cut 2's manifest replaced by another of sequence 2 (its horizon moved): cut 3's
     * manifest, though 3 itself is passed over, names the real one: 2 is off the chain */
    char *mp = pathf("%s/cuts/2/manifest", f->store);
    size_t ml = 0;
    char *m = read_all(mp, &ml);
    assert_non_null(m);
    char *vu = strstr(m, "# valid-until: ");
    assert_non_null(vu);
    char *colon = strchr(vu + 15 + 11, ':');
    assert_non_null(colon);
    colon[1] = colon[1] == '0' ? '1' : '0';
    chmod(mp, 0644);
    write_bytes(mp, m, ml);
    free(m);
    free(mp);
    prep_diags_init(&d);
    assert_int_equal(prep_cut_fallbacks(f->store, s, 8, &n, &d), PREP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(s[0], 1);
    assert_non_null(prep_diags_find(&d, "chain"));
    prep_diags_free(&d);
    /* the active cut's own manifest gone: still the older cuts, by the same rules */
    mp = pathf("%s/cuts/4/manifest", f->store);
    assert_int_equal(unlink(mp), 0);
    free(mp);
    prep_diags_init(&d);
    assert_int_equal(prep_cut_fallbacks(f->store, s, 8, &n, &d), PREP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(s[0], 1);
    prep_diags_free(&d);
    /* no active pointer: NOTFOUND (a store before its first cut has nothing to stand in for) */
    char *ap = pathf("%s/active", f->store);
    assert_int_equal(unlink(ap), 0);
    free(ap);
    prep_diags_init(&d);
    assert_int_equal(prep_cut_fallbacks(f->store, s, 8, &n, &d), PREP_ERR_NOTFOUND);
    assert_int_equal(n, 0);
    prep_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_newest_first_older_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_process_and_missing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

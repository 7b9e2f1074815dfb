/* prep_cut_hash_cache (src/cut/hashcache.c): a cut made with the cache and the render's
 * hints (prep_cut_file.same_parts, hash_prefix) is byte for byte the cut made without them,
 * over several cuts in which bodies, stamps and the set of files change; a false "same"
 * claim that the sample catches, a cut made by another writer in between, and a failed
 * make each leave the next cut exact. The reference is the same files made by
 * prep_cut_make without a cache into a second store: every byte hashed. */
#include "test_cut_util.h"

#include "../../src/cut/cut_internal.h"

#define NF 130 /* more than 2 * HINT_SAMPLE claimed parts per cut */

static int pre_gen[NF]; /* bumped to change page i's pre (its title) */

typedef struct hsite {
    char *data[NF];
    prep_cut_file f[NF + 1];
    size_t n;
} hsite;

static void hsite_free(hsite *s)
{
    for (size_t i = 0; i < s->n; i++) free((char *)s->f[i].path);
    if (s->n) free((char *)s->f[s->n - 1].data);
    for (int i = 0; i < NF; i++) free(s->data[i]);
    memset(s, 0, sizeof *s);
}

/* File i: pre_i | body_i (its votes v[i]) | stamp (cut seq) | post: hash_prefix 2, as the
 * render's pages put the stamp after the bodies. same: the bits to claim. Plus one plain
 * file (the database) whose bytes change every cut. */
static void hsite_make(hsite *s, int seq, const int *v, int nfiles, uint32_t same_pages)
{
    char stamp[96];
    snprintf(stamp, sizeof stamp, "<p class=\"corte\">Corte %d, 23:%02d</p>", seq, seq % 60);
    hsite_free(s); /* what the last call made */
    for (int i = 0; i < nfiles; i++) {
        char pre[96], body[400];
        const char *post = "</body></html>\n";
        snprintf(pre, sizeof pre, "<!DOCTYPE html><title>Secci\xC3\xB3n %d (%d)</title><body>", i + 1, pre_gen[i]);
        /* bodies over 64 bytes, so that the kept state ends inside a block */
        snprintf(body, sizeof body, "<main><p>Secci\xC3\xB3n %d: %d votos</p>%0*d</main>", i + 1, v[i], 40 + i % 90, 0);
        size_t a = strlen(pre), b = strlen(body), c = strlen(stamp), d = strlen(post);
        s->data[i] = prep_xmalloc(a + b + c + d);
        memcpy(s->data[i], pre, a);
        memcpy(s->data[i] + a, body, b);
        memcpy(s->data[i] + a + b, stamp, c);
        memcpy(s->data[i] + a + b + c, post, d);
        prep_cut_file *f = &s->f[s->n++];
        f->path = pathf("seccion/%04d/index.html", i + 1);
        f->data = s->data[i];
        f->len = a + b + c + d;
        f->n_parts = 4;
        f->part_len[0] = a, f->part_len[1] = b, f->part_len[2] = c, f->part_len[3] = d;
        f->same_parts = same_pages;
        f->hash_prefix = 2;
    }
    prep_cut_file *db = &s->f[s->n++];
    db->path = pathf("base-de-datos/gub.csv");
    char *csv = pathf("sep=|\nCorte %d\nCLAVE|TOTAL\n220001B0100|%d\n", seq, v[0]);
    db->data = csv;
    db->len = strlen(csv);
    db->same_parts = 0;
}

/* The parameters of cut seq (instant T0 + seq x 5 min) through hc. */
static void params(prep_cut_params *p, int seq, prep_cut_hash_cache *hc)
{
    prep_cut_params_init(p);
    p->process = "qro2021";
    p->elections = "gubernatura";
    p->instant = T0 + seq * 300;
    p->zone = "America/Mexico_City";
    p->hash_cache = hc;
}

static prep_err make(const char *store, hsite *s, int seq, prep_cut_hash_cache *hc, const prep_cut_seckey *k)
{
    prep_cut_params p;
    params(&p, seq, hc);
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_make(store, &p, s->f, s->n, k, NULL, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    prep_diags_free(&d);
    return e;
}

/* The two stores' manifests of cut seq are the same bytes. */
static void same_manifest(const char *a, const char *b, int seq)
{
    char *pa = pathf("%s/cuts/%d/manifest", a, seq), *pb = pathf("%s/cuts/%d/manifest", b, seq);
    size_t la, lb;
    char *ma = read_all(pa, &la), *mb = read_all(pb, &lb);
    assert_non_null(ma);
    assert_non_null(mb);
    if (la != lb || memcmp(ma, mb, la)) fail_msg("cut %d: the manifest made with the hash cache differs", seq);
    free(ma), free(mb), free(pa), free(pb);
}

/* The stores of a test: a (cuts through the hash cache hc) and b (the same files, every
 * byte hashed: the reference), under a new temporary directory, and a key. */
typedef struct two_stores {
    char *dir, *a, *b;
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    prep_cut_hash_cache *hc;
} two_stores;

static void two_stores_open(two_stores *t, uint8_t key_seed)
{
    t->dir = tmpdir_new();
    t->a = pathf("%s/a", t->dir);
    t->b = pathf("%s/b", t->dir);
    key_from_seed(key_seed, &t->sk, &t->pk);
    assert_int_equal(prep_cut_hash_cache_new(&t->hc), PREP_OK);
}

static void two_stores_close(two_stores *t)
{
    prep_cut_hash_cache_free(t->hc);
    rm_rf(t->dir);
    free(t->a), free(t->b), free(t->dir);
}

#define ALL_BUT_STAMP 0xbu /* parts 0, 1, 3 */

static void test_cache_equals_full(void **state)
{
    (void)state;
    two_stores ts;
    two_stores_open(&ts, 3);
    int v[NF];
    for (int i = 0; i < NF; i++) v[i] = i;
    hsite s = {0};
    int seq = 1;
    /* cut 1: nothing known yet */
    hsite_make(&s, seq, v, NF, 0);
    assert_int_equal(make(ts.a, &s, seq, ts.hc, &ts.sk), PREP_OK);
    assert_int_equal(make(ts.b, &s, seq, NULL, &ts.sk), PREP_OK);
    same_manifest(ts.a, ts.b, seq);
    /* cuts 2..4: a new stamp everywhere, a few bodies change (claimed not same; half of
     * those pages claim their pre the same, so their hash resumes from the state kept
     * after it, the others hash from the start) */
    for (seq = 2; seq <= 4; seq++) {
        for (int i = seq; i < NF; i += 17) v[i] += 1000;
        hsite_make(&s, seq, v, NF, ALL_BUT_STAMP);
        for (int i = seq; i < NF; i += 17) s.f[i].same_parts = (i / 17) % 2 ? 0x1u : 0;
        assert_int_equal(make(ts.a, &s, seq, ts.hc, &ts.sk), PREP_OK);
        assert_int_equal(make(ts.b, &s, seq, NULL, &ts.sk), PREP_OK);
        same_manifest(ts.a, ts.b, seq);
    }
    /* cut 5: one page fewer, and a stamp of another length */
    hsite_make(&s, 100, v, NF - 1, ALL_BUT_STAMP);
    assert_int_equal(make(ts.a, &s, 5, ts.hc, &ts.sk), PREP_OK);
    assert_int_equal(make(ts.b, &s, 5, NULL, &ts.sk), PREP_OK);
    same_manifest(ts.a, ts.b, 5);
    /* cut 6: a false claim on a part the sample re-hashes (every 61st claimed part, in the
     * files' order: three per page, so the 122nd is page 41's body) is caught, and the cut
     * is exact */
    v[40] += 1; /* same length: the claim passes the size check */
    hsite_make(&s, 101, v, NF - 1, ALL_BUT_STAMP);
    assert_int_equal(make(ts.a, &s, 6, ts.hc, &ts.sk), PREP_OK);
    assert_int_equal(make(ts.b, &s, 6, NULL, &ts.sk), PREP_OK);
    same_manifest(ts.a, ts.b, 6);
    /* cut 7 made by another writer (no cache) into store a: the cache no longer knows the
     * active cut, and its claims must not be taken */
    hsite_make(&s, 102, v, NF - 1, 0);
    assert_int_equal(make(ts.a, &s, 7, NULL, &ts.sk), PREP_OK);
    assert_int_equal(make(ts.b, &s, 7, NULL, &ts.sk), PREP_OK);
    v[5] += 7;
    hsite_make(&s, 103, v, NF - 1, ALL_BUT_STAMP); /* page 6's claim is false, not sampled */
    assert_int_equal(make(ts.a, &s, 8, ts.hc, &ts.sk), PREP_OK);
    assert_int_equal(make(ts.b, &s, 8, NULL, &ts.sk), PREP_OK);
    same_manifest(ts.a, ts.b, 8);
    /* a failed make (an instant before the active cut's) forgets the cache */
    hsite_make(&s, 104, v, NF - 1, ALL_BUT_STAMP);
    prep_cut_params p;
    params(&p, 0, ts.hc); /* T0: before the active cut */
    p.elections = NULL;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_make(ts.a, &p, s.f, s.n, &ts.sk, NULL, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "instant-regress"));
    prep_diags_free(&d);
    v[9] += 3;
    hsite_make(&s, 105, v, NF - 1, ALL_BUT_STAMP); /* page 10's claim is false */
    assert_int_equal(make(ts.a, &s, 9, ts.hc, &ts.sk), PREP_OK);
    assert_int_equal(make(ts.b, &s, 9, NULL, &ts.sk), PREP_OK);
    same_manifest(ts.a, ts.b, 9);
    hsite_free(&s);
    two_stores_close(&ts);
}

/* s's files as a shedding cutter passes them (prep_cut_file.stored): of each page, the
 * parts of keep[i] named by the hash the cache has from the last cut, their bytes left out
 * of data. out: the files; bufs: their data (owned). */
static void shed_files(const hsite *s, prep_cut_hash_cache *hc, const uint32_t *keep, prep_cut_file *out,
                       unsigned char (*sha)[2][32], char **bufs)
{
    for (size_t i = 0; i < s->n; i++) {
        out[i] = s->f[i];
        bufs[i] = NULL;
        if (!s->f[i].n_parts || !keep[i]) continue;
        const prep_cut_file *f = &s->f[i];
        char *d = prep_xmalloc(f->len), *at = d;
        const char *from = f->data;
        size_t j = 0;
        for (size_t k = 0; k < f->n_parts; k++) {
            if ((keep[i] >> k) & 1u) {
                assert_int_equal(prep_cut_hash_cache_part(hc, f->path, f->n_parts, k, f->part_len[k], sha[i][j++]), 1);
            } else {
                memcpy(at, from, f->part_len[k]);
                at += f->part_len[k];
            }
            from += f->part_len[k];
        }
        out[i].data = d;
        out[i].stored = keep[i];
        out[i].stored_sha = (const unsigned char(*)[32])sha[i];
        bufs[i] = d;
    }
}

/* A cut whose pages' pre and body parts are named by hash only (the cutter's shed site):
 * the same manifest as every byte hashed, when bodies change (the stored pre's state
 * resumes), when a pre changes (the stored body after it is read back from the store to
 * hash the page), after a cut by another writer (the cache forgotten: every stored part
 * checked in the store and read back); a stored part the store lacks fails the cut with
 * "stored-missing" and publishes nothing; stored parts without a hash cache are refused;
 * a restarted cutter's cache seeded with the active cut names what that cut holds. */
static void test_stored_equals_full(void **state)
{
    (void)state;
    two_stores ts;
    two_stores_open(&ts, 4);
    int v[NF];
    for (int i = 0; i < NF; i++) v[i] = 2 * i;
    memset(pre_gen, 0, sizeof pre_gen);
    hsite s = {0};
    hsite_make(&s, 1, v, NF, 0);
    assert_int_equal(make(ts.a, &s, 1, ts.hc, &ts.sk), PREP_OK);
    assert_int_equal(make(ts.b, &s, 1, NULL, &ts.sk), PREP_OK);
    static uint32_t keep[NF + 1];
    static unsigned char sha[NF + 1][2][32];
    static char *bufs[NF + 1];
    prep_cut_file files[NF + 1];
    hsite shed = {0};
    for (int seq = 2; seq <= 5; seq++) {
        if (seq == 4) { /* cut 4 by another writer (a new stamp only): the cache no longer
                         * knows the active cut */
            hsite_make(&s, seq, v, NF, 0);
            assert_int_equal(make(ts.a, &s, seq, NULL, &ts.sk), PREP_OK);
            assert_int_equal(make(ts.b, &s, seq, NULL, &ts.sk), PREP_OK);
            continue;
        }
        memset(keep, 0, sizeof keep);
        for (int i = 0; i < NF; i++) keep[i] = 0x3u; /* pre and body: what the cutter sheds */
        for (int i = seq; i < NF; i += 11) {     /* a body changes: in memory, its pre stored */
            v[i] += 100;
            keep[i] = 0x1u;
        }
        for (int i = seq + 3; i < NF; i += 13) { /* a pre changes: the stored body after it is read */
            pre_gen[i]++;
            keep[i] &= ~0x1u;
        }
        hsite_make(&s, seq, v, NF, ALL_BUT_STAMP);
        for (int i = 0; i < NF; i++) s.f[i].same_parts = keep[i] | 0x8u; /* the true claims */
        shed_files(&s, ts.hc, keep, files, sha, bufs);
        shed.n = s.n;
        memcpy(shed.f, files, s.n * sizeof *files);
        assert_int_equal(make(ts.a, &shed, seq, ts.hc, &ts.sk), PREP_OK);
        for (size_t i = 0; i < s.n; i++) free(bufs[i]);
        assert_int_equal(make(ts.b, &s, seq, NULL, &ts.sk), PREP_OK);
        same_manifest(ts.a, ts.b, seq);
    }
    /* a restarted cutter: a new cache seeded with the active cut (no hash states), the
     * parts named after checking their bytes against it (prep_cut_hash_cache_holds) */
    prep_cut_hash_cache *hr;
    assert_int_equal(prep_cut_hash_cache_new(&hr), PREP_OK);
    prep_cut_manifest am;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_load(ts.a, 0, &am, &d), PREP_OK);
    assert_int_equal(prep_cut_hash_cache_seed(hr, &am), PREP_OK);
    prep_cut_manifest_free(&am);
    v[20] += 100; /* its body is not the active cut's: kept in memory */
    hsite_make(&s, 6, v, NF, 0);
    memset(keep, 0, sizeof keep);
    for (size_t i = 0; i < s.n; i++)
        for (size_t k = 0; k < s.f[i].n_parts && k < 2; k++) {
            unsigned char md[32];
            size_t off = k ? s.f[i].part_len[0] : 0;
            int held = prep_cut_hash_cache_holds(hr, s.f[i].path, s.f[i].n_parts, k, s.f[i].data + off,
                                                 s.f[i].part_len[k], md);
            assert_int_equal(held, !(i == 20 && k == 1));
            keep[i] |= (uint32_t)held << k;
        }
    shed_files(&s, hr, keep, files, sha, bufs);
    shed.n = s.n;
    memcpy(shed.f, files, s.n * sizeof *files);
    assert_int_equal(make(ts.a, &shed, 6, hr, &ts.sk), PREP_OK);
    for (size_t i = 0; i < s.n; i++) free(bufs[i]);
    assert_int_equal(make(ts.b, &s, 6, NULL, &ts.sk), PREP_OK);
    same_manifest(ts.a, ts.b, 6);
    prep_cut_hash_cache_free(hr);
    /* a stored part the store lacks: nothing published */
    memset(keep, 0, sizeof keep);
    for (int i = 0; i < NF; i++) keep[i] = 0x3u;
    hsite_make(&s, 7, v, NF, ALL_BUT_STAMP);
    assert_int_equal(make(ts.a, &s, 7, ts.hc, &ts.sk), PREP_OK); /* ts.hc knows the active cut again */
    assert_int_equal(make(ts.b, &s, 7, NULL, &ts.sk), PREP_OK);
    hsite_make(&s, 8, v, NF, ALL_BUT_STAMP);
    shed_files(&s, ts.hc, keep, files, sha, bufs);
    sha[7][1][5] ^= 0x40; /* page 8's body: another object */
    prep_cut_params p;
    params(&p, 8, ts.hc);
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_not_equal(prep_cut_make(ts.a, &p, files, s.n, &ts.sk, NULL, &d), PREP_OK);
    const prep_diag *g = prep_diags_find(&d, "stored-missing");
    assert_non_null(g);
    assert_string_equal(g->file, "seccion/0008/index.html");
    prep_diags_free(&d);
    assert_int_equal(active_seq(ts.a), 7);
    /* without a hash cache */
    p.hash_cache = NULL;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_make(ts.a, &p, files, s.n, &ts.sk, NULL, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "manifest-field"));
    prep_diags_free(&d);
    assert_int_equal(active_seq(ts.a), 7);
    for (size_t i = 0; i < s.n; i++) free(bufs[i]);
    hsite_free(&s);
    two_stores_close(&ts);
}

/* The object path in store of part k of file f (its bytes hashed here). */
static char *part_object(const char *store, const prep_cut_file *f, size_t k)
{
    size_t off = 0;
    for (size_t j = 0; j < k; j++) off += f->part_len[j];
    char hex[65];
    prep_sha256_hex(f->data + off, f->part_len[k], hex);
    return pathf("%s/objects/%.2s/%s", store, hex, hex + 2);
}

/* A file system without RENAME_NOREPLACE. */
static int no_noreplace(void *ctx, const char *op, const char *path)
{
    (void)ctx, (void)path;
    return strcmp(op, "noreplace") ? 0 : EINVAL;
}

/* One cut of s at seq into ts.a through the cache, expected to fail with diag kind; the
 * active cut stays before, and no temporary is left. */
static void make_refused(two_stores *ts, hsite *s, int seq, const char *kind, uint64_t before)
{
    prep_cut_params p;
    params(&p, seq, ts->hc);
    prep_diags d;
    prep_diags_init(&d);
    /* a damaged store, as when the store is asked first: not an I/O error */
    assert_int_equal(prep_cut_make(ts->a, &p, s->f, s->n, &ts->sk, NULL, &d), PREP_ERR_VERIFY);
    if (!prep_diags_find(&d, kind)) {
        prep_diags_print(&d, stderr, 10);
        fail_msg("expected a '%s' diag", kind);
    }
    prep_diags_free(&d);
    assert_int_equal(active_seq(ts->a), before);
    char *tmp = pathf("%s/tmp", ts->a);
    assert_int_equal(dir_count(tmp, NULL), 0);
    free(tmp);
}

/* Objects the cache knows to be new, and a store's first cut's, are written without asking
 * the store first (renamed without replacing): a failed first cut's leftover in the way,
 * a body that returns to the bytes of an older cut (its object still
 * in the store) is taken as it is; one whose name the store holds as a symbolic link, a
 * file of another size, or under an objects/aa that is a symbolic link, fails the cut
 * with the same diag as when the store was asked first, and publishes nothing; a FIFO in
 * place of a stored part that must be read back fails it as "stored-missing" instead of
 * waiting for a writer. Every cut that passes is the reference's byte for byte. */
/* The small-part memo (cut_hc_memo_sha256) gives each part its own SHA-256, and keeps the
 * parts every file repeats (a datos.json head, a page's stamp) while a changed section's
 * own parts, up to three between two stamps as in a busy national cut, pass through: after
 * the first round both are always remembered. Taking slots in turn (as before session 38)
 * evicted both every round. */
static void test_memo_keeps_repeated(void **state)
{
    (void)state;
    hc_memo m = {0};
    unsigned char head[102], stamp[665], own[3][2600];
    memset(head, 'h', sizeof head);
    memset(stamp, 's', sizeof stamp);
    prep_rng r;
    prep_rng_seed(&r, 38);
    for (int round = 0; round < 200; round++) {
        size_t k = (size_t)round % 4; /* 0..3 of the section's own parts this round */
        for (size_t j = 0; j < k; j++) {
            for (size_t b = 0; b < sizeof own[j]; b++) own[j][b] = (unsigned char)prep_rng_next(&r);
            hc_part_hash got, want;
            cut_hc_memo_sha256(&m, own[j], sizeof own[j] - j, &got);
            cut_hc_sha256(own[j], sizeof own[j] - j, &want);
            assert_memory_equal(&got, &want, sizeof got);
        }
        const unsigned char *rep[2] = {head, stamp};
        size_t rl[2] = {sizeof head, sizeof stamp};
        for (int w = 0; w < 2; w++) {
            int held = 0;
            for (int i = 0; i < HC_MEMO_N; i++) held |= m.len[i] == rl[w] && !memcmp(m.bytes[i], rep[w], rl[w]);
            if (round >= 2 && !held) fail_msg("round %d: the %s was not remembered", round, w ? "stamp" : "head");
            hc_part_hash got, want;
            cut_hc_memo_sha256(&m, rep[w], rl[w], &got);
            cut_hc_sha256(rep[w], rl[w], &want);
            assert_memory_equal(&got, &want, sizeof got);
        }
    }
    cut_hc_memo_free(&m);
}

static void test_new_objects_not_asked(void **state)
{
    (void)state;
    two_stores ts;
    two_stores_open(&ts, 5);
    int v[NF];
    for (int i = 0; i < NF; i++) v[i] = 3 * i;
    memset(pre_gen, 0, sizeof pre_gen);
    hsite s = {0};
    int seq = 1;
    hsite_make(&s, seq, v, NF, 0);
    /* a store without an active cut is not asked either: a failed first cut's leftover in
     * the way is found at the commit */
    assert_int_equal(sh("mkdir -p %s/objects", ts.a), 0);
    char *left = part_object(ts.a, &s.f[9], 1);
    char *ldir = pathf("%.*s", (int)(strrchr(left, '/') - left), left);
    assert_int_equal(sh("mkdir -p %s && ln -s /etc/passwd %s", ldir, left), 0);
    make_refused(&ts, &s, seq, "symlink", 0);
    assert_int_equal(unlink(left), 0);
    free(left), free(ldir);
    assert_int_equal(make(ts.a, &s, seq, ts.hc, &ts.sk), PREP_OK);
    assert_int_equal(make(ts.b, &s, seq, NULL, &ts.sk), PREP_OK);
    same_manifest(ts.a, ts.b, seq);
    /* cut 2: page 3's body changes; cut 3: it returns to cut 1's bytes */
    for (seq = 2; seq <= 3; seq++) {
        v[2] += seq == 2 ? 1000 : -1000;
        hsite_make(&s, seq, v, NF, ALL_BUT_STAMP);
        s.f[2].same_parts = 0x9u;
        assert_int_equal(make(ts.a, &s, seq, ts.hc, &ts.sk), PREP_OK);
        assert_int_equal(make(ts.b, &s, seq, NULL, &ts.sk), PREP_OK);
        same_manifest(ts.a, ts.b, seq);
    }
    char *tmp = pathf("%s/tmp", ts.a);
    assert_int_equal(dir_count(tmp, NULL), 0);
    /* cut 4: page 5's new body already named in the store, wrongly */
    v[4] += 77;
    hsite_make(&s, 4, v, NF, ALL_BUT_STAMP);
    s.f[4].same_parts = 0x9u;
    char *obj = part_object(ts.a, &s.f[4], 1), *other = part_object(ts.a, &s.f[0], 1);
    char *dir = pathf("%.*s", (int)(strrchr(obj, '/') - obj), obj);
    assert_int_equal(sh("mkdir -p %s", dir), 0);
    assert_int_equal(symlink(other, obj), 0);
    make_refused(&ts, &s, 4, "symlink", 3);
    assert_int_equal(unlink(obj), 0);
    write_bytes(obj, "short", 5);
    make_refused(&ts, &s, 4, "size-mismatch", 3);
    assert_int_equal(unlink(obj), 0);
    /* its objects/aa a symbolic link (to a real directory of objects) */
    char *aside = pathf("%s.aside", dir);
    assert_int_equal(rename(dir, aside), 0);
    assert_int_equal(symlink(aside, dir), 0);
    make_refused(&ts, &s, 4, "symlink", 3);
    assert_int_equal(unlink(dir), 0);
    assert_int_equal(rename(aside, dir), 0);
    /* on a file system without RENAME_NOREPLACE, each is looked for first: the same
     * refusal, then the same cut */
    prep_cut_set_io_hook(no_noreplace, NULL);
    assert_int_equal(symlink(other, obj), 0);
    make_refused(&ts, &s, 4, "symlink", 3);
    assert_int_equal(unlink(obj), 0);
    assert_int_equal(make(ts.a, &s, 4, ts.hc, &ts.sk), PREP_OK);
    prep_cut_set_io_hook(NULL, NULL);
    assert_int_equal(make(ts.b, &s, 4, NULL, &ts.sk), PREP_OK);
    same_manifest(ts.a, ts.b, 4);
    /* cut 5: page 7's pre changes, its body stored: read back, but a FIFO is in its place */
    static uint32_t keep[NF + 1];
    static unsigned char sha[NF + 1][2][32];
    static char *bufs[NF + 1];
    prep_cut_file files[NF + 1];
    memset(keep, 0, sizeof keep);
    for (int i = 0; i < NF; i++) keep[i] = 0x3u;
    pre_gen[6]++;
    keep[6] = 0x2u;
    hsite_make(&s, 5, v, NF, ALL_BUT_STAMP);
    for (int i = 0; i < NF; i++) s.f[i].same_parts = keep[i] | 0x8u;
    char *body = part_object(ts.a, &s.f[6], 1);
    shed_files(&s, ts.hc, keep, files, sha, bufs);
    free(other);
    other = pathf("%s.kept", body);
    assert_int_equal(rename(body, other), 0);
    assert_int_equal(mkfifo(body, 0444), 0);
    prep_cut_params p;
    params(&p, 5, ts.hc);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_not_equal(prep_cut_make(ts.a, &p, files, s.n, &ts.sk, NULL, &d), PREP_OK);
    const prep_diag *g = prep_diags_find(&d, "stored-missing");
    assert_non_null(g);
    assert_string_equal(g->file, "seccion/0007/index.html");
    prep_diags_free(&d);
    assert_int_equal(active_seq(ts.a), 4);
    assert_int_equal(dir_count(tmp, NULL), 0);
    for (size_t i = 0; i < s.n; i++) free(bufs[i]);
    free(tmp), free(obj), free(other), free(dir), free(aside), free(body);
    hsite_free(&s);
    two_stores_close(&ts);
}

/* prep_cut_file.sha256: a plain file's hash as its caller computed it (the render's
 * database files). Taken when the cache knew the path; a sample is checked, and stale ones
 * among many make the cut hash every file, so the cut stays exact. */
static void given_files(char **bufs, prep_cut_file *f, unsigned char (*md)[32], int n, int seq, int stale)
{
    for (int i = 0; i < n; i++) {
        free(bufs[i]);
        free((char *)f[i].path);
        memset(&f[i], 0, sizeof f[i]);
        /* stale: the hash of what this file held in the last cut */
        char *was = pathf("CLAVE|TOTAL\n%04d|%d\n", i, (seq - 1) * 7 + i);
        bufs[i] = pathf("CLAVE|TOTAL\n%04d|%d\n", i, seq * 7 + i);
        prep_sha256(stale ? was : bufs[i], strlen(stale ? was : bufs[i]), md[i]);
        free(was);
        f[i].path = pathf("base-de-datos/%04d.csv", i);
        f[i].data = bufs[i];
        f[i].len = strlen(bufs[i]);
        f[i].sha256 = md[i];
    }
}

static void test_given_sha(void **state)
{
    (void)state;
    two_stores ts;
    two_stores_open(&ts, 4);
    char *bufs[NF] = {0};
    prep_cut_file f[NF] = {0};
    unsigned char md[NF][32];
    prep_diags d;
    prep_diags_init(&d);
    for (int seq = 1; seq <= 3; seq++) { /* 3: every hash given is stale */
        given_files(bufs, f, md, NF, seq, seq == 3);
        prep_cut_params p;
        params(&p, seq, ts.hc);
        assert_int_equal(prep_cut_make(ts.a, &p, f, NF, &ts.sk, NULL, &d), PREP_OK);
        params(&p, seq, NULL);
        assert_int_equal(prep_cut_make(ts.b, &p, f, NF, &ts.sk, NULL, &d), PREP_OK);
        same_manifest(ts.a, ts.b, seq);
    }
    /* one stale hash among fewer files than the sample's period: taken as given (the cut
     * does not hash that file again; a receiver, which re-hashes every file, refuses it) */
    given_files(bufs, f, md, 10, 4, 0);
    prep_sha256("other bytes", 11, md[3]);
    prep_cut_params p;
    params(&p, 4, ts.hc);
    assert_int_equal(prep_cut_make(ts.a, &p, f, 10, &ts.sk, NULL, &d), PREP_OK);
    char hex[65], *mp = pathf("%s/cuts/4/manifest", ts.a), *line;
    prep_hex(md[3], 32, hex);
    line = pathf("%s  base-de-datos/0003.csv\n", hex);
    size_t ml;
    char *m = read_all(mp, &ml);
    assert_non_null(m);
    assert_non_null(strstr(m, line));
    free(m), free(mp), free(line);
    for (int i = 0; i < NF; i++) free(bufs[i]), free((char *)f[i].path);
    prep_diags_free(&d);
    two_stores_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_equals_full),
        cmocka_unit_test(test_stored_equals_full),
        cmocka_unit_test(test_new_objects_not_asked),
        cmocka_unit_test(test_memo_keeps_repeated),
        cmocka_unit_test(test_given_sha),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

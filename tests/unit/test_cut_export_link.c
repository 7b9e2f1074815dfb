/* Unit tests of the export's link mode (docs/apache.md): OUT is a symlink to
 * OUT.sitios/<seq>/, corte.map names the same cut, old trees are pruned to the kept
 * number, and what may not be replaced is refused. */
#include "test_cut_util.h"

#include <zlib.h>

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

/* ---------------------------------------------------------------- composed pages */
/* Cut `cut` of a site of 4 composed pages (pre|stamp|body|post, as the renderer makes
 * them): two top pages and two deep ones; body `changed` (0..3, or -1) differs from
 * cut 1's. Pages are bodies of repeated text so that gzip pays. */
static void composed_cut(const char *store, const prep_cut_seckey *k, int cut, int changed)
{
    static const char *paths[4] = {"gubernatura/distrito-01/seccion-0001/index.html",
                                   "gubernatura/distrito-01/seccion-0002/index.html", "gubernatura/index.html",
                                   "index.html"};
    char *bufs[4];
    prep_cut_file f[4];
    for (int i = 0; i < 4; i++) {
        char pre[128], stamp[128], body[2048], post[64];
        snprintf(pre, sizeof pre, "<!doctype html><title>%s</title><header>PREP Querétaro</header>", paths[i]);
        snprintf(stamp, sizeof stamp, "<div class=\"corte\" data-corte=\"%d\">Corte %d</div>", cut, cut);
        int n = 0;
        for (int r = 0; r < 40; r++)
            n += snprintf(body + n, sizeof body - (size_t)n, "<tr><td>%d</td><td>%d</td></tr>", r,
                          (r * 37 + i) * (i == changed ? cut : 1));
        snprintf(post, sizeof post, "<footer>fin</footer></html>\n");
        size_t l[4] = {strlen(pre), strlen(stamp), strlen(body), strlen(post)};
        bufs[i] = pathf("%s%s%s%s", pre, stamp, body, post);
        f[i] = (prep_cut_file){.path = paths[i], .data = bufs[i], .len = l[0] + l[1] + l[2] + l[3], .n_parts = 4};
        memcpy(f[i].part_len, l, sizeof l);
    }
    /* prep_cut_make wants paths sorted. */
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.instant = T0 + 300 * (cut - 1);
    p.zone = "America/Mexico_City";
    p.valid_for = 3600;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_make(store, &p, f, 4, k, NULL, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
    for (int i = 0; i < 4; i++) free(bufs[i]);
}

static int count_suffix(const char *dir, const char *suffix)
{
    char *cmd = pathf("find '%s' -name '*%s' | wc -l", dir, suffix);
    FILE *pp = popen(cmd, "r");
    int n = -1;
    assert_non_null(pp);
    assert_int_equal(fscanf(pp, "%d", &n), 1);
    pclose(pp);
    free(cmd);
    return n;
}

/* Inflates a gzip file with zlib; returns the bytes (owned). */
static char *gunzip_file(const char *path, size_t *outn)
{
    size_t n;
    char *in = read_all(path, &n);
    assert_non_null(in);
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END); /* checks the CRC-32 and ISIZE */
    assert_int_equal(z.avail_in, 0);                      /* one member, nothing after it */
    *outn = cap - z.avail_out;
    inflateEnd(&z);
    free(in);
    return out;
}

static void test_link_composed_pages(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t), *out = pathf("%s/site", t), *pool = pathf("%s/site.objetos", t);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(9, &sk, &pk);
    composed_cut(store, &sk, 1, -1);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(export_link(store, out, 1, 3, &d), PREP_OK);
    /* 4 distinct pres, 1 stamp, 4 bodies, 1 post: one deflate chunk each in the pool. */
    assert_int_equal(count_suffix(pool, ".dfl"), 4 + 1 + 4 + 1);
    /* Cut 2: a new stamp on every page and one changed body: 2 new chunks, no more. */
    composed_cut(store, &sk, 2, 1);
    assert_int_equal(export_link(store, out, 2, 3, &d), PREP_OK);
    assert_int_equal(count_suffix(pool, ".dfl"), 10 + 2);
    static const char *pages[4] = {"gubernatura/distrito-01/seccion-0001/index.html",
                                   "gubernatura/distrito-01/seccion-0002/index.html", "gubernatura/index.html",
                                   "index.html"};
    for (int i = 0; i < 4; i++) {
        char *pp = pathf("%s/%s", out, pages[i]), *gp = pathf("%s.gz", pp), *bp = pathf("%s.br", pp);
        size_t n, gn;
        char *page = read_all(pp, &n);
        assert_non_null(strstr(page, "data-corte=\"2\""));
        char *dec = gunzip_file(gp, &gn);
        assert_int_equal(gn, n);
        assert_memory_equal(dec, page, n);
        free(dec);
        /* Stock gzip agrees (CRC and length in the trailer). */
        assert_int_equal(sh("gzip -t '%s' && gzip -dc '%s' | cmp -s - '%s'", gp, gp, pp), 0);
        /* br only for the top pages (at most 2 slashes). */
        assert_int_equal(access(bp, F_OK) == 0, i >= 2);
        if (i >= 2) assert_int_equal(sh("test \"$(brotli -dc '%s' 2>/dev/null | sha256sum)\" = \"$(sha256sum < '%s')\" || ! command -v brotli >/dev/null", bp, pp), 0);
        free(page), free(pp), free(gp), free(bp);
    }
    /* The served tree is symlinks into the archive; the archive is whole. */
    struct stat sb;
    char *top = pathf("%s/site.sitios/2/gubernatura", t);
    assert_int_equal(lstat(top, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    free(top);
    assert_int_equal(sh("cd '%s' && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    assert_int_equal(sh("cd '%s/site.cortes/1' && sha256sum -c --strict --quiet SHA256SUMS", t), 0);
    /* A page and its twins are written in the archived cut itself, one link each: no pool
     * copy (every page is new on every cut: the stamp), so nothing for the GC to find. */
    for (int i = 0; i < 4; i++) {
        char *pp = pathf("%s/site.cortes/2/%s", t, pages[i]), *gp = pathf("%s.gz", pp);
        assert_int_equal(lstat(pp, &sb), 0);
        assert_int_equal(sb.st_nlink, 1);
        assert_int_equal(lstat(gp, &sb), 0);
        assert_int_equal(sb.st_nlink, 1);
        assert_int_equal(sh("h=$(sha256sum < '%s' | cut -c1-64) && ! test -e %s/$(echo $h | cut -c1-2)/$(echo $h | cut -c3-)",
                            pp, pool),
                         0);
        free(pp), free(gp);
    }
    /* A served page edited in place, and a twin truncated, are put back by the next export
     * of the same cut (replaced by a rename: the file is never missing), the rest untouched. */
    char *ip = pathf("%s/site.cortes/2/index.html", t), *sp = pathf("%s/site.cortes/2/gubernatura/index.html", t);
    struct stat before;
    assert_int_equal(lstat(sp, &before), 0);
    assert_int_equal(sh("chmod u+w '%s' '%s.gz' && echo cambio >> '%s' && : > '%s.gz'", ip, ip, ip, ip), 0);
    assert_int_equal(export_link(store, out, 2, 3, &d), PREP_OK);
    assert_int_equal(sh("cd '%s' && sha256sum -c --strict --quiet SHA256SUMS && gzip -dc index.html.gz | cmp -s - index.html",
                        out),
                     0);
    assert_int_equal(lstat(sp, &sb), 0);
    assert_true(sb.st_ino == before.st_ino); /* an intact page is not rewritten */
    free(ip), free(sp);
    /* A damaged chunk is not used: with every chunk damaged, cut 3 (a new stamp, a body
     * changed again) finds the deflate CRC of the chunks it shares with cut 2 wrong,
     * compresses those parts again, and its twins still inflate to its pages. */
    char *sum = NULL;
    assert_int_equal(sh("for f in $(find '%s' -name '*.dfl'); do chmod u+w $f; printf 'XXXX' | dd of=$f bs=1 seek=40 conv=notrunc 2>/dev/null; done", pool), 0);
    composed_cut(store, &sk, 3, 1);
    assert_int_equal(export_link(store, out, 3, 3, &d), PREP_OK);
    /* Still damaged: only the four chunks cut 3 does not use (cut 1's and cut 2's stamps,
     * cut 1's and cut 2's body of page 1). */
    assert_int_equal(sh("test $(grep -l XXXX $(find '%s' -name '*.dfl') | wc -l) = 4", pool), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(sh("cd '%s' && gzip -t '%s.gz' && gzip -dc '%s.gz' | cmp -s - '%s'", out, pages[i], pages[i],
                            pages[i]),
                         0);
    assert_int_equal(sh("cd '%s' && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    free(sum);
    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(store), free(out), free(pool);
}

/* The tree becomes visible only after one syncfs: when it fails, nothing is switched. */
static int fail_syncfs(void *ctx, const char *op, const char *path)
{
    (void)path;
    (*(int *)ctx)++;
    return !strcmp(op, "syncfs") ? EIO : 0;
}

static void test_link_syncfs_failure(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t), *out = pathf("%s/site", t);
    prep_cut_seckey sk;
    setup_store(store, 2, &sk);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(export_link(store, out, 1, 3, &d), PREP_OK);
    int calls = 0;
    prep_cut_set_io_hook(fail_syncfs, &calls);
    prep_err e = export_link(store, out, 2, 3, &d);
    prep_cut_set_io_hook(NULL, NULL);
    assert_int_equal(e, PREP_ERR_IO);
    assert_non_null(prep_diags_find(&d, "io"));
    assert_true(calls > 0);
    char target[256];
    ssize_t n = readlink(out, target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = 0;
    assert_string_equal(target, "site.sitios/1"); /* still the previous cut */
    char *a2 = pathf("%s/site.cortes/2", t);
    assert_int_not_equal(access(a2, F_OK), 0); /* not archived either */
    free(a2);
    assert_int_equal(dir_count(t, "site.tmp"), 0);
    char *sites = pathf("%s/site.sitios", t);
    assert_int_equal(dir_count(sites, ".tmp-"), 0);
    free(sites);
    /* The next export completes it. */
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(export_link(store, out, 2, 3, &d), PREP_OK);
    assert_int_equal(sh("cd '%s' && grep -q 'Corte 2' index.html && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(store), free(out);
}

/* The spare skeleton (docs/apache.md): a thinned cut's directories, emptied of files, are
 * where the next cut's archive is built; directories the new cut does not use are removed,
 * and a path that changed kind (a file where the spare has a directory) makes the tree be
 * built again in an empty directory. */
static void spare_site(site *s, int cut, int with_deep, int y_is_file)
{
    memset(s, 0, sizeof *s);
    site_set(s, "index.html", "<!doctype html><title>PREP</title><p>Corte %d</p>%0300d", cut, 0);
    site_set(s, "a/x/index.html", "<p>a x %d</p>", cut);
    if (y_is_file) site_set(s, "b/y.txt", "y %d\n", cut);
    else site_set(s, "b/y.txt/index.html", "<p>b y %d</p>", cut);
    site_set(s, "c/index.html", "<p>c %d</p>", cut);
    if (with_deep) site_set(s, "d/deep/er/index.html", "<p>d %d</p>", cut);
}

static prep_err export_spare(const char *store, const char *out, uint64_t seq, prep_diags *d)
{
    prep_cut_export_opts o;
    prep_cut_export_opts_init(&o);
    o.link = 1;
    o.seq = seq;
    o.keep = 0;
    o.archive_full = 1;
    return prep_cut_export(store, out, &o, d);
}

static void test_link_spare_skeleton(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t), *out = pathf("%s/site", t), *arch = pathf("%s/site.cortes", t);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(9, &sk, &pk);
    prep_diags d;
    prep_diags_init(&d);
    static const int deep[5] = {0, 1, 1, 0, 0}, yfile[5] = {0, 0, 0, 0, 1};
    for (int c = 1; c <= 4; c++) {
        site s;
        spare_site(&s, c, deep[c], yfile[c]);
        uint64_t seq = 0;
        assert_int_equal(make_cut(store, &s, &sk, PREP_CUT_LIVE, T0 + 300 * (c - 1), 3600, &seq, &d), PREP_OK);
        site_free(&s);
    }
    assert_int_equal(export_spare(store, out, 1, &d), PREP_OK);
    assert_int_equal(export_spare(store, out, 2, &d), PREP_OK);
    /* Cut 1 left the window: thin, and its directories are the spare, without a file. */
    assert_int_equal(sh("cd '%s' && test \"$(ls 1)\" = \"$(printf 'SHA256SUMS\\nSHA256SUMS.sig')\" && "
                        "test -d .spare/d/deep/er && test -z \"$(find .spare ! -type d)\"",
                        arch),
                     0);
    struct stat sp, nw;
    char *spx = pathf("%s/.spare/a/x", arch), *nx = pathf("%s/3/a/x", arch);
    assert_int_equal(lstat(spx, &sp), 0);
    /* Cut 3 has no d/: built in the spare (the same directory inode), d/ removed. */
    assert_int_equal(export_spare(store, out, 3, &d), PREP_OK);
    assert_int_equal(lstat(nx, &nw), 0);
    assert_true(nw.st_ino == sp.st_ino);
    assert_int_equal(sh("cd '%s/3' && test ! -e d && test $(find . -type d | wc -l) = 6 && "
                        "sha256sum -c --strict --quiet SHA256SUMS",
                        arch),
                     0);
    /* The spare now comes from cut 2, whose b/y.txt is a directory; cut 4's is a file. */
    assert_int_equal(sh("test -d '%s/.spare/b/y.txt' && test -d '%s/.spare/d/deep'", arch, arch), 0);
    assert_int_equal(export_spare(store, out, 4, &d), PREP_OK);
    assert_int_equal(sh("cd '%s/4' && test -f b/y.txt && test ! -e d && test $(find . -type d | wc -l) = 5 && "
                        "sha256sum -c --strict --quiet SHA256SUMS && cd '%s' && sha256sum -c --strict --quiet SHA256SUMS",
                        arch, out),
                     0);
    assert_int_equal(dir_count(arch, ".tmp-"), 0);
    assert_int_equal(dir_count(arch, ".thin-"), 0);
    free(spx), free(nx);
    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(store), free(out), free(arch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_switches),
        cmocka_unit_test(test_link_prunes_old_trees),
        cmocka_unit_test(test_link_refusals_and_upgrade),
        cmocka_unit_test(test_link_composed_pages),
        cmocka_unit_test(test_link_syncfs_failure),
        cmocka_unit_test(test_link_spare_skeleton),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Helpers shared by the cut tests (test_cut*.c): temp dirs, keys, an institute that
 * makes cuts, and a "delivery" that copies one cut and the objects a receiver lacks.
 * Header-only (static functions) so each test program stays one .c file. */
#ifndef TEST_CUT_UTIL_H
#define TEST_CUT_UTIL_H

/* Not every test program uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/core.h"
#include "prep/cut.h"

/* 2021-06-06 20:00:00 America/Mexico_City (UTC-5) = 1623027600 (GNU date). */
#define T0 ((prep_time)1623027600)

static int rm_cb_(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    if (flag == FTW_DP)
        rmdir(p);
    else
        unlink(p);
    return 0;
}

static void rm_rf(const char *p) { nftw(p, rm_cb_, 16, FTW_DEPTH | FTW_PHYS); }

static char *tmpdir_new(void)
{
    char *t = prep_xstrdup("/tmp/prep-cut-test-XXXXXX");
    assert_non_null(mkdtemp(t));
    return t;
}

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return prep_xstrdup(buf);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static char *read_all(const char *path, size_t *n)
{
    char *d = NULL;
    size_t len = 0;
    if (n) *n = 0;
    if (prep_read_file(path, 0, &d, &len) != PREP_OK) return NULL;
    if (n) *n = len;
    return d;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int r = system(buf);
    return WIFEXITED(r) ? WEXITSTATUS(r) : 128;
}

/* cp -r without a child process (tests call it often). Regular files and dirs only. */
static const char *ct_src_, *ct_dst_;
static int ct_cb_(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)f;
    char *to = pathf("%s%s", ct_dst_, p + strlen(ct_src_));
    if (flag == FTW_D) {
        mkdir(to, 0755);
    } else if (flag == FTW_F && S_ISREG(st->st_mode)) {
        size_t n;
        char *b = read_all(p, &n);
        if (b) write_bytes(to, b, n);
        free(b);
    }
    free(to);
    return 0;
}

static void copy_tree(const char *src, const char *dst)
{
    ct_src_ = src;
    ct_dst_ = dst;
    assert_int_equal(nftw(src, ct_cb_, 16, FTW_PHYS), 0);
}

/* Number of entries in a directory, less . and .. (-1 if it cannot be read). */
static int dir_count(const char *p, const char *prefix)
{
    DIR *d = opendir(p);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && (!prefix || !strncmp(e->d_name, prefix, strlen(prefix))))
            n++;
    closedir(d);
    return n;
}

/* A deterministic key from a one-byte seed pattern (tests need reproducible manifests). */
static void key_from_seed(uint8_t fill, prep_cut_seckey *sk, prep_cut_pubkey *pk)
{
    assert_true(sodium_init() >= 0);
    uint8_t seed[32], pub[32];
    memset(seed, fill, sizeof seed);
    crypto_sign_seed_keypair(pub, sk->sk, seed);
    for (int i = 0; i < 8; i++) sk->keynum[i] = (uint8_t)(fill + i);
    sk->mark = PREP_CUT_KEY_UNMARKED;
    prep_cut_seckey_public(sk, pk);
}

/* ---------------------------------------------------------------- a tiny site */
typedef struct site {
    char **paths;
    char **data;
    size_t *len;
    size_t n;
} site;

static void site_set(site *s, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void site_set(site *s, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *buf = prep_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->paths[i], path)) {
            free(s->data[i]);
            s->data[i] = buf;
            s->len[i] = (size_t)n;
            return;
        }
    s->paths = prep_xrealloc(s->paths, (s->n + 1) * sizeof *s->paths);
    s->data = prep_xrealloc(s->data, (s->n + 1) * sizeof *s->data);
    s->len = prep_xrealloc(s->len, (s->n + 1) * sizeof *s->len);
    s->paths[s->n] = prep_xstrdup(path);
    s->data[s->n] = buf;
    s->len[s->n] = (size_t)n;
    s->n++;
}

static void site_free(site *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->paths[i]);
        free(s->data[i]);
    }
    free(s->paths);
    free(s->data);
    free(s->len);
    memset(s, 0, sizeof *s);
}

/* A small realistic site: pages per level plus the database. */
static void site_init(site *s, int npages)
{
    memset(s, 0, sizeof *s);
    site_set(s, "index.html", "<!doctype html><title>PREP 2021</title><p>Corte: inicial</p>%0400d", 0);
    site_set(s, "LEEME.txt", "Base de datos del PREP. Corte inicial.\n");
    site_set(s, "datos/QRO_GUB_2021.csv", "CLAVE_CASILLA|TOTAL_VOTOS_CALCULADOS\n");
    for (int i = 0; i < npages; i++) {
        char p[64];
        snprintf(p, sizeof p, "gubernatura/seccion-%04d/index.html", i + 1);
        site_set(s, p, "<!doctype html><title>Sección %d</title><p>sin actas</p>%0300d", i + 1, 0);
    }
}

static prep_err make_cut(const char *store, const site *s, const prep_cut_seckey *k, prep_cut_mode mode,
                         prep_time at, int64_t valid_for, uint64_t *seq, prep_diags *d)
{
    prep_cut_file *f = calloc(s->n, sizeof *f);
    for (size_t i = 0; i < s->n; i++) {
        f[i].path = s->paths[i];
        f[i].data = s->data[i];
        f[i].len = s->len[i];
    }
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.elections = "gubernatura diputaciones ayuntamientos";
    p.instant = at;
    p.zone = "America/Mexico_City";
    p.mode = mode;
    p.valid_for = valid_for;
    prep_err e = prep_cut_make(store, &p, f, s->n, k, seq, d);
    free(f);
    return e;
}

static void copy_file_to(const char *from, const char *to)
{
    size_t n;
    char *b = read_all(from, &n);
    assert_non_null(b);
    write_bytes(to, b, n);
    free(b);
}

/* Copies cut seq of src_store into incoming (made fresh) with every object that
 * dst_store lacks (what delivery sends). Returns the number of objects copied. */
static size_t deliver(const char *src_store, uint64_t seq, const char *dst_store, const char *incoming)
{
    rm_rf(incoming);
    char *cd = pathf("%s/cuts/%llu", incoming, (unsigned long long)seq);
    assert_int_equal(prep_mkdirs(cd), PREP_OK);
    char *a = pathf("%s/cuts/%llu/manifest", src_store, (unsigned long long)seq);
    char *b = pathf("%s/manifest", cd);
    copy_file_to(a, b);
    free(a);
    free(b);
    a = pathf("%s/cuts/%llu/manifest.sig", src_store, (unsigned long long)seq);
    b = pathf("%s/manifest.sig", cd);
    copy_file_to(a, b);
    free(a);
    free(b);
    free(cd);
    prep_cut_manifest m;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_load(src_store, seq, &m, &d), PREP_OK);
    prep_cut_delta dl;
    assert_int_equal(prep_cut_delta_compute(dst_store, &m, &dl), PREP_OK);
    for (size_t i = 0; i < dl.n; i++) {
        char src[4096], dst[4096];
        assert_int_equal(prep_cut_object_path(src_store, dl.sha256[i], src, sizeof src), 0);
        assert_int_equal(prep_cut_object_path(incoming, dl.sha256[i], dst, sizeof dst), 0);
        char *dir = pathf("%s/objects/%.2s", incoming, dl.sha256[i]);
        assert_int_equal(prep_mkdirs(dir), PREP_OK);
        free(dir);
        copy_file_to(src, dst);
    }
    size_t n = dl.n;
    prep_cut_delta_free(&dl);
    prep_cut_manifest_free(&m);
    prep_diags_free(&d);
    return n;
}

/* Replaces incoming cut seq's manifest by a patch against cut seq-1 of src_store. */
static size_t make_patch_delivery(const char *src_store, uint64_t seq, const char *incoming)
{
    prep_cut_manifest a, b;
    assert_int_equal(prep_cut_load(src_store, seq - 1, &a, NULL), PREP_OK);
    assert_int_equal(prep_cut_load(src_store, seq, &b, NULL), PREP_OK);
    prep_buf pb;
    prep_buf_init(&pb, 0);
    assert_int_equal(prep_cut_manifest_diff(&a, &b, &pb), PREP_OK);
    char *mp = pathf("%s/cuts/%llu/manifest", incoming, (unsigned long long)seq);
    char *pp = pathf("%s.patch", mp);
    unlink(mp);
    write_bytes(pp, pb.data, pb.len);
    size_t n = pb.len;
    prep_buf_free(&pb);
    prep_cut_manifest_free(&a);
    prep_cut_manifest_free(&b);
    free(mp), free(pp);
    return n;
}

static void policy_for(prep_cut_policy *pol, const prep_cut_pubkey *pk, prep_time now)
{
    prep_cut_policy_init(pol);
    pol->keys = pk;
    pol->n_keys = 1;
    pol->now = now;
}

/* The active sequence of a store (0 = none). */
static uint64_t active_seq(const char *store)
{
    prep_cut_active a;
    if (prep_cut_active_read(store, &a, NULL) != PREP_OK) return 0;
    return a.seq;
}

/* The last line of STORE/log (owned), or NULL. */
static char *log_last_line(const char *store)
{
    char *p = pathf("%s/log", store);
    size_t n;
    char *b = read_all(p, &n);
    free(p);
    if (!b || n == 0) {
        free(b);
        return NULL;
    }
    if (b[n - 1] == '\n') b[--n] = 0;
    char *nl = strrchr(b, '\n');
    char *r = prep_xstrdup(nl ? nl + 1 : b);
    free(b);
    return r;
}

#endif

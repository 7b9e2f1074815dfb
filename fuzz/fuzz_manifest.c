/* libFuzzer target: the manifest parser (prep_cut_manifest_parse), and the same input
 * as a manifest patch (prep_cut_manifest_patch) against a plain base, and against a base
 * of composed pages whose part objects exist (prep_cut_manifest_patch_objects, so a "#s"
 * substitution is applied for real: seeds patch-subst-*). Besides "no crash, no
 * leak, no UB", checks the invariants every accepted manifest must keep: the bytes are
 * kept exactly, entries are sorted and unique, every path passes the path rules, the
 * sizes add up to the total, and each entry is found by its path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/cut.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The composed base: pages a.html and b.html, each pre | stamp | body, sharing the stamp;
 * the objects (and a second stamp, the next cut's) are written once under a temporary
 * directory. fuzz/corpus/manifest/patch-subst-* are patches against it. */
static const char *const parts_text[] = {"<h1>a</h1>", "<h1>b</h1>", "<i>corte 1</i>", "<p>1</p>", "<p>22</p>",
                                         "<i>corte 2, 20:05</i>"};
enum { PRE_A, PRE_B, STAMP1, BODY_A, BODY_B, STAMP2, NPARTS };
static char part_hash[NPARTS][65];
static char objroot[64];

static void put_object(const char *bytes)
{
    char h[65], dir[128], path[200];
    prep_sha256_hex(bytes, strlen(bytes), h);
    snprintf(dir, sizeof dir, "%s/objects", objroot);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/objects/%.2s", objroot, h);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/%s", dir, h + 2);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, strlen(bytes), f) != strlen(bytes)) abort();
    fclose(f);
}

static void composed_entry(prep_buf *b, const char *path, int pre, int stamp, int body)
{
    int k[3] = {pre, stamp, body};
    char all[256], h[65];
    snprintf(all, sizeof all, "%s%s%s", parts_text[pre], parts_text[stamp], parts_text[body]);
    prep_sha256_hex(all, strlen(all), h);
    prep_buf_printf(b, "#f %zu text/html; charset=utf-8\n#p", strlen(all));
    for (int i = 0; i < 3; i++) prep_buf_printf(b, " %zu %s", strlen(parts_text[k[i]]), part_hash[k[i]]);
    prep_buf_printf(b, "\n%s  %s\n", h, path);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void rm_objroot(void) { nftw(objroot, rm_one, 8, FTW_DEPTH | FTW_PHYS); }

static void composed_base(prep_cut_manifest *m)
{
    snprintf(objroot, sizeof objroot, "/tmp/prep-fuzz-parts-XXXXXX");
    if (!mkdtemp(objroot)) abort();
    atexit(rm_objroot);
    for (int i = 0; i < NPARTS; i++) {
        prep_sha256_hex(parts_text[i], strlen(parts_text[i]), part_hash[i]);
        put_object(parts_text[i]);
    }
    size_t bytes = strlen(parts_text[PRE_A]) + strlen(parts_text[PRE_B]) + 2 * strlen(parts_text[STAMP1]) +
                   strlen(parts_text[BODY_A]) + strlen(parts_text[BODY_B]);
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_printf(&b,
                    "# prep-cut-manifest 1\n# process: qro2021\n# elections: gub\n# sequence: 1\n"
                    "# instant: 2021-06-06T20:00:00-05:00\n# zone: America/Mexico_City\n# mode: live\n"
                    "# valid-until: 2021-06-06T21:00:00-05:00\n# previous: none\n# key: 0708090a0b0c0d0e\n"
                    "# files: 2\n# bytes: %zu\n",
                    bytes);
    composed_entry(&b, "a.html", PRE_A, STAMP1, BODY_A);
    composed_entry(&b, "b.html", PRE_B, STAMP1, BODY_B);
    prep_buf_puts(&b, "# end\n");
    if (prep_cut_manifest_parse(b.data, b.len, NULL, "composed base", m, NULL)) abort();
    prep_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prep_cut_limits lim;
    prep_cut_limits_default(&lim);
    lim.max_files = 5000; /* keep each run small; the limit logic is the same */
    lim.max_manifest_bytes = 1 << 20;
    prep_diags d;
    prep_diags_init(&d);
    d.max_keep = 4;
    prep_cut_manifest m;
    prep_err e = prep_cut_manifest_parse(data, size, &lim, "fuzz", &m, &d);
    if (e == PREP_OK) {
        if (m.raw_len != size || memcmp(m.raw, data, size) != 0) abort();
        uint64_t sum = 0;
        for (size_t i = 0; i < m.n; i++) {
            const prep_cut_entry *en = &m.entries[i];
            if (prep_cut_path_check(en->path, strlen(en->path), NULL) != 0) abort();
            if (i && strcmp(m.entries[i - 1].path, en->path) >= 0) abort();
            if (prep_cut_manifest_find(&m, en->path) != en) abort();
            if (strlen(en->sha256) != 64) abort();
            if (en->n_parts == 1 || en->n_parts > PREP_CUT_PARTS_MAX || (en->n_parts == 0) != (en->parts == NULL)) abort();
            uint64_t psum = 0;
            for (size_t k = 0; k < en->n_parts; k++) {
                if (strlen(en->parts[k].sha256) != 64) abort();
                psum += en->parts[k].size;
            }
            if (en->n_parts && psum != en->size) abort();
            sum += en->size;
        }
        if (sum != m.total_bytes) abort();
        if (m.meta.valid_until <= m.meta.instant) abort();
        if ((m.meta.seq == 1) != (m.meta.previous[0] == 0)) abort();
    } else {
        if (m.entries || m.raw || m.n) abort(); /* a refused manifest leaves nothing behind */
        if (d.total == 0) abort();              /* and always says why */
    }
    prep_cut_manifest_free(&m);
    /* The same bytes as a manifest patch against a fixed base: whatever it rebuilds must
     * be bounded, and must hash to the patch's result line. */
    static const char base_text[] =
        "# prep-cut-manifest 1\n# process: qro2021\n# elections: gub\n# sequence: 1\n"
        "# instant: 2021-06-06T20:00:00-05:00\n# zone: America/Mexico_City\n# mode: live\n"
        "# valid-until: 2021-06-06T21:00:00-05:00\n# previous: none\n# key: 0708090a0b0c0d0e\n"
        "# files: 2\n# bytes: 6\n#f 0 application/json\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.json\n"
        "#f 6 text/plain; charset=utf-8\n"
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  hello.txt\n# end\n";
    static prep_cut_manifest base;
    static int have_base;
    if (!have_base) {
        if (prep_cut_manifest_parse(base_text, sizeof base_text - 1, NULL, "base", &base, NULL)) abort();
        have_base = 1;
    }
    prep_buf out;
    if (prep_cut_manifest_patch(&base, data, size, &lim, "fuzz", &out, &d) == PREP_OK) {
        if (out.len > lim.max_manifest_bytes) abort();
        char h[65];
        prep_sha256_hex(out.data, out.len, h);
        const char *r = memmem(data, size, "# result: ", 10);
        if (!r || memcmp(r + 10, h, 64) != 0) abort();
        prep_buf_free(&out);
    }
    static prep_cut_manifest cbase;
    static int have_cbase;
    if (!have_cbase) {
        composed_base(&cbase);
        have_cbase = 1;
    }
    const char *roots[1] = {objroot};
    /* The head reader a receiver uses to fetch the "#s" parts first: hex names, distinct
     * old parts, at most PREP_CUT_SUBST_MAX. */
    char neu[PREP_CUT_SUBST_MAX][65];
    uint64_t nsize[PREP_CUT_SUBST_MAX];
    size_t nn = 0;
    prep_err se = prep_cut_manifest_patch_subst(cbase.sha256, data, size, &lim, "fuzz", neu, nsize, &nn, &d);
    if (nn > PREP_CUT_SUBST_MAX || (nn && se != PREP_OK)) abort();
    for (size_t j = 0; j < nn; j++)
        if (!prep_is_sha256_hex(neu[j]) || nsize[j] > PREP_CUT_SUBST_PART_MAX) abort();
    if (prep_cut_manifest_patch_objects(&cbase, data, size, &lim, roots, 1, "fuzz", &out, &d) == PREP_OK) {
        /* a patch that applies has a head the head reader takes, with the same part */
        if (se != PREP_OK) abort();
        for (size_t j = 0; j < nn; j++)
            if (!memmem(data, size, neu[j], 64)) abort();
        if (out.len > lim.max_manifest_bytes) abort();
        char h[65];
        prep_sha256_hex(out.data, out.len, h);
        const char *r = memmem(data, size, "# result: ", 10);
        if (!r || memcmp(r + 10, h, 64) != 0) abort();
        prep_buf_free(&out);
    }
    prep_diags_free(&d);
    return 0;
}

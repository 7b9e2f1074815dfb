/* libFuzzer target: the manifest parser (prep_cut_manifest_parse), and the same input
 * as a manifest patch (prep_cut_manifest_patch). Besides "no crash, no
 * leak, no UB", checks the invariants every accepted manifest must keep: the bytes are
 * kept exactly, entries are sorted and unique, every path passes the path rules, the
 * sizes add up to the total, and each entry is found by its path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prep/cut.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    prep_diags_free(&d);
    return 0;
}

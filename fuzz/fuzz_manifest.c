/* libFuzzer target: the manifest parser (prep_cut_manifest_parse). Besides "no crash, no
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
    prep_diags_free(&d);
    return 0;
}

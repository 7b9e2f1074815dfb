/* prep cut: the cuts a server may stand on when the active one cannot be loaded (issue 13:
 * an object of the active cut deleted or damaged on disk after activation). Read-only, no
 * lock: the store is only read (docs/internals/serve.md "Falling back to an older cut"). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cut_internal.h"

prep_err prep_cut_fallbacks(const char *store, uint64_t *seqs, size_t max, size_t *n, prep_diags *d)
{
    *n = 0;
    prep_cut_active a;
    prep_err e = cut_active_read_path(store, &a, d);
    if (e) return e;
    uint64_t *all = NULL;
    size_t n_all = 0;
    e = cut_store_list(store, &all, &n_all, d);
    if (e && !n_all) {
        free(all);
        return e;
    }
    /* The chain link the next newer cut names: the active cut's `previous` when its
     * manifest reads and is the one the pointer names; "" when unknown (not read). */
    char expect[65] = "";
    uint64_t expect_for = 0; /* the sequence expect belongs to (the newer cut's seq - 1) */
    {
        prep_cut_manifest m;
        prep_diags quiet;
        prep_diags_init(&quiet);
        if (cut_store_read_cut(store, a.seq, NULL, &m, NULL, NULL, &quiet) == PREP_OK) {
            if (!strcmp(m.sha256, a.manifest_sha256) && a.seq > 1) {
                memcpy(expect, m.meta.previous, sizeof expect);
                expect_for = a.seq - 1;
            }
            prep_cut_manifest_free(&m);
        }
        prep_diags_free(&quiet);
    }
    for (size_t i = n_all; i-- > 0 && *n < max;) {
        uint64_t s = all[i];
        if (s >= a.seq) continue; /* newer than the active: never activated (rollback guard) */
        prep_cut_manifest m;
        prep_err re = cut_store_read_cut(store, s, NULL, &m, NULL, NULL, d);
        int ok = re == PREP_OK;
        char label[64];
        snprintf(label, sizeof label, "cuts/%llu", (unsigned long long)s);
        if (ok) { /* its signature file, as the served SHA256SUMS.sig (the manifest still
                   * names its previous for the chain when this one is passed over) */
            char *sp = cut_fmt("%s/cuts/%llu/manifest.sig", store, (unsigned long long)s);
            struct stat st;
            if (lstat(sp, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
                prep_diags_add(d, sp, 0, 0, "not-found", "cut %llu has no signature file: not a fallback",
                               (unsigned long long)s);
                ok = 0;
            }
            free(sp);
        }
        if (ok && (strcmp(m.meta.process, a.process) || m.meta.mode != a.mode)) {
            prep_diags_add(d, label, 0, 0, "fallback-other",
                           "cut %llu is of process \"%s\" (%s), the active one of \"%s\" (%s): not a fallback",
                           (unsigned long long)s, m.meta.process, prep_cut_mode_name(m.meta.mode), a.process,
                           prep_cut_mode_name(a.mode));
            ok = 0;
        }
        if (ok && expect_for == s && *expect && strcmp(expect, m.sha256)) {
            prep_diags_add(d, label, 0, 0, "chain",
                           "cut %llu's manifest is %s; the next cut names %s as its previous: not a fallback",
                           (unsigned long long)s, m.sha256, expect);
            ok = 0;
        }
        if (re == PREP_OK) {
            memcpy(expect, m.meta.previous, sizeof expect);
            expect_for = s - 1;
            prep_cut_manifest_free(&m);
        } else {
            expect[0] = '\0';
        }
        if (ok) seqs[(*n)++] = s;
    }
    free(all);
    return PREP_OK;
}

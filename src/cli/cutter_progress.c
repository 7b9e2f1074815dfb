/* The night's progress across cuts: the cutter reads each election's series back from the
 * store's newest cut — its manifest signed by the cutter's key, the series' bytes those the
 * manifest lists — once (at its first cut: a first cut starts the series, a restarted
 * institute or a later `prep cut` continues it), then carries it in memory. A series that
 * cannot be read whole never stops a cut: what was readable is kept, the rest starts over
 * from this cut, and the log says so. */
#include "cutter.h"

#include <stdlib.h>
#include <string.h>

/* Election e's series from the object of cut m, checked against the size and SHA-256 that
 * the cut's manifest lists (its signature is checked first, prep_cut_check_signer). */
static void load_one(const prep_catalog *c, const char *store, const prep_cut_manifest *m, uint32_t e,
                     prep_render_progress *p)
{
    char path[128];
    prep_render_progress_path(c, e, path, sizeof path);
    const prep_cut_entry *en = prep_cut_manifest_find(m, path);
    if (!en) {
        prep_log(PREP_LOG_INFO, "progress: cut %llu has no %s: the series of %s starts with this cut",
                 (unsigned long long)m->meta.seq, path, c->elections[e].id);
        return;
    }
    char *data = NULL;
    size_t len = 0;
    if (prep_cut_file_read(store, en, 64u << 20, &data, &len) != PREP_OK) {
        prep_log(PREP_LOG_WARN,
                 "progress: %s of cut %llu cannot be read or does not match the cut's SHA256SUMS: the series of %s "
                 "starts over with this cut",
                 path, (unsigned long long)m->meta.seq, c->elections[e].id);
        free(data);
        return;
    }
    prep_diags d;
    prep_diags_init(&d);
    char name[4300];
    snprintf(name, sizeof name, "%s (cut %llu)", path, (unsigned long long)m->meta.seq);
    if (prep_render_progress_parse(p, e, name, data, len, &d)) {
        prep_diags_print(&d, stderr, 5);
        prep_log(PREP_LOG_WARN, "progress: the series of %s in cut %llu is damaged (above): kept the %zu point(s) "
                                "read before the damage; this cut's point follows them",
                 c->elections[e].id, (unsigned long long)m->meta.seq, prep_render_progress_len(p, e));
    }
    prep_diags_free(&d);
    free(data);
}

prep_err cutter_progress_load(const prep_catalog *c, const char *store, const prep_cut_manifest *active,
                              prep_render_progress **out)
{
    prep_err e = prep_render_progress_new(c, out);
    if (e || !active) return e;
    for (uint32_t el = 0; el < c->n_elections; el++) load_one(c, store, active, el, *out);
    return PREP_OK;
}

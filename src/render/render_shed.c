/* render: parts of the last site held by the cut store only (prep_site_file.stored).
 *
 * The cutter keeps its last site between cuts so that the next render reuses every page
 * whose numbers did not change (render_site.c, "reusing the last site"). At national scale
 * that site is ~3 GB by the night's close, ~1.9 GB of it the body parts of the 71,049
 * section pages and their datos.json, which a cut re-renders a few thousand at a time.
 * Held in the heap for hours, reallocated as they grow, they took the cutter's peak to
 * 5.49 GB (docs/benchmarks.md). Once a cut holds them, the store has every such part as an
 * object named by its SHA-256: the site keeps the hash instead of the bytes, and the next
 * cut names the object again (prep_cut_file.stored) without reading it, except to hash a
 * file whose earlier part changed. A restarted cutter has no last site: its first render
 * offers each part to prep_render_opts.shed as its file is made (sec_add), so that the
 * site of a night's close is never whole in memory either. */
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

size_t site_data_off(const prep_site_file *f, size_t k)
{
    size_t off = 0;
    for (size_t j = 0; j < k && j < f->n_parts; j++)
        if (!((f->stored >> j) & 1u)) off += f->part_len[j];
    return off;
}

size_t prep_render_site_file_data_len(const prep_site_file *f)
{
    if (!f->stored) return f->len;
    return site_data_off(f, f->n_parts);
}

size_t site_stored_rank(uint32_t stored, size_t k)
{
    return (size_t)__builtin_popcount(stored & ((1u << k) - 1u));
}

void site_file_shed(prep_site_file *f, uint32_t want, prep_render_part_sha_fn sha, void *ctx, uint64_t *gone)
{
    unsigned char md[PREP_RENDER_PARTS_MAX][32];
    uint32_t got = 0;
    for (size_t k = 0; k < f->n_parts; k++)
        if (((want >> k) & 1u) && !((f->stored >> k) & 1u) &&
            sha(ctx, f->path, f->n_parts, k, f->data + site_data_off(f, k), f->part_len[k], md[k]))
            got |= 1u << k;
    if (!got) return;
    uint32_t st = f->stored | got;
    size_t nst = (size_t)__builtin_popcount(st), dl = 0;
    for (size_t k = 0; k < f->n_parts; k++)
        if (!((st >> k) & 1u)) dl += f->part_len[k];
    unsigned char(*ns)[32] = prep_xmalloc(nst * sizeof *ns);
    unsigned char *nd = prep_xmalloc(dl ? dl : 1);
    size_t j = 0, jo = 0, off = 0, off_old = 0;
    for (size_t k = 0; k < f->n_parts; k++) {
        size_t len = f->part_len[k];
        if ((f->stored >> k) & 1u) {
            memcpy(ns[j++], f->stored_sha[jo++], sizeof *ns);
        } else if ((got >> k) & 1u) {
            memcpy(ns[j++], md[k], sizeof *ns);
            off_old += len;
            if (gone) *gone += len;
        } else {
            memcpy(nd + off, f->data + off_old, len);
            off += len;
            off_old += len;
        }
    }
    free(f->data);
    free(f->stored_sha);
    f->data = nd;
    f->stored = st;
    f->stored_sha = ns;
}

void prep_render_site_shed(prep_site *s, prep_render_part_sha_fn sha, void *ctx, uint64_t *freed)
{
    uint64_t gone = 0;
    for (size_t i = 0; i < s->n; i++) {
        prep_site_file *f = &s->v[i];
        uint32_t want = f->sheddable & ~f->stored;
        if (want && f->n_parts && f->data) site_file_shed(f, want, sha, ctx, &gone);
    }
    if (freed) *freed = gone;
}

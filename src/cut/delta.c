/* prep cut: the delta of a cut against a receiver's store (DESIGN.md promise 7: delivery
 * costs what changed). Objects are named by content, so "what the receiver lacks" is the
 * set of the manifest's distinct hashes with no object file in its store. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cut_internal.h"

static int cmp_entry_hash(const void *a, const void *b)
{
    const prep_cut_entry *x = *(const prep_cut_entry *const *)a, *y = *(const prep_cut_entry *const *)b;
    return strcmp(x->sha256, y->sha256);
}

prep_err prep_cut_delta_compute(const char *store, const prep_cut_manifest *m, prep_cut_delta *out)
{
    memset(out, 0, sizeof *out);
    const prep_cut_entry **byhash = malloc((m->n ? m->n : 1) * sizeof *byhash);
    if (!byhash) return PREP_ERR_NOMEM;
    for (size_t i = 0; i < m->n; i++) byhash[i] = &m->entries[i];
    qsort(byhash, m->n, sizeof *byhash, cmp_entry_hash);
    out->sha256 = malloc((m->n ? m->n : 1) * sizeof *out->sha256);
    out->size = malloc((m->n ? m->n : 1) * sizeof *out->size);
    if (!out->sha256 || !out->size) {
        free(byhash);
        prep_cut_delta_free(out);
        return PREP_ERR_NOMEM;
    }
    size_t rl = strlen(store) + 80;
    char *p = prep_xmalloc(rl);
    for (size_t i = 0; i < m->n; i++) {
        const prep_cut_entry *e = byhash[i];
        if (i > 0 && !strcmp(byhash[i - 1]->sha256, e->sha256)) continue;
        out->full_objects++;
        out->full_bytes += e->size;
        struct stat st;
        int have = prep_cut_object_path(store, e->sha256, p, rl) == 0 && lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
                   (uint64_t)st.st_size == e->size;
        if (have) continue;
        memcpy(out->sha256[out->n], e->sha256, 65);
        out->size[out->n] = e->size;
        out->bytes += e->size;
        out->n++;
    }
    free(p);
    free(byhash);
    return PREP_OK;
}

void prep_cut_delta_free(prep_cut_delta *dl)
{
    free(dl->sha256);
    free(dl->size);
    memset(dl, 0, sizeof *dl);
}

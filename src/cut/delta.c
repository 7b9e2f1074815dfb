/* prep cut: the delta of a cut against a receiver's store (DESIGN.md promise 7: delivery
 * costs what changed). Objects are named by content, so "what the receiver lacks" is the
 * set of the manifest's distinct hashes with no object file in its store. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cut_internal.h"

typedef struct objref {
    const char *sha256;
    uint64_t size;
} objref;

static int cmp_obj(const void *a, const void *b)
{
    return strcmp(((const objref *)a)->sha256, ((const objref *)b)->sha256);
}

prep_err prep_cut_delta_compute(const char *store, const prep_cut_manifest *m, prep_cut_delta *out)
{
    memset(out, 0, sizeof *out);
    size_t no = 0;
    for (size_t i = 0; i < m->n; i++) no += cut_entry_nobj(&m->entries[i]);
    objref *v = malloc((no ? no : 1) * sizeof *v);
    if (!v) return PREP_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++)
        for (size_t j = 0; j < cut_entry_nobj(&m->entries[i]); j++)
            v[k++] = (objref){cut_entry_obj_sha(&m->entries[i], j), cut_entry_obj_size(&m->entries[i], j)};
    qsort(v, no, sizeof *v, cmp_obj);
    out->sha256 = malloc((no ? no : 1) * sizeof *out->sha256);
    out->size = malloc((no ? no : 1) * sizeof *out->size);
    if (!out->sha256 || !out->size) {
        free(v);
        prep_cut_delta_free(out);
        return PREP_ERR_NOMEM;
    }
    size_t rl = strlen(store) + 80;
    char *p = prep_xmalloc(rl);
    for (size_t i = 0; i < no; i++) {
        const objref *e = &v[i];
        if (i > 0 && !strcmp(v[i - 1].sha256, e->sha256)) continue;
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
    free(v);
    return PREP_OK;
}

void prep_cut_delta_free(prep_cut_delta *dl)
{
    free(dl->sha256);
    free(dl->size);
    memset(dl, 0, sizeof *dl);
}

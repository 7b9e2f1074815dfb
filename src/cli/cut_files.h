/* A rendered site as prep_cut_make takes it: the cutter's conversion (src/cli/cutter.c),
 * also what bench/bench_sim.h measures, so that the bench makes the cutter's cuts. */
#ifndef PREP_CLI_CUT_FILES_H
#define PREP_CLI_CUT_FILES_H

#include <stdlib.h>
#include <string.h>

#include "prep/core.h"
#include "prep/cut.h"
#include "prep/render.h"

/* s's files into *v, an array the caller keeps from cut to cut (~30 MB nationally: a
 * fresh one each cut cost its pages), grown an eighth past s->n when short; *v is freed by
 * the caller. Each entry's every field is set. (Memory failure aborts, core.h.) Hints are
 * relative to the site passed back to the render, which is the last cut made with the
 * caller's hash cache; parts shed after that cut are named by hash (stored). */
static inline prep_cut_file *cli_cut_files(const prep_site *s, prep_cut_file **v, size_t *cap)
{
    if (!*v || s->n > *cap) {
        free(*v);
        *cap = s->n + s->n / 8 + 1;
        *v = prep_xmalloc(*cap * sizeof **v);
    }
    prep_cut_file *f = *v;
    for (size_t i = 0; i < s->n; i++) {
        const prep_site_file *sf = &s->v[i];
        f[i] = (prep_cut_file){
            .path = sf->path,
            .data = sf->data,
            .len = sf->len,
            .media_type = sf->media_type,
            .n_parts = sf->n_parts,
            .same_parts = sf->same_parts,
            .hash_prefix = sf->hash_prefix,
            .stored = sf->stored,
            .stored_sha = (const unsigned char(*)[32])sf->stored_sha,
            .sha256 = sf->has_sha256 ? sf->sha256 : NULL,
        };
        memcpy(f[i].part_len, sf->part_len, sizeof f[i].part_len);
    }
    return f;
}

#endif

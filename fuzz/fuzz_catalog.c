/* libFuzzer target: the catalogue reader on arbitrary bytes. It must never crash, hang or
 * leak; when a catalogue comes back it must also write and read back to the same text
 * (docs/formats/catalog.md "Round trip"). Seeds: fuzz/corpus/catalog/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prep/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prep_diags d;
    prep_diags_init(&d);
    d.max_keep = 50;
    prep_catalog *c = NULL;
    prep_err r = prep_catalog_parse("fuzz.cat", (const char *)data, size, &c, &d);
    if ((r == PREP_OK) != (c != NULL)) abort();
    if (r != PREP_OK && d.total == 0 && r != PREP_ERR_NOMEM) abort(); /* every refusal says why */
    if (c) {
        /* lookups on what came back */
        /* a key finds its casilla; in a split section, the first part's, and the part's
         * district and municipality the casilla of that part (catalog.h) */
        for (uint32_t i = 0; i < c->n_casillas; i++) {
            const prep_cat_section *s = &c->sections[c->casillas[i].section];
            uint32_t k = prep_catalog_find_casilla(c, c->casillas[i].key);
            if (k == PREP_CAT_NONE || prep_catalog_casilla_part(c, k, c->districts[s->district].id,
                                                                c->municipalities[s->municipality].id, NULL) != i)
                abort();
        }
        for (uint32_t e = 0; e < c->n_elections; e++)
            for (uint32_t k = 0; k < c->elections[e].n_cols; k++)
                if (prep_catalog_find_column(c, e, c->elections[e].cols[k].name) != k) abort();
        prep_buf w1, w2;
        prep_buf_init(&w1, 0);
        prep_buf_init(&w2, 0);
        if (prep_catalog_write(c, &w1) != PREP_OK) abort();
        prep_catalog *c2 = NULL;
        prep_diags d2;
        prep_diags_init(&d2);
        if (prep_catalog_parse("w1", w1.data, w1.len, &c2, &d2) != PREP_OK) abort();
        if (prep_catalog_write(c2, &w2) != PREP_OK) abort();
        if (w1.len != w2.len || memcmp(w1.data, w2.data, w1.len)) abort();
        prep_catalog_free(c2);
        prep_diags_free(&d2);
        prep_buf_free(&w1);
        prep_buf_free(&w2);
        prep_catalog_free(c);
    }
    prep_diags_free(&d);
    return 0;
}

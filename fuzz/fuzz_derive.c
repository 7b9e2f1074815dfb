/* libFuzzer target: deriving a catalogue from a results file (prep_actas_derive_catalog),
 * the path `prep tally --actas REAL.csv` takes on files from the outside world. The input
 * is written to a temporary file (the API reads paths). It must never crash or leak; when
 * it succeeds, the derived catalogue must read back its own file's rows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prep/actas.h"

static char path[64];

static void remove_tmp(void) { unlink(path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) return 0;
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz-derive-%ld.csv", (long)getpid());
        atexit(remove_tmp);
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    if (prep_actas_derive_catalog(path, NULL, &c, &d) == PREP_OK) {
        prep_diags_free(&d);
        prep_diags_init(&d);
        prep_actas *s = NULL;
        if (prep_actas_load(path, c, 0, &s, &d) != PREP_OK) abort(); /* the file its catalogue came from */
        prep_actas_free(s);
        prep_catalog_free(c);
    }
    prep_diags_free(&d);
    return 0;
}

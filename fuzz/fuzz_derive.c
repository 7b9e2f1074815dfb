/* libFuzzer target: deriving a catalogue from a results file (prep_actas_derive_catalog),
 * the path `prep tally --actas REAL.csv [--candidaturas CAND.csv]` takes on files from the
 * outside world. The input is the results file; when it holds a line "#candidaturas#",
 * what follows that line is the candidaturas CSV (so that its reader is fuzzed too). Each
 * is written to a temporary file (the API reads paths). It must never crash or leak; when
 * it succeeds, the derived catalogue must read back its own file's rows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prep/actas.h"

static char path[64], cand_path[64];

static void remove_tmp(void)
{
    unlink(path);
    unlink(cand_path);
}

static int put(const char *p, const uint8_t *data, size_t size)
{
    FILE *f = fopen(p, "wb");
    if (!f) return -1;
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) return 0;
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz-derive-%ld.csv", (long)getpid());
        snprintf(cand_path, sizeof cand_path, "/tmp/fuzz-derive-%ld-cand.csv", (long)getpid());
        atexit(remove_tmp);
    }
    static const char mark[] = "\n#candidaturas#\n";
    const uint8_t *m = memmem(data, size, mark, sizeof mark - 1);
    size_t rsize = m ? (size_t)(m - data) + 1 : size; /* the results file keeps its last newline */
    if (put(path, data, rsize)) return 0;
    if (m && put(cand_path, m + sizeof mark - 1, size - (size_t)(m - data) - (sizeof mark - 1))) return 0;
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    if (prep_actas_derive_catalog(path, m ? cand_path : NULL, &c, &d) == PREP_OK) {
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

/* libFuzzer target: STORE/catalog, the note of the catalogue the store's last cut was
 * made with (src/cli/catalog_note.c, read by the cutter before each first cut). A note
 * that reads gives a SHA-256 whose note, written again, is the input byte for byte;
 * anything else reads as damaged (sha ""), never as a note of another catalogue. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cli/catalog_note.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char sha[65] = "x", again[CUTTER_CATALOG_NOTE_MAX];
    if (cutter_catalog_note_parse((const char *)data, size, sha) == 0) {
        if (strlen(sha) != 64) abort();
        int n = cutter_catalog_note_text(sha, again);
        if (n < 0 || (size_t)n != size || memcmp(again, data, size) != 0) abort();
    } else if (sha[0]) {
        abort();
    }
    return 0;
}

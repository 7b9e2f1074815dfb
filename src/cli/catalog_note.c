/* STORE/catalog, the note of the catalogue the store's last cut was made with:
 * "prep-catalog-of-cuts 1\nsha256 HEX\n", written by the cutter after each cut it makes
 * (institute-side state, not part of any cut; docs/formats/cut.md, "The store"). Read
 * byte for byte as it is written: anything else is a damaged note, never "no note". */
#include "catalog_note.h"

#include <stdio.h>
#include <string.h>

#define NOTE_HEAD "prep-catalog-of-cuts 1\nsha256 "

int cutter_catalog_note_text(const char *sha, char text[CUTTER_CATALOG_NOTE_MAX])
{
    return snprintf(text, CUTTER_CATALOG_NOTE_MAX, NOTE_HEAD "%s\n", sha);
}

int cutter_catalog_note_parse(const char *text, size_t len, char sha[65])
{
    const size_t head = sizeof NOTE_HEAD - 1;
    sha[0] = 0;
    if (len != head + 64 + 1 || memcmp(text, NOTE_HEAD, head) != 0 || text[len - 1] != '\n') return -1;
    for (size_t i = 0; i < 64; i++) {
        char c = text[head + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return -1;
    }
    memcpy(sha, text + head, 64);
    sha[64] = 0;
    return 0;
}

/* STORE/catalog, the note of the catalogue the store's last cut was made with
 * (catalog_note.c; the cutter compares it with its own catalogue, cutter_past.c). */
#ifndef PREP_CLI_CATALOG_NOTE_H
#define PREP_CLI_CATALOG_NOTE_H

#include <stddef.h>

#define CUTTER_CATALOG_NOTE_MAX 128
/* The note for a catalogue of SHA-256 sha (64 lower-case hex): its length. */
int cutter_catalog_note_text(const char *sha, char text[CUTTER_CATALOG_NOTE_MAX]);
/* 0 and sha (64 hex and a NUL) when text[0..len) is exactly a note as written; else -1 and
 * sha "" (cut short, edited, blanks or lines added, upper-case hex, grown). */
int cutter_catalog_note_parse(const char *text, size_t len, char sha[65]);

#endif

/* prep check: helpers shared by the files of src/check (not a public interface). */
#ifndef PREP_CHECK_INT_H
#define PREP_CHECK_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "prep/check.h"

/* Starts an item: id and requirement (static), verdict, evidence emptied. */
void chk_item(prep_check_item *it, const char *id, const char *req);
/* Appends to the evidence, truncating at the buffer's end (never overflows). */
void chk_ev(prep_check_item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends "; " first when the evidence is not empty. */
void chk_ev_sep(prep_check_item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Line walker over a text that need not be NUL-terminated. Each call copies the next
 * line (without its \n or \r\n) into buf, truncated to bufsz-1 bytes; *trunc says so.
 * Returns 0 at the end. */
typedef struct chk_lines {
    const char *p, *end;
} chk_lines;
void chk_lines_init(chk_lines *l, const char *text, size_t len);
int chk_lines_next(chk_lines *l, char *buf, size_t bufsz, int *trunc);

/* Length of text, bounded: strnlen(text, PREP_CHECK_TEXT_MAX); 0 for NULL. */
size_t chk_len(const char *text);
/* 1 if the newline-separated list contains exactly name. */
int chk_list_has(const char *list, const char *name);

#endif

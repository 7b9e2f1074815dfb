/* Unit tests of the municipality map in the catalogue: map_viewbox and [shapes]
 * (docs/formats/catalog.md "Map"). A small valid catalogue with a map (BASE) is read,
 * written and read back; then each bad case changes one thing and asserts the diag's
 * kind tag, line and byte column, counted by hand from BASE, and the return code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/catalog.h"

/* Line numbers on the right; ASCII only, so byte columns are character columns. */
static const char BASE[] =
    "prep-catalog 1\n"                                            /*  1 */
    "[process]\n"                                                 /*  2 */
    "id = t\n"                                                    /*  3 */
    "name = Prueba\n"                                             /*  4 */
    "institute = IEQ\n"                                           /*  5 */
    "entity_id = 22\n"                                            /*  6 */
    "entity = QUERETARO\n"                                        /*  7 */
    "timezone = America/Mexico_City\n"                            /*  8 */
    "window_open = 2021-06-06 20:00\n"                            /*  9 */
    "window_close = 2021-06-07 20:00\n"                           /* 10 */
    "map_viewbox = 0 0 100 80\n"                                  /* 11 */
    "[parties]\n"                                                 /* 12 */
    "id|name|color\n"                                             /* 13 */
    "PAN|Partido Accion Nacional|#0055A5\n"                       /* 14 */
    "MORENA|Morena|#B5261E\n"                                     /* 15 */
    "[districts]\n"                                               /* 16 */
    "id|name\n"                                                   /* 17 */
    "1|DISTRITO 01\n"                                             /* 18 */
    "[municipalities]\n"                                          /* 19 */
    "id|name\n"                                                   /* 20 */
    "14|Queretaro\n"                                              /* 21 */
    "6|Corregidora\n"                                             /* 22 */
    "11|El Marques\n"                                             /* 23 */
    "[sections]\n"                                                /* 24 */
    "id|district|municipality\n"                                  /* 25 */
    "412|1|14\n"                                                  /* 26 */
    "[casillas]\n"                                                /* 27 */
    "section|type|number|ext|urban|lista_nominal|representatives|ballots\n" /* 28 */
    "412|B|1|0|1|650|14|0\n"                                      /* 29 */
    "[elections]\n"                                               /* 30 */
    "id|name|title|scope|acta_type|parties\n"                     /* 31 */
    "gub|GUBERNATURA|Gubernatura|entity|1|PAN MORENA\n"           /* 32 */
    "[candidacies]\n"                                             /* 33 */
    "election|unit|contender|name\n"                              /* 34 */
    "gub|*|PAN|Ana\n"                                             /* 35 */
    "gub|*|MORENA|Beto\n"                                         /* 36 */
    "[shapes]\n"                                                  /* 37 */
    "municipality | path\n"                                       /* 38 */
    "14|M0 0L50 0 50 40 0 40Z\n"                                  /* 39 */
    "6|M50 0h50v40h-50z M60 10l10 0 0 10z\n";                     /* 40 */

/* Replaces the first `find` in s with `repl` (owned result). */
static char *subst(const char *s, const char *find, const char *repl)
{
    const char *p = strstr(s, find);
    if (!p) fail_msg("test setup: '%s' not in the text", find);
    size_t a = (size_t)(p - s), fl = strlen(find), rl = strlen(repl), n = strlen(s);
    char *o = malloc(n - fl + rl + 1);
    assert_non_null(o);
    memcpy(o, s, a);
    memcpy(o + a, repl, rl);
    memcpy(o + a + rl, p + fl, n - a - fl + 1);
    return o;
}

static prep_catalog *parse_ok(const char *text)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err r = prep_catalog_parse("t.cat", text, strlen(text), &c, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(d.total, 0);
    prep_diags_free(&d);
    return c;
}

/* ---------------------------------------------------------------- valid */
static void test_read(void **st)
{
    (void)st;
    prep_catalog *c = parse_ok(BASE);
    assert_int_equal(c->has_map, 1);
    assert_int_equal(c->map_viewbox[0], 0);
    assert_int_equal(c->map_viewbox[1], 0);
    assert_int_equal(c->map_viewbox[2], 100);
    assert_int_equal(c->map_viewbox[3], 80);
    assert_non_null(c->municipality_shape);
    /* municipalities keep file order: 14, 6, 11 */
    assert_string_equal(c->municipality_shape[0], "M0 0L50 0 50 40 0 40Z");
    assert_string_equal(c->municipality_shape[1], "M50 0h50v40h-50z M60 10l10 0 0 10z");
    assert_null(c->municipality_shape[2]); /* El Marqués has no row */
    prep_catalog_free(c);
}

static void test_no_map(void **st)
{
    (void)st;
    /* without map_viewbox and [shapes]: no map at all */
    char *t1 = subst(BASE, "map_viewbox = 0 0 100 80\n", "");
    char *t2 = subst(t1, "[shapes]\n", "[ignored-from-here]\n");
    *strstr(t2, "[ignored-from-here]") = 0;
    prep_catalog *c = parse_ok(t2);
    assert_int_equal(c->has_map, 0);
    assert_null(c->municipality_shape);
    prep_buf w;
    prep_buf_init(&w, 0);
    assert_int_equal(prep_catalog_write(c, &w), PREP_OK);
    assert_null(strstr(w.data, "map_viewbox"));
    assert_null(strstr(w.data, "[shapes]"));
    /* write_shapes refuses a catalogue without a map and appends nothing */
    size_t len = w.len;
    assert_int_equal(prep_catalog_write_shapes(c, &w), PREP_ERR_INVALID);
    assert_int_equal(w.len, len);
    prep_buf_free(&w);
    prep_catalog_free(c);
    free(t1);
    free(t2);
}

static void test_round_trip(void **st)
{
    (void)st;
    prep_catalog *c = parse_ok(BASE);
    prep_buf w1, w2;
    prep_buf_init(&w1, 0);
    prep_buf_init(&w2, 0);
    assert_int_equal(prep_catalog_write(c, &w1), PREP_OK);
    /* the key last in [process], the table last in the file, rows in municipality order */
    assert_non_null(strstr(w1.data, "percent_decimals = 4\nmap_viewbox = 0 0 100 80\n\n[labels]\n"));
    const char *tail = "\n[shapes]\nmunicipality|path\n"
                       "14|M0 0L50 0 50 40 0 40Z\n"
                       "6|M50 0h50v40h-50z M60 10l10 0 0 10z\n";
    assert_true(w1.len > strlen(tail));
    assert_string_equal(w1.data + w1.len - strlen(tail), tail);
    prep_catalog *c2 = parse_ok(w1.data);
    assert_int_equal(c2->has_map, 1);
    assert_memory_equal(c2->map_viewbox, c->map_viewbox, sizeof c->map_viewbox);
    for (uint32_t m = 0; m < 3; m++) {
        if (!c->municipality_shape[m]) assert_null(c2->municipality_shape[m]);
        else assert_string_equal(c2->municipality_shape[m], c->municipality_shape[m]);
    }
    assert_int_equal(prep_catalog_write(c2, &w2), PREP_OK);
    assert_int_equal(w1.len, w2.len);
    assert_memory_equal(w1.data, w2.data, w1.len);
    /* write_shapes alone gives exactly that tail */
    prep_buf w3;
    prep_buf_init(&w3, 0);
    assert_int_equal(prep_catalog_write_shapes(c, &w3), PREP_OK);
    assert_string_equal(w3.data, tail);
    prep_buf_free(&w1);
    prep_buf_free(&w2);
    prep_buf_free(&w3);
    prep_catalog_free(c);
    prep_catalog_free(c2);
}

/* A value edited by hand that would not read back makes the write fail, appending nothing. */
static void test_write_refuses(void **st)
{
    (void)st;
    prep_catalog *c = parse_ok(BASE);
    prep_buf w;
    prep_buf_init(&w, 0);
    assert_int_equal(prep_buf_puts(&w, "x"), PREP_OK);
    char *good = c->municipality_shape[0];
    c->municipality_shape[0] = strdup("M0 0L50 0\"/><script>");
    assert_int_equal(prep_catalog_write(c, &w), PREP_ERR_INVALID);
    assert_int_equal(w.len, 1);
    free(c->municipality_shape[0]);
    c->municipality_shape[0] = strdup("M0 0L101 0"); /* outside 0 0 100 80 */
    assert_int_equal(prep_catalog_write(c, &w), PREP_ERR_INVALID);
    assert_int_equal(w.len, 1);
    free(c->municipality_shape[0]);
    c->municipality_shape[0] = good;
    /* a map whose every shape is gone would write an empty [shapes] */
    char *s1 = c->municipality_shape[1];
    c->municipality_shape[0] = c->municipality_shape[1] = NULL;
    assert_int_equal(prep_catalog_write(c, &w), PREP_ERR_INVALID);
    assert_int_equal(w.len, 1);
    c->municipality_shape[0] = good;
    c->municipality_shape[1] = s1;
    c->map_viewbox[2] = 0; /* width 0 */
    assert_int_equal(prep_catalog_write(c, &w), PREP_ERR_INVALID);
    assert_int_equal(w.len, 1);
    prep_buf_free(&w);
    prep_catalog_free(c);
}

/* ---------------------------------------------------------------- the path checker */
static void test_path_check(void **st)
{
    (void)st;
    static const uint32_t vb[4] = {10, 20, 100, 80}; /* x 10..110, y 20..100 */
    /* accepted */
    static const char *const good[] = {
        "M10 20L110 100",
        "m10,20l100,80z",                       /* commas; relative m at the start is absolute */
        "M10 20H110V100h-100v-80Z",
        "M10 20 20 30 30 40z M50 50l1-1-1 1z",  /* pairs after M are line-tos; '-' needs no separator */
        "M 10 20 L 20 30 Z",                    /* a separator around commands is allowed */
        "M0000010 20",                          /* leading zeros: 7 digits */
        "M10 20l100 0 0 80-100 0z",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char msg[160] = "";
        size_t off = 99;
        int r = prep_catalog_path_check(good[i], vb, &off, msg, sizeof msg);
        if (r) fail_msg("'%s' refused: %s at %zu", good[i], msg, off);
    }
    /* refused: (path, code, offset of the offending byte) */
    static const struct {
        const char *p;
        int rc;
        size_t off;
    } bad[] = {
        {"", 1, 0},
        {"L10 20", 1, 0},            /* must start with M */
        {"10 20", 1, 0},
        {"M10 20L30", 1, 9},         /* odd count: reported at the end */
        {"M10 20L", 1, 7},
        {"M10 20LZ", 1, 7},          /* L without numbers: at the Z */
        {"M10 20Z5", 1, 7},          /* Z takes no numbers */
        {"M10 20ZL20 30", 1, 7},     /* after Z comes M */
        {"M10.5 20", 1, 3},          /* integers only */
        {"M10 20  L20 30", 1, 7},    /* two separators */
        {"M10 20,", 1, 6},           /* separator at the end */
        {" M10 20", 1, 0},           /* separator at the start */
        {"M12345678 20", 1, 1},      /* 8 digits */
        {"M10 20C1 2 3 4 5 6", 1, 6},/* no curves */
        {"M10 20\"/><script>", 1, 6},/* nothing to break out of an attribute */
        {"M-5 20", 2, 4},            /* outside: at the number completing the point */
        {"M10 20h101", 2, 7},        /* relative steps add up: x = 111 */
        {"M10 20l0 80v1", 2, 12},    /* y = 101 */
        {"M10 20-", 1, 6},           /* '-' without digits */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char msg[160] = "";
        size_t off = 99;
        int r = prep_catalog_path_check(bad[i].p, vb, &off, msg, sizeof msg);
        if (r != bad[i].rc || off != bad[i].off)
            fail_msg("'%s': got %d at %zu (%s), want %d at %zu", bad[i].p, r, off, msg, bad[i].rc, bad[i].off);
        assert_true(msg[0] != 0);
    }
    /* without a viewBox only the grammar counts */
    assert_int_equal(prep_catalog_path_check("M-5 -7l-3-3z", NULL, NULL, NULL, 0), 0);
    /* length: 65,000 bytes pass, 65,001 do not (code 3) */
    char *p = malloc(PREP_CAT_MAX_PATH + 2);
    assert_non_null(p);
    memcpy(p, "M10 20", 6);
    for (size_t i = 6; i < PREP_CAT_MAX_PATH; i += 2) memcpy(p + i, "h0", 2);
    p[PREP_CAT_MAX_PATH] = 0;
    assert_int_equal(strlen(p), PREP_CAT_MAX_PATH);
    assert_int_equal(prep_catalog_path_check(p, vb, NULL, NULL, 0), 0);
    p[PREP_CAT_MAX_PATH] = '0';
    p[PREP_CAT_MAX_PATH + 1] = 0;
    assert_int_equal(prep_catalog_path_check(p, vb, NULL, NULL, 0), 3);
    free(p);
}

/* ---------------------------------------------------------------- bad catalogues */
typedef struct bad_case {
    const char *name;
    const char *find, *repl; /* one change to BASE */
    const char *kind;
    long line, col;
    prep_err rc;
    const char *in_msg;
} bad_case;

static const bad_case cases[] = {
    /* "14|" is 3 bytes: the path starts at column 4; "M0 0L50 0 50 40 0 40" is 20 bytes */
    {"bad command", "0 40Z\n", "0 40Q\n", "bad-path", 39, 24, PREP_ERR_INVALID, "'Q'"},
    {"path not starting with M", "14|M0 0L50", "14|L0 0L50", "bad-path", 39, 4, PREP_ERR_INVALID, "M or m"},
    /* "M0 0L50 0 50 40 0" is 17 bytes: the row ends with an odd count, reported after it */
    {"odd coordinate count", "14|M0 0L50 0 50 40 0 40Z\n", "14|M0 0L50 0 50 40 0\n", "bad-path", 39, 21,
     PREP_ERR_INVALID, "lacks its numbers"},
    /* "M0 0L50." : the '.' is byte 7 of the path */
    {"fraction", "14|M0 0L50 0", "14|M0 0L50.5 0", "bad-path", 39, 11, PREP_ERR_INVALID, "'.'"},
    {"attribute break-out", "0 40Z\n", "0 40Z\"/><script>\n", "bad-path", 39, 25, PREP_ERR_INVALID, "'\"'"},
    /* "M0 0L101 " is 9 bytes: the number completing (101,0) at column 4 + 9 = 13 */
    {"point outside", "14|M0 0L50 0", "14|M0 0L101 0", "path-outside-map", 39, 13, PREP_ERR_INVALID, "(101,0)"},
    /* line 40, "6|" is 2 bytes: path at 3; "M50 0h" is 6 bytes: "51" at 9; x = 50 + 51 */
    {"relative point outside", "6|M50 0h50v40", "6|M50 0h51v40", "path-outside-map", 40, 9, PREP_ERR_INVALID,
     "(101,0)"},
    {"duplicate shape", "6|M50 0h50", "14|M50 0h50", "duplicate-id", 40, 1, PREP_ERR_INVALID, "line 39"},
    {"unknown municipality", "6|M50 0h50", "7|M50 0h50", "unknown-reference", 40, 1, PREP_ERR_INVALID, "'7'"},
    /* "map_viewbox = " is 14 bytes: the value at 15 */
    {"viewbox of three numbers", "map_viewbox = 0 0 100 80", "map_viewbox = 0 0 100", "bad-value", 11, 15,
     PREP_ERR_INVALID, "0 0 100"},
    {"viewbox of five numbers", "map_viewbox = 0 0 100 80", "map_viewbox = 0 0 100 80 1", "bad-value", 11, 15,
     PREP_ERR_INVALID, NULL},
    {"viewbox width 0", "map_viewbox = 0 0 100 80", "map_viewbox = 0 0 0 80", "bad-value", 11, 15, PREP_ERR_INVALID,
     NULL},
    {"negative viewbox", "map_viewbox = 0 0 100 80", "map_viewbox = -1 0 100 80", "bad-value", 11, 15,
     PREP_ERR_INVALID, NULL},
    {"viewbox too large", "map_viewbox = 0 0 100 80", "map_viewbox = 0 0 100001 80", "bad-value", 11, 15,
     PREP_ERR_INVALID, NULL},
    /* [shapes] without map_viewbox: reported on the [process] line */
    {"shapes without viewbox", "map_viewbox = 0 0 100 80\n", "", "missing-key", 2, 0, PREP_ERR_PARSE, "map_viewbox"},
    /* map_viewbox without [shapes] */
    {"viewbox without shapes", "[shapes]\nmunicipality | path\n14|M0 0L50 0 50 40 0 40Z\n6|M50 0h50v40h-50z M60 10l10 0 0 10z\n",
     "", "missing-section", 11, 15, PREP_ERR_PARSE, "[shapes]"},
    {"empty shapes", "14|M0 0L50 0 50 40 0 40Z\n6|M50 0h50v40h-50z M60 10l10 0 0 10z\n", "", "empty-section", 37, 0,
     PREP_ERR_INVALID, "[shapes]"},
    {"shapes column", "municipality | path\n", "municipality | d\n", "missing-column", 38, 0, PREP_ERR_PARSE, "path"},
};

static void test_bad_cases(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const bad_case *k = &cases[i];
        char *text = subst(BASE, k->find, k->repl);
        prep_diags d;
        prep_diags_init(&d);
        prep_catalog *c = (prep_catalog *)&d;
        prep_err r = prep_catalog_parse("t.cat", text, strlen(text), &c, &d);
        assert_null(c);
        const prep_diag *g = NULL;
        for (size_t j = 0; j < d.n && !g; j++)
            if (!strcmp(d.v[j].kind, k->kind) && d.v[j].line == k->line && d.v[j].col == k->col) g = &d.v[j];
        if (!g || r != k->rc || (k->in_msg && !strstr(g->msg, k->in_msg))) {
            prep_diags_print(&d, stderr, 0);
            fail_msg("%s: want %s at %ld:%ld (rc %d, msg with '%s'), got rc %d", k->name, k->kind, k->line, k->col,
                     (int)k->rc, k->in_msg ? k->in_msg : "", (int)r);
        }
        prep_diags_free(&d);
        free(text);
    }
}

/* A path of 65,001 bytes fits a line (65,536) but not a path: a limit. */
static void test_path_too_long(void **st)
{
    (void)st;
    size_t n = PREP_CAT_MAX_PATH + 1;
    char *path = malloc(n + 1);
    assert_non_null(path);
    memcpy(path, "M0 0", 4);
    for (size_t i = 4; i + 1 < n; i += 2) memcpy(path + i, "h0", 2);
    path[n - 1] = 'z';
    path[n] = 0;
    assert_int_equal(strlen(path), n);
    char *row = malloc(n + 8);
    assert_non_null(row);
    snprintf(row, n + 8, "14|%s\n", path);
    char *text = subst(BASE, "14|M0 0L50 0 50 40 0 40Z\n", row);
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    assert_int_equal(prep_catalog_parse("t.cat", text, strlen(text), &c, &d), PREP_ERR_LIMIT);
    assert_null(c);
    const prep_diag *g = prep_diags_find(&d, "path-too-long");
    assert_non_null(g);
    assert_int_equal(g->line, 39);
    assert_int_equal(g->col, 4);
    assert_non_null(strstr(g->msg, "65001"));
    prep_diags_free(&d);
    free(text);
    free(row);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),          cmocka_unit_test(test_no_map),
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_write_refuses),
        cmocka_unit_test(test_path_check),    cmocka_unit_test(test_bad_cases),
        cmocka_unit_test(test_path_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* How a complete file of a kind ends (src/cut/ending.c): what prep cut --from refuses as a
 * file cut short. Each kind with a complete file of its own, the same file cut short, and
 * the tail as it is gathered a few bytes at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/cut/cut_internal.h"

/* ok: whether all of s[0..n) ends as a complete file of path's kind, its tail gathered in
 * chunks of chunk bytes */
static int ends_ok(const char *path, const void *s, size_t n, size_t chunk)
{
    unsigned char tail[CUT_END_TAIL];
    size_t tn = 0;
    cut_end_json j = {0};
    for (size_t at = 0; at < n; at += chunk) {
        cut_end_push(tail, &tn, (const char *)s + at, n - at < chunk ? n - at : chunk);
        cut_end_json_feed(&j, (const char *)s + at, n - at < chunk ? n - at : chunk);
    }
    cut_end_kind k = cut_end_kind_of(path);
    return cut_end_ok(k, tail, tn) && (k != CUT_END_JSON || cut_end_json_closed(&j));
}

static void both(const char *path, const void *whole, size_t n, size_t cut_to)
{
    static const size_t chunks[] = {1, 3, 7, 64, 65, 1 << 16};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        if (!ends_ok(path, whole, n, chunks[i])) fail_msg("%s: whole file refused (chunks of %zu)", path, chunks[i]);
        if (ends_ok(path, whole, cut_to, chunks[i])) fail_msg("%s: cut to %zu bytes accepted", path, cut_to);
    }
}

static void test_kinds(void **st)
{
    (void)st;
    assert_int_equal(cut_end_kind_of("a/b/index.html"), CUT_END_HTML);
    assert_int_equal(cut_end_kind_of("INDEX.HTM"), CUT_END_HTML);
    assert_int_equal(cut_end_kind_of("mapa.svg"), CUT_END_SVG);
    assert_int_equal(cut_end_kind_of("datos.json"), CUT_END_JSON);
    assert_int_equal(cut_end_kind_of("m.geojson"), CUT_END_JSON);
    assert_int_equal(cut_end_kind_of("base-de-datos/gub.csv"), CUT_END_LINE);
    assert_int_equal(cut_end_kind_of("LEEME.txt"), CUT_END_LINE);
    assert_int_equal(cut_end_kind_of("logo.PNG"), CUT_END_PNG);
    assert_int_equal(cut_end_kind_of("f.jpeg"), CUT_END_JPEG);
    assert_int_equal(cut_end_kind_of("acta.pdf"), CUT_END_PDF);
    assert_int_equal(cut_end_kind_of("datos.xlsx"), CUT_END_ZIP);
    /* no ending checked: compressed forms, fonts, no extension, an extension of a directory */
    assert_int_equal(cut_end_kind_of("gub.csv.gz"), CUT_END_NONE);
    assert_int_equal(cut_end_kind_of("f.woff2"), CUT_END_NONE);
    assert_int_equal(cut_end_kind_of("LEEME"), CUT_END_NONE);
    assert_int_equal(cut_end_kind_of("a.html/LEEME"), CUT_END_NONE);
    assert_int_equal(cut_end_kind_of(".html"), CUT_END_NONE);
    assert_int_equal(cut_end_ok(CUT_END_NONE, NULL, 0), 1);
}

static void test_complete_and_cut_short(void **st)
{
    (void)st;
    char page[4096];
    size_t n = (size_t)snprintf(page, sizeof page, "<!doctype html><html lang=es><title>Cómputos</title>");
    while (n < 3000) n += (size_t)snprintf(page + n, sizeof page - n, "<tr><td>PAN</td><td>1,234</td></tr>\n");
    n += (size_t)snprintf(page + n, sizeof page - n, "</table></main></HTML>\r\n \n");
    both("index.html", page, n, 300);
    both("index.html", page, n, n - 3 - 4); /* inside "</HTML>" */
    const char svg[] = "<svg xmlns='http://www.w3.org/2000/svg'><path d='M0 0L1 1'/></svg>\n";
    both("m.svg", svg, sizeof svg - 1, sizeof svg - 4);
    const char json[] = "{\"corte\": 12, \"votos\": [1, 2, 3]}\n\n";
    both("datos.json", json, sizeof json - 1, sizeof json - 5);
    /* cut after an inner close; brackets and escaped quotes inside strings do not count */
    const char arr[] = "[{\"a\": \"}]\\\"[\"}, {\"b\": [2]}]";
    both("x.geojson", arr, sizeof arr - 1, sizeof arr - 2);
    both("x.geojson", arr, sizeof arr - 1, 15); /* ends with the inner "}" */
    const char csv[] = "CLAVE_ACTA|PAN\n01-001|12\n01-002|7\n";
    both("gub.csv", csv, sizeof csv - 1, sizeof csv - 3);
    unsigned char png[80] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(png + 68, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
    both("logo.png", png, sizeof png, sizeof png - 1);
    const unsigned char jpg[] = {0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9};
    both("f.jpg", jpg, sizeof jpg, sizeof jpg - 1);
    char pdf[200];
    memset(pdf, 'x', sizeof pdf);
    memcpy(pdf, "%PDF-1.7\n", 9);
    memcpy(pdf + 150, "startxref\n1234\n%%EOF\n", 21);
    both("acta.pdf", pdf, 171, 160);
    unsigned char zip[100] = {'P', 'K', 3, 4};
    memcpy(zip + 78, "PK\x05\x06", 4); /* the last 22 bytes: the end record, no comment */
    both("d.zip", zip, sizeof zip, sizeof zip - 10);
    /* an empty file never ends as a complete one of these kinds */
    assert_false(ends_ok("index.html", "", 0, 1));
    assert_false(ends_ok("gub.csv", "", 0, 1));
    assert_false(ends_ok("d.json", "}{}", 3, 1)); /* a close with none open */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_complete_and_cut_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the last site's lookups (src/render/render_text.c): site_find_near3 finds
 * the path a b c without building it, so its comparison must order paths exactly as
 * strcmp, which sorted the site. Random sites whose paths share long prefixes, are
 * prefixes of each other and hold bytes above 0x7f, asked in order, out of order and for
 * paths they lack, each split into three pieces at every place; the reference is a
 * linear search with strcmp of the whole path. Also: prep_render_site_free leaves a path
 * lent to the next site (prep_site_file.path_lent) to its new owner (ASan would see a
 * double free). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/render/render_internal.h"

static unsigned rnd_state = 12345;
static unsigned rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 16) & 0x7fff;
}

/* A path of segments drawn from a few, so that paths share prefixes and one path is often
 * the start of another ("seccion/01" and "seccion/010/..."). */
static char *random_path(void)
{
    static const char *seg[] = {"seccion", "01", "010", "0", "a", "\xC3\xB3", "index.html", "datos.json", "/", "-"};
    char buf[128] = "";
    size_t n = 1 + rnd() % 5, len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = seg[rnd() % (sizeof seg / sizeof *seg)];
        size_t l = strlen(s);
        if (len + l + 1 >= sizeof buf) break;
        memcpy(buf + len, s, l + 1);
        len += l;
    }
    return strdup(buf);
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(((const prep_site_file *)a)->path, ((const prep_site_file *)b)->path);
}

static const prep_site_file *linear(const prep_site *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].path, path)) return &s->v[i];
    return NULL;
}

/* path split at i and j (i <= j <= strlen): the three pieces, NUL-terminated copies */
static const prep_site_file *find_split(prep_site *s, const char *path, size_t i, size_t j)
{
    char a[128], b[128], c[128];
    size_t n = strlen(path);
    memcpy(a, path, i);
    a[i] = 0;
    memcpy(b, path + i, j - i);
    b[j - i] = 0;
    memcpy(c, path + j, n - j + 1);
    return site_find_near3(s, a, b, c);
}

static void test_find3_orders_as_strcmp(void **state)
{
    (void)state;
    for (int round = 0; round < 200; round++) {
        prep_site s;
        prep_render_site_init(&s);
        size_t want = 1 + rnd() % 60;
        s.v = calloc(want, sizeof *s.v);
        assert_non_null(s.v);
        for (size_t k = 0; k < want; k++) {
            char *p = random_path();
            int dup = 0;
            for (size_t m = 0; m < s.n; m++) dup |= !strcmp(s.v[m].path, p);
            if (dup) {
                free(p);
                continue;
            }
            s.v[s.n++].path = p;
        }
        s.cap = want;
        qsort(s.v, s.n, sizeof *s.v, cmp_path);
        for (int q = 0; q < 40; q++) {
            char *path = q % 3 == 0 ? random_path() : strdup(s.v[rnd() % s.n].path); /* often absent */
            size_t n = strlen(path);
            for (size_t i = 0; i <= n; i++)
                for (size_t j = i; j <= n; j++) {
                    if (q % 2) s.finger = rnd() % s.n; /* the near look anywhere */
                    const prep_site_file *got = find_split(&s, path, i, j), *ref = linear(&s, path);
                    if (got != ref) fail_msg("\"%s\" split at %zu, %zu: found %s", path, i, j, got ? got->path : "none");
                }
            free(path);
        }
        prep_render_site_free(&s);
    }
}

static void test_lent_path_not_freed(void **state)
{
    (void)state;
    prep_site old, neu;
    prep_render_site_init(&old);
    prep_render_site_init(&neu);
    old.v = calloc(1, sizeof *old.v);
    neu.v = calloc(1, sizeof *neu.v);
    assert_non_null(old.v);
    assert_non_null(neu.v);
    old.n = neu.n = 1;
    old.cap = neu.cap = 1;
    old.v[0].path = strdup("gubernatura/index.html");
    neu.v[0].path = old.v[0].path; /* taken over as reuse_file does */
    old.v[0].path_lent = 1;
    prep_render_site_free(&old);
    assert_string_equal(neu.v[0].path, "gubernatura/index.html");
    prep_render_site_free(&neu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find3_orders_as_strcmp),
        cmocka_unit_test(test_lent_path_not_freed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

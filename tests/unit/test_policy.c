/* The response-policy table (include/prep/policy.h, issue 18 item 2): the class and
 * Cache-Control of representative paths and their edge cases, the table's own shape, that
 * the rules read the same as Apache reads them (the regexes prep apache writes, applied
 * last to first as mod_rewrite does), and the security fields. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prep/policy.h"

#define SHORT "public, max-age=60, stale-while-revalidate=240"
#define YEAR "public, max-age=31536000, immutable"

typedef struct {
    const char *path;
    prep_policy_class cls;
} path_case;

static const path_case cases[] = {
    /* pages: the root ("/" is index.html), a deep page, the embedded tree */
    {"index.html", PREP_POLICY_PAGE},
    {"", PREP_POLICY_PAGE},
    {"gubernatura/index.html", PREP_POLICY_PAGE},
    {"diputaciones/distrito-03/seccion-0412/index.html", PREP_POLICY_PAGE},
    {"ayuntamientos/corregidora/casillas/0412-B/index.html", PREP_POLICY_PAGE},
    {"embebido/index.html", PREP_POLICY_PAGE},
    {"embebido/base-de-datos/index.html", PREP_POLICY_PAGE},
    {"base-de-datos/index.html", PREP_POLICY_PAGE},
    {"verificar/index.html", PREP_POLICY_PAGE},
    /* assets named by their hash (render writes 12 hex digits) */
    {"assets/app.0123456789ab.css", PREP_POLICY_ASSET},
    {"assets/app.fedcba987654.js", PREP_POLICY_ASSET},
    {"assets/app.01234567.css", PREP_POLICY_ASSET},
    {"assets/mapa.v2.0123456789abcdef.svg", PREP_POLICY_ASSET},
    /* ... and paths that look like assets but are not hashed: short lifetime */
    {"assets/app.css", PREP_POLICY_PAGE},
    {"assets/app.latest.css", PREP_POLICY_PAGE},
    {"assets/app.0123456.css", PREP_POLICY_PAGE},        /* 7 hex digits */
    {"assets/app.0123456789AB.css", PREP_POLICY_PAGE},   /* not our lowercase hash */
    {"assets/app.0123456789abz.css", PREP_POLICY_PAGE},  /* a letter past f */
    {"assets/app.0123456789ab", PREP_POLICY_PAGE},       /* no extension */
    {"assets/.0123456789ab.css", PREP_POLICY_PAGE},      /* no name */
    {"assets/sub/app.0123456789ab.css", PREP_POLICY_PAGE},
    {"embebido/assets/app.0123456789ab.css", PREP_POLICY_PAGE},
    {"assets/index.html", PREP_POLICY_PAGE},
    /* corte.json at the root only */
    {"corte.json", PREP_POLICY_POLL},
    {"embebido/corte.json", PREP_POLICY_PAGE},
    {"corte.jsonx", PREP_POLICY_PAGE},
    {"corte_json", PREP_POLICY_PAGE},
    /* the database and the cut's signed list */
    {"base-de-datos/QRO_GUB_2021.csv", PREP_POLICY_DATA},
    {"base-de-datos/LEEME.txt", PREP_POLICY_DATA},
    {"base-de-datos/sub/x.csv", PREP_POLICY_PAGE},
    {"SHA256SUMS", PREP_POLICY_DATA},
    {"SHA256SUMS.sig", PREP_POLICY_DATA},
    {"SHA256SUMS.bak", PREP_POLICY_PAGE},
    {"SHA256SUMSsig", PREP_POLICY_PAGE},
    {"verificar/SHA256SUMS", PREP_POLICY_PAGE},
    /* archived cuts: everything under cortes/<seq>/, their signed list too */
    {"cortes/12/SHA256SUMS", PREP_POLICY_ARCHIVE},
    {"cortes/12/SHA256SUMS.sig", PREP_POLICY_ARCHIVE},
    {"cortes/1/index.html", PREP_POLICY_ARCHIVE},
    {"cortes/12/corte.json", PREP_POLICY_ARCHIVE},
    {"cortes/12/assets/app.0123456789ab.css", PREP_POLICY_ARCHIVE},
    {"cortes/12/base-de-datos/LEEME.txt", PREP_POLICY_ARCHIVE},
    {"cortes/123456789012/index.html", PREP_POLICY_ARCHIVE}, /* 12 digits: the most serve reads */
    {"cortes/1234567890123/index.html", PREP_POLICY_PAGE},   /* 13: not a sequence (404) */
    {"cortes/012/index.html", PREP_POLICY_PAGE},             /* leading zero: not canonical (404) */
    {"cortes/0/index.html", PREP_POLICY_PAGE},
    {"cortes/12", PREP_POLICY_PAGE},                         /* no slash: a redirect, no-cache */
    {"cortes/x/index.html", PREP_POLICY_PAGE},
    {"cortes/index.html", PREP_POLICY_PAGE},
    {"embebido/cortes/12/index.html", PREP_POLICY_PAGE},
};

static void test_paths(void **state)
{
    (void)state;
    for (size_t i = 0; i < PREP_ARRAY_LEN(cases); i++) {
        const char *p = cases[i].path;
        prep_policy_class k = prep_policy_path_class(p, strlen(p));
        if (k != cases[i].cls) fail_msg("%s: class %d, expected %d", p, (int)k, (int)cases[i].cls);
        const char *want = cases[i].cls == PREP_POLICY_ASSET || cases[i].cls == PREP_POLICY_ARCHIVE ? YEAR
                           : cases[i].cls == PREP_POLICY_POLL                                        ? "no-cache"
                                                                                                     : SHORT;
        assert_string_equal(prep_policy_cache_control(p, strlen(p)), want);
    }
}

static void test_key_bounds(void **state)
{
    (void)state;
    /* the length decides, not a NUL: a key need not be terminated */
    assert_int_equal(prep_policy_path_class("corte.jsonXYZ", 10), PREP_POLICY_POLL);
    assert_int_equal(prep_policy_path_class("cortes/12/", 7), PREP_POLICY_PAGE);
    /* a NUL inside is no rule's file */
    assert_int_equal(prep_policy_path_class("corte.json\0", 11), PREP_POLICY_PAGE);
    assert_int_equal(prep_policy_path_class("cortes/1/\0x", 11), PREP_POLICY_PAGE);
    /* a key over 4096 bytes is a page whatever it starts with */
    size_t n = 5000;
    char *k = malloc(n + 1);
    assert_non_null(k);
    memset(k, 'a', n);
    memcpy(k, "cortes/1/", 9);
    k[n] = 0;
    assert_int_equal(prep_policy_path_class(k, n), PREP_POLICY_PAGE);
    assert_int_equal(prep_policy_path_class(k, 4096), PREP_POLICY_ARCHIVE);
    free(k);
}

static void test_table(void **state)
{
    (void)state;
    size_t nc, nr;
    const prep_policy_class_info *c = prep_policy_classes(&nc);
    const prep_policy_rule *r = prep_policy_rules(&nr);
    assert_int_equal(nc, PREP_POLICY_N_CLASSES);
    static const char *const values[PREP_POLICY_N_CLASSES] = {SHORT, SHORT, "no-cache", YEAR, YEAR, "no-cache"};
    static const char *const tags[PREP_POLICY_N_CLASSES] = {"page", "data", "poll", "asset", "archive", "answer"};
    for (size_t i = 0; i < nc; i++) {
        assert_int_equal(c[i].cls, i);
        assert_ptr_equal(prep_policy_class_get(c[i].cls), &c[i]);
        assert_string_equal(c[i].cache_control, values[i]);
        assert_string_equal(c[i].tag, tags[i]);
        assert_true(strlen(c[i].why) > 10);
    }
    assert_ptr_equal(prep_policy_class_get((prep_policy_class)99), &c[PREP_POLICY_ANSWER]);
    assert_true(nr >= 5);
    for (size_t i = 0; i < nr; i++) {
        regex_t re;
        assert_int_equal(r[i].regex[0], '^');
        assert_int_equal(regcomp(&re, r[i].regex, REG_EXTENDED), 0);
        regfree(&re);
        assert_true(r[i].cls != PREP_POLICY_ANSWER); /* an answer's class is its status's */
        assert_null(strpbrk(r[i].regex, " \"%")); /* written unquoted into a RewriteRule */
        /* only the archive rule has a group Apache uses ($1: the sequence) */
        if (r[i].cls == PREP_POLICY_ARCHIVE) assert_non_null(strstr(r[i].regex, "(["));
    }
}

/* The class Apache gives the request path "/" + key with the configuration prep apache
 * writes: PREP_CC = page, then every rule from the last to the first, each setting PREP_CC
 * when "^/" + its regex (without its '^') matches. */
static prep_policy_class apache_class(const char *key)
{
    size_t nr;
    const prep_policy_rule *r = prep_policy_rules(&nr);
    char url[8192];
    snprintf(url, sizeof url, "/%s", key);
    prep_policy_class k = PREP_POLICY_PAGE;
    for (size_t i = nr; i-- > 0;) {
        char rx[512];
        snprintf(rx, sizeof rx, "^/%s", r[i].regex + 1);
        regex_t re;
        assert_int_equal(regcomp(&re, rx, REG_EXTENDED), 0);
        if (regexec(&re, url, 0, NULL, 0) == 0) k = r[i].cls;
        regfree(&re);
    }
    return k;
}

static void test_apache_reads_the_same(void **state)
{
    (void)state;
    for (size_t i = 0; i < PREP_ARRAY_LEN(cases); i++)
        if (apache_class(cases[i].path) != cases[i].cls) fail_msg("%s: Apache's class differs", cases[i].path);
}

#define CSP_SELF PREP_POLICY_CSP_BASE

/* CORS (issue 16): the function and the regex Apache uses agree, and only JSON files get it. */
static void test_cors(void **state)
{
    (void)state;
    static const struct { const char *path; int cors; } cors_cases[] = {
        {"gubernatura/datos.json", 1}, {"seccion/0412/datos.json", 1}, {"datos/esquema.json", 1},
        {"corte.json", 1}, {"cortes/3/gubernatura/datos.json", 1}, {"gubernatura/datos.csv", 0},
        {"gubernatura/index.html", 0}, {"seccion/index.html", 0}, {"base-de-datos/gub.csv", 0},
        {"assets/app.0123456789ab.js", 0}, {"json", 0}, {".jsonx", 0}, {"a.json/index.html", 0},
    };
    regex_t re;
    assert_int_equal(regcomp(&re, PREP_POLICY_CORS_REGEX, REG_EXTENDED | REG_NOSUB), 0);
    for (size_t i = 0; i < sizeof cors_cases / sizeof *cors_cases; i++) {
        const char *p = cors_cases[i].path;
        assert_int_equal(prep_policy_cors(p, strlen(p)), cors_cases[i].cors);
        assert_int_equal(regexec(&re, p, 0, NULL, 0) == 0, cors_cases[i].cors);
    }
    regfree(&re);
    assert_string_equal(PREP_POLICY_CORS_ORIGIN, "*");
}

static void test_security(void **state)
{
    (void)state;
    prep_policy_security s;
    prep_policy_field f[4];
    assert_int_equal(prep_policy_security_make(NULL, 1, PREP_POLICY_HSTS_MAX_AGE, &s), PREP_OK);
    assert_int_equal(prep_policy_security_fields(&s, f), 4);
    static const char *const names[] = {"strict-transport-security", "x-content-type-options", "referrer-policy",
                                        "content-security-policy"};
    const char *vals[] = {"max-age=31536000", "nosniff", "strict-origin-when-cross-origin",
                          ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(f[i].name, names[i]);
        assert_int_equal(f[i].value_len, strlen(vals[i]));
        assert_memory_equal(f[i].value, vals[i], f[i].value_len);
    }
    /* plain HTTP, or max-age 0: no HSTS */
    assert_int_equal(prep_policy_security_make("", 0, PREP_POLICY_HSTS_MAX_AGE, &s), PREP_OK);
    assert_int_equal(prep_policy_security_fields(&s, f), 3);
    assert_string_equal(f[0].name, "x-content-type-options");
    assert_int_equal(prep_policy_security_make(NULL, 1, 0, &s), PREP_OK);
    assert_int_equal(prep_policy_security_fields(&s, f), 3);
    assert_int_equal(prep_policy_security_make(NULL, 1, 300, &s), PREP_OK);
    assert_string_equal(s.hsts, "max-age=300");
    /* origins: single spaces whatever the spacing given */
    assert_int_equal(prep_policy_security_make("  https://a.example   https://b.example:8443 ", 1, 1, &s), PREP_OK);
    assert_string_equal(s.csp, CSP_SELF " https://a.example https://b.example:8443");
    assert_int_equal(s.csp_len, strlen(s.csp));
    assert_int_equal(prep_policy_security_make("https://*.diario.mx http://[::1]:8080", 1, 1, &s), PREP_OK);
    assert_string_equal(s.csp, CSP_SELF " https://*.diario.mx http://[::1]:8080");
    /* refused: what would end the directive or the header, or need quoting in Apache */
    static const char *const bad[] = {"https://a.mx; script-src *", "https://a.mx, https://b.mx", "\"x\"",
                                      "https://a.mx/%41", "'none'", "https://a.mx\tb", "a\\b", "https://a.mx\r\nx: y",
                                      "https://ñ.mx", "${x}"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(bad); i++) {
        assert_false(prep_policy_origins_ok(bad[i]));
        assert_int_equal(prep_policy_security_make(bad[i], 1, 1, &s), PREP_ERR_INVALID);
        assert_string_equal(s.csp, CSP_SELF); /* a policy without them */
    }
    /* at most 1,024 bytes, and the longest fits */
    char o[PREP_POLICY_ORIGINS_MAX + 2];
    memset(o, 'a', sizeof o - 1);
    o[sizeof o - 1] = 0;
    assert_false(prep_policy_origins_ok(o));
    o[PREP_POLICY_ORIGINS_MAX] = 0;
    assert_true(prep_policy_origins_ok(o));
    assert_int_equal(prep_policy_security_make(o, 1, 1, &s), PREP_OK);
    assert_int_equal(s.csp_len, sizeof CSP_SELF - 1 + 1 + PREP_POLICY_ORIGINS_MAX);
    assert_true(s.csp_len < sizeof s.csp);
    assert_true(prep_policy_origins_ok(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_key_bounds),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_apache_reads_the_same),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_security),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The institute daemon's config: a good config with every key, defaults, and each refusal
 * with its kind (docs/institute.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "prep/institute.h"

static prep_err parse(const char *text, prep_institute_config *c, prep_diags *d)
{
    prep_diags_init(d);
    return prep_institute_config_parse(text, strlen(text), "t.json", c, d);
}

static void test_good_and_defaults(void **st)
{
    (void)st;
    prep_institute_config c;
    prep_diags d;
    assert_int_equal(parse("{\"catalog\":\"q.cat\",\"actas\":\"a/\",\"key\":\"k.key\",\"pubkey\":\"k.pub\",\"store\":\"s\","
                           "\"drill\":true,\"registry\":\"r.db\",\"clock\":{\"start\":\"2021-06-06 20:05\","
                           "\"seconds_per_cut\":2.5},\"until\":\"2021-06-07 20:00\",\"pull\":{\"listen\":\"127.0.0.1:9443\","
                           "\"tls_cert\":\"c.pem\",\"tls_key\":\"k.pem\"},\"deliver\":{\"parallel\":4,\"retries\":0,"
                           "\"backoff_ms\":250,\"gzip\":false},\"max_cuts\":7,\"store_keep\":12}",
                           &c, &d),
                     PREP_OK);
    assert_string_equal(c.catalog, "q.cat");
    assert_string_equal(c.pubkey, "k.pub");
    assert_true(c.drill);
    assert_string_equal(c.clock_start, "2021-06-06 20:05");
    assert_true(c.seconds_per_cut == 2.5);
    assert_string_equal(c.pull_cert, "c.pem");
    assert_int_equal(c.parallel, 4);
    assert_int_equal(c.retries, 0);
    assert_int_equal(c.backoff_ms, 250);
    assert_true(c.push_raw);
    assert_int_equal(c.max_cuts, 7);
    assert_int_equal(c.store_keep, 12);
    prep_institute_config_free(&c);
    prep_diags_free(&d);
    /* the minimum: defaults as docs/institute.md says */
    assert_int_equal(parse("{\"catalog\":\"q\",\"actas\":\"a\",\"key\":\"k\",\"store\":\"s\"}", &c, &d), PREP_OK);
    assert_false(c.drill);
    assert_null(c.registry);
    assert_null(c.clock_start);
    assert_int_equal(c.parallel, 8);
    assert_int_equal(c.retries, 2);
    assert_int_equal(c.backoff_ms, 1000);
    assert_false(c.push_raw); /* pushes send the compressed forms */
    assert_int_equal(c.max_cuts, 0);
    assert_int_equal(c.store_keep, 0); /* no retention: every cut keeps its objects */
    prep_institute_config_free(&c);
    prep_diags_free(&d);
}

static void expect(const char *text, prep_err want, const char *kind, const char *in_msg)
{
    prep_institute_config c;
    prep_diags d;
    prep_err e = parse(text, &c, &d);
    if (e != want || !prep_diags_find(&d, kind)) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, want);
    const prep_diag *g = prep_diags_find(&d, kind);
    assert_non_null(g);
    if (in_msg) assert_non_null(strstr(g->msg, in_msg));
    assert_null(c.catalog); /* nothing half-filled on error */
    prep_institute_config_free(&c);
    prep_diags_free(&d);
}

#define BASE "\"catalog\":\"q\",\"actas\":\"a\",\"key\":\"k\",\"store\":\"s\""

static void test_refusals(void **st)
{
    (void)st;
    /* syntax: line 2, column of the missing value */
    prep_institute_config c;
    prep_diags d;
    assert_int_equal(parse("{\n\"catalog\": }", &c, &d), PREP_ERR_PARSE);
    const prep_diag *g = prep_diags_find(&d, "config-syntax");
    assert_non_null(g);
    assert_int_equal(g->line, 2);
    prep_diags_free(&d);
    expect("[1]", PREP_ERR_PARSE, "config-syntax", "object");
    expect("{" BASE ",\"catalog\":\"x\"}", PREP_ERR_PARSE, "config-syntax", "duplicate");
    expect("{" BASE ",\"catlog\":\"x\"}", PREP_ERR_INVALID, "config-field", "\"catlog\"");
    expect("{\"catalog\":\"q\",\"actas\":\"a\",\"key\":\"k\"}", PREP_ERR_INVALID, "config-missing", "\"store\"");
    expect("{" BASE ",\"drill\":\"yes\"}", PREP_ERR_INVALID, "config-field", "true or false");
    expect("{\"catalog\":5,\"actas\":\"a\",\"key\":\"k\",\"store\":\"s\"}", PREP_ERR_INVALID, "config-field", "string");
    expect("{\"catalog\":\"a\\u0001b\",\"actas\":\"a\",\"key\":\"k\",\"store\":\"s\"}", PREP_ERR_INVALID, "config-field",
           "control");
    /* 2^40 does not wrap into range through an int */
    expect("{" BASE ",\"deliver\":{\"parallel\":1099511627776}}", PREP_ERR_INVALID, "config-range", "1..64");
    expect("{" BASE ",\"deliver\":{\"parallel\":0}}", PREP_ERR_INVALID, "config-range", "parallel");
    expect("{" BASE ",\"deliver\":{\"paralel\":2}}", PREP_ERR_INVALID, "config-field", "in \"deliver\"");
    expect("{" BASE ",\"max_cuts\":-1}", PREP_ERR_INVALID, "config-range", "max_cuts");
    expect("{" BASE ",\"clock\":{\"start\":\"x\",\"seconds_per_cut\":0.4}}", PREP_ERR_INVALID, "config-range", "0.5");
    expect("{" BASE ",\"clock\":{\"seconds_per_cut\":5}}", PREP_ERR_INVALID, "config-range", "start");
    expect("{" BASE ",\"pull\":{\"listen\":\"127.0.0.1:1\"}}", PREP_ERR_INVALID, "config-missing", "registry");
    expect("{" BASE ",\"registry\":\"r\",\"pull\":{\"listen\":\"127.0.0.1:1\",\"tls_cert\":\"c\"}}", PREP_ERR_INVALID,
           "config-missing", "together");
    expect("{" BASE ",\"pull\":[]}", PREP_ERR_INVALID, "config-field", "object");
    expect("{" BASE ",\"store_keep\":0}", PREP_ERR_INVALID, "config-range", "1..100000");
    expect("{" BASE ",\"store_keep\":100001}", PREP_ERR_INVALID, "config-range", "store_keep");
    expect("{" BASE ",\"store_keep\":\"8\"}", PREP_ERR_INVALID, "config-field", "whole number");
    expect("{" BASE ",\"store_keep\":2.5}", PREP_ERR_INVALID, "config-field", "whole number");
}

/* A bad value names the line of its key (file:line in the printed diag). */
static void test_bad_value_line(void **st)
{
    (void)st;
    prep_institute_config c;
    prep_diags d;
    assert_int_equal(parse("{\n\"catalog\": \"q\", \"actas\": \"a\",\n\"key\": \"k\",\n\"store\": \"s\",\n"
                           "  \"store_keep\" :\n -3\n}",
                           &c, &d),
                     PREP_ERR_INVALID);
    const prep_diag *g = prep_diags_find(&d, "config-range");
    assert_non_null(g);
    assert_int_equal(g->line, 5);
    assert_string_equal(g->file, "t.json");
    prep_diags_free(&d);
    /* a key name inside a string value is not the key */
    assert_int_equal(parse("{\"catalog\": \"\\\"store_keep\\\": 1\", \"actas\": \"a\", \"key\": \"k\",\n"
                           "\"store\": \"s\",\n\"store_keep\": 0}",
                           &c, &d),
                     PREP_ERR_INVALID);
    g = prep_diags_find(&d, "config-range");
    assert_non_null(g);
    assert_int_equal(g->line, 3);
    prep_diags_free(&d);
    /* a nested key too */
    assert_int_equal(parse("{" BASE ",\n\"deliver\": {\n\"retries\": 99}}", &c, &d), PREP_ERR_INVALID);
    g = prep_diags_find(&d, "config-range");
    assert_non_null(g);
    assert_int_equal(g->line, 3);
    prep_diags_free(&d);
    /* unknown keys, a value of the wrong kind and a bad clock name their line too (session
     * 31's probe found them without one) */
    static const struct {
        const char *text, *kind;
        long line;
    } k[] = {
        {"{" BASE ",\n\"max_cut\": 1}", "config-field", 2},
        {"{" BASE ",\n\n\"drill\": \"yes\"}", "config-field", 3},
        {"{" BASE ",\n\"clock\": {\n\"strat\": \"x\", \"start\": \"2021-06-06 20:00\", \"seconds_per_cut\": 1}}",
         "config-field", 3},
        {"{" BASE ",\n\"clock\": {\"start\": \"2021-06-06 20:00\", \"seconds_per_cut\": 0}}", "config-range", 2},
        {"{" BASE ",\n\"deliver\": {\"gzip\": 1}}", "config-field", 2},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        assert_int_equal(parse(k[i].text, &c, &d), PREP_ERR_INVALID);
        g = prep_diags_find(&d, k[i].kind);
        assert_non_null(g);
        assert_int_equal(g->line, k[i].line);
        prep_diags_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_and_defaults),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bad_value_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* A field's text as the reader takes it: actas_unquote (spaces and quotes around it) and
 * actas_parse_vote (plain digits read at once give what the general path gives; the words,
 * placeholders and spreadsheet floats still read as the header says). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../src/actas/actas_internal.h"

static void test_digits(void **st)
{
    (void)st;
    char s[32];
    int32_t v;
    uint64_t x = 0x2545f4914f6cdd1du;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = 1 + (size_t)(x % 12), zeros = (size_t)(x >> 8) % 3;
        uint64_t want = 0;
        size_t k = 0;
        for (; k < zeros && k < len; k++) s[k] = '0';
        for (; k < len; k++) {
            s[k] = (char)('0' + (x >> (4 * k % 60)) % 10);
            want = want * 10 + (uint64_t)(s[k] - '0');
        }
        s[len] = 0;
        int r = actas_parse_vote(s, &v);
        if (len <= 9) { /* "digits (< 10^9)" */
            assert_int_equal(r, 0);
            assert_int_equal(v, (int32_t)want);
        } else {
            assert_int_equal(r, -1);
        }
    }
}

static void test_others(void **st)
{
    (void)st;
    static const struct {
        const char *s;
        int r;
        int32_t v;
    } cases[] = {
        {"12 ", 0, 12},          {" 12", 0, 12},
        {"554.0", 0, 554},       {"7.00", 0, 7},
        {"1.000", -1, 0},        {"12a", -1, 0},
        {"", 0, PREP_ACTA_V_SIN_DATO}, {"SIN DATO", 0, PREP_ACTA_V_SIN_DATO},
        {"null", 0, PREP_ACTA_V_SIN_DATO}, {"ilegible", 0, PREP_ACTA_V_ILEGIBLE},
        {"-", 0, PREP_ACTA_V_NA}, {"N/A", 0, PREP_ACTA_V_NA},
        {"SIN ACTA", 0, PREP_ACTA_V_NONE}, {"999999999", 0, 999999999},
        {"1000000000", -1, 0},   {"000000000012", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int32_t v = -12345;
        int r = actas_parse_vote(cases[i].s, &v);
        if (r != cases[i].r || (r == 0 && v != cases[i].v))
            fail_msg("'%s': got %d, %d; want %d, %d", cases[i].s, r, v, cases[i].r, cases[i].v);
    }
}

static void test_unquote(void **st)
{
    (void)st;
    static const char *const cases[][2] = {
        {"123", "123"},       {" 123", "123"},          {"123 ", "123"},       {"\t12\r\n", "12"},
        {"\"12\"", "12"},     {"\" 12 \"", "12"},       {"=\"0901\"", "0901"}, {" =\"0901\" ", "0901"},
        {"=\"\"", ""},        {"\"\"", ""},              {"", ""},              {"a\"b", "a\"b"},
        {"\"", "\""},         {"=12", "=12"},            {"12\"", "12\""},      {"SIN DATO", "SIN DATO"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char b[64];
        snprintf(b, sizeof b, "%s", cases[i][0]);
        assert_string_equal(actas_unquote(b), cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unquote),
        cmocka_unit_test(test_digits),
        cmocka_unit_test(test_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the core helpers. Expected values come from independent sources:
 * epoch seconds from GNU date (TZ=America/Mexico_City date -d '...' +%s), percentages
 * by long division written in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/wait.h>

#include "prep/core.h"

static void test_pct_trunc(void **st)
{
    (void)st;
    char b[32];
    /* QROO 2019: 2031 / 2136 = 0.95084269... -> 95.0842 truncated (rounded would be 95.0843) */
    prep_pct_trunc(2031, 2136, 4, b, sizeof b);
    assert_string_equal(b, "95.0842");
    /* 492 / 2136 = 0.23033707... -> 23.0337 */
    prep_pct_trunc(492, 2136, 4, b, sizeof b);
    assert_string_equal(b, "23.0337");
    /* 263005 / 1187254 = 0.2215236... -> 22.1523 */
    prep_pct_trunc(263005, 1187254, 4, b, sizeof b);
    assert_string_equal(b, "22.1523");
    /* 2/3 = 66.66666.. -> 66.6666 (never 66.6667) */
    prep_pct_trunc(2, 3, 4, b, sizeof b);
    assert_string_equal(b, "66.6666");
    prep_pct_trunc(2136, 2136, 4, b, sizeof b);
    assert_string_equal(b, "100.0000");
    prep_pct_trunc(5, 0, 4, b, sizeof b);
    assert_string_equal(b, "0.0000");
    prep_pct_trunc(1, 8, 2, b, sizeof b); /* 12.5 -> 12.50 */
    assert_string_equal(b, "12.50");
    /* national scale: 95,000,000 voters, no overflow: 47,123,457 / 95,000,000 = 49.6036389...% */
    prep_pct_trunc(47123457, 95000000, 4, b, sizeof b);
    assert_string_equal(b, "49.6036");
    /* every decimals setting against snprintf of the same exact quotient, and a buffer too
     * small cut short as snprintf cuts it */
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t num = (int64_t)(x % 100000000u) - (i % 50 == 0 ? 50000000 : 0);
        int64_t den = (int64_t)((x >> 20) % 200000000u) - (i % 97 == 0 ? 1000 : 0);
        if (i % 5 == 0) den = num + (int64_t)(x % 7);
        int dec = (int)(x >> 40) % 12 - 1;
        int dd = dec < 0 ? 0 : dec > 9 ? 9 : dec;
        uint64_t scale = 1;
        for (int k = 0; k < dd; k++) scale *= 10;
        unsigned __int128 q = den > 0 && num > 0 ? ((unsigned __int128)(uint64_t)num * 100u * scale) / (uint64_t)den : 0;
        char want[64], got[64];
        if (dd) snprintf(want, sizeof want, "%llu.%0*llu", (unsigned long long)(q / scale), dd, (unsigned long long)(q % scale));
        else snprintf(want, sizeof want, "%llu", (unsigned long long)(q / scale));
        size_t cap = i % 11 == 0 ? (size_t)(x >> 50) % 8 + 1 : sizeof got;
        prep_pct_trunc(num, den, dec, got, cap);
        want[cap - 1] = 0;
        assert_string_equal(got, want);
    }
}

/* prep_time_parse of a wall-clock time gives back the instant it was formatted from
 * (either one in an hour a zone repeats), minute by minute across the days a zone changes
 * its offset and at random: the hours it remembers (hour_known) must never cover a change. */
static void check_round_trip(prep_time u, const char *tz)
{
    char l[64], back[64];
    prep_time p;
    assert_int_equal(prep_time_format(u, tz, PREP_TS_ISO, l, sizeof l), 0);
    assert_int_equal(prep_time_parse(l, tz, &p), 0);
    assert_int_equal(prep_time_format(p, tz, PREP_TS_ISO, back, sizeof back), 0);
    if (strcmp(l, back) != 0) fail_msg("%s: %s parsed as %lld, which is %s", tz, l, (long long)p, back);
    if (p != u && llabs((long long)(p - u)) > 3600) fail_msg("%s: %s parsed %lld s away", tz, l, (long long)(p - u));
}

static void test_time_parse_hours(void **st)
{
    (void)st;
    /* 2021-03-14 and 2021-11-07 (Tijuana, St John's: US/Canada rules), 2021-04-04 and
     * 2021-10-31 (Mexico City's last daylight saving), 2021-03-28 and 2021-10-31 (London),
     * and Lord Howe Island, whose offset moves by half an hour: an hour remembered across
     * its change would be half an hour wrong */
    static const struct {
        const char *tz;
        prep_time day; /* 00:00 UTC of the day */
    } walks[] = {
        {"America/Tijuana", 1615680000},  {"America/Tijuana", 1636243200},
        {"America/St_Johns", 1615680000}, {"America/St_Johns", 1636243200},
        {"America/Mexico_City", 1617494400}, {"America/Mexico_City", 1635638400},
        {"Europe/London", 1616889600},    {"Europe/London", 1635638400},
        /* half-hour changes at 02:00 local: 2021-04-04 and 2021-10-03 */
        {"Australia/Lord_Howe", 1617408000}, {"Australia/Lord_Howe", 1633132800},
    };
    for (size_t w = 0; w < sizeof walks / sizeof *walks; w++)
        for (prep_time u = walks[w].day - 86400; u < walks[w].day + 2 * 86400; u += 60 + (u % 7))
            check_round_trip(u, walks[w].tz);
    uint64_t x = 0x853c49e6748fea9bu;
    static const char *zones[] = {"America/Tijuana", "America/St_Johns", "America/Mexico_City", "Europe/London",
                                  "America/Cancun", "UTC"};
    for (int i = 0; i < 60000; i++) { /* a zone for 10,000 in turn: switching zones reads its file */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        check_round_trip((prep_time)(x % 4102444800u), zones[i / 10000]);
    }
}

/* prep_time_format (the C library's localtime_r, formatted by hand) against snprintf of
 * the civil time at the zone's offset (prep_civil_from_days), in zones with whole and
 * half hours, across daylight-saving changes. */
static void test_time_format_many(void **st)
{
    (void)st;
    static const char *zones[] = {"America/Mexico_City", "America/Tijuana", "America/Cancun", "UTC",
                                  "Asia/Kolkata", "America/St_Johns"};
    static const char *months[] = {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
                                   "agosto", "septiembre", "octubre", "noviembre", "diciembre"};
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 30000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *tz = zones[i % 6];
        prep_time t = (prep_time)(x % 4102444800u); /* 1970 .. 2100 */
        long off;
        assert_int_equal(prep_time_utcoff(t, tz, &off), 0);
        int64_t lt = t + off;
        int64_t day = lt >= 0 ? lt / 86400 : (lt - 86399) / 86400;
        int64_t sec = lt - day * 86400;
        int64_t yy;
        int mo, d, h = (int)(sec / 3600), mi = (int)(sec % 3600 / 60), se = (int)(sec % 60);
        prep_civil_from_days(day, &yy, &mo, &d);
        long y = (long)yy;
        long a = off < 0 ? -off : off;
        char lab[24], want[96], got[96];
        if (a % 3600 == 0) snprintf(lab, sizeof lab, "UTC%c%ld", off < 0 ? '-' : '+', a / 3600);
        else snprintf(lab, sizeof lab, "UTC%c%ld:%02ld", off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
        for (int style = 0; style < 4; style++) {
            switch ((prep_ts_style)style) {
            case PREP_TS_ISO: snprintf(want, sizeof want, "%04ld-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, se); break;
            case PREP_TS_ISO_OFF:
                snprintf(want, sizeof want, "%04ld-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", y, mo, d, h, mi, se,
                         off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
                break;
            case PREP_TS_HEADER: snprintf(want, sizeof want, "%02d/%02d/%04ld %02d:%02d (%s)", d, mo, y, h, mi, lab); break;
            case PREP_TS_HUMAN:
                snprintf(want, sizeof want, "%d de %s de %04ld, %02d:%02d (%s)", d, months[mo - 1], y, h, mi, lab);
                break;
            }
            assert_int_equal(prep_time_format(t, tz, (prep_ts_style)style, got, sizeof got), 0);
            assert_string_equal(got, want);
            /* too small: -1, cut short */
            size_t cap = strlen(want);
            assert_int_equal(prep_time_format(t, tz, (prep_ts_style)style, got, cap), -1);
            want[cap - 1] = 0;
            assert_string_equal(got, want);
        }
    }
}

static void test_time(void **st)
{
    (void)st;
    const char *tz = "America/Mexico_City";
    prep_time t;
    /* GNU date: 2021-06-06 20:00 in Mexico City = 1623027600 (UTC-5, DST in 2021) */
    assert_int_equal(prep_time_parse("2021-06-06 20:00", tz, &t), 0);
    assert_int_equal(t, 1623027600);
    assert_int_equal(prep_time_parse("06/06/2021 20:00", tz, &t), 0);
    assert_int_equal(t, 1623027600);
    assert_int_equal(prep_time_parse("2021/06/06 20:00:00", tz, &t), 0);
    assert_int_equal(t, 1623027600);
    assert_int_equal(prep_time_parse("06/06/2021 20:00 (UTC-5)", "UTC", &t), 0);
    assert_int_equal(t, 1623027600);
    assert_int_equal(prep_time_parse("2021-06-06T20:00:00-05:00", "UTC", &t), 0);
    assert_int_equal(t, 1623027600);
    /* real files' variants: microseconds (Campeche 2021), leading zeros dropped (3/6/2019) */
    assert_int_equal(prep_time_parse("2021-06-06 20:00:00.000000", tz, &t), 0);
    assert_int_equal(t, 1623027600);
    assert_int_equal(prep_time_parse("2021-06-06 20:00:07.999", tz, &t), 0);
    assert_int_equal(t, 1623027607);
    assert_int_equal(prep_time_parse("6/6/2021 20:00", tz, &t), 0);
    assert_int_equal(t, 1623027600);
    assert_int_equal(prep_time_parse("06/6/2021 20:00", tz, &t), 0);
    assert_int_equal(t, 1623027600);
    assert_int_not_equal(prep_time_parse("2021-06-06 20:00:00.", tz, &t), 0);
    assert_int_not_equal(prep_time_parse("2021-06-06 20:00:00.0000000000", tz, &t), 0);
    assert_int_not_equal(prep_time_parse("6/6/21 20:00", tz, &t), 0);
    /* a spreadsheet's: H:MM, and a 12-hour clock in Spanish or English (1623027600 is 20:00;
     * 12 a. m. is midnight, 12 p. m. noon) */
    assert_int_equal(prep_time_parse("7/6/2021 1:51", tz, &t), 0);
    assert_int_equal(t, 1623027600 + 5 * 3600 + 51 * 60);
    assert_int_equal(prep_time_parse("06/06/2021 08:00:00 p. m.", tz, &t), 0);
    assert_int_equal(t, 1623027600);
    assert_int_equal(prep_time_parse("6/6/2021 8:00 PM", tz, &t), 0);
    assert_int_equal(t, 1623027600);
    assert_int_equal(prep_time_parse("06/06/2021 8:00 p.m. (UTC-5)", "UTC", &t), 0);
    assert_int_equal(t, 1623027600);
    assert_int_equal(prep_time_parse("07/06/2021 12:00:00 a. m.", tz, &t), 0);
    assert_int_equal(t, 1623027600 + 4 * 3600);
    assert_int_equal(prep_time_parse("06/06/2021 12:30 pm", tz, &t), 0);
    assert_int_equal(t, 1623027600 - 7 * 3600 - 30 * 60);
    assert_int_equal(prep_time_parse("06/06/2021 11:59 AM", tz, &t), 0);
    assert_int_equal(t, 1623027600 - 8 * 3600 - 60);
    assert_int_not_equal(prep_time_parse("06/06/2021 13:00 p. m.", tz, &t), 0);
    assert_int_not_equal(prep_time_parse("06/06/2021 0:30 a. m.", tz, &t), 0);
    assert_int_not_equal(prep_time_parse("06/06/2021 8:00 p. x.", tz, &t), 0);
    assert_int_not_equal(prep_time_parse("06/06/2021 8:00 pmx", tz, &t), 0);
    assert_int_not_equal(prep_time_parse("06/06/2021 800", tz, &t), 0);
    /* 2023: DST abolished in Mexico (2022): 2023-06-06 20:00 is UTC-6 -> 1686103200 */
    assert_int_equal(prep_time_parse("2023-06-06 20:00", tz, &t), 0);
    assert_int_equal(t, 1686103200);
    /* winter 2021 (UTC-6): 2021-01-15 12:30:05 -> 1610735405 */
    assert_int_equal(prep_time_parse("2021-01-15 12:30:05", tz, &t), 0);
    assert_int_equal(t, 1610735405);

    char b[64];
    assert_int_equal(prep_time_format(1623027600 + 3 * 3600 + 300, tz, PREP_TS_HEADER, b, sizeof b), 0);
    assert_string_equal(b, "06/06/2021 23:05 (UTC-5)");
    assert_int_equal(prep_time_format(1686103200, tz, PREP_TS_HEADER, b, sizeof b), 0);
    assert_string_equal(b, "06/06/2023 20:00 (UTC-6)");
    assert_int_equal(prep_time_format(1623027600, tz, PREP_TS_ISO_OFF, b, sizeof b), 0);
    assert_string_equal(b, "2021-06-06T20:00:00-05:00");
    assert_int_equal(prep_time_format(1623027600, tz, PREP_TS_HUMAN, b, sizeof b), 0);
    assert_string_equal(b, "6 de junio de 2021, 20:00 (UTC-5)");
    long off;
    assert_int_equal(prep_time_utcoff(1623027600, tz, &off), 0);
    assert_int_equal(off, -18000);

    const char *bad[] = {"", "2021-13-01 10:00", "2021-02-29 10:00", "2021-06-06 24:00", "06/06/21 20:00",
                         "2021-06-06 20:00 (UTC-5", "2021-06-06 20:00 junk", "2021-06-31", "abc"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(bad); i++) assert_int_not_equal(prep_time_parse(bad[i], tz, &t), 0);
}

static void test_split(void **st)
{
    (void)st;
    char line[] = "=\"230085B0100\"|a||\"x|y\"|\"q\"\"q\"|";
    char *f[8];
    size_t s[8];
    size_t n = prep_split(line, '|', 1, f, s, 8);
    assert_int_equal(n, 6);
    assert_string_equal(f[0], "=\"230085B0100\"");
    assert_string_equal(f[1], "a");
    assert_string_equal(f[2], "");
    assert_string_equal(f[3], "x|y");
    assert_string_equal(f[4], "q\"q");
    assert_string_equal(f[5], "");
    assert_int_equal(s[1], 15);
    char many[] = "1,2,3,4,5";
    assert_int_equal(prep_split(many, ',', 0, f, NULL, 3), 5); /* counts past max */
    assert_string_equal(f[2], "3");
}

static void test_numbers_and_strings(void **st)
{
    (void)st;
    int64_t v;
    uint32_t u;
    assert_int_equal(prep_parse_i64(" 42 ", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(prep_parse_i64("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_not_equal(prep_parse_i64("9223372036854775808", &v), 0);
    assert_int_not_equal(prep_parse_i64("12a", &v), 0);
    assert_int_not_equal(prep_parse_i64("", &v), 0);
    assert_int_not_equal(prep_parse_u32("-1", &u), 0);
    assert_int_not_equal(prep_parse_u32("4294967296", &u), 0);
    assert_int_equal(prep_parse_u32("4294967295", &u), 0);
    assert_true(u == 4294967295u);

    char *s = prep_slugify("San Juan del Río");
    assert_string_equal(s, "san-juan-del-rio");
    free(s);
    s = prep_slugify("Peñamiller -- ÁÉÍÓÚ üñ");
    assert_string_equal(s, "penamiller-aeiou-un");
    free(s);

    assert_true(prep_utf8_valid("Querétaro", strlen("Querétaro")));
    assert_false(prep_utf8_valid("Quer\xe9taro", 9));
    assert_false(prep_utf8_valid("\xc0\xaf", 2));       /* overlong */
    assert_false(prep_utf8_valid("\xed\xa0\x80", 3));   /* surrogate */
    size_t n;
    char *u8 = prep_latin1_to_utf8("Quer\xe9taro", 9, &n);
    assert_string_equal(u8, "Querétaro");
    assert_int_equal(n, 10);
    free(u8);

    char hex[65];
    prep_sha256_hex("abc", 3, hex); /* FIPS 180-2 test vector */
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(prep_is_sha256_hex(hex));
    assert_false(prep_is_sha256_hex("abc"));
}

static void test_buf_limit(void **st)
{
    (void)st;
    prep_buf b;
    prep_buf_init(&b, 10);
    assert_int_equal(prep_buf_puts(&b, "0123456789"), PREP_OK);
    assert_int_equal(prep_buf_putc(&b, 'x'), PREP_ERR_LIMIT);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    prep_buf_reset(&b);
    assert_int_equal(prep_buf_printf(&b, "%05d", 42), PREP_OK);
    assert_string_equal(b.data, "00042");
    prep_buf_free(&b);
}

static void test_diags(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    d.max_keep = 2;
    prep_diags_add(&d, "a.cat", 3, 4, "duplicate-key", "party %s twice", "PAN");
    prep_diags_add(&d, "a.cat", 5, 0, "bad-value", "x");
    prep_diags_add(&d, "a.cat", 6, 0, "bad-value", "y");
    assert_int_equal(d.n, 2);
    assert_int_equal(d.total, 3);
    const prep_diag *g = prep_diags_find(&d, "duplicate-key");
    assert_non_null(g);
    assert_int_equal(g->line, 3);
    assert_string_equal(g->msg, "party PAN twice");
    assert_null(prep_diags_find(&d, "nope"));
    prep_diags_free(&d);
}

static void test_atomic_write(void **st)
{
    (void)st;
    char dir[] = "/tmp/prep-core-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a/b/c.txt", dir);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    assert_int_equal(prep_mkdirs(sub), PREP_OK);
    assert_int_equal(prep_write_file_atomic(path, "hello", 5), PREP_OK);
    assert_int_equal(prep_write_file_atomic(path, "bye", 3), PREP_OK);
    char *data;
    size_t len;
    assert_int_equal(prep_read_file(path, 0, &data, &len), PREP_OK);
    assert_int_equal(len, 3);
    assert_string_equal(data, "bye");
    free(data);
    assert_int_equal(prep_read_file(path, 2, &data, &len), PREP_ERR_LIMIT);
    /* a limit equal to the size, or above it but under the read chunk, reads the file */
    assert_int_equal(prep_read_file(path, 3, &data, &len), PREP_OK);
    assert_int_equal(len, 3);
    free(data);
    assert_int_equal(prep_read_file(path, 4096, &data, &len), PREP_OK);
    assert_string_equal(data, "bye");
    free(data);
    /* a pipe has no size up front: the limit still holds while reading */
    assert_int_equal(prep_read_file("/proc/self/status", 16, &data, &len), PREP_ERR_LIMIT);
    assert_int_equal(prep_read_file("/proc/self/status", 1 << 20, &data, &len), PREP_OK);
    assert_true(len > 16);
    free(data);
    snprintf(path, sizeof path, "%s/none", dir);
    assert_int_equal(prep_read_file(path, 0, &data, &len), PREP_ERR_NOTFOUND);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_rng(void **st)
{
    (void)st;
    prep_rng a, b;
    prep_rng_seed(&a, 7);
    prep_rng_seed(&b, 7);
    for (int i = 0; i < 100; i++) assert_true(prep_rng_next(&a) == prep_rng_next(&b));
    prep_rng_seed(&b, 8);
    assert_true(prep_rng_next(&a) != prep_rng_next(&b));
    /* below(n) stays below n, and every value of a small range shows up */
    int seen[5] = {0};
    for (int i = 0; i < 1000; i++) {
        uint64_t x = prep_rng_below(&a, 5);
        assert_true(x < 5);
        seen[x]++;
    }
    for (int i = 0; i < 5; i++) assert_true(seen[i] > 100);
    double sum = 0;
    for (int i = 0; i < 20000; i++) sum += prep_rng_normal(&a);
    assert_true(sum / 20000 > -0.05 && sum / 20000 < 0.05);
}

/* prep_rm_tree removes a tree depth first, never through a symlink, and says whether the
 * path is gone. */
static void test_rm_tree(void **st)
{
    (void)st;
    char root[] = "/tmp/prep-core-rm-XXXXXX";
    assert_non_null(mkdtemp(root));
    char p[512], keep[512], t[512];
    snprintf(keep, sizeof keep, "%s/keep", root);
    snprintf(t, sizeof t, "%s/t/a/b", root);
    assert_int_equal(prep_mkdirs(keep), PREP_OK);
    assert_int_equal(prep_mkdirs(t), PREP_OK);
    snprintf(p, sizeof p, "%s/keep/f", root);
    assert_int_equal(prep_write_file_atomic(p, "x", 1), PREP_OK);
    snprintf(p, sizeof p, "%s/t/a/b/f", root);
    assert_int_equal(prep_write_file_atomic(p, "y", 1), PREP_OK);
    snprintf(p, sizeof p, "%s/t/link", root);
    assert_int_equal(symlink(keep, p), 0);
    snprintf(p, sizeof p, "%s/t", root);
    assert_int_equal(prep_rm_tree(p), 0);
    struct stat sb;
    assert_int_not_equal(lstat(p, &sb), 0);
    snprintf(p, sizeof p, "%s/keep/f", root); /* the symlink's target is untouched */
    assert_int_equal(stat(p, &sb), 0);
    snprintf(p, sizeof p, "%s/absent", root);
    assert_int_equal(prep_rm_tree(p), 0);
    snprintf(p, sizeof p, "%s/keep/f", root); /* a plain file */
    assert_int_equal(prep_rm_tree(p), 0);
    assert_int_not_equal(lstat(p, &sb), 0);
    assert_int_equal(prep_rm_tree(root), 0);
    assert_int_not_equal(lstat(root, &sb), 0);
}

/* The civil-date arithmetic against the C library's gmtime/timegm (an independent
 * implementation) on every day from 1600 to 2400, and by hand on a few. */
static void test_civil_dates(void **st)
{
    (void)st;
    assert_int_equal(prep_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(prep_days_from_civil(2000, 3, 1), 11017);  /* 30 years + 8 leap days + Jan, Feb */
    assert_int_equal(prep_days_from_civil(2021, 6, 6), 18784);  /* Querétaro's election day */
    assert_int_equal(prep_days_from_civil(1969, 12, 31), -1);
    int64_t first = prep_days_from_civil(1600, 1, 1), last = prep_days_from_civil(2400, 12, 31);
    for (int64_t z = first; z <= last; z++) {
        time_t t = (time_t)(z * 86400);
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        int64_t y;
        int m, d;
        prep_civil_from_days(z, &y, &m, &d);
        if (y != tm.tm_year + 1900 || m != tm.tm_mon + 1 || d != tm.tm_mday) fail_msg("day %lld", (long long)z);
        if (prep_days_from_civil(y, m, d) != z) fail_msg("round trip of day %lld", (long long)z);
    }
}

/* The new core file helpers name what failed; the atomic write keeps the mode asked. */
static void test_file_helpers(void **st)
{
    (void)st;
    char root[] = "/tmp/prep-core-files-XXXXXX";
    assert_non_null(mkdtemp(root));
    char p[512];
    snprintf(p, sizeof p, "%s/secret", root);
    mode_t old = umask(0);
    assert_int_equal(prep_write_file_atomic_mode(p, "k v\n", 4, 0600), PREP_OK);
    umask(old);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(prep_append_file(p, "x\n", 2, 1), PREP_OK);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(prep_read_file(p, 1024, &data, &len), PREP_OK);
    assert_string_equal(data, "k v\nx\n");
    free(data);
    /* a directory that does not exist: the failure names the call and the path */
    snprintf(p, sizeof p, "%s/no/such/file", root);
    prep_io_clear();
    assert_int_equal(prep_append_file(p, "x", 1, 0), PREP_ERR_IO);
    assert_non_null(strstr(prep_io_last(), "open for appending"));
    assert_non_null(strstr(prep_io_last(), p));
    assert_non_null(strstr(prep_err_text(PREP_ERR_IO), strerror(ENOENT)));
    /* a write to a full device is named ENOSPC (/dev/full) */
    int fd = open("/dev/full", O_WRONLY);
    if (fd >= 0) {
        prep_io_clear();
        assert_int_equal(prep_write_all(fd, "abc", 3, "/dev/full"), PREP_ERR_IO);
        assert_non_null(strstr(prep_err_text(PREP_ERR_IO), "ENOSPC"));
        close(fd);
    }
    /* sticky buffer errors */
    prep_buf b;
    prep_buf_init(&b, 4);
    assert_int_equal(prep_buf_puts(&b, "abc"), PREP_OK);
    assert_int_equal(prep_buf_puts(&b, "de"), PREP_ERR_LIMIT);
    assert_int_equal(prep_buf_puts(&b, ""), PREP_ERR_LIMIT); /* even an append that would fit */
    assert_int_equal(prep_buf_err(&b), PREP_ERR_LIMIT);
    assert_string_equal(b.data, "abc");
    prep_buf_reset(&b);
    assert_int_equal(prep_buf_err(&b), PREP_OK);
    prep_buf_free(&b);
    assert_int_equal(prep_rm_tree(root), 0);
}

/* prep_mem_cutter, seen from the program it executes again: the test binary runs itself
 * with --mem-child (main below), which calls prep_mem_cutter and prints its process id, its
 * GLIBC_TUNABLES and whether a 64 MB block came from the heap (glibc's own count of mapped
 * blocks, mallinfo2). */
static int mem_child(char **argv)
{
    pid_t before = getpid();
    prep_mem_cutter(argv);
    char *volatile p = malloc(64u << 20); /* volatile: the compiler may not drop the pair */
    if (!p) return 1;
    p[0] = 1;
    struct mallinfo2 mi = mallinfo2();
    const char *t = getenv("GLIBC_TUNABLES");
    printf("%ld %s %d\n", (long)before, t ? t : "-", mi.hblkhd >= (64u << 20));
    free(p);
    return 0;
}

/* Runs the child with the environment changes given ("NAME=VALUE" to set, "NAME" to
 * unset); its line into out. */
static void mem_run(const char *self, const char *set1, const char *set2, char *out, size_t n, long *pid)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        unsetenv("GLIBC_TUNABLES");
        unsetenv("PREP_MEM_POLICY");
        for (const char *e = set1; e; e = e == set1 ? set2 : NULL) {
            char k[128];
            const char *eq = strchr(e, '=');
            snprintf(k, sizeof k, "%.*s", (int)(eq ? eq - e : (long)strlen(e)), e);
            if (eq) setenv(k, eq + 1, 1);
        }
        char *av[] = {(char *)self, (char *)"--mem-child", NULL};
        execv("/proc/self/exe", av);
        _exit(127);
    }
    close(fd[1]);
    ssize_t r = read(fd[0], out, n - 1);
    close(fd[0]);
    out[r > 0 ? r : 0] = 0;
    int st;
    assert_int_equal(waitpid(c, &st, 0), c);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    *pid = (long)c;
}

static void test_mem_cutter(void **st)
{
    (void)st;
    char line[1200], want[1200];
    long pid;
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PREP_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(PREP_TEST_ASAN)
    const int heap_known = 0; /* the sanitizer's allocator: mallinfo2 says nothing */
#else
    const int heap_known = 1;
#endif
    /* the default: executed again once, same process id, huge pages asked, the block from the heap */
    mem_run("test_core", NULL, NULL, line, sizeof line, &pid);
    snprintf(want, sizeof want, "%ld glibc.malloc.hugetlb=1 0\n", pid);
    if (heap_known) assert_string_equal(line, want);
    else assert_non_null(strstr(line, " glibc.malloc.hugetlb=1 "));
    /* the operator's tunables are kept, hugetlb added after them */
    mem_run("test_core", "GLIBC_TUNABLES=glibc.malloc.tcache_count=0", NULL, line, sizeof line, &pid);
    snprintf(want, sizeof want, "%ld glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=1 0\n", pid);
    if (heap_known) assert_string_equal(line, want);
    /* the operator's own hugetlb setting wins; the heap policy still applies */
    mem_run("test_core", "GLIBC_TUNABLES=glibc.malloc.hugetlb=0", NULL, line, sizeof line, &pid);
    snprintf(want, sizeof want, "%ld glibc.malloc.hugetlb=0 0\n", pid);
    if (heap_known) assert_string_equal(line, want);
    /* PREP_MEM_POLICY=0: glibc's defaults (a 64 MB block is mapped on its own) */
    mem_run("test_core", "PREP_MEM_POLICY=0", NULL, line, sizeof line, &pid);
    snprintf(want, sizeof want, "%ld - 1\n", pid);
    if (heap_known) assert_string_equal(line, want);
    else assert_non_null(strstr(line, " - "));
}

static __attribute__((unused)) long rss_kb(void) /* unused under the sanitizer */
{
    FILE *f = fopen("/proc/self/status", "r");
    char l[256];
    long kb = -1;
    while (f && fgets(l, sizeof l, f))
        if (!strncmp(l, "VmRSS:", 6)) kb = atol(l + 6);
    if (f) fclose(f);
    return kb;
}

/* prep_mem_trim_above: 600 MB freed inside the heap (a live block above them keeps glibc
 * from trimming the top by itself) stay in the process under a 1 GB slack and go back
 * to the system under a 512 MB one (VmRSS). */
/* prep_par: every item taken exactly once whatever the threads and chunk; a stop ends the
 * handing out (the ranges taken run on); the work of thread-local state stays its own. */
typedef struct par_ctx {
    _Atomic unsigned *seen;
    int stop;       /* each worker stops the work once it has its first range */
    _Atomic long workers;
} par_ctx;

static void par_worker(void *arg, prep_par *p)
{
    par_ctx *c = arg;
    atomic_fetch_add(&c->workers, 1);
    size_t i0, i1;
    while (prep_par_next(p, &i0, &i1)) {
        assert_true(i0 < i1);
        if (c->stop) prep_par_stop(p);
        for (size_t i = i0; i < i1; i++) atomic_fetch_add(&c->seen[i], 1);
    }
}

static void test_par(void **st)
{
    (void)st;
    static const size_t ns[] = {0, 1, 7, 64, 1000, 4099};
    static const size_t chunks[] = {0, 1, 3, 64, 5000};
    static const long nts[] = {-1, 1, 2, 4, 100};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof chunks / sizeof chunks[0]; b++)
            for (size_t t = 0; t < sizeof nts / sizeof nts[0]; t++) {
                par_ctx c = {.seen = calloc(ns[a] + 1, sizeof *c.seen)};
                prep_par_run(nts[t], ns[a], chunks[b], par_worker, &c);
                for (size_t i = 0; i < ns[a]; i++) assert_int_equal(atomic_load(&c.seen[i]), 1);
                assert_true(atomic_load(&c.workers) >= 1);
                free((void *)c.seen);
            }
    /* each worker stops the work on taking its first range of 8 (of 100,000 items): no range
     * is handed out after the first stop, so at most one range a worker is done */
    par_ctx c = {.seen = calloc(100000, sizeof *c.seen), .stop = 1};
    prep_par_run(4, 100000, 8, par_worker, &c);
    size_t done = 0;
    for (size_t i = 0; i < 100000; i++) done += atomic_load(&c.seen[i]);
    assert_true(done >= 8 && done <= 4 * 8 && done % 8 == 0);
    free((void *)c.seen);
    assert_true(prep_par_cores(1) == 1);
    assert_true(prep_par_cores(1000) >= 1);
}

static void test_mem_trim_above(void **st)
{
    (void)st;
#if defined(__SANITIZE_ADDRESS__) || defined(PREP_TEST_ASAN)
    skip(); /* the sanitizer's allocator: no glibc heap to trim */
#else
    enum { N = 600 * 16, SZ = 64 * 1024 }; /* 64 KB blocks: from the heap, not mapped alone */
    char **v = malloc(N * sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < N; i++) {
        v[i] = malloc(SZ);
        assert_non_null(v[i]);
        memset(v[i], 1, SZ);
    }
    char *volatile top = malloc(SZ);
    assert_non_null(top);
    top[0] = 1;
    for (int i = 0; i < N; i++) free(v[i]);
    long before = rss_kb();
    prep_mem_trim_above((size_t)1 << 30);
    long kept = rss_kb();
    prep_mem_trim_above(PREP_MEM_CUTTER_SLACK);
    long after = rss_kb();
    assert_true(before > 600 * 1024);
    assert_true(kept > before - 50 * 1024); /* under the slack: nothing given back */
    assert_true(after < before - 500 * 1024); /* over it: the 600 MB go back */
    free(top);
    free(v);
#endif
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--mem-child")) return mem_child(argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pct_trunc),  cmocka_unit_test(test_time),
        cmocka_unit_test(test_time_format_many),
        cmocka_unit_test(test_time_parse_hours),
        cmocka_unit_test(test_split),      cmocka_unit_test(test_numbers_and_strings),
        cmocka_unit_test(test_buf_limit),  cmocka_unit_test(test_diags),
        cmocka_unit_test(test_atomic_write), cmocka_unit_test(test_rng),
        cmocka_unit_test(test_rm_tree),  cmocka_unit_test(test_civil_dates),
        cmocka_unit_test(test_file_helpers), cmocka_unit_test(test_mem_cutter),
        cmocka_unit_test(test_mem_trim_above), cmocka_unit_test(test_par),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* prep monitor: config parsing and its located errors, the JSON locator, certificate
 * dates, URL building, the rotating sample, verdicts, state, evidence and board files,
 * and one whole round against a closed port. Real broadcasters (nginx over TLS) are in
 * tests/integ/monitor.sh. */
#include "test_cut_util.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../../src/monitor/monitor_internal.h"
#include "prep/monitor.h"
#include "prep/registry.h"

static const char good_cfg[] =
    "{\"store\": \"st\", \"out\": \"/abs/board\", \"interval_seconds\": 60, \"sample\": 30,\n"
    " \"amber_lag_seconds\": 100, \"red_lag_seconds\": 500, \"cert_warn_days\": 10,\n"
    " \"broadcasters\": [\n"
    "   {\"id\": \"uaq\", \"url\": \"https://127.0.0.1:8443/\", \"ca_file\": \"cert.pem\"},\n"
    "   {\"id\": \"diario-1\", \"url\": \"https://difusor.example/prep/\"}\n"
    " ]}\n";

static void test_config_good(void **state)
{
    (void)state;
    prep_diags d;
    prep_diags_init(&d);
    prep_monitor_config c;
    assert_int_equal(prep_monitor_config_parse(good_cfg, strlen(good_cfg), "c.json", "/etc/prep", &c, &d), PREP_OK);
    assert_int_equal(d.n, 0);
    assert_string_equal(c.store, "/etc/prep/st");
    assert_string_equal(c.out, "/abs/board");
    assert_string_equal(c.registry, "");
    assert_int_equal(c.interval_seconds, 60);
    assert_int_equal(c.sample, 30);
    assert_int_equal(c.amber_lag_seconds, 100);
    assert_int_equal(c.red_lag_seconds, 500);
    assert_int_equal(c.cert_warn_days, 10);
    assert_int_equal(c.timeout_seconds, 20); /* defaults */
    assert_int_equal(c.parallel, 8);
    assert_int_equal(c.history, 48);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.targets[0].id, "uaq");
    assert_string_equal(c.targets[0].ca_file, "/etc/prep/cert.pem");
    assert_string_equal(c.targets[1].url, "https://difusor.example/prep/");
    assert_string_equal(c.targets[1].ca_file, "");
    prep_monitor_config_free(&c);
    prep_diags_free(&d);
}

/* Parses text, expects refusal with one diag of kind at line:col. */
static void expect_bad(const char *text, const char *kind, long line, long col)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_monitor_config c;
    prep_err e = prep_monitor_config_parse(text, strlen(text), "c.json", NULL, &c, &d);
    assert_int_not_equal(e, PREP_OK);
    const prep_diag *g = prep_diags_find(&d, kind);
    if (!g) prep_diags_print(&d, stderr, 0);
    assert_non_null(g);
    assert_string_equal(g->file, "c.json");
    if (col < 0) col = g->col;
    if (g->line != line || g->col != col) {
        fprintf(stderr, "for %s\n", text);
        prep_diags_print(&d, stderr, 0);
    }
    assert_int_equal(g->line, line);
    assert_int_equal(g->col, col);
    assert_int_equal(c.n, 0);
    assert_null(c.targets);
    prep_diags_free(&d);
}

static void test_config_errors_located(void **state)
{
    (void)state;
    /* jansson's own position for a syntax error: the unexpected '}' at line 2 col 9 */
    expect_bad("{\"store\": \"s\",\n \"out\": }", "config-syntax", 2, 9);
    /* a string where a number goes: the value "many" begins at line 2, column 12 */
    expect_bad("{\"store\": \"s\", \"out\": \"o\",\n \"sample\": \"many\", \"broadcasters\": []}", "config-field", 2, 12);
    /* out of range: sample 1 (allowed 2..10000), value at line 1 column 38 */
    expect_bad("{\"store\": \"s\", \"out\": \"o\", \"sample\": 1, \"broadcasters\": []}", "config-range", 1, 38);
    /* unknown top-level key: located at its value */
    expect_bad("{\"store\": \"s\", \"out\": \"o\", \"colour\": 1, \"broadcasters\": []}", "config-field", 1, 38);
    /* missing store: located at the object that lacks it */
    expect_bad("{\"out\": \"o\", \"broadcasters\": []}", "config-missing", 1, 1);
    /* a plain http:// URL in the second broadcaster, line 3: the value at column 21 */
    expect_bad("{\"store\": \"s\", \"out\": \"o\", \"broadcasters\": [\n"
               " {\"id\": \"a\", \"url\": \"https://a.example/\"},\n"
               " {\"id\": \"b\", \"url\": \"http://b.example/\"}]}",
               "config-field", 3, 21);
    /* a URL without the final slash */
    expect_bad("{\"store\": \"s\", \"out\": \"o\", \"broadcasters\": [{\"id\": \"a\", \"url\": \"https://a.example\"}]}",
               "config-field", 1, 64);
    /* duplicate id: the second "a" at line 3 column 9 */
    expect_bad("{\"store\": \"s\", \"out\": \"o\", \"broadcasters\": [\n"
               " {\"id\": \"a\", \"url\": \"https://a.example/\"},\n"
               " {\"id\": \"a\", \"url\": \"https://b.example/\"}]}",
               "config-duplicate", 3, 9);
    /* an id with an upper-case letter */
    expect_bad("{\"store\": \"s\", \"out\": \"o\", \"broadcasters\": [{\"id\": \"UAQ\", \"url\": \"https://a.example/\"}]}",
               "config-field", 1, 52);
    /* red below amber */
    expect_bad("{\"store\": \"s\", \"out\": \"o\", \"amber_lag_seconds\": 300,\n \"red_lag_seconds\": 200, "
               "\"broadcasters\": []}",
               "config-range", 2, 21);
    /* duplicate key: jansson refuses it as a syntax error, at a column of its choosing */
    expect_bad("{\"store\": \"s\", \"store\": \"t\", \"out\": \"o\", \"broadcasters\": []}", "config-syntax", 1, -1);
    /* not an object */
    expect_bad("[1, 2]", "config-field", 1, 1);
}

static void test_json_locate(void **state)
{
    (void)state;
    const char *t = "{\"a\": {\"x\": [1, {\"k\": \"v\\\"}\"}, 3]},\n  \"b\": [ [], {\"z\": \n   true}]}";
    long line, col;
    mon_jstep p1[] = {{"a", 0}, {"x", 0}, {NULL, 2}};
    mon_json_locate(t, strlen(t), p1, 3, &line, &col);
    assert_int_equal(line, 1);
    /* {"a": {"x": [1, {"k": "v\"}"}, 3: the 3 is byte 32 (the string "v\"}" is bytes 23..28) */
    assert_int_equal(col, 32);
    mon_jstep p2[] = {{"b", 0}, {NULL, 1}, {"z", 0}};
    mon_json_locate(t, strlen(t), p2, 3, &line, &col);
    assert_int_equal(line, 3);
    assert_int_equal(col, 4);
    /* jansson accepts a NUL byte right after a number; the walker must still move on
     * (found by fuzz_monitor_config: it looped forever) */
    static const char nul[] = "{\"a\": [4\0, 5], \"b\": 7}";
    mon_jstep p4[] = {{"b", 0}};
    mon_json_locate(nul, sizeof nul - 1, p4, 1, &line, &col);
    assert_int_equal(line, 1);
    assert_int_equal(col, 21); /* {"a": [4<NUL>, 5], "b": 7: the 7 is byte 21 */
    mon_jstep p3[] = {{"nope", 0}};
    mon_json_locate(t, strlen(t), p3, 1, &line, &col);
    assert_int_equal(line, 0);
    assert_int_equal(col, 0);
}

static void test_cert_date(void **state)
{
    (void)state;
    prep_time t;
    /* 2026-11-28 17:30:40 UTC: 1970..2025 is 56 years with 14 leap days = 20454 days;
     * Jan..Oct 2026 = 304 days; +27 = 20785 days * 86400 = 1795824000; 17:30:40 = 63040 s */
    assert_int_equal(mon_parse_cert_date("Nov 28 17:30:40 2026 GMT", &t), 0);
    assert_int_equal(t, 1795887040);
    /* curl pads a one-digit day with a space */
    assert_int_equal(mon_parse_cert_date("Mar  1 00:00:00 2024 GMT", &t), 0);
    /* 2024-03-01: 54 years with 13 leap days (1972..2020) = 19723; Jan 31 + Feb 29 = 60 -> 19783 */
    assert_int_equal(t, (prep_time)19783 * 86400);
    assert_int_equal(mon_parse_cert_date("2024-03-01 00:00:00 GMT", &t), 0);
    assert_int_equal(t, (prep_time)19783 * 86400);
    assert_int_not_equal(mon_parse_cert_date("Foo  1 00:00:00 2024 GMT", &t), 0);
    assert_int_not_equal(mon_parse_cert_date("Mar 32 00:00:00 2024 GMT", &t), 0);
    assert_int_not_equal(mon_parse_cert_date("", &t), 0);
}

static void test_url_join(void **state)
{
    (void)state;
    char u[128];
    assert_int_equal(mon_url_join("https://h/", "ayuntamientos/el-marqués/index.html", u, sizeof u), 0);
    assert_string_equal(u, "https://h/ayuntamientos/el-marqu%C3%A9s/index.html");
    assert_int_equal(mon_url_join("https://h/p/", "a b?#%.csv", u, sizeof u), 0);
    assert_string_equal(u, "https://h/p/a%20b%3F%23%25.csv");
    char small[16];
    assert_int_equal(mon_url_join("https://h/", "abcdefgh", small, sizeof small), -1);
}

/* A store with cut 1 (and optionally more) of npages section pages, index.html,
 * corte.json, LEEME.txt and a CSV. */
static char *make_store(int npages, int cuts)
{
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(7, &sk, &pk);
    site s;
    site_init(&s, npages);
    site_set(&s, "corte.json", "{\"corte\":1}");
    prep_diags d;
    prep_diags_init(&d);
    for (int i = 0; i < cuts; i++) {
        site_set(&s, "index.html", "<!doctype html><p>Corte %d</p>%0400d", i + 1, 0);
        assert_int_equal(make_cut(store, &s, &sk, PREP_CUT_LIVE, T0 + 300 * i, 3600, NULL, &d), PREP_OK);
    }
    site_free(&s);
    prep_diags_free(&d);
    free(store);
    return t;
}

static void test_sample_rotates_over_every_path(void **state)
{
    (void)state;
    char *t = make_store(40, 1);
    char *store = pathf("%s/store", t);
    prep_cut_manifest m;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_load(store, 1, &m, &d), PREP_OK);
    assert_int_equal(m.n, 44); /* 40 sections + index.html, LEEME.txt, the CSV, corte.json */
    size_t idx[7];
    char cursor[PREP_CUT_PATH_MAX + 1] = "", next[PREP_CUT_PATH_MAX + 1];
    int seen[44] = {0};
    /* 7 a round: index.html, corte.json, then 5 rotating; 42 others / 5 = 8.4 -> 9 rounds */
    for (int round = 0; round < 9; round++) {
        size_t got = mon_sample(&m, cursor, 7, idx, next);
        assert_int_equal(got, 7);
        assert_string_equal(m.entries[idx[0]].path, "index.html");
        assert_string_equal(m.entries[idx[1]].path, "corte.json");
        for (size_t j = 0; j < got; j++) seen[idx[j]]++;
        for (size_t j = 2; j < got; j++)
            for (size_t k = 0; k < j; k++) assert_int_not_equal(idx[j], idx[k]);
        assert_string_equal(next, m.entries[idx[6]].path);
        strcpy(cursor, next);
    }
    for (size_t i = 0; i < m.n; i++) assert_true(seen[i] >= 1);
    /* a cursor that is no longer a path (a new cut) starts after where it would sort */
    size_t got = mon_sample(&m, "gubernatura/seccion-0010/index.htmm", 3, idx, next);
    assert_int_equal(got, 3);
    assert_string_equal(m.entries[idx[2]].path, "gubernatura/seccion-0011/index.html");
    /* a sample larger than the cut gives every path once */
    size_t all[60];
    assert_int_equal(mon_sample(&m, "", 60, all, next), 44);
    prep_cut_manifest_free(&m);
    prep_diags_free(&d);
    rm_rf(t);
    free(store);
    free(t);
}

static void test_sample_size(void **state)
{
    (void)state;
    /* 15000 paths * 30 s / 86400 s = 5.2 -> 6 rotating + 2 fixed = 8 < 20 asked: 20 */
    assert_int_equal(mon_sample_size(15000, 20, 30), 20);
    /* 100000 * 30 / 86400 = 34.7 -> 35 + 2 = 37 > 20: raised so a day covers every path */
    assert_int_equal(mon_sample_size(100000, 20, 30), 37);
    /* capped */
    assert_int_equal(mon_sample_size(1000000000, 20, 86400), PREP_MONITOR_SAMPLE_MAX);
}

/* ---------------------------------------------------------------- verdicts */
static prep_monitor_config judge_cfg(void)
{
    prep_monitor_config c;
    memset(&c, 0, sizeof c);
    c.amber_lag_seconds = 120;
    c.red_lag_seconds = 600;
    c.cert_warn_days = 14;
    return c;
}

#define NOW ((prep_time)1800000000)

static mon_fetch ok_sums(void)
{
    mon_fetch f;
    memset(&f, 0, sizeof f);
    f.kind = MON_SUMS;
    f.http_code = 200;
    strcpy(f.found, "aa");
    f.x_prep_corte = -1;
    f.cert_expires = NOW + 90 * 86400;
    return f;
}

static mon_fetch page(const char *path, const char *exp, const char *found, long code)
{
    mon_fetch f;
    memset(&f, 0, sizeof f);
    f.kind = MON_PAGE;
    f.path = path;
    strcpy(f.expected, exp);
    strcpy(f.found, found);
    f.http_code = code;
    return f;
}

static void test_judge(void **state)
{
    (void)state;
    prep_monitor_config c = judge_cfg();
    prep_monitor_row row;
    mon_cut c5 = {5, "aa", NOW - 1000, NOW - 990}, c4 = {4, "bb", NOW - 1300, NOW - 1290};
    mon_fetch s = ok_sums();
    mon_fetch pages[3] = {page("index.html", "11", "11", 200), page("a/b.html", "22", "22", 200),
                          page("a/b.html", "22", "22", 200)};
    pages[2].kind = MON_ENC;
    strcpy(pages[2].content_encoding, "br");

    /* current, picked up 30 s after it was made (ref = later of instant and store_seen = NOW-990) */
    mon_obs o = {&s, &c5, NULL, 5, NOW - 960, pages, 3, NOW};
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_GREEN);
    assert_string_equal(row.reason, "serving cut 5, 3 sampled pages identical");
    assert_int_equal(row.lag_seconds, 30);
    assert_int_equal(row.cuts_behind, 0);
    assert_int_equal(row.serving_seq, 5);
    assert_int_equal(row.cert_days_left, 90);
    assert_int_equal(row.pages_checked, 3);

    /* current but picked up 200 s late: amber; 700 s: red */
    o.first_seen = NOW - 790;
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_AMBER);
    assert_string_equal(row.reason, "late: cut 5 first served 200s after it was made");
    o.first_seen = NOW - 290;
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_RED);
    assert_int_equal(row.lag_seconds, 700);

    /* one cut behind, next cut known 40 s ago: still green (delivery in progress) */
    mon_cut c6 = {6, "cc", NOW - 40, NOW - 40};
    o.cut = &c5;
    o.next = &c6;
    o.active_seq = 6;
    o.first_seen = NOW - 960;
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_GREEN);
    assert_int_equal(row.cuts_behind, 1);
    assert_int_equal(row.lag_seconds, 40);
    assert_string_equal(row.reason, "serving cut 5; cut 6 pending for 40s");
    /* two behind, behind for 50 s only: amber all the same */
    mon_cut c5r = {5, "aa", NOW - 50, NOW - 50};
    o.cut = &c4;
    o.next = &c5r;
    o.active_seq = 6;
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_AMBER);
    assert_int_equal(row.cuts_behind, 2);
    assert_int_equal(row.lag_seconds, 50);
    assert_non_null(strstr(row.reason, "stale, 2 cuts behind (serving cut 4; behind since "));
    /* behind since cut 5 became known to the monitor (NOW-990): past red_lag (600), red */
    o.next = &c5;
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_RED);
    assert_int_equal(row.lag_seconds, 990);
    /* one behind for 200 s (between amber 120 and red 600): amber */
    mon_cut c6late = {6, "cc", NOW - 200, NOW - 200};
    o.cut = &c5;
    o.next = &c6late;
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_AMBER);
    assert_non_null(strstr(row.reason, "stale, 1 cut behind"));
}

static void test_judge_red_and_cert(void **state)
{
    (void)state;
    prep_monitor_config c = judge_cfg();
    prep_monitor_row row;
    mon_cut c5 = {5, "aa", NOW - 100, NOW - 100};
    mon_fetch s = ok_sums();
    mon_fetch pages[2] = {page("index.html", "11", "11", 200), page("a/b.html", "22", "99", 200)};
    mon_obs o = {&s, &c5, NULL, 5, NOW - 100, pages, 2, NOW};

    /* a modified page beats an expiring certificate */
    s.cert_expires = NOW + 3 * 86400 + 5;
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_RED);
    assert_string_equal(row.reason, "modified page a/b.html");
    assert_int_equal(row.pages_bad, 1);
    assert_int_equal(row.cert_days_left, 3);
    /* alone, the certificate is amber */
    strcpy(pages[1].found, "22");
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_AMBER);
    assert_non_null(strstr(row.reason, "certificate expires in 3 days"));
    /* expired: red */
    s.cert_expires = NOW - 10;
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_RED);
    assert_non_null(strstr(row.reason, "certificate expired"));
    s.cert_expires = NOW + 90 * 86400;
    /* the encoded representation decoded to other bytes */
    pages[1].kind = MON_ENC;
    strcpy(pages[1].found, "98");
    strcpy(pages[1].content_encoding, "gzip");
    mon_judge(&o, &c, &row);
    assert_string_equal(row.reason, "modified page a/b.html (decoded from gzip)");
    /* a missing page */
    pages[1] = page("a/c.html", "22", "", 404);
    mon_judge(&o, &c, &row);
    assert_string_equal(row.reason, "missing page a/c.html (HTTP 404)");
    /* unknown manifest bytes */
    o.cut = NULL;
    strcpy(s.found, "0123456789abcdef0123");
    mon_judge(&o, &c, &row);
    assert_int_equal(row.state, PREP_MONITOR_RED);
    assert_non_null(strstr(row.reason, "manifest not signed by the institute"));
    assert_int_equal(row.serving_seq, 0);
    /* SHA256SUMS not found */
    s.http_code = 404;
    mon_judge(&o, &c, &row);
    assert_string_equal(row.reason, "SHA256SUMS answered HTTP 404");
    /* down */
    s.curl_code = 7; /* CURLE_COULDNT_CONNECT */
    strcpy(s.curl_error, "Failed to connect");
    mon_judge(&o, &c, &row);
    assert_string_equal(row.reason, "unreachable: Failed to connect");
    /* a certificate that fails verification */
    s.curl_code = 60; /* CURLE_PEER_FAILED_VERIFICATION */
    strcpy(s.curl_error, "self-signed certificate");
    mon_judge(&o, &c, &row);
    assert_string_equal(row.reason, "certificate not valid: self-signed certificate");
    assert_int_equal(row.cert_days_left, INT64_MIN);
}

/* The cut a page names in its own bytes, found while the body streams in pieces of any
 * size (the stamp split across two pieces, or one byte at a time). */
static int64_t stamp_of(const char *body, size_t piece)
{
    mon_stamp st;
    mon_stamp_init(&st);
    size_t n = strlen(body);
    for (size_t i = 0; i < n; i += piece) mon_stamp_feed(&st, body + i, n - i < piece ? n - i : piece);
    mon_stamp_end(&st);
    return st.corte;
}

static void test_stamp(void **state)
{
    (void)state;
    const char *html = "<html><div class=\"corte\" data-corte=\"42\"><p>Corte <b>42</b> data-corte=\"7\"";
    for (size_t piece = 1; piece <= strlen(html); piece++) assert_int_equal(stamp_of(html, piece), 42);
    assert_int_equal(stamp_of("{\"corte\":3,\"instante\":\"x\"}", 1), 3);
    assert_int_equal(stamp_of("{\"corte\": 17}", 2), 17);
    assert_int_equal(stamp_of("{\"corte\":5", 4), 5);              /* closed by the end of the body */
    assert_int_equal(stamp_of("\"\"corte\":9}", 1), 9);            /* a restart on the quote */
    assert_int_equal(stamp_of("ddata-corte=\"8\"", 3), 8);
    assert_int_equal(stamp_of("<p data-corte=\"12x\" data-corte=\"4\">", 5), 4); /* not closed by '"' */
    assert_int_equal(stamp_of("<p data-corte=\"0\">", 5), -1);     /* no cut 0 */
    assert_int_equal(stamp_of("<p data-corte=\"1234567890123456789\">", 5), -1); /* too long */
    assert_int_equal(stamp_of("<p>sin sello</p>", 3), -1);
    assert_int_equal(stamp_of("", 1), -1);
}

/* The store index (issue 13, item 11): every cut of the chain is found by its manifest hash,
 * however far behind (the old cache kept 64 and dropped a cut found by the full scan, so a
 * broadcaster 70 cuts behind was "not signed"); a second refresh reads no manifest, a new
 * cut costs one read; the index survives state.json; a replaced store is re-indexed (seen by
 * the active manifest or by a new cut's chain). */
static void test_store_index_incremental(void **state)
{
    (void)state;
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t);
    char *sp = pathf("%s/state.json", t);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(7, &sk, &pk);
    site w;
    site_init(&w, 2);
    prep_diags d;
    prep_diags_init(&d);
    for (int i = 0; i < 80; i++) {
        site_set(&w, "index.html", "<!doctype html><p>Corte %d</p>", i + 1);
        assert_int_equal(make_cut(store, &w, &sk, PREP_CUT_LIVE, T0 + 300 * i, 3600, NULL, &d), PREP_OK);
    }
    prep_cut_active act;
    assert_int_equal(prep_cut_active_read(store, &act, &d), PREP_OK);
    assert_int_equal(act.seq, 80);
    /* cut 10's manifest hash, computed here from the file */
    size_t len;
    char *p10 = pathf("%s/cuts/10/manifest", store);
    char *m10 = read_all(p10, &len);
    free(p10);
    char sha10[65];
    prep_sha256_hex(m10, len, sha10);
    free(m10);

    mon_state s;
    mon_state_load(sp, &s, &d);
    size_t nr = 99;
    assert_int_equal(mon_store_refresh(store, &s, act.seq, act.manifest_sha256, &nr), 0);
    assert_int_equal(nr, 80);
    assert_int_equal(s.n_cuts, 80);
    const mon_cut *c10 = mon_cut_by_sha(&s, sha10, act.seq);
    assert_non_null(c10);
    assert_int_equal(c10->seq, 10); /* 70 behind, still a cut of the institute */
    assert_int_equal(c10->instant, T0 + 300 * 9);
    assert_null(mon_cut_by_sha(&s, sha10, 9)); /* not above max_seq */
    assert_int_equal(mon_cut_by_seq(&s, 11)->seq, 11);
    /* nothing new: no manifest read */
    assert_int_equal(mon_store_refresh(store, &s, act.seq, act.manifest_sha256, &nr), 0);
    assert_int_equal(nr, 0);
    /* the index survives the state file: still no manifest read after a reload */
    assert_int_equal(mon_state_save(sp, &s), PREP_OK);
    mon_state_free(&s);
    mon_state_load(sp, &s, &d);
    assert_int_equal(d.n, 0);
    assert_int_equal(s.n_cuts, 80);
    assert_int_equal(mon_store_refresh(store, &s, act.seq, act.manifest_sha256, &nr), 0);
    assert_int_equal(nr, 0);
    assert_int_equal(mon_cut_by_sha(&s, sha10, act.seq)->seq, 10);
    /* one new cut: one manifest read */
    site_set(&w, "index.html", "<!doctype html><p>Corte 81</p>");
    assert_int_equal(make_cut(store, &w, &sk, PREP_CUT_LIVE, T0 + 300 * 80, 3600, NULL, &d), PREP_OK);
    assert_int_equal(prep_cut_active_read(store, &act, &d), PREP_OK);
    assert_int_equal(mon_store_refresh(store, &s, act.seq, act.manifest_sha256, &nr), 0);
    assert_int_equal(nr, 1);
    assert_int_equal(s.n_cuts, 81);
    /* an index that disagrees with the store's active manifest (a store replaced under the
     * board): dropped and rebuilt from the store */
    memset(s.cuts[80].sha256, 'b', 64);
    assert_int_equal(mon_store_refresh(store, &s, act.seq, act.manifest_sha256, &nr), 0);
    assert_int_equal(nr, 1 + 81);
    assert_string_equal(mon_cut_by_seq(&s, 81)->sha256, act.manifest_sha256);
    /* a new cut whose "# previous:" is not the indexed hash of the cut before it: the index
     * is of another store (replaced under the board), rebuilt */
    memset(s.cuts[80].sha256, 'd', 64);
    site_set(&w, "index.html", "<!doctype html><p>Corte 82</p>");
    assert_int_equal(make_cut(store, &w, &sk, PREP_CUT_LIVE, T0 + 300 * 81, 3600, NULL, &d), PREP_OK);
    assert_int_equal(prep_cut_active_read(store, &act, &d), PREP_OK);
    assert_int_equal(act.seq, 82);
    assert_int_equal(mon_store_refresh(store, &s, act.seq, act.manifest_sha256, &nr), 0);
    assert_int_equal(nr, 1 + 81);
    assert_int_equal(s.n_cuts, 82);
    assert_int_not_equal(s.cuts[80].sha256[0], 'd');
    assert_int_equal(mon_cut_by_sha(&s, sha10, act.seq)->seq, 10);
    /* a pointer that no manifest has: refused */
    char bad[65];
    memset(bad, 'c', 64);
    bad[64] = 0;
    assert_int_equal(mon_store_refresh(store, &s, act.seq, bad, &nr), -1);
    mon_state_free(&s);
    site_free(&w);
    prep_diags_free(&d);
    rm_rf(t);
    free(t);
    free(store);
    free(sp);
}

/* ---------------------------------------------------------------- state, evidence, board */
static void test_state_roundtrip_and_bounds(void **state)
{
    (void)state;
    char *t = tmpdir_new();
    char *p = pathf("%s/state.json", t);
    prep_diags d;
    prep_diags_init(&d);
    mon_state s;
    mon_state_load(p, &s, &d); /* missing: empty, no diag */
    assert_int_equal(d.n, 0);
    assert_int_equal(s.n, 0);
    s.first_round = 1000;
    for (uint64_t q = 1; q <= 70; q++) mon_seen_note(s.store_seq, s.store_at, &s.n_store, q, (prep_time)q * 10);
    assert_int_equal(s.n_store, MON_SEEN_MAX);
    /* the first time is kept: noting seq 70 again returns 700 */
    assert_int_equal(mon_seen_note(s.store_seq, s.store_at, &s.n_store, 70, 99999), 700);
    mon_bstate *b = mon_state_get(&s, "uaq");
    assert_non_null(b);
    strcpy(b->cursor, "gubernatura/x.html");
    for (int i = 0; i < 10; i++) mon_hist_push(b, 100 + i, (prep_monitor_state)(i % 3), (uint64_t)i, 4);
    assert_int_equal(b->n_hist, 4);
    assert_int_equal(b->hist[0].at, 106); /* the last 4 of 100..109 */
    mon_cut mc = {3, "", 555, PREP_TIME_NONE};
    memset(mc.sha256, 'a', 64);
    mon_state_cache_cut(&s, &mc);
    assert_int_equal(mon_state_save(p, &s), PREP_OK);
    mon_state s2;
    mon_state_load(p, &s2, &d);
    assert_int_equal(d.n, 0);
    assert_int_equal(s2.first_round, 1000);
    assert_int_equal(s2.n_store, MON_SEEN_MAX);
    assert_int_equal(s2.n, 1);
    assert_string_equal(s2.b[0].cursor, "gubernatura/x.html");
    assert_int_equal(s2.b[0].n_hist, 4);
    assert_int_equal(s2.b[0].hist[3].at, 109);
    assert_int_equal(s2.b[0].hist[3].state, 9 % 3);
    assert_int_equal(s2.n_cuts, 1);
    assert_int_equal(s2.cuts[0].instant, 555);
    mon_state_free(&s2);
    /* a damaged state file is reported and ignored */
    write_bytes(p, "{not json", 9);
    mon_state_load(p, &s2, &d);
    assert_non_null(prep_diags_find(&d, "state-damaged"));
    assert_int_equal(s2.n, 0);
    mon_state_free(&s2);
    mon_state_free(&s);
    prep_diags_free(&d);
    rm_rf(t);
    free(p);
    free(t);
}

static void test_evidence_appends(void **state)
{
    (void)state;
    char *t = tmpdir_new();
    char *ev = pathf("%s/evidence", t);
    assert_int_equal(prep_mkdirs(ev), PREP_OK);
    mon_fetch f[2] = {page("a.html", "11", "22", 200), page("b.html", "33", "33", 200)};
    strcpy(f[0].url, "https://x/a.html");
    strcpy(f[1].url, "https://x/b.html");
    f[0].at = f[1].at = 1795887040;
    f[0].x_prep_corte = f[1].x_prep_corte = -1;
    f[0].cert_expires = f[1].cert_expires = PREP_TIME_NONE;
    assert_int_equal(mon_evidence_append(t, "uaq", f, 2, NULL), PREP_OK);
    assert_int_equal(mon_evidence_append(t, "uaq", f + 1, 1, NULL), PREP_OK);
    char *p = pathf("%s/uaq.jsonl", ev);
    size_t n;
    char *text = read_all(p, &n);
    assert_non_null(text);
    char *l1 = text, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    assert_string_equal(strchr(l3, '\n'), "\n");
    json_t *o = json_loadb(l1, (size_t)(l2 - l1), 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "time")), "2026-11-28T17:30:40Z");
    assert_string_equal(json_string_value(json_object_get(o, "verdict")), "modified");
    assert_string_equal(json_string_value(json_object_get(o, "expected_sha256")), "11");
    assert_string_equal(json_string_value(json_object_get(o, "found_sha256")), "22");
    assert_int_equal(json_integer_value(json_object_get(o, "http_code")), 200);
    json_decref(o);
    assert_non_null(strstr(l2, "\"verdict\":\"identical\""));
    assert_non_null(strstr(l3, "\"path\":\"b.html\""));
    free(text);
    free(p);
    rm_rf(t);
    free(ev);
    free(t);
}

static void test_board_files(void **state)
{
    (void)state;
    char *t = tmpdir_new();
    prep_monitor_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.out, sizeof c.out, "%s", t);
    prep_monitor_row rows[2];
    memset(rows, 0, sizeof rows);
    strcpy(rows[0].id, "uaq");
    strcpy(rows[0].url, "https://uaq.example/");
    rows[0].state = PREP_MONITOR_RED;
    strcpy(rows[0].reason, "modified page a/<script>.html");
    rows[0].serving_seq = 7;
    rows[0].cuts_behind = 0;
    rows[0].lag_seconds = 12;
    rows[0].cert_days_left = 40;
    rows[0].cert_expires = PREP_TIME_NONE;
    rows[0].x_prep_corte = 7;
    strcpy(rows[1].id, "down");
    strcpy(rows[1].url, "https://down.example/");
    rows[1].state = PREP_MONITOR_RED;
    strcpy(rows[1].reason, "unreachable: refused");
    rows[1].cuts_behind = -1;
    rows[1].lag_seconds = -1;
    rows[1].cert_days_left = INT64_MIN;
    rows[1].cert_expires = PREP_TIME_NONE;
    rows[1].x_prep_corte = -1;
    prep_monitor_result r = {1795887040, 7, rows, 2, 0, 0, 2, NULL, 0, 0, 0};
    mon_state s;
    memset(&s, 0, sizeof s);
    mon_bstate *b = mon_state_get(&s, "uaq");
    mon_hist_push(b, 1795887000, PREP_MONITOR_GREEN, 7, 10);
    mon_hist_push(b, 1795887040, PREP_MONITOR_RED, 7, 10);
    assert_int_equal(mon_board_write(&c, &r, &s), PREP_OK);

    char *p = pathf("%s/board.json", t);
    json_error_t je;
    json_t *j = json_load_file(p, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "active_cut")), 7);
    json_t *a = json_array_get(json_object_get(j, "broadcasters"), 0);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "red");
    assert_int_equal(json_integer_value(json_object_get(a, "lag_seconds")), 12);
    assert_int_equal(json_array_size(json_object_get(a, "history")), 2);
    json_t *dn = json_array_get(json_object_get(j, "broadcasters"), 1);
    assert_true(json_is_null(json_object_get(dn, "cert_days_left")));
    assert_true(json_is_null(json_object_get(dn, "serving_cut")));
    json_decref(j);
    free(p);

    p = pathf("%s/metrics.prom", t);
    size_t n;
    char *m = read_all(p, &n);
    assert_non_null(strstr(m, "\nprep_monitor_broadcaster_state{id=\"uaq\"} 2\n"));
    assert_non_null(strstr(m, "\nprep_monitor_lag_seconds{id=\"uaq\"} 12\n"));
    assert_non_null(strstr(m, "\nprep_monitor_cert_days_left{id=\"uaq\"} 40\n"));
    assert_non_null(strstr(m, "\nprep_monitor_cuts_behind{id=\"uaq\"} 0\n"));
    assert_null(strstr(m, "prep_monitor_lag_seconds{id=\"down\"}")); /* unknown: no sample */
    assert_non_null(strstr(m, "# TYPE prep_monitor_broadcaster_state gauge\n"));
    free(m);
    free(p);

    p = pathf("%s/index.html", t);
    m = read_all(p, &n);
    assert_non_null(strstr(m, "<meta http-equiv=\"refresh\" content=\"30\">"));
    assert_non_null(strstr(m, "modified page a/&lt;script&gt;.html"));
    assert_null(strstr(m, "<script>"));
    assert_non_null(strstr(m, "aria-label=\"last 2 rounds: 1 green, 0 amber, 1 red\""));
    assert_null(strstr(m, "http://"));
    free(m);
    free(p);
    mon_state_free(&s);
    rm_rf(t);
    free(t);
}

/* A whole round against a closed port: red, and every board file written. */
static void test_round_unreachable(void **state)
{
    (void)state;
    char *t = make_store(3, 2);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd); /* nobody listens there now */
    char *cfg = pathf("{\"store\": \"store\", \"out\": \"board\", \"timeout_seconds\": 3, \"broadcasters\": "
                      "[{\"id\": \"down\", \"url\": \"https://127.0.0.1:%u/\"}]}",
                      ntohs(sa.sin_port));
    prep_diags d;
    prep_diags_init(&d);
    prep_monitor_config c;
    assert_int_equal(prep_monitor_config_parse(cfg, strlen(cfg), "c.json", t, &c, &d), PREP_OK);
    prep_monitor_result r;
    assert_int_equal(prep_monitor_round(&c, PREP_TIME_NONE, &r, &d), PREP_OK);
    assert_int_equal(r.active_seq, 2);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.red, 1);
    assert_int_equal(r.rows[0].state, PREP_MONITOR_RED);
    assert_non_null(strstr(r.rows[0].reason, "unreachable: "));
    prep_monitor_result_free(&r);
    assert_int_equal(prep_monitor_round(&c, PREP_TIME_NONE, &r, &d), PREP_OK);
    prep_monitor_result_free(&r);
    const char *files[] = {"index.html", "board.json", "metrics.prom", "state.json", "evidence/down.jsonl"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(files); i++) {
        char *p = pathf("%s/board/%s", t, files[i]);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_true(st.st_size > 0);
        free(p);
    }
    char *p = pathf("%s/board/evidence/down.jsonl", t);
    size_t n;
    char *ev = read_all(p, &n);
    /* two rounds, one manifest fetch each, both errors */
    int lines = 0;
    for (size_t i = 0; i < n; i++) lines += ev[i] == '\n';
    assert_int_equal(lines, 2);
    assert_non_null(strstr(ev, "\"verdict\":\"error\""));
    free(ev);
    free(p);
    /* a store without an active cut: an error, nothing written */
    snprintf(c.store, sizeof c.store, "%s/nothing", t);
    assert_int_not_equal(prep_monitor_round(&c, PREP_TIME_NONE, &r, &d), PREP_OK);
    assert_non_null(prep_diags_find(&d, "no-active-cut"));
    prep_monitor_config_free(&c);
    prep_diags_free(&d);
    free(cfg);
    rm_rf(t);
    free(t);
}

/* Active broadcasters of the registry join the config's list; others do not. */
static void add_difusor(prep_registry *reg, const char *id, const char *url, int activate)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_input in;
    prep_registry_input_init(&in);
    const char *kv[][2] = {
        {"id", id}, {"name", id}, {"kind", "universidad"}, {"website", "https://www.uaq.mx/"},
        {"publication-url", url}, {"legal-name", "Dra. Teresa García"}, {"legal-phone", "(442) 192 1200"},
        {"legal-mobile", "+52 442 123 4567"}, {"legal-email", "rectoria@uaq.mx"}, {"tech-name", "Ing. Juan Pérez"},
        {"tech-phone", "442 192 1200"}, {"tech-mobile", "4421234567"}, {"tech-email", "soporte@uaq.mx"},
        {"method", "pull"},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(kv); i++)
        assert_int_equal(prep_registry_input_set(&in, kv[i][0], kv[i][1], "test", 0, &d), PREP_OK);
    char tok[PREP_REGISTRY_TOKEN_HEX + 1], got[64];
    prep_err e = prep_registry_add(reg, &in, "ana", T0, tok, got, &d);
    if (e) prep_diags_print(&d, stderr, 0);
    assert_int_equal(e, PREP_OK);
    prep_registry_input_free(&in);
    if (activate) {
        prep_registry_status steps[] = {PREP_REGISTRY_INFRA_VERIFIED, PREP_REGISTRY_APPROVED, PREP_REGISTRY_ACTIVE};
        for (size_t i = 0; i < 3; i++)
            assert_int_equal(prep_registry_transition(reg, id, steps[i], "ana", "ok", T0, &d), PREP_OK);
    }
    prep_diags_free(&d);
}

static void test_registry_targets(void **state)
{
    (void)state;
    char *t = tmpdir_new();
    char *db = pathf("%s/registro.sqlite", t);
    prep_diags d;
    prep_diags_init(&d);
    prep_monitor_target *v = NULL;
    size_t n = 0;
    /* no database: reported, never created */
    assert_int_equal(mon_registry_targets(db, &v, &n, &d), PREP_ERR_NOTFOUND);
    assert_non_null(prep_diags_find(&d, "registry"));
    struct stat sb;
    assert_int_not_equal(stat(db, &sb), 0);
    prep_registry *reg;
    assert_int_equal(prep_registry_open(db, NULL, &reg, &d), PREP_OK);
    add_difusor(reg, "uaq", "https://prep.uaq.mx/resultados", 1); /* no final slash: one added */
    add_difusor(reg, "diario", "https://prep.diario.example/", 1);
    add_difusor(reg, "nuevo", "https://prep.nuevo.example/", 0); /* registered only */
    add_difusor(reg, "tv", "https://prep.tv.example/", 1);
    assert_int_equal(prep_registry_block(reg, "tv", "ana", "modified pages", &d), PREP_OK);
    prep_registry_close(reg);
    /* the config already lists diario (its entry, with its CA file, wins) */
    v = calloc(1, sizeof *v);
    strcpy(v[0].id, "diario");
    strcpy(v[0].url, "https://127.0.0.1:9/");
    strcpy(v[0].ca_file, "/etc/ca.pem");
    n = 1;
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(mon_registry_targets(db, &v, &n, &d), PREP_OK);
    assert_int_equal(d.n, 0);
    assert_int_equal(n, 2); /* diario (config) + uaq; not nuevo (registered), not tv (blocked) */
    assert_string_equal(v[0].url, "https://127.0.0.1:9/");
    assert_string_equal(v[1].id, "uaq");
    assert_string_equal(v[1].url, "https://prep.uaq.mx/resultados/");
    assert_string_equal(v[1].ca_file, "");
    free(v);
    prep_diags_free(&d);
    rm_rf(t);
    free(db);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_good),
        cmocka_unit_test(test_config_errors_located),
        cmocka_unit_test(test_json_locate),
        cmocka_unit_test(test_cert_date),
        cmocka_unit_test(test_url_join),
        cmocka_unit_test(test_sample_rotates_over_every_path),
        cmocka_unit_test(test_sample_size),
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_judge_red_and_cert),
        cmocka_unit_test(test_stamp),
        cmocka_unit_test(test_store_index_incremental),
        cmocka_unit_test(test_state_roundtrip_and_bounds),
        cmocka_unit_test(test_evidence_appends),
        cmocka_unit_test(test_board_files),
        cmocka_unit_test(test_round_unreachable),
        cmocka_unit_test(test_registry_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

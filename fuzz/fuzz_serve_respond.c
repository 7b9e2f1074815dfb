/* libFuzzer target: the response decision of prep serve (prep_serve_respond) on a small
 * loaded version (a real store made once per process in a temp dir, removed at exit).
 *
 * Input: newline-separated values: METHOD, PATH, ACCEPT-ENCODING, IF-NONE-MATCH, RANGE,
 * IF-RANGE, NOW (seconds relative to the window opening); a missing line is an absent
 * field, the literal "-" too. Checked: the status is one the API documents; the body
 * lies inside the version's memory or the response's own storage and has the length the
 * head says; a 206 body is the exact slice of the file; HEAD and 304 send no body; the
 * head starts with the status line, ends with CRLF, has no empty line, carries every
 * field; field names are lowercase; the security fields are on every answer. */
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prep/cut.h"
#include "prep/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2021-06-06 08:00 America/Mexico_City */
#define OPEN ((prep_time)1622984400)

static prep_serve_version *g_v;
static char g_tmp[64];

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    if (flag == FTW_DP) rmdir(p);
    else unlink(p);
    return 0;
}

static void cleanup(void)
{
    prep_serve_version_unref(g_v);
    if (g_tmp[0]) nftw(g_tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char csv[5000];

static void setup(void)
{
    if (sodium_init() < 0) abort();
    snprintf(g_tmp, sizeof g_tmp, "/tmp/prep-fuzz-serve-XXXXXX");
    if (!mkdtemp(g_tmp)) abort();
    atexit(cleanup);
    prep_cut_seckey sk;
    uint8_t seed[32], pub[32];
    memset(seed, 5, sizeof seed);
    crypto_sign_seed_keypair(pub, sk.sk, seed);
    for (int i = 0; i < 8; i++) sk.keynum[i] = (uint8_t)i;
    sk.mark = PREP_CUT_KEY_UNMARKED;
    for (size_t i = 0; i < sizeof csv; i++) csv[i] = "CLAVE|PAN|PRI\n0001|12|7\n"[i % 24];
    static const char page[] = "<!doctype html><p>Corte 1</p><table><tr><td>PAN</td><td>1</td></tr>"
                               "<tr><td>PRI</td><td>2</td></tr><tr><td>MORENA</td><td>3</td></tr></table>";
    static const char css[] = "body{margin:0}body{margin:0}body{margin:0}body{margin:0}body{margin:0}"
                              "body{margin:0}body{margin:0}body{margin:0}body{margin:0}body{margin:0}";
    prep_cut_file f[5];
    memset(f, 0, sizeof f);
    f[0] = (prep_cut_file){.path = "index.html", .data = page, .len = sizeof page - 1, .n_parts = 2,
                           .part_len = {29, sizeof page - 1 - 29}};
    f[1] = (prep_cut_file){.path = "gubernatura/index.html", .data = page, .len = sizeof page - 1};
    f[2] = (prep_cut_file){.path = "assets/app.abc.css", .data = css, .len = sizeof css - 1};
    f[3] = (prep_cut_file){.path = "base-de-datos/QRO.csv", .data = csv, .len = sizeof csv};
    f[4] = (prep_cut_file){.path = "corte.json", .data = "{\"corte\":1}", .len = 11};
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "fuzz";
    p.instant = OPEN + 60;
    p.zone = "America/Mexico_City";
    char store[128];
    snprintf(store, sizeof store, "%s/store", g_tmp);
    prep_diags d;
    prep_diags_init(&d);
    for (int cut = 0; cut < 2; cut++) {
        p.instant = OPEN + 60 + 300 * cut;
        if (prep_cut_make(store, &p, f, 5, &sk, NULL, &d) != PREP_OK) abort();
    }
    prep_serve_site_opts o;
    prep_serve_site_opts_init(&o);
    o.https = 1;
    o.threads = 1;
    o.window_open = OPEN;
    o.zone = "America/Mexico_City";
    o.frame_ancestors = "https://www.diario.mx";
    if (prep_serve_version_load(store, 0, NULL, &o, &g_v, &d) != PREP_OK) abort();
    prep_diags_free(&d);
}

static prep_http_slice next_line(const uint8_t **p, const uint8_t *end)
{
    prep_http_slice s = {NULL, 0};
    if (*p >= end) return s;
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *e = nl ? nl : end;
    s.p = (const char *)*p;
    s.len = (size_t)(e - *p);
    *p = nl ? nl + 1 : end;
    if (s.len == 1 && s.p[0] == '-') s.p = NULL, s.len = 0;
    return s;
}

static int has_field(const prep_http_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_fields; i++)
        if (r->fields[i].name_len == strlen(name) && !memcmp(r->fields[i].name, name, r->fields[i].name_len))
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_v) setup();
    const uint8_t *p = data, *end = data + size;
    prep_http_request q;
    memset(&q, 0, sizeof q);
    prep_http_slice m = next_line(&p, end);
    q.method = !m.p ? PREP_HTTP_GET
               : (m.len == 4 && !memcmp(m.p, "HEAD", 4)) ? PREP_HTTP_HEAD
               : (m.len == 3 && !memcmp(m.p, "GET", 3)) ? PREP_HTTP_GET
                                                        : PREP_HTTP_OTHER;
    q.path = next_line(&p, end);
    q.accept_encoding = next_line(&p, end);
    q.if_none_match = next_line(&p, end);
    q.range = next_line(&p, end);
    q.if_range = next_line(&p, end);
    prep_http_slice now = next_line(&p, end);
    q.now = OPEN + 3600;
    if (now.p && now.len > 0 && now.len < 12) {
        char b[16];
        memcpy(b, now.p, now.len);
        b[now.len] = 0;
        q.now = OPEN + strtol(b, NULL, 10);
    }
    q.query = next_line(&p, end); /* the section lookup's n=, the replicas' prep_visto= marker */
    prep_http_response r;
    prep_serve_respond(g_v, &q, &r);
    static const int ok[] = {200, 206, 301, 303, 304, 400, 404, 405, 406, 414, 416, 503};
    int found = 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) found |= ok[i] == r.status;
    if (!found) abort();
    if (!r.h1_head || r.h1_head_len < 17 || r.n_fields > PREP_HTTP_MAX_FIELDS) abort();
    char sl[32];
    snprintf(sl, sizeof sl, "HTTP/1.1 %d ", r.status);
    if (memcmp(r.h1_head, sl, strlen(sl)) != 0) abort();
    if (memcmp(r.h1_head + r.h1_head_len - 2, "\r\n", 2) != 0) abort();
    for (size_t i = 0; i + 3 < r.h1_head_len; i++)
        if (!memcmp(r.h1_head + i, "\r\n\r\n", 4)) abort();
    for (size_t i = 0; i < r.n_fields; i++) {
        for (size_t j = 0; j < r.fields[i].name_len; j++)
            if (r.fields[i].name[j] >= 'A' && r.fields[i].name[j] <= 'Z') abort();
        for (size_t j = 0; j < r.fields[i].value_len; j++)
            if (r.fields[i].value[j] == '\r' || r.fields[i].value[j] == '\n') abort();
    }
    if (!has_field(&r, "content-security-policy") || !has_field(&r, "x-content-type-options") ||
        !has_field(&r, "strict-transport-security") || !has_field(&r, "x-prep-corte"))
        abort();
    if ((q.method == PREP_HTTP_HEAD || r.status == 304) && r.send_body) abort();
    if (r.status != 304) {
        char cl[48];
        int n = snprintf(cl, sizeof cl, "\r\ncontent-length: %llu\r\n", (unsigned long long)r.body_len);
        if (!memmem(r.h1_head, r.h1_head_len, cl, (size_t)n)) abort();
        /* touch every byte of the body (ASan checks the bounds); a HEAD may have none */
        if (r.send_body && !r.body && r.body_len) abort();
        volatile uint8_t sum = 0;
        for (uint64_t i = 0; r.body && i < r.body_len; i++) sum ^= r.body[i];
        (void)sum;
    }
    if (r.status == 206) {
        /* content-range agrees with the body; for the CSV the body is its exact slice */
        const prep_http_field *cr = NULL;
        for (size_t i = 0; i < r.n_fields; i++)
            if (r.fields[i].name_len == 13 && !memcmp(r.fields[i].name, "content-range", 13)) cr = &r.fields[i];
        if (!cr || cr->value_len > 80) abort();
        char b[96];
        memcpy(b, cr->value, cr->value_len);
        b[cr->value_len] = 0;
        unsigned long long a = 0, z = 0, n = 0;
        if (sscanf(b, "bytes %llu-%llu/%llu", &a, &z, &n) != 3 || a > z || z >= n || z - a + 1 != r.body_len) abort();
        static const char key[] = "/base-de-datos/QRO.csv";
        if (q.path.len == sizeof key - 1 && !memcmp(q.path.p, key, q.path.len)) {
            if (n != sizeof csv || memcmp(r.body, csv + a, (size_t)r.body_len) != 0) abort();
        }
    }
    prep_http_response_done(&r);
    return 0;
}

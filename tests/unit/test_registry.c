/* Unit tests of the broadcaster registry (src/registry/registry*.c): every field kind's
 * validator with good and bad values, the "key = value" input, registration with the
 * call's real deadlines (19 April, 30 April, 28 May 2021, America/Mexico_City), status
 * transitions and their audit rows, the append-only trigger, the 0600 secrets file, pull
 * tokens, a block seen by a second connection, delivery records, the Anexo 2 letter and
 * the roster (signed like a cut; checked with signify-openbsd and sha256sum). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>
#include <stdatomic.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "prep/cut.h"
#include "prep/registry.h"

/* ---------------------------------------------------------------- helpers */
static char *xfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return prep_buf_steal(&b, NULL);
}

static char *tmpdir_new(void)
{
    char *t = prep_xstrdup("/tmp/prep-test-registry-XXXXXX");
    assert_non_null(mkdtemp(t));
    return t;
}

static void tmpdir_rm(char *t)
{
    char *cmd = xfmt("rm -rf '%s'", t);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(t);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* 1 if the file's bytes contain needle. */
static int file_has(const char *path, const char *needle)
{
    char *data;
    size_t len;
    if (prep_read_file(path, 1u << 30, &data, &len)) return 0;
    int found = memmem(data, len, needle, strlen(needle)) != NULL;
    free(data);
    return found;
}

static prep_time at(const char *s)
{
    prep_time t;
    assert_int_equal(prep_time_parse(s, "America/Mexico_City", &t), 0);
    return t;
}

/* A minimal valid PNG header (signature + IHDR chunk + IEND). */
static const unsigned char PNG[] = {0x89, 'P',  'N',  'G',  '\r', '\n', 0x1a, '\n', 0,    0,    0,    13,
                                    'I',  'H',  'D',  'R',  0,    0,    0,    1,    0,    0,    0,    1,
                                    8,    6,    0,    0,    0,    0x1f, 0x15, 0xc4, 0x89, 0,    0,    0,
                                    0,    'I',  'E',  'N',  'D',  0xae, 0x42, 0x60, 0x82};

#define PASSWORD "Contra$eña-FTP 2021"

/* A complete Anexo 1 for an FTPS broadcaster (every value valid). */
static void input_ftps(prep_registry_input *in, const char *id, const char *name, const char *logo)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_input_init(in);
    const char *kv[][2] = {
        {"id", id},
        {"name", name},
        {"kind", "universidad"},
        {"website", "https://www.uaq.mx/"},
        {"publication-url", "https://prep.uaq.mx/resultados/"},
        {"portal-origins", "https://www.uaq.mx https://noticias.uaq.mx:8443"},
        {"address", "Cerro de las Campanas s/n, Santiago de Querétaro"},
        {"legal-name", "Dra. Teresa García <Rectora>"},
        {"legal-phone", "(442) 192 1200"},
        {"legal-mobile", "+52 442 123 4567"},
        {"legal-email", "rectoria@uaq.mx"},
        {"tech-name", "Ing. Juan Pérez"},
        {"tech-phone", "442 192 1200 ext. 6000"},
        {"tech-mobile", "4421234567"},
        {"tech-email", "soporte.prep@uaq.mx"},
        {"ftp-host", "200.23.1.10"},
        {"ftp-user", "prep"},
        {"software", "CentOS 8.4 64 bits\nApache 2.4.37"},
        {"server-ips", "200.23.1.10 2001:db8::10"},
        {"method", "ftps"},
        {"ftps-url", "ftp://200.23.1.10:2121/incoming/"},
        {"ftp-password", PASSWORD},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(kv); i++)
        assert_int_equal(prep_registry_input_set(in, kv[i][0], kv[i][1], "test", 0, &d), PREP_OK);
    if (logo) assert_int_equal(prep_registry_input_set(in, "logo", logo, "test", 0, &d), PREP_OK);
    assert_int_equal(d.n, 0);
    prep_diags_free(&d);
}

typedef struct fixture {
    char *dir, *db, *secrets, *logo;
    prep_registry *r;
} fixture;

static void fx_open(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->dir = tmpdir_new();
    f->db = xfmt("%s/difusores.db", f->dir);
    f->secrets = xfmt("%s/difusores.db.secrets", f->dir);
    f->logo = xfmt("%s/logo.png", f->dir);
    write_file(f->logo, PNG, sizeof PNG);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_registry_open(f->db, NULL, &f->r, &d), PREP_OK);
    /* the call's dates (convocatoria I.e, I.f, I.h) */
    prep_registry_settings s;
    assert_int_equal(prep_registry_settings_get(f->r, &s, &d), PREP_OK);
    s.registration_deadline = at("2021-04-19 23:59");
    s.infrastructure_deadline = at("2021-04-30 23:59");
    s.roster_date = at("2021-05-28 23:59");
    snprintf(s.process, sizeof s.process, "qro2021");
    assert_int_equal(prep_registry_settings_set(f->r, &s, "Coordinación TI", "fechas de la convocatoria", &d), PREP_OK);
    prep_diags_free(&d);
}

static void fx_close(fixture *f)
{
    prep_registry_close(f->r);
    free(f->db);
    free(f->secrets);
    free(f->logo);
    tmpdir_rm(f->dir);
}

static void fx_add(fixture *f, const char *id, const char *name, char token[65])
{
    prep_registry_input in;
    input_ftps(&in, id, name, f->logo);
    prep_diags d;
    prep_diags_init(&d);
    char tok[65], got[64];
    prep_err e = prep_registry_add(f->r, &in, "ana", at("2021-04-10 10:00"), tok, got, &d);
    if (e) prep_diags_print(&d, stderr, 0);
    assert_int_equal(e, PREP_OK);
    assert_string_equal(got, id);
    if (token) memcpy(token, tok, 65);
    prep_registry_input_free(&in);
    prep_diags_free(&d);
}

static prep_err move(fixture *f, const char *id, prep_registry_status to, const char *now, prep_diags *d)
{
    return prep_registry_transition(f->r, id, to, "ana", "revisión", at(now), d);
}

static void activate(fixture *f, const char *id);

/* ---------------------------------------------------------------- validators */
typedef struct vcase {
    prep_registry_kind kind;
    const char *value;
    int ok;
} vcase;

static void test_validators(void **st)
{
    (void)st;
    static const vcase cases[] = {
        /* URLs */
        {PREP_REGISTRY_K_URL, "https://www.uaq.mx/", 1},
        {PREP_REGISTRY_K_URL, "http://diario.example.com.mx/prep?x=1#a", 1},
        {PREP_REGISTRY_K_URL, "https://[2001:db8::1]:8443/p", 1},
        {PREP_REGISTRY_K_URL, "https://10.0.0.1/", 1},
        {PREP_REGISTRY_K_URL, "ftp://www.uaq.mx/", 0},
        {PREP_REGISTRY_K_URL, "https://", 0},
        {PREP_REGISTRY_K_URL, "https://user:pw@uaq.mx/", 0},
        {PREP_REGISTRY_K_URL, "https://uaq.mx/a b", 0},
        {PREP_REGISTRY_K_URL, "https://uaq.mx:0/", 0},
        {PREP_REGISTRY_K_URL, "https://uaq.mx:65536/", 0},
        {PREP_REGISTRY_K_URL, "https://-uaq.mx/", 0},
        {PREP_REGISTRY_K_URL, "https://uaq..mx/", 0},
        {PREP_REGISTRY_K_URL, "https://300.1.1.1/", 0},
        {PREP_REGISTRY_K_URL, "https://uaq.mx/<script>", 0},
        {PREP_REGISTRY_K_URL, "https://uaq.mx/%zz", 0},
        {PREP_REGISTRY_K_URL, "javascript:alert(1)", 0},
        {PREP_REGISTRY_K_HTTPS, "https://prep.uaq.mx/", 1},
        {PREP_REGISTRY_K_HTTPS, "http://prep.uaq.mx/", 0},
        {PREP_REGISTRY_K_ORIGINS, "https://www.uaq.mx https://a.uaq.mx:8443", 1},
        {PREP_REGISTRY_K_ORIGINS, "https://www.uaq.mx/portal", 0},
        {PREP_REGISTRY_K_ORIGINS, "http://www.uaq.mx", 0},
        /* e-mails */
        {PREP_REGISTRY_K_EMAIL, "rectoria@uaq.mx", 1},
        {PREP_REGISTRY_K_EMAIL, "soporte.prep+noche@sub.uaq.edu.mx", 1},
        {PREP_REGISTRY_K_EMAIL, "rectoria.uaq.mx", 0},
        {PREP_REGISTRY_K_EMAIL, "@uaq.mx", 0},
        {PREP_REGISTRY_K_EMAIL, "a..b@uaq.mx", 0},
        {PREP_REGISTRY_K_EMAIL, ".a@uaq.mx", 0},
        {PREP_REGISTRY_K_EMAIL, "a@localhost", 0},
        {PREP_REGISTRY_K_EMAIL, "a@1.2.3.4", 0},
        {PREP_REGISTRY_K_EMAIL, "a b@uaq.mx", 0},
        {PREP_REGISTRY_K_EMAIL, "a@uaq_mx.mx", 0},
        /* phones: the call's own contact is "01(442) 101 98 00 ext. 1106" (old 01 prefix) */
        {PREP_REGISTRY_K_PHONE, "(442) 101 98 00 ext. 1106", 1},
        {PREP_REGISTRY_K_PHONE, "442-101-9800", 1},
        {PREP_REGISTRY_K_PHONE, "+52 442 101 9800", 1},
        {PREP_REGISTRY_K_PHONE, "+1 202 555 0100", 1},
        {PREP_REGISTRY_K_PHONE, "4421019800 x12", 1},
        {PREP_REGISTRY_K_PHONE, "101 98 00", 0},
        {PREP_REGISTRY_K_PHONE, "+52 442 101 98", 0},
        {PREP_REGISTRY_K_PHONE, "442 101 9800 ext.", 0},
        {PREP_REGISTRY_K_PHONE, "442) 101 9800", 0},
        {PREP_REGISTRY_K_PHONE, "442 101 98OO", 0},
        {PREP_REGISTRY_K_PHONE, "442  101 9800", 0},
        /* hosts and addresses */
        {PREP_REGISTRY_K_HOST, "200.23.1.10", 1},
        {PREP_REGISTRY_K_HOST, "2001:db8::10", 1},
        {PREP_REGISTRY_K_HOST, "ftp.uaq.mx", 1},
        {PREP_REGISTRY_K_HOST, "localhost", 1},
        {PREP_REGISTRY_K_HOST, "200.023.1.10", 0},
        {PREP_REGISTRY_K_HOST, "200.23.1", 0},
        {PREP_REGISTRY_K_HOST, "uaq", 0},
        {PREP_REGISTRY_K_HOST, "ftp_uaq.mx", 0},
        {PREP_REGISTRY_K_HOST, "2001:db8:::10", 0},
        {PREP_REGISTRY_K_IPS, "200.23.1.10 2001:db8::10", 1},
        {PREP_REGISTRY_K_IPS, "200.23.1.10 ftp.uaq.mx", 0},
        /* users, methods, kinds */
        {PREP_REGISTRY_K_USER, "prep_uaq-1", 1},
        {PREP_REGISTRY_K_USER, "prep uaq", 0},
        {PREP_REGISTRY_K_METHOD, "sftp", 1},
        {PREP_REGISTRY_K_METHOD, "scp", 0},
        {PREP_REGISTRY_K_KIND, "medio", 1},
        {PREP_REGISTRY_K_KIND, "partido", 0},
        /* delivery URLs */
        {PREP_REGISTRY_K_SFTP_URL, "sftp://prep@200.23.1.10:2222/srv/prep/incoming/", 1},
        {PREP_REGISTRY_K_SFTP_URL, "sftp://200.23.1.10/srv/prep/incoming/", 0},
        {PREP_REGISTRY_K_SFTP_URL, "sftp://prep@200.23.1.10/srv/prep/incoming", 0},
        {PREP_REGISTRY_K_SFTP_URL, "sftp://prep@200.23.1.10/srv/../etc/", 0},
        {PREP_REGISTRY_K_FTP_URL, "ftp://200.23.1.10:2121/incoming/", 1},
        {PREP_REGISTRY_K_FTP_URL, "ftps://200.23.1.10/incoming/", 0},
        {PREP_REGISTRY_K_FTP_URL, "ftp://prep:pw@200.23.1.10/incoming/", 0},
        /* host key fingerprints: base64 of 32 bytes */
        {PREP_REGISTRY_K_HOSTKEY, "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", 1},
        {PREP_REGISTRY_K_HOSTKEY, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", 1},
        {PREP_REGISTRY_K_HOSTKEY, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV", 0},
        {PREP_REGISTRY_K_HOSTKEY, "47DEQpj8HBSa", 0},
        /* text */
        {PREP_REGISTRY_K_LINE, "Universidad Autónoma de Querétaro", 1},
        {PREP_REGISTRY_K_LINE, "dos\nlíneas", 0},
        {PREP_REGISTRY_K_LINE, "tab\there", 0},
        {PREP_REGISTRY_K_LINE, " espacio", 0},
        {PREP_REGISTRY_K_LINE, "\xc3\x28", 0},
        {PREP_REGISTRY_K_LINE, "", 0},
        {PREP_REGISTRY_K_TEXT, "dos\nlíneas", 1},
        {PREP_REGISTRY_K_PATH, "/etc/prep/ieeq_sftp", 1},
        {PREP_REGISTRY_K_PATH, "ieeq_sftp", 0},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(cases); i++) {
        const char *why = NULL;
        int r = prep_registry_check_kind(cases[i].kind, 2048, cases[i].value, &why);
        if ((r == 0) != cases[i].ok) fail_msg("case %zu '%s': expected %s", i, cases[i].value, cases[i].ok ? "valid" : "invalid");
        if (r) assert_non_null(why);
    }
    const char *why;
    assert_int_equal(prep_registry_check_id("uaq-2021", &why), 0);
    assert_int_not_equal(prep_registry_check_id("UAQ", &why), 0);
    assert_int_not_equal(prep_registry_check_id("-uaq", &why), 0);
    assert_int_equal(prep_registry_check_ip("::1", &why), 0);
    assert_int_not_equal(prep_registry_check_ip("1.2.3.4.5", &why), 0);
}

static void test_validate_names_field_and_value(void **st)
{
    (void)st;
    prep_registry_input in;
    input_ftps(&in, "uaq", "UAQ", NULL);
    free(in.v[PREP_REGISTRY_F_legal_email]);
    in.v[PREP_REGISTRY_F_legal_email] = prep_xstrdup("rectoria(at)uaq.mx");
    free(in.v[PREP_REGISTRY_F_publication_url]);
    in.v[PREP_REGISTRY_F_publication_url] = prep_xstrdup("http://prep.uaq.mx/");
    free(in.v[PREP_REGISTRY_F_tech_name]);
    in.v[PREP_REGISTRY_F_tech_name] = NULL;
    free(in.v[PREP_REGISTRY_F_ftps_url]);
    in.v[PREP_REGISTRY_F_ftps_url] = NULL;
    free(in.ftp_password);
    in.ftp_password = prep_xstrdup("sec\nret-value");
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_registry_input_validate(&in, &d), PREP_ERR_INVALID);
    /* 2 invalid fields + 1 password + 2 missing (tech-name, ftps-url for method ftps) */
    assert_int_equal(d.total, 5);
    int email = 0, url = 0, tech = 0, ftps = 0, pw = 0;
    for (size_t i = 0; i < d.n; i++) {
        const prep_diag *g = &d.v[i];
        if (strstr(g->msg, "--legal-email 'rectoria(at)uaq.mx'")) email = !strcmp(g->kind, "invalid-field");
        if (strstr(g->msg, "--publication-url 'http://prep.uaq.mx/' must begin with https://")) url = 1;
        if (strstr(g->msg, "--tech-name")) tech = !strcmp(g->kind, "missing-field");
        if (strstr(g->msg, "--ftps-url") && strstr(g->msg, "--method ftps")) ftps = 1;
        if (strstr(g->msg, "--ftp-password")) pw = 1;
        assert_null(strstr(g->msg, "ret-value")); /* a password is never echoed */
    }
    assert_true(email && url && tech && ftps && pw);
    prep_diags_free(&d);
    prep_registry_input_free(&in);

    /* sftp needs its URL, the pinned host key and the institute's key */
    prep_registry_input_init(&in);
    input_ftps(&in, "uaq", "UAQ", NULL);
    free(in.v[PREP_REGISTRY_F_method]);
    in.v[PREP_REGISTRY_F_method] = prep_xstrdup("sftp");
    prep_diags_init(&d);
    assert_int_equal(prep_registry_input_validate(&in, &d), PREP_ERR_INVALID);
    assert_int_equal(d.total, 3);
    prep_diags_free(&d);
    prep_registry_input_free(&in);
}

/* ---------------------------------------------------------------- input file */
static void test_input_parse(void **st)
{
    (void)st;
    const char text[] = "# Anexo 1\n"
                        "name = Diario de Querétaro\r\n"
                        "\n"
                        "kind=medio\n"
                        "esto no es clave valor\n"
                        "color = azul\n"
                        "kind = universidad\n"
                        "software = CentOS 8\\nApache 2.4 \\\\ SSH\n"
                        "  website   =   https://diario.mx/  \n"
                        "= vacio\n"
                        "tech-name = \xff\xfe\n";
    prep_registry_input in;
    prep_registry_input_init(&in);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_not_equal(prep_registry_input_parse(text, sizeof text - 1, "uaq.txt", &in, &d), PREP_OK);
    /* good lines kept */
    assert_string_equal(in.v[PREP_REGISTRY_F_name], "Diario de Querétaro");
    assert_string_equal(in.v[PREP_REGISTRY_F_kind], "medio");
    assert_string_equal(in.v[PREP_REGISTRY_F_software], "CentOS 8\nApache 2.4 \\ SSH");
    assert_string_equal(in.v[PREP_REGISTRY_F_website], "https://diario.mx/");
    assert_null(in.v[PREP_REGISTRY_F_tech_name]);
    /* one diag per bad line, with its line number */
    const prep_diag *g = prep_diags_find(&d, "syntax");
    assert_non_null(g);
    assert_int_equal(g->line, 5);
    assert_string_equal(g->file, "uaq.txt");
    g = prep_diags_find(&d, "unknown-key");
    assert_non_null(g);
    assert_int_equal(g->line, 6);
    assert_non_null(strstr(g->msg, "color"));
    g = prep_diags_find(&d, "duplicate-key");
    assert_non_null(g);
    assert_int_equal(g->line, 7);
    g = prep_diags_find(&d, "not-utf8");
    assert_non_null(g);
    assert_int_equal(g->line, 11);
    assert_int_equal(d.total, 5); /* lines 5, 6, 7, 10, 11 */
    prep_diags_free(&d);
    prep_registry_input_free(&in);

    /* limits: a line over PREP_REGISTRY_LINE_MAX, a file over PREP_REGISTRY_INPUT_MAX */
    size_t n = PREP_REGISTRY_LINE_MAX + 20;
    char *big = prep_xmalloc(n + 1);
    memcpy(big, "name = ", 7);
    memset(big + 7, 'a', n - 7);
    big[n] = 0;
    prep_registry_input_init(&in);
    prep_diags_init(&d);
    assert_int_equal(prep_registry_input_parse(big, n, "big", &in, &d), PREP_ERR_LIMIT);
    assert_non_null(prep_diags_find(&d, "limit"));
    assert_null(in.v[PREP_REGISTRY_F_name]);
    prep_diags_free(&d);
    free(big);
    big = prep_xcalloc(PREP_REGISTRY_INPUT_MAX + 2, 1);
    memset(big, '#', PREP_REGISTRY_INPUT_MAX + 1);
    prep_diags_init(&d);
    assert_int_equal(prep_registry_input_parse(big, PREP_REGISTRY_INPUT_MAX + 1, "huge", &in, &d), PREP_ERR_LIMIT);
    prep_diags_free(&d);
    free(big);
    prep_registry_input_free(&in);
}

/* ---------------------------------------------------------------- logos */
static void test_logo_check(void **st)
{
    (void)st;
    const char *type, *why;
    assert_int_equal(prep_registry_check_logo(PNG, sizeof PNG, &type, &why), 0);
    assert_string_equal(type, "image/png");
    const char svg[] = "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\">"
                       "<rect width=\"10\" height=\"10\" fill=\"#036\"/></svg>";
    assert_int_equal(prep_registry_check_logo((const unsigned char *)svg, strlen(svg), &type, &why), 0);
    assert_string_equal(type, "image/svg+xml");
    static const char *const bad[] = {
        "<svg><script>alert(1)</script></svg>",
        "<svg onload=\"alert(1)\"></svg>",
        "<svg><image href=\"https://tracker.example/x.png\"/></svg>",
        "<svg><style>@import url(https://x.example/a.css);</style></svg>",
        "GIF89a....",
        "<html></html>",
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(bad); i++)
        assert_int_not_equal(prep_registry_check_logo((const unsigned char *)bad[i], strlen(bad[i]), &type, &why), 0);
    /* a truncated PNG */
    assert_int_not_equal(prep_registry_check_logo(PNG, 10, &type, &why), 0);
}

/* ---------------------------------------------------------------- registration and deadlines */
static void test_add_and_deadline(void **st)
{
    (void)st;
    fixture f;
    fx_open(&f);
    prep_registry_input in;
    input_ftps(&in, "uaq", "Universidad Autónoma de Querétaro", f.logo);
    prep_diags d;
    prep_diags_init(&d);
    char tok[65], id[64];
    /* one minute after the deadline (19 April 2021 23:59, Querétaro time) */
    assert_int_equal(prep_registry_add(f.r, &in, "ana", at("2021-04-20 00:00"), tok, id, &d), PREP_ERR_INVALID);
    const prep_diag *g = prep_diags_find(&d, "deadline");
    assert_non_null(g);
    assert_string_equal(g->msg, "registration closed on 2021-04-19 23:59 (America/Mexico_City)");
    assert_string_equal(tok, "");
    prep_diags_free(&d);
    /* at the deadline itself: accepted */
    prep_diags_init(&d);
    assert_int_equal(prep_registry_add(f.r, &in, "ana", at("2021-04-19 23:59"), tok, id, &d), PREP_OK);
    assert_string_equal(id, "uaq");
    assert_int_equal(strlen(tok), 64);
    /* the same id again */
    assert_int_equal(prep_registry_add(f.r, &in, "ana", at("2021-04-10 10:00"), tok, id, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "duplicate-id"));
    prep_diags_free(&d);
    prep_registry_input_free(&in);

    /* an id made from the name */
    prep_registry_input_init(&in);
    input_ftps(&in, "x", "Diario de Querétaro", NULL);
    free(in.id);
    in.id = NULL;
    prep_diags_init(&d);
    assert_int_equal(prep_registry_add(f.r, &in, "ana", at("2021-04-10 10:00"), tok, id, &d), PREP_OK);
    assert_string_equal(id, "diario-de-queretaro");
    prep_registry_input_free(&in);

    prep_registry_difusor df;
    assert_int_equal(prep_registry_get(f.r, "uaq", &df, &d), PREP_OK);
    assert_int_equal(df.status, PREP_REGISTRY_REGISTERED);
    assert_string_equal(df.v[PREP_REGISTRY_F_name], "Universidad Autónoma de Querétaro");
    assert_string_equal(df.v[PREP_REGISTRY_F_software], "CentOS 8.4 64 bits\nApache 2.4.37");
    assert_string_equal(df.v[PREP_REGISTRY_F_ssh_user], "");
    assert_int_equal(df.logo_len, sizeof PNG);
    assert_memory_equal(df.logo, PNG, sizeof PNG);
    assert_string_equal(df.logo_type, "image/png");
    char h[65];
    prep_sha256_hex(PNG, sizeof PNG, h);
    assert_string_equal(df.logo_sha256, h);
    assert_int_equal(df.has_ftp_password, 1);
    assert_int_equal(df.has_ssh_password, 0);
    prep_registry_difusor_free(&df);
    assert_int_equal(prep_registry_get(f.r, "nadie", &df, &d), PREP_ERR_NOTFOUND);
    assert_non_null(prep_diags_find(&d, "unknown-id"));

    prep_registry_difusor *v;
    size_t n;
    assert_int_equal(prep_registry_list(f.r, &v, &n, &d), PREP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].id, "diario-de-queretaro");
    assert_string_equal(v[1].id, "uaq");
    assert_null(v[1].logo); /* list does not load logos */
    prep_registry_difusor_list_free(v, n);
    prep_diags_free(&d);
    fx_close(&f);
}

/* ---------------------------------------------------------------- statuses and audit */
static void test_transitions_and_audit(void **st)
{
    (void)st;
    fixture f;
    fx_open(&f);
    fx_add(&f, "uaq", "UAQ", NULL);
    prep_diags d;
    prep_diags_init(&d);
    /* skipping a step is refused, naming the allowed ones */
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_ACTIVE, "2021-04-20 10:00", &d), PREP_ERR_INVALID);
    const prep_diag *g = prep_diags_find(&d, "transition");
    assert_non_null(g);
    assert_non_null(strstr(g->msg, "from registered to active"));
    assert_non_null(strstr(g->msg, "allowed from registered: infrastructure-verified, blocked"));
    prep_diags_free(&d);
    prep_diags_init(&d);
    /* infrastructure verified after 30 April 2021 23:59: refused with the date */
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_INFRA_VERIFIED, "2021-05-01 09:00", &d), PREP_ERR_INVALID);
    g = prep_diags_find(&d, "deadline");
    assert_non_null(g);
    assert_string_equal(g->msg, "the infrastructure deadline passed on 2021-04-30 23:59 (America/Mexico_City)");
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_INFRA_VERIFIED, "2021-04-30 12:00", &d), PREP_OK);
    /* approval after the roster date (28 May 2021) is refused */
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_APPROVED, "2021-05-29 00:00", &d), PREP_ERR_INVALID);
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_APPROVED, "2021-05-20 12:00", &d), PREP_OK);
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_ACTIVE, "2021-06-01 12:00", &d), PREP_OK);
    /* who and why are required */
    assert_int_equal(prep_registry_block(f.r, "uaq", "", "x", &d), PREP_ERR_INVALID);
    assert_int_equal(prep_registry_block(f.r, "uaq", "ana", NULL, &d), PREP_ERR_INVALID);
    assert_int_equal(prep_registry_block(f.r, "uaq", "Consejero Presidente", "modificó las páginas", &d), PREP_OK);
    assert_int_equal(prep_registry_is_blocked(f.r, "uaq"), 1);
    /* blocked: only unblock leaves it */
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_ACTIVE, "2021-06-06 21:00", &d), PREP_ERR_INVALID);
    assert_int_equal(prep_registry_block(f.r, "uaq", "ana", "otra vez", &d), PREP_ERR_INVALID);
    assert_int_equal(prep_registry_unblock(f.r, "uaq", "Consejero Presidente", "corrigió", &d), PREP_OK);
    assert_int_equal(prep_registry_unblock(f.r, "uaq", "ana", "de nuevo", &d), PREP_ERR_INVALID);
    prep_registry_difusor df;
    assert_int_equal(prep_registry_get(f.r, "uaq", &df, &d), PREP_OK);
    assert_int_equal(df.status, PREP_REGISTRY_ACTIVE); /* unblock restores the status before */
    prep_registry_difusor_free(&df);
    assert_int_equal(prep_registry_is_blocked(f.r, "uaq"), 0);
    assert_int_equal(prep_registry_is_blocked(f.r, "nadie"), -1);
    assert_int_equal(move(&f, "nadie", PREP_REGISTRY_ACTIVE, "2021-06-01 12:00", &d), PREP_ERR_NOTFOUND);
    prep_diags_free(&d);

    /* one audit row per change: add, 3 steps, block, unblock (refusals leave none) */
    prep_registry_audit_entry *a;
    size_t n;
    prep_time before = prep_time_now();
    prep_diags_init(&d);
    assert_int_equal(prep_registry_audit(f.r, "uaq", &a, &n, &d), PREP_OK);
    assert_int_equal(n, 6);
    static const char *const actions[] = {"add", "status", "status", "status", "block", "unblock"};
    static const char *const to[] = {"registered", "infrastructure-verified", "approved", "active", "blocked", "active"};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(a[i].action, actions[i]);
        assert_string_equal(a[i].to, to[i]);
        assert_string_equal(a[i].difusor, "uaq");
        assert_true(a[i].at <= before && a[i].at > before - 600); /* the wall clock, not --now */
        if (i) assert_true(a[i].seq > a[i - 1].seq);
    }
    assert_string_equal(a[4].who, "Consejero Presidente");
    assert_string_equal(a[4].why, "modificó las páginas");
    assert_string_equal(a[4].from, "active");
    assert_string_equal(a[5].from, "blocked");
    free(a);
    /* all rows: the settings change too */
    assert_int_equal(prep_registry_audit(f.r, NULL, &a, &n, &d), PREP_OK);
    assert_int_equal(n, 7);
    assert_string_equal(a[0].action, "settings");
    assert_string_equal(a[0].difusor, "");
    assert_non_null(strstr(a[0].why, "registration_deadline=2021-04-19 23:59:00"));
    free(a);

    /* the audit log refuses UPDATE and DELETE, from any connection */
    sqlite3 *raw;
    assert_int_equal(sqlite3_open(f.db, &raw), SQLITE_OK);
    char *msg = NULL;
    assert_int_not_equal(sqlite3_exec(raw, "UPDATE audit SET who = 'nadie'", NULL, NULL, &msg), SQLITE_OK);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);
    msg = NULL;
    assert_int_not_equal(sqlite3_exec(raw, "DELETE FROM audit", NULL, NULL, &msg), SQLITE_OK);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(raw, "SELECT count(*) FROM audit WHERE who = 'nadie'", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 0);
    sqlite3_finalize(q);
    /* the schema: WAL, STRICT, version 1 */
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 1);
    sqlite3_finalize(q);
    assert_int_not_equal(sqlite3_exec(raw, "UPDATE difusores SET created = 'ayer'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    prep_diags_free(&d);
    fx_close(&f);
}

static void test_schema_version_refused(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *db = xfmt("%s/x.db", t);
    sqlite3 *raw;
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    prep_registry *r = NULL;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_registry_open(db, NULL, &r, &d), PREP_ERR_INVALID);
    assert_null(r);
    assert_non_null(prep_diags_find(&d, "schema-version"));
    prep_diags_free(&d);
    free(db);
    tmpdir_rm(t);
}

/* ---------------------------------------------------------------- secrets */
static void test_secrets(void **st)
{
    (void)st;
    fixture f;
    fx_open(&f);
    fx_add(&f, "uaq", "UAQ", NULL);
    fx_add(&f, "diario", "Diario", NULL);
    struct stat sb;
    assert_int_equal(stat(f.secrets, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_true(file_has(f.secrets, PASSWORD));
    /* never in the database, its WAL or the targets of a not-active broadcaster */
    assert_false(file_has(f.db, PASSWORD));
    char *wal = xfmt("%s-wal", f.db);
    assert_false(file_has(wal, PASSWORD));
    free(wal);
    prep_diags d;
    prep_diags_init(&d);
    prep_deliver_target *t;
    size_t n;
    assert_int_equal(prep_registry_targets(f.r, &t, &n, &d), PREP_OK);
    assert_int_equal(n, 0); /* nobody is active yet */
    free(t);
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_INFRA_VERIFIED, "2021-04-20 10:00", &d), PREP_OK);
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_APPROVED, "2021-05-20 10:00", &d), PREP_OK);
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_ACTIVE, "2021-06-01 10:00", &d), PREP_OK);
    assert_int_equal(prep_registry_targets(f.r, &t, &n, &d), PREP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].id, "uaq");
    assert_int_equal(t[0].method, PREP_DELIVER_FTPS);
    assert_string_equal(t[0].url, "ftp://200.23.1.10:2121/incoming/");
    assert_string_equal(t[0].user, "prep");
    assert_string_equal(t[0].password, PASSWORD);
    memset(t, 0, n * sizeof *t);
    free(t);
    /* a blocked broadcaster is no target */
    assert_int_equal(prep_registry_block(f.r, "uaq", "ana", "prueba", &d), PREP_OK);
    assert_int_equal(prep_registry_targets(f.r, &t, &n, &d), PREP_OK);
    assert_int_equal(n, 0);
    free(t);
    /* a secrets file others may read is refused */
    assert_int_equal(chmod(f.secrets, 0644), 0);
    assert_int_equal(prep_registry_targets(f.r, &t, &n, &d), PREP_ERR_INVALID);
    const prep_diag *g = prep_diags_find(&d, "secrets-mode");
    assert_non_null(g);
    assert_non_null(strstr(g->msg, "0644"));
    prep_registry_difusor df;
    assert_int_equal(prep_registry_get(f.r, "uaq", &df, &d), PREP_ERR_INVALID);
    assert_int_equal(chmod(f.secrets, 0600), 0);
    /* the second add kept the first one's line */
    assert_int_equal(prep_registry_get(f.r, "uaq", &df, &d), PREP_OK);
    assert_int_equal(df.has_ftp_password, 1);
    prep_registry_difusor_free(&df);
    for (size_t i = 0; i < d.n; i++) assert_null(strstr(d.v[i].msg, PASSWORD));
    prep_diags_free(&d);
    fx_close(&f);
}

/* ---------------------------------------------------------------- tokens and a second connection */
static void test_tokens_and_block_across_connections(void **st)
{
    (void)st;
    fixture f;
    fx_open(&f);
    char tok[65];
    fx_add(&f, "uaq", "UAQ", tok);
    char h[65];
    prep_sha256_hex(tok, 64, h);
    assert_false(file_has(f.db, tok)); /* only the hash is kept */
    /* the pull server's connection, opened before any change */
    prep_registry *other;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_registry_open(f.db, NULL, &other, &d), PREP_OK);
    sqlite3 *raw;
    assert_int_equal(sqlite3_open(f.db, &raw), SQLITE_OK);
    char id[64];
    assert_int_equal(prep_registry_pull_lookup(other, tok, id), PREP_REGISTRY_PULL_INACTIVE);
    assert_string_equal(id, "uaq");
    assert_int_equal(prep_registry_pull_authorize(other, tok, id), -1);
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_INFRA_VERIFIED, "2021-04-20 10:00", &d), PREP_OK);
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_APPROVED, "2021-05-20 10:00", &d), PREP_OK);
    assert_int_equal(move(&f, "uaq", PREP_REGISTRY_ACTIVE, "2021-06-01 10:00", &d), PREP_OK);
    assert_int_equal(prep_registry_pull_lookup(other, tok, id), PREP_REGISTRY_PULL_ALLOWED);
    assert_int_equal(prep_registry_pull_authorize(other, tok, id), 1);
    /* unknown and malformed tokens */
    char wrong[65];
    memcpy(wrong, tok, 65);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    assert_int_equal(prep_registry_pull_lookup(other, wrong, id), PREP_REGISTRY_PULL_UNKNOWN);
    assert_int_equal(prep_registry_pull_authorize(other, "../../etc/passwd", id), 0);
    assert_int_equal(prep_registry_pull_lookup(other, h, id), PREP_REGISTRY_PULL_UNKNOWN); /* the hash is no token */

    /* the block is seen by the other connections as soon as the call returns */
    assert_int_equal(prep_registry_block(f.r, "uaq", "ana", "modificó las páginas", &d), PREP_OK);
    assert_int_equal(prep_registry_pull_lookup(other, tok, id), PREP_REGISTRY_PULL_BLOCKED);
    assert_int_equal(prep_registry_pull_authorize(other, tok, id), -1);
    assert_int_equal(prep_registry_is_blocked(other, "uaq"), 1);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(raw, "SELECT status FROM difusores WHERE id = 'uaq'", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "blocked");
    sqlite3_finalize(q);
    assert_int_equal(prep_registry_unblock(f.r, "uaq", "ana", "corrigió", &d), PREP_OK);
    assert_int_equal(prep_registry_pull_lookup(other, tok, id), PREP_REGISTRY_PULL_ALLOWED);

    /* rotation: the old token stops working, the new one works */
    char tok2[65];
    assert_int_equal(prep_registry_token_rotate(f.r, "uaq", "ana", "filtrado", tok2, &d), PREP_OK);
    assert_string_not_equal(tok, tok2);
    assert_int_equal(prep_registry_pull_lookup(other, tok, id), PREP_REGISTRY_PULL_UNKNOWN);
    assert_int_equal(prep_registry_pull_lookup(other, tok2, id), PREP_REGISTRY_PULL_ALLOWED);
    assert_int_equal(prep_registry_token_rotate(f.r, "nadie", "ana", "x", tok2, &d), PREP_ERR_NOTFOUND);
    sqlite3_close(raw);
    prep_registry_close(other);
    prep_diags_free(&d);
    fx_close(&f);
}

/* ---------------------------------------------------------------- edit and settings */
static void test_edit(void **st)
{
    (void)st;
    fixture f;
    fx_open(&f);
    fx_add(&f, "uaq", "UAQ", NULL);
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_input ch;
    prep_registry_input_init(&ch);
    assert_int_equal(prep_registry_input_set(&ch, "tech-email", "noc@uaq.mx", "t", 0, &d), PREP_OK);
    assert_int_equal(prep_registry_input_set(&ch, "address", "", "t", 0, &d), PREP_OK); /* clears it */
    assert_int_equal(prep_registry_input_set(&ch, "ftp-password", "Otra-Clave 2", "t", 0, &d), PREP_OK);
    char *svg = xfmt("%s/logo.svg", f.dir);
    const char svgtext[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 2 1\"><rect width=\"2\" height=\"1\"/></svg>";
    write_file(svg, svgtext, sizeof svgtext - 1);
    assert_int_equal(prep_registry_input_set(&ch, "logo", svg, "t", 0, &d), PREP_OK);
    free(svg);
    assert_int_equal(prep_registry_edit(f.r, "uaq", &ch, "ana", "cambio de responsable", &d), PREP_OK);
    prep_registry_input_free(&ch);
    prep_registry_difusor df;
    assert_int_equal(prep_registry_get(f.r, "uaq", &df, &d), PREP_OK);
    assert_string_equal(df.v[PREP_REGISTRY_F_tech_email], "noc@uaq.mx");
    assert_string_equal(df.v[PREP_REGISTRY_F_address], "");
    assert_string_equal(df.v[PREP_REGISTRY_F_legal_email], "rectoria@uaq.mx"); /* untouched */
    assert_int_equal(df.logo_len, sizeof svgtext - 1);
    assert_string_equal(df.logo_type, "image/svg+xml");
    prep_registry_difusor_free(&df);
    assert_true(file_has(f.secrets, "uaq ftp-password Otra-Clave 2\n"));
    assert_false(file_has(f.secrets, PASSWORD));
    assert_false(file_has(f.db, "Otra-Clave"));
    /* the audit row names the fields, never the password */
    prep_registry_audit_entry *a;
    size_t n;
    assert_int_equal(prep_registry_audit(f.r, "uaq", &a, &n, &d), PREP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(a[1].action, "edit");
    assert_string_equal(a[1].why, "cambio de responsable (changed: address, tech-email, logo, ftp-password)");
    free(a);
    /* a bad value or clearing a required field is refused and changes nothing */
    prep_registry_input_init(&ch);
    assert_int_equal(prep_registry_input_set(&ch, "tech-email", "noc(at)uaq.mx", "t", 0, &d), PREP_OK);
    assert_int_equal(prep_registry_input_set(&ch, "legal-name", "", "t", 0, &d), PREP_OK);
    assert_int_equal(prep_registry_edit(f.r, "uaq", &ch, "ana", "x", &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "missing-field"));
    prep_registry_input_free(&ch);
    /* switching to sftp without its fields is refused */
    prep_registry_input_init(&ch);
    assert_int_equal(prep_registry_input_set(&ch, "method", "sftp", "t", 0, &d), PREP_OK);
    assert_int_equal(prep_registry_edit(f.r, "uaq", &ch, "ana", "x", &d), PREP_ERR_INVALID);
    prep_registry_input_free(&ch);
    /* nothing to change; unknown id */
    prep_registry_input_init(&ch);
    assert_int_equal(prep_registry_input_set(&ch, "tech-email", "noc@uaq.mx", "t", 0, &d), PREP_OK);
    assert_int_equal(prep_registry_edit(f.r, "uaq", &ch, "ana", "x", &d), PREP_ERR_USAGE);
    assert_non_null(prep_diags_find(&d, "no-change"));
    assert_int_equal(prep_registry_edit(f.r, "nadie", &ch, "ana", "x", &d), PREP_ERR_NOTFOUND);
    prep_registry_input_free(&ch);
    assert_int_equal(prep_registry_get(f.r, "uaq", &df, &d), PREP_OK);
    assert_string_equal(df.v[PREP_REGISTRY_F_tech_email], "noc@uaq.mx");
    assert_string_equal(df.v[PREP_REGISTRY_F_method], "ftps");
    prep_registry_difusor_free(&df);
    assert_int_equal(prep_registry_audit(f.r, "uaq", &a, &n, &d), PREP_OK);
    assert_int_equal(n, 2);
    free(a);
    prep_diags_free(&d);
    fx_close(&f);
}

static void test_settings_checks(void **st)
{
    (void)st;
    fixture f;
    fx_open(&f);
    prep_diags d;
    prep_diags_init(&d);
    prep_registry_settings s;
    assert_int_equal(prep_registry_settings_get(f.r, &s, &d), PREP_OK);
    assert_int_equal(s.registration_deadline, at("2021-04-19 23:59"));
    assert_string_equal(s.zone, "America/Mexico_City");
    assert_string_equal(s.process, "qro2021");
    /* 2021-04-19 23:59 in Querétaro (daylight time in April 2021: UTC-5) is 2021-04-20
     * 04:59 UTC: 18737 days since 1970-01-01 * 86400 + 4*3600 + 59*60 = 1618876800 + 17940
     * = 1618894740 */
    assert_int_equal(s.registration_deadline, 1618894740);
    prep_registry_settings bad = s;
    snprintf(bad.zone, sizeof bad.zone, "Mars/Olympus");
    assert_int_equal(prep_registry_settings_set(f.r, &bad, "ana", "x", &d), PREP_ERR_INVALID);
    snprintf(bad.zone, sizeof bad.zone, "../../etc/passwd");
    assert_int_equal(prep_registry_settings_set(f.r, &bad, "ana", "x", &d), PREP_ERR_INVALID);
    bad = s;
    snprintf(bad.process, sizeof bad.process, "qro 2021");
    assert_int_equal(prep_registry_settings_set(f.r, &bad, "ana", "x", &d), PREP_ERR_INVALID);
    assert_int_equal(prep_registry_settings_set(f.r, &s, "", "x", &d), PREP_ERR_INVALID);
    /* clearing a deadline: registration is open again */
    s.registration_deadline = PREP_TIME_NONE;
    assert_int_equal(prep_registry_settings_set(f.r, &s, "ana", "prórroga", &d), PREP_OK);
    prep_registry_settings s2;
    assert_int_equal(prep_registry_settings_get(f.r, &s2, &d), PREP_OK);
    assert_int_equal(s2.registration_deadline, PREP_TIME_NONE);
    assert_int_equal(s2.roster_date, s.roster_date);
    prep_registry_input in;
    input_ftps(&in, "tarde", "Tarde", NULL);
    char tok[65];
    assert_int_equal(prep_registry_add(f.r, &in, "ana", at("2021-06-01 10:00"), tok, NULL, &d), PREP_OK);
    prep_registry_input_free(&in);
    prep_diags_free(&d);
    fx_close(&f);
}

/* ---------------------------------------------------------------- threads of the pull server */
typedef struct pull_thread {
    prep_registry *reg; /* shared by every thread, as the pull server does */
    const char *token;
    atomic_int *blocked_done;
    atomic_int *stop;
    long allowed_before, blocked_after, violations, errors;
} pull_thread;

static void *pull_loop(void *arg)
{
    pull_thread *t = arg;
    while (!atomic_load(t->stop)) {
        int done = atomic_load(t->blocked_done); /* read before asking */
        char id[64];
        int a = prep_registry_pull_authorize(t->reg, t->token, id);
        if (done && a == 1) t->violations++;
        if (!done && a == 1) t->allowed_before++;
        if (done && a == -1) t->blocked_after++;
        if (a == 0) t->errors++;
    }
    return NULL;
}

static void test_block_under_concurrent_lookups(void **st)
{
    (void)st;
    fixture f;
    fx_open(&f);
    char tok[65];
    fx_add(&f, "uaq", "UAQ", tok);
    activate(&f, "uaq");
    prep_registry *server;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_registry_open(f.db, NULL, &server, &d), PREP_OK);
    atomic_int blocked_done = 0, stop = 0;
    pull_thread th[8];
    pthread_t tid[8];
    for (int i = 0; i < 8; i++) {
        th[i] = (pull_thread){.reg = server, .token = tok, .blocked_done = &blocked_done, .stop = &stop};
        assert_int_equal(pthread_create(&tid[i], NULL, pull_loop, &th[i]), 0);
    }
    usleep(50 * 1000);
    assert_int_equal(prep_registry_block(f.r, "uaq", "ana", "prueba de bloqueo", &d), PREP_OK);
    atomic_store(&blocked_done, 1);
    usleep(150 * 1000);
    atomic_store(&stop, 1);
    long before = 0, after = 0;
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(th[i].violations, 0); /* never allowed once the block returned */
        assert_int_equal(th[i].errors, 0);
        before += th[i].allowed_before;
        after += th[i].blocked_after;
    }
    assert_true(before > 0 && after > 0); /* both sides of the block were exercised */
    prep_registry_close(server);
    prep_diags_free(&d);
    fx_close(&f);
}

/* ---------------------------------------------------------------- deliveries */
static void test_deliveries(void **st)
{
    (void)st;
    fixture f;
    fx_open(&f);
    fx_add(&f, "uaq", "UAQ", NULL);
    prep_diags d;
    prep_diags_init(&d);
    for (int i = 1; i <= 7; i++) {
        prep_registry_delivery r = {.seq = (uint64_t)i, .method = PREP_DELIVER_FTPS, .started = 1000 + 300 * i,
                               .finished = 1010 + 300 * i, .bytes = 1000u * (unsigned)i, .objects = (uint64_t)i};
        snprintf(r.difusor, sizeof r.difusor, "uaq");
        snprintf(r.status, sizeof r.status, "%s", i == 6 ? "failed" : "ok");
        if (i == 6) snprintf(r.error, sizeof r.error, "connection refused");
        assert_int_equal(prep_registry_delivery_record(f.r, &r, &d), PREP_OK);
    }
    prep_registry_delivery bad = {.seq = 1};
    snprintf(bad.difusor, sizeof bad.difusor, "nadie");
    snprintf(bad.status, sizeof bad.status, "ok");
    assert_int_equal(prep_registry_delivery_record(f.r, &bad, &d), PREP_ERR_NOTFOUND);
    prep_registry_delivery *v;
    size_t n;
    assert_int_equal(prep_registry_deliveries(f.r, "uaq", 3, &v, &n, &d), PREP_OK);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].seq, 7); /* newest first */
    assert_int_equal(v[1].seq, 6);
    assert_string_equal(v[1].status, "failed");
    assert_string_equal(v[1].error, "connection refused");
    assert_int_equal(v[2].bytes, 5000);
    assert_int_equal(v[0].method, PREP_DELIVER_FTPS);
    assert_int_equal(v[0].finished - v[0].started, 10);
    free(v);
    prep_diags_free(&d);
    fx_close(&f);
}

/* ---------------------------------------------------------------- letter and roster */
static void test_letter_escapes(void **st)
{
    (void)st;
    fixture f;
    fx_open(&f);
    fx_add(&f, "uaq", "Radio <b>\"Uno\"</b> & 'Dos'", NULL);
    prep_diags d;
    prep_diags_init(&d);
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_registry_letter(f.r, "uaq", at("2021-04-15 12:00"), &b, &d), PREP_OK);
    assert_non_null(strstr(b.data, "Santiago de Querétaro, Qro., 15 de abril de 2021."));
    assert_non_null(strstr(b.data, "el (la) <strong>Radio &lt;b&gt;&quot;Uno&quot;&lt;/b&gt; &amp; &#39;Dos&#39;</strong>"));
    assert_non_null(strstr(b.data, "Dra. Teresa García &lt;Rectora&gt;"));
    assert_null(strstr(b.data, "<b>\"Uno\""));
    assert_null(strstr(b.data, "<Rectora>"));
    assert_non_null(strstr(b.data, "@page{size:letter"));
    assert_non_null(strstr(b.data, "certeza, imparcialidad, independencia, legalidad, máxima publicidad y objetividad"));
    assert_null(strstr(b.data, PASSWORD));
    prep_buf_free(&b);
    prep_buf_init(&b, 0);
    assert_int_equal(prep_registry_letter(f.r, "nadie", at("2021-04-15 12:00"), &b, &d), PREP_ERR_NOTFOUND);
    prep_buf_free(&b);
    prep_diags_free(&d);
    fx_close(&f);
}

static void activate(fixture *f, const char *id)
{
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(move(f, id, PREP_REGISTRY_INFRA_VERIFIED, "2021-04-20 10:00", &d), PREP_OK);
    assert_int_equal(move(f, id, PREP_REGISTRY_APPROVED, "2021-05-20 10:00", &d), PREP_OK);
    assert_int_equal(move(f, id, PREP_REGISTRY_ACTIVE, "2021-06-01 10:00", &d), PREP_OK);
    prep_diags_free(&d);
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_roster_signed(void **st)
{
    (void)st;
    fixture f;
    fx_open(&f);
    fx_add(&f, "uaq", "Universidad Autónoma de Querétaro", NULL);
    fx_add(&f, "diario", "Diario <Hoy>", NULL);
    fx_add(&f, "tv", "Televisión Local", NULL);
    fx_add(&f, "nuevo", "Nuevo Medio", NULL); /* only registered: not on the roster */
    activate(&f, "uaq");
    activate(&f, "diario");
    activate(&f, "tv");
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_registry_block(f.r, "diario", "ana", "alteró los resultados", &d), PREP_OK);

    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_registry_roster_html(f.r, at("2021-05-28 10:00"), &b, &d), PREP_OK);
    /* active: the logo links to the publication URL */
    assert_non_null(strstr(b.data, "<li><a href=\"https://prep.uaq.mx/resultados/\" rel=\"noopener\"><img src=\"data:image/png;base64,"));
    assert_non_null(strstr(b.data, "alt=\"Logotipo de Universidad Autónoma de Querétaro\""));
    /* blocked: shown, no link */
    const char *bl = strstr(b.data, "<li class=\"bloqueado\">");
    assert_non_null(bl);
    const char *end = strstr(bl, "</li>");
    assert_non_null(strstr(bl, "Diario &lt;Hoy&gt;"));
    assert_true(strstr(bl, "Bloqueado") < end);
    char *li = prep_xstrndup(bl, (size_t)(end - bl));
    assert_null(strstr(li, "href"));
    free(li);
    assert_null(strstr(b.data, "Nuevo Medio"));
    assert_non_null(strstr(b.data, "lang=\"es\""));
    assert_non_null(strstr(b.data, "28 de mayo de 2021"));
    /* no outside requests: no http(s) reference but the broadcasters' own links */
    assert_null(strstr(b.data, "src=\"http"));
    assert_null(strstr(b.data, "<script"));
    prep_buf_free(&b);

    /* signed like a cut; checked with the stock tools */
    char *kn = xfmt("%s/ieeq", f.dir), *kp = xfmt("%s/ieeq.key", f.dir), *out = xfmt("%s/lista", f.dir);
    assert_int_equal(prep_cut_keygen(kn, PREP_CUT_LIVE, &d), PREP_OK);
    prep_cut_seckey k;
    assert_int_equal(prep_cut_seckey_load(kp, &k, &d), PREP_OK);
    uint64_t seq = 0;
    prep_err e = prep_registry_roster(f.r, out, &k, 0, at("2021-05-28 10:00"), &seq, &d);
    if (e) prep_diags_print(&d, stderr, 0);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(seq, 1);
    char *cmd = xfmt("signify-openbsd -V -q -p '%s.pub' -m '%s/SHA256SUMS' && cd '%s' && sha256sum -c --strict --quiet "
                     "SHA256SUMS",
                     kn, out, out);
    assert_int_equal(run(cmd), 0);
    free(cmd);
    char *idx = xfmt("%s/index.html", out);
    assert_true(file_has(idx, "Bloqueado"));
    cmd = xfmt("grep -q '^# process: qro2021-difusores$' '%s/SHA256SUMS'", out);
    assert_int_equal(run(cmd), 0);
    free(cmd);
    /* a second roster after unblocking: sequence 2, the link is back */
    assert_int_equal(prep_registry_unblock(f.r, "diario", "ana", "corrigió", &d), PREP_OK);
    assert_int_equal(prep_registry_roster(f.r, out, &k, 0, at("2021-05-28 11:00"), &seq, &d), PREP_OK);
    assert_int_equal(seq, 2);
    assert_false(file_has(idx, "Bloqueado"));
    assert_true(file_has(idx, "Diario &lt;Hoy&gt;"));
    cmd = xfmt("signify-openbsd -V -q -p '%s.pub' -m '%s/SHA256SUMS' && cd '%s' && sha256sum -c --strict --quiet "
               "SHA256SUMS",
               kn, out, out);
    assert_int_equal(run(cmd), 0);
    free(cmd);
    /* tampering is caught by the stock tools */
    FILE *fp = fopen(idx, "ab");
    assert_non_null(fp);
    fputs("<!-- x -->", fp);
    fclose(fp);
    cmd = xfmt("cd '%s' && sha256sum -c --strict --quiet SHA256SUMS >/dev/null 2>&1", out);
    assert_int_not_equal(run(cmd), 0);
    free(cmd);
    assert_false(file_has(idx, PASSWORD));
    prep_cut_seckey_wipe(&k);
    free(idx);
    free(kn);
    free(kp);
    free(out);
    prep_diags_free(&d);
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validators),
        cmocka_unit_test(test_validate_names_field_and_value),
        cmocka_unit_test(test_input_parse),
        cmocka_unit_test(test_logo_check),
        cmocka_unit_test(test_add_and_deadline),
        cmocka_unit_test(test_transitions_and_audit),
        cmocka_unit_test(test_schema_version_refused),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_tokens_and_block_across_connections),
        cmocka_unit_test(test_edit),
        cmocka_unit_test(test_settings_checks),
        cmocka_unit_test(test_block_under_concurrent_lookups),
        cmocka_unit_test(test_deliveries),
        cmocka_unit_test(test_letter_escapes),
        cmocka_unit_test(test_roster_signed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the actas reader and writer on small inline files against the catalogue
 * tests/data/actas/mini.cat: every variant of the real files (sep= line or none, '|' or
 * ',', Latin-1, BOM, CRLF, header block or none, INE column names), malformed rows
 * (kind, line and field number of each diag), unusable headers, and the round trip.
 * Epoch values: 2021-06-06 20:00 in Mexico City (UTC-5 then) = 1623027600 (GNU date,
 * as in test_core.c); the others are that plus the minutes written beside them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prep/actas.h"

#define T2000 1623027600LL /* 2021-06-06 20:00 America/Mexico_City */
#define SHA1 "0973081e80ff64899e05a43f078c5f2d104b5458ff04560cd608ec120d9c9014"
#define NF 42 /* fields of a row in the mini catalogue's layout */

static prep_catalog *cat;

static int setup(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_catalog_load(PREP_TEST_DATA "/actas/mini.cat", &cat, &d);
    if (e != PREP_OK) prep_diags_print(&d, stderr, 20);
    prep_diags_free(&d);
    return e == PREP_OK ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    prep_catalog_free(cat);
    return 0;
}

static const char *const cols[NF] = {
    "CLAVE_CASILLA", "CLAVE_ACTA", "ID_ENTIDAD", "ENTIDAD", "ID_DISTRITO_LOCAL", "DISTRITO_LOCAL", "ID_MUNICIPIO",
    "MUNICIPIO", "SECCION", "ID_CASILLA", "TIPO_CASILLA", "EXT_CONTIGUA", "UBICACION_CASILLA", "TIPO_ACTA",
    "TOTAL_BOLETAS_SOBRANTES", "TOTAL_PERSONAS_VOTARON", "TOTAL_REP_PARTIDO_CI_VOTARON", "TOTAL_VOTOS_SACADOS",
    "PAN", "PRI", "PRD", "MORENA", "PT", "C_MORENA_PT", "CAND_IND_1", "NO_REGISTRADOS", "NULOS",
    "TOTAL_VOTOS_ASENTADO", "TOTAL_VOTOS_CALCULADO", "LISTA_NOMINAL", "REPRESENTANTES_PP_CI", "OBSERVACIONES",
    "CONTABILIZADA", "MECANISMOS_TRASLADO", "SHA", "FECHA_HORA_ACOPIO", "FECHA_HORA_CAPTURA",
    "FECHA_HORA_VERIFICACION", "ORIGEN", "DIGITALIZACION", "TIPO_DOCUMENTO", "COTEJADA"};

/* district 1, básica: 100+80+20+150+30+5+0+15 = 400 <= 500 + 10 -> counted */
static const char *const row_b[NF] = {
    "=\"220100B0100\"", "220100B010002", "22", "QUERÉTARO", "1", "DISTRITO 01", "14", "Querétaro", "100", "1",
    "B", "0", "1", "2", "100", "400", "10", "400", "100", "80", "20", "150", "30", "5", "-", "0", "15", "400", "400",
    "500", "10", "", "1", "F", SHA1, "2021-06-06 21:00:00", "2021-06-06 21:10:00", "2021-06-06 21:15:00", "CATD",
    "ESCANER", "ACTA PREP", "1"};

/* district 2, E1C1 (ext 1): no coalition there ("-"), the independent runs;
 * 10+20+30+40+50+7+1+2 = 160 <= 150 + 12 -> counted; INE 2018 date format */
static const char *const row_e[NF] = {
    "=\"220200E0101\"", "220200E010102", "22", "QUERÉTARO", "2", "DISTRITO 02", "14", "Querétaro", "200", "1",
    "E", "1", "2", "2", "SIN DATO", "150", "12", "150", "10", "20", "30", "40", "50", "-", "7", "1", "2", "160", "160",
    "150", "12", "", "1", "", "", "06/06/2021 22:00", "06/06/2021 22:05", "06/06/2021 22:07", "CASILLA", "MOVIL",
    "ACTA PREP", ""};

/* district 1, contigua: sin acta, zeros as QROO 2019 writes them */
static const char *const row_nc[NF] = {
    "=\"220100C0100\"", "220100C010002", "22", "QUERÉTARO", "1", "DISTRITO 01", "14", "Querétaro", "100", "1",
    "C", "0", "1", "2", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "-", "0", "0", "0", "0", "500", "10",
    "SIN ACTA POR PAQUETE NO ENTREGADO", "0", "F", "", "", "2021-06-07 01:00:00", "2021-06-07 01:02:00", "CATD",
    "ESCANER", "", ""};

/* section 999 is not in the catalogue: fuera de catálogo, kept with its values */
static const char *const row_out[NF] = {
    "=\"220999B0100\"", "220999B010002", "22", "QUERÉTARO", "1", "DISTRITO 01", "14", "Querétaro", "999", "1",
    "B", "0", "1", "2", "5", "40", "2", "40", "10", "10", "10", "5", "5", "0", "-", "0", "2", "42", "42", "321", "3",
    "FUERA DE CATALOGO", "0", "", "", "2021-06-06 23:00:00", "2021-06-06 23:01:00", "2021-06-06 23:02:00", "CATD",
    "ESCANER", "ACTA PREP", ""};

/* Appends one line: fields of `base` joined by sep, field `field` (1-based; 0: none)
 * replaced by `value`. */
static void add_row(prep_buf *b, const char *const *base, char sep, int field, const char *value)
{
    for (int i = 0; i < NF; i++) {
        if (i) prep_buf_putc(b, sep);
        prep_buf_puts(b, i + 1 == field ? value : base[i]);
    }
    prep_buf_putc(b, '\n');
}

/* The four rows above, in that order: the acta of casilla B, E1C1, C (sin acta), section 999. */
static void add_four(prep_buf *b)
{
    add_row(b, row_b, '|', 0, NULL);
    add_row(b, row_e, '|', 0, NULL);
    add_row(b, row_nc, '|', 0, NULL);
    add_row(b, row_out, '|', 0, NULL);
}

static const char *block =
    "sep=|\n"
    "DIPUTACIONES LOCALES\n"
    "06/06/2021 23:05 (UTC-5)\n"
    "ACTAS_ESPERADAS|ACTAS_REGISTRADAS|ACTAS_FUERA_CATALOGO|ACTAS_CAPTURADAS|PORCENTAJE_ACTAS_CAPTURADAS|"
    "ACTAS_CONTABILIZADAS|PORCENTAJE_ACTAS_CONTABILIZADAS|PORCENTAJE_ACTAS_INCONSISTENCIAS|ACTAS_NO_CONTABILIZADAS|"
    "LISTA_NOMINAL_ACTAS_CONTABILIZADAS|TOTAL_VOTOS_C_CS|TOTAL_VOTOS_S_CS|PORCENTAJE_PARTICIPACION_CIUDADANA\n"
    "6|4|1|3|50.0000|2|33.3333|0.0000|1|650|560|560|86.1538\n"
    "\n";

/* The same bytes read from a file (prep_actas_load: its buffer becomes the text when it
 * needs no decoding) give the same set as parsed from memory. */
static void same_as_loaded(const char *text, size_t len, const prep_actas *s)
{
    char path[] = "/tmp/prep-test-actas-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *l = NULL;
    assert_int_equal(prep_actas_load(path, cat, 0, &l, &d), PREP_OK);
    unlink(path);
    assert_int_equal(l->n, s->n);
    assert_int_equal(l->latin1, s->latin1);
    assert_int_equal(l->rows_bad, s->rows_bad);
    assert_int_equal(l->hdr.cut, s->hdr.cut);
    assert_int_equal(l->hdr.present, s->hdr.present);
    assert_string_equal(l->hdr.election_name ? l->hdr.election_name : "", s->hdr.election_name ? s->hdr.election_name : "");
    for (size_t i = 0; i < s->n; i++) assert_true(prep_actas_capture_same(l, &l->v[i], s, &s->v[i]));
    prep_actas_free(l);
    prep_diags_free(&d);
}

static prep_actas *parse_ok(const char *text, size_t len, prep_diags *d)
{
    prep_actas *s = NULL;
    prep_err e = prep_actas_parse("t.csv", text, len, cat, 0, &s, d);
    if (e != PREP_OK) prep_diags_print(d, stderr, 20);
    assert_int_equal(e, PREP_OK);
    assert_non_null(s);
    same_as_loaded(text, len, s);
    return s;
}

static void check_row_b(const prep_actas *s, const prep_acta *a)
{
    assert_int_equal(a->casilla, prep_catalog_find_casilla(cat, "220100B0100"));
    assert_string_equal(a->clave_casilla, "220100B0100");
    assert_string_equal(a->clave_acta, "220100B010002");
    assert_int_equal(a->section_id, 100);
    assert_int_equal(a->district_id, 1);
    assert_int_equal(a->municipality_id, 14);
    assert_int_equal(a->tipo_casilla, 'B');
    assert_int_equal(a->id_casilla, 1);
    assert_int_equal(a->ext_contigua, 0);
    assert_int_equal(a->urban, 1);
    assert_int_equal(a->boletas_sobrantes, 100);
    assert_int_equal(a->personas_votaron, 400);
    assert_int_equal(a->rep_votaron, 10);
    assert_int_equal(a->votos_sacados, 400);
    assert_int_equal(a->total_asentado, 400);
    assert_int_equal(a->total_calculado, 400);
    assert_int_equal(a->lista_nominal, 500);
    assert_int_equal(a->representatives, 10);
    assert_int_equal(a->no_acta, PREP_ACTA_HAS_ACTA);
    assert_int_equal(a->status, PREP_ACTA_COUNTED);
    assert_string_equal(a->mecanismo, "F");
    assert_string_equal(a->sha, SHA1);
    assert_int_equal(a->acopio, T2000 + 60 * 60);        /* 21:00 */
    assert_int_equal(a->captura, T2000 + 70 * 60);       /* 21:10 */
    assert_int_equal(a->verificacion, T2000 + 75 * 60);  /* 21:15 */
    assert_string_equal(a->origen, "CATD");
    assert_string_equal(a->digitalizacion, "ESCANER");
    assert_string_equal(a->tipo_documento, "ACTA PREP");
    assert_int_equal(a->cotejada, 1);
    const int32_t want[9] = {100, 80, 20, 150, 30, 5, PREP_ACTA_V_NA, 0, 15};
    const int32_t *v = prep_acta_votes(s, a);
    for (int j = 0; j < 9; j++) assert_int_equal(v[j], want[j]);
}

static void test_canonical_file(void **st)
{
    (void)st;
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_puts(&b, block);
    add_row(&b, cols, '|', 0, NULL);
    add_four(&b);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse_ok(b.data, b.len, &d);
    assert_int_equal(d.total, 0);
    assert_int_equal(s->n, 4);
    assert_int_equal(s->rows_read, 4);
    assert_int_equal(s->rows_bad, 0);
    assert_int_equal(s->sep, '|');
    assert_int_equal(s->latin1, 0);
    assert_true(s->hdr.present);
    assert_string_equal(s->hdr.election_name, "DIPUTACIONES LOCALES");
    assert_string_equal(s->hdr.cut_text, "06/06/2021 23:05 (UTC-5)");
    assert_int_equal(s->hdr.cut, T2000 + 185 * 60); /* 23:05 */
    assert_int_equal(s->hdr.n_summary, 13);
    assert_int_equal(s->hdr.summary_line, 5);
    assert_string_equal(prep_actas_header_value(&s->hdr, 2), "1");
    assert_string_equal(prep_actas_header_value(&s->hdr, 12), "86.1538");

    check_row_b(s, &s->v[0]);
    assert_int_equal(s->v[0].line, 8);

    const prep_acta *e = &s->v[1];
    assert_string_equal(e->clave_casilla, "220200E0101");
    assert_int_equal(e->ext_contigua, 1);
    assert_int_equal(e->tipo_casilla, 'E');
    assert_int_equal(e->urban, 2);
    assert_int_equal(e->boletas_sobrantes, PREP_ACTA_V_SIN_DATO);
    assert_int_equal(e->acopio, T2000 + 120 * 60);       /* 22:00, DD/MM/YYYY HH:MM */
    assert_int_equal(e->verificacion, T2000 + 127 * 60); /* 22:07 */
    assert_int_equal(e->cotejada, -1);
    assert_int_equal(e->status, PREP_ACTA_COUNTED);
    assert_int_equal(e->total_calculado, 160);
    assert_string_equal(e->mecanismo, "");
    assert_string_equal(e->sha, "");
    const int32_t *v = prep_acta_votes(s, e);
    assert_int_equal(v[5], PREP_ACTA_V_NA);
    assert_int_equal(v[6], 7);

    const prep_acta *n = &s->v[2];
    assert_int_equal(n->no_acta, PREP_ACTA_NO_ACTA_NOT_DELIVERED);
    assert_int_equal(n->status, PREP_ACTA_NC_NO_ACTA);
    assert_int_equal(n->total_calculado, 0);
    assert_int_equal(n->boletas_sobrantes, PREP_ACTA_V_NONE);
    assert_int_equal(n->acopio, PREP_TIME_NONE);
    v = prep_acta_votes(s, n);
    assert_int_equal(v[0], PREP_ACTA_V_NONE); /* applies in district 1: not captured */
    assert_int_equal(v[6], PREP_ACTA_V_NA);   /* CAND_IND_1 does not apply there */

    const prep_acta *o = &s->v[3];
    assert_int_equal(o->casilla, PREP_CAT_NONE);
    assert_int_equal(o->status, PREP_ACTA_NC_OUT_OF_CATALOG);
    assert_int_equal(o->section_id, 999);
    assert_int_equal(o->lista_nominal, 321); /* as read: no catalogue casilla to take it from */
    assert_int_equal(o->representatives, 3);
    assert_int_equal(o->total_calculado, 42); /* 10+10+10+5+5+0+0+2 */
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

static void test_comma_no_block(void **st)
{
    (void)st;
    /* INE 2024 style: ',' and no sep= line, no header block; a quoted name with a comma */
    const char *const named[NF] = {
        "220100B0100", "220100B010002", "22", "QUERÉTARO", "1", "\"DISTRITO 01, CENTRO\"", "14", "Querétaro", "100",
        "1", "B", "0", "1", "2", "100", "400", "10", "400", "100", "80", "20", "150", "30", "5", "-", "0", "15", "400",
        "400", "500", "10", "", "1", "F", SHA1, "2021-06-06 21:00:00", "2021-06-06 21:10:00", "2021-06-06 21:15:00",
        "CATD", "ESCANER", "ACTA PREP", "1"};
    prep_buf b;
    prep_buf_init(&b, 0);
    add_row(&b, cols, ',', 0, NULL);
    add_row(&b, named, ',', 0, NULL);
    add_row(&b, row_e, ',', 0, NULL);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse_ok(b.data, b.len, &d);
    assert_int_equal(d.total, 0);
    assert_int_equal(s->sep, ',');
    assert_false(s->hdr.present);
    assert_null(prep_actas_header_value(&s->hdr, 0));
    assert_int_equal(s->n, 2);
    check_row_b(s, &s->v[0]);
    assert_int_equal(s->v[0].line, 2);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

static void test_latin1(void **st)
{
    (void)st;
    /* Latin-1 bytes: 0xD3 = Ó, 0xC9 = É, 0xF3 = ó (not valid UTF-8: converted) */
    const char *const l1[NF] = {
        "=\"220100B0100\"", "220100B010002", "22", "QUER\xC9TARO", "1", "DISTRITO 01", "14", "Quer\xE9taro", "100",
        "1", "B", "0", "1", "2", "100", "400", "10", "400", "100", "80", "20", "150", "30", "5", "-", "0", "15", "400",
        "400", "500", "10", "", "1", "F", SHA1, "2021-06-06 21:00:00", "2021-06-06 21:10:00", "2021-06-06 21:15:00",
        "CATD", "ESCANER", "Representaci\xF3n de Acta", "1"};
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_puts(&b, "sep=|\nDIPUTACI\xD3N LOCAL\n2021/06/06 23:05 (UTC-5)\n"
                      "ACTAS_ESPERADAS|ACTAS_REGISTRADAS\n6|1\n\n");
    add_row(&b, cols, '|', 0, NULL);
    add_row(&b, l1, '|', 0, NULL);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse_ok(b.data, b.len, &d);
    assert_int_equal(s->latin1, 1);
    assert_string_equal(s->hdr.election_name, "DIPUTACI\xC3\x93N LOCAL");
    assert_int_equal(s->hdr.cut, T2000 + 185 * 60); /* QROO 2019's YYYY/MM/DD form */
    assert_int_equal(s->n, 1);
    assert_string_equal(s->v[0].tipo_documento, "Representaci\xC3\xB3n de Acta");
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

static void test_bom_crlf(void **st)
{
    (void)st;
    prep_buf b, t;
    prep_buf_init(&b, 0);
    prep_buf_init(&t, 0);
    prep_buf_puts(&t, block);
    add_row(&t, cols, '|', 0, NULL);
    add_row(&t, row_b, '|', 42, "2"); /* COTEJADA 2, the last field: a stray \r would break it */
    prep_buf_puts(&b, "\xEF\xBB\xBF");
    for (size_t i = 0; i < t.len; i++) {
        if (t.data[i] == '\n') prep_buf_putc(&b, '\r');
        prep_buf_putc(&b, t.data[i]);
    }
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse_ok(b.data, b.len, &d);
    assert_int_equal(d.total, 0);
    assert_int_equal(s->latin1, 0);
    assert_true(s->hdr.present);
    assert_string_equal(s->hdr.election_name, "DIPUTACIONES LOCALES");
    assert_int_equal(s->n, 1);
    assert_int_equal(s->v[0].cotejada, 2);
    assert_int_equal(s->v[0].line, 8);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
    prep_buf_free(&t);
}

/* As a spreadsheet or a data tool writes the same file: every number column as floats
 * (pandas writes 100.0 when a column has an empty row; the keys and SHA stay text), dates
 * on a 12-hour clock, and the whole as UTF-16LE "Unicode text" with its byte-order mark.
 * The acta reads as row_b does. */
static void test_spreadsheet_exports(void **st)
{
    (void)st;
    const char *row[NF];
    char keep[NF][48];
    for (int i = 0; i < NF; i++) {
        row[i] = row_b[i];
        int digits = row_b[i][0] != 0;
        for (const char *q = row_b[i]; *q; q++) digits &= *q >= '0' && *q <= '9';
        if (digits && i > 1) { /* not CLAVE_CASILLA, CLAVE_ACTA */
            snprintf(keep[i], sizeof keep[i], "%s.0", row_b[i]);
            row[i] = keep[i];
        }
    }
    row[35] = "06/06/2021 09:00:00 p. m.";
    row[36] = "6/6/2021 9:10 PM";
    row[37] = "06/06/2021 09:15 pm";
    prep_buf t, u;
    prep_buf_init(&t, 0);
    prep_buf_init(&u, 0);
    prep_buf_puts(&t, block);
    add_row(&t, cols, '|', 0, NULL);
    add_row(&t, row, '|', 0, NULL);
    prep_buf_puts(&u, "\xFF\xFE");
    for (size_t i = 0; i < t.len;) { /* UTF-8 to UTF-16LE (the file has no character above U+FFFF) */
        unsigned char c = (unsigned char)t.data[i];
        unsigned cp = c < 0x80 ? c : c < 0xE0 ? (c & 0x1Fu) << 6 | (t.data[i + 1] & 0x3F)
                                              : (c & 0x0Fu) << 12 | (t.data[i + 1] & 0x3Fu) << 6 | (t.data[i + 2] & 0x3F);
        i += c < 0x80 ? 1 : c < 0xE0 ? 2 : 3;
        prep_buf_putc(&u, (char)(cp & 0xFF));
        prep_buf_putc(&u, (char)(cp >> 8));
    }
    for (int enc = 0; enc < 2; enc++) {
        prep_diags d;
        prep_diags_init(&d);
        prep_actas *s = enc ? parse_ok(u.data, u.len, &d) : parse_ok(t.data, t.len, &d);
        assert_int_equal(d.total, 0);
        assert_int_equal(s->n, 1);
        check_row_b(s, &s->v[0]);
        prep_actas_free(s);
        prep_diags_free(&d);
    }
    /* a UTF-16 mark on text that is not UTF-16 (an odd length) is refused, named */
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = NULL;
    assert_int_equal(prep_actas_parse("u.csv", u.data, u.len - 1, cat, 0, &s, &d), PREP_ERR_PARSE);
    assert_null(s);
    assert_string_equal(d.v[0].kind, "bad-encoding");
    prep_diags_free(&d);
    /* a spreadsheet's two decimals (Sonora 2021 saved with a number format: 7.00) read the
     * same; three zeros are a thousands point (test_malformed_rows: 1.000) */
    char two[NF][48];
    for (int i = 0; i < NF; i++)
        if (row[i] == keep[i]) {
            snprintf(two[i], sizeof two[i], "%s.00", row_b[i]);
            row[i] = two[i];
        }
    prep_buf_reset(&t);
    prep_buf_puts(&t, block);
    add_row(&t, cols, '|', 0, NULL);
    add_row(&t, row, '|', 0, NULL);
    prep_diags_init(&d);
    s = parse_ok(t.data, t.len, &d);
    assert_int_equal(d.total, 0);
    assert_int_equal(s->n, 1);
    check_row_b(s, &s->v[0]);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&t);
    prep_buf_free(&u);
}

static void test_ine_names(void **st)
{
    (void)st;
    /* INE 2018/2021 spellings: ID_ESTADO, *_FEDERAL, CODIGOS_* (ignored), independents
     * before the combinations, CAND_IND_01, combinations without the C_ prefix, columns
     * in another order, Ilegible / Sin dato in mixed case, "-" keys out of catalogue. */
    const char *text =
        "sep=|\n"
        "DIPUTACIONES LOCALES\n"
        "06/06/2021 23:05 (UTC-5)\n"
        "ACTAS_ESPERADAS|ACTAS_REGISTRADAS|ACTAS_FUERA_DE_CATALOGO|PORCENTAJE_ACTAS_CON_INCONSISTENCIAS\n"
        "6|2|1|16.6666\n"
        "\n"
        "CLAVE_CASILLA|CLAVE_ACTA|ID_ESTADO|ESTADO|ID_DISTRITO_FEDERAL|DISTRITO_FEDERAL|SECCION|ID_CASILLA|"
        "TIPO_CASILLA|EXT_CONTIGUA|UBICACION_CASILLA|TIPO_ACTA|TOTAL_BOLETAS_SOBRANTES|TOTAL_PERSONAS_VOTARON|"
        "TOTAL_REP_PARTIDO_CI_VOTARON|TOTAL_VOTOS_SACADOS|CODIGOS_ENTREGADOS_PMDC|CODIGOS_SOBRANTES|CODIGOS_UTILIZADOS|"
        "PAN|PRI|PRD|MORENA|PT|CAND_IND_01|MORENA_PT|NO_REGISTRADOS|NULOS|TOTAL_VOTOS_ASENTADO|TOTAL_VOTOS_CALCULADO|"
        "LISTA_NOMINAL|REPRESENTANTES_PP_CI|OBSERVACIONES|CONTABILIZADA|MECANISMOS_TRASLADO|SHA|FECHA_HORA_ACOPIO|"
        "FECHA_HORA_CAPTURA|FECHA_HORA_VERIFICACION|ORIGEN|DIGITALIZACION|TIPO_DOCUMENTO|COTEJADA\n"
        "\"220100B0100\"|220100B010002|22|QUERETARO|1|DISTRITO 01|100|1|B|0|1|2|100|400|10|400|0|0|0|"
        "100|Ilegible|20|150|30|-|5|Sin dato|15|400|300|500|10|Ilegible|1|F|" SHA1 "|06/06/2021 21:00|"
        "06/06/2021 21:10|06/06/2021 21:15|CATD|ESCANER|Acta PREP|3\n"
        "-|-|22|QUERETARO|2|DISTRITO 02|0|0||0|0|-|0|0|0|0|0|0|0|1|2|3|4|5|6|-|0|0|21|21|0|0|Fuera de cat\xC3\xA1logo|"
        "0||||||CATD|ESCANER||\n"
        "=\"220200B0100\"|220200B010002|22|QUERETARO|2|DISTRITO 02|200|1|B|0|2|2|0|0|0|0|0|0|0|0|0|0|0|0|0|-|0|0|0|"
        "0|300|12|Sin Acta \xE2\x80\x93 Casilla no Instalada|0||||||CATD|ESCANER||\n";
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse_ok(text, strlen(text), &d);
    assert_int_equal(d.total, 0);
    assert_int_equal(s->n, 3);
    assert_string_equal(prep_actas_header_value(&s->hdr, 2), "1");        /* ACTAS_FUERA_DE_CATALOGO */
    assert_string_equal(prep_actas_header_value(&s->hdr, 7), "16.6666");  /* ..._CON_INCONSISTENCIAS */
    assert_null(prep_actas_header_value(&s->hdr, 12));
    const prep_acta *a = &s->v[0];
    const int32_t *v = prep_acta_votes(s, a);
    assert_int_equal(v[0], 100);
    assert_int_equal(v[1], PREP_ACTA_V_ILEGIBLE);
    assert_int_equal(v[5], 5);               /* MORENA_PT -> C_MORENA_PT */
    assert_int_equal(v[6], PREP_ACTA_V_NA);       /* CAND_IND_01 -> CAND_IND_1 */
    assert_int_equal(v[7], PREP_ACTA_V_SIN_DATO);
    /* 100 + 20 + 150 + 30 + 5 + 15 = 320, two fields unreadable: counted with observation */
    assert_int_equal(a->total_calculado, 320);
    assert_int_equal(a->status, PREP_ACTA_COUNTED_SOME_ILLEGIBLE);
    assert_int_equal(a->cotejada, 3);
    assert_int_equal(a->municipality_id, 14); /* from the catalogue: the file has no municipality */
    const prep_acta *o = &s->v[1];
    assert_int_equal(o->casilla, PREP_CAT_NONE);
    assert_string_equal(o->clave_casilla, "");
    assert_string_equal(o->clave_acta, "");
    assert_int_equal(o->status, PREP_ACTA_NC_OUT_OF_CATALOG);
    assert_int_equal(o->total_calculado, 21); /* 1+2+3+4+5+6 */
    assert_int_equal(s->v[2].no_acta, PREP_ACTA_NO_ACTA_NOT_INSTALLED);
    assert_int_equal(s->v[2].status, PREP_ACTA_NC_NO_ACTA);
    prep_actas_free(s);
    prep_diags_free(&d);
}

/* The diag of a given line, or fail. */
static const prep_diag *diag_at(const prep_diags *d, long line)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].line == line) return &d->v[i];
    fail_msg("no diag on line %ld", line);
    return NULL;
}

static void expect(const prep_diags *d, long line, const char *kind, long col)
{
    const prep_diag *g = diag_at(d, line);
    if (strcmp(g->kind, kind) != 0 || g->col != col)
        fail_msg("line %ld: got %s col %ld (%s), want %s col %ld", line, g->kind, g->col, g->msg, kind, col);
}

/* The families of other institutes' files, each in one field of a good row: keys with
 * a leading apostrophe ('220100B0100, '220100B010002'), an ID_CASILLA that is an internal
 * serial (Querétaro 2018: 961), UBICACION_CASILLA written out, TIPO_ACTA with letters
 * (Sonora 2021: 2E, 3EMR), CONTABILIZADA 2 and '-', MECANISMOS_TRASLADO "F-I-D",
 * microsecond times (Campeche 2021); and a row of an acta not arrived yet (an early cut:
 * only the identity and LISTA_NOMINAL), which is skipped, not counted as bad. */
/* The cut line as institutes write it: each of these is 6 June 2021 23:05 (UTC-5), the
 * block's own "06/06/2021 23:05 (UTC-5)"; a line that holds no date and time is still
 * bad-cut-time. */
static void test_cut_lines(void **st)
{
    (void)st;
    static const char *const forms[] = {
        "06/06/2021 23:05 (UTC-5)", "06/06/2021 23:05 hrs", "06/06/2021 23:05 horas (Tiempo del Centro)",
        "6 de junio de 2021 23:05", "\"6 de Junio de 2021, 11:05 p. m. (UTC-5)\"", "23:05 06/06/2021",
        "Corte: 06/06/2021 23:05 hrs.", "06-06-2021 23:05", "2021-06-06 23:05:00", "06/06/21 23:05",
        "Fecha y hora de corte: 6 de junio de 2021 a las 10:05 p.m. (UTC-6)"};
    for (size_t f = 0; f < PREP_ARRAY_LEN(forms); f++) {
        prep_buf b;
        prep_buf_init(&b, 0);
        prep_buf_printf(&b, "sep=|\nDIPUTACIONES LOCALES\n%s\n%s", forms[f], strstr(block, "ACTAS_ESPERADAS"));
        add_row(&b, cols, '|', 0, NULL);
        add_row(&b, row_b, '|', 0, NULL);
        prep_diags d;
        prep_diags_init(&d);
        prep_actas *s = parse_ok(b.data, b.len, &d);
        if (s->hdr.cut != T2000 + 3 * 3600 + 5 * 60) fprintf(stderr, "cut line '%s'\n", forms[f]);
        assert_int_equal(s->hdr.cut, T2000 + 3 * 3600 + 5 * 60);
        assert_int_equal(d.total, 0);
        prep_actas_free(s);
        prep_diags_free(&d);
        prep_buf_free(&b);
    }
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_printf(&b, "sep=|\nDIPUTACIONES LOCALES\n%s\n%s", "Corte de las 23 horas", strstr(block, "ACTAS_ESPERADAS"));
    add_row(&b, cols, '|', 0, NULL);
    add_row(&b, row_b, '|', 0, NULL);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse_ok(b.data, b.len, &d);
    assert_int_equal(s->hdr.cut, PREP_TIME_NONE);
    expect(&d, 3, "bad-cut-time", 1);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

static void test_other_families(void **st)
{
    (void)st;
    static const struct {
        int field;
        const char *value;
    } cases[] = {
        {1, "'220100B0100"}, {2, "'220100B010002'"}, {10, "961"},  {13, "URBANA"},
        {14, "2E"},          {14, "3EMR"},           {33, "2"},    {33, "-"},
        {34, "F-I-D"},       {36, "2021-06-06 21:00:00.000000"},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(cases); i++) {
        prep_buf b;
        prep_buf_init(&b, 0);
        prep_buf_puts(&b, block);
        add_row(&b, cols, '|', 0, NULL);
        add_row(&b, row_b, '|', cases[i].field, cases[i].value);
        prep_diags d;
        prep_diags_init(&d);
        prep_actas *s = parse_ok(b.data, b.len, &d);
        if (d.total) {
            prep_diags_print(&d, stderr, 5);
            fail_msg("case %zu: field %d '%s' gave a diag", i, cases[i].field, cases[i].value);
        }
        assert_int_equal(s->n, 1);
        if (cases[i].field == 34) {
            assert_string_equal(s->v[0].mecanismo, "F-I-D");
            strcpy(s->v[0].mecanismo, "F"); /* the rest as row_b */
        }
        check_row_b(s, &s->v[0]);
        prep_actas_free(s);
        prep_diags_free(&d);
        prep_buf_free(&b);
    }
    /* a row of an acta not arrived: identity and LISTA_NOMINAL only */
    static const char *pending[NF];
    for (int i = 0; i < NF; i++) pending[i] = i < 14 || i == 29 ? row_b[i] : "";
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_puts(&b, block);
    add_row(&b, cols, '|', 0, NULL);
    add_row(&b, pending, '|', 0, NULL);
    add_row(&b, row_e, '|', 0, NULL);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse_ok(b.data, b.len, &d);
    assert_int_equal(d.total, 0);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->rows_pending, 1);
    assert_int_equal(s->rows_bad, 0);
    assert_int_equal(s->rows_read, 2);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

/* A split section (catalog.h): mini.cat with section 100 also in district 2, its básica
 * with an acta in each part (lista nominal 500 in district 1, 40 in district 2). A row
 * goes to the part its ID_DISTRITO_LOCAL names; a row that names no district (both parts
 * are in municipality 14) cannot say which: split-section, left out; one naming a district
 * with no part of the section is refused by the check of the identity columns. */
static void test_split_section(void **st)
{
    (void)st;
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(prep_read_file(PREP_TEST_DATA "/actas/mini.cat", 0, &text, &len), PREP_OK);
    prep_buf c;
    prep_buf_init(&c, 0);
    const char *a = strstr(text, "[sections]"), *b = strstr(text, "[elections]");
    assert_non_null(a);
    assert_non_null(b);
    prep_buf_append(&c, text, (size_t)(a - text));
    prep_buf_puts(&c, "[sections]\nid|district|municipality\n100|1|14\n100|2|14\n200|2|14\n\n"
                      "[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots|district|"
                      "municipality\n100|B|1|0|1|500|10|0|1|14\n100|B|1|0|1|40|12|0|2|14\n200|B|1|0|2|300|12|0||\n\n");
    prep_buf_puts(&c, b);
    free(text);
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *sc = NULL;
    prep_err e = prep_catalog_parse("split.cat", c.data, c.len, &sc, &d);
    if (e) prep_diags_print(&d, stderr, 20);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
    prep_buf_free(&c);
    uint32_t k1 = prep_catalog_find_casilla(sc, "220100B0100"), k2 = prep_catalog_casilla_part(sc, k1, 2, 0, NULL);
    assert_int_not_equal(k2, PREP_CAT_NONE);
    assert_int_not_equal(k1, k2);

    /* district 2's ballot: no coalition there, the independent runs (row_e's votes) */
    static const char *const row_b2[NF] = {
        "220100B0100", "220100B010002", "22", "QUERÉTARO", "2", "DISTRITO 02", "14", "Querétaro", "100", "1",
        "B", "0", "1", "2", "0", "30", "0", "30", "10", "5", "5", "3", "2", "-", "1", "0", "4", "30", "30",
        "40", "12", "", "1", "", "", "2021-06-06 22:00:00", "2021-06-06 22:05:00", "2021-06-06 22:07:00", "CATD",
        "ESCANER", "ACTA PREP", ""};
    prep_buf t;
    prep_buf_init(&t, 0);
    prep_buf_puts(&t, block);          /* lines 1-6 */
    add_row(&t, cols, '|', 0, NULL);   /* line 7 */
    add_row(&t, row_b, '|', 0, NULL);  /* line 8: district 1, the first part */
    add_row(&t, row_b2, '|', 0, NULL); /* line 9: district 2, the second part */
    add_row(&t, row_b2, '|', 5, "");   /* line 10: no district: which part? */
    add_row(&t, row_b, '|', 5, "3");   /* line 11: district 3 has no part of section 100 */
    prep_diags_init(&d);
    prep_actas *s = NULL;
    assert_int_equal(prep_actas_parse("t.csv", t.data, t.len, sc, 0, &s, &d), PREP_OK);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->v[0].casilla, k1);
    assert_int_equal(s->v[1].casilla, k2);
    assert_int_equal(s->v[1].line, 9);
    expect(&d, 10, "split-section", 1);
    const prep_diag *g = diag_at(&d, 11);
    assert_string_equal(g->kind, "key-mismatch");
    /* as election night writes captures and reads them back: each in its part */
    prep_buf w;
    prep_buf_init(&w, 0);
    assert_int_equal(prep_actas_write_columns(sc, 0, &w), PREP_OK);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(prep_actas_write_row(sc, 0, &s->v[i], prep_acta_votes(s, &s->v[i]), &w), PREP_OK);
    prep_diags_free(&d);
    prep_diags_init(&d);
    prep_actas *back = NULL;
    assert_int_equal(prep_actas_parse("w.csv", w.data, w.len, sc, 0, &back, &d), PREP_OK);
    assert_int_equal(d.total, 0);
    assert_int_equal(back->n, 2);
    assert_int_equal(back->v[0].casilla, k1);
    assert_int_equal(back->v[1].casilla, k2);
    prep_actas_free(back);
    prep_buf_free(&w);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&t);
    prep_catalog_free(sc);
}

static void test_malformed_rows(void **st)
{
    (void)st;
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_puts(&b, block);    /* lines 1-6 */
    add_row(&b, cols, '|', 0, NULL); /* line 7 */
    static const struct {
        int field;
        const char *value;
        const char *kind;
        long col;
    } cases[] = {
        {19, "12a", "bad-vote", 19},              /* PAN not a number */
        {19, "-", "missing-value", 19},           /* PAN is on the ballot of district 1 */
        {25, "7", "not-applicable", 25},          /* CAND_IND_1 is not on district 1's ballot */
        {15, "-5", "bad-vote", 15},               /* TOTAL_BOLETAS_SOBRANTES */
        {28, "1.5", "bad-vote", 28},              /* TOTAL_VOTOS_ASENTADO */
        {19, "1.000", "bad-vote", 19},            /* a thousands point is never a float's 1.0 */
        {19, "12.50", "bad-vote", 19},            /* a fraction (12.00 is 12: test_float_votes) */
        {30, "500.5", "bad-number", 30},          /* LISTA_NOMINAL */
        {30, "1.000", "bad-number", 30},
        {33, "1.5", "bad-value", 33},             /* CONTABILIZADA */
        {33, "3.0", "bad-value", 33},
        {36, "2021-13-40 25:00", "bad-time", 36}, /* FECHA_HORA_ACOPIO */
        {38, "ayer", "bad-time", 38},             /* FECHA_HORA_VERIFICACION */
        {35, "xyz", "bad-sha", 35},
        {1, "=\"22*100B0100\"", "bad-key", 1},
        {1, "=\"220100B01000000000000000000\"", "bad-key", 1},
        {9, "101", "key-mismatch", 9},            /* SECCION disagrees with CLAVE_CASILLA */
        {11, "C", "key-mismatch", 11},            /* TIPO_CASILLA disagrees */
        {11, "BB", "bad-value", 11},
        {5, "2", "key-mismatch", 5},              /* ID_DISTRITO_LOCAL disagrees */
        {30, "abc", "bad-number", 30},            /* LISTA_NOMINAL */
        {33, "3", "bad-value", 33},               /* CONTABILIZADA: 0, 1, 2, - or empty */
        {42, "7", "bad-value", 42},               /* COTEJADA */
        {14, "x", "bad-number", 14},              /* TIPO_ACTA */
        {39, "ORIGEN MUY LARGO", "bad-value", 39},
    };
    size_t nc = sizeof cases / sizeof cases[0];
    long line = 8;
    for (size_t i = 0; i < nc; i++, line += 2) {
        add_row(&b, row_b, '|', cases[i].field, cases[i].value); /* bad */
        add_row(&b, row_e, '|', 0, NULL);                                                    /* good */
    }
    /* too few and too many fields */
    long l_few = line++, l_many = line++, l_long = line++;
    prep_buf_puts(&b, "=\"220100B0100\"|220100B010002|22\n");
    add_row(&b, row_b, '|', 42, "1|extra");
    prep_buf_puts(&b, "=\"220100B0100\"|");
    for (int i = 0; i < PREP_ACTAS_MAX_LINE; i++) prep_buf_putc(&b, 'x');
    prep_buf_putc(&b, '\n');
    /* accepted: 0 and SIN DATO where the column is not on the ballot (QROO 2019 prints
     * every combination); a blank line and a line of separators only are skipped */
    long l_zero = line++;
    add_row(&b, row_e, '|', 24, "0");
    add_row(&b, row_e, '|', 24, "SIN DATO");
    prep_buf_puts(&b, "\n||||\n");
    line += 3;
    long l_three = line++;
    add_row(&b, row_e, '|', 24, "3"); /* a vote where it does not apply: not accepted */

    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse_ok(b.data, b.len, &d);
    line = 8;
    for (size_t i = 0; i < nc; i++, line += 2) expect(&d, line, cases[i].kind, cases[i].col);
    expect(&d, l_few, "field-count", 4); /* 3 fields: the 4th is the first missing */
    expect(&d, l_many, "field-count", 43);
    expect(&d, l_long, "line-too-long", 0);
    expect(&d, l_three, "not-applicable", 24);
    size_t bad = nc + 4;
    assert_int_equal(d.total, bad);
    assert_int_equal(s->rows_bad, bad);
    /* every good row was kept: nc + the two accepted ones */
    assert_int_equal(s->n, nc + 2);
    assert_int_equal(s->rows_read, nc * 2 + 3 + 3);
    for (size_t i = 0; i < nc; i++) assert_int_equal(s->v[i].line, 9 + 2 * i);
    assert_int_equal(s->v[nc].line, l_zero);
    assert_int_equal(prep_acta_votes(s, &s->v[nc])[5], PREP_ACTA_V_NA);
    assert_int_equal(prep_acta_votes(s, &s->v[nc + 1])[5], PREP_ACTA_V_NA);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

static void expect_fatal(const char *text, prep_err want, const char *kind, long line, long col)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = (prep_actas *)1;
    prep_err e = prep_actas_parse("h.csv", text, strlen(text), cat, 0, &s, &d);
    assert_int_equal(e, want);
    assert_null(s);
    const prep_diag *g = prep_diags_find(&d, kind);
    if (!g) {
        prep_diags_print(&d, stderr, 10);
        fail_msg("no %s diag", kind);
    }
    assert_int_equal(g->line, line);
    assert_int_equal(g->col, col);
    prep_diags_free(&d);
}

static void test_unusable_headers(void **st)
{
    (void)st;
    prep_buf b;
    prep_buf_init(&b, 0);
    /* a column that is neither an acta field nor a vote column: PES is no party here */
    const char *pre = "sep=|\n";
    prep_buf_puts(&b, pre);
    for (int i = 0; i < NF; i++) prep_buf_printf(&b, "%s%s", i ? "|" : "", i == 20 ? "PES" : cols[i]);
    prep_buf_putc(&b, '\n');
    expect_fatal(b.data, PREP_ERR_INVALID, "unknown-column", 2, 21);
    /* a vote column missing: NULOS dropped */
    prep_buf_reset(&b);
    for (int i = 0; i < NF; i++)
        if (i != 26) prep_buf_printf(&b, "%s%s", i ? "|" : "", cols[i]);
    prep_buf_putc(&b, '\n');
    expect_fatal(b.data, PREP_ERR_INVALID, "missing-column", 1, 0);
    /* a column twice: ID_ESTADO and ID_ENTIDAD are the same field */
    prep_buf_reset(&b);
    for (int i = 0; i < NF; i++) prep_buf_printf(&b, "%s%s", i ? "|" : "", cols[i]);
    prep_buf_puts(&b, "|ID_ESTADO\n");
    expect_fatal(b.data, PREP_ERR_INVALID, "duplicate-column", 1, 43);
    /* no column header at all */
    expect_fatal("sep=|\nDIPUTACIONES\n\n1|2|3\n", PREP_ERR_PARSE, "no-header", 4, 0);
    /* a bad separator line */
    expect_fatal("sep=#\nCLAVE_CASILLA\n", PREP_ERR_PARSE, "bad-separator", 1, 5);
    prep_buf_free(&b);
}

static void test_header_block_problems(void **st)
{
    (void)st;
    /* three lines before the header (no values line) and a cut that is no date: reported,
     * the rows are still read */
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_puts(&b, "DIPUTACIONES LOCALES\nayer a las ocho\nACTAS_ESPERADAS|ACTAS_REGISTRADAS\n");
    add_row(&b, cols, '|', 0, NULL);
    add_row(&b, row_b, '|', 0, NULL);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse_ok(b.data, b.len, &d);
    const prep_diag *g = prep_diags_find(&d, "bad-header-block");
    assert_non_null(g);
    assert_int_equal(g->line, 1);
    g = prep_diags_find(&d, "bad-cut-time");
    assert_non_null(g);
    assert_int_equal(g->line, 2);
    assert_int_equal(g->col, 1);
    assert_int_equal(s->hdr.cut, PREP_TIME_NONE);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->rows_bad, 0);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

static void same_acta(const prep_actas *s1, const prep_acta *a, const prep_actas *s2, const prep_acta *b)
{
    assert_int_equal(a->casilla, b->casilla);
    assert_string_equal(a->clave_casilla, b->clave_casilla);
    assert_string_equal(a->clave_acta, b->clave_acta);
    assert_int_equal(a->section_id, b->section_id);
    assert_int_equal(a->district_id, b->district_id);
    assert_int_equal(a->municipality_id, b->municipality_id);
    assert_int_equal(a->tipo_casilla, b->tipo_casilla);
    assert_int_equal(a->id_casilla, b->id_casilla);
    assert_int_equal(a->ext_contigua, b->ext_contigua);
    assert_int_equal(a->urban, b->urban);
    assert_int_equal(a->boletas_sobrantes, b->boletas_sobrantes);
    assert_int_equal(a->personas_votaron, b->personas_votaron);
    assert_int_equal(a->rep_votaron, b->rep_votaron);
    assert_int_equal(a->votos_sacados, b->votos_sacados);
    assert_int_equal(a->total_asentado, b->total_asentado);
    assert_int_equal(a->total_calculado, b->total_calculado);
    assert_int_equal(a->lista_nominal, b->lista_nominal);
    assert_int_equal(a->representatives, b->representatives);
    assert_int_equal(a->no_acta, b->no_acta);
    assert_int_equal(a->status, b->status);
    assert_string_equal(a->mecanismo, b->mecanismo);
    assert_string_equal(a->sha, b->sha);
    assert_int_equal(a->acopio, b->acopio);
    assert_int_equal(a->captura, b->captura);
    assert_int_equal(a->verificacion, b->verificacion);
    assert_string_equal(a->origen, b->origen);
    assert_string_equal(a->digitalizacion, b->digitalizacion);
    assert_string_equal(a->tipo_documento, b->tipo_documento);
    assert_int_equal(a->cotejada, b->cotejada);
    const int32_t *va = prep_acta_votes(s1, a), *vb = prep_acta_votes(s2, b);
    for (uint32_t j = 0; j < cat->elections[0].n_cols; j++) assert_int_equal(va[j], vb[j]);
}

static void write_set(const prep_actas *s, prep_buf *out)
{
    prep_summary sum = {.esperadas = 6, .registradas = 4, .fuera_catalogo = 1, .capturadas = 3,
                        .contabilizadas = 2, .no_contabilizadas = 1, .lista_nominal = 650,
                        .votos_c_cs = 560, .votos_s_cs = 560, .final_cut = 0};
    assert_int_equal(prep_actas_write_header_block(cat, 0, T2000 + 185 * 60, &sum, out), PREP_OK);
    assert_int_equal(prep_actas_write_columns(cat, 0, out), PREP_OK);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(prep_actas_write_row(cat, 0, &s->v[i], prep_acta_votes(s, &s->v[i]), out), PREP_OK);
}

static void test_round_trip(void **st)
{
    (void)st;
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_puts(&b, block);
    add_row(&b, cols, '|', 0, NULL);
    add_four(&b);
    add_row(&b, row_b, '|', 20, "ILEGIBLE"); /* a correction of the first acta, later in the file */
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s1 = parse_ok(b.data, b.len, &d);
    prep_buf w1, w2;
    prep_buf_init(&w1, 0);
    prep_buf_init(&w2, 0);
    write_set(s1, &w1);
    prep_actas *s2 = parse_ok(w1.data, w1.len, &d);
    assert_int_equal(d.total, 0);
    assert_int_equal(s2->n, s1->n);
    for (size_t i = 0; i < s1->n; i++) same_acta(s1, &s1->v[i], s2, &s2->v[i]);
    assert_string_equal(s2->hdr.cut_text, "06/06/2021 23:05 (UTC-5)");
    assert_string_equal(prep_actas_header_value(&s2->hdr, 12), "86.1538"); /* 560e6 / 650 = 861538 r 300 */
    /* written again: the same bytes */
    write_set(s2, &w2);
    assert_int_equal(w1.len, w2.len);
    assert_memory_equal(w1.data, w2.data, w1.len);
    prep_actas_free(s1);
    prep_actas_free(s2);
    prep_diags_free(&d);
    prep_buf_free(&b);
    prep_buf_free(&w1);
    prep_buf_free(&w2);
}

static void test_written_text(void **st)
{
    (void)st;
    prep_buf b;
    prep_buf_init(&b, 0);
    add_row(&b, cols, '|', 0, NULL);
    add_row(&b, row_b, '|', 20, "ILEGIBLE");
    add_row(&b, row_nc, '|', 0, NULL);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse_ok(b.data, b.len, &d);
    prep_buf w;
    prep_buf_init(&w, 0);
    prep_summary sum = {.esperadas = 6, .registradas = 2, .capturadas = 2, .contabilizadas = 1,
                        .no_contabilizadas = 1, .inconsistentes = 1, .lista_nominal = 500,
                        .votos_c_cs = 320, .votos_s_cs = 320};
    assert_int_equal(prep_actas_write_header_block(cat, 0, T2000 + 185 * 60, &sum, &w), PREP_OK);
    /* 2/6 = 33.3333; 1/6 = 16.6666; 320/500 = 64.0000 */
    assert_string_equal(w.data, "sep=|\nDIPUTACIONES LOCALES\n06/06/2021 23:05 (UTC-5)\n"
                                "ACTAS_ESPERADAS|ACTAS_REGISTRADAS|ACTAS_FUERA_CATALOGO|ACTAS_CAPTURADAS|"
                                "PORCENTAJE_ACTAS_CAPTURADAS|ACTAS_CONTABILIZADAS|PORCENTAJE_ACTAS_CONTABILIZADAS|"
                                "PORCENTAJE_ACTAS_INCONSISTENCIAS|ACTAS_NO_CONTABILIZADAS|"
                                "LISTA_NOMINAL_ACTAS_CONTABILIZADAS|TOTAL_VOTOS_C_CS|TOTAL_VOTOS_S_CS|"
                                "PORCENTAJE_PARTICIPACION_CIUDADANA\n"
                                "6|2|0|2|33.3333|1|16.6666|16.6666|1|500|320|320|64.0000\n\n");
    prep_buf_reset(&w);
    assert_int_equal(prep_actas_write_row(cat, 0, &s->v[0], prep_acta_votes(s, &s->v[0]), &w), PREP_OK);
    /* PRI ILEGIBLE: 100+20+150+30+5+0+15 = 320 */
    assert_string_equal(w.data, "=\"220100B0100\"|220100B010002|22|QUERÉTARO|1|DISTRITO 01|14|Querétaro|100|1|B|0|"
                                "1|2|100|400|10|400|100|ILEGIBLE|20|150|30|5|-|0|15|400|320|500|10|"
                                "ALGUN DATO ILEGIBLE O SIN DATO|1|F|" SHA1 "|2021-06-06 21:00:00|"
                                "2021-06-06 21:10:00|2021-06-06 21:15:00|CATD|ESCANER|ACTA PREP|1\n");
    prep_buf_reset(&w);
    assert_int_equal(prep_actas_write_row(cat, 0, &s->v[1], prep_acta_votes(s, &s->v[1]), &w), PREP_OK);
    assert_string_equal(w.data, "=\"220100C0100\"|220100C010002|22|QUERÉTARO|1|DISTRITO 01|14|Querétaro|100|1|C|0|"
                                "1|2|0|0|0|0|0|0|0|0|0|0|-|0|0|0|0|500|10|SIN ACTA POR PAQUETE NO ENTREGADO|0|F||"
                                "|2021-06-07 01:00:00|2021-06-07 01:02:00|CATD|ESCANER||\n");
    /* a ',' catalogue quotes a field holding a comma */
    cat->csv_sep = ',';
    char *keep = cat->districts[0].name;
    cat->districts[0].name = "DISTRITO 01, CENTRO";
    prep_buf_reset(&w);
    assert_int_equal(prep_actas_write_row(cat, 0, &s->v[1], prep_acta_votes(s, &s->v[1]), &w), PREP_OK);
    assert_non_null(strstr(w.data, ",1,\"DISTRITO 01, CENTRO\",14,"));
    cat->districts[0].name = keep;
    cat->csv_sep = '|';
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
    prep_buf_free(&w);
}

/* prep_actas_capture_same: the same rows read from another file (another line each) say
 * the same; one field changed in one row makes that capture differ, and only it. */
static void test_capture_same(void **st)
{
    (void)st;
    prep_buf b;
    prep_buf_init(&b, 0);
    add_row(&b, cols, '|', 0, NULL);
    add_four(&b);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s1 = parse_ok(b.data, b.len, &d);
    assert_int_equal(s1->n, 4);
    /* the fields that differ between rows: votes, ballot accounting, reasons, the counted
     * flag, transfer, image hash, times, origin, document, cotejo */
    static const struct {
        int field;
        const char *value;
    } change[] = {{20, "81"}, {15, "99"}, {18, "399"}, {32, "ACTA NO CONTABILIZADA"}, {33, "0"}, {34, "D"},
                  {35, "ff73081e80ff64899e05a43f078c5f2d104b5458ff04560cd608ec120d9c9014"}, {36, "2021-06-06 21:01:00"}, {37, "2021-06-06 21:11:00"},
                  {38, "2021-06-06 21:16:00"}, {39, "CASILLA"}, {40, "MOVIL"}, {41, "RPP"}, {42, "2"}};
    for (size_t k = 0; k <= PREP_ARRAY_LEN(change); k++) {
        prep_buf c;
        prep_buf_init(&c, 0);
        add_row(&c, cols, '|', 0, NULL);
        add_row(&c, row_nc, '|', 0, NULL); /* a row more before: every line moves */
        add_row(&c, row_b, '|', k < PREP_ARRAY_LEN(change) ? change[k].field : 0,
                k < PREP_ARRAY_LEN(change) ? change[k].value : NULL);
        add_row(&c, row_e, '|', 0, NULL);
        add_row(&c, row_nc, '|', 0, NULL);
        add_row(&c, row_out, '|', 0, NULL);
        prep_actas *s2 = parse_ok(c.data, c.len, &d);
        assert_int_equal(s2->n, 5);
        assert_int_not_equal(s2->v[1].line, s1->v[0].line);
        /* s1's rows are s2's 1..4 */
        assert_int_equal(prep_actas_capture_same(s1, &s1->v[0], s2, &s2->v[1]), k == PREP_ARRAY_LEN(change));
        for (size_t i = 1; i < 4; i++) assert_true(prep_actas_capture_same(s1, &s1->v[i], s2, &s2->v[i + 1]));
        assert_true(prep_actas_capture_same(s1, &s1->v[2], s2, &s2->v[0])); /* row_nc twice */
        assert_false(prep_actas_capture_same(s1, &s1->v[1], s2, &s2->v[3])); /* another acta */
        prep_actas_free(s2);
        prep_buf_free(&c);
    }
    prep_actas_free(s1);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

static void test_append_and_new(void **st)
{
    (void)st;
    prep_actas *s = prep_actas_new(cat, 0);
    assert_non_null(s);
    prep_acta a;
    memset(&a, 0, sizeof a);
    a.casilla = prep_catalog_find_casilla(cat, "220100B0100");
    int32_t v[9] = {1, 2, 3, 4, 5, 6, PREP_ACTA_V_NA, 0, 1};
    for (int i = 0; i < 1000; i++) {
        v[0] = i;
        assert_int_equal(prep_actas_append(s, &a, v), PREP_OK);
    }
    assert_int_equal(s->n, 1000);
    assert_int_equal(prep_acta_votes(s, &s->v[999])[0], 999);
    assert_int_equal(prep_acta_votes(s, &s->v[500])[1], 2);
    assert_int_equal(s->v[999].votes_off, 999 * 9);
    prep_actas_free(s);
}

static void test_load_missing_file(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = NULL;
    assert_int_not_equal(prep_actas_load("/nonexistent/actas.csv", cat, 0, &s, &d), PREP_OK);
    assert_null(s);
    assert_non_null(prep_diags_find(&d, "io"));
    prep_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_file),
        cmocka_unit_test(test_capture_same),
        cmocka_unit_test(test_comma_no_block),
        cmocka_unit_test(test_latin1),
        cmocka_unit_test(test_bom_crlf),
        cmocka_unit_test(test_spreadsheet_exports),
        cmocka_unit_test(test_cut_lines),
        cmocka_unit_test(test_ine_names),
        cmocka_unit_test(test_malformed_rows),
        cmocka_unit_test(test_other_families),
        cmocka_unit_test(test_unusable_headers),
        cmocka_unit_test(test_header_block_problems),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_written_text),
        cmocka_unit_test(test_split_section),
        cmocka_unit_test(test_append_and_new),
        cmocka_unit_test(test_load_missing_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests of the actas reader on INE's federal layouts (LEEME INE 2018 and 2021,
 * ../shared/data/ine-20*-prep-dip-fed/LEEME.txt): their exact column lists are recognised
 * (ID_ESTADO, ESTADO, ID_DISTRITO_FEDERAL, DISTRITO_FEDERAL, CODIGOS_* in 2021,
 * CAND_IND_01 and the C_ prefix in 2018); the entity and district of each row are held
 * to the catalogue's casilla, a disagreement being a diag naming line, field and both
 * values; out-of-catalogue rows (CLAVE_CASILLA "-" in 2021, TIPO_ACTA 0 in 2018, even
 * with the key of an expected casilla; "null" identification fields) are read as such. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "prep/actas.h"

/* Entity 9 (Ciudad de México), two federal districts; the 2021 parties, the combinations
 * without prefix, independents first (INE 2021's column order). */
static const char *cat_text =
    "prep-catalog 1\n"
    "[process]\n"
    "id = ine-test\nname = Proceso Electoral Federal de prueba\ninstitute = Instituto de prueba\n"
    "entity_id = 9\nentity = CIUDAD DE MÉXICO\ntimezone = America/Mexico_City\n"
    "window_open = 2021-06-06 20:00\nwindow_close = 2021-06-07 20:00\ncut_interval = 300\n"
    "combo_prefix = \nindependents_first = yes\ncsv_separator = |\nparticipation_specials = final-only\n"
    "percent_decimals = 4\n"
    "\n[parties]\nid|name|color\n"
    "PAN|PAN|#0055A5\nPRI|PRI|#E30613\nPRD|PRD|#FFD200\nMORENA|MORENA|#B5261E\nPT|PT|#D71920\n"
    "\n[districts]\nid|name\n1|GUSTAVO A. MADERO\n2|GUSTAVO A. MADERO NORTE\n"
    "\n[municipalities]\nid|name\n1|MUNICIPIO NO INDICADO\n"
    "\n[sections]\nid|district|municipality\n107|1|1\n114|2|1\n"
    "\n[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots\n"
    "107|B|1|0|1|500|10|0\n107|S|1|0|1|0|10|1000\n114|B|1|0|2|300|10|0\n"
    "\n[elections]\nid|name|title|scope|acta_type|parties\n"
    "dip|DIPUTACIONES FEDERALES|Diputaciones federales|district|2|PAN PRI PRD MORENA PT\n"
    "\n[coalitions]\nelection|id|name|parties\ndip|JH|Juntos Hacemos Historia|MORENA PT\n"
    "\n[candidacies]\nelection|unit|contender|name\n"
    "dip|1|PAN|A\ndip|1|PRI|B\ndip|1|PRD|C\ndip|1|JH|D\n"
    "dip|2|PAN|E\ndip|2|PRI|F\ndip|2|PRD|G\ndip|2|JH|H\ndip|2|CAND_IND_1|I\n";

static prep_catalog *cat;

static int setup(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_catalog_parse("ine-test.cat", cat_text, strlen(cat_text), &cat, &d);
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

#define SHA1 "0973081e80ff64899e05a43f078c5f2d104b5458ff04560cd608ec120d9c9014"

/* INE 2021's columns exactly (LEEME 2021 C.b), this catalogue's vote columns. */
#define COLS21                                                                                                        \
    "CLAVE_CASILLA,CLAVE_ACTA,ID_ESTADO,ESTADO,ID_DISTRITO_FEDERAL,DISTRITO_FEDERAL,SECCION,ID_CASILLA,"              \
    "TIPO_CASILLA,EXT_CONTIGUA,UBICACION_CASILLA,TIPO_ACTA,TOTAL_BOLETAS_SOBRANTES,TOTAL_PERSONAS_VOTARON,"            \
    "TOTAL_REP_PARTIDO_CI_VOTARON,TOTAL_VOTOS_SACADOS,CODIGOS_ENTREGADOS_PMDC,CODIGOS_SOBRANTES,CODIGOS_UTILIZADOS,"  \
    "PAN,PRI,PRD,MORENA,PT,CAND_IND_1,MORENA_PT,NO_REGISTRADOS,NULOS,TOTAL_VOTOS_ASENTADO,TOTAL_VOTOS_CALCULADO,"     \
    "LISTA_NOMINAL,REPRESENTANTES_PP_CI,OBSERVACIONES,CONTABILIZADA,MECANISMOS_TRASLADO,SHA,FECHA_HORA_ACOPIO,"       \
    "FECHA_HORA_CAPTURA,FECHA_HORA_VERIFICACION,ORIGEN,DIGITALIZACION,TIPO_DOCUMENTO,COTEJADA\n"

#define BLOCK21                                                                                                       \
    "DIPUTACIONES FEDERALES\n07/06/2021 20:00 (UTC-5)\n"                                                               \
    "ACTAS_ESPERADAS,ACTAS_REGISTRADAS,ACTAS_FUERA_DE_CATALOGO\n3,3,1\n\n"

/* A good row of casilla 090107B0100 (district 1) with the given ID_ESTADO, ESTADO and
 * ID_DISTRITO_FEDERAL. 10+20+30+40+50+5+1+2 = 158 <= 500 + 10. */
#define ROW21_SHA(ent, ename, dis, sha)                                                                               \
    "090107B0100,090107B010002," ent "," ename "," dis ",GUSTAVO A. MADERO,107,1,B,0,1,2,342,158,3,158,-,-,-,"       \
    "10,20,30,40,50,-,5,1,2,158,158,500,10,,1,," sha ",06/06/2021 21:00:00,06/06/2021 21:10:00,"                      \
    "06/06/2021 21:15:00,CASILLA,MOVIL,Acta PREP,1\n"
#define ROW21(ent, ename, dis) ROW21_SHA(ent, ename, dis, SHA1)

static prep_actas *parse(const char *text, prep_diags *d)
{
    prep_actas *s = NULL;
    prep_err e = prep_actas_parse("f.csv", text, strlen(text), cat, 0, &s, d);
    if (e != PREP_OK) prep_diags_print(d, stderr, 20);
    assert_int_equal(e, PREP_OK);
    assert_non_null(s);
    return s;
}

static void expect_diag(const prep_diags *d, long line, const char *kind, long col, const char *in_msg)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].line == line) {
            if (strcmp(d->v[i].kind, kind) || d->v[i].col != col || !strstr(d->v[i].msg, in_msg))
                fail_msg("line %ld: got %s col %ld '%s', want %s col %ld with '%s'", line, d->v[i].kind,
                         d->v[i].col, d->v[i].msg, kind, col, in_msg);
            return;
        }
    fail_msg("no diag on line %ld", line);
}

static void test_columns_2021(void **st)
{
    (void)st;
    /* the block opens with the election then the cut (the LEEME shows only the cut line:
     * read too, test_columns_2018) */
    const char *text = BLOCK21 COLS21 ROW21("9", "CIUDAD DE MÉXICO", "1")
        /* out of catalogue (LEEME 2021: key and TIPO_ACTA "-"), its fields "-" */
        "-,-,9,CIUDAD DE MÉXICO,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,-,0,0,"
        "Fuera de catálogo,0,,,-,06/06/2021 23:00:00,-,CATD,ESCANER,,\n"
        /* a contigua of entity 14: not in this catalogue, so out of it (no error) */
        "140107C0100,140107C010002,14,JALISCO,1,TEQUILA,107,1,C,0,1,2,0,10,0,10,-,-,-,"
        "1,2,3,4,0,-,0,0,0,10,10,400,10,,1,,,,,,CATD,ESCANER,,\n";
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse(text, &d);
    if (d.total) prep_diags_print(&d, stderr, 20);
    assert_int_equal(d.total, 0);
    assert_int_equal(s->sep, ',');
    assert_string_equal(s->hdr.election_name, "DIPUTACIONES FEDERALES");
    assert_string_equal(s->hdr.cut_text, "07/06/2021 20:00 (UTC-5)");
    assert_int_equal(s->n, 3);
    const prep_acta *a = &s->v[0];
    assert_int_equal(a->casilla, prep_catalog_find_casilla(cat, "090107B0100"));
    assert_int_equal(a->district_id, 1);
    assert_int_equal(a->status, PREP_ACTA_COUNTED);
    assert_int_equal(a->total_calculado, 158);
    const int32_t *v = prep_acta_votes(s, a);
    /* catalogue order: PAN PRI PRD MORENA PT CAND_IND_1 MORENA_PT NO_REG NULOS */
    const int32_t want[9] = {10, 20, 30, 40, 50, PREP_ACTA_V_NA, 5, 1, 2};
    for (int j = 0; j < 9; j++) assert_int_equal(v[j], want[j]);
    assert_int_equal(s->v[1].casilla, PREP_CAT_NONE);
    assert_int_equal(s->v[1].status, PREP_ACTA_NC_OUT_OF_CATALOG);
    assert_int_equal(s->v[1].acopio, PREP_TIME_NONE); /* "-": no time */
    assert_int_equal(s->v[2].casilla, PREP_CAT_NONE);
    assert_int_equal(s->v[2].status, PREP_ACTA_NC_OUT_OF_CATALOG);
    prep_actas_free(s);
    prep_diags_free(&d);
}

static void test_columns_2018(void **st)
{
    (void)st;
    /* INE 2018's columns (LEEME 2018 C.b): C_ prefix, CAND_IND_01 after the combinations,
     * no CODIGOS_*, '|', Latin-1, CRLF; the block opens with the cut line. */
    const char *text =
        "02/07/2018 21:00 (UTC-5)\r\n"
        "ACTAS_ESPERADAS|ACTAS_REGISTRADAS|ACTAS_FUERA_DE_CATALOGO\r\n3|3|1\r\n\r\n"
        "CLAVE_CASILLA|CLAVE_ACTA|ID_ESTADO|ESTADO|ID_DISTRITO_FEDERAL|DISTRITO_FEDERAL|SECCION|ID_CASILLA|"
        "TIPO_CASILLA|EXT_CONTIGUA|UBICACION_CASILLA|TIPO_ACTA|TOTAL_BOLETAS_SOBRANTES|TOTAL_PERSONAS_VOTARON|"
        "TOTAL_REP_PARTIDO_CI_VOTARON|TOTAL_VOTOS_SACADOS|PAN|PRI|PRD|MORENA|PT|C_MORENA_PT|CAND_IND_01|"
        "NO_REGISTRADOS|NULOS|TOTAL_VOTOS_ASENTADO|TOTAL_VOTOS_CALCULADO|LISTA_NOMINAL|REPRESENTANTES_PP_CI|"
        "OBSERVACIONES|CONTABILIZADA|MECANISMOS_TRASLADO|SHA|FECHA_HORA_ACOPIO|FECHA_HORA_CAPTURA|"
        "FECHA_HORA_VERIFICACION|ORIGEN|DIGITALIZACION|TIPO_DOCUMENTO|COTEJADA\r\n"
        /* district 2 has the independent */
        "090114B0100|090114B010006|9|CIUDAD DE M\xC9XICO|2|GUSTAVO A. MADERO|114|1|B|0|2|6|100|200|2|200|"
        "10|20|30|40|50|5|7|1|2|165|165|300|10||1||" SHA1 "|2018-07-01 21:00:00|2018-07-01 21:10:00|"
        "2018-07-01 21:15:00|CATD|ESCANER|ACTA PREP|2\r\n"
        /* LEEME 2018: out of catalogue, TIPO_ACTA 0, "null" identification; the key is
         * that of an expected casilla, which this row must not take */
        "090107B0100|090107B010000|9|CIUDAD DE M\xC9XICO|null|null|107|1|B|0|1|0|||||"
        "3|3|3|3|3|-|-|3|3|21|21|||Fuera de cat\xE1logo|0||||2018-07-01 23:00:00||CATD|||\r\n";
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse(text, &d);
    if (d.total) prep_diags_print(&d, stderr, 20);
    assert_int_equal(d.total, 0);
    assert_int_equal(s->latin1, 1);
    assert_string_equal(s->hdr.election_name, "");
    assert_string_equal(s->hdr.cut_text, "02/07/2018 21:00 (UTC-5)");
    assert_int_equal(s->n, 2);
    const prep_acta *a = &s->v[0];
    assert_int_equal(a->casilla, prep_catalog_find_casilla(cat, "090114B0100"));
    assert_string_equal(a->clave_acta, "090114B010006");
    assert_int_equal(a->total_calculado, 165);
    const int32_t *v = prep_acta_votes(s, a);
    assert_int_equal(v[5], 7); /* CAND_IND_01 -> CAND_IND_1 */
    assert_int_equal(v[6], 5); /* C_MORENA_PT -> MORENA_PT */
    const prep_acta *o = &s->v[1];
    assert_int_equal(o->casilla, PREP_CAT_NONE);
    assert_int_equal(o->status, PREP_ACTA_NC_OUT_OF_CATALOG);
    assert_string_equal(o->clave_acta, "090107B010000");
    prep_actas_free(s);
    prep_diags_free(&d);
}

/* The row's entity and district against the catalogue's casilla: a named, located diag
 * with both values; the row is left out, the others kept. */
static void test_entity_district_mismatch(void **st)
{
    (void)st;
    const char *text = BLOCK21 COLS21 ROW21("14", "JALISCO", "1") /* line 7 */
        ROW21("9", "CIUDAD DE MÉXICO", "2")                       /* line 8 */
        ROW21("9", "CIUDAD DE MÉXICO", "1")                       /* line 9: good */
        ROW21("09", "CIUDAD DE MÉXICO", "01")                     /* line 10: good, zero-padded */
        ROW21("x", "CIUDAD DE MÉXICO", "1")                       /* line 11 */
        ROW21("100", "CIUDAD DE MÉXICO", "1");                    /* line 12 */
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse(text, &d);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->rows_bad, 4);
    expect_diag(&d, 7, "key-mismatch", 3, "ID_ESTADO 14 (JALISCO) but casilla 090107B0100 of the catalogue is in entity 9");
    expect_diag(&d, 8, "key-mismatch", 5, "ID_DISTRITO_FEDERAL 2 but casilla 090107B0100 of the catalogue has 1");
    expect_diag(&d, 11, "bad-number", 3, "'x'");
    expect_diag(&d, 12, "bad-number", 3, "'100'");
    assert_int_equal(d.total, 4);
    prep_actas_free(s);
    prep_diags_free(&d);
}

/* ---------------------------------------------------------------- national catalogues */

/* tests/data/actas/gen_ine_federal.py writes the files and their national catalogues
 * (three entities; presidencia, senadurías and diputaciones 2018 with INE 2018's acta
 * types; diputaciones 2021). */
static prep_catalog *load_cat(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/actas/%s", PREP_TEST_DATA, name);
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err e = prep_catalog_load(path, &c, &d);
    if (e != PREP_OK) prep_diags_print(&d, stderr, 20);
    prep_diags_free(&d);
    assert_int_equal(e, PREP_OK);
    return c;
}

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/actas/%s", PREP_TEST_DATA, name);
    char *data = NULL;
    assert_int_equal(prep_read_file(path, 1 << 24, &data, len), PREP_OK);
    return data;
}

static void same_acta(const prep_catalog *c, const prep_actas *s1, const prep_acta *a, const prep_actas *s2,
                      const prep_acta *b)
{
    assert_int_equal(a->casilla, b->casilla);
    assert_int_equal(a->rp, b->rp);
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
    for (uint32_t j = 0; j < c->elections[s1->election].n_cols; j++) assert_int_equal(va[j], vb[j]);
}

static void write_set(const prep_catalog *c, const prep_actas *s, prep_buf *out)
{
    prep_summary sum = {.esperadas = 1};
    assert_int_equal(prep_actas_write_header_block(c, s->election, 1530493200, &sum, out), PREP_OK);
    assert_int_equal(prep_actas_write_columns(c, s->election, out), PREP_OK);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(prep_actas_write_row(c, s->election, &s->v[i], prep_acta_votes(s, &s->v[i]), out), PREP_OK);
}

/* Each generated file read against its national catalogue: every row read, each kind of
 * acta where the generator put it; then written in the federal layout and read back: the
 * same actas, field by field, and the same bytes when written again. */
static void test_national_files(void **st)
{
    (void)st;
    static const struct {
        const char *cat, *file, *election;
        size_t rp, abroad, prison, out;
    } f[] = {
        {"ine2018.cat", "ine2018_presidencia.csv", "pres", 0, 6, 0, 2},
        {"ine2018.cat", "ine2018_senadurias.csv", "sen", 6, 6, 0, 2},
        {"ine2018.cat", "ine2018_diputaciones.csv", "dip", 6, 0, 0, 2},
        {"ine2021.cat", "ine2021_diputaciones.csv", "dip", 6, 0, 3, 3},
    };
    for (size_t k = 0; k < PREP_ARRAY_LEN(f); k++) {
        prep_catalog *c = load_cat(f[k].cat);
        assert_int_equal(c->national, 1);
        assert_int_equal(c->n_entities, 3);
        uint32_t e = prep_catalog_find_election(c, f[k].election);
        assert_int_not_equal(e, PREP_CAT_NONE);
        size_t len;
        char *data = slurp(f[k].file, &len);
        prep_diags d;
        prep_diags_init(&d);
        prep_actas *s = NULL;
        assert_int_equal(prep_actas_parse(f[k].file, data, len, c, e, &s, &d), PREP_OK);
        if (d.total) prep_diags_print(&d, stderr, 20);
        assert_int_equal(d.total, 0);
        assert_int_equal(s->rows_bad, 0);
        size_t rp = 0, abroad = 0, prison = 0, out = 0;
        for (size_t i = 0; i < s->n; i++) {
            const prep_acta *a = &s->v[i];
            if (a->casilla == PREP_CAT_NONE) {
                assert_int_equal(a->status, PREP_ACTA_NC_OUT_OF_CATALOG);
                out++;
                continue;
            }
            const prep_cat_casilla *cc = &c->casillas[a->casilla];
            assert_int_equal(a->tipo_casilla, cc->type);
            if (a->rp) {
                assert_int_equal(cc->type, 'S');
                rp++;
            }
            if (cc->type == 'M') {
                /* votes from abroad: section 0 of district 0 of the voter's entity */
                assert_int_equal(a->section_id, 0);
                assert_int_equal(a->district_id, 0);
                abroad++;
            }
            prison += cc->type == 'V';
            /* the row's entity is its casilla's */
            assert_int_equal(prep_catalog_casilla_entity(c, a->casilla), c->entities[c->sections[cc->section].entity].id);
        }
        assert_int_equal(rp, f[k].rp);
        assert_int_equal(abroad, f[k].abroad);
        assert_int_equal(prison, f[k].prison);
        assert_int_equal(out, f[k].out);
        /* round trip in the federal layout */
        prep_buf w1, w2;
        prep_buf_init(&w1, 0);
        prep_buf_init(&w2, 0);
        write_set(c, s, &w1);
        char want[128] = "\nCLAVE_CASILLA|CLAVE_ACTA|ID_ESTADO|ESTADO|ID_DISTRITO_FEDERAL|DISTRITO_FEDERAL|SECCION|";
        for (char *q = want; *q; q++)
            if (*q == '|') *q = c->csv_sep; /* the catalogue's separator: ',' in 2021 */
        assert_non_null(strstr(w1.data, want));
        assert_null(strstr(w1.data, "MUNICIPIO"));
        prep_actas *s2 = NULL;
        assert_int_equal(prep_actas_parse("written.csv", w1.data, w1.len, c, e, &s2, &d), PREP_OK);
        if (d.total) prep_diags_print(&d, stderr, 20);
        assert_int_equal(d.total, 0);
        assert_int_equal(s2->n, s->n);
        for (size_t i = 0; i < s->n; i++) same_acta(c, s, &s->v[i], s2, &s2->v[i]);
        write_set(c, s2, &w2);
        assert_int_equal(w1.len, w2.len);
        assert_memory_equal(w1.data, w2.data, w1.len);
        prep_buf_free(&w1);
        prep_buf_free(&w2);
        prep_actas_free(s2);
        prep_actas_free(s);
        prep_diags_free(&d);
        free(data);
        prep_catalog_free(c);
    }
}

/* The line of text that starts with prefix, with field `field` (1-based) replaced by
 * value (NULL: unchanged), appended to b. */
static void add_line(prep_buf *b, const char *text, const char *prefix, int field, const char *value)
{
    const char *p = strstr(text, prefix);
    assert_non_null(p);
    const char *end = strpbrk(p, "\r\n");
    int k = 1;
    for (const char *q = p; q < end; q++) {
        if (k == field && value) {
            prep_buf_puts(b, value);
            while (q < end && *q != '|') q++;
            if (q == end) break;
        }
        prep_buf_putc(b, *q);
        if (*q == '|') k++;
    }
    prep_buf_putc(b, '\n');
}

/* Located errors of the national reader: a TIPO_ACTA that is none of the casilla's, an
 * abroad casilla in an election its votes do not elect, an entity or district other than
 * the casilla's. */
static void test_national_errors(void **st)
{
    (void)st;
    prep_catalog *c = load_cat("ine2018.cat");
    uint32_t e = prep_catalog_find_election(c, "dip");
    size_t len, len2;
    char *dip = slurp("ine2018_diputaciones.csv", &len);
    char *sen = slurp("ine2018_senadurias.csv", &len2);
    prep_buf b;
    prep_buf_init(&b, 0);
    const char *hdr = strstr(dip, "CLAVE_CASILLA|");
    prep_buf_append(&b, dip, (size_t)(strchr(hdr, '\n') - dip) + 1);                  /* lines 1-5 */
    add_line(&b, dip, "010114S0100|010114S010008|", 0, NULL);                      /* 6: the RP acta */
    add_line(&b, dip, "010114S0100|010114S010007|", 12, "6");                      /* 7 */
    add_line(&b, sen, "010000M0100|010000M010018|", 12, "6");                      /* 8 */
    add_line(&b, dip, "010114S0100|010114S010007|", 3, "9");                       /* 9 */
    add_line(&b, dip, "010114S0100|010114S010007|", 5, "2");                       /* 10 */
    add_line(&b, dip, "010114S0100|010114S010007|", 0, NULL);                      /* 11: the MR acta */
    add_line(&b, dip, "010114S0100|010114S010007|", 12, "8");                      /* 12: key says 7, type 8 */
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = NULL;
    assert_int_equal(prep_actas_parse("f.csv", b.data, b.len, c, e, &s, &d), PREP_OK);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->v[0].rp, 1);
    assert_string_equal(s->v[0].clave_acta, "010114S010008");
    assert_int_equal(s->v[1].rp, 0);
    assert_int_equal(s->v[0].casilla, s->v[1].casilla);
    expect_diag(&d, 7, "acta-type", 12,
                "TIPO_ACTA 6 but the actas of special casilla 010114S0100 in election dip are 7 (mayoría relativa) "
                "and 8 (representación proporcional)");
    expect_diag(&d, 8, "acta-type", 12, "casilla 010000M0100 (type M) has no acta in election dip");
    expect_diag(&d, 9, "key-mismatch", 3, "ID_ESTADO 9 (AGUASCALIENTES) but casilla 010114S0100");
    expect_diag(&d, 10, "key-mismatch", 5, "ID_DISTRITO_FEDERAL 2 but casilla 010114S0100 of the catalogue has 1");
    expect_diag(&d, 12, "key-mismatch", 2, "CLAVE_ACTA 010114S010007 ends in acta type 7 but TIPO_ACTA is 8");
    assert_int_equal(d.total, 5);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
    free(dip);
    free(sen);
    prep_catalog_free(c);
}

/* The catalogue derived from each generated file (no catalogue given) against the one the
 * generator wrote from its model: the entities, each entity's districts, sections and
 * casillas with their lista nominal, the special ballots, the acta types (special MR, RP,
 * abroad), the election's scope. */
static void test_derived_national(void **st)
{
    (void)st;
    static const struct {
        const char *cat, *file, *election;
        prep_cat_scope scope;
    } f[] = {
        {"ine2018.cat", "ine2018_presidencia.csv", "pres", PREP_CAT_SCOPE_NATION},
        {"ine2018.cat", "ine2018_senadurias.csv", "sen", PREP_CAT_SCOPE_ENTITY},
        {"ine2018.cat", "ine2018_diputaciones.csv", "dip", PREP_CAT_SCOPE_DISTRICT},
        {"ine2021.cat", "ine2021_diputaciones.csv", "dip", PREP_CAT_SCOPE_DISTRICT},
    };
    for (size_t k = 0; k < PREP_ARRAY_LEN(f); k++) {
        prep_catalog *g = load_cat(f[k].cat);
        const prep_cat_election *ge = &g->elections[prep_catalog_find_election(g, f[k].election)];
        char path[512];
        snprintf(path, sizeof path, "%s/actas/%s", PREP_TEST_DATA, f[k].file);
        prep_diags d;
        prep_diags_init(&d);
        prep_catalog *c = NULL;
        prep_err e = prep_actas_derive_catalog(path, NULL, &c, &d);
        if (e) prep_diags_print(&d, stderr, 20);
        assert_int_equal(e, PREP_OK);
        assert_int_equal(c->national, 1);
        assert_int_equal(c->entity_id, 0);
        assert_int_equal(c->n_entities, g->n_entities);
        for (uint32_t i = 0; i < g->n_entities; i++) {
            assert_int_equal(c->entities[i].id, g->entities[i].id);
            assert_string_equal(c->entities[i].name, g->entities[i].name);
        }
        const prep_cat_election *ce = &c->elections[0];
        assert_string_equal(ce->id, f[k].election);
        assert_int_equal(ce->scope, f[k].scope);
        assert_int_equal(ce->acta_type, ge->acta_type);
        assert_int_equal(ce->special_acta_type, ge->special_acta_type);
        assert_int_equal(ce->rp_acta_type, ge->rp_acta_type);
        assert_int_equal(ce->abroad_acta_type, ge->abroad_acta_type);
        /* every casilla that has an acta in the election, with its place and list */
        uint32_t n = 0, ge_i = prep_catalog_find_election(g, f[k].election);
        for (uint32_t i = 0; i < g->n_casillas; i++) {
            if (!prep_catalog_n_actas(g, ge_i, i)) continue; /* M casillas: no acta in dip */
            n++;
            const prep_cat_casilla *gc = &g->casillas[i];
            uint32_t j = prep_catalog_find_casilla(c, gc->key);
            if (j == PREP_CAT_NONE) fail_msg("%s: casilla %s not derived", f[k].file, gc->key);
            const prep_cat_casilla *cc = &c->casillas[j];
            const prep_cat_section *gs = &g->sections[gc->section], *cs = &c->sections[cc->section];
            assert_int_equal(cs->id, gs->id);
            assert_int_equal(c->entities[cs->entity].id, g->entities[gs->entity].id);
            assert_int_equal(c->districts[cs->district].id, g->districts[gs->district].id);
            assert_int_equal(cc->type, gc->type);
            assert_int_equal(cc->lista_nominal, gc->lista_nominal);
            assert_int_equal(cc->ballots, gc->ballots);
        }
        assert_int_equal(c->n_casillas, n);
        prep_catalog_free(c);
        prep_catalog_free(g);
        prep_diags_free(&d);
    }
}

/* The image's SHA-256 in base64 (the LEEMEs mention base64 beside SHA256) reads as its hex
 * digits; a base64 text of another length is bad-sha. Python: base64.b64encode(
 * hashlib.sha256(b'acta').digest()) and .hexdigest(). */
static void test_sha_base64(void **st)
{
    (void)st;
    const char *text = BLOCK21 COLS21 ROW21_SHA("9", "CIUDAD DE MÉXICO", "1", "pyvF8FosUBg5jPZfU42haXj8tJq7dUdyUcXFXLY/ooY=")
        ROW21_SHA("9", "CIUDAD DE MÉXICO", "1", "pyvF8FosUBg5jPZfU42haXj8tJq7dUdyUcXFXLY/oo==");
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse(text, &d);
    assert_int_equal(s->n, 1);
    assert_string_equal(s->v[0].sha, "a72bc5f05a2c5018398cf65f538da16978fcb49abb75477251c5c55cb63fa286");
    expect_diag(&d, 8, "bad-sha", 36, "base64");
    prep_actas_free(s);
    prep_diags_free(&d);
    /* every digit of the alphabet, '+' and '/' included (Python's base64.b64encode of the
     * bytes, and .hex()) */
    static const char *const known[][2] = {
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
        {"//////////////////////////////////////////8=", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
        {"+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/s=", "fbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfbfb"},
        {"Srcyk5caMo3cMEJhYiQ6Zp31px900Yjsfoue9253An8=", "4ab73293971a328ddc30426162243a669df5a71f74d188ec7e8b9ef76e77027f"},
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        char row[1024];
        snprintf(row, sizeof row, "%s%s" ROW21_SHA("9", "CIUDAD DE MÉXICO", "1", "%s"), BLOCK21, COLS21, known[i][0]);
        prep_diags_init(&d);
        s = parse(row, &d);
        assert_int_equal(s->n, 1);
        assert_string_equal(s->v[0].sha, known[i][1]);
        prep_actas_free(s);
        prep_diags_free(&d);
    }
    /* a character outside the alphabet, or bits left over in the last digit: bad-sha */
    static const char *const bad[] = {"Srcyk5caMo3cMEJhYiQ6Zp31px900Yjsfoue9253An-=",
                                      "Srcyk5caMo3cMEJhYiQ6Zp31px900Yjsfoue9253An9="};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char row[1024];
        snprintf(row, sizeof row, "%s%s" ROW21_SHA("9", "CIUDAD DE MÉXICO", "1", "%s"), BLOCK21, COLS21, bad[i]);
        prep_diags_init(&d);
        s = parse(row, &d);
        assert_int_equal(s->n, 0);
        expect_diag(&d, 7, "bad-sha", 36, "base64");
        prep_actas_free(s);
        prep_diags_free(&d);
    }
}

/* A block with more lines before the names than election and cut: the cut is the
 * date-time line nearest the names (the R script that read INE 2018's file skips 6 lines). */
static void test_longer_block(void **st)
{
    (void)st;
    const char *text = "PREP 2021\nDIPUTACIONES FEDERALES\n07/06/2021 20:00 (UTC-5)\n"
                       "ACTAS_ESPERADAS,ACTAS_REGISTRADAS\n3,3\n\n" COLS21 ROW21("9", "CIUDAD DE MÉXICO", "1");
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = parse(text, &d);
    assert_int_equal(s->n, 1);
    assert_string_equal(s->hdr.cut_text, "07/06/2021 20:00 (UTC-5)");
    assert_int_equal(s->hdr.cut, 1623114000); /* 2021-06-08 01:00 UTC: date -d '2021-06-07 20:00 -05:00' +%s */
    expect_diag(&d, 1, "bad-header-block", 0, "found 5");
    assert_int_equal(d.total, 1);
    prep_actas_free(s);
    prep_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_2021),
        cmocka_unit_test(test_columns_2018),
        cmocka_unit_test(test_entity_district_mismatch),
        cmocka_unit_test(test_national_files),
        cmocka_unit_test(test_national_errors),
        cmocka_unit_test(test_derived_national),
        cmocka_unit_test(test_sha_base64),
        cmocka_unit_test(test_longer_block),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests of the 2023-2024 local results files (INE's model LEEME for the OPLEs, as
 * IECM published it for Mexico City: desarrollo-sistemas-iecm/backend-sicodidweb2024,
 * zipDB/LEEME_G.txt; its export code in the same repository) where they differ from the
 * 2018-2021 files (docs/formats/actas.md, "Published files"):
 * - the header block's parts are separated by lines of quoted tabs ("\t","\t",...);
 * - the LEEME's column line spells REPRESENTANTES and CONTABILIZADAS (its items 36 and 38:
 *   REPRESENTANTES_PP_CI, CONTABILIZADA);
 * - DISTRITO_LOCAL holds the district's number, 001 to 033 (item 5), with no ID_ column;
 * - CODIGO_INTEGRIDAD is N/A for an acta without image, and one export wrote the MD5 of
 *   the image instead of its SHA-256.
 * The file below is written here; its header block and every sum were worked out by hand
 * from its four rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prep/actas.h"
#include "prep/catalog.h"
#include "prep/tally.h"

/* Four counted actas in two districts. Votes (PAN, MORENA, NO_REGISTRADOS, NULOS):
 * 40+60+0+2 = 102, 30+50+0+1 = 81, 20+70+1+0 = 91, 10+15+0+0 = 25; 299 in all over a
 * lista nominal of 500+500+450+300 = 1750: participation 299 / 1750 = 17.0857 % (17.08571,
 * truncated). */
static const char FILE_2024[] =
    "DIPUTACIONES LOCALES\n"
    "02/06/2024 20:00 (UTC-6)\n"
    "\"\t\",\"\t\",\"\t\",\"\t\"\n"
    "ACTAS_ESPERADAS,ACTAS_REGISTRADAS,ACTAS_FUERA_CATALOGO,ACTAS_CAPTURADAS,PORCENTAJE_ACTAS_CAPTURADAS,"
    "ACTAS_CONTABILIZADAS,PORCENTAJE_ACTAS_CONTABILIZADAS,PORCENTAJE_ACTAS_CON_INCONSISTENCIAS,"
    "ACTAS_NO_CONTABILIZADAS,LISTA_NOMINAL_ACTAS_CONTABILZADAS,TOTAL_VOTOS_C_CS,TOTAL_VOTOS_S_CS,"
    "PORCENTAJE_PARTICIPACION_CIUDADANA\n"
    "4,4,0,4,100.0000,4,100.0000,0.0000,0,1750,299,299,17.0857\n"
    "\"\t\",\"\t\",\"\t\",\"\t\"\n"
    "CLAVE_CASILLA,CLAVE_ACTA,ID_ENTIDAD,ENTIDAD,DISTRITO_LOCAL,SECCION,ID_CASILLA,TIPO_CASILLA,EXT_CONTIGUA,"
    "UBICACION_CASILLA,TIPO_ACTA,PAN,MORENA,NO_REGISTRADOS,NULOS,TOTAL_VOTOS_ASENTADO,TOTAL_VOTOS_CALCULADOS,"
    "LISTA_NOMINAL,REPRESENTANTES,OBSERVACIONES,CONTABILIZADAS,CODIGO_INTEGRIDAD,FECHA_HORA_CAPTURA\n"
    "090001B0100,090001B0100A03,09,\"CIUDAD DE MÉXICO\",001,0001,01,B,00,1,A03,40,60,0,2,102,102,500,4,,1,"
    "9E107D9D372BB6826BD81D3542A419D6,\"02/06/2024 20:15:00 (UTC-6)\"\n"
    "090001C0100,090001C0100A03,09,\"CIUDAD DE MÉXICO\",001,0001,01,C,00,1,A03,30,50,0,1,81,81,500,4,,1,"
    "N/A,\"02/06/2024 20:16:00 (UTC-6)\"\n"
    "090002B0100,090002B0100A03,09,\"CIUDAD DE MÉXICO\",002,0002,01,B,00,1,A03,20,70,1,0,91,91,450,4,,1,"
    "FB322CBFAC1609689638EBF3EB312C5B2201A77DC079E5F9C37ECEADE81F88ED,\"02/06/2024 20:17:00 (UTC-6)\"\n"
    "090003B0100,090003B0100A03,09,\"CIUDAD DE MÉXICO\",002,0003,01,B,00,1,A03,10,15,0,0,25,25,300,4,,1,"
    "FFFFFFxxxxxx6969696,\"02/06/2024 20:18:00 (UTC-6)\"\n";

/* Jefatura de Gobierno with the mesas no section holds, as the 2024 LEEME has them written
 * ("en el primer renglón" the votes from abroad, then the other ways of voting; N/A as
 * their district, section, number, ballot accounting and representatives), a special
 * casilla (A02E), a row without acta (N/A in its capture fields) and one fuera de catálogo
 * (TIPO_ACTA 0, CONTABILIZADA 2). By hand: esperadas 6 (M, A, P, B, S, B), registradas 7,
 * fuera 1, capturadas 6, contabilizadas 5 (83.3333 %), no contabilizadas 1 (the SIN ACTA;
 * the fuera not, item 9), LN 1200 + 0 + 0 + 350 + 0 = 1550, C_CS 810 + 51 + 62 + 150 + 250
 * = 1323, S_CS without the special's 250 = 1073, participation 1323 / 1550 = 85.3548 %
 * (the last cut: every acta captured). The mesas of voto anticipado and prisión preventiva
 * have lista nominal 0, so nothing caps them; the votes from abroad's 810 are under 1200. */
static const char FILE_MESAS[] =
    "JEFATURA DE GOBIERNO\n"
    "02/06/2024 20:00 (UTC-6)\n"
    "ACTAS_ESPERADAS|ACTAS_REGISTRADAS|ACTAS_FUERA_CATALOGO|ACTAS_CAPTURADAS"
    "|PORCENTAJE_ACTAS_CAPTURADAS|ACTAS_CONTABILIZADAS|PORCENTAJE_ACTAS_CONTABILIZADAS"
    "|PORCENTAJE_ACTAS_CON_INCONSISTENCIAS|ACTAS_NO_CONTABILIZADAS|LISTA_NOMINAL_ACTAS_CONTABILZADAS"
    "|TOTAL_VOTOS_C_CS|TOTAL_VOTOS_S_CS|PORCENTAJE_PARTICIPACION_CIUDADANA\n"
    "6|7|1|6|100.0000|5|83.3333|0.0000|1|1550|1323|1073|85.3548\n"
    "\n"
    "CLAVE_CASILLA|CLAVE_ACTA|ID_ENTIDAD|ENTIDAD|ID_DISTRITO_LOCAL|DISTRITO_LOCAL|SECCION|ID_CASILLA"
    "|TIPO_CASILLA|EXT_CONTIGUA|UBICACION_CASILLA|TIPO_ACTA|TOTAL_BOLETAS_SOBRANTES"
    "|TOTAL_PERSONAS_VOTARON|TOTAL_REP_PARTIDO_CI_VOTARON|TOTAL_VOTOS_SACADOS|PAN|MORENA"
    "|NO_REGISTRADAS|NULOS|TOTAL_VOTOS_ASENTADO|TOTAL_VOTOS_CALCULADO|LISTA_NOMINAL"
    "|REPRESENTANTES_PP_CI|OBSERVACIONES|CONTABILIZADA|MECANISMOS_TRASLADO|CODIGO_INTEGRIDAD"
    "|FECHA_HORA_ACOPIO|FECHA_HORA_CAPTURA|FECHA_HORA_VERIFICACION|ORIGEN|DIGITALIZACION"
    "|TIPO_DOCUMENTO\n"
    "090000M0100|090000M0100A01|09|CIUDAD DE MÉXICO|N/A|N/A|N/A|N/A|M|00|1|A01|N/A|N/A|N/A|N/A|300"
    "|500|2|8|810|810|1200|N/A||1||FB322CBFAC1609689638EBF3EB312C5B2201A77DC079E5F9C37ECEADE81F88ED"
    "|02/06/2024 20:10:00 (UTC-6)|02/06/2024 20:10:00 (UTC-6)|02/06/2024 20:10:00 (UTC-6)|CATD"
    "|ESCANER|ACTA VRME\n"
    "090000A0100|090000A0100A01VA|09|CIUDAD DE MÉXICO|N/A|N/A|N/A|N/A|A|00|1|A01VA|N/A|N/A|N/A|N/A"
    "|20|30|0|1|51|51|0|N/A||1||FB322CBFAC1609689638EBF3EB312C5B2201A77DC079E5F9C37ECEADE81F88ED"
    "|02/06/2024 20:10:00 (UTC-6)|02/06/2024 20:10:00 (UTC-6)|02/06/2024 20:10:00 (UTC-6)|CATD"
    "|ESCANER|ACTA VA\n"
    "090000P0100|090000P0100A01PPP|09|CIUDAD DE MÉXICO|N/A|N/A|N/A|N/A|P|00|1|A01PPP|N/A|N/A|N/A|N/A"
    "|15|45|0|2|62|62|0|N/A||1||FB322CBFAC1609689638EBF3EB312C5B2201A77DC079E5F9C37ECEADE81F88ED"
    "|02/06/2024 20:10:00 (UTC-6)|02/06/2024 20:10:00 (UTC-6)|02/06/2024 20:10:00 (UTC-6)|CATD"
    "|ESCANER|ACTA VPPP\n"
    "090001B0100|090001B0100A02|09|CIUDAD DE MÉXICO|001|DISTRITO 1|0001|01|B|00|1|A02|200|150|2|150"
    "|60|85|1|4|150|150|350|4||1|F|FB322CBFAC1609689638EBF3EB312C5B2201A77DC079E5F9C37ECEADE81F88ED"
    "|02/06/2024 20:10:00 (UTC-6)|02/06/2024 20:10:00 (UTC-6)|02/06/2024 20:10:00 (UTC-6)|CASILLA"
    "|MOVIL|ACTA PREP\n"
    "090002S0100|090002S0100A02E|09|CIUDAD DE MÉXICO|001|DISTRITO 1|0002|01|S|00|1|A02E|500|250|2"
    "|250|100|140|3|7|250|250|0|4||1|"
    "|FB322CBFAC1609689638EBF3EB312C5B2201A77DC079E5F9C37ECEADE81F88ED|02/06/2024 20:10:00 (UTC-6)"
    "|02/06/2024 20:10:00 (UTC-6)|02/06/2024 20:10:00 (UTC-6)|CATD|ESCANER|ACTA PREP\n"
    "090003B0100|090003B0100A02|09|CIUDAD DE MÉXICO|002|DISTRITO 2|0003|01|B|00|2|A02|SIN ACTA"
    "|SIN ACTA|SIN ACTA|SIN ACTA|SIN ACTA|SIN ACTA|SIN ACTA|SIN ACTA|SIN ACTA|SIN ACTA|400|4"
    "|SIN ACTA POR PAQUETE NO ENTREGADO|0||N/A|N/A|N/A|N/A|N/A|N/A|N/A\n"
    "090099B0100|090099B01000|09|CIUDAD DE MÉXICO|N/A|N/A|0099|01|B|00|3|0|N/A|N/A|N/A|N/A|5|5|0|0"
    "|10|10|0|0|FUERA DE CATÁLOGO|2|"
    "|FB322CBFAC1609689638EBF3EB312C5B2201A77DC079E5F9C37ECEADE81F88ED|02/06/2024 20:10:00 (UTC-6)"
    "|02/06/2024 20:10:00 (UTC-6)|02/06/2024 20:10:00 (UTC-6)|CATD|ESCANER|ACTA PREP\n";

static char path[64];

/* text written to a new temporary file, its path into p (cap bytes). */
static void write_tmp(char *p, size_t cap, const char *text, size_t len)
{
    snprintf(p, cap, "/tmp/prep-actas-2024-XXXXXX");
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static int setup(void **st)
{
    (void)st;
    write_tmp(path, sizeof path, FILE_2024, sizeof FILE_2024 - 1);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    unlink(path);
    return 0;
}

static size_t count_kind(const prep_diags *d, const char *kind)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) n += !strcmp(d->v[i].kind, kind);
    return n;
}

/* The catalogue derived from file p, which must give no diag at all. */
static prep_catalog *derive_clean(const char *p)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err e = prep_actas_derive_catalog(p, NULL, &c, &d);
    if (e || d.total) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(d.total, 0);
    prep_diags_free(&d);
    return c;
}

/* The catalogue derived from the file (a published file's, unless published is 0). */
static prep_catalog *derived_catalog(int published)
{
    prep_catalog *c = derive_clean(path);
    c->rules.published = published;
    return c;
}

/* The file's rows read with catalogue c; the diags in *d (the caller frees them). */
static prep_actas *load(const prep_catalog *c, prep_diags *d)
{
    prep_diags_init(d);
    prep_actas *s = NULL;
    assert_int_equal(prep_actas_load(path, c, 0, &s, d), PREP_OK);
    return s;
}

/* The catalogue: two districts numbered as DISTRITO_LOCAL says, three sections; no
 * complaint about the header block's tab lines. */
static void test_derive(void **st)
{
    (void)st;
    prep_catalog *c = derive_clean(path);
    assert_int_equal(c->n_elections, 1);
    assert_int_equal(c->elections[0].scope, PREP_CAT_SCOPE_DISTRICT);
    assert_int_equal(c->n_districts, 2);
    assert_int_equal(c->districts[0].id, 1);
    assert_int_equal(c->districts[1].id, 2);
    assert_int_equal(c->n_sections, 3);
    assert_int_equal(c->n_casillas, 4);
    prep_catalog_free(c);
}

/* Every row read and counted; the integrity codes as the file gives them (lower case), none
 * for N/A, and the one that is no digest left out with a note that keeps the row. */
static void test_read(void **st)
{
    (void)st;
    prep_diags d;
    prep_catalog *c = derived_catalog(1);
    prep_actas *s = load(c, &d);
    assert_int_equal(s->n, 4);
    assert_int_equal(s->rows_bad, 0);
    assert_int_equal(count_kind(&d, "sha-left-out"), 1);
    assert_int_equal(count_kind(&d, "bad-sha"), 0);
    assert_int_equal(count_kind(&d, "bad-header-block"), 0);
    const prep_diag *g = prep_diags_find(&d, "sha-left-out");
    assert_int_equal(g->line, 11);
    assert_int_equal(g->col, 22);
    static const char *sha[] = {"9e107d9d372bb6826bd81d3542a419d6", "",
                                "fb322cbfac1609689638ebf3eb312c5b2201a77dc079e5f9c37eceade81f88ed", ""};
    int64_t votes = 0, ln = 0;
    for (size_t i = 0; i < s->n; i++) {
        const prep_acta *a = &s->v[i];
        assert_string_equal(a->sha, sha[i]);
        assert_true(prep_acta_status_counted(a->status));
        assert_int_equal(a->representatives, 4);
        votes += a->total_calculado;
        ln += a->lista_nominal;
    }
    assert_int_equal(votes, 299);
    assert_int_equal(ln, 1750);
    /* the header block was read whole: its 13 values, LISTA_NOMINAL_ACTAS_CONTABILZADAS
     * (the LEEME's spelling) among them */
    assert_string_equal(prep_actas_header_value(&s->hdr, 9), "1750");
    assert_string_equal(prep_actas_header_value(&s->hdr, 12), "17.0857");
    prep_actas_free(s);
    prep_catalog_free(c);
    prep_diags_free(&d);
}

/* The institute's own capture feed (not a published file) keeps refusing a code that is
 * no digest: there it is the capture system's fault, and the row waits for a good one. */
static void test_own_feed_strict(void **st)
{
    (void)st;
    prep_diags d;
    prep_catalog *c = derived_catalog(0);
    prep_actas *s = load(c, &d);
    assert_int_equal(s->n, 3);
    assert_int_equal(s->rows_bad, 1);
    assert_int_equal(count_kind(&d, "bad-sha"), 1);
    prep_actas_free(s);
    prep_catalog_free(c);
    prep_diags_free(&d);
}

/* With an acta fuera de catálogo (TIPO_ACTA 0, CONTABILIZADA 2, as the 2024 LEEME writes
 * it) the derived catalogue counts it in ACTAS_NO_CONTABILIZADAS as the file's own figures
 * do: 0 there (the 2024 LEEME, item 9: they are not), or 1 (INE 2021's rule). */
static void test_out_of_catalog_rule(void **st)
{
    (void)st;
    static const char *const stated[2] = {"4,5,1,4,100.0000,4,100.0000,0.0000,0,",
                                          "4,5,1,4,100.0000,4,100.0000,0.0000,1,"};
    for (int k = 0; k < 2; k++) {
        const char *old = "4,4,0,4,100.0000,4,100.0000,0.0000,0,";
        const char *at = strstr(FILE_2024, old);
        assert_non_null(at);
        char text[sizeof FILE_2024 + 512];
        snprintf(text, sizeof text, "%.*s%s%s%s", (int)(at - FILE_2024), FILE_2024, stated[k], at + strlen(old),
                 "090009B0100,090009B01000,09,\"CIUDAD DE MÉXICO\",002,0009,01,B,00,3,0,5,5,0,0,10,10,0,0,"
                 "FUERA DE CATÁLOGO,2,N/A,\"02/06/2024 20:19:00 (UTC-6)\"\n");
        char p2[64];
        write_tmp(p2, sizeof p2, text, strlen(text));
        prep_catalog *c = derive_clean(p2);
        assert_int_equal(c->rules.no_counted_out_of_catalog, k);
        prep_catalog_free(c);
        unlink(p2);
    }
}

/* The file above written to a temporary path, its catalogue derived, its rows read. */
static prep_catalog *mesas_catalog(char *p2, size_t cap)
{
    write_tmp(p2, cap, FILE_MESAS, sizeof FILE_MESAS - 1);
    return derive_clean(p2);
}

/* The mesas: types M, A and P in section 0, district 0 named for them; every row read, the
 * three mesas counted. */
static void test_mesas(void **st)
{
    (void)st;
    char p2[64];
    prep_catalog *c = mesas_catalog(p2, sizeof p2);
    assert_int_equal(c->n_casillas, 6);
    const char *types = "MAP";
    for (int i = 0; i < 3; i++) {
        char key[24];
        snprintf(key, sizeof key, "090000%c0100", types[i]);
        uint32_t k = prep_catalog_find_casilla(c, key);
        assert_int_not_equal(k, PREP_CAT_NONE);
        const prep_cat_section *sec = &c->sections[c->casillas[k].section];
        assert_int_equal(sec->id, 0);
        assert_string_equal(c->districts[sec->district].name,
                            "VOTO EN EL EXTRANJERO, ANTICIPADO Y EN PRISI\xC3\x93N PREVENTIVA");
    }
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = NULL;
    assert_int_equal(prep_actas_load(p2, c, 0, &s, &d), PREP_OK);
    if (d.total) prep_diags_print(&d, stderr, 10);
    assert_int_equal(d.total, 0);
    assert_int_equal(s->n, 7);
    assert_int_equal(s->rows_bad, 0);
    int mesas = 0;
    for (size_t i = 0; i < s->n; i++)
        if (prep_cat_type_mesa(s->v[i].tipo_casilla)) {
            mesas++;
            assert_int_equal(s->v[i].status, PREP_ACTA_COUNTED);
        }
    assert_int_equal(mesas, 3);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_catalog_free(c);
    unlink(p2);
}

/* The published-file check, which needs no catalogue, gives the same 13 figures. */
static void test_mesas_check(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_filecheck_report r;
    prep_err e = prep_actas_check("mesas.csv", FILE_MESAS, sizeof FILE_MESAS - 1, NULL, &r, &d);
    if (e || d.total) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(r.rows_bad, 0);
    for (int i = 0; i < 13; i++) {
        if (!r.fig[i].equal) fprintf(stderr, "%s: %s against %s\n", r.fig[i].name, r.fig[i].computed, r.fig[i].stated);
        assert_true(r.fig[i].equal);
    }
    prep_actas_filecheck_report_free(&r);
    prep_diags_free(&d);
}

/* A casilla type no LEEME lists (IECM's draft export has a U): the file is not refused; the
 * derived catalogue says the letter in [rules] other_casilla_types (kept when the catalogue
 * is written and read again), with a note; the casilla counts as an ordinary one, so the
 * file's B row written as U gives the same 13 figures; with no lista nominal nothing caps
 * it (its file's CONTABILIZADA stands). */
static void test_other_type(void **st)
{
    (void)st;
    char text[sizeof FILE_MESAS];
    memcpy(text, FILE_MESAS, sizeof text);
    char *row = strstr(text, "090001B0100|090001B0100A02|");
    assert_non_null(row);
    row[6] = row[18] = 'U';
    char *t = strstr(row, "|01|B|");
    assert_non_null(t);
    t[4] = 'U';
    char p2[64];
    write_tmp(p2, sizeof p2, text, strlen(text));
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    assert_int_equal(prep_actas_derive_catalog(p2, NULL, &c, &d), PREP_OK);
    assert_int_equal(d.total, 1);
    const prep_diag *g = prep_diags_find(&d, "casilla-type");
    assert_non_null(g);
    assert_int_equal(g->line, 10);
    assert_int_equal(g->col, 9);
    assert_string_equal(c->rules.other_types, "U");
    uint32_t k = prep_catalog_find_casilla(c, "090001U0100");
    assert_int_not_equal(k, PREP_CAT_NONE);
    /* written and read again: the rule stays */
    prep_buf w;
    prep_buf_init(&w, 0);
    assert_int_equal(prep_catalog_write(c, &w), PREP_OK);
    assert_non_null(strstr(w.data, "\nother_casilla_types = U\n"));
    prep_catalog *c2 = NULL;
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(prep_catalog_parse("again.cat", w.data, w.len, &c2, &d), PREP_OK);
    assert_int_not_equal(prep_catalog_find_casilla(c2, "090001U0100"), PREP_CAT_NONE);
    prep_catalog_free(c2);
    /* counted like the B it was: the header's figures */
    prep_actas *s = NULL;
    assert_int_equal(prep_actas_load(p2, c, 0, &s, &d), PREP_OK);
    prep_tally *tl = NULL;
    assert_int_equal(prep_tally_new(c, &tl), PREP_OK);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(prep_tally_apply(tl, 0, &s->v[i], prep_acta_votes(s, &s->v[i])), PREP_OK);
    prep_summary sum;
    prep_tally_summary(tl, 0, 1, &sum);
    assert_int_equal(sum.esperadas, 6);
    assert_int_equal(sum.registradas, 7);
    assert_int_equal(sum.fuera_catalogo, 1);
    assert_int_equal(sum.capturadas, 6);
    assert_int_equal(sum.contabilizadas, 5);
    assert_int_equal(sum.no_contabilizadas, 1);
    assert_int_equal(sum.lista_nominal, 1550);
    assert_int_equal(sum.votos_c_cs, 1323);
    assert_int_equal(sum.votos_s_cs, 1073);
    prep_tally_free(tl);
    /* no lista nominal: no cap (150 votes over 0 + 4 representatives), counted as the row says */
    c->casillas[k].lista_nominal = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].casilla == k) {
            prep_acta a = s->v[i];
            assert_int_equal(prep_actas_classify(c, 0, &a, prep_acta_votes(s, &a)), PREP_ACTA_COUNTED);
        }
    prep_actas_free(s);
    prep_buf_free(&w);
    prep_diags_free(&d);
    prep_catalog_free(c);
    unlink(p2);
    /* the rule takes capital letters other than the known types, each once */
    prep_rules r;
    assert_int_equal(prep_catalog_rules_preset("ine", &r), 0);
    char msg[200];
    static const char *const bad[] = {"B", "u", "U U", "U1", "UM"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(prep_catalog_rules_set(&r, "other_casilla_types", bad[i], msg, sizeof msg), -1);
    assert_int_equal(prep_catalog_rules_set(&r, "other_casilla_types", "U Z", msg, sizeof msg), 0);
    assert_string_equal(r.other_types, "UZ");
    assert_true(prep_catalog_type_valid(&r, 'Z') && prep_catalog_type_valid(&r, 'S') && !prep_catalog_type_valid(&r, 'X'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_own_feed_strict),
        cmocka_unit_test(test_out_of_catalog_rule),
        cmocka_unit_test(test_mesas),
        cmocka_unit_test(test_mesas_check),
        cmocka_unit_test(test_other_type),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

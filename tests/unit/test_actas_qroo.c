/* The real Quintana Roo 2019 PREP cut (local deputies, final cut 03/06/2019 05:47 UTC-5,
 * $PREP_SHARED_DATA/qroo-2019-prep-dip-loc/): read with a catalogue derived from the
 * file itself (with and without its candidaturas CSV), every row classified by our
 * Anexo 13 rules must get the status the institute published in its own OBSERVACIONES
 * and CONTABILIZADA columns, and the rows must reproduce the file's header block.
 *
 * The expected statuses are taken from the raw file text with a plain split written
 * here (fopen, strchr), not with the project's reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/actas.h"

#define QDIR "/qroo-2019-prep-dip-loc/"
#define NLINES 4000

static char csv_path[512], cand_path[512];
static int expected[NLINES];        /* per source line: prep_acta_status + 1, 0 for no row */
static int expected_why[NLINES];    /* per source line: prep_acta_no_acta */
static size_t raw_rows, raw_count[6], raw_why[5];

static const char *shared_dir(void)
{
    const char *e = getenv("PREP_SHARED_DATA");
    return e && *e ? e : PREP_SHARED_DATA;
}

/* Field i (0-based) of a '|' line, copied into out. */
static void field(const char *line, int i, char *out, size_t outsz)
{
    const char *p = line;
    for (int k = 0; k < i && p; k++) {
        p = strchr(p, '|');
        if (p) p++;
    }
    size_t n = 0;
    if (p)
        while (p[n] && p[n] != '|') n++;
    if (n >= outsz) n = outsz - 1;
    if (p) memcpy(out, p, n);
    out[n] = 0;
}

static int column(const char *header, const char *name)
{
    char f[64];
    for (int i = 0; i < 200; i++) {
        field(header, i, f, sizeof f);
        if (!strcmp(f, name)) return i;
    }
    return -1;
}

/* Reads the expected statuses from the raw text. */
static int setup(void **st)
{
    (void)st;
    snprintf(csv_path, sizeof csv_path, "%s" QDIR "QROO_DIP_LOC_2019.csv", shared_dir());
    snprintf(cand_path, sizeof cand_path, "%s" QDIR "QROO_DIP_CANDIDATURAS_2019.csv", shared_dir());
    FILE *f = fopen(csv_path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", csv_path);
        return -1;
    }
    static char line[8192];
    int lineno = 0, obs = -1, cont = -1;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (obs < 0) {
            if (!strncmp(line, "CLAVE_CASILLA|", 14)) {
                obs = column(line, "OBSERVACIONES");
                cont = column(line, "CONTABILIZADA");
            }
            continue;
        }
        if (!n || lineno >= NLINES) continue;
        char o[128], c[8];
        field(line, obs, o, sizeof o);
        field(line, cont, c, sizeof c);
        int s = -1, why = PREP_ACTA_HAS_ACTA;
        if (!strcmp(o, "") && !strcmp(c, "1")) s = PREP_ACTA_COUNTED;
        else if (!strcmp(o, "ALGUN DATO ILEGIBLE O SIN DATO") && !strcmp(c, "1")) s = PREP_ACTA_COUNTED_SOME_ILLEGIBLE;
        else if (!strcmp(o, "TODOS ILEGIBLES O SIN DATO") && !strcmp(c, "0")) s = PREP_ACTA_NC_ALL_ILLEGIBLE;
        else if (!strcmp(o, "EXCEDE LISTA NOMINAL") && !strcmp(c, "0")) s = PREP_ACTA_NC_EXCEEDS_LN;
        else if (!strcmp(o, "FUERA DE CATALOGO") && !strcmp(c, "0")) s = PREP_ACTA_NC_OUT_OF_CATALOG;
        else if (!strcmp(o, "SIN ACTA POR PAQUETE NO ENTREGADO") && !strcmp(c, "0"))
            s = PREP_ACTA_NC_NO_ACTA, why = PREP_ACTA_NO_ACTA_NOT_DELIVERED;
        else if (!strcmp(o, "SIN ACTA POR CASILLA NO INSTALADA") && !strcmp(c, "0"))
            s = PREP_ACTA_NC_NO_ACTA, why = PREP_ACTA_NO_ACTA_NOT_INSTALLED;
        else if (!strcmp(o, "SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE") && !strcmp(c, "0"))
            s = PREP_ACTA_NC_NO_ACTA, why = PREP_ACTA_NO_ACTA_NO_ENVELOPE;
        if (s < 0) {
            fprintf(stderr, "line %d: unexpected OBSERVACIONES '%s' CONTABILIZADA '%s'\n", lineno, o, c);
            fclose(f);
            return -1;
        }
        expected[lineno] = s + 1;
        expected_why[lineno] = why;
        raw_rows++;
        raw_count[s]++;
        raw_why[why]++;
    }
    fclose(f);
    return 0;
}

static void test_raw_file_facts(void **st)
{
    (void)st;
    /* The file as published (PREP-RULES.md): 2,136 actas; 462 counted with an illegible
     * or blank field, 30 all illegible, 26 + 49 without acta; 1569 = 2136 - 462 - 30 - 75 */
    assert_int_equal(raw_rows, 2136);
    assert_int_equal(raw_count[PREP_ACTA_COUNTED], 1569);
    assert_int_equal(raw_count[PREP_ACTA_COUNTED_SOME_ILLEGIBLE], 462);
    assert_int_equal(raw_count[PREP_ACTA_NC_ALL_ILLEGIBLE], 30);
    assert_int_equal(raw_count[PREP_ACTA_NC_NO_ACTA], 75);
    assert_int_equal(raw_why[PREP_ACTA_NO_ACTA_NOT_DELIVERED], 26);
    assert_int_equal(raw_why[PREP_ACTA_NO_ACTA_NO_ENVELOPE], 49);
    assert_int_equal(raw_count[PREP_ACTA_NC_EXCEEDS_LN], 0);
    assert_int_equal(raw_count[PREP_ACTA_NC_OUT_OF_CATALOG], 0);
}

/* The catalogue derived from the file (and its candidaturas CSV when given). */
static prep_catalog *derived(const char *cand)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err e = prep_actas_derive_catalog(csv_path, cand, &c, &d);
    if (e != PREP_OK) {
        prep_diags_print(&d, stderr, 10);
        fail_msg("derive failed: %s", prep_err_str(e));
    }
    assert_int_equal(d.total, 0);
    prep_diags_free(&d);
    return c;
}

static prep_actas *load(const prep_catalog *c)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = NULL;
    prep_err e = prep_actas_load(csv_path, c, 0, &s, &d);
    if (e != PREP_OK || d.total) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(d.total, 0);
    prep_diags_free(&d);
    return s;
}

static void check_statuses(const prep_actas *s)
{
    size_t got[6] = {0};
    assert_int_equal(s->n, raw_rows);
    assert_int_equal(s->rows_bad, 0);
    for (size_t i = 0; i < s->n; i++) {
        const prep_acta *a = &s->v[i];
        assert_true(a->line < NLINES);
        if (expected[a->line] - 1 != a->status)
            fail_msg("line %u (%s): status %s, the file says %s", a->line, a->clave_acta,
                     prep_actas_status_tag(a->status), prep_actas_status_tag(expected[a->line] - 1));
        assert_int_equal(a->no_acta, expected_why[a->line]);
        got[a->status]++;
    }
    for (int k = 0; k < 6; k++) assert_int_equal(got[k], raw_count[k]);
}

/* The 13 figures of the header block, from the rows. Written out here (not the tally)
 * so this test checks the reader, the rules and prep_actas_summary_values only. */
static void check_summary(const prep_catalog *c, const prep_actas *s)
{
    prep_summary sum = {.esperadas = c->n_casillas, .final_cut = 1};
    for (size_t i = 0; i < s->n; i++) {
        const prep_acta *a = &s->v[i];
        sum.registradas++;
        if (a->status == PREP_ACTA_NC_OUT_OF_CATALOG) {
            sum.fuera_catalogo++;
            continue;
        }
        sum.capturadas++;
        if (prep_actas_status_inconsistent(&c->rules, a->status)) sum.inconsistentes++;
        if (!prep_acta_status_counted(a->status)) continue;
        sum.contabilizadas++;
        sum.lista_nominal += a->lista_nominal;
        sum.votos_c_cs += a->total_calculado;
        if (a->tipo_casilla != 'S') sum.votos_s_cs += a->total_calculado;
    }
    sum.no_contabilizadas = sum.capturadas - sum.contabilizadas;
    char v[13][32];
    prep_actas_summary_values(c, &sum, v);
    /* "2136|2136|0|2136|100.0000|2031|95.0842|23.0337|105|1187254|263005|262598|22.1523" */
    for (int i = 0; i < 13; i++) {
        const char *want = prep_actas_header_value(&s->hdr, i);
        assert_non_null(want);
        if (strcmp(v[i], want) != 0) fail_msg("%s: computed %s, the file says %s", prep_actas_summary_names[i], v[i], want);
    }
}

static void test_qroo_with_candidaturas(void **st)
{
    (void)st;
    prep_catalog *c = derived(cand_path);
    assert_int_equal(c->n_casillas, 2136);
    assert_int_equal(c->n_districts, 15);
    assert_int_equal(c->entity_id, 23);
    assert_string_equal(c->timezone, "America/Cancun");
    assert_string_equal(c->combo_prefix, "C_");
    assert_int_equal(c->rules.specials, PREP_CAT_SPECIALS_FINAL_ONLY);
    assert_int_equal(c->elections[0].n_cols, 23); /* 10 parties, 8 combinations, 3 independents, 2 */
    prep_actas *s = load(c);
    assert_int_equal(s->sep, '|');
    assert_int_equal(s->latin1, 0);
    assert_true(s->hdr.present);
    assert_string_equal(s->hdr.election_name, "DIPUTACIONES LOCALES");
    assert_string_equal(s->hdr.cut_text, "2019/06/03 05:47 (UTC-5)");
    assert_int_equal(s->hdr.cut, 1559558820); /* GNU date: 2019-06-03 10:47 UTC */
    /* the first row, field by field (line 8 of the file) */
    const prep_acta *a = &s->v[0];
    assert_int_equal(a->line, 8);
    assert_string_equal(a->clave_casilla, "230085B0100");
    assert_string_equal(a->clave_acta, "230085B010002");
    assert_int_equal(a->section_id, 85);
    assert_int_equal(a->district_id, 1);
    assert_int_equal(a->boletas_sobrantes, 426);
    assert_int_equal(a->total_asentado, 77);
    assert_int_equal(a->total_calculado, 77); /* 7+7+2+18+2+3+25+4+4+1 + 0 + 4 nulos = 77 */
    assert_int_equal(a->lista_nominal, 483);
    assert_int_equal(a->acopio, 1559547900); /* GNU date: TZ=America/Cancun 2019-06-03 02:45 */
    assert_string_equal(a->sha, "0973081e80ff64899e05a43f078c5f2d104b5458ff04560cd608ec120d9c9014");
    assert_int_equal(a->cotejada, -1); /* the real file has no COTEJADA column */
    check_statuses(s);
    check_summary(c, s);
    prep_actas_free(s);
    prep_catalog_free(c);
}

static void test_qroo_without_candidaturas(void **st)
{
    (void)st;
    prep_catalog *c = derived(NULL);
    prep_actas *s = load(c);
    check_statuses(s);
    check_summary(c, s);
    prep_actas_free(s);
    prep_catalog_free(c);
}

static void test_qroo_round_trip(void **st)
{
    (void)st;
    prep_catalog *c = derived(cand_path);
    prep_actas *s = load(c);
    prep_buf w;
    prep_buf_init(&w, 0);
    prep_summary sum = {.esperadas = 2136};
    assert_int_equal(prep_actas_write_header_block(c, 0, s->hdr.cut, &sum, &w), PREP_OK);
    assert_int_equal(prep_actas_write_columns(c, 0, &w), PREP_OK);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(prep_actas_write_row(c, 0, &s->v[i], prep_acta_votes(s, &s->v[i]), &w), PREP_OK);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *t = NULL;
    assert_int_equal(prep_actas_parse("rt.csv", w.data, w.len, c, 0, &t, &d), PREP_OK);
    assert_int_equal(d.total, 0);
    assert_int_equal(t->n, s->n);
    assert_string_equal(t->hdr.cut_text, "03/06/2019 05:47 (UTC-5)");
    uint32_t nc = c->elections[0].n_cols;
    for (size_t i = 0; i < s->n; i++) {
        const prep_acta *a = &s->v[i], *b = &t->v[i];
        assert_string_equal(a->clave_acta, b->clave_acta);
        assert_int_equal(a->status, b->status);
        assert_int_equal(a->no_acta, b->no_acta);
        assert_int_equal(a->total_calculado, b->total_calculado);
        assert_int_equal(a->total_asentado, b->total_asentado);
        assert_int_equal(a->acopio, b->acopio);
        assert_int_equal(a->verificacion, b->verificacion);
        assert_string_equal(a->sha, b->sha);
        assert_string_equal(a->tipo_documento, b->tipo_documento);
        assert_memory_equal(prep_acta_votes(s, a), prep_acta_votes(t, b), nc * sizeof(int32_t));
    }
    prep_actas_free(t);
    prep_diags_free(&d);
    prep_buf_free(&w);
    prep_actas_free(s);
    prep_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_file_facts),
        cmocka_unit_test(test_qroo_with_candidaturas),
        cmocka_unit_test(test_qroo_without_candidaturas),
        cmocka_unit_test(test_qroo_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

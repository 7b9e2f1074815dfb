/* render on a real cut: Quintana Roo's PREP 2019 (local deputies, final cut 03/06/2019
 * 05:47 UTC-5, $PREP_SHARED_DATA/qroo-2019-prep-dip-loc/), with the catalogue the actas
 * part derives from the file, re-rendered as our pages.
 *
 * Expected values come from the file's raw text, split here with strchr on '|' (not with
 * the project's reader): for a sample of sections, every row's casilla block on the section
 * page must show the row's status, OBSERVACIONES, SHA, times and every vote field as the
 * file has it, and the section's counted actas and total votes must be the sums of its
 * rows; the entity page must show the file's own header figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "prep/render.h"
#include "test_render_util.h"

#define QDIR "/qroo-2019-prep-dip-loc/"
#define MAXF 64
#define MAXROWS 3000

typedef struct rawrow {
    char *f[MAXF]; /* fields, pointing into the owned line copy */
    int n;
    char *line;
} rawrow;

static rawrow rows[MAXROWS];
static int nrows;
static char hdr_names[MAXF][40];
static int nhdr;
static char sum_names[16][48], sum_values[16][32];
static int nsum;
static char csv_path[512];

static const char *shared_dir(void)
{
    const char *e = getenv("PREP_SHARED_DATA");
    return e && *e ? e : PREP_SHARED_DATA;
}

static int split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *bar = strchr(p, '|');
        if (!bar) break;
        *bar = 0;
        p = bar + 1;
    }
    return n;
}

static int col(const char *name)
{
    for (int i = 0; i < nhdr; i++)
        if (!strcmp(hdr_names[i], name)) return i;
    return -1;
}

/* Reads the raw file: summary block, column names, rows (CLAVE_CASILLA without ="..."). */
static int read_raw(void)
{
    snprintf(csv_path, sizeof csv_path, "%s" QDIR "QROO_DIP_LOC_2019.csv", shared_dir());
    FILE *f = fopen(csv_path, "r");
    if (!f) return -1;
    char line[8192];
    int lno = 0, in_rows = 0;
    while (fgets(line, sizeof line, f)) {
        lno++;
        line[strcspn(line, "\r\n")] = 0;
        if (lno == 4 || lno == 5) { /* summary names, then values */
            char *fl[16];
            char tmp[8192];
            snprintf(tmp, sizeof tmp, "%s", line);
            int n = split(tmp, fl, 16);
            for (int i = 0; i < n; i++) snprintf(lno == 4 ? sum_names[i] : sum_values[i], 32, "%s", fl[i]);
            nsum = n;
            continue;
        }
        if (!strncmp(line, "CLAVE_CASILLA|", 14)) {
            char *fl[MAXF];
            int n = split(line, fl, MAXF);
            for (int i = 0; i < n; i++) snprintf(hdr_names[i], sizeof hdr_names[i], "%s", fl[i]);
            nhdr = n;
            in_rows = 1;
            continue;
        }
        if (!in_rows || !line[0] || nrows >= MAXROWS) continue;
        rawrow *r = &rows[nrows++];
        r->line = strdup(line);
        r->n = split(r->line, r->f, MAXF);
        char *k = r->f[0]; /* ="230085B0100" */
        if (k[0] == '=') k++;
        if (k[0] == '"') k++;
        k[strcspn(k, "\"")] = 0;
        r->f[0] = k;
    }
    fclose(f);
    return nrows ? 0 : -1;
}

static prep_catalog *cat;
static prep_actas *set;
static prep_tally *tal;
static prep_site site;

static int setup(void **state)
{
    (void)state;
    if (read_raw()) {
        fprintf(stderr, "cannot read %s\n", csv_path);
        return -1;
    }
    char cand[512];
    snprintf(cand, sizeof cand, "%s" QDIR "QROO_DIP_CANDIDATURAS_2019.csv", shared_dir());
    prep_diags d;
    prep_diags_init(&d);
    if (prep_actas_derive_catalog(csv_path, cand, &cat, &d)) return -1;
    prep_diags_free(&d);
    prep_diags_init(&d);
    if (prep_actas_load(csv_path, cat, 0, &set, &d)) return -1;
    prep_diags_free(&d);
    if (prep_tally_new(cat, &tal)) return -1;
    prep_tally_cursor cur;
    if (prep_tally_cursor_init(&cur, set) || prep_tally_apply_until(tal, set, &cur, INT64_MAX, NULL)) return -1;
    prep_tally_cursor_free(&cur);
    /* the file's own cut, and it is the final one (every expected acta captured) */
    prep_render_cut c = {.seq = 1, .at = set->hdr.cut, .drill = 0, .process_name = NULL,
                         .valid_until = PREP_TIME_NONE, .final_cut = 1};
    prep_render_opts o;
    prep_render_opts_init(&o);
    o.embedded = 0;
    prep_render_site_init(&site);
    return prep_render_site(tal, &c, &o, NULL, &site, NULL) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    prep_render_site_free(&site);
    prep_tally_free(tal);
    prep_actas_free(set);
    prep_catalog_free(cat);
    for (int i = 0; i < nrows; i++) free(rows[i].line);
    return 0;
}

/* The section page of section id s (district scope: one page per section). */
static char *section_page(unsigned s, char *path, size_t pathsz)
{
    char tail[64];
    snprintf(tail, sizeof tail, "/seccion-%04u/index.html", s);
    size_t tl = strlen(tail);
    for (size_t i = 0; i < site.n; i++) {
        size_t l = strlen(site.v[i].path);
        if (l > tl && !strcmp(site.v[i].path + l - tl, tail)) {
            snprintf(path, pathsz, "%s", site.v[i].path);
            return tr_text(&site.v[i]);
        }
    }
    return NULL;
}

static void test_page_per_section(void **state)
{
    (void)state;
    /* distinct SECCION values of the raw rows = section pages */
    int cs = col("SECCION");
    assert_true(cs >= 0);
    static unsigned char seen[10000];
    size_t distinct = 0;
    for (int i = 0; i < nrows; i++) {
        unsigned s = (unsigned)atoi(rows[i].f[cs]);
        if (s < 10000 && !seen[s]) {
            seen[s] = 1;
            distinct++;
        }
    }
    size_t pages = 0;
    for (size_t i = 0; i < site.n; i++)
        if (strstr(site.v[i].path, "/seccion-") && strstr(site.v[i].path, "/index.html")) pages++;
    assert_int_equal(nrows, 2136);
    assert_int_equal(pages, distinct);
}

static void test_entity_figures(void **state)
{
    (void)state;
    /* the file's header block: 2136|2136|0|2136|100.0000|2031|95.0842|23.0337|105|1187254|263005|262598|22.1523 */
    assert_int_equal(nsum, 13);
    assert_string_equal(sum_names[5], "ACTAS_CONTABILIZADAS");
    char *pg = NULL;
    for (size_t i = 0; i < site.n && !pg; i++)
        if (site.v[i].is_page && tr_count(site.v[i].path, "/") == 1 && strcmp(site.v[i].path, "base-de-datos/index.html") &&
            strcmp(site.v[i].path, "verificar/index.html") && strcmp(site.v[i].path, "difusores/index.html"))
            pg = tr_text(&site.v[i]);
    assert_non_null(pg);
    char want[256], a[32], b[32];
    tr_commas(atoll(sum_values[5]), a);
    tr_commas(atoll(sum_values[0]), b);
    snprintf(want, sizeof want, "<dt>Actas contabilizadas</dt><dd>%s de %s (%s%%)</dd>", a, b, sum_values[6]);
    assert_non_null(strstr(pg, want));
    tr_commas(atoll(sum_values[10]), a); /* TOTAL_VOTOS_C_CS */
    snprintf(want, sizeof want, "<dt>Total de votos</dt><dd>%s</dd>", a);
    assert_non_null(strstr(pg, want));
    tr_commas(atoll(sum_values[9]), a); /* LISTA_NOMINAL_ACTAS_CONTABILIZADAS */
    snprintf(want, sizeof want, "<dt>Lista nominal de actas contabilizadas</dt><dd>%s</dd>", a);
    assert_non_null(strstr(pg, want));
    /* the final cut: participation with special casillas, as the file's 22.1523 */
    snprintf(want, sizeof want, "<dt>Participaci\xC3\xB3n ciudadana</dt><dd>%s%%</dd>", sum_values[12]);
    assert_non_null(strstr(pg, want));
    snprintf(want, sizeof want, "<th scope=\"row\">Con inconsistencias</th><td>%s</td><td>%s%%</td>",
             (tr_commas(492, a), a), sum_values[7]); /* 462 + 30 = 492 (docs/formats/actas.md) */
    assert_non_null(strstr(pg, want));
    free(pg);
    /* and the database of the cut is the file's rows again */
    const prep_site_file *f = prep_render_site_find(&site, "base-de-datos/dip.csv");
    assert_non_null(f);
    char *csv = tr_text(f);
    assert_non_null(strstr(csv, "2136|2136|0|2136|100.0000|2031|95.0842|23.0337|105|1187254|263005|262598|22.1523"));
    free(csv);
}

/* The label a reader sees for a vote field of the file's header, derived from the name
 * by the file's own conventions (not by the renderer): "C_PAN_PRD" -> "PAN-PRD";
 * "CAND_IND_n" -> the candidate's name in the candidacies file, row of that district and
 * column, + " (independiente)"; the fixed fields -> the acta's wording (issue 16 item 5). */
static void reader_label(const char *name, const char *district, char *out, size_t n)
{
    static const char *const fixed[][2] = {
        {"NO_REGISTRADOS", "Candidaturas no registradas"},
        {"NULOS", "Votos nulos"},
        {"TOTAL_VOTOS_ASENTADO", "Total de votos asentado en el acta"},
        {"TOTAL_VOTOS_CALCULADO", "Total de votos calculado"},
        {"TOTAL_BOLETAS_SOBRANTES", "Boletas sobrantes"},
        {"TOTAL_PERSONAS_VOTARON", "Personas que votaron"},
        {"TOTAL_REP_PARTIDO_CI_VOTARON", "Representantes de partidos y de candidaturas independientes que votaron"},
        {"TOTAL_VOTOS_SACADOS", "Votos sacados de las urnas"}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!strcmp(name, fixed[i][0])) {
            snprintf(out, n, "%s", fixed[i][1]);
            return;
        }
    if (!strncmp(name, "CAND_IND_", 9)) {
        char path[512], line[1024];
        snprintf(path, sizeof path, "%s" QDIR "QROO_DIP_CANDIDATURAS_2019.csv", shared_dir());
        FILE *f = fopen(path, "r");
        snprintf(out, n, "?");
        while (f && fgets(line, sizeof line, f)) { /* ID_ESTADO,ID_DISTRITO,CONTENDER,NAME,... */
            line[strcspn(line, "\r\n")] = 0;
            char *fl[6] = {0};
            int k = 0;
            for (char *p = line; k < 6 && p; k++) {
                fl[k] = p;
                p = strchr(p, ',');
                if (p) *p++ = 0;
            }
            if (k >= 4 && atoi(fl[1]) == atoi(district) && !strcmp(fl[2], name)) {
                snprintf(out, n, "%s (independiente)", fl[3]);
                break;
            }
        }
        if (f) fclose(f);
        return;
    }
    size_t o = 0;
    for (const char *p = strncmp(name, "C_", 2) ? name : name + 2; *p && o + 1 < n; p++) out[o++] = *p == '_' ? '-' : *p;
    out[o] = 0;
}

/* One raw row against its casilla block. */
static void check_row(const char *page, const rawrow *r, const char *path)
{
    char want[512];
    snprintf(want, sizeof want, "<div class=\"acta\" id=\"casilla-%s\">", r->f[0]);
    const char *blk = strstr(page, want);
    if (!blk) print_error("%s: no block for %s\n", path, r->f[0]);
    assert_non_null(blk);
    const char *end = strstr(blk + 10, "<div class=\"acta\"");
    if (!end) end = strstr(blk, "</main>");
    size_t bl = (size_t)(end - blk);
    char *b = malloc(bl + 1);
    memcpy(b, blk, bl);
    b[bl] = 0;

    int counted = atoi(r->f[col("CONTABILIZADA")]);
    assert_non_null(strstr(b, counted ? "<dt>Estado</dt><dd>Contabilizada</dd>" : "<dt>Estado</dt><dd>No contabilizada</dd>"));
    const char *obs = r->f[col("OBSERVACIONES")];
    snprintf(want, sizeof want, "<dt>Observaciones</dt><dd>%s</dd>", obs[0] ? obs : "\xE2\x80\x94");
    if (!strstr(b, want)) print_error("%s %s: want %s\n", path, r->f[0], want);
    assert_non_null(strstr(b, want));
    const char *sha = r->f[col("SHA")];
    if (sha[0]) {
        snprintf(want, sizeof want, "<code>%s</code>", sha);
        assert_non_null(strstr(b, want));
    }
    static const char *const times[][2] = {{"FECHA_HORA_ACOPIO", "Acopio"},
                                           {"FECHA_HORA_CAPTURA", "Captura"},
                                           {"FECHA_HORA_VERIFICACION", "Verificaci\xC3\xB3n"}};
    for (int i = 0; i < 3; i++) {
        const char *v = r->f[col(times[i][0])];
        snprintf(want, sizeof want, "<dt>%s</dt><dd>%s</dd>", times[i][1], v[0] ? v : "\xE2\x80\x94");
        if (!strstr(b, want)) print_error("%s %s: want %s\n", path, r->f[0], want);
        assert_non_null(strstr(b, want));
    }
    /* every vote field as in the file: the columns between the ballot accounting and
     * TOTAL_VOTOS_ASENTADO, then the totals; "-" (not applicable here) is not shown */
    int first = col("TOTAL_VOTOS_SACADOS") + 1, last = col("TOTAL_VOTOS_ASENTADO");
    static const char *const extra[] = {"TOTAL_VOTOS_ASENTADO", "TOTAL_VOTOS_CALCULADO", "TOTAL_BOLETAS_SOBRANTES",
                                        "TOTAL_PERSONAS_VOTARON", "TOTAL_REP_PARTIDO_CI_VOTARON",
                                        "TOTAL_VOTOS_SACADOS"};
    const char *names[MAXF + 8];
    int nn = 0;
    for (int j = first; j < last; j++) names[nn++] = hdr_names[j];
    for (int k = 0; k < 6; k++) names[nn++] = extra[k];
    size_t checked = 0;
    for (int q = 0; q < nn; q++) {
        const char *name = names[q];
        int cj = col(name);
        const char *v = r->f[cj];
        char label[160];
        reader_label(name, r->f[col("ID_DISTRITO")], label, sizeof label);
        snprintf(want, sizeof want, "<th scope=\"row\">%s</th><td>", label);
        const char *cell = strstr(b, want);
        if (!strcmp(v, "-")) {
            assert_null(cell);
            continue;
        }
        /* docs/formats/actas.md "Applicability": 0 or SIN DATO in a column that does not
         * apply in the unit (QROO prints every combination) is stored as "-" */
        uint32_t jc = prep_catalog_find_column(cat, 0, name);
        if (jc != PREP_CAT_NONE && (!strcmp(v, "0") || !strcmp(v, "SIN DATO")) &&
            !prep_catalog_col_applies(cat, 0, prep_catalog_find_district(cat, cat->entity_id, (uint32_t)atoi(r->f[col("ID_DISTRITO")])), jc)) {
            assert_null(cell);
            continue;
        }
        if (!cell) print_error("%s %s: no cell %s\n", path, r->f[0], name);
        assert_non_null(cell);
        cell += strlen(want);
        char expect[64];
        if (v[0] >= '0' && v[0] <= '9') tr_commas(atoll(v), expect);
        else snprintf(expect, sizeof expect, "%s", v);
        size_t el = strlen(expect);
        if (strncmp(cell, expect, el) || strncmp(cell + el, "</td>", 5))
            print_error("%s %s %s: file %s, page %.20s\n", path, r->f[0], name, v, cell);
        assert_memory_equal(cell, expect, el);
        assert_memory_equal(cell + el, "</td>", 5);
        checked++;
    }
    assert_true(checked >= 8);
    free(b);
}

static void test_sample_sections(void **state)
{
    (void)state;
    int cs = col("SECCION"), cc = col("CONTABILIZADA"), ct = col("TOTAL_VOTOS_CALCULADO"), co = col("OBSERVACIONES");
    assert_true(cs >= 0 && cc >= 0 && ct >= 0 && co >= 0);
    /* the sample: every 40th distinct section in file order, plus the sections of the first
     * rows with each kind of OBSERVACIONES (illegible / sin acta / all illegible) */
    unsigned sample[128];
    int ns = 0, distinct = 0;
    unsigned prev = 0;
    for (int i = 0; i < nrows && ns < 100; i++) {
        unsigned s = (unsigned)atoi(rows[i].f[cs]);
        if (s != prev) {
            if (distinct++ % 40 == 0) sample[ns++] = s;
            prev = s;
        }
    }
    static const char *const kinds[] = {"ALGUN DATO", "SIN ACTA", "TODOS ILEGIBLES"};
    for (size_t k = 0; k < 3; k++) {
        int found = 0;
        for (int i = 0; i < nrows && found < 2; i++)
            if (strstr(rows[i].f[co], kinds[k])) {
                sample[ns++] = (unsigned)atoi(rows[i].f[cs]);
                found++;
            }
        assert_int_equal(found, 2);
    }
    size_t rows_checked = 0;
    for (int k = 0; k < ns; k++) {
        char path[512];
        char *pg = section_page(sample[k], path, sizeof path);
        assert_non_null(pg);
        /* no database column name reaches a reader (issue 16): the file's combination and
         * independent columns (C_PAN_PRD..., CAND_IND_n), NO_REGISTRADOS, the totals */
        static const char *const raw[] = {">C_", "C_PAN", "CAND_IND", "NO_REGISTRADOS", "TOTAL_VOTOS", "TOTAL_REP"};
        for (size_t q = 0; q < sizeof raw / sizeof raw[0]; q++) {
            if (strstr(pg, raw[q])) print_error("%s: shows %s\n", path, raw[q]);
            assert_null(strstr(pg, raw[q]));
        }
        long long counted = 0, expected = 0, total = 0;
        for (int i = 0; i < nrows; i++) {
            if ((unsigned)atoi(rows[i].f[cs]) != sample[k]) continue;
            expected++;
            if (atoi(rows[i].f[cc]) == 1) {
                counted++;
                total += atoll(rows[i].f[ct]);
            }
            check_row(pg, &rows[i], path);
            rows_checked++;
        }
        char want[256], a[32], b[32];
        tr_commas(counted, a);
        tr_commas(expected, b);
        snprintf(want, sizeof want, "<dt>Actas contabilizadas</dt><dd>%s de %s (", a, b);
        assert_non_null(strstr(pg, want));
        tr_commas(total, a);
        snprintf(want, sizeof want, "<dt>Total de votos</dt><dd>%s</dd>", a);
        if (!strstr(pg, want)) print_error("%s: want %s\n", path, want);
        assert_non_null(strstr(pg, want));
        free(pg);
    }
    assert_true(ns >= 20);
    assert_true(rows_checked >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_per_section),
        cmocka_unit_test(test_entity_figures),
        cmocka_unit_test(test_sample_sections),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

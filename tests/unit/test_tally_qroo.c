/* The tally on the real Quintana Roo 2019 PREP cut (local deputies, final cut
 * 03/06/2019 05:47 UTC-5, $PREP_SHARED_DATA/qroo-2019-prep-dip-loc/), with the
 * catalogue the actas part derives from the file.
 *
 * Expected values come from the file itself, not from the tally: the 13 figures of
 * its own header block, and per-district / per-column sums taken from the raw text
 * with a plain split written here (fopen, strchr), independent of the project's
 * reader. The tally is fed cut by cut (every 5 minutes through the night), so the
 * cursor and the incremental path produce the final figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/tally.h"

#define QDIR "/qroo-2019-prep-dip-loc/"
#define MAXD 64
#define MAXC 64

static char csv_path[512];
/* raw sums over rows with CONTABILIZADA = 1 */
static long long raw_votes_by_district[MAXD], raw_ln_by_district[MAXD];
static long long raw_col_sum[MAXC];
static char raw_col_name[MAXC][32];
static int raw_ncols;
static long raw_counted, raw_rows;

static const char *shared_dir(void)
{
    const char *e = getenv("PREP_SHARED_DATA");
    return e && *e ? e : PREP_SHARED_DATA;
}

static void field(const char *line, int i, char *out, size_t outsz)
{
    const char *p = line;
    for (int k = 0; k < i && p; k++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    size_t n = 0;
    if (p)
        while (p[n] && p[n] != '|')
            n++;
    if (n >= outsz)
        n = outsz - 1;
    if (p)
        memcpy(out, p, n);
    out[n] = 0;
}

static int column(const char *header, const char *name)
{
    char f[64];
    for (int i = 0; i < 200; i++) {
        field(header, i, f, sizeof f);
        if (!strcmp(f, name))
            return i;
    }
    return -1;
}

static int setup(void **st)
{
    (void)st;
    snprintf(csv_path, sizeof csv_path, "%s" QDIR "QROO_DIP_LOC_2019.csv", shared_dir());
    FILE *f = fopen(csv_path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", csv_path);
        return -1;
    }
    static char line[8192];
    int c_dist = -1, c_tot = -1, c_ln = -1, c_cont = -1, c_first = -1;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (c_dist < 0) {
            if (!strncmp(line, "CLAVE_CASILLA|", 14)) {
                c_dist = column(line, "ID_DISTRITO");
                c_tot = column(line, "TOTAL_VOTOS_CALCULADO");
                c_ln = column(line, "LISTA_NOMINAL");
                c_cont = column(line, "CONTABILIZADA");
                c_first = column(line, "PAN");
                int c_last = column(line, "NULOS");
                raw_ncols = c_last - c_first + 1;
                for (int j = 0; j < raw_ncols; j++)
                    field(line, c_first + j, raw_col_name[j], sizeof raw_col_name[j]);
            }
            continue;
        }
        if (!n)
            continue;
        raw_rows++;
        char v[64];
        field(line, c_cont, v, sizeof v);
        if (strcmp(v, "1") != 0)
            continue;
        raw_counted++;
        field(line, c_dist, v, sizeof v);
        int d = atoi(v);
        if (d <= 0 || d >= MAXD) {
            fclose(f);
            return -1;
        }
        field(line, c_tot, v, sizeof v);
        raw_votes_by_district[d] += atoll(v);
        field(line, c_ln, v, sizeof v);
        raw_ln_by_district[d] += atoll(v);
        for (int j = 0; j < raw_ncols; j++) {
            field(line, c_first + j, v, sizeof v);
            if (v[0] >= '0' && v[0] <= '9') /* numbers; SIN DATO, ILEGIBLE and - add 0 */
                raw_col_sum[j] += atoll(v);
        }
    }
    fclose(f);
    return raw_rows == 2136 ? 0 : -1;
}

static void test_qroo_tally(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err err = prep_actas_derive_catalog(csv_path, NULL, &c, &d);
    if (err != PREP_OK)
        prep_diags_print(&d, stderr, 10);
    assert_int_equal(err, PREP_OK);
    prep_diags_free(&d);
    prep_diags_init(&d);
    prep_actas *s = NULL;
    assert_int_equal(prep_actas_load(csv_path, c, 0, &s, &d), PREP_OK);
    assert_int_equal(d.total, 0);
    prep_diags_free(&d);
    assert_int_equal(s->n, 2136);

    /* cut by cut, every 5 minutes from the window's opening to the file's cut */
    prep_tally *t;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    prep_tally_cursor cur;
    assert_int_equal(prep_tally_cursor_init(&cur, s), PREP_OK);
    size_t total = 0, cuts = 0, n;
    uint32_t last_capt = 0;
    for (prep_time at = c->window_open; at <= s->hdr.cut; at += 300, cuts++) {
        assert_int_equal(prep_tally_apply_until(t, s, &cur, at, &n), PREP_OK);
        total += n;
        uint32_t capt = prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0)->capturadas;
        assert_true(capt >= last_capt); /* the night only grows */
        last_capt = capt;
    }
    assert_true(cuts > 100);
    assert_int_equal(prep_tally_apply_until(t, s, &cur, s->hdr.cut, &n), PREP_OK);
    total += n;
    assert_int_equal(total, 2136); /* every row verified by the file's cut instant */

    /* the file's own header block: 2136|2136|0|2136|100.0000|2031|95.0842|23.0337|105|
     * 1187254|263005|262598|22.1523 (final cut: participation with specials) */
    prep_summary sm;
    prep_tally_summary(t, 0, 1, &sm);
    char vals[13][32];
    prep_actas_summary_values(c, &sm, vals);
    for (int i = 0; i < 13; i++) {
        const char *want = prep_actas_header_value(&s->hdr, i);
        assert_non_null(want);
        if (strcmp(vals[i], want) != 0)
            fail_msg("%s: tally %s, the file says %s", prep_actas_summary_names[i], vals[i], want);
    }
    assert_int_equal(sm.contabilizadas, raw_counted);

    /* per district, from the raw text */
    uint32_t nd = prep_tally_level_size(t, PREP_TALLY_DISTRICT);
    assert_int_equal(nd, 15);
    long long sum_c = 0;
    for (uint32_t i = 0; i < nd; i++) {
        uint32_t id = c->districts[i].id;
        assert_true(id < MAXD);
        const prep_tally_agg *g = prep_tally_get(t, 0, PREP_TALLY_DISTRICT, i);
        assert_int_equal(g->votos_c_cs, raw_votes_by_district[id]);
        assert_int_equal(g->lista_nominal, raw_ln_by_district[id]);
        sum_c += g->votos_c_cs;
    }
    assert_int_equal(sum_c, 263005);

    /* per column at the entity, from the raw text */
    const prep_tally_agg *g = prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0);
    const prep_cat_election *el = &c->elections[0];
    assert_int_equal((int)el->n_cols, raw_ncols);
    int64_t party_cols = 0, party_sum = 0;
    for (int j = 0; j < raw_ncols; j++) {
        assert_string_equal(el->cols[j].name, raw_col_name[j]);
        assert_int_equal(g->votes[j], raw_col_sum[j]);
        if (el->cols[j].kind == PREP_CAT_COL_PARTY || el->cols[j].kind == PREP_CAT_COL_COMBO)
            party_cols += g->votes[j];
    }
    for (uint32_t p = 0; p < c->n_parties; p++)
        party_sum += g->party_votes[p];
    assert_int_equal(party_sum, party_cols); /* the split keeps every vote */

    /* the database written from the tally carries the same header values */
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_tally_db_write_csv(t, 0, s->hdr.cut, 1, &b), PREP_OK);
    assert_non_null(strstr(b.data, "2136|2136|0|2136|100.0000|2031|95.0842|23.0337|105|1187254|263005|262598|22.1523"));
    prep_buf_free(&b);

    prep_tally_cursor_free(&cur);
    prep_tally_free(t);
    prep_actas_free(s);
    prep_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qroo_tally),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

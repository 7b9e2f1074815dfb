/* Unit tests of the simulator (sim part): catalogues that the real parser accepts, with
 * the sizes and the real Querétaro geography promised in docs/formats/sim.md, and nights
 * whose arrival curve and inconsistency shares follow the options. Shares are checked
 * against the options with tolerances of about four standard deviations of a binomial
 * share (sd = sqrt(p (1 - p) / n)), worked out beside each assertion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prep/sim.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLOW 8.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW 8.0
#endif
#endif
#ifndef SLOW
#define SLOW 1.0
#endif

static double cpu_seconds(void) { return (double)clock() / CLOCKS_PER_SEC; }

static prep_catalog *make_catalog(prep_sim_scale scale, uint64_t seed)
{
    prep_catalog *c = NULL;
    assert_int_equal(prep_sim_catalog(scale, seed, &c), PREP_OK);
    assert_non_null(c);
    return c;
}

/* ---------------------------------------------------------------- catalogue text */

static void text_of(prep_sim_scale s, uint64_t seed, prep_buf *b)
{
    prep_buf_init(b, 0);
    assert_int_equal(prep_sim_catalog_text(s, seed, b), PREP_OK);
    assert_true(b->len > 100);
    assert_memory_equal(b->data, "prep-catalog 1\n", 15);
}

static void test_catalog_text_deterministic(void **st)
{
    (void)st;
    for (int s = 0; s < 3; s++) {
        prep_buf a, b, d;
        text_of((prep_sim_scale)s, 7, &a);
        text_of((prep_sim_scale)s, 7, &b);
        text_of((prep_sim_scale)s, 8, &d);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        assert_true(a.len != d.len || memcmp(a.data, d.data, a.len) != 0);
        prep_buf_free(&a);
        prep_buf_free(&b);
        prep_buf_free(&d);
    }
}

static void test_catalog_bad_args(void **st)
{
    (void)st;
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_sim_catalog_text((prep_sim_scale)9, 1, &b), PREP_ERR_USAGE);
    assert_int_equal(prep_sim_catalog_text(PREP_SIM_SCALE_TINY, 1, NULL), PREP_ERR_USAGE);
    prep_buf_free(&b);
    /* A buffer too small for the text: the limit is reported, not overrun. */
    prep_buf_init(&b, 1000);
    assert_int_equal(prep_sim_catalog_text(PREP_SIM_SCALE_QRO2021, 1, &b), PREP_ERR_LIMIT);
    prep_buf_free(&b);
    assert_int_equal(prep_sim_catalog(PREP_SIM_SCALE_TINY, 1, NULL), PREP_ERR_USAGE);
}

/* ---------------------------------------------------------------- Querétaro 2021 */

static uint32_t find_col(const prep_catalog *c, uint32_t e, const char *name)
{
    uint32_t j = prep_catalog_find_column(c, e, name);
    assert_int_not_equal(j, PREP_CAT_NONE);
    return j;
}

static void check_qro_counts(const prep_catalog *c)
{
    assert_string_equal(c->process_id, "qro2021");
    assert_int_equal(c->entity_id, 22);
    assert_string_equal(c->entity_name, "QUERÉTARO");
    assert_string_equal(c->timezone, "America/Mexico_City");
    assert_int_equal(c->cut_interval, 300);
    /* 2021-06-06 20:00 UTC-5 = 2021-06-07 01:00 UTC = 1623027600 (date -d ... +%s) */
    assert_int_equal(c->window_open, 1623027600);
    assert_int_equal(c->window_close, 1623027600 + 24 * 3600);
    assert_int_equal(c->n_municipalities, 18);
    assert_int_equal(c->n_districts, 15);
    assert_int_equal(c->n_parties, 11);
    assert_int_not_equal(prep_catalog_find_party(c, "QI"), PREP_CAT_NONE);
    assert_int_not_equal(prep_catalog_find_party(c, "MORENA"), PREP_CAT_NONE);
    assert_in_range(c->n_sections, 2300, 2700);
    assert_in_range(c->n_casillas, 4600, 5200);
    uint64_t ln = 0;
    uint32_t specials = 0, extra = 0, extra_c = 0;
    for (uint32_t i = 0; i < c->n_casillas; i++) {
        const prep_cat_casilla *k = &c->casillas[i];
        ln += k->lista_nominal;
        if (k->type == 'S') {
            specials++;
            assert_int_equal(k->lista_nominal, 0);
            assert_in_range(k->ballots, 700, 1000);
        } else {
            assert_in_range(k->lista_nominal, 1, 750); /* a casilla holds at most 750 voters */
            assert_int_equal(k->ballots, 0);
        }
        if (k->type == 'E') {
            extra++;
            extra_c += k->ext > 0;
        }
    }
    assert_in_range(ln, 1700000, 1900000);
    assert_in_range(specials, 20, 30);
    assert_true(extra >= 3);
    assert_true(extra_c >= 1);

    /* Every section in exactly one municipality and one district, and the grouping
     * nests: a municipality split among districts owns those districts alone. */
    uint32_t md[18][15];
    memset(md, 0, sizeof md);
    for (uint32_t s = 0; s < c->n_sections; s++) {
        assert_true(c->sections[s].municipality < 18 && c->sections[s].district < 15);
        assert_true(c->sections[s].n_casillas >= 1);
        md[c->sections[s].municipality][c->sections[s].district]++;
    }
    for (uint32_t m = 0; m < 18; m++) {
        uint32_t nd = 0;
        for (uint32_t d = 0; d < 15; d++) nd += md[m][d] > 0;
        assert_true(nd >= 1);
        if (nd > 1)
            for (uint32_t d = 0; d < 15; d++)
                if (md[m][d])
                    for (uint32_t m2 = 0; m2 < 18; m2++)
                        if (m2 != m) assert_int_equal(md[m2][d], 0);
    }
    uint32_t qro = prep_catalog_find_municipality(c, c->entity_id, 14);
    uint32_t nd_qro = 0;
    for (uint32_t d = 0; d < 15; d++) nd_qro += md[qro][d] > 0;
    assert_true(nd_qro >= 5); /* the capital holds several districts */

    /* Elections: scopes and units of the convocatoria (I.b). */
    assert_int_equal(c->n_elections, 3);
    uint32_t gub = prep_catalog_find_election(c, "gub"), ayu = prep_catalog_find_election(c, "ayu"),
             dip = prep_catalog_find_election(c, "dip");
    assert_int_not_equal(gub, PREP_CAT_NONE);
    assert_int_not_equal(ayu, PREP_CAT_NONE);
    assert_int_not_equal(dip, PREP_CAT_NONE);
    assert_int_equal(c->elections[gub].scope, PREP_CAT_SCOPE_ENTITY);
    assert_int_equal(c->elections[gub].n_units, 1);
    assert_int_equal(c->elections[ayu].scope, PREP_CAT_SCOPE_MUNICIPALITY);
    assert_int_equal(c->elections[ayu].n_units, 18);
    assert_int_equal(c->elections[dip].scope, PREP_CAT_SCOPE_DISTRICT);
    assert_int_equal(c->elections[dip].n_units, 15);
    /* Ten gubernatura candidacies; Mauricio Kuri for PAN and QI together. */
    uint32_t ngub = 0, kuri = 0;
    for (uint32_t k = 0; k < c->n_candidacies; k++) {
        const prep_cat_candidacy *cd = &c->candidacies[k];
        if (cd->election != gub) continue;
        ngub++;
        if (strcmp(cd->name, "Mauricio Kuri González") == 0) {
            kuri = 1;
            assert_int_equal(cd->kind, PREP_CAT_CAND_COALITION);
        }
    }
    assert_int_equal(ngub, 10);
    assert_true(kuri);
    find_col(c, gub, "C_PAN_QI");
    /* The MORENA+PT alliance runs in some ayuntamientos only: its combination column
     * applies in some units and is "-" in others. */
    uint32_t combo = find_col(c, ayu, "C_PT_MORENA");
    uint32_t on = 0;
    for (uint32_t u = 0; u < 18; u++) on += prep_catalog_col_applies(c, ayu, u, combo);
    assert_in_range(on, 1, 17);
    find_col(c, ayu, "CAND_IND_1");
    find_col(c, dip, "CAND_IND_1");
}

static void test_qro2021_counts(void **st)
{
    (void)st;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        prep_catalog *c = make_catalog(PREP_SIM_SCALE_QRO2021, seed);
        check_qro_counts(c);
        prep_catalog_free(c);
    }
}

/* Pulls the next "KEY": "VALUE" string after p, or NULL. */
static const char *json_str(const char *p, const char *key, char *out, size_t outsz)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *q = strstr(p, pat);
    if (!q) return NULL;
    q = strchr(q + strlen(pat), '"');
    if (!q) return NULL;
    const char *e = strchr(q + 1, '"');
    if (!e || (size_t)(e - q - 1) >= outsz) return NULL;
    memcpy(out, q + 1, (size_t)(e - q - 1));
    out[e - q - 1] = 0;
    return e + 1;
}

static void test_qro2021_geojson_municipalities(void **st)
{
    (void)st;
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(prep_read_file(PREP_SHARED_DATA "/geo/queretaro-municipios-2021.geojson",
                                    (size_t)16 << 20, &data, &len),
                     PREP_OK);
    prep_catalog *c = make_catalog(PREP_SIM_SCALE_QRO2021, 11);
    uint32_t seen = 0;
    const char *p = data;
    char cve[16], nom[128];
    while ((p = json_str(p, "CVE_MUN", cve, sizeof cve)) != NULL) {
        assert_non_null(json_str(p, "NOM_MUN", nom, sizeof nom));
        uint32_t id = (uint32_t)strtoul(cve, NULL, 10);
        uint32_t m = prep_catalog_find_municipality(c, c->entity_id, id);
        assert_int_not_equal(m, PREP_CAT_NONE);
        assert_string_equal(c->municipalities[m].name, nom);
        seen++;
    }
    assert_int_equal(seen, 18);
    assert_string_equal(c->municipalities[prep_catalog_find_municipality(c, c->entity_id, 14)].slug, "queretaro");
    assert_string_equal(c->municipalities[prep_catalog_find_municipality(c, c->entity_id, 13)].name, "Peñamiller");
    prep_catalog_free(c);
    free(data);
}

/* ---------------------------------------------------------------- TINY, NATIONAL */

static void test_tiny_shape_and_speed(void **st)
{
    (void)st;
    prep_catalog *c = make_catalog(PREP_SIM_SCALE_TINY, 3);
    assert_int_equal(c->n_municipalities, 3);
    assert_int_equal(c->n_districts, 2);
    assert_int_equal(c->n_sections, 10);
    assert_in_range(c->n_casillas, 18, 34);
    assert_int_equal(c->n_elections, 3);
    prep_catalog_free(c);
    /* 50 catalogues and nights: well under a second each (measured ~2 ms). */
    double t0 = cpu_seconds();
    for (uint64_t seed = 1; seed <= 50; seed++) {
        c = make_catalog(PREP_SIM_SCALE_TINY, seed);
        prep_sim_night_opts o;
        prep_sim_night_defaults(&o);
        o.seed = seed;
        prep_actas *sets[3];
        assert_int_equal(prep_sim_actas(c, &o, sets), PREP_OK);
        for (int e = 0; e < 3; e++) prep_actas_free(sets[e]);
        prep_catalog_free(c);
    }
    assert_true(cpu_seconds() - t0 < 2.0 * SLOW);
}

static void test_national_scale(void **st)
{
    (void)st;
    double t0 = cpu_seconds();
    prep_catalog *c = make_catalog(PREP_SIM_SCALE_NATIONAL, 1);
    double t_cat = cpu_seconds() - t0;
    assert_true(t_cat < 5.0 * SLOW);
    assert_int_equal(c->n_districts, 300);
    assert_int_equal(c->n_municipalities, 2400);
    assert_in_range(c->n_casillas, 155000, 185000);
    uint64_t ln = 0;
    for (uint32_t i = 0; i < c->n_casillas; i++) ln += c->casillas[i].lista_nominal;
    assert_in_range(ln, 85000000, 105000000);
    assert_true(c->n_elections >= 1);
    /* Three-party alliances: the four combinations of PAN PRI PRD, INE 2021 naming. */
    uint32_t dip = prep_catalog_find_election(c, "dip");
    assert_int_not_equal(dip, PREP_CAT_NONE);
    find_col(c, dip, "PAN_PRI_PRD");
    find_col(c, dip, "PRI_PRD");
    t0 = cpu_seconds();
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    prep_actas *sets[8];
    assert_true(c->n_elections <= 8);
    assert_int_equal(prep_sim_actas(c, &o, sets), PREP_OK);
    assert_true(cpu_seconds() - t0 < 10.0 * SLOW);
    for (uint32_t e = 0; e < c->n_elections; e++) {
        /* never_arrive 1%, plus ~1% corrections and 0.1% out of catalogue */
        assert_in_range(sets[e]->n, c->n_casillas * 97 / 100, c->n_casillas * 103 / 100);
        prep_actas_free(sets[e]);
    }
    prep_catalog_free(c);
}

/* ---------------------------------------------------------------- the night */

typedef struct night_fx {
    prep_catalog *c;
    prep_actas *sets[3];
    prep_sim_night_opts o;
} night_fx;

static int night_setup(void **st)
{
    night_fx *f = calloc(1, sizeof *f);
    if (!f) return -1;
    if (prep_sim_catalog(PREP_SIM_SCALE_QRO2021, 5, &f->c)) return -1;
    prep_sim_night_defaults(&f->o);
    f->o.seed = 42;
    if (prep_sim_actas(f->c, &f->o, f->sets)) return -1;
    *st = f;
    return 0;
}

static int night_teardown(void **st)
{
    night_fx *f = *st;
    for (int e = 0; e < 3; e++) prep_actas_free(f->sets[e]);
    prep_catalog_free(f->c);
    free(f);
    return 0;
}

static prep_time at(const prep_catalog *c, const char *wall)
{
    prep_time t;
    assert_int_equal(prep_time_parse(wall, c->timezone, &t), 0);
    return t;
}

static void test_night_defaults(void **st)
{
    (void)st;
    prep_sim_night_opts o;
    memset(&o, 0xff, sizeof o);
    prep_sim_night_defaults(&o);
    assert_true(fabs(o.corrections - 0.01) < 1e-12);
    assert_true(fabs(o.some_illegible - 0.2) < 1e-12);
    assert_true(fabs(o.all_illegible - 0.01) < 1e-12);
    assert_true(fabs(o.exceeds_ln - 0.003) < 1e-12);
    assert_true(fabs(o.no_acta - 0.03) < 1e-12);
    assert_true(fabs(o.out_of_catalog - 0.001) < 1e-12);
    assert_true(fabs(o.never_arrive - 0.01) < 1e-12);
}

static void test_night_curve(void **st)
{
    night_fx *f = *st;
    const prep_catalog *c = f->c;
    prep_time midnight = at(c, "2021-06-07 00:00"), four = at(c, "2021-06-07 04:00"),
              early = at(c, "2021-06-06 21:15"), noon = at(c, "2021-06-07 12:00");
    uint8_t *seen = malloc(c->n_casillas);
    assert_non_null(seen);
    for (uint32_t e = 0; e < 3; e++) {
        const prep_actas *s = f->sets[e];
        assert_int_equal(s->election, e);
        assert_ptr_equal(s->cat, c);
        memset(seen, 0, c->n_casillas);
        prep_time first = INT64_MAX, last = INT64_MIN, prev = INT64_MIN;
        uint32_t by_mid = 0, by_four = 0, after_noon = 0, mobile = 0, with_acta = 0;
        for (size_t i = 0; i < s->n; i++) {
            const prep_acta *a = &s->v[i];
            prep_time t = prep_actas_instant(a);
            assert_true(t >= prev); /* the set is in arrival order */
            prev = t;
            if (t < first) first = t;
            if (t > last) last = t;
            assert_true(t > c->window_open && t < c->window_close);
            assert_true(a->captura != PREP_TIME_NONE && a->verificacion > a->captura);
            assert_true(a->verificacion - a->captura <= 30 * 60);
            if (a->acopio != PREP_TIME_NONE) {
                assert_true(a->acopio >= c->window_open);
                assert_true(a->captura > a->acopio);
            }
            if (a->no_acta == PREP_ACTA_HAS_ACTA && a->cotejada == 1)
                assert_true(a->captura - a->acopio <= 2 * 3600); /* minutes apart, not hours */
            if (a->casilla == PREP_CAT_NONE || seen[a->casilla]) continue;
            seen[a->casilla] = 1;
            by_mid += t <= midnight;
            by_four += t <= four;
            after_noon += t > noon;
            if (a->no_acta == PREP_ACTA_HAS_ACTA) {
                with_acta++;
                mobile += strcmp(a->digitalizacion, "MOVIL") == 0;
            }
        }
        /* First actas about 20:30: after 20:00, before 21:15. */
        assert_true(first > c->window_open && first < early);
        /* Half by about midnight (40-60% of expected actas), most by 04:00, a tail. */
        double n = c->n_casillas;
        assert_true(by_mid / n > 0.40 && by_mid / n < 0.60);
        assert_true(by_four / n > 0.75 && by_four > by_mid);
        assert_true(after_noon > 0);
        assert_true(last > noon);
        /* Both channels: mobile photos from the casilla and CATD scans. */
        assert_true(mobile > with_acta / 5 && mobile < with_acta / 2);
    }
    free(seen);
}

/* Latest capture of each casilla's acta, re-classified here. */
static void test_night_status_shares(void **st)
{
    night_fx *f = *st;
    const prep_catalog *c = f->c;
    uint32_t *last = malloc(c->n_casillas * sizeof *last);
    uint32_t *caps = malloc(c->n_casillas * sizeof *caps);
    assert_non_null(last);
    assert_non_null(caps);
    double n = 0, by[6] = {0}, never = 0, corrected = 0, ooc = 0;
    for (uint32_t e = 0; e < 3; e++) {
        prep_actas *s = f->sets[e];
        memset(caps, 0, c->n_casillas * sizeof *caps);
        for (size_t i = 0; i < s->n; i++) {
            prep_acta *a = &s->v[i];
            prep_acta_status stt = prep_actas_classify(c, e, a, prep_acta_votes(s, a));
            if (a->casilla == PREP_CAT_NONE) {
                assert_int_equal(stt, PREP_ACTA_NC_OUT_OF_CATALOG);
                assert_int_equal(prep_catalog_find_casilla(c, a->clave_casilla), PREP_CAT_NONE);
                assert_int_equal(strncmp(a->clave_acta, a->clave_casilla, strlen(a->clave_casilla)), 0);
                ooc++;
                continue;
            }
            assert_string_equal(a->clave_casilla, c->casillas[a->casilla].key);
            last[a->casilla] = (uint32_t)i;
            caps[a->casilla]++;
        }
        for (uint32_t k = 0; k < c->n_casillas; k++) {
            n++;
            if (!caps[k]) {
                never++;
                continue;
            }
            corrected += caps[k] > 1;
            assert_true(caps[k] <= 2);
            by[s->v[last[k]].status]++;
        }
    }
    /* n = 3 x ~4,900 expected actas, about 14,700. Tolerance ~4 sd:
     *   some illegible p=0.2:   sd = sqrt(.2*.8/14700)  = 0.0033 -> 0.015
     *   no acta        p=0.03:  sd = sqrt(.03*.97/14700) = 0.0014 -> 0.006
     *   never arrive   p=0.01:  sd = 0.00082              -> 0.0035
     *   all illegible  p=0.01:  same                      -> 0.0035
     *   exceeds        p=0.003: sd = 0.00045              -> 0.002
     *   out of catalogue p=0.001 (of expected actas): sd = 0.00026 -> 0.0011
     * Corrections are 1% of the counted ones (96% of actas), a few too late to happen. */
    assert_true(fabs(by[PREP_ACTA_COUNTED_SOME_ILLEGIBLE] / n - f->o.some_illegible) < 0.015);
    assert_true(fabs(by[PREP_ACTA_NC_NO_ACTA] / n - f->o.no_acta) < 0.006);
    assert_true(fabs(never / n - f->o.never_arrive) < 0.0035);
    assert_true(fabs(by[PREP_ACTA_NC_ALL_ILLEGIBLE] / n - f->o.all_illegible) < 0.0035);
    assert_true(fabs(by[PREP_ACTA_NC_EXCEEDS_LN] / n - f->o.exceeds_ln) < 0.002);
    assert_true(fabs(ooc / n - f->o.out_of_catalog) < 0.0011);
    assert_true(ooc >= 1);
    assert_true(corrected / n > 0.005 && corrected / n < 0.015);
    assert_int_equal(by[PREP_ACTA_NC_OUT_OF_CATALOG], 0);
    /* The rest is counted with every field legible: 1 - .2 - .03 - .01 - .01 - .003 = 0.747 */
    assert_true(fabs(by[PREP_ACTA_COUNTED] / n - 0.747) < 0.02);
    free(last);
    free(caps);
}

static void test_night_applicability(void **st)
{
    night_fx *f = *st;
    const prep_catalog *c = f->c;
    uint32_t dashes = 0;
    for (uint32_t e = 0; e < 3; e++) {
        const prep_actas *s = f->sets[e];
        uint32_t nc = c->elections[e].n_cols;
        for (size_t i = 0; i < s->n; i++) {
            const prep_acta *a = &s->v[i];
            if (a->casilla == PREP_CAT_NONE) continue;
            uint32_t u = prep_catalog_unit_of(c, e, a->casilla);
            const int32_t *v = prep_acta_votes(s, a);
            for (uint32_t j = 0; j < nc; j++) {
                int applies = prep_catalog_col_applies(c, e, u, j);
                assert_int_equal(v[j] == PREP_ACTA_V_NA, !applies);
                dashes += !applies;
                if (applies) assert_true(v[j] >= 0 || v[j] == PREP_ACTA_V_ILEGIBLE ||
                                         v[j] == PREP_ACTA_V_SIN_DATO || v[j] == PREP_ACTA_V_NONE);
                if (v[j] == PREP_ACTA_V_NONE) assert_int_not_equal(a->no_acta, PREP_ACTA_HAS_ACTA);
            }
        }
    }
    assert_true(dashes > 0); /* per-unit applicability was exercised */
}

static void test_night_fields(void **st)
{
    night_fx *f = *st;
    const prep_catalog *c = f->c;
    uint32_t gub = prep_catalog_find_election(c, "gub");
    uint32_t pan = find_col(c, gub, "PAN"), morena = find_col(c, gub, "MORENA");
    int64_t v_pan = 0, v_morena = 0, total = 0;
    uint32_t reasons[4] = {0};
    for (uint32_t e = 0; e < 3; e++) {
        const prep_actas *s = f->sets[e];
        for (size_t i = 0; i < s->n; i++) {
            const prep_acta *a = &s->v[i];
            const int32_t *v = prep_acta_votes(s, a);
            assert_int_equal(a->status, prep_actas_classify(c, e, (prep_acta *)a, v));
            if (a->no_acta != PREP_ACTA_HAS_ACTA) {
                reasons[a->no_acta]++;
                assert_string_equal(a->sha, "");
                continue;
            }
            assert_true(prep_is_sha256_hex(a->sha));
            if (strcmp(a->origen, "CASILLA") == 0) assert_string_equal(a->digitalizacion, "MOVIL");
            else {
                assert_string_equal(a->origen, "CATD");
                assert_string_equal(a->digitalizacion, "ESCANER");
            }
            if (a->casilla == PREP_CAT_NONE) continue;
            const prep_cat_casilla *k = &c->casillas[a->casilla];
            assert_int_equal(a->lista_nominal, k->lista_nominal);
            if (prep_acta_status_counted((prep_acta_status)a->status)) {
                int64_t cap = (k->type == 'S' ? k->ballots : k->lista_nominal) + k->representatives;
                assert_true(a->total_calculado <= cap);
                assert_true(a->personas_votaron >= 0 && a->personas_votaron <= (int32_t)(k->type == 'S' ? k->ballots : k->lista_nominal));
            }
            if (a->status == PREP_ACTA_NC_EXCEEDS_LN) {
                int64_t cap = (k->type == 'S' ? k->ballots : k->lista_nominal) + k->representatives;
                assert_true(a->total_calculado > cap);
            }
            if (e == gub && a->status == PREP_ACTA_COUNTED) {
                v_pan += v[pan];
                v_morena += v[morena];
                total += a->total_calculado;
            }
        }
    }
    /* Every "sin acta" reason occurs. */
    assert_true(reasons[PREP_ACTA_NO_ACTA_NOT_DELIVERED] > 0 && reasons[PREP_ACTA_NO_ACTA_NOT_INSTALLED] > 0 &&
                reasons[PREP_ACTA_NO_ACTA_NO_ENVELOPE] > 0);
    /* Gubernatura near the real preliminary result: PAN (alone, without QI and the
     * combination) 40-55%, MORENA 18-30%; turnout of the counted actas 40-65%. */
    assert_true(v_pan > total * 40 / 100 && v_pan < total * 55 / 100);
    assert_true(v_morena > total * 18 / 100 && v_morena < total * 30 / 100);
}

static void test_night_turnout(void **st)
{
    night_fx *f = *st;
    const prep_catalog *c = f->c;
    const prep_actas *s = f->sets[0];
    int64_t votes = 0, ln = 0;
    for (size_t i = 0; i < s->n; i++) {
        const prep_acta *a = &s->v[i];
        if (a->status != PREP_ACTA_COUNTED || a->casilla == PREP_CAT_NONE) continue;
        if (c->casillas[a->casilla].type == 'S') continue;
        votes += a->total_calculado;
        ln += a->lista_nominal;
    }
    assert_true(ln > 0);
    assert_true(votes > ln * 45 / 100 && votes < ln * 60 / 100);
}

static void compare_sets(const prep_actas *a, const prep_actas *b, uint32_t n_cols, int *same)
{
    if (a->n != b->n) {
        *same = 0;
        return;
    }
    for (size_t i = 0; i < a->n; i++) {
        const prep_acta *x = &a->v[i], *y = &b->v[i];
        if (strcmp(x->clave_acta, y->clave_acta) || strcmp(x->sha, y->sha) || x->captura != y->captura ||
            x->verificacion != y->verificacion || x->acopio != y->acopio || x->status != y->status ||
            memcmp(prep_acta_votes(a, x), prep_acta_votes(b, y), n_cols * sizeof(int32_t))) {
            *same = 0;
            return;
        }
    }
}

static void test_night_deterministic(void **st)
{
    (void)st;
    prep_catalog *c = make_catalog(PREP_SIM_SCALE_QRO2021, 9);
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    o.seed = 77;
    prep_actas *a[3], *b[3], *d[3];
    assert_int_equal(prep_sim_actas(c, &o, a), PREP_OK);
    assert_int_equal(prep_sim_actas(c, &o, b), PREP_OK);
    o.seed = 78;
    assert_int_equal(prep_sim_actas(c, &o, d), PREP_OK);
    int same_ab = 1, same_ad = 1;
    for (int e = 0; e < 3; e++) {
        compare_sets(a[e], b[e], c->elections[e].n_cols, &same_ab);
        compare_sets(a[e], d[e], c->elections[e].n_cols, &same_ad);
    }
    assert_true(same_ab);
    assert_false(same_ad);
    for (int e = 0; e < 3; e++) {
        prep_actas_free(a[e]);
        prep_actas_free(b[e]);
        prep_actas_free(d[e]);
    }
    prep_catalog_free(c);
}

/* All inconsistency options at 0: one clean, counted capture of every acta. */
static void test_night_clean(void **st)
{
    (void)st;
    prep_catalog *c = make_catalog(PREP_SIM_SCALE_TINY, 4);
    prep_sim_night_opts o;
    memset(&o, 0, sizeof o);
    o.seed = 5;
    prep_actas *s[3];
    assert_int_equal(prep_sim_actas(c, &o, s), PREP_OK);
    for (uint32_t e = 0; e < 3; e++) {
        assert_int_equal(s[e]->n, c->n_casillas);
        for (size_t i = 0; i < s[e]->n; i++) {
            assert_int_equal(s[e]->v[i].status, PREP_ACTA_COUNTED);
            assert_true(s[e]->v[i].total_calculado > 0);
        }
        prep_actas_free(s[e]);
    }
    /* And everything at once: every acta is "sin acta". */
    o.no_acta = 1.0;
    assert_int_equal(prep_sim_actas(c, &o, s), PREP_OK);
    for (uint32_t e = 0; e < 3; e++) {
        assert_int_equal(s[e]->n, c->n_casillas);
        for (size_t i = 0; i < s[e]->n; i++) assert_int_equal(s[e]->v[i].status, PREP_ACTA_NC_NO_ACTA);
        prep_actas_free(s[e]);
    }
    /* NULL options mean the defaults; NULL catalogue is a usage error. */
    assert_int_equal(prep_sim_actas(c, NULL, s), PREP_OK);
    for (uint32_t e = 0; e < 3; e++) prep_actas_free(s[e]);
    assert_int_equal(prep_sim_actas(NULL, &o, s), PREP_ERR_USAGE);
    prep_catalog_free(c);
}

/* The night generator works on any valid catalogue, not only generated ones: here the
 * catalogue part's hand-written test file (every casilla type, a coalition in some
 * units, independents). With no inconsistencies asked for, every acta arrives once,
 * counted, inside the window, "-" exactly where a column does not apply. */
static void test_night_any_catalogue(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    assert_int_equal(prep_catalog_load(PREP_TEST_DATA "/catalog/small.cat", &c, &d), PREP_OK);
    prep_sim_night_opts o;
    memset(&o, 0, sizeof o);
    o.seed = 3;
    prep_actas *s[8];
    assert_true(c->n_elections <= 8);
    assert_int_equal(prep_sim_actas(c, &o, s), PREP_OK);
    for (uint32_t e = 0; e < c->n_elections; e++) {
        assert_int_equal(s[e]->n, c->n_casillas);
        for (size_t i = 0; i < s[e]->n; i++) {
            const prep_acta *a = &s[e]->v[i];
            assert_int_equal(a->status, PREP_ACTA_COUNTED);
            assert_true(prep_actas_instant(a) > c->window_open && prep_actas_instant(a) < c->window_close);
            uint32_t u = prep_catalog_unit_of(c, e, a->casilla);
            const int32_t *v = prep_acta_votes(s[e], a);
            for (uint32_t j = 0; j < c->elections[e].n_cols; j++)
                assert_int_equal(v[j] == PREP_ACTA_V_NA, !prep_catalog_col_applies(c, e, u, j));
        }
        prep_actas_free(s[e]);
    }
    prep_catalog_free(c);
    prep_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_text_deterministic),
        cmocka_unit_test(test_catalog_bad_args),
        cmocka_unit_test(test_qro2021_counts),
        cmocka_unit_test(test_qro2021_geojson_municipalities),
        cmocka_unit_test(test_tiny_shape_and_speed),
        cmocka_unit_test(test_national_scale),
        cmocka_unit_test(test_night_defaults),
        cmocka_unit_test_setup_teardown(test_night_curve, night_setup, night_teardown),
        cmocka_unit_test_setup_teardown(test_night_status_shares, night_setup, night_teardown),
        cmocka_unit_test_setup_teardown(test_night_applicability, night_setup, night_teardown),
        cmocka_unit_test_setup_teardown(test_night_fields, night_setup, night_teardown),
        cmocka_unit_test_setup_teardown(test_night_turnout, night_setup, night_teardown),
        cmocka_unit_test(test_night_deterministic),
        cmocka_unit_test(test_night_clean),
        cmocka_unit_test(test_night_any_catalogue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

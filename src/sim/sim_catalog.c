/* prep sim: realistic catalogues, written as catalogue TEXT in the documented format
 * (docs/formats/catalog.md) and read back with the real parser, so what the drill uses
 * is exactly what a hand-written file would give. The model and its numbers:
 * docs/formats/sim.md. Deterministic per (scale, seed): one prep_rng drives everything,
 * consumed in a fixed order. */
#include "sim_internal.h"

#include "prep/catalog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sim_put(sim_gen *g, const char *fmt, ...)
{
    if (g->err) return;
    va_list ap;
    va_start(ap, fmt);
    g->err = prep_buf_vprintf(g->out, fmt, ap);
    va_end(ap);
}

sim_gsec *sim_add_section(sim_gen *g)
{
    if (g->err) return NULL;
    if (g->n_sec == g->cap_sec) {
        size_t nc = g->cap_sec ? g->cap_sec * 2 : 1024;
        sim_gsec *p = realloc(g->sec, nc * sizeof *p);
        if (!p) {
            g->err = PREP_ERR_NOMEM;
            return NULL;
        }
        g->sec = p;
        g->cap_sec = nc;
    }
    sim_gsec *s = &g->sec[g->n_sec++];
    memset(s, 0, sizeof *s);
    return s;
}

double sim_lognorm1(prep_rng *r, double sigma)
{
    return exp(sigma * prep_rng_normal(r) - sigma * sigma / 2.0);
}

void sim_put_name(sim_gen *g)
{
    const char *f = sim_first_names[prep_rng_below(&g->rng, sim_n_first_names)];
    const char *s1 = sim_surnames[prep_rng_below(&g->rng, sim_n_surnames)];
    const char *s2 = sim_surnames[prep_rng_below(&g->rng, sim_n_surnames)];
    sim_put(g, "%s %s %s", f, s1, s2);
}

void sim_put_process(sim_gen *g, const char *id, const char *name, const char *institute,
                        uint32_t entity_id, const char *entity, const char *combo_prefix,
                        int indep_first)
{
    sim_put(g, "[process]\n");
    sim_put(g, "id = %s\nname = %s\ninstitute = %s\n", id, name, institute);
    sim_put(g, "entity_id = %u\nentity = %s\n", entity_id, entity);
    sim_put(g, "timezone = America/Mexico_City\n");
    sim_put(g, "window_open = 2021-06-06 20:00\nwindow_close = 2021-06-07 20:00\n");
    sim_put(g, "cut_interval = 300\n");
    sim_put(g, "combo_prefix = %s\n", combo_prefix);
    sim_put(g, "independents_first = %s\n", indep_first ? "yes" : "no");
    sim_put(g, "csv_separator = |\npercent_decimals = 4\n"); /* rules: the ine profile, unless [rules] is added */
    if (g->map) {
        const uint32_t *v = g->map->map_viewbox;
        sim_put(g, "map_viewbox = %u %u %u %u\n", v[0], v[1], v[2], v[3]);
    }
    sim_put(g, "\n");
    /* The labels are the defaults (QROO 2019 wording); written out so a drill file shows
     * where an institute's own wording goes. */
    sim_put(g, "[labels]\n");
    sim_put(g, "some_illegible = ALGUN DATO ILEGIBLE O SIN DATO\n");
    sim_put(g, "all_illegible = TODOS ILEGIBLES O SIN DATO\n");
    sim_put(g, "exceeds_ln = EXCEDE LISTA NOMINAL\n");
    sim_put(g, "no_acta_not_delivered = SIN ACTA POR PAQUETE NO ENTREGADO\n");
    sim_put(g, "no_acta_not_installed = SIN ACTA POR CASILLA NO INSTALADA\n");
    sim_put(g, "no_acta_no_envelope = SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE\n");
    sim_put(g, "out_of_catalog = FUERA DE CATALOGO\n\n");
}

void sim_put_parties(sim_gen *g, const sim_party_def *p, size_t n)
{
    sim_put(g, "[parties]\nid|name|color\n");
    for (size_t i = 0; i < n; i++) sim_put(g, "%s|%s|%s\n", p[i].id, p[i].name, p[i].color);
    sim_put(g, "\n");
}

void sim_put_party_list(sim_gen *g, const sim_party_def *p, size_t n)
{
    for (size_t i = 0; i < n; i++) sim_put(g, "%s%s", i ? " " : "", p[i].id);
}

/* The casillas of one section, each row starting with `lead` ("" or "ENTITY|"). The
 * básica and contiguas share the section's LN (one per cas_cap voters or fraction, split
 * evenly, the first ones get the remainder); an extraordinaria (and its contiguas,
 * E1C1...) takes 20-50% of a rural section's LN; specials have LN 0 and 750 ballots
 * (1 in 10 gets 1,000). */
void sim_put_section_casillas(sim_gen *g, const char *lead, const sim_gsec *s)
{
    const uint32_t cap = g->cas_cap;
    uint32_t le = 0;
    if (s->extra) le = (uint32_t)(s->ln * (0.2 + 0.3 * prep_rng_unit(&g->rng)));
    uint32_t lb = s->ln - le;
    uint32_t n = lb ? (lb + cap - 1) / cap : 1;
    if (n > 99) n = 99;
    unsigned urb = s->urban ? 1 : 2;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t ln = lb / n + (k < lb % n ? 1 : 0);
        uint32_t reps = g->reps_min + (uint32_t)prep_rng_below(&g->rng, g->reps_span);
        sim_put(g, "%s%u|%c|%u|0|%u|%u|%u|0\n", lead, s->id, k == 0 ? 'B' : 'C', k == 0 ? 1 : k, urb, ln,
                reps);
    }
    if (le) {
        uint32_t ne = (le + cap - 1) / cap;
        if (ne > 99) ne = 99;
        for (uint32_t k = 0; k < ne; k++) {
            uint32_t ln = le / ne + (k < le % ne ? 1 : 0);
            uint32_t reps = g->reps_min + (uint32_t)prep_rng_below(&g->rng, g->reps_span);
            sim_put(g, "%s%u|E|1|%u|2|%u|%u|0\n", lead, s->id, k, ln, reps);
        }
    }
    for (uint32_t k = 0; k < s->specials; k++) {
        uint32_t reps = g->reps_min + (uint32_t)prep_rng_below(&g->rng, g->reps_span);
        uint32_t ballots = prep_rng_below(&g->rng, 10) == 0 ? 1000 : 750;
        sim_put(g, "%s%u|S|%u|0|1|0|%u|%u\n", lead, s->id, k + 1, reps, ballots);
    }
}

/* [sections] then [casillas] from g->sec (one-entity catalogues). */
static void put_geo_casillas(sim_gen *g)
{
    sim_put(g, "[sections]\nid|district|municipality\n");
    for (size_t i = 0; i < g->n_sec; i++)
        sim_put(g, "%u|%u|%u\n", g->sec[i].id, g->sec[i].district, g->sec[i].municipality);
    sim_put(g, "\n[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots\n");
    for (size_t i = 0; i < g->n_sec && !g->err; i++) sim_put_section_casillas(g, "", &g->sec[i]);
    sim_put(g, "\n");
}

/* ---------------------------------------------------------------- Querétaro 2021 */

/* Sections of one municipality: urban ones larger; LN shares lognormal. */
static void qro_sections(sim_gen *g, const sim_qro_muni *m, uint32_t *next_id)
{
    size_t first = g->n_sec;
    double *w = malloc(m->sections * sizeof *w);
    if (!w) {
        g->err = PREP_ERR_NOMEM;
        return;
    }
    double tot = 0;
    for (uint32_t i = 0; i < m->sections; i++) {
        sim_gsec *s = sim_add_section(g);
        if (!s) break;
        if (prep_rng_below(&g->rng, 50) == 0) (*next_id)++; /* a retired section number */
        s->id = (*next_id)++;
        s->municipality = m->id;
        s->district = m->district + (uint32_t)(((uint64_t)i * m->n_districts) / m->sections);
        s->urban = prep_rng_unit(&g->rng) < m->urban;
        w[i] = (s->urban ? 1.5 : 0.75) * sim_lognorm1(&g->rng, 0.45);
        tot += w[i];
    }
    if (g->err) {
        free(w);
        return;
    }
    for (uint32_t i = 0; i < m->sections; i++) {
        sim_gsec *s = &g->sec[first + i];
        double v = m->ln * w[i] / tot;
        s->ln = v < 60 ? 60 : (uint32_t)(v + 0.5);
        s->extra = !s->urban && s->ln >= 300 && prep_rng_below(&g->rng, 30) == 0;
        /* Some of them hold a large remote locality: its extraordinaria gets contiguas. */
        if (s->extra && prep_rng_below(&g->rng, 3) == 0) s->ln += 1300;
    }
    free(w);
    /* Specials go to urban sections where there are some (they serve voters in transit). */
    for (uint32_t k = 0; k < m->specials; k++) {
        uint32_t pick = (uint32_t)prep_rng_below(&g->rng, m->sections);
        for (uint32_t t = 0; t < m->sections; t++) {
            sim_gsec *s = &g->sec[first + (pick + t) % m->sections];
            if (s->urban || t + 1 == m->sections) {
                if (s->specials < 2) {
                    s->specials++;
                    break;
                }
            }
        }
    }
}

/* One unit's candidacies: parties in ballot order, an alliance replacing its members
 * where it runs (written at its first member's place), then independents. */
static void qro_unit_candidacies(sim_gen *g, const char *election, uint32_t unit, uint32_t coal,
                                 const char *absent, uint32_t independents, const char *panqi,
                                 const char *morpt)
{
    for (size_t p = 0; p < SIM_QRO_N_PARTIES; p++) {
        const char *id = sim_qro_parties[p].id;
        if (sim_word_in(absent, id)) continue;
        const char *contender = id;
        if ((coal & 1u) && (strcmp(id, "PAN") == 0 || strcmp(id, "QI") == 0)) {
            if (strcmp(id, "QI") == 0) continue;
            contender = panqi;
        }
        if ((coal & 2u) && (strcmp(id, "MORENA") == 0 || strcmp(id, "PT") == 0)) {
            if (strcmp(id, "MORENA") == 0) continue; /* PT comes first on the ballot */
            contender = morpt;
        }
        sim_put(g, "%s|%u|%s|", election, unit, contender);
        sim_put_name(g);
        sim_put(g, "\n");
    }
    for (uint32_t k = 1; k <= independents; k++) {
        sim_put(g, "%s|%u|CAND_IND_%u|", election, unit, k);
        sim_put_name(g);
        sim_put(g, "\n");
    }
}

static void gen_qro2021(sim_gen *g, uint64_t seed)
{
    g->cas_cap = 490;
    g->reps_min = 4;
    g->reps_span = 9;
    sim_put(g, "prep-catalog 1\n");
    sim_put(g, "# Simulated catalogue: Querétaro 2021 local election (IEEQ), scale qro2021, seed %llu.\n",
        (unsigned long long)seed);
    sim_put(g, "# Real: municipalities (INEGI ids, names), parties, gubernatura candidacies.\n");
    sim_put(g, "# Simulated: sections, casillas, lista nominal, district plan, names below the\n");
    sim_put(g, "# gubernatura. See docs/formats/sim.md.\n\n");
    sim_put_process(g, "qro2021", "Proceso Electoral Local 2020-2021",
                "Instituto Electoral del Estado de Querétaro", 22, "QUERÉTARO", "C_", 0);
    sim_put_parties(g, sim_qro_parties, SIM_QRO_N_PARTIES);

    sim_put(g, "[districts]\nid|name\n");
    for (uint32_t d = 1; d <= SIM_QRO_N_DISTRICTS; d++) sim_put(g, "%u|DISTRITO %02u\n", d, d);
    sim_put(g, "\n[municipalities]\nid|name\n");
    for (size_t m = 0; m < SIM_QRO_N_MUNIS; m++)
        sim_put(g, "%u|%s\n", sim_qro_munis[m].id, sim_qro_munis[m].name);
    sim_put(g, "\n");

    uint32_t next_id = 1;
    for (size_t m = 0; m < SIM_QRO_N_MUNIS && !g->err; m++) qro_sections(g, &sim_qro_munis[m], &next_id);
    put_geo_casillas(g);

    sim_put(g, "[elections]\nid|name|title|scope|acta_type|parties\n");
    sim_put(g, "gub|GUBERNATURA|Gubernatura|entity|1|");
    sim_put_party_list(g, sim_qro_parties, SIM_QRO_N_PARTIES);
    sim_put(g, "\nayu|AYUNTAMIENTOS|Ayuntamientos|municipality|3|");
    sim_put_party_list(g, sim_qro_parties, SIM_QRO_N_PARTIES);
    sim_put(g, "\ndip|DIPUTACIONES LOCALES|Diputaciones locales|district|2|");
    sim_put_party_list(g, sim_qro_parties, SIM_QRO_N_PARTIES);
    sim_put(g, "\n\n");

    sim_put(g, "[coalitions]\nelection|id|name|parties\n");
    sim_put(g, "gub|PANQI_G|Candidatura común PAN - Querétaro Independiente|PAN QI\n");
    sim_put(g, "ayu|PANQI_A|Candidatura común PAN - Querétaro Independiente|PAN QI\n");
    sim_put(g, "ayu|MORPT_A|Coalición MORENA - PT|PT MORENA\n");
    sim_put(g, "dip|PANQI_D|Candidatura común PAN - Querétaro Independiente|PAN QI\n");
    sim_put(g, "dip|MORPT_D|Coalición MORENA - PT|PT MORENA\n\n");

    sim_put(g, "[candidacies]\nelection|unit|contender|name\n");
    for (size_t i = 0; i < SIM_QRO_N_GUB; i++)
        sim_put(g, "gub|*|%s|%s\n", sim_qro_gub[i].contender, sim_qro_gub[i].name);
    for (size_t m = 0; m < SIM_QRO_N_MUNIS; m++) {
        const sim_qro_muni *mu = &sim_qro_munis[m];
        qro_unit_candidacies(g, "ayu", mu->id, mu->coalitions, mu->absent, mu->independents,
                             "PANQI_A", "MORPT_A");
    }
    for (size_t d = 0; d < SIM_QRO_N_DISTRICTS; d++) {
        const sim_qro_district *di = &sim_qro_districts[d];
        qro_unit_candidacies(g, "dip", di->id, di->coalitions, di->absent, di->independents,
                             "PANQI_D", "MORPT_D");
    }
    if (g->map && !g->err) {
        sim_put(g, "\n# The municipality map: INEGI polygons (CVE_MUN), projected and simplified when\n"
               "# this file was generated (docs/formats/catalog.md \"Map from GeoJSON\").");
        if (!g->err) g->err = prep_catalog_write_shapes(g->map, g->out);
    }
}

/* ---------------------------------------------------------------- TINY */

static const sim_party_def tiny_parties[] = {
    {"PAN", "Partido Acción Nacional", "#06338E"},
    {"PRI", "Partido Revolucionario Institucional", "#E31D1C"},
    {"PT", "Partido del Trabajo", "#D52B1E"},
    {"MC", "Movimiento Ciudadano", "#FF8300"},
    {"MORENA", "Morena", "#B5261E"},
};

static void gen_tiny(sim_gen *g, uint64_t seed)
{
    g->cas_cap = 450;
    g->reps_min = 2;
    g->reps_span = 5;
    sim_put(g, "prep-catalog 1\n# Simulated catalogue, scale tiny, seed %llu (docs/formats/sim.md).\n\n",
        (unsigned long long)seed);
    sim_put_process(g, "tiny", "Proceso Electoral de Prueba", "Instituto Electoral de Prueba", 1,
                "ENTIDAD DE PRUEBA", "C_", 0);
    sim_put_parties(g, tiny_parties, PREP_ARRAY_LEN(tiny_parties));
    sim_put(g, "[districts]\nid|name\n1|DISTRITO 01\n2|DISTRITO 02\n\n");
    sim_put(g, "[municipalities]\nid|name\n1|Álamo Viejo\n2|Peña Blanca\n3|San Juan Río Seco\n\n");
    /* Municipality 2 spans both districts. */
    static const uint32_t muni[10] = {1, 1, 1, 1, 2, 2, 2, 3, 3, 3};
    static const uint32_t dist[10] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 2};
    for (uint32_t i = 0; i < 10; i++) {
        sim_gsec *s = sim_add_section(g);
        if (!s) return;
        s->id = 101 + i;
        s->municipality = muni[i];
        s->district = dist[i];
        s->urban = i < 6;
        s->ln = 250 + (uint32_t)prep_rng_below(&g->rng, 900);
        s->extra = i == 8;
        s->specials = i == 0;
    }
    put_geo_casillas(g);
    sim_put(g, "[elections]\nid|name|title|scope|acta_type|parties\n");
    sim_put(g, "gub|GUBERNATURA|Gubernatura|entity|1|PAN PRI PT MC MORENA\n");
    sim_put(g, "ayu|AYUNTAMIENTOS|Ayuntamientos|municipality|3|PAN PRI PT MC MORENA\n");
    sim_put(g, "dip|DIPUTACIONES LOCALES|Diputaciones locales|district|2|PAN PRI PT MC MORENA\n\n");
    sim_put(g, "[coalitions]\nelection|id|name|parties\n");
    sim_put(g, "gub|JHH_G|Juntos Hacemos Historia|PT MORENA\n");
    sim_put(g, "ayu|JHH_A|Juntos Hacemos Historia|PT MORENA\n");
    sim_put(g, "dip|VXM_D|Va por Prueba|PAN PRI\n\n");
    sim_put(g, "[candidacies]\nelection|unit|contender|name\n");
    static const char *const lines[] = {
        "gub|*|PAN", "gub|*|PRI", "gub|*|JHH_G", "gub|*|MC",
        /* ayuntamientos: the alliance only in municipality 1; no MC in 3 */
        "ayu|1|PAN", "ayu|1|PRI", "ayu|1|JHH_A", "ayu|1|MC",
        "ayu|2|PAN", "ayu|2|PRI", "ayu|2|PT", "ayu|2|MC", "ayu|2|MORENA", "ayu|2|CAND_IND_1",
        "ayu|3|PAN", "ayu|3|PRI", "ayu|3|PT", "ayu|3|MORENA",
        /* diputaciones: PAN+PRI only in district 2, with an independent there */
        "dip|1|PAN", "dip|1|PRI", "dip|1|PT", "dip|1|MC", "dip|1|MORENA",
        "dip|2|VXM_D", "dip|2|PT", "dip|2|MC", "dip|2|MORENA", "dip|2|CAND_IND_1",
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(lines); i++) {
        sim_put(g, "%s|", lines[i]);
        sim_put_name(g);
        sim_put(g, "\n");
    }
}

/* ---------------------------------------------------------------- public */

/* Shared by the two public calls; map NULL: no map. */
static prep_err catalog_text(prep_sim_scale scale, uint64_t seed, const prep_catalog *map, prep_buf *out)
{
    if (!out) return PREP_ERR_USAGE;
    sim_gen g;
    memset(&g, 0, sizeof g);
    g.out = out;
    g.map = map;
    /* Each scale its own stream, so scales with the same seed do not share draws. */
    prep_rng_seed(&g.rng, seed ^ (0x51A7C0DEull * (uint64_t)(scale + 1)));
    switch (scale) {
    case PREP_SIM_SCALE_QRO2021: gen_qro2021(&g, seed); break;
    case PREP_SIM_SCALE_NATIONAL: sim_gen_national(&g, seed, 0); break;
    case PREP_SIM_SCALE_NATIONAL_SMALL: sim_gen_national(&g, seed, 1); break;
    case PREP_SIM_SCALE_TINY: gen_tiny(&g, seed); break;
    default: g.err = PREP_ERR_USAGE; break;
    }
    free(g.sec);
    return g.err;
}

prep_err prep_sim_catalog_text(prep_sim_scale scale, uint64_t seed, prep_buf *out)
{
    return catalog_text(scale, seed, NULL, out);
}

prep_err prep_sim_catalog_text_geo(prep_sim_scale scale, uint64_t seed, const char *geojson_path, prep_buf *out,
                                   prep_diags *diags)
{
    if (!geojson_path) return catalog_text(scale, seed, NULL, out);
    if (!out || scale != PREP_SIM_SCALE_QRO2021) return PREP_ERR_USAGE;
    /* The map needs only the municipalities: a catalogue holding just them. */
    prep_catalog *m = calloc(1, sizeof *m);
    if (!m) return PREP_ERR_NOMEM;
    m->municipalities = calloc(SIM_QRO_N_MUNIS, sizeof *m->municipalities);
    if (!m->municipalities) {
        prep_catalog_free(m);
        return PREP_ERR_NOMEM;
    }
    m->n_municipalities = SIM_QRO_N_MUNIS;
    for (uint32_t i = 0; i < SIM_QRO_N_MUNIS; i++) m->municipalities[i].id = sim_qro_munis[i].id;
    prep_diags local;
    prep_diags_init(&local);
    prep_diags *d = diags ? diags : &local;
    size_t before = d->n;
    prep_err e = prep_catalog_shapes_from_geojson(geojson_path, "CVE_MUN", PREP_CAT_GEO_DEFAULT_WIDTH,
                                                  PREP_CAT_GEO_DEFAULT_TOLERANCE, m, d);
    if (e && !diags)
        for (size_t i = before; i < d->n && i < before + 5; i++)
            prep_log(PREP_LOG_ERROR, "sim map: %s:%ld:%ld: %s: %s", d->v[i].file, d->v[i].line, d->v[i].col,
                     d->v[i].kind, d->v[i].msg);
    if (!e) e = catalog_text(scale, seed, m, out);
    prep_diags_free(&local);
    prep_catalog_free(m);
    return e;
}

prep_err prep_sim_catalog(prep_sim_scale scale, uint64_t seed, prep_catalog **out)
{
    if (!out) return PREP_ERR_USAGE;
    *out = NULL;
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_err e = prep_sim_catalog_text(scale, seed, &b);
    if (e) {
        prep_buf_free(&b);
        return e;
    }
    prep_diags d;
    prep_diags_init(&d);
    static const char *const names[] = {"sim-qro2021.catalog", "sim-national.catalog", "sim-tiny.catalog",
                                        "sim-national-small.catalog"};
    e = prep_catalog_parse(names[scale], b.data, b.len, out, &d);
    if (e) {
        /* A generator bug, never bad input: say what the parser said. */
        for (size_t i = 0; i < d.n && i < 5; i++)
            prep_log(PREP_LOG_ERROR, "sim catalogue rejected: %s:%ld:%ld: %s: %s", d.v[i].file,
                     d.v[i].line, d.v[i].col, d.v[i].kind, d.v[i].msg);
    }
    prep_diags_free(&d);
    prep_buf_free(&b);
    return e;
}

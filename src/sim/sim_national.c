/* prep sim: the federal layout. A national catalogue (docs/formats/catalog.md, entity_id 0
 * with an [entities] table): the 32 entities with their INEGI keys, names, 2021
 * circunscripción, real number of federal districts (2017 distritación) and of
 * municipalities, lista nominal near 2021's, sections and casillas in proportion, special
 * casillas in every district, votes from abroad (M casillas in section 0 of district 0),
 * and three elections (presidencia, senadurías, diputaciones federales) with INE's acta
 * types. Sources and the model: docs/formats/sim.md "National scale". */
#include "sim_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct nat_entity {
    uint32_t id;            /* INEGI key: first two digits of CLAVE_CASILLA */
    const char *name;       /* as INE publishes it (NOMBRE_ESTADO) */
    uint32_t circ;          /* circunscripción plurinominal, 2021 */
    uint32_t districts;     /* federal districts, 2017 distritación */
    uint32_t munis;         /* municipalities (alcaldías in Mexico City), 2020 */
    uint32_t ln;            /* lista nominal, near 2021's (docs/formats/sim.md) */
    double urban;           /* share of urban sections (simulated, near INEGI's urban population) */
    /* Diputaciones 2021, per district in order: 0 no coalition, 1 Va por México (PAN PRI PRD),
     * 2 Juntos Hacemos Historia (PVEM PT MORENA), 3 both: from the combination rows of INE's
     * Diputaciones_candidatura_2021.csv. */
    const char *dip_coal;
} nat_entity;

#define NAT_N_ENTITIES 32u

static const nat_entity nat_entities[NAT_N_ENTITIES] = {
    {1, "AGUASCALIENTES", 2, 3, 11, 1029068, 0.81, "122"},
    {2, "BAJA CALIFORNIA", 1, 8, 6, 2839767, 0.94, "30311133"},
    {3, "BAJA CALIFORNIA SUR", 1, 2, 5, 576169, 0.87, "33"},
    {4, "CAMPECHE", 3, 2, 13, 653334, 0.76, "11"},
    {5, "COAHUILA", 2, 7, 38, 2278464, 0.91, "2222220"},
    {6, "COLIMA", 5, 2, 10, 556312, 0.90, "11"},
    {7, "CHIAPAS", 3, 13, 124, 3775097, 0.51, "3311333333313"},
    {8, "CHIHUAHUA", 1, 9, 67, 2939809, 0.87, "133330323"},
    {9, "CIUDAD DE MÉXICO", 4, 24, 16, 7772400, 0.99, "133331131311313331131131"},
    {10, "DURANGO", 1, 4, 39, 1346331, 0.71, "3333"},
    {11, "GUANAJUATO", 2, 15, 46, 4635010, 0.72, "000000010000200"},
    {12, "GUERRERO", 4, 9, 81, 2576969, 0.60, "303133331"},
    {13, "HIDALGO", 5, 7, 84, 2265036, 0.55, "3313331"},
    {14, "JALISCO", 1, 20, 125, 6214732, 0.88, "31133333333333333333"},
    {15, "MÉXICO", 5, 41, 125, 12376517, 0.87, "33322310100203320011000303301213133100313"},
    {16, "MICHOACÁN", 5, 12, 113, 3648384, 0.71, "113111111113"},
    {17, "MORELOS", 4, 5, 36, 1480013, 0.85, "02020"},
    {18, "NAYARIT", 1, 3, 20, 910742, 0.70, "333"},
    {19, "NUEVO LEÓN", 2, 12, 51, 4204793, 0.96, "022020220222"},
    {20, "OAXACA", 3, 10, 570, 2997427, 0.49, "3133313331"},
    {21, "PUEBLA", 4, 15, 217, 4736148, 0.73, "333333333333333"},
    {22, "QUERÉTARO", 2, 5, 18, 1790802, 0.73, "02200"},
    {23, "QUINTANA ROO", 3, 4, 11, 1365686, 0.90, "3333"},
    {24, "SAN LUIS POTOSÍ", 2, 7, 58, 2098806, 0.66, "3133333"},
    {25, "SINALOA", 1, 7, 18, 2240803, 0.74, "3331313"},
    {26, "SONORA", 1, 7, 72, 2162336, 0.88, "1331313"},
    {27, "TABASCO", 3, 6, 17, 1703139, 0.60, "111111"},
    {28, "TAMAULIPAS", 2, 9, 43, 2709383, 0.89, "222220222"},
    {29, "TLAXCALA", 4, 3, 60, 984674, 0.81, "331"},
    {30, "VERACRUZ", 3, 20, 212, 5764094, 0.62, "33333113111333333331"},
    {31, "YUCATÁN", 3, 5, 106, 1657483, 0.86, "02002"},
    {32, "ZACATECAS", 2, 4, 58, 1238745, 0.61, "3331"},
};

/* The three independents for federal deputies in 2021 (INE's candidacy file), numbered
 * across the election as INE numbers them. */
static const struct {
    uint32_t entity, district, n;
} nat_dip_indep[] = {{14, 9, 2}, {16, 9, 1}, {29, 1, 3}};

#define NAT_LN_PER_SECTION 1317.0 /* 93.5 M / ~71,000 sections */
#define NAT_SMALL_SECTIONS_PER_DISTRICT 2u
#define NAT_MAX_SECTION_ID 9999u

/* One entity's plan: sections [first, first + n) of g->sec, district d's sections
 * [dfirst[d - 1], dfirst[d]). */
typedef struct nat_plan {
    size_t first, n;
    size_t dfirst[64];      /* the largest entity has 41 districts */
    uint32_t n_munis;
    uint32_t n_abroad;      /* M casillas in section 0 */
} nat_plan;

/* Municipality of each section: sizes lognormal (log-sd 1.3), each at least one section,
 * sections consecutive by municipality. Returns the section count of each in msec. */
static void nat_munis(sim_gen *g, uint32_t n_munis, uint32_t n_sec, uint32_t *msec)
{
    double tw = 0, *w = malloc(n_munis * sizeof *w);
    if (!w) {
        g->err = PREP_ERR_NOMEM;
        return;
    }
    for (uint32_t m = 0; m < n_munis; m++) tw += w[m] = sim_lognorm1(&g->rng, 1.3);
    uint32_t left = n_sec - n_munis, used = 0;
    for (uint32_t m = 0; m < n_munis; m++) {
        msec[m] = 1 + (uint32_t)(left * w[m] / tw);
        used += msec[m];
    }
    for (uint32_t m = 0; used < n_sec; m = (m + 1) % n_munis, used++) msec[m]++;
    free(w);
}

/* Sections of one entity: ids from 1 with a retired number now and then, LN around the
 * national mean (urban ones larger), districts by cumulative LN (full scale) or two
 * sections each (small scale). */
static void nat_sections(sim_gen *g, const nat_entity *en, int small, nat_plan *p)
{
    uint32_t n_sec = small ? en->districts * NAT_SMALL_SECTIONS_PER_DISTRICT
                           : (uint32_t)(en->ln / NAT_LN_PER_SECTION + 0.5);
    p->n_munis = en->munis < n_sec ? en->munis : n_sec;
    if (small && p->n_munis > en->districts + 1) p->n_munis = en->districts + 1;
    uint32_t *msec = calloc(p->n_munis, sizeof *msec);
    if (!msec) {
        g->err = PREP_ERR_NOMEM;
        return;
    }
    nat_munis(g, p->n_munis, n_sec, msec);
    p->first = g->n_sec;
    uint32_t id = 1;
    double tln = 0;
    for (uint32_t m = 0; m < p->n_munis && !g->err; m++) {
        double big = msec[m] >= 40 ? 1.15 : msec[m] >= 8 ? 0.9 : 0.5;
        double purban = en->urban * big > 0.98 ? 0.98 : en->urban * big;
        for (uint32_t k = 0; k < msec[m]; k++) {
            sim_gsec *s = sim_add_section(g);
            if (!s) break;
            if (prep_rng_below(&g->rng, 50) == 0 && id + n_sec < NAT_MAX_SECTION_ID) id++;
            s->id = id++;
            s->entity = (uint8_t)en->id;
            s->municipality = m + 1;
            s->urban = prep_rng_unit(&g->rng) < purban;
            double v = NAT_LN_PER_SECTION * (s->urban ? 1.15 : 0.75) * sim_lognorm1(&g->rng, 0.5);
            s->ln = v < 100 ? 100 : (uint32_t)v;
            tln += s->ln;
            s->extra = !s->urban && prep_rng_below(&g->rng, 40) == 0;
        }
    }
    free(msec);
    p->n = g->n_sec - p->first;
    if (g->err) return;
    /* Scale to the entity's lista nominal (the small scale keeps the national mean per
     * section instead). */
    double f = small ? 1.0 : en->ln / tln;
    tln = 0;
    for (size_t i = 0; i < p->n; i++) {
        sim_gsec *s = &g->sec[p->first + i];
        s->ln = (uint32_t)(s->ln * f + 0.5);
        if (s->ln < 100) s->ln = 100;
        tln += s->ln;
    }
    double acc = 0;
    for (size_t i = 0; i < p->n; i++) {
        sim_gsec *s = &g->sec[p->first + i];
        uint32_t d = small ? 1 + (uint32_t)(i / NAT_SMALL_SECTIONS_PER_DISTRICT)
                           : 1 + (uint32_t)(acc * en->districts / tln);
        s->district = d > en->districts ? en->districts : d;
        acc += s->ln;
    }
    /* District d's sections are consecutive (districts never decrease along the sections):
     * prefix sums of the counts give each one's range, an empty one an empty range. */
    size_t cnt[64] = {0};
    for (size_t i = 0; i < p->n; i++) cnt[g->sec[p->first + i].district - 1]++;
    p->dfirst[0] = p->first;
    for (uint32_t d = 1; d <= en->districts; d++) p->dfirst[d] = p->dfirst[d - 1] + cnt[d - 1];
}

/* Special casillas: 2-5 per district (small scale: every third district one), in urban
 * sections where the district has some. */
static void nat_specials(sim_gen *g, const nat_entity *en, int small, const nat_plan *p)
{
    for (uint32_t d = 1; d <= en->districts; d++) {
        size_t a = p->dfirst[d - 1], b = p->dfirst[d];
        if (b <= a) continue;
        uint32_t k = small ? (d % 3 == 1) : 2 + (uint32_t)prep_rng_below(&g->rng, 4);
        for (uint32_t j = 0; j < k; j++) {
            size_t pick = a + prep_rng_below(&g->rng, b - a);
            for (int t = 0; t < 8 && !g->sec[pick].urban; t++) pick = a + prep_rng_below(&g->rng, b - a);
            if (g->sec[pick].specials < 9) g->sec[pick].specials++;
        }
    }
}

/* The election's letter in its coalition ids: VXM_P, JHH_S, ... */
static char coal_tag(const char *eid) { return eid[0] == 'p' ? 'P' : eid[0] == 's' ? 'S' : 'D'; }

/* One unit's candidacies: the ten parties in ballot order, an alliance at its first
 * member's place instead of its members, then the unit's independents. */
static void nat_unit_cands(sim_gen *g, const char *eid, const char *unit, int vxm, int jhh, uint32_t ind_n)
{
    for (size_t p = 0; p < SIM_NAT_N_PARTIES; p++) {
        const char *pid = sim_nat_parties[p].id;
        int in_vxm = !strcmp(pid, "PAN") || !strcmp(pid, "PRI") || !strcmp(pid, "PRD");
        int in_jhh = !strcmp(pid, "PVEM") || !strcmp(pid, "PT") || !strcmp(pid, "MORENA");
        if (vxm && in_vxm) {
            if (strcmp(pid, "PAN") != 0) continue;
            sim_put(g, "%s|%s|VXM_%c|", eid, unit, coal_tag(eid));
        } else if (jhh && in_jhh) {
            if (strcmp(pid, "PVEM") != 0) continue;
            sim_put(g, "%s|%s|JHH_%c|", eid, unit, coal_tag(eid));
        } else {
            sim_put(g, "%s|%s|%s|", eid, unit, pid);
        }
        sim_put_name(g);
        sim_put(g, "\n");
    }
    if (ind_n) {
        sim_put(g, "%s|%s|CAND_IND_%u|", eid, unit, ind_n);
        sim_put_name(g);
        sim_put(g, "\n");
    }
}

static void nat_geography(sim_gen *g, const nat_plan *plans)
{
    sim_put(g, "[entities]\nid|name|circ\n");
    for (uint32_t e = 0; e < NAT_N_ENTITIES; e++)
        sim_put(g, "%u|%s|%u\n", nat_entities[e].id, nat_entities[e].name, nat_entities[e].circ);
    sim_put(g, "\n[districts]\nentity|id|name\n");
    for (uint32_t e = 0; e < NAT_N_ENTITIES; e++) {
        sim_put(g, "%u|0|VOTO EN EL EXTRANJERO\n", nat_entities[e].id);
        for (uint32_t d = 1; d <= nat_entities[e].districts; d++)
            sim_put(g, "%u|%u|DISTRITO %02u\n", nat_entities[e].id, d, d);
    }
    sim_put(g, "\n[municipalities]\nentity|id|name\n");
    for (uint32_t e = 0; e < NAT_N_ENTITIES; e++) {
        sim_put(g, "%u|0|VOTO EN EL EXTRANJERO\n", nat_entities[e].id);
        for (uint32_t m = 1; m <= plans[e].n_munis; m++) sim_put(g, "%u|%u|Municipio %03u\n", nat_entities[e].id, m, m);
    }
    sim_put(g, "\n[sections]\nentity|id|district|municipality\n");
    for (uint32_t e = 0; e < NAT_N_ENTITIES; e++) {
        sim_put(g, "%u|0|0|0\n", nat_entities[e].id);
        for (size_t i = plans[e].first; i < plans[e].first + plans[e].n; i++)
            sim_put(g, "%u|%u|%u|%u\n", nat_entities[e].id, g->sec[i].id, g->sec[i].district, g->sec[i].municipality);
    }
    sim_put(g, "\n[casillas]\nentity|section|type|number|ext|urban|lista_nominal|representatives|ballots\n");
    for (uint32_t e = 0; e < NAT_N_ENTITIES && !g->err; e++) {
        char lead[8];
        snprintf(lead, sizeof lead, "%u|", nat_entities[e].id);
        /* Votes from abroad: mesas of 300-750 registered voters each. */
        for (uint32_t k = 1; k <= plans[e].n_abroad; k++) {
            uint32_t ln = 300 + (uint32_t)prep_rng_below(&g->rng, 451);
            uint32_t reps = g->reps_min + (uint32_t)prep_rng_below(&g->rng, g->reps_span);
            sim_put(g, "%s0|M|%u|0|1|%u|%u|0\n", lead, k, ln, reps);
        }
        for (size_t i = plans[e].first; i < plans[e].first + plans[e].n && !g->err; i++)
            sim_put_section_casillas(g, lead, &g->sec[i]);
    }
    sim_put(g, "\n");
}

static void nat_elections(sim_gen *g)
{
    /* TIPO_ACTA as in INE's LEEME 2018: presidencia 2 (abroad 1); senadurías 3, special 4,
     * RP 5, abroad 18; diputaciones 6, special 7, RP 8, and no vote from abroad ("-"). */
    sim_put(g, "[elections]\nid|name|title|scope|acta_type|parties|special_acta_type|abroad_acta_type|rp_acta_type\n");
    sim_put(g, "pres|PRESIDENCIA|Presidencia de la República|nation|2|");
    sim_put_party_list(g, sim_nat_parties, SIM_NAT_N_PARTIES);
    sim_put(g, "|2|1|0\nsen|SENADURÍAS|Senadurías|entity|3|");
    sim_put_party_list(g, sim_nat_parties, SIM_NAT_N_PARTIES);
    sim_put(g, "|4|18|5\ndip|DIPUTACIONES FEDERALES|Diputaciones federales|district|6|");
    sim_put_party_list(g, sim_nat_parties, SIM_NAT_N_PARTIES);
    sim_put(g, "|7|-|8\n\n[coalitions]\nelection|id|name|parties\n");
    static const char *const el[3] = {"pres", "sen", "dip"};
    for (int i = 0; i < 3; i++) {
        sim_put(g, "%s|VXM_%c|Va por México|PAN PRI PRD\n", el[i], coal_tag(el[i]));
        sim_put(g, "%s|JHH_%c|Juntos Hacemos Historia|PVEM PT MORENA\n", el[i], coal_tag(el[i]));
    }
    sim_put(g, "\n[candidacies]\nelection|unit|contender|name\n");
    nat_unit_cands(g, "pres", "*", 1, 1, 1);
    char unit[16];
    for (uint32_t e = 0; e < NAT_N_ENTITIES; e++) {
        /* Senate alliances: invented, most entities both (as the deputies' map). */
        int vxm = prep_rng_unit(&g->rng) < 0.8, jhh = prep_rng_unit(&g->rng) < 0.7;
        snprintf(unit, sizeof unit, "%u", nat_entities[e].id);
        nat_unit_cands(g, "sen", unit, vxm, jhh, 0);
    }
    for (uint32_t e = 0; e < NAT_N_ENTITIES; e++) {
        const nat_entity *en = &nat_entities[e];
        for (uint32_t d = 1; d <= en->districts; d++) {
            int f = en->dip_coal[d - 1] - '0';
            uint32_t ind = 0;
            for (size_t k = 0; k < PREP_ARRAY_LEN(nat_dip_indep); k++)
                if (nat_dip_indep[k].entity == en->id && nat_dip_indep[k].district == d) ind = nat_dip_indep[k].n;
            snprintf(unit, sizeof unit, "%u-%u", en->id, d);
            nat_unit_cands(g, "dip", unit, f & 1, f & 2, ind);
        }
    }
}

void sim_gen_national(sim_gen *g, uint64_t seed, int small)
{
    g->cas_cap = 700;
    g->reps_min = 4;
    g->reps_span = 9;
    sim_put(g, "prep-catalog 1\n# Simulated catalogue: the federal layout, scale %s, seed %llu.\n",
            small ? "national-small" : "national", (unsigned long long)seed);
    sim_put(g, "# Real: entities (INEGI keys, names, circunscripción 2021), districts per entity (2017),\n"
               "# municipalities per entity, lista nominal per entity (near 2021), 2021 deputies' alliances\n"
               "# per district. Simulated: every name below the entity, sections, casillas, senate\n"
               "# alliances, candidates. See docs/formats/sim.md.\n\n");
    sim_put_process(g, small ? "national-small" : "national", "Proceso Electoral Federal (simulacro)",
                    "Instituto Nacional Electoral (simulacro)", 0, "ESTADOS UNIDOS MEXICANOS", "", 1);
    sim_put_parties(g, sim_nat_parties, SIM_NAT_N_PARTIES);
    nat_plan *plans = calloc(NAT_N_ENTITIES, sizeof *plans);
    if (!plans) {
        g->err = PREP_ERR_NOMEM;
        return;
    }
    for (uint32_t e = 0; e < NAT_N_ENTITIES && !g->err; e++) {
        nat_sections(g, &nat_entities[e], small, &plans[e]);
        if (g->err) break;
        nat_specials(g, &nat_entities[e], small, &plans[e]);
        /* Votes from abroad: one mesa per ~400,000 voters of the entity (2018 counted ~98,000
         * votes from abroad); one per entity at the small scale. */
        plans[e].n_abroad = small ? 1 : 1 + nat_entities[e].ln / 400000;
    }
    if (!g->err) nat_geography(g, plans);
    if (!g->err) nat_elections(g);
    free(plans);
}

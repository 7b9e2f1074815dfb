/* Synthetic catalogues and capture sets for the tally tests and bench/bench_tally.c.
 * Header-only (static functions) so both programs can include it without a library.
 * Deterministic per seed (prep_rng). Does not depend on the sim part.
 *
 * Geography: sections in contiguous blocks per district and per municipality; each
 * section has a basic casilla, 0..max_contiguas contiguas, sometimes an extraordinaria
 * with a contigua, and one special casilla every ~150 sections (max_contiguas 3 gives
 * ~2.5 casillas per section). Section ids are 1..n_sections (<= 9999: CLAVE_CASILLA has
 * four digits for the section, so one catalogue holds at most 9,999 sections).
 * Elections (up to 3): dip (district scope; coalitions VXM = PAN PRI PRD in even
 * districts and JHH = PVEM PT MORENA in every third; independents in every fifth and
 * tenth district), ayu (municipality scope; JHH everywhere; an independent in every
 * seventh municipality), gub (entity scope; VXM and JHH). */
#ifndef TEST_TALLY_SYNTH_H
#define TEST_TALLY_SYNTH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/tally.h"

typedef struct synth_params {
    uint32_t n_districts, n_municipalities, n_sections;
    uint32_t n_elections;   /* 1..3: dip, ayu, gub */
    uint64_t seed;
    uint32_t max_contiguas; /* contiguas per section: uniform 0..max (<= 98) */
} synth_params;

static const char *const synth_parties[7] = {"PAN", "PRI", "PRD", "PVEM", "PT", "MC", "MORENA"};

/* Catalogue text in the documented format. Owned (free()). */
static char *synth_catalog_text(const synth_params *p, size_t *len)
{
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_rng r;
    prep_rng_seed(&r, p->seed);
    prep_buf_puts(&b, "prep-catalog 1\n[process]\nid = synth\nname = Proceso sintético\n"
                      "institute = Instituto de pruebas\nentity_id = 22\nentity = QUERÉTARO\n"
                      "timezone = America/Mexico_City\nwindow_open = 2021-06-06 20:00\n"
                      "window_close = 2021-06-07 20:00\ncut_interval = 300\ncombo_prefix = C_\n"
                      "independents_first = no\ncsv_separator = |\nparticipation_specials = final-only\n"
                      "percent_decimals = 4\n\n[parties]\nid|name|color\n");
    for (int i = 0; i < 7; i++)
        prep_buf_printf(&b, "%s|Partido %s|#%02x%02x%02x\n", synth_parties[i], synth_parties[i],
                        30 * i, 255 - 30 * i, 100);
    prep_buf_puts(&b, "\n[districts]\nid|name\n");
    for (uint32_t d = 1; d <= p->n_districts; d++)
        prep_buf_printf(&b, "%u|DISTRITO %02u\n", d, d);
    prep_buf_puts(&b, "\n[municipalities]\nid|name\n");
    for (uint32_t m = 1; m <= p->n_municipalities; m++)
        prep_buf_printf(&b, "%u|Municipio %u\n", m, m);
    prep_buf_puts(&b, "\n[sections]\nid|district|municipality\n");
    for (uint32_t s = 0; s < p->n_sections; s++)
        prep_buf_printf(&b, "%u|%u|%u\n", s + 1,
                        (uint32_t)((uint64_t)s * p->n_districts / p->n_sections) + 1,
                        (uint32_t)((uint64_t)s * p->n_municipalities / p->n_sections) + 1);
    prep_buf_puts(&b, "\n[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots\n");
    for (uint32_t s = 1; s <= p->n_sections; s++) {
        unsigned urban = 1 + (unsigned)prep_rng_below(&r, 2);
        prep_buf_printf(&b, "%u|B|1|0|%u|%u|%u|0\n", s, urban, 300 + (unsigned)prep_rng_below(&r, 450),
                        5 + (unsigned)prep_rng_below(&r, 10));
        unsigned nc = (unsigned)prep_rng_below(&r, (uint64_t)p->max_contiguas + 1);
        for (unsigned k = 1; k <= nc; k++)
            prep_buf_printf(&b, "%u|C|%u|0|%u|%u|%u|0\n", s, k, urban, 300 + (unsigned)prep_rng_below(&r, 450),
                            5 + (unsigned)prep_rng_below(&r, 10));
        if (prep_rng_below(&r, 40) == 0) {
            prep_buf_printf(&b, "%u|E|1|0|2|%u|%u|0\n", s, 200 + (unsigned)prep_rng_below(&r, 300),
                            5 + (unsigned)prep_rng_below(&r, 10));
            prep_buf_printf(&b, "%u|E|1|1|2|%u|%u|0\n", s, 200 + (unsigned)prep_rng_below(&r, 300),
                            5 + (unsigned)prep_rng_below(&r, 10));
        }
        if (s % 150 == 7)
            prep_buf_printf(&b, "%u|S|1|0|1|0|%u|750\n", s, 5 + (unsigned)prep_rng_below(&r, 10));
    }
    prep_buf_puts(&b, "\n[elections]\nid|name|title|scope|acta_type|parties\n");
    const char *all = "PAN PRI PRD PVEM PT MC MORENA";
    prep_buf_printf(&b, "dip|DIPUTACIONES LOCALES|Diputaciones|district|2|%s\n", all);
    if (p->n_elections >= 2)
        prep_buf_printf(&b, "ayu|AYUNTAMIENTOS|Ayuntamientos|municipality|3|%s\n", all);
    if (p->n_elections >= 3)
        prep_buf_printf(&b, "gub|GUBERNATURA|Gubernatura|entity|1|%s\n", all);
    prep_buf_puts(&b, "\n[coalitions]\nelection|id|name|parties\n");
    prep_buf_puts(&b, "dip|VXM|Va por México|PAN PRI PRD\ndip|JHH|Juntos Haremos Historia|PVEM PT MORENA\n");
    if (p->n_elections >= 2)
        prep_buf_puts(&b, "ayu|JHH|Juntos Haremos Historia|PVEM PT MORENA\n");
    if (p->n_elections >= 3)
        prep_buf_puts(&b, "gub|VXM|Va por México|PAN PRI PRD\ngub|JHH|Juntos Haremos Historia|PVEM PT MORENA\n");
    prep_buf_puts(&b, "\n[candidacies]\nelection|unit|contender|name\n");
    for (uint32_t d = 1; d <= p->n_districts; d++) {
        if (d % 2 == 0)
            prep_buf_printf(&b, "dip|%u|VXM|Candidatura VXM %u\n", d, d);
        else
            for (int i = 0; i < 3; i++)
                prep_buf_printf(&b, "dip|%u|%s|Candidatura %s %u\n", d, synth_parties[i], synth_parties[i], d);
        if (d % 3 == 0)
            prep_buf_printf(&b, "dip|%u|JHH|Candidatura JHH %u\n", d, d);
        else {
            prep_buf_printf(&b, "dip|%u|PVEM|Candidatura PVEM %u\n", d, d);
            prep_buf_printf(&b, "dip|%u|PT|Candidatura PT %u\n", d, d);
            prep_buf_printf(&b, "dip|%u|MORENA|Candidatura MORENA %u\n", d, d);
        }
        prep_buf_printf(&b, "dip|%u|MC|Candidatura MC %u\n", d, d);
        if (d % 5 == 0)
            prep_buf_printf(&b, "dip|%u|CAND_IND_1|Independiente uno %u\n", d, d);
        if (d % 10 == 0)
            prep_buf_printf(&b, "dip|%u|CAND_IND_2|Independiente dos %u\n", d, d);
    }
    if (p->n_elections >= 2)
        for (uint32_t m = 1; m <= p->n_municipalities; m++) {
            for (int i = 0; i < 3; i++)
                prep_buf_printf(&b, "ayu|%u|%s|Planilla %s %u\n", m, synth_parties[i], synth_parties[i], m);
            prep_buf_printf(&b, "ayu|%u|MC|Planilla MC %u\n", m, m);
            prep_buf_printf(&b, "ayu|%u|JHH|Planilla JHH %u\n", m, m);
            if (m % 7 == 0)
                prep_buf_printf(&b, "ayu|%u|CAND_IND_1|Planilla independiente %u\n", m, m);
        }
    if (p->n_elections >= 3)
        prep_buf_puts(&b, "gub|*|VXM|Candidatura VXM\ngub|*|MC|Candidatura MC\ngub|*|JHH|Candidatura JHH\n");
    return prep_buf_steal(&b, len);
}

typedef struct synth_night {
    double corrections, some_illegible, all_illegible, exceeds_ln, no_acta, out_of_catalog, never_arrive;
} synth_night;

static void synth_night_defaults(synth_night *n)
{
    n->corrections = 0.01;
    n->some_illegible = 0.2;
    n->all_illegible = 0.01;
    n->exceeds_ln = 0.003;
    n->no_acta = 0.03;
    n->out_of_catalog = 0.001;
    n->never_arrive = 0.01;
}

static int synth_chance(prep_rng *r, double p)
{
    return prep_rng_unit(r) < p;
}

/* Fills the identification of an acta of casilla k (or an out-of-catalogue one when
 * k == PREP_CAT_NONE, with section id `bad_section`). */
static void synth_ident(const prep_catalog *c, uint32_t e, uint32_t k, uint32_t bad_section, prep_acta *a)
{
    memset(a, 0, sizeof *a);
    a->casilla = k;
    a->acopio = a->captura = a->verificacion = PREP_TIME_NONE;
    a->cotejada = -1;
    strcpy(a->origen, "CATD");
    strcpy(a->digitalizacion, "ESCANER");
    strcpy(a->tipo_documento, "ACTA PREP");
    if (k != PREP_CAT_NONE) {
        const prep_cat_casilla *cs = &c->casillas[k];
        const prep_cat_section *s = &c->sections[cs->section];
        memcpy(a->clave_casilla, cs->key, sizeof a->clave_casilla);
        a->section_id = s->id;
        a->district_id = c->districts[s->district].id;
        a->municipality_id = c->municipalities[s->municipality].id;
        a->tipo_casilla = cs->type;
        a->id_casilla = cs->number;
        a->ext_contigua = cs->ext;
        a->urban = cs->urban;
        a->lista_nominal = cs->lista_nominal;
        a->representatives = cs->representatives;
    } else {
        prep_catalog_casilla_key(c->entity_id, bad_section, 'B', 1, 0, a->clave_casilla);
        a->section_id = bad_section;
        a->district_id = c->districts[0].id;
        a->municipality_id = c->municipalities[0].id;
        a->tipo_casilla = 'B';
        a->id_casilla = 1;
        a->urban = 1;
    }
    prep_catalog_acta_key(a->clave_casilla, c->elections[e].acta_type, a->clave_acta);
}

/* Random votes for an acta of unit u (applicable columns only) and a chosen case.
 * kind: 0 clean, 1 some illegible, 2 all illegible, 3 exceeds LN, 4 no acta. */
static void synth_votes(const prep_catalog *c, uint32_t e, uint32_t u, uint32_t cap, int kind,
                        prep_rng *r, prep_acta *a, int32_t *v)
{
    const prep_cat_election *el = &c->elections[e];
    uint32_t n = el->n_cols;
    if (kind == 4) {
        for (uint32_t j = 0; j < n; j++)
            v[j] = PREP_ACTA_V_NONE;
        a->no_acta = (uint8_t)(1 + prep_rng_below(r, 3));
        a->boletas_sobrantes = a->personas_votaron = a->rep_votaron = a->votos_sacados = PREP_ACTA_V_NONE;
        a->total_asentado = PREP_ACTA_V_NONE;
        return;
    }
    int64_t total = 0;
    uint32_t budget = cap ? cap / 2 + (uint32_t)prep_rng_below(r, cap / 4 + 1) : 50;
    for (uint32_t j = 0; j < n; j++) {
        if (u != PREP_CAT_NONE && !prep_catalog_col_applies(c, e, u, j)) {
            v[j] = PREP_ACTA_V_NA;
            continue;
        }
        uint32_t w;
        switch (el->cols[j].kind) {
        case PREP_CAT_COL_PARTY: w = (uint32_t)prep_rng_below(r, budget / 4 + 1); break;
        case PREP_CAT_COL_COMBO: w = (uint32_t)prep_rng_below(r, 8); break;
        case PREP_CAT_COL_INDEP: w = (uint32_t)prep_rng_below(r, budget / 10 + 1); break;
        default: w = (uint32_t)prep_rng_below(r, 6); break;
        }
        v[j] = (int32_t)w;
        total += w;
    }
    if (kind == 1) {
        for (int t = 0; t < 2; t++) {
            uint32_t j = (uint32_t)prep_rng_below(r, n);
            if (v[j] >= 0) {
                total -= v[j];
                v[j] = prep_rng_below(r, 2) ? PREP_ACTA_V_ILEGIBLE : PREP_ACTA_V_SIN_DATO;
            }
        }
    } else if (kind == 2) {
        for (uint32_t j = 0; j < n; j++)
            if (v[j] >= 0 || v[j] == PREP_ACTA_V_SIN_DATO)
                v[j] = PREP_ACTA_V_ILEGIBLE;
        total = 0;
    } else if (kind == 3) {
        for (uint32_t j = 0; j < n; j++)
            if (v[j] >= 0) {
                int32_t add = (int32_t)(cap + 10);
                v[j] += add;
                total += add;
                break;
            }
    }
    a->personas_votaron = (int32_t)total;
    a->votos_sacados = (int32_t)total;
    a->rep_votaron = 0;
    a->boletas_sobrantes = cap > total ? (int32_t)(cap - total) : 0;
    a->total_asentado = kind == 2 ? PREP_ACTA_V_ILEGIBLE : (int32_t)total;
}

/* One capture set per election, in arrival order (captures sorted by instant are not
 * required: the file order is the order of generation; corrections come after the
 * capture they correct, with a later verification time). out[e] owned. */
static prep_err synth_actas(const prep_catalog *c, const synth_night *o, uint64_t seed, prep_actas **out)
{
    prep_rng r;
    prep_rng_seed(&r, seed ^ 0x5eed5eedULL);
    prep_time open = c->window_open;
    for (uint32_t e = 0; e < c->n_elections; e++) {
        prep_actas *s = prep_actas_new(c, e);
        if (!s)
            return PREP_ERR_NOMEM;
        out[e] = s;
        uint32_t n = c->elections[e].n_cols;
        int32_t *v = calloc(n ? n : 1, sizeof *v);
        if (!v)
            return PREP_ERR_NOMEM;
        prep_acta a;
        for (uint32_t k = 0; k < c->n_casillas; k++) {
            if (synth_chance(&r, o->never_arrive))
                continue;
            const prep_cat_casilla *cs = &c->casillas[k];
            uint32_t u = prep_catalog_unit_of(c, e, k);
            uint32_t cap = cs->type == 'S' ? cs->ballots : cs->lista_nominal;
            int kind = 0;
            double x = prep_rng_unit(&r);
            if (x < o->no_acta) kind = 4;
            else if ((x -= o->no_acta) < o->exceeds_ln) kind = 3;
            else if ((x -= o->exceeds_ln) < o->all_illegible) kind = 2;
            else if ((x -= o->all_illegible) < o->some_illegible) kind = 1;
            /* arrival: 30 min .. ~20 h after the open, skewed early */
            double f = prep_rng_unit(&r);
            prep_time t = open + 1800 + (prep_time)(f * f * 72000.0);
            int corrected = synth_chance(&r, o->corrections);
            if (corrected) { /* an earlier, wrong capture first */
                synth_ident(c, e, k, 0, &a);
                synth_votes(c, e, u, cap, 0, &r, &a, v);
                a.acopio = t - 600;
                a.captura = t - 300;
                a.verificacion = t - 200;
                a.line = (uint32_t)s->n + 1;
                prep_err err = prep_actas_append(s, &a, v);
                if (err) { free(v); return err; }
            }
            synth_ident(c, e, k, 0, &a);
            synth_votes(c, e, u, cap, kind, &r, &a, v);
            a.acopio = t - 120;
            a.captura = t - 60;
            a.verificacion = t;
            a.line = (uint32_t)s->n + 1;
            prep_err err = prep_actas_append(s, &a, v);
            if (err) { free(v); return err; }
            if (synth_chance(&r, o->out_of_catalog)) {
                synth_ident(c, e, PREP_CAT_NONE, c->sections[c->n_sections - 1].id + 1 + k, &a);
                synth_votes(c, e, PREP_CAT_NONE, 500, 0, &r, &a, v);
                a.acopio = a.captura = a.verificacion = t + 30;
                a.line = (uint32_t)s->n + 1;
                err = prep_actas_append(s, &a, v);
                if (err) { free(v); return err; }
            }
        }
        free(v);
    }
    return PREP_OK;
}

#endif

/* render: page bodies — the content of <main> of every page kind. A body depends on the
 * numbers of the tally and on the catalogue, never on the cut (its instant, sequence or
 * mode live in the frame, render_site.c), so a body whose aggregates did not change is
 * reused as it is. Every text taken from the catalogue or the actas goes through rb_esc.
 *
 * Headings: one h1 per page, then h2 per block, h3 per casilla; tables have a caption and
 * th with scope; every chart follows the table with its numbers. */
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

/* ---------------------------------------------------------------- helpers */
static const prep_tally_agg *agg(const rctx *x, uint32_t e, prep_tally_level l, uint32_t i)
{
    return prep_tally_get(x->t, e, l, i);
}

int64_t part_num(const rctx *x, const prep_tally_agg *a)
{
    prep_cat_specials_mode m = x->c->rules.specials;
    int with = m == PREP_CAT_SPECIALS_INCLUDE || (m == PREP_CAT_SPECIALS_FINAL_ONLY && x->final_cut);
    return with ? a->votos_c_cs : a->votos_s_cs;
}

int64_t total_votes(const rctx *x, uint32_t e, const prep_tally_agg *a)
{
    int64_t s = 0;
    for (uint32_t j = 0; j < x->c->elections[e].n_cols; j++) s += a->votes[j];
    return s;
}

prep_tally_level page_level(const rpage *p)
{
    switch ((page_kind)p->kind) {
    case PG_ENTITY: return PREP_TALLY_NATION;
    case PG_STATE: return PREP_TALLY_ENTITY;
    case PG_DISTRICT: return PREP_TALLY_DISTRICT;
    case PG_MUNI: return PREP_TALLY_MUNICIPALITY;
    case PG_SECTION: return PREP_TALLY_SECTION;
    default: return PREP_TALLY_N_LEVELS;
    }
}

uint32_t unit_entity(const prep_catalog *c, prep_tally_level lvl, uint32_t idx)
{
    switch (lvl) {
    case PREP_TALLY_ENTITY: return idx;
    case PREP_TALLY_DISTRICT: return c->districts[idx].entity;
    case PREP_TALLY_MUNICIPALITY: return c->municipalities[idx].entity;
    case PREP_TALLY_SECTION: return c->sections[idx].entity;
    default: return PREP_CAT_NONE;
    }
}

/* The unit whose candidacies apply to a page of unit level lvl/idx of election e. */
uint32_t cand_unit(const rctx *x, uint32_t e, prep_tally_level lvl, uint32_t idx)
{
    const prep_catalog *c = x->c;
    const prep_cat_election *el = &c->elections[e];
    if (prep_catalog_one_unit(c, e)) return 0;
    if (el->scope == PREP_CAT_SCOPE_ENTITY) return unit_entity(c, lvl, idx); /* senadurías: the unit's entity */
    if (lvl == PREP_TALLY_SECTION) {
        const prep_cat_section *s = &c->sections[idx];
        return el->scope == PREP_CAT_SCOPE_DISTRICT ? s->district : s->municipality;
    }
    if (el->scope == PREP_CAT_SCOPE_DISTRICT && lvl == PREP_TALLY_DISTRICT) return idx;
    if (el->scope == PREP_CAT_SCOPE_MUNICIPALITY && lvl == PREP_TALLY_MUNICIPALITY) return idx;
    return PREP_CAT_NONE; /* entity level of a district / municipality election */
}

int col_shown(const rctx *x, uint32_t e, uint32_t u, uint32_t j)
{
    const prep_cat_election *el = &x->c->elections[e];
    if (u != PREP_CAT_NONE) return prep_catalog_col_applies(x->c, e, u, j);
    for (uint32_t k = 0; k < el->n_units; k++)
        if (prep_catalog_col_applies(x->c, e, k, j)) return 1;
    return 0;
}

const char *party_color(const rctx *x, uint32_t p)
{
    return p == PREP_CAT_NONE ? RENDER_INDEP_COLOR : x->c->parties[p].color;
}

static void swatch_party(rbuf *r, uint32_t p)
{
    if (p == PREP_CAT_NONE) rb_puts(r, "<i class=\"sw ci\"></i>");
    else {
        rb_puts(r, "<i class=\"sw c");
        rb_uint(r, p);
        rb_puts(r, "\"></i>");
    }
}

void swatch_cand(const rctx *x, rbuf *r, uint32_t k)
{
    const prep_cat_candidacy *cd = &x->c->candidacies[k];
    if (cd->kind == PREP_CAT_CAND_COALITION) {
        const prep_cat_coalition *co = &x->c->coalitions[cd->ref];
        for (uint32_t i = 0; i < co->n_parties; i++) swatch_party(r, co->parties[i]);
    } else {
        swatch_party(r, cd->kind == PREP_CAT_CAND_PARTY ? cd->ref : PREP_CAT_NONE);
    }
}

uint32_t lead_of(rctx *x, uint32_t e, uint32_t u, const prep_tally_agg *a, int *tie)
{
    const prep_cat_election *el = &x->c->elections[e];
    *tie = 0;
    if (!a->contabilizadas) return PREP_CAT_NONE;
    uint32_t n = prep_tally_candidacy_votes(x->t, e, u, a, x->cv, (uint32_t)x->n_scratch);
    uint32_t best = PREP_CAT_NONE;
    int64_t bv = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (x->cv[i] > bv) {
            bv = x->cv[i];
            best = el->cand_index[el->cand_first[u] + i];
            *tie = 0;
        } else if (x->cv[i] == bv) {
            *tie = 1;
        }
    }
    return best;
}

static void lead_cell(rctx *x, rbuf *r, uint32_t e, uint32_t u, const prep_tally_agg *a, int with_name)
{
    int tie;
    uint32_t k = lead_of(x, e, u, a, &tie);
    rb_puts(r, "<td class=\"t\">");
    if (k == PREP_CAT_NONE) rb_puts(r, "\xE2\x80\x94");
    else if (tie) rb_puts(r, "Empate");
    else {
        swatch_cand(x, r, k);
        if (with_name) {
            rb_esc(r, x->c->candidacies[k].name);
            rb_puts(r, " (");
            rb_esc(r, x->s->cand[k].label);
            rb_puts(r, ")");
        } else {
            rb_esc(r, x->s->cand[k].label);
        }
    }
    rb_puts(r, "</td>");
}

void casillas_text(rbuf *r, const prep_cat_casilla *k)
{
    const char *name;
    switch (k->type) {
    case 'B': rb_puts(r, "B\xC3\xA1sica"); return;
    case 'C': name = "Contigua "; break;
    case 'E': name = "Extraordinaria "; break;
    case 'S': name = "Especial "; break;
    case 'M': name = "Mesa "; break;
    case 'A': name = "Voto anticipado "; break;
    case 'P':
    case 'V': name = "Prisi\xC3\xB3n preventiva "; break;
    default: name = "Casilla "; break;
    }
    rb_puts(r, name);
    rb_uint(r, k->number);
    if (k->type == 'E' && k->ext) {
        rb_puts(r, " contigua ");
        rb_uint(r, k->ext);
    }
}

/* ---------------------------------------------------------------- blocks */
void crumb(rbuf *r, unsigned up, const char *name)
{
    if (!up) {
        rb_puts(r, "<li aria-current=\"page\">");
        rb_esc(r, name);
        rb_puts(r, "</li>");
        return;
    }
    rb_puts(r, "<li><a href=\"");
    rb_up(r, up);
    rb_puts(r, "\">");
    rb_esc(r, name);
    rb_puts(r, "</a></li>");
}

/* Inicio > election [> entity] [> district or municipality] [> section]: each step a link
 * relative to the page (the election's directory is one deep, an entity's two). */
static void breadcrumbs(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    rb_puts(r, "<nav class=\"ruta\" aria-label=\"Ruta\"><ol>");
    crumb(r, p->depth, "Inicio");
    if (p->kind < PG_ENTITY || p->kind > PG_SECTION) {
        crumb(r, 0, p->title);
        rb_puts(r, "</ol></nav>");
        return;
    }
    const prep_cat_election *el = &c->elections[p->e];
    crumb(r, p->depth - 1u, el->title);
    uint32_t ent = unit_entity(c, page_level(p), p->idx), unit = PREP_CAT_NONE;
    int mun = 0;
    if (p->kind == PG_DISTRICT) unit = p->idx;
    else if (p->kind == PG_MUNI) unit = p->idx, mun = 1;
    else if (p->kind == PG_SECTION) {
        const prep_cat_section *sc = &c->sections[p->idx];
        mun = x->s->el[p->e].sec_level == PREP_TALLY_MUNICIPALITY;
        unit = mun ? sc->municipality : sc->district;
    }
    if (c->national && ent != PREP_CAT_NONE) crumb(r, p->depth - 2u, c->entities[ent].name);
    if (unit != PREP_CAT_NONE)
        crumb(r, p->kind == PG_SECTION ? 1 : 0, mun ? c->municipalities[unit].name : c->districts[unit].name);
    if (p->kind == PG_SECTION) rb_printf(r, "<li aria-current=\"page\">Secci\xC3\xB3n %04u</li>", c->sections[p->idx].id);
    rb_puts(r, "</ol></nav>");
}

void summary(rctx *x, rbuf *r, uint32_t e, const prep_tally_agg *a)
{
    rb_puts(r, "<dl class=\"res\"><div><dt>Actas contabilizadas</dt><dd>");
    rb_int(r, a->contabilizadas);
    rb_puts(r, " de ");
    rb_int(r, a->esperadas);
    rb_puts(r, " (");
    rb_pct(r, a->contabilizadas, a->esperadas, x->dec);
    rb_puts(r, ")</dd></div><div><dt>Actas capturadas</dt><dd>");
    rb_int(r, a->capturadas);
    rb_puts(r, " (");
    rb_pct(r, a->capturadas, a->esperadas, x->dec);
    rb_puts(r, ")</dd></div><div><dt>Participaci\xC3\xB3n ciudadana</dt><dd>");
    rb_pct(r, part_num(x, a), a->lista_nominal, x->dec);
    rb_puts(r, "</dd></div><div><dt>Total de votos</dt><dd>");
    rb_int(r, total_votes(x, e, a));
    rb_puts(r, "</dd></div><div><dt>Lista nominal de actas contabilizadas</dt><dd>");
    rb_int(r, a->lista_nominal);
    rb_puts(r, "</dd></div></dl>");
}

static void table_head(rbuf *r, const char *caption, const char *first)
{
    rb_puts(r, "<table><caption>");
    rb_puts(r, caption);
    rb_puts(r, "</caption><thead><tr><th scope=\"col\">");
    rb_puts(r, first);
    rb_puts(r, "</th><th scope=\"col\">Votos</th><th scope=\"col\">Porcentaje</th></tr></thead><tbody>");
}

static void vote_row(rctx *x, rbuf *r, int64_t v, int64_t total)
{
    rb_puts(r, "</th><td>");
    rb_int(r, v);
    rb_puts(r, "</td><td>");
    rb_pct(r, v, total, x->dec);
    rb_puts(r, "</td></tr>");
}

static void table_foot(rctx *x, rbuf *r, int64_t total)
{
    rb_puts(r, "</tbody><tfoot><tr><th scope=\"row\">Total");
    vote_row(x, r, total, total);
    rb_puts(r, "</tfoot></table>");
}

/* Sum of columns of one kind (NOREG, NULOS, INDEP) shown in unit u. */
int64_t kind_sum(const rctx *x, uint32_t e, uint32_t u, const prep_tally_agg *a, prep_cat_col_kind kind, int *any)
{
    const prep_cat_election *el = &x->c->elections[e];
    int64_t s = 0;
    *any = 0;
    for (uint32_t j = 0; j < el->n_cols; j++)
        if (el->cols[j].kind == kind && col_shown(x, e, u, j)) {
            s += a->votes[j];
            *any = 1;
        }
    return s;
}

static void tail_rows(rctx *x, rbuf *r, uint32_t e, uint32_t u, const prep_tally_agg *a, int64_t total, rbar *bars,
                      size_t *nb, int with_indep)
{
    int any;
    if (with_indep) {
        int64_t v = kind_sum(x, e, u, a, PREP_CAT_COL_INDEP, &any);
        if (any) {
            rb_puts(r, "<tr><th scope=\"row\"><i class=\"sw ci\"></i>Candidaturas independientes");
            vote_row(x, r, v, total);
            bars[(*nb)++] = (rbar){"Independientes", v, RENDER_INDEP_COLOR};
        }
    }
    int64_t v = kind_sum(x, e, u, a, PREP_CAT_COL_NOREG, &any);
    rb_puts(r, "<tr><th scope=\"row\"><i class=\"sw cx\"></i>Candidaturas no registradas");
    vote_row(x, r, v, total);
    bars[(*nb)++] = (rbar){"No registradas", v, "#FFFFFF"};
    v = kind_sum(x, e, u, a, PREP_CAT_COL_NULOS, &any);
    rb_puts(r, "<tr><th scope=\"row\"><i class=\"sw cx\"></i>Votos nulos");
    vote_row(x, r, v, total);
    bars[(*nb)++] = (rbar){"Nulos", v, "#FFFFFF"};
}

/* Votes by candidacy of unit u over aggregate a. */
static void block_candidacies(rctx *x, rbuf *r, uint32_t e, uint32_t u, const prep_tally_agg *a)
{
    const prep_cat_election *el = &x->c->elections[e];
    int64_t total = total_votes(x, e, a);
    uint32_t n = prep_tally_candidacy_votes(x->t, e, u, a, x->cv, (uint32_t)x->n_scratch);
    rbar *bars = calloc((size_t)n + 4, sizeof *bars);
    if (!bars) {
        r->err = PREP_ERR_NOMEM;
        return;
    }
    size_t nb = 0;
    rb_puts(r, "<h2>Votos por candidatura</h2>");
    table_head(r, "Votos por candidatura", "Candidatura");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = el->cand_index[el->cand_first[u] + i];
        rb_puts(r, "<tr><th scope=\"row\">");
        swatch_cand(x, r, k);
        rb_esc(r, x->c->candidacies[k].name);
        rb_puts(r, " <span class=\"nota\">");
        rb_esc(r, x->s->cand[k].label);
        rb_puts(r, "</span>");
        vote_row(x, r, x->cv[i], total);
        bars[nb++] = (rbar){x->s->cand[k].label, x->cv[i], party_color(x, x->s->cand[k].party)};
    }
    tail_rows(x, r, e, u, a, total, bars, &nb, 0);
    table_foot(x, r, total);
    svg_bars(x, r, "Votos por candidatura", bars, nb, total);
    free(bars);
}

static void block_parties(rctx *x, rbuf *r, uint32_t e, uint32_t u, const prep_tally_agg *a)
{
    const prep_cat_election *el = &x->c->elections[e];
    int64_t total = total_votes(x, e, a);
    rbar *bars = calloc((size_t)el->n_cols + 4, sizeof *bars);
    if (!bars) {
        r->err = PREP_ERR_NOMEM;
        return;
    }
    size_t nb = 0;
    rb_puts(r, "<h2>Votos por partido</h2>");
    table_head(r, "Votos por partido pol\xC3\xADtico", "Partido");
    for (uint32_t j = 0; j < el->n_cols; j++) {
        if (el->cols[j].kind != PREP_CAT_COL_PARTY || !col_shown(x, e, u, j)) continue;
        uint32_t p = el->cols[j].parties[0];
        rb_puts(r, "<tr><th scope=\"row\">");
        swatch_party(r, p);
        rb_esc(r, x->c->parties[p].name);
        rb_puts(r, " <span class=\"nota\">");
        rb_esc(r, x->c->parties[p].id);
        rb_puts(r, "</span>");
        vote_row(x, r, a->party_votes[p], total);
        bars[nb++] = (rbar){x->c->parties[p].id, a->party_votes[p], x->c->parties[p].color};
    }
    tail_rows(x, r, e, u, a, total, bars, &nb, 1);
    table_foot(x, r, total);
    svg_bars(x, r, "Votos por partido pol\xC3\xADtico", bars, nb, total);
    rb_puts(r, "<p class=\"nota\">Los votos marcados por dos o m\xC3\xA1s partidos de una coalici\xC3\xB3n se "
               "distribuyen igualitariamente entre ellos, casilla por casilla; la fracci\xC3\xB3n va al partido "
               "con m\xC3\xA1s votos en la casilla.</p>");
    free(bars);
}

static void block_combos(rctx *x, rbuf *r, uint32_t e, uint32_t u, const prep_tally_agg *a)
{
    const prep_cat_election *el = &x->c->elections[e];
    size_t n = 0;
    for (uint32_t j = 0; j < el->n_cols; j++)
        if (el->cols[j].kind == PREP_CAT_COL_COMBO && col_shown(x, e, u, j)) n++;
    if (!n) return;
    int64_t total = total_votes(x, e, a);
    rbar *bars = calloc(n, sizeof *bars);
    /* readers see "PAN-QI", never the database column name (C_PAN_QI, PAN_QI) */
    char(*labels)[PREP_CAT_MAX_COALITION_PARTIES * 34] = calloc(n, sizeof *labels);
    if (!bars || !labels) {
        free(bars);
        free(labels);
        r->err = PREP_ERR_NOMEM;
        return;
    }
    size_t nb = 0;
    rb_puts(r, "<h2>Votos por combinaci\xC3\xB3n de coalici\xC3\xB3n</h2>");
    table_head(r, "Votos por combinaci\xC3\xB3n de partidos de una coalici\xC3\xB3n", "Combinaci\xC3\xB3n");
    for (uint32_t j = 0; j < el->n_cols; j++) {
        const prep_cat_column *col = &el->cols[j];
        if (col->kind != PREP_CAT_COL_COMBO || !col_shown(x, e, u, j)) continue;
        rb_puts(r, "<tr><th scope=\"row\">");
        for (uint32_t i = 0; i < col->n_parties; i++) swatch_party(r, col->parties[i]);
        char *lab = labels[nb];
        size_t ll = 0;
        for (uint32_t i = 0; i < col->n_parties; i++)
            ll += (size_t)snprintf(lab + ll, sizeof labels[nb] - ll, "%s%s", i ? "-" : "",
                                   x->c->parties[col->parties[i]].id);
        rb_esc(r, lab);
        rb_puts(r, "</th><td>");
        rb_int(r, a->votes[j]);
        rb_puts(r, "</td><td>");
        rb_pct(r, a->votes[j], total, x->dec);
        rb_puts(r, "</td></tr>");
        bars[nb] = (rbar){lab, a->votes[j], party_color(x, col->parties[0])};
        nb++;
    }
    rb_puts(r, "</tbody></table>");
    svg_bars(x, r, "Votos por combinaci\xC3\xB3n de coalici\xC3\xB3n", bars, nb, total);
    rb_puts(r, "<p class=\"nota\">Porcentajes sobre el total de votos. Cada combinaci\xC3\xB3n suma a la "
               "candidatura de su coalici\xC3\xB3n.</p>");
    free(bars);
    free(labels);
}

static void act_row(rctx *x, rbuf *r, const char *name, int64_t v, int64_t den)
{
    rb_puts(r, "<tr><th scope=\"row\">");
    rb_puts(r, name);
    rb_puts(r, "</th><td>");
    rb_int(r, v);
    rb_puts(r, "</td><td>");
    if (den >= 0) rb_pct(r, v, den, x->dec);
    rb_puts(r, "</td></tr>");
}

static void block_actas(rctx *x, rbuf *r, uint32_t e, const prep_tally_agg *a, int entity)
{
    int64_t esp = a->esperadas;
    rb_puts(r, "<h2>Avance de actas y participaci\xC3\xB3n</h2><table><caption>Actas"
               "</caption><thead><tr><th scope=\"col\">Actas</th><th scope=\"col\">Cantidad</th>"
               "<th scope=\"col\">% de las esperadas</th></tr></thead><tbody>");
    act_row(x, r, "Esperadas", esp, -1);
    act_row(x, r, "Capturadas", a->capturadas, esp);
    act_row(x, r, "Contabilizadas", a->contabilizadas, esp);
    act_row(x, r, "No contabilizadas", a->no_contabilizadas, esp);
    act_row(x, r, "\xE2\x80\x83" "Exceden la lista nominal", a->by_status[PREP_ACTA_NC_EXCEEDS_LN], esp);
    act_row(x, r, "\xE2\x80\x83Todos los campos ilegibles o sin dato", a->by_status[PREP_ACTA_NC_ALL_ILLEGIBLE], esp);
    act_row(x, r, "\xE2\x80\x83Sin acta", a->by_status[PREP_ACTA_NC_NO_ACTA], esp);
    act_row(x, r, "Con inconsistencias", a->inconsistentes, esp);
    if (entity) act_row(x, r, "Fuera de cat\xC3\xA1logo", (int64_t)prep_tally_n_out_of_catalog(x->t, e), -1);
    rb_puts(r, "</tbody></table>");
    svg_actas(x, r, a);
    svg_participation(x, r, part_num(x, a), a->lista_nominal);
}

/* The end of a unit's row in the district/municipality and section tables, after its
 * opening <td>: "N de M" actas counted, participation, the leader; closes the row. */
static void unit_row_figures(rctx *x, rbuf *r, uint32_t e, uint32_t cand_u, const prep_tally_agg *a, int with_name)
{
    rb_int(r, a->contabilizadas);
    rb_puts(r, " de ");
    rb_int(r, a->esperadas);
    rb_puts(r, "</td><td>");
    rb_pct(r, part_num(x, a), a->lista_nominal, x->dec);
    rb_puts(r, "</td>");
    lead_cell(x, r, e, cand_u, a, with_name);
    rb_puts(r, "</tr>");
}

/* Units of election e at level lvl (entities, districts or municipalities) with their
 * figures and leader; `within` (an entity index, or PREP_CAT_NONE for all) keeps the
 * districts or municipalities of one entity. Links are relative to the page that holds
 * the units' directories (the election's, or in a national catalogue the entity's). */
static void block_units(rctx *x, rbuf *r, uint32_t e, prep_tally_level lvl, uint32_t within)
{
    const prep_catalog *c = x->c;
    const relection *re = &x->s->el[e];
    static const char *const text[3][4] = {
        {"<h2>Entidades</h2>", "Resultados por entidad", "Entidad"},
        {"<h2>Distritos</h2>", "Resultados por distrito", "Distrito"},
        {"<h2>Municipios</h2>", "Resultados por municipio", "Municipio"},
    };
    int k = lvl == PREP_TALLY_ENTITY ? 0 : lvl == PREP_TALLY_DISTRICT ? 1 : 2;
    uint32_t n = k == 0 ? c->n_entities : k == 1 ? c->n_districts : c->n_municipalities;
    rb_puts(r, text[k][0]);
    rb_puts(r, "<table class=\"un\"><caption>");
    rb_puts(r, text[k][1]);
    rb_puts(r, "</caption><thead><tr><th scope=\"col\">");
    rb_puts(r, text[k][2]);
    rb_puts(r, "</th><th scope=\"col\">Actas contabilizadas</th><th scope=\"col\">Participaci\xC3\xB3n</th>"
               "<th scope=\"col\">Encabeza</th></tr></thead><tbody>");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ent = k == 0 ? i : k == 1 ? c->districts[i].entity : c->municipalities[i].entity;
        if (within != PREP_CAT_NONE && ent != within) continue;
        const prep_tally_agg *a = agg(x, e, lvl, i);
        if (!a->esperadas && k == 1 && c->districts[i].id == 0) continue; /* abroad, no acta in e */
        rb_puts(r, "<tr><th scope=\"row\"><a href=\"");
        rb_puts(r, k == 0 ? c->entities[i].slug : k == 1 ? c->districts[i].slug : re->muni_seg[i]);
        rb_puts(r, "/\">");
        rb_esc(r, k == 0 ? c->entities[i].name : k == 1 ? c->districts[i].name : c->municipalities[i].name);
        rb_puts(r, "</a></th><td>");
        unit_row_figures(x, r, e, cand_unit(x, e, lvl, i), a, 1);
    }
    rb_puts(r, "</tbody></table>");
}

/* Sections of a district or municipality of election e, with their figures (a local
 * catalogue; a national one links to the unit's section list instead: block_seclist_link). */
static void block_sections(rctx *x, rbuf *r, uint32_t e, prep_tally_level lvl, uint32_t unit)
{
    const prep_catalog *c = x->c;
    const relection *re = &x->s->el[e];
    rb_puts(r, "<h2>Secciones</h2><table class=\"un\"><caption>Resultados por secci\xC3\xB3n</caption>"
               "<thead><tr><th scope=\"col\">Secci\xC3\xB3n</th><th scope=\"col\">Casillas</th>"
               "<th scope=\"col\">Actas contabilizadas</th><th scope=\"col\">Participaci\xC3\xB3n</th>"
               "<th scope=\"col\">Encabeza</th></tr></thead><tbody>");
    for (uint32_t si = 0; si < c->n_sections; si++) {
        const prep_cat_section *s = &c->sections[si];
        if ((lvl == PREP_TALLY_DISTRICT ? s->district : s->municipality) != unit) continue;
        const prep_tally_agg *a = agg(x, e, PREP_TALLY_SECTION, si);
        rb_puts(r, "<tr><th scope=\"row\"><a href=\"");
        if (re->sec_level != lvl) { /* the section page lives under the other view */
            rb_puts(r, "../");
            rb_puts(r, re->sec_level == PREP_TALLY_DISTRICT ? c->districts[s->district].slug
                                                       : re->muni_seg[s->municipality]);
            rb_puts(r, "/");
        }
        char nm[48];
        sec_name(c, s, nm);
        rb_printf(r, "seccion-%s/\">%04u</a></th><td>%u</td><td>", nm, s->id, s->n_casillas);
        unit_row_figures(x, r, e, cand_unit(x, e, PREP_TALLY_SECTION, si), a, 0);
    }
    rb_puts(r, "</tbody></table>");
}

static void dd_time(const rctx *x, rbuf *r, const char *name, prep_time t)
{
    char s[64];
    rb_puts(r, "<dt>");
    rb_puts(r, name);
    rb_puts(r, "</dt><dd>");
    if (t == PREP_TIME_NONE || prep_time_format(t, x->c->timezone, PREP_TS_ISO, s, sizeof s)) rb_puts(r, "\xE2\x80\x94");
    else rb_puts(r, s);
    rb_puts(r, "</dd>");
}

static void dd_text(rbuf *r, const char *name, const char *v)
{
    rb_puts(r, "<dt>");
    rb_puts(r, name);
    rb_puts(r, "</dt><dd>");
    if (v && *v) rb_esc(r, v);
    else rb_puts(r, "\xE2\x80\x94");
    rb_puts(r, "</dd>");
}

/* A vote column of an acta as a reader names it: "PAN", "PAN-QI" (a combination of a
 * coalition's or candidatura común's parties), "Ana Pérez (independiente)" (the unit's
 * candidacy on that CAND_IND_n column), "Candidaturas no registradas", "Votos nulos".
 * Never the database column name (C_PAN_QI, CAND_IND_1), which stays in the CSV. */
static void col_label(const rctx *x, rbuf *r, uint32_t e, uint32_t u, uint32_t j)
{
    const prep_catalog *c = x->c;
    const prep_cat_election *el = &c->elections[e];
    const prep_cat_column *col = &el->cols[j];
    switch (col->kind) {
    case PREP_CAT_COL_PARTY:
    case PREP_CAT_COL_COMBO:
        for (uint32_t i = 0; i < col->n_parties; i++) {
            if (i) rb_puts(r, "-");
            rb_esc(r, c->parties[col->parties[i]].id);
        }
        return;
    case PREP_CAT_COL_INDEP:
        if (u != PREP_CAT_NONE)
            for (uint32_t i = el->cand_first[u]; i < el->cand_first[u + 1]; i++) {
                const prep_cat_candidacy *cd = &c->candidacies[el->cand_index[i]];
                if (cd->kind == PREP_CAT_CAND_INDEP && cd->ref == j) {
                    rb_esc(r, cd->name);
                    rb_puts(r, " (independiente)");
                    return;
                }
            }
        rb_printf(r, "Candidatura independiente %u", col->indep_no);
        return;
    case PREP_CAT_COL_NOREG: rb_puts(r, "Candidaturas no registradas"); return;
    case PREP_CAT_COL_NULOS: rb_puts(r, "Votos nulos"); return;
    }
    rb_esc(r, col->name);
}

/* One row of the acta's table: its label (already escaped HTML) was written after the
 * row's opening <th>; the value as captured (a number, or SIN DATO / ILEGIBLE). */
static void vote_cell(rbuf *r, int32_t v)
{
    rb_puts(r, "</th><td>");
    if (v >= 0) rb_int(r, v);
    else {
        char t[16];
        prep_actas_vote_text(v, t);
        rb_puts(r, t);
    }
    rb_puts(r, "</td></tr>");
}

const char *acta_status_text(const prep_acta *a)
{
    return prep_acta_status_counted((prep_acta_status)a->status) ? "Contabilizada" : "No contabilizada";
}

void acta_sha(rbuf *r, const prep_acta *a)
{
    if (a->sha[0]) {
        rb_puts(r, "<code>");
        rb_esc(r, a->sha);
        rb_puts(r, "</code>");
    } else {
        rb_puts(r, "\xE2\x80\x94");
    }
}

/* One casilla's acta as captured: an anchored block on its section page. */
static void block_acta(rctx *x, rbuf *r, uint32_t e, uint32_t ci, const char *anchor)
{
    const prep_catalog *c = x->c;
    const prep_cat_casilla *k = &c->casillas[ci];
    const prep_cat_election *el = &c->elections[e];
    rb_puts(r, "<div class=\"acta\" id=\"");
    rb_puts(r, anchor);
    rb_puts(r, "casilla-");
    rb_puts(r, k->key);
    rb_puts(r, "\"><h3>");
    casillas_text(r, k);
    rb_puts(r, " \xC2\xB7 <span class=\"nota\">");
    rb_puts(r, k->key);
    rb_puts(r, "</span></h3>");
    const int32_t *v;
    const prep_acta *a = prep_tally_acta(x->t, e, ci, &v);
    if (!a) {
        rb_puts(r, "<p>Acta a\xC3\xBAn no capturada en este corte.</p></div>");
        return;
    }
    char ka[28];
    prep_catalog_acta_key(k->key, el->acta_type, ka);
    rb_puts(r, "<dl><dt>Estado</dt><dd>");
    rb_puts(r, acta_status_text(a));
    rb_puts(r, "</dd>");
    dd_text(r, "Observaciones", prep_actas_observaciones(c, a));
    dd_text(r, "Clave del acta", ka);
    dd_time(x, r, "Acopio", a->acopio);
    dd_time(x, r, "Captura", a->captura);
    dd_time(x, r, "Verificaci\xC3\xB3n", a->verificacion);
    dd_text(r, "Origen", a->origen);
    dd_text(r, "Digitalizaci\xC3\xB3n", a->digitalizacion);
    dd_text(r, "Tipo de documento", a->tipo_documento);
    if (a->mecanismo[0]) dd_text(r, "Mecanismo de traslado", a->mecanismo);
    rb_puts(r, "<dt>Lista nominal</dt><dd>");
    rb_int(r, k->lista_nominal);
    rb_puts(r, "</dd><dt>SHA-256 de la imagen del acta</dt><dd>");
    acta_sha(r, a);
    rb_puts(r, "</dd></dl><table><caption>Datos del acta ");
    rb_puts(r, ka);
    rb_puts(r, " como se capturaron</caption>"
               "<thead><tr><th scope=\"col\">Campo</th><th scope=\"col\">Valor</th></tr></thead><tbody>");
    uint32_t u = prep_catalog_unit_of(c, e, ci);
    for (uint32_t j = 0; j < el->n_cols; j++)
        if (v[j] != PREP_ACTA_V_NA || u == PREP_CAT_NONE || prep_catalog_col_applies(c, e, u, j)) {
            rb_puts(r, "<tr><th scope=\"row\">");
            col_label(x, r, e, u, j);
            vote_cell(r, v[j]); /* as captured: "-" columns left out */
        }
    /* the totals, named as the acta's own boxes (TOTAL_VOTOS_ASENTADO ... in the CSV) */
    rb_puts(r, "<tr><th scope=\"row\">Total de votos asentado en el acta");
    vote_cell(r, a->total_asentado);
    rb_puts(r, "<tr><th scope=\"row\">Total de votos calculado</th><td>");
    rb_int(r, a->total_calculado);
    rb_puts(r, "</td></tr><tr><th scope=\"row\">Boletas sobrantes");
    vote_cell(r, a->boletas_sobrantes);
    rb_puts(r, "<tr><th scope=\"row\">Personas que votaron");
    vote_cell(r, a->personas_votaron);
    rb_puts(r, "<tr><th scope=\"row\">Representantes de partidos y de candidaturas independientes que votaron");
    vote_cell(r, a->rep_votaron);
    rb_puts(r, "<tr><th scope=\"row\">Votos sacados de las urnas");
    vote_cell(r, a->votos_sacados);
    rb_puts(r, "</tbody></table></div>");
}

/* Who leads each of the nu units of level lvl in election e, by candidacy group: gk[g] is
 * a candidacy of group g and gc[g] the units it leads (the groups returned, at most
 * x->n_scratch, in order of first appearance); *ties and *none count the units with a tie
 * and with no votes. lead (NULL: not wanted) gets each unit's leading candidacy,
 * PREP_CAT_NONE without votes, or tie_mark on a tie. */
size_t lead_groups(rctx *x, uint32_t e, prep_tally_level lvl, uint32_t nu, uint32_t *gk, int64_t *gc,
                   uint32_t *ties, uint32_t *none, uint32_t *lead, uint32_t tie_mark)
{
    size_t ng = 0;
    for (uint32_t u = 0; u < nu; u++) {
        int tie;
        uint32_t k = lead_of(x, e, cand_unit(x, e, lvl, u), agg(x, e, lvl, u), &tie);
        if (lead) lead[u] = k == PREP_CAT_NONE ? PREP_CAT_NONE : tie ? tie_mark : k;
        if (k == PREP_CAT_NONE) {
            (*none)++;
            continue;
        }
        if (tie) {
            (*ties)++;
            continue;
        }
        size_t g = 0;
        while (g < ng && strcmp(x->s->cand[gk[g]].group, x->s->cand[k].group)) g++;
        if (g == ng) {
            if (ng >= x->n_scratch) continue;
            gk[ng] = k;
            gc[ng++] = 0;
        }
        gc[g]++;
    }
    return ng;
}

/* The municipality map (render_entity_map.c draws it, as the entity map). */
static void block_map(rctx *x, rbuf *r, uint32_t e)
{
    rmap m = {
        .lvl = PREP_TALLY_MUNICIPALITY,
        .n = x->c->n_municipalities,
        .shape = x->c->municipality_shape,
        .href = (const char *const *)x->s->el[e].muni_seg,
        .href_suffix = "/",
        .pat = "mp",
        .title_id = "mapa-t",
        .heading = "Mapa por municipio",
        .title = "Municipios seg\xC3\xBAn la candidatura que encabeza",
        .one = "municipio",
        .many = "municipios",
    };
    map_draw(x, r, e, &m);
}

/* A section page's heading: "Sección NNNN", then `first` (the election, or the entity on
 * the page of all elections), the section's district and municipality. */
void section_heading(const rctx *x, rbuf *r, const prep_cat_section *s, const char *first)
{
    rb_printf(r, "<h1>Secci\xC3\xB3n %04u</h1><p class=\"nota\">", s->id);
    rb_esc(r, first);
    if (x->c->national) {
        rb_puts(r, " \xC2\xB7 ");
        rb_esc(r, x->c->entities[s->entity].name);
    }
    rb_puts(r, " \xC2\xB7 ");
    rb_esc(r, x->c->districts[s->district].name);
    rb_puts(r, " \xC2\xB7 ");
    rb_esc(r, x->c->municipalities[s->municipality].name);
    rb_puts(r, "</p>");
}

/* ---------------------------------------------------------------- page bodies */
static void body_home(rctx *x, rbuf *r)
{
    const prep_catalog *c = x->c;
    rb_puts(r, "<h1>");
    rb_esc_nb(r, c->process_name);
    rb_puts(r, "</h1><p class=\"nota\">");
    rb_esc(r, c->entity_name);
    rb_puts(r, " \xC2\xB7 ");
    rb_esc(r, c->institute);
    rb_puts(r, "</p>");
    secindex_form(r, "seccion/");
    rb_puts(r, "<div class=\"elecciones\">");
    for (uint32_t e = 0; e < c->n_elections; e++) {
        const prep_cat_election *el = &c->elections[e];
        const prep_tally_agg *a = agg(x, e, PREP_TALLY_NATION, 0);
        rb_printf(r, "<section aria-labelledby=\"el-%u\"><h2 id=\"el-%u\"><a href=\"%s/\">", e, e, x->s->el[e].seg);
        rb_esc(r, el->title);
        rb_puts(r, "</a></h2>");
        summary(x, r, e, a);
        if (prep_catalog_one_unit(x->c, e)) {
            int64_t total = total_votes(x, e, a);
            uint32_t n = prep_tally_candidacy_votes(x->t, e, 0, a, x->cv, (uint32_t)x->n_scratch);
            for (uint32_t i = 0; i < n; i++) x->order[i] = i;
            /* top three by votes, ties in ballot order (stable selection) */
            rb_puts(r, "<h3>Candidaturas con m\xC3\xA1s votos</h3><ol>");
            for (uint32_t top = 0; top < 3 && top < n; top++) {
                uint32_t b = top;
                for (uint32_t i = top + 1; i < n; i++)
                    if (x->cv[x->order[i]] > x->cv[x->order[b]]) b = i;
                uint32_t chosen = x->order[b];
                memmove(&x->order[top + 1], &x->order[top], (b - top) * sizeof *x->order);
                x->order[top] = chosen;
                uint32_t i0 = x->order[top];
                uint32_t k = el->cand_index[el->cand_first[0] + i0];
                rb_puts(r, "<li>");
                swatch_cand(x, r, k);
                rb_esc(r, c->candidacies[k].name);
                rb_puts(r, " (");
                rb_esc(r, x->s->cand[k].label);
                rb_puts(r, "): <b>");
                rb_int(r, x->cv[i0]);
                rb_puts(r, "</b> votos, ");
                rb_pct(r, x->cv[i0], total, x->dec);
                rb_puts(r, "</li>");
            }
            rb_puts(r, "</ol>");
        } else {
            /* how many units each contender leads */
            int dist = el->scope == PREP_CAT_SCOPE_DISTRICT, ent = el->scope == PREP_CAT_SCOPE_ENTITY;
            prep_tally_level lvl = ent ? PREP_TALLY_ENTITY : dist ? PREP_TALLY_DISTRICT : PREP_TALLY_MUNICIPALITY;
            uint32_t nu = ent ? c->n_entities : dist ? c->n_districts : c->n_municipalities;
            uint32_t *gk = x->order;          /* a candidacy representing each group */
            int64_t *gc = x->tmp;             /* units led */
            uint32_t ties = 0, none = 0;
            size_t ng = lead_groups(x, e, lvl, nu, gk, gc, &ties, &none, NULL, 0);
            rb_printf(r, "<h3>Encabeza en</h3><ol>");
            for (size_t top = 0; top < 3 && top < ng; top++) {
                size_t b = top;
                for (size_t g = top + 1; g < ng; g++)
                    if (gc[g] > gc[b] || (gc[g] == gc[b] && strcmp(x->s->cand[gk[g]].group, x->s->cand[gk[b]].group) < 0))
                        b = g;
                uint32_t tk = gk[top];
                int64_t tc = gc[top];
                gk[top] = gk[b];
                gc[top] = gc[b];
                gk[b] = tk;
                gc[b] = tc;
                rb_puts(r, "<li>");
                swatch_cand(x, r, gk[top]);
                rb_esc(r, x->s->cand[gk[top]].group);
                rb_puts(r, ": <b>");
                rb_int(r, gc[top]);
                rb_printf(r, "</b> de %u %s</li>", nu, ent ? "entidades" : dist ? "distritos" : "municipios");
            }
            rb_puts(r, "</ol>");
            if (ties || none) {
                rb_puts(r, "<p class=\"nota\">");
                if (ties) rb_printf(r, "Empate en %u. ", ties);
                if (none) rb_printf(r, "Sin actas contabilizadas en %u.", none);
                rb_puts(r, "</p>");
            }
        }
        rb_puts(r, "</section>");
    }
    rb_puts(r, "</div>");
}

static void body_entity(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    uint32_t e = p->e;
    const prep_cat_election *el = &c->elections[e];
    const relection *re = &x->s->el[e];
    const prep_tally_agg *a = agg(x, e, PREP_TALLY_NATION, 0);
    breadcrumbs(x, p, r);
    rb_puts(r, "<h1>");
    rb_esc(r, el->title);
    rb_puts(r, "</h1><p class=\"nota\">");
    rb_esc(r, c->entity_name);
    rb_puts(r, "</p>");
    summary(x, r, e, a);
    uint32_t u = prep_catalog_one_unit(x->c, e) ? 0 : PREP_CAT_NONE;
    if (u == 0) block_candidacies(x, r, e, 0, a);
    block_parties(x, r, e, u, a);
    block_combos(x, r, e, u, a);
    block_actas(x, r, e, a, 1);
    block_progress(x, r, e);
    if (c->national) { /* the entity map, and the entities; the districts are on each entity's page */
        block_entity_map(x, r, e, (const char *const *)x->s->ent_href);
        block_units(x, r, e, PREP_TALLY_ENTITY, PREP_CAT_NONE);
        return;
    }
    if (re->view_muni && x->s->has_map) block_map(x, r, e);
    if (re->view_dist) block_units(x, r, e, PREP_TALLY_DISTRICT, PREP_CAT_NONE);
    if (re->view_muni) block_units(x, r, e, PREP_TALLY_MUNICIPALITY, PREP_CAT_NONE);
}

/* Senadurías (an entity-scope election of a national catalogue): the formula with the
 * most votes in the entity takes the two seats of mayoría relativa, the runner-up the
 * seat of primera minoría (CPEUM art. 56). Preliminary: it says who leads, not who wins. */
static void block_seats(rctx *x, rbuf *r, uint32_t e, uint32_t u, const prep_tally_agg *a)
{
    const prep_catalog *c = x->c;
    const prep_cat_election *el = &c->elections[e];
    uint32_t n = prep_tally_candidacy_votes(x->t, e, u, a, x->cv, (uint32_t)x->n_scratch);
    uint32_t first = PREP_CAT_NONE, second = PREP_CAT_NONE;
    for (uint32_t i = 0; i < n; i++) {
        if (first == PREP_CAT_NONE || x->cv[i] > x->cv[first]) second = first, first = i;
        else if (second == PREP_CAT_NONE || x->cv[i] > x->cv[second]) second = i;
    }
    rb_puts(r, "<h2>Esca\xC3\xB1os en disputa en la entidad</h2>");
    if (first == PREP_CAT_NONE || x->cv[first] == 0) {
        rb_puts(r, "<p>Sin votos contabilizados todav\xC3\xAD" "a.</p>");
        return;
    }
    static const char *const what[2] = {"Mayor\xC3\xAD" "a relativa (dos f\xC3\xB3rmulas)", "Primera minor\xC3\xAD" "a (una f\xC3\xB3rmula)"};
    uint32_t pick[2] = {first, second};
    rb_puts(r, "<ul class=\"ligas\">");
    for (int i = 0; i < 2 && pick[i] != PREP_CAT_NONE; i++) {
        uint32_t k = el->cand_index[el->cand_first[u] + pick[i]];
        rb_puts(r, "<li>");
        rb_puts(r, what[i]);
        rb_puts(r, ": encabeza ");
        swatch_cand(x, r, k);
        rb_esc(r, x->s->cand[k].label);
        rb_puts(r, " (");
        rb_esc(r, c->candidacies[k].name);
        rb_puts(r, "), <b>");
        rb_int(r, x->cv[pick[i]]);
        rb_puts(r, "</b> votos</li>");
    }
    rb_puts(r, "</ul>");
    int tie = second != PREP_CAT_NONE && x->cv[first] == x->cv[second];
    for (uint32_t i = 0; i < n && !tie; i++)
        tie = i != first && i != second && second != PREP_CAT_NONE && x->cv[i] == x->cv[second];
    rb_puts(r, tie ? "<p class=\"nota\">Hay un empate: los resultados preliminares no deciden estos lugares.</p>"
                   : "<p class=\"nota\">Con los resultados preliminares de este corte; la asignaci\xC3\xB3n la hace el "
                     "c\xC3\xB3mputo de la entidad.</p>");
}

/* One entity of a national catalogue in election e: its figures, its candidacies (a
 * senaduría's formulas, or the nation's candidacies counted in the entity), the seats in
 * play for senadurías, and its districts. */
static void body_state(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    uint32_t e = p->e;
    const prep_cat_election *el = &c->elections[e];
    const relection *re = &x->s->el[e];
    const prep_tally_agg *a = agg(x, e, PREP_TALLY_ENTITY, p->idx);
    breadcrumbs(x, p, r);
    rb_puts(r, "<h1>");
    rb_esc(r, c->entities[p->idx].name);
    rb_puts(r, "</h1><p class=\"nota\">");
    rb_esc(r, el->title);
    rb_puts(r, " \xC2\xB7 entidad</p>");
    summary(x, r, e, a);
    uint32_t u = cand_unit(x, e, PREP_TALLY_ENTITY, p->idx);
    if (u != PREP_CAT_NONE) block_candidacies(x, r, e, u, a);
    if (el->scope == PREP_CAT_SCOPE_ENTITY) block_seats(x, r, e, u, a);
    block_parties(x, r, e, u, a);
    block_combos(x, r, e, u, a);
    block_actas(x, r, e, a, 0);
    if (re->view_dist) block_units(x, r, e, PREP_TALLY_DISTRICT, p->idx);
    if (re->view_muni) block_units(x, r, e, PREP_TALLY_MUNICIPALITY, p->idx);
}

static void body_unit(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    uint32_t e = p->e;
    const prep_cat_election *el = &c->elections[e];
    prep_tally_level lvl = p->kind == PG_DISTRICT ? PREP_TALLY_DISTRICT : PREP_TALLY_MUNICIPALITY;
    const prep_tally_agg *a = agg(x, e, lvl, p->idx);
    breadcrumbs(x, p, r);
    rb_puts(r, "<h1>");
    rb_esc(r, lvl == PREP_TALLY_DISTRICT ? c->districts[p->idx].name : c->municipalities[p->idx].name);
    rb_puts(r, "</h1><p class=\"nota\">");
    rb_esc(r, el->title);
    rb_puts(r, " \xC2\xB7 ");
    rb_puts(r, lvl == PREP_TALLY_DISTRICT ? "distrito" : "municipio");
    rb_puts(r, "</p>");
    summary(x, r, e, a);
    uint32_t u = cand_unit(x, e, lvl, p->idx);
    block_candidacies(x, r, e, u, a);
    block_parties(x, r, e, u, a);
    block_combos(x, r, e, u, a);
    block_actas(x, r, e, a, 0);
    if (c->national) block_seclist_link(x, r, p); /* lean: no per-section figures (render_seclist.c) */
    else block_sections(x, r, e, lvl, p->idx);
}

static void body_section(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    uint32_t e = p->e;
    const prep_cat_election *el = &c->elections[e];
    const prep_cat_section *s = &c->sections[p->idx];
    const prep_tally_agg *a = agg(x, e, PREP_TALLY_SECTION, p->idx);
    breadcrumbs(x, p, r);
    section_heading(x, r, s, el->title);
    summary(x, r, e, a);
    secall_link(c, r, p->depth, s);
    section_votes(x, r, e, p->idx, "");
}

void section_votes(rctx *x, rbuf *r, uint32_t e, uint32_t si, const char *anchor)
{
    const prep_cat_section *s = &x->c->sections[si];
    const prep_tally_agg *a = agg(x, e, PREP_TALLY_SECTION, si);
    uint32_t u = cand_unit(x, e, PREP_TALLY_SECTION, si);
    block_candidacies(x, r, e, u, a);
    block_parties(x, r, e, u, a);
    if (!x->lean) {
        block_combos(x, r, e, u, a);
        block_actas(x, r, e, a, 0);
    }
    rb_puts(r, "<h2>Actas de las casillas</h2>");
    for (uint32_t i = 0; i < s->n_casillas; i++) block_acta(x, r, e, s->first_casilla + i, anchor);
}

static void body_difusores(rctx *x, rbuf *r)
{
    const prep_render_opts *o = x->o;
    rb_puts(r, "<h1>Difusores oficiales</h1>");
    if (!o->n_difusores) {
        rb_puts(r, "<p>La lista de difusores oficiales se publicar\xC3\xA1 aqu\xC3\xAD cuando el instituto la "
                   "apruebe. Todos publican estas mismas p\xC3\xA1ginas, firmadas por el instituto, sin "
                   "modificaci\xC3\xB3n alguna.</p>");
        return;
    }
    rb_puts(r, "<p>Estas instituciones publican los resultados preliminares del instituto, sin "
               "modificaci\xC3\xB3n alguna:</p><ul>");
    for (size_t i = 0; i < o->n_difusores; i++) {
        rb_puts(r, "<li>");
        const char *u = o->difusores[i].url;
        /* only web addresses become links (never javascript: or data:) */
        if (u && (!strncmp(u, "https://", 8) || !strncmp(u, "http://", 7)) && !strpbrk(u, " \t\r\n")) {
            rb_puts(r, "<a href=\"");
            rb_esc(r, o->difusores[i].url);
            rb_puts(r, "\" rel=\"noopener noreferrer\">");
            rb_esc(r, o->difusores[i].name);
            rb_puts(r, "</a>");
        } else {
            rb_esc(r, o->difusores[i].name);
        }
        rb_puts(r, "</li>");
    }
    rb_puts(r, "</ul>");
}

void body_db(rctx *x, rbuf *r, int emb, const dbfile *files, size_t n)
{
    const prep_catalog *c = x->c;
    rpage p = {.kind = PG_DB, .depth = 1, .dir = "base-de-datos/", .title = "Base de datos"};
    breadcrumbs(x, &p, r);
    rb_puts(r, "<h1>Base de datos</h1><p>La base de datos de este corte: un archivo CSV por elecci\xC3\xB3n, "
               "con una fila por acta capturada (formato del Anexo 18.5 del Reglamento de Elecciones, "
               "separado por <code>");
    char sep[2] = {c->csv_sep, 0};
    rb_esc(r, sep);
    rb_puts(r, "</code>, UTF-8), y el archivo LEEME que describe cada columna. Sus sumas SHA-256 permiten "
               "comprobar que un archivo descargado es el publicado: <code>sha256sum ARCHIVO</code>.</p>"
               "<table><caption>Archivos de este corte</caption><thead><tr>"
               "<th scope=\"col\">Archivo</th><th scope=\"col\">Contenido</th>"
               "<th scope=\"col\">Tama\xC3\xB1o (bytes)</th><th scope=\"col\">SHA-256</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        rb_puts(r, "<tr><th scope=\"row\"><a href=\"");
        if (emb) rb_puts(r, "../../base-de-datos/");
        rb_esc(r, files[i].name);
        rb_puts(r, "\" download=\"\">");
        rb_esc(r, files[i].name);
        rb_puts(r, "</a></th><td class=\"t\">");
        if (i < c->n_elections) rb_esc(r, c->elections[i].title);
        else rb_puts(r, "Descripci\xC3\xB3n de los archivos");
        rb_puts(r, "</td><td>");
        rb_int(r, (int64_t)files[i].len);
        rb_printf(r, "</td><td class=\"t\"><code>%s</code></td></tr>", files[i].sha);
    }
    rb_puts(r, "</tbody></table>");
}

void body_verify(rctx *x, rbuf *r, const char *seq, const char *iso)
{
    rpage p = {.kind = PG_VERIFY, .depth = 1, .dir = "verificar/", .title = "C\xC3\xB3mo verificar este corte"};
    breadcrumbs(x, &p, r);
    rb_printf(r, "<h1>C\xC3\xB3mo verificar este corte</h1><p>Esta publicaci\xC3\xB3n es el corte <b>%s</b>, "
                 "del instante <code>%s</code>. Cualquier persona puede comprobar que lo que ve es, byte por "
                 "byte, el corte que el instituto firm\xC3\xB3.</p>",
              seq, iso);
    if (x->cut && x->cut->override_reason) {
        rb_puts(r, "<section class=\"excepcion\"><h2>Excepci\xC3\xB3n autorizada en este corte</h2><p>El "
                   "instituto public\xC3\xB3 este corte aunque sus capturas no pasaron una comprobaci\xC3\xB3n "
                   "de integridad, con este motivo: <b>");
        rb_esc(r, x->cut->override_reason);
        rb_puts(r, "</b></p><p>Lo que la excepci\xC3\xB3n dej\xC3\xB3 pasar:</p><pre>");
        rb_esc(r, x->cut->overridden ? x->cut->overridden : "");
        rb_puts(r, "</pre><p>El motivo est\xC3\xA1 tambi\xC3\xA9n en <code>corte.json</code>, que la firma "
                   "del corte cubre.</p></section>");
    }
    if (!x->o->pubkey) {
        rb_puts(r, "<p>Los cortes de esta publicaci\xC3\xB3n a\xC3\xBAn no est\xC3\xA1n firmados. Cuando lo "
                   "est\xC3\xA9n, esta p\xC3\xA1gina mostrar\xC3\xA1 la llave p\xC3\xBA"
                   "blica del instituto y los pasos para comprobar la firma. Mientras tanto, la p\xC3\xA1gina "
                   "Base de datos da la suma SHA-256 de cada archivo de datos.</p>");
        return;
    }
    rb_printf(r,
              "<ol><li>Guarde la llave p\xC3\xBA"
              "blica del instituto (abajo) como <code>instituto.pub</code> y compruebe que es la misma que "
              "el instituto publica en su propio sitio.</li>"
              "<li>Descargue <code>SHA256SUMS</code> y <code>SHA256SUMS.sig</code> de la ra\xC3\xADz de esta "
              "publicaci\xC3\xB3n (junto a la p\xC3\xA1gina de inicio).</li>"
              "<li>Compruebe la firma con OpenBSD signify:<pre>signify -V -p instituto.pub -x SHA256SUMS.sig "
              "-m SHA256SUMS</pre>o con <code>prep verify</code>.</li>"
              "<li>Compruebe que el manifiesto es el de este corte: sus l\xC3\xADneas <code># sequence: %s</code> "
              "e <code># instant: %s</code>.</li>"
              "<li>Descargue la publicaci\xC3\xB3n completa y compruebe cada archivo:"
              "<pre>sha256sum -c --strict SHA256SUMS</pre></li></ol>"
              "<h2>Llave p\xC3\xBA"
              "blica del instituto</h2><pre>",
              seq, iso);
    rb_esc(r, x->o->pubkey);
    rb_puts(r, "</pre>");
}

void body_write(rctx *x, const rpage *p, int embedded, rbuf *r)
{
    (void)embedded;
    switch ((page_kind)p->kind) {
    case PG_HOME: body_home(x, r); break;
    case PG_ENTITY: body_entity(x, p, r); break;
    case PG_STATE: body_state(x, p, r); break;
    case PG_DISTRICT:
    case PG_MUNI: body_unit(x, p, r); break;
    case PG_SECTION: body_section(x, p, r); break;
    case PG_DIFUSORES:
        breadcrumbs(x, p, r);
        body_difusores(x, r);
        break;
    case PG_SECINDEX: body_secindex(x, p, r); break;
    case PG_SECMISS: body_secmiss(x, p, r); break;
    case PG_SECALL: body_secall(x, p, r); break;
    case PG_SECLIST: body_seclist(x, p, r); break;
    case PG_DB:
    case PG_VERIFY: break; /* per cut: body_db / body_verify */
    }
}

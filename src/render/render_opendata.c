/* render: open data per cut (issue 16 item 4) — beside every unit page (election, district,
 * municipality, section of an election, and seccion/NNNN/) a datos.json with the page's
 * figures and a datos.csv, plus the JSON Schema datos/esquema.json. docs/formats/open-data.md.
 *
 * Like a page, a datos.json is composed (prep_site_file.n_parts = 2): the body ('{', the
 * figures and a ',': cached with the page's body and rendered again only when the page's
 * is), then the per-cut head '"corte":{...}}' (the same bytes in every JSON file of a cut;
 * last, as a page's stamp, so that a cut hashes it from the state after the body). So a
 * cut that changes no figure of a unit changes only the shared head of its datos.json.
 * The CSV holds no per-cut text: it is the same bytes while the unit's figures are.
 *
 * Figures are the page's: integers as numbers, percentages as the strings the page shows
 * (truncated, catalogue decimals, no '%'). */
#include <stdio.h>
#include <string.h>

#include "render_internal.h"

void od_links(rbuf *r)
{
    rb_puts(r, "<p>Datos abiertos de esta p\xC3\xA1gina: <a href=\"datos.json\" type=\"application/json\">"
               "JSON</a> \xC2\xB7 <a href=\"datos.csv\" type=\"text/csv\">CSV</a></p>");
}

int od_has_data(const rpage *p)
{
    return (p->kind >= PG_ENTITY && p->kind <= PG_SECTION) || p->kind == PG_SECALL;
}

int od_has_csv(const prep_catalog *c, const rpage *p)
{
    return od_has_data(p) && !(c->national && p->kind == PG_SECALL);
}

/* The footer's links to the page's data files. */
void od_links_page(const prep_catalog *c, const rpage *p, rbuf *r)
{
    if (od_has_csv(c, p)) od_links(r);
    else
        rb_puts(r, "<p>Datos abiertos de esta p\xC3\xA1gina: <a href=\"datos.json\" type=\"application/json\">JSON</a></p>");
}

/* A plain decimal integer (no separators): a number in JSON and CSV. */
static void num(rbuf *r, int64_t v)
{
    char b[24], *o = b;
    if (v < 0) *o++ = '-';
    o = prep_put_dec(o, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 0);
    rb_put(r, b, (size_t)(o - b));
}

/* ,"key":v  (key with its quotes and colon, e.g. ",\"votos\":") */
static void kv(rbuf *r, const char *key, int64_t v)
{
    rb_puts(r, key);
    num(r, v);
}

static void pct_str(rbuf *r, int64_t num, int64_t den, int dec)
{
    char s[64];
    prep_pct_trunc(num, den, dec, s, sizeof s);
    rb_puts(r, "\"");
    rb_puts(r, s);
    rb_puts(r, "\"");
}

static const char *level_name(const prep_catalog *c, uint8_t kind)
{
    switch (kind) {
    case PG_ENTITY: return c->national ? "nacional" : "entidad";
    case PG_STATE: return "entidad";
    case PG_DISTRICT: return "distrito";
    case PG_MUNI: return "municipio";
    case PG_SECTION: return "seccion";
    default: return "seccion_todas";
    }
}

void od_json_head(rctx *x, const char *seq, const char *iso, rbuf *r)
{
    rb_printf(r, "\"corte\":{\"secuencia\":%s,\"instante\":\"%s\",\"proceso\":", seq, iso);
    rb_json_str(r, x->c->process_id);
    rb_printf(r, ",\"simulacro\":%s}}\n", x->cut->drill ? "true" : "false");
}

/* "resumen": the summary and actas blocks of the page. */
static void j_summary(rctx *x, rbuf *r, uint32_t e, const prep_tally_agg *a, int entity)
{
    kv(r, "\"resumen\":{\"actas_esperadas\":", a->esperadas);
    kv(r, ",\"actas_capturadas\":", a->capturadas);
    kv(r, ",\"actas_contabilizadas\":", a->contabilizadas);
    kv(r, ",\"actas_no_contabilizadas\":", a->no_contabilizadas);
    kv(r, ",\"exceden_lista_nominal\":", a->by_status[PREP_ACTA_NC_EXCEEDS_LN]);
    kv(r, ",\"ilegibles_o_sin_dato\":", a->by_status[PREP_ACTA_NC_ALL_ILLEGIBLE]);
    kv(r, ",\"sin_acta\":", a->by_status[PREP_ACTA_NC_NO_ACTA]);
    kv(r, ",\"con_inconsistencias\":", a->inconsistentes);
    if (entity) kv(r, ",\"fuera_de_catalogo\":", (int64_t)prep_tally_n_out_of_catalog(x->t, e));
    rb_puts(r, ",\"porcentaje_contabilizadas\":");
    pct_str(r, a->contabilizadas, a->esperadas, x->dec);
    rb_puts(r, ",\"porcentaje_capturadas\":");
    pct_str(r, a->capturadas, a->esperadas, x->dec);
    kv(r, ",\"lista_nominal\":", a->lista_nominal);
    kv(r, ",\"votos_participacion\":", part_num(x, a));
    rb_puts(r, ",\"participacion\":");
    pct_str(r, part_num(x, a), a->lista_nominal, x->dec);
    kv(r, ",\"total_votos\":", total_votes(x, e, a));
    rb_puts(r, "}");
}

static void j_vote(rctx *x, rbuf *r, int64_t v, int64_t total)
{
    kv(r, "\"votos\":", v);
    rb_puts(r, ",\"porcentaje\":");
    pct_str(r, v, total, x->dec);
    rb_puts(r, "}");
}

/* Candidacies (when the page shows them), parties, independents, no registrados, nulos,
 * combinations: the page's vote tables. */
static void j_votes(rctx *x, rbuf *r, uint32_t e, uint32_t u, const prep_tally_agg *a, int with_cands)
{
    const prep_catalog *c = x->c;
    const prep_cat_election *el = &c->elections[e];
    int64_t total = total_votes(x, e, a);
    if (with_cands) {
        rb_puts(r, ",\"candidaturas\":[");
        uint32_t n = prep_tally_candidacy_votes(x->t, e, u, a, x->cv, (uint32_t)x->n_scratch);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = el->cand_index[el->cand_first[u] + i];
            rb_puts(r, i ? ",{\"etiqueta\":" : "{\"etiqueta\":");
            rb_json_str(r, x->s->cand[k].label);
            rb_puts(r, ",\"nombre\":");
            rb_json_str(r, c->candidacies[k].name);
            rb_puts(r, ",");
            j_vote(x, r, x->cv[i], total);
        }
        rb_puts(r, "]");
    }
    rb_puts(r, ",\"partidos\":[");
    int first = 1;
    for (uint32_t j = 0; j < el->n_cols; j++) {
        if (el->cols[j].kind != PREP_CAT_COL_PARTY || !col_shown(x, e, u, j)) continue;
        uint32_t p = el->cols[j].parties[0];
        rb_puts(r, first ? "{\"id\":" : ",{\"id\":");
        first = 0;
        rb_json_str(r, c->parties[p].id);
        rb_puts(r, ",\"nombre\":");
        rb_json_str(r, c->parties[p].name);
        rb_puts(r, ",");
        j_vote(x, r, a->party_votes[p], total);
    }
    rb_puts(r, "]");
    int any;
    int64_t v = kind_sum(x, e, u, a, PREP_CAT_COL_INDEP, &any);
    if (any) {
        rb_puts(r, ",\"independientes\":{");
        j_vote(x, r, v, total);
    }
    rb_puts(r, ",\"no_registradas\":{");
    j_vote(x, r, kind_sum(x, e, u, a, PREP_CAT_COL_NOREG, &any), total);
    rb_puts(r, ",\"nulos\":{");
    j_vote(x, r, kind_sum(x, e, u, a, PREP_CAT_COL_NULOS, &any), total);
    rb_puts(r, ",\"combinaciones\":[");
    first = 1;
    for (uint32_t j = 0; j < el->n_cols; j++) {
        const prep_cat_column *col = &el->cols[j];
        if (col->kind != PREP_CAT_COL_COMBO || !col_shown(x, e, u, j)) continue;
        rb_puts(r, first ? "{\"columna\":" : ",{\"columna\":");
        first = 0;
        rb_json_str(r, col->name);
        rb_puts(r, ",\"partidos\":[");
        for (uint32_t i = 0; i < col->n_parties; i++) {
            if (i) rb_puts(r, ",");
            rb_json_str(r, c->parties[col->parties[i]].id);
        }
        rb_puts(r, "],");
        j_vote(x, r, a->votes[j], total);
    }
    rb_puts(r, "]");
}

/* One sub-unit row (the page's districts / municipalities / sections table). */
static void j_subunit(rctx *x, rbuf *r, uint32_t e, prep_tally_level lvl, uint32_t i, const char *page)
{
    const prep_catalog *c = x->c;
    const prep_tally_agg *a = prep_tally_get(x->t, e, lvl, i);
    uint32_t id = lvl == PREP_TALLY_ENTITY         ? c->entities[i].id
                  : lvl == PREP_TALLY_DISTRICT     ? c->districts[i].id
                  : lvl == PREP_TALLY_MUNICIPALITY ? c->municipalities[i].id
                                                   : c->sections[i].id;
    kv(r, "{\"id\":", id);
    rb_puts(r, ",\"nombre\":");
    if (lvl == PREP_TALLY_SECTION) {
        char nm[16];
        snprintf(nm, sizeof nm, "\"%04u\"", id);
        rb_puts(r, nm);
    } else rb_json_str(r, lvl == PREP_TALLY_ENTITY     ? c->entities[i].name
                          : lvl == PREP_TALLY_DISTRICT ? c->districts[i].name
                                                       : c->municipalities[i].name);
    rb_puts(r, ",\"pagina\":");
    rb_json_str(r, page);
    kv(r, ",\"actas_contabilizadas\":", a->contabilizadas);
    kv(r, ",\"actas_esperadas\":", a->esperadas);
    rb_puts(r, ",\"participacion\":");
    pct_str(r, part_num(x, a), a->lista_nominal, x->dec);
    int tie;
    uint32_t k = lead_of(x, e, cand_unit(x, e, lvl, i), a, &tie);
    rb_puts(r, ",\"encabeza\":");
    if (k == PREP_CAT_NONE) rb_puts(r, "null");
    else if (tie) rb_puts(r, "\"Empate\"");
    else rb_json_str(r, x->s->cand[k].label);
    rb_puts(r, "}");
}

static void j_subunits(rctx *x, rbuf *r, uint32_t e, prep_tally_level lvl, const rpage *p)
{
    const prep_catalog *c = x->c;
    const rsite *s = x->s;
    const relection *re = &s->el[e];
    rb_printf(r, ",\"%s\":[", lvl == PREP_TALLY_ENTITY     ? "entidades"
                               : lvl == PREP_TALLY_DISTRICT     ? "distritos"
                               : lvl == PREP_TALLY_MUNICIPALITY ? "municipios"
                                                                : "secciones");
    int first = 1;
    if (lvl != PREP_TALLY_SECTION) {
        uint32_t base = lvl == PREP_TALLY_ENTITY ? re->state_base : lvl == PREP_TALLY_DISTRICT ? re->dist_base : re->muni_base;
        uint32_t n = lvl == PREP_TALLY_ENTITY ? c->n_entities : lvl == PREP_TALLY_DISTRICT ? c->n_districts : c->n_municipalities;
        /* on an entity's page, the units of that entity */
        uint32_t within = p->kind == PG_STATE ? p->idx : PREP_CAT_NONE;
        for (uint32_t i = 0; i < n; i++) {
            if (within != PREP_CAT_NONE && unit_entity(c, lvl, i) != within) continue;
            if (!first) rb_puts(r, ",");
            first = 0;
            j_subunit(x, r, e, lvl, i, s->pages[base + i].dir);
        }
    } else {
        int dist = p->kind == PG_DISTRICT;
        for (uint32_t si = 0; si < c->n_sections; si++) {
            const prep_cat_section *sec = &c->sections[si];
            if ((dist ? sec->district : sec->municipality) != p->idx) continue;
            if (!first) rb_puts(r, ",");
            first = 0;
            /* national profile: the section's one page in the section tree */
            j_subunit(x, r, e, PREP_TALLY_SECTION, si,
                      s->pages[re->sec_base != PREP_CAT_NONE ? re->sec_base + si : s->secall_base + si].dir);
        }
    }
    rb_puts(r, "]");
}

/* "casillas": each casilla of section si in election e, its acta's status and image hash. */
static void j_casillas(rctx *x, rbuf *r, uint32_t e, const prep_cat_section *s)
{
    const prep_catalog *c = x->c;
    rb_puts(r, ",\"casillas\":[");
    for (uint32_t i = 0; i < s->n_casillas; i++) {
        uint32_t ci = s->first_casilla + i;
        const prep_cat_casilla *k = &c->casillas[ci];
        const int32_t *v;
        const prep_acta *a = prep_tally_acta(x->t, e, ci, &v);
        char ty[2] = {k->type, 0};
        rb_puts(r, i ? ",{\"clave\":\"" : "{\"clave\":\"");
        rb_puts(r, k->key);
        rb_puts(r, "\",\"tipo\":\"");
        rb_puts(r, ty);
        kv(r, "\",\"lista_nominal\":", k->lista_nominal);
        rb_puts(r, a ? ",\"capturada\":true" : ",\"capturada\":false");
        if (a) {
            char ka[28];
            prep_catalog_acta_key(k->key, c->elections[e].acta_type, ka);
            rb_puts(r, ",\"clave_acta\":\"");
            rb_puts(r, ka);
            rb_puts(r, "\",\"estado\":\"");
            rb_puts(r, acta_status_text(a));
            rb_puts(r, prep_acta_status_counted((prep_acta_status)a->status) ? "\",\"contabilizada\":true,\"sha256\":"
                                                                             : "\",\"contabilizada\":false,\"sha256\":");
            if (a->sha[0]) rb_json_str(r, a->sha);
            else rb_puts(r, "null");
            kv(r, ",\"total_votos_calculado\":", a->total_calculado);
        }
        rb_puts(r, "}");
    }
    rb_puts(r, "]");
}

static void j_unit(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    uint32_t e = p->e;
    const prep_cat_election *el = &c->elections[e];
    const relection *re = &x->s->el[e];
    rb_printf(r, "\"formato\":1,\"unidad\":{\"nivel\":\"%s\",\"eleccion\":", level_name(c, p->kind));
    rb_json_str(r, el->id);
    rb_puts(r, ",\"eleccion_nombre\":");
    rb_json_str(r, el->title);
    prep_tally_level lvl = page_level(p);
    uint32_t ent = unit_entity(c, lvl, p->idx);
    /* the entity's INEGI number; a national process's top page, 0 */
    rb_printf(r, ",\"entidad\":%u", ent != PREP_CAT_NONE ? c->entities[ent].id : c->entity_id);
    if (p->kind == PG_DISTRICT) {
        rb_printf(r, ",\"distrito\":%u", c->districts[p->idx].id);
    } else if (p->kind == PG_MUNI) {
        rb_printf(r, ",\"municipio\":%u", c->municipalities[p->idx].id);
    } else if (p->kind == PG_SECTION) {
        const prep_cat_section *s = &c->sections[p->idx];
        rb_printf(r, ",\"distrito\":%u,\"municipio\":%u,\"seccion\":%u", c->districts[s->district].id,
                  c->municipalities[s->municipality].id, s->id);
    }
    rb_puts(r, ",\"nombre\":");
    rb_json_str(r, p->title);
    rb_puts(r, ",\"pagina\":");
    rb_json_str(r, p->dir);
    rb_puts(r, "},");
    uint32_t idx = lvl == PREP_TALLY_NATION ? 0 : p->idx;
    const prep_tally_agg *a = prep_tally_get(x->t, e, lvl, idx);
    j_summary(x, r, e, a, lvl == PREP_TALLY_NATION);
    uint32_t u = lvl == PREP_TALLY_NATION ? (prep_catalog_one_unit(x->c, e) ? 0 : PREP_CAT_NONE)
                                          : cand_unit(x, e, lvl, idx);
    j_votes(x, r, e, u, a, u != PREP_CAT_NONE);
    if (lvl == PREP_TALLY_NATION && c->national) {
        j_subunits(x, r, e, PREP_TALLY_ENTITY, p);
    } else if (lvl == PREP_TALLY_ENTITY) {
        if (re->view_dist) j_subunits(x, r, e, PREP_TALLY_DISTRICT, p);
        if (re->view_muni) j_subunits(x, r, e, PREP_TALLY_MUNICIPALITY, p);
    } else if (lvl == PREP_TALLY_NATION) {
        if (re->view_dist) j_subunits(x, r, e, PREP_TALLY_DISTRICT, p);
        if (re->view_muni) j_subunits(x, r, e, PREP_TALLY_MUNICIPALITY, p);
    } else if (lvl != PREP_TALLY_SECTION) {
        /* national profile: no section rows (they change every cut; each section has its
         * own seccion/EE/NNNN/datos.json, and the database every acta) */
        if (!c->national) j_subunits(x, r, e, PREP_TALLY_SECTION, p);
    } else {
        j_casillas(x, r, e, &c->sections[p->idx]);
    }
}

/* seccion/NNNN/datos.json: the section in every election (od_secall_unit, then each
 * election's object, then the list's end). */
void od_secall_unit(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    const prep_cat_section *s = &c->sections[p->idx];
    rb_printf(r,
              "{\"formato\":1,\"unidad\":{\"nivel\":\"seccion_todas\",\"entidad\":%u,\"distrito\":%u,\"municipio\":%u,"
              "\"seccion\":%u,\"nombre\":",
              c->entities[s->entity].id, c->districts[s->district].id, c->municipalities[s->municipality].id, s->id);
    rb_json_str(r, p->title);
    rb_puts(r, ",\"pagina\":");
    rb_json_str(r, p->dir);
    rb_puts(r, "},\"elecciones\":[");
}

/* Election e's object of the list, with its comma; only od_secall_election adds the end. */
static void j_secall_election(rctx *x, const rpage *p, uint32_t e, rbuf *r)
{
    const prep_catalog *c = x->c;
    const prep_cat_section *s = &c->sections[p->idx];
    /* national profile: this page holds every election's results and actas */
    uint32_t sb = x->s->el[e].sec_base;
    const rpage *sp = sb != PREP_CAT_NONE ? &x->s->pages[sb + p->idx] : p;
    rb_puts(r, e ? ",{\"eleccion\":" : "{\"eleccion\":");
    rb_json_str(r, c->elections[e].id);
    rb_puts(r, ",\"eleccion_nombre\":");
    rb_json_str(r, c->elections[e].title);
    rb_puts(r, ",\"pagina\":");
    rb_json_str(r, sp->dir);
    rb_puts(r, ",");
    const prep_tally_agg *a = prep_tally_get(x->t, e, PREP_TALLY_SECTION, p->idx);
    j_summary(x, r, e, a, 0);
    if (sb == PREP_CAT_NONE) { /* no per-election section file: its votes are here */
        uint32_t u = cand_unit(x, e, PREP_TALLY_SECTION, p->idx);
        j_votes(x, r, e, u, a, u != PREP_CAT_NONE);
    }
    j_casillas(x, r, e, s);
    rb_puts(r, "}");
}

void od_secall_election(rctx *x, const rpage *p, uint32_t e, rbuf *r)
{
    j_secall_election(x, p, e, r);
    if (e + 1 == x->c->n_elections) rb_puts(r, "],"); /* the head follows */
}

void od_json_body(rctx *x, const rpage *p, rbuf *r)
{
    if (p->kind == PG_SECALL) {
        od_secall_unit(x, p, r);
        for (uint32_t e = 0; e < x->c->n_elections; e++) j_secall_election(x, p, e, r);
        rb_puts(r, "],");
        return;
    }
    rb_puts(r, "{");
    j_unit(x, p, r);
    rb_puts(r, ","); /* the head follows */
}

/* ---------------------------------------------------------------- CSV */
static void csv_str(rbuf *r, const char *s)
{
    s = s ? s : "";
    if (!strpbrk(s, ",\"\r\n")) { /* RFC 4180: quoted only when it must be */
        rb_puts(r, s);
        return;
    }
    rb_puts(r, "\"");
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        rb_put(r, s, (size_t)(q - s));
        rb_puts(r, "\"\"");
    }
    rb_puts(r, s);
    rb_puts(r, "\"");
}

static void csv_row(rctx *x, rbuf *r, const char *eid, const char *block, const char *key, const char *name,
                    int64_t v, int64_t den, const char *sha)
{
    csv_str(r, eid);
    rb_puts(r, ",");
    rb_puts(r, block);
    rb_puts(r, ",");
    csv_str(r, key);
    rb_puts(r, ",");
    csv_str(r, name);
    rb_puts(r, ",");
    num(r, v);
    rb_puts(r, ",");
    if (den >= 0) {
        char s[64];
        prep_pct_trunc(v, den, x->dec, s, sizeof s);
        rb_puts(r, s);
    }
    rb_puts(r, ",");
    if (sha) rb_puts(r, sha);
    rb_puts(r, "\r\n");
}

static void csv_summary(rctx *x, rbuf *r, uint32_t e, const prep_tally_agg *a)
{
    const char *id = x->c->elections[e].id;
    csv_row(x, r, id, "resumen", "actas_esperadas", "Actas esperadas", a->esperadas, -1, NULL);
    csv_row(x, r, id, "resumen", "actas_capturadas", "Actas capturadas", a->capturadas, a->esperadas, NULL);
    csv_row(x, r, id, "resumen", "actas_contabilizadas", "Actas contabilizadas", a->contabilizadas, a->esperadas, NULL);
    csv_row(x, r, id, "resumen", "lista_nominal", "Lista nominal de actas contabilizadas", a->lista_nominal, -1, NULL);
    csv_row(x, r, id, "resumen", "votos_participacion", "Participaci\xC3\xB3n ciudadana", part_num(x, a),
            a->lista_nominal, NULL);
    csv_row(x, r, id, "resumen", "total_votos", "Total de votos", total_votes(x, e, a), -1, NULL);
}

static void csv_votes(rctx *x, rbuf *r, uint32_t e, uint32_t u, const prep_tally_agg *a)
{
    const prep_catalog *c = x->c;
    const prep_cat_election *el = &c->elections[e];
    int64_t total = total_votes(x, e, a);
    if (u != PREP_CAT_NONE) {
        uint32_t n = prep_tally_candidacy_votes(x->t, e, u, a, x->cv, (uint32_t)x->n_scratch);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = el->cand_index[el->cand_first[u] + i];
            csv_row(x, r, el->id, "candidatura", x->s->cand[k].label, c->candidacies[k].name, x->cv[i], total, NULL);
        }
    }
    for (uint32_t j = 0; j < el->n_cols; j++) {
        if (el->cols[j].kind != PREP_CAT_COL_PARTY || !col_shown(x, e, u, j)) continue;
        uint32_t p = el->cols[j].parties[0];
        csv_row(x, r, el->id, "partido", c->parties[p].id, c->parties[p].name, a->party_votes[p], total, NULL);
    }
    int any;
    int64_t v = kind_sum(x, e, u, a, PREP_CAT_COL_INDEP, &any);
    if (any) csv_row(x, r, el->id, "independientes", "CAND_IND", "Candidaturas independientes", v, total, NULL);
    csv_row(x, r, el->id, "no_registradas", "NO_REGISTRADAS", "Candidaturas no registradas",
            kind_sum(x, e, u, a, PREP_CAT_COL_NOREG, &any), total, NULL);
    csv_row(x, r, el->id, "nulos", "NULOS", "Votos nulos", kind_sum(x, e, u, a, PREP_CAT_COL_NULOS, &any), total, NULL);
    for (uint32_t j = 0; j < el->n_cols; j++)
        if (el->cols[j].kind == PREP_CAT_COL_COMBO && col_shown(x, e, u, j))
            csv_row(x, r, el->id, "combinacion", el->cols[j].name, el->cols[j].name, a->votes[j], total, NULL);
}

static void csv_casillas(rctx *x, rbuf *r, uint32_t e, const prep_cat_section *s)
{
    for (uint32_t i = 0; i < s->n_casillas; i++) {
        uint32_t ci = s->first_casilla + i;
        const int32_t *v;
        const prep_acta *a = prep_tally_acta(x->t, e, ci, &v);
        csv_row(x, r, x->c->elections[e].id, "casilla", x->c->casillas[ci].key, a ? acta_status_text(a) : "No capturada",
                a ? a->total_calculado : 0, -1, a && a->sha[0] ? a->sha : NULL);
    }
}

void od_csv(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    rb_puts(r, "eleccion,bloque,clave,nombre,valor,porcentaje,sha256\r\n");
    if (p->kind == PG_SECALL) {
        for (uint32_t e = 0; e < c->n_elections; e++) {
            csv_summary(x, r, e, prep_tally_get(x->t, e, PREP_TALLY_SECTION, p->idx));
            csv_casillas(x, r, e, &c->sections[p->idx]);
        }
        return;
    }
    uint32_t e = p->e;
    prep_tally_level lvl = page_level(p); /* a unit page: od_has_data */
    uint32_t idx = lvl == PREP_TALLY_NATION ? 0 : p->idx;
    const prep_tally_agg *a = prep_tally_get(x->t, e, lvl, idx);
    csv_summary(x, r, e, a);
    uint32_t u = lvl == PREP_TALLY_NATION ? (prep_catalog_one_unit(c, e) ? 0 : PREP_CAT_NONE)
                                          : cand_unit(x, e, lvl, idx);
    csv_votes(x, r, e, u, a);
    if (lvl == PREP_TALLY_SECTION) csv_casillas(x, r, e, &c->sections[p->idx]);
}

/* render: the maps — the municipality map of a local election's page and the entity map of
 * a national election's page — drawn by one function, map_draw, from the catalogue's
 * outlines (docs/formats/catalog.md "Map"; drawn as they are: the path grammar lets no
 * quote, '<' or '&' in). Each unit is filled with the colour of the first party of the
 * candidacy that leads there (a coalition with stripes of its parties' colours, a tie
 * grey, no counted actas light grey) and links to its page; a text legend says the same,
 * and the units table of the page gives every figure. The svg is a role="group" (not
 * "img") so that its links stay reachable (docs/formats/site.md "Charts and the map"). */
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

#define MAP_NONE_FILL "#E6E9EE" /* no counted actas */
#define MAP_TIE_FILL "#9AA0A8"

static const char *unit_name(const prep_catalog *c, prep_tally_level lvl, uint32_t u)
{
    return lvl == PREP_TALLY_ENTITY ? c->entities[u].name : c->municipalities[u].name;
}

/* <defs> with a striped <pattern id="<pat>N"> per coalition among the legend groups: a
 * coalition fills with stripes of its parties' colours, so that it does not look like its
 * first party alone. */
static void map_patterns(rctx *x, rbuf *r, const rmap *m, const uint32_t *gk, size_t ng)
{
    const prep_catalog *c = x->c;
    int defs = 0;
    for (size_t g = 0; g < ng; g++) {
        const prep_cat_candidacy *cd = &c->candidacies[gk[g]];
        if (cd->kind != PREP_CAT_CAND_COALITION) continue;
        const prep_cat_coalition *co = &c->coalitions[cd->ref];
        if (!defs++) rb_puts(r, "<defs>");
        rb_printf(r, "<pattern id=\"%s%zu\" width=\"%u\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
                     "patternTransform=\"rotate(45)\">", m->pat, g, 5 * co->n_parties);
        for (uint32_t i = 0; i < co->n_parties; i++)
            rb_printf(r, "<rect x=\"%u\" width=\"5\" height=\"8\" fill=\"%s\"/>", 5 * i, c->parties[co->parties[i]].color);
        rb_puts(r, "</pattern>");
    }
    if (defs) rb_puts(r, "</defs>");
}

/* One unit: <a href aria-label><path d fill/></a>. k is its leader, PREP_CAT_NONE or tie. */
static void map_unit(rctx *x, rbuf *r, const rmap *m, uint32_t u, uint32_t k, uint32_t tie, const uint32_t *gk,
                     size_t ng)
{
    const prep_catalog *c = x->c;
    if (m->href && m->href[u]) {
        rb_puts(r, "<a href=\"");
        rb_esc(r, m->href[u]);
        rb_puts(r, m->href_suffix ? m->href_suffix : "");
        rb_puts(r, "\" aria-label=\"");
    } else {
        rb_puts(r, "<g role=\"img\" aria-label=\""); /* no page to link to: still named */
    }
    rb_esc(r, unit_name(c, m->lvl, u));
    if (k == PREP_CAT_NONE) rb_puts(r, ": sin actas contabilizadas");
    else if (k == tie) rb_puts(r, ": empate");
    else {
        rb_puts(r, ": encabeza ");
        rb_esc(r, x->s->cand[k].label);
    }
    rb_puts(r, "\"><path d=\"");
    rb_esc(r, m->shape[u]);
    rb_puts(r, "\" fill=\"");
    if (k == PREP_CAT_NONE) rb_puts(r, MAP_NONE_FILL);
    else if (k == tie) rb_puts(r, MAP_TIE_FILL);
    else {
        size_t g = 0;
        while (g < ng && strcmp(x->s->cand[gk[g]].group, x->s->cand[k].group)) g++;
        if (g < ng && c->candidacies[gk[g]].kind == PREP_CAT_CAND_COALITION) rb_printf(r, "url(#%s%zu)", m->pat, g);
        else rb_puts(r, party_color(x, x->s->cand[k].party));
    }
    rb_puts(r, m->href && m->href[u] ? "\" stroke=\"#333\" fill-rule=\"evenodd\"/></a>"
                                     : "\" stroke=\"#333\" fill-rule=\"evenodd\"/></g>");
}

void map_draw(rctx *x, rbuf *r, uint32_t e, const rmap *m)
{
    const prep_catalog *c = x->c;
    const uint32_t *vb = c->map_viewbox;
    uint32_t *gk = x->order; /* a candidacy per legend group */
    int64_t *gc = x->tmp;    /* units it leads */
    uint32_t *lead = malloc((m->n ? m->n : 1) * sizeof *lead);
    if (!lead) {
        r->err = PREP_ERR_NOMEM;
        return;
    }
    uint32_t ties = 0, none = 0;
    const uint32_t TIE = PREP_CAT_NONE - 1;
    size_t ng = lead_groups(x, e, m->lvl, m->n, gk, gc, &ties, &none, lead, TIE);
    rb_printf(r, "<h2>%s</h2><figure>", m->heading);
    rb_printf(r, "<svg viewBox=\"%ld %ld %lu %lu\" width=\"%u\" height=\"%u\" role=\"group\" "
                 "aria-labelledby=\"%s\"><title id=\"%s\">%s</title>",
              (long)vb[0] - 1, (long)vb[1] - 1, (unsigned long)vb[2] + 2, (unsigned long)vb[3] + 2, vb[2], vb[3],
              m->title_id, m->title_id, m->title);
    map_patterns(x, r, m, gk, ng);
    for (uint32_t u = 0; u < m->n; u++)
        if (m->shape[u]) map_unit(x, r, m, u, lead[u], TIE, gk, ng);
    free(lead);
    rb_puts(r, "</svg><figcaption><ul class=\"leyenda\">");
    for (size_t i = 0; i < ng; i++) {
        rb_puts(r, "<li>");
        swatch_cand(x, r, gk[i]);
        rb_esc(r, x->s->cand[gk[i]].group);
        rb_puts(r, ": ");
        rb_int(r, gc[i]);
        rb_printf(r, " %s</li>", gc[i] == 1 ? m->one : m->many);
    }
    if (ties) rb_printf(r, "<li><i class=\"sw ce\"></i>Empate: %u</li>", ties);
    if (none) rb_printf(r, "<li><i class=\"sw cn\"></i>Sin actas contabilizadas: %u</li>", none);
    rb_puts(r, "</ul></figcaption></figure>");
}

int entity_map_available(const prep_catalog *c)
{
    if (!c->has_map || !c->entity_shape) return 0;
    for (uint32_t i = 0; i < c->n_entities; i++)
        if (c->entity_shape[i]) return 1;
    return 0;
}

void block_entity_map(rctx *x, rbuf *r, uint32_t e, const char *const *href)
{
    const prep_catalog *c = x->c;
    if (!entity_map_available(c) || e >= c->n_elections) return;
    /* who leads an entity is defined where its candidacies are the entity's or the
     * nation's (presidencia, senadurías), not for district or municipality elections */
    if (c->n_entities && cand_unit(x, e, PREP_TALLY_ENTITY, 0) == PREP_CAT_NONE) return;
    rmap m = {
        .lvl = PREP_TALLY_ENTITY,
        .n = c->n_entities,
        .shape = c->entity_shape,
        .href = href,
        .href_suffix = NULL,
        .pat = "mep",
        .title_id = "mapa-e-t",
        .heading = "Mapa por entidad",
        .title = "Entidades seg\xC3\xBAn la candidatura que encabeza",
        .one = "entidad",
        .many = "entidades",
    };
    map_draw(x, r, e, &m);
}

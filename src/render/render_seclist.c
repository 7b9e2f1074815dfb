/* render: the section lists of a national catalogue (issue 15, lean aggregate pages).
 *
 * A district page used to carry the table of its ~214 sections with their figures (~50 KB
 * of a ~64 KB body), so any section's change made the whole district page, its embebido/
 * twin (whose section links leave the tree) and its datos.json new objects of the cut:
 * ~130 MB of a busy national cut. Now the district page carries its own figures and one
 * link to seccion/EE/<district>/, a page that lists the district's sections as links
 * without figures: it never changes with the numbers, so it costs a cut nothing after the
 * first, and the district page's body is the same bytes in both trees again (one object).
 * A municipality page of a national catalogue (an election held by municipality) does
 * the same with seccion/EE/municipio-<slug>/ (docs/formats/site.md, the national profile).
 *
 * The list is shared by every election (a section's district is the same in all of them);
 * its links lead to the section's one page seccion/EE/NNNN/, which the embebido/ tree does
 * not hold: its embebido/ twin links out to the main tree (emb_body), like the lookup. */
#include <stdio.h>
#include <string.h>

#include "render_internal.h"

/* The unit of a list page: a district, or (idx >= n_districts) a municipality. */
static int list_unit(const prep_catalog *c, const rpage *p, uint32_t *unit)
{
    int muni = p->idx >= c->n_districts;
    *unit = muni ? p->idx - c->n_districts : p->idx;
    return muni;
}

static uint32_t list_entity(const prep_catalog *c, int muni, uint32_t unit)
{
    return muni ? c->municipalities[unit].entity : c->districts[unit].entity;
}

/* From a page `depth` directories deep, the list of district (muni 0) or municipality
 * `unit`: seccion/EE/<district slug>/ or seccion/EE/municipio-<slug>/. */
static void list_href(const prep_catalog *c, rbuf *r, unsigned depth, int muni, uint32_t unit)
{
    rb_up(r, depth);
    rb_printf(r, "seccion/%02u/", c->entities[list_entity(c, muni, unit)].id);
    if (muni) rb_puts(r, "municipio-");
    rb_puts(r, muni ? c->municipalities[unit].slug : c->districts[unit].slug);
    rb_puts(r, "/");
}

void block_seclist_link(rctx *x, rbuf *r, const rpage *p)
{
    const prep_catalog *c = x->c;
    int muni = p->kind == PG_MUNI;
    uint32_t n = muni ? x->s->n_sec_muni[p->idx] : x->s->n_sec_dist[p->idx];
    rb_printf(r, "<h2>Secciones</h2><p>Este %s tiene %u %s. Cada una tiene su p\xC3\xA1gina con sus resultados y "
                 "las actas de sus casillas en todas las elecciones: <a href=\"",
              muni ? "municipio" : "distrito", n, n == 1 ? "secci\xC3\xB3n" : "secciones");
    list_href(c, r, p->depth, muni, p->idx);
    rb_puts(r, "\">lista de las secciones de ");
    rb_esc(r, muni ? c->municipalities[p->idx].name : c->districts[p->idx].name);
    rb_puts(r, "</a>.</p>");
}

void body_seclist(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    const rsite *st = x->s;
    uint32_t unit;
    int muni = list_unit(c, p, &unit);
    uint32_t ent = list_entity(c, muni, unit);
    const char *name = muni ? c->municipalities[unit].name : c->districts[unit].name;
    /* Inicio > Buscar sección > entity > this list */
    rb_puts(r, "<nav class=\"ruta\" aria-label=\"Ruta\"><ol>");
    crumb(r, p->depth, "Inicio");
    crumb(r, p->depth - 1u, "Buscar secci\xC3\xB3n");
    crumb(r, 1, c->entities[ent].name);
    crumb(r, 0, name);
    rb_puts(r, "</ol></nav><h1>Secciones: ");
    rb_esc(r, name);
    rb_puts(r, "</h1><p class=\"nota\">");
    rb_esc(r, c->entities[ent].name);
    rb_puts(r, muni ? " \xC2\xB7 municipio</p>" : " \xC2\xB7 distrito</p>");
    /* the unit's own pages, in each election that has them (they are in both trees) */
    rb_puts(r, "<h2>Resultados</h2><ul class=\"ligas\">");
    for (uint32_t e = 0; e < c->n_elections; e++) {
        const relection *re = &st->el[e];
        uint32_t base = muni ? (re->view_muni ? re->muni_base : PREP_CAT_NONE)
                             : (re->view_dist ? re->dist_base : PREP_CAT_NONE);
        if (base == PREP_CAT_NONE) continue;
        rb_puts(r, "<li><a href=\"");
        rb_up(r, p->depth);
        rb_puts(r, st->pages[base + unit].dir);
        rb_puts(r, "\">");
        rb_esc(r, c->elections[e].title);
        rb_puts(r, "</a></li>");
    }
    rb_puts(r, "</ul><h2>Secciones</h2><p>Cada secci\xC3\xB3n, con sus resultados y las actas de sus casillas en "
               "todas las elecciones:</p><nav aria-label=\"Secciones\"><ul>");
    for (uint32_t si = 0; si < c->n_sections; si++) {
        const prep_cat_section *s = &c->sections[si];
        if ((muni ? s->municipality : s->district) != unit) continue;
        rb_puts(r, "<li><a href=\"");
        if (x->emb) { /* embebido/ holds no section page: to the main tree's */
            rb_up(r, p->depth + 1u);
            rb_puts(r, "seccion/");
            secall_dir(c, r, s);
        } else {
            char nm[48];
            sec_name(c, s, nm);
            rb_printf(r, "../%s/", nm);
        }
        rb_printf(r, "\">%04u</a></li>", s->id);
    }
    rb_puts(r, "</ul></nav>");
}

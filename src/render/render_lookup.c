/* render: the section tree — "my section" (issue 16 item 2).
 *
 *   seccion/                     the lookup: a plain GET form (input n) that works without
 *                                JavaScript; the server answers ?n=N with a redirect to N's
 *                                page (prep serve: src/serve/site_lookup.c; Apache: the
 *                                rules of `prep apache`)
 *   seccion/no-encontrada.html   what a wrong or unknown number gets, with status 404 (a page
 *                                of the cut: it carries the cut's stamp); it sits in seccion/
 *                                so that its relative links are right at seccion/?n=...
 *   seccion/NNNN/                one section in every election: its casillas, each acta's
 *                                status and image SHA-256, links to the election's
 *                                section, district and municipality pages
 *
 * NNNN is the section number in four digits, as in the per-election pages (seccion-NNNN);
 * the lookup accepts it with or without leading zeros. A national process (issue 15) keys
 * sections by (entity, section): seccion/ then lists the entities, and each has its own
 * lookup seccion/EE/ (two-digit entity, never a four-digit name), its 404 page
 * seccion/EE/no-encontrada.html and its sections seccion/EE/NNNN/ (docs/formats/site.md,
 * "My section"). */
#include <stdio.h>
#include <string.h>

#include "render_internal.h"

void secindex_form(rbuf *r, const char *action)
{
    rb_puts(r, "<form class=\"buscar\" action=\"");
    rb_puts(r, action);
    rb_puts(r, "\" method=\"get\"><label for=\"n\">N\xC3\xBAmero de secci\xC3\xB3n</label> "
               "<input id=\"n\" name=\"n\" type=\"text\" inputmode=\"numeric\" maxlength=\"4\" "
               "autocomplete=\"off\" required=\"\"/> <button type=\"submit\">Ver mi secci\xC3\xB3n</button></form>");
}

void secall_dir(const prep_catalog *c, rbuf *r, const prep_cat_section *s)
{
    char nm[48];
    sec_name(c, s, nm);
    if (c->national) rb_printf(r, "%02u/", c->entities[s->entity].id);
    rb_printf(r, "%s/", nm);
}

/* The lookup's form on page p: "./", or in a national embebido/ twin (rctx.emb) the main
 * tree's same lookup, where the section pages are. */
static void page_form(rctx *x, const rpage *p, rbuf *r)
{
    char action[96] = "./";
    if (x->emb) {
        size_t n = 0;
        for (unsigned d = 0; d <= p->depth && n + 3 < sizeof action; d++, n += 3) memcpy(action + n, "../", 3);
        snprintf(action + n, sizeof action - n, "%s", p->dir);
    }
    secindex_form(r, action);
}

void secall_link(const prep_catalog *c, rbuf *r, unsigned depth, const prep_cat_section *s)
{
    rb_puts(r, "<p><a href=\"");
    rb_up(r, depth);
    rb_puts(r, "seccion/");
    secall_dir(c, r, s);
    rb_printf(r, "\">La secci\xC3\xB3n %04u en todas las elecciones</a></p>", s->id);
}

/* Inicio > Buscar sección [> entity] [> here]: the lookup is at seccion/ (depth 1). */
static void crumbs(rbuf *r, unsigned depth, const char *entity, const char *here)
{
    rb_puts(r, "<nav class=\"ruta\" aria-label=\"Ruta\"><ol>");
    crumb(r, depth, "Inicio");
    crumb(r, depth - 1, "Buscar secci\xC3\xB3n");
    if (entity) crumb(r, here ? 1 : 0, entity);
    if (here) crumb(r, 0, here);
    rb_puts(r, "</ol></nav>");
}

/* The range of section numbers: of the catalogue, or of entity ent (PREP_CAT_NONE: all). */
static void section_range(rctx *x, rbuf *r, uint32_t ent)
{
    const prep_catalog *c = x->c;
    uint32_t lo = UINT32_MAX, hi = 0, n = 0;
    for (uint32_t i = 0; i < c->n_sections; i++) {
        uint32_t nth;
        prep_catalog_section_parts(c, i, NULL, &nth);
        if ((ent != PREP_CAT_NONE && c->sections[i].entity != ent) || nth) continue; /* a split one once */
        if (c->sections[i].id < lo) lo = c->sections[i].id;
        if (c->sections[i].id > hi) hi = c->sections[i].id;
        n++;
    }
    if (!n) return;
    rb_printf(r, "<p>%s tiene %u secciones, numeradas de la %04u a la %04u (no todos los "
                 "n\xC3\xBAmeros intermedios existen). El n\xC3\xBAmero de secci\xC3\xB3n est\xC3\xA1 en la "
                 "credencial para votar.</p>",
              ent == PREP_CAT_NONE ? "Esta publicaci\xC3\xB3n" : "Esta entidad", n, lo, hi);
}

/* A national lookup's first step: the entities, each a link to its own lookup. */
static void entity_list(rctx *x, rbuf *r)
{
    const prep_catalog *c = x->c;
    rb_puts(r, "<p>Elija la entidad de su credencial para votar; luego escriba el n\xC3\xBAmero de su "
               "secci\xC3\xB3n.</p><ul class=\"ligas\">");
    for (uint32_t i = 0; i < c->n_entities; i++) {
        rb_printf(r, "<li><a href=\"%02u/\">", c->entities[i].id);
        rb_esc(r, c->entities[i].name);
        rb_puts(r, "</a></li>");
    }
    rb_puts(r, "</ul>");
}

/* seccion/ (idx 0), or a national catalogue's seccion/EE/ (idx = entity index + 1). */
void body_secindex(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    uint32_t ent = p->idx ? p->idx - 1 : PREP_CAT_NONE;
    crumbs(r, p->depth, ent != PREP_CAT_NONE ? c->entities[ent].name : NULL, NULL);
    rb_puts(r, "<h1>Buscar mi secci\xC3\xB3n</h1><p class=\"nota\">");
    rb_esc(r, ent != PREP_CAT_NONE ? c->entities[ent].name : c->entity_name);
    rb_puts(r, "</p><p>Escriba el n\xC3\xBAmero de su secci\xC3\xB3n electoral para ver, en una sola p\xC3\xA1gina, "
               "sus resultados en cada elecci\xC3\xB3n, sus casillas y el estado de cada acta.</p>");
    if (c->national && ent == PREP_CAT_NONE) {
        entity_list(x, r);
        return;
    }
    page_form(x, p, r);
    section_range(x, r, ent);
}

void body_secmiss(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    uint32_t ent = p->idx ? p->idx - 1 : PREP_CAT_NONE;
    crumbs(r, p->depth, ent != PREP_CAT_NONE ? c->entities[ent].name : NULL, NULL);
    rb_puts(r, "<h1>Secci\xC3\xB3n no encontrada</h1><p>El n\xC3\xBAmero escrito no es el de una secci\xC3\xB3n de "
               "esta publicaci\xC3\xB3n. Escriba solo cifras, por ejemplo <b>412</b> o <b>0412</b>.</p>");
    section_range(x, r, ent);
    if (c->national && ent == PREP_CAT_NONE) entity_list(x, r);
    else page_form(x, p, r);
    rb_puts(r, "<ul><li><a href=\"./\">Buscar otra secci\xC3\xB3n</a></li><li><a href=\"");
    rb_up(r, p->depth);
    rb_puts(r, "\">Ir al inicio</a></li></ul>");
}

/* The casillas of section si in election e: status and image SHA-256 of each acta, and a
 * link to the acta's block on the election's section page (dir: that page, from here). */
static void casillas_table(rctx *x, rbuf *r, uint32_t e, const prep_cat_section *s, const char *dir, unsigned depth)
{
    const prep_catalog *c = x->c;
    rb_puts(r, "<table><caption>Casillas: ");
    rb_esc(r, c->elections[e].title);
    rb_puts(r, "</caption><thead><tr><th scope=\"col\">Casilla</th><th scope=\"col\">Acta</th>"
               "<th scope=\"col\">SHA-256 de la imagen del acta</th></tr></thead><tbody>");
    for (uint32_t i = 0; i < s->n_casillas; i++) {
        const prep_cat_casilla *k = &c->casillas[s->first_casilla + i];
        const int32_t *v;
        const prep_acta *a = prep_tally_acta(x->t, e, s->first_casilla + i, &v);
        rb_puts(r, "<tr><th scope=\"row\"><a href=\"");
        rb_up(r, depth);
        rb_printf(r, "%s#casilla-%s\">", dir, k->key);
        casillas_text(r, k);
        rb_printf(r, "</a> <span class=\"nota\">%s</span></th><td>", k->key);
        rb_puts(r, a ? acta_status_text(a) : "No capturada");
        rb_puts(r, "</td><td class=\"t\">");
        if (a) acta_sha(r, a);
        else rb_puts(r, "\xE2\x80\x94");
        rb_puts(r, "</td></tr>");
    }
    rb_puts(r, "</tbody></table>");
}

void secall_head(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    const prep_cat_section *s = &c->sections[p->idx];
    char here[32];
    snprintf(here, sizeof here, "Secci\xC3\xB3n %04u", s->id);
    crumbs(r, p->depth, c->national ? c->entities[s->entity].name : NULL, here);
    section_heading(x, r, s, c->national ? c->process_name : c->entity_name);
    uint32_t first, n = prep_catalog_section_parts(c, p->idx, &first, NULL);
    if (n > 1) { /* a split section: its parts, each a page of its own (siblings in seccion/) */
        rb_printf(r, "<p>La secci\xC3\xB3n %04u est\xC3\xA1 dividida en %u partes, cada una con sus propias "
                     "actas y lista nominal:", s->id, n);
        for (uint32_t i = first; i < first + n; i++) {
            char nm[48];
            sec_name(c, &c->sections[i], nm);
            rb_puts(r, i > first ? ", " : " ");
            if (i == p->idx) rb_puts(r, "<strong>");
            else rb_printf(r, "<a href=\"../%s/\">", nm);
            const char *u = prep_catalog_section_part_unit(c, i);
            if (u) rb_esc(r, u);
            else rb_printf(r, "parte %u", (unsigned)(i - first + 1));
            rb_puts(r, i == p->idx ? " (esta p\xC3\xA1gina)</strong>" : "</a>");
        }
        rb_puts(r, ".</p>");
    }
}

void secall_election(rctx *x, const rpage *p, uint32_t e, rbuf *r)
{
    const prep_catalog *c = x->c;
    const rsite *st = x->s;
    const prep_cat_section *s = &c->sections[p->idx];
    const relection *re = &st->el[e];
    /* national profile: no per-election section page; its results and actas are here */
    const rpage *sp = re->sec_base != PREP_CAT_NONE ? &st->pages[re->sec_base + p->idx] : NULL;
    rb_printf(r, "<section aria-labelledby=\"el-%u\"><h2 id=\"el-%u\">", e, e);
    rb_esc(r, c->elections[e].title);
    rb_puts(r, "</h2><ul class=\"ligas\">");
    if (sp) {
        rb_puts(r, "<li><a href=\"");
        rb_up(r, p->depth);
        rb_printf(r, "%s\">Resultados y actas de la secci\xC3\xB3n</a></li>", sp->dir);
    }
    if (re->view_dist) {
        rb_puts(r, "<li><a href=\"");
        rb_up(r, p->depth);
        rb_puts(r, st->pages[re->dist_base + s->district].dir);
        rb_puts(r, "\">");
        rb_esc(r, c->districts[s->district].name);
        rb_puts(r, "</a></li>");
    }
    if (re->view_muni) {
        rb_puts(r, "<li><a href=\"");
        rb_up(r, p->depth);
        rb_puts(r, st->pages[re->muni_base + s->municipality].dir);
        rb_puts(r, "\">");
        rb_esc(r, c->municipalities[s->municipality].name);
        rb_puts(r, "</a></li>");
    }
    rb_puts(r, "</ul>");
    summary(x, r, e, prep_tally_get(x->t, e, PREP_TALLY_SECTION, p->idx));
    if (sp) {
        casillas_table(x, r, e, s, sp->dir, p->depth);
    } else { /* each casilla's acta, anchored "<election id>-casilla-KEY"; the votes lean
              * (rctx.lean: a national cut has 71,049 such pages) */
        char anchor[64];
        snprintf(anchor, sizeof anchor, "%s-", c->elections[e].id);
        x->lean = 1;
        section_votes(x, r, e, p->idx, anchor);
        x->lean = 0;
    }
    rb_puts(r, "</section>");
}

void body_secall(rctx *x, const rpage *p, rbuf *r)
{
    secall_head(x, p, r);
    for (uint32_t e = 0; e < x->c->n_elections; e++) secall_election(x, p, e, r);
}

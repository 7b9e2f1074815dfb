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
 * sections by (entity, section): it will add seccion/EE/NNNN/ (two-digit entity), which
 * never collides with a four-digit name (docs/formats/site.md, "My section"). */
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

void secall_link(rbuf *r, unsigned depth, uint32_t section_id)
{
    rb_puts(r, "<p><a href=\"");
    rb_up(r, depth);
    rb_printf(r, "seccion/%04u/\">La secci\xC3\xB3n %04u en todas las elecciones</a></p>", section_id, section_id);
}

/* Inicio > Buscar sección [> here]. */
static void crumbs(rbuf *r, unsigned depth, const char *here)
{
    rb_puts(r, "<nav class=\"ruta\" aria-label=\"Ruta\"><ol><li><a href=\"");
    rb_up(r, depth);
    rb_puts(r, "\">Inicio</a></li>");
    if (!here) {
        rb_puts(r, "<li aria-current=\"page\">Buscar secci\xC3\xB3n</li></ol></nav>");
        return;
    }
    rb_puts(r, "<li><a href=\"");
    rb_up(r, depth - 1);
    rb_puts(r, "\">Buscar secci\xC3\xB3n</a></li><li aria-current=\"page\">");
    rb_puts(r, here);
    rb_puts(r, "</li></ol></nav>");
}

static void section_range(rctx *x, rbuf *r)
{
    const prep_catalog *c = x->c;
    if (!c->n_sections) return;
    uint32_t lo = c->sections[0].id, hi = lo;
    for (uint32_t i = 1; i < c->n_sections; i++) {
        if (c->sections[i].id < lo) lo = c->sections[i].id;
        if (c->sections[i].id > hi) hi = c->sections[i].id;
    }
    rb_printf(r, "<p>Esta publicaci\xC3\xB3n tiene %u secciones, numeradas de la %04u a la %04u (no todos los "
                 "n\xC3\xBAmeros intermedios existen). El n\xC3\xBAmero de secci\xC3\xB3n est\xC3\xA1 en la "
                 "credencial para votar.</p>",
              c->n_sections, lo, hi);
}

void body_secindex(rctx *x, const rpage *p, rbuf *r)
{
    crumbs(r, p->depth, NULL);
    rb_puts(r, "<h1>Buscar mi secci\xC3\xB3n</h1><p class=\"nota\">");
    rb_esc(r, x->c->entity_name);
    rb_puts(r, "</p><p>Escriba el n\xC3\xBAmero de su secci\xC3\xB3n electoral para ver, en una sola p\xC3\xA1gina, "
               "sus resultados en cada elecci\xC3\xB3n, sus casillas y el estado de cada acta.</p>");
    secindex_form(r, "./");
    section_range(x, r);
}

void body_secmiss(rctx *x, const rpage *p, rbuf *r)
{
    crumbs(r, p->depth, NULL);
    rb_puts(r, "<h1>Secci\xC3\xB3n no encontrada</h1><p>El n\xC3\xBAmero escrito no es el de una secci\xC3\xB3n de "
               "esta publicaci\xC3\xB3n. Escriba solo cifras, por ejemplo <b>412</b> o <b>0412</b>.</p>");
    section_range(x, r);
    secindex_form(r, "./");
    rb_puts(r, "<ul><li><a href=\"./\">Buscar otra secci\xC3\xB3n</a></li><li><a href=\"");
    rb_up(r, p->depth);
    rb_puts(r, "\">Ir al inicio</a></li></ul>");
}

/* The casillas of section si in election e: status and image SHA-256 of each acta, and a
 * link to the acta's block on the election's section page (dir: that page, from here). */
static void casillas_table(rctx *x, rbuf *r, uint32_t e, const prep_cat_section *s, const char *dir)
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
        rb_printf(r, "<tr><th scope=\"row\"><a href=\"../../%s#casilla-%s\">", dir, k->key);
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

void body_secall(rctx *x, const rpage *p, rbuf *r)
{
    const prep_catalog *c = x->c;
    const rsite *st = x->s;
    const prep_cat_section *s = &c->sections[p->idx];
    char here[32];
    snprintf(here, sizeof here, "Secci\xC3\xB3n %04u", s->id);
    crumbs(r, p->depth, here);
    section_heading(x, r, s, c->entity_name);
    for (uint32_t e = 0; e < c->n_elections; e++) {
        const relection *re = &st->el[e];
        const rpage *sp = &st->pages[re->sec_base + p->idx];
        rb_printf(r, "<section aria-labelledby=\"el-%u\"><h2 id=\"el-%u\">", e, e);
        rb_esc(r, c->elections[e].title);
        rb_printf(r, "</h2><ul class=\"ligas\"><li><a href=\"../../%s\">Resultados y actas de la secci\xC3\xB3n</a></li>",
                  sp->dir);
        if (re->view_dist) {
            rb_printf(r, "<li><a href=\"../../%s/%s/\">", re->seg, c->districts[s->district].slug);
            rb_esc(r, c->districts[s->district].name);
            rb_puts(r, "</a></li>");
        }
        if (re->view_muni) {
            rb_printf(r, "<li><a href=\"../../%s/%s/\">", re->seg, re->muni_seg[s->municipality]);
            rb_esc(r, c->municipalities[s->municipality].name);
            rb_puts(r, "</a></li>");
        }
        rb_puts(r, "</ul>");
        summary(x, r, e, prep_tally_get(x->t, e, PREP_TALLY_SECTION, p->idx));
        casillas_table(x, r, e, s, sp->dir);
        rb_puts(r, "</section>");
    }
}

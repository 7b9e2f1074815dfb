/* render: the site's layout (which pages exist, their URLs), the render cache, the per-cut
 * frame around every page body, and prep_render_site.
 *
 * A page = pre + stamp + body + post (see frame_pre). The body depends on the numbers
 * (and on the catalogue) only; the stamp holds everything that changes with each cut —
 * sequence number, cut instant, validity horizon, drill banner — and is the same bytes on
 * every page of a cut, so that a cut stores and ships each part once (prep_cut_file's
 * parts). Bodies are identical in the main tree and the embebido/ tree (all their
 * links are relative and both trees have the same shape); only the two per-cut pages
 * (base-de-datos, verificar) are rendered per tree — and, in a national catalogue's
 * profile (embebido/ without the section pages), the static bodies that link to those
 * pages (emb_body: the lookup and the section lists). */
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

/* ---------------------------------------------------------------- layout */
/* First path segments the site itself uses, or that the cut store reserves. */
static const char *const reserved_segments[] = {"assets", "base-de-datos", "verificar", "difusores", "embebido",
                                                "cortes", "corte.json", "avance", "index.html", "SHA256SUMS",
                                                "SHA256SUMS.sig", "seccion", "datos"};

static int is_reserved(const char *seg)
{
    for (size_t i = 0; i < PREP_ARRAY_LEN(reserved_segments); i++)
        if (!strcmp(seg, reserved_segments[i])) return 1;
    return 0;
}

char *rpath(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* The file name of page p in its directory. */
static const char *page_file(const rpage *p)
{
    return p->kind == PG_SECMISS ? "no-encontrada.html" : "index.html";
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    prep_buf b;
    prep_buf_init(&b, 0);
    va_list ap;
    va_start(ap, fmt);
    prep_err e = prep_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (e) {
        prep_buf_free(&b);
        return NULL;
    }
    return prep_buf_steal(&b, NULL);
}

static unsigned dir_depth(const char *dir)
{
    unsigned d = 0;
    for (const char *p = dir; *p; p++)
        if (*p == '/') d++;
    return d;
}

/* National profile: the embebido/ tree holds what a broadcaster embeds — the home, each
 * election's top, entity, district and municipality pages — and the small pages its links
 * reach (nav, the lookup, the section lists), not the section pages. The section lists'
 * links and the lookup's form lead out of embebido/ to the main tree: those bodies (which
 * never change with the numbers) have an embebido/ variant (rctx.emb); district and
 * municipality pages link to their section list, inside the tree, so their bodies are
 * the same bytes in both trees (one object). A local catalogue: every page, one body. */
int emb_has(const rsite *s, const rpage *p)
{
    return !s->c->national || p->kind != PG_SECALL;
}

/* National profile: a section page's body and datos.json body are never kept in the render
 * cache (71,049 of them, ~1.9 GB at the busiest point, are in the site): they are rendered
 * as they are emitted (pages_emit, od_emit), and the next call reuses the last site's
 * buffers (the cutter passes it back), rendering such a body again only when that site
 * cannot be reused (a caller that does not pass it back). */
static int thin_page(const rsite *s, const rpage *p)
{
    return s->c->national && p->kind == PG_SECALL;
}

int emb_body(const rsite *s, const rpage *p)
{
    return s->c->national && (p->kind == PG_SECINDEX || p->kind == PG_SECMISS || p->kind == PG_SECLIST);
}

void rsite_free(rsite *s)
{
    if (!s->c) return;
    if (s->el)
        for (uint32_t e = 0; e < s->c->n_elections; e++) {
            free(s->el[e].seg);
            if (s->el[e].muni_seg)
                for (uint32_t m = 0; m < s->c->n_municipalities; m++) free(s->el[e].muni_seg[m]);
            free(s->el[e].muni_seg);
        }
    free(s->el);
    if (s->cand)
        for (uint32_t k = 0; k < s->c->n_candidacies; k++) {
            free(s->cand[k].label);
            free(s->cand[k].group);
        }
    free(s->cand);
    for (size_t i = 0; i < s->n_pages; i++) {
        free(s->pages[i].dir);
        free(s->pages[i].title);
    }
    free(s->pages);
    free(s->css);
    if (s->ent_href)
        for (uint32_t i = 0; i < s->c->n_entities; i++) free(s->ent_href[i]);
    free(s->ent_href);
    free(s->n_sec_muni);
    free(s->n_sec_dist);
    memset(s, 0, sizeof *s);
}

static prep_err add_page(rsite *s, size_t *cap, uint8_t kind, uint32_t e, uint32_t idx, char *dir, char *title)
{
    if (!dir || !title) {
        free(dir);
        free(title);
        return PREP_ERR_NOMEM;
    }
    if (s->n_pages >= PREP_RENDER_MAX_PAGES) {
        free(dir);
        free(title);
        return PREP_ERR_LIMIT;
    }
    if (s->n_pages == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        rpage *np = realloc(s->pages, nc * sizeof *np);
        if (!np) {
            free(dir);
            free(title);
            return PREP_ERR_NOMEM;
        }
        s->pages = np;
        *cap = nc;
    }
    rpage *p = &s->pages[s->n_pages++];
    p->kind = kind;
    p->e = e;
    p->idx = idx;
    p->dir = dir;
    p->title = title;
    p->depth = (uint8_t)dir_depth(dir);
    return PREP_OK;
}

/* Contender labels: "PAN", "PAN-QI" (a coalition's parties), "Independiente". */
static prep_err cand_texts(const prep_catalog *c, rsite *s)
{
    s->cand = calloc(c->n_candidacies ? c->n_candidacies : 1, sizeof *s->cand);
    if (!s->cand) return PREP_ERR_NOMEM;
    for (uint32_t k = 0; k < c->n_candidacies; k++) {
        const prep_cat_candidacy *cd = &c->candidacies[k];
        rcand *rc = &s->cand[k];
        if (cd->kind == PREP_CAT_CAND_PARTY) {
            rc->label = prep_xstrdup(c->parties[cd->ref].id);
            rc->party = cd->ref;
        } else if (cd->kind == PREP_CAT_CAND_COALITION) {
            const prep_cat_coalition *co = &c->coalitions[cd->ref];
            prep_buf b;
            prep_buf_init(&b, 0);
            for (uint32_t i = 0; i < co->n_parties; i++) {
                if (i) prep_buf_putc(&b, '-');
                prep_buf_puts(&b, c->parties[co->parties[i]].id);
            }
            rc->label = prep_buf_steal(&b, NULL);
            rc->party = co->n_parties ? co->parties[0] : PREP_CAT_NONE;
        } else {
            rc->label = prep_xstrdup("Independiente");
            rc->party = PREP_CAT_NONE;
        }
        rc->group = rc->label ? prep_xstrdup(rc->label) : NULL;
        if (!rc->label || !rc->group) return PREP_ERR_NOMEM;
    }
    return PREP_OK;
}

/* "<entity slug>/" for a national catalogue's unit of entity ei, "" for a local one. */
static char *ent_seg(const prep_catalog *c, uint32_t ei)
{
    return c->national ? xasprintf("%s/", c->entities[ei].slug) : prep_xstrdup("");
}

/* A municipality's URL segment: its slug, or "municipio-<slug>" when a district of the
 * same entity shares the election's directory under that name. */
static char *muni_segment(const prep_catalog *c, const relection *re, uint32_t m)
{
    const char *slug = c->municipalities[m].slug;
    int clash = 0;
    if (re->view_dist)
        for (uint32_t d = 0; d < c->n_districts && !clash; d++)
            clash = c->districts[d].entity == c->municipalities[m].entity && !strcmp(slug, c->districts[d].slug);
    return clash ? xasprintf("municipio-%s", slug) : prep_xstrdup(slug);
}

/* The pages of election e: its top, its entities (national), districts, municipalities,
 * sections. A national catalogue nests every unit under its entity's directory. */
static prep_err election_pages(const prep_catalog *c, rsite *s, size_t *cap, uint32_t e)
{
    const prep_cat_election *el = &c->elections[e];
    relection *re = &s->el[e];
    prep_err err;
    re->seg = is_reserved(el->slug) ? xasprintf("eleccion-%s", el->slug) : prep_xstrdup(el->slug);
    if (!re->seg) return PREP_ERR_NOMEM;
    re->view_dist = el->scope != PREP_CAT_SCOPE_MUNICIPALITY;
    /* a national process shows municipalities only for an election held by municipality */
    re->view_muni = el->scope != PREP_CAT_SCOPE_DISTRICT && (!c->national || el->scope == PREP_CAT_SCOPE_MUNICIPALITY);
    re->sec_level = el->scope == PREP_CAT_SCOPE_MUNICIPALITY ? PREP_TALLY_MUNICIPALITY : PREP_TALLY_DISTRICT;
    re->state_base = re->dist_base = re->muni_base = PREP_CAT_NONE;
    re->muni_seg = calloc(c->n_municipalities ? c->n_municipalities : 1, sizeof *re->muni_seg);
    if (!re->muni_seg) return PREP_ERR_NOMEM;
    for (uint32_t m = 0; m < c->n_municipalities; m++)
        if (!(re->muni_seg[m] = muni_segment(c, re, m))) return PREP_ERR_NOMEM;
    re->entity_page = (uint32_t)s->n_pages;
    if ((err = add_page(s, cap, PG_ENTITY, e, 0, xasprintf("%s/", re->seg), prep_xstrdup(el->title)))) return err;
    if (c->national) {
        re->state_base = (uint32_t)s->n_pages;
        for (uint32_t i = 0; i < c->n_entities; i++)
            if ((err = add_page(s, cap, PG_STATE, e, i, xasprintf("%s/%s/", re->seg, c->entities[i].slug),
                                xasprintf("%s: %s", el->title, c->entities[i].name))))
                return err;
    }
    char *es;
    if (re->view_dist) {
        re->dist_base = (uint32_t)s->n_pages;
        for (uint32_t d = 0; d < c->n_districts; d++) {
            if (!(es = ent_seg(c, c->districts[d].entity))) return PREP_ERR_NOMEM;
            err = add_page(s, cap, PG_DISTRICT, e, d, xasprintf("%s/%s%s/", re->seg, es, c->districts[d].slug),
                           xasprintf("%s: %s", el->title, c->districts[d].name));
            free(es);
            if (err) return err;
        }
    }
    if (re->view_muni) {
        re->muni_base = (uint32_t)s->n_pages;
        for (uint32_t m = 0; m < c->n_municipalities; m++) {
            if (!(es = ent_seg(c, c->municipalities[m].entity))) return PREP_ERR_NOMEM;
            err = add_page(s, cap, PG_MUNI, e, m, xasprintf("%s/%s%s/", re->seg, es, re->muni_seg[m]),
                           xasprintf("%s: %s", el->title, c->municipalities[m].name));
            free(es);
            if (err) return err;
        }
    }
    re->sec_base = PREP_CAT_NONE;
    if (c->national) return PREP_OK; /* national profile: a section's page is seccion/EE/NNNN/ only */
    re->sec_base = (uint32_t)s->n_pages;
    for (uint32_t si = 0; si < c->n_sections; si++) {
        const prep_cat_section *sec = &c->sections[si];
        const char *useg, *uname;
        if (re->sec_level == PREP_TALLY_MUNICIPALITY) {
            useg = re->muni_seg[sec->municipality];
            uname = c->municipalities[sec->municipality].name;
        } else {
            useg = c->districts[sec->district].slug;
            uname = c->districts[sec->district].name;
        }
        if (!(es = ent_seg(c, sec->entity))) return PREP_ERR_NOMEM;
        char nm[48];
        prep_catalog_section_name(c, si, nm);
        err = add_page(s, cap, PG_SECTION, e, si, xasprintf("%s/%s%s/seccion-%s/", re->seg, es, useg, nm),
                       xasprintf("%s: %s, secci\xC3\xB3n %04u", el->title, uname, sec->id));
        free(es);
        if (err) return err;
    }
    return PREP_OK;
}

/* The section tree (render_lookup.c): seccion/, its 404 page, a page per section; a
 * national catalogue adds a lookup and a 404 page per entity, seccion/EE/. */
static prep_err section_tree(const prep_catalog *c, rsite *s, size_t *cap)
{
    prep_err err;
    s->secindex = (uint32_t)s->n_pages;
    if ((err = add_page(s, cap, PG_SECINDEX, 0, 0, prep_xstrdup("seccion/"), prep_xstrdup("Buscar mi secci\xC3\xB3n"))))
        return err;
    s->secmiss = (uint32_t)s->n_pages;
    if ((err = add_page(s, cap, PG_SECMISS, 0, 0, prep_xstrdup("seccion/"), prep_xstrdup("Secci\xC3\xB3n no encontrada"))))
        return err;
    s->secindex_base = s->secmiss_base = PREP_CAT_NONE;
    if (c->national) {
        s->secindex_base = (uint32_t)s->n_pages;
        for (uint32_t i = 0; i < c->n_entities; i++)
            if ((err = add_page(s, cap, PG_SECINDEX, 0, i + 1, xasprintf("seccion/%02u/", c->entities[i].id),
                                xasprintf("Buscar mi secci\xC3\xB3n: %s", c->entities[i].name))))
                return err;
        s->secmiss_base = (uint32_t)s->n_pages;
        for (uint32_t i = 0; i < c->n_entities; i++)
            if ((err = add_page(s, cap, PG_SECMISS, 0, i + 1, xasprintf("seccion/%02u/", c->entities[i].id),
                                prep_xstrdup("Secci\xC3\xB3n no encontrada"))))
                return err;
    }
    s->seclist_base = PREP_CAT_NONE;
    if (c->national) { /* the section lists (render_seclist.c): districts, then municipalities when shown */
        int muni = 0;
        for (uint32_t e = 0; e < c->n_elections; e++) muni |= s->el[e].view_muni;
        s->seclist_base = (uint32_t)s->n_pages;
        s->seclist_n = c->n_districts + (muni ? c->n_municipalities : 0);
        for (uint32_t i = 0; i < s->seclist_n; i++) {
            int m = i >= c->n_districts;
            uint32_t u = m ? i - c->n_districts : i;
            const char *ent = c->entities[m ? c->municipalities[u].entity : c->districts[u].entity].name;
            unsigned ek = c->entities[m ? c->municipalities[u].entity : c->districts[u].entity].id;
            char *dir = m ? xasprintf("seccion/%02u/municipio-%s/", ek, c->municipalities[u].slug)
                          : xasprintf("seccion/%02u/%s/", ek, c->districts[u].slug);
            char *title = xasprintf("Secciones: %s, %s", m ? c->municipalities[u].name : c->districts[u].name, ent);
            if ((err = add_page(s, cap, PG_SECLIST, 0, i, dir, title))) return err;
        }
    }
    s->secall_base = (uint32_t)s->n_pages;
    for (uint32_t si = 0; si < c->n_sections; si++) {
        const prep_cat_section *sec = &c->sections[si];
        char nm[48];
        prep_catalog_section_name(c, si, nm);
        char *dir = c->national ? xasprintf("seccion/%02u/%s/", c->entities[sec->entity].id, nm)
                                : xasprintf("seccion/%s/", nm);
        char *title = c->national ? xasprintf("Secci\xC3\xB3n %04u, %s", sec->id, c->entities[sec->entity].name)
                                  : xasprintf("Secci\xC3\xB3n %04u", sec->id);
        if ((err = add_page(s, cap, PG_SECALL, 0, si, dir, title))) return err;
    }
    return PREP_OK;
}

prep_err rsite_build(const prep_catalog *c, rsite *s)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    prep_err err;
    size_t cap = 0;
    s->el = calloc(c->n_elections ? c->n_elections : 1, sizeof *s->el);
    if (!s->el) return PREP_ERR_NOMEM;
    if ((err = cand_texts(c, s))) goto fail;

    if ((err = add_page(s, &cap, PG_HOME, 0, 0, prep_xstrdup(""), prep_xstrdup("Inicio")))) goto fail;
    s->home = 0;
    if (c->national) {
        s->ent_href = calloc(c->n_entities, sizeof *s->ent_href);
        if (!s->ent_href) {
            err = PREP_ERR_NOMEM;
            goto fail;
        }
        for (uint32_t i = 0; i < c->n_entities; i++)
            if (!(s->ent_href[i] = xasprintf("%s/", c->entities[i].slug))) {
                err = PREP_ERR_NOMEM;
                goto fail;
            }
        s->n_sec_muni = calloc(c->n_municipalities ? c->n_municipalities : 1, sizeof *s->n_sec_muni);
        s->n_sec_dist = calloc(c->n_districts ? c->n_districts : 1, sizeof *s->n_sec_dist);
        if (!s->n_sec_muni || !s->n_sec_dist) {
            err = PREP_ERR_NOMEM;
            goto fail;
        }
        for (uint32_t si = 0; si < c->n_sections; si++) {
            if (c->sections[si].municipality < c->n_municipalities) s->n_sec_muni[c->sections[si].municipality]++;
            if (c->sections[si].district < c->n_districts) s->n_sec_dist[c->sections[si].district]++;
        }
    }
    for (uint32_t e = 0; e < c->n_elections; e++)
        if ((err = election_pages(c, s, &cap, e))) goto fail;
    if ((err = section_tree(c, s, &cap))) goto fail;
    s->db = (uint32_t)s->n_pages;
    if ((err = add_page(s, &cap, PG_DB, 0, 0, prep_xstrdup("base-de-datos/"), prep_xstrdup("Base de datos")))) goto fail;
    s->verify = (uint32_t)s->n_pages;
    if ((err = add_page(s, &cap, PG_VERIFY, 0, 0, prep_xstrdup("verificar/"),
                        prep_xstrdup("C\xC3\xB3mo verificar este corte"))))
        goto fail;
    s->difusores = (uint32_t)s->n_pages;
    if ((err = add_page(s, &cap, PG_DIFUSORES, 0, 0, prep_xstrdup("difusores/"), prep_xstrdup("Difusores oficiales"))))
        goto fail;

    /* assets: named by the SHA-256 of their bytes (first 12 hex digits) */
    rbuf r;
    rb_init(&r);
    css_write(c, &r);
    if (r.err) {
        err = r.err;
        rb_free(&r);
        goto fail;
    }
    s->css = prep_buf_steal(&r.b, &s->css_len);
    char h[65];
    prep_sha256_hex(s->css, s->css_len, h);
    snprintf(s->css_path, sizeof s->css_path, "assets/app.%.12s.css", h);
    size_t jl;
    const char *js = js_text(&jl);
    prep_sha256_hex(js, jl, h);
    snprintf(s->js_path, sizeof s->js_path, "assets/app.%.12s.js", h);
    s->has_map = map_available(c);
    return PREP_OK;
fail:
    rsite_free(s);
    return err;
}

/* ---------------------------------------------------------------- cache */
struct prep_render_cache {
    const prep_catalog *c; /* the layout below is for this catalogue */
    const prep_tally *t;
    rsite s;
    char **body;           /* per page (main tree); NULL = not rendered yet */
    size_t *body_len;
    char **ebody;          /* per page with emb_body: its embebido/ body (else NULL) */
    size_t *ebody_len;
    uint8_t *thin;         /* per page: a thin_page rendered once; its body and datos.json body
                            * are in the last site only (body, json stay NULL) */
    char **json, **csv;    /* per page with open data: datos.json's body and datos.csv */
    size_t *json_len, *csv_len;
    int final_cut;
    size_t *ooc;           /* per election: out-of-catalogue captures when last rendered */
    uint64_t dif_hash;     /* of the difusores list last rendered */
    uint64_t gen;          /* the last site this cache made (prep_site.gen); 0 none */
    uint64_t frame_hash;   /* of what that site's frames depend on besides the page */
    prep_tally_db_rows *db_rows; /* the database's rows (prep_tally_db_write_csv_cached) */
};

prep_err prep_render_cache_new(prep_render_cache **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? PREP_OK : PREP_ERR_NOMEM;
}

static void cache_reset(prep_render_cache *k)
{
    if (k->body)
        for (size_t i = 0; i < k->s.n_pages; i++) free(k->body[i]);
    if (k->ebody)
        for (size_t i = 0; i < k->s.n_pages; i++) free(k->ebody[i]);
    free(k->ebody);
    free(k->ebody_len);
    free(k->thin);
    if (k->json)
        for (size_t i = 0; i < k->s.n_pages; i++) free(k->json[i]);
    if (k->csv)
        for (size_t i = 0; i < k->s.n_pages; i++) free(k->csv[i]);
    free(k->json);
    free(k->csv);
    free(k->json_len);
    free(k->csv_len);
    free(k->body);
    free(k->body_len);
    free(k->ooc);
    prep_tally_db_rows_free(k->db_rows);
    k->db_rows = NULL;
    rsite_free(&k->s);
    memset(k, 0, sizeof *k);
}

void prep_render_cache_free(prep_render_cache *k)
{
    if (!k) return;
    cache_reset(k);
    free(k);
}

static prep_err cache_prepare(prep_render_cache *k, const prep_tally *t)
{
    const prep_catalog *c = prep_tally_catalog(t);
    if (k->c == c && k->t == t && k->body) return PREP_OK;
    cache_reset(k);
    prep_err err = rsite_build(c, &k->s);
    if (err) return err;
    k->c = c;
    k->t = t;
    k->body = calloc(k->s.n_pages, sizeof *k->body);
    k->body_len = calloc(k->s.n_pages, sizeof *k->body_len);
    k->ebody = calloc(k->s.n_pages, sizeof *k->ebody);
    k->ebody_len = calloc(k->s.n_pages, sizeof *k->ebody_len);
    k->thin = calloc(k->s.n_pages, 1);
    k->ooc = calloc(c->n_elections ? c->n_elections : 1, sizeof *k->ooc);
    k->json = calloc(k->s.n_pages, sizeof *k->json);
    k->csv = calloc(k->s.n_pages, sizeof *k->csv);
    k->json_len = calloc(k->s.n_pages, sizeof *k->json_len);
    k->csv_len = calloc(k->s.n_pages, sizeof *k->csv_len);
    if (prep_tally_db_rows_new(&k->db_rows) || !k->body || !k->body_len || !k->ebody || !k->ebody_len || !k->thin ||
        !k->ooc || !k->json || !k->csv || !k->json_len || !k->csv_len) {
        cache_reset(k);
        return PREP_ERR_NOMEM;
    }
    return PREP_OK;
}

/* ---------------------------------------------------------------- frame */
typedef struct cutinfo {
    char seq[24];
    char human[96];   /* "6 de junio de 2021, 23:05 (UTC-5)" */
    char iso[40];     /* "2021-06-06T23:05:00-05:00" */
    char valid[40];
    const char *process;
    const char *institute;
} cutinfo;

/* A page is four parts (prep_site_file.part_len), concatenated:
 *   pre   doctype, head (title without the cut), site chrome up to the header's stamp:
 *         depends on the page and the tree, never on the cut;
 *   stamp ALL per-cut text: drill banner, cut number and instant, validity hook, the
 *         "corte nuevo" notice and the number its script compares: the same bytes on every
 *         page of both trees of one cut (one object per cut in the store);
 *   body  nav, <main> and the cached body: the same bytes in the main and embebido/ trees;
 *   post  closing chrome (footer in the main tree).
 * So a cut that changes no number of a page changes only its stamp. */
static void frame_pre(rctx *x, const cutinfo *ci, const rpage *p, int emb, rbuf *r)
{
    const rsite *s = x->s;
    unsigned tree = p->depth, site = p->depth + (emb ? 1u : 0u);
    rb_puts(r, "<!DOCTYPE html>\n<html lang=\"es\" data-raiz=\"");
    rb_up(r, site);
    rb_puts(r, "\"><head><meta charset=\"utf-8\"/>"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>");
    rb_esc(r, p->title);
    rb_puts(r, " \xC2\xB7 PREP ");
    rb_esc(r, ci->process);
    /* a description for search engines and link previews; no icon file (nothing fetched) */
    rb_puts(r, "</title><meta name=\"description\" content=\"Resultados preliminares: ");
    rb_esc(r, p->title);
    rb_puts(r, ". ");
    rb_esc(r, ci->institute);
    rb_puts(r, "\"/><link rel=\"icon\" href=\"data:,\"/><link rel=\"stylesheet\" href=\"");
    rb_up(r, site);
    rb_puts(r, s->css_path);
    rb_puts(r, "\"/><script src=\"");
    rb_up(r, site);
    rb_puts(r, s->js_path);
    rb_puts(r, "\" defer=\"\"></script></head>");
    const char *cls = p->kind == PG_HOME ? (emb ? " class=\"inicio emb\"" : " class=\"inicio\"") : (emb ? " class=\"emb\"" : "");
    rb_printf(r, "<body%s><a class=\"salto\" href=\"#contenido\">Saltar al contenido</a>"
                 "<a class=\"salto\" href=\"#corte\">Ir a la fecha y hora del corte</a><header>", cls);
    if (!emb) {
        rb_puts(r, "<p class=\"sitio\"><a href=\"");
        rb_up(r, tree);
        rb_puts(r, "\">PREP ");
        rb_esc_nb(r, ci->process);
        rb_puts(r, "</a> \xC2\xB7 ");
        rb_esc(r, ci->institute);
        rb_puts(r, "</p>");
    }
}

/* The stamp: everything of the cut, nothing of the page or the tree (see above). */
static void frame_stamp(rctx *x, const cutinfo *ci, rbuf *r)
{
    /* the page's last part (hashing: see page_part_stamp), at the top of the screen (the
     * stylesheet orders it after the header); the skip link "Ir al corte" of every page
     * leads to it */
    rb_puts(r, "<div class=\"sello\" id=\"corte\">");
    if (x->cut->drill)
        rb_puts(r, "<p class=\"simulacro\">SIMULACRO: datos de un ejercicio de prueba, no de la elecci\xC3\xB3n</p>");
    rb_printf(r, "<div class=\"corte\" data-corte=\"%s\"><p class=\"prelim\">Resultados preliminares</p><p class=\"hora\">Corte <b>", ci->seq);
    rb_puts(r, ci->seq);
    rb_printf(r, "</b> \xC2\xB7 <time datetime=\"%s\">", ci->iso);
    rb_esc(r, ci->human);
    rb_puts(r, "</time></p></div>");
    /* the notices sit at the bottom of the screen when shown (.avisos is fixed): showing
     * one never moves the page under the reader (no layout shift) */
    rb_printf(r,
              "<div class=\"avisos\"><p id=\"desactualizado\" class=\"aviso\" hidden=\"\" data-vigente-hasta=\"%s\">"
              "Este corte ya no es el vigente: la publicaci\xC3\xB3n puede estar desactualizada.</p>"
              "<p id=\"corte-nuevo\" class=\"aviso\" role=\"status\" hidden=\"\">Hay un corte nuevo. "
              "<a href=\"./\">Actualizar esta p\xC3\xA1gina</a></p></div></div>",
              ci->valid);
    rb_puts(r, "</body></html>\n"); /* the document's end: the same on every page */
}

/* The start of the body part: the nav (relative links, the same in both trees). */
static void frame_nav(rctx *x, const rpage *p, rbuf *r)
{
    const rsite *s = x->s;
    unsigned tree = p->depth;
    rb_puts(r, "<nav aria-label=\"Secciones del sitio\"><ul>");
    for (uint32_t e = 0; e < x->c->n_elections; e++) {
        rb_puts(r, "<li><a href=\"");
        rb_up(r, tree);
        rb_puts(r, s->el[e].seg);
        rb_puts(r, "/\"");
        if (p->kind >= PG_ENTITY && p->kind <= PG_SECTION && p->e == e)
            rb_puts(r, p->kind == PG_ENTITY ? " aria-current=\"page\"" : " aria-current=\"true\"");
        rb_puts(r, ">");
        rb_esc(r, x->c->elections[e].title);
        rb_puts(r, "</a></li>");
    }
    static const struct { uint8_t kind; const char *dir, *name; } extra[] = {
        {PG_DB, "base-de-datos/", "Base de datos"},
        {PG_VERIFY, "verificar/", "C\xC3\xB3mo verificar"},
        {PG_DIFUSORES, "difusores/", "Difusores oficiales"},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(extra); i++) {
        rb_puts(r, "<li><a href=\"");
        rb_up(r, tree);
        rb_puts(r, extra[i].dir);
        rb_puts(r, p->kind == extra[i].kind ? "\" aria-current=\"page\">" : "\">");
        rb_puts(r, extra[i].name);
        rb_puts(r, "</a></li>");
    }
    rb_puts(r, "</ul></nav></header><main id=\"contenido\">");
}

/* The footer of a page of the main tree (the embedded tree's pages have none): before the
 * stamp in the file, at the bottom of the screen (the stylesheet orders it last). */
static void frame_post(rctx *x, const cutinfo *ci, const rpage *p, rbuf *r)
{
    rb_puts(r, "<footer><p>Programa de Resultados Electorales Preliminares \xC2\xB7 ");
    rb_esc(r, ci->institute);
    rb_puts(r, ". Los resultados preliminares son informativos y no tienen efectos jur\xC3\xAD"
               "dicos. Publicaci\xC3\xB3n sin cookies ni rastreo; funciona sin JavaScript.</p>");
    if (emb_has(x->s, p)) {
        rb_puts(r, "<p><a href=\"");
        rb_up(r, p->depth);
        rb_puts(r, "embebido/");
        rb_puts(r, p->dir);
        rb_puts(r, "\">Versi\xC3\xB3n para insertar en otro sitio (iframe)</a></p>");
    }
    if (od_has_data(p)) od_links_page(x->c, p, r); /* the data files are not in embebido/ */
    rb_puts(r, "</footer>");
}

/* The frame of a split section page (sec_page_emit), piece by piece. */
static void sec_frame(rctx *x, const void *ci, const rpage *p, int which, rbuf *r)
{
    if (which == SEC_FRAME_PRE) frame_pre(x, ci, p, 0, r);
    else if (which == SEC_FRAME_NAV) frame_nav(x, p, r);
    else frame_post(x, ci, p, r);
}

/* ---------------------------------------------------------------- assembling the site */
prep_err site_add(prep_site *out, char *path, void *data, size_t len, const char *mt, int is_page, int fresh)
{
    if (!path) {
        free(data);
        return PREP_ERR_NOMEM;
    }
    if (out->n == out->cap) {
        size_t nc = out->cap ? out->cap * 2 : 256;
        prep_site_file *nv = realloc(out->v, nc * sizeof *nv);
        if (!nv) {
            free(path);
            free(data);
            return PREP_ERR_NOMEM;
        }
        out->v = nv;
        out->cap = nc;
    }
    prep_site_file *f = &out->v[out->n++];
    f->path = path;
    f->data = data;
    f->len = len;
    f->media_type = mt;
    f->cache = prep_policy_path_class(path, strlen(path)); /* the one policy table decides */
    f->is_page = (uint8_t)is_page;
    f->body_rendered = (uint8_t)fresh;
    f->n_parts = 0;
    memset(f->part_len, 0, sizeof f->part_len);
    f->same_parts = 0;
    f->hash_prefix = 0;
    f->stored = 0;
    f->stored_sha = NULL;
    f->sheddable = 0;
    f->has_sha256 = 0;
    f->path_lent = 0;
    return PREP_OK;
}

static prep_err site_add_copy(prep_site *out, const char *path, const void *data, size_t len, const char *mt)
{
    void *d = malloc(len ? len : 1);
    if (!d) return PREP_ERR_NOMEM;
    if (len) memcpy(d, data, len);
    return site_add(out, prep_xstrdup(path), d, len, mt, 0, 0);
}

/* progress_files' sink: avance/<id>.json in the main tree, and the same bytes in embebido/
 * (the election page's body, shared by both trees, links to it relatively). */
typedef struct series_ctx {
    prep_site *out;
    int embedded;
} series_ctx;

static prep_err add_series(void *ctx, char *path, char *data, size_t len)
{
    series_ctx *sc = ctx;
    prep_err err = PREP_OK;
    if (sc->embedded && path && data) {
        void *copy = prep_xmalloc(len ? len : 1);
        memcpy(copy, data, len);
        err = site_add(sc->out, xasprintf("embebido/%s", path), copy, len, "application/json", 0, 0);
    }
    if (err) {
        free(path);
        free(data);
        return err;
    }
    return site_add(sc->out, path, data, len, "application/json", 0, 0);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const prep_site_file *)a)->path, ((const prep_site_file *)b)->path);
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;
}

/* ---------------------------------------------------------------- reusing the last site
 * A site passed back as `out` with the cache that made it holds, for every page whose body
 * was not rendered again, the same pre, body and post bytes as the new one (the same page,
 * tree and frame inputs: frame_hash); only the stamp differs. Its buffer is taken over and
 * the new stamp written in place, instead of a fresh allocation and a copy of the whole
 * page: the same for datos.json (its head) and datos.csv (as it is). When the stamp's
 * length changes (the sequence gains a digit, the hour in words grows), the bytes after it
 * are moved and the buffer resized: still no body rendered again, which at national scale
 * would be every section page's (13.5 CPU s for the cut at sequence 10, against ~2.5).
 * keep_part/keep_len: a part that must have kept its length (a datos.json's cached body)
 * for the buffer to be the same file; keep_part == vary checks nothing more. */
static unsigned char *reuse_buf(prep_site_file *f, uint8_t n_parts, size_t vary, const void *v, size_t vlen,
                                size_t keep_part, size_t keep_len)
{
    if (!f || !f->data || f->path_lent || f->n_parts != n_parts) return NULL;
    if (!n_parts) {
        if (f->len != keep_len) return NULL;
    } else if (keep_part != vary && f->part_len[keep_part] != keep_len) {
        return NULL;
    }
    if (n_parts) {
        if ((f->stored >> vary) & 1u) return NULL; /* never: the per-cut part is not shed */
        /* offsets in data, which lacks the parts the store holds (render_shed.c) */
        size_t off = site_data_off(f, vary), was = f->part_len[vary], dlen = prep_render_site_file_data_len(f);
        if (was != vlen) {
            size_t tail = dlen - off - was, nd = dlen - was + vlen;
            if (vlen > was) {
                unsigned char *d = realloc(f->data, nd);
                if (!d) return NULL; /* the caller builds the file anew */
                f->data = d;
            }
            memmove(f->data + off + vlen, f->data + off + was, tail);
            f->len = f->len - was + vlen;
            f->part_len[vary] = vlen;
        }
        memcpy(f->data + off, v, vlen);
    }
    unsigned char *d = f->data;
    f->data = NULL;
    return d;
}

/* Frees old's buffer of the file at path, about to be replaced by a new one: the last
 * site's copy of a changed page need not live until the end of the call (at national
 * scale the changed pages of a busy cut are ~0.5 GB). */
void old_drop(prep_site *old, const char *path)
{
    if (!old->n || !path) return;
    prep_site_file *f = site_find_near(old, path);
    if (!f) return;
    free(f->data);
    f->data = NULL;
    free(f->stored_sha);
    f->stored_sha = NULL;
    f->stored = 0;
}

/* Adds the file at path a b c reusing old's buffer (see reuse_buf) and path string; 1 when
 * done, 0 when the caller must build it, -1 on error. */
int reuse_file(prep_site *old, prep_site *out, const char *a, const char *b, const char *c, const char *mt,
               int is_page, uint8_t n_parts, size_t vary, const void *v, size_t vlen, size_t keep_part,
               size_t keep_len, prep_err *err)
{
    if (!old->n) return 0;
    /* old's file (one search per page: 147,000 at national scale) */
    prep_site_file *f = site_find_near3(old, a, b, c);
    unsigned char *d = reuse_buf(f, n_parts, vary, v, vlen, keep_part, keep_len);
    if (!d) return 0;
    /* its path too: no string built, copied and freed per file and cut. old keeps the
     * pointer for its lookups until it is freed (prep_render_site_free skips it). */
    char *path = f->path;
    f->path_lent = 1;
    size_t len = f->len, pl[PREP_RENDER_PARTS_MAX];
    memcpy(pl, f->part_len, sizeof pl);
    /* the parts the store holds go with the buffer (render_shed.c) */
    uint32_t stored = f->stored, sheddable = f->sheddable;
    unsigned char(*ssha)[32] = f->stored_sha;
    f->stored_sha = NULL;
    f->stored = 0;
    if ((*err = site_add(out, path, d, len, mt, is_page, 0))) {
        free(ssha);
        return -1;
    }
    prep_site_file *nf = &out->v[out->n - 1];
    nf->n_parts = n_parts;
    memcpy(nf->part_len, pl, sizeof pl);
    nf->stored = stored;
    nf->stored_sha = ssha;
    nf->sheddable = sheddable;
    /* every part but the rewritten one is the old file's (a plain file: all of it) */
    nf->same_parts = n_parts ? ((1u << n_parts) - 1u) & ~(1u << vary) : 1u;
    nf->hash_prefix = (uint8_t)(n_parts ? vary : 0);
    return 1;
}

/* Open data of page i (render_opendata.c) into the cache, after its body: a page with
 * data gets its datos.json body and datos.csv rendered exactly when its body is. A failed
 * render leaves the page's body unset too, so the next call renders both again. */
static prep_err od_cache(rctx *x, const rpage *p, prep_render_cache *k, size_t i, rbuf *r)
{
    if (!od_has_data(p)) return PREP_OK;
    char **slot[2] = {&k->json[i], &k->csv[i]};
    size_t *len[2] = {&k->json_len[i], &k->csv_len[i]};
    for (int w = 0; w < (od_has_csv(x->c, p) ? 2 : 1); w++) {
        rb_reset(r);
        /* room for the last body's length at once: grown by doubling from nothing, each
         * body was copied ~6 times over */
        if (*len[w]) prep_buf_reserve(&r->b, *len[w] + 256);
        if (w == 0) od_json_body(x, p, r);
        else od_csv(x, p, r);
        free(*slot[w]);
        *slot[w] = r->err ? NULL : prep_buf_steal(&r->b, len[w]);
        if (!*slot[w]) {
            free(k->body[i]);
            k->body[i] = NULL;
            return r->err ? r->err : PREP_ERR_NOMEM;
        }
    }
    return PREP_OK;
}

/* datos/esquema.json, and every page's datos.json (composed: the cut's head, then the
 * cached body) and datos.csv (the cached bytes). Main tree only. need: the pages whose
 * bodies this call rendered (the others' files may come from old). */
static prep_err od_emit(rctx *x, prep_render_cache *k, const char *seq, const char *iso, const uint8_t *need,
                        prep_site *old, prep_site *out)
{
    size_t sl;
    const char *schema = od_schema(&sl);
    prep_err err = site_add_copy(out, "datos/esquema.json", schema, sl, "application/json");
    rbuf h, tb;
    rb_init(&h);
    rb_init(&tb);
    od_json_head(x, seq, iso, &h);
    if (!err) err = h.err;
    for (size_t i = 0; i < k->s.n_pages && !err; i++) {
        const rpage *p = &k->s.pages[i];
        if (!od_has_data(p)) continue;
        if (sec_split(&k->s, p)) { /* national section: per-election parts (no datos.csv) */
            err = sec_json_emit(x, p, h.b.data, h.b.len, old, out, &tb);
            continue;
        }
        int csv = od_has_csv(k->c, p);
        /* datos.json: the last site's buffer with the new head, or head + cached body */
        int ru = need[i] ? 0 : reuse_file(old, out, p->dir, "datos.json", "", "application/json", 0, 2,
                                          JSON_PART_HEAD(1), h.b.data, h.b.len, JSON_PART_BODY, k->json_len[i], &err);
        if (ru < 0) break;
        if (!ru) {
            char *jp = rpath(p->dir, "datos.json", "");
            if (!jp) {
                err = PREP_ERR_NOMEM;
                break;
            }
            old_drop(old, jp);
            const char *jb = k->json[i];
            size_t jl = k->json_len[i];
            if (!jb) { /* a thin page: changed, or its last site could not be reused */
                rb_reset(&tb);
                od_json_body(x, p, &tb);
                jb = tb.b.data;
                jl = tb.b.len;
                err = tb.err;
                k->json_len[i] = jl; /* what the next call's reuse_buf checks */
            }
            char *d = err ? NULL : malloc(h.b.len + jl + 1);
            if (d) {
                memcpy(d, jb, jl);
                memcpy(d + jl, h.b.data, h.b.len);
            }
            if (!err) err = d ? site_add(out, jp, d, h.b.len + jl, "application/json", 0, 0) : PREP_ERR_NOMEM;
            if (!d) free(jp);
            if (!err) {
                prep_site_file *f = &out->v[out->n - 1];
                f->n_parts = 2;
                f->part_len[JSON_PART_BODY] = jl;
                f->part_len[JSON_PART_HEAD(1)] = h.b.len;
                f->hash_prefix = (uint8_t)JSON_PART_HEAD(1);
            }
        }
        if (err) break;
        if (!csv) continue;
        /* datos.csv: the last site's buffer as it is, or a copy of the cached bytes */
        ru = need[i] ? 0
                     : reuse_file(old, out, p->dir, "datos.csv", "", "text/csv; charset=utf-8", 0, 0, 0, NULL, 0, 0,
                                  k->csv_len[i], &err);
        if (ru < 0) break;
        if (!ru) {
            char *cp = rpath(p->dir, "datos.csv", "");
            if (!cp) {
                err = PREP_ERR_NOMEM;
                break;
            }
            old_drop(old, cp);
            char *d = malloc(k->csv_len[i] + 1);
            if (d) memcpy(d, k->csv[i], k->csv_len[i]);
            err = d ? site_add(out, cp, d, k->csv_len[i], "text/csv; charset=utf-8", 0, 0) : PREP_ERR_NOMEM;
            if (!d) free(cp);
        }
    }
    rb_free(&h);
    rb_free(&tb);
    return err;
}

/* The page's parts into r (page_parts(1, 0, emb)); part[] gets their lengths. */
static void page_full(rctx *x, const cutinfo *ci, const rpage *p, int emb, const char *stamp, size_t slen,
                      const char *body, size_t blen, rbuf *r, size_t part[4])
{
    rb_reset(r);
    if (!r->err) r->err = prep_buf_reserve(&r->b, blen + slen + 4096); /* one allocation per page */
    frame_pre(x, ci, p, emb, r);
    part[PAGE_PART_PRE] = r->b.len;
    frame_nav(x, p, r);
    rb_put(r, body, blen);
    rb_puts(r, "</main>");
    part[PAGE_PART_BODY] = r->b.len - part[PAGE_PART_PRE];
    if (!emb) {
        frame_post(x, ci, p, r);
        part[PAGE_PART_POST] = r->b.len - part[PAGE_PART_PRE] - part[PAGE_PART_BODY];
    }
    rb_put(r, stamp, slen);
    part[page_part_stamp(1, 0, emb)] = slen;
}

/* The pages of both trees into out: each page's frame around its cached body (the two
 * per-cut pages rendered here), or the last site's buffer with the new stamp (reuse_file). */
static prep_err pages_emit(rctx *x, prep_render_cache *cache, const cutinfo *ci, const rbuf *sb,
                           const uint8_t *need, const dbfile *dbf, size_t n_db, prep_site *old, prep_site *out,
                           rbuf *r, prep_render_stats *st)
{
    prep_err err = PREP_OK;
    rbuf pb;
    rb_init(&pb);
    int trees = x->o->embedded ? 2 : 1;
    for (int emb = 0; emb < trees && !err; emb++) {
        for (size_t i = 0; i < x->s->n_pages && !err; i++) {
            const rpage *p = &x->s->pages[i];
            const char *body;
            size_t blen;
            int fresh;
            if (emb && !emb_has(x->s, p)) continue;
            if (p->kind == PG_DB || p->kind == PG_VERIFY) {
                rb_reset(&pb);
                x->chart_no = 0;
                if (p->kind == PG_DB) body_db(x, &pb, emb, dbf, n_db);
                else body_verify(x, &pb, ci->seq, ci->iso);
                if (pb.err) {
                    err = pb.err;
                    break;
                }
                body = pb.b.data;
                blen = pb.b.len;
                fresh = 1;
                if (!emb) {
                    st->bodies_rendered++;
                    st->cut_pages++;
                }
            } else {
                int eb = emb && emb_body(x->s, p);
                body = eb ? cache->ebody[i] : cache->body[i];
                blen = eb ? cache->ebody_len[i] : cache->body_len[i];
                fresh = need[i];
                if (!emb && !need[i]) st->bodies_reused++;
            }
            if (!fresh && old->n) {
                /* the parts but the stamp: the same bytes by construction */
                size_t sn = sec_split(x->s, p), nb = sn ? sn : 1, at = page_part_stamp(nb, sn > 0, emb);
                int ru = reuse_file(old, out, emb ? "embebido/" : "", p->dir, page_file(p), "text/html; charset=utf-8",
                                    1, (uint8_t)page_parts(nb, sn > 0, emb), at, sb->b.data, sb->b.len, at, sb->b.len,
                                    &err);
                if (ru < 0) break;
                if (ru) {
                    st->pages++;
                    continue;
                }
            }
            if (!body && sec_split(x->s, p)) { /* a national section page: per-election parts */
                err = sec_page_emit(x, ci, sec_frame, p, sb->b.data, sb->b.len, fresh, old, out, r);
                st->pages++;
                continue;
            }
            if (!body) { /* a thin page: changed, or its last site could not be reused */
                rb_reset(&pb);
                x->chart_no = 0;
                body_write(x, p, emb, &pb);
                if (pb.err) {
                    err = pb.err;
                    break;
                }
                body = pb.b.data;
                blen = pb.b.len;
            }
            size_t part[4];
            page_full(x, ci, p, emb, sb->b.data, sb->b.len, body, blen, r, part);
            if (r->err) {
                err = r->err;
                break;
            }
            size_t len;
            char *data = prep_buf_steal(&r->b, &len);
            char *np = rpath(emb ? "embebido/" : "", p->dir, page_file(p));
            old_drop(old, np);
            err = site_add(out, np, data, len, "text/html; charset=utf-8", 1, fresh);
            if (!err) {
                prep_site_file *f = &out->v[out->n - 1];
                f->n_parts = (uint8_t)page_parts(1, 0, emb);
                f->hash_prefix = (uint8_t)page_part_stamp(1, 0, emb); /* pre, body, post: what repeats */
                memcpy(f->part_len, part, f->n_parts * sizeof *part);
            }
            st->pages++;
        }
    }
    rb_free(&pb);
    return err;
}

/* Marks in need[] the bodies this call renders: those the cache lacks, those whose
 * aggregates the tally marks dirty (with the home and entity pages of their election), and
 * the broadcasters' page when their list changed. Returns the list's hash for the cache. */
static uint64_t mark_needed(const prep_render_cache *cache, const prep_tally *t, const prep_render_opts *o,
                            const prep_render_cut *cut, uint8_t *need, uint8_t *sec_need)
{
    const rsite *s = &cache->s;
    const prep_catalog *c = cache->c;
    int all = cache->final_cut != cut->final_cut;
    /* a split section page's parts: those of dirty sections, every part on a first render
     * (the pages exist from the first call on: one tells all) */
    if (sec_need) sec_mark(s, t, all || !cache->thin[s->secall_base], sec_need);
    for (size_t i = 0; i < s->n_pages; i++)
        if ((!cache->body[i] && !cache->thin[i]) || all ||
            (o->embedded && emb_body(s, &s->pages[i]) && !cache->ebody[i]))
            need[i] = 1;
    for (uint32_t e = 0; e < c->n_elections; e++) {
        const relection *re = &s->el[e];
        const uint32_t *idx;
        size_t n = prep_tally_n_out_of_catalog(t, e);
        if (n != cache->ooc[e] || prep_tally_dirty_list(t, e, PREP_TALLY_NATION, &idx)) {
            need[re->entity_page] = 1;
            need[s->home] = 1;
        }
        if (re->state_base != PREP_CAT_NONE) {
            size_t k = prep_tally_dirty_list(t, e, PREP_TALLY_ENTITY, &idx);
            for (size_t i = 0; i < k; i++) need[re->state_base + idx[i]] = 1;
        }
        if (re->view_dist) {
            size_t k = prep_tally_dirty_list(t, e, PREP_TALLY_DISTRICT, &idx);
            for (size_t i = 0; i < k; i++) need[re->dist_base + idx[i]] = 1;
        }
        if (re->view_muni) {
            size_t k = prep_tally_dirty_list(t, e, PREP_TALLY_MUNICIPALITY, &idx);
            for (size_t i = 0; i < k; i++) need[re->muni_base + idx[i]] = 1;
        }
        size_t k = prep_tally_dirty_list(t, e, PREP_TALLY_SECTION, &idx);
        for (size_t i = 0; i < k; i++) {
            if (re->sec_base != PREP_CAT_NONE) need[re->sec_base + idx[i]] = 1;
            need[s->secall_base + idx[i]] = 1;
        }
    }
    uint64_t dh = PREP_FNV1A_INIT;
    for (size_t i = 0; i < o->n_difusores; i++) dh = fnv(fnv(dh, o->difusores[i].name), o->difusores[i].url);
    if (dh != cache->dif_hash) need[s->difusores] = 1;
    need[s->db] = need[s->verify] = 0; /* per cut: rendered below, per tree */
    return dh;
}

/* The embebido/ variant of page i's body (emb_body); a failure unsets the main body too,
 * so that the next call renders both again. */
static prep_err ebody_render(rctx *x, prep_render_cache *cache, size_t i, rbuf *r)
{
    rb_reset(r);
    x->chart_no = 0;
    x->emb = 1;
    body_write(x, &cache->s.pages[i], 1, r);
    x->emb = 0;
    free(cache->ebody[i]);
    cache->ebody[i] = r->err ? NULL : prep_buf_steal(&r->b, &cache->ebody_len[i]);
    if (cache->ebody[i]) return PREP_OK;
    free(cache->body[i]);
    cache->body[i] = NULL;
    return r->err ? r->err : PREP_ERR_NOMEM;
}

/* Renders every body marked in need[] into the cache (and its open data), r the scratch. */
static prep_err bodies_render(rctx *x, prep_render_cache *cache, const uint8_t *need, rbuf *r,
                              prep_render_stats *stats)
{
    const rsite *s = &cache->s;
    for (size_t i = 0; i < s->n_pages; i++) {
        if (!need[i]) continue;
        if (thin_page(s, &s->pages[i])) { /* rendered as it is emitted, never kept (thin_page) */
            cache->thin[i] = 1;
            stats->bodies_rendered++;
            continue;
        }
        rb_reset(r);
        x->chart_no = 0;
        body_write(x, &s->pages[i], 0, r);
        if (r->err) {
            free(cache->body[i]);
            cache->body[i] = NULL;
            return r->err;
        }
        free(cache->body[i]);
        size_t bl;
        cache->body[i] = prep_buf_steal(&r->b, &bl);
        cache->body_len[i] = bl;
        if (!cache->body[i]) return PREP_ERR_NOMEM;
        if (x->o->embedded && emb_body(s, &s->pages[i])) {
            prep_err err = ebody_render(x, cache, i, r);
            if (err) return err;
        }
        prep_err err = od_cache(x, &s->pages[i], cache, i, r);
        if (err) return err;
        stats->bodies_rendered++;
    }
    return PREP_OK;
}

/* The database file just written into b (err: how that went) as f, hashed once: the
 * hash its page shows and the cut takes (prep_cut_file.sha256). b is emptied either way. */
static prep_err db_take(prep_err err, prep_buf *b, dbfile *f)
{
    if (err) {
        prep_buf_free(b);
        return err;
    }
    f->data = prep_buf_steal(b, &f->len); /* never NULL */
    prep_sha256(f->data, f->len, f->md);
    prep_hex(f->md, sizeof f->md, f->sha);
    return PREP_OK;
}

/* The cut's database: one CSV per election and LEEME.txt, into dbf (n_db of them). */
static prep_err db_files(const prep_tally *t, const prep_catalog *c, const prep_render_cut *cut,
                         prep_tally_db_rows *rows, dbfile *dbf, size_t *n_db)
{
    prep_buf b;
    for (uint32_t e = 0; e < c->n_elections; e++) {
        prep_buf_init(&b, 0);
        snprintf(dbf[*n_db].name, sizeof dbf[*n_db].name, "%s.csv", c->elections[e].id);
        prep_err err = db_take(prep_tally_db_write_csv_cached(t, e, cut->at, cut->final_cut, rows, &b), &b, &dbf[*n_db]);
        if (err) return err;
        (*n_db)++;
    }
    prep_buf_init(&b, 0);
    snprintf(dbf[*n_db].name, sizeof dbf[*n_db].name, "LEEME.txt");
    prep_err err = db_take(prep_tally_db_write_leeme(c, &b), &b, &dbf[*n_db]);
    if (err) return err;
    (*n_db)++;
    return PREP_OK;
}

/* The database files into out, with the hashes their page shows: the cut takes them
 * (prep_cut_file.sha256) instead of hashing ~72 MB again nationally. */
static prep_err db_add(prep_site *out, dbfile *dbf, size_t n_db)
{
    for (size_t i = 0; i < n_db; i++) {
        int csv = strstr(dbf[i].name, ".csv") != NULL;
        prep_err err = site_add(out, xasprintf("base-de-datos/%s", dbf[i].name), dbf[i].data, dbf[i].len,
                                csv ? "text/csv; charset=utf-8" : "text/plain; charset=utf-8", 0, 0);
        dbf[i].data = NULL;
        if (err) return err;
        out->v[out->n - 1].has_sha256 = 1;
        memcpy(out->v[out->n - 1].sha256, dbf[i].md, sizeof dbf[i].md);
    }
    return PREP_OK;
}

/* What every page says of the cut: its sequence, process and institute, its instant (human
 * and ISO 8601 with offset) and how long it stays current. PREP_ERR_INVALID: a time the
 * catalogue's zone cannot format. */
static prep_err cut_facts(const prep_catalog *c, const prep_render_cut *cut, cutinfo *ci)
{
    memset(ci, 0, sizeof *ci);
    snprintf(ci->seq, sizeof ci->seq, "%llu", (unsigned long long)cut->seq);
    ci->process = cut->process_name ? cut->process_name : c->process_name;
    ci->institute = c->institute;
    prep_time vu = cut->valid_until != PREP_TIME_NONE ? cut->valid_until : cut->at + 3 * (prep_time)c->cut_interval;
    if (prep_time_format(cut->at, c->timezone, PREP_TS_HUMAN, ci->human, sizeof ci->human) ||
        prep_time_format(cut->at, c->timezone, PREP_TS_ISO_OFF, ci->iso, sizeof ci->iso) ||
        prep_time_format(vu, c->timezone, PREP_TS_ISO_OFF, ci->valid, sizeof ci->valid))
        return PREP_ERR_INVALID;
    return PREP_OK;
}

/* corte.json: the cut's sequence, instants, drill flag, process and any override. */
static prep_err corte_json(const prep_catalog *c, const cutinfo *ci, const prep_render_cut *cut, rbuf *r,
                           prep_site *out)
{
    rb_reset(r);
    rb_printf(r,
              "{\"corte\":%s,\"instante\":\"%s\",\"vigente_hasta\":\"%s\",\"simulacro\":%s,\"proceso\":\"",
              ci->seq, ci->iso, ci->valid, cut->drill ? "true" : "false");
    /* process ids are [A-Za-z0-9_-] (catalogue rule): no JSON escaping needed */
    rb_puts(r, c->process_id);
    rb_puts(r, "\"");
    if (cut->override_reason) {
        rb_puts(r, ",\"excepcion\":{\"motivo\":");
        rb_json_str(r, cut->override_reason);
        rb_puts(r, ",\"detalle\":");
        rb_json_str(r, cut->overridden ? cut->overridden : "");
        rb_puts(r, "}");
    }
    rb_puts(r, "}\n");
    if (r->err) return r->err;
    size_t len;
    char *data = prep_buf_steal(&r->b, &len);
    return site_add(out, prep_xstrdup("corte.json"), data, len, "application/json", 0, 0);
}

prep_err prep_render_site(const prep_tally *t, const prep_render_cut *cut, const prep_render_opts *o,
                          prep_render_cache *cache, prep_site *out, prep_render_stats *st)
{
    prep_site old; /* the last site of this cache, for its buffers (reuse_buf) */
    prep_render_site_init(&old);
    if (cache && out->origin == cache && out->gen && out->gen == cache->gen) {
        old = *out;
        prep_render_site_init(out);
    } else {
        prep_render_site_free(out);
    }
    if (!t || !cut) {
        prep_render_site_free(&old);
        return PREP_ERR_INVALID;
    }
    prep_render_opts defo;
    if (!o) {
        prep_render_opts_init(&defo);
        o = &defo;
    }
    prep_render_cache *own = NULL;
    if (!cache) {
        prep_err e0 = prep_render_cache_new(&own);
        if (e0) return e0;
        cache = own;
    }
    const prep_catalog *c0 = prep_tally_catalog(t);
    if (cache->c != c0 || cache->t != t) prep_render_site_free(&old); /* another layout */
    prep_err err = cache_prepare(cache, t);
    if (err) {
        prep_render_site_free(&old);
        prep_render_cache_free(own);
        return err;
    }
    const prep_catalog *c = cache->c;
    const rsite *s = &cache->s;
    if (old.n && !out->v) { /* about the last site's files: one array, not grown by doubling */
        size_t cap = old.n + old.n / 16 + 16;
        if ((out->v = malloc(cap * sizeof *out->v))) out->cap = cap;
    }
    uint64_t fh = 0; /* frame_hash of this call */
    prep_render_stats stats;
    memset(&stats, 0, sizeof stats);

    rctx x;
    memset(&x, 0, sizeof x);
    x.t = t;
    x.c = c;
    x.s = s;
    x.cut = cut;
    x.o = o;
    x.final_cut = cut->final_cut;
    x.dec = (int)c->pct_decimals;
    size_t ns = (size_t)c->n_candidacies + c->n_parties + c->n_districts + c->n_municipalities + c->n_sections + 64;
    for (uint32_t e = 0; e < c->n_elections; e++)
        if (c->elections[e].n_cols > ns) ns = c->elections[e].n_cols + 64;
    x.n_scratch = ns;
    x.cv = calloc(ns, sizeof *x.cv);
    x.tmp = calloc(ns, sizeof *x.tmp);
    x.order = calloc(ns, sizeof *x.order);
    uint8_t *need = calloc(s->n_pages, 1);
    uint8_t *sec_need = NULL; /* rctx.sec_need */
    if (c->national && c->n_sections && c->n_elections)
        x.sec_need = sec_need = calloc((size_t)c->n_sections * c->n_elections, 1);
    rbuf r;
    rb_init(&r);
    dbfile *dbf = calloc((size_t)c->n_elections + 1, sizeof *dbf);
    size_t n_db = 0;
    if (!x.cv || !x.tmp || !x.order || !need || !dbf || (c->national && c->n_sections && c->n_elections && !sec_need)) {
        err = PREP_ERR_NOMEM;
        goto done;
    }

    /* --- which bodies to render */
    uint64_t dh = mark_needed(cache, t, o, cut, need, sec_need);

    /* --- render the bodies that changed into the cache */
    if ((err = bodies_render(&x, cache, need, &r, &stats))) goto done;
    cache->final_cut = cut->final_cut;
    for (uint32_t e = 0; e < c->n_elections; e++) cache->ooc[e] = prep_tally_n_out_of_catalog(t, e);
    cache->dif_hash = dh;

    /* --- per-cut facts */
    cutinfo ci;
    if ((err = cut_facts(c, cut, &ci))) goto done;
    fh = fnv(fnv(PREP_FNV1A_INIT, ci.process), ci.institute);
    if (fh != cache->frame_hash) prep_render_site_free(&old); /* other frames: nothing to reuse */

    /* --- the database of the cut */
    if ((err = db_files(t, c, cut, cache->db_rows, dbf, &n_db))) goto done;

    /* --- the stamp, shared by every page of the cut */
    rbuf sb;
    rb_init(&sb);
    frame_stamp(&x, &ci, &sb);
    if (sb.err) {
        err = sb.err;
        rb_free(&sb);
        goto done;
    }

    /* --- pages of both trees */
    err = pages_emit(&x, cache, &ci, &sb, need, dbf, n_db, &old, out, &r, &stats);
    rb_free(&sb);
    if (err) goto done;
    stats.bodies = s->n_pages;

    /* --- assets, database files, corte.json */
    {
        size_t jl;
        const char *js = js_text(&jl);
        if ((err = site_add_copy(out, s->css_path, s->css, s->css_len, "text/css; charset=utf-8")) ||
            (err = site_add_copy(out, s->js_path, js, jl, "text/javascript; charset=utf-8")))
            goto done;
        if ((err = db_add(out, dbf, n_db))) goto done;
        if ((err = corte_json(c, &ci, cut, &r, out))) goto done;
        if (o->progress && (err = progress_files(o->progress, t, cut, add_series, &(series_ctx){out, o->embedded})))
            goto done;
    }
    if ((err = od_emit(&x, cache, ci.seq, ci.iso, need, &old, out))) goto done;
    qsort(out->v, out->n, sizeof *out->v, cmp_file);
    for (size_t i = 1; i < out->n; i++)
        if (!strcmp(out->v[i - 1].path, out->v[i].path)) {
            err = PREP_ERR_INVALID; /* cannot happen with the reserved names; kept as a guard */
            goto done;
        }
    stats.files = out->n;
    for (size_t i = 0; i < out->n; i++) stats.bytes += out->v[i].len;

done:
    prep_render_site_free(&old);
    if (err) prep_render_site_free(out);
    if (!err && !own) {
        out->origin = cache;
        out->gen = ++cache->gen;
        cache->frame_hash = fh;
    } else if (cache && !own) {
        cache->gen++; /* no site of this cache is current any more */
    }
    if (dbf)
        for (size_t i = 0; i < n_db; i++) free(dbf[i].data);
    free(dbf);
    rb_free(&r);
    free(need);
    free(sec_need);
    free(x.cv);
    free(x.tmp);
    free(x.order);
    if (st) *st = stats;
    prep_render_cache_free(own);
    return err;
}

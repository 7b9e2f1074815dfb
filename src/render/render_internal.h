/* render: private declarations shared by the files of src/render/. */
#ifndef PREP_RENDER_INTERNAL_H
#define PREP_RENDER_INTERNAL_H

#include "prep/render.h"

/* ---------------------------------------------------------------- output buffer */
/* A prep_buf with a sticky error: after the first failure appends do nothing, and the
 * error is checked once at the end of a page. */
typedef struct rbuf {
    prep_buf b;
    prep_err err;
} rbuf;

void rb_init(rbuf *r);
void rb_free(rbuf *r);
void rb_reset(rbuf *r);
/* Inline, so that rb_puts of a literal (most of a page's markup) has its length counted
 * by the compiler rather than by strlen on every page. */
#include <string.h>
static inline void rb_put(rbuf *r, const char *s, size_t n)
{
    if (r->err || !n) return;
    r->err = prep_buf_add(&r->b, s, n);
}
static inline void rb_puts(rbuf *r, const char *s) { rb_put(r, s, strlen(s)); }
void rb_printf(rbuf *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text escaped for HTML text and attribute values (& < > " '). */
void rb_esc(rbuf *r, const char *s);
void rb_esc_nb(rbuf *r, const char *s); /* rb_esc; "2020-2021" kept on one line */
/* A JSON string literal (quotes included): '"', '\\' and control characters escaped. */
void rb_json_str(rbuf *r, const char *s);
/* An integer with thousands separators. */
void rb_int(rbuf *r, int64_t n);
/* v in plain decimal ("%u"): for the numbers of a page's markup, which rb_printf
 * formatted ~470,000 times in a busy cut. */
void rb_uint(rbuf *r, uint64_t v);
/* A truncated percentage (catalogue decimals) followed by '%'. */
void rb_pct(rbuf *r, int64_t num, int64_t den, int decimals);
/* "../" repeated depth times; "./" when depth is 0 and dir_self is set. */
void rb_up(rbuf *r, unsigned depth);

/* ---------------------------------------------------------------- the site's static layout */
typedef enum page_kind {
    PG_HOME = 0,
    PG_ENTITY,    /* one election, its top: the whole process (nation or entity) */
    PG_STATE,     /* one election, one entity of a national catalogue */
    PG_DISTRICT,  /* one election, one district */
    PG_MUNI,      /* one election, one municipality */
    PG_SECTION,   /* one election, one section with its casillas' actas */
    PG_DB,        /* base de datos (per cut) */
    PG_VERIFY,    /* cómo verificar este corte (per cut) */
    PG_DIFUSORES, /* official broadcasters (static, from opts) */
    PG_SECINDEX,  /* seccion/: the section lookup form (render_lookup.c); national: idx 0 the list of
                   * entities, idx ei + 1 the form of entity ei at seccion/EE/ */
    PG_SECMISS,   /* seccion/no-encontrada.html: the lookup's 404 page (national: seccion/EE/...) */
    PG_SECALL,    /* seccion/NNNN/ (national: seccion/EE/NNNN/): one section in every election */
    PG_SECLIST,   /* national: seccion/EE/<district>/ (idx a district) or seccion/EE/municipio-<slug>/
                   * (idx n_districts + a municipality): the unit's sections, links without figures
                   * (render_seclist.c) */
} page_kind;

typedef struct rpage {
    uint8_t kind;
    uint8_t depth;   /* directories below the site root */
    uint32_t e;      /* election (PG_ENTITY..PG_SECTION) */
    uint32_t idx;    /* district / municipality / section index */
    char *dir;       /* owned: "gubernatura/distrito-03/" ("" for the home) */
    char *title;     /* owned: page title, plain text (escaped when written) */
} rpage;

typedef struct relection {
    char *seg;              /* URL segment of the election ("gubernatura") */
    int view_dist, view_muni; /* which unit pages it has */
    uint8_t sec_level;      /* PREP_TALLY_DISTRICT or PREP_TALLY_MUNICIPALITY: the parent of its section pages */
    char **muni_seg;        /* per municipality: its URL segment (slug, or "municipio-<slug>" on a clash) */
    uint32_t entity_page;
    uint32_t state_base, dist_base, muni_base, sec_base; /* page index of unit 0 (PREP_CAT_NONE: no such pages) */
} relection;

/* Per candidacy, precomputed text. */
typedef struct rcand {
    char *label;    /* short contender label: "PAN", "PAN-QI", "Independiente" */
    char *group;    /* group key text for "leads in N units" (label; all independents share one) */
    uint32_t party; /* first party (colour), PREP_CAT_NONE for an independent */
} rcand;

typedef struct rsite {
    const prep_catalog *c;
    relection *el;
    rcand *cand;
    rpage *pages;
    size_t n_pages;
    uint32_t home, db, verify, difusores;
    uint32_t secindex, secmiss, secall_base; /* the section tree (render_lookup.c) */
    uint32_t secindex_base, secmiss_base; /* national: the per-entity lookup pages (PREP_CAT_NONE: none) */
    uint32_t seclist_base;  /* national: the section lists (PG_SECLIST), districts then municipalities
                             * (PREP_CAT_NONE: none); seclist_n of them */
    uint32_t seclist_n;
    char **ent_href;        /* national: per entity, "<slug>/", its page from an election's top page */
    uint32_t *n_sec_muni, *n_sec_dist; /* national: sections per municipality and per district
                                        * (block_seclist_link; counting them per page scanned all 71,049) */
    char *css;
    size_t css_len;
    char css_path[64], js_path[64];
    /* the municipality map, when the catalogue has outlines: see render_svg.c */
    int has_map;
} rsite;

prep_err rsite_build(const prep_catalog *c, rsite *s);
void rsite_free(rsite *s);

/* ---------------------------------------------------------------- assets */
/* The stylesheet for catalogue c (party colours as classes .cN) into r. */
void css_write(const prep_catalog *c, rbuf *r);
/* The script's text (static) and length. */
const char *js_text(size_t *len);

/* ---------------------------------------------------------------- rendering context */
typedef struct rctx {
    const prep_tally *t;
    const prep_catalog *c;
    const rsite *s;
    const prep_render_cut *cut;
    const prep_render_opts *o;
    int final_cut;
    int dec;            /* percentage decimals */
    unsigned chart_no;  /* per body: ids g1, g2... */
    /* scratch, sized from the catalogue */
    int64_t *cv;        /* candidacy votes */
    uint32_t *order;    /* sort scratch */
    int64_t *tmp;
    size_t n_scratch;
    int lean;           /* national profile's section page: the votes by candidacy and by party
                         * as tables, no SVG (the same numbers), no combinations or actas tables
                         * (the summary above them has the actas) */
    int emb;            /* national profile: rendering the embebido/ twin of a body whose
                         * section links leave the tree (emb_body: the lookup, the section lists) */
    const uint8_t *sec_need; /* national profile: [section * n_elections + e], 1 when the part of
                              * election e of the section's page and datos.json changed (sec_split) */
} rctx;

/* National profile (docs/formats/site.md): whether page p has a twin in embebido/ (the
 * home, each election's top, entity, district and municipality pages, and the pages the
 * nav and the lookup need), and whether its body differs there (its section links: the
 * lookup's form and the section lists, which never change with the numbers). */
int emb_has(const rsite *s, const rpage *p);
int emb_body(const rsite *s, const rpage *p);

/* Bodies (render_pages.c). Each writes the content of <main> for page p. */
void body_write(rctx *x, const rpage *p, int embedded, rbuf *r);

/* The database of the cut, made by render_site.c and published under base-de-datos/. */
typedef struct dbfile {
    char name[80];
    char *data; /* owned */
    size_t len;
    unsigned char md[32]; /* its SHA-256, shown on the page and given to the cut */
    char sha[65];         /* the same in hex */
} dbfile;

/* The per-cut pages (render_pages.c), rendered for each tree on every call. */
void body_db(rctx *x, rbuf *r, int emb, const dbfile *files, size_t n);
void body_verify(rctx *x, rbuf *r, const char *seq, const char *iso);

/* Shared pieces of the bodies (render_pages.c), used by render_lookup.c and render_opendata.c. */
int64_t total_votes(const rctx *x, uint32_t e, const prep_tally_agg *a);
uint32_t cand_unit(const rctx *x, uint32_t e, prep_tally_level lvl, uint32_t idx);
/* The tally level of a unit page: PG_ENTITY the NATION (an election's top), PG_STATE the
 * ENTITY, PG_DISTRICT, PG_MUNI, PG_SECTION theirs; PREP_TALLY_N_LEVELS for any other page. */
prep_tally_level page_level(const rpage *p);
/* The entity (index) of unit idx at level lvl (ENTITY: idx itself); PREP_CAT_NONE at the
 * NATION level and below sections. */
uint32_t unit_entity(const prep_catalog *c, prep_tally_level lvl, uint32_t idx);
/* One step of a page's path (<nav class="ruta">): a link to the page `up` directories
 * above this one, or the page itself (up 0, aria-current). */
void crumb(rbuf *r, unsigned up, const char *name);
/* A section page's heading: "Sección NNNN", then `first`, its district and municipality. */
void section_heading(const rctx *x, rbuf *r, const prep_cat_section *s, const char *first);
int col_shown(const rctx *x, uint32_t e, uint32_t u, uint32_t j);
int64_t kind_sum(const rctx *x, uint32_t e, uint32_t u, const prep_tally_agg *a, prep_cat_col_kind kind, int *any);
void casillas_text(rbuf *r, const prep_cat_casilla *k);
void summary(rctx *x, rbuf *r, uint32_t e, const prep_tally_agg *a);
/* Section si in election e: its votes (candidacies, parties, combinations, actas) and each
 * casilla's acta block, anchored "<anchor>casilla-KEY". */
void section_votes(rctx *x, rbuf *r, uint32_t e, uint32_t si, const char *anchor);
const char *acta_status_text(const prep_acta *a);
void acta_sha(rbuf *r, const prep_acta *a); /* <code>hex</code>, or a dash */

/* The section tree (render_lookup.c): seccion/, its 404 page, seccion/NNNN/. */
void body_secindex(rctx *x, const rpage *p, rbuf *r);
void body_secmiss(rctx *x, const rpage *p, rbuf *r);
void body_secall(rctx *x, const rpage *p, rbuf *r);
/* The section lists of a national catalogue (render_seclist.c; the pages are laid out by
 * render_site.c's section_tree): the body of one, and the block of a district or
 * municipality page that links to its list. */
void body_seclist(rctx *x, const rpage *p, rbuf *r);
void block_seclist_link(rctx *x, rbuf *r, const rpage *p);
/* body_secall in pieces (national profile, sec_split): the head (crumbs and heading), and
 * election e's block; head + every block is body_secall. */
void secall_head(rctx *x, const rpage *p, rbuf *r);
void secall_election(rctx *x, const rpage *p, uint32_t e, rbuf *r);
/* The lookup form; action is relative to the page ("seccion/", "./"). */
void secindex_form(rbuf *r, const char *action);
/* "Esta sección en todas las elecciones": a link from a page depth dirs deep to the
 * section's seccion/NNNN/ (national: seccion/EE/NNNN/). */
void secall_link(const prep_catalog *c, rbuf *r, unsigned depth, const prep_cat_section *s);
/* The section's directory in the section tree: "NNNN/" or, national, "EE/NNNN/" (a split
 * section's later parts: "NNNN-unit/", prep_catalog_section_name). */
void secall_dir(const prep_catalog *c, rbuf *r, const prep_cat_section *s);
/* The section's name in paths: prep_catalog_section_name of s. */
static inline void sec_name(const prep_catalog *c, const prep_cat_section *s, char out[48])
{
    prep_catalog_section_name(c, (uint32_t)(s - c->sections), out);
}

/* Open data (render_opendata.c): datos.json and datos.csv beside every unit page. */
void od_links(rbuf *r);
int od_has_data(const rpage *p);
/* Whether page p has a datos.csv besides its datos.json (national profile: not at section level). */
int od_has_csv(const prep_catalog *c, const rpage *p);
void od_links_page(const prep_catalog *c, const rpage *p, rbuf *r);
/* The JSON body (everything after the per-cut head) and the CSV of page p. */
void od_json_body(rctx *x, const rpage *p, rbuf *r);
void od_csv(rctx *x, const rpage *p, rbuf *r);
/* The per-cut head of every datos.json, its end: '"corte":{...}}' and a newline (the same
 * bytes in every file; the body before it is '{', the figures, ','). */
void od_json_head(rctx *x, const char *seq, const char *iso, rbuf *r);
/* od_json_body of a section's page in pieces (sec_split): the unit and the opening of the
 * list of elections, then election e's object (with its leading comma, and the list's and
 * the file's end after the last): their concatenation is od_json_body. */
void od_secall_unit(rctx *x, const rpage *p, rbuf *r);
void od_secall_election(rctx *x, const rpage *p, uint32_t e, rbuf *r);
/* The JSON Schema shipped as datos/esquema.json (static). */
const char *od_schema(size_t *len);

/* a + b + c (owned), or NULL when memory ran out: a file's path. Not printf: every cut
 * asks for every page's and datos.json's path (~220,000 at national scale), and a format
 * with its buffer grown cost two allocations and ~0.3 us each. */
char *rpath(const char *a, const char *b, const char *c);
/* Adds a file to a site under construction (render_site.c); takes path and data. */
prep_err site_add(prep_site *out, char *path, void *data, size_t len, const char *mt, int is_page, int fresh);

/* ---------------------------------------------------------------- composed files' parts
 * The one place that says where each part of a composed file is (prep_site_file.part_len).
 * A page is pre | body | post | stamp:
 *   - pre: the head and the header (the page and the tree), body: nav, the page's body and
 *     "</main>" (the numbers; the same bytes in both trees), post: the footer (the page and
 *     the tree; a page of the embedded tree has none, so no post part);
 *   - a national section page (sec_split) has one body part per election and no pre or post
 *     part of its own: its first election's part starts with pre, its last one ends with
 *     post (a part costs a manifest field, a hash and a store check every cut, 71,049 times);
 *   - the stamp is last: all the cut's text and "</body></html>\n", the same bytes on every
 *     page of the cut. SHA-256 runs front to back, so a cut hashes a reused page from the
 *     state kept after the parts before the stamp (prep_cut_file.hash_prefix), not whole.
 * A datos.json is its body parts | the per-cut head. Code asks these, not fixed numbers. */
enum { PAGE_PART_PRE = 0, PAGE_PART_BODY = 1, PAGE_PART_POST = 2 };
/* The parts of a page with nb body parts: split, a national section page's; emb, a page of
 * the embedded tree (not split). */
static inline size_t page_parts(size_t nb, int split, int emb)
{
    return split ? nb + 1 : emb ? 3 : 4;
}
static inline size_t page_part_stamp(size_t nb, int split, int emb)
{
    return page_parts(nb, split, emb) - 1;
}
enum { JSON_PART_BODY = 0 };
#define JSON_PART_HEAD(nb) ((size_t)JSON_PART_BODY + (nb))
#define JSON_PARTS(nb) ((size_t)(nb) + 1)

/* The last site's buffers (render_site.c, "reusing the last site"). The file's path is
 * the concatenation a b c, looked up in old without building it: on reuse the new file
 * takes old's path string too (prep_site_file.path_lent). */
int reuse_file(prep_site *old, prep_site *out, const char *a, const char *b, const char *c, const char *mt,
               int is_page, uint8_t n_parts, size_t vary, const void *v, size_t vlen, size_t keep_part,
               size_t keep_len, prep_err *err);
void old_drop(prep_site *old, const char *path);
/* prep_render_site_find, looking first at the few files after the last one found: a
 * render asks for the last site's files in nearly the site's order (a section's page,
 * then the next section's), and a binary search of 147,000 paths with long common
 * prefixes was ~6 % of a busy national cut's render. */
prep_site_file *site_find_near(prep_site *s, const char *path);
/* The same for the path a b c (concatenated), without building it. */
prep_site_file *site_find_near3(prep_site *s, const char *a, const char *b, const char *c);
/* Parts held by the store only (render_shed.c): the offset in f->data of part k, and the
 * index in stored_sha of stored part k. */
size_t site_data_off(const prep_site_file *f, size_t k);
size_t site_stored_rank(uint32_t stored, size_t k);
/* The parts of want that sha() names leave f's data (*gone += their bytes; gone may be NULL). */
void site_file_shed(prep_site_file *f, uint32_t want, prep_render_part_sha_fn sha, void *ctx, uint64_t *gone);

/* National section pages split per election (render_secparts.c, docs/formats/site.md
 * "National profile"): the number of election parts of page p's body and datos.json body,
 * 0 when p is not split (a local catalogue, another page kind, too many elections). */
size_t sec_split(const rsite *s, const rpage *p);
/* Marks in x->sec_need (n_sections * n_elections, zeroed) the election parts the tally
 * marks dirty; every part of a section when all is set. */
void sec_mark(const rsite *s, const prep_tally *t, int all, uint8_t *sec_need);
/* Adds split page p to out: each election's block (the first after pre and the heading,
 * the last before post), then the stamp (sb). An election's part whose inputs did not
 * change is copied from the last site's page (old; then freed), the others rendered;
 * without a usable last page, every part is rendered. pre and post come from frame
 * (render_site.c's frame, a callback so that it stays there). */
typedef void (*sec_frame_fn)(rctx *x, const void *ci, const rpage *p, int which, rbuf *r);
enum { SEC_FRAME_PRE, SEC_FRAME_NAV, SEC_FRAME_POST };
prep_err sec_page_emit(rctx *x, const void *ci, sec_frame_fn frame, const rpage *p, const void *stamp, size_t slen,
                       int fresh, prep_site *old, prep_site *out, rbuf *r);
/* The same for its datos.json (head: the cut's JSON head). */
prep_err sec_json_emit(rctx *x, const rpage *p, const void *head, size_t hlen, prep_site *old, prep_site *out,
                       rbuf *r);

/* Participation of an aggregate: numerator per the catalogue's specials mode. */
int64_t part_num(const rctx *x, const prep_tally_agg *a);

/* Leading candidacy of unit u of election e over aggregate a: its index in the catalogue's
 * candidacies, or PREP_CAT_NONE when nothing is counted; *tie set when two share the lead. */
uint32_t lead_of(rctx *x, uint32_t e, uint32_t u, const prep_tally_agg *a, int *tie);

/* ---------------------------------------------------------------- SVG (render_svg.c) */
typedef struct rbar {
    const char *label;  /* plain text */
    int64_t value;
    const char *color;  /* "#RRGGBB" */
} rbar;

/* A horizontal bar chart: role="img", <title>, <desc>; the numbers are in the table the
 * caller wrote just before it. */
void svg_bars(rctx *x, rbuf *r, const char *title, const rbar *bars, size_t n, int64_t total);
/* Actas progress: contabilizadas / capturadas no contabilizadas / pendientes. */
void svg_actas(rctx *x, rbuf *r, const prep_tally_agg *a);
/* Participation: one bar of 0..100 %. */
void svg_participation(rctx *x, rbuf *r, int64_t num, int64_t den);
/* Whether catalogue c carries municipality outlines (the map is drawn by render_pages.c). */
int map_available(const prep_catalog *c);

/* ---------------------------------------------------------------- maps (render_entity_map.c) */
/* Shared by the municipality map and the entity map. */
const char *party_color(const rctx *x, uint32_t p);          /* "#RRGGBB"; an independent's grey */
void swatch_cand(const rctx *x, rbuf *r, uint32_t k);         /* the legend swatch of candidacy k */
/* Who leads each of the nu units of level lvl in election e, by candidacy group: gk[g] is a
 * candidacy of group g and gc[g] the units it leads (the groups returned, at most
 * x->n_scratch); *ties and *none count the units with a tie and with no votes. lead (NULL:
 * not wanted) gets each unit's leading candidacy, PREP_CAT_NONE without votes, or tie_mark
 * on a tie (render_pages.c). */
size_t lead_groups(rctx *x, uint32_t e, prep_tally_level lvl, uint32_t nu, uint32_t *gk, int64_t *gc,
                   uint32_t *ties, uint32_t *none, uint32_t *lead, uint32_t tie_mark);

/* One map: its units (a level of the tally), their outlines and links, and its words. */
typedef struct rmap {
    prep_tally_level lvl;       /* PREP_TALLY_MUNICIPALITY or PREP_TALLY_ENTITY */
    uint32_t n;                 /* units at that level */
    char *const *shape;         /* per unit: catalogue path data, or NULL (not drawn) */
    const char *const *href;    /* per unit: its page, relative to this page (NULL entry or
                                 * array: drawn without a link) */
    const char *href_suffix;    /* appended to every href ("/"), or NULL */
    const char *pat;            /* id prefix of the coalition stripe patterns ("mp") */
    const char *title_id;       /* id of the svg's <title> ("mapa-t") */
    const char *heading, *title;/* the h2 and the svg's title (UTF-8, no markup) */
    const char *one, *many;     /* the legend's unit word: "municipio", "municipios" */
} rmap;

/* The map of election e: h2, the svg (role="group", <title>), one <a aria-label> per unit
 * with a shape, the text legend (docs/formats/site.md "Charts and the map"). */
void map_draw(rctx *x, rbuf *r, uint32_t e, const rmap *m);
/* Whether catalogue c carries entity outlines (a national catalogue's map). */
int entity_map_available(const prep_catalog *c);
/* The entity map of election e for its nation page: each entity links to href[ei] (its
 * page relative to the nation page, e.g. "aguascalientes/"; borrowed, n_entities entries;
 * NULL: no links) and is filled by who leads at the ENTITY level. Writes nothing when the
 * catalogue has no entity outlines or e's candidacies are per district or municipality. */
void block_entity_map(rctx *x, rbuf *r, uint32_t e, const char *const *href);

/* ---------------------------------------------------------------- progress (render_progress.c) */
/* The night's progress block of election e's page (chart and table), when o->progress. */
void block_progress(rctx *x, rbuf *r, uint32_t e);
/* Each election's series file (avance/<id>.json): history + this cut's point, passed to
 * add (which takes path and data). */
prep_err progress_files(const prep_render_progress *p, const prep_tally *t, const prep_render_cut *cut,
                        prep_err (*add)(void *ctx, char *path, char *data, size_t len), void *ctx);

#define RENDER_INDEP_COLOR "#6B6B6B"

#endif

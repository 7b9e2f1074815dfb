/* prep catalog: writing a catalogue back in the file format (docs/formats/catalog.md).
 *
 * The output is canonical: sections in one fixed order, every key written (defaults
 * too), sections and casillas in their sorted order, no comments. Reading it back gives
 * the same catalogue, and writing that again gives the same bytes. A catalogue with a map
 * gets map_viewbox in [process] and the [shapes] table last. A value that would
 * not read back as written (a '|' in a name, a line break, a comment marker, blanks at
 * an edge) makes the whole write fail with PREP_ERR_INVALID: nothing is appended. */
#include "catalog_internal.h"

#include <stdarg.h>
#include <string.h>

typedef struct wctx {
    prep_buf b;
    prep_err err;
} wctx;

static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }

/* Whether text v reads back unchanged as a value. in_table: '|' is the separator there.
 * last: nothing follows on the line (a trailing " #" would start a comment). */
static int writable(const char *v, int in_table, int last)
{
    if (!v) return 0;
    size_t n = strlen(v);
    if (n > PREP_CAT_MAX_LINE / 2) return 0;
    if (!prep_utf8_valid(v, n)) return 0;
    if (n && (is_blank(v[0]) || is_blank(v[n - 1]))) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return 0;
        if (ch == '|' && in_table) return 0;
        if (ch == '#' && i > 0 && is_blank(v[i - 1]) && (v[i + 1] ? is_blank(v[i + 1]) : last)) return 0;
    }
    return 1;
}

static void put(wctx *w, const char *s)
{
    if (!w->err) w->err = prep_buf_puts(&w->b, s);
}

__attribute__((format(printf, 2, 3))) static void putf(wctx *w, const char *fmt, ...)
{
    if (w->err) return;
    va_list ap;
    va_start(ap, fmt);
    w->err = prep_buf_vprintf(&w->b, fmt, ap);
    va_end(ap);
}

static void bad(wctx *w)
{
    if (!w->err) w->err = PREP_ERR_INVALID;
}

/* key = value; "" for the empty string. */
static void put_kv(wctx *w, const char *key, const char *v)
{
    if (!v) {
        bad(w);
        return;
    }
    /* a value of two quotes would read back empty; a leading "# " would be a comment */
    if (!writable(v, 0, 1) || !strcmp(v, "\"\"") || (v[0] == '#' && (!v[1] || is_blank(v[1])))) {
        bad(w);
        return;
    }
    putf(w, "%s = %s\n", key, *v ? v : "\"\"");
}

/* One table field: text, then '|' or the line end. */
static void put_field(wctx *w, const char *v, int last)
{
    if (!writable(v, 1, last)) {
        bad(w);
        return;
    }
    put(w, v);
    put(w, last ? "\n" : "|");
}

static void put_num(wctx *w, uint32_t v, int last) { putf(w, "%u%c", (unsigned)v, last ? '\n' : '|'); }

static void write_process(wctx *w, const prep_catalog *c)
{
    put(w, "prep-catalog 1\n\n[process]\n");
    if (!c->process_id || !cat_valid_id(c->process_id)) bad(w);
    put_kv(w, "id", c->process_id);
    put_kv(w, "name", c->process_name);
    put_kv(w, "institute", c->institute);
    putf(w, "entity_id = %u\n", (unsigned)c->entity_id);
    if (c->national ? c->entity_id != 0 : (c->entity_id < 1 || c->entity_id > PREP_CAT_MAX_ENTITY_ID)) bad(w);
    put_kv(w, "entity", c->entity_name);
    put_kv(w, "timezone", c->timezone);
    char t[64];
    if (!c->timezone || prep_time_format(c->window_open, c->timezone, PREP_TS_ISO, t, sizeof t)) bad(w);
    else put_kv(w, "window_open", t);
    if (!c->timezone || prep_time_format(c->window_close, c->timezone, PREP_TS_ISO, t, sizeof t)) bad(w);
    else put_kv(w, "window_close", t);
    putf(w, "cut_interval = %u\n", (unsigned)c->cut_interval);
    if (!c->combo_prefix || (*c->combo_prefix && !cat_valid_id(c->combo_prefix))) bad(w);
    put_kv(w, "combo_prefix", c->combo_prefix);
    put_kv(w, "independents_first", c->independents_first ? "yes" : "no");
    if (c->csv_sep != '|' && c->csv_sep != ',') bad(w);
    putf(w, "csv_separator = %c\n", c->csv_sep);
    if (c->pct_decimals > 9) bad(w);
    putf(w, "percent_decimals = %u\n", (unsigned)c->pct_decimals);
    if (c->has_map) {
        const uint32_t *v = c->map_viewbox;
        if (v[0] > PREP_CAT_MAX_MAP_COORD || v[1] > PREP_CAT_MAX_MAP_COORD || v[2] < 1 || v[2] > PREP_CAT_MAX_MAP_COORD ||
            v[3] < 1 || v[3] > PREP_CAT_MAX_MAP_COORD)
            bad(w);
        putf(w, "map_viewbox = %u %u %u %u\n", (unsigned)v[0], (unsigned)v[1], (unsigned)v[2], (unsigned)v[3]);
    }

    put(w, "\n[labels]\n");
    put_kv(w, "some_illegible", c->labels.some_illegible);
    put_kv(w, "all_illegible", c->labels.all_illegible);
    put_kv(w, "exceeds_ln", c->labels.exceeds_ln);
    put_kv(w, "no_acta_not_delivered", c->labels.no_acta_not_delivered);
    put_kv(w, "no_acta_not_installed", c->labels.no_acta_not_installed);
    put_kv(w, "no_acta_no_envelope", c->labels.no_acta_no_envelope);
    put_kv(w, "out_of_catalog", c->labels.out_of_catalog);

    const prep_rules *r = &c->rules;
    const char *sp = prep_catalog_rules_specials_name(r->specials);
    char inc[96];
    prep_catalog_rules_inconsistent_text(r->inconsistent, inc, sizeof inc);
    if (!sp || !*r->name || !cat_valid_id(r->name)) bad(w);
    put(w, "\n[rules]\n");
    put_kv(w, "profile", r->name);
    put_kv(w, "inconsistent", inc);
    put_kv(w, "no_counted_out_of_catalog", r->no_counted_out_of_catalog ? "yes" : "no");
    put_kv(w, "no_counted_no_acta", r->no_counted_no_acta ? "yes" : "no");
    if (sp) put_kv(w, "participation_specials", sp);
    put_kv(w, "cap_representatives", r->cap_representatives ? "yes" : "no");
    putf(w, "special_ballots = %u\n", (unsigned)r->special_ballots);
    if (r->published) put_kv(w, "published", "yes"); /* only a derived catalogue's */
    if (r->other_types[0]) put_kv(w, "other_casilla_types", r->other_types);
}

static void write_geo(wctx *w, const prep_catalog *c)
{
    int spelled = 0; /* the combo_name column only when a party has one */
    for (uint32_t i = 0; i < c->n_parties; i++) spelled |= c->parties[i].combo_name != NULL;
    put(w, spelled ? "\n[parties]\nid|name|color|combo_name\n" : "\n[parties]\nid|name|color\n");
    for (uint32_t i = 0; i < c->n_parties && !w->err; i++) {
        const prep_cat_party *p = &c->parties[i];
        if (!p->id || !cat_valid_id(p->id)) bad(w);
        put_field(w, p->id, 0);
        put_field(w, p->name, 0);
        put_field(w, p->color, !spelled);
        if (spelled) put_field(w, p->combo_name ? p->combo_name : "", 1);
    }
    /* A national catalogue lists its entities and names the entity on every row of the
     * geography; a local one writes exactly what it always did. */
    int nat = c->national;
    if (nat) {
        put(w, "\n[entities]\nid|name|circ\n");
        for (uint32_t i = 0; i < c->n_entities && !w->err; i++) {
            put_num(w, c->entities[i].id, 0);
            put_field(w, c->entities[i].name, 0);
            put_num(w, c->entities[i].circ, 1);
        }
    }
    put(w, nat ? "\n[districts]\nentity|id|name\n" : "\n[districts]\nid|name\n");
    for (uint32_t i = 0; i < c->n_districts && !w->err; i++) {
        if (nat) put_num(w, cat_entity_id(c, c->districts[i].entity), 0);
        put_num(w, c->districts[i].id, 0);
        put_field(w, c->districts[i].name, 1);
    }
    put(w, nat ? "\n[municipalities]\nentity|id|name\n" : "\n[municipalities]\nid|name\n");
    for (uint32_t i = 0; i < c->n_municipalities && !w->err; i++) {
        if (nat) put_num(w, cat_entity_id(c, c->municipalities[i].entity), 0);
        put_num(w, c->municipalities[i].id, 0);
        put_field(w, c->municipalities[i].name, 1);
    }
    put(w, nat ? "\n[sections]\nentity|id|district|municipality\n" : "\n[sections]\nid|district|municipality\n");
    for (uint32_t i = 0; i < c->n_sections && !w->err; i++) {
        const prep_cat_section *s = &c->sections[i];
        if (s->district >= c->n_districts || s->municipality >= c->n_municipalities) {
            bad(w);
            break;
        }
        if (nat) put_num(w, cat_entity_id(c, s->entity), 0);
        put_num(w, s->id, 0);
        put_num(w, c->districts[s->district].id, 0);
        put_num(w, c->municipalities[s->municipality].id, 1);
    }
    /* split sections (catalog.h): each casilla names its part */
    int split = 0;
    for (uint32_t i = 0; i < c->n_sections && !split; i++) split = prep_catalog_section_parts(c, i, NULL, NULL) > 1;
    put(w, nat ? "\n[casillas]\nentity|section|type|number|ext|urban|lista_nominal|representatives|ballots"
               : "\n[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots");
    put(w, split ? "|district|municipality\n" : "\n");
    for (uint32_t i = 0; i < c->n_casillas && !w->err; i++) {
        const prep_cat_casilla *k = &c->casillas[i];
        if (k->section >= c->n_sections || !prep_catalog_type_valid(&c->rules, k->type)) {
            bad(w);
            break;
        }
        const prep_cat_section *s = &c->sections[k->section];
        if (nat) put_num(w, cat_entity_id(c, s->entity), 0);
        putf(w, "%u|%c|%u|%u|%u|%u|%u|%u", (unsigned)s->id, k->type, (unsigned)k->number, (unsigned)k->ext,
             (unsigned)k->urban, (unsigned)k->lista_nominal, (unsigned)k->representatives, (unsigned)k->ballots);
        if (split) /* the sections were checked above */
            putf(w, "|%u|%u", (unsigned)c->districts[s->district].id, (unsigned)c->municipalities[s->municipality].id);
        put(w, "\n");
    }
}

static void write_elections(wctx *w, const prep_catalog *c)
{
    int nat = c->national;
    /* The extra acta types are written only when some election has them. */
    int types = 0;
    for (uint32_t e = 0; e < c->n_elections; e++) {
        const prep_cat_election *el = &c->elections[e];
        if (el->special_acta_type != el->acta_type || el->abroad_acta_type != el->acta_type || el->rp_acta_type)
            types = 1;
    }
    /* and the independent columns only when some election declares them */
    int indep = 0;
    for (uint32_t e = 0; e < c->n_elections; e++) indep |= c->elections[e].n_indep_declared != 0;
    put(w, types ? "\n[elections]\nid|name|title|scope|acta_type|parties|special_acta_type|abroad_acta_type|"
                   "rp_acta_type"
                 : "\n[elections]\nid|name|title|scope|acta_type|parties");
    put(w, indep ? "|independents\n" : "\n");
    for (uint32_t e = 0; e < c->n_elections && !w->err; e++) {
        const prep_cat_election *el = &c->elections[e];
        const char *scope = cat_scope_name(el->scope);
        if (!el->id || !cat_valid_id(el->id) || !scope || (el->n_cols && !el->cols)) {
            bad(w);
            break;
        }
        put_field(w, el->id, 0);
        put_field(w, el->name, 0);
        put_field(w, el->title, 0);
        put_field(w, scope, 0);
        put_num(w, el->acta_type, 0);
        int first = 1;
        for (uint32_t k = 0; k < el->n_cols; k++) {
            const prep_cat_column *col = &el->cols[k];
            if (col->kind != PREP_CAT_COL_PARTY) continue;
            if (col->parties[0] >= c->n_parties) {
                bad(w);
                break;
            }
            if (!first) put(w, " ");
            put(w, c->parties[col->parties[0]].id);
            first = 0;
        }
        if (types && el->abroad_acta_type == PREP_CAT_ACTA_NONE)
            putf(w, "|%u|-|%u%s", (unsigned)el->special_acta_type, (unsigned)el->rp_acta_type, el->rp_acta_mark);
        else if (types)
            putf(w, "|%u|%u|%u%s", (unsigned)el->special_acta_type, (unsigned)el->abroad_acta_type,
                 (unsigned)el->rp_acta_type, el->rp_acta_mark);
        if (indep) put(w, "|");
        if (indep && el->indep_names)
            for (uint32_t k = 0; k < el->n_indep_declared; k++) {
                if (k) put(w, " ");
                put(w, el->indep_names[k]);
            }
        else if (indep && el->n_indep_declared)
            putf(w, "%u", (unsigned)el->n_indep_declared);
        put(w, "\n");
    }
    put(w, "\n[coalitions]\nelection|id|name|parties\n");
    for (uint32_t i = 0; i < c->n_coalitions && !w->err; i++) {
        const prep_cat_coalition *co = &c->coalitions[i];
        if (co->election >= c->n_elections || !co->id || !cat_valid_id(co->id) ||
            co->n_parties > PREP_CAT_MAX_COALITION_PARTIES) {
            bad(w);
            break;
        }
        put_field(w, c->elections[co->election].id, 0);
        put_field(w, co->id, 0);
        put_field(w, co->name, 0);
        for (uint32_t j = 0; j < co->n_parties; j++) {
            if (co->parties[j] >= c->n_parties) {
                bad(w);
                break;
            }
            if (j) put(w, " ");
            put(w, c->parties[co->parties[j]].id);
        }
        put(w, "\n");
    }
    put(w, "\n[candidacies]\nelection|unit|contender|name\n");
    for (uint32_t i = 0; i < c->n_candidacies && !w->err; i++) {
        const prep_cat_candidacy *cd = &c->candidacies[i];
        if (cd->election >= c->n_elections) {
            bad(w);
            break;
        }
        const prep_cat_election *el = &c->elections[cd->election];
        put_field(w, el->id, 0);
        if (el->scope == PREP_CAT_SCOPE_NATION || (el->scope == PREP_CAT_SCOPE_ENTITY && !nat)) put(w, "*|");
        else if (el->scope == PREP_CAT_SCOPE_ENTITY && cd->unit < c->n_entities)
            put_num(w, c->entities[cd->unit].id, 0);
        else if (el->scope == PREP_CAT_SCOPE_DISTRICT && cd->unit < c->n_districts) {
            if (nat) putf(w, "%u-", (unsigned)cat_entity_id(c, c->districts[cd->unit].entity));
            put_num(w, c->districts[cd->unit].id, 0);
        } else if (el->scope == PREP_CAT_SCOPE_MUNICIPALITY && cd->unit < c->n_municipalities) {
            if (nat) putf(w, "%u-", (unsigned)cat_entity_id(c, c->municipalities[cd->unit].entity));
            put_num(w, c->municipalities[cd->unit].id, 0);
        } else {
            bad(w);
            break;
        }
        const char *who = NULL;
        if (cd->kind == PREP_CAT_CAND_PARTY && cd->ref < c->n_parties) who = c->parties[cd->ref].id;
        else if (cd->kind == PREP_CAT_CAND_COALITION && cd->ref < c->n_coalitions) who = c->coalitions[cd->ref].id;
        else if (cd->kind == PREP_CAT_CAND_INDEP && cd->ref < el->n_cols && el->cols[cd->ref].kind == PREP_CAT_COL_INDEP)
            who = el->cols[cd->ref].name;
        if (!who) {
            bad(w);
            break;
        }
        put_field(w, who, 0);
        put_field(w, cd->name, 1);
    }
}

prep_err prep_catalog_write(const prep_catalog *c, prep_buf *out)
{
    if (!c || !out) return PREP_ERR_USAGE;
    wctx w = {.err = PREP_OK};
    prep_buf_init(&w.b, 0);
    write_process(&w, c);
    write_geo(&w, c);
    write_elections(&w, c);
    if (c->has_map && !w.err) {
        prep_err e = prep_catalog_write_shapes(c, &w.b);
        if (e) w.err = e;
    }
    if (!w.err) w.err = prep_buf_append(out, w.b.data, w.b.len);
    prep_buf_free(&w.b);
    return w.err;
}

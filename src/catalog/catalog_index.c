/* prep catalog: lookup tables (a small open-addressing hash), keys, unit helpers, free. */
#include "catalog_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- hashing */
uint32_t cat_hash_str(const char *s)
{
    /* FNV-1a, then a final avalanche so linear probing sees well-spread low bits. */
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return cat_hash_u32(h);
}

uint32_t cat_hash_u32(uint32_t v)
{
    /* murmur3 fmix32 */
    v ^= v >> 16;
    v *= 0x85ebca6bu;
    v ^= v >> 13;
    v *= 0xc2b2ae35u;
    v ^= v >> 16;
    return v;
}

uint32_t cat_hash_coalition(uint32_t election, const char *id)
{
    return cat_hash_str(id) ^ cat_hash_u32(election + 0x9e3779b9u);
}

/* ---------------------------------------------------------------- map */
int cat_map_init(cat_map *m, size_t expected)
{
    memset(m, 0, sizeof *m);
    size_t cap = 8;
    while (cap < expected * 2 + 2) cap *= 2;
    m->slot = calloc(cap, sizeof *m->slot);
    m->hash = malloc(cap * sizeof *m->hash);
    if (!m->slot || !m->hash) {
        cat_map_free(m);
        return -1;
    }
    m->mask = cap - 1;
    return 0;
}

void cat_map_free(cat_map *m)
{
    free(m->slot);
    free(m->hash);
    memset(m, 0, sizeof *m);
}

uint32_t cat_map_find(const cat_map *m, uint32_t h, cat_map_eq eq, const void *ctx, const void *key)
{
    if (!m->slot) return PREP_CAT_NONE;
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        uint32_t s = m->slot[i];
        if (!s) return PREP_CAT_NONE;
        if (m->hash[i] == h && eq(ctx, s - 1, key)) return s - 1;
    }
}

static void map_insert_raw(cat_map *m, uint32_t h, uint32_t idx)
{
    size_t i = h & m->mask;
    while (m->slot[i]) i = (i + 1) & m->mask;
    m->slot[i] = idx + 1;
    m->hash[i] = h;
    m->n++;
}

int cat_map_put(cat_map *m, uint32_t h, uint32_t idx)
{
    if (!m->slot && cat_map_init(m, 4)) return -1;
    if ((m->n + 1) * 2 > m->mask + 1) {
        cat_map g;
        if (cat_map_init(&g, (m->mask + 1))) return -1;
        for (size_t i = 0; i <= m->mask; i++)
            if (m->slot[i]) map_insert_raw(&g, m->hash[i], m->slot[i] - 1);
        cat_map_free(m);
        *m = g;
    }
    map_insert_raw(m, h, idx);
    return 0;
}

/* ---------------------------------------------------------------- equality callbacks */
int cat_eq_party(const void *ctx, uint32_t idx, const void *key)
{
    const prep_catalog *c = ctx;
    return strcmp(c->parties[idx].id, key) == 0;
}

int cat_eq_district(const void *ctx, uint32_t idx, const void *key)
{
    const prep_catalog *c = ctx;
    const prep_cat_district *d = &c->districts[idx];
    return cat_geo_key(cat_entity_id(c, d->entity), d->id) == *(const uint32_t *)key;
}

int cat_eq_municipality(const void *ctx, uint32_t idx, const void *key)
{
    const prep_catalog *c = ctx;
    const prep_cat_municipality *m = &c->municipalities[idx];
    return cat_geo_key(cat_entity_id(c, m->entity), m->id) == *(const uint32_t *)key;
}

int cat_eq_section(const void *ctx, uint32_t idx, const void *key)
{
    const prep_catalog *c = ctx;
    const prep_cat_section *s = &c->sections[idx];
    return cat_geo_key(cat_entity_id(c, s->entity), s->id) == *(const uint32_t *)key;
}

int cat_eq_election(const void *ctx, uint32_t idx, const void *key)
{
    const prep_catalog *c = ctx;
    return strcmp(c->elections[idx].id, key) == 0;
}

int cat_eq_casilla(const void *ctx, uint32_t idx, const void *key)
{
    const prep_catalog *c = ctx;
    return strcmp(c->casillas[idx].key, key) == 0;
}

int cat_eq_coalition(const void *ctx, uint32_t idx, const void *key)
{
    const prep_catalog *c = ctx;
    const cat_coal_key *k = key;
    return c->coalitions[idx].election == k->election && strcmp(c->coalitions[idx].id, k->id) == 0;
}

typedef struct col_ctx {
    const prep_cat_election *el;
} col_ctx;

static int eq_col(const void *ctx, uint32_t idx, const void *key)
{
    const col_ctx *x = ctx;
    return strcmp(x->el->cols[idx].name, key) == 0;
}

/* ---------------------------------------------------------------- index */
void cat_index_free(cat_index *x)
{
    if (!x) return;
    cat_map_free(&x->casilla);
    cat_map_free(&x->district);
    cat_map_free(&x->municipality);
    cat_map_free(&x->party);
    cat_map_free(&x->election);
    cat_map_free(&x->coalition);
    cat_map_free(&x->section);
    if (x->cols)
        for (uint32_t e = 0; e < x->n_elections; e++) cat_map_free(&x->cols[e]);
    free(x->cols);
    free(x);
}

/* A hand-built catalogue without entities gets its one entity from [process]. */
static prep_err own_entity(prep_catalog *c)
{
    if (c->entities && c->n_entities) return PREP_OK;
    free(c->entities);
    c->entities = calloc(1, sizeof *c->entities);
    if (!c->entities) return PREP_ERR_NOMEM;
    const char *name = c->entity_name ? c->entity_name : "";
    c->entities[0].id = c->entity_id;
    c->entities[0].name = strdup(name);
    c->entities[0].slug = prep_slugify(name);
    if (!c->entities[0].name || !c->entities[0].slug) return PREP_ERR_NOMEM; /* freed with c */
    c->n_entities = 1;
    for (uint32_t i = 0; i < c->n_districts; i++) c->districts[i].entity = 0;
    for (uint32_t i = 0; i < c->n_municipalities; i++) c->municipalities[i].entity = 0;
    for (uint32_t i = 0; i < c->n_sections; i++) c->sections[i].entity = 0;
    return PREP_OK;
}

/* Adds each of n entries to m under its key, the first occurrence winning. */
static int index_geo(const prep_catalog *c, cat_map *m, cat_map_eq eq, uint32_t n, const uint32_t *ents,
                     const uint32_t *ids, size_t stride)
{
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t *e = (const uint32_t *)((const char *)ents + i * stride);
        const uint32_t *id = (const uint32_t *)((const char *)ids + i * stride);
        uint32_t key = cat_geo_key(cat_entity_id(c, *e), *id);
        uint32_t h = cat_hash_u32(key);
        if (cat_map_find(m, h, eq, c, &key) == PREP_CAT_NONE && cat_map_put(m, h, i)) return -1;
    }
    return 0;
}

prep_err prep_catalog_reindex(prep_catalog *c)
{
    cat_index_free(c->_index);
    c->_index = NULL;
    if (own_entity(c)) return PREP_ERR_NOMEM;
    /* A hand-built election without special or abroad acta types uses acta_type for both
     * (the file format never gives them 0). */
    for (uint32_t e = 0; e < c->n_elections; e++) {
        prep_cat_election *el = &c->elections[e];
        if (!el->special_acta_type) el->special_acta_type = el->acta_type;
        if (!el->abroad_acta_type) el->abroad_acta_type = el->acta_type;
    }
    cat_index *x = calloc(1, sizeof *x);
    if (!x) return PREP_ERR_NOMEM;
    int bad = 0;
    bad |= cat_map_init(&x->casilla, c->n_casillas);
    bad |= cat_map_init(&x->district, c->n_districts);
    bad |= cat_map_init(&x->municipality, c->n_municipalities);
    bad |= cat_map_init(&x->section, c->n_sections);
    bad |= cat_map_init(&x->party, c->n_parties);
    bad |= cat_map_init(&x->election, c->n_elections);
    bad |= cat_map_init(&x->coalition, c->n_coalitions);
    x->cols = calloc(c->n_elections ? c->n_elections : 1, sizeof *x->cols);
    x->n_elections = c->n_elections;
    if (bad || !x->cols) goto nomem;
    for (uint32_t i = 0; i <= PREP_CAT_MAX_ENTITY_ID; i++) x->entity_by_id[i] = PREP_CAT_NONE;
    for (uint32_t i = 0; i < c->n_entities; i++) {
        uint32_t id = c->entities[i].id;
        if (id <= PREP_CAT_MAX_ENTITY_ID && x->entity_by_id[id] == PREP_CAT_NONE) x->entity_by_id[id] = i;
    }

    /* First occurrence wins everywhere, so a hand-built catalogue with duplicates still
     * answers deterministically. */
    for (uint32_t i = 0; i < c->n_casillas; i++) {
        uint32_t h = cat_hash_str(c->casillas[i].key);
        if (cat_map_find(&x->casilla, h, cat_eq_casilla, c, c->casillas[i].key) == PREP_CAT_NONE &&
            cat_map_put(&x->casilla, h, i))
            goto nomem;
    }
    if (c->n_sections && index_geo(c, &x->section, cat_eq_section, c->n_sections, &c->sections[0].entity,
                                   &c->sections[0].id, sizeof c->sections[0]))
        goto nomem;
    if (c->n_districts && index_geo(c, &x->district, cat_eq_district, c->n_districts, &c->districts[0].entity,
                                    &c->districts[0].id, sizeof c->districts[0]))
        goto nomem;
    if (c->n_municipalities &&
        index_geo(c, &x->municipality, cat_eq_municipality, c->n_municipalities, &c->municipalities[0].entity,
                  &c->municipalities[0].id, sizeof c->municipalities[0]))
        goto nomem;
    for (uint32_t i = 0; i < c->n_parties; i++) {
        uint32_t h = cat_hash_str(c->parties[i].id);
        if (cat_map_find(&x->party, h, cat_eq_party, c, c->parties[i].id) == PREP_CAT_NONE &&
            cat_map_put(&x->party, h, i))
            goto nomem;
    }
    for (uint32_t i = 0; i < c->n_elections; i++) {
        const prep_cat_election *el = &c->elections[i];
        uint32_t h = cat_hash_str(el->id);
        if (cat_map_find(&x->election, h, cat_eq_election, c, el->id) == PREP_CAT_NONE &&
            cat_map_put(&x->election, h, i))
            goto nomem;
        if (cat_map_init(&x->cols[i], el->n_cols)) goto nomem;
        col_ctx cc = {el};
        for (uint32_t k = 0; k < el->n_cols; k++) {
            uint32_t hc = cat_hash_str(el->cols[k].name);
            if (cat_map_find(&x->cols[i], hc, eq_col, &cc, el->cols[k].name) == PREP_CAT_NONE &&
                cat_map_put(&x->cols[i], hc, k))
                goto nomem;
        }
    }
    for (uint32_t i = 0; i < c->n_coalitions; i++) {
        cat_coal_key k = {c->coalitions[i].election, c->coalitions[i].id};
        uint32_t h = cat_hash_coalition(k.election, k.id);
        if (cat_map_find(&x->coalition, h, cat_eq_coalition, c, &k) == PREP_CAT_NONE &&
            cat_map_put(&x->coalition, h, i))
            goto nomem;
    }
    c->_index = x;
    return PREP_OK;
nomem:
    cat_index_free(x);
    return PREP_ERR_NOMEM;
}

/* ---------------------------------------------------------------- lookups */
uint32_t prep_catalog_find_casilla(const prep_catalog *c, const char *clave_casilla)
{
    if (!c || !clave_casilla) return PREP_CAT_NONE;
    const cat_index *x = c->_index;
    if (x) return cat_map_find(&x->casilla, cat_hash_str(clave_casilla), cat_eq_casilla, c, clave_casilla);
    for (uint32_t i = 0; i < c->n_casillas; i++)
        if (!strcmp(c->casillas[i].key, clave_casilla)) return i;
    return PREP_CAT_NONE;
}

uint32_t prep_catalog_find_entity(const prep_catalog *c, uint32_t entity_id)
{
    if (!c) return PREP_CAT_NONE;
    const cat_index *x = c->_index;
    if (x) return entity_id <= PREP_CAT_MAX_ENTITY_ID ? x->entity_by_id[entity_id] : PREP_CAT_NONE;
    for (uint32_t i = 0; i < c->n_entities; i++)
        if (c->entities[i].id == entity_id) return i;
    return PREP_CAT_NONE;
}

/* The entry of (entity_id, id) in a geo array (entity and id fields at the given
 * offsets, `stride` bytes apart): by the map, or a linear scan without an index. */
static uint32_t find_geo(const prep_catalog *c, const cat_map *m, cat_map_eq eq, uint32_t n, const void *arr,
                         size_t stride, size_t ent_off, size_t id_off, uint32_t entity_id, uint32_t id)
{
    if (id > PREP_CAT_MAX_GEO_ID || entity_id > PREP_CAT_MAX_ENTITY_ID) return PREP_CAT_NONE;
    uint32_t key = cat_geo_key(entity_id, id);
    if (m) return cat_map_find(m, cat_hash_u32(key), eq, c, &key);
    for (uint32_t i = 0; i < n; i++) {
        const char *p = (const char *)arr + i * stride;
        uint32_t e, v;
        memcpy(&e, p + ent_off, sizeof e);
        memcpy(&v, p + id_off, sizeof v);
        if (cat_geo_key(cat_entity_id(c, e), v) == key) return i;
    }
    return PREP_CAT_NONE;
}

uint32_t prep_catalog_find_section(const prep_catalog *c, uint32_t entity_id, uint32_t section_id)
{
    if (!c) return PREP_CAT_NONE;
    const cat_index *x = c->_index;
    return find_geo(c, x ? &x->section : NULL, cat_eq_section, c->n_sections, c->sections, sizeof *c->sections,
                    offsetof(prep_cat_section, entity), offsetof(prep_cat_section, id), entity_id, section_id);
}

uint32_t prep_catalog_find_district(const prep_catalog *c, uint32_t entity_id, uint32_t district_id)
{
    if (!c) return PREP_CAT_NONE;
    const cat_index *x = c->_index;
    return find_geo(c, x ? &x->district : NULL, cat_eq_district, c->n_districts, c->districts,
                    sizeof *c->districts, offsetof(prep_cat_district, entity), offsetof(prep_cat_district, id),
                    entity_id, district_id);
}

uint32_t prep_catalog_find_municipality(const prep_catalog *c, uint32_t entity_id, uint32_t municipality_id)
{
    if (!c) return PREP_CAT_NONE;
    const cat_index *x = c->_index;
    return find_geo(c, x ? &x->municipality : NULL, cat_eq_municipality, c->n_municipalities, c->municipalities,
                    sizeof *c->municipalities, offsetof(prep_cat_municipality, entity),
                    offsetof(prep_cat_municipality, id), entity_id, municipality_id);
}

static int same_section(const prep_cat_section *a, const prep_cat_section *b)
{
    return a->entity == b->entity && a->id == b->id;
}

uint32_t prep_catalog_section_parts(const prep_catalog *c, uint32_t s, uint32_t *first, uint32_t *nth)
{
    uint32_t lo = s, hi = s + 1;
    if (c && s < c->n_sections) {
        while (lo > 0 && same_section(&c->sections[lo - 1], &c->sections[s])) lo--;
        while (hi < c->n_sections && same_section(&c->sections[hi], &c->sections[s])) hi++;
    }
    if (first) *first = lo;
    if (nth) *nth = s - lo;
    return hi - lo;
}

uint32_t prep_catalog_casilla_part(const prep_catalog *c, uint32_t casilla, uint32_t district_id,
                                   uint32_t municipality_id, uint32_t *matched)
{
    uint32_t dummy;
    if (!matched) matched = &dummy;
    *matched = 0;
    if (!c || casilla >= c->n_casillas) return PREP_CAT_NONE;
    const prep_cat_casilla *k = &c->casillas[casilla];
    uint32_t first, n = prep_catalog_section_parts(c, k->section, &first, NULL);
    *matched = 1;
    if (n == 1) return casilla;
    *matched = 0;
    uint32_t found = PREP_CAT_NONE;
    for (uint32_t p = first; p < first + n; p++) {
        const prep_cat_section *s = &c->sections[p];
        if ((district_id && cat_section_district_id(c, s) != district_id) ||
            (municipality_id && cat_section_muni_id(c, s) != municipality_id))
            continue;
        for (uint32_t i = s->first_casilla; i < s->first_casilla + s->n_casillas; i++)
            if (!strcmp(c->casillas[i].key, k->key)) {
                found = i;
                ++*matched;
            }
    }
    return *matched == 1 ? found : PREP_CAT_NONE;
}

/* Whether the parts [first, first + n) are each in their own municipality (muni) or
 * district. */
static int parts_apart(const prep_catalog *c, uint32_t first, uint32_t n, int muni)
{
    for (uint32_t i = first; i < first + n; i++)
        for (uint32_t j = first; j < i; j++)
            if (muni ? c->sections[i].municipality == c->sections[j].municipality
                     : c->sections[i].district == c->sections[j].district)
                return 0;
    return 1;
}

/* The municipality (*muni 1) or district (0) index that tells part s from the others, or
 * PREP_CAT_NONE. */
static uint32_t part_unit(const prep_catalog *c, uint32_t s, int *muni)
{
    const prep_cat_section *x = &c->sections[s];
    uint32_t first, n = prep_catalog_section_parts(c, s, &first, NULL);
    *muni = 1;
    if (parts_apart(c, first, n, 1) && x->municipality < c->n_municipalities) return x->municipality;
    *muni = 0;
    if (parts_apart(c, first, n, 0) && x->district < c->n_districts) return x->district;
    return PREP_CAT_NONE;
}

const char *prep_catalog_section_part_unit(const prep_catalog *c, uint32_t s)
{
    int muni;
    uint32_t u = part_unit(c, s, &muni);
    return u == PREP_CAT_NONE ? NULL : muni ? c->municipalities[u].name : c->districts[u].name;
}

void prep_catalog_section_name(const prep_catalog *c, uint32_t s, char out[48])
{
    uint32_t nth;
    prep_catalog_section_parts(c, s, NULL, &nth);
    snprintf(out, 48, "%04u", (unsigned)(c->sections[s].id % 100000));
    if (!nth) return;
    size_t l = strlen(out);
    int muni;
    uint32_t u = part_unit(c, s, &muni);
    if (u != PREP_CAT_NONE)
        snprintf(out + l, 48 - l, "-%.40s", muni ? c->municipalities[u].slug : c->districts[u].slug);
    else
        snprintf(out + l, 48 - l, "-%u", (unsigned)(nth + 1));
}

uint32_t prep_catalog_casilla_entity(const prep_catalog *c, uint32_t casilla)
{
    if (!c || casilla >= c->n_casillas) return 0;
    return cat_entity_id(c, c->sections[c->casillas[casilla].section].entity);
}

uint32_t prep_catalog_acta_type_of(const prep_catalog *c, uint32_t e, uint32_t casilla)
{
    if (!c || e >= c->n_elections || casilla >= c->n_casillas) return 0;
    const prep_cat_election *el = &c->elections[e];
    switch (c->casillas[casilla].type) {
    case 'S': return el->special_acta_type;
    case 'M': return el->abroad_acta_type;
    default: return el->acta_type;
    }
}

uint32_t prep_catalog_n_actas(const prep_catalog *c, uint32_t e, uint32_t casilla)
{
    if (!c || e >= c->n_elections || casilla >= c->n_casillas) return 0;
    const prep_cat_election *el = &c->elections[e];
    char type = c->casillas[casilla].type;
    if (type == 'M') return el->abroad_acta_type == PREP_CAT_ACTA_NONE ? 0 : 1;
    return type == 'S' && el->rp_acta_type ? 2 : 1;
}

const char *prep_catalog_party_combo_name(const prep_cat_party *p) { return p->combo_name ? p->combo_name : p->id; }

uint32_t prep_catalog_find_party(const prep_catalog *c, const char *id)
{
    if (!c || !id) return PREP_CAT_NONE;
    const cat_index *x = c->_index;
    if (x) return cat_map_find(&x->party, cat_hash_str(id), cat_eq_party, c, id);
    for (uint32_t i = 0; i < c->n_parties; i++)
        if (!strcmp(c->parties[i].id, id)) return i;
    return PREP_CAT_NONE;
}

uint32_t prep_catalog_find_election(const prep_catalog *c, const char *id)
{
    if (!c || !id) return PREP_CAT_NONE;
    const cat_index *x = c->_index;
    if (x) return cat_map_find(&x->election, cat_hash_str(id), cat_eq_election, c, id);
    for (uint32_t i = 0; i < c->n_elections; i++)
        if (!strcmp(c->elections[i].id, id)) return i;
    return PREP_CAT_NONE;
}

uint32_t prep_catalog_find_column(const prep_catalog *c, uint32_t e, const char *name)
{
    if (!c || !name || e >= c->n_elections) return PREP_CAT_NONE;
    const prep_cat_election *el = &c->elections[e];
    const cat_index *x = c->_index;
    if (x && e < x->n_elections) {
        col_ctx cc = {el};
        return cat_map_find(&x->cols[e], cat_hash_str(name), eq_col, &cc, name);
    }
    for (uint32_t i = 0; i < el->n_cols; i++)
        if (!strcmp(el->cols[i].name, name)) return i;
    return PREP_CAT_NONE;
}

uint32_t prep_catalog_find_coalition(const prep_catalog *c, uint32_t e, const char *id)
{
    if (!c || !id) return PREP_CAT_NONE;
    const cat_index *x = c->_index;
    cat_coal_key k = {e, id};
    if (x) return cat_map_find(&x->coalition, cat_hash_coalition(e, id), cat_eq_coalition, c, &k);
    for (uint32_t i = 0; i < c->n_coalitions; i++)
        if (c->coalitions[i].election == e && !strcmp(c->coalitions[i].id, id)) return i;
    return PREP_CAT_NONE;
}

/* ---------------------------------------------------------------- units */
uint32_t prep_catalog_unit_of(const prep_catalog *c, uint32_t e, uint32_t casilla)
{
    if (!c || e >= c->n_elections || casilla >= c->n_casillas) return PREP_CAT_NONE;
    const prep_cat_section *s = &c->sections[c->casillas[casilla].section];
    switch (c->elections[e].scope) {
    case PREP_CAT_SCOPE_NATION: return 0;
    case PREP_CAT_SCOPE_ENTITY: return s->entity;
    case PREP_CAT_SCOPE_DISTRICT: return s->district;
    case PREP_CAT_SCOPE_MUNICIPALITY: return s->municipality;
    }
    return PREP_CAT_NONE;
}

const char *prep_catalog_unit_name(const prep_catalog *c, uint32_t e, uint32_t u)
{
    if (!c || e >= c->n_elections) return NULL;
    switch (c->elections[e].scope) {
    case PREP_CAT_SCOPE_NATION: return u == 0 ? c->entity_name : NULL;
    case PREP_CAT_SCOPE_ENTITY:
        if (c->entities && u < c->n_entities) return c->entities[u].name;
        return u == 0 ? c->entity_name : NULL;
    case PREP_CAT_SCOPE_DISTRICT: return u < c->n_districts ? c->districts[u].name : NULL;
    case PREP_CAT_SCOPE_MUNICIPALITY: return u < c->n_municipalities ? c->municipalities[u].name : NULL;
    }
    return NULL;
}

/* ---------------------------------------------------------------- keys */
void cat_put_digits(char *out, uint32_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void prep_catalog_casilla_key(uint32_t entity, uint32_t section, char type, uint32_t number,
                              uint32_t ext, char out[24])
{
    if (entity <= 99 && section <= 9999 && number <= 99 && ext <= 99) {
        cat_put_digits(out, entity, 2);
        cat_put_digits(out + 2, section, 4);
        out[6] = type;
        cat_put_digits(out + 7, number, 2);
        cat_put_digits(out + 9, ext, 2);
        out[11] = 0;
        return;
    }
    /* Out of the documented ranges (never from a loaded catalogue): wider, still bounded. */
    snprintf(out, 24, "%02u%04u%c%02u%02u", (unsigned)(entity % 1000), (unsigned)(section % 1000000),
             type, (unsigned)(number % 1000), (unsigned)(ext % 1000));
}

void prep_catalog_acta_key(const char *clave_casilla, uint32_t acta_type, char out[28])
{
    size_t n = strnlen(clave_casilla, 23);
    memcpy(out, clave_casilla, n);
    if (acta_type <= 99) {
        cat_put_digits(out + n, acta_type, 2);
        out[n + 2] = 0;
    } else {
        snprintf(out + n, 28 - n, "%u", (unsigned)(acta_type % 10000));
    }
}

int cat_type_rank(char type)
{
    switch (type) {
    case 'B': return 0;
    case 'C': return 1;
    case 'E': return 2;
    case 'S': return 3;
    case 'M': return 4;
    case 'V': return 5;
    case 'A': return 6;
    case 'P': return 7;
    default: /* [rules] other_casilla_types, after the known ones */
        return type >= 'A' && type <= 'Z' ? CAT_TYPES_KNOWN + (type - 'A') : -1;
    }
}

int cat_valid_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
        if (n >= PREP_CAT_MAX_ID_LEN) return 0;
    }
    return n > 0;
}

const char *cat_scope_name(prep_cat_scope s)
{
    switch (s) {
    case PREP_CAT_SCOPE_ENTITY: return "entity";
    case PREP_CAT_SCOPE_DISTRICT: return "district";
    case PREP_CAT_SCOPE_MUNICIPALITY: return "municipality";
    case PREP_CAT_SCOPE_NATION: return "nation";
    }
    return NULL;
}


/* ---------------------------------------------------------------- free */
static void free_labels(prep_cat_labels *l)
{
    free(l->some_illegible);
    free(l->all_illegible);
    free(l->exceeds_ln);
    free(l->no_acta_not_delivered);
    free(l->no_acta_not_installed);
    free(l->no_acta_no_envelope);
    free(l->out_of_catalog);
}

void prep_catalog_free(prep_catalog *c)
{
    if (!c) return;
    free(c->process_id);
    free(c->process_name);
    free(c->institute);
    free(c->entity_name);
    free(c->timezone);
    free(c->combo_prefix);
    free_labels(&c->labels);
    if (c->entities)
        for (uint32_t i = 0; i < c->n_entities; i++) {
            free(c->entities[i].name);
            free(c->entities[i].slug);
        }
    free(c->entities);
    if (c->parties)
        for (uint32_t i = 0; i < c->n_parties; i++) {
            free(c->parties[i].id);
            free(c->parties[i].name);
            free(c->parties[i].color);
            free(c->parties[i].combo_name);
        }
    free(c->parties);
    if (c->districts)
        for (uint32_t i = 0; i < c->n_districts; i++) {
            free(c->districts[i].name);
            free(c->districts[i].slug);
        }
    free(c->districts);
    if (c->municipalities)
        for (uint32_t i = 0; i < c->n_municipalities; i++) {
            free(c->municipalities[i].name);
            free(c->municipalities[i].slug);
        }
    if (c->municipality_shape)
        for (uint32_t i = 0; i < c->n_municipalities; i++) free(c->municipality_shape[i]);
    free(c->municipality_shape);
    if (c->entity_shape)
        for (uint32_t i = 0; i < c->n_entities; i++) free(c->entity_shape[i]);
    free(c->entity_shape);
    free(c->municipalities);
    free(c->sections);
    free(c->casillas);
    if (c->elections)
        for (uint32_t i = 0; i < c->n_elections; i++) {
            prep_cat_election *el = &c->elections[i];
            free(el->id);
            free(el->name);
            free(el->title);
            free(el->slug);
            if (el->cols)
                for (uint32_t k = 0; k < el->n_cols; k++) free(el->cols[k].name);
            free(el->cols);
            if (el->indep_names)
                for (uint32_t k = 0; k < el->n_indep_declared; k++) free(el->indep_names[k]);
            free(el->indep_names);
            free(el->col_applies);
            free(el->cand_first);
            free(el->cand_index);
        }
    free(c->elections);
    if (c->coalitions)
        for (uint32_t i = 0; i < c->n_coalitions; i++) {
            free(c->coalitions[i].id);
            free(c->coalitions[i].name);
        }
    free(c->coalitions);
    if (c->candidacies)
        for (uint32_t i = 0; i < c->n_candidacies; i++) {
            free(c->candidacies[i].name);
            free(c->candidacies[i].cols);
        }
    free(c->candidacies);
    cat_index_free(c->_index);
    free(c);
}

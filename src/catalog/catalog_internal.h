/* prep catalog: private declarations shared by the files of src/catalog/ only. */
#ifndef PREP_CATALOG_INTERNAL_H
#define PREP_CATALOG_INTERNAL_H

#include "prep/catalog.h"

/* ---------------------------------------------------------------- open-addressing map
 * Maps a key to a uint32 index into one of the catalogue's arrays. The map stores only
 * indices and their hashes; the key itself lives in the array and is compared through
 * an equality callback. Linear probing, power-of-two capacity, load <= 1/2. */
typedef struct cat_map {
    uint32_t *slot; /* owned; index + 1, 0 = empty */
    uint32_t *hash; /* owned; hash of the key in each slot */
    size_t mask;    /* capacity - 1 */
    size_t n;
} cat_map;

/* Whether the entry at idx has the key `key`. */
typedef int (*cat_map_eq)(const void *ctx, uint32_t idx, const void *key);

int cat_map_init(cat_map *m, size_t expected); /* 0, or -1 when out of memory */
void cat_map_free(cat_map *m);
/* Index of the entry with this key, or PREP_CAT_NONE. An uninitialised (zeroed) map is empty. */
uint32_t cat_map_find(const cat_map *m, uint32_t h, cat_map_eq eq, const void *ctx, const void *key);
/* Adds idx (the caller checked it is not there yet). 0, or -1 when out of memory. */
int cat_map_put(cat_map *m, uint32_t h, uint32_t idx);

uint32_t cat_hash_str(const char *s);
uint32_t cat_hash_u32(uint32_t v);

/* The private lookup tables behind prep_catalog._index. */
typedef struct cat_index {
    cat_map casilla;       /* CLAVE_CASILLA -> casilla */
    cat_map district;      /* (entity id, id) -> district */
    cat_map municipality;  /* (entity id, id) -> municipality */
    cat_map section;       /* (entity id, id) -> section */
    cat_map party;         /* id -> party */
    cat_map election;      /* id -> election */
    cat_map coalition;     /* (election, id) -> coalition */
    uint32_t entity_by_id[PREP_CAT_MAX_ENTITY_ID + 1]; /* entity id -> index, PREP_CAT_NONE when absent */
    uint32_t n_elections;
    cat_map *cols;         /* owned; per election: column name -> column */
} cat_index;

void cat_index_free(cat_index *x);

/* Equality callbacks over a catalogue (ctx is the prep_catalog). */
int cat_eq_party(const void *ctx, uint32_t idx, const void *key);
int cat_eq_district(const void *ctx, uint32_t idx, const void *key);
int cat_eq_municipality(const void *ctx, uint32_t idx, const void *key);
int cat_eq_section(const void *ctx, uint32_t idx, const void *key);

/* Districts, municipalities and sections are numbered within their entity: their key in
 * the maps is the entity id and the id in one number (ids <= PREP_CAT_MAX_GEO_ID < 2^20). */
static inline uint32_t cat_geo_key(uint32_t entity_id, uint32_t id) { return (entity_id << 20) | id; }
/* The entity id of entity index ei (a hand-built catalogue without entities: entity_id). */
static inline uint32_t cat_entity_id(const prep_catalog *c, uint32_t ei)
{
    return c->entities && ei < c->n_entities ? c->entities[ei].id : c->entity_id;
}
/* The district and municipality ids of section s (0 where its reference is not in the
 * tables: refused by the parser, or a hand-built catalogue's slip). */
static inline uint32_t cat_section_district_id(const prep_catalog *c, const prep_cat_section *s)
{
    return s->district < c->n_districts ? c->districts[s->district].id : 0;
}
static inline uint32_t cat_section_muni_id(const prep_catalog *c, const prep_cat_section *s)
{
    return s->municipality < c->n_municipalities ? c->municipalities[s->municipality].id : 0;
}
int cat_eq_election(const void *ctx, uint32_t idx, const void *key);
int cat_eq_casilla(const void *ctx, uint32_t idx, const void *key);

/* Key of the coalition map: coalition id within an election. */
typedef struct cat_coal_key {
    uint32_t election;
    const char *id;
} cat_coal_key;
int cat_eq_coalition(const void *ctx, uint32_t idx, const void *key);
uint32_t cat_hash_coalition(uint32_t election, const char *id);

/* Writes v as exactly `width` decimal digits (v < 10^width). */
void cat_put_digits(char *out, uint32_t v, int width);

/* Sort rank of a casilla type: the known ones B, C, E, S, M, V, A, P = 0..CAT_TYPES_KNOWN-1,
 * then any other capital letter ([rules] other_casilla_types, prep_catalog_type_valid
 * says whether a catalogue allows it); -1 for anything else. */
#define CAT_TYPES_KNOWN 8
int cat_type_rank(char type);

/* 1 if s is a valid text id: 1..PREP_CAT_MAX_ID_LEN bytes of [A-Za-z0-9_-]. */
int cat_valid_id(const char *s);

/* Name used in the file for a scope. */
const char *cat_scope_name(prep_cat_scope s);

#endif

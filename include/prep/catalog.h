/* prep catalog: one election process — elections, parties, coalitions, candidacies,
 * geography, casillas, lista nominal — its file format (docs/formats/catalog.md) and its
 * validation. Knows nothing of actas, HTML or the network (DESIGN.md).
 *
 * Everything is held in one prep_catalog, owned by the caller (prep_catalog_free).
 * Cross references are indices into the catalog's arrays (uint32_t), resolved and
 * checked at load time, so later parts never look names up on a hot path. */
#ifndef PREP_CATALOG_H
#define PREP_CATALOG_H

#include "prep/core.h"

#define PREP_CAT_NONE UINT32_MAX
#define PREP_CAT_ACTA_NONE UINT32_MAX /* an acta type that does not exist (abroad_acta_type "-") */
#define PREP_CAT_MAX_COALITION_PARTIES 8   /* a combination column names at most 8 parties */

/* Limits of the catalogue file (docs/formats/catalog.md "Limits"); input beyond them is
 * refused with a located diag of kind "too-many" / "line-too-long" / "bad-value". */
#define PREP_CAT_MAX_LINE 65536u           /* bytes per line, without the line end */
#define PREP_CAT_MAX_FILE ((size_t)256 << 20) /* bytes per file (prep_catalog_load) */
#define PREP_CAT_MAX_ID_LEN 32u            /* text ids: [A-Za-z0-9_-], 1..32 bytes */
#define PREP_CAT_MAX_PARTIES 64u           /* parties in the catalogue */
#define PREP_CAT_MAX_GEO 100000u           /* districts; municipalities */
#define PREP_CAT_MAX_GEO_ID 999999u        /* district / municipality ids: 0..999999 (0: abroad) */
#define PREP_CAT_MAX_SECTION_ID 9999u      /* section ids: 0..9999 (4 digits in CLAVE_CASILLA; 0: abroad) */
#define PREP_CAT_MAX_SECTIONS 200000u      /* sections in the catalogue (INE 2021: ~71,000) */
#define PREP_CAT_MAX_SECTION_PARTS 8u      /* parts of one split section (Campeche 2021: 2) */
#define PREP_CAT_MAX_ENTITY_ID 99u         /* entity ids: 1..99 (2 digits in CLAVE_CASILLA) */
#define PREP_CAT_MAX_CASILLAS 2000000u
#define PREP_CAT_MAX_ELECTIONS 64u
#define PREP_CAT_MAX_COALITIONS 1024u
#define PREP_CAT_MAX_CANDIDACIES 2000000u
#define PREP_CAT_MAX_COLUMNS 1024u         /* vote columns per election */
#define PREP_CAT_MAX_INDEP 99u             /* CAND_IND_1..CAND_IND_99 */
/* The municipality map ([shapes], map_viewbox; docs/formats/catalog.md "Map"). */
#define PREP_CAT_MAX_PATH 65000u           /* bytes of one municipality's SVG path data (fits a line) */
#define PREP_CAT_MAX_MAP_COORD 100000u     /* map_viewbox values: 0..100000; width, height >= 1 */
#define PREP_CAT_MAX_PATH_DIGITS 7u        /* digits of one path number */

typedef enum prep_cat_scope {
    PREP_CAT_SCOPE_ENTITY = 0,       /* a unit per entity (gubernatura: one; senadurías: 32) */
    PREP_CAT_SCOPE_DISTRICT = 1,     /* a unit per district (diputaciones) */
    PREP_CAT_SCOPE_MUNICIPALITY = 2, /* a unit per municipality (ayuntamientos) */
    PREP_CAT_SCOPE_NATION = 3,       /* one unit: the whole process (presidencia) */
} prep_cat_scope;

/* How participation counts special casillas (PREP-RULES.md "Checked against the real
 * Quintana Roo file"): their votes stay out while the night runs and, in QROO 2019,
 * enter in the final cut. */
typedef enum prep_cat_specials_mode {
    PREP_CAT_SPECIALS_EXCLUDE = 0,    /* always TOTAL_VOTOS_S_CS / LN */
    PREP_CAT_SPECIALS_FINAL_ONLY = 1, /* S_CS during the night, C_CS in the final cut */
    PREP_CAT_SPECIALS_INCLUDE = 2,    /* always TOTAL_VOTOS_C_CS / LN */
} prep_cat_specials_mode;

/* The counting rules that differ between institutes: a named profile (a preset) with
 * each choice open to override in the catalogue's [rules] section. Presets and the
 * evidence for each choice: docs/formats/actas.md, "Rule profiles". */
enum {
    PREP_INC_SOME_ILLEGIBLE = 1, /* counted, some vote field illegible or blank */
    PREP_INC_ALL_ILLEGIBLE = 2,  /* not counted: no legible vote field */
    PREP_INC_EXCEEDS = 4,        /* not counted: total above the cap */
    PREP_INC_NO_ACTA = 8,        /* not counted: sin acta */
    PREP_INC_ALL = 15,
};
#define PREP_RULES_NAME_MAX 32
typedef struct prep_rules {
    char name[PREP_RULES_NAME_MAX]; /* the preset it started from ("ine", "ieec-2021", ...) */
    unsigned inconsistent;          /* PREP_INC_* set in PORCENTAJE_ACTAS_INCONSISTENCIAS */
    int no_counted_out_of_catalog;  /* ACTAS_NO_CONTABILIZADAS includes fuera de catálogo */
    int no_counted_no_acta;         /* ... includes sin acta */
    prep_cat_specials_mode specials;     /* participation: which total over LN */
    int cap_representatives;        /* vote cap = lista nominal (+ representatives when 1) */
    uint32_t special_ballots;       /* ballots of a special casilla when nothing says (750) */
    uint32_t entity_id;             /* preset: the institute's entity (0: INE, national) */
    uint32_t year;                  /* preset: the election year its evidence comes from */
    int published;                  /* the captures are a published results file, whose values
                                     * lost what its OBSERVACIONES and CONTABILIZADA still state
                                     * (prep_actas_classify; a derived catalogue's) */
    char other_types[27];           /* casilla type letters beyond B C E S M A P V that the
                                     * catalogue may use, each an ordinary casilla (its lista
                                     * nominal, counted in TOTAL_VOTOS_S_CS): "U". "" = none */
} prep_rules;

/* 1 when `type` is a casilla type of a catalogue with rules r: B C E S M A P V, or a letter
 * of r->other_types. */
int prep_catalog_type_valid(const prep_rules *r, char type);

/* Fills *out with preset `name`; 0, or -1 when there is no such preset. */
int prep_catalog_rules_preset(const char *name, prep_rules *out);
/* The i-th preset's name (i from 0), NULL past the last. */
const char *prep_catalog_rules_preset_name(size_t i);
/* The preset of an institute (entity 1..32) for an election year, or NULL: a preset
 * whose entity and year both match. */
const char *prep_catalog_rules_preset_for(uint32_t entity_id, uint32_t year);
/* Applies one "key = value" of a [rules] section (or a --rules-set option) to *r.
 * Keys: profile, inconsistent, no_counted_out_of_catalog, no_counted_no_acta,
 * participation_specials, cap_representatives, special_ballots, published, other_casilla_types
 * (letters A-Z beside the known types, e.g. "U"). 0, or -1 with a reason
 * in msg. "profile" resets every other key to the preset's value. */
int prep_catalog_rules_set(prep_rules *r, const char *key, const char *value, char *msg, size_t msgsz);
/* "some-illegible all-illegible exceeds" for a PREP_INC_* set ("none" when empty).
 * out >= 64 bytes. */
void prep_catalog_rules_inconsistent_text(unsigned set, char *out, size_t outsz);
/* Name of a participation mode: "exclude", "final-only", "include"; NULL if invalid. */
const char *prep_catalog_rules_specials_name(prep_cat_specials_mode m);

typedef struct prep_cat_party {
    char *id;       /* column name in actas, e.g. "PAN", "MORENA" (unique) */
    char *name;     /* "Partido Acción Nacional" */
    char *color;    /* "#RRGGBB" for charts */
    char *combo_name; /* how combination columns spell it, NULL: by its id (Queretaro 2018:
                       * party "M", combinations "MORENA_PT_PES") */
    uint32_t seniority; /* registration order: breaks ties in the split of combined votes */
} prep_cat_party;

/* An entity (estado): INEGI key 1..32. A local catalogue has exactly one, built from
 * [process]; a national one (entity_id 0) lists them in [entities]. */
typedef struct prep_cat_entity {
    uint32_t id;    /* INEGI key, the first two digits of CLAVE_CASILLA */
    char *name;     /* "JALISCO" */
    char *slug;     /* "jalisco" */
    uint32_t circ;  /* circunscripción plurinominal, 0 when none given */
} prep_cat_entity;

typedef struct prep_cat_district {
    uint32_t entity; /* index into entities */
    uint32_t id;    /* 1..N within its entity (0: votes from abroad) */
    char *name;     /* "DISTRITO 03" or its head town */
    char *slug;     /* "distrito-03" */
} prep_cat_district;

typedef struct prep_cat_municipality {
    uint32_t entity; /* index into entities */
    uint32_t id;    /* INEGI municipality number within its entity */
    char *name;     /* "Corregidora" */
    char *slug;     /* "corregidora" */
} prep_cat_municipality;

/* A section split between units (Campeche 2021: sections 332 and 333 between Champotón
 * and the new municipality Seybaplaya; its juntas municipales, 534 and 536 between two
 * juntas) is several entries, its parts: adjacent, with the same entity and id, each in
 * its own district or municipality. Every casilla of the section then has an acta in each
 * part, under the same CLAVE_CASILLA, with the part's own lista nominal. The first part is
 * the one the lookups by number find (prep_catalog_section_parts, prep_catalog_casilla_part). */
typedef struct prep_cat_section {
    uint32_t entity;        /* index into entities */
    uint32_t id;            /* section number within its entity (0: votes from abroad) */
    uint32_t district;      /* index into districts */
    uint32_t municipality;  /* index into municipalities */
    uint32_t first_casilla; /* casillas of a section are contiguous: [first, first+n) */
    uint32_t n_casillas;
} prep_cat_section;

typedef struct prep_cat_casilla {
    uint32_t section;       /* index into sections */
    char type;              /* 'B' básica, 'C' contigua, 'E' extraordinaria, 'S' especial, 'M' mesa (abroad/early),
                             * 'V' voto en prisión preventiva (INE 2021); the 2023-2024 LEEMEs' mesas
                             * 'A' voto anticipado and 'P' prisión preventiva (prep_cat_type_mesa) */
    uint8_t urban;          /* UBICACION_CASILLA: 1 urbana, 2 no urbana */
    uint16_t number;        /* ID_CASILLA (C1 -> 1, E2 -> 2) */
    uint16_t ext;           /* EXT_CONTIGUA (E1C1 -> ext 1), 0 otherwise */
    uint32_t lista_nominal; /* 0 for special casillas (they have none of their own) */
    uint32_t representatives; /* REPRESENTANTES_PP_CI, preloaded */
    uint32_t ballots;       /* special casillas: ballots approved (their cap); 0 otherwise */
    char key[24];           /* CLAVE_CASILLA, e.g. "220412B0100" (entity 2, section 4, type, number 2, ext 2) */
} prep_cat_casilla;

/* One vote column of an election's actas, in file order. */
typedef enum prep_cat_col_kind {
    PREP_CAT_COL_PARTY = 0,  /* one party */
    PREP_CAT_COL_COMBO = 1,  /* a combination of 2+ parties of one coalition ("C_PAN_PRD" / "PAN_PRD") */
    PREP_CAT_COL_INDEP = 2,  /* CAND_IND_n: the unit's n-th independent candidacy */
    PREP_CAT_COL_NOREG = 3,  /* NO_REGISTRADOS */
    PREP_CAT_COL_NULOS = 4,  /* NULOS */
} prep_cat_col_kind;

typedef struct prep_cat_column {
    char *name;             /* header name as written in the actas file */
    prep_cat_col_kind kind;
    uint32_t n_parties;     /* PARTY: 1; COMBO: 2..PREP_CAT_MAX_COALITION_PARTIES; else 0 */
    uint32_t parties[PREP_CAT_MAX_COALITION_PARTIES]; /* indices into parties, catalogue order */
    uint32_t indep_no;      /* INDEP: n of CAND_IND_n */
} prep_cat_column;

typedef struct prep_cat_coalition {
    char *id;               /* short id used in the catalogue, e.g. "JHHQ" */
    char *name;             /* "Juntos Haremos Historia en Querétaro" */
    uint32_t election;      /* index into elections */
    uint32_t n_parties;
    uint32_t parties[PREP_CAT_MAX_COALITION_PARTIES];
} prep_cat_coalition;

/* A contender on the ballot of one unit of one election: a party alone, a coalition or
 * an independent. Votes by candidacy = its party columns + every combination column
 * whose parties are all in it (PREP-RULES.md "Coalitions"). */
typedef enum prep_cat_cand_kind { PREP_CAT_CAND_PARTY = 0, PREP_CAT_CAND_COALITION = 1, PREP_CAT_CAND_INDEP = 2 } prep_cat_cand_kind;

typedef struct prep_cat_candidacy {
    uint32_t election;      /* index into elections */
    uint32_t unit;          /* index of the unit: 0 for entity scope; district or municipality index */
    prep_cat_cand_kind kind;
    uint32_t ref;           /* PARTY: party index; COALITION: coalition index; INDEP: column index */
    char *name;             /* the candidate's (or slate head's) name */
    uint32_t n_cols;        /* the election's columns that add to this candidacy */
    uint32_t *cols;         /* owned; indices into the election's columns */
} prep_cat_candidacy;

typedef struct prep_cat_election {
    char *id;               /* "gub", "ayu", "dip": used in file names and the catalogue */
    char *name;             /* "GUBERNATURA" as in the CSV header block */
    char *title;            /* "Gubernatura" for pages */
    char *slug;             /* "gubernatura" URL path */
    prep_cat_scope scope;
    uint32_t acta_type;     /* TIPO_ACTA printed on the acta; part of CLAVE_ACTA */
    uint32_t special_acta_type; /* TIPO_ACTA of a special casilla's acta (default acta_type) */
    uint32_t abroad_acta_type;  /* TIPO_ACTA of an M casilla's acta (default acta_type); PREP_CAT_ACTA_NONE:
                             * the votes from abroad do not elect this office (no acta, no unit) */
    uint32_t rp_acta_type;  /* > 0: each special casilla also has a representación proporcional
                             * acta of this TIPO_ACTA for the election; 0: none */
    char rp_acta_mark[8];   /* "": rp_acta_type alone names the RP acta; else the letters its
                             * TIPO_ACTA ends in, its number being the mayoría relativa
                             * acta's (Sonora 2021: 3ERP beside 3EMR; rp_acta_type 3RP) */
    /* its independent columns, CAND_IND_1..n: n_indep_declared (0: as many as the highest
     * CAND_IND_n of its candidacies; more when a file has columns no candidacy uses,
     * Queretaro 2018's CAND_IND_26..31), named indep_names[0..n) when a file names them
     * otherwise (Sonora 2021's CAND_IND_JHZM; NULL: CAND_IND_k) */
    uint32_t n_indep_declared;
    char **indep_names;          /* owned, or NULL */
    uint32_t n_cols;
    prep_cat_column *cols;       /* owned; vote columns in file order */
    uint32_t n_units;       /* nation 1, entity n_entities, n_districts or n_municipalities */
    /* per unit: which columns apply there ("-" in the file where they do not) */
    uint8_t *col_applies;   /* owned; n_units * n_cols, row-major by unit */
    /* per unit: its candidacies, [cand_first[u], cand_first[u+1]) into candidacies */
    uint32_t *cand_first;   /* owned; n_units + 1 */
    uint32_t *cand_index;   /* owned; candidacy indices sorted by unit */
} prep_cat_election;

typedef struct prep_cat_labels {
    /* OBSERVACIONES wording differs per institute: catalogue data (PREP-RULES.md). */
    char *some_illegible;       /* counted, some field illegible or blank: "ALGUN DATO ILEGIBLE O SIN DATO" */
    char *all_illegible;        /* not counted: "TODOS ILEGIBLES O SIN DATO" */
    char *exceeds_ln;           /* not counted: "EXCEDE LISTA NOMINAL" */
    char *no_acta_not_delivered;/* "SIN ACTA POR PAQUETE NO ENTREGADO" */
    char *no_acta_not_installed;/* "SIN ACTA POR CASILLA NO INSTALADA" */
    char *no_acta_no_envelope;  /* "SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE" */
    char *out_of_catalog;       /* "FUERA DE CATALOGO" */
} prep_cat_labels;

typedef struct prep_catalog {
    /* [process] */
    char *process_id;       /* "qro2021" */
    char *process_name;     /* "Proceso Electoral Local 2020-2021" */
    char *institute;        /* "Instituto Electoral del Estado de Querétaro" */
    uint32_t entity_id;     /* 22; 0 for a national process (INE), whose entities are in [entities] */
    char *entity_name;      /* "QUERÉTARO"; national: "ESTADOS UNIDOS MEXICANOS", the nation unit's name */
    char *timezone;         /* "America/Mexico_City" */
    prep_time window_open;  /* publication window (convocatoria I.a) */
    prep_time window_close;
    uint32_t cut_interval;  /* seconds between cuts: 300 (convocatoria I.j) */
    char *combo_prefix;     /* "C_" (QROO 2019) or "" (INE 2021): combination column names */
    int independents_first; /* 1: CAND_IND_n columns right after the parties (INE 2021 order) */
    char csv_sep;           /* separator we write: '|' */
    prep_rules rules;       /* [rules]: counting rules that differ between institutes */
    long rules_published_line; /* the source line of [rules] published (0: not written there) */
    uint32_t pct_decimals;  /* 4 */
    prep_cat_labels labels;

    int national;             /* 1: entity_id 0 and an [entities] table */
    uint32_t n_entities;      prep_cat_entity *entities;      /* >= 1 once parsed or reindexed */
    uint32_t n_parties;       prep_cat_party *parties;
    uint32_t n_districts;     prep_cat_district *districts;
    uint32_t n_municipalities; prep_cat_municipality *municipalities;
    uint32_t n_sections;      prep_cat_section *sections;     /* sorted by id */
    uint32_t n_casillas;      prep_cat_casilla *casillas;     /* sorted by section, then key */
    uint32_t n_elections;     prep_cat_election *elections;
    uint32_t n_coalitions;    prep_cat_coalition *coalitions;
    uint32_t n_candidacies;   prep_cat_candidacy *candidacies;

    /* The map, optional: map_viewbox in [process] and the [shapes] table come together.
     * A local catalogue's map is of municipalities (municipality_shape), a national one's
     * of entities (entity_shape); the other array is NULL. has_map = 0: no map, both NULL,
     * map_viewbox zeros. */
    int has_map;
    uint32_t map_viewbox[4];  /* SVG viewBox: min-x, min-y, width, height */
    /* owned (NULL when !has_map); n_municipalities entries indexed like municipalities,
     * each an owned SVG path data string (docs/formats/catalog.md "Map": integers, the
     * commands M L H V Z and their relative forms) or NULL for a municipality without one. */
    char **municipality_shape;
    /* owned (NULL unless a national catalogue has a map); n_entities entries indexed like
     * entities, each an owned path in the same grammar or NULL for an entity without one. */
    char **entity_shape;

    void *_index;           /* private lookup tables (hash of casilla keys etc.) */
} prep_catalog;

/* Reads and validates a catalogue file. Every problem goes to diags with file:line:col
 * and a kind tag; loading goes on past a bad record to report as many as possible.
 * Returns PREP_OK only when diags got no error; *out is then owned by the caller.
 * On error *out is NULL (a catalogue is all or nothing: publishing with a partial
 * catalogue would misstate ACTAS_ESPERADAS). */
PREP_NODISCARD prep_err prep_catalog_load(const char *path, prep_catalog **out, prep_diags *diags);
/* Same from memory; `name` is used as the file name in diags. */
PREP_NODISCARD prep_err prep_catalog_parse(const char *name, const char *data, size_t len,
                            prep_catalog **out, prep_diags *diags);
/* Writes the catalogue back in the documented format (load(write(c)) == c), appending
 * to out. PREP_ERR_INVALID when a value cannot be written so that it reads back the same
 * (a '|' or line break in a name, an id outside [A-Za-z0-9_-], ...). */
PREP_NODISCARD prep_err prep_catalog_write(const prep_catalog *c, prep_buf *out);
/* Frees everything. Every pointer in a prep_catalog (strings, arrays, cols, the index) is
 * its own malloc() block; code that builds a catalogue by hand must keep to that. NULL ok. */
void prep_catalog_free(prep_catalog *c);
/* (Re)builds the private lookup tables (_index) from the arrays. prep_catalog_parse does
 * it; code that builds or edits a catalogue by hand calls it before the lookups (without
 * an index they fall back to linear scans). A hand-built catalogue without entities
 * (n_entities 0) gets its one entity here, from entity_id and entity_name, and every
 * district, municipality and section is in it. PREP_ERR_NOMEM on allocation failure. */
PREP_NODISCARD prep_err prep_catalog_reindex(prep_catalog *c);

/* Writes only the [shapes] table of a catalogue with a map ("\n[shapes]\nmunicipality|path\n"
 * and a row per municipality with a shape, in municipality order; in a national catalogue
 * "entity|path" and a row per entity with a shape, in entity order), appending to out; for
 * generators that write the rest themselves (the sim). The map_viewbox key is theirs to
 * write ("map_viewbox = %u %u %u %u"). PREP_ERR_INVALID when !has_map, no unit has a
 * shape, or a path does not pass prep_catalog_path_check; nothing is appended then. */
PREP_NODISCARD prep_err prep_catalog_write_shapes(const prep_catalog *c, prep_buf *out);

/* Checks SVG path data against the [shapes] grammar (docs/formats/catalog.md "Map") and,
 * when viewbox is non-NULL, that every point it reaches lies inside that viewBox.
 * Returns 0 if fine; else 1 (syntax), 2 (a point outside) or 3 (longer than PREP_CAT_MAX_PATH),
 * with *err_off (may be NULL) the byte offset of the offending character and msg (may be
 * NULL) a short English reason. */
int prep_catalog_path_check(const char *path, const uint32_t viewbox[4], size_t *err_off, char *msg,
                            size_t msgsz);

/* Builds the municipality map from a GeoJSON FeatureCollection of Polygon / MultiPolygon
 * features (docs/formats/catalog.md "Map from GeoJSON"): each feature is matched to a
 * municipality of c by the property id_property (NULL: "CVE_MUN"; a JSON integer or a
 * string of digits, "012" = 12) — in a national catalogue (c->national) to an entity, by
 * its INEGI key (NULL: "state_code"), and the map is the entity map; the coordinates (longitude, latitude in degrees) are
 * projected equirectangularly with longitude scaled by the cosine of the middle latitude
 * of the box, y down, fitted to `width` units (0: 600; 16..PREP_CAT_MAX_MAP_COORD) with the
 * height that keeps the aspect, simplified (Douglas-Peucker on the borders shared between
 * municipalities, each border simplified once so neighbours still meet) with `tolerance`
 * in map units (< 0: 1.0; 0: no simplification) and rounded to integers; rings that
 * collapse are dropped. On success c's map is replaced (has_map = 1, map_viewbox =
 * 0 0 width height, one shape per matched feature; municipalities (entities) without a
 * feature get NULL). On error c is untouched and every problem is a diag (kinds in the doc: geo-json,
 * geo-format, geo-property, geo-geometry, unknown-reference, duplicate-id, geo-collapsed,
 * path-too-long, too-many, io). c and the strings are borrowed. */
PREP_NODISCARD prep_err prep_catalog_shapes_from_geojson(const char *path, const char *id_property, uint32_t width,
                                          double tolerance, prep_catalog *c, prep_diags *diags);
/* The same from memory; `name` is the file name in diags. */
PREP_NODISCARD prep_err prep_catalog_shapes_from_geojson_mem(const char *name, const char *data, size_t len,
                                              const char *id_property, uint32_t width, double tolerance,
                                              prep_catalog *c, prep_diags *diags);
#define PREP_CAT_GEO_DEFAULT_WIDTH 600u
#define PREP_CAT_GEO_DEFAULT_TOLERANCE 1.0
/* The entity map of a national catalogue (the 32 entities, width 600): a slightly coarser
 * tolerance keeps its page block within the bytes of Querétaro's municipality map at the
 * defaults (docs/formats/catalog.md "Map from GeoJSON"; test_render_entity_map measures). */
#define PREP_CAT_GEO_NATIONAL_TOLERANCE 1.25
#define PREP_CAT_GEO_MAX_FILE ((size_t)32 << 20) /* bytes of a GeoJSON file */
#define PREP_CAT_GEO_MAX_POINTS 2000000u       /* positions in all the features together */

/* Lookups (O(1) average). Return PREP_CAT_NONE when absent. */
uint32_t prep_catalog_find_casilla(const prep_catalog *c, const char *clave_casilla);
uint32_t prep_catalog_find_entity(const prep_catalog *c, uint32_t entity_id);
/* Sections, districts and municipalities are numbered within their entity: the lookups
 * take the entity id (a local catalogue's is its [process] entity_id). */
uint32_t prep_catalog_find_section(const prep_catalog *c, uint32_t entity_id, uint32_t section_id);
uint32_t prep_catalog_find_district(const prep_catalog *c, uint32_t entity_id, uint32_t district_id);
uint32_t prep_catalog_find_municipality(const prep_catalog *c, uint32_t entity_id, uint32_t municipality_id);
/* The parts of section s (index): their count (1 when it is not split), the first one's
 * index into *first (may be NULL) and s's own place among them into *nth (0: the first;
 * may be NULL). */
uint32_t prep_catalog_section_parts(const prep_catalog *c, uint32_t s, uint32_t *first, uint32_t *nth);
/* The casilla under casilla's CLAVE_CASILLA in the part of its section that is in district
 * district_id and municipality municipality_id (0: not given, any): casilla itself when its
 * section is not split; PREP_CAT_NONE when the ids given match no part, or match several
 * (a split section's casilla needs the id that tells its parts apart). *matched (may be
 * NULL) gets how many parts the ids match. */
uint32_t prep_catalog_casilla_part(const prep_catalog *c, uint32_t casilla, uint32_t district_id,
                                   uint32_t municipality_id, uint32_t *matched);
/* The name of section s in paths, into out (>= 48 bytes): its four digits; a split
 * section's later parts add the slug of the unit that tells them from the first part
 * ("0333-seybaplaya"). */
void prep_catalog_section_name(const prep_catalog *c, uint32_t s, char out[48]);
/* What tells split section s's part from the others, for pages: its municipality's name
 * when the parts are each in their own municipality, else its district's when each is in
 * its own district, else NULL (then its place among the parts says it). */
const char *prep_catalog_section_part_unit(const prep_catalog *c, uint32_t s);
/* The entity id (INEGI key) of a casilla: the first two digits of its CLAVE_CASILLA. */
uint32_t prep_catalog_casilla_entity(const prep_catalog *c, uint32_t casilla);
/* The TIPO_ACTA of casilla's acta in election e: the special, abroad or plain type, or
 * PREP_CAT_ACTA_NONE when the casilla has no acta in e (an M casilla where the votes from
 * abroad do not elect). The representación proporcional acta of a special casilla is
 * el->rp_acta_type. */
uint32_t prep_catalog_acta_type_of(const prep_catalog *c, uint32_t e, uint32_t casilla);
/* Expected actas of casilla in election e: 0 (no acta there), 1, or 2 (a special casilla
 * of an election with a representación proporcional acta). */
uint32_t prep_catalog_n_actas(const prep_catalog *c, uint32_t e, uint32_t casilla);
uint32_t prep_catalog_find_party(const prep_catalog *c, const char *id);
/* How combination column names spell party p: its combo_name, else its id. */
const char *prep_catalog_party_combo_name(const prep_cat_party *p);
uint32_t prep_catalog_find_election(const prep_catalog *c, const char *id);
/* Column index in election e by header name (exact match), or PREP_CAT_NONE. */
uint32_t prep_catalog_find_column(const prep_catalog *c, uint32_t e, const char *name);
/* Coalition index by its catalogue id within election e, or PREP_CAT_NONE. */
uint32_t prep_catalog_find_coalition(const prep_catalog *c, uint32_t e, const char *id);

/* The unit (index) of election e that casilla belongs to. */
uint32_t prep_catalog_unit_of(const prep_catalog *c, uint32_t e, uint32_t casilla);
/* Name of unit u of election e ("QUERÉTARO", "DISTRITO 03", "Corregidora"). Borrowed. */
const char *prep_catalog_unit_name(const prep_catalog *c, uint32_t e, uint32_t u);
/* Whether election e has a single unit, the whole process: nation scope, or entity scope
 * in a catalogue of one entity (a gubernatura). Its candidacies then apply everywhere. */
static inline int prep_catalog_one_unit(const prep_catalog *c, uint32_t e)
{
    prep_cat_scope s = c->elections[e].scope;
    return s == PREP_CAT_SCOPE_NATION || (s == PREP_CAT_SCOPE_ENTITY && c->n_entities <= 1);
}
/* Whether column col applies in unit u of election e. */
static inline int prep_catalog_col_applies(const prep_catalog *c, uint32_t e, uint32_t u, uint32_t col)
{
    const prep_cat_election *el = &c->elections[e];
    return el->col_applies[(size_t)u * el->n_cols + col] != 0;
}
/* 1 for a mesa de escrutinio y cómputo of a way of voting that no section holds: 'M' votes
 * from abroad, and (the 2023-2024 LEEMEs) 'A' voto anticipado and 'P' personas en prisión
 * preventiva, whose rows give N/A as district, section and number. Such a casilla may sit
 * in section 0 (district 0) with number 0, and has no cap when it has no lista nominal. */
static inline int prep_cat_type_mesa(char type) { return type == 'M' || type == 'A' || type == 'P'; }
/* Formats CLAVE_CASILLA for the given parts into out (>= 24 bytes). */
void prep_catalog_casilla_key(uint32_t entity, uint32_t section, char type, uint32_t number,
                              uint32_t ext, char out[24]);
/* CLAVE_ACTA = CLAVE_CASILLA + TIPO_ACTA (two digits), into out (>= 28 bytes). */
void prep_catalog_acta_key(const char *clave_casilla, uint32_t acta_type, char out[28]);

#endif

/* prep sim, private: the real Querétaro 2021 tables (qro2021_data.c) and the model's
 * party strengths, shared by the catalogue generator and the night generator.
 * Not a public header: only the sim sources include it. Every pointer here is static. */
#ifndef PREP_SIM_INTERNAL_H
#define PREP_SIM_INTERNAL_H

#include "prep/sim.h"

/* A party as the simulator knows it. */
typedef struct sim_party_def {
    const char *id;         /* column name, e.g. "PAN" */
    const char *name;       /* "Partido Acción Nacional" */
    const char *color;      /* "#RRGGBB" */
} sim_party_def;

/* How strong a contender is in the vote model (docs/formats/sim.md "Votes"). */
typedef struct sim_strength {
    double share;           /* mean share of the valid vote where it runs alone */
    double rural_tilt;      /* log-multiplier applied in non-urban casillas */
} sim_strength;

/* One Querétaro municipality: real INEGI id and name (geojson CVE_MUN, NOM_MUN); the
 * rest is the simulation's plan (sizes approximate, district plan invented). */
typedef struct sim_qro_muni {
    uint32_t id;
    const char *name;
    uint32_t ln;            /* target lista nominal of the municipality */
    uint32_t sections;      /* number of sections */
    double urban;           /* share of its sections that are urban */
    uint32_t district;      /* first local district it belongs to */
    uint32_t n_districts;   /* districts it spans (> 1 only for the largest) */
    uint32_t specials;      /* special casillas placed in it */
    uint32_t independents;  /* independent candidacies for its ayuntamiento */
    uint32_t coalitions;    /* ayuntamientos: bit 0 PAN+QI, bit 1 MORENA+PT run there */
    const char *absent;     /* parties with no ayuntamiento candidacy there ("" none) */
} sim_qro_muni;

typedef struct sim_qro_district {
    uint32_t id;
    uint32_t coalitions;    /* bit 0 PAN+QI, bit 1 MORENA+PT */
    uint32_t independents;
    const char *absent;     /* parties with no candidacy there */
} sim_qro_district;

typedef struct sim_qro_gub_cand {
    const char *contender;  /* party id or coalition id */
    const char *name;       /* the registered candidate (public record) */
} sim_qro_gub_cand;

#define SIM_QRO_N_MUNIS 18u
#define SIM_QRO_N_DISTRICTS 15u
#define SIM_QRO_N_PARTIES 11u
#define SIM_QRO_N_GUB 10u

extern const sim_qro_muni sim_qro_munis[SIM_QRO_N_MUNIS];
extern const sim_qro_district sim_qro_districts[SIM_QRO_N_DISTRICTS];
extern const sim_party_def sim_qro_parties[SIM_QRO_N_PARTIES];
extern const sim_qro_gub_cand sim_qro_gub[SIM_QRO_N_GUB];

#define SIM_NAT_N_PARTIES 10u
extern const sim_party_def sim_nat_parties[SIM_NAT_N_PARTIES];

/* Strength of party `id` in process `process_id` ("qro2021" has its own table; any other
 * process gets the national 2021 one); unknown parties get a small default. */
sim_strength sim_party_strength(const char *process_id, const char *id);

/* Name pools for invented candidate names. */
extern const char *const sim_first_names[];
extern const size_t sim_n_first_names;
extern const char *const sim_surnames[];
extern const size_t sim_n_surnames;

/* 1 if `id` is one of the space-separated words of `list`. */
int sim_word_in(const char *list, const char *id);

/* ---------------------------------------------------------------- catalogue writer
 * Shared by the catalogue generators (sim_catalog.c, sim_national.c). */

/* A section as planned before it is written. */
typedef struct sim_gsec {
    uint32_t id;
    uint32_t district;      /* district id (within its entity) */
    uint32_t municipality;  /* municipality id (within its entity) */
    uint32_t ln;            /* lista nominal of the whole section */
    uint8_t entity;         /* entity id (national catalogues; else unused) */
    uint8_t urban;
    uint8_t specials;       /* special casillas placed here */
    uint8_t extra;          /* 1: it has an extraordinaria */
} sim_gsec;

typedef struct sim_gen {
    prep_rng rng;
    prep_buf *out;
    prep_err err;           /* sticky: the first write error */
    uint32_t cas_cap;       /* básica/contigua split: one casilla per cas_cap voters or fraction */
    uint32_t reps_min, reps_span; /* representatives: reps_min + [0, reps_span) */
    sim_gsec *sec;
    size_t n_sec, cap_sec;
    const prep_catalog *map; /* municipality map to write (map_viewbox, [shapes]), or NULL */
} sim_gen;

void sim_put(sim_gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A new zeroed section at the end of g->sec; NULL (and g->err set) when out of memory. */
sim_gsec *sim_add_section(sim_gen *g);
/* Lognormal multiplier with mean 1 and log-sd sigma. */
double sim_lognorm1(prep_rng *r, double sigma);
/* An invented "Given Surname Surname". */
void sim_put_name(sim_gen *g);
void sim_put_process(sim_gen *g, const char *id, const char *name, const char *institute, uint32_t entity_id,
                     const char *entity, const char *combo_prefix, int indep_first);
void sim_put_parties(sim_gen *g, const sim_party_def *p, size_t n);
void sim_put_party_list(sim_gen *g, const sim_party_def *p, size_t n);
void sim_put_section_casillas(sim_gen *g, const char *lead, const sim_gsec *s);

/* The federal layout (sim_national.c): 32 entities, 300 districts, three elections.
 * small: every entity and district, two sections per district (tests). */
void sim_gen_national(sim_gen *g, uint64_t seed, int small);

#endif

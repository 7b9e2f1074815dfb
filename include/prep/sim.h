/* prep sim: election-night drills. A realistic catalogue (Querétaro 2021, or INE's federal
 * night: 32 entities, 300 districts, three elections, ~70x larger) and a whole night of
 * captured actas with capture times on a realistic curve and a realistic share of every
 * inconsistency. Deterministic per seed. */
#ifndef PREP_SIM_H
#define PREP_SIM_H

#include "prep/actas.h"

/* NATIONAL: the federal layout (32 entities, 300 districts, ~71,000 sections, ~170,000
 * casillas; presidencia, senadurías, diputaciones federales). NATIONAL_SMALL: the same 32
 * entities and 300 districts with two sections per district, for tests. */
typedef enum prep_sim_scale {
    PREP_SIM_SCALE_QRO2021 = 0,
    PREP_SIM_SCALE_NATIONAL = 1,
    PREP_SIM_SCALE_TINY = 2,
    PREP_SIM_SCALE_NATIONAL_SMALL = 3
} prep_sim_scale;

/* Builds a catalogue in memory. TINY is a few sections, for fast tests. Owned. */
PREP_NODISCARD prep_err prep_sim_catalog(prep_sim_scale scale, uint64_t seed, prep_catalog **out);
/* The same catalogue as TEXT in the documented format (docs/formats/catalog.md),
 * appended to out (borrowed; the caller owns and frees the buffer). prep_sim_catalog is
 * prep_catalog_parse of exactly this text. Same (scale, seed), same bytes. */
PREP_NODISCARD prep_err prep_sim_catalog_text(prep_sim_scale scale, uint64_t seed, prep_buf *out);
/* prep_sim_catalog_text plus the municipality map: for PREP_SIM_SCALE_QRO2021, reads the
 * INEGI GeoJSON at geojson_path (borrowed; the Querétaro file of shared/data/geo) and adds
 * map_viewbox and the [shapes] table (prep_catalog_shapes_from_geojson with CVE_MUN, the
 * default width and tolerance); everything else is byte for byte the text of
 * prep_sim_catalog_text. geojson_path NULL: exactly prep_sim_catalog_text. Another scale
 * with a path: PREP_ERR_USAGE. The GeoJSON's problems go to diags (borrowed; NULL: to the
 * log) and come back as its error; nothing is appended then. */
PREP_NODISCARD prep_err prep_sim_catalog_text_geo(prep_sim_scale scale, uint64_t seed, const char *geojson_path, prep_buf *out,
                                   prep_diags *diags);

/* Adds the entity map to the text of a national catalogue (any national scale's, as
 * prep_sim_catalog_text wrote it; borrowed, replaced on success): map_viewbox at the top
 * of [process] and the [shapes] table of the 32 entities at the end, built from the
 * GeoJSON at geojson_path (shared/data/geo/mexico-entidades.geojson) by
 * prep_catalog_shapes_from_geojson with state_code, the default width and
 * PREP_CAT_GEO_NATIONAL_TOLERANCE. The rest of the text is kept byte for byte.
 * PREP_ERR_USAGE when the text is not a national catalogue; the text's or the GeoJSON's
 * problems go to diags (borrowed; NULL: dropped) and come back as their error; the text
 * is untouched then. */
PREP_NODISCARD prep_err prep_sim_catalog_add_entity_map(prep_buf *text, const char *geojson_path, prep_diags *diags);

typedef struct prep_sim_night_opts {
    uint64_t seed;
    double corrections;     /* share of actas captured twice (a correction later): 0.01 */
    double some_illegible;  /* share counted with some ILEGIBLE/SIN DATO field: ~0.2 */
    double all_illegible;   /* ~0.01 */
    double exceeds_ln;      /* ~0.003 */
    double no_acta;         /* ~0.03, split among the three reasons */
    double out_of_catalog;  /* ~0.001 */
    double never_arrive;    /* share never captured by the window's close: ~0.01 */
} prep_sim_night_opts;

void prep_sim_night_defaults(prep_sim_night_opts *o);

/* One capture set per election of c (out[e], owned), times from the window's open:
 * first actas ~20:30, half by ~midnight, a long tail to the next evening. */
PREP_NODISCARD prep_err prep_sim_actas(const prep_catalog *c, const prep_sim_night_opts *o, prep_actas **out);

#endif

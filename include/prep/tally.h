/* prep tally: results of every election at every level (entity, district, municipality,
 * section, casilla), actas progress and participation. Incremental: applying an acta
 * (new, or a correction replacing an earlier capture) costs O(levels x columns); a full
 * recount gives the same numbers. Knows nothing of files or the network, except the
 * database download writer (prep_db_*), which only formats into a buffer. */
#ifndef PREP_TALLY_H
#define PREP_TALLY_H

#include "prep/actas.h"

/* Levels, top down. NATION has one unit, the whole process; ENTITY a unit per entity of
 * the catalogue (a local catalogue has one, equal to NATION). The CASILLA level has a slot
 * per casilla, then one per special casilla for its representación proporcional acta
 * (prep_tally_rp_slot); an RP acta adds to NATION and ENTITY only: it elects by list, not
 * in the district, municipality or section of its casilla (docs/internals/tally.md). */
typedef enum prep_tally_level {
    PREP_TALLY_NATION = 0,
    PREP_TALLY_ENTITY = 1,
    PREP_TALLY_DISTRICT = 2,
    PREP_TALLY_MUNICIPALITY = 3,
    PREP_TALLY_SECTION = 4,
    PREP_TALLY_CASILLA = 5,
    PREP_TALLY_N_LEVELS = 6,
} prep_tally_level;

/* Aggregate of one unit at one level of one election. Only counted actas add votes. */
typedef struct prep_tally_agg {
    int64_t *votes;         /* n_cols of the election: sum over counted actas of each column */
    int64_t *party_votes;   /* n_parties: votes by party, combinations split (PREP-RULES.md) */
    int64_t votos_c_cs;     /* total votes of counted actas, special casillas included */
    int64_t votos_s_cs;     /* ... special casillas excluded */
    int64_t lista_nominal;  /* LN of counted actas */
    int64_t lista_nominal_expected; /* LN of every expected acta (for pages) */
    uint32_t esperadas, capturadas, contabilizadas, no_contabilizadas, inconsistentes;
    uint32_t by_status[6];  /* captured actas per prep_acta_status */
} prep_tally_agg;

typedef struct prep_tally prep_tally; /* opaque */

/* A tally of every election of catalogue c (borrowed; must outlive the tally). */
PREP_NODISCARD prep_err prep_tally_new(const prep_catalog *c, prep_tally **out);
void prep_tally_free(prep_tally *t);

/* Applies one capture of election e: classifies it (prep_actas_classify) and inserts it,
 * or replaces the current capture of the same acta (same casilla; out-of-catalogue by
 * CLAVE_ACTA). The acta and votes are copied. */
PREP_NODISCARD prep_err prep_tally_apply(prep_tally *t, uint32_t e, const prep_acta *a, const int32_t *votes);

/* A capture of election e found late: dated at or before instants already applied (a live
 * night's files are written seconds after the captures they hold). Applied (*applied = 1)
 * when the tally holds no capture of its acta or an older one (prep_actas_instant), so the
 * tally is what applying every capture in instant order gives; left (*applied = 0) when the
 * tally's is newer: that one is the correction. PREP_ERR_INVALID (nothing applied) when
 * the order cannot be told that way: the same instant as the tally's capture, or an acta
 * outside the catalogue (those are listed in the order they arrived); the caller then
 * counts every capture again from the start. */
PREP_NODISCARD prep_err prep_tally_apply_late(prep_tally *t, uint32_t e, const prep_acta *a, const int32_t *votes,
                                              int *applied);
/* 1 when capture a, out of the catalogue, is told apart from others by its source line
 * (a CLAVE_ACTA that is empty or holds '-': it names no acta). */
int prep_tally_key_by_line(const prep_acta *a);

/* Applies, in order of prep_actas_instant, the captures of set s with instant in
 * (*cursor_time, until]; keeps a per-set cursor so successive cuts apply only what is
 * new. Pass a fresh cursor (prep_tally_cursor_init) for a new set. Returns the count. */
typedef struct prep_tally_cursor {
    uint32_t *order;        /* owned: capture indices sorted by instant, then file order */
    size_t n, next;
} prep_tally_cursor;
PREP_NODISCARD prep_err prep_tally_cursor_init(prep_tally_cursor *cur, const prep_actas *s);
void prep_tally_cursor_free(prep_tally_cursor *cur);
PREP_NODISCARD prep_err prep_tally_apply_until(prep_tally *t, const prep_actas *s, prep_tally_cursor *cur,
                                prep_time until, size_t *applied);

/* Aggregate of unit idx at a level (PREP_TALLY_CASILLA: idx is the casilla index). Borrowed. */
const prep_tally_agg *prep_tally_get(const prep_tally *t, uint32_t e, prep_tally_level lvl, uint32_t idx);
/* Number of units at a level. */
uint32_t prep_tally_level_size(const prep_tally *t, prep_tally_level lvl);

/* The slot at the CASILLA level of the representación proporcional acta of casilla (a
 * special casilla), or PREP_CAT_NONE when it has none in election e. prep_tally_acta and
 * prep_tally_get take the slot like a casilla index. */
uint32_t prep_tally_rp_slot(const prep_tally *t, uint32_t e, uint32_t casilla);

/* The current capture of a casilla's acta (or of an RP slot) in election e, or NULL if
 * none yet. Borrowed; votes via *votes. */
const prep_acta *prep_tally_acta(const prep_tally *t, uint32_t e, uint32_t casilla, const int32_t **votes);
/* Out-of-catalogue captures of election e (count, and each with its votes). */
size_t prep_tally_n_out_of_catalog(const prep_tally *t, uint32_t e);
const prep_acta *prep_tally_out_of_catalog(const prep_tally *t, uint32_t e, size_t i, const int32_t **votes);

/* Votes by candidacy for the candidacies of unit `unit` of election e, summed over the
 * aggregate `agg` (which must be the unit itself or a level inside it). out[i] is for
 * the unit's i-th candidacy (catalog's cand_index order). Returns the count. */
uint32_t prep_tally_candidacy_votes(const prep_tally *t, uint32_t e, uint32_t unit,
                                    const prep_tally_agg *agg, int64_t *out, uint32_t max);

/* The 13 header-block figures of election e at the NATION level (the whole process);
 * `final_cut` as given. */
void prep_tally_summary(const prep_tally *t, uint32_t e, int final_cut, prep_summary *out);

/* Change tracking for incremental rendering: every aggregate touched since the last
 * clear is marked. */
int prep_tally_dirty(const prep_tally *t, uint32_t e, prep_tally_level lvl, uint32_t idx);
void prep_tally_clear_dirty(prep_tally *t);

/* The official database CSV of election e at cut instant `cut`: header block, columns,
 * one row per captured acta in catalogue order, then out-of-catalogue ones by CLAVE_ACTA (those
 * whose key names no acta in the order they were counted): the bytes do not depend on the
 * order the captures were counted in (a cutter continued over files that grew). */
PREP_NODISCARD prep_err prep_tally_db_write_csv(const prep_tally *t, uint32_t e, prep_time cut, int final_cut, prep_buf *out);
/* Rows of the database CSVs kept across cuts: a row is a function of its acta (or, while
 * none has arrived, of the catalogue), so a cut re-formats only the rows of the slots the
 * tally marked dirty since the last clear (prep_tally_clear_dirty, called once per cut after
 * the render, as for the render cache). One cache serves one tally; another tally resets it. */
typedef struct prep_tally_db_rows prep_tally_db_rows; /* opaque */
PREP_NODISCARD prep_err prep_tally_db_rows_new(prep_tally_db_rows **out);
void prep_tally_db_rows_free(prep_tally_db_rows *r);
/* prep_tally_db_write_csv with rows (NULL: every row formatted): the same bytes. */
PREP_NODISCARD prep_err prep_tally_db_write_csv_cached(const prep_tally *t, uint32_t e, prep_time cut, int final_cut,
                                                      prep_tally_db_rows *rows, prep_buf *out);
/* The LEEME describing every column and OBSERVACIONES value of the catalogue's files. */
PREP_NODISCARD prep_err prep_tally_db_write_leeme(const prep_catalog *c, prep_buf *out);

/* ---- additions (tally part) ---- */

/* Bytes the tally holds (its arrays, from their sizes; allocator overhead excluded). */
size_t prep_tally_bytes(const prep_tally *t);

/* The catalogue the tally was made with. Borrowed. */
const prep_catalog *prep_tally_catalog(const prep_tally *t);

/* Indices of the aggregates of a level marked since the last clear, in first-mark
 * order, so a renderer visits only what changed. *idx is borrowed, valid until the
 * next apply or clear. Returns the count. */
size_t prep_tally_dirty_list(const prep_tally *t, uint32_t e, prep_tally_level lvl, const uint32_t **idx);

/* Votes by party of any vote vector of election e (n_cols values >= 0, e.g. an
 * aggregate's votes): each combination's votes split equally among its parties, the
 * remainder one vote each to the combination's parties with the most votes of their
 * own in that vector, ties to the more senior party (docs/internals/tally.md).
 * prep_tally_agg.party_votes applies this per casilla and sums; this function applies it to
 * a unit's sums, as LGIPE art. 311.1.c does for the district sum in the cómputo.
 * party_out: c->n_parties values. */
void prep_tally_split_votes(const prep_tally *t, uint32_t e, const int64_t *votes, int64_t *party_out);

#endif

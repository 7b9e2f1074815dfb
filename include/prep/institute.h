/* The institute daemon's config (prep institute --config FILE; docs/institute.md).
 * A strict JSON object: unknown keys, wrong types and out-of-range values are refused, each
 * diag naming the key (and line:column for syntax errors), so a typo never silently
 * changes the night. Code: src/deliver/institute_config.c. */
#ifndef PREP_INSTITUTE_H
#define PREP_INSTITUTE_H

#include "prep/core.h"

#define PREP_INST_CONFIG_MAX (1u << 20) /* bytes of a config file */

typedef struct prep_inst_config {
    /* owned strings; NULL when absent */
    char *catalog, *actas, *key, *pubkey, *store, *registry, *secrets;
    int drill;
    char *clock_start;      /* accelerated clock: the first simulated instant (local time) */
    double seconds_per_cut; /* real seconds per cut on the accelerated clock (0.5..3600) */
    char *until;            /* last cut instant (default: the window's close) */
    char *pull_listen, *pull_cert, *pull_key;
    int parallel;           /* 1..64, default 8 */
    int retries;            /* 0..20, default 2 */
    long backoff_ms;        /* 10..600000, default 1000 */
    int max_cuts;           /* 0..1000000, 0 = run the whole window */
    unsigned store_keep;    /* 1..PREP_INST_STORE_KEEP_MAX: after each cut the store keeps the
                             * objects of this many newest cuts (prep_cut_store_gc); 0 = all */
} prep_inst_config;

#define PREP_INST_STORE_KEEP_MAX 100000

/* Parses data[0..len) (borrowed; name labels the diags). On error *c is left empty
 * (freeable) and diags say what: kinds "config-syntax" (with line:column),
 * "config-field" (unknown key or wrong type), "config-range", "config-missing",
 * "limit". A bad value's diag carries the line of its key when the key is found. */
prep_err prep_inst_config_parse(const void *data, size_t len, const char *name, prep_inst_config *c,
                                prep_diags *d);
void prep_inst_config_free(prep_inst_config *c);

#endif

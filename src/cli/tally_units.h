/* prep tally --units-json (tally_units.c). */
#ifndef PREP_CLI_TALLY_UNITS_H
#define PREP_CLI_TALLY_UNITS_H

#include "prep/tally.h"

/* Every election's figures per unit at the nation, entity, district and section levels
 * (actas expected, captured, counted; votes per column) as one JSON object appended to b. */
PREP_NODISCARD prep_err cli_tally_units_json(const prep_catalog *c, const prep_tally *t, prep_buf *b);

#endif

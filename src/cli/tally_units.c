/* prep tally --units-json FILE: every election's figures per unit at the nation, entity,
 * district and section levels, as one JSON object, for checks that recount a night
 * independently (tests/integ/national_recount.sh). Ids only: the names are the
 * catalogue's. */
#include "tally_units.h"

static const struct {
    prep_tally_level lvl;
    const char *name;
} unit_levels[] = {
    {PREP_TALLY_NATION, "nation"},
    {PREP_TALLY_ENTITY, "entity"},
    {PREP_TALLY_DISTRICT, "district"},
    {PREP_TALLY_SECTION, "section"},
};

/* Entity id and unit id of unit idx at a level. */
static void unit_ids(const prep_catalog *c, prep_tally_level lvl, uint32_t idx, uint32_t *ent, uint32_t *id)
{
    *ent = *id = 0;
    if (lvl == PREP_TALLY_ENTITY && idx < c->n_entities) {
        *ent = *id = c->entities[idx].id;
    } else if (lvl == PREP_TALLY_DISTRICT && idx < c->n_districts) {
        *ent = c->entities[c->districts[idx].entity].id;
        *id = c->districts[idx].id;
    } else if (lvl == PREP_TALLY_SECTION && idx < c->n_sections) {
        *ent = c->entities[c->sections[idx].entity].id;
        *id = c->sections[idx].id;
    }
}

prep_err cli_tally_units_json(const prep_catalog *c, const prep_tally *t, prep_buf *b)
{
    prep_buf_printf(b, "{\"process\":\"%s\",\"elections\":[", c->process_id);
    for (uint32_t e = 0; e < c->n_elections; e++) {
        const prep_cat_election *el = &c->elections[e];
        prep_buf_printf(b, "%s\n{\"id\":\"%s\",\"columns\":[", e ? "," : "", el->id);
        for (uint32_t k = 0; k < el->n_cols; k++) prep_buf_printf(b, "%s\"%s\"", k ? "," : "", el->cols[k].name);
        prep_buf_printf(b, "],\"units\":[");
        int first = 1;
        for (size_t l = 0; l < PREP_ARRAY_LEN(unit_levels); l++) {
            uint32_t n = prep_tally_level_size(t, unit_levels[l].lvl);
            for (uint32_t i = 0; i < n; i++) {
                const prep_tally_agg *a = prep_tally_get(t, e, unit_levels[l].lvl, i);
                if (!a) continue;
                uint32_t ent, id;
                unit_ids(c, unit_levels[l].lvl, i, &ent, &id);
                prep_buf_printf(b, "%s\n{\"level\":\"%s\",\"entity\":%u,\"id\":%u,\"esperadas\":%u,\"capturadas\":%u,"
                                   "\"contabilizadas\":%u,\"votes\":[",
                                first ? "" : ",", unit_levels[l].name, ent, id, a->esperadas, a->capturadas,
                                a->contabilizadas);
                first = 0;
                for (uint32_t k = 0; k < el->n_cols; k++)
                    prep_buf_printf(b, "%s%lld", k ? "," : "", (long long)a->votes[k]);
                prep_buf_printf(b, "]}");
            }
        }
        prep_buf_printf(b, "]}");
    }
    prep_buf_printf(b, "]}\n");
    return prep_buf_err(b);
}

/* libFuzzer target: the actas reader on arbitrary bytes against a small fixed catalogue
 * (the same as tests/data/actas/mini.cat), or, for an input naming INE's federal district
 * column (ID_DISTRITO_FEDERAL), against a national one (tests/data/catalog/national.cat,
 * its diputaciones: entities, special casillas' RP actas, no acta from abroad). It must never crash, hang or leak; a refusal
 * always comes with a diag; every row is kept or reported; and what it accepts must
 * write and read back to the same actas (docs/formats/actas.md, "Round trip").
 * Seeds: fuzz/corpus/actas/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prep/actas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char mini_cat[] =
    "prep-catalog 1\n"
    "[process]\n"
    "id = mini\nname = Proceso de prueba\ninstitute = Instituto de prueba\nentity_id = 22\n"
    "entity = QUERÉTARO\ntimezone = America/Mexico_City\nwindow_open = 2021-06-06 20:00\n"
    "window_close = 2021-06-07 20:00\ncut_interval = 300\ncombo_prefix = C_\nindependents_first = no\n"
    "csv_separator = |\nparticipation_specials = final-only\npercent_decimals = 4\n"
    "[parties]\nid|name|color\nPAN|Partido Acción Nacional|#0055A5\nPRI|PRI|#E30613\nPRD|PRD|#FFD200\n"
    "MORENA|Morena|#B5261E\nPT|PT|#D71920\n"
    "[districts]\nid|name\n1|DISTRITO 01\n2|DISTRITO 02\n"
    "[municipalities]\nid|name\n14|Querétaro\n"
    "[sections]\nid|district|municipality\n100|1|14\n200|2|14\n"
    "[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots\n"
    "100|B|1|0|1|500|10|0\n100|C|1|0|1|500|10|0\n100|S|1|0|1|0|10|750\n200|B|1|0|2|300|12|0\n"
    "200|E|1|0|2|200|12|0\n200|E|1|1|2|150|12|0\n"
    "[elections]\nid|name|title|scope|acta_type|parties\n"
    "dip|DIPUTACIONES LOCALES|Diputaciones locales|district|2|PAN PRI PRD MORENA PT\n"
    "[coalitions]\nelection|id|name|parties\ndip|JH|Juntos Haremos Historia|MORENA PT\n"
    "[candidacies]\nelection|unit|contender|name\n"
    "dip|1|PAN|A\ndip|1|PRI|B\ndip|1|PRD|C\ndip|1|JH|D\n"
    "dip|2|PAN|A\ndip|2|PRI|B\ndip|2|PRD|C\ndip|2|MORENA|D\ndip|2|PT|E\ndip|2|CAND_IND_1|F\n";

static const char national_cat[] =
    "prep-catalog 1\n"
    "[process]\n"
    "id = nac2024\n"
    "name = Proceso Electoral Federal de Prueba\n"
    "institute = Instituto Nacional Electoral\n"
    "entity_id = 0\n"
    "entity = ESTADOS UNIDOS MEXICANOS\n"
    "timezone = America/Mexico_City\n"
    "window_open = 2024-06-02 20:00\n"
    "window_close = 2024-06-03 20:00\n"
    "[entities]\n"
    "id|name|circ\n"
    "1|AGUASCALIENTES|2\n"
    "9|CIUDAD DE MÉXICO|4\n"
    "22|QUERÉTARO|2\n"
    "[parties]\n"
    "id|name|color\n"
    "PAN|Partido Acción Nacional|#0055A5\n"
    "PRI|Partido Revolucionario Institucional|#E30613\n"
    "MORENA|Morena|#B5261E\n"
    "[districts]\n"
    "entity|id|name\n"
    "1|0|VOTO EN EL EXTRANJERO\n"
    "1|1|JESÚS MARÍA\n"
    "1|2|AGUASCALIENTES\n"
    "9|1|GUSTAVO A. MADERO\n"
    "22|1|CADEREYTA DE MONTES\n"
    "[municipalities]\n"
    "entity|id|name\n"
    "1|1|Aguascalientes\n"
    "9|5|Gustavo A. Madero\n"
    "22|4|Cadereyta de Montes\n"
    "[sections]\n"
    "entity|id|district|municipality\n"
    "9|100|1|5\n"
    "1|100|1|1\n"
    "1|0|0|1\n"
    "1|200|2|1\n"
    "22|50|1|4\n"
    "[casillas]\n"
    "entity|section|type|number|ext|urban|lista_nominal|representatives|ballots\n"
    "1|0|M|1|0|1|30|0|0\n"
    "1|100|B|1|0|1|600|4|0\n"
    "1|100|S|1|0|1|0|4|750\n"
    "1|200|B|1|0|2|500|4|0\n"
    "1|200|V|1|0|1|40|2|0\n"
    "9|100|B|1|0|1|700|4|0\n"
    "22|50|B|1|0|2|300|4|0\n"
    "[elections]\n"
    "id|name|title|scope|acta_type|parties|special_acta_type|abroad_acta_type|rp_acta_type\n"
    "pres|PRESIDENCIA|Presidencia de la República|nation|2|PAN PRI MORENA|2|1|0\n"
    "sen|SENADURIAS|Senadurías|entity|3|PAN PRI MORENA|4|18|5\n"
    "dip|DIPUTACIONES FEDERALES|Diputaciones federales|district|6|PAN PRI MORENA|7|-|8\n"
    "[candidacies]\n"
    "election|unit|contender|name\n"
    "pres|*|PAN|CANDIDATA A\n"
    "pres|*|PRI|CANDIDATO B\n"
    "pres|*|MORENA|CANDIDATA C\n"
    "sen|1|PAN|FORMULA PAN AGS\n"
    "sen|1|MORENA|FORMULA MORENA AGS\n"
    "sen|9|MORENA|FORMULA MORENA CDMX\n"
    "sen|22|PRI|FORMULA PRI QRO\n"
    "dip|1-1|PAN|DIP AGS 1\n"
    "dip|1-2|PRI|DIP AGS 2\n"
    "dip|9-1|MORENA|DIP CDMX 1\n"
    "dip|22-1|PAN|DIP QRO 1\n";

static prep_catalog *cat, *local_cat, *nat_cat;

/* Whether t survives being written as local wall time and read back: not so for the
 * repeated hour when daylight saving time ends (docs/formats/actas.md, "Limits"). */
static int stable(prep_time t)
{
    char b[40];
    prep_time u;
    if (t == PREP_TIME_NONE) return 1;
    if (prep_time_format(t, cat->timezone, PREP_TS_ISO, b, sizeof b) != 0) return 0;
    return prep_time_parse(b, cat->timezone, &u) == 0 && u == t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!local_cat) {
        prep_diags d;
        prep_diags_init(&d);
        if (prep_catalog_parse("mini.cat", mini_cat, sizeof mini_cat - 1, &local_cat, &d) != PREP_OK) abort();
        if (prep_catalog_parse("national.cat", national_cat, sizeof national_cat - 1, &nat_cat, &d) != PREP_OK) abort();
        prep_diags_free(&d);
    }
    size_t head = size < 4096 ? size : 4096;
    int federal = memmem(data, head, "ID_DISTRITO_FEDERAL", 19) != NULL;
    cat = federal ? nat_cat : local_cat;
    uint32_t e = federal ? prep_catalog_find_election(nat_cat, "dip") : 0;
    prep_diags d;
    prep_diags_init(&d);
    d.max_keep = 20;
    prep_actas *s = NULL;
    prep_err r = prep_actas_parse("fuzz.csv", (const char *)data, size, cat, e, &s, &d);
    if ((r == PREP_OK) != (s != NULL)) abort();
    if (r != PREP_OK && d.total == 0 && r != PREP_ERR_NOMEM) abort(); /* every refusal says why */
    if (s) {
        /* every row read is kept or reported */
        if (s->rows_read != s->n + s->rows_bad + s->rows_pending) abort();
        if (d.total < s->rows_bad) abort();
        /* integrity: every conflict is a diag; the header block reads on its own as in the set */
        size_t before = d.total;
        size_t nconf = prep_actas_conflicts(s, "fuzz.csv", &d);
        if (d.total != before + nconf) abort();
        prep_actas_header h;
        if (prep_actas_read_header("fuzz.csv", (const char *)data, size, &h, &d) != PREP_OK) abort();
        if (h.n_summary != s->hdr.n_summary) abort();
        prep_actas_header_free(&h);
        uint32_t nc = cat->elections[e].n_cols;
        prep_buf w;
        prep_buf_init(&w, 0);
        prep_summary sum = {.esperadas = 6, .registradas = (int64_t)s->n};
        if (prep_actas_write_header_block(cat, e, 1623038700, &sum, &w) != PREP_OK) abort();
        if (prep_actas_write_columns(cat, e, &w) != PREP_OK) abort();
        for (size_t i = 0; i < s->n; i++)
            if (prep_actas_write_row(cat, e, &s->v[i], prep_acta_votes(s, &s->v[i]), &w) != PREP_OK) abort();
        prep_diags d2;
        prep_diags_init(&d2);
        prep_actas *t = NULL;
        if (prep_actas_parse("w", w.data, w.len, cat, e, &t, &d2) != PREP_OK) abort();
        if (d2.total != 0 || t->n != s->n) abort();
        for (size_t i = 0; i < s->n; i++) {
            const prep_acta *a = &s->v[i], *b = &t->v[i];
            if (a->status != b->status || a->casilla != b->casilla) abort();
            if (a->total_calculado != b->total_calculado) abort();
            if (a->casilla == PREP_CAT_NONE) continue; /* out of catalogue: kept as read, not re-checked */
            if (a->no_acta != b->no_acta || strcmp(a->clave_acta, b->clave_acta)) abort();
            if ((stable(a->acopio) && a->acopio != b->acopio) || (stable(a->captura) && a->captura != b->captura) ||
                (stable(a->verificacion) && a->verificacion != b->verificacion))
                abort();
            if (memcmp(prep_acta_votes(s, a), prep_acta_votes(t, b), nc * sizeof(int32_t))) abort();
        }
        prep_actas_free(t);
        prep_diags_free(&d2);
        prep_buf_free(&w);
        prep_actas_free(s);
    }
    prep_diags_free(&d);
    return 0;
}

/* prep actas: the Anexo 13 counting rules for one acta. Sources and the checks against
 * the real Quintana Roo 2019 file: docs/formats/actas.md, "Counting rules". */
#include "actas_internal.h"

#include <string.h>

int prep_actas_status_inconsistent(const prep_rules *r, prep_acta_status s)
{
    /* LEEME (INE 2018, 2021; QROO 2019), PORCENTAJE_ACTAS_CON_INCONSISTENCIAS: "solo se
     * consideran las actas que presentan las siguientes inconsistencias: Excede Lista
     * Nominal, Ilegible o Sin Dato" (the "ine" profile); institutes differ (rules.c). Fuera
     * de catálogo is never counted: it is not an expected acta. */
    unsigned bit = s == PREP_ACTA_COUNTED_SOME_ILLEGIBLE ? PREP_INC_SOME_ILLEGIBLE
                   : s == PREP_ACTA_NC_ALL_ILLEGIBLE     ? PREP_INC_ALL_ILLEGIBLE
                   : s == PREP_ACTA_NC_EXCEEDS_LN        ? PREP_INC_EXCEEDS
                   : s == PREP_ACTA_NC_NO_ACTA           ? PREP_INC_NO_ACTA
                                                    : 0;
    return (r->inconsistent & bit) != 0;
}

int prep_actas_status_no_counted(const prep_rules *r, prep_acta_status s)
{
    if (prep_acta_status_counted(s)) return 0;
    if (s == PREP_ACTA_NC_NO_ACTA) return r->no_counted_no_acta;
    if (s == PREP_ACTA_NC_OUT_OF_CATALOG) return r->no_counted_out_of_catalog;
    return 1;
}

int prep_actas_no_counted(const prep_rules *r, const prep_acta *a)
{
    prep_acta_status s = (prep_acta_status)a->status;
    if (r->published && s == PREP_ACTA_NC_NO_ACTA && a->contabilizada >= 0) return a->contabilizada != 1;
    return prep_actas_status_no_counted(r, s);
}

const char *prep_actas_status_tag(prep_acta_status s)
{
    switch (s) {
    case PREP_ACTA_COUNTED: return "counted";
    case PREP_ACTA_COUNTED_SOME_ILLEGIBLE: return "counted-some-illegible";
    case PREP_ACTA_NC_EXCEEDS_LN: return "exceeds-lista-nominal";
    case PREP_ACTA_NC_ALL_ILLEGIBLE: return "all-illegible";
    case PREP_ACTA_NC_NO_ACTA: return "no-acta";
    case PREP_ACTA_NC_OUT_OF_CATALOG: return "out-of-catalog";
    }
    return "unknown";
}

/* A published results file keeps the values of an acta, not always what was captured:
 * Sonora 2021 notes "ALGUN CAMPO ILEGIBLE" on 570 counted actas whose fields are all
 * numbers, Puebla 2018 and Campeche 2021 write 0 in every vote field of an acta they did
 * not count as all illegible or exceeding. Where the values show nothing, the row's own
 * statement (OBSERVACIONES, with CONTABILIZADA 0 for a not-counted one) says what they
 * lost; where they show a status, the values decide (docs/formats/actas.md, "Published
 * files"). */
static prep_acta_status published_status(const prep_acta *a, prep_acta_status st, int64_t total)
{
    if (st == PREP_ACTA_COUNTED && a->obs_stated == RS_SOME) return PREP_ACTA_COUNTED_SOME_ILLEGIBLE;
    if (prep_acta_status_counted(st) && a->contabilizada == 0 && total == 0) {
        if (a->obs_stated == RS_ALL) return PREP_ACTA_NC_ALL_ILLEGIBLE;
        if (a->obs_stated == RS_EXCEEDS) return PREP_ACTA_NC_EXCEEDS_LN;
    }
    return st;
}

int actas_rp_party_col(const prep_catalog *c, uint32_t e, const prep_acta *a, uint32_t j)
{
    const prep_cat_election *el = &c->elections[e];
    return c->rules.published && el->rp_acta_type && a->casilla != PREP_CAT_NONE &&
           c->casillas[a->casilla].type == 'S' && el->cols[j].kind == PREP_CAT_COL_PARTY;
}

prep_acta_status prep_actas_classify(const prep_catalog *c, uint32_t e, prep_acta *a, const int32_t *votes)
{
    const prep_cat_election *el = &c->elections[e];
    uint32_t unit = a->casilla != PREP_CAT_NONE ? prep_catalog_unit_of(c, e, a->casilla) : PREP_CAT_NONE;
    int64_t total = 0;
    uint32_t legible = 0, blank = 0;
    /* The vote fields are those of parties, combinations, independents, no registrados
     * and nulos that are on the unit's ballot; TOTAL_VOTOS_CALCULADO is their sum with
     * ILEGIBLE, SIN DATO and "-" as 0. The ballot-accounting fields (boletas sobrantes,
     * personas que votaron...) never decide the status (QROO 2019: 87 counted actas
     * with such a field SIN DATO carry no observation). */
    for (uint32_t j = 0; j < el->n_cols; j++) {
        int32_t v = votes[j];
        if (unit != PREP_CAT_NONE && !prep_catalog_col_applies(c, e, unit, j) &&
            !(v >= 0 && actas_rp_party_col(c, e, a, j)))
            continue;
        if (v >= 0) {
            total += v;
            legible++;
        } else if (v == PREP_ACTA_V_NA && (unit == PREP_CAT_NONE || c->rules.published)) {
            continue; /* out of catalogue: we cannot tell which columns apply; a published
                       * file's '-': not on this acta */
        } else {
            blank++; /* ILEGIBLE, SIN DATO, not captured, or "-" where the column applies */
        }
    }
    prep_acta_status st;
    if (a->casilla == PREP_CAT_NONE) {
        st = PREP_ACTA_NC_OUT_OF_CATALOG;
    } else if (a->no_acta != PREP_ACTA_HAS_ACTA) {
        st = PREP_ACTA_NC_NO_ACTA;
        total = 0;
    } else if (legible == 0) {
        st = PREP_ACTA_NC_ALL_ILLEGIBLE;
    } else {
        const prep_cat_casilla *cc = &c->casillas[a->casilla];
        /* cap: lista nominal + representatives; special casillas (no lista nominal of their
         * own): ballots approved + representatives */
        int64_t cap = (int64_t)(cc->type == 'S' ? cc->ballots : cc->lista_nominal) +
                      (c->rules.cap_representatives ? (int64_t)cc->representatives : 0);
        /* votes from abroad with no lista nominal given (Puebla 2018's M casilla: LISTA_NOMINAL
         * 0, 4,931 votes, counted), another mesa without one (voto anticipado, prisión
         * preventiva), or a casilla of a type of [rules] other_casilla_types without one
         * (what it is the file does not say): no cap to exceed */
        int uncapped = (prep_cat_type_mesa(cc->type) || !prep_catalog_type_valid(NULL, cc->type)) &&
                       !cc->lista_nominal;
        if (total > cap && !uncapped) st = PREP_ACTA_NC_EXCEEDS_LN;
        else if (blank) st = PREP_ACTA_COUNTED_SOME_ILLEGIBLE;
        else st = PREP_ACTA_COUNTED;
        if (c->rules.published) st = published_status(a, st, total);
    }
    a->total_calculado = total;
    a->status = (uint8_t)st;
    return st;
}

prep_time prep_actas_instant(const prep_acta *a)
{
    if (a->verificacion != PREP_TIME_NONE) return a->verificacion;
    if (a->captura != PREP_TIME_NONE) return a->captura;
    return a->acopio;
}

int prep_actas_supersedes(const prep_acta *newer, const prep_acta *older)
{
    prep_time tn = prep_actas_instant(newer), to = prep_actas_instant(older);
    if (tn != to) return tn > to;
    return newer->line > older->line;
}

static const char *label_or(const char *label, const char *dflt)
{
    return label && *label ? label : dflt;
}

const char *prep_actas_observaciones(const prep_catalog *c, const prep_acta *a)
{
    const prep_cat_labels *l = &c->labels;
    switch ((prep_acta_status)a->status) {
    case PREP_ACTA_COUNTED: return "";
    case PREP_ACTA_COUNTED_SOME_ILLEGIBLE: return label_or(l->some_illegible, "ALGUN DATO ILEGIBLE O SIN DATO");
    case PREP_ACTA_NC_EXCEEDS_LN: return label_or(l->exceeds_ln, "EXCEDE LISTA NOMINAL");
    case PREP_ACTA_NC_ALL_ILLEGIBLE: return label_or(l->all_illegible, "TODOS ILEGIBLES O SIN DATO");
    case PREP_ACTA_NC_OUT_OF_CATALOG: return label_or(l->out_of_catalog, "FUERA DE CATALOGO");
    case PREP_ACTA_NC_NO_ACTA:
        switch ((prep_acta_no_acta)a->no_acta) {
        case PREP_ACTA_NO_ACTA_NOT_DELIVERED:
            return label_or(l->no_acta_not_delivered, "SIN ACTA POR PAQUETE NO ENTREGADO");
        case PREP_ACTA_NO_ACTA_NOT_INSTALLED:
            return label_or(l->no_acta_not_installed, "SIN ACTA POR CASILLA NO INSTALADA");
        case PREP_ACTA_NO_ACTA_NO_ENVELOPE:
            return label_or(l->no_acta_no_envelope, "SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE");
        case PREP_ACTA_HAS_ACTA:
        case PREP_ACTA_NO_ACTA_OTHER:
            break;
        }
        return "SIN ACTA";
    }
    return "";
}

void prep_actas_vote_text(int32_t v, char out[16])
{
    switch (v) {
    case PREP_ACTA_V_ILEGIBLE: memcpy(out, "ILEGIBLE", 9); return;
    case PREP_ACTA_V_SIN_DATO: memcpy(out, "SIN DATO", 9); return;
    case PREP_ACTA_V_NA: memcpy(out, "-", 2); return;
    case PREP_ACTA_V_NONE: memcpy(out, "0", 2); return;
    default: break;
    }
    if (v < 0) {
        memcpy(out, "SIN DATO", 9);
        return;
    }
    *prep_put_dec(out, (uint64_t)v, 0) = 0; /* v <= INT32_MAX: at most 10 digits */
}

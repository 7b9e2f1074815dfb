/* prep actas: writing the database in the one documented variant (docs/formats/actas.md,
 * "Output variant"): catalogue separator, UTF-8, LF, "sep=X" line, header block, blank
 * line, column header, one row per acta. */
#include "actas_internal.h"

#include <string.h>

const char *const prep_actas_summary_names[13] = {
    "ACTAS_ESPERADAS",
    "ACTAS_REGISTRADAS",
    "ACTAS_FUERA_CATALOGO",
    "ACTAS_CAPTURADAS",
    "PORCENTAJE_ACTAS_CAPTURADAS",
    "ACTAS_CONTABILIZADAS",
    "PORCENTAJE_ACTAS_CONTABILIZADAS",
    "PORCENTAJE_ACTAS_INCONSISTENCIAS",
    "ACTAS_NO_CONTABILIZADAS",
    "LISTA_NOMINAL_ACTAS_CONTABILIZADAS",
    "TOTAL_VOTOS_C_CS",
    "TOTAL_VOTOS_S_CS",
    "PORCENTAJE_PARTICIPACION_CIUDADANA",
};

void prep_actas_summary_values(const prep_catalog *c, const prep_summary *s, char out[13][32])
{
    int dec = (int)c->pct_decimals;
    snprintf(out[0], 32, "%lld", (long long)s->esperadas);
    snprintf(out[1], 32, "%lld", (long long)s->registradas);
    snprintf(out[2], 32, "%lld", (long long)s->fuera_catalogo);
    snprintf(out[3], 32, "%lld", (long long)s->capturadas);
    prep_pct_trunc(s->capturadas, s->esperadas, dec, out[4], 32);
    snprintf(out[5], 32, "%lld", (long long)s->contabilizadas);
    prep_pct_trunc(s->contabilizadas, s->esperadas, dec, out[6], 32);
    prep_pct_trunc(s->inconsistentes, s->esperadas, dec, out[7], 32);
    snprintf(out[8], 32, "%lld", (long long)s->no_contabilizadas);
    snprintf(out[9], 32, "%lld", (long long)s->lista_nominal);
    snprintf(out[10], 32, "%lld", (long long)s->votos_c_cs);
    snprintf(out[11], 32, "%lld", (long long)s->votos_s_cs);
    /* Participation: special casillas have no lista nominal of their own, so their votes
     * stay out of the ratio, except where the institute counts them (QROO 2019 LEEME:
     * only in the last cut). */
    int64_t votes = s->votos_s_cs;
    if (c->rules.specials == PREP_CAT_SPECIALS_INCLUDE || (c->rules.specials == PREP_CAT_SPECIALS_FINAL_ONLY && s->final_cut))
        votes = s->votos_c_cs;
    prep_pct_trunc(votes, s->lista_nominal, dec, out[12], 32);
}

/* Appends one field, quoted (RFC 4180) when it holds the separator, a quote or a line
 * break, which only free text from a catalogue can. */
static prep_err put_field(prep_buf *b, char sep, const char *s, int first)
{
    prep_err err = PREP_OK;
    if (!first && (err = prep_buf_putc(b, sep))) return err;
    if (!strchr(s, sep) && !strchr(s, '"') && !strchr(s, '\n') && !strchr(s, '\r')) return prep_buf_puts(b, s);
    if ((err = prep_buf_putc(b, '"'))) return err;
    for (const char *p = s; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            if ((err = prep_buf_putc(b, ' '))) return err;
            continue;
        }
        if (*p == '"' && (err = prep_buf_putc(b, '"'))) return err;
        if ((err = prep_buf_putc(b, *p))) return err;
    }
    return prep_buf_putc(b, '"');
}

static char sep_of(const prep_catalog *c)
{
    return c->csv_sep == ',' ? ',' : '|';
}

prep_err prep_actas_write_header_block(const prep_catalog *c, uint32_t e, prep_time cut, const prep_summary *s,
                                       prep_buf *out)
{
    char sep = sep_of(c);
    char when[64];
    if (prep_time_format(cut, c->timezone, PREP_TS_HEADER, when, sizeof when) != 0) return PREP_ERR_INVALID;
    char vals[13][32];
    prep_actas_summary_values(c, s, vals);
    prep_err err;
    if ((err = prep_buf_printf(out, "sep=%c\n", sep))) return err;
    if ((err = put_field(out, sep, c->elections[e].name, 1)) || (err = prep_buf_putc(out, '\n'))) return err;
    if ((err = prep_buf_printf(out, "%s\n", when))) return err;
    for (int i = 0; i < 13; i++)
        if ((err = put_field(out, sep, prep_actas_summary_names[i], i == 0))) return err;
    if ((err = prep_buf_putc(out, '\n'))) return err;
    for (int i = 0; i < 13; i++)
        if ((err = put_field(out, sep, vals[i], i == 0))) return err;
    return prep_buf_puts(out, "\n\n");
}

/* The columns we write, around the election's vote columns. */
static const actas_role pre_roles[] = {
    AR_CLAVE_CASILLA, AR_CLAVE_ACTA,   AR_ID_ENTIDAD,   AR_ENTIDAD,      AR_ID_DISTRITO,       AR_DISTRITO,
    AR_ID_MUNICIPIO,  AR_MUNICIPIO,    AR_SECCION,      AR_ID_CASILLA,   AR_TIPO_CASILLA,      AR_EXT_CONTIGUA,
    AR_UBICACION,     AR_TIPO_ACTA,    AR_BOLETAS_SOBRANTES, AR_PERSONAS_VOTARON, AR_REP_VOTARON, AR_VOTOS_SACADOS,
};
static const actas_role post_roles[] = {
    AR_TOTAL_ASENTADO, AR_TOTAL_CALCULADO, AR_LISTA_NOMINAL, AR_REPRESENTANTES, AR_OBSERVACIONES,
    AR_CONTABILIZADA,  AR_MECANISMO,       AR_SHA,           AR_ACOPIO,         AR_CAPTURA,
    AR_VERIFICACION,   AR_ORIGEN,          AR_DIGITALIZACION, AR_TIPO_DOCUMENTO, AR_COTEJADA,
};

/* The name we write for a column of pre_roles. A national catalogue (INE) writes the
 * federal layout of the LEEMEs INE 2018 / 2021: ID_ESTADO, ESTADO, ID_DISTRITO_FEDERAL,
 * DISTRITO_FEDERAL and no municipality columns; NULL for a column it leaves out. */
static const char *pre_name(const prep_catalog *c, actas_role r)
{
    if (!c->national) return actas_role_name(r);
    switch (r) {
    case AR_ID_ENTIDAD: return "ID_ESTADO";
    case AR_ENTIDAD: return "ESTADO";
    case AR_ID_DISTRITO: return "ID_DISTRITO_FEDERAL";
    case AR_DISTRITO: return "DISTRITO_FEDERAL";
    case AR_ID_MUNICIPIO:
    case AR_MUNICIPIO: return NULL;
    default: return actas_role_name(r);
    }
}

prep_err prep_actas_write_columns(const prep_catalog *c, uint32_t e, prep_buf *out)
{
    char sep = sep_of(c);
    const prep_cat_election *el = &c->elections[e];
    prep_err err;
    int first = 1;
    for (size_t i = 0; i < PREP_ARRAY_LEN(pre_roles); i++) {
        const char *n = pre_name(c, pre_roles[i]);
        if (!n) continue;
        if ((err = put_field(out, sep, n, first))) return err;
        first = 0;
    }
    for (uint32_t j = 0; j < el->n_cols; j++)
        if ((err = put_field(out, sep, el->cols[j].name, 0))) return err;
    for (size_t i = 0; i < PREP_ARRAY_LEN(post_roles); i++)
        if ((err = put_field(out, sep, actas_role_name(post_roles[i]), 0))) return err;
    return prep_buf_putc(out, '\n');
}

static prep_err put_u(prep_buf *b, char sep, uint64_t v)
{
    char t[24];
    *prep_put_dec(t, v, 0) = 0; /* not snprintf: a database row has ~40 numbers */
    return put_field(b, sep, t, 0);
}

/* A vote-like value; PREP_ACTA_V_NONE is "0" on a row without acta (QROO 2019) and
 * "SIN DATO" on any other. */
static prep_err put_v(prep_buf *b, char sep, int32_t v, int no_acta)
{
    char t[16];
    if (v == PREP_ACTA_V_NONE && !no_acta) v = PREP_ACTA_V_SIN_DATO;
    prep_actas_vote_text(v, t);
    return put_field(b, sep, t, 0);
}

static prep_err put_time(prep_buf *b, char sep, const prep_catalog *c, prep_time t)
{
    char s[40] = "";
    if (t != PREP_TIME_NONE && prep_time_format(t, c->timezone, PREP_TS_ISO, s, sizeof s) != 0) s[0] = 0;
    return put_field(b, sep, s, 0);
}

/* The acta type a capture of casilla's acta carries when nothing was read: the RP type
 * for the representación proporcional acta, else the casilla's in the election (special,
 * abroad or plain: prep_catalog_acta_type_of), else the election's. */
static uint32_t expected_tipo(const prep_catalog *c, uint32_t e, const prep_acta *a)
{
    const prep_cat_election *el = &c->elections[e];
    if (a->rp && el->rp_acta_type) return el->rp_acta_type;
    if (a->casilla != PREP_CAT_NONE && a->casilla < c->n_casillas) {
        uint32_t t = prep_catalog_acta_type_of(c, e, a->casilla);
        if (t != PREP_CAT_ACTA_NONE) return t;
    }
    return el->acta_type;
}

/* TIPO_ACTA as printed: the digits after CLAVE_CASILLA in CLAVE_ACTA (special casillas
 * print another acta type, QROO 2019: 3 for 2), else the expected one. Never 0 for an
 * acta of the catalogue: 0 reads back as out of the catalogue (a CLAVE_ACTA ending in
 * 00 beside TIPO_ACTA 2 would turn a counted acta into one; found by fuzz_actas). */
static uint32_t tipo_acta_of(const prep_catalog *c, uint32_t e, const prep_acta *a)
{
    size_t k = strlen(a->clave_casilla);
    if (k && !strncmp(a->clave_acta, a->clave_casilla, k) && a->clave_acta[k]) {
        uint32_t v;
        if (prep_parse_u32(a->clave_acta + k, &v) == 0 && v <= 99 && (v || a->casilla == PREP_CAT_NONE)) return v;
    }
    return expected_tipo(c, e, a);
}

/* The entity of a row: its casilla's, else the first two digits of its key, else (no key)
 * the process's (0 in a national catalogue, written empty). */
static uint32_t row_entity(const prep_catalog *c, const prep_acta *a)
{
    if (a->casilla != PREP_CAT_NONE && a->casilla < c->n_casillas) return prep_catalog_casilla_entity(c, a->casilla);
    const char *k = a->clave_casilla;
    if (k[0] >= '0' && k[0] <= '9' && k[1] >= '0' && k[1] <= '9') return (uint32_t)(k[0] - '0') * 10 + (uint32_t)(k[1] - '0');
    return c->entity_id;
}

/* The identification fields of a row (CLAVE_CASILLA .. TIPO_ACTA). */
static prep_err put_identity(const prep_catalog *c, uint32_t e, const prep_acta *a, char sep, prep_buf *out)
{
    /* identification */
    char key[32];
    int alnum = a->clave_casilla[0] != 0;
    for (const char *p = a->clave_casilla; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z'))) alnum = 0;
    if (alnum) snprintf(key, sizeof key, "=\"%s\"", a->clave_casilla);
    else snprintf(key, sizeof key, "-");
    char acta[28];
    /* an RP acta whose number is the MR acta's carries the election's mark (3RP) */
    const char *mark = a->rp && a->casilla != PREP_CAT_NONE ? c->elections[e].rp_acta_mark : "";
    if (a->clave_acta[0]) snprintf(acta, sizeof acta, "%s", a->clave_acta);
    else if (a->clave_casilla[0]) prep_catalog_acta_key(a->clave_casilla, expected_tipo(c, e, a), acta);
    else snprintf(acta, sizeof acta, "-");
    size_t al = strlen(acta);
    if (*mark && al && acta[al - 1] >= '0' && acta[al - 1] <= '9') /* a key built or read bare */
        snprintf(acta + al, sizeof acta - al, "%s", mark);
    /* a local catalogue's rows are all of its entity (as written before national ones) */
    uint32_t ent = c->national ? row_entity(c, a)
                               : a->casilla != PREP_CAT_NONE ? prep_catalog_casilla_entity(c, a->casilla) : c->entity_id;
    /* district 0 holds the mesas of section 0: an out-of-catalogue row whose district was
     * blank or N/A is not in it */
    uint32_t di = a->casilla == PREP_CAT_NONE && !a->district_id ? PREP_CAT_NONE
                                                                : prep_catalog_find_district(c, ent, a->district_id);
    uint32_t mi = prep_catalog_find_municipality(c, ent, a->municipality_id);
    uint32_t ei = prep_catalog_find_entity(c, ent);
    const char *ename = c->national ? (ei != PREP_CAT_NONE ? c->entities[ei].name : "")
                                    : (c->entity_name ? c->entity_name : "");
    char type[2] = {a->tipo_casilla, 0};
    uint32_t tipo = tipo_acta_of(c, e, a);
    /* an out-of-catalogue acta under the key of an expected casilla (it was read with
     * TIPO_ACTA 0 or "-"): TIPO_ACTA 0 keeps it out when read back (LEEME INE 2018) */
    if (a->casilla == PREP_CAT_NONE && a->clave_casilla[0] && prep_catalog_find_casilla(c, a->clave_casilla) != PREP_CAT_NONE)
        tipo = 0;
    /* CLAVE_CASILLA keeps the spreadsheet guard of the real files (="230085B0100": a
     * spreadsheet would drop the leading zero of entities 01..09); it holds only digits
     * and letters, so it needs no quoting. */
    prep_err err;
    if ((err = prep_buf_puts(out, key)) || (err = put_field(out, sep, acta, 0)) ||
        (err = (!c->national ? put_u(out, sep, c->entity_id) : ent ? put_u(out, sep, ent) : put_field(out, sep, "", 0))) ||
        (err = put_field(out, sep, ename, 0)) || (err = put_u(out, sep, a->district_id)) ||
        (err = put_field(out, sep, di != PREP_CAT_NONE ? c->districts[di].name : "", 0)))
        return err;
    if (!c->national &&
        ((err = put_u(out, sep, a->municipality_id)) ||
         (err = put_field(out, sep, mi != PREP_CAT_NONE ? c->municipalities[mi].name : "", 0))))
        return err;
    if ((err = put_u(out, sep, a->section_id)) || (err = put_u(out, sep, a->id_casilla)) ||
        (err = put_field(out, sep, type, 0)) || (err = put_u(out, sep, a->ext_contigua)) ||
        (err = put_u(out, sep, a->urban)) || (err = put_u(out, sep, tipo)) ||
        (tipo && *mark && (err = prep_buf_puts(out, mark))))
        return err;
    return PREP_OK;
}

prep_err prep_actas_write_row(const prep_catalog *c, uint32_t e, const prep_acta *a, const int32_t *votes,
                              prep_buf *out)
{
    char sep = sep_of(c);
    const prep_cat_election *el = &c->elections[e];
    prep_err err;
    size_t mark = out->len;
    int no_acta = a->no_acta != PREP_ACTA_HAS_ACTA;
    if ((err = put_identity(c, e, a, sep, out)))
        goto fail;
    if ((err = put_v(out, sep, a->boletas_sobrantes, no_acta)) || (err = put_v(out, sep, a->personas_votaron, no_acta)) ||
        (err = put_v(out, sep, a->rep_votaron, no_acta)) || (err = put_v(out, sep, a->votos_sacados, no_acta)))
        goto fail;
    /* votes; the total is recomputed so a row is right even for an unclassified acta */
    int64_t total = 0;
    for (uint32_t j = 0; j < el->n_cols; j++) {
        if (votes[j] > 0 && !no_acta) total += votes[j];
        if ((err = put_v(out, sep, votes[j], no_acta))) goto fail;
    }
    /* CONTABILIZADA: 1 counted, 0 not; empty for a sin acta row that the profile leaves out
     * of ACTAS_NO_CONTABILIZADAS (as Querétaro 2018 writes it), so the file's own flags
     * recount its block (prep tally --check) */
    char st[8] = "";
    prep_acta_status ast = (prep_acta_status)a->status;
    if (prep_acta_status_counted(ast)) snprintf(st, sizeof st, "1");
    else if (ast != PREP_ACTA_NC_NO_ACTA || c->rules.no_counted_no_acta) snprintf(st, sizeof st, "0");
    char cot[8] = "";
    if (a->cotejada >= 0) snprintf(cot, sizeof cot, "%d", a->cotejada);
    if ((err = put_v(out, sep, a->total_asentado, no_acta)) || (err = put_u(out, sep, (uint64_t)total)) ||
        (err = put_u(out, sep, a->lista_nominal)) || (err = put_u(out, sep, a->representatives)) ||
        (err = put_field(out, sep, prep_actas_observaciones(c, a), 0)) || (err = put_field(out, sep, st, 0)) ||
        (err = put_field(out, sep, a->mecanismo, 0)) || (err = put_field(out, sep, a->sha, 0)) ||
        (err = put_time(out, sep, c, a->acopio)) || (err = put_time(out, sep, c, a->captura)) ||
        (err = put_time(out, sep, c, a->verificacion)) || (err = put_field(out, sep, a->origen, 0)) ||
        (err = put_field(out, sep, a->digitalizacion, 0)) || (err = put_field(out, sep, a->tipo_documento, 0)) ||
        (err = put_field(out, sep, cot, 0)) || (err = prep_buf_putc(out, '\n')))
        goto fail;
    return PREP_OK;
fail:
    /* never leave half a row in the buffer */
    out->len = mark;
    if (out->data) out->data[mark] = 0;
    return err;
}

prep_err prep_actas_write_pending_row(const prep_catalog *c, uint32_t e, uint32_t casilla, prep_buf *out)
{
    return prep_actas_write_pending_acta(c, e, casilla, 0, out);
}

prep_err prep_actas_write_pending_acta(const prep_catalog *c, uint32_t e, uint32_t casilla, int rp, prep_buf *out)
{
    if (!c || e >= c->n_elections || casilla >= c->n_casillas) return PREP_ERR_USAGE;
    if (rp && (!c->elections[e].rp_acta_type || c->casillas[casilla].type != 'S')) return PREP_ERR_USAGE;
    const prep_cat_election *el = &c->elections[e];
    const prep_cat_casilla *cc = &c->casillas[casilla];
    const prep_cat_section *cs = &c->sections[cc->section];
    prep_acta a;
    memset(&a, 0, sizeof a);
    prep_catalog_casilla_key(prep_catalog_casilla_entity(c, casilla), cs->id, cc->type, cc->number, cc->ext, a.clave_casilla);
    a.section_id = cs->id;
    a.district_id = cs->district != PREP_CAT_NONE ? c->districts[cs->district].id : 0;
    a.municipality_id = cs->municipality != PREP_CAT_NONE ? c->municipalities[cs->municipality].id : 0;
    a.tipo_casilla = cc->type;
    a.id_casilla = cc->number;
    a.ext_contigua = cc->ext;
    a.urban = cc->urban;
    a.casilla = casilla;
    a.rp = (uint8_t)(rp != 0);
    char sep = sep_of(c);
    size_t mark = out->len;
    prep_err err = put_identity(c, e, &a, sep, out);
    /* ballot fields, votes, TOTAL_VOTOS_ASENTADO and _CALCULADO: nothing captured yet */
    for (uint32_t j = 0; !err && j < 4 + el->n_cols + 2; j++) err = put_field(out, sep, "", 0);
    if (!err) err = put_u(out, sep, cc->lista_nominal);
    for (int j = 0; !err && j < 12; j++) err = put_field(out, sep, "", 0); /* REPRESENTANTES_PP_CI .. COTEJADA */
    if (!err) err = prep_buf_putc(out, '\n');
    if (err) {
        out->len = mark;
        if (out->data) out->data[mark] = 0;
    }
    return err;
}

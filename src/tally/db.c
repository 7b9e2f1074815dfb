/* prep tally: the database download (CSV per election) and its LEEME.
 * Formatting only: the rows and the header block are written by the actas part's
 * writers (one documented variant, docs/formats/actas.md); this file decides what
 * goes in and in which order, and explains it in Spanish in the LEEME. */
#include <stdlib.h>
#include <string.h>

#include "prep/tally.h"

#define TRY(x)                          \
    do {                                \
        prep_err err_ = (x);            \
        if (err_ != PREP_OK)            \
            return err_;                \
    } while (0)

struct prep_tally_db_rows {
    const prep_tally *t;  /* the tally the rows below are of */
    uint32_t n_el, n_slots;
    char **row;           /* [e * n_slots + slot]: the row's bytes with its LF, or NULL */
    uint32_t *len;
};

prep_err prep_tally_db_rows_new(prep_tally_db_rows **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? PREP_OK : PREP_ERR_NOMEM;
}

static void rows_reset(prep_tally_db_rows *r)
{
    if (r->row)
        for (size_t i = 0; i < (size_t)r->n_el * r->n_slots; i++) free(r->row[i]);
    free(r->row);
    free(r->len);
    r->row = NULL;
    r->len = NULL;
    r->t = NULL;
}

void prep_tally_db_rows_free(prep_tally_db_rows *r)
{
    if (!r) return;
    rows_reset(r);
    free(r);
}

static prep_err rows_prepare(prep_tally_db_rows *r, const prep_tally *t)
{
    if (r->t == t && r->row) return PREP_OK;
    rows_reset(r);
    const prep_catalog *c = prep_tally_catalog(t);
    r->n_el = c->n_elections;
    r->n_slots = prep_tally_level_size(t, PREP_TALLY_CASILLA);
    size_t n = (size_t)r->n_el * r->n_slots;
    r->row = calloc(n ? n : 1, sizeof *r->row);
    r->len = calloc(n ? n : 1, sizeof *r->len);
    if (!r->row || !r->len) {
        rows_reset(r);
        return PREP_ERR_NOMEM;
    }
    r->t = t;
    return PREP_OK;
}

/* The row of one slot (a casilla's acta, or an RP slot: rp_of is then its casilla), from
 * the cache when the tally has not touched the slot since it was kept. */
static prep_err slot_row(const prep_tally *t, uint32_t e, uint32_t slot, uint32_t rp_of, prep_tally_db_rows *r,
                         prep_buf *out)
{
    const prep_catalog *c = prep_tally_catalog(t);
    char **keep = r ? &r->row[(size_t)e * r->n_slots + slot] : NULL;
    if (keep && *keep && !prep_tally_dirty(t, e, PREP_TALLY_CASILLA, slot))
        return prep_buf_append(out, *keep, r->len[(size_t)e * r->n_slots + slot]);
    size_t mark = out->len;
    const int32_t *v;
    const prep_acta *a = prep_tally_acta(t, e, slot, &v);
    prep_err err;
    if (a) err = prep_actas_write_row(c, e, a, v, out);
    else if (rp_of == PREP_CAT_NONE) err = prep_actas_write_pending_row(c, e, slot, out);
    else err = prep_actas_write_pending_acta(c, e, rp_of, 1, out); /* expected, not arrived */
    if (err || !keep) return err;
    free(*keep);
    size_t n = out->len - mark;
    *keep = malloc(n ? n : 1);
    if (!*keep) return PREP_ERR_NOMEM;
    memcpy(*keep, out->data + mark, n);
    r->len[(size_t)e * r->n_slots + slot] = (uint32_t)n;
    return PREP_OK;
}

/* Out-of-catalogue captures i and j of one election (ctx: ooc_of) by CLAVE_ACTA, then as
 * counted. */
typedef struct ooc_of {
    const prep_tally *t;
    uint32_t e;
} ooc_of;
static int cmp_ooc(const void *pa, const void *pb, void *ctx)
{
    const ooc_of *o = ctx;
    uint32_t i = *(const uint32_t *)pa, j = *(const uint32_t *)pb;
    const prep_acta *a = prep_tally_out_of_catalog(o->t, o->e, i, NULL);
    const prep_acta *b = prep_tally_out_of_catalog(o->t, o->e, j, NULL);
    int c = strncmp(a->clave_acta, b->clave_acta, sizeof a->clave_acta);
    return c ? c : (i > j) - (i < j);
}

prep_err prep_tally_db_write_csv_cached(const prep_tally *t, uint32_t e, prep_time cut, int final_cut,
                                       prep_tally_db_rows *rows, prep_buf *out)
{
    if (!t || !out)
        return PREP_ERR_USAGE;
    const prep_catalog *c = prep_tally_catalog(t);
    if (e >= c->n_elections)
        return PREP_ERR_USAGE;
    if (rows)
        TRY(rows_prepare(rows, t));
    prep_summary s;
    prep_tally_summary(t, e, final_cut, &s);
    TRY(prep_actas_write_header_block(c, e, cut, &s, out));
    TRY(prep_actas_write_columns(c, e, out));
    for (uint32_t k = 0; k < c->n_casillas; k++) {
        if (!prep_catalog_n_actas(c, e, k))
            continue; /* no acta of this casilla in this election (abroad, office not elected there) */
        TRY(slot_row(t, e, k, PREP_CAT_NONE, rows, out));
        uint32_t rp = prep_tally_rp_slot(t, e, k); /* its representación proporcional acta */
        if (rp != PREP_CAT_NONE)
            TRY(slot_row(t, e, rp, k, rows, out));
    }
    /* out of the catalogue: by CLAVE_ACTA (rows whose key names no acta, in the order they
     * came), so that the file does not depend on the order the captures were counted in */
    size_t n = prep_tally_n_out_of_catalog(t, e);
    uint32_t *order = n ? malloc(n * sizeof *order) : NULL;
    if (n && !order)
        return PREP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    ooc_of of = {t, e};
    if (n > 1)
        qsort_r(order, n, sizeof *order, cmp_ooc, &of);
    prep_err err = PREP_OK;
    for (size_t i = 0; i < n && !err; i++) {
        const int32_t *v;
        const prep_acta *a = prep_tally_out_of_catalog(t, e, order[i], &v);
        err = prep_actas_write_row(c, e, a, v, out);
    }
    free(order);
    return err;
}

prep_err prep_tally_db_write_csv(const prep_tally *t, uint32_t e, prep_time cut, int final_cut, prep_buf *out)
{
    return prep_tally_db_write_csv_cached(t, e, cut, final_cut, NULL, out);
}

/* ------------------------------------------------------------------ LEEME */

/* Descriptions of the fixed (non-vote) columns, by header name. Spanish: published text. */
typedef struct col_doc {
    const char *name;
    const char *text;
} col_doc;

static const col_doc fixed_docs[] = {
    {"CLAVE_CASILLA", "Clave única de la casilla: identificador de la entidad (2 dígitos), sección (4 dígitos), tipo de casilla (1 carácter), número de casilla (2 dígitos) y número de contigua a una extraordinaria (2 dígitos). Ejemplo: 220412B0100. En las actas fuera de catálogo se publica tal como se capturó y puede ser incorrecta o incompleta."},
    {"CLAVE_ACTA", "Clave única del acta: la CLAVE_CASILLA seguida del tipo de acta (2 dígitos)."},
    {"ID_ESTADO", "Identificador de la entidad federativa."},
    {"ID_ENTIDAD", "Identificador de la entidad federativa."},
    {"ESTADO", "Nombre de la entidad federativa."},
    {"ENTIDAD", "Nombre de la entidad federativa."},
    {"ID_DISTRITO", "Número del distrito electoral local al que pertenece la casilla."},
    {"ID_DISTRITO_LOCAL", "Número del distrito electoral local al que pertenece la casilla."},
    {"DISTRITO", "Nombre del distrito electoral local."},
    {"DISTRITO_LOCAL", "Nombre del distrito electoral local."},
    {"ID_MUNICIPIO", "Identificador del municipio al que pertenece la casilla."},
    {"MUNICIPIO", "Nombre del municipio."},
    {"SECCION", "Número de la sección electoral de la casilla."},
    {"ID_CASILLA", "Número de la casilla (en C1 es 1; en E2 es 2)."},
    {"TIPO_CASILLA", "Tipo de casilla: B básica, C contigua, E extraordinaria, S especial, M mesa de escrutinio."},
    {"EXT_CONTIGUA", "Número de contigua a una casilla extraordinaria (en E1C2 es 2); 0 en las demás."},
    {"UBICACION_CASILLA", "Ubicación de la casilla: 1 urbana, 2 no urbana."},
    {"TIPO_ACTA", "Tipo de acta; coincide con el número impreso en el acta."},
    {"TOTAL_BOLETAS_SOBRANTES", "Total de boletas sobrantes (no usadas y canceladas), como se asentó en el acta."},
    {"TOTAL_PERSONAS_VOTARON", "Total de personas que votaron, como se asentó en el acta."},
    {"TOTAL_REP_PARTIDO_CI_VOTARON", "Total de representantes de partidos políticos y de candidaturas independientes ante la mesa directiva de casilla que votaron en ella."},
    {"TOTAL_VOTOS_SACADOS", "Total de votos sacados de la urna, como se asentó en el acta."},
    {"TOTAL_VOTOS_ASENTADO", "Total de votos escrito en el acta por los funcionarios de casilla."},
    {"TOTAL_VOTOS_CALCULADO", "Suma, hecha por el sistema, de todas las columnas de votos de la fila (partidos, combinaciones, candidaturas independientes, candidaturas no registradas y votos nulos); ILEGIBLE, SIN DATO y guion (-) suman cero."},
    {"LISTA_NOMINAL", "Número de personas en la lista nominal de la casilla. Las casillas especiales no tienen lista nominal propia: llevan 0."},
    {"REPRESENTANTES_PP_CI", "Número de representantes de partidos políticos y de candidaturas independientes acreditados ante la casilla (dato precargado). Se suma a la lista nominal para decidir si un acta excede la lista nominal."},
    {"OBSERVACIONES", "Situación del acta; sus valores posibles se describen en el apartado E."},
    {"CONTABILIZADA", "1 si el acta se contabiliza (sus votos se suman a los resultados); 0 si no, y la razón aparece en OBSERVACIONES."},
    {"MECANISMOS_TRASLADO", "Mecanismo de traslado del paquete electoral: D dispositivo de apoyo para el traslado de presidentes de mesa directiva de casilla; F centro de recepción y traslado fijo; I centro de recepción y traslado itinerante; vacío si no se usó ninguno."},
    {"SHA", "Código de integridad: huella SHA-256 (64 caracteres hexadecimales) de la imagen digitalizada del acta. Cualquier cambio en la imagen produce una huella distinta."},
    {"FECHA_HORA_ACOPIO", "Fecha y hora de recepción del acta en el centro de acopio (hora local, apartado F)."},
    {"FECHA_HORA_CAPTURA", "Fecha y hora de captura de los datos del acta (hora local, apartado F)."},
    {"FECHA_HORA_VERIFICACION", "Fecha y hora de verificación de los datos del acta (hora local, apartado F). Un acta entra en el primer corte posterior a su verificación (o, si no la tiene, a su captura o a su acopio)."},
    {"ORIGEN", "Dónde se digitalizó el acta: CASILLA, desde la casilla; CATD, en el centro de acopio y transmisión de datos; CCV, en el centro de captura y verificación."},
    {"DIGITALIZACION", "Medio de digitalización: ESCANER o MOVIL (aplicación para dispositivos móviles)."},
    {"TIPO_DOCUMENTO", "Documento digitalizado: ACTA PREP (primera copia del acta de escrutinio y cómputo); RPP (copia de representantes de partidos políticos); CC (copia del consejo); PPC (copia de representantes obtenida en el consejo)."},
    {"COTEJADA", "1 si el acta fue cotejada contra su imagen y aceptada; 0 si no; vacío si el proceso no registra el cotejo."},
};

static const char *fixed_doc(const char *name)
{
    for (size_t i = 0; i < PREP_ARRAY_LEN(fixed_docs); i++)
        if (strcmp(fixed_docs[i].name, name) == 0)
            return fixed_docs[i].text;
    return NULL;
}

/* Appends "PARTY NAME (ID)" of each party of a combination column, joined. */
static prep_err party_list(const prep_catalog *c, const prep_cat_column *col, prep_buf *out)
{
    for (uint32_t i = 0; i < col->n_parties; i++) {
        const prep_cat_party *p = &c->parties[col->parties[i]];
        const char *sep = i == 0 ? "" : (i + 1 == col->n_parties ? " y " : ", ");
        TRY(prep_buf_printf(out, "%s%s (%s)", sep, p->name, p->id));
    }
    return PREP_OK;
}

static prep_err vote_col_doc(const prep_catalog *c, uint32_t e, uint32_t j, prep_buf *out)
{
    const prep_cat_election *el = &c->elections[e];
    const prep_cat_column *col = &el->cols[j];
    switch (col->kind) {
    case PREP_CAT_COL_PARTY:
        return prep_buf_printf(out, "Votos para %s (%s).", c->parties[col->parties[0]].name,
                               c->parties[col->parties[0]].id);
    case PREP_CAT_COL_COMBO: {
        TRY(prep_buf_puts(out, "Votos de boletas marcadas a la vez por los partidos "));
        TRY(party_list(c, col, out));
        TRY(prep_buf_puts(out, ", coaligados"));
        int first = 1;
        for (uint32_t k = 0; k < c->n_coalitions; k++) {
            const prep_cat_coalition *co = &c->coalitions[k];
            if (co->election != e)
                continue;
            uint32_t found = 0;
            for (uint32_t a = 0; a < col->n_parties; a++)
                for (uint32_t b = 0; b < co->n_parties; b++)
                    if (co->parties[b] == col->parties[a])
                        found++;
            if (found != col->n_parties)
                continue;
            TRY(prep_buf_printf(out, "%s \"%s\"", first ? " en" : " y en", co->name));
            first = 0;
        }
        return prep_buf_puts(out, ". Cuentan para la candidatura de la coalición; en los resultados "
                                  "por partido se reparten en partes iguales entre esos partidos y el "
                                  "sobrante se asigna, un voto a cada uno, a los de más alta votación "
                                  "propia en la casilla (en empate, al de mayor antigüedad de registro). "
                                  "Lleva guion (-) donde la coalición no postula candidatura.");
    }
    case PREP_CAT_COL_INDEP: {
        TRY(prep_buf_printf(out, "Votos para la candidatura independiente número %u de cada demarcación; "
                                 "lleva guion (-) donde no la hay.", col->indep_no));
        for (uint32_t u = 0; u < el->n_units; u++) {
            for (uint32_t i = el->cand_first[u]; i < el->cand_first[u + 1]; i++) {
                const prep_cat_candidacy *cd = &c->candidacies[el->cand_index[i]];
                if (cd->kind == PREP_CAT_CAND_INDEP && cd->ref == j)
                    TRY(prep_buf_printf(out, " %s: %s.", prep_catalog_unit_name(c, e, u), cd->name));
            }
        }
        return PREP_OK;
    }
    case PREP_CAT_COL_NOREG:
        return prep_buf_puts(out, "Votos para candidaturas no registradas.");
    case PREP_CAT_COL_NULOS:
        return prep_buf_puts(out, "Votos nulos.");
    }
    return PREP_OK;
}

static const char *scope_text(const prep_catalog *c, prep_cat_scope s)
{
    switch (s) {
    case PREP_CAT_SCOPE_NATION: return "una sola demarcación: todo el país";
    case PREP_CAT_SCOPE_ENTITY:
        return c->national ? "una demarcación por entidad federativa" : "una sola demarcación: toda la entidad";
    case PREP_CAT_SCOPE_DISTRICT:
        return c->national ? "una demarcación por distrito electoral federal" : "una demarcación por distrito electoral local";
    case PREP_CAT_SCOPE_MUNICIPALITY: return "una demarcación por municipio";
    }
    return "";
}

/* The 13 header figures, in the order of prep_actas_summary_names. */
static const char *const summary_docs[13] = {
    "Número de actas de todas las casillas aprobadas para la elección (una por casilla). Es fijo: forma el catálogo de actas esperadas.",
    "Número de actas registradas en el sistema al momento del corte, contabilizadas o no, incluidas las fuera de catálogo. ACTAS_REGISTRADAS = ACTAS_CAPTURADAS + ACTAS_FUERA_CATALOGO.",
    "Número de actas registradas que no corresponden a una casilla aprobada, por una omisión, ilegibilidad o error en sus datos de identificación. No forman parte de las actas esperadas.",
    "Número de actas registradas al momento del corte que sí corresponden a una casilla aprobada, contabilizadas o no. Excluye las fuera de catálogo.",
    "ACTAS_CAPTURADAS / ACTAS_ESPERADAS x 100.",
    "Número de actas capturadas cuyos votos se suman a los resultados: tienen al menos un campo de votos legible y su total calculado no excede la lista nominal más los representantes de partidos y candidaturas independientes (en casillas especiales, las boletas aprobadas más los representantes).",
    "ACTAS_CONTABILIZADAS / ACTAS_ESPERADAS x 100.",
    NULL, /* inconsistencies: follows prep_actas_status_inconsistent */
    NULL, /* no contabilizadas: follows prep_actas_status_no_counted */
    "Suma de la lista nominal de las casillas cuyas actas se contabilizan (las casillas especiales aportan 0).",
    "Suma de TOTAL_VOTOS_CALCULADO de las actas contabilizadas, incluidas las de casillas especiales.",
    "Suma de TOTAL_VOTOS_CALCULADO de las actas contabilizadas, sin las de casillas especiales.",
    NULL, /* participation: depends on the catalogue's mode */
};

/* ACTAS_NO_CONTABILIZADAS, worded from the catalogue's rule profile. */
static prep_err no_counted_doc(const prep_catalog *c, prep_buf *out)
{
    TRY(prep_buf_puts(out, "Número de actas registradas que no se contabilizan: que exceden la lista nominal o "
                           "con todos sus campos de votos ilegibles o sin dato"));
    const prep_rules *r = &c->rules;
    TRY(prep_buf_puts(out, r->no_counted_no_acta ? "; las sin acta" : ""));
    TRY(prep_buf_puts(out, r->no_counted_out_of_catalog ? "; las fuera de catálogo" : ""));
    TRY(prep_buf_puts(out, "."));
    if (!r->no_counted_no_acta) TRY(prep_buf_puts(out, " Las actas sin acta no se cuentan aquí."));
    if (!r->no_counted_out_of_catalog) TRY(prep_buf_puts(out, " Las actas fuera de catálogo no se cuentan aquí."));
    if (r->no_counted_no_acta && r->no_counted_out_of_catalog)
        TRY(prep_buf_puts(out, " ACTAS_NO_CONTABILIZADAS = ACTAS_REGISTRADAS - ACTAS_CONTABILIZADAS."));
    return PREP_OK;
}

/* PORCENTAJE_ACTAS_INCONSISTENCIAS, worded from the rule the actas part applies. */
static prep_err inconsistency_doc(const prep_catalog *c, prep_buf *out)
{
    static const char *const what[6] = {
        [PREP_ACTA_COUNTED] = "las contabilizadas con todos sus campos legibles",
        [PREP_ACTA_COUNTED_SOME_ILLEGIBLE] = "las contabilizadas con algún campo ilegible o sin dato",
        [PREP_ACTA_NC_EXCEEDS_LN] = "las que exceden la lista nominal",
        [PREP_ACTA_NC_ALL_ILLEGIBLE] = "las que tienen todos sus campos de votos ilegibles o sin dato",
        [PREP_ACTA_NC_NO_ACTA] = "las sin acta",
        [PREP_ACTA_NC_OUT_OF_CATALOG] = "las fuera de catálogo",
    };
    TRY(prep_buf_puts(out, "Actas con inconsistencias / ACTAS_ESPERADAS x 100. Se consideran actas con "
                           "inconsistencias"));
    int n = 0;
    for (int st = 0; st < 6; st++)
        if (prep_actas_status_inconsistent(&c->rules, (prep_acta_status)st))
            TRY(prep_buf_printf(out, "%s %s", n++ ? ";" : ":", what[st]));
    TRY(prep_buf_puts(out, ". No se consideran"));
    n = 0;
    for (int st = 0; st < 6; st++)
        if (!prep_actas_status_inconsistent(&c->rules, (prep_acta_status)st))
            TRY(prep_buf_printf(out, "%s %s", n++ ? ";" : ":", what[st]));
    return prep_buf_puts(out, ".");
}

static prep_err leeme_columns(const prep_catalog *c, uint32_t e, prep_buf *out)
{
    prep_buf hdr;
    prep_buf_init(&hdr, 1u << 20);
    prep_err err = prep_actas_write_columns(c, e, &hdr);
    if (err != PREP_OK) {
        prep_buf_free(&hdr);
        return err;
    }
    char *line = hdr.data ? hdr.data : "";
    size_t len = strcspn(line, "\r\n");
    line[len] = '\0';
    const prep_cat_election *el = &c->elections[e];
    unsigned no = 0;
    char *p = line;
    while (err == PREP_OK) {
        char *q = strchr(p, c->csv_sep ? c->csv_sep : '|');
        if (q)
            *q = '\0';
        if (*p) {
            err = prep_buf_printf(out, "\t%u. %s - ", ++no, p);
            uint32_t j = prep_catalog_find_column(c, e, p);
            const char *d = fixed_doc(p);
            if (err == PREP_OK) {
                if (j != PREP_CAT_NONE && j < el->n_cols)
                    err = vote_col_doc(c, e, j, out);
                else if (d)
                    err = prep_buf_puts(out, d);
                else
                    err = prep_buf_puts(out, "Dato del acta tal como se capturó.");
            }
            if (err == PREP_OK)
                err = prep_buf_puts(out, "\n");
        }
        if (!q)
            break;
        p = q + 1;
    }
    prep_buf_free(&hdr);
    return err;
}

prep_err prep_tally_db_write_leeme(const prep_catalog *c, prep_buf *out)
{
    if (!c || !out)
        return PREP_ERR_USAGE;
    char sep = c->csv_sep ? c->csv_sep : '|';
    char example[64] = "";
    prep_time_format(c->window_open, c->timezone, PREP_TS_HEADER, example, sizeof example);
    long off = 0;
    prep_time_utcoff(c->window_open, c->timezone, &off);

    TRY(prep_buf_printf(out, "Programa de Resultados Electorales Preliminares\n%s\n%s\n\n",
                        c->process_name ? c->process_name : "", c->institute ? c->institute : ""));

    TRY(prep_buf_puts(out, "A. CONTENIDO DE LA DESCARGA\n\n"
                           "El archivo zip de la base de datos contiene este LEEME y un archivo de resultados "
                           "en formato CSV por cada elección:\n"));
    for (uint32_t e = 0; e < c->n_elections; e++) {
        const prep_cat_election *el = &c->elections[e];
        TRY(prep_buf_printf(out, "\t- %s (identificador \"%s\"; %s).\n", el->name, el->id, scope_text(c, el->scope)));
    }
    TRY(prep_buf_printf(out,
                        "\nLos archivos CSV están codificados en UTF-8, con fin de línea LF, y sus campos están "
                        "separados por el carácter \"%c\" (que no aparece dentro de ningún valor). Cada archivo "
                        "contiene todas las actas registradas de su elección hasta el momento del corte.\n\n",
                        sep));

    TRY(prep_buf_printf(out,
                        "B. ENCABEZADO DE CADA ARCHIVO CSV\n\n"
                        "\t1. Una línea \"sep=%c\", que indica el separador a las hojas de cálculo.\n"
                        "\t2. El nombre de la elección, por ejemplo: %s\n"
                        "\t3. La fecha y hora del corte con su diferencia respecto del tiempo universal "
                        "coordinado (UTC), por ejemplo: %s\n"
                        "\t4. Los nombres de las 13 cifras del corte y, en la línea siguiente, sus valores:\n\n",
                        sep, c->n_elections ? c->elections[0].name : "", example));
    for (int i = 0; i < 13; i++) {
        TRY(prep_buf_printf(out, "\t\t%d. %s - ", i + 1, prep_actas_summary_names[i]));
        if (summary_docs[i]) {
            TRY(prep_buf_puts(out, summary_docs[i]));
        } else if (i == 7) {
            TRY(inconsistency_doc(c, out));
        } else if (i == 8) {
            TRY(no_counted_doc(c, out));
        } else {
            switch (c->rules.specials) {
            case PREP_CAT_SPECIALS_EXCLUDE:
                TRY(prep_buf_puts(out, "TOTAL_VOTOS_S_CS / LISTA_NOMINAL_ACTAS_CONTABILIZADAS x 100, en todos "
                                       "los cortes: los votos de casillas especiales no entran porque esas "
                                       "casillas no tienen lista nominal propia."));
                break;
            case PREP_CAT_SPECIALS_FINAL_ONLY:
                TRY(prep_buf_puts(out, "Durante la operación del PREP: TOTAL_VOTOS_S_CS / "
                                       "LISTA_NOMINAL_ACTAS_CONTABILIZADAS x 100 (sin los votos de casillas "
                                       "especiales, que no tienen lista nominal propia). En el último corte: "
                                       "TOTAL_VOTOS_C_CS / LISTA_NOMINAL_ACTAS_CONTABILIZADAS x 100."));
                break;
            case PREP_CAT_SPECIALS_INCLUDE:
                TRY(prep_buf_puts(out, "TOTAL_VOTOS_C_CS / LISTA_NOMINAL_ACTAS_CONTABILIZADAS x 100, en todos "
                                       "los cortes (con los votos de casillas especiales)."));
                break;
            }
        }
        TRY(prep_buf_puts(out, "\n"));
    }
    TRY(prep_buf_printf(out,
                        "\n\tLos porcentajes se expresan con %u decimales; el último decimal se trunca, no se "
                        "redondea. Con ACTAS_ESPERADAS o LISTA_NOMINAL_ACTAS_CONTABILIZADAS igual a cero, el "
                        "porcentaje es 0.\n"
                        "\t5. Una línea en blanco.\n\n",
                        c->pct_decimals));

    TRY(prep_buf_puts(out,
                      "C. DATOS DE LAS ACTAS\n\n"
                      "Después del encabezado viene una línea con los nombres de las columnas y una línea por "
                      "acta: primero las actas de casillas del catálogo, en el orden del catálogo (sección, "
                      "tipo, número y contigua), y al final las fuera de catálogo en el orden en que se "
                      "registraron. Si un acta se capturó más de una vez, solo aparece su última captura. "
                      "Las actas esperadas que aún no llegan aparecen con sus datos de identificación y su "
                      "LISTA_NOMINAL, y el resto de sus campos vacíos.\n\n"
                      "En las columnas de votos, un número es la cantidad asentada en el acta; ILEGIBLE indica "
                      "una cantidad que no puede leerse ni en letra ni en número; SIN DATO, una cantidad no "
                      "asentada; un guion (-), una opción que no aparece en la boleta de esa demarcación. Los "
                      "tres valores suman cero. Si la cantidad en letra difiere de la cantidad en número, "
                      "prevalece la escrita en letra. Un acta sin acta no tiene cantidades que leer: sus campos "
                      "de votos y de boletas se publican en 0 y no se suman.\n\n"));

    for (uint32_t e = 0; e < c->n_elections; e++) {
        const prep_cat_election *el = &c->elections[e];
        TRY(prep_buf_printf(out, "Columnas de la elección %s (%s):\n\n", el->name, el->title ? el->title : el->id));
        TRY(leeme_columns(c, e, out));
        TRY(prep_buf_puts(out, "\n"));
    }

    TRY(prep_buf_puts(out, "D. VOTOS POR CANDIDATURA Y POR PARTIDO\n\n"
                           "Los votos de una candidatura son la suma de los votos de sus partidos y de todas las "
                           "combinaciones de esos partidos. Para los votos por partido, los votos de cada "
                           "combinación se reparten en partes iguales entre sus partidos, en cada casilla; el "
                           "sobrante de la división se asigna, un voto a cada uno, a los partidos de la "
                           "combinación con más votos propios en esa casilla y, si empatan, al de mayor "
                           "antigüedad de registro (Ley General de Instituciones y Procedimientos Electorales, "
                           "artículo 311, numeral 1, inciso c). Orden de antigüedad:"));
    for (uint32_t i = 0; i < c->n_parties; i++) {
        /* list in seniority order */
        uint32_t best = PREP_CAT_NONE;
        for (uint32_t k = 0; k < c->n_parties; k++) {
            uint32_t rank = 0;
            for (uint32_t m = 0; m < c->n_parties; m++)
                if (c->parties[m].seniority < c->parties[k].seniority ||
                    (c->parties[m].seniority == c->parties[k].seniority && m < k))
                    rank++;
            if (rank == i)
                best = k;
        }
        if (best != PREP_CAT_NONE)
            TRY(prep_buf_printf(out, "%s %s", i ? "," : "", c->parties[best].id));
    }
    TRY(prep_buf_puts(out, ".\n\n"));

    TRY(prep_buf_puts(out, "E. VALORES DE OBSERVACIONES\n\n"));
    TRY(prep_buf_puts(out, "\t- (vacío): acta contabilizada; todos sus campos de votos son legibles.\n"));
    const prep_cat_labels *L = &c->labels;
    struct {
        const char *label;
        const char *text;
    } obs[] = {
        {L->some_illegible, "acta contabilizada con uno o más campos de votos ILEGIBLE o SIN DATO, que "
                            "cuentan como cero; tiene al menos una cantidad legible."},
        {L->all_illegible, "acta no contabilizada: ningún campo de votos es legible, o ninguno tiene dato."},
        {L->exceeds_ln, "acta no contabilizada: la suma de sus votos excede la lista nominal de la casilla "
                        "más los representantes de partidos y candidaturas independientes (en casillas "
                        "especiales, las boletas aprobadas más los representantes). Sus votos se publican "
                        "pero no se suman."},
        {L->no_acta_not_delivered, "acta no contabilizada: sin acta porque el paquete electoral no se entregó."},
        {L->no_acta_not_installed, "acta no contabilizada: sin acta porque la casilla no se instaló."},
        {L->no_acta_no_envelope, "acta no contabilizada: sin acta porque el paquete se entregó sin el sobre "
                                 "del acta."},
        {L->out_of_catalog, "acta no contabilizada: sus datos de identificación tienen una omisión, "
                            "ilegibilidad o error y no corresponden a ninguna casilla aprobada."},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(obs); i++)
        TRY(prep_buf_printf(out, "\t- %s: %s\n", obs[i].label ? obs[i].label : "", obs[i].text));

    TRY(prep_buf_printf(out,
                        "\nF. ZONA HORARIA\n\n"
                        "Todas las fechas y horas (corte, acopio, captura y verificación) están en la hora "
                        "local de la zona %s de la base de datos de zonas horarias (tz). La diferencia con UTC "
                        "depende de la fecha: al abrir la publicación (%s) era de %+ld horas%s. El corte "
                        "la indica entre paréntesis.\n",
                        c->timezone ? c->timezone : "", example, off / 3600,
                        off % 3600 ? " y fracción" : ""));
    return PREP_OK;
}

/* prep actas: text level of the database files. Encoding, lines, column names and their
 * variants, the header block. Shared by the reader and by the catalogue derivation.
 * Layout and variants: docs/formats/actas.md. */
#include "actas_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- text */

/* UTF-16 text after its byte-order mark (be: big-endian) as UTF-8, NUL-terminated, into
 * *out (owned) and *n: a spreadsheet's "Unicode text" export. PREP_ERR_PARSE for an odd
 * length, a lone surrogate or a NUL. */
static prep_err utf16_to_utf8(const unsigned char *p, size_t len, int be, char **out, size_t *n)
{
    if (len % 2) return PREP_ERR_PARSE;
    char *o = malloc(len / 2 * 3 + 1); /* each unit at most 3 bytes; a pair 4 for 2 units */
    if (!o) return PREP_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < len; i += 2) {
        uint32_t u = be ? (uint32_t)(p[i] << 8 | p[i + 1]) : (uint32_t)(p[i + 1] << 8 | p[i]);
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < len) {
            uint32_t l = be ? (uint32_t)(p[i + 2] << 8 | p[i + 3]) : (uint32_t)(p[i + 3] << 8 | p[i + 2]);
            if (l >= 0xDC00 && l <= 0xDFFF) {
                u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
                i += 2;
            }
        }
        if (u == 0 || (u >= 0xD800 && u <= 0xDFFF)) {
            free(o);
            return PREP_ERR_PARSE;
        }
        if (u < 0x80) o[k++] = (char)u;
        else if (u < 0x800) o[k++] = (char)(0xC0 | u >> 6), o[k++] = (char)(0x80 | (u & 0x3F));
        else if (u < 0x10000)
            o[k++] = (char)(0xE0 | u >> 12), o[k++] = (char)(0x80 | (u >> 6 & 0x3F)), o[k++] = (char)(0x80 | (u & 0x3F));
        else
            o[k++] = (char)(0xF0 | u >> 18), o[k++] = (char)(0x80 | (u >> 12 & 0x3F)),
            o[k++] = (char)(0x80 | (u >> 6 & 0x3F)), o[k++] = (char)(0x80 | (u & 0x3F));
    }
    o[k] = 0;
    *out = o;
    *n = k;
    return PREP_OK;
}

/* actas_decode; own: data itself, malloc'd with room for a NUL at data[len], taken
 * whatever the outcome: it becomes *out when its bytes are already the text (UTF-8, no
 * byte-order mark), else it is freed once decoded. */
static prep_err decode(const char *data, size_t len, char *own, char **out, size_t *out_len, int *latin1)
{
    *out = NULL;
    if (out_len) *out_len = 0;
    if (latin1) *latin1 = 0;
    const unsigned char *u = (const unsigned char *)data;
    if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
        size_t n = 0;
        prep_err e = utf16_to_utf8(u + 2, len - 2, u[0] == 0xFE, out, &n);
        if (!e && out_len) *out_len = n;
        free(own);
        return e;
    }
    if (len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
        (unsigned char)data[2] == 0xBF) {
        data += 3;
        len -= 3;
    }
    char *o;
    size_t n;
    if (prep_utf8_valid(data, len)) {
        if (own && data == own) { /* no mark: the bytes are the text, no copy */
            o = own;
            own = NULL;
        } else if ((o = malloc(len + 1))) {
            memcpy(o, data, len);
        } else {
            free(own);
            return PREP_ERR_NOMEM;
        }
        o[len] = 0;
        n = len;
    } else {
        /* Not UTF-8: the Latin-1 of the real LEEME files and of Quintana Roo's exports. */
        o = prep_latin1_to_utf8(data, len, &n);
        if (latin1) *latin1 = 1;
    }
    free(own);
    *out = o;
    if (out_len) *out_len = n;
    return PREP_OK;
}

prep_err actas_decode(const char *data, size_t len, char **out, size_t *out_len, int *latin1)
{
    return decode(data, len, NULL, out, out_len, latin1);
}

void actas_lines_init(actas_lines *it, char *text, size_t len)
{
    it->p = text;
    it->end = text + len;
    it->no = 0;
}

int actas_next_line(actas_lines *it, char **line, size_t *len, long *no)
{
    if (it->p >= it->end) return 0;
    char *s = it->p, *q = s;
    while (q < it->end && *q != '\n' && *q != '\r') q++;
    size_t n = (size_t)(q - s);
    it->open = q >= it->end;
    if (q < it->end) {
        if (*q == '\r' && q + 1 < it->end && q[1] == '\n') {
            *q = 0;
            q += 2;
        } else {
            *q = 0;
            q++;
        }
    }
    it->p = q;
    it->no++;
    *line = s;
    *len = n;
    *no = it->no;
    return 1;
}

char *actas_unquote(char *f)
{
    size_t n = strlen(f);
    /* most fields have no space around them and no quote: nothing to do (every field of a
     * national night's ~40 million went through prep_trim and two strlen) */
    if (!n || (f[0] != ' ' && f[0] != '\t' && f[0] != '\r' && f[0] != '\n' && f[0] != '"' && f[0] != '=' &&
               f[n - 1] != ' ' && f[n - 1] != '\t' && f[n - 1] != '\r' && f[n - 1] != '\n' && f[n - 1] != '"'))
        return f;
    prep_trim(f);
    n = strlen(f);
    if (n >= 3 && f[0] == '=' && f[1] == '"' && f[n - 1] == '"') {
        memmove(f, f + 2, n - 3);
        f[n - 3] = 0;
        prep_trim(f);
    } else if (n >= 2 && f[0] == '"' && f[n - 1] == '"') {
        memmove(f, f + 1, n - 2);
        f[n - 2] = 0;
        prep_trim(f);
    }
    return f;
}

/* Folds a Latin-1 supplement code point used in Spanish to its ASCII upper-case letter. */
char *actas_unguard_key(char *f)
{
    size_t n = strlen(f);
    if (n && f[0] == '\'') {
        memmove(f, f + 1, n--);
        if (n && f[n - 1] == '\'') f[--n] = 0;
    }
    return f;
}

static char fold_cp(uint32_t cp)
{
    static const char map[64] = "AAAAAAACEEEEIIIIDNOOOOO*OUUUUYTSAAAAAAACEEEEIIIIDNOOOOO/OUUUUYTY";
    if (cp >= 0xC0 && cp <= 0xFF) return map[cp - 0xC0];
    return '?';
}

int actas_name_is(const char *en, const char *word)
{
    /* the last run of letters before the extension (a '.' and what follows) is word */
    const char *end = strrchr(en, '.');
    if (!end) end = en + strlen(en);
    const char *e = end;
    while (e > en && !(e[-1] >= 'A' && e[-1] <= 'Z')) e--;
    const char *b = e;
    while (b > en && b[-1] >= 'A' && b[-1] <= 'Z') b--;
    size_t n = strlen(word);
    return (size_t)(e - b) == n && !memcmp(b, word, n);
}

int actas_federal_name(const char *en)
{
    if (strstr(en, "SENAD") || strstr(en, "REPUBLICA")) return 1; /* no state has a senate or a republic */
    const char *f = strstr(en, "FEDERAL");
    if (f && !(f - en >= 9 && !strncmp(f - 9, "DISTRITO ", 9))) return 1;
    return actas_name_is(en, "PRESIDENCIA");
}

void actas_norm(const char *in, char *out, size_t outsz)
{
    size_t j = 0;
    int space = 0;
    const unsigned char *p = (const unsigned char *)in;
    if (!outsz) return;
    while (*p && j + 1 < outsz) {
        uint32_t c = *p;
        char o;
        if (c < 0x80) {
            p++;
            o = (char)c;
            if (o >= 'a' && o <= 'z') o = (char)(o - 'a' + 'A');
            if (o == ' ' || o == '\t' || o == '\r' || o == '\n') o = ' ';
        } else if ((c & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            uint32_t cp = ((c & 0x1F) << 6) | (p[1] & 0x3F);
            p += 2;
            o = cp == 0xA0 ? ' ' : fold_cp(cp);
        } else {
            /* other multi-byte sequences: one '?' for the whole sequence */
            p++;
            while ((*p & 0xC0) == 0x80) p++;
            o = '?';
        }
        if (o == ' ') {
            space = 1;
            continue;
        }
        if (space && j) {
            if (j + 2 >= outsz) break;
            out[j++] = ' ';
        }
        space = 0;
        out[j++] = o;
    }
    out[j] = 0;
}

int actas_decimals_written(const char *s)
{
    const char *dot = strchr(s, '.');
    if (!dot) return -1;
    int d = 0;
    while (dot[1 + d] >= '0' && dot[1 + d] <= '9') d++;
    return d;
}

int actas_is_blank(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return 1;
    if (s[0] == '-' && (s[1] == 0 || s[1] == ' ')) {
        const char *t = s + 1;
        while (*t == ' ') t++;
        return *t == 0;
    }
    if ((s[0] == 'N' || s[0] == 'n') && s[1] == '/' && (s[2] == 'A' || s[2] == 'a') && s[3] == 0) return 1;
    /* INE 2018 writes "null" in the identification of out-of-catalogue actas */
    return (s[0] == 'n' || s[0] == 'N') && (s[1] == 'u' || s[1] == 'U') && (s[2] == 'l' || s[2] == 'L') &&
           (s[3] == 'l' || s[3] == 'L') && s[4] == 0;
}

const char *actas_clip(const char *s, char buf[64])
{
    size_t j = 0;
    for (size_t i = 0; s[i] && j < 60; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[j++] = c < 0x20 ? '?' : (char)c;
    }
    /* do not cut a UTF-8 sequence in half */
    while (j > 0 && ((unsigned char)buf[j - 1] & 0xC0) == 0x80) j--;
    if (j > 0 && ((unsigned char)buf[j - 1] & 0xC0) == 0xC0) j--;
    buf[j] = 0;
    if (strlen(s) > j) {
        if (j > 56) j = 56;
        memcpy(buf + j, "...", 4);
    }
    return buf;
}

/* pandas writes 554.0 for a number column with an empty row in it. */
size_t actas_int_len(const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    /* a data tool's whole number as a decimal: 554.0, 7.00; never three zeros (1.000 is a
     * thousand written with a thousands point) */
    size_t z = n;
    while (z && s[z - 1] == '0') z--;
    if (z < n && n - z != 3 && z >= 2 && s[z - 1] == '.' && s[z - 2] >= '0' && s[z - 2] <= '9') n = z - 1;
    return n;
}

int actas_parse_u32(const char *s, uint32_t *out)
{
    char b[32];
    size_t n = actas_int_len(s, strlen(s));
    if (n >= sizeof b) return -1;
    memcpy(b, s, n);
    b[n] = 0;
    return prep_parse_u32(b, out);
}

int actas_parse_flag(const char *s)
{
    uint32_t v;
    if (!s || actas_is_blank(s)) return -1;
    if (s[0] < '0' || s[0] > '2' || actas_parse_u32(s, &v) != 0 || v > 2) return -2;
    return (int)v;
}

int actas_parse_vote(const char *s, int32_t *out)
{
    /* most fields are 1 to 9 plain digits: read at once, as the general path below would
     * read them (a national night's ~14 million vote fields spent ~12 % of a whole read
     * and tally normalising them and comparing them with the words) */
    int32_t d = 0;
    size_t k = 0;
    while (k < 9 && s[k] >= '0' && s[k] <= '9') d = d * 10 + (s[k++] - '0');
    if (k && !s[k]) {
        *out = d;
        return 0;
    }
    char n[32];
    actas_norm(s, n, sizeof n);
    n[actas_int_len(n, strlen(n))] = 0;
    /* "null": INE 2018's empty field in out-of-catalogue rows */
    if (n[0] == 0 || strcmp(n, "SIN DATO") == 0 || strcmp(n, "SIN_DATO") == 0 || strcmp(n, "NULL") == 0) {
        *out = PREP_ACTA_V_SIN_DATO;
        return 0;
    }
    /* "N/A", no aplica: the 2024 LEEMEs' mark of a field an acta does not have (a voto
     * anticipado or prisión preventiva mesa's ballot accounting and representatives) */
    if (strcmp(n, "-") == 0 || strcmp(n, "N/A") == 0) {
        *out = PREP_ACTA_V_NA;
        return 0;
    }
    if (strcmp(n, "ILEGIBLE") == 0) {
        *out = PREP_ACTA_V_ILEGIBLE;
        return 0;
    }
    if (strcmp(n, "SIN ACTA") == 0) {
        *out = PREP_ACTA_V_NONE;
        return 0;
    }
    int32_t v = 0;
    size_t i = 0;
    for (; n[i]; i++) {
        if (n[i] < '0' || n[i] > '9' || i >= 9) return -1;
        v = v * 10 + (n[i] - '0');
    }
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- columns */

static const struct {
    const char *name;
    actas_role role;
} role_names[] = {
    /* the first name of each role is the one we write */
    {"CLAVE_CASILLA", AR_CLAVE_CASILLA},
    {"CLAVE_ACTA", AR_CLAVE_ACTA},
    {"ID_ENTIDAD", AR_ID_ENTIDAD},
    {"ID_ESTADO", AR_ID_ENTIDAD},
    {"ENTIDAD", AR_ENTIDAD},
    {"ESTADO", AR_ENTIDAD},
    {"NOMBRE_ESTADO", AR_ENTIDAD},
    {"NOMBRE_ENTIDAD", AR_ENTIDAD},
    {"ID_DISTRITO_LOCAL", AR_ID_DISTRITO},
    {"ID_DISTRITO", AR_ID_DISTRITO},
    {"ID_DISTRITO_FEDERAL", AR_ID_DISTRITO},
    {"DISTRITO_LOCAL", AR_DISTRITO},
    {"DISTRITO", AR_DISTRITO},
    {"DISTRITO_FEDERAL", AR_DISTRITO},
    {"NOMBRE_DISTRITO", AR_DISTRITO},
    {"NOMBRE_DISTRITO_LOCAL", AR_DISTRITO},
    {"NOMBRE_DISTRITO_FEDERAL", AR_DISTRITO},
    {"ID_MUNICIPIO", AR_ID_MUNICIPIO},
    {"ID_MUNICIPIO_LOCAL", AR_ID_MUNICIPIO},
    {"MUNICIPIO", AR_MUNICIPIO},
    {"MUNICIPIO_LOCAL", AR_MUNICIPIO},
    {"NOMBRE_MUNICIPIO", AR_MUNICIPIO},
    /* the unit of other elections, read as the municipality: Mexico City's alcaldías
     * (demarcaciones territoriales) */
    {"ID_DEMARCACION", AR_ID_MUNICIPIO},
    {"ID_DEMARCACION_TERRITORIAL", AR_ID_MUNICIPIO},
    {"ID_ALCALDIA", AR_ID_MUNICIPIO},
    {"DEMARCACION", AR_MUNICIPIO},
    {"DEMARCACION_TERRITORIAL", AR_MUNICIPIO},
    {"ALCALDIA", AR_MUNICIPIO},
    {"NOMBRE_DEMARCACION", AR_MUNICIPIO},
    {"ENTIDAD_FEDERATIVA", AR_ENTIDAD},
    {"ID_ENTIDAD_FEDERATIVA", AR_ID_ENTIDAD},
    {"SECCION", AR_SECCION},
    {"ID_CASILLA", AR_ID_CASILLA},
    {"TIPO_CASILLA", AR_TIPO_CASILLA},
    {"EXT_CONTIGUA", AR_EXT_CONTIGUA},
    {"UBICACION_CASILLA", AR_UBICACION},
    {"TIPO_ACTA", AR_TIPO_ACTA},
    {"TOTAL_BOLETAS_SOBRANTES", AR_BOLETAS_SOBRANTES},
    {"BOLETAS_SOBRANTES", AR_BOLETAS_SOBRANTES},
    {"NUM_BOLETAS_SOBRANTES", AR_BOLETAS_SOBRANTES},
    {"TOTAL_PERSONAS_VOTARON", AR_PERSONAS_VOTARON},
    {"PERSONAS_VOTARON", AR_PERSONAS_VOTARON},
    {"TOTAL_CIUDADANOS_VOTARON", AR_PERSONAS_VOTARON},
    {"CIUDADANOS_VOTARON", AR_PERSONAS_VOTARON},
    {"TOTAL_REP_PARTIDO_CI_VOTARON", AR_REP_VOTARON},
    {"TOTAL_REPRESENTANTES_VOTARON", AR_REP_VOTARON},
    {"TOTAL_VOTOS_SACADOS", AR_VOTOS_SACADOS},
    {"VOTOS_SACADOS", AR_VOTOS_SACADOS},
    {"NUM_BOLETAS_EXTRAIDAS", AR_VOTOS_SACADOS},
    {"TOTAL_BOLETAS_EXTRAIDAS", AR_VOTOS_SACADOS},
    {"BOLETAS_EXTRAIDAS", AR_VOTOS_SACADOS},
    {"TOTAL_VOTOS_ASENTADO", AR_TOTAL_ASENTADO},
    {"TOTAL_VOTOS_CALCULADO", AR_TOTAL_CALCULADO},
    {"TOTAL_VOTOS_CALCULADOS", AR_TOTAL_CALCULADO},
    {"LISTA_NOMINAL", AR_LISTA_NOMINAL},
    {"REPRESENTANTES_PP_CI", AR_REPRESENTANTES},
    {"REPRESENTANTES", AR_REPRESENTANTES}, /* the 2024 LEEME's column line (its item 36: _PP_CI) */
    {"OBSERVACIONES", AR_OBSERVACIONES},
    {"CONTABILIZADA", AR_CONTABILIZADA},
    {"CONTABILIZADAS", AR_CONTABILIZADA}, /* likewise (item 38: CONTABILIZADA) */
    {"MECANISMOS_TRASLADO", AR_MECANISMO},
    {"MECANISMO_TRASLADO", AR_MECANISMO},
    {"SHA", AR_SHA},
    {"CODIGO_INTEGRIDAD", AR_SHA},
    {"FECHA_HORA_ACOPIO", AR_ACOPIO},
    {"FECHA_HORA_CAPTURA", AR_CAPTURA},
    {"FECHA_HORA_VERIFICACION", AR_VERIFICACION},
    {"ORIGEN", AR_ORIGEN},
    {"DIGITALIZACION", AR_DIGITALIZACION},
    {"TIPO_DOCUMENTO", AR_TIPO_DOCUMENTO},
    {"COTEJADA", AR_COTEJADA},
};

actas_role actas_role_of(const char *name)
{
    for (size_t i = 0; i < PREP_ARRAY_LEN(role_names); i++)
        if (strcmp(role_names[i].name, name) == 0) return role_names[i].role;
    /* INE 2021: CODIGOS_ENTREGADOS_PMDC, CODIGOS_SOBRANTES, CODIGOS_UTILIZADOS (the
     * electronic-vote codes; not used by the counting rules) */
    if (strncmp(name, "CODIGOS_", 8) == 0) return AR_IGNORE;
    return AR_UNKNOWN;
}

const char *actas_role_name(actas_role r)
{
    for (size_t i = 0; i < PREP_ARRAY_LEN(role_names); i++)
        if (role_names[i].role == r) return role_names[i].name;
    return "";
}

uint32_t actas_indep_no(const char *name)
{
    const char *p;
    if (strncmp(name, "CAND_IND_", 9) == 0) p = name + 9;
    else if (strncmp(name, "CAND_IND", 8) == 0) p = name + 8;
    else return 0;
    uint32_t v = 0;
    if (!*p) return 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > 9999) return 0;
        v = v * 10 + (uint32_t)(*p - '0');
    }
    return v;
}

int actas_special_col(const char *name, prep_cat_col_kind *kind)
{
    static const char *const noreg[] = {"NO_REGISTRADOS",
                                        "NO_REGISTRADAS",
                                        "CANDIDATOS_NO_REGISTRADOS",
                                        "CANDIDATURAS_NO_REGISTRADAS",
                                        "CANDIDATURA_NO_REGISTRADA",
                                        "CAND_NO_REG",
                                        "CAND_NO_REGISTRADOS",
                                        "NO_REG",
                                        "VOTOS_NO_REGISTRADOS",
                                        "VOTOS_CANDIDATOS_NO_REGISTRADOS",
                                        "CNR"}; /* Puebla 2018's candidaturas CSVs */
    static const char *const nulos[] = {"NULOS", "VOTOS_NULOS", "NULO"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(noreg); i++)
        if (strcmp(name, noreg[i]) == 0) {
            *kind = PREP_CAT_COL_NOREG;
            return 1;
        }
    for (size_t i = 0; i < PREP_ARRAY_LEN(nulos); i++)
        if (strcmp(name, nulos[i]) == 0) {
            *kind = PREP_CAT_COL_NULOS;
            return 1;
        }
    return 0;
}

/* 1 if p spells the parties of col not yet in `used` (a bit per party of col), each once,
 * joined by '_' or '-', in any order, each by its id or its combo_name. */
static int parties_spelled(const prep_catalog *c, const prep_cat_column *col, const char *p, uint32_t used)
{
    if (used == (1u << col->n_parties) - 1) return *p == 0;
    for (uint32_t k = 0; k < col->n_parties; k++) {
        if (used & (1u << k)) continue;
        const prep_cat_party *pa = &c->parties[col->parties[k]];
        const char *sp[2] = {pa->id, pa->combo_name};
        for (int v = 0; v < 2; v++) {
            size_t n = sp[v] ? strlen(sp[v]) : 0;
            if (!n || strncmp(p, sp[v], n) != 0) continue;
            uint32_t now = used | (1u << k);
            if (now == (1u << col->n_parties) - 1 ? p[n] == 0
                                                   : (p[n] == '_' || p[n] == '-') && parties_spelled(c, col, p + n + 1, now))
                return 1;
        }
    }
    return 0;
}

/* 1 if `name` spells the combination column `col`: its parties joined by '_' or '-', with
 * or without the prefix, in any order (Queretaro 2018 writes MORENA_PT_PES for a coalition
 * whose ballot order is PES, MORENA, PT), each by its id or its combo_name. */
static int combo_spelled(const prep_catalog *c, const prep_cat_column *col, const char *name)
{
    const char *p = name;
    if (c->combo_prefix && *c->combo_prefix && !strncmp(p, c->combo_prefix, strlen(c->combo_prefix)))
        p += strlen(c->combo_prefix);
    else if (!strncmp(p, "C_", 2))
        p += 2;
    return col->n_parties >= 2 && col->n_parties <= 16 && parties_spelled(c, col, p, 0);
}

uint32_t actas_resolve_vote_col(const prep_catalog *c, uint32_t e, const char *name)
{
    uint32_t j = prep_catalog_find_column(c, e, name);
    if (j != PREP_CAT_NONE) return j;
    const prep_cat_election *el = &c->elections[e];
    prep_cat_col_kind k;
    uint32_t ind = actas_indep_no(name);
    int special = actas_special_col(name, &k);
    for (j = 0; j < el->n_cols; j++) {
        const prep_cat_column *col = &el->cols[j];
        /* CAND_IND_01 is CAND_IND_1; a named column (CAND_IND_JHZM) only by its name */
        if (ind && col->kind == PREP_CAT_COL_INDEP && col->indep_no == ind && actas_indep_no(col->name) == ind)
            return j;
        if (special && col->kind == k) return j;
        if (col->kind == PREP_CAT_COL_COMBO && combo_spelled(c, col, name)) return j;
    }
    return PREP_CAT_NONE;
}

/* ---------------------------------------------------------------- OBSERVACIONES */

int actas_obs_reason(const char *obs_norm)
{
    const char *o = obs_norm;
    if (!*o) return RS_NONE;
    if (strstr(o, "FUERA DE CATALOGO")) return RS_OUT;
    if (strstr(o, "SIN ACTA") || !strncmp(o, "SIN AR ", 7) || strstr(o, "NO INSTALADA") ||
        strstr(o, "NO ENTREGADO"))
        return RS_NOACTA;
    if (strstr(o, "EXCEDE")) return RS_EXCEEDS;
    if ((!strncmp(o, "TODO", 4) || strstr(o, "TODOS LOS CAMPOS")) &&
        (strstr(o, "ILEGIBLE") || strstr(o, "SIN DATO") || strstr(o, "VACIO")))
        return RS_ALL;
    if (strstr(o, "ILEGIBLE") || strstr(o, "SIN DATO") || strstr(o, "VACIO")) return RS_SOME;
    return RS_OTHER;
}

static int label_is(const char *label, const char *norm)
{
    if (!label || !*label) return 0;
    char l[256];
    actas_norm(label, l, sizeof l);
    return strcmp(l, norm) == 0;
}

prep_acta_no_acta actas_no_acta_from_obs(const prep_catalog *c, const char *obs)
{
    char n[256];
    actas_norm(obs, n, sizeof n);
    if (!n[0]) return PREP_ACTA_HAS_ACTA;
    if (c) {
        if (label_is(c->labels.no_acta_not_delivered, n)) return PREP_ACTA_NO_ACTA_NOT_DELIVERED;
        if (label_is(c->labels.no_acta_not_installed, n)) return PREP_ACTA_NO_ACTA_NOT_INSTALLED;
        if (label_is(c->labels.no_acta_no_envelope, n)) return PREP_ACTA_NO_ACTA_NO_ENVELOPE;
    }
    /* Variants of real files: QROO 2019 "SIN ACTA POR PAQUETE NO ENTREGADO", INE 2018/2021
     * LEEMEs "Sin Acta - Paquete no Entregado / Casilla no Instalada / Sin Sobre", other
     * OPLEs "SIN ACTA POR PAQUETE ENTREGADO SIN BOLSA", "NP: SIN ACTA ...". */
    int sin_acta = strstr(n, "SIN ACTA") != NULL;
    if (strstr(n, "NO ENTREGAD") && (sin_acta || strstr(n, "PAQUETE")))
        return PREP_ACTA_NO_ACTA_NOT_DELIVERED;
    if (strstr(n, "NO INSTALAD") && (sin_acta || strstr(n, "CASILLA")))
        return PREP_ACTA_NO_ACTA_NOT_INSTALLED;
    if (sin_acta && (strstr(n, "SIN SOBRE") || strstr(n, "SIN BOLSA")))
        return PREP_ACTA_NO_ACTA_NO_ENVELOPE;
    if (sin_acta) return PREP_ACTA_NO_ACTA_OTHER;
    return PREP_ACTA_HAS_ACTA;
}

/* ---------------------------------------------------------------- layout */

void actas_header_free(prep_actas_header *h)
{
    free(h->election_name);
    free(h->cut_text);
    for (size_t i = 0; i < h->n_summary; i++) {
        free(h->summary_names[i]);
        free(h->summary_values[i]);
    }
    memset(h, 0, sizeof *h);
    h->cut = PREP_TIME_NONE;
}

void actas_layout_free(actas_layout *lay)
{
    actas_header_free(&lay->hdr);
    for (size_t i = 0; i < lay->ncols; i++) free(lay->cols[i]);
    free(lay->cols);
    memset(lay, 0, sizeof *lay);
}

/* A copy of a preamble line with its number. */
typedef struct pline {
    char *s;
    long no;
} pline;

const char *actas_aside_line(char *const *f, size_t n, size_t ncols)
{
    size_t kept = n < 2 ? n : 2, first = 0; /* only the first two fields are looked at */
    while (first < kept && !f[first][0]) first++;
    if (first == kept) return NULL;
    const char *t = f[first];
    int letter = (t[0] >= 'A' && t[0] <= 'Z') || (t[0] >= 'a' && t[0] <= 'z') || t[0] == '*';
    char nm[32];
    actas_norm(t, nm, sizeof nm);
    /* a note: a few fields (its text may hold the separator), the first a label, "Fuente:",
     * "Nota", "* Las actas..." (a place name, a first column cut short, holds no ':') */
    if (first == 0 && letter && n * 2 < ncols &&
        (strchr(t, ':') || t[0] == '*' || !strncmp(nm, "FUENTE", 6) || !strncmp(nm, "NOTA", 4)))
        return "a note";
    if (n == ncols && (!strncmp(nm, "TOTAL", 5) || !strncmp(nm, "SUMA", 4)) && !strpbrk(nm, "0123456789"))
        return "a totals row";
    return NULL;
}

void actas_name_norm(const char *in, char *out, size_t outsz)
{
    actas_norm(in, out, outsz);
    for (char *q = out; *q; q++)
        if (*q == ' ') *q = '_';
}

/* Splits a copy of s at sep; 1 if one of its fields is the column name `want`. */
static int has_field(const char *s, char sep, const char *want)
{
    char *tmp = prep_xstrdup(s);
    char *f[PREP_ACTAS_MAX_FIELDS];
    size_t n = prep_split(tmp, sep, 1, f, NULL, PREP_ARRAY_LEN(f));
    if (n > PREP_ARRAY_LEN(f)) n = PREP_ARRAY_LEN(f);
    int hit = 0;
    for (size_t i = 0; i < n && !hit; i++) {
        char nm[64];
        actas_name_norm(actas_unquote(f[i]), nm, sizeof nm);
        hit = strcmp(nm, want) == 0;
    }
    free(tmp);
    return hit;
}

/* First non-empty field of a line, unquoted (owned). */
static char *first_field(const char *s, char sep)
{
    char *tmp = prep_xstrdup(s);
    char *f[PREP_ACTAS_MAX_FIELDS];
    size_t n = prep_split(tmp, sep, 1, f, NULL, PREP_ARRAY_LEN(f));
    if (n > PREP_ARRAY_LEN(f)) n = PREP_ARRAY_LEN(f);
    char *r = NULL;
    for (size_t i = 0; i < n && !r; i++) {
        actas_unquote(f[i]);
        if (f[i][0]) r = prep_xstrdup(f[i]);
    }
    free(tmp);
    return r ? r : prep_xstrdup("");
}

/* Fields of a summary line, trailing empty ones dropped; at most 16 kept. */
static size_t summary_fields(const char *s, char sep, char *out[16], size_t *total)
{
    char *tmp = prep_xstrdup(s);
    char *f[PREP_ACTAS_MAX_FIELDS];
    size_t n = prep_split(tmp, sep, 1, f, NULL, PREP_ARRAY_LEN(f));
    if (n > PREP_ARRAY_LEN(f)) n = PREP_ARRAY_LEN(f);
    for (size_t i = 0; i < n; i++) actas_unquote(f[i]);
    while (n && !f[n - 1][0]) n--;
    *total = n;
    size_t k = n < 16 ? n : 16;
    for (size_t i = 0; i < k; i++) out[i] = prep_xstrdup(f[i]);
    free(tmp);
    return k;
}

static int all_digits(const char *s, size_t lo, size_t hi)
{
    size_t n = strlen(s);
    if (n < lo || n > hi) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* A comma file whose figures are written with unquoted thousands separators ("7,671")
 * splits them in two fields. When exactly the surplus number of places could be such a
 * split (1-3 digits, optionally after an apostrophe, then exactly 3 digits, optionally
 * with decimals or '%'), they are joined; otherwise nothing is (ambiguous). Returns the
 * new count. */
static size_t join_thousands(char *v[16], size_t nv, size_t want)
{
    size_t cand = 0;
    for (size_t i = 0; i + 1 < nv; i++) {
        const char *a = v[i][0] == '\'' ? v[i] + 1 : v[i];
        char b[32];
        snprintf(b, sizeof b, "%s", v[i + 1]);
        b[strcspn(b, ".%")] = 0;
        if (all_digits(a, 1, 3) && all_digits(b, 3, 3)) cand++;
    }
    if (cand != nv - want) return nv;
    size_t o = 0;
    for (size_t i = 0; i < nv; i++) {
        const char *a = v[i][0] == '\'' ? v[i] + 1 : v[i];
        char b[32] = "";
        if (i + 1 < nv) {
            snprintf(b, sizeof b, "%s", v[i + 1]);
            b[strcspn(b, ".%")] = 0;
        }
        if (i + 1 < nv && all_digits(a, 1, 3) && all_digits(b, 3, 3)) {
            /* join v[i], v[i+1] (and a following group, as in 1,234,567) */
            size_t j = i + 1;
            prep_buf t;
            prep_buf_init(&t, 0);
            prep_buf_printf(&t, "%s,%s", v[i], v[j]);
            while (j + 1 < nv) {
                const char *c = v[j];
                snprintf(b, sizeof b, "%s", v[j + 1]);
                b[strcspn(b, ".%")] = 0;
                if (!(all_digits(c, 3, 3) && all_digits(b, 3, 3))) break;
                prep_buf_printf(&t, ",%s", v[++j]);
            }
            for (size_t q = i; q <= j; q++) free(v[q]);
            v[o++] = (char *)t.data;
            i = j;
        } else {
            v[o++] = v[i];
        }
    }
    for (size_t q = o; q < nv; q++) v[q] = NULL;
    return o;
}

/* Digits at *p (1..max of them): the number, *p moved past; -1 when none. */
static int num_at(const char **p, int max)
{
    int v = 0, n = 0;
    while (n < max && **p >= '0' && **p <= '9') v = v * 10 + (*(*p)++ - '0'), n++;
    return n ? v : -1;
}

/* A Spanish month name at p, any case (no month's name has an accent): 1..12, *len its
 * length; 0 when none. */
static int month_at(const char *p, size_t *len)
{
    static const char *const m[] = {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                                    "septiembre", "octubre", "noviembre", "diciembre", "setiembre"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(m); i++) {
        size_t n = strlen(m[i]);
        if (!strncasecmp(p, m[i], n)) {
            *len = n;
            return i == 12 ? 9 : (int)i + 1;
        }
    }
    return 0;
}

/* The cut line of a header block as institutes write it, beyond prep_time_parse's forms:
 * a label before it ("Corte: ", "Fecha y hora de corte: "), words after it ("hrs",
 * "horas (Tiempo del Centro)"), the time before the date, the date as "7 de junio de
 * 2021", with '-' (07-06-2021) or a two-digit year (07/06/21), and an offset "(UTC-5)"
 * anywhere. The date is day first, as every Mexican file writes it. 0, or -1. */
static int cut_parse(const char *s, const char *tz, prep_time *out)
{
    if (!s) return -1;
    if (prep_time_parse(s, tz, out) == 0) return 0;
    int Y = -1, M = -1, D = -1, h = -1, mi = -1, se = 0, half = 0;
    char off[16] = "";
    for (const char *p = s; *p;) {
        const char *q = p;
        if (*p >= '0' && *p <= '9') {
            int a = num_at(&q, 4);
            size_t ml;
            if (*q == ':' && h < 0 && q - p <= 2) { /* a time */
                q++;
                h = a;
                if ((mi = num_at(&q, 2)) < 0) return -1;
                if (*q == ':') {
                    q++;
                    if ((se = num_at(&q, 2)) < 0) return -1;
                }
                half = prep_time_meridiem(&q);
            } else if ((*q == '/' || *q == '-') && Y < 0) { /* a date */
                char sep = *q++;
                int b = num_at(&q, 2), c;
                if (b < 0 || *q++ != sep || (c = num_at(&q, 4)) < 0) return -1;
                if (a > 31) Y = a, M = b, D = c; /* YYYY-MM-DD, YYYY/M/D */
                else D = a, M = b, Y = c < 100 ? 2000 + c : c;
            } else if (Y < 0 && !strncasecmp(q, " de ", 4) && (M = month_at(q + 4, &ml)) > 0 &&
                       !strncasecmp(q + 4 + ml, " de ", 4)) { /* 7 de junio de 2021 */
                q += 8 + ml;
                D = a;
                if ((Y = num_at(&q, 4)) < 1000) return -1;
            }
            p = q > p ? q : p + 1;
            continue;
        }
        if (!strncasecmp(p, "UTC", 3) || !strncasecmp(p, "GMT", 3)) {
            q = p + 3;
            if (*q == '+' || *q == '-') {
                size_t n = 1 + strspn(q + 1, "0123456789:");
                if (n < sizeof off - 6) snprintf(off, sizeof off, "(UTC%.*s)", (int)n, q);
                q += n;
            }
            p = q;
            continue;
        }
        p++;
    }
    if (Y < 0 || h < 0) return -1;
    if (half) {
        if (h < 1 || h > 12) return -1;
        h = h % 12 + (half == 2 ? 12 : 0);
    }
    char b[64];
    snprintf(b, sizeof b, "%04d-%02d-%02d %02d:%02d:%02d%s%s", Y, M, D, h, mi, se, off[0] ? " " : "", off);
    return prep_time_parse(b, tz, out);
}

/* The cut's date-time of a header-block line: its first field, else the whole line
 * (a cut line "7 de junio de 2021, 20:00" holds the separator). 0, or -1. */
static int line_cut(const char *line, char sep, const char *tz, prep_time *out, char **text)
{
    char *t = first_field(line, sep);
    if (t && cut_parse(t, tz, out) == 0) {
        if (text) *text = t;
        else free(t);
        return 0;
    }
    char *w = prep_xstrdup(line);
    actas_unquote(w);
    int r = cut_parse(w, tz, out);
    if (r == 0 && text) {
        free(t);
        *text = w;
        return 0;
    }
    free(w);
    if (text) *text = t ? t : prep_xstrdup("");
    else free(t);
    return r;
}

/* A summary written down, one figure per line, NAME<sep>VALUE (an unquoted "3,748" in a
 * comma file is one value), from line k of the block: how many such lines follow each
 * other there; with names and values (owned) when h is given. */
static size_t vertical_summary(pline *pl, size_t k, size_t np, char sep, prep_actas_header *h)
{
    size_t m = 0;
    for (size_t i = k; i < np && m < 16; i++) {
        char *f[16] = {0};
        size_t tot, nf = summary_fields(pl[i].s, sep, f, &tot);
        int groups = nf >= 3 && sep == ',' && all_digits(f[1], 1, 3); /* "1", "847", "519" */
        for (size_t j = 2; j < nf && groups; j++) groups = all_digits(f[j], 3, 3);
        int ok = (nf == 2 || groups) && tot == nf && prep_actas_summary_index(f[0]) >= 0 &&
                 prep_actas_summary_index(f[1]) < 0;
        if (ok && h) {
            prep_buf v;
            prep_buf_init(&v, 0);
            for (size_t j = 1; j < nf; j++) prep_buf_printf(&v, "%s%s", j > 1 ? "," : "", f[j]);
            char *val = prep_buf_steal(&v, NULL);
            h->summary_names[m] = f[0];
            h->summary_values[m] = val ? val : prep_xstrdup("");
            f[0] = NULL;
            if (!m) h->summary_line = (uint32_t)pl[i].no;
        }
        for (size_t j = 0; j < nf; j++) free(f[j]);
        if (!ok) break;
        m++;
    }
    return m;
}

static void read_header_block(const char *name, pline *pl, size_t np, char sep, const char *tz,
                              prep_actas_header *h, prep_diags *d)
{
    h->cut = PREP_TIME_NONE;
    if (np == 0) return;
    h->present = 1;
    /* the line of summary names: the one with ACTAS_ESPERADAS */
    size_t k = np;
    for (size_t i = 0; i < np; i++)
        if (has_field(pl[i].s, sep, "ACTAS_ESPERADAS")) {
            k = i;
            break;
        }
    size_t before = k == np ? np : k;
    /* INE 2018 / 2021 (LEEME C.a): the block may open with the cut line, no election name */
    int cut_first = 0;
    if (before == 1) {
        prep_time tt;
        cut_first = line_cut(pl[0].s, sep, tz, &tt, NULL) == 0;
    }
    /* the names and values: two lines, or one line per figure */
    size_t vert = k < np ? vertical_summary(pl, k, np, sep, NULL) : 0, tail = vert >= 2 ? vert : 2;
    if ((np != 2 + tail || k != 2) && !(cut_first && np == 1 + tail))
        prep_diags_add(d, name, pl[0].no, 0, "bad-header-block",
                       "expected 4 lines before the column header (election, cut date-time, "
                       "summary names, summary values), found %zu%s",
                       np, k == np ? " and no ACTAS_ESPERADAS line" : "");
    if (before >= 1 && !cut_first) h->election_name = first_field(pl[0].s, sep);
    if (before >= 2 || cut_first) {
        size_t ci = cut_first ? 0 : 1;
        if (before > 2 && k < np) {
            /* more lines than election and cut: the cut is the date-time line nearest the
             * names, when there is one */
            for (size_t i = k; i-- > 1;) {
                prep_time tt;
                if (line_cut(pl[i].s, sep, tz, &tt, NULL) == 0) {
                    ci = i;
                    break;
                }
            }
        }
        if (line_cut(pl[ci].s, sep, tz, &h->cut, &h->cut_text) != 0) {
            char cb[64];
            h->cut = PREP_TIME_NONE;
            prep_diags_add(d, name, pl[ci].no, 1, "bad-cut-time", "cut date-time '%s' is not a date and time",
                           actas_clip(h->cut_text, cb));
        }
    }
    if (!h->election_name) h->election_name = prep_xstrdup("");
    if (!h->cut_text) h->cut_text = prep_xstrdup("");
    if (k == np) return;
    if (vert >= 2) {
        h->n_summary = vertical_summary(pl, k, np, sep, h);
        return;
    }
    size_t nn_total = 0, nv_total = 0;
    char *names[16] = {0}, *values[16] = {0};
    size_t nn = summary_fields(pl[k].s, sep, names, &nn_total);
    size_t nv = 0;
    if (k + 1 < np) {
        nv = summary_fields(pl[k + 1].s, sep, values, &nv_total);
        h->summary_line = (uint32_t)pl[k + 1].no;
    } else {
        prep_diags_add(d, name, pl[k].no, 0, "bad-header-block", "summary names without a line of values");
    }
    if (nn_total > 16)
        prep_diags_add(d, name, pl[k].no, 17, "bad-header-block", "%zu summary names; only 16 are kept",
                       nn_total);
    if (k + 1 < np && nv_total > nn_total && sep == ',' && nv_total <= 16)
        nv_total = nv = join_thousands(values, nv, nn_total);
    size_t m = nn < nv ? nn : nv;
    if (k + 1 < np && nv_total != nn_total) {
        /* values and names no longer pair up: reading them in order would give some figure
         * another's value, so none is taken */
        prep_diags_add(d, name, pl[k + 1].no, 0, "bad-header-block",
                       "%zu summary values for %zu names: the figures cannot be paired with their names",
                       nv_total, nn_total);
        m = 0;
    }
    for (size_t i = 0; i < m; i++) {
        h->summary_names[i] = names[i];
        h->summary_values[i] = values[i];
        names[i] = values[i] = NULL;
    }
    h->n_summary = m;
    for (size_t i = 0; i < 16; i++) {
        free(names[i]);
        free(values[i]);
    }
}

prep_err actas_layout_read(const char *name, actas_lines *it, const char *tz, actas_layout *lay,
                           prep_diags *d)
{
    memset(lay, 0, sizeof *lay);
    lay->hdr.cut = PREP_TIME_NONE;
    pline pl[PREP_ACTAS_MAX_PREAMBLE];
    size_t np = 0;
    char *line;
    size_t len;
    long no;
    prep_err err = PREP_OK;
    char *header = NULL;
    while (actas_next_line(it, &line, &len, &no)) {
        if (len > PREP_ACTAS_MAX_LINE) {
            prep_diags_add(d, name, no, 0, "line-too-long", "line of %zu bytes before the column header (limit %d)",
                           len, PREP_ACTAS_MAX_LINE);
            err = PREP_ERR_LIMIT;
            goto out;
        }
        char *t = line;
        while (*t == ' ' || *t == '\t') t++;
        if (no == 1 && (!strncmp(t, "sep=", 4) || !strncmp(t, "SEP=", 4)) && t[4] && t[5] == 0) {
            if (t[4] != '|' && t[4] != ',' && t[4] != ';' && t[4] != '\t') {
                prep_diags_add(d, name, no, 5, "bad-separator", "separator '%c' is not one of | , ; TAB", t[4]);
                err = PREP_ERR_PARSE;
                goto out;
            }
            lay->sep = t[4];
            lay->sep_line = 1;
            continue;
        }
        /* blank, or only empty fields: a spreadsheet's ",,,," or IECM 2024's lines of quoted
         * tabs ("\t","\t",...) between the header block's parts */
        if (!t[strspn(t, " \t\"'|,;")]) continue;
        /* the column header: the first line with a CLAVE_CASILLA (or SECCION) field */
        static const char seps[] = {'|', ',', ';', '\t'};
        for (size_t i = 0; i < sizeof seps && !header; i++) {
            char s = lay->sep ? lay->sep : seps[i];
            if (has_field(t, s, "CLAVE_CASILLA") || (has_field(t, s, "SECCION") && has_field(t, s, "TIPO_CASILLA"))) {
                lay->sep = s;
                header = t;
            }
            if (lay->sep) break;
        }
        if (header) {
            lay->header_line = no;
            break;
        }
        if (np == PREP_ACTAS_MAX_PREAMBLE) {
            prep_diags_add(d, name, no, 0, "no-header",
                           "no column header (a line with CLAVE_CASILLA) in the first %d non-blank lines",
                           PREP_ACTAS_MAX_PREAMBLE);
            err = PREP_ERR_PARSE;
            goto out;
        }
        pl[np].s = prep_xstrdup(t);
        pl[np].no = no;
        np++;
    }
    if (!header) {
        prep_diags_add(d, name, it->no, 0, "no-header", "no column header (a line with CLAVE_CASILLA) found");
        err = PREP_ERR_PARSE;
        goto out;
    }
    read_header_block(name, pl, np, lay->sep, tz, &lay->hdr, d);
    /* the column names */
    {
        char *f[PREP_ACTAS_MAX_FIELDS];
        size_t n = prep_split(header, lay->sep, 1, f, NULL, PREP_ARRAY_LEN(f));
        if (n > PREP_ARRAY_LEN(f)) {
            prep_diags_add(d, name, lay->header_line, 0, "too-many-fields", "%zu columns (limit %d)", n,
                           PREP_ACTAS_MAX_FIELDS);
            err = PREP_ERR_LIMIT;
            goto out;
        }
        while (n > 1 && !actas_unquote(f[n - 1])[0]) n--; /* a trailing separator */
        lay->cols = prep_xcalloc(n, sizeof *lay->cols);
        lay->ncols = n;
        for (size_t i = 0; i < n; i++) {
            char nm[128];
            actas_name_norm(actas_unquote(f[i]), nm, sizeof nm);
            lay->cols[i] = prep_xstrdup(nm);
        }
    }
out:
    for (size_t i = 0; i < np; i++) free(pl[i].s);
    if (err != PREP_OK) {
        actas_layout_free(lay);
    }
    return err;
}

/* actas_begin; own as decode's. */
static prep_err begin(const char *name, const char *data, size_t len, char *own, const char *tz, char **text,
                      actas_lines *it, actas_layout *lay, int *latin1, prep_diags *d)
{
    size_t tlen = 0;
    int l1 = 0;
    prep_err e = decode(data, len, own, text, &tlen, &l1);
    if (e == PREP_ERR_PARSE) prep_diags_add(d, name, 1, 0, "bad-encoding", ACTAS_BAD_UTF16);
    if (e) return e;
    if (latin1) *latin1 = l1;
    actas_lines_init(it, *text, tlen);
    e = actas_layout_read(name, it, tz, lay, d);
    if (e) {
        free(*text);
        *text = NULL;
    }
    return e;
}

prep_err actas_begin(const char *name, const char *data, size_t len, const char *tz, char **text, actas_lines *it,
                     actas_layout *lay, int *latin1, prep_diags *d)
{
    return begin(name, data, len, NULL, tz, text, it, lay, latin1, d);
}

prep_err actas_begin_take(const char *name, char *data, size_t len, const char *tz, char **text, actas_lines *it,
                          actas_layout *lay, int *latin1, prep_diags *d)
{
    return data ? begin(name, data, len, data, tz, text, it, lay, latin1, d)
                : begin(name, "", 0, NULL, tz, text, it, lay, latin1, d);
}

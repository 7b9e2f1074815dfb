/* prep actas: reading a PREP database file (Anexo 18.5 layout) into a prep_actas set
 * bound to a catalogue election. Every variant of the real files is accepted; a bad row
 * is reported (line, field number, kind) and skipped; the good ones are kept.
 * Variants, checks and limits: docs/formats/actas.md. */
#include "actas_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the set */

prep_actas *prep_actas_new(const prep_catalog *c, uint32_t e)
{
    prep_actas *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cat = c;
    s->election = e;
    s->sep = c ? c->csv_sep : '|';
    s->hdr.cut = PREP_TIME_NONE;
    return s;
}

void prep_actas_free(prep_actas *s)
{
    if (!s) return;
    free(s->v);
    free(s->votes);
    actas_header_free(&s->hdr);
    free(s);
}

prep_err prep_actas_append(prep_actas *s, const prep_acta *a, const int32_t *votes)
{
    uint32_t nc = s->cat->elections[s->election].n_cols;
    if (s->n >= PREP_ACTAS_MAX_ROWS) return PREP_ERR_LIMIT;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        prep_acta *v = realloc(s->v, cap * sizeof *v);
        if (!v) return PREP_ERR_NOMEM;
        s->v = v;
        s->cap = cap;
    }
    if (s->votes_len + nc > s->votes_cap) {
        size_t cap = s->votes_cap ? s->votes_cap * 2 : (size_t)256 * (nc ? nc : 1);
        while (cap < s->votes_len + nc) cap *= 2;
        int32_t *p = realloc(s->votes, cap * sizeof *p);
        if (!p) return PREP_ERR_NOMEM;
        s->votes = p;
        s->votes_cap = cap;
    }
    prep_acta *d = &s->v[s->n++];
    *d = *a;
    d->votes_off = (uint32_t)s->votes_len;
    if (nc) memcpy(s->votes + s->votes_len, votes, nc * sizeof *votes);
    s->votes_len += nc;
    return PREP_OK;
}

/* ---------------------------------------------------------------- header values */

int prep_actas_summary_index(const char *name)
{
    /* accepted spellings of each canonical figure, in prep_actas_summary_names order */
    static const char *const alt[13][3] = {
        {"ACTAS_ESPERADAS", NULL, NULL},
        {"ACTAS_REGISTRADAS", NULL, NULL},
        {"ACTAS_FUERA_CATALOGO", "ACTAS_FUERA_DE_CATALOGO", NULL},
        {"ACTAS_CAPTURADAS", NULL, NULL},
        {"PORCENTAJE_ACTAS_CAPTURADAS", NULL, NULL},
        {"ACTAS_CONTABILIZADAS", NULL, NULL},
        {"PORCENTAJE_ACTAS_CONTABILIZADAS", NULL, NULL},
        {"PORCENTAJE_ACTAS_INCONSISTENCIAS", "PORCENTAJE_ACTAS_CON_INCONSISTENCIAS", NULL},
        {"ACTAS_NO_CONTABILIZADAS", NULL, NULL},
        {"LISTA_NOMINAL_ACTAS_CONTABILIZADAS", "LISTA_NOMINAL_ACTAS_CONTABILZADAS", NULL},
        {"TOTAL_VOTOS_C_CS", NULL, NULL},
        {"TOTAL_VOTOS_S_CS", NULL, NULL},
        {"PORCENTAJE_PARTICIPACION_CIUDADANA", NULL, NULL},
    };
    if (!name) return -1;
    char n[64];
    actas_name_norm(name, n, sizeof n);
    for (int i = 0; i < 13; i++)
        for (int a = 0; a < 3 && alt[i][a]; a++)
            if (strcmp(n, alt[i][a]) == 0) return i;
    return -1;
}

const char *prep_actas_header_value(const prep_actas_header *h, int i)
{
    if (!h || i < 0 || i >= 13) return NULL;
    for (size_t k = 0; k < h->n_summary; k++)
        if (prep_actas_summary_index(h->summary_names[k]) == i) return h->summary_values[k];
    return NULL;
}

/* ---------------------------------------------------------------- rows */

typedef struct reader {
    const char *name;
    const prep_catalog *c;
    uint32_t e;
    prep_diags *d;
    actas_layout lay;
    int role_field[AR_COUNT]; /* file field of each role, -1 when absent */
    uint32_t *vote_field;     /* per election column: its file field */
    int32_t *tmp;             /* one row's votes */
    /* the row being read */
    char **f;
    long line;
    char tipo_letters[8]; /* the letters of its TIPO_ACTA, upper case ("ERP" of 3erp) */
} reader;

/* A bad-row diag; always returns -1 so callers can `return bad(...)`. */
static int bad(reader *r, int field, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(reader *r, int field, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prep_diags_vadd(r->d, r->name, r->line, field >= 0 ? field + 1 : 0, kind, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *fld(reader *r, actas_role role)
{
    int i = r->role_field[role];
    return i >= 0 ? r->f[i] : NULL;
}

/* The file's own name of a role's column (ID_ESTADO, ID_DISTRITO_FEDERAL...), for diags. */
static const char *col_name(const reader *r, actas_role role)
{
    int i = r->role_field[role];
    return i >= 0 ? r->lay.cols[i] : actas_role_name(role);
}

/* Optional unsigned number; blank or absent -> 0. */
static int get_u32(reader *r, actas_role role, uint32_t *out, uint32_t max)
{
    const char *s = fld(r, role);
    *out = 0;
    if (!s || actas_is_blank(s)) return 0;
    char cb[64];
    if (actas_parse_u32(s, out) != 0 || *out > max)
        return bad(r, r->role_field[role], "bad-number", "%s '%s' is not a number (0..%u)",
                   actas_role_name(role), actas_clip(s, cb), max);
    return 0;
}

/* Optional vote-like value; absent -> PREP_ACTA_V_NONE. */
static int get_vote(reader *r, actas_role role, int32_t *out)
{
    const char *s = fld(r, role);
    *out = PREP_ACTA_V_NONE;
    if (!s) return 0;
    char cb[64];
    if (actas_parse_vote(s, out) != 0)
        return bad(r, r->role_field[role], "bad-vote",
                   "%s '%s' is not a number, ILEGIBLE, SIN DATO or -", actas_role_name(role), actas_clip(s, cb));
    if (*out == PREP_ACTA_V_NONE) *out = PREP_ACTA_V_SIN_DATO; /* "SIN ACTA" written in a field: blank */
    return 0;
}

static int get_text(reader *r, actas_role role, char *out, size_t outsz)
{
    const char *s = fld(r, role);
    out[0] = 0;
    if (!s) return 0;
    size_t n = strlen(s);
    char cb[64];
    if (n >= outsz)
        return bad(r, r->role_field[role], "bad-value", "%s '%s' is longer than %zu bytes", actas_role_name(role),
                   actas_clip(s, cb), outsz - 1);
    memcpy(out, s, n + 1);
    return 0;
}

static int get_time(reader *r, actas_role role, prep_time *out)
{
    const char *s = fld(r, role);
    *out = PREP_TIME_NONE;
    if (!s || actas_is_blank(s)) return 0;
    char cb[64];
    if (prep_time_parse(s, r->c->timezone, out) != 0) {
        *out = PREP_TIME_NONE;
        return bad(r, r->role_field[role], "bad-time", "%s '%s' is not a date and time",
                   actas_role_name(role), actas_clip(s, cb));
    }
    return 0;
}

/* TIPO_ACTA: a number (2, 02), or a number with a suffix or prefix naming the acta's
 * kind (Sonora 2021: 2E, 3EMR, 3ERP, D3): its digits are the acta type. *tipo is the
 * election's acta type when the field is absent or blank. *out = 1 when the field marks an
 * out-of-catalogue acta: 0 (LEEME INE 2018: "este valor viene en cero para actas fuera de
 * catálogo") or "-" (LEEME INE 2021: "el valor TIPO_ACTA será guion"). */
static int read_tipo_acta(reader *r, uint32_t *tipo, int *out)
{
    const char *s = fld(r, AR_TIPO_ACTA);
    char cb[64];
    *tipo = r->c->elections[r->e].acta_type;
    *out = 0;
    r->tipo_letters[0] = 0;
    if (!s) return 0;
    while (*s == ' ') s++;
    if (s[0] == '-' && !s[1 + strspn(s + 1, " ")]) {
        *out = 1;
        return 0;
    }
    if (actas_is_blank(s)) return 0;
    char t[16];
    size_t k = 0, nl = 0, sl = actas_int_len(s, strlen(s)); /* 2.0: a float column's */
    for (const char *q = s; q < s + sl && k + 1 < sizeof t; q++)
        if (*q >= '0' && *q <= '9') t[k++] = *q;
        else if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || *q == ' '))
            k = sizeof t; /* not a type code */
        else if (*q != ' ' && nl + 1 < sizeof r->tipo_letters)
            r->tipo_letters[nl++] = (char)(*q >= 'a' ? *q - 'a' + 'A' : *q);
    r->tipo_letters[nl] = 0;
    t[k < sizeof t ? k : 0] = 0;
    if (k == 0 || k >= sizeof t || prep_parse_u32(t, tipo) != 0 || *tipo > 99) {
        /* a published file's slip (Sonora 2021: 3}, 3., 734 among 3,804 rows of type 3)
         * says nothing: as if absent */
        if (r->c->rules.published) {
            *tipo = r->c->elections[r->e].acta_type;
            return 0;
        }
        return bad(r, r->role_field[AR_TIPO_ACTA], "bad-number",
                   "TIPO_ACTA '%s' is not an acta type (a number 0..99, with letters or not)", actas_clip(s, cb));
    }
    *out = *tipo == 0;
    return 0;
}

/* The entity of a catalogue casilla: the first two digits of its key (CLAVE_CASILLA
 * carries the casilla's own entity, also in a national catalogue). */
static uint32_t casilla_entity(const prep_cat_casilla *cc)
{
    return (uint32_t)(cc->key[0] - '0') * 10 + (uint32_t)(cc->key[1] - '0');
}

/* Identification of the row and its binding to the catalogue; out: the row is marked
 * out of catalogue (TIPO_ACTA) and is not bound, whatever its key. */
static int read_identity(reader *r, prep_acta *a, int out)
{
    const prep_catalog *c = r->c;
    char key[64] = "", cb[64];
    const char *s = fld(r, AR_CLAVE_CASILLA);
    if (s) {
        char tmp[64];
        actas_norm(actas_unguard_key(r->f[r->role_field[AR_CLAVE_CASILLA]]), tmp, sizeof tmp);
        if (!actas_is_blank(tmp)) {
            if (strlen(tmp) >= sizeof a->clave_casilla)
                return bad(r, r->role_field[AR_CLAVE_CASILLA], "bad-key", "CLAVE_CASILLA '%s' is longer than %zu",
                           actas_clip(s, cb), sizeof a->clave_casilla - 1);
            for (const char *q = tmp; *q; q++)
                if (!((*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'Z')))
                    return bad(r, r->role_field[AR_CLAVE_CASILLA], "bad-key",
                               "CLAVE_CASILLA '%s' has a character other than digits and letters",
                               actas_clip(s, cb));
            snprintf(key, sizeof key, "%s", tmp);
        }
    }
    uint32_t ent, sec, num, ext, urb = 0, dis, mun;
    if (get_u32(r, AR_ID_ENTIDAD, &ent, 99) || get_u32(r, AR_SECCION, &sec, 99999) ||
        get_u32(r, AR_ID_CASILLA, &num, 9999999) || get_u32(r, AR_EXT_CONTIGUA, &ext, 999) ||
        get_u32(r, AR_ID_DISTRITO, &dis, 99999) || get_u32(r, AR_ID_MUNICIPIO, &mun, 99999))
        return -1;
    /* ID_CASILLA above 99 is an internal serial (Querétaro 2018: 961...), not the casilla's
     * number, which its key then gives */
    int num_is_serial = num > 99 && key[0];
    if (num_is_serial) num = 0;
    s = fld(r, AR_UBICACION);
    if (s && !actas_is_blank(s)) {
        char u[32];
        actas_norm(s, u, sizeof u);
        /* 1 urbana, 2 no urbana; or written out (Querétaro 2018: URBANA) */
        if (!strcmp(u, "URBANA")) urb = 1;
        else if (!strcmp(u, "NO URBANA") || !strcmp(u, "RURAL")) urb = 2;
        else if (get_u32(r, AR_UBICACION, &urb, 9)) return -1;
    }
    char type = 0;
    s = fld(r, AR_TIPO_CASILLA);
    if (s && !actas_is_blank(s)) {
        char t[8];
        actas_norm(s, t, sizeof t);
        if (strlen(t) != 1 || t[0] < 'A' || t[0] > 'Z')
            return bad(r, r->role_field[AR_TIPO_CASILLA], "bad-value", "TIPO_CASILLA '%s' is not one letter",
                       actas_clip(s, cb));
        type = t[0];
    }
    if (r->role_field[AR_CLAVE_CASILLA] < 0 && sec && sec <= PREP_CAT_MAX_SECTION_ID && type && num <= 99 && ext <= 99 &&
        (ent ? ent : c->entity_id) <= 99) /* no CLAVE_CASILLA column: build it from its parts */
        prep_catalog_casilla_key(ent ? ent : c->entity_id, sec, type, num, ext, key);
    memcpy(a->clave_casilla, key, strlen(key) + 1); /* checked: < 24 bytes */
    a->section_id = sec;
    a->district_id = dis;
    a->municipality_id = mun;
    a->tipo_casilla = type;
    a->id_casilla = (uint16_t)num;
    a->ext_contigua = (uint16_t)ext;
    a->urban = (uint8_t)urb;
    a->casilla = key[0] && !out ? prep_catalog_find_casilla(c, key) : PREP_CAT_NONE;
    if (a->casilla == PREP_CAT_NONE) return 0;
    if (prep_catalog_section_parts(c, c->casillas[a->casilla].section, NULL, NULL) > 1) {
        /* a split section (catalog.h): the casilla has an acta in each part, under one key;
         * the row's district and municipality say which (none matching: the check below
         * names the one that differs) */
        int gd = fld(r, AR_ID_DISTRITO) && !actas_is_blank(fld(r, AR_ID_DISTRITO)),
            gm = fld(r, AR_ID_MUNICIPIO) && !actas_is_blank(fld(r, AR_ID_MUNICIPIO));
        uint32_t hits, part = prep_catalog_casilla_part(c, a->casilla, gd ? dis : 0, gm ? mun : 0, &hits);
        if (part != PREP_CAT_NONE) a->casilla = part;
        else if (hits > 1)
            return bad(r, r->role_field[AR_CLAVE_CASILLA], "split-section",
                       "casilla %s is in section %u, which is split in parts: the row's district and "
                       "municipality (ID_DISTRITO, ID_MUNICIPIO) must say which part", key, sec);
    }
    /* bound: the identification columns must agree with the catalogue's casilla */
    const prep_cat_casilla *cc = &c->casillas[a->casilla];
    const prep_cat_section *cs = &c->sections[cc->section];
    const struct {
        actas_role role;
        uint32_t got, want;
        int present;
    } chk[] = {
        {AR_SECCION, sec, cs->id, fld(r, AR_SECCION) && !actas_is_blank(fld(r, AR_SECCION))},
        {AR_TIPO_CASILLA, (uint32_t)(unsigned char)type, (uint32_t)(unsigned char)cc->type, type != 0},
        /* ID_CASILLA is not held to the key when there is one: Querétaro 2018 writes an
         * internal serial there (1, 2, ... 961) */
        {AR_ID_CASILLA, num, cc->number,
         !num_is_serial && r->role_field[AR_CLAVE_CASILLA] < 0 && fld(r, AR_ID_CASILLA) &&
             !actas_is_blank(fld(r, AR_ID_CASILLA))},
        {AR_EXT_CONTIGUA, ext, cc->ext, fld(r, AR_EXT_CONTIGUA) && !actas_is_blank(fld(r, AR_EXT_CONTIGUA))},
        /* not held for votes from abroad in section 0 (district 0 in the catalogue): the
         * LEEMEs do not say which district such a row names */
        {AR_ID_DISTRITO, dis, c->districts[cs->district].id,
         cs->district != PREP_CAT_NONE && fld(r, AR_ID_DISTRITO) && !actas_is_blank(fld(r, AR_ID_DISTRITO)) &&
             !(prep_cat_type_mesa(cc->type) && cs->id == 0)},
        {AR_ID_MUNICIPIO, mun, c->municipalities[cs->municipality].id,
         cs->municipality != PREP_CAT_NONE && fld(r, AR_ID_MUNICIPIO) && !actas_is_blank(fld(r, AR_ID_MUNICIPIO))},
    };
    /* ID_ESTADO / ID_ENTIDAD: the entity of the catalogue's casilla (a national file holds
     * several; the key's first two digits and the column must tell the same entity) */
    if (ent && ent != casilla_entity(cc)) {
        const char *en = fld(r, AR_ENTIDAD);
        return bad(r, r->role_field[AR_ID_ENTIDAD], "key-mismatch",
                   "%s %u%s%s%s but casilla %s of the catalogue is in entity %u", col_name(r, AR_ID_ENTIDAD), ent,
                   en && *en ? " (" : "", en && *en ? actas_clip(en, cb) : "", en && *en ? ")" : "", key,
                   casilla_entity(cc));
    }
    for (size_t i = 0; i < PREP_ARRAY_LEN(chk); i++)
        if (chk[i].present && chk[i].got != chk[i].want) {
            if (chk[i].role == AR_TIPO_CASILLA)
                return bad(r, r->role_field[chk[i].role], "key-mismatch",
                           "TIPO_CASILLA '%c' but casilla %s of the catalogue is '%c'", type, key, cc->type);
            return bad(r, r->role_field[chk[i].role], "key-mismatch", "%s %u but casilla %s of the catalogue has %u",
                       col_name(r, chk[i].role), chk[i].got, key, chk[i].want);
        }
    a->section_id = cs->id;
    a->district_id = cs->district != PREP_CAT_NONE ? c->districts[cs->district].id : 0;
    a->municipality_id = cs->municipality != PREP_CAT_NONE ? c->municipalities[cs->municipality].id : 0;
    a->tipo_casilla = cc->type;
    a->id_casilla = cc->number;
    a->ext_contigua = cc->ext;
    a->urban = cc->urban;
    return 0;
}

/* A SHA-256 written in base64 (44 characters, "=" last: the LEEMEs INE 2018 / 2021 speak
 * of "el base64 de una imagen como el SHA256") as 64 lower-case hex digits into out[65].
 * 0, or -1 when s is no such thing. */
static int sha_from_base64(const char *s, char out[65])
{
    /* each base64 digit's value + 1 (0: not a digit); a table, not strchr and snprintf per
     * character: INE's files carry one of these in each of ~170,000 rows */
    static const uint8_t val[256] = {
        ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
        ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
        ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
        ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
        ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
        ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
        ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
        ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
    };
    if (strlen(s) != 44 || s[43] != '=' || s[42] == '=') return -1;
    uint8_t b[33];
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (int i = 0; i < 43; i++) {
        unsigned v = val[(unsigned char)s[i]];
        if (!v) return -1;
        acc = (acc << 6) | (v - 1);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < sizeof b) b[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (n != 32 || acc) return -1; /* 43 x 6 = 258 bits: 32 bytes and 2 zero bits */
    prep_hex(b, 32, out);
    return 0;
}

/* The length of s when it is a hexadecimal digest that fits prep_acta.sha: 64 digits
 * (SHA-256, what the LEEMEs name), or 32, 40 or 56 (MD5, SHA-1, SHA-224: IECM 2024's
 * export wrote an MD5 of the image); else 0. */
static size_t hex_digest_len(const char *s)
{
    size_t n = 0;
    while (n <= 64 && ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') || (s[n] >= 'A' && s[n] <= 'F')))
        n++;
    return !s[n] && (n == 32 || n == 40 || n == 56 || n == 64) ? n : 0;
}

/* 1 when the row has a TIPO_ACTA that is not blank. */
static int tipo_given(reader *r)
{
    const char *s = fld(r, AR_TIPO_ACTA);
    return s && !actas_is_blank(s);
}

/* The acta type CLAVE_ACTA states: the digits it adds to CLAVE_CASILLA. 1 and *tipo, or 0. */
static int tipo_from_clave_acta(const prep_acta *a, uint32_t *tipo)
{
    size_t k = strlen(a->clave_casilla);
    if (!k || strncmp(a->clave_acta, a->clave_casilla, k) != 0 || !a->clave_acta[k]) return 0;
    return prep_parse_u32(a->clave_acta + k, tipo) == 0 && *tipo <= 99;
}

/* Which acta of its casilla a bound row is (catalog.h prep_catalog_acta_type_of): the
 * representación proporcional acta of a special casilla when its type is the election's
 * rp_acta_type (a->rp = 1), else the casilla's one acta. In a national catalogue, whose
 * acta types are all stated ([elections] special / abroad / rp_acta_type), a type that is
 * none of the casilla's is an error, and so is a casilla with no acta in the election
 * (an M casilla where the votes from abroad do not elect). */
static int bind_acta_type(reader *r, prep_acta *a, uint32_t tipo)
{
    const prep_catalog *c = r->c;
    const prep_cat_election *el = &c->elections[r->e];
    const prep_cat_casilla *cc = &c->casillas[a->casilla];
    int given = tipo_given(r) || tipo_from_clave_acta(a, &tipo);
    int fi = r->role_field[AR_TIPO_ACTA] >= 0 ? r->role_field[AR_TIPO_ACTA] : r->role_field[AR_CLAVE_ACTA];
    uint32_t want = prep_catalog_acta_type_of(c, r->e, a->casilla);
    if (want == PREP_CAT_ACTA_NONE)
        return bad(r, fi, "acta-type", "casilla %s (type %c) has no acta in election %s: the votes from abroad do "
                   "not elect it", cc->key, cc->type, el->id);
    if (!given) return 0;
    /* with a mark, the letters tell the RP acta from the MR acta of the same number */
    size_t ml = strlen(el->rp_acta_mark), ll = strlen(r->tipo_letters);
    int marked = ml && ll >= ml && !strcmp(r->tipo_letters + ll - ml, el->rp_acta_mark);
    a->tipo_marked = (uint8_t)(!ml || !tipo_given(r) ? 0 : marked ? 2 : ll ? 1 : 0);
    if (el->rp_acta_type && cc->type == 'S' && tipo == el->rp_acta_type && (!ml || marked)) {
        a->rp = 1;
    } else if (c->national && tipo != want) {
        if (el->rp_acta_type && cc->type == 'S')
            return bad(r, fi, "acta-type", "TIPO_ACTA %u but the actas of special casilla %s in election %s are "
                       "%u (mayoría relativa) and %u (representación proporcional)", tipo, cc->key, el->id, want,
                       el->rp_acta_type);
        return bad(r, fi, "acta-type", "TIPO_ACTA %u but the acta of casilla %s (type %c) in election %s is %u", tipo,
                   cc->key, cc->type, el->id, want);
    }
    uint32_t kt; /* a national row's CLAVE_ACTA and TIPO_ACTA must name the same acta */
    if (c->national && tipo_given(r) && tipo_from_clave_acta(a, &kt) && kt != tipo)
        return bad(r, r->role_field[AR_CLAVE_ACTA] >= 0 ? r->role_field[AR_CLAVE_ACTA] : fi, "key-mismatch",
                   "CLAVE_ACTA %s ends in acta type %u but TIPO_ACTA is %u", a->clave_acta, kt, tipo);
    return 0;
}

static int read_row(reader *r, prep_acta *a)
{
    const prep_catalog *c = r->c;
    const prep_cat_election *el = &c->elections[r->e];
    char cb[64];
    memset(a, 0, sizeof *a);
    a->line = (uint32_t)r->line;
    a->casilla = PREP_CAT_NONE;
    a->acopio = a->captura = a->verificacion = PREP_TIME_NONE;
    a->cotejada = -1;
    /* TIPO_ACTA, then the identification and binding, then CLAVE_ACTA */
    uint32_t tipo_acta;
    int tipo_out;
    if (read_tipo_acta(r, &tipo_acta, &tipo_out) || read_identity(r, a, tipo_out)) return -1;
    const char *s = fld(r, AR_CLAVE_ACTA);
    if (s && !actas_is_blank(s)) {
        char tmp[64];
        actas_norm(actas_unguard_key(r->f[r->role_field[AR_CLAVE_ACTA]]), tmp, sizeof tmp);
        if (strlen(tmp) >= sizeof a->clave_acta)
            return bad(r, r->role_field[AR_CLAVE_ACTA], "bad-key", "CLAVE_ACTA '%s' is longer than %zu",
                       actas_clip(s, cb), sizeof a->clave_acta - 1);
        memcpy(a->clave_acta, tmp, strlen(tmp) + 1);
    }
    if (a->casilla != PREP_CAT_NONE && bind_acta_type(r, a, tipo_acta)) return -1;
    if (!a->clave_acta[0] && a->clave_casilla[0]) {
        uint32_t t = tipo_acta;
        if (a->casilla != PREP_CAT_NONE && !tipo_given(r))
            t = a->rp ? el->rp_acta_type : prep_catalog_acta_type_of(c, r->e, a->casilla);
        prep_catalog_acta_key(a->clave_casilla, t, a->clave_acta);
    }

    /* ballot accounting */
    if (get_vote(r, AR_BOLETAS_SOBRANTES, &a->boletas_sobrantes) ||
        get_vote(r, AR_PERSONAS_VOTARON, &a->personas_votaron) || get_vote(r, AR_REP_VOTARON, &a->rep_votaron) ||
        get_vote(r, AR_VOTOS_SACADOS, &a->votos_sacados) || get_vote(r, AR_TOTAL_ASENTADO, &a->total_asentado))
        return -1;

    /* lista nominal, representatives: the catalogue wins when bound */
    uint32_t ln, reps;
    if (get_u32(r, AR_LISTA_NOMINAL, &ln, 100000000) || get_u32(r, AR_REPRESENTANTES, &reps, 100000))
        return -1;
    if (a->casilla != PREP_CAT_NONE) {
        ln = c->casillas[a->casilla].lista_nominal;
        reps = c->casillas[a->casilla].representatives;
    }
    a->lista_nominal = ln;
    a->representatives = reps;

    /* OBSERVACIONES: only the "sin acta" facts are input; the rest is recomputed */
    s = fld(r, AR_OBSERVACIONES);
    a->no_acta = (uint8_t)(s ? actas_no_acta_from_obs(c, s) : PREP_ACTA_HAS_ACTA);
    if (s) {
        char on[128];
        actas_norm(s, on, sizeof on);
        a->obs_stated = (uint8_t)actas_obs_reason(on);
    }
    s = fld(r, AR_CONTABILIZADA);
    int flag = actas_parse_flag(s);
    if (flag == -2)
        return bad(r, r->role_field[AR_CONTABILIZADA], "bad-value", "CONTABILIZADA '%s' is not 0, 1, 2, '-' or empty",
                   actas_clip(s, cb));
    a->contabilizada = (int8_t)flag;
    /* a published file that counted the acta and notes nothing of it writes an empty vote
     * field for 0 (Queretaro 2018: the combinations no one marked) */
    int empty_zero = c->rules.published && a->contabilizada == 1 && a->obs_stated == RS_NONE;

    /* votes */
    uint32_t unit = a->casilla != PREP_CAT_NONE ? prep_catalog_unit_of(c, r->e, a->casilla) : PREP_CAT_NONE;
    for (uint32_t j = 0; j < el->n_cols; j++) {
        int fi = (int)r->vote_field[j];
        int32_t v;
        if (actas_parse_vote(r->f[fi], &v) != 0)
            return bad(r, fi, "bad-vote", "%s '%s' is not a number, ILEGIBLE, SIN DATO or -", el->cols[j].name,
                       actas_clip(r->f[fi], cb));
        if (v == PREP_ACTA_V_NONE) v = PREP_ACTA_V_SIN_DATO; /* "SIN ACTA" in a vote field: blank */
        if (empty_zero && v == PREP_ACTA_V_SIN_DATO && !r->f[fi][0]) v = 0;
        if (unit != PREP_CAT_NONE) {
            int applies = prep_catalog_col_applies(c, r->e, unit, j) || (v >= 0 && actas_rp_party_col(c, r->e, a, j));
            if (a->no_acta != PREP_ACTA_HAS_ACTA) {
                /* no acta: whatever placeholder the file holds, nothing was captured */
                v = applies ? PREP_ACTA_V_NONE : PREP_ACTA_V_NA;
            } else if (applies && v == PREP_ACTA_V_NA && !c->rules.published) {
                /* (a published file's '-' says the column is not on this acta: Sonora 2021's
                 * representación proporcional actas, parties only) */
                return bad(r, fi, "missing-value", "%s is '-' but it is on the ballot of %s", el->cols[j].name,
                           prep_catalog_unit_name(c, r->e, unit));
            } else if (!applies && v != PREP_ACTA_V_NA) {
                /* Quintana Roo 2019 prints every combination on the acta and writes 0 (or
                 * SIN DATO) where the coalition does not run: accepted as "-". */
                /* a published file may mark them ILEGIBLE too (Sonora 2021, 52 rows) */
                if (v != 0 && v != PREP_ACTA_V_SIN_DATO && !(c->rules.published && v == PREP_ACTA_V_ILEGIBLE))
                    return bad(r, fi, "not-applicable", "%s is '%s' but it is not on the ballot of %s",
                               el->cols[j].name, actas_clip(r->f[fi], cb), prep_catalog_unit_name(c, r->e, unit));
                v = PREP_ACTA_V_NA;
            }
        }
        r->tmp[j] = v;
    }
    if (a->no_acta != PREP_ACTA_HAS_ACTA && a->casilla != PREP_CAT_NONE) {
        a->boletas_sobrantes = a->personas_votaron = a->rep_votaron = a->votos_sacados = PREP_ACTA_V_NONE;
        a->total_asentado = PREP_ACTA_V_NONE;
    }

    /* capture facts */
    if (get_text(r, AR_MECANISMO, a->mecanismo, sizeof a->mecanismo)) return -1;
    s = fld(r, AR_SHA);
    if (s && !actas_is_blank(s) && strcmp(s, "N/A") && strcmp(s, "n/a")) {
        size_t hn = hex_digest_len(s);
        if (hn) {
            for (size_t i = 0; i < hn; i++) a->sha[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
            a->sha[hn] = 0;
        } else if (sha_from_base64(s, a->sha)) {
            if (!c->rules.published)
                return bad(r, r->role_field[AR_SHA], "bad-sha",
                           "SHA '%s' is not 64 hexadecimal digits (nor the 44 base64 characters of 32 bytes)",
                           actas_clip(s, cb));
            /* a published file's code says nothing about the votes: the row stays, said */
            prep_diags_add(r->d, r->name, r->line, r->role_field[AR_SHA] + 1, "sha-left-out",
                           "integrity code '%s' is no hexadecimal digest (32 to 64 digits: MD5, SHA-1, SHA-256) "
                           "nor the base64 of a SHA-256: the acta is read without it",
                           actas_clip(s, cb));
            a->sha[0] = 0;
        }
    }
    if (get_time(r, AR_ACOPIO, &a->acopio) || get_time(r, AR_CAPTURA, &a->captura) ||
        get_time(r, AR_VERIFICACION, &a->verificacion))
        return -1;
    if (get_text(r, AR_ORIGEN, a->origen, sizeof a->origen) ||
        get_text(r, AR_DIGITALIZACION, a->digitalizacion, sizeof a->digitalizacion) ||
        get_text(r, AR_TIPO_DOCUMENTO, a->tipo_documento, sizeof a->tipo_documento))
        return -1;
    s = fld(r, AR_COTEJADA);
    if (s && !actas_is_blank(s)) {
        uint32_t v;
        if (actas_parse_u32(s, &v) != 0 || v > 3)
            return bad(r, r->role_field[AR_COTEJADA], "bad-value", "COTEJADA '%s' is not 0, 1, 2 or 3",
                       actas_clip(s, cb));
        a->cotejada = (int8_t)v;
    }
    prep_actas_classify(c, r->e, a, r->tmp);
    return 0;
}

/* A row of an acta that has not arrived: no flag, no OBSERVACIONES, no capture time, no
 * total and no vote field (Campeche 2021's early cut: only the identity and LISTA_NOMINAL). */
static int row_pending(reader *r)
{
    /* a key or acta type marked out of catalogue ("-", TIPO_ACTA 0): listed only because it
     * was captured (INE 2021 writes "-" in every field of such a row) */
    const char *k = fld(r, AR_CLAVE_CASILLA);
    if (k && !strcmp(k, "-")) return 0;
    const char *t = fld(r, AR_TIPO_ACTA);
    if (t && (!strcmp(t, "-") || !strcmp(t, "0") || !strcmp(t, "00"))) return 0;
    static const actas_role facts[] = {AR_CONTABILIZADA, AR_OBSERVACIONES, AR_ACOPIO,        AR_CAPTURA,
                                       AR_VERIFICACION,  AR_TOTAL_ASENTADO, AR_TOTAL_CALCULADO, AR_SHA};
    for (size_t i = 0; i < PREP_ARRAY_LEN(facts); i++) {
        int fi = r->role_field[facts[i]];
        if (fi >= 0 && !actas_is_blank(r->f[fi])) return 0;
    }
    const prep_cat_election *el = &r->c->elections[r->e];
    for (uint32_t j = 0; j < el->n_cols; j++)
        if (!actas_is_blank(r->f[r->vote_field[j]])) return 0;
    return 1;
}

/* Maps the column names to roles and vote columns. Any column we cannot place is an
 * error: an unplaced column could be votes we would silently drop. */
static prep_err map_columns(reader *r)
{
    const prep_catalog *c = r->c;
    const prep_cat_election *el = &c->elections[r->e];
    prep_err err = PREP_OK;
    for (int i = 0; i < AR_COUNT; i++) r->role_field[i] = -1;
    r->vote_field = malloc((el->n_cols ? el->n_cols : 1) * sizeof *r->vote_field);
    r->tmp = malloc((el->n_cols ? el->n_cols : 1) * sizeof *r->tmp);
    if (!r->vote_field || !r->tmp) return PREP_ERR_NOMEM;
    for (uint32_t j = 0; j < el->n_cols; j++) r->vote_field[j] = PREP_CAT_NONE;
    /* a published file's column that no field names outside its vote columns (an
     * institute's own addition: ID_CIRCUNSCRIPCION, CABECERA_DISTRITAL) is left out, said */
    int *foreign = c->rules.published ? actas_foreign_columns(&r->lay) : NULL;
    for (size_t i = 0; i < r->lay.ncols; i++) {
        const char *nm = r->lay.cols[i];
        actas_role role = actas_role_of(nm);
        if (role == AR_IGNORE) continue;
        if (foreign && foreign[i]) {
            prep_diags_add(r->d, r->name, r->lay.header_line, (long)i + 1, "ignored-column",
                           "column %zu '%s' is neither an acta field nor a vote column (it stands outside them "
                           "and is not named like one): left out of this published file's reading",
                           i + 1, nm);
            continue;
        }
        if (role != AR_UNKNOWN) {
            if (r->role_field[role] >= 0) {
                prep_diags_add(r->d, r->name, r->lay.header_line, (long)i + 1, "duplicate-column",
                               "column %s appears twice (fields %d and %zu)", nm, r->role_field[role] + 1, i + 1);
                err = PREP_ERR_INVALID;
            } else {
                r->role_field[role] = (int)i;
            }
            continue;
        }
        uint32_t j = actas_resolve_vote_col(c, r->e, nm);
        if (j == PREP_CAT_NONE) {
            prep_diags_add(r->d, r->name, r->lay.header_line, (long)i + 1, "unknown-column",
                           "column %s is neither an acta field nor a vote column of election %s", nm, el->id);
            err = PREP_ERR_INVALID;
        } else if (r->vote_field[j] != PREP_CAT_NONE) {
            prep_diags_add(r->d, r->name, r->lay.header_line, (long)i + 1, "duplicate-column",
                           "column %s is vote column %s again (field %u)", nm, el->cols[j].name, r->vote_field[j] + 1);
            err = PREP_ERR_INVALID;
        } else {
            r->vote_field[j] = (uint32_t)i;
        }
    }
    for (uint32_t j = 0; j < el->n_cols; j++)
        if (r->vote_field[j] == PREP_CAT_NONE) {
            prep_diags_add(r->d, r->name, r->lay.header_line, 0, "missing-column",
                           "vote column %s of election %s is not in the file", el->cols[j].name, el->id);
            err = PREP_ERR_INVALID;
        }
    if (r->role_field[AR_CLAVE_CASILLA] < 0 &&
        (r->role_field[AR_SECCION] < 0 || r->role_field[AR_TIPO_CASILLA] < 0)) {
        prep_diags_add(r->d, r->name, r->lay.header_line, 0, "missing-column",
                       "no CLAVE_CASILLA column (nor SECCION and TIPO_CASILLA to build it)");
        err = PREP_ERR_INVALID;
    }
    free(foreign);
    return err;
}

/* A published file lists each acta once, so a special casilla of an election whose RP
 * actas are marked by letters (rp_acta_mark) has two rows: the one marked RP is the RP
 * acta when the other is not; when both or neither are (Sonora 2021 writes 3 on 12 of its
 * 50 special-casilla rows, 3EMR on both of 260295S0100's, 3erp and 3ERP on 261234S0100's,
 * and lists every RP acta after every MR acta), the later row is. */
static void pair_rp_actas(const prep_catalog *c, uint32_t e, prep_actas *s)
{
    if (!c->rules.published || !c->elections[e].rp_acta_mark[0] || !s->n) return;
    uint32_t *first = prep_xcalloc(c->n_casillas, sizeof *first); /* its first row + 1 */
    for (size_t i = 0; i < s->n; i++) {
        prep_acta *a = &s->v[i];
        if (a->casilla == PREP_CAT_NONE || c->casillas[a->casilla].type != 'S') continue;
        if (!first[a->casilla]) {
            first[a->casilla] = (uint32_t)i + 1;
            continue;
        }
        prep_acta *b = &s->v[first[a->casilla] - 1];
        int one = (a->tipo_marked == 2) != (b->tipo_marked == 2);
        b->rp = (uint8_t)(one && b->tipo_marked == 2);
        a->rp = (uint8_t)!b->rp;
    }
    free(first);
}

/* prep_actas_parse; own: data is the caller's malloc'd buffer (a NUL at data[len]), taken
 * (freed, or kept as the text) whatever the outcome. */
static prep_err parse(const char *name, const char *data, size_t len, int own, const prep_catalog *c, uint32_t e,
                      prep_actas **out, prep_diags *diags)
{
    *out = NULL;
    if (!c || e >= c->n_elections) {
        if (own) free((char *)data);
        return PREP_ERR_USAGE;
    }
    if (!name) name = "-";
    reader r;
    memset(&r, 0, sizeof r);
    r.name = name;
    r.c = c;
    r.e = e;
    r.d = diags;
    char *text = NULL;
    int latin1 = 0;
    actas_lines it;
    prep_err err = own ? actas_begin_take(name, (char *)data, len, c->timezone, &text, &it, &r.lay, &latin1, diags)
                       : actas_begin(name, data, len, c->timezone, &text, &it, &r.lay, &latin1, diags);
    if (err) return err;
    prep_actas *s = NULL;
    char **f = NULL;
    err = map_columns(&r);
    if (err) goto fail;
    s = prep_actas_new(c, e);
    f = malloc(PREP_ACTAS_MAX_FIELDS * sizeof *f);
    if (!s || !f) {
        err = PREP_ERR_NOMEM;
        goto fail;
    }
    /* room for a row every 256 bytes of the file at once (a national file's rows are ~310):
     * grown by doubling from 256, a 170,000-row set was copied ~10 times into fresh memory,
     * on every reading of a live night's files */
    size_t guess = len / 256 < ((size_t)1 << 20) ? len / 256 : (size_t)1 << 20; /* a file of more grows */
    uint32_t nc = c->elections[e].n_cols;
    if (guess > 256 && (s->v = malloc(guess * sizeof *s->v))) s->cap = guess;
    if (guess > 256 && nc && (s->votes = malloc(guess * nc * sizeof *s->votes))) s->votes_cap = guess * nc;
    s->sep = r.lay.sep;
    s->latin1 = latin1;
    s->hdr = r.lay.hdr;
    memset(&r.lay.hdr, 0, sizeof r.lay.hdr);
    r.f = f;
    char *line;
    size_t llen;
    long no;
    while (actas_next_line(&it, &line, &llen, &no)) {
        r.line = no;
        if (llen > PREP_ACTAS_MAX_LINE) {
            s->rows_read++;
            s->rows_bad++;
            prep_diags_add(diags, name, no, 0, "line-too-long", "line of %zu bytes (limit %d)", llen,
                           PREP_ACTAS_MAX_LINE);
            continue;
        }
        size_t n = prep_split(line, r.lay.sep, 1, f, NULL, PREP_ACTAS_MAX_FIELDS);
        size_t kept = n < PREP_ACTAS_MAX_FIELDS ? n : PREP_ACTAS_MAX_FIELDS;
        int blank = 1;
        for (size_t i = 0; i < kept; i++) {
            actas_unquote(f[i]);
            if (f[i][0]) blank = 0;
        }
        if (blank && n <= r.lay.ncols + 1) continue; /* empty line, or only separators */
        if (it.open) s->open_line = no;
        const char *aside = c->rules.published ? actas_aside_line(f, n, r.lay.ncols) : NULL;
        if (aside) {
            prep_diags_add(diags, name, no, 1, "aside-line", "%s, not an acta: left out of this published file's reading",
                           aside);
            continue;
        }
        s->rows_read++;
        if (s->rows_read > PREP_ACTAS_MAX_ROWS) {
            prep_diags_add(diags, name, no, 0, "too-many-rows", "more than %d rows", PREP_ACTAS_MAX_ROWS);
            err = PREP_ERR_LIMIT;
            goto fail;
        }
        if (n == r.lay.ncols + 1 && n <= PREP_ACTAS_MAX_FIELDS && !f[n - 1][0]) n--; /* a trailing separator */
        if (n != r.lay.ncols) {
            s->rows_bad++;
            prep_diags_add(diags, name, no, (long)(n < r.lay.ncols ? n + 1 : r.lay.ncols + 1), "field-count",
                           "%zu fields, the column header has %zu", n, r.lay.ncols);
            continue;
        }
        if (row_pending(&r)) {
            s->rows_pending++; /* an acta not arrived yet: an early cut lists every expected one */
            continue;
        }
        prep_acta a;
        if (read_row(&r, &a) != 0) {
            s->rows_bad++;
            continue;
        }
        err = prep_actas_append(s, &a, r.tmp);
        if (err) goto fail;
    }
    pair_rp_actas(c, e, s);
    free(f);
    free(text);
    free(r.vote_field);
    free(r.tmp);
    actas_layout_free(&r.lay);
    *out = s;
    return PREP_OK;
fail:
    free(f);
    free(text);
    free(r.vote_field);
    free(r.tmp);
    actas_layout_free(&r.lay);
    prep_actas_free(s);
    return err;
}

prep_err prep_actas_load(const char *path, const prep_catalog *c, uint32_t e, prep_actas **out, prep_diags *diags)
{
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    prep_err err = prep_read_file(path, PREP_ACTAS_MAX_FILE, &data, &len);
    if (err) {
        prep_diags_add(diags, path, 0, 0, err == PREP_ERR_LIMIT ? "file-too-large" : "io",
                       "cannot read the file: %s", prep_err_text(err));
        return err;
    }
    return parse(path, data, len, 1, c, e, out, diags); /* data is the text unless it must be decoded */
}

prep_err prep_actas_parse(const char *name, const char *data, size_t len, const prep_catalog *c, uint32_t e,
                          prep_actas **out, prep_diags *diags)
{
    return parse(name, data, len, 0, c, e, out, diags);
}

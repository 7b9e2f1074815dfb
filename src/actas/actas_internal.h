/* prep actas: private declarations shared by the files of src/actas/ only. */
#ifndef PREP_ACTAS_INTERNAL_H
#define PREP_ACTAS_INTERNAL_H

#include "prep/actas.h"

/* ---------------------------------------------------------------- text and lines */

/* The input as UTF-8: a UTF-8 BOM is skipped, a UTF-16 one (either byte order: a
 * spreadsheet's "Unicode text" export) converts the text from UTF-16 (PREP_ERR_PARSE when
 * it is not: odd length, a lone surrogate, a NUL), and a text that is not valid UTF-8 is
 * taken as Latin-1 and converted. *out is owned (free()), NUL-terminated. */
#define ACTAS_BAD_UTF16                                                                                     \
    "the file begins with a UTF-16 byte-order mark but is no UTF-16 text (an odd length, a lone surrogate " \
    "or a NUL)"
prep_err actas_decode(const char *data, size_t len, char **out, size_t *out_len, int *latin1);

/* Iterates over the lines of a decoded, writable text. Each line is NUL-terminated in
 * place (LF, CRLF and a lone CR all end a line; the terminator is dropped). */
typedef struct actas_lines {
    char *p, *end;
    long no;  /* 1-based number of the line last returned */
    int open; /* that line had no end of line (the text's last, cut short or still being written) */
} actas_lines;
void actas_lines_init(actas_lines *it, char *text, size_t len);
/* 1 and the next line, or 0 at the end. */
int actas_next_line(actas_lines *it, char **line, size_t *len, long *no);

/* Trims a field and removes a spreadsheet guard ="..." or plain "..." quotes. In place. */
char *actas_unquote(char *f);
/* A key field (CLAVE_CASILLA, CLAVE_ACTA) without the spreadsheet text guard of an
 * apostrophe ('210001B0100, '280749B0100'). In place; returns f. */
char *actas_unguard_key(char *f);

/* Normalised form of a label or column name: ASCII upper case, Spanish accents folded
 * (Á -> A, Ñ -> N), runs of blanks (space, tab, NBSP) -> one space, trimmed. */
void actas_norm(const char *in, char *out, size_t outsz);
/* Whether an election's name, actas_norm'ed (a file's election line, or its file name),
 * says INE's federal election: a senaduría, a diputación federal, the presidencia de la
 * República, or INE's own file and line names ("PRESIDENCIA", presidencia.csv,
 * ine2018_presidencia.csv: actas_name_is). Never a local one: "PRESIDENCIAS MUNICIPALES", "PRESIDENCIA
 * MUNICIPAL", "PRESIDENCIAS DE COMUNIDAD", a title naming the old "DISTRITO FEDERAL".
 * The derived reading and --check decide by it (and by an ID_DISTRITO_FEDERAL column). */
int actas_federal_name(const char *en);
/* Whether word is the last run of letters of en (actas_norm'ed) before its extension:
 * "PRESIDENCIA", "PRESIDENCIA.CSV", "INE2018_PRESIDENCIA.CSV", "PRESIDENCIA_2018.CSV";
 * not "PRESIDENCIA_MUNICIPAL.CSV" or "PRESIDENCIAS". */
int actas_name_is(const char *en, const char *word);
/* A column or summary name as matched: actas_norm, then blanks to '_' ("Tipo casilla",
 * "ACTAS ESPERADAS" are TIPO_CASILLA, ACTAS_ESPERADAS). */
void actas_name_norm(const char *in, char *out, size_t outsz);
/* Whether a data line of a published file is no acta but something beside the table: "a
 * note" (fewer fields than half the header's, the first a label: it holds ':', or starts
 * with '*', FUENTE or NOTA: "Fuente: ..."; a place name holds no ':') or "a totals row"
 * (a full row whose first non-empty field, among the first two, is TOTAL... or SUMA...
 * with no digit). f: the n fields, the first two unquoted (only they are
 * read); ncols: the header's. NULL for an acta's line (a line cut short, "260001B0100",
 * is one: still field-count). */
const char *actas_aside_line(char *const *f, size_t n, size_t ncols);

/* What an OBSERVACIONES value (actas_norm'ed) states of its acta, by the keywords of the
 * real files (FUERA DE CATALOGO, SIN ACTA / NO INSTALADA / NO ENTREGADO, EXCEDE, TODO(S)
 * ... ILEGIBLE / SIN DATO / VACIO, and those words alone for some field). */
enum { RS_NONE, RS_SOME, RS_ALL, RS_EXCEEDS, RS_NOACTA, RS_OUT, RS_OTHER };
int actas_obs_reason(const char *obs_norm);

/* 1 when column j is a party's and acta a may be a published file's representación
 * proporcional acta (rules.published, a special casilla of an election with RP actas):
 * such an acta has every party's votes, also of one that runs only in a candidatura
 * común or coalition on the mayoría relativa ballot (Sonora 2021: PAN in Hermosillo 11). */
int actas_rp_party_col(const prep_catalog *c, uint32_t e, const prep_acta *a, uint32_t j);

/* 1 if s (trimmed) is empty or a placeholder for "nothing": "", "-", "N/A". */
int actas_is_blank(const char *s);

/* The decimals a header figure is written with: the digits after its point ("84.4183%"
 * has 4), or -1 without a point. */
int actas_decimals_written(const char *s);

/* ---------------------------------------------------------------- columns */

typedef enum actas_role {
    AR_UNKNOWN = -1,
    AR_IGNORE = 0, /* known, not used (CODIGOS_*) */
    AR_CLAVE_CASILLA,
    AR_CLAVE_ACTA,
    AR_ID_ENTIDAD,
    AR_ENTIDAD,
    AR_ID_DISTRITO,
    AR_DISTRITO,
    AR_ID_MUNICIPIO,
    AR_MUNICIPIO,
    AR_SECCION,
    AR_ID_CASILLA,
    AR_TIPO_CASILLA,
    AR_EXT_CONTIGUA,
    AR_UBICACION,
    AR_TIPO_ACTA,
    AR_BOLETAS_SOBRANTES,
    AR_PERSONAS_VOTARON,
    AR_REP_VOTARON,
    AR_VOTOS_SACADOS,
    AR_TOTAL_ASENTADO,
    AR_TOTAL_CALCULADO,
    AR_LISTA_NOMINAL,
    AR_REPRESENTANTES,
    AR_OBSERVACIONES,
    AR_CONTABILIZADA,
    AR_MECANISMO,
    AR_SHA,
    AR_ACOPIO,
    AR_CAPTURA,
    AR_VERIFICACION,
    AR_ORIGEN,
    AR_DIGITALIZACION,
    AR_TIPO_DOCUMENTO,
    AR_COTEJADA,
    AR_COUNT
} actas_role;

/* Role of a non-vote column by its (normalised) name, AR_UNKNOWN for any other name. */
actas_role actas_role_of(const char *name);
/* Canonical name of a role (the name we write). Static. */
const char *actas_role_name(actas_role r);

/* "CAND_IND_07" -> 7, "CAND_IND_1" -> 1; 0 when name is not an independent column. */
uint32_t actas_indep_no(const char *name);
/* 1 for the NO_REGISTRADOS / NULOS name variants (kind set to PREP_CAT_COL_NOREG / NULOS). */
int actas_special_col(const char *name, prep_cat_col_kind *kind);

/* ---------------------------------------------------------------- layout */

/* What precedes the rows: optional "sep=X" line, optional header block, column header. */
typedef struct actas_layout {
    char sep;              /* '|' or ',' */
    int sep_line;          /* the file had a "sep=X" line */
    prep_actas_header hdr; /* owned strings */
    long header_line;      /* line of the column header */
    size_t ncols;
    char **cols;           /* owned; column names, unquoted and normalised */
} actas_layout;

/* Reads lines from `it` up to and including the column header. tz parses the cut
 * line (NULL: UTC; the real files carry an explicit offset). Header-block problems are
 * diags that do not stop reading; a missing or unusable column header returns an
 * error (kind "no-header", "line-too-long", "too-many-fields"). */
prep_err actas_layout_read(const char *name, actas_lines *it, const char *tz, actas_layout *lay,
                           prep_diags *d);
void actas_layout_free(actas_layout *lay);
/* The opening every reader shares: decodes data (actas_decode), then reads its layout up
 * to the column header (actas_layout_read). On success *text is the decoded text (owned,
 * free()) and it is positioned at the first row; on error nothing is left to free. */
prep_err actas_begin(const char *name, const char *data, size_t len, const char *tz, char **text, actas_lines *it,
                     actas_layout *lay, int *latin1, prep_diags *d);
/* actas_begin of a malloc'd buffer with a NUL at data[len], taken whatever the outcome:
 * UTF-8 with no byte-order mark (what the capture systems write) becomes *text itself, no
 * copy (a national night's three files, 160 MB, were copied on every reading); other
 * encodings are decoded and data freed. */
prep_err actas_begin_take(const char *name, char *data, size_t len, const char *tz, char **text, actas_lines *it,
                          actas_layout *lay, int *latin1, prep_diags *d);
void actas_header_free(prep_actas_header *h);

/* Vote column of election e for a file column name, accepting the variants of real
 * files (CAND_IND_01, C_ prefix or none, '-' or '_' between party ids, NO_REGISTRADAS,
 * VOTOS_NULOS). PREP_CAT_NONE when none. */
uint32_t actas_resolve_vote_col(const prep_catalog *c, uint32_t e, const char *name);
/* The vote columns of a layout: the longest contiguous run of vote-shaped names (parties,
 * combinations, CAND_IND_*, NO_REGISTRADOS, NULOS) among the columns not known[] as acta
 * fields. Its length, its first column in *start. */
size_t actas_vote_run(const actas_layout *lay, const int *known, size_t *start);
/* The columns of a layout that are an institute's own addition: neither an acta field
 * (actas_role_of) nor named like a vote column, and not between the first and the last
 * vote-shaped column (ID_CIRCUNSCRIPCION or CABECERA_DISTRITAL among the identity
 * columns, VOTOS_VALIDOS after NULOS, a date after TIPO_DOCUMENTO). An array of ncols
 * flags (owned: free()). `prep tally --check` refuses such a column (unknown-column,
 * unless mapped); a published file's reader and the derived catalogue leave it out,
 * saying so. Any column among the vote columns, or named like one, is still read as
 * votes or refused: it could be votes. */
int *actas_foreign_columns(const actas_layout *lay);

/* Reason for "sin acta" in an OBSERVACIONES value (catalogue labels, then the common
 * variants); PREP_ACTA_HAS_ACTA when the text is not a "sin acta" one. */
prep_acta_no_acta actas_no_acta_from_obs(const prep_catalog *c, const char *obs);

/* The length of number text s (n bytes) without trailing blanks and a trailing ".0": a
 * column a data tool turned into floats writes 554.0, or 7.00 (a spreadsheet's two
 * decimals). Zeros after a digit and a point, but never exactly three: a thousands point
 * always has three digits, so 1.000 is never taken for 1. */
size_t actas_int_len(const char *s, size_t n);
/* An unsigned number field: prep_parse_u32 of the first actas_int_len bytes. 0, or -1. */
int actas_parse_u32(const char *s, uint32_t *out);
/* CONTABILIZADA: 0, 1 or 2 (also 1.0, a float column's); -1 when absent or blank ('-',
 * empty); -2 when it is no flag. */
int actas_parse_flag(const char *s);
/* Parses one vote-like value: digits (< 10^9), ILEGIBLE, SIN DATO, empty or "null", "-",
 * SIN ACTA (-> PREP_ACTA_V_NONE). 0 on success, -1 otherwise. Case-insensitive. */
int actas_parse_vote(const char *s, int32_t *out);

/* Short copy of a value for a diag message (at most 60 bytes, no control chars). */
const char *actas_clip(const char *s, char buf[64]);

#endif

/* prep actas: reading and validating acta records in the official PREP database layout
 * (INE Reglamento de Elecciones, Anexo 18.5), writing them back, and the Anexo 13
 * counting rules: is an acta counted (contabilizada), and if not, why.
 * Knows nothing of rendering or the network. Layout: docs/formats/actas.md. */
#ifndef PREP_ACTAS_H
#define PREP_ACTAS_H

#include "prep/catalog.h"

/* A vote field holds a number >= 0 or one of these (the raw text is kept for
 * publication, the numeric value for sums is 0). */
#define PREP_ACTA_V_ILEGIBLE (-1) /* "ILEGIBLE": written but unreadable in letters and number */
#define PREP_ACTA_V_SIN_DATO (-2) /* "SIN DATO": nothing written */
#define PREP_ACTA_V_NA (-3)       /* "-": the column does not apply in this unit */
#define PREP_ACTA_V_NONE (-4)     /* not captured at all (no acta) */

/* Why there is no acta (a capture-side fact, carried in OBSERVACIONES). */
typedef enum prep_acta_no_acta {
    PREP_ACTA_HAS_ACTA = 0,
    PREP_ACTA_NO_ACTA_NOT_DELIVERED = 1, /* paquete no entregado */
    PREP_ACTA_NO_ACTA_NOT_INSTALLED = 2, /* casilla no instalada */
    PREP_ACTA_NO_ACTA_NO_ENVELOPE = 3,   /* paquete entregado sin sobre */
    PREP_ACTA_NO_ACTA_OTHER = 4,         /* any other "sin acta" reason (INE 2021: "Sin AR por
                                     * contingencia en UR"); OBSERVACIONES "SIN ACTA" */
} prep_acta_no_acta;

/* The outcome of the Anexo 13 rules for one acta. */
typedef enum prep_acta_status {
    PREP_ACTA_COUNTED = 0,              /* contabilizada, every field legible */
    PREP_ACTA_COUNTED_SOME_ILLEGIBLE,   /* contabilizada; some field ILEGIBLE/SIN DATO counts 0 */
    PREP_ACTA_NC_EXCEEDS_LN,            /* total calculated > lista nominal + representatives (specials: ballots + reps) */
    PREP_ACTA_NC_ALL_ILLEGIBLE,         /* no legible vote field at all */
    PREP_ACTA_NC_NO_ACTA,               /* sin acta (reason in prep_acta_no_acta) */
    PREP_ACTA_NC_OUT_OF_CATALOG,        /* identification does not match an expected acta */
} prep_acta_status;

static inline int prep_acta_status_counted(prep_acta_status s)
{
    return s == PREP_ACTA_COUNTED || s == PREP_ACTA_COUNTED_SOME_ILLEGIBLE;
}
/* Counted in PORCENTAJE_ACTAS_INCONSISTENCIAS under the rule profile r (the "ine"
 * profile: counted with some illegible field, all illegible, exceeding the cap;
 * docs/formats/actas.md "Rule profiles"). */
int prep_actas_status_inconsistent(const prep_rules *r, prep_acta_status s);
/* Counted in ACTAS_NO_CONTABILIZADAS under r (sin acta and fuera de catálogo per the
 * profile; every other not-counted status always). */
int prep_actas_status_no_counted(const prep_rules *r, prep_acta_status s);
/* Stable English tag, e.g. "counted", "exceeds-lista-nominal" (JSON, logs, tests). */
const char *prep_actas_status_tag(prep_acta_status s);

/* One captured acta of one election. */
typedef struct prep_acta {
    uint32_t casilla;           /* catalogue index; PREP_CAT_NONE when out of catalogue */
    uint32_t line;              /* source line, for traceability and errors */
    char clave_casilla[24];
    char clave_acta[28];
    uint32_t section_id;        /* as read (kept for out-of-catalogue rows) */
    uint32_t district_id;
    uint32_t municipality_id;
    char tipo_casilla;          /* as read */
    uint16_t id_casilla, ext_contigua;
    uint8_t urban;
    /* ballot accounting fields (numbers or PREP_ACTA_V_* sentinels) */
    int32_t boletas_sobrantes, personas_votaron, rep_votaron, votos_sacados;
    int32_t total_asentado;     /* TOTAL_VOTOS_ASENTADO as written on the acta, or a sentinel */
    int64_t total_calculado;    /* sum of legible vote fields (computed, never read) */
    uint32_t lista_nominal;     /* of the casilla (catalogue wins when bound) */
    uint32_t representatives;
    uint8_t rp;                 /* 1: the representación proporcional acta of a special casilla
                                 * (TIPO_ACTA = the election's rp_acta_type), a second expected
                                 * acta of the same casilla (catalog.h prep_catalog_n_actas) */
    uint8_t no_acta;            /* prep_acta_no_acta */
    uint8_t status;             /* prep_acta_status, set by prep_actas_classify */
    /* what the row states of itself, read for a published file's values (rules.published):
     * CONTABILIZADA (-1 absent or blank, else 0, 1, 2) and what OBSERVACIONES says (0
     * nothing, 1 some field illegible or blank, 2 all, 3 exceeds the cap, 4 sin acta, 5 fuera
     * de catalogo, 6 another text) */
    int8_t contabilizada;
    uint8_t obs_stated;
    uint8_t tipo_marked;        /* where the election's RP acta is marked by letters
                                 * (rp_acta_mark): 2 its TIPO_ACTA carries the mark, 1 other
                                 * letters (3EMR), 0 none or not given */
    char mecanismo[12];         /* MECANISMOS_TRASLADO: "", "D", "F", "I", or several: "F-I-D" */
    char sha[65];               /* SHA-256 of the acta image, hex, or "" */
    prep_time acopio, captura, verificacion; /* PREP_TIME_NONE when absent */
    char origen[12];            /* "CASILLA", "CATD", "CCV" */
    char digitalizacion[12];    /* "ESCANER", "MOVIL" */
    char tipo_documento[32];    /* "ACTA PREP", "RPP", "CC", "PPC"; INE 2021 "Representación de Acta" */
    int8_t cotejada;            /* 0..3 as written (INE LEEME: 1 accepted, 2 after a change,
                                 * 3 not accepted yet), -1 when absent or empty */
    uint32_t votes_off;         /* offset of this acta's n_cols vote values in the set's pool */
} prep_acta;

/* Whether acta a (classified: a->status) is in ACTAS_NO_CONTABILIZADAS under r:
 * prep_actas_status_no_counted, except that a published file's sin acta row says it by its
 * CONTABILIZADA when it has one (rules.published; Queretaro 2018 flags one of its 173 sin
 * acta rows 0 and counts it, the others carry no flag). */
int prep_actas_no_counted(const prep_rules *r, const prep_acta *a);

/* The 13 summary figures of a cut's header block. Percentages are derived when
 * formatting (truncated, catalogue decimals). */
typedef struct prep_summary {
    int64_t esperadas, registradas, fuera_catalogo, capturadas, contabilizadas,
        no_contabilizadas, inconsistentes, lista_nominal, votos_c_cs, votos_s_cs;
    int final_cut;              /* participation counts specials in the final cut (mode FINAL_ONLY) */
} prep_summary;

/* The header block of a database file, as read. */
typedef struct prep_actas_header {
    int present;                /* 0 when the file starts at the column header line */
    char *election_name;        /* owned */
    char *cut_text;             /* owned, as written: "2019/06/03 05:47 (UTC-5)" */
    prep_time cut;              /* parsed, or PREP_TIME_NONE */
    size_t n_summary;
    char *summary_names[16];    /* owned, as written */
    char *summary_values[16];   /* owned, as written */
    uint32_t summary_line;      /* line of the values, for errors */
} prep_actas_header;

/* All captures of one election read from one file, in file order (a later capture of
 * the same acta is a correction: the tally keeps the latest). */
typedef struct prep_actas {
    const prep_catalog *cat;    /* borrowed; must outlive the set */
    uint32_t election;
    size_t n, cap;
    prep_acta *v;               /* owned */
    int32_t *votes;             /* owned pool: v[i].votes_off + j for column j */
    size_t votes_len, votes_cap;
    prep_actas_header hdr;
    char sep;                   /* separator detected: '|' or ',' */
    int latin1;                 /* the file was Latin-1 and was converted */
    size_t rows_read, rows_bad; /* bad rows are reported in diags and skipped */
    size_t rows_pending;        /* rows of actas not arrived yet (no flag, votes or times): skipped */
    long open_line;             /* a last row with no end of line: its line (read as any other), or 0.
                                 * A published file may end so; captures being written do, for a
                                 * moment, with a row cut short (the cutter refuses to cut then) */
} prep_actas;

static inline const int32_t *prep_acta_votes(const prep_actas *s, const prep_acta *a)
{
    return s->votes + a->votes_off;
}

/* Reads a database/capture file of election e of catalogue c. Accepts every variant
 * found in real files: optional "sep=X" line, '|' or ',', Latin-1 or UTF-8 (BOM ok),
 * CRLF, with or without the header block, header-name variants (ACTAS_FUERA_CATALOGO /
 * ACTAS_FUERA_DE_CATALOGO, ID_ESTADO / ID_ENTIDAD, ID_DISTRITO / ID_DISTRITO_LOCAL...),
 * CLAVE_CASILLA as ="..." (spreadsheet guard). A bad row gets a diag with line and
 * column and is skipped; good rows are kept. Fails only when the file cannot be read
 * or its column header is unusable. *out is owned (prep_actas_free). */
PREP_NODISCARD prep_err prep_actas_load(const char *path, const prep_catalog *c, uint32_t e,
                         prep_actas **out, prep_diags *diags);
PREP_NODISCARD prep_err prep_actas_parse(const char *name, const char *data, size_t len,
                          const prep_catalog *c, uint32_t e, prep_actas **out, prep_diags *diags);
void prep_actas_free(prep_actas *s);

/* Appends one acta (copying votes, n_cols values) to a set: used by the simulator. */
PREP_NODISCARD prep_err prep_actas_append(prep_actas *s, const prep_acta *a, const int32_t *votes);
/* An empty set for election e (for building one in memory). Owned. */
prep_actas *prep_actas_new(const prep_catalog *c, uint32_t e);

/* Applies the Anexo 13 rules to one acta (votes: n_cols values of election e) against
 * the catalogue (lista nominal, representatives, special casillas' ballots, which
 * columns apply in the unit). Sets a->total_calculado and returns the status
 * (also stored in a->status). */
prep_acta_status prep_actas_classify(const prep_catalog *c, uint32_t e, prep_acta *a, const int32_t *votes);

/* Instant at which a capture enters a cut: verificación, else captura, else acopio. */
prep_time prep_actas_instant(const prep_acta *a);

/* OBSERVACIONES text for an acta (catalogue labels). Borrowed. */
const char *prep_actas_observaciones(const prep_catalog *c, const prep_acta *a);

/* Writing, in the one documented variant (docs/formats/actas.md): catalogue separator,
 * UTF-8, LF, "sep=X" first line, header block, blank line, column header, rows. */
PREP_NODISCARD prep_err prep_actas_write_header_block(const prep_catalog *c, uint32_t e, prep_time cut,
                                       const prep_summary *s, prep_buf *out);
PREP_NODISCARD prep_err prep_actas_write_columns(const prep_catalog *c, uint32_t e, prep_buf *out);
PREP_NODISCARD prep_err prep_actas_write_row(const prep_catalog *c, uint32_t e, const prep_acta *a,
                              const int32_t *votes, prep_buf *out);
/* The row of an expected acta that has not arrived yet: its identification and
 * LISTA_NOMINAL, every other field empty (as the institutes' files list every expected
 * acta, Campeche 2021), so anyone can recount ACTAS_ESPERADAS from the rows. */
PREP_NODISCARD prep_err prep_actas_write_pending_row(const prep_catalog *c, uint32_t e, uint32_t casilla, prep_buf *out);
/* The same for one of the casilla's expected actas: rp = 1 is the representación
 * proporcional acta of a special casilla (its TIPO_ACTA the election's rp_acta_type;
 * PREP_ERR_USAGE when the casilla has none), rp = 0 its one acta. */
PREP_NODISCARD prep_err prep_actas_write_pending_acta(const prep_catalog *c, uint32_t e, uint32_t casilla, int rp,
                                                      prep_buf *out);
/* The 13 summary values as written (percentages truncated), into out[13] strings of 32. */
void prep_actas_summary_values(const prep_catalog *c, const prep_summary *s, char out[13][32]);
extern const char *const prep_actas_summary_names[13];

/* ---- additions (actas part) ---- */

/* Limits of the reader (docs/formats/actas.md, "Limits"). */
#define PREP_ACTAS_MAX_FILE ((size_t)1 << 30)  /* bytes read by prep_actas_load */
#define PREP_ACTAS_MAX_LINE 65536              /* bytes in one line */
#define PREP_ACTAS_MAX_FIELDS 512              /* fields in one line */
#define PREP_ACTAS_MAX_ROWS 5000000            /* data rows in one file */
#define PREP_ACTAS_MAX_PREAMBLE 16             /* non-blank lines before the column header */

/* The value of canonical summary figure i (0..12, prep_actas_summary_names order) in a header
 * block as read, matching the name variants of real files (ACTAS_FUERA_DE_CATALOGO,
 * PORCENTAJE_ACTAS_CON_INCONSISTENCIAS...). Borrowed; NULL when the block lacks it. */
const char *prep_actas_header_value(const prep_actas_header *h, int i);
/* The canonical index (0..12) of a summary figure's name as a file writes it (any case,
 * accents, blanks for '_', the variants above), or -1 for a name that is no figure. */
int prep_actas_summary_index(const char *name);
/* Summary figure i (0..12) as written, as a number (x 10^4 for a percentage): apostrophes,
 * quotes, '=', '%', blanks and thousands separators ("7,671") are dropped; "2.214" is
 * 2.2140, "0" is 0.0000. -1 when it is not a number (or has more than 4 decimals that are
 * not 0). What `prep tally --check` and the catalogue-less tally compare. */
int prep_actas_figure_parse(const char *text, int i, int64_t *out);

/* Whether capture `newer` replaces capture `older` of the same acta: the later instant
 * (prep_actas_instant) wins; on equal instants the later source line wins. */
int prep_actas_supersedes(const prep_acta *newer, const prep_acta *older);

/* Text of one vote value as written in the database: the number, "ILEGIBLE",
 * "SIN DATO", "-" (not applicable) or, for an acta without acta (PREP_ACTA_V_NONE), "0" as
 * in Quintana Roo 2019. out >= 16 bytes. */
void prep_actas_vote_text(int32_t v, char out[16]);

/* A catalogue derived from a real results file (docs/formats/actas.md, "Derived
 * catalogue"): parties from the party columns, coalitions from the combination columns,
 * districts / sections / casillas / lista nominal from the rows, candidacies from the
 * candidaturas CSV when given (else from which columns hold "-" in each unit), labels
 * from the OBSERVACIONES values seen. Builds the catalogue text in the documented format
 * and parses it with prep_catalog_parse. *out is owned (prep_catalog_free). */
PREP_NODISCARD prep_err prep_actas_derive_catalog(const char *actas_path, const char *candidaturas_csv_or_NULL,
                                   prep_catalog **out, prep_diags *diags);
/* Same, returning the catalogue text (owned, free()) instead of parsing it. */
PREP_NODISCARD prep_err prep_actas_derive_catalog_text(const char *actas_path, const char *candidaturas_csv_or_NULL,
                                        char **text, prep_diags *diags);

/* ---- input integrity at the institute (issue 13; docs/formats/actas.md, "Integrity") */

/* Captures of one acta that conflict: the same acta (catalogue casilla, or CLAVE_ACTA out
 * of catalogue) captured twice at the same instant (prep_actas_instant) with different
 * content, so which one counts would be decided by file order alone. A later capture is a
 * correction and is no conflict. Each conflict is a diag "conflicting-duplicate" naming
 * the file (name), both lines and the first field that differs. Returns the count. */
size_t prep_actas_conflicts(const prep_actas *s, const char *name, prep_diags *d);
/* 1 when capture a of set sa and capture b of set sb (one election of one catalogue) say
 * the same: every field read from the row and the votes; where each was read (line, its
 * place in the pool) aside. A cutter re-reading files that grew keeps its tally only when
 * every capture it applied is still there, the same (docs/institute.md, "Captures that
 * change"). */
int prep_actas_capture_same(const prep_actas *sa, const prep_acta *a, const prep_actas *sb, const prep_acta *b);

/* Reads only the header block of a database file (the lines before the column header):
 * the election's name, the cut line and the summary figures. *out owned
 * (prep_actas_header_free). Errors as prep_actas_parse's for the layout. */
PREP_NODISCARD prep_err prep_actas_read_header(const char *name, const char *data, size_t len, prep_actas_header *out,
                                prep_diags *d);
void prep_actas_header_free(prep_actas_header *h);

/* ---- checking a published results file (docs/formats/actas.md, "Checking a published
 * file"). No catalogue: the file's own CONTABILIZADA and OBSERVACIONES are the
 * institute's decision for each row; every figure of its header block is recomputed
 * from the rows under a rule profile and compared numerically with what it states. */

#define PREP_FILECHECK_MAX_LINES 20 /* rows named behind one figure's note */

typedef struct prep_filecheck_figure {
    const char *name;           /* canonical (prep_actas_summary_names) */
    char stated[48];            /* as written; "" when the block lacks it */
    int has_stated;
    char computed[32];          /* as prep writes it (percentages: 4 decimals, truncated) */
    int equal;                  /* numerically equal (0 when not stated) */
    char note[320];             /* why they differ, when the rows tell: "" otherwise */
    uint32_t lines[PREP_FILECHECK_MAX_LINES]; /* rows behind the note */
    size_t n_lines;
} prep_filecheck_figure;

/* A row where the file contradicts itself, or (audit) where its flag and the rule
 * disagree. */
typedef struct prep_filecheck_row {
    uint32_t line;
    char clave_acta[32];
    char kind[32];              /* stable tag: "calculated-total", "counted-over-cap"... */
    char flag[8];               /* CONTABILIZADA as written */
    char observaciones[64];     /* as written, clipped */
    char rule[32];              /* audit: the status the profile gives (prep_actas_status_tag) */
    char text[200];             /* English, for the table */
} prep_filecheck_row;

typedef struct prep_filecheck_opts {
    const prep_rules *rules;    /* NULL: the preset of the file's institute and year, else
                                 * "ine"; a rule the file's figures show otherwise is then
                                 * taken from them and reported (rules_inferred) */
    int audit;                  /* also recompute each row's status from its votes */
    int final_cut;              /* 1: the file is the final cut (participation rule final-only);
                                 * 0: decide from the rows (every expected acta captured) */
    size_t n_map;               /* explicit mappings for columns the reader does not know */
    const char *const *map_name;  /* column names (as in the file) */
    const int *map_vote;        /* 1: a vote column; 0: ignore it */
} prep_filecheck_opts;

typedef struct prep_filecheck_report {
    char election[128], cut_text[64];
    char layout[512];           /* the variants found, e.g. "separator ','; UTF-8 with BOM; CRLF" */
    prep_rules rules;           /* as applied */
    char rules_source[160];     /* "preset ieec-2021 (entity 4, 2021)", "given", "default ine" */
    char rules_inferred[256];   /* rules taken from the file's own figures, "" when none */
    size_t rows, rows_bad, rows_arrived, n_vote_cols;
    int final_cut;              /* every expected acta captured */
    prep_filecheck_figure fig[13];
    size_t n_stated, n_equal;
    prep_filecheck_row *findings;   /* owned: the file contradicts itself */
    size_t n_findings;
    prep_filecheck_row *audit;      /* owned: flag and rule disagree (opts.audit) */
    size_t n_audit;
    size_t audit_not_recomputable; /* not counted, every vote field written 0 */
} prep_filecheck_report;

/* Reads and checks one published file. PREP_OK when it could be read (the verdict is in
 * the report: every stated figure equal, no unreadable row); an error, with diags naming
 * file, line and column, when its layout is not understood (no column header, a column
 * that is neither a known field nor a vote column, a duplicate vote column). Rows that
 * cannot be read are diags and rows_bad. */
PREP_NODISCARD prep_err prep_actas_check(const char *name, const char *data, size_t len, const prep_filecheck_opts *o,
                          prep_filecheck_report *out, prep_diags *d);
PREP_NODISCARD prep_err prep_actas_check_file(const char *path, const prep_filecheck_opts *o, prep_filecheck_report *out,
                               prep_diags *d);
void prep_actas_filecheck_report_free(prep_filecheck_report *r);
/* 1 when the report is a pass: the block states at least one figure, every stated figure
 * is equal, and no row was unreadable. */
int prep_actas_filecheck_report_ok(const prep_filecheck_report *r);

#endif

/* prep registry: the institute's registry of broadcasters ("difusores oficiales").
 *
 * One SQLite database (WAL, STRICT tables, foreign keys, busy_timeout, schema version in
 * PRAGMA user_version; prepared statements only) holds every Anexo 1 field of the call,
 * the broadcaster's logo (blob + SHA-256), its status, the SHA-256 of its pull token, an
 * append-only audit log (triggers refuse UPDATE and DELETE), the process settings (the
 * call's dates) and the delivery records. Passwords never enter the database: they live
 * in a secrets file of mode 0600 beside it (DB.secrets), which is refused when group or
 * others may read it. Format and rules: docs/registry.md.
 *
 * Several processes may hold the same database: every change is one transaction, and a
 * block is seen by every other connection from the moment prep_registry_block returns
 * (its commit).
 *
 * Ownership at each declaration: borrowed (not kept past the call), owned (caller frees
 * with the named function), static (lives for the program). */
#ifndef PREP_REGISTRY_H
#define PREP_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "prep/core.h"
#include "prep/deliver.h"

/* ---------------------------------------------------------------- limits */
#define PREP_REGISTRY_ID_MAX 63              /* bytes of an id: [a-z0-9-], first not '-' */
#define PREP_REGISTRY_LOGO_MAX (512u * 1024) /* bytes of a logo file (PNG or SVG) */
#define PREP_REGISTRY_INPUT_MAX (64u * 1024) /* bytes of an --from input file */
#define PREP_REGISTRY_LINE_MAX 4096          /* bytes of one input line */
#define PREP_REGISTRY_SECRET_MAX 255         /* bytes of a password */
#define PREP_REGISTRY_WHO_MAX 200            /* bytes of --by */
#define PREP_REGISTRY_WHY_MAX 2000           /* bytes of --why */
#define PREP_REGISTRY_TOKEN_HEX 64           /* a pull token: 256 random bits as lower-case hex */

/* ---------------------------------------------------------------- field kinds */
typedef enum prep_registry_kind {
    PREP_REGISTRY_K_LINE,     /* one line of text: valid UTF-8, no control character */
    PREP_REGISTRY_K_TEXT,     /* free text: valid UTF-8, no control character but \n */
    PREP_REGISTRY_K_KIND,     /* universidad | medio | otro */
    PREP_REGISTRY_K_URL,      /* http:// or https:// URL (the broadcaster's own site) */
    PREP_REGISTRY_K_HTTPS,    /* https:// URL only (the publication URL) */
    PREP_REGISTRY_K_ORIGINS,  /* https origins (scheme://host[:port], no path), separated by spaces */
    PREP_REGISTRY_K_PHONE,    /* a telephone number, see prep_registry_check_phone */
    PREP_REGISTRY_K_EMAIL,    /* an e-mail address (addr-spec, no comments, no quoted local part) */
    PREP_REGISTRY_K_HOST,     /* IPv4, IPv6 or DNS name */
    PREP_REGISTRY_K_USER,     /* a login name: [A-Za-z0-9._-]{1,64} */
    PREP_REGISTRY_K_IPS,      /* IPv4/IPv6 addresses separated by spaces */
    PREP_REGISTRY_K_METHOD,   /* sftp | ftps | pull */
    PREP_REGISTRY_K_SFTP_URL, /* sftp://user@host[:port]/absolute/path/ (ends in '/') */
    PREP_REGISTRY_K_FTP_URL,  /* ftp://host[:port]/path/ (ends in '/'; explicit TLS is forced) */
    PREP_REGISTRY_K_HOSTKEY,  /* SSH host key SHA-256: 43 base64 chars, optional "SHA256:" prefix */
    PREP_REGISTRY_K_PATH,     /* a local file path: absolute, no control character */
} prep_registry_kind;

/* The Anexo 1 fields kept as database columns, in form order:
 * X(column, option, Spanish label, kind, max bytes, required). The option is the
 * command-line name (--option) and the --from file key. Method-specific requirements
 * (sftp: sftp-url, ssh-host-key, ssh-key; ftps: ftps-url) are checked by
 * prep_registry_input_validate. */
#define PREP_REGISTRY_FIELDS(X)                                                                                          \
    X(name, "name", "Nombre de la institución académica o medio de comunicación", PREP_REGISTRY_K_LINE, 200, 1)         \
    X(kind, "kind", "Tipo", PREP_REGISTRY_K_KIND, 16, 1)                                                                 \
    X(website, "website", "URL del sitio de internet", PREP_REGISTRY_K_URL, 2048, 1)                                     \
    X(publication_url, "publication-url",                                                                          \
      "Propuesta de URL para difusión de Resultados Electorales Preliminares", PREP_REGISTRY_K_HTTPS, 2048, 1)          \
    X(portal_origins, "portal-origins", "Portal que muestra las páginas embebidas (orígenes)", PREP_REGISTRY_K_ORIGINS,  \
      2048, 0)                                                                                                      \
    X(address, "address", "Domicilio", PREP_REGISTRY_K_LINE, 300, 0)                                                     \
    X(legal_name, "legal-name", "Nombre de representante legal", PREP_REGISTRY_K_LINE, 200, 1)                          \
    X(legal_phone, "legal-phone", "Teléfono fijo (representante legal)", PREP_REGISTRY_K_PHONE, 40, 1)                  \
    X(legal_mobile, "legal-mobile", "Teléfono móvil (representante legal)", PREP_REGISTRY_K_PHONE, 40, 1)               \
    X(legal_email, "legal-email", "Correo electrónico (representante legal)", PREP_REGISTRY_K_EMAIL, 254, 1)            \
    X(tech_name, "tech-name", "Nombre de representante técnico", PREP_REGISTRY_K_LINE, 200, 1)                          \
    X(tech_phone, "tech-phone", "Teléfono fijo (representante técnico)", PREP_REGISTRY_K_PHONE, 40, 1)                  \
    X(tech_mobile, "tech-mobile", "Teléfono móvil (representante técnico)", PREP_REGISTRY_K_PHONE, 40, 1)               \
    X(tech_email, "tech-email", "Correo electrónico (representante técnico)", PREP_REGISTRY_K_EMAIL, 254, 1)            \
    X(ftp_host, "ftp-host", "Dirección IP o nombre DNS para servicio FTP", PREP_REGISTRY_K_HOST, 253, 0)                \
    X(ftp_user, "ftp-user", "Usuario FTP", PREP_REGISTRY_K_USER, 64, 0)                                                  \
    X(ssh_host, "ssh-host", "Dirección IP o nombre DNS para servicio SSH", PREP_REGISTRY_K_HOST, 253, 0)                \
    X(ssh_user, "ssh-user", "Usuario SSH", PREP_REGISTRY_K_USER, 64, 0)                                                  \
    X(software, "software", "Software", PREP_REGISTRY_K_TEXT, 2000, 0)                                                   \
    X(hardware, "hardware", "Hardware", PREP_REGISTRY_K_TEXT, 2000, 0)                                                   \
    X(network, "network", "Red y seguridad de acceso", PREP_REGISTRY_K_TEXT, 2000, 0)                                    \
    X(power, "power", "Infraestructura eléctrica", PREP_REGISTRY_K_TEXT, 2000, 0)                                        \
    X(server_ips, "server-ips", "Direcciones IP fijas del servidor de publicación", PREP_REGISTRY_K_IPS, 400, 0)        \
    X(method, "method", "Método de entrega", PREP_REGISTRY_K_METHOD, 8, 1)                                               \
    X(sftp_url, "sftp-url", "Directorio de entrega SFTP", PREP_REGISTRY_K_SFTP_URL, 511, 0)                             \
    X(ssh_host_key, "ssh-host-key", "Huella SHA-256 de la llave del servidor SSH", PREP_REGISTRY_K_HOSTKEY, 127, 0)      \
    X(ssh_key, "ssh-key", "Llave privada del Instituto para SFTP", PREP_REGISTRY_K_PATH, 511, 0)                         \
    X(ftps_url, "ftps-url", "Directorio de entrega FTPS", PREP_REGISTRY_K_FTP_URL, 511, 0)                              \
    X(ca_file, "ca-file", "Certificado para verificar el servidor FTPS", PREP_REGISTRY_K_PATH, 511, 0)

typedef enum prep_registry_field {
#define PREP_REGISTRY_ENUM_(col, opt, label, kind, max, req) PREP_REGISTRY_F_##col,
    PREP_REGISTRY_FIELDS(PREP_REGISTRY_ENUM_)
#undef PREP_REGISTRY_ENUM_
        PREP_REGISTRY_NFIELDS
} prep_registry_field;

typedef struct prep_registry_field_info {
    const char *column; /* static */
    const char *option; /* static */
    const char *label;  /* static, Spanish (letter, show) */
    prep_registry_kind kind;
    size_t max;
    int required;
} prep_registry_field_info;

/* The table above as data (static, PREP_REGISTRY_NFIELDS entries). */
extern const prep_registry_field_info prep_registry_fields[PREP_REGISTRY_NFIELDS];
/* The field whose option is `option`, or -1. */
int prep_registry_field_by_option(const char *option);

/* ---------------------------------------------------------------- validators */
/* Each returns 0 when s is valid, else -1 and *why (static English text) says what rule
 * s breaks. s is borrowed, NUL-terminated. */
int prep_registry_check_url(const char *s, int https_only, const char **why);
int prep_registry_check_origin(const char *s, const char **why);
/* E-mail: local@domain; local part 1..64 bytes of atext and single dots (not first, not
 * last); domain a DNS name with at least two labels; 254 bytes at most. */
int prep_registry_check_email(const char *s, const char **why);
/* Telephone: digits with optional separators (space . - and one pair of parentheses
 * around the area code); either exactly 10 digits (Mexican national number), or '+',
 * a country code and 8..15 digits in all (+52 needs exactly 10 after it); an optional
 * extension "ext. N", "ext N" or "x N" with 1..6 digits. */
int prep_registry_check_phone(const char *s, const char **why);
/* Host: a dotted-quad IPv4 (no leading zeros), an IPv6 address, or a DNS name (labels of
 * 1..63 [A-Za-z0-9-] not starting or ending with '-', 253 bytes at most, at least two
 * labels or "localhost"). */
int prep_registry_check_host(const char *s, const char **why);
int prep_registry_check_ip(const char *s, const char **why);
int prep_registry_check_id(const char *s, const char **why);
/* A logo's bytes (borrowed): a PNG (signature and IHDR) or an SVG (UTF-8 with an <svg>
 * element, no script, event handler, foreignObject, entity or external reference), at
 * most PREP_REGISTRY_LOGO_MAX bytes. 0 and *type ("image/png", "image/svg+xml", static). */
int prep_registry_check_logo(const unsigned char *p, size_t n, const char **type, const char **why);
/* The check for any field kind, max bytes included. */
int prep_registry_check_kind(prep_registry_kind k, size_t max, const char *s, const char **why);

/* ---------------------------------------------------------------- registration input */
typedef struct prep_registry_input {
    char *v[PREP_REGISTRY_NFIELDS]; /* owned; NULL = not given */
    char *id;                  /* owned; NULL = slug of the name */
    char *logo;                /* owned; path of the logo file (PNG or SVG) */
    char *ftp_password;        /* owned; secret: goes to the secrets file only */
    char *ssh_password;        /* owned; secret (SSH keys are preferred) */
} prep_registry_input;

void prep_registry_input_init(prep_registry_input *in);
void prep_registry_input_free(prep_registry_input *in); /* wipes the passwords */
/* Sets the value of option (a field option, "id", "logo", "ftp-password" or
 * "ssh-password"); value borrowed (copied). An option given twice: PREP_ERR_INVALID,
 * diag "duplicate-key"; an unknown one: "unknown-key". file/line locate the diag. */
PREP_NODISCARD prep_err prep_registry_input_set(prep_registry_input *in, const char *option, const char *value, const char *file, long line,
                            prep_diags *d);
/* Parses a "key = value" text (docs/registry.md): UTF-8, '#' comment lines, blank lines,
 * keys as the options, values trimmed, at most PREP_REGISTRY_LINE_MAX bytes a line and
 * PREP_REGISTRY_INPUT_MAX in all. data borrowed. Keeps every good line; one diag per bad
 * line ("syntax", "unknown-key", "duplicate-key", "limit", "not-utf8"). */
PREP_NODISCARD prep_err prep_registry_input_parse(const void *data, size_t len, const char *name, prep_registry_input *in, prep_diags *d);
/* Checks every given value with its kind, the required ones, and the method's own
 * requirements. One diag per problem, kind "invalid-field" or "missing-field", naming
 * the field and the value (passwords are never echoed). */
PREP_NODISCARD prep_err prep_registry_input_validate(const prep_registry_input *in, prep_diags *d);

/* ---------------------------------------------------------------- statuses */
typedef enum prep_registry_status {
    PREP_REGISTRY_REGISTERED = 0, /* "registered" */
    PREP_REGISTRY_INFRA_VERIFIED, /* "infrastructure-verified" */
    PREP_REGISTRY_APPROVED,       /* "approved" */
    PREP_REGISTRY_ACTIVE,         /* "active": receives cuts */
    PREP_REGISTRY_BLOCKED,        /* "blocked": link answers 403, pushes stop */
} prep_registry_status;

const char *prep_registry_status_name(prep_registry_status s); /* static */
int prep_registry_status_parse(const char *s, prep_registry_status *out);

/* ---------------------------------------------------------------- the registry */
/* Opaque; one connection. Use a handle from one thread at a time, except
 * prep_registry_is_blocked, prep_registry_pull_lookup and prep_registry_pull_authorize,
 * which any number of threads may call at once (each sees the last committed state). */
typedef struct prep_registry prep_registry;

/* Opens (creating or migrating) the database at db (borrowed). secrets NULL = DB.secrets.
 * *out owned: prep_registry_close. Diag kinds: "db", "schema-version". */
PREP_NODISCARD prep_err prep_registry_open(const char *db, const char *secrets, prep_registry **out, prep_diags *d);
void prep_registry_close(prep_registry *r); /* NULL ok */

/* Process settings: the call's dates. PREP_TIME_NONE = not set (no deadline). */
typedef struct prep_registry_settings {
    prep_time registration_deadline;   /* after it, add is refused (I.e: 19 April 2021) */
    prep_time infrastructure_deadline; /* after it, verify-infra is refused (I.f: 30 April 2021) */
    prep_time roster_date;             /* after it, approve is refused (I.h: 28 May 2021) */
    char zone[64];                     /* tz name; default America/Mexico_City */
    char process[65];                  /* process id; roster cuts are "<process>-difusores"; default "prep" */
} prep_registry_settings;

PREP_NODISCARD prep_err prep_registry_settings_get(prep_registry *r, prep_registry_settings *s, prep_diags *d);
/* Stores s (every member) and audits the change (who, why borrowed). */
PREP_NODISCARD prep_err prep_registry_settings_set(prep_registry *r, const prep_registry_settings *s, const char *who, const char *why,
                                    prep_diags *d);

/* Registers in (validated here too) with status registered, at instant now (deadline
 * checks; the audit row gets the wall clock). Refused after the registration deadline
 * (diag "deadline": "registration closed on 2021-04-19 23:59 (America/Mexico_City)"),
 * for an id already used ("duplicate-id"). Writes the passwords to the secrets file,
 * makes the pull token: token_out gets it (65 bytes, shown once; the db keeps its
 * SHA-256). id_out (64 bytes, may be NULL) gets the id. */
PREP_NODISCARD prep_err prep_registry_add(prep_registry *r, const prep_registry_input *in, const char *who, prep_time now,
                           char token_out[PREP_REGISTRY_TOKEN_HEX + 1], char id_out[64], prep_diags *d);

/* Changes the fields given in changes (borrowed; only its non-NULL members: fields, logo,
 * passwords; changes->id is ignored) of broadcaster id, any status. The result is
 * validated as for add (an empty value clears an optional field). Passwords replace
 * their secrets-file lines, a logo the stored one. Audited (action "edit") with who, why
 * and the names of the changed fields, never their values. */
PREP_NODISCARD prep_err prep_registry_edit(prep_registry *r, const char *id, const prep_registry_input *changes, const char *who,
                            const char *why, prep_diags *d);

/* Changes the status of id to `to`, audited with who and why (both required). Allowed:
 * registered -> infrastructure-verified (refused after the infrastructure deadline),
 * infrastructure-verified -> approved (refused after the roster date), approved ->
 * active, any but blocked -> blocked, blocked -> the status it had (unblock). Invalid
 * transitions: diag "transition" naming the allowed ones. */
PREP_NODISCARD prep_err prep_registry_transition(prep_registry *r, const char *id, prep_registry_status to, const char *who,
                                  const char *why, prep_time now, prep_diags *d);
/* Shorthands: committed (seen by every connection) when they return PREP_OK. */
PREP_NODISCARD prep_err prep_registry_block(prep_registry *r, const char *id, const char *who, const char *why, prep_diags *d);
PREP_NODISCARD prep_err prep_registry_unblock(prep_registry *r, const char *id, const char *who, const char *why, prep_diags *d);

/* New pull token for id (audited); token_out as for add. */
PREP_NODISCARD prep_err prep_registry_token_rotate(prep_registry *r, const char *id, const char *who, const char *why,
                                    char token_out[PREP_REGISTRY_TOKEN_HEX + 1], prep_diags *d);

/* One broadcaster as stored. */
typedef struct prep_registry_difusor {
    char id[64];
    char *v[PREP_REGISTRY_NFIELDS]; /* owned; "" when not given */
    prep_registry_status status;
    prep_registry_status before_block; /* the status unblock restores */
    prep_time created;
    prep_time changed;            /* last status change */
    unsigned char *logo;          /* owned; NULL when none (or not loaded) */
    size_t logo_len;
    char logo_type[32];           /* "image/png" / "image/svg+xml" / "" */
    char logo_sha256[65];
    int has_ftp_password;         /* presence only: secrets are never returned here */
    int has_ssh_password;
} prep_registry_difusor;

void prep_registry_difusor_free(prep_registry_difusor *df);
/* Loads id into *df (owned: prep_registry_difusor_free). PREP_ERR_NOTFOUND, diag "unknown-id". */
PREP_NODISCARD prep_err prep_registry_get(prep_registry *r, const char *id, prep_registry_difusor *df, prep_diags *d);
/* Every broadcaster by id, logos not loaded. *v owned: prep_registry_difusor_list_free. */
PREP_NODISCARD prep_err prep_registry_list(prep_registry *r, prep_registry_difusor **v, size_t *n, prep_diags *d);
void prep_registry_difusor_list_free(prep_registry_difusor *v, size_t n);

typedef struct prep_registry_audit_entry {
    int64_t seq;
    char difusor[64];      /* "" for settings changes */
    prep_time at;          /* wall clock of the change */
    char who[PREP_REGISTRY_WHO_MAX + 1];
    char action[32];       /* "add", "edit", "status", "block", "unblock", "token", "settings" */
    char from[32], to[32]; /* statuses ("" when not a status change) */
    char why[PREP_REGISTRY_WHY_MAX + 1];
} prep_registry_audit_entry;

/* Audit rows of id (NULL = all), oldest first. *v owned: free(). */
PREP_NODISCARD prep_err prep_registry_audit(prep_registry *r, const char *id, prep_registry_audit_entry **v, size_t *n, prep_diags *d);

/* ---------------------------------------------------------------- the pusher and the pull server */
/* Every active broadcaster's target (status active; blocked ones never), secrets filled
 * from the secrets file. *targets owned: free() after wiping (they hold passwords). */
PREP_NODISCARD prep_err prep_registry_targets(prep_registry *r, prep_deliver_target **targets, size_t *n, prep_diags *d);
/* 1 blocked, 0 not blocked, -1 unknown id or database error. Reads the committed state. */
int prep_registry_is_blocked(prep_registry *r, const char *id);

typedef enum prep_registry_pull {
    PREP_REGISTRY_PULL_UNKNOWN = 0, /* no broadcaster has this token */
    PREP_REGISTRY_PULL_ALLOWED,     /* active */
    PREP_REGISTRY_PULL_BLOCKED,     /* blocked */
    PREP_REGISTRY_PULL_INACTIVE,    /* registered but not active yet */
} prep_registry_pull;

/* Looks a token (borrowed) up by its SHA-256; id_out (64 bytes) gets the id when known. */
prep_registry_pull prep_registry_pull_lookup(prep_registry *r, const char *token, char id_out[64]);
/* prep_pull_authorize_fn for prep_pull_server_opts (ctx = the prep_registry *): 1
 * allowed, 0 unknown, -1 blocked or not active. Thread-safe (serialized connection). */
int prep_registry_pull_authorize(void *ctx, const char *token, char id_out[64]);

/* ---------------------------------------------------------------- delivery records */
typedef struct prep_registry_delivery {
    char difusor[64];
    uint64_t seq;                 /* the cut delivered */
    prep_deliver_method method;
    prep_time started, finished;
    char status[16];              /* "ok", "failed", "refused", ... ([a-z-]) */
    uint64_t bytes, objects;
    char error[512];              /* "" when none; must not hold secrets */
} prep_registry_delivery;

/* Appends one record (rec borrowed). Unknown difusor: PREP_ERR_NOTFOUND. */
PREP_NODISCARD prep_err prep_registry_delivery_record(prep_registry *r, const prep_registry_delivery *rec, prep_diags *d);
/* The last max records of id, newest first. *v owned: free(). */
PREP_NODISCARD prep_err prep_registry_deliveries(prep_registry *r, const char *id, size_t max, prep_registry_delivery **v, size_t *n,
                                  prep_diags *d);

/* ---------------------------------------------------------------- letter and roster */
/* The Anexo 2 commitment letter of id, filled in, as a printable HTML page (print CSS,
 * letter paper), appended to out. date: the letter's date (its day in the settings'
 * zone). Every field is HTML-escaped. */
PREP_NODISCARD prep_err prep_registry_letter(prep_registry *r, const char *id, prep_time date, prep_buf *out, prep_diags *d);

/* The public roster page (Spanish) appended to out: every approved or active
 * broadcaster's logo (inline data: URI) linking to its publication URL, blocked ones
 * shown as "Bloqueado" without a link. now is the page's stamp. */
PREP_NODISCARD prep_err prep_registry_roster_html(prep_registry *r, prep_time now, prep_buf *out, prep_diags *d);

/* Makes the roster a signed cut: prep_cut_make into OUT.store (process
 * "<process>-difusores", instant now) and prep_cut_export into out, so OUT/SHA256SUMS and
 * OUT/SHA256SUMS.sig verify with signify and sha256sum -c. drill: a drill-mode cut.
 * *seq (may be NULL) gets the roster's sequence. */
PREP_NODISCARD prep_err prep_registry_roster(prep_registry *r, const char *out, const prep_cut_seckey *key, int drill, prep_time now,
                              uint64_t *seq, prep_diags *d);

#endif

/* prep monitor: the institute's compliance board (DESIGN.md "monitor").
 *
 * Probes each broadcaster's public site over HTTPS (libcurl multi, bounded parallelism):
 * is it serving the latest signed cut (SHA-256 of its SHA256SUMS against the store's
 * manifests), are sampled pages byte-identical to the cut (identity and br/gzip), how
 * late did it pick the cut up, is its certificate valid and far from expiry, is it up.
 * Writes the board (OUT/index.html, OUT/board.json, OUT/metrics.prom), an append-only
 * evidence log per broadcaster (OUT/evidence/<id>.jsonl) and its own state
 * (OUT/state.json: sample cursors, when each cut was first seen, history).
 * Format and rules: docs/monitor.md.
 *
 * Ownership at each declaration: borrowed (not kept past the call), owned (caller frees
 * with the named function), static (lives for the program). */
#ifndef PREP_MONITOR_H
#define PREP_MONITOR_H

#include <stdint.h>

#include "prep/core.h"

/* ---------------------------------------------------------------- limits */
#define PREP_MONITOR_CONFIG_MAX (1u << 20)  /* bytes in a config file */
#define PREP_MONITOR_TARGETS_MAX 10000      /* broadcasters in one config */
#define PREP_MONITOR_ID_MAX 63              /* bytes in a broadcaster id, [a-z0-9-] */
#define PREP_MONITOR_URL_MAX 511            /* bytes in a site URL */
#define PREP_MONITOR_FILE_MAX 1023          /* bytes in a path from the config (resolved) */
#define PREP_MONITOR_SAMPLE_MAX 10000       /* pages fetched per broadcaster per round */
#define PREP_MONITOR_HISTORY_MAX 1000       /* rounds kept per broadcaster */
#define PREP_MONITOR_REASON_MAX 511         /* bytes in a row's reason */
#define PREP_MONITOR_RCPT_MAX 32            /* alert mail recipients */
#define PREP_MONITOR_ADDR_MAX 254           /* bytes in a mail address (RFC 5321 path) */

/* One broadcaster to probe. Plain value type. */
typedef struct prep_monitor_target {
    char id[PREP_MONITOR_ID_MAX + 1];
    char url[PREP_MONITOR_URL_MAX + 1];        /* https://host[:port]/[path/], ends in '/' */
    char ca_file[PREP_MONITOR_FILE_MAX + 1];   /* CA or self-signed cert; "" = system CAs */
} prep_monitor_target;

/* The "alerts" section (docs/monitor.md "Alerts"). Plain value type; every path resolved.
 * No secret is held here: the SMTP password stays in its file, read at each send. */
typedef struct prep_monitor_alerts {
    int enabled;                                        /* the section was given */
    char smtp_url[PREP_MONITOR_URL_MAX + 1];            /* "" = no mail; smtp:// (STARTTLS required) or smtps:// */
    char smtp_from[PREP_MONITOR_ADDR_MAX + 1];
    char smtp_to[PREP_MONITOR_RCPT_MAX][PREP_MONITOR_ADDR_MAX + 1];
    size_t n_to;                                        /* 1..PREP_MONITOR_RCPT_MAX with smtp_url */
    char smtp_user[PREP_MONITOR_ADDR_MAX + 1];          /* "" = no login (default: from, with a password) */
    char smtp_password_file[PREP_MONITOR_FILE_MAX + 1]; /* "" = no login; owner-only file */
    char smtp_ca_file[PREP_MONITOR_FILE_MAX + 1];       /* "" = system CAs */
    char webhook_url[PREP_MONITOR_URL_MAX + 1];         /* "" = no webhook; http:// or https:// */
    char webhook_ca_file[PREP_MONITOR_FILE_MAX + 1];    /* "" = system CAs */
    int64_t reminder_seconds;                           /* still red / still late; 60..604800, default 1800 */
    int64_t cut_late_seconds;                           /* active cut older than this is late; 0 = off; default 600 */
    int64_t max_messages_per_round;                     /* more events than this: one digest; 1..1000, default 5 */
} prep_monitor_alerts;

typedef struct prep_monitor_config {
    char store[PREP_MONITOR_FILE_MAX + 1];    /* the institute's store (read only) */
    char out[PREP_MONITOR_FILE_MAX + 1];      /* the board directory */
    char registry[PREP_MONITOR_FILE_MAX + 1]; /* "" = none (see docs/monitor.md) */
    int64_t interval_seconds;                 /* 5..86400, default 30 */
    int64_t sample;                           /* 2..PREP_MONITOR_SAMPLE_MAX, default 20 */
    int64_t amber_lag_seconds;                /* default 120 */
    int64_t red_lag_seconds;                  /* >= amber, default 600 */
    int64_t cert_warn_days;                   /* 0..3650, default 14 */
    int64_t timeout_seconds;                  /* one transfer, 1..300, default 20 */
    int64_t parallel;                         /* transfers at once, 1..64, default 8 */
    int64_t history;                          /* rounds kept per broadcaster, default 48 */
    prep_monitor_target *targets;             /* owned; n of them, ids unique */
    size_t n;
    prep_monitor_alerts alerts;               /* .enabled = 0 when no "alerts" section */
} prep_monitor_config;

/* Strict parse of a JSON config (data borrowed; name labels diags; relative paths are
 * resolved against base_dir, borrowed, may be NULL = as written). Unknown keys, wrong
 * types, out-of-range values, bad ids/URLs, duplicate ids are refused, each diag with
 * line:column of the offending value. Diag kinds: "config-syntax", "config-field",
 * "config-range", "config-missing", "config-duplicate", "limit". The alerts section's
 * password file is not opened here (prep_monitor_config_load checks it). On error *c is left
 * empty (freeable). */
PREP_NODISCARD prep_err prep_monitor_config_parse(const void *data, size_t len, const char *name, const char *base_dir,
                                   prep_monitor_config *c, prep_diags *d);
/* Same, from a file (at most PREP_MONITOR_CONFIG_MAX bytes); paths relative to its directory.
 * Also checks the alerts' SMTP password file: a regular file, not a symlink, that group and
 * others cannot access ("config-secret", at the value's line:column). */
PREP_NODISCARD prep_err prep_monitor_config_load(const char *path, prep_monitor_config *c, prep_diags *d);
void prep_monitor_config_free(prep_monitor_config *c);

/* ---------------------------------------------------------------- a round */
typedef enum prep_monitor_state {
    PREP_MONITOR_GREEN = 0,
    PREP_MONITOR_AMBER = 1,
    PREP_MONITOR_RED = 2,
} prep_monitor_state;

/* "green" / "amber" / "red" (static). */
const char *prep_monitor_state_name(prep_monitor_state s);

/* One broadcaster's verdict for one round. Plain value type. */
typedef struct prep_monitor_row {
    char id[PREP_MONITOR_ID_MAX + 1];
    char url[PREP_MONITOR_URL_MAX + 1];
    prep_monitor_state state;
    char reason[PREP_MONITOR_REASON_MAX + 1]; /* the worst finding, English */
    uint64_t serving_seq;   /* the cut it serves; 0 = unknown */
    int64_t cuts_behind;    /* -1 = unknown */
    int64_t lag_seconds;    /* current: pick-up lag of the cut; stale: time behind; -1 = unknown */
    int64_t cert_days_left; /* INT64_MIN = unknown */
    prep_time cert_expires; /* PREP_TIME_NONE = unknown */
    int64_t x_prep_corte;   /* header on SHA256SUMS; -1 = absent */
    size_t pages_checked;   /* sampled pages fetched and compared (identity + encoded) */
    size_t pages_bad;       /* of them, modified or missing */
} prep_monitor_row;

typedef struct prep_monitor_result {
    prep_time at;             /* when the round started */
    uint64_t active_seq;      /* the store's active cut */
    prep_monitor_row *rows;   /* owned; one per target, in config order */
    size_t n;
    size_t green, amber, red;
    /* alerts (docs/monitor.md "Alerts"): one line per message sent or failed, English, no
     * secret ("alert: mail red uaq cut 3: sent to smtp://mail.example:587"); owned */
    char **alert_log;
    size_t n_alert_log;
    size_t alerts_sent, alerts_failed;
} prep_monitor_result;

/* One round: reads the store's cuts, probes every target, updates OUT/state.json, appends
 * to OUT/evidence/<id>.jsonl and rewrites OUT/index.html, OUT/board.json, OUT/metrics.prom
 * (each atomically). now = PREP_TIME_NONE takes the wall clock. *r is initialised here
 * (prep_monitor_result_free). Returns PREP_OK when the board was written, whatever the
 * verdicts; an error when the store has no active cut or the board cannot be written. */
PREP_NODISCARD prep_err prep_monitor_round(const prep_monitor_config *c, prep_time now, prep_monitor_result *r, prep_diags *d);
void prep_monitor_result_free(prep_monitor_result *r);

#endif

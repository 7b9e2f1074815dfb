/* prep monitor: pieces shared by the part's files and its unit tests (not public). */
#ifndef PREP_MONITOR_INTERNAL_H
#define PREP_MONITOR_INTERNAL_H

#include <stdint.h>

#include "prep/cut.h"
#include "prep/monitor.h"

/* ---------------------------------------------------------------- config (monitor_config.c) */
/* One step of a JSON path: a member name (key != NULL) or an array index. */
typedef struct mon_jstep {
    const char *key;
    size_t index;
} mon_jstep;

/* Line and column (1-based, column in bytes) of the value at path (n steps) in JSON text
 * already accepted by jansson; 0/0 when not found. */
void mon_json_locate(const char *text, size_t len, const mon_jstep *path, size_t n, long *line, long *col);

/* NULL when s is a site URL the monitor accepts (https://host[:port]/[path/], printable
 * ASCII, ends in '/'), else why not (static). */
const char *mon_url_problem(const char *s);
/* Adds to *t (n entries, owned, realloc'd) every active broadcaster of the registry db
 * (borrowed) whose id is not there yet, with its publication URL ('/' appended when
 * missing) and the system's CAs. A broadcaster whose URL the monitor cannot use is
 * reported ("registry-url") and skipped. */
prep_err mon_registry_targets(const char *db, prep_monitor_target **t, size_t *n, prep_diags *d);

/* NULL when s is a mail address the alerts accept (local@domain, printable ASCII without
 * space, quotes, brackets, commas), else why not (static). */
const char *mon_addr_problem(const char *s);
/* NULL when s is an alert channel URL the monitor accepts: smtp://host[:port] (STARTTLS
 * required) or smtps://host[:port] when !webhook; http(s)://host[:port][/path] when webhook;
 * never user information. Else why not (static). */
const char *mon_alert_url_problem(const char *s, int webhook);

/* ---------------------------------------------------------------- probing (monitor_probe.c) */
/* Parses a certificate date as libcurl's CERTINFO prints it with OpenSSL ("Mar  8
 * 12:00:00 2026 GMT") or as "YYYY-MM-DD HH:MM:SS GMT". 0 on success. */
int mon_parse_cert_date(const char *s, prep_time *out);
/* base URL (ends in '/') + public path, every byte outside [A-Za-z0-9._~/-] percent-encoded.
 * 0 on success, -1 if it does not fit. */
int mon_url_join(const char *base, const char *path, char *out, size_t outsz);

/* The cut a body names, read while it streams (never held): the first `data-corte="N"` (the
 * stamp of every HTML page, docs/formats/site.md) or `"corte":N` (corte.json). */
typedef struct mon_stamp {
    int64_t corte;   /* the cut named; -1 none (yet) */
    unsigned pos[2]; /* bytes of each pattern matched so far */
    int in_num;      /* pattern matched + 1 while its digits are read; 0 otherwise */
    int ndig;
    int64_t num;
} mon_stamp;
void mon_stamp_init(mon_stamp *s);
void mon_stamp_feed(mon_stamp *s, const void *p, size_t n);
/* The body ended: digits still open are closed (corte.json ending right after its number). */
void mon_stamp_end(mon_stamp *s);

/* What one fetch found. */
typedef struct mon_fetch {
    int kind;                /* MON_SUMS, MON_PAGE, MON_ENC */
    size_t target;           /* index in the config */
    const char *path;        /* borrowed from a manifest ("SHA256SUMS" for MON_SUMS) */
    char url[PREP_MONITOR_URL_MAX + PREP_CUT_PATH_MAX * 3 + 1];
    char expected[65];       /* "" for MON_SUMS */
    uint64_t expected_size;
    uint64_t max_bytes;
    /* results */
    int curl_code;           /* CURLcode */
    char curl_error[256];
    long http_code;
    uint64_t bytes;
    int oversize;
    char found[65];
    int64_t x_prep_corte;    /* -1 absent */
    mon_stamp stamp;         /* the cut the body names (pages only) */
    uint64_t judged_seq;     /* the cut whose manifest `expected` comes from (set by the round) */
    char content_encoding[32];
    prep_time cert_expires;  /* PREP_TIME_NONE unknown */
    prep_time at;
    void *_ctx;              /* EVP_MD_CTX while running */
} mon_fetch;

enum { MON_SUMS = 0, MON_PAGE = 1, MON_ENC = 2 };

/* Runs the fetches (array of n, borrowed, results written in place) with at most parallel
 * transfers at once and timeout seconds each; ca_files[target] (borrowed) is the CA file
 * of each target ("" = system). On return every fetch has its results. */
prep_err mon_fetch_all(mon_fetch *f, size_t n, const prep_monitor_config *c);

/* ---------------------------------------------------------------- judging (monitor_judge.c) */
/* The cuts the store holds: seq, manifest SHA-256, instant, and when the monitor first
 * saw each one active (store_seen). */
typedef struct mon_cut {
    uint64_t seq;
    char sha256[65];
    prep_time instant;
    prep_time store_seen; /* PREP_TIME_NONE unknown */
} mon_cut;

/* The cut's signature as served beside SHA256SUMS; fetched every round with the sample. */
#define MON_SIG_PATH "SHA256SUMS.sig"

/* Per-broadcaster memory kept in OUT/state.json. */
#define MON_SEEN_MAX 64
typedef struct mon_hist {
    prep_time at;
    prep_monitor_state state;
    uint64_t seq;
} mon_hist;

typedef struct mon_bstate {
    char id[PREP_MONITOR_ID_MAX + 1];
    char cursor[PREP_CUT_PATH_MAX + 1];  /* last path sampled ("" = start) */
    uint64_t seen_seq[MON_SEEN_MAX];     /* cuts it was first seen serving, and when */
    prep_time seen_at[MON_SEEN_MAX];
    size_t n_seen;
    mon_hist *hist;                      /* owned; oldest first */
    size_t n_hist;
} mon_bstate;

/* Cuts the index keeps (a night of 5-minute cuts is ~300; this bounds a damaged state file). */
#define MON_CUTS_MAX 1000000

/* What one alert channel was last told about one subject (a broadcaster id, or
 * MON_ALERT_INSTITUTE for the institute's own cut), kept in OUT/state.json so a restart
 * neither repeats nor forgets an alert. */
#define MON_ALERT_INSTITUTE "@institute"
enum { MON_CH_MAIL = 0, MON_CH_HOOK = 1, MON_CH_N = 2 };
typedef struct mon_told {
    char subject[PREP_MONITOR_ID_MAX + 2];
    int channel;    /* MON_CH_* */
    int bad;        /* 1: told "red" (or "cut late"); 0: told it is fine (or never told) */
    prep_time since;/* when the bad state was first told */
    prep_time last; /* when the last message about it was sent */
} mon_told;
#define MON_TOLD_MAX (2 * (PREP_MONITOR_TARGETS_MAX + 1))

typedef struct mon_state {
    prep_time first_round;               /* the monitor's first round on this out dir */
    mon_cut *cuts;                       /* owned: the index of every cut of the store read so far
                                          * (seq, manifest SHA-256, instant), ascending seq, no
                                          * duplicates; a stored cut never changes, so it is kept
                                          * across rounds and only new cuts are read */
    size_t n_cuts;
    uint64_t store_seq[MON_SEEN_MAX];    /* when the monitor first saw each cut active */
    prep_time store_at[MON_SEEN_MAX];
    size_t n_store;
    mon_bstate *b;                       /* owned */
    size_t n;
    mon_told *told;                      /* owned: the alerts' memory; only bad entries are kept */
    size_t n_told;
} mon_state;

/* Loads OUT/state.json (missing = empty state; a damaged one is reported and ignored). */
void mon_state_load(const char *path, mon_state *s, prep_diags *d);
prep_err mon_state_save(const char *path, const mon_state *s);
void mon_state_free(mon_state *s);
/* The entry for id (created empty when absent); NULL on allocation failure. */
mon_bstate *mon_state_get(mon_state *s, const char *id);
/* Adds c to the cut index (replacing the entry of the same seq; kept in seq order; ignored
 * past MON_CUTS_MAX entries). */
void mon_state_cache_cut(mon_state *s, const mon_cut *c);
/* The indexed cut with this sequence; NULL when not indexed. */
const mon_cut *mon_cut_by_seq(const mon_state *s, uint64_t seq);
/* The indexed cut at or below max_seq whose manifest has this SHA-256 (newest first); NULL
 * when no cut of the index has these bytes. */
const mon_cut *mon_cut_by_sha(const mon_state *s, const char *sha256, uint64_t max_seq);
/* Reads STORE/cuts/<seq>/manifest's SHA-256 and "# instant:" (store_seen left unknown) and,
 * when previous is not NULL (room for 65), its "# previous:" hash ("" for none). 0 on
 * success, -1 when it cannot be read. */
int mon_read_cut(const char *store, uint64_t seq, mon_cut *out, char *previous);
/* Brings the index up to the store's cuts 1..active: reads only the manifests it does not
 * have (a cut that cannot be read is tried again next round). *n_read (may be NULL) gets how
 * many manifests were read. When the indexed manifest of `active` is not active_sha256 but the
 * store's file is, or a new cut's "# previous:" is not the indexed hash of the cut before it,
 * the store was replaced under the board: the index is dropped and rebuilt.
 * Returns 0, or -1 when the store's active manifest does not have the pointer's hash. */
int mon_store_refresh(const char *store, mon_state *s, uint64_t active, const char *active_sha256, size_t *n_read);
/* Remembers (seq, at) in a bounded list, oldest dropped; returns the time kept for seq. */
prep_time mon_seen_note(uint64_t *seqs, prep_time *ats, size_t *n, uint64_t seq, prep_time at);
void mon_hist_push(mon_bstate *b, prep_time at, prep_monitor_state st, uint64_t seq, size_t keep);

/* The sample of m for one round: index.html and corte.json when present, then paths after
 * cursor in order (wrapping), k in all (fewer when m is smaller). idx gets entry indexes
 * (caller-provided, room for k). Returns how many; *next_cursor (room for
 * PREP_CUT_PATH_MAX + 1) gets the last rotating path taken. */
size_t mon_sample(const prep_cut_manifest *m, const char *cursor, size_t k, size_t *idx, char *next_cursor);
/* The sample size that covers every one of n_paths within a day at this interval. */
size_t mon_sample_size(size_t n_paths, int64_t sample, int64_t interval_seconds);

/* Everything seen of one broadcaster in one round, judged into a row. */
typedef struct mon_obs {
    const mon_fetch *sums;          /* the SHA256SUMS fetch */
    const mon_cut *cut;             /* the cut whose manifest it serves; NULL = unknown bytes */
    const mon_cut *next;            /* the cut after it (stale), else NULL */
    uint64_t active_seq;
    prep_time first_seen;           /* when it was first seen serving cut->seq */
    const mon_fetch *pages;         /* its sample fetches (identity and encoded) */
    size_t n_pages;
    prep_time now;
} mon_obs;

void mon_judge(const mon_obs *o, const prep_monitor_config *c, prep_monitor_row *row);
/* 1 if the curl code means the TLS certificate failed verification. */
int mon_curl_is_cert_error(int code);

/* ---------------------------------------------------------------- alerts (monitor_alerts.c) */
/* One subject of a round, as the alerts see it: bad = 1 red (or the cut late), 0 green
 * (or the cut on time), -1 neither (amber: no change of what was told). */
typedef struct mon_subject {
    const char *id;                /* borrowed: a broadcaster id, or MON_ALERT_INSTITUTE */
    int bad;
    const prep_monitor_row *row;   /* borrowed; NULL for the institute */
    char reason[PREP_MONITOR_REASON_MAX + 1]; /* the institute's; rows carry their own */
} mon_subject;

enum { MON_EV_RED, MON_EV_STILL_RED, MON_EV_RECOVERED, MON_EV_CUT_LATE, MON_EV_CUT_STILL_LATE, MON_EV_CUT_OK };

typedef struct mon_event {
    int kind;          /* MON_EV_* */
    size_t subject;    /* index into the round's subjects */
    prep_time since;   /* for a reminder: when the bad state was first told */
} mon_event;

/* The dedup and rate-limit rule for one channel (docs/monitor.md "Alerts"): for each
 * subject, compares what it is now with what the channel was last told:
 *   bad, told fine             -> RED (CUT_LATE)
 *   bad, told bad, last message at least reminder seconds ago -> STILL_RED (CUT_STILL_LATE)
 *   fine (0), told bad         -> RECOVERED (CUT_OK)
 *   anything else (amber, or nothing new) -> nothing.
 * Writes at most n events to out (room for n); returns how many. Pure: nothing is
 * changed until mon_alert_commit, so a failed send is planned again next round. */
size_t mon_alert_plan(const mon_state *s, int channel, const mon_subject *subj, size_t n, prep_time now,
                      int64_t reminder_seconds, mon_event *out);
/* The channel told these events at now: remembered in s (a recovery forgets the subject). */
void mon_alert_commit(mon_state *s, int channel, const mon_event *ev, size_t n, const mon_subject *subj,
                      prep_time now);
/* The told entry of (channel, subject); NULL when none (told fine or never). */
const mon_told *mon_told_find(const mon_state *s, int channel, const char *subject);

/* The message for events (n >= 1; more than one: a digest). Subject line (one line, printable
 * ASCII, at most 200 bytes) into subject (room for 256); body (English, UTF-8 as the reasons
 * are, CR LF line ends when crlf) appended to body. Names broadcasters by id and site URL
 * only; carries no secret. */
prep_err mon_alert_text(const mon_event *ev, size_t n, const mon_subject *subj, uint64_t active_seq,
                        prep_time now, const char *out_dir, int crlf, char *subject, prep_buf *body);
/* The webhook's JSON body for the same events (one object, "events" an array). */
char *mon_alert_json(const mon_event *ev, size_t n, const mon_subject *subj, uint64_t active_seq, prep_time now,
                     const char *subject_line, const char *text);

/* Checks the SMTP password file: opened without following a symlink, a regular file, no
 * access for group or others, 1..1023 bytes on its first line. 0 when good; else why (into
 * why, room for whysz). When pw is not NULL (room for 1024) it gets the password. */
int mon_alert_password_check(const char *path, char *why, size_t whysz);
int mon_alert_password_read(const char *path, char *pw, size_t pwsz, char *why, size_t whysz);

/* The round's alerts: plans, composes and sends for each configured channel; commits what
 * was sent, reports what failed (diag "alert-send": channel, server, curl's error) and
 * logs one line per message into r. Never fails the round. active = the store's active
 * cut (its made time decides the institute's lateness). */
void mon_alerts_round(const prep_monitor_config *c, prep_monitor_result *r, mon_state *st, const mon_cut *active,
                      prep_time now, prep_diags *d);

/* ---------------------------------------------------------------- board (monitor_board.c) */
prep_err mon_board_write(const prep_monitor_config *c, const prep_monitor_result *r, const mon_state *s);
/* Appends one JSON line per fetch of target to OUT/evidence/<id>.jsonl (O_APPEND, fsync). */
prep_err mon_evidence_append(const char *out_dir, const char *id, const mon_fetch *f, size_t n,
                             const char *verdict_of_sums);

#endif

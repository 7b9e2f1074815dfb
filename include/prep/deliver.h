/* prep deliver: push a cut to broadcasters (the push half of DESIGN.md's "deliver"; the
 * other parts of it have their own headers: registry.h, pull.h, institute.h).
 *
 * Push a cut over SFTP / explicit FTPS with libcurl, only the objects the broadcaster
 * lacks, manifest and signature last; the plan of a transfer and the manifest patch that
 * the pull link also serves (src/deliver/push*.c). The target type below is the seam with
 * the registry (include/prep/registry.h): the registry yields targets, the pusher takes
 * them. Ownership is stated at each declaration. */
#ifndef PREP_DELIVER_H
#define PREP_DELIVER_H

#include "prep/core.h"
#include "prep/cut.h"

typedef enum prep_deliver_method {
    PREP_DELIVER_SFTP = 0, /* push over SFTP (OpenSSH), SSH key authentication */
    PREP_DELIVER_FTPS = 1, /* push over FTP with explicit TLS (AUTH TLS), TLS required */
    PREP_DELIVER_PULL = 2, /* the broadcaster pulls from its own tokened HTTPS link */
} prep_deliver_method;

/* Where and how one broadcaster receives cuts. Plain value type (fixed arrays), so a
 * list of them is one allocation. Secrets (password) come from the 0600 secrets file and
 * must never be printed, logged or exported. */
typedef struct prep_deliver_target {
    char id[64];                /* the broadcaster's id in the registry ([a-z0-9-]) */
    prep_deliver_method method;
    char url[512];              /* the incoming directory, ending in '/':
                                 * sftp://user@host:port/abs/path/incoming/ or
                                 * ftp://host:port/incoming/ (explicit TLS is forced) */
    char ssh_key[512];          /* SFTP: the institute's private key file */
    char ssh_host_sha256[128];  /* SFTP: pinned host key, base64 SHA-256 as
                                 * `ssh-keygen -lf key.pub -E sha256` prints it, without
                                 * the "SHA256:" prefix (CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256) */
    char ca_file[512];          /* FTPS: the CA or self-signed certificate to verify against
                                 * ("" = the system's CAs) */
    char user[128];             /* FTPS user ("" = anonymous) */
    char password[256];         /* FTPS password (secret) */
} prep_deliver_target;

/* ================================================================ push (src/deliver/push*.c)
 * prep deliver: push cut N of the institute's store to broadcasters over SFTP or explicit
 * FTPS (libcurl multi), only what each lacks, every file to a temporary name then renamed,
 * manifests then signatures last. docs/delivery.md has the layout, the rules and limits. */

/* libcurl's global state, one way for every part that uses libcurl (deliver, pull,
 * monitor, the CLI): acquire before the first handle, release after the last, paired.
 * libcurl counts the pairs and is thread-safe here (since 7.84; Debian 12 ships 7.88).
 * PREP_ERR_IO (a diag on d, which may be NULL) when libcurl cannot initialise. */
PREP_NODISCARD prep_err prep_deliver_curl_acquire(prep_diags *d);
void prep_deliver_curl_release(void);

#define PREP_DELIVER_CHAIN_MAX 1000  /* cuts one catch-up batch may carry (3.5 days of 5-min cuts) */
#define PREP_DELIVER_REMOTE_MAX 160  /* bytes of a remote path relative to the incoming URL */

typedef enum prep_deliver_file_kind {
    PREP_DELIVER_OBJECT = 0,   /* objects/aa/bbbb... */
    PREP_DELIVER_MANIFEST = 1, /* cuts/<seq>/manifest */
    PREP_DELIVER_PATCH = 2,    /* cuts/<seq>/manifest.patch (against cut seq-1) */
    PREP_DELIVER_SIG = 3,      /* cuts/<seq>/manifest.sig */
} prep_deliver_file_kind;

/* One file to upload. */
typedef struct prep_deliver_file {
    prep_deliver_file_kind kind;
    uint64_t seq;                           /* the cut (manifest, patch, sig); 0 for objects */
    char remote[PREP_DELIVER_REMOTE_MAX];   /* relative to the incoming URL */
    char *local;                            /* owned: the store file to send, or NULL when data is set */
    char *data;                             /* owned: bytes to send (a patch), or NULL */
    uint64_t size;                          /* bytes */
} prep_deliver_file;

/* What one target needs to go from cut `from` (0 = nothing known) to cut `seq`: every
 * object of cuts from+1..seq that cut `from` lacks (the union: prep_cut_receive checks
 * each cut of a batch and refuses a gap, so a target behind gets the whole chain), then
 * each cut's manifest or patch (the patch when from > 0 and it is smaller), then each
 * cut's signature, ascending, so the newest signature is the very last file. */
typedef struct prep_deliver_plan {
    uint64_t from, seq;
    prep_deliver_file *files; /* owned (prep_deliver_plan_free) */
    size_t n;
    size_t objects; /* object files in files[] */
    size_t cuts;    /* cuts in the batch: seq - from, or 1 when from == 0 */
    uint64_t bytes; /* sum of files[].size: the bytes on the wire */
    uint64_t raw_bytes; /* the objects' own sizes (what they weigh uncompressed) */
    size_t gz_files;    /* files sent in their compressed form (.gz) */
    char manifest_sha256[65]; /* of cut seq's manifest (written to the state on success) */
} prep_deliver_plan;

/* Builds the plan from store (borrowed). from >= seq gives an empty plan (n = 0: up to date).
 * from > 0 whose cut the store no longer holds is treated as 0 (send cut seq whole).
 * Diag kinds: "missing-cut" (a cut of from+1..seq absent), "limit" (more than
 * PREP_DELIVER_CHAIN_MAX cuts), manifest kinds. */
PREP_NODISCARD prep_err prep_deliver_plan_make(const char *store, uint64_t from, uint64_t seq, prep_deliver_plan *p,
                                prep_diags *d);
/* The same, choosing the form: gzip 1 sends an object as objects/aa/<sha>.gz and a patch as
 * cuts/<k>/manifest.patch.gz when the store's wire cache has them (prep_cut_wire_prepare;
 * prep_deliver_plan_make does so), 0 always raw (a broadcaster whose prep predates the
 * compressed form). */
PREP_NODISCARD prep_err prep_deliver_plan_make_opt(const char *store, uint64_t from, uint64_t seq, int gzip,
                                                   prep_deliver_plan *p, prep_diags *d);
void prep_deliver_plan_free(prep_deliver_plan *p);

/* Checks a target (borrowed) for pushing: id [a-z0-9-]{1,63}; method SFTP or FTPS; the URL
 * form for its method (sftp://USER@HOST[:PORT]/ABS/PATH/ with a pinned host key and a key
 * file; ftp://HOST[:PORT]/PATH/ — never ftps://, explicit TLS is forced); host
 * [A-Za-z0-9.-] or [IPv6]; path segments [A-Za-z0-9._-] (no '..', no '~', no '%'), ending in
 * '/'; no query or fragment. Returns 0, or -1 with a message (never the password) in err. */
int prep_deliver_target_check(const prep_deliver_target *t, char *err, size_t errsz);
/* URL of remote (relative) under the target's incoming URL. -1 if it does not fit. */
int prep_deliver_file_url(const prep_deliver_target *t, const char *remote, char *out, size_t outsz);
/* The temporary name remote is first uploaded as: "REMOTE.tmp-TAG" (same directory, so
 * the rename stays within it). tag: [0-9a-f]{1,16}. -1 if it does not fit. */
int prep_deliver_temp_name(const char *remote, const char *tag, char *out, size_t outsz);
/* The commands run after an upload to move tmp over remote (both relative to the
 * incoming URL), into cmds[0..2) (each of cmdsz bytes); returns how many (2) or -1.
 * SFTP: "*rm ABS/remote" (ignored when absent: SFTP rename cannot overwrite) and
 * "rename ABS/tmp ABS/remote"; FTPS: "RNFR base(tmp)" and "RNTO base(remote)" (libcurl
 * has changed into the file's directory; FTP rename overwrites). */
int prep_deliver_rename_cmds(const prep_deliver_target *t, const char *tmp, const char *remote, char cmds[2][600],
                             size_t cmdsz);
/* Milliseconds to wait before retry number attempt (1 = the first retry): exponential,
 * base_ms * 2^(attempt-1) capped at max_ms, then "equal jitter": half of it fixed, the other
 * half scaled by rnd in [0,1). */
uint64_t prep_deliver_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t max_ms, double rnd);

/* Which file of a plan each of a target's streams (connections) sends next. The plan's
 * first `objects` files are objects and go in any order, over as many streams as are
 * free; the rest (manifests or patches, then signatures) go one at a time, in plan order,
 * and only once every earlier file is done, so the newest signature is the very last file
 * and lands after everything it signs. A failed file becomes pending again: the next
 * attempt resumes at the files that failed. Pure bookkeeping, no I/O. */
#define PREP_DELIVER_STREAMS_MAX 32 /* --ftps-streams upper bound */
#define PREP_DELIVER_SCHED_NONE ((size_t)-1)
typedef struct prep_deliver_sched {
    size_t n, objects;  /* files; the first `objects` of them are objects */
    unsigned char *st;  /* owned: per file 0 pending, 1 in flight, 2 done */
    size_t done, inflight;
    size_t cursor;      /* every file before it is in flight or done */
} prep_deliver_sched;
/* objects > n is clamped to n. PREP_ERR_NOMEM. */
PREP_NODISCARD prep_err prep_deliver_sched_init(prep_deliver_sched *s, size_t n, size_t objects);
void prep_deliver_sched_free(prep_deliver_sched *s);
/* The next file to start now (marked in flight), or PREP_DELIVER_SCHED_NONE: all files
 * started, or the next one is not an object and a file is still in flight. */
size_t prep_deliver_sched_next(prep_deliver_sched *s);
/* File i (in flight) finished: ok = done, otherwise pending again. */
void prep_deliver_sched_end(prep_deliver_sched *s, size_t i, int ok);

/* Per-target state: DIR/<id>/state holds the last cut fully uploaded to that target and
 * its manifest hash ("prep-deliver-state 1\nsequence N\nmanifest HEX\n"), written
 * atomically. Read: PREP_ERR_NOTFOUND when absent; *seq = 0 and a "state" diag when it
 * cannot be parsed (treated as no state). */
PREP_NODISCARD prep_err prep_deliver_state_read(const char *dir, const char *id, uint64_t *seq, char sha256[65], prep_diags *d);
/* The manifest patch delivery sends for cut seq of store (against cut seq-1; pushes and
 * the pull link alike): 1 made into out, 0 none worth sending (not smaller than the
 * manifest), -1 not now (a cut missing or unreadable; diags from loading them). out is
 * initialised here in every case; prep_buf_free it. */
int prep_deliver_patch(const char *store, uint64_t seq, prep_buf *out, prep_diags *d);
PREP_NODISCARD prep_err prep_deliver_state_write(const char *dir, const char *id, uint64_t seq, const char *sha256);

typedef enum prep_deliver_status {
    PREP_DELIVER_DONE = 0,     /* the cut (and the chain up to it) was uploaded */
    PREP_DELIVER_UPTODATE = 1, /* the target already had it: nothing sent */
    PREP_DELIVER_FAILED = 2,   /* gave up (error says why); the state is unchanged */
} prep_deliver_status;

typedef struct prep_deliver_result {
    char id[64];
    prep_deliver_status status;
    uint64_t from;      /* the target's last cut before (0 = none known) */
    uint64_t seq;       /* the cut delivered or attempted */
    size_t cuts;        /* cuts in the batch */
    size_t objects;     /* object files uploaded */
    size_t files;       /* files uploaded (objects, manifests or patches, signatures) */
    uint64_t bytes;     /* bytes uploaded (successful files) */
    double seconds;     /* wall time spent on this target */
    unsigned attempts;  /* connection attempts that failed and were retried or gave up */
    char error[256];    /* "" on success; never holds a password */
} prep_deliver_result;

typedef enum prep_deliver_event {
    PREP_DELIVER_EV_FILE = 0,  /* a file was uploaded and renamed */
    PREP_DELIVER_EV_RETRY = 1, /* a transfer failed; retrying after a backoff */
    PREP_DELIVER_EV_END = 2,   /* a target finished (result final) */
    PREP_DELIVER_EV_TICK = 3,  /* periodic (about 4 per second) while transfers run */
} prep_deliver_event;

typedef struct prep_deliver_progress {
    prep_deliver_event event;
    size_t target;                     /* index into targets/results */
    const prep_deliver_result *result; /* borrowed: that target's result so far */
    size_t done, total;                /* targets finished / all */
    uint64_t bytes;                    /* bytes uploaded so far, all targets */
    uint64_t retry_ms;                 /* EV_RETRY: the wait before the next attempt */
} prep_deliver_progress;

typedef void (*prep_deliver_progress_fn)(void *ctx, const prep_deliver_progress *p);

typedef struct prep_deliver_opts {
    const char *state_dir;      /* borrowed; NULL = STORE/deliver */
    unsigned parallel;          /* targets transferring at once; default 8 (1..64) */
    unsigned retries;           /* failed attempts retried per target; default 4 */
    uint64_t backoff_ms;        /* first retry's base wait; default 1000 */
    uint64_t backoff_max_ms;    /* cap; default 60000 */
    long connect_timeout;       /* seconds; default 15 */
    long low_speed_limit;       /* bytes/s below which a transfer is slow; default 512 */
    long low_speed_time;        /* seconds it may stay slow; default 30 */
    int full;                   /* ignore the state: send cut seq whole */
    unsigned ftps_streams;      /* FTPS: connections per target sending the objects at
                                 * once; default 8 (1..PREP_DELIVER_STREAMS_MAX) */
    unsigned sftp_streams;      /* SFTP: the same; default 1 (docs/delivery.md: more did
                                 * not help) */
    int no_gzip;                /* send every file raw, never its .gz (docs/delivery.md
                                 * "Compressed transfer": for receivers older than it) */
    prep_deliver_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} prep_deliver_opts;

void prep_deliver_opts_init(prep_deliver_opts *o);

/* Delivers cut seq (0 = the active cut) of store to targets[0..n) (borrowed), at most
 * o->parallel targets at once; results[0..n) (caller's array) get one result each. A
 * target's objects go over o->ftps_streams (FTPS)
 * or o->sftp_streams (SFTP) connections at once (prep_deliver_sched: its manifests and
 * signatures after them, one at a time). A failed transfer stops the target
 * from starting more files; once its streams are idle it waits a backoff and resumes at
 * the files that failed (one attempt per round, however many streams failed in it). A
 * target that fails never blocks the others; on success its state is written. Every target gets a line in
 * STATE/<id>/deliveries ("TIME seq=N from=L status=S files=F objects=O bytes=B
 * seconds=T error=..."). Returns PREP_OK when every target is done or up to date,
 * PREP_ERR_IO when at least one failed (results say which), or the error that stopped
 * all (no cut, bad target: diags). */
PREP_NODISCARD prep_err prep_deliver_push(const char *store, uint64_t seq, const prep_deliver_target *targets, size_t n,
                           const prep_deliver_opts *o, prep_deliver_result *results, prep_diags *d);

#endif

/* prep registry: the SQLite database of broadcasters, its audit log, the secrets file,
 * pull tokens, targets for the pusher and delivery records (docs/registry.md).
 * Every SQL text here is a compile-time constant; values are always bound. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/registry.h"
#include "registry_internal.h"

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000

/* ---------------------------------------------------------------- SQL */
#define COLDEF_(col, opt, label, kind, max, req) #col " TEXT NOT NULL DEFAULT '',\n"
#define COLNAME_(col, opt, label, kind, max, req) ", " #col
#define QMARK_(col, opt, label, kind, max, req) ", ?"
#define SETCOL_(col, opt, label, kind, max, req) #col " = ?, "

static const char SQL_SCHEMA[] =
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;\n"
    "CREATE TABLE difusores(\n"
    " id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 63),\n" PREP_REGISTRY_FIELDS(COLDEF_)
    " status TEXT NOT NULL CHECK (status IN ('registered','infrastructure-verified','approved','active','blocked')),\n"
    " before_block TEXT NOT NULL DEFAULT 'registered',\n"
    " created INTEGER NOT NULL,\n"
    " changed INTEGER NOT NULL,\n"
    " logo BLOB,\n"
    " logo_type TEXT NOT NULL DEFAULT '',\n"
    " logo_sha256 TEXT NOT NULL DEFAULT '',\n"
    " token_sha256 TEXT UNIQUE\n"
    ") STRICT;\n"
    "CREATE TABLE audit(\n"
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    " difusor TEXT REFERENCES difusores(id),\n"
    " at INTEGER NOT NULL,\n"
    " who TEXT NOT NULL,\n"
    " action TEXT NOT NULL,\n"
    " from_status TEXT NOT NULL DEFAULT '',\n"
    " to_status TEXT NOT NULL DEFAULT '',\n"
    " why TEXT NOT NULL\n"
    ") STRICT;\n"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
    "CREATE TABLE deliveries(\n"
    " difusor TEXT NOT NULL REFERENCES difusores(id),\n"
    " seq INTEGER NOT NULL,\n"
    " method TEXT NOT NULL,\n"
    " started INTEGER NOT NULL,\n"
    " finished INTEGER NOT NULL,\n"
    " status TEXT NOT NULL,\n"
    " bytes INTEGER NOT NULL,\n"
    " objects INTEGER NOT NULL,\n"
    " error TEXT NOT NULL DEFAULT ''\n"
    ") STRICT;\n"
    "CREATE INDEX deliveries_by_difusor ON deliveries(difusor, finished);\n"
    "PRAGMA user_version = 1;\n";

static const char SQL_INSERT[] = "INSERT INTO difusores(id" PREP_REGISTRY_FIELDS(COLNAME_)
    ", status, before_block, created, changed, logo, logo_type, logo_sha256, token_sha256) VALUES (?" PREP_REGISTRY_FIELDS(
        QMARK_) ", 'registered', 'registered', ?, ?, ?, ?, ?, ?)";

static const char SQL_GET[] = "SELECT id" PREP_REGISTRY_FIELDS(COLNAME_)
    ", status, before_block, created, changed, logo_type, logo_sha256, length(logo), logo FROM difusores WHERE id = ?";
static const char SQL_LIST[] = "SELECT id" PREP_REGISTRY_FIELDS(COLNAME_)
    ", status, before_block, created, changed, logo_type, logo_sha256, length(logo) FROM difusores ORDER BY id";
static const char SQL_EDIT[] = "UPDATE difusores SET " PREP_REGISTRY_FIELDS(SETCOL_) "changed = changed WHERE id = ?";
static const char SQL_AUDIT_LIST[] = "SELECT seq, coalesce(difusor, ''), at, who, action, from_status, to_status, "
                                     "why FROM audit WHERE ?1 IS NULL OR difusor = ?1 ORDER BY seq";
static const char SQL_DELIVERIES[] = "SELECT difusor, seq, method, started, finished, status, bytes, objects, error "
                                     "FROM deliveries WHERE difusor = ? ORDER BY finished DESC, rowid DESC LIMIT ?";
static const char SQL_ROSTER[] = "SELECT id" PREP_REGISTRY_FIELDS(COLNAME_) ", status, before_block, created, changed, "
                                 "logo_type, logo_sha256, length(logo), logo FROM difusores "
                                 "ORDER BY name COLLATE NOCASE, id";
static const char SQL_AUDIT_ADD[] =
    "INSERT INTO audit(difusor, at, who, action, from_status, to_status, why) VALUES (?, ?, ?, ?, ?, ?, ?)";

/* ---------------------------------------------------------------- basics */
struct prep_registry {
    /* Held across a whole statement (prepare .. finalize) by the calls threads share
     * (pull lookups, is_blocked): SQLite keeps a connection's read transaction, and so
     * its snapshot, open while any of its statements is active, so overlapping lookups
     * from several threads could go on reading the state from before a block. */
    pthread_mutex_t mu;
    sqlite3 *db;
    char *path;
    char *secrets;
};

static const char *const status_names[] = {"registered", "infrastructure-verified", "approved", "active", "blocked"};

const char *prep_registry_status_name(prep_registry_status s)
{
    return (unsigned)s < PREP_ARRAY_LEN(status_names) ? status_names[s] : "?";
}

int prep_registry_status_parse(const char *s, prep_registry_status *out)
{
    for (size_t i = 0; i < PREP_ARRAY_LEN(status_names); i++)
        if (!strcmp(s, status_names[i])) {
            *out = (prep_registry_status)i;
            return 0;
        }
    return -1;
}

static prep_err unknown_id(prep_diags *d, const char *id)
{
    prep_diags_add(d, "id", 0, 0, "unknown-id", "no broadcaster with id '%.64s'", id);
    return PREP_ERR_NOTFOUND;
}

static prep_err db_fail(prep_registry *r, prep_diags *d, const char *what)
{
    prep_diags_add(d, r->path, 0, 0, "db", "%s: %s", what, sqlite3_errmsg(r->db));
    return PREP_ERR_IO;
}

/* Reads one row of a SELECT into the zeroed element at `elem`; ctx is the caller's. */
typedef void (*row_fn)(sqlite3_stmt *st, void *elem, void *ctx);

/* Steps st to its end, one element of `size` bytes per row read by fn, and finalizes st.
 * On a database error the elements read are released (release, when given, frees what an
 * element owns and the array; else the array is wiped and freed) and db_fail(what) is
 * returned. Registry lists are bounded by the registry's own size: an allocation failure
 * aborts (include/prep/core.h, "memory"). */
static prep_err rows_collect(prep_registry *r, sqlite3_stmt *st, size_t size, row_fn fn, void *ctx,
                             void (*release)(void *v, size_t n), void **out, size_t *n, prep_diags *d,
                             const char *what)
{
    unsigned char *v = NULL;
    size_t nv = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (nv == cap) {
            cap = cap ? cap * 2 : 16;
            v = prep_xrealloc(v, cap * size);
        }
        memset(v + nv * size, 0, size);
        fn(st, v + nv * size, ctx);
        nv++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        if (release) {
            release(v, nv);
        } else {
            if (v) memset(v, 0, nv * size); /* targets hold passwords */
            free(v);
        }
        return db_fail(r, d, what);
    }
    *out = v;
    *n = nv;
    return PREP_OK;
}

static prep_deliver_method method_of(const char *m)
{
    return m && !strcmp(m, "sftp") ? PREP_DELIVER_SFTP : m && !strcmp(m, "ftps") ? PREP_DELIVER_FTPS : PREP_DELIVER_PULL;
}

static int stmt(prep_registry *r, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(r->db, sql, -1, 0, st, NULL);
}

/* Starts a list: *out and *n empty, st the prepared SELECT; else db_fail(what). */
static prep_err select_prepare(prep_registry *r, const char *sql, sqlite3_stmt **st, void **out, size_t *n,
                               prep_diags *d, const char *what)
{
    *out = NULL;
    *n = 0;
    return stmt(r, sql, st) == SQLITE_OK ? PREP_OK : db_fail(r, d, what);
}

/* Steps a statement that returns no row, finalizes it and clears *st: sqlite3_step's code. */
static int step_done(sqlite3_stmt **st)
{
    int rc = sqlite3_step(*st);
    sqlite3_finalize(*st);
    *st = NULL;
    return rc;
}

static prep_err exec_static(prep_registry *r, const char *sql, prep_diags *d)
{
    char *msg = NULL;
    if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        prep_diags_add(d, r->path, 0, 0, "db", "%s", msg ? msg : sqlite3_errmsg(r->db));
        sqlite3_free(msg);
        return PREP_ERR_IO;
    }
    return PREP_OK;
}

static prep_err begin(prep_registry *r, prep_diags *d) { return exec_static(r, "BEGIN IMMEDIATE", d); }
static prep_err commit(prep_registry *r, prep_diags *d) { return exec_static(r, "COMMIT", d); }
static void rollback(prep_registry *r)
{
    if (!sqlite3_get_autocommit(r->db)) sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t outsz)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, outsz, "%s", t ? (const char *)t : "");
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return prep_xstrdup(t ? (const char *)t : "");
}

static void row_read(sqlite3_stmt *st, prep_registry_difusor *df, int with_logo);

/* ---------------------------------------------------------------- open */
prep_err prep_registry_open(const char *db, const char *secrets, prep_registry **out, prep_diags *d)
{
    *out = NULL;
    prep_registry *r = calloc(1, sizeof *r);
    if (!r) return PREP_ERR_NOMEM;
    pthread_mutex_init(&r->mu, NULL);
    r->path = prep_xstrdup(db);
    if (secrets) {
        r->secrets = prep_xstrdup(secrets);
    } else {
        r->secrets = prep_xmalloc(strlen(db) + 9);
        sprintf(r->secrets, "%s.secrets", db);
    }
    int rc = sqlite3_open_v2(db, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    prep_err e = PREP_OK;
    if (rc != SQLITE_OK) {
        e = r->db ? db_fail(r, d, "cannot open the registry") : PREP_ERR_NOMEM;
        goto fail;
    }
    sqlite3_extended_result_codes(r->db, 1);
    sqlite3_busy_timeout(r->db, BUSY_TIMEOUT_MS);
    if ((e = exec_static(r, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", d)))
        goto fail;
    if ((e = begin(r, d))) goto fail;
    sqlite3_stmt *st;
    if (stmt(r, "PRAGMA user_version", &st) != SQLITE_OK) {
        e = db_fail(r, d, "reading the schema version");
        rollback(r);
        goto fail;
    }
    int ver = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (ver == 0) {
        e = exec_static(r, SQL_SCHEMA, d);
    } else if (ver != SCHEMA_VERSION) {
        prep_diags_add(d, db, 0, 0, "schema-version",
                       "the registry has schema version %d; this prep knows version %d", ver, SCHEMA_VERSION);
        e = PREP_ERR_INVALID;
    }
    if (!e) e = commit(r, d);
    if (e) {
        rollback(r);
        goto fail;
    }
    *out = r;
    return PREP_OK;
fail:
    prep_registry_close(r);
    return e;
}

void prep_registry_close(prep_registry *r)
{
    if (!r) return;
    sqlite3_close_v2(r->db);
    pthread_mutex_destroy(&r->mu);
    free(r->path);
    free(r->secrets);
    free(r);
}

/* ---------------------------------------------------------------- checks shared by changes */
static int check_line(const char *what, const char *s, size_t max, int nl, prep_diags *d)
{
    const char *why;
    if (!s || !*s) {
        prep_diags_add(d, what, 0, 0, "missing-field", "--%s is required", what);
        return -1;
    }
    if (prep_registry_check_kind(nl ? PREP_REGISTRY_K_TEXT : PREP_REGISTRY_K_LINE, max, s, &why)) {
        prep_diags_add(d, what, 0, 0, "invalid-field", "--%s '%.100s' %s", what, s, why);
        return -1;
    }
    return 0;
}

static prep_err audit_add(prep_registry *r, const char *id, const char *who, const char *action, const char *from,
                          const char *to, const char *why, prep_diags *d)
{
    sqlite3_stmt *st;
    if (stmt(r, SQL_AUDIT_ADD, &st) != SQLITE_OK) return db_fail(r, d, "audit");
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, prep_time_now());
    bind_text(st, 3, who);
    bind_text(st, 4, action);
    bind_text(st, 5, from ? from : "");
    bind_text(st, 6, to ? to : "");
    bind_text(st, 7, why);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PREP_OK : db_fail(r, d, "audit");
}

/* ---------------------------------------------------------------- settings */
static const char *const setting_keys[] = {"registration_deadline", "infrastructure_deadline", "roster_date", "zone",
                                           "process"};

prep_err prep_registry_settings_get(prep_registry *r, prep_registry_settings *s, prep_diags *d)
{
    s->registration_deadline = s->infrastructure_deadline = s->roster_date = PREP_TIME_NONE;
    snprintf(s->zone, sizeof s->zone, "America/Mexico_City");
    snprintf(s->process, sizeof s->process, "prep");
    sqlite3_stmt *st;
    if (stmt(r, "SELECT key, value FROM settings", &st) != SQLITE_OK) return db_fail(r, d, "settings");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if (!k || !v) continue;
        int64_t t;
        prep_time *tp = !strcmp(k, "registration_deadline")     ? &s->registration_deadline
                        : !strcmp(k, "infrastructure_deadline") ? &s->infrastructure_deadline
                        : !strcmp(k, "roster_date")             ? &s->roster_date
                                                                : NULL;
        if (tp) {
            *tp = (*v && !prep_parse_i64(v, &t)) ? t : PREP_TIME_NONE;
        } else if (!strcmp(k, "zone") && *v) {
            snprintf(s->zone, sizeof s->zone, "%s", v);
        } else if (!strcmp(k, "process") && *v) {
            snprintf(s->process, sizeof s->process, "%s", v);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PREP_OK : db_fail(r, d, "settings");
}

static int valid_process(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 54) return 0; /* + "-difusores" fits PREP_CUT_PROCESS_MAX */
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* A tz database name ([A-Za-z0-9/_+-], no "..", not absolute) whose file this system has. */
static int valid_zone(const char *z)
{
    size_t n = strlen(z);
    if (n == 0 || n > 63 || z[0] == '/' || strstr(z, "..")) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = z[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '_' ||
              c == '-' || c == '+'))
            return 0;
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", z);
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

prep_err prep_registry_settings_set(prep_registry *r, const prep_registry_settings *s, const char *who, const char *why,
                                    prep_diags *d)
{
    if (check_line("by", who, PREP_REGISTRY_WHO_MAX, 0, d) | check_line("why", why, PREP_REGISTRY_WHY_MAX, 1, d))
        return PREP_ERR_INVALID;
    if (!valid_zone(s->zone)) {
        prep_diags_add(d, "zone", 0, 0, "invalid-field", "--zone '%.64s' is not in this system's tz database", s->zone);
        return PREP_ERR_INVALID;
    }
    if (!valid_process(s->process)) {
        prep_diags_add(d, "process", 0, 0, "invalid-field", "--process '%.64s' must be 1 to 54 of [A-Za-z0-9._-]",
                       s->process);
        return PREP_ERR_INVALID;
    }
    char vals[5][72];
    const prep_time ts[3] = {s->registration_deadline, s->infrastructure_deadline, s->roster_date};
    for (int i = 0; i < 3; i++) {
        if (ts[i] == PREP_TIME_NONE)
            vals[i][0] = 0;
        else
            snprintf(vals[i], sizeof vals[i], "%lld", (long long)ts[i]);
    }
    snprintf(vals[3], sizeof vals[3], "%s", s->zone);
    snprintf(vals[4], sizeof vals[4], "%s", s->process);
    prep_err e = begin(r, d);
    if (e) return e;
    prep_buf summary;
    prep_buf_init(&summary, 4096);
    for (int i = 0; i < 5 && !e; i++) {
        sqlite3_stmt *st;
        if (stmt(r, "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 &st) != SQLITE_OK) {
            e = db_fail(r, d, "settings");
            break;
        }
        bind_text(st, 1, setting_keys[i]);
        bind_text(st, 2, vals[i]);
        if (sqlite3_step(st) != SQLITE_DONE) e = db_fail(r, d, "settings");
        sqlite3_finalize(st);
        if (i < 3) {
            char tb[40] = "none";
            if (ts[i] != PREP_TIME_NONE) prep_time_format(ts[i], s->zone, PREP_TS_ISO, tb, sizeof tb);
            prep_buf_printf(&summary, "%s%s=%s", i ? "; " : "", setting_keys[i], tb);
        } else {
            prep_buf_printf(&summary, "; %s=%s", setting_keys[i], vals[i]);
        }
    }
    if (!e) {
        prep_buf_printf(&summary, " (%s)", why);
        e = audit_add(r, NULL, who, "settings", "", "", summary.data, d);
    }
    if (!e) e = commit(r, d);
    if (e) rollback(r);
    prep_buf_free(&summary);
    return e;
}

/* "registration closed on 2021-04-19 23:59 (America/Mexico_City)" */
static int late(prep_time now, prep_time deadline, const char *zone, const char *setting, const char *what,
                prep_diags *d)
{
    if (deadline == PREP_TIME_NONE || now <= deadline) return 0;
    char tb[40];
    if (prep_time_format(deadline, zone, PREP_TS_ISO, tb, sizeof tb)) snprintf(tb, sizeof tb, "@%lld", (long long)deadline);
    tb[16] = 0; /* minutes */
    prep_diags_add(d, setting, 0, 0, "deadline", "%s on %s (%s)", what, tb, zone);
    return 1;
}

/* ---------------------------------------------------------------- secrets file */
typedef struct secret_line {
    char *id, *name, *value;
} secret_line;

static void secrets_free(secret_line *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        volatile char *p = v[i].value;
        while (p && *p) *p++ = 0;
        free(v[i].id);
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

/* Lines "ID NAME VALUE" (VALUE: the rest of the line). A missing file is empty; a file
 * group or others may access is refused. */
static prep_err secrets_read(prep_registry *r, secret_line **out, size_t *n, prep_diags *d)
{
    *out = NULL;
    *n = 0;
    int fd = open(r->secrets, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return PREP_OK;
        prep_diags_add(d, r->secrets, 0, 0, "secrets", "cannot open the secrets file: %s", strerror(errno));
        return PREP_ERR_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        close(fd);
        prep_diags_add(d, r->secrets, 0, 0, "secrets", "the secrets file is not a regular file");
        return PREP_ERR_IO;
    }
    if (sb.st_mode & 077) {
        close(fd);
        prep_diags_add(d, r->secrets, 0, 0, "secrets-mode",
                       "the secrets file has mode %04o: group and others must have no access (chmod 600 %s)",
                       (unsigned)(sb.st_mode & 07777), r->secrets);
        return PREP_ERR_INVALID;
    }
    if (sb.st_size > 16 * 1024 * 1024) {
        close(fd);
        prep_diags_add(d, r->secrets, 0, 0, "limit", "the secrets file is larger than 16 MiB");
        return PREP_ERR_LIMIT;
    }
    size_t len = (size_t)sb.st_size;
    char *data = malloc(len + 1);
    if (!data) {
        close(fd);
        return PREP_ERR_NOMEM;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t k = read(fd, data + got, len - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    data[got] = 0;
    secret_line *v = NULL;
    size_t nv = 0, cap = 0;
    char *save = NULL;
    long lineno = 0;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *s1 = strchr(line, ' ');
        char *s2 = s1 ? strchr(s1 + 1, ' ') : NULL;
        if (!s2) {
            prep_diags_add(d, r->secrets, lineno, 0, "secrets", "line is not 'ID NAME VALUE' (ignored)");
            continue;
        }
        if (nv == cap) {
            cap = cap ? cap * 2 : 16;
            v = prep_xrealloc(v, cap * sizeof *v);
        }
        v[nv].id = prep_xstrndup(line, (size_t)(s1 - line));
        v[nv].name = prep_xstrndup(s1 + 1, (size_t)(s2 - s1 - 1));
        v[nv].value = prep_xstrdup(s2 + 1);
        nv++;
    }
    memset(data, 0, got);
    free(data);
    *out = v;
    *n = nv;
    return PREP_OK;
}

static const char *secret_find(const secret_line *v, size_t n, const char *id, const char *name)
{
    for (size_t i = n; i-- > 0;)
        if (!strcmp(v[i].id, id) && !strcmp(v[i].name, name)) return v[i].value;
    return NULL;
}


/* Replaces id's secrets with names[i]=values[i] (NULL values are dropped), keeping the
 * others: write a 0600 temporary file, fsync, rename, fsync the directory. Called inside
 * a write transaction, which serialises writers. */
static prep_err secrets_put(prep_registry *r, const char *id, const char *const *names, const char *const *values,
                            size_t k, prep_diags *d)
{
    secret_line *v;
    size_t n;
    prep_err e = secrets_read(r, &v, &n, d);
    if (e) return e;
    prep_buf b;
    prep_buf_init(&b, 32 * 1024 * 1024);
    for (size_t i = 0; i < n; i++) {
        int replaced = 0;
        for (size_t j = 0; j < k; j++)
            if (!strcmp(v[i].id, id) && !strcmp(v[i].name, names[j])) replaced = 1;
        if (!replaced) prep_buf_printf(&b, "%s %s %s\n", v[i].id, v[i].name, v[i].value);
    }
    for (size_t j = 0; j < k; j++)
        if (values[j]) prep_buf_printf(&b, "%s %s %s\n", id, names[j], values[j]);
    secrets_free(v, n);
    /* every line or none: a failed append (the 32 MiB bound, memory) writes nothing */
    if ((e = prep_buf_err(&b))) {
        prep_diags_add(d, r->secrets, 0, 0, "secrets", "secrets file not written: %s", prep_err_str(e));
        goto out;
    }
    e = prep_write_file_atomic_mode(r->secrets, b.data ? b.data : "", b.len, 0600);
    if (e) prep_diags_add(d, r->secrets, 0, 0, "secrets", "cannot write the secrets file: %s", prep_err_text(e));
out:
    if (b.data) memset(b.data, 0, b.len);
    prep_buf_free(&b);
    return e;
}

/* ---------------------------------------------------------------- tokens */
static prep_err new_token(char tok[PREP_REGISTRY_TOKEN_HEX + 1], char hash[65])
{
    unsigned char raw[32];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t k = getrandom(raw + got, sizeof raw - got, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return PREP_ERR_IO;
        got += (size_t)k;
    }
    prep_hex(raw, sizeof raw, tok);
    memset(raw, 0, sizeof raw);
    prep_sha256_hex(tok, PREP_REGISTRY_TOKEN_HEX, hash);
    return PREP_OK;
}

/* ---------------------------------------------------------------- add */
prep_err prep_registry_add(prep_registry *r, const prep_registry_input *in, const char *who, prep_time now,
                           char token_out[PREP_REGISTRY_TOKEN_HEX + 1], char id_out[64], prep_diags *d)
{
    token_out[0] = 0;
    prep_err e = prep_registry_input_validate(in, d);
    if (check_line("by", who, PREP_REGISTRY_WHO_MAX, 0, d)) e = PREP_ERR_INVALID;
    if (e) return e;
    prep_registry_settings set;
    if ((e = prep_registry_settings_get(r, &set, d))) return e;
    if (late(now, set.registration_deadline, set.zone, "registration-deadline", "registration closed", d)) return PREP_ERR_INVALID;

    char id[64];
    if (in->id) {
        snprintf(id, sizeof id, "%s", in->id);
    } else {
        char *slug = prep_slugify(in->v[PREP_REGISTRY_F_name]);
        snprintf(id, sizeof id, "%s", slug);
        free(slug);
        size_t l = strlen(id);
        while (l && id[l - 1] == '-') id[--l] = 0;
        const char *why;
        if (prep_registry_check_id(id, &why)) {
            prep_diags_add(d, "id", 0, 0, "invalid-field", "the id made from the name, '%s', %s: give --id", id, why);
            return PREP_ERR_INVALID;
        }
    }
    if (id_out) snprintf(id_out, 64, "%s", id);

    prep_registry_logo logo;
    memset(&logo, 0, sizeof logo);
    if (in->logo && (e = prep_registry_logo_load(in->logo, &logo, d))) return e;

    char hash[65];
    if ((e = new_token(token_out, hash))) {
        prep_diags_add(d, "token", 0, 0, "random", "no random bytes from the kernel");
        free(logo.data);
        return e;
    }
    if ((e = begin(r, d))) {
        free(logo.data);
        return e;
    }
    sqlite3_stmt *st = NULL;
    if (stmt(r, SQL_INSERT, &st) != SQLITE_OK) {
        e = db_fail(r, d, "add");
        goto out;
    }
    int k = 1;
    bind_text(st, k++, id);
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) bind_text(st, k++, in->v[i] ? in->v[i] : "");
    prep_time wall = prep_time_now();
    sqlite3_bind_int64(st, k++, wall);
    sqlite3_bind_int64(st, k++, wall);
    if (logo.data)
        sqlite3_bind_blob(st, k++, logo.data, (int)logo.len, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, k++);
    bind_text(st, k++, logo.data ? logo.type : "");
    bind_text(st, k++, logo.data ? logo.sha256 : "");
    bind_text(st, k++, hash);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
            prep_diags_add(d, "id", 0, 0, "duplicate-id", "a broadcaster with id '%s' is already registered", id);
            e = PREP_ERR_INVALID;
        } else {
            e = db_fail(r, d, "add");
        }
        goto out;
    }
    e = audit_add(r, id, who, "add", "", "registered", "registration (Anexo 1)", d);
    if (!e && (in->ftp_password || in->ssh_password)) {
        const char *names[2] = {"ftp-password", "ssh-password"};
        const char *vals[2] = {in->ftp_password, in->ssh_password};
        e = secrets_put(r, id, names, vals, 2, d);
    }
    if (!e) e = commit(r, d);
out:
    sqlite3_finalize(st);
    if (e) {
        rollback(r);
        memset(token_out, 0, PREP_REGISTRY_TOKEN_HEX + 1);
    }
    free(logo.data);
    return e;
}

/* ---------------------------------------------------------------- edit */
prep_err prep_registry_edit(prep_registry *r, const char *id, const prep_registry_input *changes, const char *who,
                            const char *why, prep_diags *d)
{
    if (check_line("by", who, PREP_REGISTRY_WHO_MAX, 0, d) | check_line("why", why, PREP_REGISTRY_WHY_MAX, 1, d))
        return PREP_ERR_INVALID;
    prep_registry_logo logo;
    memset(&logo, 0, sizeof logo);
    prep_err e = begin(r, d);
    if (e) return e;
    prep_registry_difusor cur;
    memset(&cur, 0, sizeof cur);
    prep_registry_input merged;
    prep_registry_input_init(&merged);
    prep_buf names;
    prep_buf_init(&names, 8192);
    sqlite3_stmt *st = NULL;
    if (stmt(r, SQL_GET, &st) != SQLITE_OK) {
        e = db_fail(r, d, "edit");
        goto out;
    }
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_read(st, &cur, 0);
    } else if (rc == SQLITE_DONE) {
        e = unknown_id(d, id);
    } else {
        e = db_fail(r, d, "edit");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (e) goto out;
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) {
        const char *v = changes->v[i] ? changes->v[i] : cur.v[i];
        merged.v[i] = *v ? prep_xstrdup(v) : NULL;
        if (changes->v[i] && strcmp(changes->v[i], cur.v[i]))
            prep_buf_printf(&names, "%s%s", names.len ? ", " : "", prep_registry_fields[i].option);
    }
    /* the passwords and logo are validated by prep_registry_input_validate through merged */
    merged.ftp_password = changes->ftp_password ? prep_xstrdup(changes->ftp_password) : NULL;
    merged.ssh_password = changes->ssh_password ? prep_xstrdup(changes->ssh_password) : NULL;
    merged.logo = changes->logo ? prep_xstrdup(changes->logo) : NULL;
    if ((e = prep_registry_input_validate(&merged, d))) goto out;
    if (changes->logo) {
        if ((e = prep_registry_logo_load(changes->logo, &logo, d))) goto out;
        if (strcmp(logo.sha256, cur.logo_sha256)) prep_buf_printf(&names, "%slogo", names.len ? ", " : "");
    }
    if (changes->ftp_password) prep_buf_printf(&names, "%sftp-password", names.len ? ", " : "");
    if (changes->ssh_password) prep_buf_printf(&names, "%sssh-password", names.len ? ", " : "");
    if (!names.len) {
        prep_diags_add(d, "edit", 0, 0, "no-change", "nothing to change for '%s'", id);
        e = PREP_ERR_USAGE;
        goto out;
    }
    if (stmt(r, SQL_EDIT, &st) != SQLITE_OK) {
        e = db_fail(r, d, "edit");
        goto out;
    }
    int k = 1;
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) bind_text(st, k++, merged.v[i] ? merged.v[i] : "");
    bind_text(st, k, id);
    if (step_done(&st) != SQLITE_DONE) {
        e = db_fail(r, d, "edit");
        goto out;
    }
    if (logo.data) {
        if (stmt(r, "UPDATE difusores SET logo = ?, logo_type = ?, logo_sha256 = ? WHERE id = ?", &st) != SQLITE_OK) {
            e = db_fail(r, d, "edit");
            goto out;
        }
        sqlite3_bind_blob(st, 1, logo.data, (int)logo.len, SQLITE_TRANSIENT);
        bind_text(st, 2, logo.type);
        bind_text(st, 3, logo.sha256);
        bind_text(st, 4, id);
        if (step_done(&st) != SQLITE_DONE) {
            e = db_fail(r, d, "edit");
            goto out;
        }
    }
    prep_buf text;
    prep_buf_init(&text, 16384);
    prep_buf_printf(&text, "%s (changed: %s)", why, names.data);
    e = audit_add(r, id, who, "edit", "", "", text.data, d);
    prep_buf_free(&text);
    if (!e && (changes->ftp_password || changes->ssh_password)) {
        const char *pn[2], *pv[2];
        size_t np = 0;
        if (changes->ftp_password) {
            pn[np] = "ftp-password";
            pv[np++] = changes->ftp_password;
        }
        if (changes->ssh_password) {
            pn[np] = "ssh-password";
            pv[np++] = changes->ssh_password;
        }
        e = secrets_put(r, id, pn, pv, np, d);
    }
    if (!e) e = commit(r, d);
out:
    if (e) rollback(r);
    prep_buf_free(&names);
    prep_registry_input_free(&merged);
    prep_registry_difusor_free(&cur);
    free(logo.data);
    return e;
}

/* ---------------------------------------------------------------- status */
static prep_err load_status(prep_registry *r, const char *id, prep_registry_status *st_out, prep_registry_status *before,
                            prep_diags *d)
{
    sqlite3_stmt *st;
    if (stmt(r, "SELECT status, before_block FROM difusores WHERE id = ?", &st) != SQLITE_OK)
        return db_fail(r, d, "status");
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    prep_err e = PREP_OK;
    if (rc == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0), *b = (const char *)sqlite3_column_text(st, 1);
        if (!a || !b || prep_registry_status_parse(a, st_out) || prep_registry_status_parse(b, before)) {
            prep_diags_add(d, r->path, 0, 0, "db", "broadcaster '%s' has an unknown status", id);
            e = PREP_ERR_INVALID;
        }
    } else if (rc == SQLITE_DONE) {
        e = unknown_id(d, id);
    } else {
        e = db_fail(r, d, "status");
    }
    sqlite3_finalize(st);
    return e;
}

static int allowed(prep_registry_status from, prep_registry_status to)
{
    if (from == PREP_REGISTRY_BLOCKED) return 0; /* only unblock leaves blocked */
    if (to == PREP_REGISTRY_BLOCKED) return 1;
    return (int)to == (int)from + 1 && to <= PREP_REGISTRY_ACTIVE;
}

static prep_err change(prep_registry *r, const char *id, int unblock, prep_registry_status to, const char *who,
                       const char *why, prep_time now, prep_diags *d)
{
    if (check_line("by", who, PREP_REGISTRY_WHO_MAX, 0, d) | check_line("why", why, PREP_REGISTRY_WHY_MAX, 1, d))
        return PREP_ERR_INVALID;
    prep_registry_settings set;
    prep_err e = prep_registry_settings_get(r, &set, d);
    if (e) return e;
    if ((e = begin(r, d))) return e;
    prep_registry_status cur, before;
    if ((e = load_status(r, id, &cur, &before, d))) goto out;
    if (unblock) {
        if (cur != PREP_REGISTRY_BLOCKED) {
            prep_diags_add(d, "status", 0, 0, "transition", "'%s' is %s, not blocked: nothing to unblock", id,
                           prep_registry_status_name(cur));
            e = PREP_ERR_INVALID;
            goto out;
        }
        to = before;
    } else if (!allowed(cur, to)) {
        char list[128] = "";
        for (int s = 0; s <= PREP_REGISTRY_BLOCKED; s++)
            if (allowed(cur, (prep_registry_status)s)) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", prep_registry_status_name((prep_registry_status)s));
            }
        prep_diags_add(d, "status", 0, 0, "transition", "'%s' cannot go from %s to %s; allowed from %s: %s", id,
                       prep_registry_status_name(cur), prep_registry_status_name(to), prep_registry_status_name(cur),
                       cur == PREP_REGISTRY_BLOCKED ? "unblock" : list);
        e = PREP_ERR_INVALID;
        goto out;
    }
    if (to == PREP_REGISTRY_INFRA_VERIFIED &&
        late(now, set.infrastructure_deadline, set.zone, "infrastructure-deadline",
             "the infrastructure deadline passed", d)) {
        e = PREP_ERR_INVALID;
        goto out;
    }
    if (to == PREP_REGISTRY_APPROVED && late(now, set.roster_date, set.zone, "roster-date", "approvals closed with the roster date", d)) {
        e = PREP_ERR_INVALID;
        goto out;
    }
    sqlite3_stmt *st;
    if (stmt(r, "UPDATE difusores SET status = ?, before_block = ?, changed = ? WHERE id = ?", &st) != SQLITE_OK) {
        e = db_fail(r, d, "status");
        goto out;
    }
    bind_text(st, 1, prep_registry_status_name(to));
    bind_text(st, 2, prep_registry_status_name(to == PREP_REGISTRY_BLOCKED ? cur : to));
    sqlite3_bind_int64(st, 3, prep_time_now());
    bind_text(st, 4, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        e = db_fail(r, d, "status");
        goto out;
    }
    const char *action = unblock ? "unblock" : to == PREP_REGISTRY_BLOCKED ? "block" : "status";
    e = audit_add(r, id, who, action, prep_registry_status_name(cur), prep_registry_status_name(to), why, d);
    if (!e) e = commit(r, d);
out:
    if (e) rollback(r);
    return e;
}

prep_err prep_registry_transition(prep_registry *r, const char *id, prep_registry_status to, const char *who,
                                  const char *why, prep_time now, prep_diags *d)
{
    return change(r, id, 0, to, who, why, now, d);
}

prep_err prep_registry_block(prep_registry *r, const char *id, const char *who, const char *why, prep_diags *d)
{
    return change(r, id, 0, PREP_REGISTRY_BLOCKED, who, why, prep_time_now(), d);
}

prep_err prep_registry_unblock(prep_registry *r, const char *id, const char *who, const char *why, prep_diags *d)
{
    return change(r, id, 1, PREP_REGISTRY_REGISTERED, who, why, prep_time_now(), d);
}

prep_err prep_registry_token_rotate(prep_registry *r, const char *id, const char *who, const char *why,
                                    char token_out[PREP_REGISTRY_TOKEN_HEX + 1], prep_diags *d)
{
    token_out[0] = 0;
    if (check_line("by", who, PREP_REGISTRY_WHO_MAX, 0, d) | check_line("why", why, PREP_REGISTRY_WHY_MAX, 1, d))
        return PREP_ERR_INVALID;
    char hash[65];
    prep_err e = new_token(token_out, hash);
    if (e) return e;
    if ((e = begin(r, d))) return e;
    prep_registry_status cur, before;
    if ((e = load_status(r, id, &cur, &before, d))) goto out;
    sqlite3_stmt *st;
    if (stmt(r, "UPDATE difusores SET token_sha256 = ? WHERE id = ?", &st) != SQLITE_OK) {
        e = db_fail(r, d, "token");
        goto out;
    }
    bind_text(st, 1, hash);
    bind_text(st, 2, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        e = db_fail(r, d, "token");
        goto out;
    }
    e = audit_add(r, id, who, "token", "", "", why, d);
    if (!e) e = commit(r, d);
out:
    if (e) {
        rollback(r);
        memset(token_out, 0, PREP_REGISTRY_TOKEN_HEX + 1);
    }
    return e;
}

/* ---------------------------------------------------------------- reading */
void prep_registry_difusor_free(prep_registry_difusor *df)
{
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) free(df->v[i]);
    free(df->logo);
    memset(df, 0, sizeof *df);
}

void prep_registry_difusor_list_free(prep_registry_difusor *v, size_t n)
{
    for (size_t i = 0; i < n; i++) prep_registry_difusor_free(&v[i]);
    free(v);
}

/* Columns as in SQL_SELECT; with_logo: one more column, the blob. */
static void row_read(sqlite3_stmt *st, prep_registry_difusor *df, int with_logo)
{
    memset(df, 0, sizeof *df);
    int k = 0;
    col_copy(st, k++, df->id, sizeof df->id);
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) df->v[i] = col_dup(st, k++);
    const char *s = (const char *)sqlite3_column_text(st, k++);
    if (!s || prep_registry_status_parse(s, &df->status)) df->status = PREP_REGISTRY_BLOCKED; /* fail closed */
    s = (const char *)sqlite3_column_text(st, k++);
    if (!s || prep_registry_status_parse(s, &df->before_block)) df->before_block = PREP_REGISTRY_REGISTERED;
    df->created = sqlite3_column_int64(st, k++);
    df->changed = sqlite3_column_int64(st, k++);
    col_copy(st, k++, df->logo_type, sizeof df->logo_type);
    col_copy(st, k++, df->logo_sha256, sizeof df->logo_sha256);
    df->logo_len = (size_t)sqlite3_column_int64(st, k++);
    if (with_logo && df->logo_len) {
        const void *b = sqlite3_column_blob(st, k);
        int bl = sqlite3_column_bytes(st, k);
        if (b && bl > 0) {
            df->logo = prep_xmalloc((size_t)bl);
            memcpy(df->logo, b, (size_t)bl);
            df->logo_len = (size_t)bl;
        }
    }
}

static void fill_secret_flags(prep_registry_difusor *df, const secret_line *v, size_t n)
{
    df->has_ftp_password = secret_find(v, n, df->id, "ftp-password") != NULL;
    df->has_ssh_password = secret_find(v, n, df->id, "ssh-password") != NULL;
}

prep_err prep_registry_get(prep_registry *r, const char *id, prep_registry_difusor *df, prep_diags *d)
{
    memset(df, 0, sizeof *df);
    sqlite3_stmt *st;
    if (stmt(r, SQL_GET, &st) != SQLITE_OK) return db_fail(r, d, "show");
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    prep_err e = PREP_OK;
    if (rc == SQLITE_ROW) {
        row_read(st, df, 1);
    } else if (rc == SQLITE_DONE) {
        e = unknown_id(d, id);
    } else {
        e = db_fail(r, d, "show");
    }
    sqlite3_finalize(st);
    if (e) return e;
    secret_line *sv;
    size_t sn;
    if ((e = secrets_read(r, &sv, &sn, d))) {
        prep_registry_difusor_free(df);
        return e;
    }
    fill_secret_flags(df, sv, sn);
    secrets_free(sv, sn);
    return PREP_OK;
}

typedef struct secrets_ctx {
    secret_line *v;
    size_t n;
} secrets_ctx;

static void row_list(sqlite3_stmt *st, void *elem, void *ctx)
{
    const secrets_ctx *k = ctx;
    row_read(st, elem, 0);
    fill_secret_flags(elem, k->v, k->n);
}

static void release_difusores(void *v, size_t n) { prep_registry_difusor_list_free(v, n); }

prep_err prep_registry_list(prep_registry *r, prep_registry_difusor **out, size_t *n, prep_diags *d)
{
    *out = NULL;
    *n = 0;
    secrets_ctx k;
    prep_err e = secrets_read(r, &k.v, &k.n, d);
    if (e) return e;
    sqlite3_stmt *st;
    if (stmt(r, SQL_LIST, &st) != SQLITE_OK)
        e = db_fail(r, d, "list");
    else
        e = rows_collect(r, st, sizeof **out, row_list, &k, release_difusores, (void **)out, n, d, "list");
    secrets_free(k.v, k.n);
    return e;
}

static void row_audit(sqlite3_stmt *st, void *elem, void *ctx)
{
    (void)ctx;
    prep_registry_audit_entry *a = elem;
    a->seq = sqlite3_column_int64(st, 0);
    col_copy(st, 1, a->difusor, sizeof a->difusor);
    a->at = sqlite3_column_int64(st, 2);
    col_copy(st, 3, a->who, sizeof a->who);
    col_copy(st, 4, a->action, sizeof a->action);
    col_copy(st, 5, a->from, sizeof a->from);
    col_copy(st, 6, a->to, sizeof a->to);
    col_copy(st, 7, a->why, sizeof a->why);
}

prep_err prep_registry_audit(prep_registry *r, const char *id, prep_registry_audit_entry **out, size_t *n, prep_diags *d)
{
    sqlite3_stmt *st;
    prep_err e = select_prepare(r, SQL_AUDIT_LIST, &st, (void **)out, n, d, "audit");
    if (e) return e;
    bind_text(st, 1, id);
    return rows_collect(r, st, sizeof **out, row_audit, NULL, NULL, (void **)out, n, d, "audit");
}

/* ---------------------------------------------------------------- pusher, pull server */
static void row_target(sqlite3_stmt *st, void *elem, void *ctx)
{
    const secrets_ctx *k = ctx;
    prep_deliver_target *t = elem;
    col_copy(st, 0, t->id, sizeof t->id);
    t->method = method_of((const char *)sqlite3_column_text(st, 1));
    if (t->method == PREP_DELIVER_SFTP) {
        col_copy(st, 2, t->url, sizeof t->url);
        const char *hk = (const char *)sqlite3_column_text(st, 3);
        if (hk && !strncmp(hk, "SHA256:", 7)) hk += 7;
        snprintf(t->ssh_host_sha256, sizeof t->ssh_host_sha256, "%s", hk ? hk : "");
        col_copy(st, 4, t->ssh_key, sizeof t->ssh_key);
    } else if (t->method == PREP_DELIVER_FTPS) {
        col_copy(st, 5, t->url, sizeof t->url);
        col_copy(st, 6, t->ca_file, sizeof t->ca_file);
        col_copy(st, 7, t->user, sizeof t->user);
        const char *pw = secret_find(k->v, k->n, t->id, "ftp-password");
        if (pw) snprintf(t->password, sizeof t->password, "%s", pw);
    }
}

prep_err prep_registry_targets(prep_registry *r, prep_deliver_target **out, size_t *n, prep_diags *d)
{
    *out = NULL;
    *n = 0;
    secrets_ctx k;
    prep_err e = secrets_read(r, &k.v, &k.n, d);
    if (e) return e;
    sqlite3_stmt *st;
    if (stmt(r,
             "SELECT id, method, sftp_url, ssh_host_key, ssh_key, ftps_url, ca_file, ftp_user FROM difusores "
             "WHERE status = 'active' ORDER BY id",
             &st) != SQLITE_OK)
        e = db_fail(r, d, "targets");
    else
        e = rows_collect(r, st, sizeof **out, row_target, &k, NULL, (void **)out, n, d, "targets");
    secrets_free(k.v, k.n);
    return e;
}

int prep_registry_is_blocked(prep_registry *r, const char *id)
{
    sqlite3_stmt *st;
    pthread_mutex_lock(&r->mu);
    if (stmt(r, "SELECT status FROM difusores WHERE id = ?", &st) != SQLITE_OK) {
        pthread_mutex_unlock(&r->mu);
        return -1;
    }
    bind_text(st, 1, id);
    int res = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        res = s && !strcmp(s, "blocked");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&r->mu);
    return res;
}

prep_registry_pull prep_registry_pull_lookup(prep_registry *r, const char *token, char id_out[64])
{
    if (id_out) id_out[0] = 0;
    if (!token || strlen(token) != PREP_REGISTRY_TOKEN_HEX) return PREP_REGISTRY_PULL_UNKNOWN;
    for (const char *p = token; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return PREP_REGISTRY_PULL_UNKNOWN;
    char hash[65];
    prep_sha256_hex(token, PREP_REGISTRY_TOKEN_HEX, hash);
    sqlite3_stmt *st;
    pthread_mutex_lock(&r->mu);
    if (stmt(r, "SELECT id, status FROM difusores WHERE token_sha256 = ?", &st) != SQLITE_OK) {
        pthread_mutex_unlock(&r->mu);
        return PREP_REGISTRY_PULL_BLOCKED; /* fail closed: a database error refuses */
    }
    bind_text(st, 1, hash);
    prep_registry_pull res = PREP_REGISTRY_PULL_UNKNOWN;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (id_out) col_copy(st, 0, id_out, 64);
        const char *s = (const char *)sqlite3_column_text(st, 1);
        res = !s                        ? PREP_REGISTRY_PULL_BLOCKED
              : !strcmp(s, "active")    ? PREP_REGISTRY_PULL_ALLOWED
              : !strcmp(s, "blocked")   ? PREP_REGISTRY_PULL_BLOCKED
                                        : PREP_REGISTRY_PULL_INACTIVE;
    } else if (rc != SQLITE_DONE) {
        res = PREP_REGISTRY_PULL_BLOCKED;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&r->mu);
    return res;
}

int prep_registry_pull_authorize(void *ctx, const char *token, char id_out[64])
{
    switch (prep_registry_pull_lookup(ctx, token, id_out)) {
    case PREP_REGISTRY_PULL_ALLOWED: return 1;
    case PREP_REGISTRY_PULL_UNKNOWN: return 0;
    default: return -1;
    }
}

/* ---------------------------------------------------------------- deliveries */
static const char *method_name(prep_deliver_method m)
{
    return m == PREP_DELIVER_SFTP ? "sftp" : m == PREP_DELIVER_FTPS ? "ftps" : "pull";
}

prep_err prep_registry_delivery_record(prep_registry *r, const prep_registry_delivery *rec, prep_diags *d)
{
    sqlite3_stmt *st;
    if (stmt(r,
             "INSERT INTO deliveries(difusor, seq, method, started, finished, status, bytes, objects, error) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
             &st) != SQLITE_OK)
        return db_fail(r, d, "delivery");
    bind_text(st, 1, rec->difusor);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)rec->seq);
    bind_text(st, 3, method_name(rec->method));
    sqlite3_bind_int64(st, 4, rec->started);
    sqlite3_bind_int64(st, 5, rec->finished);
    bind_text(st, 6, rec->status);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)rec->bytes);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)rec->objects);
    bind_text(st, 9, rec->error);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return unknown_id(d, rec->difusor);
    return rc == SQLITE_DONE ? PREP_OK : db_fail(r, d, "delivery");
}

static void row_delivery(sqlite3_stmt *st, void *elem, void *ctx)
{
    (void)ctx;
    prep_registry_delivery *x = elem;
    col_copy(st, 0, x->difusor, sizeof x->difusor);
    x->seq = (uint64_t)sqlite3_column_int64(st, 1);
    x->method = method_of((const char *)sqlite3_column_text(st, 2));
    x->started = sqlite3_column_int64(st, 3);
    x->finished = sqlite3_column_int64(st, 4);
    col_copy(st, 5, x->status, sizeof x->status);
    x->bytes = (uint64_t)sqlite3_column_int64(st, 6);
    x->objects = (uint64_t)sqlite3_column_int64(st, 7);
    col_copy(st, 8, x->error, sizeof x->error);
}

prep_err prep_registry_deliveries(prep_registry *r, const char *id, size_t max, prep_registry_delivery **out, size_t *n,
                                  prep_diags *d)
{
    sqlite3_stmt *st;
    prep_err e = select_prepare(r, SQL_DELIVERIES, &st, (void **)out, n, d, "deliveries");
    if (e) return e;
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(max > 100000 ? 100000 : max));
    return rows_collect(r, st, sizeof **out, row_delivery, NULL, NULL, (void **)out, n, d, "deliveries");
}

/* For registry_html.c: the settings and the list with logos. */
static void row_logo(sqlite3_stmt *st, void *elem, void *ctx)
{
    (void)ctx;
    row_read(st, elem, 1);
}

prep_err prep_registry_list_logos(prep_registry *r, prep_registry_difusor **out, size_t *n, prep_diags *d)
{
    sqlite3_stmt *st;
    prep_err e = select_prepare(r, SQL_ROSTER, &st, (void **)out, n, d, "roster");
    if (e) return e;
    return rows_collect(r, st, sizeof **out, row_logo, NULL, release_difusores, (void **)out, n, d, "roster");
}

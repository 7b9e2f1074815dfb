/* prep cut: the content-addressed store on disk and its crash-safe file steps.
 *
 * Every change is: write a temporary name under STORE/tmp/, fsync it, rename it into
 * place, fsync the directory. Nothing in objects/ or in an activated cuts/<seq>/ is ever
 * rewritten, so a crash (SIGKILL, power loss after fsync, a full disk) leaves the store
 * with the old active cut or the new one, both whole. Leftovers of an interrupted run
 * (files in tmp/, cuts/.tmp-N, cuts/.trash-N) are removed when the store is next opened. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cut_internal.h"

/* ---------------------------------------------------------------- test hook */
static prep_cut_io_hook g_hook;
static void *g_hook_ctx;

void prep_cut_set_io_hook(prep_cut_io_hook fn, void *ctx)
{
    g_hook = fn;
    g_hook_ctx = ctx;
}

int cut_hook(const char *op, const char *path)
{
    if (!g_hook) return 0;
    int er = g_hook(g_hook_ctx, op, path);
    if (er) {
        errno = er;
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- strings */
char *cut_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = prep_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *cut_join(const char *a, const char *b) { return cut_fmt("%s/%s", a, b); }
char *cut_join3(const char *a, const char *b, const char *c) { return cut_fmt("%s/%s/%s", a, b, c); }

/* ---------------------------------------------------------------- file steps */
int cut_open(const char *path, int flags, mode_t mode)
{
    if (cut_hook("open", path)) return -1;
    int fd;
    do fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

int cut_write_all(int fd, const void *p, size_t n, const char *path)
{
    const char *c = p;
    while (n) {
        if (cut_hook("write", path)) return -1;
        size_t chunk = n > (1u << 20) ? (1u << 20) : n;
        ssize_t w = write(fd, c, chunk);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

ssize_t cut_read(int fd, void *buf, size_t n, prep_diags *d, const char *label)
{
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0 || errno != EINTR) {
            if (r < 0) prep_diags_add(d, label, 0, 0, "io", "cannot read: %s", strerror(errno));
            return r;
        }
    }
}

int cut_fsync(int fd, const char *path)
{
    if (cut_hook("fsync", path)) return -1;
    return fsync(fd);
}

int cut_rename(const char *from, const char *to)
{
    if (cut_hook("rename", to)) return -1;
    return rename(from, to);
}

int cut_link(const char *from, const char *to)
{
    if (cut_hook("link", to)) return -1;
    return link(from, to);
}

int cut_mkdir(const char *path)
{
    if (cut_hook("mkdir", path)) return -1;
    if (mkdir(path, 0755) == 0) return 0;
    if (errno != EEXIST) return -1;
    struct stat st;
    if (lstat(path, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int cut_fsync_dir(const char *path)
{
    if (cut_hook("fsyncdir", path)) return -1;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = fsync(fd);
    int er = errno;
    close(fd);
    errno = er;
    return r;
}

static char *dir_of(const char *path)
{
    const char *sl = strrchr(path, '/');
    if (!sl) return prep_xstrdup(".");
    if (sl == path) return prep_xstrdup("/");
    return prep_xstrndup(path, (size_t)(sl - path));
}

int cut_write_atomic(const char *path, const void *data, size_t len, mode_t mode_bits)
{
    static unsigned counter;
    char *tmp = cut_fmt("%s.tmp.%ld.%u", path, (long)getpid(), counter++);
    int fd = cut_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode_bits);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    int r = cut_write_all(fd, data, len, tmp);
    if (!r) r = cut_fsync(fd, tmp);
    int er = errno;
    if (close(fd) != 0 && !r) {
        r = -1;
        er = errno;
    }
    if (!r && cut_rename(tmp, path) != 0) {
        r = -1;
        er = errno;
    }
    if (r) unlink(tmp);
    free(tmp);
    if (!r) {
        char *dir = dir_of(path);
        r = cut_fsync_dir(dir);
        er = errno;
        free(dir);
    }
    errno = er;
    return r;
}

int cut_rm_rf(const char *path) { return prep_rm_tree(path); }

prep_err cut_read_small(const char *path, size_t max, char **data, size_t *len, const char **why)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) return PREP_ERR_NOTFOUND;
        if (errno == ELOOP) {
            if (why) *why = "is a symbolic link";
            return PREP_ERR_INVALID;
        }
        return PREP_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return PREP_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        if (why) *why = "is not a regular file";
        return PREP_ERR_INVALID;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return PREP_ERR_LIMIT;
    }
    size_t cap = (size_t)st.st_size + 1;
    char *b = malloc(cap + 1);
    if (!b) {
        close(fd);
        return PREP_ERR_NOMEM;
    }
    size_t n = 0;
    for (;;) {
        if (n == cap) { /* grew while we read: more than stat said */
            if (n > max) break;
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb) {
                free(b);
                close(fd);
                return PREP_ERR_NOMEM;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            free(b);
            close(fd);
            return PREP_ERR_IO;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        free(b);
        return PREP_ERR_LIMIT;
    }
    b[n] = 0;
    *data = b;
    *len = n;
    return PREP_OK;
}

/* ---------------------------------------------------------------- hashing */
int cut_sha256_init(cut_sha256 *h)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) return -1;
    if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c);
        return -1;
    }
    h->ctx = c;
    return 0;
}

void cut_sha256_update(cut_sha256 *h, const void *p, size_t n) { EVP_DigestUpdate(h->ctx, p, n); }

void cut_sha256_final(cut_sha256 *h, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->ctx, md, &len);
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
    prep_hex(md, sizeof md, out);
}

int cut_fd_sha256(int fd, uint64_t max, char out[65], uint64_t *got)
{
    cut_sha256 h;
    *got = 0;
    out[0] = 0;
    if (cut_sha256_init(&h)) return ENOMEM;
    unsigned char buf[65536];
    int er = 0;
    while (max == UINT64_MAX || *got <= max) {
        uint64_t room = max == UINT64_MAX ? sizeof buf : max + 1 - *got;
        ssize_t r = read(fd, buf, room < sizeof buf ? (size_t)room : sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) er = errno;
        if (r <= 0) break;
        cut_sha256_update(&h, buf, (size_t)r);
        *got += (uint64_t)r;
    }
    cut_sha256_final(&h, out);
    if (er) out[0] = 0;
    return er;
}

/* ---------------------------------------------------------------- store open / lock */
static int is_real_dir(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void remove_leftovers(const char *root)
{
    char *tmp = cut_join(root, "tmp");
    DIR *dp = opendir(tmp);
    if (dp) {
        struct dirent *e;
        while ((e = readdir(dp))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *p = cut_join(tmp, e->d_name);
            cut_rm_rf(p);
            free(p);
        }
        closedir(dp);
    }
    free(tmp);
    char *cuts = cut_join(root, "cuts");
    dp = opendir(cuts);
    if (dp) {
        struct dirent *e;
        while ((e = readdir(dp))) {
            if (strncmp(e->d_name, ".tmp-", 5) && strncmp(e->d_name, ".trash-", 7)) continue;
            char *p = cut_join(cuts, e->d_name);
            cut_rm_rf(p);
            free(p);
        }
        closedir(dp);
    }
    free(cuts);
}

/* What a full disk's error adds: ENOSPC also means no free inode (df -i), which df alone
 * does not show. */
static const char *enospc_hint(int er)
{
    return er == ENOSPC ? " (or no free inode: df -i)" : "";
}

/* A directory to be made a store must be one already, or hold only what the store's own
 * writers put there before its first cut (their locks, a puller's staging): a docroot or
 * the captures' directory given as the store by mistake would otherwise get a store's
 * files among its own (published, for a docroot, and removed by its next export). 0, or
 * -1 with a diag naming the first foreign entry. */
static int store_place_ok(const char *root, prep_diags *d)
{
    static const char *const own[] = {"objects", "cuts",  "tmp",     "active",        "log",       "log.1",
                                      "lock",    "damaged", "healed", "wire",          "catalog",   "pull",
                                      "institute.lock", "pull.lock"};
    DIR *dir = opendir(root);
    if (!dir) return 0; /* none yet (made below), or the open below says why */
    struct dirent *e;
    int ok = 0;
    char first[256] = "";
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!strcmp(e->d_name, "objects")) ok = 1;
        size_t i = 0;
        while (i < PREP_ARRAY_LEN(own) && strcmp(own[i], e->d_name)) i++;
        if (i == PREP_ARRAY_LEN(own) && !first[0]) snprintf(first, sizeof first, "%s", e->d_name);
    }
    closedir(dir);
    if (ok || !first[0]) return 0;
    prep_diags_add(d, root, 0, 0, "not-a-store",
                   "is not a prep store and not empty (it holds '%s'): a store is made in a new or empty directory. "
                   "A published directory or the captures' directory given as the store?",
                   first);
    return -1;
}

prep_err cut_store_open(cut_store *s, const char *root, int create, prep_diags *d)
{
    s->root = NULL;
    s->lock_fd = -1;
    s->dirs = NULL;
    static const char *subdirs[] = {"objects", "cuts", "tmp"};
    if (create) {
        if (store_place_ok(root, d)) return PREP_ERR_USAGE;
        if (prep_mkdirs(root) != PREP_OK) {
            prep_diags_add(d, root, 0, 0, "io", "cannot create the store directory: %s", strerror(errno));
            return PREP_ERR_IO;
        }
        for (size_t i = 0; i < PREP_ARRAY_LEN(subdirs); i++) {
            char *p = cut_join(root, subdirs[i]);
            int r = cut_mkdir(p);
            int er = errno;
            free(p);
            if (r) {
                prep_diags_add(d, root, 0, 0, er == ENOTDIR ? "not-regular" : "io", "cannot create %s/: %s",
                               subdirs[i], strerror(er));
                return PREP_ERR_IO;
            }
        }
    }
    struct stat st;
    if (lstat(root, &st) != 0) {
        prep_diags_add(d, root, 0, 0, "not-found", "no such store directory");
        return PREP_ERR_NOTFOUND;
    }
    for (size_t i = 0; i < PREP_ARRAY_LEN(subdirs); i++) {
        char *p = cut_join(root, subdirs[i]);
        int ok = is_real_dir(p);
        int islnk = lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
        free(p);
        if (!ok) {
            prep_diags_add(d, root, 0, 0, islnk ? "symlink" : "not-found",
                           "%s/ %s; not a prep store (make one with 'prep cut')", subdirs[i],
                           islnk ? "is a symbolic link" : "is missing");
            return islnk ? PREP_ERR_VERIFY : PREP_ERR_NOTFOUND;
        }
    }
    char *lp = cut_join(root, "lock");
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    free(lp);
    if (fd < 0) {
        prep_diags_add(d, root, 0, 0, "io", "cannot open the store lock: %s", strerror(errno));
        return PREP_ERR_IO;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        prep_diags_add(d, root, 0, 0, "io", "cannot lock the store: %s", strerror(errno));
        close(fd);
        return PREP_ERR_IO;
    }
    s->lock_fd = fd;
    s->root = prep_xstrdup(root);
    remove_leftovers(root);
    return PREP_OK;
}

static void store_dirs_close(cut_store *s);

void cut_store_close(cut_store *s)
{
    store_dirs_close(s);
    if (s->lock_fd >= 0) close(s->lock_fd);
    s->lock_fd = -1;
    free(s->root);
    s->root = NULL;
}

/* ---------------------------------------------------------------- log */
void cut_store_log(const char *root, prep_log_level lvl, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Refusals and warnings go to stderr; routine events (activations) only at debug
     * level there, since the log file and the command's own output already say them. */
    prep_log(lvl <= PREP_LOG_WARN ? lvl : PREP_LOG_DEBUG, "%s", msg);
    if (!root) return;
    char *lp = cut_join(root, "log");
    struct stat st;
    if (lstat(lp, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (8 << 20)) {
        char *old = cut_join(root, "log.1");
        rename(lp, old);
        free(old);
    }
    int fd = open(lp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    free(lp);
    if (fd < 0) return;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    static const char *names[] = {"error", "warning", "info", "debug"};
    char line[2200];
    int n = snprintf(line, sizeof line, "%s %s %s\n", ts, names[lvl], msg);
    if (n > 0) {
        size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        if (write(fd, line, len) < 0) { /* best effort */
        }
    }
    close(fd);
}

/* ---------------------------------------------------------------- active pointer */
prep_err cut_active_read_path(const char *root, prep_cut_active *a, prep_diags *d)
{
    memset(a, 0, sizeof *a);
    char *p = cut_join(root, "active");
    char *data;
    size_t len;
    const char *why = "";
    prep_err e = cut_read_small(p, 4096, &data, &len, &why);
    if (e == PREP_ERR_NOTFOUND) {
        free(p);
        return e;
    }
    if (e) {
        prep_diags_add(d, p, 0, 0, e == PREP_ERR_INVALID ? "symlink" : "io", "cannot read the active pointer: %s",
                       e == PREP_ERR_INVALID ? why : strerror(errno));
        free(p);
        return e == PREP_ERR_INVALID ? PREP_ERR_VERIFY : PREP_ERR_IO;
    }
    char mode[16] = "", seqs[24] = "";
    int consumed = 0;
    int ok = sscanf(data, "prep-active 1\nsequence %20[0-9]\nmanifest %64[0-9a-f]\nprocess %64[A-Za-z0-9._-]\nmode "
                          "%5[a-z]\n%n",
                    seqs, a->manifest_sha256, a->process, mode, &consumed) == 4;
    ok = ok && (size_t)consumed == len && prep_is_sha256_hex(a->manifest_sha256);
    ok = ok && (!strcmp(mode, "live") || !strcmp(mode, "drill"));
    uint64_t seq = 0;
    if (ok) {
        for (const char *c = seqs; *c; c++) seq = seq * 10 + (uint64_t)(*c - '0');
        ok = seqs[0] != '0' && strlen(seqs) <= 12;
    }
    free(data);
    if (!ok) {
        prep_diags_add(d, p, 0, 0, "active-pointer", "the active pointer is damaged");
        free(p);
        return PREP_ERR_PARSE;
    }
    free(p);
    a->seq = seq;
    a->mode = !strcmp(mode, "drill") ? PREP_CUT_DRILL : PREP_CUT_LIVE;
    return PREP_OK;
}

prep_err prep_cut_active_read(const char *store, prep_cut_active *a, prep_diags *d)
{
    return cut_active_read_path(store, a, d);
}

prep_err cut_active_write(cut_store *s, const prep_cut_active *a, prep_diags *d)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "prep-active 1\nsequence %llu\nmanifest %s\nprocess %s\nmode %s\n",
                     (unsigned long long)a->seq, a->manifest_sha256, a->process, prep_cut_mode_name(a->mode));
    char *p = cut_join(s->root, "active");
    int r = cut_write_atomic(p, buf, (size_t)n, 0644);
    if (r) prep_diags_add(d, p, 0, 0, "io", "cannot switch the active pointer: %s", strerror(errno));
    free(p);
    return r ? PREP_ERR_IO : PREP_OK;
}

/* ---------------------------------------------------------------- objects */
int prep_cut_object_path(const char *store, const char *sha256, char *out, size_t outsz)
{
    if (!prep_is_sha256_hex(sha256)) return -1;
    int n = snprintf(out, outsz, "%s/objects/%.2s/%s", store, sha256, sha256 + 2);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* The store's tmp/ and objects/XX/ directories, each opened once per store opening, so that
 * the many objects of a cut are created, checked and renamed by their short names (a busy
 * national cut writes ~24,000: a path walked from / for each, and the path strings made
 * for it in a heap of millions of blocks, cost more than writing the bytes). A temporary
 * object is tmp/obj.<pid>.<n>: n numbers them within the store's opening. */
struct cut_dirs {
    long pid;
    unsigned next;
    int tmp;      /* -1: not open */
    int obj[256]; /* -1: not open */
};

static struct cut_dirs *store_dirs(cut_store *s)
{
    if (!s->dirs) {
        struct cut_dirs *t = prep_xmalloc(sizeof *t);
        t->pid = (long)getpid();
        t->next = 0;
        t->tmp = -1;
        for (int i = 0; i < 256; i++) t->obj[i] = -1;
        s->dirs = t;
    }
    return s->dirs;
}

static void store_dirs_close(cut_store *s)
{
    struct cut_dirs *t = s->dirs;
    if (!t) return;
    if (t->tmp >= 0) close(t->tmp);
    for (int i = 0; i < 256; i++)
        if (t->obj[i] >= 0) close(t->obj[i]);
    free(t);
    s->dirs = NULL;
}

/* dir as an open directory, never through a symbolic link: -1 with errno (ENOENT absent,
 * ELOOP or ENOTDIR something else there). */
static int open_dir(const char *dir)
{
    int fd;
    do fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static int tmp_dirfd(cut_store *s)
{
    struct cut_dirs *t = store_dirs(s);
    if (t->tmp < 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/tmp", s->root);
        t->tmp = open_dir(dir);
    }
    return t->tmp;
}

static int hexval(char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; }

static int obj_index(const char *sha256) { return hexval(sha256[0]) * 16 + hexval(sha256[1]); }

/* objects/XX/ of sha256 as an open directory, made first when make (cut_mkdir: through
 * the test hook). -1 with errno as open_dir's. */
static int obj_dirfd(cut_store *s, const char *sha256, int make)
{
    struct cut_dirs *t = store_dirs(s);
    int aa = obj_index(sha256);
    if (t->obj[aa] < 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/objects/%.2s", s->root, sha256);
        if (make && cut_mkdir(dir) != 0) return -1;
        t->obj[aa] = open_dir(dir);
    }
    return t->obj[aa];
}

static void tmp_name(const cut_store *s, unsigned n, char name[64])
{
    snprintf(name, 64, "obj.%ld.%u", s->dirs->pid, n);
}

/* A new temporary object, open for writing (mode: its bits once closed): the descriptor,
 * its number in *n; -1 with errno. */
static int tmp_create_at(cut_store *s, mode_t mode, unsigned n)
{
    int dfd = tmp_dirfd(s);
    if (dfd < 0) return -1;
    char name[64];
    tmp_name(s, n, name);
    if (cut_hook("open", name)) return -1;
    int fd;
    do fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static int tmp_create(cut_store *s, mode_t mode, unsigned *n)
{
    *n = store_dirs(s)->next++; /* set even on failure */
    return tmp_create_at(s, mode, *n);
}

static void tmp_unlink(cut_store *s, unsigned n)
{
    char name[64];
    tmp_name(s, n, name);
    if (s->dirs && s->dirs->tmp >= 0) unlinkat(s->dirs->tmp, name, 0);
}

/* Renames temporary object n into objects/XX/ as sha256, marking its directory dirty: 0,
 * or -1 with errno. keep: without replacing an object the store has (RENAME_NOREPLACE; on
 * a file system without it, the object is looked for first): 1 when it has it, the
 * temporary left in tmp/. */
static int tmp_install(cut_store *s, unsigned n, const char *sha256, int keep, unsigned char dirty[256])
{
    int dfd = obj_dirfd(s, sha256, 1);
    if (dfd < 0) return -1;
    char name[64];
    tmp_name(s, n, name);
    if (cut_hook("rename", sha256)) return -1;
    int r;
    if (keep) /* the hook: a file system without RENAME_NOREPLACE (EINVAL) */
        r = cut_hook("noreplace", sha256) ? -1 : renameat2(s->dirs->tmp, name, dfd, sha256 + 2, RENAME_NOREPLACE);
    else
        r = renameat(s->dirs->tmp, name, dfd, sha256 + 2);
    if (r != 0 && keep && errno == EEXIST) return 1;
    if (r != 0 && keep && (errno == EINVAL || errno == ENOSYS)) {
        struct stat st;
        if (fstatat(dfd, sha256 + 2, &st, AT_SYMLINK_NOFOLLOW) == 0) return 1;
        r = renameat(s->dirs->tmp, name, dfd, sha256 + 2);
    }
    if (r != 0) return -1;
    dirty[obj_index(sha256)] = 1;
    return 0;
}

int cut_object_check(cut_store *s, const char *sha256, uint64_t size, const char *label, prep_diags *d)
{
    int dfd = obj_dirfd(s, sha256, 0);
    if (dfd < 0 && errno == ENOENT) return 0;
    if (dfd < 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/objects/%.2s", s->root, sha256);
        struct stat st;
        int lnk = lstat(dir, &st) == 0 && S_ISLNK(st.st_mode);
        prep_diags_add(d, dir, 0, 0, lnk ? "symlink" : "not-regular", "store directory is %s, not a directory",
                       lnk ? "a symbolic link" : "not a directory");
        return -1;
    }
    struct stat st;
    if (fstatat(dfd, sha256 + 2, &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
    int r = 1;
    char p[PATH_MAX];
    if (S_ISLNK(st.st_mode)) {
        prep_cut_object_path(s->root, sha256, p, sizeof p);
        prep_diags_add(d, p, 0, 0, "symlink", "object of %s is a symbolic link in the store", label);
        r = -1;
    } else if (!S_ISREG(st.st_mode)) {
        prep_cut_object_path(s->root, sha256, p, sizeof p);
        prep_diags_add(d, p, 0, 0, "not-regular", "object of %s is not a regular file", label);
        r = -1;
    } else if ((uint64_t)st.st_size != size) {
        prep_cut_object_path(s->root, sha256, p, sizeof p);
        prep_diags_add(d, p, 0, 0, "size-mismatch", "object of %s in the store is %lld bytes; manifest says %llu", label,
                       (long long)st.st_size, (unsigned long long)size);
        r = -1;
    }
    return r;
}

/* The objects a cut has checked or written so far, by hash (each string borrowed from the
 * cut's files): a part that several files share is put once. The stamp is in every page,
 * and a page and its embedded twin carry the same body: without this a busy national cut
 * wrote ~7,000 of its ~31,000 objects twice. Open addressing, keys unique. */
int cut_sha_set_add(cut_sha_set *s, const char *h)
{
    if (s->n + 1 > s->cap / 2) {
        size_t nc = s->cap ? s->cap * 2 : 4096;
        const char **nv = calloc(nc, sizeof *nv);
        if (!nv) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->v[i]) continue;
            size_t j = (size_t)prep_fnv1a(PREP_FNV1A_INIT, s->v[i], 16) & (nc - 1);
            while (nv[j]) j = (j + 1) & (nc - 1);
            nv[j] = s->v[i];
        }
        free(s->v);
        s->v = nv;
        s->cap = nc;
    }
    size_t j = (size_t)prep_fnv1a(PREP_FNV1A_INIT, h, 16) & (s->cap - 1);
    for (; s->v[j]; j = (j + 1) & (s->cap - 1))
        if (!memcmp(s->v[j], h, 64)) return 1;
    s->v[j] = h;
    s->n++;
    return 0;
}

prep_err prep_cut_file_read(const char *store, const prep_cut_entry *en, uint64_t max, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (en->size > max) return PREP_ERR_LIMIT;
    char *buf = malloc(en->size ? (size_t)en->size : 1);
    if (!buf) return PREP_ERR_NOMEM;
    size_t off = 0;
    prep_err e = PREP_OK;
    for (size_t k = 0; k < cut_entry_nobj(en) && !e; k++) {
        char path[PATH_MAX], *part = NULL;
        size_t n = 0;
        uint64_t want = cut_entry_obj_size(en, k);
        if (prep_cut_object_path(store, cut_entry_obj_sha(en, k), path, sizeof path) ||
            prep_read_file(path, want + 1, &part, &n) || n != want || off + n > en->size)
            e = PREP_ERR_VERIFY;
        else
            memcpy(buf + off, part, n);
        off += n;
        free(part);
    }
    char sha[65];
    if (!e && off == en->size) prep_sha256_hex(buf, off, sha);
    if (!e && (off != en->size || strcmp(sha, en->sha256) != 0)) e = PREP_ERR_VERIFY;
    if (e) {
        free(buf);
        return e;
    }
    *data = buf;
    *len = off;
    return PREP_OK;
}

/* prep_cut_store_lacks's objects, checked on every core: each its state once checked. */
typedef struct lacks_item {
    const char *sha, *path; /* borrowed from the manifest */
    uint64_t size;
    int8_t state; /* LACKS_* */
} lacks_item;

enum {
    LACKS_WHOLE = 1,
    LACKS_ABSENT = 0,
    LACKS_DAMAGED = -1, /* another kind of file, another size, other bytes, or unreadable (EIO): moved aside */
    LACKS_UNCHECKED = -2 /* could not be looked at (out of descriptors, objects/aa not a directory): never moved */
};

typedef struct lacks_job {
    lacks_item *v;
    const int *dfd;    /* objects/aa/ opened for each aa before the threads start, or -1 and */
    const int *dfd_er; /* the errno of that open (ENOENT: no such directory, so absent) */
    int hash;
} lacks_job;

/* The state of object x: its file through dfd, its bytes hashed when j->hash. */
static int8_t lacks_check(const lacks_job *j, const lacks_item *x)
{
    int aa = obj_index(x->sha), dfd = j->dfd[aa], fd = -1;
    struct stat st;
    if (dfd < 0) return j->dfd_er[aa] == ENOENT ? LACKS_ABSENT : LACKS_UNCHECKED;
    if (fstatat(dfd, x->sha + 2, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? LACKS_ABSENT : LACKS_UNCHECKED;
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != x->size) return LACKS_DAMAGED;
    if (!j->hash) return LACKS_WHOLE;
    do fd = openat(dfd, x->sha + 2, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return LACKS_UNCHECKED;
    char hex[65];
    uint64_t got = 0;
    int er = cut_fd_sha256(fd, x->size, hex, &got);
    close(fd);
    if (er) return er == EIO ? LACKS_DAMAGED : LACKS_UNCHECKED;
    return got == x->size && !strcmp(hex, x->sha) ? LACKS_WHOLE : LACKS_DAMAGED;
}

static void lacks_worker(void *arg, prep_par *p)
{
    const lacks_job *j = arg;
    size_t i0, i1;
    while (prep_par_next(p, &i0, &i1))
        for (size_t i = i0; i < i1; i++) j->v[i].state = lacks_check(j, &j->v[i]);
}

int cut_object_quarantine(cut_store *s, const char *sha256)
{
    char dir[PATH_MAX], to[PATH_MAX + 96];
    int n = snprintf(dir, sizeof dir, "%s/" PREP_CUT_DAMAGED_DIR, s->root);
    if (n < 0 || (size_t)n >= sizeof dir) return -1;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return -1;
    int dfd = obj_dirfd(s, sha256, 0);
    if (dfd < 0) return -1;
    long long now = (long long)time(NULL);
    for (int k = 0; k < 100; k++) {
        if (k) snprintf(to, sizeof to, "%s/%s.%lld.%d", dir, sha256, now, k);
        else snprintf(to, sizeof to, "%s/%s.%lld", dir, sha256, now);
        if (renameat2(dfd, sha256 + 2, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
        if (errno != EEXIST) return -1;
    }
    return -1;
}

long prep_cut_store_lacks(const char *store, const prep_cut_manifest *m, int repair, const char **first)
{
    *first = NULL;
    cut_store s = {.lock_fd = -1};
    if (cut_store_open(&s, store, 0, NULL)) return -1;
    cut_sha_set seen = {0};
    long bad = 0;
    size_t n = 0, cap = 0;
    lacks_item *v = NULL;
    for (size_t i = 0; i < m->n; i++) {
        const prep_cut_entry *en = &m->entries[i];
        for (size_t k = 0; k < cut_entry_nobj(en); k++) {
            const char *sha = cut_entry_obj_sha(en, k);
            int dup = cut_sha_set_add(&seen, sha);
            if (dup > 0) continue;
            if (dup < 0) { /* out of memory: said lacking, so nothing is trusted */
                if (!bad++) *first = en->path;
                continue;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 4096;
                v = prep_xrealloc(v, cap * sizeof *v);
            }
            v[n++] = (lacks_item){sha, en->path, cut_entry_obj_size(en, k), 0};
        }
    }
    int dfd[256], dfd_er[256];
    for (int aa = 0; aa < 256; aa++) {
        char sha[3] = {"0123456789abcdef"[aa >> 4], "0123456789abcdef"[aa & 15], 0};
        errno = 0;
        dfd[aa] = obj_dirfd(&s, sha, 0);
        dfd_er[aa] = dfd[aa] < 0 ? errno : 0;
    }
    lacks_job j = {.v = v, .dfd = dfd, .dfd_er = dfd_er, .hash = repair};
    /* a national active cut: ~500,000 objects, ~2 GB read and hashed when repair */
    prep_par_run(repair ? prep_par_cores(CUT_STAGE_THREADS) : 1, n, 256, lacks_worker, &j);
    for (size_t i = 0; i < n; i++) {
        const lacks_item *x = &v[i];
        if (x->state == LACKS_WHOLE) continue;
        if (!bad++) *first = x->path;
        if (x->state != LACKS_DAMAGED || !repair) continue;
        char p[PATH_MAX];
        prep_cut_object_path(store, x->sha, p, sizeof p);
        if (cut_object_quarantine(&s, x->sha) == 0)
            cut_store_log(s.root, PREP_LOG_ERROR,
                          "object %s of %s (cut %llu) was damaged (another size or other bytes than its name's "
                          "SHA-256): moved to damaged/, the next cut stores it again",
                          x->sha, x->path, (unsigned long long)m->meta.seq);
        else
            prep_log(PREP_LOG_ERROR, "%s: damaged object of %s (cut %llu) cannot be moved aside: %s", p, x->path,
                     (unsigned long long)m->meta.seq, strerror(errno));
    }
    free(v);
    free(seen.v);
    cut_store_close(&s);
    return bad;
}

int64_t prep_cut_store_changed(const char *store, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    int n = snprintf(p, sizeof p, "%s/%s", store, name);
    if (n < 0 || (size_t)n >= sizeof p || stat(p, &st) != 0) return 0;
    return (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

long prep_cut_store_repair_active(const char *store, uint64_t *seq, char *first, size_t firstsz)
{
    prep_cut_manifest m;
    prep_diags q;
    prep_diags_init(&q);
    long bad = -1;
    if (prep_cut_load(store, 0, &m, &q) == PREP_OK) {
        const char *f = NULL;
        bad = prep_cut_store_lacks(store, &m, 1, &f);
        *seq = m.meta.seq;
        snprintf(first, firstsz, "%s", f ? f : "");
        prep_cut_manifest_free(&m);
    }
    prep_diags_free(&q);
    return bad;
}

/* len bytes of object sha256 at off into buf: 0, or -1 (errno) when they cannot be read whole. */
static int object_pread(cut_store *s, const char *sha256, void *buf, size_t len, uint64_t off)
{
    int dfd = obj_dirfd(s, sha256, 0), fd = -1;
    if (dfd >= 0) do fd = openat(dfd, sha256 + 2, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        while (fd < 0 && errno == EINTR);
    if (fd < 0) return -1;
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    int er = errno;
    close(fd);
    errno = er;
    return got == len ? 0 : -1;
}

int cut_entry_tail(cut_store *s, const prep_cut_entry *e, unsigned char tail[], size_t *n)
{
    unsigned char b[CUT_END_TAIL];
    size_t have = 0;
    for (size_t k = cut_entry_nobj(e); k-- > 0 && have < CUT_END_TAIL;) {
        uint64_t size = cut_entry_obj_size(e, k);
        size_t want = size < CUT_END_TAIL - have ? (size_t)size : CUT_END_TAIL - have;
        if (want && object_pread(s, cut_entry_obj_sha(e, k), b + CUT_END_TAIL - have - want, want, size - want))
            return -1;
        have += want;
    }
    memcpy(tail, b + CUT_END_TAIL - have, have);
    *n = have;
    return 0;
}

int cut_object_read(cut_store *s, const char *sha256, void *buf, size_t len)
{
    int dfd = obj_dirfd(s, sha256, 0), fd = -1;
    /* O_NONBLOCK: a FIFO put in the object's place reads as empty instead of waiting */
    if (dfd >= 0) do fd = openat(dfd, sha256 + 2, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        while (fd < 0 && errno == EINTR);
    if (fd < 0) return -1;
    size_t got = 0;
    ssize_t r;
    for (;;) { /* len + 1 asked: a byte more than len proves it longer */
        size_t want = len + 1 - got;
        r = read(fd, (char *)buf + got, want);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
        /* a regular file reads short only at its end: no second read to see the end (a
         * busy national cut reads ~15,000 stored parts back) */
        if (got > len || (size_t)r < want) break;
    }
    int er = r < 0 ? errno : 0;
    close(fd);
    errno = er;
    return r >= 0 && got == len ? 0 : -1;
}

static ssize_t fd_read(void *ctx, void *buf, size_t n, prep_diags *d, const char *label)
{
    return cut_read(*(int *)ctx, buf, n, d, label);
}

/* Copies at most size+1 bytes from rd into a new temporary object while hashing them: the
 * object's bytes, checked against the declared size (not yet against sha256). On success
 * the file is open (*out_fd), numbered *n, and got holds its SHA-256. */
static prep_err object_copy(cut_store *s, cut_read_fn rd, void *ctx, const char *label, uint64_t size, int *out_fd,
                            unsigned *n, char got[65], prep_diags *d)
{
    int out = tmp_create(s, 0644, n);
    if (out < 0) {
        prep_diags_add(d, label, 0, 0, "io", "cannot create a temporary object: %s", strerror(errno));
        return PREP_ERR_IO;
    }
    cut_sha256 h;
    if (cut_sha256_init(&h)) {
        close(out);
        tmp_unlink(s, *n);
        return PREP_ERR_NOMEM;
    }
    char buf[1 << 16];
    uint64_t total = 0;
    prep_err e = PREP_OK;
    for (;;) {
        /* Read at most size+1 bytes: one byte more than declared proves "endless data". */
        uint64_t want = size + 1 - total;
        size_t chunk = want < sizeof buf ? (size_t)want : sizeof buf;
        ssize_t r = rd(ctx, buf, chunk, d, label);
        if (r < 0) {
            e = r == -2 ? PREP_ERR_VERIFY : PREP_ERR_IO;
            break;
        }
        if (r == 0) break;
        total += (uint64_t)r;
        if (total > size) {
            prep_diags_add(d, label, 0, 0, "oversize", "more than the %llu bytes the manifest declares",
                           (unsigned long long)size);
            e = PREP_ERR_VERIFY;
            break;
        }
        cut_sha256_update(&h, buf, (size_t)r);
        if (cut_write_all(out, buf, (size_t)r, label) != 0) {
            prep_diags_add(d, label, 0, 0, "io", "cannot write a temporary object: %s", strerror(errno));
            e = PREP_ERR_IO;
            break;
        }
    }
    cut_sha256_final(&h, got);
    if (!e && total < size) {
        prep_diags_add(d, label, 0, 0, "truncated", "%llu bytes; the manifest declares %llu",
                       (unsigned long long)total, (unsigned long long)size);
        e = PREP_ERR_VERIFY;
    }
    if (e) {
        close(out);
        tmp_unlink(s, *n);
        return e;
    }
    *out_fd = out;
    return PREP_OK;
}

/* The end of a copied object: its hash checked, mode 0444, closed (fsync'd when sync). */
static prep_err object_close(cut_store *s, int fd, const char *got, const char *sha256, const char *label, int sync,
                             prep_diags *d)
{
    prep_err e = PREP_OK;
    if (strcmp(got, sha256) != 0) {
        prep_diags_add(d, label, 0, 0, "hash-mismatch", "SHA-256 is %s; manifest says %s", got, sha256);
        e = PREP_ERR_VERIFY;
    } else if (fchmod(fd, 0444) != 0 || (sync && cut_fsync(fd, label) != 0)) {
        prep_diags_add(d, label, 0, 0, "io", "cannot store object %s: %s%s", sha256, strerror(errno),
                       enospc_hint(errno));
        e = PREP_ERR_IO;
    }
    if (close(fd) != 0 && !e) {
        prep_diags_add(d, label, 0, 0, "io", "cannot store object %s: %s%s", sha256, strerror(errno),
                       enospc_hint(errno));
        e = PREP_ERR_IO;
    }
    return e;
}

prep_err cut_object_put_src(cut_store *s, cut_read_fn rd, void *ctx, const char *label, uint64_t size,
                            const char *sha256, unsigned char dirty[256], prep_diags *d)
{
    int out;
    unsigned n;
    char got[65];
    prep_err e = object_copy(s, rd, ctx, label, size, &out, &n, got, d);
    if (e) return e; /* object_copy removed its temporary */
    e = object_close(s, out, got, sha256, label, 1, d);
    if (!e && tmp_install(s, n, sha256, 0, dirty) != 0) {
        prep_diags_add(d, label, 0, 0, "io", "cannot store object %s: %s%s", sha256, strerror(errno),
                       enospc_hint(errno));
        e = PREP_ERR_IO;
    }
    if (e) tmp_unlink(s, n);
    return e;
}

prep_err cut_object_put_fd(cut_store *s, int fd, const char *label, uint64_t size, const char *sha256,
                           unsigned char dirty[256], prep_diags *d)
{
    return cut_object_put_src(s, fd_read, &fd, label, size, sha256, dirty, d);
}

/* Room for one more entry in l. */
static prep_err stage_room(cut_stage_list *l)
{
    if (l->n < l->cap) return PREP_OK;
    size_t nc = l->cap ? l->cap * 2 : 1024;
    cut_staged *nv = realloc(l->v, nc * sizeof *nv);
    if (!nv) return PREP_ERR_NOMEM;
    l->v = nv;
    l->cap = nc;
    return PREP_OK;
}

/* Writes p (n bytes) as temporary object k: 0, or errno (the temporary removed). */
static int stage_write(cut_store *s, unsigned k, const void *p, size_t n, const char *sha256)
{
    int out = tmp_create_at(s, 0444, k);
    int ok = out >= 0 && cut_write_all(out, p, n, sha256) == 0, er = errno;
    if (out >= 0 && close(out) != 0 && ok) {
        ok = 0;
        er = errno;
    }
    if (ok) return 0;
    if (out >= 0) tmp_unlink(s, k);
    return er ? er : EIO;
}

static void stage_add(cut_stage_list *l, unsigned k, const char *sha256, const char *label, size_t n)
{
    l->v[l->n].tmp = k;
    memcpy(l->v[l->n].sha256, sha256, 65);
    l->v[l->n].unasked = label; /* NULL: the caller asked the store */
    l->v[l->n].size = n;
    l->n++;
}

static prep_err stage_failed(cut_store *s, const char *sha256, int er, prep_diags *d)
{
    prep_diags_add(d, s->root, 0, 0, "io", "cannot write a temporary object in %s/tmp (object %.16s...): %s", s->root,
                   sha256, strerror(er));
    return PREP_ERR_IO;
}

prep_err cut_stage_mem(cut_store *s, cut_stage_list *l, const void *p, size_t n, const char *sha256,
                       const char *label, prep_diags *d)
{
    if (stage_room(l)) return PREP_ERR_NOMEM;
    unsigned k = store_dirs(s)->next++;
    int er = stage_write(s, k, p, n, sha256);
    if (er) return stage_failed(s, sha256, er, d);
    stage_add(l, k, sha256, label, n);
    return PREP_OK;
}

/* cut_stage_mem_many's shared state: job i is temporary base + i; done[i] once written. */
typedef struct stage_many {
    cut_store *s;
    const cut_stage_job *v;
    size_t n;
    unsigned base;
    uint8_t *done;
    _Atomic int failed; /* errno of the first failure, else 0 */
    _Atomic size_t failed_at;
} stage_many;

static void stage_worker(void *arg, prep_par *p)
{
    stage_many *m = arg;
    size_t i0, i1;
    while (prep_par_next(p, &i0, &i1)) {
        for (size_t i = i0; i < i1; i++) {
            int er = stage_write(m->s, m->base + (unsigned)i, m->v[i].p, m->v[i].n, m->v[i].sha256);
            if (er) {
                int none = 0;
                if (atomic_compare_exchange_strong(&m->failed, &none, er)) atomic_store(&m->failed_at, i);
                prep_par_stop(p);
                return;
            }
            m->done[i] = 1;
        }
    }
}

prep_err cut_stage_mem_many(cut_store *s, cut_stage_list *l, const cut_stage_job *v, size_t n, prep_diags *d)
{
    long nt = prep_par_cores(CUT_STAGE_THREADS);
    if (n < CUT_STAGE_SPREAD || nt < 2 || g_hook || tmp_dirfd(s) < 0) {
        for (size_t i = 0; i < n; i++) {
            prep_err e = cut_stage_mem(s, l, v[i].p, v[i].n, v[i].sha256, v[i].label, d);
            if (e) return e;
        }
        return PREP_OK;
    }
    if (l->cap - l->n < n) {
        cut_staged *nv = realloc(l->v, (l->n + n) * sizeof *nv);
        if (!nv) return PREP_ERR_NOMEM;
        l->v = nv;
        l->cap = l->n + n;
    }
    struct cut_dirs *t = store_dirs(s);
    stage_many m = {.s = s, .v = v, .n = n, .base = t->next, .done = calloc(n, 1)};
    if (!m.done) return PREP_ERR_NOMEM;
    t->next += (unsigned)n;
    prep_par_run(nt, n, 64, stage_worker, &m);
    for (size_t i = 0; i < n; i++)
        if (m.done[i]) stage_add(l, m.base + (unsigned)i, v[i].sha256, v[i].label, v[i].n);
    free(m.done);
    int er = atomic_load(&m.failed);
    return er ? stage_failed(s, v[atomic_load(&m.failed_at)].sha256, er, d) : PREP_OK;
}

prep_err cut_stage_src(cut_store *s, cut_stage_list *l, cut_read_fn rd, void *ctx, const char *label, uint64_t size,
                       const char *sha256, prep_diags *d)
{
    if (stage_room(l)) return PREP_ERR_NOMEM;
    int out;
    unsigned n;
    char got[65];
    prep_err e = object_copy(s, rd, ctx, label, size, &out, &n, got, d);
    if (e) return e; /* object_copy removed its temporary */
    e = object_close(s, out, got, sha256, label, 0, d);
    if (e) {
        tmp_unlink(s, n);
        return e;
    }
    l->v[l->n].tmp = n;
    memcpy(l->v[l->n].sha256, sha256, 65);
    l->v[l->n].unasked = NULL;
    l->v[l->n].size = size;
    l->n++;
    return PREP_OK;
}

prep_err cut_stage_fd(cut_store *s, cut_stage_list *l, int fd, const char *label, uint64_t size, const char *sha256,
                      prep_diags *d)
{
    return cut_stage_src(s, l, fd_read, &fd, label, size, sha256, d);
}

prep_err cut_stage_commit(cut_store *s, cut_stage_list *l, unsigned char dirty[256], prep_err e, prep_diags *d)
{
    if (!e && l->n) e = cut_store_syncfs(s, d);
    for (size_t i = 0; i < l->n; i++) {
        const cut_staged *x = &l->v[i];
        int r = e ? 0 : tmp_install(s, x->tmp, x->sha256, x->unasked != NULL, dirty);
        if (r != 0) { /* the store has it already (r > 0), or the rename failed */
            int er = r > 0 ? ENOENT : errno; /* ENOENT: gone again before the check */
            /* checked like any object the store holds; an objects/aa that is not a real
             * directory is named and refused as when the store is asked first */
            int have = x->unasked ? cut_object_check(s, x->sha256, x->size, x->unasked, d) : 0;
            if (have < 0) {
                e = PREP_ERR_VERIFY;
            } else if (r < 0 || !have) {
                prep_diags_add(d, s->root, 0, 0, "io", "cannot store object %s%s%s: %s%s", x->sha256,
                               x->unasked ? " of " : "", x->unasked ? x->unasked : "", strerror(er),
                               enospc_hint(er));
                e = PREP_ERR_IO;
            }
            tmp_unlink(s, x->tmp);
            continue;
        }
        if (e) tmp_unlink(s, x->tmp);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
    return e;
}

prep_err cut_syncfs(const char *dir, const char *what, prep_diags *d)
{
    int fd = cut_hook("syncfs", dir) != 0 ? -1 : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = fd < 0 ? -1 : syncfs(fd);
    int er = errno;
    if (fd >= 0) close(fd);
    if (r != 0) {
        prep_diags_add(d, dir, 0, 0, "io", "cannot sync %s to disk: %s", what, strerror(er));
        errno = er;
        return PREP_ERR_IO;
    }
    return PREP_OK;
}

prep_err cut_store_syncfs(cut_store *s, prep_diags *d)
{
    return cut_syncfs(s->root, "the store", d);
}

prep_err cut_objects_sync(cut_store *s, const unsigned char dirty[256], prep_diags *d)
{
    for (int i = 0; i < 256; i++) {
        if (!dirty[i]) continue;
        char *dir = cut_fmt("%s/objects/%02x", s->root, i);
        int r = cut_fsync_dir(dir);
        if (r) prep_diags_add(d, dir, 0, 0, "io", "cannot fsync: %s", strerror(errno));
        free(dir);
        if (r) return PREP_ERR_IO;
    }
    char *od = cut_join(s->root, "objects");
    int r = cut_fsync_dir(od);
    if (r) prep_diags_add(d, od, 0, 0, "io", "cannot fsync: %s", strerror(errno));
    free(od);
    return r ? PREP_ERR_IO : PREP_OK;
}

/* ---------------------------------------------------------------- cuts/<seq>/ */
static int write_file_new(const char *path, const char *data, size_t len)
{
    int fd = cut_open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0444);
    if (fd < 0) return -1;
    int r = cut_write_all(fd, data, len, path);
    if (!r) r = cut_fsync(fd, path);
    int er = errno;
    if (close(fd) != 0 && !r) {
        r = -1;
        er = errno;
    }
    errno = er;
    return r;
}

static int same_file_bytes(const char *path, const char *data, size_t len)
{
    char *b;
    size_t n;
    if (cut_read_small(path, len + 1, &b, &n, NULL) != PREP_OK) return 0;
    int same = n == len && memcmp(b, data, len) == 0;
    free(b);
    return same;
}

prep_err cut_store_put_cut(cut_store *s, uint64_t seq, const char *manifest, size_t mlen, const char *sig,
                           size_t slen, prep_diags *d)
{
    char *cuts = cut_join(s->root, "cuts");
    char *final = cut_fmt("%s/%llu", cuts, (unsigned long long)seq);
    char *tmpd = cut_fmt("%s/.tmp-%llu-%ld", cuts, (unsigned long long)seq, (long)getpid());
    char *mf = NULL, *sf = NULL, *trash = NULL;
    prep_err e = PREP_OK;
    struct stat st;
    if (lstat(final, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            char *om = cut_join(final, "manifest"), *os = cut_join(final, "manifest.sig");
            int same = same_file_bytes(om, manifest, mlen) && same_file_bytes(os, sig, slen);
            free(om);
            free(os);
            if (same) goto out; /* an earlier, interrupted run already wrote exactly this */
        }
    }
    cut_rm_rf(tmpd);
    if (cut_mkdir(tmpd) != 0) goto io;
    mf = cut_join(tmpd, "manifest");
    sf = cut_join(tmpd, "manifest.sig");
    if (write_file_new(mf, manifest, mlen) != 0 || write_file_new(sf, sig, slen) != 0) goto io;
    if (cut_fsync_dir(tmpd) != 0) goto io;
    if (lstat(final, &st) == 0) {
        /* Never activated (the caller checked seq > active): set it aside, then replace. */
        trash = cut_fmt("%s/.trash-%llu-%ld", cuts, (unsigned long long)seq, (long)getpid());
        cut_rm_rf(trash);
        if (cut_rename(final, trash) != 0) goto io;
    }
    if (cut_rename(tmpd, final) != 0) goto io;
    if (cut_fsync_dir(cuts) != 0) goto io;
    if (trash) cut_rm_rf(trash);
    goto out;
io:
    prep_diags_add(d, final, 0, 0, "io", "cannot write the cut: %s", strerror(errno));
    e = PREP_ERR_IO;
    cut_rm_rf(tmpd);
out:
    free(cuts);
    free(final);
    free(tmpd);
    free(mf);
    free(sf);
    free(trash);
    return e;
}

prep_err cut_store_read_cut(const char *root, uint64_t seq, const prep_cut_limits *lim, prep_cut_manifest *m,
                            char **sig, size_t *siglen, prep_diags *d)
{
    memset(m, 0, sizeof *m);
    prep_cut_limits dl;
    if (!lim) {
        prep_cut_limits_default(&dl);
        lim = &dl;
    }
    char *dir = cut_fmt("%s/cuts/%llu", root, (unsigned long long)seq);
    char *mp = cut_join(dir, "manifest");
    char *data = NULL;
    size_t len = 0;
    prep_err e = PREP_OK;
    struct stat st;
    if (lstat(dir, &st) != 0) {
        prep_diags_add(d, dir, 0, 0, "not-found", "cut %llu is not in the store", (unsigned long long)seq);
        e = PREP_ERR_NOTFOUND;
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        prep_diags_add(d, dir, 0, 0, S_ISLNK(st.st_mode) ? "symlink" : "not-regular", "cut directory is %s",
                       S_ISLNK(st.st_mode) ? "a symbolic link" : "not a directory");
        e = PREP_ERR_VERIFY;
        goto out;
    }
    const char *why = "";
    e = cut_read_small(mp, (size_t)lim->max_manifest_bytes, &data, &len, &why);
    if (e) {
        if (e == PREP_ERR_INVALID) {
            prep_diags_add(d, mp, 0, 0, strstr(why, "symbolic") ? "symlink" : "not-regular", "manifest %s", why);
            e = PREP_ERR_VERIFY;
        } else if (e == PREP_ERR_LIMIT) {
            prep_diags_add(d, mp, 0, 0, "limit", "manifest is larger than %llu bytes",
                           (unsigned long long)lim->max_manifest_bytes);
        } else {
            prep_diags_add(d, mp, 0, 0, e == PREP_ERR_NOTFOUND ? "not-found" : "io", "cannot read the manifest");
        }
        goto out;
    }
    e = prep_cut_manifest_parse(data, len, lim, mp, m, d);
    if (e) goto out;
    if (m->meta.seq != seq) {
        prep_diags_add(d, mp, 0, 0, "manifest-field", "manifest says sequence %llu but is stored as cut %llu",
                       (unsigned long long)m->meta.seq, (unsigned long long)seq);
        prep_cut_manifest_free(m);
        e = PREP_ERR_VERIFY;
        goto out;
    }
    if (sig) {
        char *sp = cut_join(dir, "manifest.sig");
        e = cut_read_small(sp, 4096, sig, siglen, &why);
        if (e) {
            prep_diags_add(d, sp, 0, 0, e == PREP_ERR_INVALID ? "symlink" : "not-found", "cannot read the signature");
            if (e == PREP_ERR_INVALID) e = PREP_ERR_VERIFY;
            prep_cut_manifest_free(m);
        }
        free(sp);
    }
out:
    free(data);
    free(dir);
    free(mp);
    return e;
}

int cut_parse_seq_name(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 12 || s[0] == '0') return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* 1 when the store's log (log, or log.1 after its rotation) says cut seq was activated. */
static int log_says_activated(const char *root, uint64_t seq)
{
    char want[64];
    snprintf(want, sizeof want, " cut %llu made and activated:", (unsigned long long)seq);
    static const char *const names[] = {"log", "log.1"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(names); i++) {
        char *lp = cut_join(root, names[i]), *text = NULL;
        size_t len = 0;
        int found = prep_read_file(lp, 64u << 20, &text, &len) == PREP_OK && memmem(text, len, want, strlen(want));
        free(lp);
        free(text);
        if (found) return 1;
    }
    return 0;
}

int cut_store_pointer_lost(const char *root, const char *store, prep_diags *d)
{
    uint64_t *seqs = NULL, top = 0;
    size_t ns = 0;
    cut_store_list(root, &seqs, &ns, NULL); /* no cuts/ at all: none */
    if (ns) top = seqs[ns - 1];
    free(seqs);
    if (!top || (top == 1 && !log_says_activated(root, 1))) return 0; /* new, or a first cut never activated */
    prep_diags_add(d, store, 0, 0, "active-missing",
                   "the store holds cuts up to %llu but no active pointer (%s/active was removed or lost): a cut made "
                   "now would sign sequence 1 again beside the chain already published, so prep cut refuses to. "
                   "Write the pointer back (docs/formats/cut.md, \"The store\": five lines naming the last good cut and its "
                   "manifest's SHA-256; prep verify --store checks the chain), or use a new store",
                   (unsigned long long)top, store);
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

prep_err cut_store_list(const char *root, uint64_t **out, size_t *n, prep_diags *d)
{
    *out = NULL;
    *n = 0;
    char *cuts = cut_join(root, "cuts");
    DIR *dp = opendir(cuts);
    if (!dp) {
        prep_diags_add(d, cuts, 0, 0, "io", "cannot list: %s", strerror(errno));
        free(cuts);
        return PREP_ERR_IO;
    }
    size_t cap = 0;
    struct dirent *e;
    prep_err err = PREP_OK;
    while ((e = readdir(dp))) {
        uint64_t v;
        if (cut_parse_seq_name(e->d_name, &v)) continue;
        if (*n == cap) {
            if (cap >= PREP_CUT_INCOMING_MAX) {
                prep_diags_add(d, cuts, 0, 0, "limit", "more than %d cuts", PREP_CUT_INCOMING_MAX);
                err = PREP_ERR_LIMIT;
                break;
            }
            cap = cap ? cap * 2 : 64;
            *out = prep_xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = v;
    }
    closedir(dp);
    free(cuts);
    if (*n) qsort(*out, *n, sizeof **out, cmp_u64);
    return err;
}

prep_err prep_cut_load(const char *store, uint64_t seq, prep_cut_manifest *m, prep_diags *d)
{
    memset(m, 0, sizeof *m);
    prep_cut_active a;
    prep_err e = cut_active_read_path(store, &a, d);
    if (e && !(e == PREP_ERR_NOTFOUND && seq)) {
        if (e == PREP_ERR_NOTFOUND) prep_diags_add(d, store, 0, 0, "not-found", "the store has no active cut");
        return e;
    }
    int is_active = e == PREP_OK && (seq == 0 || seq == a.seq);
    if (seq == 0) seq = a.seq;
    e = cut_store_read_cut(store, seq, NULL, m, NULL, NULL, d);
    if (e) return e;
    if (is_active && strcmp(m->sha256, a.manifest_sha256) != 0) {
        prep_diags_add(d, store, 0, 0, "hash-mismatch", "active cut %llu's manifest is %s; the pointer says %s",
                       (unsigned long long)seq, m->sha256, a.manifest_sha256);
        prep_cut_manifest_free(m);
        return PREP_ERR_VERIFY;
    }
    return PREP_OK;
}

/* ---------------------------------------------------------------- composed files */
int cut_entry_assemble_check(const char *root, const prep_cut_entry *e, const char *label, uint64_t *bytes,
                             prep_diags *d)
{
    if (bytes) *bytes = 0;
    if (!e->n_parts) return 0;
    cut_sha256 h;
    if (cut_sha256_init(&h)) return -1;
    uint64_t total = 0;
    char buf[65536];
    for (size_t k = 0; k < e->n_parts; k++) {
        char *p = cut_fmt("%s/objects/%.2s/%s", root, e->parts[k].sha256, e->parts[k].sha256 + 2);
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            prep_diags_add(d, p, 0, 0, "missing-object", "part %zu of '%s' (%s) cannot be read: %s", k + 1, label,
                     e->parts[k].sha256, strerror(errno));
            free(p);
            char junk[65];
            cut_sha256_final(&h, junk);
            return -1;
        }
        free(p);
        uint64_t got = 0;
        ssize_t n;
        /* At most the part's declared size + 1 byte: a grown object cannot make us read forever. */
        while (got <= e->parts[k].size &&
               (n = read(fd, buf, (size_t)(e->parts[k].size + 1 - got < sizeof buf ? e->parts[k].size + 1 - got
                                                                                        : sizeof buf))) > 0) {
            cut_sha256_update(&h, buf, (size_t)n);
            got += (uint64_t)n;
        }
        close(fd);
        total += got;
    }
    char got[65];
    cut_sha256_final(&h, got);
    if (bytes) *bytes = total;
    if (total != e->size || strcmp(got, e->sha256) != 0) {
        prep_diags_add(d, label, 0, 0, "parts-mismatch",
                 "its %zu parts assemble to %llu bytes with SHA-256 %s; the manifest says %llu bytes, %s", e->n_parts,
                 (unsigned long long)total, got, (unsigned long long)e->size, e->sha256);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- retention (GC)
 * prep_cut_store_gc: the objects of cuts older than the keep newest up to the active one
 * are removed, their manifests and signatures stay (the chain stays verifiable, and a
 * manifest patch's base is the active manifest). A cut whose objects may be gone is
 * marked first with cuts/<seq>/pruned (written atomically and fsynced before any object
 * is removed), so prep verify checks its signature and chain but not its objects. An
 * object is removed only when no unmarked cut (the kept ones, the active one, and any
 * finished but not yet activated cut above it) names it, so nothing the active cut or
 * the chain needs can go; a kill at any point leaves extra objects the next GC removes.
 * Test hook: PREP_STORE_GC_KILL_AFTER=N raises SIGKILL before the (N+1)th mark or removal. */
static long g_sgc_kill = -2;

static void store_gc_step(void)
{
    if (g_sgc_kill == -2) {
        const char *v = getenv("PREP_STORE_GC_KILL_AFTER");
        g_sgc_kill = v && *v ? strtol(v, NULL, 10) : -1;
    }
    if (g_sgc_kill < 0) return;
    if (g_sgc_kill-- == 0) raise(SIGKILL);
}

int cut_store_is_pruned(const char *root, uint64_t seq)
{
    char *p = cut_fmt("%s/cuts/%llu/%s", root, (unsigned long long)seq, CUT_PRUNED_NAME);
    struct stat st;
    int r = lstat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return r;
}

int prep_cut_store_pruned(const char *store, uint64_t seq) { return cut_store_is_pruned(store, seq); }

static int cmp_sha64(const void *a, const void *b) { return memcmp(a, b, 64); }

static void store_gc_diag(prep_diags *d, const char *path, const char *verb)
{
    int er = errno;
    if (er == ENOSPC)
        prep_diags_add(d, path, 0, 0, "io", "no space left on device (or no free inode) while %s %s", verb, path);
    else
        prep_diags_add(d, path, 0, 0, "io", "%s while %s %s", strerror(er), verb, path);
}

prep_err prep_cut_store_gc(const char *root, unsigned keep, prep_cut_gc_result *r, prep_diags *d)
{
    memset(r, 0, sizeof *r);
    if (keep < 1) {
        prep_diags_add(d, root, 0, 0, "usage", "the store keeps the objects of at least the active cut (keep >= 1)");
        return PREP_ERR_USAGE;
    }
    cut_store s;
    prep_err e = cut_store_open(&s, root, 0, d);
    if (e) return e;
    prep_cut_active a;
    uint64_t *seqs = NULL;
    size_t ns = 0;
    char(*keepv)[64] = NULL;
    size_t nk = 0, capk = 0;
    e = cut_active_read_path(root, &a, d);
    if (e == PREP_ERR_NOTFOUND) { /* nothing active: nothing to collect */
        e = PREP_OK;
        goto out;
    }
    if (e || (e = cut_store_list(root, &seqs, &ns, d))) goto out;
    uint64_t cutoff = a.seq > keep ? a.seq - keep + 1 : 1;
    /* 1. mark the cuts below the window (before any object goes) */
    for (size_t i = 0; i < ns && !e; i++) {
        if (seqs[i] >= cutoff || cut_store_is_pruned(root, seqs[i])) continue;
        char *p = cut_fmt("%s/cuts/%llu/%s", root, (unsigned long long)seqs[i], CUT_PRUNED_NAME);
        static const char note[] = "objects removed by the store's retention (prep_cut_store_gc); "
                                   "manifest and signature kept\n";
        store_gc_step();
        /* On a full disk the note cannot be written, yet the retention is what frees the
         * space: an empty mark needs an inode but no data block. */
        int w = cut_write_atomic(p, note, sizeof note - 1, 0444);
        if (w != 0 && errno == ENOSPC) w = cut_write_atomic(p, "", 0, 0444);
        if (w != 0) {
            store_gc_diag(d, p, "writing");
            e = PREP_ERR_IO;
        } else {
            r->cuts_pruned++;
        }
        free(p);
    }
    if (e) goto out;
    /* 2. the objects every unmarked cut names */
    for (size_t i = 0; i < ns && !e; i++) {
        if (seqs[i] < cutoff && cut_store_is_pruned(root, seqs[i])) continue;
        prep_cut_manifest m;
        if ((e = cut_store_read_cut(root, seqs[i], NULL, &m, NULL, NULL, d))) break;
        for (size_t k = 0; k < m.n; k++)
            for (size_t j = 0; j < cut_entry_nobj(&m.entries[k]); j++) {
                if (nk == capk) {
                    capk = capk ? capk * 2 : 4096;
                    keepv = prep_xrealloc(keepv, capk * 64);
                }
                memcpy(keepv[nk++], cut_entry_obj_sha(&m.entries[k], j), 64);
            }
        prep_cut_manifest_free(&m);
    }
    if (e) goto out;
    if (nk) qsort(keepv, nk, 64, cmp_sha64);
    /* the institute's cache of compressed forms (wire.c) follows the objects */
    cut_wire_gc(root, (const char(*)[64])keepv, nk, cutoff);
    /* 3. remove every other object */
    for (int aa = 0; aa < 256 && !e; aa++) {
        char *dir = cut_fmt("%s/objects/%02x", root, aa);
        DIR *dp = opendir(dir);
        if (!dp) {
            if (errno != ENOENT) {
                store_gc_diag(d, dir, "reading");
                e = PREP_ERR_IO;
            }
            free(dir);
            continue;
        }
        struct dirent *de;
        int removed = 0;
        while ((de = readdir(dp))) {
            if (strlen(de->d_name) != 62) continue;
            char sha[64];
            snprintf(sha, sizeof sha, "%02x", aa);
            memcpy(sha + 2, de->d_name, 62);
            if (nk && bsearch(sha, keepv, nk, 64, cmp_sha64)) continue;
            struct stat st;
            if (fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
            store_gc_step();
            if (unlinkat(dirfd(dp), de->d_name, 0) != 0) {
                store_gc_diag(d, dir, "removing an object from");
                e = PREP_ERR_IO;
                break;
            }
            removed = 1;
            r->objects_removed++;
            r->bytes_removed += (uint64_t)st.st_size;
        }
        closedir(dp);
        if (removed && cut_fsync_dir(dir) != 0) {
            store_gc_diag(d, dir, "syncing");
            e = PREP_ERR_IO;
        }
        free(dir);
    }
    if (!e && (r->cuts_pruned || r->objects_removed))
        cut_store_log(root, PREP_LOG_INFO, "gc: %zu cuts below %llu pruned to their manifest; %zu objects removed (%llu bytes)",
                      r->cuts_pruned, (unsigned long long)cutoff, r->objects_removed,
                      (unsigned long long)r->bytes_removed);
out:
    free(keepv);
    free(seqs);
    cut_store_close(&s);
    return e;
}

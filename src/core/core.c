/* prep core: errors, memory, buffers, diagnostics, files, strings, numbers, logging. */
#include "prep/core.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *prep_err_str(prep_err e)
{
    switch (e) {
    case PREP_OK: return "ok";
    case PREP_ERR_NOMEM: return "out of memory";
    case PREP_ERR_IO: return "input/output error";
    case PREP_ERR_PARSE: return "parse error";
    case PREP_ERR_INVALID: return "invalid content";
    case PREP_ERR_LIMIT: return "limit exceeded";
    case PREP_ERR_NOTFOUND: return "not found";
    case PREP_ERR_VERIFY: return "verification failed";
    case PREP_ERR_USAGE: return "bad usage";
    }
    return "unknown error";
}

/* ---------------------------------------------------------------- memory */
static void oom(size_t n)
{
    fprintf(stderr, "prep: out of memory allocating %zu bytes\n", n);
    abort();
}

void prep_mem_trim(void) { malloc_trim(0); }

void prep_mem_trim_above(size_t slack)
{
    struct mallinfo2 mi = mallinfo2();
    if (mi.fordblks > slack) malloc_trim(0);
}

void prep_mem_cutter(char **argv)
{
    const char *off = getenv("PREP_MEM_POLICY");
    if (off && !strcmp(off, "0")) return;
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.malloc.hugetlb")) return; /* set: by us before the exec, or by the operator */
    char v[1024];
    int n = t && *t ? snprintf(v, sizeof v, "%s:glibc.malloc.hugetlb=1", t)
                    : snprintf(v, sizeof v, "glibc.malloc.hugetlb=1");
    if (n < 0 || (size_t)n >= sizeof v || setenv("GLIBC_TUNABLES", v, 1) != 0) return;
    execv("/proc/self/exe", argv);
    prep_log(PREP_LOG_WARN, "memory: cannot execute /proc/self/exe again for huge pages: %s; going on with 4 KB pages",
             strerror(errno));
}

void *prep_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *prep_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *prep_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *prep_xstrdup(const char *s) { return prep_xstrndup(s, strlen(s)); }

char *prep_xstrndup(const char *s, size_t n)
{
    char *p = prep_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* ---------------------------------------------------------------- buffers */
void prep_buf_init(prep_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : PREP_BUF_DEFAULT_MAX;
    b->err = PREP_OK;
}

void prep_buf_free(prep_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = PREP_OK;
}

void prep_buf_reset(prep_buf *b)
{
    b->len = 0;
    b->err = PREP_OK;
    if (b->data) b->data[0] = 0;
}

prep_err prep_buf_reserve(prep_buf *b, size_t extra)
{
    if (b->err) return b->err;
    if (!b->max) b->max = PREP_BUF_DEFAULT_MAX;
    if (extra > b->max || b->len > b->max - extra) return b->err = PREP_ERR_LIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return PREP_OK;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    char *p = realloc(b->data, nc);
    if (!p) return b->err = PREP_ERR_NOMEM;
    b->data = p;
    b->cap = nc;
    return PREP_OK;
}

#ifdef PREP_ASSERTS
_Noreturn void prep_assert_fail(const char *cond, const char *file, int line, const char *func)
{
    fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", file, line, func, cond);
    fflush(stderr);
    abort();
}
#endif

prep_err prep_buf_append(prep_buf *b, const void *p, size_t n)
{
    PREP_ASSERT(b && (p || !n));
    prep_err e = prep_buf_reserve(b, n);
    if (e) return e;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return PREP_OK;
}

prep_err prep_buf_puts(prep_buf *b, const char *s) { return prep_buf_append(b, s, strlen(s)); }

prep_err prep_buf_putc(prep_buf *b, char c) { return prep_buf_append(b, &c, 1); }

prep_err prep_buf_vprintf(prep_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (b->err) return b->err;
    if (n < 0) return b->err = PREP_ERR_INVALID;
    if ((size_t)n < sizeof small) return prep_buf_append(b, small, (size_t)n);
    prep_err e = prep_buf_reserve(b, (size_t)n);
    if (e) return e;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return PREP_OK;
}

prep_err prep_buf_printf(prep_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prep_err e = prep_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return e;
}

char *prep_buf_steal(prep_buf *b, size_t *len)
{
    char *p = b->data;
    if (!p) {
        p = prep_xmalloc(1);
        p[0] = 0;
    }
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = PREP_OK;
    return p;
}

/* ---------------------------------------------------------------- diagnostics */
void prep_diags_init(prep_diags *d)
{
    memset(d, 0, sizeof *d);
    d->max_keep = 1000;
}

void prep_diags_free(prep_diags *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].kind);
        free(d->v[i].msg);
    }
    free(d->v);
    size_t keep = d->max_keep;
    memset(d, 0, sizeof *d);
    d->max_keep = keep;
}

void prep_diags_vadd(prep_diags *d, const char *file, long line, long col, const char *kind, const char *fmt,
                     va_list ap)
{
    if (!d) return;
    d->total++;
    size_t max = d->max_keep ? d->max_keep : 1000;
    if (d->n >= max) return;
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        d->v = prep_xrealloc(d->v, nc * sizeof *d->v);
        d->cap = nc;
    }
    prep_diag *g = &d->v[d->n++];
    g->file = prep_xstrdup(file ? file : "-");
    g->line = line;
    g->col = col;
    g->kind = prep_xstrdup(kind ? kind : "error");
    prep_buf b;
    prep_buf_init(&b, 1 << 16);
    if (prep_buf_vprintf(&b, fmt, ap) != PREP_OK) prep_buf_puts(&b, "(message too long)");
    g->msg = prep_buf_steal(&b, NULL);
}

void prep_diags_add(prep_diags *d, const char *file, long line, long col, const char *kind,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prep_diags_vadd(d, file, line, col, kind, fmt, ap);
    va_end(ap);
}

void prep_diags_print(const prep_diags *d, FILE *f, size_t limit)
{
    if (!d) return;
    size_t n = d->n;
    if (limit && limit < n) n = limit;
    for (size_t i = 0; i < n; i++) {
        const prep_diag *g = &d->v[i];
        if (g->line && g->col)
            fprintf(f, "%s:%ld:%ld: %s: %s\n", g->file, g->line, g->col, g->kind, g->msg);
        else if (g->line)
            fprintf(f, "%s:%ld: %s: %s\n", g->file, g->line, g->kind, g->msg);
        else
            fprintf(f, "%s: %s: %s\n", g->file, g->kind, g->msg);
    }
    if (d->total > n) fprintf(f, "... and %zu more\n", d->total - n);
}

const prep_diag *prep_diags_find(const prep_diags *d, const char *kind)
{
    if (!d) return NULL;
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->v[i].kind, kind) == 0) return &d->v[i];
    return NULL;
}

/* ---------------------------------------------------------------- files */
/* The last I/O failure of this thread (core.h, "I/O failures"). */
static _Thread_local struct {
    int err;
    char text[600];
} io_last;

void prep_io_fail(const char *op, const char *path, int err)
{
    io_last.err = err;
    snprintf(io_last.text, sizeof io_last.text, "cannot %s %s: %s", op, path ? path : "-",
             err == ENOSPC ? "no space left on device (ENOSPC)" : strerror(err));
}

const char *prep_io_last(void)
{
    return io_last.text;
}

int prep_io_last_errno(void)
{
    return io_last.err;
}

void prep_io_clear(void)
{
    io_last.err = 0;
    io_last.text[0] = 0;
}

const char *prep_err_text(prep_err e)
{
    return e == PREP_ERR_IO && io_last.text[0] ? io_last.text : prep_err_str(e);
}

prep_err prep_read_file(const char *path, size_t max, char **data, size_t *len)
{
    *data = NULL;
    if (len) *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return PREP_ERR_NOTFOUND;
        prep_io_fail("open", path, errno);
        return PREP_ERR_IO;
    }
    if (!max || max > PREP_BUF_DEFAULT_MAX - 1) max = PREP_BUF_DEFAULT_MAX - 1;
    prep_buf b;
    prep_buf_init(&b, max + 1); /* room to see one byte past the limit */
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        if ((uint64_t)st.st_size > max) {
            close(fd);
            return PREP_ERR_LIMIT;
        }
        if (prep_buf_reserve(&b, (size_t)st.st_size + 1)) {
            close(fd);
            return PREP_ERR_NOMEM;
        }
    }
    prep_err err = PREP_OK;
    for (;;) {
        size_t chunk = b.max - b.len < 65536 ? b.max - b.len : 65536;
        if (chunk == 0) {
            err = PREP_ERR_LIMIT;
            break;
        }
        if ((err = prep_buf_reserve(&b, chunk))) break;
        ssize_t r = read(fd, b.data + b.len, chunk);
        if (r < 0) {
            if (errno == EINTR) continue;
            prep_io_fail("read", path, errno);
            err = PREP_ERR_IO;
            break;
        }
        if (r == 0) break;
        b.len += (size_t)r;
        if (b.len > max) {
            err = PREP_ERR_LIMIT;
            break;
        }
    }
    close(fd);
    if (err) {
        prep_buf_free(&b);
        return err;
    }
    if (b.data) b.data[b.len] = 0;
    *data = prep_buf_steal(&b, len);
    return PREP_OK;
}

prep_err prep_read_file_diag(const char *path, size_t max, const char *what, char **data, size_t *len,
                             prep_diags *d)
{
    prep_err r = prep_read_file(path, max, data, len);
    if (r && d) {
        if (r == PREP_ERR_LIMIT)
            prep_diags_add(d, path, 0, 0, "too-many", "%s: file larger than %zu bytes", what, max);
        else
            prep_diags_add(d, path, 0, 0, "io", "cannot read %s: %s", what,
                           r == PREP_ERR_NOTFOUND ? "no such file" : prep_err_text(r));
    }
    return r;
}

prep_err prep_fsync_dir_of(const char *path)
{
    char *dir = prep_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = 0;
    else if (slash) *slash = 0;
    else strcpy(dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = fd < 0 ? -1 : fsync(fd);
    if (r) prep_io_fail(fd < 0 ? "open the directory" : "fsync the directory", dir, errno);
    if (fd >= 0) close(fd);
    free(dir);
    return r == 0 ? PREP_OK : PREP_ERR_IO;
}

prep_err prep_write_all(int fd, const void *data, size_t len, const char *path)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            prep_io_fail("write", path, w < 0 ? errno : EIO);
            return PREP_ERR_IO;
        }
        p += w;
        len -= (size_t)w;
    }
    return PREP_OK;
}

prep_err prep_write_file_atomic_mode(const char *path, const void *data, size_t len, mode_t mode)
{
    size_t tl = strlen(path) + 32;
    char *tmp = prep_xmalloc(tl);
    snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp); /* a leftover of a killed run: O_EXCL below, so the mode is ours */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        prep_io_fail("create", tmp, errno);
        free(tmp);
        return PREP_ERR_IO;
    }
    prep_err err = PREP_OK;
    if (fchmod(fd, mode) != 0) { /* whatever the umask */
        prep_io_fail("set the mode of", tmp, errno);
        err = PREP_ERR_IO;
    }
    if (!err) err = prep_write_all(fd, data, len, tmp);
    if (!err && fsync(fd) != 0) {
        prep_io_fail("fsync", tmp, errno);
        err = PREP_ERR_IO;
    }
    if (close(fd) != 0 && !err) {
        prep_io_fail("close", tmp, errno);
        err = PREP_ERR_IO;
    }
    if (!err && rename(tmp, path) != 0) {
        prep_io_fail("rename into place", path, errno);
        err = PREP_ERR_IO;
    }
    if (err) {
        int keep = errno;
        unlink(tmp);
        errno = keep; /* the failing call's errno, for callers that name it */
    }
    free(tmp);
    if (!err) err = prep_fsync_dir_of(path);
    return err;
}

prep_err prep_write_file_atomic(const char *path, const void *data, size_t len)
{
    return prep_write_file_atomic_mode(path, data, len, 0644);
}

prep_err prep_append_file(const char *path, const void *data, size_t len, int sync)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        prep_io_fail("open for appending", path, errno);
        return PREP_ERR_IO;
    }
    prep_err err = prep_write_all(fd, data, len, path);
    if (!err && sync && fsync(fd) != 0) {
        prep_io_fail("fsync", path, errno);
        err = PREP_ERR_IO;
    }
    if (close(fd) != 0 && !err) {
        prep_io_fail("close", path, errno);
        err = PREP_ERR_IO;
    }
    return err;
}

prep_err prep_mkdirs(const char *path)
{
    char *p = prep_xstrdup(path);
    size_t n = strlen(p);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] == '/' || p[i] == 0) {
            char c = p[i];
            p[i] = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                prep_io_fail("create the directory", p, errno);
                free(p);
                return PREP_ERR_IO;
            }
            p[i] = c;
        }
    }
    free(p);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        prep_io_fail("use as a directory", path, errno ? errno : ENOTDIR);
        return PREP_ERR_IO;
    }
    return PREP_OK;
}

static int rm_tree_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    if (flag == FTW_DP)
        rmdir(p);
    else
        unlink(p);
    return 0; /* best effort: go on; the result is whether path is gone */
}

int prep_rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    nftw(path, rm_tree_cb, 16, FTW_DEPTH | FTW_PHYS);
    return lstat(path, &st) == 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- strings */
size_t prep_split(char *line, char sep, int quotes, char **fields, size_t *starts, size_t max)
{
    size_t n = 0;
    char *base = line;
    char *p = line;
    for (;;) {
        char *start = p;
        char *w = p;
        if (quotes && *p == '"') {
            p++;
            for (;;) {
                if (*p == 0) break;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            /* text after the closing quote up to the separator is kept verbatim */
            while (*p && *p != sep) *w++ = *p++;
        } else {
            while (*p && *p != sep) *w++ = *p++;
        }
        char end = *p;
        if (n < max) {
            fields[n] = start;
            if (starts) starts[n] = (size_t)(start - base);
        }
        n++;
        *w = 0;
        if (end == 0) break;
        p++;
    }
    return n;
}

int prep_parse_i64(const char *s, int64_t *out)
{
    while (*s == ' ' || *s == '\t') s++;
    int neg = 0;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (*s < '0' || *s > '9') return -1;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s++ - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    if (*s) return -1;
    if (!neg && v > (uint64_t)INT64_MAX) return -1;
    if (neg && v > (uint64_t)INT64_MAX + 1) return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int prep_parse_u32(const char *s, uint32_t *out)
{
    int64_t v;
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '-' || *s == '+') return -1;
    if (prep_parse_i64(s, &v) || v < 0 || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

char *prep_trim(char *s)
{
    char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n')) n--;
    if (p != s) memmove(s, p, n); /* most fields have nothing to trim at their start */
    s[n] = 0;
    return s;
}

int prep_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
        unsigned c = *p++;
        if (c < 0x80) continue;
        size_t k;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) k = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) k = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) k = 3, cp = c & 0x07;
        else return 0;
        if ((size_t)(e - p) < k) return 0;
        for (size_t i = 0; i < k; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += k;
    }
    return 1;
}

char *prep_latin1_to_utf8(const char *s, size_t n, size_t *out_len)
{
    char *o = prep_xmalloc(n * 2 + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) o[j++] = (char)c;
        else {
            o[j++] = (char)(0xC0 | (c >> 6));
            o[j++] = (char)(0x80 | (c & 0x3F));
        }
    }
    o[j] = 0;
    if (out_len) *out_len = j;
    return o;
}

/* Folds the Latin-1 supplement letters that Spanish uses to ASCII. */
static char fold_latin1(uint32_t cp)
{
    static const char map[64] = "AAAAAAACEEEEIIIIDNOOOOOxOUUUUYTsaaaaaaaceeeeiiiidnooooo/ouuuuyty";
    if (cp >= 0xC0 && cp <= 0xFF) return map[cp - 0xC0];
    return 0;
}

char *prep_slugify(const char *utf8)
{
    size_t n = strlen(utf8);
    char *o = prep_xmalloc(n + 1);
    size_t j = 0;
    int dash = 0;
    const unsigned char *p = (const unsigned char *)utf8;
    while (*p) {
        uint32_t cp = *p;
        size_t k = 1;
        if (cp >= 0xC0 && cp < 0xE0 && (p[1] & 0xC0) == 0x80) {
            cp = ((cp & 0x1F) << 6) | (p[1] & 0x3F);
            k = 2;
        } else if (cp >= 0xE0) {
            while (p[k] && (p[k] & 0xC0) == 0x80) k++;
            cp = '-';
        }
        p += k;
        char c = cp < 0x80 ? (char)cp : fold_latin1(cp);
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && j) o[j++] = '-';
            dash = 0;
            o[j++] = c;
        } else {
            dash = 1;
        }
    }
    o[j] = 0;
    return o;
}

/* ---------------------------------------------------------------- numbers */
char *prep_put_dec(char *o, uint64_t v, int width)
{
    char d[20];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = n; i < width; i++) *o++ = '0';
    while (n) *o++ = d[--n];
    return o;
}

void prep_pct_trunc(int64_t num, int64_t den, int decimals, char *out, size_t outsz)
{
    if (decimals < 0) decimals = 0;
    if (decimals > 9) decimals = 9;
    uint64_t scale = 1;
    for (int i = 0; i < decimals; i++) scale *= 10;
    uint64_t ip = 0, fp = 0;
    if (den > 0 && num > 0) {
        /* floor(num * 100 * scale / den), in 128 bits so no figure of any election overflows */
        unsigned __int128 q = ((unsigned __int128)(uint64_t)num * 100u * scale) / (uint64_t)den;
        ip = (uint64_t)(q / scale);
        fp = (uint64_t)(q % scale);
    }
    /* written by hand, not snprintf: a national page shows thousands of these, and
     * formatting them was ~10 % of a busy cut's render */
    char t[48]; /* ip: at most 20 digits, '.', 9 decimals */
    char *o = prep_put_dec(t, ip, 0);
    if (decimals) {
        *o++ = '.';
        o = prep_put_dec(o, fp, decimals); /* fp < 10^decimals */
    }
    size_t n = (size_t)(o - t);
    if (!outsz) return;
    if (n >= outsz) n = outsz - 1; /* cut short as snprintf would */
    memcpy(out, t, n);
    out[n] = 0;
}

/* ---------------------------------------------------------------- logging */
static int log_threshold(void)
{
    static int lvl = -1;
    if (lvl < 0) {
        const char *s = getenv("PREP_LOG");
        lvl = PREP_LOG_INFO;
        if (s) {
            if (!strcmp(s, "error")) lvl = PREP_LOG_ERROR;
            else if (!strcmp(s, "warn")) lvl = PREP_LOG_WARN;
            else if (!strcmp(s, "debug")) lvl = PREP_LOG_DEBUG;
        }
    }
    return lvl;
}

/* 1 when stderr is the journal: systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream
 * it connects, and a child whose stderr was redirected elsewhere inherits the variable, so
 * the descriptor itself must be that stream (systemd.exec(5), $JOURNAL_STREAM). Decided
 * once: a daemon's stderr does not change under it. */
static int log_to_journal(void)
{
    static int j = -1;
    if (j < 0) {
        const char *s = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        char tail;
        j = s && sscanf(s, "%llu:%llu%c", &dev, &ino, &tail) == 2 && !fstat(STDERR_FILENO, &st) &&
            (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
    }
    return j;
}

/* A stream that prefixes each line with a priority (prep_log_journal_streams). */
typedef struct prio_stream {
    int fd;
    const char *prio;     /* "<6>" or "<4>" */
    int at_line_start;
} prio_stream;

static ssize_t prio_write(void *cookie, const char *buf, size_t n)
{
    prio_stream *p = cookie;
    size_t i = 0;
    while (i < n) {
        if (p->at_line_start) {
            /* "<N>" already there (prep_log): the line keeps its own priority */
            int has = n - i >= 3 && buf[i] == '<' && buf[i + 1] >= '0' && buf[i + 1] <= '7' && buf[i + 2] == '>';
            if (!has && prep_write_all(p->fd, p->prio, 3, "journal") != PREP_OK) return -1;
            p->at_line_start = 0;
        }
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t k = nl ? (size_t)(nl - (buf + i)) + 1 : n - i;
        if (prep_write_all(p->fd, buf + i, k, "journal") != PREP_OK) return -1;
        if (nl) p->at_line_start = 1;
        i += k;
    }
    return (ssize_t)n;
}

int prep_log_journal_streams(void)
{
    if (!log_to_journal()) return 0;
    static prio_stream out = {STDOUT_FILENO, "<6>", 1}, err = {STDERR_FILENO, "<4>", 1};
    cookie_io_functions_t io = {.write = prio_write};
    FILE *o = fopencookie(&out, "w", io), *e = fopencookie(&err, "w", io);
    if (!o || !e) {
        if (o) fclose(o);
        if (e) fclose(e);
        return 0;
    }
    setvbuf(o, NULL, _IOLBF, 0);
    setvbuf(e, NULL, _IOLBF, 0);
    fflush(stdout);
    fflush(stderr);
    stdout = o;
    stderr = e;
    return 1;
}

void prep_log(prep_log_level lvl, const char *fmt, ...)
{
    if ((int)lvl > log_threshold()) return;
    static const char *names[] = {"error", "warning", "info", "debug"};
    /* syslog priorities (sd-daemon(3)): err, warning, info, debug. The journal stamps each
     * line itself, so a line never carries a time of its own, here or under systemd. */
    static const char *prio[] = {"<3>", "<4>", "<6>", "<7>"};
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* one line per event: an embedded newline would split it (and lose the priority) */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fprintf(stderr, "%sprep: %s: %s\n", log_to_journal() ? prio[lvl] : "", names[lvl], msg);
}

void prep_addr_group(const struct sockaddr_storage *a, uint8_t key[17])
{
    memset(key, 0, 17);
    if (a->ss_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)a)->sin_addr, 4);
        return;
    }
    if (a->ss_family != AF_INET6) return;
    const uint8_t *b = ((const struct sockaddr_in6 *)a)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(b, mapped, 12)) { /* ::ffff:a.b.c.d, a dual-stack socket's IPv4 client */
        key[0] = 4;
        memcpy(key + 1, b + 12, 4);
        return;
    }
    key[0] = 6;
    memcpy(key + 1, b, 8); /* the /64 */
}

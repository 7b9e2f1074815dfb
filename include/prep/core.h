/* prep core: the small shared helpers every part may use (DESIGN.md, "Shared helpers").
 * Uses no other part. Ownership of every pointer is stated at each declaration:
 *   borrowed  - the callee does not keep it past the call;
 *   owned     - the caller must free it with the named function;
 *   static    - lives for the whole program. */
#ifndef PREP_CORE_H
#define PREP_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One error enum for the whole project. Functions return it; outputs go through pointers. */
typedef enum prep_err {
    PREP_OK = 0,
    PREP_ERR_NOMEM,   /* allocation failed */
    PREP_ERR_IO,      /* open/read/write/rename/fsync failed (errno kept in the diag) */
    PREP_ERR_PARSE,   /* input is not in the expected syntax */
    PREP_ERR_INVALID, /* syntax fine, content breaks a rule (unknown reference, duplicate...) */
    PREP_ERR_LIMIT,   /* input exceeds a documented limit */
    PREP_ERR_NOTFOUND,
    PREP_ERR_VERIFY,  /* a signature, hash or chain check failed */
    PREP_ERR_USAGE,   /* bad command-line usage */
} prep_err;

/* Static English text for an error code. */
const char *prep_err_str(prep_err e);

#define PREP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* On every function that returns a prep_err whose caller must look at it (all of them,
 * but the prep_buf appends, whose errors are sticky: see prep_buf). A call that may
 * really ignore one says why and uses PREP_IGNORE (GCC does not accept a (void) cast). */
#define PREP_NODISCARD __attribute__((warn_unused_result))
#define PREP_IGNORE(e) do { if (e) {} } while (0)

/* ---------------------------------------------------------------- memory */
/* The memory-failure policy (one for the whole tree):
 *   - The servers' request paths never abort: the http core, serve's answers and the
 *     pull link's handler use plain malloc and answer 503 (or cut the one connection)
 *     when it fails; a version load that cannot allocate returns PREP_ERR_NOMEM and the
 *     previous version stays. These are the allocations a client can make fail.
 *   - Everywhere else (the batch work of catalog, actas, tally, render, cut, deliver's
 *     registry and push, monitor rounds, the CLI) an allocation may use the prep_x*
 *     functions below, which print and abort on failure. That is safe because every
 *     output of those parts is written atomically (temporary file, fsync, rename): an
 *     abort publishes nothing and leaves the previous cut, store and state whole, and a
 *     daemon is restarted (docs/institute.md). Functions that already return
 *     PREP_ERR_NOMEM keep doing so; no function both aborts and returns NOMEM for the
 *     same allocation.
 * src/http and src/serve must not call prep_x* (tests/lint/layering.sh checks it). */
/* Giving memory back (one policy for the long-running processes): glibc returns only the
 * top of a heap to the system by itself, so the pages of blocks freed among live ones stay
 * in the process. A daemon calls prep_mem_trim after each large unit of work has freed
 * its memory: the institute after each cut (the last site, the manifests, the wire
 * forms: gigabytes at national scale), the http core after connections close
 * (prep_http_server_housekeep). It walks every arena (a few ms): not on a request path. */
void prep_mem_trim(void);
/* The same, only when more than `slack` bytes of the heap are free (glibc's count,
 * mallinfo2): what a program that makes cuts calls after each one (prep_mem_cutter).
 * Giving everything back after every cut made the next one fault its memory in and have
 * it zeroed again: Querétaro's night cut 0.25 -> 0.54 CPU s on average (bench_national
 * --qro --night 6) for 0.1 GB less peak RSS; with a slack the heap stays what the busiest
 * cut needs, and a heap left larger than that by fragmentation still shrinks. Not after a
 * cut whose site was shed (prep_render_site_shed): the bytes it freed are ~142,000 holes
 * between live blocks that the next cuts fill, and trimming them (MADV_DONTNEED inside the
 * heap's huge pages) split those pages: the next national cut took 5.2-5.8 CPU s in 38,000
 * faults and TLB misses instead of 2.85 in 45 faults (docs/benchmarks.md). */
#define PREP_MEM_CUTTER_SLACK ((size_t)512 << 20)
void prep_mem_trim_above(size_t slack);
/* The heap of a program that makes sites and cuts (prep institute, prep cut, prep render,
 * the national bench). A national cut takes ~600 MB of short-lived memory (the changed
 * pages, the 69 MB manifest and its check's parse, the database files): with glibc's
 * defaults its large blocks are mapped and unmapped on every cut and the kernel zeroes
 * them again in ~157,000 faults of 4 KB, and a 3.5 GB heap in 4 KB pages misses the TLB
 * everywhere (on a virtual machine each miss walks two page tables). So:
 *   - blocks up to 512 MB come from the heap (M_MMAP_THRESHOLD), and up to 1 GB of free
 *     memory at its top stays (M_TRIM_THRESHOLD): the next cut reuses it unzeroed;
 *   - the heap is on transparent huge pages (glibc's tunable glibc.malloc.hugetlb=1, read
 *     only when a program starts: when GLIBC_TUNABLES does not name it, it is set and the
 *     same program executed again with the same arguments and process id).
 * The busiest national cut went from 3.95 to 2.2-2.4 CPU s and its faults from ~158,000
 * to ~2,000, for ~0.2 GB more peak RSS (docs/benchmarks.md, "The cutter's heap"). The
 * institute still gives back what a cut freed (prep_mem_trim) between cuts. An operator's
 * own GLIBC_TUNABLES setting of hugetlb (=0 to refuse) is kept; PREP_MEM_POLICY=0 turns
 * all of this off. Call first thing in main (argv: main's); returns unless it re-executed
 * (a failed exec is logged and the program goes on with 4 KB pages). */
void prep_mem_cutter(char **argv);
void *prep_xmalloc(size_t n);
void *prep_xcalloc(size_t n, size_t size);
void *prep_xrealloc(void *p, size_t n);
char *prep_xstrdup(const char *s);
char *prep_xstrndup(const char *s, size_t n);

/* ---------------------------------------------------------------- buffers */
/* A growable byte buffer with a hard maximum (like curl's dynbuf): growth past `max`
 * fails with PREP_ERR_LIMIT instead of eating memory. data is always NUL-terminated. */
typedef struct prep_buf {
    char *data;   /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max;   /* 0 means PREP_BUF_DEFAULT_MAX */
    prep_err err; /* sticky: the first failed append's error (LIMIT, NOMEM); every later
                   * append fails with it and changes nothing, so a caller may append
                   * many times and check prep_buf_err once before using the bytes */
} prep_buf;

#define PREP_BUF_DEFAULT_MAX ((size_t)1 << 32) /* 4 GiB */

void prep_buf_init(prep_buf *b, size_t max);
void prep_buf_free(prep_buf *b);
void prep_buf_reset(prep_buf *b);                 /* len = 0, keeps the memory */
prep_err prep_buf_reserve(prep_buf *b, size_t extra);
prep_err prep_buf_append(prep_buf *b, const void *p, size_t n);
prep_err prep_buf_puts(prep_buf *b, const char *s);
prep_err prep_buf_putc(prep_buf *b, char c);
prep_err prep_buf_printf(prep_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
prep_err prep_buf_vprintf(prep_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Takes the data out (owned by the caller, free()), leaving the buffer empty. */
char *prep_buf_steal(prep_buf *b, size_t *len);
/* PREP_OK, or the error of the first append that failed since init, reset or steal. */
static inline prep_err prep_buf_err(const prep_buf *b) { return b->err; }
/* prep_buf_append, inline when the bytes fit in the room already there (a page is
 * thousands of small appends); otherwise the same call. */
static inline prep_err prep_buf_add(prep_buf *b, const void *p, size_t n)
{
    if (b->err || !b->data || n >= b->cap - b->len || (b->max && b->len + n > b->max))
        return prep_buf_append(b, p, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return PREP_OK;
}

/* ---------------------------------------------------------------- diagnostics */
/* A list of located problems found while reading input. A reader keeps going after a
 * bad record, adds one diag per problem and keeps what was good (DESIGN.md promise 6).
 * Message form, as printed: "FILE:LINE:COL: KIND: MESSAGE" (COL omitted when 0).
 * One rule for the whole tree: every prep_diags * a function takes may be NULL, and then
 * the diags are dropped (the prep_err returned still says what happened); the functions
 * below all accept NULL. */
typedef struct prep_diag {
    char *file;   /* owned */
    long line;    /* 1-based; 0 = whole file */
    long col;     /* 1-based field or byte column; 0 = whole line */
    char *kind;   /* owned; a short stable tag, e.g. "duplicate-key", "unknown-section" */
    char *msg;    /* owned; English, names the offending value */
} prep_diag;

typedef struct prep_diags {
    prep_diag *v;     /* owned */
    size_t n;         /* kept */
    size_t cap;
    size_t total;     /* found, including those not kept beyond max_keep */
    size_t max_keep;  /* 0 = 1000 */
} prep_diags;

void prep_diags_init(prep_diags *d);
void prep_diags_free(prep_diags *d);
void prep_diags_add(prep_diags *d, const char *file, long line, long col, const char *kind,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The same with a va_list, for a part's own reporting helper (one that also counts). */
void prep_diags_vadd(prep_diags *d, const char *file, long line, long col, const char *kind, const char *fmt,
                     va_list ap) __attribute__((format(printf, 6, 0)));
/* Prints up to `limit` diags (0 = all kept) to f, then "... and N more" if any. */
void prep_diags_print(const prep_diags *d, FILE *f, size_t limit);
/* First diag with this kind, or NULL (tests use it to assert location and kind). */
const prep_diag *prep_diags_find(const prep_diags *d, const char *kind);

/* ---------------------------------------------------------------- I/O failures */
/* One policy for naming I/O failures (issue 13: a full disk must say so where it
 * happens). Every core file helper that returns PREP_ERR_IO records, at the point of
 * failure and for the calling thread, what it was doing, the path and errno; a part with
 * its own I/O does the same with prep_io_fail. Whoever reports a PREP_ERR_IO prints
 * prep_err_text(e): "cannot write /s/cuts/7/manifest.tmp.42: no space left on device
 * (ENOSPC)", never a bare "I/O error". */
void prep_io_fail(const char *op, const char *path, int err);
const char *prep_io_last(void);   /* "" when none recorded in this thread */
int prep_io_last_errno(void);     /* 0 when none */
void prep_io_clear(void);
/* prep_err_str(e), or for PREP_ERR_IO the last recorded failure when there is one. */
const char *prep_err_text(prep_err e);

/* ---------------------------------------------------------------- peer addresses */
/* The address group every per-address limit counts (prep serve's --max-conns-per-ip, the
 * pull link's max_conns_per_addr): IPv4 by address, IPv4-mapped IPv6 (::ffff:a.b.c.d) as
 * that IPv4 address, other IPv6 by its /64 (one end site usually holds a whole /64:
 * counted per address it had unlimited connections). key[0] = 4 or 6, then 4 or 8
 * address bytes, the rest zero. */
struct sockaddr_storage;
void prep_addr_group(const struct sockaddr_storage *a, uint8_t key[17]);

/* ---------------------------------------------------------------- files */
/* Reads a whole file (at most max bytes, else PREP_ERR_LIMIT). *data is owned, NUL-terminated. */
PREP_NODISCARD prep_err prep_read_file(const char *path, size_t max, char **data, size_t *len);
/* The same, and on failure one diag on d (may be NULL) naming path and `what` ("the
 * catalogue"): kind "too-many" when larger than max, else "io" with the reason. */
PREP_NODISCARD prep_err prep_read_file_diag(const char *path, size_t max, const char *what, char **data, size_t *len,
                             prep_diags *d);
/* Writes atomically: PATH.tmp.<pid>, write, fsync, rename over PATH, fsync the directory.
 * A reader sees the old content or the new, never a part (DESIGN.md promise 2). */
PREP_NODISCARD prep_err prep_write_file_atomic(const char *path, const void *data, size_t len);
/* The same with the file's mode (a secrets file: 0600), whatever the umask; the
 * temporary file is created exclusively with that mode, never readable by others. */
#include <sys/types.h>
PREP_NODISCARD prep_err prep_write_file_atomic_mode(const char *path, const void *data, size_t len, mode_t mode);
/* Writes all of data to fd (retrying short writes and EINTR). On failure records
 * prep_io_fail("write", path, errno) and returns PREP_ERR_IO. */
PREP_NODISCARD prep_err prep_write_all(int fd, const void *data, size_t len, const char *path);
/* fsync of the directory that holds path (after a rename or a create in it). */
PREP_NODISCARD prep_err prep_fsync_dir_of(const char *path);
/* Appends data to path (created 0644), fsynced when sync; every failure recorded. */
PREP_NODISCARD prep_err prep_append_file(const char *path, const void *data, size_t len, int sync);
/* mkdir -p; mode 0755. */
PREP_NODISCARD prep_err prep_mkdirs(const char *path);
/* rm -rf without following symlinks: a file is unlinked, a directory removed depth first.
 * 0 when path is gone (or was absent), -1 when something could not be removed. */
int prep_rm_tree(const char *path);

/* ---------------------------------------------------------------- assertions */
/* PREP_ASSERT(cond): an invariant, an API precondition or a branch that "cannot happen".
 * Checked where the suite runs under the sanitizers (PREP_ASSERTS, set by
 * -DPREP_SANITIZE=ON, also in the fuzz build): a failure prints file:line, the function
 * and the condition, then aborts. Compiled out otherwise, and the condition is then not
 * evaluated: never put a side effect in it. Code keeps its own guard after an assertion
 * where a release build must survive the case (a server never aborts on a request). */
#ifdef PREP_ASSERTS
_Noreturn void prep_assert_fail(const char *cond, const char *file, int line, const char *func);
#define PREP_ASSERT(c) ((c) ? (void)0 : prep_assert_fail(#c, __FILE__, __LINE__, __func__))
#else
#define PREP_ASSERT(c) ((void)sizeof(!(c)))
#endif

/* ---------------------------------------------------------------- small helpers */
/* 64-bit FNV-1a, for hash tables (never for integrity: SHA-256 is). Chain calls by
 * passing the previous result; start from PREP_FNV1A_INIT. */
#define PREP_FNV1A_INIT 0xcbf29ce484222325ull /* the 64-bit offset basis */
static inline uint64_t prep_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ull;
    return h;
}
/* Civil dates (proleptic Gregorian, no time zone): days since 1970-01-01 of y-m-d, and
 * back. Exact for every year of int64 range the arithmetic does not overflow. */
int64_t prep_days_from_civil(int64_t y, int m, int d);
void prep_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* Milliseconds of CLOCK_MONOTONIC: for timeouts and durations, never for dates. */
int64_t prep_mono_ms(void);

/* ---------------------------------------------------------------- strings */
/* Splits one line into fields at `sep`, in place (writes NULs). Handles RFC 4180 quoting
 * ("a|b" and "" escapes) when quotes=1. Returns the count (may exceed max: extra fields
 * are not stored). starts[i] gets each field's byte offset in the original line (for
 * column numbers in errors) when starts is non-NULL. */
size_t prep_split(char *line, char sep, int quotes, char **fields, size_t *starts, size_t max);
/* Strict decimal parse of the whole string (leading/trailing ASCII space allowed).
 * Returns 0 on success. */
int prep_parse_i64(const char *s, int64_t *out);
int prep_parse_u32(const char *s, uint32_t *out);
/* Trims ASCII space (and \r) at both ends, in place; returns s. */
char *prep_trim(char *s);
/* 1 if s is valid UTF-8. */
int prep_utf8_valid(const char *s, size_t n);
/* Latin-1 to UTF-8 (owned result, free()). */
char *prep_latin1_to_utf8(const char *s, size_t n, size_t *out_len);
/* URL slug: lower-case ASCII, accents folded (á->a, ñ->n), runs of others to '-'. Owned. */
char *prep_slugify(const char *utf8);

/* ---------------------------------------------------------------- numbers */
/* Percentage num/den*100 with `decimals` decimals, TRUNCATED not rounded (INE's LEEME:
 * "el decimal de la cuarta posición es truncado y no redondeado"), written as "95.0842".
 * den == 0 gives "0.0000". Exact integer arithmetic, no floating point. */
void prep_pct_trunc(int64_t num, int64_t den, int decimals, char *out, size_t outsz);
/* v in decimal at o, zeros before it up to width digits, no NUL; returns the end (at most
 * 20 + width bytes). For numbers written by hand where a page or file holds many of them
 * (prep_pct_trunc, prep_time_format: snprintf was ~15 % of a busy cut's render). */
char *prep_put_dec(char *o, uint64_t v, int width);

/* ---------------------------------------------------------------- time */
/* Instants are int64 seconds since the Unix epoch (UTC). Zones are tz database names
 * (e.g. "America/Mexico_City"); never a fixed offset (DESIGN.md promise 3). */
typedef int64_t prep_time;
#define PREP_TIME_NONE INT64_MIN

/* Parses a local wall-clock time in zone tz. Accepted forms:
 *   "YYYY-MM-DD HH:MM[:SS[.ffffff]]", "YYYY-MM-DDTHH:MM[:SS]", "DD/MM/YYYY HH:MM[:SS]"
 *   (also "D/M/YYYY" and "H:MM", a spreadsheet's), "YYYY/MM/DD HH:MM[:SS]"; the time may
 *   be on a 12-hour clock with "a. m." / "p. m." ("a.m.", "AM", "pm" ...: 12 a. m. is 00);
 *   any of those followed by an explicit offset "(UTC-5)", "-05:00", "Z", which then wins
 *   over tz. Returns 0 on success. */
int prep_time_parse(const char *s, const char *tz, prep_time *out);
/* A 12-hour clock's "a. m." / "p. m." at *pp, after blanks, as Spanish spreadsheets write
 * it (also "a.m.", "am", "AM", "p.m.", "PM"), ending the text or followed by a blank or
 * '(': 1 (a. m.) or 2 (p. m.), *pp moved past it; 0 (nothing moved) when there is none. */
int prep_time_meridiem(const char **pp);
/* Formats t in zone tz with one of these styles:
 *   PREP_TS_ISO      "2021-06-06 23:05:00"
 *   PREP_TS_ISO_OFF  "2021-06-06T23:05:00-05:00"
 *   PREP_TS_HEADER   "06/06/2021 23:05 (UTC-5)"     (CSV header block, pages)
 *   PREP_TS_HUMAN    "6 de junio de 2021, 23:05 (UTC-5)" (Spanish, pages)  */
typedef enum { PREP_TS_ISO, PREP_TS_ISO_OFF, PREP_TS_HEADER, PREP_TS_HUMAN } prep_ts_style;
int prep_time_format(prep_time t, const char *tz, prep_ts_style style, char *out, size_t outsz);
/* UTC offset in seconds of zone tz at instant t (e.g. -18000 for UTC-5). */
int prep_time_utcoff(prep_time t, const char *tz, long *off);
/* Now, from the wall clock. */
prep_time prep_time_now(void);

/* ---------------------------------------------------------------- hashing */
/* The n bytes at p as 2n lower-case hex chars + NUL into out (2n + 1 bytes). */
void prep_hex(const void *p, size_t n, char *out);
/* SHA-256 of a buffer: its 32 bytes; as 64 lower-case hex chars + NUL. */
void prep_sha256(const void *p, size_t n, unsigned char md[32]);
void prep_sha256_hex(const void *p, size_t n, char out[65]);
/* 1 if s is exactly 64 hex chars. */
int prep_is_sha256_hex(const char *s);

/* ---------------------------------------------------------------- work on threads */
/* One policy for spreading n items over the machine's cores (the cutter's new objects and
 * its check of the store, serve's version load): worker(ctx, par) runs on up to nt threads
 * (1 when nt < 1; never more than there are ranges, nor 64), this one included (fewer when
 * a thread cannot be started: the work is then done by the others), each taking item ranges with prep_par_next until it returns 0; prep_par_run
 * returns when every worker has. Per-thread state (a hash context, a deflater) is the
 * worker's own, made and freed in it. */
typedef struct prep_par prep_par;
void prep_par_run(long nt, size_t n, size_t chunk, void (*worker)(void *ctx, prep_par *p), void *ctx);
/* 1 and the next range [*i0, *i1) of at most chunk items; 0 when none is left or the work
 * was stopped. */
int prep_par_next(prep_par *p, size_t *i0, size_t *i1);
/* No range is handed out after this (a failure that ends the work); the ones taken run on. */
void prep_par_stop(prep_par *p);
/* The machine's online cores, at least 1, at most max. */
long prep_par_cores(long max);

/* ---------------------------------------------------------------- deterministic PRNG */
/* xoshiro256** seeded by splitmix64: the simulator's randomness, same seed same night. */
typedef struct prep_rng { uint64_t s[4]; } prep_rng;
void prep_rng_seed(prep_rng *r, uint64_t seed);
uint64_t prep_rng_next(prep_rng *r);
/* Uniform in [0, n) without modulo bias. */
uint64_t prep_rng_below(prep_rng *r, uint64_t n);
/* Uniform double in [0, 1). */
double prep_rng_unit(prep_rng *r);
/* Standard normal (Box-Muller). */
double prep_rng_normal(prep_rng *r);

/* ---------------------------------------------------------------- logging */
/* Log lines go to stderr: "prep: LEVEL: message". Level from PREP_LOG (error|warn|info|debug). */
typedef enum { PREP_LOG_ERROR, PREP_LOG_WARN, PREP_LOG_INFO, PREP_LOG_DEBUG } prep_log_level;
void prep_log(prep_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Under systemd (stderr is the journal: $JOURNAL_STREAM names it), gives every line the
 * program writes to stdout or stderr a syslog priority the journal reads: stdout lines
 * <6> (info), stderr lines <4> (warning); a line that already starts with "<N>" (prep_log's,
 * which says err for errors) keeps its own. Elsewhere it does nothing. Called once by main
 * before anything is printed. Returns 1 when the streams were wrapped. */
int prep_log_journal_streams(void);

#endif

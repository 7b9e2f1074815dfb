/* bench_national: the national site against issue 15's targets, with Querétaro 2021 as the
 * reference, on the simulator's catalogues and nights (prep_sim_catalog, prep_sim_actas;
 * seed 1). Per scale:
 *   (a) the full first cut at the busiest point of the night: a fresh tally applied up to
 *       the start of the busiest 5-minute bin, a full render (new render cache), the cut
 *       signed and stored (prep_cut_make): wall and CPU seconds, files, bytes;
 *   (b) the busiest 5-minute incremental cut, as the institute's cutter makes it (the same
 *       tally and render cache): apply + render + cut CPU seconds, and what reaches a
 *       broadcaster that holds the first cut: new objects + manifest patch + signature (as
 *       bench_cut_delta.c's sim_pair computes them); beside it its floor, measured in the
 *       same run (store_floor): its new objects written as the store writes them, SHA-256
 *       over them once, and what the format asks on top (the whole-file SHA-256 of its
 *       changed files from the states the hash cache keeps, signing its manifest), and
 *       this machine's cost of a fresh page (the same bytes written again at once into the
 *       pages they just freed): how much of (b)'s kernel time its host's page backing can
 *       explain, and (b)'s user time alone (docs/benchmarks.md, "Session 34");
 *       On the wire (docs/delivery.md "Compressed transfer"): the same cut as it crosses
 *       the link, each new object as its .gz when the institute's wire cache made one
 *       (prep_cut_wire_prepare: compressible types, only when smaller), the patch gzip'd,
 *       the signature; with the institute's CPU seconds to compress the cut's new objects
 *       once (for every broadcaster). --levels L,L,... also compresses them at each zlib
 *       level given (the cache emptied between), for the level's choice.
 *   (c) the process's peak RSS so far (getrusage; Querétaro runs first, so its figure is its own).
 * Each figure has its limit beside it, and "met" or "MISSED". The limits are the national
 * ones (issue 15); for Querétaro they only show the margin.
 *   (d) with --night H: the cutter's whole night as the institute makes it, a cut every
 *       cut interval from the window's opening to its close (its heap policy and the
 *       trim after each cut of a site not shed included: prep_mem_cutter, prep_mem_trim_above); every H
 *       hours the cut at T + 5 min against the cut at T (what it brings to a broadcaster:
 *       new objects, every part or plain file whose SHA-256 the first cut's manifest
 *       lacks, + the manifest patch + the signature, raw and on the wire), the cut's CPU
 *       seconds and captures, the site's size and the cutter's peak RSS so far (VmHWM; the
 *       bench's own manifests are read in a process of its own); then the night's average
 *       and largest CPU per cut;
 *   (e) then the cutter restarted at the close: a new tally, render cache and hash cache
 *       (seeded with the store's active cut, as src/cli/cutter.c, so that the render sheds
 *       what that cut holds as it goes) making the full cut of the whole night, with its own
 *       peak RSS. Without --night, the same restart at the busiest point, after (c).
 * Run: ./build/bench_national [--night H] [--levels L,L,...] [DIR]   stores in DIR (default /dev/shm), deleted at the end.
 *      ./build/bench_national --qro [--night H] [DIR]   Querétaro only (seconds).
 *      ./build/bench_national --national [DIR]   national only (no reference: for profiling).
 * --night at national scale makes 289 cuts (~25 minutes here); the store keeps the last 2 cuts'
 * objects and manifests (~3-5 GB at national scale in DIR).
 * The national run takes minutes and several GB of memory: run nothing else heavy beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include "prep/cut.h"
#include "prep/render.h"
#include "prep/sim.h"
#include "prep/tally.h"
#include "bench_sim.h"

/* Limits (issue 15). */
#define LIM_FULL_WALL 30.0                        /* s: tally + render + sign + store */
#define LIM_INC_CPU 2.0                           /* CPU s: a busy 5-minute incremental cut */
#define LIM_RSS (4.0 * 1024 * 1024 * 1024)        /* bytes */
#define LIM_DELIVERED (60.0 * 1e6)                /* bytes reaching a broadcaster per cut */

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The kernel's share of the CPU time so far (getrusage: its ticks, coarser than cpu_s): on
 * a machine whose memory other work fills, page faults reclaim on this process's account
 * and the system share varies from run to run far more than the user share. */
static double sys_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static long minor_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

static double peak_rss(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss * 1024.0; /* Linux: kilobytes */
}

static const char *verdict(double v, double lim) { return v <= lim ? "met" : "MISSED"; }

/* The election ids of c, one space between them (cut parameters). */
static void election_ids(const prep_catalog *c, char *out, size_t n)
{
    out[0] = 0;
    for (uint32_t e = 0; e < c->n_elections; e++) {
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%s", e ? " " : "", c->elections[e].id);
    }
}

typedef struct bench_store {
    char root[1024], inst[1100], recv[1100], key[1200];
    prep_cut_seckey k;
} bench_store;

static int store_open(bench_store *b, const char *dir, prep_diags *d)
{
    snprintf(b->root, sizeof b->root, "%s/prep-bench-national-XXXXXX", dir);
    if (!mkdtemp(b->root)) {
        perror(b->root);
        return 1;
    }
    snprintf(b->inst, sizeof b->inst, "%s/inst", b->root);
    snprintf(b->recv, sizeof b->recv, "%s/difusor", b->root);
    snprintf(b->key, sizeof b->key, "%s/clave", b->root);
    if (prep_cut_keygen(b->key, PREP_CUT_DRILL, d)) return die("keygen", d);
    snprintf(b->key, sizeof b->key, "%s/clave.key", b->root);
    if (prep_cut_seckey_load(b->key, &b->k, d)) return die("key", d);
    return 0;
}

/* The broadcaster that holds cut 1: b->recv gets cut 1's manifest and signature and, hard
 * linked, every object of b->inst (which then holds cut 1 only: whole files and the parts
 * of composed pages alike). */
static const char *link_from, *link_to;

static int link_cb(const char *p, const struct stat *sb, int fl, struct FTW *f)
{
    (void)sb, (void)f;
    char dst[2048];
    snprintf(dst, sizeof dst, "%s%s", link_to, p + strlen(link_from));
    if (fl == FTW_D) return prep_mkdirs(dst) ? -1 : 0;
    return fl == FTW_F && link(p, dst) ? -1 : 0;
}

static int hold_cut1(bench_store *b)
{
    char from[1200], to[1200];
    snprintf(from, sizeof from, "%s/objects", b->inst);
    snprintf(to, sizeof to, "%s/objects", b->recv);
    link_from = from;
    link_to = to;
    if (nftw(from, link_cb, 16, FTW_PHYS)) return -1;
    snprintf(to, sizeof to, "%s/cuts/1", b->recv);
    if (prep_mkdirs(to)) return -1;
    const char *names[] = {"manifest", "manifest.sig"};
    for (int i = 0; i < 2; i++) {
        snprintf(from, sizeof from, "%s/cuts/1/%s", b->inst, names[i]);
        snprintf(to, sizeof to, "%s/cuts/1/%s", b->recv, names[i]);
        if (link(from, to)) return -1;
    }
    return 0;
}

/* The kind of file at path, for the delivered bytes' breakdown. */
enum { K_SEC_PAGE, K_SEC_JSON, K_EMB, K_UNIT_PAGE, K_UNIT_DATA, K_DB, K_OTHER, K_N };
static const char *const kind_name[K_N] = {"section pages", "section datos.json", "embebido/ pages",
                                           "other pages", "other datos.json/csv", "database", "other"};

static int kind_of(const char *path)
{
    int sec = strstr(path, "/seccion-") || (!strncmp(path, "seccion/", 8) && strlen(path) > 16 &&
                                            path[8] >= '0' && path[8] <= '9' && path[11] >= '0' && path[11] <= '9');
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int page = !strcmp(base, "index.html") || !strcmp(base, "no-encontrada.html");
    int data = !strcmp(base, "datos.json") || !strcmp(base, "datos.csv");
    if (!strncmp(path, "base-de-datos/", 14) && !page) return K_DB;
    if (!strncmp(path, "embebido/", 9)) return page ? K_EMB : K_OTHER;
    if (sec && page) return K_SEC_PAGE;
    if (sec && data) return K_SEC_JSON;
    return page ? K_UNIT_PAGE : data ? K_UNIT_DATA : K_OTHER;
}

static int cmp_sha(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* What object sha (size bytes) costs on the wire: its .gz in store's wire cache, else itself. */
static uint64_t wire_size(const char *store, const char *sha, uint64_t size)
{
    char gp[1400];
    struct stat st;
    if (!prep_cut_wire_object_path(store, sha, gp, sizeof gp) && stat(gp, &st) == 0) return (uint64_t)st.st_size;
    return size;
}

static double user_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6;
}

/* The institute's wire cache for cut seq: CPU seconds to make it (fresh: the cache is
 * emptied first), the result into *wr; *user (may be NULL) the user-mode part (the
 * compression; the rest is the kernel: files, and the syncfs that flushes whatever the
 * file system holds dirty). */
static double wire_make(const char *store, uint64_t seq, int level, prep_cut_wire_result *wr, double *user,
                        prep_diags *d)
{
    char wd[1400];
    snprintf(wd, sizeof wd, "%s/wire", store);
    nftw(wd, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    double c0 = cpu_s(), u0 = user_s();
    if (prep_cut_wire_prepare(store, seq, level, wr, d)) {
        die("wire cache", d);
        return -1;
    }
    if (user) *user = user_s() - u0;
    return cpu_s() - c0;
}

/* Which kinds of file the delivered objects belong to (an object shared by several files
 * counts once: for a main-tree file when one has it, else for the first embebido/ file in
 * manifest order; so "embebido/ pages" is what the embedded tree costs beyond the main
 * tree, not the bodies a page shares with its twin, which sort first for the elections
 * whose names come after "embebido"). */
static void delivered_by_kind(const prep_cut_manifest *m, prep_cut_delta *dl, const char *store, uint64_t by[K_N],
                              uint64_t by_wire[K_N])
{
    qsort(dl->sha256, dl->n, sizeof *dl->sha256, cmp_sha); /* sizes no longer matched: not used after */
    uint8_t *seen = calloc(dl->n ? dl->n : 1, 1);
    for (size_t j = 0; seen && j < 2 * m->n; j++) {
        size_t i = j % m->n;
        const prep_cut_entry *en = &m->entries[i];
        if ((j < m->n) == !strncmp(en->path, "embebido/", 9)) continue; /* main tree first, then embebido/ */
        size_t np = en->n_parts ? en->n_parts : 1;
        for (size_t k = 0; k < np; k++) {
            const char *sha = en->n_parts ? en->parts[k].sha256 : en->sha256;
            uint64_t size = en->n_parts ? en->parts[k].size : en->size;
            char (*hit)[65] = bsearch(sha, dl->sha256, dl->n, sizeof *dl->sha256, cmp_sha);
            if (!hit || seen[hit - dl->sha256]) continue;
            seen[hit - dl->sha256] = 1;
            by[kind_of(en->path)] += size;
            by_wire[kind_of(en->path)] += wire_size(store, sha, size);
        }
    }
    free(seen);
}

/* What cut 2 of b->inst costs to deliver to b->recv (holding cut 1): objects, patch, signature. */
/* The floor under (b)'s storing, what the format and the store's layout ask of that cut
 * and nothing else (no manifest written or parsed, no check, no look-ups): */
typedef struct floor_in {
    const uint64_t *size; /* the sizes of its n new objects */
    size_t n;
    uint64_t fed;         /* the bytes its whole-file hashes fed (prep_cut_hash_cache_fed) */
    const char *manifest; /* its manifest, signed again */
    const prep_cut_seckey *key;
} floor_in;
enum { FL_WRITE, FL_KERN, FL_PACK, FL_PACK_KERN, FL_WARM, FL_WARM_KERN, FL_SHA, FL_FED, FL_SIGN, FL_N };

/* CPU seconds of each into fl: FL_WRITE the n objects written into a scratch store layout
 * under root as the cut store writes them (tmp/ then objects/XX/, through open directories,
 * one syncfs), FL_KERN the kernel's share of it; FL_PACK (FL_PACK_KERN) the same objects
 * appended to one file, one write each, and one syncfs: the store's per-file cost is the
 * difference (a layout that packs a cut's new objects would pay FL_PACK); FL_WARM
 * (FL_WARM_KERN) the same file removed and written again at once, into the pages it just
 * freed: on a virtual machine whose host backs a guest page only when the guest first
 * touches it (free page reporting hands freed pages back), FL_PACK - FL_WARM is what the
 * host's backing of fresh pages costs for those bytes; FL_SHA SHA-256 over the same bytes once;
 * FL_FED SHA-256 over fed more bytes (the composed files' whole-file hashes); FL_SIGN
 * signing the manifest's bytes (pure Ed25519 hashes them twice). */
/* The n objects of buf appended to a new file tfd/pack, one write each, and one syncfs:
 * its CPU seconds into *cpu, the kernel's share into *kern. */
static int pack_write(int tfd, const char *buf, const uint64_t *size, size_t n, double *cpu, double *kern)
{
    double c0 = cpu_s(), k0 = sys_s();
    int pfd = openat(tfd, "pack", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444), ok = pfd >= 0;
    uint64_t off = 0;
    for (size_t i = 0; ok && i < n; off += size[i++])
        ok = write(pfd, buf + off, size[i]) == (ssize_t)size[i];
    if (pfd >= 0 && close(pfd) != 0) ok = 0;
    if (ok && syncfs(tfd) != 0) ok = 0;
    *cpu = cpu_s() - c0;
    *kern = sys_s() - k0;
    return ok ? 0 : -1;
}

static int store_floor(const char *root, const floor_in *in, double fl[FL_N])
{
    const uint64_t *size = in->size;
    size_t n = in->n;
    uint64_t total = 1; /* each object from bytes of its own, as the cut's from its pages */
    for (size_t i = 0; i < n; i++) total += size[i];
    char *buf = malloc(total), dir[1100];
    if (!buf) return -1;
    for (uint64_t i = 0; i < total; i++) buf[i] = (char)('a' + i % 23);
    snprintf(dir, sizeof dir, "%s/floor", root);
    int ok = mkdir(dir, 0755) == 0;
    snprintf(dir, sizeof dir, "%s/floor/tmp", root);
    ok = ok && mkdir(dir, 0755) == 0;
    int tfd = ok ? open(dir, O_RDONLY | O_DIRECTORY) : -1, ofd[256];
    for (int i = 0; i < 256; i++) {
        snprintf(dir, sizeof dir, "%s/floor/%02x", root, i);
        ofd[i] = tfd >= 0 && mkdir(dir, 0755) == 0 ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
        if (ofd[i] < 0) ok = 0;
    }
    double c0 = cpu_s(), k0 = sys_s();
    uint64_t off = 0;
    for (size_t i = 0; ok && i < n; off += size[i++]) {
        char name[32], obj[80];
        snprintf(name, sizeof name, "obj.%zu", i);
        snprintf(obj, sizeof obj, "%062zx", i);
        int fd = openat(tfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
        ok = fd >= 0 && write(fd, buf + off, size[i]) == (ssize_t)size[i];
        if (fd >= 0 && close(fd) != 0) ok = 0;
        if (ok && renameat(tfd, name, ofd[(i * 2654435761u) % 256], obj) != 0) ok = 0;
    }
    if (ok && syncfs(tfd) != 0) ok = 0;
    fl[FL_WRITE] = cpu_s() - c0;
    fl[FL_KERN] = sys_s() - k0;
    ok = ok && pack_write(tfd, buf, size, n, &fl[FL_PACK], &fl[FL_PACK_KERN]) == 0;
    if (ok && unlinkat(tfd, "pack", 0) != 0) ok = 0;
    ok = ok && pack_write(tfd, buf, size, n, &fl[FL_WARM], &fl[FL_WARM_KERN]) == 0;
    c0 = cpu_s();
    char hex[65];
    off = 0;
    for (size_t i = 0; ok && i < n; off += size[i++]) prep_sha256_hex(buf + off, size[i], hex);
    fl[FL_SHA] = cpu_s() - c0;
    c0 = cpu_s();
    for (uint64_t left = in->fed; ok && left;) { /* in files' sizes: the objects' again */
        for (size_t i = 0, at = 0; left && i < n; at += size[i++]) {
            size_t k = size[i] < left ? (size_t)size[i] : (size_t)left;
            prep_sha256_hex(buf + at, k, hex);
            left -= k;
        }
    }
    fl[FL_FED] = cpu_s() - c0;
    size_t ml = 0;
    char *m = NULL;
    if (ok && prep_read_file(in->manifest, (size_t)1 << 30, &m, &ml) != PREP_OK) ok = 0;
    prep_cut_sig sig;
    c0 = cpu_s();
    if (!m || prep_cut_sign(in->key, m, ml, &sig) != PREP_OK) ok = 0;
    fl[FL_SIGN] = cpu_s() - c0;
    free(m);
    if (tfd >= 0) close(tfd);
    for (int i = 0; i < 256; i++)
        if (ofd[i] >= 0) close(ofd[i]);
    free(buf);
    snprintf(dir, sizeof dir, "%s/floor", root);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return ok ? 0 : -1;
}

/* store_floor in a child process, so that its buffer stays out of the cutter's peak RSS
 * that (c) and (d) report. */
static int store_floor_apart(const char *root, const floor_in *in, double floor[FL_N])
{
    int fd[2];
    if (pipe(fd) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        double f[FL_N];
        int ok = store_floor(root, in, f) == 0 && write(fd[1], f, sizeof f) == (ssize_t)sizeof f;
        _exit(ok ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], floor, FL_N * sizeof *floor);
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return got == (ssize_t)(FL_N * sizeof *floor) && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int delivered(bench_store *b, uint64_t *objects, uint64_t *patch, uint64_t *sig, size_t *n_objects,
                     uint64_t by[K_N], uint64_t *wire, uint64_t by_wire[K_N], uint64_t fed, double floor[FL_N],
                     uint64_t *manifest, prep_diags *d)
{
    prep_cut_manifest m1, m2;
    if (prep_cut_load(b->inst, 1, &m1, d) || prep_cut_load(b->inst, 2, &m2, d)) return die("load", d);
    prep_cut_delta dl;
    if (prep_cut_delta_compute(b->recv, &m2, &dl)) return 1;
    prep_buf pb;
    prep_buf_init(&pb, 0);
    if (prep_cut_manifest_diff(&m1, &m2, &pb)) return 1;
    char sp[1200];
    snprintf(sp, sizeof sp, "%s/cuts/2/manifest.sig", b->inst);
    struct stat sst;
    *sig = stat(sp, &sst) == 0 ? (uint64_t)sst.st_size : 0;
    *objects = dl.bytes;
    *n_objects = dl.n;
    *patch = pb.len;
    *wire = 0;
    for (size_t i = 0; i < dl.n; i++) *wire += wire_size(b->inst, dl.sha256[i], dl.size[i]);
    delivered_by_kind(&m2, &dl, b->inst, by, by_wire);
    char mp[1200];
    snprintf(mp, sizeof mp, "%s/cuts/2/manifest", b->inst);
    struct stat mst;
    *manifest = stat(mp, &mst) == 0 ? (uint64_t)mst.st_size : 0;
    floor_in fi = {.size = dl.size, .n = dl.n, .fed = fed, .manifest = mp, .key = &b->k};
    if (floor && store_floor_apart(b->root, &fi, floor)) return die("the storing floor", d);
    prep_buf_free(&pb);
    prep_cut_delta_free(&dl);
    prep_cut_manifest_free(&m1);
    prep_cut_manifest_free(&m2);
    return 0;
}

/* Bytes of the objects of m2 that m1 lacks (by SHA-256; each object once). */
typedef struct obj_ref {
    char sha[65];
    uint64_t size;
} obj_ref;

static int cmp_ref(const void *a, const void *b) { return strcmp(((const obj_ref *)a)->sha, ((const obj_ref *)b)->sha); }

static uint64_t new_object_bytes(const prep_cut_manifest *m1, const prep_cut_manifest *m2, const char *store,
                                 size_t *n_new, uint64_t *wire)
{
    *n_new = 0;
    *wire = 0;
    size_t n1 = 0, n2 = 0;
    for (size_t i = 0; i < m1->n; i++) n1 += m1->entries[i].n_parts ? m1->entries[i].n_parts : 1;
    for (size_t i = 0; i < m2->n; i++) n2 += m2->entries[i].n_parts ? m2->entries[i].n_parts : 1;
    char (*have)[65] = malloc((n1 ? n1 : 1) * sizeof *have);
    obj_ref *fresh = malloc((n2 ? n2 : 1) * sizeof *fresh);
    if (!have || !fresh) {
        free(have);
        free(fresh);
        return 0;
    }
    size_t k = 0, f = 0;
    for (size_t i = 0; i < m1->n; i++) {
        const prep_cut_entry *en = &m1->entries[i];
        if (!en->n_parts) memcpy(have[k++], en->sha256, 65);
        for (size_t j = 0; j < en->n_parts; j++) memcpy(have[k++], en->parts[j].sha256, 65);
    }
    qsort(have, k, sizeof *have, cmp_sha);
    for (size_t i = 0; i < m2->n; i++) {
        const prep_cut_entry *en = &m2->entries[i];
        size_t np = en->n_parts ? en->n_parts : 1;
        for (size_t j = 0; j < np; j++) {
            const char *sha = en->n_parts ? en->parts[j].sha256 : en->sha256;
            if (bsearch(sha, have, k, sizeof *have, cmp_sha)) continue;
            memcpy(fresh[f].sha, sha, 65);
            fresh[f++].size = en->n_parts ? en->parts[j].size : en->size;
        }
    }
    qsort(fresh, f, sizeof *fresh, cmp_ref);
    uint64_t bytes = 0;
    for (size_t i = 0; i < f; i++)
        if (!i || strcmp(fresh[i].sha, fresh[i - 1].sha)) {
            bytes += fresh[i].size;
            *wire += wire_size(store, fresh[i].sha, fresh[i].size);
            (*n_new)++;
        }
    free(have);
    free(fresh);
    return bytes;
}

typedef struct night_ctx {
    const prep_catalog *c;
    prep_actas **sets;
    prep_tally *t;
    prep_tally_cursor cur[8];
    prep_render_cache *rc;
    prep_site s;
    bench_store b;
    const char *ids;
    uint64_t seq;
    prep_cut_hash_cache *hc; /* the cutter's, across the night's cuts */
    int shed_as_made;        /* the next render sheds what the store's active cut holds (a restart) */
} night_ctx;

/* The render's shedding of a restarted cutter (src/cli/cutter.c's part_held). */
static int part_held(void *ctx, const char *path, size_t n_parts, size_t k, const void *bytes, size_t len,
                     unsigned char md[32])
{
    return prep_cut_hash_cache_holds(ctx, path, n_parts, k, bytes, len, md);
}

/* The restarted cutter's check that the store holds the active cut's objects whole (each
 * read and hashed, src/cli/cutter.c's store_whole): its CPU and wall seconds. */
static double whole_cpu, whole_wall;

/* A restarted cutter over store: its hash cache learns the active cut, so that its first
 * render sheds what that cut holds as it goes (as src/cli/cutter.c; PREP_SITE_SHED=0: not),
 * once the store is found to hold every object of it whole. */
static int restart_seed(prep_cut_hash_cache *hc, const char *store, int *shed_as_made, prep_diags *d)
{
    *shed_as_made = 0;
    if (!bench_shed_on()) return 0;
    prep_cut_manifest m;
    if (prep_cut_load(store, 0, &m, d)) return die("the active cut", d);
    double c0 = cpu_s(), w0 = wall_s();
    const char *first = NULL;
    long bad = prep_cut_store_lacks(store, &m, 1, &first);
    whole_cpu = cpu_s() - c0;
    whole_wall = wall_s() - w0;
    if (bad) {
        prep_cut_manifest_free(&m);
        fprintf(stderr, "bench_national: the store lacks or holds damaged %ld objects (%s)\n", bad, first ? first : "");
        return 1;
    }
    prep_err e = prep_cut_hash_cache_seed(hc, &m);
    prep_cut_manifest_free(&m);
    *shed_as_made = !e;
    return e ? 1 : 0;
}

/* One cut of the cutter at `at`: apply, render, make, and give back what the cut freed
 * (as the institute). CPU seconds into *cpu, captures into *applied. */
static int night_cut(night_ctx *n, prep_time at, double *cpu, size_t *applied, prep_diags *d)
{
    double c0 = cpu_s();
    *applied = 0;
    for (uint32_t el = 0; el < n->c->n_elections; el++) {
        size_t k = 0;
        if (prep_tally_apply_until(n->t, n->sets[el], &n->cur[el], at, &k)) return 1;
        *applied += k;
    }
    prep_render_cut cut = {.seq = ++n->seq, .at = at, .drill = 1, .process_name = NULL,
                           .valid_until = PREP_TIME_NONE, .final_cut = 0};
    prep_render_stats st;
    prep_render_opts ro;
    prep_render_opts_init(&ro);
    if (n->shed_as_made) {
        ro.shed = part_held;
        ro.shed_ctx = n->hc;
        n->shed_as_made = 0;
    }
    if (prep_render_site(n->t, &cut, &ro, n->rc, &n->s, &st)) return 1;
    prep_tally_clear_dirty(n->t);
    if (cut_site_hc(n->b.inst, &n->s, at, &n->b.k, n->c->process_id, n->ids, n->hc, d)) return die("night cut", d);
    *cpu = cpu_s() - c0;
    bench_trim_after_cut(&n->s); /* as the institute after each cut */
    return 0;
}

/* The night's worst sampled cut so far, raw and on the wire, from the file store_work keeps. */
static void worst_read(const char *wp, double w[2])
{
    w[0] = w[1] = 0;
    FILE *f = fopen(wp, "rb");
    if (!f) return;
    if (fread(w, sizeof(double[2]), 1, f) != 1) w[0] = w[1] = 0;
    fclose(f);
}

/* The bench's own work on the store (bench_national --store-work STORE SEQ LINE WORST),
 * in a process of its own so that its memory (two parsed national manifests, ~400 MB) is
 * not counted in the cutter's RSS, started with posix_spawn (no fork: a forked copy of the
 * cutter would leave its ~4 GB copy-on-write, and the next cut would pay a fault per page
 * it writes). With LINE other than "-": what cut SEQ brings to a broadcaster holding cut
 * SEQ - 1, printed after LINE, the night's worst kept in the file WORST; then the store's
 * retention: objects of the last 2 cuts kept, and the manifests of cuts before them
 * removed too (a night of national manifests is ~20 GB; the institute keeps them on disk). */
static int store_work(const char *store, uint64_t seq, const char *line, const char *wp)
{
    prep_diags dd, *d = &dd;
    prep_diags_init(d);
    if (strcmp(line, "-")) {
        prep_cut_manifest m1, m2;
        if (prep_cut_load(store, seq - 1, &m1, d) || prep_cut_load(store, seq, &m2, d)) return die("load", d);
        prep_buf pb;
        prep_buf_init(&pb, 0);
        if (prep_cut_manifest_diff(&m1, &m2, &pb)) return 1;
        prep_cut_wire_result wr;
        double wcpu = wire_make(store, seq, 0, &wr, NULL, d);
        if (wcpu < 0) return 1;
        size_t n_new;
        uint64_t wobj, obj = new_object_bytes(&m1, &m2, store, &n_new, &wobj);
        double sent = (double)(obj + pb.len + 200); /* + the signature, ~200 B */
        double wire = (double)(wobj + (wr.patch_gz_bytes ? wr.patch_gz_bytes : pb.len) + 200);
        printf("%s  %6zu new objects %8.2f MB + patch %6.2f MB = %8.2f MB  %s   on the wire %7.2f MB (gzip %.2f CPU s)  %s\n",
               line, n_new, (double)obj / 1e6, (double)pb.len / 1e6, sent / 1e6, verdict(sent, LIM_DELIVERED),
               wire / 1e6, wcpu, verdict(wire, LIM_DELIVERED));
        double w[2];
        worst_read(wp, w);
        if (sent > w[0]) w[0] = sent;
        if (wire > w[1]) w[1] = wire;
        FILE *f;
        if ((f = fopen(wp, "wb"))) {
            fwrite(w, sizeof w, 1, f);
            fclose(f);
        }
        fflush(stdout);
    }
    prep_cut_gc_result g;
    if (prep_cut_store_gc(store, 2, &g, d)) return die("store retention", d);
    for (uint64_t old = seq > 3 ? seq - 3 : 0; old >= 1; old--) {
        char cd[1300];
        snprintf(cd, sizeof cd, "%s/cuts/%llu", store, (unsigned long long)old);
        if (access(cd, F_OK) != 0) break;
        nftw(cd, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    }
    prep_diags_free(d);
    return 0;
}

static int night_store_work(night_ctx *n, uint64_t seq, const char *line)
{
    fflush(stdout);
    char sq[32], wp[1200];
    snprintf(sq, sizeof sq, "%llu", (unsigned long long)seq);
    snprintf(wp, sizeof wp, "%s/worst", n->b.root);
    char *av[] = {(char *)"bench_national", (char *)"--store-work", n->b.inst, sq, (char *)(line ? line : "-"), wp, NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, av, environ) != 0) return 1;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 1;
    return !WIFEXITED(st) || WEXITSTATUS(st) != 0;
}

/* The process's peak RSS since reset_peak (VmHWM; getrusage's maximum cannot be reset). */
static double vm_hwm(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char l[256];
    double kb = 0;
    while (f && fgets(l, sizeof l, f))
        if (!strncmp(l, "VmHWM:", 6)) kb = atof(l + 6);
    if (f) fclose(f);
    return kb * 1024.0;
}

static void reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

/* (e) A cutter restarted over store b (its active cut seq) at `at`, named `where`: a new
 * tally, render cache and hash cache seeded with the active cut, its full cut, the peak RSS
 * of this part alone (the caller has freed its own cutter). */
static int night_open(night_ctx *n);
static void night_close(night_ctx *n);
static int restart_at(const prep_catalog *c, prep_actas **sets, const char *ids, bench_store *b, uint64_t seq,
                      prep_time at, const char *where, prep_diags *d)
{
    prep_mem_trim();
    reset_peak();
    double base = vm_hwm(), w0 = wall_s();
    night_ctx r = {.c = c, .sets = sets, .ids = ids, .b = *b, .seq = seq};
    if (night_open(&r) || restart_seed(r.hc, r.b.inst, &r.shed_as_made, d)) return 1;
    int shed = r.shed_as_made;
    double cpu;
    size_t a;
    if (night_cut(&r, at, &cpu, &a, d)) return 1;
    uint64_t site = 0;
    for (size_t i = 0; i < r.s.n; i++) site += r.s.v[i].len;
    double rpeak = vm_hwm();
    printf("   (e) the cutter restarted at %s%s: its full cut (%zu captures, site %.0f MB) %.1f s wall, %.1f CPU s; "
           "peak RSS %.2f GB (%.2f before it)   [<= %.0f GB: %s]\n"
           "       before it, every object of the active cut read and hashed (a byte flipped on disk is written "
           "again): %.1f s wall, %.1f CPU s\n",
           where, shed ? ", shedding what the active cut holds as it renders" : " (PREP_SITE_SHED=0)", a,
           (double)site / 1e6, wall_s() - w0, cpu, rpeak / 1073741824.0, base / 1073741824.0, LIM_RSS / 1073741824.0,
           verdict(rpeak, LIM_RSS), whole_wall, whole_cpu);
    fflush(stdout);
    night_close(&r);
    return 0;
}

/* A new cutter in n (n->c, sets and ids set): tally, render cache, hash cache, cursors,
 * empty site. Its store is the caller's. */
static int night_open(night_ctx *n)
{
    if (prep_tally_new(n->c, &n->t) || prep_render_cache_new(&n->rc) || prep_cut_hash_cache_new(&n->hc)) return 1;
    for (uint32_t el = 0; el < n->c->n_elections; el++)
        if (prep_tally_cursor_init(&n->cur[el], n->sets[el])) return 1;
    prep_render_site_init(&n->s);
    return 0;
}

static void night_close(night_ctx *n)
{
    prep_render_site_free(&n->s);
    prep_render_cache_free(n->rc);
    prep_cut_hash_cache_free(n->hc);
    for (uint32_t el = 0; el < n->c->n_elections; el++) prep_tally_cursor_free(&n->cur[el]);
    prep_tally_free(n->t);
}

/* (d) the cutter's whole night and the per-cut bytes over it: a cutter of its own (tally,
 * render cache, hash cache, store) cutting every cut interval from the window's opening, as
 * the institute does; every `hours` hours, the cut at T + 5 min against the cut at T, and the
 * cutter's peak RSS so far. (e) Then the cutter restarted at the night's close: a new tally,
 * render cache and hash cache (seeded with the active cut, as src/cli/cutter.c: its render
 * sheds what that cut holds as it goes) making the full cut of the whole night, and its peak
 * RSS. */
static int night_series(const prep_catalog *c, prep_actas **sets, const char *ids, const char *dir, double hours,
                        prep_diags *d)
{
    night_ctx n = {.c = c, .sets = sets, .ids = ids};
    if (night_open(&n) || store_open(&n.b, dir, d)) return 1;
    prep_time step = (prep_time)(hours * 3600);
    printf("   (d) the cutter's night: a cut every %lld s from the window's opening; every %.1f h, the cut at T + 5 min "
           "against the cut at T   [<= %.0f MB each], and the cutter's peak RSS so far   [<= %.0f GB]\n",
           (long long)c->cut_interval, hours, LIM_DELIVERED / 1e6, LIM_RSS / 1073741824.0);
    fflush(stdout);
    reset_peak(); /* the night's cutter alone, not (a) to (c) */
    double cpu_max = 0, cpu_sum = 0, cpu_first = 0;
    size_t cuts = 0;
    for (prep_time t = c->window_open + c->cut_interval; t <= c->window_close; t += c->cut_interval) {
        double cpu;
        size_t a;
        if (night_cut(&n, t, &cpu, &a, d)) return 1;
        if (cuts++ == 0) {
            cpu_first = cpu;
            continue; /* the night's first cut is a full one: (a) measures those */
        }
        cpu_sum += cpu;
        if (cpu > cpu_max) cpu_max = cpu;
        int sample = (t - c->window_open - c->cut_interval) % step == 0 && t - c->cut_interval > c->window_open;
        if (!sample && n.seq % 12) continue;
        char line[600] = "";
        if (sample) {
            char hm[40];
            if (prep_time_format(t, c->timezone, PREP_TS_ISO, hm, sizeof hm)) snprintf(hm, sizeof hm, "?");
            uint64_t site = 0;
            for (size_t i = 0; i < n.s.n; i++) site += n.s.v[i].len;
            snprintf(line, sizeof line, "       %.16s  %6zu captures  %5.2f CPU s  site %.0f MB, cutter's peak RSS so far "
                     "%.2f GB  %s", hm, a, cpu, (double)site / 1e6, vm_hwm() / 1073741824.0, verdict(vm_hwm(), LIM_RSS));
        }
        if (night_store_work(&n, n.seq, sample ? line : NULL)) return 1;
    }
    double night_peak = vm_hwm(), w[2];
    char wp[1200];
    snprintf(wp, sizeof wp, "%s/worst", n.b.root);
    worst_read(wp, w);
    printf("       the night: %zu cuts, the first (full) %.2f CPU s, the others %.2f CPU s each on average, %.2f at most   "
           "[<= %.0f CPU s: %s]; its largest sampled cut %.2f MB   [<= %.0f MB: %s], on the wire %.2f MB   [<= %.0f MB: %s]; "
           "the cutter's peak RSS %.2f GB   [<= %.0f GB: %s]\n",
           cuts, cpu_first, cpu_sum / (double)(cuts > 1 ? cuts - 1 : 1), cpu_max, LIM_INC_CPU, verdict(cpu_max, LIM_INC_CPU),
           w[0] / 1e6, LIM_DELIVERED / 1e6,
           verdict(w[0], LIM_DELIVERED), w[1] / 1e6, LIM_DELIVERED / 1e6, verdict(w[1], LIM_DELIVERED),
           night_peak / 1073741824.0, LIM_RSS / 1073741824.0, verdict(night_peak, LIM_RSS));
    fflush(stdout);
    night_close(&n);

    /* (e) the cutter restarted at the close */
    if (restart_at(c, sets, ids, &n.b, n.seq, c->window_close + c->cut_interval, "the close", d)) return 1;
    prep_cut_seckey_wipe(&n.b.k);
    nftw(n.b.root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static int levels[9];
static size_t n_levels;

/* PREP_PERF_CTL=FIFO: write "enable" / "disable" to perf's control fifo around the national
 * busiest incremental cut, so that `perf record -D -1 --control fifo:FIFO` profiles that cut
 * alone (docs/benchmarks.md, "Session 17: the busiest cut's CPU"); with
 * PREP_PERF_RENDER_ONLY set, its tally and render alone. */
static void perf_ctl(const char *cmd)
{
    const char *path = getenv("PREP_PERF_CTL");
    if (!path || !*path) return;
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "%s\n", cmd);
    fclose(f);
}

static int run_scale(prep_sim_scale scale, const char *name, const char *dir, double night_hours)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c;
    if (prep_sim_catalog(scale, 1, &c)) return 1;
    prep_actas *sets[8];
    if (c->n_elections > 8) return 1;
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    if (prep_sim_actas(c, &o, sets)) return 1;
    size_t nbins, total, *bins;
    size_t peak = busiest_bin(c, sets, &bins, &nbins, &total);
    if (!bins) return 1;
    prep_time t0 = c->window_open + (prep_time)peak * c->cut_interval, t1 = t0 + c->cut_interval;
    const char *tun = getenv("GLIBC_TUNABLES");
    const char *mp = getenv("PREP_MEM_POLICY");
    printf("== the cutter's heap (core.h, prep_mem_cutter): %s, %s\n",
           mp && !strcmp(mp, "0") ? "glibc's defaults" : "large blocks kept for reuse",
           tun && strstr(tun, "glibc.malloc.hugetlb=1") ? "huge pages" : "4 KB pages");
    printf("== %s: %u elections, %u districts, %u sections, %u casillas; %zu actas in the night, "
           "%zu in the busiest 5-minute bin (#%zu)\n",
           name, c->n_elections, c->n_districts, c->n_sections, c->n_casillas, total, bins[peak], peak);
    char ids[1024];
    election_ids(c, ids, sizeof ids);
    double rss_night = peak_rss();
    bench_store b;
    if (store_open(&b, dir, &d)) return 1;

    /* (a) the full first cut */
    double w0 = wall_s(), c0 = cpu_s();
    prep_tally *t;
    if (prep_tally_new(c, &t)) return 1;
    prep_tally_cursor cur[8];
    for (uint32_t el = 0; el < c->n_elections; el++)
        if (prep_tally_cursor_init(&cur[el], sets[el]) || prep_tally_apply_until(t, sets[el], &cur[el], t0, NULL))
            return 1;
    double c_tally = cpu_s();
    prep_render_cache *rc;
    prep_cut_hash_cache *hc;
    if (prep_render_cache_new(&rc) || prep_cut_hash_cache_new(&hc)) return 1;
    prep_site s;
    prep_render_site_init(&s);
    prep_render_stats st;
    prep_render_cut cut = {.seq = 1, .at = t0, .drill = 1, .process_name = NULL,
                           .valid_until = PREP_TIME_NONE, .final_cut = 0};
    if (prep_render_site(t, &cut, NULL, rc, &s, &st)) return 1;
    prep_tally_clear_dirty(t);
    double c_render = cpu_s(), rss_render = peak_rss();
    if (cut_site_hc(b.inst, &s, t0, &b.k, c->process_id, ids, hc, &d)) return die("cut 1", &d);
    double w_full = wall_s() - w0, c_full = cpu_s() - c0, rss_cut = peak_rss();
    uint64_t bytes = 0;
    for (size_t i = 0; i < s.n; i++) bytes += s.v[i].len;
    printf("   (a) full first cut: %.1f s wall, %.1f CPU s (tally %.1f, render %.1f, sign + store %.1f); "
           "%zu files, %.1f MB   [<= %.0f s wall: %s]\n",
           w_full, c_full, c_tally - c0, c_render - c_tally, c0 + c_full - c_render, s.n, (double)bytes / 1e6,
           LIM_FULL_WALL, verdict(w_full, LIM_FULL_WALL));
    fflush(stdout);

    /* the broadcaster holds cut 1 */
    if (hold_cut1(&b)) return die("the broadcaster's copy of cut 1", &d);
    bench_trim_after_cut(&s); /* as the institute after each cut */

    /* (b) the busiest 5-minute incremental cut */
    perf_ctl("enable");
    double w1 = wall_s(), c1 = cpu_s(), k1 = sys_s();
    long f1 = minor_faults();
    size_t applied = 0;
    for (uint32_t el = 0; el < c->n_elections; el++) {
        size_t n = 0;
        if (prep_tally_apply_until(t, sets[el], &cur[el], t1, &n)) return 1;
        applied += n;
    }
    double c_apply = cpu_s();
    cut.seq = 2;
    cut.at = t1;
    if (prep_render_site(t, &cut, NULL, rc, &s, &st)) return 1;
    prep_tally_clear_dirty(t);
    if (getenv("PREP_PERF_RENDER_ONLY")) perf_ctl("disable");
    double c_render2 = cpu_s(), rss_render2 = peak_rss();
    if (cut_site_hc(b.inst, &s, t1, &b.k, c->process_id, ids, hc, &d)) return die("cut 2", &d);
    double w_inc = wall_s() - w1, c_inc = cpu_s() - c1, k_inc = sys_s() - k1;
    long f_inc = minor_faults() - f1;
    perf_ctl("disable");
    /* the institute's compressed forms, once for every broadcaster: at each level asked for
     * (for the level's choice), the default last, whose cache the wire figure reads */
    prep_cut_wire_result wr;
    char lv[9][300];
    for (size_t li = 0; li < n_levels; li++) {
        double lu = 0, lc = wire_make(b.inst, 2, levels[li], &wr, &lu, &d);
        if (lc < 0) return 1;
        snprintf(lv[li], sizeof lv[li], "       zlib level %d: the new objects' compressible %.2f MB -> %.2f MB in %.2f CPU s "
               "(user %.2f); the patch %.2f MB -> %.2f MB\n",
               levels[li], (double)wr.raw_bytes / 1e6, (double)wr.gz_bytes / 1e6, lc, lu, (double)wr.patch_bytes / 1e6,
               (double)wr.patch_gz_bytes / 1e6);
    }
    double u_wire = 0, c_wire = wire_make(b.inst, 2, 0, &wr, &u_wire, &d);
    if (c_wire < 0) return 1;
    uint64_t obj = 0, patch = 0, sig = 0, wobj = 0;
    size_t nobj = 0;
    uint64_t by[K_N] = {0}, by_wire[K_N] = {0};
    double fl[FL_N] = {0};
    uint64_t fed = prep_cut_hash_cache_fed(hc);
    uint64_t mbytes = 0;
    if (delivered(&b, &obj, &patch, &sig, &nobj, by, &wobj, by_wire, fed, fl, &mbytes, &d)) return 1;
    double sent = (double)(obj + patch + sig);
    uint64_t wpatch = wr.patch_gz_bytes ? wr.patch_gz_bytes : patch;
    double wire = (double)(wobj + wpatch + sig);
    printf("   (b) busiest incremental cut: %zu captures, %zu of %zu bodies re-rendered; %.2f CPU s (apply %.2f, "
           "render %.2f, sign + store %.2f; of it the kernel's %.2f, %ld page faults), %.1f s wall   [<= %.0f CPU s: %s]\n",
           applied, st.bodies_rendered, st.bodies, c_inc, c_apply - c1, c_render2 - c_apply,
           c1 + c_inc - c_render2, k_inc, f_inc, w_inc, LIM_INC_CPU, verdict(c_inc, LIM_INC_CPU));
    double c_r2 = c_render2 - c_apply, fl_store = fl[FL_WRITE] + fl[FL_SHA];
    printf("       its floor on this machine, same run: writing its %zu new objects (%.1f MB) alone, as the store "
           "writes them (tmp/, rename, one syncfs): %.2f CPU s (the kernel's %.2f; the same bytes appended to one "
           "file: %.2f, the kernel's %.2f); SHA-256 over them once: %.2f CPU s; with the render's %.2f: %.2f CPU s\n",
           nobj, (double)obj / 1e6, fl[FL_WRITE], fl[FL_KERN], fl[FL_PACK], fl[FL_PACK_KERN], fl[FL_SHA], c_r2,
           fl_store + c_r2);
    /* the host's share: fresh pages against pages just freed, per byte, times what (b) wrote
     * into its store (its new objects and its manifest), if every page of it was fresh */
    double host_mb = obj ? (fl[FL_PACK_KERN] - fl[FL_WARM_KERN]) / ((double)obj / 1e6) : 0;
    if (host_mb < 0) host_mb = 0;
    printf("       this machine's fresh pages: the same file written again at once, into the pages it just freed: "
           "%.2f CPU s (the kernel's %.2f), so a page the guest touches first costs %.1f ms per MB more (its host "
           "backs it then: a virtual machine with free page reporting); (b) wrote %.1f MB into its store (new "
           "objects and manifest): up to %.2f s of its kernel's %.2f, if every page was fresh; its user time "
           "alone: %.2f CPU s\n",
           fl[FL_WARM], fl[FL_WARM_KERN], host_mb * 1e3, (double)(obj + mbytes) / 1e6,
           host_mb * (double)(obj + mbytes) / 1e6, k_inc, c_inc - k_inc);
    printf("       and what the format asks on top: the whole-file SHA-256 of its changed files (%.1f MB fed from the "
           "states the hash cache keeps): %.2f CPU s; signing its manifest (%.1f MB, pure Ed25519): %.2f CPU s; "
           "all with the render: %.2f CPU s, against its sign + store's %.2f + the render's %.2f\n",
           (double)fed / 1e6, fl[FL_FED], (double)mbytes / 1e6, fl[FL_SIGN],
           fl_store + fl[FL_FED] + fl[FL_SIGN] + c_r2, c1 + c_inc - c_render2, c_r2);
    printf("       delivered: %zu new objects %.2f MB + manifest patch %.2f MB + signature %llu B = %.2f MB   "
           "[<= %.0f MB: %s]\n",
           nobj, (double)obj / 1e6, (double)patch / 1e6, (unsigned long long)sig, sent / 1e6, LIM_DELIVERED / 1e6,
           verdict(sent, LIM_DELIVERED));
    printf("       the objects by kind of file:");
    for (int k = 0; k < K_N; k++) printf("%s %s %.1f MB", k ? "," : "", kind_name[k], (double)by[k] / 1e6);
    printf("\n");
    printf("       on the wire (gzip level %d where smaller): objects %.2f MB (%zu of %zu as .gz) + patch %.2f MB + "
           "signature %llu B = %.2f MB   [<= %.0f MB: %s]; compressing them: %.2f CPU s (user %.2f) at the institute, "
           "once per cut\n",
           PREP_CUT_WIRE_LEVEL, (double)wobj / 1e6, wr.compressed, nobj, (double)wpatch / 1e6, (unsigned long long)sig,
           wire / 1e6, LIM_DELIVERED / 1e6, verdict(wire, LIM_DELIVERED), c_wire, u_wire);
    printf("       on the wire by kind of file:");
    for (int k = 0; k < K_N; k++) printf("%s %s %.1f MB", k ? "," : "", kind_name[k], (double)by_wire[k] / 1e6);
    printf("\n");
    for (size_t li = 0; li < n_levels; li++) printf("%s", lv[li]);
    double rss = peak_rss(), gb = 1024.0 * 1024 * 1024;
    printf("   (c) peak RSS so far: %.2f GB (catalogue and night loaded: %.2f; after the first render %.2f, its cut "
           "%.2f, the incremental render %.2f)   [<= %.0f GB: %s]\n",
           rss / gb, rss_night / gb, rss_render / gb, rss_cut / gb, rss_render2 / gb, LIM_RSS / gb, verdict(rss, LIM_RSS));
    fflush(stdout);

    prep_render_site_free(&s);
    prep_render_cache_free(rc);
    prep_cut_hash_cache_free(hc);
    for (uint32_t el = 0; el < c->n_elections; el++) prep_tally_cursor_free(&cur[el]);
    prep_tally_free(t);
    if (night_hours <= 0 && restart_at(c, sets, ids, &b, 2, t1 + c->cut_interval, "the busiest point", &d)) return 1;
    prep_cut_seckey_wipe(&b.k);
    nftw(b.root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    if (night_hours > 0 && night_series(c, sets, ids, dir, night_hours, &d)) return 1;
    free(bins);
    for (uint32_t el = 0; el < c->n_elections; el++) prep_actas_free(sets[el]);
    prep_catalog_free(c);
    prep_diags_free(&d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "--store-work")) /* the night's helper (night_store_work) */
        return store_work(argv[2], strtoull(argv[3], NULL, 10), argv[4], argv[5]);
    prep_mem_cutter(argv); /* as prep institute does (core.h) */
    int qro_only = 0, nat_only = 0, i = 1;
    double night = 0;
    const char *dir = "/dev/shm";
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--qro")) qro_only = 1;
        else if (!strcmp(argv[i], "--national")) nat_only = 1;
        else if (!strcmp(argv[i], "--night") && i + 1 < argc) night = atof(argv[++i]);
        else if (!strcmp(argv[i], "--levels") && i + 1 < argc) {
            for (char *p = argv[++i]; *p && n_levels < 9; p += *p == ',') {
                char *e;
                long v = strtol(p, &e, 10);
                if (e == p || v < 1 || v > 9) {
                    fprintf(stderr, "bench_national: --levels takes zlib levels 1..9, e.g. 1,6,9\n");
                    return 2;
                }
                levels[n_levels++] = (int)v;
                p = e;
            }
        }
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench_national [--qro | --national] [--night HOURS] [--levels L,L,...] [DIR]\n");
            return 2;
        } else dir = argv[i];
    }
    if (night < 0 || night > 24) {
        fprintf(stderr, "bench_national: --night takes 0..24 hours\n");
        return 2;
    }
    if (!nat_only && run_scale(PREP_SIM_SCALE_QRO2021, "qro2021 (reference)", dir, night)) return 1;
    if (qro_only) return 0;
    return run_scale(PREP_SIM_SCALE_NATIONAL, "national", dir, night);
}

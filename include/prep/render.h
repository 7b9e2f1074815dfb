/* prep render: the official publication of one cut — every HTML page (Spanish), their
 * inline SVG charts, one CSS and one JS asset named by content hash, the CSV database and
 * LEEME of the cut, and the small corte.json the "hay un corte nuevo" script polls.
 * Layout, URLs, page kinds, embedded mode and caching hints: docs/formats/site.md.
 *
 * Render knows nothing of how files are stored or served (DESIGN.md): its output is an
 * in-memory site, a list of {path, bytes, media type, caching class}. The same tally and
 * cut information give byte-identical output.
 *
 * Incremental: a render cache (opaque, owned by the caller) keeps every page's BODY — all
 * that depends on the numbers — across cuts. A body is rendered again only when the tally
 * marks its aggregate dirty (prep_tally_dirty_list); the per-cut STAMP (cut time, sequence
 * number, validity, drill banner) is one part shared by every page, placed between each
 * page's fixed head and its body on every call (prep_site_file.n_parts). The
 * caller clears the tally's marks (prep_tally_clear_dirty) after each successful render,
 * and must not clear them between cuts without rendering while it keeps the cache.
 *
 * Ownership at each declaration: borrowed (not kept past the call), owned (the caller
 * frees with the named function), static (lives for the program). */
#ifndef PREP_RENDER_H
#define PREP_RENDER_H

#include "prep/policy.h"
#include "prep/tally.h"

/* Parts of one composed file: the cut format's limit (PREP_CUT_PARTS_MAX; render does not
 * include the cut's header, the cutter checks that both agree). */
#define PREP_RENDER_PARTS_MAX 16

typedef struct prep_site_file {
    char *path;             /* owned; relative, '/'-separated, no leading '/' ("gubernatura/index.html") */
    unsigned char *data;    /* owned (may be NULL when len == 0) */
    size_t len;
    const char *media_type; /* static: "text/html; charset=utf-8", ... */
    prep_policy_class cache; /* its path's class in the response policy (include/prep/policy.h):
                              * what servers send as its Cache-Control */
    uint8_t is_page;        /* 1 for an HTML page */
    uint8_t body_rendered;  /* pages: its body was rendered by this call (0: reused from the cache) */
    /* 1: sha256 (at the end) is the SHA-256 of the whole file, which render computed for a
     * page that shows it (the database files, base-de-datos/index.html): for
     * prep_cut_file.sha256. Beside the fields every pass reads, not in another cache line. */
    uint8_t has_sha256;
    uint8_t path_lent;      /* private to render: path belongs to the next site's file now */
    /* Composed pages: data is exactly the concatenation of n_parts parts of part_len[k] bytes:
     * pre (head and chrome of the page and tree), stamp (all per-cut text: the same bytes on
     * every page of both trees of one cut), body (the numbers: the same bytes in the main page
     * and its embebido/ twin), post (closing chrome). A national section page's body and its
     * datos.json's are further split, one part per election (docs/formats/site.md).
     * n_parts 0: a plain file. Pass them to prep_cut_file so a cut stores and ships each part
     * once (docs/formats/site.md). */
    uint8_t n_parts;
    size_t part_len[PREP_RENDER_PARTS_MAX];
    /* For prep_cut_file's hints: bit k set = part k (bit 0: a plain file) is byte for byte
     * part k of this path in the site passed back as `out` (only its per-cut part was
     * rewritten); hash_prefix: the parts before the per-cut one, which repeat from cut to cut. */
    uint32_t same_parts;
    uint8_t hash_prefix;
    /* Parts held by the cut store only (prep_render_site_shed: the cutter's last site between
     * cuts): bit k set = part k's bytes are not in data but in the store, as the object
     * whose SHA-256 is stored_sha[j], j its rank among the set bits. data then holds the
     * other parts only, in order; len and part_len stay the whole file's. Render never reads
     * a stored part: an unchanged one is carried into the new file as stored (its same_parts
     * bit set). 0 in every site render returns from nothing. */
    uint32_t stored;
    unsigned char (*stored_sha)[32]; /* owned; one per bit of stored */
    /* Set by render: the parts worth shedding (the body parts of a national section page and
     * of its datos.json, before the per-cut part: ~1.9 GB of the national site). */
    uint32_t sheddable;
    unsigned char sha256[32]; /* when has_sha256 */
} prep_site_file;

/* A whole site: files sorted by path (bytewise), paths unique. */
typedef struct prep_site {
    prep_site_file *v;      /* owned */
    size_t n, cap;
    /* Set by prep_render_site: the cache and call that made it. Passed back as `out` with
     * the same cache, its buffers of files whose bytes only change in the cut's stamp are
     * reused (docs/formats/site.md, "Incremental rendering"). */
    const void *origin;
    uint64_t gen;
    size_t finger; /* private to render: where the last lookup of a path found it */
} prep_site;

void prep_render_site_init(prep_site *s);
/* Frees every file and the array; leaves s empty (reusable). NULL ok. */
void prep_render_site_free(prep_site *s);
/* The file at path, or NULL (binary search). Borrowed. */
const prep_site_file *prep_render_site_find(const prep_site *s, const char *path);
/* Bytes of file f held in data: its length less its stored parts'. */
size_t prep_render_site_file_data_len(const prep_site_file *f);

/* The SHA-256 of part k (len bytes at bytes) of the file at path when the cut store holds
 * those bytes: 1 and md filled, or 0 (the part then stays in memory). */
typedef int (*prep_render_part_sha_fn)(void *ctx, const char *path, size_t n_parts, size_t k, const void *bytes,
                                       size_t len, unsigned char md[32]);

/* Sheds the sheddable parts of every file of s that sha() names: their bytes are freed and
 * the files keep the hashes (prep_site_file.stored). For a caller that keeps its last site
 * between cuts (the cutter), once the cut made from it holds those parts: a national site
 * keeps ~0.1 GB of its ~3 GB in memory. s keeps its origin (it is still reusable as `out`).
 * *freed (may be NULL) gets the bytes given back. (Batch work: memory failure aborts, core.h.) */
void prep_render_site_shed(prep_site *s, prep_render_part_sha_fn sha, void *ctx, uint64_t *freed);

/* What render needs to know of the cut it publishes. */
typedef struct prep_render_cut {
    uint64_t seq;             /* the cut's sequence number, 1.. (shown on every page) */
    prep_time at;             /* the cut instant (shown on every page in the process's zone) */
    int drill;                /* 1: a drill (simulacro): a "SIMULACRO" banner on every page */
    const char *process_name; /* borrowed; NULL = the catalogue's process_name */
    prep_time valid_until;    /* validity horizon; PREP_TIME_NONE = at + 3 x cut_interval */
    int final_cut;            /* the final cut (participation counts specials per the catalogue) */
    const char *override_reason; /* borrowed; NULL = none: the institute published this cut although
                                  * its captures failed an integrity check (docs/institute.md, "Input
                                  * integrity"); shown on "Cómo verificar" and in corte.json */
    const char *overridden;   /* borrowed; what the override let through, one line each */
} prep_render_cut;

/* One official broadcaster for the "Difusores oficiales" page. */
typedef struct prep_render_difusor {
    const char *name;         /* borrowed; shown as text */
    const char *url;          /* borrowed; its publication site (a link to another origin, on that
                               * page only; never fetched); NULL = no link */
} prep_render_difusor;

typedef struct prep_render_progress prep_render_progress; /* the night's progress series: see below */

typedef struct prep_render_opts {
    int embedded;             /* 1 (default): also write the embebido/ tree for iframes */
    const char *pubkey;       /* borrowed; the institute's signify public key file text, shown on
                               * "Cómo verificar este corte"; NULL = cuts not signed yet */
    const prep_render_difusor *difusores; /* borrowed array of n_difusores; NULL/0 = empty state */
    size_t n_difusores;
    const prep_render_progress *progress; /* borrowed; the series of the cuts BEFORE this one (NULL = no
                                    * progress chart, no avance/ files); render adds this cut's point */
    /* Shedding as the site is made (a cutter restarted over a store that holds a cut, so
     * that its first site is not whole in memory at once): each sheddable part is offered
     * to shed() with its bytes as its file is made, and one it names is kept by hash only,
     * as prep_render_site_shed does after a cut. NULL = every byte kept. */
    prep_render_part_sha_fn shed;
    void *shed_ctx;
} prep_render_opts;

void prep_render_opts_init(prep_render_opts *o);

typedef struct prep_render_stats {
    size_t files;             /* files in the site */
    uint64_t bytes;           /* their total size */
    size_t pages;             /* HTML pages (both trees) */
    size_t bodies;            /* distinct page bodies (one per page of the main tree) */
    size_t bodies_rendered;   /* bodies rendered by this call, per-cut pages included */
    size_t bodies_reused;     /* bodies taken from the cache */
    size_t cut_pages;         /* pages whose body is per cut and always rendered (base-de-datos, verificar) */
} prep_render_stats;

typedef struct prep_render_cache prep_render_cache; /* opaque */

/* A new, empty cache. Owned (prep_render_cache_free). One cache serves one tally (and its
 * catalogue) over successive cuts; a different catalogue resets it. */
PREP_NODISCARD prep_err prep_render_cache_new(prep_render_cache **out);
void prep_render_cache_free(prep_render_cache *c);

/* Renders the whole site of cut `cut` from tally t (borrowed, not modified) into out
 * (its previous content is freed first). cache may be NULL (every body rendered). o NULL
 * = defaults. st may be NULL. The database files are made here (prep_tally_db_write_csv per
 * election, prep_tally_db_write_leeme) and published under base-de-datos/. On error out is
 * left empty and the cache keeps only bodies that are still valid. */
PREP_NODISCARD prep_err prep_render_site(const prep_tally *t, const prep_render_cut *cut, const prep_render_opts *o,
                          prep_render_cache *cache, prep_site *out, prep_render_stats *st);

/* Formats n with comma thousands separators ("1,234,567"; "-12"). out >= 28 bytes. */
void prep_render_fmt_int(int64_t n, char out[28]);

/* ---------------------------------------------------------------- the night's progress
 * Per election, one point per cut so far: sequence, instant, actas counted and expected,
 * participation (numerator and lista nominal), total votes and each contender's votes at the
 * entity level (contenders: the candidacies of an entity-wide election, else the parties).
 * Published per cut as avance/<election-id>.json (docs/formats/site.md, "Progress series")
 * and drawn on each election's page. The caller keeps the series across cuts (or reads it
 * back from the newest stored cut with prep_render_progress_parse) and passes it in
 * prep_render_opts.progress; render never reads files. */
#define PREP_RENDER_PROGRESS_MAX_POINTS 2000u /* a series keeps at most this many points (oldest dropped) */

/* An empty series for every election of catalogue c (borrowed; must outlive it). Owned. */
PREP_NODISCARD prep_err prep_render_progress_new(const prep_catalog *c, prep_render_progress **out);
void prep_render_progress_free(prep_render_progress *p);
/* Points of election e's series. */
size_t prep_render_progress_len(const prep_render_progress *p, uint32_t e);
/* The site path of election e's series ("avance/gub.json") into out (>= 96 bytes). */
void prep_render_progress_path(const prep_catalog *c, uint32_t e, char *out, size_t n);
/* Replaces election e's series by the text of a published avance/<id>.json (name: for
 * diags). On bad input the points read before the first error are kept, one diag names
 * name, line, column and what is wrong, and PREP_ERR_PARSE (syntax), PREP_ERR_INVALID (a
 * rule: order, counts, another election or contender list) or PREP_ERR_LIMIT is returned. */
PREP_NODISCARD prep_err prep_render_progress_parse(prep_render_progress *p, uint32_t e, const char *name, const char *data,
                                    size_t len, prep_diags *d);
/* Appends cut `cut`'s point, computed from tally t, to every election's series (the newest
 * points of sequence >= cut->seq or instant > cut->at are dropped first: a store or a
 * clock that starts over). The same point render adds itself: call it after a successful
 * render to carry the series to the next cut. */
PREP_NODISCARD prep_err prep_render_progress_add(prep_render_progress *p, const prep_tally *t, const prep_render_cut *cut);

/* Limits: a site holds at most PREP_RENDER_MAX_PAGES pages per tree (PREP_ERR_LIMIT). */
#define PREP_RENDER_MAX_PAGES 2000000u

#endif

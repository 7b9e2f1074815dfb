/* The institute's cut maker for long-running commands (prep institute, prep demo): keeps
 * the catalogue, every election's captures with a cursor, the tally and the render cache
 * across cuts, so a cut costs what changed since the previous one (DESIGN.md promise 7).
 * `prep cut --catalog` is the one-shot form of the same steps. */
#ifndef PREP_CLI_CUTTER_H
#define PREP_CLI_CUTTER_H

#include "prep/cut.h"
#include "prep/render.h"
#include "prep/tally.h"

/* What identifies an actas file's content as read: a rewrite, an append or a replacement
 * changes one of these (cutter_actas_changed). */
typedef struct cutter_file_sig {
    uint64_t dev, ino, size;
    int64_t mtime_ns;
} cutter_file_sig;

typedef struct cutter {
    prep_catalog *cat;           /* owned */
    prep_tally *tally;           /* owned */
    prep_actas **sets;           /* owned, one per election */
    prep_tally_cursor *cursors;  /* owned, one per election */
    prep_render_cache *cache;    /* owned */
    prep_cut_hash_cache *hashes; /* owned: part hashes and prefix states of the last cut made */
    prep_site site;              /* owned: the last cut's site, kept so that the next render
                                  * reuses its buffers (prep_site.origin; zeroed = empty) */
    prep_cut_file *files;        /* owned: the site as prep_cut_make takes it, kept from cut to
                                  * cut (~30 MB nationally: fresh, its pages cost ~0.02 CPU s) */
    size_t files_cap;
    prep_cut_seckey key;         /* wiped at close */
    char *pubtext;               /* owned: the public key file's text (pages show it) */
    char *store;                 /* owned */
    int drill;
    int64_t valid_for;           /* seconds a cut stays current; 0 = 3 cut intervals */
    prep_time applied_until;     /* captures applied up to this instant */
    prep_time cursor_at;         /* the cursors have passed every capture up to this instant
                                  * (also of a cut refused after they were applied) */
    const prep_render_difusor *difusores; /* borrowed, for the "Difusores oficiales" page */
    size_t n_difusores;
    /* Input integrity (docs/institute.md, "Input integrity"): a cut is refused when a row
     * of the captures cannot be read, two captures of one acta conflict, or an election's
     * captured or counted actas would go below the active cut's; with an override reason
     * it is made and the reason, with what it overrode, is published in the signed cut. */
    const char *override_reason; /* borrowed; NULL: refuse */
    prep_buf overridden;         /* what the override let through, one line each */
    char *actas_dir;             /* owned */
    struct cutter_file_sig *actas_sig; /* owned, one per election: each actas file as read */
    char *cat_path;              /* owned: the catalogue's file, named in diags */
    char cat_sha[65];            /* its SHA-256; STORE/catalog says the last cut's (cutter_past.c) */
    cutter_file_sig cat_sig;     /* the catalogue's file as read (cutter_actas_changed) */
    int cat_noted;               /* STORE/catalog says cat_sha already */
    prep_render_progress *progress;     /* owned; the night's progress series, read back at the first cut */
    /* The last cut made: its sequence and manifest hash, and each election's captured and
     * counted actas in it (2 per election, owned), so that while it is the active cut the
     * next cut's count check needs not read its manifest back (~70 MB at national scale). */
    uint64_t made_seq;
    prep_time made_instant; /* its instant */
    char made_sha[65];
    int64_t *made_counts;
} cutter;

typedef struct cutter_stats {
    uint64_t seq;
    size_t files, pages, captures;
    uint64_t bytes;
    uint64_t held; /* of bytes, what the site kept for the next cut holds in memory (the rest
                    * is named by hash: prep_render_site_shed) */
    int final_cut;
    double cpu_seconds;
} cutter_stats;

/* Loads everything; errors printed as "prep CMD: ...". Returns 0, -1 (nothing to free),
 * or -2 (nothing to free) when the catalogue says `published = yes` (a derived
 * catalogue's rule, never an institute's: refused even with an override reason, its line
 * named), or when the captures fail the integrity checks and no override reason is given
 * (unreadable rows, conflicting captures: each a diag with file, line and column). */
int cutter_open(cutter *c, const char *cmd, const char *catalog, const char *actas_dir, const char *key,
                const char *pubkey, const char *store, int drill, const char *override_reason);
/* Applies the captures up to at (never backwards); refuses (PREP_ERR_VERIFY, a diag
 * "count-decreased" per figure, nothing signed) when an election's ACTAS_CAPTURADAS or
 * ACTAS_CONTABILIZADAS would be below the active cut's, unless c->override_reason; renders incrementally, signs and stores
 * cut active+1 with cut instant `instant` (PREP_TIME_NONE = at). A drill on an accelerated
 * clock passes the real moment as the instant and the simulated one as at, so the
 * broadcasters' clock checks (future instant, validity horizon) hold unchanged.
 * Returns PREP_OK or the error (diags in d). */
prep_err cutter_cut(cutter *c, prep_time at, prep_time instant, cutter_stats *st, prep_diags *d);
void cutter_close(cutter *c);
/* 1 when an actas file of c, or its catalogue's, is no longer the one it read (appended,
 * rewritten, replaced, gone): its path into which. The daemon then reads them again (a new cutter), so that a
 * live night's captures, written into the files as they come, reach the next cut, and its
 * first cut over the store checks them against the active cut. */
int cutter_actas_changed(const cutter *c, char *which, size_t whichsz);
/* The actas files read again into c when they only grew: when every capture c's tally
 * applied is still in them, the same and in the same order (a live night's files, written
 * as captures come), c keeps its tally, render cache, hash cache and last site, and its
 * next cut costs what changed (*fresh: the captures not applied yet). Captures written
 * late, dated at or before the last cut's instant, are applied at once where the tally's
 * capture of their acta is older (*late_applied), as counting them all in instant order
 * would (prep_tally_apply_late). Returns 1 then; 0 when a capture the tally applied is
 * gone or changed, or a late one's order cannot be told (the caller closes c and opens a
 * new cutter, whose first cut checks the files against the active cut); -1 (said; c
 * untouched) when the files cannot be read as they are now, or have unreadable, cut short
 * or conflicting rows and c has no override reason. */
int cutter_reload(cutter *c, const char *cmd, size_t *fresh, size_t *late_applied);
/* 1 when cutter_cut's e and diags d are a refusal of the captures' integrity against the
 * active cut (count-decreased, published-acta-missing): exit 1 for prep cut, an ALERT for
 * the daemon; --override-reason lets them through. */
int cutter_integrity_refused(prep_err e, const prep_diags *d);
/* cutter_past.c: the active cut's (manifest am, its signature checked) database of election
 * el read back once, plain or composed: its header block's ACTAS_CAPTURADAS and
 * ACTAS_CONTABILIZADAS into *cap, *cont (returns 0; -1 when it has none: no such file, a
 * cut made with --from), and its rows read with c's catalogue into *pub (owned), or NULL
 * when they cannot be (logged; another catalogue's columns: the published-actas check
 * does not run for it, the count check still does). */
int cutter_published_read(const cutter *c, const prep_cut_manifest *am, uint32_t el, prep_actas **pub, int64_t *cap,
                          int64_t *cont);
/* 1 (a diag "captures-behind" in d) when active cut seq published a capture of pub later
 * than at: a cut at `at` would take those back, whatever the files hold. A drill daemon
 * restarted with its clock.start behind the cuts it made (its cut instants are the real
 * moment, so "instant-regress" cannot see it); the files are not blamed. */
int cutter_published_behind(cutter *c, uint64_t seq, const prep_actas *pub, prep_time at, prep_diags *d);
/* The actas pub (election el of active cut seq) lists as captured that have no capture at
 * or before at in c's files now, each a diag "published-acta-missing" at its actas file
 * (the first 20), and with c->override_reason one line in c->overridden. Returns their count. */
size_t cutter_published_missing(cutter *c, uint64_t seq, uint32_t el, const prep_actas *pub, prep_time at,
                                prep_diags *d);
/* cutter_past.c: 1 (a diag "catalogue-changed" in d) when STORE/catalog says the active cut
 * was made with another catalogue than c's (another catalogue with the same process id
 * would change the expected actas, the lista nominal, the names: signed whenever the totals
 * do not drop); with c->override_reason a line in c->overridden instead, and 0. */
int cutter_catalog_changed(cutter *c, uint64_t active_seq, prep_diags *d);
/* After a cut made with c: STORE/catalog says c's catalogue (once per cutter). */
void cutter_catalog_note(cutter *c);
/* A new progress series for catalogue c, continued from the store's active cut (active,
 * its manifest as loaded, its signature checked by the caller with prep_cut_check_signer; NULL
 * when the store has none); damage is logged and never fails the call. Owned. */
prep_err cutter_progress_load(const prep_catalog *c, const char *store, const prep_cut_manifest *active,
                              prep_render_progress **out);

#endif

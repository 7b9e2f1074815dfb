/* prep monitor: one round (docs/monitor.md "A round"): the store's cuts, SHA256SUMS of
 * every broadcaster, then the sampled pages of the cut each one serves, verdicts,
 * evidence, state, board. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "monitor_internal.h"
#include "prep/deliver.h"

const char *prep_monitor_state_name(prep_monitor_state s)
{
    switch (s) {
    case PREP_MONITOR_GREEN: return "green";
    case PREP_MONITOR_AMBER: return "amber";
    case PREP_MONITOR_RED: return "red";
    }
    return "?";
}

void prep_monitor_result_free(prep_monitor_result *r)
{
    if (!r) return;
    free(r->rows);
    for (size_t i = 0; i < r->n_alert_log; i++) free(r->alert_log[i]);
    free(r->alert_log);
    memset(r, 0, sizeof *r);
}

int mon_read_cut(const char *store, uint64_t seq, mon_cut *out, char *previous)
{
    char path[PREP_MONITOR_FILE_MAX + 64];
    snprintf(path, sizeof path, "%s/cuts/%llu/manifest", store, (unsigned long long)seq);
    char *data = NULL;
    size_t len = 0;
    if (prep_read_file(path, (size_t)256 << 20, &data, &len)) return -1;
    out->seq = seq;
    prep_sha256_hex(data, len, out->sha256);
    out->instant = PREP_TIME_NONE;
    out->store_seen = PREP_TIME_NONE;
    if (previous) previous[0] = 0;
    /* the header is the first 12 lines; "# instant: T" and "# previous: H" are among them */
    const char *p = data;
    for (int line = 0; line < 12 && p < data + len; line++) {
        const char *nl = memchr(p, '\n', (size_t)(data + len - p));
        if (!nl) break;
        if (nl - p > 11 && nl - p < 64 && !strncmp(p, "# instant: ", 11)) {
            char t[64];
            snprintf(t, sizeof t, "%.*s", (int)(nl - p - 11), p + 11);
            prep_time x;
            if (!prep_time_parse(t, "UTC", &x)) out->instant = x;
        }
        if (previous && nl - p == 12 + 64 && !strncmp(p, "# previous: ", 12)) {
            memcpy(previous, p + 12, 64);
            previous[64] = 0;
            if (!prep_is_sha256_hex(previous)) previous[0] = 0;
        }
        p = nl + 1;
    }
    free(data);
    return 0;
}

int mon_store_refresh(const char *store, mon_state *s, uint64_t active, const char *active_sha256, size_t *n_read)
{
    size_t nr = 0;
    const mon_cut *ac = mon_cut_by_seq(s, active);
    if (ac && strcmp(ac->sha256, active_sha256)) {
        /* The index says otherwise than the pointer: if the store's file agrees with the
         * pointer, the store was replaced (a new drill, a restore): start the index afresh. */
        mon_cut mc;
        nr++;
        if (mon_read_cut(store, active, &mc, NULL) || strcmp(mc.sha256, active_sha256)) {
            if (n_read) *n_read = nr;
            return -1;
        }
        free(s->cuts);
        s->cuts = NULL;
        s->n_cuts = 0;
    }
    /* Only the cuts the index lacks: above its highest, and any gap below (a cut that could
     * not be read before; found by counting the index, no file opened for a cut already
     * indexed). */
    uint64_t top = s->n_cuts ? s->cuts[s->n_cuts - 1].seq : 0;
    if (top > active) top = active;
    size_t have = 0; /* indexed cuts at or below top */
    for (size_t i = 0; i < s->n_cuts && s->cuts[i].seq <= top; i++) have++;
    if (have < top) {
        /* gaps: rare (a cut unreadable at its time); read each missing one */
        for (uint64_t q = 1; q <= top; q++) {
            if (mon_cut_by_seq(s, q)) continue;
            mon_cut mc;
            nr++;
            if (!mon_read_cut(store, q, &mc, NULL)) mon_state_cache_cut(s, &mc);
        }
    }
    for (uint64_t q = top + 1; q <= active; q++) {
        mon_cut mc;
        char prev[65];
        nr++;
        if (mon_read_cut(store, q, &mc, prev)) continue;
        /* A new cut chains to the manifest of the one before it: when the index holds another
         * hash for that one, the index describes a store that is no longer there (replaced
         * under the board): drop it and read the store afresh. */
        const mon_cut *pc = q > 1 ? mon_cut_by_seq(s, q - 1) : NULL;
        if (pc && prev[0] && strcmp(prev, pc->sha256)) {
            free(s->cuts);
            s->cuts = NULL;
            s->n_cuts = 0;
            for (uint64_t r = 1; r < q; r++) {
                mon_cut rc;
                nr++;
                if (!mon_read_cut(store, r, &rc, NULL)) mon_state_cache_cut(s, &rc);
            }
        }
        mon_state_cache_cut(s, &mc);
    }
    if (n_read) *n_read = nr;
    ac = mon_cut_by_seq(s, active);
    return ac && !strcmp(ac->sha256, active_sha256) ? 0 : -1;
}

static int compressible(const char *media_type)
{
    return !strncmp(media_type, "text/", 5) || !strncmp(media_type, "application/json", 16) ||
           !strncmp(media_type, "image/svg+xml", 13) || !strncmp(media_type, "application/javascript", 22) ||
           !strncmp(media_type, "application/geo+json", 20);
}

typedef struct loaded {
    uint64_t seq;
    prep_cut_manifest m;
    char sig_sha256[65]; /* of the store's STORE/cuts/<seq>/manifest.sig; "" when unreadable */
    size_t sig_len;
} loaded;

/* The index in *lm of cut seq's manifest and signature hash, loaded from the store when
 * not there yet; -1 when the store cannot load it (reported). */
static long load_cut(const char *store, loaded **lm, size_t *n_lm, uint64_t seq, prep_diags *d)
{
    for (size_t j = 0; j < *n_lm; j++)
        if ((*lm)[j].seq == seq) return (long)j;
    *lm = prep_xrealloc(*lm, (*n_lm + 1) * sizeof **lm);
    loaded *L = &(*lm)[*n_lm];
    memset(L, 0, sizeof *L);
    L->seq = seq;
    if (prep_cut_load(store, seq, &L->m, d)) {
        prep_diags_add(d, store, 0, 0, "store", "cannot load cut %llu", (unsigned long long)seq);
        return -1;
    }
    /* its signature, which every broadcaster serving this cut must serve too */
    char sigpath[PREP_MONITOR_FILE_MAX + 64];
    char *sig = NULL;
    snprintf(sigpath, sizeof sigpath, "%s/cuts/%llu/manifest.sig", store, (unsigned long long)seq);
    if (prep_read_file(sigpath, 4096, &sig, &L->sig_len) == PREP_OK) prep_sha256_hex(sig, L->sig_len, L->sig_sha256);
    else L->sig_len = 0;
    free(sig);
    return (long)(*n_lm)++;
}

/* A page is judged against the cut it names itself, not only against the SHA256SUMS fetched
 * a moment before: a broadcaster that switched cuts between the two fetches serves, byte
 * for byte, the cut its page's x-prep-corte header or stamp (data-corte, "corte") names.
 * When f's bytes are not those of the cut it was sampled from, each cut it names that the
 * store holds (any signed sequence up to the active one, read again for a cut activated
 * during the round) is tried; the first whose manifest
 * (or signature, for SHA256SUMS.sig) has these bytes for this path becomes the expected one,
 * and f->judged_seq says which. A page whose bytes match no cut it names stays modified. */
static void judge_by_own_cut(const char *store, const mon_state *st, uint64_t active, loaded **lm, size_t *n_lm,
                             mon_fetch *f, prep_diags *d)
{
    if (f->curl_code != 0 || f->http_code != 200 || f->oversize || !f->found[0] || !strcmp(f->found, f->expected))
        return;
    int64_t named[2] = {f->x_prep_corte, f->stamp.corte};
    for (int k = 0; k < 2; k++) {
        int64_t j = named[k];
        if (j < 1 || (uint64_t)j == f->judged_seq || (k == 1 && j == named[0])) continue;
        if ((uint64_t)j > active) {
            /* a cut the institute activated after this round read its pointer, which the
             * broadcaster took before the round reached this page (busy hosts, seconds a cut:
             * session 31's CI saw cut 26 judged against 24 and called modified) */
            prep_cut_active a;
            if (prep_cut_active_read(store, &a, NULL) != PREP_OK || a.seq < (uint64_t)j) continue;
        } else if (!mon_cut_by_seq(st, (uint64_t)j)) {
            continue; /* no cut of the store */
        }
        long li = load_cut(store, lm, n_lm, (uint64_t)j, d);
        if (li < 0) continue;
        const loaded *L = &(*lm)[li];
        const char *want = NULL;
        uint64_t size = 0;
        if (!strcmp(f->path, MON_SIG_PATH)) {
            if (L->sig_sha256[0]) want = L->sig_sha256, size = L->sig_len;
        } else {
            const prep_cut_entry *en = prep_cut_manifest_find(&L->m, f->path);
            if (en) want = en->sha256, size = en->size;
        }
        if (want && !strcmp(want, f->found)) {
            snprintf(f->expected, sizeof f->expected, "%s", want);
            f->expected_size = size;
            f->judged_seq = (uint64_t)j;
            return;
        }
    }
}

typedef struct per_target {
    size_t first, count; /* its page fetches */
    char next_cursor[PREP_CUT_PATH_MAX + 1];
} per_target;

static prep_err round_targets(const prep_monitor_config *c, prep_time now, prep_monitor_result *r, prep_diags *d);

prep_err prep_monitor_round(const prep_monitor_config *c, prep_time now, prep_monitor_result *r, prep_diags *d)
{
    if (!c->registry[0]) return round_targets(c, now, r, d);
    /* the config's list, then every active broadcaster of the registry, read afresh each
     * round (a block or an activation shows at the next round) */
    prep_monitor_config eff = *c;
    eff.targets = NULL;
    eff.n = 0;
    if (c->n) {
        eff.targets = malloc(c->n * sizeof *eff.targets);
        if (!eff.targets) return PREP_ERR_NOMEM;
        memcpy(eff.targets, c->targets, c->n * sizeof *eff.targets);
        eff.n = c->n;
    }
    prep_err e = mon_registry_targets(c->registry, &eff.targets, &eff.n, d);
    if (e == PREP_ERR_NOMEM) {
        free(eff.targets);
        return e;
    }
    if (e) prep_diags_add(d, c->registry, 0, 0, "registry", "not read this round (%s); probing the config's list",
                          prep_err_str(e));
    e = round_targets(&eff, now, r, d);
    free(eff.targets);
    return e;
}

/* One round's working set (round_targets). */
typedef struct round_ctx {
    const prep_monitor_config *c;
    mon_state *st;
    uint64_t active;      /* the store's active cut */
    prep_time now;
    mon_fetch *sums;      /* per target: its SHA256SUMS */
    per_target *pt;       /* per target: its slice of pages */
    loaded *lm;           /* the cuts loaded to judge by (grows) */
    size_t n_lm;
    mon_fetch *pages;     /* every target's sampled pages */
    size_t n_pages;
} round_ctx;

/* For every target whose SHA256SUMS names a known cut: the sample of that cut's pages to
 * fetch (one of them again with an encoding), and its signature. */
static prep_err plan_pages(round_ctx *x, prep_diags *d)
{
    const prep_monitor_config *c = x->c;
    size_t n = c->n;
    for (size_t i = 0; i < n; i++) {
        if (x->sums[i].curl_code != 0 || x->sums[i].http_code != 200 || !x->sums[i].found[0]) continue;
        const mon_cut *mc = mon_cut_by_sha(x->st, x->sums[i].found, x->active);
        if (!mc) continue;
        (void)load_cut(c->store, &x->lm, &x->n_lm, mc->seq, d);
    }
    /* pointers into lm are stable until the fetches are judged (load_cut may grow it) */
    for (size_t i = 0; i < n; i++) {
        if (x->sums[i].curl_code != 0 || x->sums[i].http_code != 200 || !x->sums[i].found[0]) continue;
        const loaded *L = NULL;
        for (size_t j = 0; j < x->n_lm; j++)
            if (!strcmp(x->lm[j].m.sha256, x->sums[i].found)) L = &x->lm[j];
        if (!L) continue;
        const prep_cut_manifest *m = &L->m;
        mon_bstate *b = mon_state_get(x->st, c->targets[i].id);
        if (!b) return PREP_ERR_NOMEM;
        size_t k = mon_sample_size(m->n, c->sample, c->interval_seconds);
        size_t *idx = malloc((k ? k : 1) * sizeof *idx);
        mon_fetch *np = realloc(x->pages, (x->n_pages + k + 2) * sizeof *np);
        if (np) x->pages = np;
        if (!idx || !np) {
            free(idx);
            return PREP_ERR_NOMEM;
        }
        size_t got = mon_sample(m, b->cursor, k, idx, x->pt[i].next_cursor);
        x->pt[i].first = x->n_pages;
        size_t enc = SIZE_MAX;
        for (size_t j = 0; j < got; j++) {
            const prep_cut_entry *en = &m->entries[idx[j]];
            mon_fetch *f = &x->pages[x->n_pages++];
            memset(f, 0, sizeof *f);
            f->kind = MON_PAGE;
            f->target = i;
            f->path = en->path;
            f->judged_seq = L->seq;
            snprintf(f->expected, sizeof f->expected, "%s", en->sha256);
            f->expected_size = en->size;
            /* read (hashing, not keeping) past the size so a longer page still has its hash in the
             * evidence; beyond 16 MiB more it is cut off */
            f->max_bytes = en->size + ((uint64_t)16 << 20);
            if (mon_url_join(c->targets[i].url, en->path, f->url, sizeof f->url)) x->n_pages--;
            else if (compressible(en->media_type) && en->size >= 256) enc = x->n_pages - 1;
        }
        if (enc != SIZE_MAX) {
            mon_fetch *f = &x->pages[x->n_pages++];
            *f = x->pages[enc];
            f->kind = MON_ENC;
        }
        /* Every round, the signature beside SHA256SUMS: it is what lets anyone verify the
         * site, and it is not in the manifest the sample is drawn from. */
        if (L->sig_sha256[0]) {
            mon_fetch *f = &x->pages[x->n_pages++];
            memset(f, 0, sizeof *f);
            f->kind = MON_PAGE;
            f->target = i;
            f->path = MON_SIG_PATH;
            f->judged_seq = L->seq;
            memcpy(f->expected, L->sig_sha256, sizeof L->sig_sha256);
            f->expected_size = L->sig_len;
            f->max_bytes = L->sig_len + 4096;
            if (mon_url_join(c->targets[i].url, MON_SIG_PATH, f->url, sizeof f->url)) x->n_pages--;
        }
        x->pt[i].count = x->n_pages - x->pt[i].first;
        free(idx);
    }
    return PREP_OK;
}

/* Target i's verdict into r->rows[i] (and the counts), its history, its evidence lines. */
static prep_err judge_target(round_ctx *x, size_t i, prep_monitor_result *r, prep_diags *d)
{
    const prep_monitor_config *c = x->c;
    prep_monitor_row *row = &r->rows[i];
    const prep_monitor_target *t = &c->targets[i];
    const mon_fetch *sums = &x->sums[i];
    snprintf(row->id, sizeof row->id, "%s", t->id);
    snprintf(row->url, sizeof row->url, "%s", t->url);
    mon_bstate *b = mon_state_get(x->st, t->id);
    if (!b) return PREP_ERR_NOMEM;
    mon_obs o = {0};
    o.sums = sums;
    o.active_seq = x->active;
    o.now = x->now;
    o.first_seen = PREP_TIME_NONE;
    const char *sv = "error";
    if (sums->curl_code == 0 && sums->http_code == 200 && sums->found[0]) {
        o.cut = mon_cut_by_sha(x->st, sums->found, x->active);
        sv = o.cut ? (o.cut->seq == x->active ? "current" : "stale") : "unknown-manifest";
    }
    if (o.cut) {
        /* Pages of a cut older than SHA256SUMS's (a switch between the fetches, replicas at
         * different cuts, or a site that kept old pages under a new SHA256SUMS) are honest
         * bytes but old news: the broadcaster is judged as serving the oldest cut any of
         * its fetches was identical to, so its lag is that cut's, never "current". */
        for (size_t j = 0; j < x->pt[i].count; j++) {
            const mon_fetch *p = &x->pages[x->pt[i].first + j];
            if (p->curl_code == 0 && p->http_code == 200 && !p->oversize && p->found[0] &&
                !strcmp(p->found, p->expected) && p->judged_seq && p->judged_seq < o.cut->seq) {
                const mon_cut *oc = mon_cut_by_seq(x->st, p->judged_seq);
                if (oc) o.cut = oc;
            }
        }
        o.next = mon_cut_by_seq(x->st, o.cut->seq + 1);
        o.first_seen = mon_seen_note(b->seen_seq, b->seen_at, &b->n_seen, o.cut->seq, x->now);
        o.pages = x->pages ? x->pages + x->pt[i].first : NULL;
        o.n_pages = x->pt[i].count;
    }
    mon_judge(&o, c, row);
    if (o.cut && x->pt[i].count) snprintf(b->cursor, sizeof b->cursor, "%s", x->pt[i].next_cursor);
    mon_hist_push(b, x->now, row->state, row->serving_seq, (size_t)c->history);
    if (row->state == PREP_MONITOR_GREEN) r->green++;
    else if (row->state == PREP_MONITOR_AMBER) r->amber++;
    else r->red++;
    r->n++;
    mon_fetch all[1] = {*sums};
    prep_err ee = mon_evidence_append(c->out, t->id, all, 1, sv);
    if (!ee && o.n_pages) ee = mon_evidence_append(c->out, t->id, o.pages, o.n_pages, NULL);
    if (ee)
        prep_diags_add(d, c->out, 0, 0, "io", "cannot append to the evidence log of %s: %s", t->id,
                       prep_err_text(ee));
    return PREP_OK;
}

static prep_err round_targets(const prep_monitor_config *c, prep_time now, prep_monitor_result *r, prep_diags *d)
{
    memset(r, 0, sizeof *r);
    if (now == PREP_TIME_NONE) now = prep_time_now();
    r->at = now;
    prep_cut_active act;
    prep_err e = prep_cut_active_read(c->store, &act, d);
    if (e) {
        prep_diags_add(d, c->store, 0, 0, "no-active-cut", "the store has no active cut to compare with (%s)",
                       prep_err_str(e));
        return e;
    }
    r->active_seq = act.seq;

    char path[PREP_MONITOR_FILE_MAX + 64];
    snprintf(path, sizeof path, "%s/evidence", c->out);
    if ((e = prep_mkdirs(path))) {
        prep_diags_add(d, path, 0, 0, "io", "cannot create the board directory");
        return e;
    }
    char state_path[PREP_MONITOR_FILE_MAX + 64];
    snprintf(state_path, sizeof state_path, "%s/state.json", c->out);
    mon_state st;
    mon_state_load(state_path, &st, d);
    if (st.first_round == PREP_TIME_NONE) st.first_round = now;
    mon_seen_note(st.store_seq, st.store_at, &st.n_store, act.seq, now);

    /* the store's cuts: the index kept in the state, brought up to date (only new cuts are
     * read); the active one checked against the pointer */
    if (mon_store_refresh(c->store, &st, act.seq, act.manifest_sha256, NULL)) {
        prep_diags_add(d, c->store, 0, 0, "store", "the active cut %llu's manifest does not match the pointer",
                       (unsigned long long)act.seq);
        mon_state_free(&st);
        return PREP_ERR_VERIFY;
    }
    /* when each cut became known to the monitor: seen active, else not before the first round */
    for (size_t i = 0; i < st.n_cuts; i++) {
        prep_time t = st.first_round;
        for (size_t j = 0; j < st.n_store; j++)
            if (st.store_seq[j] == st.cuts[i].seq) t = st.store_at[j];
        st.cuts[i].store_seen = t;
    }

    prep_err ce = prep_deliver_curl_acquire(d);
    if (ce) {
        mon_state_free(&st);
        return ce;
    }
    size_t n = c->n;
    round_ctx x = {.c = c, .st = &st, .active = act.seq, .now = now};
    x.sums = calloc(n ? n : 1, sizeof *x.sums);
    x.pt = calloc(n ? n : 1, sizeof *x.pt);
    r->rows = calloc(n ? n : 1, sizeof *r->rows);
    if (!x.sums || !x.pt || !r->rows) {
        e = PREP_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        x.sums[i].kind = MON_SUMS;
        x.sums[i].target = i;
        x.sums[i].path = "SHA256SUMS";
        x.sums[i].max_bytes = (uint64_t)256 << 20;
        mon_url_join(c->targets[i].url, "SHA256SUMS", x.sums[i].url, sizeof x.sums[i].url);
    }
    mon_fetch_all(x.sums, n, c);
    /* what each serves, and the sample of that cut */
    if ((e = plan_pages(&x, d))) goto out;
    mon_fetch_all(x.pages, x.n_pages, c);
    for (size_t j = 0; j < x.n_pages; j++) judge_by_own_cut(c->store, &st, act.seq, &x.lm, &x.n_lm, &x.pages[j], d);
    /* verdicts */
    for (size_t i = 0; i < n && !e; i++) e = judge_target(&x, i, r, d);
    if (e) goto out;
    /* alerts before the state is saved: what each channel was told is part of it */
    mon_alerts_round(c, r, &st, mon_cut_by_seq(&st, act.seq), now, d);
    if ((e = mon_state_save(state_path, &st))) {
        prep_diags_add(d, state_path, 0, 0, "io", "cannot write the monitor's state: %s", prep_err_text(e));
        goto out;
    }
    if ((e = mon_board_write(c, r, &st)))
        prep_diags_add(d, c->out, 0, 0, "io", "cannot write the board: %s", prep_err_text(e));
out:
    for (size_t j = 0; j < x.n_lm; j++) prep_cut_manifest_free(&x.lm[j].m);
    free(x.lm);
    free(x.pages);
    free(x.pt);
    free(x.sums);
    mon_state_free(&st);
    prep_deliver_curl_release();
    if (e) prep_monitor_result_free(r);
    return e;
}

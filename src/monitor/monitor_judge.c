/* prep monitor: the monitor's memory (OUT/state.json), the rotating sample, and the
 * verdict of one broadcaster from what one round saw (docs/monitor.md "Verdicts"). */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor_internal.h"

/* ---------------------------------------------------------------- state */
prep_time mon_seen_note(uint64_t *seqs, prep_time *ats, size_t *n, uint64_t seq, prep_time at)
{
    for (size_t i = 0; i < *n; i++)
        if (seqs[i] == seq) return ats[i];
    if (*n == MON_SEEN_MAX) {
        /* drop the lowest sequence */
        size_t lo = 0;
        for (size_t i = 1; i < *n; i++)
            if (seqs[i] < seqs[lo]) lo = i;
        if (seqs[lo] > seq) return at; /* older than all kept: not worth keeping */
        seqs[lo] = seqs[*n - 1];
        ats[lo] = ats[*n - 1];
        (*n)--;
    }
    seqs[*n] = seq;
    ats[*n] = at;
    (*n)++;
    return at;
}

void mon_hist_push(mon_bstate *b, prep_time at, prep_monitor_state st, uint64_t seq, size_t keep)
{
    if (!keep) return;
    if (b->n_hist >= keep) {
        size_t drop = b->n_hist - keep + 1;
        memmove(b->hist, b->hist + drop, (b->n_hist - drop) * sizeof *b->hist);
        b->n_hist -= drop;
    }
    mon_hist *h = realloc(b->hist, (b->n_hist + 1) * sizeof *h);
    if (!h) return;
    b->hist = h;
    h[b->n_hist++] = (mon_hist){at, st, seq};
}

/* Index of the first entry with seq >= q (n_cuts when none). */
static size_t cut_lower_bound(const mon_state *s, uint64_t q)
{
    size_t lo = 0, hi = s->n_cuts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->cuts[mid].seq < q) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void mon_state_cache_cut(mon_state *s, const mon_cut *c)
{
    size_t i = cut_lower_bound(s, c->seq);
    if (i < s->n_cuts && s->cuts[i].seq == c->seq) {
        s->cuts[i] = *c;
        return;
    }
    if (s->n_cuts >= MON_CUTS_MAX) return;
    /* capacity 16, then doubled whenever full (16, 32, 64, ...): amortised O(1) per cut */
    if (s->n_cuts == 0 || (s->n_cuts >= 16 && (s->n_cuts & (s->n_cuts - 1)) == 0))
        s->cuts = prep_xrealloc(s->cuts, (s->n_cuts ? 2 * s->n_cuts : 16) * sizeof *s->cuts);
    memmove(s->cuts + i + 1, s->cuts + i, (s->n_cuts - i) * sizeof *s->cuts);
    s->cuts[i] = *c;
    s->n_cuts++;
}

const mon_cut *mon_cut_by_seq(const mon_state *s, uint64_t seq)
{
    size_t i = cut_lower_bound(s, seq);
    return i < s->n_cuts && s->cuts[i].seq == seq ? &s->cuts[i] : NULL;
}

const mon_cut *mon_cut_by_sha(const mon_state *s, const char *sha256, uint64_t max_seq)
{
    for (size_t i = s->n_cuts; i-- > 0;)
        if (s->cuts[i].seq <= max_seq && !strcmp(s->cuts[i].sha256, sha256)) return &s->cuts[i];
    return NULL;
}

mon_bstate *mon_state_get(mon_state *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->b[i].id, id)) return &s->b[i];
    mon_bstate *nb = realloc(s->b, (s->n + 1) * sizeof *nb);
    if (!nb) return NULL;
    s->b = nb;
    mon_bstate *b = &s->b[s->n++];
    memset(b, 0, sizeof *b);
    snprintf(b->id, sizeof b->id, "%s", id);
    return b;
}

void mon_state_free(mon_state *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->b[i].hist);
    free(s->b);
    free(s->cuts);
    free(s->told);
    memset(s, 0, sizeof *s);
}

static void load_pairs(json_t *arr, uint64_t *seqs, prep_time *ats, size_t *n)
{
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p) {
        json_t *a = json_array_get(p, 0), *b = json_array_get(p, 1);
        if (json_is_integer(a) && json_is_integer(b) && json_integer_value(a) > 0)
            mon_seen_note(seqs, ats, n, (uint64_t)json_integer_value(a), json_integer_value(b));
    }
}

void mon_state_load(const char *path, mon_state *s, prep_diags *d)
{
    memset(s, 0, sizeof *s);
    s->first_round = PREP_TIME_NONE;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            prep_diags_add(d, path, je.line, je.column, "state-damaged", "%s; starting with no memory", je.text);
        }
        return;
    }
    s->first_round = PREP_TIME_NONE;
    json_t *fr = json_object_get(root, "first_round");
    if (json_is_integer(fr)) s->first_round = json_integer_value(fr);
    load_pairs(json_object_get(root, "store_seen"), s->store_seq, s->store_at, &s->n_store);
    size_t ci;
    json_t *cv;
    json_array_foreach(json_object_get(root, "cuts"), ci, cv) {
        json_t *a = json_array_get(cv, 0), *h = json_array_get(cv, 1), *t = json_array_get(cv, 2);
        if (!json_is_integer(a) || json_integer_value(a) < 1 || !json_is_string(h) || !json_is_integer(t) ||
            !prep_is_sha256_hex(json_string_value(h)))
            continue;
        mon_cut c = {(uint64_t)json_integer_value(a), "", json_integer_value(t), PREP_TIME_NONE};
        snprintf(c.sha256, sizeof c.sha256, "%s", json_string_value(h));
        mon_state_cache_cut(s, &c);
    }
    json_t *bs = json_object_get(root, "broadcasters");
    const char *id;
    json_t *v;
    json_object_foreach(bs, id, v) {
        if (strlen(id) > PREP_MONITOR_ID_MAX) continue;
        mon_bstate *b = mon_state_get(s, id);
        if (!b) break;
        const char *cur = json_string_value(json_object_get(v, "cursor"));
        if (cur && strlen(cur) <= PREP_CUT_PATH_MAX) snprintf(b->cursor, sizeof b->cursor, "%s", cur);
        load_pairs(json_object_get(v, "seen"), b->seen_seq, b->seen_at, &b->n_seen);
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(v, "history"), i, h) {
            json_t *at = json_array_get(h, 0), *st = json_array_get(h, 1), *sq = json_array_get(h, 2);
            if (!json_is_integer(at) || !json_is_integer(st) || !json_is_integer(sq)) continue;
            json_int_t x = json_integer_value(st);
            if (x < 0 || x > 2 || json_integer_value(sq) < 0) continue;
            mon_hist_push(b, json_integer_value(at), (prep_monitor_state)x, (uint64_t)json_integer_value(sq),
                          PREP_MONITOR_HISTORY_MAX);
        }
    }
    /* the alerts' memory: [channel, subject, since, last] per (channel, subject) told bad */
    size_t ai;
    json_t *av;
    json_array_foreach(json_object_get(root, "alerts"), ai, av) {
        json_t *ch = json_array_get(av, 0), *sb = json_array_get(av, 1), *si = json_array_get(av, 2),
               *la = json_array_get(av, 3);
        if (!json_is_integer(ch) || json_integer_value(ch) < 0 || json_integer_value(ch) >= MON_CH_N ||
            !json_is_string(sb) || !json_is_integer(si) || !json_is_integer(la) || s->n_told >= MON_TOLD_MAX)
            continue;
        const char *subj = json_string_value(sb);
        if (!subj[0] || strlen(subj) != json_string_length(sb) || strlen(subj) > PREP_MONITOR_ID_MAX + 1) continue;
        if (mon_told_find(s, (int)json_integer_value(ch), subj)) continue;
        mon_told *nt = realloc(s->told, (s->n_told + 1) * sizeof *nt);
        if (!nt) break;
        s->told = nt;
        mon_told *t = &s->told[s->n_told++];
        memset(t, 0, sizeof *t);
        snprintf(t->subject, sizeof t->subject, "%s", subj);
        t->channel = (int)json_integer_value(ch);
        t->bad = 1;
        t->since = json_integer_value(si);
        t->last = json_integer_value(la);
    }
    json_decref(root);
}

static json_t *pairs(const uint64_t *seqs, const prep_time *ats, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("[II]", (json_int_t)seqs[i], (json_int_t)ats[i]));
    return a;
}

prep_err mon_state_save(const char *path, const mon_state *s)
{
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(1));
    if (s->first_round != PREP_TIME_NONE) json_object_set_new(root, "first_round", json_integer(s->first_round));
    json_object_set_new(root, "store_seen", pairs(s->store_seq, s->store_at, s->n_store));
    json_t *cuts = json_array();
    for (size_t i = 0; i < s->n_cuts; i++)
        json_array_append_new(cuts, json_pack("[IsI]", (json_int_t)s->cuts[i].seq, s->cuts[i].sha256,
                                              (json_int_t)s->cuts[i].instant));
    json_object_set_new(root, "cuts", cuts);
    json_t *bs = json_object();
    for (size_t i = 0; i < s->n; i++) {
        const mon_bstate *b = &s->b[i];
        json_t *h = json_array();
        for (size_t j = 0; j < b->n_hist; j++)
            json_array_append_new(h, json_pack("[IiI]", (json_int_t)b->hist[j].at, (int)b->hist[j].state,
                                               (json_int_t)b->hist[j].seq));
        json_object_set_new(bs, b->id,
                            json_pack("{s:s,s:o,s:o}", "cursor", b->cursor, "seen",
                                      pairs(b->seen_seq, b->seen_at, b->n_seen), "history", h));
    }
    json_object_set_new(root, "broadcasters", bs);
    json_t *al = json_array();
    for (size_t i = 0; i < s->n_told; i++)
        json_array_append_new(al, json_pack("[isII]", s->told[i].channel, s->told[i].subject,
                                            (json_int_t)s->told[i].since, (json_int_t)s->told[i].last));
    json_object_set_new(root, "alerts", al);
    char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    if (!text) return PREP_ERR_NOMEM;
    size_t n = strlen(text);
    text[n] = '\n';
    prep_err e = prep_write_file_atomic(path, text, n + 1);
    free(text);
    return e;
}

/* ---------------------------------------------------------------- the sample */
size_t mon_sample_size(size_t n_paths, int64_t sample, int64_t interval_seconds)
{
    /* rounds in a day, each taking (k - 2) rotating paths: k >= n * interval / 86400 + 2 */
    uint64_t need = ((uint64_t)n_paths * (uint64_t)interval_seconds + 86399) / 86400 + 2;
    uint64_t k = (uint64_t)sample > need ? (uint64_t)sample : need;
    if (k > PREP_MONITOR_SAMPLE_MAX) k = PREP_MONITOR_SAMPLE_MAX;
    return (size_t)k;
}

size_t mon_sample(const prep_cut_manifest *m, const char *cursor, size_t k, size_t *idx, char *next_cursor)
{
    size_t got = 0;
    next_cursor[0] = 0;
    if (cursor) snprintf(next_cursor, PREP_CUT_PATH_MAX + 1, "%s", cursor);
    if (!m->n || !k) return 0;
    size_t fixed[2];
    size_t nf = 0;
    const char *always[] = {"index.html", "corte.json"};
    for (size_t i = 0; i < 2 && got < k; i++) {
        const prep_cut_entry *e = prep_cut_manifest_find(m, always[i]);
        if (e) idx[got++] = fixed[nf++] = (size_t)(e - m->entries);
    }
    /* first entry strictly after cursor */
    size_t lo = 0, hi = m->n;
    if (cursor && cursor[0]) {
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(m->entries[mid].path, cursor) <= 0) lo = mid + 1;
            else hi = mid;
        }
    }
    size_t start = lo % m->n;
    for (size_t step = 0; step < m->n && got < k; step++) {
        size_t i = (start + step) % m->n;
        int dup = 0;
        for (size_t j = 0; j < nf; j++) dup |= fixed[j] == i;
        if (dup) continue;
        idx[got++] = i;
        snprintf(next_cursor, PREP_CUT_PATH_MAX + 1, "%s", m->entries[i].path);
    }
    return got;
}

/* ---------------------------------------------------------------- verdicts */
static void iso_utc(prep_time t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t == PREP_TIME_NONE || !gmtime_r(&tt, &tm)) {
        snprintf(out, outsz, "?");
        return;
    }
    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Raises the row to st with this reason when st is worse than what it has. */
static void raise_to(prep_monitor_row *row, prep_monitor_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void raise_to(prep_monitor_row *row, prep_monitor_state st, const char *fmt, ...)
{
    if (st <= row->state && row->reason[0]) return;
    row->state = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(row->reason, sizeof row->reason, fmt, ap);
    va_end(ap);
}

static prep_time later(prep_time a, prep_time b)
{
    if (a == PREP_TIME_NONE) return b;
    if (b == PREP_TIME_NONE) return a;
    return a > b ? a : b;
}

void mon_judge(const mon_obs *o, const prep_monitor_config *c, prep_monitor_row *row)
{
    const mon_fetch *s = o->sums;
    row->state = PREP_MONITOR_GREEN;
    row->reason[0] = 0;
    row->serving_seq = 0;
    row->cuts_behind = -1;
    row->lag_seconds = -1;
    row->cert_days_left = INT64_MIN;
    row->cert_expires = s->cert_expires;
    row->x_prep_corte = s->x_prep_corte;
    row->pages_checked = 0;
    row->pages_bad = 0;
    char when[32];

    if (s->curl_code != 0) {
        if (mon_curl_is_cert_error(s->curl_code))
            raise_to(row, PREP_MONITOR_RED, "certificate not valid: %s", s->curl_error);
        else
            raise_to(row, PREP_MONITOR_RED, "unreachable: %s", s->curl_error);
        return;
    }
    if (s->cert_expires != PREP_TIME_NONE) {
        int64_t left = s->cert_expires - o->now;
        row->cert_days_left = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
    }
    if (s->http_code != 200) {
        raise_to(row, PREP_MONITOR_RED, "SHA256SUMS answered HTTP %ld", s->http_code);
        return;
    }
    if (!o->cut) {
        raise_to(row, PREP_MONITOR_RED, "manifest not signed by the institute (SHA256SUMS is %.16s..., no cut of the store)",
                 s->found);
        return;
    }
    row->serving_seq = o->cut->seq;
    row->cuts_behind = o->active_seq > o->cut->seq ? (int64_t)(o->active_seq - o->cut->seq) : 0;

    /* the pages */
    for (size_t i = 0; i < o->n_pages; i++) {
        const mon_fetch *p = &o->pages[i];
        const char *enc = p->kind == MON_ENC ? (p->content_encoding[0] ? p->content_encoding : "identity") : NULL;
        row->pages_checked++;
        int is_sig = !strcmp(p->path, MON_SIG_PATH);
        if (p->curl_code != 0 && !p->oversize) {
            row->pages_bad++;
            raise_to(row, PREP_MONITOR_RED, "unreachable while sampling %s: %s", p->path, p->curl_error);
        } else if (p->http_code != 200) {
            row->pages_bad++;
            if (is_sig)
                raise_to(row, PREP_MONITOR_RED, "missing %s (HTTP %ld): nobody can verify the site", p->path,
                         p->http_code);
            else
                raise_to(row, PREP_MONITOR_RED, "missing page %s (HTTP %ld)", p->path, p->http_code);
        } else if (p->oversize || strcmp(p->found, p->expected)) {
            row->pages_bad++;
            if (is_sig)
                raise_to(row, PREP_MONITOR_RED, "%s is not the institute's signature of this cut", p->path);
            else if (enc)
                raise_to(row, PREP_MONITOR_RED, "modified page %s (decoded from %s)", p->path, enc);
            else
                raise_to(row, PREP_MONITOR_RED, "modified page %s", p->path);
        }
    }

    /* currency and lag */
    if (row->cuts_behind > 0) {
        prep_time ref = o->next ? later(o->next->instant, o->next->store_seen) : o->now;
        int64_t behind = o->now > ref ? o->now - ref : 0;
        row->lag_seconds = behind;
        iso_utc(ref, when, sizeof when);
        prep_monitor_state st = behind > c->red_lag_seconds ? PREP_MONITOR_RED
                                : (behind > c->amber_lag_seconds || row->cuts_behind >= 2) ? PREP_MONITOR_AMBER
                                                                                             : PREP_MONITOR_GREEN;
        if (st == PREP_MONITOR_GREEN)
            raise_to(row, st, "serving cut %llu; cut %llu pending for %llds", (unsigned long long)o->cut->seq,
                     (unsigned long long)o->active_seq, (long long)behind);
        else
            raise_to(row, st, "stale, %lld cut%s behind (serving cut %llu; behind since %s, %llds)",
                     (long long)row->cuts_behind, row->cuts_behind == 1 ? "" : "s", (unsigned long long)o->cut->seq,
                     when, (long long)behind);
    } else {
        prep_time ref = later(o->cut->instant, o->cut->store_seen);
        if (o->first_seen != PREP_TIME_NONE && ref != PREP_TIME_NONE)
            row->lag_seconds = o->first_seen > ref ? o->first_seen - ref : 0;
        if (row->lag_seconds > c->red_lag_seconds)
            raise_to(row, PREP_MONITOR_RED, "late: cut %llu first served %llds after it was made",
                     (unsigned long long)o->cut->seq, (long long)row->lag_seconds);
        else if (row->lag_seconds > c->amber_lag_seconds)
            raise_to(row, PREP_MONITOR_AMBER, "late: cut %llu first served %llds after it was made",
                     (unsigned long long)o->cut->seq, (long long)row->lag_seconds);
    }

    /* the certificate */
    if (row->cert_days_left != INT64_MIN) {
        iso_utc(s->cert_expires, when, sizeof when);
        if (s->cert_expires <= o->now)
            raise_to(row, PREP_MONITOR_RED, "certificate expired %s", when);
        else if (row->cert_days_left < c->cert_warn_days)
            raise_to(row, PREP_MONITOR_AMBER, "certificate expires in %lld day%s (%s)",
                     (long long)row->cert_days_left, row->cert_days_left == 1 ? "" : "s", when);
    }
    if (!row->reason[0])
        snprintf(row->reason, sizeof row->reason, "serving cut %llu, %zu sampled page%s identical",
                 (unsigned long long)o->cut->seq, row->pages_checked, row->pages_checked == 1 ? "" : "s");
}

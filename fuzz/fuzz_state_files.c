/* libFuzzer target: the readers of prep's own state files, which a crash, a full disk or
 * a hand edit can leave damaged. The first byte picks the reader, the rest is the file:
 *   'a' a store's active pointer (prep_cut_active_read: serve, push, pull, monitor read it);
 *   'd' a broadcaster's delivery state (prep_deliver_state_read: what the push believes
 *       it has; damaged = send everything);
 *   'm' the monitor's memory (mon_state_load, OUT/state.json), its alerts' memory included.
 * Checks: no crash or leak (ASan); a damaged file is reported by a diag and leaves nothing
 * half-read; what is accepted is in range (sequence 1..PREP_CUT_SEQ_MAX, a SHA-256 in
 * hex, a known mode; the monitor's lists within their bounds), and the monitor's state
 * written back by mon_state_save reads back the same. Files live in one temp directory
 * made at the first input and removed at exit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/cut.h"
#include "prep/deliver.h"
#include "../src/monitor/monitor_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void cleanup(void)
{
    static const char *const names[] = {"active", "b/state", "state.json", "again.json", "b"};
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        remove(p);
    }
    rmdir(dir);
}

static void put(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) abort();
}

static void state_ok(const mon_state *s)
{
    if (s->n_cuts > MON_CUTS_MAX || s->n_store > MON_SEEN_MAX || s->n_told > MON_TOLD_MAX) abort();
    for (size_t i = 0; i < s->n_told; i++)
        if (s->told[i].channel < 0 || s->told[i].channel >= MON_CH_N || !s->told[i].subject[0]) abort();
    for (size_t i = 0; i < s->n_cuts; i++)
        if (s->cuts[i].seq < 1 || !prep_is_sha256_hex(s->cuts[i].sha256)) abort();
    for (size_t i = 0; i < s->n; i++) {
        const mon_bstate *b = &s->b[i];
        if (b->n_seen > MON_SEEN_MAX || b->n_hist > PREP_MONITOR_HISTORY_MAX) abort();
        if (strnlen(b->cursor, sizeof b->cursor) >= sizeof b->cursor) abort();
        for (size_t k = 0; k < b->n_hist; k++)
            if ((unsigned)b->hist[k].state > 2) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/prep-fuzz-state.XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir)) abort();
        atexit(cleanup);
        char sub[96];
        snprintf(sub, sizeof sub, "%s/b", dir);
        mkdir(sub, 0700);
    }
    char path[128];
    prep_diags d;
    prep_diags_init(&d);
    switch (data[0]) {
    case 'a': {
        snprintf(path, sizeof path, "%s/active", dir);
        put(path, data + 1, size - 1);
        prep_cut_active a;
        prep_err e = prep_cut_active_read(dir, &a, &d);
        if (e == PREP_OK) {
            if (a.seq < 1 || a.seq > PREP_CUT_SEQ_MAX || !prep_is_sha256_hex(a.manifest_sha256) ||
                (a.mode != PREP_CUT_LIVE && a.mode != PREP_CUT_DRILL) || d.n)
                abort();
        } else if (!d.n) {
            abort();
        }
        break;
    }
    case 'd': {
        snprintf(path, sizeof path, "%s/b/state", dir);
        put(path, data + 1, size - 1);
        uint64_t seq;
        char sha[65];
        prep_err e = prep_deliver_state_read(dir, "b", &seq, sha, &d);
        if (e != PREP_OK) abort(); /* the file exists: read, or reported damaged */
        if (seq) {
            if (seq > PREP_CUT_SEQ_MAX || !prep_is_sha256_hex(sha) || d.n) abort();
        } else if (!prep_diags_find(&d, "state") || sha[0]) {
            abort();
        }
        break;
    }
    case 'm': {
        snprintf(path, sizeof path, "%s/state.json", dir);
        put(path, data + 1, size - 1);
        mon_state s;
        mon_state_load(path, &s, &d);
        state_ok(&s);
        /* Round trip: what was kept is written and read back the same. */
        char again[160];
        snprintf(again, sizeof again, "%s/again.json", dir);
        if (mon_state_save(again, &s) == PREP_OK) {
            mon_state t;
            prep_diags d2;
            prep_diags_init(&d2);
            mon_state_load(again, &t, &d2);
            if (d2.n || t.n_cuts != s.n_cuts || t.n_store != s.n_store || t.n != s.n ||
                t.first_round != s.first_round)
                abort();
            for (size_t i = 0; i < s.n; i++) { /* saved with sorted keys: match by id */
                const mon_bstate *x = NULL;
                for (size_t k = 0; k < t.n && !x; k++)
                    if (!strcmp(t.b[k].id, s.b[i].id)) x = &t.b[k];
                if (!x || x->n_seen != s.b[i].n_seen || x->n_hist != s.b[i].n_hist || strcmp(x->cursor, s.b[i].cursor))
                    abort();
            }
            /* the alerts' memory: the same entries, in the same order */
            if (t.n_told != s.n_told) abort();
            for (size_t i = 0; i < s.n_told; i++)
                if (strcmp(t.told[i].subject, s.told[i].subject) || t.told[i].channel != s.told[i].channel ||
                    t.told[i].since != s.told[i].since || t.told[i].last != s.told[i].last || !t.told[i].bad)
                    abort();
            mon_state_free(&t);
            prep_diags_free(&d2);
        }
        mon_state_free(&s);
        break;
    }
    default:
        break;
    }
    prep_diags_free(&d);
    return 0;
}

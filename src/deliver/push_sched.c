/* prep deliver, push: which file each stream of a target sends next (prep_deliver_sched).
 * Objects (a prefix of the plan) in any order over every free stream; the manifests or
 * patches and signatures after them, one at a time, in plan order. */
#include <stdlib.h>

#include "prep/deliver.h"

enum { S_PENDING = 0, S_FLIGHT = 1, S_DONE = 2 };

prep_err prep_deliver_sched_init(prep_deliver_sched *s, size_t n, size_t objects)
{
    s->n = n;
    s->objects = objects > n ? n : objects;
    s->done = s->inflight = s->cursor = 0;
    s->st = calloc(n ? n : 1, 1);
    return s->st ? PREP_OK : PREP_ERR_NOMEM;
}

void prep_deliver_sched_free(prep_deliver_sched *s)
{
    free(s->st);
    s->st = NULL;
}

size_t prep_deliver_sched_next(prep_deliver_sched *s)
{
    while (s->cursor < s->n && s->st[s->cursor] != S_PENDING) s->cursor++;
    size_t i = s->cursor;
    if (i >= s->n) return PREP_DELIVER_SCHED_NONE;
    /* Every file before i is in flight or done; a file after the objects waits until
     * none is in flight, i.e. until every earlier file is done. */
    if (i >= s->objects && s->inflight > 0) return PREP_DELIVER_SCHED_NONE;
    s->st[i] = S_FLIGHT;
    s->inflight++;
    s->cursor = i + 1;
    return i;
}

void prep_deliver_sched_end(prep_deliver_sched *s, size_t i, int ok)
{
    if (i >= s->n || s->st[i] != S_FLIGHT) return;
    s->inflight--;
    if (ok) {
        s->st[i] = S_DONE;
        s->done++;
    } else {
        s->st[i] = S_PENDING;
        if (i < s->cursor) s->cursor = i;
    }
}

/* Work spread over threads (include/prep/core.h, "work on threads"). */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "prep/core.h"

struct prep_par {
    size_t n, chunk;
    _Atomic size_t next;
    _Atomic int stopped;
    void (*worker)(void *ctx, prep_par *p);
    void *ctx;
};

#define PAR_THREADS_MAX 64

static void *par_thread(void *arg)
{
    prep_par *p = arg;
    p->worker(p->ctx, p);
    return NULL;
}

void prep_par_run(long nt, size_t n, size_t chunk, void (*worker)(void *ctx, prep_par *p), void *ctx)
{
    prep_par p = {.n = n, .chunk = chunk ? chunk : 1, .worker = worker, .ctx = ctx};
    atomic_init(&p.next, 0);
    atomic_init(&p.stopped, 0);
    size_t ranges = (n + p.chunk - 1) / p.chunk;
    if (nt < 1) nt = 1;
    if ((size_t)nt > ranges) nt = ranges ? (long)ranges : 1;
    if (nt > PAR_THREADS_MAX) nt = PAR_THREADS_MAX;
    pthread_t th[PAR_THREADS_MAX];
    long started = 0;
    for (long i = 1; i < nt; i++)
        if (pthread_create(&th[started], NULL, par_thread, &p) == 0) started++;
    worker(ctx, &p); /* this thread works too */
    for (long i = 0; i < started; i++) pthread_join(th[i], NULL);
}

int prep_par_next(prep_par *p, size_t *i0, size_t *i1)
{
    if (atomic_load(&p->stopped)) return 0;
    size_t a = atomic_fetch_add(&p->next, p->chunk);
    if (a >= p->n) return 0;
    *i0 = a;
    *i1 = p->n - a < p->chunk ? p->n : a + p->chunk;
    return 1;
}

void prep_par_stop(prep_par *p) { atomic_store(&p->stopped, 1); }

long prep_par_cores(long max)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    return n > max ? max : n;
}

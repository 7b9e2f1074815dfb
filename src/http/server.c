/* The http server core: start-up, the event loops and the published state
 * (include/prep/http.h; docs/internals/serve.md "Network layer").
 *
 * prep_http_server_open binds every listening socket (one per address per worker, all
 * with SO_REUSEPORT), writes the pid file and drops privileges; prep_http_server_start
 * starts one worker thread per event loop. The owner publishes a new state (prep serve: a
 * cut version it loaded off the event loops) under vmu; each worker, woken by its
 * eventfd, takes a reference to the new state and drops its old one. Responses hold their
 * own reference, so an in-flight body finishes on the state it began on. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "net_internal.h"

void prep_http_server_config_init(prep_http_server_config *c)
{
    memset(c, 0, sizeof *c);
    c->h2 = 1;
    c->access_log_fd = -1;
    c->max_conns_per_ip = 64;
    c->max_conns = 10000;
    c->max_answer_memory = (size_t)PREP_HTTP_ANSWER_MEMORY_MB << 20;
    c->idle_timeout_ms = 30000;
    c->header_timeout_ms = 10000;
}


int net_mem_take(net_server *s, size_t n)
{
    size_t was = atomic_load_explicit(&s->owned, memory_order_relaxed);
    do {
        if (was && (was + n < was || was + n > s->cfg.max_answer_memory)) return 0;
    } while (!atomic_compare_exchange_weak_explicit(&s->owned, &was, was + n, memory_order_relaxed,
                                                    memory_order_relaxed));
    return 1;
}

void net_mem_give(net_server *s, size_t n)
{
    size_t was = atomic_fetch_sub_explicit(&s->owned, n, memory_order_relaxed);
    PREP_ASSERT(was >= n);
    (void)was;
}

void net_mem_refused(net_worker *w)
{
    atomic_fetch_add_explicit(&w->st.refused_mem, 1, memory_order_relaxed);
}

void net_worker_now(net_worker *w)
{
    w->now_ms = net_mono_ms();
}

const char *net_date(net_worker *w)
{
    time_t t = time(NULL);
    if (t != w->date_sec) {
        struct tm tm;
        gmtime_r(&t, &tm);
        w->date_len = strftime(w->date, sizeof w->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        w->date_sec = t;
    }
    return w->date;
}

void net_conn_set_events(net_conn *c, unsigned ev)
{
    if (c->events == ev || c->dead) return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &e) == 0) c->events = ev;
}

void net_conn_defer(net_conn *c)
{
    net_worker *w = c->w;
    if (c->deferred || c->dead) return;
    c->deferred = 1;
    c->dnext = NULL;
    c->dprev = w->dtail;
    if (w->dtail) w->dtail->dnext = c;
    else w->dhead = c;
    w->dtail = c;
    w->n_deferred++;
}

void net_conn_undefer(net_conn *c)
{
    net_worker *w = c->w;
    if (!c->deferred) return;
    if (c->dprev) c->dprev->dnext = c->dnext;
    else w->dhead = c->dnext;
    if (c->dnext) c->dnext->dprev = c->dprev;
    else w->dtail = c->dprev;
    PREP_ASSERT(w->n_deferred > 0);
    c->deferred = 0;
    c->dprev = c->dnext = NULL;
    w->n_deferred--;
}

static void wait_in(net_conn *c, int t)
{
    net_worker *w = c->w;
    c->waiting = 1 + t;
    c->wnext = NULL;
    c->wprev = w->wtail[t];
    if (w->wtail[t]) w->wtail[t]->wnext = c;
    else w->whead[t] = c;
    w->wtail[t] = c;
    atomic_store_explicit(&w->n_waiting, atomic_load_explicit(&w->n_waiting, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

void net_conn_wait(net_conn *c)
{
    if (c->waiting || c->refused) return;
    wait_in(c, c->served_once && !c->linger_until); /* closing: no reader any more */
}

void net_conn_wait_stalled(net_conn *c)
{
    if (c->waiting || c->refused) return;
    c->stalled = 1;
    wait_in(c, 0);
}

void net_conn_unwait(net_conn *c)
{
    net_worker *w = c->w;
    if (!c->waiting) return;
    int t = c->waiting - 1;
    if (c->wprev) c->wprev->wnext = c->wnext;
    else w->whead[t] = c->wnext;
    if (c->wnext) c->wnext->wprev = c->wprev;
    else w->wtail[t] = c->wprev;
    c->waiting = 0;
    c->stalled = 0;
    c->wprev = c->wnext = NULL;
    atomic_store_explicit(&w->n_waiting, atomic_load_explicit(&w->n_waiting, memory_order_relaxed) - 1,
                          memory_order_relaxed);
}

void net_conn_served(net_conn *c)
{
    net_conn_unwait(c);
    c->served_once = 1;
}

net_conn *net_conn_shed_victim(net_worker *w)
{
    return w->whead[0] ? w->whead[0] : w->whead[1];
}

int net_shed_ask(net_worker *w)
{
    net_server *s = w->srv;
    if (atomic_load_explicit(&s->shed_pending, memory_order_relaxed) >= NET_SHED_ASKS_MAX) return 0;
    for (int k = 1; k < s->nthreads; k++) {
        net_worker *o = &s->w[(w->id + k) % s->nthreads];
        if ((int)atomic_load_explicit(&o->n_waiting, memory_order_relaxed) <=
            atomic_load_explicit(&o->shed_asks, memory_order_relaxed))
            continue; /* nothing left there that is not already asked for */
        atomic_fetch_add(&s->shed_pending, 1);
        atomic_fetch_add(&o->shed_asks, 1);
        uint64_t one = 1;
        if (write(o->wake.fd, &one, sizeof one) < 0) { /* a full counter still wakes it */
        }
        return 1;
    }
    return 0;
}

/* On the asked worker's loop, after its connections' events (a shed connection may have
 * had one in the batch). What it cannot shed any more (served meanwhile) is dropped: the
 * cap is then over by that much until connections close. */
void net_shed_asked(net_worker *w)
{
    if (!atomic_load_explicit(&w->shed_asks, memory_order_relaxed)) return;
    int n = atomic_exchange(&w->shed_asks, 0);
    net_conn *c;
    for (int i = 0; i < n && (c = net_conn_shed_victim(w)); i++) {
        atomic_fetch_add_explicit(&w->st.shed, 1, memory_order_relaxed);
        net_conn_close(c);
    }
    atomic_fetch_sub(&w->srv->shed_pending, n);
}

/* Resumes the connections deferred before this turn (one each: those deferring again go
 * to the back, after the next epoll round). */
static void run_deferred(net_worker *w)
{
    for (size_t n = w->n_deferred; n && w->dhead; n--) {
        net_conn *c = w->dhead;
        net_conn_undefer(c);
        net_conn_event(c, EPOLLIN);
    }
}

/* ---------------------------------------------------------------- addresses */
prep_err prep_http_parse_addr(const char *spec, struct sockaddr_storage *sa, socklen_t *len, prep_diags *d)
{
    /* Strict on purpose: inet_aton's short forms ("10.1" = 10.0.0.1, "1" = 0.0.0.1, hex,
     * octal) and "+80" or " 80" ports are refused, not read as some other address. */
    const char *colon = strrchr(spec, ':');
    char host[128];
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host) {
        prep_diags_add(d, spec, 0, 0, "listen", "expected ADDR:PORT (e.g. 127.0.0.1:8080 or [::1]:8443): '%s'", spec);
        return PREP_ERR_USAGE;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
    size_t hl = strlen(host);
    int v6 = 0;
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
        v6 = 1;
    } else if (strchr(host, ':')) {
        /* "::1:80" could be ::1 port 80 or ::1:80 with no port: RFC 3986 brackets decide. */
        prep_diags_add(d, spec, 0, 0, "listen", "an IPv6 address goes in brackets, e.g. [::1]:8443: '%s'", spec);
        return PREP_ERR_USAGE;
    }
    const char *ps = colon + 1;
    size_t pl = strlen(ps);
    long port = 0;
    int port_ok = pl >= 1 && pl <= 5;
    for (size_t i = 0; port_ok && i < pl; i++) {
        if (ps[i] < '0' || ps[i] > '9') port_ok = 0;
        else port = port * 10 + (ps[i] - '0');
    }
    if (!port_ok || port > 65535) {
        prep_diags_add(d, spec, 0, 0, "listen", "bad port in '%s' (0..65535; 0 = any free port)", spec);
        return PREP_ERR_USAGE;
    }
    memset(sa, 0, sizeof *sa);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
            prep_diags_add(d, spec, 0, 0, "listen", "'%s' is not a numeric IPv6 address", host);
            return PREP_ERR_USAGE;
        }
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)sa;
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
            prep_diags_add(d, spec, 0, 0, "listen",
                           "'%s' is not a numeric IPv4 address in dotted-quad form (a.b.c.d), nor [IPv6]", host);
            return PREP_ERR_USAGE;
        }
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        *len = sizeof *a;
    }
    return PREP_OK;
}

static prep_err parse_listen(const char *spec, int tls, net_listen_cfg *l, prep_diags *d)
{
    memset(l, 0, sizeof *l);
    l->tls = tls;
    prep_err e = prep_http_parse_addr(spec, &l->addr, &l->addrlen, d);
    if (e) return e;
    memcpy(l->host, spec, (size_t)(strrchr(spec, ':') - spec)); /* fits: checked above */
    if (l->addr.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&l->addr;
        l->port = ntohs(a->sin_port);
        l->loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    } else {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&l->addr;
        l->port = ntohs(a->sin6_port);
        l->loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    }
    return PREP_OK;
}

static int bind_one(net_listen_cfg *l, prep_diags *d)
{
    int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        prep_diags_add(d, l->host, 0, 0, "socket", "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (l->addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (l->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&l->addr)->sin_port = htons((uint16_t)l->port);
    else
        ((struct sockaddr_in6 *)&l->addr)->sin6_port = htons((uint16_t)l->port);
    if (bind(fd, (struct sockaddr *)&l->addr, l->addrlen) || listen(fd, 1024)) {
        char where[160];
        snprintf(where, sizeof where, "%s:%d", l->host, l->port);
        prep_io_fail("listen on", where, errno);
        prep_diags_add(d, l->host, 0, 0, "bind", "cannot listen on %s:%d: %s", l->host, l->port, strerror(errno));
        close(fd);
        return -1;
    }
    if (l->port == 0) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        getsockname(fd, (struct sockaddr *)&ss, &sl);
        l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return fd;
}

/* ---------------------------------------------------------------- privileges */
static prep_err drop_privileges(net_server *s, prep_diags *d)
{
    const char *user = s->cfg.user;
    if (!user) {
        if (geteuid() != 0 || s->cfg.allow_root) return PREP_OK;
        for (int i = 0; i < s->n_lcfg; i++)
            if (!s->lcfg[i].loopback) {
                prep_diags_add(d, s->lcfg[i].host, 0, 0, "root",
                               "refusing to serve a public address as root: give --user NAME to drop privileges "
                               "after binding");
                return PREP_ERR_USAGE;
            }
        return PREP_OK;
    }
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        prep_diags_add(d, user, 0, 0, "user", "no such user '%s'", user);
        return PREP_ERR_USAGE;
    }
    if (geteuid() == 0 && setgroups(0, NULL)) {
        prep_diags_add(d, user, 0, 0, "user", "setgroups: %s", strerror(errno));
        return PREP_ERR_IO;
    }
    if (setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
        prep_diags_add(d, user, 0, 0, "user", "cannot become '%s': %s", user, strerror(errno));
        return PREP_ERR_IO;
    }
    if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
        prep_diags_add(d, user, 0, 0, "user", "root privileges could be regained after dropping them");
        return PREP_ERR_IO;
    }
    return PREP_OK;
}

/* ---------------------------------------------------------------- state */
static void state_unref(net_server *s, void *st)
{
    if (st && s->h->state_unref) s->h->state_unref(st);
}

void prep_http_server_publish(prep_http_server *s, void *st)
{
    PREP_ASSERT(s);
    pthread_mutex_lock(&s->vmu);
    void *old = s->state;
    s->state = st;
    atomic_fetch_add(&s->vgen, 1);
    pthread_mutex_unlock(&s->vmu);
    state_unref(s, old);
    uint64_t one = 1;
    for (int i = 0; i < s->nthreads; i++)
        if (s->w[i].wake.fd >= 0 && write(s->w[i].wake.fd, &one, sizeof one) < 0) { /* counter full: awake anyway */
        }
}

void *prep_http_server_state(prep_http_server *s)
{
    pthread_mutex_lock(&s->vmu);
    void *st = s->state;
    if (st && s->h->state_ref) s->h->state_ref(st);
    pthread_mutex_unlock(&s->vmu);
    return st;
}

/* ---------------------------------------------------------------- workers */
static void worker_take_state(net_worker *w)
{
    net_server *s = w->srv;
    if (atomic_load_explicit(&s->vgen, memory_order_acquire) == w->vgen) return;
    pthread_mutex_lock(&s->vmu);
    void *old = w->state;
    w->state = s->state;
    if (w->state && s->h->state_ref) s->h->state_ref(w->state);
    w->vgen = atomic_load(&s->vgen);
    pthread_mutex_unlock(&s->vmu);
    state_unref(s, old);
}

static void *worker_main(void *arg)
{
    net_worker *w = arg;
    net_server *s = w->srv;
    struct epoll_event ev[128];
    int64_t last_tick = net_mono_ms();
    while (!atomic_load(&s->stopping)) {
        int n = epoll_wait(w->ep, ev, (int)PREP_ARRAY_LEN(ev), w->dhead ? 0 : 1000);
        net_worker_now(w);
        /* Connections first, listeners last: an accept at the global cap may close
         * (shed) a waiting connection whose event is in this batch. */
        int n_listen = 0;
        for (int i = 0; i < n; i++) {
            int kind = *(int *)ev[i].data.ptr;
            if (kind == EV_LISTENER) {
                ev[n_listen++] = ev[i]; /* i >= n_listen: nothing unread is overwritten */
            } else if (kind == EV_WAKE) {
                uint64_t x;
                if (read(w->wake.fd, &x, sizeof x) < 0) { /* spurious */
                }
                worker_take_state(w);
            } else {
                net_conn_event(ev[i].data.ptr, ev[i].events);
            }
        }
        net_shed_asked(w);
        for (int i = 0; i < n_listen; i++) net_conn_accept(w, ev[i].data.ptr);
        run_deferred(w);
        if (w->now_ms - last_tick >= 1000) {
            last_tick = w->now_ms;
            net_conn_timeouts(w);
            net_access_flush(w);
        }
    }
    while (w->conns) net_conn_close(w->conns);
    net_access_flush(w);
    return NULL;
}

/* ---------------------------------------------------------------- per-address table */
typedef struct ipcount {
    struct ipcount *next;
    uint8_t key[17];
    int n;
} ipcount;

static size_t ip_hash(const uint8_t key[17], size_t size)
{
    return (size_t)(prep_fnv1a(PREP_FNV1A_INIT, key, 17) % size);
}

/* Counts a new connection from a; 0 when it is within the limits, else -1 (not counted). */
int net_ip_acquire(net_server *s, const struct sockaddr_storage *a)
{
    uint8_t key[17];
    prep_addr_group(a, key);
    size_t h = ip_hash(key, s->ipt_size);
    int ok = 0;
    pthread_mutex_lock(&s->ipmu);
    ipcount *p = s->ipt[h];
    while (p && memcmp(p->key, key, 17)) p = p->next;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p) {
            ok = -1;
            goto out;
        }
        memcpy(p->key, key, 17);
        p->next = s->ipt[h];
        s->ipt[h] = p;
    }
    if (p->n >= s->cfg.max_conns_per_ip)
        ok = -1;
    else
        p->n++;
out:
    pthread_mutex_unlock(&s->ipmu);
    return ok;
}

void net_ip_release(net_server *s, const struct sockaddr_storage *a)
{
    uint8_t key[17];
    prep_addr_group(a, key);
    size_t h = ip_hash(key, s->ipt_size);
    pthread_mutex_lock(&s->ipmu);
    ipcount **pp = &s->ipt[h];
    while (*pp && memcmp((*pp)->key, key, 17)) pp = &(*pp)->next;
    if (*pp && --(*pp)->n <= 0) {
        ipcount *dead = *pp;
        *pp = dead->next;
        free(dead);
    }
    pthread_mutex_unlock(&s->ipmu);
}

/* ---------------------------------------------------------------- run */
static void print_listeners(net_server *s)
{
    FILE *f = s->cfg.status_out;
    if (!f) return;
    for (int i = 0; i < s->n_lcfg; i++) {
        const net_listen_cfg *l = &s->lcfg[i];
        const char *what = l->tls ? (s->cfg.h2 ? "h2, http/1.1" : "http/1.1")
                           : l->redirect ? "http/1.1, redirects to https" : "http/1.1";
        fprintf(f, "%s: listening on %s://%s:%d/ (%s)\n", s->cfg.name ? s->cfg.name : "prep", l->tls ? "https" : "http",
                l->host, l->port, what);
    }
    fflush(f);
}

static int n_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > PREP_HTTP_MAX_THREADS ? PREP_HTTP_MAX_THREADS : (int)n;
}

int prep_http_server_port(const prep_http_server *s, int tls)
{
    if (!s) return 0;
    for (int i = 0; i < s->n_lcfg; i++)
        if (s->lcfg[i].tls == (tls != 0)) return s->lcfg[i].port;
    return 0;
}

void prep_http_server_housekeep(prep_http_server *s)
{
    /* Give back the heap pages freed by closed HTTP/2 connections and idle keep-alive
     * buffers: many blocks under the mmap threshold, scattered among live ones, and glibc
     * returns only the top of a heap by itself. malloc_trim walks every arena (5.5 ms
     * with a Querétaro-scale cut loaded), so it runs on the owner's thread, off the event
     * loops, at most once a second. */
    int64_t now = net_mono_ms();
    if (now - s->last_trim >= 1000 && atomic_exchange(&s->trim_due, 0)) {
        s->last_trim = now;
        prep_mem_trim();
    }
}

void prep_http_server_close(prep_http_server *s)
{
    if (!s) return;
    atomic_store(&s->stopping, 1);
    for (int i = 0; i < s->started; i++) {
        uint64_t one = 1;
        if (write(s->w[i].wake.fd, &one, sizeof one) < 0) { /* it wakes within a second anyway */
        }
    }
    for (int i = 0; i < s->started; i++) pthread_join(s->w[i].th, NULL);
    if (s->pid_written) unlink(s->cfg.pid_file);
    if (s->w) {
        for (int i = 0; i < s->nthreads; i++) {
            net_worker *w = &s->w[i];
            for (int j = 0; j < w->n_ls; j++)
                if (w->ls[j].fd >= 0) close(w->ls[j].fd);
            if (w->wake.fd >= 0) close(w->wake.fd);
            if (w->spare_fd >= 0) close(w->spare_fd);
            if (w->ep >= 0) close(w->ep);
            state_unref(s, w->state);
            free(w->logbuf);
        }
        free(s->w);
    }
    if (s->ssl) SSL_CTX_free(s->ssl);
    if (s->own_log_fd && s->log_fd >= 0) close(s->log_fd);
    state_unref(s, s->state);
    if (s->ipt) {
        for (size_t i = 0; i < s->ipt_size; i++)
            while (s->ipt[i]) {
                ipcount *p = s->ipt[i];
                s->ipt[i] = p->next;
                free(p);
            }
        free(s->ipt);
    }
    pthread_mutex_destroy(&s->vmu);
    pthread_mutex_destroy(&s->ipmu);
    free(s);
}

prep_err prep_http_server_open(const prep_http_server_config *cfg, prep_http_server **out, prep_diags *d)
{
    *out = NULL;
    const char *name = cfg->name ? cfg->name : "http";
    if ((!cfg->listen && !cfg->tls_listen) || !cfg->handler.respond) {
        prep_diags_add(d, name, 0, 0, "usage", "at least one listen address and a handler are required");
        return PREP_ERR_USAGE;
    }
    if (cfg->tls_listen && (!cfg->tls_cert || !cfg->tls_key)) {
        prep_diags_add(d, name, 0, 0, "usage", "an HTTPS listener needs a certificate and its key");
        return PREP_ERR_USAGE;
    }
    if (cfg->threads < 0 || cfg->threads > PREP_HTTP_MAX_THREADS || cfg->max_conns_per_ip < 1 ||
        cfg->max_conns < 1 || cfg->max_answer_memory < 1 || cfg->idle_timeout_ms < 1 || cfg->header_timeout_ms < 1) {
        prep_diags_add(d, name, 0, 0, "usage", "threads 0..%d; limits and timeouts must be >= 1",
                       PREP_HTTP_MAX_THREADS);
        return PREP_ERR_USAGE;
    }
    /* Memory an attack made us hold must go back to the system when its connections
     * close. glibc raises its mmap threshold to the size of any mmapped block that is
     * freed (up to 32 MiB): after one archive answer of 8 MiB, the next ones come from
     * the heap, and a heap emptied by closing many such answers is rarely trimmed (the
     * RSS stayed +128 MiB in tests/integ/serve_h2_leak.sh). A fixed threshold keeps every
     * block of 1 MiB or more (archive bodies, version files) in its own mapping, unmapped
     * when freed. Process-wide, like SIGPIPE below. */
    mallopt(M_MMAP_THRESHOLD, NET_MMAP_THRESHOLD);
    signal(SIGPIPE, SIG_IGN);
    net_server *s = calloc(1, sizeof *s);
    if (!s) return PREP_ERR_NOMEM;
    s->cfg = *cfg;
    s->h = &s->cfg.handler;
    s->log_fd = cfg->access_log_fd;
    pthread_mutex_init(&s->vmu, NULL);
    pthread_mutex_init(&s->ipmu, NULL);
    s->ipt_size = 4093;
    s->ipt = calloc(s->ipt_size, sizeof *s->ipt);
    snprintf(s->csp, sizeof s->csp, "%s", cfg->csp ? cfg->csp : "default-src 'none'");
    prep_policy_security sec; /* the HSTS value of the policy table (its CSP is cfg->csp) */
    prep_err pe = prep_policy_security_make(NULL, 1, cfg->hsts_max_age, &sec); /* no origins: cannot fail */
    PREP_ASSERT(pe == PREP_OK);
    (void)pe;
    snprintf(s->hsts, sizeof s->hsts, "%s", sec.hsts);
    prep_err e = PREP_OK;
    if (!s->ipt) {
        e = PREP_ERR_NOMEM;
        goto fail;
    }
    if (cfg->tls_listen) {
        if ((e = parse_listen(cfg->tls_listen, 1, &s->lcfg[s->n_lcfg], d))) goto fail;
        s->n_lcfg++;
    }
    if (cfg->listen) {
        if ((e = parse_listen(cfg->listen, 0, &s->lcfg[s->n_lcfg], d))) goto fail;
        s->lcfg[s->n_lcfg].redirect = cfg->tls_listen != NULL && cfg->redirect_plain;
        s->n_lcfg++;
    }
    if (cfg->tls_listen && (e = net_tls_ctx(cfg->tls_cert, cfg->tls_key, cfg->h2, &s->ssl, d))) goto fail;
    if (cfg->access_log && s->log_fd < 0) {
        s->log_fd = open(cfg->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (s->log_fd < 0) {
            prep_diags_add(d, cfg->access_log, 0, 0, "io", "cannot open the access log: %s", strerror(errno));
            e = PREP_ERR_IO;
            goto fail;
        }
        s->own_log_fd = 1;
    }
    s->nthreads = cfg->threads ? cfg->threads : n_cores();
    s->w = calloc((size_t)s->nthreads, sizeof *s->w);
    if (!s->w) {
        e = PREP_ERR_NOMEM;
        goto fail;
    }
    for (int i = 0; i < s->nthreads; i++) {
        net_worker *w = &s->w[i];
        w->id = i;
        w->srv = s;
        w->wake.kind = EV_WAKE;
        w->wake.fd = -1;
        w->spare_fd = -1;
        w->ep = -1;
        for (int j = 0; j < NET_MAX_LISTENERS; j++) w->ls[j].fd = -1;
    }
    /* Bind everything first (port 0: the first socket picks, the others follow). */
    for (int j = 0; j < s->n_lcfg; j++)
        for (int i = 0; i < s->nthreads; i++) {
            net_worker *w = &s->w[i];
            int fd = bind_one(&s->lcfg[j], d);
            if (fd < 0) {
                e = PREP_ERR_IO;
                goto fail;
            }
            w->ls[j] = (net_listener){.kind = EV_LISTENER, .fd = fd, .idx = j};
            w->n_ls = j + 1;
        }
    for (int j = 0; j < s->n_lcfg; j++)
        if (s->lcfg[j].tls) s->tls_port = s->lcfg[j].port;
    if (cfg->pid_file) {
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (prep_write_file_atomic(cfg->pid_file, pid, (size_t)n)) {
            prep_diags_add(d, cfg->pid_file, 0, 0, "io", "cannot write the pid file: %s", strerror(errno));
            e = PREP_ERR_IO;
            goto fail;
        }
        s->pid_written = 1;
    }
    if ((e = drop_privileges(s, d))) goto fail;
    *out = s;
    return PREP_OK;
fail:
    prep_http_server_close(s);
    return e;
}

prep_err prep_http_server_start(prep_http_server *s, void *state, prep_diags *d)
{
    const char *name = s->cfg.name ? s->cfg.name : "http";
    prep_http_server_publish(s, state);
    for (int i = 0; i < s->nthreads; i++) {
        net_worker *w = &s->w[i];
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        /* Held back for the moment accept says EMFILE with nothing to shed: closed, the
         * connection accepted and refused, taken again (net_conn_accept). Without it the
         * listener stays readable and the level-triggered loop spins on it. */
        w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (s->log_fd >= 0) w->logbuf = malloc(NET_LOGBUF);
        if (w->ep < 0 || w->wake.fd < 0 || (s->log_fd >= 0 && !w->logbuf)) {
            prep_diags_add(d, name, 0, 0, "io", "cannot set up an event loop: %s", strerror(errno));
            return PREP_ERR_IO;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->wake};
        epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake.fd, &ev);
        for (int j = 0; j < w->n_ls; j++) {
            struct epoll_event le = {.events = EPOLLIN, .data.ptr = &w->ls[j]};
            epoll_ctl(w->ep, EPOLL_CTL_ADD, w->ls[j].fd, &le);
        }
        worker_take_state(w);
    }
    /* The event loops never take SIGINT/SIGTERM: the owner waits for them. */
    sigset_t sigs, old;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);
    prep_err e = PREP_OK;
    for (int i = 0; i < s->nthreads; i++) {
        if (pthread_create(&s->w[i].th, NULL, worker_main, &s->w[i])) {
            prep_diags_add(d, name, 0, 0, "thread", "cannot start event loop %d", i);
            e = PREP_ERR_IO;
            break;
        }
        s->started = i + 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!e) print_listeners(s);
    return e;
}

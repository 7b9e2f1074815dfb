/* prep monitor: alerts by mail (SMTP with STARTTLS, or SMTPS) and webhook (a JSON POST),
 * when a broadcaster turns red, stays red, recovers, and when the institute's own cut is
 * late (docs/monitor.md "Alerts"). Deduplicated per (channel, broadcaster) against what
 * that channel was last told, kept in OUT/state.json; reminders at most every
 * reminder_seconds; more events in one round than max_messages_per_round go out as one
 * digest. A failed send changes nothing, so it is planned again next round; it never
 * stops the round. No secret goes into a message: broadcasters are named by id and
 * public URL, the SMTP password is read from its owner-only file at each send and wiped. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "monitor_internal.h"

/* ---------------------------------------------------------------- the state machine */
const mon_told *mon_told_find(const mon_state *s, int channel, const char *subject)
{
    for (size_t i = 0; i < s->n_told; i++)
        if (s->told[i].channel == channel && !strcmp(s->told[i].subject, subject)) return &s->told[i];
    return NULL;
}

static int is_institute(const mon_subject *x)
{
    return !strcmp(x->id, MON_ALERT_INSTITUTE);
}

size_t mon_alert_plan(const mon_state *s, int channel, const mon_subject *subj, size_t n, prep_time now,
                      int64_t reminder_seconds, mon_event *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const mon_told *t = mon_told_find(s, channel, subj[i].id);
        int inst = is_institute(&subj[i]);
        mon_event ev = {-1, i, PREP_TIME_NONE};
        if (subj[i].bad == 1 && !t) {
            ev.kind = inst ? MON_EV_CUT_LATE : MON_EV_RED;
            ev.since = now;
        } else if (subj[i].bad == 1 && t && now - t->last >= reminder_seconds) {
            ev.kind = inst ? MON_EV_CUT_STILL_LATE : MON_EV_STILL_RED;
            ev.since = t->since;
        } else if (subj[i].bad == 0 && t) {
            ev.kind = inst ? MON_EV_CUT_OK : MON_EV_RECOVERED;
            ev.since = t->since;
        }
        if (ev.kind >= 0) out[k++] = ev;
    }
    return k;
}

void mon_alert_commit(mon_state *s, int channel, const mon_event *ev, size_t n, const mon_subject *subj,
                      prep_time now)
{
    for (size_t i = 0; i < n; i++) {
        const char *id = subj[ev[i].subject].id;
        mon_told *t = (mon_told *)mon_told_find(s, channel, id);
        switch (ev[i].kind) {
        case MON_EV_RED:
        case MON_EV_CUT_LATE:
            if (!t) {
                if (s->n_told >= MON_TOLD_MAX) break;
                mon_told *nt = realloc(s->told, (s->n_told + 1) * sizeof *nt);
                if (!nt) break; /* not remembered: told again next round, never lost */
                s->told = nt;
                t = &s->told[s->n_told++];
                memset(t, 0, sizeof *t);
                snprintf(t->subject, sizeof t->subject, "%s", id);
                t->channel = channel;
                t->since = now;
            }
            t->bad = 1;
            t->last = now;
            break;
        case MON_EV_STILL_RED:
        case MON_EV_CUT_STILL_LATE:
            if (t) t->last = now;
            break;
        default: /* recovered: the subject is forgotten (told fine) */
            if (t) {
                size_t j = (size_t)(t - s->told);
                memmove(&s->told[j], &s->told[j + 1], (s->n_told - j - 1) * sizeof *t);
                s->n_told--;
            }
            break;
        }
    }
}

/* ---------------------------------------------------------------- the texts */
static void iso(prep_time t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t == PREP_TIME_NONE || !gmtime_r(&tt, &tm)) {
        snprintf(out, outsz, "%s", "unknown");
        return;
    }
    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Length of the well-formed UTF-8 sequence at s (2..4), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n;
    uint32_t cp;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef) n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) n = 4, cp = s[0] & 0x07;
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* Appends s with every control byte (a CR or LF included, so no header or line can be
 * forged) turned into a space and every byte that is not well-formed UTF-8 into '?';
 * ascii_only also turns every non-ASCII character into '?'. */
static void clean_puts(prep_buf *b, const char *s, int ascii_only)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x20 || *p == 0x7f) {
            prep_buf_putc(b, ' ');
            p++;
        } else if (*p < 0x80) {
            prep_buf_putc(b, (char)*p++);
        } else {
            size_t n = utf8_len(p);
            if (!n || ascii_only) {
                prep_buf_putc(b, '?');
                p += n ? n : 1;
            } else {
                prep_buf_append(b, p, n);
                p += n;
            }
        }
    }
}

/* s cleaned as clean_puts does (UTF-8), into a new string; NULL on allocation failure. */
static char *clean_dup(const char *s)
{
    prep_buf b;
    prep_buf_init(&b, (size_t)1 << 20);
    clean_puts(&b, s, 0);
    prep_buf_putc(&b, 0);
    if (prep_buf_err(&b)) {
        prep_buf_free(&b);
        return NULL;
    }
    return prep_buf_steal(&b, NULL);
}

static const char *ev_name(int kind)
{
    switch (kind) {
    case MON_EV_RED: return "red";
    case MON_EV_STILL_RED: return "still-red";
    case MON_EV_RECOVERED: return "recovered";
    case MON_EV_CUT_LATE: return "cut-late";
    case MON_EV_CUT_STILL_LATE: return "cut-still-late";
    case MON_EV_CUT_OK: return "cut-on-time";
    }
    return "?";
}

static const char *reason_of(const mon_subject *x)
{
    return x->row ? x->row->reason : x->reason;
}

/* "difusor uaq is RED: <reason>" (no "prep monitor: " prefix). */
static void summary(prep_buf *b, const mon_event *e, const mon_subject *x, int ascii_only)
{
    char since[32];
    iso(e->since, since, sizeof since);
    switch (e->kind) {
    case MON_EV_RED: prep_buf_puts(b, "difusor "); clean_puts(b, x->id, 1); prep_buf_puts(b, " is RED: "); break;
    case MON_EV_STILL_RED:
        prep_buf_puts(b, "difusor ");
        clean_puts(b, x->id, 1);
        prep_buf_printf(b, " is still RED (since %s): ", since);
        break;
    case MON_EV_RECOVERED:
        prep_buf_puts(b, "difusor ");
        clean_puts(b, x->id, 1);
        prep_buf_puts(b, x->row && x->row->state == PREP_MONITOR_GREEN ? " recovered (green): " : " recovered: ");
        break;
    case MON_EV_CUT_LATE: prep_buf_puts(b, "the institute's cut is LATE: "); break;
    case MON_EV_CUT_STILL_LATE: prep_buf_printf(b, "the institute's cut is still LATE (since %s): ", since); break;
    default: prep_buf_puts(b, "the institute's cut is on time again: "); break;
    }
    clean_puts(b, reason_of(x), ascii_only);
}

prep_err mon_alert_text(const mon_event *ev, size_t n, const mon_subject *subj, uint64_t active_seq,
                        prep_time now, const char *out_dir, int crlf, char *subject, prep_buf *body)
{
    const char *nl = crlf ? "\r\n" : "\n";
    prep_buf s;
    prep_buf_init(&s, 4096);
    prep_buf_puts(&s, "prep monitor: ");
    if (n == 1) {
        summary(&s, &ev[0], &subj[ev[0].subject], 1);
    } else {
        size_t cnt[6] = {0};
        for (size_t i = 0; i < n; i++) cnt[ev[i].kind]++;
        prep_buf_printf(&s, "%zu alerts:", n);
        static const char *what[6] = {"RED", "still red", "recovered", "the institute's cut LATE",
                                      "the institute's cut still late", "the institute's cut on time again"};
        const char *sep = " ";
        for (int k = 0; k < 6; k++)
            if (cnt[k]) {
                if (k < 3) prep_buf_printf(&s, "%s%zu %s", sep, cnt[k], what[k]);
                else prep_buf_printf(&s, "%s%s", sep, what[k]);
                sep = ", ";
            }
    }
    prep_buf_putc(&s, 0);
    prep_err se = prep_buf_err(&s);
    if (se) {
        prep_buf_free(&s);
        return se;
    }
    /* one line, at most 200 bytes (a header line stays far below 998) */
    snprintf(subject, 256, "%.200s", s.data);
    prep_buf_free(&s);

    char when[32];
    iso(now, when, sizeof when);
    prep_buf_printf(body, "Round of %s; the institute's active cut: %llu.%s%s", when, (unsigned long long)active_seq,
                    nl, nl);
    for (size_t i = 0; i < n; i++) {
        const mon_subject *x = &subj[ev[i].subject];
        summary(body, &ev[i], x, 0);
        prep_buf_puts(body, nl);
        if (x->row) {
            const prep_monitor_row *w = x->row;
            prep_buf_puts(body, "  difusor:       ");
            clean_puts(body, w->id, 1);
            prep_buf_printf(body, "%s  site:          ", nl);
            clean_puts(body, w->url, 1);
            prep_buf_printf(body, "%s  state:         %s%s", nl, prep_monitor_state_name(w->state), nl);
            prep_buf_puts(body, "  reason:        ");
            clean_puts(body, w->reason, 0);
            prep_buf_puts(body, nl);
            if (w->serving_seq)
                prep_buf_printf(body, "  serving cut:   %llu (active %llu, %lld behind)%s",
                                (unsigned long long)w->serving_seq, (unsigned long long)active_seq,
                                (long long)w->cuts_behind, nl);
            else prep_buf_printf(body, "  serving cut:   unknown (active %llu)%s", (unsigned long long)active_seq, nl);
            if (w->lag_seconds >= 0) prep_buf_printf(body, "  lag:           %lld s%s", (long long)w->lag_seconds, nl);
            if (w->cert_days_left != INT64_MIN)
                prep_buf_printf(body, "  certificate:   %lld days left%s", (long long)w->cert_days_left, nl);
            prep_buf_printf(body, "  pages checked: %zu (%zu bad)%s", w->pages_checked, w->pages_bad, nl);
            prep_buf_puts(body, "  evidence:      ");
            clean_puts(body, out_dir, 0);
            prep_buf_puts(body, "/evidence/");
            clean_puts(body, w->id, 1);
            prep_buf_printf(body, ".jsonl%s", nl);
        } else {
            prep_buf_printf(body, "  active cut:    %llu%s", (unsigned long long)active_seq, nl);
        }
        prep_buf_puts(body, nl);
    }
    prep_buf_puts(body, "The board: ");
    clean_puts(body, out_dir, 0);
    prep_buf_printf(body, "/index.html (board.json, metrics.prom beside it).%s", nl);
    prep_buf_printf(body, "Sent by prep monitor. Broadcasters are named by id and public URL only.%s", nl);
    return prep_buf_err(body);
}

char *mon_alert_json(const mon_event *ev, size_t n, const mon_subject *subj, uint64_t active_seq, prep_time now,
                     const char *subject_line, const char *text)
{
    char when[32];
    iso(now, when, sizeof when);
    /* subject_line and text come from mon_alert_text, already well-formed UTF-8 (jansson
     * refuses anything else); the reasons and ids below are cleaned the same way */
    json_t *root = json_pack("{s:s,s:s,s:s,s:s,s:I}", "source", "prep monitor", "subject", subject_line, "text", text,
                             "at", when, "active_cut", (json_int_t)active_seq);
    if (!root) return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const mon_subject *x = &subj[ev[i].subject];
        char since[32];
        iso(ev[i].since, since, sizeof since);
        char *cid = clean_dup(x->id), *creason = clean_dup(reason_of(x));
        json_t *o = cid && creason ? json_pack("{s:s,s:s,s:s}", "kind", ev_name(ev[i].kind), "id", cid, "reason", creason)
                                   : NULL;
        free(cid);
        free(creason);
        if (!o) {
            json_decref(arr);
            json_decref(root);
            return NULL;
        }
        if (ev[i].kind == MON_EV_STILL_RED || ev[i].kind == MON_EV_CUT_STILL_LATE || ev[i].kind == MON_EV_RECOVERED ||
            ev[i].kind == MON_EV_CUT_OK)
            json_object_set_new(o, "since", json_string(since));
        if (x->row) {
            json_object_set_new(o, "url", json_string(x->row->url)); /* printable ASCII (mon_url_problem) */
            json_object_set_new(o, "state", json_string(prep_monitor_state_name(x->row->state)));
            json_object_set_new(o, "serving_cut",
                                x->row->serving_seq ? json_integer((json_int_t)x->row->serving_seq) : json_null());
            json_object_set_new(o, "cuts_behind",
                                x->row->cuts_behind >= 0 ? json_integer(x->row->cuts_behind) : json_null());
            json_object_set_new(o, "pages_checked", json_integer((json_int_t)x->row->pages_checked));
            json_object_set_new(o, "pages_bad", json_integer((json_int_t)x->row->pages_bad));
        }
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "events", arr);
    /* JSON_ENSURE_ASCII: a reason's bytes that are not UTF-8 cannot break the body */
    char *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(root);
    return out;
}

/* ---------------------------------------------------------------- the password file */
int mon_alert_password_read(const char *path, char *pw, size_t pwsz, char *why, size_t whysz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, whysz, "cannot open it: %s%s", strerror(errno),
                 errno == ELOOP ? " (a symbolic link is refused)" : "");
        return -1;
    }
    struct stat sb;
    int rc = -1;
    char buf[1024];
    ssize_t got = 0;
    if (fstat(fd, &sb)) {
        snprintf(why, whysz, "cannot stat it: %s", strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        snprintf(why, whysz, "is not a regular file");
    } else if (sb.st_mode & 077) {
        snprintf(why, whysz, "has mode %04o: group and others must have no access (chmod 600)",
                 (unsigned)(sb.st_mode & 07777));
    } else if (sb.st_size >= (off_t)sizeof buf) {
        snprintf(why, whysz, "is larger than %zu bytes", sizeof buf - 1);
    } else {
        size_t have = 0;
        while (have < sizeof buf - 1) {
            got = read(fd, buf + have, sizeof buf - 1 - have);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;
            have += (size_t)got;
        }
        if (got < 0) {
            snprintf(why, whysz, "cannot read it: %s", strerror(errno));
        } else {
            buf[have] = 0;
            size_t len = strcspn(buf, "\r\n");
            buf[len] = 0;
            if (!len) snprintf(why, whysz, "is empty (the password is its first line)");
            else if (pw && len >= pwsz) snprintf(why, whysz, "has a first line too long");
            else {
                if (pw) memcpy(pw, buf, len + 1);
                rc = 0;
            }
        }
    }
    explicit_bzero(buf, sizeof buf);
    close(fd);
    return rc;
}

int mon_alert_password_check(const char *path, char *why, size_t whysz)
{
    return mon_alert_password_read(path, NULL, 0, why, whysz);
}

/* ---------------------------------------------------------------- sending */
typedef struct upload {
    const char *p;
    size_t left;
} upload;

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    upload *u = ud;
    size_t n = size * nitems;
    if (n > u->left) n = u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static size_t discard_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p;
    (void)ud;
    return size * nmemb;
}

/* scheme://host[:port] of a URL (its path, which may hold a webhook's secret, left out). */
static void server_of(const char *url, char *out, size_t outsz)
{
    const char *h = strstr(url, "://");
    const char *p = h ? strchr(h + 3, '/') : NULL;
    size_t n = p ? (size_t)(p - url) : strlen(url);
    snprintf(out, outsz, "%.*s", (int)n, url);
}

static void curl_common(CURL *h, int64_t timeout, const char *ca, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(timeout < 10 ? timeout : 10));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca && ca[0]) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
}

/* 0 sent; -1 failed, why in err (channel, server, curl's error; never the password). */
static int send_mail(const prep_monitor_config *c, const char *msg, size_t len, char *err, size_t errsz)
{
    const prep_monitor_alerts *a = &c->alerts;
    char server[PREP_MONITOR_URL_MAX + 1];
    server_of(a->smtp_url, server, sizeof server);
    char pw[1024] = "";
    if (a->smtp_password_file[0]) {
        char why[256];
        if (mon_alert_password_read(a->smtp_password_file, pw, sizeof pw, why, sizeof why)) {
            snprintf(err, errsz, "mail to %.300s not sent: the password file %.400s %.250s", server, a->smtp_password_file, why);
            return -1;
        }
    }
    CURL *h = curl_easy_init();
    if (!h) {
        explicit_bzero(pw, sizeof pw);
        snprintf(err, errsz, "mail to %s not sent: curl_easy_init failed", server);
        return -1;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    char from[PREP_MONITOR_ADDR_MAX + 3];
    snprintf(from, sizeof from, "<%s>", a->smtp_from);
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < a->n_to; i++) {
        char to[PREP_MONITOR_ADDR_MAX + 3];
        snprintf(to, sizeof to, "<%s>", a->smtp_to[i]);
        struct curl_slist *nr = curl_slist_append(rcpt, to);
        if (nr) rcpt = nr;
    }
    upload u = {msg, len};
    curl_common(h, c->timeout_seconds, a->smtp_ca_file, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, a->smtp_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    /* smtp:// must upgrade with STARTTLS or fail: the login and the message never go in clear */
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    if (pw[0]) {
        curl_easy_setopt(h, CURLOPT_USERNAME, a->smtp_user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, pw);
    }
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_PASSWORD, "");
    explicit_bzero(pw, sizeof pw);
    curl_easy_cleanup(h);
    curl_slist_free_all(rcpt);
    if (rc != CURLE_OK) {
        snprintf(err, errsz, "mail to %s failed: %s%s%s", server, curl_easy_strerror(rc), errbuf[0] ? ": " : "",
                 errbuf);
        return -1;
    }
    return 0;
}

static int send_hook(const prep_monitor_config *c, const char *json, char *err, size_t errsz)
{
    const prep_monitor_alerts *a = &c->alerts;
    char server[PREP_MONITOR_URL_MAX + 1];
    server_of(a->webhook_url, server, sizeof server);
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errsz, "webhook to %s not sent: curl_easy_init failed", server);
        return -1;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    curl_common(h, c->timeout_seconds, a->webhook_ca_file, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, a->webhook_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "prep-monitor");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_cb);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    curl_slist_free_all(hd);
    if (rc != CURLE_OK) {
        snprintf(err, errsz, "webhook to %s failed: %s%s%s", server, curl_easy_strerror(rc), errbuf[0] ? ": " : "",
                 errbuf);
        return -1;
    }
    if (code < 200 || code > 299) {
        snprintf(err, errsz, "webhook to %s failed: HTTP %ld", server, code);
        return -1;
    }
    return 0;
}

/* The whole mail: headers, a blank line, the body (CR LF throughout). */
static prep_err mail_message(const prep_monitor_config *c, const char *subject, const prep_buf *body, prep_time now,
                             prep_buf *m)
{
    const prep_monitor_alerts *a = &c->alerts;
    time_t tt = (time_t)now;
    struct tm tm;
    char date[64] = "";
    if (gmtime_r(&tt, &tm)) {
        static const char *wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday % 7], tm.tm_mday,
                 mo[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    const char *dom = strchr(a->smtp_from, '@');
    prep_buf_printf(m, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, a->smtp_from);
    for (size_t i = 0; i < a->n_to; i++) prep_buf_printf(m, "%s<%s>", i ? ",\r\n " : "", a->smtp_to[i]);
    prep_buf_printf(m,
                    "\r\nSubject: %s\r\nMessage-ID: <prep-monitor.%lld.%ld.%u@%s>\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                    "Auto-Submitted: auto-generated\r\nX-Prep-Monitor: alert\r\n\r\n",
                    subject, (long long)now, (long)getpid(), (unsigned)(body->len * 2654435761u),
                    dom ? dom + 1 : "localhost");
    prep_buf_append(m, body->data, body->len);
    return prep_buf_err(m);
}

static void log_line(prep_monitor_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(prep_monitor_result *r, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char **nl = realloc(r->alert_log, (r->n_alert_log + 1) * sizeof *nl);
    if (!nl) return;
    r->alert_log = nl;
    r->alert_log[r->n_alert_log++] = prep_xstrdup(line);
}

/* "red uaq (serving cut 2, active 3)" or "digest of 12" for the log. */
static void what_of(const mon_event *ev, size_t n, const mon_subject *subj, uint64_t active, char *out, size_t outsz)
{
    if (n > 1) {
        snprintf(out, outsz, "digest of %zu events", n);
        return;
    }
    const mon_subject *x = &subj[ev[0].subject];
    if (x->row && x->row->serving_seq)
        snprintf(out, outsz, "%s %s (serving cut %llu, active %llu)", ev_name(ev[0].kind), x->id,
                 (unsigned long long)x->row->serving_seq, (unsigned long long)active);
    else snprintf(out, outsz, "%s %s (active cut %llu)", ev_name(ev[0].kind), x->id, (unsigned long long)active);
}

/* Composes and sends one message of events over channel ch; 0 sent. */
static int send_one(const prep_monitor_config *c, int ch, const mon_event *ev, size_t n, const mon_subject *subj,
                    uint64_t active, prep_time now, char *err, size_t errsz)
{
    char subject[256];
    prep_buf body;
    prep_buf_init(&body, (size_t)16 << 20);
    int rc = -1;
    if (mon_alert_text(ev, n, subj, active, now, c->out, ch == MON_CH_MAIL, subject, &body)) {
        snprintf(err, errsz, "%s not sent: the message does not fit", ch == MON_CH_MAIL ? "mail" : "webhook");
        goto out;
    }
    if (ch == MON_CH_MAIL) {
        prep_buf m;
        prep_buf_init(&m, (size_t)17 << 20);
        if (mail_message(c, subject, &body, now, &m)) snprintf(err, errsz, "mail not sent: the message does not fit");
        else rc = send_mail(c, m.data, m.len, err, errsz);
        prep_buf_free(&m);
    } else {
        prep_buf_putc(&body, 0);
        char *json = prep_buf_err(&body) ? NULL : mon_alert_json(ev, n, subj, active, now, subject, body.data);
        if (!json) snprintf(err, errsz, "webhook not sent: the message does not fit");
        else rc = send_hook(c, json, err, errsz);
        free(json);
    }
out:
    prep_buf_free(&body);
    return rc;
}

void mon_alerts_round(const prep_monitor_config *c, prep_monitor_result *r, mon_state *st, const mon_cut *active,
                      prep_time now, prep_diags *d)
{
    const prep_monitor_alerts *a = &c->alerts;
    if (!a->enabled) return;
    mon_subject *subj = calloc(r->n + 1, sizeof *subj);
    mon_event *ev = calloc(r->n + 1, sizeof *ev);
    if (!subj || !ev) {
        free(subj);
        free(ev);
        prep_diags_add(d, c->out, 0, 0, "alert-send", "no memory for this round's alerts; planned again next round");
        return;
    }
    size_t ns = 0;
    if (a->cut_late_seconds > 0 && active) {
        /* made: the later of the cut instant and when the monitor first saw it (the lag rule) */
        prep_time made = active->instant;
        if (made == PREP_TIME_NONE || (active->store_seen != PREP_TIME_NONE && active->store_seen > made))
            made = active->store_seen;
        if (made != PREP_TIME_NONE) {
            mon_subject *x = &subj[ns++];
            x->id = MON_ALERT_INSTITUTE;
            int64_t age = now - made;
            char when[32];
            iso(made, when, sizeof when);
            x->bad = age > a->cut_late_seconds;
            snprintf(x->reason, sizeof x->reason, "active cut %llu made %s, %llds ago (late after %llds)",
                     (unsigned long long)active->seq, when, (long long)(age > 0 ? age : 0),
                     (long long)a->cut_late_seconds);
        }
    }
    for (size_t i = 0; i < r->n; i++) {
        mon_subject *x = &subj[ns++];
        x->id = r->rows[i].id;
        x->row = &r->rows[i];
        x->bad = r->rows[i].state == PREP_MONITOR_RED ? 1 : r->rows[i].state == PREP_MONITOR_GREEN ? 0 : -1;
    }
    uint64_t act = active ? active->seq : r->active_seq;
    for (int ch = 0; ch < MON_CH_N; ch++) {
        const char *url = ch == MON_CH_MAIL ? a->smtp_url : a->webhook_url;
        const char *chn = ch == MON_CH_MAIL ? "mail" : "webhook";
        if (!url[0]) continue;
        char server[PREP_MONITOR_URL_MAX + 1];
        server_of(url, server, sizeof server);
        size_t k = mon_alert_plan(st, ch, subj, ns, now, a->reminder_seconds, ev);
        if (!k) continue;
        /* more than the cap: one digest of them all, not one message each */
        size_t per = k > (size_t)a->max_messages_per_round ? k : 1;
        int failed = 0;
        for (size_t i = 0; i < k; i += per) {
            char what[PREP_MONITOR_ID_MAX + 128];
            what_of(&ev[i], per, subj, act, what, sizeof what);
            char err[1024];
            if (failed) {
                /* the channel failed once this round: the rest waits for the next round
                 * (one timeout per channel per round at most) */
                log_line(r, "alert: %s %s: not sent (the %s failed earlier this round); retried next round", chn,
                         what, chn);
                r->alerts_failed++;
                continue;
            }
            if (send_one(c, ch, &ev[i], per, subj, act, now, err, sizeof err)) {
                failed = 1;
                r->alerts_failed++;
                prep_diags_add(d, chn, 0, 0, "alert-send", "%s; %s retried next round", err, what);
                log_line(r, "alert: %s %s: FAILED (%s); retried next round", chn, what, err);
                continue;
            }
            mon_alert_commit(st, ch, &ev[i], per, subj, now);
            r->alerts_sent++;
            log_line(r, "alert: %s %s: sent to %s", chn, what, server);
        }
    }
    free(subj);
    free(ev);
}

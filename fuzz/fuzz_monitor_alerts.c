/* libFuzzer target: the monitor's alerts (docs/monitor.md "Alerts"). The first byte picks:
 *   'c' the "alerts" section of a config (the rest is the whole JSON config): a config
 *       that parses has channel URLs of the allowed schemes without user information,
 *       addresses that are local@domain, at least one recipient with a mail URL, numbers
 *       in range; a refused one leaves it empty; every diag lies inside the input.
 *   't' the texts: the rest is a broadcaster's reason (any bytes); the subject is one
 *       printable-ASCII line, the mail body has no bare control byte but CR LF, and the
 *       webhook JSON parses back with the same id.
 *   'p' the dedup state machine: the rest is a sequence of steps (subject, state, seconds
 *       elapsed, sent or failed) on one channel; the channel is never told RED twice
 *       without a recovery between, reminders are at least reminder_seconds apart, a
 *       recovery follows a bad message, and the memory holds only subjects told bad. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/monitor/monitor_internal.h"
#include "prep/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_config(const uint8_t *data, size_t size)
{
    prep_diags d;
    prep_diags_init(&d);
    d.max_keep = 8;
    prep_monitor_config c;
    prep_err e = prep_monitor_config_parse(data, size, "fuzz", "/base", &c, &d);
    long lines = 1;
    for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
    for (size_t i = 0; i < d.n; i++)
        if (d.v[i].line < 0 || d.v[i].line > lines + 1 || d.v[i].col < 0 || (size_t)d.v[i].col > size + 2) abort();
    const prep_monitor_alerts *a = &c.alerts;
    if (e == PREP_OK && a->enabled) {
        if (!a->smtp_url[0] && !a->webhook_url[0]) abort();
        if (a->smtp_url[0]) {
            if (mon_alert_url_problem(a->smtp_url, 0) || a->n_to < 1 || a->n_to > PREP_MONITOR_RCPT_MAX ||
                mon_addr_problem(a->smtp_from))
                abort();
            for (size_t i = 0; i < a->n_to; i++)
                if (mon_addr_problem(a->smtp_to[i])) abort();
            if (a->smtp_password_file[0] && !a->smtp_user[0]) abort();
        }
        if (a->webhook_url[0] && mon_alert_url_problem(a->webhook_url, 1)) abort();
        if (a->reminder_seconds < 60 || a->cut_late_seconds < 0 || a->max_messages_per_round < 1 ||
            a->max_messages_per_round > 1000)
            abort();
    } else if (e != PREP_OK && (c.n || c.targets || a->enabled)) {
        abort();
    }
    prep_monitor_config_free(&c);
    prep_diags_free(&d);
}

static void check_texts(const uint8_t *data, size_t size)
{
    prep_monitor_row w;
    memset(&w, 0, sizeof w);
    snprintf(w.id, sizeof w.id, "uaq");
    snprintf(w.url, sizeof w.url, "https://uaq.example/");
    size_t n = size < PREP_MONITOR_REASON_MAX ? size : PREP_MONITOR_REASON_MAX;
    memcpy(w.reason, data, n);
    w.reason[n] = 0;
    w.state = (prep_monitor_state)(n % 3);
    w.cuts_behind = -1;
    w.lag_seconds = -1;
    w.cert_days_left = INT64_MIN;
    mon_subject x[2];
    memset(x, 0, sizeof x);
    x[0].id = w.id;
    x[0].row = &w;
    x[0].bad = 1;
    x[1].id = MON_ALERT_INSTITUTE;
    memcpy(x[1].reason, w.reason, n + 1);
    mon_event ev[2] = {{(int)(n % 3), 0, 1795887000}, {MON_EV_CUT_LATE + (int)(n % 3), 1, 1795880000}};
    for (size_t k = 1; k <= 2; k++) {
        char subject[256];
        prep_buf body;
        prep_buf_init(&body, 1 << 20);
        if (mon_alert_text(ev, k, x, 7, 1795887000, "/b", 1, subject, &body)) abort();
        if (strlen(subject) > 214) abort();
        for (const char *p = subject; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) abort();
        for (size_t i = 0; i < body.len; i++) {
            unsigned char ch = (unsigned char)body.data[i];
            if (ch == '\r' && !(i + 1 < body.len && body.data[i + 1] == '\n')) abort();
            if (ch == '\n' && !(i > 0 && body.data[i - 1] == '\r')) abort();
            if ((ch < 0x20 && ch != '\r' && ch != '\n') || ch == 0x7f) abort();
        }
        prep_buf_putc(&body, 0);
        char *js = mon_alert_json(ev, k, x, 7, 1795887000, subject, body.data);
        if (js) {
            json_error_t je;
            json_t *o = json_loads(js, 0, &je);
            if (!o) abort();
            json_t *e0 = json_array_get(json_object_get(o, "events"), 0);
            if (!e0 || strcmp(json_string_value(json_object_get(e0, "id")), "uaq")) abort();
            json_decref(o);
            free(js);
        }
        prep_buf_free(&body);
    }
}

static void check_plan(const uint8_t *data, size_t size)
{
    enum { NS = 4 };
    static const char *ids[NS] = {MON_ALERT_INSTITUTE, "a", "b", "c"};
    const int64_t reminder = 60;
    mon_state s;
    memset(&s, 0, sizeof s);
    prep_time now = 1795887000;
    prep_time last_bad_msg[NS];
    int told_bad[NS] = {0};
    for (int i = 0; i < NS; i++) last_bad_msg[i] = PREP_TIME_NONE;
    for (size_t i = 0; i + 1 < size; i += 2) {
        uint8_t a = data[i], b = data[i + 1];
        mon_subject x[NS];
        memset(x, 0, sizeof x);
        for (int k = 0; k < NS; k++) {
            x[k].id = ids[k];
            x[k].bad = ((a >> (2 * k)) & 3) == 3 ? -1 : ((a >> (2 * k)) & 1);
        }
        now += b & 0x7f;
        int sent = !(b & 0x80);
        mon_event ev[NS];
        size_t n = mon_alert_plan(&s, MON_CH_MAIL, x, NS, now, reminder, ev);
        if (n > NS) abort();
        for (size_t j = 0; j < n; j++) {
            size_t k = ev[j].subject;
            int inst = k == 0;
            switch (ev[j].kind) {
            case MON_EV_RED:
            case MON_EV_CUT_LATE:
                if (told_bad[k] || x[k].bad != 1 || inst != (ev[j].kind == MON_EV_CUT_LATE)) abort();
                break;
            case MON_EV_STILL_RED:
            case MON_EV_CUT_STILL_LATE:
                if (!told_bad[k] || x[k].bad != 1 || now - last_bad_msg[k] < reminder) abort();
                break;
            default:
                if (!told_bad[k] || x[k].bad != 0) abort();
            }
            if (sent) {
                if (ev[j].kind == MON_EV_RECOVERED || ev[j].kind == MON_EV_CUT_OK) {
                    told_bad[k] = 0;
                } else {
                    told_bad[k] = 1;
                    last_bad_msg[k] = now;
                }
            }
        }
        if (sent) mon_alert_commit(&s, MON_CH_MAIL, ev, n, x, now);
        size_t nb = 0;
        for (int k = 0; k < NS; k++) {
            nb += told_bad[k];
            if (!!mon_told_find(&s, MON_CH_MAIL, ids[k]) != told_bad[k]) abort();
        }
        if (s.n_told != nb) abort();
    }
    mon_state_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    switch (data[0]) {
    case 'c': check_config(data + 1, size - 1); break;
    case 't': check_texts(data + 1, size - 1); break;
    case 'p': check_plan(data + 1, size - 1); break;
    default: break;
    }
    return 0;
}

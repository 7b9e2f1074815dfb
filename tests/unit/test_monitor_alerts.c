/* prep monitor's alerts (docs/monitor.md "Alerts"): the dedup and rate-limit state machine
 * with a fake clock, commit and retry, the alerts' memory in state.json, the message texts
 * (single, digest, forged line ends), the webhook JSON, the "alerts" config section and
 * its located errors, the password file's mode, and a round's alerts against a closed
 * port (the institute's cut late, the failure named, nothing committed). Real SMTP and
 * webhook peers are in tests/integ/monitor_alerts.sh. */
#include "test_cut_util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../../src/monitor/monitor_internal.h"
#include "prep/monitor.h"

#define NOW ((prep_time)1795887000) /* a fake clock: 2026-11-28T17:30:00Z */

static prep_monitor_row mkrow(const char *id, prep_monitor_state st, const char *reason)
{
    prep_monitor_row w;
    memset(&w, 0, sizeof w);
    snprintf(w.id, sizeof w.id, "%s", id);
    snprintf(w.url, sizeof w.url, "https://%s.example/", id);
    w.state = st;
    snprintf(w.reason, sizeof w.reason, "%s", reason);
    w.serving_seq = 7;
    w.cuts_behind = 0;
    w.lag_seconds = 12;
    w.cert_days_left = 59;
    w.cert_expires = PREP_TIME_NONE;
    w.x_prep_corte = -1;
    w.pages_checked = 13;
    w.pages_bad = st == PREP_MONITOR_RED;
    return w;
}

static mon_subject subj_of(const prep_monitor_row *w)
{
    mon_subject x;
    memset(&x, 0, sizeof x);
    x.id = w->id;
    x.row = w;
    x.bad = w->state == PREP_MONITOR_RED ? 1 : w->state == PREP_MONITOR_GREEN ? 0 : -1;
    return x;
}

/* plans one channel at time t and, when sent, commits: returns the event kind, -1 none */
static int step(mon_state *s, int ch, mon_subject *x, prep_time t, int sent)
{
    mon_event ev[2];
    size_t k = mon_alert_plan(s, ch, x, 1, t, 1800, ev);
    assert_true(k <= 1);
    if (!k) return -1;
    if (sent) mon_alert_commit(s, ch, ev, k, x, t);
    return ev[0].kind;
}

static void test_plan_fake_clock(void **state)
{
    (void)state;
    mon_state s;
    memset(&s, 0, sizeof s);
    prep_monitor_row w = mkrow("uaq", PREP_MONITOR_GREEN, "serving cut 7");
    mon_subject x = subj_of(&w);
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW, 1), -1);              /* green, never told: nothing */
    x.bad = 1;
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW + 30, 1), MON_EV_RED); /* turns red: one alert */
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW + 60, 1), -1);         /* still red: deduplicated */
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW + 30 + 1799, 1), -1);  /* reminder not yet due */
    mon_event ev[1];
    assert_int_equal(mon_alert_plan(&s, MON_CH_MAIL, &x, 1, NOW + 30 + 1800, 1800, ev), 1);
    assert_int_equal(ev[0].kind, MON_EV_STILL_RED);
    assert_int_equal(ev[0].since, NOW + 30); /* since the first alert, not the last */
    mon_alert_commit(&s, MON_CH_MAIL, ev, 1, &x, NOW + 1830);
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW + 1830 + 1799, 1), -1); /* the next one 1800 s later */
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW + 1830 + 1800, 1), MON_EV_STILL_RED);
    x.bad = -1; /* amber after red: no change of what was told, no reminder */
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW + 9000, 1), -1);
    x.bad = 0;
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW + 9030, 1), MON_EV_RECOVERED);
    assert_null(mon_told_find(&s, MON_CH_MAIL, "uaq"));
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW + 9060, 1), -1); /* green again: nothing */
    x.bad = 1;
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW + 9090, 1), MON_EV_RED); /* a new change: told again */
    mon_state_free(&s);
}

static void test_failed_send_is_retried_channels_apart(void **state)
{
    (void)state;
    mon_state s;
    memset(&s, 0, sizeof s);
    prep_monitor_row w = mkrow("uaq", PREP_MONITOR_RED, "modified page index.html");
    mon_subject x = subj_of(&w);
    /* the mail fails (not committed), the webhook goes */
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW, 0), MON_EV_RED);
    assert_int_equal(step(&s, MON_CH_HOOK, &x, NOW, 1), MON_EV_RED);
    /* next round: the mail is planned again, the webhook is not */
    assert_int_equal(step(&s, MON_CH_MAIL, &x, NOW + 30, 1), MON_EV_RED);
    assert_int_equal(step(&s, MON_CH_HOOK, &x, NOW + 30, 1), -1);
    /* recovered before a channel was ever told: nothing to recover from on it */
    mon_state s2;
    memset(&s2, 0, sizeof s2);
    assert_int_equal(step(&s2, MON_CH_MAIL, &x, NOW, 0), MON_EV_RED);
    x.bad = 0;
    assert_int_equal(step(&s2, MON_CH_MAIL, &x, NOW + 30, 1), -1);
    mon_state_free(&s2);
    mon_state_free(&s);
}

static void test_institute_subject_and_many(void **state)
{
    (void)state;
    mon_state s;
    memset(&s, 0, sizeof s);
    mon_subject x[301];
    prep_monitor_row *rows = calloc(300, sizeof *rows);
    memset(x, 0, sizeof x);
    x[0].id = MON_ALERT_INSTITUTE;
    x[0].bad = 1;
    snprintf(x[0].reason, sizeof x[0].reason, "active cut 7 made 2026-11-28T15:00:00Z, 1800s ago (late after 600s)");
    for (int i = 0; i < 300; i++) {
        char id[16];
        snprintf(id, sizeof id, "d%03d", i);
        rows[i] = mkrow(id, PREP_MONITOR_RED, "unreachable: Couldn't connect to server");
        x[i + 1] = subj_of(&rows[i]);
    }
    mon_event *ev = calloc(301, sizeof *ev);
    size_t k = mon_alert_plan(&s, MON_CH_HOOK, x, 301, NOW, 1800, ev);
    assert_int_equal(k, 301);
    assert_int_equal(ev[0].kind, MON_EV_CUT_LATE);
    assert_int_equal(ev[1].kind, MON_EV_RED);
    mon_alert_commit(&s, MON_CH_HOOK, ev, k, x, NOW);
    assert_int_equal(s.n_told, 301);
    assert_int_equal(mon_alert_plan(&s, MON_CH_HOOK, x, 301, NOW + 30, 1800, ev), 0);
    x[0].bad = 0;
    k = mon_alert_plan(&s, MON_CH_HOOK, x, 301, NOW + 60, 1800, ev);
    assert_int_equal(k, 1);
    assert_int_equal(ev[0].kind, MON_EV_CUT_OK);

    /* 300 reds at once in one digest: one subject line, every id in the body */
    mon_event all[300];
    for (size_t i = 0; i < 300; i++) all[i] = (mon_event){MON_EV_RED, i + 1, NOW};
    char subject[256];
    prep_buf body;
    prep_buf_init(&body, (size_t)16 << 20);
    assert_int_equal(mon_alert_text(all, 300, x, 7, NOW, "/srv/board", 1, subject, &body), PREP_OK);
    assert_string_equal(subject, "prep monitor: 300 alerts: 300 RED");
    prep_buf_putc(&body, 0);
    assert_non_null(strstr(body.data, "difusor d000 is RED: unreachable"));
    assert_non_null(strstr(body.data, "difusor d299 is RED: unreachable"));
    assert_non_null(strstr(body.data, "evidence:      /srv/board/evidence/d299.jsonl\r\n"));
    prep_buf_free(&body);

    /* the memory survives a restart: saved and loaded with the rest of state.json */
    char *t = tmpdir_new();
    char path[512];
    snprintf(path, sizeof path, "%s/state.json", t);
    assert_int_equal(mon_state_save(path, &s), PREP_OK);
    mon_state l;
    prep_diags d;
    prep_diags_init(&d);
    mon_state_load(path, &l, &d);
    assert_int_equal(d.n, 0);
    assert_int_equal(l.n_told, 301); /* the 300 and the institute */
    const mon_told *tt = mon_told_find(&l, MON_CH_HOOK, "d123");
    assert_non_null(tt);
    assert_int_equal(tt->since, NOW);
    assert_int_equal(tt->last, NOW);
    assert_null(mon_told_find(&l, MON_CH_MAIL, "d123"));
    /* after the restart: the reds are not repeated; the institute's recovery, never sent, still is */
    assert_int_equal(mon_alert_plan(&l, MON_CH_HOOK, x, 301, NOW + 90, 1800, ev), 1);
    assert_int_equal(ev[0].kind, MON_EV_CUT_OK);
    mon_state_free(&l);
    /* damaged entries are skipped, good ones kept */
    const char *bad = "{\"alerts\": [[9,\"x\",1,1], [0,\"\",1,1], [1,\"ok\",5,6], \"no\", [0,\"y\",\"t\",1],"
                      " [1,\"ok\",7,8]]}";
    FILE *f = fopen(path, "w");
    fputs(bad, f);
    fclose(f);
    mon_state_load(path, &l, &d);
    assert_int_equal(l.n_told, 1);
    assert_string_equal(l.told[0].subject, "ok");
    assert_int_equal(l.told[0].since, 5);
    mon_state_free(&l);
    prep_diags_free(&d);
    rm_rf(t);
    free(t);
    free(ev);
    free(rows);
    mon_state_free(&s);
}

static void test_texts(void **state)
{
    (void)state;
    prep_monitor_row w = mkrow("uaq", PREP_MONITOR_RED, "modified page a\r\nBcc: x@evil.example\xc3\xa1\xff");
    mon_subject x = subj_of(&w);
    mon_event ev = {MON_EV_RED, 0, NOW};
    char subject[256];
    prep_buf body;
    prep_buf_init(&body, 1 << 20);
    assert_int_equal(mon_alert_text(&ev, 1, &x, 7, NOW, "/b", 1, subject, &body), PREP_OK);
    /* one line, printable ASCII: a reason cannot add a header */
    assert_string_equal(subject, "prep monitor: difusor uaq is RED: modified page a  Bcc: x@evil.example??");
    prep_buf_putc(&body, 0);
    assert_null(strstr(body.data, "\r\nBcc:"));
    /* the body keeps well-formed UTF-8 (a reason may name a page in Spanish), not a stray byte */
    assert_non_null(strstr(body.data, "reason:        modified page a  Bcc: x@evil.example\xc3\xa1?\r\n"));
    assert_non_null(strstr(body.data, "site:          https://uaq.example/\r\n"));
    assert_non_null(strstr(body.data, "serving cut:   7 (active 7, 0 behind)\r\n"));
    assert_non_null(strstr(body.data, "pages checked: 13 (1 bad)\r\n"));
    char *js = mon_alert_json(&ev, 1, &x, 7, NOW, subject, body.data);
    assert_non_null(js);
    json_error_t je;
    json_t *o = json_loads(js, 0, &je);
    assert_non_null(o);
    json_t *e0 = json_array_get(json_object_get(o, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(e0, "kind")), "red");
    assert_string_equal(json_string_value(json_object_get(e0, "id")), "uaq");
    assert_string_equal(json_string_value(json_object_get(e0, "url")), "https://uaq.example/");
    assert_int_equal(json_integer_value(json_object_get(o, "active_cut")), 7);
    assert_string_equal(json_string_value(json_object_get(o, "at")), "2026-11-28T17:30:00Z");
    json_decref(o);
    free(js);

    /* a reminder and a recovery name when it began; the institute's own lines */
    prep_buf_reset(&body);
    ev = (mon_event){MON_EV_STILL_RED, 0, NOW - 3600};
    assert_int_equal(mon_alert_text(&ev, 1, &x, 7, NOW, "/b", 0, subject, &body), PREP_OK);
    assert_non_null(strstr(subject, "prep monitor: difusor uaq is still RED (since 2026-11-28T16:30:00Z): "));
    w.state = PREP_MONITOR_GREEN;
    snprintf(w.reason, sizeof w.reason, "serving cut 7, 13 sampled pages identical");
    ev.kind = MON_EV_RECOVERED;
    assert_int_equal(mon_alert_text(&ev, 1, &x, 7, NOW, "/b", 0, subject, &body), PREP_OK);
    assert_string_equal(subject, "prep monitor: difusor uaq recovered (green): serving cut 7, 13 sampled pages identical");
    mon_subject in;
    memset(&in, 0, sizeof in);
    in.id = MON_ALERT_INSTITUTE;
    in.bad = 1;
    snprintf(in.reason, sizeof in.reason, "active cut 7 made 2026-11-28T15:00:00Z, 1800s ago (late after 600s)");
    ev = (mon_event){MON_EV_CUT_LATE, 0, NOW};
    assert_int_equal(mon_alert_text(&ev, 1, &in, 7, NOW, "/b", 0, subject, &body), PREP_OK);
    assert_string_equal(subject, "prep monitor: the institute's cut is LATE: active cut 7 made 2026-11-28T15:00:00Z, "
                                 "1800s ago (late after 600s)");
    /* a mixed digest */
    mon_subject two[2] = {in, x};
    mon_event evs[2] = {{MON_EV_CUT_LATE, 0, NOW}, {MON_EV_RECOVERED, 1, NOW - 60}};
    assert_int_equal(mon_alert_text(evs, 2, two, 7, NOW, "/b", 0, subject, &body), PREP_OK);
    assert_string_equal(subject, "prep monitor: 2 alerts: 1 recovered, the institute's cut LATE");
    prep_buf_free(&body);
}

/* ---------------------------------------------------------------- config */
static const char good_alerts[] =
    "{\"store\": \"s\", \"out\": \"o\", \"broadcasters\": [],\n"
    " \"alerts\": {\"smtp\": {\"url\": \"smtp://mail.ieeq.example:587\", \"from\": \"monitor@ieeq.example\",\n"
    "   \"to\": [\"guardia@ieeq.example\", \"prep@ieeq.example\"], \"password_file\": \"smtp.pass\",\n"
    "   \"ca_file\": \"/etc/ssl/ca.pem\"},\n"
    "  \"webhook\": {\"url\": \"https://chat.ieeq.example/hooks/prep\"},\n"
    "  \"reminder_seconds\": 900, \"cut_late_seconds\": 0, \"max_messages_per_round\": 3}}\n";

static void test_config_alerts_good(void **state)
{
    (void)state;
    prep_diags d;
    prep_diags_init(&d);
    prep_monitor_config c;
    assert_int_equal(prep_monitor_config_parse(good_alerts, strlen(good_alerts), "c.json", "/etc/prep", &c, &d),
                     PREP_OK);
    const prep_monitor_alerts *a = &c.alerts;
    assert_true(a->enabled);
    assert_string_equal(a->smtp_url, "smtp://mail.ieeq.example:587");
    assert_string_equal(a->smtp_from, "monitor@ieeq.example");
    assert_int_equal(a->n_to, 2);
    assert_string_equal(a->smtp_to[1], "prep@ieeq.example");
    assert_string_equal(a->smtp_user, "monitor@ieeq.example"); /* default: from */
    assert_string_equal(a->smtp_password_file, "/etc/prep/smtp.pass");
    assert_string_equal(a->smtp_ca_file, "/etc/ssl/ca.pem");
    assert_string_equal(a->webhook_url, "https://chat.ieeq.example/hooks/prep");
    assert_string_equal(a->webhook_ca_file, "");
    assert_int_equal(a->reminder_seconds, 900);
    assert_int_equal(a->cut_late_seconds, 0);
    assert_int_equal(a->max_messages_per_round, 3);
    prep_monitor_config_free(&c);
    /* no section: disabled, defaults */
    const char *none = "{\"store\": \"s\", \"out\": \"o\", \"broadcasters\": []}";
    assert_int_equal(prep_monitor_config_parse(none, strlen(none), "c.json", NULL, &c, &d), PREP_OK);
    assert_false(c.alerts.enabled);
    assert_int_equal(c.alerts.reminder_seconds, 1800);
    assert_int_equal(c.alerts.cut_late_seconds, 600);
    assert_int_equal(c.alerts.max_messages_per_round, 5);
    prep_monitor_config_free(&c);
    prep_diags_free(&d);
}

static void expect_bad(const char *text, const char *kind, long line, long col, const char *msg_part)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_monitor_config c;
    assert_int_not_equal(prep_monitor_config_parse(text, strlen(text), "c.json", NULL, &c, &d), PREP_OK);
    const prep_diag *g = prep_diags_find(&d, kind);
    if (!g || g->line != line || g->col != col || !strstr(g->msg, msg_part)) {
        fprintf(stderr, "for %s\n", text);
        prep_diags_print(&d, stderr, 0);
    }
    assert_non_null(g);
    assert_string_equal(g->file, "c.json");
    assert_int_equal(g->line, line);
    assert_int_equal(g->col, col);
    assert_non_null(strstr(g->msg, msg_part));
    assert_false(c.alerts.enabled && c.n);
    prep_diags_free(&d);
}

#define HEAD "{\"store\": \"s\", \"out\": \"o\", \"broadcasters\": [],\n"

static void test_config_alerts_errors_located(void **state)
{
    (void)state;
    /* positions by hand: line 2 starts ` "alerts": {"smtp": {"url": ` (28 bytes), so the
     * value's opening quote is column 29 */
    expect_bad(HEAD " \"alerts\": {\"smtp\": {\"url\": \"http://mail.example\", \"from\": \"a@b.mx\", \"to\": [\"x@y.mx\"]}}}",
               "config-field", 2, 29, "must begin with smtp:// (STARTTLS is required) or smtps://");
    expect_bad(HEAD " \"alerts\": {\"smtp\": {\"url\": \"smtp://m.example:25/x\", \"from\": \"a@b.mx\", \"to\": [\"x@y.mx\"]}}}",
               "config-field", 2, 29, "must have no path");
    /* `  "webhook": {"url": ` is 21 bytes */
    expect_bad(HEAD " \"alerts\": {\n  \"webhook\": {\"url\": \"https://user:pw@hooks.example/x\"}}}", "config-field", 3, 22,
               "must not carry user information");
    /* `  "to": ["ok@y.mx", ` is 20 bytes */
    expect_bad(HEAD " \"alerts\": {\"smtp\": {\"url\": \"smtp://m.example:587\", \"from\": \"a@b.mx\",\n  \"to\": [\"ok@y.mx\", \"no at sign\"]}}}",
               "config-field", 3, 21, "alerts.smtp.to[1] must be local@domain");
    /* the unknown key's value: `"x"` at 63 */
    expect_bad(HEAD " \"alerts\": {\"webhook\": {\"url\": \"https://h.example/\", \"token\": \"x\"}}}", "config-field", 2, 63,
               "unknown key \"token\" in alerts.webhook");
    /* `  "reminder_seconds": ` is 22 bytes */
    expect_bad(HEAD " \"alerts\": {\"webhook\": {\"url\": \"https://h.example/\"},\n  \"reminder_seconds\": 5}}",
               "config-range", 3, 23, "\"reminder_seconds\" is 5; allowed 60..604800");
    /* a missing key is located at the object that lacks it: ` "alerts": ` is 11 bytes */
    expect_bad(HEAD " \"alerts\": {\"reminder_seconds\": 600}}", "config-missing", 2, 12,
               "\"alerts\" needs \"smtp\" or \"webhook\"");
    /* ` "alerts": {"smtp": ` is 20 bytes */
    expect_bad(HEAD " \"alerts\": {\"smtp\": {\"url\": \"smtps://m.example\", \"to\": [\"x@y.mx\"]}}}", "config-missing", 2, 21,
               "\"alerts.smtp\" has no \"from\"");
    /* the second "x@y.mx" at 84 */
    expect_bad(HEAD " \"alerts\": {\"smtp\": {\"url\": \"smtp://m.example\", \"from\": \"a@b.mx\", \"to\": [\"x@y.mx\", \"x@y.mx\"]}}}",
               "config-duplicate", 2, 84, "given twice");
    /* a user without a password file: "u" at 93 */
    expect_bad(HEAD " \"alerts\": {\"smtp\": {\"url\": \"smtp://m.example\", \"from\": \"a@b.mx\", \"to\": [\"x@y.mx\"], \"user\": \"u\"}}}",
               "config-missing", 2, 93, "without \"password_file\"");
    expect_bad(HEAD " \"alerts\": []}", "config-field", 2, 12, "\"alerts\" must be an object");
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_password_file(void **state)
{
    (void)state;
    char *t = tmpdir_new();
    char pw[PATH_MAX], cfg[PATH_MAX], lnk[PATH_MAX], why[256], got[1024];
    snprintf(pw, sizeof pw, "%s/smtp.pass", t);
    snprintf(cfg, sizeof cfg, "%s/c.json", t);
    snprintf(lnk, sizeof lnk, "%s/link.pass", t);
    write_file(pw, "s3cret-pass\r\nsecond line ignored\n", 0600);
    assert_int_equal(mon_alert_password_read(pw, got, sizeof got, why, sizeof why), 0);
    assert_string_equal(got, "s3cret-pass");
    assert_int_equal(chmod(pw, 0640), 0);
    assert_int_not_equal(mon_alert_password_check(pw, why, sizeof why), 0);
    assert_string_equal(why, "has mode 0640: group and others must have no access (chmod 600)");
    assert_int_equal(chmod(pw, 0604), 0);
    assert_int_not_equal(mon_alert_password_check(pw, why, sizeof why), 0);
    assert_int_equal(chmod(pw, 0400), 0);
    assert_int_equal(mon_alert_password_check(pw, why, sizeof why), 0);
    assert_int_equal(symlink(pw, lnk), 0);
    assert_int_not_equal(mon_alert_password_check(lnk, why, sizeof why), 0);
    assert_non_null(strstr(why, "a symbolic link is refused"));
    write_file(pw, "\n", 0600);
    assert_int_not_equal(mon_alert_password_check(pw, why, sizeof why), 0);
    assert_non_null(strstr(why, "is empty"));

    /* the config load refuses a readable one at the value's line:column, password not shown */
    write_file(pw, "s3cret-pass\n", 0644);
    write_file(cfg,
               "{\"store\": \"s\", \"out\": \"o\", \"broadcasters\": [],\n"
               " \"alerts\": {\"smtp\": {\"url\": \"smtp://m.example\", \"from\": \"a@b.mx\", \"to\": [\"x@y.mx\"],\n"
               "   \"password_file\": \"smtp.pass\"}}}\n",
               0644);
    prep_diags d;
    prep_diags_init(&d);
    prep_monitor_config c;
    assert_int_equal(prep_monitor_config_load(cfg, &c, &d), PREP_ERR_INVALID);
    const prep_diag *g = prep_diags_find(&d, "config-secret");
    assert_non_null(g);
    assert_int_equal(g->line, 3);
    assert_int_equal(g->col, 21); /* `   "password_file": ` is 20 bytes */
    assert_non_null(strstr(g->msg, "smtp.pass has mode 0644"));
    assert_null(strstr(g->msg, "s3cret"));
    assert_false(c.alerts.enabled);
    prep_diags_free(&d);
    assert_int_equal(chmod(pw, 0600), 0);
    prep_diags_init(&d);
    assert_int_equal(prep_monitor_config_load(cfg, &c, &d), PREP_OK);
    prep_monitor_config_free(&c);
    prep_diags_free(&d);
    rm_rf(t);
    free(t);
}

/* A round's alerts with the webhook on a closed port: the institute's cut is late (seen
 * long ago), a broadcaster is red; the send fails fast, is named, nothing is committed,
 * and the second message of the round is not attempted. */
static void test_round_alerts_fail_named(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd); /* a port nobody listens on */
    prep_monitor_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.out, sizeof c.out, "/srv/board");
    c.timeout_seconds = 5;
    c.alerts.enabled = 1;
    snprintf(c.alerts.webhook_url, sizeof c.alerts.webhook_url, "http://127.0.0.1:%u/hooks/s3cret-path",
             (unsigned)ntohs(sa.sin_port));
    c.alerts.reminder_seconds = 1800;
    c.alerts.cut_late_seconds = 600;
    c.alerts.max_messages_per_round = 5;
    prep_monitor_row rows[2] = {mkrow("uaq", PREP_MONITOR_RED, "unreachable: refused"),
                                mkrow("ok", PREP_MONITOR_GREEN, "serving cut 7")};
    prep_monitor_result r;
    memset(&r, 0, sizeof r);
    r.rows = rows;
    r.n = 2;
    r.active_seq = 7;
    mon_cut active = {7, "", NOW - 7200, NOW - 1800}; /* made: the later, 1800 s ago */
    mon_state s;
    memset(&s, 0, sizeof s);
    prep_diags d;
    prep_diags_init(&d);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mon_alerts_round(&c, &r, &s, &active, NOW, &d);
    curl_global_cleanup();
    assert_int_equal(r.alerts_sent, 0);
    assert_int_equal(r.alerts_failed, 2);
    assert_int_equal(r.n_alert_log, 2);
    assert_non_null(strstr(r.alert_log[0], "alert: webhook cut-late @institute (active cut 7): FAILED (webhook to "
                                           "http://127.0.0.1:"));
    assert_non_null(strstr(r.alert_log[1], "alert: webhook red uaq (serving cut 7, active 7): not sent (the webhook "
                                           "failed earlier this round)"));
    const prep_diag *g = prep_diags_find(&d, "alert-send");
    assert_non_null(g);
    assert_non_null(strstr(g->msg, "failed: Couldn't connect to server"));
    for (size_t i = 0; i < r.n_alert_log; i++) assert_null(strstr(r.alert_log[i], "s3cret"));
    for (size_t i = 0; i < d.n; i++) assert_null(strstr(d.v[i].msg, "s3cret"));
    assert_int_equal(s.n_told, 0); /* nothing committed: planned again next round */
    for (size_t i = 0; i < r.n_alert_log; i++) free(r.alert_log[i]);
    free(r.alert_log);
    prep_diags_free(&d);
    mon_state_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_fake_clock),
        cmocka_unit_test(test_failed_send_is_retried_channels_apart),
        cmocka_unit_test(test_institute_subject_and_many),
        cmocka_unit_test(test_texts),
        cmocka_unit_test(test_config_alerts_good),
        cmocka_unit_test(test_config_alerts_errors_located),
        cmocka_unit_test(test_password_file),
        cmocka_unit_test(test_round_alerts_fail_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

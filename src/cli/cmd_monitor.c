/* prep monitor --config FILE [--once]: probe every broadcaster, write the compliance
 * board (docs/monitor.md). Option parsing and printing only; the work is in src/monitor/. */
#include "cli.h"

#include <signal.h>
#include <string.h>
#include <time.h>

#include "prep/monitor.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void print_round(const prep_monitor_result *r)
{
    printf("round: active cut %llu; %zu green, %zu amber, %zu red\n", (unsigned long long)r->active_seq, r->green,
           r->amber, r->red);
    for (size_t i = 0; i < r->n; i++)
        printf("  %-16s %-5s %s\n", r->rows[i].id, prep_monitor_state_name(r->rows[i].state), r->rows[i].reason);
    for (size_t i = 0; i < r->n_alert_log; i++) printf("%s\n", r->alert_log[i]);
    fflush(stdout);
}

int cmd_monitor(int argc, char **argv)
{
    cli_opt opts[] = {
        {"config", "FILE", "the monitor's JSON config (required; docs/monitor.md)", NULL},
        {"once", NULL, "one round, then exit: 0 all green, 1 any amber or red", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int help;
    char err[256];
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep monitor: %s (see 'prep monitor --help')\n", err);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, "monitor", "--config FILE [--once]",
                  "Probes every broadcaster's public site over HTTPS each interval: serving the\n"
                  "institute's latest cut (by manifest hash), sampled pages byte-identical to the\n"
                  "signed cut, lag, certificate, up. Writes OUT/index.html, OUT/board.json,\n"
                  "OUT/metrics.prom and OUT/evidence/<id>.jsonl. Runs until SIGINT/SIGTERM.\n"
                  "With an \"alerts\" section in the config, sends mail (SMTP with STARTTLS, or\n"
                  "SMTPS) and/or a JSON webhook when a broadcaster turns red, stays red (a reminder\n"
                  "every reminder_seconds), recovers, or the institute's active cut is older than\n"
                  "cut_late_seconds; once per change per channel (remembered in OUT/state.json),\n"
                  "one digest when a round has more than max_messages_per_round. The SMTP\n"
                  "password comes only from alerts.smtp.password_file (mode 0600 or stricter).\n"
                  "A failed send is printed (\"alert-send\") and retried next round.\n"
                  "Exit status with --once: 0 all green, 1 any amber or red, 2 bad config.",
                  opts);
        return CLI_OK;
    }
    const char *path = cli_get(opts, "config");
    if (!path) {
        fprintf(stderr, "prep monitor: --config FILE is required (see 'prep monitor --help')\n");
        return CLI_USAGE;
    }
    prep_diags d;
    prep_diags_init(&d);
    prep_monitor_config c;
    prep_err e = prep_monitor_config_load(path, &c, &d);
    if (e) {
        prep_diags_print(&d, stderr, 20);
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    int once = cli_get(opts, "once") != NULL, status = CLI_OK;
    if (!once) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    for (;;) {
        prep_monitor_result r;
        prep_diags_free(&d);
        prep_diags_init(&d);
        prep_time started = prep_time_now();
        e = prep_monitor_round(&c, PREP_TIME_NONE, &r, &d);
        if (d.n) prep_diags_print(&d, stderr, 20);
        if (e) {
            fprintf(stderr, "prep monitor: round failed: %s\n", prep_err_text(e));
            status = e == PREP_ERR_VERIFY ? CLI_CHECK_FAILED : CLI_USAGE;
        } else {
            print_round(&r);
            status = (r.amber || r.red) ? CLI_CHECK_FAILED : CLI_OK;
            if (!r.n) {
                fprintf(stderr, "prep monitor: no broadcaster to probe (none listed, none active in the registry)\n");
                status = CLI_USAGE;
            }
            prep_monitor_result_free(&r);
        }
        if (once) break;
        prep_time next = started + c.interval_seconds;
        while (!stop_requested && prep_time_now() < next) {
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (stop_requested) {
            status = CLI_OK;
            break;
        }
    }
    prep_diags_free(&d);
    prep_monitor_config_free(&c);
    return status;
}

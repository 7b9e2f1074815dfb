/* prep command line: shared pieces of the subcommands. The CLI only parses options,
 * calls the parts and prints; it holds no election logic (DESIGN.md). */
#ifndef PREP_CLI_H
#define PREP_CLI_H

#include "prep/core.h"

/* Exit statuses (DESIGN.md): 0 success, 1 a check failed, 2 bad usage or input. */
enum { CLI_OK = 0, CLI_CHECK_FAILED = 1, CLI_USAGE = 2 };

typedef struct cli_opt {
    const char *name;   /* long name without dashes: "catalog" */
    const char *arg;    /* NULL for a flag, else the argument's name for help: "FILE" */
    const char *help;   /* one line */
    const char *value;  /* set by cli_parse: the argument, or "1" for a flag given; NULL if absent */
} cli_opt;

/* Parses argv[0..argc) against opts (NULL-name terminated). Accepts "--name value",
 * "--name=value", "-h"/"--help" (sets *help). Positional arguments are refused.
 * On error writes a message naming the offending argument into err and returns -1. */
int cli_parse(int argc, char **argv, cli_opt *opts, int *help, char *err, size_t errsz);
/* Prints "usage: prep CMD OPTIONS\n\nSUMMARY\n\noptions:\n  --x ARG  help" to f. */
void cli_usage(FILE *f, const char *cmd, const char *synopsis, const char *summary, const cli_opt *opts);
/* Man pages from the same source as --help (docs/build.md "Man pages"). A hidden "--man"
 * makes cli_parse set *help and cli_usage print roff. cli_man_describe gives the NAME line
 * of the next top-level page (main.c's one-line summary; a subcommand's page takes the
 * first sentence of its summary). cli_man_text prints a page whose description is what
 * print writes (a dispatcher's usage text), with SEE ALSO naming subs (subs NULL: a
 * sentence pointing at the prep-CMD-SUBCOMMAND pages); oneline NULL: cli_man_describe's. */
void cli_man_describe(const char *oneline);
void cli_man_text(FILE *f, const char *cmd, const char *oneline, void (*print)(FILE *), const char *const *subs,
                  size_t nsubs);
const char *cli_get(const cli_opt *opts, const char *name);
/* A whole-number option value s (NULL = not given): 0 when absent, 1 with *out set when it
 * is a number in lo..hi, -1 after printing "prep CMD: --NAME must be a whole number in
 * LO..HI" otherwise. */
int cli_int(const char *cmd, const char *name, const char *s, int64_t lo, int64_t hi, int64_t *out);

/* The store's one long-running writer of its kind (src/cli/store_lock.c): an exclusive
 * lock on STORE/NAME.lock (created, with the store directory) holding the process id,
 * kept until exit. Returns its descriptor, or -1 after printing "STORE/NAME.lock: another
 * prep CMD (pid N) ..." (two daemons on one store race for every cut). */
int cli_store_lock(const char *cmd, const char *store, const char *name);

/* A catalogue and its captures counted up to a cut instant (src/cli/night.c). */
#include "prep/tally.h"
typedef struct cli_night {
    prep_catalog *cat;  /* owned */
    prep_tally *tally;  /* owned */
    prep_time at;       /* the cut instant */
    int final_cut;      /* at >= window close, or every expected acta captured */
} cli_night;
/* Loads catalog, reads actas_dir/<election-id>.csv for every election and applies the
 * captures up to at_s (local time of the process). Errors are printed as "prep CMD: ...".
 * Returns 0, or -1 with nothing to free. */
int cli_night_load(const char *cmd, const char *catalog, const char *actas_dir, const char *at_s, cli_night *n);
/* The same for a published results file and no catalogue: one derived from the file (and
 * its candidaturas CSV, or NULL; docs/formats/actas.md "Published files"), every row
 * applied up to at_s, or, when at_s is NULL, up to the cut its header states (else its
 * latest capture). */
int cli_night_load_published(const char *cmd, const char *file, const char *cand, const char *at_s, cli_night *n);
void cli_night_free(cli_night *n);

/* Subcommands: argv[0] is the subcommand's name. */
int cmd_sim(int argc, char **argv);
int cmd_tally(int argc, char **argv);
int cmd_render(int argc, char **argv);
/* Signed cuts (src/cli/cmd_cut.c). */
int cmd_keygen(int argc, char **argv);
int cmd_cut(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_receive(int argc, char **argv);
/* Each in its own file src/cli/cmd_<name>.c. */
int cmd_serve(int argc, char **argv);
int cmd_apache(int argc, char **argv);
int cmd_difusor(int argc, char **argv);
int cmd_deliver(int argc, char **argv);
int cmd_institute(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_demo(int argc, char **argv);
/* Writes a throwaway ECDSA P-256 key (0600) and a self-signed certificate for localhost
 * and 127.0.0.1 valid 30 days (the drill's TLS). 0 or -1. */
int cli_selfsigned(const char *cert_path, const char *key_path, const char *cn);
/* The broadcaster's pull loop (src/cli/pull_loop.c): polls the institute's link every
 * every_ms, fetches and receives each newer cut (prep_pull_once), exports it when
 * export_dir is set, applies the store's retention when store_keep is set (after the
 * export: prep_cut_store_gc), prints one line per activation and each distinct error
 * once; until *stop. Every pointer borrowed. */
#include <signal.h>
#include "prep/cut.h"
#include "prep/pull.h"
typedef struct cli_pull {
    const char *cmd, *url, *ca_file, *store;
    const prep_cut_policy *policy;
    long every_ms;
    const char *export_dir;                 /* NULL = no export */
    const prep_cut_export_opts *export_opts;
    int export_pending;                     /* export even without a new cut (first round) */
    unsigned store_keep;                    /* 0 = no retention; else the N newest cuts keep their objects */
} cli_pull;
int cli_pull_loop(cli_pull *p, volatile sig_atomic_t *stop);
/* A command whose part is not built yet: says so on stderr, returns CLI_USAGE. */
int cli_not_built(const char *cmd);

#endif

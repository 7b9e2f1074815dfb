/* prep: one binary, one subcommand per job (DESIGN.md "The command line"). */
#include "cli.h"

#include <string.h>

typedef struct cmd {
    const char *name;
    const char *summary;
    int (*fn)(int, char **);
} cmd;

static const cmd commands[] = {
    {"sim", "simulate an election: a catalogue (sim catalog) or a night of actas (sim actas)", cmd_sim},
    {"tally", "count actas into results and the official database; check a real PREP file", cmd_tally},
    {"render", "write the public pages of one cut to a directory (preview, Apache docroot)", cmd_render},
    {"keygen", "make an Ed25519 key pair (NAME.key, NAME.pub) in signify's format", cmd_keygen},
    {"cut", "make, sign and store one cut", cmd_cut},
    {"verify", "verify a stored cut and its chain: what any citizen can run", cmd_verify},
    {"export", "a cut as a plain directory with .gz and .br twins, for Apache or nginx", cmd_export},
    {"receive", "a broadcaster's side: verify an incoming cut and activate it atomically", cmd_receive},
    {"serve", "the broadcaster's HTTPS server: the active cut from memory, swapped atomically", cmd_serve},
    {"apache", "Apache mode: print an Apache 2.4 config serving an exported docroot like prep serve", cmd_apache},
    {"difusor", "the institute's registry of broadcasters (add, list, show, block, letter, roster)", cmd_difusor},
    {"deliver", "push a cut to broadcasters over SFTP or FTPS (only what each one lacks)", cmd_deliver},
    {"institute", "the institute's daemon: a cut every 5 minutes in the window, delivered", cmd_institute},
    {"monitor", "probe every broadcaster's public site; write the compliance board", cmd_monitor},
    {"check", "a broadcaster's infrastructure self-check against the call's section II", cmd_check},
    {"demo", "the live drill: an institute making cuts, broadcasters serving them; prints URLs", cmd_demo},
};


static void usage(FILE *f)
{
    fprintf(f, "usage: prep COMMAND [OPTIONS]   (prep COMMAND --help for each; prep --version)\n\n"
               "Publishes preliminary election results (PREP): counts actas, makes signed cuts,\n"
               "and serves them on broadcasters' sites.\n\ncommands:\n");
    for (size_t i = 0; i < PREP_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit status: 0 success, 1 a check failed, 2 bad usage or input\n");
}

int main(int argc, char **argv)
{
    prep_log_journal_streams(); /* under systemd: a priority on every line (core.h) */
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(c, "--version")) {
        printf("prep %s\n", PREP_VERSION);
        return CLI_OK;
    }
    if (!strcmp(c, "--man")) { /* hidden: prep.1, from the same table as --help */
        const char *names[PREP_ARRAY_LEN(commands)];
        for (size_t i = 0; i < PREP_ARRAY_LEN(commands); i++) names[i] = commands[i].name;
        cli_man_text(stdout, "", "publish preliminary election results (PREP)", usage, names,
                     PREP_ARRAY_LEN(names));
        return CLI_OK;
    }
    if (!strcmp(c, "institute") || !strcmp(c, "cut") || !strcmp(c, "render"))
        prep_mem_cutter(argv); /* the programs that make sites and cuts (core.h) */
    for (size_t i = 0; i < PREP_ARRAY_LEN(commands); i++)
        if (!strcmp(c, commands[i].name)) {
            cli_man_describe(commands[i].summary);
            return commands[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "prep: unknown command '%s'; try 'prep --help'\n", c);
    return CLI_USAGE;
}

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
};

/* Commands of DESIGN.md that later issues build; named so `prep help` tells the truth. */
static const char *planned[] = {"demo", "serve", "difusor", "deliver", "institute", "monitor", "check"};

static void usage(FILE *f)
{
    fprintf(f, "usage: prep COMMAND [OPTIONS]   (prep COMMAND --help for each)\n\n"
               "Publishes preliminary election results (PREP): counts actas, makes signed cuts,\n"
               "and serves them on broadcasters' sites.\n\ncommands:\n");
    for (size_t i = 0; i < PREP_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nnot built yet (see the project's open issues):");
    for (size_t i = 0; i < PREP_ARRAY_LEN(planned); i++) fprintf(f, " %s", planned[i]);
    fprintf(f, "\n\nexit status: 0 success, 1 a check failed, 2 bad usage or input\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < PREP_ARRAY_LEN(commands); i++)
        if (!strcmp(c, commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    for (size_t i = 0; i < PREP_ARRAY_LEN(planned); i++)
        if (!strcmp(c, planned[i])) {
            fprintf(stderr, "prep: '%s' is not built yet in this version (see the open issues)\n", c);
            return CLI_USAGE;
        }
    fprintf(stderr, "prep: unknown command '%s'; try 'prep --help'\n", c);
    return CLI_USAGE;
}

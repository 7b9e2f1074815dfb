/* prep difusor: not built yet (its owner replaces this file). */
#include "cli.h"

int cmd_difusor(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_not_built("difusor");
}

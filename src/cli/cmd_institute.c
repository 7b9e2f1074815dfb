/* prep institute: not built yet (its owner replaces this file). */
#include "cli.h"

int cmd_institute(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_not_built("institute");
}

/* prep serve: not built yet (its owner replaces this file). */
#include "cli.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_not_built("serve");
}

/* prep deliver: not built yet (its owner replaces this file). */
#include "cli.h"

int cmd_deliver(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_not_built("deliver");
}

/* placeholder until the part lands */
#include "prep/core.h"
int prep_actas_placeholder_(void);
int prep_actas_placeholder_(void) { return 0; }

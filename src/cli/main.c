#include "prep/core.h"
int main(void) { return 0; }

/* Placeholder so the part library is never empty; removed when the part has code. */
int prep_monitor_placeholder_(void);
int prep_monitor_placeholder_(void) { return 0; }

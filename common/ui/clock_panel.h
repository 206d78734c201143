/* clock_panel: a process's clock as every window shows it: the clock face and a
 * "Modify" button. Modify stops the clock (clock_stop) and opens the editor of hours,
 * minutes and seconds; "OK" starts the clock from the value entered (clock_set),
 * "Cancel" resumes it as it was (clock_resume). */
#ifndef BT_CLOCK_PANEL_H
#define BT_CLOCK_PANEL_H

#include "clock.h"
#include "ui.h"

struct clock_panel {
    struct clock *clock;
    bool editing;
    struct ui_time_edit edit;
};

void clock_panel_init(struct clock_panel *p, struct clock *c);
/* Draws into r (about 460 x 170 pixels) and handles its buttons. */
void clock_panel(struct ui *ui, SDL_Rect r, struct clock_panel *p);

#endif

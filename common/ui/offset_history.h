/* offset_history: the small history of a process's own offset (app server and client
 * windows): what each correction of its clock measured (reference minus this clock), on
 * the symmetric-log axis of ui_chart, newest at the right, with the latest value written
 * at the top. It follows the clock the window already shows (clock_snapshot every
 * frame): a new correction is a new point. */
#ifndef BT_OFFSET_HISTORY_H
#define BT_OFFSET_HISTORY_H

#include "clock.h"
#include "ui.h"
#include "ui_chart.h"

#define OFFSET_HISTORY_MAX UI_CHART_MAX_SLOTS

struct offset_history {
    uint64_t adjustments;        /* the clock's count at the last point */
    int n;                       /* points kept, oldest first */
    struct ui_chart_point pt[OFFSET_HISTORY_MAX];
};

void offset_history_init(struct offset_history *h);
/* Adds the clock's last correction if it is new. */
void offset_history_update(struct offset_history *h, const struct clock_state *s);
/* Draws into r (a frame with its title; the last nslots corrections). */
void offset_history_draw(struct ui *ui, SDL_Rect r, const struct offset_history *h,
                         const char *title, int nslots, double decades, bool compact);

/* The colour of the markers (the tests count its pixels). */
extern const SDL_Color OFFSET_HISTORY_COLOR;

#endif

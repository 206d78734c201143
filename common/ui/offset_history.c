/* offset_history: a process's own offset, correction by correction (offset_history.h). */
#include "offset_history.h"

#include <string.h>

const SDL_Color OFFSET_HISTORY_COLOR = {31, 119, 180, 255};

void offset_history_init(struct offset_history *h)
{
    memset(h, 0, sizeof *h);
}

void offset_history_update(struct offset_history *h, const struct clock_state *s)
{
    /* Between two frames there may have been more than one: the last one is kept. */
    if (s->adjustments == h->adjustments)
        return;
    h->adjustments = s->adjustments;
    if (s->adjustments == 0)
        return;
    if (h->n == OFFSET_HISTORY_MAX) {
        memmove(&h->pt[0], &h->pt[1], sizeof h->pt[0] * (OFFSET_HISTORY_MAX - 1));
        h->n--;
    }
    h->pt[h->n++] = (struct ui_chart_point){.present = true, .value_us = s->last_delta_us};
}

void offset_history_draw(struct ui *ui, SDL_Rect r, const struct offset_history *h,
                         const char *title, int nslots, double decades, bool compact)
{
    if (nslots > OFFSET_HISTORY_MAX)
        nslots = OFFSET_HISTORY_MAX;
    if (nslots < 2)
        nslots = 2;
    struct ui_chart_point pts[OFFSET_HISTORY_MAX];
    memset(pts, 0, sizeof pts);
    int shown = h->n < nslots ? h->n : nslots;
    for (int i = 0; i < shown; i++)
        pts[nslots - shown + i] = h->pt[h->n - shown + i];
    char last[40] = "";
    if (h->n > 0)
        ui_format_us_short(h->pt[h->n - 1].value_us, true, last, sizeof last);
    struct ui_chart_spec spec = {
        .title = title, .legend = h->n > 0 ? last : NULL,
        .legend_color = (SDL_Color){30, 34, 40, 255}, .nslots = nslots, .small = true,
        .compact = compact, .decades = decades};
    struct ui_chart_series s = {.color = OFFSET_HISTORY_COLOR, .marker = UI_CHART_SQUARE,
                                .pts = pts};
    ui_chart(ui, r, &spec, &s, 1);
}

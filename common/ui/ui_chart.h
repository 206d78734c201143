/* ui_chart: offsets per round (or per correction) on a symmetric-log axis, for the
 * synchronisation chart of the time server's window and the small offset histories of
 * the app server and client windows.
 *
 * The vertical axis is sign(v) * log10(1 + |v| / 1 us): linear within a microsecond,
 * then one step per decade, so a first step of hours and corrections of 20 us are both
 * readable (12 h is 10.6 decades). Slots along the horizontal axis are rounds, oldest
 * left, the newest at the right edge. A series is markers (filled squares of exactly
 * its colour, which is what the tests count in the pixels), lines in a lighter tint
 * between markers of adjacent slots only (an absent slot leaves a gap), and a band of
 * +/- its bound, translucent. Immediate mode like the rest of ui: everything is drawn
 * from the caller's arrays every frame. */
#ifndef BT_UI_CHART_H
#define BT_UI_CHART_H

#include "ui.h"

#define UI_CHART_MAX_SLOTS 64
#define UI_CHART_MARK 5          /* marker side of a large chart, pixels */
#define UI_CHART_MARK_SMALL 3
#define UI_CHART_MIN_SPACING 8   /* between slots of a large chart */
#define UI_CHART_MIN_SPACING_SMALL 5

struct ui_chart_point {
    bool present;
    int64_t value_us;
    int64_t band_us;             /* a band of value +/- band_us; <= 0: none */
};

enum ui_chart_marker { UI_CHART_SQUARE, UI_CHART_CROSS };

struct ui_chart_series {
    SDL_Color color;
    enum ui_chart_marker marker;
    int dx;                      /* markers shifted by dx pixels (series on one value stay apart) */
    const struct ui_chart_point *pts; /* nslots, oldest first */
};

struct ui_chart_spec {
    const char *title;           /* top left */
    const char *legend;          /* top right, in legend_color (NULL: none) */
    SDL_Color legend_color;
    const char *left_label;      /* under the plot, left and right ("5 min ago", "now"); */
    const char *right_label;     /* NULL: no row for them */
    int nslots;                  /* 2..UI_CHART_MAX_SLOTS */
    bool small;                  /* small markers, labels of +/-1 s and 0 only */
    bool compact;                /* (small) no title row: the title, and the legend under
                                    it, in a column left of the plot, no axis labels */
    double decades;              /* the axis spans +/- this many decades (values beyond
                                    sit on the edge); 0: 11 (more than 12 h) */
};

/* Where things are, for drawing and for the tests (test/gui/lib.sh copies them). */
struct ui_chart_layout {
    SDL_Rect plot;               /* inside the frame, the markers' area */
    int y0;                      /* the zero line */
    double px_per_decade;
    double decades;
    int spacing;                 /* pixels between slots */
    int x_last;                  /* x of the newest slot's centre */
};

void ui_chart_layout(struct ui *ui, SDL_Rect r, const struct ui_chart_spec *spec,
                     struct ui_chart_layout *l);
/* How many slots fit in r at the smallest spacing. */
int ui_chart_slots_fit(struct ui *ui, SDL_Rect r, const struct ui_chart_spec *spec);
/* The axis position of v, in decades: sign(v) * log10(1 + |v| / 1 us). */
double ui_chart_symlog(double v_us);
/* The y of v in a layout (clamped to the plot). */
int ui_chart_y(const struct ui_chart_layout *l, double v_us);

void ui_chart(struct ui *ui, SDL_Rect r, const struct ui_chart_spec *spec,
              const struct ui_chart_series *series, int nseries);

/* An offset or duration for people: "+12 µs", "-1.234 ms", "+2.500 s", "+2 min 30 s",
 * "-3 h 02 min" (sign: "+" for positive values too). The units read the same in
 * Spanish and English, and Mexico writes decimals with a point. */
void ui_format_us(int64_t us, bool sign, char *buf, size_t len);
/* The same in at most four digits, for a small chart's legend: "+12 µs", "-1.2 ms",
 * "+2.50 s", "+2.5 min", "-3.0 h". */
void ui_format_us_short(int64_t us, bool sign, char *buf, size_t len);

/* A lighter tint of c, for the lines between markers (exact, never c itself). */
SDL_Color ui_chart_tint(SDL_Color c);

#endif

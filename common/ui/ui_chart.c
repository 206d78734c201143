/* ui_chart: offsets on a symmetric-log axis (see ui_chart.h). */
#include "ui_chart.h"

#include "ui_priv.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#define CHART_DECADES 11.0
#define LABEL_W 46
#define LABEL_W_SMALL 34
#define COMPACT_W 104

static const SDL_Color CHART_FILL = {255, 255, 255, 255};
static const SDL_Color CHART_FRAME = {150, 154, 162, 255};
static const SDL_Color CHART_TEXT = {30, 34, 40, 255};
static const SDL_Color CHART_DIM = {96, 102, 112, 255};
static const SDL_Color CHART_ZERO = {168, 172, 180, 255};
static const SDL_Color CHART_GRID = {226, 229, 235, 255};

double ui_chart_symlog(double v_us)
{
    double a = fabs(v_us);
    double f = log10(1.0 + a);
    return v_us < 0 ? -f : f;
}

void ui_format_us(int64_t us, bool sign, char *buf, size_t len)
{
    /* |INT64_MIN| does not fit: a clock offset is within 12 h anyway. */
    uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    const char *s = us < 0 ? "\xe2\x88\x92" : sign && us > 0 ? "+" : "";
    if (a < 1000)
        snprintf(buf, len, "%s%" PRIu64 " \xc2\xb5s", s, a);
    else if (a < UINT64_C(1000000))
        snprintf(buf, len, "%s%" PRIu64 ".%03" PRIu64 " ms", s, a / 1000, a % 1000);
    else if (a < UINT64_C(60000000))
        snprintf(buf, len, "%s%" PRIu64 ".%03" PRIu64 " s", s, a / 1000000, a / 1000 % 1000);
    else if (a < UINT64_C(3600000000))
        snprintf(buf, len, "%s%" PRIu64 " min %02" PRIu64 " s", s, a / 60000000,
                 a / 1000000 % 60);
    else
        snprintf(buf, len, "%s%" PRIu64 " h %02" PRIu64 " min", s, a / 3600000000,
                 a / 60000000 % 60);
}

void ui_format_us_short(int64_t us, bool sign, char *buf, size_t len)
{
    uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    const char *s = us < 0 ? "\xe2\x88\x92" : sign && us > 0 ? "+" : "";
    double v = (double)a;
    if (a < 1000)
        snprintf(buf, len, "%s%" PRIu64 " \xc2\xb5s", s, a);
    else if (a < UINT64_C(1000000))
        snprintf(buf, len, "%s%.1f ms", s, v / 1e3);
    else if (a < UINT64_C(60000000))
        snprintf(buf, len, "%s%.2f s", s, v / 1e6);
    else if (a < UINT64_C(3600000000))
        snprintf(buf, len, "%s%.1f min", s, v / 6e7);
    else
        snprintf(buf, len, "%s%.1f h", s, v / 3.6e9);
}

SDL_Color ui_chart_tint(SDL_Color c)
{
    /* 60 % of the colour over white; a colour of 255 stays 255, so the tint differs
     * in at least one channel for any colour that is not white. */
    SDL_Color t = {(Uint8)((c.r * 3 + 255 * 2) / 5), (Uint8)((c.g * 3 + 255 * 2) / 5),
                   (Uint8)((c.b * 3 + 255 * 2) / 5), 255};
    if (t.r == c.r && t.g == c.g && t.b == c.b)
        t.r = (Uint8)(c.r > 0 ? c.r - 1 : 1);
    return t;
}

static int label_w(const struct ui_chart_spec *s)
{
    return s->small ? LABEL_W_SMALL : LABEL_W;
}

static int mark_size(const struct ui_chart_spec *s)
{
    return s->small ? UI_CHART_MARK_SMALL : UI_CHART_MARK;
}

static int side_margin(const struct ui_chart_spec *s)
{
    /* Room for a marker shifted by its series' dx (up to 3 px) at either end. */
    return s->small ? 4 : 8;
}

void ui_chart_layout(struct ui *ui, SDL_Rect r, const struct ui_chart_spec *spec,
                     struct ui_chart_layout *l)
{
    int fh = ui_font_height(ui, UI_FONT_SMALL);
    if (spec->compact) {
        l->plot = (SDL_Rect){r.x + COMPACT_W, r.y + 3, r.w - COMPACT_W - 4, r.h - 6};
    } else {
        int title_h = fh + 4;
        int xlab_h = spec->left_label || spec->right_label ? fh + 2 : 0;
        int lw = label_w(spec);
        l->plot = (SDL_Rect){r.x + lw, r.y + title_h, r.w - lw - 4, r.h - title_h - xlab_h - 3};
    }
    if (l->plot.w < 4)
        l->plot.w = 4;
    if (l->plot.h < 8)
        l->plot.h = 8;
    l->decades = spec->decades > 0 ? spec->decades : CHART_DECADES;
    l->y0 = l->plot.y + l->plot.h / 2;
    int half = l->plot.h / 2 - (mark_size(spec) / 2 + 1);
    l->px_per_decade = half > 1 ? half / l->decades : 0.1;
    int n = spec->nslots < 2 ? 2 : spec->nslots;
    int m = side_margin(spec);
    l->spacing = (l->plot.w - 2 * m) / (n - 1);
    l->x_last = l->plot.x + l->plot.w - 1 - m;
}

int ui_chart_slots_fit(struct ui *ui, SDL_Rect r, const struct ui_chart_spec *spec)
{
    struct ui_chart_spec s = *spec;
    s.nslots = 2;
    struct ui_chart_layout l;
    ui_chart_layout(ui, r, &s, &l);
    int min = spec->small ? UI_CHART_MIN_SPACING_SMALL : UI_CHART_MIN_SPACING;
    int n = (l.plot.w - 2 * side_margin(spec)) / min + 1;
    if (n > UI_CHART_MAX_SLOTS)
        n = UI_CHART_MAX_SLOTS;
    return n < 2 ? 2 : n;
}

int ui_chart_y(const struct ui_chart_layout *l, double v_us)
{
    double f = ui_chart_symlog(v_us);
    if (f > l->decades)
        f = l->decades;
    if (f < -l->decades)
        f = -l->decades;
    return l->y0 - (int)lround(f * l->px_per_decade);
}

static int slot_x(const struct ui_chart_layout *l, int nslots, int i)
{
    return l->x_last - (nslots - 1 - i) * l->spacing;
}

/* A horizontal line at v with its label right-aligned left of the plot. */
static void grid_line(struct ui *ui, const struct ui_chart_layout *l, double v, SDL_Color c,
                      const char *label)
{
    int y = ui_chart_y(l, v);
    ui_set_color(ui, c);
    SDL_RenderDrawLine(ui->renderer, l->plot.x, y, l->plot.x + l->plot.w - 1, y);
    if (!label)
        return;
    int w = 0, h = 0;
    ui_text_size(ui, UI_FONT_SMALL, label, &w, &h);
    ui_text(ui, l->plot.x - 4 - w, y - h / 2, 0, UI_FONT_SMALL, CHART_DIM, label, NULL, NULL);
}

static void draw_grid(struct ui *ui, const struct ui_chart_layout *l, bool small, bool compact)
{
    static const struct {
        double us;
        const char *plus, *minus;
        bool small;
    } lines[] = {
        {1e3, "+1 ms", "\xe2\x88\x92" "1 ms", false},
        {1e6, "+1 s", "\xe2\x88\x92" "1 s", true},
        {3.6e9, "+1 h", "\xe2\x88\x92" "1 h", false},
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (ui_chart_symlog(lines[i].us) > l->decades)
            continue;
        bool labelled = !compact && (!small || lines[i].small);
        grid_line(ui, l, lines[i].us, CHART_GRID, labelled ? lines[i].plus : NULL);
        grid_line(ui, l, -lines[i].us, CHART_GRID, labelled ? lines[i].minus : NULL);
    }
    grid_line(ui, l, 0, CHART_ZERO, compact ? NULL : "0");
}

/* The band of +/- band_us between adjacent slots (a bar for a slot alone). */
static void draw_band(struct ui *ui, const struct ui_chart_layout *l, int nslots,
                      const struct ui_chart_series *s, int mark)
{
    SDL_Color c = s->color;
    c.a = 40;
    for (int i = 0; i < nslots; i++) {
        const struct ui_chart_point *p = &s->pts[i];
        if (!p->present || p->band_us <= 0)
            continue;
        int x = slot_x(l, nslots, i) + s->dx;
        int top = ui_chart_y(l, (double)p->value_us + (double)p->band_us);
        int bot = ui_chart_y(l, (double)p->value_us - (double)p->band_us);
        const struct ui_chart_point *q = i + 1 < nslots ? &s->pts[i + 1] : NULL;
        bool joined_left = i > 0 && s->pts[i - 1].present && s->pts[i - 1].band_us > 0;
        if (q && q->present && q->band_us > 0) {
            int x2 = slot_x(l, nslots, i + 1) + s->dx;
            int top2 = ui_chart_y(l, (double)q->value_us + (double)q->band_us);
            int bot2 = ui_chart_y(l, (double)q->value_us - (double)q->band_us);
            SDL_Vertex v[4] = {
                {{(float)x, (float)top}, c, {0, 0}},
                {{(float)x2, (float)top2}, c, {0, 0}},
                {{(float)x2, (float)bot2 + 1}, c, {0, 0}},
                {{(float)x, (float)bot + 1}, c, {0, 0}},
            };
            static const int idx[6] = {0, 1, 2, 0, 2, 3};
            SDL_RenderGeometry(ui->renderer, NULL, v, 4, idx, 6);
        } else if (!joined_left) {
            SDL_Rect bar = {x - mark / 2, top, mark, bot - top + 1};
            ui_fill_rect(ui, bar, c);
        }
    }
}

static void draw_lines(struct ui *ui, const struct ui_chart_layout *l, int nslots,
                       const struct ui_chart_series *s)
{
    ui_set_color(ui, ui_chart_tint(s->color));
    for (int i = 0; i + 1 < nslots; i++) {
        const struct ui_chart_point *p = &s->pts[i], *q = &s->pts[i + 1];
        if (!p->present || !q->present)
            continue;
        SDL_RenderDrawLine(ui->renderer, slot_x(l, nslots, i) + s->dx,
                           ui_chart_y(l, (double)p->value_us),
                           slot_x(l, nslots, i + 1) + s->dx, ui_chart_y(l, (double)q->value_us));
    }
}

static void draw_markers(struct ui *ui, const struct ui_chart_layout *l, int nslots,
                         const struct ui_chart_series *s, int mark)
{
    for (int i = 0; i < nslots; i++) {
        const struct ui_chart_point *p = &s->pts[i];
        if (!p->present)
            continue;
        int x = slot_x(l, nslots, i) + s->dx, y = ui_chart_y(l, (double)p->value_us);
        int h = mark / 2;
        if (s->marker == UI_CHART_CROSS) {
            ui_set_color(ui, s->color);
            SDL_RenderDrawLine(ui->renderer, x - h, y - h, x + h, y + h);
            SDL_RenderDrawLine(ui->renderer, x - h, y + h, x + h, y - h);
        } else {
            SDL_Rect m = {x - h, y - h, mark, mark};
            ui_fill_rect(ui, m, s->color);
        }
    }
}

void ui_chart(struct ui *ui, SDL_Rect r, const struct ui_chart_spec *spec,
              const struct ui_chart_series *series, int nseries)
{
    struct ui_chart_layout l;
    ui_chart_layout(ui, r, spec, &l);
    int nslots = spec->nslots;
    if (nslots > UI_CHART_MAX_SLOTS)
        nslots = UI_CHART_MAX_SLOTS;
    int mark = mark_size(spec);

    ui_fill_rect(ui, r, CHART_FILL);
    ui_frame_rect(ui, r, CHART_FRAME);
    int legend_w = 0;
    if (spec->compact) {
        int fh = ui_font_height(ui, UI_FONT_SMALL);
        if (spec->title)
            ui_text(ui, r.x + 6, r.y + 3, COMPACT_W - 10, UI_FONT_SMALL, CHART_TEXT, spec->title,
                    NULL, NULL);
        if (spec->legend)
            ui_text(ui, r.x + 6, r.y + 3 + fh, COMPACT_W - 10, UI_FONT_NORMAL, spec->legend_color,
                    spec->legend, NULL, NULL);
    } else if (spec->legend) {
        /* The legend keeps what the title leaves it (at least half). */
        int title_w = 0;
        if (spec->title)
            ui_text_size(ui, UI_FONT_SMALL, spec->title, &title_w, NULL);
        int room = r.w - 18 - title_w;
        if (room < r.w / 2)
            room = r.w / 2;
        ui_text_size(ui, UI_FONT_SMALL, spec->legend, &legend_w, NULL);
        if (legend_w > room)
            legend_w = room;
        ui_text(ui, r.x + r.w - 6 - legend_w, r.y + 2, room, UI_FONT_SMALL, spec->legend_color,
                spec->legend, NULL, NULL);
    }
    if (spec->title && !spec->compact)
        ui_text(ui, r.x + 6, r.y + 2, r.w - 18 - legend_w, UI_FONT_SMALL, CHART_TEXT, spec->title,
                NULL, NULL);
    if (!spec->compact && (spec->left_label || spec->right_label)) {
        int y = l.plot.y + l.plot.h + 1;
        if (spec->left_label)
            ui_text(ui, l.plot.x, y, l.plot.w / 2, UI_FONT_SMALL, CHART_DIM, spec->left_label,
                    NULL, NULL);
        if (spec->right_label) {
            int w = 0;
            ui_text_size(ui, UI_FONT_SMALL, spec->right_label, &w, NULL);
            ui_text(ui, l.plot.x + l.plot.w - w, y, l.plot.w / 2, UI_FONT_SMALL, CHART_DIM,
                    spec->right_label, NULL, NULL);
        }
    }

    SDL_Rect old_clip;
    bool had_clip = SDL_RenderIsClipEnabled(ui->renderer);
    SDL_RenderGetClipRect(ui->renderer, &old_clip);
    draw_grid(ui, &l, spec->small, spec->compact);
    SDL_RenderSetClipRect(ui->renderer, &l.plot);
    for (int k = 0; k < nseries; k++)
        draw_band(ui, &l, nslots, &series[k], mark);
    for (int k = 0; k < nseries; k++)
        draw_lines(ui, &l, nslots, &series[k]);
    for (int k = 0; k < nseries; k++)
        draw_markers(ui, &l, nslots, &series[k], mark);
    SDL_RenderSetClipRect(ui->renderer, had_clip ? &old_clip : NULL);
}

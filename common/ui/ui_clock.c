/* ui_clock: the seven-segment clock face and the editor of hours, minutes and seconds. */
#include "ui_priv.h"

#include "i18n.h"

#include <stdio.h>

#define US_PER_S INT64_C(1000000)
#define DAY_US (INT64_C(86400) * US_PER_S)

static const SDL_Color TEXT = {25, 28, 34, 255};

/* ---- Clock face ---- */

struct mode_look {
    SDL_Color on, off;
    const char *word;
};

static struct mode_look mode_look(enum ui_clock_mode mode)
{
    switch (mode) {
    case UI_CLOCK_RUNNING:
        return (struct mode_look){{0, 110, 45, 255}, {232, 242, 235, 255}, N_("synchronised")};
    case UI_CLOCK_UNSYNCHRONISED:
        return (struct mode_look){{196, 124, 0, 255}, {248, 241, 228, 255}, N_("not synchronised")};
    case UI_CLOCK_SLEWING:
        return (struct mode_look){{30, 90, 185, 255}, {230, 237, 248, 255}, N_("slewing")};
    case UI_CLOCK_STOPPED:
    default:
        return (struct mode_look){{180, 32, 32, 255}, {246, 232, 232, 255},
                                  N_("stopped: being set by hand")};
    }
}

/* Segments a..g as bits 0..6 for the digits 0..9. */
static const unsigned char SEGMENTS[10] = {0x3F, 0x06, 0x5B, 0x4F, 0x66,
                                           0x6D, 0x7D, 0x07, 0x7F, 0x6F};

static void draw_digit(struct ui *ui, int x, int y, int w, int h, int t, int digit,
                       SDL_Color on, SDL_Color off)
{
    int half = h / 2;
    int up_y = y + t + 1, up_h = y + half - t / 2 - 1 - up_y;
    int lo_y = y + half + (t - t / 2) + 1, lo_h = y + h - t - 1 - lo_y;
    SDL_Rect seg[7] = {
        {x + t, y, w - 2 * t, t},                 /* a: top */
        {x + w - t, up_y, t, up_h},               /* b: top right */
        {x + w - t, lo_y, t, lo_h},               /* c: bottom right */
        {x + t, y + h - t, w - 2 * t, t},         /* d: bottom */
        {x, lo_y, t, lo_h},                       /* e: bottom left */
        {x, up_y, t, up_h},                       /* f: top left */
        {x + t, y + half - t / 2, w - 2 * t, t},  /* g: middle */
    };
    unsigned mask = digit >= 0 && digit <= 9 ? SEGMENTS[digit] : 0;
    for (int i = 0; i < 7; i++)
        ui_fill_rect(ui, seg[i], (mask >> i) & 1 ? on : off);
}

static void draw_colon(struct ui *ui, int x, int y, int w, int h, int t, SDL_Color on)
{
    int s = t + t / 4;
    SDL_Rect top = {x + (w - s) / 2, y + h / 3 - s / 2, s, s};
    SDL_Rect bottom = {x + (w - s) / 2, y + 2 * h / 3 - s / 2, s, s};
    ui_fill_rect(ui, top, on);
    ui_fill_rect(ui, bottom, on);
}

void ui_clock_face(struct ui *ui, SDL_Rect r, int64_t time_us, enum ui_clock_mode mode)
{
    static const SDL_Color face = {255, 255, 255, 255};
    static const SDL_Color border = {170, 174, 182, 255};
    struct mode_look look = mode_look(mode);
    ui_box(ui, r, 6, face, mode == UI_CLOCK_STOPPED ? look.on : border,
           mode == UI_CLOCK_STOPPED);

    int64_t t_us = time_us % DAY_US;
    if (t_us < 0)
        t_us += DAY_US;
    int64_t secs = t_us / US_PER_S;
    int hms[3] = {(int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60)};

    const int pad = 10;
    int caption_h = ui_font_height(ui, UI_FONT_BOLD) + 4;
    int avail_w = r.w - 2 * pad, avail_h = r.h - 2 * pad - caption_h;
    /* Digit width u, height 9u/5; a line is 6 digits, 3 gaps of u/4, 2 colons of 3u/5:
     * 7.95u, 8u with a margin. */
    int u = avail_w / 8;
    if (u * 9 / 5 > avail_h)
        u = avail_h * 5 / 9;
    if (u < 4)
        u = 4;
    int dh = u * 9 / 5, gap = u / 4, colon = u * 3 / 5;
    int thick = u / 6 < 2 ? 2 : u / 6;
    int line_w = 6 * u + 3 * gap + 2 * colon;
    int x = r.x + (r.w - line_w) / 2;
    int block_h = dh + 6 + caption_h;
    int y = r.y + (r.h - block_h) / 2;

    for (int f = 0; f < 3; f++) {
        draw_digit(ui, x, y, u, dh, thick, hms[f] / 10, look.on, look.off);
        x += u + gap;
        draw_digit(ui, x, y, u, dh, thick, hms[f] % 10, look.on, look.off);
        x += u;
        if (f < 2) {
            draw_colon(ui, x, y, colon, dh, thick, look.on);
            x += colon;
        }
    }
    SDL_Rect cap = {r.x + 4, y + dh + 6, r.w - 8, caption_h};
    const char *word = _(look.word);
    ui_text_centred(ui, cap, ui_font_fitting(ui, UI_FONT_BOLD, word, cap.w - 4), look.on, word);
}

/* ---- Time editor ---- */

static const int FIELD_MAX[3] = {23, 59, 59};

void ui_time_edit_init(struct ui_time_edit *e, int64_t time_us)
{
    int64_t t = time_us % DAY_US;
    if (t < 0)
        t += DAY_US;
    int64_t secs = t / US_PER_S;
    e->field[0] = (int)(secs / 3600);
    e->field[1] = (int)(secs / 60 % 60);
    e->field[2] = (int)(secs % 60);
    e->focus = 0;
    e->typed = 0;
}

int64_t ui_time_edit_value(const struct ui_time_edit *e)
{
    int v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = e->field[i];
        if (v[i] < 0)
            v[i] = 0;
        if (v[i] > FIELD_MAX[i])
            v[i] = FIELD_MAX[i];
    }
    return ((int64_t)v[0] * 3600 + v[1] * 60 + v[2]) * US_PER_S;
}

static void set_focus(struct ui_time_edit *e, int focus)
{
    e->focus = focus;
    e->typed = 0;
}

static void step_field(struct ui_time_edit *e, int f, int by)
{
    int n = FIELD_MAX[f] + 1;
    e->field[f] = ((e->field[f] + by) % n + n) % n;
}

static int key_digit(SDL_Keycode key)
{
    if (key >= SDLK_0 && key <= SDLK_9)
        return (int)(key - SDLK_0);
    if (key >= SDLK_KP_1 && key <= SDLK_KP_9)
        return (int)(key - SDLK_KP_1) + 1;
    if (key == SDLK_KP_0)
        return 0;
    return -1;
}

bool ui_time_edit_key(struct ui_time_edit *e, SDL_Keycode key, Uint16 mod)
{
    if (e->focus < 0 || e->focus > 2)
        set_focus(e, 0);
    int f = e->focus, max = FIELD_MAX[f];
    int d = key_digit(key);
    if (d >= 0) {
        if (e->typed == 0) {
            e->field[f] = d;
            if (d * 10 > max) {
                /* No second digit can follow (e.g. 5 in the hours): it is 05, done. */
                if (f < 2)
                    set_focus(e, f + 1);
                else
                    e->typed = 0;
            } else {
                e->typed = 1;
            }
            return true;
        }
        int v = e->field[f] * 10 + d;
        if (v > max)
            return false; /* 25 hours or 61 minutes cannot be entered */
        e->field[f] = v;
        if (f < 2)
            set_focus(e, f + 1);
        else
            e->typed = 0;
        return true;
    }
    switch (key) {
    case SDLK_LEFT:
        set_focus(e, f > 0 ? f - 1 : 0);
        return true;
    case SDLK_RIGHT:
        set_focus(e, f < 2 ? f + 1 : 2);
        return true;
    case SDLK_TAB:
        set_focus(e, (mod & KMOD_SHIFT) ? (f + 2) % 3 : (f + 1) % 3);
        return true;
    case SDLK_UP:
    case SDLK_KP_PLUS:
    case SDLK_PLUS:
        step_field(e, f, 1);
        e->typed = 0;
        return true;
    case SDLK_DOWN:
    case SDLK_KP_MINUS:
    case SDLK_MINUS:
        step_field(e, f, -1);
        e->typed = 0;
        return true;
    case SDLK_BACKSPACE:
        if (e->typed) {
            e->field[f] = 0;
            e->typed = 0;
        }
        return true;
    default:
        return false;
    }
}

void ui_time_edit_layout(SDL_Rect r, struct ui_time_edit_layout *l)
{
    const int gap = 3;
    int colon = 20, sw = 28;
    int fw = (r.w - 2 * colon - 3 * (gap + sw)) / 3;
    if (fw < 44) {
        /* A narrow panel (the time server's): the digits keep their room, the colons
         * and the +/- buttons give theirs. */
        colon = 12;
        sw = 22;
        fw = (r.w - 2 * colon - 3 * (gap + sw)) / 3;
    }
    if (fw > 70)
        fw = 70;
    if (fw < 24)
        fw = 24;
    int bh = r.h < 56 ? r.h : 56;
    int total = 3 * (fw + gap + sw) + 2 * colon;
    int x = r.x + (r.w - total) / 2;
    int y = r.y + (r.h - bh) / 2;
    for (int f = 0; f < 3; f++) {
        l->field[f] = (SDL_Rect){x, y, fw, bh};
        x += fw + gap;
        int ph = (bh - gap) / 2;
        l->plus[f] = (SDL_Rect){x, y, sw, ph};
        l->minus[f] = (SDL_Rect){x, y + bh - ph, sw, ph};
        x += sw + colon;
    }
}

void ui_time_editor(struct ui *ui, SDL_Rect r, struct ui_time_edit *e)
{
    static const SDL_Color field_fill = {255, 255, 255, 255};
    static const SDL_Color focus_fill = {236, 243, 255, 255};
    static const SDL_Color field_border = {150, 154, 162, 255};
    static const SDL_Color focus_border = {40, 100, 210, 255};
    struct ui_time_edit_layout l;
    ui_time_edit_layout(r, &l);

    if (!ui_input_blocked(ui))
        for (int i = 0; i < ui->nkeys; i++)
            if (ui_time_edit_key(e, ui->keys[i], ui->key_mods[i]))
                ui->redraw_soon = true;
    for (int f = 0; f < 3; f++)
        if (ui_clicked(ui, l.field[f]))
            set_focus(e, f);

    for (int f = 0; f < 3; f++) {
        bool focused = f == e->focus;
        ui_box(ui, l.field[f], 5, focused ? focus_fill : field_fill,
               focused ? focus_border : field_border, focused);
        char buf[8];
        if (focused && e->typed == 1)
            snprintf(buf, sizeof buf, "%d_", e->field[f] % 10);
        else
            snprintf(buf, sizeof buf, "%02d", e->field[f] % 100);
        ui_text_centred(ui, l.field[f], UI_FONT_DIGITS, TEXT, buf);
        if (f < 2) {
            SDL_Rect c = {l.minus[f].x + l.minus[f].w, l.field[f].y,
                          l.field[f + 1].x - (l.minus[f].x + l.minus[f].w), l.field[f].h};
            ui_text_centred(ui, c, UI_FONT_DIGITS, TEXT, ":");
        }
        if (ui_button(ui, l.plus[f], "+", true)) {
            set_focus(e, f);
            step_field(e, f, 1);
        }
        if (ui_button(ui, l.minus[f], "\xe2\x88\x92", true)) { /* − */
            set_focus(e, f);
            step_field(e, f, -1);
        }
    }
}

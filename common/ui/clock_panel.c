/* clock_panel: the clock face with "Modify", and while a person sets the clock the
 * editor of hours, minutes and seconds with "OK" and "Cancel". */
#include "clock_panel.h"

#include "i18n.h"
#include "ui_priv.h"

#define BUTTON_W 120
#define BUTTON_H 34
#define BUTTON_GAP 14

void clock_panel_init(struct clock_panel *p, struct clock *c)
{
    p->clock = c;
    p->editing = false;
    ui_time_edit_init(&p->edit, 0);
}

void clock_panel_layout(SDL_Rect r, struct clock_panel_layout *l)
{
    /* OK and Cancel side by side: narrower than BUTTON_W in a narrow panel. */
    int bw = (r.w - BUTTON_GAP) / 2 < BUTTON_W ? (r.w - BUTTON_GAP) / 2 : BUTTON_W;
    int by = r.y + r.h - BUTTON_H;
    int face_h = r.h - BUTTON_H - 8;
    l->face = (SDL_Rect){r.x, r.y, r.w, face_h};
    l->caption = (SDL_Rect){r.x, r.y + face_h - 24, r.w, 24};
    l->modify = (SDL_Rect){r.x + (r.w - bw) / 2, by, bw, BUTTON_H};
    l->ok = (SDL_Rect){r.x + r.w / 2 - BUTTON_GAP / 2 - bw, by, bw, BUTTON_H};
    l->cancel = (SDL_Rect){r.x + r.w / 2 + BUTTON_GAP / 2, by, bw, BUTTON_H};
}

static enum ui_clock_mode mode_of(const struct clock_state *s)
{
    if (!s->running)
        return UI_CLOCK_STOPPED;
    if (s->slewing)
        return UI_CLOCK_SLEWING;
    return s->synchronised ? UI_CLOCK_RUNNING : UI_CLOCK_UNSYNCHRONISED;
}

static void start_editing(struct clock_panel *p)
{
    clock_stop(p->clock);
    struct clock_state s;
    clock_snapshot(p->clock, &s);
    ui_time_edit_init(&p->edit, s.time_us);
    p->editing = true;
}

static void finish_editing(struct clock_panel *p, bool ok)
{
    if (ok)
        clock_set(p->clock, ui_time_edit_value(&p->edit));
    else
        clock_resume(p->clock);
    p->editing = false;
}

void clock_panel(struct ui *ui, SDL_Rect r, struct clock_panel *p)
{
    static const SDL_Color stopped = {180, 32, 32, 255};
    static const SDL_Color panel = {255, 255, 255, 255};
    static const SDL_Color border = {180, 32, 32, 255};
    struct clock_panel_layout l;
    clock_panel_layout(r, &l);

    if (!p->editing) {
        struct clock_state s;
        clock_snapshot(p->clock, &s);
        ui_clock_face(ui, l.face, s.time_us, mode_of(&s));
        if (ui_button(ui, l.modify, _("Modify"), true))
            start_editing(p);
        return;
    }

    ui_box(ui, l.face, 6, panel, border, true);
    SDL_Rect ed = {l.face.x + 8, l.face.y + 6, l.face.w - 16, l.face.h - 12 - l.caption.h};
    ui_time_editor(ui, ed, &p->edit);
    const char *caption = _("stopped: being set by hand");
    ui_text_centred(ui, l.caption, ui_font_fitting(ui, UI_FONT_BOLD, caption, l.caption.w - 4),
                    stopped, caption);
    /* Enter and Escape act as OK and Cancel (after the editor took its keys). */
    bool ok = ui_button(ui, l.ok, _("OK"), true) || ui_key_pressed(ui, SDLK_RETURN) ||
              ui_key_pressed(ui, SDLK_KP_ENTER);
    bool cancel = ui_button(ui, l.cancel, _("Cancel"), true) || ui_key_pressed(ui, SDLK_ESCAPE);
    if (ok)
        finish_editing(p, true);
    else if (cancel)
        finish_editing(p, false);
}

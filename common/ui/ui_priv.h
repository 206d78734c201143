/* ui_priv: what the files of the widget layer share (common/ui/ui*.c, clock_panel.c)
 * and what the unit tests look at (layouts, the time editor's key rules). Not for the
 * windows: they use ui.h and clock_panel.h only. */
#ifndef BT_UI_PRIV_H
#define BT_UI_PRIV_H

#include <SDL_ttf.h>

#include "ui.h"

/* An internal font besides the public ones: the big digits of the time editor. */
#define UI_FONT_DIGITS UI_FONT_COUNT
#define UI_NFONTS (UI_FONT_COUNT + 1)

#define UI_MAX_CLICKS 8
#define UI_MAX_KEYS 32
#define UI_TEXT_CACHE 128
#define UI_TEXT_KEY_MAX 256
#define UI_IMAGE_CACHE 4
#define UI_DIALOG_MAX_BUTTONS 4
#define UI_DIALOG_MAX_LINES 24

/* A click: the left button pressed at (px, py) and released at (rx, ry) this frame. */
struct ui_click {
    int px, py, rx, ry;
};

struct ui_text_entry {
    bool used;
    int font;
    SDL_Color color;
    int max_w;
    char text[UI_TEXT_KEY_MAX];
    SDL_Texture *tex;
    int w, h;
    uint64_t last_used;
};

struct ui_image_entry {
    bool used;
    const void *ptr;
    size_t len;
    uint64_t hash;
    SDL_Texture *tex;          /* NULL: the bytes are no image SDL_image can decode */
    int w, h;
    uint64_t last_used;
};

struct ui {
    SDL_Window *window;
    SDL_Renderer *renderer;
    Uint32 window_id;
    int w, h;
    TTF_Font *font[UI_NFONTS];
    bool closed;
    uint64_t frame;
    /* Input of this frame. */
    int mouse_x, mouse_y;      /* -1, -1 when the mouse is outside the window */
    bool mouse_down;           /* the left button is held */
    int press_x, press_y;      /* where it was last pressed */
    struct ui_click clicks[UI_MAX_CLICKS];
    int nclicks;
    SDL_Keycode keys[UI_MAX_KEYS];
    Uint16 key_mods[UI_MAX_KEYS];
    int nkeys;
    /* Modal dialog: shown in the previous frame (so the widgets drawn before it in this
     * frame take no input), shown in this frame, and drawing its own buttons now. */
    bool modal_prev, modal_now, in_dialog;
    bool redraw_soon;          /* something was clicked: the next frame does not wait */
    struct ui_text_entry text_cache[UI_TEXT_CACHE];
    struct ui_image_entry image_cache[UI_IMAGE_CACHE];
};

/* ---- ui.c: input and drawing primitives ---- */
bool ui_input_blocked(const struct ui *ui);
bool ui_point_in(SDL_Rect r, int x, int y);
bool ui_hover(const struct ui *ui, SDL_Rect r);
/* The left button was pressed in r and is still held there. */
bool ui_pressing(const struct ui *ui, SDL_Rect r);
/* Pressed and released inside r this frame. */
bool ui_clicked(struct ui *ui, SDL_Rect r);
void ui_set_color(struct ui *ui, SDL_Color c);
void ui_fill_rect(struct ui *ui, SDL_Rect r, SDL_Color c);
void ui_frame_rect(struct ui *ui, SDL_Rect r, SDL_Color c);
void ui_fill_round(struct ui *ui, SDL_Rect r, int radius, SDL_Color c);
/* A rounded box with a border of width 1 (2 when thick). */
void ui_box(struct ui *ui, SDL_Rect r, int radius, SDL_Color fill, SDL_Color border, bool thick);

/* ---- ui_text.c ---- */
int ui_text_init(struct ui *ui, char *err, size_t errlen);
void ui_text_free(struct ui *ui);
int ui_font_height(const struct ui *ui, int font);
/* Width and height of text in pixels (0, 0 for empty text). */
void ui_text_size(struct ui *ui, int font, const char *text, int *w, int *h);
/* Draws text (cut to max_w with "…" when max_w > 0); its width and height in *w, *h. */
void ui_text(struct ui *ui, int x, int y, int max_w, int font, SDL_Color color,
             const char *text, int *w, int *h);
/* Draws text centred in r. */
void ui_text_centred(struct ui *ui, SDL_Rect r, int font, SDL_Color color, const char *text);
/* The first of font, then the regular and the small font, in which text fits max_w
 * (a caption that grew in translation gets smaller rather than cut). */
int ui_font_fitting(struct ui *ui, int font, const char *text, int max_w);
struct ui_line {
    const char *start;
    int len;
};
/* Breaks text into lines of at most max_w pixels at spaces and '\n'. Returns the count. */
int ui_wrap(struct ui *ui, int font, const char *text, int max_w, struct ui_line *lines,
            int max_lines);

/* ---- ui_widgets.c ---- */
void ui_image_free(struct ui *ui);
struct ui_dialog_layout {
    SDL_Rect box;
    SDL_Rect button[UI_DIALOG_MAX_BUTTONS];
    int nbuttons;
    struct ui_line lines[UI_DIALOG_MAX_LINES];
    int nlines;
    struct ui_line title[2];   /* a title too wide for the box wraps onto two lines */
    int ntitle;
};
void ui_dialog_layout(struct ui *ui, const char *title, const char *text,
                      const char *const *buttons, int nbuttons, struct ui_dialog_layout *l);

/* ---- ui_clock.c ---- */
struct ui_time_edit_layout {
    SDL_Rect field[3];
    SDL_Rect plus[3];
    SDL_Rect minus[3];
};
void ui_time_edit_layout(SDL_Rect r, struct ui_time_edit_layout *l);
/* Applies one key to the editor: true if it was taken (a digit that would make the
 * time invalid is refused: false, nothing changed). */
bool ui_time_edit_key(struct ui_time_edit *e, SDL_Keycode key, Uint16 mod);

/* ---- clock_panel.c ---- */
struct clock_panel_layout {
    SDL_Rect face;             /* clock face, or the time editor while editing */
    SDL_Rect caption;          /* "stopped: being set by hand" while editing */
    SDL_Rect modify, ok, cancel;
};
void clock_panel_layout(SDL_Rect r, struct clock_panel_layout *l);

#endif

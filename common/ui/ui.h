/* ui: the small widget layer the three windows share (SDL2, SDL2_ttf, SDL2_image).
 *
 * Immediate mode: every frame the window code calls the widgets in drawing order; a
 * widget draws itself and reports what the person did to it this frame (a button
 * returns true on the frame it was clicked). No widget keeps state the caller cannot
 * see, so a window's state is its own struct and what it shows follows the modules
 * it reads (clock, replica, nodes).
 *
 * The software renderer is pinned (SDL_HINT_RENDER_DRIVER=software) so screenshots are
 * the same on every machine. Text is DejaVu Sans. All calls on one thread: the one
 * that called ui_open (SDL wants the main thread). */
#ifndef BT_UI_H
#define BT_UI_H

#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UI_FONT_PATH "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define UI_FONT_BOLD_PATH "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

struct ui;

struct ui_config {
    const char *title;
    int x, y, w, h;            /* position on the screen and size in pixels */
};

enum ui_font { UI_FONT_SMALL, UI_FONT_NORMAL, UI_FONT_BOLD, UI_FONT_LARGE, UI_FONT_COUNT };

/* The state a clock face shows besides the time. */
enum ui_clock_mode {
    UI_CLOCK_RUNNING,          /* synchronised and running */
    UI_CLOCK_UNSYNCHRONISED,   /* running, never corrected */
    UI_CLOCK_SLEWING,          /* absorbing a correction */
    UI_CLOCK_STOPPED           /* stopped while a person sets it */
};

/* Opens the window. NULL with the reason in err (no display, no font...). */
struct ui *ui_open(const struct ui_config *cfg, char *err, size_t errlen);
void ui_close(struct ui *ui);

/* Starts a frame: waits up to wait_ms for input (so an idle window sleeps), handles
 * it, clears the window. Returns false once the window was closed. */
bool ui_begin(struct ui *ui, int wait_ms);
/* Shows the frame. */
void ui_end(struct ui *ui);
/* Writes what the window shows now to path (NULL: says so in the log), logging the
 * outcome: F12 and the end of a window both come here. */
void ui_save_screenshot(struct ui *ui, const char *path);
/* A window's frame loop: draw(ctx) every frame until the window is closed or stop()
 * says so; F12 writes `screenshot`, and so does the end (the last frame shown). */
void ui_run(struct ui *ui, int wait_ms, void (*draw)(void *ctx), void *ctx, bool (*stop)(void),
            const char *screenshot);
/* Writes what the window shows now as a PNG. 0, or -1 with err. */
int ui_screenshot(struct ui *ui, const char *path, char *err, size_t errlen);

/* Text at (x, y) (top left), cut to max_w pixels if max_w > 0. */
void ui_label(struct ui *ui, int x, int y, int max_w, enum ui_font font, SDL_Color color,
              const char *text);
/* Text broken at spaces into at most max_lines lines of max_w pixels, line_h apart (the
 * last one cut with "…" if the text goes on). Returns the number of lines drawn. */
int ui_text_lines(struct ui *ui, int x, int y, int max_w, int max_lines, int line_h,
                  enum ui_font font, SDL_Color color, const char *text);
/* The first of font, then the regular and the small font, that fits text in max_w. */
enum ui_font ui_font_fit(struct ui *ui, enum ui_font font, const char *text, int max_w);
/* A button with hover and pressed looks; true on the frame it is clicked. A disabled
 * button is drawn greyed and never clicked. */
bool ui_button(struct ui *ui, SDL_Rect r, const char *label, bool enabled);
/* 24-hour HH:MM:SS in large seven-segment digits, with the mode written under it. */
void ui_clock_face(struct ui *ui, SDL_Rect r, int64_t time_us, enum ui_clock_mode mode);

/* Hours, minutes and seconds being set by hand: a field each, the focused one framed.
 * Digits type into the focused field, Left/Right/Tab move the focus, Up/Down change
 * it, and the mouse selects a field or uses its +/- buttons. Values stay within
 * 00-23:00-59:00-59: an invalid time cannot be entered. */
struct ui_time_edit {
    int field[3];              /* hours, minutes, seconds */
    int focus;                 /* 0..2 */
    int typed;                 /* digits typed into the focused field so far */
};
void ui_time_edit_init(struct ui_time_edit *e, int64_t time_us);
int64_t ui_time_edit_value(const struct ui_time_edit *e);
void ui_time_editor(struct ui *ui, SDL_Rect r, struct ui_time_edit *e);

/* A PNG (e.g. a cover from the DB) drawn into r keeping its aspect; empty frame when
 * png is NULL. The decoded image is cached while the same bytes are shown. */
void ui_image(struct ui *ui, SDL_Rect r, const void *png, size_t len);

/* A table: column titles and widths, rows of cells (row-major, ncols per row). */
void ui_table(struct ui *ui, SDL_Rect r, const char *const *titles, const int *widths,
              int ncols, const char *const *cells, int nrows);

/* The same with a square of swatch[row] before the first cell of each row (a node's
 * colour in a chart); swatch may be NULL, and a swatch of alpha 0 draws none. */
void ui_table_swatches(struct ui *ui, SDL_Rect r, const char *const *titles, const int *widths,
                       int ncols, const char *const *cells, int nrows, const SDL_Color *swatch);

/* A modal dialog over the window: title, text and buttons. While it is open the
 * widgets behind it take no input. Returns the index of the button clicked this
 * frame, or -1. */
int ui_dialog(struct ui *ui, const char *title, const char *text, const char *const *buttons,
              int nbuttons);

/* True if key was pressed this frame (e.g. SDLK_F12 for a screenshot). False while a
 * dialog shown in the previous frame blocks the widgets behind it, except for F12. */
bool ui_key_pressed(struct ui *ui, SDL_Keycode key);

#endif

/* Unit tests for the widget layer (common/ui/): the time editor's rules, buttons clicked
 * through pushed SDL events (once, never when disabled or behind a dialog), the dialog,
 * image and text cutting, screenshots, and the clock panel against a real clock.
 * Runs without an X server: SDL_VIDEODRIVER=offscreen with the software renderer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <SDL_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "clock_panel.h"
#include "ui.h"
#include "ui_priv.h"

#define US_PER_S INT64_C(1000000)
#define WIN_W 640
#define WIN_H 480

static struct ui *ui;
static char tmpdir[64];

static int64_t hms(int h, int m, int s)
{
    return ((int64_t)h * 3600 + m * 60 + s) * US_PER_S;
}

static int setup(void **state)
{
    (void)state;
    setenv("SDL_VIDEODRIVER", "offscreen", 1);
    char err[256] = "";
    struct ui_config cfg = {"test_ui", 0, 0, WIN_W, WIN_H};
    ui = ui_open(&cfg, err, sizeof err);
    if (!ui) {
        fprintf(stderr, "ui_open: %s\n", err);
        return -1;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_ui.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ui_close(ui);
    ui = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return -1;
    return 0;
}

/* Each test starts with no pending event, no dialog and the mouse outside. */
static int fresh(void **state)
{
    (void)state;
    SDL_FlushEvents(SDL_FIRSTEVENT, SDL_LASTEVENT);
    for (int i = 0; i < 2; i++) {
        if (!ui_begin(ui, 0))
            return -1;
        ui_end(ui);
    }
    return 0;
}

static void push(SDL_Event *ev)
{
    assert_int_equal(SDL_PushEvent(ev), 1);
}

static void push_motion(int x, int y)
{
    SDL_Event ev = {0};
    ev.type = SDL_MOUSEMOTION;
    ev.motion.x = x;
    ev.motion.y = y;
    push(&ev);
}

static void push_button(bool down, int x, int y)
{
    SDL_Event ev = {0};
    ev.type = down ? SDL_MOUSEBUTTONDOWN : SDL_MOUSEBUTTONUP;
    ev.button.button = SDL_BUTTON_LEFT;
    ev.button.state = down ? SDL_PRESSED : SDL_RELEASED;
    ev.button.clicks = 1;
    ev.button.x = x;
    ev.button.y = y;
    push(&ev);
}

static void push_click(int x, int y)
{
    push_motion(x, y);
    push_button(true, x, y);
    push_button(false, x, y);
}

static void push_click_rect(SDL_Rect r)
{
    push_click(r.x + r.w / 2, r.y + r.h / 2);
}

static void push_key(SDL_Keycode sym, Uint16 mod)
{
    SDL_Event ev = {0};
    ev.type = SDL_KEYDOWN;
    ev.key.state = SDL_PRESSED;
    ev.key.keysym.sym = sym;
    ev.key.keysym.mod = mod;
    push(&ev);
}

static void push_text_keys(const char *digits)
{
    for (const char *p = digits; *p; p++)
        push_key(SDLK_0 + (*p - '0'), 0);
}

static void begin(void)
{
    assert_true(ui_begin(ui, 0));
}

static void screenshot(const char *name, char *path, size_t len)
{
    char err[256] = "";
    snprintf(path, len, "%s/%s", tmpdir, name);
    if (ui_screenshot(ui, path, err, sizeof err) != 0)
        fail_msg("ui_screenshot: %s", err);
}

static SDL_Surface *load_rgb(const char *path)
{
    SDL_Surface *s = IMG_Load(path);
    assert_non_null(s);
    SDL_Surface *rgb = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_RGB24, 0);
    SDL_FreeSurface(s);
    assert_non_null(rgb);
    return rgb;
}

static SDL_Color pixel(SDL_Surface *s, int x, int y)
{
    const Uint8 *p = (const Uint8 *)s->pixels + y * s->pitch + x * 3;
    return (SDL_Color){p[0], p[1], p[2], 255};
}

/* ---- Time editor ---- */

static void test_time_edit_init_and_value(void **state)
{
    (void)state;
    struct ui_time_edit e;
    ui_time_edit_init(&e, hms(12, 34, 56) + 789123);
    assert_int_equal(e.field[0], 12);
    assert_int_equal(e.field[1], 34);
    assert_int_equal(e.field[2], 56);
    assert_int_equal(e.focus, 0);
    assert_int_equal(e.typed, 0);
    assert_int_equal(ui_time_edit_value(&e), hms(12, 34, 56));

    ui_time_edit_init(&e, hms(23, 59, 59));
    assert_int_equal(ui_time_edit_value(&e), hms(23, 59, 59));
    /* Outside a day: wrapped. */
    ui_time_edit_init(&e, hms(24, 0, 1));
    assert_int_equal(ui_time_edit_value(&e), hms(0, 0, 1));
    ui_time_edit_init(&e, -US_PER_S);
    assert_int_equal(ui_time_edit_value(&e), hms(23, 59, 59));
}

static void test_time_edit_typing_through_events(void **state)
{
    (void)state;
    struct ui_time_edit e;
    ui_time_edit_init(&e, hms(10, 0, 0));
    SDL_Rect r = {20, 20, 400, 80};
    push_text_keys("1530");
    begin();
    ui_time_editor(ui, r, &e);
    ui_end(ui);
    assert_int_equal(e.field[0], 15);
    assert_int_equal(e.field[1], 30);
    assert_int_equal(e.focus, 2);
    push_key(SDLK_KP_4, 0);
    push_key(SDLK_KP_5, 0);
    begin();
    ui_time_editor(ui, r, &e);
    ui_end(ui);
    assert_int_equal(ui_time_edit_value(&e), hms(15, 30, 45));
    assert_int_equal(e.focus, 2);
    assert_int_equal(e.typed, 0);
}

static void test_time_edit_invalid_digits_refused(void **state)
{
    (void)state;
    struct ui_time_edit e;
    ui_time_edit_init(&e, hms(0, 0, 0));
    /* 2 then 5 in the hours: the 5 is refused, the 2 waits for a valid digit. */
    assert_true(ui_time_edit_key(&e, SDLK_2, 0));
    assert_int_equal(e.typed, 1);
    assert_false(ui_time_edit_key(&e, SDLK_5, 0));
    assert_int_equal(e.field[0], 2);
    assert_int_equal(e.focus, 0);
    assert_int_equal(e.typed, 1);
    assert_true(ui_time_edit_key(&e, SDLK_3, 0));
    assert_int_equal(e.field[0], 23);
    assert_int_equal(e.focus, 1);
    /* 6 then 1 in the minutes: 6 cannot start a two-digit minute, so it is 06. */
    assert_true(ui_time_edit_key(&e, SDLK_6, 0));
    assert_int_equal(e.field[1], 6);
    assert_int_equal(e.focus, 2);
    /* 9 then 9 in the seconds: 09, and the field stays focused. */
    assert_true(ui_time_edit_key(&e, SDLK_9, 0));
    assert_int_equal(e.field[2], 9);
    assert_int_equal(e.focus, 2);
    assert_int_equal(e.typed, 0);
    assert_true(ui_time_edit_key(&e, SDLK_5, 0));
    assert_false(ui_time_edit_key(&e, SDLK_9 + 1, 0)); /* ':' is no digit */
    assert_true(ui_time_edit_key(&e, SDLK_9, 0));
    assert_int_equal(ui_time_edit_value(&e), hms(23, 6, 59));

    /* Whatever is typed, the time stays valid. */
    static const SDL_Keycode keys[] = {SDLK_0, SDLK_1, SDLK_2, SDLK_3, SDLK_4, SDLK_5,
                                       SDLK_6, SDLK_7, SDLK_8, SDLK_9, SDLK_UP, SDLK_DOWN,
                                       SDLK_LEFT, SDLK_RIGHT, SDLK_TAB, SDLK_BACKSPACE};
    srand(4);
    ui_time_edit_init(&e, hms(12, 0, 0));
    for (int i = 0; i < 20000; i++) {
        ui_time_edit_key(&e, keys[rand() % (int)(sizeof keys / sizeof keys[0])], 0);
        assert_in_range(e.field[0], 0, 23);
        assert_in_range(e.field[1], 0, 59);
        assert_in_range(e.field[2], 0, 59);
        assert_in_range(e.focus, 0, 2);
    }
}

static void test_time_edit_arrows(void **state)
{
    (void)state;
    struct ui_time_edit e;
    ui_time_edit_init(&e, hms(23, 59, 0));
    /* Up and Down wrap within the field. */
    assert_true(ui_time_edit_key(&e, SDLK_UP, 0));
    assert_int_equal(e.field[0], 0);
    assert_true(ui_time_edit_key(&e, SDLK_DOWN, 0));
    assert_int_equal(e.field[0], 23);
    /* Left stops at the hours, Right at the seconds. */
    assert_true(ui_time_edit_key(&e, SDLK_LEFT, 0));
    assert_int_equal(e.focus, 0);
    assert_true(ui_time_edit_key(&e, SDLK_RIGHT, 0));
    assert_int_equal(e.focus, 1);
    assert_true(ui_time_edit_key(&e, SDLK_UP, 0));
    assert_int_equal(e.field[1], 0);
    assert_true(ui_time_edit_key(&e, SDLK_RIGHT, 0));
    assert_true(ui_time_edit_key(&e, SDLK_RIGHT, 0));
    assert_int_equal(e.focus, 2);
    assert_true(ui_time_edit_key(&e, SDLK_DOWN, 0));
    assert_int_equal(e.field[2], 59);
    /* Tab wraps around, Shift+Tab goes back. */
    assert_true(ui_time_edit_key(&e, SDLK_TAB, 0));
    assert_int_equal(e.focus, 0);
    assert_true(ui_time_edit_key(&e, SDLK_TAB, KMOD_LSHIFT));
    assert_int_equal(e.focus, 2);
    /* A focus change drops a half-typed field's pending state. */
    assert_true(ui_time_edit_key(&e, SDLK_1, 0));
    assert_int_equal(e.typed, 1);
    assert_true(ui_time_edit_key(&e, SDLK_LEFT, 0));
    assert_int_equal(e.typed, 0);
    assert_int_equal(ui_time_edit_value(&e), hms(23, 0, 1));
    /* Other keys are not the editor's. */
    assert_false(ui_time_edit_key(&e, SDLK_a, 0));
}

static void test_time_editor_mouse(void **state)
{
    (void)state;
    struct ui_time_edit e;
    ui_time_edit_init(&e, hms(0, 10, 20));
    SDL_Rect r = {20, 20, 400, 80};
    struct ui_time_edit_layout l;
    ui_time_edit_layout(r, &l);
    for (int f = 0; f < 3; f++) {
        assert_true(l.field[f].w > 0 && l.plus[f].w > 0 && l.minus[f].w > 0);
        assert_false(SDL_HasIntersection(&l.field[f], &l.plus[f]));
        assert_false(SDL_HasIntersection(&l.plus[f], &l.minus[f]));
    }

    push_click_rect(l.plus[1]);
    begin();
    ui_time_editor(ui, r, &e);
    ui_end(ui);
    assert_int_equal(e.field[1], 11);
    assert_int_equal(e.focus, 1);

    push_click_rect(l.minus[0]);
    begin();
    ui_time_editor(ui, r, &e);
    ui_end(ui);
    assert_int_equal(e.field[0], 23);
    assert_int_equal(e.focus, 0);

    push_click_rect(l.field[2]);
    begin();
    ui_time_editor(ui, r, &e);
    ui_end(ui);
    assert_int_equal(e.focus, 2);
    assert_int_equal(ui_time_edit_value(&e), hms(23, 11, 20));
}

/* ---- Buttons and dialog ---- */

static bool button_frame(SDL_Rect r, bool enabled)
{
    begin();
    bool clicked = ui_button(ui, r, "Request book", enabled);
    ui_end(ui);
    return clicked;
}

static void test_button_clicked_once(void **state)
{
    (void)state;
    SDL_Rect r = {40, 40, 160, 36};
    assert_false(button_frame(r, true));
    push_click_rect(r);
    assert_true(button_frame(r, true));
    assert_false(button_frame(r, true));
    assert_false(button_frame(r, true));

    /* Press and release over two frames: clicked on the frame of the release. */
    push_motion(r.x + 5, r.y + 5);
    push_button(true, r.x + 5, r.y + 5);
    assert_false(button_frame(r, true));
    push_button(false, r.x + 6, r.y + 6);
    assert_true(button_frame(r, true));
    assert_false(button_frame(r, true));
}

static void test_button_press_and_release_must_both_be_inside(void **state)
{
    (void)state;
    SDL_Rect r = {40, 40, 160, 36};
    push_button(true, 300, 300);
    push_button(false, r.x + 10, r.y + 10);
    assert_false(button_frame(r, true));
    push_button(true, r.x + 10, r.y + 10);
    push_button(false, 300, 300);
    assert_false(button_frame(r, true));
    /* Another button somewhere else is not clicked by a click on this one. */
    SDL_Rect other = {300, 40, 100, 36};
    push_click_rect(r);
    begin();
    bool a = ui_button(ui, r, "A", true);
    bool b = ui_button(ui, other, "B", true);
    ui_end(ui);
    assert_true(a);
    assert_false(b);
}

static void test_button_disabled_never_clicked(void **state)
{
    (void)state;
    SDL_Rect r = {40, 40, 160, 36};
    push_click_rect(r);
    assert_false(button_frame(r, false));
    assert_false(button_frame(r, false));
}

static const char *const DIALOG_BUTTONS[] = {"Exit", "New session"};
#define DIALOG_TITLE "Session over"
#define DIALOG_TEXT "All books have been handed out"

static void dialog_frame(SDL_Rect r, bool show, bool *clicked, int *choice)
{
    begin();
    *clicked = ui_button(ui, r, "Request book", true);
    *choice = show ? ui_dialog(ui, DIALOG_TITLE, DIALOG_TEXT, DIALOG_BUTTONS, 2) : -1;
    ui_end(ui);
}

static void test_button_behind_dialog_takes_no_input(void **state)
{
    (void)state;
    SDL_Rect r = {10, 10, 160, 36};
    bool clicked;
    int choice;
    dialog_frame(r, true, &clicked, &choice);
    assert_false(clicked);
    assert_int_equal(choice, -1);

    struct ui_dialog_layout l;
    ui_dialog_layout(ui, DIALOG_TITLE, DIALOG_TEXT, DIALOG_BUTTONS, 2, &l);
    assert_int_equal(l.nbuttons, 2);
    assert_false(SDL_HasIntersection(&l.box, &r));

    /* Behind the dialog: no click, no key, but F12 (a screenshot of the whole window). */
    push_click_rect(r);
    push_key(SDLK_RETURN, 0);
    push_key(SDLK_F12, 0);
    begin();
    clicked = ui_button(ui, r, "Request book", true);
    bool key = ui_key_pressed(ui, SDLK_RETURN);
    bool shot = ui_key_pressed(ui, SDLK_F12);
    choice = ui_dialog(ui, DIALOG_TITLE, DIALOG_TEXT, DIALOG_BUTTONS, 2);
    ui_end(ui);
    assert_false(clicked);
    assert_false(key);
    assert_true(shot);
    assert_int_equal(choice, -1);

    /* The dialog's own buttons work. */
    push_click_rect(l.button[1]);
    dialog_frame(r, true, &clicked, &choice);
    assert_false(clicked);
    assert_int_equal(choice, 1);
    dialog_frame(r, true, &clicked, &choice);
    assert_int_equal(choice, -1);
    push_click_rect(l.button[0]);
    dialog_frame(r, true, &clicked, &choice);
    assert_int_equal(choice, 0);

    /* Once the dialog is gone the button works again (from the frame after the last one
     * that showed the dialog). */
    dialog_frame(r, false, &clicked, &choice);
    push_click_rect(r);
    dialog_frame(r, false, &clicked, &choice);
    assert_true(clicked);
}

static void test_key_pressed(void **state)
{
    (void)state;
    push_key(SDLK_F12, 0);
    begin();
    assert_true(ui_key_pressed(ui, SDLK_F12));
    assert_false(ui_key_pressed(ui, SDLK_ESCAPE));
    ui_end(ui);
    begin();
    assert_false(ui_key_pressed(ui, SDLK_F12));
    ui_end(ui);
}

/* ---- Drawing: screenshots ---- */

static int count_diff(SDL_Surface *a, SDL_Surface *b, SDL_Rect r)
{
    int n = 0;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++) {
            SDL_Color p = pixel(a, x, y), q = pixel(b, x, y);
            if (p.r != q.r || p.g != q.g || p.b != q.b)
                n++;
        }
    return n;
}

static void test_screenshot_clock_face_differs_by_time(void **state)
{
    (void)state;
    SDL_Rect face = {20, 20, 460, 130};
    char a_path[128], b_path[128], c_path[128];
    begin();
    ui_clock_face(ui, face, hms(12, 34, 56), UI_CLOCK_RUNNING);
    ui_end(ui);
    screenshot("a.png", a_path, sizeof a_path);
    begin();
    ui_clock_face(ui, face, hms(7, 8, 9), UI_CLOCK_RUNNING);
    screenshot("b.png", b_path, sizeof b_path); /* before ui_end works too */
    ui_end(ui);
    begin();
    ui_clock_face(ui, face, hms(12, 34, 56), UI_CLOCK_RUNNING);
    ui_end(ui);
    screenshot("c.png", c_path, sizeof c_path);

    SDL_Surface *a = load_rgb(a_path), *b = load_rgb(b_path), *c = load_rgb(c_path);
    assert_int_equal(a->w, WIN_W);
    assert_int_equal(a->h, WIN_H);
    assert_true(count_diff(a, b, face) > 500);
    assert_int_equal(count_diff(a, c, face), 0);
    /* Outside the face nothing changes. */
    SDL_Rect below = {0, 200, WIN_W, WIN_H - 200};
    assert_int_equal(count_diff(a, b, below), 0);
    /* The running face draws dark green segments. */
    bool green = false;
    for (int y = face.y; y < face.y + face.h && !green; y++)
        for (int x = face.x; x < face.x + face.w && !green; x++) {
            SDL_Color p = pixel(a, x, y);
            green = p.r == 0 && p.g == 110 && p.b == 45;
        }
    assert_true(green);
    SDL_FreeSurface(a);
    SDL_FreeSurface(b);
    SDL_FreeSurface(c);
}

static void test_screenshot_bad_path(void **state)
{
    (void)state;
    char err[256] = "";
    begin();
    ui_end(ui);
    assert_int_equal(ui_screenshot(ui, "/nonexistent/dir/x.png", err, sizeof err), -1);
    assert_true(err[0] != '\0');
}

static void test_label_cut_to_width(void **state)
{
    (void)state;
    static const SDL_Color black = {0, 0, 0, 255};
    char path[128];
    begin();
    ui_label(ui, 10, 10, 80, UI_FONT_NORMAL, black,
             "A very long title that cannot fit in eighty pixels");
    ui_label(ui, 10, 40, 0, UI_FONT_NORMAL, black, "Short");
    ui_end(ui);
    screenshot("label.png", path, sizeof path);
    SDL_Surface *s = load_rgb(path);
    SDL_Color bg = pixel(s, WIN_W - 1, WIN_H - 1);
    int inked_right = 0, inked_left = 0;
    for (int y = 10; y < 30; y++)
        for (int x = 10; x < 200; x++) {
            SDL_Color p = pixel(s, x, y);
            if (p.r != bg.r || p.g != bg.g || p.b != bg.b) {
                if (x >= 90)
                    inked_right++;
                else
                    inked_left++;
            }
        }
    assert_true(inked_left > 50);
    assert_int_equal(inked_right, 0);
    SDL_FreeSurface(s);
}

static void test_image_keeps_aspect(void **state)
{
    (void)state;
    /* A 200 x 100 red PNG, as bytes (like a cover from the DB). */
    SDL_Surface *img = SDL_CreateRGBSurfaceWithFormat(0, 200, 100, 24, SDL_PIXELFORMAT_RGB24);
    assert_non_null(img);
    SDL_FillRect(img, NULL, SDL_MapRGB(img->format, 220, 0, 0));
    char png_path[128];
    snprintf(png_path, sizeof png_path, "%s/red.png", tmpdir);
    assert_int_equal(IMG_SavePNG(img, png_path), 0);
    SDL_FreeSurface(img);
    FILE *f = fopen(png_path, "rb");
    assert_non_null(f);
    static unsigned char bytes[65536];
    size_t len = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    assert_true(len > 0 && len < sizeof bytes);

    SDL_Rect r = {100, 100, 100, 100};
    SDL_Rect empty = {300, 100, 100, 100};
    static const unsigned char junk[] = "not a png at all";
    SDL_Rect bad = {450, 100, 100, 100};
    char path[128];
    for (int i = 0; i < 3; i++) { /* the later frames use the cached texture */
        begin();
        ui_image(ui, r, bytes, len);
        ui_image(ui, empty, NULL, 0);
        ui_image(ui, bad, junk, sizeof junk);
        ui_end(ui);
    }
    screenshot("image.png", path, sizeof path);
    SDL_Surface *s = load_rgb(path);
    SDL_Color centre = pixel(s, r.x + 50, r.y + 50);
    assert_int_equal(centre.r, 220);
    assert_int_equal(centre.g, 0);
    /* Fitted to 100 x 50, centred: the top quarter is the empty canvas. */
    SDL_Color top = pixel(s, r.x + 50, r.y + 10);
    assert_false(top.r == 220 && top.g == 0);
    SDL_Color empty_c = pixel(s, empty.x + 50, empty.y + 50);
    assert_false(empty_c.r == 220 && empty_c.g == 0);
    SDL_FreeSurface(s);
}

static void test_table_and_dialog_draw(void **state)
{
    (void)state;
    static const char *const titles[] = {"Node", "Address", "Delta", "State"};
    static const int widths[] = {90, 140, 80, 200};
    static const char *const cells[] = {
        "app1", "127.0.0.1:40001", "+0.120 s", "synchronised",
        "app2", "127.0.0.1:40002", "-3.500 s", "skipped: no answer within the round time",
        "client1", NULL, "", "synchronised",
    };
    char path[128];
    begin();
    ui_table(ui, (SDL_Rect){10, 10, 500, 200}, titles, widths, 4, cells, 3);
    ui_end(ui);
    screenshot("table.png", path, sizeof path);
    begin();
    ui_table(ui, (SDL_Rect){10, 10, 500, 200}, titles, widths, 4, cells, 3);
    ui_dialog(ui, "Session over",
              "All books have been handed out. Start a new session or exit: a long line "
              "that has to be wrapped\nover several lines.",
              DIALOG_BUTTONS, 2);
    ui_end(ui);
    screenshot("dialog.png", path, sizeof path);
    SDL_Surface *s = load_rgb(path);
    /* The overlay dims the corner of the window. */
    SDL_Color corner = pixel(s, WIN_W - 2, WIN_H - 2);
    assert_true(corner.r < 200);
    SDL_FreeSurface(s);
}

/* ---- Window close ---- */

static void test_window_close_ends_loop(void **state)
{
    (void)state;
    SDL_Event ev = {0};
    ev.type = SDL_QUIT;
    push(&ev);
    char err[256];
    struct ui_config cfg = {"second", 10, 10, 200, 100};
    struct ui *second = ui_open(&cfg, err, sizeof err);
    assert_non_null(second);
    assert_false(ui_begin(second, 0));
    assert_false(ui_begin(second, 0));
    ui_close(second);

    /* The window manager's close button. */
    struct ui *third = ui_open(&cfg, err, sizeof err);
    assert_non_null(third);
    assert_true(ui_begin(third, 0));
    ui_end(third);
    SDL_Event close = {0};
    close.type = SDL_WINDOWEVENT;
    close.window.event = SDL_WINDOWEVENT_CLOSE;
    close.window.windowID = third->window_id;
    push(&close);
    assert_false(ui_begin(third, 50));
    ui_close(third);
    SDL_FlushEvents(SDL_FIRSTEVENT, SDL_LASTEVENT);
}

/* ---- Clock panel against a real clock ---- */

static void panel_frame(SDL_Rect r, struct clock_panel *p)
{
    begin();
    clock_panel(ui, r, p);
    ui_end(ui);
}

static void make_clock(struct clock *c, int64_t start)
{
    struct clock_config cfg;
    clock_config_default(&cfg);
    clock_init(c, &cfg, start);
}

static int64_t abs_delta(int64_t a, int64_t b)
{
    int64_t d = clock_wrap_delta(a - b);
    return d < 0 ? -d : d;
}

static void test_clock_panel_modify_ok(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, hms(10, 0, 0));
    struct clock_panel p;
    clock_panel_init(&p, &c);
    SDL_Rect r = {10, 10, 460, 170};
    struct clock_panel_layout l;
    clock_panel_layout(r, &l);

    panel_frame(r, &p);
    assert_false(p.editing);
    push_click_rect(l.modify);
    panel_frame(r, &p);
    assert_true(p.editing);
    struct clock_state s;
    clock_snapshot(&c, &s);
    assert_false(s.running);
    assert_true(abs_delta(ui_time_edit_value(&p.edit), hms(10, 0, 0)) <= US_PER_S);

    push_text_keys("153045");
    panel_frame(r, &p);
    assert_int_equal(ui_time_edit_value(&p.edit), hms(15, 30, 45));
    assert_true(p.editing);

    push_click_rect(l.ok);
    panel_frame(r, &p);
    assert_false(p.editing);
    clock_snapshot(&c, &s);
    assert_true(s.running);
    assert_true(abs_delta(s.time_us, hms(15, 30, 45)) < US_PER_S);
    panel_frame(r, &p);
    assert_false(p.editing);
    clock_destroy(&c);
}

static void test_clock_panel_modify_cancel(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, hms(8, 0, 0));
    int64_t mono0 = clock_mono_ns();
    struct clock_panel p;
    clock_panel_init(&p, &c);
    SDL_Rect r = {10, 10, 460, 170};
    struct clock_panel_layout l;
    clock_panel_layout(r, &l);

    push_click_rect(l.modify);
    panel_frame(r, &p);
    assert_true(p.editing);
    push_text_keys("2222");
    panel_frame(r, &p);
    usleep(200000);
    push_click_rect(l.cancel);
    panel_frame(r, &p);
    assert_false(p.editing);
    struct clock_state s;
    clock_snapshot(&c, &s);
    assert_true(s.running);
    /* Resumed as if never stopped: the time went on meanwhile. */
    int64_t elapsed_us = (clock_mono_ns() - mono0) / 1000;
    assert_true(abs_delta(s.time_us, hms(8, 0, 0) + elapsed_us) < 100000);
    clock_destroy(&c);
}

static void test_clock_panel_enter_and_escape(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, hms(6, 0, 0));
    struct clock_panel p;
    clock_panel_init(&p, &c);
    SDL_Rect r = {10, 10, 460, 170};
    struct clock_panel_layout l;
    clock_panel_layout(r, &l);

    push_click_rect(l.modify);
    panel_frame(r, &p);
    push_key(SDLK_ESCAPE, 0);
    panel_frame(r, &p);
    assert_false(p.editing);
    assert_true(c.running);

    push_click_rect(l.modify);
    panel_frame(r, &p);
    assert_true(p.editing);
    push_text_keys("2");
    push_key(SDLK_5, 0); /* refused */
    push_text_keys("1");
    push_key(SDLK_RETURN, 0);
    panel_frame(r, &p);
    assert_false(p.editing);
    assert_true(abs_delta(clock_read(&c), hms(21, 0, 0)) < US_PER_S);
    clock_destroy(&c);
}

static void test_clock_panel_modes_drawn(void **state)
{
    (void)state;
    struct clock c;
    make_clock(&c, hms(9, 0, 0));
    struct clock_panel p;
    clock_panel_init(&p, &c);
    SDL_Rect r = {10, 10, 460, 170};
    struct clock_panel_layout l;
    clock_panel_layout(r, &l);
    char unsync[128], sync[128], editing[128];
    panel_frame(r, &p);
    screenshot("unsync.png", unsync, sizeof unsync);
    assert_int_equal(clock_adjust(&c, 0, NULL), CLOCK_OK);
    panel_frame(r, &p);
    screenshot("sync.png", sync, sizeof sync);
    push_click_rect(l.modify);
    panel_frame(r, &p);
    panel_frame(r, &p);
    screenshot("editing.png", editing, sizeof editing);
    SDL_Surface *a = load_rgb(unsync), *b = load_rgb(sync), *e = load_rgb(editing);
    assert_true(count_diff(a, b, l.face) > 500);
    assert_true(count_diff(b, e, r) > 500);
    SDL_FreeSurface(a);
    SDL_FreeSurface(b);
    SDL_FreeSurface(e);
    clock_resume(&c);
    clock_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_edit_init_and_value),
        cmocka_unit_test_setup(test_time_edit_typing_through_events, fresh),
        cmocka_unit_test(test_time_edit_invalid_digits_refused),
        cmocka_unit_test(test_time_edit_arrows),
        cmocka_unit_test_setup(test_time_editor_mouse, fresh),
        cmocka_unit_test_setup(test_button_clicked_once, fresh),
        cmocka_unit_test_setup(test_button_press_and_release_must_both_be_inside, fresh),
        cmocka_unit_test_setup(test_button_disabled_never_clicked, fresh),
        cmocka_unit_test_setup(test_button_behind_dialog_takes_no_input, fresh),
        cmocka_unit_test_setup(test_key_pressed, fresh),
        cmocka_unit_test_setup(test_screenshot_clock_face_differs_by_time, fresh),
        cmocka_unit_test_setup(test_screenshot_bad_path, fresh),
        cmocka_unit_test_setup(test_label_cut_to_width, fresh),
        cmocka_unit_test_setup(test_image_keeps_aspect, fresh),
        cmocka_unit_test_setup(test_table_and_dialog_draw, fresh),
        cmocka_unit_test_setup(test_window_close_ends_loop, fresh),
        cmocka_unit_test_setup(test_clock_panel_modify_ok, fresh),
        cmocka_unit_test_setup(test_clock_panel_modify_cancel, fresh),
        cmocka_unit_test_setup(test_clock_panel_enter_and_escape, fresh),
        cmocka_unit_test_setup(test_clock_panel_modes_drawn, fresh),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* ui_demo: every widget of common/ui/ in one window, for a look by hand and for
 * measuring an idle window's CPU use.
 *
 *   ui_demo [--screenshot FILE] [--frames N] [--image FILE.png] [--dialog]
 *
 * --screenshot writes a PNG after the first frames and exits; --frames N exits after N
 * frames; F12 writes ui_demo.png. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "clock_panel.h"
#include "ui.h"

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    const char *shot = NULL, *image = NULL;
    long frames = -1;
    bool dialog = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--screenshot") == 0 && i + 1 < argc)
            shot = argv[++i];
        else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
            frames = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc)
            image = argv[++i];
        else if (strcmp(argv[i], "--dialog") == 0)
            dialog = true;
        else {
            fprintf(stderr, "usage: %s [--screenshot FILE] [--frames N] [--image PNG] [--dialog]\n",
                    argv[0]);
            return 2;
        }
    }
    size_t png_len = 0;
    unsigned char *png = image ? read_all(image, &png_len) : NULL;

    struct clock clk;
    struct clock_config cc;
    clock_config_default(&cc);
    clock_init(&clk, &cc, clock_random_time_of_day());
    struct clock_panel panel;
    clock_panel_init(&panel, &clk);

    char err[256];
    struct ui_config cfg = {"ui_demo", 0, 0, 980, 560};
    struct ui *ui = ui_open(&cfg, err, sizeof err);
    if (!ui) {
        fprintf(stderr, "ui_demo: %s\n", err);
        return 1;
    }
    static const char *const titles[] = {"Node", "Address", "Delta", "RTT", "State"};
    static const int widths[] = {90, 150, 90, 70, 200};
    static const char *const cells[] = {
        "app1", "127.0.0.1:40001", "+0.120 s", "1 ms", "synchronised",
        "app2", "127.0.0.1:40002", "-3.500 s", "2 ms", "step",
        "client1", "127.0.0.1:40003", "", "", "skipped: no answer within the round time",
    };
    static const char *const buttons[] = {"Exit", "New session"};
    static const SDL_Color ink = {25, 28, 34, 255};
    long n = 0;
    int requests = 0;
    while (ui_begin(ui, 200)) {
        clock_panel(ui, (SDL_Rect){10, 10, 460, 170}, &panel);
        if (ui_button(ui, (SDL_Rect){10, 200, 160, 36}, "Request book", true))
            requests++;
        ui_button(ui, (SDL_Rect){180, 200, 120, 36}, "Disabled", false);
        if (ui_button(ui, (SDL_Rect){310, 200, 160, 36}, "Show dialog", true))
            dialog = true;
        char line[128];
        snprintf(line, sizeof line, "Requests: %d", requests);
        ui_label(ui, 10, 250, 0, UI_FONT_LARGE, ink, line);
        ui_label(ui, 10, 285, 200, UI_FONT_NORMAL, ink,
                 "A title far too long to fit in two hundred pixels of width");
        ui_label(ui, 10, 310, 0, UI_FONT_SMALL, ink, "small text, 13 px");
        ui_label(ui, 10, 330, 0, UI_FONT_BOLD, ink, "bold text, 16 px");
        ui_clock_face(ui, (SDL_Rect){10, 360, 220, 80}, clock_read(&clk), UI_CLOCK_SLEWING);
        ui_clock_face(ui, (SDL_Rect){240, 360, 220, 80}, clock_read(&clk), UI_CLOCK_UNSYNCHRONISED);
        ui_image(ui, (SDL_Rect){490, 10, 200, 280}, png, png_len);
        ui_table(ui, (SDL_Rect){490, 300, 480, 140}, titles, widths, 5, cells, 3);
        if (dialog) {
            int b = ui_dialog(ui, "Session over", "All books have been handed out.", buttons, 2);
            if (b >= 0)
                dialog = false;
        }
        if (ui_key_pressed(ui, SDLK_F12) && ui_screenshot(ui, "ui_demo.png", err, sizeof err))
            fprintf(stderr, "ui_demo: %s\n", err);
        n++;
        if (shot && n == 3) {
            int rc = ui_screenshot(ui, shot, err, sizeof err);
            if (rc)
                fprintf(stderr, "ui_demo: %s\n", err);
            ui_end(ui);
            break;
        }
        ui_end(ui);
        if (frames >= 0 && n >= frames)
            break;
    }
    ui_close(ui);
    clock_destroy(&clk);
    free(png);
    return 0;
}

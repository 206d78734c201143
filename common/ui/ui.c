#include "log.h"
/* ui: the window, the frame loop (input of a frame), screenshots and the drawing
 * primitives the widgets share. Text is in ui_text.c, the clock face and the time
 * editor in ui_clock.c, button, image, table and dialog in ui_widgets.c. */
#include "ui_priv.h"

#include <SDL_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const SDL_Color BACKGROUND = {245, 246, 248, 255};

/* SDL, SDL_ttf and SDL_image are initialised with the first window and shut down with
 * the last one (a process normally has one window). */
static int open_windows;

static void set_err(char *err, size_t errlen, const char *what, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, why ? why : "unknown error");
}

static int libs_init(char *err, size_t errlen)
{
    if (open_windows > 0)
        return 0;
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        set_err(err, errlen, "SDL_Init", SDL_GetError());
        return -1;
    }
    if (TTF_Init() != 0) {
        set_err(err, errlen, "TTF_Init", TTF_GetError());
        SDL_Quit();
        return -1;
    }
    if ((IMG_Init(IMG_INIT_PNG) & IMG_INIT_PNG) == 0) {
        set_err(err, errlen, "IMG_Init", IMG_GetError());
        TTF_Quit();
        SDL_Quit();
        return -1;
    }
    return 0;
}

static void libs_quit(void)
{
    if (open_windows > 0)
        return;
    IMG_Quit();
    TTF_Quit();
    SDL_Quit();
}

struct ui *ui_open(const struct ui_config *cfg, char *err, size_t errlen)
{
    if (!cfg || cfg->w <= 0 || cfg->h <= 0) {
        set_err(err, errlen, "ui_open", "invalid window size");
        return NULL;
    }
    if (libs_init(err, errlen) != 0)
        return NULL;
    struct ui *ui = calloc(1, sizeof *ui);
    if (!ui) {
        set_err(err, errlen, "ui_open", "out of memory");
        libs_quit();
        return NULL;
    }
    open_windows++;
    ui->w = cfg->w;
    ui->h = cfg->h;
    ui->mouse_x = ui->mouse_y = -1;
    ui->press_x = ui->press_y = -1;

    SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
    /* Without this SDL shows the software renderer's frame through an OpenGL texture
     * (Mesa's llvmpipe under Xvfb): costly when idle and not what a screenshot reads. */
    SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    ui->window = SDL_CreateWindow(cfg->title ? cfg->title : "", cfg->x, cfg->y, cfg->w,
                                  cfg->h, SDL_WINDOW_SHOWN);
    if (!ui->window) {
        set_err(err, errlen, "SDL_CreateWindow", SDL_GetError());
        goto fail;
    }
    ui->window_id = SDL_GetWindowID(ui->window);
    ui->renderer = SDL_CreateRenderer(ui->window, -1, SDL_RENDERER_SOFTWARE);
    if (!ui->renderer) {
        set_err(err, errlen, "SDL_CreateRenderer", SDL_GetError());
        goto fail;
    }
    SDL_SetRenderDrawBlendMode(ui->renderer, SDL_BLENDMODE_BLEND);
    if (ui_text_init(ui, err, errlen) != 0)
        goto fail;
    return ui;
fail:
    ui_close(ui);
    return NULL;
}

void ui_close(struct ui *ui)
{
    if (!ui)
        return;
    ui_text_free(ui);
    ui_image_free(ui);
    if (ui->renderer)
        SDL_DestroyRenderer(ui->renderer);
    if (ui->window)
        SDL_DestroyWindow(ui->window);
    free(ui);
    open_windows--;
    libs_quit();
}

static void add_key(struct ui *ui, const SDL_KeyboardEvent *k)
{
    if (ui->nkeys >= UI_MAX_KEYS)
        return;
    ui->keys[ui->nkeys] = k->keysym.sym;
    ui->key_mods[ui->nkeys] = k->keysym.mod;
    ui->nkeys++;
}

static void handle_event(struct ui *ui, const SDL_Event *ev)
{
    switch (ev->type) {
    case SDL_QUIT:
        ui->closed = true;
        break;
    case SDL_WINDOWEVENT:
        if (ev->window.windowID != 0 && ev->window.windowID != ui->window_id)
            break;
        if (ev->window.event == SDL_WINDOWEVENT_CLOSE)
            ui->closed = true;
        else if (ev->window.event == SDL_WINDOWEVENT_LEAVE)
            ui->mouse_x = ui->mouse_y = -1;
        break;
    case SDL_MOUSEMOTION:
        ui->mouse_x = ev->motion.x;
        ui->mouse_y = ev->motion.y;
        break;
    case SDL_MOUSEBUTTONDOWN:
        if (ev->button.button != SDL_BUTTON_LEFT)
            break;
        ui->mouse_x = ev->button.x;
        ui->mouse_y = ev->button.y;
        ui->mouse_down = true;
        ui->press_x = ev->button.x;
        ui->press_y = ev->button.y;
        break;
    case SDL_MOUSEBUTTONUP:
        if (ev->button.button != SDL_BUTTON_LEFT)
            break;
        ui->mouse_x = ev->button.x;
        ui->mouse_y = ev->button.y;
        if (ui->mouse_down && ui->nclicks < UI_MAX_CLICKS) {
            struct ui_click *c = &ui->clicks[ui->nclicks++];
            c->px = ui->press_x;
            c->py = ui->press_y;
            c->rx = ev->button.x;
            c->ry = ev->button.y;
        }
        ui->mouse_down = false;
        break;
    case SDL_KEYDOWN:
        add_key(ui, &ev->key);
        break;
    default:
        break;
    }
}

bool ui_begin(struct ui *ui, int wait_ms)
{
    ui->frame++;
    ui->nclicks = 0;
    ui->nkeys = 0;
    ui->modal_prev = ui->modal_now;
    ui->modal_now = false;
    ui->in_dialog = false;
    if (ui->redraw_soon) {
        /* A click changed what the window shows: draw it now rather than after the wait. */
        wait_ms = 0;
        ui->redraw_soon = false;
    }
    SDL_Event ev;
    if (wait_ms > 0 && !ui->closed && SDL_WaitEventTimeout(&ev, wait_ms))
        handle_event(ui, &ev);
    while (SDL_PollEvent(&ev))
        handle_event(ui, &ev);
    if (ui->closed)
        return false;
    ui_set_color(ui, BACKGROUND);
    SDL_RenderClear(ui->renderer);
    return true;
}

void ui_end(struct ui *ui)
{
    SDL_RenderPresent(ui->renderer);
}

int ui_screenshot(struct ui *ui, const char *path, char *err, size_t errlen)
{
    int w, h;
    if (SDL_GetRendererOutputSize(ui->renderer, &w, &h) != 0) {
        set_err(err, errlen, "SDL_GetRendererOutputSize", SDL_GetError());
        return -1;
    }
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 24, SDL_PIXELFORMAT_RGB24);
    if (!s) {
        set_err(err, errlen, "SDL_CreateRGBSurface", SDL_GetError());
        return -1;
    }
    int rc = 0;
    if (SDL_RenderReadPixels(ui->renderer, NULL, SDL_PIXELFORMAT_RGB24, s->pixels, s->pitch) != 0) {
        set_err(err, errlen, "SDL_RenderReadPixels", SDL_GetError());
        rc = -1;
    } else if (IMG_SavePNG(s, path) != 0) {
        set_err(err, errlen, path, IMG_GetError());
        rc = -1;
    }
    SDL_FreeSurface(s);
    return rc;
}

/* ---- Input ---- */

bool ui_input_blocked(const struct ui *ui)
{
    return ui->modal_prev && !ui->in_dialog;
}

bool ui_point_in(SDL_Rect r, int x, int y)
{
    return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

bool ui_hover(const struct ui *ui, SDL_Rect r)
{
    return !ui_input_blocked(ui) && ui_point_in(r, ui->mouse_x, ui->mouse_y);
}

bool ui_pressing(const struct ui *ui, SDL_Rect r)
{
    return ui->mouse_down && ui_hover(ui, r) && ui_point_in(r, ui->press_x, ui->press_y);
}

bool ui_clicked(struct ui *ui, SDL_Rect r)
{
    if (ui_input_blocked(ui))
        return false;
    for (int i = 0; i < ui->nclicks; i++) {
        const struct ui_click *c = &ui->clicks[i];
        if (ui_point_in(r, c->px, c->py) && ui_point_in(r, c->rx, c->ry)) {
            ui->redraw_soon = true;
            return true;
        }
    }
    return false;
}

bool ui_key_pressed(struct ui *ui, SDL_Keycode key)
{
    /* F12 (screenshot) acts on the whole window, so a dialog does not block it. */
    if (key != SDLK_F12 && ui_input_blocked(ui))
        return false;
    for (int i = 0; i < ui->nkeys; i++)
        if (ui->keys[i] == key) {
            ui->redraw_soon = true;
            return true;
        }
    return false;
}

/* ---- Drawing ---- */

void ui_set_color(struct ui *ui, SDL_Color c)
{
    SDL_SetRenderDrawColor(ui->renderer, c.r, c.g, c.b, c.a);
}

void ui_fill_rect(struct ui *ui, SDL_Rect r, SDL_Color c)
{
    if (r.w <= 0 || r.h <= 0)
        return;
    ui_set_color(ui, c);
    SDL_RenderFillRect(ui->renderer, &r);
}

void ui_frame_rect(struct ui *ui, SDL_Rect r, SDL_Color c)
{
    if (r.w <= 0 || r.h <= 0)
        return;
    ui_set_color(ui, c);
    SDL_RenderDrawRect(ui->renderer, &r);
}

/* Corner insets of a circle of the given radius, row by row (radius <= 8). */
static int corner_inset(int radius, int row)
{
    static const int inset[9][8] = {
        {0},
        {1},
        {1, 0},
        {2, 1, 0},
        {2, 1, 0, 0},
        {3, 2, 1, 0, 0},
        {3, 2, 1, 1, 0, 0},
        {4, 2, 2, 1, 0, 0, 0},
        {4, 3, 2, 1, 1, 0, 0, 0},
    };
    return inset[radius][row];
}

void ui_fill_round(struct ui *ui, SDL_Rect r, int radius, SDL_Color c)
{
    if (r.w <= 0 || r.h <= 0)
        return;
    if (radius > 8)
        radius = 8;
    if (radius > r.w / 2)
        radius = r.w / 2;
    if (radius > r.h / 2)
        radius = r.h / 2;
    if (radius < 0)
        radius = 0;
    ui_set_color(ui, c);
    SDL_Rect mid = {r.x, r.y + radius, r.w, r.h - 2 * radius};
    SDL_RenderFillRect(ui->renderer, &mid);
    for (int row = 0; row < radius; row++) {
        int in = corner_inset(radius, row);
        SDL_Rect top = {r.x + in, r.y + row, r.w - 2 * in, 1};
        SDL_Rect bottom = {r.x + in, r.y + r.h - 1 - row, r.w - 2 * in, 1};
        SDL_RenderFillRect(ui->renderer, &top);
        SDL_RenderFillRect(ui->renderer, &bottom);
    }
}

void ui_box(struct ui *ui, SDL_Rect r, int radius, SDL_Color fill, SDL_Color border, bool thick)
{
    int b = thick ? 2 : 1;
    ui_fill_round(ui, r, radius, border);
    SDL_Rect in = {r.x + b, r.y + b, r.w - 2 * b, r.h - 2 * b};
    ui_fill_round(ui, in, radius > b ? radius - b : 0, fill);
}

void ui_save_screenshot(struct ui *ui, const char *path)
{
    char err[300];
    if (!path)
        log_info("window", "no --screenshot FILE given: nothing written");
    else if (ui_screenshot(ui, path, err, sizeof err) < 0)
        log_warn("window", "screenshot: %s", err);
    else
        log_info("window", "screenshot written to %s", path);
}

void ui_run(struct ui *ui, int wait_ms, void (*draw)(void *ctx), void *ctx, bool (*stop)(void),
            const char *screenshot)
{
    bool drawn = false;
    while (!stop() && ui_begin(ui, wait_ms)) {
        draw(ctx);
        bool shot = ui_key_pressed(ui, SDLK_F12);
        ui_end(ui);
        drawn = true;
        if (shot)
            ui_save_screenshot(ui, screenshot);
    }
    /* The last frame is still in the renderer: it is what the window showed. */
    if (drawn && screenshot)
        ui_save_screenshot(ui, screenshot);
}

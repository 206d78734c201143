/* ui_widgets: button, image canvas, table and modal dialog. */
#include "ui_priv.h"

#include <SDL_image.h>
#include <string.h>

static const SDL_Color TEXT = {25, 28, 34, 255};
static const SDL_Color TEXT_DISABLED = {150, 152, 158, 255};
static const SDL_Color WHITE = {255, 255, 255, 255};
static const SDL_Color FRAME = {150, 154, 162, 255};

/* ---- Button ---- */

bool ui_button(struct ui *ui, SDL_Rect r, const char *label, bool enabled)
{
    static const SDL_Color fill_normal = {226, 230, 238, 255};
    static const SDL_Color fill_hover = {236, 242, 252, 255};
    static const SDL_Color fill_pressed = {188, 200, 222, 255};
    static const SDL_Color fill_disabled = {236, 236, 238, 255};
    static const SDL_Color border_normal = {120, 126, 138, 255};
    static const SDL_Color border_hover = {58, 110, 200, 255};
    static const SDL_Color border_disabled = {196, 198, 202, 255};

    bool clicked = false;
    SDL_Rect label_r = r;
    if (!enabled) {
        ui_box(ui, r, 5, fill_disabled, border_disabled, false);
    } else if (ui_pressing(ui, r)) {
        ui_box(ui, r, 5, fill_pressed, border_hover, true);
        label_r.x++;
        label_r.y++;
    } else if (ui_hover(ui, r)) {
        ui_box(ui, r, 5, fill_hover, border_hover, true);
    } else {
        ui_box(ui, r, 5, fill_normal, border_normal, false);
    }
    if (enabled)
        clicked = ui_clicked(ui, r);
    ui_text_centred(ui, label_r, UI_FONT_NORMAL, enabled ? TEXT : TEXT_DISABLED, label);
    return clicked;
}

/* ---- Image ---- */

static uint64_t fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

void ui_image_free(struct ui *ui)
{
    for (int i = 0; i < UI_IMAGE_CACHE; i++) {
        if (ui->image_cache[i].tex)
            SDL_DestroyTexture(ui->image_cache[i].tex);
        memset(&ui->image_cache[i], 0, sizeof ui->image_cache[i]);
    }
}

static struct ui_image_entry *image_lookup(struct ui *ui, const void *png, size_t len)
{
    /* Hashing all the bytes (a cover is ~100 KB: well under a millisecond) tells a buffer
     * reused at the same address with other bytes apart. */
    uint64_t hash = fnv1a(png, len);
    struct ui_image_entry *victim = &ui->image_cache[0];
    for (int i = 0; i < UI_IMAGE_CACHE; i++) {
        struct ui_image_entry *e = &ui->image_cache[i];
        if (e->used && e->ptr == png && e->len == len && e->hash == hash) {
            e->last_used = ui->frame;
            return e;
        }
        if (!e->used)
            victim = e;
        else if (victim->used && e->last_used < victim->last_used)
            victim = e;
    }
    if (victim->tex)
        SDL_DestroyTexture(victim->tex);
    memset(victim, 0, sizeof *victim);
    victim->used = true;
    victim->ptr = png;
    victim->len = len;
    victim->hash = hash;
    victim->last_used = ui->frame;
    if (len <= INT32_MAX) {
        SDL_RWops *rw = SDL_RWFromConstMem(png, (int)len);
        SDL_Surface *s = rw ? IMG_Load_RW(rw, 1) : NULL;
        if (s) {
            victim->tex = SDL_CreateTextureFromSurface(ui->renderer, s);
            victim->w = s->w;
            victim->h = s->h;
            SDL_FreeSurface(s);
        }
    }
    return victim;
}

void ui_image(struct ui *ui, SDL_Rect r, const void *png, size_t len)
{
    static const SDL_Color canvas = {232, 234, 238, 255};
    ui_fill_rect(ui, r, canvas);
    if (png && len > 0) {
        struct ui_image_entry *e = image_lookup(ui, png, len);
        if (e->tex && e->w > 0 && e->h > 0) {
            /* Fit inside r keeping the aspect ratio, centred. */
            int w = r.w, h = (int)((int64_t)e->h * r.w / e->w);
            if (h > r.h) {
                h = r.h;
                w = (int)((int64_t)e->w * r.h / e->h);
            }
            SDL_Rect dst = {r.x + (r.w - w) / 2, r.y + (r.h - h) / 2, w, h};
            SDL_RenderCopy(ui->renderer, e->tex, NULL, &dst);
        } else {
            /* Bytes SDL_image cannot decode: a cross. */
            ui_set_color(ui, FRAME);
            SDL_RenderDrawLine(ui->renderer, r.x, r.y, r.x + r.w - 1, r.y + r.h - 1);
            SDL_RenderDrawLine(ui->renderer, r.x + r.w - 1, r.y, r.x, r.y + r.h - 1);
        }
    }
    ui_frame_rect(ui, r, FRAME);
}

/* ---- Table ---- */

void ui_table(struct ui *ui, SDL_Rect r, const char *const *titles, const int *widths,
              int ncols, const char *const *cells, int nrows)
{
    ui_table_swatches(ui, r, titles, widths, ncols, cells, nrows, NULL);
}

#define SWATCH 10

void ui_table_swatches(struct ui *ui, SDL_Rect r, const char *const *titles, const int *widths,
                       int ncols, const char *const *cells, int nrows, const SDL_Color *swatch)
{
    static const SDL_Color header = {212, 218, 230, 255};
    static const SDL_Color shade = {238, 241, 246, 255};
    static const SDL_Color line = {200, 204, 212, 255};
    const int pad = 6;
    const int header_h = ui_font_height(ui, UI_FONT_BOLD) + 8;
    const int row_h = ui_font_height(ui, UI_FONT_NORMAL) + 6;

    ui_fill_rect(ui, r, WHITE);
    SDL_Rect old_clip;
    bool had_clip = SDL_RenderIsClipEnabled(ui->renderer);
    SDL_RenderGetClipRect(ui->renderer, &old_clip);
    SDL_RenderSetClipRect(ui->renderer, &r);

    SDL_Rect hr = {r.x, r.y, r.w, header_h};
    ui_fill_rect(ui, hr, header);
    int x = r.x;
    for (int c = 0; c < ncols; c++) {
        int w = widths ? widths[c] : r.w / (ncols ? ncols : 1);
        if (c == ncols - 1 || x + w > r.x + r.w)
            w = r.x + r.w - x;
        if (w > 2 * pad && titles && titles[c])
            ui_text(ui, x + pad, r.y + 4, w - 2 * pad, UI_FONT_BOLD, TEXT, titles[c], NULL, NULL);
        x += w;
        if (x >= r.x + r.w)
            break;
    }
    int y = r.y + header_h;
    for (int row = 0; row < nrows && y < r.y + r.h; row++, y += row_h) {
        if (row % 2 == 1) {
            SDL_Rect rr = {r.x, y, r.w, row_h};
            ui_fill_rect(ui, rr, shade);
        }
        x = r.x;
        for (int c = 0; c < ncols; c++) {
            int w = widths ? widths[c] : r.w / ncols;
            if (c == ncols - 1 || x + w > r.x + r.w)
                w = r.x + r.w - x;
            const char *cell = cells ? cells[(size_t)row * (size_t)ncols + (size_t)c] : NULL;
            int sw = 0;
            if (c == 0 && swatch && swatch[row].a != 0 && w > 2 * pad + SWATCH) {
                SDL_Rect sq = {x + pad, y + (row_h - SWATCH) / 2, SWATCH, SWATCH};
                ui_fill_rect(ui, sq, swatch[row]);
                sw = SWATCH + 5;
            }
            if (w > 2 * pad + sw && cell)
                ui_text(ui, x + pad + sw, y + 3, w - 2 * pad - sw, UI_FONT_NORMAL, TEXT, cell,
                        NULL, NULL);
            x += w;
            if (x >= r.x + r.w)
                break;
        }
    }
    /* Column separators in the header. */
    x = r.x;
    ui_set_color(ui, line);
    for (int c = 0; c + 1 < ncols && widths; c++) {
        x += widths[c];
        if (x >= r.x + r.w)
            break;
        SDL_RenderDrawLine(ui->renderer, x, r.y + 3, x, r.y + header_h - 4);
    }
    SDL_RenderDrawLine(ui->renderer, r.x, r.y + header_h - 1, r.x + r.w - 1, r.y + header_h - 1);

    SDL_RenderSetClipRect(ui->renderer, had_clip ? &old_clip : NULL);
    ui_frame_rect(ui, r, FRAME);
}

/* ---- Dialog ---- */

#define DIALOG_PAD 18
#define DIALOG_BUTTON_H 34
#define DIALOG_BUTTON_GAP 12

void ui_dialog_layout(struct ui *ui, const char *title, const char *text,
                      const char *const *buttons, int nbuttons, struct ui_dialog_layout *l)
{
    memset(l, 0, sizeof *l);
    if (nbuttons > UI_DIALOG_MAX_BUTTONS)
        nbuttons = UI_DIALOG_MAX_BUTTONS;
    if (nbuttons < 0)
        nbuttons = 0;
    l->nbuttons = nbuttons;

    int bw[UI_DIALOG_MAX_BUTTONS];
    int buttons_w = 0;
    for (int i = 0; i < nbuttons; i++) {
        int w = 0;
        ui_text_size(ui, UI_FONT_NORMAL, buttons[i], &w, NULL);
        bw[i] = w + 32 < 110 ? 110 : w + 32;
        buttons_w += bw[i] + (i ? DIALOG_BUTTON_GAP : 0);
    }
    int title_w = 0;
    ui_text_size(ui, UI_FONT_BOLD, title, &title_w, NULL);
    int box_w = 440;
    if (box_w < buttons_w + 2 * DIALOG_PAD)
        box_w = buttons_w + 2 * DIALOG_PAD;
    if (box_w < title_w + 2 * DIALOG_PAD)
        box_w = title_w + 2 * DIALOG_PAD;
    if (box_w > ui->w - 20)
        box_w = ui->w - 20;

    int text_w = box_w - 2 * DIALOG_PAD;
    l->ntitle = ui_wrap(ui, UI_FONT_BOLD, title, text_w, l->title, 2);
    l->nlines = ui_wrap(ui, UI_FONT_NORMAL, text, text_w, l->lines, UI_DIALOG_MAX_LINES);
    int line_h = ui_font_height(ui, UI_FONT_NORMAL) + 2;
    int title_h = l->ntitle * (ui_font_height(ui, UI_FONT_BOLD) + 2);
    int box_h = DIALOG_PAD + title_h + 10 + l->nlines * line_h + 18 + DIALOG_BUTTON_H +
                DIALOG_PAD;
    if (box_h > ui->h - 20)
        box_h = ui->h - 20;
    l->box = (SDL_Rect){(ui->w - box_w) / 2, (ui->h - box_h) / 2, box_w, box_h};

    int bx = l->box.x + (box_w - buttons_w) / 2;
    int by = l->box.y + box_h - DIALOG_PAD - DIALOG_BUTTON_H;
    for (int i = 0; i < nbuttons; i++) {
        l->button[i] = (SDL_Rect){bx, by, bw[i], DIALOG_BUTTON_H};
        bx += bw[i] + DIALOG_BUTTON_GAP;
    }
}

int ui_dialog(struct ui *ui, const char *title, const char *text, const char *const *buttons,
              int nbuttons)
{
    static const SDL_Color dim = {20, 24, 32, 130};
    static const SDL_Color box_fill = {250, 251, 253, 255};
    static const SDL_Color box_border = {90, 96, 110, 255};

    ui->modal_now = true;
    struct ui_dialog_layout l;
    ui_dialog_layout(ui, title, text, buttons, nbuttons, &l);

    SDL_Rect all = {0, 0, ui->w, ui->h};
    ui_fill_rect(ui, all, dim);
    ui_box(ui, l.box, 6, box_fill, box_border, true);

    int x = l.box.x + DIALOG_PAD, y = l.box.y + DIALOG_PAD;
    int text_w = l.box.w - 2 * DIALOG_PAD;
    for (int i = 0; i < l.ntitle; i++) {
        char buf[UI_TEXT_KEY_MAX];
        int n = l.title[i].len < (int)sizeof buf - 1 ? l.title[i].len : (int)sizeof buf - 1;
        memcpy(buf, l.title[i].start, (size_t)n);
        buf[n] = '\0';
        ui_text(ui, x, y, text_w, UI_FONT_BOLD, TEXT, buf, NULL, NULL);
        y += ui_font_height(ui, UI_FONT_BOLD) + 2;
    }
    y += 10;
    int line_h = ui_font_height(ui, UI_FONT_NORMAL) + 2;
    for (int i = 0; i < l.nlines; i++, y += line_h) {
        char buf[UI_TEXT_KEY_MAX];
        int n = l.lines[i].len < (int)sizeof buf - 1 ? l.lines[i].len : (int)sizeof buf - 1;
        memcpy(buf, l.lines[i].start, (size_t)n);
        buf[n] = '\0';
        ui_text(ui, x, y, text_w, UI_FONT_NORMAL, TEXT, buf, NULL, NULL);
    }

    int clicked = -1;
    ui->in_dialog = true;
    for (int i = 0; i < l.nbuttons; i++)
        if (ui_button(ui, l.button[i], buttons[i], true) && clicked < 0)
            clicked = i;
    ui->in_dialog = false;
    return clicked;
}

/* ui_text: fonts, text drawn with SDL2_ttf (blended), a small LRU cache of the textures
 * of strings drawn every frame, cutting to a width with "…", and word wrapping. */
#include "ui_priv.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *path;
    int size;
} FONTS[UI_NFONTS] = {
    [UI_FONT_SMALL] = {UI_FONT_PATH, 13},
    [UI_FONT_NORMAL] = {UI_FONT_PATH, 16},
    [UI_FONT_BOLD] = {UI_FONT_BOLD_PATH, 16},
    [UI_FONT_LARGE] = {UI_FONT_PATH, 22},
    [UI_FONT_DIGITS] = {UI_FONT_BOLD_PATH, 30},
};

static const char ELLIPSIS[] = "\xe2\x80\xa6"; /* … */

int ui_text_init(struct ui *ui, char *err, size_t errlen)
{
    for (int i = 0; i < UI_NFONTS; i++) {
        ui->font[i] = TTF_OpenFont(FONTS[i].path, FONTS[i].size);
        if (!ui->font[i]) {
            if (err && errlen)
                snprintf(err, errlen, "font %s: %s", FONTS[i].path, TTF_GetError());
            return -1;
        }
        TTF_SetFontHinting(ui->font[i], TTF_HINTING_LIGHT);
    }
    return 0;
}

void ui_text_free(struct ui *ui)
{
    for (int i = 0; i < UI_TEXT_CACHE; i++) {
        if (ui->text_cache[i].tex)
            SDL_DestroyTexture(ui->text_cache[i].tex);
        ui->text_cache[i].tex = NULL;
        ui->text_cache[i].used = false;
    }
    for (int i = 0; i < UI_NFONTS; i++) {
        if (ui->font[i])
            TTF_CloseFont(ui->font[i]);
        ui->font[i] = NULL;
    }
}

static TTF_Font *font_of(const struct ui *ui, int font)
{
    if (font < 0 || font >= UI_NFONTS)
        font = UI_FONT_NORMAL;
    return ui->font[font];
}

int ui_font_height(const struct ui *ui, int font)
{
    return TTF_FontHeight(font_of(ui, font));
}

void ui_text_size(struct ui *ui, int font, const char *text, int *w, int *h)
{
    int tw = 0, th = 0;
    if (text && *text && TTF_SizeUTF8(font_of(ui, font), text, &tw, &th) != 0)
        tw = th = 0;
    if (w)
        *w = tw;
    if (h)
        *h = th;
}

/* The longest prefix of text that fits max_w with "…" after it, in out (size outlen). */
static void cut_text(struct ui *ui, int font, const char *text, int max_w, char *out,
                     size_t outlen)
{
    size_t len = strlen(text);
    /* Byte offsets of the character boundaries. */
    size_t ncut = 0;
    static size_t bounds[UI_TEXT_KEY_MAX * 4];
    for (size_t i = 0; i <= len && ncut < sizeof bounds / sizeof bounds[0]; i++)
        if (i == len || ((unsigned char)text[i] & 0xC0) != 0x80)
            bounds[ncut++] = i;
    /* Binary search on the number of characters kept. */
    size_t lo = 0, hi = ncut ? ncut - 1 : 0;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        size_t n = bounds[mid];
        if (n + sizeof ELLIPSIS > outlen) {
            hi = mid - 1;
            continue;
        }
        memcpy(out, text, n);
        memcpy(out + n, ELLIPSIS, sizeof ELLIPSIS);
        int w = 0;
        ui_text_size(ui, font, out, &w, NULL);
        if (w <= max_w)
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t n = bounds[lo];
    while (n > 0 && text[n - 1] == ' ')
        n--;
    if (n + sizeof ELLIPSIS > outlen)
        n = 0;
    memcpy(out, text, n);
    memcpy(out + n, ELLIPSIS, sizeof ELLIPSIS);
}

/* Renders the text (already cut) into a texture. */
static SDL_Texture *render(struct ui *ui, int font, SDL_Color color, const char *text, int *w,
                           int *h)
{
    SDL_Surface *s = TTF_RenderUTF8_Blended(font_of(ui, font), text, color);
    if (!s)
        return NULL;
    SDL_Texture *t = SDL_CreateTextureFromSurface(ui->renderer, s);
    *w = s->w;
    *h = s->h;
    SDL_FreeSurface(s);
    if (t)
        SDL_SetTextureBlendMode(t, SDL_BLENDMODE_BLEND);
    return t;
}

static bool same_color(SDL_Color a, SDL_Color b)
{
    return a.r == b.r && a.g == b.g && a.b == b.b && a.a == b.a;
}

/* The text's texture from the cache, made (and cut to max_w) on a miss. */
static struct ui_text_entry *lookup(struct ui *ui, int font, SDL_Color color, int max_w,
                                    const char *text)
{
    if (strlen(text) >= UI_TEXT_KEY_MAX)
        return NULL;
    struct ui_text_entry *victim = &ui->text_cache[0];
    for (int i = 0; i < UI_TEXT_CACHE; i++) {
        struct ui_text_entry *e = &ui->text_cache[i];
        if (e->used && e->font == font && e->max_w == max_w && same_color(e->color, color) &&
            strcmp(e->text, text) == 0) {
            e->last_used = ui->frame;
            return e;
        }
        if (!e->used)
            victim = e;
        else if (victim->used && e->last_used < victim->last_used)
            victim = e;
    }
    char cut[UI_TEXT_KEY_MAX + 8];
    const char *shown = text;
    int w = 0;
    ui_text_size(ui, font, text, &w, NULL);
    if (max_w > 0 && w > max_w) {
        cut_text(ui, font, text, max_w, cut, sizeof cut);
        shown = cut;
    }
    int tw = 0, th = 0;
    SDL_Texture *t = render(ui, font, color, shown, &tw, &th);
    if (!t)
        return NULL;
    if (victim->tex)
        SDL_DestroyTexture(victim->tex);
    victim->used = true;
    victim->font = font;
    victim->color = color;
    victim->max_w = max_w;
    snprintf(victim->text, sizeof victim->text, "%s", text);
    victim->tex = t;
    victim->w = tw;
    victim->h = th;
    victim->last_used = ui->frame;
    return victim;
}

void ui_text(struct ui *ui, int x, int y, int max_w, int font, SDL_Color color,
             const char *text, int *w, int *h)
{
    if (w)
        *w = 0;
    if (h)
        *h = 0;
    if (!text || !*text)
        return;
    struct ui_text_entry *e = lookup(ui, font, color, max_w, text);
    if (e) {
        SDL_Rect dst = {x, y, e->w, e->h};
        SDL_RenderCopy(ui->renderer, e->tex, NULL, &dst);
        if (w)
            *w = e->w;
        if (h)
            *h = e->h;
        return;
    }
    /* Too long for the cache: rendered for this frame only (cut if needed). */
    static char cut[4096];
    const char *shown = text;
    int tw = 0;
    ui_text_size(ui, font, text, &tw, NULL);
    if (max_w > 0 && tw > max_w && strlen(text) < sizeof cut - 8) {
        cut_text(ui, font, text, max_w, cut, sizeof cut);
        shown = cut;
    }
    int rw = 0, rh = 0;
    SDL_Texture *t = render(ui, font, color, shown, &rw, &rh);
    if (!t)
        return;
    SDL_Rect dst = {x, y, rw, rh};
    if (max_w > 0 && dst.w > max_w) {
        SDL_Rect src = {0, 0, max_w, rh};
        dst.w = max_w;
        SDL_RenderCopy(ui->renderer, t, &src, &dst);
    } else {
        SDL_RenderCopy(ui->renderer, t, NULL, &dst);
    }
    SDL_DestroyTexture(t);
    if (w)
        *w = dst.w;
    if (h)
        *h = rh;
}

void ui_label(struct ui *ui, int x, int y, int max_w, enum ui_font font, SDL_Color color,
              const char *text)
{
    ui_text(ui, x, y, max_w, (int)font, color, text, NULL, NULL);
}

void ui_text_centred(struct ui *ui, SDL_Rect r, int font, SDL_Color color, const char *text)
{
    int w = 0, h = 0;
    struct ui_text_entry *e = text && *text ? lookup(ui, font, color, r.w - 4, text) : NULL;
    if (e) {
        w = e->w;
        h = e->h;
    } else {
        ui_text_size(ui, font, text, &w, &h);
        if (w > r.w - 4)
            w = r.w - 4;
    }
    ui_text(ui, r.x + (r.w - w) / 2, r.y + (r.h - h) / 2, r.w - 4, font, color, text, NULL,
            NULL);
}

int ui_font_fitting(struct ui *ui, int font, const char *text, int max_w)
{
    const int order[] = {font, UI_FONT_NORMAL, UI_FONT_SMALL};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (i > 0 && ui_font_height(ui, order[i]) > ui_font_height(ui, font))
            continue;
        int w = 0;
        ui_text_size(ui, order[i], text, &w, NULL);
        if (w <= max_w)
            return order[i];
    }
    return UI_FONT_SMALL;
}

enum ui_font ui_font_fit(struct ui *ui, enum ui_font font, const char *text, int max_w)
{
    return (enum ui_font)ui_font_fitting(ui, (int)font, text, max_w);
}

int ui_text_lines(struct ui *ui, int x, int y, int max_w, int max_lines, int line_h,
                  enum ui_font font, SDL_Color color, const char *text)
{
    struct ui_line lines[UI_DIALOG_MAX_LINES];
    if (!text || !*text || max_lines <= 0)
        return 0;
    if (max_lines > UI_DIALOG_MAX_LINES)
        max_lines = UI_DIALOG_MAX_LINES;
    int n = ui_wrap(ui, (int)font, text, max_w, lines, max_lines);
    for (int i = 0; i < n; i++) {
        char buf[1024];
        /* The last line takes the rest of the text (cut with "…" where it does not fit). */
        size_t len = i == n - 1 ? strlen(lines[i].start) : (size_t)lines[i].len;
        if (len >= sizeof buf)
            len = sizeof buf - 1;
        memcpy(buf, lines[i].start, len);
        buf[len] = '\0';
        char *nl = i == n - 1 ? strchr(buf, '\n') : NULL;
        if (nl)
            *nl = '\0';
        ui_text(ui, x, y + i * line_h, max_w, (int)font, color, buf, NULL, NULL);
    }
    return n;
}

/* Width of the first len bytes of s. */
static int span_width(struct ui *ui, int font, const char *s, int len)
{
    char buf[1024];
    if (len >= (int)sizeof buf)
        len = (int)sizeof buf - 1;
    memcpy(buf, s, (size_t)len);
    buf[len] = '\0';
    int w = 0;
    ui_text_size(ui, font, buf, &w, NULL);
    return w;
}

int ui_wrap(struct ui *ui, int font, const char *text, int max_w, struct ui_line *lines,
            int max_lines)
{
    int n = 0;
    const char *p = text ? text : "";
    while (*p && n < max_lines) {
        const char *nl = strchr(p, '\n');
        int para = nl ? (int)(nl - p) : (int)strlen(p);
        /* Break the paragraph [p, p + para) into lines. */
        const char *line = p;
        int left = para;
        while (n < max_lines) {
            if (left == 0 || span_width(ui, font, line, left) <= max_w) {
                lines[n].start = line;
                lines[n].len = left;
                n++;
                break;
            }
            /* The last space that keeps the line within max_w; else cut the word. */
            int best = -1;
            for (int i = 1; i < left; i++)
                if (line[i] == ' ') {
                    if (span_width(ui, font, line, i) <= max_w)
                        best = i;
                    else
                        break;
                }
            int take = best;
            if (take <= 0) {
                take = left;
                while (take > 1 && span_width(ui, font, line, take) > max_w) {
                    take--;
                    while (take > 1 && ((unsigned char)line[take] & 0xC0) == 0x80)
                        take--;
                }
            }
            lines[n].start = line;
            lines[n].len = take;
            n++;
            line += take;
            left -= take;
            while (left > 0 && *line == ' ') {
                line++;
                left--;
            }
            if (left == 0)
                break;
        }
        if (!nl)
            break;
        p = nl + 1;
        if (!*p && n < max_lines) {
            lines[n].start = p;
            lines[n].len = 0;
            n++;
        }
    }
    return n;
}

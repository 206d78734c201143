/* window: the client's window (DESIGN.md section 6). Immediate mode on the main thread:
 * every frame copies the booker's view (client/booker.c does every RPC on a thread of
 * its own) and draws it, so the window keeps drawing while the app server is slow or
 * down. Layout, 320 x 400:
 *
 *   y   8..158  the clock panel (face, Modify / OK / Cancel)
 *   y 164..198  "Request book"
 *   y 206..286  the last book: title (bold), author and year, ISBN with session and
 *               request, served at
 *   y 290..342  the history of this clock's own offset (one point per correction)
 *   y 344..398  session and books left (STATUS), then the status line: asking...,
 *               a failover, errors; "app server unreachable:" (one server listed) or
 *               "no app server answers:" with the reason on two lines
 */
#include "window.h"

#include "booker.h"
#include "book_rpc.h"
#include "clock_panel.h"
#include "i18n.h"
#include "log.h"
#include "offset_history.h"
#include "rpcserver.h"
#include "ui.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CW_W 320
#define CW_H 400
#define CW_MARGIN 10
#define CW_INNER (CW_W - 2 * CW_MARGIN)
#define CW_WAIT_MS 100

static const SDL_Rect cw_panel_r = {CW_MARGIN, 8, CW_INNER, 150};
static const SDL_Rect cw_request_r = {CW_MARGIN, 164, CW_INNER, 34};
static const SDL_Rect cw_book_r = {CW_MARGIN, 206, CW_INNER, 80};
static const SDL_Rect cw_history_r = {CW_MARGIN, 290, CW_INNER, 52};
#define CW_HISTORY_SLOTS 30
#define CW_STATUS_Y 344     /* three lines of small text */
#define CW_SMALL_LINE 18
#define CW_LINE 20

static const SDL_Color cw_text = {30, 30, 30, 255};
static const SDL_Color cw_grey = {105, 105, 105, 255};
static const SDL_Color cw_busy = {30, 80, 160, 255};
static const SDL_Color cw_error = {180, 30, 30, 255};

struct cw {
    const struct cl_window_config *cfg;
    struct ui *ui;
    struct booker booker;
    struct clock_panel panel;
    struct offset_history history;
    struct booker_view view;    /* copied at the start of every frame */
    uint64_t overs_seen;        /* SESSION_OVER replies already shown */
    bool dialog;                /* the end-of-session dialog is open */
    struct booker_summary over; /* what it shows */
    bool exit;                  /* "Exit" clicked */
};

static void cw_book(struct cw *w)
{
    const struct booker_view *v = &w->view;
    int x = cw_book_r.x, y = cw_book_r.y, mw = cw_book_r.w;
    if (!v->have_book) {
        ui_label(w->ui, x, y, mw, UI_FONT_NORMAL, cw_grey, _("No book yet."));
        ui_label(w->ui, x, y + CW_LINE + 4, mw, UI_FONT_SMALL, cw_grey,
                 _("“Request book” asks your app server for one."));
        return;
    }
    const struct booker_book *b = &v->book;
    char line[200], t[20];
    ui_label(w->ui, x, y, mw, UI_FONT_BOLD, cw_text, b->title);
    y += CW_LINE + 4;
    if (b->year > 0)
        snprintf(line, sizeof line, _("by %s, %d"), b->author, b->year);
    else
        snprintf(line, sizeof line, _("by %s"), b->author);
    ui_label(w->ui, x, y, mw, UI_FONT_NORMAL, cw_text, line);
    y += CW_LINE + 2;
    snprintf(line, sizeof line, _("ISBN %s · session %lld, request %lld"), b->isbn,
             (long long)b->session, (long long)b->request_id);
    ui_label(w->ui, x, y, mw, UI_FONT_SMALL, cw_grey, line);
    y += CW_SMALL_LINE;
    clock_format(b->server_time_us, false, t, sizeof t);
    snprintf(line, sizeof line, _("served at %s by app server %d"), t, b->server);
    ui_label(w->ui, x, y, mw, UI_FONT_SMALL, cw_grey, line);
}

/* A reason like "host program N version 1: why" on two lines, broken after the first
 * ": " (each line cut with "..." if it is still too wide). */
static void cw_reason(struct cw *w, int y, SDL_Color c, const char *why)
{
    const char *cut = strstr(why, ": ");
    char first[200];
    if (!cut) {
        ui_label(w->ui, CW_MARGIN, y, CW_INNER, UI_FONT_SMALL, c, why);
        return;
    }
    snprintf(first, sizeof first, "%.*s", (int)(cut - why + 1), why);
    ui_label(w->ui, CW_MARGIN, y, CW_INNER, UI_FONT_SMALL, c, first);
    ui_label(w->ui, CW_MARGIN, y + CW_SMALL_LINE, CW_INNER, UI_FONT_SMALL, c, cut + 2);
}

/* What the server's STATUS says, then what is happening or went wrong. */
static void cw_status(struct cw *w)
{
    const struct booker_view *v = &w->view;
    char info[160] = "", line[260];
    SDL_Color c = cw_grey;
    if (v->have_status && v->reachable)
        snprintf(info, sizeof info,
                 ngettext("session %lld: %d of %d book left", "session %lld: %d of %d books left",
                          (unsigned long)v->books_total),
                 (long long)v->session, v->books_left, v->books_total);
    if (v->busy == BOOKER_REQUEST) {
        snprintf(line, sizeof line, "%s", _("asking…"));
        c = cw_busy;
    } else if (v->busy == BOOKER_RESTART) {
        snprintf(line, sizeof line, "%s", _("starting a new session…"));
        c = cw_busy;
    } else if (!v->known) {
        snprintf(line, sizeof line, "%s", _("connecting to the app server…"));
    } else if (!v->reachable) {
        /* The STATUS line is stale: the three lines say why instead. */
        ui_label(w->ui, CW_MARGIN, CW_STATUS_Y, CW_INNER, UI_FONT_SMALL, cw_error,
                 w->cfg->servers->count == 1 ? _("app server unreachable:")
                                             : _("no app server answers:"));
        cw_reason(w, CW_STATUS_Y + CW_SMALL_LINE, cw_error, v->unreachable);
        return;
    } else if (v->result[0]) {
        snprintf(line, sizeof line, "%s", v->result);
        c = v->result_error ? cw_error : cw_grey;
    } else if (v->have_status && !v->database_ok) {
        snprintf(line, sizeof line, "%s", _("books database unavailable"));
        c = cw_error;
    } else if (v->have_status && !v->replication_ok) {
        snprintf(line, sizeof line, "%s", _("replication unavailable, try again"));
        c = cw_error;
    } else {
        snprintf(line, sizeof line, "%s", _("ready"));
    }
    ui_label(w->ui, CW_MARGIN, CW_STATUS_Y, CW_INNER, UI_FONT_SMALL, cw_grey, info);
    /* Two lines for it (a failure's reason, a text grown in translation). */
    ui_text_lines(w->ui, CW_MARGIN, CW_STATUS_Y + CW_SMALL_LINE, CW_INNER, 2, CW_SMALL_LINE,
                  UI_FONT_SMALL, c, line);
}

static void cw_dialog(struct cw *w)
{
    const char *const buttons[] = {_("Exit"), _("New session")};
    const struct booker_summary *s = &w->over;
    char text[600], users[80];
    /* Short lines (broken here; a line too long for the box wraps), so the dialog and its
     * buttons keep one place (up to five-digit book counts). */
    snprintf(users, sizeof users, ngettext("to %d user.", "to %d users.", (unsigned long)s->users),
             s->users);
    snprintf(text, sizeof text,
             ngettext("Session %lld is over:\n%d of %d book handed out\n(%s)\n%s\n%s",
                      "Session %lld is over:\n%d of %d books handed out\n(%s)\n%s\n%s",
                      (unsigned long)s->books_total),
             (long long)s->session, s->handed_out, s->books_total,
             s->by_server[0] ? s->by_server : _("none"), users, _("Exit, or start a new session?"));
    int k = ui_dialog(w->ui, _("All books have been handed out"), text, buttons, 2);
    if (k == 0) {
        log_info("window", "session %" PRId64 " over: exit", s->session);
        w->exit = true;
    } else if (k == 1 && booker_restart(&w->booker, s->session)) {
        log_info("window", "session %" PRId64 " over: asking for a new session", s->session);
        w->dialog = false;
    }
}

/* One frame's widgets, in drawing order; acts on what was clicked. */
static void cw_draw(struct cw *w)
{
    booker_view(&w->booker, &w->view);
    if (w->view.sessions_over != w->overs_seen) {
        w->overs_seen = w->view.sessions_over;
        w->over = w->view.over;
        w->dialog = true;
    }
    clock_panel(w->ui, cw_panel_r, &w->panel);
    bool idle = w->view.busy == BOOKER_IDLE && !w->dialog;
    if (ui_button(w->ui, cw_request_r, _("Request book"), idle))
        booker_request(&w->booker);
    cw_book(w);
    struct clock_state cs;
    clock_snapshot(w->cfg->clock, &cs);
    offset_history_update(&w->history, &cs);
    offset_history_draw(w->ui, cw_history_r, &w->history, _("Offset"), CW_HISTORY_SLOTS, 8,
                        true);
    cw_status(w);
    if (w->dialog)
        cw_dialog(w);
}

static void cw_screenshot(struct cw *w)
{
    char err[300];
    if (!w->cfg->screenshot)
        return;
    if (ui_screenshot(w->ui, w->cfg->screenshot, err, sizeof err) < 0)
        log_warn("window", "screenshot: %s", err);
    else
        log_info("window", "screenshot written to %s", w->cfg->screenshot);
}

int cl_window_run(const struct cl_window_config *cfg, char *err, size_t errlen)
{
    static struct cw w; /* one window per process; too big for a comfortable stack frame */
    memset(&w, 0, sizeof w);
    w.cfg = cfg;
    char title[160], list[100] = "";
    size_t at = 0;
    for (int i = 0; i < cfg->servers->count && at < sizeof list; i++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%d", i ? ", " : "",
                               cfg->servers->server[i].instance);
    snprintf(title, sizeof title,
             cfg->servers->count == 1 ? _("Bibliotime: client %s (app server %s)")
                                      : _("Bibliotime: client %s (app servers %s)"),
             cfg->name, list);
    struct ui_config uc = {title, cfg->x, cfg->y, CW_W, CW_H};
    w.ui = ui_open(&uc, err, errlen);
    if (!w.ui)
        return -1;
    struct booker_config bc = {
        .clock = cfg->clock, .servers = cfg->servers, .name = cfg->name,
        .rpc_timeout_ms = cfg->rpc_timeout_ms, .try_timeout_ms = cfg->try_timeout_ms,
        .deadline_ms = cfg->deadline_ms, .follow = cfg->follow, .follow_ctx = cfg->follow_ctx};
    int rc = booker_start(&w.booker, &bc);
    if (rc != 0) {
        snprintf(err, errlen, "starting the request thread: %s", strerror(rc));
        ui_close(w.ui);
        return -1;
    }
    clock_panel_init(&w.panel, cfg->clock);
    offset_history_init(&w.history);
    char where[FAILOVER_MAX_SERVERS * 32] = "";
    at = 0;
    for (int i = 0; i < cfg->servers->count && at < sizeof where; i++)
        at += (size_t)snprintf(where + at, sizeof where - at, "%s%s:%d", i ? ", " : "",
                               cfg->servers->server[i].host, cfg->servers->server[i].instance);
    log_info("window", "open at %d,%d for %s, app servers %s", cfg->x, cfg->y, cfg->name, where);
    /* The screenshot at the end holds what the window showed last, dialog included: on
     * "Exit" or a stop the frame is drawn but not shown; once closed, ui_begin leaves the
     * last frame shown in place (drawing it again would darken the blended text). */
    for (;;) {
        bool open = ui_begin(w.ui, CW_WAIT_MS);
        bool end = !open || rpcserver_stopping();
        bool shot = open && ui_key_pressed(w.ui, SDLK_F12);
        if (open)
            cw_draw(&w);
        end = end || w.exit;
        if (shot || (end && cfg->screenshot))
            cw_screenshot(&w);
        if (end)
            break;
        ui_end(w.ui);
    }
    log_info("window", "closed");
    ui_close(w.ui);
    booker_stop(&w.booker);
    return 0;
}

/* window: an app server's window (640 x 400).
 *
 *   +--------------------------------------------+--------------+
 *   | clock panel (10,10 460x170): face, Modify  | cover canvas |
 *   |                                            | (480,10      |
 *   +--------------------------------------------+  150x225)    |
 *   | [Restart] (10,190 130x34) what it did      |              |
 *   | session and books left                     +--------------+
 *   | last book handed out: title, author, user  |  caption     |
 *   |                                            | own offset   |
 *   |                                            | (480,262     |
 *   |                                            |  150x112)    |
 *   | what is unreachable (books DB, replication server)        |
 *   +-----------------------------------------------------------+
 *
 * The UI thread never waits on the network or a database: the replica's status and
 * the covers come from asview's threads, "Restart" runs on restarter's thread. */
#include "window.h"

#include "asview.h"
#include "clock_panel.h"
#include "i18n.h"
#include "log.h"
#include "offset_history.h"
#include "restarter.h"
#include "rpcserver.h"
#include "ui.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AS_W 640
#define AS_H 400
#define AS_FRAME_WAIT_MS 100        /* an idle window draws about 10 frames a second */
#define AS_MESSAGE_SHOW_MS 20000    /* how long "new session opened" stays */

static const SDL_Rect AS_CLOCK = {10, 10, 460, 170};
static const SDL_Rect AS_COVER = {480, 10, 150, 225};
static const SDL_Rect AS_RESTART = {10, 190, 130, 34};
static const SDL_Rect AS_HISTORY = {480, 262, 150, 112};
#define AS_HISTORY_SLOTS 20

static const SDL_Color AS_TEXT = {30, 34, 40, 255};
static const SDL_Color AS_DIM = {96, 102, 112, 255};
static const SDL_Color AS_BAD = {180, 30, 30, 255};
static const SDL_Color AS_GOOD = {20, 110, 50, 255};

struct as_window {
    const struct as_window_config *cfg;
    struct ui *ui;
    struct clock_panel panel;
    struct offset_history history;
    struct asview view;
    struct restarter restart;
    bool view_up, restart_up;
    struct asview_snapshot snap;
    /* The cover on the canvas: a copy kept while the same book is the last one, so the
     * widget keeps its decoded texture. */
    int cover_book;
    bool cover_known;
    unsigned char *cover_png;
    size_t cover_len;
    char cover_why[300];
};

/* Follows the last book handed out: asks asview for its cover until it is known. */
static void as_update_cover(struct as_window *w)
{
    int id = w->snap.ready ? w->snap.st.last_book_id : 0;
    if (id != w->cover_book) {
        free(w->cover_png);
        w->cover_png = NULL;
        w->cover_len = 0;
        w->cover_book = id;
        w->cover_known = id == 0;
        w->cover_why[0] = '\0';
    }
    if (!w->cover_known)
        w->cover_known = asview_cover(&w->view, id, &w->cover_png, &w->cover_len, w->cover_why,
                                      sizeof w->cover_why) == 1;
}

static void as_draw_cover(struct as_window *w)
{
    ui_image(w->ui, AS_COVER, w->cover_png, w->cover_len);
    const char *caption;
    SDL_Color color = AS_DIM;
    if (!w->snap.ready || w->cover_book == 0)
        caption = _("no book yet");
    else if (w->cover_png)
        caption = _("cover of the last book");
    else if (w->cover_known)
        caption = _("this book has no cover");
    else if (w->cover_why[0]) {
        caption = _("cover: books DB down");
        color = AS_BAD;
    } else
        caption = _("loading the cover…");
    ui_label(w->ui, AS_COVER.x, AS_COVER.y + AS_COVER.h + 6, AS_COVER.w, UI_FONT_SMALL, color,
             caption);
}

/* What restarter says (English: it is logged too), in the window's language. */
static void as_restart_text(const char *m, char *buf, size_t len)
{
    long long n;
    if (strcmp(m, "opening a new session...") == 0)
        snprintf(buf, len, "%s", _("opening a new session…"));
    else if (strcmp(m, "failed: replication log unavailable") == 0)
        snprintf(buf, len, "%s", _("failed: replication log unavailable"));
    else if (strcmp(m, "failed: refused by the replication server") == 0)
        snprintf(buf, len, "%s", _("failed: refused by the replication server"));
    else if (sscanf(m, "new session opened (session %lld)", &n) == 1)
        snprintf(buf, len, _("new session opened (session %lld)"), n);
    else if (sscanf(m, "already renewed: session %lld", &n) == 1)
        snprintf(buf, len, _("already renewed: session %lld"), n);
    else if (sscanf(m, "session %lld not applied yet", &n) == 1)
        snprintf(buf, len, _("session %lld not applied yet"), n);
    else
        snprintf(buf, len, "%s", m);
}

/* The button and, beside it, what the last click did (for a while). */
static void as_draw_restart(struct as_window *w, struct restarter_state *rs)
{
    restarter_state(&w->restart, rs);
    bool enabled = w->snap.ready && !rs->busy;
    if (ui_button(w->ui, AS_RESTART, _("Restart"), enabled)) {
        log_info("window", "Restart clicked: a new session after session %" PRId64,
                 w->snap.st.session);
        restarter_request(&w->restart, w->snap.st.session);
        restarter_state(&w->restart, rs);
    }
    if (!rs->busy && rs->age_ms >= AS_MESSAGE_SHOW_MS)
        rs->message[0] = rs->detail[0] = '\0';
    int x = AS_RESTART.x + AS_RESTART.w + 10, y = AS_RESTART.y + 7, mw = 470 - x;
    char shown[sizeof rs->message + 64];
    as_restart_text(rs->message, shown, sizeof shown);
    if (rs->message[0])
        ui_label(w->ui, x, y, mw, ui_font_fit(w->ui, UI_FONT_NORMAL, shown, mw),
                 rs->busy ? AS_DIM : rs->failed ? AS_BAD : AS_GOOD, shown);
    else if (w->snap.ready)
        ui_label(w->ui, x, y + 2, mw, UI_FONT_SMALL, AS_DIM,
                 _("opens a new session on both servers"));
}

/* The session, the last book handed out and to whom. */
static void as_draw_books(struct as_window *w)
{
    char line[512];
    const struct replica_status *s = &w->snap.st;
    if (!w->snap.ready) {
        ui_label(w->ui, 10, 236, 460, UI_FONT_BOLD, AS_TEXT,
                 _("Starting: catching up with the replication log…"));
        ui_label(w->ui, 10, 262, 460, UI_FONT_SMALL, AS_DIM,
                 _("Books are handed out once this server's view is current."));
        return;
    }
    if (s->session == 0)
        snprintf(line, sizeof line, "%s", _("No session open yet"));
    else if (s->books_left == 0)
        snprintf(line, sizeof line, _("Session %lld: all books handed out"),
                 (long long)s->session);
    else
        snprintf(line, sizeof line,
                 ngettext("Session %lld: %d of %d book left", "Session %lld: %d of %d books left",
                          (unsigned long)s->books_total),
                 (long long)s->session, s->books_left, s->books_total);
    ui_label(w->ui, 10, 236, 460, UI_FONT_BOLD, AS_TEXT, line);
    ui_label(w->ui, 10, 262, 460, UI_FONT_SMALL, AS_DIM,
             _("Last book this server handed out:"));
    if (s->last_book_id == 0) {
        ui_label(w->ui, 10, 279, 460, UI_FONT_NORMAL, AS_DIM, _("none yet"));
        return;
    }
    snprintf(line, sizeof line, "%s", w->snap.title[0] ? w->snap.title : _("(unknown title)"));
    ui_label(w->ui, 10, 279, 460, UI_FONT_BOLD, AS_TEXT, line);
    if (w->snap.author[0]) {
        snprintf(line, sizeof line, _("by %s"), w->snap.author);
        ui_label(w->ui, 10, 300, 460, UI_FONT_NORMAL, AS_TEXT, line);
    }
    snprintf(line, sizeof line, _("requested by %s"), s->last_user[0] ? s->last_user : _("(unknown)"));
    ui_label(w->ui, 10, 321, 460, UI_FONT_NORMAL, AS_TEXT, line);
}

/* At the bottom, full width: what this server cannot reach, and why Restart failed. */
static void as_draw_health(struct as_window *w, const struct restarter_state *rs)
{
    const struct replica_status *s = &w->snap.st;
    char line[3][600];
    int n = 0;
    if (w->snap.ready && !s->db_ok) {
        /* Mostly "books DB unavailable: connecting to 'CONNINFO': why": keep the why. The
         * reason is English (it is also logged); its beginning is said in the window's
         * language. */
        const char *e = s->db_error, *c = strstr(e, "connecting to '");
        const char *q = c ? strstr(c, "': ") : NULL;
        static const char unavailable[] = "books DB unavailable: ", other[] = "books DB: ";
        if (strncasecmp(e, unavailable, sizeof unavailable - 1) == 0)
            snprintf(line[n++], sizeof line[0], _("Books DB unavailable: %s"),
                     q ? q + 3 : e + sizeof unavailable - 1);
        else if (strncasecmp(e, other, sizeof other - 1) == 0)
            snprintf(line[n++], sizeof line[0], _("Books DB: %s"), e + sizeof other - 1);
        else
            snprintf(line[n++], sizeof line[0], _("Books DB unreachable: %s"),
                     e[0] ? e : _("no answer"));
    }
    if (w->snap.ready && !s->repl_ok)
        snprintf(line[n++], sizeof line[0], _("Replication server unreachable: %s"),
                 s->repl_error[0] ? s->repl_error : _("no answer"));
    if (rs->failed && rs->detail[0])
        snprintf(line[n++], sizeof line[0], _("Restart: %s"), rs->detail);
    int y = 394 - 16 * (n ? n : 1);
    if (n == 0)
        ui_label(w->ui, 10, y, 620, UI_FONT_SMALL, w->snap.ready ? AS_GOOD : AS_DIM,
                 w->snap.ready ? _("Books DB and replication server reachable.")
                               : _("Waiting for the books DB and the replication server."));
    /* Lines that would run into the offset history stop short of it. */
    for (int i = 0; i < n; i++)
        ui_label(w->ui, 10, y + 16 * i, y + 16 * i < AS_HISTORY.y + AS_HISTORY.h ? 460 : 620,
                 UI_FONT_SMALL, AS_BAD, line[i]);
}

static void as_draw(struct as_window *w)
{
    asview_get(&w->view, &w->snap);
    as_update_cover(w);
    clock_panel(w->ui, AS_CLOCK, &w->panel);
    struct clock_state cs;
    clock_snapshot(w->cfg->clock, &cs);
    offset_history_update(&w->history, &cs);
    offset_history_draw(w->ui, AS_HISTORY, &w->history, _("Offset"),
                        AS_HISTORY_SLOTS, 0, false);
    as_draw_cover(w);
    struct restarter_state rs;
    as_draw_restart(w, &rs);
    as_draw_books(w);
    as_draw_health(w, &rs);
}

static void as_window_free(struct as_window *w)
{
    if (w->restart_up)
        restarter_stop(&w->restart);
    if (w->view_up)
        asview_stop(&w->view);
    if (w->ui)
        ui_close(w->ui);
    free(w->cover_png);
    free(w);
}

static void as_draw_frame(void *w)
{
    as_draw(w);
}

int as_window_run(const struct as_window_config *cfg, char *err, size_t errlen)
{
    struct as_window *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->cfg = cfg;
    char title[64];
    snprintf(title, sizeof title, _("Bibliotime: app server %d"), cfg->instance);
    struct ui_config uc = {title, cfg->x, cfg->y, AS_W, AS_H};
    w->ui = ui_open(&uc, err, errlen);
    if (!w->ui) {
        as_window_free(w);
        return -1;
    }
    int rc = asview_start(&w->view, cfg->replica, cfg->ready, cfg->db_conninfo);
    w->view_up = rc == 0;
    if (rc == 0) {
        rc = restarter_start(&w->restart, cfg->replica, cfg->instance, cfg->repl_host,
                             cfg->rpc_timeout_ms);
        w->restart_up = rc == 0;
    }
    if (rc != 0) {
        snprintf(err, errlen, "starting the window's threads: %s", strerror(rc));
        as_window_free(w);
        return -1;
    }
    clock_panel_init(&w->panel, cfg->clock);
    offset_history_init(&w->history);
    ui_run(w->ui, AS_FRAME_WAIT_MS, as_draw_frame, w, rpcserver_stopping, cfg->screenshot);
    as_window_free(w);
    return 0;
}

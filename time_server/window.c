/* window: the time server's window (640 x 400).
 *
 *   +--------------------------------------------+-------------+
 *   | clock panel (10,10 460x170): face, Modify  | round, TM,  |
 *   |                                            | nodes       |
 *   +--------------------------------------------+-------------+
 *   | UTC source: where, last offset and round trip (or why none) |
 *   | table of joined nodes (10,218 620x152), 5 rows visible      |
 *   | why nodes were skipped in the last round                    |
 *   +-------------------------------------------------------------+
 *
 * Everything shown is copied each frame from the clock, the node table and the rounds'
 * status, each behind its own short mutex: nothing here waits on the network or the DB. */
#include "window.h"

#include "clock_panel.h"
#include "log.h"
#include "rpcserver.h"
#include "ui.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_W 640
#define TS_H 400
#define TS_FRAME_WAIT_MS 100   /* an idle window draws about 10 frames a second */

#define TS_NCOLS 6
#define TS_CELL 240

static const SDL_Rect TS_CLOCK = {10, 10, 460, 170};
static const SDL_Rect TS_TABLE = {10, 218, 620, 152};
static const int TS_SIDE_X = 484, TS_SIDE_W = 146;

static const SDL_Color TS_TEXT = {30, 34, 40, 255};
static const SDL_Color TS_DIM = {96, 102, 112, 255};
static const SDL_Color TS_BAD = {180, 30, 30, 255};
static const SDL_Color TS_GOOD = {20, 110, 50, 255};

static const char *const ts_titles[TS_NCOLS] = {"Node", "Address", "Last delta", "RTT",
                                                "Adj.", "State"};
static const int ts_widths[TS_NCOLS] = {96, 90, 114, 90, 50, 180};

struct ts_window {
    const struct ts_window_config *cfg;
    struct ui *ui;
    struct clock_panel panel;
    struct rounds_status st;
    struct node_info node[NODES_MAX];
    size_t nnodes;
    char cell[NODES_MAX * TS_NCOLS][TS_CELL];
    const char *cellp[NODES_MAX * TS_NCOLS];
};

/* A duration or offset: microseconds below 1 ms, milliseconds with 3 decimals below
 * 1 s, seconds with 3 decimals beyond (a clock set by hand can be hours off). */
static void ts_format_us(int64_t us, bool sign, char *buf, size_t len)
{
    int64_t a = us < 0 ? -us : us;
    const char *s = us < 0 ? "-" : sign ? "+" : "";
    if (a < 1000)
        snprintf(buf, len, "%s%" PRId64 " us", s, a);
    else if (a < INT64_C(1000000))
        snprintf(buf, len, "%s%" PRId64 ".%03" PRId64 " ms", s, a / 1000, a % 1000);
    else
        snprintf(buf, len, "%s%" PRId64 ".%03" PRId64 " s", s, a / 1000000, a / 1000 % 1000);
}

static void ts_fill_cells(struct ts_window *w)
{
    for (size_t i = 0; i < w->nnodes; i++) {
        const struct node_info *n = &w->node[i];
        char(*c)[TS_CELL] = &w->cell[i * TS_NCOLS];
        snprintf(c[0], TS_CELL, "%s", n->name);
        snprintf(c[1], TS_CELL, "%s", n->address[0] ? n->address : n->host);
        snprintf(c[2], TS_CELL, "-");
        snprintf(c[3], TS_CELL, "-");
        snprintf(c[4], TS_CELL, "-");
        switch (n->state) {
        case NODE_SYNCHRONISED:
            ts_format_us(n->last_delta_us, true, c[2], TS_CELL);
            ts_format_us(n->last_rtt_us, false, c[3], TS_CELL);
            snprintf(c[4], TS_CELL, "%s", n->last_policy == CLOCK_POLICY_STEP   ? "step"
                                          : n->last_policy == CLOCK_POLICY_SLEW ? "slew"
                                                                                : "-");
            snprintf(c[5], TS_CELL, "synchronised");
            break;
        case NODE_SKIPPED:
            if (n->last_rtt_us > 0)
                ts_format_us(n->last_rtt_us, false, c[3], TS_CELL);
            snprintf(c[5], TS_CELL, "skipped: %s", n->reason[0] ? n->reason : "no reason given");
            break;
        default:
            snprintf(c[5], TS_CELL, "new: no round yet");
            break;
        }
        for (int k = 0; k < TS_NCOLS; k++)
            w->cellp[i * TS_NCOLS + (size_t)k] = c[k];
    }
}

/* The column right of the clock: round count, TM and how many nodes joined. */
static void ts_draw_side(struct ts_window *w)
{
    char buf[64];
    int x = TS_SIDE_X, mw = TS_SIDE_W;
    ui_label(w->ui, x, 14, mw, UI_FONT_SMALL, TS_DIM, "Round");
    if (w->st.last_round > 0)
        snprintf(buf, sizeof buf, "%" PRId64, w->st.last_round);
    else
        snprintf(buf, sizeof buf, "none yet");
    ui_label(w->ui, x, 32, mw, UI_FONT_LARGE, TS_TEXT, buf);
    ui_label(w->ui, x, 80, mw, UI_FONT_SMALL, TS_DIM, "TM (round period)");
    if (w->st.tm_ms > 0)
        snprintf(buf, sizeof buf, "%g s", w->st.tm_ms / 1000.0);
    else
        snprintf(buf, sizeof buf, "-");
    ui_label(w->ui, x, 98, mw, UI_FONT_BOLD, TS_TEXT, buf);
    ui_label(w->ui, x, 130, mw, UI_FONT_SMALL, TS_DIM, "Joined nodes");
    snprintf(buf, sizeof buf, "%zu", w->nnodes);
    ui_label(w->ui, x, 148, mw, UI_FONT_BOLD, TS_TEXT, buf);
}

/* One line: where UTC comes from and what the last round got from it (or why not). */
static void ts_draw_utc(struct ts_window *w)
{
    char line[700], off[40], rtt[40];
    const struct rounds_status *s = &w->st;
    SDL_Color color = TS_GOOD;
    if (s->utc_ok) {
        ts_format_us(s->utc_offset_us, true, off, sizeof off);
        ts_format_us(s->utc_rtt_us, false, rtt, sizeof rtt);
        snprintf(line, sizeof line, "%s   offset %s   round trip %s", s->utc_source, off, rtt);
    } else if (s->last_round == 0) {
        snprintf(line, sizeof line, "waiting for the first round");
        color = TS_DIM;
    } else if (strstr(s->utc_error, "no --utc-server")) {
        snprintf(line, sizeof line, "none given: the coordinator keeps its own clock");
        color = TS_DIM;
    } else if (strstr(s->utc_error, "set by hand")) {
        snprintf(line, sizeof line, "%s", s->utc_error);
        color = TS_DIM;
    } else {
        snprintf(line, sizeof line, "unreachable, own clock kept: %s",
                 s->utc_error[0] ? s->utc_error : "no answer");
        color = TS_BAD;
    }
    ui_label(w->ui, 10, 192, 90, UI_FONT_SMALL, TS_DIM, "UTC source");
    ui_label(w->ui, 92, 189, 538, UI_FONT_NORMAL, color, line);
}

/* Under the table, in full (the State column cuts it): why nodes were skipped, the
 * nodes skipped for the same reason together. */
static void ts_draw_skipped(struct ts_window *w)
{
    char line[1024] = "";
    size_t used = 0, skipped = 0;
    bool done[NODES_MAX] = {false};
    for (size_t i = 0; i < w->nnodes && used < sizeof line - 1; i++) {
        const struct node_info *n = &w->node[i];
        if (n->state != NODE_SKIPPED || done[i])
            continue;
        int k = snprintf(line + used, sizeof line - used, "%s%s", skipped ? "; " : "Skipped ",
                         n->name);
        used += k > 0 ? (size_t)k : 0;
        for (size_t j = i + 1; j < w->nnodes && used < sizeof line - 1; j++) {
            const struct node_info *m = &w->node[j];
            if (m->state == NODE_SKIPPED && !done[j] && strcmp(m->reason, n->reason) == 0) {
                done[j] = true;
                k = snprintf(line + used, sizeof line - used, ", %s", m->name);
                used += k > 0 ? (size_t)k : 0;
            }
        }
        if (used < sizeof line - 1) {
            k = snprintf(line + used, sizeof line - used, ": %s", n->reason);
            used += k > 0 ? (size_t)k : 0;
        }
        skipped++;
    }
    int y = TS_TABLE.y + TS_TABLE.h + 4;
    if (skipped)
        ui_label(w->ui, 10, y, 620, UI_FONT_SMALL, TS_BAD, line);
    else if (w->nnodes > 0 && w->st.last_round > 0)
        ui_label(w->ui, 10, y, 620, UI_FONT_SMALL, TS_DIM, "No node skipped in the last round.");
}

static void ts_draw(struct ts_window *w)
{
    rounds_status(w->cfg->rounds, &w->st);
    w->nnodes = nodes_copy(w->cfg->nodes, w->node, NODES_MAX);
    ts_fill_cells(w);

    clock_panel(w->ui, TS_CLOCK, &w->panel);
    ts_draw_side(w);
    ts_draw_utc(w);
    ui_table(w->ui, TS_TABLE, ts_titles, ts_widths, TS_NCOLS, w->cellp, (int)w->nnodes);
    if (w->nnodes == 0)
        ui_label(w->ui, TS_TABLE.x + 8, TS_TABLE.y + 40, TS_TABLE.w - 16, UI_FONT_NORMAL, TS_DIM,
                 "No node has joined yet.");
    ts_draw_skipped(w);
}

static void ts_draw_frame(void *w)
{
    ts_draw(w);
}

int ts_window_run(const struct ts_window_config *cfg, char *err, size_t errlen)
{
    struct ts_window *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->cfg = cfg;
    struct ui_config uc = {"Bibliotime - time server", cfg->x, cfg->y, TS_W, TS_H};
    w->ui = ui_open(&uc, err, errlen);
    if (!w->ui) {
        free(w);
        return -1;
    }
    clock_panel_init(&w->panel, cfg->clock);
    ui_run(w->ui, TS_FRAME_WAIT_MS, ts_draw_frame, w, rpcserver_stopping, cfg->screenshot);
    ui_close(w->ui);
    free(w);
    return 0;
}

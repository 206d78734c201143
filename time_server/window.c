/* window: the time server's window (640 x 400).
 *
 *   +------------------------+---------------------------------------+
 *   | clock panel            | synchronisation chart (270,10 360x208)|
 *   | (10,10 250x150)        | each node's correction per round,     |
 *   | face, Modify           | +/- RTT/2 band, the UTC offset,       |
 *   | round, TM, nodes       | symmetric-log axis, last 5 minutes    |
 *   | UTC source, offset     |                                       |
 *   +------------------------+---------------------------------------+
 *   | table of joined nodes (10,226 620x152), 5 rows, each with its colour |
 *   | why nodes were skipped in the last round                            |
 *   +---------------------------------------------------------------------+
 *
 * Everything shown is copied each frame from the clock, the node table and the rounds'
 * status, each behind its own short mutex: nothing here waits on the network or the DB.
 * The chart keeps its own history of the rounds it saw (time_server/chart.c). */
#include "window.h"

#include "chart.h"
#include "clock_panel.h"
#include "i18n.h"
#include "log.h"
#include "rpcserver.h"
#include "ui.h"
#include "ui_chart.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_W 640
#define TS_H 400
#define TS_FRAME_WAIT_MS 100   /* an idle window draws about 10 frames a second */

#define TS_NCOLS 6
#define TS_CELL 240

static const SDL_Rect TS_CLOCK = {10, 10, 250, 150};
static const SDL_Rect TS_CHART = {270, 10, 360, 208};
static const SDL_Rect TS_TABLE = {10, 226, 620, 152};
static const int TS_INFO_Y = 166, TS_UTC_Y = 185, TS_LEFT_W = 250;

static const SDL_Color TS_TEXT = {30, 34, 40, 255};
static const SDL_Color TS_DIM = {96, 102, 112, 255};
static const SDL_Color TS_BAD = {180, 30, 30, 255};
static const SDL_Color TS_GOOD = {20, 110, 50, 255};

static const char *const ts_titles[TS_NCOLS] = {N_("Node"), N_("Address"), N_("Last delta"),
                                                N_("RTT"), N_("Adj."), N_("State")};
static const int ts_widths[TS_NCOLS] = {92, 98, 126, 76, 76, 152};

struct ts_window {
    const struct ts_window_config *cfg;
    struct ui *ui;
    struct clock_panel panel;
    struct rounds_status st;
    struct node_info node[NODES_MAX];
    size_t nnodes;
    struct ts_chart chart;
    const char *titles[TS_NCOLS];
    char cell[NODES_MAX * TS_NCOLS][TS_CELL];
    const char *cellp[NODES_MAX * TS_NCOLS];
    SDL_Color swatch[NODES_MAX];
};

/* A skip reason as the round thread wrote it (English: it goes into the log and the
 * clock DB), in the window's language: the known beginnings are translated, the rest
 * (an RPC error, a node's own message) is shown as it came. */
static void ts_reason_text(const char *reason, char *buf, size_t len)
{
    static const struct {
        const char *prefix, *format;
    } known[] = {
        {"unreachable: ", N_("unreachable: %s")},
        {"correction refused: ", N_("correction refused: %s")},
    };
    static const struct {
        const char *text, *shown;
    } whole[] = {
        {"clock being set by hand", N_("clock being set by hand")},
        {"the coordinator's clock is being set by hand",
         N_("the coordinator's clock is being set by hand")},
        {"the correction could not be signed", N_("the correction could not be signed")},
    };
    if (!reason[0]) {
        snprintf(buf, len, "%s", _("no reason given"));
        return;
    }
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
        if (strcmp(reason, whole[i].text) == 0) {
            snprintf(buf, len, "%s", _(whole[i].shown));
            return;
        }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i].prefix);
        if (strncmp(reason, known[i].prefix, n) == 0) {
            snprintf(buf, len, _(known[i].format), reason + n);
            return;
        }
    }
    snprintf(buf, len, "%s", reason);
}

static void ts_fill_cells(struct ts_window *w)
{
    for (size_t i = 0; i < w->nnodes; i++) {
        const struct node_info *n = &w->node[i];
        char(*c)[TS_CELL] = &w->cell[i * TS_NCOLS];
        char why[TS_CELL];
        snprintf(c[0], TS_CELL, "%s", n->name);
        snprintf(c[1], TS_CELL, "%s", n->address[0] ? n->address : n->host);
        snprintf(c[2], TS_CELL, "-");
        snprintf(c[3], TS_CELL, "-");
        snprintf(c[4], TS_CELL, "-");
        switch (n->state) {
        case NODE_SYNCHRONISED:
            ui_format_us(n->last_delta_us, true, c[2], TS_CELL);
            ui_format_us(n->last_rtt_us, false, c[3], TS_CELL);
            snprintf(c[4], TS_CELL, "%s", n->last_policy == CLOCK_POLICY_STEP   ? _("step")
                                          : n->last_policy == CLOCK_POLICY_SLEW ? _("slew")
                                                                                : "-");
            snprintf(c[5], TS_CELL, "%s", _("synchronised"));
            break;
        case NODE_SKIPPED:
            if (n->last_rtt_us > 0)
                ui_format_us(n->last_rtt_us, false, c[3], TS_CELL);
            ts_reason_text(n->reason, why, sizeof why);
            snprintf(c[5], TS_CELL, _("skipped: %s"), why);
            break;
        default:
            snprintf(c[5], TS_CELL, "%s", _("not probed yet"));
            break;
        }
        for (int k = 0; k < TS_NCOLS; k++)
            w->cellp[i * TS_NCOLS + (size_t)k] = c[k];
        w->swatch[i] = ts_chart_color(&w->chart, n->name);
    }
}

/* Under the clock: the round count and TM (how many nodes joined: under the table). */
static void ts_draw_info(struct ts_window *w)
{
    char round[64], tm[40], line[200];
    if (w->st.last_round > 0)
        snprintf(round, sizeof round, _("Round %lld"), (long long)w->st.last_round);
    else
        snprintf(round, sizeof round, "%s", _("No round yet"));
    if (w->st.tm_ms > 0)
        snprintf(tm, sizeof tm, "TM %g s", w->st.tm_ms / 1000.0);
    else
        snprintf(tm, sizeof tm, "TM -");
    snprintf(line, sizeof line, "%s \xc2\xb7 %s", round, tm);
    ui_label(w->ui, 10, TS_INFO_Y, TS_LEFT_W, UI_FONT_NORMAL, TS_TEXT, line);
}

/* Two lines: where UTC comes from and what the last round got from it (or why not). */
static void ts_draw_utc(struct ts_window *w)
{
    char first[400], second[700], off[40], rtt[40];
    const struct rounds_status *s = &w->st;
    SDL_Color color = TS_GOOD;
    second[0] = '\0';
    if (s->utc_ok) {
        ui_format_us(s->utc_offset_us, true, off, sizeof off);
        ui_format_us(s->utc_rtt_us, false, rtt, sizeof rtt);
        snprintf(first, sizeof first, _("UTC: %s"), s->utc_source);
        snprintf(second, sizeof second, _("offset %s \xc2\xb7 round trip %s"), off, rtt);
    } else if (s->last_round == 0) {
        snprintf(first, sizeof first, "%s", _("UTC: waiting for the first round"));
        color = TS_DIM;
    } else if (strstr(s->utc_error, "no --utc-server")) {
        snprintf(first, sizeof first, "%s", _("UTC: none given"));
        snprintf(second, sizeof second, "%s", _("the coordinator keeps its own clock"));
        color = TS_DIM;
    } else if (strstr(s->utc_error, "set by hand")) {
        snprintf(first, sizeof first, "%s", _("UTC: not asked"));
        snprintf(second, sizeof second, "%s", _("its clock is being set by hand"));
        color = TS_DIM;
    } else {
        snprintf(first, sizeof first, "%s", _("UTC unreachable, own clock kept:"));
        snprintf(second, sizeof second, "%s", s->utc_error[0] ? s->utc_error : _("no answer"));
        color = TS_BAD;
    }
    ui_label(w->ui, 10, TS_UTC_Y, TS_LEFT_W, UI_FONT_SMALL, color, first);
    if (second[0])
        ui_label(w->ui, 10, TS_UTC_Y + 17, TS_LEFT_W, UI_FONT_SMALL, color, second);
}

/* Under the table, in full (the State column cuts it): why nodes were skipped, the
 * nodes skipped for the same reason together. */
static void ts_draw_skipped(struct ts_window *w)
{
    char line[1024] = "", why[300];
    size_t used = 0, skipped = 0;
    bool done[NODES_MAX] = {false};
    for (size_t i = 0; i < w->nnodes && used < sizeof line - 1; i++) {
        const struct node_info *n = &w->node[i];
        if (n->state != NODE_SKIPPED || done[i])
            continue;
        int k = snprintf(line + used, sizeof line - used, "%s%s",
                         skipped ? "; " : _("Skipped "), n->name);
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
            ts_reason_text(n->reason, why, sizeof why);
            k = snprintf(line + used, sizeof line - used, ": %s", why);
            used += k > 0 ? (size_t)k : 0;
        }
        skipped++;
    }
    int y = TS_TABLE.y + TS_TABLE.h + 4;
    if (skipped)
        ui_label(w->ui, 10, y, 620, UI_FONT_SMALL, TS_BAD, line);
    else if (w->nnodes > 0 && w->st.last_round > 0) {
        snprintf(line, sizeof line,
                 ngettext("%zu node joined, none skipped in the last round.",
                          "%zu nodes joined, none skipped in the last round.", w->nnodes),
                 w->nnodes);
        ui_label(w->ui, 10, y, 620, UI_FONT_SMALL, TS_DIM, line);
    }
}

static void ts_draw(struct ts_window *w)
{
    rounds_status(w->cfg->rounds, &w->st);
    w->nnodes = nodes_copy(w->cfg->nodes, w->node, NODES_MAX);
    ts_chart_update(&w->chart, &w->st, w->node, w->nnodes);
    ts_fill_cells(w);

    clock_panel(w->ui, TS_CLOCK, &w->panel);
    ts_draw_info(w);
    ts_draw_utc(w);
    ts_chart_draw(&w->chart, w->ui, TS_CHART, w->st.tm_ms);
    for (int k = 0; k < TS_NCOLS; k++)
        w->titles[k] = _(ts_titles[k]);
    ui_table_swatches(w->ui, TS_TABLE, w->titles, ts_widths, TS_NCOLS, w->cellp, (int)w->nnodes,
                      w->swatch);
    if (w->nnodes == 0)
        ui_label(w->ui, TS_TABLE.x + 8, TS_TABLE.y + 40, TS_TABLE.w - 16, UI_FONT_NORMAL, TS_DIM,
                 _("No node has joined yet."));
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
    ts_chart_init(&w->chart);
    char title[160];
    snprintf(title, sizeof title, "%s", _("Bibliotime: time server"));
    struct ui_config uc = {title, cfg->x, cfg->y, TS_W, TS_H};
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

/* chart: the synchronisation drawn in the time server's window. Every round the window
 * sees (rounds_status says a new round is done, the node table holds its results) adds
 * a column: each node's correction (last delta) with +/- half its round trip as a band
 * (Cristian's bound: the window has the round trip, not the intersection's tighter
 * bound), nothing for a node skipped or not yet probed (a gap), and the coordinator's
 * own offset from UTC. The last five minutes are shown (at least 10 rounds, at most as
 * many as fit at 8 pixels apart), on ui_chart's symmetric-log axis, each node in its own
 * colour, which the node table shows beside its name. */
#ifndef TS_CHART_H
#define TS_CHART_H

#include "nodes.h"
#include "rounds.h"
#include "ui.h"
#include "ui_chart.h"

#define TS_CHART_RING 64          /* rounds kept (>= UI_CHART_MAX_SLOTS) */
#define TS_CHART_SPAN_MS 300000   /* what the chart shows: five minutes */
#define TS_CHART_MIN_SLOTS 10

struct ts_chart_node {
    char name[NODES_NAME_LEN];
    int color;                   /* index into the palette, in order of first sight */
    int64_t last_present;        /* the last round it had a point in */
    struct ui_chart_point pt[TS_CHART_RING];
};

struct ts_chart {
    int64_t last_round;          /* the newest round recorded; 0: none */
    int64_t round_of[TS_CHART_RING];  /* the round each ring entry holds */
    struct ui_chart_point utc[TS_CHART_RING];
    struct ts_chart_node node[NODES_MAX];
    size_t nnodes;
    int next_color;
};

void ts_chart_init(struct ts_chart *c);
/* Records the round st->last_round if it is new, from the node table's results. */
void ts_chart_update(struct ts_chart *c, const struct rounds_status *st,
                     const struct node_info *nodes, size_t n);
/* The colour of a node (its markers, the swatch in the table). */
SDL_Color ts_chart_color(const struct ts_chart *c, const char *name);
/* How many rounds the chart in r shows at this TM. */
int ts_chart_slots(struct ui *ui, SDL_Rect r, int tm_ms);
void ts_chart_draw(struct ts_chart *c, struct ui *ui, SDL_Rect r, int tm_ms);

/* The palette, in the order nodes get it, and the UTC series' colour (for the tests). */
#define TS_CHART_NCOLORS 8
extern const SDL_Color TS_CHART_PALETTE[TS_CHART_NCOLORS];
extern const SDL_Color TS_CHART_UTC_COLOR;

#endif

/* chart: the rounds' corrections drawn in the time server's window (chart.h). */
#include "chart.h"

#include "i18n.h"

#include <stdio.h>
#include <string.h>

/* Distinct on white and from each other (the first eight of matplotlib's "tab10" but
 * its grey, which the grid and text use). */
const SDL_Color TS_CHART_PALETTE[TS_CHART_NCOLORS] = {
    {31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255},  {148, 103, 189, 255},
    {214, 39, 40, 255},  {140, 86, 75, 255},  {227, 119, 194, 255}, {23, 190, 207, 255},
};
const SDL_Color TS_CHART_UTC_COLOR = {40, 40, 40, 255};

void ts_chart_init(struct ts_chart *c)
{
    memset(c, 0, sizeof *c);
}

static int ring(int64_t round)
{
    return (int)(round % TS_CHART_RING);
}

/* The node's series, added (with the next colour) if new; NULL when the table is full
 * of nodes that still have points on the chart. */
static struct ts_chart_node *chart_node(struct ts_chart *c, const char *name)
{
    for (size_t i = 0; i < c->nnodes; i++)
        if (strcmp(c->node[i].name, name) == 0)
            return &c->node[i];
    struct ts_chart_node *n = NULL;
    if (c->nnodes < NODES_MAX) {
        n = &c->node[c->nnodes++];
    } else {
        /* Reuse a node whose last point has left the ring. */
        for (size_t i = 0; i < c->nnodes && !n; i++)
            if (c->last_round - c->node[i].last_present >= TS_CHART_RING)
                n = &c->node[i];
        if (!n)
            return NULL;
    }
    memset(n, 0, sizeof *n);
    snprintf(n->name, sizeof n->name, "%s", name);
    n->color = c->next_color++ % TS_CHART_NCOLORS;
    return n;
}

/* An entry of the ring made to hold `round`, with nothing in it yet. */
static void clear_entry(struct ts_chart *c, int64_t round)
{
    int k = ring(round);
    c->round_of[k] = round;
    c->utc[k] = (struct ui_chart_point){0};
    for (size_t i = 0; i < c->nnodes; i++)
        c->node[i].pt[k] = (struct ui_chart_point){0};
}

void ts_chart_update(struct ts_chart *c, const struct rounds_status *st,
                     const struct node_info *nodes, size_t n)
{
    int64_t r = st->last_round;
    if (r <= 0 || r == c->last_round)
        return;
    if (r < c->last_round) /* a round numbering that went back: start again */
        ts_chart_init(c);
    /* Rounds this window did not see (it was not drawing): shown as gaps. */
    int64_t from = c->last_round + 1;
    if (from < r - TS_CHART_RING + 1)
        from = r - TS_CHART_RING + 1;
    for (int64_t q = from; q <= r; q++)
        clear_entry(c, q);
    c->last_round = r;
    int k = ring(r);
    if (st->utc_ok)
        c->utc[k] = (struct ui_chart_point){.present = true, .value_us = st->utc_offset_us};
    for (size_t i = 0; i < n; i++) {
        const struct node_info *ni = &nodes[i];
        struct ts_chart_node *cn = chart_node(c, ni->name);
        if (!cn)
            continue;
        if (ni->state != NODE_SYNCHRONISED)
            continue; /* skipped, or joined since the round: a gap */
        cn->pt[k] = (struct ui_chart_point){
            .present = true, .value_us = ni->last_delta_us,
            .band_us = ni->last_rtt_us > 0 ? (ni->last_rtt_us + 1) / 2 : 0};
        cn->last_present = r;
    }
}

SDL_Color ts_chart_color(const struct ts_chart *c, const char *name)
{
    for (size_t i = 0; i < c->nnodes; i++)
        if (strcmp(c->node[i].name, name) == 0)
            return TS_CHART_PALETTE[c->node[i].color];
    return (SDL_Color){0, 0, 0, 0};
}

static void chart_spec(struct ui_chart_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->title = _("Correction per round, ±RTT/2 band");
    spec->legend = _("× UTC offset");
    spec->legend_color = TS_CHART_UTC_COLOR;
    spec->left_label = "";
    spec->right_label = _("now");
}

int ts_chart_slots(struct ui *ui, SDL_Rect r, int tm_ms)
{
    struct ui_chart_spec spec;
    chart_spec(&spec);
    int fit = ui_chart_slots_fit(ui, r, &spec);
    int want = tm_ms > 0 ? TS_CHART_SPAN_MS / tm_ms + 1 : fit;
    if (want < TS_CHART_MIN_SLOTS)
        want = TS_CHART_MIN_SLOTS;
    return want < fit ? want : fit;
}

/* "5 min", "80 s", "2 h": how far back the chart's left edge is. */
static void span_text(int64_t ms, char *buf, size_t len)
{
    int64_t s = ms / 1000;
    if (s >= 7200 && s % 3600 == 0)
        snprintf(buf, len, "%lld h", (long long)(s / 3600));
    else if (s >= 120 && s % 60 == 0)
        snprintf(buf, len, "%lld min", (long long)(s / 60));
    else if (s >= 120)
        snprintf(buf, len, "%lld min %02lld s", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(buf, len, "%lld s", (long long)s);
}

void ts_chart_draw(struct ts_chart *c, struct ui *ui, SDL_Rect r, int tm_ms)
{
    static struct ui_chart_point pts[NODES_MAX + 1][UI_CHART_MAX_SLOTS];
    struct ui_chart_series series[NODES_MAX + 1];
    struct ui_chart_spec spec;
    chart_spec(&spec);
    int nslots = ts_chart_slots(ui, r, tm_ms);
    spec.nslots = nslots;
    char span[40], left[80];
    span_text((int64_t)(nslots - 1) * tm_ms, span, sizeof span);
    /* TRANSLATORS: the chart's left edge, e.g. "5 min ago" */
    snprintf(left, sizeof left, _("%s ago"), span);
    spec.left_label = left;

    int ns = 0;
    /* UTC first: the nodes' markers go over it. */
    series[ns] = (struct ui_chart_series){.color = TS_CHART_UTC_COLOR, .marker = UI_CHART_CROSS,
                                          .pts = pts[ns]};
    for (int i = 0; i < nslots; i++) {
        int64_t round = c->last_round - (nslots - 1 - i);
        bool known = round > 0 && c->round_of[ring(round)] == round;
        pts[ns][i] = known ? c->utc[ring(round)] : (struct ui_chart_point){0};
    }
    ns++;
    /* The nodes with a point in the span, each shifted a little so that nodes with the
     * same correction stay apart: two at -2 and +2, more at -3, 0, +3. */
    int shown[NODES_MAX], nshown = 0;
    for (size_t j = 0; j < c->nnodes; j++)
        if (c->last_round - c->node[j].last_present < nslots && c->node[j].last_present > 0)
            shown[nshown++] = (int)j;
    for (int s = 0; s < nshown; s++) {
        const struct ts_chart_node *cn = &c->node[shown[s]];
        int dx = nshown == 1 ? 0 : nshown == 2 ? (s == 0 ? -2 : 2) : (s % 3 - 1) * 3;
        series[ns] = (struct ui_chart_series){.color = TS_CHART_PALETTE[cn->color],
                                              .marker = UI_CHART_SQUARE, .dx = dx,
                                              .pts = pts[ns]};
        for (int i = 0; i < nslots; i++) {
            int64_t round = c->last_round - (nslots - 1 - i);
            bool known = round > 0 && c->round_of[ring(round)] == round;
            pts[ns][i] = known ? cn->pt[ring(round)] : (struct ui_chart_point){0};
        }
        ns++;
    }
    ui_chart(ui, r, &spec, series, ns);
}

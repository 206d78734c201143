#include "clockrpc.h"

#include "rpcclient.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void clockrpc_reading(struct clock *c, clock_reading *out)
{
    struct clock_state s;
    clock_snapshot(c, &s);
    memset(out, 0, sizeof *out);
    out->time_us = s.time_us;
    out->running = s.running;
    out->synchronised = s.synchronised;
    out->freq_corr_ppb = (quad_t)llround(s.freq_corr_ppm * 1000.0);
    out->slew_left_us = s.slew_left_us;
}

enum time_policy clockrpc_policy(enum clock_policy p)
{
    switch (p) {
    case CLOCK_POLICY_STEP:
        return TIME_POLICY_STEP;
    case CLOCK_POLICY_SLEW:
        return TIME_POLICY_SLEW;
    default:
        return TIME_POLICY_NONE;
    }
}

const char *clockrpc_status_text(time_status st)
{
    switch (st) {
    case TIME_OK:
        return "ok";
    case TIME_ERR_RANGE:
        return "out of range";
    case TIME_ERR_DENIED:
        return "not allowed";
    case TIME_ERR_STOPPED:
        return "clock being set by hand";
    case TIME_ERR_BADARG:
        return "bad argument";
    case TIME_ERR_INTERNAL:
        return "internal error";
    }
    return "unknown status";
}

static enum clnt_stat clockrpc_gethour(CLIENT *c, enum clockrpc_program which, clock_reading *r)
{
    return which == CLOCKRPC_TIME ? time_gethour_1(NULL, r, c) : clock_gethour_1(NULL, r, c);
}

int clockrpc_probe(CLIENT *c, enum clockrpc_program which, int k, struct clockrpc_probe *out,
                   char *err, size_t errlen)
{
    struct cristian_probe probes[CRISTIAN_MAX_PROBES];
    clock_reading readings[CRISTIAN_MAX_PROBES];
    if (k < 1 || k > CRISTIAN_MAX_PROBES) {
        snprintf(err, errlen, "probe count %d outside 1..%d", k, CRISTIAN_MAX_PROBES);
        return -1;
    }
    memset(out, 0, sizeof *out);
    enum clnt_stat last = RPC_SUCCESS;
    for (int i = 0; i < k; i++) {
        memset(&readings[i], 0, sizeof readings[i]);
        probes[i].send_ns = clock_mono_ns();
        enum clnt_stat st = clockrpc_gethour(c, which, &readings[i]);
        probes[i].recv_ns = clock_mono_ns();
        probes[i].ok = st == RPC_SUCCESS;
        probes[i].remote_us = readings[i].time_us;
        if (st != RPC_SUCCESS) {
            /* A node that timed out once will time out again: k timeouts would hold
             * the whole round. Keep what answered. */
            last = st;
            k = i + 1;
            break;
        }
        out->answered++;
    }
    if (cristian_estimate(probes, (size_t)k, 0, &out->est) < 0) {
        rpcclient_error(c, last, "GETHOUR", err, errlen);
        return -1;
    }
    out->reading = readings[out->est.probe_index];
    return 0;
}

int clockrpc_pull(struct clock *own, CLIENT *c, enum clockrpc_program which, int k,
                  int64_t *delta_us, enum clock_policy *policy, struct clockrpc_probe *probe,
                  char *err, size_t errlen)
{
    if (clockrpc_probe(c, which, k, probe, err, errlen) < 0)
        return -1;
    if (!probe->reading.running) {
        snprintf(err, errlen, "the remote clock is being set by hand");
        return -1;
    }
    int64_t mine = clock_read_at(own, probe->est.recv_ns);
    *delta_us = cristian_delta(probe->est.remote_at_recv_us, mine);
    enum clock_error e = clock_adjust(own, *delta_us, policy);
    if (e == CLOCK_ERR_STOPPED) {
        snprintf(err, errlen, "own clock is being set by hand");
        return -1;
    }
    if (e != CLOCK_OK) {
        snprintf(err, errlen, "correction %lld us refused", (long long)*delta_us);
        return -1;
    }
    return 0;
}

#include "clockdb.h"

#include "db.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const clockdb_sql[][2] = {
    {"next_round", "SELECT coalesce(max(id), 0) + 1 FROM sync_round"},
    {"upsert_node",
     "INSERT INTO node (name, address, program, version, host) VALUES ($1, $2, $3, $4, $6) "
     "ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address, "
     "program = EXCLUDED.program, version = EXCLUDED.version, host = EXCLUDED.host, "
     "last_seen = CASE WHEN $5::boolean THEN now() ELSE node.last_seen END "
     "RETURNING id"},
    {"insert_round",
     "INSERT INTO sync_round (id, started_at, tm_ms, coordinator_before, reference_time, "
     "utc_source, utc_offset_us, utc_rtt_us, utc_policy, utc_error, utc_applied_us) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
    {"insert_sync",
     "INSERT INTO node_sync (round_id, node_id, outcome, reason, node_time, rtt_us, "
     "estimated_time, reference_time, delta_us, policy, error_bound_us, probes, rtt_max_us, "
     "applied_us, freq_ppb, node_bound_us) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"},
    {"known_nodes",
     "SELECT name, host(address), coalesce(host, host(address)), program, version FROM node "
     "WHERE last_seen > now() - interval '1 hour' ORDER BY id"},
};

static int clockdb_prepare_all(PGconn *conn)
{
    static const int nparams[] = {0, 6, 11, 16, 0};
    for (size_t i = 0; i < sizeof clockdb_sql / sizeof clockdb_sql[0]; i++)
        if (db_prepare(conn, clockdb_sql[i][0], clockdb_sql[i][1], nparams[i]) < 0)
            return -1;
    return 0;
}

static int64_t clockdb_next_round(PGconn *conn)
{
    PGresult *res = db_run(conn, "reading the last round number", "next_round", 0, NULL);
    if (!res)
        return -1;
    int64_t next = -1;
    if (PQntuples(res) == 1)
        sscanf(PQgetvalue(res, 0, 0), "%" SCNd64, &next);
    PQclear(res);
    return next;
}

int clockdb_open(struct clockdb *db, const char *conninfo, int64_t *next_round,
                 char *err, size_t errlen)
{
    memset(db, 0, sizeof *db);
    snprintf(db->conninfo, sizeof db->conninfo, "%s", conninfo);
    db->conn = db_connect(conninfo, err, errlen);
    if (!db->conn)
        return -1;
    if (clockdb_prepare_all(db->conn) < 0 || (*next_round = clockdb_next_round(db->conn)) < 1) {
        snprintf(err, errlen, "clock DB '%s' lacks the schema of db/clock.sql", conninfo);
        clockdb_close(db);
        return -1;
    }
    return 0;
}

int clockdb_known_nodes(struct clockdb *db, struct nodes *nodes)
{
    PGresult *res = db_run(db->conn, "reading the known nodes", "known_nodes", 0, NULL);
    if (!res)
        return -1;
    int n = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        char *end1, *end2;
        unsigned long prog = strtoul(PQgetvalue(res, i, 3), &end1, 10);
        unsigned long vers = strtoul(PQgetvalue(res, i, 4), &end2, 10);
        const char *name = PQgetvalue(res, i, 0);
        if (*end1 || *end2)
            log_warn("clock db", "node %s: program or version is not a number; not probed", name);
        else if (nodes_restore(nodes, name, PQgetvalue(res, i, 2), PQgetvalue(res, i, 1), prog,
                               vers) >= 0)
            n++;
        else
            log_warn("clock db", "node %s not probed: the node table is full (%d)", name, NODES_MAX);
    }
    PQclear(res);
    return n;
}

void clockdb_close(struct clockdb *db)
{
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
}

/* Text forms of the parameters: libpq sends every parameter as text. */
struct clockdb_text {
    char v[16][64];
};

static const char *clockdb_time(char *buf, size_t len, int64_t us)
{
    clock_format(us, true, buf, len);
    return buf;
}

static const char *clockdb_int(char *buf, size_t len, int64_t v)
{
    snprintf(buf, len, "%" PRId64, v);
    return buf;
}

static int64_t clockdb_upsert_node(PGconn *conn, const struct clockdb_sync *s)
{
    char prog[24], vers[24];
    const struct node_info *n = s->node;
    const char *p[6] = {n->name, n->address, clockdb_int(prog, sizeof prog, (int64_t)n->prog),
                        clockdb_int(vers, sizeof vers, (int64_t)n->vers),
                        s->have_reading ? "true" : "false",
                        strcmp(n->host, n->address) != 0 ? n->host : NULL};
    PGresult *res = db_run(conn, "storing node", "upsert_node", 6, p);
    if (!res)
        return -1;
    int64_t id = -1;
    sscanf(PQgetvalue(res, 0, 0), "%" SCNd64, &id);
    PQclear(res);
    return id;
}

static int clockdb_insert_round(PGconn *conn, const struct clockdb_round *r)
{
    struct clockdb_text t;
    char started[32];
    struct tm tm;
    gmtime_r(&r->started.tv_sec, &tm);
    strftime(started, sizeof started, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(t.v[0], sizeof t.v[0], "%.20s.%06ld+00", started, (r->started.tv_nsec / 1000) % 1000000);
    const char *p[11] = {
        clockdb_int(t.v[1], 64, r->id), t.v[0], clockdb_int(t.v[2], 64, r->tm_ms),
        clockdb_time(t.v[3], 64, r->before_us), clockdb_time(t.v[4], 64, r->reference_us),
        r->utc_ok ? r->utc_source : "none",
        r->utc_ok ? clockdb_int(t.v[5], 64, r->utc_offset_us) : NULL,
        r->utc_ok ? clockdb_int(t.v[6], 64, r->utc_rtt_us) : NULL,
        r->utc_ok ? clock_policy_name(r->utc_policy) : NULL,
        r->utc_ok ? NULL : r->utc_error,
        r->utc_ok ? clockdb_int(t.v[7], 64, r->utc_applied_us) : NULL,
    };
    return db_run_command(conn, "storing round", "insert_round", 11, p);
}

static int clockdb_insert_sync(PGconn *conn, int64_t round, int64_t node_id,
                               const struct clockdb_sync *s)
{
    struct clockdb_text t;
    bool rd = s->have_reading;
    const char *p[16] = {
        clockdb_int(t.v[0], 64, round),
        clockdb_int(t.v[1], 64, node_id),
        s->applied ? "applied" : "skipped",
        s->applied ? NULL : s->reason,
        rd ? clockdb_time(t.v[2], 64, s->node_time_us) : NULL,
        rd ? clockdb_int(t.v[3], 64, s->rtt_us) : NULL,
        rd ? clockdb_time(t.v[4], 64, s->estimate_us) : NULL,
        rd ? clockdb_time(t.v[5], 64, s->reference_us) : NULL,
        s->applied ? clockdb_int(t.v[6], 64, s->delta_us) : NULL,
        s->applied ? clock_policy_name(s->policy) : NULL,
        rd ? clockdb_int(t.v[7], 64, s->error_bound_us) : NULL,
        clockdb_int(t.v[8], 64, s->probes),
        rd ? clockdb_int(t.v[9], 64, s->rtt_max_us) : NULL,
        s->applied ? clockdb_int(t.v[10], 64, s->applied_us) : NULL,
        s->applied ? clockdb_int(t.v[11], 64, s->freq_ppb) : NULL,
        s->applied && s->node_bound_us >= 0 ? clockdb_int(t.v[12], 64, s->node_bound_us) : NULL,
    };
    return db_run_command(conn, "storing node sync", "insert_sync", 16, p);
}

static int clockdb_write(PGconn *conn, const struct clockdb_round *r)
{
    if (clockdb_insert_round(conn, r) < 0)
        return -1;
    for (size_t i = 0; i < r->n; i++) {
        int64_t id = clockdb_upsert_node(conn, &r->sync[i]);
        if (id < 0 || clockdb_insert_sync(conn, r->id, id, &r->sync[i]) < 0)
            return -1;
    }
    return 0;
}

int clockdb_record(struct clockdb *db, const struct clockdb_round *r)
{
    if (!db->conn) {
        char err[512];
        db->conn = db_connect(db->conninfo, err, sizeof err);
        if (!db->conn || clockdb_prepare_all(db->conn) < 0) {
            log_error("clock db", "round %" PRId64 " not recorded: %s", r->id,
                      db->conn ? "cannot prepare statements" : err);
            clockdb_close(db);
            return -1;
        }
        log_info("clock db", "reconnected");
    }
    if (db_begin(db->conn, "recording a round") == 0 && clockdb_write(db->conn, r) == 0 &&
        db_commit(db->conn, "recording a round") == 0)
        return 0;
    db_rollback(db->conn, "recording a round");
    log_error("clock db", "round %" PRId64 " not recorded", r->id);
    /* A broken connection is dropped so the next round reconnects and re-prepares. */
    if (PQstatus(db->conn) != CONNECTION_OK)
        clockdb_close(db);
    return -1;
}

-- Clock DB of the time server (DESIGN.md section 5): the original's "Reloj" schema
-- (equipo, hora_central, hora_equipo) under English names.
-- Times of day are `time` (microsecond resolution); differences are bigint microseconds.

CREATE TABLE node (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
    address     inet NOT NULL,
    host        text CHECK (length(host) BETWEEN 1 AND 255),
    program     bigint NOT NULL CHECK (program BETWEEN 536870912 AND 1610612735),
    version     integer NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE node IS 'Every machine whose clock the time server keeps (equipo). One row per node name; a node that joins again updates its row.';
COMMENT ON COLUMN node.id IS 'Node number, referenced by node_sync.';
COMMENT ON COLUMN node.name IS 'Name the node gave in TIME.JOIN, e.g. app1.';
COMMENT ON COLUMN node.address IS 'Address the node joined from; the time server calls its CLOCK program there unless the node advertised another host.';
COMMENT ON COLUMN node.host IS 'Host the node advertised for its CLOCK program in TIME.JOIN (--advertise), NULL when it gave none (then address is called). A restarted time server calls every node seen in the last hour here (or at address) from its first round, without waiting for the node to join again.';
COMMENT ON COLUMN node.program IS 'ONC RPC program number of the node''s CLOCK service: CLOCK base + instance for an app server, a transient number (0x40000000-0x5fffffff) for a client.';
COMMENT ON COLUMN node.version IS 'Version of the CLOCK program.';
COMMENT ON COLUMN node.first_seen IS 'When the node first joined.';
COMMENT ON COLUMN node.last_seen IS 'When the node last answered a round (its clock was read).';

CREATE TABLE sync_round (
    id                    bigint PRIMARY KEY,
    started_at            timestamptz NOT NULL,
    tm_ms                 integer NOT NULL CHECK (tm_ms > 0),
    coordinator_before    time(6) NOT NULL,
    reference_time        time(6) NOT NULL,
    utc_source            text NOT NULL,
    utc_offset_us         bigint,
    utc_rtt_us            bigint,
    utc_policy            text CHECK (utc_policy IN ('step', 'slew')),
    utc_applied_us        bigint,
    utc_error             text,
    CHECK ((utc_source = 'none') = (utc_offset_us IS NULL))
);
COMMENT ON TABLE sync_round IS 'One row per synchronisation round of the time server (hora_central).';
COMMENT ON COLUMN sync_round.id IS 'Round number, increasing across restarts of the time server; sent to nodes in CLOCK.ADJUST.';
COMMENT ON COLUMN sync_round.started_at IS 'Machine (system) time at which the round started.';
COMMENT ON COLUMN sync_round.tm_ms IS 'Period between rounds (TM) in milliseconds.';
COMMENT ON COLUMN sync_round.coordinator_before IS 'Time of day on the coordinator''s clock before it synchronised with UTC this round.';
COMMENT ON COLUMN sync_round.reference_time IS 'Time of day on the coordinator''s clock after synchronising with UTC: the reference for this round.';
COMMENT ON COLUMN sync_round.utc_source IS 'host:port of the SNTP server that answered, or ''none'' when no UTC source answered and the coordinator kept its own clock.';
COMMENT ON COLUMN sync_round.utc_offset_us IS 'UTC minus the coordinator clock, in microseconds, before correction (NULL without a UTC source).';
COMMENT ON COLUMN sync_round.utc_rtt_us IS 'Round trip to the UTC source less its processing time, in microseconds.';
COMMENT ON COLUMN sync_round.utc_policy IS 'How the coordinator applied the UTC correction: step or slew.';
COMMENT ON COLUMN sync_round.utc_applied_us IS 'What the coordinator applied of utc_offset_us (its discipline''s estimate from its recent rounds).';
COMMENT ON COLUMN sync_round.utc_error IS 'Why no UTC source answered, when none did.';

CREATE TABLE node_sync (
    round_id        bigint NOT NULL REFERENCES sync_round (id),
    node_id         bigint NOT NULL REFERENCES node (id),
    outcome         text NOT NULL CHECK (outcome IN ('applied', 'skipped')),
    reason          text,
    node_time       time(6),
    rtt_us          bigint CHECK (rtt_us >= 0),
    estimated_time  time(6),
    reference_time  time(6),
    delta_us        bigint,
    policy          text CHECK (policy IN ('step', 'slew')),
    error_bound_us  bigint CHECK (error_bound_us >= 0),
    probes          integer,
    rtt_max_us      bigint CHECK (rtt_max_us >= 0),
    applied_us      bigint,
    freq_ppb        bigint,
    node_bound_us   bigint,
    PRIMARY KEY (round_id, node_id),
    CHECK ((outcome = 'skipped') = (reason IS NOT NULL))
);
COMMENT ON TABLE node_sync IS 'One row per node per round (hora_equipo): what the node''s clock read, the correction sent, or why the node was skipped.';
COMMENT ON COLUMN node_sync.round_id IS 'The round (sync_round.id).';
COMMENT ON COLUMN node_sync.node_id IS 'The node (node.id).';
COMMENT ON COLUMN node_sync.outcome IS 'applied: the node took the correction; skipped: it did not (see reason).';
COMMENT ON COLUMN node_sync.reason IS 'Why the node was skipped: unreachable, clock being set by hand, correction refused.';
COMMENT ON COLUMN node_sync.node_time IS 'The node''s time of day in the probe with the smallest round trip.';
COMMENT ON COLUMN node_sync.rtt_us IS 'Smallest round trip of CLOCK.GETHOUR among the probes, in microseconds.';
COMMENT ON COLUMN node_sync.rtt_max_us IS 'Largest round trip among the probes: rtt_max_us - rtt_us is the jitter that made the round use more probes.';
COMMENT ON COLUMN node_sync.estimated_time IS 'The node''s time when the fastest reply arrived, estimated from all probes of the round (the intersection of their intervals; on a steady link the same as node_time + rtt/2).';
COMMENT ON COLUMN node_sync.reference_time IS 'The coordinator''s time of day when that reply arrived.';
COMMENT ON COLUMN node_sync.delta_us IS 'Correction sent (the measured offset): reference_time - estimated_time, modulo 24 h into (-12 h, +12 h], in microseconds.';
COMMENT ON COLUMN node_sync.policy IS 'How the node applied the correction: step (jump) or slew (changed its rate until absorbed).';
COMMENT ON COLUMN node_sync.error_bound_us IS 'Error bound of the measurement, +/- microseconds: the true offset lies within delta_us +/- this (about rtt/2; asymmetric one-way delays are invisible to any two-way measurement and are inside this bound, not corrected).';
COMMENT ON COLUMN node_sync.probes IS 'Number of CLOCK.GETHOUR probes that answered (4 on a steady link, more when the round trips scatter).';
COMMENT ON COLUMN node_sync.applied_us IS 'What the node applied of the correction: its discipline''s estimate of the offset from its recent rounds, not the single measurement.';
COMMENT ON COLUMN node_sync.freq_ppb IS 'The node''s rate correction after the round, parts per billion: its estimate of its own drift (negated).';
COMMENT ON COLUMN node_sync.node_bound_us IS 'The bound the node claims on its offset after the round, +/- microseconds.';

CREATE INDEX node_sync_node_idx ON node_sync (node_id, round_id);

CREATE VIEW sync_report AS
SELECT r.id AS round,
       r.started_at,
       r.utc_source,
       r.utc_offset_us,
       count(*) FILTER (WHERE s.outcome = 'applied') AS nodes_applied,
       count(*) FILTER (WHERE s.outcome = 'skipped') AS nodes_skipped,
       max(abs(s.delta_us)) AS max_abs_delta_us,
       max(s.delta_us) - min(s.delta_us) AS spread_us,
       max(s.rtt_us) AS max_rtt_us,
       string_agg(n.name || ': ' || s.reason, '; ' ORDER BY n.name)
           FILTER (WHERE s.outcome = 'skipped') AS skipped,
       max(s.error_bound_us) AS max_error_bound_us
FROM sync_round r
LEFT JOIN node_sync s ON s.round_id = r.id
LEFT JOIN node n ON n.id = s.node_id
GROUP BY r.id;
COMMENT ON VIEW sync_report IS 'How far apart the clocks were in each round: the largest correction, the spread of corrections between nodes (how far apart they were from each other), and who was skipped and why.';
COMMENT ON COLUMN sync_report.round IS 'Round number.';
COMMENT ON COLUMN sync_report.started_at IS 'When the round started (system time).';
COMMENT ON COLUMN sync_report.utc_source IS 'UTC source of the round, or none.';
COMMENT ON COLUMN sync_report.utc_offset_us IS 'UTC minus coordinator clock before correction, microseconds.';
COMMENT ON COLUMN sync_report.nodes_applied IS 'Nodes that took their correction.';
COMMENT ON COLUMN sync_report.nodes_skipped IS 'Nodes skipped this round.';
COMMENT ON COLUMN sync_report.max_abs_delta_us IS 'Largest |correction| sent this round: how far the farthest node was from the reference.';
COMMENT ON COLUMN sync_report.spread_us IS 'Largest minus smallest correction: how far apart the nodes were from each other.';
COMMENT ON COLUMN sync_report.max_rtt_us IS 'Largest of the nodes'' smallest round trips.';
COMMENT ON COLUMN sync_report.max_error_bound_us IS 'Largest measurement error bound of the round, +/- microseconds.';
COMMENT ON COLUMN sync_report.skipped IS 'Skipped nodes with the reason, "name: why; ...".';

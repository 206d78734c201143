-- Upgrades a clock DB made from an older db/clock.sql to the current one, keeping its
-- rows; scripts/cluster runs it on every start, so it must stay idempotent. A new
-- column goes here as ADD COLUMN IF NOT EXISTS, a changed view as CREATE OR REPLACE.

ALTER TABLE node ADD COLUMN IF NOT EXISTS host text CHECK (length(host) BETWEEN 1 AND 255);
ALTER TABLE sync_round ADD COLUMN IF NOT EXISTS utc_applied_us bigint;
ALTER TABLE node_sync ADD COLUMN IF NOT EXISTS rtt_max_us bigint CHECK (rtt_max_us >= 0);
ALTER TABLE node_sync ADD COLUMN IF NOT EXISTS applied_us bigint;
ALTER TABLE node_sync ADD COLUMN IF NOT EXISTS freq_ppb bigint;
ALTER TABLE node_sync ADD COLUMN IF NOT EXISTS node_bound_us bigint;

CREATE OR REPLACE VIEW sync_report AS
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

-- The comments of what this file adds are those of db/clock.sql.
COMMENT ON COLUMN node.host IS 'Host the node advertised for its CLOCK program in TIME.JOIN (--advertise), NULL when it gave none (then address is called). A restarted time server calls every node seen in the last hour here (or at address) from its first round, without waiting for the node to join again.';
COMMENT ON COLUMN sync_round.utc_applied_us IS 'What the coordinator applied of utc_offset_us (its discipline''s estimate from its recent rounds).';
COMMENT ON COLUMN node_sync.rtt_max_us IS 'Largest round trip among the probes: rtt_max_us - rtt_us is the jitter that made the round use more probes.';
COMMENT ON COLUMN node_sync.applied_us IS 'What the node applied of the correction: its discipline''s estimate of the offset from its recent rounds, not the single measurement.';
COMMENT ON COLUMN node_sync.freq_ppb IS 'The node''s rate correction after the round, parts per billion: its estimate of its own drift (negated).';
COMMENT ON COLUMN node_sync.node_bound_us IS 'The bound the node claims on its offset after the round, +/- microseconds.';
COMMENT ON COLUMN node_sync.estimated_time IS 'The node''s time when the fastest reply arrived, estimated from all probes of the round (the intersection of their intervals; on a steady link the same as node_time + rtt/2).';
COMMENT ON COLUMN node_sync.error_bound_us IS 'Error bound of the measurement, +/- microseconds: the true offset lies within delta_us +/- this (about rtt/2; asymmetric one-way delays are invisible to any two-way measurement and are inside this bound, not corrected).';
COMMENT ON COLUMN node_sync.delta_us IS 'Correction sent (the measured offset): reference_time - estimated_time, modulo 24 h into (-12 h, +12 h], in microseconds.';
COMMENT ON COLUMN node_sync.probes IS 'Number of CLOCK.GETHOUR probes that answered (4 on a steady link, more when the round trips scatter).';
COMMENT ON COLUMN sync_report.max_error_bound_us IS 'Largest measurement error bound of the round, +/- microseconds.';

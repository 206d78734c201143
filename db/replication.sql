-- Replication DB of the replication server (DESIGN.md sections 4 and 5): the sequenced
-- log that both app servers apply in the same order (state-machine replication).
-- Never truncated while an app server still needs it.

CREATE TABLE log (
    seq          bigint PRIMARY KEY CHECK (seq > 0),
    origin       integer NOT NULL,
    kind         text NOT NULL
                 CHECK (kind IN ('USER_SEEN', 'SESSION_OPEN', 'BOOK_CLAIM', 'SESSION_CLOSE',
                                 'BOOK_RELEASE')),
    payload      bytea NOT NULL,
    session      bigint,
    isbn         char(13),
    user_name    text,
    request_key  bytea CHECK (octet_length(request_key) = 16),
    appended_at  timestamptz NOT NULL
);
COMMENT ON TABLE log IS 'The replication log: one row per operation appended with SETQUERY, numbered 1, 2, 3 ... without gaps. App servers fetch it with GETQUERY and apply it in seq order; ids in the books databases are these sequence numbers. A row exists only once stored durably (committed) and is never changed.';
COMMENT ON COLUMN log.seq IS 'Sequence number of the entry, 1, 2, 3 ... without gaps; the order in which every app server applies it.';
COMMENT ON COLUMN log.origin IS 'Instance number of the app server that appended the entry (1, 2, ...).';
COMMENT ON COLUMN log.kind IS 'Kind of operation: USER_SEEN (a user first seen), SESSION_OPEN (open a new session if the previous one is still current), BOOK_CLAIM (hand out a book if still free in that session and the request''s key holds none yet), SESSION_CLOSE (every book of a session handed out), BOOK_RELEASE (a client gave its request up: the book its key holds is free again).';
COMMENT ON COLUMN log.payload IS 'The operation as XDR bytes (repl_op of rpc/replication.x). The readable columns are copies for a DBA; this is what GETQUERY sends back.';
COMMENT ON COLUMN log.session IS 'Readable copy for a DBA: the session the operation is about (BOOK_CLAIM, SESSION_CLOSE), or for SESSION_OPEN the session it replaces; NULL for USER_SEEN.';
COMMENT ON COLUMN log.isbn IS 'Readable copy for a DBA: ISBN-13 of the claimed book (BOOK_CLAIM); NULL for other kinds.';
COMMENT ON COLUMN log.user_name IS 'Readable copy for a DBA: the user name in USER_SEEN, BOOK_CLAIM and BOOK_RELEASE; NULL for other kinds.';
COMMENT ON COLUMN log.request_key IS 'Readable copy for a DBA: the request''s key (16 random bytes chosen by the client, the same for every retry) in BOOK_CLAIM and BOOK_RELEASE; NULL for other kinds.';
COMMENT ON COLUMN log.appended_at IS 'When the replication server stored the entry (its machine time).';

CREATE VIEW log_readable AS
SELECT seq, origin, kind, session, isbn, user_name, encode(request_key, 'hex') AS request_key,
       appended_at, octet_length(payload) AS payload_bytes
FROM log;
COMMENT ON VIEW log_readable IS 'The replication log without the XDR bytes, for reading in psql. Add ORDER BY seq (e.g. ORDER BY seq DESC LIMIT 20 for the latest entries).';
COMMENT ON COLUMN log_readable.seq IS 'Sequence number of the entry.';
COMMENT ON COLUMN log_readable.origin IS 'App server instance that appended it.';
COMMENT ON COLUMN log_readable.kind IS 'USER_SEEN, SESSION_OPEN, BOOK_CLAIM, SESSION_CLOSE or BOOK_RELEASE.';
COMMENT ON COLUMN log_readable.session IS 'Session concerned (previous session for SESSION_OPEN).';
COMMENT ON COLUMN log_readable.isbn IS 'ISBN-13 of the claimed book (BOOK_CLAIM).';
COMMENT ON COLUMN log_readable.user_name IS 'User name (USER_SEEN, BOOK_CLAIM, BOOK_RELEASE).';
COMMENT ON COLUMN log_readable.request_key IS 'The request''s key in hex (BOOK_CLAIM, BOOK_RELEASE).';
COMMENT ON COLUMN log_readable.appended_at IS 'When the replication server stored it.';
COMMENT ON COLUMN log_readable.payload_bytes IS 'Size of the XDR payload in bytes.';

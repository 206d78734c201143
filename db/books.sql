-- Books DB of an app server (DESIGN.md sections 4 and 5). Loaded into books1 and books2,
-- one database per app server. Both databases are filled only by applying the same
-- replication log in the same order, and every id except book.id is the sequence number
-- (seq) of a log entry, so the two databases end up identical row for row.
-- book is filled by db/load-catalogue (book.id = line position in the catalogue).
-- Times of day are time(6) (microseconds); dates and instants are timestamptz.

CREATE FUNCTION isbn13_valid(isbn text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN isbn ~ '^[0-9]{13}$' THEN
        (  substr(isbn, 1, 1)::integer + 3 * substr(isbn, 2, 1)::integer
         + substr(isbn, 3, 1)::integer + 3 * substr(isbn, 4, 1)::integer
         + substr(isbn, 5, 1)::integer + 3 * substr(isbn, 6, 1)::integer
         + substr(isbn, 7, 1)::integer + 3 * substr(isbn, 8, 1)::integer
         + substr(isbn, 9, 1)::integer + 3 * substr(isbn, 10, 1)::integer
         + substr(isbn, 11, 1)::integer + 3 * substr(isbn, 12, 1)::integer
         + substr(isbn, 13, 1)::integer) % 10 = 0
    ELSE false
END;
COMMENT ON FUNCTION isbn13_valid(text) IS 'True when the text is an ISBN-13: exactly 13 digits (no hyphens or spaces) whose check digit is right (digits weighted 1,3,1,3,...; the sum is a multiple of 10). False otherwise, also for NULL.';

CREATE TABLE book (
    id          integer PRIMARY KEY CHECK (id > 0),
    isbn        char(13) NOT NULL UNIQUE CHECK (isbn13_valid(isbn)),
    title       text NOT NULL CHECK (length(title) >= 1 AND octet_length(title) <= 255),
    author      text NOT NULL CHECK (length(author) >= 1 AND octet_length(author) <= 127),
    year        integer NOT NULL CHECK (year BETWEEN -4000 AND 9999),
    cover       bytea,
    cover_type  text CHECK (cover_type = 'image/png'),
    UNIQUE (id, isbn),
    CHECK ((cover IS NULL) = (cover_type IS NULL)),
    CHECK (cover IS NULL OR substr(cover, 1, 8) = '\x89504e470d0a1a0a'::bytea)
);
COMMENT ON TABLE book IS 'The catalogue: every book that can be handed out, once per session. Loaded by db/load-catalogue from db/catalogue.tsv (or a generated catalogue) in the same order on every app server; never changed while requests refer to it.';
COMMENT ON COLUMN book.id IS 'Position of the book in the catalogue file, 1..N (same on every app server).';
COMMENT ON COLUMN book.isbn IS 'ISBN-13 of the edition, 13 digits without hyphens, check digit verified by isbn13_valid().';
COMMENT ON COLUMN book.title IS 'Title, 1 to 255 bytes of UTF-8.';
COMMENT ON COLUMN book.author IS 'Author(s) as printed, 1 to 127 bytes of UTF-8.';
COMMENT ON COLUMN book.year IS 'Year the work was first published (not the year of this edition); negative for BC.';
COMMENT ON COLUMN book.cover IS 'Cover image file contents (PNG bytes, from images/), or NULL when the book has no cover.';
COMMENT ON COLUMN book.cover_type IS 'MIME type of cover: ''image/png'', or NULL when cover is NULL.';

CREATE TABLE library_user (
    id          bigint PRIMARY KEY CHECK (id > 0),
    name        text NOT NULL CHECK (length(name) >= 1 AND octet_length(name) <= 63),
    address     inet NOT NULL,
    first_seen  timestamptz NOT NULL,
    UNIQUE (name, address)
);
COMMENT ON TABLE library_user IS 'People who asked for books (usuario): one row per user name and client address. Created when the replication log first names the user.';
COMMENT ON COLUMN library_user.id IS 'Sequence number (seq) of the replication log entry that first named this user (USER_SEEN or BOOK_CLAIM); same on every app server.';
COMMENT ON COLUMN library_user.name IS 'Name the user typed in the client, 1 to 63 bytes of UTF-8.';
COMMENT ON COLUMN library_user.address IS 'Network address the user''s client called from.';
COMMENT ON COLUMN library_user.first_seen IS 'When that first log entry was appended (replication server''s clock).';

CREATE TABLE session (
    id          bigint PRIMARY KEY CHECK (id > 0),
    previous    bigint REFERENCES session (id) CHECK (previous < id),
    opened_at   timestamptz NOT NULL,
    opened_by   integer NOT NULL,
    closed_at   timestamptz,
    opened_log_us bigint NOT NULL
);
COMMENT ON TABLE session IS 'Rounds of handing out the whole catalogue (sesion), shared by every app server: within a session each book is held by at most one request. The current session is the one with the largest id (see view current_session).';
COMMENT ON COLUMN session.id IS 'Sequence number (seq) of the SESSION_OPEN log entry that opened it; same on every app server.';
COMMENT ON COLUMN session.previous IS 'The session that was current when this one was opened (NULL for the first session).';
COMMENT ON COLUMN session.opened_at IS 'When the SESSION_OPEN entry was appended to the log.';
COMMENT ON COLUMN session.opened_by IS 'Instance number of the app server that appended the SESSION_OPEN (1, 2, ...).';
COMMENT ON COLUMN session.opened_log_us IS 'The latest log time (microseconds since 1970) of the entries up to its SESSION_OPEN: opened_at, unless the replication server''s clock stepped back. The keys of the session before it are remembered 60 s after this.';
COMMENT ON COLUMN session.closed_at IS 'When the SESSION_CLOSE entry (every book handed out) was appended; NULL while the session still has free books or was replaced before it ran out.';

-- session_id, user_id and (book_id, isbn) refer to session, library_user and book. They
-- are not declared as foreign keys: apply_entries, the only writer, checks every batch
-- it writes against those tables in one statement, where a foreign key would run a
-- trigger and a locking query per row (half of what writing a request costs).
CREATE TABLE request (
    id            bigint PRIMARY KEY CHECK (id > 0),
    session_id    bigint NOT NULL,
    user_id       bigint NOT NULL,
    book_id       integer NOT NULL,
    isbn          char(13) NOT NULL,
    server        integer NOT NULL,
    client_time   time(6),
    server_time   time(6) NOT NULL,
    requested_at  timestamptz NOT NULL,
    request_key   bytea NOT NULL CHECK (octet_length(request_key) = 16),
    released_at   timestamptz,
    released_by   bigint CHECK (released_by > id),
    CHECK ((released_at IS NULL) = (released_by IS NULL))
);
COMMENT ON TABLE request IS 'Books handed out (pedido): one row per successful BOOK_CLAIM. A book is held by at most one request per session (request_book_once: unique session_id, isbn among the requests not released), whichever server handed it out; a released book may be handed out again in the same session.';
COMMENT ON COLUMN request.id IS 'Sequence number (seq) of the BOOK_CLAIM log entry; same on every app server and equal to the request_id the client received.';
COMMENT ON COLUMN request.session_id IS 'The session the book was handed out in (session.id; checked by apply_entries).';
COMMENT ON COLUMN request.user_id IS 'Who received the book (library_user.id; checked by apply_entries).';
COMMENT ON COLUMN request.book_id IS 'The book handed out (book.id; together with isbn it is a row of book (id, isbn), checked by apply_entries).';
COMMENT ON COLUMN request.isbn IS 'ISBN-13 of the book handed out (copy of book.isbn, as carried in the log entry).';
COMMENT ON COLUMN request.server IS 'Instance number of the app server that handed the book out (1, 2, ...).';
COMMENT ON COLUMN request.client_time IS 'The client''s time of day when it asked (its clock, microseconds); NULL when the client did not say.';
COMMENT ON COLUMN request.server_time IS 'The handing server''s time of day when it claimed the book (microseconds); sent to the client for its Cristian sync.';
COMMENT ON COLUMN request.requested_at IS 'When the BOOK_CLAIM entry was appended to the log (replication server''s clock).';
COMMENT ON COLUMN request.request_key IS 'The request''s key: 16 random bytes the client chose and kept for every retry of this request, on any server. A claim whose key already holds a book takes no second one (in its session, and for 60 s of log time after that session ended), so a retried request is served once (unique per session: request_key_once).';
COMMENT ON COLUMN request.released_at IS 'When the client gave the request up and its book went back to the session''s free books (the BOOK_RELEASE entry''s log time); NULL while the request holds its book.';
COMMENT ON COLUMN request.released_by IS 'The BOOK_RELEASE log entry (seq) that released it (book_release.seq); NULL while not released.';

-- A key is one request: once per session. (A retry after its session ended gets the
-- book of that session, so a key repeats only if a client reuses it after the app
-- servers forgot it, 60 s of log time after its session ended.) Also finds a key.
CREATE UNIQUE INDEX request_key_once ON request (request_key, session_id);

-- A book is held once per session; released requests no longer hold theirs.
CREATE UNIQUE INDEX request_book_once ON request (session_id, isbn) WHERE released_at IS NULL;

CREATE TABLE book_release (
    seq          bigint PRIMARY KEY CHECK (seq > 0),
    session_id   bigint REFERENCES session (id),
    request_key  bytea NOT NULL CHECK (octet_length(request_key) = 16),
    user_name    text NOT NULL,
    server       integer NOT NULL,
    request_id   bigint REFERENCES request (id),
    outcome      text NOT NULL CHECK (outcome IN ('freed', 'nothing held', 'already released',
                                                  'session over', 'other user')),
    released_at  timestamptz NOT NULL
);
COMMENT ON TABLE book_release IS 'Every BOOK_RELEASE log entry: a client that gave a request up (its deadline passed, the user closed the window) released its key. Freed: the key held a book, which is free again in the session. Nothing held: the key had not got a book yet, and no later claim with it takes one. Releasing again, a key of an ended session, or a key of another user''s request changes nothing.';
COMMENT ON COLUMN book_release.seq IS 'Sequence number of the BOOK_RELEASE log entry.';
COMMENT ON COLUMN book_release.session_id IS 'The current session when it was applied (the one it is about, unless its outcome is session over); NULL before the first session.';
COMMENT ON COLUMN book_release.request_key IS 'The released key (request.request_key).';
COMMENT ON COLUMN book_release.user_name IS 'Who released it.';
COMMENT ON COLUMN book_release.server IS 'App server instance that appended the release.';
COMMENT ON COLUMN book_release.request_id IS 'The request whose book it freed (outcome freed); NULL otherwise.';
COMMENT ON COLUMN book_release.outcome IS 'freed, nothing held, already released, session over or other user.';
COMMENT ON COLUMN book_release.released_at IS 'When the BOOK_RELEASE entry was appended to the log.';

-- A user's requests. The books of a session (free_books, the app server's start-up) are
-- found through the unique (session_id, isbn) index; a second index on (session_id,
-- book_id) would only cost every applied claim one more index insert.
CREATE INDEX request_user_idx ON request (user_id);

CREATE TABLE replica_state (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    applied_seq  bigint NOT NULL DEFAULT 0 CHECK (applied_seq >= 0),
    applied_at   timestamptz,
    log_time_us  bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE replica_state IS 'Position of this database in the replication log: always exactly one row. Advanced in the same transaction as the entry it records, so each entry is applied exactly once, also across crashes.';
COMMENT ON COLUMN replica_state.id IS 'Always true: makes the table hold a single row.';
COMMENT ON COLUMN replica_state.applied_seq IS 'Sequence number of the last log entry applied to this database (0: none yet). Entries are applied in order without gaps.';
COMMENT ON COLUMN replica_state.applied_at IS 'When this app server applied that entry (its machine time); NULL before the first.';
COMMENT ON COLUMN replica_state.log_time_us IS 'The latest log time (appended_at, microseconds since 1970) of the entries applied: how long keys of ended sessions are remembered is measured against it, the same way on every server.';
INSERT INTO replica_state DEFAULT VALUES;

-- Applying the log -----------------------------------------------------------------------

CREATE TYPE log_change AS (
    seq bigint, kind text, at timestamptz, origin integer, session bigint, prev bigint,
    user_id bigint, new_user boolean, name text, address inet, book_id integer, isbn text,
    client_time time(6), server_time time(6), request_key bytea, release_of bigint,
    outcome text, log_us bigint
);
COMMENT ON TYPE log_change IS 'One replication log entry that changes the books DB, as apply_entries() works on it (internal).';

-- A batch of consecutive log entries first_seq .. first_seq + n - 1, applied by the app
-- server in one statement, so in one transaction and one round trip: replica_state moves
-- from first_seq - 1 to the last entry (or the call fails and nothing is written), and
-- every entry that changes the state (p_applies, decided by the app server from the same
-- log) is written. Element i of every array belongs to entry first_seq + i - 1. The rows
-- are written set-wise in log order, which gives the same rows as applying the entries
-- one at a time: users and sessions first (claims refer to them), then the first close
-- of each session, then the requests. Set-wise, a batch costs a few statements instead
-- of a few per entry. Every time comes from the log entry (p_at_us), so all books DBs
-- end identical row for row.
CREATE FUNCTION apply_entries(p_first_seq bigint, p_kind text[], p_applies boolean[],
                              p_at_us bigint[], p_origin integer[], p_session bigint[],
                              p_prev bigint[], p_user_id bigint[], p_new_user boolean[],
                              p_name text[], p_address inet[], p_book_id integer[],
                              p_isbn text[], p_client_time time(6)[], p_server_time time(6)[],
                              p_key bytea[], p_release_of bigint[], p_outcome text[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(cardinality(p_kind), 0);
    changes log_change[];
    ch log_change;
    bad bigint;
    prev_log bigint;
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'apply_entries: no entries';
    END IF;
    -- unnest() would pad a short array with NULLs: one element per entry everywhere.
    IF (n = ALL (ARRAY[cardinality(p_applies), cardinality(p_at_us), cardinality(p_origin),
                        cardinality(p_session), cardinality(p_prev), cardinality(p_user_id),
                        cardinality(p_new_user), cardinality(p_name), cardinality(p_address),
                        cardinality(p_book_id), cardinality(p_isbn), cardinality(p_client_time),
                        cardinality(p_server_time), cardinality(p_key), cardinality(p_release_of),
                        cardinality(p_outcome)])) IS NOT TRUE THEN
        RAISE EXCEPTION 'apply_entries: the arrays differ in length (% entries)', n;
    END IF;
    IF NOT (p_kind <@ ARRAY['USER_SEEN', 'SESSION_OPEN', 'BOOK_CLAIM', 'SESSION_CLOSE',
                            'BOOK_RELEASE']) THEN
        RAISE EXCEPTION 'apply_entries: unknown kind of entry in %', p_kind;
    END IF;
    SELECT log_time_us INTO prev_log FROM replica_state;
    UPDATE replica_state SET applied_seq = p_first_seq + n - 1, applied_at = now(),
                             log_time_us = greatest(log_time_us, (SELECT max(t) FROM unnest(p_at_us) t))
     WHERE applied_seq = p_first_seq - 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'replica_state is not at entry %', p_first_seq - 1;
    END IF;

    -- log_us: the latest log time up to each entry, as the app server keeps it.
    changes := ARRAY(
        SELECT ROW(p_first_seq + e.i - 1, e.kind,
                   'epoch'::timestamptz + e.at_us * interval '1 microsecond', e.origin,
                   e.session, e.prev, e.user_id, e.new_user, e.name, e.address, e.book_id,
                   e.isbn, e.client_time, e.server_time, e.request_key, e.release_of,
                   e.outcome, e.log_us)::log_change
          FROM (SELECT u.*, greatest(prev_log, max(u.at_us) OVER (ORDER BY u.i)) AS log_us
                  FROM unnest(p_kind, p_applies, p_at_us, p_origin, p_session, p_prev, p_user_id,
                              p_new_user, p_name, p_address, p_book_id, p_isbn, p_client_time,
                              p_server_time, p_key, p_release_of, p_outcome)
                       WITH ORDINALITY AS u(kind, applies, at_us, origin, session, prev, user_id,
                                            new_user, name, address, book_id, isbn, client_time,
                                            server_time, request_key, release_of, outcome, i)) e
         WHERE e.applies OR e.kind = 'BOOK_RELEASE'
         ORDER BY e.i);

    -- Most batches hold only claims by known users: skip the statements with nothing to do.
    IF 'USER_SEEN' = ANY (p_kind) OR true = ANY (p_new_user) THEN
        INSERT INTO library_user (id, name, address, first_seen)
        SELECT CASE c.kind WHEN 'USER_SEEN' THEN c.seq ELSE c.user_id END, c.name, c.address, c.at
          FROM unnest(changes) c
         WHERE c.kind = 'USER_SEEN' OR (c.kind = 'BOOK_CLAIM' AND c.new_user)
         ORDER BY c.seq;
    END IF;

    IF 'SESSION_OPEN' = ANY (p_kind) OR 'SESSION_CLOSE' = ANY (p_kind) THEN
        INSERT INTO session (id, previous, opened_at, opened_by, opened_log_us)
        SELECT c.seq, nullif(c.prev, 0), c.at, c.origin, c.log_us
          FROM unnest(changes) c
         WHERE c.kind = 'SESSION_OPEN'
         ORDER BY c.seq;
        -- A session ends at the first entry that ends it: its SESSION_CLOSE, or the
        -- SESSION_OPEN of the next one.
        UPDATE session s SET closed_at = ends.at
          FROM (SELECT DISTINCT ON (t.target) t.target, t.at
                  FROM (SELECT CASE c.kind WHEN 'SESSION_OPEN' THEN c.prev ELSE c.session END
                               AS target, c.at, c.seq
                          FROM unnest(changes) c
                         WHERE c.kind IN ('SESSION_OPEN', 'SESSION_CLOSE')) t
                 ORDER BY t.target, t.seq) ends
         WHERE s.id = ends.target AND s.closed_at IS NULL;
    END IF;

    -- What foreign keys would check, for the whole batch at once.
    SELECT c.seq INTO bad FROM unnest(changes) c
     WHERE c.kind = 'BOOK_CLAIM'
       AND (NOT EXISTS (SELECT 1 FROM session s WHERE s.id = c.session)
            OR NOT EXISTS (SELECT 1 FROM library_user u WHERE u.id = c.user_id)
            OR NOT EXISTS (SELECT 1 FROM book b WHERE b.id = c.book_id AND b.isbn = c.isbn))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'apply_entries: claim % refers to a session, user or book (id, isbn) '
                        'that is not in this database', bad;
    END IF;

    IF NOT 'BOOK_RELEASE' = ANY (p_kind) THEN
        INSERT INTO request (id, session_id, user_id, book_id, isbn, server, client_time,
                             server_time, requested_at, request_key)
        SELECT c.seq, c.session, c.user_id, c.book_id, c.isbn, c.origin, c.client_time,
               c.server_time, c.at, c.request_key
          FROM unnest(changes) c
         WHERE c.kind = 'BOOK_CLAIM'
         ORDER BY c.seq;
        RETURN p_first_seq + n - 1;
    END IF;
    -- A release frees a book that a later claim of the same batch may take again: claims
    -- and releases one at a time, in log order (releases are rare).
    FOR ch IN SELECT * FROM unnest(changes) x WHERE x.kind IN ('BOOK_CLAIM', 'BOOK_RELEASE')
             ORDER BY x.seq LOOP
        IF ch.kind = 'BOOK_CLAIM' THEN
            INSERT INTO request (id, session_id, user_id, book_id, isbn, server, client_time,
                                 server_time, requested_at, request_key)
            VALUES (ch.seq, ch.session, ch.user_id, ch.book_id, ch.isbn, ch.origin, ch.client_time,
                    ch.server_time, ch.at, ch.request_key);
        ELSE
            INSERT INTO book_release (seq, session_id, request_key, user_name, server,
                                      request_id, outcome, released_at)
            VALUES (ch.seq, nullif(ch.session, 0), ch.request_key, ch.name, ch.origin,
                    nullif(ch.release_of, 0), ch.outcome, ch.at);
            IF ch.release_of > 0 THEN
                UPDATE request SET released_at = ch.at, released_by = ch.seq
                 WHERE id = ch.release_of AND released_at IS NULL;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'apply_entries: release % of request % that is not held',
                        ch.seq, ch.release_of;
                END IF;
            END IF;
        END IF;
    END LOOP;
    RETURN p_first_seq + n - 1;
END
$$;
COMMENT ON FUNCTION apply_entries IS 'Applies consecutive replication log entries from p_first_seq on (one array element per entry) in one transaction: advances replica_state from p_first_seq - 1 to the last of them (or fails and writes nothing) and writes what the entries change (every BOOK_RELEASE is recorded, whatever its outcome). Returns the new applied_seq. Called by the app server only.';

-- Views for a DBA ---------------------------------------------------------------------

CREATE VIEW current_session AS
SELECT s.id,
       s.previous,
       s.opened_at,
       s.opened_by,
       s.closed_at,
       b.books_total,
       r.handed_out,
       b.books_total - r.handed_out AS books_free,
       r.by_server,
       r.released,
       r.users,
       r.last_request_at
FROM (SELECT * FROM session ORDER BY id DESC LIMIT 1) s
CROSS JOIN (SELECT count(*)::integer AS books_total FROM book) b
CROSS JOIN LATERAL (
    SELECT (count(*) FILTER (WHERE q.released_at IS NULL))::integer AS handed_out,
           (count(*) FILTER (WHERE q.released_at IS NOT NULL))::integer AS released,
           coalesce((SELECT jsonb_object_agg(x.server, x.n ORDER BY x.server)
                     FROM (SELECT server, count(*) AS n FROM request
                           WHERE session_id = s.id AND released_at IS NULL GROUP BY server) x),
                    '{}') AS by_server,
           count(DISTINCT q.user_id)::integer AS users,
           max(q.requested_at) AS last_request_at
    FROM request q
    WHERE q.session_id = s.id
) r;
COMMENT ON VIEW current_session IS 'The current session (the one with the largest id) with how many books are handed out and free. No row before the first session.';
COMMENT ON COLUMN current_session.id IS 'Session id (seq of its SESSION_OPEN log entry).';
COMMENT ON COLUMN current_session.previous IS 'The session it replaced (NULL for the first).';
COMMENT ON COLUMN current_session.opened_at IS 'When it was opened (log time).';
COMMENT ON COLUMN current_session.opened_by IS 'App server instance that opened it.';
COMMENT ON COLUMN current_session.closed_at IS 'When every book had been handed out (NULL: still open).';
COMMENT ON COLUMN current_session.books_total IS 'Books in the catalogue.';
COMMENT ON COLUMN current_session.handed_out IS 'Books handed out in this session and not released, by any server.';
COMMENT ON COLUMN current_session.books_free IS 'Books still free in this session.';
COMMENT ON COLUMN current_session.by_server IS 'Books handed out (not released) per app server instance, as JSON {"1": 8, "2": 7}: by_server->>''2'' is one server''s.';
COMMENT ON COLUMN current_session.released IS 'Requests of this session whose client gave them up (their books went back to the free ones).';
COMMENT ON COLUMN current_session.users IS 'Distinct users handed a book in this session (one whose request was released since counts too).';
COMMENT ON COLUMN current_session.last_request_at IS 'When the latest book of this session was claimed (log time); NULL if none yet.';

CREATE VIEW current_requests AS
SELECT q.id AS request_id,
       q.session_id,
       q.requested_at,
       u.name AS user_name,
       u.address AS user_address,
       q.server,
       q.client_time,
       q.server_time,
       q.book_id,
       q.isbn,
       b.title,
       b.author,
       encode(q.request_key, 'hex') AS request_key,
       q.released_at
FROM request q
JOIN library_user u ON u.id = q.user_id
JOIN book b ON b.id = q.book_id
WHERE q.session_id = (SELECT max(id) FROM session);
COMMENT ON VIEW current_requests IS 'Books handed out in the current session: who got which book, from which server, with the client''s and the server''s time of day. Add ORDER BY request_id for the order they were handed out.';
COMMENT ON COLUMN current_requests.request_id IS 'Request id (seq of its BOOK_CLAIM log entry).';
COMMENT ON COLUMN current_requests.session_id IS 'The current session''s id.';
COMMENT ON COLUMN current_requests.requested_at IS 'When the claim was appended to the log (replication server''s clock).';
COMMENT ON COLUMN current_requests.user_name IS 'Name of the user who received the book.';
COMMENT ON COLUMN current_requests.user_address IS 'Address the user''s client called from.';
COMMENT ON COLUMN current_requests.server IS 'App server instance that handed the book out.';
COMMENT ON COLUMN current_requests.client_time IS 'Client''s time of day when it asked (NULL: not given).';
COMMENT ON COLUMN current_requests.server_time IS 'Handing server''s time of day at the claim.';
COMMENT ON COLUMN current_requests.book_id IS 'Catalogue position of the book.';
COMMENT ON COLUMN current_requests.isbn IS 'ISBN-13 of the book.';
COMMENT ON COLUMN current_requests.title IS 'Title of the book.';
COMMENT ON COLUMN current_requests.author IS 'Author of the book.';
COMMENT ON COLUMN current_requests.request_key IS 'The request''s key in hex (the same for all its retries).';
COMMENT ON COLUMN current_requests.released_at IS 'When the client gave the request up and its book became free again; NULL: the user holds the book.';

CREATE VIEW free_books AS
SELECT b.id, b.isbn, b.title, b.author, b.year
FROM book b
WHERE NOT EXISTS (
    SELECT 1 FROM request q
    WHERE q.session_id = (SELECT max(id) FROM session) AND q.isbn = b.isbn
      AND q.released_at IS NULL
);
COMMENT ON VIEW free_books IS 'Books not handed out (or handed out and released) in the current session (every book when there is no session yet).';
COMMENT ON COLUMN free_books.id IS 'Catalogue position of the book.';
COMMENT ON COLUMN free_books.isbn IS 'ISBN-13 of the book.';
COMMENT ON COLUMN free_books.title IS 'Title of the book.';
COMMENT ON COLUMN free_books.author IS 'Author of the book.';
COMMENT ON COLUMN free_books.year IS 'Year the work was first published.';

CREATE VIEW sessions_summary AS
WITH per_server AS (
    SELECT session_id, server, count(*)::integer AS n
    FROM request
    WHERE released_at IS NULL
    GROUP BY session_id, server
), per_session AS (
    SELECT session_id,
           (count(*) FILTER (WHERE released_at IS NULL))::integer AS handed_out,
           (count(*) FILTER (WHERE released_at IS NOT NULL))::integer AS released,
           count(DISTINCT user_id)::integer AS users,
           min(requested_at) AS first_request_at,
           max(requested_at) AS last_request_at
    FROM request
    GROUP BY session_id
)
SELECT s.id AS session_id,
       s.previous,
       s.opened_at,
       s.opened_by,
       s.closed_at,
       coalesce(p.handed_out, 0) AS handed_out,
       (SELECT count(*)::integer FROM book) AS books_total,
       coalesce((SELECT jsonb_object_agg(x.server, x.n ORDER BY x.server)
                 FROM per_server x WHERE x.session_id = s.id), '{}') AS by_server,
       coalesce(p.released, 0) AS released,
       coalesce(p.users, 0) AS users,
       p.first_request_at,
       p.last_request_at,
       s.id = (SELECT max(id) FROM session) AS is_current
FROM session s
LEFT JOIN per_session p ON p.session_id = s.id;
COMMENT ON VIEW sessions_summary IS 'One row per session: how many books were handed out, by which server, to how many users. Add ORDER BY session_id.';
COMMENT ON COLUMN sessions_summary.session_id IS 'Session id (seq of its SESSION_OPEN log entry).';
COMMENT ON COLUMN sessions_summary.previous IS 'The session it replaced (NULL for the first).';
COMMENT ON COLUMN sessions_summary.opened_at IS 'When it was opened (log time).';
COMMENT ON COLUMN sessions_summary.opened_by IS 'App server instance that opened it.';
COMMENT ON COLUMN sessions_summary.closed_at IS 'When every book had been handed out (NULL: not closed).';
COMMENT ON COLUMN sessions_summary.handed_out IS 'Books handed out in the session (not released).';
COMMENT ON COLUMN sessions_summary.books_total IS 'Books in the catalogue now.';
COMMENT ON COLUMN sessions_summary.by_server IS 'Books handed out (not released) per app server instance, as JSON {"1": 8, "2": 7}.';
COMMENT ON COLUMN sessions_summary.released IS 'Requests of the session whose client gave them up.';
COMMENT ON COLUMN sessions_summary.users IS 'Distinct users handed a book in the session (one whose request was released since counts too).';
COMMENT ON COLUMN sessions_summary.first_request_at IS 'When its first book was claimed (log time).';
COMMENT ON COLUMN sessions_summary.last_request_at IS 'When its last book was claimed (log time).';
COMMENT ON COLUMN sessions_summary.is_current IS 'True for the current session (largest id).';

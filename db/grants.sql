-- The rights of each daemon's role (db/setup runs this in every database with psql
-- variables: role_time, role_repl, role_app (this database's app server, books DBs only)).
-- Tables belong to the administrator who loaded the schema; a daemon's role gets only
-- what its statements need, so a daemon can neither change the schema nor another
-- daemon's data, and the databases are closed to every other role.
\set ON_ERROR_STOP on

SELECT current_database() AS db \gset

\if :{?role_app}
  REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
  GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role_app";
  GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"role_app";
  GRANT INSERT ON library_user, session, request, book_release TO :"role_app";
  GRANT UPDATE ON session, replica_state, request TO :"role_app";
\elif :{?role_time}
  REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
  GRANT CONNECT ON DATABASE :"db" TO :"role_time";
  GRANT SELECT, INSERT, UPDATE ON node TO :"role_time";
  GRANT USAGE ON SEQUENCE node_id_seq TO :"role_time";
  GRANT SELECT, INSERT ON sync_round, node_sync TO :"role_time";
  GRANT SELECT ON sync_report TO :"role_time";
\elif :{?role_repl}
  REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
  GRANT CONNECT ON DATABASE :"db" TO :"role_repl";
  GRANT SELECT, INSERT ON log TO :"role_repl";
  GRANT SELECT ON log_readable TO :"role_repl";
\endif

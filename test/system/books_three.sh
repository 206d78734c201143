#!/usr/bin/env bash
# Three app servers on one log: one session of 500 books for 48 clients over the three
# (each client lists all three, its own first): each book once, the three books DBs
# identical row for row (books_concurrency.sh with APP_SERVERS=3).
APP_SERVERS=3 CLIENTS=48 SESSIONS=1
export APP_SERVERS CLIENTS SESSIONS
# shellcheck source=books_concurrency.sh
source "$(dirname "$0")/books_concurrency.sh"

#!/usr/bin/env bash
# "Request book" clicked on a client window (xdotool, a real click on the X server): the
# client logs the book it got and its window shows it (the book region changes from the
# "No book yet." state), app server 1's cover canvas goes from empty to the cover, and
# the request is in both books DBs.
source "$(dirname "$0")/lib.sh"

export TM=10
start_servers
app1_pid=$(part_pid_of app1)
wait_window "$app1_pid" "app server 1" >/dev/null
wait_drawn "$WIN_APP1" "app server 1"
start_client_window 1 gui-reader
wait_caught_up
park_mouse
sleep 0.5   # a frame or two with the mouse parked: no hover look anywhere

shot "$TEST_TMP/before.png"
wcrop "$TEST_TMP/before.png" "$WIN_CLIENT1" "$CLIENT_BOOK" "$TEST_TMP/book-before.png"
wcrop "$TEST_TMP/before.png" "$WIN_APP1" "$APP_COVER" "$TEST_TMP/cover-before.png"
# Empty canvas: its fill and its frame, nothing else.
colors=$(colors_in "$TEST_TMP/cover-before.png")
((colors <= 2)) || fail "app server 1's cover canvas is not empty before any request ($colors colours)"
canvas=$(count_color "$TEST_TMP/cover-before.png" "$COLOR_CANVAS")
((canvas > 30000)) || fail "app server 1's cover canvas is not the empty canvas ($canvas canvas pixels)"
pass "before: app server 1's cover canvas is empty ($canvas pixels of the canvas colour)"

click "$WIN_CLIENT1" "$CLIENT_REQUEST"
park_mouse
wait_until "the client logging the book it got" 15 grep -q 'request: book ' "$TEST_TMP/client1.log"
line=$(grep 'request: book ' "$TEST_TMP/client1.log" | head -1)
isbn=$(sed -E 's/.*request: book ([0-9]+) .*/\1/' <<<"$line")
title=$(sed -E 's/.*request: book [0-9]+ "(.*)" session .*/\1/' <<<"$line")
[[ $isbn =~ ^[0-9]{13}$ ]] || fail "no ISBN in the client's log line: $line"
pass "the click got a book: $isbn \"$title\" (client log)"

wait_region_change "$WIN_CLIENT1" "$CLIENT_BOOK" "$TEST_TMP/book-before.png" 10 500
changed=$(ae "$TEST_TMP/book-before.png" "$REGION_NOW")
pass "the client window's book region changed from \"No book yet.\" ($changed pixels)"

wait_region_change "$WIN_APP1" "$APP_COVER" "$TEST_TMP/cover-before.png" 10 10000
cp "$REGION_NOW" "$TEST_TMP/cover-after.png"
changed=$(ae "$TEST_TMP/cover-before.png" "$TEST_TMP/cover-after.png")
colors=$(colors_in "$TEST_TMP/cover-after.png")
((colors > 5)) || fail "app server 1's canvas changed but holds only $colors colours: not a cover"
pass "app server 1's canvas shows a cover now ($changed of 33750 pixels changed, $colors colours)"

# The cover shown is the book's: the covers are PNGs of the canvas's aspect (2:3), so the
# canvas is the DB's cover scaled down. Both are averaged down to 37x56 first (the
# renderer samples the nearest pixel, ImageMagick elsewhere) inside the canvas's 1-pixel
# frame, then compared.
bsql 1 "SELECT encode(cover, 'base64') FROM book WHERE isbn = '$isbn'" |
    base64 -d >"$TEST_TMP/cover-db.png" 2>/dev/null || true
if [[ -s $TEST_TMP/cover-db.png ]]; then
    convert "$TEST_TMP/cover-db.png" -resize '150x225!' -crop 148x223+1+1 +repage \
        -resize '37x56!' "png:$TEST_TMP/cover-db-small.png"
    convert "$TEST_TMP/cover-after.png" -crop 148x223+1+1 +repage \
        -resize '37x56!' "png:$TEST_TMP/cover-after-small.png"
    diff_px=$(ae "$TEST_TMP/cover-db-small.png" "$TEST_TMP/cover-after-small.png" 10%)
    ((diff_px < 104)) || fail "the canvas does not look like the cover of $isbn from the DB ($diff_px of 2072 pixels differ by more than 10% at 37x56)"
    pass "the canvas shows the cover of $isbn stored in the books DB ($diff_px of 2072 pixels differ by more than 10% at 37x56)"
else
    log "book $isbn has no cover in the DB: canvas compared with nothing"
fi

wait_caught_up
for n in 1 2; do
    got=$(bsql "$n" "SELECT count(*) FROM request r JOIN library_user u ON u.id = r.user_id
                     WHERE r.isbn = '$isbn' AND u.name = 'gui-reader'")
    ((got == 1)) || fail "books$n holds $got requests of $isbn by gui-reader (expected 1)"
done
pass "the request of $isbn by gui-reader is in books1 and books2"
books_same "after the click"

stop_extras
registered "$CLIENT1_PROG" && fail "the client's clock program $CLIENT1_PROG is still registered after it stopped"
pass "the client stopped cleanly (SIGTERM, exit 0, no sanitizer report, registration gone)"

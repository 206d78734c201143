# shellcheck shell=bash
# The checks' output and waiting, shared by test/system/lib.sh and test/netbed/lib.sh
# (sourced; TEST_NAME set by the caller): "[test] ok N - what", "[test] FAIL: why".
CHECKS=0

log() { printf '[%s] %s\n' "$TEST_NAME" "$*"; }
fail() {
    printf '[%s] FAIL: %s\n' "$TEST_NAME" "$*" >&2
    exit 1
}
pass() {
    CHECKS=$((CHECKS + 1))
    printf '[%s] ok %d - %s\n' "$TEST_NAME" "$CHECKS" "$*"
}

# wait_until DESCRIPTION TIMEOUT_S COMMAND...: polls COMMAND (every 50 ms) until it
# succeeds; fails the test with DESCRIPTION when TIMEOUT_S passes first.
wait_until() {
    local what=$1 timeout=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for: $what"
        sleep 0.05
    done
}

#!/usr/bin/env bash
# `make deb`, then the package as an operator meets it (root only: dpkg):
# - lintian finds no error (make deb fails on one; its warnings are shown);
# - dpkg -i: the system user bibliotime exists (the one scripts/cluster made is kept as
#   it is), the config files are conffiles, a key file of mode 0600 is made, the units
#   are installed and not enabled, `man` finds the pages and renders them without a
#   warning;
# - the installed client, with no option but --request, reads /etc/bibliotime/client.conf
#   and gets a book from the test cluster's app server 1, and from app server 2 while 1
#   is down (both of the shipped server lines are read);
# - dpkg -r leaves nothing but the config files (a find over /etc, /usr, /lib and /opt
#   before and after, and dpkg -L), dpkg -P leaves nothing, and the user is unchanged.
# Whatever happens, the package is purged at the end.
source "$(dirname "$0")/lib.sh"

if ((EUID != 0)); then
    log "not root: dpkg -i needs root (skipped)"
    exit 0
fi
PKG=bibliotime
pkg_status() { dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" 2>/dev/null | tr -d ' '; }
# Refuse to touch a Bibliotime installed by someone (or a leftover of an earlier run that
# could not be purged): the test could not tell its files from that one's.
[[ -z $(pkg_status) || $(pkg_status) == un || $(pkg_status) == pn ]] ||
    fail "package $PKG is on this machine (status $(pkg_status)): dpkg -P $PKG first"
[[ ! -e /etc/bibliotime ]] || fail "/etc/bibliotime exists: not a clean machine for this test (move it away)"

INSTALLED=0
cleanup_deb() {
    if ((INSTALLED)) || [[ -n $(pkg_status) && $(pkg_status) != un && $(pkg_status) != pn ]]; then
        dpkg -P "$PKG" >>"$TEST_TMP/dpkg.log" 2>&1 || log "dpkg -P $PKG failed: see $TEST_TMP/dpkg.log"
    fi
}
trap 'rc=$?; cleanup_deb; (exit $rc); finish' EXIT

# The files of the places a package installs to, one path a line.
snapshot() { find /etc /usr /lib /opt -xdev \( -type f -o -type l -o -type d \) 2>/dev/null | sort; }
uid_before=$(id -u bibliotime 2>/dev/null || echo none)

# ---- make deb ----
make -C "$ROOT" deb >"$TEST_TMP/deb.log" 2>&1 || fail "make deb: $(tail -8 "$TEST_TMP/deb.log")"
deb=$(sed -n 's/^make deb: \(.*\.deb\)$/\1/p' "$TEST_TMP/deb.log" | tail -1)
[[ -n $deb && -f $ROOT/$deb ]] || fail "make deb printed no .deb path: $(tail -3 "$TEST_TMP/deb.log")"
deb=$ROOT/$deb
lint=$(grep -E '^[EWI]: ' "$ROOT/build/deb/lintian.txt" || true)
grep -q '^E: ' <<<"$lint" && fail "lintian errors: $lint"
pass "make deb: $(basename "$deb") ($(stat -c %s "$deb") bytes), lintian without errors, $(grep -c '^W: ' <<<"$lint") warning(s)${lint:+: $(grep '^W: ' <<<"$lint" | tr '\n' ' ')}"

# ---- dpkg -i ----
before=$TEST_TMP/files.before
snapshot >"$before"
INSTALLED=1
dpkg -i "$deb" >"$TEST_TMP/dpkg.log" 2>&1 || fail "dpkg -i $deb: $(tail -5 "$TEST_TMP/dpkg.log")"
[[ $(pkg_status) == ii ]] || fail "after dpkg -i the package is '$(pkg_status)'"
uid=$(id -u bibliotime) || fail "no user bibliotime after dpkg -i"
((uid < 1000)) || fail "bibliotime (uid $uid) is not a system user"
[[ $uid_before == none || $uid_before == "$uid" ]] || fail "the user bibliotime changed uid: $uid_before -> $uid"
[[ $(getent passwd bibliotime | cut -d: -f7) == */nologin ]] || fail "bibliotime has a login shell"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' "$PKG" | awk 'NF {print $1}' | sort)
want_conf=$(printf '/etc/bibliotime/%s\n' app-server-1.conf app-server-2.conf client.conf \
    replication-server.conf time-server.conf)
[[ $conffiles == "$want_conf" ]] || fail "conffiles: $(tr '\n' ' ' <<<"$conffiles")"
[[ $(stat -c '%a %U' /etc/bibliotime/bibliotime.keys) == "600 root" ]] ||
    fail "key file: $(stat -c '%a %U' /etc/bibliotime/bibliotime.keys 2>&1)"
for u in bibliotime-time-server.service bibliotime-replication-server.service bibliotime-app-server@.service; do
    [[ -f /lib/systemd/system/$u ]] || fail "unit $u not installed"
done
enabled=$(find /etc/systemd/system -name 'bibliotime*' 2>/dev/null)
[[ -z $enabled ]] || fail "units enabled on installation: $enabled"
pass "dpkg -i: system user bibliotime (uid $uid$([[ $uid_before == none ]] && echo ", made by postinst" || echo ", kept")), 5 conffiles, a key file 600 root, 3 units installed and not enabled"

export MANWIDTH=80
for page in bibliotime-time-server bibliotime-app-server bibliotime-replication-server bibliotime-client; do
    path=$(man -w "$page") || fail "man does not find $page"
    warnings=$(man --warnings "$page" 2>&1 >/dev/null)
    [[ -z $warnings ]] || fail "man $page: $warnings"
done
pass "man finds the 4 installed pages ($(man -w bibliotime-client)...) and renders them without a warning"

# ---- the installed client against the test cluster ----
start_servers
client=/usr/bin/bibliotime-client
[[ $("$client" --version) == "bibliotime-client (Bibliotime) "* ]] || fail "$client --version"
out=$("$client" --headless --request --json --name debian 2>"$TEST_TMP/client.log") ||
    fail "the installed client: exit $?: $out $(tail -3 "$TEST_TMP/client.log")"
[[ $out == '{"isbn":"'* ]] ||
    fail "the installed client printed no book: $out"
[[ $out == *'"server":1,'* ]] || fail "the first book did not come from app server 1: $out"
pass "the installed client, reading /etc/bibliotime/client.conf, got a book from app server 1: $(cut -c1-90 <<<"$out")"
cluster stop app1 >/dev/null
out=$("$client" --headless --request --json --name debian 2>>"$TEST_TMP/client.log") ||
    fail "the installed client with app server 1 down: exit $?: $out"
[[ $out == *'"server":2,'* ]] || fail "with app server 1 down the book did not come from app server 2: $out"
pass "with app server 1 down it got one from app server 2, the conffile's second server line"

# ---- dpkg -r, dpkg -P ----
dpkg -r "$PKG" >>"$TEST_TMP/dpkg.log" 2>&1 || fail "dpkg -r: $(tail -5 "$TEST_TMP/dpkg.log")"
[[ $(pkg_status) == rc ]] || fail "after dpkg -r the package is '$(pkg_status)', not rc (config files)"
left=$(snapshot | comm -13 "$before" - | tr '\n' ' ')
want="/etc/bibliotime /etc/bibliotime/app-server-1.conf /etc/bibliotime/app-server-2.conf /etc/bibliotime/bibliotime.keys /etc/bibliotime/client.conf /etc/bibliotime/replication-server.conf /etc/bibliotime/time-server.conf "
[[ $left == "$want" ]] || fail "dpkg -r left: $left"
gone=$(comm -23 "$before" <(snapshot) | tr '\n' ' ')
[[ -z $gone ]] || fail "dpkg -i and -r removed files that were there before: $gone"
listed=$(dpkg -L "$PKG" 2>/dev/null | grep -v '^/etc/bibliotime' | while read -r f; do
    if [[ -e $f && ! -d $f ]]; then echo "$f"; fi; done | tr '\n' ' ')
[[ -z $listed ]] || fail "dpkg -L still lists files that exist outside /etc/bibliotime: $listed"
pass "dpkg -r left only /etc/bibliotime: the 5 conffiles and the key file (find before and after, dpkg -L)"

dpkg -P "$PKG" >>"$TEST_TMP/dpkg.log" 2>&1 || fail "dpkg -P: $(tail -5 "$TEST_TMP/dpkg.log")"
INSTALLED=0
[[ -z $(pkg_status) || $(pkg_status) == un || $(pkg_status) == pn ]] || fail "after dpkg -P: '$(pkg_status)'"
left=$(snapshot | comm -13 "$before" - | tr '\n' ' ')
[[ -z $left ]] || fail "dpkg -P left: $left"
[[ $(id -u bibliotime) == "$uid" ]] || fail "the user bibliotime is gone or changed after dpkg -P"
pass "dpkg -P left nothing; the user bibliotime (uid $uid) is kept for scripts/cluster and files it owns"

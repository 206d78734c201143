# var_dir ROOT: sets VAR_DIR to where a checkout at ROOT keeps its running system (PostgreSQL data,
# sockets, logs, keys): ROOT/var, unless the checkout is run by root and one of ROOT's
# folders is closed to other users (a clone in root's 0700 home): PostgreSQL, chronyd
# and the daemons run as other users and could not enter it. Then a folder of its own
# under /var/tmp, named after the checkout, and VAR_DIR_WHY says why in one line.
# Sourced by scripts/cluster, scripts/run, scripts/screenshots and test/run-all.
var_dir() {
    local root=$1 d="" part closed=""
    VAR_DIR_WHY=""
    if ((EUID == 0)); then
        local IFS=/
        for part in $root; do
            [[ -z $part ]] && continue
            d=$d/$part
            # others' search bit: what postgres, _chrony and the daemon user need
            if [[ $(stat -c %A "$d" 2>/dev/null) != ?????????[xt] ]]; then
                closed=$d
                break
            fi
        done
    fi
    if [[ -z $closed ]]; then
        VAR_DIR=$root/var
        return
    fi
    local name hash
    name=$(basename "$root")
    hash=$(printf %s "$root" | md5sum | cut -c1-8)
    VAR_DIR=/var/tmp/bibliotime-$name-$hash
    VAR_DIR_WHY="$closed is closed to other users (mode $(stat -c %a "$closed")), so the running system's files go to /var/tmp/bibliotime-$name-$hash"
}

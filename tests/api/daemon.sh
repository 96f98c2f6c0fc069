# daemon.sh - what the bash API test scripts that run an ovmmd of their
# own share (sourced after tap.sh): start it on a temporary data directory
# with simulated hosts, and talk to it as admin over HTTPS.
#
# The caller sets T (its temporary directory), D (the data directory),
# OVMMD, WAIT_S and REST, and ends the daemon itself, by the PID start()
# records in PID. start() runs it with three simulated hosts.

daemon_diag() {
    echo "stderr: $(tail -c 600 "$T/stderr" 2>/dev/null)"
    echo "log: $(tail -n 8 "$D/logs/ovmmd.log" 2>/dev/null)"
}

# req METHOD PATH [BODY]: as admin; sets ST and BODY.
req() {
    local f=$T/resp out data=()
    rm -f "$f"
    [ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data "$3")
    if out=$(curl -sS --max-time 60 --cacert "$D/tls/server.crt" -o "$f" \
        -w '%{http_code}' -X "$1" -u "admin:$(head -n 1 "$D/admin-password")" \
        "${data[@]}" "$BASE$2" 2>"$T/curl.err"); then
        ST=$out
    else
        ST="curl-failed:$(cat "$T/curl.err")"
    fi
    BODY=$(cat "$f" 2>/dev/null)
}

# jfield NAME: the first "NAME" member's scalar value in $BODY.
jfield() {
    printf '%s' "$BODY" | tr -d '\n' |
        sed -n "s/.*\"$1\" *: *\"\{0,1\}\([^\",}]*\)\"\{0,1\}[,}].*/\1/p" |
        head -n 1
}

# jcount NAME: how many members called NAME $BODY has (objects in a list).
jcount() {
    printf '%s' "$BODY" | grep -o "\"$1\" *:" | wc -l | tr -d ' '
}

# run METHOD PATH [BODY]: a change; waits for its job. Sets ST, BODY (the
# finished Job), JSTATE, JERROR, RESULT (the resultId value).
run() {
    local job
    req "$@"
    JSTATE= JERROR= RESULT=
    [ "$ST" = 200 ] || return 1
    job=$(printf '%s' "$BODY" | tr -d '\n' |
        sed -n 's/^{"id" *: *{[^}]*"value" *: *"\([0-9]*\)".*/\1/p')
    [ -n "$job" ] || return 1
    req GET "/Job/$job?wait=$WAIT_S"
    JSTATE=$(jfield jobRunState)
    JERROR=$(printf '%s' "$BODY" | tr -d '\n' |
        sed -n 's/.*"error" *: *{"message" *: *"\([^"]*\)".*/\1/p')
    RESULT=$(printf '%s' "$BODY" | tr -d '\n' |
        sed -n 's/.*"resultId" *: *{[^}]*"value" *: *"\([^"]*\)".*/\1/p')
    [ "$JSTATE" = SUCCESS ]
}

# idof PATH NAME: the id of the object called NAME in the list at PATH.
idof() {
    req GET "$1"
    printf '%s' "$BODY" | tr -d '\n' | sed 's/},{"id"/}\n{"id"/g' |
        grep "\"name\" *: *\"$2\"" | head -n 1 |
        sed -n 's/^.*{"id" *: *{[^}]*"value" *: *"\([^"]*\)".*/\1/p'
}

start() { # start ovmmd on $D; sets PID, BASE; 1 on failure
    rm -f "$D/ovmmd.port"
    "$OVMMD" --foreground --data-dir "$D" --listen 127.0.0.1:0 --simulate 3 \
        >"$T/stdout" 2>"$T/stderr" &
    PID=$!
    local i p port=
    for i in $(seq 1 $((WAIT_S * 10))); do
        if [ -s "$D/ovmmd.port" ]; then
            p=$(head -n 1 "$D/ovmmd.port")
            case $p in *[!0-9]* | '') ;; *) port=$p && break ;; esac
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] || return 1
    BASE=https://127.0.0.1:$port$REST
    for i in $(seq 1 $((WAIT_S * 10))); do
        req GET /Manager
        [ "$ST" = 200 ] && printf '%s' "$BODY" |
            grep -Eq '"managerRunState" *: *"RUNNING"' && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

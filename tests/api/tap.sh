# tap.sh - the TAP reporter shared by tests/api/run.sh and lifecycle.sh
# (sourced, bash). Uses and updates the caller's counters n and failed.

tap() { # tap ok|fail NAME [diagnostic...]
    local res=$1 name=$2
    shift 2
    n=$((n + 1))
    if [ "$res" = ok ]; then
        echo "ok $n - $name"
    else
        failed=$((failed + 1))
        echo "not ok $n - $name"
        local l
        for l in "$@"; do
            printf '%s\n' "$l" | sed 's/^/#   /'
        done
    fi
}

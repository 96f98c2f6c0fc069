#!/usr/bin/env bash
# tests/run.sh - every test tier, as `make test` runs it.
#
# Runs each unit test binary $BUILD/tests/test_* (cmocka, TAP output), then
# the API tier (tests/api/run.sh, which also runs lifecycle.sh, then
# tests/api/jobs.sh: job engine load, crash and streaming tests, then
# tests/api/monitor.sh: monitoring against a libvirtd of its own, then
# tests/api/storage.sh: repositories on the simulated storage's files, then
# tests/api/network.sh: bridges on the simulated hosts, through virsh, then
# tests/api/vnic.sh: VNICs and MAC ranges on VMs written into its inventory, then
# tests/api/power.sh: server power through ipmi_sim and Wake-on-LAN). All output
# goes to the terminal and to $BUILD/test-results.tap (installed at the end). Afterwards it counts
# the "ok" and "not ok" lines over everything (TAP numbering restarts in
# each part; only the lines count), adds one failure for any part that
# exits non-zero without a "not ok" line of its own, prints
# "N passed, N failed" and exits non-zero when anything failed. A failing
# part never stops the later ones.
#
# Environment: BUILD (default build); TIERS (default "lint unit api browser") picks tiers.
set -u

cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
export BUILD
TIERS=${TIERS:-lint unit api browser}
RESULTS=$BUILD/test-results.tap
mkdir -p "$BUILD" || exit 2
# Collect privately and install at the end, so that a concurrent run on
# the same BUILD cannot truncate what this run counts.
ALL=$(mktemp "${TMPDIR:-/tmp}/ovmm-results.XXXXXX") || exit 2
trap 'rm -f "$ALL"' EXIT

# cmocka prints TAP only when asked.
export CMOCKA_MESSAGE_OUTPUT=TAP

# run_part NAME command...: run one part, tee its output, and note a
# non-zero exit that printed no "not ok" line.
run_part() {
    local name=$1 out rc
    shift
    out=$(mktemp "${TMPDIR:-/tmp}/ovmm-part.XXXXXX") || exit 2
    echo "# ---- $name" | tee -a "$ALL"
    "$@" 2>&1 | tee "$out" | tee -a "$ALL"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ] &&
        ! grep -Eq '^[[:space:]]*not ok([[:space:]]|$)' "$out"; then
        echo "not ok - $name exited with status $rc without reporting a failed test" |
            tee -a "$ALL"
    fi
    if [ "$rc" -eq 0 ] &&
        ! grep -Eq '^[[:space:]]*(not )?ok([[:space:]]|$)' "$out"; then
        echo "not ok - $name printed no test results" | tee -a "$ALL"
    fi
    rm -f "$out"
}

for tier in $TIERS; do
    case $tier in
    unit)
        found=0
        for bin in "$BUILD"/tests/test_*; do
            [ -f "$bin" ] && [ -x "$bin" ] || continue
            case $bin in *.d | *.o) continue ;; esac
            found=1
            run_part "unit $(basename "$bin")" "$bin"
        done
        if [ "$found" = 0 ]; then
            echo "# no unit test binaries in $BUILD/tests" | tee -a "$ALL"
        fi
        ;;
    lint)
        run_part "lint" sh scripts/lint.sh
        ;;
    api)
        run_part "api" bash tests/api/run.sh
        run_part "api jobs" bash tests/api/jobs.sh
        run_part "api monitor" bash tests/api/monitor.sh
        run_part "api storage" bash tests/api/storage.sh
        run_part "api network" bash tests/api/network.sh
        run_part "api vnic" bash tests/api/vnic.sh
        run_part "api power" bash tests/api/power.sh
        ;;
    browser)
        run_part "browser" bash tests/browser/run.sh
        ;;
    *)
        echo "not ok - unknown tier '$tier'" | tee -a "$ALL"
        ;;
    esac
done

# Count over everything that was written (indented TAP lines included).
passed=$(grep -Ec '^[[:space:]]*ok([[:space:]]|$)' "$ALL")
failed=$(grep -Ec '^[[:space:]]*not ok([[:space:]]|$)' "$ALL")
echo "$passed passed, $failed failed" | tee -a "$ALL"
cp "$ALL" "$RESULTS.tmp.$$" && mv "$RESULTS.tmp.$$" "$RESULTS"
[ "$failed" -eq 0 ]

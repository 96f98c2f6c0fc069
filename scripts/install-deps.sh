#!/bin/sh
# install-deps.sh - install the Debian 12 packages ovmm needs to build and test.
#
# Idempotent: asks dpkg which packages are missing and installs only those,
# printing nothing when everything is already there. Needs root (or sudo)
# only when something is missing. Used by `make run` and `make check`.
#
# Usage: scripts/install-deps.sh [build|test|all]   (default: all)
set -eu

BUILD_PKGS="gcc make pkg-config libmicrohttpd-dev libsqlite3-dev libjson-c-dev
libvirt-dev libxml2-dev libssl-dev uuid-dev libsodium-dev openssl
libcurl4-openssl-dev libarchive-dev"
# libvirt-daemon: the libvirtd that tests/api/monitor.sh starts on a private
# socket with the test driver only (it pulls libvirt-daemon-driver-qemu,
# which that libvirtd never loads; no QEMU is installed).
# openipmi, ipmitool: tests/api/power.sh drives OpenIPMI's BMC simulator
# (ipmi_sim) with ipmitool, which ovmmd runs for server power control.
# qemu-utils: qemu-img checks the qcow2 overlays (thin clones) that the
# simulated storage writes (tests/unit/test_hv_storage.c).
# libvirt-clients: virsh, with which tests/api/network.sh looks at the
# simulated hosts' interfaces (bridges, bonds) through libvirt itself.
TEST_PKGS="libcmocka-dev curl sqlite3 procps chromium nodejs
libvirt-daemon libvirt-clients openipmi ipmitool qemu-utils"

case "${1:-all}" in
build) want="$BUILD_PKGS" ;;
test) want="$BUILD_PKGS $TEST_PKGS" ;;
all) want="$BUILD_PKGS $TEST_PKGS" ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps: missing packages and not root; install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"

#!/usr/bin/env bash
# Installs the Debian 12 packages certsentry needs.
#   tests/deps.sh        build and run (libpcap, OpenSSL 3, nDPI, hiredis, jansson,
#                        zlib, brotli and zstd for compressed certificates)
#   tests/deps.sh test   also what the tests use (cmocka, tshark, scapy,
#                        jsonschema, python3-cryptography for the CT logs of
#                        tests/ctlog, OpenSSL/GnuTLS tools, tcpdump, iproute2,
#                        clang and its libFuzzer runtime, redis-server,
#                        prometheus_client, groff and man-db for the man
#                        page, systemd-analyze and strace for the unit,
#                        debhelper for make deb)
#   tests/deps.sh bench  what make bench compares with (tshark, ndpiReader),
#                        and python3-cryptography for bench_ct_follow's logs
# Needs root (or sudo).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
build_pkgs="build-essential pkg-config libpcap-dev libssl-dev libndpi-dev libhiredis-dev libjansson-dev
  zlib1g-dev libbrotli-dev libzstd-dev libcurl4-openssl-dev"
test_pkgs="libcmocka-dev openssl gnutls-bin tshark tcpdump tcpreplay iproute2
  python3 python3-scapy python3-jsonschema python3-cryptography valgrind clang libclang-rt-14-dev redis-server
  python3-prometheus-client groff-base man-db systemd strace debhelper"
bench_pkgs="tshark libndpi-bin time python3 python3-cryptography"
pkgs=$build_pkgs
[ "${1:-}" = test ] && pkgs="$build_pkgs $test_pkgs"
[ "${1:-}" = bench ] && pkgs="$build_pkgs $bench_pkgs"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing
fi

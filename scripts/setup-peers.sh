#!/usr/bin/env bash
# Installs the Debian peers the tests and benches talk to (real servers and clients on loopback):
# nginx-light (the server), curl (a libc client), wrk and hey (load; hey is a Go client using raw
# syscalls), bpftrace (the tracing floor in bench/http-overhead), prometheus (remote-write and
# scrape peer), kcat (librdkafka's mock Kafka cluster and an independent Kafka reader),
# thrift-compiler (an independent Thrift implementation for the Jaeger tests).
# Idempotent: installs only what is missing, and only as root (apt-get); otherwise it prints
# the command to run. Never starts or enables a service (the tests run their peers themselves).
#   SONDE_SKIP_APT=1   never call apt-get (report what is missing and exit 0)
set -euo pipefail

say() { echo "setup-peers: $*" >&2; }

PKGS=(nginx-light curl wrk hey bpftrace prometheus kcat thrift-compiler)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0

if [[ $(id -u) -ne 0 || ${SONDE_SKIP_APT:-0} == 1 ]]; then
  say "missing Debian packages: ${missing[*]} (HTTP tests that need them will fail; run as root: apt-get install -y ${missing[*]})"
  exit 0
fi

say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: packages must not start nginx on port 80 or prometheus on 9090 during install
POLICY=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $POLICY ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod +x "$POLICY" && created_policy=1
fi
cleanup() { ((created_policy)) && rm -f "$POLICY"; return 0; }
trap cleanup EXIT
apt-get update -qq >/dev/null || { say "error: apt-get update failed"; exit 1; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { say "error: apt-get install ${missing[*]} failed"; exit 1; }
say "ok"

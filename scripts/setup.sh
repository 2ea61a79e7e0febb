#!/usr/bin/env bash
# The one setup step behind `npm start`, `npm test` and `npm run bench`: installs what is missing
# and builds what changed. Idempotent, and quick when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# Node.js 20.19+ (mocha 12 and the OpenTelemetry packages need it).
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { say "Node.js >= 20.19 is required, found $(node --version)"; exit 1; }

# npm dependencies: install when missing or when the lock file changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi

# Real peers the tests talk to (nginx, curl, wrk): Debian packages, installed when root.
if [[ -f scripts/setup-peers.sh ]]; then
  bash scripts/setup-peers.sh || say "peers for the HTTP tests unavailable (see above)"
fi

# The eBPF toolchain, BPF objects and the native addon. Only eBPF receivers need them, so a
# failure here (no root to install packages, say) is reported and the rest still builds.
if [[ -f scripts/setup-ebpf.sh ]]; then
  if ! bash scripts/setup-ebpf.sh; then
    say "eBPF build unavailable (see above): pipelines without eBPF receivers still run"
  fi
fi

# TypeScript -> dist/ (incremental; type-checks the whole tree, tests and benches included).
say "building (tsc)"
node_modules/.bin/tsc -p tsconfig.json

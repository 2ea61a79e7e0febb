#!/usr/bin/env bash
# Builds Sonde's kernel side: Debian packages, kernel mounts, build/vmlinux.h, build/bpf/*.bpf.o and
# the libbpf addon (build/native/sonde_bpf.node). Idempotent: a second run only checks mtimes.
# Called by scripts/setup.sh; runnable on its own: `bash scripts/setup-ebpf.sh`.
#   SONDE_SKIP_APT=1      never call apt-get (fail with the list of missing packages instead)
#   SONDE_VMLINUX_H=path  a generated vmlinux.h to use when this kernel has no BTF
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=$ROOT/build
say() { echo "setup-ebpf: $*" >&2; }
die() { echo "setup-ebpf: error: $*" >&2; exit 1; }
IS_ROOT=0; [[ $(id -u) -eq 0 ]] && IS_ROOT=1

# ---- 1. Debian packages ------------------------------------------------------------------------
# clang: compiles bpf/*.bpf.c; libbpf-dev/libelf-dev/zlib1g-dev: headers and libs for the addon and
# the bench's C consumer; bpftool: vmlinux.h and skeletons; g++/make/python3: node-gyp.
PKGS=(clang libbpf-dev libelf-dev zlib1g-dev linux-libc-dev bpftool gcc g++ make pkg-config python3 util-linux)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if ((IS_ROOT)) && [[ ${SONDE_SKIP_APT:-0} != 1 ]]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed"
  else
    die "missing Debian packages: ${missing[*]} (run as root: apt-get install -y ${missing[*]})"
  fi
fi

# ---- 2. kernel file systems --------------------------------------------------------------------
# A fresh machine mounts none of these; tracepoint attach needs tracefs, `sonde doctor` reads the
# lockdown mode from securityfs, bpffs is where pins would go (Sonde pins nothing by default).
mount_fs() { # type dir
  mountpoint -q "$2" 2>/dev/null && return 0
  if ((IS_ROOT)); then
    mkdir -p "$2" 2>/dev/null || true
    mount -t "$1" "$1" "$2" 2>/dev/null || say "warning: cannot mount $1 at $2"
  else
    say "warning: $1 is not mounted at $2 (mount it as root: mount -t $1 $1 $2)"
  fi
}
mount_fs tracefs /sys/kernel/tracing
mount_fs bpf /sys/fs/bpf
mount_fs securityfs /sys/kernel/security

# ---- 3. vmlinux.h ------------------------------------------------------------------------------
mkdir -p "$BUILD/bpf" "$BUILD/native"
VMLINUX_H=$BUILD/vmlinux.h
KREL=$(uname -r)
if [[ -r /sys/kernel/btf/vmlinux ]]; then
  # regenerate when the running kernel changed (sysfs mtimes say nothing useful)
  if [[ ! -s $VMLINUX_H || $(cat "$VMLINUX_H.kernel" 2>/dev/null) != "$KREL" ]]; then
    say "generating build/vmlinux.h from /sys/kernel/btf/vmlinux ($KREL)"
    bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$VMLINUX_H.tmp" || die "bpftool btf dump failed"
    mv "$VMLINUX_H.tmp" "$VMLINUX_H"
    echo "$KREL" >"$VMLINUX_H.kernel"
  fi
elif [[ -n ${SONDE_VMLINUX_H:-} && -r ${SONDE_VMLINUX_H} ]]; then
  [[ $VMLINUX_H -nt $SONDE_VMLINUX_H ]] || cp "$SONDE_VMLINUX_H" "$VMLINUX_H"
elif [[ ! -s $VMLINUX_H ]]; then
  die "this kernel has no BTF (/sys/kernel/btf/vmlinux) and no generated vmlinux.h was given (SONDE_VMLINUX_H=path)"
fi

# ---- 4. BPF objects ----------------------------------------------------------------------------
case $(uname -m) in
  x86_64) ARCH=x86 ;;
  aarch64) ARCH=arm64 ;;
  s390x) ARCH=s390 ;;
  ppc64le) ARCH=powerpc ;;
  riscv64) ARCH=riscv ;;
  *) ARCH=$(uname -m) ;;
esac
newer_than() { # target deps... : true when target is missing or older than any dep
  local t=$1; shift
  [[ -e $t ]] || return 0
  local d
  for d in "$@"; do [[ $d -nt $t ]] && return 0; done
  return 1
}
shopt -s nullglob
headers=(bpf/*.h)
for src in bpf/*.bpf.c; do
  name=$(basename "$src" .c)
  obj=$BUILD/bpf/$name.o
  if newer_than "$obj" "$src" "${headers[@]}" "$VMLINUX_H"; then
    say "clang $src"
    clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_$ARCH -I"$BUILD" -Ibpf -c "$src" -o "$obj.tmp" \
      || die "compiling $src failed"
    mv "$obj.tmp" "$obj"
  fi
done

# ---- 5. the addon ------------------------------------------------------------------------------
ADDON=$BUILD/native/sonde_bpf.node
addon_srcs=(native/binding.gyp native/src/*.cc native/src/*.h)
if newer_than "$ADDON" "${addon_srcs[@]}"; then
  if ! node -e "require.resolve('node-addon-api')" >/dev/null 2>&1; then
    if [[ ! -d node_modules ]]; then
      say "node_modules missing: npm ci"
      npm ci --no-audit --no-fund --loglevel=error >/dev/null || die "npm ci failed"
    else
      die "node-addon-api is not installed (run npm ci)"
    fi
  fi
  NODE_GYP=/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
  [[ -f $NODE_GYP ]] || NODE_GYP=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
  [[ -f $NODE_GYP ]] || die "node-gyp not found (it ships with npm)"
  # the node headers come with this machine's node (/usr/include/node): --nodedir=/usr keeps
  # node-gyp from downloading them.
  NODEDIR=${npm_config_nodedir:-$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")}
  [[ -f $NODEDIR/include/node/node_api.h ]] || die "node headers not found under $NODEDIR/include/node"
  say "node-gyp (nodedir $NODEDIR)"
  (cd native && node "$NODE_GYP" rebuild --nodedir="$NODEDIR" --loglevel=warn >"$BUILD/native/node-gyp.log" 2>&1) \
    || { tail -40 "$BUILD/native/node-gyp.log" >&2; die "building the addon failed (full log: build/native/node-gyp.log)"; }
  cp native/build/Release/sonde_bpf.node "$ADDON.tmp" && mv "$ADDON.tmp" "$ADDON"
fi
say "ok"

#!/usr/bin/env bash
# Installs every Debian package mmbpf needs to build, test and fuzz. Idempotent: prints nothing
# and touches nothing when all are present; otherwise runs apt-get (as root, or through sudo).
set -euo pipefail

packages=(
  cmake ninja-build g++ clang-14 llvm-14 libclang-rt-14-dev  # build; clang targets BPF and fuzzes, llvm-objcopy extracts BTF
  linux-libc-dev                                       # <linux/bpf.h>: the kernel's BPF uapi names
  libgtest-dev libgmock-dev libbenchmark-dev           # tests and benchmarks
  libcli11-dev libfmt-dev nlohmann-json3-dev           # the command line
  libelf-dev libbpf-dev                                # ELF and BTF (object loader)
  fio sqlite3 python3                                  # scripts/capture/: the live capture workloads
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# dev.sh — set up, build, demo and test dsim on Debian 12.
#
#   ./dev.sh demo    install what is missing, build, run the textbook demo
#   ./dev.sh test    install what is missing, build, run the whole test suite
#                    (a normal -Werror build, then an ASan+UBSan build)
#   ./dev.sh deps    only install the Debian packages
#   ./dev.sh build   only build (build/)
#
# Run as root or as a user who may sudo; packages come from Debian only.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config libglib2.0-dev liblua5.4-dev libcmocka-dev
          libssl-dev libjson-glib-dev python3 chromium)
JOBS=$(nproc 2>/dev/null || echo 2)

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() { # build DIR [cmake options...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build build -DDSIM_WERROR=ON ;;
  demo)
    deps
    build build -DDSIM_WERROR=ON
    ./build/dsim run scenarios/textbook/clientserver.lua --seed 1 --trace build/demo.jsonl
    echo "trace written to build/demo.jsonl"
    ;;
  test)
    deps
    build build -DDSIM_WERROR=ON
    (cd build && ctest --output-on-failure -j "$JOBS")
    build build-asan -DDSIM_WERROR=ON -DDSIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j "$JOBS")
    echo "dev.sh: all tests passed (normal and sanitizer builds)"
    ;;
  *)
    sed -n '2,12p' "$0"
    exit 2
    ;;
esac

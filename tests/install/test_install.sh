#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds a consumer project
# against it with find_package(dsim) (shared and static) and with
# pkg-config, runs all three and checks they agree.
#   test_install.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/dsim.h"
test -f "$tmp/prefix/include/dsim/version.h"
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -1)
test -f "$libdir/pkgconfig/dsim.pc"
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
a=$(LD_LIBRARY_PATH="$libdir" "$tmp/consumer/consumer")
b=$("$tmp/consumer/consumer_static")
sed -i "s|^prefix=.*|prefix=$tmp/prefix|" "$libdir/pkgconfig/dsim.pc"
PKG_CONFIG_PATH="$libdir/pkgconfig" cc -o "$tmp/pc" "$src/tests/install/consumer/main.c" \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs dsim)
c=$(LD_LIBRARY_PATH="$libdir" "$tmp/pc")
echo "$a"
[ "$a" = "$b" ] && [ "$a" = "$c" ] || { echo "outputs differ: '$a' '$b' '$c'"; exit 1; }
case "$a" in *"checks=1 digest="*) ;; *) echo "unexpected output: $a"; exit 1 ;; esac
echo "install test passed"

#!/bin/sh
# run_unprivileged.sh TEST_BINARY [ARGS...]: runs a unit test as a user
# without root's right to write any file, so that checks of file
# permissions mean something when the suite itself runs as root (as CI
# does). As root, the binary is copied where user nobody can run it (the
# build tree may sit under a private home). Exit 77 (skipped) if that is
# not possible here.
set -eu
bin=$1
shift
if [ "$(id -u)" != 0 ]; then
  exec "$bin" "$@"
fi
command -v runuser >/dev/null 2>&1 || exit 77
id nobody >/dev/null 2>&1 || exit 77
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
cp "$bin" "$dir/test"
chmod 755 "$dir/test"
# nobody's temporary files go to a directory of its own
mkdir "$dir/tmp"
chown nobody "$dir/tmp"
runuser -u nobody -- env TMPDIR="$dir/tmp" "$dir/test" "$@"

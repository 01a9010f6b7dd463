#!/usr/bin/env bash
# Runs a ThreadSanitizer program of tests/tsan/ in a temporary directory.
#
# Usage: tests/tsan/run_tsan.sh TSAN_BINARY [ARGS...]
# An empty TSAN_BINARY prints "DIAL9_SKIP: ..." and exits 0 (ctest skip).
# Any data race, lock-order inversion or other TSan report ends the program
# (halt_on_error) with exit code 66, which this script passes on: a failure.
set -uo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 TSAN_BINARY [ARGS...]" >&2
  exit 2
fi
binary=$1
shift
if [[ -z $binary ]]; then
  # ctest passes an empty path when no TSan tree was configured.
  echo "DIAL9_SKIP: no TSan binary given; build tests/tsan with -DDIAL9_TSAN=ON -DDIAL9_SANITIZE=thread" \
    "(clang) and pass -DDIAL9_TSAN_DIR=<build-tsan>/tests/tsan"
  exit 0
fi
if [[ ! -x $binary ]]; then
  echo "$0: '$binary' is not an executable (build it: ninja -C build-tsan $(basename "$binary"))" >&2
  exit 2
fi
work=$(mktemp -d -t dial9-tsan.XXXXXX)
trap 'rm -rf "$work"' EXIT
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
"$binary" "$work/out" "$@"
status=$?
if ((status == 66)); then
  echo "$0: ThreadSanitizer reported a problem in $(basename "$binary") (above)" >&2
elif ((status != 0)); then
  echo "$0: $(basename "$binary") failed (exit $status)" >&2
fi
exit "$status"

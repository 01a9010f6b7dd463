#!/usr/bin/env bash
# Builds benchmark targets in a Release (-O2) tree, build-bench/ by default:
#   bench/build.sh TARGET...        prints nothing on stdout
# Shared by the bench/run_*.sh scripts. Environment: DIAL9_BENCH_BUILD.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${DIAL9_BENCH_BUILD:-$repo/build-bench}
fixture=$(realpath -m "${DIAL9_BENCH_FIXTURE:-$repo/../shared/fixtures/tokio-demo-trace.bin.gz}")
mkdir -p "$build"
echo "building $* (Release, -O2) in $build" >&2
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DDIAL9_BUILD_TESTS=OFF -DDIAL9_BUILD_BENCH=ON -DDIAL9_FUZZ=OFF -DDIAL9_SANITIZE= \
  -DDIAL9_BENCH_FIXTURE="$fixture" >"$build/cmake.log" 2>&1 ||
  { cat "$build/cmake.log" >&2; exit 1; }
ninja -C "$build" "$@" >&2

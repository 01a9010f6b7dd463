#!/usr/bin/env bash
# Regenerates the committed seed corpus tests/fuzz/corpus/decoder/.
#
# Usage: tests/fuzz/make_corpus.sh MAKE_SEEDS_BINARY [FIXTURE]
#   MAKE_SEEDS_BINARY  build-fuzz/tests/fuzz/make_seeds (any build of it works)
#   FIXTURE            the gzip'd shared fixture (default:
#                      ../shared/fixtures/tokio-demo-trace.bin.gz next to the repo)
#
# Writes: the raw seeds from make_seeds, each also as gzip and zstd, a
# two-member gzip and a two-frame zstd file, and the first 16 KiB of the
# decompressed fixture. Output is deterministic (gzip -n, fixed levels), so
# re-running it on an unchanged tree changes nothing.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 MAKE_SEEDS_BINARY [FIXTURE]" >&2
  exit 2
fi
make_seeds=$1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
fixture=${2:-$repo/../shared/fixtures/tokio-demo-trace.bin.gz}
out=$here/corpus/decoder

for tool in gzip zstd head; do
  command -v "$tool" >/dev/null || { echo "$0: '$tool' is required" >&2; exit 1; }
done
[[ -r $fixture ]] || { echo "$0: cannot read fixture '$fixture'" >&2; exit 1; }

work=$(mktemp -d -t dial9-seeds.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$make_seeds" "$work"

mkdir -p "$out"
find "$out" -maxdepth 1 -type f ! -name README.md -delete
for f in "$work"/*.trc; do
  name=$(basename "$f")
  cp "$f" "$out/$name"
done
for name in builtins.trc field_types.trc truncated.trc; do
  gzip -n -9 -c "$work/$name" >"$out/$name.gz"
  zstd -q -19 -c "$work/$name" >"$out/$name.zst"
done
# Multi-member gzip and multi-frame zstd: the reader must continue past the
# first member/frame.
cat "$out/builtins.trc.gz" "$out/field_types.trc.gz" >"$out/two_members.trc.gz"
cat "$out/builtins.trc.zst" "$out/field_types.trc.zst" >"$out/two_frames.trc.zst"
# A compressed file cut short.
for ext in gz zst; do
  size=$(stat -c %s "$out/field_types.trc.$ext")
  head -c $((size / 2)) "$out/field_types.trc.$ext" >"$out/cut.trc.$ext"
done
# Real recorder output: the head of the shared fixture (Apache-2.0, see README.md).
gzip -dc "$fixture" >"$work/fixture.bin"
head -c 16384 "$work/fixture.bin" >"$out/fixture_head.trc"

total=$(du -cb "$out"/* | tail -1 | cut -f1)
largest=$(find "$out" -type f -printf '%s\n' | sort -n | tail -1)
echo "corpus: $(find "$out" -type f ! -name README.md | wc -l) seeds, $total bytes, largest $largest bytes"
if ((largest >= 65536 || total >= 1048576)); then
  echo "$0: corpus too large (each seed must be < 64 KiB, all < 1 MiB)" >&2
  exit 1
fi

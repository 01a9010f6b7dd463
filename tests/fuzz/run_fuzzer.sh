#!/usr/bin/env bash
# Runs a libFuzzer target for a fixed time on a copy of the committed corpus.
#
# Usage: tests/fuzz/run_fuzzer.sh FUZZ_BINARY SECONDS [EXTRA_LIBFUZZER_FLAGS...]
#   e.g. tests/fuzz/run_fuzzer.sh build-fuzz/tests/fuzz/fuzz_decoder 60
# An empty FUZZ_BINARY prints "DIAL9_SKIP: ..." and exits 0 (ctest skip).
#
# The corpus (tests/fuzz/corpus/<target minus "fuzz_">) is copied into a
# temporary directory first, so the source tree is never written to. Any
# finding (crash, sanitizer report, timeout, OOM, leak) is fatal: the script
# exits non-zero, keeps the temporary directory and names the saved input(s)
# and the log. Otherwise it removes the directory and exits 0. Either way the
# last line is a one-line summary.
set -uo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 FUZZ_BINARY SECONDS [EXTRA_LIBFUZZER_FLAGS...]" >&2
  exit 2
fi
binary=$1
seconds=$2
shift 2
if [[ -z $binary ]]; then
  # ctest passes an empty path when no fuzz build was configured
  # (DIAL9_FUZZ_DIR unset); the test suite reports this as skipped.
  echo "DIAL9_SKIP: no fuzz binary given; build the fuzzers with -DDIAL9_FUZZ=ON (clang) and pass" \
    "-DDIAL9_FUZZ_DIR=<build-fuzz>/tests/fuzz"
  exit 0
fi
if [[ ! -x $binary ]]; then
  echo "$0: '$binary' is not an executable (build it: ninja -C build-fuzz $(basename "$binary"))" >&2
  exit 2
fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "$0: SECONDS must be a positive integer, got '$seconds'" >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
target=$(basename "$binary")
corpus_src=$here/corpus/${target#fuzz_}
if [[ ! -d $corpus_src ]]; then
  echo "$0: no corpus directory $corpus_src for $target" >&2
  exit 2
fi

work=$(mktemp -d -t "dial9-$target.XXXXXX")
mkdir -p "$work/corpus" "$work/artifacts"
find "$corpus_src" -maxdepth 1 -type f ! -name README.md -exec cp {} "$work/corpus/" \;
seeds=$(find "$work/corpus" -type f | wc -l)

# Every sanitizer finding stops the run with a stack trace; libFuzzer then
# saves the input under artifacts/.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_leaks=1:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

log=$work/fuzz.log
started=$SECONDS
"$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
elapsed=$((SECONDS - started))

final_stat() { grep -m1 "^stat::$1:" "$log" | awk '{print $2}'; }
runs=$(final_stat number_of_executed_units)
peak=$(final_stat peak_rss_mb)
cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
ft=$(grep -Eo 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
corpus_now=$(find "$work/corpus" -type f | wc -l)
artifacts=$(find "$work/artifacts" -type f | sort)
# Belt and braces: a sanitizer report that somehow did not stop the run.
reports=$(grep -cE '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer)|runtime error:' "$log")

summary="$target: ${elapsed}s of ${seconds}s, ${runs:-?} runs, cov ${cov:-?}, ft ${ft:-?}, corpus $seeds -> $corpus_now, peak RSS ${peak:-?} MB"
if ((status == 0)) && [[ -z $artifacts ]] && ((reports == 0)); then
  rm -rf "$work"
  echo "FUZZ OK: $summary, no findings"
  exit 0
fi
echo "FUZZ FAILED: $summary, exit status $status, sanitizer reports $reports;" \
  "inputs: ${artifacts:-none saved}; log: $log" | tr '\n' ' '
echo
exit $((status == 0 ? 1 : status))

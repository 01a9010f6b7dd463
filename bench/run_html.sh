#!/usr/bin/env bash
# How long `dial9 export --html` takes on a 1M-sample trace, how big the page
# is, and its peak RSS, against `dial9 report` on the same trace in the same
# run (the export loads the trace and builds the report too, so the
# difference is the page itself). Targets: at most 5 s and 20 MB.
# The traces are synthetic (bench/make_wide_trace.cpp): 1M samples over 60 s
# on 16 threads, stacks drawn from 50,000 unique ones ("wide": most time bins
# hold hundreds of distinct stacks, the page's worst case) or from 500
# ("narrow", closer to a real service).
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_html.sh    (env: DIAL9_BENCH_RUNS=5, DIAL9_BENCH_SAMPLES=1000000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${DIAL9_BENCH_BUILD:-$(cd "$here/.." && pwd)/build-bench}
runs=${DIAL9_BENCH_RUNS:-5}
samples=${DIAL9_BENCH_SAMPLES:-1000000}
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
require_time
"$here/build.sh" dial9 bench_make_wide_trace >/dev/null

dial9=$build/cli/dial9
work=$(mktemp -d -t dial9-bench-html.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$build/bench/bench_make_wide_trace" "$work/wide.bin" "$samples" 50000 60
"$build/bench/bench_make_wide_trace" "$work/narrow.bin" "$samples" 500 60

for ((i = 0; i < runs; ++i)); do
  for t in wide narrow; do
    measure "report_$t" "$dial9" report "$work/$t.bin"
    measure "html_$t" "$dial9" export "$work/$t.bin" --html "$work/$t.html"
  done
done
echo "$(machine); $runs runs each, interleaved; $samples samples per trace" >&2
echo "$samples samples per trace; wall time median (min–max) of $runs interleaved runs, median peak RSS."
echo
md_header command "wall s" "peak RSS" page
declare -A html_s page_mb
for t in wide narrow; do
  html_s[$t]=$(median_wall "html_$t")
  page_mb[$t]=$(awk -v b="$(stat -c %s "$work/$t.html")" 'BEGIN{printf "%.2f", b/1e6}')
  md_row "\`dial9 report\` ($t)" "$(spread_wall "report_$t")" "$(awk -v m="$(median_rss_mib "report_$t")" 'BEGIN{printf "%.1f MiB", m}')" "–"
  md_row "\`dial9 export --html\` ($t)" "**$(spread_wall "html_$t")**" \
    "$(awk -v m="$(median_rss_mib "html_$t")" 'BEGIN{printf "%.1f MiB", m}')" "**${page_mb[$t]} MB**"
done
echo
md_header "target (issue #9)" measured status
target_row "HTML export of a 1M-sample trace ≤ 5 s" "${html_s[wide]} s (wide), ${html_s[narrow]} s (narrow)" \
  "${html_s[wide]} <= 5 && ${html_s[narrow]} <= 5"
target_row "page ≤ 20 MB for 1M samples" "${page_mb[wide]} MB (wide), ${page_mb[narrow]} MB (narrow)" \
  "${page_mb[wide]} <= 20 && ${page_mb[narrow]} <= 20"

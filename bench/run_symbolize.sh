#!/usr/bin/env bash
# Builds bench_symbolize in Release (-O2) in build-bench/ and runs it on a
# stripped program whose separate debug file is about 50 MB, next to two
# baselines timed in the same run, on the same CPU and the same addresses:
# binutils `addr2line -a -f -i -C` and elfutils `eu-addr2line -a -f -i -C`
# (the latter on the first DIAL9_BENCH_EU_ADDRESSES addresses only: it is
# slow). Then says how often our frames agree with addr2line's: wholly
# (names, files, lines, inlined calls; discriminators and GCC's
# "[clone ...]" suffixes aside), and in depth, files and lines alone (the
# names of inlined lambdas and of real functions are spelled differently:
# addr2line uses DW_AT_name where we use the demangled symbol).
#
# The program is generated and built once, in build-bench/symbolize/: C++
# heavy on templates and inlining (std containers and algorithms over 18
# distinct types), -O2 -g, linked by GNU ld, split with objcopy into
# `big` (stripped, with a .gnu_debuglink) and `big.debug`.
#
# Prints its results as Markdown (bench/run puts them in docs/BENCHMARKS.md).
# Usage: bench/run_symbolize.sh [ELF] [bench_symbolize options...]
#        ELF defaults to that program; any ELF with DWARF (or a debug file
#        it leads to) will do, e.g. build/cli/dial9.
# Environment: DIAL9_BENCH_BUILD (build dir, default build-bench),
#              DIAL9_BENCH_CPU (default 0), DIAL9_BENCH_RUNS (default 7),
#              DIAL9_BENCH_ADDRESSES (default 200000),
#              DIAL9_BENCH_EU_ADDRESSES (default 2000).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${DIAL9_BENCH_BUILD:-$repo/build-bench}
cpu=${DIAL9_BENCH_CPU:-0}
runs=${DIAL9_BENCH_RUNS:-7}
count=${DIAL9_BENCH_ADDRESSES:-200000}
eu_count=${DIAL9_BENCH_EU_ADDRESSES:-2000}

for tool in cmake ninja g++ objcopy addr2line eu-addr2line taskset /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$0: '$tool' is required (./dev setup installs it)" >&2; exit 1; }
done

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"  # md_header, target_row
"$here/build.sh" bench_symbolize
work=$build/symbolize
mkdir -p "$work"

# One translation unit of the generated program: its own types, so that
# every template instantiation is its own code and DWARF.
generate_unit() {
  local i=$1
  cat <<EOF
#include <algorithm>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>
namespace gen$i {
struct Item { std::string name; int weight; double score; };
template <typename T> struct Box {
  std::vector<T> items;
  std::map<std::string, T> by_name;
  void add(const std::string& k, T v) { items.push_back(v); by_name[k] = v; }
  T best() const {
    return *std::max_element(items.begin(), items.end(), [](const T& a, const T& b) { return a.weight < b.weight; });
  }
};
template <int K> int churn(std::unordered_map<std::string, int>& m, const std::string& s) {
  int t = 0;
  for (int j = 0; j < K; ++j) { auto key = s + std::to_string(j * $i); m[key] += j; t += static_cast<int>(m.size()); }
  std::vector<std::pair<std::string, int>> v(m.begin(), m.end());
  std::sort(v.begin(), v.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return t + (v.empty() ? 0 : v.front().second);
}
EOF
  local j
  for ((j = 0; j < 12; ++j)); do
    cat <<EOF
std::string work$j(int x) {
  Box<Item> box;
  std::unordered_map<std::string, int> m;
  std::ostringstream os;
  for (int k = 0; k < x; ++k) box.add("k" + std::to_string(k), Item{"n" + std::to_string(k * $j), k % 7, k * 0.5});
  os << box.best().name << churn<$((j + 1))>(m, os.str()) << churn<$((j + 20))>(m, "x");
  std::function<int(int)> fn = [&](int y) { return y + static_cast<int>(box.items.size()); };
  os << fn(x);
  return os.str();
}
EOF
  done
  echo "}  // namespace gen$i"
  printf 'int entry%d(int x) { int t = 0;' "$i"
  for ((j = 0; j < 12; ++j)); do printf ' t += static_cast<int>(gen%d::work%d(x).size());' "$i" "$j"; done
  printf ' return t; }\n'
}

units=18
program=$work/big
# Rebuilt when the generator changes (not when the rest of this script does).
generator=$( (declare -f generate_unit; echo "$units") | sha1sum | cut -d' ' -f1)
if [[ ! -s $program.debug || $(cat "$work/generator" 2>/dev/null) != "$generator" ]]; then
  echo "generating and building the test program ($units units, -O2 -g; a minute or two)" >&2
  rm -rf "$work/src" && mkdir -p "$work/src"
  for ((i = 0; i < units; ++i)); do generate_unit "$i" >"$work/src/tu$i.cpp"; done
  {
    for ((i = 0; i < units; ++i)); do echo "int entry$i(int);"; done
    echo "int main(int argc, char**) { int t = 0;"
    for ((i = 0; i < units; ++i)); do echo "  t += entry$i(argc);"; done
    echo "  return t & 1; }"
  } >"$work/src/main.cpp"
  # shellcheck disable=SC2016  # $1 is the inner shell's
  printf '%s\n' "$work"/src/*.cpp | xargs -P "$(nproc)" -I{} sh -c 'g++ -O2 -g -c "$1" -o "${1%.cpp}.o"' _ {}
  objects=("$work/src/main.o")
  for ((i = 0; i < units; ++i)); do objects+=("$work/src/tu$i.o"); done
  g++ -o "$work/big.full" "${objects[@]}"
  objcopy --only-keep-debug "$work/big.full" "$program.debug"
  (cd "$work" && objcopy --strip-all --add-gnu-debuglink=big.debug big.full big)
  echo "$generator" >"$work/generator"
fi

elf=$program
if [[ $# -gt 0 && $1 != -* ]]; then elf=$(realpath "$1"); shift; fi
bench=$build/bench/bench_symbolize

# The addresses, and our names for them.
"$bench" --elf "$elf" --addresses "$count" --runs 1 --cpu "$cpu" \
  --write-addresses "$work/addresses" --write-names "$work/ours.txt" "$@" >/dev/null
n=$(wc -l <"$work/addresses")

# Addresses per CPU-second (user + system, which a shared machine disturbs
# far less than wall time) of a command reading addresses from file $1 and
# writing its names to file $2.
rate() {
  local in=$1 out=$2 cpu_s
  shift 2
  cpu_s=$(taskset -c "$cpu" /usr/bin/time -f '%U %S' "$@" <"$in" 2>&1 >"$out" | tail -n 1 |
    awk '{ print $1 + $2 }')
  awk -v n="$(wc -l <"$in")" -v s="$cpu_s" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.01) }'
}
head -n "$eu_count" "$work/addresses" >"$work/addresses.eu"
echo "timing baselines on the same addresses (CPU $cpu): addr2line ($n), eu-addr2line ($(wc -l <"$work/addresses.eu"))" >&2
a2l=$(rate "$work/addresses" "$work/addr2line.txt" addr2line -a -f -i -C -e "$elf")
eu=$(rate "$work/addresses.eu" /dev/null eu-addr2line -a -f -i -C -e "$elf")

"$bench" --elf "$elf" --addresses "$count" --runs "$runs" --cpu "$cpu" \
  --baseline "addr2line=$a2l" --baseline "eu-addr2line=$eu" --json "$@" >"$work/result.json"
python3 - "$work/result.json" "$runs" "$(wc -l <"$work/addresses.eu")" <<'PY'
import json, sys
d, runs, eu_n = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
debug = d["debug_file"] or "in the module itself"
ix, lk = d["index_ms"], d["lookups_per_s"]
print(f"`{d['elf'].split('/')[-1]}`: debug info {debug.split('/')[-1]} ({d['debug_bytes'] / 1e6:.1f} MB); "
      f"{d['addresses']} unique addresses inside function symbols, {d['frames_per_address']:.2f} frames each, "
      f"{100 * d['inlined_share']:.0f}% with inlined calls, {100 * d['line_share']:.0f}% with a line. "
      f"Median (min–max) of {runs} runs, pinned to one CPU.")
print()
print("| measurement | figure |")
print("|---|---|")
print(f"| index build | **{ix['median']:.0f} ms** ({ix['min']:.0f}–{ix['max']:.0f}); {ix['cpu']:.0f} ms of CPU |")
print(f"| lookups, per CPU-second | **{lk['per_cpu_s'] / 1e6:.2f} M addresses/s** |")
print(f"| lookups, wall | {lk['median'] / 1e6:.2f} M addresses/s ({lk['min'] / 1e6:.2f}–{lk['max'] / 1e6:.2f}) |")
print(f"| with the index build, per CPU-second | {d['with_index_per_cpu_s'] / 1e3:.0f}k addresses/s |")
for name, b in d["baselines"].items():
    note = f" (first {eu_n} addresses)" if name == "eu-addr2line" else ""
    print(f"| `{name} -a -f -i -C`{note}, per CPU-second | {b['per_cpu_s'] / 1e3:.1f}k addresses/s: "
          f"ours {b['ratio_with_index']:.1f}× with the index build |")
PY
# One line per address: its frames, discriminators and clone suffixes
# dropped, "??" for what is unknown either way.
normalize() {
  awk '/^0x[0-9a-f]+$/ { if (key != "") print key "\t" frames; key = $0; frames = ""; next }
       { gsub(/ \(discriminator [0-9]+\)/, ""); gsub(/ \[clone [^]]*\]/, ""); sub(/:\?$/, ":0"); frames = frames "|" $0 }
       END { if (key != "") print key "\t" frames }' "$1"
}
paste <(normalize "$work/ours.txt") <(normalize "$work/addr2line.txt") |
  awk -F'\t' '
    # The frames without their names: every other field, from the second.
    function places(frames,   n, f, i, out) {
      n = split(frames, f, "|")
      for (i = 3; i <= n; i += 2) out = out "|" f[i]
      return out
    }
    { same += ($1 == $3 && $2 == $4); lines += ($1 == $3 && places($2) == places($4)) }
    END {
      printf "| agreement with `addr2line`, exact | %d of %d addresses (%.1f%%) |\n", same, NR, 100 * same / NR
      printf "| agreement with `addr2line`, same frames, files and lines | %d (%.2f%%) |\n", lines, 100 * lines / NR
    }'

index_ms=$(json_value "$work/result.json" "d['index_ms']['median']" %.0f)
per_cpu=$(json_value "$work/result.json" "d['lookups_per_s']['per_cpu_s']" %.0f)
debug_mb=$(json_value "$work/result.json" "d['debug_bytes'] / 1e6" %.1f)
echo
md_header "target (issue #5)" measured status
target_row "≥ 200k unique addresses/s with inlined calls" "$per_cpu per CPU-second" "$per_cpu >= 200000"
target_row "index build ≤ 0.5 s for a 50 MB debug file" "$index_ms ms for $debug_mb MB" "$index_ms <= 500"

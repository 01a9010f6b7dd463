// `dial9 export --flamegraph` as a user runs it, on the golden trace: the SVG
// parses as XML (Python's parser, independent of ours), the hot function is
// the widest leaf, the totals match the report, and a diff against itself
// is all grey.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "format/trace_writer.h"
#include "tests/support/test_support.h"

using namespace dial9::test;
namespace fs = std::filesystem;

namespace {

// The drawn frames of an SVG flamegraph, read by python3's xml.etree (which
// fails on any document that is not well-formed XML): name, samples, depth,
// start, fill, and the subtitle.
constexpr const char* kReadSvg = R"PY(
import json, sys, xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
frames = []
for g in root.iter(ns + 'g'):
    if g.get('class') != 'f':
        continue
    tip = g.find(ns + 'title').text
    frames.append({'name': tip.split('\n')[0], 'tip': tip, 'samples': int(g.get('data-n')),
                   'start': int(g.get('data-s')), 'depth': int(g.get('data-d')),
                   'fill': g.find(ns + 'rect').get('fill')})
texts = {t.get('id'): t.text for t in root.iter(ns + 'text') if t.get('id')}
print(json.dumps({'frames': frames, 'title': texts.get('title'), 'subtitle': texts.get('subtitle')}))
)PY";

nlohmann::json read_svg(const std::string& path) {
  RunResult r = run({"python3", "-c", kReadSvg, path});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

// Frames with no frame drawn above them (their callees), i.e. where samples end.
std::vector<nlohmann::json> leaves(const nlohmann::json& frames) {
  std::vector<nlohmann::json> out;
  for (const auto& f : frames) {
    bool has_child = false;
    for (const auto& c : frames) {
      has_child |= c["depth"] == f["depth"].get<int>() + 1 && c["start"] >= f["start"] &&
                   c["start"].get<uint64_t>() < f["start"].get<uint64_t>() + f["samples"].get<uint64_t>();
    }
    if (!has_child) out.push_back(f);
  }
  return out;
}

bool grey(const std::string& fill) {
  int r = 0, g = 0, b = 0;
  return std::sscanf(fill.c_str(), "rgb(%d,%d,%d)", &r, &g, &b) == 3 && r == g && g == b;
}

}  // namespace

TEST_CASE("export --flamegraph: well-formed SVG, the hot function the widest leaf, totals as the report's") {
  TempDir dir;
  RunResult r = run({dial9_binary(), "export", golden_trace_path(), "--folded", dir.file("x.folded"), "--flamegraph",
                     dir.file("x.svg")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  RunResult rep = run({dial9_binary(), "report", "--format", "json", golden_trace_path()});
  REQUIRE(rep.exit_code == 0);
  auto report = nlohmann::json::parse(rep.out);

  auto svg = read_svg(dir.file("x.svg"));
  const auto& frames = svg["frames"];
  REQUIRE(frames.size() >= 5);
  CHECK(frames[0]["name"] == "all");
  CHECK(frames[0]["samples"] == report["overview"]["cpu_samples"]);
  const std::string total = std::to_string(report["overview"]["cpu_samples"].get<uint64_t>());
  CHECK(frames[0]["tip"] == "all\n" + total + " samples, 100.00%");
  auto ls = leaves(frames);
  REQUIRE(!ls.empty());
  auto widest = *std::max_element(ls.begin(), ls.end(),
                                  [](const auto& a, const auto& b) { return a["samples"] < b["samples"]; });
  CHECK(widest["name"] == "golden::cache::hash_key");
  CHECK(svg["title"].get<std::string>().find("golden-svc") != std::string::npos);  // the recorded command
  CHECK(svg["subtitle"].get<std::string>().find("on-CPU") != std::string::npos);
  // Inlined decode_header is drawn with its own (inlined) colour, and --no-inline folds it away.
  bool decode = false;
  for (const auto& f : frames) decode |= f["name"] == "golden::http::decode_header";
  CHECK(decode);
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--no-inline", "--flamegraph", dir.file("ni.svg")})
              .exit_code == 0);
  CHECK(read_text_file(dir.file("ni.svg")).find("decode_header") == std::string::npos);

  // The selection applies: worker-1 alone.
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--thread", "worker-1", "--flamegraph", dir.file("w1.svg")})
              .exit_code == 0);
  CHECK(read_svg(dir.file("w1.svg"))["frames"][0]["samples"] == 500);
}

TEST_CASE("export --flamegraph --inverted, --off-cpu and --title") {
  TempDir dir;
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--flamegraph", dir.file("inv.svg"), "--inverted"})
              .exit_code == 0);
  auto inv = read_svg(dir.file("inv.svg"));
  // The first row under the root is the leaf functions; the widest is the hot one.
  nlohmann::json top;
  for (const auto& f : inv["frames"]) {
    if (f["depth"] == 1 && (top.is_null() || f["samples"] > top["samples"])) top = f;
  }
  CHECK(top["name"] == "golden::cache::hash_key");
  CHECK(inv["subtitle"].get<std::string>().find("icicle") != std::string::npos);

  RunResult rep = run({dial9_binary(), "report", "--format", "json", golden_trace_path()});
  auto report = nlohmann::json::parse(rep.out);
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--off-cpu", "--flamegraph", dir.file("off.svg"), "--title",
               "locks & <waits>"})
              .exit_code == 0);
  auto off = read_svg(dir.file("off.svg"));
  uint64_t blocked = 0;
  for (const auto& o : report["off_cpu"]) blocked += o["blocked_ns"].get<uint64_t>();
  CHECK(off["frames"][0]["samples"] == blocked);  // widths in blocked ns: the golden trace has thread states
  CHECK(off["frames"][0]["tip"] == "all\n259 ms blocked, 100.00%");
  CHECK(off["subtitle"].get<std::string>().find("weighted by blocked time") != std::string::npos);
  CHECK(off["title"] == "locks & <waits>");
}

TEST_CASE("export --flamegraph --diff: against itself all grey, the base read with the same selection") {
  TempDir dir;
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--flamegraph", dir.file("self.svg"), "--diff",
               golden_trace_path()})
              .exit_code == 0);
  auto self = read_svg(dir.file("self.svg"));
  REQUIRE(self["frames"].size() >= 5);
  for (const auto& f : self["frames"]) {
    INFO(f["name"]);
    CHECK(grey(f["fill"]));
  }

  // --thread applies to the base too: were the base the whole trace,
  // worker-0's functions would have larger shares than in it (red).
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--flamegraph", dir.file("d.svg"), "--diff", golden_trace_path(),
               "--thread", "worker-0"})
              .exit_code == 0);
  size_t coloured = 0;
  // Named: a range-for over read_svg(...)["frames"] would walk a member of
  // a temporary already destroyed (ASan: heap-use-after-free).
  const auto same_threads = read_svg(dir.file("d.svg"));
  for (const auto& f : same_threads["frames"]) coloured += !grey(f["fill"]);
  CHECK(coloured == 0);

  // Against another program's trace, golden's own functions are new there:
  // red, and nothing can have shrunk (blue) since every frame is this trace's.
  std::string other = std::string(DIAL9_SOURCE_DIR) + "/tests/data/demo.bin.zst";
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--flamegraph", dir.file("o.svg"), "--diff", other})
              .exit_code == 0);
  const auto against_other = read_svg(dir.file("o.svg"));
  for (const auto& f : against_other["frames"]) {
    int r = 0, g = 0, b = 0;
    REQUIRE(std::sscanf(f["fill"].get<std::string>().c_str(), "rgb(%d,%d,%d)", &r, &g, &b) == 3);
    INFO(f["name"]);
    CHECK(b <= r);  // grey or red, never blue
    if (f["name"].get<std::string>().rfind("golden::", 0) == 0) CHECK((r == 255 && g == b && g < 255));
  }

  // --diff needs --flamegraph; a base that cannot be read fails, writing nothing.
  RunResult alone = run({dial9_binary(), "export", golden_trace_path(), "--folded", dir.file("a.folded"), "--diff",
                         golden_trace_path()});
  CHECK(alone.exit_code == 2);
  RunResult missing = run({dial9_binary(), "export", golden_trace_path(), "--flamegraph", dir.file("m.svg"), "--diff",
                           dir.file("no-such-dir")});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("--diff") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.file("m.svg")));
}

// ---- in a real browser (tests/js/check_flamegraph.js, Playwright) ----------

namespace {

// Where the browser check can run, or why not (as in html_test).
std::string browser_skip_reason(std::string& chromium) {
  const char* env = std::getenv("DIAL9_CHROMIUM");
  chromium = env && *env ? env : "/usr/bin/chromium";
  if (run({"node", "--version"}).exit_code != 0) return "node is not installed (apt-get install nodejs)";
  if (access(chromium.c_str(), X_OK) != 0) {
    return chromium + " is missing (apt-get install chromium, or set DIAL9_CHROMIUM)";
  }
  if (!fs::exists(std::string(DIAL9_SOURCE_DIR) + "/tests/js/node_modules/playwright-core"))
    return "playwright-core is not installed (cd tests/js && npm ci)";
  return "";
}

nlohmann::json drive(const std::string& chromium, const std::string& svg, const std::string& shot,
                     std::vector<std::string> extra) {
  std::vector<std::string> argv = {"node", std::string(DIAL9_SOURCE_DIR) + "/tests/js/check_flamegraph.js", svg, shot,
                                   "--chromium", chromium};
  argv.insert(argv.end(), extra.begin(), extra.end());
  RunResult r = run(argv);
  INFO("check_flamegraph.js stderr: " << r.err);
  INFO("check_flamegraph.js stdout: " << r.out.substr(0, 4000));
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

// build/tests/NAME beside the test binaries, for people to look at.
std::string shot_path(const std::string& name) {
  return (fs::path(dial9_binary()).parent_path().parent_path() / "tests" / name).string();
}

// A trace whose function names and command are attacks on the SVG.
std::vector<uint8_t> hostile_trace() {
  using namespace dial9::format;
  constexpr uint64_t kT0 = 5'000'000'000'000, kMs = 1'000'000;
  constexpr uint32_t kPid = 777;
  TraceWriter w;
  std::vector<std::pair<std::string, std::string>> meta = {
      {"command", "</text></svg><script>window.__pwned='command'</script>"}, {"pid", std::to_string(kPid)}};
  w.segment_metadata(kT0, meta);
  const uint64_t kA = 0x401000, kB = 0x402000, kC = 0x403000, kD = 0x404000, kE = 0x405000;
  for (uint64_t i = 0; i < 300; ++i) {
    CpuSample s;
    s.tid = kPid;
    std::vector<uint64_t> chain = i % 3 == 0 ? std::vector<uint64_t>{kE, kB, kA}
                                 : i % 3 == 1 ? std::vector<uint64_t>{kC, kB, kA}
                                              : std::vector<uint64_t>{kD, kA};
    w.cpu_sample(kT0 + i * kMs, s, chain);
  }
  const std::pair<uint64_t, std::string> syms[] = {
      {kA, "</script><img src=x onerror=\"window.__pwned='script'\">"},
      {kB, "\"'><svg onload=\"window.__pwned='attr'\">"},
      {kC, "line\xe2\x80\xa8sep\xe2\x80\xa9');window.__pwned='linesep';('"},
      {kD, "bad\xff\xfe\xc3(utf8]]><script>window.__pwned='cdata'</script>"},
      {kE, "<img src=x onerror=\"window.__pwned='huge'\">" + std::string(1 << 20, 'x')}};
  for (const auto& [addr, name] : syms) {
    SymbolTableEntry e;
    e.addr = addr;
    e.size = 16;
    e.symbol_name = name;
    w.symbol(kT0 + 500 * kMs, e);
  }
  return w.take();
}

}  // namespace

TEST_CASE("export --flamegraph in a browser: zoom, reset, search with the matched share, tooltips") {
  std::string chromium;
  std::string skip = browser_skip_reason(chromium);
  if (!skip.empty()) DIAL9_SKIP(skip);
  TempDir dir;
  REQUIRE(run({dial9_binary(), "export", golden_trace_path(), "--flamegraph", dir.file("g.svg")}).exit_code == 0);
  auto res = drive(chromium, dir.file("g.svg"), shot_path("flamegraph-golden.png"),
                   {"--click", "golden::cache::hash_key", "--search", "hash_key", "--search",
                    "golden::(codec|cache)", "--search", "(", "--search", "no such function"});
  CHECK(res["page_errors"].empty());
  CHECK(res["console_errors"].empty());
  CHECK(res["requests"].empty());
  CHECK(res["script_ready"] == true);
  REQUIRE(res["frames"].size() == 8);
  CHECK(res["details_on_hover"] == "main, 1366 samples, 100.00%");
  // Zoom: the frame fills the width, only it and its callers stay (dimmed).
  const auto& click = res["click"];
  REQUIRE(click["found"] == true);
  CHECK(click["width"].get<double>() == Approx(1180));
  CHECK(click["visible"] == 4);  // all, main, serve, hash_key
  CHECK(click["dimmed"] == 3);
  CHECK(click["reset_shown"] == true);
  CHECK(click["visible_after_reset"] == 8);
  CHECK(click["width_after_reset"].get<double>() == Approx(1180.0 * 658 / 1366).margin(0.01));
  CHECK(click["reset_shown_after"] == false);
  // Search: regex or substring, nested matches counted once.
  const auto& s = res["search"];
  REQUIRE(s.size() == 4);
  CHECK(s[0]["matched"] == "Matched: 48.17% (658 of 1366 samples)");
  CHECK(s[0]["highlighted"] == 1);
  CHECK(s[1]["matched"] == "Matched: 66.47% (908 of 1366 samples)");
  CHECK(s[1]["highlighted"] == 2);
  CHECK(s[2]["matched"].get<std::string>().find("as a substring") != std::string::npos);  // "(" is no regex
  CHECK(s[3]["matched"] == "Matched: 0.00% (0 of 1366 samples)");
  CHECK(res["matched_after_escape"] == "");
}

TEST_CASE("export --flamegraph in a browser: hostile names and commands are shown as text, never run") {
  std::string chromium;
  std::string skip = browser_skip_reason(chromium);
  if (!skip.empty()) DIAL9_SKIP(skip);
  TempDir dir;
  auto bytes = hostile_trace();
  dir.write("evil.bin", bytes);
  RunResult r = run({dial9_binary(), "export", dir.file("evil.bin"), "--flamegraph", dir.file("evil.svg")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  read_svg(dir.file("evil.svg"));  // well-formed
  CHECK(fs::file_size(dir.file("evil.svg")) < 100000);
  auto res = drive(chromium, dir.file("evil.svg"), shot_path("flamegraph-hostile.png"),
                   {"--click", "</script><img src=x onerror=\"window.__pwned='script'\">", "--search", "pwned"});
  CHECK(res["page_errors"].empty());
  CHECK(res["requests"].empty());
  CHECK(res["safety"]["pwned"] == false);
  CHECK(res["safety"]["img"] == 0);
  CHECK(res["safety"]["iframe"] == 0);
  CHECK(res["safety"]["foreign_object"] == 0);
  CHECK(res["safety"]["scripts"] == 1);
  CHECK(res["safety"]["svgs"] == 1);
  CHECK(res["safety"]["title"] == "Flame Graph: </text></svg><script>window.__pwned='command'</script>");
  // The names come back from the DOM as text; the script works on them.
  bool attr = false, linesep = false, bad = false;
  for (const auto& f : res["frames"]) {
    const std::string name = f["name"];
    attr |= name == "\"'><svg onload=\"window.__pwned='attr'\">";
    linesep |= name == "line\xe2\x80\xa8sep\xe2\x80\xa9');window.__pwned='linesep';('";
    bad |= name == "bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd(utf8]]><script>window.__pwned='cdata'</script>";
  }
  CHECK(attr);
  CHECK(linesep);
  CHECK(bad);
  CHECK(res["click"]["found"] == true);
  CHECK(res["click"]["width"].get<double>() == Approx(1180));
  CHECK(res["search"][0]["highlighted"].get<int>() == 5);  // every named frame says pwned
}

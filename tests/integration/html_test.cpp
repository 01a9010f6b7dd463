// `dial9 export --html`: the page's embedded data adds up to the report, and
// in a real headless Chromium (tests/js/check_html.js, Playwright) the page
// loads offline without errors, draws a lane per thread, zooms the
// flamegraph on click, highlights search matches, follows a time selection,
// and shows hostile names as text without running them.
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
using namespace dial9::format;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// The text of <script type="application/json" id="ID">...</script>.
Json embedded(const std::string& html, const std::string& id) {
  const std::string open = "<script type=\"application/json\" id=\"" + id + "\">";
  size_t a = html.find(open);
  REQUIRE(a != std::string::npos);
  a += open.size();
  size_t b = html.find("</script>", a);
  REQUIRE(b != std::string::npos);
  return Json::parse(html.substr(a, b - a));
}

uint64_t sum_pairs(const Json& pairs) {  // [bin, count, bin, count, ...]
  uint64_t n = 0;
  for (size_t i = 1; i < pairs.size(); i += 2) n += pairs[i].get<uint64_t>();
  return n;
}

// Where the browser check can run, or why not.
struct Browser {
  std::string chromium;
  std::string skip;  // non-empty: the reason it cannot
};

bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  for (std::string dir; std::getline(ss, dir, ':');) {
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

Browser find_browser() {
  Browser b;
  const char* env = std::getenv("DIAL9_CHROMIUM");
  b.chromium = env && *env ? env : "/usr/bin/chromium";
  if (!on_path("node")) b.skip = "node is not installed (apt-get install nodejs)";
  else if (access(b.chromium.c_str(), X_OK) != 0)
    b.skip = b.chromium + " is missing (apt-get install chromium, or set DIAL9_CHROMIUM)";
  else if (!fs::exists(std::string(DIAL9_SOURCE_DIR) + "/tests/js/node_modules/playwright-core"))
    b.skip = "playwright-core is not installed (cd tests/js && npm ci)";
  return b;
}

// Runs check_html.js on a page; fails on anything but its JSON result.
Json check_page(const Browser& b, const std::string& html, const std::string& screenshot,
                std::vector<std::string> extra) {
  std::vector<std::string> argv = {"node", std::string(DIAL9_SOURCE_DIR) + "/tests/js/check_html.js", html, screenshot,
                                   "--chromium", b.chromium};
  argv.insert(argv.end(), extra.begin(), extra.end());
  RunResult r = run(argv);
  INFO("check_html.js stderr: " << r.err);
  INFO("check_html.js stdout: " << r.out.substr(0, 4000));
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

// build/tests/NAME beside the test binaries, for people to look at.
std::string screenshot_path(const std::string& name) {
  fs::path dir = fs::path(dial9_binary()).parent_path().parent_path() / "tests";
  fs::create_directories(dir);
  return (dir / name).string();
}

void expect_clean_load(const Json& res) {
  INFO(res.dump().substr(0, 4000));
  CHECK(res["console_errors"].empty());
  CHECK(res["page_errors"].empty());
  CHECK(res["requests"].empty());
  CHECK(res["safety"]["pwned"] == false);
  CHECK(res["safety"]["injected_elements"] == 0);
  CHECK(res["safety"]["scripts"] == 3);  // the two data blocks and the viewer
  CHECK(res["safety"]["elements_with_handlers"] == 0);
}

// ---- a trace whose every name is an attack ---------------------------------

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kT0 = 5'000'000'000'000;
constexpr uint32_t kPid = 777;

const std::string kScriptClose = "</script><img src=x onerror=\"window.__pwned='script-close'\">";
const std::string kAttrBreak = "\"'><svg onload=\"window.__pwned='attr'\">";
const std::string kLineSep = "line\xe2\x80\xa8" "sep\xe2\x80\xa9" "end<b>";
const std::string kBadUtf8 = "bad\xff\xfe\xc3(utf8";
const std::string kHugeName = "<img src=x onerror=\"window.__pwned='huge'\">" + std::string(1 << 20, 'x');

std::vector<uint8_t> hostile_trace() {
  TraceWriter w;
  std::vector<std::pair<std::string, std::string>> meta = {{"command", kScriptClose}, {"pid", std::to_string(kPid)}};
  w.segment_metadata(kT0, meta);
  const std::string thread_names[] = {kScriptClose, kAttrBreak, kLineSep, kBadUtf8};
  for (uint32_t i = 0; i < 4; ++i) w.thread_name(kT0, ThreadName{kPid, kPid + i, thread_names[i], false});
  // Stacks of hostile symbols on every thread.
  const uint64_t kA = 0x401000, kB = 0x402000, kC = 0x403000, kD = 0x404000, kE = 0x405000;
  for (uint64_t i = 0; i < 400; ++i) {
    CpuSample s;
    s.tid = kPid + static_cast<uint32_t>(i % 4);
    s.worker_id = static_cast<uint8_t>(i % 4 < 2 ? i % 4 : 255);
    s.source = i % 10 == 9 ? 1 : 0;
    std::vector<uint64_t> chain = i % 3 == 0 ? std::vector<uint64_t>{kE, kB, kA}
                                 : i % 3 == 1 ? std::vector<uint64_t>{kC, kB, kA}
                                              : std::vector<uint64_t>{kD, kA};
    w.cpu_sample(kT0 + i * kMs, s, chain);
  }
  // Polls with a hostile spawn location, spans with hostile names.
  static const FieldDef kEnter[] = {{"worker_id", static_cast<uint8_t>(FieldType::kVarint)},
                                    {"span_id", static_cast<uint8_t>(FieldType::kVarint)},
                                    {"parent_span_id",
                                     static_cast<uint8_t>(static_cast<uint8_t>(FieldType::kVarint) | kOptionalBit)},
                                    {"span_name", static_cast<uint8_t>(FieldType::kPooledString)}};
  static const FieldDef kExit[] = {{"worker_id", static_cast<uint8_t>(FieldType::kVarint)},
                                   {"span_id", static_cast<uint8_t>(FieldType::kVarint)},
                                   {"span_name", static_cast<uint8_t>(FieldType::kPooledString)}};
  for (uint64_t i = 0; i < 10; ++i) {
    uint64_t ts = kT0 + (20 + i * 35) * kMs, worker = i % 2;
    w.poll_start(ts, PollStart{worker, 0, 100 + i, kAttrBreak});
    const std::string& name = i % 2 ? kAttrBreak : kScriptClose;
    uint16_t enter = w.schema(SchemaDef{"SpanEnter:evil::span:src/evil.rs:1", true, kEnter});
    uint16_t exit = w.schema(SchemaDef{"SpanExit:evil::span:src/evil.rs:1", true, kExit});
    uint32_t pooled = w.string(name);
    w.encoder().begin_event(enter, ts + 1000);
    w.encoder().put_varint(worker);
    w.encoder().put_varint(i + 1);
    w.encoder().put_absent();
    w.encoder().put_pool_ref(pooled);
    w.encoder().begin_event(exit, ts + 2 * kMs);
    w.encoder().put_varint(worker);
    w.encoder().put_varint(i + 1);
    w.encoder().put_pool_ref(pooled);
    w.poll_end(ts + (i == 3 ? 25 : 3) * kMs, PollEnd{worker});  // one long poll: a finding
  }
  // A custom event whose schema name and string field are attacks.
  static const FieldDef kCustom[] = {{"detail", static_cast<uint8_t>(FieldType::kString)}};
  const std::string custom_name = "Evil<img src=x onerror=\"window.__pwned='custom'\">";
  uint16_t custom = w.schema(SchemaDef{custom_name, true, kCustom});
  for (uint64_t i = 0; i < 3; ++i) {
    w.encoder().begin_event(custom, kT0 + (100 + i) * kMs);
    w.encoder().put_string("<script>window.__pwned='field'</script>" + kLineSep);
  }
  const std::pair<uint64_t, std::string> syms[] = {
      {kA, kScriptClose}, {kB, kAttrBreak}, {kC, kLineSep}, {kD, kBadUtf8}, {kE, kHugeName}};
  for (const auto& [addr, name] : syms) {
    SymbolTableEntry e;
    e.addr = addr;
    e.size = 16;
    e.symbol_name = name;
    e.source_file = kAttrBreak;
    e.source_line = 1;
    w.symbol(kT0 + 500 * kMs, e);
  }
  return w.take();
}

}  // namespace

TEST_CASE("export --html embeds the report and samples that add up to it") {
  TempDir dir;
  RunResult r = run({dial9_binary(), "export", golden_trace_path(), "--html", dir.file("g.html")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = read_text_file(dir.file("g.html"));
  RunResult rep = run({dial9_binary(), "report", "--format", "json", golden_trace_path()});
  REQUIRE(rep.exit_code == 0);
  const Json report = Json::parse(rep.out);
  CHECK(embedded(html, "dial9-report") == report);

  const Json data = embedded(html, "dial9-data");
  uint64_t lane_on = 0, lane_off = 0;
  for (const auto& l : data["lanes"]) lane_on += sum_pairs(l["on"]), lane_off += sum_pairs(l["off"]);
  CHECK(lane_on == report["overview"]["cpu_samples"].get<uint64_t>());
  CHECK(lane_off == report["overview"]["offcpu_samples"].get<uint64_t>());
  uint64_t weighted = 0;
  for (const auto& w : data["on"]) {
    for (size_t i = 2; i < w.size(); i += 2) weighted += w[i].get<uint64_t>();
  }
  CHECK(weighted == report["overview"]["cpu_samples"].get<uint64_t>());  // every golden sample has a stack
  CHECK(data["lanes"].size() == 4);
  CHECK(data["polls"].size() == 42);
  CHECK(data["spans"].size() == 40);
  // The CacheMiss events, with their fields as `dial9 dump` prints them.
  REQUIRE(data["events"].size() == 5);
  CHECK(data["names"][data["events"][0][1].get<size_t>()] == "CacheMiss");
  CHECK(data["names"][data["events"][0][2].get<size_t>()] == "key=0");
  // The long-poll findings point at their polls: 900 ms and 970 ms in.
  std::vector<uint64_t> at;
  for (const auto& f : data["finding_at"]) {
    if (!f.is_null()) at.push_back(f[0].get<uint64_t>());
  }
  CHECK(at == std::vector<uint64_t>{900 * kMs, 970 * kMs});
  // Self-contained: nothing to fetch.
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("href=\"http") == std::string::npos);
  CHECK(html.find("Content-Security-Policy") != std::string::npos);
}

TEST_CASE("export --html works in a headless Chromium: lanes, flamegraph zoom and search, time selection") {
  Browser b = find_browser();
  if (!b.skip.empty()) DIAL9_SKIP(b.skip);
  TempDir dir;
  RunResult r = run({dial9_binary(), "export", golden_trace_path(), "--html", dir.file("g.html")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string shot = screenshot_path("html-export.png");
  Json res = check_page(b, dir.file("g.html"), shot, {"--search", "hash", "--full-page"});
  const Json report = embedded(read_text_file(dir.file("g.html")), "dial9-report");
  INFO(res.dump(1).substr(0, 6000));
  expect_clean_load(res);

  // A lane per thread, each drawn with its data.
  const Json& lanes = res["timeline"]["lanes"];
  REQUIRE(lanes.size() == 4);
  CHECK(res["timeline"]["data_lanes"] == 4);
  REQUIRE(res["timeline"]["events_lane"].is_object());  // the 5 CacheMiss events, on a lane of their own
  CHECK(res["timeline"]["events_lane"]["ink"]["event"] > 0);
  // Thread states are drawn as exact intervals under each thread that has
  // them: the workers and the stats thread run most of the time; the stats
  // thread blocks on its lock, worker-0 on the disk, worker-1 is preempted.
  CHECK(res["timeline"]["states"] == "intervals");
  for (const auto& l : lanes) {
    const std::string label = l["label"];
    INFO(label);
    if (label.rfind("worker-", 0) == 0) {
      CHECK(l["ink"]["on"] > 100);
      CHECK(l["ink"]["poll"] > 0);
      CHECK(l["ink"]["span"] > 0);
      CHECK(l["ink"]["running"] > 1000);
      if (label.rfind("worker-0", 0) == 0) CHECK(l["ink"]["blocked"] > 0);
      if (label.rfind("worker-1", 0) == 0) CHECK(l["ink"]["runnable"] > 0);
    } else if (label.rfind("stats", 0) == 0) {
      CHECK(l["ink"]["off"] > 0);  // it waits on a lock
      CHECK(l["ink"]["running"] > 1000);
      CHECK(l["ink"]["blocked"] > 0);
    } else {
      CHECK(label.rfind("golden-svc", 0) == 0);
      CHECK(l["ink"]["on"] > 0);
      CHECK(l["ink"]["running"] == 0);  // schedstat totals only: no states to draw
    }
  }

  // Clicking a frame zooms into it: it becomes the full width.
  const Json& flame = res["flame"];
  REQUIRE(flame.contains("clicked"));
  CHECK(flame["zoomed"] == flame["clicked"]);
  CHECK(flame["clicked_width_before"].get<double>() < 0.9 * flame["width"].get<double>());
  CHECK(flame["clicked_width_after"].get<double>() >= 0.95 * flame["width"].get<double>());
  CHECK(flame["zoomed_after_reset"] == "all");

  // Search highlights the matching frames, and only those.
  CHECK(res["search"]["matches"] >= 1);
  CHECK(res["search"]["all_contain_query"] == true);
  CHECK(res["search"]["non_matching_highlighted"] == 0);
  CHECK(res["search"]["label"].get<std::string>().find("matched") != std::string::npos);

  // A shift-drag selection over 10–40% of the timeline changes the totals.
  const Json& sel = res["selection"];
  CHECK(sel["total_before"] == report["overview"]["cpu_samples"]);  // every on-CPU sample of golden.bin
  CHECK(sel["total_after"] > 0);
  CHECK(sel["total_after"] < sel["total_before"]);
  REQUIRE(sel["range"].is_array());
  CHECK(sel["flame_label"].get<std::string>().find(" from +") != std::string::npos);

  // Wheel zooms in, drag pans.
  const Json& zp = res["zoom_pan"];
  auto span = [](const Json& v) { return v[1].get<double>() - v[0].get<double>(); };
  CHECK(span(zp["after_wheel"]) < span(zp["initial"]));
  CHECK(zp["after_drag"][0].get<double>() > zp["after_wheel"][0].get<double>());

  // The first finding (the 60 ms poll) links to its moment.
  REQUIRE(res["finding_link"]["present"] == true);
  CHECK(res["finding_link"]["selection"] == Json::array({900 * kMs, 960 * kMs}));
  CHECK(fs::file_size(shot) > 10000);
  std::printf("screenshot: %s\n", shot.c_str());
}

TEST_CASE("export --html shows hostile names as text and never runs them") {
  TempDir dir;
  auto bytes = hostile_trace();
  dir.write("evil.bin", bytes);
  RunResult r = run({dial9_binary(), "export", dir.file("evil.bin"), "--html", dir.file("evil.html")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = read_text_file(dir.file("evil.html"));
  // No string can close a script: the three closing tags are the page's own,
  // and the data has no raw line separators.
  CHECK(count(html, "</script") == 3);
  CHECK(count(html, "</SCRIPT") == 0);
  CHECK(html.find("\xe2\x80\xa8") == std::string::npos);
  CHECK(html.find("\xe2\x80\xa9") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<svg") == std::string::npos);
  const Json data = embedded(html, "dial9-data");
  CHECK(data["lanes"].size() >= 4);
  const Json report = embedded(html, "dial9-report");
  CHECK(report["custom_events"].size() == 1);

  Browser b = find_browser();
  if (!b.skip.empty()) DIAL9_SKIP(b.skip);
  const std::string shot = screenshot_path("html-export-hostile.png");
  Json res = check_page(b, dir.file("evil.html"), shot,
                        {"--search", "svg", "--expect", kScriptClose, "--expect", kAttrBreak, "--expect", kLineSep,
                         "--expect", "bad\xef\xbf\xbd", "--expect", kHugeName.substr(0, 300), "--expect",
                         "Evil<img src=x onerror=\"window.__pwned='custom'\">", "--expect",
                         "detail=\"<script>window.__pwned='field'</script>" + kLineSep});
  INFO(res.dump(1).substr(0, 6000));
  expect_clean_load(res);
  CHECK(res["timeline"]["lanes"].size() == data["lanes"].size());
  CHECK(data["events"].size() == 3);
  for (const auto& e : res["safety"]["expected_text"]) {
    INFO(e["text"]);
    CHECK(e["found"] == true);
  }
  // Search treats the query as text: "svg" finds the frame named with it.
  CHECK(res["search"]["matches"] >= 1);
  CHECK(res["search"]["all_contain_query"] == true);
  std::printf("screenshot: %s\n", shot.c_str());
}

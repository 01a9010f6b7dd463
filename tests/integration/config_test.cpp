// Configuration through the real dial9 binary: every layer's precedence as
// `config show` reports it, configured values reaching record, report and
// export, the command line beating them all, and `config default` being a
// complete, valid file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/support/perf_available.h"
#include "tests/support/test_support.h"

using namespace dial9::test;
namespace fs = std::filesystem;

namespace {

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// dial9 in `cwd` with exactly these configuration variables (plus HOME and
// XDG_CONFIG_HOME as given; unset when empty).
RunResult dial9_in(const std::string& cwd, const std::vector<std::string>& env, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"env", "-C", cwd, "-u", "DIAL9_CONFIG", "-u", "XDG_CONFIG_HOME"};
  for (const auto& e : env) argv.push_back(e);
  argv.push_back(dial9_binary());
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

// record.frequency's value and source as `config show` reports them.
std::pair<nlohmann::json, std::string> frequency(const std::string& cwd, const std::vector<std::string>& env,
                                                 std::vector<std::string> args = {}) {
  args.insert(args.begin(), {"config", "show", "--format", "json"});
  RunResult r = dial9_in(cwd, env, args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out)["record"]["frequency"];
  return {j["value"], j["source"].get<std::string>()};
}

}  // namespace

TEST_CASE("config show names the layer of each value: defaults, user file, ./dial9.toml, --config, DIAL9_CONFIG, variables") {
  TempDir t;
  const std::string cwd = t.file("work"), xdg = t.file("xdg"), home = t.file("home");
  fs::create_directories(cwd);
  write_text(xdg + "/dial9/config.toml", "[record]\nfrequency = 101\n");
  write_text(home + "/.config/dial9/config.toml", "# home\n[record]\nfrequency = 100\n");
  write_text(cwd + "/dial9.toml", "[record]\n\nfrequency = 102\n");
  write_text(t.file("flag.toml"), "[record]\nfrequency = 103\n");
  write_text(t.file("env.toml"), "[record]\nfrequency = 104\n");
  const std::vector<std::string> flag = {"--config", t.file("flag.toml")};

  std::vector<std::string> env = {"HOME=" + home, "XDG_CONFIG_HOME=" + xdg, "DIAL9_CONFIG=" + t.file("env.toml"),
                                  "DIAL9_RECORD_FREQUENCY=105"};
  CHECK(frequency(cwd, env, flag) == std::make_pair(nlohmann::json(105), std::string("DIAL9_RECORD_FREQUENCY")));
  env.pop_back();
  CHECK(frequency(cwd, env, flag) == std::make_pair(nlohmann::json(104), t.file("env.toml") + ":2 (DIAL9_CONFIG)"));
  env.pop_back();
  CHECK(frequency(cwd, env, flag) == std::make_pair(nlohmann::json(103), t.file("flag.toml") + ":2 (--config)"));
  CHECK(frequency(cwd, env) == std::make_pair(nlohmann::json(102), std::string("./dial9.toml:3")));
  fs::remove(cwd + "/dial9.toml");
  CHECK(frequency(cwd, env) == std::make_pair(nlohmann::json(101), xdg + "/dial9/config.toml:2"));
  env.pop_back();  // without XDG_CONFIG_HOME: ~/.config
  CHECK(frequency(cwd, env) == std::make_pair(nlohmann::json(100), home + "/.config/dial9/config.toml:3"));
  CHECK(frequency(cwd, {"HOME=" + t.file("nowhere")}) == std::make_pair(nlohmann::json(999), std::string("default")));

  // A higher layer's period makes a lower layer's frequency unused.
  auto [value, source] = frequency(cwd, {"HOME=" + home, "DIAL9_RECORD_PERIOD=100000"});
  CHECK(value.is_null());
  CHECK(source == "not used: period is set (DIAL9_RECORD_PERIOD)");
}

TEST_CASE("configured values reach report and export, and the command line beats them") {
  TempDir t;
  const std::string cwd = t.file("work");
  fs::create_directories(cwd);
  write_text(cwd + "/dial9.toml", "[report]\nformat = \"json\"\ntop = 3\n\n[export]\nfolded = \"out.folded\"\n");
  const std::vector<std::string> env = {"HOME=" + t.file("home")};

  RunResult json = dial9_in(cwd, env, {"report", golden_trace_path()});
  REQUIRE(json.exit_code == 0);
  auto report = nlohmann::json::parse(json.out);
  CHECK(report["hot_functions"].size() <= 3);
  RunResult text = dial9_in(cwd, env, {"report", "-f", "text", golden_trace_path()});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.rfind("{", 0) != 0);
  // The environment beats the file.
  RunResult md = dial9_in(cwd, {"HOME=" + t.file("home"), "DIAL9_REPORT_FORMAT=markdown"}, {"report", golden_trace_path()});
  REQUIRE(md.exit_code == 0);
  CHECK(md.out.rfind("# ", 0) == 0);

  // An output named only in the configuration is written, relative to the
  // directory dial9 runs in; -v says where the value came from.
  RunResult ex = dial9_in(cwd, env, {"export", "-v", golden_trace_path()});
  INFO(ex.err);
  REQUIRE(ex.exit_code == 0);
  CHECK(fs::file_size(cwd + "/out.folded") > 0);
  CHECK(ex.err.find("dial9 export: config: [export] folded = \"out.folded\" from ./dial9.toml:6") != std::string::npos);

  // A broken ./dial9.toml stops every configurable command before it reads
  // anything, naming the line.
  write_text(cwd + "/dial9.toml", "[report]\nformt = \"json\"\n");
  RunResult bad = dial9_in(cwd, env, {"report", golden_trace_path()});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "dial9 report: ./dial9.toml:2: unknown key 'formt' in [report]; did you mean 'format'?\n");
  CHECK(bad.out.empty());
  // dump and doctor have no configuration and do not read it.
  CHECK(dial9_in(cwd, env, {"dump", "-e", "SegmentMetadataEvent", golden_trace_path()}).exit_code == 0);
}

TEST_CASE("configured values reach record: rate, scheduler capture, retention, and -v lists them") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events unavailable: " + why);
  TempDir t;
  const std::string cwd = t.file("work");
  fs::create_directories(cwd);
  write_text(t.file("xdg/dial9/config.toml"), "[record]\nfrequency = 211\nevent = \"cpu-clock\"\n\n[sched]\nenabled = false\n");
  write_text(cwd + "/dial9.toml", "[segments]\ncompression = \"gzip\"\n");
  const std::vector<std::string> env = {"XDG_CONFIG_HOME=" + t.file("xdg"), "HOME=" + t.file("home")};

  RunResult r = dial9_in(cwd, env, {"record", "-v", "-o", t.file("a"), "--", "true"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("dial9 record: config: [record] frequency = 211 from " + t.file("xdg") + "/dial9/config.toml:2") !=
        std::string::npos);
  CHECK(r.err.find("dial9 record: config: [sched] enabled = false from") != std::string::npos);
  CHECK(r.err.find("211 Hz") != std::string::npos);
  CHECK(r.err.find("scheduler:") == std::string::npos);  // --no-sched's summary has no scheduler line
  bool gzip = false;
  for (const auto& e : fs::directory_iterator(t.file("a"))) gzip = gzip || e.path().extension() == ".gz";
  CHECK(gzip);
  RunResult meta = run({dial9_binary(), "dump", "-f", "jsonl", "-e", "SegmentMetadataEvent", t.file("a")});
  REQUIRE(meta.exit_code == 0);
  CHECK(meta.out.find("\"frequency_hz\"") != std::string::npos);
  CHECK(meta.out.find("211") != std::string::npos);
  CHECK(std::regex_search(meta.out, std::regex(R"("sched"[^}]*"off")")));

  // The command line wins: -c beats the configured frequency (no conflict),
  // and the variable beats the file.
  RunResult c = dial9_in(cwd, env, {"record", "-v", "-c", "1000000", "-o", t.file("b"), "--", "true"});
  INFO(c.err);
  REQUIRE(c.exit_code == 0);
  CHECK(c.err.find("every 1000000 events") != std::string::npos);
  CHECK(c.err.find("[record] frequency") == std::string::npos);
  std::vector<std::string> env2 = env;
  env2.push_back("DIAL9_SCHED_ENABLED=true");
  RunResult s = dial9_in(cwd, env2, {"record", "-o", t.file("c"), "--", "true"});
  REQUIRE(s.exit_code == 0);
  CHECK(s.err.find("scheduler:") != std::string::npos);
}

TEST_CASE("config default prints every key, and uncommented it is a valid file that sets each one") {
  TempDir t;
  RunResult def = run({dial9_binary(), "config", "default"});
  REQUIRE(def.exit_code == 0);
  // Uncomment every "# key = value" line but the keys that exclude a key
  // uncommented before them (period after frequency).
  std::istringstream in(def.out);
  std::string file;
  size_t keys = 0;
  static const std::regex key_line(R"(^# ([a-z_]+) = .*)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, key_line) && m[1] != "period") {
      file += line.substr(2) + "\n";
      ++keys;
    } else {
      file += line + "\n";
    }
  }
  write_text(t.file("all.toml"), file);
  RunResult show = dial9_in(t.path(), {"HOME=" + t.file("home")}, {"config", "show", "-f", "json", "--config", t.file("all.toml")});
  INFO(show.err << file);
  REQUIRE(show.exit_code == 0);
  auto j = nlohmann::json::parse(show.out);
  size_t from_file = 0, total = 0;
  for (const auto& [section, entries] : j.items()) {
    for (const auto& [name, e] : entries.items()) {
      ++total;
      INFO(section << "." << name << ": " << e.dump());
      if (name == "period") {
        CHECK(e["value"].is_null());
        continue;
      }
      CHECK(e["source"].get<std::string>().find(t.file("all.toml") + ":") == 0);
      ++from_file;
    }
  }
  CHECK(keys == from_file);
  CHECK(total == from_file + 1);
  CHECK(total >= 30);
}

TEST_CASE("as another user: an unreadable config file is an error, a home it cannot search is not its configuration") {
  if (::geteuid() != 0) DIAL9_SKIP("needs root to run dial9 as user nobody");
  TempDir t;
  fs::permissions(t.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  const std::string readable_home = t.file("home"), closed_home = t.file("closed");
  write_text(readable_home + "/.config/dial9/config.toml", "[record]\nfrequency = 123\n");
  write_text(closed_home + "/.config/dial9/config.toml", "[record]\nfrequency = 124\n");
  fs::permissions(readable_home, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  fs::permissions(readable_home + "/.config", fs::perms::owner_all | fs::perms::others_exec);
  fs::permissions(readable_home + "/.config/dial9", fs::perms::owner_all | fs::perms::others_exec);
  fs::permissions(readable_home + "/.config/dial9/config.toml", fs::perms::owner_read | fs::perms::owner_write);
  fs::permissions(closed_home, fs::perms::owner_all);
  auto as_nobody = [&](const std::string& home) {
    return run({RUN_RESTRICTED, "--user", "nobody", "--", "env", "-C", readable_home, "-u", "XDG_CONFIG_HOME", "-u",
                "DIAL9_CONFIG", "HOME=" + home, dial9_binary(), "config", "show", "-f", "json"});
  };
  RunResult unreadable = as_nobody(readable_home);
  CHECK(unreadable.exit_code == 2);
  CHECK(unreadable.err == "dial9 config show: cannot read config file " + readable_home +
                              "/.config/dial9/config.toml: Permission denied; make it readable to this user\n");
  RunResult closed = as_nobody(closed_home);
  INFO(closed.err);
  REQUIRE(closed.exit_code == 0);
  CHECK(nlohmann::json::parse(closed.out)["record"]["frequency"]["source"] == "default");
}

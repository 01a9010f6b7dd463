// The configuration's pure parts (cli/config/): the key table, parsing one
// TOML layer or the environment, and merging the layers.
#include <catch2/catch.hpp>

#include <set>

#include "cli/config/config.h"
#include "cli/config/keys.h"

using namespace dial9::cli::config;

namespace {

const Setting* find(const std::vector<Setting>& v, const std::string& full) {
  for (const auto& s : v) {
    if (full_name(*s.key) == full) return &s;
  }
  return nullptr;
}

std::string toml_error(const std::string& text) {
  auto r = parse_toml(text, "t.toml", Layer::kLocalFile);
  REQUIRE(!r);
  return r.error().message();
}

}  // namespace

TEST_CASE("config keys: unique names, one option each per command, variables from section and name") {
  std::set<std::string> names, envs;
  for (const Key& k : keys()) {
    INFO(full_name(k));
    CHECK(names.insert(full_name(k)).second);
    CHECK(envs.insert(env_name(k)).second);
    CHECK(k.section.find('_') == std::string_view::npos);  // DIAL9_<SECTION>_<KEY> splits at the first '_'
    for (Command c : {kRecord, kReport, kExport, kAttach}) {
      if (k.commands & c) CHECK(key_for_option(c, k.option) == &k);
    }
    if (k.inverted) CHECK(k.type == KeyType::kBool);
    if (!k.excludes.empty()) CHECK(find_key(k.section, k.excludes)->excludes == k.name);
  }
  CHECK(env_name(*find_key("segments", "max_total_size")) == "DIAL9_SEGMENTS_MAX_TOTAL_SIZE");
  CHECK(full_name(*find_key("record", "frequency")) == "record.frequency");
  CHECK(key_for_option(kRecord, "no-sched") == find_key("sched", "enabled"));
  CHECK(key_for_option(kReport, "debug-dir") == find_key("symbols", "debug_dirs"));
  CHECK(key_for_option(kReport, "output") == nullptr);  // record's and attach's only
  CHECK(key_for_option(kAttach, "frequency") == find_key("record", "frequency"));
  CHECK(key_for_option(kRecord, "force") == nullptr);  // attach's only
}

TEST_CASE("config file: each type, with its line as the source") {
  auto r = parse_toml(R"([record]
frequency = 499
kernel = false
duration = "1h30m"

[segments]
max_total_size = "10GiB"
max_file_size = 1048576

[select]
tid = [12, 13]
thread = ["worker-1", "a \"quoted\" name"]
)",
                      "/etc/d.toml", Layer::kConfigFlag);
  REQUIRE(r);
  REQUIRE(r->size() == 7);
  const Setting* f = find(*r, "record.frequency");
  REQUIRE(f);
  CHECK(f->items == std::vector<std::string>{"499"});
  CHECK(f->literal == "499");
  CHECK(f->source == "/etc/d.toml:2 (--config)");
  CHECK(f->location == "/etc/d.toml:2");
  CHECK(f->layer == Layer::kConfigFlag);
  CHECK(find(*r, "record.kernel")->items == std::vector<std::string>{"false"});
  CHECK(find(*r, "record.duration")->literal == "\"1h30m\"");
  CHECK(find(*r, "segments.max_total_size")->items == std::vector<std::string>{"10GiB"});
  CHECK(find(*r, "segments.max_total_size")->source == "/etc/d.toml:7 (--config)");
  CHECK(find(*r, "segments.max_file_size")->literal == "1048576");
  CHECK(find(*r, "select.tid")->items == std::vector<std::string>{"12", "13"});
  CHECK(find(*r, "select.tid")->literal == "[12, 13]");
  CHECK(find(*r, "select.thread")->literal == R"(["worker-1", "a \"quoted\" name"])");
}

TEST_CASE("config file errors name the file, the line and the nearest key") {
  CHECK(toml_error("[record]\nfrequncy = 5\n") == "t.toml:2: unknown key 'frequncy' in [record]; did you mean 'frequency'?");
  CHECK(toml_error("[record]\nxyzzy = 5\n").find("t.toml:2: unknown key 'xyzzy' in [record] (keys: output, frequency,") == 0);
  CHECK(toml_error("[report]\n\nfrequency = 5\n") == "t.toml:3: unknown key 'frequency' in [report]; it belongs in [record]");
  CHECK(toml_error("[segment]\nmax_total_size = 5\n") == "t.toml:1: unknown section [segment]; did you mean [segments]?");
  CHECK(toml_error("[zzzzzzzz]\n").find("t.toml:1: unknown section [zzzzzzzz] (sections: [record], [segments],") == 0);
  CHECK(toml_error("frequency = 5\n") == "t.toml:1: 'frequency' must be in a section: put it under [record]");
  CHECK(toml_error("[record]\nfrequency = \"5\"\n") == "t.toml:2: [record] frequency: expected an integer");
  CHECK(toml_error("[record]\nkernel = 1\n") == "t.toml:2: [record] kernel: expected true or false");
  CHECK(toml_error("[record]\nfrequency = 0\n") == "t.toml:2: [record] frequency must be a positive number, not 0");
  CHECK(toml_error("[record]\nmmap_pages = 96\n").find("must be a power of two") != std::string::npos);
  CHECK(toml_error("[record]\ncall_graph = \"lbr\"\n") == "t.toml:2: [record] call_graph must be fp, auto, dwarf or dwarf,BYTES, not 'lbr'");
  CHECK(toml_error("[record]\nduration = \"0s\"\n") == "t.toml:2: [record] duration must be longer than 0");
  CHECK(toml_error("[segments]\nmax_total_size = \"1XB\"\n").find("t.toml:2: [segments] max_total_size: '1XB': unknown size unit") == 0);
  CHECK(toml_error("[segments]\nmax_total_size = -1\n") == "t.toml:2: [segments] max_total_size: expected a size such as \"64MiB\" or a number of bytes");
  CHECK(toml_error("[segments]\ncompression = \"lz4\"\n") == "t.toml:2: [segments] compression must be one of zstd,gzip,none, not 'lz4'");
  CHECK(toml_error("[select]\ntid = [1, \"x\"]\n") == "t.toml:2: [select] tid: expected an array of integers such as [1234, 1235]");
  CHECK(toml_error("[select]\nfrom = \"yesterday\"\n").find("t.toml:2: [select] from must be a time such as 2s") == 0);
  CHECK(toml_error("[record]\nfrequency = 5\nfrequency = 6\n").find("t.toml:3: not valid TOML") == 0);
  CHECK(toml_error("[record\n").find("t.toml:1: not valid TOML") == 0);
}

TEST_CASE("environment: DIAL9_SECTION_KEY variables, other DIAL9_ variables left alone") {
  auto r = parse_environment({{"DIAL9_RECORD_FREQUENCY", "499"},
                              {"DIAL9_SEGMENTS_MAX_TOTAL_SIZE", "2GiB"},
                              {"DIAL9_SCHED_ENABLED", "off"},
                              {"DIAL9_SELECT_TID", "12,13"},
                              {"DIAL9_CONFIG", "/x.toml"},
                              {"DIAL9_TEST_NO_TRACEFS", "1"},
                              {"PATH", "/bin"}});
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  CHECK(find(*r, "record.frequency")->source == "DIAL9_RECORD_FREQUENCY");
  CHECK(find(*r, "record.frequency")->layer == Layer::kEnvironment);
  CHECK(find(*r, "sched.enabled")->items == std::vector<std::string>{"false"});
  CHECK(find(*r, "select.tid")->items == std::vector<std::string>{"12", "13"});

  auto typo = parse_environment({{"DIAL9_RECORD_FREQENCY", "1"}});
  REQUIRE(!typo);
  CHECK(typo.error().message() ==
        "unknown variable DIAL9_RECORD_FREQENCY: [record] has no key 'freqency'; did you mean DIAL9_RECORD_FREQUENCY?");
  auto bad = parse_environment({{"DIAL9_RECORD_FREQUENCY", "fast"}});
  REQUIRE(!bad);
  CHECK(bad.error().message() == "environment variable DIAL9_RECORD_FREQUENCY: expected an integer, not 'fast'");
  CHECK(!parse_environment({{"DIAL9_REPORT_TOP", "0"}}));
  CHECK(!parse_environment({{"DIAL9_SCHED_ENABLED", "maybe"}}));
}

TEST_CASE("layers: the highest wins, and of two exclusive keys the higher layer's") {
  auto file = parse_toml("[record]\nfrequency = 101\nquiet = true\n[report]\ntop = 7\n", "a.toml", Layer::kLocalFile);
  auto flag = parse_toml("[record]\nfrequency = 102\n", "b.toml", Layer::kConfigFlag);
  auto env = parse_environment({{"DIAL9_REPORT_TOP", "9"}});
  REQUIRE((file && flag && env));
  std::vector<Setting> all = *env;
  all.insert(all.end(), flag->begin(), flag->end());
  all.insert(all.end(), file->begin(), file->end());
  auto c = resolve(all);
  REQUIRE(c);
  CHECK(c->get(*find_key("record", "frequency"))->items.front() == "102");
  CHECK(c->get(*find_key("report", "top"))->source == "DIAL9_REPORT_TOP");
  CHECK(c->get(*find_key("record", "quiet"))->source == "a.toml:3");
  CHECK(c->get(*find_key("record", "event")) == nullptr);

  // period in a higher layer drops frequency from a lower one.
  auto period = parse_environment({{"DIAL9_RECORD_PERIOD", "100000"}});
  all.insert(all.end(), period->begin(), period->end());
  c = resolve(all);
  REQUIRE(c);
  CHECK(c->get(*find_key("record", "frequency")) == nullptr);
  CHECK(c->overridden().at(find_key("record", "frequency")) == find_key("record", "period"));

  // Both in one layer: an error naming both lines.
  auto both = parse_toml("[record]\nfrequency = 99\nperiod = 1000\n", "c.toml", Layer::kConfigFlag);
  REQUIRE(both);
  auto err = resolve(*both);
  REQUIRE(!err);
  CHECK(err.error().message() == "c.toml:2: [record] frequency and period (c.toml:3) exclude each other; keep one");

  // quiet = false and verbose = true do not conflict.
  auto flags = parse_toml("[record]\nquiet = false\nverbose = true\n", "d.toml", Layer::kConfigFlag);
  REQUIRE(flags);
  CHECK(resolve(*flags));
}

// `dial9 config show|default`: the effective configuration with the source
// of each value, and a commented file of every key at its default. See
// man/dial9.toml.5.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/text.h"
#include "cli/commands.h"
#include "cli/config/apply.h"
#include "cli/config/config.h"
#include "cli/config/keys.h"
#include "cli/exit_codes.h"
#include "cli/output.h"

namespace dial9::cli {
namespace {

using config::Key;
using config::KeyType;

const char* command_name(const Key& k) {
  if (k.commands & config::kRecord) return "record";
  if (k.commands & config::kAttach) return "attach";
  if (k.commands & config::kReport) return "report";
  return "export";
}

// The option a key stands for (on the first command it applies to).
const CLI::Option* option_of(const CLI::App& app, const Key& k) {
  for (const CLI::App* sub : app.get_subcommands([&](const CLI::App* s) { return s->get_name() == command_name(k); })) {
    return sub->get_option_no_throw("--" + std::string(k.option));
  }
  return nullptr;
}

// The built-in default as TOML, or nullopt when the option has none (dial9
// then decides, as its description says).
std::optional<std::string> default_literal(const CLI::App& app, const Key& k) {
  if (k.type == KeyType::kBool) return std::string(k.inverted ? "true" : "false");
  const CLI::Option* opt = option_of(app, k);
  if (!opt || opt->get_default_str().empty()) return std::nullopt;
  return config::toml_literal(k, {opt->get_default_str()});
}

struct Row {
  const Key* key;
  std::optional<std::string> value;  // TOML literal; nullopt: not set
  std::string source;
  std::string note;  // why a set value does not apply
};

std::vector<Row> effective(const CLI::App& app, const config::Config& c) {
  std::vector<Row> rows;
  for (const Key& k : config::keys()) {
    Row r{&k, std::nullopt, "default", ""};
    if (const config::Setting* s = c.get(k)) {
      r.value = s->literal;
      r.source = s->source;
    } else if (auto it = c.overridden().find(&k); it != c.overridden().end()) {
      r.note = "not used: " + std::string(it->second->name) + " is set (" + c.get(*it->second)->source + ")";
    } else if (!k.excludes.empty() && k.type != KeyType::kBool && c.get(*config::find_key(k.section, k.excludes))) {
      r.note = "not used: " + std::string(k.excludes) + " is set";
    } else {
      r.value = default_literal(app, k);
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string render_text(const std::vector<Row>& rows) {
  std::string out =
      "# The effective dial9 configuration and where each value comes from. Layers, lowest first:\n"
      "# defaults, " + (config::user_config_path().empty() ? std::string("~/.config/dial9/config.toml") : config::user_config_path()) +
      ", ./dial9.toml, --config FILE, DIAL9_CONFIG's file,\n"
      "# DIAL9_<SECTION>_<KEY> variables; the command line beats them all.\n";
  std::string_view section;
  for (const Row& r : rows) {
    if (r.key->section != section) {
      section = r.key->section;
      out += "\n[" + std::string(section) + "]\n";
    }
    std::string line;
    if (!r.note.empty()) {
      line = "# " + std::string(r.key->name);
      out += line + std::string(line.size() < 36 ? 36 - line.size() : 1, ' ') + "# " + r.note + "\n";
      continue;
    }
    if (!r.value) {
      line = "# " + std::string(r.key->name) + " is not set";
      out += line + std::string(line.size() < 36 ? 36 - line.size() : 1, ' ') + "# default: see dial9.toml(5)\n";
      continue;
    }
    line = std::string(r.key->name) + " = " + *r.value;
    out += line + std::string(line.size() < 36 ? 36 - line.size() : 1, ' ') + "# " + r.source + "\n";
  }
  return out;
}

// TOML literals of our types are valid JSON, except sizes and durations,
// which are JSON strings or numbers as written.
std::string render_json(const std::vector<Row>& rows) {
  std::string out = "{";
  std::string_view section;
  for (const Row& r : rows) {
    if (r.key->section != section) {
      out += std::string(section.empty() ? "" : "},") + json_quote(r.key->section) + ":{";
      section = r.key->section;
    } else {
      out += ",";
    }
    out += json_quote(r.key->name) + ":{\"value\":" + (r.value ? *r.value : "null") +
           ",\"source\":" + json_quote(r.value ? r.source : r.note.empty() ? "default" : r.note) +
           ",\"env\":" + json_quote(config::env_name(*r.key)) + "}";
  }
  return out + (section.empty() ? "}\n" : "}}\n");
}

// `text` as "# " lines of at most about 90 columns.
std::string wrap_comment(const std::string& text) {
  std::string out, line;
  size_t start = 0;
  while (start < text.size()) {
    size_t space = text.find(' ', start);
    std::string word = text.substr(start, space == std::string::npos ? std::string::npos : space - start);
    if (!line.empty() && line.size() + 1 + word.size() > 88) {
      out += "# " + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    if (space == std::string::npos) break;
    start = space + 1;
  }
  if (!line.empty()) out += "# " + line + "\n";
  return out;
}

std::string render_default(const CLI::App& app) {
  std::string out =
      "# dial9 configuration (dial9.toml(5)). dial9 reads, lowest precedence first:\n"
      "#   $XDG_CONFIG_HOME/dial9/config.toml (or ~/.config/dial9/config.toml), ./dial9.toml,\n"
      "#   the file given with --config, the file named by DIAL9_CONFIG,\n"
      "#   DIAL9_<SECTION>_<KEY> environment variables (DIAL9_RECORD_FREQUENCY=499),\n"
      "#   and the command line, which wins.\n"
      "# Every key is shown commented out, at its default or with an example; sizes take\n"
      "# units (64MiB, 1G), durations too (30s, 1h30m). [record], [segments] and [sched]\n"
      "# are for dial9 record; [report], [export], [select] and [symbols] for report and export.\n";
  std::string_view section;
  for (const Key& k : config::keys()) {
    if (k.section != section) {
      section = k.section;
      out += "\n[" + std::string(section) + "]\n";
    }
    const CLI::Option* opt = option_of(app, k);
    std::string what = opt ? opt->get_description() : "";
    std::string names = opt ? opt->get_name(false, true) : "";
    if (k.inverted) what = "false is " + names + ": " + what;
    out += wrap_comment(what + " (" + (k.inverted ? "" : names + "; ") + config::env_name(k) + ")");
    auto def = default_literal(app, k);
    std::string value = def ? *def : std::string(k.example);
    if (!def && k.type == KeyType::kString) value = json_quote(k.example);
    if (!def && (k.type == KeyType::kDuration || k.type == KeyType::kSize)) value = config::toml_literal(k, {std::string(k.example)});
    out += "# " + std::string(k.name) + " = " + value + (def ? "" : "    # an example: not set by default") + "\n";
  }
  return out;
}

}  // namespace

RunFn add_config_command(CLI::App& app) {
  struct Options {
    std::string format = "text";
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "config", "Show the effective configuration and where each value comes from, or print a default file.");
  cmd->require_subcommand(1);
  CLI::App* show = cmd->add_subcommand("show", "Print each configuration key's effective value and its source");
  config::add_config_option(show);
  show->add_option("-f,--format", opt->format, "text (TOML with the sources as comments) or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  CLI::App* def = cmd->add_subcommand("default", "Print a configuration file with every key, commented out, at its default");
  return [&app, opt, show, def]() -> int {
    if (def->parsed()) return write_stdout(render_default(app), "config default");
    auto c = config::load(config::config_flag(*show));
    if (!c) {
      std::fprintf(stderr, "dial9 config show: %s\n", c.error().message().c_str());
      return kExitUsage;
    }
    auto rows = effective(app, *c);
    return write_stdout(opt->format == "json" ? render_json(rows) : render_text(rows), "config show");
  };
}

}  // namespace dial9::cli

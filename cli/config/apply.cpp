#include "cli/config/apply.h"

#include <CLI/CLI.hpp>

namespace dial9::cli::config {

void add_config_option(CLI::App* cmd) {
  cmd->add_option("--config", "Also read settings from this TOML file (see dial9.toml(5)); DIAL9_* variables and "
                              "the command line take precedence over it")
      ->type_name("FILE");
}

std::string config_flag(const CLI::App& cmd) {
  const CLI::Option* opt = cmd.get_option_no_throw("--config");
  return opt && opt->count() ? opt->results().front() : "";
}

Result<std::vector<std::string>> apply(CLI::App& cmd, Command command, const Config& config) {
  std::vector<std::string> applied;
  auto on_command_line = [&](std::string_view option) {
    const CLI::Option* o = cmd.get_option_no_throw("--" + std::string(option));
    return o && o->count() > 0;
  };
  for (const Key& k : keys()) {
    if (!(k.commands & command)) continue;
    CLI::Option* opt = cmd.get_option_no_throw("--" + std::string(k.option));
    // The key table and the options are both ours: a key without its option
    // is a bug the config tests catch.
    if (!opt) return fail("internal: [" + std::string(k.section) + "] " + std::string(k.name) + " has no option --" + std::string(k.option));
    if (opt->count() > 0) continue;
    if (!k.excludes.empty()) {
      const Key* other = find_key(k.section, k.excludes);
      if (other && on_command_line(other->option)) continue;
    }
    const Setting* s = config.get(k);
    if (!s) continue;
    std::vector<std::string> items = s->items;
    if (k.inverted) items = {items.front() == "true" ? "false" : "true"};
    try {
      opt->clear();
      opt->add_result(items);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return fail(s->location + ": [" + std::string(k.section) + "] " + std::string(k.name) + ": " + e.what());
    }
    applied.push_back("[" + std::string(k.section) + "] " + std::string(k.name) + " = " + s->literal + " from " + s->source);
  }
  return applied;
}

}  // namespace dial9::cli::config

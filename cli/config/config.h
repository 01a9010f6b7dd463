// Configuration layers and the effective configuration. From lowest to
// highest precedence:
//
//   built-in defaults
//   $XDG_CONFIG_HOME/dial9/config.toml (or ~/.config/dial9/config.toml)
//   ./dial9.toml
//   --config FILE
//   the file named by DIAL9_CONFIG
//   DIAL9_<SECTION>_<KEY> variables (DIAL9_RECORD_FREQUENCY=499)
//   the command line
//
// Each layer is parsed on its own (parse_toml, parse_environment: pure);
// load() reads the files and the environment (the I/O edge) and resolve()
// keeps the highest layer's value of each key. Errors name the file and line
// (or the variable) and, for a typo, the nearest valid key.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cli/config/keys.h"

namespace dial9::cli::config {

enum class Layer { kDefault, kUserFile, kLocalFile, kConfigFlag, kConfigEnv, kEnvironment, kCommandLine };

// One key's value from one layer.
struct Setting {
  const Key* key = nullptr;
  // The value as the option receives it: one item for scalars, one per
  // element for arrays. Booleans are "true"/"false" (before inversion).
  std::vector<std::string> items;
  std::string literal;  // as TOML writes it: 999, "1GiB", true, [1, 2]
  Layer layer = Layer::kDefault;
  std::string source;  // "./dial9.toml:3", "x.toml:3 (--config)", "DIAL9_RECORD_FREQUENCY"
  std::string location;  // for errors: "x.toml:3", or the variable
};

// `items` of key `k` as TOML writes them: 999, "1GiB", true, [1, 2].
std::string toml_literal(const Key& k, const std::vector<std::string>& items);

// The settings of one TOML document read from `path` for `layer`. Errors
// start with "path:line: "; sources are "path:line", followed by
// " (--config)" or " (DIAL9_CONFIG)" for those layers.
Result<std::vector<Setting>> parse_toml(std::string_view text, const std::string& path, Layer layer);

// The settings of DIAL9_<SECTION>_<KEY> variables among `env` (name, value).
// Variables of an unknown section (DIAL9_CONFIG, DIAL9_TEST_...) are not
// configuration; an unknown key in a known section is an error.
Result<std::vector<Setting>> parse_environment(const std::vector<std::pair<std::string, std::string>>& env);

// The effective configuration: the highest layer's value of each key that
// any layer set.
class Config {
 public:
  const Setting* get(const Key& k) const;
  // Keys a higher layer's conflicting key overrode (frequency dropped for a
  // higher period), with that key, for `config show`.
  const std::map<const Key*, const Key*>& overridden() const { return overridden_; }

 private:
  friend Result<Config> resolve(std::vector<Setting> settings);
  std::map<const Key*, Setting> values_;
  std::map<const Key*, const Key*> overridden_;
};

// Merges the layers' settings (in any order). Two keys that exclude each
// other (Key::excludes) set in the same layer are an error; otherwise the
// higher layer's key wins and the other is dropped.
Result<Config> resolve(std::vector<Setting> settings);

// The user's file: $XDG_CONFIG_HOME/dial9/config.toml, or
// $HOME/.config/dial9/config.toml; "" when neither variable is set.
std::string user_config_path();

// Reads every layer below the command line: the user's file and ./dial9.toml
// when they exist, `config_flag` (--config, "" for none) and DIAL9_CONFIG's
// file, which must exist, and the process environment.
Result<Config> load(const std::string& config_flag);

}  // namespace dial9::cli::config

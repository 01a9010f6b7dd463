#include "cli/config/config.h"

#include <toml++/toml.h>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "base/io.h"
#include "base/text.h"
#include "cli/units.h"

extern char** environ;

namespace dial9::cli::config {
namespace {

constexpr size_t kMaxConfigBytes = size_t{1} << 20;

}  // namespace

std::string toml_literal(const Key& k, const std::vector<std::string>& items) {
  const KeyType t = k.type;
  switch (t) {
    case KeyType::kInt:
    case KeyType::kBool: return items.front();
    case KeyType::kString: return json_quote(items.front());
    case KeyType::kSize:
    case KeyType::kDuration: {
      const std::string& v = items.front();
      bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
      return digits ? v : json_quote(v);
    }
    case KeyType::kIntList:
    case KeyType::kStringList: {
      std::string out = "[";
      for (size_t i = 0; i < items.size(); ++i) {
        out += (i ? ", " : "") + (t == KeyType::kIntList ? items[i] : json_quote(items[i]));
      }
      return out + "]";
    }
  }
  return "";
}

namespace {

// Checks a size or duration's text; "" when it reads.
std::string check_units(KeyType t, const std::string& v) {
  if (t == KeyType::kSize) {
    if (auto r = parse_size(v); !r) return r.error().message();
  } else if (t == KeyType::kDuration) {
    if (auto r = parse_duration(v); !r) return r.error().message();
  }
  return "";
}

// A TOML value as the key's items, or an error message.
Result<std::vector<std::string>> items_of(const Key& k, const toml::node& n) {
  auto wrong = [&] { return fail("expected " + describe_type(k.type)); };
  switch (k.type) {
    case KeyType::kInt:
      if (!n.is_integer()) return wrong();
      return std::vector<std::string>{std::to_string(*n.value<int64_t>())};
    case KeyType::kBool:
      if (!n.is_boolean()) return wrong();
      return std::vector<std::string>{*n.value<bool>() ? "true" : "false"};
    case KeyType::kString:
      if (!n.is_string()) return wrong();
      return std::vector<std::string>{*n.value<std::string>()};
    case KeyType::kSize:
    case KeyType::kDuration: {
      std::string v;
      if (n.is_integer() && *n.value<int64_t>() >= 0) {
        v = std::to_string(*n.value<int64_t>());
      } else if (n.is_string()) {
        v = *n.value<std::string>();
      } else {
        return wrong();
      }
      if (std::string why = check_units(k.type, v); !why.empty()) return fail(why);
      return std::vector<std::string>{v};
    }
    case KeyType::kIntList:
    case KeyType::kStringList: {
      const toml::array* a = n.as_array();
      if (!a) return wrong();
      std::vector<std::string> out;
      for (const toml::node& e : *a) {
        if (k.type == KeyType::kIntList && e.is_integer()) {
          out.push_back(std::to_string(*e.value<int64_t>()));
        } else if (k.type == KeyType::kStringList && e.is_string()) {
          out.push_back(*e.value<std::string>());
        } else {
          return wrong();
        }
      }
      return out;
    }
  }
  return wrong();
}

bool parse_bool(std::string v, bool& out) {
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "true" || v == "1" || v == "yes" || v == "on") {
    out = true;
    return true;
  }
  if (v == "false" || v == "0" || v == "no" || v == "off") {
    out = false;
    return true;
  }
  return false;
}

// An environment variable's text as the key's items.
Result<std::vector<std::string>> items_of(const Key& k, const std::string& text) {
  auto wrong = [&] { return fail("expected " + describe_type(k.type) + ", not '" + text + "'"); };
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');) {
      if (!item.empty()) out.push_back(item);
    }
    return out;
  };
  auto is_int = [](const std::string& s) {
    size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
    return s.size() > start && s.find_first_not_of("0123456789", start) == std::string::npos && s.size() < 19;
  };
  switch (k.type) {
    case KeyType::kInt:
      if (!is_int(text)) return wrong();
      return std::vector<std::string>{text};
    case KeyType::kBool: {
      bool b = false;
      if (!parse_bool(text, b)) return wrong();
      return std::vector<std::string>{b ? "true" : "false"};
    }
    case KeyType::kString: return std::vector<std::string>{text};
    case KeyType::kSize:
    case KeyType::kDuration:
      if (std::string why = check_units(k.type, text); !why.empty()) return fail(why);
      return std::vector<std::string>{text};
    case KeyType::kIntList: {
      auto items = split(text);
      for (const auto& i : items) {
        if (!is_int(i)) return wrong();
      }
      return items;
    }
    case KeyType::kStringList: return split(text);
  }
  return wrong();
}

std::string layer_suffix(Layer layer) {
  switch (layer) {
    case Layer::kConfigFlag: return " (--config)";
    case Layer::kConfigEnv: return " (DIAL9_CONFIG)";
    default: return "";
  }
}

}  // namespace

Result<std::vector<Setting>> parse_toml(std::string_view text, const std::string& path, Layer layer) {
  auto at = [&](const toml::source_region& r) { return path + ":" + std::to_string(r.begin.line); };
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return fail(at(e.source()) + ": not valid TOML: " + std::string(e.description()));
  }
  std::vector<Setting> out;
  for (const auto& [section_key, section_node] : doc) {
    std::string section(section_key.str());
    const toml::table* table = section_node.as_table();
    if (!table) {
      // A key outside any section: name the section it belongs in.
      for (const Key& k : keys()) {
        if (k.name == section) {
          return fail(at(section_key.source()) + ": '" + section + "' must be in a section: put it under [" +
                      std::string(k.section) + "]");
        }
      }
      return fail(at(section_key.source()) + ": " + unknown_key_message(section, {}));
    }
    auto known = sections();
    if (std::find(known.begin(), known.end(), section) == known.end()) {
      return fail(at(section_key.source()) + ": " + unknown_key_message(section, {}));
    }
    for (const auto& [name_key, node] : *table) {
      std::string name(name_key.str());
      const Key* k = find_key(section, name);
      if (!k) return fail(at(name_key.source()) + ": " + unknown_key_message(section, name));
      auto items = items_of(*k, node);
      std::string where = at(node.source().begin.line ? node.source() : name_key.source());
      if (!items) return fail(where + ": [" + section + "] " + name + ": " + items.error().message());
      if (std::string why = check_value(*k, *items); !why.empty()) {
        return fail(where + ": [" + section + "] " + name + " " + why);
      }
      out.push_back(Setting{k, *items, toml_literal(*k, *items), layer, at(name_key.source()) + layer_suffix(layer),
                          at(name_key.source())});
    }
  }
  return out;
}

Result<std::vector<Setting>> parse_environment(const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<Setting> out;
  for (const auto& [var, text] : env) {
    if (var.rfind("DIAL9_", 0) != 0) continue;
    // DIAL9_<SECTION>_<KEY>: sections have no '_', keys may.
    std::string rest = var.substr(6);
    size_t us = rest.find('_');
    if (us == std::string::npos) continue;
    std::string section = rest.substr(0, us), name = rest.substr(us + 1);
    for (char& c : section) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto known = sections();
    if (std::find(known.begin(), known.end(), section) == known.end()) continue;  // not configuration
    const Key* k = find_key(section, name);
    if (!k) {
      // Said in the variables' own spelling.
      std::string msg = "unknown variable " + var + ": [" + section + "] has no key '" + name + "'";
      if (const Key* near = nearest_key(section, name)) return fail(msg + "; did you mean " + env_name(*near) + "?");
      return fail(msg + " (see 'dial9 config default')");
    }
    auto items = items_of(*k, text);
    if (!items) return fail("environment variable " + var + ": " + items.error().message());
    if (std::string why = check_value(*k, *items); !why.empty()) {
      return fail("environment variable " + var + ": [" + section + "] " + name + " " + why);
    }
    out.push_back(Setting{k, *items, toml_literal(*k, *items), Layer::kEnvironment, var, var});
  }
  return out;
}

const Setting* Config::get(const Key& k) const {
  auto it = values_.find(&k);
  return it == values_.end() ? nullptr : &it->second;
}

Result<Config> resolve(std::vector<Setting> settings) {
  Config c;
  for (Setting& s : settings) {
    auto it = c.values_.find(s.key);
    if (it == c.values_.end() || it->second.layer <= s.layer) c.values_[s.key] = std::move(s);
  }
  for (const Key& k : keys()) {
    if (k.excludes.empty()) continue;
    const Key* other = find_key(k.section, k.excludes);
    auto mine = c.values_.find(&k), theirs = c.values_.find(other);
    if (mine == c.values_.end() || theirs == c.values_.end()) continue;
    // quiet = false does not conflict with verbose = true.
    auto off = [](const Setting& s) { return s.key->type == KeyType::kBool && s.items.front() == "false"; };
    if (off(mine->second) || off(theirs->second)) continue;
    if (mine->second.layer == theirs->second.layer) {
      return fail(mine->second.location + ": [" + std::string(k.section) + "] " + std::string(k.name) + " and " +
                  std::string(k.excludes) + " (" + theirs->second.location + ") exclude each other; keep one");
    }
    if (mine->second.layer < theirs->second.layer) {
      c.overridden_[&k] = other;
      c.values_.erase(mine);
    }
  }
  return c;
}

std::string user_config_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg && *xdg == '/') return std::string(xdg) + "/dial9/config.toml";
  const char* home = std::getenv("HOME");
  if (home && *home) return std::string(home) + "/.config/dial9/config.toml";
  return "";
}

Result<Config> load(const std::string& config_flag) {
  std::vector<Setting> all;
  // `required`: named by the user, so a missing file is an error.
  auto read_layer = [&](const std::string& path, Layer layer, bool required) -> Result<bool> {
    if (path.empty()) return true;
    // An optional file in a directory this user cannot search (HOME still
    // pointing at another user's home, as under `sudo -u` or `su`) cannot
    // even be known to exist: not this user's configuration.
    struct stat st {};
    if (!required && ::stat(path.c_str(), &st) != 0 && errno == EACCES) return true;
    auto text = read_small_file(path, kMaxConfigBytes);
    if (!text) {
      int e = text.error().errno_value();
      if (!required && (e == ENOENT || e == ENOTDIR)) return true;
      std::string named_by = layer == Layer::kConfigFlag ? " (named by --config)"
                             : layer == Layer::kConfigEnv ? " (named by DIAL9_CONFIG)"
                                                          : "";
      std::string fix = e == ENOENT ? "; check the path" : e == EACCES ? "; make it readable to this user" : "";
      return fail("cannot read config file " + path + named_by + ": " + std::strerror(e ? e : EIO) + fix);
    }
    auto settings = parse_toml(*text, path, layer);
    if (!settings) return fail(settings.error());
    for (auto& s : *settings) all.push_back(std::move(s));
    return true;
  };
  if (auto r = read_layer(user_config_path(), Layer::kUserFile, false); !r) return fail(r.error());
  if (auto r = read_layer("./dial9.toml", Layer::kLocalFile, false); !r) return fail(r.error());
  if (auto r = read_layer(config_flag, Layer::kConfigFlag, true); !r) return fail(r.error());
  const char* env_file = std::getenv("DIAL9_CONFIG");
  if (auto r = read_layer(env_file ? env_file : "", Layer::kConfigEnv, true); !r) return fail(r.error());
  std::vector<std::pair<std::string, std::string>> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  auto from_env = parse_environment(env);
  if (!from_env) return fail(from_env.error());
  for (auto& s : *from_env) all.push_back(std::move(s));
  return resolve(std::move(all));
}

}  // namespace dial9::cli::config

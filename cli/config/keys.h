// The configuration keys: one per option of `record`, `attach`, `report`
// and `export`, grouped in sections (`[record] frequency`, `[segments]
// max_total_size`, ...). The table is the one place that says which option a
// key sets, what type its value has and how it is checked; the config file
// parser, the environment, `dial9 config show|default` and the man page test
// all read it. See man/dial9.toml.5.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dial9::cli::config {

enum class KeyType {
  kInt,         // TOML integer
  kBool,        // TOML boolean
  kString,      // TOML string
  kSize,        // "64MiB", or an integer number of bytes (parse_size)
  kDuration,    // "30s", "1h30m", or an integer number of seconds (parse_duration)
  kIntList,     // array of integers; comma-separated in the environment
  kStringList,  // array of strings; comma-separated in the environment
};

// The commands a key applies to. record and attach take the same recording
// options, so their keys apply to both (kRecording).
enum Command : unsigned { kRecord = 1, kReport = 2, kExport = 4, kAttach = 8 };
inline constexpr unsigned kRecording = kRecord | kAttach;

struct Key {
  std::string_view section;
  std::string_view name;
  KeyType type;
  unsigned commands;        // Command bits
  std::string_view option;  // the long option it stands for, without "--"
  // A boolean key the option turns off (`[sched] enabled = false` is --no-sched).
  bool inverted = false;
  // Another key of the same section this one cannot be combined with
  // (frequency and period; quiet and verbose when both are true): the higher
  // layer wins, and both in one layer is an error.
  std::string_view excludes = {};
  // A value to show in `config default` when the option has no default.
  std::string_view example = {};
  // Further checks on a value, beyond its type (see check_value).
  enum class Check { kNone, kPositive, kNotNegative, kPowerOfTwo, kCallGraph, kTimePoint, kChoice } check = Check::kNone;
  std::string_view choices = {};  // kChoice: "a|b|c"
};

// Every key, in the order `config default` prints them.
const std::vector<Key>& keys();

// The sections, in the order of keys().
std::vector<std::string_view> sections();

// The key, or nullptr.
const Key* find_key(std::string_view section, std::string_view name);

// The key that `command`'s option --`option` stands for, or nullptr.
const Key* key_for_option(Command command, std::string_view option);

// "record.frequency"
std::string full_name(const Key& k);

// DIAL9_RECORD_FREQUENCY
std::string env_name(const Key& k);

// What a value of this type looks like, for messages ("an integer",
// "a size such as \"1GiB\"").
std::string describe_type(KeyType t);

// An error message for a value that has the right type but breaks the key's
// check (a frequency of 0, a compression that is not one of the choices),
// or "" when it is fine. `items` are the value's elements as text (one for
// scalars).
std::string check_value(const Key& k, const std::vector<std::string>& items);

// The key of `section` nearest to the unknown `name` when it is close enough
// to be a typo (or `name` is a prefix of it), else nullptr.
const Key* nearest_key(std::string_view section, std::string_view name);

// Why `section.name` is not a key, with the nearest valid key: "unknown key
// 'frequncy' in [record]; did you mean 'frequency'?". With an empty name,
// the same for an unknown section.
std::string unknown_key_message(std::string_view section, std::string_view name);

}  // namespace dial9::cli::config

// Small text helpers shared across modules: suggesting the fix for a typo
// (an unknown event name, an unknown config key), quoting strings.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dial9 {

// Levenshtein distance, ignoring ASCII case.
size_t edit_distance(std::string_view a, std::string_view b);

// Up to `n` of `candidates` closest to `unknown` by edit_distance, best
// first; ties keep the candidates' order.
std::vector<std::string> closest_names(std::string_view unknown, const std::vector<std::string>& candidates, size_t n);

// `s` as a JSON string literal, quotes included: '"' and '\\' escaped,
// control characters as \uXXXX. The same text is a TOML basic string.
std::string json_quote(std::string_view s);

// `text` between the ANSI SGR sequence `code` ("1" bold, "31" red, "1;31"
// both) and a reset, when `colour`; else `text` unchanged.
std::string sgr(std::string_view text, std::string_view code, bool colour);

}  // namespace dial9

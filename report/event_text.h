// Renders decoded events as text lines or JSON Lines, for `dial9 dump`.
//
// Text: "<seconds.nanoseconds>  <schema name>  field=value ...", columns
// aligned; strings quoted with C escapes, stack frames and `addr` fields in
// hex, absent optional fields as `-`.
// JSON: {"event": name, "timestamp_ns": n, <field>: <value>, ...}; pooled
// values resolved; stack frames and `addr` fields as "0x..." strings; bytes
// as a hex string; StringMap as an object; DynamicMap as [[key, value], ...];
// absent optional fields and non-finite floats as null. Invalid UTF-8 is
// replaced by U+FFFD so every line is valid JSON.
#pragma once

#include <string>
#include <string_view>

#include "format/decoder.h"

namespace dial9::report {

// Appends one line (with '\n') to `out`.
void render_event_text(const format::Event& e, std::string& out);
void render_event_json(const format::Event& e, std::string& out);
// Appends the fields alone, as the text line has them: "key=value ...".
void render_event_fields(const format::Event& e, std::string& out);

// Appends `s` as a JSON string literal (quotes included).
void append_json_string(std::string_view s, std::string& out);

}  // namespace dial9::report

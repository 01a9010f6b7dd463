#include "report/event_text.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "base/hex.h"

namespace dial9::report {
namespace {

using format::CompositeReader;
using format::FieldType;
using format::Value;

constexpr size_t kNameColumn = 24;

void append_hex(uint64_t v, std::string& out) {
  char b[24];
  int n = std::snprintf(b, sizeof b, "0x%" PRIx64, v);
  out.append(b, static_cast<size_t>(n));
}
void append_u(uint64_t v, std::string& out) {
  char b[24];
  int n = std::snprintf(b, sizeof b, "%" PRIu64, v);
  out.append(b, static_cast<size_t>(n));
}
void append_i(int64_t v, std::string& out) {
  char b[24];
  int n = std::snprintf(b, sizeof b, "%" PRId64, v);
  out.append(b, static_cast<size_t>(n));
}
void append_f(double v, std::string& out) {
  char b[32];
  int n = std::snprintf(b, sizeof b, "%.17g", v);
  out.append(b, static_cast<size_t>(n));
}

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t utf8_len(std::string_view s, size_t i) {
  auto c = static_cast<uint8_t>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<uint8_t>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  // Reject overlong forms, surrogates and values past U+10FFFF.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

void append_text_string(std::string_view s, std::string& out) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<uint8_t>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02x", c);
          out += b;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

bool is_address_field(std::string_view name) { return name == "addr"; }

void value_text(const Value& v, bool address, std::string& out);
void value_json(const Value& v, bool address, std::string& out);

void value_text(const Value& v, bool address, std::string& out) {
  if (!v.present) {
    out += '-';
    return;
  }
  switch (v.type) {
    case FieldType::kI64:
      append_i(v.num.i, out);
      return;
    case FieldType::kF64:
      append_f(v.num.f, out);
      return;
    case FieldType::kBool:
      out += v.num.u ? "true" : "false";
      return;
    case FieldType::kString:
    case FieldType::kPooledString:
      append_text_string(v.str(), out);
      return;
    case FieldType::kBytes:
      out += "0x";
      dial9::append_hex(v.bytes(), out);
      return;
    case FieldType::kStackFrames:
    case FieldType::kPooledStack: {
      out += '[';
      auto st = v.stack();
      for (uint32_t i = 0; i < st.size(); ++i) {
        if (i) out += ',';
        append_hex(st[i], out);
      }
      out += ']';
      return;
    }
    case FieldType::kStringMap:
    case FieldType::kDynamicMap: {
      out += '{';
      CompositeReader r(v);
      Value k, val;
      for (bool first = true; !r.done(); first = false) {
        r.next_pair(k, val);
        if (!first) out += ", ";
        value_text(k, false, out);
        out += ": ";
        value_text(val, false, out);
      }
      out += '}';
      return;
    }
    case FieldType::kDynamicList: {
      out += '[';
      CompositeReader r(v);
      Value item;
      for (bool first = true; !r.done(); first = false) {
        r.next_value(item);
        if (!first) out += ", ";
        value_text(item, false, out);
      }
      out += ']';
      return;
    }
    default:  // Varint, U8, U16, U32
      if (address) {
        append_hex(v.num.u, out);
      } else {
        append_u(v.num.u, out);
      }
  }
}

void value_json(const Value& v, bool address, std::string& out) {
  if (!v.present) {
    out += "null";
    return;
  }
  switch (v.type) {
    case FieldType::kI64:
      append_i(v.num.i, out);
      return;
    case FieldType::kF64:
      if (std::isfinite(v.num.f)) {
        append_f(v.num.f, out);
      } else {
        out += "null";
      }
      return;
    case FieldType::kBool:
      out += v.num.u ? "true" : "false";
      return;
    case FieldType::kString:
    case FieldType::kPooledString:
      append_json_string(v.str(), out);
      return;
    case FieldType::kBytes:
      out += '"';
      dial9::append_hex(v.bytes(), out);
      out += '"';
      return;
    case FieldType::kStackFrames:
    case FieldType::kPooledStack: {
      out += '[';
      auto st = v.stack();
      for (uint32_t i = 0; i < st.size(); ++i) {
        if (i) out += ',';
        out += '"';
        append_hex(st[i], out);
        out += '"';
      }
      out += ']';
      return;
    }
    case FieldType::kStringMap: {
      out += '{';
      CompositeReader r(v);
      Value k, val;
      for (bool first = true; !r.done(); first = false) {
        r.next_pair(k, val);
        if (!first) out += ',';
        append_json_string(k.str(), out);
        out += ':';
        append_json_string(val.str(), out);
      }
      out += '}';
      return;
    }
    case FieldType::kDynamicMap: {
      out += '[';
      CompositeReader r(v);
      Value k, val;
      for (bool first = true; !r.done(); first = false) {
        r.next_pair(k, val);
        if (!first) out += ',';
        out += '[';
        value_json(k, false, out);
        out += ',';
        value_json(val, false, out);
        out += ']';
      }
      out += ']';
      return;
    }
    case FieldType::kDynamicList: {
      out += '[';
      CompositeReader r(v);
      Value item;
      for (bool first = true; !r.done(); first = false) {
        r.next_value(item);
        if (!first) out += ',';
        value_json(item, false, out);
      }
      out += ']';
      return;
    }
    default:
      if (address) {
        out += '"';
        append_hex(v.num.u, out);
        out += '"';
      } else {
        append_u(v.num.u, out);
      }
  }
}

}  // namespace

void append_json_string(std::string_view s, std::string& out) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_len(s, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void render_event_text(const format::Event& e, std::string& out) {
  char ts[40];
  int n = e.schema->has_timestamp
              ? std::snprintf(ts, sizeof ts, "%14" PRIu64 ".%09" PRIu64, e.timestamp_ns / 1000000000,
                              e.timestamp_ns % 1000000000)
              : std::snprintf(ts, sizeof ts, "%24s", "-");
  out.append(ts, static_cast<size_t>(n));
  out += "  ";
  out += e.name();
  for (size_t pad = e.name().size(); pad < kNameColumn; ++pad) out += ' ';
  if (!e.schema->fields.empty()) out += ' ';
  render_event_fields(e, out);
  out += '\n';
}

void render_event_fields(const format::Event& e, std::string& out) {
  const auto& fields = e.schema->fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ' ';
    out += fields[i].name;
    out += '=';
    value_text(e.values[i], is_address_field(fields[i].name), out);
  }
}

void render_event_json(const format::Event& e, std::string& out) {
  out += "{\"event\":";
  append_json_string(e.name(), out);
  out += ",\"timestamp_ns\":";
  if (e.schema->has_timestamp) {
    append_u(e.timestamp_ns, out);
  } else {
    out += "null";
  }
  const auto& fields = e.schema->fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    out += ',';
    append_json_string(fields[i].name, out);
    out += ':';
    value_json(e.values[i], is_address_field(fields[i].name), out);
  }
  out += "}\n";
}

}  // namespace dial9::report

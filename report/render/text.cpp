// Writes the report document as aligned plain text (text.cpp) or Markdown.
#include <algorithm>

#include "base/text.h"
#include "report/render/document.h"
#include "report/render/render.h"

namespace dial9::report {
namespace {

// A C++ function name too long for its column loses its parameter list
// first ("ns::f(...)"): the name says more than the argument types.
std::string without_parameters(const std::string& s) {
  if (s.empty()) return s;
  size_t end = s.rfind(')');
  if (end == std::string::npos || s.find_first_not_of(" const&volatile", end + 1) != std::string::npos) return s;
  int depth = 0;
  for (size_t i = end + 1; i-- > 0;) {
    if (s[i] == ')') ++depth;
    if (s[i] == '(' && --depth == 0) return i == 0 ? s : s.substr(0, i) + "(...)";
  }
  return s;
}

}  // namespace

std::string fit_text(const std::string& s, size_t width) {
  if (width == 0 || s.size() <= width) return s;
  std::string shorter = without_parameters(s);
  if (shorter.size() <= width) return shorter;
  return "..." + shorter.substr(shorter.size() - (width - 3));
}

namespace {

void write_table(const Table& t, std::string& out) {
  size_t cols = t.headers.size();
  std::vector<std::vector<std::string>> cells;
  cells.push_back(t.headers);
  for (const auto& r : t.rows) {
    std::vector<std::string> row;
    for (size_t c = 0; c < cols; ++c) row.push_back(fit_text(c < r.size() ? r[c] : "", t.max_width[c]));
    cells.push_back(std::move(row));
  }
  std::vector<size_t> width(cols, 0);
  for (const auto& r : cells) {
    for (size_t c = 0; c < cols; ++c) width[c] = std::max(width[c], r[c].size());
  }
  for (const auto& r : cells) {
    std::string line = " ";
    for (size_t c = 0; c < cols; ++c) {
      const bool last = c + 1 == cols;
      std::string pad(width[c] - r[c].size(), ' ');
      line += ' ';
      line += t.right[c] ? pad + r[c] : (last ? r[c] : r[c] + pad);
      if (!last) line += ' ';
    }
    out += line + "\n";
  }
}

}  // namespace

std::string render_text(const Report& r, bool colour) {
  std::string out;
  for (const Block& b : build_document(r)) {
    switch (b.kind) {
      case Block::Kind::kHeading:
        if (!out.empty()) out += "\n";
        out += sgr(b.text, "1", colour) + "\n";
        break;
      case Block::Kind::kFields: {
        size_t w = 0;
        for (const auto& [k, v] : b.fields) w = std::max(w, k.size());
        for (const auto& [k, v] : b.fields) out += "  " + k + std::string(w - k.size() + 2, ' ') + v + "\n";
        break;
      }
      case Block::Kind::kTable:
        write_table(b.table, out);
        break;
      case Block::Kind::kText: {
        const char* code = b.tone == Block::Tone::kCritical  ? "1;31"
                           : b.tone == Block::Tone::kWarning ? "1;33"
                           : b.tone == Block::Tone::kInfo    ? "36"
                                                             : "";
        out += "  " + sgr(b.text, code, colour && *code) + "\n";
        break;
      }
      case Block::Kind::kStack:
        for (const auto& l : b.lines) out += "      " + fit_text(l, 100) + "\n";
        break;
    }
  }
  return out;
}

std::string render_markdown(const Report& r) {
  auto escape = [](const std::string& s) {
    std::string o;
    for (char c : s) {
      if (c == '|' || c == '*' || c == '_' || c == '`' || c == '<') o += '\\';
      o += c;
    }
    return o;
  };
  std::string out = "# dial9 report\n";
  for (const Block& b : build_document(r)) {
    switch (b.kind) {
      case Block::Kind::kHeading:
        out += "\n## " + escape(b.text) + "\n\n";
        break;
      case Block::Kind::kFields:
        for (const auto& [k, v] : b.fields) out += "- **" + k + "**: " + escape(v) + "\n";
        break;
      case Block::Kind::kTable: {
        const Table& t = b.table;
        out += "\n|";
        for (const auto& h : t.headers) out += " " + escape(h) + " |";
        out += "\n|";
        for (size_t c = 0; c < t.headers.size(); ++c) out += t.right[c] ? " ---: |" : " --- |";
        out += "\n";
        for (const auto& row : t.rows) {
          out += "|";
          for (const auto& cell : row) out += " " + escape(cell) + " |";
          out += "\n";
        }
        out += "\n";
        break;
      }
      case Block::Kind::kText:
        out += escape(b.text) + "\n\n";
        break;
      case Block::Kind::kStack:
        out += "```\n";
        for (const auto& l : b.lines) out += l + "\n";
        out += "```\n\n";
        break;
    }
  }
  return out;
}

}  // namespace dial9::report

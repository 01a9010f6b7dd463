// The report as a document of headings, key-value lists, tables and
// paragraphs, built once (document.cpp) and written either as aligned text
// or as Markdown, so both formats always carry the same content.
#pragma once

#include <string>
#include <vector>

#include "report/analysis/report.h"

namespace dial9::report {

struct Table {
  std::vector<std::string> headers;
  std::vector<bool> right;  // right-align this column (numbers)
  // Text-mode width limit per column (0 = none); longer cells keep their
  // tail, which is the informative end of paths and qualified names.
  std::vector<size_t> max_width;
  std::vector<std::vector<std::string>> rows;
};

struct Block {
  enum class Kind { kHeading, kFields, kTable, kText, kStack } kind;
  // What a terminal may colour a text block as: a finding's severity line.
  enum class Tone { kPlain, kCritical, kWarning, kInfo };
  std::string text;                                         // heading, text
  std::vector<std::pair<std::string, std::string>> fields;  // kFields
  Table table;                                              // kTable
  std::vector<std::string> lines;                           // kStack: frames, leaf first
  Tone tone = Tone::kPlain;
};

std::vector<Block> build_document(const Report& r);

}  // namespace dial9::report

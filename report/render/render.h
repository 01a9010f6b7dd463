// Renderers of a Report: text for a terminal (aligned, 80–120 columns),
// Markdown for pasting into tickets, and the stable JSON document described
// in docs/REPORT-JSON.md.
#pragma once

#include <string>

#include "report/analysis/report.h"

namespace dial9::report {

// With `colour` (a terminal that wants it; see cli/output.h), headings are
// bold and findings red, yellow or cyan by severity.
std::string render_text(const Report& r, bool colour = false);
std::string render_markdown(const Report& r);
std::string render_json(const Report& r);

// A cell shortened to `width` bytes (0 = no limit) for an aligned column: a
// C++ function first loses its parameter list ("ns::f(...)"), then the
// start is cut ("...tail"), since the end of a path or qualified name says
// the most.
std::string fit_text(const std::string& s, size_t width);

}  // namespace dial9::report

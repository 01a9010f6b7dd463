// Renderers of a Report: text for a terminal (aligned, 80–120 columns),
// Markdown for pasting into tickets, and the stable JSON document described
// in docs/REPORT-JSON.md.
#pragma once

#include <string>

#include "report/analysis/report.h"

namespace dial9::report {

std::string render_text(const Report& r);
std::string render_markdown(const Report& r);
std::string render_json(const Report& r);

}  // namespace dial9::report

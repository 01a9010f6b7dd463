#include "report/export/flamegraph.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <functional>
#include <unordered_map>
#include <vector>

#include "report/analysis/stacks.h"

namespace dial9::report {
namespace {

// Layout, in SVG pixels. The script repeats kPad, kDrawWidth and
// kCharWidth; keep them in step.
constexpr int kWidth = 1200;
constexpr int kPad = 10;
constexpr int kDrawWidth = kWidth - 2 * kPad;
constexpr int kFrameHeight = 16;
constexpr int kTop = 78;     // title, subtitle, legend
constexpr int kBottom = 30;  // the details line
constexpr double kCharWidth = 12 * 0.59;  // Verdana 12px, on average
constexpr size_t kMaxNameChars = 2000;
// Frames under 1/kMinShare of all samples (0.1%) are not drawn: at 1180 px
// they would be about a pixel wide, and deep narrow towers are most of a
// big flamegraph's bytes.
constexpr uint64_t kMinShare = 1000;

struct Node {
  StringId function = 0;
  FrameKind kind = FrameKind::kUser;
  uint32_t parent = 0;
  uint32_t depth = 0;
  uint64_t samples = 0;
  uint64_t start = 0;  // samples before it at its depth, once laid out
  std::vector<uint32_t> children;
};

// A call tree: node 0 is the root ("all"); every node is created after its
// parent, so parents have smaller indices.
struct Tree {
  std::vector<Node> nodes;
  uint32_t max_depth = 0;
};

struct ChildKey {
  uint32_t parent;
  StringId function;
  FrameKind kind;
  bool operator==(const ChildKey&) const = default;
};
struct ChildKeyHash {
  size_t operator()(const ChildKey& k) const {
    uint64_t h = (static_cast<uint64_t>(k.parent) << 32 | k.function) * 0x9E3779B97F4A7C15ULL;
    return static_cast<size_t>(h ^ (h >> 29) ^ static_cast<uint64_t>(k.kind));
  }
};

Tree build_tree(const TraceModel& m, const FlamegraphOptions& o) {
  Tree t;
  t.nodes.emplace_back();
  t.nodes[0].function = m.strings.size();  // never a real string: only the root has it
  std::unordered_map<ChildKey, uint32_t, ChildKeyHash> index;
  std::vector<const Frame*> frames;
  auto add = [&](uint32_t parent, const Frame& f, uint64_t samples) {
    FrameKind kind = frame_kind(m, f);
    auto [it, fresh] = index.try_emplace({parent, f.function, kind}, static_cast<uint32_t>(t.nodes.size()));
    if (fresh) {
      Node n;
      n.function = f.function;
      n.kind = kind;
      n.parent = parent;
      n.depth = t.nodes[parent].depth + 1;
      t.max_depth = std::max(t.max_depth, n.depth);
      t.nodes[parent].children.push_back(it->second);
      t.nodes.push_back(std::move(n));
    }
    t.nodes[it->second].samples += samples;
    return it->second;
  };
  // One pass per unique stack, never per sample.
  for (const WeightedStack& w : weigh_stacks(m, o.weight)) {
    expand_stack(m, w.stack, o.inlines, frames);  // leaf first
    if (frames.empty()) continue;
    t.nodes[0].samples += w.weight;
    uint32_t at = 0;
    if (o.inverted) {
      for (const Frame* f : frames) at = add(at, *f, w.weight);
    } else {
      for (auto it = frames.rbegin(); it != frames.rend(); ++it) at = add(at, **it, w.weight);
    }
  }
  // Siblings in name order, as flamegraphs draw them, so the same code
  // lands in the same place in every graph; then starts from the left.
  for (Node& n : t.nodes) {
    std::sort(n.children.begin(), n.children.end(), [&](uint32_t a, uint32_t b) {
      const std::string& na = m.strings.get(t.nodes[a].function);
      const std::string& nb = m.strings.get(t.nodes[b].function);
      return na != nb ? na < nb : t.nodes[a].kind < t.nodes[b].kind;
    });
  }
  for (Node& n : t.nodes) {  // parents first, so each start is final before it is used
    uint64_t at = n.start;
    for (uint32_t c : n.children) {
      t.nodes[c].start = at;
      at += t.nodes[c].samples;
    }
  }
  return t;
}

// For each node of `t`, its node in `base` (same names and kinds on the path
// from the root), or -1. Names are compared as strings: the two models have
// their own string tables.
std::vector<int64_t> match_base(const TraceModel& m, const Tree& t, const TraceModel& bm, const Tree& base) {
  struct Key {
    uint32_t parent;
    std::string_view name;
    FrameKind kind;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<std::string_view>()(k.name) ^ (static_cast<size_t>(k.parent) * 0x9E3779B97F4A7C15ULL) ^
             static_cast<size_t>(k.kind);
    }
  };
  std::unordered_map<Key, uint32_t, KeyHash> index;
  for (uint32_t i = 1; i < base.nodes.size(); ++i) {
    const Node& n = base.nodes[i];
    index.emplace(Key{n.parent, bm.strings.get(n.function), n.kind}, i);
  }
  std::vector<int64_t> out(t.nodes.size(), -1);
  if (!t.nodes.empty()) out[0] = 0;
  for (uint32_t i = 1; i < t.nodes.size(); ++i) {
    const Node& n = t.nodes[i];
    int64_t bp = out[n.parent];
    if (bp < 0) continue;
    auto it = index.find(Key{static_cast<uint32_t>(bp), m.strings.get(n.function), n.kind});
    if (it != index.end()) out[i] = it->second;
  }
  return out;
}

// Appends one code point as UTF-8.
void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the code point at s[i], advancing i. Malformed sequences
// (overlong forms, surrogates, beyond U+10FFFF, cut short) yield U+FFFD and
// consume one byte, so decoding always resynchronizes.
uint32_t next_code_point(std::string_view s, size_t& i) {
  auto b = static_cast<uint8_t>(s[i]);
  if (b < 0x80) {
    ++i;
    return b;
  }
  size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
  uint32_t cp = len == 4 ? b & 0x07 : len == 3 ? b & 0x0F : b & 0x1F;
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (len == 0 || b > 0xF4 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (size_t k = 1; k < len; ++k) {
    auto c = static_cast<uint8_t>(s[i + k]);
    if ((c & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = cp << 6 | (c & 0x3F);
  }
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += len;
  return cp;
}

std::string fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string pct(uint64_t n, uint64_t total) {
  return fixed2(total == 0 ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(total));
}

uint32_t fnv(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return h;
}

std::string rgb(int r, int g, int b) {
  return "rgb(" + std::to_string(r) + "," + std::to_string(g) + "," + std::to_string(b) + ")";
}

// Colour by kind, varied by the name so neighbours differ while the same
// function keeps its colour across graphs.
std::string kind_colour(FrameKind kind, std::string_view name) {
  uint32_t h = fnv(name);
  int a = static_cast<int>(h & 0xFF), b = static_cast<int>(h >> 8 & 0xFF), c = static_cast<int>(h >> 16 & 0xFF);
  switch (kind) {
    case FrameKind::kUser: return rgb(215 + a * 40 / 255, 90 + b * 130 / 255, 40 + c * 40 / 255);
    case FrameKind::kKernel: return rgb(90 + a * 40 / 255, 140 + b * 40 / 255, 205 + c * 45 / 255);
    case FrameKind::kInlined: return rgb(60 + a * 50 / 255, 185 + b * 50 / 255, 160 + c * 40 / 255);
    case FrameKind::kUnknown: {
      int g = 170 + a * 40 / 255;
      return rgb(g, g, g + 8);
    }
  }
  return rgb(200, 200, 200);
}

constexpr const char* kRootColour = "rgb(236,228,212)";
constexpr const char* kSameColour = "rgb(220,220,220)";

// Red for a frame whose share of all samples grew against the base, blue
// for one that shrank, by how much relative to the largest change drawn.
std::string diff_colour(int sign, double intensity) {
  if (sign == 0) return kSameColour;
  int fade = static_cast<int>(235 - 185 * std::clamp(intensity, 0.0, 1.0));
  return sign > 0 ? rgb(255, fade, fade) : rgb(fade, fade, 255);
}

// The share change of node i against its base node, exactly: -1, 0 or +1
// (integers, so a trace against itself is exactly "same"), and in
// percentage points.
struct Delta {
  int sign = 0;
  double points = 0;
};
Delta delta(uint64_t n, uint64_t total, uint64_t bn, uint64_t btotal) {
  Delta d;
  __extension__ using u128 = unsigned __int128;  // counts can pass 2^32 each
  auto a = static_cast<u128>(n) * btotal, b = static_cast<u128>(bn) * total;
  d.sign = a > b ? 1 : a < b ? -1 : 0;
  double sa = total == 0 ? 0 : static_cast<double>(n) / static_cast<double>(total);
  double sb = btotal == 0 ? 0 : static_cast<double>(bn) / static_cast<double>(btotal);
  d.points = 100 * (sa - sb);
  return d;
}

constexpr const char* kStyle = R"(<style type="text/css">
text { font-family: Verdana, sans-serif; font-size: 12px; fill: #222; }
.title { font-size: 17px; text-anchor: middle; }
.subtitle { fill: #555; text-anchor: middle; }
.button { cursor: pointer; fill: #1a5fb4; }
.button:hover { text-decoration: underline; }
.f { cursor: pointer; }
.f text { pointer-events: none; font-size: 11px; }
.f:hover rect { stroke: #000; stroke-width: 0.6; }
.parent { opacity: 0.55; }
.hide { display: none; }
</style>
)";

// Reads every name from the DOM (the first line of each frame's <title>)
// and writes text back only through textContent and setAttribute, so no
// name is ever parsed as markup or code. Static: nothing is spliced in.
constexpr const char* kScript = R"JS(<script type="text/ecmascript"><![CDATA[
(function () {
  'use strict';
  var X0 = 10, W = 1180, CW = 7.08, MATCH = 'rgb(230,0,230)';
  var UNIT = document.documentElement.getAttribute('data-unit') || 'samples';
  var frames = [], byG = new Map();
  var gs = document.getElementsByClassName('f');
  for (var i = 0; i < gs.length; ++i) {
    var g = gs[i], tip = g.getElementsByTagName('title')[0].textContent;
    var r = g.getElementsByTagName('rect')[0];
    var f = { g: g, r: r, l: g.getElementsByTagName('text')[0], fill: r.getAttribute('fill'),
              s: +g.getAttribute('data-s'), n: +g.getAttribute('data-n'), d: +g.getAttribute('data-d'),
              name: tip.split('\n')[0], tip: tip.split('\n').join(', ') };
    f.chars = Array.from(f.name);
    frames.push(f);
    byG.set(g, f);
  }
  if (!frames.length) return;
  var root = frames[0], total = root.n;
  var details = document.getElementById('details'), matched = document.getElementById('matched');
  var reset = document.getElementById('reset'), searchButton = document.getElementById('search');

  function fit(f, w) {
    var c = Math.floor((w - 6) / CW);
    if (c < 3) return '';
    return f.chars.length <= c ? f.name : f.chars.slice(0, c - 2).join('') + '..';
  }
  function place(f, x, w) {
    f.r.setAttribute('x', x.toFixed(2));
    f.r.setAttribute('width', Math.max(w, 0).toFixed(2));
    f.l.setAttribute('x', (x + 3).toFixed(2));
    f.l.textContent = fit(f, w);
  }
  // The clicked frame fills the width; its callers (or, in an icicle, its
  // callees) stay full width and dimmed; everything else is hidden.
  function zoom(z) {
    var s0 = z.s, e0 = z.s + z.n;
    frames.forEach(function (f) {
      var e = f.s + f.n;
      if (f.d > z.d && f.s >= s0 && e <= e0) {
        f.g.classList.remove('hide', 'parent');
        place(f, X0 + (f.s - s0) / z.n * W, f.n / z.n * W);
      } else if (f.d <= z.d && f.s <= s0 && e >= e0) {
        f.g.classList.remove('hide');
        f.g.classList.toggle('parent', f.d < z.d);
        place(f, X0, W);
      } else {
        f.g.classList.add('hide');
      }
    });
    reset.classList.toggle('hide', z === root);
  }
  function search(term) {
    if (!term) {
      frames.forEach(function (f) { f.r.setAttribute('fill', f.fill); });
      matched.textContent = '';
      return;
    }
    var re = null;
    try { re = new RegExp(term); } catch (e) { re = null; }
    var spans = [];
    frames.forEach(function (f) {
      var hit = f !== root && (re ? re.test(f.name) : f.name.indexOf(term) !== -1);
      f.r.setAttribute('fill', hit ? MATCH : f.fill);
      if (hit) spans.push([f.s, f.s + f.n]);
    });
    // Nested matches count once: the union of their sample ranges.
    spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var covered = 0, end = -1;
    spans.forEach(function (sp) {
      if (sp[0] >= end) { covered += sp[1] - sp[0]; end = sp[1]; }
      else if (sp[1] > end) { covered += sp[1] - end; end = sp[1]; }
    });
    matched.textContent = 'Matched: ' + (100 * covered / total).toFixed(2) + '% (' + covered + ' of ' + total +
                          ' ' + UNIT + ')' + (re ? '' : ', as a substring');
  }
  function ask() {
    var term = window.prompt('Search frames (a regular expression, or a substring if it is not one):', '');
    if (term !== null) search(term);
  }

  var all = document.getElementById('frames');
  all.addEventListener('click', function (e) {
    var g = e.target.closest('.f');
    if (g) zoom(byG.get(g));
  });
  all.addEventListener('mouseover', function (e) {
    var g = e.target.closest('.f');
    if (g) details.textContent = byG.get(g).tip;
  });
  all.addEventListener('mouseout', function () { details.textContent = ' '; });
  reset.addEventListener('click', function () { zoom(root); });
  searchButton.addEventListener('click', ask);
  document.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); ask(); }
    else if (e.key === 'Escape') { search(''); zoom(root); }
  });
  window.dial9Flamegraph = { zoom: function (i) { zoom(frames[i]); }, search: search };
})();
]]></script>
)JS";

}  // namespace

void append_xml_escaped(std::string& out, std::string_view s, size_t max_chars) {
  // Count first, so a cut name keeps room for "..".
  size_t chars = 0;
  for (size_t i = 0; i < s.size() && chars <= max_chars;) {
    next_code_point(s, i);
    ++chars;
  }
  size_t keep = chars > max_chars ? (max_chars >= 2 ? max_chars - 2 : 0) : SIZE_MAX;
  size_t n = 0;
  for (size_t i = 0; i < s.size() && n < keep; ++n) {
    uint32_t cp = next_code_point(s, i);
    switch (cp) {
      case '&': out += "&amp;"; continue;
      case '<': out += "&lt;"; continue;
      case '>': out += "&gt;"; continue;
      case '"': out += "&quot;"; continue;
      case '\'': out += "&apos;"; continue;
      case '\t': case '\n': case '\r': out += ' '; continue;  // names are one line
      default: break;
    }
    // XML 1.0 holds no other C0 controls, no surrogates (already gone) and
    // no U+FFFE/U+FFFF, not even as character references.
    if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF) cp = 0xFFFD;
    append_utf8(out, cp);
  }
  if (keep != SIZE_MAX) out += "..";
}

std::string flamegraph_svg(const TraceModel& m, const FlamegraphOptions& o) {
  Tree t = build_tree(m, o);
  const uint64_t total = t.nodes[0].samples;
  // Widths are samples, or blocked nanoseconds for off-CPU time.
  const bool by_time = o.weight.off_cpu && off_cpu_by_time(m);
  auto amount = [&](uint64_t v) {
    return by_time ? format_duration(v) + " blocked" : std::to_string(v) + " samples";
  };
  Tree base;
  std::vector<int64_t> base_of;
  uint64_t base_total = 0;
  if (o.diff_base) {
    base = build_tree(*o.diff_base, o);
    base_total = base.nodes[0].samples;
    base_of = match_base(m, t, *o.diff_base, base);
  }
  auto drawn = [&](const Node& n) { return total > 0 && n.samples * kMinShare >= total; };
  size_t hidden = 0;
  uint32_t depth = 0;
  double max_points = 0;
  for (uint32_t i = 0; i < t.nodes.size(); ++i) {
    const Node& n = t.nodes[i];
    if (!drawn(n)) {
      if (total > 0) ++hidden;
      continue;
    }
    depth = std::max(depth, n.depth);
    if (o.diff_base) {
      uint64_t bn = base_of[i] < 0 ? 0 : base.nodes[static_cast<size_t>(base_of[i])].samples;
      max_points = std::max(max_points, std::abs(delta(n.samples, total, bn, base_total).points));
    }
  }
  const int height = kTop + static_cast<int>(depth + 1) * kFrameHeight + kBottom;

  std::string out;
  out.reserve(4096 + t.nodes.size() * 256);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
  out += "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" data-unit=\"" +
         std::string(by_time ? "ns blocked" : "samples") + "\" width=\"" + std::to_string(kWidth) +
         "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(kWidth) + " " +
         std::to_string(height) + "\">\n";
  out += "<!-- dial9 flamegraph. Click a frame to zoom, Search (or Ctrl-F) to highlight by regex or substring, "
         "Escape to reset. -->\n";
  out += kStyle;
  out += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#fbfaf7\"/>\n";

  // Title and subtitle: what is drawn and how it is weighted.
  std::string title = o.title;
  if (title.empty()) {
    title = o.diff_base ? "Differential " : "";
    title += o.inverted ? "Icicle Graph" : "Flame Graph";
    auto cmd = m.metadata.find("command");
    if (cmd == m.metadata.end()) cmd = m.metadata.find("service");
    if (cmd != m.metadata.end() && !cmd->second.empty()) title += ": " + cmd->second;
  }
  out += "<text id=\"title\" class=\"title\" x=\"" + std::to_string(kWidth / 2) + "\" y=\"24\">";
  append_xml_escaped(out, title, 300);
  out += "</text>\n";
  std::string sub = !o.weight.off_cpu ? "on-CPU samples"
                    : by_time ? "off-CPU: where threads blocked, weighted by blocked time"
                              : "off-CPU: where threads were switched out, weighted by samples (switch-outs), not by time";
  sub += "; " + amount(total) + (by_time ? " in all" : "");
  if (o.inverted) sub += "; icicle: stacks merged from the leaf, leaves on top, callers below";
  if (o.diff_base) {
    sub += "; width: this trace; colour: each frame's share against the base (" + amount(base_total) + ")";
  }
  if (hidden > 0) sub += "; " + std::to_string(hidden) + " frames under 0.1% not drawn";
  out += "<text id=\"subtitle\" class=\"subtitle\" x=\"" + std::to_string(kWidth / 2) + "\" y=\"44\">";
  append_xml_escaped(out, sub);
  out += "</text>\n";
  out += "<text id=\"reset\" class=\"button hide\" x=\"" + std::to_string(kPad) + "\" y=\"24\">Reset Zoom</text>\n";
  out += "<text id=\"search\" class=\"button\" x=\"" + std::to_string(kWidth - kPad) +
         "\" y=\"24\" text-anchor=\"end\">Search</text>\n";

  // Legend.
  out += "<g id=\"legend\">\n";
  std::vector<std::pair<std::string, std::string>> legend;
  if (o.diff_base) {
    legend = {{diff_colour(1, 1), "larger share than in the base"},
              {diff_colour(-1, 1), "smaller share"},
              {kSameColour, "same share"}};
  } else {
    legend = {{kind_colour(FrameKind::kUser, ""), "user"},
              {kind_colour(FrameKind::kKernel, ""), "kernel"},
              {kind_colour(FrameKind::kInlined, ""), "inlined"},
              {kind_colour(FrameKind::kUnknown, ""), "unknown (no symbol)"}};
  }
  int lx = kPad;
  for (const auto& [colour, label] : legend) {
    out += "<rect x=\"" + std::to_string(lx) + "\" y=\"54\" width=\"12\" height=\"12\" rx=\"2\" fill=\"" + colour +
           "\"/><text x=\"" + std::to_string(lx + 16) + "\" y=\"65\">" + label + "</text>\n";
    lx += 16 + static_cast<int>(static_cast<double>(label.size()) * kCharWidth) + 18;
  }
  out += "</g>\n";

  // Frames, parents before children (the script relies on the root being
  // first). Depth 0 is the root: at the bottom of a flame graph, at the top
  // of an icicle.
  out += "<g id=\"frames\">\n";
  const double scale = total == 0 ? 0 : static_cast<double>(kDrawWidth) / static_cast<double>(total);
  std::vector<uint32_t> todo;
  if (total > 0) todo.push_back(0);
  while (!todo.empty()) {
    uint32_t i = todo.back();
    todo.pop_back();
    const Node& n = t.nodes[i];
    for (auto c = n.children.rbegin(); c != n.children.rend(); ++c) {
      if (drawn(t.nodes[*c])) todo.push_back(*c);
    }
    const std::string_view name = i == 0 ? std::string_view("all") : std::string_view(m.strings.get(n.function));
    const double x = kPad + static_cast<double>(n.start) * scale;
    const double w = static_cast<double>(n.samples) * scale;
    const int y = o.inverted ? kTop + static_cast<int>(n.depth) * kFrameHeight
                             : kTop + static_cast<int>(depth - n.depth) * kFrameHeight;
    std::string fill;
    std::string tip_extra;
    if (o.diff_base) {
      uint64_t bn = base_of[i] < 0 ? 0 : base.nodes[static_cast<size_t>(base_of[i])].samples;
      Delta d = delta(n.samples, total, bn, base_total);
      fill = diff_colour(d.sign, max_points > 0 ? std::abs(d.points) / max_points : 0);
      tip_extra = "\nbase: " + (base_of[i] < 0 ? std::string("absent") : amount(bn) + ", " + pct(bn, base_total) + "%") +
                  " (" + (d.sign > 0 ? "+" : d.sign < 0 ? "-" : "±") + fixed2(std::abs(d.points)) +
                  " points)";
    } else {
      fill = i == 0 ? kRootColour : kind_colour(n.kind, name);
    }
    out += "<g class=\"f\" data-s=\"" + std::to_string(n.start) + "\" data-n=\"" + std::to_string(n.samples) +
           "\" data-d=\"" + std::to_string(n.depth) + "\"><title>";
    append_xml_escaped(out, name, kMaxNameChars);
    out += "\n" + amount(n.samples) + ", " + pct(n.samples, total) + "%" + tip_extra;
    out += "</title><rect x=\"" + fixed2(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" + fixed2(w) +
           "\" height=\"" + std::to_string(kFrameHeight - 1) + "\" rx=\"2\" fill=\"" + fill + "\"/><text x=\"" +
           fixed2(x + 3) + "\" y=\"" + std::to_string(y + 11) + "\">";
    auto fit = static_cast<int64_t>((w - 6) / kCharWidth);
    if (fit >= 3) append_xml_escaped(out, name, static_cast<size_t>(fit));
    out += "</text></g>\n";
  }
  out += "</g>\n";
  if (total == 0) {
    out += "<text class=\"subtitle\" x=\"" + std::to_string(kWidth / 2) + "\" y=\"" + std::to_string(kTop + 12) +
           "\">No samples with a stack in this selection.</text>\n";
  }
  out += "<text id=\"details\" x=\"" + std::to_string(kPad) + "\" y=\"" + std::to_string(height - 10) +
         "\"> </text>\n";
  out += "<text id=\"matched\" x=\"" + std::to_string(kWidth - kPad) + "\" y=\"" + std::to_string(height - 10) +
         "\" text-anchor=\"end\"></text>\n";
  out += kScript;
  out += "</svg>\n";
  return out;
}

}  // namespace dial9::report

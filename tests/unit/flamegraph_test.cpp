// The SVG flamegraph on small hand-built models: geometry worked out by hand,
// diff colours, and hostile names that must stay text. Every document is
// parsed by a strict XML 1.0 well-formedness checker (below, and itself
// tested on broken documents), so "parses" here means more than "looks
// right".
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "report/export/flamegraph.h"
#include "tests/support/model_builder.h"

using namespace dial9::report;
using dial9::test::ModelBuilder;

namespace {

// ---- A strict, minimal XML 1.0 reader: well-formedness and a small DOM ----

struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::string text;  // direct character data (entities decoded, CDATA included)
  std::vector<Element> children;
};

class XmlReader {
 public:
  explicit XmlReader(std::string_view s) : s_(s) {}

  // The root element, or nullopt with error() saying why.
  std::optional<Element> parse() {
    if (!valid_chars()) return std::nullopt;
    if (starts("<?xml")) {
      size_t end = s_.find("?>");
      if (end == std::string_view::npos) return fail("unterminated XML declaration");
      i_ = end + 2;
    }
    if (!misc()) return std::nullopt;
    Element root;
    if (!element(root)) return std::nullopt;
    if (!misc()) return std::nullopt;
    if (i_ != s_.size()) return fail("content after the root element");
    return root;
  }
  const std::string& error() const { return error_; }

 private:
  std::nullopt_t fail(const std::string& why) {
    if (error_.empty()) error_ = why + " at byte " + std::to_string(i_);
    return std::nullopt;
  }
  bool failb(const std::string& why) {
    fail(why);
    return false;
  }
  bool starts(std::string_view p) const { return s_.substr(i_, p.size()) == p; }
  void spaces() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  // Strict UTF-8 whose every code point is an XML 1.0 Char.
  bool valid_chars() {
    for (size_t i = 0; i < s_.size();) {
      auto b = static_cast<uint8_t>(s_[i]);
      size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
      if (len == 0 || i + len > s_.size()) return failb("invalid UTF-8 at " + std::to_string(i));
      uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
      for (size_t k = 1; k < len; ++k) {
        auto c = static_cast<uint8_t>(s_[i + k]);
        if ((c & 0xC0) != 0x80) return failb("invalid UTF-8 continuation at " + std::to_string(i));
        cp = cp << 6 | (c & 0x3F);
      }
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp < kMin[len]) return failb("overlong UTF-8 at " + std::to_string(i));
      bool ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
                (cp >= 0x10000 && cp <= 0x10FFFF);
      if (!ok) return failb("character U+" + std::to_string(cp) + " not allowed in XML at " + std::to_string(i));
      i += len;
    }
    return true;
  }

  static bool name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || static_cast<uint8_t>(c) >= 0x80;
  }
  static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }
  bool name(std::string& out) {
    if (i_ >= s_.size() || !name_start(s_[i_])) return failb("expected a name");
    size_t b = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    out = std::string(s_.substr(b, i_ - b));
    return true;
  }

  // After '&': a predefined entity or a character reference to a Char.
  bool reference(std::string& out) {
    size_t semi = s_.find(';', i_);
    if (semi == std::string_view::npos || semi - i_ > 12) return failb("bare '&'");
    std::string_view ref = s_.substr(i_ + 1, semi - i_ - 1);
    static const std::map<std::string_view, char> kNamed = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    if (auto it = kNamed.find(ref); it != kNamed.end()) {
      out += it->second;
    } else if (ref.size() >= 2 && ref[0] == '#') {
      bool hex = ref[1] == 'x';
      std::string digits(ref.substr(hex ? 2 : 1));
      const char* allowed = hex ? "0123456789abcdefABCDEF" : "0123456789";
      if (digits.empty() || digits.find_first_not_of(allowed) != std::string::npos) {
        return failb("bad character reference");
      }
      unsigned long cp = std::stoul(digits, nullptr, hex ? 16 : 10);
      bool ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
      if (!ok) return failb("character reference to a non-Char");
      out += "?";  // the DOM here does not need the character itself
    } else {
      return failb("unknown entity &" + std::string(ref) + ";");
    }
    i_ = semi + 1;
    return true;
  }

  // Comments, processing instructions and spaces between markup.
  bool misc() {
    for (;;) {
      spaces();
      if (starts("<!--")) {
        if (!comment()) return false;
      } else if (starts("<?")) {
        size_t end = s_.find("?>", i_);
        if (end == std::string_view::npos) return failb("unterminated processing instruction");
        i_ = end + 2;
      } else {
        return true;
      }
    }
  }
  bool comment() {
    size_t end = s_.find("--", i_ + 4);
    if (end == std::string_view::npos || !s_.substr(end).starts_with("-->")) return failb("'--' inside a comment");
    i_ = end + 3;
    return true;
  }

  bool element(Element& e) {
    if (!starts("<")) return failb("expected an element");
    ++i_;
    if (!name(e.name)) return false;
    for (;;) {
      size_t before = i_;
      spaces();
      if (starts("/>")) {
        i_ += 2;
        return true;
      }
      if (starts(">")) {
        ++i_;
        break;
      }
      if (i_ == before) return failb("expected a space before an attribute");
      std::string attr;
      if (!name(attr)) return false;
      spaces();
      if (!starts("=")) return failb("attribute without '='");
      ++i_;
      spaces();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return failb("unquoted attribute value");
      char q = s_[i_++];
      std::string value;
      while (i_ < s_.size() && s_[i_] != q) {
        if (s_[i_] == '<') return failb("'<' in an attribute value");
        if (s_[i_] == '&') {
          if (!reference(value)) return false;
        } else {
          value += s_[i_++];
        }
      }
      if (i_ >= s_.size()) return failb("unterminated attribute value");
      ++i_;
      if (!e.attrs.emplace(attr, value).second) return failb("duplicate attribute " + attr);
    }
    // Content.
    for (;;) {
      if (i_ >= s_.size()) return failb("unclosed element <" + e.name + ">");
      if (starts("</")) {
        i_ += 2;
        std::string end;
        if (!name(end)) return false;
        spaces();
        if (end != e.name || !starts(">")) return failb("</" + end + "> closes <" + e.name + ">");
        ++i_;
        return true;
      }
      if (starts("<!--")) {
        if (!comment()) return false;
      } else if (starts("<![CDATA[")) {
        size_t end = s_.find("]]>", i_);
        if (end == std::string_view::npos) return failb("unterminated CDATA");
        e.text += s_.substr(i_ + 9, end - i_ - 9);
        i_ = end + 3;
      } else if (starts("<?")) {
        size_t end = s_.find("?>", i_);
        if (end == std::string_view::npos) return failb("unterminated processing instruction");
        i_ = end + 2;
      } else if (starts("<")) {
        e.children.emplace_back();
        if (!element(e.children.back())) return false;
      } else if (s_[i_] == '&') {
        if (!reference(e.text)) return false;
      } else {
        if (starts("]]>")) return failb("']]>' in text");
        e.text += s_[i_++];
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string error_;
};

Element parse_ok(const std::string& doc) {
  XmlReader r(doc);
  auto root = r.parse();
  INFO(r.error());
  REQUIRE(root.has_value());
  return *root;
}

void collect(const Element& e, const std::string& name, std::vector<const Element*>& out) {
  if (e.name == name) out.push_back(&e);
  for (const auto& c : e.children) collect(c, name, out);
}

const Element* child(const Element& e, const std::string& name) {
  for (const auto& c : e.children)
    if (c.name == name) return &c;
  return nullptr;
}

// One drawn frame, from the DOM.
struct DrawnFrame {
  std::string name;  // the first line of its <title>
  std::string tip;   // the whole <title>
  uint64_t start = 0, samples = 0;
  uint32_t depth = 0;
  double x = 0, width = 0, y = 0;
  std::string fill;
};

std::vector<DrawnFrame> frames_of(const Element& root) {
  std::vector<const Element*> gs;
  collect(root, "g", gs);
  std::vector<DrawnFrame> out;
  for (const Element* g : gs) {
    auto cls = g->attrs.find("class");
    if (cls == g->attrs.end() || cls->second != "f") continue;
    const Element* title = child(*g, "title");
    const Element* rect = child(*g, "rect");
    REQUIRE(title);
    REQUIRE(rect);
    DrawnFrame f;
    f.tip = title->text;
    f.name = f.tip.substr(0, f.tip.find('\n'));
    f.start = std::stoull(g->attrs.at("data-s"));
    f.samples = std::stoull(g->attrs.at("data-n"));
    f.depth = static_cast<uint32_t>(std::stoul(g->attrs.at("data-d")));
    f.x = std::stod(rect->attrs.at("x"));
    f.width = std::stod(rect->attrs.at("width"));
    f.y = std::stod(rect->attrs.at("y"));
    f.fill = rect->attrs.at("fill");
    out.push_back(f);
  }
  return out;
}

const DrawnFrame& find_frame(const std::vector<DrawnFrame>& fs, const std::string& name, uint32_t depth) {
  for (const auto& f : fs)
    if (f.name == name && f.depth == depth) return f;
  FAIL("no frame " << name << " at depth " << depth);
  return fs.front();
}

struct Rgb {
  int r, g, b;
};
Rgb rgb_of(const std::string& fill) {
  Rgb c{};
  REQUIRE(std::sscanf(fill.c_str(), "rgb(%d,%d,%d)", &c.r, &c.g, &c.b) == 3);
  return c;
}

std::string escaped(std::string_view s, size_t max = SIZE_MAX) {
  std::string out;
  append_xml_escaped(out, s, max);
  return out;
}

}  // namespace

TEST_CASE("the XML checker used here rejects documents that are not well-formed") {
  const char* bad[] = {
      "<svg><g></svg>",                       // mismatched
      "<svg>a < b</svg>",                     // bare '<'
      "<svg>a & b</svg>",                     // bare '&'
      "<svg>&nbsp;</svg>",                    // undeclared entity
      "<svg a=\"<x>\"/>",                     // '<' in an attribute
      "<svg a=\"1\" a=\"2\"/>",               // duplicate attribute
      "<svg a=x/>",                           // unquoted
      "<svg>\x01</svg>",                      // control character
      "<svg>\xff</svg>",                      // invalid UTF-8
      "<svg>\xed\xa0\x80</svg>",              // a surrogate
      "<svg>\xef\xbf\xbe</svg>",              // U+FFFE
      "<svg>&#0;</svg>",                      // reference to a non-Char
      "<svg>]]></svg>",                       // CDATA end in text
      "<svg><!-- a -- b --></svg>",           // '--' in a comment
      "<svg><![CDATA[ x ]]></svg><svg/>",     // two roots
      "<svg><script><![CDATA[ x </script>",   // unterminated CDATA
  };
  for (const char* doc : bad) {
    INFO(doc);
    CHECK_FALSE(XmlReader(doc).parse().has_value());
  }
  auto ok = XmlReader(
                "<?xml version=\"1.0\"?>\n"
                "<svg a='1' b=\"&lt;&#x41;\"><!-- c --><t>x &amp; y</t><![CDATA[<z>]]></svg>\n")
                .parse();
  REQUIRE(ok.has_value());
  CHECK(ok->attrs.at("b") == "<?");
  CHECK(ok->children.at(0).text == "x & y");
  CHECK(ok->text == "<z>");
}

TEST_CASE("flamegraph text is escaped, invalid UTF-8 and non-XML characters replaced, long names cut") {
  CHECK(escaped("a&b<c>\"'") == "a&amp;b&lt;c&gt;&quot;&apos;");
  CHECK(escaped("caf\xc3\xa9 \xf0\x9f\x94\xa5") == "caf\xc3\xa9 \xf0\x9f\x94\xa5");  // valid UTF-8 kept
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(escaped("a\xff" "b") == "a" + fffd + "b");
  CHECK(escaped("\xc0\xaf") == fffd + fffd);          // overlong '/'
  CHECK(escaped("\xe2\x82") == fffd + fffd);          // cut short
  CHECK(escaped("\xed\xa0\x80") == fffd + fffd + fffd);  // a surrogate
  CHECK(escaped("\xef\xbf\xbe") == fffd);             // U+FFFE
  CHECK(escaped("\xf4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // beyond U+10FFFF
  CHECK(escaped(std::string("a\x01\x1b" "b", 4)) == "a" + fffd + fffd + "b");
  CHECK(escaped("a\tb\nc\rd") == "a b c d");  // one line: the script splits titles at '\n'
  CHECK(escaped("\xe2\x80\xa8") == "\xe2\x80\xa8");  // U+2028 is XML text; the script never evaluates names
  CHECK(escaped("abcdef", 4) == "ab..");
  CHECK(escaped("abcd", 4) == "abcd");
  CHECK(escaped("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4) == "\xc3\xa9\xc3\xa9..");  // cut by code points
}

TEST_CASE("flamegraph frames are as wide as their samples, siblings in name order, root at the bottom") {
  ModelBuilder b;
  b.samples(b.stack({"hash", "lookup", "main"}), 6);
  b.samples(b.stack({"parse", "main"}), 3);
  b.samples(b.stack({"main"}), 1);
  b.samples(b.stack({"idle"}), 2, /*source=*/1);  // off-CPU: not drawn by default
  std::string svg = flamegraph_svg(b.m);
  Element root = parse_ok(svg);
  CHECK(root.name == "svg");
  auto fs = frames_of(root);
  REQUIRE(fs.size() == 5);  // all, main, lookup, parse, hash
  const auto& all = fs.front();
  CHECK(all.name == "all");
  CHECK(all.tip == "all\n10 samples, 100.00%");
  CHECK(all.width == Approx(1180));
  const auto& main_f = find_frame(fs, "main", 1);
  const auto& lookup = find_frame(fs, "lookup", 2);
  const auto& parse = find_frame(fs, "parse", 2);
  const auto& hash = find_frame(fs, "hash", 3);
  CHECK(main_f.samples == 10);
  CHECK(main_f.width == Approx(1180));
  CHECK(lookup.width == Approx(1180 * 0.6));
  CHECK(parse.width == Approx(1180 * 0.3));
  CHECK(hash.width == Approx(lookup.width));
  CHECK(lookup.tip == "lookup\n6 samples, 60.00%");
  // Name order: lookup, then parse; main's self sample is the gap after them.
  CHECK(lookup.x == Approx(10));
  CHECK(parse.x == Approx(10 + 1180 * 0.6));
  CHECK(parse.start == 6);
  // Callees above callers.
  CHECK(hash.y < lookup.y);
  CHECK(lookup.y < main_f.y);
  CHECK(main_f.y < all.y);
  CHECK(svg.find("idle") == std::string::npos);
  CHECK(svg.find("on-CPU samples; 10 samples") != std::string::npos);

  FlamegraphOptions off;
  off.weight.off_cpu = true;
  std::string off_svg = flamegraph_svg(b.m, off);
  auto off_fs = frames_of(parse_ok(off_svg));
  REQUIRE(off_fs.size() == 2);
  CHECK(off_fs[1].name == "idle");
  CHECK(off_svg.find("weighted by samples") != std::string::npos);
}

TEST_CASE("an inverted flamegraph merges stacks from the leaf and draws leaves on top") {
  ModelBuilder b;
  b.samples(b.stack({"hash", "lookup", "main"}), 6);
  b.samples(b.stack({"hash", "probe", "main"}), 2);
  b.samples(b.stack({"parse", "main"}), 2);
  FlamegraphOptions o;
  o.inverted = true;
  auto fs = frames_of(parse_ok(flamegraph_svg(b.m, o)));
  const auto& all = fs.front();
  const auto& hash = find_frame(fs, "hash", 1);
  const auto& parse = find_frame(fs, "parse", 1);
  const auto& lookup = find_frame(fs, "lookup", 2);
  const auto& probe = find_frame(fs, "probe", 2);
  CHECK(hash.samples == 8);  // both hash stacks merged at the leaf
  CHECK(parse.samples == 2);
  CHECK(lookup.samples == 6);
  CHECK(probe.samples == 2);
  CHECK(hash.width == Approx(1180 * 0.8));
  // main appears twice at depth 3 (under lookup and probe) and once at depth 2 (under parse).
  size_t mains = 0;
  for (const auto& f : fs) mains += f.name == "main";
  CHECK(mains == 3);
  CHECK(find_frame(fs, "main", 2).start == parse.start);
  // Leaves on top, callers below.
  CHECK(all.y < hash.y);
  CHECK(hash.y < lookup.y);
  CHECK(lookup.y < find_frame(fs, "main", 3).y);
  // Children lie within their parents.
  CHECK(lookup.start >= hash.start);
  CHECK(probe.start + probe.samples <= hash.start + hash.samples);
}

TEST_CASE("frames are coloured by kind: user, kernel, inlined, unknown") {
  ModelBuilder b;
  b.samples(b.stack({"schedule@[kernel]", "mix<hash", "0x7f00dead", "main"}), 4);
  auto fs = frames_of(parse_ok(flamegraph_svg(b.m)));
  Rgb kernel = rgb_of(find_frame(fs, "schedule", 5).fill);
  Rgb inlined = rgb_of(find_frame(fs, "mix", 4).fill);
  Rgb user = rgb_of(find_frame(fs, "hash", 3).fill);
  Rgb unknown = rgb_of(find_frame(fs, "0x7f00dead", 2).fill);
  CHECK((kernel.b > kernel.r && kernel.b > kernel.g));
  CHECK((inlined.g > inlined.r && inlined.g >= inlined.b));
  CHECK((user.r > user.g && user.r > user.b));
  CHECK(unknown.r == unknown.g);
}

TEST_CASE("a differential flamegraph: widths from this trace, red for a larger share, blue for a smaller") {
  ModelBuilder base;
  base.samples(base.stack({"hash", "main"}), 5);
  base.samples(base.stack({"parse", "main"}), 5);
  base.samples(base.stack({"gone", "main"}), 10);
  ModelBuilder now;  // separate string tables: names are matched as text
  now.samples(now.stack({"parse", "main"}), 2);
  now.samples(now.stack({"hash", "main"}), 16);
  now.samples(now.stack({"fresh", "main"}), 2);
  FlamegraphOptions o;
  o.diff_base = &base.m;
  std::string svg = flamegraph_svg(now.m, o);
  auto fs = frames_of(parse_ok(svg));
  // hash: 25% -> 80%; parse: 25% -> 10%; fresh: absent -> 10%; main and all: 100% -> 100%.
  const auto& hash = find_frame(fs, "hash", 2);
  const auto& parse = find_frame(fs, "parse", 2);
  const auto& fresh = find_frame(fs, "fresh", 2);
  CHECK(hash.width == Approx(1180 * 0.8));
  Rgb h = rgb_of(hash.fill), p = rgb_of(parse.fill), f = rgb_of(fresh.fill);
  CHECK((h.r == 255 && h.g == h.b && h.g < 255));  // red
  CHECK((p.b == 255 && p.r == p.g && p.r < 255));  // blue
  CHECK((f.r == 255 && f.g == f.b));
  CHECK(h.g < f.g);  // the largest change is the deepest red
  for (const char* same : {"all", "main"}) {
    Rgb c = rgb_of(find_frame(fs, same, same == std::string("all") ? 0 : 1).fill);
    CHECK((c.r == c.g && c.g == c.b));
  }
  CHECK(hash.tip == "hash\n16 samples, 80.00%\nbase: 5 samples, 25.00% (+55.00 points)");
  CHECK(fresh.tip.find("base: absent") != std::string::npos);
  CHECK(svg.find("gone") == std::string::npos);  // only in the base: not drawn

  // Against itself: every frame grey.
  FlamegraphOptions self;
  self.diff_base = &now.m;
  for (const auto& fr : frames_of(parse_ok(flamegraph_svg(now.m, self)))) {
    Rgb c = rgb_of(fr.fill);
    INFO(fr.name);
    CHECK((c.r == c.g && c.g == c.b));
  }
}

TEST_CASE("frames under 0.1% are left out but counted, and their samples still count in their callers") {
  ModelBuilder b;
  b.samples(b.stack({"hot", "main"}), 10000);
  for (int i = 0; i < 5; ++i) b.samples(b.stack({"cold" + std::to_string(i), "main"}), 1);
  std::string svg = flamegraph_svg(b.m);
  auto fs = frames_of(parse_ok(svg));
  CHECK(fs.size() == 3);
  CHECK(find_frame(fs, "main", 1).samples == 10005);
  CHECK(svg.find("cold") == std::string::npos);
  CHECK(svg.find("5 frames under 0.1% not drawn") != std::string::npos);
}

TEST_CASE("an empty selection is still a valid document") {
  ModelBuilder b;
  std::string svg = flamegraph_svg(b.m);
  CHECK(frames_of(parse_ok(svg)).empty());
  CHECK(svg.find("No samples") != std::string::npos);
}

TEST_CASE("hostile frame names and titles stay text: escaped, never markup or script") {
  const std::string script_breaker = "</script><img src=x onerror=alert(1)>";
  const std::string attr_breaker = "\"'><svg onload=alert(1)>";
  const std::string line_sep = "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c";
  const std::string invalid = std::string("bad\xff\xfe\xc0\x80\xed\xa0\x80\x01\x1b") + "end";
  const std::string cdata = "]]><script>alert(1)</script><![CDATA[";
  const std::string comment = "--><!--";
  const std::string huge(1 << 20, 'x');
  ModelBuilder b;
  b.samples(b.raw_stack({script_breaker, attr_breaker, line_sep, invalid, cdata, comment, huge, "main"}), 3);
  b.samples(b.raw_stack({"&amp;&lt;", "main"}), 1);
  FlamegraphOptions o;
  o.title = "</text></svg><script>alert(1)</script>";
  std::string svg = flamegraph_svg(b.m, o);
  Element root = parse_ok(svg);

  // Markup appears only as the exporter's own.
  CHECK(svg.find("<img") == std::string::npos);
  CHECK(svg.find("<svg", svg.find("<svg") + 1) == std::string::npos);
  size_t scripts = 0;
  for (size_t at = svg.find("<script"); at != std::string::npos; at = svg.find("<script", at + 1)) ++scripts;
  CHECK(scripts == 1);
  CHECK(svg.find("</script>") == svg.rfind("</script>"));
  CHECK(svg.find("<![CDATA[") == svg.rfind("<![CDATA["));
  CHECK(svg.find("]]>") == svg.rfind("]]>"));
  // The script holds none of the names.
  std::vector<const Element*> script_elements;
  collect(root, "script", script_elements);
  REQUIRE(script_elements.size() == 1);
  CHECK(script_elements[0]->text.find("alert") == std::string::npos);
  CHECK(script_elements[0]->text.find("onerror") == std::string::npos);
  // The document stays small: the 1 MiB name is cut.
  CHECK(svg.size() < 100000);

  // Each name comes back from the DOM as the text it was (sanitized).
  auto fs = frames_of(root);
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(find_frame(fs, script_breaker, 8).samples == 3);
  CHECK(find_frame(fs, attr_breaker, 7).samples == 3);
  CHECK(find_frame(fs, line_sep, 6).samples == 3);
  CHECK(find_frame(fs, "bad" + fffd + fffd + fffd + fffd + fffd + fffd + fffd + fffd + fffd + "end", 5).samples == 3);
  CHECK(find_frame(fs, cdata, 4).samples == 3);
  CHECK(find_frame(fs, comment, 3).samples == 3);
  CHECK(find_frame(fs, std::string(1998, 'x') + "..", 2).samples == 3);
  CHECK(find_frame(fs, "&amp;&lt;", 2).samples == 1);  // entity-like text is text
  std::vector<const Element*> texts;
  collect(root, "text", texts);
  REQUIRE(!texts.empty());
  CHECK(texts[0]->attrs.at("id") == "title");
  CHECK(texts[0]->text == o.title);
}

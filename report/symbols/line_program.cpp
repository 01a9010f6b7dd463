#include "report/symbols/line_program.h"

#include <algorithm>
#include <optional>

namespace dial9::report {
namespace {

// DWARF 5, 6.2.5: standard and extended opcodes.
enum : uint8_t {
  kCopy = 1,
  kAdvancePc = 2,
  kAdvanceLine = 3,
  kSetFile = 4,
  kSetColumn = 5,
  kNegateStmt = 6,
  kSetBasicBlock = 7,
  kConstAddPc = 8,
  kFixedAdvancePc = 9,
};
enum : uint8_t { kEndSequence = 1, kSetAddress = 2 };

// A bounds-checked little-endian reader: once a read runs past the end it
// stays failed, so callers check ok() at the points that matter.
class Reader {
 public:
  Reader(std::span<const uint8_t> data, size_t pos) : data_(data), pos_(pos) {
    if (pos_ > data_.size()) fail();
  }
  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }
  bool at(size_t end) const { return pos_ >= end; }

  uint64_t fixed(size_t n) {
    if (!ok_ || n > 8 || data_.size() - pos_ < n) return fail();
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{data_[pos_ + i]} << (8 * i);
    pos_ += n;
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(fixed(1)); }
  uint64_t uleb() {
    uint64_t v = 0;
    for (unsigned shift = 0; ok_; shift += 7) {
      if (pos_ >= data_.size()) return fail();
      uint8_t b = data_[pos_++];
      if (shift < 64) v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    return 0;
  }
  int64_t sleb() {
    int64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;
    do {
      if (!ok_ || pos_ >= data_.size()) return static_cast<int64_t>(fail());
      b = data_[pos_++];
      if (shift < 64) v |= static_cast<int64_t>(uint64_t{b & 0x7fu} << shift);
      shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40)) v |= -(int64_t{1} << shift);
    return v;
  }
  void skip(uint64_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      fail();
      return;
    }
    pos_ += n;
  }

 private:
  uint64_t fail() {
    ok_ = false;
    pos_ = data_.size();
    return 0;
  }
  std::span<const uint8_t> data_;
  size_t pos_;
  bool ok_ = true;
};

struct Header {
  size_t program = 0, end = 0;  // the opcodes: [program, end) of the section
  uint8_t min_inst_length = 1;
  uint8_t max_ops = 1;
  bool default_is_stmt = true;
  int8_t line_base = 0;
  uint8_t line_range = 1;
  uint8_t opcode_base = 1;
  std::span<const uint8_t> opcode_lengths;  // of standard opcodes 1..opcode_base-1
};

std::optional<Header> read_header(std::span<const uint8_t> section, uint64_t offset) {
  if (offset >= section.size()) return std::nullopt;
  Reader r(section, static_cast<size_t>(offset));
  uint64_t length = r.fixed(4);
  size_t offset_size = 4;
  if (length == 0xffffffffu) {
    length = r.fixed(8);
    offset_size = 8;
  }
  if (!r.ok() || length > section.size() - r.pos()) return std::nullopt;
  Header h;
  h.end = r.pos() + static_cast<size_t>(length);
  uint16_t version = static_cast<uint16_t>(r.fixed(2));
  if (version < 2 || version > 5) return std::nullopt;
  if (version >= 5) r.skip(2);  // address_size, segment_selector_size
  uint64_t header_length = r.fixed(offset_size);
  if (!r.ok() || header_length > h.end - r.pos()) return std::nullopt;
  h.program = r.pos() + static_cast<size_t>(header_length);
  h.min_inst_length = r.u8();
  if (version >= 4) h.max_ops = r.u8();
  h.default_is_stmt = r.u8() != 0;
  h.line_base = static_cast<int8_t>(r.u8());
  h.line_range = r.u8();
  h.opcode_base = r.u8();
  if (!r.ok() || h.line_range == 0 || h.opcode_base == 0 || r.pos() + h.opcode_base - 1 > h.program) {
    return std::nullopt;
  }
  h.opcode_lengths = section.subspan(r.pos(), h.opcode_base - 1u);
  if (h.max_ops == 0) h.max_ops = 1;
  return h;
}

}  // namespace

bool run_line_program(std::span<const uint8_t> section, uint64_t offset, std::vector<LineRow>& out) {
  auto header = read_header(section, offset);
  if (!header) return false;
  const Header& h = *header;
  Reader r(section.first(h.end), h.program);

  // The state machine's registers that rows keep (column, is_stmt and the
  // flags do not change which function or line an address is in).
  uint64_t address = 0;
  uint64_t op_index = 0;
  uint64_t file = 1;
  int64_t line = 1;
  auto reset = [&] {
    address = 0;
    op_index = 0;
    file = 1;
    line = 1;
  };
  auto emit = [&](bool end) {
    out.push_back({address, static_cast<uint32_t>(std::min<uint64_t>(file, UINT32_MAX)),
                   static_cast<uint32_t>(std::clamp<int64_t>(line, 0, UINT32_MAX)), end});
  };
  auto advance = [&](uint64_t operation_advance) {
    if (h.max_ops == 1) {
      address += h.min_inst_length * operation_advance;
    } else {  // VLIW: op_index counts operations within an instruction
      address += h.min_inst_length * ((op_index + operation_advance) / h.max_ops);
      op_index = (op_index + operation_advance) % h.max_ops;
    }
  };

  while (!r.at(h.end)) {
    uint8_t opcode = r.u8();
    if (opcode >= h.opcode_base) {  // special opcode: advance both, emit a row
      uint8_t adjusted = opcode - h.opcode_base;
      advance(adjusted / h.line_range);
      line += h.line_base + adjusted % h.line_range;
      emit(false);
      continue;
    }
    switch (opcode) {
      case 0: {  // extended
        uint64_t len = r.uleb();
        if (len == 0) break;
        size_t next = r.pos() + static_cast<size_t>(std::min<uint64_t>(len, h.end - r.pos()));
        uint8_t sub = r.u8();
        if (sub == kEndSequence) {
          emit(true);
          reset();
        } else if (sub == kSetAddress && len - 1 <= 8) {
          address = r.fixed(static_cast<size_t>(len - 1));
          op_index = 0;
        }
        // Other extended opcodes (define_file, set_discriminator, vendor
        // ones) are skipped by their length.
        if (r.ok() && r.pos() <= next) r.skip(next - r.pos());
        break;
      }
      case kCopy:
        emit(false);
        break;
      case kAdvancePc:
        advance(r.uleb());
        break;
      case kAdvanceLine:
        line += r.sleb();
        break;
      case kSetFile:
        file = r.uleb();
        break;
      case kConstAddPc:
        advance((255 - h.opcode_base) / h.line_range);
        break;
      case kFixedAdvancePc:
        address += r.fixed(2);
        op_index = 0;
        break;
      case kSetColumn:
      case kNegateStmt:
      case kSetBasicBlock:
      default:
        // These (and opcodes of later versions) take the number of LEB128
        // operands the header gives.
        for (uint8_t i = 0; i < h.opcode_lengths[opcode - 1]; ++i) r.uleb();
        break;
    }
    if (!r.ok()) return false;
  }
  return r.ok();
}

}  // namespace dial9::report

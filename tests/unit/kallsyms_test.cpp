// Parsing /proc/kallsyms snapshots.
#include <catch2/catch.hpp>

#include "report/symbols/kallsyms.h"

using dial9::report::KernelSymbols;

TEST_CASE("kallsyms: code symbols by address, module functions tagged, data ignored") {
  auto k = KernelSymbols::parse(
      "ffffffff81000000 T _stext\n"
      "ffffffff81000000 T _text\n"
      "ffffffff81001000 t do_one_initcall\n"
      "ffffffff81002000 D some_data\n"
      "ffffffff81003000 W weak_fn\n"
      "ffffffffc0201000 t ext4_file_read_iter\t[ext4]\n"
      "ffffffffc0209000 t ext4_end\t[ext4]\n"
      "garbage line\n");
  CHECK(k.size() == 5);
  CHECK(k.find(0xffffffff81000010) == "_stext");  // the first alias names it
  CHECK(k.find(0xffffffff81001fff) == "do_one_initcall");
  CHECK(k.find(0xffffffff81002800) == "do_one_initcall");  // data symbols do not end functions
  CHECK(k.find(0xffffffffc0201234) == "ext4_file_read_iter [ext4]");
  CHECK(k.find(0xffffffff80000000).empty());  // below the first symbol
  CHECK(k.find(0xffffffffc020a000).empty());  // past the last: its end is unknown
}

TEST_CASE("kallsyms: hidden addresses (kptr_restrict) give an empty table") {
  auto k = KernelSymbols::parse(
      "0000000000000000 T _stext\n"
      "0000000000000000 t do_one_initcall\n");
  CHECK(k.empty());
}

TEST_CASE("kallsyms: symbols listed out of address order are found all the same") {
  // The kernel lists its own symbols in address order, which the parse
  // counts on to skip sorting; modules and BPF programs may come unsorted.
  auto k = KernelSymbols::parse(
      "ffffffffc0201000 t ext4_file_read_iter\t[ext4]\n"
      "ffffffffc0209000 t ext4_end\t[ext4]\n"
      "ffffffff81001000 t do_one_initcall\n"
      "ffffffff81000000 T _stext\n"
      "ffffffff81000000 T _text\n");
  CHECK(k.size() == 4);
  CHECK(k.find(0xffffffff81000010) == "_stext");  // the first alias listed still names it
  CHECK(k.find(0xffffffff81001fff) == "do_one_initcall");
  CHECK(k.find(0xffffffffc0201234) == "ext4_file_read_iter [ext4]");
}

#include "cli/stack_unwinding.h"

#include "report/address_space.h"
#include "report/cfi_unwinder.h"
#include "report/module_cache.h"

namespace dial9::cli {
namespace {

class CfiStackUnwinder final : public capture::StackUnwinder {
 public:
  void map(const format::Mapping& m) override { spaces_.map(m); }
  void fork(uint32_t parent_pid, uint32_t child_pid) override { spaces_.fork(parent_pid, child_pid); }
  void exec(uint32_t pid) override { spaces_.exec(pid); }
  void exit(uint32_t pid) override { spaces_.exit(pid); }
  void complete(const capture::UserStackSample& s, std::vector<uint64_t>& user_chain) override {
    report::UnwindInput in;
    in.pid = s.pid;
    in.ip = s.regs.ip;
    in.sp = s.regs.sp;
    in.bp = s.regs.bp;
    in.stack = s.stack;
    unwinder_.complete(in, user_chain);
  }

 private:
  report::AddressSpaces spaces_;
  report::ModuleCache modules_;
  report::CfiUnwinder unwinder_{spaces_, modules_};
};

}  // namespace

std::shared_ptr<capture::StackUnwinder> make_cfi_stack_unwinder() { return std::make_shared<CfiStackUnwinder>(); }

}  // namespace dial9::cli

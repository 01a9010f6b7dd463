#include "cli/stack_unwinding.h"

#include "report/symbols/cfi_unwinder.h"
#include "report/symbols/module_cache.h"

namespace dial9::cli {
namespace {

class CfiStackUnwinder final : public capture::StackUnwinder {
 public:
  void complete(const capture::UserStackSample& s, const format::AddressSpaces& spaces,
                std::vector<uint64_t>& user_chain) override {
    report::UnwindInput in;
    in.pid = s.pid;
    in.ip = s.regs.ip;
    in.sp = s.regs.sp;
    in.bp = s.regs.bp;
    in.stack = s.stack;
    unwinder_.complete(spaces, in, user_chain);
  }

 private:
  report::ModuleCache modules_;
  report::CfiUnwinder unwinder_{modules_};
};

}  // namespace

std::shared_ptr<capture::StackUnwinder> make_cfi_stack_unwinder() { return std::make_shared<CfiStackUnwinder>(); }

}  // namespace dial9::cli

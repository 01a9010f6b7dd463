// The recorder's stack unwinder: report's CFI unwinder (libdw) behind
// capture's StackUnwinder interface. Lives in cli/ because only the
// executable may join capture and report.
#pragma once

#include <memory>

#include "capture/stack_unwinder.h"

namespace dial9::cli {

std::shared_ptr<capture::StackUnwinder> make_cfi_stack_unwinder();

}  // namespace dial9::cli

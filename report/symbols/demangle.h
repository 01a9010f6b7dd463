// Itanium C++ ABI demangling for symbol and DWARF linkage names.
#pragma once

#include <string>

namespace dial9::report {

// The demangled form of an Itanium-mangled name ("_Z..."); any other name,
// or one that does not demangle, unchanged. Plain C names are never touched:
// __cxa_demangle would read "f" as a type and return "float".
std::string demangle(const char* name);

}  // namespace dial9::report

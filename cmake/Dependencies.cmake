# Finds every third-party package of the design card. Each comes from a
# Debian 12 package; when one is missing, configuration stops and names the
# package to install (./dev setup installs them all).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

set(DIAL9_MISSING "")
macro(dial9_missing what debian_package)
  list(APPEND DIAL9_MISSING "${what} (Debian package: ${debian_package})")
endmacro()

# zstd and zlib: trace containers (format/).
pkg_check_modules(ZSTD QUIET IMPORTED_TARGET libzstd)
if(NOT ZSTD_FOUND)
  dial9_missing("zstd" libzstd-dev)
endif()
find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  dial9_missing("zlib" zlib1g-dev)
endif()

# libpfm4: event names to perf_event_attr (capture/). No pkg-config file.
find_path(PFM_INCLUDE_DIR perfmon/pfmlib_perf_event.h)
find_library(PFM_LIBRARY pfm)
if(PFM_INCLUDE_DIR AND PFM_LIBRARY)
  add_library(dial9::pfm UNKNOWN IMPORTED)
  set_target_properties(dial9::pfm PROPERTIES IMPORTED_LOCATION ${PFM_LIBRARY}
                        INTERFACE_INCLUDE_DIRECTORIES ${PFM_INCLUDE_DIR})
else()
  dial9_missing("libpfm4" libpfm4-dev)
endif()

# libdw (elfutils): symbolization (report/).
pkg_check_modules(LIBDW QUIET IMPORTED_TARGET libdw)
if(NOT LIBDW_FOUND)
  dial9_missing("libdw" libdw-dev)
endif()

# Boost.Process (header-only in Boost 1.74, needs Boost.Filesystem): launch (inject/).
find_package(Boost 1.74 QUIET COMPONENTS filesystem)
find_path(BOOST_PROCESS_INCLUDE_DIR boost/process.hpp)
if(NOT Boost_FOUND OR NOT BOOST_PROCESS_INCLUDE_DIR)
  dial9_missing("Boost.Process and Boost.Filesystem" "libboost-dev libboost-filesystem-dev")
endif()

# CLI11 and toml++: the command line and config file (cli/).
find_package(CLI11 QUIET CONFIG)
if(NOT CLI11_FOUND)
  dial9_missing("CLI11" libcli11-dev)
endif()
find_package(tomlplusplus QUIET CONFIG)
if(NOT tomlplusplus_FOUND)
  dial9_missing("toml++" libtomlplusplus-dev)
endif()

# nlohmann-json: JSON reports and exports (report/), JSON checks in tests.
find_package(nlohmann_json 3 QUIET CONFIG)
if(NOT nlohmann_json_FOUND)
  dial9_missing("nlohmann-json" nlohmann-json3-dev)
endif()

# protobuf: the pprof export (report/); protoc compiles report's profile.proto.
find_package(Protobuf QUIET)
if(NOT Protobuf_FOUND OR NOT Protobuf_PROTOC_EXECUTABLE)
  dial9_missing("protobuf and protoc" "libprotobuf-dev protobuf-compiler")
endif()

if(DIAL9_BUILD_TESTS)
  find_package(Catch2 2 QUIET CONFIG)
  if(NOT Catch2_FOUND)
    dial9_missing("Catch2 v2" catch2)
  endif()
endif()

if(DIAL9_MISSING)
  list(JOIN DIAL9_MISSING "\n  " missing_text)
  message(FATAL_ERROR "dial9 cannot be configured; missing:\n  ${missing_text}\n"
          "Install them with: sudo apt-get install <package>..., or run ./dev setup")
endif()

# Warning and sanitizer flags, applied to every dial9 target through
# dial9_module() / dial9_target_flags().
add_library(dial9_flags INTERFACE)
target_compile_options(dial9_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor> -Wcast-align -Wformat=2
  -Wimplicit-fallthrough)
if(DIAL9_WERROR)
  target_compile_options(dial9_flags INTERFACE -Werror)
endif()
if(DIAL9_SANITIZE)
  target_compile_options(dial9_flags INTERFACE -fsanitize=${DIAL9_SANITIZE} -fno-omit-frame-pointer
                         -fno-sanitize-recover=all)
  target_link_options(dial9_flags INTERFACE -fsanitize=${DIAL9_SANITIZE})
  # gcc 12 with -fsanitize=address warns "may be used uninitialized" inside
  # libstdc++'s <regex> and <functional> (false positives of its
  # instrumented code); the unsanitized build keeps the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(dial9_flags INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()

# dial9_module(NAME SOURCES... [LINK deps...])
function(dial9_module name)
  cmake_parse_arguments(M "" "" "SOURCES;LINK" ${ARGN})
  add_library(${name} STATIC ${M_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${M_LINK} PRIVATE dial9_flags)
endfunction()

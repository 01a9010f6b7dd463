# Writes OUT (a header defining DIAL9_REVISION) from `git describe` of
# SOURCE_DIR, run at every build so `dial9 --version` names the commit it was
# built from; the file is rewritten only when the text changes, so an
# unchanged revision rebuilds nothing.
execute_process(COMMAND git -C "${SOURCE_DIR}" describe --always --dirty --abbrev=12
                OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
if(failed OR revision STREQUAL "")
  set(revision "unknown (not built from a git checkout)")
endif()
set(text "#define DIAL9_REVISION \"${revision}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()

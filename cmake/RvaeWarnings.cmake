# Warnings the project is clean at with GCC 12 and clang 14; PRIVATE so consumers are unaffected.
function(rvae_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wshadow)
    if(RVAE_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC 12's flow analysis reports false maybe-uninitialized warnings on std::optional once
      # sanitizer instrumentation is in; the same code is clean in normal builds.
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    endif()
    if(RVAE_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()

# clang for the test entries that need it (the sanitized CPU-only build, the fuzz project), and a
# once-per-build-folder probe of what it links. Why: Debian's clang links ASan, UBSan, OpenMP and
# libFuzzer only with the matching runtime packages, so each entry asks before it relies on them.
find_program(MRNN_CLANGXX NAMES clang++ clang++-16 clang++-15 clang++-14)
find_program(MRNN_CLANG NAMES clang clang-16 clang-15 clang-14)

# mrnn_probe_clang(<var> <name> <source text> <flag>...): sets the cache variable <var> to ON when
# MRNN_CLANGXX compiles and links <source text> with the flags, OFF otherwise (or without clang).
# A variable already in the cache is kept, so the probe runs once per build folder.
function(mrnn_probe_clang var name source)
  if(DEFINED ${var})
    return()
  endif()
  set(ok OFF)
  if(MRNN_CLANGXX)
    set(dir ${PROJECT_BINARY_DIR}/${name}-probe)
    file(WRITE ${dir}/probe.cpp "${source}")
    execute_process(COMMAND ${MRNN_CLANGXX} ${ARGN} ${dir}/probe.cpp -o ${dir}/probe
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      set(ok ON)
    endif()
  endif()
  set(${var} ${ok} CACHE INTERNAL "clang++ links the ${name} probe")
endfunction()
